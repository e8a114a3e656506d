"""`ttt-read bench`: reading speed and memory next to its baselines, measured in one run.

For each text length it times, on the same weights and the same synthetic tokens:
reading (the dispatched kernels: Triton on CUDA), the eager PyTorch reference reading loop,
and a full-attention prefill (PyTorch SDPA, causal, no window), and prints the ratios. It
also times decoding one token at a time. Ratios taken side by side are what the speed
targets are judged by; absolute numbers depend on the machine. Beside wall-clock time it
records the process's CPU time: on a shared CPU, tokens per CPU-second barely move with the
load while tokens per second do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import torch

from ttt_read.predict.generate import Session
from ttt_read.read.model import TTTModel
from ttt_read.read.reading import read


def synthetic_tokens(vocab_size: int, length: int, seed: int = 0, device="cpu") -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab_size, (1, length), generator=generator).to(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn: Callable[[], object], device: torch.device) -> tuple[float, int | None, float]:
    """Seconds, peak device memory (bytes, CUDA only) and process CPU seconds of one call,
    after one warm-up call on a short input has already been made by the caller."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    _sync(device)
    started, cpu_started = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return seconds, peak, cpu_seconds


@contextmanager
def kernels(choice: str):
    """Force the kernel dispatch (`triton` or `reference`) for the duration of a block."""
    previous = os.environ.get("TTT_READ_KERNELS")
    os.environ["TTT_READ_KERNELS"] = choice
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TTT_READ_KERNELS", None)
        else:
            os.environ["TTT_READ_KERNELS"] = previous


def _autocast(device: torch.device):
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def reading_runner(model: TTTModel, tokens: torch.Tensor) -> Callable[[], object]:
    def run():
        with _autocast(tokens.device):
            return read(model, tokens, lr=model.cfg.inner_lr)

    return run


def full_attention_runner(model: TTTModel, tokens: torch.Tensor) -> Callable[[], object]:
    @torch.no_grad()
    def run():
        with _autocast(tokens.device):
            return model.full_attention_hidden(tokens)

    return run


def decode_ms_per_token(model: TTTModel, n_tokens: int, seed: int = 0, notepad=None) -> tuple[float, float]:
    """Latency of feeding one token at a time after a full window of context: wall-clock
    and process CPU milliseconds per token. With `notepad` (an `ngram.TokenIndex` and its
    `ngram.Gate`), each token's distribution is also mixed with the notepad's matches, as
    `continue` does."""
    from ttt_read.predict.generate import NotepadPredictor

    device = model.embed.weight.device
    session = Session(model, model.initial_fast_weights(1), lr=model.cfg.inner_lr, learn=False)
    context = synthetic_tokens(model.cfg.vocab_size, model.cfg.window, seed)[0].tolist()
    session.context(context)
    predictor = NotepadPredictor(*notepad, model.cfg.vocab_size, context) if notepad else None
    session.feed(context[:1])  # warm-up
    _sync(device)
    started, cpu_started = time.perf_counter(), time.process_time()
    with _autocast(device):
        for token in context[1 : n_tokens + 1]:
            logits = session.feed([token])
            if predictor is not None:
                predictor.observe([token])
                predictor.log_probs(logits)
    _sync(device)
    return 1000 * (time.perf_counter() - started) / n_tokens, 1000 * (time.process_time() - cpu_started) / n_tokens


def run(model: TTTModel, lengths: Sequence[int], decode_tokens: int = 32, baselines: bool = True, notepad=None) -> dict:
    """Reading rows for each length and decoding latency, also with `notepad` (index, gate)
    mixed in when given."""
    device = model.embed.weight.device
    warm = synthetic_tokens(model.cfg.vocab_size, 4 * model.cfg.chunk + 1, device=device)
    reading_runner(model, warm)()
    rows = []
    for length in lengths:
        tokens = synthetic_tokens(model.cfg.vocab_size, length + 1, device=device)
        row = {"tokens": length}
        seconds, peak, cpu_seconds = measure(reading_runner(model, tokens), device)
        row.update(reading_tok_s=length / seconds, reading_peak_bytes=peak, reading_tok_per_cpu_s=length / cpu_seconds)
        if baselines:
            full_attention_runner(model, warm[:, :-1])()
            seconds, peak, _ = measure(full_attention_runner(model, tokens[:, :-1]), device)
            row.update(full_attention_tok_s=length / seconds, full_attention_peak_bytes=peak)
            row["reading_vs_full_attention"] = row["reading_tok_s"] / row["full_attention_tok_s"]
            if device.type == "cuda":
                with kernels("reference"):
                    seconds, _, _ = measure(reading_runner(model, tokens), device)
                row.update(eager_reading_tok_s=length / seconds)
                row["reading_vs_eager"] = row["reading_tok_s"] / row["eager_reading_tok_s"]
        rows.append(row)
    first = rows[0]["reading_tok_s"]
    for row in rows:
        row["reading_vs_shortest"] = row["reading_tok_s"] / first
    decode_ms, decode_cpu_ms = decode_ms_per_token(model, decode_tokens)
    notepad_row = {}
    if notepad is not None:
        ms, cpu_ms = decode_ms_per_token(model, decode_tokens, notepad=notepad)
        notepad_row = {
            "notepad_tokens": len(notepad[0].tokens),
            "decode_notepad_ms_per_token": ms,
            "decode_notepad_cpu_ms_per_token": cpu_ms,
        }
    return {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({torch.get_num_threads()} threads)",
        "kernels": os.environ.get("TTT_READ_KERNELS", "auto"),
        "rows": rows,
        "decode_ms_per_token": decode_ms,
        "decode_cpu_ms_per_token": decode_cpu_ms,
        **notepad_row,
    }


def package_notepad(tokenizer, info, vocab_size: int):
    """(index, gate) of a real notepad for timing decoding with it: ttt-read's own source,
    read as `ingest` reads it; None when the checkpoint has no gate."""
    from pathlib import Path

    import ttt_read
    from ttt_read.predict import ngram
    from ttt_read.read.ingest import stream
    from ttt_read.text import sources

    gate = ngram.Gate.load(ngram.gate_path(info.path))
    if gate is None:
        return None
    files = sources.collect([Path(ttt_read.__file__).parent]).files
    return ngram.TokenIndex(stream(tokenizer, files)[0], vocab_size), gate
