"""The answerable units of the read sources: definitions, settings, options, environment
variables and manual entries, each with its name, where it is, and the words that describe it.

A question as people word it ("Which function asks the user a yes/no question?", "What is the
default pool size of the adapter?") is answered by one of these units: a definition's *name*,
a setting's *value*, an option, a variable's name. `ask` ranks them (`ranking`).

Code is parsed with tree-sitter (`code_units`, `syntax`) (pre-built grammars for Python,
JavaScript, TypeScript, Go, C, Rust and Java): a JavaScript class method `name(args) {`, a C
function whose name sits inside nested declarators or a Go method with a receiver are one node
type each, where regular expressions miss or confuse them; the parser also tolerates syntax
errors and unknown dialects (Python 2, JSX), and gives each definition's doc comment and body.
Without tree-sitter (or for other languages) a line-level fallback finds
`def`/`class`/`function`/`fn` definitions and `NAME = literal` settings. Manuals (prose and PDF
text, `manual_units`) give their option lists (`-x  description`, or a man page's option alone
on its line with its description below), texinfo function entries (`[Function]int f (...)` and
the sentence that says what `f` does), command synopses (`read [-ers] ...`), glossary
entries (`PATH  A colon-separated ...`) and the elements, attributes or keys a specification
lists as bullets (`• sub-class-of elements indicate ...`).
"""

from __future__ import annotations

import bisect
import dataclasses
import re

from ttt_read.ask.code_units import code_units
from ttt_read.ask.manual_units import manual_units
from ttt_read.ask.prose_docs import described
from ttt_read.ask.raised import described_by_raises
from ttt_read.ask.unit import DEFINITION_KINDS, Unit
from ttt_read.notepad.lexicon import line_style
from ttt_read.text import filekinds


def file_units(path: str, text: str, kind: str = "text") -> list[Unit]:
    """The units of one read file."""
    lines = text.split("\n")
    style = line_style(path, kind)
    if style != "code":
        return manual_units(path, lines, style) if (style == "pdf" or filekinds.is_prose(path)) else []
    return used_in(code_units(path, text, lines), lines)


_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")


def used_in(units: list[Unit], lines: list[str]) -> list[Unit]:
    """A module's constant is described by the functions that use it (`maxDistance = 3`, used
    by `editDistance`, answers "the maximum edit distance"): its context gains the names of
    the first three, each the definition that last begins at or above a line naming it."""
    starts = sorted((u.line, u.name) for u in units if u.kind in ("function", "method"))
    wanted = {u.name for u in units if u.kind in ("variable", "value") and not u.owner and len(u.name) >= 3}
    if not starts or not wanted:
        return units
    users: dict[str, list[str]] = {}
    for at, line in enumerate(lines, 1):
        k = bisect.bisect_right(starts, (at, "\uffff")) - 1
        if k < 0:
            continue
        for name in {m.group() for m in _IDENTIFIER.finditer(line)} & wanted:
            named = users.setdefault(name, [])
            if starts[k][1] not in named and starts[k][1] != name:
                named.append(starts[k][1])
    out = []
    for u in units:
        if u.kind in ("variable", "value") and not u.owner and users.get(u.name):
            u = dataclasses.replace(u, context=f"{u.context} used in {' '.join(users[u.name][:3])}")
        out.append(u)
    return out


def notepad_units(notepad) -> list[Unit]:
    """Every unit of a notepad's files, computed once per notepad."""
    cached = getattr(notepad, "_units", None)
    if cached is None:
        cached = []
        for f in notepad.files:
            cached += file_units(f.path, f.text, f.kind)
        prose = {f.path: f.text.split("\n") for f in notepad.files if line_style(f.path, f.kind) == "text"}
        cached = notepad._units = described_by_raises(described(resolve_registered(cached), prose))
    return cached


def resolve_registered(units: list[Unit]) -> list[Unit]:
    """A name registered for a definition (`"urlquery": URLQueryEscaper`) takes that
    definition's kind and doc comment; one registered for nothing defined here is dropped."""
    defined: dict[str, Unit] = {}
    for u in units:
        if u.kind in DEFINITION_KINDS and not u.refers:
            defined.setdefault(u.name, u)
    out = []
    for u in units:
        if u.refers:
            target = defined.get(u.refers)
            if target is None:
                continue
            u = dataclasses.replace(u, kind=target.kind, doc=target.doc, context=f"{u.context} {target.context}")
        out.append(u)
    return out
