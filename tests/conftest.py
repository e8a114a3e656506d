"""Shared fixtures: the real bundled checkpoint, frozen third-party text (tests/fixtures/),
and the CLI run as a user runs it (a subprocess, or in-process, with its own TTT_READ_HOME).

Nothing here mocks the model. Sizes (window, chunk, layers) are read from the checkpoint's
config, so the tests hold for any checkpoint of this architecture.

The tests import the installed package, never the repository root: `python -m pytest` puts
the working directory first on sys.path, where the top-level folders that ship inside the
package (ttt_kernels/, models/, completions/) would hide installed distributions of the same
name; the root is taken off the path here, and the CLI's subprocesses start with
PYTHONSAFEPATH. The whole run, in-process and in subprocesses, sees a TTT_READ_HOME of its
own and no TTT_READ_MODEL: nothing of a user's config, snapshots, models or caches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
# Code and prose from the standard library's `email` package, frozen (see fixtures/README.md).
CORPUS = FIXTURES / "email"
# A few of its files: enough to exercise every command, small enough to be quick.
SAMPLE_FILES = ("errors.py", "iterators.py", "parser.py")
# Two versions of one small tree: three files edited by different amounts, one added, one removed.
DIFF_V1, DIFF_V2 = FIXTURES / "diff" / "v1", FIXTURES / "diff" / "v2"


# --- the run's imports and environment -------------------------------------------------------


def is_repository_root(entry: str) -> bool:
    """Whether a sys.path entry ('' is the working directory) is the repository root."""
    return os.path.realpath(entry or os.curdir) == str(REPO)


sys.path[:] = [entry for entry in sys.path if not is_repository_root(entry)]

# What the whole run sees in os.environ (and passes on to every subprocess); None: unset.
ISOLATED_ENVIRONMENT = {
    "TTT_READ_MODEL": None,  # a model named in the caller's shell
    "PYTHONSAFEPATH": "1",  # `python -m ttt_read` from the repository root imports the installed package
}

_ISOLATION = pytest.StashKey[tuple]()


def kernels_interpreted() -> bool:
    """Whether the kernel tests' CPU cases run, under Triton's interpreter: the default
    without a GPU; with one, only when the caller set TRITON_INTERPRET=1."""
    import torch

    return os.environ.get("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1") == "1"


def import_triton_interpretable() -> None:
    """Triton decides when it is first imported whether its own language library (`tl.sum`,
    `tl.cdiv`, ...) runs in the interpreter, and anything in the run may import it first
    (loading a `transformers` model does). So it is imported here, before collection, under
    TRITON_INTERPRET=1; the variable itself is set again only inside the tests that run kernels."""
    if "triton" in sys.modules or not kernels_interpreted():
        return
    patch = pytest.MonkeyPatch()
    patch.setenv("TRITON_INTERPRET", "1")
    try:
        import triton.language  # noqa: F401
    except ImportError:  # no Triton: the kernel tests skip
        pass
    finally:
        patch.undo()


def pytest_configure(config):
    """Before collection: a TTT_READ_HOME of the run's own (config, data, caches), the
    variables above, undone when the run ends."""
    home = Path(tempfile.mkdtemp(prefix="ttt-read-tests-"))
    patch = pytest.MonkeyPatch()
    patch.setenv("TTT_READ_HOME", str(home / "home"))
    for name, value in ISOLATED_ENVIRONMENT.items():
        if value is None:
            patch.delenv(name, raising=False)
        else:
            patch.setenv(name, value)
    config.stash[_ISOLATION] = patch, home
    import_triton_interpretable()


def pytest_unconfigure(config):
    if _ISOLATION in config.stash:
        patch, home = config.stash[_ISOLATION]
        patch.undo()
        shutil.rmtree(home, ignore_errors=True)


# --- the model and real text ---------------------------------------------------------------


@pytest.fixture(scope="session")
def checkpoint_info():
    from ttt_read.read import checkpoint

    return checkpoint.resolve(checkpoint.DEFAULT_MODEL)


@pytest.fixture(scope="session")
def model_and_tokenizer(checkpoint_info):
    """The bundled checkpoint on CPU in fp32, loaded once for the whole run."""
    from ttt_read.read import checkpoint

    return checkpoint.load(checkpoint_info, "cpu")


@pytest.fixture(scope="session")
def model(model_and_tokenizer):
    return model_and_tokenizer[0]


@pytest.fixture(scope="session")
def code_tokens(model_and_tokenizer) -> list[int]:
    """The fixture corpus as `ingest` tokenizes it (file headers and all)."""
    from ttt_read.read import ingest as engine
    from ttt_read.text import sources

    _, tokenizer = model_and_tokenizer
    ids, _ = engine.tokenize(tokenizer, sources.collect([CORPUS]))
    return ids


def take(tokens: list[int], n: int, start: int = 0) -> list[int]:
    """`n` tokens of real text; fails loudly rather than repeating text if there is too little."""
    assert len(tokens) >= start + n, f"need {start + n} tokens of text, the corpus gives {len(tokens)}"
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


def ingest_interrupted_while_reading(home: Path, path: Path, out: Path) -> subprocess.CompletedProcess:
    """A real `ttt-read ingest PATH -o OUT` sent SIGINT while it reads (the `reading`
    interrupt point), as a user's Ctrl-C would be."""
    from ttt_read.core.interrupts import TEST_VARIABLE

    return subprocess.run(
        cli_command("ingest", path, "-o", out),
        env=cli_env(home) | {TEST_VARIABLE: "reading"},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_sigint,
    )


