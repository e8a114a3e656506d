"""Build the meta-training corpus: long documents from directories on this machine.

Meta-training reads 8-32K-token windows, each from inside one document, so a document here is
something long that is read as a whole: one installed Python package (or stdlib package, or
source tree), or a manual in reading order (a Sphinx/DocBook HTML tree, the man pages of one
section, an info manual). Every file is rendered exactly as `ttt-read ingest` renders a
directory (`sources.collect` + `Collection.render`: a `<|file|>` header, then the text), so the
model is trained on the format it reads at run time.

The output directory holds `tokenizer.json`, `train.bin` and `val.bin` (flat little-endian
uint16 token ids; each bin starts with `<|endoftext|>` and every document is followed by one,
so every document is preceded by the marker, as the ingest stream is) and `manifest.json`
with each document's `offset` and `tokens` in its bin. The same inputs give byte-identical
outputs: no timestamps, walks in name order, splits by hashes of document names.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import email.parser
import gzip
import hashlib
import html.parser
import json
import os
import posixpath
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ttt_read import sources
from ttt_read import tokenizer as tok
from ttt_read.errors import ExitCode, TTTReadError

FORMAT = "ttt-read-corpus/1"
# A Python package document holds sources and their docs, not data files or build artifacts.
PYTHON_INCLUDE = ("*.py", "*.pyi", "*.md", "*.rst", "*.txt")
PROSE_SUFFIXES = {".html", ".htm", ".txt", ".md", ".rst", ".text", ""}
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text")  # preferred over an .html of the same page
CODE_SUFFIXES = {".py", ".pyi", ".go", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".java", ".js", ".ts", ".rb", ".pl", ".sh"}
# Index, search and table-of-contents pages are lists of links, not text; changelogs and
# license texts are boilerplate that every Debian package repeats.
SKIPPED_PROSE = re.compile(
    r"(genindex.*|.*modindex|search|bookindex|contents)\.html?|changelog.*|copyright|licen[cs]e.*|copying.*", re.I
)
TARGET_DOC_CHARS = 200_000  # ~50K tokens: short pieces are packed until a document is this long
MIN_DOC_CHARS = 4_000  # ~1K tokens: a shorter document cannot supply a training window
MAX_PROSE_BYTES = 20_000_000  # per file after decompression, against gzip bombs
TOKENIZER_SAMPLE_CHARS = 8_000_000
TOKENIZER_BAND = 0.5  # only documents hashing above this feed the tokenizer; val comes from below
MIN_VAL_TOKENS = 32_768


@dataclasses.dataclass
class Document:
    """One training document: files, each rendered with its `<|file|>` header, in order."""

    name: str
    kind: str  # "code" or "prose"
    source: str  # the source directory it came from
    license: str
    files: list[sources.SourceFile]

    def parts(self) -> list[str]:
        """The rendered files. Encoding them one by one gives the same ids as encoding the
        whole text, because each part starts with a special token the tokenizer splits at."""
        return [sources.Collection([f], []).render() for f in self.files]

    def chars(self) -> int:
        return sum(len(f.text) for f in self.files)


class _Reader:
    """What all sources share: content hashes already used, exclude globs, skip counts."""

    def __init__(self, exclude: Sequence[str]):
        self.exclude = list(exclude)
        self._patterns = [p for p in map(sources.parse_pattern, exclude) if p is not None]
        self.seen: set[str] = set()
        self.skipped: dict[str, int] = {}
        self.licenses = _Licenses()

    def is_fresh(self, f: sources.SourceFile) -> bool:
        """True, and remembered, for content not used before and free of special-token
        strings (those would become document or file boundaries in the middle of a file)."""
        if f.sha256 in self.seen:
            self.skip("duplicate content")
            return False
        if any(special in f.text for special in tok.SPECIAL_TOKENS):
            self.skip("contains a special-token string")
            return False
        self.seen.add(f.sha256)
        return True

    def excluded(self, rel: str) -> bool:
        """gitignore-style, like `ingest --exclude`: a pattern matches the path or a parent."""
        parts = rel.split("/")
        parents = ["/".join(parts[:k]) for k in range(1, len(parts))]
        return any(p.matches(rel, False) or any(p.matches(d, True) for d in parents) for p in self._patterns)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


# --- what a source path is -------------------------------------------------------------------


def parse_source(spec: Path | str) -> tuple[str | None, Path]:
    """`code=DIR`, `packages=DIR`, `prose=DIR`, or a bare path whose layout is detected."""
    kind, sep, rest = str(spec).partition("=")
    if sep and kind in ("code", "packages", "prose"):
        return kind, Path(rest)
    return None, Path(str(spec))


def detect(path: Path) -> str:
    """The layout of a bare path: "packages" (one document per top-level package), "code"
    (one document for the whole tree) or "prose", by what most of its files are."""
    if _is_package_collection(path):
        return "packages"
    if _is_man_tree(path) or _is_info_tree(path):
        return "prose"
    code = prose = 0
    for _, names in _walk(path, limit=2000):
        for name in names:
            code += _suffix(name) in CODE_SUFFIXES
            prose += _suffix(name) in PROSE_SUFFIXES
    return "prose" if prose > code else "code"


def _is_package_collection(path: Path) -> bool:
    """site-packages, or a stdlib `lib/python3.x` (recognised by os.py next to encodings/)."""
    if path.name in ("site-packages", "dist-packages") or any(path.glob("*.dist-info")):
        return True
    return (path / "os.py").is_file() and (path / "encodings").is_dir()


def _is_man_tree(path: Path) -> bool:
    return any(re.fullmatch(r"man\d\w*", p.name) and p.is_dir() for p in path.iterdir())


def _is_info_tree(path: Path) -> bool:
    return any(_info_part(p.name) for p in path.iterdir())


def _suffix(name: str) -> str:
    """The suffix that says what a file holds, looking through a `.gz`."""
    return Path(name.removesuffix(".gz")).suffix.lower()


def _walk(root: Path, limit: int | None = None) -> Iterator[tuple[Path, list[str]]]:
    """Directories and their file names in name order, without following directory symlinks
    (Debian doc trees link into each other) or entering hidden and `_static`-style dirs."""
    for count, (directory, dirs, files) in enumerate(os.walk(root)):
        if limit is not None and count >= limit:
            return
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        yield Path(directory), sorted(f for f in files if not f.startswith("."))


def _labels(roots: Sequence[Path]) -> list[str]:
    """Document names start with their source's directory name, or its path where two sources
    share a name."""
    names = [p.resolve().name for p in roots]
    return [n if names.count(n) == 1 else p.resolve().as_posix().strip("/") for n, p in zip(names, roots)]


def read_documents(specs: Sequence[Path | str], reader: _Reader, say: Callable[[str], None]) -> list[Document]:
    """Every source's documents, in the order given (earlier sources win duplicate files),
    without near-empty documents."""
    parsed = [parse_source(s) for s in specs]
    for _, path in parsed:
        if not path.is_dir():
            raise TTTReadError(f"{path}: not a directory", ExitCode.INPUT)
    docs: list[Document] = []
    for (kind, path), label in zip(parsed, _labels([p for _, p in parsed])):
        layout = kind or detect(path)
        if layout == "code" and _is_package_collection(path):
            layout = "packages"
        read = {"packages": package_documents, "code": tree_document, "prose": prose_documents}[layout]
        found = read(path, label, reader)
        say(f"{path}: {len(found)} {layout} documents")
        docs += found
    kept = [d for d in docs if d.chars() >= MIN_DOC_CHARS]
    reader.skipped["near-empty documents"] = len(docs) - len(kept)
    return _unique_names(kept)


def _unique_names(docs: list[Document]) -> list[Document]:
    """Names decide the split, so they must be unique; a repeat gets a `#n` suffix."""
    used: set[str] = set()
    for d in docs:
        name, n = d.name, 1
        while name in used:
            n += 1
            name = f"{d.name}#{n}"
        d.name = name
        used.add(name)
    return docs


# --- code ----------------------------------------------------------------------------------


def package_documents(root: Path, label: str, reader: _Reader) -> list[Document]:
    """One document per top-level package of a site-packages, stdlib or source tree; the
    loose top-level files (modules, for Python), each short alone, are packed together in
    name order. Each is collected on its own: one unreadable file must not lose the rest."""
    include = PYTHON_INCLUDE if _is_package_collection(root) else ()
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    docs = []
    for entry in entries:
        if entry.is_dir() and _is_package_dir(entry):
            files = _collect([entry], include, reader)
            docs.append(Document(f"{label}/{entry.name}", "code", str(root), reader.licenses.of_package(root, entry), files))
    modules = [p for p in entries if p.is_file() and (not include or p.suffix in (".py", ".pyi"))]
    files = [f for p in modules for f in _collect([p], (), reader)]
    for pack in _pack([(f.path, f) for f in files]):
        first, last = Path(pack[0][0]).stem, Path(pack[-1][0]).stem
        name = first if first == last else f"{first}..{last}"
        files = [f for _, f in pack]
        docs.append(Document(f"{label}/{name}", "code", str(root), reader.licenses.of_modules(root, files), files))
    return docs


def _is_package_dir(path: Path) -> bool:
    """Importable names only: dist-info, lib-dynload, config-3.x, a nested site-packages and
    `numpy.libs` hold no package sources, and their names are not identifiers."""
    return path.name.isidentifier() and path.name != "__pycache__"


def tree_document(root: Path, label: str, reader: _Reader) -> list[Document]:
    """A repository or source tree given directly: one document, as `ingest` would read it."""
    return [Document(label, "code", str(root), reader.licenses.of_tree(root), _collect([root], (), reader))]


def _collect(paths: Sequence[Path], include: Sequence[str], reader: _Reader) -> list[sources.SourceFile]:
    """The fresh readable files under `paths`; none when there is nothing readable."""
    if not paths:
        return []
    try:
        collection = sources.collect(paths, include=include, exclude=reader.exclude)
    except TTTReadError:
        return []
    return [f for f in collection.files if reader.is_fresh(f)]


def _pack(items: list[tuple[str, sources.SourceFile]]) -> list[list[tuple[str, sources.SourceFile]]]:
    """Consecutive (group, file) items packed into lists of at least TARGET_DOC_CHARS of text,
    never splitting a group; a short remainder joins the list before it."""
    packs: list[list] = []
    current: list = []
    size = 0
    for i, (group, f) in enumerate(items):
        current.append((group, f))
        size += len(f.text)
        group_ends = i + 1 == len(items) or items[i + 1][0] != group
        if group_ends and size >= TARGET_DOC_CHARS:
            packs.append(current)
            current, size = [], 0
    if current and packs:
        packs[-1] += current
    elif current:
        packs.append(current)
    return packs


# --- prose ---------------------------------------------------------------------------------


@dataclasses.dataclass
class _Piece:
    """One page of prose. Pieces are packed into documents within a `topic`, never splitting
    a `group` (the man pages of a section starting with one letter, one info manual...)."""

    topic: str
    group: str
    file: sources.SourceFile


def prose_documents(root: Path, label: str, reader: _Reader) -> list[Document]:
    """Man pages by section and first letter, info manuals whole, other trees (HTML, text,
    markdown) by top-level entry, HTML pages in the order of their `rel=next` links."""
    if _is_man_tree(root):
        pieces = _man_pieces(root, reader)
    elif _is_info_tree(root):
        pieces = _info_pieces(root, reader)
    else:
        pieces = _page_pieces(root, reader)
    pieces = [p for p in pieces if reader.is_fresh(p.file)]
    docs = []
    for topic in dict.fromkeys(p.topic for p in pieces):
        for pack in _pack([(p.group, p.file) for p in pieces if p.topic == topic]):
            first, last = pack[0][0], pack[-1][0]
            name = f"{label}/{first}" if first == last else f"{label}/{first}..{last}"
            files = [f for _, f in pack]
            docs.append(Document(name, "prose", str(root), reader.licenses.of_files(root, files), files))
    return docs


def _raw(path: Path, rel: str, reader: _Reader) -> tuple[bytes, str] | None:
    """A prose file's (decompressed) bytes and the sha256 of the bytes on disk; None for
    excluded, unreadable, oversized or already used files, checked before any rendering."""
    if reader.excluded(rel):
        reader.skip("excluded")
        return None
    try:
        if path.stat().st_size > MAX_PROSE_BYTES:
            reader.skip("binary or oversized")
            return None
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in reader.seen:
            reader.skip("duplicate content")
            return None
        if path.name.endswith(".gz"):
            with gzip.open(path) as f:
                data = f.read(MAX_PROSE_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile):
        reader.skip("unreadable")
        return None
    if len(data) > MAX_PROSE_BYTES or b"\0" in data[:8192]:
        reader.skip("binary or oversized")
        return None
    return data, digest


def _source_file(rel: str, digest: str, size: int, text: str) -> sources.SourceFile:
    return sources.SourceFile(rel, digest, size, "text", text)


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


# man pages


def _man_pieces(root: Path, reader: _Reader) -> list[_Piece]:
    """The English pages (manN/ directly under root, not the translations in de/, fr/...),
    rendered to plain text in parallel; `.so` alias stubs are left out."""
    found = []
    for section in sorted(p.name for p in root.iterdir() if re.fullmatch(r"man\d\w*", p.name) and p.is_dir()):
        for name in sorted(os.listdir(root / section), key=lambda n: (n.lower(), n)):  # letters stay together
            rel = f"{section}/{name}"
            raw = _raw(root / rel, rel, reader) if (root / rel).is_file() else None
            if raw is None:
                continue
            if raw[0].lstrip().startswith(b".so ") and raw[0].count(b"\n") <= 2:
                reader.skip("man page alias")
                continue
            found.append((section, rel, name, raw))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        texts = list(pool.map(render_man, (raw[0] for *_, raw in found)))
    return [
        _Piece(section, f"{section}/{name[0].lower()}", _source_file(rel, raw[1], len(raw[0]), text))
        for (section, rel, name, raw), text in zip(found, texts)
        if text.strip()
    ]


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
    return _tidy(done.stdout.decode("utf-8", errors="replace"))


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
    return _tidy("\n".join(lines))


# info manuals


def _info_part(name: str) -> tuple[str, int] | None:
    """(manual, part number) for `coreutils.info.gz` (0) or `find.info-2.gz` (2)."""
    match = re.fullmatch(r"(.+)\.info(?:-(\d+))?(?:\.gz)?", name)
    return (match[1], int(match[2] or 0)) if match else None


def _info_pieces(root: Path, reader: _Reader) -> list[_Piece]:
    """Each manual's parts in order; its group is the manual, so a manual is never split."""
    parts = sorted((_info_part(p.name), p.name) for p in root.iterdir() if p.is_file() and _info_part(p.name))
    pieces = []
    for (manual, _), name in parts:
        raw = _raw(root / name, name, reader)
        if raw is not None:
            text = info_text(raw[0].decode("utf-8", errors="replace"))
            if text.strip():
                pieces.append(_Piece("", manual, _source_file(name, raw[1], len(raw[0]), text)))
    return pieces


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
    return _tidy("\n".join(nodes))


