"""How `ask` shows an answer, and its interactive prompt.

Like ripgrep: the answer, then one `path:line:col: text` row per quoted line, the answer's
span highlighted; the other passages the model saw follow as `path:line: text`. Colours
(Rich) only on a terminal and without NO_COLOR; piped output is plain text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ttt_read.ask.found import Answer, Source
from ttt_read.console.output import emit_json, say

PROMPT = "? "
HISTORY_LINES = 1000


def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def source_rows(source: Source) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(location, text, span within text) per quoted line of one source."""
    rows, offset = [], 0
    page = f" (page {source.page})" if source.page is not None else ""
    for i, text in enumerate(source.quote.split("\n")):
        col = f":{source.col}" if source.col is not None and i == 0 else ""
        span = None
        if source.span is not None:
            lo, hi = max(source.span[0] - offset, 0), min(source.span[1] - offset, len(text))
            span = (lo, hi) if lo < hi else None
        rows.append((f"{source.path}:{source.line + i}{col}{page}", text, span))
        offset += len(text) + 1
    return rows


def print_answer(result: Answer, name: str) -> None:
    if not result.found:
        print(f"not found in {name}")
        return
    color = use_color()
    if color:
        from rich.console import Console
        from rich.text import Text

        console = Console(highlight=False, soft_wrap=True)
        console.print(Text(result.text, style="bold"))
    else:
        print(result.text)
    for source in result.sources:
        for location, text, span in source_rows(source):
            if not color:
                print(f"{location}: {text}")
                continue
            row = Text()
            row.append(location, style="magenta")
            row.append(": ")
            row.append(text)
            if span is not None:
                row.stylize("bold red", len(location) + 2 + span[0], len(location) + 2 + span[1])
            console.print(row)


def answer_printer(name: str, *, as_json: bool) -> Callable[[str, Answer], None]:
    """What `ask` shows of each answer from the snapshot `name`: as JSON with its question,
    or as text; a notice (why the answer is free, say) once per session, on stderr."""
    noted: set[str] = set()

    def show(question: str, result: Answer) -> None:
        if result.notice and result.notice not in noted:
            noted.add(result.notice)
            say(f"ttt-read: note: {result.notice}")
        if as_json:
            emit_json({"question": question, **result.to_dict()})
        else:
            print_answer(result, name)

    return show


def prompt_loop(respond: Callable[[str], None]) -> None:
    """Read questions at a prompt until Ctrl-D; Ctrl-C cancels the answer under way (or
    the line being typed). Line editing and history come from readline where it exists."""
    history = _start_history()
    while True:
        try:
            question = input(PROMPT)
        except EOFError:
            print()
            break
        except KeyboardInterrupt:
            print()
            continue
        if not question.strip():
            continue
        try:
            respond(question)
        except KeyboardInterrupt:
            print("cancelled", file=sys.stderr)
        sys.stdout.flush()
    if history is not None:
        history()


def _start_history() -> Callable[[], None] | None:
    """Load the prompt's history; returns the function that saves it (None without readline)."""
    try:
        import readline
    except ImportError:
        return None
    from ttt_read.core.dirs import cache_dir

    path = cache_dir() / "ask_history"
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(HISTORY_LINES)

    def save() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass

    return save
