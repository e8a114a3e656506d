"""What every command prints: its result as JSON (--json) or as its own report on stdout, talk on stderr."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable


def emit_json(payload: dict) -> None:
    print(json.dumps(_finite({"schema_version": 1, **payload}), indent=2, allow_nan=False))


def show(result: dict, render: Callable[[dict], None] | None = None, *, as_json: bool) -> None:
    """A command's result: with --json as JSON on stdout, else as `render` writes it;
    without a `render`, nothing (the command reports in JSON only)."""
    if as_json:
        emit_json(result)
    elif render is not None:
        render(result)


def _finite(value):
    """NaN and infinities as null: JSON has no such numbers and strict parsers (jq) reject them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def say(message: str) -> None:
    print(message, file=sys.stderr)


def say_json(record: dict) -> None:
    """`record` as one JSON line on stderr: what the training commands report without --json."""
    say(json.dumps(record))
