"""Does `continue` recall what a snapshot read? Lines of read codebases, continued greedily.

Each codebase is read in full into a snapshot. From its notepad, lines of at least
`--min-chars` characters (indentation aside) whose text occurs once in the whole snapshot
are drawn at random; each prompt is the 3 lines before it, then its indentation and its
first 8 characters, exactly as a user would paste them. `continue` (greedy, learning as
it writes, as the command runs) writes until the end of the line; a line counts when it
is reproduced exactly. The same prompts run with the notepad and without it
(`--no-notepad`), so the share of each is visible. Run from the repository root:

    python tools/measure_line_recall.py /usr/share/go-1.19/src/strconv DIR2 DIR3 --lines 200
"""

from __future__ import annotations

import argparse
import collections
import json
import random
from pathlib import Path

from ttt_read.memory import opened
from ttt_read.predict.generate import continuation
from ttt_read.read import checkpoint
from ttt_read.read import ingest as engine

HEAD_CHARS = 8  # characters of the target line in the prompt, after its indentation
LINES_BEFORE = 3


def candidates(files, min_chars: int) -> list[tuple[str, int, list[str]]]:
    """(path, line index, the file's lines) of every line long enough and unique in the snapshot."""
    lines_of = {f.path: f.text.split("\n") for f in files}
    seen = collections.Counter(line.strip() for lines in lines_of.values() for line in lines)
    return [
        (path, i, lines)
        for path, lines in lines_of.items()
        for i, line in enumerate(lines)
        if i >= LINES_BEFORE and len(line.strip()) >= min_chars and seen[line.strip()] == 1
    ]


def prompt_for(lines: list[str], i: int) -> str:
    line = lines[i]
    indent = line[: len(line) - len(line.lstrip())]
    return "\n".join(lines[i - LINES_BEFORE : i]) + "\n" + indent + line.strip()[:HEAD_CHARS]


def continue_line(memory, prompt: str, use_notepad: bool, max_tokens: int) -> str:
    """The prompt's last line as greedy `continue` completes it."""
    options = {"max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    _, head, pieces = continuation(memory, prompt, options, learn=True, use_notepad=use_notepad, use_memory=True)
    text = head
    for piece in pieces:
        text += piece
        if "\n" in text[len(prompt) :]:
            break
    return text.split("\n")[LINES_BEFORE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("codebases", nargs="+", type=Path)
    parser.add_argument("--lines", type=int, default=200, help="lines drawn in all, spread evenly over the codebases")
    parser.add_argument("--min-chars", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshots", type=Path, default=Path("runs/line-recall"))
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    args.snapshots.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    totals = collections.Counter()
    base = checkpoint.resolve(args.model).sha256()[:12]  # a snapshot reads with the checkpoint it was made with
    for n, codebase in enumerate(args.codebases):
        mem = args.snapshots / f"{codebase.name}-{base}.mem"
        if not mem.exists():
            engine.ingest([codebase], mem, model_name=args.model, device="cpu")
        memory = opened.open_memory(mem, args.model, "cpu")
        pool = candidates(memory.notepad.files, args.min_chars)
        share = args.lines // len(args.codebases) + (n < args.lines % len(args.codebases))
        right = collections.Counter()
        for _, i, lines in rng.sample(pool, min(share, len(pool))):
            prompt = prompt_for(lines, i)
            for setting, use_notepad in (("notepad", True), ("no_notepad", False)):
                right[setting] += continue_line(memory, prompt, use_notepad, args.max_tokens) == lines[i]
            right["lines"] += 1
        print(json.dumps({"codebase": str(codebase), "candidates": len(pool), **right}), flush=True)
        totals += right
    print(json.dumps({"all": {**totals, **{k: totals[k] / totals["lines"] for k in ("notepad", "no_notepad")}}}))


if __name__ == "__main__":
    main()
