"""`ttt-read ingest --update OLD.mem`: read only what changed, on top of OLD's memory.

The snapshots are made in-process from the first lines of real repository files with the
bundled checkpoint; the CLI runs in-process through `cli.main`.

The trade-off against a full re-read (bar 3) and the ranking of changed files in `diff`
(bar 1) are measured on this repository's own git history by an opt-in test:
    TTT_READ_MEASURE=1 .venv/bin/python -m pytest tests/test_update.py -k history -s
(`TTT_READ_MEASURE_PAIRS=N`: the latest N commits that modify ttt_read/, default 6; or
`TTT_READ_MEASURE_REVS=A..B,C..D`: these pairs).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO
from test_diff import CHANGED, V1_FILES, head, ingest, make_tree, one_error_line, one_thread, run  # noqa: F401 (fixture)

from ttt_read.errors import ExitCode

ADDED = "notes.md"
REMOVED = "tokenizer.py"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TTT_READ_HOME", str(tmp_path_factory.getbasetemp() / "ttt-home-update"))
    monkeypatch.delenv("TTT_READ_MODEL", raising=False)


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """v1, and v2 = v1 with config.py changed, notes.md added and tokenizer.py removed."""
    base = tmp_path_factory.mktemp("update")
    v1 = make_tree(base / "v1")
    v2 = make_tree(base / "v2", changed=True)
    (v2 / ADDED).write_text("".join((REPO / "README.md").read_text().splitlines(keepends=True)[:12]))
    (v2 / REMOVED).unlink()
    return v1, v2, base


@pytest.fixture(scope="module")
def old_mem(versions):
    v1, _, base = versions
    return ingest([v1], base / "old.mem")


@pytest.fixture(scope="module")
def updated(versions, old_mem):
    """`ttt-read ingest --update old.mem v2 -o updated.mem`: (path, metadata, exit code, stderr)."""
    import contextlib
    import io

    from ttt_read import snapshot
    from ttt_read.cli import main

    _, v2, base = versions
    out = base / "updated.mem"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--update", str(old_mem), str(v2), "-o", str(out), "--device", "cpu"])
    return out, snapshot.read_metadata(out), exit_info.value.code, stderr.getvalue()


def test_update_reads_only_added_and_changed_files(updated, old_mem):
    from ttt_read import snapshot
    from ttt_read.engine import UPDATE_LR_SCALE

    _, metadata, _, _ = updated
    old = snapshot.read_metadata(old_mem)
    assert metadata["update"] == {"lr": old["reading"]["lr"] * UPDATE_LR_SCALE, "read": [CHANGED, ADDED], "carried": 1, "removed": [REMOVED]}
    entries = {e["path"]: e for e in metadata["manifest"]}
    assert sorted(entries) == sorted({*V1_FILES, ADDED} - {REMOVED})
    assert entries["errors.py"] == next(e for e in old["manifest"] if e["path"] == "errors.py")  # carried as it was
    assert metadata["tokens"] == 1 + entries[CHANGED]["tokens"] + entries[ADDED]["tokens"]  # only those were read
    assert len(metadata["chunk_losses"]) == -(-(metadata["tokens"] - 1) // metadata["reading"]["chunk"])
    assert metadata["reading"] == {**old["reading"], "device": "cpu"}


def test_update_records_its_parent(updated, old_mem):
    from ttt_read import snapshot

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

    from ttt_read import engine, snapshot, sources
    from ttt_read.reading import ReaderState, read

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
    from ttt_read import snapshot
    from ttt_read.notepad import Notepad

    out, _, _, _ = updated
    _, v2, _ = versions
    pad = Notepad.from_bytes(snapshot.load(out).notepad)
    for name in sorted({*V1_FILES, ADDED} - {REMOVED}):
        assert pad.file_text(name) == (v2 / name).read_text()
    assert pad.file_text(REMOVED) is None


def test_update_with_nothing_changed_keeps_the_memory(old_mem, versions, tmp_path):
    import torch

    from ttt_read import engine, snapshot

    v1, _, _ = versions
    first = engine.update(old_mem, [v1], tmp_path / "same.mem", device="cpu")
    lr = snapshot.read_metadata(old_mem)["reading"]["lr"] * engine.UPDATE_LR_SCALE
    assert first["update"] == {"lr": lr, "read": [], "carried": len(V1_FILES), "removed": []}
    assert first["tokens"] == 0 and first["chunk_losses"] == [] and first["mean_loss"] is None
    old, same = snapshot.load(old_mem), snapshot.load(tmp_path / "same.mem")
    assert all(torch.equal(a, b) for a, b in zip(old.fast, same.fast)) and same.tail_tokens == old.tail_tokens
    second = engine.update(tmp_path / "same.mem", [v1], tmp_path / "again.mem", device="cpu")
    assert second["parent"]["depth"] == 2 and second["parent"]["sha256"] == first["checksum"]


# --- the command line ----------------------------------------------------------------------


def test_cli_update_and_info_show_the_lineage(old_mem, updated, capsys):
    out, _, code, err = updated
    assert code in (None, ExitCode.OK) and "Traceback" not in err
    one_error_line(err, f"updated {old_mem}", "read 2 new or changed files", "carried 1", "1 removed", str(out))
    code, stdout, _ = run(capsys, "info", out)
    assert code == ExitCode.OK
    assert f"parent      {old_mem.absolute()}" in stdout and "update 1 since a full read" in stdout
    code, stdout, _ = run(capsys, "info", out, "--json")
    assert json.loads(stdout)["parent"]["path"] == str(old_mem.absolute())
    code, stdout, _ = run(capsys, "diff", old_mem, out, "--no-knowledge", "--json")
    result = json.loads(stdout)
    assert code == ExitCode.DIFFERENT and result["new"]["parent"]["sha256"] == result["old"]["checksum"]


def test_cli_update_bad_input(old_mem, versions, tmp_path, capsys):
    _, v2, _ = versions
    code, _, err = run(capsys, "ingest", "--update", tmp_path / "missing.mem", v2, "-o", tmp_path / "u.mem")
    assert code == ExitCode.SNAPSHOT and not (tmp_path / "u.mem").exists()
    one_error_line(err, "missing.mem", "no such snapshot")
    code, _, err = run(capsys, "ingest", "--update", old_mem, v2, "-o", old_mem)
    assert code == ExitCode.EXISTS
    one_error_line(err, str(old_mem), "--force")


def test_cli_update_lr_sets_the_update_rate_only(old_mem, versions, tmp_path, capsys):
    """`--lr` with `--update` is the update's rate; the memory keeps its reading rate, which
    `continue` and `ask` learn at."""
    from ttt_read import snapshot

    _, v2, _ = versions
    code, stdout, _ = run(capsys, "ingest", "--update", old_mem, v2, "-o", tmp_path / "slow.mem", "--lr", "0.125", "--json", "--device", "cpu")
    assert code == ExitCode.OK
    metadata = json.loads(stdout)
    assert metadata["update"]["lr"] == 0.125 and metadata["reading"]["lr"] == snapshot.read_metadata(old_mem)["reading"]["lr"]
    code, stdout, _ = run(capsys, "info", tmp_path / "slow.mem")
    assert "at lr=0.125" in stdout


def test_ingest_help_documents_update(capsys):
    code, out, _ = run(capsys, "ingest", "--help")
    assert code == 0 and "--update" in out and "full re-read" in out


# --- measurement on this repository's history (opt-in) -------------------------------------

HISTORY_SUBDIR = "ttt_read"


def git_tree(rev: str, dest: Path) -> Path:
    """The repository's ttt_read/ at `rev`, exported with git archive."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, HISTORY_SUBDIR], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / HISTORY_SUBDIR


