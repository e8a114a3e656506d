"""Answering a question from a snapshot: the memory (read fast weights) plus the notepad.

The notepad's best passages for the question go into the attention window first, each
introduced by its file header as in the read text and trimmed around its best-matching line
so that passages, question and answer fit in the window together; then the question in the
QA turn format training uses (`tokenizer.encode_qa_prompt`).

By default the answer is *grounded*: the unit the question asks for (`structured`); in a
manual's prose, the sentence that says it (`prose`); else a span copied verbatim from those
passages, chosen by the span head over the model's hidden states (`span`); or "not found"
when none is supported. `free=True` lets the model write its answer instead, greedy
decoding (`generate.generate`) with the read fast weights until it ends the answer; that is
also what a snapshot without a notepad gets. The passages shown are the answer's sources.
"""

from __future__ import annotations

import math
import re
import time

from ttt_read.ask.found import Answer, passage_source
from ttt_read.ask.span import Shown
from ttt_read.notepad.store import Passage
from ttt_read.text import tokenizer as tok

NO_NOTEPAD_NOTICE = (
    "this snapshot has no notepad (made by an older ttt-read): answering from memory only; ingest "
    "again for exact recall"
)
ANSWER_RESERVE = 48  # window tokens kept free for the answer itself
CONTEXT_BEFORE = 1  # lines kept above a passage's best line before filling downward (more up to its definition)
MIN_SHARE = 24  # a passage that would get fewer window tokens than this is left out


def normalize(text: str) -> str:
    """Case, whitespace and quotes do not count when answers are compared."""
    text = re.sub(r"[\"'`\u2018\u2019\u201c\u201d]", "", text.lower())
    return " ".join(text.split()).strip().rstrip(".")


def trim_passage(tokenizer, passage: Passage, budget: int) -> tuple[list[int], int, int, str] | None:
    """The passage cut to at most `budget` tokens, encoded as reading encodes a file (its
    header, then its lines): the best line, a line above it (or the lines up to the
    definition it describes, `Passage.definition`), then lines below, then more above while
    they fit. Returns (ids, first line, last line, text shown) or None when not even the
    header and part of the best line fit."""
    lines = passage.text.split("\n")
    focus = min(max(passage.focus - passage.line_start, 0), len(lines) - 1)
    encode = lambda lo, hi: tok.encode_file(tokenizer, passage.path, "\n".join(lines[lo:hi]))  # noqa: E731
    lo, hi = focus, focus + 1
    if len(encode(lo, hi)) > budget:
        room = budget - len(tok.encode_file(tokenizer, passage.path, "")) - 1
        if room < 4:
            return None
        head = tokenizer.decode(tok.encode_text(tokenizer, lines[focus])[:room])
        line = passage.line_start + focus
        return tok.encode_file(tokenizer, passage.path, head), line, line, head
    fits = lambda lo, hi: len(encode(lo, hi)) <= budget  # noqa: E731
    above = CONTEXT_BEFORE if passage.definition is None else max(CONTEXT_BEFORE, passage.focus - passage.definition)
    while lo > max(0, focus - above) and fits(lo - 1, hi):
        lo -= 1
    while hi < len(lines) and fits(lo, hi + 1):
        hi += 1
    while lo > 0 and fits(lo - 1, hi):
        lo -= 1
    while lo < focus and not lines[lo].strip():
        lo += 1
    while hi > focus + 1 and not lines[hi - 1].strip():
        hi -= 1
    return encode(lo, hi), passage.line_start + lo, passage.line_start + hi - 1, "\n".join(lines[lo:hi])


def layout(
    tokenizer, passages: list[Passage], question: str, window: int, max_tokens: int
) -> tuple[list[int], list[Shown]]:
    """The ids placed before the question and the passages as shown, best first (placed
    best last, nearest the question), trimmed so that they, the question and the answer
    fit in `window` tokens. Each passage gets a share of the room in proportion to its
    score; what one leaves goes to the next."""
    budget = window - len(tok.encode_qa_prompt(tokenizer, question)) - min(max_tokens, ANSWER_RESERVE)
    trimmed_all: list[tuple[list[int], Passage, int, int, str]] = []
    for i, passage in enumerate(passages):
        rest = sum(max(p.score, 1e-9) for p in passages[i:])
        share = int(budget * max(passage.score, 1e-9) / rest)
        trimmed = trim_passage(tokenizer, passage, share) if share >= MIN_SHARE else None
        if trimmed is None:
            continue
        budget -= len(trimmed[0])
        trimmed_all.append((trimmed[0], passage, *trimmed[1:]))
    context: list[int] = []
    starts = {}
    for index in reversed(range(len(trimmed_all))):
        starts[index] = len(context)
        context += trimmed_all[index][0]
    return context, [Shown(p, lo, hi, text, starts[i]) for i, (_, p, lo, hi, text) in enumerate(trimmed_all)]


