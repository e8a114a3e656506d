"""The clipped-SGD step of all fast weights at once, in Triton, without host syncs.

All gradients (and all weights) are laid side by side in one [B, total] buffer so two
launches cover every fast weight: one writes per-program partial sums of squares, the
next re-adds a sequence's partials (deterministic, no atomics), scales by
`lr * min(1, 1/||g||)` and writes the new weights. The backward, needed only by
meta-training, is written in differentiable torch ops, so it also supports double backward.
"""

import torch
import triton
import triton.language as tl

from .triton_common import accumulator, compute_dtype, interpreting, max_programs


@triton.jit
def _sum_squares(G, PARTIAL, total, BLOCK: tl.constexpr, ACC: tl.constexpr):
    """Grid (programs, B): program p of sequence b sums g^2 over a grid-stride set of blocks."""
    b = tl.program_id(1).to(tl.int64)  # b * total passes 2^31 for a large batch of fast weights
    acc = tl.zeros([BLOCK], ACC)
    for start in range(tl.program_id(0) * BLOCK, total, tl.num_programs(0) * BLOCK):
        offs = start + tl.arange(0, BLOCK)
        g = tl.load(G + b * total + offs, mask=offs < total, other=0).to(ACC)
        acc += g * g
    tl.store(PARTIAL + b * tl.num_programs(0) + tl.program_id(0), tl.sum(acc, 0))


@triton.jit
def _update(W, G, LR, PARTIAL, OUT, total, n_partial, BLOCK: tl.constexpr, BLOCK_P: tl.constexpr, ACC: tl.constexpr):
    """Grid (blocks, B): re-add sequence b's partial sums, then `w - lr * min(1, 1/||g||) * g`."""
    b = tl.program_id(1).to(tl.int64)
    p = tl.arange(0, BLOCK_P)
    norm = tl.sqrt(tl.sum(tl.load(PARTIAL + b * n_partial + p, mask=p < n_partial, other=0), 0))
    scale = tl.load(LR + b) * tl.minimum(1.0, 1.0 / tl.maximum(norm, 1e-12))
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    w = tl.load(W + b * total + offs, mask=offs < total)
    g = tl.load(G + b * total + offs, mask=offs < total).to(ACC)
    tl.store(OUT + b * total + offs, w - (scale * g).to(w.dtype), mask=offs < total)


def _per_seq(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[B] values shaped to broadcast against a [B, ...] tensor."""
    return x.view(-1, *[1] * (like.dim() - 1))


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(t.shape[0], -1) for t in tensors], dim=1)


def _step(weights, grads, lr: torch.Tensor) -> torch.Tensor:
    """[B, total] new weights from the flattened weights and gradients."""
    w, g = _flat(weights), _flat(grads)
    B, total = g.shape
    block = 256 if interpreting() else 2048
    programs = min(triton.cdiv(total, block), max_programs(g.device))
    partial = torch.empty(B, programs, device=g.device, dtype=lr.dtype)
    _sum_squares[(programs, B)](g, partial, total, BLOCK=block, ACC=accumulator(lr.dtype))
    out = torch.empty_like(w)
    _update[(triton.cdiv(total, block), B)](
        w, g, lr, partial, out, total, programs,
        BLOCK=block, BLOCK_P=triton.next_power_of_2(programs), ACC=accumulator(lr.dtype),
    )  # fmt: skip
    return out


class _ClippedSGD(torch.autograd.Function):
    """Inputs: lr [B] in the gradients' compute dtype, the weights, the gradients. Outputs: new weights."""

    @staticmethod
    def forward(ctx, lr, *tensors):
        n = len(tensors) // 2
        weights, grads = tensors[:n], tensors[n:]
        ctx.save_for_backward(lr, *grads)
        sizes = [w[0].numel() for w in weights]
        return tuple(part.view(w.shape) for part, w in zip(_step(weights, grads, lr).split(sizes, 1), weights))

    @staticmethod
    def backward(ctx, *d_new):
        """d w = d new; d g = -scale d new + lr [||g|| > 1] <d new, g> / ||g||^3 g; d lr = -clip <d new, g>."""
        lr, *grads = ctx.saved_tensors
        gf = [g.to(lr.dtype) for g in grads]
        norm = torch.sqrt(sum(g.pow(2).flatten(1).sum(1) for g in gf))
        clip = torch.clamp(norm.clamp_min(1e-12).reciprocal(), max=1.0)
        inner = sum((d.to(lr.dtype) * g).flatten(1).sum(1) for d, g in zip(d_new, gf))
        coef = torch.where(norm > 1, lr * inner / norm.pow(3), 0)
        d_grads = [
            (_per_seq(coef, g) * g - _per_seq(lr * clip, g) * d.to(lr.dtype)).to(g0.dtype)
            for d, g, g0 in zip(d_new, gf, grads)
        ]
        return -(clip * inner), *d_new, *d_grads


def clipped_sgd(weights: list[torch.Tensor], grads: list[torch.Tensor], lr: float | torch.Tensor) -> list[torch.Tensor]:
    """Drop-in for `reference.clipped_sgd`; all weights share one dtype. lr: float, scalar or [B]."""
    B, dtype = grads[0].shape[0], compute_dtype(grads[0].dtype)
    if isinstance(lr, torch.Tensor):
        lr_b = lr.to(dtype).expand(B)
    else:  # a fill kernel, not a host-to-device copy, so graph capture stays possible
        lr_b = torch.full((B,), lr, device=grads[0].device, dtype=dtype)
    return list(_ClippedSGD.apply(lr_b.contiguous(), *weights, *grads))
