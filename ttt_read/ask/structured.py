"""Answering by the unit a question asks for: a definition's name, a setting's value, an option,
an environment variable (`units`).

The question's wording says what kind of answer it wants ("Which function ...", "Which
exception ...", "What is the default ...", "How many ...", "Which environment variable ...",
"Which option ..."); `analyse` reads that and the words that say which one. The units of that
kind are ranked by how well their name (split into its parts), doc comment, owner (class,
function, command) and first lines cover the question's words, each word also in its other
forms and synonyms (`synonyms`), weighted by how rare it is among the units. A question whose
words no unit covers well enough gets "not found"; so does one whose words the sources never
use. Questions for an explanation ("What does `f` do?", "What parameters does `f` take?") are
left to the span head (`grounded`).

The ranker's weights and the "not found" decision are fitted on questions worded by hand
(`train.ranker`, docs/questions/train). Manuals also answer "What is X?" in their own words
(`explain_in_manual`): a glossary entry, "Expands to ...", "X is a ...", the line under a
heading, a "default 500" next to a name.

The memory can rerank the best few: each candidate's answer scored by the model's likelihood
of it after the question (the QA turn format training uses) with the read fast weights,
relative to the initial ones (`memory_scores`). On the hand-worded sets it changed no answer
for the better, so it is off unless `TTT_READ_MEMORY_RERANK` gives it a weight; the span head
(questions of no unit) still reads the memory.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections import Counter
from dataclasses import dataclass

from ttt_read.ask import synonyms as syn
from ttt_read.ask.found import Answer, Source
from ttt_read.ask.units import Unit, notepad_units
from ttt_read.notepad.lexicon import DOT_LEADER, FUNCTION_WORDS, line_style, word_terms

# --- what a question asks for --------------------------------------------------------------

_KIND_WORDS = {
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
    r"which value|what number|what port|what version|what encoding|what salt|what name)\b",
    re.I,
)
_NUMERIC_CUES = re.compile(
    r"\b(how many|how much|how long|how large|how big|how often|maximum|minimum|max|min|limit|size|width|length|"
    r"timeout|exit code|number|count|port|seconds|depth|distance|similarity|threshold|ratio|level)\b",
    re.I,
)
_YES_NO = re.compile(r"^\s*(does|do|is|are|can|will|should)\b.*\bby default\b", re.I)
_OPENING = re.compile(r"^\s*(which|what|name the|in which|whose)\b", re.I)
_ENV = re.compile(r"\benvironment variables?\b|\benv(?:ironment)?[ .-]?var(?:iable)?s?\b", re.I)
_OPTION = re.compile(r"\b(which|what) (?:command[- ]line )?(option|flag|switch)s?\b", re.I)
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
SOFT_TYPE_WORDS = frozenset("default error exception option flag variable environment".split())  # also subject words


@dataclass
class Asked:
    want: str  # definition, value, option, env
    kind: str | None  # for definitions: function, method, class, exception, decorator, property, enum, command
    numeric: bool = False
    boolean: bool = False
    owner: str = ""  # describe: the command whose option it is


_OTHERWISE = re.compile(
    r"\b(unless told otherwise|unless (?:you|i) (?:say|pass|give)|if (?:i|you) (?:don't|do not)|when no\b|if no\b|"
    r"if none|when none|otherwise|out of the box|by default)\b",
    re.I,
)
_AUX = frozenset("does do did is are was were can could should will would has have".split())
_HOW_DO = re.compile(r"^\s*how (?:do|can|should|would) (?:i|you|we|one)\b|^\s*how to\b", re.I)


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
_BLANK = re.compile(r"_{3,}")  # a cloze ("Fill in the blank: ... ____ ..."): its words are the text's, not a kind
_HOW_VALUE = re.compile(r"^\s*how (many|much|long|large|big|slow|fast|often|small|high|low|deep|far|wide)\b", re.I)
_DEFAULT_YES_NO = re.compile(
    r"^\s*(?:by default,? )?(does|do|is|are|can|will|should)\b.*\bdefault\b|^\s*by default\b", re.I
)


_OPTION_DOES = re.compile(
    r"^\s*what (?:does|do|is) (?:the )?[`'\"]?(-{1,2}[\w-]+)[`'\"]?(?: (?:option|flag|switch))?"
    r"(?: (?:of|to|for|in|with|on) (?:the )?[`'\"]?([\w.+-]+)[`'\"]?(?: (?:builtin|command|program|tool|utility))?)?"
    r" ?(?:do|does|mean|set|sets|control|controls|enable|enables|for)?\b",
    re.I,
)


def analyse(question: str) -> Asked | None:
    """What kind of unit `question` asks for, or None when it asks for an explanation (a
    sentence: the span head answers those)."""
    q = question.strip()
    if _SPAN_QUESTIONS.match(q) or _BLANK.search(q):
        return None
    if m := _OPTION_DOES.match(q):
        return Asked("describe", m.group(1), owner=m.group(2) or "")
    words = re.findall(r"[A-Za-z]+", q.lower())
    early = [w for w in words[:4] if w in _KIND_WORDS and w not in ("variable", "variables")]
    if _ENV.search(q) and not early:
        return Asked("env", None)
    if _DEFAULT_YES_NO.match(q):
        return Asked("value", None, boolean=True)
    if _HOW_VALUE.match(q):
        return Asked("value", None, numeric=True)
    if _EXPLAIN.match(q) and not (
        _VALUE_CUES.search(q)
        or _OTHERWISE.search(q)
        or early[1:]
        or (early and words[0] == "what" and words[1] in ("is", "are", "s") and len(words) > 4)
    ):
        return None
    kind_word = next((w for w in words[:10] if w in _KIND_WORDS), None)
    opening = _OPENING.match(q)
    value_cue = _VALUE_CUES.search(q) or _OTHERWISE.search(q)
    if opening:
        head = words[:8]
        early_kind = kind_word is not None and kind_word in head and head.index(kind_word) <= 2
        if _OPTION.search(q) and not (value_cue and not early_kind):
            return Asked("option", None)
        if value_cue and not (early_kind and not re.search(r"\bdefault\b", " ".join(head[:3]))):
            return Asked("value", None, numeric=bool(_NUMERIC_CUES.search(q)))
    if _HOW_DO.match(q) or re.match(r"^\s*(?:is there|are there) (?:a|an|any) (?:way|function|method|call)\b", q, re.I):
        return Asked("definition", "how")
    if kind_word:
        kind = _KIND_WORDS[kind_word]
        if kind == "class" and any(w in ("exception", "error") for w in words):
            kind = "exception"
        return Asked("definition", kind)
    if value_cue and re.search(r"\bdefault\b|\bunless\b|\botherwise\b", q, re.I):
        return Asked("value", None, numeric=bool(_NUMERIC_CUES.search(q)))
    return Asked("definition", None)  # "Which handler ...", "What object ...", "... What's it called?"


# --- matching words ----------------------------------------------------------------------------

_SUFFIXES = (  # (suffix, replacement, the least stem left)
    ("ations", "", 3),
    ("ation", "", 3),
    ("ings", "", 3),
    ("ing", "", 3),
    ("ies", "i", 3),
    ("ied", "i", 3),
    ("es", "", 3),
    ("ed", "", 3),
    ("ers", "", 3),
    ("er", "", 3),
    ("ly", "", 5),  # exactly, recursively; not imply, apply, reply
    ("s", "", 3),
)
_SINGULAR_S = re.compile(r"(?:ss|us|is)$|^(?:alias|bias|canvas|atlas|whereas)$")  # class, status, axis


ABBREVIATIONS = {  # code's short forms, read as the words people use
    "max": "maximum",
    "min": "minimum",
    "num": "number",
    "len": "length",
    "str": "string",
    "dir": "directory",
    "cfg": "config",
    "conf": "config",
    "msg": "message",
    "err": "error",
    "arg": "argument",
    "args": "arguments",
    "param": "parameter",
    "params": "parameters",
    "opt": "option",
    "opts": "options",
    "env": "environment",
    "init": "initialize",
    "val": "value",
    "var": "variable",
    "addr": "address",
    "buf": "buffer",
    "ctx": "context",
    "req": "request",
    "resp": "response",
    "src": "source",
    "dst": "destination",
    "dest": "destination",
    "tmp": "temporary",
    "pos": "position",
    "idx": "index",
    "char": "character",
    "chars": "characters",
    "fmt": "format",
    "sep": "separator",
    "prev": "previous",
    "cur": "current",
    "auth": "authentication",
    "attr": "attribute",
    "dict": "dictionary",
    "info": "information",
    "sync": "synchronous",
    "async": "asynchronous",
    "repr": "representation",
    "doc": "documentation",
    "lib": "library",
    "pkg": "package",
    "ext": "extension",
    "proc": "process",
    "cmd": "command",
    "db": "database",
    "fn": "function",
    "func": "function",
    "cb": "callback",
    "ws": "websocket",
}


def stem(word: str) -> str:
    """One form for a word's inflections: `implies`, `implied` and `imply` are `impli`;
    `classes` and `class`, `aliases` and `alias` meet too."""
    w = word.lower()
    w = ABBREVIATIONS.get(w, w)
    for suffix, repl, least in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= least:
            if suffix == "s" and _SINGULAR_S.search(w):
                break
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    elif w.endswith("y") and len(w) > 3 and w[-2] not in "aeiou":
        w = w[:-1] + "i"
    return w


_WORDS = re.compile(r"[A-Za-z0-9_$]+")


def terms(text: str) -> set[str]:
    out = set()
    for word in _WORDS.findall(text):
        for t in word_terms(word):
            if not t.isdigit():
                out.add(stem(t))
    return out


def question_terms(question: str, asked: Asked) -> list[tuple[str, float, tuple[str, ...]]]:
    """(stem, weight, stems of its synonyms) for each word of the question that says which unit."""
    code = re.sub(r"`([^`]*)`", r" \1 ", question)
    out: dict[str, tuple[float, tuple[str, ...]]] = {}
    kind_seen = False
    for word in _WORDS.findall(code):
        low = word.lower()
        if low in FUNCTION_WORDS or low in STOP_WORDS or len(low) < 2:
            continue
        weight = 1.0
        if low in _KIND_WORDS and kind_seen:
            weight = 0.5  # "... sets the function called when ...": after the kind asked for, a subject
        elif low in _KIND_WORDS and low not in TYPE_WORDS:
            weight = 0.3  # "command", "builtin", "handler": what kind, a little of which one
            kind_seen = True
        elif low in TYPE_WORDS or low.rstrip("s") in TYPE_WORDS:
            kind_seen = kind_seen or low in _KIND_WORDS
            if low.rstrip("s") not in SOFT_TYPE_WORDS and not (asked.want == "value" and low == "default"):
                continue
            weight = 0.3
        for t in word_terms(word):
            s = stem(t)
            if s in out or t.isdigit():
                continue
            synonyms = tuple(
                dict.fromkeys(
                    stem(x) for x in syn.synonyms(t) if stem(x) != s and x not in TYPE_WORDS and x not in _KIND_WORDS
                )
            )
            out[s] = (weight, synonyms)
    return [(s, w, ss) for s, (w, ss) in out.items()]


# --- ranking -----------------------------------------------------------------------------------

FIELD_WEIGHTS = {  # definitions / other units
    "name": (2.0, 2.0),
    "doc": (1.2, 0.7),
    "owner": (0.7, 1.2),
    "context": (0.5, 0.8),
    "path": (0.3, 0.4),
}
SYNONYM_CREDIT = 0.3
NEAR_CREDIT = 0.7  # another form sharing the beginning: `config` for "configures"
PART_CREDIT = 0.6  # a question word inside a name that does not split (`getchar`, `progressbar`)
NOT_FOUND_THRESHOLD = 0.25  # below this support (`supported`) the answer is "not found"
RERANK = 5  # candidates the memory reranks
# How much the memory's log-likelihood ratio (`memory_scores`) counts against the ranker's score
# when reranking the best few. Measured on the hand-worded sets it did not help (see the model
# card), so it is off; `TTT_READ_MEMORY_RERANK=0.5` turns it on to measure it again.
MEMORY_WEIGHT = float(os.environ.get("TTT_READ_MEMORY_RERANK", "0") or 0)


class UnitIndex:
    def __init__(self, units: list[Unit]):
        self.units = units
        self.fields: list[dict[str, set[str]]] = []
        df: Counter = Counter()
        for u in units:
            path_stem = u.path.rpartition("/")[2].rpartition(".")[0]
            f = {
                "name": terms(u.name),
                "doc": terms(u.doc),
                "owner": terms(u.owner),
                "context": terms(u.context),
                "path": terms(path_stem),
            }
            self.fields.append(f)
            df.update(set().union(*f.values()))
        self.df = df
        self.n = max(len(units), 1)
        self.vocab = sorted(t for t in df if len(t) >= 3 and not t.isdigit())
        known = set(self.vocab)
        for u, f in zip(units, self.fields):  # `urlopen` is "url" + "open", `threadsafe` "thread" + "safe"
            if u.kind == "value":
                continue
            for piece in word_terms(u.name)[1:] or [u.name.lower()]:
                parts = segment(piece, known) if re.fullmatch(r"[a-z]{6,}", piece) else None
                if parts:
                    f["name"] |= {stem(p) for p in parts}
                    df.update(stem(p) for p in parts)
        self.name_parts = [max(1, len(f["name"]) - 1) for f in self.fields]
        self.doc_sizes = [len(f["doc"]) for f in self.fields]
        self.by_name: dict[str, list[int]] = {}
        for i, u in enumerate(units):
            self.by_name.setdefault(u.name, []).append(i)

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


def segment(word: str, known: set[str]) -> list[str] | None:
    """`word` as two or three known words of 3+ letters, when it splits so."""
    n = len(word)
    for i in range(3, n - 2):
        a, b = word[:i], word[i:]
        if a in known and b in known:
            return [a, b]
    for i in range(3, n - 5):
        for j in range(i + 3, n - 2):
            a, b, c = word[:i], word[i:j], word[j:]
            if a in known and b in known and c in known:
                return [a, b, c]
    return None


def near_forms(index: UnitIndex, s: str) -> tuple[str, ...]:
    """Terms of the units that one of `s` begins with ("configur" and `config`), 5+ letters shared."""
    if len(s) < 5:
        return ()
    out = [s[:k] for k in range(5, len(s)) if s[:k] in index.df]
    at = bisect.bisect_right(index.vocab, s)
    while at < len(index.vocab) and index.vocab[at].startswith(s) and len(out) < 12:
        out.append(index.vocab[at])
        at += 1
    return tuple(t for t in out if t != s)


def unit_index(notepad) -> UnitIndex:
    cached = getattr(notepad, "_unit_index", None)
    if cached is None:
        cached = notepad._unit_index = UnitIndex(notepad_units(notepad))
        cached.notepad = notepad
    return cached


def absent_words(index: UnitIndex, question: str, asked: Asked) -> float:
    """The share of the question's (weighted) words that the sources never use, in any form:
    "Which function parses YAML?" of a codebase without the word YAML."""
    from ttt_read.notepad.lexicon import inflections

    notepad = getattr(index, "notepad", None)
    total = absent = 0.0
    for word in _WORDS.findall(re.sub(r"`([^`]*)`", r" \1 ", question)):
        low = word.lower()
        if low in FUNCTION_WORDS or low in STOP_WORDS or low in TYPE_WORDS or low in _KIND_WORDS or len(low) < 3:
            continue
        if low.isdigit():
            continue
        s = stem(low)
        weight = index.idf(s) if s in index.df else math.log(1 + index.n)
        total += weight
        if s in index.df or near_forms(index, s) or any(stem(x) in index.df for x in syn.synonyms(low)):
            continue
        if notepad is not None and any(notepad.df_of(form) for form in [low, *inflections(low)]):
            continue
        absent += weight
    return absent / total if total else 0.0


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|testing|testdata|examples?)/|(?:^|/)test_[^/]*$|_test\.\w+$|\.test\.\w+$")
_TEST_NAME = re.compile(r"^(?:test|Test|Example|Benchmark|Fuzz)(?:[A-Z_]|$)")


def _placement(u: Unit) -> float:
    """Users ask about what a package exports, not its private helpers or its tests."""
    name, prior = u.name, 1.0
    if name.startswith("__") and name.endswith("__") or name in ("constructor", "init", "new", "New"):
        prior *= 0.2
    elif name.startswith("_"):
        prior *= 0.4
    elif u.path.endswith(".go") and name[:1].islower():
        prior *= 0.5
    if _TEST_NAME.match(name) or _TEST_PATH.search(u.path):
        prior *= 0.3
    if any(part.startswith("_") and not part.startswith("__") for part in u.path.split("/")):
        prior *= 0.7
    return prior


def kind_prior(u: Unit, asked: Asked) -> float:
    """How well a unit's kind fits what the question asks for (0: not at all)."""
    if asked.want == "definition":
        if u.kind == "option" and asked.kind in ("how", None):
            return 0.7
        if u.kind == "value" and asked.kind is None:
            return 0.5
        if u.kind == "env" and asked.kind in ("variable", None):
            return 1.0 if asked.kind == "variable" else 0.6
        if u.kind == "variable":
            if asked.kind == "exception":
                return 1.0 if re.match(r"^(Err|E[A-Z_])|(Error|Exception)$", u.name) else 0.2
            prior = {"variable": 1.0, None: 0.8, "class": 0.3, "how": 0.3, "enum": 0.5}.get(asked.kind, 0.0)
            return prior * _placement(u)
        if u.kind not in ("function", "method", "class", "type", "command"):
            return 0.0
        k = asked.kind
        table = {
            "function": {"function": 1.0, "method": 1.0, "command": 1.0, "class": 0.4, "type": 0.2},
            "method": {"method": 1.0, "function": 0.8, "command": 0.8, "class": 0.3, "type": 0.1},
            "decorator": {"function": 0.8, "method": 0.5, "class": 0.3},
            "property": {"method": 0.7, "function": 0.5, "class": 0.2},
            "class": {"class": 1.0, "type": 0.8, "function": 0.3, "method": 0.2},
            "exception": {"class": 0.5, "type": 0.3},
            "enum": {"class": 0.6, "type": 0.6},
            "command": {"command": 1.0, "function": 0.9, "method": 0.8},
            None: {"class": 1.0, "function": 0.9, "method": 0.9, "type": 0.7, "command": 0.9},
            "how": {"function": 1.0, "method": 1.0, "command": 1.0, "class": 0.5, "type": 0.2},
            "variable": {"class": 0.2, "type": 0.2},
        }[k]
        table["variable"] = {"function": 0.2, "method": 0.1, "class": 0.3, "type": 0.3}
        prior = table.get(u.kind, 0.0)
        if k in u.tags or (k == "decorator" and "decorator" in u.tags):
            prior = max(prior, 1.0)
        if k == "exception" and "exception" in u.tags:
            prior = 1.0
        return prior * _placement(u)
    if asked.want == "value":
        if u.kind != "value":
            return 0.0
        value = u.answer
        is_number = bool(re.fullmatch(r"-?\d[\d_.]*[a-zA-Z]*|-?\.\d+", value))
        is_none = value in ("None", "null", "nil", "undefined", "NULL", "''", '""')
        is_bool = value in ("True", "False", "true", "false")
        prior = 1.0
        if is_none:
            prior = 0.25
        if asked.numeric:
            prior *= 1.0 if is_number or re.fullmatch(r"[\w.]*[A-Z][A-Z0-9_]+", value) else 0.45
        if asked.boolean:
            prior *= 1.0 if is_bool else 0.4
        return prior
    if asked.want == "option":
        return 1.0 if u.kind == "option" else 0.0
    if asked.want == "env":
        if u.kind != "env":
            return 0.0
        return 1.0 if "env-context" in u.tags else 0.5
    return 0.0


