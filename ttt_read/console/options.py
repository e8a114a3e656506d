"""The options most commands share, and what a snapshot argument accepts."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.core.settings import DEVICES

ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help=(
            "Checkpoint name or directory (default: a snapshot's own base; else $TTT_READ_MODEL, config.toml's "
            "model, or the bundled one)."
        ),
    ),
]
DeviceOpt = Annotated[
    str,
    typer.Option(
        "--device",
        callback=validation.choice(DEVICES),
        help="auto, cpu or cuda (auto: config.toml's device, else cuda when available).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
NoMemoryOpt = Annotated[
    bool, typer.Option("--no-memory", help="Use the model's initial fast weights, not the read ones.")
]


def snapshot_arg(value):
    """A .mem argument: an existing file, else a named snapshot (`ttt-read ls`), else the path."""
    from ttt_read.read.names import resolve

    return None if value is None else resolve(value)


def complete_names(incomplete: str) -> list[str]:
    from ttt_read.read.names import complete

    return complete(incomplete)


# Every argument that takes a .mem file also takes a snapshot NAME: `callback=_snapshot_arg`.
SNAPSHOT_ARG = {"callback": snapshot_arg, "autocompletion": complete_names, "metavar": "MEM"}
