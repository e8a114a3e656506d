"""A grounded answer: the span head's choice among the shown passages' units, or "not found".

`span` says what the candidates and the head are; this module runs them on one question's
window and turns the choice into an `answer.Answer` whose first source is the span itself,
quoted with its line(s) and column, followed by the other passages shown.
"""

from __future__ import annotations

import os

from ttt_read.ask import span
from ttt_read.ask.found import Answer, Source, passage_source
from ttt_read.ask.span import Candidate, Shown
from ttt_read.text.sources import PAGE_MARK

SURE = 0.9  # a head this confident keeps its pick
COVER_SHARE = 0.6  # else a pick whose line holds less than this share of the best line's words yields
# "Not found" in a manual's prose below this confidence, not the head's own threshold: that one
# was calibrated on synthesised questions and refuses most questions worded by hand (on the
# training split's manuals, right + unanswerable refused: 86 at the head's 0.83, 91 at 0.7, 92
# at 0.6 and 0.5, 90 at 0.4; the model card says how to measure it again).
PROSE_NOT_FOUND = float(os.environ.get("TTT_READ_PROSE_NOT_FOUND", "0.6") or 0.6)


def grounded_answer(
    memory, notepad, question: str, prompt: list[int], shown: list[Shown], *, use_memory: bool
) -> Answer:
    head, _ = memory.span_head
    weights = span.query_weights(notepad, question)
    cover = span.coverage(weights, shown)
    found = span.candidates(shown)
    if not found:
        return Answer("", False, 0.0, True, [passage_source(s) for s in shown], {"coverage": round(cover, 4)})
    if head is None:
        best = _best_line(found, shown)
        confidence = cover
        supported = cover >= span.FALLBACK_COVERAGE
        scores = {"coverage": round(cover, 4)}
    else:
        fast = memory.fast_weights(use_memory and head.reads_memory)  # the states the head was trained on
        inputs = span.window_inputs(
            memory.model, memory.tokenizer, question, weights, prompt=prompt, shown=shown, found=found, fast=fast
        )
        allowed = span.asked_parameter_lists(question, shown, found) or list(range(len(found)))
        logits = head.scores(inputs)[allowed]
        probs = logits.softmax(-1)
        top = logits.topk(min(2, len(allowed)))
        best = found[allowed[int(top.indices[0])]]
        margin = float(top.values[0] - top.values[1]) if len(allowed) > 1 else span.LONE_MARGIN
        confidence = head.found_probability(float(probs.max()), margin, cover)
        threshold = head.not_found["threshold"]
        if shown[0].passage.is_prose:
            threshold = min(threshold, PROSE_NOT_FOUND)
        supported = confidence >= threshold
        scores = {
            "coverage": round(cover, 4),
            "span_probability": round(float(probs.max()), 4),
            "margin": round(margin, 4),
        }
    if head is None or confidence < SURE:
        best = _better_covered(best, found, shown, weights)
    sources = [answer_source(best, shown)] + [passage_source(s) for i, s in enumerate(shown) if i != best.shown]
    return Answer(best.text if supported else "", supported, round(confidence, 4), True, sources, scores)


def _better_covered(best: Candidate, found: list[Candidate], shown: list[Shown], weights: dict) -> Candidate:
    """In a manual, the sentence or line of the shown passages that holds most of the question's
    (weighted) words, when the pick's own line holds less than `COVER_SHARE` of that: an unsure
    head drifts to examples and headings ("gzip -c file1 > foo.gz") that share no word with it."""
    if not shown[best.shown].passage.is_prose:
        return best
    pool = [c for c in found if c.kind in ("sentence", "line")]
    if not pool:
        return best
    top = max(pool, key=lambda c: (span.term_share(weights, c.text), c.kind == "sentence"))
    if span.term_share(weights, _line_of(best, shown)) < COVER_SHARE * span.term_share(weights, top.text):
        return top
    return best


def _line_of(c: Candidate, shown: list[Shown]) -> str:
    text = shown[c.shown].text
    end = text.find("\n", max(c.end, 0))
    return text[text.rfind("\n", 0, max(c.begin, 0)) + 1 : None if end < 0 else end]


def _best_line(found: list[Candidate], shown: list[Shown]) -> Candidate:
    """Without a head: the best passage's best-matching line."""
    s = shown[0]
    lines = [c for c in found if c.shown == 0 and c.kind == "line"]
    return next((c for c in lines if c.location(s)[0] == s.passage.focus), lines[0] if lines else found[0])


def answer_source(c: Candidate, shown: list[Shown]) -> Source:
    """The chosen span's source: its whole line(s) quoted, the span marked in them."""
    s = shown[c.shown]
    p = s.passage
    if c.begin < 0:  # the file's path: cite the passage's best line
        return passage_source(s)
    line, col = c.location(s)
    quote_start = s.text.rfind("\n", 0, c.begin) + 1
    quote_end = s.text.find("\n", c.end)
    quote = s.text[quote_start : None if quote_end < 0 else quote_end]
    page = _page_at(s, c.begin)
    cite = f"{p.path} (page {page})" if page is not None else f"{p.path}:{line}:{col}"
    return Source(
        path=p.path,
        line=line,
        col=col,
        page=page,
        quote=quote,
        span=(c.begin - quote_start, c.end - quote_start),
        line_start=s.lo,
        line_end=s.hi,
        score=p.score,
        cite=cite,
    )


def _page_at(s: Shown, offset: int) -> int | None:
    """The PDF page an offset of the shown text is on: after the last page marker before
    it, else before the first one after it, else the passage's own page."""
    if s.passage.page is None:
        return None
    marks = list(PAGE_MARK.finditer(s.text))
    before = [m for m in marks if m.start() <= offset]
    if before:
        return int(before[-1].group(1))
    return int(marks[0].group(1)) - 1 if marks else s.passage.page
