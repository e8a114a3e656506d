"""Killing `ingest` never leaves a partial snapshot.

Trials: `ingest --force` onto a path that already holds a complete snapshot, killed with
SIGINT or SIGKILL at a random point (seeded): half at a uniformly random time over a run's
whole life, half just as its temp file appears (the write itself). Afterwards the path must
hold the previous snapshot or the new complete one, both checksum-valid; after SIGINT no temp
file is left; after SIGKILL a `.out.mem.*.tmp` may be left, which is never the snapshot and
which `ttt-read ls` never lists. Two runs writing the same output at once end the same way.

So that 20 trials fit in well under a minute, each `ingest` is a fork of one warm process
that has imported torch and ttt_read (and run no torch op, so forking is safe), then runs
`ttt_read.cli.main([...])` exactly as the `ttt-read` entry point does. A real `ttt-read`
process interrupted mid-read is tested in test_cli.py and test_conventions.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SOURCES, cli_env

from ttt_read import names, snapshot
from ttt_read.errors import ExitCode

SEED = int(os.environ.get("TTT_READ_CRASH_SEED", 20240601))
TRIALS = int(os.environ.get("TTT_READ_CRASH_TRIALS", 20))

WORKER = r'''
import json, os, random, signal, sys, time, traceback

import torch  # imported before any fork, and no torch op is run here: the children fork warm and safe
import tokenizers, safetensors.torch  # noqa: F401
from ttt_read import checkpoint, cli, engine, generate, model, notepad, reading, snapshot, sources  # noqa: F401

plan = json.loads(sys.argv[1])


def spawn(argv, log):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # held until the child is set up
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return pid
    code = 99
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        torch.set_num_threads(1)
        try:
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                cli.main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
        except KeyboardInterrupt:  # the signal landed just before main started or after it returned
            code = 130
            print("interrupt outside main", file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def status(raw):
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def run(argv, log, out, sig=None, at=None, at_write=False, jitter=0.0, limit=300.0):
    """Run one ingest; kill it with `sig` `at` seconds in, or `jitter` s after its temp file appears."""
    started = time.monotonic()
    pid = spawn(argv, log)
    prefix = "." + os.path.basename(out) + "."
    killed_at, saw_tmp, tmp_at = None, False, None
    while True:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        now = time.monotonic() - started
        if tmp_at is None and any(n.startswith(prefix) and n.endswith(".tmp") for n in os.listdir(os.path.dirname(out))):
            tmp_at = now
        if sig is not None and killed_at is None:
            if (at is not None and now >= at) or (at_write and tmp_at is not None and now >= tmp_at + jitter):
                saw_tmp = any(n.startswith(prefix) for n in os.listdir(os.path.dirname(out)))
                os.kill(pid, sig)
                killed_at = now
        if now > limit:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.0002 if at_write else 0.002)
    return {"status": status(raw), "seconds": time.monotonic() - started, "killed_at": killed_at,
            "tmp_seen_at": tmp_at, "tmp_present_at_kill": saw_tmp}


results = {}
work = plan["work"]
# the previous snapshot, then one full run of the new ingest to time it
results["previous"] = run(["ingest", plan["old_src"], "-o", plan["previous"], "-q"], os.path.join(work, "previous.log"), plan["previous"])
calib_out = os.path.join(work, "calibration", "out.mem")
results["calibration"] = run(["ingest", plan["new_src"], "-o", calib_out, "-q"], os.path.join(work, "calibration.log"), calib_out, at_write=True)  # polls fast: the temp file lives milliseconds
lifetime = results["calibration"]["seconds"]

rng = random.Random(plan["seed"])
trials = []
for i, trial in enumerate(plan["trials"]):
    out = trial["out"]
    with open(plan["previous"], "rb") as f, open(out, "wb") as g:
        g.write(f.read())
    sig = signal.SIGINT if trial["signal"] == "SIGINT" else signal.SIGKILL
    argv = ["ingest", plan["new_src"], "-o", out, "--force", "-q"]
    if trial["mode"] == "uniform":
        at = rng.uniform(0.0, 1.1 * lifetime)
        record = run(argv, trial["log"], out, sig=sig, at=at)
        record["planned_at"] = at
    else:
        jitter = rng.uniform(0.0, 0.002)
        record = run(argv, trial["log"], out, sig=sig, at_write=True, jitter=jitter)
        record["planned_jitter"] = jitter
    trials.append(record | trial)
results["trials"] = trials

# two ingests writing the same output at once, with --force onto a snapshot and without onto nothing
for key, force in (("race_force", True), ("race_new", False)):
    out = plan[key]
    if force:
        with open(plan["previous"], "rb") as f, open(out, "wb") as g:
            g.write(f.read())
    argv = ["ingest", plan["new_src"], "-o", out, "-q"] + (["--force"] if force else [])
    pids = [spawn(argv, out + f".{n}.log") for n in range(2)]
    results[key] = [status(os.waitpid(pid, 0)[1]) for pid in pids]
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def crash_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    old_src, new_src = root / "old.py", root / "new.py"
    old_src.write_text((SOURCES / "errors.py").read_text()[:300])
    new_src.write_text((SOURCES / "dirs.py").read_text()[:300])
    (root / "calibration").mkdir()
    trials = []
    for i in range(TRIALS):
        home = root / f"home-{i}"
        snapshots = home / "data" / "snapshots"
        snapshots.mkdir(parents=True)
        trials.append(
            {
                "signal": "SIGINT" if i % 2 == 0 else "SIGKILL",
                "mode": "uniform" if (i // 2) % 2 == 0 else "write",
                "out": str(snapshots / "out.mem"),
                "log": str(root / f"trial-{i}.log"),
                "home": str(home),
            }
        )
    (root / "race").mkdir()
    plan = {
        "seed": SEED,
        "work": str(root),
        "old_src": str(old_src),
        "new_src": str(new_src),
        "previous": str(root / "previous.mem"),
        "trials": trials,
        "race_force": str(root / "race" / "forced.mem"),
        "race_new": str(root / "race" / "new.mem"),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(plan)], env=cli_env(root / "home"), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return plan, json.loads(result.stdout)


def leftovers(directory: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n != name)


def test_previous_and_calibration_runs_succeed(crash_runs):
    plan, results = crash_runs
    assert results["previous"]["status"] == 0 and results["calibration"]["status"] == 0
    assert results["calibration"]["tmp_seen_at"] is not None, "the run never showed its temp file"


def test_killed_ingest_leaves_the_old_or_the_new_snapshot_never_a_partial_one(crash_runs):
    plan, results = crash_runs
    previous = snapshot.read_metadata(Path(plan["previous"]))
    outcomes = []
    for trial in results["trials"]:
        out = Path(trial["out"])
        log = Path(trial["log"]).read_text()
        where = f"trial {trial} log: {log}"
        assert "Traceback" not in log, where
        meta = snapshot.read_metadata(out)  # checksum-valid, or this raises
        if meta["checksum"] == previous["checksum"]:
            kept = "previous"
        else:
            assert meta["sources"] == [plan["new_src"]] and len(meta["manifest"]) == 1, where
            snapshot.load(out)  # complete: every tensor decodes
            kept = "new"
        extra = leftovers(out.parent, out.name)
        if trial["signal"] == "SIGINT":
            assert trial["status"] in (0, ExitCode.INTERRUPTED), where
            assert extra == [], f"temp files left after SIGINT: {extra}; {where}"
            if trial["status"] == ExitCode.INTERRUPTED and "interrupt outside main" not in log:
                # the one line says what happened: nothing written, or written just before
                said = "was completely written" if kept == "new" else "nothing was written"
                assert "interrupted" in log and said in log, where
        else:
            assert trial["status"] in (0, -9), where
            assert all(re.fullmatch(r"\.out\.mem\..+\.tmp", n) for n in extra), extra
            if extra:  # what a killed run leaves is never taken for the snapshot
                os.environ_backup = os.environ.get("TTT_READ_HOME")
                try:
                    os.environ["TTT_READ_HOME"] = trial["home"]
                    assert [e["name"] for e in names.listing()] == ["out"]
                    assert names.resolve("out") == out
                finally:
                    os.environ.pop("TTT_READ_HOME")
                    if os.environ_backup is not None:
                        os.environ["TTT_READ_HOME"] = os.environ_backup
        if trial["status"] == 0:
            assert kept == "new", where
        outcomes.append((trial["signal"], trial["status"], kept, bool(extra)))
    killed = {sig: sum(1 for s, status, _, _ in outcomes if s == sig and status != 0) for sig in ("SIGINT", "SIGKILL")}
    assert len(outcomes) >= 20 and killed["SIGINT"] >= 3 and killed["SIGKILL"] >= 3, outcomes
    during_write = sum(1 for t in results["trials"] if t["tmp_present_at_kill"])
    print(
        f"\ncrash trials: {len(outcomes)}, one ingest {results['calibration']['seconds']:.2f} s; "
        f"{during_write} killed while the temp file existed; (signal, exit, path holds, temp left): {outcomes}"
    )


def test_concurrent_ingests_to_one_output_leave_one_complete_snapshot(crash_runs):
    plan, results = crash_runs
    forced, fresh = Path(plan["race_force"]), Path(plan["race_new"])
    assert results["race_force"] == [0, 0]
    assert sorted(results["race_new"]) in ([0, 0], [0, ExitCode.EXISTS]), results["race_new"]
    for out in (forced, fresh):
        meta = snapshot.read_metadata(out)
        assert meta["sources"] == [plan["new_src"]]
        snapshot.load(out)
        assert [n for n in os.listdir(out.parent) if n.endswith(".tmp")] == []
    if ExitCode.EXISTS in results["race_new"]:  # the loser said why, in one line
        logs = [Path(f"{fresh}.{n}.log").read_text() for n in range(2)]
        assert any("already exists" in log for log in logs), logs


def test_disk_full_during_the_write_keeps_the_old_snapshot_and_no_temp_file(tmp_path, monkeypatch):
    import errno

    out = tmp_path / "out.mem"
    out.write_bytes(b"the previous snapshot")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(snapshot.TTTReadError) as info:
        snapshot.write_atomic(out, b"new bytes" * 1000, force=True)
    assert info.value.code == ExitCode.OUTPUT and "No space left" in str(info.value)
    assert out.read_bytes() == b"the previous snapshot"
    assert os.listdir(tmp_path) == ["out.mem"]


def test_unwritable_output_directory_is_refused_before_any_work(tmp_path):
    target = Path("/sys") if os.geteuid() == 0 else tmp_path / "ro"
    if os.geteuid() != 0:
        target.mkdir()
        target.chmod(0o555)
    with pytest.raises(snapshot.TTTReadError) as info:
        snapshot.ensure_writable(target / "x.mem", force=False)
    assert info.value.code == ExitCode.OUTPUT and str(info.value).startswith(str(target / "x.mem"))
    snapshot.ensure_writable(tmp_path / "ok.mem", force=False)
    assert sorted(os.listdir(tmp_path)) == ([] if os.geteuid() == 0 else ["ro"]), "the probe left a file"
