"""Training documents: what a source directory holds, read into long documents.

A document is something long that is read as a whole: one installed Python package (or
stdlib package, or source tree), or a manual in reading order (a Sphinx/DocBook HTML tree,
the man pages of one section, an info manual). Every file is rendered exactly as
`ttt-read ingest` renders a directory, so the model is trained on the format it reads.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gzip
import hashlib
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.text import filekinds, ignore, sources
from ttt_read.text import tokenizer as tok
from ttt_read.train.licenses import Licenses
from ttt_read.train.render import HTMLText, info_text, render_man, tidy

# A Python package document holds sources and their docs, not data files or build artifacts.
PYTHON_INCLUDE = ("*.py", "*.pyi", "*.md", "*.rst", "*.txt")
HTML_SUFFIXES = (".html", ".htm")
PAGE_SUFFIXES = filekinds.PROSE_SUFFIXES | set(HTML_SUFFIXES)  # what a documentation tree's pages can be
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text")  # preferred over an .html of the same page
# Index, search and table-of-contents pages are lists of links, not text; changelogs and
# license texts are boilerplate that every Debian package repeats.
SKIPPED_PROSE = re.compile(
    r"(genindex.*|.*modindex|search|bookindex|contents)\.html?|changelog.*|copyright|licen[cs]e.*|copying.*", re.I
)
TARGET_DOC_CHARS = 200_000  # ~50K tokens: short pieces are packed until a document is this long
MIN_DOC_CHARS = 4_000  # ~1K tokens: a shorter document cannot supply a training window
MAX_PROSE_BYTES = 20_000_000  # per file after decompression, against gzip bombs


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


class SourceFilter:
    """What all sources share: content hashes already used (dedup), exclude globs, skip counts."""

    def __init__(self, exclude: Sequence[str]):
        self.exclude = list(exclude)
        self._patterns = [p for p in map(ignore.parse_pattern, exclude) if p is not None]  # as `ingest --exclude`
        self.seen: set[str] = set()
        self.skipped: dict[str, int] = {}
        self.licenses = Licenses()

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
        return ignore.any_match(self._patterns, rel)

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
            code += filekinds.is_code(name)
            prose += filekinds.suffix(name) in PAGE_SUFFIXES
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


def _walk(root: Path, limit: int | None = None) -> Iterator[tuple[Path, list[str]]]:
    """Directories and their file names in name order, without following directory symlinks
    (Debian doc trees link into each other) or entering hidden and `_static`-style dirs."""
    for count, (directory, dirs, files) in enumerate(os.walk(root)):
        if limit is not None and count >= limit:
            return
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        yield Path(directory), sorted(f for f in files if not f.startswith("."))


def read_documents(specs: Sequence[Path | str], reader: SourceFilter, say: Callable[[str], None]) -> list[Document]:
    """Every source's documents, in the order given (earlier sources win duplicate files),
    without near-empty documents."""
    parsed = [parse_source(s) for s in specs]
    for _, path in parsed:
        if not path.is_dir():
            raise TTTReadError(f"{path}: not a directory", ExitCode.INPUT)
    docs: list[Document] = []
    labels = [label.lstrip("/") for label in sources.root_labels([p.resolve() for _, p in parsed])]
    for (kind, path), label in zip(parsed, labels):
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


def package_documents(root: Path, label: str, reader: SourceFilter) -> list[Document]:
    """One document per top-level package of a site-packages, stdlib or source tree; the
    loose top-level files (modules, for Python), each short alone, are packed together in
    name order. Each is collected on its own: one unreadable file must not lose the rest."""
    include = PYTHON_INCLUDE if _is_package_collection(root) else ()
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    docs = []
    for entry in entries:
        if entry.is_dir() and _is_package_dir(entry):
            files = _collect([entry], include, reader)
            docs.append(
                Document(f"{label}/{entry.name}", "code", str(root), reader.licenses.of_package(root, entry), files)
            )
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


def tree_document(root: Path, label: str, reader: SourceFilter) -> list[Document]:
    """A repository or source tree given directly: one document, as `ingest` would read it."""
    return [Document(label, "code", str(root), reader.licenses.of_tree(root), _collect([root], (), reader))]


def _collect(paths: Sequence[Path], include: Sequence[str], reader: SourceFilter) -> list[sources.SourceFile]:
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


def prose_documents(root: Path, label: str, reader: SourceFilter) -> list[Document]:
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


def _raw(path: Path, rel: str, reader: SourceFilter) -> tuple[bytes, str] | None:
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


# man pages


def _man_pieces(root: Path, reader: SourceFilter) -> list[_Piece]:
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


# info manuals


def _info_part(name: str) -> tuple[str, int] | None:
    """(manual, part number) for `coreutils.info.gz` (0) or `find.info-2.gz` (2)."""
    match = re.fullmatch(r"(.+)\.info(?:-(\d+))?(?:\.gz)?", name)
    return (match[1], int(match[2] or 0)) if match else None


def _info_pieces(root: Path, reader: SourceFilter) -> list[_Piece]:
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


# HTML, text and markdown trees


def _page_pieces(root: Path, reader: SourceFilter) -> list[_Piece]:
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
        suffix = filekinds.suffix(name)
        if suffix not in PAGE_SUFFIXES or SKIPPED_PROSE.fullmatch(name.removesuffix(".gz")):
            continue
        if suffix in HTML_SUFFIXES and name.removesuffix(".gz").rsplit(".", 1)[0] in stems:
            continue
        keep.append(name)
    return keep


def _page_text(name: str, data: bytes) -> tuple[str, str | None]:
    """A page's text and, for HTML, the href of its rel=next link."""
    text = data.decode("utf-8", errors="replace")
    if filekinds.suffix(name) not in HTML_SUFFIXES:
        return tidy(text), None
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
