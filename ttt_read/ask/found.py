"""What an answer is: its text, whether it was found, and the sources it quotes.

Shared by every way of answering (grounded, structured, free, the BM25 baseline) and by
the printing of answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ttt_read.ask.span import Shown


@dataclass(kw_only=True)
class Source:
    path: str
    line: int  # the answer's line, else the passage's best-matching line
    col: int | None  # 1-based column of the answer in `line`; None for a passage that only informed it
    page: int | None
    quote: str  # the quoted line(s)
    span: tuple[int, int] | None  # the answer's characters in `quote`
    line_start: int  # the lines actually shown to the model
    line_end: int
    score: float
    cite: str  # `path:line`, or `path (page N)` for PDFs


@dataclass
class Answer:
    text: str
    found: bool
    confidence: float | None  # grounded: calibrated probability the answer is supported; free: mean token probability
    grounded: bool
    sources: list[Source] = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    notice: str | None = None

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "found": self.found,
            "confidence": self.confidence,
            "grounded": self.grounded,
            "sources": [asdict(s) for s in self.sources],
            "scores": self.scores,
        }


def passage_source(s: Shown) -> Source:
    """A shown passage cited at its best line, quoted."""
    lines = s.text.split("\n")
    at = min(max(s.passage.focus - s.lo, 0), len(lines) - 1)
    return Source(
        path=s.passage.path,
        line=s.lo + at,
        col=None,
        page=s.passage.page,
        quote=lines[at].strip(),
        span=None,
        line_start=s.lo,
        line_end=s.hi,
        score=s.passage.score,
        cite=s.passage.cite(s.lo + at),
    )
