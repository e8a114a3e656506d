"""Interrupting or killing a command never leaves a partial snapshot and never ends in
anything but exit 130 and one "interrupted" line (or death by SIGKILL).

Every trial stops a command at a named point (`ttt_read.interrupts.point`: the process
sends itself the signal there), so each stage is hit on every run, whatever the machine's
speed: `ingest --force` onto a complete snapshot, stopped with SIGINT or SIGKILL while the
model loads, while it reads, after the temp file is written and while it is renamed into
place; `ask` and `continue` stopped while the model loads, while the notepad is decoded (ask) and
while generating (continue). Afterwards the path holds the previous snapshot or the new complete one,
both checksum-valid; after SIGINT no temp file is left; after SIGKILL a `.out.mem.*.tmp` may
be left, which is never the snapshot and which `ttt-read ls` never lists. Two writers of one
new output without --force: one succeeds, the other exits 5; with --force both succeed.

The worker sets SIGINT to raise KeyboardInterrupt itself, so the result does not depend on
how the suite was started (a shell running `pytest &` leaves SIGINT ignored). Each command
is a fork of one warm process that imported torch and ttt_read (and ran no torch op, so
forking is safe), running `ttt_read.cli.main([...])` exactly as the `ttt-read` entry point
does. A real `ttt-read` process interrupted mid-read is tested in test_cli.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, cli_env

from ttt_read.core.errors import ExitCode
from ttt_read.core.interrupts import TEST_VARIABLE
from ttt_read.read import names, snapshot

WORKER = r"""
import json, os, signal, sys, traceback

import torch  # imported before any fork, and no torch op is run here: the children fork warm and safe
import tokenizers, safetensors.torch  # noqa: F401
from ttt_read.read import checkpoint
from ttt_read import cli
from ttt_read.read import ingest as engine
from ttt_read.predict import generate
from ttt_read.read import model
from ttt_read.notepad import store as notepad
from ttt_read.read import reading
from ttt_read.read import snapshot
from ttt_read.text import sources  # noqa: F401

signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever disposition the parent left
plan = json.loads(sys.argv[1])


def spawn(argv, log, at=None):
    pid = os.fork()
    if pid:
        return pid
    code = 99
    try:
        for stream, path in ((1, log + ".out"), (2, log)):  # stderr alone in `log`
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), stream)
        torch.set_num_threads(1)
        if at is not None:
            os.environ[plan["variable"]] = at
        try:
            cli.main(argv)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def status(raw):
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def run(argv, log, at=None):
    return status(os.waitpid(spawn(argv, log, at), 0)[1])


results = {"previous": run(["ingest", plan["old_src"], "-o", plan["previous"], "-q"], plan["previous"] + ".log")}
for trial in plan["trials"]:
    if trial["command"] == "ingest":
        with open(plan["previous"], "rb") as f, open(trial["out"], "wb") as g:
            g.write(f.read())
        argv = ["ingest", plan["new_src"], "-o", trial["out"], "--force", "-q"]
    else:
        argv = [trial["command"], plan["previous"], "def", "-n", "4"]
    trial["status"] = run(argv, trial["log"], trial["at"])
results["trials"] = plan["trials"]

# two ingests writing one output at once: without --force onto nothing, with --force onto a snapshot
for key, force in (("race_new", False), ("race_force", True)):
    out = plan[key]
    if force:
        with open(plan["previous"], "rb") as f, open(out, "wb") as g:
            g.write(f.read())
    argv = ["ingest", plan["new_src"], "-o", out, "-q"] + (["--force"] if force else [])
    pids = [spawn(argv, out + f".{n}.log") for n in range(2)]
    results[key] = [status(os.waitpid(pid, 0)[1]) for pid in pids]
