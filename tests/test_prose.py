"""A manual's prose as sentences (`ask.prose`): how the text is cut, and the fitted ranker
choosing among the sentences of committed and generated manuals."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttt_read.ask import prose
from ttt_read.notepad.store import Notepad
from ttt_read.text import sources

FIXTURES = Path(__file__).parent / "fixtures" / "units"

# A PDF's text as reading renders it: page marks, a running head on every page, numbered
# headings and reference entries inside unbroken runs of lines, a contents page.
PDF_TEXT = """[page 1]
Contents
1. Pumps . . . . . . . . . . 2
[page 2]
Garden Manual 2
1. Pumps
A pump moves water from the tank to the beds. Its default pressure is 3
bar, and the highest is 6 bar.
drain
drain [-f] [bed]
Empty the pipes of a bed before the frost. With -f it does not ask first.
[page 3]
Garden Manual 3
2. Valves
Each valve opens one bed.
[page 4]
Garden Manual 4
Valves close by themselves after 20 minutes."""


def texts(found: list[prose.Sentence]) -> list[str]:
    return [s.text for s in found]


def test_an_info_entry_carries_its_terms_and_headings_are_not_sentences():
    lines = (FIXTURES / "hose.info.txt").read_text().split("\n")
    found = prose.sentences_of(lines)
    spray = next(s for s in found if "fine cloud" in s.text)
    assert spray.text == "‘--spray’ ‘--mist’ ‘-s’ Spread the water in a fine cloud of droplets instead of a jet."
    assert (spray.line, spray.col) == (lines.index("‘--spray’") + 1, 1)
    assert spray.heading == "3 Invoking ‘hose’"
    reel = next(s for s in found if s.text.startswith("‘--reel’"))
    assert reel.text == "‘--reel’ Wind the hose back onto its drum when done."
    assert not any(s.text.startswith(("3 Invoking", "****")) for s in found)


def test_a_pdfs_running_heads_contents_and_page_marks_are_left_out():
    lines = PDF_TEXT.split("\n")
    found = prose.sentences_of(lines)
    assert texts(found) == [
        "A pump moves water from the tank to the beds.",
        "Its default pressure is 3 bar, and the highest is 6 bar.",
        "drain drain [-f] [bed] Empty the pipes of a bed before the frost.",
        "With -f it does not ask first.",
        "Each valve opens one bed.",
        "Valves close by themselves after 20 minutes.",
    ]
    assert [s.heading for s in found] == ["1. Pumps"] * 4 + ["2. Valves"] * 2
    pressure = found[1]
    assert (pressure.line, pressure.col, pressure.last) == (7, 47, 8)
    assert lines[pressure.line - 1][pressure.col - 1 :].startswith("Its default pressure")
    assert found[2].line == lines.index("drain") + 1 and found[3].context == found[2].text


@pytest.fixture(scope="module")
def garden(tmp_path_factory) -> Notepad:
    root = tmp_path_factory.mktemp("garden")
    (root / "garden.txt").write_text(PDF_TEXT.replace("[page", "[leaf"))
    (root / "hose.info").write_text((FIXTURES / "hose.info.txt").read_text())
    return Notepad.build(sources.collect([root]).files)


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("How do I empty the pipes before it freezes?", "Empty the pipes of a bed"),
        ("What is the highest pressure a pump allows?", "the highest is 6 bar"),
        ("After how long do valves close by themselves?", "after 20 minutes"),
        ("How can I make the hose spray a fine cloud?", "‘--spray’"),
    ],
)
def test_the_fitted_ranker_answers_with_the_sentence_that_says_it(garden, question, said):
    answer = prose.prose_answer(garden, question, garden.search(question, 3))
    assert answer.found and said in answer.text
    source = answer.sources[0]
    text = garden.file_text(source.path).split("\n")
    assert text[source.line - 1][source.col - 1 :].split()[0] == answer.text.split()[0]


def test_a_question_about_what_the_manual_never_mentions_is_not_found(garden):
    question = "Which firmware version added bluetooth pairing?"
    answer = prose.prose_answer(garden, question, garden.search(question, 3))
    assert not answer.found and answer.text == ""
