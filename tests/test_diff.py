"""`ttt-read diff`: sources, fast weights and knowledge of two snapshots, and its exit codes.

Snapshots are made in-process from a few of the repository's own files (the bundled
checkpoint, nothing mocked); the command runs in-process through `cli.main` as the user
runs it, so exit codes and the one-line errors are what a shell would see.

The measurement of bar 1 (changed files rank above unchanged ones, as an AUC) over this
repository's own git history is slow and opt-in: see `test_measure_history` in
tests/test_update.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SOURCES

from ttt_read.errors import ExitCode

V1_FILES = ("errors.py", "config.py", "tokenizer.py")  # small real files, a few chunks each
CHANGED = "config.py"


def head(name: str, lines: int | None = None) -> str:
    return "".join((SOURCES / name).read_text().splitlines(keepends=True)[:lines])


def make_tree(root: Path, changed: bool = False) -> Path:
    """Real repository files; the NEW version replaces config.py's second half with other
    real code (dirs.py), as an edit that rewrites a part of a file would."""
    root.mkdir(parents=True)
    for name in V1_FILES:
        (root / name).write_text(head(name))
    if changed:
        config = head(CHANGED).splitlines(keepends=True)
        (root / CHANGED).write_text("".join(config[: len(config) // 2]) + head("dirs.py"))
    return root


def ingest(paths, out: Path, model: str | None = None) -> Path:
    from ttt_read import checkpoint, engine

    engine.ingest([Path(p) for p in paths], out, model or checkpoint.DEFAULT_MODEL, "cpu")
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread while this module runs: the tiny model gains nothing from two, and on
    a busy machine two threads waiting for each other make reading many times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    return make_tree(base / "v1"), make_tree(base / "v2", changed=True), base


@pytest.fixture(scope="module")
def mems(trees):
    """v1 read twice (same inputs, same settings) and v2 read once."""
    v1, v2, base = trees
    return ingest([v1], base / "a.mem"), ingest([v1], base / "a2.mem"), ingest([v2], base / "b.mem")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TTT_READ_HOME", str(tmp_path_factory.getbasetemp() / "ttt-home-diff"))
    monkeypatch.delenv("TTT_READ_MODEL", raising=False)


def run(capsys, *args) -> tuple[int, str, str]:
    """`ttt-read ARGS...` in-process: (exit code, stdout, stderr)."""
    from ttt_read.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return int(exit_info.value.code or 0), out, err


def one_error_line(err: str, *fragments: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# --- identical inputs ----------------------------------------------------------------------


def test_identical_inputs_diff_clean_and_bitwise_equal_weights(mems, capsys):
    from ttt_read import snapshot

    a, a2, _ = mems
    code, out, _ = run(capsys, "diff", a, a2, "--json")
    result = json.loads(out)
    assert code == ExitCode.OK
    assert result["schema_version"] == 1 and result["identical_sources"]
    assert result["sources"]["added"] == result["sources"]["removed"] == result["sources"]["changed"] == []
    assert result["sources"]["unchanged"] == len(V1_FILES)
    assert result["weights"]["identical"]
    assert all(row["relative_change"] == 0.0 for row in result["weights"]["matrices"])
    assert result["knowledge"]["files"] == []  # nothing differs, nothing to score
    for x, y in zip(snapshot.load(a).fast, snapshot.load(a2).fast):
        assert x.dtype == y.dtype and bytes(x.numpy()) == bytes(y.numpy())


def test_identical_diff_prints_tables(mems, capsys):
    a, a2, _ = mems
    code, out, _ = run(capsys, "diff", a, a2)
    assert code == ExitCode.OK
    assert f"sources: identical ({len(V1_FILES)} files)" in out and "fast weights: identical" in out


# --- a changed file ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def changed_json(mems):
    """`diff a.mem b.mem --all --json` run once for the tests below."""
    import contextlib
    import io

    from ttt_read.cli import main

    a, _, b = mems
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit) as exit_info:
        main(["diff", str(a), str(b), "--all", "--json"])
    return exit_info.value.code, json.loads(stdout.getvalue())


def test_changed_file_is_reported_in_sources(changed_json):
    code, result = changed_json
    assert code == ExitCode.DIFFERENT and not result["identical_sources"]
    (changed,) = result["sources"]["changed"]
    assert changed["path"] == CHANGED and changed["old_sha256"] != changed["new_sha256"]
    assert changed["old_tokens"] > 0 and changed["new_tokens"] > 0
    assert result["sources"]["unchanged"] == len(V1_FILES) - 1


def test_weights_layer_covers_every_fast_matrix(changed_json, checkpoint_info):
    _, result = changed_json
    cfg = checkpoint_info.config
    rows = result["weights"]["matrices"]
    assert [(r["block"], r["matrix"]) for r in rows] == [
        (cfg.n_layers - cfg.n_suffix + i, m) for i in range(cfg.n_suffix) for m in ("w1", "w3", "w2")
    ]
    assert not result["weights"]["identical"] and result["weights"]["total"]["relative_change"] > 0
    assert all(-1.0 <= r["update_cosine"] <= 1.0 for r in rows)


def test_changed_file_ranks_first_in_knowledge(changed_json):
    _, result = changed_json
    files = result["knowledge"]["files"]
    assert [f["path"] for f in files][0] == CHANGED
    top = files[0]
    assert top["status"] == "changed" and top["score"] > 0
    assert top["new_text"]["tokens"] > 0 and top["old_text"]["tokens"] > 0
    edit = [part for part in top["changed_lines"].values() if part["tokens"]]  # the score is the edit's gain
    assert top["score"] == pytest.approx(sum(p["gain"] * p["tokens"] for p in edit) / sum(p["tokens"] for p in edit), abs=2e-6)
    assert {f["status"] for f in files[1:]} == {"unchanged"}
    for f in files[1:]:  # one text, scored once: the two directions cancel exactly
        assert f["score"] == 0 and f["new_text"]["gain"] == -f["old_text"]["gain"]
    assert result["knowledge"]["separation_auc"]["score"] == 1.0
    lines = top["new_knows_better"]
    assert lines and all(line["gain_nats"] > 0 for line in lines)
    assert [line["gain_nats"] for line in lines] == sorted((line["gain_nats"] for line in lines), reverse=True)
    assert result["knowledge"]["new_version"]["files"] == len(V1_FILES)
    edit = top["changed_lines"]
    assert edit["added"]["lines"] > 0 and edit["removed"]["lines"] > 0 and edit["added"]["tokens"] > 0
    assert all(f["changed_lines"] is None for f in files[1:])


def test_changed_lines():
    from ttt_read.diff import changed_lines

    assert changed_lines("a\nb\nc\n", "a\nB\nc\nd\n") == ({2, 4}, {2})
    assert changed_lines("a\n", "a\n") == (set(), set())


def test_changed_diff_renders_every_layer(changed_json):
    from rich.console import Console

    from ttt_read import diff

    console = Console(record=True, width=120)
    diff.render(changed_json[1], console)
    out = console.export_text()
    assert "1 changed" in out and CHANGED in out and "fast weights" in out and "knowledge" in out
    assert "NEW knows better" in out and "AUC 1.000 by score" in out and "whole new version" in out


def test_score_text_counts_every_text_token(model_and_tokenizer):
    """Per-line sums cover every token of the text (none lost, header excluded)."""
    import torch

    from ttt_read import diff

    from ttt_read import tokenizer as tok

    model, tokenizer = model_and_tokenizer
    fast = [torch.stack([w[0], w[0]]) for w in model.initial_fast_weights(1)]
    text = "def f(x):\n    return 'héllo<|endoftext|>'  # ü\n\n\nx = 1"
    scored = diff.score_text(model, tokenizer, fast, "a/b.py", text, "cpu")
    ids = tok.encode_file(tokenizer, "a/b.py", text)
    assert [tokenizer.token_to_id(tok.FILE)] + diff.encode_with_offsets(tokenizer, "a/b.py", text).ids == ids  # as ingest reads it
    header = 1 + len(tokenizer.encode("a/b.py\n", add_special_tokens=False).ids)  # the FILE marker and the path line
    assert scored.tokens == len(ids) - header
    assert len(scored.count) == 1 + len(text.split("\n")) and scored.count[1] > 0 and scored.count[5] > 0
    assert scored.old_sum == scored.new_sum  # the same weights in both rows


def test_auc():
    from ttt_read.diff import auc

    assert auc([3, 4], [1, 2]) == 1.0 and auc([1], [2]) == 0.0 and auc([1], [1]) == 0.5 and auc([], [1]) is None


# --- text from directories -----------------------------------------------------------------


@pytest.fixture(scope="module")
def padless(mems, tmp_path_factory):
    """a.mem and b.mem re-encoded without a notepad, as an older ttt-read wrote them."""
    from ttt_read import snapshot

    base = tmp_path_factory.mktemp("padless")
    out = []
    for mem in mems[0], mems[2]:
        snap = snapshot.load(mem)
        metadata = {k: v for k, v in snap.metadata.items() if k not in ("checksum", "notepad")}
        path = base / mem.name
        path.write_bytes(snapshot.encode(metadata, snap.fast, snap.tail_tokens))
        out.append(path)
    return out


def test_knowledge_from_directories_without_notepad(padless, trees, capsys):
    old, new = padless
    v1, v2, _ = trees
    code, out, _ = run(capsys, "diff", old, new, "--json")
    result = json.loads(out)
    assert code == ExitCode.DIFFERENT and result["knowledge"]["files"] == []
    assert any("--old-path" in note for note in result["knowledge"]["notes"])
    code, out, _ = run(capsys, "diff", old, new, "--old-path", v1, "--new-path", v2, "--json")
    (scored,) = json.loads(out)["knowledge"]["files"]
    assert scored["path"] == CHANGED and scored["old_text"] and scored["new_text"]


def test_text_on_disk_must_be_the_version_that_was_read(padless, trees):
    from ttt_read import snapshot
    from ttt_read.diff import TextSource

    v1, v2, _ = trees
    manifest = snapshot.read_metadata(padless[0])["manifest"]
    assert TextSource(None, v1, manifest).text(CHANGED) == ((v1 / CHANGED).read_text(), None)
    text, why = TextSource(None, v2, manifest).text(CHANGED)
    assert text is None and "not the version that was read" in why
    assert TextSource(None, v1, manifest).text("gone.py")[1].startswith("not found")


# --- --ask ---------------------------------------------------------------------------------


def test_ask_answers_from_both_side_by_side(mems, capsys):
    from rich.console import Console

    from ttt_read import diff

    a, _, b = mems
    code, out, _ = run(capsys, "diff", a, b, "--no-knowledge", "--ask", "What is ExitCode.SNAPSHOT?", "-n", "4", "--json")
    result = json.loads(out)
    assert code == ExitCode.DIFFERENT and result["knowledge"] is None
    assert result["ask"]["question"] == "What is ExitCode.SNAPSHOT?"
    for side in ("old", "new"):
        assert isinstance(result["ask"][side]["answer"], str) and "sources" in result["ask"][side]
        assert result["ask"][side]["scores"]["answer_tokens"] <= 4
    console = Console(record=True, width=100)
    diff.render(result, console)
    assert "ask: What is ExitCode.SNAPSHOT?" in console.export_text()


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_base_mem(trees, checkpoint_info, tmp_path_factory):
    """A snapshot of v1 made with a copy of the bundled checkpoint with one tensor perturbed."""
    from safetensors.torch import load_file, save_file

    base = tmp_path_factory.mktemp("other-base")
    model_dir = base / "perturbed"
    shutil.copytree(checkpoint_info.path, model_dir)
    shard = sorted(model_dir.glob("model-*.safetensors"))[0]
    tensors = load_file(shard)
    name = sorted(k for k in tensors if tensors[k].dim() >= 2)[0]
    tensors[name] = tensors[name] + 1e-3
    save_file(tensors, shard)
    (base / "short.py").write_text(head("errors.py", 8))
    return ingest([base / "short.py"], base / "other.mem", model=str(model_dir))


def test_different_base_checkpoints_exit_4(mems, other_base_mem, capsys):
    code, out, err = run(capsys, "diff", mems[0], other_base_mem)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_error_line(err, str(mems[0]), str(other_base_mem), "different base checkpoints")


def test_update_refuses_another_base(other_base_mem, trees, tmp_path, capsys):
    out = tmp_path / "u.mem"
    code, _, err = run(capsys, "ingest", "--update", other_base_mem, trees[0], "-o", out, "-q", "--model", "default")
    assert code == ExitCode.SNAPSHOT and not out.exists()
    one_error_line(err, str(other_base_mem), "base checkpoint")


def test_corrupt_snapshot_exit_4(mems, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.mem"
    data = bytearray(mems[0].read_bytes())
    data[-10] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    code, out, err = run(capsys, "diff", mems[0], corrupt)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_error_line(err, str(corrupt), "corrupt")
    garbage = tmp_path / "garbage.mem"
    garbage.write_bytes(b"not a snapshot at all")
    code, _, err = run(capsys, "diff", garbage, mems[0])
    assert code == ExitCode.SNAPSHOT
    one_error_line(err, str(garbage), "not a ttt-read snapshot")


def test_snapshot_without_a_manifest_exit_4(mems, tmp_path, capsys):
    from ttt_read import snapshot

    snap = snapshot.load(mems[0])
    crafted = tmp_path / "crafted.mem"
    metadata = {k: v for k, v in snap.metadata.items() if k not in ("checksum", "manifest")}
    crafted.write_bytes(snapshot.encode(metadata, snap.fast, snap.tail_tokens))
    code, out, err = run(capsys, "diff", mems[0], crafted)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_error_line(err, str(crafted), "manifest")
    code, _, err = run(capsys, "ingest", "--update", crafted, SOURCES / "errors.py", "-o", tmp_path / "u.mem")
    assert code == ExitCode.SNAPSHOT and not (tmp_path / "u.mem").exists()
    one_error_line(err, str(crafted), "manifest")


def test_missing_snapshot_exit_4(mems, tmp_path, capsys):
    code, _, err = run(capsys, "diff", mems[0], tmp_path / "nope.mem")
    assert code == ExitCode.SNAPSHOT
    one_error_line(err, "nope.mem", "no such snapshot")


def test_same_file_twice_is_a_usage_error(mems, tmp_path, capsys):
    a = mems[0]
    code, out, err = run(capsys, "diff", a, a)
    assert code == ExitCode.USAGE and out == ""
    one_error_line(err, str(a), "same file")
    link = tmp_path / "link.mem"
    link.symlink_to(a)
    code, _, err = run(capsys, "diff", a, link)
    assert code == ExitCode.USAGE
    one_error_line(err, "same file")


def test_missing_text_directory_exit_3(mems, tmp_path, capsys):
    code, _, err = run(capsys, "diff", mems[0], mems[2], "--old-path", tmp_path / "nowhere")
    assert code == ExitCode.INPUT
    one_error_line(err, "--old-path", "nowhere")


def test_help_documents_the_exit_codes(capsys):
    code, out, _ = run(capsys, "diff", "--help")
    assert code == 0
    assert "same file" in out and "different base" in out and "diff(1)" in out
