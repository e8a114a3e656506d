"""Answering a question from a snapshot: the memory (read fast weights) plus the notepad.

The notepad's best passages for the question go into the attention window first, each
introduced by its file header as in the read text and trimmed around its best-matching line
so that passages, question and answer fit in the window together; then the question in the
QA turn format training uses (`tokenizer.encode_qa_prompt`), and greedy decoding with the
read fast weights (or the initial ones, to measure what the memory adds) until the model
ends its answer. The passages shown are the answer's sources.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field

from ttt_read import tokenizer as tok
from ttt_read.notepad import Notepad, Passage

NO_NOTEPAD_NOTICE = "this snapshot has no notepad (made by an older ttt-read): answering from memory only; ingest again for exact recall"
ANSWER_RESERVE = 48  # window tokens kept free for the answer itself
PASSAGES = 3  # notepad passages retrieved per question
CONTEXT_BEFORE = 1  # lines kept above a passage's best line before filling downward
MIN_SHARE = 24  # a passage that would get fewer window tokens than this is left out


@dataclass
class Source:
    path: str
    line: int  # the passage's best-matching line
    line_start: int  # the lines actually shown to the model
    line_end: int
    page: int | None
    score: float
    cite: str  # `path:line`, or `path (page N)` for PDFs


@dataclass
class Answer:
    text: str
    sources: list[Source] = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    notice: str | None = None

    def to_dict(self) -> dict:
        return {"answer": self.text, "sources": [asdict(s) for s in self.sources], "scores": self.scores}


def load_notepad(memory) -> Notepad | None:
    """The snapshot's notepad, decoded once per Memory; None for old snapshots."""
    cached = getattr(memory, "_notepad", False)
    if cached is False:
        raw = memory.snapshot.notepad
        cached = Notepad.from_bytes(raw) if raw else None
        memory._notepad = cached
    return cached


def normalize(text: str) -> str:
    """Case, whitespace and quotes do not count when answers are compared."""
    text = re.sub(r"[\"'`\u2018\u2019\u201c\u201d]", "", text.lower())
    return " ".join(text.split()).strip().rstrip(".")


def trim_passage(tokenizer, passage: Passage, budget: int) -> tuple[list[int], int, int] | None:
    """The passage cut to at most `budget` tokens, encoded as reading encodes a file (its
    header, then its lines): the best line, a line above it, then lines below, then more
    above while they fit. Returns (ids, first line, last line) or None when not even the
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
        return tok.encode_file(tokenizer, passage.path, head), passage.line_start + focus, passage.line_start + focus
    fits = lambda lo, hi: len(encode(lo, hi)) <= budget  # noqa: E731
    while lo > max(0, focus - CONTEXT_BEFORE) and fits(lo - 1, hi):
        lo -= 1
    while hi < len(lines) and fits(lo, hi + 1):
        hi += 1
    while lo > 0 and fits(lo - 1, hi):
        lo -= 1
    while lo < focus and not lines[lo].strip():
        lo += 1
    while hi > focus + 1 and not lines[hi - 1].strip():
        hi -= 1
    return encode(lo, hi), passage.line_start + lo, passage.line_start + hi - 1


def build_context(tokenizer, passages: list[Passage], question: str, window: int, max_tokens: int) -> tuple[list[int], list[tuple[Passage, int, int]]]:
    """The ids placed before the question: passages (best last, nearest the question)
    trimmed so that they, the question and the answer fit in `window` tokens. Each passage
    gets a share of the room in proportion to its score; what one leaves goes to the next."""
    budget = window - len(tok.encode_qa_prompt(tokenizer, question)) - min(max_tokens, ANSWER_RESERVE)
    shown: list[tuple[list[int], Passage, int, int]] = []
    for i, passage in enumerate(passages):
        rest = sum(max(p.score, 1e-9) for p in passages[i:])
        share = int(budget * max(passage.score, 1e-9) / rest)
        trimmed = trim_passage(tokenizer, passage, share) if share >= MIN_SHARE else None
        if trimmed is None:
            continue
        ids, lo, hi = trimmed
        budget -= len(ids)
        shown.append((ids, passage, lo, hi))
    context = [i for ids, *_ in reversed(shown) for i in ids]
    return context, [(p, lo, hi) for _, p, lo, hi in shown]


def answer(
    memory,
    question: str,
    use_notepad: bool = True,
    use_memory: bool = True,
    max_tokens: int = 64,
    k: int = PASSAGES,
) -> Answer:
    """Answer `question` from `memory` (an `engine.Memory`); see the module docstring."""
    import torch

    started = time.perf_counter()
    tokenizer, model = memory.tokenizer, memory.model
    notice, passages = None, []
    if use_notepad:
        notepad = load_notepad(memory)
        if notepad is None:
            notice = NO_NOTEPAD_NOTICE
        else:
            passages = notepad.search(question, k)
    context, shown = build_context(tokenizer, passages, question, model.cfg.window, max_tokens) if passages else ([], [])
    prompt = context + tok.encode_qa_prompt(tokenizer, question)
    stops = {tokenizer.token_to_id(t) for t in (tok.END_OF_TEXT, tok.QUESTION, tok.FILE)}
    session = memory.session(learn=False, use_memory=use_memory)
    generated, logprob = [], 0.0
    with torch.no_grad():
        logits = session.feed(prompt)
        for _ in range(max_tokens):
            logp = torch.log_softmax(logits.float().cpu(), -1)
            token = int(logp.argmax())
            if token in stops:
                break
            generated.append(token)
            logprob += float(logp[token])
            logits = session.feed([token])
    text = tokenizer.decode(generated).strip()
    sources = [
        Source(p.path, p.focus, lo, hi, p.page, p.score, p.cite())
        for p, lo, hi in sorted(shown, key=lambda s: (normalize(text) not in normalize(s[0].text) or not text, -s[0].score))
    ]
    scores = {
        "retrieval": [p.score for p, _, _ in shown],
        "answer_logprob": round(logprob / len(generated), 4) if generated else None,
        "answer_tokens": len(generated),
        "context_tokens": len(prompt),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if not math.isfinite(scores["answer_logprob"] or 0.0):
        scores["answer_logprob"] = None
    return Answer(text, sources, scores, notice)
