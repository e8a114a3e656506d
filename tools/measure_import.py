"""Reproduce the README's "Bring your own model" numbers.

Those numbers are about checkpoints that were never meta-trained: a tiny Llama trained here
for a few minutes (what reading does to a real, if small, language model) and a random
checkpoint shaped like SmolLM2-135M (speed and snapshot size at a realistic shape). Run from
the repository root, on the CPU with one torch thread so that CPU time counts work, in this
order (PYTHON_STDLIB is `python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'`):

    python tools/measure_import.py tiny-llama PYTHON_STDLIB tiny --steps 471
    ttt-read models import tiny --name tiny-mlp --fast-weights mlp --window 256 --chunk 64
    ttt-read models import tiny --name tiny-prime --fast-weights prime --window 256 --chunk 64
    python tools/measure_import.py reading PYTHON_STDLIB tiny-mlp,tiny-prime --lrs 0,0.01,0.1,0.3,1,2,4,8
    python tools/measure_import.py smol-shape smol --tokenizer tiny/tokenizer.json
    ttt-read models import smol --name smol135
    python tools/measure_import.py speed smol135 --tokens 2048
    ttt-read ingest ttt_read/errors.py -o smol.mem --model smol135
    ttt-read info smol.mem

Training is seeded and single-threaded: with the same stdlib (Python 3.11) and torch,
`--steps 471` gives the README's tiny model bit for bit (`--seconds` stops on a time budget).
`tiny-llama` and `smol-shape` need `transformers` and `tokenizers`, which ttt-read itself does not.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

HELD_OUT = "asyncio"  # the stdlib package the tiny model never sees, and then reads


def training_files(lib: Path) -> list[Path]:
    """The stdlib's Python files minus the held-out package, tests and installed packages,
    so that reading `asyncio` is reading code the model has not seen."""
    return sorted(
        path
        for path in lib.rglob("*.py")
        if HELD_OUT not in path.parts and "test" not in str(path) and "site-packages" not in path.parts
    )


def train_tokenizer(files: list[Path]):
    """A 2,048-token byte-level BPE (end-of-text is id 0), trained on every fourth file."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator((path.read_text(errors="ignore") for path in files[::4]), trainer)
    return tokenizer


def tiny_llama(lib: Path, out: Path, seconds: float | None, max_steps: int | None) -> None:
    """Train a 4-block Llama of width 128 on the stdlib for a number of steps or a time budget;
    save it as a Hugging Face checkpoint with its tokenizer.json, ready for `ttt-read models import`."""
    import torch
    import transformers

    torch.set_num_threads(1)
    files = training_files(lib)
    tokenizer = train_tokenizer(files)
    ids = []
    for path in files:
        ids += tokenizer.encode(path.read_text(errors="ignore")).ids + [0]
    data = torch.tensor(ids)
    print("train tokens", len(data), flush=True)
    config = transformers.LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        rope_theta=10000.0,
        eos_token_id=0,
        bos_token_id=0,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    peak_lr, warmup, seq, batch = 3e-3, 50, 256, 8
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, betas=(0.9, 0.95), weight_decay=0.1)
    rng = random.Random(0)
    start, step = time.time(), 0
    while (seconds is None or time.time() - start < seconds) and (max_steps is None or step < max_steps):
        starts = [rng.randrange(len(data) - seq - 1) for _ in range(batch)]
        batch_ids = torch.stack([data[offset : offset + seq] for offset in starts])
        for group in optimizer.param_groups:
            group["lr"] = peak_lr * min(1, (step + 1) / warmup)
        loss = model(input_ids=batch_ids, labels=batch_ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        if step % 20 == 0:
            print(f"step {step}  {time.time() - start:.0f}s  loss {loss.item():.3f}", flush=True)
        step += 1
    model.save_pretrained(out)
    tokenizer.save(str(out / "tokenizer.json"))
    print(f"steps {step}, tokens {step * batch * seq}, last loss {loss.item():.3f} -> {out}")


def smol_shape(out: Path, tokenizer: Path) -> None:
    """A random Llama shaped like SmolLM2-135M, in bf16 as the Hub ships it: its speed and
    snapshot size do not depend on the weights, and it needs no download. Any tokenizer.json
    will do (the tiny model's, for one); only its end-of-text token matters."""
    import torch
    import transformers

    config = transformers.LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        tie_word_embeddings=True,
        rope_theta=100000.0,
        rms_norm_eps=1e-5,
        max_position_embeddings=8192,
        eos_token_id=0,
        bos_token_id=0,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out)
    (out / "tokenizer.json").write_bytes(tokenizer.read_bytes())
    print(f"{sum(p.numel() for p in model.parameters())} parameters -> {out}")


