"""The device a command runs on: --device, else config.toml's, else CUDA when available."""

from __future__ import annotations

from ttt_read.core.errors import ExitCode, TTTReadError


def pick_device(device: str) -> str:
    import torch

    if device == "auto":  # config.toml's device, if it names one
        from ttt_read.core import settings

        device = settings.current().device or "auto"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise TTTReadError("--device cuda: no CUDA device is available", ExitCode.USAGE)
    return device
