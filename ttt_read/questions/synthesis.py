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

import ast
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass

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
from ttt_read.text import filekinds
from ttt_read.text import tokenizer as tok
from ttt_read.text.sources import PAGE_MARK

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


# --- splitting a read text -------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    path: str  # "" for text before the first header (a window starting mid-file)
    body: str
    first_line: int  # line number of the body's first line in its file


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


def _stem(path: str) -> str:
    parts = path.split("/")
    name = parts[-1].partition(".")[0]
    if name == "__init__" and len(parts) > 1:
        return parts[-2]
    return name


def _clean(text: str) -> str:
    return " ".join(text.split())


def _short(text: str | None) -> str | None:
    text = _clean(text or "")
    return text if 0 < len(text) <= MAX_ANSWER_CHARS else None


def first_sentence(text: str) -> str | None:
    """The first sentence of the first paragraph, whitespace collapsed."""
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    paragraph = _clean(paragraph)
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
_TEST_NAME = re.compile(r"^(?:Test|Benchmark|Example|Fuzz|test_)")


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


# --- Python via ast ---------------------------------------------------------------------------


def what_it_does(name: str, is_class: bool = False) -> str:
    """A question its documentation's first sentence answers, worded as users ask it."""
    return f"What is `{name}`?" if is_class else f"What does `{name}` do?"


def _parse_python(body: str) -> tuple[ast.Module, int] | None:
    """The body parsed, or its whole top-level statements when it was cut out of a file;
    with the number of lines dropped at the top."""
    try:
        return ast.parse(body), 0
    except (SyntaxError, ValueError, RecursionError):
        pass
    lines = body.split("\n")
    top = [
        i
        for i, line in enumerate(lines)
        if re.match(r"(?:async\s+def|def|class|import|from|@|[A-Za-z_]\w*\s*[=:(.])", line)
    ]
    if not top:
        return None
    start = top[0]
    for end in [len(lines)] + top[:0:-1]:
        try:
            return ast.parse("\n".join(lines[start:end])), start
        except (SyntaxError, ValueError, RecursionError):
            continue
    return None


