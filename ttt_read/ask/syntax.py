"""What tree-sitter's grammars say: which language a file is, which node types define, assign,
wrap or comment, and how a node's name, value and text are read (its doc comment:
`doc_comments`).
"""

from __future__ import annotations

import re
from functools import cache

from ttt_read.ask.unit import MAX_VALUE_CHARS

LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".c": "c",
    ".h": "c",
    ".rs": "rust",
    ".java": "java",
}


@cache
def parser_for(language: str):
    """A tree-sitter parser for `language`, or None when its grammar is not installed."""
    try:
        from tree_sitter import Language, Parser

        if language == "python":
            import tree_sitter_python as grammar

            lang = grammar.language()
        elif language == "javascript":
            import tree_sitter_javascript as grammar

            lang = grammar.language()
        elif language in ("typescript", "tsx"):
            import tree_sitter_typescript as grammar

            lang = grammar.language_typescript() if language == "typescript" else grammar.language_tsx()
        elif language == "go":
            import tree_sitter_go as grammar

            lang = grammar.language()
        elif language == "c":
            import tree_sitter_c as grammar

            lang = grammar.language()
        elif language == "rust":
            import tree_sitter_rust as grammar

            lang = grammar.language()
        elif language == "java":
            import tree_sitter_java as grammar

            lang = grammar.language()
        else:
            return None
        return Parser(Language(lang))
    except Exception:  # noqa: BLE001 - a missing or incompatible grammar: the line-level fallback
        return None


DEFINITION_NODES = {
    "function_definition": "function",  # Python, C
    "class_definition": "class",  # Python
    "function_declaration": "function",  # JavaScript, TypeScript, Go
    "generator_function_declaration": "function",
    "function_signature": "function",  # TypeScript overloads / declarations
    "method_definition": "method",  # JavaScript, TypeScript
    "method_signature": "method",
    "abstract_method_signature": "method",
    "class_declaration": "class",  # JavaScript, TypeScript, Java
    "abstract_class_declaration": "class",
    "interface_declaration": "class",
    "enum_declaration": "class",
    "record_declaration": "class",
    "type_alias_declaration": "type",
    "method_declaration": "method",  # Go, Java
    "constructor_declaration": "method",
    "type_spec": "class",  # Go
    "function_item": "function",  # Rust
    "function_signature_item": "function",
    "struct_item": "class",
    "enum_item": "class",
    "trait_item": "class",
    "union_item": "class",
    "type_item": "type",
    "macro_definition": "function",
    "struct_specifier": "class",  # C, only with a body
    "enum_specifier": "class",
    "union_specifier": "class",
    "type_definition": "type",
}
CLASS_NODES = {k for k, v in DEFINITION_NODES.items() if v == "class"}
CONTAINER_NODES = CLASS_NODES | {"impl_item", "object"}  # a function inside one of these is a method
# node type: (field of the name, field of the value)
VALUE_NODES = {
    "assignment": ("left", "right"),  # Python
    "default_parameter": ("name", "value"),
    "typed_default_parameter": ("name", "value"),
    "keyword_argument": ("name", "value"),
    "pair": ("key", "value"),  # Python dict, JavaScript object
    "assignment_expression": ("left", "right"),  # JavaScript
    "augmented_assignment_expression": ("left", "right"),
    "variable_declarator": ("name", "value"),  # JavaScript, Java
    "assignment_pattern": ("left", "right"),
    "object_assignment_pattern": ("left", "right"),  # `const {timeout = 0} = config`
    "field_definition": ("property", "value"),
    "public_field_definition": ("name", "value"),
    "required_parameter": ("pattern", "value"),
    "optional_parameter": ("pattern", "value"),
    "const_spec": ("name", "value"),  # Go
    "var_spec": ("name", "value"),
    "short_var_declaration": ("left", "right"),
    "keyed_element": (None, None),
    "init_declarator": ("declarator", "value"),  # C
    "preproc_def": ("name", "value"),
    "enumerator": ("name", "value"),
    "const_item": ("name", "value"),  # Rust
    "static_item": ("name", "value"),
    "let_declaration": ("pattern", "value"),
    "field_initializer": ("field", "value"),
}
GLOBAL_NODES = {
    "assignment",
    "variable_declarator",
    "const_spec",
    "var_spec",
    "preproc_def",
    "const_item",
    "static_item",
    "enumerator",
}
FUNCTION_NODES = {
    "function_definition",
    "function_declaration",
    "method_definition",
    "method_declaration",
    "function_item",
    "arrow_function",
    "function_expression",
    "constructor_declaration",
    "lambda",
    "func_literal",
}
VARIABLE_WRAPPERS = {
    "expression_statement",
    "lexical_declaration",
    "variable_declaration",
    "export_statement",
    "const_declaration",
    "var_declaration",
    "field_declaration",
    "const_spec",
    "var_spec",
}
LITERALS = {
    "string",
    "string_literal",
    "interpreted_string_literal",
    "raw_string_literal",
    "rune_literal",
    "char_literal",
    "character_literal",
    "integer",
    "float",
    "number",
    "number_literal",
    "int_literal",
    "float_literal",
    "imaginary_literal",
    "integer_literal",
    "decimal_integer_literal",
    "hex_integer_literal",
    "octal_integer_literal",
    "decimal_floating_point_literal",
    "true",
    "false",
    "none",
    "null",
    "nil",
    "undefined",
    "boolean_literal",
    "null_literal",
    "template_string",
    "concatenated_string",
    "preproc_arg",
}
SEQUENCES = {"tuple", "list", "array", "expression_list", "set", "array_creation_expression", "initializer_list"}
FALLBACK_OPERATORS = {"||", "??", "or", "?:"}
_NUMBER = re.compile(r"-?0[xXoObB][\da-fA-F_]+|-?\d[\d_.]*(?:[eE][-+]?\d+)?(?:[a-zA-Z]\w*)?|-?\.\d+")
_ARITHMETIC = re.compile(r"\s*(?:\*\*|<<|>>|[*/+-])\s*")
_UNIT_CONSTANT = re.compile(r"(?:[a-z]\w*\.)?[A-Z]\w*")  # `time.Second`, `KiB`
COMMENTS = {"comment", "line_comment", "block_comment"}
ATTRIBUTES = {"attribute_item"}  # Rust's `#[...]` between an item and its doc comment
STRING_NODES = ("string", "string_literal", "interpreted_string_literal", "template_string", "raw_string_literal")
WRAPPERS = {
    "decorated_definition",
    "export_statement",
    "lexical_declaration",
    "variable_declaration",
    "type_declaration",
}
_STRING_QUOTES = re.compile(r"^[rbufRBUF]*(\"\"\"|'''|\"|'|`)|(\"\"\"|'''|\"|'|`)$")


