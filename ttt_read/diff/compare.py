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

import os
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.diff.knowledge import TextSource, compare_knowledge
from ttt_read.read import snapshot

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
