"""Fit the sentence ranker of a manual's prose and its "not found" threshold (`ask.prose`) on
questions worded by hand.

    python -m ttt_read.train.prose_ranker [--questions docs/questions/train] [--sources runs/train-src]
        [--out ttt_read/ask/prose_weights.py]

The question files about prose (`"language": "prose"` on their first line) of the training
split are used, every question of them (`train.ranker` says how the sources are found): the
ranker is a softmax over each question's candidates (`prose.rank`) towards the sentences the
answer's regular expression accepts; "not found" is a logistic regression over
`prose.refusal_features` of the chosen sentence, answerable questions against unanswerable
ones, with the threshold that gets the most questions right, answerable or not, as the
hand-worded sets are scored, losing at most `--max-lost` of the right answers it would give
(as `train.ranker` chooses its own). The validation split's manuals are reported, never fitted on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ttt_read.train import ranker


def collect(question_files: list[Path], root: Path) -> list[dict]:
    """Per question: its file, split, whether it is answerable, its candidates' features and
    which of them are right, and the refusal features of each candidate."""
    from ttt_read.ask import prose
    from ttt_read.text.tokenizer import PASSAGES

    out = []
    for path, head, notepad, rows in ranker.question_sets(question_files, root):
        index = prose.sentence_index(notepad)
        for row in rows:
            ranked = prose.rank(index, row["question"], notepad.search(row["question"], PASSAGES))
            regex = row.get("answer_regex")
            out.append(
                {
                    "file": path.name,
                    "split": head.get("split", "train"),
                    "answerable": regex is not None,
                    "features": [f for _, f in ranked],
                    "right": [bool(regex and re.search(regex, index.sentences[i].text)) for i, _ in ranked],
                    "refusal": [prose.refusal_features(index, row["question"], ranked, k) for k in range(len(ranked))],
                }
            )
    return out


def chosen(item: dict, weights: np.ndarray) -> int:
    return int(np.argmax(np.array(item["features"]) @ weights)) if item["features"] else -1


def fit_refusal(items: list[dict], weights: np.ndarray) -> tuple[np.ndarray, float]:
    """`ranker.fit_refusal` on the refusal features of each question's chosen sentence."""
    chosen_ones = [it | {"refusal": it["refusal"][chosen(it, weights)]} for it in items if it["features"]]
    return ranker.fit_refusal(chosen_ones)


def evaluate(items: list[dict], weights: np.ndarray, refusal=None, threshold: float = -1.0) -> dict:
    """right / wrong / wrongly refused / unanswerable refused, as the hand-worded sets are scored."""
    counts = ranker.new_counts()
    for it in items:
        top = chosen(it, weights)
        found = top >= 0
        if found and refusal is not None:
            w, b = refusal
            found = 1 / (1 + np.exp(-(np.array(it["refusal"][top]) @ w + b))) >= threshold
        ranker.tally(counts, it["answerable"], found, found and it["right"][top])
    return counts


def main(argv: list[str] | None = None) -> None:
    from ttt_read.ask import prose

    out = Path(__file__).resolve().parents[1] / "ask" / "prose_weights.py"
    args = ranker.fit_arguments(__doc__.split("\n\n")[0], out).parse_args(argv)
    files = [
        p
        for p in sorted(args.questions.glob("*.jsonl"))
        if json.loads(p.read_text(encoding="utf-8").split("\n", 1)[0]).get("language") == "prose"
    ]
    ranker.prepare_sources(args.sources, files)
    items = collect(files, args.sources)
    train = [it for it in items if it["split"] == "train"]
    valid = [it for it in items if it["split"] != "train"]
    print(f"{len(train)} training and {len(valid)} validation questions about prose")
    bm25 = np.zeros(len(prose.FEATURES))
    bm25[0] = 1.0
    weights, _ = ranker.fit_ranker(train)
    for name, subset in (("train", train), ("validation", valid)):
        print(name, "BM25:   ", evaluate(subset, bm25))
        print(name, "learned:", evaluate(subset, weights))
    refusal = fit_refusal(train, weights)
    answered = evaluate(train, weights)["right"]
    best = max(
        (c["right"] + c["unanswerable_refused"], float(t))
        for t in np.arange(0.0, 0.95, 0.025)
        if answered - (c := evaluate(train, weights, refusal, float(t)))["right"] <= args.max_lost * c["answerable"]
    )
    threshold = best[1]
    for name, subset in (("train", train), ("validation", valid)):
        print(name, f"learned, not found below {threshold:.3f}:", evaluate(subset, weights, refusal, threshold))
    spec = {
        "features": list(prose.FEATURES),
        "weights": [round(float(x), 5) for x in weights],
        "refusal": {"weights": [round(float(x), 5) for x in refusal[0]], "bias": round(refusal[1], 5)},
        "threshold": round(threshold, 4),
        "trained_on": sorted({it["file"] for it in train}),
    }
    doc = (
        'Weights of the sentence ranker of a manual\'s prose and of its "not found" (`prose`),\n'
        "written by `python -m ttt_read.train.prose_ranker` from the questions in docs/questions/train."
    )
    ranker.write_weights(args.out, doc, "PROSE", spec)


if __name__ == "__main__":
    main()
