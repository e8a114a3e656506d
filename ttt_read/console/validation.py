"""Command-line validation, in one place: every value typer parsed passes here before a
command body sees it, so bodies can trust their arguments.

Two layers. `harden(command)` walks the whole command tree once per run and adds, to every
parameter, what click does not check: a float must be finite (NaN passes click's range
checks, and infinities pass its type check), and no value may hold a NUL character (the
operating system cannot take it as a path or name). The helpers below are the option types
the declarations in cli/ name: ranges are declared there with typer's `min=`/`max=`
(shown in `--help`), free text goes through `text` and structured strings through their own
parser. A bad value is a click `BadParameter`: exit 2 and one line naming the argument; a
missing input another command should have made (a corpus, a training run) is exit 3.

Arguments that are not valid UTF-8 (a Latin-1 terminal's `café`) reach Python as
surrogate escapes. Paths keep them, so a file with such a name can still be opened; free
text (a prompt, a question) is decoded with replacement characters, and a note says so.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from ttt_read.core.errors import ExitCode, TTTReadError

NOTE = "ttt-read: note: "
MAX_TOKENS = 65_536  # the most tokens one command generates
MAX_PASSAGES = 100  # the most notepad passages put before a question
MAX_SEED = 2**63 - 1  # what torch's generators take


def harden(command):
    """Add the finite-number and NUL checks to every parameter of `command` and its subcommands."""
    for sub in getattr(command, "commands", {}).values():
        harden(sub)
    for param in command.params:
        param.callback = _checked(param.callback)
    return command


def _checked(callback):
    def check(ctx, param, value):
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, float) and not math.isfinite(item):  # only options declared float hold one
                raise typer.BadParameter(f"{item} is not a finite number", ctx=ctx, param=param)
            if "\x00" in str(item if item is not None else ""):
                raise typer.BadParameter("contains a NUL character", ctx=ctx, param=param)
        return value if callback is None else callback(ctx, param, value)

    return check


def command_named(command: str | None, as_json: bool) -> None:
    """`ttt-read` without --version: a command must follow, and a --json before it goes with
    --version only."""
    if command is None:
        raise TTTReadError("missing command (see 'ttt-read --help')", ExitCode.USAGE)
    if as_json:
        raise TTTReadError(
            "--json before the command goes with --version only; put it after the command", ExitCode.USAGE
        )


def decoded(value: str) -> tuple[str, bool]:
    """`value` as valid text: surrogate escapes of non-UTF-8 bytes (and any lone surrogate)
    become U+FFFD. The flag says whether anything was replaced."""
    try:
        value.encode("utf-8")
        return value, False
    except UnicodeEncodeError:
        pass
    try:
        raw = value.encode("utf-8", "surrogateescape")  # the bytes the terminal sent
    except UnicodeEncodeError:  # a surrogate no byte decodes to: replace it alone
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value), True
    return raw.decode("utf-8", "replace"), True


def text(param: typer.CallbackParam, value: str | None) -> str | None:
    """Free text (a prompt, a question): not empty; bytes that are not UTF-8 decoded with
    replacement characters, and a note on stderr saying so."""
    if value is None:
        return None
    if not value.strip():
        raise typer.BadParameter("must not be empty")
    value, replaced = decoded(value)
    if replaced:
        print(f"{NOTE}{_name(param)} is not valid UTF-8; undecodable bytes were replaced with U+FFFD", file=sys.stderr)
    return value


def greedy_or_at_least(low: float):
    """A temperature: 0 means greedy, anything else must be at least `low` (smaller ones
    overflow the softmax)."""

    def check(value: float) -> float:
        if 0 < value < low:
            raise typer.BadParameter(f"{value} is neither 0 (greedy) nor at least {low}")
        return value

    return check


def choice(allowed: tuple[str, ...]):
    """One of `allowed`, spelled exactly."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


def above(low: float):
    """Strictly greater than `low` (typer's `min=` includes its bound); None stays None."""

    def check(value: float | None) -> float | None:
        if value is not None and not value > low:
            raise typer.BadParameter(f"{value} is not above {low}")
        return value

    return check


def below(high: float):
    """Strictly less than `high` (typer's `max=` includes its bound)."""

    def check(value: float) -> float:
        if not value < high:
            raise typer.BadParameter(f"{value} is not below {high}")
        return value

    return check


def int_list(low: int, high: int):
    """Comma-separated integers, each in [low, high]; None stays None."""

    def parse(value: str | None) -> list[int] | None:
        if value is None:
            return None
        try:
            numbers = [int(x) for x in value.split(",")]
        except ValueError:
            raise typer.BadParameter(f"{value!r}: expected comma-separated integers") from None
        bad = [n for n in numbers if not low <= n <= high]
        if bad:
            raise typer.BadParameter(f"{bad[0]} is not between {low} and {high}")
        return numbers

    return parse


def holding(*names: str):
    """A directory another command made, holding `names` (a corpus, a training run); a
    missing one is an input error (exit 3) naming what is missing. None stays None."""

    def check(value: Path | None) -> Path | None:
        if value is not None:
            missing = [n for n in names if not (Path(value) / n).is_file()]
            if missing:
                raise TTTReadError(f"{value}: no {missing[0]} here ({_what(names)})", ExitCode.INPUT)
        return value

    return check


def readable_file(value: Path | None) -> Path | None:
    """A file to read (a model card, a tokenizer); None stays None."""
    if value is not None and not Path(value).is_file():
        raise TTTReadError(f"{value}: no such file", ExitCode.INPUT)
    return value


def _what(names: tuple[str, ...]) -> str:
    return "not a training run directory" if "train.json" in names else "not a corpus made by `ttt-read train corpus`"


def model_settings(value: str | None) -> dict | None:
    """Model settings as a JSON object of ModelConfig fields, checked the way the model
    will check them; None stays None."""
    from ttt_read.read.config import ModelConfig

    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        raise typer.BadParameter("not valid JSON") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object ({...})")
    try:
        ModelConfig(**{"vocab_size": 256, **parsed})
    except (TypeError, ValueError) as e:
        raise typer.BadParameter(str(e)) from None
    return parsed


def _name(param) -> str:
    """How the user wrote it: `--ask` for an option, `QUESTION` for an argument."""
    return param.opts[0] if param.opts[0].startswith("-") else param.name.upper()