FEATURES = (
    "lexical",  # the hand-weighted score over the best candidate's
    "coverage",
    "log_prior",  # kind_prior: how well the unit's kind fits the question
    "name",  # shares of the question's weighted words found exactly in each field,
    "name_soft",  # or as another form, a synonym or a part of an unsplit name
    "doc",
    "doc_soft",
    "owner",
    "context",
    "path",
    "first",  # 1 / (1 + rank by the hand-weighted score)
    "unmatched",  # share of the question's words the unit lacks
    "name_size",  # parts of the name, over 5
)


def rank(
    index: UnitIndex, asked: Asked, question: str, keep: int = 30, use_weights: bool = True
) -> list[tuple[float, float, int, list[float]]]:
    """(score, coverage, unit index, features), best first: the hand-weighted score, then the
    learned ranker's when it has weights (`ranker_weights`)."""
    qterms = [(s, w, ss, near_forms(index, s)) for s, w, ss in question_terms(question, asked)]
    if not qterms:
        return []
    total = sum(index.idf(s) * w for s, w, _, _ in qterms) or 1.0
    definition = asked.want == "definition"
    out = []
    for i, u in enumerate(index.units):
        prior = kind_prior(u, asked)
        if prior <= 0:
            continue
        f = index.fields[i]
        name_low = u.name.lower()
        score = covered = 0.0
        shares = dict.fromkeys(("name", "name_soft", "doc", "doc_soft", "owner", "context", "path"), 0.0)
        name_norm = 1.0 / (1.0 + 0.15 * max(0, index.name_parts[i] - 2))
        doc_norm = min(1.0, math.sqrt(30 / max(index.doc_sizes[i], 1)))
        for s, w, synonyms, near in qterms:
            best = 0.0
            idf = index.idf(s) * w
            for field, terms_ in f.items():
                fw = FIELD_WEIGHTS[field][0 if definition else 1]
                fw *= name_norm if field == "name" else doc_norm if field == "doc" else 1.0
                soft = field + "_soft" if field in ("name", "doc") else field
                if s in terms_:
                    best = max(best, fw)
                    shares[field] += idf
                elif near and any(x in terms_ for x in near):
                    best = max(best, fw * NEAR_CREDIT)
                    shares[soft] += idf * NEAR_CREDIT
                elif synonyms and any(x in terms_ for x in synonyms):
                    best = max(best, fw * SYNONYM_CREDIT)
                    shares[soft] += idf * SYNONYM_CREDIT
            if not best and len(s) >= 4 and s in name_low:
                best = FIELD_WEIGHTS["name"][0] * PART_CREDIT
                shares["name_soft"] += idf * PART_CREDIT
            if best:
                score += idf * best
                covered += idf * min(1.0, best)
        if score > 0:
            features = [0.0, covered / total, math.log(prior)] + [v / total for v in shares.values()]
            features += [0.0, 1.0 - covered / total, min(index.name_parts[i], 5) / 5]
            out.append((score * prior, covered / total, i, features))
    out.sort(key=lambda r: -r[0])
    out = out[:keep]
    if not out:
        return out
    top = out[0][0]
    for n, (score, _, _, features) in enumerate(out):
        features[0] = score / top
        features[10] = 1.0 / (1 + n)
    weights = _ranker_weights() if use_weights else None
    if weights is not None:
        w, b = weights["weights"], weights["bias"]
        out = [(sum(a * x for a, x in zip(w, feats)) + b, c, i, feats) for _, c, i, feats in out]
        out.sort(key=lambda r: -r[0])
    return out


