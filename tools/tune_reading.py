"""Choose the reading settings (learning rate, tokens per update) on validation text that the
held-out evaluation does not score.

`ttt-read eval --corpus C --max-per-kind 5 --max-tokens 32768` scores the first 32K tokens of
the first five held-out documents of each kind. This sweep reads the rest: the first 32K of
every later held-out document, and tokens 32K..64K of the second to fifth prose documents,
so the settings the bundled model ships with are not fitted to the numbers its card reports.
Prints bits per byte per kind beside xz -9e on the same bytes. Run from the repository root:

    python tools/tune_reading.py runs/corpus default 1:256 1:128 1:64 0.7:128
"""

from __future__ import annotations

import argparse
import math

from ttt_read.evaluate.loss import xz_bits
from ttt_read.read import checkpoint
from ttt_read.read.reading import document_losses
from ttt_read.text.tokenizer import token_bytes
from ttt_read.train.corpus import TokenCorpus

SCORED = 32768  # tokens per document the held-out evaluation scores
SCORED_PER_KIND = 5


def validation_slices(corpus: str) -> list[tuple[str, list[int]]]:
    """(kind, token ids) of the held-out text the evaluation leaves unscored."""
    by_kind: dict[str, list] = {}
    for entry, ids in TokenCorpus(corpus, "val").iter_documents():
        by_kind.setdefault(entry["kind"], []).append(ids)
    slices = []
    for kind, docs in by_kind.items():
        slices += [(kind, ids[:SCORED].tolist()) for ids in docs[SCORED_PER_KIND:] if len(ids) >= SCORED]
        if kind == "prose":  # few prose documents: their unscored second windows too
            slices += [
                (kind, ids[SCORED : 2 * SCORED].tolist()) for ids in docs[1:SCORED_PER_KIND] if len(ids) >= 2 * SCORED
            ]
    return slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("model")
    parser.add_argument("settings", nargs="+", help="LR:CHUNK, e.g. 1:128")
    args = parser.parse_args()
    model, tokenizer = checkpoint.load(checkpoint.resolve(args.model))
    table = token_bytes(tokenizer)
    slices = validation_slices(args.corpus)
    kinds = sorted({kind for kind, _ in slices})
    nbytes = [sum(len(table[t]) for t in ids[1:]) for _, ids in slices]

    def per_kind(bits: list[float]) -> str:
        parts = []
        for kind in kinds:
            chosen = [i for i, (k, _) in enumerate(slices) if k == kind]
            parts.append(f"{kind} {sum(bits[i] for i in chosen) / sum(nbytes[i] for i in chosen):.4f}")
        return ", ".join(parts) + f", all {sum(bits) / sum(nbytes):.4f} bits/byte"

    counts = ", ".join(f"{sum(k == kind for k, _ in slices)} {kind}" for kind in kinds)
    xz = [xz_bits(b"".join(table[t] for t in ids[1:])) for _, ids in slices]
    print(f"{len(slices)} slices ({counts}); xz -9e: {per_kind(xz)}", flush=True)
    for spec in args.settings:
        lr, chunk = spec.split(":")
        losses = document_losses(model, [ids for _, ids in slices], float(lr), int(chunk))
        print(f"lr {lr}, chunk {chunk}: " + per_kind([float(x.sum()) / math.log(2) for x in losses]), flush=True)


if __name__ == "__main__":
    main()
