"""`ttt-read ingest --update OLD.mem`: read only what changed, on top of OLD's memory.

The snapshots are made in-process from the frozen v1/v2 fixture pair with the bundled
checkpoint; the CLI runs in-process through `cli.main`. The trade-off against a full re-read
over a real git history is measured by `tools/measure_update.py`.
"""

from __future__ import annotations

import json

import pytest
from conftest import DIFF_V1, DIFF_V2, ingest, one_line, run_in_process

from ttt_read.core.errors import ExitCode

V1_FILES = sorted(p.name for p in DIFF_V1.iterdir())
V2_FILES = sorted(p.name for p in DIFF_V2.iterdir())
READ = sorted(
    p.name for p in DIFF_V2.iterdir() if p.name not in V1_FILES or p.read_bytes() != (DIFF_V1 / p.name).read_bytes()
)
CARRIED = sorted(set(V2_FILES) - set(READ))
REMOVED = sorted(set(V1_FILES) - set(V2_FILES))


pytestmark = pytest.mark.usefixtures("one_thread", "home")  # one torch thread, a TTT_READ_HOME of its own


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """v1, v2 (three files edited, one added, one removed) and a directory for snapshots."""
    return DIFF_V1, DIFF_V2, tmp_path_factory.mktemp("update")


@pytest.fixture(scope="module")
def old_mem(versions):
    v1, _, base = versions
    return ingest([v1], base / "old.mem")


@pytest.fixture(scope="module")
def updated(versions, old_mem):
    """`ttt-read ingest --update old.mem v2 -o updated.mem`: (path, metadata, exit code, stderr)."""
    import contextlib
    import io

    from ttt_read.cli import main
    from ttt_read.read import snapshot

    _, v2, base = versions
    out = base / "updated.mem"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--update", str(old_mem), str(v2), "-o", str(out), "--device", "cpu"])
    return out, snapshot.read_metadata(out), exit_info.value.code, stderr.getvalue()


