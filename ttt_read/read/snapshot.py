"""The `.mem` snapshot: what reading learned, in a safetensors file (never pickle).

Tensors: the fast weights (`fast.0`, `fast.1`, ...), `tail_tokens`, the last window of
the text, so generation resumes right after it, the fast weights at earlier points of the
read (`waypoint.J.I`, bf16; their chunks in the metadata's `waypoints`, see `waypoints.py`),
and optionally `notepad`, the compressed read text with its search index (bytes as uint8),
for exact recall. The safetensors header carries one JSON
metadata document (format, base checkpoint identity, reading hyperparameters, manifest,
loss curve) whose `checksum` covers the metadata, the tensor table (names, types, shapes,
offsets: format version 2) and every tensor byte. Version 1 checksums left the table out;
such files still load, with a note.

Reading the metadata needs no torch and no safetensors: the header is parsed by hand (here
only), which keeps `info` and `ls` instant (they read the header, not the tensors) and lets
the loader reject a hostile file before any decoder sees it. Files are written atomically
and never clobbered without `force`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError

FORMAT = "ttt-read.mem"
VERSION = 2
READS = (1, 2)  # the format versions this ttt-read loads
MAX_HEADER_BYTES = 64 * 2**20
# The tensors of a snapshot by the part they belong to: `fast.I`, `waypoint.J.I`, `notepad`.
FAST, WAYPOINT, NOTEPAD = "fast", "waypoint", "notepad"
PARTS = {FAST: "weights", WAYPOINT: "waypoints", NOTEPAD: "notepad"}  # as `part_sizes` names them


@dataclass
class Snapshot:
    metadata: dict
    fast: list  # torch tensors, without the batch dimension
    tail_tokens: list[int]
    notepad: bytes | None = None
    waypoints: list = field(default_factory=list)  # earlier fast weights, each like `fast` (bf16)


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _checksum(metadata: dict, table: dict, data: bytes) -> str:
    """sha256 of the metadata (less the checksum), the tensor table (version 2 on) and the data."""
    digest = hashlib.sha256(_canonical({k: v for k, v in metadata.items() if k != "checksum"}))
    if metadata.get("format_version") != 1:
        digest.update(_canonical(table))
    digest.update(data)
    return digest.hexdigest()


@dataclass
class Header:
    metadata: dict
    table: dict  # tensor name -> {"dtype", "shape", "data_offsets"}, checked to lie inside the data
    data_start: int  # byte offset of the data section in the file


def _parse_header(prefix: bytes, file_size: int, path: Path) -> Header:
    """The validated header of a safetensors file, from its first bytes (at least the
    8-byte length and the JSON it announces) and the file's size."""
    if file_size < 8 or len(prefix) < 8:
        raise TTTReadError(f"{path}: not a ttt-read snapshot (file too short)", ExitCode.SNAPSHOT)
    (length,) = struct.unpack("<Q", prefix[:8])
    if length > min(MAX_HEADER_BYTES, file_size - 8) or len(prefix) < 8 + length:
        raise TTTReadError(f"{path}: not a ttt-read snapshot (bad header length)", ExitCode.SNAPSHOT)
    try:
        header = json.loads(prefix[8 : 8 + length])
        metadata = json.loads(header.pop("__metadata__")["ttt_read"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # RecursionError: JSON nested too deep
        raise TTTReadError(f"{path}: not a ttt-read snapshot (no ttt-read metadata)", ExitCode.SNAPSHOT) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise TTTReadError(f"{path}: not a ttt-read snapshot (foreign format)", ExitCode.SNAPSHOT)
    if metadata.get("format_version") not in READS:
        raise TTTReadError(
            f"{path}: snapshot format version {metadata.get('format_version')!r} is not supported (this ttt-read "
            f"reads {VERSION})",
            ExitCode.SNAPSHOT,
        )
    _check_tensor_table(header, file_size - 8 - length, path)
    _check_fields(metadata, path)
    return Header(metadata, header, 8 + length)


def _check_tensor_table(table: dict, n_data: int, path: Path) -> None:
    """Every tensor entry well-formed and inside the data, before any decoder sees it."""
    for entry in table.values():
        ok = isinstance(entry, dict) and isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list)
        offsets = entry.get("data_offsets") if ok else None
        ok = ok and all(type(n) is int and n >= 0 for n in entry["shape"])
        ok = ok and isinstance(offsets, list) and len(offsets) == 2 and all(type(n) is int for n in offsets)
        if not ok or not 0 <= offsets[0] <= offsets[1] <= n_data:
            raise TTTReadError(f"{path}: not a ttt-read snapshot (bad tensor table)", ExitCode.SNAPSHOT)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _strings(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _manifest_entry(e) -> bool:
    return (
        isinstance(e, dict)
        and isinstance(e.get("path"), str)
        and all(isinstance(e[k], str) for k in ("skipped", "sha256", "kind") if k in e)
        and all(_is_int(e[k]) for k in ("bytes", "tokens") if k in e and e[k] is not None)
    )


def _optional_dict(check):
    return lambda v: v is None or (isinstance(v, dict) and check(v))


# What each metadata field must look like when present (ingest writes them all; a snapshot
# from a test or an older version may lack some). A checksum is no signature: anyone can
# write one, so the commands that show these fields rely on this rather than on the checksum.
FIELD_CHECKS = {
    "base": lambda v: (
        isinstance(v, dict) and all(isinstance(v.get(k), str) for k in ("name", "sha256", "path") if k in v)
    ),
    "tokenizer_sha256": lambda v: isinstance(v, str),
    "reading": lambda v: (
        isinstance(v, dict) and all(_is_number(x) or isinstance(x, str) or x is None for x in v.values())
    ),
    "tool_version": lambda v: isinstance(v, str),
    "created": lambda v: isinstance(v, str),
    "sources": _strings,
    "manifest": lambda v: isinstance(v, list) and all(_manifest_entry(e) for e in v),
    "tokens": lambda v: _is_int(v) and v >= 0,
    "chunk_losses": lambda v: isinstance(v, list) and all(_is_number(x) for x in v),
    "mean_loss": lambda v: v is None or _is_number(v),
    "skipped_updates": lambda v: _is_int(v) and v >= 0,
    "read_seconds": _is_number,
    "n_fast": lambda v: _is_int(v) and 0 <= v <= 4096,
    "waypoints": lambda v: isinstance(v, list) and len(v) <= 256 and all(_is_int(c) and c >= 0 for c in v),
    "checksum": lambda v: isinstance(v, str),
    "notepad": _optional_dict(
        lambda v: all(_is_number(v[k]) for k in ("text_bytes", "overhead_ratio", "bytes") if k in v)
    ),
    "parent": _optional_dict(
        lambda v: isinstance(v.get("path"), str) and isinstance(v.get("sha256"), str) and _is_int(v.get("depth", 1))
    ),
    "update": lambda v: (
        isinstance(v, dict)
        and _strings(v.get("read", []))
        and _strings(v.get("removed", []))
        and _is_int(v.get("carried", 0))
    ),
}

# The fields `info` shows: a snapshot without them was not written by `ingest`.
INFO_FIELDS = ("base", "reading", "tool_version", "created", "sources", "manifest", "tokens", "chunk_losses")


def _check_fields(metadata: dict, path: Path) -> None:
    for key, check in FIELD_CHECKS.items():
        if key in metadata and not check(metadata[key]):
            raise TTTReadError(f"{path}: snapshot metadata is malformed ({key!r})", ExitCode.SNAPSHOT)


def require_fields(metadata: dict, path: Path, fields=INFO_FIELDS) -> None:
    """Refuse metadata that lacks a field `ingest` always writes (a foreign or crafted file)."""
    missing = [k for k in fields if k not in metadata]
    if missing:
        raise TTTReadError(f"{path}: snapshot metadata lacks {missing[0]!r}", ExitCode.SNAPSHOT)
    if not isinstance(metadata.get("base"), dict) or not all(k in metadata["base"] for k in ("name", "sha256")):
        raise TTTReadError(f"{path}: snapshot metadata lacks the base checkpoint", ExitCode.SNAPSHOT)


def _open(path: Path):
    """The snapshot file opened for reading; a FIFO or device is refused before it is read
    (it could block forever or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise TTTReadError(f"{path}: no such snapshot", ExitCode.SNAPSHOT) from None
    except IsADirectoryError:
        raise TTTReadError(f"{path}: is a directory, not a snapshot", ExitCode.SNAPSHOT) from None
    except OSError as e:
        raise TTTReadError(f"{path}: cannot read snapshot: {e.strerror}", ExitCode.SNAPSHOT) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise TTTReadError(f"{path}: {what}, not a snapshot", ExitCode.SNAPSHOT)
    return open(fd, "rb")


def _reading(path: Path, read):
    """`read(file)` on the open snapshot, an OSError being one line about `path`."""
    with _open(path) as f:
        try:
            return read(f)
        except OSError as e:
            raise TTTReadError(f"{path}: cannot read snapshot: {e.strerror}", ExitCode.SNAPSHOT) from None


def read_header(path: Path) -> Header:
    """Metadata and tensor table from the header alone: a few KiB read, whatever the size."""

    def head(f) -> Header:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        if len(prefix) == 8:
            prefix += f.read(min(struct.unpack("<Q", prefix)[0], MAX_HEADER_BYTES))
        return _parse_header(prefix, size, path)

    return _reading(path, head)


def _read_verified(path: Path) -> tuple[Header, bytes]:
    """The header and the whole file, checksum verified (a version-1 file with a note)."""
    raw = _reading(path, lambda f: f.read())
    header = _parse_header(raw, len(raw), path)
    if header.metadata.get("checksum") != _checksum(header.metadata, header.table, raw[header.data_start :]):
        raise TTTReadError(f"{path}: snapshot is corrupt (checksum mismatch)", ExitCode.SNAPSHOT)
    if header.metadata["format_version"] == 1:
        print(
            f"ttt-read: note: {path}: snapshot format version 1 (its checksum leaves the tensor table out); ingest "
            "again to upgrade",
            file=sys.stderr,
        )
    return header, raw


def read_metadata(path: Path, verify: bool = True) -> dict:
    """The snapshot's metadata without importing torch: checksum verified (the whole file
    read), or with `verify=False` from the header alone."""
    return (_read_verified(path)[0] if verify else read_header(path)).metadata


def load(path: Path, base_sha256: str | None = None) -> Snapshot:
    """Load and verify a snapshot; refuse one made with another base checkpoint."""
    header, raw = _read_verified(path)
    metadata = header.metadata
    base = metadata.get("base", {})
    if base_sha256 is not None and base.get("sha256") != base_sha256:
        raise TTTReadError(
            f"{path}: made with base checkpoint {base.get('name')!r} ({str(base.get('sha256'))[:12]}), "
            f"not the one loaded ({base_sha256[:12]}); pass --model {base.get('name')}",
            ExitCode.SNAPSHOT,
        )
    import torch
    from safetensors.torch import load as load_tensors

    try:
        tensors = load_tensors(raw)
        n_fast = int(metadata["n_fast"])
        fast = [tensors[f"{FAST}.{i}"] for i in range(n_fast)]
        waypoints = [
            [tensors[f"{WAYPOINT}.{j}.{i}"] for i in range(n_fast)] for j in range(len(metadata.get("waypoints", [])))
        ]
        tail = tensors["tail_tokens"]
        notepad = tensors.get(NOTEPAD)
    except Exception as e:  # the checksum matched, so this is a well-formed foreign file
        raise TTTReadError(f"{path}: snapshot tensors are unreadable ({type(e).__name__})", ExitCode.SNAPSHOT) from None
    # A checksum is no signature: a crafted file can carry a valid one for any table.
    typed = (
        all(w.dtype == torch.float32 and w.dim() == 2 for w in fast) and tail.dtype == torch.int64 and tail.dim() == 1
    )
    typed = typed and all(
        v.dtype == torch.bfloat16 and v.shape == w.shape for state in waypoints for v, w in zip(state, fast)
    )
    if not typed or (notepad is not None and (notepad.dtype != torch.uint8 or notepad.dim() != 1)):
        raise TTTReadError(f"{path}: snapshot tensors have the wrong type or shape", ExitCode.SNAPSHOT)
    return Snapshot(metadata, fast, tail.tolist(), None if notepad is None else notepad.numpy().tobytes(), waypoints)


def encode(
    metadata: dict, fast: list, tail_tokens: list[int], notepad: bytes | None = None, waypoints: dict | None = None
) -> bytes:
    """The bytes of a snapshot file, with `format`, `n_fast`, `waypoints` (the chunks of the
    `waypoints` states, a dict chunk -> fast weights) and `checksum` filled in."""
    import torch
    from safetensors.torch import save as save_tensors

    waypoints = dict(sorted((waypoints or {}).items()))
    tensors = {f"{FAST}.{i}": w.detach().float().contiguous().cpu() for i, w in enumerate(fast)}
    for j, state in enumerate(waypoints.values()):
        tensors |= {
            f"{WAYPOINT}.{j}.{i}": w.detach().to(torch.bfloat16).contiguous().cpu() for i, w in enumerate(state)
        }
    tensors["tail_tokens"] = torch.tensor(tail_tokens, dtype=torch.int64)
    if notepad:
        tensors[NOTEPAD] = torch.frombuffer(bytearray(notepad), dtype=torch.uint8)
    metadata = {
        **metadata,
        "format": FORMAT,
        "format_version": VERSION,
        "n_fast": len(fast),
        "waypoints": list(waypoints),
        "checksum": "",
    }
    raw = save_tensors(tensors, metadata={"ttt_read": json.dumps(metadata)})
    header = _parse_header(raw, len(raw), Path("<new snapshot>"))  # the table and data do not depend on the metadata
    metadata["checksum"] = _checksum(metadata, header.table, raw[header.data_start :])
    return save_tensors(tensors, metadata={"ttt_read": json.dumps(metadata)})


def ensure_writable(path: Path, force: bool) -> None:
    """Fail before any work is done if the output exists and may not be replaced."""
    if path.is_dir():
        raise TTTReadError(f"{path}: is a directory; give a file name for the snapshot", ExitCode.USAGE)
    if path.exists() and not force:
        raise TTTReadError(f"{path}: already exists (pass --force to overwrite)", ExitCode.EXISTS)
    if not path.parent.is_dir():
        raise TTTReadError(f"{path}: directory {path.parent} does not exist", ExitCode.USAGE)
    try:  # can a file be made there at all (permissions, read-only file system)? An unnamed one.
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as e:
        raise TTTReadError(f"{path}: cannot write in {path.parent}: {e.strerror}", ExitCode.OUTPUT) from None


def write_atomic(path: Path, data: bytes, force: bool) -> None:
    """Write via a temp file + fsync + rename, so the path holds the old file or the new one.

    Without `force` the final step is a hard link, which fails if the path appeared in the
    meantime instead of silently replacing it.
    """
    path = Path(path)
    remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise TTTReadError(f"{path}: cannot write snapshot: {e.strerror}", ExitCode.OUTPUT) from None
    try:
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a snapshot is an ordinary file
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:  # disk full, quota, I/O error: the temp file goes, the old file stays
            raise TTTReadError(f"{path}: cannot write snapshot: {e.strerror}", ExitCode.OUTPUT) from None
        interrupts.point("writing")
        with interrupts.held():  # a Ctrl-C between the rename and the record would misreport it
            interrupts.point("rename")
            if force:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise TTTReadError(f"{path}: already exists (pass --force to overwrite)", ExitCode.EXISTS) from None
            interrupts.COMMITTED.append(path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale_temps(path: Path) -> None:
    """Delete temp files a killed writer of `path` left behind (SIGKILL skips every cleanup).
    A temp file names its writer's pid; it is stale once that process is gone, or, should
    the directory be shared with other machines, once it is an hour old (a write takes
    seconds)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].partition(".")[0]
        try:
            if (
                pid.isdigit()
                and int(pid) != os.getpid()
                and (not _alive(int(pid)) or time.time() - tmp.stat().st_mtime > 3600)
            ):
                tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to delete: never a reason to fail a write


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def part_sizes(path: Path) -> dict[str, int]:
    """Bytes of a snapshot's fast weights (final, and at earlier waypoints) and notepad,
    from its safetensors header alone, keyed as `PARTS` names them."""
    sizes = dict.fromkeys(PARTS.values(), 0)
    for name, entry in read_header(path).table.items():
        start, end = entry["data_offsets"]
        if kind := PARTS.get(name.partition(".")[0]):
            sizes[kind] += end - start
    return sizes
