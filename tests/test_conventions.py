"""Output conventions every command keeps: `--json` with a `schema_version` that strict
parsers accept, data on stdout and talk on stderr, NO_COLOR, and exit codes that are exactly
the ones `ttt-read help exit-codes` (and the README) document."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, REPO, assert_ok, cli_commands, cli_env, ingest_interrupted_while_reading, run_cli

from ttt_read.core.errors import ExitCode, markdown_table

# Commands whose --json is checked by a run below or in another test (ingest: test_dirs.py);
# train corpus/run/export/span need a corpus and a training run, so only their option is checked
# (train gate: test_ngram.py);
# models import needs a checkpoint to import (test_models_import.py).
NOT_RUN_HERE = {
    "ingest",
    "eval-qa",
    "train corpus",
    "train run",
    "train export",
    "train span",
    "train gate",
    "models import",
}


def strict_json(text: str) -> dict:
    """JSON as strict parsers (jq) read it: no NaN or Infinity."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    payload = json.loads(text, parse_constant=refuse)
    assert payload["schema_version"] == 1
    return payload


def test_every_command_has_json():
    commands = cli_commands()
    missing = [name for name, command in commands.items() if not any("--json" in p.opts for p in command.params)]
    assert missing == [], f"commands without --json: {missing}"
    assert NOT_RUN_HERE <= commands.keys()


@pytest.fixture(scope="module")
def changed_mem(sample_mem, tmp_path_factory) -> Path:
    """sample.mem with one file's recorded hash changed: a valid snapshot with other sources."""
    from ttt_read.read import snapshot

    snap = snapshot.load(sample_mem)
    metadata = json.loads(json.dumps(snap.metadata))
    metadata["manifest"][0]["sha256"] = "0" * 64
    path = tmp_path_factory.mktemp("changed") / "changed.mem"
    snapshot.write_atomic(path, snapshot.encode(metadata, snap.fast, snap.tail_tokens, snap.notepad), force=False)
    return path


def json_runs(sample_mem: Path, changed_mem: Path) -> dict[str, list]:
    return {
        "models list": ["models", "list"],
        "ls": ["ls"],
        "dirs": ["dirs"],
        "completions": ["completions", "bash"],
        "help exit-codes": ["help", "exit-codes"],
        "info": ["info", sample_mem],
        "ask": ["ask", sample_mem, "What does ingest do?", "-n", "2"],
        "continue": ["continue", sample_mem, "def ", "-n", "2"],
        "eval": ["eval", CORPUS / "errors.py", "--max-tokens", "64"],
        "bench": ["bench", "--lengths", "128", "--decode-tokens", "2", "--no-baselines"],
    }


def test_json_output_parses_on_every_command_that_runs_quickly(ttt_home, sample_mem, changed_mem):
    runs = json_runs(sample_mem, changed_mem)
    assert runs.keys() | NOT_RUN_HERE | {"diff"} == cli_commands().keys()  # diff: in the exit-code test
    for name, args in runs.items():
        result = run_cli(ttt_home, *args, "--json")
        assert "Traceback" not in result.stderr, f"{name}: {result.stderr}"
        assert result.returncode in (0, ExitCode.DIFFERENT), f"{name}: exit {result.returncode}: {result.stderr}"
        strict_json(result.stdout)  # nothing but the JSON document on stdout


# --- exit codes ----------------------------------------------------------------------------


