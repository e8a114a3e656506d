"""The answerable units of the read sources: definitions, settings, options, environment
variables and manual entries, each with its name, where it is, and the words that describe it.

A question as people word it ("Which function asks the user a yes/no question?", "What is the
default pool size of the adapter?") is answered by one of these units: a definition's *name*,
a setting's *value*, an option, a variable's name. `ask` ranks them (`ranking`).

Code is parsed with tree-sitter (`code_units`, `syntax`, `doc_comments`, `code_settings`)
(pre-built grammars for Python, JavaScript, TypeScript, Go, C, Rust and Java): a JavaScript
class method `name(args) {`, a C function whose name sits inside nested declarators or a Go
method with a receiver are one node type each, where regular expressions miss or confuse them;
the parser also tolerates syntax errors and unknown dialects (Python 2, JSX), and gives each
definition's doc comment and body.
Without tree-sitter (or for other languages) a line-level fallback finds
`def`/`class`/`function`/`fn` definitions and `NAME = literal` settings. Each code file is a
unit too (`source_file`), for "Which module holds ...?". Manuals (prose and PDF text,
`manual_units`) give their option lists (`-x  description`, or a man page's option alone on
its line with its description below), texinfo entries (`[Function]int f (...)` and the
sentence that says what `f` does; `[Global flag]` and `[Return code]` constants), command
synopses (`read [-ers] ...`), glossary entries (`PATH  A colon-separated ...`) and the
elements, attributes or keys a specification lists as bullets (`• sub-class-of elements
indicate ...`).
"""

from __future__ import annotations

import bisect
import dataclasses
import re

from ttt_read.ask.code_units import code_units
from ttt_read.ask.doc_comments import clean_comment
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
    units = used_in(code_units(path, text, lines), lines)
    return [source_file(path, lines, units), *units]


FILE_CONTEXT_CHARS = 400  # of the names a source file defines, which describe it


def source_file(path: str, lines: list[str], units: list[Unit]) -> Unit:
    """A code file as the answer to "Which module holds ...?": named by its file name, owned by
    its folders, described by its header comment and the names it defines."""
    folder, _, base = path.rpartition("/")
    defined = [u.name for u in units if u.kind in ("class", "type", "function") and not u.owner]
    return Unit(
        kind="file",
        name=base.rpartition(".")[0] or base,
        answer=path,
        path=path,
        line=1,
        col=1,
        owner=" ".join(folder.split("/")[-2:]),
        doc=header_comment(lines),
        context=" ".join(dict.fromkeys(defined))[:FILE_CONTEXT_CHARS],
    )


_NOT_ABOUT = re.compile(r"copyright|licen[cs]e|\(c\)|-\*-|^\s*vim?:|coding[:=]", re.I)  # a licence, an editor's line
_LINE_COMMENT = re.compile(r"^\s*(?://|#(?!!)|--)")
_BLOCK_COMMENT = re.compile(r'^\s*(?:[rub]?"""|[rub]?\'\'\'|/\*)')


def header_comment(lines: list[str]) -> str:
    """What a file says of itself at its top: its docstring or first comment block that is not
    a licence or an editor's settings."""
    at = 0
    while at < min(len(lines), 80):
        while at < len(lines) and not (_BLOCK_COMMENT.match(lines[at]) or _LINE_COMMENT.match(lines[at])):
            if lines[at].strip() and not re.match(r"^\s*(?:#!|['\"]use strict|package |from __future__)", lines[at]):
                return ""  # code before any comment: the file says nothing of itself
            at += 1
        raw, at = _comment_block(lines, at)
        block = clean_comment(raw)
        if block and not _NOT_ABOUT.search(block):
            return block
    return ""


def _comment_block(lines: list[str], at: int) -> tuple[str, int]:
    """The comment or docstring that starts at line `at`, as written, and the line after it."""
    first = lines[at].strip() if at < len(lines) else ""
    quote = re.match(r'[rub]?("""|\'\'\')', first)
    if quote or first.startswith("/*"):
        close = quote.group(1) if quote else "*/"
        text, end = first[quote.end() if quote else 2 :], at
        while close not in text and end + 1 < min(len(lines), at + 40):
            end += 1
            text += "\n" + lines[end]
        return text.partition(close)[0], end + 1
    end = at
    while end < len(lines) and _LINE_COMMENT.match(lines[end]):
        end += 1
    return "\n".join(lines[at:end]), end


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
