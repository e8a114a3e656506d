"""PyTorch reference implementations of the ops the reading loop spends its time in.

These are the ground truth: the Triton kernels beside them are tested against them, the
CPU path runs them directly, and they are written in plain differentiable torch ops so
meta-training can take gradients of gradients through every one of them.

Shapes follow the model: weights are stored `[in, out]` and may carry a leading batch
dimension (one set of fast weights per sequence), so `x @ w` works for both.
"""

import functools

import torch
import torch.nn.functional as F


def _wide(x: torch.Tensor) -> torch.Tensor:
    """fp32 for 16- and 32-bit inputs; fp64 stays fp64 (the gradient checks run there)."""
    return x if x.dtype == torch.float64 else x.float()


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm computed in fp32 whatever the input dtype."""
    xf = _wide(x)
    y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return (y * _wide(weight)).to(x.dtype)


def swiglu(x: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """`w2(silu(x w1) * (x w3))`."""
    return (F.silu(x @ w1) * (x @ w3)) @ w2


@functools.lru_cache(maxsize=32)
def _rope_table(end: int, half: int, theta: float, device: torch.device, dtype: torch.dtype):
    """cos and sin of the angles of positions 0..end-1, made once per shape: reading calls
    rope twice per layer and chunk, decoding per layer and token, always at these positions.
    Angles in the wide dtype: in fp32 they carry an error that grows with the position, so
    the same relative offset would rotate differently at different absolute positions."""
    freqs = theta ** (-torch.arange(half, device=device, dtype=torch.float32) / half)
    angles = torch.arange(end, device=device).to(dtype)[:, None] * freqs.to(dtype)[None, :]
    return angles.cos(), angles.sin()


def rope(x: torch.Tensor, start: int, theta: float) -> torch.Tensor:
    """Rotary embedding over the last dimension (rotate-half layout), the positions along
    the second-to-last one counting from `start`."""
    half, n = x.shape[-1] // 2, x.shape[-2]
    xf = _wide(x)
    cos, sin = (t[start:] for t in _rope_table(start + n, half, theta, x.device, xf.dtype))
    x1, x2 = xf[..., :half], xf[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


def window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Attention of each chunk's queries over that chunk's key buffer.

    q: [B, H, n, c, D] (RoPE applied); k, v: [B, H, n, W + c, D]; mask: bool, broadcastable
    to [B, H, n, c, W + c], True where a query may look. Every query sees at least itself,
    so no row is fully masked. Softmax in fp32.
    """
    scale = q.shape[-1] ** -0.5
    scores = (_wide(q) @ _wide(k).transpose(-1, -2)) * scale
    scores = scores.masked_fill(~mask, float("-inf"))
    return (scores.softmax(dim=-1) @ _wide(v)).to(q.dtype)


def linear_cross_entropy(
    h: torch.Tensor, embedding: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """Per-token next-token loss through the tied embedding, logits in fp32.

    h: [..., d]; embedding: [V, d]; targets: [...]. Ignored positions get loss 0.
    """
    logits = _wide(h) @ _wide(embedding).t()
    flat = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        targets.reshape(-1),
        ignore_index=ignore_index,
        reduction="none",
    )
    return flat.view(targets.shape)


def clipped_sgd(weights: list[torch.Tensor], grads: list[torch.Tensor], lr: float | torch.Tensor) -> list[torch.Tensor]:
    """One inner step `W - lr * g * min(1, 1/||g||)` with the norm taken per sequence.

    Every tensor has a leading batch dimension; ||g|| is the global L2 norm over all fast
    weights of one sequence. Written without host syncs so it can be graph-captured, and
    differentiable (through the clip factor too) for meta-training.
    """
    squares = sum(_wide(g).pow(2).flatten(1).sum(1) for g in grads)
    scale = lr * torch.clamp(squares.sqrt().clamp_min(1e-12).reciprocal(), max=1.0)
    return [w - (scale.view(-1, *[1] * (g.dim() - 1)) * _wide(g)).to(w.dtype) for w, g in zip(weights, grads)]
