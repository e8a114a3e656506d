"""`ttt-read diff`: what changed between two snapshots of one base checkpoint, in three layers.

1. Sources: the manifests compared by path and sha256: files added, removed, changed.
2. Weights: for each fast-weight matrix of each suffix block (the prime MLP's w1, w3, w2),
   the relative change ||new - old|| / ||old||, and how alike the two memories are as
   updates: the cosine between (old - W0) and (new - W0), W0 being the checkpoint's
   initial fast weights.
3. Knowledge: each snapshot's per-token loss, with its fast weights and no learning, on the
   text of the files that differ (both versions, from the notepads or from directories on
   disk), summed per line and per file. On a file's new text, `new_gain` is how many
   nats/token NEW predicts it better than OLD; on its old text, `old_gain` is how much OLD
   predicts that better than NEW. The same gains are also given over just the lines that
   differ (`changed_lines`, by difflib). A file's `score` is how much better each memory
   knows the text only it read, per token: the lines that differ (NEW's gain on the added
   ones, OLD's on the removed ones), where an edit's knowledge shows undiluted by the lines
   both memories read alike; the whole text for added and removed files; 0 for unchanged
   ones. Files and lines are listed most changed first.

Everything here reads snapshots and never writes; bad input raises `TTTReadError`. The exit
status (errors.ExitCode) follows diff(1): 1 when the sources or the memories differ.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import snapshot
from ttt_read.text import tokenizer as tok

MATRICES = ("w1", "w3", "w2")  # the order of fast.i within each suffix block
SNIPPET_CHARS = 80


# --- checking the pair ---------------------------------------------------------------------


def check_pair(old: Path, new: Path) -> tuple[dict, dict]:
    """Both snapshots' metadata (checksums verified); refuse the same file twice and
    snapshots of different base checkpoints."""
    for path in (old, new):
        if not os.path.lexists(path):
            raise TTTReadError(f"{path}: no such snapshot", ExitCode.SNAPSHOT)
    try:
        same = os.path.samefile(old, new)
    except OSError:
        same = False
    if same:
        raise TTTReadError(
            f"{old} and {new} are the same file: give two different snapshots to compare", ExitCode.USAGE
        )
    meta_old, meta_new = snapshot.read_metadata(old), snapshot.read_metadata(new)
    snapshot.require_fields(meta_old, old)
    snapshot.require_fields(meta_new, new)
    base_old, base_new = meta_old.get("base", {}), meta_new.get("base", {})
    if base_old.get("sha256") != base_new.get("sha256"):
        raise TTTReadError(
            f"{old} and {new} were made with different base checkpoints "
            f"({base_old.get('name')} {str(base_old.get('sha256'))[:12]} vs {base_new.get('name')} "
            f"{str(base_new.get('sha256'))[:12]}): "
            "only snapshots of one base can be compared",
            ExitCode.SNAPSHOT,
        )
    return meta_old, meta_new


def describe(path: Path, metadata: dict) -> dict:
    files = [e for e in metadata["manifest"] if "skipped" not in e]
    out = {
        "path": str(path),
        "checksum": metadata["checksum"],
        "created": metadata.get("created"),
        "base": metadata.get("base"),
        "files": len(files),
        "tokens": metadata.get("tokens"),
        "reading": metadata.get("reading"),
    }
    if metadata.get("parent"):
        out["parent"] = metadata["parent"]
    return out


# --- layer 1: sources ----------------------------------------------------------------------


def compare_sources(meta_old: dict, meta_new: dict) -> dict:
    """Files added, removed and changed between the two manifests (read files only)."""
    old = {e["path"]: e for e in meta_old["manifest"] if "skipped" not in e}
    new = {e["path"]: e for e in meta_new["manifest"] if "skipped" not in e}
    added = [
        {"path": p, "sha256": new[p]["sha256"], "tokens": new[p].get("tokens")} for p in sorted(new.keys() - old.keys())
    ]
    removed = [
        {"path": p, "sha256": old[p]["sha256"], "tokens": old[p].get("tokens")} for p in sorted(old.keys() - new.keys())
    ]
    changed = [
        {
            "path": p,
            "old_sha256": old[p]["sha256"],
            "new_sha256": new[p]["sha256"],
            "old_tokens": old[p].get("tokens"),
            "new_tokens": new[p].get("tokens"),
        }
        for p in sorted(old.keys() & new.keys())
        if old[p]["sha256"] != new[p]["sha256"]
    ]
    unchanged = sorted(p for p in old.keys() & new.keys() if old[p]["sha256"] == new[p]["sha256"])
    return {
        "identical": not (added or removed or changed),
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged": len(unchanged),
        "unchanged_paths": unchanged,
    }


# --- layer 2: weights ----------------------------------------------------------------------


def compare_weights(fast_old: list, fast_new: list, initial: list, n_prefix: int) -> dict:
    """Per matrix: ||new - old|| / ||old||, the norms of both updates (snapshot - W0) and
    their cosine; plus the same over all fast weights together. float64 throughout."""
    import torch

    def stats(o, n, w0) -> dict:
        o, n, w0 = o.double(), n.double(), w0.double()
        du, dv = o - w0, n - w0
        nu, nv = float(du.norm()), float(dv.norm())
        return {
            "relative_change": float((n - o).norm()) / max(float(o.norm()), 1e-30),
            "old_update_norm": nu,
            "new_update_norm": nv,
            "update_cosine": float((du * dv).sum()) / (nu * nv) if nu > 0 and nv > 0 else None,
        }

    rows = []
    for i, (o, n, w0) in enumerate(zip(fast_old, fast_new, initial)):
        block = i // len(MATRICES)
        rows.append(
            {"block": n_prefix + block, "suffix_block": block, "matrix": MATRICES[i % len(MATRICES)], **stats(o, n, w0)}
        )
    flat = lambda ws: torch.cat([w.reshape(-1).double() for w in ws])  # noqa: E731
    return {
        "identical": all(torch.equal(o, n) for o, n in zip(fast_old, fast_new)),
        "matrices": rows,
        "total": stats(flat(fast_old), flat(fast_new), flat(initial)),
    }


# --- layer 3: knowledge --------------------------------------------------------------------


@dataclass
class Scored:
    """One text scored by both snapshots: losses summed per line (1-based index 0 unused)."""

    text: str
    old_sum: list[float]
    new_sum: list[float]
    count: list[int]

    @property
    def tokens(self) -> int:
        return sum(self.count)

    def mean(self, which: str) -> float | None:
        total = sum(self.old_sum if which == "old" else self.new_sum)
        return total / self.tokens if self.tokens else None


def encode_with_offsets(tokenizer, path: str, text: str):
    """`tokenizer.encode_file`'s ids (FILE marker, path line, text) without the marker, with
    the character offsets of each token in `path + "\n" + text`."""
    return tok.plain_encoding(tokenizer, tok.file_body(path, text))


def score_text(model, tokenizer, fast_pair: list, path: str, text: str, *, device: str) -> Scored:
    """Per-line loss sums of `text` under both snapshots' fast weights (batch row 0: OLD,
    row 1: NEW), read as `ingest` reads a file (end-of-text, then `tokenizer.encode_file`)
    with learning off. A token counts towards the line holding its last character; the
    file header's tokens count towards no line."""
    import torch

    from ttt_read.read.reading import ReaderState, read

    encoding = encode_with_offsets(tokenizer, path, text)
    ids = [tokenizer.token_to_id(tok.END_OF_TEXT), tokenizer.token_to_id(tok.FILE)] + encoding.ids
    cfg = model.cfg
    tokens = torch.tensor(ids, device=device).view(1, -1).repeat(2, 1)
    state = ReaderState(
        fast_pair, model.empty_caches(2, cfg.n_layers - cfg.n_suffix), model.empty_caches(2, cfg.n_suffix)
    )
    with torch.no_grad(), torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        losses = read(model, tokens, lr=0.0, state=state).token_losses.double().cpu().tolist()
    header = len(path) + 1
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    n_lines = len(starts) - (1 if text.endswith("\n") else 0)
    old_sum, new_sum, count = [0.0] * (n_lines + 1), [0.0] * (n_lines + 1), [0] * (n_lines + 1)
    for t, (_, end) in enumerate(encoding.offsets):
        at = min(end - 1 - header, len(text) - 1)  # the newline `ingest` appends counts to the last line
        if at < 0:
            continue
        line = bisect.bisect_right(starts, at)
        old_sum[line] += losses[0][t + 1]  # loss t predicts ids[t + 1]; encoding token t is ids[t + 2]
        new_sum[line] += losses[1][t + 1]
        count[line] += 1
    return Scored(text, old_sum, new_sum, count)