def _ranker_weights() -> dict | None:
    try:
        from ttt_read.ask import ranker_weights
    except ImportError:
        return None
    w = ranker_weights.RANKER
    return w if w and list(w.get("features", [])) == list(FEATURES) else None


# --- the memory's say --------------------------------------------------------------------------


def memory_scores(memory, question: str, answers: list[str], use_memory: bool = True) -> list[float]:
    """For each answer: log p(answer | question) per token with the read fast weights, minus the
    same with the initial ones (the QA turn format training uses, no passages shown)."""
    import torch

    from ttt_read.ask.span import window_hidden
    from ttt_read.text import tokenizer as tok

    tokenizer, model = memory.tokenizer, memory.model
    prompt = tok.encode_qa_prompt(tokenizer, question)
    states = [memory.fast_weights(True), memory.fast_weights(False)]
    out = []
    for a in answers:
        ids = prompt + tok.encode_answer(tokenizer, a)
        targets = torch.tensor(ids[len(prompt) :])
        per_state = []
        for fast in states:
            h = window_hidden(model, ids, fast)
            logp = torch.log_softmax(model.logits(h[len(prompt) - 1 : len(ids) - 1]).float(), -1)
            per_state.append(float(logp.gather(-1, targets.view(-1, 1)).sum()))
        out.append((per_state[0] - per_state[1]) / max(len(targets), 1))
    return out


