"""The base models `--model` can name: the checkpoints at hand, the importable ones in the
local Hugging Face cache, and registering a local checkpoint as one (`models import`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import checkpoint, hf_cache, hf_import
from ttt_read.read.config import FAST_WEIGHT_KINDS
from ttt_read.read.names import SUFFIX, is_name


def default() -> dict:
    """The checkpoint a command reads with when none is named: its name, path and sha256."""
    info = checkpoint.resolve(None)
    return {"name": info.name, "path": str(info.path), "sha256": info.sha256()}


def listing() -> dict:
    """`models`: the checkpoints at hand, and the models in the local Hugging Face cache that
    `import_model` takes."""
    return {"models": installed(), "huggingface_cache": importable()}


def installed() -> list[dict]:
    """The bundled, user and imported checkpoints, with where their weights are and their size."""
    entries = []
    for info in checkpoint.available():
        record = info.imported
        size = record.weight_bytes if record else sum(s.stat().st_size for s in info.shards())
        entries.append(
            {
                "name": info.name,
                "path": str(record.source if record else info.path),
                "bundled": info.bundled,
                "kind": "bundled" if info.bundled else "imported" if record else "user",
                "parameters_mib": round(size / 2**20, 1),
            }
        )
    return entries


def importable() -> list[dict]:
    return [{"repo": m.repo, "path": str(m.path), "architecture": m.architecture} for m in hf_cache.supported_models()]


def import_model(
    source: str,
    name: str | None = None,
    *,
    window: int | None = None,
    chunk: int | None = None,
    fast_weights: str | None = None,
    lr: float | None = None,
    force: bool = False,
) -> dict:
    """Register the checkpoint in directory `source` (or ORG/NAME in the Hugging Face cache)
    as NAME under the user checkpoints, replacing one of that name with `force`; nothing is
    copied. The settings left None take `hf_import`'s defaults. Returns what was imported."""
    path = _source_dir(source)
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
    return {
        "name": name,
        "path": str(out_dir),
        "source": str(record.source),
        "architecture": record.architecture,
        "fingerprint": record.fingerprint,
    }


def _source_dir(source: str) -> Path:
    """A directory as given, else ORG/NAME looked up in the local Hugging Face cache."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    found = hf_cache.locate(source) if "/" in source and not source.startswith((".", "/", "~")) else None
    if found is None:
        raise TTTReadError(f"{source}: no such directory, nor a model in the local Hugging Face cache", ExitCode.INPUT)
    return found