def changed_lines(old_text: str, new_text: str) -> tuple[set[int], set[int]]:
    """1-based lines of the new text that are not in the old one (added or rewritten), and
    of the old text that are not in the new one (removed or rewritten), as `diff` sees them."""
    import difflib

    opcodes = difflib.SequenceMatcher(None, old_text.split("\n"), new_text.split("\n"), autojunk=False).get_opcodes()
    added = {j + 1 for tag, _, _, b1, b2 in opcodes if tag in ("replace", "insert") for j in range(b1, b2)}
    removed = {i + 1 for tag, a1, a2, _, _ in opcodes if tag in ("replace", "delete") for i in range(a1, a2)}
    return added, removed


def _lines_gain(scored: Scored, lines: set[int], sign: float) -> dict:
    """Tokens and gain per token over some lines (sign +1: NEW better)."""
    lines = [i for i in lines if i < len(scored.count)]
    tokens = sum(scored.count[i] for i in lines)
    gain = sign * sum(scored.old_sum[i] - scored.new_sum[i] for i in lines)
    return {"lines": len(lines), "tokens": tokens, "gain": round(gain / tokens, 6) if tokens else None}


def _line_report(scored: Scored, sign: float, limit: int, changed: set[int] = frozenset()) -> list[dict]:
    """Lines where one snapshot beats the other most, by summed nats (sign +1: NEW better);
    `changed` marks the lines that differ between the two versions."""
    lines = scored.text.split("\n")
    rows = []
    for i in range(1, len(scored.count)):
        if not scored.count[i]:
            continue
        gain = sign * (scored.old_sum[i] - scored.new_sum[i])
        if gain > 0:
            rows.append((gain, i))
    rows.sort(key=lambda r: (-r[0], r[1]))
    out = []
    for gain, i in rows[:limit]:
        snippet = lines[i - 1].strip()
        out.append(
            {
                "line": i,
                "gain_nats": round(gain, 6),
                "gain_per_token": round(gain / scored.count[i], 6),
                "tokens": scored.count[i],
                "changed": i in changed,
                "text": snippet[:SNIPPET_CHARS] + ("…" if len(snippet) > SNIPPET_CHARS else ""),
            }
        )
    return out


