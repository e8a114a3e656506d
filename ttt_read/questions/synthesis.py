"""Question/answer pairs synthesised from the text the model reads.

The same generator serves three places, so the format never drifts between them:
training ends windows with QA turns about them (`train.qa_turns`), `eval-qa` asks them
about held-out documents, and `ask` uses the same turn format (`tokenizer.encode_qa_prompt`,
then `tokenizer.encode_answer`).

The input is a read text: files introduced by `tokenizer.file_header` lines. Code is read
with `ast` for Python (a window cut out of a file is narrowed to whole top-level statements
first; when even that does not parse, regular expressions stand in), with regular
expressions for other languages, and prose with simple patterns for headings, definitions
and salient sentences. Every pair keeps the file and line it came from. Everything is
deterministic given the `random.Random` passed in.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator

from ttt_read.questions.code_qas import code_qas, is_python
from ttt_read.questions.pair import KINDS, QA, Segment
from ttt_read.questions.prose_qas import prose_qas
from ttt_read.text import filekinds
from ttt_read.text import tokenizer as tok
from ttt_read.text.sources import PAGE_MARK

# --- splitting a read text -------------------------------------------------------------------


def split_files(text: str) -> list[Segment]:
    """The files of a read text, split on `file_header` lines."""
    segments = []
    header = r"(?m)(?:^|(?<=" + re.escape(tok.END_OF_TEXT) + r"))" + re.escape(tok.FILE) + r"(.*)\n?"
    parts = [_strip_end_of_text(p) for p in re.split(header, text)]
    if parts[0].strip():
        segments.append(Segment("", parts[0], 1))
    for path, body in zip(parts[1::2], parts[2::2]):
        segments.append(Segment(path.strip(), body, 1))
    return segments


def _strip_end_of_text(part: str) -> str:
    """Training windows have end-of-text markers between documents, next to the headers."""
    while part.startswith(tok.END_OF_TEXT):
        part = part[len(tok.END_OF_TEXT) :]
    while part.endswith(tok.END_OF_TEXT):
        part = part[: -len(tok.END_OF_TEXT)]
    return part


# --- all together -------------------------------------------------------------------------------


def _segment_qas(seg: Segment) -> Iterator[QA]:
    suffix = filekinds.suffix(seg.path).lstrip(".")  # the extractors name suffixes without the dot
    looks_pdf = PAGE_MARK.search(seg.body) is not None
    if is_python(seg, suffix) or filekinds.is_code(seg.path):
        yield from code_qas(seg, suffix)
    else:  # prose, and any other text: manuals rendered from HTML, info and man pages
        style = (
            "pdf"
            if suffix == "pdf" or looks_pdf
            else "md"
            if suffix in ("md", "markdown", "mdx")
            else "rst"
            if suffix == "rst"
            else "text"
        )
        yield from prose_qas(seg, style)


def all_qas(text: str) -> list[QA]:
    """Every QA the text supports, in text order; questions whose answer differs between
    places (a name defined twice) are dropped, repeats of the same pair kept once."""
    found: list[QA] = []
    for seg in split_files(text):
        for qa in _segment_qas(seg):
            if qa.kind in ("defined_in", "imports") and not seg.path:
                continue
            found.append(qa)
    answers = defaultdict(set)
    for qa in found:
        answers[qa.question].add(qa.answer)
    seen, out = set(), []
    for qa in found:
        if len(answers[qa.question]) == 1 and qa.question not in seen:
            seen.add(qa.question)
            out.append(qa)
    return out


def absent_from(item: QA, text: str) -> bool:
    """Whether `item` is unanswerable from `text`: neither its answer nor the names it asks
    about (in backticks) occur there."""
    low = text.lower()
    names = re.findall(r"`([^`]+)`", item.question)
    return item.answer.lower() not in low and all(n.lower() not in low for n in names)


def synthesize(
    text: str, rng: random.Random, max_pairs: int | None = None, kinds: tuple[str, ...] | None = None
) -> list[QA]:
    """Up to `max_pairs` QAs about `text`, mixing kinds: each kind shuffled, then taken in
    turns (kinds in a shuffled order), so no single kind crowds the others out."""
    by_kind: dict[str, list[QA]] = defaultdict(list)
    for qa in all_qas(text):
        if kinds is None or qa.kind in kinds:
            by_kind[qa.kind].append(qa)
    order = [k for k in KINDS if by_kind[k]]
    rng.shuffle(order)
    for kind in order:
        rng.shuffle(by_kind[kind])
    picked: list[QA] = []
    limit = sum(len(v) for v in by_kind.values()) if max_pairs is None else max_pairs
    round_ = 0
    while len(picked) < limit and any(round_ < len(by_kind[k]) for k in order):
        for kind in order:
            if round_ < len(by_kind[kind]) and len(picked) < limit:
                picked.append(by_kind[kind][round_])
        round_ += 1
    return picked
