"""The command line itself, fuzzed: every command and every option, with hostile values.

Each example is one `ttt-read` invocation run in-process (`cli.main(argv)`, as the entry
point runs it) with stdout and stderr as strict UTF-8 streams, like a terminal's. Commands
and options are read from the CLI's own command tree, so a new command or option is fuzzed
without a change here. Values are drawn by the option's declared type: numbers (nan, inf,
negatives, huge, malformed), text (empty, control characters, surrogates from bytes that are
not UTF-8, 100,000 characters), paths (missing, directories, FIFOs, devices, odd names,
broken and version-1 snapshots, a broken checkpoint) and the environment (TTT_READ_HOME
missing, a file, or holding a garbage config.toml; TTT_READ_MODEL unknown or broken).

Every invocation must end with a documented exit code (errors.ExitCode) and never with an
exception escaping `main` (a traceback) or a hang (each runs under an alarm). Expensive
commands get small defaults first on the command line (`-n 2`, `--lengths 64`, ...), which
drawn options may override, so thousands of invocations stay cheap; the model is loaded
once per checkpoint and reused.

CI runs a short derandomized pass. The long run (its counts go to the report file):

    TTT_READ_FUZZ_ARGV=5000 TTT_READ_FUZZ_REPORT=argv-fuzz.json \\
      nice python -m pytest tests/test_argv_fuzz.py -q -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import signal
import sys
import time
import typing
from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS, cli_commands
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ttt_read import cli
from ttt_read.core.errors import ExitCode
from ttt_read.read import checkpoint, snapshot

N_ARGV = int(os.environ.get("TTT_READ_FUZZ_ARGV", 60))
LONG_RUN = "TTT_READ_FUZZ_ARGV" in os.environ
LIMIT_S = 120.0  # far above any cheap invocation: only a hang reaches it
DOCUMENTED = {int(code) for code in ExitCode}
COUNTS: Counter = Counter()
SLOWEST = {"seconds": 0.0, "argv": None}

# Small first, so a drawn option can still override them: thousands of runs stay cheap.
CHEAP_DEFAULTS = {
    "ask": ["-n", "2"],
    "continue": ["-n", "2"],
    "diff": ["-n", "2"],
    "eval": ["--max-tokens", "256"],
    "eval-qa": ["-n", "1", "--max-tokens", "2"],
    "bench": ["--lengths", "64", "--decode-tokens", "2", "--no-baselines"],
    "train corpus": ["--vocab", "300"],
    "train run": ["--steps", "1", "--seq-len", "16", "--batch", "1"],
}
NUMBERS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "-0.0",
    "1",
    "2",
    "0.5",
    "3.5",
    "1e308",
    "1e-320",
    "-1e308",
    "9223372036854775808",
    "1" + "0" * 30,
    "0x10",
    "1_0",
    " 3",
    "",
    "abc",
    "1,2",
    "٣",
]
TEXTS = [
    "",
    " ",
    "x",
    "What does ingest do?",
    "def ",
    "-",
    "--",
    "-n",
    "--help",
    "a\nb",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\udcff\udcfe",
    "caf\udce9",
    "\ud800",
    "x" * 100_000,
    "%s{}",
    "[1]",
    '{"d_model": 1}',
    "{}",
    "default",
    "auto",
    "cpu",
    "cuda",
    "pretrain",
    "meta",
    "*.py",
    "**",
    "\x00",
    "named",
    "new-name",
    "a.mem",
]


COMMANDS = cli_commands()


# --- the world the invocations see ---------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory, sample_mem) -> dict:
    """Files, snapshots, homes and checkpoints to draw from, made once."""
    root = tmp_path_factory.mktemp("argv")
    files = root / "files"
    (files / "tree").mkdir(parents=True)
    (files / "tree" / "a.py").write_text("def a():\n    return 1\n")
    (files / "tree" / "b.md").write_text("# B\n\nbee\n")
    (files / "empty-dir").mkdir()
    (files / "small.py").write_text((CORPUS / "iterators.py").read_text()[:400])
    (files / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (files / "-dash.py").write_text("x = 1\n")
    odd = files / "odd \udcff\nname.py"
    odd.write_text("y = 2\n")
    os.mkfifo(files / "fifo")
    (files / "loop").symlink_to(files / "loop")

    mems = root / "mems"
    mems.mkdir()
    good = mems / "good.mem"
    shutil.copyfile(sample_mem, good)
    raw = good.read_bytes()
    (mems / "truncated.mem").write_bytes(raw[: len(raw) // 2])
    flipped = bytearray(raw)
    flipped[-3] ^= 0xFF
    (mems / "flipped.mem").write_bytes(bytes(flipped))
    (mems / "empty.mem").write_bytes(b"")
    loaded = snapshot.load(good)
    original = snapshot.VERSION
    snapshot.VERSION = 1  # a snapshot an older ttt-read wrote
    try:
        (mems / "v1.mem").write_bytes(snapshot.encode(loaded.metadata, loaded.fast, loaded.tail_tokens, loaded.notepad))
    finally:
        snapshot.VERSION = original

    models = root / "models"
    bundled = checkpoint.resolve(checkpoint.DEFAULT_MODEL).path
    truncated_model = models / "truncated-shard"
    shutil.copytree(bundled, truncated_model)
    shard = sorted(truncated_model.glob("model-*.safetensors"))[0]
    shard.write_bytes(shard.read_bytes()[:1000])
    wrong_shape = models / "wrong-shape"
    shutil.copytree(bundled, wrong_shape)
    cfg = json.loads((wrong_shape / "config.json").read_text())
    (wrong_shape / "config.json").write_text(json.dumps({**cfg, "mlp_hidden": cfg["mlp_hidden"] + 8}))

    homes = root / "homes"
    good_home = homes / "good"
    (good_home / "data" / "snapshots").mkdir(parents=True)
    shutil.copyfile(sample_mem, good_home / "data" / "snapshots" / "named.mem")
    garbage_home = homes / "garbage-config"
    (garbage_home / "config").mkdir(parents=True)
    (garbage_home / "config" / "config.toml").write_bytes(b"model = [\xff\n[reading]\nlr = 'fast'\n")
    typed_home = homes / "bad-values"
    (typed_home / "config").mkdir(parents=True)
    (typed_home / "config" / "config.toml").write_text('device = "tpu"\n[reading]\nchunk = -1\n')
    file_home = homes / "a-file"
    file_home.write_text("not a directory")
    outputs = root / "out"
    outputs.mkdir()
    existing = outputs / "existing.mem"
    shutil.copyfile(sample_mem, existing)
    cwd = os.getcwd()
    os.chdir(files)  # "" and "." are the small files, never the repository
    yield {
        "root": root,
        "paths": [
            files / "small.py",
            files / "tree",
            files / "empty-dir",
            files / "binary.bin",
            files / "-dash.py",
            odd,
            files / "fifo",
            files / "loop",
            root / "missing",
            Path("/dev/null"),
            Path("/dev/zero"),
            "",
        ],
        "mems": [
            good,
            mems / "truncated.mem",
            mems / "flipped.mem",
            mems / "empty.mem",
            mems / "v1.mem",
            "named",
            "no-such-name",
            files / "fifo",
            files / "tree",
            root / "missing.mem",
            Path("/dev/null"),
        ],
        "outputs": [
            outputs,
            existing,
            Path("/dev/null"),
            Path("/proc/x.mem"),
            root / "no-dir" / "x.mem",
            files / "fifo",
        ],
        "fresh_outputs": outputs,
        "models": [
            "default",
            "no-such-model",
            str(truncated_model),
            str(wrong_shape),
            str(files / "tree"),
            "~nobody-here/x",
            "",
        ],
        "homes": [good_home, garbage_home, typed_home, file_home, homes / "missing", Path("/proc/ttt-read")],
    }
    os.chdir(cwd)


@pytest.fixture(scope="module", autouse=True)
def one_load_per_checkpoint():
    """The bundled model loaded once and shared (it is frozen: nothing writes to it)."""
    real = checkpoint.load
    cached = functools.lru_cache(maxsize=4)(
        lambda path, device: real(checkpoint.CheckpointInfo(path.name, path, False), device)
    )

    def load(info, device="cpu", dtype=None):
        return real(info, device, dtype) if dtype is not None else cached(info.path, str(device))

    checkpoint.load = load
    yield
    checkpoint.load = real


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    target = os.environ.get("TTT_READ_FUZZ_REPORT")
    if target:
        Path(target).write_text(
            json.dumps({"invocations": sum(COUNTS.values()), "exit_codes": dict(COUNTS), "slowest": SLOWEST}, indent=2)
        )


# --- drawing a command line ----------------------------------------------------------------


def _kind(param) -> tuple[str, bool]:
    """What a parameter takes ("flag", "number", "path", "mem", "output", "model", "text")
    and whether it repeats."""
    annotation = param.type_descriptor.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    inner = args[0] if args else annotation
    repeated = typing.get_origin(inner) is list or typing.get_origin(annotation) is list
    if repeated:
        inner = typing.get_args(inner)[0] if typing.get_origin(inner) is list else args[0]
    name = param.name
    if inner is bool:
        return "flag", False
    if inner in (int, float):
        return "number", repeated
    if getattr(param, "metavar", None) in ("MEM", "OLD.mem") or name in ("mem", "old", "new", "update"):
        return "mem", repeated
    if name in ("output", "run_dir"):
        return "output", repeated
    if name in ("model", "init", "baseline"):
        return "model", repeated
    if inner is Path:
        return "path", repeated
    return "text", repeated


@st.composite
def value(draw, kind: str, world: dict):
    if kind == "number":
        return draw(st.sampled_from(NUMBERS))
    if kind == "text":
        return draw(st.one_of(st.sampled_from(TEXTS), st.text(max_size=12)))
    if kind == "path":
        return str(draw(st.sampled_from(world["paths"])))
    if kind == "mem":
        return str(draw(st.sampled_from(world["mems"])))
    if kind == "model":
        return draw(st.sampled_from(world["models"]))
    if kind == "output":
        fresh = str(world["fresh_outputs"] / f"{draw(st.integers(0, 10**9))}.mem")
        return draw(st.one_of(st.just(fresh), st.sampled_from([str(p) for p in world["outputs"]])))
    raise ValueError(kind)


@st.composite
def invocation(draw, world: dict) -> tuple[list[str], dict]:
    """(argv, environment changes) for one run."""
    name = draw(st.sampled_from(sorted(COMMANDS)))
    command = COMMANDS[name]
    argv = name.split()
    options = []
    for param in command.params:
        kind, repeated = _kind(param)
        if param.param_type_name == "argument":
            count = draw(st.integers(0, 3)) if repeated else draw(st.sampled_from([1, 1, 1, 1, 0]))
            argv += [draw(value(kind, world)) for _ in range(count)]
        elif draw(st.integers(0, 3)) == 0:  # a few options at a time, so some lines get past validation
            flag = draw(st.sampled_from(param.opts))
            options += [flag] if kind == "flag" else [flag, draw(value(kind, world))]
            if repeated and draw(st.booleans()):
                options += [flag, draw(value(kind, world))]
    argv += CHEAP_DEFAULTS.get(name, []) + options
    if draw(st.integers(0, 9)) == 0:  # now and then a stray token
        argv.insert(
            draw(st.integers(0, len(argv))), draw(st.sampled_from(["--no-such-option", "extra", "-h", "--", "-"]))
        )
    env = {
        "TTT_READ_HOME": str(draw(st.sampled_from(world["homes"]))),
        "TTT_READ_MODEL": draw(
            st.sampled_from([None, None, None, "default", "no-such-model", str(world["models"][2])])
        ),
    }
    return argv, env


# --- running one -------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` swallows it."""


