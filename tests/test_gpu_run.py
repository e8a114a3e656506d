"""The GPU slot script rehearsed on the CPU at toy scale: every phase runs for real (kernel
tests and self-check under the Triton interpreter, a corpus of frozen real text from
tests/fixtures/ with a prose shard, probe and training, export, held-out evaluation,
benchmark) and OUT holds what a slot brings back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DIFF_V1, FIXTURES, REPO

sys.path.insert(0, str(REPO / "tools"))  # `gpu_run`: the slot harness is a tool, not shipped in the package

TOY_MODEL = {
    "d_model": 32,
    "n_layers": 2,
    "n_heads": 2,
    "mlp_hidden": 48,
    "prime_hidden": 40,
    "n_suffix": 1,
    "window": 16,
    "chunk": 8,
}
MAX_FILES, MAX_FILE_BYTES = 8, 16 * 2**20  # what comes back from a slot


@pytest.fixture(scope="module")
def prose_shard(tmp_path_factory) -> Path:
    """A shard written by `gpu_run shard` from a corpus of frozen prose fixtures."""
    from gpu_run import write_shard

    from ttt_read.train.corpus import build_corpus

    texts = tmp_path_factory.mktemp("prose")
    for path in (FIXTURES / "email" / "architecture.rst", FIXTURES / "LICENSE-PSF.txt"):
        (texts / f"{path.parent.name}-{path.stem}.txt").write_text(path.read_text())
    corpus = tmp_path_factory.mktemp("prose-corpus")
    build_corpus([f"prose={texts}"], corpus, tokenizer_path=REPO / "models" / "default" / "tokenizer.json",
                 val_fraction=0.0, min_val_code=0, min_val_prose=0)  # fmt: skip
    shard = tmp_path_factory.mktemp("shard") / "prose.tar.xz"
    summary = write_shard(corpus, shard, max_chars=10**7)
    assert summary["documents"] >= 1 and summary["chars"] > 4000
    return shard


@pytest.fixture(scope="module")
def held_out_code(tmp_path_factory) -> Path:
    """Frozen code (the diff fixture's first tree) under a name that the corpus's split sends
    to validation (a document is held out when its name hashes below the validation fraction),
    so the eval phase has a held-out document while training reads the `email` fixture."""
    import inspect
    import itertools
    import shutil

    from ttt_read.train.corpus import _unit, build_corpus

    fraction = inspect.signature(build_corpus).parameters["val_fraction"].default
    name = next(f"held-out-{i}" for i in itertools.count() if _unit(f"held-out-{i}") < fraction)
    return shutil.copytree(DIFF_V1, tmp_path_factory.mktemp("held-out") / name)


def test_slot_rehearsal(prose_shard, held_out_code, tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    command = [
        # Budgets far above what the toy run needs: on a loaded machine a phase may be slow, and a
        # rehearsal must test the script, not the machine's speed.
        "bash", str(REPO / "tools" / "gpu_slot.sh"), str(out), "--work", str(work), "--slot-s", "3000",
        "--kernels-s", "600", "--corpus-s", "600", "--export-s", "300", "--eval-s", "300", "--bench-s", "300",
        "--train-s", "4", "--model-config", json.dumps(TOY_MODEL), "--seq-len", "64", "--batch", "1",
        "--probe-steps", "1",
        "--source", str(FIXTURES / "email"), "--source", str(held_out_code),  # frozen, whatever the Python
        "--prose-shard", str(prose_shard), "--kernel-tests", "test_clipped_sgd and float",
        "--eval-tokens", "600", "--eval-per-kind", "1", "--bench-lengths", "64,128",
    ]  # fmt: skip
    env = {
        k: v for k, v in os.environ.items() if k not in ("TTT_READ_KERNELS", "TTT_READ_REFERENCE_OPS", "TTT_READ_MODEL")
    }
    done = subprocess.run(command, env=env | {"PYTHON": sys.executable}, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    phases = results["phases"]

    assert phases["kernels"]["tests_exit"] == 0 and phases["kernels"]["reference_ops"] == ""
    assert all(op["ok"] for op in phases["kernels"]["selfcheck"]["ops"].values())
    assert phases["corpus"]["ok"] and phases["corpus"]["totals"]["prose"]["documents"] >= 1
    assert phases["pretrain"]["saved"] and phases["pretrain"]["last"]["step"] >= 1
    assert phases["meta"]["saved"] and phases["meta"]["last"]["step"] >= 1
    assert phases["export-pretrain"]["ok"] and phases["export-meta"]["ok"]
    assert f"--init {work / 'pretrained'}" in (out / "log.txt").read_text()  # meta-training starts from it

    from ttt_read.read import checkpoint

    model, _ = checkpoint.load(checkpoint.resolve(str(out / "checkpoint")), "cpu")
    assert model.cfg.d_model == TOY_MODEL["d_model"]
    evaluation = phases["eval"]["result"]
    assert evaluation["bytes"] > 0 and evaluation["xz_bits_per_byte"] > 0
    assert {"default reading on", "checkpoint reading on", "checkpoint reading off"} <= evaluation["settings"].keys()
    assert [row["tokens"] for row in phases["bench"]["rows"]] == [64, 128]
    assert phases["end"]["checkpoint"] == str(out / "checkpoint")

    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) <= MAX_FILES and all(p.stat().st_size < MAX_FILE_BYTES for p in files)
    assert all(len(p.relative_to(out).parts) <= 3 for p in files)
    assert "done" in (out / "log.txt").read_text()


def test_a_meta_trained_checkpoint_continues_without_a_second_reading_lr_warmup(tmp_path):
    """Pretraining then meta-training from its export by default; `--pretrain-share 0` with
    `--init` continues meta-training that checkpoint at the lower lr, its reading lr as is."""
    from gpu_run import Plan, phases

    plan = Plan(out=tmp_path / "out", work=tmp_path / "work")
    pretrain, meta = phases(plan, tmp_path / "pretrained")
    assert (pretrain.mode, pretrain.init, pretrain.lr) == ("pretrain", None, plan.lr)
    assert (meta.mode, meta.init, meta.lr, meta.inner_lr_warmup) == (
        "meta",
        str(tmp_path / "pretrained"),
        plan.meta_lr,
        0.1,
    )
    (only,) = phases(Plan(out=plan.out, work=plan.work, init="default", pretrain_share=0.0), tmp_path / "pretrained")
    assert (only.mode, only.init, only.lr, only.inner_lr_warmup) == ("meta", "default", plan.meta_lr, 0.0)
    (scratch,) = phases(Plan(out=plan.out, work=plan.work, pretrain_share=0.0), tmp_path / "pretrained")
    assert (scratch.init, scratch.lr, scratch.inner_lr_warmup) == (None, plan.lr, 0.1)


def test_failing_kernel_tests_blame_their_ops():
    """A failing per-op test sends its op to the reference; a failing end-to-end test or a
    crashed test run sends every op; a run out of time leaves the choice to the self-check."""
    from gpu_run import failing_ops
    from ttt_read.kernels import OPS

    per_op = (
        "FAILED tests/test_kernels.py::test_window_attention_mixed_dtypes[cuda] - AssertionError: forward\n"
        "FAILED tests/test_kernels.py::test_cross_entropy_at_model_shapes[16384] - AssertionError: gradient 1\n"
        "2 failed, 61 passed in 48.02s\n"
    )
    assert failing_ops(per_op, 1) == {"attention", "cross_entropy"}
    end_to_end = "FAILED tests/test_kernels.py::test_reading_at_model_shapes_under_autocast - AssertionError\n"
    assert failing_ops(end_to_end, 1) == set(OPS)
    assert failing_ops("Fatal Python error: Aborted\n", -6) == set(OPS)
    assert failing_ops("", None) == set() and failing_ops("63 passed in 50.00s\n", 0) == set()


def test_a_phase_out_of_time_is_asked_to_stop_before_it_is_killed(tmp_path):
    """A phase past its time gets SIGTERM first, so a training run saves the step under way
    (as `train run` does on SIGTERM); only one that ignores it is killed."""
    from gpu_run import Plan, Slot

    slot = Slot(Plan(out=tmp_path / "out", work=tmp_path / "work"))
    saved = tmp_path / "saved"
    gentle = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *_: (open({str(saved)!r}, 'w').write('step'), sys.exit(130)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = slot.start([sys.executable, "-c", gentle], "gentle")
    while "ready" not in (tmp_path / "work" / "gentle.stdout").read_text():
        assert process.poll() is None
        time.sleep(0.05)
    assert slot.finish(process, "gentle", timeout=0.5)[0] is None
    assert saved.read_text() == "step" and process.returncode == 130  # it stopped itself, not SIGKILL
