"""How a definition's doc comment is read: the comments right above it (JSDoc, Javadoc, `///`,
`#`), with their markers and tag lines set apart, and a Python docstring's first paragraphs and
what its Sphinx, Google or NumPy sections say of each parameter.
"""

from __future__ import annotations

import re
import textwrap

from ttt_read.ask.syntax import ATTRIBUTES, COMMENTS, node_text, statement_of, unquote
from ttt_read.ask.unit import MAX_DOC_CHARS

_JSDOC_TAG = re.compile(r"^\s*@\w+")


def clean_comment(text: str, tags: bool = False) -> str:
    """A comment's words: markers (`/**`, `*`, `//`, `///`, `#`) left out, and the lines from its
    first JSDoc/Javadoc tag (`@param`) on, or (`tags`) those lines alone."""
    out, tagged = [], []
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:/\*+!?|\*+/|\*(?!/)|//+!?|#+|--)\s?", "", line)
        line = re.sub(r"\*+/\s*$", "", line).rstrip()
        if tagged or _JSDOC_TAG.match(line):
            tagged.append(line)
        else:
            out.append(line)
    return " ".join(" ".join(tagged if tags else out).split())[:MAX_DOC_CHARS]


def python_docstring(node) -> str:
    """The first two paragraphs of a Python definition's docstring, on one line ("" when it has
    none): what it does, then often how it is meant to be used ("To implement a custom
    authentication scheme, subclass `Auth` and override ...") or its arguments."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", _raw_docstring(node).strip())]
    if len(paragraphs) > 1 and paragraphs[0] and paragraphs[0][-1] not in ".!?:":
        paragraphs[0] += "."  # a summary line ends its sentence: "Make an empty set" is not "... set First ..."
    return " ".join(paragraphs[:2])[:MAX_DOC_CHARS]


def docstring_node(node):
    """The string node of a Python definition's docstring, or None."""
    body = node.child_by_field_name("body")
    if body is None or not body.named_children:
        return None
    first = body.named_children[0]
    if first.type == "expression_statement" and first.named_children and first.named_children[0].type == "string":
        return first.named_children[0]
    return None


def _raw_docstring(node) -> str:
    string = docstring_node(node)
    return unquote(node_text(string).strip()) if string is not None else ""


_SPHINX_PARAM = re.compile(r"^:param(?:\s+[^:]+?)?\s+\*{0,2}(\w+):\s*(.*)$")
_GOOGLE_SECTION = re.compile(r"^(?:Args|Arguments|Parameters|Keyword Args|Keyword Arguments|Params):$")
_GOOGLE_PARAM = re.compile(r"^\*{0,2}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")
_NUMPY_PARAM = re.compile(r"^\*{0,2}(\w+)\s*:(?:\s*\S.*)?$")


def python_parameter_docs(node) -> dict[str, str]:
    """What a Python docstring says of each parameter, in Sphinx (`:param timeout: ...`),
    Google (`Args:` then `timeout (float): ...`) or NumPy (`Parameters`, dashes, `timeout :
    float` then its description) style, continuation lines joined."""
    _summary, _, rest = _raw_docstring(node).partition("\n")
    lines = textwrap.dedent(rest).split("\n")
    docs: dict[str, list[str]] = {}
    section, current, depth = None, None, 0  # the style read, the parameter described, its indent
    for i, line in enumerate(lines):
        text, indent = line.strip(), len(line) - len(line.lstrip())
        underlined = i + 1 < len(lines) and len(lines[i + 1].strip()) > 2 and set(lines[i + 1].strip()) == {"-"}
        if not text:
            current = current if section == "numpy" else None
            continue
        if indent == 0 and (underlined or _GOOGLE_SECTION.match(text) or text.endswith(":") and " " not in text):
            section = (
                "numpy" if underlined and text == "Parameters" else "google" if _GOOGLE_SECTION.match(text) else None
            )
            current = None
            continue
        if section == "numpy" and set(text) == {"-"}:
            continue
        if m := _SPHINX_PARAM.match(text):
            current, depth = m[1], indent
            docs[current] = [m[2]]
        elif (
            section == "google"
            and indent > 0
            and (current is None or indent <= depth)
            and (m := _GOOGLE_PARAM.match(text))
        ):
            current, depth = m[1], indent
            docs[current] = [m[2]]
        elif section == "numpy" and indent == 0 and (m := _NUMPY_PARAM.match(text)):
            current, depth = m[1], 0
            docs[current] = []
        elif current is not None and indent > depth and not text.startswith(":"):
            docs[current].append(text)
        else:
            current = None
    return {name: " ".join(" ".join(words).split())[:MAX_DOC_CHARS] for name, words in docs.items() if any(words)}


def leading_comment(node) -> str:
    """The comments right above a node (or above the statement wrapping it)."""
    return clean_comment(comment_above(statement_of(node)))


def comment_above(target) -> str:
    """The comments right above `target`, as written: its doc comment in most languages (not a
    comment that ends the line of the statement before, nor a module's own `//!` doc)."""
    parts = []
    sibling = target.prev_named_sibling
    row = target.start_point[0]
    while sibling is not None and sibling.type in ATTRIBUTES and sibling.end_point[0] >= row - 1:
        row, sibling = sibling.start_point[0], sibling.prev_named_sibling  # `#[derive(Debug)]` under the doc
    while sibling is not None and sibling.type in COMMENTS and sibling.end_point[0] >= row - 2:
        before = sibling.prev_sibling
        text = node_text(sibling)
        # a node that ends at the start of the comment's line ended with the line before it (a
        # Rust `///` line comment holds its newline); one that ends further on shares the line
        trailing = before is not None and before.end_point[0] == sibling.start_point[0] and before.end_point[1] > 0
        if trailing or text.startswith(("//!", "/*!")):
            break  # the comment after a statement on its line, or a module's own doc
        parts.append(text)
        row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    return "\n".join(reversed(parts))
