"""What every command prints besides its own report: JSON on stdout, talk on stderr."""

from __future__ import annotations

import json
import math
import sys


def emit_json(payload: dict) -> None:
    print(json.dumps(_finite({"schema_version": 1, **payload}), indent=2, allow_nan=False))


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


# The options before any command (its docstring would replace the app's help, hence none).
