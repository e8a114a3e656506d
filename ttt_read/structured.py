"""Answering by the unit a question asks for: a definition's name, a setting's value, an option,
an environment variable (`units`).

The question's wording says what kind of answer it wants ("Which function ...", "Which
exception ...", "What is the default ...", "How many ...", "Which environment variable ...",
"Which option ..."); `analyse` reads that and the words that say which one. The units of that
kind are ranked by how well their name (split into its parts), doc comment, owner (class,
function, command) and first lines cover the question's words, each word also in its other
forms and synonyms (`synonyms`), weighted by how rare it is among the units. A question whose
words no unit covers well enough gets "not found". Questions of no such kind ("What is a
subshell?", "How do I ...?") are left to the span head (`grounded`).

When the memory is used, the read fast weights rerank the best few: each candidate's answer is
scored by the model's likelihood of it after the question (the QA turn format training uses),
relative to the same likelihood with the initial fast weights, so that what the read text made
more likely moves up (`memory_scores`).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass

from ttt_read import synonyms as syn
from ttt_read.answer import Answer, Source
from ttt_read.notepad import FUNCTION_WORDS, word_terms
from ttt_read.units import Unit, notepad_units

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
_ENV = re.compile(r"\benvironment variables?\b|\benv(?:ironment)? var\b", re.I)
_OPTION = re.compile(r"\b(which|what) (?:command[- ]line )?(option|flag|switch)s?\b", re.I)
TYPE_WORDS = frozenset(
    """which what whose name default defaults value values function functions method methods class classes
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


_OTHERWISE = re.compile(
    r"\b(unless told otherwise|unless (?:you|i) (?:say|pass|give)|if (?:i|you) (?:don't|do not)|when no\b|if no\b|"
    r"if none|when none|otherwise|out of the box|by default)\b",
    re.I,
)
_AUX = frozenset("does do did is are was were can could should will would has have".split())
_HOW_DO = re.compile(r"^\s*how (?:do|can|should|would) (?:i|you|we|one)\b|^\s*how to\b", re.I)


def analyse(question: str) -> Asked | None:
    """What kind of unit `question` asks for, or None when it asks for none (a sentence, an
    explanation: the span head answers those)."""
    q = question.strip()
    words = re.findall(r"[A-Za-z]+", q.lower())
    if _ENV.search(q) and _OPENING.match(q):
        return Asked("env", None)
    if _YES_NO.match(q):
        return Asked("value", None, boolean=True)
    opening = _OPENING.match(q)
    if opening:
        head = words[:8]
        kind_word = next((w for w in head[1:] if w in _KIND_WORDS), None)
        early_kind = kind_word is not None and head.index(kind_word) <= 2
        value_cue = _VALUE_CUES.search(q) or _OTHERWISE.search(q)
        if _OPTION.search(q) and not (value_cue and not early_kind):
            return Asked("option", None)
        if value_cue and not (early_kind and not re.search(r"\bdefault\b", " ".join(head[:3]))):
            return Asked("value", None, numeric=bool(_NUMERIC_CUES.search(q)))
        if kind_word:
            kind = _KIND_WORDS[kind_word]
            if kind == "class" and any(w in ("exception", "error") for w in head):
                kind = "exception"
            return Asked("definition", kind)
        if len(head) > 2 and head[0] in ("which", "what") and head[1] not in _AUX and head[1] not in ("s",):
            return Asked("definition", None)  # "Which handler ...", "What object ..."
        return None
    if re.match(r"^\s*how (many|much|long|large|big)\b", q, re.I):
        return Asked("value", None, numeric=True)
    if _HOW_DO.match(q):
        return Asked("definition", "how")
    return None


# --- matching words ----------------------------------------------------------------------------

