"""The evaluating commands' runs (`eval`, `eval-qa`, `bench`) from what the user chose: the
inputs checked, the models loaded, the measure called."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.core.inputs import require_existing

CPU_LENGTHS = [8192]  # `bench`'s text lengths in tokens, unless given
CUDA_LENGTHS = [8192, 32768, 131072, 524288, 1048576]


@dataclasses.dataclass(frozen=True)
class Documents:
    """What `eval` reads: each of `paths` as one document, else `corpus`'s held-out split;
    cut to `max_tokens`, shorter than `min_tokens` dropped, at most `max_per_kind` per kind."""

    paths: Sequence[Path]
    corpus: Path | None
    max_tokens: int
    min_tokens: int
    max_per_kind: int | None


@dataclasses.dataclass(frozen=True)
class Compared:
    """What `eval` sets beside the model reading off and on: other reading rates and update
    sizes, and other checkpoints reading on (`baseline`) or off (`baseline_off`)."""

    reading_lr: Sequence[float]
    reading_chunk: Sequence[int]
    baseline: Sequence[str]
    baseline_off: Sequence[str]


def run_eval(
    model_name: str | None, device: str, documents: Documents, *, compared: Compared, notepad: Path | None, gate: bool
) -> dict:
    """`evaluate` on `documents` for the model and everything `compared` names; with `gate`,
    also predicting from the notepad (the documents themselves, or `notepad`'s snapshot's
    text read first)."""
    from ttt_read.evaluate.documents import eval_documents
    from ttt_read.evaluate.loss import evaluate
    from ttt_read.memory.opened import notepad_stream
    from ttt_read.predict import ngram
    from ttt_read.read import checkpoint
    from ttt_read.read.device import pick_device

    info = checkpoint.resolve(model_name)
    device = pick_device(device)
    model, tokenizer = checkpoint.load(info, device)
    chosen = eval_documents(
        tokenizer,
        documents.paths,
        documents.corpus,
        max_tokens=documents.max_tokens,
        min_tokens=documents.min_tokens,
        max_per_kind=documents.max_per_kind,
    )
    settings = {f"{info.name} reading off": (model, 0.0), f"{info.name} reading on": (model, model.cfg.inner_lr)}
    settings |= {f"{info.name} reading lr {lr:g}": (model, lr) for lr in compared.reading_lr}
    settings |= {
        f"{info.name} reading chunk {chunk}": (model, model.cfg.inner_lr, chunk) for chunk in compared.reading_chunk
    }
    others = [(name, True) for name in compared.baseline] + [(name, False) for name in compared.baseline_off]
    for other, reading in others:
        other_info = checkpoint.resolve(other)
        other_model, _ = checkpoint.load(other_info, device)
        lr = other_model.cfg.inner_lr if reading else 0.0
        settings[f"{other_info.name} reading {'on' if reading else 'off'}"] = (other_model, lr)
    return evaluate(
        settings,
        [ids for _, _, ids in chosen],
        tokenizer=tokenizer,
        labels=[(kind, name) for kind, name, _ in chosen],
        gate=ngram.Gate.load(ngram.gate_path(info.path)) if gate else None,
        mixed=list(settings)[:2],
        notepad=notepad_stream(notepad, str(info.path), device) if notepad is not None else [],
    )


def run_qa(
    paths: Sequence[Path],
    n_questions: int,
    model_name: str | None,
    *,
    asked: Path | None,
    settings: Sequence[str],
    device: str,
    seed: int,
    max_tokens: int,
    k: int,
    on_progress: Callable[[str], None] | None,
) -> dict:
    """`evaluate_qa` on `paths` in the `settings` named (all when none), in their canonical
    order; with `asked`, on its questions about the one document rather than synthesised ones."""
    from ttt_read.evaluate.qa import SETTINGS, evaluate_qa, load_asked

    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        raise TTTReadError(f"--setting {unknown[0]}: not one of {', '.join(SETTINGS)}", ExitCode.USAGE)
    require_existing(paths)
    if asked is not None and len(paths) != 1:
        raise TTTReadError(f"--asked {asked}: its questions are about one document, not {len(paths)}", ExitCode.USAGE)
    items = load_asked(asked) if asked is not None else None
    return evaluate_qa(
        paths,
        n_questions,
        model_name,
        device=device,
        seed=seed,
        max_tokens=max_tokens,
        k=k,
        settings=[s for s in SETTINGS if s in settings] or list(SETTINGS),
        on_progress=on_progress,
        asked=items,
    )


def run_bench(
    model_name: str | None, device: str, lengths: Sequence[int] | None, *, decode_tokens: int, baselines: bool
):
    """`bench` of the model at `lengths` tokens (default: `CUDA_LENGTHS` on CUDA, else
    `CPU_LENGTHS`), decoding also with the package's own source as a notepad."""
    from ttt_read.evaluate import bench
    from ttt_read.read import checkpoint
    from ttt_read.read.device import pick_device

    device = pick_device(device)
    info = checkpoint.resolve(model_name)
    model, tokenizer = checkpoint.load(info, device)
    notepad = bench.package_notepad(tokenizer, info, model.cfg.vocab_size)
    sizes = lengths or (CUDA_LENGTHS if device == "cuda" else CPU_LENGTHS)
    return bench.run(model, sizes, decode_tokens, baselines=baselines, notepad=notepad)
