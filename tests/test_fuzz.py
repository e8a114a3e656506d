"""Fuzzing the code that takes hostile bytes: the .mem loader and the PDF and text readers.

Every input must end in success or in a TTTReadError with its documented exit code: never
another exception, never a hang (each example runs under a 10 s alarm), never a crash.
Inputs are mutations of real files: a snapshot written by `engine.ingest`, PDFs from
tests/pdfs.py. The .mem mutations cut, flip, overwrite, insert and delete bytes, set the
header length, nest the header JSON, and rewrite metadata fields or the tensor table, with
a stale checksum or a valid one recomputed (a checksum is no signature).

CI runs a short, derandomized pass (a few hundred examples). The long run:

    TTT_READ_FUZZ_MEM=10000 TTT_READ_FUZZ_PDF=2000 TTT_READ_FUZZ_CLI=20 \\
    TTT_READ_FUZZ_REPORT=fuzz-report.json nice python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

which draws fresh random examples each time and writes the counts to the report file.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS, cli_env, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfs import write_pdf, write_scanned_pdf

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import snapshot
from ttt_read.text import sources

N_MEM = int(os.environ.get("TTT_READ_FUZZ_MEM", 200))
N_PDF = int(os.environ.get("TTT_READ_FUZZ_PDF", 150))
N_TEXT = int(os.environ.get("TTT_READ_FUZZ_TEXT", 100))
N_CLI = int(os.environ.get("TTT_READ_FUZZ_CLI", 3))
LONG_RUN = any(k in os.environ for k in ("TTT_READ_FUZZ_MEM", "TTT_READ_FUZZ_PDF"))
EXAMPLE_LIMIT_S = 10.0

COUNTS: dict[str, Counter] = {"mem": Counter(), "pdf": Counter(), "text": Counter()}
SLOWEST: dict[str, float] = {"mem": 0.0, "pdf": 0.0, "text": 0.0}


def fuzz_settings(n: int):
    return settings(
        max_examples=n,
        deadline=None,  # the alarm below is the limit; hypothesis' deadline would flake on a loaded machine
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` swallows it."""


