"""The notepad: the read text kept verbatim (compressed) with a lexical index, for exact recall.

TTT-E2E compresses what it reads into weights, which keeps gist and style but loses exact
details from far outside the attention window. The notepad is the complement: every read
file's text, compressed, plus a BM25 index over short passages, so `ask` can put the few
passages that matter back into the window before the question and cite where they came from.

Index design, kept small so a snapshot grows by well under half the compressed text:

- Each file is cut into blocks of `BLOCK_LINES` lines (fewer once `BLOCK_CHARS` are
  reached, for prose written one paragraph per line); a passage is `PASSAGE_BLOCKS`
  consecutive blocks of one file, one starting at every block, so passages overlap while
  the index stores each block once.
- Terms are identifier-aware: every `\\w+` word lowercased, and when it is a compound
  (`snake_case`, `CamelCase`, `HTTPServer2`), its parts too. A file's path counts as text of
  its first block (the model reads it in the file header). Lines that define a name
  (`def x`, `class X`, `fn x`, `X = ...` at the top level but not `X = module.X`; in prose a
  markdown heading, a command's synopsis `x [-ab] ...`, a glossary entry `X A list of ...`,
  a texinfo manual's `[Function]int x (...`)
  add the term `=x`, so a query naming `x` prefers its definition over its uses. A file's
  stem adds `@x` to its first block, which counts like a use: a query for `Message` finds
  `class Message:` before the top of message.py, and still finds the module named
  `snapshot` when nothing defines `snapshot`.
- The vocabulary leaves out words seen in a single block (about half of it, most of all in
  prose); a query word missing from it is looked up in the texts instead. Every other term
  keeps its block count (for IDF), and only terms in at most ~5% of the blocks keep their
  block list. A search ranks passages by those rarer terms first, then rescores the best
  few dozen with full BM25 on their text, every query term counted.
- A question also names things no word index holds: an option (`-L`, not `-l`), a special
  parameter (`$?`), a quoted heading or cased name (`Unquote` is not `unquote`), the
  subject of "what is X?". Those are found verbatim
  by scanning the texts at search time (`exact_phrases`), so snapshots made before them
  answer the same way; an option list's line defines its option (`=-L`). A question's
  words also find the other forms the vocabulary has (`inflections`: "changes" finds
  "Change", "reads" the synopsis of `read`), a hyphenated word its joined form
  ("read-only" finds "readonly"), and adjacent words the name code gives them ("block
  start string" finds `BLOCK_START_STRING`). In a manual, a passage also counts the
  command whose synopsis is above it, so "the -x option of set" finds `set`'s list, not
  `ulimit`'s.
- Stored as one LZMA stream of: a JSON header, the texts, the front-coded sorted vocabulary,
  and one varint stream (block counts, block-id deltas, lines per block).

The format is versioned (`MAGIC` + one version byte); `from_bytes` refuses other versions.
"""

from __future__ import annotations

import bisect
import json
import lzma
import math
import re
import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.text import filekinds
from ttt_read.text.sources import PAGE_MARK

MAGIC = b"TTNP"
VERSION = 1
BLOCK_LINES = 12  # a block ends after this many lines,
BLOCK_CHARS = 800  # or once it holds this many characters (long prose lines)
PASSAGE_BLOCKS = 2  # a passage is two consecutive blocks of one file; one starts at every block
POSTING_MAX_SHARE = 0.05  # terms in more than this share of blocks keep only their count,
POSTING_MIN_CAP = 16  # but never below this many blocks
FOCUS_LINES_BEFORE = 4  # a returned passage starts this many lines above its best line,
DEFINITION_REACH = 8  # or higher, at a definition this close above it: what the lines describe
CANDIDATES = 32  # passages rescored on their text per search
OWNER_LINES = 200  # how far above a passage the synopsis of the command it documents may be
SCAN_MAX_HITS = 20_000  # a term missing from the vocabulary is looked for at most this often per file
K1, B = 1.2, 0.75  # BM25
DEFINITION = "="  # marks the term of a name a line defines
FILE_NAME = "@"  # marks the term of a file's stem
EXACT = '"'  # marks a query's verbatim text: an option (`-L`) or a quoted phrase, found by scanning
MARKER_WEIGHTS = {DEFINITION: 2.0, FILE_NAME: 1.0, EXACT: 2.0}  # how much each counts, relative to a use
INFLECTION_WEIGHT = 0.5  # another form of a question's word ("changes" -> "change"), relative to the word
LZMA_PRESET = 6 | lzma.PRESET_EXTREME