def _side(scored: Scored | None, sign: float) -> dict | None:
    if scored is None or not scored.tokens:
        return None
    old, new = scored.mean("old"), scored.mean("new")
    return {
        "tokens": scored.tokens,
        "loss_old": round(old, 6),
        "loss_new": round(new, 6),
        "gain": round(sign * (old - new), 6),
    }


class TextSource:
    """A version's file texts: the snapshot's notepad first, then a directory on disk whose
    files must hash as the manifest says (the text that was actually read)."""

    def __init__(self, notepad_bytes: bytes | None, root: Path | None, manifest: list[dict]):
        self.root = root
        self.sha = {e["path"]: e["sha256"] for e in manifest if "skipped" not in e}
        self.notepad = None
        if notepad_bytes:
            from ttt_read.notepad.store import Notepad

            self.notepad = Notepad.from_bytes(notepad_bytes)

    def text(self, path: str) -> tuple[str | None, str | None]:
        """(text, None) or (None, why not)."""
        if self.notepad is not None:
            found = self.notepad.file_text(path)
            if found is not None:
                return found, None
        if self.root is None:
            where = "the snapshot has no notepad" if self.notepad is None else "not in the snapshot's notepad"
            return None, f"{where}; pass --old-path/--new-path"
        from ttt_read.text.sources import SourceFile, read_file

        parts = Path(path).parts
        candidates = [self.root / path] + ([self.root / Path(*parts[1:])] if len(parts) > 1 else [])
        if self.root.is_file():
            candidates = [self.root]
        for candidate in candidates:
            if candidate.is_file():
                found = read_file(candidate, path, max(candidate.stat().st_size, 1))
                if not isinstance(found, SourceFile):
                    return None, f"{candidate}: {found.reason}"
                if found.sha256 != self.sha.get(path):
                    return None, f"{candidate} is not the version that was read (sha256 differs)"
                return found.text, None
        return None, f"not found under {self.root}"


