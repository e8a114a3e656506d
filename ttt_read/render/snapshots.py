"""How `ingest`, `info` and `ls` report snapshots: aligned plain text, a line per fact.

The report goes to stdout; what `ingest` says about skipped files and its result is talk,
on stderr, so a pipe gets nothing but data."""

from __future__ import annotations

from pathlib import Path

from ttt_read.console.output import say
from ttt_read.memory.summary import Summary

KIB, MIB = 2**10, 2**20


def print_ingested(metadata: dict, output: Path, parent: Path | None) -> None:
    """The files skipped, skipped updates, and one line on what was read into `output`."""
    for entry in metadata["manifest"]:
        if "skipped" in entry:
            say(f"skipped {entry['path']}: {entry['skipped']}")
    if metadata.get("skipped_updates"):
        say(
            f"ttt-read: warning: {metadata['skipped_updates']} of {len(metadata['chunk_losses'])} reading "
            "updates skipped: the loss or gradient was not finite (NaN/inf), so the memory kept its weights "
            "from before each"
        )
    if parent is not None:
        done = metadata["update"]
        say(
            f"updated {parent}: read {len(done['read'])} new or changed files, {metadata['tokens']:,} tokens in "
            f"{metadata['read_seconds']:.1f}s; carried {done['carried']} unchanged"
            + (f"; {len(done['removed'])} removed (not unlearned)" if done["removed"] else "")
            + f" -> {output}"
        )
        return
    files = sum(1 for e in metadata["manifest"] if "skipped" not in e)
    say(
        f"read {files} files, {metadata['tokens']:,} tokens in {metadata['read_seconds']:.1f}s "
        f"(mean loss {metadata['mean_loss']:.3f}) -> {output}"
    )


def print_info(summary: Summary) -> None:
    rows = info_rows(summary)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def info_rows(summary: Summary) -> list[tuple[str, str]]:
    """(fact, value) rows of `info`, the update rows only for a snapshot made by `ingest --update`."""
    metadata = summary.metadata
    rows = [
        ("snapshot", f"{summary.path} ({summary.size / MIB:.1f} MiB)"),
        ("size", _sizes(summary)),
        ("checksum", "verified" if summary.verified else "not checked (--verify reads the whole file)"),
        ("created", f"{metadata['created']} by ttt-read {metadata['tool_version']}"),
        ("base model", f"{metadata['base']['name']} ({metadata['base']['sha256'][:12]})"),
        ("sources", ", ".join(metadata["sources"])),
        ("files", f"{summary.files_read} read, {summary.files_skipped} skipped"),
        ("tokens", f"{metadata['tokens']:,}"),
        ("reading", ", ".join(f"{k}={v}" for k, v in metadata["reading"].items())),
        ("loss", _losses(metadata)),
    ]
    return rows + _update_rows(metadata)


def _sizes(summary: Summary) -> str:
    parts, pad = summary.parts, summary.notepad_text
    if not parts["notepad"]:
        notepad = "no notepad"
    elif pad is None:
        notepad = f"notepad {parts['notepad'] / KIB:,.1f} KiB"
    else:
        notepad = (
            f"notepad {parts['notepad'] / KIB:,.1f} KiB ({pad['text_bytes'] / KIB:,.1f} KiB of text, index "
            f"+{100 * pad['overhead_ratio']:.0f}% of it compressed)"
        )
    n = summary.waypoints
    waypoints = f"{parts['waypoints'] / MIB:.1f} MiB at {n} earlier points of the read, " if n else ""
    return f"weights {parts['weights'] / MIB:.1f} MiB, {waypoints}{notepad}"


def _losses(metadata: dict) -> str:
    losses, mean = metadata["chunk_losses"], metadata.get("mean_loss")
    if not losses:
        return "-"
    return (
        f"first chunk {losses[0]:.3f}, last chunk {losses[-1]:.3f}, mean {float('nan') if mean is None else mean:.3f}"
    )


def _update_rows(metadata: dict) -> list[tuple[str, str]]:
    if not metadata.get("parent"):
        return []
    parent, done = metadata["parent"], metadata.get("update", {})
    rate = f" at lr={done['lr']}" if "lr" in done else ""
    return [
        ("parent", f"{parent['path']} ({parent['sha256'][:12]}), update {parent.get('depth', 1)} since a full read"),
        (
            "update",
            f"read {len(done.get('read', []))} new or changed files{rate}, carried {done.get('carried', 0)}, "
            f"{len(done.get('removed', []))} removed",
        ),
    ]


def print_listing(listing: dict) -> None:
    """`ls`: a row per named snapshot (a damaged one says why), or where none were found."""
    entries = listing["snapshots"]
    if not entries:
        say(f"no named snapshots in {listing['dir']} (make one with: ttt-read ingest PATH --name NAME)")
        return
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        size = f"{e['bytes'] / MIB:.1f} MiB"
        if "error" in e:
            print(f"{e['name']:<{width}}  {size:>9}  damaged: {e['error']}")
            continue
        what = f"{e['files']} files, {e['tokens'] or 0:,} tokens"
        print(f"{e['name']:<{width}}  {size:>9}  {e['created'] or '-':<25}  {what}  {', '.join(e['sources'])}")
