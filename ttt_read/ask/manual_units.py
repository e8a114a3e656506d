"""The units of manuals (prose and PDF text): option lists, texinfo function entries, command
synopses, setting lists, glossary entries and a specification's bulleted elements.
"""

from __future__ import annotations

import re

from ttt_read.ask.unit import MAX_DOC_CHARS, Unit
from ttt_read.notepad.lexicon import (
    COMMAND_SYNOPSIS,
    DOT_LEADER,
    FUNCTION_WORDS,
    GLOSSARY_NAME,
    OPTION_ALONE,
    OPTION_LINE,
    TERM_LINE,
    TEXINFO_DEFINITION,
    described_option,
    owning_command,
)
from ttt_read.text.sources import PAGE_MARK

_CATEGORY = re.compile(r"^[ \t]*\[([A-Za-z ]+)\]")


def texinfo_kind(line: str) -> str:
    """What a texinfo entry defines, by its category: `[Function]` and `[Macro]` a function,
    `[Command]` a command, `[Data type]` a type, and `[Global flag]`, `[Return code]`,
    `[Constant]` or `[Variable]` a named value."""
    category = _CATEGORY.match(line).group(1).lower()
    for word, kind in (("function", "function"), ("macro", "function"), ("command", "command"), ("type", "type")):
        if word in category:
            return kind
    return "variable"


_PARAMETER_LINE = re.compile(r"^[ \t]*[A-Za-z_][\w ]{0,30}:\s")
_TEXINFO_ANY = re.compile(r"^[ \t]*\[[A-Z][A-Za-z ]*\]")


def _paragraph(lines: list[str], start: int, limit: int = 6) -> str:
    out = []
    for line in lines[start : start + limit]:
        if not line.strip() or PAGE_MARK.match(line):
            if out:
                break
            continue
        out.append(line.strip())
    return " ".join(out)[:MAX_DOC_CHARS]


_LOOSE_OPTION = re.compile(r"^[ \t]*(-[A-Za-z0-9?](?:,[ \t]*--[\w-]+(?:=\w+)?)?|--[\w-]+(?:=\w+)?)[ \t]+([a-zA-Z(].*)$")
_SECTION_HEADINGS = frozenset(
    """NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES EXAMPLES EXAMPLE BUGS AUTHOR AUTHORS NOTES HISTORY
    COPYRIGHT STANDARDS CAVEATS SECURITY DIAGNOSTICS COMMANDS ARGUMENTS USAGE WARNINGS LIMITATIONS""".split()
)
_SETTING_ENTRY = re.compile(r"^[ \t]*([a-z][a-z0-9_-]{2,30})[ \t]+(?=If (?:set|enabled|this|non-zero|true)\b)")
_USAGE = re.compile(r"\b(?:Usage|usage|USAGE):?\s+([A-Za-z][\w.-]+)")
# a command line that redirects or pipes is an example of use, not a synopsis
_EXAMPLE = re.compile(r"^[^\[]*\s(?:>>?|<|\|)\s")
# A term of a definition list alone on its line, its description indented deeper below: a
# texinfo table's item as info prints it (‘--stdout’, 'GZIP', several items stacked for
# aliases), or a man page's keyword (`noauto`, `x-systemd.automount`).
_QUOTED_TERM = re.compile(r"^([ \t]*)[‘'`]([^’'`\s][^’'`]{0,40})[’'][ \t]*$")
_BARE_TERM = re.compile(r"^([ \t]*)([a-z][\w.=:-]{1,30})[ \t]*$")


_BULLET = r"^[ \t]*[•*-][ \t]"
# a format's specification lists its elements, attributes or keys as bullets that open with the
# name: "• sub-class-of elements indicate that ...", "• A glob-deleteall element, which ..."
_BULLET_TERM = re.compile(
    _BULLET + r"[ \t]*(?:(?:An?|The)[ \t]+)?([a-z][\w]*(?:[-_.:][\w]+)*)[ \t]+"
    r"(?:elements?|attributes?|keys?|fields?|tags?|directives?|properties|property|entries|entry|sections?)\b"
)


