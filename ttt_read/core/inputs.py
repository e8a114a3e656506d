"""Paths a command was given to read: checked up front, so a typo costs no model load."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError


def require_existing(paths: Iterable[Path]) -> None:
    """An input error (exit 3) naming the first of `paths` that does not exist."""
    for path in paths:
        if not path.exists():
            raise TTTReadError(f"{path}: no such file or directory", ExitCode.INPUT)