def cli_commands() -> dict[str, object]:
    """Every leaf command of the CLI by its full name ("train run"), from the command tree."""
    import typer

    from ttt_read.cli.app import app

    found = {}

    def walk(command, prefix):
        for name, sub in getattr(command, "commands", {}).items():
            if hasattr(sub, "commands"):
                walk(sub, f"{prefix}{name} ")
            else:
                found[prefix + name] = sub

    walk(typer.main.get_command(app), "")
    return found


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


def run_cli_reporting_torch(
    home: Path, *args, extra_env: dict | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the CLI in-process in a fresh interpreter; the report says its exit code and
    whether torch ended up imported (help, info and completion must stay instant)."""
    result = subprocess.run(
        [sys.executable, "-c", _TORCH_REPORTING_DRIVER, *map(str, args)],
        env=cli_env(home) | (extra_env or {}),
        capture_output=True,
        text=True,
        timeout=60,
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
    return one_line(result.stderr, *fragments)


def one_line(stderr: str, *fragments: str) -> str:
    """The only non-blank line of `stderr`, which must contain every fragment."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {lines}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="session")
def sample_mem(ttt_home, tmp_path_factory) -> Path:
    """A .mem of the corpus's SAMPLE_FILES, made once with `ttt-read ingest`."""
    out = tmp_path_factory.mktemp("sample") / "sample.mem"
    includes = [arg for name in SAMPLE_FILES for arg in ("--include", name)]
    assert_ok(run_cli(ttt_home, "ingest", CORPUS, *includes, "-o", out))
    return out


# --- in-process runs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread while a module runs: the tiny model gains nothing from two, and on a
    busy machine two threads waiting for each other make reading many times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A TTT_READ_HOME of its own, for this process and for the CLI runs of the test, and no
    TTT_READ_MODEL from the caller's shell."""
    path = tmp_path / "home"
    monkeypatch.setenv("TTT_READ_HOME", str(path))
    monkeypatch.delenv("TTT_READ_MODEL", raising=False)
    return path


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tree_state(root: Path) -> dict[str, tuple]:
    """Everything observable about a tree: each entry's kind, mode, size, mtime and content hash."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            state[str(path.relative_to(root))] = (
                stat.S_IFMT(st.st_mode),
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                digest,
            )
    return state


def ingest(paths, out: Path, model: str | None = None) -> Path:
    """`ttt-read ingest PATHS -o OUT` through the engine, on the CPU."""
    from ttt_read.read import checkpoint
    from ttt_read.read import ingest as engine

    engine.ingest([Path(p) for p in paths], out, model or checkpoint.DEFAULT_MODEL, "cpu")
    return out


def run_in_process(capsys, *args) -> tuple[int, str, str]:
    """`ttt-read ARGS...` through `cli.main` in this process: (exit code, stdout, stderr)."""
    from ttt_read.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return int(exit_info.value.code or 0), out, err
