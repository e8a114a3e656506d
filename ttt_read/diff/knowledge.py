"""Layer 3 of `ttt-read diff`, knowledge: each snapshot's per-token loss, with its fast weights and
no learning, on the text of the files that differ, summed per line and per file, and how
much better each memory knows the text only it read (see `compare` for the measures).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from ttt_read.text import tokenizer as tok

SNIPPET_CHARS = 80


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
