"""The reading loop of TTT-E2E: learn the text chunk by chunk into the fast weights.

For each chunk of b tokens the suffix blocks run with the current fast weights, the
chunk's mean next-token loss is recorded *before* the update (so no token is scored by
weights that saw it), and the fast weights take one clipped SGD step on that loss. The
prefix blocks never change while reading, so they run over many chunks at once.

The same loop is the inner loop of meta-training (`create_graph=True` keeps the graph
through every update) and the evaluation of "reading off" (`lr=0`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch

from ttt_read import kernels as ops
from ttt_read.core import interrupts
from ttt_read.read.model import FastWeights, KVCache, TTTModel

IGNORE = -100


@dataclasses.dataclass
class ReaderState:
    """Everything reading carries from one chunk to the next."""

    fast: FastWeights
    prefix_caches: list[KVCache]
    suffix_caches: list[KVCache]

    @classmethod
    def fresh(cls, model: TTTModel, batch: int) -> ReaderState:
        n_prefix = model.cfg.n_layers - model.cfg.n_suffix
        return cls(
            model.initial_fast_weights(batch),
            model.empty_caches(batch, n_prefix),
            model.empty_caches(batch, model.cfg.n_suffix),
        )


@dataclasses.dataclass
class ReadResult:
    token_losses: torch.Tensor  # [B, T-1]: loss of predicting token t+1, before its chunk's update
    chunk_losses: torch.Tensor  # [B, n_chunks]: mean pre-update loss of each chunk
    skipped_updates: int  # updates dropped because the loss or gradient was not finite
    state: ReaderState
    kept: dict[int, FastWeights] = dataclasses.field(default_factory=dict)  # chunk -> fast weights after its update


def learn_chunk(
    model: TTTModel,
    x: torch.Tensor,
    targets: torch.Tensor,
    caches: list[KVCache],
    fast: FastWeights,
    *,
    valid: int,
    lr: float,
    create_graph: bool = False,
):
    """Score one chunk with the current fast weights, then take one clipped SGD step.

    x: prefix output [B, 1, c, d]; targets: [B, 1, c] with IGNORE on padding.
    Returns (token losses [B, c], per-sequence mean loss [B], new fast weights, new caches,
    per-sequence flag of whether the update was applied).
    """
    if lr == 0 and not create_graph:
        with torch.no_grad():
            h, caches = model.run_suffix(x, caches, valid, fast)
            losses = model.token_losses(h, targets)[:, 0]
        return losses, _mean_loss(losses, targets), fast, caches, None
    with torch.enable_grad():
        if not create_graph:
            fast = [w.detach().requires_grad_() for w in fast]
        h, caches = model.run_suffix(x, caches, valid, fast)
        losses = model.token_losses(h, targets)[:, 0]
        mean = _mean_loss(losses, targets)
        grads = torch.autograd.grad(mean.sum(), fast, create_graph=create_graph)
        updated = ops.clipped_sgd(fast, grads, lr)
    if create_graph:
        return losses, mean, updated, caches, None
    # A non-finite loss or gradient must never poison the memory: keep the old weights.
    finite = torch.isfinite(mean) & torch.stack([g.flatten(1).isfinite().all(1) for g in grads]).all(0)
    updated = [torch.where(finite.view(-1, 1, 1), new, old).detach() for new, old in zip(updated, fast)]
    return losses.detach(), mean.detach(), updated, [c.detach() for c in caches], finite


def _mean_loss(losses: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    counted = (targets[:, 0] != IGNORE).float()
    return (losses * counted).sum(-1) / counted.sum(-1).clamp_min(1)


def read(
    model: TTTModel,
    tokens: torch.Tensor,
    lr: float,
    chunk: int | None = None,
    *,
    create_graph: bool = False,
    state: ReaderState | None = None,
    segment_chunks: int = 16,
    on_chunk: Callable[[int, int, torch.Tensor], None] | None = None,
    keep: frozenset[int] = frozenset(),
) -> ReadResult:
    """Read tokens [B, T] into the fast weights, chunk by chunk.

    The prefix blocks run `segment_chunks` chunks at a time, so memory stays flat however
    long the text is. `on_chunk(index, n_chunks, chunk_mean_loss)` reports progress; the
    fast weights after the update of each chunk in `keep` are kept (detached).
    """
    chunk = chunk or model.cfg.chunk
    B, T = tokens.shape
    n = T - 1
    n_chunks = -(-n // chunk)
    pad = n_chunks * chunk - n
    inputs = torch.nn.functional.pad(tokens[:, :-1], (0, pad))
    targets = torch.nn.functional.pad(tokens[:, 1:], (0, pad), value=IGNORE)
    state = state or ReaderState.fresh(model, B)
    fast, prefix_caches, suffix_caches = state.fast, state.prefix_caches, state.suffix_caches
    # Results go into tensors allocated up front (slice writes are differentiable for
    # meta-training): small per-chunk tensors kept to the end would pin the heap that every
    # chunk's logits cycle through, and glibc's resident memory would grow with the text
    # (12 GB for 200K tokens on a CPU).
    dtype = torch.promote_types(model.embed.weight.dtype, torch.float32)  # losses are fp32 at least
    token_losses = torch.zeros(B, n_chunks * chunk, dtype=dtype, device=tokens.device)
    chunk_losses = torch.zeros(B, n_chunks, dtype=dtype, device=tokens.device)
    applied = torch.ones(B, n_chunks, dtype=torch.bool, device=tokens.device)
    kept: dict[int, FastWeights] = {}
    for first in range(0, n_chunks, segment_chunks):
        count = min(segment_chunks, n_chunks - first)
        span = slice(first * chunk, (first + count) * chunk)
        with torch.set_grad_enabled(create_graph):
            x, prefix_caches = model.run_prefix(
                inputs[:, span].view(B, count, chunk), prefix_caches, min(n - first * chunk, count * chunk)
            )
        seg_targets = targets[:, span].view(B, count, chunk)
        for i in range(count):
            index = first + i
            losses, mean, fast, suffix_caches, finite = learn_chunk(
                model,
                x[:, i : i + 1],
                seg_targets[:, i : i + 1],
                suffix_caches,
                fast,
                valid=min(chunk, n - index * chunk),
                lr=lr,
                create_graph=create_graph,
            )
            if index in keep:
                kept[index] = [w.detach().clone() for w in fast]
            token_losses[:, index * chunk : (index + 1) * chunk] = losses
            chunk_losses[:, index] = mean
            if finite is not None:
                applied[:, index] = finite
            interrupts.point("reading")
            if on_chunk is not None:
                on_chunk(index, n_chunks, mean)
    return ReadResult(
        token_losses=token_losses[:, :n],
        chunk_losses=chunk_losses,
        skipped_updates=int((~applied).sum()),
        state=ReaderState(fast, prefix_caches, suffix_caches),
        kept=kept,
    )


def forward_losses(model: TTTModel, tokens: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """Per-token losses of one parallel sliding-window pass with the initial fast weights.

    This is reading with learning off, computed the fast way (all chunks of all blocks at
    once); it is also the pretraining forward.
    """
    chunk = chunk or model.cfg.chunk
    B, T = tokens.shape
    n = T - 1
    n_chunks = -(-n // chunk)
    pad = n_chunks * chunk - n
    inputs = torch.nn.functional.pad(tokens[:, :-1], (0, pad)).view(B, n_chunks, chunk)
    targets = torch.nn.functional.pad(tokens[:, 1:], (0, pad), value=IGNORE).view(B, n_chunks, chunk)
    state = ReaderState.fresh(model, B)
    x, _ = model.run_prefix(inputs, state.prefix_caches, n)
    h, _ = model.run_suffix(x, state.suffix_caches, n, state.fast)
    return model.token_losses(h, targets).view(B, -1)[:, :n]


@torch.no_grad()
def document_losses(
    model: TTTModel, documents: Sequence[Sequence[int]], lr: float, chunk: int | None = None
) -> list[torch.Tensor]:
    """Per-token losses (nats, fp64 on the CPU) of each document, each read from W_0."""
    device = model.embed.weight.device
    losses = []
    for doc in documents:
        tokens = torch.tensor(doc, device=device).view(1, -1)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            losses.append(read(model, tokens, lr=lr, chunk=chunk).token_losses[0].double().cpu())
    return losses
