"""`ttt-read train span`: fit the span head and its "not found" calibration for one backbone.

Every example is free: each document (a child of a given directory, a given file, or a
training document of a built corpus) is cut to 3K-100K tokens, as small and as large as
what users ingest, optionally read into fast weights as `ingest` reads, and indexed as a
notepad (reading costs time and is optional, see `train_span_head`); `qa.synthesize` asks
questions about it, each laid out as `ask` lays it out, and the head learns which candidate
unit is the gold answer (softmax over the window's candidates; every shortest candidate
equal to or containing the gold answer counts).
A fifth of the documents is kept aside for calibration: each also gets the questions of
the document before it whose answer and names it lacks, as unanswerable ones, and the
logistic that says "not found" is fitted there, on the trained head's confidence and
retrieval's coverage, its threshold set so that at most `FALSE_NOT_FOUND` of the
answerable questions there are refused.
"""

from __future__ import annotations

import fnmatch
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ttt_read.ask import span
from ttt_read.questions import synthesis as qa_mod
from ttt_read.questions.pair import QA
from ttt_read.text import tokenizer as tok

MIN_DOC_CHARS, MAX_DOC_CHARS = 12_000, 400_000  # a document is cut to ~3K-100K tokens
CALIBRATION_SHARE = 0.2
FALSE_NOT_FOUND = 0.08  # answerable questions of the calibration documents refused at most
EPOCHS = 12
LEARNING_RATE = 2e-3
NEGATIVES = 96  # training candidates per question: every positive and this many others
CONSTANT_STD = 1e-6  # a feature whose spread over the training candidates is below this is ignored


@dataclass
class Example:
    inputs: object  # [candidates, features] tensor
    positives: list[int]
    answerable: bool
    coverage: float
    contains: list[bool]  # per candidate: does it contain the gold answer


@dataclass(frozen=True)
class Document:
    name: str
    load: Callable[[], list]  # its files (path, kind, text); empty when nothing is readable


def _excluded(parts: Sequence[str], exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for pattern in exclude for part in parts)


def path_documents(paths: Sequence[Path], exclude: Sequence[str], rng: random.Random) -> list[Document]:
    """Each given file, and each child of each given directory, minus `exclude` globs
    (matched against any part of the path); shuffled within each path, then taken from the
    paths in turn, so that a large directory does not crowd the others out."""
    groups = []
    for path in paths:
        children = sorted(path.iterdir()) if path.is_dir() else [path]
        kept = [Document(str(c), lambda c=c: _source_files(c)) for c in children if not _excluded(c.parts, exclude)]
        rng.shuffle(kept)
        groups.append(kept)
    return [group[i] for i in range(max(map(len, groups), default=0)) for group in groups if i < len(group)]


def _source_files(path: Path) -> list:
    from ttt_read.core.errors import TTTReadError
    from ttt_read.text import sources

    try:
        return list(sources.collect([path]).files)
    except (TTTReadError, OSError):
        return []


def corpus_documents(corpus: Path, exclude: Sequence[str], rng: random.Random) -> list[Document]:
    """The training split of a built corpus (`train corpus`): code, manuals, HTML and man
    pages as the model read them, its held-out split never touched. A document whose name,
    or a file whose path, has a part matching an `exclude` glob is left out."""
    from tokenizers import Tokenizer

    from ttt_read.train.corpus import TokenCorpus

    split = TokenCorpus(corpus, "train")
    tokenizer = Tokenizer.from_file(str(Path(corpus) / "tokenizer.json"))

    def load(entry: dict) -> list:
        ids = split.tokens[entry["offset"] : entry["offset"] + entry["tokens"]].tolist()
        text = tokenizer.decode(ids, skip_special_tokens=False)
        return [
            SimpleNamespace(path=seg.path, kind="pdf" if seg.path.endswith(".pdf") else "text", text=seg.body)
            for seg in qa_mod.split_files(text)
            if seg.path and not _excluded(Path(seg.path).parts, exclude)
        ]

    docs = [
        Document(d["name"], lambda d=d: load(d))
        for d in split.documents
        if not _excluded(d["name"].split("/"), exclude)
    ]
    rng.shuffle(docs)
    return docs


