"""An `ingest` as asked: where the snapshot goes, and a full read with config.toml's reading
settings or an update that keeps its parent's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from ttt_read.core import settings as config
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import ingest
from ttt_read.read.ingest import ReadSettings
from ttt_read.read.names import path_for


def output_path(output: Path | None, name: str | None) -> Path:
    """-o OUT.mem, or --name NAME: the snapshot kept in the data directory (made if missing)."""
    if (output is None) == (name is None):
        raise TTTReadError("ingest: give either -o OUT.mem or --name NAME", ExitCode.USAGE)
    if name is None:
        return output
    path = path_for(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # TTT_READ_HOME is a file, read-only, ...
        raise TTTReadError(
            f"{path.parent}: cannot create the snapshots directory: {e.strerror}", ExitCode.OUTPUT
        ) from None
    return path


def read_into(
    paths: Sequence[Path],
    output: Path,
    parent: Path | None,
    *,
    model: str | None,
    device: str,
    settings: ReadSettings,
    force: bool,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Read `paths` into the snapshot `output`: on top of `parent`'s memory when given (its
    reading settings kept), else afresh, the rate and chunk `settings` leaves None taken from
    config.toml. Returns the snapshot's metadata."""
    if parent is not None:
        return ingest.update(
            parent,
            paths,
            output,
            model_name=model,
            device=device,
            settings=settings,
            force=force,
            on_progress=on_progress,
        )
    conf = config.current()
    lr = conf.lr if settings.lr is None else settings.lr
    chunk = conf.chunk if settings.chunk is None else settings.chunk
    settings = dataclasses.replace(settings, lr=lr, chunk=chunk)
    return ingest.ingest(paths, output, model, device=device, settings=settings, force=force, on_progress=on_progress)
