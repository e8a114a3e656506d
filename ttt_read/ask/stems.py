"""Matching words: one stem for a word's inflections and abbreviations, and the question's words
that say which unit, with their synonyms, so a question and a unit's name meet in any form.
"""

from __future__ import annotations

import re

from ttt_read.ask import synonyms as syn
from ttt_read.ask.intent import KIND_WORDS, SOFT_TYPE_WORDS, STOP_WORDS, TYPE_WORDS, Asked
from ttt_read.notepad.lexicon import FUNCTION_WORDS, word_terms

_SUFFIXES = (  # (suffix, replacement, the least stem left)
    ("ations", "", 3),
    ("ation", "", 3),
    ("ings", "", 3),
    ("ing", "", 3),
    ("ies", "i", 3),
    ("ied", "i", 3),
    ("es", "", 3),
    ("ed", "", 3),
    ("ers", "", 3),
    ("er", "", 3),
    ("ly", "", 5),  # exactly, recursively; not imply, apply, reply
    ("s", "", 3),
)
_SINGULAR_S = re.compile(r"(?:ss|us|is)$|^(?:alias|bias|canvas|atlas|whereas)$")  # class, status, axis


ABBREVIATIONS = {  # code's short forms, read as the words people use
    "max": "maximum",
    "min": "minimum",
    "num": "number",
    "len": "length",
    "str": "string",
    "dir": "directory",
    "cfg": "config",
    "conf": "config",
    "msg": "message",
    "err": "error",
    "arg": "argument",
    "args": "arguments",
    "param": "parameter",
    "params": "parameters",
    "opt": "option",
    "opts": "options",
    "env": "environment",
    "init": "initialize",
    "val": "value",
    "var": "variable",
    "addr": "address",
    "buf": "buffer",
    "ctx": "context",
    "req": "request",
    "resp": "response",
    "src": "source",
    "dst": "destination",
    "dest": "destination",
    "tmp": "temporary",
    "pos": "position",
    "idx": "index",
    "char": "character",
    "chars": "characters",
    "fmt": "format",
    "sep": "separator",
    "prev": "previous",
    "cur": "current",
    "auth": "authentication",
    "attr": "attribute",
    "dict": "dictionary",
    "info": "information",
    "sync": "synchronous",
    "async": "asynchronous",
    "repr": "representation",
    "doc": "documentation",
    "lib": "library",
    "pkg": "package",
    "ext": "extension",
    "proc": "process",
    "cmd": "command",
    "db": "database",
    "fn": "function",
    "func": "function",
    "cb": "callback",
    "ws": "websocket",
}


def stem(word: str) -> str:
    """One form for a word's inflections: `implies`, `implied` and `imply` are `impli`;
    `classes` and `class`, `aliases` and `alias` meet too."""
    w = word.lower()
    w = ABBREVIATIONS.get(w, w)
    for suffix, repl, least in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= least:
            if suffix == "s" and _SINGULAR_S.search(w):
                break
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    elif w.endswith("y") and len(w) > 3 and w[-2] not in "aeiou":
        w = w[:-1] + "i"
    return w


WORDS = re.compile(r"[A-Za-z0-9_$]+")


def word_parts(word: str) -> list[str]:
    """`word_terms` of a word without the underscores around it: a private name says its words
    as a public one does (`_transports`: "transports", `__init__`: "init")."""
    return word_terms(word.strip("_") or word)


def terms(text: str) -> set[str]:
    out = set()
    for word in WORDS.findall(text):
        for t in word_parts(word):
            if not t.isdigit():
                out.add(stem(t))
    return out


def question_terms(question: str, asked: Asked) -> list[tuple[str, float, tuple[str, ...]]]:
    """(stem, weight, stems of its synonyms) for each word of the question that says which unit."""
    code = syn.as_code_says(question)
    out: dict[str, tuple[float, tuple[str, ...]]] = {}
    kind_seen = False
    for word in WORDS.findall(code):
        low = word.lower()
        if low in FUNCTION_WORDS or low in STOP_WORDS or len(low) < 2:
            continue
        weight = 1.0
        if low in KIND_WORDS and kind_seen:
            weight = 0.5  # "... sets the function called when ...": after the kind asked for, a subject
        elif low in KIND_WORDS and low not in TYPE_WORDS:
            weight = 0.3  # "command", "builtin", "handler": what kind, a little of which one
            kind_seen = True
        elif low in TYPE_WORDS or low.rstrip("s") in TYPE_WORDS:
            kind_seen = kind_seen or low in KIND_WORDS
            if low.rstrip("s") not in SOFT_TYPE_WORDS and not (asked.want == "value" and low == "default"):
                continue
            weight = 0.3
        for t in word_terms(word):
            s = stem(t)
            if s in out or t.isdigit():
                continue
            synonyms = tuple(
                dict.fromkeys(
                    stem(x) for x in syn.synonyms(t) if stem(x) != s and x not in TYPE_WORDS and x not in KIND_WORDS
                )
            )
            out[s] = (weight, synonyms)
    return [(s, w, ss) for s, (w, ss) in out.items()]
