"""Generating from a memory against the reading loop: a `Session` fed text token by token
learns it exactly as `read()` does, chunk by chunk, and predicts every token as reading does."""

from __future__ import annotations

import itertools

import pytest
import torch
from conftest import take

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.predict.generate import Session
from ttt_read.read.reading import forward_losses, read

TOLERANCE = 1e-4  # fp32, max abs difference of per-token losses and of fast weights


@pytest.fixture(scope="module")
def text(model, code_tokens) -> list[int]:
    """Three whole chunks and a few tokens of a fourth, of real code."""
    return take(code_tokens, 3 * model.cfg.chunk + 8)


def fed_token_by_token(session: Session, text: list[int], prompt: int) -> torch.Tensor:
    """Feed `prompt` tokens at once (as a prompt is fed), then one at a time (as generated
    tokens are); the loss of each next token under the session's logits, from the prompt's
    last token on."""
    losses = []
    logits = session.feed(text[:prompt])
    for t in range(prompt - 1, len(text) - 1):
        losses.append(torch.nn.functional.cross_entropy(logits.float().view(1, -1), torch.tensor([text[t + 1]])))
        logits = session.feed([text[t + 1]])
    return torch.stack(losses)


@pytest.mark.parametrize("chunk", [None, 48], ids=["model's chunk", "a memory read with --chunk 48"])
def test_generating_with_learning_reads_as_ingest_reads(model, text, chunk):
    lr, size = model.cfg.inner_lr, chunk or model.cfg.chunk
    prompt = size + size // 2  # the prompt alone spans a chunk boundary
    session = Session(model, model.initial_fast_weights(1), lr=lr, learn=True, chunk=chunk)

    losses = fed_token_by_token(session, text, prompt)

    whole_chunks = (len(text) - 1) // size
    assert whole_chunks > 2 and session.updates == whole_chunks
    reading = read(model, torch.tensor(text).view(1, -1), lr=lr, chunk=chunk)
    expected = reading.token_losses[0, prompt - 1 :]
    gap = (losses - expected).abs().max().item()
    assert gap <= TOLERANCE, f"max abs diff {gap:.2e} between the session's losses and reading's"
    learned = read(model, torch.tensor(text[: whole_chunks * size + 1]).view(1, -1), lr=lr, chunk=chunk).state.fast
    for got, want in zip(session.fast, learned):
        assert (got - want).abs().max().item() <= TOLERANCE
    assert all(not torch.equal(got, w0) for got, w0 in zip(session.fast, model.initial_fast_weights(1)))


def test_generating_without_learning_is_one_sliding_window_pass(model, text):
    session = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=False)
    prompt = 2 * model.cfg.chunk + model.cfg.chunk // 2

    losses = fed_token_by_token(session, text, prompt)

    assert session.updates == 0
    with torch.no_grad():
        expected = forward_losses(model, torch.tensor(text).view(1, -1))[0, prompt - 1 :]
    gap = (losses - expected).abs().max().item()
    assert gap <= TOLERANCE, f"max abs diff {gap:.2e} between the session's losses and one forward pass"
    assert all(torch.equal(got, w0) for got, w0 in zip(session.fast, model.initial_fast_weights(1)))


def test_an_empty_prompt_continues_the_context(model, text):
    """`continue MEM ""` goes on from the snapshot's text; with no text at all it is a usage error."""
    session = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=True)
    session.context(text[:100])
    fed = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=True).feed(text[:100])
    assert torch.equal(session.feed([]), fed)
    with pytest.raises(TTTReadError) as info:
        Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr).feed([])
    assert info.value.code == ExitCode.USAGE


@pytest.mark.parametrize("prompt", ["    def url_f", "x = ", "caf\ufffd"])
def test_a_healed_prompt_is_rewritten_first_and_n_counts_only_new_tokens(model, model_and_tokenizer, prompt):
    """`heal` gives back the prompt's unfinished end; generation re-writes exactly those
    bytes first (its whole words as the prompt tokenized them, so the notepad finds them),
    then writes `max_tokens` tokens of its own (a `-n 2` never spends itself on the prompt);
    the printed text starts with the whole prompt."""
    from ttt_read.predict.generate import generate, heal, stream_text
    from ttt_read.text.tokenizer import token_bytes

    _, tokenizer = model_and_tokenizer
    kept, given, given_back = heal(tokenizer, prompt)
    assert given_back and prompt.endswith(given_back) and tokenizer.decode(kept) == prompt[: -len(given_back)]
    assert kept + given == tokenizer.encode(prompt, add_special_tokens=False).ids
    table = token_bytes(tokenizer)
    session = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=False)
    ids = list(generate(session, kept, 2, temperature=0.0, rewrite=[table[i] for i in given], table=table))
    written = b"".join(table[i] for i in ids)
    assert written.startswith(given_back.encode())
    # its whole words re-written as the prompt tokenized them, unless one token holds the rest
    for n, piece in enumerate(given[:-1]):
        if table[ids[n]].startswith(b"".join(table[i] for i in given[n:])):
            break
        assert ids[n] == piece
    ends = itertools.accumulate(len(table[i]) for i in ids)
    rewriting = sum(end <= len(given_back.encode()) for end in ends)
    assert len(ids) - rewriting == 2
    assert (prompt[: -len(given_back)] + "".join(stream_text(tokenizer, iter(ids)))).startswith(prompt)


@pytest.fixture
def two_threads():
    caller = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(caller)


def test_one_token_goes_through_on_one_thread_and_the_count_comes_back(model, text, monkeypatch, two_threads):
    """Decoding a token runs on one intra-op thread (its products are too small to share);
    a prompt runs on all of them; the caller's thread count is restored, also after an error."""
    seen = []
    run_prefix = model.run_prefix

    def counting(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return run_prefix(*args, **kwargs)

    monkeypatch.setattr(model, "run_prefix", counting)
    session = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=False)
    session.feed(text[:8])
    session.feed(text[8:9])
    assert seen == [2, 1] and torch.get_num_threads() == 2
    with pytest.raises(IndexError):
        session.feed([model.cfg.vocab_size])  # no such token
    assert torch.get_num_threads() == 2
