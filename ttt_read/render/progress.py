"""Progress on stderr, on a terminal only: a Rich bar while reading, a line per file while
`diff` scores them; nothing when piped or quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ttt_read.console.output import say


class ReadProgress:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None
        self._task = None
        self._started: float | None = None  # set at the first update: loading is not reading

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("reading"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,} tokens"),
                TextColumn("{task.fields[rate]:,.0f} tok/s"),
                TextColumn("loss {task.fields[loss]:.3f}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("read", total=0, rate=0.0, loss=float("nan"))
        return self

    def update(self, done: int, total: int, loss: float) -> None:
        if self._progress is not None:
            now = time.perf_counter()
            self._started = self._started or now
            rate = done / max(now - self._started, 1e-9)
            self._progress.update(self._task, completed=done, total=total, rate=rate, loss=loss)

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False


def scoring(as_json: bool) -> Callable[[int, int, str], None] | None:
    """`diff`'s report of each file it scores, on a terminal unless the output is JSON."""
    if as_json or not sys.stderr.isatty():
        return None
    return lambda i, n, path: say(f"scoring {i + 1}/{n} {path}")
