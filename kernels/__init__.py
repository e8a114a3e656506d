"""The hot ops of ttt-read, dispatched to Triton on CUDA and to the PyTorch reference elsewhere.

`TTT_READ_KERNELS=reference` forces the reference everywhere (A/B tests, debugging).
Until the Triton kernels land every op resolves to the reference.
"""

from ttt_read.kernels.reference import (
    clipped_sgd,
    linear_cross_entropy,
    rms_norm,
    rope,
    swiglu,
    window_attention,
)

__all__ = ["clipped_sgd", "linear_cross_entropy", "rms_norm", "rope", "swiglu", "window_attention"]
