"""Finding, loading and saving base checkpoints (config + tokenizer + sharded safetensors).

A checkpoint is a directory: `config.json`, `tokenizer.json`, `model-NNNNN.safetensors`
shards and optionally `MODEL_CARD.md`. Bundled ones ship in the package (`models/`), user
ones live in the data directory. Its identity, recorded in every snapshot, is the sha256
of its shards, so a snapshot can tell when it is used with another base.

An imported checkpoint (`ttt-read models import`, see `hf_import`) is a user directory with
`config.json` and `import.json` only: its weights and tokenizer are read from the original
files, and its identity is the fingerprint taken at import.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read.config import ModelConfig

DEFAULT_MODEL = "default"
SHARD_BYTES = 15 * 2**20  # every shard stays under the repository's 16 MiB per-file limit


def bundled_dir() -> Path:
    return Path(str(resources.files("ttt_read.models")))


def user_dir() -> Path:
    from ttt_read.core.dirs import data_dir

    return data_dir() / "models"


@dataclass(frozen=True)
class CheckpointInfo:
    name: str
    path: Path
    bundled: bool

    @property
    def config(self) -> ModelConfig:
        return ModelConfig.load(self.path / "config.json")

    @property
    def imported(self):
        """The `hf_import.ImportRecord` of an imported checkpoint, else None."""
        from ttt_read.read import hf_import

        return hf_import.ImportRecord.load(self.path) if hf_import.is_imported(self.path) else None

    @property
    def tokenizer_path(self) -> Path:
        record = self.imported
        return record.tokenizer if record else self.path / "tokenizer.json"

    def shards(self) -> list[Path]:
        record = self.imported
        if record:
            return [record.source / name for name in record.files] + ([record.prime] if record.prime else [])
        return sorted(self.path.glob("model-*.safetensors"))

    def sha256(self) -> str:
        record = self.imported
        if record:
            return record.fingerprint
        digest = hashlib.sha256()
        for shard in self.shards():
            with open(shard, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()

    def tokenizer_sha256(self) -> str:
        return hashlib.sha256(self.tokenizer_path.read_bytes()).hexdigest()


def is_checkpoint(path: Path) -> bool:
    from ttt_read.read import hf_import

    return (path / "config.json").is_file() and (any(path.glob("model-*.safetensors")) or hf_import.is_imported(path))


def available() -> list[CheckpointInfo]:
    """Bundled checkpoints first, then the user's, each sorted by name."""
    found = []
    for root, bundled in ((bundled_dir(), True), (user_dir(), False)):
        if root.is_dir():
            found += [CheckpointInfo(p.name, p, bundled) for p in sorted(root.iterdir()) if is_checkpoint(p)]
    return found


def resolve(name_or_path: str | None) -> CheckpointInfo:
    """A checkpoint by directory path or by name (user checkpoints shadow bundled ones).

    None means: $TTT_READ_MODEL, else config.toml's `model`, else the bundled default."""
    if not name_or_path and not os.environ.get("TTT_READ_MODEL"):
        from ttt_read.core import settings

        name_or_path = settings.current().model  # config.toml's default model, if any
    name_or_path = name_or_path or os.environ.get("TTT_READ_MODEL") or DEFAULT_MODEL
    path = Path(os.path.expanduser(name_or_path))  # `~nobody/x` stays as given (Path.expanduser raises)
    if is_checkpoint(path):
        return CheckpointInfo(path.name, path.resolve(), False)
    for info in reversed(available()):
        if info.name == name_or_path:
            return info
    names = ", ".join(sorted({i.name for i in available()})) or "none"
    raise TTTReadError(f"{name_or_path}: no such model (available: {names})", ExitCode.MODEL)


def of_snapshot(metadata: dict, model_name: str | None = None) -> CheckpointInfo:
    """The checkpoint to open a snapshot with: the one asked for, else the one it was read
    with, found by the directory it was read from (a checkpoint given as a path has no name
    to look up) or, for a bundled or moved one, by name."""
    if model_name:
        return resolve(model_name)
    base = metadata.get("base") or {}
    recorded = base.get("path")
    if recorded and is_checkpoint(Path(recorded)):
        return resolve(recorded)
    return resolve(base.get("name"))


def recorded(info: CheckpointInfo) -> dict:
    """How a snapshot names its base checkpoint (see `of_snapshot`)."""
    base = {"name": info.name, "sha256": info.sha256()}
    return base if info.bundled else base | {"path": str(info.path)}


def load(info: CheckpointInfo, device: str = "cpu", dtype=None, settings: dict | None = None):
    """The model (eval mode, weights frozen) and its tokenizer; imported weights in fp32.
    `settings` override config.json fields that keep every weight's shape (`model.keeps_weight_shapes`)."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from ttt_read.read import hf_import
    from ttt_read.read.model import TTTModel
    from ttt_read.text import tokenizer as tok

    with interrupts.watch() as interrupted:
        try:
            cfg = replace(info.config, **(settings or {}))
            record = info.imported
            if record:
                state = hf_import.load_state(record, cfg, device)
            else:
                state = {}
                for shard in info.shards():
                    state.update(load_file(shard, device=str(device)))
            interrupts.point("model-load")
            with torch.device("meta"):
                model = TTTModel(cfg)
            model.load_state_dict(state, assign=True, strict=True)
            tokenizer = tok.load(info.tokenizer_path, end_of_text_id=record.end_of_text_id if record else None)
        except (OSError, ValueError, RuntimeError, KeyError, TypeError, json.JSONDecodeError, SafetensorError) as e:
            if interrupted:  # Ctrl-C inside safetensors/torch surfaces as one of their errors
                raise KeyboardInterrupt from None
            raise TTTReadError(f"{info.path}: broken checkpoint: {_first_line(e)}", ExitCode.MODEL) from e
    if dtype is not None:
        model = model.to(dtype)
    model.eval().requires_grad_(False)
    return model, tokenizer


def save(model, tokenizer, out_dir: Path, card: str | None = None) -> None:
    """Write config, tokenizer and safetensors shards of < 16 MiB each (weights keep their dtype)."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("model-*.safetensors"):
        old.unlink()
    shards, current, size = [], {}, 0
    for name, tensor in model.state_dict().items():
        nbytes = tensor.numel() * tensor.element_size()
        if current and size + nbytes > SHARD_BYTES:
            shards.append(current)
            current, size = {}, 0
        current[name] = tensor.detach().contiguous().cpu()
        size += nbytes
    shards.append(current)
    for i, shard in enumerate(shards):
        save_file(shard, out_dir / f"model-{i + 1:05d}.safetensors")
    (out_dir / "config.json").write_text(model.cfg.to_json())
    tokenizer.save(str(out_dir / "tokenizer.json"))
    if card is not None:
        (out_dir / "MODEL_CARD.md").write_text(card)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