_WORD = re.compile(r"\w+")
_HYPHENATED = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)+\b")
_WORD_CHAR = re.compile(r"\w")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W\d_A-Za-z]+")
_DEFINITION = re.compile(
    r"^\s*(?:(?:export|pub(?:\([^)]*\))?|public|private|protected|static|async|default|abstract|final|inline|unsafe)\s+)*"
    r"(?:def|class|function|func|fn|struct|enum|trait|interface|impl|type|module|macro_rules!|const|let|var|val|sub|proc)"
    r"\s+(?:\([^)]*\)\s*)?\*?([A-Za-z_$][\w$]*)"
)
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)(?!\s*[\w.]+\.\1\s*$)")  # not `X = module.X`
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+)$")
_NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)*\.?)[ \t]+([A-Z][^.!?:;]{2,70})$")
_OPTION = r"-{1,2}[\w?][\w-]*"  # "-x", "--line-length", "-?"
_ARGUMENT = r"[ =]?<?\[?[A-Za-z][\w:.=-]*\]?>?"  # " file", "=BITS", " [n]", " <dir>"
OPTION_LINE = re.compile(  # a line of an option list: the option and its aliases, its argument, its description
    rf"^[ \t]*({_OPTION}(?:,[ \t]*{_OPTION})*)"
    rf"(?:(?! [A-Z][a-z]){_ARGUMENT})?"  # "-f file", not "-S Display ..."
    r"(?:[ \t]{2,}|[ \t]+(?=[A-Z]))(\S.*)$"
)
OPTION_ALONE = re.compile(  # a man page's option entry: "-l, --length=BITS" alone, its description indented below
    rf"^([ \t]*)({_OPTION}(?:{_ARGUMENT})?(?:,[ \t]*{_OPTION}(?:{_ARGUMENT})?)*)[ \t]*$"
)
# A command's synopsis: "read [-ers] [-a aname] ...", "history -d offset". Starting with an
# option, the line must hold no two plain words in a row and no final stop: those are prose
# that happens to begin with a word and an option ("the -o option to the set builtin").
COMMAND_SYNOPSIS = re.compile(
    r"^([a-z][\w-]{1,20})[ \t]+(?:[\[<]|-(?!.*(?<![\w-])[a-z]+[,.]?[ \t]+[a-z]+(?![\w-]))(?!.*\.$))[^\n]*$"
)
# A texinfo manual's definition as its PDF prints it: "[Function]int asn1_create_element (...",
# "[Variable]int foo", "[Data Type]asn1_node": the category in brackets, a type, the name.
TEXINFO_DEFINITION = re.compile(r"^[ \t]*\[[A-Z][A-Za-z ]*\][ \t]*(?:[\w \t*]*?[ \t*])?([A-Za-z_]\w*)[ \t]*(?:\(|$)")
GLOSSARY_NAME = r"[A-Z][A-Z0-9_]{2,}"  # what a glossary defines: a name in capitals, `PATH`, `HISTFILESIZE`
TERM_LINE = re.compile(  # a glossary's entry: "PATH A colon-separated list ...", or the name alone on its line
    rf"^[ \t]*({GLOSSARY_NAME})(?:[ \t]+[A-Z](?![A-Z])|[ \t]*$)"
)
DOT_LEADER = re.compile(r"\.(?:[ \t]?\.){3,}")  # the dots of a contents or index entry, leading to its page
OPTION = re.compile(_OPTION)
_QUERY_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
_QUERY_SYMBOL = re.compile(r"(?<!\S)(\$[?$!#@*0-9_-])(?!\w)")  # a shell's special parameter: `$?`, `$$`
# A quoted name whose case tells it apart: Go's `Unquote` is not `unquote`, `Message` not `message`.
_CASED_NAME = re.compile(r"(?=[\w.]*[A-Z])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_QUERY_QUOTED = re.compile(r"`([^`]+)`|[\"\u201c]([^\"\u201d]+)[\"\u201d]")
_QUERY_WHAT_IS = re.compile(r"^\W*what (is|are) (?:an? |the )?(.+?)\W*$", re.I)

# Question words that say what kind of answer is wanted, not where it is.
FUNCTION_WORDS = frozenset(  # carry no subject in any question
    """a an the of in on to for by with and or is are was were be been what which where who whom
    when how why does do did can could should would will i me my we you your
    this that it its there""".split()
)
QUESTION_WORDS = frozenset(  # the generated questions' own wording, a subject only when nothing else is
    """say says said take takes defined define value values parameter parameters argument
    arguments have has methods docstring fill blank first sentence under heading section
    module class function command builtin option variable""".split()
)


def word_terms(word: str) -> list[str]:
    """The index terms of one word: itself lowercased, plus its parts if it is a compound."""
    whole = word.lower()
    out = [whole] if len(whole) > 1 else []
    parts = [p.lower() for piece in word.split("_") for p in _PART.findall(piece)]
    if len(parts) > 1:
        out += [p for p in parts if len(p) > 1 and p != whole]
    return out


class _Terms:
    """Memoised `word_terms` over a text's words, since identifiers repeat a lot."""

    def __init__(self):
        self.cache: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        out = []
        cache = self.cache
        for word in _WORD.findall(text):
            terms = cache.get(word)
            if terms is None:
                terms = cache[word] = word_terms(word)
            out += terms
        return out


def line_style(path: str, kind: str) -> str:
    """How a file's lines define names: "code" (definitions only), "text" (prose: also a
    markdown heading's words and an option list's options), "pdf" (options, but no `#`
    headings: PDF text has none, and its `#` lines are comments of printed examples)."""
    return "pdf" if kind == "pdf" else "text" if filekinds.is_prose(path) else "code"


def numbered_heading(line: str) -> bool:
    """`3.2 Shell Parameters`: a section number, then words mostly in title case."""
    m = _NUMBERED_HEADING.match(line.strip())
    if not m:
        return False
    words = [w for w in m.group(2).split() if len(w) >= 4]
    return bool(words) and sum(w[0].isupper() for w in words) * 2 >= len(words)


def defined_names(line: str, style: str = "text") -> list[str]:
    """Names a line defines: `def f`, `class C`, `fn f`, top-level `K = ...`, and in prose
    (`line_style`) the words of a markdown heading, the options an option list's line
    describes (or a man page's, alone on its line), a command's synopsis, a glossary's
    entry (`TERM_LINE`) and a texinfo manual's function or variable."""
    m = _DEFINITION.match(line) or _ASSIGNMENT.match(line)
    if m:
        return [m.group(1)]
    if style == "code":
        return []
    if style == "text" and (m := _HEADING.match(line)):
        return _WORD.findall(m.group(1))
    if m := OPTION_LINE.match(line):
        return OPTION.findall(m.group(1))
    if m := OPTION_ALONE.match(line):
        return OPTION.findall(m.group(2))
    if m := COMMAND_SYNOPSIS.match(line.strip()) or TERM_LINE.match(line) or TEXINFO_DEFINITION.match(line):
        return [m.group(1)]
    return []


def definition_terms(line: str, style: str = "text") -> list[str]:
    """`=term` for each defined name; an option keeps its case (`-L` is not `-l`)."""
    return [
        DEFINITION + t
        for name in defined_names(line, style)
        for t in ([name] if name.startswith("-") else word_terms(name)[:1])
    ]


def described_option(lines: list[str], i: int) -> re.Match | None:
    """The option entry (`OPTION_ALONE`) on the line above when line i is its description,
    as man pages print it: indented deeper than the entry."""
    if i == 0 or not lines[i].strip() or not (m := OPTION_ALONE.match(lines[i - 1])):
        return None
    return m if len(lines[i]) - len(lines[i].lstrip()) > len(m.group(1)) else None


def block_terms(lines: list[str], style: str, terms_of: _Terms | None = None) -> list[str]:
    """Every term of some lines: their words' terms and the names they define."""
    terms = (terms_of or _Terms())("\n".join(lines))
    for line in lines:
        terms += definition_terms(line, style)
    return terms


def described_definition(lines: list[str], at: int, style: str) -> int | None:
    """The line defining what line `at` describes: the nearest at most `DEFINITION_REACH`
    lines above it (or itself) that defines a name. A function reference may list the
    parameters between the name and what the function does."""
    return next((i for i in range(at, max(at - DEFINITION_REACH, -1), -1) if defined_names(lines[i], style)), None)


def owning_command(lines: list[str], at: int, style: str) -> str | None:
    """The command a manual's line documents: the nearest synopsis at or above it. "The -x
    option of set" is in `set`'s option list, far below the word `set`."""
    if style == "code":
        return None
    for i in range(at, max(at - OWNER_LINES, -1), -1):
        if m := COMMAND_SYNOPSIS.match(lines[i].strip()):
            return m.group(1)
    return None


def _owner_terms(lines: list[str], first: int, style: str) -> list[str]:
    """A manual's passage also speaks of the command whose option list it is in."""
    name = word_terms(owning_command(lines, first - 1, style) or "")[:1]
    return name + [DEFINITION + t for t in name]


def path_terms(path: str) -> list[str]:
    """A file's path as terms of its first block, and its stem as the file's name."""
    stem = path.rpartition("/")[2].partition(".")[0]
    return _Terms()(path) + [FILE_NAME + t for t in word_terms(stem)[:1]]


def is_marker(term: str) -> bool:
    """Whether a term marks a definition or a file name rather than a word of the text."""
    return term[:1] in MARKER_WEIGHTS


def query_terms(query: str) -> list[str]:
    """A question's terms: its words' index terms without the question words, each
    identifier also asking for its definition (`=name`) and a file named after it (`@name`),
    plus its verbatim parts (`exact_phrases`) marked `"`."""
    words = [w for w in _WORD.findall(query)]
    subject = [w for w in words if w.lower() not in FUNCTION_WORDS]
    kept = [w for w in subject if w.lower() not in QUESTION_WORDS] or subject or words
    terms = []
    for w in kept:
        own = word_terms(w)
        terms += own
        if own:
            terms += [DEFINITION + own[0], FILE_NAME + own[0]]
    phrases = exact_phrases(query)
    return terms + [EXACT + p for p in phrases] + [DEFINITION + p for p in phrases if p.startswith("-")]


_SUFFIXES = ("ing", "ed", "es", "s")


def inflections(word: str) -> list[str]:
    """Other forms of an English word, by its suffix: a question asks "which command
    changes ..." where a manual says "Change ...". Only alphabetic words of 4+ letters; the
    caller keeps the forms its text has."""
    if len(word) < 4 or not word.isalpha():
        return []
    stems = {word[: -len(x)] for x in _SUFFIXES if word.endswith(x) and len(word) - len(x) >= 3} or {word}
    stems |= {stem[:-1] for stem in stems if stem.endswith("e")}  # "change" -> "changing"
    forms = {stem + x for stem in stems for x in ("", "e", "s", "es", "ed", "d", "ing")}
    return sorted(forms - {word})


def compounds(query: str) -> list[str]:
    """A question's hyphenated words whole and joined: "read-only" is also "readonly", which
    its parts "read" and "only" do not find. The caller keeps the forms its text has."""
    found = [w.lower() for w in _HYPHENATED.findall(query)]
    return list(dict.fromkeys(found + [w.replace("-", "") for w in found]))


def identifiers(query: str) -> list[str]:
    """Runs of 2-3 adjacent words of a question joined as code names them: "the default block
    start string" may be `BLOCK_START_STRING` or `blockStartString` (the index holds names
    lowercased). The caller keeps the forms its vocabulary has."""
    words = _WORD.findall(query.lower())
    out = []
    for n in (2, 3):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if not any(w in FUNCTION_WORDS for w in run):
                out += ["_".join(run), "".join(run)]
    return list(dict.fromkeys(out))


def exact_phrases(query: str) -> list[str]:
    """What a question names verbatim, which word terms lose: options (`-L` is not `-l`,
    and one letter is no word term), special parameters (`$?`), quoted text of several words ("3.1.2 Quoting"), and
    the subject of "what is X?" followed by its verb, where a definition says it."""
    found = _QUERY_OPTION.findall(query) + _QUERY_SYMBOL.findall(query)
    for a, b in _QUERY_QUOTED.findall(query):
        quoted = " ".join((a or b).split())
        if _CASED_NAME.fullmatch(quoted):
            found.append(quoted)
        elif len(_WORD.findall(quoted)) >= 2 and "____" not in quoted:
            found.append(quoted.lower())
    if m := _QUERY_WHAT_IS.match(query):
        found.append(f"{' '.join(m.group(2).split())} {m.group(1)}".lower())
    return list(dict.fromkeys(found))


def _starts_phrase(lines: list[str], i: int, phrase: str) -> bool:
    """Whether `phrase` starts on line i (running on into the next line, as wrapped text
    does), on a line that is not a contents entry (the heading it lists is in the text)."""
    if DOT_LEADER.search(lines[i]):
        return False
    joined = lines[i] + (" " + lines[i + 1] if i + 1 < len(lines) else "")
    m = exact_pattern(phrase).search(joined)
    return m is not None and m.start() < len(lines[i])


_EXACT_PATTERNS: dict[str, re.Pattern] = {}


def exact_pattern(phrase: str) -> re.Pattern:
    """Where `phrase` occurs as a whole: options and names case-sensitively and not inside a
    longer option or name; other phrases in any case and spacing (text wraps), not inside a
    longer word."""
    pattern = _EXACT_PATTERNS.get(phrase)
    if pattern is None:
        if phrase.startswith("-"):
            pattern = re.compile(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])")
        elif _CASED_NAME.fullmatch(phrase):
            pattern = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")
        else:
            body = r"\s+".join(re.escape(part) for part in phrase.split())
            edge = lambda c: r"\b" if _WORD_CHAR.match(c) else ""  # noqa: E731
            pattern = re.compile(edge(phrase[0]) + body + edge(phrase[-1]), re.IGNORECASE)
        pattern = _EXACT_PATTERNS[phrase] = pattern
    return pattern


