"""`eval`'s bits per byte: the exact bytes of the scored tokens, and xz -9e on the same bytes."""

from __future__ import annotations

import json
import lzma
import math
import shutil

import pytest
from conftest import CORPUS, REPO, assert_ok, run_cli, take

README = REPO / "README.md"


@pytest.fixture(scope="module")
def readme(model_and_tokenizer):
    """README.md as `ingest` renders and tokenizes it: non-ASCII text behind a file marker."""
    from ttt_read.read import ingest as engine
    from ttt_read.text import sources
    from ttt_read.text import tokenizer as tok

    _, tokenizer = model_and_tokenizer
    collection = sources.collect([README])
    ids, _ = engine.tokenize(tokenizer, collection)
    f = collection.files[0]
    rendered = (tok.FILE + tok.file_body(f.path, f.text)).encode()
    assert rendered.decode().isascii() is False  # multi-byte characters are part of the test
    return ids, rendered


def test_scored_bytes_are_exactly_the_rendered_text(model_and_tokenizer, readme):
    from ttt_read.evaluate.loss import scored_bytes
    from ttt_read.text.tokenizer import token_bytes

    _, tokenizer = model_and_tokenizer
    ids, rendered = readme
    assert scored_bytes(ids, token_bytes(tokenizer)) == rendered


def test_xz_bits_are_xz_9e():
    """`xz -9e` as liblzma writes it, whatever `xz` command a machine has: the .xz container
    with a CRC64 check, preset 9 extreme, one stream (`xz -9e -T1`; xz 5.6 and newer default to
    -T0, whose multi-threaded block headers change the size)."""
    from ttt_read.evaluate.loss import xz_bits

    data = README.read_bytes()
    xz = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9 | lzma.PRESET_EXTREME)
    assert xz_bits(data) == 8 * len(xz)


def test_bits_per_byte_is_nats_per_token_over_bytes(model_and_tokenizer, readme, code_tokens):
    from ttt_read.evaluate.loss import evaluate, scored_bytes, xz_bits
    from ttt_read.text.tokenizer import token_bytes

    model, tokenizer = model_and_tokenizer
    documents = [take(readme[0], 1500), take(code_tokens, 700), take(code_tokens, 700, start=700)]
    labels = [("prose", "README.md"), ("code", "first"), ("code", "second")]
    table = token_bytes(tokenizer)
    texts = [scored_bytes(d, table) for d in documents]
    assert readme[1].startswith(texts[0])  # a cut document covers a prefix of its text
    result = evaluate(
        {"off": (model, 0.0), "on": (model, model.cfg.inner_lr)}, documents, tokenizer=tokenizer, labels=labels
    )

    assert result["bytes"] == sum(map(len, texts))
    assert result["xz_bits_per_byte"] == pytest.approx(sum(map(xz_bits, texts)) / result["bytes"], rel=1e-12)
    scored = sum(len(d) - 1 for d in documents)
    for row in result["settings"].values():
        expected = row["mean_loss"] * scored / result["bytes"] / math.log(2)
        assert row["bits_per_byte"] == pytest.approx(expected, rel=1e-9)
        bucket_bits = sum(b["loss"] * b["tokens"] for b in row["buckets"]) / math.log(2)
        assert bucket_bits == pytest.approx(row["bits_per_byte"] * result["bytes"], rel=1e-9)
    for name in result["settings"]:
        doc_bits = sum(d["bits_per_byte"][name] * d["bytes"] for d in result["per_document"])
        assert doc_bits == pytest.approx(result["settings"][name]["bits_per_byte"] * result["bytes"], rel=1e-9)
    assert [d["bytes"] for d in result["per_document"]] == [len(t) for t in texts]
    code, prose = result["per_kind"]["code"], result["per_kind"]["prose"]
    assert (code["documents"], code["bytes"], prose["bytes"]) == (2, len(texts[1]) + len(texts[2]), len(texts[0]))
    assert code["xz_bits_per_byte"] == pytest.approx((xz_bits(texts[1]) + xz_bits(texts[2])) / code["bytes"], rel=1e-12)
    assert prose["bits_per_byte"] == result["per_document"][0]["bits_per_byte"]
    for name, bpb in code["bits_per_byte"].items():
        doc_bits = sum(d["bits_per_byte"][name] * d["bytes"] for d in result["per_document"][1:])
        assert bpb == pytest.approx(doc_bits / code["bytes"], rel=1e-12)


