"""Measure the margins `tests/test_ask_memory.py` asserts, for any checkpoints.

A fact read once, more than a window before the end and kept out of the prompt: how much
more likely its answer is with the memory (the state `ask` answers from, see
`ttt_read/waypoints.py`) than with the initial fast weights (the model alone), and than with
a memory of the same text without the fact. The test holds the bundled checkpoint to 1.5
and 1.0 nats; this says where another checkpoint stands before it is bundled. Beside them,
the same margins from the final state alone (how far reading the code after the fact moved
the weights away from it), and what the memory of the fact alone adds (with the fact in the
window too): how strongly the reading stores it.
Run from the repository root, on the CPU:

    python tools/measure_recall.py default runs/stage6 [--reading-lr 0.3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import test_ask_memory as recall  # noqa: E402  (the fact, the question and the margins, defined once)
from conftest import CORPUS, SAMPLE_FILES  # noqa: E402

from ttt_read.memory import opened  # noqa: E402
from ttt_read.read import ingest as engine  # noqa: E402


def read(files: dict[str, str], model: str, reading_lr: float | None, root: Path):
    """A memory of `files` (name → text), read as `ingest` reads a directory."""
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    out = root.with_suffix(".mem")
    engine.ingest([root], out, model, "cpu", engine.ReadSettings(lr=reading_lr))
    return opened.open_memory(out, device="cpu")


def margins(model: str, reading_lr: float | None, work: Path) -> dict[str, float]:
    code = {name: (CORPUS / name).read_text() for name in SAMPLE_FILES}
    fact = {"harbour.md": recall.FACT}
    work = work / Path(model).name
    work.mkdir()
    with_fact, other, fact_alone = (
        read(files, model, reading_lr, work / label)
        for label, files in (("fact", fact | code), ("other", code), ("alone", fact))
    )
    remembered = recall.forced_logprob(with_fact, use_memory=True)
    alone = recall.forced_logprob(with_fact, use_memory=False)
    final = recall.forced_logprob(with_fact, use_memory=True, final_state=True)
    return {
        "remembered": remembered,
        "over_no_memory": remembered - alone,
        "over_other_memory": remembered - recall.forced_logprob(other, use_memory=True),
        "final_over_no_memory": final - alone,
        "final_over_other_memory": final - recall.forced_logprob(other, use_memory=True, final_state=True),
        "fact_alone": recall.forced_logprob(fact_alone, use_memory=True)
        - recall.forced_logprob(fact_alone, use_memory=False),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="checkpoint names or directories")
    parser.add_argument("--reading-lr", type=float, help="read at this lr instead of the checkpoint's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"needed: over no memory {recall.MARGIN_OVER_NO_MEMORY}, over other memory {recall.MARGIN_OVER_OTHER_MEMORY}")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            m = margins(model, args.reading_lr, Path(tmp))
            print(
                f"{model}: answer log-prob {m['remembered']:.2f}, over no memory {m['over_no_memory']:+.2f}, "
                f"over other memory {m['over_other_memory']:+.2f}; from the final state "
                f"{m['final_over_no_memory']:+.2f} and {m['final_over_other_memory']:+.2f}; the fact read alone, "
                f"over no memory {m['fact_alone']:+.2f}"
            )


if __name__ == "__main__":
    main()