# HTML, text and markdown trees


def _page_pieces(root: Path, reader: _Reader) -> list[_Piece]:
    """Every page of a documentation tree, grouped by top-level entry (a manual's directory,
    a package in /usr/share/doc), in reading order."""
    pages: dict[str, tuple[sources.SourceFile, str | None]] = {}
    for directory, names in _walk(root):
        for name in _page_names(names):
            rel = (directory / name).relative_to(root).as_posix()
            raw = _raw(directory / name, rel, reader)
            if raw is None:
                continue
            text, next_page = _page_text(name, raw[0])
            if text.strip():
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), next_page)) if next_page else None
                pages[rel] = (_source_file(rel, raw[1], len(raw[0]), text), target)
    order = reading_order(list(pages), {rel: nxt for rel, (_, nxt) in pages.items() if nxt in pages})
    return [_Piece("", rel.split("/")[0], pages[rel][0]) for rel in order]


def _page_names(names: list[str]) -> list[str]:
    """The pages worth reading in one directory: known prose suffixes, no index or
    boilerplate pages, and an .html page only when no text source of it sits next to it."""
    stems = {n.removesuffix(".gz").rsplit(".", 1)[0] for n in names if n.removesuffix(".gz").endswith(TEXT_SUFFIXES)}
    keep = []
    for name in names:
        suffix = _suffix(name)
        if suffix not in PROSE_SUFFIXES or SKIPPED_PROSE.fullmatch(name.removesuffix(".gz")):
            continue
        if suffix in (".html", ".htm") and name.removesuffix(".gz").rsplit(".", 1)[0] in stems:
            continue
        keep.append(name)
    return keep


