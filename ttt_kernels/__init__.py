"""The hot ops of ttt-read, dispatched to Triton on CUDA and to the PyTorch reference elsewhere.

`TTT_READ_KERNELS=reference` forces the reference everywhere (A/B tests, debugging);
`TTT_READ_KERNELS=triton` forces the Triton kernels, also on CPU tensors (the tests run
them there under `TRITON_INTERPRET=1`). `TTT_READ_REFERENCE_OPS=attention,cross_entropy`
sends just those ops to the reference: what `kernels.selfcheck` sets for ops that fail on
the GPU at hand. The variables are read at every call, and Triton is imported only when a
kernel is first used, so CPU-only runs never import it. fp64 runs the reference on a GPU
(fp64 dots in Triton are not dependable there). `rope` has no kernel and always runs the
reference.
"""

import importlib
import os

import torch

from . import reference
from .reference import rope

_MODES = ("auto", "triton", "reference")


OPS = ("norm", "swiglu", "attention", "cross_entropy", "sgd")  # the ttt_kernels/triton_<op>.py modules


def reference_ops() -> set[str]:
    """The ops `TTT_READ_REFERENCE_OPS` sends to the reference."""
    names = {name.strip() for name in os.environ.get("TTT_READ_REFERENCE_OPS", "").split(",") if name.strip()}
    if names - set(OPS):
        raise ValueError(
            f"TTT_READ_REFERENCE_OPS: unknown ops {sorted(names - set(OPS))}; expected some of {', '.join(OPS)}"
        )
    return names


def _impl(module: str, x: torch.Tensor):
    """`ttt_kernels/triton_<module>.py` when Triton should run on `x`, else the reference module."""
    mode = os.environ.get("TTT_READ_KERNELS") or "auto"
    if mode not in _MODES:
        raise ValueError(f"TTT_READ_KERNELS={mode!r}: expected one of {', '.join(_MODES)}")
    if mode == "reference" or (mode == "auto" and not x.is_cuda) or module in reference_ops():
        return reference
    if x.is_cuda and x.dtype == torch.float64:
        return reference
    return importlib.import_module(f"{__name__}.triton_{module}")


def window_mask(chunk_len: int, window: int, n_chunks: int, cache_length: int, device) -> torch.Tensor:
    """Which buffer slots each query may see: at most W-1 tokens back, no future, no empty slot.

    Buffer slot p of chunk i holds text position i*c + p - W (relative to the call's first
    token); query j sits at slot W + j. Returns bool [n_chunks, c, W + c]. This is the rule
    `cached_window_attention` computes inside its kernel.
    """
    slot = torch.arange(window + chunk_len, device=device)
    query = torch.arange(chunk_len, device=device)[:, None]
    in_window = (slot > query) & (slot <= window + query)
    first_chunk_slot = torch.arange(n_chunks, device=device)[:, None, None] * chunk_len
    filled = first_chunk_slot + slot >= window - cache_length
    return in_window[None] & filled


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return _impl("norm", x).rms_norm(x, weight, eps)


def swiglu(x: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    return _impl("swiglu", x).swiglu(x, w1, w3, w2)


def window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return _impl("attention", q).window_attention(q, k, v, mask)


def cached_window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cache_length: int) -> torch.Tensor:
    """`window_attention` under `window_mask(c, W, n, cache_length)`, W = k.shape[-2] - c.

    The Triton kernel computes that mask itself and skips the blocks outside the window.
    """
    impl = _impl("attention", q)
    if impl is not reference:
        return impl.cached_window_attention(q, k, v, cache_length)
    n, c = q.shape[2], q.shape[3]
    return reference.window_attention(q, k, v, window_mask(c, k.shape[-2] - c, n, cache_length, q.device))


def linear_cross_entropy(
    h: torch.Tensor, embedding: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    return _impl("cross_entropy", h).linear_cross_entropy(h, embedding, targets, ignore_index)


def clipped_sgd(weights: list[torch.Tensor], grads: list[torch.Tensor], lr: float | torch.Tensor) -> list[torch.Tensor]:
    return _impl("sgd", grads[0]).clipped_sgd(weights, grads, lr)


__all__ = [
    "cached_window_attention",
    "clipped_sgd",
    "linear_cross_entropy",
    "rms_norm",
    "rope",
    "swiglu",
    "window_attention",
    "window_mask",
]
