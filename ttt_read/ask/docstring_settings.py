"""The settings a Python docstring lists, as reST's definition list writes them (each name alone
on its line in backticks, its description indented below) or as a two-column table (the name,
two spaces or more, its description, continued below at deeper indentation: `basicConfig`'s
"force     If this keyword is specified as true, any existing handlers ..."). Each is a value
unit when the description states its default ("(default: ``'guess'``)", "defaults to 'a'"),
else an option.
"""

from __future__ import annotations

import re
from collections import Counter

from ttt_read.ask.doc_comments import docstring_node
from ttt_read.ask.syntax import node_text
from ttt_read.ask.unit import MAX_DOC_CHARS, Unit

_TERM = re.compile(r"^(\s*)``?([A-Za-z_][\w-]*)``?\s*$")
_TABLE_ROW = re.compile(r"^(\s*)([A-Za-z_]\w*)(\s{2,})(\S.*)$")
_DEFAULT = re.compile(
    r"\(default:?\s*(`{0,2})(?P<value>[^`()]+?)\1\s*[,)]"
    r"|\b[Dd]efaults? (?:to|is) (?!(?:a|an|the)\b)(`{0,2})(?P<value2>[^`\s,;)]+?)\3(?=[\s,.;)]|$)"
)
DESCRIPTION_LINES = 8


def _indent(row: str) -> int:
    return len(row) - len(row.lstrip())


def _entries(rows: list[str]) -> list[tuple[int, str, list[int]]]:
    """(row, name, the rows describing it) of each listed setting."""
    out = []
    table = {i: m for i, row in enumerate(rows) if (m := _TABLE_ROW.match(row))}
    # a row's columns: its indentation and where its description starts
    columns = {i: (m.group(1), len(m.expand(r"\1\2\3"))) for i, m in table.items()}
    shared = Counter(columns.values())
    for i, row in enumerate(rows[:-1]):
        m = _TERM.match(row)
        if m is not None and rows[i + 1].strip() and _indent(rows[i + 1]) > len(m.group(1)):
            below = _described(rows, i + 1, len(m.group(1)))
            out.append((i, m.group(2), below))
        elif i in table and shared[columns[i]] >= 2:  # a table has two rows at least
            more = _described(rows, i + 1, columns[i][1] - 1)
            out.append((i, table[i].group(2), [i, *more]))
    return out


def _described(rows: list[str], first: int, indent: int) -> list[int]:
    """The rows from `first` on that are indented deeper than `indent`."""
    out = []
    for k in range(first, min(len(rows), first + DESCRIPTION_LINES)):
        if not rows[k].strip() or _indent(rows[k]) <= indent:
            break
        out.append(k)
    return out


def docstring_settings(node, path: str, lines: list[str], owners: tuple) -> list[Unit]:
    """The settings the docstring of the definition `node` (in the file `lines`) lists."""
    string = docstring_node(node)
    if string is None:
        return []
    top = string.start_point[0]
    rows = node_text(string).split("\n")
    out = []
    for i, name, described in _entries(rows):
        text = " ".join(rows[k].strip() for k in described)
        doc = (text.split(None, 1)[1] if described and described[0] == i else text)[:MAX_DOC_CHARS]
        about = {"doc": doc, "owner": " ".join(owners), "path": path}
        d = _DEFAULT.search(doc)
        value = d and (d.group("value") or d.group("value2"))
        at = next((k for k in reversed(described) if value and value in lines[top + k]), None)
        if at is not None:  # the default, cited where the description writes it (its last mention)
            line = lines[top + at]
            about["context"] = f"{name} {value}"
            out.append(
                Unit(kind="value", name=name, answer=value, line=top + at + 1, col=line.rfind(value) + 1, **about)
            )
        else:
            line = lines[top + i]
            about["context"] = name
            out.append(Unit(kind="option", name=name, answer=name, line=top + i + 1, col=line.find(name) + 1, **about))
    return out