def _page_text(name: str, data: bytes) -> tuple[str, str | None]:
    """A page's text and, for HTML, the href of its rel=next link."""
    text = data.decode("utf-8", errors="replace")
    if _suffix(name) not in (".html", ".htm"):
        return _tidy(text), None
    parser = HTMLText()
    parser.feed(text)
    parser.close()
    return parser.text(), parser.next_page


def reading_order(pages: list[str], next_of: dict[str, str]) -> list[str]:
    """Pages in the order their rel=next links chain them (Sphinx and DocBook link every page
    to the following one in the table of contents), the unlinked ones after in name order,
    then stably grouped by top-level entry in order of first appearance."""
    order: list[str] = []
    visited: set[str] = set()
    targets = set(next_of.values())
    for start in sorted(p for p in next_of if p not in targets):
        page = start
        while page is not None and page not in visited:
            visited.add(page)
            order.append(page)
            page = next_of.get(page)
    order += sorted(p for p in pages if p not in visited)
    first_seen: dict[str, int] = {}
    for i, page in enumerate(order):
        first_seen.setdefault(page.split("/")[0], i)
    return sorted(order, key=lambda page: first_seen[page.split("/")[0]])


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
        return _tidy("".join(self._out))


# --- licenses ------------------------------------------------------------------------------

