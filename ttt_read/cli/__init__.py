"""The `ttt-read` command line: declarations of commands and options that call the library."""

from ttt_read.cli.app import main
from ttt_read.cli.snapshots import info

__all__ = ["info", "main"]