# --- the answer --------------------------------------------------------------------------------


def _resolve(index: UnitIndex, i: int) -> int:
    """A value that names a constant (`chunk_size=ITER_CHUNK_SIZE`): the constant's own value."""
    u = index.units[i]
    if u.kind != "value":
        return i
    name = u.answer.rpartition(".")[2]
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{2,}", name):
        return i
    for j in index.by_name.get(name, []):
        v = index.units[j]
        if (
            v.kind == "value"
            and v.answer != u.answer
            and not re.fullmatch(r"[\w.]+", v.answer)
            or (v.kind == "value" and re.fullmatch(r"-?\d[\d_.]*", v.answer))
        ):
            return j
    return i


def unit_source(notepad, u: Unit, score: float, answer: bool = True) -> Source:
    f = next((f for f in notepad.files if f.path == u.path), None)
    lines = f.line_list() if f is not None else []
    quote = lines[u.line - 1] if 0 < u.line <= len(lines) else u.answer
    page = f.page_of(u.line) if f is not None else None
    begin = u.col - 1
    span = (begin, begin + len(u.answer)) if answer and quote[begin : begin + len(u.answer)] == u.answer else None
    cite = (
        f"{u.path} (page {page})"
        if page is not None
        else f"{u.path}:{u.line}:{u.col}"
        if answer
        else f"{u.path}:{u.line}"
    )
    return Source(
        path=u.path,
        line=u.line,
        col=u.col if answer else None,
        page=page,
        quote=quote.strip() if span is None else quote,
        span=span,
        line_start=u.line,
        line_end=u.line,
        score=round(score, 4),
        cite=cite,
    )