def test_update_reads_only_added_and_changed_files(updated, old_mem):
    from ttt_read.read import snapshot
    from ttt_read.read.ingest import UPDATE_LR_SCALE

    _, metadata, _, _ = updated
    old = snapshot.read_metadata(old_mem)
    assert metadata["update"] == {
        "lr": old["reading"]["lr"] * UPDATE_LR_SCALE,
        "read": READ,
        "carried": len(CARRIED),
        "removed": REMOVED,
    }
    entries = {e["path"]: e for e in metadata["manifest"]}
    assert sorted(entries) == V2_FILES
    for path in CARRIED:  # carried as it was
        assert entries[path] == next(e for e in old["manifest"] if e["path"] == path)
    assert metadata["tokens"] == 1 + sum(entries[path]["tokens"] for path in READ)  # only those were read
    assert len(metadata["chunk_losses"]) == -(-(metadata["tokens"] - 1) // metadata["reading"]["chunk"])
    assert metadata["reading"] == {**old["reading"], "device": "cpu"}
    assert metadata["waypoints"] and max(metadata["waypoints"]) < len(metadata["chunk_losses"]) - 1  # this read's


def test_update_records_its_parent(updated, old_mem):
    from ttt_read.read import snapshot

    _, metadata, _, _ = updated
    assert metadata["parent"] == {
        "sha256": snapshot.read_metadata(old_mem)["checksum"],
        "path": str(old_mem.absolute()),
        "created": snapshot.read_metadata(old_mem)["created"],
        "depth": 1,
    }


def test_update_continues_from_the_old_memory(updated, old_mem, model_and_tokenizer, versions):
    """The new fast weights are OLD's, read on with the changed files' tokens at the update's
    rate, nothing else."""
    import torch

    from ttt_read.read import ingest as engine
    from ttt_read.read import snapshot
    from ttt_read.read.reading import ReaderState, read
    from ttt_read.text import sources

    model, tokenizer = model_and_tokenizer
    _, v2, _ = versions
    out, metadata, _, _ = updated
    fresh = [f for f in sources.collect([v2]).files if f.path in metadata["update"]["read"]]
    ids, _ = engine.tokenize(tokenizer, sources.Collection(fresh, []))
    cfg = model.cfg
    state = ReaderState(
        [w.unsqueeze(0) for w in snapshot.load(old_mem).fast],
        model.empty_caches(1, cfg.n_layers - cfg.n_suffix),
        model.empty_caches(1, cfg.n_suffix),
    )
    expected = read(model, torch.tensor(ids).view(1, -1), lr=metadata["update"]["lr"], state=state)
    new = snapshot.load(out)
    for got, want in zip(new.fast, expected.state.fast):
        assert torch.allclose(got, want[0], rtol=0, atol=1e-6)
    assert new.tail_tokens == ids[-cfg.window :]


def test_update_notepad_holds_the_current_files(updated, versions):
    from ttt_read.notepad.store import Notepad
    from ttt_read.read import snapshot

    out, _, _, _ = updated
    _, v2, _ = versions
    pad = Notepad.from_bytes(snapshot.load(out).notepad)
    for name in V2_FILES:
        assert pad.file_text(name) == (v2 / name).read_text()
    assert all(pad.file_text(name) is None for name in REMOVED)


def test_update_with_nothing_changed_keeps_the_memory(old_mem, versions, tmp_path):
    import torch

    from ttt_read.read import ingest as engine
    from ttt_read.read import snapshot

    v1, _, _ = versions
    first = engine.update(old_mem, [v1], tmp_path / "same.mem", device="cpu")
    lr = snapshot.read_metadata(old_mem)["reading"]["lr"] * engine.UPDATE_LR_SCALE
    assert first["update"] == {"lr": lr, "read": [], "carried": len(V1_FILES), "removed": []}
    assert first["tokens"] == 0 and first["chunk_losses"] == [] and first["mean_loss"] is None
    old, same = snapshot.load(old_mem), snapshot.load(tmp_path / "same.mem")
    assert all(torch.equal(a, b) for a, b in zip(old.fast, same.fast)) and same.tail_tokens == old.tail_tokens
    assert same.metadata["waypoints"] == old.metadata["waypoints"] and all(
        torch.equal(a, b) for s, t in zip(old.waypoints, same.waypoints, strict=True) for a, b in zip(s, t, strict=True)
    )
    second = engine.update(tmp_path / "same.mem", [v1], tmp_path / "again.mem", device="cpu")
    assert second["parent"]["depth"] == 2 and second["parent"]["sha256"] == first["checksum"]


# --- the command line ----------------------------------------------------------------------


def test_cli_update_and_info_show_the_lineage(old_mem, updated, capsys):
    out, _, code, err = updated
    assert code in (None, ExitCode.OK) and "Traceback" not in err
    one_line(
        err,
        f"updated {old_mem}",
        f"read {len(READ)} new or changed files",
        f"carried {len(CARRIED)}",
        f"{len(REMOVED)} removed",
        str(out),
    )
    code, stdout, _ = run_in_process(capsys, "info", out)
    assert code == ExitCode.OK
    assert f"parent      {old_mem.absolute()}" in stdout and "update 1 since a full read" in stdout
    code, stdout, _ = run_in_process(capsys, "info", out, "--json")
    assert json.loads(stdout)["parent"]["path"] == str(old_mem.absolute())
    code, stdout, _ = run_in_process(capsys, "diff", old_mem, out, "--no-knowledge", "--json")
    result = json.loads(stdout)
    assert code == ExitCode.DIFFERENT and result["new"]["parent"]["sha256"] == result["old"]["checksum"]


def test_cli_update_bad_input(old_mem, versions, tmp_path, capsys):
    _, v2, _ = versions
    code, _, err = run_in_process(capsys, "ingest", "--update", tmp_path / "missing.mem", v2, "-o", tmp_path / "u.mem")
    assert code == ExitCode.SNAPSHOT and not (tmp_path / "u.mem").exists()
    one_line(err, "missing.mem", "no such snapshot")
    code, _, err = run_in_process(capsys, "ingest", "--update", old_mem, v2, "-o", old_mem)
    assert code == ExitCode.EXISTS
    one_line(err, str(old_mem), "--force")


def test_cli_update_lr_sets_the_update_rate_only(old_mem, versions, tmp_path, capsys):
    """`--lr` with `--update` is the update's rate; the memory keeps its reading rate, which
    `continue` and `ask` learn at."""
    from ttt_read.read import snapshot

    _, v2, _ = versions
    code, stdout, _ = run_in_process(
        capsys,
        "ingest",
        "--update",
        old_mem,
        v2,
        "-o",
        tmp_path / "slow.mem",
        "--lr",
        "0.125",
        "--json",
        "--device",
        "cpu",
    )
    assert code == ExitCode.OK
    metadata = json.loads(stdout)
    assert (
        metadata["update"]["lr"] == 0.125
        and metadata["reading"]["lr"] == snapshot.read_metadata(old_mem)["reading"]["lr"]
    )
    code, stdout, _ = run_in_process(capsys, "info", tmp_path / "slow.mem")
    assert "at lr=0.125" in stdout


def test_ingest_help_documents_update(capsys):
    code, out, _ = run_in_process(capsys, "ingest", "--help")
    assert code == 0 and "--update" in out and "full re-read" in out
