"""Shared fixtures: the real bundled checkpoint, real text from this repository, and the CLI
run as a user runs it (a subprocess with its own TTT_READ_HOME).

Nothing here mocks the model. Sizes (window, chunk, layers) are read from the checkpoint's
config, so the tests hold for the placeholder checkpoint and for the trained one alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "ttt_read"
# A few of the repository's own files: enough to exercise every command, small enough to be quick.
SELF_FILES = ("engine.py", "errors.py", "snapshot.py")


# --- the model and real text ---------------------------------------------------------------


@pytest.fixture(scope="session")
def checkpoint_info():
    from ttt_read import checkpoint

    return checkpoint.resolve(checkpoint.DEFAULT_MODEL)


@pytest.fixture(scope="session")
def model_and_tokenizer(checkpoint_info):
    """The bundled checkpoint on CPU in fp32, loaded once for the whole run."""
    from ttt_read import checkpoint

    return checkpoint.load(checkpoint_info, "cpu")


@pytest.fixture(scope="session")
def model(model_and_tokenizer):
    return model_and_tokenizer[0]


@pytest.fixture(scope="session")
def code_tokens(model_and_tokenizer) -> list[int]:
    """The repository's own sources as `ingest` tokenizes them (file headers and all)."""
    from ttt_read import engine, sources

    _, tokenizer = model_and_tokenizer
    ids, _ = engine.tokenize(tokenizer, sources.collect([SOURCES]))
    return ids


def take(tokens: list[int], n: int, start: int = 0) -> list[int]:
    """`n` tokens of real text; fails loudly rather than repeating text if there is too little."""
    assert len(tokens) >= start + n, f"need {start + n} tokens of text, the sources give {len(tokens)}"
    return tokens[start : start + n]


def as_batch(tokens: list[int]):
    import torch

    return torch.tensor(tokens, dtype=torch.long).view(1, -1)


# --- the command line ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ttt_home(tmp_path_factory) -> Path:
    """TTT_READ_HOME for every CLI run: no test touches the user's real data directory."""
    return tmp_path_factory.mktemp("ttt-home")


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TTT_READ_MODEL"}
    env["TTT_READ_HOME"] = str(home)
    return env


def cli_command(*args, python_flags: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, *python_flags, "-m", "ttt_read", *map(str, args)]


def default_sigint() -> None:
    """preexec_fn for a child that must die of Ctrl-C like a user's: SIGINT at its default
    disposition, whatever the suite inherited (a shell running `pytest &` ignores it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(home: Path, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `ttt-read ARGS...` as a user would; stdout and stderr captured as text."""
    return subprocess.run(
        cli_command(*args), env=cli_env(home), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


_TORCH_REPORTING_DRIVER = """
import json, sys
from ttt_read.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules}), file=sys.stderr)
"""


def run_cli_reporting_torch(home: Path, *args, extra_env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the CLI in-process in a fresh interpreter; the report says its exit code and
    whether torch ended up imported (help, info and completion must stay instant)."""
    result = subprocess.run(
        [sys.executable, "-c", _TORCH_REPORTING_DRIVER, *map(str, args)],
        env=cli_env(home) | (extra_env or {}), capture_output=True, text=True, timeout=60,
    )
    return result, json.loads(result.stderr.strip().splitlines()[-1])


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr


def assert_one_error_line(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The failure contract: the documented exit code, no traceback, exactly one line on
    stderr that contains every fragment (the file it is about and the cause). Returns it."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, f"exit {result.returncode}, expected {code}; stderr: {result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {lines}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="session")
def self_mem(ttt_home, tmp_path_factory) -> Path:
    """A .mem of a few of the repository's own files, made once with `ttt-read ingest`."""
    out = tmp_path_factory.mktemp("self") / "self.mem"
    includes = [arg for name in SELF_FILES for arg in ("--include", name)]
    assert_ok(run_cli(ttt_home, "ingest", SOURCES, *includes, "-o", out))
    return out