def cut_document(files: list, rng: random.Random):
    """Files of one document (shuffled), the last cut to a random run of lines, so that
    a size drawn log-uniformly between MIN_DOC_CHARS and MAX_DOC_CHARS remains (snapshots
    range from one file to a manual); None when nothing is left."""
    rng.shuffle(files)
    kept, room = [], int(math.exp(rng.uniform(math.log(MIN_DOC_CHARS), math.log(MAX_DOC_CHARS))))
    for f in files:
        text = f.text
        if len(text) > room:
            lines = text.split("\n")
            size = max(1, len(lines) * room // len(text))
            start = rng.randrange(max(1, len(lines) - size))
            text = "\n".join(lines[start : start + size])
        kept.append(SimpleNamespace(path=f.path, kind=f.kind, text=text))
        room -= len(text)
        if room < 1000:
            break
    return kept or None


def _render(files) -> str:
    return "".join(tok.file_header(f.path) + f.text + ("" if f.text.endswith("\n") else "\n") for f in files)


def _read(model, tokenizer, files):
    """The document's fast weights after reading it as `ingest` does."""
    import torch

    from ttt_read.read.reading import ReaderState, read

    ids = [tokenizer.token_to_id(tok.END_OF_TEXT)]
    for f in files:
        ids += tok.encode_file(tokenizer, f.path, f.text)
    with torch.no_grad():
        result = read(
            model,
            torch.tensor(ids).view(1, -1),
            lr=model.cfg.inner_lr,
            chunk=model.cfg.chunk,
            state=ReaderState.fresh(model, 1),
        )
    return result.state.fast


def examples_of(model, tokenizer, files, questions: list[QA], unanswerable: list[QA], *, fast) -> list[Example]:
    from ttt_read.ask.answer import ANSWER_RESERVE, layout, normalize
    from ttt_read.notepad.store import Notepad

    notepad = Notepad.build(files)
    out = []
    for item, answerable in [(q, True) for q in questions] + [(q, False) for q in unanswerable]:
        passages = notepad.search(item.question, tok.PASSAGES)
        if not passages:
            if not answerable:  # retrieval alone refuses it; still a calibration example
                out.append(Example(None, [], False, 0.0, []))
            continue
        context, shown = layout(tokenizer, passages, item.question, model.cfg.window, ANSWER_RESERVE)
        found = span.candidates(shown)
        if not found:
            continue
        weights = span.query_weights(notepad, item.question)
        prompt = context + tok.encode_qa_prompt(tokenizer, item.question)
        inputs = span.window_inputs(
            model, tokenizer, item.question, weights, prompt=prompt, shown=shown, found=found, fast=fast
        )
        gold = normalize(item.answer)
        contains = [answerable and bool(gold) and gold in normalize(c.text) for c in found]
        exact = [i for i, c in enumerate(found) if contains[i] and normalize(c.text) == gold]
        shortest = min((len(found[i].text) for i in range(len(found)) if contains[i]), default=0)
        positives = exact or [i for i in range(len(found)) if contains[i] and len(found[i].text) == shortest]
        out.append(Example(inputs.half(), positives, answerable, span.coverage(weights, shown), contains))
    return out


def train_span_head(
    paths: Sequence[Path],
    output: Path,
    *,
    corpus: Path | None = None,
    model_name: str | None = None,
    exclude: Sequence[str] = (),
    max_documents: int = 120,
    questions: int = 24,
    seed: int = 0,
    time_budget: float | None = None,
    read: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> dict:
    """Build examples from `paths` and the training split of `corpus`, train the head,
    calibrate "not found", save to `output`. Returns what was trained on and the held-out accuracy.

    `read`: score windows with each document's read fast weights (else the initial ones);
    the head records it and `ask` applies the same weights. Off by default: documents here
    are a few thousand tokens, and a head trained on such reads misjudges the hidden states
    of snapshots of hundreds of thousands of tokens (measured: fewer gold spans than with
    the initial weights)."""
    import torch

    from ttt_read.read import checkpoint

    say = on_progress or (lambda message: None)
    started = time.perf_counter()
    info = checkpoint.resolve(model_name)
    model, tokenizer = checkpoint.load(info, "cpu")
    model.eval()
    rng = random.Random(seed)
    docs = path_documents(paths, exclude, rng)
    if corpus is not None:
        docs = _interleave(docs, corpus_documents(corpus, exclude, rng))
    docs = docs[:max_documents]
    n_calibration = max(1, int(len(docs) * CALIBRATION_SHARE))
    train_set, calibration = [], []
    previous: list[QA] = []
    for index, doc in enumerate(docs):
        if time_budget is not None and time.perf_counter() - started > time_budget * 0.7:
            say(f"time budget: stopping the examples after {index} documents")
            break
        files = cut_document(doc.load(), rng)
        if files is None:
            continue
        text = _render(files)
        asked = qa_mod.synthesize(text, rng, questions)
        calibrating = (
            index < n_calibration + 1
        )  # the first document only supplies the next one's unanswerable questions
        absent = [q for q in previous if qa_mod.absent_from(q, text)][: max(2, len(asked) // 2)] if calibrating else []
        previous = asked
        if not asked or index == 0:
            continue
        fast = _read(model, tokenizer, files) if read else model.initial_fast_weights(1)
        made = examples_of(model, tokenizer, files, asked, absent, fast=fast)
        (calibration if calibrating else train_set).extend(made)
        say(f"{index + 1}/{len(docs)} {doc.name}: {len(made)} examples")
    torch.manual_seed(seed)
    net = span.make_head(model.cfg.d_model)
    fitted = [e for e in train_set if e.positives]
    mean, scale = input_scale(fitted)
    _fit(net, fitted, mean, scale, rng, say=say)
    fold_scale(net, mean, scale)
    not_found, held_out = _calibrate(net, calibration)
    head = span.SpanHead(
        net,
        info.sha256(),
        not_found,
        {
            "documents": len(docs),
            "examples": len(train_set),
            "calibration_examples": len(calibration),
            "held_out": held_out,
            "seconds": round(time.perf_counter() - started, 1),
            "reads_memory": read,
        },
    )
    head.save(output)
    return {"output": str(output), "backbone": info.name, **head.trained_on, "not_found": not_found}


def _interleave(a: list, b: list) -> list:
    """Both lists' items taken in turns, the rest of the longer one after."""
    out = [x for pair in zip(a, b) for x in pair]
    return out + a[len(b) :] + b[len(a) :]


def input_scale(examples: list[Example]):
    """Per-feature mean and inverse standard deviation of the training candidates' inputs.
    Backbones differ in hidden-state scale (a longer-pretrained one's is ~30% larger, its
    products ~70%), which would otherwise set how much the lexical features can weigh. A
    feature constant in training (a question cue never met with some unit kind) gets scale
    0: the head learned nothing from it, and must not react to it later."""
    import torch

    count = sum(len(e.inputs) for e in examples)
    mean = sum(e.inputs.float().sum(0) for e in examples) / count
    std = (sum((e.inputs.float() - mean).square().sum(0) for e in examples) / count).sqrt()
    return mean, torch.where(std > CONSTANT_STD, 1 / std.clamp_min(CONSTANT_STD), 0.0)


def fold_scale(net, mean, scale) -> None:
    """Fold the standardisation into the first layer: the saved head takes raw inputs, as
    `ask` gives them."""
    import torch

    first = net[0]
    with torch.no_grad():
        first.bias -= first.weight @ (mean * scale)
        first.weight *= scale


def _fit(net, examples: list[Example], mean, scale, rng: random.Random, *, say) -> None:
    """Softmax cross-entropy over each question's candidates (positives pooled), on
    standardised inputs."""
    import torch

    optimizer = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    for epoch in range(EPOCHS):
        rng.shuffle(examples)
        total = 0.0
        for e in examples:
            keep = e.positives + rng.sample(
                [i for i in range(len(e.inputs)) if i not in e.positives],
                min(NEGATIVES, len(e.inputs) - len(e.positives)),
            )
            scores = net((e.inputs[keep].float() - mean) * scale).squeeze(-1)
            loss = torch.logsumexp(scores, 0) - torch.logsumexp(scores[: len(e.positives)], 0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        say(f"epoch {epoch + 1}/{EPOCHS}: loss {total / max(len(examples), 1):.3f}")


def _confidence(net, e: Example) -> tuple[float, float, int]:
    """(top probability, score margin, chosen candidate) of the head on one example."""
    import torch

    with torch.no_grad():
        scores = net(e.inputs.float()).squeeze(-1)
    top = scores.topk(min(2, len(scores)))
    margin = float(top.values[0] - top.values[1]) if len(scores) > 1 else span.LONE_MARGIN
    return float(scores.softmax(-1).max()), margin, int(top.indices[0])


def _calibrate(net, examples: list[Example]) -> tuple[dict, dict]:
    """Logistic on (confidence, margin, coverage) separating answerable from unanswerable,
    and the threshold refusing at most FALSE_NOT_FOUND of the answerable; plus the held-out
    accuracy of the head's choice."""
    import torch

    rows, labels, correct = [], [], []
    for e in examples:
        if e.inputs is None:
            rows.append([0.0, 0.0, e.coverage])
        else:
            p, margin, chosen = _confidence(net, e)
            rows.append([p, margin, e.coverage])
            if e.answerable:
                correct.append(e.contains[chosen])
        labels.append(float(e.answerable))
    x, y = torch.tensor(rows), torch.tensor(labels)
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=200)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + 1e-3 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        prob = torch.sigmoid(x @ w + b)
    answerable = prob[y == 1].sort().values
    threshold = float(answerable[int(len(answerable) * FALSE_NOT_FOUND)]) if len(answerable) else 0.5
    refused = prob < threshold
    held_out = {
        "answerable": int((y == 1).sum()),
        "unanswerable": int((y == 0).sum()),
        "span_contains_gold": round(sum(correct) / max(len(correct), 1), 4),
        "answerable_refused": round(float(refused[y == 1].float().mean()), 4) if (y == 1).any() else None,
        "unanswerable_refused": round(float(refused[y == 0].float().mean()), 4) if (y == 0).any() else None,
    }
    weights = [round(float(v), 5) for v in w.detach()]
    return {"weights": weights, "bias": round(float(b.detach()), 5), "threshold": round(threshold, 5)}, held_out
