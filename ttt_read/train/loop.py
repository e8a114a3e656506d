"""Pretraining and TTT-E2E meta-training: one resumable loop for both.

`pretrain` fits the sliding-window model with its fast weights frozen at W_0 (reading off).
`meta` reads every training sequence chunk by chunk exactly as `ingest` does and trains
all parameters, W_0 included, on the mean pre-update chunk loss, with gradients flowing
through every inner clipped-SGD step (second order) and through the carried caches.

A run directory holds `train.json` (the configuration) and `state.pt` (weights, optimizer,
step). Data is drawn from a generator seeded by (seed, step, rank), so a resumed run sees
the same batches as an uninterrupted one and ends bit-identical. Under `torchrun` each
rank draws its own batch and gradients are averaged with an all-reduce.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from ttt_read.core import interrupts
from ttt_read.read import checkpoint
from ttt_read.read.config import ModelConfig
from ttt_read.read.model import TTTModel
from ttt_read.read.reading import forward_losses, read
from ttt_read.text import tokenizer as tok
from ttt_read.train.config import TrainConfig
from ttt_read.train.corpus import TokenCorpus
from ttt_read.train.qa_turns import answer_weights, qa_window


def _world() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _device(rank: int) -> torch.device:
    if torch.cuda.is_available():
        torch.cuda.set_device(rank % torch.cuda.device_count())
        return torch.device("cuda")
    return torch.device("cpu")


def build_model(cfg: TrainConfig, device: torch.device) -> TTTModel:
    """The run's model; its config carries the reading lr it is trained for, so that
    `export` writes it to `config.json` and `ingest` reads at it."""
    if cfg.init:
        model, _ = checkpoint.load(checkpoint.resolve(cfg.init), str(device), settings=cfg.model)
        model.train().requires_grad_(True)
    else:
        tokenizer = tok.load(Path(cfg.corpus) / "tokenizer.json")
        torch.manual_seed(cfg.seed)
        model = TTTModel(ModelConfig(vocab_size=tokenizer.get_vocab_size(), **cfg.model)).to(device)
    if cfg.inner_lr is not None:
        model.cfg = dataclasses.replace(model.cfg, inner_lr=cfg.inner_lr)
    return model


def make_optimizer(model: TTTModel, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW(0.9, 0.95); no weight decay on norm gains (1-D parameters)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), fused=False)


MIXED_OPENING = (0.1, 0.4)  # share of a mixed QA sequence taken by the other document's text


def batch_tokens(
    corpus: TokenCorpus, cfg: TrainConfig, step: int, rank: int, tokenizer, *, context: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [B, seq_len + 1] of one step and the loss weight of each prediction [B, seq_len].

    `context` is the model's attention window, which grounded QA turns must fit in.
    """
    rng = np.random.default_rng([cfg.seed, step, rank])
    rows = []
    for _ in range(cfg.batch):
        window = corpus.sample(rng, cfg.seq_len)
        if cfg.qa_fraction > 0 and rng.random() < cfg.qa_fraction:
            recall_until = None
            if cfg.qa_mixed > 0 and rng.random() < cfg.qa_mixed:
                # A fact read before unrelated text (a README, then code): asked about at the end.
                recall_until = int(cfg.seq_len * rng.uniform(*MIXED_OPENING))
                window = np.concatenate([corpus.sample(rng, recall_until)[:recall_until], window])[: cfg.seq_len + 1]
            qa_rng = random.Random(int(rng.integers(2**32)))
            window = qa_window(
                window,
                tokenizer,
                cfg.qa_budget,
                cfg.qa_grounded,
                context=context,
                rng=qa_rng,
                recall_until=recall_until,
            )
        rows.append(window)
    tokens = np.stack(rows).astype(np.int64)
    return torch.from_numpy(tokens), torch.from_numpy(answer_weights(tokens, tokenizer, cfg.answer_weight))


def step_loss(
    model: TTTModel, tokens: torch.Tensor, weights: torch.Tensor, cfg: TrainConfig, step: int
) -> torch.Tensor:
    """Weighted mean next-token loss: with reading off (pretrain), or after each chunk is
    read by the inner loop (meta: the pre-update loss, differentiated through the updates)."""
    if cfg.mode == "pretrain":
        losses = forward_losses(model, tokens)
    else:
        lr = cfg.inner_learning_rate(step, model.cfg.inner_lr)
        losses = read(model, tokens, lr=lr, create_graph=True).token_losses
    return (losses * weights).sum() / weights.sum()


