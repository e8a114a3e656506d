"""Exit codes and the one exception the CLI turns into a single line on stderr.

Everything that can go wrong because of the user's input raises `TTTReadError`; anything
else is a bug and is allowed to show a traceback.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DIFFERENT = 1  # diff: the snapshots differ, like diff(1)
    USAGE = 2  # bad arguments or options
    INPUT = 3  # a path to read is missing, unreadable or holds nothing readable
    SNAPSHOT = 4  # a .mem file is corrupt, foreign, or made with another base checkpoint
    EXISTS = 5  # the output exists and --force was not given
    MODEL = 6  # the checkpoint is missing or broken
    OUTPUT = 7  # the snapshot cannot be written (permissions, read-only file system, disk full)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.DIFFERENT: "diff: the two snapshots have different sources",
    ExitCode.USAGE: "usage error: bad arguments or options (or a bad config.toml)",
    ExitCode.INPUT: "input error: a path is missing, unreadable, or holds nothing readable",
    ExitCode.SNAPSHOT: "snapshot error: missing, corrupt, foreign, or made with another base checkpoint",
    ExitCode.EXISTS: "output exists: pass --force to overwrite",
    ExitCode.MODEL: "model error: checkpoint missing or broken",
    ExitCode.OUTPUT: "output error: the snapshot cannot be written (permissions, read-only file system, disk full)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); no output was written (unless the message says it was completed just before)",
}


class TTTReadError(Exception):
    """A user-facing failure: one line of text and the exit code to leave with."""

    def __init__(self, message: str, code: ExitCode):
        super().__init__(message)
        self.code = code
