"""The notepad against real text: this repository's sources, real PDFs, and its own bytes."""

from __future__ import annotations

import ast
import lzma
import re

import pytest
from conftest import SOURCES
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfs import write_pdf

from ttt_read import sources
from ttt_read.errors import ExitCode, TTTReadError
from ttt_read.notepad import (
    VERSION,
    Notepad,
    _decode_varints,
    _encode_varints,
    _front_code,
    _front_decode,
    query_terms,
    snapshot_part_sizes,
    word_terms,
)

QUERIES = [
    "Where is `collect` defined?",
    "What parameters does `read_file` take?",
    "What is the value of `BINARY_SNIFF_BYTES`?",
    "What does module `snapshot` import?",
    "How are snapshots written atomically?",
    "the of a",  # only common words
]


@pytest.fixture(scope="module")
def repo_files():
    return sources.collect([SOURCES]).files


@pytest.fixture(scope="module")
def repo_pad(repo_files) -> Notepad:
    return Notepad.build(repo_files)


def line_of(path, pattern: str) -> int:
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        if re.match(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in {path}")


# --- terms -----------------------------------------------------------------------------------


def test_identifiers_are_indexed_whole_and_in_parts():
    assert word_terms("max_file_bytes") == ["max_file_bytes", "max", "file", "bytes"]
    assert word_terms("HTTPServer") == ["httpserver", "http", "server"]
    assert word_terms("readFile2") == ["readfile2", "read", "file"]
    assert word_terms("x") == []


def test_questions_lose_their_question_words_and_ask_for_definitions():
    terms = query_terms("Where is `collect` defined?")
    assert terms == ["collect", "=collect"]


# --- search ------------------------------------------------------------------------------------


def test_a_definition_outranks_its_uses(repo_pad):
    best = repo_pad.search("Where is `parse_pattern` defined?", k=3)[0]
    assert best.path == "sources.py"
    assert best.focus == line_of(SOURCES / "sources.py", r"def parse_pattern\(")
    assert best.line_start <= best.focus <= best.line_end
    assert best.cite() == f"sources.py:{best.focus}"


def test_every_definition_of_a_name_outranks_its_uses(repo_pad):
    defining = {p.name: line_of(p, r"def collect\(") for p in SOURCES.glob("*.py") if re.search(r"(?m)^def collect\(", p.read_text())}
    found = repo_pad.search("Where is `collect` defined?", k=len(defining) + 1)
    assert {p.path: p.focus for p in found[: len(defining)]} == defining


def test_passages_are_the_files_own_lines(repo_pad, repo_files):
    texts = {f.path: f.text.split("\n") for f in repo_files}
    for query in QUERIES[:5]:
        found = repo_pad.search(query, k=4)
        assert 1 <= len(found) <= 4
        assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)
        for p in found:
            assert p.text == "\n".join(texts[p.path][p.line_start - 1 : p.line_end])
            assert p.page is None
        spans = [(p.path, p.line_start, p.line_end) for p in found]
        for i, (path, lo, hi) in enumerate(spans):
            assert not any(q == path and ql <= hi and lo <= qh for q, ql, qh in spans[:i]), "passages overlap"


def test_a_constant_is_found_where_it_is_set(repo_pad):
    best = repo_pad.search("What is the value of `BINARY_SNIFF_BYTES`?", k=1)[0]
    assert (best.path, best.focus) == ("sources.py", line_of(SOURCES / "sources.py", r"BINARY_SNIFF_BYTES ="))


def test_nothing_matches_nothing(repo_pad):
    assert repo_pad.search("zzqx wvvq", k=3) == []
    assert repo_pad.search("Where is `collect` defined?", k=0) == []


def test_pdf_passages_cite_their_page(tmp_path):
    pages = [
        "Introduction\nThis manual describes the harbour.",
        "Chapter two\nThe lighthouse keeper is called Ottoline Brandt.\nShe lights the lamp at dusk.",
        "Chapter three\nFerries leave every forty minutes.",
    ]
    pdf = write_pdf(tmp_path / "manual.pdf", pages)
    pad = Notepad.from_bytes(Notepad.build(sources.collect([pdf]).files).to_bytes())
    keeper = pad.search("Who is the lighthouse keeper?", k=1)[0]
    assert keeper.path == "manual.pdf" and keeper.page == 2
    assert keeper.cite() == "manual.pdf (page 2)"
    assert "Ottoline Brandt" in keeper.text
    assert pad.search("How often do ferries leave?", k=1)[0].page == 3