def describe_option(notepad, index: UnitIndex, asked: Asked) -> Answer | None:
    """ "What does the -x option of set do?": the description on the option's line (or below
    it), of the named command's list when a command is named; None when no option list has it."""
    option = asked.kind or ""
    matches = []
    for i, u in enumerate(index.units):
        if u.kind != "description" or not re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", u.name):
            continue
        owner_match = bool(asked.owner) and u.owner.lower() == asked.owner.lower()
        matches.append((owner_match, -i, i))
    if not matches:
        return None
    matches.sort(reverse=True)
    owner_match, _, i = matches[0]
    if asked.owner and not owner_match:
        return None  # not in the named command's option list: the passages may say it in prose
    u = index.units[i]
    return Answer(
        u.answer,
        True,
        1.0 if owner_match else 0.6,
        True,
        [unit_source(notepad, u, 1.0)],
        {"asked": "describe", "unit": u.kind, "best": u.answer},
    )


_WHAT_IS = re.compile(r"^\s*what (?:is|are) (?:an? |the )?[`'\"]?(.+?)[`'\"]?(?: used for| for)?\s*\??\s*$", re.I)
_EXPANDS = re.compile(r"^\s*what does [`'\"]?(\$\S+?)[`'\"]? expand to\s*\??\s*$", re.I)
_DEFAULT_OF = re.compile(r"^\s*what is the default(?: value)? of (?:the )?[`'\"]?([A-Za-z_][\w-]*)[`'\"]?", re.I)
_DEFAULT_IN_TEXT = re.compile(r"\(?\bdefaults? (?:value )?(?:is |of |to |:)?\s*([\w./~-]+)")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)])\.(?:\s|$)")


