"""The answerable units of the read sources: definitions, settings, options, environment
variables and manual entries, each with its name, where it is, and the words that describe it.

A question as people word it ("Which function asks the user a yes/no question?", "What is the
default pool size of the adapter?") is answered by one of these units: a definition's *name*,
a setting's *value*, an option, a variable's name. `ask` ranks them (`structured`).

Code is parsed with tree-sitter (pre-built grammars for Python, JavaScript, TypeScript, Go, C,
Rust and Java): a JavaScript class method `name(args) {`, a C function whose name sits inside
nested declarators or a Go method with a receiver are one node type each, where regular
expressions miss or confuse them; the parser also tolerates syntax errors and
unknown dialects (Python 2, JSX), and gives each definition's doc comment and body. Without
tree-sitter (or for other languages) a line-level fallback finds `def`/`class`/`function`/`fn`
definitions and `NAME = literal` settings. Manuals (prose and PDF text) give their option lists
(`-x  description`, or a man page's option alone on its line with its description below),
texinfo function entries (`[Function]int f (...)` and the sentence that says what `f` does),
command synopses (`read [-ers] ...`) and glossary entries (`PATH  A colon-separated ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from ttt_read.notepad.lexicon import (
    COMMAND_SYNOPSIS,
    DOT_LEADER,
    OPTION_ALONE,
    OPTION_LINE,
    TERM_LINE,
    TEXINFO_DEFINITION,
    described_option,
    line_style,
    owning_command,
)
from ttt_read.text import filekinds
from ttt_read.text.sources import PAGE_MARK

DEFINITION_KINDS = ("function", "method", "class", "type", "command")
MAX_VALUE_CHARS = 80
MAX_DOC_CHARS = 600
BODY_LINES = 3  # lines of a definition's body that describe it too (after its doc comment)


@dataclass
class Unit:
    kind: str  # function, method, class, type, command, value, option, env
    name: str  # the defined name; a value's setting name; an option's flags
    answer: str  # what a question about it is answered with: the name, the value, the option
    path: str
    line: int  # 1-based line of `answer` in the file
    col: int  # 1-based column of `answer` on that line
    owner: str = ""  # the enclosing class / function / command names, outermost first, space-separated
    doc: str = ""  # its doc comment, docstring or description
    context: str = ""  # its signature, decorators, first body lines, the line it is on
    tags: frozenset = field(default_factory=frozenset)  # e.g. property, decorator, exception, enum, env-context


# --- tree-sitter -------------------------------------------------------------------------------

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
COMMENTS = {"comment", "line_comment", "block_comment"}
WRAPPERS = {
    "decorated_definition",
    "export_statement",
    "lexical_declaration",
    "variable_declaration",
    "type_declaration",
}
_STRING_QUOTES = re.compile(r"^[rbufRBUF]*(\"\"\"|'''|\"|'|`)|(\"\"\"|'''|\"|'|`)$")
_OPTION_TEXT = re.compile(
    r"^-{1,2}[A-Za-z?][\w-]*(?:(?:, ?| ?\| ?| )-{1,2}[A-Za-z?][\w-]*)*(?:[ =][<\[]?[\w.-]+[>\]]?)?$"
)
_ENV_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|(?<![A-Za-z0-9{])_[A-Z][A-Z0-9_]{2,}")
_ENV_CONTEXT = re.compile(r"env|ENV|getenv|environ", re.I)
_JSDOC_TAG = re.compile(r"^\s*@\w+")


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _unquote(text: str) -> str:
    return _STRING_QUOTES.sub("", text)


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


def _name_of(node) -> str | None:
    """The name a definition node defines (following C's nested declarators)."""
    name = node.child_by_field_name("name")
    if name is None and node.type in ("function_definition", "type_definition"):  # C
        d = node.child_by_field_name("declarator")
        while d is not None and d.type not in ("identifier", "field_identifier", "type_identifier"):
            d = d.child_by_field_name("declarator")
        name = d
    if name is None:
        return None
    text = _text(name)
    return text if re.fullmatch(r"[A-Za-z_$#][\w$]*", text) else None


def _python_docstring(node) -> str:
    body = node.child_by_field_name("body")
    if body is None or not body.named_children:
        return ""
    first = body.named_children[0]
    if first.type == "expression_statement" and first.named_children and first.named_children[0].type == "string":
        raw = _unquote(_text(first.named_children[0]).strip())
        paragraphs = re.split(r"\n\s*\n", raw.strip())
        return " ".join(paragraphs[0].split())[:MAX_DOC_CHARS]
    return ""


def _leading_comment(node) -> str:
    """The comments right above a node (or above the statement wrapping it)."""
    target = node
    while target.parent is not None and target.parent.type in WRAPPERS and target.prev_named_sibling is None:
        target = target.parent
    return clean_comment(_comment_above(target))


def _comment_above(target) -> str:
    parts = []
    sibling = target.prev_named_sibling
    row = target.start_point[0]
    while sibling is not None and sibling.type in COMMENTS and sibling.end_point[0] >= row - 2:
        before = sibling.prev_sibling
        text = _text(sibling)
        if (before is not None and before.end_point[0] == sibling.start_point[0]) or text.startswith(("//!", "/*!")):
            break  # the comment after a statement on its line, or a module's own doc
        parts.append(text)
        row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    return "\n".join(reversed(parts))


def _value_text(node) -> str | None:
    """A literal value as written (the fallback of `x || 80`, `x ?? '-h, --help'`, `x or 3`)."""
    if node is None:
        return None
    t = node.type
    if t in ("binary_expression", "boolean_operator", "conditional_expression"):
        op = node.child_by_field_name("operator")
        op_text = _text(op) if op is not None else ""
        right = node.child_by_field_name("right") or (node.named_children[-1] if node.named_children else None)
        if op_text in FALLBACK_OPERATORS or t == "boolean_operator":
            return _value_text(right)
        return None
    if t == "unary_expression" or t == "unary_operator":
        text = _text(node)
        return text if re.fullmatch(r"-\s*[\d.]+", text) else None
    if t in ("parenthesized_expression",) and node.named_children:
        return _value_text(node.named_children[0])
    if t == "expression_list" and len(node.named_children) == 1:
        return _value_text(node.named_children[0])
    if t in LITERALS:
        text = _text(node).strip()
        if t == "template_string" and "${" in text:
            return None
        return text if 0 < len(text) <= MAX_VALUE_CHARS and "\n" not in text else None
    if t in SEQUENCES:
        if all(c.type in LITERALS for c in node.named_children) and 0 < len(node.named_children) <= 8:
            text = _text(node)
            return text if len(text) <= MAX_VALUE_CHARS and "\n" not in text else None
        return None
    if t in ("identifier", "attribute", "member_expression") and re.fullmatch(
        r"(?:[\w.]*\.)?[A-Z][A-Z0-9_]{2,}", _text(node)
    ):
        return _text(node)  # a named constant: `chunk_size=ITER_CHUNK_SIZE`
    return None


def _setting_name(node) -> str | None:
    if node is None:
        return None
    if node.type in ("attribute", "member_expression", "field_expression", "selector_expression"):
        last = (
            node.child_by_field_name("attribute")
            or node.child_by_field_name("property")
            or node.child_by_field_name("field")
        )
        node = last if last is not None else node
    if node.type in ("pointer_declarator", "array_declarator", "init_declarator"):
        inner = node.child_by_field_name("declarator")
        return _setting_name(inner) if inner is not None else None
    text = _text(node)
    if node.type in ("string", "string_literal", "interpreted_string_literal"):
        text = _unquote(text.strip())
    if node.type == "expression_list" or node.type == "pattern_list":
        return None
    return text if re.fullmatch(r"[A-Za-z_$][\w$-]*", text) else None


class _Walker:
    def __init__(self, path: str, source: bytes, lines: list[str], language: str):
        self.path, self.source, self.lines, self.language = path, source, lines, language
        self.units: list[Unit] = []

    def col(self, point) -> int:
        row, byte_col = point
        line = self.lines[row] if row < len(self.lines) else ""
        return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace")) + 1

    def line_text(self, row: int) -> str:
        return self.lines[row] if row < len(self.lines) else ""

    def walk(self, root) -> None:
        stack = [(root, (), "", False)]  # node, owners, owner doc, inside a container
        while stack:
            node, owners, owner_doc, in_container = stack.pop()
            t = node.type
            child_owners, child_doc, child_container = (
                owners,
                owner_doc,
                in_container
                and t
                in WRAPPERS
                | {
                    "class_body",
                    "declaration_list",
                    "block",
                    "field_declaration_list",
                    "object",
                    "interface_body",
                    "enum_body",
                    "statement_block",
                    "object_type",
                },
            )
            kind = DEFINITION_NODES.get(t)
            if kind is not None and t in ("struct_specifier", "enum_specifier", "union_specifier"):
                kind = kind if node.child_by_field_name("body") is not None else None
            if kind is not None:
                name = _name_of(node)
                if name:
                    if kind == "function" and in_container:
                        kind = "method"
                    receiver = node.child_by_field_name("receiver") if t == "method_declaration" else None
                    if receiver is not None:  # Go: `func (v *Valve) Open()` is a method of Valve
                        found = re.findall(r"[A-Za-z_]\w*", _text(receiver))
                        owners = owners + (found[-1],) if found else owners
                    doc = self.definition(node, name, kind, owners, in_container)
                    child_owners, child_doc = owners + (name,), doc
                    child_container = t in CONTAINER_NODES
            elif t == "impl_item":
                impl_type = node.child_by_field_name("type")
                child_owners = owners + ((_text(impl_type),) if impl_type is not None else ())
                child_container = True
            elif (
                t == "variable_declarator"
                and (value := node.child_by_field_name("value")) is not None
                and value.type
                in (
                    "arrow_function",
                    "function_expression",
                    "function",
                )
            ):
                name = _name_of(node)
                if name:
                    doc = self.definition(node, name, "function", owners, False)
                    child_owners, child_doc = owners + (name,), doc
            elif (
                t == "pair"
                and (value := node.child_by_field_name("value")) is not None
                and value.type
                in (
                    "arrow_function",
                    "function_expression",
                    "function",
                )
            ):
                name = _setting_name(node.child_by_field_name("key"))
                if name:
                    doc = self.definition(node, name, "method", owners, True)
                    child_owners, child_doc = owners + (name,), doc
            if t in VALUE_NODES:
                self.value(node, owners, owner_doc)
            if t in ("string", "string_literal", "interpreted_string_literal", "template_string", "raw_string_literal"):
                self.string(node, owners, owner_doc)
                continue
            if t in COMMENTS:
                continue
            for child in reversed(node.children):
                stack.append(
                    (
                        child,
                        child_owners,
                        child_doc,
                        child_container or (t in CONTAINER_NODES and kind is not None) or t == "impl_item",
                    )
                )

    def definition(self, node, name: str, kind: str, owners: tuple, in_container: bool) -> str:
        name_node = node.child_by_field_name("name")
        if name_node is None or _text(name_node) != name:
            found = [n for n in _descendants_named(node, name, limit=40)]
            name_node = found[0] if found else node
        row = name_node.start_point[0]
        doc = _python_docstring(node) if self.language == "python" else ""
        doc = doc or _leading_comment(node)
        tags = set()
        wrapper = node.parent
        decorators = []
        if wrapper is not None and wrapper.type == "decorated_definition":
            decorators = [_text(d) for d in wrapper.named_children if d.type == "decorator"]
        elif self.language in ("java", "typescript", "tsx"):
            mods = [c for c in node.children if c.type in ("modifiers", "decorator")]
            decorators = [_text(m) for m in mods]
        if any(re.search(r"@(?:\w+\.)*(?:property|cached_property|getter)\b", d) for d in decorators):
            tags.add("property")
        first = node.children[0].type if node.children else ""
        if first == "get" or (node.child_by_field_name("name") is not None and _text(node)[:4] in ("get ", "set ")):
            tags.add("property")
        signature = self.line_text(node.start_point[0]).strip()
        body = node.child_by_field_name("body")
        body_rows = []
        if body is not None:
            start = body.start_point[0] + (1 if body.start_point[0] == node.start_point[0] else 0)
            body_rows = [
                self.line_text(r).strip() for r in range(start, min(body.end_point[0], start + BODY_LINES + 8))
            ]
            body_rows = [r for r in body_rows if r and not r.startswith(('"""', "'''", "#", "//", "*", "/*"))][
                :BODY_LINES
            ]
        header = _text(node)[:400].split("\n")
        supers = ""
        if kind == "class":
            for f in ("superclasses", "superclass", "super_interfaces", "interfaces", "heritage"):
                s = node.child_by_field_name(f)
                if s is not None:
                    supers += " " + _text(s)
            if not supers:
                m = re.search(r"(?:extends|implements|\()\s*([\w., ]+)", header[0])
                supers = " " + m.group(1) if m else ""
            if re.search(r"(Error|Exception|Warning)\b", name + supers):
                tags.add("exception")
            if re.search(r"\bEnum\b|IntEnum|StrEnum|Flag\b", supers) or node.type in (
                "enum_declaration",
                "enum_item",
                "enum_specifier",
            ):
                tags.add("enum")
        if kind in ("function", "method") and re.search(
            r"\b(decorator|wrapper|wraps|update_wrapper)\b", _text(node)[:3000]
        ):
            tags.add("decorator")
        if in_container and kind == "function":
            kind = "method"
        target = node
        while target.parent is not None and target.parent.type in WRAPPERS and target.prev_named_sibling is None:
            target = target.parent
        tagged = clean_comment(_comment_above(target), tags=True) if self.language != "python" else ""
        context = " ".join([*decorators, signature, supers, *body_rows, tagged[:300]])
        self.units.append(
            Unit(
                kind,
                name,
                name,
                self.path,
                row + 1,
                self.col(name_node.start_point),
                " ".join(owners),
                doc,
                context,
                frozenset(tags),
            )
        )
        return doc

    def value(self, node, owners: tuple, owner_doc: str) -> None:
        name_field, value_field = VALUE_NODES[node.type]
        if name_field is None:
            children = node.named_children
            if len(children) != 2:
                return
            name_node, value_node = children
        else:
            name_node, value_node = node.child_by_field_name(name_field), node.child_by_field_name(value_field)
        name = _setting_name(name_node)
        if name and node.type in GLOBAL_NODES and name_node is not None and self.top_level(node):
            self.variable(node, name_node, name, owners, value_node)
        value = _value_text(value_node)
        if not name or value is None or value_node is None:
            return
        start = value_node.start_point
        target = value_node
        if value_node.type in ("binary_expression", "boolean_operator", "conditional_expression", "expression_list"):
            target = _find_text(value_node, value) or value_node
            start = target.start_point
        row = start[0]
        context = " ".join([self.line_text(row).strip(), self.line_text(row - 1).strip() if row else ""])
        comment = _trailing_comment(self.line_text(row))
        self.units.append(
            Unit(
                "value",
                name,
                value,
                self.path,
                row + 1,
                self.col(start),
                " ".join(owners),
                (comment + " " + owner_doc).strip(),
                context,
            )
        )

    def top_level(self, node) -> bool:
        """Whether an assignment is at a module's or a class's level, not inside a function."""
        parent = node.parent
        while parent is not None:
            if parent.type in FUNCTION_NODES:
                return False
            parent = parent.parent
        return True

    def variable(self, node, name_node, name: str, owners: tuple, value_node) -> None:
        """A named constant or variable of a module or class: `ErrHelp = errors.New(...)`,
        `ANY = _ANY()`, `#define REG_EHUNG 12`; its doc comment, or the comment after it."""
        if name_node.type not in (
            "identifier",
            "type_identifier",
            "field_identifier",
            "attribute",
            "property_identifier",
        ):
            return
        row = name_node.start_point[0]
        statement = node
        while statement.parent is not None and statement.parent.type in VARIABLE_WRAPPERS:
            statement = statement.parent
        doc = _leading_comment(statement) or _trailing_comment(self.line_text(row))
        if not doc and self.language == "python":  # an attribute docstring: the string right below
            nxt = statement.next_named_sibling
            if (
                nxt is not None
                and nxt.type == "expression_statement"
                and nxt.named_children
                and nxt.named_children[0].type == "string"
            ):
                doc = " ".join(_unquote(_text(nxt.named_children[0]).strip()).split())[:MAX_DOC_CHARS]
        value = _text(value_node)[:120] if value_node is not None else ""
        self.units.append(
            Unit(
                "variable",
                name,
                name,
                self.path,
                row + 1,
                self.col(name_node.start_point),
                " ".join(owners),
                doc,
                self.line_text(row).strip() + " " + value,
            )
        )

    def string(self, node, owners: tuple, owner_doc: str) -> None:
        raw = _text(node)
        if "\n" in raw or len(raw) > 120:
            return
        content = _unquote(raw.strip())
        row = node.start_point[0]
        line = self.line_text(row)
        if _OPTION_TEXT.match(content):
            call = node.parent
            while call is not None and call.type not in (
                "call",
                "call_expression",
                "method_invocation",
                "pair",
                "expression_statement",
            ):
                call = call.parent
            context = _text(call)[:400] if call is not None else line.strip()
            self.units.append(
                Unit(
                    "option",
                    content,
                    content,
                    self.path,
                    row + 1,
                    self.col(node.start_point) + raw.find(content),
                    " ".join(owners),
                    owner_doc,
                    context,
                )
            )
        for m in _ENV_TEXT.finditer(content):
            env_line = " ".join(self.line_text(r) for r in range(max(0, row - 2), row + 3))
            tags = frozenset({"env-context"}) if _ENV_CONTEXT.search(env_line) else frozenset()
            self.units.append(
                Unit(
                    "env",
                    m.group(0),
                    m.group(0),
                    self.path,
                    row + 1,
                    self.col(node.start_point) + raw.find(content) + m.start(),
                    " ".join(owners),
                    owner_doc,
                    line.strip(),
                    tags,
                )
            )


def _descendants_named(node, name: str, limit: int):
    stack, seen = [node], 0
    while stack and seen < limit:
        n = stack.pop(0)
        seen += 1
        if n.type in ("identifier", "property_identifier", "field_identifier", "type_identifier") and _text(n) == name:
            yield n
            return
        stack.extend(n.children)


def _find_text(node, text: str):
    stack = [node]
    while stack:
        n = stack.pop()
        if _text(n).strip() == text:
            return n
        stack.extend(n.children)
    return None


def _trailing_comment(line: str) -> str:
    m = re.search(r"(?:#|//)\s*(.+)$", line)
    return m.group(1) if m and not re.search(r"[\"'][^\"']*(?:#|//)", line[: m.start() + 2]) else ""


# --- the line-level fallback -------------------------------------------------------------------

_FALLBACK_DEF = re.compile(
    r"^\s*(?:(?:export|pub(?:\([^)]*\))?|public|private|protected|static|async|default|abstract|final)\s+)*"
    r"(?P<kw>def|class|function|func|fn|struct|enum|trait|interface|type|sub)\s+(?:\([^)]*\)\s*)?\*?(?P<name>[A-Za-z_$][\w$]*)"
)
_FALLBACK_METHOD = re.compile(
    r"^\s+(?:async\s+|static\s+|get\s+|set\s+)*(?P<name>[A-Za-z_$][\w$]*)\s*\([^;]*\)\s*\{\s*$"
)
_FALLBACK_VALUE = re.compile(
    r"^\s*(?:(?:const|let|var|static|final|public|private|#define)\s+)*(?P<name>[A-Za-z_][\w.]*)\s*(?::[^=]+)?(?:=|\s)\s*(?P<value>-?\d[\d.]*|\"[^\"]{0,60}\"|'[^']{0,60}'|True|False|true|false|None|null)\s*[;,]?\s*$"
)
_SHELL_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{?\s*$")
_SHELL_VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{2,})(?:[:]?[-=]([^}\s]{1,40}))?\}?")
_KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "function", "else", "do", "with"}