def _unparse(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    try:
        return ast.unparse(node)
    except Exception:  # unparse gives up on a few odd trees; the question is then skipped
        return None


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[str]:
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if (
        is_method
        and names
        and names[0] in ("self", "cls")
        and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    ):
        names = names[1:]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    names += [p.arg for p in a.kwonlyargs]
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return names


def _own_returns(fn: ast.AST) -> Iterator[ast.Return]:
    """Return statements of `fn` itself, not of functions or classes nested in it."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _returns(fn: ast.FunctionDef | ast.AsyncFunctionDef, written) -> str | None:
    annotation = written(fn.returns)
    if annotation and annotation != "None":
        return annotation
    values = {written(r.value) for r in _own_returns(fn) if r.value is not None}
    values.discard(None)
    values.discard("None")
    return values.pop() if len(values) == 1 else None


def _imports(tree: ast.Module) -> list[str]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return list(dict.fromkeys(m for m in found if m and m != "__future__"))


def _constant_name(name: str) -> bool:
    return re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name) is not None and len(name) > 1


def _python_qas(seg: Segment, tree: ast.Module, offset: int) -> Iterator[QA]:
    line = lambda node: seg.first_line + offset + node.lineno - 1  # noqa: E731
    source = "\n".join(seg.body.split("\n")[offset:])

    def written(node: ast.AST | None) -> str | None:
        """An expression as the file spells it (what a reader can quote back), else unparsed."""
        if node is None:
            return None
        return ast.get_source_segment(source, node) or _unparse(node)

    def function(fn, owner: str | None) -> Iterator[QA]:
        name = f"{owner}.{fn.name}" if owner else fn.name
        params = _parameters(fn, owner is not None)
        if params and (answer := _short(", ".join(params))):
            yield QA(f"What parameters does `{name}` take?", answer, seg.path, line(fn), "parameters")
        if answer := _short(_returns(fn, written)):
            yield QA(f"What does `{name}` return?", answer, seg.path, line(fn), "returns")
        doc = ast.get_docstring(fn)
        if doc and (answer := _short(first_sentence(doc))) and len(answer.split()) >= 3:
            yield QA(what_it_does(name), answer, seg.path, line(fn), "docstring")
            if question := which_question("method" if owner else "function", answer):
                yield QA(question, fn.name, seg.path, line(fn), "which_function")

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield QA(f"Where is `{node.name}` defined?", seg.path, seg.path, line(node), "defined_in")
            yield from function(node, None)
        elif isinstance(node, ast.ClassDef):
            yield QA(f"Where is `{node.name}` defined?", seg.path, seg.path, line(node), "defined_in")
            methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if 0 < len(methods) <= MAX_LIST_ITEMS and (answer := _short(", ".join(m.name for m in methods))):
                yield QA(f"Which methods does class `{node.name}` have?", answer, seg.path, line(node), "methods")
            doc = ast.get_docstring(node)
            if doc and (answer := _short(first_sentence(doc))) and len(answer.split()) >= 3:
                yield QA(what_it_does(node.name, is_class=True), answer, seg.path, line(node), "docstring")
            for method in methods:
                if not (method.name.startswith("__") and method.name != "__init__"):
                    yield from function(method, node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if (
                len(targets) == 1
                and isinstance(targets[0], ast.Name)
                and _constant_name(targets[0].id)
                and node.value is not None
            ):
                if answer := _short(written(node.value)):
                    yield QA(f"What is the value of `{targets[0].id}`?", answer, seg.path, line(node), "constant")
    imports = _imports(tree)
    if imports and seg.path and (answer := _short(", ".join(imports[:MAX_LIST_ITEMS]))):
        first = next(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        yield QA(f"What does module `{_stem(seg.path)}` import?", answer, seg.path, line(first), "imports")


# --- code by regular expressions ----------------------------------------------------------------

_PY_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.M)
_PY_CLASS = re.compile(r"^([ \t]*)class[ \t]+(\w+)", re.M)
_PY_CONST = re.compile(r"^(_?[A-Z][A-Z0-9_]+)[ \t]*(?::[^=\n]+)?=[ \t]*(\S[^\n]*)$", re.M)
_PY_IMPORT = re.compile(r"^(?:import[ \t]+([\w.]+)|from[ \t]+([\w.]+)[ \t]+import)", re.M)
_DOC_START = re.compile(r'\s*[rRbBuU]?("""|\'\'\')(.*?)(?:\1|$)', re.S)

_OTHER_DEFS = [  # (suffixes, pattern with groups name, params and optionally returns)
    (
        {"js", "jsx", "mjs", "cjs", "ts", "tsx"},
        re.compile(
            r"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?function\*?[ \t]+(\w+)"
            r"[ \t]*(?:<[^>\n]*>)?\(([^)]*)\)",
            re.M,
        ),
    ),
    (
        {"js", "jsx", "mjs", "cjs", "ts", "tsx"},
        re.compile(
            r"^[ \t]*(?:export[ \t]+)?(?:const|let|var)[ \t]+(\w+)[ \t]*=[ \t]*(?:async[ \t]*)?\(([^)]*)\)"
            r"[ \t]*(?::[^=\n]+)?=>",
            re.M,
        ),
    ),
    ({"go"}, re.compile(r"^func[ \t]+(?:\([^)]*\)[ \t]*)?(\w+)[ \t]*\(([^)]*)\)[ \t]*([^{\n]*?)[ \t]*\{", re.M)),
    (
        {"rs"},
        re.compile(
            r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:const[ \t]+)?(?:async[ \t]+)?(?:unsafe[ \t]+)?fn[ \t]+(\w+)"
            r"[ \t]*(?:<[^>\n]*>)?\(([^)]*)\)(?:[ \t]*->[ \t]*([^{;\n]+?))?[ \t]*(?:where|\{|;|$)",
            re.M,
        ),
    ),
    ({"rb"}, re.compile(r"^[ \t]*def[ \t]+(?:self\.)?(\w+[?!]?)(?:[ \t]*\(([^)]*)\))?", re.M)),
    ({"lua"}, re.compile(r"^[ \t]*(?:local[ \t]+)?function[ \t]+([\w.:]+)[ \t]*\(([^)]*)\)", re.M)),
    ({"sh", "bash"}, re.compile(r"^[ \t]*(?:function[ \t]+)?(\w+)[ \t]*\(\)[ \t]*\{()", re.M)),
]
_GO_DOC = re.compile(r"^((?://[^\n]*\n)+)func[ \t]+(?:\([^)]*\)[ \t]*)?(\w+)[ \t]*\(", re.M)
_OTHER_TYPES = re.compile(
    r"^[ \t]*(?:export[ \t]+|pub(?:\([^)]*\))?[ \t]+|public[ \t]+|abstract[ \t]+|final[ \t]+)*"
    r"(?:class|struct|trait|interface|enum)[ \t]+([A-Za-z_]\w*)",
    re.M,
)