def node_text(node) -> str:
    """A node's source text (the file's bytes decoded, damaged ones replaced)."""
    return node.text.decode("utf-8", "replace")


def unquote(text: str) -> str:
    """A string literal's text without its quotes and prefixes."""
    return _STRING_QUOTES.sub("", text)


def name_of(node) -> str | None:
    """The name a definition node defines (following C's nested declarators)."""
    name = node.child_by_field_name("name")
    if name is None and node.type in ("function_definition", "type_definition"):  # C
        d = node.child_by_field_name("declarator")
        while d is not None and d.type not in ("identifier", "field_identifier", "type_identifier"):
            d = d.child_by_field_name("declarator")
        name = d
    if name is None:
        return None
    text = node_text(name)
    return text if re.fullmatch(r"[A-Za-z_$#][\w$]*", text) else None


def statement_of(node):
    """The statement a definition is written as: itself, or the declaration, export or
    assignment statement (`app.use = function use(fn) {...}`) that wraps it."""
    target = node
    while (
        target.parent is not None
        and (target.parent.type in WRAPPERS or target.type == "assignment_expression")
        and target.prev_named_sibling is None
    ):
        target = target.parent
    return target


def enclosing_statement(node):
    """The statement of a block that holds `node` (the `if` around `this.emit(...)`): the comment
    above it says what the node does."""
    while node.parent is not None and node.parent.type not in ("statement_block", "program", "class_body"):
        node = node.parent
    return node


def strings_in(node, limit: int = 40) -> list:
    """The string literals within a node (a parameter's literal types: `event: 'add' | 'change'`)."""
    out, stack = [], [node]
    while stack and limit:
        n, limit = stack.pop(), limit - 1
        if n.type == "string" and n.is_named:
            out.append(n)
        else:
            stack.extend(reversed(n.children))
    return out


def _one_line(text: str, limit: int = MAX_VALUE_CHARS) -> str | None:
    """`text` when it can stand as an answer: one line, at most `limit` characters."""
    return text if 0 < len(text) <= limit and "\n" not in text else None


