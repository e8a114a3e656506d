"""A training run's settings, kept free of torch so that `ttt-read train run --help` reads
its defaults from here without loading a model."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError


@dataclasses.dataclass
class TrainConfig:
    corpus: str  # a directory written by `ttt-read train corpus`
    mode: str = "pretrain"  # "pretrain" or "meta"
    model: dict = dataclasses.field(
        default_factory=dict
    )  # ModelConfig fields (vocab from the tokenizer), or with init: over its config
    init: str | None = None  # checkpoint directory to start from (meta-train a pretrained model)
    seq_len: int = 4096
    batch: int = 4
    steps: int = 1000
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    inner_lr: float | None = None  # reading lr to meta-train for; None keeps --init's (or 1.0); exported in config.json
    inner_lr_warmup: float = 0.1  # fraction of steps over which the inner lr grows from 0.1x to 1x; 0 for none
    qa_fraction: float = 0.0  # share of sequences that end in QA turns about the text before them
    qa_budget: int = 384  # most tokens of QA turns appended to such a sequence
    qa_grounded: float = 0.0  # share of QA turns preceded by their notepad passages, as `ask` lays them out
    qa_mixed: float = 0.0  # share of QA sequences opening with another document's text, which plain turns ask about
    answer_weight: float = 1.0  # loss weight of an answer token relative to a text token
    seed: int = 0
    save_every: int = 50
    log_every: int = 10

    def __post_init__(self):
        if self.mode not in ("pretrain", "meta"):
            raise ValueError(f"mode must be 'pretrain' or 'meta', not {self.mode!r}")

    def learning_rate(self, step: int) -> float:
        """Linear warmup, then cosine decay to `min_lr_ratio * lr`."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))

    def inner_learning_rate(self, step: int, target: float) -> float:
        """Warm the reading lr up from 0.1x to `target` (a run that continues a meta-trained
        checkpoint passes `inner_lr_warmup=0`: its fast weights already learn at `target`)."""
        if self.inner_lr_warmup <= 0:
            return target
        ramp = min(1.0, step / (self.inner_lr_warmup * self.steps))
        return target * (0.1 + 0.9 * ramp)


def run_config(run_dir: Path, options: dict) -> TrainConfig | None:
    """A new run's settings from `train run`'s options (those named as `TrainConfig`'s fields,
    and `model_config`); None for a run that exists: it resumes with its own."""
    if (run_dir / "train.json").exists():
        return None
    if options["corpus"] is None:
        raise TTTReadError(f"{run_dir}: a new run needs --corpus", ExitCode.USAGE)
    if options["init"] and options["model_config"]:
        check_retrainable(options["init"], options["model_config"])
    given = {f.name: options[f.name] for f in dataclasses.fields(TrainConfig) if f.name in options}
    return TrainConfig(**given | {"corpus": str(options["corpus"]), "model": options["model_config"] or {}})


def check_retrainable(init: str, settings: dict) -> None:
    """--model-config over --init may change how the weights are used, not their shapes."""
    from ttt_read.read import checkpoint
    from ttt_read.read.model import keeps_weight_shapes

    try:
        keeps = keeps_weight_shapes(checkpoint.resolve(init).config, settings)
    except (TypeError, ValueError) as e:
        raise TTTReadError(f"--model-config: not valid for --init {init}: {e}", ExitCode.USAGE) from None
    if not keeps:
        raise TTTReadError(
            f"--model-config: {', '.join(settings)} would change the shapes of --init {init}'s weights "
            "(only settings such as chunk and window can change)",
            ExitCode.USAGE,
        )
