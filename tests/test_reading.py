"""The reading loop against the real checkpoint: exact equivalence with a one-shot sliding-window
forward when learning is off, a hard attention horizon, and memory that carries text past it."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch
from conftest import as_batch, take

from ttt_read.read.reading import forward_losses, read
from ttt_read.text import tokenizer as tok

# Max abs difference of per-token losses, compared in fp64 so the bound is about the algorithm,
# not about how sharp the checkpoint's predictions are (fp32 rounding grows with them).
TOLERANCE = 1e-9
REPEAT_MARGIN = 0.05  # nats the memory must take off the mean loss of a repeated passage


def receptive_field(cfg) -> int:
    """How far back a loss can depend on the input with learning off: each of the n_layers
    attention layers looks at most W-1 tokens back, and they stack."""
    return cfg.n_layers * (cfg.window - 1)


def chunk_sizes(cfg) -> dict[str, int]:
    return {"default": cfg.chunk, "odd": cfg.chunk // 2 + 1}


@pytest.fixture(scope="module")
def long_text(model, code_tokens) -> list[int]:
    """At least 4 windows of real code, with a ragged last chunk for every chunk size tested."""
    cfg = model.cfg
    n = 4 * cfg.window + cfg.chunk // 2 + 1  # predictions; the text has n + 1 tokens
    while any(n % c == 0 for c in chunk_sizes(cfg).values()):
        n += 1
    return take(code_tokens, n + 1)


@pytest.fixture(scope="module")
def model64(model):
    """The bundled checkpoint in fp64."""
    return copy.deepcopy(model).double()


@pytest.fixture(scope="module")
def one_shot_losses(model64, long_text) -> torch.Tensor:
    """The whole text as a single chunk: one banded-mask pass through every block."""
    with torch.no_grad():
        return forward_losses(model64, as_batch(long_text), chunk=len(long_text))


@pytest.mark.parametrize(
    "chunk_name, segment_chunks",
    [("default", None), ("odd", None), ("default", 2), ("odd", 3)],
    ids=["default-chunk", "odd-chunk", "default-chunk-2-chunk-segments", "odd-chunk-3-chunk-segments"],
)
def test_reading_without_learning_equals_one_sliding_window_pass(
    model64, long_text, one_shot_losses, chunk_name, segment_chunks
):
    chunk = chunk_sizes(model64.cfg)[chunk_name]
    n = len(long_text) - 1
    assert n >= 4 * model64.cfg.window and n % chunk, "the text must span 4 windows and end in a ragged chunk"
    segments = {} if segment_chunks is None else {"segment_chunks": segment_chunks}
    if segments:
        assert -(-n // chunk) > segment_chunks, "the prefix must run in several segments"

    result = read(model64, as_batch(long_text), lr=0.0, chunk=chunk, **segments)

    assert result.token_losses.shape == one_shot_losses.shape == (1, n)
    assert result.token_losses.dtype == torch.float64
    assert torch.isfinite(result.token_losses).all()
    diff = (result.token_losses - one_shot_losses).abs().max().item()
    assert diff <= TOLERANCE, f"max abs diff {diff:.2e} between chunked reading and the one-shot pass"
    # Each chunk's reported loss is the mean of its own tokens' losses.
    per_chunk = [result.token_losses[0, i : i + chunk].mean() for i in range(0, n, chunk)]
    torch.testing.assert_close(result.chunk_losses[0], torch.stack(per_chunk), rtol=0, atol=TOLERANCE)
    assert result.skipped_updates == 0


@pytest.fixture(scope="module")
def horizon_case(model, code_tokens):
    """A text, a copy with one token changed early in the first chunk, and where the change
    can no longer reach by attention."""
    cfg = model.cfg
    changed_at = cfg.chunk // 2
    unreachable_from = changed_at + receptive_field(cfg) + 1  # first loss index out of attention's reach
    text = take(code_tokens, unreachable_from + 2 * cfg.chunk + 1)
    edited = list(text)
    edited[changed_at] = (text[changed_at] + 1) % cfg.vocab_size
    return text, edited, changed_at, unreachable_from


def losses_of(model, tokens: list[int], lr: float) -> torch.Tensor:
    return read(model, as_batch(tokens), lr=lr).token_losses[0]


def test_attention_cannot_see_past_its_horizon(model, horizon_case):
    text, edited, changed_at, unreachable_from = horizon_case
    before, after = losses_of(model, text, 0.0), losses_of(model, edited, 0.0)

    assert (before[changed_at] - after[changed_at]).abs() > 1e-6, "the edit must matter right after it"
    assert torch.equal(before[: changed_at - 1], after[: changed_at - 1]), "no loss may depend on a later token"
    assert torch.equal(before[unreachable_from:], after[unreachable_from:]), (
        "a token beyond the window stack leaked through"
    )


def test_memory_carries_a_token_past_the_horizon(model, horizon_case):
    text, edited, changed_at, unreachable_from = horizon_case
    lr = model.cfg.inner_lr
    before, after = losses_of(model, text, lr), losses_of(model, edited, lr)

    assert torch.equal(before[: changed_at - 1], after[: changed_at - 1]), "a chunk is scored before its own update"
    far = (before[unreachable_from:] - after[unreachable_from:]).abs().max().item()
    assert far > 1e-5, "with learning on, the fast weights must carry the early token past attention's reach"


def test_reading_lowers_the_loss_on_a_repeated_passage(model, code_tokens):
    """[random passage P] + [other text] + [P again]: attention cannot reach the first P from the
    second, so only the memory can make the repeat cheaper."""
    cfg = model.cfg
    generator = torch.Generator().manual_seed(0)
    passage = torch.randint(len(tok.SPECIAL_TOKENS), cfg.vocab_size, (2 * cfg.window,), generator=generator).tolist()
    gap = max(2 * cfg.window, receptive_field(cfg) + 1)
    text = passage + take(code_tokens, gap) + passage
    repeat = slice(len(passage) + gap, len(text) - 1)  # losses predicting the 2nd..last token of the repeat

    off = losses_of(model, text, 0.0)[repeat].mean().item()
    on = losses_of(model, text, cfg.inner_lr)[repeat].mean().item()

    assert on <= off - REPEAT_MARGIN, f"repeat loss with reading {on:.4f} vs without {off:.4f} (margin {off - on:.4f})"


PEAK_MEMORY_SCRIPT = """
import resource, sys, torch
from ttt_read.read import checkpoint
from ttt_read.read.reading import read
model, _ = checkpoint.load(checkpoint.resolve(None), "cpu")
tokens = torch.randint(0, model.cfg.vocab_size, (1, int(sys.argv[1])))
for _ in range(2):  # a second read starts on the heap the first one left
    read(model, tokens, lr=1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_reading_memory_does_not_grow_with_the_text():
    """A read holds the window, not the text: 8x more tokens may cost only a little more
    peak memory (it once grew by ~60 KB per token, 12 GB for a 200K-token codebase, as
    per-chunk results pinned glibc's heap between chunks' logits: 0.6 vs 2.4 GB here)."""

    def peak_kib(tokens: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", PEAK_MEMORY_SCRIPT, str(tokens)], capture_output=True, text=True, check=True
        )
        return int(done.stdout.split()[-1])

    short, long = peak_kib(4096), peak_kib(32768)
    assert long - short < 200 * 1024, f"peak memory {short} KiB for 4K tokens, {long} KiB for 32K"
