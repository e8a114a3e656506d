"""Check every Triton kernel on the device at hand before a run relies on it.

A kernel can fail on a GPU it was never run on: a compile error, too little shared memory,
an LLVM or ptxas crash, wrong numbers. That must cost a fallback, not a training run. Each
op runs forward and backward at a model's shapes (under bf16 autocast on CUDA, as training
and reading run) against its PyTorch reference, each in its own process, because a compiler
crash cannot be caught in-process. The ops that fail are the ones to name in
`TTT_READ_REFERENCE_OPS`.

    python -m ttt_read.kernels.selfcheck CONFIG_JSON [--device cuda]

prints one JSON object: each op's result and the `reference_ops` value to export.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ttt_read.read.config import ModelConfig

from . import OPS

TOLERANCE = {"cuda": 5e-2, "cpu": 1e-4}  # max error over max |reference|: bf16 tiles vs fp32


def _cases(op: str, cfg: ModelConfig, device: str):
    """(kernel call, reference call, differentiable inputs) of `op` at the model's shapes:
    one reading chunk with a full cache, the model's vocabulary and fast-weight sizes, and
    values at the model's initial scale."""
    import torch

    from . import reference

    kernel = __import__(f"{__package__}.triton_{op}", fromlist=["_"])
    c, d, W, H, D = cfg.chunk, cfg.d_model, cfg.window, cfg.n_heads, cfg.head_dim
    half = torch.bfloat16 if device == "cuda" else torch.float32  # what autocast hands attention

    def leaves(*shapes, scale=1.0, dtype=torch.float32):
        return [(scale * torch.randn(s, device=device)).to(dtype).requires_grad_() for s in shapes]

    if op == "norm":
        return (
            (lambda x, w: kernel.rms_norm(x, w, cfg.norm_eps)),
            (lambda x, w: reference.rms_norm(x, w, cfg.norm_eps)),
            leaves((1, c, d), (d,)),
        )
    if op == "swiglu":
        shapes = [(1, c, d), (1, d, cfg.prime_hidden), (1, d, cfg.prime_hidden), (1, cfg.prime_hidden, d)]
        return kernel.swiglu, reference.swiglu, [leaves(shapes[0])[0], *leaves(*shapes[1:], scale=0.02)]
    if op == "attention":
        from . import window_mask

        mask = window_mask(c, W, 1, W, device)
        return (
            lambda q, k, v: kernel.cached_window_attention(q, k, v, W),
            lambda q, k, v: reference.window_attention(q, k, v, mask),
            leaves((1, H, 1, c, D), (1, H, 1, W + c, D), (1, H, 1, W + c, D), dtype=half),
        )
    if op == "cross_entropy":
        targets = torch.randint(0, cfg.vocab_size, (1, c), device=device)
        return (
            lambda h, e: kernel.linear_cross_entropy(h, e, targets),
            lambda h, e: reference.linear_cross_entropy(h, e, targets),
            [leaves((1, c, d))[0], *leaves((cfg.vocab_size, d), scale=0.02)],
        )
    if op == "sgd":
        shapes = [(1, d, cfg.prime_hidden), (1, cfg.prime_hidden, d)]
        weights, grads = leaves(*shapes, scale=0.02), leaves(*shapes, scale=0.05)

        def run(impl):
            return lambda *t: torch.cat([w.flatten() for w in impl.clipped_sgd(list(t[:2]), list(t[2:]), cfg.inner_lr)])

        return run(kernel), run(reference), [*weights, *grads]
    raise ValueError(f"unknown op {op!r}")


def check_op(op: str, cfg: ModelConfig, device: str) -> float:
    """Run `op` forward and backward against its reference; return the worst relative
    error, or raise AssertionError when it is over tolerance or not finite."""
    import torch

    torch.manual_seed(0)
    kernel, ref, inputs = _cases(op, cfg, device)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        out = kernel(*inputs)
    cotangent = torch.randn(out.shape, device=device)
    pairs = [(out, ref(*inputs))]
    grads_k = torch.autograd.grad(out, inputs, cotangent.to(out.dtype))
    grads_r = torch.autograd.grad(pairs[0][1], inputs, cotangent.to(pairs[0][1].dtype))
    pairs += list(zip(grads_k, grads_r))
    worst = 0.0
    for i, (a, b) in enumerate(pairs):
        error = float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))
        what = "forward" if i == 0 else f"gradient {i - 1}"
        assert error == error and error <= TOLERANCE[device], f"{op} {what}: relative error {error:.3g}"
        worst = max(worst, error)
    if device == "cuda":
        torch.cuda.synchronize()
    return worst


def run(cfg: ModelConfig, device: str = "cuda", *, timeout: float = 300.0, ops=OPS) -> dict:
    """Check `ops` in parallel, one process each. Returns {"ops": {op: {"ok", "error"|"detail"}},
    "reference_ops": comma-separated failing ops, "seconds"}."""
    started = time.perf_counter()
    env = dict(os.environ)
    if device == "cpu":
        env["TRITON_INTERPRET"] = "1"
    command = [sys.executable, "-m", f"{__package__}.selfcheck", cfg.to_json(), "--device", device, "--op"]
    processes = {
        op: subprocess.Popen([*command, op], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for op in ops
    }
    results = {}
    for op, process in processes.items():
        try:
            stdout, stderr = process.communicate(timeout=max(1.0, timeout - (time.perf_counter() - started)))
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            results[op] = {"ok": False, "detail": f"no answer within {timeout:.0f} s"}
            continue
        if process.returncode == 0:
            results[op] = {"ok": True, "error": json.loads(stdout)["error"]}
        else:
            lines = [line for line in stderr.splitlines() if line.strip()] or [f"exit status {process.returncode}"]
            results[op] = {"ok": False, "detail": lines[-1][:300]}
    failed = [op for op in ops if not results[op]["ok"]]
    return {"ops": results, "reference_ops": ",".join(failed), "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="a model's config.json: its path or its text")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--op", choices=OPS, help="check this op in this process (what `run` starts)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    text = args.config if args.config.lstrip().startswith("{") else Path(args.config).read_text()
    cfg = ModelConfig.from_json(text)
    if args.op:
        print(json.dumps({"error": check_op(args.op, cfg, args.device)}))
    else:
        print(json.dumps(run(cfg, args.device, timeout=args.timeout)))


if __name__ == "__main__":
    main()
