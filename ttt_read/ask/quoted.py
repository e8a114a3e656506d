"""A question that names what the sources never say: "Where is `AppendQuote` defined?" of a
codebase without that name, 'the first sentence under the heading "9. TERMINATION"' of a
manual without that heading. Whatever passage looks closest, the honest answer is "not
found"; the ranker and the span head only weigh words, so they cannot tell.

Only names are checked: code in backticks that is one name (`Session.request()`, `$PATH`),
and a heading, section or chapter quoted by its title. Other quoted text is most often an
example of the user's own ("How do I split "Name <addr>" into ...?"), not a claim that the
sources hold it.
"""

from __future__ import annotations

import re
import unicodedata

_NAMED = re.compile(r"`([^`\s]{2,100})`|\b(?:heading|section|chapter|title)\s+[\"“]([^\"”]{2,160})[\"”]", re.I)
_IDENTIFIER_PARTS = re.compile(r"[A-Za-z_][\w$]+")  # `$PATH` is PATH


def _plain(text: str) -> str:
    """Case, ligatures (a PDF's `ﬁ`) and runs of white space set aside."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _sources_text(notepad) -> str:
    """All the notepad's files as one plain text, computed once per notepad."""
    cached = getattr(notepad, "_plain_text", None)
    if cached is None:
        cached = notepad._plain_text = "\n".join(_plain(f.text) for f in notepad.files)
    return cached


def absent_quote(notepad, question: str) -> str | None:
    """The first name `question` quotes that no read file contains, else None. Code counts as
    present when each of its names is (`Session.request()` is there when a file defines
    `request` in class `Session`)."""
    text = _sources_text(notepad)
    for m in _NAMED.finditer(question):
        code, title = m.groups()
        if title is not None:
            if _plain(title) not in text:
                return title
            continue
        parts = _IDENTIFIER_PARTS.findall(code)
        if parts and not all(re.search(rf"(?<!\w){re.escape(p.lower())}(?![\w$])", text) for p in parts):
            return code
    return None
