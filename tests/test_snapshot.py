"""The .mem snapshot format: bit-exact round trips, a checksum that catches any flipped byte,
one clear error for every kind of bad file, and writes that are atomic and never clobber."""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import as_batch, take
from safetensors.torch import save_file

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import snapshot
from ttt_read.read.reading import read

MARKER = "marker-A-for-the-flip-test"
LOADERS = {"read_metadata": snapshot.read_metadata, "load": snapshot.load}


@pytest.fixture(scope="module")
def parts(model, code_tokens):
    """Real snapshot contents: the fast weights after reading two chunks of code, and its tail."""
    tokens = take(code_tokens, 2 * model.cfg.chunk + 1)
    fast = [w[0] for w in read(model, as_batch(tokens), lr=model.cfg.inner_lr).state.fast]
    metadata = {
        "base": {"name": "default", "sha256": "ab" * 32},
        "note": MARKER,
        "tokens": len(tokens),
        "chunk_losses": [7.5, 7.25],
    }
    return metadata, fast, tokens[-model.cfg.window :]


@pytest.fixture
def mem(tmp_path, parts) -> Path:
    path = tmp_path / "a.mem"
    snapshot.write_atomic(path, snapshot.encode(*parts), force=False)
    return path


def snapshot_error(load, path: Path) -> TTTReadError:
    """The error `load` raises for `path`, checked to be a snapshot error that starts with the path."""
    with pytest.raises(TTTReadError) as info:
        load(path)
    assert info.value.code == ExitCode.SNAPSHOT
    assert str(info.value).startswith(str(path)), str(info.value)
    return info.value


def header_length(raw: bytes) -> int:
    return struct.unpack("<Q", raw[:8])[0]


def foreign_header(path: Path, metadata: dict | None) -> Path:
    """A genuine safetensors file, with `metadata` (or none) where ours would be."""
    save_file({"x": torch.arange(4.0)}, path, metadata=None if metadata is None else {"ttt_read": json.dumps(metadata)})
    return path


@pytest.mark.parametrize("notepad", [None, b"compressed notes \x00\xff"], ids=["no-notepad", "notepad"])
def test_round_trip_is_bit_exact(tmp_path, model, parts, notepad):
    metadata, fast, tail = parts
    path = tmp_path / "r.mem"
    earlier = {7: [w / 3 for w in fast], 2: [w - 1 for w in fast]}  # states at two earlier chunks
    snapshot.write_atomic(path, snapshot.encode(metadata, fast, tail, notepad, earlier), force=False)

    loaded = snapshot.load(path, base_sha256=metadata["base"]["sha256"])

    assert len(loaded.fast) == len(fast) == 3 * model.cfg.n_suffix
    for saved, original in zip(loaded.fast, fast):
        assert saved.dtype == torch.float32
        assert torch.equal(saved, original)  # bit for bit, no rounding anywhere
    for state, chunk in zip(loaded.waypoints, (2, 7), strict=True):  # in read order, rounded to bf16 once
        assert all(torch.equal(s, w.to(torch.bfloat16)) for s, w in zip(state, earlier[chunk], strict=True))
    assert loaded.tail_tokens == tail
    assert loaded.notepad == notepad
    stamped = {k: loaded.metadata[k] for k in ("format", "format_version", "n_fast", "waypoints", "checksum")}
    assert loaded.metadata == {**metadata, **stamped}
    assert stamped["format"] == snapshot.FORMAT and stamped["n_fast"] == len(fast) and stamped["waypoints"] == [2, 7]
    assert snapshot.read_metadata(path) == loaded.metadata


def test_encoding_is_deterministic(parts):
    assert snapshot.encode(*parts) == snapshot.encode(*parts)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("where", ["data", "metadata"])
def test_checksum_catches_one_flipped_byte(mem, loader, where):
    raw = bytearray(mem.read_bytes())
    if where == "data":
        raw[8 + header_length(raw) + 5] ^= 0x01  # inside the first fast-weight tensor
    else:
        at = raw.index(MARKER.encode()) + MARKER.index("A")
        raw[at] = ord("B")  # still valid JSON, still our format: only the checksum can tell
    mem.write_bytes(bytes(raw))

    assert "checksum" in str(snapshot_error(LOADERS[loader], mem))