def held_out_documents(lib: Path, tokenizer, length: int):
    """The first `length` + 1 tokens of each held-out module that has that many, as [B, T]."""
    import torch

    from ttt_read.read import ingest as engine
    from ttt_read.text import sources

    documents = []
    for path in sorted((lib / HELD_OUT).glob("*.py")):
        ids = engine.tokenize(tokenizer, sources.collect([path]))[0]
        if len(ids) >= length + 1:
            documents.append(ids[: length + 1])
    return torch.tensor(documents)


def reading(lib: Path, names: list[str], rates: list[float], length: int) -> None:
    """Mean next-token loss with reading off (lr 0) and on, per imported model and rate: over
    all tokens, beyond the first window (where attention alone can no longer see the start),
    and over the last 2K tokens. One JSON line each."""
    import torch

    from ttt_read.read import checkpoint
    from ttt_read.read.reading import read

    torch.set_num_threads(1)
    documents = None
    for name in names:
        model, tokenizer = checkpoint.load(checkpoint.resolve(name))
        if documents is None:  # the models share a tokenizer, so the documents are the same
            documents = held_out_documents(lib, tokenizer, length)
            print(f"documents {len(documents)}, tokens each {length}", flush=True)
        for rate in rates:
            with torch.no_grad() if rate == 0 else torch.enable_grad():
                result = read(model, documents, lr=rate)
            losses = result.token_losses
            print(
                json.dumps(
                    {
                        "model": name,
                        "lr": rate,
                        "mean": round(losses.mean().item(), 4),
                        "beyond_window": round(losses[:, model.cfg.window :].mean().item(), 4),
                        "last_2k": round(losses[:, -2048:].mean().item(), 4),
                        "skipped": result.skipped_updates,
                    }
                ),
                flush=True,
            )


def speed(name: str, length: int) -> None:
    """Reading tokens per second of CPU time on one thread, which a loaded machine barely
    changes, beside tokens per wall second, which it does. Reads at the model's own rate."""
    import torch

    from ttt_read.evaluate.bench import synthetic_tokens
    from ttt_read.read import checkpoint
    from ttt_read.read.reading import read

    torch.set_num_threads(1)
    model, _ = checkpoint.load(checkpoint.resolve(name))
    config = model.cfg
    read(model, synthetic_tokens(config.vocab_size, config.chunk + 1), lr=config.inner_lr)  # warm-up
    tokens = synthetic_tokens(config.vocab_size, length + 1, seed=1)
    cpu, wall = time.process_time(), time.perf_counter()
    read(model, tokens, lr=config.inner_lr)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{name}: {length} tokens, W={config.window}, b={config.chunk}: "
        f"{length / cpu:.1f} tokens per CPU-second (1 thread), {length / wall:.1f} per wall second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("tiny-llama", help="train the tiny Llama on the stdlib without asyncio")
    command.add_argument("lib", type=Path, help="Python's standard library directory")
    command.add_argument("out", type=Path, help="checkpoint directory to write")
    command.add_argument("--steps", type=int, help="stop after this many steps")
    command.add_argument("--seconds", type=float, help="stop after this much training time")
    command = commands.add_parser("smol-shape", help="a random bf16 checkpoint shaped like SmolLM2-135M")
    command.add_argument("out", type=Path, help="checkpoint directory to write")
    command.add_argument("--tokenizer", type=Path, required=True, help="tokenizer.json to copy beside it")
    command = commands.add_parser("reading", help="loss with reading off and on over held-out asyncio modules")
    command.add_argument("lib", type=Path, help="Python's standard library directory")
    command.add_argument("names", help="imported models, comma-separated")
    command.add_argument("--lrs", required=True, help="reading rates, comma-separated; 0 is reading off")
    command.add_argument("--tokens", type=int, default=6144, help="tokens read per module")
    command = commands.add_parser("speed", help="reading tokens per CPU-second and per wall second")
    command.add_argument("name", help="imported model")
    command.add_argument("--tokens", type=int, default=2048, help="tokens to read")
    args = parser.parse_args()
    if args.command == "tiny-llama" and args.steps is None and args.seconds is None:
        parser.error("tiny-llama: give --steps or --seconds")
    if args.command == "tiny-llama":
        tiny_llama(args.lib, args.out, args.seconds, args.steps)
    elif args.command == "smol-shape":
        smol_shape(args.out, args.tokenizer)
    elif args.command == "reading":
        reading(args.lib, args.names.split(","), [float(rate) for rate in args.lrs.split(",")], args.tokens)
    else:
        speed(args.name, args.tokens)


if __name__ == "__main__":
    main()
