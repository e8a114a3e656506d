"""Answering by the unit a question asks for: a definition's name, a setting's value, an option,
an environment variable, a source file's path (`units`).

The question's wording says what kind of answer it wants ("Which function ...", "Which
exception ...", "What is the default ...", "How many ...", "Which environment variable ...",
"Which option ..."); `analyse` reads that and the words that say which one. The units of that
kind are ranked by how well their name (split into its parts), doc comment, owner (class,
function, command) and first lines cover the question's words, each word also in its other
forms and synonyms (`synonyms`), weighted by how rare it is among the units. A question whose
words no unit covers well enough gets "not found"; so does one whose words the sources never
use. Questions for an explanation ("What does `f` do?", "What parameters does `f` take?") are
left to a manual's sentences (`prose`) or the span head (`grounded`).

The ranker's weights and the "not found" decision are fitted on questions worded by hand
(`train.ranker`, docs/questions/train). Manuals also answer "What is X?" in their own words
(`explain_in_manual`): a glossary entry, "Expands to ...", "X is a ...", the line under a
heading, a "default 500" next to a name.

The memory can rerank the best few: each candidate's answer scored by the model's likelihood
of it after the question (the QA turn format training uses) with the read fast weights,
relative to the initial ones (`memory_scores`). On the hand-worded sets it loses right answers
at every weight (the memory prefers the right one of two candidates half the time,
`tools/measure_memory_rerank.py`), so it is off unless `TTT_READ_MEMORY_RERANK` gives it a
weight; the span head (questions of no unit) still reads the memory.
"""

from __future__ import annotations

import dataclasses
import math
import re

from ttt_read.ask.found import Answer, Source
from ttt_read.ask.intent import Asked, analyse
from ttt_read.ask.ranking import (
    FEATURES,
    MEMORY_WEIGHT,
    NOT_FOUND_THRESHOLD,
    RERANK,
    UnitIndex,
    absent_words,
    fitted_weights,
    kind_prior,
    memory_scores,
    rank,
    rarest_missing,
    unit_index,
)
from ttt_read.ask.stems import terms
from ttt_read.ask.syntax import FALLBACK_OPERATORS
from ttt_read.ask.unit import Unit
from ttt_read.notepad.lexicon import DOT_LEADER, line_style


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


def answer_unit(index: UnitIndex, i: int, asked: Asked) -> Unit:
    """What candidate `i` answers: a setting's name when an option is asked for ("Which option
    sets the depth?": `depth`, not its default), else the unit, with a constant followed to
    its value (`_resolve`)."""
    u = index.units[i]
    if asked.want == "option" and u.kind == "value":
        return dataclasses.replace(u, kind="setting", answer=u.name, col=_name_col(index, u))
    return index.units[_resolve(index, i)]


def named_alias(index: UnitIndex, u: Unit, question: str) -> Unit:
    """An entry of a manual's list that stacks its aliases (`‘--fast’`, `‘--best’`, `‘-N’`,
    answered by the first) answers with the alias the question names ("Which flag gives the
    best compression?": `--best`), cited on its own line."""
    aliases = u.name.split(", ")
    if u.kind != "option" or len(aliases) < 2 or u.answer != aliases[0]:
        return u
    said = terms(question)
    notepad = getattr(index, "notepad", None)
    f = next((f for f in notepad.files if f.path == u.path), None) if notepad is not None else None
    lines = f.line_list() if f is not None else []
    named = [terms(re.sub(r"[=\[].*|\s.*", "", alias.lstrip("-"))) for alias in aliases]
    if named[0] <= said:
        return u
    for alias, words in zip(aliases[1:], named[1:]):
        if not words or not words <= said:
            continue
        for at in range(u.line - 1, min(u.line - 1 + len(aliases), len(lines))):
            if (col := lines[at].find(alias)) >= 0:
                return dataclasses.replace(u, answer=alias, line=at + 1, col=col + 1)
    return u


# what stands between a setting's name and its value where code assigns it: `=`, `:=`, `: `,
# a type (`limit: int = 10`), the quote that closes a key (`"timeout": 30`)
_ASSIGNED = re.compile(r"""["']?\s*(?::\s*[\w.\[\]|, ]+?\s*)?(?::=|=|:)\s*""")
# ... or a lookup the value is the fallback of: `self._max_workers = os.cpu_count() or 1`
_FALLBACK_OF = re.compile(
    r"\s*(?::=|=|:)\s*[^=;,{}]{1,80}?\s*(?:"
    + "|".join(r"\bor\b" if op == "or" else re.escape(op) for op in sorted(FALLBACK_OPERATORS))
    + r")\s*"
)
_LINE_END = re.compile(r"\s*[;,]?\s*(?:(?:#|//).*)?")


