"""A grounded answer: the span head's choice among the shown passages' units, or "not found".

`span` says what the candidates and the head are; this module runs them on one question's
window and turns the choice into an `answer.Answer` whose first source is the span itself,
quoted with its line(s) and column, followed by the other passages shown.
"""

from __future__ import annotations

from ttt_read.ask import span
from ttt_read.ask.found import Answer, Source, passage_source
from ttt_read.ask.span import Candidate, Shown
from ttt_read.text.sources import PAGE_MARK


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
        supported = confidence >= head.not_found["threshold"]
        scores = {
            "coverage": round(cover, 4),
            "span_probability": round(float(probs.max()), 4),
            "margin": round(margin, 4),
        }
    sources = [answer_source(best, shown)] + [passage_source(s) for i, s in enumerate(shown) if i != best.shown]
    return Answer(best.text if supported else "", supported, round(confidence, 4), True, sources, scores)


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
