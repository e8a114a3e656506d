"""Commands that measure: `bench` (speed), `eval` (loss and bits per byte), `eval-qa` (answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.console.options import SNAPSHOT_ARG, DeviceOpt, JsonOpt, ModelOpt
from ttt_read.console.output import say, show
from ttt_read.evaluate.runs import Compared, Documents, run_bench, run_eval, run_qa
from ttt_read.render.report import bench_table, eval_table, plot_eval
from ttt_read.text import tokenizer as tok

commands = typer.Typer()


@commands.command()
def bench(
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    lengths: Annotated[
        Optional[str],
        typer.Option(
            callback=validation.int_list(1, 2**24),
            help="Comma-separated text lengths in tokens (default: 8K on CPU; 8K..1M on CUDA).",
        ),
    ] = None,
    decode_tokens: Annotated[
        int, typer.Option(min=1, max=validation.MAX_TOKENS, help="Tokens to time for decoding.")
    ] = 32,
    no_baselines: Annotated[bool, typer.Option("--no-baselines", help="Time reading only.")] = False,
    as_json: JsonOpt = False,
):
    """Reading throughput and memory next to full attention and the eager loop, side by side."""
    result = run_bench(model, device, lengths, decode_tokens=decode_tokens, baselines=not no_baselines)
    show(result, bench_table, as_json=as_json)


@commands.command(name="eval")
def eval_(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Documents to read (each path is one document).")
    ] = None,
    corpus: Annotated[
        Optional[Path],
        typer.Option(
            callback=validation.holding("manifest.json", "tokenizer.json"),
            help="Evaluate on this corpus's held-out documents instead.",
        ),
    ] = None,
    model: ModelOpt = None,
    baseline: Annotated[list[str], typer.Option(help="Another checkpoint to compare, reading on (repeatable).")] = [],
    baseline_off: Annotated[
        list[str],
        typer.Option(
            "--baseline-off",
            help="Another checkpoint to compare as a plain sliding-window model, reading off (repeatable).",
        ),
    ] = [],
    reading_lr: Annotated[
        list[float],
        typer.Option(
            "--reading-lr", min=0, help="Also read at this learning rate (repeatable): a sweep of the reading rate."
        ),
    ] = [],
    reading_chunk: Annotated[
        list[int],
        typer.Option(
            "--reading-chunk",
            min=1,
            help="Also read with this many tokens per update (repeatable): a sweep of the update size.",
        ),
    ] = [],
    max_tokens: Annotated[int, typer.Option(min=1, help="Read at most this many tokens per document.")] = 65536,
    min_tokens: Annotated[int, typer.Option(min=0, help="Skip documents shorter than this.")] = 0,
    max_per_kind: Annotated[
        Optional[int], typer.Option(min=1, help="At most this many documents of each kind (code, prose).")
    ] = None,
    no_notepad: Annotated[
        bool, typer.Option("--no-notepad", help="Leave out the rows that also predict from the notepad.")
    ] = False,
    notepad: Annotated[
        Optional[Path],
        typer.Option(
            "--notepad",
            help="Also match in this snapshot's notepad, read before each document (text the documents are not in).",
            **SNAPSHOT_ARG,
        ),
    ] = None,
    device: DeviceOpt = "auto",
    plot: Annotated[Optional[Path], typer.Option(help="Also draw the curves to this PNG (needs matplotlib).")] = None,
    as_json: JsonOpt = False,
):
    """Loss by position with reading off and on, alone and with the notepad, and bits per byte next to xz -9e."""
    documents = Documents(paths or [], corpus, max_tokens, min_tokens=min_tokens, max_per_kind=max_per_kind)
    compared = Compared(reading_lr, reading_chunk, baseline, baseline_off=baseline_off)
    result = run_eval(model, device, documents, compared=compared, notepad=notepad, gate=not no_notepad)
    if plot is not None:
        plot_eval(result, plot)
    show(result, eval_table, as_json=as_json)


@commands.command(name="eval-qa")
def eval_qa(
    paths: Annotated[list[Path], typer.Argument(help="Documents (each path is one document: a file or a directory).")],
    questions: Annotated[
        int, typer.Option("-n", "--questions", min=1, max=10_000, help="Questions synthesised per document.")
    ] = 20,
    asked: Annotated[
        Optional[Path],
        typer.Option(
            help='Ask these questions instead (one document): JSON lines {"question": ..., "answer": ...}, '
            "the answer a text, a list of acceptable texts, or null when the document cannot answer; or "
            '{"question": ..., "answer_regex": ...}, right when the expression matches the answer (null: '
            'unanswerable); a first line {"source": ...} is skipped.',
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=validation.MAX_SEED, help="Seed for choosing the questions.")] = 0,
    max_tokens: Annotated[int, typer.Option(min=1, max=validation.MAX_TOKENS, help="Longest answer, in tokens.")] = 48,
    passages: Annotated[
        int, typer.Option("-k", "--passages", min=0, max=validation.MAX_PASSAGES, help="Notepad passages per question.")
    ] = tok.PASSAGES,
    setting: Annotated[
        list[str],
        typer.Option(
            "--setting",
            help="Only these settings (repeatable): grounded, grounded-notepad, free, free-memory, baseline "
            "(a plain BM25 lookup, no model).",
        ),
    ] = [],
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonOpt = False,
):
    """Grounded and free answers side by side, and "not found" on unanswerable questions, on synthesised
    questions or your own (--asked)."""
    from ttt_read.evaluate.qa import qa_table

    result = run_qa(
        paths,
        questions,
        model,
        asked=asked,
        settings=setting,
        device=device,
        seed=seed,
        max_tokens=max_tokens,
        k=passages,
        on_progress=None if quiet else say,
    )
    show(result, qa_table, as_json=as_json)
