"""Answering one question after another from the same memory with the same options, as
`ask` does at its prompt."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ttt_read.ask.found import Answer


def answerer(
    memory, *, free: bool, use_notepad: bool, use_memory: bool, max_tokens: int, k: int
) -> Callable[[str], Answer]:
    """`answer` from `memory` with these options. Grounded answers need the span head: it is
    loaded here, so the first question waits no longer than the next."""
    from ttt_read.ask.answer import answer

    if use_notepad and not free:
        _ = memory.span_head
    return functools.partial(
        answer, memory, use_notepad=use_notepad, use_memory=use_memory, free=free, max_tokens=max_tokens, k=k
    )