def _fallback_units(path: str, lines: list[str]) -> list[Unit]:
    units = []
    for i, line in enumerate(lines):
        m = _FALLBACK_DEF.match(line) or _FALLBACK_METHOD.match(line)
        if m and m.group("name") not in _KEYWORDS:
            kind = {
                "class": "class",
                "struct": "class",
                "enum": "class",
                "trait": "class",
                "interface": "class",
                "type": "type",
            }.get(m.groupdict().get("kw") or "", "function" if m.groupdict().get("kw") else "method")
            doc = []
            j = i - 1
            while j >= 0 and re.match(r"^\s*(?://|#|\*|/\*)", lines[j]):
                doc.insert(0, lines[j])
                j -= 1
            below = lines[i + 1 : i + 4]
            if kind in ("function", "class", "method") and below and re.match(r'^\s*[ru]?("""|\'\'\')', below[0]):
                doc.append(below[0].strip().strip("\"'"))
            units.append(
                Unit(
                    kind,
                    m.group("name"),
                    m.group("name"),
                    path,
                    i + 1,
                    m.start("name") + 1,
                    "",
                    clean_comment("\n".join(doc)),
                    line.strip() + " " + " ".join(x.strip() for x in below),
                )
            )
        elif m := _SHELL_FUNCTION.match(line):
            units.append(
                Unit(
                    "function",
                    m.group(1),
                    m.group(1),
                    path,
                    i + 1,
                    m.start(1) + 1,
                    "",
                    clean_comment("\n".join(x for x in lines[max(0, i - 3) : i] if x.lstrip().startswith("#"))),
                    line.strip(),
                )
            )
        elif m := _FALLBACK_VALUE.match(line):
            name = m.group("name").rsplit(".", 1)[-1]
            units.append(
                Unit(
                    "value",
                    name,
                    m.group("value"),
                    path,
                    i + 1,
                    m.start("value") + 1,
                    "",
                    _trailing_comment(line),
                    line.strip(),
                )
            )
    for i, line in enumerate(lines):  # a shell script's variables: `$GO_GCFLAGS`, `${CC:-gcc}`
        for m in _SHELL_VARIABLE.finditer(line):
            comment = clean_comment("\n".join(x for x in lines[max(0, i - 2) : i] if x.lstrip().startswith("#")))
            units.append(
                Unit(
                    "env",
                    m.group(1),
                    m.group(1),
                    path,
                    i + 1,
                    m.start(1) + 1,
                    "",
                    comment,
                    line.strip(),
                    frozenset({"env-context"}),
                )
            )
            if m.group(2):
                units.append(
                    Unit("value", m.group(1), m.group(2), path, i + 1, m.start(2) + 1, "", comment, line.strip())
                )
    return units


