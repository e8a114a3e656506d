"""A question/answer pair, the file segment it comes from, and the wording every extractor
shares: which/how questions, what a definition does, answers short enough to ask for.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

MAX_ANSWER_CHARS = 160
MAX_LIST_ITEMS = 12

KINDS = (
    "defined_in",
    "parameters",
    "returns",
    "docstring",
    "which_function",
    "methods",
    "constant",
    "imports",
    "heading",
    "definition",
    "option",
    "how",
    "describe",
    "cloze",
)


@dataclass(frozen=True)
class QA:
    question: str
    answer: str
    path: str  # the file the answer comes from ("" when the text had no header before it)
    line: int  # 1-based line in that file (as far as the text shows it)
    kind: str  # one of KINDS

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Segment:
    path: str  # "" for text before the first header (a window starting mid-file)
    body: str
    first_line: int  # line number of the body's first line in its file


def module_name(path: str) -> str:
    """The name a file is imported by: its stem, or its package's for `__init__`."""
    parts = path.split("/")
    name = parts[-1].partition(".")[0]
    if name == "__init__" and len(parts) > 1:
        return parts[-2]
    return name


def one_line(text: str) -> str:
    """`text` with its whitespace collapsed, as an answer is compared."""
    return " ".join(text.split())


def short_answer(text: str | None) -> str | None:
    """`text` on one line when it is short enough to be an answer, else None."""
    text = one_line(text or "")
    return text if 0 < len(text) <= MAX_ANSWER_CHARS else None


def first_sentence(text: str) -> str | None:
    """The first sentence of the first paragraph, whitespace collapsed."""
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    paragraph = one_line(paragraph)
    if not paragraph:
        return None
    m = re.match(r"(.+?[.!?])(?=\s+[A-Z0-9`\"'(\[]|$)", paragraph)
    return m.group(1) if m else paragraph


_NOT_VERBS = {
    "the",
    "this",
    "these",
    "a",
    "an",
    "if",
    "note",
    "see",
    "used",
    "deprecated",
    "internal",
    "helper",
    "base",
    "class",
    "for",
    "in",
    "example",
    "examples",
    "parameters",
    "description",
    "options",
    "is",
    "was",
    "has",
    "its",
    "it",
    "as",
    "on",
    "all",
    "any",
    "each",
    "when",
    "with",
    "by",
    "to",
    "from",
    "only",
    "also",
    "new",
    "default",
    "no",
    "not",
    "abstract",
    "unless",
    "there",
    "where",
    "some",
    "most",
    "many",
}
TEST_NAME = re.compile(r"^(?:Test|Benchmark|Example|Fuzz|test_)")


def _action(sentence: str | None, subject: str | None = None) -> tuple[str, list[str]] | None:
    """The verb (third person) and the rest of a description in the imperative ("Return the
    table."), or the third person ("Creates ...", or "Quote returns ..." after the `subject`
    it names); None for other sentences."""
    words = (sentence or "").rstrip(".").split()
    if subject:
        if len(words) < 3 or words[0] != subject:
            return None
        words = words[1:]
    if not words or not words[0].isalpha() or not words[0][1:].islower() or not words[0][0].isupper() and not subject:
        return None
    verb = words[0].lower()
    if (
        verb in _NOT_VERBS
        or verb.endswith(("ed", "ing", "ly", "ss"))
        or len(verb) < 4
        or not (sentence or "").endswith(".")
        or not 3 <= len(words) <= 16
    ):
        return None
    if not verb.endswith("s"):
        verb += "es" if verb.endswith(("sh", "ch", "x", "z", "o")) else "s"
    return verb, words[1:]


def which_question(kind: str, sentence: str | None, subject: str | None = None) -> str | None:
    """A user's "which function ...?" from a description of what it does (see `_action`)."""
    if found := _action(sentence, subject):
        verb, rest = found
        return f"Which {kind} {verb} {' '.join(rest)}?"
    return None


def how_question(sentence: str | None) -> str | None:
    """A user's "How do I ...?" from a description of what an option or command does: "Make
    names readonly." asks "How do I make names readonly?"."""
    if found := _action(sentence):
        verb, rest = found
        base = verb[:-2] if verb.endswith("es") and verb[:-2].endswith(("sh", "ch", "x", "z", "o")) else verb[:-1]
        return f"How do I {base} {' '.join(rest)}?"
    return None