# --- varints ---------------------------------------------------------------------------------


def _encode_varints(values: Iterable[int]) -> bytes:
    out = bytearray()
    for v in values:
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _decode_varints(data: bytes) -> np.ndarray:
    """All varints of `data` at once (LEB128, little-endian groups of 7 bits)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size == 0 or ends[-1] != raw.size - 1:
        raise ValueError("truncated varint stream")
    starts = np.concatenate(([0], ends[:-1] + 1))
    shift = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    return np.add.reduceat((raw & 0x7F).astype(np.int64) << (7 * shift), starts)


# --- the notepad -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    path: str
    line_start: int  # 1-based, inclusive, in the file's text
    line_end: int
    page: int | None  # PDFs: the page of the best-matching line
    text: str
    score: float
    focus: int = 0  # the line that matches the query best
    owner: str | None = None  # manuals: the command whose documentation the focus line is in
    definition: int | None = None  # the line defining what the focus line describes (`described_definition`)

    def cite(self, line: int | None = None) -> str:
        """`path:line` for text, `path (page N)` for PDFs."""
        if self.page is not None:
            return f"{self.path} (page {self.page})"
        return f"{self.path}:{line or self.focus or self.line_start}"


@dataclass
class _File:
    path: str
    kind: str
    text: str
    first_block: int
    block_starts: list[int]  # 0-based first line of each of its blocks
    lines: list[str] = field(default_factory=list)
    pages: list[tuple[int, int]] | None = None  # (line index, page) of each page marker
    newlines: list[int] | None = None  # character offset of every newline

    @property
    def n_blocks(self) -> int:
        return len(self.block_starts)

    def line_list(self) -> list[str]:
        if not self.lines:
            self.lines = self.text.split("\n")
        return self.lines

    def line_of_offset(self, offset: int) -> int:
        """The 0-based line a character offset of the text is on."""
        if self.newlines is None:
            self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self.newlines, offset)

    def block_range(self, first: int, last: int) -> tuple[int, int]:
        """Lines [lo, hi) of the file's blocks first..last (indices within the file)."""
        hi = self.block_starts[last + 1] if last + 1 < self.n_blocks else len(self.line_list())
        return self.block_starts[first], hi

    def page_of(self, line: int) -> int | None:
        """The page a 1-based line is on (PDF text marks pages with "[page N]" lines)."""
        if self.kind != "pdf":
            return None
        if self.pages is None:
            self.pages = [
                (i, int(m.group(1))) for i, line in enumerate(self.line_list()) if (m := PAGE_MARK.match(line))
            ]
        if not self.pages:
            return None
        at = bisect.bisect_right([i for i, _ in self.pages], line - 1) - 1
        return self.pages[max(at, 0)][1]


