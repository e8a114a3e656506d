"""The `ttt-read` command line.

Only typer is imported at module load: torch, tokenizers and the model come in lazily
inside each command, so `--help` and shell completion stay instant. Data goes to stdout,
progress and errors to stderr; user errors end in one line and a documented exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.errors import ExitCode, TTTReadError

app = typer.Typer(
    name="ttt-read",
    help="Read a codebase, a text or a PDF into a language model's weights, then ask it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Checkpoint name or directory (default: the bundled one).")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _emit_json(payload: dict) -> None:
    print(json.dumps({"schema_version": 1, **payload}, indent=2))


def _err(message: str) -> None:
    print(message, file=sys.stderr)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to read.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Snapshot file to write (.mem).")],
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    lr: Annotated[Optional[float], typer.Option(help="Reading learning rate (default: the checkpoint's).")] = None,
    chunk: Annotated[Optional[int], typer.Option(help="Tokens per reading update (default: the checkpoint's).")] = None,
    include: Annotated[list[str], typer.Option(help="Only read files matching this glob (repeatable).")] = [],
    exclude: Annotated[list[str], typer.Option(help="Skip files matching this glob (repeatable).")] = [],
    max_file_bytes: Annotated[int, typer.Option(help="Skip files larger than this.")] = 2_000_000,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing snapshot.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonOpt = False,
):
    """Read PATHS into the model's fast weights and save them as a .mem snapshot."""
    from ttt_read import engine
    from ttt_read.progress import ReadProgress

    if chunk is not None and chunk < 1:
        raise TTTReadError(f"--chunk {chunk}: must be at least 1", ExitCode.USAGE)
    settings = engine.ReadSettings(lr, chunk, include, exclude, max_file_bytes)
    with ReadProgress(enabled=not quiet) as progress:
        metadata = engine.ingest(paths, output, model, device, settings, force, on_progress=progress.update)
    files = [e for e in metadata["manifest"] if "skipped" not in e]
    skipped = [e for e in metadata["manifest"] if "skipped" in e]
    if as_json:
        _emit_json({"output": str(output), **metadata})
        return
    if not quiet:
        for entry in skipped:
            _err(f"skipped {entry['path']}: {entry['skipped']}")
        _err(
            f"read {len(files)} files, {metadata['tokens']:,} tokens in {metadata['read_seconds']:.1f}s "
            f"(mean loss {metadata['mean_loss']:.3f}) -> {output}"
        )


def _generate(mem: Path, prompt_ids_of, model, device, max_tokens, temperature, top_p, seed, learn, stop_tokens):
    from ttt_read import engine
    from ttt_read.generate import generate, stream_text

    memory = engine.open_memory(mem, model, device)
    session = memory.session(learn=learn)
    prompt = prompt_ids_of(memory.tokenizer)
    stop = frozenset(memory.tokenizer.token_to_id(t) for t in stop_tokens)
    ids = generate(session, prompt, max_tokens, temperature, top_p, seed, stop)
    return memory, session, stream_text(memory.tokenizer, ids)


