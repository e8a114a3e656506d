"""Which files a read leaves out: gitignore-style patterns from .gitignore files,
.git/info/exclude and `--include`/`--exclude`, matched as git matches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    """One gitignore pattern, relative to the directory `base` ("" for the root)."""

    regex: re.Pattern
    negated: bool
    dir_only: bool
    anchored: bool  # a slash before the end: match the whole path below base, not a name
    base: str = ""

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1 :]
        target = path if self.anchored else path.rpartition("/")[2]
        return self.regex.fullmatch(target) is not None


def parse_pattern(line: str, base: str = "") -> Pattern | None:
    """A gitignore line as a Pattern, or None for blank lines and comments."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    return Pattern(re.compile(glob_to_regex(line), re.DOTALL), negated, dir_only, anchored, base)


def glob_to_regex(glob: str) -> str:
    """Git's wildmatch as a regex: `*`, `?` and `[...]` stay inside one path component,
    `**` spans components only as a whole component (`**/x`, `x/**`, `x/**/y`)."""
    out = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            whole_component = j - i >= 2 and (i == 0 or glob[i - 1] == "/") and (j == n or glob[j] == "/")
            if not whole_component:
                out.append("[^/]*")
            elif j == n:
                out.append(".*")
            else:
                out.append("(?:.*/)?")
                j += 1  # the slash is part of the optional group
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _char_class(glob, i)
            out.append(cls)
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _char_class(glob: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression at glob[start]; a `[` without a closing `]` is literal."""
    i = start + 1
    negated = i < len(glob) and glob[i] in "!^"
    if negated:
        i += 1
    members = []
    first = True
    while i < len(glob) and (glob[i] != "]" or first):
        c = glob[i]
        if c == "\\" and i + 1 < len(glob):
            members.append(re.escape(glob[i + 1]))
            i += 2
        else:
            members.append("-" if c == "-" else re.escape(c))
            i += 1
        first = False
    if i >= len(glob):
        return re.escape("["), start + 1
    body = "".join(members)
    return ("[^/" + body + "]" if negated else "[" + body + "]"), i + 1


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns in force for a directory; later (deeper) patterns win, as in git."""

    patterns: tuple[Pattern, ...] = ()

    def extended(self, lines: Iterable[str], base: str = "") -> IgnoreRules:
        parsed = (parse_pattern(line, base) for line in lines)
        return IgnoreRules(self.patterns + tuple(p for p in parsed if p is not None))

    def ignores(self, path: str, is_dir: bool) -> bool:
        for pattern in reversed(self.patterns):
            if pattern.matches(path, is_dir):
                return not pattern.negated
        return False


def read_lines(path: Path) -> list[str]:
    """The lines of an ignore file; a missing or unreadable one simply adds no rules."""
    try:
        with path.open("rb") as f:
            return f.read().decode("utf-8-sig", errors="replace").splitlines()
    except OSError:
        return []


class Filters:
    """--include/--exclude: gitignore-style globs on the display path. A file matches when the
    glob matches its path or one of its parent directories, so `--exclude build` drops build/."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str]):
        self.include = [p for p in map(parse_pattern, include) if p is not None]
        self.exclude = [p for p in map(parse_pattern, exclude) if p is not None]

    def keep(self, path: str) -> bool:
        if self.include and not any_match(self.include, path):
            return False
        return not any_match(self.exclude, path)


def any_match(patterns: list[Pattern], path: str) -> bool:
    """gitignore-style: a pattern matches the path itself or one of its parent directories."""
    parts = path.split("/")
    parents = ["/".join(parts[:k]) for k in range(1, len(parts))]
    return any(p.matches(path, False) or any(p.matches(d, True) for d in parents) for p in patterns)