_FAMILIES = [  # (family, pattern); LGPL and AGPL before GPL, whose \b keeps it out of them
    ("AGPL", r"\bAGPL|Affero General Public"),
    ("LGPL", r"\bLGPL|Lesser General Public|Library General Public"),
    ("GPL", r"\bGPL|GNU General Public"),
    ("GFDL", r"\bGFDL|Free Documentation License"),
    ("Apache", r"\bApache"),
    ("MPL", r"\bMPL\b|Mozilla Public"),
    ("PSF", r"\bPSF|Python Software Foundation License|PYTHON SOFTWARE FOUNDATION LICENSE|Python License"),
    ("MIT", r"\bMIT\b|Expat|Permission is hereby granted, free of charge"),
    ("BSD", r"\bBSD|Redistribution and use in source and binary forms"),
    ("ISC", r"\bISC\b"),
    ("Artistic", r"\bArtistic"),
    ("Zlib", r"\bZlib\b"),
    ("CC-BY", r"\bCC-BY|Creative Commons Attribution"),
    ("public-domain", r"[Pp]ublic [Dd]omain|\bCC0|Unlicense"),
]


def license_families(text: str) -> list[str]:
    """Every family a license expression or classifier names ("MIT OR Apache-2.0")."""
    return sorted({family for family, pattern in _FAMILIES if re.search(pattern, text)})


