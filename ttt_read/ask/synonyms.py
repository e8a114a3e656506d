"""Other words for a question's word, so that "stops a request" can find `abort`.

From WordNet's database when it is installed (Debian's `wordnet` package puts it in
/usr/share/wordnet; `$WNHOME` or `$WNSEARCHDIR` point elsewhere): the lemmas of a word's
first few senses as a verb, a noun and an adjective. The index files are sorted, so a word is
found by binary search in a memory map, and a sense by its byte offset in the data file:
nothing is loaded up front. A small table of words code and its documentation use for one
another stands in for it, and adds to it.
"""

from __future__ import annotations

import mmap
import os
from functools import lru_cache
from pathlib import Path

SENSES = 3  # the first senses of a word only: later ones are rare and drift off
MAX_SYNONYMS = 12

# Words code and its comments use for one another, beyond what a dictionary says.
TABLE = {
    "abort": ["cancel", "stop", "terminate", "interrupt"],
    "args": ["arguments", "parameters"],
    "argument": ["parameter", "arg", "param"],
    "attach": ["mount", "register", "add"],
    "begin": ["start", "init"],
    "bytes": ["size", "length"],
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
    "folder": ["directory", "dir"],
    "get": ["fetch", "retrieve", "read"],
    "ignore": ["skip", "exclude"],
    "length": ["len", "size"],
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
    "start": ["begin", "init", "launch", "open"],
    "stop": ["abort", "cancel", "exit", "halt", "terminate"],
    "string": ["str", "text"],
    "text": ["string", "str"],
    "unlink": ["delete", "remove"],
    "url": ["uri", "link"],
    "write": ["print", "output", "save", "dump"],
}


def _directory() -> Path | None:
    for candidate in (os.environ.get("WNSEARCHDIR"), os.environ.get("WNHOME") and os.environ["WNHOME"] + "/dict"):
        if candidate and (Path(candidate) / "index.verb").exists():
            return Path(candidate)
    for candidate in ("/usr/share/wordnet", "/usr/share/wordnet/dict", "/usr/local/share/wordnet"):
        if (Path(candidate) / "index.verb").exists():
            return Path(candidate)
    return None


class _WordNet:
    def __init__(self, directory: Path):
        self.maps = {}
        for pos in ("verb", "noun", "adj"):
            try:
                with open(directory / f"index.{pos}", "rb") as fi, open(directory / f"data.{pos}", "rb") as fd:
                    self.maps[pos] = (
                        mmap.mmap(fi.fileno(), 0, access=mmap.ACCESS_READ),
                        mmap.mmap(fd.fileno(), 0, access=mmap.ACCESS_READ),
                    )
            except (OSError, ValueError):
                continue

    def _index_line(self, index: mmap.mmap, word: bytes) -> bytes | None:
        lo, hi = 0, len(index)
        key = word + b" "
        while lo < hi:
            mid = (lo + hi) // 2
            start = index.rfind(b"\n", 0, mid) + 1
            end = index.find(b"\n", start)
            end = len(index) if end < 0 else end
            line = index[start:end]
            if line.startswith(b"  "):  # the licence at the top sorts first
                lo = end + 1
                continue
            if line.startswith(key):
                return line
            if line < key:
                lo = end + 1
            else:
                hi = start
        return None

    def synonyms(self, word: str) -> list[str]:
        out: list[str] = []
        for index, data in self.maps.values():
            line = self._index_line(index, word.encode())
            if line is None:
                continue
            fields = line.split()
            n_synsets = int(fields[2])
            for offset in fields[-n_synsets:][:SENSES]:
                entry = data[int(offset) : data.find(b"\n", int(offset))].split()
                count = int(entry[3], 16)
                for i in range(count):
                    lemma = entry[4 + 2 * i].decode("utf-8", "replace").lower()
                    lemma = lemma.split("(")[0]
                    if lemma != word and "_" not in lemma and lemma not in out:
                        out.append(lemma)
        return out


@lru_cache(maxsize=1)
def _wordnet() -> _WordNet | None:
    directory = _directory()
    return _WordNet(directory) if directory is not None else None


def _known(wn: _WordNet, word: str) -> bool:
    return any(wn._index_line(index, word.encode()) is not None for index, _ in wn.maps.values())


@lru_cache(maxsize=4096)
def lemma(word: str) -> str:
    """The dictionary form of an inflected English word ("stops" -> "stop", "draws" -> "draw",
    "iterating" -> "iterate"); the word itself when none is known."""
    word = word.lower()
    wn = _wordnet()
    candidates = []
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ing", "e"), ("ing", ""), ("ed", "e"), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            candidates.append(word[: -len(suffix)] + repl)
    if wn is None:
        return next((c for c in candidates if c in TABLE), word)
    return next((c for c in candidates if c in TABLE or _known(wn, c)), word)


@lru_cache(maxsize=4096)
def synonyms(word: str) -> tuple[str, ...]:
    """Other words for `word` (lowercase; inflected forms are looked up as their lemma), most
    common senses first."""
    word = lemma(word.lower())
    found = list(TABLE.get(word, []))
    wn = _wordnet()
    if wn is not None and word.isalpha() and len(word) > 2:
        found += [w for w in wn.synonyms(word) if w not in found]
    return tuple(found[:MAX_SYNONYMS])