def stated(index: UnitIndex, u: Unit) -> Unit:
    """A setting answered as the code states it, name and value (`timeout=None`, `NETRC_FILES =
    (".netrc", "_netrc")`): the value alone does not say which setting it is, the name alone
    not what it holds; a fallback with what it falls back from (`workers = os.cpu_count() or 1`).
    Left as it is when the name is not written right before the value (`kwargs.get("mode",
    "a")`)."""
    value = u
    if u.kind == "variable":
        same_line = (index.units[j] for j in index.by_name.get(u.name, []))
        value = next((v for v in same_line if v.kind == "value" and (v.path, v.line) == (u.path, u.line)), None)
    if value is None or value.kind != "value":
        return u
    line = _line(index, value)
    at = value.col - 1
    end = at + len(value.answer)
    if line[at:end] != value.answer:
        return u
    for start in dict.fromkeys((_name_col(index, value) - 1, line.find(value.name))):
        between = line[start + len(value.name) : at]  # the name as set, or as the assignment's target
        if (
            0 <= start < at
            and line[start : start + len(value.name)] == value.name
            and (_ASSIGNED.fullmatch(between) or (_FALLBACK_OF.fullmatch(between) and _LINE_END.fullmatch(line[end:])))
        ):
            return dataclasses.replace(u, answer=line[start:end], col=start + 1)
    return u


def _line(index: UnitIndex, u: Unit) -> str:
    notepad = getattr(index, "notepad", None)
    f = next((f for f in notepad.files if f.path == u.path), None) if notepad is not None else None
    lines = f.line_list() if f is not None else []
    return lines[u.line - 1] if 0 < u.line <= len(lines) else ""


def _name_col(index: UnitIndex, u: Unit) -> int:
    """The 1-based column of a value unit's setting name on its line: the last time the name is
    written before the value (`opts.depth = 0`), else the value's column."""
    line = _line(index, u)
    at = line.rfind(u.name, 0, u.col - 1)
    return at + 1 if at >= 0 else u.col


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
    return Unit(
        kind=kind,
        name=text,
        answer=text,
        path=f.path,
        line=at + 1,
        col=start + 1 + (len(line[start:]) - len(line[start:].lstrip())),
    )


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
                    found = Unit.matched("value", d, 1, path=f.path, line=at + 1, name=name, answer=value)
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


def structured_answer(memory, notepad, question: str, use_memory: bool, in_manual: bool = False) -> Answer | None:
    """The unit `question` asks for, "not found" when none covers it, or None when the question
    asks for no kind of unit (or the sources have none of that kind). `in_manual`: the question
    is about a manual, whose prose answers what names no kind of unit ("Which RFC ...?")."""
    asked = analyse(question)
    if asked is None:
        return explain_in_manual(notepad, unit_index(notepad), question)
    if in_manual and asked.want == "definition" and asked.kind is None:
        return None
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
    weights = fitted_weights()
    found = support >= (weights or {}).get("threshold", NOT_FOUND_THRESHOLD)
    chosen = named_alias(index, answer_unit(index, i, asked), question)
    u = stated(index, chosen)
    sources = [unit_source(notepad, u, score)]
    if chosen is not index.units[i] and chosen.kind != "setting":
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
    has in any form, how much of the question the best name holds, the share of the most
    telling word the best candidate lacks and how many of the question's word pairs it says
    together."""
    if not ranked:
        return [0.0, 1.0, absent_words(index, question, asked), 0.0, 1.0, 0.0]
    score, cover, i, features = ranked[0]
    margin = score - ranked[1][0] if len(ranked) > 1 else 1.0
    name = features[FEATURES.index("name")] + features[FEATURES.index("name_soft")]
    missing = rarest_missing(index, asked, question, i)
    pairs = features[FEATURES.index("pairs")]
    return [cover, min(margin, 5.0), absent_words(index, question, asked), name, missing, pairs]


def supported(index: UnitIndex, asked: Asked, question: str, ranked: list) -> float:
    """The probability that the best candidate answers the question (the learned refusal when
    it has weights), else its coverage; 0 when it covers less of the question than the fitted
    least coverage (a question about S3 uploads is not answered by a line that says "file")."""
    features = refusal_features(index, asked, question, ranked)
    weights = fitted_weights()
    if weights is None or "refusal" not in weights:
        return features[0]
    if features[0] < weights.get("min_coverage", 0.0):
        return 0.0
    w, b = weights["refusal"]["weights"], weights["refusal"]["bias"]
    return 1.0 / (1.0 + math.exp(-(sum(a * x for a, x in zip(w, features)) + b)))
