"""Linear + cross-entropy through the tied embedding, tiled over the vocabulary in Triton.

Logits exist only as [BLOCK_T, BLOCK_V] fp32 tiles in registers (Cut-Cross-Entropy style).
The forward splits the vocabulary across programs too, so a single chunk of tokens still
fills the GPU: each (token block, vocabulary split) program keeps an online max and sum of
exponentials, and torch merges the splits into the log-sum-exp. The backward recomputes
the logit tiles: one kernel accumulates dh per (token block, split), another dE per
vocabulary tile, both without atomics. Under `create_graph` (meta-training) the backward
runs in differentiable torch ops over full fp32 logits, as the reference would.
"""

import torch
import triton
import triton.language as tl

from .triton_common import accumulator, compute_dtype, dot_width, interpreting, max_programs


@triton.jit
def _logit_tile(h, E, stride_e, offs_v, offs_d, v_hi, d, ACC: tl.constexpr):
    """fp32 logits [BLOCK_T, BLOCK_V] of h against vocabulary rows offs_v (< v_hi), and those rows."""
    mask = (offs_v[:, None] < v_hi) & (offs_d[None, :] < d)
    e = tl.load(E + offs_v[:, None] * stride_e + offs_d[None, :], mask=mask, other=0)
    z = tl.dot(h, tl.trans(e), input_precision="ieee", out_dtype=ACC)
    return tl.where(offs_v[None, :] < v_hi, z, float("-inf")), e


@triton.jit
def _token_block(H, TGT, stride_h, t, offs_d, N, d, ignore_index):
    """Hidden rows and targets of tokens t."""
    h = tl.load(H + t[:, None] * stride_h + offs_d[None, :], mask=(t[:, None] < N) & (offs_d[None, :] < d), other=0)
    return h, tl.load(TGT + t, mask=t < N, other=ignore_index)


@triton.jit
def _token_grad_block(H, TGT, LSE, DLOSS, stride_h, t, offs_d, N, d, ignore_index):
    """`_token_block` plus each token's lse and upstream gradient (zero where ignored)."""
    h, tgt = _token_block(H, TGT, stride_h, t, offs_d, N, d, ignore_index)
    lse = tl.load(LSE + t, mask=t < N, other=0)
    dloss = tl.where(tgt != ignore_index, tl.load(DLOSS + t, mask=t < N, other=0), 0)
    return h, tgt, lse, dloss


