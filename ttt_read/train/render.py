"""Documentation formats rendered to the plain text a reader sees: man pages, info manuals, HTML.

Training prose comes from the documentation installed on a machine; each format is turned
into text laid out as a person reads it, with navigation and markup dropped.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess


def tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def render_man(source: bytes) -> str:
    """A man page as the text `man` shows, 80 columns, left-aligned and unhyphenated, with
    groff when it is installed; otherwise the troff requests and escapes are stripped."""
    if shutil.which("groff") is None:
        return _strip_troff(source.decode("utf-8", errors="replace"))
    command = ["groff", "-Tutf8", "-mandoc", "-t", "-P-cbou", "-rLL=80n", "-rHY=0"]
    try:
        done = subprocess.run(command, input=b".ad l\n" + source, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ""
    return tidy(done.stdout.decode("utf-8", errors="replace"))


def _strip_troff(source: str) -> str:
    """Plain text from man(7) source without groff: macro arguments kept, requests dropped."""
    lines = []
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if line.startswith((".", "'")):
            macro, _, args = line[1:].partition(" ")
            if macro not in ("SH", "SS", "B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "TP", "IP"):
                continue
            line = args.replace('"', "")
        line = re.sub(r"\\f[BIRP]|\\f\(\w\w|\\&|\\[|^]", "", line)
        lines.append(re.sub(r"\\\(\w\w", "", line.replace("\\-", "-").replace("\\e", "\\")))
    return tidy("\n".join(lines))


def info_text(source: str) -> str:
    """An info file's nodes as plain text: the `File: ... Node: ...` navigation lines and the
    indirect and tag tables (byte offsets for the info reader) are dropped."""
    nodes = []
    for node in source.split("\x1f"):
        node = node.lstrip("\n")
        if node.startswith(("Tag Table:", "Indirect:", "End Tag Table", "Local Variables")):
            continue
        first, _, rest = node.partition("\n")
        nodes.append(rest if first.startswith("File: ") else node)
    return tidy("\n".join(nodes))


class HTMLText(html.parser.HTMLParser):
    """The readable text of an HTML page: no head, scripts, styles or navigation bars;
    block elements become line breaks, headings get `#` marks and `pre` keeps its layout."""

    SKIP_TAGS = {"head", "script", "style", "nav", "header", "footer", "noscript", "svg", "form", "button"}
    SKIP_CLASSES = {"sphinxsidebar", "related", "footer", "navheader", "navfooter", "headerlink", "mobile-nav"}
    VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    BLOCK_TAGS = {
        "p",
        "div",
        "section",
        "article",
        "main",
        "aside",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "blockquote",
        "pre",
        "br",
        "hr",
        "figure",
        "figcaption",
        "caption",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skipping: str | None = None  # the tag whose element is being left out
        self._depth = 0  # nesting of that tag inside the skipped element
        self._pre = 0
        self.next_page: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "link" and "next" in attributes.get("rel", "").split() and self.next_page is None:
            self.next_page = attributes.get("href", "").split("#")[0] or None
        if self._skipping:
            self._depth += tag == self._skipping
            return
        classes = set(attributes.get("class", "").split())
        if tag in self.SKIP_TAGS or classes & self.SKIP_CLASSES or attributes.get("role") in ("navigation", "search"):
            if tag not in self.VOID_TAGS:
                self._skipping, self._depth = tag, 1
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._break(2)
            self._out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._break(1)
            self._out.append("- ")
        elif tag in ("td", "th") and self._out and not self._out[-1].endswith("\n"):
            self._out.append(" ")
        elif tag in self.BLOCK_TAGS:
            self._break(2 if tag == "p" else 1)
        self._pre += tag == "pre"

    def handle_endtag(self, tag):
        if self._skipping:
            self._depth -= tag == self._skipping
            if self._depth == 0:
                self._skipping = None
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in self.BLOCK_TAGS or re.fullmatch(r"h[1-6]", tag):
            self._break(2 if tag in ("p", "pre") or tag.startswith("h") else 1)

    def handle_data(self, data):
        if self._skipping:
            return
        if not self._pre:
            data = re.sub(r"\s+", " ", data)
            if not self._out or self._out[-1].endswith("\n"):
                data = data.lstrip()
        if data:
            self._out.append(data)

    def _break(self, newlines: int) -> None:
        if self._out:
            tail = "".join(self._out[-3:])
            missing = newlines - (len(tail) - len(tail.rstrip("\n")))
            if missing > 0:
                self._out.append("\n" * missing)

    def text(self) -> str:
        return tidy("".join(self._out))
