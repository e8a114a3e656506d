"""`ttt-read train`: build a corpus, pretrain and meta-train, fit the span head and the gate, export."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.console.options import JsonOpt, ModelOpt
from ttt_read.console.output import emit_json, say, say_json, show
from ttt_read.train.config import TrainConfig, run_config
from ttt_read.train.span_run import run_span

RUN = {f.name: f.default for f in dataclasses.fields(TrainConfig)}  # `train run`'s defaults

train_app = typer.Typer(help="Build a corpus, pretrain and meta-train a checkpoint.", no_args_is_help=True)


@train_app.command("corpus")
def train_corpus(
    sources: Annotated[
        list[str],
        typer.Argument(help="Directories to build from; prefix with code=, prose= or packages= to force the kind."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Corpus directory to write.")],
    vocab: Annotated[int, typer.Option(min=260, max=2**20, help="Tokenizer vocabulary size.")] = 16384,
    tokenizer: Annotated[
        Optional[Path],
        typer.Option(callback=validation.readable_file, help="Use this tokenizer.json instead of training one."),
    ] = None,
    max_tokens: Annotated[
        Optional[int],
        typer.Option(min=1, help="Cut the longest documents so the corpus holds at most this many tokens."),
    ] = None,
    val_fraction: Annotated[
        float,
        typer.Option(min=0, max=0.5, callback=validation.below(0.5), help="Share of documents held out (below 0.5)."),
    ] = 0.05,
    min_val_code: Annotated[
        int, typer.Option(min=0, help="Held-out code documents of >= 32K tokens to guarantee.")
    ] = 5,
    min_val_prose: Annotated[
        int, typer.Option(min=0, help="Held-out prose documents of >= 32K tokens to guarantee.")
    ] = 3,
    exclude: Annotated[
        list[str], typer.Option(help="Skip files matching this gitignore-style glob (repeatable).")
    ] = [],
    as_json: JsonOpt = False,
):
    """Turn directories into long tokenized training documents with a held-out split."""
    from ttt_read.train.corpus import build_corpus

    manifest = build_corpus(
        sources,
        output,
        vocab_size=vocab,
        tokenizer_path=tokenizer,
        val_fraction=val_fraction,
        min_val_code=min_val_code,
        min_val_prose=min_val_prose,
        max_tokens=max_tokens,
        exclude=exclude,
        progress=say,
    )
    show(manifest, as_json=as_json)


@train_app.command("run")
def train_run(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(help="Run directory; an existing one is resumed.")],
    corpus: Annotated[
        Optional[Path],
        typer.Option(
            callback=validation.holding("manifest.json", "tokenizer.json"), help="Corpus directory (new runs)."
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option(callback=validation.choice(("pretrain", "meta")), help="pretrain or meta.")
    ] = RUN["mode"],
    init: Annotated[
        Optional[str], typer.Option(help="Start from this checkpoint (e.g. meta-train a pretrained one).")
    ] = None,
    model_config: Annotated[
        Optional[str],
        typer.Option(
            callback=validation.model_settings,
            help="JSON object of model settings (new runs); with --init, settings that keep its weights' shapes, "
            "e.g. '{\"chunk\":128}'.",
        ),
    ] = None,
    seq_len: Annotated[int, typer.Option(min=2, max=2**24, help="Tokens per training sequence.")] = RUN["seq_len"],
    batch: Annotated[int, typer.Option(min=1, max=2**16, help="Sequences per step and process.")] = RUN["batch"],
    steps: Annotated[int, typer.Option(min=1, help="Total optimizer steps.")] = RUN["steps"],
    lr: Annotated[float, typer.Option(min=0, callback=validation.above(0), help="Peak learning rate.")] = RUN["lr"],
    warmup: Annotated[int, typer.Option(min=0, help="Warmup steps.")] = RUN["warmup"],
    seed: Annotated[int, typer.Option(min=0, max=validation.MAX_SEED, help="Seed for weights and data.")] = RUN["seed"],
    qa_fraction: Annotated[
        float, typer.Option(min=0, max=1, help="Share of sequences ending in QA turns about their text.")
    ] = RUN["qa_fraction"],
    qa_budget: Annotated[int, typer.Option(min=0, help="Most tokens of QA turns at the end of such a sequence.")] = RUN[
        "qa_budget"
    ],
    qa_grounded: Annotated[
        float,
        typer.Option(min=0, max=1, help="Share of QA turns preceded by their notepad passages, as ask lays them out."),
    ] = RUN["qa_grounded"],
    qa_mixed: Annotated[
        float,
        typer.Option(
            min=0, max=1, help="Share of QA sequences opening with another document, which plain turns ask about."
        ),
    ] = RUN["qa_mixed"],
    answer_weight: Annotated[
        float, typer.Option(min=0, help="Loss weight of an answer token relative to a text token.")
    ] = RUN["answer_weight"],
    save_every: Annotated[int, typer.Option(min=1, help="Steps between saved states.")] = RUN["save_every"],
    max_steps: Annotated[Optional[int], typer.Option(min=1, help="Stop after this many steps in this call.")] = None,
    time_budget: Annotated[
        Optional[float],
        typer.Option(min=0, callback=validation.above(0), help="Stop and save after this many seconds."),
    ] = None,
    inner_lr: Annotated[
        Optional[float],
        typer.Option(
            min=0, callback=validation.above(0), help="Reading lr to meta-train for (default: --init's, else 1.0)."
        ),
    ] = None,
    inner_lr_warmup: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            help="Share of steps warming the reading lr up from 0.1x; 0 when continuing a meta-trained model.",
        ),
    ] = RUN["inner_lr_warmup"],
    threads: Annotated[
        Optional[int], typer.Option(min=1, max=1024, help="CPU threads for torch (default: torch's choice).")
    ] = None,
    niceness: Annotated[
        int,
        typer.Option(
            "--nice", min=0, max=19, help="Lower this process's CPU priority by this much (a background run: 19)."
        ),
    ] = 0,
    as_json: JsonOpt = False,
):
    """Pretrain or meta-train; resumable, and data-parallel under torchrun.

    A background run on a shared machine: `--nice 19 --threads 2 --time-budget 3600`, and
    the same command again later resumes it from its last saved step.

    Example: ttt-read train run runs/meta --corpus runs/corpus --mode meta --init default --inner-lr-warmup 0
    """
    import torch

    from ttt_read.train.loop import train

    os.nice(niceness)
    if threads is not None:
        torch.set_num_threads(threads)
    record = train(run_dir, run_config(run_dir, ctx.params), max_steps=max_steps, time_budget=time_budget)
    if os.environ.get("RANK", "0") == "0":  # under torchrun every rank checked the replicas; one report is enough
        if as_json:
            emit_json({"run_dir": str(run_dir), "last": record})
        else:
            say_json(record)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        _leave_rank()


def _leave_rank() -> None:
    """End a torchrun rank whose run is written (state.pt by an atomic replace, the log closed)
    without the interpreter's teardown: a rank's teardown of torch's distributed runtime can
    still abort ("terminate called without an active exception"), which torchrun reports as a
    failed run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@train_app.command("span")