@contextlib.contextmanager
def environment(changes: dict):
    saved = {k: os.environ.get(k) for k in changes}
    for key, new in changes.items():
        if new is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = new
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_main(argv: list[str], env: dict) -> tuple[int, str]:
    """Exit code and stderr of `ttt-read ARGV` in-process; an exception out of main fails."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")

    def alarm(signum, frame):
        raise Hang(f"ran past {LIMIT_S} s: {argv!r}")

    previous = signal.signal(signal.SIGALRM, alarm)
    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        with environment(env), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                cli.main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else -1)
            finally:
                stdout.flush()
                stderr.flush()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - started
    if seconds > SLOWEST["seconds"]:
        SLOWEST.update(seconds=round(seconds, 2), argv=[a[:60] for a in argv])
    return code, stderr.buffer.getvalue().decode("utf-8")


@pytest.mark.skipif(os.geteuid() != 0 and sys.platform == "darwin", reason="FIFOs and /proc as on Linux")
def test_every_command_line_ends_in_a_documented_exit_code(world):
    @settings(
        max_examples=N_ARGV,
        deadline=None,  # the alarm is the limit; hypothesis' deadline would flake on a loaded machine
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(invocation(world))
    def one(drawn):
        argv, env = drawn
        code, stderr = run_main(argv, env)
        COUNTS[code] += 1
        assert "Traceback" not in stderr, (argv, env, stderr)
        assert code in DOCUMENTED, f"exit {code} is not documented: {argv!r} {env} {stderr}"

    one()
    print(
        f"\nargv fuzz: {sum(COUNTS.values())} invocations, exit codes {dict(sorted(COUNTS.items()))}, slowest {SLOWEST}"
    )


# --- the command lines a user reported ------------------------------------------------------


@pytest.mark.parametrize(
    "args, named",
    [
        (["continue", "MEM", "x", "--temperature", "nan"], "--temperature"),
        (["continue", "MEM", "x", "--temperature", "-1"], "--temperature"),
        (["continue", "MEM", "x", "--top-p", "7"], "--top-p"),
        (["continue", "MEM", "x", "--top-p", "0"], "--top-p"),
        (["continue", "MEM", ""], "prompt"),
        (["ask", "MEM", "  "], "question"),
        (["ingest", "x", "-o", "y.mem", "--lr", "inf"], "--lr"),
        (["ingest", "x", "-o", "y.mem", "--chunk", "0"], "--chunk"),
        (["bench", "--lengths", "8,0"], "--lengths"),
        (["train", "run", "r", "--model-config", "[1]"], "--model-config"),
        (["ask", "MEM", "q", "--device", "tpu"], "--device"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_argument(world, args, named):
    argv = [str(world["mems"][0]) if a == "MEM" else a for a in args]
    code, stderr = run_main(argv, {"TTT_READ_HOME": str(world["homes"][0])})
    assert code == ExitCode.USAGE and len(stderr.splitlines()) == 1 and named in stderr, stderr


@pytest.mark.parametrize("text", ["\udcff\udcfe", "caf\udce9"], ids=["ask-ff-fe", "cafe-latin1"])
@pytest.mark.parametrize("command", ["ask", "continue"])
def test_text_that_is_not_utf8_is_decoded_with_a_note(world, command, text):
    code, stderr = run_main(
        [command, str(world["mems"][0]), text, "-n", "2"], {"TTT_READ_HOME": str(world["homes"][0])}
    )
    assert code == ExitCode.OK, stderr
    argument = "QUESTION" if command == "ask" else "PROMPT"
    assert f"{argument} is not valid UTF-8; undecodable bytes were replaced with U+FFFD" in stderr


@pytest.mark.parametrize("model", ["truncated-shard", "wrong-shape"])
def test_a_broken_checkpoint_is_exit_6(world, model):
    path = next(m for m in world["models"] if m.endswith(model))
    code, stderr = run_main(
        ["eval", str(world["paths"][0]), "--max-tokens", "64", "--model", path],
        {"TTT_READ_HOME": str(world["homes"][0])},
    )
    assert code == ExitCode.MODEL and "broken checkpoint" in stderr and len(stderr.splitlines()) == 1, stderr


def test_version_and_help_on_every_command(world):
    code, _ = run_main(["--version"], {})
    assert code == 0
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        with pytest.raises(SystemExit):
            cli.main(["--version", "--json"])
    report = json.loads(stdout.getvalue())
    default = checkpoint.resolve(checkpoint.DEFAULT_MODEL)
    assert report["checkpoint"] == {"name": default.name, "path": str(default.path), "sha256": default.sha256()}
    for name in COMMANDS:
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as exit_info:
            cli.main([*name.split(), "-h"])
        assert exit_info.value.code == 0 and shown.getvalue().startswith(f"Usage: ttt-read {name} "), name
