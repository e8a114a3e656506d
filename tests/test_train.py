"""The training pipeline on a tiny configuration: resumable bit-exactly, and data-parallel."""

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import DIFF_V1, FIXTURES, default_sigint

from ttt_read import kernels
from ttt_read.ask.answer import ANSWER_RESERVE
from ttt_read.core.interrupts import TEST_VARIABLE
from ttt_read.read.config import ModelConfig
from ttt_read.read.model import TTTModel
from ttt_read.read.reading import read
from ttt_read.text import tokenizer as tok
from ttt_read.train.corpus import TokenCorpus, build_corpus
from ttt_read.train.loop import MIXED_OPENING, TrainConfig, batch_tokens, export, train

TRAINING_TEXT = [FIXTURES / "email", DIFF_V1]
TINY_MODEL = {
    "d_model": 32,
    "n_layers": 4,
    "n_heads": 2,
    "mlp_hidden": 64,
    "prime_hidden": 32,
    "n_suffix": 1,
    "window": 32,
    "chunk": 16,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Real code frozen in tests/fixtures/ (CPython's `email` modules, and `json`'s scanner and
    tool with three more modules), so the windows the tests draw stay the same from commit to
    commit and from one Python to another."""
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(TRAINING_TEXT, out, vocab_size=400, min_val_code=0, min_val_prose=0, val_fraction=0.0)
    return out


def tiny_config(corpus: Path, mode: str) -> TrainConfig:
    return TrainConfig(
        corpus=str(corpus),
        mode=mode,
        model=TINY_MODEL,
        seq_len=96,
        batch=2,
        steps=6,
        lr=1e-2,
        warmup=2,
        save_every=100,
        log_every=1,
    )


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "state.pt", weights_only=True)["model"]


@pytest.mark.parametrize("mode", ["pretrain", "meta"])
def test_resumed_run_ends_bit_identical(corpus, tmp_path, mode):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(straight, tiny_config(corpus, mode))
    train(resumed, tiny_config(corpus, mode), max_steps=3)
    assert torch.load(resumed / "state.pt", weights_only=True)["step"] == 3
    train(resumed)  # picks up train.json and state.pt
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    losses = [json.loads(line)["loss"] for line in (straight / "log.jsonl").read_text().splitlines()]
    assert len(losses) == 6 and all(math.isfinite(loss) for loss in losses)  # one record per step


def test_meta_training_changes_the_initial_fast_weights(corpus, tmp_path):
    """W_0 is trained by the outer loss through the inner updates (second order)."""
    run = tmp_path / "meta"
    train(run, tiny_config(corpus, "meta"), max_steps=1)
    vocab = tok.load(corpus / "tokenizer.json").get_vocab_size()
    torch.manual_seed(0)
    initial = TTTModel(ModelConfig(vocab_size=vocab, **TINY_MODEL)).state_dict()
    trained = weights(run)
    prime = [k for k in trained if ".prime." in k]
    assert prime and all(not torch.equal(initial[k], trained[k]) for k in prime)


def test_meta_gradient_matches_finite_differences_through_every_inner_step(monkeypatch):
    """In float64 the outer gradient equals a central finite difference of the outer loss,
    along a random direction in all parameters; a first-order version (each inner gradient
    treated as a constant) misses the curvature of the inner steps and fails the same check."""
    torch.manual_seed(0)
    model = TTTModel(ModelConfig(vocab_size=64, **TINY_MODEL)).double()
    for p in model.parameters():
        if p.dim() >= 2:
            torch.nn.init.normal_(p, std=0.3)  # large enough weights for the inner steps to curve
    tokens = torch.randint(0, 64, (2, 4 * TINY_MODEL["chunk"] + 1))  # four chunks, caches carried
    params = list(model.parameters())
    direction = [torch.randn_like(p) for p in params]

    def outer_loss() -> torch.Tensor:
        return read(model, tokens, lr=1.0, create_graph=True).chunk_losses.mean()

    def along_direction(grads) -> float:
        return sum((g * d).sum() for g, d in zip(grads, direction)).item()

    def shifted_loss(eps: float) -> float:
        with torch.no_grad():
            for p, d in zip(params, direction):
                p.add_(eps * d)
        loss = outer_loss().item()
        with torch.no_grad():
            for p, d in zip(params, direction):
                p.sub_(eps * d)
        return loss

    eps = 1e-6
    numeric = (shifted_loss(eps) - shifted_loss(-eps)) / (2 * eps)
    exact = along_direction(torch.autograd.grad(outer_loss(), params))
    sgd = kernels.clipped_sgd
    monkeypatch.setattr(kernels, "clipped_sgd", lambda w, g, lr: sgd(w, [x.detach() for x in g], lr))
    first_order = along_direction(torch.autograd.grad(outer_loss(), params))
    assert abs(exact - numeric) <= 1e-7 * abs(numeric)
    assert abs(first_order - numeric) >= 1e-2 * abs(numeric)


@pytest.mark.parametrize("signal_name", ["INT", "TERM"])
def test_a_stopped_run_saves_the_step_it_was_in_and_resumes_from_it(corpus, tmp_path, signal_name):
    """Ctrl-C (or the SIGTERM of `kill`, a job scheduler) during step 1 lets that step
    finish and be saved: exit 130, the message names the saved state, nothing is lost."""
    run = tmp_path / "stopped"
    cmd = [sys.executable, "-m", "ttt_read", "train", "run", str(run), "--corpus", str(corpus)]
    cmd += ["--model-config", json.dumps(TINY_MODEL), "--seq-len", "96", "--batch", "2", "--steps", "4"]
    cmd += ["--warmup", "1", "--save-every", "100"]
    how = "training-step" + ("" if signal_name == "INT" else ":TERM")
    env = {**os.environ, TEST_VARIABLE: how, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, preexec_fn=default_sigint)
    assert done.returncode == 130, done.stderr
    saved = f"ttt-read: interrupted after {run / 'state.pt'} was completely written"
    assert done.stderr.strip().splitlines()[-1] == saved
    assert torch.load(run / "state.pt", weights_only=True)["step"] == 1  # the step under way, not the last save
    env.pop(TEST_VARIABLE)
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(run / "state.pt", weights_only=True)["step"] == 4


def test_export_writes_the_reading_lr_the_run_trained_for(corpus, tmp_path):
    run, out = tmp_path / "meta", tmp_path / "exported"
    cfg = dataclasses.replace(tiny_config(corpus, "meta"), inner_lr=0.3, inner_lr_warmup=0.0)
    train(run, cfg, max_steps=1)
    export(run, out)
    assert ModelConfig.load(out / "config.json").inner_lr == 0.3
    continued = tmp_path / "continued"
    train(continued, dataclasses.replace(cfg, init=str(out), inner_lr=None), max_steps=1)
    export(continued, tmp_path / "again")
    assert ModelConfig.load(tmp_path / "again" / "config.json").inner_lr == 0.3  # kept from --init


def test_a_checkpoint_trains_on_at_another_update_size(corpus, tmp_path, capsys):
    """--model-config over --init: settings that keep the weights' shapes (b), not others."""
    from ttt_read.cli import main

    run, out = tmp_path / "pre", tmp_path / "pretrained"
    train(run, tiny_config(corpus, "pretrain"), max_steps=1)
    export(run, out)
    again = tmp_path / "again"
    train(again, dataclasses.replace(tiny_config(corpus, "meta"), init=str(out), model={"chunk": 8}), max_steps=1)
    export(again, tmp_path / "at8")
    assert ModelConfig.load(tmp_path / "at8" / "config.json").chunk == 8
    assert weights(again).keys() == weights(run).keys()
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "train",
                "run",
                str(tmp_path / "wider"),
                "--corpus",
                str(corpus),
                "--init",
                str(out),
                "--model-config",
                '{"d_model": 64}',
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ttt-read: error: --model-config: d_model would change the shapes") and "\n" not in err
    assert not (tmp_path / "wider").exists()  # nothing written


def test_two_process_torchrun_keeps_replicas_identical(corpus, tmp_path):
    run = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a free port and local rendezvous: no port fixed in advance to collide on
        "--nproc_per_node",
        "2",
        "-m",
        "ttt_read",
        "train",
        "run",
        str(run),
        "--corpus",
        str(corpus),
        "--mode",
        "meta",
        "--model-config",
        json.dumps(TINY_MODEL),
        "--seq-len",
        "96",
        "--batch",
        "1",
        "--steps",
        "3",
        "--warmup",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[:3000] + "\n...\n" + done.stderr[-1500:]  # ranks first, then torchrun
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert len(records) == 1 and records[0]["replicas_identical"] is True
    assert torch.load(run / "state.pt", weights_only=True)["step"] == 3


def test_qa_sequences_end_in_questions_about_their_own_text_beyond_attention(corpus):
    """Plain (not grounded) turns ask about text more than the attention window before them:
    every word of every answer is there."""
    context = 600
    cfg = dataclasses.replace(tiny_config(corpus, "meta"), batch=4, seq_len=1600, qa_fraction=1.0, qa_budget=120)
    tokenizer = tok.load(corpus / "tokenizer.json")
    batch, weights = batch_tokens(
        TokenCorpus(corpus, "train"), cfg, step=0, rank=0, tokenizer=tokenizer, context=context
    )
    assert batch.shape == (cfg.batch, cfg.seq_len + 1) and weights.shape == (cfg.batch, cfg.seq_len)
    question = tokenizer.token_to_id(tok.QUESTION)
    asked = [row for row in batch.tolist() if question in row]  # a short window may offer nothing to ask
    assert len(asked) >= cfg.batch - 1
    answers = 0
    for row in asked:
        first_question = row.index(question)
        assert first_question >= cfg.seq_len + 1 - cfg.qa_budget
        far = set(re.findall(r"\w+", tokenizer.decode(row[: first_question - context], skip_special_tokens=False)))
        turns = tokenizer.decode(row[first_question:], skip_special_tokens=False).split(tok.ANSWER)[1:]
        for turn in turns[:-1]:  # the last may be cut short by the budget
            answer = turn.split(tok.END_OF_TEXT)[0]
            assert answer.strip() and set(re.findall(r"\w+", answer)) <= far, answer
            answers += 1
    assert answers >= 4


def test_mixed_qa_sequences_ask_about_the_other_documents_opening(corpus):
    """A mixed sequence opens with another document's text (a fact read before unrelated
    text); its plain turns ask about that opening only."""
    cfg = dataclasses.replace(
        tiny_config(corpus, "meta"), batch=4, seq_len=2400, qa_fraction=1.0, qa_budget=400, qa_mixed=1.0
    )
    tokenizer = tok.load(corpus / "tokenizer.json")
    batch, _ = batch_tokens(TokenCorpus(corpus, "train"), cfg, step=0, rank=0, tokenizer=tokenizer, context=32)
    assert batch.shape == (cfg.batch, cfg.seq_len + 1)
    opening = int(cfg.seq_len * MIXED_OPENING[1])
    answers = 0
    for row in batch.tolist():
        words = set(re.findall(r"\w+", tokenizer.decode(row[:opening], skip_special_tokens=False)))
        tail = tokenizer.decode(row[cfg.seq_len + 1 - cfg.qa_budget :], skip_special_tokens=False)
        for turn in tail.split(tok.ANSWER)[1:-1]:  # the last may be cut short by the budget
            answer = turn.split(tok.END_OF_TEXT)[0]
            assert set(re.findall(r"\w+", answer)) <= words, answer
            answers += 1
    assert answers >= 4


def test_answer_tokens_alone_carry_the_answer_weight(corpus):
    """Over several batches (a short window may offer nothing to ask, and which windows are
    drawn follows the repository's own text), exactly the answer tokens weigh 5."""
    cfg = dataclasses.replace(
        tiny_config(corpus, "meta"), seq_len=400, qa_fraction=1.0, qa_budget=160, answer_weight=5.0
    )
    tokenizer = tok.load(corpus / "tokenizer.json")
    answered = 0
    for step in range(8):
        batch, weights = batch_tokens(
            TokenCorpus(corpus, "train"), cfg, step=step, rank=0, tokenizer=tokenizer, context=32
        )
        assert set(weights.unique().tolist()) <= {1.0, 5.0}
        for row, w in zip(batch.tolist(), weights.tolist()):
            weighted = [token for token, weight in zip(row[1:], w) if weight == 5.0]
            tail = tokenizer.decode(row, skip_special_tokens=False)
            answers = ["".join(turn.partition(tok.END_OF_TEXT)[:2]) for turn in tail.split(tok.ANSWER)[1:]]
            assert tokenizer.decode(weighted, skip_special_tokens=False) == "".join(answers)
            answered += bool(weighted)
    assert answered >= 4


def test_grounded_turns_put_the_answer_passage_in_the_window(corpus):
    """A grounded turn is what `ask` feeds the model: the retrieved passages and the question,
    fitted in the attention window with room for the answer; retrieval is real, so most (not
    necessarily all) passages hold their answer."""
    context = 256
    cfg = dataclasses.replace(
        tiny_config(corpus, "meta"), batch=4, seq_len=2400, qa_fraction=1.0, qa_budget=1200, qa_grounded=1.0
    )
    tokenizer = tok.load(corpus / "tokenizer.json")
    batch, _ = batch_tokens(TokenCorpus(corpus, "train"), cfg, step=0, rank=0, tokenizer=tokenizer, context=context)
    end, answer_marker = tokenizer.token_to_id(tok.END_OF_TEXT), tokenizer.token_to_id(tok.ANSWER)
    turns, grounded = 0, 0
    for row in batch.tolist():
        tail = row[cfg.seq_len + 1 - cfg.qa_budget :]
        closes = [i for i, t in enumerate(tail) if t == end and answer_marker in tail[:i]]
        for start, stop in zip([0] + [c + 1 for c in closes], closes):
            if start == 0:
                continue  # the first turn may start before the tail
            turn = tail[start : stop + 1]
            assert turn.index(answer_marker) < context - ANSWER_RESERVE  # room left to answer
            text = tokenizer.decode(turn, skip_special_tokens=False)
            passages, qa_part = text.split(tok.QUESTION)
            answer = qa_part.split(tok.ANSWER)[1].removesuffix(tok.END_OF_TEXT)
            assert passages.startswith(tok.FILE)
            turns += 1
            grounded += answer in passages
    assert turns >= 4 and grounded >= 0.6 * turns
