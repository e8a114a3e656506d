"""The SwiGLU activation `silu(a) * b` as one Triton pass each way; the matmuls stay in torch.

Fusing saves the intermediate silu(a) and two launches per direction. The backward
recomputes the sigmoid from a instead of saving it. Under `create_graph` (meta-training,
where the fast weights' gradient flows through this op) the backward runs the same
formulas in differentiable torch ops.
"""

import torch
import triton
import triton.language as tl

from .triton_common import accumulator, compute_dtype, interpreting


@triton.jit
def _silu_mul_fwd(A, B, Y, n, BLOCK: tl.constexpr, ACC: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    a = tl.load(A + offs, mask=offs < n, other=0).to(ACC)
    b = tl.load(B + offs, mask=offs < n, other=0).to(ACC)
    tl.store(Y + offs, (a * tl.sigmoid(a) * b).to(Y.dtype.element_ty), mask=offs < n)


@triton.jit
def _silu_mul_bwd(A, B, DY, DA, DB, n, BLOCK: tl.constexpr, ACC: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    a = tl.load(A + offs, mask=offs < n, other=0).to(ACC)
    b = tl.load(B + offs, mask=offs < n, other=0).to(ACC)
    dy = tl.load(DY + offs, mask=offs < n, other=0).to(ACC)
    sig = tl.sigmoid(a)
    tl.store(DA + offs, (dy * b * sig * (1 + a * (1 - sig))).to(DA.dtype.element_ty), mask=offs < n)
    tl.store(DB + offs, (dy * a * sig).to(DB.dtype.element_ty), mask=offs < n)


def _launch(kernel, *tensors):
    """Run an elementwise kernel over same-shaped contiguous tensors, inputs then outputs."""
    n = tensors[0].numel()
    block = 256 if interpreting() else 1024
    kernel[(triton.cdiv(n, block),)](*tensors, n, BLOCK=block, ACC=accumulator(tensors[0].dtype))


class _SiluMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        a2, b2 = a.contiguous(), b.contiguous()
        y = torch.empty_like(a2)
        _launch(_silu_mul_fwd, a2, b2, y)
        ctx.save_for_backward(a, b)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        if torch.is_grad_enabled():
            dtype = compute_dtype(a.dtype)
            af, bf, dyf = a.to(dtype), b.to(dtype), dy.to(dtype)
            sig = torch.sigmoid(af)
            return (dyf * bf * sig * (1 + af * (1 - sig))).to(a.dtype), (dyf * af * sig).to(b.dtype)
        a2, b2 = a.contiguous(), b.contiguous()
        da, db = torch.empty_like(a2), torch.empty_like(b2)
        _launch(_silu_mul_bwd, a2, b2, dy.contiguous(), da, db)
        return da, db


def silu_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """`F.silu(a) * b` for same-shaped a and b, computed in fp32 and stored in a's dtype."""
    return _SiluMul.apply(a, b)


def swiglu(x: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """Drop-in for `reference.swiglu`: `w2(silu(x w1) * (x w3))` with the fused activation."""
    return silu_mul(x @ w1, x @ w3) @ w2
