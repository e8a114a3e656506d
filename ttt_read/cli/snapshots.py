"""Commands that make and inspect snapshots: `ingest`, `info`, `ls` and `diff`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.console.options import SNAPSHOT_ARG, DeviceOpt, JsonOpt, ModelOpt, complete_names, snapshot_arg
from ttt_read.console.output import emit_json, show
from ttt_read.core.errors import ExitCode
from ttt_read.memory.summary import summarize
from ttt_read.read import ingest_request
from ttt_read.read.ingest import ReadSettings
from ttt_read.read.names import SUFFIX, listing, snapshots_dir
from ttt_read.render.progress import ReadProgress, scoring
from ttt_read.render.snapshots import print_info, print_ingested, print_listing
from ttt_read.text import sources

commands = typer.Typer()


@commands.command()
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
    out = ingest_request.output_path(output, name)
    reading = ReadSettings(
        lr, chunk, include, exclude=exclude, max_file_bytes=max_file_bytes, max_pdf_bytes=max_pdf_bytes
    )
    with ReadProgress(enabled=not quiet) as progress:
        metadata = ingest_request.read_into(
            paths, out, update, model=model, device=device, settings=reading, force=force, on_progress=progress.update
        )
    if as_json:
        emit_json({"output": str(out), "name": name, **metadata})
    elif not quiet:
        print_ingested(metadata, out, update)


@commands.command()
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
    summary = summarize(mem, verify=verify)
    if as_json:
        emit_json(summary.to_dict())
    else:
        print_info(summary)


@commands.command(name="ls")
def ls_(as_json: JsonOpt = False):
    """List the named snapshots (ingest --name NAME): size, date, files, tokens, sources."""
    show({"dir": str(snapshots_dir()), "snapshots": listing()}, print_listing, as_json=as_json)


@commands.command()
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

    texts = {"old_path": old_path, "new_path": new_path}
    scored = {"knowledge": not no_knowledge, "all_files": all_files, "lines": lines, "on_file": scoring(as_json)}
    result = diff_mod.compare(old, new, model, device=device, question=ask, max_tokens=max_tokens, **texts, **scored)
    show(result, diff_mod.render, as_json=as_json)
    return ExitCode.OK if result["identical_sources"] and result["weights"]["identical"] else ExitCode.DIFFERENT
