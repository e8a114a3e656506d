"""Shell completion: the committed scripts are what the CLI generates now, a real bash runs
them to the subcommands, and neither completing nor `--help` imports torch.

The scripts call back into `ttt-read` for the words, so new commands need no new scripts;
regenerate them when typer's templates change (test_committed_script_is_fresh fails):

    for sh in bash zsh fish powershell; do
        file=$(python -c "from ttt_read.cli.app import COMPLETION_FILES as F; print(F['$sh'])")
        ttt-read completions $sh > completions/$file
    done
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, cli_env, run_cli, run_cli_reporting_torch

from ttt_read.cli.app import COMPLETION_FILES, app, completion_script

COMPLETIONS = REPO / "completions"


def top_level_commands() -> set[str]:
    import typer

    return set(typer.main.get_command(app).commands)


@pytest.mark.parametrize("shell", sorted(COMPLETION_FILES))
def test_committed_script_is_fresh(ttt_home, shell):
    result = run_cli(ttt_home, "completions", shell, timeout=60)
    assert result.returncode == 0, result.stderr
    committed = (COMPLETIONS / COMPLETION_FILES[shell]).read_text()
    assert result.stdout == committed == completion_script(shell), (
        f"completions/{COMPLETION_FILES[shell]} is stale: regenerate it with `ttt-read completions {shell}`"
    )
    assert "ttt-read" in committed and "_TTT_READ_COMPLETE" in committed


def test_completions_json(ttt_home):
    result = run_cli(ttt_home, "completions", "zsh", "--json", timeout=60)
    payload = json.loads(result.stdout)
    assert payload["schema_version"] == 1 and payload["shell"] == "zsh"
    assert payload["script"] == (COMPLETIONS / payload["file"]).read_text()


def complete_bash(home: Path, *words: str) -> list[str]:
    """What the bash protocol returns for the command line `words` (the last one being completed)."""
    env = cli_env(home) | {
        "_TTT_READ_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(words),
        "COMP_CWORD": str(len(words) - 1),
    }
    result = subprocess.run([sys.executable, "-m", "ttt_read"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout.split()


def test_bash_protocol_completes_subcommands_options_and_names(ttt_home):
    assert set(complete_bash(ttt_home, "ttt-read", "")) == top_level_commands()
    assert {"ls", "completions", "help", "ingest", "info"} <= top_level_commands()
    assert complete_bash(ttt_home, "ttt-read", "in") == ["ingest", "info"]
    assert "--max-pdf-bytes" in complete_bash(ttt_home, "ttt-read", "ingest", "--")
    assert complete_bash(ttt_home, "ttt-read", "help", "") == ["exit-codes"]
    # a .mem argument completes snapshot names from the data directory
    snapshots = ttt_home / "data" / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    (snapshots / "alpha-notes.mem").write_bytes(b"x")
    try:
        assert complete_bash(ttt_home, "ttt-read", "info", "alpha") == ["alpha-notes"]
    finally:
        (snapshots / "alpha-notes.mem").unlink()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_real_bash_runs_the_committed_script(ttt_home):
    """Source completions/ttt-read.bash in bash and press Tab after `ttt-read ` (the function
    the script registers, called the way bash calls it), with the installed `ttt-read` on PATH."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "ttt-read").exists(), "the ttt-read entry point is not installed next to python"
    script = f"""
source {COMPLETIONS / "ttt-read.bash"}
complete -p ttt-read >&2
COMP_WORDS=(ttt-read in); COMP_CWORD=1
_ttt_read_completion ttt-read in ttt-read
printf '%s\\n' "${{COMPREPLY[@]}}"
COMP_WORDS=(ttt-read ""); COMP_CWORD=1
_ttt_read_completion ttt-read "" ttt-read
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = cli_env(ttt_home) | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "_ttt_read_completion" in result.stderr  # `complete -p`: the function is registered for ttt-read
    lines = result.stdout.split()
    assert lines[:2] == ["ingest", "info"]
    assert set(lines[2:]) == top_level_commands()


# --- startup stays light -------------------------------------------------------------------


LIGHT = {
    "help": (["--help"], {}),
    "ingest-help": (["ingest", "--help"], {}),
    "ask-help": (["ask", "--help"], {}),
    "completions": (["completions", "bash"], {}),
    "complete-commands": ([], {"_TTT_READ_COMPLETE": "complete_bash", "COMP_WORDS": "ttt-read ", "COMP_CWORD": "1"}),
    "complete-options": (
        [],
        {"_TTT_READ_COMPLETE": "complete_bash", "COMP_WORDS": "ttt-read ingest --", "COMP_CWORD": "2"},
    ),
    "complete-zsh": ([], {"_TTT_READ_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "ttt-read in"}),
    "help-exit-codes": (["help", "exit-codes"], {}),
    "ls": (["ls", "--json"], {}),
    "dirs": (["dirs"], {}),
}


@pytest.mark.parametrize("case", LIGHT)
def test_help_and_completion_never_import_torch(ttt_home, case):
    args, extra_env = LIGHT[case]
    result, report = run_cli_reporting_torch(ttt_home, *args, extra_env=extra_env)
    assert report == {"code": 0, "torch": False}, result.stderr
    assert result.stdout.strip(), "printed nothing"