# --- bytes -------------------------------------------------------------------------------------


def test_round_trip_keeps_texts_and_answers_the_same(repo_pad, repo_files):
    data = repo_pad.to_bytes()
    assert data[:5] == b"TTNP" + bytes([VERSION])
    loaded = Notepad.from_bytes(data)
    assert [(f.path, f.kind, f.text) for f in loaded.files] == [(f.path, f.kind, f.text) for f in repo_files]
    assert loaded.vocab == repo_pad.vocab and loaded.df.tolist() == repo_pad.df.tolist()
    for query in QUERIES:
        assert loaded.search(query, k=3) == repo_pad.search(query, k=3)
    assert loaded.to_bytes() == data


def test_the_index_costs_at_most_half_the_compressed_text(repo_pad, tmp_path):
    stats = repo_pad.stats()
    compressed = len(lzma.compress("".join(f.text for f in repo_pad.files).encode(), preset=6 | lzma.PRESET_EXTREME))
    assert stats["compressed_text_bytes"] == compressed
    assert stats["bytes"] <= 1.5 * compressed, stats
    assert stats["overhead_ratio"] <= 0.5
    # prose: the README, and a PDF of the modules' docstrings
    readme = Notepad.build(sources.collect([SOURCES.parent / "README.md"]).files).stats()
    assert readme["overhead_ratio"] <= 0.5, readme
    docs = [ast.get_docstring(ast.parse(p.read_text())) or "" for p in sorted(SOURCES.glob("*.py"))]
    docs = [d.encode("latin-1", "replace").decode("latin-1") for d in docs if d]
    pdf = write_pdf(tmp_path / "docs.pdf", docs)
    prose = Notepad.build(sources.collect([pdf]).files).stats()
    assert prose["overhead_ratio"] <= 0.5, prose


def test_unicode_odd_files_and_empty_text_survive(tmp_path):
    class F:
        def __init__(self, path, text, kind="text"):
            self.path, self.text, self.kind = path, text, kind

    files = [F("naïve/ünïcode.md", "# Überschrift\nGrüße aus Köln, straße_name = 1\n"), F("empty.txt", ""), F("no-newline.py", "x = 1")]
    pad = Notepad.from_bytes(Notepad.build(files).to_bytes())
    assert [f.text for f in pad.files] == [f.text for f in files]
    hit = pad.search("Grüße aus Köln", k=1)[0]
    assert hit.path == "naïve/ünïcode.md" and hit.focus == 2


@pytest.mark.parametrize(
    "damage",
    [lambda b: b"XXXX" + b[4:], lambda b: b[:4] + bytes([VERSION + 1]) + b[5:], lambda b: b[:40], lambda b: b[:5] + lzma.compress(b"{}")],
    ids=["magic", "version", "truncated", "garbage"],
)
def test_damaged_bytes_are_a_snapshot_error(repo_pad, damage):
    with pytest.raises(TTTReadError) as info:
        Notepad.from_bytes(damage(repo_pad.to_bytes()))
    assert info.value.code == ExitCode.SNAPSHOT and "notepad" in str(info.value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**40)))
def test_varints_round_trip(values):
    assert _decode_varints(_encode_varints(values)).tolist() == values


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"=?\w{1,40}", fullmatch=True), unique=True))
def test_front_coding_round_trips(terms):
    terms = sorted(terms)
    assert _front_decode(_front_code(terms)) == terms


def test_part_sizes_come_from_the_header(tmp_path):
    import torch

    from ttt_read import snapshot

    pad = b"TTNP\x01" + bytes(1000)
    raw = snapshot.encode({"base": {}}, [torch.zeros(4, 8), torch.zeros(8, 4)], [1, 2, 3], notepad=pad)
    path = tmp_path / "s.mem"
    path.write_bytes(raw)
    assert snapshot_part_sizes(path) == {"weights": 2 * 32 * 4, "notepad": len(pad)}
    assert snapshot.load(path).notepad == pad
