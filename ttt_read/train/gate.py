"""Fitting the notepad gate (`ngram.Gate`) of a checkpoint on training documents.

The gate decides how far to trust an exact match over the model, so it is fitted where
both are what they will be at read time: documents read prequentially with the
checkpoint's own reading, the model's per-token losses beside the match statistics of the
text before each token. Training-split documents are used (the held-out split is what
`eval` reports), an equal number of code and prose documents, each from a random offset so
that a package's first files do not stand for all of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.predict import ngram
from ttt_read.read.reading import document_losses


def gate_documents(corpus: Path, tokenizer, per_kind: int, tokens: int, seed: int) -> list[tuple[str, str, np.ndarray]]:
    """(kind, name, ids) of `per_kind` training documents of each kind, `tokens` ids each,
    from a corpus tokenized as the checkpoint's `tokenizer` tokenizes (else its ids mean
    other text to the model)."""
    from ttt_read.text import tokenizer as tok
    from ttt_read.train.corpus import TokenCorpus

    if tok.load(corpus / "tokenizer.json").get_vocab() != tokenizer.get_vocab():
        raise TTTReadError(
            f"{corpus}: the corpus was tokenized with another tokenizer than the model's "
            "(build it with train corpus --tokenizer MODEL/tokenizer.json)",
            ExitCode.INPUT,
        )
    rng = np.random.default_rng(seed)
    split = TokenCorpus(corpus, "train")
    chosen = []
    for kind in ("code", "prose"):
        long = [(d, ids) for d, ids in split.iter_documents() if d["kind"] == kind and len(ids) >= tokens]
        for i in rng.permutation(len(long))[:per_kind]:
            entry, ids = long[i]
            start = int(rng.integers(0, len(ids) - tokens + 1))
            chosen.append((kind, entry["name"], np.array(ids[start : start + tokens], dtype=np.int64)))
    return chosen


def fit(model, documents: list[tuple[str, str, np.ndarray]], on_progress=None) -> ngram.Gate:
    """The gate that best mixes `model`, reading at its own rate, with each document's matches."""
    losses, stats = [], []
    for i, (_, name, ids) in enumerate(documents):
        losses.append(document_losses(model, [ids.tolist()], model.cfg.inner_lr)[0].numpy())
        stats.append(ngram.prequential(ids))
        if on_progress:
            on_progress(f"read {i + 1}/{len(documents)}: {name}")
    gate = ngram.fit_gate(losses, stats)
    gate.fitted_on["documents"] = [name for _, name, _ in documents]
    return gate
