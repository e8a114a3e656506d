"""The `ttt-read` command line.

Only typer is imported at module load: torch, tokenizers and the model come in lazily
inside each command, so `--help` and shell completion stay instant. Data goes to stdout,
progress and errors to stderr; user errors end in one line and a documented exit code.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.console.options import (
    SNAPSHOT_ARG,
    DeviceOpt,
    JsonOpt,
    ModelOpt,
    NoMemoryOpt,
    complete_names,
    snapshot_arg,
)
from ttt_read.console.output import emit_json, say
from ttt_read.core import interrupts, settings
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read.hf_import import DEFAULT_CHUNK, DEFAULT_FAST_WEIGHTS, DEFAULT_INNER_LR, DEFAULT_WINDOW
from ttt_read.read.names import SUFFIX
from ttt_read.text import sources
from ttt_read.text import tokenizer as tok
from ttt_read.train.cli import train_app

app = typer.Typer(
    name="ttt-read",
    help="Read a codebase, a text or a PDF into a language model's weights, then ask it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# The options before any command (its docstring would replace the app's help, hence none).
@app.callback(invoke_without_command=True)
def _top(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit (with --json: also the default checkpoint's name and hash)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --version: print it as JSON.")] = False,
):
    if not version:
        if ctx.invoked_subcommand is None:
            raise TTTReadError("missing command (see 'ttt-read --help')", ExitCode.USAGE)
        if as_json:
            raise TTTReadError(
                "--json before the command goes with --version only; put it after the command", ExitCode.USAGE
            )
        return
    from ttt_read import __version__

    if as_json:
        from ttt_read.read import checkpoint

        info = checkpoint.resolve(None)
        emit_json(
            {"version": __version__, "checkpoint": {"name": info.name, "path": str(info.path), "sha256": info.sha256()}}
        )
    else:
        print(f"ttt-read {__version__}")
    raise typer.Exit()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to read.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Snapshot file to write (.mem).")] = None,
    name: Annotated[
        Optional[str],
        typer.Option(
            "--name",
            help=(
                "Keep the snapshot in the data directory as NAME (see `ttt-read ls`); any command then takes NAME "
                "for a .mem path."
            ),
        ),
    ] = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    lr: Annotated[
        Optional[float],
        typer.Option(
            min=0,
            help=(
                "Reading learning rate (default: config.toml's reading.lr, else the checkpoint's; with --update, "
                "the update's rate: default half OLD's)."
            ),
        ),
    ] = None,
    chunk: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            max=65536,
            help="Tokens per reading update (default: config.toml's reading.chunk, else the checkpoint's).",
        ),
    ] = None,
    include: Annotated[list[str], typer.Option(help="Only read files matching this glob (repeatable).")] = [],
    exclude: Annotated[list[str], typer.Option(help="Skip files matching this glob (repeatable).")] = [],
    max_file_bytes: Annotated[
        int, typer.Option(min=0, help="Skip text files larger than this many bytes (PDFs: --max-pdf-bytes).")
    ] = sources.TEXT_MAX_BYTES,
    max_pdf_bytes: Annotated[
        int,
        typer.Option(
            min=0,
            help=(
                "Skip PDFs larger than this many bytes (their own cap: compressed streams and images make them "
                "large for their text)."
            ),
        ),
    ] = sources.PDF_MAX_BYTES,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing snapshot.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    update: Annotated[
        Optional[Path],
        typer.Option(
            "--update",
            metavar=f"OLD{SUFFIX}",
            help=(
                "Start from OLD.mem's memory (a file or a snapshot NAME); read only files added or changed since it "
                "(by sha256)."
            ),
            callback=snapshot_arg,
            autocompletion=complete_names,
        ),
    ] = None,
    as_json: JsonOpt = False,
):
    """Read PATHS into the model's fast weights and save them as a .mem snapshot.

    With --update OLD.mem only the files added or changed since OLD (by sha256) are read,
    on top of OLD's memory at half its reading rate (OLD already holds most of a changed
    file); the time scales with the changed files, not the whole tree. The trade-off
    against a full re-read: the memory depends on the reading order, removed files are not
    unlearned, and `info` counts the updates in a row since a full read (the README has
    the measured cost and quality).

    Example: ttt-read ingest src/ docs/manual.pdf -o project.mem
    """
    from ttt_read.read import ingest as reading_in
    from ttt_read.render.progress import ReadProgress

    output = _ingest_output(output, name)
    if update is None:  # config.toml's [reading] defaults; --update keeps its parent's settings
        from ttt_read.core import settings as config

        conf = config.current()
        lr, chunk = (conf.lr if lr is None else lr), (conf.chunk if chunk is None else chunk)
    settings = reading_in.ReadSettings(lr, chunk, include, exclude, max_file_bytes, max_pdf_bytes)
    with ReadProgress(enabled=not quiet) as progress:
        if update is not None:
            metadata = reading_in.update(
                update, paths, output, model, device, settings, force, on_progress=progress.update
            )
        else:
            metadata = reading_in.ingest(paths, output, model, device, settings, force, on_progress=progress.update)
    files = [e for e in metadata["manifest"] if "skipped" not in e]
    skipped = [e for e in metadata["manifest"] if "skipped" in e]
    if as_json:
        emit_json({"output": str(output), "name": name, **metadata})
        return
    if not quiet:
        for entry in skipped:
            say(f"skipped {entry['path']}: {entry['skipped']}")
        if metadata.get("skipped_updates"):
            say(
                f"ttt-read: warning: {metadata['skipped_updates']} of {len(metadata['chunk_losses'])} reading "
                "updates skipped: "
                "the loss or gradient was not finite (NaN/inf), so the memory kept its weights from before each"
            )
        if update is not None:
            done = metadata["update"]
            say(
                f"updated {update}: read {len(done['read'])} new or changed files, {metadata['tokens']:,} tokens in "
                f"{metadata['read_seconds']:.1f}s; carried {done['carried']} unchanged"
                + (f"; {len(done['removed'])} removed (not unlearned)" if done["removed"] else "")
                + f" -> {output}"
            )
            return
        say(
            f"read {len(files)} files, {metadata['tokens']:,} tokens in {metadata['read_seconds']:.1f}s "
            f"(mean loss {metadata['mean_loss']:.3f}) -> {output}"
        )


def _ingest_output(output: Path | None, name: str | None) -> Path:
    """-o OUT.mem, or --name NAME: the snapshot kept in the data directory."""
    if (output is None) == (name is None):
        raise TTTReadError("ingest: give either -o OUT.mem or --name NAME", ExitCode.USAGE)
    if name is None:
        return output
    from ttt_read.read.names import path_for

    path = path_for(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # TTT_READ_HOME is a file, read-only, ...
        raise TTTReadError(
            f"{path.parent}: cannot create the snapshots directory: {e.strerror}", ExitCode.OUTPUT
        ) from None
    return path


@app.command(name="continue")
def continue_(
    mem: Annotated[Path, typer.Argument(help="Snapshot to continue from (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    prompt: Annotated[str, typer.Argument(help="Text to continue.", callback=validation.text)],
    max_tokens: Annotated[
        int, typer.Option("-n", "--max-tokens", min=0, max=validation.MAX_TOKENS, help="Tokens to generate.")
    ] = 200,
    temperature: Annotated[
        float,
        typer.Option(
            min=0, max=100, callback=validation.greedy_or_at_least(0.01), help="0 for greedy, else 0.01 to 100."
        ),
    ] = 0.8,
    top_p: Annotated[
        float, typer.Option(min=0, max=1, callback=validation.above(0), help="Nucleus sampling mass, above 0.")
    ] = 0.95,
    seed: Annotated[int, typer.Option(min=0, max=validation.MAX_SEED, help="Sampling seed.")] = 0,
    no_learn: Annotated[bool, typer.Option("--no-learn", help="Freeze the memory while generating.")] = False,
    no_notepad: Annotated[
        bool, typer.Option("--no-notepad", help="Predict from the model alone, not from exact matches in the notepad.")
    ] = False,
    no_memory: NoMemoryOpt = False,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Continue PROMPT from the memory in MEM, streaming to stdout."""
    from ttt_read.memory.opened import open_memory
    from ttt_read.predict.generate import continuation

    memory = open_memory(mem, model, device)
    options = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "seed": seed}
    session, head, pieces = continuation(
        memory, prompt, options, learn=not no_learn, use_notepad=not no_notepad, use_memory=not no_memory
    )
    if as_json:
        text = head + "".join(pieces)
        emit_json({"prompt": prompt, "text": text[len(prompt) :], "updates": session.updates})
        return
    sys.stdout.write(head)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command()