def license_family_of_text(text: str) -> str | None:
    """The family a license file names first: its title or its first distinctive sentence
    (later mentions are often exceptions or the licenses of bundled parts)."""
    hits = [(m.start(), family) for family, pattern in _FAMILIES if (m := re.search(pattern, text[:5000]))]
    return min(hits)[1] if hits else None


class _Licenses:
    """Best-effort license family of a document: the package's dist-info metadata, a LICENSE
    file at the top of its tree, or the copyright file of the Debian package owning it."""

    def __init__(self):
        self._dists: dict[Path, dict[str, str]] = {}
        self._owners: dict[str, str] | None = None
        self._debian: dict[str, str | None] = {}

    def of_package(self, root: Path, package: Path) -> str:
        return (
            self._distributions(root).get(package.name)
            or _license_file(package)
            or _license_file(root)
            or self._debian_family(package)
            or "unknown"
        )

    def of_tree(self, root: Path) -> str:
        return _license_file(root) or self._debian_family(root) or "unknown"

    def of_modules(self, root: Path, files: list[sources.SourceFile]) -> str:
        """Loose top-level modules: every family of the distributions they belong to."""
        return _union(self.of_package(root, root / Path(f.path).stem) for f in files)

    def of_files(self, root: Path, files: list[sources.SourceFile]) -> str:
        """Pages of a documentation tree: every family of the Debian packages they came from."""
        families = _union(self._debian_family(root / f.path) or "unknown" for f in files)
        return (_license_file(root) or "unknown") if families == "unknown" else families

    def _distributions(self, root: Path) -> dict[str, str]:
        """Top-level name -> family for every *.dist-info in a site-packages directory."""
        if root not in self._dists:
            self._dists[root] = {}
            for info in sorted(root.glob("*.dist-info")):
                family = _dist_family(info)
                for name in _top_level_names(info):
                    self._dists[root].setdefault(name, family)
        return self._dists[root]

    def _debian_family(self, path: Path) -> str | None:
        package = self._owner(path)
        if package is None:
            return None
        if package not in self._debian:
            copyright_file = Path("/usr/share/doc") / package / "copyright"
            try:
                text = copyright_file.read_text(errors="replace")
            except OSError:
                text = ""
            self._debian[package] = _dep5_family(text) if text.startswith("Format:") else license_family_of_text(text)
        return self._debian[package] or None

    def _owner(self, path: Path) -> str | None:
        """The Debian package that installed `path`, from dpkg's file lists."""
        if self._owners is None:
            self._owners = {}
            for listing in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
                package = listing.stem.split(":")[0]
                for line in listing.read_text(errors="replace").splitlines():
                    self._owners.setdefault(line, package)
        return self._owners.get(str(path)) or self._owners.get(os.path.realpath(path))


def _union(families: Iterable[str]) -> str:
    """`Apache/MIT` and `BSD` give `Apache/BSD/MIT`; "unknown" only when nothing is known."""
    known = {part for family in families for part in family.split("/")} - {"unknown"}
    return "/".join(sorted(known)) or "unknown"


def _dep5_family(text: str) -> str | None:
    """The family of a machine-readable Debian copyright file's first `License:` (the one of
    `Files: *`). A name that is no family ("Go") is looked up in its stand-alone paragraph,
    and kept as it is ("PostgreSQL") when that names no family either."""
    field = re.search(r"^License:[ \t]*(\S.*)$", text, re.M)
    if field is None:
        return license_family_of_text(text)
    named = license_families(field[1])
    if named:
        return "/".join(named)
    paragraph = re.search(rf"^License:[ \t]*{re.escape(field[1].strip())}[ \t]*\n((?:[ \t].*\n?)+)", text, re.M)
    return license_family_of_text(paragraph[1] if paragraph else "") or field[1].strip()


