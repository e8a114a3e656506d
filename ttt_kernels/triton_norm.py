"""RMSNorm over the last dimension in Triton, statistics in fp32.

The forward saves 1/rms per row so the backward reads x once. The weight gradient is
reduced per program into a small [programs, d] buffer and summed in torch, which keeps
it deterministic (no atomics). Under `create_graph` (meta-training) the backward runs the
same formulas in differentiable torch ops instead.
"""

import torch
import triton
import triton.language as tl

from .triton_common import accumulator, compute_dtype, interpreting, max_programs


@triton.jit
def _rms_fwd(X, WEIGHT, Y, RSTD, rows, d, eps, BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, ACC: tl.constexpr):
    r = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)  # int64 offsets past 2^31 elements
    c = tl.arange(0, BLOCK_D)
    mask = (r[:, None] < rows) & (c[None, :] < d)
    x = tl.load(X + r[:, None] * d + c[None, :], mask=mask, other=0).to(ACC)
    rstd = tl.rsqrt(tl.sum(x * x, 1) / d + eps)
    w = tl.load(WEIGHT + c, mask=c < d, other=0).to(ACC)
    tl.store(Y + r[:, None] * d + c[None, :], (x * rstd[:, None] * w[None, :]).to(Y.dtype.element_ty), mask=mask)
    tl.store(RSTD + r, rstd, mask=r < rows)


@triton.jit
def _rms_bwd(
    X, WEIGHT, DY, RSTD, DX, DW_PARTIAL, rows, d, BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, ACC: tl.constexpr
):
    """Grid-stride over row blocks; dx = rstd (dy w - x_hat mean(dy w x_hat)), dw = sum dy x_hat."""
    c = tl.arange(0, BLOCK_D)
    w = tl.load(WEIGHT + c, mask=c < d, other=0).to(ACC)
    dw = tl.zeros([BLOCK_D], ACC)
    for start in range(tl.program_id(0) * BLOCK_R, rows, tl.num_programs(0) * BLOCK_R):
        r = start + tl.arange(0, BLOCK_R)
        mask = (r[:, None] < rows) & (c[None, :] < d)
        offs = r.to(tl.int64)[:, None] * d + c[None, :]
        x_hat = tl.load(X + offs, mask=mask, other=0).to(ACC)
        rstd = tl.load(RSTD + r, mask=r < rows, other=0)
        x_hat = x_hat * rstd[:, None]
        dy = tl.load(DY + offs, mask=mask, other=0).to(ACC)
        dyw = dy * w[None, :]
        dx = rstd[:, None] * (dyw - x_hat * (tl.sum(dyw * x_hat, 1) / d)[:, None])
        tl.store(DX + offs, dx.to(DX.dtype.element_ty), mask=mask)
        dw += tl.sum(dy * x_hat, 0)
    tl.store(DW_PARTIAL + tl.program_id(0) * d + c, dw, mask=c < d)


def _meta(x: torch.Tensor) -> dict:
    """Block sizes: about 4K elements per program on a GPU, 16 rows interpreted."""
    block_d = triton.next_power_of_2(x.shape[-1])
    rows = 16 if interpreting() else max(1, min(64, 4096 // block_d))
    return dict(BLOCK_R=rows, BLOCK_D=block_d, ACC=accumulator(x.dtype))


def _torch_backward(x, weight, dy, eps):
    """The same gradients in differentiable torch ops, for double backward."""
    dtype = compute_dtype(x.dtype)
    xf, w, dy = x.to(dtype), weight.to(dtype), dy.to(dtype)
    rstd = torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    x_hat = xf * rstd
    dyw = dy * w
    dx = rstd * (dyw - x_hat * (dyw * x_hat).mean(-1, keepdim=True))
    dw = (dy * x_hat).reshape(-1, x.shape[-1]).sum(0)
    return dx.to(x.dtype), dw.to(weight.dtype)


class _RMSNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        y = torch.empty_like(x2)
        rstd = torch.empty(x2.shape[0], device=x.device, dtype=compute_dtype(x.dtype))
        meta = _meta(x)
        _rms_fwd[(triton.cdiv(x2.shape[0], meta["BLOCK_R"]),)](x2, weight, y, rstd, *x2.shape, eps, **meta)
        ctx.save_for_backward(x, weight, rstd)
        ctx.eps = eps
        return y.view(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x, weight, rstd = ctx.saved_tensors
        if torch.is_grad_enabled():
            return (*_torch_backward(x, weight, dy, ctx.eps), None)
        x2, dy2 = (t.reshape(-1, x.shape[-1]).contiguous() for t in (x, dy))
        meta = _meta(x)
        programs = min(triton.cdiv(x2.shape[0], meta["BLOCK_R"]), max_programs(x.device))
        dx = torch.empty_like(x2)
        dw = torch.empty(programs, x2.shape[1], device=x.device, dtype=rstd.dtype)
        _rms_bwd[(programs,)](x2, weight, dy2, rstd, dx, dw, *x2.shape, **meta)
        return dx.view(x.shape), dw.sum(0).to(weight.dtype), None


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Drop-in for `reference.rms_norm`; weight is [d]."""
    return _RMSNorm.apply(x, weight, eps)
