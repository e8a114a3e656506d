"""`models`: the base models to read with, and importing a local Llama or Qwen checkpoint."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ttt_read.console.options import JsonOpt
from ttt_read.console.output import show
from ttt_read.read import base_models
from ttt_read.read.hf_import import DEFAULT_CHUNK, DEFAULT_FAST_WEIGHTS, DEFAULT_INNER_LR, DEFAULT_WINDOW
from ttt_read.render.models import print_imported, print_models

models_app = typer.Typer(help="List base models; import a local Llama or Qwen checkpoint.", invoke_without_command=True)


@models_app.callback()
def models(ctx: typer.Context, as_json: JsonOpt = False):
    """List the bundled, user and imported checkpoints, and the importable ones in the local
    Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)."""
    if ctx.invoked_subcommand is None:
        models_list(as_json)


@models_app.command("list")
def models_list(as_json: JsonOpt = False):
    """List the checkpoints (same as `ttt-read models`)."""
    show(base_models.listing(), print_models, as_json=as_json)


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
    imported = base_models.import_model(
        source, name, window=window, chunk=chunk, fast_weights=fast_weights, lr=lr, force=force
    )
    show(imported, print_imported, as_json=as_json)
