"""The units of source code: a walk over its tree-sitter tree, or a line-level fallback where no
grammar parses it (`def`/`class`/`function`/`fn` definitions, `NAME = literal` settings).
"""

from __future__ import annotations

import re

from ttt_read.ask import code_settings, doc_comments
from ttt_read.ask.docstring_settings import docstring_settings
from ttt_read.ask.line_units import line_units, trailing_comment
from ttt_read.ask.raised import defines_error, raised_unit, raising
from ttt_read.ask.syntax import (
    COMMENTS,
    CONTAINER_NODES,
    DEFINITION_NODES,
    FUNCTION_NODES,
    GLOBAL_NODES,
    LANGUAGES,
    STRING_NODES,
    VALUE_NODES,
    VARIABLE_WRAPPERS,
    WRAPPERS,
    enclosing_statement,
    find_text,
    first_named,
    name_of,
    node_text,
    numbers_passed,
    parser_for,
    returned_fallback,
    statement_of,
    strings_in,
    unquote,
    unset_default,
    value_text,
)
from ttt_read.ask.unit import BODY_LINES, MAX_DOC_CHARS, Unit

_OPTION_TEXT = re.compile(
    r"^-{1,2}[A-Za-z?][\w-]*(?:(?:, ?| ?\| ?| )-{1,2}[A-Za-z?][\w-]*)*(?:[ =][<\[]?[\w.-]+[>\]]?)?$"
)
_ENV_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|(?<![A-Za-z0-9{])_[A-Z][A-Z0-9_]{2,}")
_ENV_CONTEXT = re.compile(r"env|ENV|getenv|environ", re.I)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]+")  # a name an environment read asks for: `PYTHONASYNCIODEBUG`
# a JSDoc parameter or property: `@param {Type} [options.name=default] - what it does`
_PARAM_TAG = re.compile(
    r"@(?:param|arg|argument|property|prop)\s+(?:\{[^}]*\}\s*)?\[?(?P<path>[A-Za-z_$][\w$.]*)"
    r"(?:\s*=\s*(?P<default>[^\]\s][^\]]*?))?\]?\s+(?:-\s*)?(?P<doc>.*)$"
)
# what marks a definition as not part of the public API: JSDoc/TSDoc/Javadoc tags, TS/Java modifiers
_NOT_PUBLIC = re.compile(
    r"@(?:private|internal|ignore|protected|package)\b|@api\s+private|@access\s+(?:private|protected)"
)
_PRIVATE_MODIFIER = re.compile(r"\b(?:private|protected)\b")
_ASSIGNMENTS = ("assignment", "assignment_expression")
_MEMBER_BODIES = WRAPPERS | {  # what a container's members sit in
    "class_body",
    "declaration_list",
    "block",
    "field_declaration_list",
    "object",
    "interface_body",
    "enum_body",
    "statement_block",
    "object_type",
}
# the calls that fire an event and the methods that listen for one
_EMIT = re.compile(r"_?emit(?:Event)?|trigger|fire")
_LISTEN = re.compile(r"on|once|addListener|addEventListener|off|removeListener")
_EVENT_NAME = re.compile(r"[A-Za-z][\w:.-]{0,40}")
_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]+")  # `emit(EV_READY)`; not a variable holding any event
# members that hold a setting: TypeScript interface/class members, Go, Rust and C struct fields
FIELD_NODES = ("property_signature", "public_field_definition", "field_declaration")
_FIELD_NAMES = ("property_identifier", "field_identifier", "identifier")
# values that make a variable or an object key a function: `const f = () => ...`, `{f: function () ...}`
_FUNCTION_VALUES = ("arrow_function", "function_expression", "function")


