"""QA turns at the end of training windows, and the loss weights that single out answers.

A QA window is a window of corpus text whose tail is replaced by question/answer turns
about the part kept, so every answer is in what the model has read. A turn is *grounded*
when its question comes with the notepad passages `ask` would retrieve for it, laid out by
the same `answer.build_context`: the model then learns to answer from passages in its
window (the notepad), while plain turns, about text beyond the attention window, train it
to answer from the read weights (the memory). Training and `ask` share one format, so
neither can drift from the other.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np

from ttt_read.text import tokenizer as tok


def qa_window(
    window: np.ndarray,
    tokenizer,
    budget: int,
    grounded: float,
    *,
    context: int,
    rng: random.Random,
    recall_until: int | None = None,
) -> np.ndarray:
    """`window` with its last (at most) `budget` tokens replaced by QA turns about the rest.

    Each turn is grounded with probability `grounded`, its passages fitted into `context`
    tokens (the model's attention window) with the question and the answer; the others ask
    about text more than `context` tokens before the turns, or about the first
    `recall_until` tokens only when given.
    """
    from ttt_read.questions.synthesis import split_files, synthesize

    kept = window[: len(window) - budget]
    text = tokenizer.decode(kept.tolist(), skip_special_tokens=False)
    # A plain turn asks about what attention can no longer see from the turns, so its answer
    # must come from the read weights (when the window is long enough to have such text).
    far_end = max(len(kept) - context, 0) if recall_until is None else min(recall_until, len(kept))
    far = tokenizer.decode(kept[:far_end].tolist(), skip_special_tokens=False)
    asked = {"grounded": synthesize(text, rng, max_pairs=8), "memory": synthesize(far, rng, max_pairs=8)}
    if not asked["memory"] and recall_until is None:  # a short window: ask about any of it
        asked["memory"] = asked["grounded"]
    notepad = None
    turns: list[int] = []
    for _ in range(8):
        source = "grounded" if rng.random() < grounded else "memory"
        if not asked[source]:
            break
        item = asked[source].pop(0)
        if source == "grounded":
            notepad = notepad or _notepad_of(split_files(text))
            turns += _passages_for(notepad, tokenizer, item.question, context)
        turns += tok.encode_qa_prompt(tokenizer, item.question) + tok.encode_answer(tokenizer, item.answer)
    qa_ids = np.array(turns[:budget], dtype=window.dtype)
    return np.concatenate([window[: len(window) - len(qa_ids)], qa_ids])


def _notepad_of(segments):
    from ttt_read.notepad.store import Notepad

    return Notepad.build(SimpleNamespace(path=s.path or "text", kind="text", text=s.body) for s in segments)


def _passages_for(notepad, tokenizer, question: str, context: int) -> list[int]:
    from ttt_read.ask.answer import ANSWER_RESERVE, build_context

    passages = notepad.search(question, k=tok.PASSAGES)
    return build_context(tokenizer, passages, question, context, ANSWER_RESERVE)[0] if passages else []


def answer_weights(tokens: np.ndarray, tokenizer, answer_weight: float) -> np.ndarray:
    """Loss weight of predicting each next token ([B, T] ids → [B, T-1]): `answer_weight` for
    answer tokens (after an ANSWER marker, through the END_OF_TEXT that closes it), 1 for
    everything else. Literal special-token text in files is encoded as plain text, so the
    markers only ever come from QA turns."""
    answer_id = tokenizer.token_to_id(tok.ANSWER)
    closers = [tokenizer.token_to_id(t) for t in (tok.END_OF_TEXT, tok.QUESTION, tok.FILE)]
    inputs = tokens[:, :-1]
    positions = np.broadcast_to(np.arange(inputs.shape[1]), inputs.shape)
    last_answer = np.maximum.accumulate(np.where(inputs == answer_id, positions, -1), axis=1)
    last_closer = np.maximum.accumulate(np.where(np.isin(inputs, closers), positions, -1), axis=1)
    return np.where(last_answer > last_closer, answer_weight, 1.0).astype(np.float32)