def _item(lines: list[str], at: int, limit: int = 6) -> str:
    """A bullet's text: its line and the lines that continue it, up to the next bullet."""
    out = [lines[at].strip().lstrip("•*- \t")]
    for line in lines[at + 1 : at + limit]:
        if not line.strip() or PAGE_MARK.match(line) or re.match(_BULLET, line):
            break
        out.append(line.strip())
    return " ".join(out)[:MAX_DOC_CHARS]


def _nearest_program(lines: list[str], at: int) -> str:
    """The program an option list belongs to when no synopsis says it: the nearest "Usage:
    prog ..." line above."""
    for i in range(at, max(at - 40, -1), -1):
        if m := _USAGE.search(lines[i]):
            return m.group(1)
    return ""


def _continuation(lines: list[str], start: int, limit: int) -> str:
    """The lines that go on a description begun on the line before: up to a blank line or the
    next entry."""
    out = []
    for line in lines[start : start + limit]:
        if not line.strip() or PAGE_MARK.match(line) or OPTION_LINE.match(line) or _LOOSE_OPTION.match(line):
            break
        out.append(line.strip())
    return " ".join(out)


def _list_entry(lines: list[str], i: int) -> tuple[list[tuple[int, re.Match]], int] | None:
    """The items of a definition-list entry that starts at line i, and the line where its
    description starts, when lines i... are items at one indentation with the description
    indented deeper right below (or after a blank line, below quoted items). A bare word must
    start a description of a few words (a sentence's first word alone on its line is no item)."""
    items = []
    j = i
    while j < len(lines) and (m := _QUOTED_TERM.match(lines[j]) or _BARE_TERM.match(lines[j])):
        if items and m.group(1) != items[0][1].group(1):
            return None
        items.append((j, m))
        j += 1
    bare = any(m.re is _BARE_TERM for _, m in items)
    if not bare and j + 1 < len(lines) and not lines[j].strip():
        j += 1  # Sphinx's info output leaves a blank line under a quoted item
    if not items or j >= len(lines) or not lines[j].strip():
        return None
    indent = len(lines[j]) - len(lines[j].lstrip())
    if indent <= len(items[0][1].group(1)) or OPTION_ALONE.match(lines[j]) or _QUOTED_TERM.match(lines[j]):
        return None
    if bare and (len(lines[j].split()) < 4 or not lines[j].lstrip()[:1].isalpha()):
        return None
    return items, j