BROKEN_FILES = {
    "empty": lambda p, raw: p.write_bytes(b""),
    "truncated": lambda p, raw: p.write_bytes(raw[: len(raw) // 2]),
    "header-cut": lambda p, raw: p.write_bytes(raw[:40]),
    "random-bytes": lambda p, raw: p.write_bytes(random.Random(0).randbytes(4096)),
    "safetensors-without-our-metadata": lambda p, raw: foreign_header(p, None),
    "safetensors-of-another-format": lambda p, raw: foreign_header(p, {"format": "other.mem", "format_version": 1}),
    "future-format-version": lambda p, raw: foreign_header(
        p, {"format": snapshot.FORMAT, "format_version": snapshot.VERSION + 1}
    ),
    "directory": lambda p, raw: (p.unlink(), p.mkdir()),
    "missing": lambda p, raw: p.unlink(),
}


@pytest.mark.parametrize("loader", [*LOADERS, "read_header"])
@pytest.mark.parametrize("case", BROKEN_FILES)
def test_bad_files_are_snapshot_errors(mem, loader, case):
    BROKEN_FILES[case](mem, mem.read_bytes())
    snapshot_error(LOADERS.get(loader, snapshot.read_header), mem)


def with_table(raw: bytes, change) -> bytes:
    """`raw` with its safetensors tensor table edited by `change(table)`; data and metadata kept."""
    length = header_length(raw)
    header = json.loads(raw[8 : 8 + length])
    change(header)
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + raw[8 + length :]


@pytest.mark.parametrize("loader", LOADERS)
def test_checksum_covers_the_tensor_table(mem, loader):
    """Same bytes, other types: the int64 tail read as float64 would pass a data-only checksum."""

    def retype(header):
        header["tail_tokens"]["dtype"] = "F64"

    mem.write_bytes(with_table(mem.read_bytes(), retype))
    assert "checksum" in str(snapshot_error(LOADERS[loader], mem))


@pytest.mark.parametrize("state", ["short", "missing"])
def test_a_crafted_earlier_state_is_refused(tmp_path, parts, state):
    """A valid checksum over waypoints that do not fit the fast weights (a crafted file)."""
    metadata, fast, tail = parts
    bad = [w[:1] for w in fast] if state == "short" else fast[:-1]
    path = tmp_path / "crafted.mem"
    path.write_bytes(snapshot.encode(metadata, fast, tail, None, {3: bad}))
    assert "snapshot tensors" in str(snapshot_error(snapshot.load, path))


def test_a_version_1_snapshot_loads_with_a_one_line_note(tmp_path, parts, monkeypatch, capsys):
    path = tmp_path / "v1.mem"
    monkeypatch.setattr(snapshot, "VERSION", 1)  # what an older ttt-read wrote
    snapshot.write_atomic(path, snapshot.encode(*parts), force=False)
    monkeypatch.undo()

    loaded = snapshot.load(path)

    assert loaded.metadata["format_version"] == 1 and loaded.tail_tokens == parts[2]
    note = capsys.readouterr().err.splitlines()
    assert len(note) == 1 and str(path) in note[0] and "format version 1" in note[0], note


class CountingFile:
    """A file that counts the bytes read from it."""

    def __init__(self, f):
        self.f, self.bytes_read = f, 0

    def read(self, n=-1):
        data = self.f.read(n)
        self.bytes_read += len(data)
        return data

    def fileno(self):
        return self.f.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_reading_the_header_reads_no_tensor_bytes(mem, monkeypatch):
    """What `ls` and `info` do: the header's few KiB, whatever the snapshot's size."""
    opened = []
    real_open = snapshot._open
    monkeypatch.setattr(snapshot, "_open", lambda path: opened.append(CountingFile(real_open(path))) or opened[-1])

    header = snapshot.read_header(mem)

    assert header.metadata["note"] == MARKER and set(header.table) >= {"fast.0", "tail_tokens"}
    assert opened[0].bytes_read == header.data_start == 8 + header_length(mem.read_bytes()) < mem.stat().st_size
    snapshot.read_metadata(mem)  # verifying reads it all
    assert opened[1].bytes_read == mem.stat().st_size


def test_future_version_is_named(tmp_path):
    path = foreign_header(tmp_path / "f.mem", {"format": snapshot.FORMAT, "format_version": snapshot.VERSION + 1})
    assert "version" in str(snapshot_error(snapshot.read_metadata, path))


def test_snapshot_of_another_base_checkpoint_is_refused(mem, parts):
    error = snapshot_error(lambda p: snapshot.load(p, base_sha256="cd" * 32), mem)
    assert "base checkpoint" in str(error)
    assert snapshot.load(mem, base_sha256=parts[0]["base"]["sha256"]).tail_tokens == parts[2]


def test_write_atomic_refuses_an_existing_file(tmp_path, mem):
    before = mem.read_bytes()
    with pytest.raises(TTTReadError) as info:
        snapshot.write_atomic(mem, b"new contents", force=False)
    assert info.value.code == ExitCode.EXISTS
    assert str(info.value).startswith(str(mem))
    assert mem.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [mem.name], "a temp file was left behind"


def test_write_atomic_with_force_replaces(tmp_path, mem):
    snapshot.write_atomic(mem, b"new contents", force=True)
    assert mem.read_bytes() == b"new contents"
    assert sorted(os.listdir(tmp_path)) == [mem.name], "a temp file was left behind"


@pytest.fixture
def sigint_raises():
    """SIGINT raises KeyboardInterrupt here, whatever disposition the suite was started
    with (a shell running `pytest &` leaves it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_the_rename_surfaces_after_the_write_is_recorded(tmp_path, monkeypatch, sigint_raises):
    """A Ctrl-C that lands while the snapshot is linked into place is raised only once the
    write is in COMMITTED, so `main` can say the snapshot was written (the crash test once
    caught `nothing was written` for a snapshot that was)."""
    link = os.link

    def link_then_ctrl_c(src, dst):
        link(src, dst)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "link", link_then_ctrl_c)
    out, before = tmp_path / "out.mem", len(interrupts.COMMITTED)
    with pytest.raises(KeyboardInterrupt):
        snapshot.write_atomic(out, b"snapshot bytes", force=False)
    assert interrupts.COMMITTED[before:] == [out] and out.read_bytes() == b"snapshot bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mem"]


def test_a_write_removes_temp_files_of_killed_writers_only(tmp_path, mem):
    """SIGKILL leaves `.NAME.PID.XXXX.tmp`; the next write of NAME deletes those whose
    writer is gone, and keeps a live writer's and other snapshots' temp files."""
    finished = subprocess.Popen(["true"])
    finished.wait()  # a pid that no longer runs
    dead = tmp_path / f".{mem.name}.{finished.pid}.k1ll3d.tmp"
    live = tmp_path / f".{mem.name}.{os.getppid()}.w0rk1n.tmp"
    other = tmp_path / f".other.mem.{finished.pid}.0th3r.tmp"
    for temp in (dead, live, other):
        temp.write_bytes(b"partial")
    snapshot.write_atomic(mem, b"new contents", force=True)
    assert sorted(os.listdir(tmp_path)) == sorted([mem.name, live.name, other.name])


def test_ensure_writable_checks_before_any_work(tmp_path, mem):
    with pytest.raises(TTTReadError) as info:
        snapshot.ensure_writable(mem, force=False)
    assert info.value.code == ExitCode.EXISTS
    snapshot.ensure_writable(mem, force=True)
    snapshot.ensure_writable(tmp_path / "new.mem", force=False)
    for force in (False, True):
        with pytest.raises(TTTReadError) as info:
            snapshot.ensure_writable(tmp_path, force=force)  # --force must not try to replace a directory
        assert info.value.code == ExitCode.USAGE and "directory" in str(info.value)
    with pytest.raises(TTTReadError) as info:
        snapshot.ensure_writable(tmp_path / "no-such-dir" / "x.mem", force=False)
    assert info.value.code == ExitCode.USAGE
