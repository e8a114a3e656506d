"""`eval-qa`: does `ask` answer questions about a document, and say "not found" when it should?

For each document (one path: a file or a directory, read as `ingest` reads it), the same
generator that training uses (`qa.synthesize`) writes N questions with known answers and
sources: code facts, "which function ...?", "how do I ...?", "what does option -x (command c)
do?" and "what is `PATH`?" as a user asks, headings, definitions and cloze sentences. Each
other document's questions whose answer and names are absent from this one are its
unanswerable questions (up to N/2). The document is ingested into a temporary snapshot, and
every question is asked in four settings:

- grounded, memory + notepad: what `ask` does (a span of the shown passages, or "not found");
- grounded, notepad only: the same with the initial fast weights (what the memory adds);
- free, memory + notepad: what `ask --free` does (the model writes its answer);
- free, memory only: the read fast weights, no passages.

With `asked` (a JSON-lines file of a user's own questions, `{"question": ..., "answer": ...}`
per line; the answer a string, a list of acceptable strings, or null for a question the
document cannot answer; or `{"question": ..., "answer_regex": ...}`, right when the regular
expression matches the answer, as the hand-worded sets are scored) those questions replace the
synthesised ones for the one document, which may also be a snapshot read before (`.mem`).

The `baseline` setting is a plain BM25 lookup with no model (`baseline`): every report can
show `ask` and the baseline side by side, in one run, on the same snapshot.

Scores over the answerable questions: exact match and answer-contained (the gold answer
appears in the answer, a one-word one as a whole word) after normalising case, whitespace
and quotes; how often a correct answer cites the right file and how often retrieval found
that file at all. For the grounded settings, "not found" recall (unanswerable questions
refused), precision (refusals that were unanswerable) and the share of answerable questions
wrongly refused.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from ttt_read.ask.answer import answer, normalize
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.evaluate.baseline import baseline_answer
from ttt_read.questions import synthesis as qa_mod
from ttt_read.questions.pair import QA
from ttt_read.text import tokenizer as tok

SCHEMA_VERSION = 2
SETTINGS = {  # key: (label, use_memory, use_notepad, free)
    "grounded": ("grounded: memory + notepad", True, True, False),
    "grounded-notepad": ("grounded: notepad only", False, True, False),
    "free": ("free: memory + notepad", True, True, True),
    "free-memory": ("free: memory only", True, False, True),
    "baseline": ("baseline: BM25, no model", False, True, False),
}


class AnswerRegex(str):
    """A gold answer given as a regular expression (`answer_regex`): a found answer is right
    when the expression matches somewhere in it, as the hand-worded sets are scored."""


def score(prediction: str, golds: Sequence[str]) -> tuple[bool, bool]:
    """(exact match, answer contained) after normalisation, for any acceptable answer. A
    one-word answer must be contained as a whole word: `cd` is not in "CDPATH"."""
    patterns = [g for g in golds if isinstance(g, AnswerRegex)]
    if patterns:
        return (
            any(re.fullmatch(g, prediction.strip()) for g in patterns),
            any(re.search(g, prediction) for g in patterns),
        )
    p = normalize(prediction)
    found = [normalize(g) for g in golds]
    return p in found, any(g and re.search(_contained(g), p) for g in found)


def _contained(gold: str) -> str:
    pattern = re.escape(gold)
    return rf"(?<!\w){pattern}(?!\w)" if re.fullmatch(r"\w+", gold) else pattern


def load_asked(path: Path) -> list[tuple[QA, list[str]]]:
    """A user's questions (see the module docstring), each with its acceptable answers
    (none: unanswerable)."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise TTTReadError(f"{path}: questions are not UTF-8 text", ExitCode.INPUT) from None
    except OSError as e:
        raise TTTReadError(f"{path}: cannot read questions ({e.strerror})", ExitCode.INPUT) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if isinstance(row, dict) and "question" not in row and "source" in row:
                continue  # a set's first line: where its sources come from
            question = row["question"]
            if "answer_regex" in row:
                gold = row["answer_regex"]
                if gold is not None and not isinstance(gold, str):
                    raise ValueError
                golds = [] if gold is None else [AnswerRegex(gold)]
                re.compile(gold or "")
            else:
                gold = row.get("answer")
                golds = [] if gold is None else [gold] if isinstance(gold, str) else list(gold)
            if not isinstance(question, str) or not question.strip() or not all(isinstance(g, str) for g in golds):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, re.error):
            raise TTTReadError(
                f'{path}:{number}: expected {{"question": text, "answer": text, list of texts or null}} '
                f'or {{"question": text, "answer_regex": regular expression or null}}',
                ExitCode.INPUT,
            ) from None
        items.append((QA(question, golds[0] if golds else "", row.get("path", ""), 0, "asked"), golds))
    if not items:
        raise TTTReadError(f"{path}: no questions", ExitCode.INPUT)
    return items


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate_qa(
    paths: Sequence[Path],
    n_questions: int = 20,
    model_name: str | None = None,
    device: str = "auto",
    *,
    seed: int = 0,
    max_tokens: int = 48,
    k: int = tok.PASSAGES,
    settings: Sequence[str] = tuple(SETTINGS),
    on_progress: Callable[[str], None] | None = None,
    asked: list[tuple[QA, list[str]]] | None = None,
) -> dict:
    from ttt_read.memory.opened import open_memory
    from ttt_read.read import ingest
    from ttt_read.text import sources

    say = on_progress or (lambda message: None)
    records, documents = [], []

    def is_snapshot(p) -> bool:  # --asked questions can be asked of a snapshot read before
        return asked is not None and Path(p).suffix == ".mem" and Path(p).is_file()

    for p in paths:
        if asked is None and Path(p).suffix == ".mem" and Path(p).is_file():
            raise TTTReadError(
                f"{p}: a snapshot; questions are synthesised from the sources themselves: give them, "
                "or ask the snapshot your own questions with --asked FILE",
                ExitCode.USAGE,
            )
    texts = ["" if is_snapshot(p) else sources.collect([Path(p)]).render() for p in paths]
    synthesized = [
        []
        if asked is not None
        else qa_mod.synthesize(text, random.Random(f"{seed}/{i}/{p}".encode("utf-8", "surrogateescape")), n_questions)
        for i, (p, text) in enumerate(zip(paths, texts))
    ]
    with tempfile.TemporaryDirectory(prefix="ttt-read-eval-qa-") as tmp:
        for index, path in enumerate(paths):
            if asked is not None:
                items = [(q, golds) for q, golds in asked]
            else:
                others = [
                    q
                    for j, qs in enumerate(synthesized)
                    if j != index
                    for q in qs
                    if qa_mod.absent_from(q, texts[index])
                ]
                unanswerable = random.Random(f"{seed}/absent/{index}").sample(
                    others, min(len(others), n_questions // 2)
                )
                items = [(q, [q.answer]) for q in synthesized[index]] + [(q, []) for q in unanswerable]
            n_absent = sum(not golds for _, golds in items)
            doc = {"path": str(path), "questions": len(items) - n_absent, "unanswerable": n_absent}
            documents.append(doc)
            if not doc["questions"]:
                say(f"{path}: no questions could be synthesised, skipped")
                continue
            out = Path(tmp) / f"doc{index}.mem"
            if is_snapshot(path):
                from ttt_read.read import snapshot

                out = Path(path)
                metadata = snapshot.read_metadata(out)
            else:
                say(f"{path}: reading")
                metadata = ingest.ingest([Path(path)], out, model_name, device, ingest.ReadSettings(), force=True)
            doc.update(
                files=len([e for e in metadata["manifest"] if "skipped" not in e]),
                tokens=metadata["tokens"],
                model=metadata["base"]["name"],
            )
            memory = open_memory(out, model_name, device)
            for number, (item, golds) in enumerate(items):
                answerable = bool(golds)
                say(f"{path}: question {number + 1}/{len(items)}")
                answers = {}
                for key in settings:
                    _, use_memory, use_notepad, free = SETTINGS[key]
                    started = time.perf_counter()
                    if key == "baseline":
                        result = baseline_answer(memory.notepad, item.question)
                    else:
                        result = answer(
                            memory,
                            item.question,
                            use_notepad=use_notepad,
                            use_memory=use_memory,
                            free=free,
                            max_tokens=max_tokens,
                            k=k,
                        )
                    exact, contained = score(result.text, golds) if answerable else (False, False)
                    answers[key] = {
                        "text": result.text,
                        "found": result.found,
                        "confidence": result.confidence,
                        "exact": exact,
                        "contained": contained,
                        "sources": [s.cite for s in result.sources],
                        "cites_file": any(s.path == item.path for s in result.sources),
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                records.append(
                    {
                        "document": str(path),
                        **item.to_dict(),
                        "answerable": answerable,
                        "gold": golds[0] if len(golds) == 1 else golds or None,
                        "gold_is_regex": any(isinstance(g, AnswerRegex) for g in golds),
                        "answers": answers,
                    }
                )
    return {
        "schema_version": SCHEMA_VERSION,
        **summarize(records, settings),
        "documents": documents,
        "questions_per_document": n_questions,
        "seed": seed,
        "questions": records,
    }


def summarize(records: list[dict], settings: Sequence[str] = tuple(SETTINGS)) -> dict:
    out = {}
    for key in settings:
        label, use_memory, use_notepad, free = SETTINGS[key]
        rows = [r["answers"][key] for r in records if r["answerable"]]
        absent = [r["answers"][key] for r in records if not r["answerable"]]
        correct = [a for a in rows if a["contained"] and (a["found"] or free)]
        refused = [a for a in rows if not a["found"]]
        refused_absent = [a for a in absent if not a["found"]]
        by_kind = defaultdict(lambda: [0, 0])
        for r in records:
            if r["answerable"]:
                by_kind[r["kind"]][0] += r["answers"][key]["contained"]
                by_kind[r["kind"]][1] += 1
        out[key] = {
            "label": label,
            "use_memory": use_memory,
            "use_notepad": use_notepad,
            "free": free,
            "questions": len(rows),
            "unanswerable": len(absent),
            "right": len(correct),  # as the hand-worded sets' scorer counts: found and right,
            "wrong": len(rows) - len(correct) - len(refused),  # found and wrong,
            "wrongly_not_found": len(refused),  # answerable but "not found",
            "unanswerable_refused": len(refused_absent),  # and unanswerable questions refused
            "exact": _rate(sum(a["exact"] for a in rows), len(rows)),
            "contained": _rate(len(correct), len(rows)),
            # of the correctly answered questions, how many cite a passage from the answer's file
            "correct_cites_file": _rate(sum(a["cites_file"] for a in correct), len(correct)) if use_notepad else None,
            # of all questions, how often retrieval put a passage from the answer's file in the window
            "retrieved_file": _rate(sum(a["cites_file"] for a in rows), len(rows)) if use_notepad else None,
            "not_found_recall": _rate(len(refused_absent), len(absent)) if not free else None,
            "not_found_precision": _rate(len(refused_absent), len(refused_absent) + len(refused)) if not free else None,
            "answerable_not_found": _rate(len(refused), len(rows)) if not free else None,
            "median_seconds": round(statistics.median(a["seconds"] for a in rows + absent), 3)
            if rows or absent
            else None,
            "contained_by_kind": {kind: _rate(h, n) for kind, (h, n) in sorted(by_kind.items())},
        }
    return {"settings": out}


def qa_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    settings = result["settings"]
    first = next(iter(settings.values()))
    docs = len(result["documents"])
    table = Table(
        title=(
            f"QA accuracy, {first['questions']} answerable and {first['unanswerable']} unanswerable questions from "
            f"{docs} document{'s' if docs != 1 else ''}"
        )
    )
    columns = (
        "setting",
        "right",
        "exact",
        "contained",
        "correct cite file",
        "retrieved file",
        "not found: recall",
        "precision",
        "answerable refused",
        "median s",
    )
    for name in columns:
        table.add_column(name, justify="left" if name == "setting" else "right")
    for row in settings.values():
        table.add_row(
            row["label"],
            f"{row.get('right', 0)}/{row['questions']}",
            pct(row["exact"]),
            pct(row["contained"]),
            pct(row["correct_cites_file"]),
            pct(row["retrieved_file"]),
            pct(row["not_found_recall"]),
            pct(row["not_found_precision"]),
            pct(row["answerable_not_found"]),
            f"{row['median_seconds'] or 0:.2f}",
        )
    console = Console()
    console.print(table)
    if "baseline" in settings and settings["baseline"]["contained"] is not None:
        for key in ("grounded", "grounded-notepad"):
            if key in settings and settings[key]["contained"] is not None:
                gap = 100 * (settings[key]["contained"] - settings["baseline"]["contained"])
                console.print(f"{settings[key]['label']} vs the baseline: {gap:+.1f} points right")
    kinds = sorted({k for row in settings.values() for k in row["contained_by_kind"]})
    if kinds:
        by_kind = Table(title="answer contained, by question kind")
        by_kind.add_column("kind")
        counts = defaultdict(int)
        for r in result["questions"]:
            counts[r["kind"]] += r["answerable"]
        by_kind.add_column("n", justify="right")
        for row in settings.values():
            by_kind.add_column(row["label"], justify="right")
        for kind in kinds:
            by_kind.add_row(
                kind, str(counts[kind]), *[pct(row["contained_by_kind"].get(kind)) for row in settings.values()]
            )
        console.print(by_kind)
