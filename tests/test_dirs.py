"""ttt-read's own directories: config.toml defaults, named snapshots, the PDF text cache,
and the promise that nothing is ever written inside a directory being read."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import assert_ok, assert_one_error_line, run_cli
from pdfs import write_pdf

from ttt_read import names, settings, sources
from ttt_read.errors import ExitCode, TTTReadError


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A TTT_READ_HOME of its own, for this process and for the CLI runs of the test."""
    path = tmp_path / "home"
    monkeypatch.setenv("TTT_READ_HOME", str(path))
    monkeypatch.delenv("TTT_READ_MODEL", raising=False)
    return path


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tree_state(root: Path) -> dict[str, tuple]:
    """Everything observable about a tree: each entry's kind, mode, size, mtime and content hash."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            state[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return state


# --- config.toml ---------------------------------------------------------------------------


def test_missing_config_is_empty(home):
    assert settings.load() == settings.Settings()


def test_config_values(home):
    path = write_config(home, 'model = "mine"\ndevice = "cpu"\n\n[reading]\nlr = 0.5\nchunk = 64\n')
    assert settings.load() == settings.Settings("mine", "cpu", 0.5, 64, path)
    assert settings.config_path() == path


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('modle = "x"\n', "unknown key 'modle'"),
        ("[reading]\nlearning_rate = 1\n", "unknown key 'reading.learning_rate'"),
        ('device = "tpu"\n', "device must be one of auto, cpu, cuda"),
        ("model = 3\n", "model must be"),
        ('[reading]\nlr = "fast"\n', "reading.lr must be"),
        ("[reading]\nlr = nan\n", "reading.lr must be"),
        ("[reading]\nlr = -1.0\n", "reading.lr must be"),
        ("[reading]\nchunk = 0\n", "reading.chunk must be"),
        ("[reading]\nchunk = 1.5\n", "reading.chunk must be"),
        ("reading = 3\n", "reading must be a table"),
        ("model = \n", "not valid TOML"),
        (b"\xff\xfe", "not valid TOML"),
    ],
)
def test_bad_config_is_a_usage_error_naming_the_file(home, text, fragment):
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(TTTReadError) as info:
        settings.load()
    assert info.value.code == ExitCode.USAGE
    assert str(info.value).startswith(str(path)) and fragment in str(info.value), str(info.value)


def test_config_model_is_the_default_below_flag_and_environment(home, monkeypatch, checkpoint_info):
    from ttt_read import checkpoint

    write_config(home, 'model = "no-such-model"\n')
    with pytest.raises(TTTReadError) as info:
        checkpoint.resolve(None)
    assert info.value.code == ExitCode.MODEL and "no-such-model" in str(info.value)
    assert checkpoint.resolve("default").path == checkpoint_info.path  # --model wins
    monkeypatch.setenv("TTT_READ_MODEL", "default")
    assert checkpoint.resolve(None).path == checkpoint_info.path  # so does the environment


def test_config_device_replaces_auto(home):
    from ttt_read.engine import pick_device

    write_config(home, 'device = "cpu"\n')
    assert pick_device("auto") == "cpu"
    assert pick_device("cpu") == "cpu"


def test_bad_config_stops_the_cli_with_one_line(home, tmp_path):
    write_config(home, "[reading]\nchunk = -5\n")
    (tmp_path / "a.txt").write_text("hello\n")
    result = run_cli(home, "ingest", tmp_path / "a.txt", "-o", tmp_path / "a.mem", timeout=120)
    assert_one_error_line(result, ExitCode.USAGE, "config.toml", "reading.chunk")
    assert not (tmp_path / "a.mem").exists()


# --- named snapshots -----------------------------------------------------------------------


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
        assert_one_error_line(run_cli(ttt_home, "ingest", tmp_path / "a.txt", *args, timeout=120), ExitCode.USAGE, "--name")
    assert_one_error_line(run_cli(ttt_home, "ingest", tmp_path / "a.txt", "--name", "../x", timeout=120), ExitCode.USAGE, "--name")


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


# --- the PDF text cache --------------------------------------------------------------------


def test_pdf_text_cache_is_reused_and_keyed_by_content(tmp_path, monkeypatch):
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    pdf = write_pdf(docs / "a.pdf", ["first version"])
    first = sources.collect([docs], cache_dir=cache).files[0]
    assert first.text == "[page 1]\nfirst version\n"
    [entry] = cache.iterdir()
    assert entry.name.startswith(first.sha256 + ".")

    def no_parsing(data):
        raise AssertionError("the cached text should have been used")

    monkeypatch.setattr(sources, "_pdf_pages", no_parsing)
    assert sources.collect([docs], cache_dir=cache).files[0] == first
    monkeypatch.undo()
    write_pdf(pdf, ["second version"])  # new bytes, new key: never stale text
    assert sources.collect([docs], cache_dir=cache).files[0].text == "[page 1]\nsecond version\n"
    assert len(list(cache.iterdir())) == 2


def test_pdf_text_cut_by_the_time_budget_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "PDF_TIME_BUDGET_S", 0.0)
    pdf = write_pdf(tmp_path / "slow.pdf", ["first", "second"])
    assert sources.collect([pdf], cache_dir=tmp_path / "cache").files[0].text == "[page 1]\nfirst\n"
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("where", ["inside", "around"])
def test_cache_is_never_written_inside_the_directory_being_read(tmp_path, where):
    """A cache directory inside the tree being read (or holding it) is only read, never written."""
    tree = tmp_path / "tree"
    tree.mkdir()
    write_pdf(tree / "doc.pdf", ["hello"])
    (tree / "a.txt").write_text("text\n")
    cache = tree / ".cache" / "ttt" if where == "inside" else tmp_path
    before = tree_state(tree)
    got = sources.collect([tree], cache_dir=cache)
    assert [f.path for f in got.files] == ["a.txt", "doc.pdf"]
    assert tree_state(tree) == before


def test_unwritable_cache_never_fails_a_read(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    pdf = write_pdf(tmp_path / "a.pdf", ["still read"])
    assert sources.collect([pdf], cache_dir=blocker).files[0].text == "[page 1]\nstill read\n"
