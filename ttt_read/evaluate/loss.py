"""Loss by position in the text, reading off vs reading on, and bits per byte next to xz.

Each document is read once with learning off (the sliding-window model alone) and once
with learning on, and per-token losses are averaged in position buckets 0-1K, 1-2K, 2-4K,
... If reading works, the reading-on curve keeps falling with position while reading-off
stays flat, because only the memory carries information from beyond the window.

Nats per token depend on the tokenizer; bits per byte of the text do not. The bytes are
exactly those the scored tokens stand for (every token after a document's first), and
`xz -9e` compresses the same bytes, document by document: a general-purpose compressor
that sees each text once, as the memory does. A memory that needs more bits per byte than
xz knows the text worse than a compressor.
"""

from __future__ import annotations

import lzma
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ttt_read.read.model import TTTModel
from ttt_read.read.reading import document_losses
from ttt_read.text.tokenizer import token_bytes

XZ_PRESET = 9 | lzma.PRESET_EXTREME  # `xz -9e`


class Setting(NamedTuple):
    """One way to read the documents: a model, its reading rate (0: reading off) and its
    tokens per update (None: the model's own)."""

    model: TTTModel
    lr: float
    chunk: int | None = None


def bucket_edges(length: int) -> list[int]:
    """0, 1K, 2K, 4K, 8K, ... up to the longest document."""
    edges = [0, 1024]
    while edges[-1] < length:
        edges.append(edges[-1] * 2)
    edges[-1] = max(length, edges[-2] + 1)
    return edges


def bucket_label(start: int, end: int) -> str:
    return f"{start // 1024}-{-(-end // 1024)}K"


def scored_bytes(document: Sequence[int], table: Sequence[bytes]) -> bytes:
    """The text the scored tokens of `document` (all but its first) stand for."""
    return b"".join(table[t] for t in document[1:])


def xz_bits(data: bytes) -> int:
    return 8 * len(lzma.compress(data, preset=XZ_PRESET))


def _by_position(values: Sequence[torch.Tensor], length: int) -> torch.Tensor:
    """Sum over documents of a per-position quantity."""
    total = torch.zeros(length, dtype=torch.float64)
    for v in values:
        total[: len(v)] += v
    return total


def notepad_losses(
    losses: dict[str, list[torch.Tensor]],
    documents: Sequence[Sequence[int]],
    *,
    gate,
    mixed: Sequence[str],
    vocab: int,
    notepad: Sequence[int] = (),
) -> dict[str, list[torch.Tensor]]:
    """Rows that predict with the notepad too, each document scored prequentially (a token
    only from the text before it, after the token stream `notepad` of another snapshot):
    "notepad alone" (the match distribution, trusted as the gate trusts it, else uniform)
    and each setting in `mixed` + notepad."""
    from ttt_read.predict import ngram

    stats = [ngram.prequential([*notepad, *doc]).tail(len(doc) - 1) for doc in documents]
    uniform = [np.full(len(s), math.log(vocab)) for s in stats]
    rows = {"notepad alone": [torch.from_numpy(ngram.mixed_losses(u, s, gate)) for u, s in zip(uniform, stats)]}
    for name in mixed:
        rows[f"{name} + notepad"] = [
            torch.from_numpy(ngram.mixed_losses(loss.numpy(), s, gate)) for loss, s in zip(losses[name], stats)
        ]
    return rows