def ask(
    mem: Annotated[Path, typer.Argument(help="Snapshot to ask (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    question: Annotated[
        Optional[str],
        typer.Argument(
            help="The question; without one, questions are read at a prompt (Ctrl-D leaves).", callback=validation.text
        ),
    ] = None,
    free: Annotated[
        bool, typer.Option("--free", help="Let the model write its answer instead of quoting a span of the sources.")
    ] = False,
    max_tokens: Annotated[
        int,
        typer.Option("-n", "--max-tokens", min=1, max=validation.MAX_TOKENS, help="Longest --free answer, in tokens."),
    ] = 64,
    passages: Annotated[
        int,
        typer.Option(
            "-k", "--passages", min=0, max=validation.MAX_PASSAGES, help="Notepad passages to put before the question."
        ),
    ] = tok.PASSAGES,
    no_notepad: Annotated[
        bool, typer.Option("--no-notepad", help="Do not look anything up in the notepad (implies --free).")
    ] = False,
    no_memory: NoMemoryOpt = False,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Answer QUESTION from MEM with a span quoted from its sources (path:line:col), or "not found in NAME"."""
    from ttt_read.ask.answer import answer
    from ttt_read.memory.opened import open_memory
    from ttt_read.render.answers import print_answer, prompt_loop

    memory = open_memory(mem, model, device)
    if not (free or no_notepad):
        _ = memory.span_head  # loaded before the first question, not during it
    noted: set[str] = set()

    def respond(text: str) -> None:
        result = answer(
            memory,
            text,
            use_notepad=not no_notepad,
            use_memory=not no_memory,
            free=free,
            max_tokens=max_tokens,
            k=passages,
        )
        if result.notice and result.notice not in noted:
            noted.add(result.notice)
            say(f"ttt-read: note: {result.notice}")
        if as_json:
            emit_json({"question": text, **result.to_dict()})
        else:
            print_answer(result, mem.stem)

    if question is None:
        prompt_loop(respond)
    else:
        respond(question)


@app.command()
def info(
    mem: Annotated[Path, typer.Argument(help="Snapshot to describe (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Also read every tensor byte and check the checksum (default: the header alone)."
        ),
    ] = False,
    as_json: JsonOpt = False,
):
    """Show a snapshot's metadata (reads no model)."""
    from ttt_read.read import snapshot

    metadata = snapshot.read_metadata(mem, verify=verify)
    snapshot.require_fields(metadata, mem)
    if as_json:
        emit_json({"path": str(mem), "bytes": mem.stat().st_size, "verified": verify, **metadata})
        return
    files = [e for e in metadata["manifest"] if "skipped" not in e]
    skipped = len(metadata["manifest"]) - len(files)
    losses = metadata["chunk_losses"]
    parts = snapshot.part_sizes(mem)
    pad = metadata.get("notepad")
    pad_size = (
        f"notepad {parts['notepad'] / 2**10:,.1f} KiB ({pad['text_bytes'] / 2**10:,.1f} KiB of text, index "
        f"+{100 * pad['overhead_ratio']:.0f}% of it compressed)"
        if parts["notepad"] and pad and {"text_bytes", "overhead_ratio"} <= pad.keys()
        else f"notepad {parts['notepad'] / 2**10:,.1f} KiB"
        if parts["notepad"]
        else "no notepad"
    )
    n_waypoints = len(metadata.get("waypoints", []))
    waypoints_size = (
        f"{parts['waypoints'] / 2**20:.1f} MiB at {n_waypoints} earlier points of the read, " if n_waypoints else ""
    )
    rows = [
        ("snapshot", f"{mem} ({mem.stat().st_size / 2**20:.1f} MiB)"),
        ("size", f"weights {parts['weights'] / 2**20:.1f} MiB, {waypoints_size}{pad_size}"),
        ("checksum", "verified" if verify else "not checked (--verify reads the whole file)"),
        ("created", f"{metadata['created']} by ttt-read {metadata['tool_version']}"),
        ("base model", f"{metadata['base']['name']} ({metadata['base']['sha256'][:12]})"),
        ("sources", ", ".join(metadata["sources"])),
        ("files", f"{len(files)} read, {skipped} skipped"),
        ("tokens", f"{metadata['tokens']:,}"),
        ("reading", ", ".join(f"{k}={v}" for k, v in metadata["reading"].items())),
        (
            "loss",
            f"first chunk {losses[0]:.3f}, last chunk {losses[-1]:.3f}, mean "
            f"{float('nan') if metadata.get('mean_loss') is None else metadata['mean_loss']:.3f}"
            if losses
            else "-",
        ),
    ]
    if metadata.get("parent"):
        parent, done = metadata["parent"], metadata.get("update", {})
        rows.append(
            ("parent", f"{parent['path']} ({parent['sha256'][:12]}), update {parent.get('depth', 1)} since a full read")
        )
        rate = f" at lr={done['lr']}" if "lr" in done else ""
        rows.append(
            (
                "update",
                f"read {len(done.get('read', []))} new or changed files{rate}, carried {done.get('carried', 0)}, "
                f"{len(done.get('removed', []))} removed",
            )
        )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


models_app = typer.Typer(help="List base models; import a local Llama or Qwen checkpoint.", invoke_without_command=True)
app.add_typer(models_app, name="models")


@models_app.callback()
def models(ctx: typer.Context, as_json: JsonOpt = False):
    """List the bundled, user and imported checkpoints, and the importable ones in the local
    Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)."""
    if ctx.invoked_subcommand is None:
        models_list(as_json)


@models_app.command("list")
def models_list(as_json: JsonOpt = False):
    """List the checkpoints (same as `ttt-read models`)."""
    from ttt_read.read import checkpoint, hf_cache

    entries = []
    for i in checkpoint.available():
        record = i.imported
        kind = "bundled" if i.bundled else "imported" if record else "user"
        size = record.weight_bytes if record else sum(s.stat().st_size for s in i.shards())
        entries.append(
            {
                "name": i.name,
                "path": str(record.source if record else i.path),
                "bundled": i.bundled,
                "kind": kind,
                "parameters_mib": round(size / 2**20, 1),
            }
        )
    cached = [
        {"repo": m.repo, "path": str(m.path), "architecture": m.architecture} for m in hf_cache.supported_models()
    ]
    if as_json:
        emit_json({"models": entries, "huggingface_cache": cached})
        return
    for e in entries:
        print(f"{e['name']:<16} {e['kind']:<8} {e['parameters_mib']:>6} MiB  {e['path']}")
    for m in cached:
        print(f"{m['repo']:<16} {'cached':<8} {m['architecture']:>10}  (ttt-read models import {m['repo']})")


@models_app.command("import")
def models_import(
    source: Annotated[
        str,
        typer.Argument(
            help=(
                "Checkpoint directory (config.json, tokenizer.json, safetensors), or ORG/NAME of a model in the "
                "local Hugging Face cache."
            )
        ),
    ],
    name: Annotated[
        Optional[str],
        typer.Option("--name", help="Name to use with --model (default: the directory's or repository's name)."),
    ] = None,
    window: Annotated[
        Optional[int],
        typer.Option(
            help=(
                f"Reading window W in tokens, how far back attention sees (default {DEFAULT_WINDOW}, less for a "
                "model trained on shorter texts)."
            )
        ),
    ] = None,
    chunk: Annotated[
        Optional[int], typer.Option(help=f"Tokens per reading update, b (default {DEFAULT_CHUNK}).")
    ] = None,
    fast_weights: Annotated[
        Optional[str],
        typer.Option(
            help=(
                f"{DEFAULT_FAST_WEIGHTS} (default): the last quarter of the blocks' MLPs learn in place; prime: new "
                "zero-initialised MLPs do."
            )
        ),
    ] = None,
    lr: Annotated[
        Optional[float],
        typer.Option(help=f"Default reading learning rate of the model (default {DEFAULT_INNER_LR})."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an imported model of the same name.")] = False,
    as_json: JsonOpt = False,
):
    """Register a local Llama, Qwen2 or Qwen3 checkpoint as a base model; nothing is copied or downloaded."""
    import shutil

    from ttt_read.read import checkpoint, hf_cache, hf_import
    from ttt_read.read.config import FAST_WEIGHT_KINDS
    from ttt_read.read.names import is_name

    path = Path(source).expanduser()
    if not path.is_dir():
        path = hf_cache.locate(source) if "/" in source and not source.startswith((".", "/", "~")) else None
        if path is None:
            raise TTTReadError(
                f"{source}: no such directory, nor a model in the local Hugging Face cache", ExitCode.INPUT
            )
    name = name or source.rstrip("/").split("/")[-1]
    if not is_name(name) or name.endswith(SUFFIX):
        raise TTTReadError(
            f"--name {name!r}: a name is letters, digits, '.', '_' and '-', starting with a letter or digit",
            ExitCode.USAGE,
        )
    if any(v is not None and v < 1 for v in (window, chunk)) or (lr is not None and lr < 0):
        raise TTTReadError("--window and --chunk must be positive, --lr not negative", ExitCode.USAGE)
    if fast_weights is not None and fast_weights not in FAST_WEIGHT_KINDS:
        raise TTTReadError(
            f"--fast-weights {fast_weights!r}: expected one of {', '.join(FAST_WEIGHT_KINDS)}", ExitCode.USAGE
        )
    given = {"window": window, "chunk": chunk, "fast_weights": fast_weights, "inner_lr": lr}
    settings = hf_import.ImportSettings(**{k: v for k, v in given.items() if v is not None})
    out_dir = checkpoint.user_dir() / name
    if out_dir.exists():
        if not force:
            raise TTTReadError(f"{out_dir}: a model named {name!r} exists; pass --force to replace it", ExitCode.EXISTS)
        shutil.rmtree(out_dir)
    record = hf_import.import_checkpoint(path, out_dir, settings)
    payload = {
        "name": name,
        "path": str(out_dir),
        "source": str(record.source),
        "architecture": record.architecture,
        "fingerprint": record.fingerprint,
    }
    if as_json:
        emit_json(payload)
    else:
        print(
            f"imported {record.architecture} from {record.source} as {name!r} (fingerprint "
            f"{record.fingerprint[:12]}); use --model {name}"
        )


# --- named snapshots, directories, completion scripts, reference ---------------------------


@app.command(name="ls")
def ls_(as_json: JsonOpt = False):
    """List the named snapshots (ingest --name NAME): size, date, files, tokens, sources."""
    from ttt_read.read.names import listing, snapshots_dir

    entries = listing()
    if as_json:
        emit_json({"dir": str(snapshots_dir()), "snapshots": entries})
        return
    if not entries:
        say(f"no named snapshots in {snapshots_dir()} (make one with: ttt-read ingest PATH --name NAME)")
        return
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        size = f"{e['bytes'] / 2**20:.1f} MiB"
        if "error" in e:
            print(f"{e['name']:<{width}}  {size:>9}  damaged: {e['error']}")
            continue
        what = f"{e['files']} files, {e['tokens'] or 0:,} tokens"
        print(f"{e['name']:<{width}}  {size:>9}  {e['created'] or '-':<25}  {what}  {', '.join(e['sources'])}")


@app.command(name="dirs")
def dirs_(as_json: JsonOpt = False):
    """Where ttt-read keeps config.toml, named snapshots, user checkpoints and caches."""

    from ttt_read.core.dirs import cache_dir
    from ttt_read.core.settings import config_path
    from ttt_read.read.checkpoint import user_dir
    from ttt_read.read.names import snapshots_dir

    paths = {"config": config_path(), "snapshots": snapshots_dir(), "models": user_dir(), "cache": cache_dir()}
    if as_json:
        emit_json({"home": os.environ.get("TTT_READ_HOME") or None, **{k: str(v) for k, v in paths.items()}})
        return
    for key, path in paths.items():
        print(f"{key:<9}  {path}")


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


# The file each script is committed as in completions/ (and shipped as ttt_read/completions/).
COMPLETION_FILES = {"bash": "ttt-read.bash", "zsh": "_ttt-read", "fish": "ttt-read.fish", "powershell": "ttt-read.ps1"}


def completion_script(shell: str) -> str:
    """The completion script typer generates for this CLI (`ttt-read`, `_TTT_READ_COMPLETE`)."""
    from typer.completion import get_completion_script

    return get_completion_script(prog_name="ttt-read", complete_var="_TTT_READ_COMPLETE", shell=shell) + "\n"


@app.command()
def completions(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh, fish or powershell.")],
    as_json: JsonOpt = False,
):
    """Print the shell completion script for SHELL, generated from this CLI.

    \b
    bash:       ttt-read completions bash > ~/.local/share/bash-completion/completions/ttt-read
    zsh:        ttt-read completions zsh > ~/.zfunc/_ttt-read
                (and in ~/.zshrc: fpath+=~/.zfunc; autoload -Uz compinit; compinit)
    fish:       ttt-read completions fish > ~/.config/fish/completions/ttt-read.fish
    PowerShell: ttt-read completions powershell >> $PROFILE

    The same four scripts are in the repository's completions/ directory.
    """
    script = completion_script(shell.value)
    if as_json:
        emit_json({"shell": shell.value, "file": COMPLETION_FILES[shell.value], "script": script})
        return
    sys.stdout.write(script)


help_app = typer.Typer(help="Reference pages: exit codes.", no_args_is_help=True)
app.add_typer(help_app, name="help")


@help_app.command("exit-codes")
def help_exit_codes(as_json: JsonOpt = False):
    """The exit status of every ttt-read command, and what each one means."""
    rows = [{"code": int(code), "name": code.name.lower(), "meaning": code.meaning} for code in ExitCode]
    if as_json:
        emit_json({"exit_codes": rows})
        return
    for row in rows:
        print(f"{row['code']:>3}  {row['meaning']}")


@app.command()
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
    from ttt_read.evaluate import bench as bench_mod
    from ttt_read.read import checkpoint
    from ttt_read.read.device import pick_device
    from ttt_read.render.report import bench_table

    device = pick_device(device)
    info = checkpoint.resolve(model)
    base, tokenizer = checkpoint.load(info, device)
    sizes = lengths or ([8192, 32768, 131072, 524288, 1048576] if device == "cuda" else [8192])
    notepad = bench_mod.package_notepad(tokenizer, info, base.cfg.vocab_size)
    result = bench_mod.run(base, sizes, decode_tokens, baselines=not no_baselines, notepad=notepad)
    if as_json:
        emit_json(result)
    else:
        bench_table(result)


app.add_typer(train_app, name="train")


@app.command(name="eval")
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
    from ttt_read.evaluate.documents import eval_documents
    from ttt_read.evaluate.loss import evaluate
    from ttt_read.memory.opened import notepad_stream
    from ttt_read.predict import ngram
    from ttt_read.read import checkpoint
    from ttt_read.read.device import pick_device
    from ttt_read.render.report import eval_table, plot_eval

    info = checkpoint.resolve(model)
    device = pick_device(device)
    main_model, tokenizer = checkpoint.load(info, device)
    documents = eval_documents(
        tokenizer, paths or [], corpus, max_tokens=max_tokens, min_tokens=min_tokens, max_per_kind=max_per_kind
    )
    settings = {
        f"{info.name} reading off": (main_model, 0.0),
        f"{info.name} reading on": (main_model, main_model.cfg.inner_lr),
    }
    settings |= {f"{info.name} reading lr {lr:g}": (main_model, lr) for lr in reading_lr}
    settings |= {
        f"{info.name} reading chunk {chunk}": (main_model, main_model.cfg.inner_lr, chunk) for chunk in reading_chunk
    }
    for other, reading in [(name, True) for name in baseline] + [(name, False) for name in baseline_off]:
        other_info = checkpoint.resolve(other)
        other_model, _ = checkpoint.load(other_info, device)
        lr = other_model.cfg.inner_lr if reading else 0.0
        settings[f"{other_info.name} reading {'on' if reading else 'off'}"] = (other_model, lr)
    gate = None if no_notepad else ngram.Gate.load(ngram.gate_path(info.path))
    notepad_ids = notepad_stream(notepad, info.name, device) if notepad is not None else []
    result = evaluate(
        settings,
        [ids for _, _, ids in documents],
        tokenizer=tokenizer,
        labels=[(kind, name) for kind, name, _ in documents],
        gate=gate,
        mixed=list(settings)[:2],
        notepad=notepad_ids,
    )
    if plot is not None:
        plot_eval(result, plot)
    if as_json:
        emit_json(result)
    else:
        eval_table(result)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The older snapshot (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    new: Annotated[Path, typer.Argument(help="The newer snapshot (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    old_path: Annotated[
        Optional[Path],
        typer.Option("--old-path", help="Directory (or file) with OLD's text, for files not in its notepad."),
    ] = None,
    new_path: Annotated[
        Optional[Path],
        typer.Option("--new-path", help="Directory (or file) with NEW's text, for files not in its notepad."),
    ] = None,
    ask: Annotated[
        Optional[str],
        typer.Option(
            "--ask", callback=validation.text, help="Also answer this question from both snapshots, side by side."
        ),
    ] = None,
    max_tokens: Annotated[
        int,
        typer.Option("-n", "--max-tokens", min=1, max=validation.MAX_TOKENS, help="Longest --ask answer, in tokens."),
    ] = 64,
    all_files: Annotated[
        bool,
        typer.Option("--all", help="Score unchanged files too (slower): the baseline the changed ones stand out from."),
    ] = False,
    no_knowledge: Annotated[
        bool, typer.Option("--no-knowledge", help="Compare sources and weights only (fast).")
    ] = False,
    lines: Annotated[int, typer.Option("--lines", min=0, max=10_000, help="Lines listed per file and direction.")] = 5,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Compare two snapshots: their sources, their fast weights, and what each memory knows.

    Knowledge: each memory's loss, without learning, on both versions of every file that
    differs (text from the notepads, else --old-path/--new-path); `score` is how much each
    memory prefers the version it read, in nats/token.

    Exit status, as diff(1): 0 the snapshots are identical (sources and memory), 1 they
    differ, 2 usage error (including OLD and NEW being the same file), 3 --old-path/--new-path
    missing, 4 a snapshot is missing, corrupt or foreign, or the two were made with different
    base checkpoints (see `ttt-read help exit-codes`).
    """
    from ttt_read.diff import compare as diff_mod

    progress = (lambda i, n, path: say(f"scoring {i + 1}/{n} {path}")) if sys.stderr.isatty() and not as_json else None
    result = diff_mod.compare(
        old, new, model, device, old_path, new_path, not no_knowledge, all_files, lines, ask, max_tokens, progress
    )
    if as_json:
        emit_json(result)
    else:
        diff_mod.render(result)
    return ExitCode.OK if result["identical_sources"] and result["weights"]["identical"] else ExitCode.DIFFERENT


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


@app.command(name="eval-qa")
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
    from ttt_read.evaluate.qa import SETTINGS, evaluate_qa, load_asked, qa_table

    unknown = [s for s in setting if s not in SETTINGS]
    if unknown:
        raise TTTReadError(f"--setting {unknown[0]}: not one of {', '.join(SETTINGS)}", ExitCode.USAGE)
    for path in paths:
        if not path.exists():
            raise TTTReadError(f"{path}: no such file or directory", ExitCode.INPUT)
    if asked is not None and len(paths) != 1:
        raise TTTReadError(f"--asked {asked}: its questions are about one document, not {len(paths)}", ExitCode.USAGE)
    items = load_asked(asked) if asked is not None else None
    chosen = [s for s in SETTINGS if s in setting] or list(SETTINGS)
    result = evaluate_qa(
        paths, questions, model, device, seed, max_tokens, passages, chosen, None if quiet else say, items
    )
    if as_json:
        emit_json(result)
    else:
        qa_table(result)


def main(argv: list[str] | None = None) -> None:
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 is printed, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    click_errors, aborts = _click_exceptions()
    committed = len(interrupts.COMMITTED)
    try:
        command = validation.harden(typer.main.get_command(app))
        with settings.one_read():
            code = command.main(args=argv, prog_name="ttt-read", standalone_mode=False)
    except TTTReadError as e:
        say(f"ttt-read: error: {e}")
        code = e.code
    except click_errors as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare command: show its help
            e.show()
        else:
            say(_usage_line(e))
        code = ExitCode.USAGE
    except (KeyboardInterrupt, *aborts):
        code = ExitCode.INTERRUPTED
    if code == ExitCode.INTERRUPTED:  # newer typers turn Ctrl-C into a returned 130 themselves
        written = interrupts.COMMITTED[committed:]  # Ctrl-C can land just after a file was completed
        say(
            f"ttt-read: interrupted after {written[-1]} was completely written"
            if written
            else "ttt-read: interrupted; nothing was written"
        )
    sys.exit(int(code or 0))
