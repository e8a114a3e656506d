"""What a package's prose says about its code: a README's option list or API reference often
describes a name that the code leaves uncommented (`awaitWriteFinish` in a JavaScript package
is documented only as "* `awaitWriteFinish` (default: `false`). ... holding its `add` and
`change` events until the size does not change"). Each name written as code in the prose
(`` `name` ``, ``` ``name`` ```, `` `.name()` ``) gathers the item it opens, or the sentence it
is in, and the units of that name are described by them too. A qualified name
(`` `options.depth` ``) counts only where it opens an item: in a sentence, `` `fs.watch` `` may
be another module's.
"""

from __future__ import annotations

import dataclasses
import re

from ttt_read.ask.unit import MAX_DOC_CHARS, Unit

_CODE_SPAN = re.compile(r"(`{1,2})([^`\n]{2,80}?)\1(?!`)")
_DOTTED = re.compile(r"\.?((?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]{2,}))(?:\([^()]*\))?")
_ITEM_START = re.compile(r"^\s*(?:[*+-]|\d+[.)]|#+)\s+")  # a list item or a heading opens a new entry
_MARKERS = " \t*+-#>0123456789.)"  # what may stand before the name that opens an entry
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
ITEM_WORDS = 60  # of the item a name opens: its first words
SENTENCE_WORDS = 40
SENTENCE_LINES, SENTENCE_CHARS = 8, 400  # how far a sentence around a name is looked for
MENTIONS = 3  # a name's first mentions, the item it opens first
SHORT_DOC = 60  # a doc comment shorter than this says little; the prose completes it


def mentions(lines: list[str]) -> dict[str, list[str]]:
    """name -> what the prose says about it: the entry a name opens ("* `atomic` (default: ...).
    Automatically filters out ..."), up to the next entry or blank line, or else the sentence
    the name is written in, unless that is in another name's entry (where "`.add()`" in the
    entry of `disableGlobbing` describes `disableGlobbing`)."""
    out: dict[str, list[tuple[bool, str]]] = {}
    entry = None  # the name the entry being read opened
    for at, line in enumerate(lines):
        if not line.strip() or _ITEM_START.match(line):
            entry = None
        lead = len(line) - len(line.lstrip(_MARKERS))  # a span here opens the line's entry
        for m in _CODE_SPAN.finditer(line):
            name = _DOTTED.fullmatch(m.group(2).strip())
            if name is None:
                continue
            opens = m.start() <= lead
            if opens:
                entry = name.group(2)
            elif name.group(1) != name.group(2) or entry not in (None, name.group(2)):
                continue  # `fs.watch` in a sentence may be another module's
            said = _entry(lines, at) if opens else _sentence(lines, at, m.start())
            out.setdefault(name.group(2), []).append((opens, said))
    return {name: [s for _, s in sorted(said, key=lambda x: not x[0])[:MENTIONS]] for name, said in out.items()}


def _entry(lines: list[str], at: int) -> str:
    """The first words of the entry line `at` opens, up to the next entry or blank line."""
    words: list[str] = []
    for k in range(at, len(lines)):
        if k > at and (not lines[k].strip() or _ITEM_START.match(lines[k])):
            break
        words += lines[k].split()
        if len(words) >= ITEM_WORDS:
            break
    return " ".join(words[:ITEM_WORDS])


def _sentence(lines: list[str], at: int, col: int) -> str:
    """The sentence around column `col` of line `at`, within its paragraph, looked for a few
    hundred characters and a few lines each way (a paragraph without end costs no more)."""
    before, k = lines[at][max(0, col - SENTENCE_CHARS) : col], at
    while len(before) < SENTENCE_CHARS and at - k < SENTENCE_LINES and k > 0 and _continues(lines, k):
        k -= 1
        before = lines[k][-SENTENCE_CHARS:] + " " + before
    after, k = lines[at][col : col + SENTENCE_CHARS], at
    while len(after) < SENTENCE_CHARS and k - at < SENTENCE_LINES and k + 1 < len(lines) and _continues(lines, k + 1):
        k += 1
        after += " " + lines[k][:SENTENCE_CHARS]
    starts = [m.end() for m in _SENTENCE_END.finditer(before)]
    end = _SENTENCE_END.search(after)
    said = before[starts[-1] if starts else 0 :] + (after[: end.end()] if end else after)
    return " ".join(said.split()[:SENTENCE_WORDS])


def _continues(lines: list[str], k: int) -> bool:
    """Whether line `k` goes on the paragraph of the line above it."""
    return bool(lines[k - 1].strip() and lines[k].strip()) and not _ITEM_START.match(lines[k])


def described(units: list[Unit], prose: dict[str, list[str]]) -> list[Unit]:
    """`units`, each code unit also described by what the prose files (path -> lines) say about
    its name: as its doc comment where it has little of one, else as more context."""
    said: dict[str, list[str]] = {}
    for lines in prose.values():
        for name, texts in mentions(lines).items():
            said.setdefault(name, []).extend(texts)
    if not said:
        return units
    out = []
    for u in units:
        texts = said.get(u.name) if u.kind != "error" and u.path not in prose else None
        if texts:
            text = " ".join(texts[:MENTIONS])
            if len(u.doc) < SHORT_DOC:
                u = dataclasses.replace(u, doc=f"{u.doc} {text}".strip()[:MAX_DOC_CHARS])
            else:
                u = dataclasses.replace(u, context=f"{u.context} {text}"[: MAX_DOC_CHARS * 2])
        out.append(u)
    return out
