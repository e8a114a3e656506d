"""Loss by position in the text, reading off vs reading on: does the memory help later tokens?

Each document is read once with learning off (the sliding-window model alone) and once
with learning on, and per-token losses are averaged in position buckets 0-1K, 1-2K, 2-4K,
... If reading works, the reading-on curve keeps falling with position while reading-off
stays flat, because only the memory carries information from beyond the window.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ttt_read.model import TTTModel
from ttt_read.reading import read


def bucket_edges(length: int) -> list[int]:
    """0, 1K, 2K, 4K, 8K, ... up to the longest document."""
    edges = [0, 1024]
    while edges[-1] < length:
        edges.append(edges[-1] * 2)
    edges[-1] = max(length, edges[-2] + 1)
    return edges


def bucket_label(start: int, end: int) -> str:
    return f"{start // 1024}-{-(-end // 1024)}K"


@torch.no_grad()
def position_losses(model: TTTModel, documents: Sequence[Sequence[int]], lr: float, chunk: int | None = None):
    """Sum and count of per-token losses at each position, over all documents."""
    longest = max(len(d) for d in documents) - 1
    sums = torch.zeros(longest, dtype=torch.float64)
    counts = torch.zeros(longest, dtype=torch.float64)
    device = model.embed.weight.device
    for doc in documents:
        tokens = torch.tensor(doc, device=device).view(1, -1)
        losses = read(model, tokens, lr=lr, chunk=chunk).token_losses[0].double().cpu()
        sums[: len(losses)] += losses
        counts[: len(losses)] += 1
    return sums, counts


def evaluate(models: dict[str, tuple[TTTModel, float]], documents: Sequence[Sequence[int]]) -> dict:
    """For each named (model, reading lr), mean loss per position bucket and beyond 8K."""
    longest = max(len(d) for d in documents) - 1
    edges = bucket_edges(longest)
    rows = {}
    for name, (model, lr) in models.items():
        sums, counts = position_losses(model, documents, lr)
        buckets = []
        for start, end in zip(edges, edges[1:]):
            n = counts[start:end].sum()
            if n > 0:
                buckets.append({"bucket": bucket_label(start, end), "start": start, "end": end, "loss": float(sums[start:end].sum() / n), "tokens": int(n)})
        tail = counts[8192:].sum()
        rows[name] = {
            "reading_lr": lr,
            "mean_loss": float(sums.sum() / counts.sum()),
            "loss_beyond_8k": float(sums[8192:].sum() / tail) if tail > 0 else None,
            "buckets": buckets,
        }
    return {"documents": len(documents), "tokens": int(sum(len(d) for d in documents)), "settings": rows}
