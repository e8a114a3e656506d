"""Snapshots loaded with the base model they were read with (`--update`, `diff`, and every
command that talks to a memory), refusing one whose weights do not fit that model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import checkpoint, snapshot
from ttt_read.read.device import pick_device


def check_fits(path: Path, snap: snapshot.Snapshot, model, model_name: str) -> None:
    """Refuse a snapshot whose fast weights or tail tokens do not fit `model` (one made with
    another architecture under the same name, or a file edited by hand)."""
    expected = [tuple(w.shape[1:]) for w in model.initial_fast_weights(1)]
    if [tuple(w.shape) for w in snap.fast] != expected:
        raise TTTReadError(f"{path}: fast weights do not fit model {model_name!r}", ExitCode.SNAPSHOT)
    if not all(0 <= t < model.cfg.vocab_size for t in snap.tail_tokens):
        raise TTTReadError(f"{path}: tail tokens outside model {model_name!r}'s vocabulary", ExitCode.SNAPSHOT)


def load_with_model(
    paths: Sequence[Path], info: checkpoint.CheckpointInfo, device: str
) -> tuple[list[snapshot.Snapshot], object, object, str]:
    """The snapshots at `paths`, all read with checkpoint `info`, then the model and tokenizer
    on the picked device (returned last)."""
    snaps = [snapshot.load(path, base_sha256=info.sha256()) for path in paths]
    device = pick_device(device)
    model, tokenizer = checkpoint.load(info, device)
    for path, snap in zip(paths, snaps):
        check_fits(path, snap, model, info.name)
    return snaps, model, tokenizer, device