# --- manuals -----------------------------------------------------------------------------------

_PARAMETER_LINE = re.compile(r"^[ \t]*[A-Za-z_][\w ]{0,30}:\s")
_TEXINFO_ANY = re.compile(r"^[ \t]*\[[A-Z][A-Za-z ]*\]")


def _paragraph(lines: list[str], start: int, limit: int = 6) -> str:
    out = []
    for line in lines[start : start + limit]:
        if not line.strip() or PAGE_MARK.match(line):
            if out:
                break
            continue
        out.append(line.strip())
    return " ".join(out)[:MAX_DOC_CHARS]


_LOOSE_OPTION = re.compile(r"^[ \t]*(-[A-Za-z0-9?](?:,[ \t]*--[\w-]+(?:=\w+)?)?|--[\w-]+(?:=\w+)?)[ \t]+([a-zA-Z(].*)$")
_SECTION_HEADINGS = frozenset(
    """NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES EXAMPLES EXAMPLE BUGS AUTHOR AUTHORS NOTES HISTORY
    COPYRIGHT STANDARDS CAVEATS SECURITY DIAGNOSTICS COMMANDS ARGUMENTS USAGE WARNINGS LIMITATIONS""".split()
)
_SETTING_ENTRY = re.compile(r"^[ \t]*([a-z][a-z0-9_-]{2,30})[ \t]+(?=If (?:set|enabled|this|non-zero|true)\b)")
_USAGE = re.compile(r"\b(?:Usage|usage|USAGE):?\s+([A-Za-z][\w.-]+)")


