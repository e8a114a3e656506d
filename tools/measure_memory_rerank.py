"""Could the memory help `ask` choose? Its likelihood of each of the best few answers, measured.

For each question of each hand-worded set that reaches the unit ranker with two or more
candidates, the best `ranking.RERANK` candidates are taken with their ranker scores, the
memory's log-likelihood ratio of each answer given the question (the snapshot's read fast
weights against the initial ones, `ranking.memory_scores`), and whether the final answer
would be right with each one chosen. It prints how many questions would be right when the
ratio, times a weight, is added to the ranker's score (among all candidates, or only among
those within a score gap of the first), and, over every pair of the first candidate and
another where exactly one is right, how often the memory prefers the right one. This is what
`TTT_READ_MEMORY_RERANK=W` does inside `ask`, for many weights in one pass. Run from the
repository root:

    python tools/measure_memory_rerank.py requests.mem=requests-2.32.3.jsonl click.mem=click-8.1.7.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ttt_read.ask import ranking, structured
from ttt_read.ask.answer import answer
from ttt_read.evaluate.qa import load_asked, score
from ttt_read.memory.opened import open_memory

WEIGHTS = (0.1, 0.25, 0.5, 1.0, 2.0, float("inf"))  # inf: the memory alone
GAPS = (None, 0.25, 0.5, 1.0)  # None: rerank every candidate


class Seam:
    """Stands in for the memory's scores inside `structured_answer`: records the candidates and
    their real ratios, then forces one candidate first to see the answer it would give."""

    def __init__(self):
        self.force: int | None = None
        self.answers: list[str] = []
        self.ratios: list[float] = []
        self.scores: list[float] = []

    def memory_scores(self, memory, question, answers, use_memory=True):
        if self.force is None:
            self.answers, self.ratios = answers, ranking.memory_scores(memory, question, answers)
            return [0.0] * len(answers)
        return [1e9 if k == self.force else 0.0 for k in range(len(answers))]

    def rank(self, *args, **kwargs):
        ranked = ranking.rank(*args, **kwargs)
        self.scores = [s for s, _, _, _ in ranked[: ranking.RERANK]]
        return ranked


def measure(memory, questions) -> list[dict]:
    seam = Seam()
    structured.memory_scores, structured.rank, structured.MEMORY_WEIGHT = seam.memory_scores, seam.rank, 1.0
    rows = []
    for qa, golds in questions:
        seam.force, seam.answers = None, []
        first = answer(memory, qa.question)
        right = [bool(golds) and first.found and score(first.text, golds)[1]]
        for k in range(1, len(seam.answers)):
            seam.force = k
            other = answer(memory, qa.question)
            right.append(bool(golds) and other.found and score(other.text, golds)[1])
        rows.append({"right": right, "ratios": seam.ratios, "scores": seam.scores[: len(right)]})
    return rows


def chosen(row: dict, weight: float, gap: float | None) -> int:
    s, m = row["scores"], row["ratios"]
    if len(row["right"]) < 2:
        return 0
    near = [k for k in range(len(s)) if gap is None or s[0] - s[k] <= gap]
    if weight == float("inf"):
        return max(near, key=lambda k: m[k])
    return max(near, key=lambda k: s[k] + weight * m[k])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", help="SNAPSHOT=QUESTIONS.jsonl (answer or answer_regex format)")
    args = parser.parse_args()
    rows = []
    for spec in args.sets:
        snapshot, _, questions = spec.partition("=")
        found = measure(open_memory(Path(snapshot), None, "cpu"), load_asked(Path(questions)))
        print(f"{snapshot}: {len(found)} questions, {sum(r['right'][0] for r in found)} right", flush=True)
        rows += found
    base = sum(r["right"][0] for r in rows)
    reranked = sum(len(r["right"]) > 1 for r in rows)
    print(f"{len(rows)} questions, {reranked} with 2+ candidates; the ranker alone: {base} right")
    print(f"some candidate of the best {ranking.RERANK} right: {sum(any(r['right']) for r in rows)}")
    for weight in WEIGHTS:
        cells = []
        for gap in GAPS:
            right = sum(r["right"][chosen(r, weight, gap)] for r in rows)
            cells.append(f"{'all' if gap is None else f'gap {gap}'}: {right} ({right - base:+d})")
        print(f"memory weight {weight}: " + ", ".join(cells))
    pairs = [(r, k) for r in rows for k in range(1, len(r["right"])) if r["right"][k] != r["right"][0]]
    agree = sum((r["ratios"][k] > r["ratios"][0]) == r["right"][k] for r, k in pairs)
    print(f"pairs of the first and another with exactly one right: {len(pairs)}; the memory prefers it in {agree}")


if __name__ == "__main__":
    main()
