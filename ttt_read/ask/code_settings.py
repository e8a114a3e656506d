"""How code names its settings: a key read with a fallback (`opts.get('timeout', 5)`), a
property a call defines on an object, the definition a table registers a name for, the settings
destructured from a configuration object, an environment variable read by name.
"""

from __future__ import annotations

import re

from ttt_read.ask.syntax import COMMENTS, called_name, node_text, unquote, value_text

_LOOKUPS = {"get", "pop", "setdefault", "getenv", "set"}  # `set`: `app.set('query parser', 'extended')`
_OPTION_GETTER = re.compile(r"get_?(?:[a-z]+_?)?opt(?:ion)?", re.I)  # `get_bool_opt`, `getOption`


def keyed_default(call) -> tuple[str, object, str] | None:
    """(key, default node, default) of `kwargs.get('timeout', 10)`, `kwargs.pop("filemode", 'a')`,
    `get_bool_opt(options, 'stripnl', True)`: a setting read by name, with what it is when not
    given (the name, then the default, last); or set by name to a literal, as applications
    configure themselves (`this.set('subdomain offset', 2)`)."""
    callee, arguments = called_name(call), call.child_by_field_name("arguments")
    if callee is None or arguments is None:
        return None
    given = [a for a in arguments.named_children if a.type not in COMMENTS]
    if callee is None or callee.type not in ("identifier", "property_identifier") or len(given) not in (2, 3):
        return None
    method = node_text(callee)
    if not (method in _LOOKUPS or _OPTION_GETTER.fullmatch(method)) or given[-2].type != "string":
        return None
    if len(given) == 3 and given[0].type == "string":
        return None  # `get(section, key, default)`: no one key
    key, value = unquote(node_text(given[-2])), value_text(given[-1])
    return (key, given[-1], value) if value is not None and re.fullmatch(r"[A-Za-z_][\w-]*(?: [\w-]+)*", key) else None


_ACCESSORS = re.compile(r"define(?:Getter|Setter|Property)|__define[GS]etter__")
_ACCESSOR_VALUES = ("function_expression", "function", "arrow_function", "object")


def defined_property(call):
    """The string node naming the property a call defines on an object, `defineGetter(req,
    'xhr', function xhr() {...})`, `Object.defineProperty(obj, 'size', {get() {...}})`: users
    read it as `req.xhr`, so it is a property, documented by the comment above the call."""
    callee, arguments = call.child_by_field_name("function"), call.child_by_field_name("arguments")
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    if callee is None or arguments is None or not _ACCESSORS.fullmatch(node_text(callee)):
        return None
    given = [a for a in arguments.named_children if a.type not in COMMENTS]
    for key, value in zip(given, given[1:]):
        if key.type == "string" and value.type in _ACCESSOR_VALUES:
            return key if re.fullmatch(r"[A-Za-z_$][\w$]*", unquote(node_text(key))) else None
    return None


_REFERENCES = ("identifier", "attribute", "member_expression", "selector_expression")  # a name, `pkg.Name`


def registration_target(key_node, key: str, value_node) -> str | None:
    """The definition a table entry registers under a string key (`"urlquery": URLQueryEscaper`,
    `{'json': dump_json}`): the name the value refers to, when it is another name than the key."""
    if key_node is None or key_node.type not in ("string", "interpreted_string_literal"):
        return None
    target = setting_name(value_node) if value_node is not None and value_node.type in _REFERENCES else None
    return target if target and target != key else None


_CONFIG_SOURCE = re.compile(r"(?i)config|options|opts|settings|props|params")


def destructured_settings(pattern) -> list:
    """The name nodes of `const {url, fetchOptions} = resolveConfig(config)` or `function f({depth,
    persistent} = {})`: settings read from a configuration object by name, which users pass as
    options. Those with a default (`timeout = 0`) are values already."""
    parent = pattern.parent
    if parent is None or pattern.type != "object_pattern":
        return []
    source = parent.child_by_field_name("value") if parent.type == "variable_declarator" else None
    if parent.type == "assignment_pattern":
        parent = parent.parent
    read = source is not None and _CONFIG_SOURCE.search(node_text(source))
    if not (read or parent.type == "formal_parameters"):
        return []
    names = []
    for c in pattern.named_children:
        if c.type == "shorthand_property_identifier_pattern":
            names.append(c)
        elif c.type == "pair_pattern" and (key := c.child_by_field_name("key")) is not None:
            names.append(key)
    return names


def setting_name(node) -> str | None:
    """The name an assignment sets: the last part of `a.b.c`, a key (dotted ones whole), or a
    plain name."""
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
        return setting_name(inner) if inner is not None else None
    text = node_text(node)
    if node.type in ("string", "string_literal", "interpreted_string_literal"):  # a key: `"truncate.leeway": 5`
        text = unquote(text.strip())
        return text if re.fullmatch(r"[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)*", text) else None
    if node.type == "expression_list" or node.type == "pattern_list":
        return None
    return text if re.fullmatch(r"[A-Za-z_$][\w$-]*", text) else None


_ENVIRONMENT = re.compile(r"(?:getenv|environ|Getenv|LookupEnv|\benv\b)\W*(?:get|var)?\W*$")


def environment_key(string) -> bool:
    """Whether a string literal is the name an environment read asks for: `os.getenv("TERM")`,
    `os.environ.get('HOME')`, `process.env['PORT']`, `os.Getenv("GOPATH")`, `env::var("CARGO")`."""
    read = string.parent
    if read is not None and read.type in ("argument_list", "arguments"):
        read = read.parent
    if read is None or read.type not in ("call", "call_expression", "subscript", "subscript_expression"):
        return False
    before = node_text(read)[: string.start_byte - read.start_byte]
    return _ENVIRONMENT.search(before) is not None
