"""Sliding-window attention over each chunk's [KV cache + chunk] buffer, in Triton.

Shapes are the reference's: q [B, H, n, c, D]; k, v [B, H, n, W + c, D] (any strides with a
unit last one, so the model's overlapping `unfold` views are read without a copy). The
mask is either loaded (`window_attention`, reference-compatible) or computed from the
window rule and the cache length (`cached_window_attention`), which also lets each block
skip the key slots it can never see.

Forward: online softmax in fp32, saving the per-row log-sum-exp. Backward: two kernels (dk/dv
per key block, dq per query block) that recompute the probabilities from q, k and lse.
Double backward (meta-training): the backward is itself a Function, `_AttentionGrad`,
whose own backward is written in differentiable torch ops that recompute the softmax, so
gradients of gradients work to any order (dense [c, W + c] scores there, as in the reference).
"""

import math

import torch
import triton
import triton.language as tl

from . import window_mask
from .triton_common import accumulator, compute_dtype, dot_width, interpreting

LN2 = tl.constexpr(math.log(2))  # qk_scale * LN2 is the softmax scale D^-1/2


@triton.jit
def _visible(offs_m, offs_n, mask_base, smr, C, W, first_filled, HAS_MASK: tl.constexpr):
    """[BLOCK_M, BLOCK_N] bool: may query row m look at buffer slot n."""
    inside = (offs_m[:, None] < C) & (offs_n[None, :] < W + C)
    if HAS_MASK:
        allowed = tl.load(mask_base + offs_m[:, None] * smr + offs_n[None, :], mask=inside, other=0) != 0
    else:
        # Query m sits at slot W + m and sees slots m+1 .. W+m that hold cached or chunk tokens.
        slot, query = offs_n[None, :], offs_m[:, None]
        allowed = (slot > query) & (slot <= W + query) & (slot >= first_filled)
    return inside & allowed


@triton.jit
def _key_range(m0, C, W, first_filled, BLOCK_M: tl.constexpr, HAS_MASK: tl.constexpr):
    """The buffer slots a query block [m0, m0 + BLOCK_M) can see."""
    if HAS_MASK:
        return 0, W + C
    return tl.maximum(m0 + 1, first_filled), tl.minimum(W + m0 + BLOCK_M, W + C)


@triton.jit
def _query_range(n0, C, W, first_filled, BLOCK_N: tl.constexpr, HAS_MASK: tl.constexpr):
    """The queries that can see a key block [n0, n0 + BLOCK_N)."""
    if HAS_MASK:
        return 0, C
    hi = tl.minimum(n0 + BLOCK_N - 1, C)
    hi = tl.where(n0 + BLOCK_N <= first_filled, 0, hi)  # a block of empty cache slots
    return tl.maximum(n0 - W, 0), hi


@triton.jit
def _locate(K, V, MASK, skb, skh, skn, svb, svh, svn, smb, smh, smn, H, N, C, W, empty_slots):
    """Bases of this program's (sequence, head, chunk) in k, v and the mask; its first filled slot.

    B*H*n runs along grid axis 0 (axis 1 stops at 65,535) and offsets are int64."""
    pid = tl.program_id(0).to(tl.int64)
    chunk = pid % N
    b = pid // N // H
    h = pid // N % H
    k_base = K + b * skb + h * skh + chunk * skn
    v_base = V + b * svb + h * svh + chunk * svn
    mask_base = MASK + b * smb + h * smh + chunk * smn
    return pid, k_base, v_base, mask_base, empty_slots - chunk * C


@triton.jit
def _query_block(Q, pid, m0, C, D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_D: tl.constexpr):
    """Query rows [m0, m0 + BLOCK_M) of this program: offsets, masks, flat indices, values."""
    offs_m = m0 + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    row_mask = (offs_m[:, None] < C) & (offs_d[None, :] < D)
    rows = pid * C * D + offs_m[:, None] * D + offs_d[None, :]
    return offs_m, offs_d, row_mask, rows, tl.load(Q + rows, mask=row_mask, other=0)


@triton.jit
def _backward_rows(DO, LSE, DELTA, pid, offs_m, rows, row_mask, C):
    """What the backward needs of each query row: dO, the log2-sum-exp and rowsum(dO * O)."""
    do = tl.load(DO + rows, mask=row_mask, other=0)
    lse = tl.load(LSE + pid * C + offs_m, mask=offs_m < C, other=0)
    delta = tl.load(DELTA + pid * C + offs_m, mask=offs_m < C, other=0)
    return do, lse, delta