def manual_units(path: str, lines: list[str], style: str) -> list[Unit]:
    units = []
    entry_end = 0  # the line after the last item of the list entry just read
    for i, line in enumerate(lines):
        if DOT_LEADER.search(line) or PAGE_MARK.match(line) or i < entry_end:
            continue
        if m := TEXINFO_DEFINITION.match(line):
            j = i + 1
            sig = line
            while j < len(lines) and "(" in sig and ")" not in sig and j < i + 4:  # a signature that wraps
                sig += " " + lines[j]
                j += 1
            params, desc = [], []
            k = j
            while k < min(len(lines), j + 30):
                text = lines[k]
                if _TEXINFO_ANY.match(text) or (
                    k + 1 < len(lines) and TEXINFO_DEFINITION.match(lines[k + 1]) and len(text.split()) <= 5
                ):
                    break
                if PAGE_MARK.match(text) or not text.strip():
                    k += 1
                    continue
                if _PARAMETER_LINE.match(text) and not desc and not text.lstrip().startswith("Returns"):
                    params.append(text.strip())
                else:
                    desc.append(text.strip())
                k += 1
            doc = " ".join(desc)[:MAX_DOC_CHARS]
            units.append(
                Unit.matched(
                    texinfo_kind(line),
                    m,
                    1,
                    path=path,
                    line=i + 1,
                    doc=doc,
                    context=sig.strip() + " " + " ".join(params)[:300],
                )
            )
            continue
        m = OPTION_LINE.match(line)
        if m is None and (m := _LOOSE_OPTION.match(line)):  # PDF text: "-c, --check checks the syntax only"
            neighbours = lines[max(0, i - 1) : i] + lines[i + 1 : i + 2]
            m = m if any(_LOOSE_OPTION.match(x) or OPTION_LINE.match(x) for x in neighbours) else None
        if m:
            owner = owning_command(lines, i, style) or _nearest_program(lines, i)
            doc = (m.group(2).strip() + " " + _continuation(lines, i + 1, 3)).strip()
            units.append(
                Unit.matched(
                    "option",
                    m,
                    1,
                    path=path,
                    line=i + 1,
                    answer=line.strip(),
                    owner=owner,
                    doc=doc,
                    context=line.strip(),
                )
            )
            units.append(
                Unit.matched(
                    "description",
                    m,
                    2,
                    path=path,
                    line=i + 1,
                    name=m.group(1),
                    answer=m.group(2).strip(),
                    owner=owner,
                    doc=doc,
                    context=line,
                )
            )
            continue
        if (m := OPTION_ALONE.match(line)) and described_option(lines, i + 1):
            owner = owning_command(lines, i, style) or _nearest_program(lines, i)
            doc = _paragraph(lines, i + 1, 4)
            units.append(
                Unit.matched("option", m, 2, path=path, line=i + 1, owner=owner, doc=doc, context=line.strip())
            )
            below = lines[i + 1]
            col = len(below) - len(below.lstrip()) + 1
            units.append(
                Unit(
                    kind="description",
                    name=m.group(2),
                    answer=below.strip(),
                    path=path,
                    line=i + 2,
                    col=col,
                    owner=owner,
                    doc=doc,
                    context=line,
                )
            )
            continue
        if entry := _list_entry(lines, i):
            items, below = entry
            entry_end = below
            terms = [m.group(2) for _, m in items]
            first = items[0][1]
            doc = _paragraph(lines, below, 4)
            kind = "env" if re.fullmatch(GLOSSARY_NAME, terms[0]) else "option"
            owner = owning_command(lines, i, style) or _nearest_program(lines, i)
            about = dict(path=path, line=i + 1, owner=owner, doc=doc, context=" ".join(terms))
            units.append(Unit.matched(kind, first, 2, name=", ".join(terms), **about))
            col = len(lines[below]) - len(lines[below].lstrip()) + 1
            about.update(line=below + 1, col=col, context=line)
            units.append(Unit(kind="description", name=terms[0], answer=lines[below].strip(), **about))
            continue
        stripped = line.strip()
        if (m := COMMAND_SYNOPSIS.match(stripped)) and not _EXAMPLE.search(stripped):
            offset = len(line) - len(line.lstrip())
            units.append(
                Unit(
                    kind="command",
                    name=m.group(1),
                    answer=stripped,  # the synopsis, name first: "read [-ers] [-a aname] ..."
                    path=path,
                    line=i + 1,
                    col=offset + 1,
                    doc=_paragraph(lines, i + 1, 6),
                    context=stripped,
                )
            )
            continue
        if m := _SETTING_ENTRY.match(line):  # "extglob If set, the extended pattern matching ... are enabled."
            units.append(
                Unit.matched(
                    "option",
                    m,
                    1,
                    path=path,
                    line=i + 1,
                    owner=owning_command(lines, i, style) or "",
                    doc=(line[m.end(1) :].strip() + " " + _paragraph(lines, i + 1, 2)).strip(),
                    context=stripped,
                )
            )
            continue
        if (m := _BULLET_TERM.match(line)) and m.group(1) not in FUNCTION_WORDS:
            units.append(Unit.matched("option", m, 1, path=path, line=i + 1, doc=_item(lines, i), context=stripped))
            continue
        if (m := TERM_LINE.match(line)) and m.group(1) not in _SECTION_HEADINGS:
            rest = line[m.end(1) :].strip()
            doc = (rest + " " + _paragraph(lines, i + 1, 3)).strip() if rest else _paragraph(lines, i + 1, 4)
            units.append(
                Unit.matched(
                    "env", m, 1, path=path, line=i + 1, doc=doc, context=stripped, tags=frozenset({"env-context"})
                )
            )
    return units
