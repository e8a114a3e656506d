"""`train span` as asked: documents or a corpus to draw questions from, checked before any
model loads, and the head written beside its model unless told where."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.core.inputs import require_existing


def run_span(
    paths: Sequence[Path], output: Path | None, model_name: str | None, *, corpus: Path | None, **options
) -> dict:
    """`train_span_head` on `paths` and `corpus`'s training split for the model `model_name`,
    the head saved to `output` (default: `span.head_path` beside the model). `options` are
    `train_span_head`'s."""
    from ttt_read.ask.span import head_path
    from ttt_read.read import checkpoint
    from ttt_read.train.span_head import train_span_head

    if not paths and corpus is None:
        raise TTTReadError("train span: give document directories, --corpus, or both", ExitCode.USAGE)
    require_existing(paths)
    out = output or head_path(checkpoint.resolve(model_name).path)
    return train_span_head(paths, out, corpus=corpus, model_name=model_name, **options)