@triton.jit
def _probabilities(
    q, k, lse, offs_m, offs_n, mask_base, smr, C, W, first_filled, qk_scale, HAS_MASK: tl.constexpr, ACC: tl.constexpr
):
    """The forward's attention probabilities of a (query block, key block) tile, recomputed."""
    s = tl.dot(q, tl.trans(k), input_precision="ieee", out_dtype=ACC) * qk_scale
    p = tl.exp2(s - lse[:, None])
    return tl.where(_visible(offs_m, offs_n, mask_base, smr, C, W, first_filled, HAS_MASK), p, 0.0)


@triton.jit
def _attn_fwd(
    Q, K, V, Out, LSE, MASK,
    skb, skh, skn, skr, svb, svh, svn, svr, smb, smh, smn, smr,
    H, N, C, W, empty_slots, qk_scale,
    D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    HAS_MASK: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    pid, k_base, v_base, mask_base, first_filled = _locate(
        K, V, MASK, skb, skh, skn, svb, svh, svn, smb, smh, smn, H, N, C, W, empty_slots
    )
    m0 = tl.program_id(1) * BLOCK_M
    offs_m, offs_d, row_mask, rows, q = _query_block(Q, pid, m0, C, D, BLOCK_M, BLOCK_D)
    m_i = tl.full([BLOCK_M], -1e30, ACC)  # finite, so a row with no visible key in a block stays NaN-free
    l_i = tl.zeros([BLOCK_M], ACC)
    acc = tl.zeros([BLOCK_M, BLOCK_D], ACC)
    lo, hi = _key_range(m0, C, W, first_filled, BLOCK_M, HAS_MASK)
    for n0 in range(lo, hi, BLOCK_N):
        offs_n = n0 + tl.arange(0, BLOCK_N)
        kv_mask = (offs_n[:, None] < hi) & (offs_d[None, :] < D)
        k = tl.load(k_base + offs_n[:, None] * skr + offs_d[None, :], mask=kv_mask, other=0)
        s = tl.dot(q, tl.trans(k), input_precision="ieee", out_dtype=ACC) * qk_scale
        s = tl.where(_visible(offs_m, offs_n, mask_base, smr, C, W, first_filled, HAS_MASK), s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_base + offs_n[:, None] * svr + offs_d[None, :], mask=kv_mask, other=0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision="ieee", out_dtype=ACC)
        m_i = m_new
    l_i = tl.where(offs_m < C, l_i, 1.0)  # rows past the chunk end see nothing
    tl.store(Out + rows, (acc / l_i[:, None]).to(Out.dtype.element_ty), mask=row_mask)
    tl.store(LSE + pid * C + offs_m, m_i + tl.log2(l_i), mask=offs_m < C)


@triton.jit
def _attn_bwd_dkdv(
    Q, K, V, DO, LSE, DELTA, DK, DV, MASK,
    skb, skh, skn, skr, svb, svh, svn, svr, smb, smh, smn, smr,
    H, N, C, W, empty_slots, qk_scale,
    D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    HAS_MASK: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    pid, k_base, v_base, mask_base, first_filled = _locate(
        K, V, MASK, skb, skh, skn, svb, svh, svn, smb, smh, smn, H, N, C, W, empty_slots
    )
    n0 = tl.program_id(1) * BLOCK_N
    offs_n = n0 + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    kv_mask = (offs_n[:, None] < W + C) & (offs_d[None, :] < D)
    k = tl.load(k_base + offs_n[:, None] * skr + offs_d[None, :], mask=kv_mask, other=0)
    v = tl.load(v_base + offs_n[:, None] * svr + offs_d[None, :], mask=kv_mask, other=0)
    dk = tl.zeros([BLOCK_N, BLOCK_D], ACC)
    dv = tl.zeros([BLOCK_N, BLOCK_D], ACC)
    lo, hi = _query_range(n0, C, W, first_filled, BLOCK_N, HAS_MASK)
    for m0 in range(lo, hi, BLOCK_M):
        offs_m, _, row_mask, rows, q = _query_block(Q, pid, m0, C, D, BLOCK_M, BLOCK_D)
        do, lse, delta = _backward_rows(DO, LSE, DELTA, pid, offs_m, rows, row_mask, C)
        p = _probabilities(q, k, lse, offs_m, offs_n, mask_base, smr, C, W, first_filled, qk_scale, HAS_MASK, ACC)
        dv += tl.dot(tl.trans(p).to(do.dtype), do, input_precision="ieee", out_dtype=ACC)
        dp = tl.dot(do, tl.trans(v), input_precision="ieee", out_dtype=ACC)
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds).to(q.dtype), q, input_precision="ieee", out_dtype=ACC)
    out = pid * (W + C) * D + offs_n[:, None] * D + offs_d[None, :]
    tl.store(DK + out, (dk * qk_scale * LN2).to(DK.dtype.element_ty), mask=kv_mask)
    tl.store(DV + out, dv.to(DV.dtype.element_ty), mask=kv_mask)