def compare_knowledge(
    model,
    tokenizer,
    fast_old,
    fast_new,
    sources: dict,
    *,
    old_texts: TextSource,
    new_texts: TextSource,
    device: str,
    all_files: bool = False,
    lines: int = 5,
    on_file=None,
) -> dict:
    """Score the files that differ (and with `all_files` the unchanged ones too) under both
    memories; files sorted by score, most changed first."""
    import torch

    fast_pair = [torch.stack([o, n]).float().to(device) for o, n in zip(fast_old, fast_new)]
    jobs = [(e["path"], "changed") for e in sources["changed"]] + [(e["path"], "added") for e in sources["added"]]
    jobs += [(e["path"], "removed") for e in sources["removed"]]
    if all_files:
        jobs += [(p, "unchanged") for p in sources["unchanged_paths"]]
    files, notes = [], []
    for index, (path, status) in enumerate(jobs):
        if on_file is not None:
            on_file(index, len(jobs), path)
        old_text = new_text = None
        if status != "added":
            old_text, why = old_texts.text(path)
            if old_text is None:
                notes.append(f"{path}: old version not scored: {why}")
        if status != "removed":
            new_text, why = (old_text, None) if status == "unchanged" and old_text is not None else new_texts.text(path)
            if new_text is None:
                notes.append(f"{path}: new version not scored: {why}")
        if old_text is None and new_text is None:
            continue
        scored_new = (
            score_text(model, tokenizer, fast_pair, path, new_text, device=device) if new_text is not None else None
        )
        scored_old = (
            scored_new
            if old_text is not None and old_text == new_text
            else (
                score_text(model, tokenizer, fast_pair, path, old_text, device=device) if old_text is not None else None
            )
        )
        new_side, old_side = _side(scored_new, +1.0), _side(scored_old, -1.0)
        added, removed = (set(), set())
        if scored_new is not None and scored_old is not None and scored_new is not scored_old:
            added, removed = changed_lines(old_text, new_text)
        # The lines that differ: how much better NEW knows its added lines, OLD its removed ones.
        edit = (
            {"added": _lines_gain(scored_new, added, +1.0), "removed": _lines_gain(scored_old, removed, -1.0)}
            if added or removed
            else None
        )
        files.append(
            {
                "path": path,
                "status": status,
                "score": round(_score(new_side, old_side, edit), 6),
                "new_text": new_side,
                "old_text": old_side,
                "changed_lines": edit,
                "new_knows_better": _line_report(scored_new, +1.0, lines, added) if scored_new else [],
                "old_knows_better": _line_report(scored_old, -1.0, lines, removed) if scored_old else [],
            }
        )
    files.sort(key=lambda f: (-f["score"], f["path"]))
    result = {"files": files, "notes": notes}
    if all_files:
        result["separation_auc"] = separation(files)
        result["new_version"] = overall(files)
    return result


def _score(new_side: dict | None, old_side: dict | None, edit: dict | None) -> float:
    """How much better, per token, each memory knows the text only it read: the lines that
    differ when there are any (the rest of the file both memories read alike, so it only
    adds noise), else the whole file; 0 for a file both versions share."""
    parts = [part for part in (edit or {}).values() if part["tokens"]]
    if parts:
        return sum(p["gain"] * p["tokens"] for p in parts) / sum(p["tokens"] for p in parts)
    return (new_side["gain"] if new_side else 0.0) + (old_side["gain"] if old_side else 0.0)


