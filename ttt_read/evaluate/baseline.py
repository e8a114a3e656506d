"""A plain BM25 lookup with no model and no learning, the yardstick `ask` is measured against
(`eval-qa --setting baseline`).

- "Which function / method / class / decorator / exception / property ...?": BM25 over the
  definitions (`units`), each one its name split into words, its doc comment and its first
  lines; the answer is the best definition's name.
- Every other question: BM25 over single lines, each with the line above; the answer is the
  best line.

It never says "not found" unless nothing matches at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ttt_read.ask.found import Answer, Source
from ttt_read.notepad.lexicon import FUNCTION_WORDS, QUESTION_WORDS, word_terms

K1, B = 1.2, 0.75
_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:which|what)\s+(?:\w+\s+){0,2}?(function|method|class|decorator|exception|property)s?\b", re.I
)
_WORD = re.compile(r"\w+")


def _terms(text: str) -> list[str]:
    return [t for w in _WORD.findall(text) for t in word_terms(w)]


def _query(question: str) -> list[str]:
    words = [w for w in _WORD.findall(question) if w.lower() not in FUNCTION_WORDS | QUESTION_WORDS]
    return list(dict.fromkeys(t for w in words for t in word_terms(w)))


class _BM25:
    def __init__(self, docs: list[list[str]]):
        self.tfs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / max(len(docs), 1) or 1.0
        self.df = Counter(t for tf in self.tfs for t in tf)
        self.n = len(docs)

    def best(self, query: list[str]) -> tuple[int, float] | None:
        idf = {t: math.log(1 + (self.n - self.df[t] + 0.5) / (self.df[t] + 0.5)) for t in query if self.df[t]}
        if not idf:
            return None
        best, best_score = None, 0.0
        for i, tf in enumerate(self.tfs):
            norm = K1 * (1 - B + B * self.lengths[i] / self.avg)
            score = sum(w * tf[t] * (K1 + 1) / (tf[t] + norm) for t, w in idf.items() if t in tf)
            if score > best_score:
                best, best_score = i, score
        return None if best is None else (best, best_score)


def _index(notepad):
    cached = getattr(notepad, "_baseline", None)
    if cached is None:
        from ttt_read.ask.units import notepad_units

        definitions = [
            u for u in notepad_units(notepad) if u.kind in ("function", "method", "class", "type", "command")
        ]
        def_docs = [_terms(u.name) + _terms(u.doc) + _terms(u.context) for u in definitions]
        lines = []
        for f in notepad.files:
            text_lines = f.line_list()
            for i, line in enumerate(text_lines):
                if line.strip():
                    lines.append((f, i, _terms((text_lines[i - 1] if i else "") + "\n" + line)))
        cached = notepad._baseline = (definitions, _BM25(def_docs), lines, _BM25([t for _, _, t in lines]))
    return cached


def baseline_answer(notepad, question: str) -> Answer:
    definitions, def_index, lines, line_index = _index(notepad)
    query = _query(question) or _terms(question)
    if _DEFINITION_QUESTION.match(question) and definitions:
        hit = def_index.best(query)
        if hit is not None:
            u = definitions[hit[0]]
            f = next(f for f in notepad.files if f.path == u.path)
            quote = f.line_list()[u.line - 1]
            source = Source(
                path=u.path,
                line=u.line,
                col=u.col,
                page=f.page_of(u.line),
                quote=quote,
                span=(u.col - 1, u.col - 1 + len(u.name)),
                line_start=u.line,
                line_end=u.line,
                score=round(hit[1], 4),
                cite=f"{u.path}:{u.line}:{u.col}",
            )
            return Answer(u.name, True, None, True, [source], {"baseline": "definitions"})
    hit = line_index.best(query)
    if hit is None:
        return Answer("", False, None, True, [], {"baseline": "lines"})
    f, i, _ = lines[hit[0]]
    text = f.line_list()[i]
    col = len(text) - len(text.lstrip()) + 1
    source = Source(
        path=f.path,
        line=i + 1,
        col=col,
        page=f.page_of(i + 1),
        quote=text,
        span=(col - 1, len(text)),
        line_start=i + 1,
        line_end=i + 1,
        score=round(hit[1], 4),
        cite=f"{f.path}:{i + 1}:{col}",
    )
    return Answer(text.strip(), True, None, True, [source], {"baseline": "lines"})