def _sentence_unit(f, at: int, start: int, kind: str = "sentence") -> Unit:
    """The sentence that starts at character `start` of line `at` (0-based), to its end or the
    line's."""
    line = f.line_list()[at]
    end = _SENTENCE_END.search(line, start)
    text = line[start : end.start() + 1 if end else len(line)].strip()
    return Unit(kind, text, text, f.path, at + 1, start + 1 + (len(line[start:]) - len(line[start:].lstrip())))


def explain_in_manual(notepad, index: UnitIndex, question: str) -> Answer | None:
    """What a manual says a thing is: "What is IFS used for?" (its glossary entry), "What does
    $$ expand to?" (the entry's "Expands to ..."), "What is the default value of HISTSIZE?" (a
    "default 500" next to the name), "What is brace expansion?" (the sentence "Brace expansion
    is ..."), or the line under a heading that names it. None when none of these is there."""
    prose = [f for f in notepad.files if f.kind == "pdf" or line_style(f.path, f.kind) != "code"]
    if not prose:
        return None
    found: Unit | None = None
    if m := _DEFAULT_OF.match(question):
        name = m.group(1)
        pattern = re.compile(r"(?<![\w$])\$?" + re.escape(name) + r"(?!\w)")
        for f in prose:
            for at, line in enumerate(f.line_list()):
                if pattern.search(line) and (d := _DEFAULT_IN_TEXT.search(line)):
                    value = d.group(1).rstrip(".,;)")
                    found = Unit("value", name, value, f.path, at + 1, d.start(1) + 1)
                    break
            if found:
                break
    elif m := _EXPANDS.match(question):
        symbol = m.group(1)
        for f in prose:
            lines = f.line_list()
            for at, line in enumerate(lines):
                if f"({symbol})" in line or line.startswith(symbol[1:] + " "):
                    k = line.find("Expands to")
                    if k >= 0:
                        found = _sentence_unit(f, at, k)
                        break
            if found:
                break
    elif m := _WHAT_IS.match(question):
        subject = m.group(1).strip()
        glossary = [u for u in index.units if u.kind == "env" and u.name == subject]
        if glossary:
            u = glossary[0]
            f = next(f for f in notepad.files if f.path == u.path)
            line = f.line_list()[u.line - 1]
            rest = u.col - 1 + len(u.name)
            rest += len(line[rest:]) - len(line[rest:].lstrip())
            if rest < len(line):
                found = _sentence_unit(f, u.line - 1, rest)
        if found is None and len(subject) > 2:
            words = r"\s+".join(re.escape(w) for w in subject.split())
            definitional = re.compile(rf"(?:^|(?<=\. ))(?:(?:An?|The) )?{words}s? (?:is|are) ", re.I)
            heading = re.compile(rf"^\s*(?:[\d.]+\s+)?{words}s?\s*$", re.I)
            for f in prose:
                lines = f.line_list()
                for at, line in enumerate(lines):
                    if DOT_LEADER.search(line):
                        continue
                    if d := definitional.search(line):
                        found = _sentence_unit(f, at, d.start())
                        break
                    if heading.match(line) and at + 1 < len(lines) and lines[at + 1].strip():
                        found = found or _sentence_unit(f, at + 1, 0)
                if found and found.kind == "sentence" and not heading.match(f.line_list()[found.line - 2] or ""):
                    break
    if found is None or not found.answer:
        return None
    return Answer(
        found.answer, True, 0.9, True, [unit_source(notepad, found, 1.0)], {"asked": "explain", "best": found.answer}
    )


