"""The TTT-E2E Transformer: sliding-window attention, and fast weights in the suffix blocks.

One forward path serves pretraining, reading and generation. Text always moves through
the blocks as `[batch, n_chunks, chunk_len, d_model]`: the chunks of one call are laid end
to end in the text, each attends to its own buffer of [last W keys + the chunk], and every
layer carries a `KVCache` of the last W keys from call to call. The prefix blocks run many
chunks in parallel; the suffix blocks run one chunk at a time while reading, because each
chunk's fast weights depend on the chunks before it.

Fast weights (the prime MLPs of the suffix blocks) are passed in explicitly, one tensor
per matrix with a leading batch dimension, so reading can update them functionally and
meta-training can differentiate through those updates.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ttt_read import kernels as ops
from ttt_read.config import ModelConfig

FastWeights = list[torch.Tensor]  # [w1, w3, w2] per suffix block, each [batch, in, out]


class KVCache(NamedTuple):
    """The last `window` keys (QK-normed, before RoPE) and values of one layer.

    Only the final `length` slots hold real entries; earlier slots are masked out.
    """

    k: torch.Tensor  # [B, H, W, D]
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
        self.n_heads, self.head_dim, self.window = cfg.n_heads, cfg.head_dim, cfg.window
        self.rope_theta = cfg.rope_theta
        self.wqkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.wo = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)

    def _qkv(self, x: torch.Tensor):
        B, n, c, _ = x.shape
        q, k, v = self.wqkv(x).view(B, n * c, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return self.q_norm(q), self.k_norm(k), v  # [B, H, n*c, D]; keys QK-normed, before RoPE

    def forward(self, x: torch.Tensor, cache: KVCache | None, valid: int) -> tuple[torch.Tensor, KVCache | None]:
        """x: [B, n, c, d]; the first `valid` tokens of the call are real, the rest padding.

        With `cache=None` the call is the full-attention baseline instead: plain causal
        attention over all of x, no window (what `bench` compares reading against).
        """
        if cache is None:
            return self._full_causal(x), None
        B, n, c, d = x.shape
        H, D, W = self.n_heads, self.head_dim, self.window
        q, k, v = self._qkv(x)
        # The cache joins in k's dtype (bf16 under autocast), so attention never runs in fp32.
        keys = torch.cat([cache.k.to(k.dtype), k], dim=2)  # [B, H, W + n*c, D]
        values = torch.cat([cache.v.to(v.dtype), v], dim=2)
        # Each chunk's buffer: the W slots before it plus itself, positions 0..W+c-1.
        k_buf = keys.unfold(2, W + c, c).transpose(-1, -2)  # [B, H, n, W + c, D]
        v_buf = values.unfold(2, W + c, c).transpose(-1, -2)
        positions = torch.arange(W + c, device=x.device)
        k_buf = ops.rope(k_buf, positions, self.rope_theta)
        q = ops.rope(q.reshape(B, H, n, c, D), positions[W:], self.rope_theta)
        out = ops.cached_window_attention(q, k_buf, v_buf, cache.length)  # [B, H, n, c, D]
        out = out.permute(0, 2, 3, 1, 4).reshape(B, n, c, d)
        new_cache = KVCache(
            keys[:, :, valid : valid + W], values[:, :, valid : valid + W], min(W, cache.length + valid)
        )
        return self.wo(out), new_cache

    def _full_causal(self, x: torch.Tensor) -> torch.Tensor:
        B, n, c, d = x.shape
        q, k, v = self._qkv(x)
        positions = torch.arange(n * c, device=x.device)
        q, k = ops.rope(q, positions, self.rope_theta), ops.rope(k, positions, self.rope_theta)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(B, n, c, d))


class Block(nn.Module):
    """`x + PostNorm(F(PreNorm(x)))` around attention, the prime MLP (suffix only) and the MLP."""

    def __init__(self, cfg: ModelConfig, has_prime: bool):
        super().__init__()
        eps = cfg.norm_eps
        self.attn_in, self.attn, self.attn_out = RMSNorm(cfg.d_model, eps), Attention(cfg), RMSNorm(cfg.d_model, eps)
        if has_prime:
            self.prime_in = RMSNorm(cfg.d_model, eps)
            self.prime = SwiGLU(cfg.d_model, cfg.prime_hidden)
            self.prime_out = RMSNorm(cfg.d_model, eps)
        else:
            self.prime = None
        self.mlp_in, self.mlp, self.mlp_out = (
            RMSNorm(cfg.d_model, eps),
            SwiGLU(cfg.d_model, cfg.mlp_hidden),
            RMSNorm(cfg.d_model, eps),
        )

    def forward(self, x, cache: KVCache, valid: int, fast: FastWeights | None = None):
        a, cache = self.attn(self.attn_in(x), cache, valid)
        x = x + self.attn_out(a)
        if self.prime is not None:
            x = x + self.prime_out(self.prime(self.prime_in(x), fast))
        x = x + self.mlp_out(self.mlp(self.mlp_in(x)))
        return x, cache


class TTTModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        n_prefix = cfg.n_layers - cfg.n_suffix
        self.blocks = nn.ModuleList(Block(cfg, has_prime=i >= n_prefix) for i in range(cfg.n_layers))
        self.final_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
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
        return [w.unsqueeze(0).expand(batch, *w.shape) for b in self.suffix for w in (b.prime.w1, b.prime.w3, b.prime.w2)]

    def empty_caches(self, batch: int, n_layers: int, device=None, dtype=None) -> list[KVCache]:
        cfg = self.cfg
        device = device or self.embed.weight.device
        dtype = dtype or self.embed.weight.dtype
        zeros = torch.zeros(batch, cfg.n_heads, cfg.window, cfg.head_dim, device=device, dtype=dtype)
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

    def token_losses(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-token next-token cross-entropy (fp32); targets of -100 are ignored."""
        return ops.linear_cross_entropy(h, self.embed.weight, targets)

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
        return h.float() @ self.embed.weight.float().t()
