"""Question/answer pairs from prose: headings and the paragraphs under them, definitions, option
lists, command synopses and glossary entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ttt_read.notepad.lexicon import (
    COMMAND_SYNOPSIS,
    DOT_LEADER,
    GLOSSARY_NAME,
    OPTION,
    OPTION_ALONE,
    OPTION_LINE,
    described_option,
    numbered_heading,
)
from ttt_read.questions.pair import QA, Segment, first_sentence, how_question, one_line, short_answer, which_question
from ttt_read.text.sources import PAGE_MARK

# --- prose ------------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}[ \t]*$")
_DEFINITION = re.compile(
    r"^(An?\s+|The\s+)?([A-Za-z][\w\-]*(?:\s+[\w\-]+){0,2}?)\s+"
    r"(is|are|refers to|means|denotes)\s+(?:a|an|the|one|any)\s+\S"
)
_NOT_TERMS = {
    "it",
    "this",
    "that",
    "there",
    "which",
    "what",
    "he",
    "she",
    "they",
    "we",
    "you",
    "i",
    "these",
    "those",
    "here",
    "each",
    "one",
    "result",
    "answer",
    "if",
    "when",
    "since",
    "although",
    "unless",
    "whether",
    "so",
    "in",
    "on",
    "at",
    "as",
    "otherwise",
    "however",
    "thus",
    "hence",
    "also",
    "then",
    "now",
    "following",
    "former",
    "latter",
    "default",
}
_SKIP_LINE = re.compile(r"^\s*(?:```|~~~|[|>!<]|[-*+]\s|\d+\.\s|\[page \d+\]$|\.\.\s)")
_STOP = set(
    """about above after again against all also an and any are because been before being below between both but
    by can could did does doing down during each few for from further had has have having here how into its itself
    just more most not now off once only other our out over own same should some such than that the their them then
    there these they this those through too under until very was were what when where which while who whom why will
    with would you your""".split()
)


def _prose_lines(body: str) -> list[str]:
    return body.split("\n")


def _is_term(term: str) -> bool:
    words = term.split()
    return all(len(w) > 1 and w.lower() not in _STOP and w.lower() not in _NOT_TERMS for w in words)


def _headings(lines: list[str], style: str) -> Iterator[tuple[int, str]]:
    """(line index, title) of headings: markdown `#`, rst underlines, or numbered sections
    (the only kind trusted in PDFs, where `#` lines and rules are common text)."""
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        if style != "pdf" and (m := _MD_HEADING.match(line)):
            yield i, m.group(2).strip("*_` ")
        elif style != "md" and numbered_heading(line):
            yield i, line.strip()
        elif (
            style in ("rst", "text")
            and i + 1 < len(lines)
            and _RST_UNDERLINE.match(lines[i + 1])
            and 2 < len(line.strip()) <= len(lines[i + 1].rstrip())
        ):
            yield i, line.strip()


def _paragraph_after(lines: list[str], start: int) -> tuple[int, str] | None:
    """The first plain paragraph after line `start` (skipping blank lines, not past a heading)."""
    i = start + 1
    if i < len(lines) and _RST_UNDERLINE.match(lines[i]):
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or _MD_HEADING.match(lines[i]) or _SKIP_LINE.match(lines[i]):
        return None
    j = i
    while j < len(lines) and lines[j].strip() and not _MD_HEADING.match(lines[j]) and not _SKIP_LINE.match(lines[j]):
        j += 1
    return i, " ".join(line.strip() for line in lines[i:j])


def _paragraphs(lines: list[str], style: str) -> Iterator[tuple[int, str]]:
    """Plain paragraphs: runs of non-blank lines that are not headings, code, lists or tables."""
    fence, start = False, None
    for i, line in enumerate(lines + [""]):
        plain = (
            line.strip()
            and not _MD_HEADING.match(line)
            and not _SKIP_LINE.match(line)
            and not _RST_UNDERLINE.match(line)
            and (style == "md" or not numbered_heading(line))
        )
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if plain and not fence and start is None:
            start = i
        elif (not plain or fence) and start is not None:
            yield start, " ".join(line.strip() for line in lines[start:i])
            start = None


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'`(\[])", paragraph) if s.strip()]


def _salient_word(sentence: str) -> str | None:
    """The word a cloze blanks: a number, else a capitalised word past the first, else the longest long word."""
    words = re.findall(r"[A-Za-z][\w\-]*[A-Za-z0-9]|\d[\d.,]*\d|\d", sentence)
    numbers = [w for w in words if w[0].isdigit() and len(w) >= 2]
    if numbers:
        return numbers[0]
    capitals = [w for w in words[1:] if w[0].isupper() and w.lower() not in _STOP and len(w) > 2]
    if capitals:
        return capitals[0]
    long_words = [w for w in words if len(w) >= 7 and w.lower() not in _STOP]
    return max(long_words, key=len) if long_words else None


def _option_qas(seg: Segment, lines: list[str]) -> Iterator[QA]:
    """ "What does option `-x` do?" from option lists: the option, then its description
    starting on the same line (or, as man pages print it, indented on the next) and running
    on while lines continue the sentence."""
    for i, line in enumerate(lines):
        if (m := OPTION_LINE.match(line)) and m.group(2)[0].isupper():
            lead, first, at = line[m.start(1) : m.start(2)], m.group(2), i  # lead: the options and argument
        elif entry := described_option(lines, i):
            lead, first, at = entry.group(2) + " ", line.strip(), i - 1
        else:
            continue
        text = [first]
        for following in lines[i + 1 : i + 4]:
            if (
                not following.strip()
                or OPTION_LINE.match(following)
                or OPTION_ALONE.match(following)
                or re.search(r"[.!?]\s*$", text[-1])
            ):
                break
            text.append(following.strip())
        if (answer := short_answer(first_sentence(" ".join(text)))) and len(answer.split()) >= 3:
            option = OPTION.match(lead.strip()).group(0)
            yield QA(f"What does option `{option}` do?", answer, seg.path, seg.first_line + at, "option")
            if question := how_question(answer):  # answered by the option with its description
                yield QA(question, one_line(lead + answer), seg.path, seg.first_line + at, "how")


_C_SYNOPSIS = re.compile(r"^(?:\[Function\])?[\w \t*]*?\b([A-Za-z_]\w*[_A-Z0-9]\w*)[ \t]*\(")


def _synopsis_qas(seg: Segment, lines: list[str]) -> Iterator[QA]:
    """ "Which function/command ...?" from manuals: a synopsis line (`int f (...)`, or a
    command and its options), then within a few lines a description starting with a verb."""
    for i, line in enumerate(lines):
        if m := _C_SYNOPSIS.match(line):
            kind = "function"
        elif m := COMMAND_SYNOPSIS.match(line.strip()):
            kind = "command"
        else:
            continue
        for j in range(i + 1, min(i + 6, len(lines))):
            if _C_SYNOPSIS.match(lines[j]) or not lines[j].strip():
                break
            if ":" in lines[j][:25]:
                continue
            description = first_sentence(" ".join(line.strip() for line in lines[j : j + 3]))
            if question := which_question(kind, description):
                yield QA(question, m.group(1), seg.path, seg.first_line + i, "which_function")
            if question := how_question(description):
                yield QA(question, m.group(1), seg.path, seg.first_line + i, "how")
            if _describes(line, m, kind, lines[j]) and (
                answer := short_answer(first_sentence(_paragraph_from(lines, j)))
            ):
                if len(answer.split()) >= 4 and answer.endswith(".") and not answer.startswith(m.group(1)):
                    subject = f"the `{m.group(1)}` command" if kind == "command" else f"`{m.group(1)}`"
                    yield QA(f"What does {subject} do?", answer, seg.path, seg.first_line + j, "describe")
            break


def _describes(synopsis: str, m: re.Match, kind: str, following: str) -> bool:
    """Whether a synopsis is one a manual describes below it (not a command in an example,
    not a function's call in running text) and `following` starts that description."""
    if kind == "command":
        whole = "[" in synopsis
    else:  # a return type before the name, and the parameter list closed on the line
        whole = m.start(1) > len(synopsis) - len(synopsis.lstrip()) and ")" in synopsis[m.end() :]
    return whole and bool(re.match(r"[ \t]*[A-Z][a-z]+\b", following))


def _paragraph_from(lines: list[str], start: int) -> str:
    """Lines from `start` up to a blank line or a page marker, at most three."""
    taken = []
    for line in lines[start : start + 3]:
        if not line.strip() or PAGE_MARK.match(line):
            break
        taken.append(line.strip())
    return " ".join(taken)


# a glossary's entry: "PATH A colon-separated list ...", or the name alone above its description
# Stricter than the notepad's `TERM_LINE`: a question needs a description that reads as one.
_GLOSSARY_ENTRY = re.compile(rf"^[ \t]*({GLOSSARY_NAME})[ \t]+((?:A|An|The) .*)$")
_GLOSSARY_NAME_ALONE = re.compile(rf"^[ \t]*({GLOSSARY_NAME})[ \t]*$")
_GLOSSARY_TEXT = re.compile(r"^[ \t]*(?:A|An|The) ")


def _glossary_qas(seg: Segment, lines: list[str]) -> Iterator[QA]:
    """ "What is `PATH`?" from a glossary's entries (a variable's, an environment's): the name
    in capitals, then its description, on the same line or alone above it."""
    for i, line in enumerate(lines):
        if m := _GLOSSARY_ENTRY.match(line):
            name, start, at = m.group(1), m.group(2), i
        elif (m := _GLOSSARY_NAME_ALONE.match(line)) and i + 1 < len(lines) and _GLOSSARY_TEXT.match(lines[i + 1]):
            name, start, at = m.group(1), lines[i + 1].strip(), i + 1
        else:
            continue
        description = first_sentence(" ".join([start, _paragraph_from(lines, at + 1)]))
        if (answer := short_answer(description)) and len(answer.split()) >= 4 and answer.endswith("."):
            yield QA(f"What is `{name}`?", answer, seg.path, seg.first_line + at, "describe")


def prose_qas(seg: Segment, style: str) -> Iterator[QA]:
    lines = _prose_lines(seg.body)
    yield from _option_qas(seg, lines)
    if style in ("pdf", "text"):
        yield from _synopsis_qas(seg, lines)
        yield from _glossary_qas(seg, lines)
    for i, heading in _headings(lines, style):
        found = _paragraph_after(lines, i)
        answer = short_answer(first_sentence(found[1])) if found else None
        if answer and len(answer.split()) >= 4 and answer[-1] in ".!?" and answer[0].isalnum():
            yield QA(
                f'What is the first sentence under the heading "{heading}"?',
                answer,
                seg.path,
                seg.first_line + found[0],
                "heading",
            )
    for start, paragraph in _paragraphs(lines, style):
        for sentence in _sentences(paragraph):
            n_words = len(sentence.split())
            if (
                (m := _DEFINITION.match(sentence))
                and _is_term(m.group(2))
                and n_words >= 6
                and (answer := short_answer(sentence))
            ):
                article = (m.group(1) or "").lower()
                verb = "are" if m.group(3) == "are" else "is"
                yield QA(f"What {verb} {article}{m.group(2)}?", answer, seg.path, seg.first_line + start, "definition")
            if (
                8 <= n_words <= 35
                and sentence[-1:] in ".!?"
                and not DOT_LEADER.search(sentence)  # a contents entry, not a sentence
                and (word := _salient_word(sentence))
            ):
                blanked = re.sub(r"(?<![\w\-])" + re.escape(word) + r"(?![\w\-])", "____", sentence, count=1)
                if "____" in blanked:
                    yield QA(
                        f'Fill in the blank: "{one_line(blanked)}"', word, seg.path, seg.first_line + start, "cloze"
                    )