@app.command(name="continue")
def continue_(
    mem: Annotated[Path, typer.Argument(help="Snapshot to continue from.")],
    prompt: Annotated[str, typer.Argument(help="Text to continue.")],
    max_tokens: Annotated[int, typer.Option("-n", "--max-tokens", help="Tokens to generate.")] = 200,
    temperature: Annotated[float, typer.Option(help="0 for greedy.")] = 0.8,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    no_learn: Annotated[bool, typer.Option("--no-learn", help="Freeze the memory while generating.")] = False,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Continue PROMPT from the memory in MEM, streaming to stdout."""
    from ttt_read import tokenizer as tok

    def prompt_ids(tokenizer):
        return tokenizer.encode(prompt, add_special_tokens=False).ids

    _, session, pieces = _generate(mem, prompt_ids, model, device, max_tokens, temperature, top_p, seed, not no_learn, [tok.END_OF_TEXT])
    if as_json:
        _emit_json({"prompt": prompt, "text": "".join(pieces), "updates": session.updates})
        return
    sys.stdout.write(prompt)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command()
def ask(
    mem: Annotated[Path, typer.Argument(help="Snapshot to ask.")],
    question: Annotated[str, typer.Argument(help="The question.")],
    max_tokens: Annotated[int, typer.Option("-n", "--max-tokens", help="Longest answer, in tokens.")] = 128,
    temperature: Annotated[float, typer.Option(help="0 for greedy.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Answer QUESTION from the memory in MEM."""
    from ttt_read import tokenizer as tok

    def prompt_ids(tokenizer):
        return tokenizer.encode(tok.qa_prompt(question), add_special_tokens=False).ids

    stops = [tok.END_OF_TEXT, tok.QUESTION, tok.FILE]
    _, _, pieces = _generate(mem, prompt_ids, model, device, max_tokens, temperature, 1.0, seed, False, stops)
    answer = "".join(pieces).strip()
    if as_json:
        _emit_json({"question": question, "answer": answer})
    else:
        print(answer)


@app.command()
def info(
    mem: Annotated[Path, typer.Argument(help="Snapshot to describe.")],
    as_json: JsonOpt = False,
):
    """Show a snapshot's metadata (reads no model)."""
    from ttt_read import snapshot

    metadata = snapshot.read_metadata(mem)
    if as_json:
        _emit_json({"path": str(mem), "bytes": mem.stat().st_size, **metadata})
        return
    files = [e for e in metadata["manifest"] if "skipped" not in e]
    skipped = len(metadata["manifest"]) - len(files)
    losses = metadata["chunk_losses"]
    rows = [
        ("snapshot", f"{mem} ({mem.stat().st_size / 2**20:.1f} MiB)"),
        ("created", f"{metadata['created']} by ttt-read {metadata['tool_version']}"),
        ("base model", f"{metadata['base']['name']} ({metadata['base']['sha256'][:12]})"),
        ("sources", ", ".join(metadata["sources"])),
        ("files", f"{len(files)} read, {skipped} skipped"),
        ("tokens", f"{metadata['tokens']:,}"),
        ("reading", ", ".join(f"{k}={v}" for k, v in metadata["reading"].items())),
        ("loss", f"first chunk {losses[0]:.3f}, last chunk {losses[-1]:.3f}, mean {metadata['mean_loss']:.3f}" if losses else "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


@app.command()
def models(as_json: JsonOpt = False):
    """List the bundled and user checkpoints."""
    from ttt_read import checkpoint

    found = checkpoint.available()
    entries = [
        {"name": i.name, "path": str(i.path), "bundled": i.bundled, "parameters_mib": round(sum(s.stat().st_size for s in i.shards()) / 2**20, 1)}
        for i in found
    ]
    if as_json:
        _emit_json({"models": entries})
        return
    for e in entries:
        print(f"{e['name']:<16} {'bundled' if e['bundled'] else 'user':<8} {e['parameters_mib']:>6} MiB  {e['path']}")


@app.command()
def bench(
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    lengths: Annotated[Optional[str], typer.Option(help="Comma-separated text lengths in tokens (default: 8K on CPU; 8K..1M on CUDA).")] = None,
    decode_tokens: Annotated[int, typer.Option(help="Tokens to time for decoding.")] = 32,
    no_baselines: Annotated[bool, typer.Option("--no-baselines", help="Time reading only.")] = False,
    as_json: JsonOpt = False,
):
    """Reading throughput and memory next to full attention and the eager loop, side by side."""
    from ttt_read import bench as bench_mod
    from ttt_read import checkpoint, engine
    from ttt_read.report import bench_table

    device = engine.pick_device(device)
    base, _ = checkpoint.load(checkpoint.resolve(model), device)
    default = "8192,32768,131072,524288,1048576" if device == "cuda" else "8192"
    try:
        sizes = [int(x) for x in (lengths or default).split(",")]
    except ValueError:
        raise TTTReadError(f"--lengths {lengths!r}: expected comma-separated integers", ExitCode.USAGE) from None
    result = bench_mod.run(base, sizes, decode_tokens, baselines=not no_baselines)
    if as_json:
        _emit_json(result)
    else:
        bench_table(result)


train_app = typer.Typer(help="Build a corpus, pretrain and meta-train a checkpoint.", no_args_is_help=True)
app.add_typer(train_app, name="train")


@train_app.command("corpus")
def train_corpus(
    sources: Annotated[list[str], typer.Argument(help="Directories to build from; prefix with code= or prose= to force the kind.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Corpus directory to write.")],
    vocab: Annotated[int, typer.Option(help="Tokenizer vocabulary size.")] = 8192,
    tokenizer: Annotated[Optional[Path], typer.Option(help="Use this tokenizer.json instead of training one.")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(help="Stop adding documents past this many tokens.")] = None,
    val_fraction: Annotated[float, typer.Option(help="Share of documents held out.")] = 0.05,
    as_json: JsonOpt = False,
):
    """Turn directories into long tokenized training documents with a held-out split."""
    from ttt_read.train.corpus import build_corpus

    manifest = build_corpus(
        [Path(s) for s in sources], output, vocab_size=vocab, tokenizer_path=tokenizer,
        val_fraction=val_fraction, max_tokens=max_tokens, progress=_err,
    )
    if as_json:
        _emit_json(manifest)


@train_app.command("run")
def train_run(
    run_dir: Annotated[Path, typer.Argument(help="Run directory; an existing one is resumed.")],
    corpus: Annotated[Optional[Path], typer.Option(help="Corpus directory (new runs).")] = None,
    mode: Annotated[str, typer.Option(help="pretrain or meta.")] = "pretrain",
    init: Annotated[Optional[str], typer.Option(help="Start from this checkpoint (e.g. meta-train a pretrained one).")] = None,
    model_config: Annotated[Optional[str], typer.Option(help="JSON object of model settings (new runs).")] = None,
    seq_len: Annotated[int, typer.Option(help="Tokens per training sequence.")] = 4096,
    batch: Annotated[int, typer.Option(help="Sequences per step and process.")] = 4,
    steps: Annotated[int, typer.Option(help="Total optimizer steps.")] = 1000,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 3e-3,
    warmup: Annotated[int, typer.Option(help="Warmup steps.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed for weights and data.")] = 0,
    save_every: Annotated[int, typer.Option(help="Steps between saved states.")] = 50,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many steps in this call.")] = None,
    time_budget: Annotated[Optional[float], typer.Option(help="Stop and save after this many seconds.")] = None,
):
    """Pretrain or meta-train; resumable, and data-parallel under torchrun."""
    from ttt_read.train.loop import TrainConfig, train

    cfg = None
    if not (run_dir / "train.json").exists():
        if corpus is None:
            raise TTTReadError(f"{run_dir}: a new run needs --corpus", ExitCode.USAGE)
        cfg = TrainConfig(
            corpus=str(corpus), mode=mode, init=init, model=json.loads(model_config or "{}"), seq_len=seq_len,
            batch=batch, steps=steps, lr=lr, warmup=warmup, seed=seed, save_every=save_every,
        )
    record = train(run_dir, cfg, max_steps=max_steps, time_budget=time_budget)
    _err(json.dumps(record))


@train_app.command("export")
def train_export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory to export.")],
    output: Annotated[Path, typer.Argument(help="Checkpoint directory to write.")],
    card: Annotated[Optional[Path], typer.Option(help="Model card (markdown) to include.")] = None,
):
    """Write a run's weights as a checkpoint directory (config, tokenizer, shards)."""
    from ttt_read.train.loop import export

    export(run_dir, output, card.read_text() if card else None)


@app.command(name="eval")
def eval_(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Documents to read (each path is one document).")] = None,
    corpus: Annotated[Optional[Path], typer.Option(help="Evaluate on this corpus's held-out documents instead.")] = None,
    model: ModelOpt = None,
    baseline: Annotated[list[str], typer.Option(help="Another checkpoint to compare, reading on (repeatable).")] = [],
    max_tokens: Annotated[int, typer.Option(help="Read at most this many tokens per document.")] = 65536,
    min_tokens: Annotated[int, typer.Option(help="Skip documents shorter than this.")] = 0,
    max_documents: Annotated[Optional[int], typer.Option(help="Evaluate at most this many documents.")] = None,
    device: DeviceOpt = "auto",
    plot: Annotated[Optional[Path], typer.Option(help="Also draw the curves to this PNG (needs matplotlib).")] = None,
    as_json: JsonOpt = False,
):
    """Loss by position with reading off and on: does the memory help later tokens?"""
    from ttt_read import checkpoint, engine
    from ttt_read.evaluate import evaluate
    from ttt_read.report import eval_table, plot_eval

    info = checkpoint.resolve(model)
    device = engine.pick_device(device)
    main_model, tokenizer = checkpoint.load(info, device)
    documents = engine.eval_documents(tokenizer, paths or [], corpus, max_tokens, min_tokens, max_documents)
    settings = {f"{info.name} reading off": (main_model, 0.0), f"{info.name} reading on": (main_model, main_model.cfg.inner_lr)}
    for other in baseline:
        other_info = checkpoint.resolve(other)
        other_model, _ = checkpoint.load(other_info, device)
        settings[f"{other_info.name} reading on"] = (other_model, other_model.cfg.inner_lr)
    result = evaluate(settings, documents)
    if plot is not None:
        plot_eval(result, plot)
    if as_json:
        _emit_json(result)
    else:
        eval_table(result)


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(ClickException, Abort) classes of the click typer runs on: the real package, or
    (typer >= 0.16) its own vendored copy, which the real `click` classes do not match."""
    errors, aborts = [], [typer.Abort]
    for name in ("click.exceptions", "typer._click.exceptions"):
        module = sys.modules.get(name)
        if module is not None:
            errors.append(module.ClickException)
            aborts += [module.Abort] if hasattr(module, "Abort") else []
    return tuple(errors), tuple(aborts)


def _usage_line(error) -> str:
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"ttt-read: error: {error.format_message()}{hint}"


def main(argv: list[str] | None = None) -> None:
    click_errors, aborts = _click_exceptions()
    try:
        code = app(args=argv, prog_name="ttt-read", standalone_mode=False)
    except TTTReadError as e:
        _err(f"ttt-read: error: {e}")
        code = e.code
    except click_errors as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare command: show its help
            e.show()
        else:
            _err(_usage_line(e))
        code = ExitCode.USAGE
    except (KeyboardInterrupt, *aborts):
        code = ExitCode.INTERRUPTED
    if code == ExitCode.INTERRUPTED:  # newer typers turn Ctrl-C into a returned 130 themselves
        _err("ttt-read: interrupted; nothing was written")
    sys.exit(int(code or 0))