def commits_touching(limit: int, *log_filters: str) -> list[str]:
    """The latest `limit` commits that change ttt_read/ (and pass `log_filters`), newest first."""
    return subprocess.run(
        ["git", "-C", str(REPO), "log", "--format=%h", f"-n{limit}", *log_filters, "--", HISTORY_SUBDIR],
        check=True, capture_output=True, text=True,
    ).stdout.split()


def history_pairs(limit: int) -> list[tuple[str, str]]:
    """(parent, commit) for the latest commits that modify files already under ttt_read/."""
    revs = os.environ.get("TTT_READ_MEASURE_REVS")
    if revs:
        return [tuple(pair.split("..")) for pair in revs.split(",")]
    return [(f"{c}^", c) for c in commits_touching(limit, "--diff-filter=M")]


@pytest.mark.skipif(not os.environ.get("TTT_READ_MEASURE"), reason="measurement: set TTT_READ_MEASURE=1")
def test_measure_history(tmp_path, capsys):
    """For consecutive commits of ttt_read/: full reads of both versions, `--update` from the
    old one; then (bar 1) the AUC of changed vs unchanged files in `diff OLD NEW --all`, with
    NEW the full re-read and the update, and
    (bar 3) the update's time against the full re-read and both memories' loss per token on
    the new version (`diff FULL UPDATE --all`)."""
    import torch

    from ttt_read import diff, engine

    def timed(fn):
        """One thread, so that CPU time counts work and not threads waiting for each other
        on a busy machine; wall time is reported too."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            metadata = fn()
            return metadata, time.perf_counter() - wall, time.process_time() - cpu
        finally:
            torch.set_num_threads(threads)

    rankings = {"score": lambda f: f["score"], "new_gain": lambda f: f["new_text"]["gain"]}
    pooled = {}  # "ranking, NEW = kind" -> per commit pair: (changed files' values, unchanged files' values)
    edits = []  # per changed file: the full re-read's gain on its added lines (None without any)
    pairs = history_pairs(int(os.environ.get("TTT_READ_MEASURE_PAIRS", "6")))
    for i, (old_rev, new_rev) in enumerate(pairs):
        old_tree, new_tree = git_tree(old_rev, tmp_path / f"{i}-old"), git_tree(new_rev, tmp_path / f"{i}-new")
        old, full, upd = tmp_path / f"{i}-old.mem", tmp_path / f"{i}-full.mem", tmp_path / f"{i}-update.mem"
        engine.ingest([old_tree], old, device="cpu")  # also warms the process up before the timed runs
        full_meta, full_wall, full_cpu = timed(lambda: engine.ingest([new_tree], full, device="cpu"))
        upd_meta, upd_wall, upd_cpu = timed(lambda: engine.update(old, [new_tree], upd, device="cpu"))
        changed_share = (upd_meta["tokens"] - 1) / (full_meta["tokens"] - 1)

        aucs = {}
        for kind, new in (("full re-read", full), ("update", upd)):
            knowledge = diff.compare(old, new, device="cpu", all_files=True, lines=0)["knowledge"]
            changed = [f for f in knowledge["files"] if f["status"] == "changed"]
            unchanged = [f for f in knowledge["files"] if f["status"] == "unchanged"]
            for key, value in rankings.items():
                pooled.setdefault(f"{key}, NEW = {kind}", []).append(([value(f) for f in changed], [value(f) for f in unchanged]))
            aucs[kind] = ", ".join(f"by {key} {knowledge['separation_auc'][key]}" for key in rankings)
            if kind == "full re-read":
                edits += [f["changed_lines"]["added"]["gain"] for f in changed if f["changed_lines"]]
                stale = knowledge["new_version"]["loss_old"]  # OLD, not updated, on the new version
        quality = diff.compare(full, upd, device="cpu", all_files=True, lines=0)["knowledge"]["new_version"]
        with capsys.disabled():
            print(
                f"\n{old_rev}..{new_rev}: {len(changed)} changed, {len(unchanged)} unchanged files; "
                + "; ".join(f"AUC with NEW = {kind}: {text}" for kind, text in aucs.items()) + "\n"
                f"  update read {upd_meta['tokens']:,} of {full_meta['tokens']:,} tokens ({100 * changed_share:.1f}%): "
                f"wall {upd_wall:.1f}s vs {full_wall:.1f}s (ratio {upd_wall / full_wall:.3f}), "
                f"cpu {upd_cpu:.1f}s vs {full_cpu:.1f}s (ratio {upd_cpu / full_cpu:.3f}), "
                f"reading {upd_meta['read_seconds']:.1f}s vs {full_meta['read_seconds']:.1f}s\n"
                f"  loss on the new version ({quality['tokens']:,} tokens): full re-read {quality['loss_old']:.4f}, "
                f"update {quality['loss_new']:.4f}, gap {quality['loss_new'] - quality['loss_old']:+.4f} nats/token "
                f"(OLD not updated: {stale:.4f})"
            )
    known = [g for g in edits if g is not None]
    with capsys.disabled():
        print(f"changed files whose added lines the full re-read knows better than OLD: {sum(g > 0 for g in known)} of {len(known)}")
    for key, per_pair in pooled.items():
        counted = [(p, n) for p, n in per_pair if p and n]
        total = sum(len(p) * len(n) for p, n in counted)
        wins = sum(diff.auc(p, n) * len(p) * len(n) for p, n in counted)
        with capsys.disabled():
            print(f"pooled AUC by {key}: {wins / total:.4f} over {total} (changed, unchanged) file pairs in {len(counted)} commit pairs")


@pytest.mark.skipif(not os.environ.get("TTT_READ_MEASURE"), reason="measurement: set TTT_READ_MEASURE=1")
def test_measure_update_chain(tmp_path, capsys):
    """Updates in a row: a full read of ttt_read/ as it was `TTT_READ_MEASURE_CHAIN` commits
    ago (default 6), then `--update` through each later commit that changed it; after each
    update, its loss per token on that version against a full re-read of it."""
    from ttt_read import diff, engine

    chain = commits_touching(int(os.environ.get("TTT_READ_MEASURE_CHAIN", "6")) + 1)[::-1]
    memory = tmp_path / "0.mem"
    engine.ingest([git_tree(chain[0], tmp_path / "0")], memory, device="cpu")
    for depth, rev in enumerate(chain[1:], 1):
        tree = git_tree(rev, tmp_path / str(depth))
        updated, full = tmp_path / f"{depth}.mem", tmp_path / f"{depth}-full.mem"
        metadata = engine.update(memory, [tree], updated, device="cpu")
        engine.ingest([tree], full, device="cpu")
        quality = diff.compare(full, updated, device="cpu", all_files=True, lines=0)["knowledge"]["new_version"]
        with capsys.disabled():
            print(
                f"\n{rev}: update {metadata['parent']['depth']} in a row read {metadata['tokens'] - 1:,} of "
                f"{quality['tokens']:,} tokens; loss on this version: full re-read {quality['loss_old']:.4f}, "
                f"updates {quality['loss_new']:.4f}, gap {quality['loss_new'] - quality['loss_old']:+.4f} nats/token"
            )
        memory = updated
