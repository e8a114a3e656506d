"""The term lexicon: which words a line or a question stands for, and which names a line defines.

The notepad's index and search, the answer's units and the question synthesiser all read text
through these patterns, so a term means the same thing when indexed, asked and checked.
"""

from __future__ import annotations

import re

from ttt_read.text import filekinds

DEFINITION_REACH = 8  # how far above a line the definition of what it describes may be
OWNER_LINES = 200  # how far above a passage the synopsis of the command it documents may be
DEFINITION = "="  # marks the term of a name a line defines
FILE_NAME = "@"  # marks the term of a file's stem
EXACT = '"'  # marks a query's verbatim text: an option (`-L`) or a quoted phrase, found by scanning
MARKER_WEIGHTS = {DEFINITION: 2.0, FILE_NAME: 1.0, EXACT: 2.0}  # how much each counts, relative to a use

_WORD = re.compile(r"\w+")
_HYPHENATED = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)+\b")
WORD_CHAR = re.compile(r"\w")
LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
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


class Terms:
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


def block_terms(lines: list[str], style: str, terms_of: Terms | None = None) -> list[str]:
    """Every term of some lines: their words' terms and the names they define."""
    terms = (terms_of or Terms())("\n".join(lines))
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


def owner_terms(lines: list[str], first: int, style: str) -> list[str]:
    """A manual's passage also speaks of the command whose option list it is in."""
    name = word_terms(owning_command(lines, first - 1, style) or "")[:1]
    return name + [DEFINITION + t for t in name]


def path_terms(path: str) -> list[str]:
    """A file's path as terms of its first block, and its stem as the file's name."""
    stem = path.rpartition("/")[2].partition(".")[0]
    return Terms()(path) + [FILE_NAME + t for t in word_terms(stem)[:1]]


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


def starts_phrase(lines: list[str], i: int, phrase: str) -> bool:
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
            edge = lambda c: r"\b" if WORD_CHAR.match(c) else ""  # noqa: E731
            pattern = re.compile(edge(phrase[0]) + body + edge(phrase[-1]), re.IGNORECASE)
        pattern = _EXACT_PATTERNS[phrase] = pattern
    return pattern
