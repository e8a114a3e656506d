"""`eval-qa`: does reading (and the notepad) let the model answer questions about a document?

For each document (one path: a file or a directory, read as `ingest` reads it), the same
generator that meta-training uses (`qa.synthesize`) writes N questions with known answers
and sources. The document is ingested into a temporary snapshot, and every question is
asked in four settings:

- no reading, no notepad: the base model's initial fast weights, no passages (the window
  holds only the snapshot's tail, as `eval`'s reading-off setting does);
- memory only: the read fast weights, no passages;
- notepad only: the initial fast weights, with the retrieved passages in the window;
- memory + notepad: both, which is what `ask` does.

Scores: exact match and answer-contained (the gold answer appears in the model's answer)
after normalising case, whitespace and quotes; for notepad settings, how often a correct
answer cites a passage from the right file, and how often retrieval found that file at all.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from ttt_read import qa as qa_mod
from ttt_read.answer import answer, normalize

SCHEMA_VERSION = 1
SETTINGS = {  # key: (label, use_memory, use_notepad)
    "baseline": ("no reading, no notepad", False, False),
    "memory": ("memory only", True, False),
    "notepad": ("notepad only", False, True),
    "memory+notepad": ("memory + notepad", True, True),
}


def score(prediction: str, gold: str) -> tuple[bool, bool]:
    """(exact match, answer contained) after normalisation."""
    p, g = normalize(prediction), normalize(gold)
    return p == g, bool(g) and g in p


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate_qa(
    paths: Sequence[Path],
    n_questions: int = 20,
    model_name: str | None = None,
    device: str = "auto",
    seed: int = 0,
    max_tokens: int = 48,
    k: int = 3,
    on_progress: Callable[[str], None] | None = None,
) -> dict:
    from ttt_read import engine, sources

    say = on_progress or (lambda message: None)
    records, documents = [], []
    with tempfile.TemporaryDirectory(prefix="ttt-read-eval-qa-") as tmp:
        for index, path in enumerate(paths):
            collection = sources.collect([Path(path)])
            questions = qa_mod.synthesize(collection.render(), random.Random(f"{seed}/{index}/{path}".encode("utf-8", "surrogateescape")), n_questions)
            doc = {"path": str(path), "files": len(collection.files), "questions": len(questions)}
            documents.append(doc)
            if not questions:
                say(f"{path}: no questions could be synthesised, skipped")
                continue
            out = Path(tmp) / f"doc{index}.mem"
            say(f"{path}: reading {len(collection.files)} files")
            metadata = engine.ingest([Path(path)], out, model_name, device, engine.ReadSettings(), force=True)
            doc.update(tokens=metadata["tokens"], read_seconds=metadata["read_seconds"], model=metadata["base"]["name"])
            memory = engine.open_memory(out, model_name, device)
            for number, item in enumerate(questions):
                say(f"{path}: question {number + 1}/{len(questions)}")
                answers = {}
                for key, (_, use_memory, use_notepad) in SETTINGS.items():
                    started = time.perf_counter()
                    result = answer(memory, item.question, use_notepad=use_notepad, use_memory=use_memory, max_tokens=max_tokens, k=k)
                    exact, contained = score(result.text, item.answer)
                    answers[key] = {
                        "text": result.text,
                        "exact": exact,
                        "contained": contained,
                        "sources": [s.cite for s in result.sources],
                        "cites_file": any(s.path == item.path for s in result.sources),
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                records.append({"document": str(path), **item.to_dict(), "gold": item.answer, "answers": answers})
    return {"schema_version": SCHEMA_VERSION, **summarize(records), "documents": documents, "questions_per_document": n_questions, "seed": seed, "questions": records}


def summarize(records: list[dict]) -> dict:
    settings = {}
    for key, (label, use_memory, use_notepad) in SETTINGS.items():
        rows = [r["answers"][key] for r in records]
        correct = [a for a in rows if a["contained"]]
        by_kind = defaultdict(lambda: [0, 0])
        for r in records:
            by_kind[r["kind"]][0] += r["answers"][key]["contained"]
            by_kind[r["kind"]][1] += 1
        settings[key] = {
            "label": label,
            "use_memory": use_memory,
            "use_notepad": use_notepad,
            "questions": len(rows),
            "exact": _rate(sum(a["exact"] for a in rows), len(rows)),
            "contained": _rate(len(correct), len(rows)),
            # of the correctly answered questions, how many cite a passage from the answer's file
            "correct_cites_file": _rate(sum(a["cites_file"] for a in correct), len(correct)) if use_notepad else None,
            # of all questions, how often retrieval put a passage from the answer's file in the window
            "retrieved_file": _rate(sum(a["cites_file"] for a in rows), len(rows)) if use_notepad else None,
            "seconds_per_answer": round(sum(a["seconds"] for a in rows) / len(rows), 3) if rows else None,
            "contained_by_kind": {kind: _rate(h, n) for kind, (h, n) in sorted(by_kind.items())},
        }
    return {"settings": settings}


def qa_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    settings = result["settings"]
    n = next(iter(settings.values()))["questions"]
    docs = len(result["documents"])
    table = Table(title=f"QA accuracy, {n} questions from {docs} document{'s' if docs != 1 else ''}")
    for name in ("setting", "exact", "contained", "correct cite file", "retrieved file", "s/answer"):
        table.add_column(name, justify="left" if name == "setting" else "right")
    for row in settings.values():
        table.add_row(row["label"], pct(row["exact"]), pct(row["contained"]), pct(row["correct_cites_file"]), pct(row["retrieved_file"]), f"{row['seconds_per_answer'] or 0:.2f}")
    console = Console()
    console.print(table)
    kinds = sorted({k for row in settings.values() for k in row["contained_by_kind"]})
    if kinds:
        by_kind = Table(title="answer contained, by question kind")
        by_kind.add_column("kind")
        counts = defaultdict(int)
        for r in result["questions"]:
            counts[r["kind"]] += 1
        by_kind.add_column("n", justify="right")
        for row in settings.values():
            by_kind.add_column(row["label"], justify="right")
        for kind in kinds:
            by_kind.add_row(kind, str(counts[kind]), *[pct(row["contained_by_kind"].get(kind)) for row in settings.values()])
        console.print(by_kind)
