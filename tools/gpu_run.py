"""One short GPU slot, end to end: check the kernels, build a corpus, train, export, evaluate, bench.

    bash tools/gpu_slot.sh OUT [options]      # fetches nothing; 540 s by default (--slot-s)

Each phase has its own time budget inside the slot, and everything lands in OUT: `log.txt`,
`results.json` (every phase's record, the evaluation and the benchmark) and `checkpoint/`
(config, tokenizer, safetensors shards < 16 MiB). Training saves its state as it goes and
the checkpoint is exported the moment training stops, before evaluation and benchmarking,
so a later phase that fails or runs out of time never costs it.

- kernels: the kernel tests and `kernels.selfcheck` run side by side; an op that fails
  either goes to the PyTorch reference for the rest of the slot (TTT_READ_REFERENCE_OPS).
- corpus: `ttt-read train corpus` over this Python's installed packages and standard
  library, plus an optional prose shard (a .tar.xz of text files, see `shard`), with the
  bundled tokenizer so the bundled model is a fair baseline on the same held-out documents.
  It runs while the kernels are checked.
- train: from scratch at the bundled model's architecture (`--model-config` changes the
  size, `--init DIR` starts from a checkpoint instead), on 16K-token sequences, in two
  runs: sliding-window pretraining for `--pretrain-share` of the time, then TTT-E2E
  meta-training from its export. On CPU, pretraining first then meta-training beat
  pretraining alone at the same compute by 0.48 nats/token beyond 8K (the model card's
  stage 9). A few probe steps measure tokens/s, so each run's step count (and so its
  learning-rate schedule) fits its time. `--pretrain-share 0 --init DIR` continues a
  meta-trained checkpoint, its reading lr not warmed up again.
- eval: held-out documents, bits per byte next to xz, the bundled model as baseline.
- bench: each length in its own process, so a slow long one costs only itself.

Without CUDA the same phases run at whatever scale the options give (the test suite's
rehearsal). `python tools/gpu_run.py shard` writes the prose shard.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "models" / "default"
# Which op a failing kernel test speaks for; a failing test not listed here blames every op.
TEST_OPS = {
    "test_window_attention": "attention",
    "test_attention_at_model_shapes": "attention",
    "test_rms_norm": "norm",
    "test_swiglu": "swiglu",
    "test_linear_cross_entropy": "cross_entropy",
    "test_cross_entropy_at_model_shapes": "cross_entropy",
    "test_clipped_sgd": "sgd",
}
CUDA_LENGTHS = "8192,32768,131072,524288,1048576"
# Pretraining tokens per meta-training token in the same time (CPU, the bundled size at 16K;
# a pretraining run's --time-budget bounds it where the GPU's ratio differs).
PRETRAIN_SPEEDUP = 2.08
STOP_GRACE_S = 20  # after SIGTERM: time to finish the step under way and save it (`train run` stops gently)


@dataclasses.dataclass
class Plan:
    out: Path
    work: Path
    slot_s: float = 540.0  # the whole command, from start to the last file written
    kernels_s: float = 120.0  # kernel tests and self-check, while the corpus builds
    corpus_s: float = 150.0  # from the slot's start; a corpus late past it is rebuilt smaller
    fallback_corpus_s: float = 60.0  # the standard library and the prose shard alone
    export_s: float = 30.0
    eval_s: float = 60.0
    bench_s: float = 100.0
    margin_s: float = 30.0  # process start-up beyond the training budget, and slack
    train_s: float = float("inf")  # at most this long training, whatever the slot leaves
    init: str | None = None  # a checkpoint to continue from; None: from scratch at `model_config`
    model_config: str = "{}"  # ModelConfig fields over the bundled model's, for a run from scratch
    pretrain_share: float = 0.85  # of the training time; the rest meta-trains (1: pretraining only)
    seq_len: int = 16384  # past the 8K that 32K-token evaluations score beyond
    batch: int = 8  # halved until the probe fits in memory
    lr: float = 3e-3  # pretraining's peak (or meta-training's, from scratch)
    meta_lr: float = 1e-3  # meta-training's peak after pretraining or over --init
    warmup: int = 30
    sources: tuple[str, ...] = ()  # corpus sources; empty: this Python's packages and stdlib
    prose_shard: Path | None = None
    corpus_tokens: int = 120_000_000
    kernel_tests: str = "not double_backward"  # pytest -k expression for tests/test_kernels.py
    eval_tokens: int = 32768
    eval_per_kind: int = 4
    bench_lengths: str = CUDA_LENGTHS
    probe_steps: int = 3


class Slot:
    """The clock, the log and the results of one slot."""

    def __init__(self, plan: Plan):
        self.plan, self.started = plan, time.monotonic()
        plan.out.mkdir(parents=True, exist_ok=True)
        plan.work.mkdir(parents=True, exist_ok=True)
        self.results: dict = {"plan": {k: str(v) for k, v in dataclasses.asdict(plan).items()}, "phases": {}}
        self.env = dict(os.environ, TTT_READ_HOME=str(plan.work / "home"), PYTHONUNBUFFERED="1")
        self.env.pop("TTT_READ_MODEL", None)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.plan.slot_s - self.elapsed()

    def log(self, message: str) -> None:
        line = f"[{self.elapsed():6.1f}s] {message}"
        print(line, flush=True)
        with open(self.plan.out / "log.txt", "a") as f:
            f.write(line + "\n")

    def record(self, phase: str, **fields) -> None:
        self.results["phases"].setdefault(phase, {}).update(fields)
        partial = self.plan.out / "results.json.partial"
        partial.write_text(json.dumps(self.results, indent=1) + "\n")
        os.replace(partial, self.plan.out / "results.json")

    def start(self, args: list[str], name: str) -> subprocess.Popen:
        """A child process writing work/NAME.stdout and work/NAME.stderr."""
        self.log(f"{name}: {' '.join(map(str, args))}")
        stdout, stderr = (open(self.plan.work / f"{name}.{stream}", "w") for stream in ("stdout", "stderr"))
        return subprocess.Popen(list(map(str, args)), cwd=REPO, env=self.env, stdout=stdout, stderr=stderr, text=True)

    def finish(self, process: subprocess.Popen, name: str, timeout: float) -> tuple[int | None, str]:
        """Wait at most `timeout` s, then ask it to stop (SIGTERM) and kill it `STOP_GRACE_S`
        later; returns (exit status, None if stopped for time; its stdout). The log gets the
        end of both streams."""
        try:
            rc = process.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            rc = None
        stdout, stderr = ((self.plan.work / f"{name}.{s}").read_text(errors="replace") for s in ("stdout", "stderr"))
        tail = "\n".join((stderr.strip().splitlines() + stdout.strip().splitlines())[-6:])
        self.log(f"{name}: {'out of time' if rc is None else f'exit {rc}'}\n{tail}")
        return rc, stdout

    def run(self, args: list[str], name: str, timeout: float) -> tuple[int | None, str]:
        return self.finish(self.start(args, name), name, timeout)

    def ttt(self, *args) -> list[str]:
        return [sys.executable, "-m", "ttt_read", *map(str, args)]


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def architecture(plan: Plan) -> dict:
    """ModelConfig fields of a run from scratch: the bundled model's (its CPU speed is known),
    with `plan.model_config` on top; vocabulary and reading rate come from training."""
    fields = json.loads((BUNDLED / "config.json").read_text())
    for name in ("vocab_size", "inner_lr"):
        fields.pop(name, None)
    return fields | json.loads(plan.model_config)


def model_config(plan: Plan):
    """The configuration of the model the slot trains (checked by the self-check)."""
    from ttt_read.read.config import ModelConfig

    if plan.init:
        return ModelConfig.load(Path(plan.init) / "config.json")
    vocab = json.loads((BUNDLED / "config.json").read_text())["vocab_size"]
    return ModelConfig(vocab_size=vocab, **architecture(plan))


def failing_ops(output: str, rc: int | None) -> set[str]:
    """Ops the kernel tests blame: those of failing tests; every op if a test outside the
    per-op ones failed or pytest died (a crash says nothing of which op). Out of time: none."""
    from ttt_read.kernels import OPS

    if rc is None or rc in (0, 5):  # 5: no test selected
        return set()
    failed = re.findall(r"^(?:FAILED|ERROR) \S*::(\w+)", output, re.M)
    if rc != 1 or not failed:
        return set(OPS)
    blamed = {TEST_OPS.get(re.sub(r"_(mixed_dtypes|double_backward|under_autocast)$", "", name)) for name in failed}
    return set(OPS) if None in blamed else blamed


def check_kernels(slot: Slot, where: str) -> None:
    """Kernel tests and the self-check at the trained model's shapes, side by side; failing
    ops go to the reference for every later phase."""
    from ttt_read.kernels import OPS, selfcheck

    budget = slot.plan.kernels_s
    tests = slot.start(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_kernels.py",
            "-k",
            slot.plan.kernel_tests,
        ],
        "kernel-tests",
    )
    check = selfcheck.run(model_config(slot.plan), where, timeout=budget)
    rc, output = slot.finish(tests, "kernel-tests", budget - check["seconds"])
    blamed = failing_ops(output, rc) | set(filter(None, check["reference_ops"].split(",")))
    reference = ",".join(op for op in OPS if op in blamed)
    if reference:
        slot.env["TTT_READ_REFERENCE_OPS"] = reference
    summary = re.findall(r"^=* ?(\d+ (?:passed|failed).*?)=*$", output, re.M)
    slot.record(
        "kernels",
        tests_exit=rc,
        tests=summary[-1].strip() if summary else None,
        selfcheck=check,
        reference_ops=reference,
    )
    slot.log(f"kernels: reference for [{reference}]" if reference else "kernels: every Triton kernel passed")


def corpus_sources(plan: Plan, *, fallback: bool = False) -> list[str]:
    """The given sources, else this Python's installed packages and standard library (only
    the standard library for the fallback)."""
    if plan.sources:
        return list(plan.sources)
    kinds = ["stdlib"] if fallback else ["purelib", "platlib", "stdlib"]
    paths = dict.fromkeys(sysconfig.get_paths()[kind] for kind in kinds)
    return [f"packages={p}" for p in paths if Path(p).is_dir()]


def start_corpus(slot: Slot, *, fallback: bool = False) -> subprocess.Popen:
    plan = slot.plan
    sources = corpus_sources(plan, fallback=fallback)
    if plan.prose_shard is not None:
        prose = plan.work / "prose"
        if not prose.exists():
            with tarfile.open(plan.prose_shard) as archive:
                archive.extractall(prose, filter="data")
        sources.append(f"prose={prose}")
    tokenizer = Path(plan.init or BUNDLED) / "tokenizer.json"
    args = slot.ttt("train", "corpus", *sources, "-o", plan.work / "corpus", "--tokenizer", tokenizer,
                    "--max-tokens", plan.corpus_tokens, "--min-val-code", 3, "--min-val-prose", 2,
                    "--json")  # fmt: skip
    return slot.start(args, "corpus")


def finish_corpus(slot: Slot, process: subprocess.Popen) -> bool:
    """Wait for the corpus until `corpus_s` into the slot; if it is not there by then, build
    the fallback corpus within `fallback_corpus_s`."""
    manifest = slot.plan.work / "corpus" / "manifest.json"
    rc, _ = slot.finish(process, "corpus", slot.plan.corpus_s - slot.elapsed())
    if (rc != 0 or not manifest.exists()) and not slot.plan.sources:
        slot.record("corpus", first_exit=rc)
        rc, _ = slot.finish(start_corpus(slot, fallback=True), "corpus", slot.plan.fallback_corpus_s)
    if rc != 0 or not manifest.exists():
        slot.record("corpus", ok=False, exit=rc)
        return False
    totals = json.loads(manifest.read_text())["totals"]
    slot.record("corpus", ok=True, totals=totals, seconds=round(slot.elapsed(), 1))
    return True


@dataclasses.dataclass(frozen=True)
class Phase:
    """One training run of the slot: its mode, starting point and peak learning rate."""

    mode: str  # also its name in the log, the results and the work folder
    init: str | None
    lr: float
    inner_lr_warmup: float = 0.1  # 0 when continuing a meta-trained checkpoint


def phases(plan: Plan, pretrained: Path) -> list[Phase]:
    """Pretraining then meta-training from its export (`pretrained`), or one of the two alone."""
    share = plan.pretrain_share
    if share >= 1:
        return [Phase("pretrain", plan.init, plan.lr)]
    if share <= 0:
        return [Phase("meta", plan.init, plan.meta_lr if plan.init else plan.lr, 0.0 if plan.init else 0.1)]
    return [Phase("pretrain", plan.init, plan.lr), Phase("meta", str(pretrained), plan.meta_lr)]


def _train_args(slot: Slot, phase: Phase, run_dir: Path, steps: int) -> list[str]:
    plan = slot.plan
    args = ["train", "run", run_dir, "--corpus", plan.work / "corpus", "--mode", phase.mode, "--seq-len", plan.seq_len,
            "--batch", plan.batch, "--steps", steps, "--lr", phase.lr,
            "--warmup", min(plan.warmup, max(1, steps // 10))]  # fmt: skip
    args += ["--init", phase.init] if phase.init else ["--model-config", json.dumps(architecture(plan))]
    if phase.mode == "meta":
        args += ["--inner-lr-warmup", phase.inner_lr_warmup]
    return slot.ttt(*args)


def probe(slot: Slot, phase: Phase) -> tuple[float | None, str]:
    """Tokens/s of the phase's training once compiled (a few steps, then a few more in a
    second call), or None and why not."""
    run_dir = slot.plan.work / "probe"
    shutil.rmtree(run_dir, ignore_errors=True)
    rate = None
    for i in range(2):
        args = _train_args(slot, phase, run_dir, 1000) + ["--max-steps", slot.plan.probe_steps, "--json"]
        rc, output = slot.run(args, f"probe-{i}", slot.left() / 4)
        record = _json_or_none(output)
        if rc != 0 or record is None:
            return None, (slot.plan.work / f"probe-{i}.stderr").read_text(errors="replace")
        rate = record["last"]["tokens_per_s"]
    return rate, ""


def fit_probe(slot: Slot, phase: Phase) -> float | None:
    """Probe until training runs: half the batch after running out of memory, the reference
    kernels after any other failure."""
    plan = slot.plan
    for _ in range(4):
        rate, error = probe(slot, phase)
        if rate is not None:
            return rate
        if "out of memory" in error.lower() and plan.batch > 1:
            plan.batch //= 2
            slot.log(f"train: out of memory; batch {plan.batch}")
        elif "TTT_READ_KERNELS" not in slot.env:
            slot.log("train: the probe failed; the reference kernels from here on")
            slot.env["TTT_READ_KERNELS"] = "reference"
        else:
            break
    return None


def train(slot: Slot) -> Path | None:
    """Probe the last phase, then run each phase in its share of the time left after exports,
    eval and bench; the exported checkpoint of the last phase that got one, or None."""
    plan = slot.plan
    runs = phases(plan, plan.work / "pretrained")
    rate = fit_probe(slot, dataclasses.replace(runs[-1], init=plan.init))  # before any export exists
    if rate is None:
        slot.record(runs[-1].mode, ok=False, reason="probe failed")
        return None
    checkpoint, spent = None, 0.0
    for i, phase in enumerate(runs):
        last = i == len(runs) - 1
        reserved = plan.export_s * (len(runs) - i) + plan.eval_s + plan.bench_s + plan.margin_s
        available = min(plan.train_s - spent, slot.left() - reserved)
        budget = max(1.0, available if last else available * plan.pretrain_share)
        speed = rate if last else rate * PRETRAIN_SPEEDUP  # the probe measured the last phase
        steps = max(1, int(speed * budget / (plan.seq_len * plan.batch)))
        run_dir = plan.work / phase.mode
        shutil.rmtree(run_dir, ignore_errors=True)  # an earlier slot's run would be resumed, not replaced
        args = _train_args(slot, phase, run_dir, steps)
        args += ["--save-every", max(1, steps // 6), "--time-budget", max(1, int(budget)), "--json"]
        shape = f"{steps} steps of {plan.batch} x {plan.seq_len}"
        slot.log(f"{phase.mode}: {speed:,.0f} tokens/s, {shape} in {budget:.0f} s")
        started = slot.elapsed()
        rc, output = slot.run(args, phase.mode, budget + 60)
        spent += slot.elapsed() - started
        saved = (run_dir / "state.pt").exists()
        slot.record(phase.mode, ok=rc == 0, exit=rc, tokens_per_s=speed, batch=plan.batch, steps_planned=steps,
                    last=(_json_or_none(output) or {}).get("last"), saved=saved)  # fmt: skip
        exported = saved and export(slot, run_dir, plan.out / "checkpoint" if last else plan.work / "pretrained")
        if not exported:
            break
        checkpoint = exported
    if checkpoint is not None and checkpoint != plan.out / "checkpoint":  # meta-training failed: bring pretraining's
        shutil.copytree(checkpoint, plan.out / "checkpoint")
        checkpoint = plan.out / "checkpoint"
    return checkpoint


def export(slot: Slot, run_dir: Path, target: Path) -> Path | None:
    rc, _ = slot.run(slot.ttt("train", "export", run_dir, target), f"export-{run_dir.name}", slot.plan.export_s)
    shards = sorted(p.name for p in target.glob("*")) if target.exists() else []
    slot.record(f"export-{run_dir.name}", ok=rc == 0, files=shards)
    return target if rc == 0 else None


def evaluate(slot: Slot, model: Path, where: str) -> None:
    plan = slot.plan
    baseline = Path(plan.init or BUNDLED)
    extra = [] if model.resolve() == baseline.resolve() else ["--baseline", baseline]
    args = slot.ttt("eval", "--corpus", plan.work / "corpus", "--model", model, *extra,
                    "--max-tokens", plan.eval_tokens, "--min-tokens", plan.eval_tokens,
                    "--max-per-kind", plan.eval_per_kind, "--device", where, "--json")  # fmt: skip
    rc, output = slot.run(args, "eval", min(plan.eval_s, slot.left() - plan.bench_s))
    slot.record("eval", ok=rc == 0, exit=rc, result=_json_or_none(output))


def bench(slot: Slot, model: Path, where: str) -> None:
    rows = []
    for length in slot.plan.bench_lengths.split(","):
        if slot.left() < 10:
            slot.log(f"bench: no time left for {length} tokens")
            break
        rc, output = slot.run(
            slot.ttt("bench", "--model", model, "--device", where, "--lengths", length, "--json"),
            "bench",
            slot.left() - 5,
        )
        result = _json_or_none(output)
        if rc == 0 and result is not None:
            rows += result["rows"]
            slot.record(
                "bench",
                device=result["device"],
                kernels=result["kernels"],
                decode_ms_per_token=result["decode_ms_per_token"],
                rows=rows,
            )
        else:
            slot.record("bench", failed_length=int(length), exit=rc)
            break


def _json_or_none(output: str):
    """The JSON object a `--json` command printed, or None."""
    try:
        return json.loads(output)
    except json.JSONDecodeError:
        return None


def run(plan: Plan) -> dict:
    slot = Slot(plan)
    where = device()
    slot.record("start", device=where, python=sys.version.split()[0])
    corpus = start_corpus(slot)
    check_kernels(slot, where)
    have_corpus = finish_corpus(slot, corpus)
    checkpoint = train(slot) if have_corpus else None
    model = checkpoint or Path(plan.init or BUNDLED)
    if have_corpus:
        evaluate(slot, model, where)
    bench(slot, model, where)
    slot.record("end", seconds=round(slot.elapsed(), 1), checkpoint=str(checkpoint) if checkpoint else None)
    slot.log("done")
    return slot.results


# --- the prose shard carried into the slot ----------------------------------------------------


def write_shard(corpus: Path, out: Path, *, max_chars: int) -> dict:
    """The prose documents of a built corpus's train split as text files in a .tar.xz, up to
    `max_chars` of text: held-out documents stay held out."""
    from ttt_read.text import tokenizer as tok
    from ttt_read.train.corpus import TokenCorpus

    split = TokenCorpus(corpus, "train")
    tokenizer = tok.load(corpus / "tokenizer.json")
    written, chars = 0, 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:xz", preset=6) as archive:
        for entry, ids in split.iter_documents():
            if entry["kind"] != "prose":
                continue
            text = tokenizer.decode(ids.tolist(), skip_special_tokens=True)
            if chars + len(text) > max_chars:
                break
            data = text.encode()
            info = tarfile.TarInfo(f"{written:04d}-{re.sub(r'[^A-Za-z0-9._-]+', '_', entry['name'])[:80]}.txt")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            written, chars = written + 1, chars + len(text)
    return {"documents": written, "chars": chars, "bytes": out.stat().st_size}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpu_run", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    shard = sub.add_parser("shard", help="write the prose shard from a built corpus")
    shard.add_argument("corpus", type=Path)
    shard.add_argument("output", type=Path)
    shard.add_argument("--max-mb", type=float, default=80.0, help="megabytes of text (about 1/5 of that compressed)")
    slot = sub.add_parser("slot", help="run the slot")
    slot.add_argument("out", type=Path)
    slot.add_argument("--work", type=Path, default=Path("/tmp/ttt-slot"))
    for field in dataclasses.fields(Plan):
        if field.name in ("out", "work", "sources"):
            continue
        kind = type(field.default) if field.default is not None else str
        slot.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=Path if field.name == "prose_shard" else kind,
            default=field.default,
        )
    slot.add_argument(
        "--source", action="append", default=[], help="corpus source (repeatable); default: this Python's packages"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "shard":
        print(json.dumps(write_shard(args.corpus, args.output, max_chars=int(args.max_mb * 1e6))))
    elif args.command == "slot":
        fields = {f.name: getattr(args, f.name) for f in dataclasses.fields(Plan) if f.name != "sources"}
        run(Plan(**fields, sources=tuple(args.source)))
    else:
        _parser().print_help()


if __name__ == "__main__":
    main()
