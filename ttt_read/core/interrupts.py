"""Ctrl-C handling shared by the stages that must report it as "interrupted" (exit 130).

`watch()` notes a SIGINT that arrives during a block, for libraries that turn the
KeyboardInterrupt raised inside their callbacks into an error of their own (safetensors and
torch report it as a ValueError about storage shapes). `held()` defers SIGINT over a block
that must not be split (a rename and its record). `between_steps()` lets a long loop
(training) finish its step, save and stop on the first SIGINT or SIGTERM. `COMMITTED`
lists the files this process completed, which the "interrupted" message names.

`point(name)` is a test hook: with `TTT_READ_TEST_SIGNAL_AT=NAME` (or `NAME:KILL`,
`NAME:TERM`) in the environment the process sends itself SIGINT (or SIGKILL, SIGTERM) on
reaching that point, so tests interrupt each stage exactly where they mean to instead of at
a time that may miss it. Points: model-load, notepad-decode, reading, writing, rename,
generation, training-step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

TEST_VARIABLE = "TTT_READ_TEST_SIGNAL_AT"
_TEST_SIGNALS = {"": signal.SIGINT, "KILL": signal.SIGKILL, "TERM": signal.SIGTERM}

COMMITTED: list[Path] = []  # every file this process has completely written, in order


def point(name: str) -> None:
    wanted, _, how = os.environ.get(TEST_VARIABLE, "").partition(":")
    if wanted == name:
        os.kill(os.getpid(), _TEST_SIGNALS[how])


@contextlib.contextmanager
def watch():
    """Yield a list that is non-empty once SIGINT arrived inside the block (the interrupt
    itself still raises as usual). Only the main thread can install handlers; elsewhere the
    list stays empty."""
    seen: list[bool] = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield seen
        return

    def note(signum, frame):
        seen.append(True)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def held():
    """Hold SIGINT back for the block: one that arrives meanwhile is delivered to the previous
    handler (KeyboardInterrupt, usually) as the block ends. A handler that notes the signal,
    not a signal mask: a mask is per thread, and the kernel may hand SIGINT to any other thread
    of the process (torch's, a test runner's), whose delivery then raises mid-block. Outside
    the main thread, or where Ctrl-C is ignored, the block runs as it is."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        previous(signal.SIGINT, None)


@contextlib.contextmanager
def between_steps():
    """Yield a list that becomes non-empty at the first SIGINT or SIGTERM, for a loop that
    checks it after each step, saves and stops; a second signal acts at once, as it would
    without the block. A signal the process ignores (SIGINT in a job started with `&`) stays
    ignored. Outside the main thread the list stays empty."""
    requested: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    watched = [s for s, handler in previous.items() if handler is not signal.SIG_IGN]

    def restore():
        for s in watched:
            signal.signal(s, previous[s])

    def note(signum, frame):
        if requested:  # asked twice: stop now
            restore()
            signal.raise_signal(signum)
        requested.append(signum)

    for s in watched:
        signal.signal(s, note)
    try:
        yield requested
    finally:
        restore()