def build_context(
    tokenizer, passages: list[Passage], question: str, window: int, max_tokens: int
) -> tuple[list[int], list[tuple[Passage, int, int]]]:
    """`layout`'s ids, with each shown passage as (passage, first line, last line)."""
    context, shown = layout(tokenizer, passages, question, window, max_tokens)
    return context, [(s.passage, s.lo, s.hi) for s in shown]


def answer(
    memory,
    question: str,
    *,
    use_notepad: bool = True,
    use_memory: bool = True,
    free: bool = False,
    max_tokens: int = 64,
    k: int = tok.PASSAGES,
) -> Answer:
    """Answer `question` from `memory` (an `opened.Memory`); see the module docstring."""
    started = time.perf_counter()
    tokenizer, model = memory.tokenizer, memory.model
    notice, passages, notepad = None, [], None
    if use_notepad:
        notepad = memory.notepad
        if notepad is None:
            notice = NO_NOTEPAD_NOTICE
        else:
            passages = notepad.search(question, k)
    if notepad is not None and not free:
        from ttt_read.ask.quoted import absent_quote
        from ttt_read.ask.structured import structured_answer

        if (quote := absent_quote(notepad, question)) is not None:  # named, and in no read file
            seconds = round(time.perf_counter() - started, 3)
            return Answer("", False, 0.0, True, [], {"absent": quote, "seconds": seconds})

        in_manual = bool(passages) and passages[0].is_prose
        result = structured_answer(memory, notepad, question, use_memory, in_manual=in_manual)
        if in_manual and (result is None or not result.found):  # a manual has few units: its prose may say it
            from ttt_read.ask.prose import prose_answer
            from ttt_read.ask.span import question_literals

            # A question quoting a name or a heading ("What does `f` do?") points where the span
            # head was trained to look; the sentence ranker was fitted on questions without quotes.
            result = None if question_literals(question) else prose_answer(notepad, question, passages)
        if result is not None:
            result.scores.update(seconds=round(time.perf_counter() - started, 3))
            return result
    context, shown = layout(tokenizer, passages, question, model.cfg.window, max_tokens) if passages else ([], [])
    prompt = context + tok.encode_qa_prompt(tokenizer, question)
    if free or notepad is None:
        result = _free_answer(memory, question, prompt, shown, use_memory=use_memory, max_tokens=max_tokens)
    else:
        from ttt_read.ask.grounded import grounded_answer

        result = grounded_answer(memory, notepad, question, prompt, shown, use_memory=use_memory)
        notice = notice or memory.span_head[1]
    result.notice = notice
    result.scores.update(
        retrieval=[s.passage.score for s in shown],
        context_tokens=len(prompt),
        seconds=round(time.perf_counter() - started, 3),
    )
    return result


def _free_answer(
    memory, question: str, prompt: list[int], shown: list[Shown], *, use_memory: bool, max_tokens: int
) -> Answer:
    """The model's own greedy answer, from the memory's state that knows the question's
    subject best (`opened.Memory.fast_weights`); passages containing it are cited first."""
    from ttt_read.predict.generate import generate

    tokenizer = memory.tokenizer
    stops = frozenset(tokenizer.token_to_id(t) for t in (tok.END_OF_TEXT, tok.QUESTION, tok.FILE))
    session = memory.session(learn=False, use_memory=use_memory, question=question)
    logprobs: list[float] = []
    generated = list(generate(session, prompt, max_tokens, temperature=0.0, stop=stops, logprobs=logprobs))
    text = tokenizer.decode(generated).strip()
    ordered = sorted(
        shown, key=lambda s: (not text or normalize(text) not in normalize(s.passage.text), -s.passage.score)
    )
    mean = sum(logprobs) / len(logprobs) if logprobs else None
    confidence = round(math.exp(mean), 4) if mean is not None else None  # the tokens' geometric-mean probability
    scores = {"answer_tokens": len(generated), "answer_logprob": None if mean is None else round(mean, 4)}
    return Answer(text, bool(text), confidence, False, [passage_source(s) for s in ordered], scores)