class _Walker:
    def __init__(self, path: str, source: bytes, lines: list[str], language: str):
        self.path, self.source, self.lines, self.language = path, source, lines, language
        self.units: list[Unit] = []
        self.parameter_docs: dict[int, dict[str, str]] = {}  # per function node: its docstring's parameters

    def found(self, kind: str, name: str, row: int, col: int, owners: tuple, **about) -> None:
        """Record a unit of this file at 0-based `row`, 1-based `col`, inside `owners`; it answers
        with its name unless `about` gives an answer."""
        fields = {"answer": name, "owner": " ".join(owners), **about}
        self.units.append(Unit(kind=kind, name=name, path=self.path, line=row + 1, col=col, **fields))

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
            child_owners, child_doc, child_container = owners, owner_doc, in_container and t in _MEMBER_BODIES
            kind = DEFINITION_NODES.get(t)
            if kind is not None and t in ("struct_specifier", "enum_specifier", "union_specifier"):
                kind = kind if node.child_by_field_name("body") is not None else None
            if kind is not None:
                name = name_of(node)
                if name:
                    if kind == "function" and in_container:
                        kind = "method"
                    receiver = node.child_by_field_name("receiver") if t == "method_declaration" else None
                    if receiver is not None:  # Go: `func (v *Valve) Open()` is a method of Valve
                        found = re.findall(r"[A-Za-z_]\w*", node_text(receiver))
                        owners = owners + (found[-1],) if found else owners
                    doc = self.definition(node, name, kind, owners, in_container)
                    child_owners, child_doc = owners + (name,), doc
                    child_container = t in CONTAINER_NODES
            elif t == "impl_item":
                impl_type = node.child_by_field_name("type")
                child_owners = owners + ((node_text(impl_type),) if impl_type is not None else ())
                child_container = True
            elif (
                t == "variable_declarator"
                and (value := node.child_by_field_name("value")) is not None
                and value.type in _FUNCTION_VALUES
            ):
                name = name_of(node)
                if name:
                    doc = self.definition(node, name, "function", owners, False)
                    child_owners, child_doc = owners + (name,), doc
            elif (  # `app.use = function use(fn) {...}`, `Foo.prototype.bar = () => ...`
                t == "assignment_expression"
                and (value := node.child_by_field_name("right")) is not None
                and value.type in _FUNCTION_VALUES
            ):
                left = node.child_by_field_name("left")
                name = code_settings.setting_name(left)
                if name and re.fullmatch(r"[A-Za-z_$][\w$]*", name):
                    target = left.child_by_field_name("object") if left.type == "member_expression" else None
                    owner = (
                        [w for w in re.findall(r"[A-Za-z_$][\w$]*", node_text(target)) if w != "prototype"]
                        if target
                        else []
                    )
                    kind = "method" if owner and owner[-1] not in ("exports", "module") else "function"
                    owned = owners + (owner[-1],) if kind == "method" else owners
                    doc = self.definition(node, name, kind, owned, False)
                    child_owners, child_doc = owned + (name,), doc
            elif (
                t == "pair"
                and (value := node.child_by_field_name("value")) is not None
                and value.type in _FUNCTION_VALUES
            ):
                name = code_settings.setting_name(node.child_by_field_name("key"))
                if name:
                    doc = self.definition(node, name, "method", owners, True)
                    child_owners, child_doc = owners + (name,), doc
            if t == "call_expression" or (t == "method_signature" and _LISTEN.fullmatch(name_of(node) or "")):
                self.event(node, owners, owner_doc)
            if t in FIELD_NODES and (t != "field_declaration" or node.parent.type == "field_declaration_list"):
                self.field(node, owners)
            if t in VALUE_NODES:
                self.value(node, owners, owner_doc)
            if t in ("call", "call_expression") and (lookup := code_settings.keyed_default(node)) is not None:
                key, default, value = lookup
                row, at = default.start_point[0], self.col(default.start_point)
                self.found("value", key, row, at, owners, answer=value, doc=owner_doc, context=self.line_text(row))
            if t in ("call", "call_expression"):
                self.passed(node, owners, owner_doc)
            for name_node in code_settings.destructured_settings(node):
                self.setting_field(name_node, owners, owner_doc, frozenset({"field"}))
            if t == "return_statement" and owners:
                self.fallback(node, owners, owner_doc)
            if t == "call_expression" and (key := code_settings.defined_property(node)) is not None:
                self.accessor(node, key, owners)
            if t == "member_expression" and node_text(node.child_by_field_name("object") or node) == "process.env":
                self.environment_read(node, owners, owner_doc)
            if raising(node) and not defines_error(node):  # `raise QueueFull`; not `var ErrLength = errors.New(...)`
                self.units.append(raised_unit(node, self.path, self.col(node.start_point), owners))
            if t in STRING_NODES:
                self.string(node, owners, owner_doc)
                continue
            if t in COMMENTS:
                continue
            container = child_container or (t in CONTAINER_NODES and kind is not None) or t == "impl_item"
            stack.extend((child, child_owners, child_doc, container) for child in reversed(node.children))

    def definition(self, node, name: str, kind: str, owners: tuple, in_container: bool) -> str:
        name_node = node.child_by_field_name("name")
        if name_node is None or node_text(name_node) != name:
            name_node = first_named(node, name, limit=40) or node
        row = name_node.start_point[0]
        doc = doc_comments.python_docstring(node) if self.language == "python" else ""
        doc = doc or doc_comments.leading_comment(node)
        tags = set()
        wrapper = node.parent
        decorators = []
        if wrapper is not None and wrapper.type == "decorated_definition":
            decorators = [node_text(d) for d in wrapper.named_children if d.type == "decorator"]
        elif self.language in ("java", "typescript", "tsx"):
            mods = [c for c in node.children if c.type in ("modifiers", "decorator", "accessibility_modifier")]
            decorators = [node_text(m) for m in mods]
        if any(re.search(r"@(?:\w+\.)*(?:property|cached_property|getter)\b", d) for d in decorators):
            tags.add("property")
        first = node.children[0].type if node.children else ""
        if first == "get" or (node.child_by_field_name("name") is not None and node_text(node)[:4] in ("get ", "set ")):
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
        header = node_text(node)[:400].split("\n")
        supers = ""
        if kind == "class":
            for f in ("superclasses", "superclass", "super_interfaces", "interfaces", "heritage"):
                s = node.child_by_field_name(f)
                if s is not None:
                    supers += " " + node_text(s)
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
            r"\b(decorator|wrapper|wraps|update_wrapper)\b", node_text(node)[:3000]
        ):
            tags.add("decorator")
        if in_container and kind == "function":
            kind = "method"
        if self.language == "python":
            self.units += docstring_settings(node, self.path, self.lines, owners + (name,))
        tagged = (
            doc_comments.clean_comment(doc_comments.comment_above(statement_of(node)), tags=True)
            if self.language != "python"
            else ""
        )
        if tagged:
            self.documented_settings(statement_of(node).start_point[0], owners + (name,))
        if _NOT_PUBLIC.search(tagged) or _PRIVATE_MODIFIER.search(" ".join(decorators)) or name.startswith("#"):
            tags.add("private")
        context = " ".join([*decorators, signature, supers, *body_rows, tagged[:300]])
        self.found(
            kind, name, row, self.col(name_node.start_point), owners, doc=doc, context=context, tags=frozenset(tags)
        )
        return doc

    def documented_settings(self, row: int, owners: tuple) -> None:
        """The settings a doc comment documents above a definition at `row`: `@param {number}
        [options.maxPayload=104857600] The largest message accepted` is a setting `maxPayload`
        of `owners`, with its default (a value unit) or, without one, as an option (`options.x`)."""
        for at in range(row - 1, max(row - 120, -1), -1):
            line = self.line_text(at)
            if not line.lstrip().startswith(("*", "/*", "//")):
                break
            m = _PARAM_TAG.search(line)
            if m is None:
                continue
            name, default, doc = m["path"].rpartition(".")[2], m["default"], m["doc"].strip()
            for below in range(at + 1, row):  # the description goes on until the next tag
                more = self.line_text(below).strip()
                if not more.startswith("*") or more.startswith("*/") or more.lstrip("* ").startswith("@"):
                    break
                doc += " " + more.lstrip("* ")
            about = {"doc": doc, "context": f"{m['path']} {default or ''}".strip(), "owner": " ".join(owners)}
            if default:
                col = m.start("default") + 1
                self.units.append(
                    Unit(kind="value", name=name, answer=default, path=self.path, line=at + 1, col=col, **about)
                )
            elif "." in m["path"]:
                col = m.end("path") - len(name) + 1
                self.units.append(
                    Unit(kind="option", name=name, answer=name, path=self.path, line=at + 1, col=col, **about)
                )

    def value(self, node, owners: tuple, owner_doc: str) -> None:
        name_field, value_field = VALUE_NODES[node.type]
        if name_field is None:
            children = node.named_children
            if len(children) != 2:
                return
            # Go's `Timeout: 90 * time.Second` in a composite literal: each side wrapped
            name_node, value_node = (
                c.named_children[0] if c.type == "literal_element" and c.named_children else c for c in children
            )
        else:
            name_node, value_node = node.child_by_field_name(name_field), node.child_by_field_name(value_field)
        name = code_settings.setting_name(name_node)
        if name and node.type in GLOBAL_NODES and name_node is not None and self.top_level(node):
            self.variable(node, name_node, name, owners, value_node)
        value = value_text(value_node) or (unset_default(node) if node.type in _ASSIGNMENTS else None)
        if value is None and name and node.type in ("pair", "keyed_element"):
            self.registered(name_node, name, value_node, owners)
        if not name or value is None or value_node is None:
            return
        start = value_node.start_point
        target = value_node
        if value_node.type in (
            "binary_expression",
            "binary_operator",
            "boolean_operator",
            "conditional_expression",
            "expression_list",
            "parenthesized_expression",
        ):
            target = find_text(value_node, value) or value_node
            start = target.start_point
        row = start[0]
        context = " ".join([self.line_text(row).strip(), self.line_text(row - 1).strip() if row else ""])
        comment = self.parameter_doc(node, name) or trailing_comment(self.line_text(row))
        self.found(
            "value",
            name,
            row,
            self.col(start),
            owners,
            answer=value,
            doc=(comment + " " + owner_doc).strip(),
            context=context,
        )

    def accessor(self, call, key_node, owners: tuple) -> None:
        statement = call.parent if call.parent.type == "expression_statement" else call  # the comment is above it
        doc, at = doc_comments.clean_comment(doc_comments.comment_above(statement)), self.col(key_node.start_point) + 1
        name, row = unquote(node_text(key_node)), key_node.start_point[0]
        self.found("method", name, row, at, owners, doc=doc, tags=frozenset({"property"}))

    def registered(self, key_node, key: str, value_node, owners: tuple) -> None:
        """`"urlquery": URLQueryEscaper` in a table of built-ins: the name users call a definition
        by, resolved to it once every file is read (`units.notepad_units`)."""
        if (target := code_settings.registration_target(key_node, key, value_node)) is not None:
            row = key_node.start_point[0]
            at = self.line_text(row).find(key, self.col(key_node.start_point) - 1)
            context = self.line_text(row).strip()
            self.found(
                "function", key, row, at + 1, owners, refers=target, context=context, tags=frozenset({"registered"})
            )

    def field(self, node, owners: tuple) -> None:
        """A documented member of a struct, interface or class that holds a setting without a
        value here: `persistent?: boolean` of a TypeScript options interface, `ReadTimeout
        time.Duration` of a Go struct, a Rust or C struct field. Users set these by name, so a
        question asks for them as options ("Which option keeps the process running?")."""
        if node.child_by_field_name("value") is not None:
            return  # a value unit already
        names = node.children_by_field_name("name") or [node.child_by_field_name("declarator")]
        for name_node in names:
            while name_node is not None and name_node.type not in _FIELD_NAMES:
                name_node = name_node.child_by_field_name("declarator")
            if name_node is None:
                continue
            row = name_node.start_point[0]
            doc = doc_comments.leading_comment(node) or trailing_comment(self.line_text(row))
            if not doc:
                continue
            modifiers = " ".join(
                node_text(c) for c in node.children if c.type in ("accessibility_modifier", "modifiers")
            )
            tagged = doc_comments.clean_comment(
                doc_comments.comment_above(node), tags=True
            )  # `@internal`: not what users set
            private = _PRIVATE_MODIFIER.search(modifiers) or _NOT_PUBLIC.search(tagged)
            self.setting_field(name_node, owners, doc, frozenset({"field"} | ({"private"} if private else set())))

    def passed(self, call, owners: tuple, owner_doc: str) -> None:
        """`setKeepAlive(true, 1000 * 60)`: a number fixed where it is used, named by the call."""
        callee, numbers = numbers_passed(call)
        for number in numbers:
            row = number.start_point[0]
            context = self.line_text(row).strip()
            self.found(
                "value",
                callee,
                row,
                self.col(number.start_point),
                owners,
                answer=node_text(number),
                doc=owner_doc,
                context=context,
            )

    def setting_field(self, name_node, owners: tuple, doc: str, tags: frozenset) -> None:
        """A setting users set by name, with no value here: asked for as an option."""
        row = name_node.start_point[0]
        context = self.line_text(row).strip()
        self.found(
            "variable",
            node_text(name_node),
            row,
            self.col(name_node.start_point),
            owners,
            doc=doc,
            context=context,
            tags=tags,
        )

    def fallback(self, statement, owners: tuple, owner_doc: str) -> None:
        """`return guess(name) or "application/octet-stream"`: the function's default answer."""
        if (found := returned_fallback(statement)) is not None:
            at, value = found
            row = at.start_point[0]
            context = self.line_text(row).strip()
            self.found(
                "value",
                owners[-1],
                row,
                self.col(at.start_point),
                owners[:-1],
                answer=value,
                doc=owner_doc,
                context=context,
            )

    def event(self, node, owners: tuple, owner_doc: str) -> None:
        """An event an emitter fires, `this.emit('ready')` or `emit(EV_READY, path)`, or that a
        TypeScript listener signature names, `on(event: 'raw', listener: ...): this`: users ask
        which event to listen for."""
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            verb = (
                callee.child_by_field_name("property")
                if callee is not None and callee.type == "member_expression"
                else callee
            )
            arguments = node.child_by_field_name("arguments")
            if (
                verb is None
                or not _EMIT.fullmatch(node_text(verb))
                or arguments is None
                or not arguments.named_children
            ):
                return
            names = [arguments.named_children[0]]
            doc = doc_comments.leading_comment(enclosing_statement(node)) or owner_doc
        else:
            parameters = node.child_by_field_name("parameters")
            first = parameters.named_children[0] if parameters is not None and parameters.named_children else None
            names = strings_in(first) if first is not None else []
            doc = doc_comments.leading_comment(node)
        for name_node in names:
            raw = node_text(name_node)
            is_string = name_node.type in ("string", "template_string")
            name = unquote(raw) if is_string else raw
            if not (_EVENT_NAME if is_string else _CONSTANT_NAME).fullmatch(name):
                continue
            row = name_node.start_point[0]
            col = self.col(name_node.start_point) + raw.find(name)
            self.found("event", name, row, col, owners, doc=doc, context=self.line_text(row).strip())

    def parameter_doc(self, node, name: str) -> str:
        """What the docstring of a Python function says of its parameter `name` (`node` being
        the parameter's default)."""
        if node.type not in ("default_parameter", "typed_default_parameter") or node.parent is None:
            return ""
        function = node.parent.parent
        if function is None or function.type != "function_definition":
            return ""
        if function.id not in self.parameter_docs:
            self.parameter_docs[function.id] = doc_comments.python_parameter_docs(function)
        return self.parameter_docs[function.id].get(name, "")

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
        doc = doc_comments.leading_comment(statement) or trailing_comment(self.line_text(row))
        if not doc and self.language == "python":  # an attribute docstring: the string right below
            nxt = statement.next_named_sibling
            if (
                nxt is not None
                and nxt.type == "expression_statement"
                and nxt.named_children
                and nxt.named_children[0].type == "string"
            ):
                doc = " ".join(unquote(node_text(nxt.named_children[0]).strip()).split())[:MAX_DOC_CHARS]
        value = node_text(value_node)[:120] if value_node is not None else ""
        self.found(
            "variable",
            name,
            row,
            self.col(name_node.start_point),
            owners,
            doc=doc,
            context=self.line_text(row).strip() + " " + value,
        )

    def string(self, node, owners: tuple, owner_doc: str) -> None:
        raw = node_text(node)
        if "\n" in raw or len(raw) > 120:
            return
        content = unquote(raw.strip())
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
            context = node_text(call)[:400] if call is not None else line.strip()
            self.found(
                "option",
                content,
                row,
                self.col(node.start_point) + raw.find(content),
                owners,
                doc=owner_doc,
                context=context,
            )
        read = _ENV_NAME.fullmatch(content) if code_settings.environment_key(node) else None  # `os.getenv("COLUMNS")`
        for m in [read] if read else _ENV_TEXT.finditer(content):
            env_line = " ".join(self.line_text(r) for r in range(max(0, row - 2), row + 3))
            tags = frozenset({"env-context"}) if read or _ENV_CONTEXT.search(env_line) else frozenset()
            self.found(
                "env",
                m.group(0),
                row,
                self.col(node.start_point) + raw.find(content) + m.start(),
                owners,
                doc=owner_doc,
                context=line.strip(),
                tags=tags,
            )

    def environment_read(self, node, owners: tuple, owner_doc: str) -> None:
        """`process.env.CHOKIDAR_USEPOLLING`: Node reads an environment variable by property."""
        name_node = node.child_by_field_name("property")
        if name_node is None:
            return
        row = name_node.start_point[0]
        self.found(
            "env",
            node_text(name_node),
            row,
            self.col(name_node.start_point),
            owners,
            doc=doc_comments.leading_comment(enclosing_statement(node)) or owner_doc,
            context=self.line_text(row).strip(),
            tags=frozenset({"env-context"}),
        )


def code_units(path: str, text: str, lines: list[str]) -> list[Unit]:
    """The units of a source file: from its tree-sitter tree where a grammar parses it, else line by line."""
    suffix = "." + path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    language = LANGUAGES.get(suffix)
    parser = parser_for(language) if language else None
    if parser is None:
        return line_units(path, lines)
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = parser.parse(source)
    except Exception:  # noqa: BLE001 - a parser failure must not cost the answer
        return line_units(path, lines)
    walker = _Walker(path, source, lines, language)
    walker.walk(tree.root_node)
    return walker.units
