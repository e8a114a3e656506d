"""What a question asks for: the kind of unit its wording wants ("Which function ...", "What is the
default ...", "Which option ...") and the words that only say what kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KIND_WORDS = {
    "function": "function",
    "functions": "function",
    "func": "function",
    "routine": "function",
    "procedure": "function",
    "helper": "function",
    "callable": "function",
    "api": "function",
    "call": "function",
    "hook": "function",
    "callback": "function",
    "macro": "function",
    "method": "method",
    "methods": "method",
    "constructor": "method",
    "decorator": "decorator",
    "decorators": "decorator",
    "property": "property",
    "getter": "property",
    "attribute": "property",
    "class": "class",
    "classes": "class",
    "type": "class",
    "struct": "class",
    "structure": "class",
    "interface": "class",
    "trait": "class",
    "object": "class",
    "enum": "enum",
    "enumeration": "enum",
    "exception": "exception",
    "exceptions": "exception",
    "error": "exception",
    "event": "event",
    "events": "event",
    "command": "command",
    "builtin": "command",
    "subcommand": "command",
    "constant": "variable",
    "constants": "variable",
    "variable": "variable",
    "variables": "variable",
    "sentinel": "variable",
    "global": "variable",
    "singleton": "variable",
}
_VALUE_CUES = re.compile(
    r"\b(default|defaults|by default|how many|how much|how long|how large|how big|how often|how old|maximum|minimum|"
    r"max|min|limit|size|width|length|timeout|exit code|start with|starts with|begin with|prefix|suffix|what value|"
    r"which value|what number|what port|what version|what encoding|what salt|what name|"
    r"longest|largest|biggest|smallest|shortest|greatest|fewest)\b",
    re.I,
)
_NUMERIC_CUES = re.compile(
    r"\b(how many|how much|how long|how large|how big|how often|maximum|minimum|max|min|limit|size|width|length|"
    r"timeout|exit code|number|count|port|seconds|depth|distance|similarity|threshold|ratio|level|"
    r"longest|largest|biggest|smallest|shortest|greatest|fewest)\b",
    re.I,
)
_YES_NO = re.compile(r"^\s*(does|do|is|are|can|will|should)\b.*\bby default\b", re.I)
_OPENING = re.compile(r"^\s*(which|what|name the|in which|whose)\b", re.I)
_ENV = re.compile(r"\benvironment variables?\b|\benv(?:ironment)?[ .-]?var(?:iable)?s?\b", re.I)
_OPTION = re.compile(r"\b(which|what) (?:command[- ]line )?(option|flag|switch)s?\b", re.I)
# a question that opens by asking for an option or a parameter wants its name, whatever it says
# next ("Which option sets how long to wait?" is not asking how long)
_OPTION_FIRST = re.compile(
    r"^\s*(?:which|what) (?:\w+ )?(?:command[- ]line )?(?:(?:option|flag|switch)s?|parameter|argument)\b", re.I
)
STOP_WORDS = frozenset(
    """from into onto at as up out about after before over under all any some each every if then than so not
    no only also just but via per such other another one ones get gets got us them they their there here
    way ways thing things something someone use used uses using instead whether while through without
    within across along around among upon during until since whose where everything anything""".split()
)
TYPE_WORDS = frozenset(
    """which what whose name default defaults function functions method methods class classes
    decorator decorators property exception exceptions enum type option options flag flags variable variables
    environment constant setting many much long use used uses""".split()
)
# kind words that are also subject words ("the default of ...", "an option that ...")
SOFT_TYPE_WORDS = frozenset("default error exception option flag variable environment".split())


@dataclass
class Asked:
    want: str  # definition, value, option, env, file
    kind: str | None  # for definitions: function, method, class, exception, decorator, property, enum, command;
    # for options: "flag" when a flag is asked for
    numeric: bool = False
    boolean: bool = False
    owner: str = ""  # describe: the command whose option it is
    message: bool = False  # an error asked for by its message or code ("What error message ...?"), not its class


_OTHERWISE = re.compile(
    r"\b(unless told otherwise|unless (?:you|i) (?:say|pass|give)|if (?:i|you) (?:don't|do not)|when no\b|if no\b|"
    r"if none|when none|otherwise|out of the box|by default)\b",
    re.I,
)
_AUX = frozenset("does do did is are was were can could should will would has have".split())
_HOW_DO = re.compile(r"^\s*how (?:do|can|should|would) (?:i|you|we|one)\b|^\s*how to\b", re.I)


# "... throws what?", "What does open() raise ...?", "fails with what message?": asks for an error
_RAISES = re.compile(
    r"\b(?:raise[sd]?|throw[sn]?|thrown|rejects? with|fails? with)\s+what\b|"
    r"^\s*what (?:does|do|did|is|are|gets?|will)\b[^?]*\b(?:raised?|throw|thrown|reject)\b",
    re.I,
)
_EXPLAIN = re.compile(
    r"^\s*(?:what (?:does|do|did) .+ (?:do|mean|return|expand to|contain|hold|stand for)\b|"
    r"what (?:is|are|'s) (?:an? |the )?[^?]*\??$|why\b|explain\b|describe\b|what happens\b|"
    r"when (?:does|do|is|are|should)\b)",
    re.I,
)
# What the span head answers from the passages: a named definition's parameters, return value,
# file, methods or imports, a constant's value, an option's description.
_SPAN_QUESTIONS = re.compile(
    r"^\s*(?:what (?:parameters|arguments|params) does\b|what does .+ (?:take|return|import)\s*\??$|"
    r"where (?:is|are) .+ (?:defined|declared|implemented)\b|which methods does (?:class )?\b|"
    r"what is the value of `|what does option\b|in which file\b|which file (?:defines|declares)\b)",
    re.I,
)
# "Which module holds the Node adapter?": a source file, not a name in it (nor a file's name,
# pattern or mode, which are values)
_FILE = re.compile(
    r"^\s*(?:in )?(?:which|what) (?:source |code |header )?(?:file|module)\b(?![-_])"
    r"(?! (?:names?|patterns?|extensions?|paths?|modes?|sizes?|formats?|descriptors?|systems?|objects?|types?)\b)",
    re.I,
)
_BLANK = re.compile(r"_{3,}")  # a cloze ("Fill in the blank: ... ____ ..."): its words are the text's, not a kind
_HOW_VALUE = re.compile(
    r"^\s*(?:(?:for|in|after|within|to|by|at|of|up to) )?"  # "For how many ms ...?"
    r"how (many|much|long|large|big|slow|fast|often|small|high|low|deep|far|wide)\b",
    re.I,
)
# "Which handler rolls the file over once it reaches a certain size?": a thing that does
# something, named; the size is what it does, not what is asked for
_WHICH_DOES = re.compile(
    r"^\s*which (?!(?:value|number|port|size|mode|level|string|character|encoding|version|name|code|status|"
    r"separator|timeout|limit|default)s?\b)[a-z]+ (?!(?:doe|i|ha|wa)s\b)[a-z]+[^s]s\b",
    re.I,
)
# "By default does gather raise ...?" asks yes or no; "By default, *when* does wait return?" asks for a value
_DEFAULT_YES_NO = re.compile(
    r"^\s*(?:by default,? )?(does|do|is|are|can|will|should)\b.*\bdefault\b|"
    r"^\s*by default,? (?:does|do|is|are|can|will|should)\b",
    re.I,
)


_OPTION_DOES = re.compile(
    r"^\s*what (?:does|do|is) (?:the )?[`'\"]?(-{1,2}[\w-]+)[`'\"]?(?: (?:option|flag|switch))?"
    r"(?: (?:of|to|for|in|with|on) (?:the )?[`'\"]?([\w.+-]+)[`'\"]?(?: (?:builtin|command|program|tool|utility))?)?"
    r" ?(?:do|does|mean|set|sets|control|controls|enable|enables|for)?\b",
    re.I,
)


# "which WORD": a noun unless an article follows it ("What *wraps* the logger?"), it is part of
# a compound ("Which *built*-in function") or it names the kind that follows ("Which *server* event")
_WHICH_NOUN = re.compile(r"^\s*(?:which|what)\s+([a-z]+)\b(?![-'])(?!\s+(?:the|a|an|my|your|its|it|this|that)\b)", re.I)
_NEXT_WORD = re.compile(r"\s+([a-z]+)", re.I)


def head_noun(question: str) -> str:
    """The noun a question names its answer by, when it is not just a kind of unit: "Which
    *handler* opens data: URLs?", "What *port* does it send to?". Names end in that noun
    (`DataHandler`, `SYSLOG_UDP_PORT`), so it says more than any other word of the question."""
    m = _WHICH_NOUN.match(question)
    word = m.group(1).lower() if m else ""
    if not word or word in _AUX or word in KIND_WORDS or word in TYPE_WORDS or word in STOP_WORDS:
        return ""
    after = _NEXT_WORD.match(question, m.end())
    if after and (after.group(1).lower() in KIND_WORDS or after.group(1).lower() in TYPE_WORDS):
        return ""
    return word


# "... gives *which error*?": a kind the question asks for by name, wherever it stands
_WHICH_KIND = re.compile(r"\b(which|what) ([a-z]+)\b(?![-'])", re.I)
# "What *compression* method", "What *content* type": a thing the domain names, not a kind of unit;
# these words qualify the kind instead ("What static method", "What checked exception")
_QUALIFIERS = frozenset(
    """static class instance public private protected internal helper utility builtin abstract base generic custom
    exported global module top checked unchecked async asynchronous synchronous sync factory main default new
    other single""".split()
)


def _kind_word(q: str, words: list[str]) -> str | None:
    """The word that names the kind of unit asked for: "which/what KIND" wherever it stands,
    else a kind word among the first ten. "What compression method" asks for a value, not for a
    method, where "Which Decoder method" asks for a method of the Decoder."""
    for m in _WHICH_KIND.finditer(q):
        asking, first = m.group(1).lower(), m.group(2).lower()
        if first in KIND_WORDS:
            return first
        after = _NEXT_WORD.match(q, m.end())
        kind = after.group(1).lower() if after else ""
        if kind in KIND_WORDS and kind not in ("error", "exception", "event", "command"):
            return None if asking == "what" and first not in _QUALIFIERS else kind
    return next((w for w in words[:10] if w in KIND_WORDS), None)


_CLAUSES = re.compile(r"(?<=[.?!;])\s+")
_ASKING = re.compile(r"^\s*(?:which|what|how)\b", re.I)


def _asking_clause(question: str) -> str:
    """The clause that asks, after what the user tells first ("I created a pool with zero
    workers and it blew up. *What's the error?*"): its wording says what kind of answer."""
    clauses = _CLAUSES.split(question)
    if len(clauses) > 1 and not _ASKING.match(question) and _ASKING.match(clauses[-1]):
        return clauses[-1]
    return question


def _flag(asking: str) -> str | None:
    """ "flag" when the question asks for a flag: in C and Python a named constant
    (`IDN2_NO_TR46`, `re.IGNORECASE`) answers it as well as an option does."""
    return "flag" if re.search(r"\bflags?\b", asking, re.I) else None


def analyse(question: str) -> Asked | None:
    """What kind of unit `question` asks for, or None when it asks for an explanation (a
    sentence: a manual's sentences or the span head answer those)."""
    q = _asking_clause(question.strip())
    if _SPAN_QUESTIONS.match(q) or _BLANK.search(q):
        return None
    if _FILE.match(q):
        return Asked("file", None)
    if m := _OPTION_DOES.match(q):
        return Asked("describe", m.group(1), owner=m.group(2) or "")
    words = re.findall(r"[A-Za-z]+", q.lower())
    early = [w for w in words[:4] if w in KIND_WORDS and w not in ("variable", "variables")]
    if _ENV.search(q) and not early:
        return Asked("env", None)
    if m := _OPTION_FIRST.match(q):
        return Asked("option", _flag(m.group()))
    if _DEFAULT_YES_NO.match(q):
        return Asked("value", None, boolean=True)
    if _HOW_VALUE.match(q):
        return Asked("value", None, numeric=True)
    if not early and _RAISES.search(q):
        return Asked("definition", "exception", message=bool(re.search(r"\bmessage\b", q, re.I)))
    if _EXPLAIN.match(q) and not (
        _VALUE_CUES.search(q)
        or _OTHERWISE.search(q)
        or early[1:]
        or (early and words[0] == "what" and words[1] in ("is", "are", "s") and len(words) > 4)
    ):
        return None
    kind_word = _kind_word(q, words)
    opening = _OPENING.match(q)
    value_cue = not _WHICH_DOES.match(q) and (_VALUE_CUES.search(q) or _OTHERWISE.search(q))
    if opening:
        head = words[:8]
        early_kind = kind_word is not None and kind_word in head and head.index(kind_word) <= 2
        if (m := _OPTION.search(q)) and not (value_cue and not early_kind):
            return Asked("option", _flag(m.group()))
        if value_cue and not (early_kind and not re.search(r"\bdefault\b", " ".join(head[:3]))):
            return Asked("value", None, numeric=bool(_NUMERIC_CUES.search(q)))
    if _HOW_DO.match(q) or re.match(r"^\s*(?:is there|are there) (?:a|an|any) (?:way|function|method|call)\b", q, re.I):
        return Asked("definition", "how")
    if kind_word and head_noun(q) and words.index(kind_word) > 2:
        kind_word = None  # "Which *element* do I use to say that my type ...": the noun names the answer
    if kind_word:
        kind = KIND_WORDS[kind_word]
        if kind == "class" and any(w in ("exception", "error") for w in words):
            kind = "exception"
        said = kind == "exception" and any(w in ("message", "code") for w in words)
        return Asked("definition", kind, message=said)
    # "password manager with a default realm" names a thing; "the default realm" asks for one
    if value_cue and re.search(r"(?<!\ba )\bdefault\b|\bunless\b|\botherwise\b", q, re.I):
        return Asked("value", None, numeric=bool(_NUMERIC_CUES.search(q)))
    return Asked("definition", None)  # "Which handler ...", "What object ...", "... What's it called?"
