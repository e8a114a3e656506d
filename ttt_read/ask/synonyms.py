"""Other words for a question's word, so that "stops a request" can find `abort`.

From WordNet, as a table shipped with the package (`synonyms.tsv`, written by
`tools/build_synonyms.py`): the lemmas of a word's first few senses as a verb, a noun and an
adjective, for the words technical English uses. Shipping it, rather than reading a dictionary
only some machines have, makes a question's answer the same everywhere. A small table of
words code and its documentation use for one another comes first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

MAX_SYNONYMS = 12
INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ing", "e"), ("ing", ""), ("ed", "e"), ("ed", ""))

# Words code and its comments use for one another, beyond what a dictionary says.
TABLE = {
    "abort": ["cancel", "stop", "terminate", "interrupt"],
    "args": ["arguments", "parameters"],
    "argument": ["parameter", "arg", "param"],
    "attach": ["mount", "register", "add"],
    "begin": ["start", "init"],
    "biggest": ["max", "maximum"],
    "bytes": ["size", "length"],
    "cap": ["max", "limit", "maximum"],
    "check": ["verify", "validate", "test"],
    "config": ["configuration", "settings", "options"],
    "configuration": ["config", "settings"],
    "create": ["make", "new", "build"],
    "delete": ["remove", "destroy", "free", "drop", "unlink"],
    "directory": ["dir", "folder"],
    "display": ["show", "print", "render"],
    "end": ["stop", "finish", "close"],
    "error": ["exception", "failure", "err"],
    "exception": ["error"],
    "find": ["search", "lookup", "locate"],
    "fewest": ["min", "minimum"],
    "folder": ["directory", "dir"],
    "get": ["fetch", "retrieve", "read"],
    "highest": ["max", "maximum"],
    "ignore": ["skip", "exclude"],
    "largest": ["max", "maximum"],
    "length": ["len", "size"],
    "limit": ["max", "maximum", "cap"],
    "longest": ["max", "maximum", "length"],
    "lowest": ["min", "minimum"],
    "make": ["create", "build"],
    "maximum": ["max", "limit", "most"],
    "minimum": ["min", "least"],
    "most": ["max", "maximum"],
    "number": ["count", "num"],
    "option": ["flag", "opt", "switch"],
    "parameter": ["argument", "param", "arg"],
    "print": ["echo", "write", "output", "display"],
    "read": ["load", "parse", "get"],
    "remove": ["delete", "strip", "drop", "clear", "unlink"],
    "retry": ["retries", "attempt"],
    "show": ["display", "print", "echo"],
    "size": ["length", "len", "width"],
    "skip": ["ignore", "exclude", "omit"],
    "smallest": ["min", "minimum"],
    "start": ["begin", "init", "launch", "open"],
    "stop": ["abort", "cancel", "exit", "halt", "terminate"],
    "string": ["str", "text"],
    "text": ["string", "str"],
    "unlink": ["delete", "remove"],
    "url": ["uri", "link"],
    "write": ["print", "output", "save", "dump"],
}


# Two-word verbs people type where code and manuals write one word ("turn off": `disable`).
PHRASAL = {
    ("turn", "off"): "disable",
    ("turn", "on"): "enable",
    ("switch", "off"): "disable",
    ("switch", "on"): "enable",
    ("shut", "down"): "shutdown",
    ("set", "up"): "setup",
    ("look", "up"): "lookup",
    ("clean", "up"): "cleanup",
    ("tear", "down"): "teardown",
    ("start", "up"): "startup",
    ("back", "up"): "backup",
    ("fall", "back"): "fallback",
}
_PHRASAL = re.compile(
    rf"\b({'|'.join(dict.fromkeys(verb for verb, _ in PHRASAL))})(?:s|es|ed|ing|ting|ted)?"
    rf"(?:\s+(?:it|them|this|that))?\s+({'|'.join(dict.fromkeys(particle for _, particle in PHRASAL))})\b",
    re.I,
)


def one_word_verbs(text: str) -> str:
    """`text` with its two-word verbs as the one word code uses ("turns off", "switch it off" ->
    "disable")."""
    return _PHRASAL.sub(lambda m: PHRASAL.get((m.group(1).lower(), m.group(2).lower()), m.group()), text)


# a symbol that stands alone in a question, as names spell it ("turns + into spaces": `unquote_plus`)
_SYMBOL_WORDS = {"+": "plus", "*": "star", "~": "tilde", "|": "pipe", "&": "ampersand", "#": "hash", "%": "percent"}
_LONE_SYMBOL = re.compile(rf"(?<![^\s'\"(])([{re.escape(''.join(_SYMBOL_WORDS))}])(?=[\s'\",.;:?)]|$)")


def as_code_says(question: str) -> str:
    """A question's words as code says them: names out of their backquotes, two-word verbs as
    one word, a lone symbol as its name."""
    question = _LONE_SYMBOL.sub(lambda m: _SYMBOL_WORDS[m.group(1)], question)
    return one_word_verbs(re.sub(r"`([^`]*)`", r" \1 ", question))


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, tuple[str, ...]]:
    """WordNet's words, as `tools/build_synonyms.py` wrote them: each with its synonyms."""
    table = {}
    for line in (Path(__file__).with_name("synonyms.tsv")).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            word, _, others = line.partition("\t")
            table[word] = tuple(others.split())
    return table


def is_english(word: str) -> bool:
    """Whether WordNet or the table of code's words knows `word` (in some inflection): `watch`
    is English, `urlparse` is only a name."""
    word = word.lower()
    return word in TABLE or word in _dictionary() or lemma(word) != word


@lru_cache(maxsize=4096)
def lemma(word: str) -> str:
    """The dictionary form of an inflected English word ("stops" -> "stop", "draws" -> "draw",
    "iterating" -> "iterate"); the word itself when none is known."""
    return dictionary_form(word.lower(), _dictionary())


def dictionary_form(word: str, known) -> str:
    """The first shorter form of `word` that `known` (or the table of code's words) holds."""
    for suffix, repl in INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            form = word[: -len(suffix)] + repl
            if form in TABLE or form in known:
                return form
    return word


@lru_cache(maxsize=4096)
def synonyms(word: str) -> tuple[str, ...]:
    """Other words for `word` (lowercase; inflected forms are looked up as their lemma), most
    common senses first."""
    word = lemma(word.lower())
    found = list(TABLE.get(word, []))
    if len(word) > 2:
        found += [w for w in _dictionary().get(word, ()) if w not in found]
    return tuple(found[:MAX_SYNONYMS])