def train(
    run_dir: Path, cfg: TrainConfig | None = None, max_steps: int | None = None, time_budget: float | None = None
) -> dict:
    """Train until `cfg.steps`, `max_steps` more steps, or `time_budget` seconds; resumable.

    A new run needs `cfg`; an existing run directory resumes with its own configuration.
    Returns the last logged record.
    """
    run_dir = Path(run_dir)
    rank, world = _world()
    device = _device(rank)
    config_path, state_path = run_dir / "train.json", run_dir / "state.pt"
    if config_path.exists():
        cfg = TrainConfig(**json.loads(config_path.read_text()))
    elif cfg is None:
        raise FileNotFoundError(f"{run_dir}: no train.json to resume from")
    elif rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        config_path.write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    model = build_model(cfg, device)
    optimizer = make_optimizer(model, cfg)
    step = 0
    if state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
    corpus = TokenCorpus(Path(cfg.corpus), "train")
    tokenizer = tok.load(Path(cfg.corpus) / "tokenizer.json")
    stop = cfg.steps if max_steps is None else min(cfg.steps, step + max_steps)
    started, first_step, record = time.perf_counter(), step, {}
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    with interrupts.between_steps() as stop_requested:
        while step < stop:
            tokens, weights = (
                t.to(device) for t in batch_tokens(corpus, cfg, step, rank, tokenizer, context=model.cfg.window)
            )
            for group in optimizer.param_groups:
                group["lr"] = cfg.learning_rate(step)
            interrupts.point("training-step")
            with autocast:
                loss = step_loss(model, tokens, weights, cfg, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if world > 1:
                for p in model.parameters():
                    dist.all_reduce(p.grad)
                    p.grad /= world
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            out_of_time = time_budget is not None and time.perf_counter() - started > time_budget
            stopping = _any_rank(out_of_time or bool(stop_requested), world)
            if step % cfg.log_every == 0 or step == stop or stopping:
                record = {
                    "step": step,
                    "loss": round(float(loss.detach()), 4),
                    "grad_norm": round(float(grad_norm), 3),
                    "lr": cfg.learning_rate(step - 1),
                    "tokens_per_s": round(
                        cfg.seq_len * cfg.batch * world * (step - first_step) / (time.perf_counter() - started)
                    ),
                    "elapsed_s": round(time.perf_counter() - started, 1),
                }
                if rank == 0:
                    with open(run_dir / "log.jsonl", "a") as f:
                        f.write(json.dumps(record) + "\n")
            if rank == 0 and (step % cfg.save_every == 0 or step == stop or stopping):
                _save_state(state_path, model, optimizer, step)
            if stopping:
                break
    if stop_requested:
        raise KeyboardInterrupt  # reported as "interrupted after state.pt was completely written"
    if world > 1:
        record["replicas_identical"] = _replicas_identical(model)
        dist.destroy_process_group()  # joins gloo's threads: a rank left with them aborts at exit
        if not record["replicas_identical"]:
            raise RuntimeError("data-parallel ranks hold different weights")
    return record


def _replicas_identical(model: TTTModel) -> bool:
    """Compare an exact fingerprint of every rank's weights (sum and sum of squares, fp64)."""
    flat = torch.cat([p.detach().double().flatten() for p in model.parameters()])
    mine = torch.stack([flat.sum(), flat.pow(2).sum()])
    gathered = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, mine)
    return all(torch.equal(g, mine) for g in gathered)


def _any_rank(flag: bool, world: int) -> bool:
    """True when any rank has the flag: every rank must stop at the same step (each one
    times its own budget and receives its own signals)."""
    if world == 1:
        return flag
    flag_tensor = torch.tensor([float(flag)], device=_device(dist.get_rank()))
    dist.all_reduce(flag_tensor, op=dist.ReduceOp.MAX)
    return bool(flag_tensor.item())


def _save_state(path: Path, model: TTTModel, optimizer, step: int) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp)
    with interrupts.held():
        os.replace(tmp, path)
        interrupts.COMMITTED.append(path)


def export(run_dir: Path, out_dir: Path, card: str | None = None) -> None:
    """Write a run's current weights as a shippable checkpoint directory."""
    cfg = TrainConfig(**json.loads((Path(run_dir) / "train.json").read_text()))
    model = build_model(cfg, torch.device("cpu"))
    model.load_state_dict(torch.load(Path(run_dir) / "state.pt", map_location="cpu", weights_only=True)["model"])
    tokenizer = tok.load(Path(cfg.corpus) / "tokenizer.json")
    checkpoint.save(model, tokenizer, Path(out_dir), card)
