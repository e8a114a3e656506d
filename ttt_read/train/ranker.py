"""Fit the unit ranker and the "not found" decision of `structured` on questions worded by hand.

    python -m ttt_read.train.ranker [--questions docs/questions/train] [--sources runs/train-src]
        [--out ttt_read/ask/ranker_weights.py]

Each question file (`docs/questions/train/*.jsonl`) starts with `{"source": ..., "split":
"train" | "validation"}`, then `{"question": ..., "answer_regex": ...}` lines (null: the sources
cannot answer it). The sources are found from the first line (`question_sources`); the text is
indexed as `ask` indexes a snapshot's notepad, no model is needed. Only the questions that ask
for a unit (`intent.analyse`) are used.

- The ranker: a linear score over `ranking.FEATURES`, fitted with a softmax over each
  question's 30 best candidates (by the hand-weighted score) towards those whose answer the
  regular expression accepts.
- "Not found": a logistic regression over `structured.refusal_features`, answerable questions
  against unanswerable ones; its threshold, with the least share of the question the best
  candidate must cover, gets the most questions right, answerable or not
  (as the hand-worded sets are scored), losing at most `--max-lost` of the right answers it
  would give. Refusing an answer that would have been wrong costs nothing there, and spares
  the user a wrong answer.

The weights are written as a Python module (`ttt_read/ask/ranker_weights.py`), loaded by `ask`.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
from pathlib import Path

import numpy as np

_NPM = re.compile(r"npm pack (?P<name>[\w.-]+)@(?P<version>[\w.-]+); read (?P<read>[\w./-]+)")
_UNZIP = re.compile(r"unzip (?P<archive>/\S+) (?P<members>\S+); read (?P<read>[\w./-]+)")
_SDIST = re.compile(
    r"pip download --no-deps --no-binary :all: (?P<name>[\w.-]+)==(?P<version>[\w.-]+); tar xzf \S+; "
    r"read (?P<read>[\w./-]+)"
)
_DEB = re.compile(
    r"apt-get download (?P<package>[\w.+-]+); dpkg -x \S+ x;(?: gunzip (?P<gz>\S+);)? read x/(?P<read>\S+)"
)


def question_sources(source: str, root: Path) -> list[Path]:
    """The files a question set's `source` line names: a path (or glob) on this machine, an
    info manual or man page rendered to text under `root` (`prepare_sources`), an installed
    package's directory under `root/site`, an npm package unpacked under `root/npm`, or the
    members of an archive (a JDK's src.zip) unpacked under `root/unzip`, a source distribution
    under `root/sdist` or a Debian package under `root/deb/PACKAGE/x`."""
    if m := re.search(r"site-packages/([\w.-]+)", source):
        return [root / "site" / m.group(1)]
    if m := _NPM.match(source):
        return [root / "npm" / f"{m['name']}-{m['version']}" / m["read"]]
    if m := _UNZIP.match(source):
        return [root / "unzip" / m["read"]]
    if m := _SDIST.match(source):
        return [root / "sdist" / m["read"]]
    if m := _DEB.match(source):
        return [root / "deb" / m["package"] / "x" / m["read"]]
    first = source.split()[0].rstrip(",")
    if m := re.match(r"/usr/share/info/([\w.-]+?)\.info(?:-\d+)?\.gz", first):
        return [root / f"{m.group(1)}.info.txt"]
    if m := re.match(r"/usr/share/man/man\d/([\w.-]+)\.gz", first):
        return [root / f"{m.group(1)}.txt"]
    return [Path(p) for w in source.split() if w.startswith("/") for p in sorted(glob.glob(w.rstrip(",;)")))]


def prepare_sources(root: Path, question_files: list[Path]) -> None:
    """Render the info manuals and man pages the sets name to text under `root`, and unpack the
    npm packages (`npm pack` fetches them from the registry), source distributions (`pip
    download`), Debian packages (`apt-get download`) and archive members they name there."""
    import gzip
    import os
    import subprocess

    root.mkdir(parents=True, exist_ok=True)
    for path in question_files:
        source = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0]).get("source", "")
        first = source.split()[0].rstrip(",")
        if m := _NPM.match(source):
            out = root / "npm" / f"{m['name']}-{m['version']}"
            if not out.exists():
                out.mkdir(parents=True)
                packed = subprocess.run(
                    ["npm", "pack", f"{m['name']}@{m['version']}", "--pack-destination", str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()[-1]
                subprocess.run(["tar", "xzf", packed], cwd=out, check=True)
        elif m := _UNZIP.match(source):
            out = root / "unzip"
            if not (out / m["read"]).exists():
                out.mkdir(exist_ok=True)
                subprocess.run(["unzip", "-q", "-o", m["archive"], m["members"], "-d", str(out)], check=True)
        elif m := _SDIST.match(source):
            out = root / "sdist"
            if not (out / m["read"]).exists():
                out.mkdir(exist_ok=True)
                pin = f"{m['name']}=={m['version']}"
                pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", pin]
                subprocess.run([*pip, "-d", str(out)], check=True)
                archive = next(out.glob(f"{m['name']}-{m['version']}.tar.gz"))
                subprocess.run(["tar", "xzf", archive.name], cwd=out, check=True)
        elif m := _DEB.match(source):
            out = root / "deb" / m["package"]
            if not (out / "x" / m["read"]).exists():
                out.mkdir(parents=True, exist_ok=True)
                subprocess.run(["apt-get", "download", m["package"]], cwd=out, check=True, capture_output=True)
                package = next(out.glob(f"{m['package']}_*.deb"))
                subprocess.run(["dpkg", "-x", package.name, "x"], cwd=out, check=True)
                if m["gz"]:
                    subprocess.run(["gunzip", "-f", m["gz"]], cwd=out, check=True)
        elif m := re.match(r"/usr/share/info/([\w.-]+?)\.info(?:-\d+)?\.gz", first):
            out = root / f"{m.group(1)}.info.txt"
            parts = sorted(glob.glob(f"/usr/share/info/{m.group(1)}.info*.gz"))
            if not out.exists() and parts:
                out.write_bytes(b"".join(gzip.open(p).read() for p in parts))
        elif m := re.match(r"/usr/share/man/man\d/([\w.-]+)\.gz", first):
            out = root / f"{m.group(1)}.txt"
            if not out.exists() and Path(first).exists():
                text = subprocess.run(
                    ["man", "-l", first], capture_output=True, text=True, env={**os.environ, "MANWIDTH": "80"}
                ).stdout
                out.write_text(re.sub(r".\x08", "", text), encoding="utf-8")


def question_sets(question_files: list[Path], root: Path):
    """(file, its first line, a notepad of its sources, its question rows) for each question
    file whose sources are found under `root` (`question_sources`)."""
    from ttt_read.notepad.store import Notepad
    from ttt_read.text import sources

    for path in question_files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        head = rows[0]
        paths = [p for p in question_sources(head.get("source", ""), root) if p.exists()]
        if not paths:
            print(f"{path}: sources not found, skipped")
            continue
        yield path, head, Notepad.build(sources.collect(paths).files), [r for r in rows[1:] if "question" in r]


def collect(question_files: list[Path], root: Path) -> list[dict]:
    """Per question: its split, whether it is answerable, the raw candidates' features, which
    candidates are right, and what its refusal features are computed from
    (`add_refusal_features`, once the ranker is fitted)."""
    from ttt_read.ask import intent, ranking, structured

    out = []
    for path, head, pad, rows in question_sets(question_files, root):
        index = ranking.unit_index(pad)
        for row in rows:
            asked = intent.analyse(row["question"])
            if asked is None:
                continue
            ranked = ranking.rank(index, asked, row["question"], use_weights=False)
            regex = row.get("answer_regex")
            right = [
                bool(
                    regex and re.search(regex, structured.stated(index, structured.answer_unit(index, i, asked)).answer)
                )
                for _, _, i, _ in ranked
            ]
            out.append(
                {
                    "file": path.name,
                    "split": head.get("split", "train"),
                    "answerable": regex is not None,
                    "want": asked.want,
                    "features": [f for _, _, _, f in ranked],
                    "right": right,
                    "ranked": ranked,
                    "asked": (index, asked, row["question"]),
                }
            )
    return out


def add_refusal_features(items: list[dict], weights: np.ndarray) -> None:
    """Each question's `structured.refusal_features` as `ask` computes them: over the candidates
    in the fitted ranker's order, with its scores."""
    from ttt_read.ask import structured

    for it in items:
        rescored = sorted(((float(np.dot(weights, f)), c, i, f) for _, c, i, f in it["ranked"]), key=lambda r: -r[0])
        it["refusal"] = structured.refusal_features(*it["asked"], rescored)


def fit_ranker(items: list[dict], l2: float = 1e-3, steps: int = 800, lr: float = 0.05) -> tuple[np.ndarray, float]:
    import torch

    torch.set_num_threads(1)  # sums in one order: the same weights on any machine

    usable = [it for it in items if any(it["right"])]
    n = len(usable[0]["features"][0])
    w = torch.zeros(n, requires_grad=True)
    with torch.no_grad():
        w[0] = 1.0  # start from the hand-weighted score
    opt = torch.optim.Adam([w], lr=lr)
    xs = [torch.tensor(it["features"], dtype=torch.float32) for it in usable]
    ys = [torch.tensor(it["right"], dtype=torch.bool) for it in usable]
    for _ in range(steps):
        opt.zero_grad()
        loss = (
            torch.stack([-(torch.logsumexp((x @ w)[y], 0) - torch.logsumexp(x @ w, 0)) for x, y in zip(xs, ys)]).mean()
            + l2 * (w * w).sum()
        )
        loss.backward()
        opt.step()
    return w.detach().numpy(), 0.0


def fit_refusal(items: list[dict], l2: float = 1e-2, steps: int = 800) -> tuple[np.ndarray, float]:
    import torch

    torch.set_num_threads(1)

    x = torch.tensor([it["refusal"] for it in items], dtype=torch.float32)
    y = torch.tensor([float(it["answerable"]) for it in items])
    weight = torch.where(y > 0, 1.0, float((y > 0).sum() / max((y == 0).sum(), 1)))  # balance the classes
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        logits = x @ w + b
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * weight).mean()
        (loss + l2 * (w * w).sum()).backward()
        opt.step()
    return w.detach().numpy(), float(b.detach())


