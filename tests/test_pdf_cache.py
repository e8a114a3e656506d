"""The PDF text cache: keyed by content, reused, never holding text cut short, never written
inside the directory being read, and never a reason for a read to fail."""

from __future__ import annotations

import pytest
from conftest import tree_state
from pdfs import write_pdf

from ttt_read.text import sources


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

    monkeypatch.setattr("ttt_read.text.pdf._pdf_pages", no_parsing)
    assert sources.collect([docs], cache_dir=cache).files[0] == first
    monkeypatch.undo()
    write_pdf(pdf, ["second version"])  # new bytes, new key: never stale text
    assert sources.collect([docs], cache_dir=cache).files[0].text == "[page 1]\nsecond version\n"
    assert len(list(cache.iterdir())) == 2


def test_pdf_text_cut_by_the_time_budget_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setattr("ttt_read.text.pdf.PDF_TIME_BUDGET_S", 0.0)
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
