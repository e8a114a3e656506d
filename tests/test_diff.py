"""`ttt-read diff`: sources, fast weights and knowledge of two snapshots, and its exit codes.

Snapshots are made in-process from the frozen v1/v2 fixture pair (the bundled checkpoint,
nothing mocked); the command runs in-process through `cli.main` as the user runs it, so exit
codes and the one-line errors are what a shell would see.

How well the knowledge layer separates changed from unchanged files over a real git history
is measured by `tools/measure_update.py`.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import DIFF_V1, DIFF_V2, ingest, one_line, run_in_process

from ttt_read.core.errors import ExitCode

V1_FILES = sorted(p.name for p in DIFF_V1.iterdir())
# How v2 differs from v1, by the size of the edit (lines of v2 that are not in v1).
EDITED = {
    "tool.py": "rewritten output loop, two new functions",
    "fnmatch.py": "a new function",
    "scanner.py": "one line",
}
ADDED, REMOVED, UNCHANGED = "multipart.py", "colorsys.py", "bisect.py"

SMALL_EDITS = ("scanner.py", "fnmatch.py")  # one line; one new function
# Margins (nats/token) of the knowledge ranking's properties below. With the bundled checkpoint
# the scores were +0.70 (removed), +0.44 (added), +0.36 (rewrite), +0.26 (one line), +0.13 (one
# new function: fnmatch.py is read second of five, and the files read after it overwrite part
# of it, so it ranks below the one-line edit) and 0 (unchanged).
DIFFERS_MARGIN = 0.05  # any file that differs, over the unchanged one
WHOLE_FILE_MARGIN = 0.1  # a file only one memory read, over a small edit; the rewrite over the new function
# NEW's gain (nats/token over OLD) on a changed file's new lines minus its gain on the lines
# both versions share: at least this much in every changed file with the bundled checkpoint.
CHANGED_LINES_MARGIN = 0.05


pytestmark = pytest.mark.usefixtures("one_thread", "home")  # one torch thread, a TTT_READ_HOME of its own


@pytest.fixture(scope="module")
def mems(tmp_path_factory):
    """v1 read twice (same inputs, same settings) and v2 read once."""
    base = tmp_path_factory.mktemp("diff")
    return ingest([DIFF_V1], base / "a.mem"), ingest([DIFF_V1], base / "a2.mem"), ingest([DIFF_V2], base / "b.mem")


# --- identical inputs ----------------------------------------------------------------------


def test_identical_inputs_diff_clean_and_bitwise_equal_weights(mems, capsys):
    from ttt_read.read import snapshot

    a, a2, _ = mems
    code, out, _ = run_in_process(capsys, "diff", a, a2, "--json")
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
    code, out, _ = run_in_process(capsys, "diff", a, a2)
    assert code == ExitCode.OK
    assert f"sources: identical ({len(V1_FILES)} files)" in out and "fast weights: identical" in out


# --- edited, added and removed files ---------------------------------------------------------


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


def test_edits_additions_and_removals_are_reported_in_sources(changed_json):
    code, result = changed_json
    sources = result["sources"]
    assert code == ExitCode.DIFFERENT and not result["identical_sources"]
    assert [e["path"] for e in sources["changed"]] == sorted(EDITED)
    assert all(
        e["old_sha256"] != e["new_sha256"] and e["old_tokens"] > 0 and e["new_tokens"] > 0 for e in sources["changed"]
    )
    assert [e["path"] for e in sources["added"]] == [ADDED] and [e["path"] for e in sources["removed"]] == [REMOVED]
    assert sources["unchanged"] == 1


def test_weights_layer_covers_every_fast_matrix(changed_json, checkpoint_info):
    _, result = changed_json
    cfg = checkpoint_info.config
    rows = result["weights"]["matrices"]
    assert [(r["block"], r["matrix"]) for r in rows] == [
        (cfg.n_layers - cfg.n_suffix + i, m) for i in range(cfg.n_suffix) for m in ("w1", "w3", "w2")
    ]
    assert not result["weights"]["identical"] and result["weights"]["total"]["relative_change"] > 0
    assert all(-1.0 <= r["update_cosine"] <= 1.0 for r in rows)


def files_by_path(result: dict) -> dict[str, dict]:
    return {f["path"]: f for f in result["knowledge"]["files"]}


def test_knowledge_ranks_what_only_one_memory_read_above_what_both_read(changed_json):
    """Files sorted by score; every file that differs above the unchanged one; a whole file
    that only one memory read (added, removed) above a small edit; the large rewrite above the
    edit that adds one function. Each by a margin."""
    _, result = changed_json
    files = result["knowledge"]["files"]
    assert [f["score"] for f in files] == sorted((f["score"] for f in files), reverse=True)
    by_path = files_by_path(result)
    score = {path: f["score"] for path, f in by_path.items()}
    assert all(score[p] >= score[UNCHANGED] + DIFFERS_MARGIN for p in [*EDITED, ADDED, REMOVED]), score
    assert all(score[whole] >= score[edit] + WHOLE_FILE_MARGIN for whole in (ADDED, REMOVED) for edit in SMALL_EDITS)
    assert score["tool.py"] >= score["fnmatch.py"] + WHOLE_FILE_MARGIN, score
    assert {p: f["status"] for p, f in by_path.items()} == {
        **dict.fromkeys(EDITED, "changed"),
        ADDED: "added",
        REMOVED: "removed",
        UNCHANGED: "unchanged",
    }
    unchanged = by_path[UNCHANGED]  # one text, scored once: the two directions cancel exactly
    assert unchanged["score"] == 0 and unchanged["new_text"]["gain"] == -unchanged["old_text"]["gain"]
    assert unchanged["changed_lines"] is None
    assert by_path[ADDED]["old_text"] is None and by_path[ADDED]["score"] == by_path[ADDED]["new_text"]["gain"]
    assert by_path[REMOVED]["new_text"] is None and by_path[REMOVED]["score"] == by_path[REMOVED]["old_text"]["gain"]
    assert result["knowledge"]["new_version"]["files"] == len(V1_FILES)


def test_a_changed_file_scores_the_gain_on_its_changed_lines(changed_json):
    _, result = changed_json
    for path in EDITED:
        f = files_by_path(result)[path]
        edit = [part for part in f["changed_lines"].values() if part["tokens"]]
        assert f["score"] == pytest.approx(
            sum(p["gain"] * p["tokens"] for p in edit) / sum(p["tokens"] for p in edit), abs=2e-6
        )
        assert f["changed_lines"]["added"]["lines"] > 0 and f["new_text"]["tokens"] > 0 and f["old_text"]["tokens"] > 0
        lines = f["new_knows_better"]
        assert all(line["gain_nats"] > 0 for line in lines)
        assert [line["gain_nats"] for line in lines] == sorted((line["gain_nats"] for line in lines), reverse=True)
    tool = files_by_path(result)["tool.py"]
    assert (
        tool["changed_lines"]["added"]["tokens"]
        > 10 * files_by_path(result)["scanner.py"]["changed_lines"]["added"]["tokens"]
    )


def test_new_knows_its_changed_lines_better_than_the_lines_both_read(changed_json):
    """Within each changed file, NEW's gain over OLD is larger on the lines only NEW read than
    on the lines both read, by CHANGED_LINES_MARGIN nats/token at least."""
    _, result = changed_json
    for path in EDITED:
        f = files_by_path(result)[path]
        whole, added = f["new_text"], f["changed_lines"]["added"]
        shared_tokens = whole["tokens"] - added["tokens"]
        shared_gain = (whole["gain"] * whole["tokens"] - added["gain"] * added["tokens"]) / shared_tokens
        assert added["gain"] - shared_gain >= CHANGED_LINES_MARGIN, (path, added["gain"], shared_gain)


def test_changed_lines():
    from ttt_read.diff.knowledge import changed_lines

    assert changed_lines("a\nb\nc\n", "a\nB\nc\nd\n") == ({2, 4}, {2})
    assert changed_lines("a\n", "a\n") == (set(), set())


def test_changed_diff_renders_every_layer(changed_json):
    from rich.console import Console

    from ttt_read.diff import compare as diff

    console = Console(record=True, width=120)
    result = changed_json[1]
    diff.render(result, console)
    out = console.export_text()
    assert "1 added, 1 removed, 3 changed, 1 unchanged" in out and all(path in out for path in EDITED)
    assert "fast weights" in out and "NEW knows better" in out and "whole new version" in out
    assert f"AUC {result['knowledge']['separation_auc']['score']:.3f} by score" in out


def test_score_text_counts_every_text_token(model_and_tokenizer):
    """Per-line sums cover every token of the text (none lost, header excluded)."""
    import torch

    from ttt_read.diff import knowledge as diff
    from ttt_read.text import tokenizer as tok

    model, tokenizer = model_and_tokenizer
    fast = [torch.stack([w[0], w[0]]) for w in model.initial_fast_weights(1)]
    text = "def f(x):\n    return 'héllo<|endoftext|>'  # ü\n\n\nx = 1"
    scored = diff.score_text(model, tokenizer, fast, "a/b.py", text, device="cpu")
    ids = tok.encode_file(tokenizer, "a/b.py", text)
    assert [tokenizer.token_to_id(tok.FILE)] + diff.encode_with_offsets(
        tokenizer, "a/b.py", text
    ).ids == ids  # as ingest reads it
    header = 1 + len(tokenizer.encode("a/b.py\n", add_special_tokens=False).ids)  # the FILE marker and the path line
    assert scored.tokens == len(ids) - header
    assert len(scored.count) == 1 + len(text.split("\n")) and scored.count[1] > 0 and scored.count[5] > 0
    assert scored.old_sum == scored.new_sum  # the same weights in both rows


def test_auc():
    from ttt_read.diff.knowledge import auc

    assert auc([3, 4], [1, 2]) == 1.0 and auc([1], [2]) == 0.0 and auc([1], [1]) == 0.5 and auc([], [1]) is None


# --- text from directories -----------------------------------------------------------------


@pytest.fixture(scope="module")
def padless(mems, tmp_path_factory):
    """a.mem and b.mem re-encoded without a notepad, as an older ttt-read wrote them."""
    from ttt_read.read import snapshot

    base = tmp_path_factory.mktemp("padless")
    out = []
    for mem in mems[0], mems[2]:
        snap = snapshot.load(mem)
        metadata = {k: v for k, v in snap.metadata.items() if k not in ("checksum", "notepad")}
        path = base / mem.name
        path.write_bytes(snapshot.encode(metadata, snap.fast, snap.tail_tokens))
        out.append(path)
    return out


def test_knowledge_from_directories_without_notepad(padless, changed_json, capsys):
    old, new = padless
    code, out, _ = run_in_process(capsys, "diff", old, new, "--json")
    result = json.loads(out)
    assert code == ExitCode.DIFFERENT and result["knowledge"]["files"] == []
    assert any("--old-path" in note for note in result["knowledge"]["notes"])
    code, out, _ = run_in_process(capsys, "diff", old, new, "--old-path", DIFF_V1, "--new-path", DIFF_V2, "--json")
    from_disk = json.loads(out)["knowledge"]["files"]
    from_notepads = [f for f in changed_json[1]["knowledge"]["files"] if f["status"] != "unchanged"]
    assert from_disk == from_notepads  # the same texts, scored the same


def test_text_on_disk_must_be_the_version_that_was_read(padless):
    from ttt_read.diff.knowledge import TextSource
    from ttt_read.read import snapshot

    manifest = snapshot.read_metadata(padless[0])["manifest"]
    assert TextSource(None, DIFF_V1, manifest).text("tool.py") == ((DIFF_V1 / "tool.py").read_text(), None)
    text, why = TextSource(None, DIFF_V2, manifest).text("tool.py")
    assert text is None and "not the version that was read" in why
    assert TextSource(None, DIFF_V1, manifest).text("gone.py")[1].startswith("not found")


# --- --ask ---------------------------------------------------------------------------------


ASK = "What parameters does `partition` take?"  # a function v2 adds to fnmatch.py


def test_ask_answers_from_both_side_by_side(mems, capsys):
    """Each side is what `ask --free` answers from that snapshot alone: OLD has no passage
    with `partition`, NEW cites the line that defines it."""
    from rich.console import Console

    from ttt_read.diff import compare as diff

    a, _, b = mems
    code, out, _ = run_in_process(capsys, "diff", a, b, "--no-knowledge", "--ask", ASK, "-n", "4", "--json")
    result = json.loads(out)
    assert code == ExitCode.DIFFERENT and result["knowledge"] is None
    assert result["ask"]["question"] == ASK
    for side, mem in (("old", a), ("new", b)):
        code, out, _ = run_in_process(capsys, "ask", mem, ASK, "--free", "-n", "4", "--json")
        alone, answered = json.loads(out), result["ask"][side]
        assert code == 0 and answered["answer"] == alone["answer"] and answered["sources"] == alone["sources"], side
        assert {k: v for k, v in answered["scores"].items() if k != "seconds"} == {
            k: v for k, v in alone["scores"].items() if k != "seconds"
        }
        assert answered["scores"]["answer_tokens"] <= 4
    defined = 1 + (DIFF_V2 / "fnmatch.py").read_text().split("\n").index("def partition(names, patterns):")
    assert [(s["path"], s["line"]) for s in result["ask"]["new"]["sources"]][0] == ("fnmatch.py", defined)
    assert not any("partition" in s["quote"] for s in result["ask"]["old"]["sources"])
    console = Console(record=True, width=100)
    diff.render(result, console)
    assert f"ask: {ASK}" in " ".join(console.export_text().split())  # the title wraps to the table


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_base_mem(checkpoint_info, tmp_path_factory):
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
    (base / "short.py").write_text("".join((DIFF_V1 / "scanner.py").read_text().splitlines(keepends=True)[:8]))
    return ingest([base / "short.py"], base / "other.mem", model=str(model_dir))


def test_different_base_checkpoints_exit_4(mems, other_base_mem, capsys):
    code, out, err = run_in_process(capsys, "diff", mems[0], other_base_mem)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_line(err, str(mems[0]), str(other_base_mem), "different base checkpoints")


def test_update_refuses_another_base(other_base_mem, tmp_path, capsys):
    out = tmp_path / "u.mem"
    code, _, err = run_in_process(
        capsys, "ingest", "--update", other_base_mem, DIFF_V1, "-o", out, "-q", "--model", "default"
    )
    assert code == ExitCode.SNAPSHOT and not out.exists()
    one_line(err, str(other_base_mem), "base checkpoint")


def test_corrupt_snapshot_exit_4(mems, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.mem"
    data = bytearray(mems[0].read_bytes())
    data[-10] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    code, out, err = run_in_process(capsys, "diff", mems[0], corrupt)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_line(err, str(corrupt), "corrupt")
    garbage = tmp_path / "garbage.mem"
    garbage.write_bytes(b"not a snapshot at all")
    code, _, err = run_in_process(capsys, "diff", garbage, mems[0])
    assert code == ExitCode.SNAPSHOT
    one_line(err, str(garbage), "not a ttt-read snapshot")


def test_snapshot_without_a_manifest_exit_4(mems, tmp_path, capsys):
    from ttt_read.read import snapshot

    snap = snapshot.load(mems[0])
    crafted = tmp_path / "crafted.mem"
    metadata = {k: v for k, v in snap.metadata.items() if k not in ("checksum", "manifest")}
    crafted.write_bytes(snapshot.encode(metadata, snap.fast, snap.tail_tokens))
    code, out, err = run_in_process(capsys, "diff", mems[0], crafted)
    assert code == ExitCode.SNAPSHOT and out == ""
    one_line(err, str(crafted), "manifest")
    code, _, err = run_in_process(
        capsys, "ingest", "--update", crafted, DIFF_V1 / "scanner.py", "-o", tmp_path / "u.mem"
    )
    assert code == ExitCode.SNAPSHOT and not (tmp_path / "u.mem").exists()
    one_line(err, str(crafted), "manifest")


def test_missing_snapshot_exit_4(mems, tmp_path, capsys):
    code, _, err = run_in_process(capsys, "diff", mems[0], tmp_path / "nope.mem")
    assert code == ExitCode.SNAPSHOT
    one_line(err, "nope.mem", "no such snapshot")


def test_same_file_twice_is_a_usage_error(mems, tmp_path, capsys):
    a = mems[0]
    code, out, err = run_in_process(capsys, "diff", a, a)
    assert code == ExitCode.USAGE and out == ""
    one_line(err, str(a), "same file")
    link = tmp_path / "link.mem"
    link.symlink_to(a)
    code, _, err = run_in_process(capsys, "diff", a, link)
    assert code == ExitCode.USAGE
    one_line(err, "same file")


def test_missing_text_directory_exit_3(mems, tmp_path, capsys):
    code, _, err = run_in_process(capsys, "diff", mems[0], mems[2], "--old-path", tmp_path / "nowhere")
    assert code == ExitCode.INPUT
    one_line(err, "--old-path", "nowhere")


def test_help_documents_the_exit_codes(capsys):
    code, out, _ = run_in_process(capsys, "diff", "--help")
    assert code == 0
    assert "same file" in out and "different base" in out and "diff(1)" in out