def _line_at(body: str, index: int) -> int:
    return body.count("\n", 0, index) + 1


def _split_params(raw: str) -> list[str]:
    """Top-level comma-separated pieces of a parameter list."""
    pieces, depth, current = [], 0, []
    for ch in raw:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return [_clean(p) for p in pieces if p.strip()]


def _python_regex_qas(seg: Segment) -> Iterator[QA]:
    """Python that does not parse: signatures on their own lines, class bodies by indent."""
    body = seg.body
    lines = body.split("\n")
    at = lambda index: seg.first_line + _line_at(body, index) - 1  # noqa: E731
    for m in _PY_DEF.finditer(body):
        depth, end = 1, m.end()
        while end < len(body) and depth and end - m.end() < 2000:
            depth += {"(": 1, ")": -1}.get(body[end], 0)
            end += 1
        if depth:
            continue  # the signature runs past the end of the window
        name = m.group(2)
        params = [re.split(r"[:=]", p, maxsplit=1)[0].strip() for p in _split_params(body[m.end() : end - 1])]
        params = [p for p in params if p not in ("/", "*")]
        if m.group(1) and params and params[0] in ("self", "cls"):
            params = params[1:]
        rest = re.match(r"[ \t]*(?:->[ \t]*([^:\n]+?))?[ \t]*:", body[end:])
        if not m.group(1):
            yield QA(f"Where is `{name}` defined?", seg.path, seg.path, at(m.start()), "defined_in")
        if params and (answer := _short(", ".join(params))):
            yield QA(f"What parameters does `{name}` take?", answer, seg.path, at(m.start()), "parameters")
        if rest and rest.group(1) and rest.group(1).strip() != "None" and (answer := _short(rest.group(1))):
            yield QA(f"What does `{name}` return?", answer, seg.path, at(m.start()), "returns")
        if (
            rest
            and (doc := _DOC_START.match(body, end + rest.end()))
            and (answer := _short(first_sentence(doc.group(2))))
        ):
            if len(answer.split()) >= 3 and doc.group(2).strip():
                yield QA(what_it_does(name), answer, seg.path, at(m.start()), "docstring")
    for m in _PY_CLASS.finditer(body):
        if m.group(1):
            continue
        name, first = m.group(2), _line_at(body, m.start())
        yield QA(f"Where is `{name}` defined?", seg.path, seg.path, seg.first_line + first - 1, "defined_in")
        methods, closed, indent = [], False, None
        for line in lines[first:]:
            if line.strip() and not line[0].isspace():
                closed = True
                break
            if d := re.match(r"([ \t]+)(?:async[ \t]+)?def[ \t]+(\w+)", line):
                indent = indent or d.group(1)
                if d.group(1) == indent:
                    methods.append(d.group(2))
        if closed and 0 < len(methods) <= MAX_LIST_ITEMS and (answer := _short(", ".join(methods))):
            yield QA(
                f"Which methods does class `{name}` have?", answer, seg.path, seg.first_line + first - 1, "methods"
            )
    for m in _PY_CONST.finditer(body):
        value = m.group(2).split("  #")[0].strip()
        if (
            value.count("(") == value.count(")")
            and value.count("[") == value.count("]")
            and value.count("{") == value.count("}")
        ):
            if answer := _short(value):
                yield QA(f"What is the value of `{m.group(1)}`?", answer, seg.path, at(m.start()), "constant")
    imports = list(dict.fromkeys(m.group(1) or m.group(2) for m in _PY_IMPORT.finditer(body)))
    imports = [i for i in imports if i != "__future__"]
    # a window cut out of a file shows the imports only when it starts at the file's top
    if imports and seg.path and (answer := _short(", ".join(imports[:MAX_LIST_ITEMS]))):
        first = _PY_IMPORT.search(body)
        yield QA(f"What does module `{_stem(seg.path)}` import?", answer, seg.path, at(first.start()), "imports")


