"""An answerable unit: a definition, setting, option, environment variable or manual entry, with
its name, where it is, and the words that describe it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFINITION_KINDS = ("function", "method", "class", "type", "command")
MAX_VALUE_CHARS = 80
MAX_DOC_CHARS = 600
BODY_LINES = 3  # lines of a definition's body that describe it too (after its doc comment)


@dataclass(kw_only=True)
class Unit:
    kind: str  # function, method, class, type, command, value, option, env, event, error
    name: str  # the defined name; a value's setting name; an option's flags
    answer: str  # what a question about it is answered with: the name, the value, the option
    path: str
    line: int  # 1-based line of `answer` in the file
    col: int  # 1-based column of `answer` on that line
    owner: str = ""  # the enclosing class / function / command names, outermost first, space-separated
    doc: str = ""  # its doc comment, docstring or description
    context: str = ""  # its signature, decorators, first body lines, the line it is on
    tags: frozenset = field(default_factory=frozenset)  # e.g. property, decorator, exception, enum, env-context
    refers: str = ""  # a name registered for a definition (`"urlquery": URLQueryEscaper`): that definition's name

    @classmethod
    def matched(cls, kind: str, m: re.Match, group: int | str, *, path: str, line: int, **about) -> Unit:
        """A unit found by a regular expression: named and answered by what `group` of `m`
        matched, at its column; `about` gives the other fields, or a different name or answer."""
        text = m.group(group)
        fields = {"name": text, "answer": text, **about}
        return cls(kind=kind, path=path, line=line, col=m.start(group) + 1, **fields)