def test_eval_command_reports_bits_per_byte_beside_xz(ttt_home):
    path = CORPUS / "errors.py"
    result = run_cli(ttt_home, "eval", path, "--max-tokens", "300", "--json")
    assert_ok(result)
    report = json.loads(result.stdout)
    assert 0 < report["bytes"] <= path.stat().st_size + 64  # the file marker and path line add a few
    assert report["xz_bits_per_byte"] > 0
    assert all(row["bits_per_byte"] > 0 for row in report["settings"].values())
    table = run_cli(ttt_home, "eval", path, "--max-tokens", "300")
    assert_ok(table)
    assert "xz -9e" in table.stdout and "bits/byte" in table.stdout


def test_eval_sweeps_the_update_size(ttt_home):
    """`--reading-chunk`: one update as long as the document scores every token before it
    learns anything, so it is reading off; shorter updates learn within the document."""
    path = CORPUS / "errors.py"
    sweep = ("eval", path, "--max-tokens", "300", "--reading-chunk", "512", "--reading-chunk", "32", "--no-notepad")
    result = run_cli(ttt_home, *sweep)
    assert_ok(result)
    report = run_cli(ttt_home, *sweep, "--json")
    rows = {name.split(" reading ")[1]: row for name, row in json.loads(report.stdout)["settings"].items()}
    assert "chunk 32" in result.stdout and "chunk 512" in result.stdout
    assert [rows[k]["reading_chunk"] for k in ("chunk 512", "chunk 32")] == [512, 32]
    assert rows["chunk 512"]["bits_per_byte"] == pytest.approx(rows["off"]["bits_per_byte"], rel=1e-4)
    assert rows["chunk 32"]["bits_per_byte"] < rows["off"]["bits_per_byte"] - 0.01
    assert rows["chunk 32"]["bits_per_byte"] != pytest.approx(rows["on"]["bits_per_byte"], rel=1e-4)


def test_paired_differences_carry_a_t_interval():
    from ttt_read.evaluate.loss import mean_interval, paired

    stats = mean_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(2) = 4.303
    assert stats["mean"] == 2.0 and stats["ci95"] == pytest.approx([2 - 4.303 / 3**0.5, 2 + 4.303 / 3**0.5])
    docs = [
        {"bits_per_byte": {"off": 2.0, "on": 1.5}, "loss_beyond_8k": {"off": 5.0, "on": 4.0}},
        {"bits_per_byte": {"off": 3.0, "on": 2.9}, "loss_beyond_8k": {"off": None, "on": None}},  # shorter than 8K
    ]
    (pair,) = paired(docs, ["off", "on"])
    assert (pair["a"], pair["b"]) == ("off", "on")
    assert pair["bits_per_byte"]["mean"] == pytest.approx(-0.3) and pair["bits_per_byte"]["documents"] == 2
    assert pair["loss_beyond_8k"] == {"mean": -1.0, "ci95": None, "documents": 1}


def test_eval_after_a_notepad_takes_the_checkpoint_as_a_directory(ttt_home, tmp_path):
    """`-m DIR --notepad SNAPSHOT`: the snapshot is opened with the checkpoint that directory
    holds (a directory is no name to look up among the installed ones)."""
    from conftest import ingest

    snapshot = ingest([CORPUS / "errors.py"], tmp_path / "errors.mem")
    model = shutil.copytree(REPO / "models" / "default", tmp_path / "my-checkpoint")
    result = run_cli(ttt_home, "eval", CORPUS / "errors.py", "--max-tokens", "300", "-m", model, "--notepad", snapshot)
    assert_ok(result)
    assert "bits/byte" in result.stdout
