"""Question/answer pairs from code: Python read with `ast` (narrowed to whole top-level
statements when a window cuts a file), regular expressions for Python that does not parse and
for other languages.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ttt_read.questions.pair import (
    MAX_LIST_ITEMS,
    QA,
    TEST_NAME,
    Segment,
    first_sentence,
    module_name,
    one_line,
    short_answer,
    which_question,
)

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
        if params and (answer := short_answer(", ".join(params))):
            yield QA(f"What parameters does `{name}` take?", answer, seg.path, line(fn), "parameters")
        if answer := short_answer(_returns(fn, written)):
            yield QA(f"What does `{name}` return?", answer, seg.path, line(fn), "returns")
        doc = ast.get_docstring(fn)
        if doc and (answer := short_answer(first_sentence(doc))) and len(answer.split()) >= 3:
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
            if 0 < len(methods) <= MAX_LIST_ITEMS and (answer := short_answer(", ".join(m.name for m in methods))):
                yield QA(f"Which methods does class `{node.name}` have?", answer, seg.path, line(node), "methods")
            doc = ast.get_docstring(node)
            if doc and (answer := short_answer(first_sentence(doc))) and len(answer.split()) >= 3:
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
                if answer := short_answer(written(node.value)):
                    yield QA(f"What is the value of `{targets[0].id}`?", answer, seg.path, line(node), "constant")
    imports = _imports(tree)
    if imports and seg.path and (answer := short_answer(", ".join(imports[:MAX_LIST_ITEMS]))):
        first = next(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        yield QA(f"What does module `{module_name(seg.path)}` import?", answer, seg.path, line(first), "imports")


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
    return [one_line(p) for p in pieces if p.strip()]


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
        if params and (answer := short_answer(", ".join(params))):
            yield QA(f"What parameters does `{name}` take?", answer, seg.path, at(m.start()), "parameters")
        if rest and rest.group(1) and rest.group(1).strip() != "None" and (answer := short_answer(rest.group(1))):
            yield QA(f"What does `{name}` return?", answer, seg.path, at(m.start()), "returns")
        if (
            rest
            and (doc := _DOC_START.match(body, end + rest.end()))
            and (answer := short_answer(first_sentence(doc.group(2))))
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
        if closed and 0 < len(methods) <= MAX_LIST_ITEMS and (answer := short_answer(", ".join(methods))):
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
            if answer := short_answer(value):
                yield QA(f"What is the value of `{m.group(1)}`?", answer, seg.path, at(m.start()), "constant")
    imports = list(dict.fromkeys(m.group(1) or m.group(2) for m in _PY_IMPORT.finditer(body)))
    imports = [i for i in imports if i != "__future__"]
    # a window cut out of a file shows the imports only when it starts at the file's top
    if imports and seg.path and (answer := short_answer(", ".join(imports[:MAX_LIST_ITEMS]))):
        first = _PY_IMPORT.search(body)
        yield QA(f"What does module `{module_name(seg.path)}` import?", answer, seg.path, at(first.start()), "imports")


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
            if params and (answer := short_answer(", ".join(params))):
                yield QA(f"What parameters does `{name}` take?", answer, seg.path, at(m.start()), "parameters")
            returns = m.group(3) if pattern.groups >= 3 else None
            if returns and (answer := short_answer(returns)):
                yield QA(f"What does `{name}` return?", answer, seg.path, at(m.start()), "returns")
    for m in _OTHER_TYPES.finditer(body):
        yield QA(f"Where is `{m.group(1)}` defined?", seg.path, seg.path, at(m.start()), "defined_in")
    if suffix == "go":
        for m in _GO_DOC.finditer(body):
            sentence = first_sentence(" ".join(line.strip().lstrip("/").strip() for line in m.group(1).split("\n")))
            if TEST_NAME.match(m.group(2)):
                continue
            if (answer := short_answer(sentence)) and len(answer.split()) >= 3:
                yield QA(what_it_does(m.group(2)), answer, seg.path, at(m.start(2)), "docstring")
            if question := which_question("function", sentence, subject=m.group(2)):
                yield QA(question, m.group(2), seg.path, at(m.start(2)), "which_function")


def is_python(seg: Segment, suffix: str) -> bool:
    """A Python file, or a window cut from one before its first file header."""
    return suffix in ("py", "pyi") or (not seg.path and _PY_DEF.search(seg.body) is not None)


def code_qas(seg: Segment, suffix: str) -> Iterator[QA]:
    """The QAs of source code: Python by `ast` where it parses, else by regular expressions."""
    if is_python(seg, suffix):
        parsed = _parse_python(seg.body)
        yield from (_python_qas(seg, *parsed) if parsed else _python_regex_qas(seg))
    else:
        yield from _other_code_qas(seg, suffix)
