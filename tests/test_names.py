"""Named snapshots: `ingest --name` writes into the data directory, `ls` lists what is there,
and every command finds a snapshot by name; reading never writes inside the tree it reads."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import assert_ok, assert_one_error_line, run_cli, tree_state, write_config
from pdfs import write_pdf

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import names


def test_names_resolve_files_first(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = names.path_for("proj")
    assert named == home / "data" / "snapshots" / "proj.mem" == names.path_for("proj.mem")
    assert names.resolve("proj") == Path("proj")  # no such name yet: the path as given
    named.parent.mkdir(parents=True)
    named.write_bytes(b"named")
    assert names.resolve("proj") == names.resolve("proj.mem") == named
    Path("proj").mkdir()  # a directory of that name is never a snapshot
    assert names.resolve("proj") == named
    Path("proj.mem").write_bytes(b"local")  # an existing file always wins
    assert names.resolve("proj.mem") == Path("proj.mem")
    assert names.resolve("sub/proj") == Path("sub/proj")  # a path with a slash is only a path


@pytest.mark.parametrize("bad", ["", ".hidden", "a/b", "../up", "-flag", "x" * 200, "sp ace", ".mem"])
def test_invalid_names_are_usage_errors(home, bad):
    with pytest.raises(TTTReadError) as info:
        names.path_for(bad)
    assert info.value.code == ExitCode.USAGE


def test_listing_shows_damage_and_ignores_temp_files(home):
    root = home / "data" / "snapshots"
    root.mkdir(parents=True)
    (root / "broken.mem").write_bytes(b"not a snapshot at all")
    (root / ".good.mem.a1b2c3.tmp").write_bytes(b"what a killed ingest leaves")
    (root / "notes.txt").write_text("x")
    entries = names.listing()
    assert [e["name"] for e in entries] == ["broken"]
    assert "not a ttt-read snapshot" in entries[0]["error"]


def test_ingest_needs_exactly_one_destination(ttt_home, tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    for args in ([], ["-o", tmp_path / "a.mem", "--name", "a"]):
        assert_one_error_line(
            run_cli(ttt_home, "ingest", tmp_path / "a.txt", *args, timeout=120), ExitCode.USAGE, "--name"
        )
    assert_one_error_line(
        run_cli(ttt_home, "ingest", tmp_path / "a.txt", "--name", "../x", timeout=120), ExitCode.USAGE, "--name"
    )


def test_named_ingest_with_config_defaults_writes_only_its_snapshot_and_cache(home, tmp_path):
    """One real `ingest --name` over a read-only tree with a PDF, with config.toml giving the
    reading settings: the snapshot lands in the data directory, `ls`, `info` and a model
    command find it by name, the PDF's text is cached by its sha256, and the tree read is
    byte for byte, mode for mode and mtime for mtime what it was."""
    write_config(home, "[reading]\nlr = 0.5\nchunk = 64\n")
    tree = tmp_path / "project"
    (tree / "sub").mkdir(parents=True)
    (tree / "main.py").write_text("def main():\n    return 'the answer is 42'\n")
    (tree / "sub" / "notes.md").write_text("# Notes\nThe config file is parsed in settings.py.\n")
    pdf = write_pdf(tree / "paper.pdf", ["A paper about reading into weights."])
    for path in [*tree.rglob("*"), tree]:  # read-only (root ignores it; the state check does not)
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = tree_state(tree)
    try:
        result = run_cli(home, "ingest", tree, "--name", "proj", "--json", "-q")
    finally:
        after = tree_state(tree)
        for path in [tree, *tree.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert_ok(result)
    assert result.stderr == "", "--quiet must leave stderr empty"
    out = json.loads(result.stdout)
    assert after == before, "something was written inside the directory being read"

    named = home / "data" / "snapshots" / "proj.mem"
    assert out["output"] == str(named) and out["name"] == "proj" and named.is_file()
    assert out["reading"]["lr"] == 0.5 and out["reading"]["chunk"] == 64
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(named.stat().st_mode) == 0o666 & ~umask, "a snapshot gets the mode of any file the user makes"

    listed = json.loads(run_cli(home, "ls", "--json", timeout=60).stdout)
    assert listed["schema_version"] == 1 and listed["dir"] == str(named.parent)
    [entry] = listed["snapshots"]
    assert entry["name"] == "proj" and entry["files"] == 3 and entry["bytes"] == named.stat().st_size
    assert entry["sources"] == [str(tree)] and entry["created"] == out["created"]
    plain = run_cli(home, "ls", timeout=60)
    assert_ok(plain)
    assert plain.stdout.startswith("proj ") and "3 files" in plain.stdout

    info = run_cli(home, "info", "proj", "--json", timeout=60)
    assert_ok(info)
    assert json.loads(info.stdout)["path"] == str(named)

    cached = list((home / "cache" / "pdf-text").glob("*.txt"))
    assert [p.name.split(".")[0] for p in cached] == [hashlib.sha256(pdf.read_bytes()).hexdigest()]
    assert "reading into weights" in cached[0].read_text()

    cont = run_cli(home, "continue", "proj", "def ", "-n", "2", "--no-learn")
    assert_ok(cont)
    assert cont.stdout.startswith("def ")

    missing = run_cli(home, "info", "nope", timeout=60)
    assert_one_error_line(missing, ExitCode.SNAPSHOT, "nope", "no such snapshot")
