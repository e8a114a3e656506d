"""Model configuration: a plain dataclass stored as `config.json` beside the weights.

Kept free of torch so that commands which only read metadata stay instant.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    d_model: int = 256
    n_layers: int = 8
    n_heads: int = 4
    mlp_hidden: int = 640
    prime_hidden: int = 512
    n_suffix: int = 2  # the last quarter of the blocks carry a prime MLP (the fast weights)
    window: int = 512  # W: how far back attention sees
    chunk: int = 256  # b: tokens per reading update
    rope_theta: float = 500_000.0
    norm_eps: float = 1e-6
    inner_lr: float = 1.0  # reading learning rate the checkpoint was meta-trained for

    def __post_init__(self):
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError("d_model must split into n_heads heads of even size")
        if not 0 < self.n_suffix <= self.n_layers:
            raise ValueError("n_suffix must be between 1 and n_layers")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls(**json.loads(text))

    @classmethod
    def load(cls, path: Path) -> ModelConfig:
        return cls.from_json(Path(path).read_text())