def _dist_family(info: Path) -> str:
    try:
        headers = email.parser.HeaderParser().parsestr((info / "METADATA").read_text(errors="replace"))
    except OSError:
        return "unknown"
    named = [headers.get("License-Expression", "")] + [c for c in headers.get_all("Classifier", []) if c.startswith("License ::")]
    families = license_families(" ; ".join(named))
    if not families and headers.get("License"):
        family = license_family_of_text(headers["License"])
        families = [family] if family else []
    return "/".join(families) or "unknown"


def _top_level_names(info: Path) -> list[str]:
    """The importable names a distribution installs: top_level.txt, else its RECORD."""
    try:
        return (info / "top_level.txt").read_text().split()
    except OSError:
        pass
    try:
        lines = (info / "RECORD").read_text(errors="replace").splitlines()
    except OSError:
        return []
    firsts = {line.split(",")[0].split("/")[0] for line in lines}
    return sorted({Path(f).stem if f.endswith(".py") else f for f in firsts if f and not f.endswith((".dist-info", ".."))})


def _license_file(directory: Path) -> str | None:
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENSE.rst", "COPYING", "COPYING.txt", "LICENCE"):
        try:
            family = license_family_of_text((directory / name).read_text(errors="replace"))
        except OSError:
            continue
        if family:
            return family
    return None


# --- tokens ---------------------------------------------------------------------------------


def _unit(text: str) -> float:
    """A stable pseudo-random number in [0, 1) for a name: splits must not depend on order."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def tokenizer_sample(docs: Sequence[Document], val_fraction: float) -> tuple[list[str], set[str]]:
    """About TOKENIZER_SAMPLE_CHARS of rendered files, picked by hash across the documents
    hashing above TOKENIZER_BAND (all train documents if none do), so validation documents,
    including the ones promoted to validation later, never shape the tokenizer. Returns the
    texts and the names of the documents that contributed."""
    pool = [d for d in docs if _unit(d.name) >= TOKENIZER_BAND] or [d for d in docs if _unit(d.name) >= val_fraction]
    rate = TOKENIZER_SAMPLE_CHARS / max(1, sum(d.chars() for d in pool))
    texts, used = [], set()
    for d in pool:
        for i, part in enumerate(d.parts()):
            if _unit(f"{d.name}\0{i}") < rate:
                texts.append(part)
                used.add(d.name)
    return texts, used


def _tokenizer(docs: Sequence[Document], vocab_size: int, tokenizer_path: Path | None, val_fraction: float, out_dir: Path, say):
    """Load the given tokenizer or train one on a sample of train documents; either way it is
    written to the output directory so the corpus is self-contained."""
    if tokenizer_path is not None:
        tokenizer = tok.load(tokenizer_path)
        (out_dir / "tokenizer.json").write_bytes(Path(tokenizer_path).read_bytes())
        return tokenizer, set(), 0
    texts, used = tokenizer_sample(docs, val_fraction)
    if not texts:
        raise TTTReadError("no training documents to train the tokenizer on", ExitCode.INPUT)
    say(f"training a {vocab_size}-token BPE on {sum(map(len, texts)) / 1e6:.1f}M characters")
    tokenizer = tok.train(texts, vocab_size)
    tokenizer.save(str(out_dir / "tokenizer.json"))
    return tokenizer, used, sum(map(len, texts))


def encode(tokenizer, doc: Document) -> np.ndarray:
    encodings = tokenizer.encode_batch(doc.parts(), add_special_tokens=False)
    return np.concatenate([np.asarray(e.ids, dtype="<u2") for e in encodings])


def _encode_all(tokenizer, docs: Sequence[Document], say: Callable[[str], None]) -> list[np.ndarray]:
    """Every document's ids, reporting progress about every tenth of the characters."""
    total, done, reported = sum(d.chars() for d in docs), 0, 0
    say(f"tokenizing {len(docs)} documents, {total / 1e6:.1f}M characters")
    arrays = []
    for d in docs:
        arrays.append(encode(tokenizer, d))
        done += d.chars()
        if done - reported >= total / 10:
            reported = done
            say(f"tokenized {done / total:.0%}, {sum(map(len, arrays)) / 1e6:.1f}M tokens so far")
    return arrays


def water_level(lengths: Sequence[int], budget: int) -> int:
    """The largest per-document cap c with sum(min(length, c)) <= budget: the longest
    documents are shortened first and every document keeps its beginning."""
    lengths = np.asarray(lengths, dtype=np.int64)
    low, high = 0, int(lengths.max(initial=0))
    while low < high:
        mid = (low + high + 1) // 2
        if np.minimum(lengths, mid).sum() <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def truncate(ids: np.ndarray, limit: int, file_id: int) -> np.ndarray:
    """The first `limit` ids at most, cut before a `<|file|>` header when one lies in the
    second half, so the document ends with a whole file."""
    headers = np.flatnonzero(ids[: limit + 1] == file_id)
    cut = int(headers[-1]) if len(headers) and headers[-1] > limit // 2 else limit
    return ids[:cut]


