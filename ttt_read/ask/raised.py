"""What a program says when it fails: each `raise`, `throw`, `panic(...)`, error constructor
(`errors.New`, `fmt.Errorf`) and error built to be handed on (`reject(new AxiosError(...))`) is
a unit, so "What error do I get when ...?" is answered by the statement itself, which names both
the error's class and its message (`throw new Error('No default engine was specified ...')`,
`raise QueueFull`).

The message is what such a question describes, so it is the unit's name; the condition that
guards the statement (`if (signed && !secret)`) is its context, since questions say *when*.
"""

from __future__ import annotations

import dataclasses
import re

from ttt_read.ask.syntax import FUNCTION_NODES, STRING_NODES, node_text, unquote
from ttt_read.ask.unit import Unit

MAX_STATEMENT_CHARS = 200
_RAISE_NODES = ("raise_statement", "throw_statement")  # Python; JavaScript, TypeScript, Java
_NEW_NODES = ("new_expression", "object_creation_expression")  # JavaScript, TypeScript; Java
ERROR_CLASS = re.compile(r"(?:[\w$]+\.)*[A-Z][\w$]*(?:Error|Exception)")  # `CanceledError`, `zip.ZipException`
_ERROR_CALLS = re.compile(r"errors\.New|fmt\.Errorf|panic|bail|anyhow")  # Go, Rust (`panic!`, `bail!`)
_CONDITIONS = ("if_statement", "if_expression", "elif_clause", "else_clause", "switch_case", "case_clause")
_DECLARATIONS = ("var_declaration", "const_declaration", "var_spec", "const_spec", "static_item", "const_item")
_SCOPES = FUNCTION_NODES | {"class_body"}  # what a raising statement's condition or declaration is looked for within


def raising(node) -> bool:
    """Whether `node` raises an error or builds one (`errors.New("...")`, `panic!("...")`)."""
    if node.type in _RAISE_NODES:  # not a re-raise: `raise`, `throw err`
        raised = node.named_children[0] if node.named_children else None
        return raised is not None and not (raised.type == "identifier" and node_text(raised)[:1].islower())
    if node.type in _NEW_NODES:  # an error built to be handed on, not thrown: `reject(new AxiosError(...))`
        built = node.child_by_field_name("constructor") or node.child_by_field_name("type")
        handed_on = node.parent is not None and node.parent.type not in _RAISE_NODES
        return built is not None and handed_on and ERROR_CLASS.fullmatch(node_text(built)) is not None
    if node.type not in ("call_expression", "macro_invocation"):
        return False
    callee = node.child_by_field_name("function") or node.child_by_field_name("macro")
    return callee is not None and _ERROR_CALLS.fullmatch(node_text(callee)) is not None


def message(node) -> str:
    """The string literals a raising statement says, in order: its message, less what it fills in
    ('' for `raise QueueFull`)."""
    said, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type in STRING_NODES:
            said.append(unquote(node_text(n)).replace("\\'", "'").strip())
        else:
            stack.extend(reversed(n.children))
    return " ".join(s for s in said if s)[:MAX_STATEMENT_CHARS]


def statement(node) -> str:
    """The statement as one line, as written (long ones cut)."""
    return " ".join(node_text(node).split())[:MAX_STATEMENT_CHARS]


def condition(node) -> str:
    """The condition guarding `node` within its function: `signed && !secret` for the `throw` in
    `if (signed && !secret) { throw ... }`; '' when it is unconditional."""
    at = node.parent
    while at is not None and at.type not in _SCOPES:
        if at.type in _CONDITIONS:
            guard = at.child_by_field_name("condition") or at.child_by_field_name("value")
            if guard is not None:
                return " ".join(node_text(guard).split())[:MAX_STATEMENT_CHARS]
        at = at.parent
    return ""


def defines_error(node) -> bool:
    """Whether an error built here is a declared value (`var ErrLength = errors.New(...)`): the
    variable is the unit then, named as code and questions name it."""
    at = node.parent
    while at is not None and at.type not in _SCOPES:
        if at.type in _DECLARATIONS:
            return True
        at = at.parent
    return False


def raised_unit(node, path: str, col: int, owners: tuple) -> Unit:
    """The unit of a raising statement at 1-based `col`, inside `owners`: named by its message,
    answered by the statement, described by its condition and the function raising it (not by
    that function's doc comment, which says what the function does, not when it fails)."""
    said = statement(node)
    return Unit(
        kind="error",
        name=message(node) or said,
        answer=said,
        path=path,
        line=node.start_point[0] + 1,
        col=col,
        owner=" ".join(owners),
        context=" ".join((condition(node), *owners[-1:])).strip(),
    )


_RAISED_CLASS = re.compile(r"^(?:(?:raise|throw)\s+(?:new\s+)?|new\s+)(?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]*)")
RAISES_TOLD = 3  # raising statements that describe an error class, the first in reading order


def described_by_raises(units: list[Unit]) -> list[Unit]:
    """An error class is also described by where it is raised: its context gains the function,
    the condition and the message of its first raising statements (`ClassNotFound`, raised by
    `get_lexer_by_name` with "no lexer for alias %r found"), which say when a user meets it."""
    told: dict[str, list[str]] = {}
    for u in units:
        m = _RAISED_CLASS.match(u.answer) if u.kind == "error" else None
        if m is not None and len(told.setdefault(m.group(1), [])) < RAISES_TOLD:
            said = u.name if u.name != u.answer else ""  # its message, when it has one
            told[m.group(1)].append(" ".join(x for x in (u.context, said) if x))
    if not told:
        return units
    return [
        dataclasses.replace(u, context=f"{u.context} raised: {'; '.join(told[u.name])}")
        if u.kind in ("class", "type") and told.get(u.name)
        else u
        for u in units
    ]