def evaluate(
    items: list[dict], weights: np.ndarray | None, refusal=None, threshold: float = 0.5, min_coverage: float = 0.0
) -> dict:
    """right / wrong / wrongly refused / unanswerable refused, as the hand-worded sets are scored."""
    counts = new_counts()
    for it in items:
        feats = np.array(it["features"]) if it["features"] else np.zeros((0, 1))
        if len(feats) and weights is not None:
            top = int(np.argmax(feats @ weights))
        else:
            top = 0
        if refusal is not None:
            w, b = refusal
            p = 1 / (1 + np.exp(-(np.array(it["refusal"]) @ w + b)))
        else:
            p = it["refusal"][0]
        found = bool(len(feats)) and p >= threshold and it["refusal"][0] >= min_coverage
        tally(counts, it["answerable"], found, found and it["right"][top])
    return counts


def new_counts() -> dict:
    return dict(right=0, wrong=0, refused=0, answerable=0, unanswerable=0, unanswerable_refused=0)


def tally(counts: dict, answerable: bool, found: bool, right: bool) -> None:
    """Count one question as the hand-worded sets are scored: right, wrong or wrongly refused
    when answerable, else refused or not."""
    if answerable:
        counts["answerable"] += 1
        counts["refused" if not found else "right" if right else "wrong"] += 1
    else:
        counts["unanswerable"] += 1
        counts["unanswerable_refused"] += not found