def assign_splits(
    docs: Sequence[Document],
    lengths: Sequence[int],
    val_fraction: float,
    minimum: dict[str, int],
    min_tokens: int,
    shaped: set[str],
) -> tuple[list[str], dict[str, int]]:
    """Whole documents to "train" or "val": val when the name hashes below val_fraction, plus
    long documents (>= min_tokens) of each kind promoted in hash order until `minimum[kind]`
    long ones are in val. Documents that shaped the tokenizer are never promoted. Returns the
    splits and, per kind, how many long val documents were missing."""
    split = ["val" if _unit(d.name) < val_fraction else "train" for d in docs]
    shortfall = {}
    for kind, wanted in minimum.items():
        long = [i for i, d in enumerate(docs) if d.kind == kind and lengths[i] >= min_tokens]
        have = sum(split[i] == "val" for i in long)
        promotable = [i for i in long if split[i] == "train" and docs[i].name not in shaped]
        candidates = sorted(promotable, key=lambda i: _unit(docs[i].name))
        for i in candidates[: max(0, wanted - have)]:
            split[i] = "val"
        missing = wanted - have - len(candidates[: max(0, wanted - have)])
        if missing > 0:
            shortfall[kind] = missing
    return split, shortfall


def _write_split(path: Path, arrays: list[np.ndarray], eot: int) -> tuple[list[int], int, str]:
    """`<|endoftext|>`, then each document followed by `<|endoftext|>`; returns each
    document's offset, the total ids written and the file's sha256. Written beside and
    renamed, so a bin is either complete or absent."""
    marker = np.array([eot], dtype="<u2").tobytes()
    digest = hashlib.sha256(marker)
    offsets, position = [], 1
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        f.write(marker)
        for ids in arrays:
            offsets.append(position)
            for chunk in (ids.astype("<u2").tobytes(), marker):
                f.write(chunk)
                digest.update(chunk)
            position += len(ids) + 1
    os.replace(partial, path)
    return offsets, position, digest.hexdigest()


def build_corpus(
    sources: Sequence[Path | str],
    out_dir: Path,
    vocab_size: int = 16384,
    tokenizer_path: Path | None = None,
    val_fraction: float = 0.05,
    min_val_code: int = 5,
    min_val_prose: int = 3,
    max_tokens: int | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    min_val_tokens: int = MIN_VAL_TOKENS,
    exclude: Sequence[str] = (),
) -> dict:
    """Read `sources` (directories, optionally `code=`/`packages=`/`prose=` prefixed) into
    documents, tokenize them, split them and write the corpus to `out_dir`; return the manifest.

    `max_tokens` caps the documents' total: the longest documents are cut (at a file boundary)
    to a common length until the total fits. `exclude` takes gitignore-style globs on paths
    inside a source (e.g. `gcloud*` for generated man pages).
    """
    say = progress or (lambda message: None)
    if not 0 <= val_fraction < TOKENIZER_BAND:
        raise TTTReadError(f"val fraction must be in [0, {TOKENIZER_BAND}), not {val_fraction}", ExitCode.USAGE)
    reader = _Reader(exclude)
    docs = read_documents(sources, reader, say)
    if not docs:
        raise TTTReadError("the sources hold no documents long enough to train on", ExitCode.INPUT)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)  # a build that fails leaves no corpus behind
    tokenizer, shaped, sample_chars = _tokenizer(docs, vocab_size, tokenizer_path, val_fraction, out_dir, say)
    eot, file_id = tokenizer.token_to_id(tok.END_OF_TEXT), tokenizer.token_to_id(tok.FILE)
    if eot is None or file_id is None or tokenizer.get_vocab_size() > 2**16:
        raise TTTReadError("the tokenizer lacks the special tokens or has more than 65536 ids", ExitCode.USAGE)

    arrays = _encode_all(tokenizer, docs, say)
    full = [len(a) for a in arrays]
    if max_tokens is not None and sum(full) > max_tokens:
        level = water_level(full, max_tokens)
        say(f"capping documents at {level} tokens to fit {max_tokens}")
        arrays = [truncate(a, level, file_id) if len(a) > level else a for a in arrays]
    lengths = [len(a) for a in arrays]
    minimum = {"code": min_val_code, "prose": min_val_prose}
    split, shortfall = assign_splits(docs, lengths, val_fraction, minimum, min_val_tokens, shaped)
    if "train" not in split:
        raise TTTReadError("every document went to validation; lower the val fraction", ExitCode.USAGE)

    entries = [_entry(d, s, n, f) for d, s, n, f in zip(docs, split, lengths, full)]
    splits = {}
    for name in ("train", "val"):
        chosen = [i for i, s in enumerate(split) if s == name]
        offsets, total, digest = _write_split(out_dir / f"{name}.bin", [arrays[i] for i in chosen], eot)
        for i, offset in zip(chosen, offsets):
            entries[i]["offset"] = offset
        splits[name] = {"file": f"{name}.bin", "dtype": "<u2", "ids": total, "documents": len(chosen), "sha256": digest}
        say(f"{name}: {len(chosen)} documents, {total} ids")
    manifest = {
        "format": FORMAT,
        "params": {
            "sources": [str(s) for s in sources],
            "vocab_size": vocab_size,
            "tokenizer_path": None if tokenizer_path is None else str(tokenizer_path),
            "val_fraction": val_fraction,
            "min_val_code": min_val_code,
            "min_val_prose": min_val_prose,
            "min_val_tokens": min_val_tokens,
            "max_tokens": max_tokens,
            "exclude": list(exclude),
        },
        "tokenizer": {
            "file": "tokenizer.json",
            "vocab_size": tokenizer.get_vocab_size(),
            "trained": tokenizer_path is None,
            "sample_chars": sample_chars,
            "sha256": hashlib.sha256((out_dir / "tokenizer.json").read_bytes()).hexdigest(),
        },
        "splits": splits,
        "totals": {kind: _totals([e for e in entries if e["kind"] == kind]) for kind in ("code", "prose")}
        | {"all": _totals(entries)},
        "val_shortfall": shortfall,
        "skipped": dict(sorted(reader.skipped.items())),
        "documents": entries,
    }
    partial = out_dir / "manifest.json.partial"
    partial.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    os.replace(partial, out_dir / "manifest.json")
    return manifest


