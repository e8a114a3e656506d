"""The `ttt-read` command line: the root command, where ttt-read keeps things, shell
completion, reference pages, and the entry point.

The commands themselves are declared by group (snapshots, asking, evaluating, models,
training) and gathered here. Only typer and light modules are imported at module load:
torch, tokenizers and the model come in lazily inside each command, so `--help` and shell
completion stay instant. Data goes to stdout, progress and errors to stderr; user errors
end in one line and a documented exit code.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated

import typer

from ttt_read import __version__
from ttt_read.cli import asking, evaluating, models, snapshots
from ttt_read.console import validation
from ttt_read.console.options import JsonOpt
from ttt_read.console.output import emit_json, say
from ttt_read.core import interrupts, settings
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import base_models
from ttt_read.train.cli import train_app

app = typer.Typer(
    name="ttt-read",
    help="Read a codebase, a text or a PDF into a language model's weights, then ask it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# The order `ttt-read --help` lists the commands in (the groups follow, in the order added).
HELP_ORDER = ("ingest", "continue", "ask", "info", "ls", "dirs", "completions", "bench", "eval", "diff", "eval-qa")


# The options before any command (its docstring would replace the app's help, hence none).
@app.callback(invoke_without_command=True)
def _top(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit (with --json: also the default checkpoint's name and hash)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --version: print it as JSON.")] = False,
):
    if not version:
        validation.command_named(ctx.invoked_subcommand, as_json)
        return
    if as_json:
        emit_json({"version": __version__, "checkpoint": base_models.default()})
    else:
        print(f"ttt-read {__version__}")
    raise typer.Exit()


@app.command(name="dirs")
def dirs_(as_json: JsonOpt = False):
    """Where ttt-read keeps config.toml, named snapshots, user checkpoints and caches."""
    from ttt_read.core.dirs import cache_dir
    from ttt_read.core.settings import config_path
    from ttt_read.read.checkpoint import user_dir
    from ttt_read.read.names import snapshots_dir

    paths = {"config": config_path(), "snapshots": snapshots_dir(), "models": user_dir(), "cache": cache_dir()}
    if as_json:
        emit_json({"home": os.environ.get("TTT_READ_HOME") or None, **{k: str(v) for k, v in paths.items()}})
        return
    for key, path in paths.items():
        print(f"{key:<9}  {path}")


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


# The file each script is committed as in completions/ (and shipped as ttt_read/completions/).
COMPLETION_FILES = {"bash": "ttt-read.bash", "zsh": "_ttt-read", "fish": "ttt-read.fish", "powershell": "ttt-read.ps1"}


def completion_script(shell: str) -> str:
    """The completion script typer generates for this CLI (`ttt-read`, `_TTT_READ_COMPLETE`)."""
    from typer.completion import get_completion_script

    return get_completion_script(prog_name="ttt-read", complete_var="_TTT_READ_COMPLETE", shell=shell) + "\n"


@app.command()
def completions(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh, fish or powershell.")],
    as_json: JsonOpt = False,
):
    """Print the shell completion script for SHELL, generated from this CLI.

    \b
    bash:       ttt-read completions bash > ~/.local/share/bash-completion/completions/ttt-read
    zsh:        ttt-read completions zsh > ~/.zfunc/_ttt-read
                (and in ~/.zshrc: fpath+=~/.zfunc; autoload -Uz compinit; compinit)
    fish:       ttt-read completions fish > ~/.config/fish/completions/ttt-read.fish
    PowerShell: ttt-read completions powershell >> $PROFILE

    The same four scripts are in the repository's completions/ directory.
    """
    script = completion_script(shell.value)
    if as_json:
        emit_json({"shell": shell.value, "file": COMPLETION_FILES[shell.value], "script": script})
        return
    sys.stdout.write(script)


help_app = typer.Typer(help="Reference pages: exit codes.", no_args_is_help=True)


@help_app.command("exit-codes")
def help_exit_codes(as_json: JsonOpt = False):
    """The exit status of every ttt-read command, and what each one means."""
    rows = [{"code": int(code), "name": code.name.lower(), "meaning": code.meaning} for code in ExitCode]
    if as_json:
        emit_json({"exit_codes": rows})
        return
    for row in rows:
        print(f"{row['code']:>3}  {row['meaning']}")


app.registered_commands += [c for group in (snapshots, asking, evaluating) for c in group.commands.registered_commands]
app.registered_commands.sort(key=lambda command: HELP_ORDER.index(command.name or command.callback.__name__))
app.add_typer(models.models_app, name="models")
app.add_typer(help_app, name="help")
app.add_typer(train_app, name="train")


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(ClickException, Abort) classes of the click typer runs on: the real package, or
    (typer >= 0.16) its own vendored copy, which the real `click` classes do not match."""
    errors, aborts = [], [typer.Abort]
    for name in ("click.exceptions", "typer._click.exceptions"):
        module = sys.modules.get(name)
        if module is not None:
            errors.append(module.ClickException)
            aborts += [module.Abort] if hasattr(module, "Abort") else []
    return tuple(errors), tuple(aborts)


def _usage_line(error) -> str:
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"ttt-read: error: {error.format_message()}{hint}"


def main(argv: list[str] | None = None) -> None:
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 is printed, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    click_errors, aborts = _click_exceptions()
    committed = len(interrupts.COMMITTED)
    try:
        command = validation.harden(typer.main.get_command(app))
        with settings.one_read():
            code = command.main(args=argv, prog_name="ttt-read", standalone_mode=False)
    except TTTReadError as e:
        say(f"ttt-read: error: {e}")
        code = e.code
    except click_errors as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare command: show its help
            e.show()
        else:
            say(_usage_line(e))
        code = ExitCode.USAGE
    except (KeyboardInterrupt, *aborts):
        code = ExitCode.INTERRUPTED
    if code == ExitCode.INTERRUPTED:  # newer typers turn Ctrl-C into a returned 130 themselves
        written = interrupts.COMMITTED[committed:]  # Ctrl-C can land just after a file was completed
        say(
            f"ttt-read: interrupted after {written[-1]} was completely written"
            if written
            else "ttt-read: interrupted; nothing was written"
        )
    sys.exit(int(code or 0))
