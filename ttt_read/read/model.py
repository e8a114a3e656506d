"""The TTT-E2E Transformer: sliding-window attention, and fast weights in the suffix blocks.

One forward path serves pretraining, reading and generation. Text always moves through
the blocks as `[batch, n_chunks, chunk_len, d_model]`: the chunks of one call are laid end
to end in the text, each attends to its own buffer of [last W keys + the chunk], and every
layer carries a `KVCache` of the last W keys from call to call. The prefix blocks run many
chunks in parallel; the suffix blocks run one chunk at a time while reading, because each
chunk's fast weights depend on the chunks before it.

Fast weights (the prime MLPs of the suffix blocks, or with `fast_weights="mlp"` their own
MLPs) are passed in explicitly, one tensor per matrix with a leading batch dimension, so
reading can update them functionally and meta-training can differentiate through those
updates.

The config's switches cover imported Llama and Qwen checkpoints with the same code: grouped
key/value heads, q/k/v biases, QK-norm or none, pre-norm only, an untied output head.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch
from torch import nn

from ttt_read import kernels as ops
from ttt_read.read.config import ModelConfig

FastWeights = list[torch.Tensor]  # [w1, w3, w2] per suffix block, each [batch, in, out]


class KVCache(NamedTuple):
    """The last `window` keys (QK-normed, before RoPE) and values of one layer, one per
    key/value head.

    Only the final `length` slots hold real entries; earlier slots are masked out.
    """

    k: torch.Tensor  # [B, KV heads, W, D]
    v: torch.Tensor
    length: int

    def detach(self) -> KVCache:
        return KVCache(self.k.detach(), self.v.detach(), self.length)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return ops.rms_norm(x, self.weight, self.eps)


class SwiGLU(nn.Module):
    """SwiGLU MLP whose weights can be swapped for fast weights at call time."""

    def __init__(self, d_model: int, hidden: int):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(d_model, hidden))
        self.w3 = nn.Parameter(torch.empty(d_model, hidden))
        self.w2 = nn.Parameter(torch.empty(hidden, d_model))

    def forward(self, x, weights: FastWeights | None = None):
        w1, w3, w2 = weights if weights is not None else (self.w1, self.w3, self.w2)
        tokens = x.reshape(x.shape[0], -1, x.shape[-1])  # [B, tokens, d] meets [B, d, h] fast weights
        return ops.swiglu(tokens, w1, w3, w2).view(x.shape)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim, self.window = cfg.n_heads, cfg.kv_heads, cfg.head_dim, cfg.window
        self.rope_theta = cfg.rope_theta
        heads = cfg.n_heads + 2 * cfg.kv_heads
        self.wqkv = nn.Linear(cfg.d_model, heads * cfg.head_dim, bias=cfg.qkv_bias)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.d_model, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps) if cfg.qk_norm else nn.Identity()
        self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps) if cfg.qk_norm else nn.Identity()

    def _qkv(self, x: torch.Tensor):
        """Queries [B, H, n*c, D], keys and values [B, KV, n*c, D]; QK-normed, before RoPE."""
        B, n, c, _ = x.shape
        H, KV = self.n_heads, self.n_kv_heads
        qkv = self.wqkv(x).view(B, n * c, H + 2 * KV, self.head_dim).transpose(1, 2)
        q, k, v = qkv.split([H, KV, KV], dim=1)
        return self.q_norm(q), self.k_norm(k), v

    def _share_kv(self, t: torch.Tensor) -> torch.Tensor:
        """Grouped-query attention: key/value head j serves the next H/KV query heads."""
        groups = self.n_heads // self.n_kv_heads
        return t if groups == 1 else t.repeat_interleave(groups, dim=1)

    def forward(self, x: torch.Tensor, cache: KVCache | None, valid: int) -> tuple[torch.Tensor, KVCache | None]:
        """x: [B, n, c, d]; the first `valid` tokens of the call are real, the rest padding.

        With `cache=None` the call is the full-attention baseline instead: plain causal
        attention over all of x, no window (what `bench` compares reading against).
        """
        if cache is None:
            return self._full_causal(x), None
        B, n, c, _ = x.shape
        H, D, W = self.n_heads, self.head_dim, self.window
        q, k, v = self._qkv(x)
        # The cache joins in k's dtype (bf16 under autocast), so attention never runs in fp32.
        keys = torch.cat([cache.k.to(k.dtype), k], dim=2)  # [B, KV, W + n*c, D]
        values = torch.cat([cache.v.to(v.dtype), v], dim=2)
        # Each chunk's buffer: the W slots before it plus itself, positions 0..W+c-1.
        k_buf = keys.unfold(2, W + c, c).transpose(-1, -2)  # [B, KV, n, W + c, D]
        v_buf = self._share_kv(values.unfold(2, W + c, c).transpose(-1, -2))  # [B, H, n, W + c, D]
        k_buf = self._share_kv(ops.rope(k_buf, 0, self.rope_theta))
        q = ops.rope(q.reshape(B, H, n, c, D), W, self.rope_theta)
        out = ops.cached_window_attention(q, k_buf, v_buf, cache.length)  # [B, H, n, c, D]
        out = out.permute(0, 2, 3, 1, 4).reshape(B, n, c, H * D)
        new_cache = KVCache(
            keys[:, :, valid : valid + W], values[:, :, valid : valid + W], min(W, cache.length + valid)
        )
        return self.wo(out), new_cache

    def _full_causal(self, x: torch.Tensor) -> torch.Tensor:
        B, n, c, _ = x.shape
        q, k, v = self._qkv(x)
        q, k = ops.rope(q, 0, self.rope_theta), ops.rope(k, 0, self.rope_theta)
        k, v = self._share_kv(k), self._share_kv(v)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(B, n, c, -1))


class Block(nn.Module):
    """`x + PostNorm(F(PreNorm(x)))` around attention, the prime MLP (suffix only) and the MLP;
    without `post_norm`, `x + F(PreNorm(x))`. A suffix block's fast weights replace its prime
    MLP's weights, or its own MLP's when the model has no prime MLPs."""

    def __init__(self, cfg: ModelConfig, is_suffix: bool):
        super().__init__()
        eps = cfg.norm_eps

        def post_norm():
            return RMSNorm(cfg.d_model, eps) if cfg.post_norm else nn.Identity()

        self.attn_in, self.attn, self.attn_out = RMSNorm(cfg.d_model, eps), Attention(cfg), post_norm()
        if is_suffix and cfg.fast_weights == "prime":
            self.prime_in = RMSNorm(cfg.d_model, eps)
            self.prime = SwiGLU(cfg.d_model, cfg.prime_hidden)
            self.prime_out = post_norm()
        else:
            self.prime = None
        self.mlp_in, self.mlp, self.mlp_out = (
            RMSNorm(cfg.d_model, eps),
            SwiGLU(cfg.d_model, cfg.mlp_hidden),
            post_norm(),
        )

    @property
    def fast_mlp(self) -> SwiGLU:
        """The MLP whose weights are the fast weights when this block is a suffix block."""
        return self.prime if self.prime is not None else self.mlp

    def forward(self, x, cache: KVCache, valid: int, fast: FastWeights | None = None):
        a, cache = self.attn(self.attn_in(x), cache, valid)
        x = x + self.attn_out(a)
        if self.prime is not None:
            x = x + self.prime_out(self.prime(self.prime_in(x), fast))
        x = x + self.mlp_out(self.mlp(self.mlp_in(x), fast if self.prime is None else None))
        return x, cache


class TTTModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        n_prefix = cfg.n_layers - cfg.n_suffix
        self.blocks = nn.ModuleList(Block(cfg, is_suffix=i >= n_prefix) for i in range(cfg.n_layers))
        self.final_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.head = None if cfg.tied_head else nn.Parameter(torch.empty(cfg.vocab_size, cfg.d_model))
        for p in self.parameters():
            if p.dim() >= 2:  # matrices and the embedding; norm gains stay at one
                nn.init.normal_(p, std=0.02)

    @property
    def prefix(self) -> list[Block]:
        return list(self.blocks[: self.cfg.n_layers - self.cfg.n_suffix])

    @property
    def suffix(self) -> list[Block]:
        return list(self.blocks[self.cfg.n_layers - self.cfg.n_suffix :])

    def initial_fast_weights(self, batch: int) -> FastWeights:
        """W_0, the meta-learned starting point of the fast weights, one copy per sequence."""
        mlps = [b.fast_mlp for b in self.suffix]
        return [w.unsqueeze(0).expand(batch, *w.shape) for m in mlps for w in (m.w1, m.w3, m.w2)]

    def empty_caches(self, batch: int, n_layers: int, device=None, dtype=None) -> list[KVCache]:
        cfg = self.cfg
        device = device or self.embed.weight.device
        dtype = dtype or self.embed.weight.dtype
        zeros = torch.zeros(batch, cfg.kv_heads, cfg.window, cfg.head_dim, device=device, dtype=dtype)
        return [KVCache(zeros, zeros, 0) for _ in range(n_layers)]

    def run_prefix(self, tokens: torch.Tensor, caches: list[KVCache], valid: int):
        """Embed tokens [B, n, c] and run the prefix blocks, which never change while reading."""
        x = self.embed(tokens)
        new_caches = []
        for block, cache in zip(self.prefix, caches):
            x, cache = block(x, cache, valid)
            new_caches.append(cache)
        return x, new_caches

    def run_suffix(self, x: torch.Tensor, caches: list[KVCache], valid: int, fast: FastWeights):
        new_caches = []
        for i, (block, cache) in enumerate(zip(self.suffix, caches)):
            x, cache = block(x, cache, valid, fast[3 * i : 3 * i + 3])
            new_caches.append(cache)
        return self.final_norm(x), new_caches

    @property
    def output_weight(self) -> torch.Tensor:
        """[vocab, d]: the untied head, else the embedding."""
        return self.embed.weight if self.head is None else self.head

    def token_losses(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-token next-token cross-entropy (fp32); targets of -100 are ignored."""
        return ops.linear_cross_entropy(h, self.output_weight, targets)

    def full_attention_hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """Final hidden states [B, T, d] of the same weights with full causal attention and
        the initial fast weights: the full-attention baseline that reading is compared to."""
        x = self.embed(tokens).unsqueeze(1)
        fast = self.initial_fast_weights(tokens.shape[0])
        for i, block in enumerate(self.blocks):
            j = i - (self.cfg.n_layers - self.cfg.n_suffix)
            x, _ = block(x, None, tokens.shape[1], fast[3 * j : 3 * j + 3] if j >= 0 else None)
        return self.final_norm(x)[:, 0]

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return h.float() @ self.output_weight.float().t()


def keeps_weight_shapes(cfg: ModelConfig, settings: dict) -> bool:
    """Whether a model built with `cfg` changed by `settings` has the same weights, each of
    the same shape: then a checkpoint's weights can go on training under them (meta-training
    a pretrained model at another update size b, say)."""

    def shapes(c: ModelConfig) -> dict:
        with torch.device("meta"):
            return {k: v.shape for k, v in TTTModel(c).state_dict().items()}

    return shapes(dataclasses.replace(cfg, **settings)) == shapes(cfg)