def value_text(node) -> str | None:
    """A literal value as written (the fallback of `x || 80`, `x ?? '-h, --help'`, `x or 3`)."""
    if node is None:
        return None
    t = node.type
    if t in ("binary_expression", "binary_operator", "boolean_operator", "conditional_expression"):
        op = node.child_by_field_name("operator")
        op_text = node_text(op) if op is not None else ""
        right = node.child_by_field_name("right") or (node.named_children[-1] if node.named_children else None)
        if op_text in FALLBACK_OPERATORS or t == "boolean_operator":
            return value_text(right)
        text = node_text(node)
        if numeric(text):
            return _one_line(text, 40)  # a default written as arithmetic: `1 << 20`, `90 * time.Second`
        return text if _tested_against_literal(node) else None
    if t == "comparison_operator":
        return node_text(node) if _tested_against_literal(node) else None
    if t == "regex":  # `const DOT_RE = /\..*\.(sw[px])$/`
        return _one_line(node_text(node))
    if t == "unary_expression" or t == "unary_operator":
        text = node_text(node)
        return text if re.fullmatch(r"-\s*[\d.]+", text) else None
    if t in ("parenthesized_expression",) and node.named_children:
        return value_text(node.named_children[0])
    if t == "expression_list" and len(node.named_children) == 1:
        return value_text(node.named_children[0])
    if t in LITERALS:
        text = node_text(node).strip()
        if t == "template_string" and "${" in text:
            return None
        return _one_line(text)
    if t in SEQUENCES:
        if all(_plain(c) for c in node.named_children) and 0 < len(node.named_children) <= 8:
            return _one_line(node_text(node))
        return None
    if t in ("call", "call_expression", "object_creation_expression", "new_expression"):
        return _constructed(node)
    if _named_constant(node):
        return node_text(node)  # a named constant: `chunk_size=ITER_CHUNK_SIZE`
    return None


def returned_fallback(statement):
    """The literal a function returns when nothing better is found, `return guess(name) or
    "application/octet-stream"`, `return opts.port || 8080`: the function's default answer."""
    returned = next((c for c in statement.named_children if c.type not in COMMENTS), None)
    if returned is None or returned.type not in ("binary_expression", "binary_operator", "boolean_operator"):
        return None
    op = returned.child_by_field_name("operator")
    if returned.type != "boolean_operator" and (op is None or node_text(op) not in FALLBACK_OPERATORS):
        return None
    right = returned.child_by_field_name("right") or returned.named_children[-1]
    value = value_text(right)
    return (right, value) if value is not None and right.type in LITERALS else None


def _named_constant(node) -> bool:
    return node.type in ("identifier", "attribute", "member_expression") and bool(
        re.fullmatch(r"(?:[\w.]*\.)?[A-Z][A-Z0-9_]{2,}", node_text(node))
    )


def _plain(node) -> bool:
    """A literal or a named constant: what a value made of parts (`('localhost', SYSLOG_UDP_PORT)`,
    `Timeout(timeout=5.0)`) may hold and still be a value as written."""
    if node.type in ("keyword_argument", "pair"):
        value = node.child_by_field_name("value")
        return value is not None and _plain(value)
    if node.type in ("unary_expression", "unary_operator"):
        return value_text(node) is not None
    return node.type in LITERALS or _named_constant(node)


def _constructed(call) -> str | None:
    """`Timeout(timeout=5.0)`, `RootLogger(WARNING)`, `new Set(['GET', 'HEAD'])`: an object built from
    literals and named constants is a default as its code states it; a function's result
    (`len(x)`, `USER_AGENT.encode("ascii")`) or an object built from nothing (`Lock()`) is not.
    A compiled pattern is one too, though its compiler is a lower-case function and its flags
    are attributes (`re.compile(r"[ \\t]+", re.I | re.M)`, `Pattern.compile("...")`)."""
    callee = (
        call.child_by_field_name("function")
        or call.child_by_field_name("constructor")
        or call.child_by_field_name("type")
    )
    arguments = call.child_by_field_name("arguments")
    if callee is None or arguments is None:
        return None
    given = [a for a in arguments.named_children if a.type not in COMMENTS]
    if not given or len(given) > 4:
        return None
    if _PATTERN_COMPILER.fullmatch(node_text(callee)):
        built = given[0].type in STRING_NODES and all(_plain(a) or _FLAGS.fullmatch(node_text(a)) for a in given[1:])
    else:
        built = re.fullmatch(r"(?:[\w$]+\.)*[A-Z][\w$]*", node_text(callee)) and all(
            _plain(a) or a.type in SEQUENCES and value_text(a) for a in given
        )
    return _one_line(node_text(call)) if built else None


_PATTERN_COMPILER = re.compile(r"(?:[\w$]+\.)*compile")
_FLAGS = re.compile(r"[\w.]+(?:\s*\|\s*[\w.]+)*")
_EQUALITY = {"==", "===", "!=", "!=="}
_LOOKED_UP = {"call", "call_expression", "attribute", "member_expression", "selector_expression", "field_expression"}


