"""`ttt-read` end to end, run as a user runs it: a subprocess, real files, the real checkpoint.

Every bad input ends in its documented exit code and one line on stderr naming the file and
the cause, with no traceback and no output file (not even a temp file) left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import (
    CORPUS,
    SAMPLE_FILES,
    assert_ok,
    assert_one_error_line,
    cli_command,
    cli_env,
    ingest_interrupted_while_reading,
    run_cli,
    run_cli_reporting_torch,
)
from pdfs import write_pdf, write_scanned_pdf, write_truncated_pdf

from ttt_read.core.errors import ExitCode


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An empty directory for outputs, so a test can see that nothing at all was written."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def info_json(home: Path, mem: Path) -> dict:
    result = run_cli(home, "info", mem, "--json")
    assert_ok(result)
    return json.loads(result.stdout)


# --- the happy path ------------------------------------------------------------------------


def test_ingest_records_what_it_read(ttt_home, sample_mem, checkpoint_info):
    info, cfg = info_json(ttt_home, sample_mem), checkpoint_info.config

    assert [e["path"] for e in info["manifest"]] == sorted(SAMPLE_FILES)
    for entry in info["manifest"]:
        assert entry["tokens"] > 0 and entry["bytes"] == (CORPUS / entry["path"]).stat().st_size
    assert info["tokens"] == 1 + sum(e["tokens"] for e in info["manifest"])  # plus the opening end-of-text
    assert info["base"] == {"name": checkpoint_info.name, "sha256": checkpoint_info.sha256()}
    assert info["reading"]["lr"] == cfg.inner_lr and info["reading"]["chunk"] == cfg.chunk
    assert len(info["chunk_losses"]) == -(-(info["tokens"] - 1) // cfg.chunk)
    assert info["format"] == "ttt-read.mem" and info["path"] == str(sample_mem)


def test_info_prints_a_summary(ttt_home, sample_mem):
    result = run_cli(ttt_home, "info", sample_mem)
    assert_ok(result)
    assert f"{len(SAMPLE_FILES)} read, 0 skipped" in result.stdout
    assert "base model" in result.stdout and "default" in result.stdout


def test_continue_starts_with_the_prompt_and_is_reproducible(ttt_home, sample_mem):
    runs = [run_cli(ttt_home, "continue", sample_mem, "def ", "-n", "8", "--seed", "1") for _ in range(2)]
    for result in runs:
        assert_ok(result)
        assert result.stdout.startswith("def ")
    assert runs[0].stdout == runs[1].stdout


def test_ask_answers_with_the_defining_file(ttt_home, sample_mem):
    result = run_cli(ttt_home, "ask", sample_mem, "Where is `body_line_iterator` defined?")
    assert_ok(result)
    assert result.stdout.splitlines()[0] == "iterators.py"


def test_a_checkpoint_given_by_path_answers_with_its_own_span_head(ttt_home, checkpoint_info, tmp_path):
    """The snapshot's base `mine` is in no registry: `ingest --model PATH` must be enough, and
    `ask` finds the checkpoint again (the span head included) with or without `--model`."""
    mine = tmp_path / "mine"
    shutil.copytree(checkpoint_info.path, mine)
    out = tmp_path / "mine.mem"
    assert_ok(
        run_cli(
            ttt_home, "ingest", CORPUS, *[a for n in SAMPLE_FILES for a in ("--include", n)], "-o", out, "--model", mine
        )
    )
    for model in (("--model", mine), ()):
        result = run_cli(ttt_home, "ask", out, "Where is `body_line_iterator` defined?", *model, "--json")
        assert_ok(result)
        assert "span head" not in result.stderr
        assert json.loads(result.stdout)["answer"] == "iterators.py"


def test_models_lists_the_bundled_checkpoint(ttt_home, checkpoint_info):
    result = run_cli(ttt_home, "models", "--json")
    assert_ok(result)
    models = {m["name"]: m for m in json.loads(result.stdout)["models"]}
    assert models["default"]["bundled"] is True
    assert Path(models["default"]["path"]) == checkpoint_info.path


def test_one_binary_file_in_a_directory_is_skipped_not_fatal(ttt_home, tmp_path, out_dir):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "blob.bin").write_bytes(b"\x7fELF\x00\x01\x02" * 64)
    (tree / "good.py").write_text("def hello():\n    return 'world'\n")
    out = out_dir / "tree.mem"

    result = run_cli(ttt_home, "ingest", tree, "-o", out)

    assert_ok(result)
    assert any(line.startswith("skipped blob.bin") and "binary" in line for line in result.stderr.splitlines())
    manifest = info_json(ttt_home, out)["manifest"]
    assert [e["path"] for e in manifest if "skipped" not in e] == ["good.py"]
    assert [e["path"] for e in manifest if "skipped" in e] == ["blob.bin"]


def run_on_terminal(home: Path, *args, timeout: float = 300) -> tuple[int, str]:
    """Run `ttt-read ARGS...` with stderr on a pseudo-terminal, as in an interactive shell."""
    import pty
    import select

    master, slave = pty.openpty()
    process = subprocess.Popen(
        cli_command(*args), env=cli_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    received, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the command closed the terminal
                    break
                if not data:
                    break
                received += data
        return process.wait(timeout=max(deadline - time.monotonic(), 1)), received.decode(errors="replace")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()


def test_ingest_on_a_terminal_shows_progress_and_succeeds(ttt_home, out_dir):
    """With stderr on a terminal the progress bar is drawn; it must not break the command."""
    out = out_dir / "tty.mem"
    code, stderr = run_on_terminal(ttt_home, "ingest", CORPUS / "errors.py", "-o", out)
    assert "Traceback" not in stderr, stderr
    assert code == 0 and out.is_file(), stderr
    assert "read 1 files" in stderr


# --- bad input -----------------------------------------------------------------------------


def make_input(kind: str, root: Path) -> tuple[Path, str]:
    """A bad input to ingest and a word its error line must give as the cause."""
    if kind == "missing":
        return root / "no-such-dir", "no such file"
    if kind == "empty-directory":
        (root / "empty").mkdir()
        return root / "empty", "empty"
    if kind == "encrypted-pdf":
        return write_pdf(root / "locked.pdf", ["secret text"], encrypt_password="pw"), "encrypted"
    if kind == "scanned-pdf":
        return write_scanned_pdf(root / "scan.pdf"), "no extractable text"
    if kind == "truncated-pdf":
        return write_truncated_pdf(root / "cut.pdf"), "PDF"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty-directory", "encrypted-pdf", "scanned-pdf", "truncated-pdf"])
def test_unreadable_input_is_one_line_and_writes_nothing(ttt_home, tmp_path, out_dir, kind):
    path, cause = make_input(kind, tmp_path)
    result = run_cli(ttt_home, "ingest", path, "-o", out_dir / "x.mem")
    assert_one_error_line(result, ExitCode.INPUT, str(path), cause)
    assert os.listdir(out_dir) == []


def bad_mem(kind: str, good: Path, root: Path) -> tuple[Path, str]:
    """A .mem that must be refused, and a word its error line must give as the cause."""
    path = root / f"{kind}.mem"
    if kind == "corrupt":
        raw = bytearray(good.read_bytes())
        raw[-3] ^= 0xFF
        path.write_bytes(bytes(raw))
        return path, "checksum"
    if kind == "foreign":
        path.write_bytes(random.Random(0).randbytes(10_000))
        return path, "not a ttt-read snapshot"
    raise ValueError(kind)


@pytest.mark.parametrize("command", ["ask", "info"])
@pytest.mark.parametrize("kind", ["corrupt", "foreign"])
def test_bad_snapshot_is_refused(ttt_home, sample_mem, tmp_path, command, kind):
    path, cause = bad_mem(kind, sample_mem, tmp_path)
    args = [path, "Where is `MessageError` defined?", "-n", "4"] if command == "ask" else [path, "--verify"]
    result = run_cli(ttt_home, command, *args)
    assert_one_error_line(result, ExitCode.SNAPSHOT, str(path), cause)
    assert result.stdout == ""


@pytest.fixture(scope="module")
def other_checkpoint(checkpoint_info, tmp_path_factory) -> Path:
    """The bundled checkpoint with one weight nudged: same shapes, another identity."""
    from safetensors.torch import load_file, save_file

    target = tmp_path_factory.mktemp("models") / "nudged"
    shutil.copytree(checkpoint_info.path, target)
    shard = sorted(target.glob("model-*.safetensors"))[0]
    tensors = load_file(shard)
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] += 0.01
    save_file(tensors, shard)
    return target


def test_snapshot_of_another_base_checkpoint_is_refused(ttt_home, sample_mem, other_checkpoint):
    result = run_cli(
        ttt_home, "ask", sample_mem, "Where is `MessageError` defined?", "-n", "4", "--model", other_checkpoint
    )
    assert_one_error_line(result, ExitCode.SNAPSHOT, str(sample_mem), "base checkpoint")
    assert result.stdout == ""


def test_existing_output_is_not_clobbered(ttt_home, sample_mem, out_dir):
    out = out_dir / "kept.mem"
    shutil.copyfile(sample_mem, out)
    before = out.read_bytes()

    result = run_cli(ttt_home, "ingest", CORPUS / "errors.py", "-o", out)

    assert_one_error_line(result, ExitCode.EXISTS, str(out), "--force")
    assert out.read_bytes() == before
    assert os.listdir(out_dir) == ["kept.mem"]


def test_unknown_option_is_a_usage_error(ttt_home, out_dir):
    result = run_cli(ttt_home, "ingest", CORPUS / "errors.py", "-o", out_dir / "x.mem", "--no-such-option")
    assert_one_error_line(result, ExitCode.USAGE, "--no-such-option")
    assert os.listdir(out_dir) == []


def test_ctrl_c_mid_read_leaves_nothing(ttt_home, out_dir):
    """A real `ttt-read ingest` sent SIGINT while it reads (the `reading` interrupt point)."""
    out = out_dir / "big.mem"
    result = ingest_interrupted_while_reading(ttt_home, CORPUS, out)
    assert_one_error_line(result, ExitCode.INTERRUPTED, "interrupted; nothing was written")
    assert os.listdir(out_dir) == [], "an output or temp file was left behind"


# --- startup stays light -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["info", "MEM"], ["info", "MEM", "--json"]], ids=["help", "info", "info-json"]
)
def test_help_and_info_never_import_torch(ttt_home, sample_mem, args):
    args = [str(sample_mem) if a == "MEM" else a for a in args]
    result, report = run_cli_reporting_torch(ttt_home, *args)
    assert report == {"code": 0, "torch": False}, result.stderr


# --- diff's exit status, as diff(1) --------------------------------------------------------


def test_diff_exits_0_for_identical_snapshots_and_1_for_the_same_sources_read_differently(
    ttt_home, sample_mem, out_dir
):
    copy = out_dir / "copy.mem"
    shutil.copyfile(sample_mem, copy)
    faster = out_dir / "faster.mem"
    includes = [arg for name in SAMPLE_FILES for arg in ("--include", name)]
    assert_ok(run_cli(ttt_home, "ingest", CORPUS, *includes, "--lr", "2", "-o", faster))

    same = run_cli(ttt_home, "diff", sample_mem, copy, "--no-knowledge", "--json")
    differ = run_cli(ttt_home, "diff", sample_mem, faster, "--no-knowledge", "--json")

    assert same.returncode == ExitCode.OK, same.stderr
    assert differ.returncode == ExitCode.DIFFERENT, differ.stderr
    report = json.loads(differ.stdout)
    assert report["identical_sources"] and not report["weights"]["identical"]


def test_arguments_that_are_not_utf8_as_a_latin1_terminal_sends_them(ttt_home, sample_mem):
    """Real argv bytes: the question is decoded with U+FFFD and a note; the path keeps its bytes."""
    result = subprocess.run(
        [*cli_command("continue", sample_mem), b"caf\xe9", "-n", "2"],
        env=cli_env(ttt_home),
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("caf\ufffd".encode())
    assert result.stderr.decode().splitlines() == [
        "ttt-read: note: PROMPT is not valid UTF-8; undecodable bytes were replaced with U+FFFD"
    ]
    missing = run_cli(ttt_home, "info", os.fsdecode(b"/no/such/caf\xe9.mem"))
    assert_one_error_line(missing, ExitCode.SNAPSHOT, "no such snapshot")