@contextlib.contextmanager
def time_limit(kind: str, seconds: float = EXAMPLE_LIMIT_S):
    def alarm(signum, frame):
        raise Hang(f"{kind} example ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    faulthandler.dump_traceback_later(seconds * 3, exit=True)  # a hang inside C code: die loudly
    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
        SLOWEST[kind] = max(SLOWEST[kind], time.perf_counter() - started)


def outcome(kind: str, fn, *args, code: ExitCode):
    """Run fn; success or a TTTReadError with `code` is fine, anything else fails the test."""
    label = getattr(fn, "__name__", "call")
    try:
        result = fn(*args)
    except TTTReadError as e:
        assert e.code == code, f"{e} (exit {e.code}, expected {code})"
        COUNTS[kind][f"{label}: clean error {int(code)}"] += 1
        return None
    COUNTS[kind][f"{label}: success"] += 1
    return result


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    target = os.environ.get("TTT_READ_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps({k: dict(v) for k, v in COUNTS.items()} | {"slowest_s": SLOWEST}, indent=2))


# --- the .mem loader -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_mem(tmp_path_factory) -> bytes:
    """A snapshot as `ingest` writes it (weights, tail, notepad with a PDF), from a small tree."""
    from ttt_read.read import ingest as engine

    root = tmp_path_factory.mktemp("fuzz-src")
    (root / "src").mkdir()
    (root / "src" / "errors.py").write_text((CORPUS / "errors.py").read_text()[:1500])
    write_pdf(root / "src" / "notes.pdf", ["Snapshots are written atomically.", "Second page."])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TTT_READ_HOME", str(root / "home"))
        engine.ingest([root / "src"], root / "real.mem", model_name="default", device="cpu")
    return (root / "real.mem").read_bytes()


class Seed(bytes):
    """Seed bytes with a short repr, for hypothesis' reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


def split(raw: bytes) -> tuple[dict, dict, bytes]:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    return header, json.loads(header["__metadata__"]["ttt_read"]), raw[8 + n :]


def resign(header: dict, metadata: dict, data: bytes) -> None:
    """Put a valid checksum for the (edited) metadata and tensor table into `header`."""
    metadata["checksum"] = snapshot._checksum(metadata, {k: v for k, v in header.items() if k != "__metadata__"}, data)
    header["__metadata__"]["ttt_read"] = json.dumps(metadata, allow_nan=True)


def join(header: dict, data: bytes) -> bytes:
    text = json.dumps(header, allow_nan=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"null",
    b"-1",
    b"1e309",
    b"NaN",
    b"\x00",
    b"\xff",
    b"\\u",
    b"99999999999999999999",
]


BYTE_KINDS = ["truncate", "flip", "overwrite", "insert", "delete", "length"]


@st.composite
def mem_mutation(draw, raw: bytes, bytes_only: bool = False) -> bytes:
    """One mutation of a snapshot (`bytes_only`: of any byte string, e.g. a mutant)."""
    raw = Seed(raw)
    hlen = max(1, min(8 + struct.unpack("<Q", raw[:8])[0], len(raw))) if len(raw) >= 8 else max(len(raw), 1)
    kind = draw(st.sampled_from(BYTE_KINDS + ([] if bytes_only else ["metadata", "table", "nested", "stack"])))
    if kind == "stack":  # a structural or byte mutation, then a byte mutation
        once = draw(mem_mutation(raw))
        return draw(mem_mutation(once, bytes_only=True)) if len(once) > 16 else once
    if kind == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if kind in ("flip", "overwrite", "insert", "delete"):
        out = bytearray(raw)
        in_header = draw(st.booleans())
        at = draw(st.integers(0, (hlen if in_header else len(out)) - 1))
        if kind == "flip":
            for _ in range(draw(st.integers(1, 8))):
                out[at] ^= 1 << draw(st.integers(0, 7))
                at = draw(st.integers(0, (hlen if in_header else len(out)) - 1))
        elif kind == "overwrite":
            chunk = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=32))
            out[at : at + len(chunk)] = chunk
        elif kind == "insert":
            out[at:at] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=64))
        else:
            del out[at : at + draw(st.integers(1, 4096))]
        return bytes(out)
    if kind == "length":
        length = draw(
            st.sampled_from(
                [
                    0,
                    1,
                    2,
                    hlen - 9,
                    hlen - 7,
                    hlen,
                    len(raw),
                    snapshot.MAX_HEADER_BYTES,
                    snapshot.MAX_HEADER_BYTES + 1,
                    2**63,
                    2**64 - 1,
                ]
            )
            | st.integers(0, 2**64 - 1)
        )
        return struct.pack("<Q", length) + raw[8:]
    header, metadata, data = split(raw)
    if kind == "nested":
        depth = draw(st.integers(1, 200_000))
        body = draw(st.sampled_from([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth]))
        if draw(st.booleans()):  # nest inside our own metadata string instead
            header["__metadata__"]["ttt_read"] = body.decode()
            return join(header, data)
        return struct.pack("<Q", len(body)) + body + data
    if kind == "metadata":
        path = draw(
            st.sampled_from(
                sorted(metadata)
                + [
                    "manifest.0",
                    "manifest.0.path",
                    "base.name",
                    "base.sha256",
                    "reading.lr",
                    "notepad.text_bytes",
                    "parent",
                    "update",
                ]
            )
        )
        target, key = metadata, path
        if "." in path:
            first, rest = path.split(".", 1)
            target = metadata.get(first)
            if first == "manifest":
                target = target[0] if target else {}
                key = rest.split(".", 1)[-1] if "." in rest else None
            else:
                key = rest
            if key is None:  # replace the whole entry
                target, key = metadata["manifest"], 0
        if draw(st.booleans()) and isinstance(target, dict) and key in target:
            del target[key]
        elif isinstance(target, (dict, list)):
            target[key] = draw(json_values)
        header["__metadata__"]["ttt_read"] = json.dumps(metadata, allow_nan=True)
        if draw(st.booleans()):  # a valid checksum: only the field checks can tell
            resign(header, metadata, data)
        return join(header, data)
    # "table": the tensor table; half the time with a valid checksum, so the table checks must tell
    name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
    field = draw(st.sampled_from(["dtype", "shape", "data_offsets", "entry", "drop", "add"]))
    if field == "dtype":
        header[name]["dtype"] = draw(
            st.sampled_from(["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "X", ""]) | json_values
        )
    elif field == "shape":
        header[name]["shape"] = draw(st.lists(st.integers(-2, 2**40), max_size=4) | json_values)
    elif field == "data_offsets":
        header[name]["data_offsets"] = draw(
            st.lists(st.integers(-2, len(data) + 2), min_size=0, max_size=3) | json_values
        )
    elif field == "entry":
        header[name] = draw(json_values)
    elif field == "drop":
        del header[name]
    else:
        header[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    if draw(st.booleans()):
        resign(header, metadata, data)
    return join(header, data)


def info_in_process(path: Path, as_json: bool) -> str:
    """`ttt-read info` as the command runs it, minus process start-up."""
    from ttt_read import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.info(path, verify=True, as_json=as_json)
    return out.getvalue()


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def check_mem(path: Path) -> None:
    with time_limit("mem"):
        meta = outcome("mem", snapshot.read_metadata, path, code=ExitCode.SNAPSHOT)
        snap = outcome("mem", snapshot.load, path, code=ExitCode.SNAPSHOT)
        assert snap is None or meta is not None, "load accepted what read_metadata refused"
        text = outcome("mem", info_in_process, path, False, code=ExitCode.SNAPSHOT)
        as_json = outcome("mem", info_in_process, path, True, code=ExitCode.SNAPSHOT)
    if as_json is not None:
        assert strict_json(as_json)["schema_version"] == 1
    if meta is None:
        assert text is None and as_json is None
    COUNTS["mem"]["inputs"] += 1


def test_real_snapshot_passes_every_check(real_mem, tmp_path):
    path = tmp_path / "real.mem"
    path.write_bytes(real_mem)
    check_mem(path)
    assert snapshot.load(path).notepad


def test_fuzz_mem_loader(real_mem, tmp_path):
    path = tmp_path / "m.mem"

    @fuzz_settings(N_MEM)
    @given(st.data())
    def run(data):
        mutant = data.draw(mem_mutation(Seed(real_mem)), label="mutant")
        path.write_bytes(mutant)
        try:
            check_mem(path)
        except BaseException:
            (tmp_path / "failing.mem").write_bytes(mutant)
            print(f"failing input kept as {tmp_path / 'failing.mem'}", file=sys.stderr)
            raise

    run()


def test_fuzzed_mem_files_through_the_real_cli(ttt_home, real_mem, tmp_path):
    """A few mutants through `ttt-read info` as a subprocess: exit 0 or 4, one line, no traceback."""
    rng = random.Random(None if LONG_RUN else 0)
    for i in range(N_CLI):
        raw = bytearray(real_mem)
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(min(len(raw), 4096))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"cli-{i}.mem"
        path.write_bytes(bytes(raw))
        for extra in ([], ["--json"]):
            result = run_cli(ttt_home, "info", path, *extra, timeout=EXAMPLE_LIMIT_S * 6)
            assert "Traceback" not in result.stderr, result.stderr
            assert result.returncode in (ExitCode.OK, ExitCode.SNAPSHOT), result.stderr
            if result.returncode == ExitCode.OK:
                if extra:
                    strict_json(result.stdout)
            else:
                assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr


# --- hostile .mem files that mutation would rarely reach -----------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "oversized-header", "deep-nesting"])
def test_hostile_mem_files_fail_fast(tmp_path, kind):
    path = tmp_path / "x.mem"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "oversized-header":  # the largest header allowed, all whitespace: parsed, refused
        length = snapshot.MAX_HEADER_BYTES
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", length) + b" " * (length - 2) + b"{}")
    else:
        depth = 5_000_000
        path.write_bytes(struct.pack("<Q", 2 * depth) + b"[" * depth + b"]" * depth)
    for load in (snapshot.read_metadata, snapshot.load):
        with time_limit("mem"):
            with pytest.raises(TTTReadError) as info:
                load(path)
        assert info.value.code == ExitCode.SNAPSHOT and str(info.value).startswith(str(path))


def test_checksum_valid_snapshot_with_retyped_tensors_is_refused(real_mem, tmp_path):
    """A checksum is no signature: F32 weights relabelled as I32 (same size) under a
    recomputed checksum pass the checksum and must still be refused."""
    header, metadata, data = split(real_mem)
    header["fast.0"]["dtype"] = "I32"
    resign(header, metadata, data)
    path = tmp_path / "retyped.mem"
    path.write_bytes(join(header, data))
    snapshot.read_metadata(path)  # the checksum does match
    with pytest.raises(TTTReadError) as info:
        snapshot.load(path)
    assert info.value.code == ExitCode.SNAPSHOT and "wrong type" in str(info.value)


# --- the PDF and text readers --------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_seeds(tmp_path_factory) -> list[bytes]:
    """Real PDFs: plain, several pages, compressed streams, encrypted both ways, scanned."""
    from pypdf import PdfWriter

    root = tmp_path_factory.mktemp("pdf-seeds")
    plain = write_pdf(root / "plain.pdf", ["Hello (world) \\ back", "page two\nwith two lines", ""])
    compressed = root / "compressed.pdf"
    writer = PdfWriter(clone_from=plain)
    for page in writer.pages:
        page.compress_content_streams()
    with compressed.open("wb") as f:
        writer.write(f)
    paths = [
        plain,
        compressed,
        write_pdf(root / "one.pdf", ["x"]),
        write_pdf(root / "open.pdf", ["protected against editing"], encrypt_password=""),
        write_pdf(root / "locked.pdf", ["secret"], encrypt_password="pw"),
        write_scanned_pdf(root / "scan.pdf", 2),
    ]
    return [Seed(p.read_bytes()) for p in paths]


PDF_TOKENS = [
    b"obj",
    b"endobj",
    b"stream",
    b"endstream",
    b"xref",
    b"trailer",
    b"startxref",
    b"%%EOF",
    b"<<",
    b">>",
    b"[",
    b"]",
    b"R",
    b"0 0 R",
    b"/Filter /FlateDecode",
    b"/Length 999999999",
    b"/Length -1",
    b"/Count 2147483647",
    b"/Kids [1 0 R]",
    b"/Parent 2 0 R",
    b"/Type /Pages",
    b"/Encrypt 1 0 R",
    b"(",
    b")",
    b"\\",
    b"Tj",
    b"TJ",
    b"BT",
    b"ET",
    b"99999999999999999999",
    b"-0",
    b"1e308",
    b"/ToUnicode",
    b"<FEFF D800>",
    b"/ObjStm",
]


@st.composite
def pdf_mutation(draw, seeds: list[bytes]) -> bytes:
    out = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "token", "bytes", "truncate", "splice", "delete", "number", "repeat"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "token":
            token = draw(st.sampled_from(PDF_TOKENS))
            if draw(st.booleans()):
                out[at:at] = b" " + token + b" "
            else:
                out[at : at + len(token)] = token
        elif kind == "bytes":
            out[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "truncate":
            del out[at:]
        elif kind == "splice" and out:
            start = draw(st.integers(0, len(out) - 1))
            out[at:at] = out[start : start + draw(st.integers(1, 512))]
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        elif kind == "number":
            numbers = [m.span() for m in re.finditer(rb"\d+", bytes(out))]
            if numbers:
                s, e = draw(st.sampled_from(numbers))
                out[s:e] = str(draw(st.integers(-(2**40), 2**64))).encode()
        elif kind == "repeat" and out:
            start = draw(st.integers(0, len(out) - 1))
            piece = out[start : start + draw(st.integers(1, 256))]
            out[at:at] = piece * draw(st.integers(2, 2000))
    return bytes(out)


def check_read(path: Path, kind: str) -> None:
    with time_limit(kind):
        got = outcome(kind, sources.collect, [path], code=ExitCode.INPUT)
    if got is not None:
        [f] = got.files
        f.text.encode("utf-8")  # valid Unicode: the tokenizer rejects lone surrogates
        assert f.text and f.kind == ("pdf" if kind == "pdf" else f.kind)
    COUNTS[kind]["inputs"] += 1


def test_fuzz_pdf_reader(pdf_seeds, tmp_path):
    path = tmp_path / "m.pdf"

    @fuzz_settings(N_PDF)
    @given(st.data())
    def run(data):
        mutant = data.draw(pdf_mutation(pdf_seeds), label="mutant")
        path.write_bytes(mutant)
        try:
            check_read(path, "pdf")
        except BaseException:
            (tmp_path / "failing.pdf").write_bytes(mutant)
            print(f"failing input kept as {tmp_path / 'failing.pdf'}", file=sys.stderr)
            raise

    run()


def test_fuzz_text_reader(tmp_path):
    path = tmp_path / "m.txt"
    texts = st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass"))
    raw = st.binary(max_size=300)
    bom = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"%PDF-1.4\n"])

    @fuzz_settings(N_TEXT)
    @given(bom, texts | raw)
    def run(prefix, body):
        path.write_bytes(prefix + body)
        check_read(path, "text")

    run()


# --- hostile sources that mutation would rarely reach --------------------------------------


def test_multi_gigabyte_file_is_skipped_by_size_without_reading(tmp_path):
    big = tmp_path / "tree" / "huge.log"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(3 * 2**30)  # sparse: 3 GiB on paper, nothing on disk
    (big.parent / "ok.txt").write_text("fine\n")
    big_pdf = big.parent / "huge.pdf"
    with open(big_pdf, "wb") as f:
        f.truncate(3 * 2**30)
    with time_limit("text", 5.0):
        got = sources.collect([big.parent])
    assert [f.path for f in got.files] == ["ok.txt"]
    assert {s.path: s.reason for s in got.skipped} == {
        "huge.log": "larger than 2.0 MB cap",
        "huge.pdf": "larger than 64.0 MB PDF cap",
    }


def test_pdfs_have_their_own_larger_cap(tmp_path):
    pdf = write_pdf(tmp_path / "doc.pdf", ["a PDF above the text cap"])
    renamed = tmp_path / "doc.bin"  # a PDF by its magic bytes gets the PDF cap too
    renamed.write_bytes(pdf.read_bytes())
    text = tmp_path / "notes.txt"
    text.write_text("x" * pdf.stat().st_size)
    (tmp_path / "small.txt").write_text("x")
    cap = pdf.stat().st_size - 1
    got = sources.collect([tmp_path], max_file_bytes=cap)
    assert sorted(f.path for f in got.files) == ["doc.bin", "doc.pdf", "small.txt"]
    assert {s.path: s.reason for s in got.skipped} == {"notes.txt": f"larger than {cap} bytes cap"}
    got = sources.collect([tmp_path], max_file_bytes=cap, max_pdf_bytes=cap)
    assert {s.path: s.reason for s in got.skipped} == {
        "doc.bin": f"larger than {cap} bytes PDF cap",
        "doc.pdf": f"larger than {cap} bytes PDF cap",
        "notes.txt": f"larger than {cap} bytes cap",
    }


def test_ingest_help_names_both_caps(ttt_home):
    result = run_cli(ttt_home, "ingest", "--help", timeout=60)
    assert "--max-file-bytes" in result.stdout and "--max-pdf-bytes" in result.stdout


def test_pdf_decompression_bomb_is_a_clear_skip(tmp_path):
    """A 300 MB page content stream compressed to ~300 kB: pypdf's 75 MB limit stops it and
    the skip says so, quickly, with memory bounded."""
    import zlib

    from pdfs import _pdf_bytes

    body = b"BT /F1 12 Tf 72 720 Td (" + b"A" * 300_000_000 + b") Tj ET"
    compressed = zlib.compress(body, 9)
    del body
    raw = _pdf_bytes([b"X"]).replace(
        b"<< /Length 1 >>\nstream\nX\nendstream",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed) + compressed + b"\nendstream",
    )
    bomb = tmp_path / "tree" / "bomb.pdf"
    bomb.parent.mkdir()
    bomb.write_bytes(raw)
    (bomb.parent / "ok.txt").write_text("fine\n")
    with time_limit("pdf"):
        got = sources.collect([bomb.parent])
    [skip] = got.skipped
    assert skip.path == "bomb.pdf" and "no extractable text" in skip.reason and "decompress" in skip.reason, skip.reason


def test_lone_surrogates_in_pdf_text_become_replacement_characters(tmp_path, monkeypatch):
    from pypdf import PageObject

    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: "bad \ud800 text")
    got = sources.collect([write_pdf(tmp_path / "s.pdf", ["x"])]).files[0]
    assert got.text == "[page 1]\nbad \ufffd text\n"


def test_unreadable_mem_is_a_snapshot_error(ttt_home, tmp_path):
    """Through the CLI: a FIFO given to info neither blocks nor crashes."""
    fifo = tmp_path / "pipe.mem"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "ttt_read", "info", str(fifo)],
        env=cli_env(ttt_home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == ExitCode.SNAPSHOT and "not a regular file" in result.stderr, result.stderr