def structured_answer(memory, notepad, question: str, use_memory: bool) -> Answer | None:
    """The unit `question` asks for, "not found" when none covers it, or None when the question
    asks for no kind of unit (or the sources have none of that kind)."""
    asked = analyse(question)
    if asked is None:
        return explain_in_manual(notepad, unit_index(notepad), question)
    index = unit_index(notepad)
    if asked.want == "describe":
        return describe_option(notepad, index, asked)
    if asked.want == "value" and (said := explain_in_manual(notepad, index, question)) is not None:
        return said  # "default 500" next to the name, in a manual
    if not any(kind_prior(u, asked) > 0 for u in index.units):
        return None
    ranked = rank(index, asked, question)
    scores = {"asked": asked.want, "asked_kind": asked.kind}
    if not ranked:
        return Answer("", False, 0.0, True, [], {**scores, "coverage": 0.0})
    top = ranked[:RERANK]
    if use_memory and memory is not None and len(top) > 1 and MEMORY_WEIGHT:
        ratios = memory_scores(memory, question, [index.units[i].answer for _, _, i, _ in top])
        top = sorted(((s + MEMORY_WEIGHT * r, c, i, f) for (s, c, i, f), r in zip(top, ratios)), key=lambda t: -t[0])
        scores["memory"] = [round(r, 3) for r in ratios]
    score, cover, i, _ = top[0]
    support = supported(index, asked, question, ranked)
    weights = _ranker_weights()
    found = support >= (weights or {}).get("threshold", NOT_FOUND_THRESHOLD)
    j = _resolve(index, i)
    u = index.units[j]
    sources = [unit_source(notepad, u, score)]
    if j != i:
        sources.append(unit_source(notepad, index.units[i], score))
    sources += [unit_source(notepad, index.units[k], s, answer=False) for s, _, k, _ in top[1:3]]
    scores.update(
        coverage=round(cover, 4),
        support=round(support, 4),
        unit=u.kind,
        best=u.answer,
        candidates=[index.units[k].answer for _, _, k, _ in top],
    )
    return Answer(u.answer if found else "", found, round(support, 4), True, sources, scores)


def refusal_features(index: UnitIndex, asked: Asked, question: str, ranked: list) -> list[float]:
    """What says whether the sources hold an answer at all: the best candidate's coverage,
    the margin of its score over the next one, the share of the question's words that no unit
    has in any form, and how much of the question the best name holds."""
    cover = ranked[0][1] if ranked else 0.0
    margin = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else 1.0
    name = ranked[0][3][3] + ranked[0][3][4] if ranked else 0.0
    return [cover, min(margin, 5.0), absent_words(index, question, asked), name]


def supported(index: UnitIndex, asked: Asked, question: str, ranked: list) -> float:
    """The probability that the best candidate answers the question (the learned refusal when
    it has weights), else its coverage."""
    features = refusal_features(index, asked, question, ranked)
    weights = _ranker_weights()
    if weights is None or "refusal" not in weights:
        return features[0]
    w, b = weights["refusal"]["weights"], weights["refusal"]["bias"]
    return 1.0 / (1.0 + math.exp(-(sum(a * x for a, x in zip(w, features)) + b)))