def test_help_exit_codes_is_what_the_commands_do(ttt_home, sample_mem, changed_mem, tmp_path):
    table = strict_json(run_cli(ttt_home, "help", "exit-codes", "--json", timeout=60).stdout)["exit_codes"]
    assert [(row["code"], row["meaning"]) for row in table] == [(int(c), c.meaning) for c in ExitCode]
    plain = run_cli(ttt_home, "help", "exit-codes", timeout=60).stdout
    for row in table:
        assert re.search(rf"^\s*{row['code']}\s+{re.escape(row['meaning'])}$", plain, re.M), row

    corrupt = tmp_path / "corrupt.mem"
    corrupt.write_bytes(sample_mem.read_bytes()[:-1])
    existing = tmp_path / "existing.mem"
    shutil.copyfile(sample_mem, existing)
    one_file = CORPUS / "errors.py"
    unwritable = Path("/sys") if os.geteuid() == 0 else tmp_path / "read-only"  # root writes through modes
    if os.geteuid() != 0:
        unwritable.mkdir()
        unwritable.chmod(0o555)
    scenarios = {
        ExitCode.OK: lambda: run_cli(ttt_home, "info", sample_mem),
        ExitCode.DIFFERENT: lambda: run_cli(ttt_home, "diff", sample_mem, changed_mem, "--no-knowledge", "--json"),
        ExitCode.USAGE: lambda: run_cli(ttt_home, "info", sample_mem, "--no-such-option"),
        ExitCode.INPUT: lambda: run_cli(ttt_home, "ingest", tmp_path / "missing", "-o", tmp_path / "x.mem"),
        ExitCode.SNAPSHOT: lambda: run_cli(ttt_home, "info", corrupt),
        ExitCode.EXISTS: lambda: run_cli(ttt_home, "ingest", one_file, "-o", existing),
        ExitCode.MODEL: lambda: run_cli(
            ttt_home, "ingest", one_file, "-o", tmp_path / "y.mem", "--model", "no-such-model"
        ),
        ExitCode.OUTPUT: lambda: run_cli(ttt_home, "ingest", one_file, "-o", unwritable / "x.mem"),
        ExitCode.INTERRUPTED: lambda: ingest_interrupted_while_reading(ttt_home, one_file, tmp_path / "z.mem"),
    }
    assert set(scenarios) == set(ExitCode), (
        "every documented code needs a scenario, and no scenario an undocumented code"
    )
    for code, run in scenarios.items():
        result = run()
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == code, f"{code.name}: exit {result.returncode}; stderr: {result.stderr}"
        if code not in (ExitCode.OK, ExitCode.DIFFERENT):
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        if code == ExitCode.DIFFERENT:
            assert strict_json(result.stdout)["identical_sources"] is False
    assert not (tmp_path / "z.mem").exists() and not (tmp_path / "y.mem").exists()


def test_readme_exit_code_table_matches():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    assert markdown_table() in section, "the README's table is not errors.markdown_table() word for word"
    assert "ttt-read help exit-codes" in section


# --- stdout, stderr, colour ----------------------------------------------------------------

COLOUR = re.compile(rb"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")

PROGRESS = """
import time
from ttt_read.render.progress import ReadProgress
with ReadProgress() as progress:
    for done in range(0, 101, 20):
        progress.update(done, 100, 2.5)
        time.sleep(0.05)
"""


def on_a_terminal(code: str, env: dict) -> bytes:
    """What `python -c code` writes to a terminal (stdout and stderr both on a pty)."""
    import pty
    import select

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    received, deadline = b"", time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                received += data
            elif process.poll() is not None:
                break
        assert process.wait(timeout=30) == 0, received
        return received
    finally:
        os.close(master)


def test_progress_respects_no_color(ttt_home):
    unset = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    env = {k: v for k, v in cli_env(ttt_home).items() if k not in unset} | {"TERM": "xterm-256color"}
    coloured = on_a_terminal(PROGRESS, env)
    assert COLOUR.search(coloured), "expected a coloured bar on a terminal (else this test proves nothing)"
    plain = on_a_terminal(PROGRESS, env | {"NO_COLOR": "1"})
    assert b"tokens" in plain and not COLOUR.search(plain), plain


def test_info_puts_data_on_stdout_only(ttt_home, sample_mem):
    result = run_cli(ttt_home, "info", sample_mem, timeout=60)
    assert_ok(result)
    assert result.stderr == "" and result.stdout.startswith("snapshot ")


def test_skipped_reading_updates_are_reported_and_never_poison_the_memory(ttt_home, tmp_path):
    """A reading rate so large that the first update blows the fast weights up: every later
    chunk has a non-finite loss, its update is skipped, and ingest says so (stderr, --json)."""
    import torch

    from ttt_read.read import snapshot

    text = tmp_path / "a.py"
    text.write_text((CORPUS / "errors.py").read_text()[:400])
    out = tmp_path / "a.mem"
    result = run_cli(ttt_home, "ingest", text, "-o", out, "--lr", "1e30", "--chunk", "16")
    assert_ok(result)
    warning = [line for line in result.stderr.splitlines() if "reading updates skipped" in line]
    assert len(warning) == 1 and "not finite" in warning[0], result.stderr
    info = strict_json(run_cli(ttt_home, "info", out, "--json", timeout=60).stdout)
    assert info["skipped_updates"] >= 1 and f"{info['skipped_updates']} of {len(info['chunk_losses'])}" in warning[0]
    assert all(torch.isfinite(w).all() for w in snapshot.load(out).fast)
    for bad in ("nan", "inf", "-1"):
        assert (
            run_cli(ttt_home, "ingest", text, "-o", tmp_path / "b.mem", "--lr", bad, timeout=120).returncode
            == ExitCode.USAGE
        )