def _nearest_program(lines: list[str], at: int) -> str:
    """The program an option list belongs to when no synopsis says it: the nearest "Usage:
    prog ..." line above."""
    for i in range(at, max(at - 40, -1), -1):
        if m := _USAGE.search(lines[i]):
            return m.group(1)
    return ""


def _continuation(lines: list[str], start: int, limit: int) -> str:
    """The lines that go on a description begun on the line before: up to a blank line or the
    next entry."""
    out = []
    for line in lines[start : start + limit]:
        if not line.strip() or PAGE_MARK.match(line) or OPTION_LINE.match(line) or _LOOSE_OPTION.match(line):
            break
        out.append(line.strip())
    return " ".join(out)


def _manual_units(path: str, lines: list[str], style: str) -> list[Unit]:
    units = []
    for i, line in enumerate(lines):
        if DOT_LEADER.search(line) or PAGE_MARK.match(line):
            continue
        if m := TEXINFO_DEFINITION.match(line):
            name = m.group(1)
            j = i + 1
            sig = line
            while j < len(lines) and ")" not in sig and j < i + 4:
                sig += " " + lines[j]
                j += 1
            params, desc = [], []
            k = j
            while k < min(len(lines), j + 30):
                text = lines[k]
                if _TEXINFO_ANY.match(text) or (
                    k + 1 < len(lines) and TEXINFO_DEFINITION.match(lines[k + 1]) and len(text.split()) <= 5
                ):
                    break
                if PAGE_MARK.match(text) or not text.strip():
                    k += 1
                    continue
                if _PARAMETER_LINE.match(text) and not desc and not text.lstrip().startswith("Returns"):
                    params.append(text.strip())
                else:
                    desc.append(text.strip())
                k += 1
            doc = " ".join(desc)[:MAX_DOC_CHARS]
            units.append(
                Unit(
                    "function",
                    name,
                    name,
                    path,
                    i + 1,
                    m.start(1) + 1,
                    "",
                    doc,
                    sig.strip() + " " + " ".join(params)[:300],
                )
            )
            continue
        m = OPTION_LINE.match(line)
        if m is None and (m := _LOOSE_OPTION.match(line)):  # PDF text: "-c, --check checks the syntax only"
            neighbours = lines[max(0, i - 1) : i] + lines[i + 1 : i + 2]
            m = m if any(_LOOSE_OPTION.match(x) or OPTION_LINE.match(x) for x in neighbours) else None
        if m:
            owner = owning_command(lines, i, style) or _nearest_program(lines, i)
            doc = (m.group(2).strip() + " " + _continuation(lines, i + 1, 3)).strip()
            units.append(
                Unit("option", m.group(1), line.strip(), path, i + 1, m.start(1) + 1, owner, doc, line.strip())
            )
            units.append(
                Unit("description", m.group(1), m.group(2).strip(), path, i + 1, m.start(2) + 1, owner, doc, line)
            )
            continue
        if (m := OPTION_ALONE.match(line)) and described_option(lines, i + 1):
            owner = owning_command(lines, i, style) or _nearest_program(lines, i)
            doc = _paragraph(lines, i + 1, 4)
            units.append(Unit("option", m.group(2), m.group(2), path, i + 1, m.start(2) + 1, owner, doc, line.strip()))
            below = lines[i + 1]
            col = len(below) - len(below.lstrip()) + 1
            units.append(Unit("description", m.group(2), below.strip(), path, i + 2, col, owner, doc, line))
            continue
        stripped = line.strip()
        if m := COMMAND_SYNOPSIS.match(stripped):
            offset = len(line) - len(line.lstrip())
            units.append(
                Unit(
                    "command",
                    m.group(1),
                    stripped,  # the synopsis, name first: "read [-ers] [-a aname] ..."
                    path,
                    i + 1,
                    offset + 1,
                    "",
                    _paragraph(lines, i + 1, 6),
                    stripped,
                )
            )
            continue
        if m := _SETTING_ENTRY.match(line):  # "extglob If set, the extended pattern matching ... are enabled."
            units.append(
                Unit(
                    "option",
                    m.group(1),
                    m.group(1),
                    path,
                    i + 1,
                    m.start(1) + 1,
                    owning_command(lines, i, style) or "",
                    (line[m.end(1) :].strip() + " " + _paragraph(lines, i + 1, 2)).strip(),
                    stripped,
                )
            )
            continue
        if (m := TERM_LINE.match(line)) and m.group(1) not in _SECTION_HEADINGS:
            rest = line[m.end(1) :].strip()
            doc = (rest + " " + _paragraph(lines, i + 1, 3)).strip() if rest else _paragraph(lines, i + 1, 4)
            units.append(
                Unit(
                    "env",
                    m.group(1),
                    m.group(1),
                    path,
                    i + 1,
                    m.start(1) + 1,
                    "",
                    doc,
                    stripped,
                    frozenset({"env-context"}),
                )
            )
    return units


# --- per file ----------------------------------------------------------------------------------


def file_units(path: str, text: str, kind: str = "text") -> list[Unit]:
    """The units of one read file."""
    lines = text.split("\n")
    style = line_style(path, kind)
    if style != "code":
        return _manual_units(path, lines, style) if (style == "pdf" or filekinds.is_prose(path)) else []
    suffix = "." + path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    language = LANGUAGES.get(suffix)
    parser = parser_for(language) if language else None
    if parser is None:
        return _fallback_units(path, lines)
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = parser.parse(source)
    except Exception:  # noqa: BLE001 - a parser failure must not cost the answer
        return _fallback_units(path, lines)
    walker = _Walker(path, source, lines, language)
    walker.walk(tree.root_node)
    return walker.units


def notepad_units(notepad) -> list[Unit]:
    """Every unit of a notepad's files, computed once per notepad."""
    cached = getattr(notepad, "_units", None)
    if cached is None:
        cached = []
        for f in notepad.files:
            cached += file_units(f.path, f.text, f.kind)
        notepad._units = cached
    return cached