def fit_arguments(description: str, out: Path) -> argparse.ArgumentParser:
    """The command line of a fit on the hand-worded questions, writing its weights to `out`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--questions", type=Path, default=Path("docs/questions/train"))
    parser.add_argument("--sources", type=Path, default=Path("runs/train-src"))
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument(
        "--max-lost", type=float, default=0.02, help="most right answers refused, over the answerable questions"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    from ttt_read.ask import ranking

    out = Path(__file__).resolve().parents[1] / "ask" / "ranker_weights.py"
    args = fit_arguments(__doc__.split("\n\n")[0], out).parse_args(argv)
    files = sorted(args.questions.glob("*.jsonl"))
    prepare_sources(args.sources, files)
    items = collect(files, args.sources)
    train = [it for it in items if it["split"] == "train"]
    valid = [it for it in items if it["split"] != "train"]
    print(f"{len(train)} training and {len(valid)} validation questions that ask for a unit")
    hand = np.zeros(len(ranking.FEATURES))
    hand[0] = 1.0
    weights, _ = fit_ranker(train)
    add_refusal_features(items, weights)
    refusal = fit_refusal([it for it in train if it["features"]])
    for name, subset in (("train", train), ("validation", valid)):
        print(name, "hand-weighted:", evaluate(subset, hand, threshold=-1))
        print(name, "learned:      ", evaluate(subset, weights, threshold=-1))
    # the threshold (and the least coverage of the question) that gets the most training questions
    # right, answerable or not, as the hand-worded sets are scored, losing at most --max-lost of
    # the answerable questions' right answers (the validation sets are only measured)
    base = evaluate(train, weights, refusal, -1.0)
    best = (-1, 0.5, 0.0)
    for floor in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25):
        for t in np.arange(0.05, 0.95, 0.025):
            c = evaluate(train, weights, refusal, float(t), floor)
            if base["right"] - c["right"] <= args.max_lost * c["answerable"]:
                best = max(best, (c["right"] + c["unanswerable_refused"], float(t), floor))
    _, threshold, floor = best
    for name, subset in (("train", train), ("validation", valid)):
        counts = evaluate(subset, weights, refusal, threshold, floor)
        print(name, f"learned, not found below {threshold:.3f} or covering less than {floor}:", counts)
    spec = {
        "features": list(ranking.FEATURES),
        "weights": [round(float(x), 5) for x in weights],
        "bias": 0.0,
        "refusal": {"weights": [round(float(x), 5) for x in refusal[0]], "bias": round(refusal[1], 5)},
        "threshold": round(threshold, 4),
        "min_coverage": floor,
        "trained_on": sorted({it["file"] for it in train}),
    }
    doc = (
        'Weights of the unit ranker and of "not found" (`structured`), written by\n'
        "`python -m ttt_read.train.ranker` from the questions in docs/questions/train."
    )
    write_weights(args.out, doc, "RANKER", spec)


def write_weights(out: Path, doc: str, name: str, spec: dict) -> None:
    """Fitted weights as the Python module `ask` imports: the docstring, then `name = spec`."""
    out.write_text(f'"""{doc}"""\n\n{name} = {json.dumps(spec, indent=4)}\n', encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