_SUFFIXES = (
    ("ations", ""),
    ("ation", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("es", ""),
    ("ed", ""),
    ("ers", ""),
    ("er", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    w = word.lower()
    for suffix, repl in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
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
    for word in _WORDS.findall(code):
        low = word.lower()
        if low in FUNCTION_WORDS or len(low) < 2:
            continue
        weight = 1.0
        if low in TYPE_WORDS:
            if low not in SOFT_TYPE_WORDS and not (asked.want == "value" and low == "default"):
                continue
            weight = 0.3
        for t in word_terms(word):
            s = stem(t)
            if s in out or t.isdigit():
                continue
            synonyms = tuple(dict.fromkeys(stem(x) for x in syn.synonyms(t) if stem(x) != s))
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
SYNONYM_CREDIT = 0.4
NEAR_CREDIT = 0.7  # another form sharing the beginning: `config` for "configures"
PART_CREDIT = 0.6  # a question word inside a name that does not split (`getchar`, `progressbar`)
NOT_FOUND_COVERAGE = 0.25  # a unit must cover this share of the question's (weighted) words
RERANK = 5  # candidates the memory reranks
MEMORY_WEIGHT = 0.5  # how much the memory's log-likelihood ratio counts against the lexical score


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
        for u, f in zip(units, self.fields):  # `urlopen` is "url" + "open", `getchar` "get" + "char"
            if u.kind != "value" and re.fullmatch(r"[a-z]{6,}", u.name):
                parts = segment(u.name, known)
                if parts:
                    f["name"] |= {stem(p) for p in parts}
                    df.update(stem(p) for p in parts)
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
    """Terms of the units that one of `s` begins with ("configur" and `config`), 4+ letters shared."""
    if len(s) < 4:
        return ()
    out = [s[:k] for k in range(4, len(s)) if s[:k] in index.df]
    at = bisect.bisect_right(index.vocab, s)
    while at < len(index.vocab) and index.vocab[at].startswith(s) and len(out) < 12:
        out.append(index.vocab[at])
        at += 1
    return tuple(t for t in out if t != s)


def unit_index(notepad) -> UnitIndex:
    cached = getattr(notepad, "_unit_index", None)
    if cached is None:
        cached = notepad._unit_index = UnitIndex(notepad_units(notepad))
    return cached


def kind_prior(u: Unit, asked: Asked) -> float:
    """How well a unit's kind fits what the question asks for (0: not at all)."""
    if asked.want == "definition":
        if u.kind == "option" and asked.kind in ("how", None):
            return 0.7
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
        }[k]
        prior = table.get(u.kind, 0.0)
        if k in u.tags or (k == "decorator" and "decorator" in u.tags):
            prior = max(prior, 1.0)
        if k == "exception" and "exception" in u.tags:
            prior = 1.0
        name = u.name
        if name.startswith("__") and name.endswith("__"):
            prior *= 0.2
        elif name.startswith("_"):
            prior *= 0.4
        if name.lower().startswith("test"):
            prior *= 0.5
        return prior
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


def rank(index: UnitIndex, asked: Asked, question: str) -> list[tuple[float, float, int]]:
    """(score, coverage, unit index), best first."""
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
        for s, w, synonyms, near in qterms:
            best = 0.0
            for field, terms_ in f.items():
                fw = FIELD_WEIGHTS[field][0 if definition else 1]
                if s in terms_:
                    best = max(best, fw)
                elif near and any(x in terms_ for x in near):
                    best = max(best, fw * NEAR_CREDIT)
                elif synonyms and any(x in terms_ for x in synonyms):
                    best = max(best, fw * SYNONYM_CREDIT)
            if not best and len(s) >= 4 and s in name_low:
                best = FIELD_WEIGHTS["name"][0] * PART_CREDIT
            if best:
                idf = index.idf(s) * w
                score += idf * best
                covered += idf * min(1.0, best)
        if score > 0:
            out.append((score * prior, covered / total, i))
    out.sort(key=lambda r: -r[0])
    return out


# --- the memory's say --------------------------------------------------------------------------


def memory_scores(memory, question: str, answers: list[str], use_memory: bool = True) -> list[float]:
    """For each answer: log p(answer | question) per token with the read fast weights, minus the
    same with the initial ones (the QA turn format training uses, no passages shown)."""
    import torch

    from ttt_read import tokenizer as tok
    from ttt_read.span import window_hidden

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
        u.path,
        u.line,
        u.col if answer else None,
        page,
        quote.strip() if span is None else quote,
        span,
        u.line,
        u.line,
        round(score, 4),
        cite,
    )


def structured_answer(memory, notepad, question: str, use_memory: bool) -> Answer | None:
    """The unit `question` asks for, "not found" when none covers it, or None when the question
    asks for no kind of unit (or the sources have none of that kind)."""
    asked = analyse(question)
    if asked is None:
        return None
    index = unit_index(notepad)
    if not any(kind_prior(u, asked) > 0 for u in index.units[:: max(1, len(index.units) // 2000)]) and not any(
        kind_prior(u, asked) > 0 for u in index.units
    ):
        return None
    ranked = rank(index, asked, question)
    scores = {"asked": asked.want, "asked_kind": asked.kind}
    if not ranked:
        return Answer("", False, 0.0, True, [], {**scores, "coverage": 0.0})
    top = ranked[:RERANK]
    if use_memory and memory is not None and len(top) > 1:
        ratios = memory_scores(memory, question, [index.units[i].answer for _, _, i in top])
        best_lexical = top[0][0]
        top = sorted(
            ((s / best_lexical + MEMORY_WEIGHT * r, c, i) for (s, c, i), r in zip(top, ratios)), key=lambda t: -t[0]
        )
        scores["memory"] = [round(r, 3) for r in ratios]
    score, cover, i = top[0]
    found = cover >= NOT_FOUND_COVERAGE
    j = _resolve(index, i)
    u = index.units[j]
    sources = [unit_source(notepad, u, score)]
    if j != i:
        sources.append(unit_source(notepad, index.units[i], score))
    sources += [unit_source(notepad, index.units[k], s, answer=False) for s, _, k in top[1:3]]
    scores.update(
        coverage=round(cover, 4), unit=u.kind, best=u.answer, candidates=[index.units[k].answer for _, _, k in top]
    )
    return Answer(u.answer if found else "", found, round(min(1.0, cover), 4), True, sources, scores)
