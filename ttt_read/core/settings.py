"""`config.toml`: the user's defaults for the options most commands share.

    # <config dir>/config.toml   (`ttt-read dirs` prints where that is)
    model = "default"    # checkpoint name or directory, as --model takes it
    device = "cpu"       # auto, cpu or cuda, as --device takes it

    [reading]            # ingest's defaults (ingest --update keeps its parent's)
    lr = 1.0             # --lr
    chunk = 128          # --chunk

Precedence: a command-line option, then the environment (`TTT_READ_MODEL`), then this
file, then the built-in default. A missing file is an empty one; a malformed one, an unknown
key or a value of the wrong type is a usage error naming the file, never silently ignored.
Reading TOML needs Python 3.11's `tomllib` (or the `tomli` package on 3.10): without either,
an existing config.toml is an error rather than a file quietly not obeyed.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError

DEVICES = ("auto", "cpu", "cuda")
_command: dict | None = None  # while a command runs: its settings, once read


@dataclass(frozen=True)
class Settings:
    model: str | None = None
    device: str | None = None
    lr: float | None = None
    chunk: int | None = None
    path: Path | None = None  # the file they came from; None when there is none


def config_path() -> Path:
    from ttt_read.core.dirs import config_dir

    return config_dir() / "config.toml"


def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            return None
    return tomllib


def load(path: Path | None = None) -> Settings:
    """The settings in `path` (default: config.toml in the config directory)."""
    path = config_path() if path is None else Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except IsADirectoryError:
        raise TTTReadError(f"{path}: is a directory, not a config file", ExitCode.USAGE) from None
    except OSError as e:
        raise TTTReadError(f"{path}: cannot read config: {e.strerror}", ExitCode.USAGE) from None
    toml = _toml()
    if toml is None:
        raise TTTReadError(f"{path}: reading config.toml needs Python 3.11 or the tomli package", ExitCode.USAGE)
    try:
        doc = toml.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, toml.TOMLDecodeError) as e:
        raise TTTReadError(f"{path}: not valid TOML: {e}", ExitCode.USAGE) from None
    return _parse(doc, path)


@contextlib.contextmanager
def one_read() -> Iterator[None]:
    """While a command runs, config.toml is read once, when first needed (a command that
    never needs it, such as `dirs`, never fails on a bad file), and every part of the
    command sees the same settings."""
    global _command
    outer, _command = _command, {}
    try:
        yield
    finally:
        _command = outer


def current() -> Settings:
    """The running command's settings (`one_read`); outside a command, config.toml as it is now."""
    if _command is None:
        return load()
    if "settings" not in _command:
        _command["settings"] = load()
    return _command["settings"]


def _parse(doc: dict, path: Path) -> Settings:
    def bad(key: str, expected: str):
        return TTTReadError(f"{path}: {key} must be {expected}", ExitCode.USAGE)

    unknown = sorted(set(doc) - {"model", "device", "reading"})
    reading = doc.get("reading", {})
    if not isinstance(reading, dict):
        raise bad("reading", "a table ([reading])")
    unknown += sorted(f"reading.{k}" for k in set(reading) - {"lr", "chunk"})
    if unknown:
        raise TTTReadError(
            f"{path}: unknown key {unknown[0]!r} (known: model, device, reading.lr, reading.chunk)", ExitCode.USAGE
        )
    model, device = doc.get("model"), doc.get("device")
    lr, chunk = reading.get("lr"), reading.get("chunk")
    if model is not None and (not isinstance(model, str) or not model):
        raise bad("model", "a checkpoint name or directory (a string)")
    if device is not None and device not in DEVICES:
        raise bad("device", "one of " + ", ".join(DEVICES))
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0):
        raise bad("reading.lr", "a finite number >= 0")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise bad("reading.chunk", "an integer >= 1")
    return Settings(model, device, None if lr is None else float(lr), chunk, path)