def _blocks(lines: list[str]) -> list[int]:
    """First line of each block: BLOCK_LINES lines, or fewer once BLOCK_CHARS are reached."""
    starts, size, count = [0], 0, 0
    for i, line in enumerate(lines):
        if count and (count >= BLOCK_LINES or size >= BLOCK_CHARS):
            starts.append(i)
            size, count = 0, 0
        size += len(line) + 1
        count += 1
    return starts


def posting_cap(n_blocks: int) -> int:
    """Terms in more blocks than this keep only their count: they rank little and cost most."""
    return max(POSTING_MIN_CAP, int(POSTING_MAX_SHARE * n_blocks))


def _front_code(sorted_terms: list[str]) -> str:
    """Each term as one control character (length of the prefix shared with the previous
    term, at most 30) plus the rest; terms are `\\w+`, `=\\w+` or `@\\w+`, never control characters."""
    out, prev = [], ""
    for term in sorted_terms:
        n = 0
        limit = min(len(term), len(prev), 30)
        while n < limit and term[n] == prev[n]:
            n += 1
        out.append(chr(1 + n) + term[n:])
        prev = term
    return "".join(out)


def _front_decode(coded: str) -> list[str]:
    terms, prev = [], ""
    for shared, rest in _FRONT_ENTRY.findall(coded):
        prev = prev[: ord(shared) - 1] + rest
        terms.append(prev)
    return terms


