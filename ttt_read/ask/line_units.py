"""The units of a source file read line by line, where no tree-sitter grammar parses it (or
the parser fails): definitions by their keyword, `NAME = literal` settings, shell functions and
the variables a shell script uses.
"""

from __future__ import annotations

import re

from ttt_read.ask.doc_comments import clean_comment
from ttt_read.ask.unit import Unit

_FALLBACK_DEF = re.compile(
    r"^\s*(?:(?:export|pub(?:\([^)]*\))?|public|private|protected|static|async|default|abstract|final)\s+)*"
    r"(?P<kw>def|class|function|func|fn|struct|enum|trait|interface|type|sub)\s+(?:\([^)]*\)\s*)?\*?(?P<name>[A-Za-z_$][\w$]*)"
)
_FALLBACK_METHOD = re.compile(
    r"^\s+(?:async\s+|static\s+|get\s+|set\s+)*(?P<name>[A-Za-z_$][\w$]*)\s*\([^;]*\)\s*\{\s*$"
)
_FALLBACK_VALUE = re.compile(
    r"^\s*(?:(?:const|let|var|static|final|public|private|#define)\s+)*(?P<name>[A-Za-z_][\w.]*)\s*(?::[^=]+)?(?:=|\s)\s*(?P<value>-?\d[\d.]*|\"[^\"]{0,60}\"|'[^']{0,60}'|True|False|true|false|None|null)\s*[;,]?\s*$"
)
_SHELL_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{?\s*$")
_SHELL_VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{2,})(?:[:]?[-=]([^}\s]{1,40}))?\}?")
_KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "function", "else", "do", "with"}


def line_units(path: str, lines: list[str]) -> list[Unit]:
    """The units of a source file, line by line: `def`/`class`/`function`/`fn` definitions,
    `NAME = literal` settings, shell functions and variables."""
    units = []
    for i, line in enumerate(lines):
        m = _FALLBACK_DEF.match(line) or _FALLBACK_METHOD.match(line)
        if m and m.group("name") not in _KEYWORDS:
            kind = {
                "class": "class",
                "struct": "class",
                "enum": "class",
                "trait": "class",
                "interface": "class",
                "type": "type",
            }.get(m.groupdict().get("kw") or "", "function" if m.groupdict().get("kw") else "method")
            doc = []
            j = i - 1
            while j >= 0 and re.match(r"^\s*(?://|#|\*|/\*)", lines[j]):
                doc.insert(0, lines[j])
                j -= 1
            below = lines[i + 1 : i + 4]
            if kind in ("function", "class", "method") and below and re.match(r'^\s*[ru]?("""|\'\'\')', below[0]):
                doc.append(below[0].strip().strip("\"'"))
            units.append(
                Unit.matched(
                    kind,
                    m,
                    "name",
                    path=path,
                    line=i + 1,
                    doc=clean_comment("\n".join(doc)),
                    context=line.strip() + " " + " ".join(x.strip() for x in below),
                )
            )
        elif m := _SHELL_FUNCTION.match(line):
            units.append(
                Unit.matched(
                    "function",
                    m,
                    1,
                    path=path,
                    line=i + 1,
                    doc=clean_comment("\n".join(x for x in lines[max(0, i - 3) : i] if x.lstrip().startswith("#"))),
                    context=line.strip(),
                )
            )
        elif m := _FALLBACK_VALUE.match(line):
            name = m.group("name").rsplit(".", 1)[-1]
            units.append(
                Unit.matched(
                    "value",
                    m,
                    "value",
                    path=path,
                    line=i + 1,
                    name=name,
                    doc=trailing_comment(line),
                    context=line.strip(),
                )
            )
    for i, line in enumerate(lines):  # a shell script's variables: `$GO_GCFLAGS`, `${CC:-gcc}`
        for m in _SHELL_VARIABLE.finditer(line):
            comment = clean_comment("\n".join(x for x in lines[max(0, i - 2) : i] if x.lstrip().startswith("#")))
            units.append(
                Unit.matched(
                    "env",
                    m,
                    1,
                    path=path,
                    line=i + 1,
                    doc=comment,
                    context=line.strip(),
                    tags=frozenset({"env-context"}),
                )
            )
            if m.group(2):
                units.append(
                    Unit.matched(
                        "value", m, 2, path=path, line=i + 1, name=m.group(1), doc=comment, context=line.strip()
                    )
                )
    return units


def trailing_comment(line: str) -> str:
    """The comment that ends a line of code (`# ...`, `// ...`, `/* ... */`), or ""."""
    m = re.search(r"(?:#|//)\s*(.+)$|/\*+\s*(.+?)\s*\*/\s*$", line)
    if m is None or re.search(r"[\"'][^\"']*(?:#|//|/\*)", line[: m.start() + 2]):
        return ""
    return m.group(1) or m.group(2)