print(json.dumps(results))
"""

INGEST_POINTS = ("model-load", "reading", "writing", "rename")
ANSWER_POINTS = {"ask": ("model-load", "notepad-decode"), "continue": ("model-load", "generation")}


@pytest.fixture(scope="module")
def crash_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    old_src, new_src = root / "old.py", root / "new.py"
    old_src.write_text((CORPUS / "errors.py").read_text()[:300])
    new_src.write_text((CORPUS / "iterators.py").read_text()[:300])
    trials = []
    for point in INGEST_POINTS:
        for sig in ("INT", "KILL"):
            home = root / f"home-{point}-{sig}"
            (home / "data" / "snapshots").mkdir(parents=True)
            out = home / "data" / "snapshots" / "out.mem"
            at = point if sig == "INT" else f"{point}:KILL"
            trials.append(
                {"command": "ingest", "at": at, "signal": sig, "point": point, "out": str(out), "home": str(home)}
            )
    for command, points in ANSWER_POINTS.items():
        trials += [{"command": command, "at": point, "signal": "INT", "point": point} for point in points]
    for i, trial in enumerate(trials):
        trial["log"] = str(root / f"trial-{i}.log")
    (root / "race").mkdir()
    plan = {
        "variable": TEST_VARIABLE,
        "old_src": str(old_src),
        "new_src": str(new_src),
        "previous": str(root / "previous.mem"),
        "trials": trials,
        "race_force": str(root / "race" / "forced.mem"),
        "race_new": str(root / "race" / "new.mem"),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(plan)],
        env=cli_env(root / "home"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return plan, json.loads(result.stdout)


def leftovers(directory: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n != name)


def test_interrupted_ingest_leaves_the_old_or_the_new_snapshot_never_a_partial_one(crash_runs, monkeypatch):
    plan, results = crash_runs
    assert results["previous"] == 0
    previous = snapshot.read_metadata(Path(plan["previous"]))
    for trial in (t for t in results["trials"] if t["command"] == "ingest"):
        out, log = Path(trial["out"]), Path(trial["log"]).read_text()
        where = f"trial {trial} log: {log}"
        assert "Traceback" not in log, where
        meta = snapshot.read_metadata(out)  # checksum-valid, or this raises
        renamed = trial["point"] == "rename" and trial["signal"] == "INT"  # SIGINT is held until the rename is recorded
        if renamed:
            assert meta["sources"] == [plan["new_src"]] and len(meta["manifest"]) == 1, where
            snapshot.load(out)  # complete: every tensor decodes
        else:
            assert meta["checksum"] == previous["checksum"], where
        extra = leftovers(out.parent, out.name)
        if trial["signal"] == "INT":
            assert trial["status"] == ExitCode.INTERRUPTED, where
            assert extra == [], f"temp files left after SIGINT: {extra}; {where}"
            said = f"interrupted after {out} was completely written" if renamed else "interrupted; nothing was written"
            assert log.strip().splitlines() == [f"ttt-read: {said}"], where
            continue
        assert trial["status"] == -9, where
        written = trial["point"] in ("writing", "rename")  # killed after the temp file was complete
        assert len(extra) == written and all(re.fullmatch(r"\.out\.mem\.\d+\..+\.tmp", n) for n in extra), (
            extra,
            where,
        )
        monkeypatch.setenv("TTT_READ_HOME", trial["home"])
        assert [e["name"] for e in names.listing()] == ["out"]  # what a killed run leaves is never the snapshot
        assert names.resolve("out") == out


def test_interrupted_ask_and_continue_say_so_in_one_line(crash_runs):
    _, results = crash_runs
    answered = [t for t in results["trials"] if t["command"] != "ingest"]
    assert {(t["command"], t["point"]) for t in answered} == {
        (c, p) for c, points in ANSWER_POINTS.items() for p in points
    }
    for trial in answered:
        log = Path(trial["log"]).read_text()
        assert "Traceback" not in log and trial["status"] == ExitCode.INTERRUPTED, f"{trial}: {log}"
        assert log.strip().splitlines() == ["ttt-read: interrupted; nothing was written"], f"{trial}: {log}"


def test_concurrent_ingests_to_one_output_leave_one_complete_snapshot(crash_runs):
    plan, results = crash_runs
    forced, fresh = Path(plan["race_force"]), Path(plan["race_new"])
    assert sorted(results["race_new"]) == [0, ExitCode.EXISTS], "without --force exactly one writer may win"
    assert results["race_force"] == [0, 0]
    for out in (forced, fresh):
        meta = snapshot.read_metadata(out)
        assert meta["sources"] == [plan["new_src"]]
        snapshot.load(out)
        assert [n for n in os.listdir(out.parent) if n.endswith(".tmp")] == []
    loser = results["race_new"].index(ExitCode.EXISTS)
    log = Path(f"{fresh}.{loser}.log").read_text().strip().splitlines()
    assert len(log) == 1 and str(fresh) in log[0] and "already exists (pass --force to overwrite)" in log[0], log


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


def test_ctrl_c_inside_a_library_during_model_load_is_an_interrupt_not_a_broken_checkpoint(monkeypatch):
    """safetensors and torch turn a KeyboardInterrupt raised in their callbacks into a
    ValueError about storage shapes; the load must still end as interrupted (exit 130)."""
    import signal

    import safetensors.torch

    from ttt_read.read import checkpoint

    def interrupted_load(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        raise ValueError("could not determine the shape of object type 'torch.storage.UntypedStorage'")

    monkeypatch.setattr(safetensors.torch, "load_file", interrupted_load)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            checkpoint.load(checkpoint.resolve(checkpoint.DEFAULT_MODEL))
        monkeypatch.setattr(
            safetensors.torch, "load_file", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad shard"))
        )
        with pytest.raises(checkpoint.TTTReadError) as info:  # the same error without Ctrl-C: broken
            checkpoint.load(checkpoint.resolve(checkpoint.DEFAULT_MODEL))
        assert info.value.code == ExitCode.MODEL
    finally:
        signal.signal(signal.SIGINT, previous)


def test_reading_a_snapshot_while_it_is_replaced_sees_the_old_or_the_new_one(tmp_path):
    """A writer replaces the snapshot (--force) over and over while this process reads it:
    every read is one complete snapshot, checksum and tensors valid, never a partial file."""
    import torch

    versions = [snapshot.encode({"note": str(i)}, [torch.full((64, 64), float(i))], [i] * 512) for i in range(2)]
    out = tmp_path / "name.mem"
    snapshot.write_atomic(out, versions[0], force=False)
    writer = os.fork()
    if writer == 0:
        code = 1
        try:
            for i in range(40):
                snapshot.write_atomic(out, versions[i % 2], force=True)
            code = 0
        finally:
            os._exit(code)
    seen, status = set(), None
    while status is None:
        done, raw = os.waitpid(writer, os.WNOHANG)
        status = os.waitstatus_to_exitcode(raw) if done else None
        loaded = snapshot.load(out)  # raises on anything partial
        assert loaded.tail_tokens == [int(loaded.metadata["note"])] * 512
        seen.add(loaded.metadata["note"])
    assert status == 0 and seen <= {"0", "1"}
    assert os.listdir(tmp_path) == ["name.mem"]
