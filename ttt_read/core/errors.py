"""Exit codes and the one exception the CLI turns into a single line on stderr.

Everything that can go wrong because of the user's input raises `TTTReadError`; anything
else is a bug and is allowed to show a traceback.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status ttt-read can end with; `meaning` is the one description of each,
    printed by `ttt-read help exit-codes` and copied into the README by `markdown_table`."""

    OK = 0
    DIFFERENT = 1
    USAGE = 2
    INPUT = 3
    SNAPSHOT = 4
    EXISTS = 5
    MODEL = 6
    OUTPUT = 7
    INTERRUPTED = 130  # as shells report SIGINT

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "success (diff: the two snapshots are identical, in sources and in memory)",
    ExitCode.DIFFERENT: (
        "diff: the two snapshots differ, in their sources or in their memories (as diff(1): "
        "differences are not an error)"
    ),
    ExitCode.USAGE: "usage error: a bad argument or option, named in the message (or a bad config.toml)",
    ExitCode.INPUT: "input error: a path to read is missing, unreadable, or holds nothing readable",
    ExitCode.SNAPSHOT: "snapshot error: a .mem file is missing, corrupt, foreign, or made with another base checkpoint",
    ExitCode.EXISTS: "output exists: pass --force to overwrite it",
    ExitCode.MODEL: "model error: the checkpoint is missing or broken",
    ExitCode.OUTPUT: "output error: the snapshot cannot be written (permissions, read-only file system, disk full)",
    ExitCode.INTERRUPTED: (
        "interrupted (Ctrl-C): nothing was written, unless the message names a file completed just before"
    ),
}


def markdown_table() -> str:
    """The README's exit-code table, generated from `ExitCode` (a test keeps them equal)."""
    rows = [f"| {int(code)} | {code.meaning} |" for code in ExitCode]
    return "\n".join(["| code | meaning |", "| --- | --- |", *rows]) + "\n"


class TTTReadError(Exception):
    """A user-facing failure: one line of text and the exit code to leave with."""

    def __init__(self, message: str, code: ExitCode):
        super().__init__(message)
        self.code = code


class Unreadable(Exception):
    """Why a file cannot be read; becomes a Skip, or an error for a path given directly."""