@triton.jit
def _attn_bwd_dq(
    Q, K, V, DO, LSE, DELTA, DQ, MASK,
    skb, skh, skn, skr, svb, svh, svn, svr, smb, smh, smn, smr,
    H, N, C, W, empty_slots, qk_scale,
    D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    HAS_MASK: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    pid, k_base, v_base, mask_base, first_filled = _locate(
        K, V, MASK, skb, skh, skn, svb, svh, svn, smb, smh, smn, H, N, C, W, empty_slots
    )
    m0 = tl.program_id(1) * BLOCK_M
    offs_m, offs_d, row_mask, rows, q = _query_block(Q, pid, m0, C, D, BLOCK_M, BLOCK_D)
    do, lse, delta = _backward_rows(DO, LSE, DELTA, pid, offs_m, rows, row_mask, C)
    dq = tl.zeros([BLOCK_M, BLOCK_D], ACC)
    lo, hi = _key_range(m0, C, W, first_filled, BLOCK_M, HAS_MASK)
    for n0 in range(lo, hi, BLOCK_N):
        offs_n = n0 + tl.arange(0, BLOCK_N)
        kv_mask = (offs_n[:, None] < hi) & (offs_d[None, :] < D)
        k = tl.load(k_base + offs_n[:, None] * skr + offs_d[None, :], mask=kv_mask, other=0)
        v = tl.load(v_base + offs_n[:, None] * svr + offs_d[None, :], mask=kv_mask, other=0)
        p = _probabilities(q, k, lse, offs_m, offs_n, mask_base, smr, C, W, first_filled, qk_scale, HAS_MASK, ACC)
        dp = tl.dot(do, tl.trans(v), input_precision="ieee", out_dtype=ACC)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision="ieee", out_dtype=ACC)
    tl.store(DQ + rows, (dq * qk_scale * LN2).to(DQ.dtype.element_ty), mask=row_mask)


def _blocks(D: int) -> tuple[int, int, dict]:
    """(BLOCK_M, BLOCK_N, launch options): one fixed config, 16 x 16 when interpreted."""
    if interpreting():
        return 16, 16, {}
    return (64, 64, {"num_warps": 4, "num_stages": 2}) if D <= 64 else (64, 32, {"num_warps": 8, "num_stages": 2})


class _Launch:
    """One call's tensors in kernel layout, and the arguments all three kernels share."""

    def __init__(self, q, k, v, mask, cache_length):
        # One dtype for the dots: 16-bit queries (autocast) take 16-bit keys and values, so
        # fp32 cached keys never push the tiles off the tensor cores.
        dtype = (
            q.dtype if q.element_size() == 2 else torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
        )
        self.q = q.to(dtype).contiguous()
        self.k, self.v = (t if t.stride(-1) == 1 else t.contiguous() for t in (k.to(dtype), v.to(dtype)))
        B, H, N, C, D = q.shape
        W = k.shape[-2] - C
        if mask is None:
            mask_strides = (0, 0, 0, 0)
        else:  # broadcast to [B, H, n, c, W + c]; broadcast dims get stride 0
            mask = mask.expand(B, H, N, C, W + C)
            mask = mask if mask.stride(-1) == 1 else mask.contiguous()
            mask_strides = mask.stride()[:4]
        self.mask = self.q if mask is None else mask.view(torch.uint8)
        qk_scale = D**-0.5 * math.log2(math.e)  # scores in log2 units, for exp2
        self.args = (*self.k.stride()[:4], *self.v.stride()[:4], *mask_strides, H, N, C, W, W - cache_length, qk_scale)
        block_m, block_n, options = _blocks(D)
        self.grid_q = (B * H * N, triton.cdiv(C, block_m))
        self.grid_k = (B * H * N, triton.cdiv(W + C, block_n))
        self.meta = dict(
            D=D,
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            BLOCK_D=dot_width(D),
            HAS_MASK=mask is not None,
            ACC=accumulator(dtype),
            **options,
        )


def _forward(q, k, v, mask, cache_length):
    run = _Launch(q, k, v, mask, cache_length)
    out = torch.empty(q.shape, device=q.device, dtype=q.dtype)
    lse = torch.empty(q.shape[:-1], device=q.device, dtype=compute_dtype(run.q.dtype))
    _attn_fwd[run.grid_q](run.q, run.k, run.v, out, lse, run.mask, *run.args, **run.meta)
    return out, lse


