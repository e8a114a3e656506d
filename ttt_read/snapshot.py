"""The `.mem` snapshot: what reading learned, in a safetensors file (never pickle).

Tensors: the fast weights (`fast.0`, `fast.1`, ...), `tail_tokens`, the last window of
the text, so generation resumes right after it, and optionally `notepad`, the compressed
read text with its search index (bytes as uint8), for exact recall. The safetensors header carries one JSON
metadata document (format, base checkpoint identity, reading hyperparameters, manifest,
loss curve) whose `checksum` covers the metadata and every tensor byte.

Reading the metadata needs no torch and no safetensors: the header is parsed by hand, which
keeps `info` instant and lets the loader reject a hostile file before any decoder sees it.
Files are written atomically and never clobbered without `force`.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ttt_read.errors import ExitCode, TTTReadError

FORMAT = "ttt-read.mem"
VERSION = 1
MAX_HEADER_BYTES = 64 * 2**20


@dataclass
class Snapshot:
    metadata: dict
    fast: list  # torch tensors, without the batch dimension
    tail_tokens: list[int]
    notepad: bytes | None = None


def _checksum(metadata: dict, data: bytes) -> str:
    body = {k: v for k, v in metadata.items() if k != "checksum"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    digest.update(data)
    return digest.hexdigest()


def _split(raw: bytes, path: Path) -> tuple[dict, bytes]:
    """Header JSON and data section of a safetensors file, validated by hand."""
    if len(raw) < 8:
        raise TTTReadError(f"{path}: not a ttt-read snapshot (file too short)", ExitCode.SNAPSHOT)
    (length,) = struct.unpack("<Q", raw[:8])
    if length > min(MAX_HEADER_BYTES, len(raw) - 8):
        raise TTTReadError(f"{path}: not a ttt-read snapshot (bad header length)", ExitCode.SNAPSHOT)
    try:
        header = json.loads(raw[8 : 8 + length])
        metadata = json.loads(header["__metadata__"]["ttt_read"])
    except (ValueError, KeyError, TypeError):
        raise TTTReadError(f"{path}: not a ttt-read snapshot (no ttt-read metadata)", ExitCode.SNAPSHOT) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise TTTReadError(f"{path}: not a ttt-read snapshot (foreign format)", ExitCode.SNAPSHOT)
    if metadata.get("format_version") != VERSION:
        raise TTTReadError(
            f"{path}: snapshot format version {metadata.get('format_version')!r} is not supported (this ttt-read reads {VERSION})",
            ExitCode.SNAPSHOT,
        )
    return metadata, raw[8 + length :]


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise TTTReadError(f"{path}: no such snapshot", ExitCode.SNAPSHOT) from None
    except IsADirectoryError:
        raise TTTReadError(f"{path}: is a directory, not a snapshot", ExitCode.SNAPSHOT) from None
    except OSError as e:
        raise TTTReadError(f"{path}: cannot read snapshot: {e.strerror}", ExitCode.SNAPSHOT) from None


def read_metadata(path: Path, verify: bool = True) -> dict:
    """The snapshot's metadata, checksum verified, without importing torch."""
    metadata, data = _split(_read(path), path)
    if verify and metadata.get("checksum") != _checksum(metadata, data):
        raise TTTReadError(f"{path}: snapshot is corrupt (checksum mismatch)", ExitCode.SNAPSHOT)
    return metadata


def load(path: Path, base_sha256: str | None = None) -> Snapshot:
    """Load and verify a snapshot; refuse one made with another base checkpoint."""
    raw = _read(path)
    metadata, data = _split(raw, path)
    if metadata.get("checksum") != _checksum(metadata, data):
        raise TTTReadError(f"{path}: snapshot is corrupt (checksum mismatch)", ExitCode.SNAPSHOT)
    base = metadata.get("base", {})
    if base_sha256 is not None and base.get("sha256") != base_sha256:
        raise TTTReadError(
            f"{path}: made with base checkpoint {base.get('name')!r} ({str(base.get('sha256'))[:12]}), "
            f"not the one loaded ({base_sha256[:12]}); pass --model {base.get('name')}",
            ExitCode.SNAPSHOT,
        )
    from safetensors.torch import load as load_tensors

    try:
        tensors = load_tensors(raw)
        n_fast = int(metadata["n_fast"])
        fast = [tensors[f"fast.{i}"] for i in range(n_fast)]
        tail = tensors["tail_tokens"].tolist()
        notepad = tensors["notepad"].numpy().tobytes() if "notepad" in tensors else None
    except Exception as e:  # the checksum matched, so this is a well-formed foreign file
        raise TTTReadError(f"{path}: snapshot tensors are unreadable ({type(e).__name__})", ExitCode.SNAPSHOT) from None
    return Snapshot(metadata, fast, tail, notepad)


def encode(metadata: dict, fast: list, tail_tokens: list[int], notepad: bytes | None = None) -> bytes:
    """The bytes of a snapshot file, with `format`, `n_fast` and `checksum` filled in."""
    import torch
    from safetensors.torch import save as save_tensors

    tensors = {f"fast.{i}": w.detach().float().contiguous().cpu() for i, w in enumerate(fast)}
    tensors["tail_tokens"] = torch.tensor(tail_tokens, dtype=torch.int64)
    if notepad:
        tensors["notepad"] = torch.frombuffer(bytearray(notepad), dtype=torch.uint8)
    metadata = {**metadata, "format": FORMAT, "format_version": VERSION, "n_fast": len(fast), "checksum": ""}
    raw = save_tensors(tensors, metadata={"ttt_read": json.dumps(metadata)})
    _, data = _split(raw, Path("<new snapshot>"))
    metadata["checksum"] = _checksum(metadata, data)
    return save_tensors(tensors, metadata={"ttt_read": json.dumps(metadata)})


def ensure_writable(path: Path, force: bool) -> None:
    """Fail before any work is done if the output exists and may not be replaced."""
    if path.is_dir():
        raise TTTReadError(f"{path}: is a directory; give a file name for the snapshot", ExitCode.USAGE)
    if path.exists() and not force:
        raise TTTReadError(f"{path}: already exists (pass --force to overwrite)", ExitCode.EXISTS)
    if not path.parent.is_dir():
        raise TTTReadError(f"{path}: directory {path.parent} does not exist", ExitCode.USAGE)


def write_atomic(path: Path, data: bytes, force: bool) -> None:
    """Write via a temp file + fsync + rename, so the path holds the old file or the new one.

    Without `force` the final step is a hard link, which fails if the path appeared in the
    meantime instead of silently replacing it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise TTTReadError(f"{path}: already exists (pass --force to overwrite)", ExitCode.EXISTS) from None
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