_FRONT_ENTRY = re.compile(r"([\x01-\x1f])([^\x01-\x1f]*)")


class Notepad:
    """Texts plus a block-level index; see the module docstring for the layout."""

    def __init__(
        self,
        files: list[_File],
        vocab: list[str],
        df: np.ndarray,
        total_terms: int,
        postings: dict[str, np.ndarray] | None = None,
        lazy: tuple | None = None,
    ):
        self.files = files
        self.vocab = vocab
        self.index = {t: i for i, t in enumerate(vocab)}
        self.df = df
        self.total_terms = total_terms
        self._postings = postings if postings is not None else {}
        self._lazy = lazy  # (offset of each term's postings or -1, deltas) until a term is needed
        self._scanned: dict[str, np.ndarray] = {}
        self.n_blocks = sum(f.n_blocks for f in files)
        self.cap = posting_cap(self.n_blocks)
        self.block_file = np.zeros(self.n_blocks, dtype=np.int64)
        for i, f in enumerate(files):
            self.block_file[f.first_block : f.first_block + f.n_blocks] = i
        self.avg_length = PASSAGE_BLOCKS * total_terms / self.n_blocks if self.n_blocks else 1.0

    # building

    @classmethod
    def build(cls, source_files: Iterable) -> Notepad:
        """Index `sources.SourceFile`s (anything with `path`, `kind` and `text`)."""
        terms_of = _Terms()
        files: list[_File] = []
        blocks_of: dict[str, list[int]] = {}
        total, n_blocks = 0, 0
        for sf in source_files:
            lines = sf.text.split("\n")
            style = line_style(sf.path, sf.kind)
            starts = _blocks(lines)
            files.append(_File(sf.path, sf.kind, sf.text, n_blocks, starts, lines))
            for b, lo in enumerate(starts):
                hi = starts[b + 1] if b + 1 < len(starts) else len(lines)
                terms = block_terms(lines[lo:hi], style, terms_of)
                if b == 0:
                    terms += path_terms(sf.path)
                total += len(terms)
                for term in set(terms):
                    blocks_of.setdefault(term, []).append(n_blocks + b)
            n_blocks += len(starts)
        cap = posting_cap(n_blocks)
        vocab = sorted(t for t, b in blocks_of.items() if len(b) > 1 or is_marker(t))
        df = np.array([len(blocks_of[t]) for t in vocab], dtype=np.int64)
        postings = {t: np.array(blocks_of[t], dtype=np.int64) for t in vocab if len(blocks_of[t]) <= cap}
        return cls(files, vocab, df, total, postings)

    # serialising

    def to_bytes(self) -> bytes:
        texts = [f.text.encode("utf-8", "surrogatepass") for f in self.files]
        ints = self.df.tolist()
        for term in self.vocab:
            blocks = self._term(term)
            if blocks is not None:
                ints += np.diff(blocks, prepend=0).tolist()
        for f in self.files:
            ints += np.diff(f.block_starts + [len(f.line_list())]).tolist()
        varints = _encode_varints(ints)
        vocab = _front_code(self.vocab).encode("utf-8", "surrogatepass")
        header = {
            "block_lines": BLOCK_LINES,
            "block_chars": BLOCK_CHARS,
            "total_terms": self.total_terms,
            "files": [[f.path, f.kind, len(t), f.n_blocks] for f, t in zip(self.files, texts)],
            "sizes": [len(vocab), len(varints)],
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        payload = struct.pack("<I", len(head)) + head + b"".join(texts) + vocab + varints
        return MAGIC + bytes([VERSION]) + lzma.compress(payload, preset=LZMA_PRESET)

    @classmethod
    def from_bytes(cls, data: bytes) -> Notepad:
        if data[:4] != MAGIC:
            raise TTTReadError("snapshot notepad: not a ttt-read notepad", ExitCode.SNAPSHOT)
        if len(data) < 5 or data[4] != VERSION:
            found = data[4] if len(data) > 4 else "?"
            raise TTTReadError(
                f"snapshot notepad: version {found} is not supported (this ttt-read reads {VERSION})", ExitCode.SNAPSHOT
            )
        try:
            payload = lzma.decompress(data[5:])
            interrupts.point("notepad-decode")
            (n,) = struct.unpack("<I", payload[:4])
            header = json.loads(payload[4 : 4 + n])
            at = 4 + n
            texts = []
            for path, kind, size, n_blocks in header["files"]:
                texts.append((path, kind, payload[at : at + size].decode("utf-8", "surrogatepass"), n_blocks))
                at += size
            n_vocab, n_varints = header["sizes"]
            vocab = _front_decode(payload[at : at + n_vocab].decode("utf-8", "surrogatepass"))
            at += n_vocab
            ints = _decode_varints(payload[at : at + n_varints])
            df = ints[: len(vocab)]
            n_blocks = sum(t[3] for t in texts)
            has_postings = df <= posting_cap(n_blocks)
            offsets = np.full(len(vocab) + 1, -1, dtype=np.int64)
            starts = np.concatenate(([0], np.cumsum(np.where(has_postings, df, 0))))
            offsets[:-1] = np.where(has_postings, starts[:-1], -1)
            end = len(vocab) + int(starts[-1])
            deltas = ints[len(vocab) : end]
            block_lines = ints[end:].tolist()
            if len(block_lines) != n_blocks or len(deltas) != int(starts[-1]):
                raise ValueError("sizes do not add up")
            files, first = [], 0
            for path, kind, text, nb in texts:
                counts = block_lines[first : first + nb]
                block_starts = [0] + np.cumsum(counts[:-1]).tolist() if nb else []
                files.append(_File(path, kind, text, first, block_starts))
                first += nb
        except (lzma.LZMAError, ValueError, KeyError, TypeError, IndexError, struct.error, UnicodeDecodeError) as e:
            raise TTTReadError(f"snapshot notepad is unreadable ({type(e).__name__})", ExitCode.SNAPSHOT) from None
        return cls(files, vocab, df, int(header["total_terms"]), lazy=(offsets, deltas))

    def _term(self, term: str) -> np.ndarray | None:
        """The blocks holding `term`, or None if it is too common to have postings."""
        found = self._postings.get(term)
        if found is not None:
            return found
        i = self.index.get(term)
        if i is None:
            found = self._scanned.get(term)
            if found is None:
                found = self._scanned[term] = self._scan(term)
            return found
        if self._lazy is not None:
            offsets, deltas = self._lazy
            if offsets[i] >= 0:
                lo = int(offsets[i])
                found = self._postings[term] = np.cumsum(deltas[lo : lo + int(self.df[i])])
        return found

    def df_of(self, term: str) -> int:
        i = self.index.get(term)
        if i is not None:
            return int(self.df[i])
        return len(self._term(term))

    def _scan(self, term: str) -> np.ndarray:
        """Blocks holding a term the vocabulary leaves out (one seen in a single block, or not
        at all), found in the texts: hits that can start and end a word or a part of one,
        kept when the enclosing word really yields the term."""
        if term.startswith(EXACT):
            return self._scan_exact(term[1:])
        if is_marker(term):
            return np.zeros(0, dtype=np.int64)
        pattern = re.compile(re.escape(term), re.IGNORECASE)
        blocks: set[int] = set()
        checked: dict[str, bool] = {}
        for f in self.files:
            if term in _Terms()(f.path) and f.n_blocks:
                blocks.add(f.first_block)
            text = f.text
            for hits, m in enumerate(pattern.finditer(text)):
                if hits >= SCAN_MAX_HITS:
                    break
                lo, hi = m.start(), m.end()
                # a word or a part of one starts after a non-lowercase letter or at a capital,
                # and ends before a non-lowercase letter or with a capital
                if lo and text[lo - 1] in _LOWER and text[lo] not in _UPPER:
                    continue
                if hi < len(text) and text[hi] in _LOWER and text[hi - 1] not in _UPPER:
                    continue
                while lo > 0 and _WORD_CHAR.match(text, lo - 1):
                    lo -= 1
                while hi < len(text) and _WORD_CHAR.match(text, hi):
                    hi += 1
                word = text[lo:hi]
                if word not in checked:
                    checked[word] = term in word_terms(word)
                if checked[word]:
                    line = f.line_of_offset(m.start())
                    blocks.add(f.first_block + bisect.bisect_right(f.block_starts, line) - 1)
        return np.array(sorted(blocks), dtype=np.int64)

    def _scan_exact(self, phrase: str) -> np.ndarray:
        """Blocks where a verbatim phrase starts (`exact_pattern`)."""
        pattern = exact_pattern(phrase)
        blocks: set[int] = set()
        for f in self.files:
            for hits, m in enumerate(pattern.finditer(f.text)):
                if hits >= SCAN_MAX_HITS:
                    break
                line = f.line_of_offset(m.start())
                blocks.add(f.first_block + bisect.bisect_right(f.block_starts, line) - 1)
        return np.array(sorted(blocks), dtype=np.int64)

    # facts

    def text_bytes(self) -> int:
        return sum(len(f.text.encode("utf-8", "surrogatepass")) for f in self.files)

    def stats(self, packed: bytes | None = None) -> dict:
        """Sizes for the snapshot metadata and reports; compresses the texts once to compare."""
        texts = "".join(f.text for f in self.files).encode("utf-8", "surrogatepass")
        size = len(packed if packed is not None else self.to_bytes())
        compressed = len(lzma.compress(texts, preset=LZMA_PRESET))
        return {
            "version": VERSION,
            "files": len(self.files),
            "blocks": self.n_blocks,
            "terms": len(self.vocab),
            "text_bytes": len(texts),
            "compressed_text_bytes": compressed,
            "bytes": size,
            "overhead_ratio": round((size - compressed) / compressed, 4) if compressed else 0.0,
        }

    # searching

    def idf(self, term: str) -> float:
        df = self.df_of(term)
        return math.log(1 + (self.n_blocks - df + 0.5) / (df + 0.5)) if df else 0.0

    def _window(self, per_block: np.ndarray) -> np.ndarray:
        """Sum over the PASSAGE_BLOCKS blocks starting at each block, within one file."""
        out = per_block.copy()
        for j in range(1, PASSAGE_BLOCKS):
            shifted = np.zeros_like(per_block)
            shifted[:-j] = np.where(self.block_file[:-j] == self.block_file[j:], per_block[j:], 0)
            out += shifted
        return out

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The k best non-overlapping passages for `query`, best first.

        Stage 1 ranks passages by the query's indexed (not too common) terms; stage 2 scores
        the best candidates with full BM25 on their text, every query term counted.
        """
        if not self.n_blocks or k <= 0:
            return []
        weights: Counter = Counter()
        for term in query_terms(query):
            weights[term] += MARKER_WEIGHTS.get(term[:1], 1.0)
        for term in [t for t in weights if not is_marker(t)]:
            for variant in inflections(term):
                if variant not in weights and variant in self.index:
                    weights[variant] = INFLECTION_WEIGHT
                if DEFINITION + variant not in weights and DEFINITION + variant in self.index:  # "reads": `read [-ers]`
                    weights[DEFINITION + variant] = INFLECTION_WEIGHT * MARKER_WEIGHTS[DEFINITION]
        for form in compounds(query):  # few: looked up in the texts too when the vocabulary lacks them
            if form not in weights and self.df_of(form):
                weights[form] = 1.0
        for name in identifiers(query):  # many: looked up in the vocabulary only
            if name not in weights and name in self.index:
                weights[name] = 1.0
                if DEFINITION + name in self.index:
                    weights[DEFINITION + name] = MARKER_WEIGHTS[DEFINITION]
        idfs = {t: self.idf(t) * w for t, w in weights.items()}
        idfs = {t: v for t, v in idfs.items() if v > 0}
        if not idfs:
            return []
        coarse = np.zeros(self.n_blocks)

        def rank(blocks: np.ndarray, weight: float) -> None:
            present = np.zeros(self.n_blocks)
            present[blocks] = 1.0
            present = self._window(present)
            coarse[:] += weight * present * (K1 + 1) / (present + K1)

        for term, weight in idfs.items():
            blocks = self._term(term)
            if blocks is not None:
                rank(blocks, weight)
        if not coarse.any():  # only common words matched: look the two least common up in the texts
            common = sorted((self.df_of(t), t) for t in idfs if not is_marker(t))
            for _, term in common[:2]:
                rank(self._scan(term), idfs[term])
        order = np.argsort(-coarse, kind="stable")
        candidates = [int(b) for b in order[: max(CANDIDATES, 8 * k)] if coarse[b] > 0]
        scored = sorted((self._score(b, idfs) for b in candidates), key=lambda s: (-s[0], s[1]))
        passages: list[Passage] = []
        for score, start, last, focus in scored:
            if score <= 0 or len(passages) >= k:
                break
            p = self._passage(int(self.block_file[start]), start, last, score, focus)
            if not any(
                q.path == p.path and q.line_start <= p.line_end and p.line_start <= q.line_end for q in passages
            ):
                passages.append(p)
        return passages

    def _score(self, start: int, idfs: dict[str, float]) -> tuple[float, int, int, int]:
        """BM25 of the passage starting at block `start` from its text, and its best line."""
        f = self.files[int(self.block_file[start])]
        first = start - f.first_block
        last = min(first + PASSAGE_BLOCKS - 1, f.n_blocks - 1)
        lo, hi = f.block_range(first, last)
        lines = f.line_list()
        style = line_style(f.path, f.kind)
        terms_of = _Terms()
        exact = [t for t in idfs if t.startswith(EXACT)]
        tf: Counter = Counter(t for t in _owner_terms(lines, lo, style) if t in idfs)
        length = 0
        best, focus = -1.0, lo
        for i in range(lo, hi):
            terms = block_terms([lines[i]], style, terms_of)
            terms += [t for t in exact if _starts_phrase(lines, i, t[1:])]
            line_score = sum(idfs.get(t, 0.0) for t in set(terms))  # the path does not make line 1 the best
            if i == 0:
                terms += path_terms(f.path)
            length += len(terms)
            if line_score > best:
                best, focus = line_score, i
            tf.update(t for t in terms if t in idfs)
        norm = K1 * (1 - B + B * length / self.avg_length)
        score = sum(w * tf[t] * (K1 + 1) / (tf[t] + norm) for t, w in idfs.items() if tf[t])
        return score, start, f.first_block + last, focus

    def _passage(self, fi: int, start: int, last: int, score: float, focus: int) -> Passage:
        """The scored lines, moved to start a few lines above the best one (a definition at
        the end of a passage is better shown with the lines after it), or at the definition
        the best line describes when it is a little further up (a manual's function
        reference lists the parameters between the name and what the function does)."""
        f = self.files[fi]
        lo, hi = f.block_range(start - f.first_block, last - f.first_block)
        lines = f.line_list()
        style = line_style(f.path, f.kind)
        size = hi - lo
        definition = described_definition(lines, focus, style)
        lo = max(0, min(focus - FOCUS_LINES_BEFORE, focus if definition is None else definition, len(lines) - size))
        hi = min(len(lines), lo + size)
        text = "\n".join(lines[lo:hi])
        owner = owning_command(lines, focus, style)
        return Passage(
            f.path,
            lo + 1,
            max(lo + 1, hi),
            f.page_of(focus + 1),
            text,
            round(score, 4),
            focus + 1,
            owner,
            None if definition is None else definition + 1,
        )

    def file_text(self, path: str) -> str | None:
        for f in self.files:
            if f.path == path:
                return f.text
        return None