def _backward(q, k, v, out, lse, dout, mask, cache_length):
    run = _Launch(q, k, v, mask, cache_length)
    dout = dout.to(run.q.dtype).contiguous()
    delta = (dout.to(lse.dtype) * out.to(lse.dtype)).sum(-1)
    dq, dk, dv = (torch.empty(t.shape, device=t.device, dtype=t.dtype) for t in (q, k, v))
    tensors = (run.q, run.k, run.v, dout, lse, delta)
    _attn_bwd_dkdv[run.grid_k](*tensors, dk, dv, run.mask, *run.args, **run.meta)
    _attn_bwd_dq[run.grid_q](*tensors, dq, run.mask, *run.args, **run.meta)
    return dq, dk, dv


def _dense_mask(q, k, mask, cache_length):
    if mask is not None:
        return mask
    _, _, N, C, _ = q.shape
    return window_mask(C, k.shape[-2] - C, N, cache_length, q.device)


def _grad_of_grads(q, k, v, dout, mask, gq, gk, gv):
    """Cotangents of (q, k, v, dout) for the map (q, k, v, dout) -> (dq, dk, dv), in torch ops.

    With S = s q k^T, P = softmax(S), dP = dout v^T, dS = P (dP - rowsum(P dP)) the first
    backward is dq = s dS k, dk = s dS^T q, dv = P^T dout. For cotangents (gq, gk, gv):
    A = s (gq k^T + q gk^T) and B = P (A - rowsum(P A)) give
    d dout = B v + P gv, d v = B^T dout, and through P with G = (dP - rowsum(P dP)) A
    - rowsum(P A) dP + dout gv^T, G_S = P (G - rowsum(P G)):
    d q = s G_S k + s dS gk, d k = s G_S^T q + s dS^T gq.
    """
    dtype = compute_dtype(q.dtype)
    q, k, v, dout, gq, gk, gv = (t.to(dtype) for t in (q, k, v, dout, gq, gk, gv))
    s = q.shape[-1] ** -0.5
    scores = (q @ k.transpose(-1, -2) * s).masked_fill(~mask, float("-inf"))
    p = scores.softmax(-1)
    dp = dout @ v.transpose(-1, -2)
    dp_centered = dp - (p * dp).sum(-1, keepdim=True)
    ds = p * dp_centered
    a = s * (gq @ k.transpose(-1, -2) + q @ gk.transpose(-1, -2))
    pa = (p * a).sum(-1, keepdim=True)
    b = p * (a - pa)
    g = dp_centered * a - pa * dp + dout @ gv.transpose(-1, -2)
    gs = p * (g - (p * g).sum(-1, keepdim=True))
    return (
        s * (gs @ k + ds @ gk),
        s * (gs.transpose(-1, -2) @ q + ds.transpose(-1, -2) @ gq),
        b.transpose(-1, -2) @ dout,
        b @ v + p @ gv,
    )


class _AttentionGrad(torch.autograd.Function):
    """(q, k, v, dout) -> (dq, dk, dv) with the Triton kernels; differentiable via torch ops."""

    @staticmethod
    def forward(ctx, q, k, v, dout, out, lse, mask, cache_length):
        ctx.save_for_backward(q, k, v, dout, mask)
        ctx.cache_length = cache_length
        return _backward(q, k, v, out, lse, dout, mask, cache_length)

    @staticmethod
    def backward(ctx, gq, gk, gv):
        q, k, v, dout, mask = ctx.saved_tensors
        dense = _dense_mask(q, k, mask, ctx.cache_length)
        grads = _grad_of_grads(q, k, v, dout, dense, gq, gk, gv)
        return (*(g.to(t.dtype) for g, t in zip(grads, (q, k, v, dout))), None, None, None, None)


class _Attention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, cache_length):
        out, lse = _forward(q, k, v, mask, cache_length)
        ctx.save_for_backward(q, k, v, out, lse, mask)
        ctx.cache_length = cache_length
        return out

    @staticmethod
    def backward(ctx, dout):
        q, k, v, out, lse, mask = ctx.saved_tensors
        dq, dk, dv = _AttentionGrad.apply(q, k, v, dout, out.detach(), lse, mask, ctx.cache_length)
        return dq, dk, dv, None, None


def window_attention(q, k, v, mask):
    """Drop-in for `reference.window_attention` with any bool mask broadcastable to the scores."""
    return _Attention.apply(q, k, v, mask, 0)


def cached_window_attention(q, k, v, cache_length: int):
    """Attention under the model's window mask, computed in the kernel from `cache_length`.

    Same result as `window_attention(q, k, v, window_mask(c, W, n, cache_length))`, without
    loading a mask and skipping the key blocks outside each query block's window.
    """
    return _Attention.apply(q, k, v, None, cache_length)