def train_span(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Directories whose children (and files) are training documents: code and prose."),
    ] = None,
    corpus: Annotated[
        Optional[Path],
        typer.Option(
            callback=validation.holding("manifest.json"),
            help="A built corpus (train corpus) whose training documents are training documents too.",
        ),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Head file to write (default: span_head.safetensors beside the model)."),
    ] = None,
    exclude: Annotated[
        list[str],
        typer.Option(help="Skip documents with a path part matching this glob (repeatable): hold evaluation sets out."),
    ] = [],
    documents: Annotated[int, typer.Option(help="Most documents to draw questions from.")] = 120,
    questions: Annotated[int, typer.Option(help="Questions per document.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed for documents and questions.")] = 0,
    time_budget: Annotated[
        Optional[float], typer.Option(help="Stop drawing examples after 70% of this many seconds.")
    ] = None,
    read: Annotated[
        bool,
        typer.Option(
            "--read", help="Score with each document's read fast weights (ask then uses the snapshot's); slower."
        ),
    ] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
):
    """Train the span head that picks grounded answers (and its "not found" calibration) for a model."""
    result = run_span(
        paths or [],
        output,
        model,
        corpus=corpus,
        exclude=exclude,
        max_documents=documents,
        questions=questions,
        seed=seed,
        time_budget=time_budget,
        read=read,
        on_progress=say,
    )
    show(result, say_json, as_json=as_json)


@train_app.command("gate")
def train_gate(
    corpus: Annotated[
        Path, typer.Option(callback=validation.holding("manifest.json"), help="A built corpus (train corpus).")
    ],
    documents: Annotated[int, typer.Option(min=1, help="Training documents of each kind (code, prose).")] = 8,
    tokens: Annotated[int, typer.Option(min=256, help="Tokens read from each document.")] = 32768,
    seed: Annotated[int, typer.Option(min=0, max=validation.MAX_SEED, help="Seed for documents and offsets.")] = 0,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Gate file to write (default: notepad_gate.json beside the model)."),
    ] = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
):
    """Fit the gate that mixes a model's predictions with exact matches in the notepad."""
    from ttt_read.predict import ngram
    from ttt_read.read import checkpoint
    from ttt_read.train.gate import fit, gate_documents

    info = checkpoint.resolve(model)
    loaded, tokenizer = checkpoint.load(info, "cpu")
    gate = fit(loaded, gate_documents(corpus, tokenizer, documents, tokens=tokens, seed=seed), on_progress=say)
    out = output or ngram.gate_path(info.path)
    gate.save(out)
    if as_json:
        emit_json({"output": str(out), **gate.fitted_on})
    else:
        before, after = gate.fitted_on["model_loss"], gate.fitted_on["mixed_loss"]
        say(f"wrote {out}: mean loss {before:.4f} nats/token alone, {after:.4f} mixed")


@train_app.command("export")
def train_export(
    run_dir: Annotated[
        Path, typer.Argument(callback=validation.holding("train.json", "state.pt"), help="Run directory to export.")
    ],
    output: Annotated[Path, typer.Argument(help="Checkpoint directory to write.")],
    card: Annotated[
        Optional[Path], typer.Option(callback=validation.readable_file, help="Model card (markdown) to include.")
    ] = None,
    as_json: JsonOpt = False,
):
    """Write a run's weights as a checkpoint directory (config, tokenizer, shards)."""
    from ttt_read.train.loop import export

    export(run_dir, output, card.read_text() if card else None)
    if as_json:
        emit_json({"output": str(output), "files": sorted(p.name for p in Path(output).iterdir())})