def _other_code_qas(seg: Segment, suffix: str) -> Iterator[QA]:
    body = seg.body
    at = lambda index: seg.first_line + _line_at(body, index) - 1  # noqa: E731
    for suffixes, pattern in _OTHER_DEFS:
        if suffix not in suffixes:
            continue
        for m in pattern.finditer(body):
            name = m.group(1)
            yield QA(f"Where is `{name}` defined?", seg.path, seg.path, at(m.start()), "defined_in")
            params = _split_params(m.group(2) or "")
            if params and (answer := _short(", ".join(params))):
                yield QA(f"What parameters does `{name}` take?", answer, seg.path, at(m.start()), "parameters")
            returns = m.group(3) if pattern.groups >= 3 else None
            if returns and (answer := _short(returns)):
                yield QA(f"What does `{name}` return?", answer, seg.path, at(m.start()), "returns")
    for m in _OTHER_TYPES.finditer(body):
        yield QA(f"Where is `{m.group(1)}` defined?", seg.path, seg.path, at(m.start()), "defined_in")
    if suffix == "go":
        for m in _GO_DOC.finditer(body):
            sentence = first_sentence(" ".join(line.strip().lstrip("/").strip() for line in m.group(1).split("\n")))
            if _TEST_NAME.match(m.group(2)):
                continue
            if (answer := _short(sentence)) and len(answer.split()) >= 3:
                yield QA(what_it_does(m.group(2)), answer, seg.path, at(m.start(2)), "docstring")
            if question := which_question("function", sentence, subject=m.group(2)):
                yield QA(question, m.group(2), seg.path, at(m.start(2)), "which_function")


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
        if (answer := _short(first_sentence(" ".join(text)))) and len(answer.split()) >= 3:
            option = OPTION.match(lead.strip()).group(0)
            yield QA(f"What does option `{option}` do?", answer, seg.path, seg.first_line + at, "option")
            if question := how_question(answer):  # answered by the option with its description
                yield QA(question, _clean(lead + answer), seg.path, seg.first_line + at, "how")


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
            if _describes(line, m, kind, lines[j]) and (answer := _short(first_sentence(_paragraph_from(lines, j)))):
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
        if (answer := _short(description)) and len(answer.split()) >= 4 and answer.endswith("."):
            yield QA(f"What is `{name}`?", answer, seg.path, seg.first_line + at, "describe")


def _prose_qas(seg: Segment, style: str) -> Iterator[QA]:
    lines = _prose_lines(seg.body)
    yield from _option_qas(seg, lines)
    if style in ("pdf", "text"):
        yield from _synopsis_qas(seg, lines)
        yield from _glossary_qas(seg, lines)
    for i, heading in _headings(lines, style):
        found = _paragraph_after(lines, i)
        answer = _short(first_sentence(found[1])) if found else None
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
                and (answer := _short(sentence))
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
                    yield QA(f'Fill in the blank: "{_clean(blanked)}"', word, seg.path, seg.first_line + start, "cloze")


# --- all together -------------------------------------------------------------------------------


def _segment_qas(seg: Segment) -> Iterator[QA]:
    suffix = filekinds.suffix(seg.path).lstrip(".")  # the extractors name suffixes without the dot
    looks_pdf = PAGE_MARK.search(seg.body) is not None
    if suffix in ("py", "pyi") or (not seg.path and _PY_DEF.search(seg.body)):
        parsed = _parse_python(seg.body)
        yield from (_python_qas(seg, *parsed) if parsed else _python_regex_qas(seg))
    elif filekinds.is_code(seg.path):
        yield from _other_code_qas(seg, suffix)
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
        yield from _prose_qas(seg, style)


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