def evaluate(
    settings: dict[str, tuple],
    documents: Sequence[Sequence[int]],
    *,
    tokenizer,
    labels: Sequence[tuple[str, str]] | None = None,
    gate=None,
    mixed: Sequence[str] = (),
    notepad: Sequence[int] = (),
) -> dict:
    """For each named `Setting` (or a tuple of its fields): mean loss per position bucket
    and beyond 8K, and bits per byte overall, per bucket, per document and per kind of
    document, beside xz on the same bytes. `labels` gives each document's (kind, name).
    With a notepad `gate` (`ngram.Gate`), also the notepad alone and each setting named in
    `mixed` mixed with it (`notepad_losses`, after the token stream `notepad`)."""
    labels = labels or [("document", str(i)) for i in range(len(documents))]
    table = token_bytes(tokenizer)
    longest = max(len(d) for d in documents) - 1
    edges = bucket_edges(longest)
    byte_lengths = [torch.tensor([len(table[t]) for t in doc[1:]], dtype=torch.float64) for doc in documents]
    texts = [scored_bytes(doc, table) for doc in documents]
    xz = [xz_bits(text) for text in texts]
    counts = _by_position([torch.ones(len(b), dtype=torch.float64) for b in byte_lengths], longest)
    nbytes = _by_position(byte_lengths, longest)
    per_document = [
        {
            "kind": kind,
            "name": name,
            "tokens": len(doc) - 1,
            "bytes": len(text),
            "xz_bits": bits,
            "xz_bits_per_byte": bits / len(text),
            "bits_per_byte": {},
        }
        for (kind, name), doc, text, bits in zip(labels, documents, texts, xz)
    ]
    read_settings = {name: Setting(*setting) for name, setting in settings.items()}
    all_losses = {name: document_losses(s.model, documents, s.lr, s.chunk) for name, s in read_settings.items()}
    if gate is not None:
        vocab = tokenizer.get_vocab_size(with_added_tokens=True)
        all_losses |= notepad_losses(all_losses, documents, gate=gate, mixed=mixed, vocab=vocab, notepad=notepad)
    rows = {}
    for name, losses in all_losses.items():
        sums = _by_position(losses, longest)
        buckets = []
        for start, end in zip(edges, edges[1:]):
            n = counts[start:end].sum()
            if n > 0:
                nats = sums[start:end].sum()
                buckets.append({
                    "bucket": bucket_label(start, end), "start": start, "end": end, "loss": float(nats / n),
                    "tokens": int(n), "bits_per_byte": float(nats / math.log(2) / nbytes[start:end].sum()),
                })  # fmt: skip
        for entry, loss in zip(per_document, losses):
            entry["bits_per_byte"][name] = float(loss.sum() / math.log(2) / entry["bytes"])
            entry.setdefault("loss_beyond_8k", {})[name] = float(loss[8192:].mean()) if len(loss) > 8192 else None
        tail = counts[8192:].sum()
        setting = read_settings.get(name)
        rows[name] = {
            "reading_lr": setting.lr if setting else None,
            "reading_chunk": (setting.chunk or setting.model.cfg.chunk) if setting else None,
            "mean_loss": float(sums.sum() / counts.sum()),
            "loss_beyond_8k": float(sums[8192:].sum() / tail) if tail > 0 else None,
            "bits_per_byte": float(sums.sum() / math.log(2) / nbytes.sum()),
            "buckets": buckets,
        }
    total_bytes = sum(len(t) for t in texts)
    return {
        "documents": len(documents),
        "tokens": int(sum(len(d) for d in documents)),
        "bytes": total_bytes,
        "xz_bits_per_byte": sum(xz) / total_bytes,
        "settings": rows,
        "per_document": per_document,
        "per_kind": by_kind(per_document),
        "paired": paired(per_document, list(rows)),
    }


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal's).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def mean_interval(values: Sequence[float]) -> dict:
    """Mean and 95% t-interval of paired per-document differences (the documents vary far
    more than the settings, so only differences within a document say which setting wins)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "ci95": None, "documents": n}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = (_T95[n - 2] if n - 1 <= len(_T95) else 1.96) * sd / math.sqrt(n)
    return {"mean": mean, "ci95": [mean - half, mean + half], "documents": n}


def paired(per_document: Sequence[dict], settings: Sequence[str]) -> list[dict]:
    """For each pair of settings (A, B), B − A per document: bits per byte, and loss beyond
    8K (nats/token) over the documents longer than 8K tokens. Negative: B knows the text better."""
    pairs = []
    for i, a in enumerate(settings):
        for b in settings[i + 1 :]:
            bpb = [d["bits_per_byte"][b] - d["bits_per_byte"][a] for d in per_document]
            long = [d["loss_beyond_8k"] for d in per_document if d["loss_beyond_8k"][a] is not None]
            beyond = [d[b] - d[a] for d in long]
            pairs.append(
                {
                    "a": a,
                    "b": b,
                    "bits_per_byte": mean_interval(bpb),
                    "loss_beyond_8k": mean_interval(beyond) if beyond else None,
                }
            )
    return pairs


def by_kind(per_document: Sequence[dict]) -> dict:
    """Bytes, xz and each setting's bits per byte over all documents of each kind (code, prose)."""
    kinds = {}
    for kind in dict.fromkeys(d["kind"] for d in per_document):
        docs = [d for d in per_document if d["kind"] == kind]
        total = sum(d["bytes"] for d in docs)
        kinds[kind] = {
            "documents": len(docs),
            "bytes": total,
            "xz_bits_per_byte": sum(d["xz_bits"] for d in docs) / total,
            "bits_per_byte": {
                name: sum(d["bits_per_byte"][name] * d["bytes"] for d in docs) / total
                for name in docs[0]["bits_per_byte"]
            },
        }
    return kinds