@triton.jit
def _ce_fwd(
    H, E, TGT, MAX, SUMEXP, PICKED, N, V, d, stride_h, stride_e, per_split, ignore_index,
    BLOCK_T: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    t = tl.program_id(0).to(tl.int64) * BLOCK_T + tl.arange(0, BLOCK_T)
    offs_d = tl.arange(0, BLOCK_D)
    h, tgt = _token_block(H, TGT, stride_h, t, offs_d, N, d, ignore_index)
    v_lo = tl.program_id(1) * per_split
    v_hi = tl.minimum(v_lo + per_split, V)
    m = tl.full([BLOCK_T], -1e30, ACC)
    s = tl.zeros([BLOCK_T], ACC)
    picked = tl.zeros([BLOCK_T], ACC)
    for v0 in range(v_lo, v_hi, BLOCK_V):
        offs_v = v0 + tl.arange(0, BLOCK_V)
        z, _ = _logit_tile(h, E, stride_e, offs_v, offs_d, v_hi, d, ACC)
        m_new = tl.maximum(m, tl.max(z, 1))
        s = s * tl.exp(m - m_new) + tl.sum(tl.exp(z - m_new[:, None]), 1)
        m = m_new
        picked += tl.sum(tl.where(offs_v[None, :] == tgt[:, None], z, 0), 1)
    out = tl.program_id(1) * N + t
    tl.store(MAX + out, m, mask=t < N)
    tl.store(SUMEXP + out, s, mask=t < N)
    tl.store(PICKED + out, picked, mask=t < N)


@triton.jit
def _dlogits(z, offs_v, tgt, lse, dloss):
    """d loss / d logits of a tile: (softmax - onehot) times the upstream gradient."""
    p = tl.exp(z - lse[:, None])
    return (p - tl.where(offs_v[None, :] == tgt[:, None], 1.0, 0.0)) * dloss[:, None]


@triton.jit
def _ce_bwd_dh(
    H, E, TGT, LSE, DLOSS, DH, N, V, d, stride_h, stride_e, per_split, ignore_index,
    BLOCK_T: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    t = tl.program_id(0).to(tl.int64) * BLOCK_T + tl.arange(0, BLOCK_T)
    offs_d = tl.arange(0, BLOCK_D)
    h, tgt, lse, dloss = _token_grad_block(H, TGT, LSE, DLOSS, stride_h, t, offs_d, N, d, ignore_index)
    v_lo = tl.program_id(1) * per_split
    v_hi = tl.minimum(v_lo + per_split, V)
    dh = tl.zeros([BLOCK_T, BLOCK_D], ACC)
    for v0 in range(v_lo, v_hi, BLOCK_V):
        offs_v = v0 + tl.arange(0, BLOCK_V)
        z, e = _logit_tile(h, E, stride_e, offs_v, offs_d, v_hi, d, ACC)
        g = _dlogits(z, offs_v, tgt, lse, dloss)
        dh += tl.dot(g.to(e.dtype), e, input_precision="ieee", out_dtype=ACC)
    out = (tl.program_id(1) * N + t)[:, None] * d + offs_d[None, :]
    tl.store(DH + out, dh, mask=(t[:, None] < N) & (offs_d[None, :] < d))


@triton.jit
def _ce_bwd_de(
    H, E, TGT, LSE, DLOSS, DE, N, V, d, stride_h, stride_e, ignore_index,
    BLOCK_T: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    offs_v = tl.program_id(0) * BLOCK_V + tl.arange(0, BLOCK_V)
    offs_d = tl.arange(0, BLOCK_D)
    de = tl.zeros([BLOCK_V, BLOCK_D], ACC)
    for t0 in range(0, N, BLOCK_T):
        t = (t0 + tl.arange(0, BLOCK_T)).to(tl.int64)
        h, tgt, lse, dloss = _token_grad_block(H, TGT, LSE, DLOSS, stride_h, t, offs_d, N, d, ignore_index)
        z, _ = _logit_tile(h, E, stride_e, offs_v, offs_d, V, d, ACC)
        g = _dlogits(z, offs_v, tgt, lse, dloss)
        de += tl.dot(tl.trans(g).to(h.dtype), h, input_precision="ieee", out_dtype=ACC)
    mask = (offs_v[:, None] < V) & (offs_d[None, :] < d)
    tl.store(DE + offs_v[:, None] * d + offs_d[None, :], de.to(DE.dtype.element_ty), mask=mask)


class _Tiling:
    """Block sizes and the vocabulary split for N tokens of width d over V rows."""

    def __init__(self, h: torch.Tensor, V: int):
        N, d = h.shape
        block_d = dot_width(d)
        if interpreting():
            self.block_t, self.block_v, self.options = 16, 16, {}
        else:
            self.block_t, self.block_v = (64, 64) if block_d <= 256 else (32, 32)
            self.options = {"num_warps": 4 if block_d <= 128 else 8, "num_stages": 2}
        token_blocks = triton.cdiv(N, self.block_t)
        vocab_tiles = triton.cdiv(V, self.block_v)
        splits = max(1, min(vocab_tiles, max_programs(h.device) // token_blocks))
        self.per_split = triton.cdiv(vocab_tiles, splits) * self.block_v
        self.splits = triton.cdiv(V, self.per_split)
        self.grid = (token_blocks, self.splits)
        self.meta = dict(
            BLOCK_T=self.block_t, BLOCK_V=self.block_v, BLOCK_D=block_d, ACC=accumulator(h.dtype), **self.options
        )


def tile_dtype(h: torch.Tensor, embedding: torch.Tensor) -> torch.dtype:
    """The dtype the logit tiles are multiplied in: autocast's (bf16) when it is on, so the
    fp32 residual stream and tied embedding meet on the tensor cores (fp32 accumulators
    either way); else the inputs' common dtype."""
    if torch.is_autocast_enabled(h.device.type) and h.dtype != torch.float64:
        return torch.get_autocast_dtype(h.device.type)
    return torch.promote_types(h.dtype, embedding.dtype)


def _flat(h, embedding, targets, dtype: torch.dtype):
    """[N, d] hidden rows, [N] targets and the embedding, in `dtype` with unit last strides."""
    h2 = h.reshape(-1, h.shape[-1]).to(dtype)
    h2 = h2 if h2.stride(-1) == 1 else h2.contiguous()
    return h2, targets.reshape(-1).contiguous(), embedding.to(dtype).contiguous()


def _torch_backward(h, embedding, targets, dloss, ignore_index):
    """The same gradients in differentiable torch ops, for double backward."""
    dtype = compute_dtype(h.dtype)
    hf, ef = h.reshape(-1, h.shape[-1]).to(dtype), embedding.to(dtype)
    t = targets.reshape(-1)
    keep = t != ignore_index
    probs = (hf @ ef.t()).softmax(-1)
    onehot = torch.nn.functional.one_hot(torch.where(keep, t, 0), embedding.shape[0]).to(dtype)
    g = (probs - onehot) * torch.where(keep, dloss.reshape(-1).to(dtype), 0)[:, None]
    return (g @ ef).view(h.shape).to(h.dtype), (g.t() @ hf).to(embedding.dtype)


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, embedding, targets, ignore_index):
        ctx.tile_dtype = tile_dtype(h, embedding)  # backward runs outside autocast: decide once
        h2, t, e = _flat(h, embedding, targets, ctx.tile_dtype)
        N, d = h2.shape
        tiling = _Tiling(h2, e.shape[0])
        stats = torch.empty(3, tiling.splits, N, device=h.device, dtype=compute_dtype(h.dtype))
        _ce_fwd[tiling.grid](
            h2, e, t, stats[0], stats[1], stats[2], N, e.shape[0], d, h2.stride(0), e.stride(0),
            tiling.per_split, ignore_index, **tiling.meta,
        )  # fmt: skip
        top = stats[0].max(0).values
        lse = top + (stats[1] * (stats[0] - top).exp()).sum(0).log()
        loss = torch.where(t != ignore_index, lse - stats[2].sum(0), 0)
        ctx.save_for_backward(h, embedding, targets, lse)
        ctx.ignore_index = ignore_index
        return loss.view(targets.shape)

    @staticmethod
    def backward(ctx, dloss):
        h, embedding, targets, lse = ctx.saved_tensors
        if torch.is_grad_enabled():
            return (*_torch_backward(h, embedding, targets, dloss, ctx.ignore_index), None, None)
        h2, t, e = _flat(h, embedding, targets, ctx.tile_dtype)
        N, d = h2.shape
        V = e.shape[0]
        tiling = _Tiling(h2, V)
        dloss = dloss.reshape(-1).to(lse.dtype).contiguous()
        dh = torch.empty(tiling.splits, N, d, device=h.device, dtype=lse.dtype)
        de = torch.empty(V, d, device=e.device, dtype=compute_dtype(e.dtype))
        common = (h2, e, t, lse, dloss)
        sizes = (N, V, d, h2.stride(0), e.stride(0))
        _ce_bwd_dh[tiling.grid](*common, dh, *sizes, tiling.per_split, ctx.ignore_index, **tiling.meta)
        _ce_bwd_de[(triton.cdiv(V, tiling.block_v),)](*common, de, *sizes, ctx.ignore_index, **tiling.meta)
        return dh.sum(0).view(h.shape).to(h.dtype), de.to(embedding.dtype), None, None


def linear_cross_entropy(
    h: torch.Tensor, embedding: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """Drop-in for `reference.linear_cross_entropy`: fp32 per-token losses, ignored ones 0."""
    return _LinearCrossEntropy.apply(h, embedding, targets, ignore_index)
