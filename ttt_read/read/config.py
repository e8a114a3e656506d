"""Model configuration: a plain dataclass stored as `config.json` beside the weights.

Kept free of torch so that commands which only read metadata stay instant. The fields after
`inner_lr` are the switches imported checkpoints need; their defaults are the bundled
architecture, so older `config.json` files load unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

FAST_WEIGHT_KINDS = ("prime", "mlp")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    d_model: int = 256
    n_layers: int = 8
    n_heads: int = 4
    mlp_hidden: int = 640
    prime_hidden: int = 512
    n_suffix: int = 2  # the last quarter of the blocks carry the fast weights
    window: int = 512  # W: how far back attention sees
    chunk: int = 256  # b: tokens per reading update
    rope_theta: float = 500_000.0
    norm_eps: float = 1e-6
    inner_lr: float = 1.0  # reading learning rate the checkpoint was meta-trained for
    n_kv_heads: int | None = None  # grouped-query attention; None: one key/value head per query head
    head_size: int | None = None  # None: d_model // n_heads
    qkv_bias: bool = False
    qk_norm: bool = True  # RMSNorm on each query and key head before RoPE
    post_norm: bool = True  # also normalise each sublayer's output (False: pre-norm only)
    tied_head: bool = True  # the output head is the embedding matrix
    fast_weights: str = "prime"  # "prime": extra prime MLPs; "mlp": the suffix blocks' own MLPs

    def __post_init__(self):
        if self.head_size is None and (self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2):
            raise ValueError("d_model must split into n_heads heads of even size")
        if self.head_dim % 2:
            raise ValueError("head_size must be even")
        if self.n_heads % self.kv_heads:
            raise ValueError("n_heads must be a multiple of n_kv_heads")
        if not 0 < self.n_suffix <= self.n_layers:
            raise ValueError("n_suffix must be between 1 and n_layers")
        if self.fast_weights not in FAST_WEIGHT_KINDS:
            raise ValueError(f"fast_weights must be one of {', '.join(FAST_WEIGHT_KINDS)}")

    @property
    def head_dim(self) -> int:
        return self.head_size or self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls(**json.loads(text))

    @classmethod
    def load(cls, path: Path) -> ModelConfig:
        return cls.from_json(Path(path).read_text())
