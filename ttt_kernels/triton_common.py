"""What the Triton kernels here share: interpreter detection, launch sizes, compute dtypes."""

import functools
import os

import torch
import triton
import triton.language as tl


def interpreting() -> bool:
    """Under TRITON_INTERPRET=1 kernels run through numpy on the CPU: small blocks, few programs."""
    return os.environ.get("TRITON_INTERPRET") == "1"


@functools.cache
def _sm_count(index: int) -> int:
    return torch.cuda.get_device_properties(index).multi_processor_count


def max_programs(device: torch.device) -> int:
    """How many programs fill the device: a few waves on a GPU, four interpreted."""
    if device.type != "cuda" or interpreting():
        return 4
    return 4 * _sm_count(device.index if device.index is not None else torch.cuda.current_device())


def dot_width(n: int) -> int:
    """A power-of-two block of at least 16 covering n: `tl.dot` needs every side >= 16."""
    return max(16, triton.next_power_of_2(n))


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp32 for fp16/bf16/fp32 inputs, fp64 for fp64 (so gradgradcheck can run in fp64)."""
    return torch.promote_types(dtype, torch.float32)


def accumulator(dtype: torch.dtype):
    """The Triton accumulator dtype matching `compute_dtype`."""
    return tl.float64 if dtype == torch.float64 else tl.float32