def _entry(doc: Document, split: str, tokens: int, full: int) -> dict:
    """A document's manifest entry; its `offset` in the split's bin is added when written."""
    entry = {"name": doc.name, "kind": doc.kind, "source": doc.source, "license": doc.license, "split": split}
    entry |= {"files": len(doc.files), "chars": doc.chars(), "tokens": tokens}
    return entry | ({"truncated_from": full} if full != tokens else {})


def _totals(entries: list[dict]) -> dict:
    by_split = {s: sum(e["tokens"] for e in entries if e["split"] == s) for s in ("train", "val")}
    return {"documents": len(entries), "tokens": sum(by_split.values()), **{f"{s}_tokens": n for s, n in by_split.items()}}


# --- reading a built corpus -----------------------------------------------------------------


class TokenCorpus:
    """One split of a built corpus, memory-mapped: its documents and windows inside them."""

    def __init__(self, directory: Path, split: str = "train"):
        directory = Path(directory)
        self.manifest = json.loads((directory / "manifest.json").read_text())
        if self.manifest.get("format") != FORMAT:
            raise TTTReadError(f"{directory}: not a ttt-read corpus ({FORMAT})", ExitCode.INPUT)
        self.split = split
        self.tokens = np.memmap(directory / self.manifest["splits"][split]["file"], dtype="<u2", mode="r")
        self.documents = [d for d in self.manifest["documents"] if d["split"] == split]
        self._offsets = np.array([d["offset"] for d in self.documents], dtype=np.int64)
        self._lengths = np.array([d["tokens"] for d in self.documents], dtype=np.int64)
        self._cumulative: dict[int, np.ndarray] = {}

    def sample(self, rng: np.random.Generator, length: int) -> np.ndarray:
        """`length + 1` consecutive ids (inputs and next-token targets) from inside one
        document. Every such window in the split is equally likely, so a document is drawn in
        proportion to its number of windows (its length minus `length`); documents with fewer
        than `length + 1` ids are never drawn."""
        if length not in self._cumulative:
            self._cumulative[length] = np.cumsum(np.maximum(self._lengths - length, 0))
        cumulative = self._cumulative[length]
        if not len(cumulative) or cumulative[-1] == 0:
            raise ValueError(f"no {self.split} document has {length + 1} tokens")
        pick = int(rng.integers(cumulative[-1]))
        doc = int(np.searchsorted(cumulative, pick, side="right"))
        start = self._offsets[doc] + pick - (cumulative[doc] - (self._lengths[doc] - length))
        return np.array(self.tokens[start : start + length + 1], dtype=np.int64)

    def iter_documents(self) -> Iterator[tuple[dict, np.ndarray]]:
        """Each document's manifest entry and its ids (a read-only view), in bin order."""
        for d in self.documents:
            yield d, self.tokens[d["offset"] : d["offset"] + d["tokens"]]