def overall(files: list[dict]) -> dict | None:
    """Both memories' mean loss per token over the whole new version (every file's new
    text, weighted by its tokens): which one knows the current sources better."""
    sides = [f["new_text"] for f in files if f["new_text"]]
    tokens = sum(s["tokens"] for s in sides)
    if not tokens:
        return None
    mean = lambda key: round(sum(s[key] * s["tokens"] for s in sides) / tokens, 6)  # noqa: E731
    return {"files": len(sides), "tokens": tokens, "loss_old": mean("loss_old"), "loss_new": mean("loss_new")}


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a positive scores above a negative), ties counting half; None without both."""
    if not positives or not negatives:
        return None
    ordered = sorted(negatives)
    wins = 0.0
    for p in positives:
        below = bisect.bisect_left(ordered, p)
        ties = bisect.bisect_right(ordered, p) - below
        wins += below + 0.5 * ties
    return wins / (len(positives) * len(negatives))


def separation(files: list[dict]) -> dict:
    """How well the knowledge layer ranks changed files above unchanged ones (AUC), by the
    file score and by `new_gain` alone (how much better NEW knows the current text: the
    measure that does not use the old text at all)."""
    changed = [f for f in files if f["status"] == "changed"]
    unchanged = [f for f in files if f["status"] == "unchanged"]
    gain = lambda f: f["new_text"]["gain"] if f["new_text"] else 0.0  # noqa: E731
    return {
        "changed": len(changed),
        "unchanged": len(unchanged),
        "score": auc([f["score"] for f in changed], [f["score"] for f in unchanged]),
        "new_gain": auc([gain(f) for f in changed], [gain(f) for f in unchanged]),
    }


# --- the whole diff ------------------------------------------------------------------------


def compare(
    old: Path,
    new: Path,
    model_name: str | None = None,
    device: str = "auto",
    *,
    old_path: Path | None = None,
    new_path: Path | None = None,
    knowledge: bool = True,
    all_files: bool = False,
    lines: int = 5,
    question: str | None = None,
    max_tokens: int = 64,
    on_file=None,
) -> dict:
    """The three layers (and optionally both answers to `question`) as one JSON-able dict."""
    from ttt_read.memory.opened import Memory
    from ttt_read.read import checkpoint
    from ttt_read.read.loaded import load_with_model

    meta_old, meta_new = check_pair(old, new)
    for option, path in (("--old-path", old_path), ("--new-path", new_path)):
        if path is not None and not path.exists():
            raise TTTReadError(f"{option} {path}: no such file or directory", ExitCode.INPUT)
    result = {"old": describe(old, meta_old), "new": describe(new, meta_new)}
    sources = compare_sources(meta_old, meta_new)
    result["identical_sources"] = sources["identical"]
    result["sources"] = {k: v for k, v in sources.items() if k != "unchanged_paths"}
    keys = ("lr", "chunk", "window")
    result["reading_settings_differ"] = [
        k for k in keys if meta_old.get("reading", {}).get(k) != meta_new.get("reading", {}).get(k)
    ]

    info = checkpoint.of_snapshot(meta_old, model_name)
    (snap_old, snap_new), model, tokenizer, device = load_with_model([old, new], info, device)
    initial = [w[0].detach().cpu() for w in model.initial_fast_weights(1)]
    result["weights"] = compare_weights(snap_old.fast, snap_new.fast, initial, model.cfg.n_layers - model.cfg.n_suffix)
    if knowledge:
        old_texts = TextSource(snap_old.notepad, old_path, meta_old["manifest"])
        new_texts = TextSource(snap_new.notepad, new_path, meta_new["manifest"])
        result["knowledge"] = compare_knowledge(
            model,
            tokenizer,
            snap_old.fast,
            snap_new.fast,
            sources,
            old_texts=old_texts,
            new_texts=new_texts,
            device=device,
            all_files=all_files,
            lines=lines,
            on_file=on_file,
        )
    else:
        result["knowledge"] = None
    if question is not None:
        from ttt_read.ask.answer import answer

        result["ask"] = {"question": question}
        for side, snap in (("old", snap_old), ("new", snap_new)):
            answered = answer(Memory(model, tokenizer, snap, info), question, free=True, max_tokens=max_tokens)
            result["ask"][side] = {**answered.to_dict(), "notice": answered.notice}
    return result


# --- rendering -----------------------------------------------------------------------------


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def render(result: dict, console=None) -> None:
    """The three layers as Rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    old, new = result["old"], result["new"]
    console.print(f"OLD {old['path']} ({old['files']} files, {old['created']})")
    console.print(f"NEW {new['path']} ({new['files']} files, {new['created']})")
    if result["reading_settings_differ"]:
        console.print(f"note: reading settings differ: {', '.join(result['reading_settings_differ'])}")

    sources = result["sources"]
    if sources["identical"]:
        console.print(f"sources: identical ({sources['unchanged']} files)")
    else:
        table = Table(
            title=f"sources: {len(sources['added'])} added, {len(sources['removed'])} removed, "
            f"{len(sources['changed'])} changed, {sources['unchanged']} unchanged"
        )
        for name, justify in (
            ("", "left"),
            ("file", "left"),
            ("tokens OLD", "right"),
            ("tokens NEW", "right"),
            ("sha256", "left"),
        ):
            table.add_column(name, justify=justify)
        for e in sources["changed"]:
            table.add_row(
                "~",
                e["path"],
                _fmt(e["old_tokens"], ","),
                _fmt(e["new_tokens"], ","),
                f"{e['old_sha256'][:8]} -> {e['new_sha256'][:8]}",
            )
        for e in sources["added"]:
            table.add_row("+", e["path"], "-", _fmt(e["tokens"], ","), e["sha256"][:8])
        for e in sources["removed"]:
            table.add_row("-", e["path"], _fmt(e["tokens"], ","), "-", e["sha256"][:8])
        console.print(table)

    weights = result["weights"]
    title = "identical" if weights["identical"] else "change = |NEW-OLD|/|OLD|; cosine of the updates OLD-W0 and NEW-W0"
    table = Table(title=f"fast weights: {title}")
    for name in ("block", "matrix", "change", "|OLD-W0|", "|NEW-W0|", "cosine"):
        table.add_column(name, justify="right")
    for row in weights["matrices"] + [{"block": "all", "matrix": "", **weights["total"]}]:
        table.add_row(
            str(row["block"]),
            row["matrix"],
            _fmt(row["relative_change"], ".4f"),
            _fmt(row["old_update_norm"], ".3f"),
            _fmt(row["new_update_norm"], ".3f"),
            _fmt(row["update_cosine"], ".4f"),
        )
    console.print(table)

    knowledge = result.get("knowledge")
    if knowledge is not None:
        if knowledge["files"]:
            table = Table(title="knowledge: loss (nats/token) of each memory on each version, most changed first")
            table.add_column(
                "file", overflow="fold", min_width=min(24, max(len(f["path"]) for f in knowledge["files"]))
            )
            table.add_column("")
            for name in ("new: OLD", "NEW", "NEW +", "old: OLD", "NEW", "OLD +", "score"):
                table.add_column(name, justify="right", no_wrap=True)
            marks = {"changed": "~", "added": "+", "removed": "-", "unchanged": "="}
            for f in knowledge["files"]:
                n, o = f["new_text"] or {}, f["old_text"] or {}
                table.add_row(
                    f["path"],
                    marks[f["status"]],
                    _fmt(n.get("loss_old")),
                    _fmt(n.get("loss_new")),
                    _fmt(n.get("gain"), "+.3f"),
                    _fmt(o.get("loss_old")),
                    _fmt(o.get("loss_new")),
                    _fmt(o.get("gain"), "+.3f"),
                    _fmt(f["score"], "+.3f"),
                )
            console.print(table)
            for f in knowledge["files"]:
                if f["status"] == "unchanged":
                    continue
                edit = f.get("changed_lines")
                if edit:
                    a, r = edit["added"], edit["removed"]
                    console.print(
                        f"{f['path']}: on its {a['lines']} new lines NEW knows better by "
                        f"{_fmt(a['gain'], '+.3f')}/tok, "
                        f"on its {r['lines']} old lines OLD by {_fmt(r['gain'], '+.3f')}/tok",
                        markup=False,
                        highlight=False,
                    )
                for key, label in (
                    ("new_knows_better", "NEW knows better (new text)"),
                    ("old_knows_better", "OLD knows better (old text)"),
                ):
                    if f[key]:
                        console.print(f"{label}, * = a line that changed:")
                        for line in f[key]:
                            mark = "*" if line.get("changed") else " "
                            console.print(
                                f" {mark}{f['path']}:{line['line']}  {line['gain_per_token']:+.3f}/tok "
                                f"x{line['tokens']}  {line['text']}",
                                markup=False,
                                highlight=False,
                                soft_wrap=True,
                            )
        elif sources["identical"]:
            console.print("knowledge: no file differs (pass --all to score every file)")
        for note in knowledge["notes"]:
            console.print(f"note: {note}", markup=False, highlight=False)
        if knowledge.get("separation_auc"):
            s = knowledge["separation_auc"]
            console.print(
                f"changed vs unchanged files: AUC {_fmt(s['score'])} by score, {_fmt(s['new_gain'])} by NEW's "
                "gain alone"
            )
        if knowledge.get("new_version"):
            v = knowledge["new_version"]
            console.print(
                f"whole new version ({v['files']} files, {v['tokens']:,} tokens): OLD {v['loss_old']:.4f}, NEW "
                f"{v['loss_new']:.4f} nats/token"
            )

    if "ask" in result:
        ask = result["ask"]
        table = Table(title=f"ask: {ask['question']}")
        table.add_column("OLD")
        table.add_column("NEW")
        table.add_row(ask["old"]["answer"], ask["new"]["answer"])
        cite = lambda a: ", ".join(s["cite"] for s in a["sources"]) or "-"  # noqa: E731
        table.add_row(cite(ask["old"]), cite(ask["new"]))
        console.print(table)
        for side in ("old", "new"):
            if ask[side].get("notice"):
                console.print(f"note: {side.upper()}: {ask[side]['notice']}", markup=False, highlight=False)
