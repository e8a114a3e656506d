"""Named snapshots: `ingest --name NAME` keeps NAME.mem in the data directory, and every
command that takes a .mem path also takes a NAME.

How an argument is understood: an existing file at that path is always that file; otherwise,
when the argument is a valid name (letters, digits, `.`, `_`, `-`; no slash; a trailing
`.mem` is ignored) and the data directory holds that snapshot, it is the named snapshot; else
it stays the path it was, and reading it fails with "no such snapshot". A directory is never
a snapshot, so `ttt-read ask src ...` finds the snapshot named `src` even beside a `src/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError

SUFFIX = ".mem"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def snapshots_dir() -> Path:
    from ttt_read.core.dirs import data_dir

    return data_dir() / "snapshots"


def _bare(name: str) -> str:
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else name


def is_name(text: str) -> bool:
    return _NAME.fullmatch(_bare(text)) is not None


def path_for(name: str) -> Path:
    """Where the snapshot NAME lives; a usage error for a name that could not be one."""
    if not is_name(name):
        raise TTTReadError(
            f"--name {name!r}: a name is letters, digits, '.', '_' and '-', starting with a letter or digit",
            ExitCode.USAGE,
        )
    return snapshots_dir() / f"{_bare(name)}{SUFFIX}"


def resolve(arg: Path | str) -> Path:
    """The snapshot file an argument means (see the module docstring)."""
    path = Path(arg)
    if os.path.lexists(path) and not path.is_dir():
        return path
    text = str(arg)
    if is_name(text):
        named = path_for(text)
        if named.is_file():
            return named
    return path


def listing() -> list[dict]:
    """The named snapshots, by name: size, date and sources from each one's metadata.

    Only headers are read (`info --verify` checks a whole file). A damaged one is listed
    with its `error` rather than hiding the others; temp files a
    killed `ingest` left behind (`.NAME.mem.*.tmp`) are never snapshots and never listed."""
    from ttt_read.read import snapshot

    root = snapshots_dir()
    if not root.is_dir():
        return []
    try:
        found = sorted(root.iterdir())
    except OSError as e:
        raise TTTReadError(f"{root}: cannot list the named snapshots: {e.strerror}", ExitCode.INPUT) from None
    entries = []
    for path in found:
        if path.name.startswith(".") or path.suffix != SUFFIX or not path.is_file():
            continue
        entry = {"name": path.stem, "path": str(path), "bytes": path.stat().st_size}
        try:
            meta = snapshot.read_metadata(path, verify=False)  # the header alone: listing stays instant
        except TTTReadError as e:
            entry["error"] = str(e).removeprefix(f"{path}: ")
        else:
            manifest = meta.get("manifest") or []
            entry.update(
                created=meta.get("created"),
                sources=meta.get("sources") or [],
                files=sum(1 for e in manifest if "skipped" not in e),
                tokens=meta.get("tokens"),
                base=(meta.get("base") or {}).get("name"),
            )
        entries.append(entry)
    return entries


def complete(incomplete: str) -> list[str]:
    """Shell completion for a .mem argument: the names that start with what was typed."""
    try:
        names = [p.stem for p in snapshots_dir().glob(f"*{SUFFIX}") if not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(n for n in names if n.startswith(incomplete))