def _tested_against_literal(node) -> bool:
    """`os.type() === 'OS400'`, `sys.platform == "win32"`: a flag the code computes once from what
    it runs on, stated as the test it makes."""
    if len(node.children) != 3 or node_text(node.children[1]) not in _EQUALITY:
        return False
    left, _, right = node.children
    literal, other = (left, right) if left.type in STRING_NODES else (right, left)
    return literal.type in STRING_NODES and other.type in _LOOKED_UP and _one_line(node_text(node), 60) is not None


_UNSET = {"None", "null", "undefined", "nil"}


def called_name(call):
    """The node naming what a call calls: `get` of `kwargs.get(...)`, `setKeepAlive` of
    `socket.setKeepAlive(...)`, `f` of `f(...)`."""
    callee = call.child_by_field_name("function")
    if callee is not None and callee.type in ("attribute", "member_expression", "selector_expression"):
        return (
            callee.child_by_field_name("attribute")
            or callee.child_by_field_name("property")
            or callee.child_by_field_name("field")
        )
    return callee


def unset_default(assignment) -> str | None:
    """What `if stream is None: stream = sys.stderr` (`if (o.x === undefined) o.x = 5`,
    `if (!n) n = DEFAULT`) puts in place of a value that was not given: a default as code
    writes it, whatever the expression."""
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    branch = assignment.parent
    while branch is not None and branch.type in ("expression_statement", "block", "statement_block"):
        branch = branch.parent
    if left is None or right is None or branch is None or branch.type != "if_statement":
        return None
    test = branch.child_by_field_name("condition")
    while test is not None and test.type == "parenthesized_expression" and test.named_children:
        test = test.named_children[0]
    if test is None:
        return None
    operator = test.child_by_field_name("operator")
    if test.type == "not_operator" or (
        test.type == "unary_expression" and operator is not None and node_text(operator) == "!"
    ):
        tested = test.child_by_field_name("argument")
    elif test.type in ("comparison_operator", "binary_expression") and len(test.children) == 3:
        first, op, last = test.children
        unset = node_text(op) in ("is", "==", "===") and node_text(last) in _UNSET
        tested = first if unset else None
    else:
        return None
    text = node_text(right)
    if tested is None or node_text(tested) != node_text(left) or len(text) > 60 or "\n" in text:
        return None
    return text


def numeric(text: str) -> bool:
    """A number, or arithmetic on numbers and unit constants with at least one number (`1 << 20`,
    `10 * (1 << 20)`, `90 * time.Second`): a default stated as arithmetic, and what "how many",
    "how long" and "what limit" ask for."""
    if _NUMBER.fullmatch(text):
        return True
    parts = [p for p in _ARITHMETIC.split(text.replace("(", " ").replace(")", " ").strip()) if p]
    return (
        len(parts) > 1
        and all(_NUMBER.fullmatch(p) or _UNIT_CONSTANT.fullmatch(p) for p in parts)
        and any(_NUMBER.fullmatch(p) for p in parts)
    )


def numbers_passed(call) -> tuple[str, list]:
    """The callee's name and the numbers a call passes that say how much or how long
    (`socket.setKeepAlive(true, 1000 * 60)`, `this._throttle(EV_CHANGE, path, 50)`): a setting
    fixed where it is used. 0, 1 and -1 count or index rather than set anything."""
    callee, arguments = called_name(call), call.child_by_field_name("arguments")
    if (
        callee is None
        or arguments is None
        or callee.type not in ("identifier", "property_identifier", "field_identifier")
    ):
        return "", []
    given = [a for a in arguments.named_children if a.type not in COMMENTS]
    if len(given) > 4:
        return "", []
    numbers = [
        a
        for a in given
        if (a.type in LITERALS or a.type in ("binary_expression", "binary_operator"))
        and numeric(node_text(a))
        and node_text(a) not in ("0", "1", "-1")
        and "\n" not in node_text(a)
    ]
    return node_text(callee), numbers


_IDENTIFIERS = ("identifier", "property_identifier", "field_identifier", "type_identifier")


def first_named(node, name: str, limit: int):
    """The first identifier spelling `name` among the first `limit` nodes under `node`, breadth
    first, or None."""
    queue, seen = [node], 0
    while queue and seen < limit:
        n = queue.pop(0)
        seen += 1
        if (
            n.type in ("identifier", "property_identifier", "field_identifier", "type_identifier")
            and node_text(n) == name
        ):
            return n
        queue.extend(n.children)
    return None


def find_text(node, text: str):
    """The node under `node` whose text is `text` (a literal inside an expression), or None."""
    stack = [node]
    while stack:
        n = stack.pop()
        if node_text(n).strip() == text:
            return n
        stack.extend(n.children)
    return None
