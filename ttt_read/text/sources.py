"""Turn the paths given to `ttt-read ingest` into a deterministic list of files and one text.

Reading a codebase into weights is only reproducible if the same tree always yields the same
text, so files come in a fixed order, ignored files (.gitignore, .git/info/exclude, .git/) stay
out, and anything that is not readable text is recorded as a `Skip` rather than guessed at.
A bad file inside a directory never stops the run; a bad path named on the command line does.
The only thing written is the PDF text cache (`cache_dir`, when given: text extracted from a
PDF, keyed by the file's sha256), and never inside a directory being read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError, Unreadable
from ttt_read.text.ignore import Filters, IgnoreRules, read_lines
from ttt_read.text.pdf import PDF_MAGIC, PdfTextCache, is_pdf, pdf_text
from ttt_read.text.tokenizer import file_header

PAGE_MARK = re.compile(r"(?m)^\[page (\d+)\]$")  # the line before each page of a PDF's text

BINARY_SNIFF_BYTES = 8192
# Raw bytes per PDF: PDFs get their own cap, larger than text files', since compressed streams,
# fonts and images make a PDF big for its text; `pdf.PDF_TEXT_LIMIT` bounds what comes out.
PDF_MAX_BYTES = 64_000_000
TEXT_MAX_BYTES = 2_000_000  # per text file: a larger one is data or generated, not reading


@dataclass(frozen=True)
class SourceFile:
    path: str  # display path, posix style
    sha256: str  # of the raw bytes on disk
    bytes: int
    kind: str  # "text" or "pdf"
    text: str


@dataclass(frozen=True)
class Skip:
    path: str
    reason: str


@dataclass(frozen=True)
class Collection:
    files: list[SourceFile]
    skipped: list[Skip]

    def render(self) -> str:
        """The one text the model reads: each file introduced by its header line."""
        parts = []
        for f in self.files:
            parts.append(file_header(f.path) + f.text + ("" if f.text.endswith("\n") else "\n"))
        return "".join(parts)

    def manifest(self) -> list[dict]:
        """What was read and what was left out, for the snapshot's metadata."""
        read = [{"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "kind": f.kind} for f in self.files]
        return read + [{"path": s.path, "skipped": s.reason} for s in self.skipped]


# --- walking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A path that will be read, or that is already known to be unreadable (`problem`).
    `display` is relative to the root while walking; the collector adds the root's label."""

    display: str
    path: Path
    problem: str | None = None


@dataclass
class _Walk:
    candidates: list[_Candidate]
    hidden: int  # entries .gitignore or .git/info/exclude left out


def _walk(root: Path) -> _Walk:
    """Every file under root that git would not ignore, depth first in name order.

    Directory symlinks are followed; one that leads back to a directory being walked (or
    above it) is a "symlink loop", and a directory reached twice is walked once.
    """
    walk = _Walk([], 0)
    root_real = os.path.realpath(root)
    rules = IgnoreRules().extended(read_lines(root / ".git" / "info" / "exclude"))
    visited = {root_real}
    stack = [(root, "", rules, (root_real,))]
    while stack:
        directory, rel, rules, chain = stack.pop()
        rules = rules.extended(read_lines(directory / ".gitignore"), base=rel)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            if not rel:
                raise
            walk.candidates.append(_Candidate(rel, directory, _os_reason(e)))
            continue
        subdirs = []
        for entry in entries:
            if entry.name == ".git":
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name  # git's rules see the raw name
            is_dir = _is_dir(entry)
            if rules.ignores(child, is_dir):
                walk.hidden += 1
            elif not is_dir:
                walk.candidates.append(_Candidate(child, Path(entry.path)))
            else:
                real = os.path.realpath(entry.path)
                if any(_within(ancestor, real) for ancestor in chain):
                    walk.candidates.append(_Candidate(child, Path(entry.path), "symlink loop"))
                elif real not in visited:
                    visited.add(real)
                    subdirs.append((Path(entry.path), child, rules, chain + (real,)))
        stack.extend(reversed(subdirs))
    return walk


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # e.g. a symlink to itself; reading it reports why
        return False


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


# --- reading ------------------------------------------------------------------------------


def _os_reason(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(e, PermissionError):
        return "unreadable: permission denied"
    return f"unreadable: {e.strerror or e}"


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    if n >= 1_000:
        return f"{n / 1e3:.1f} kB"
    return f"{n} bytes"


def _too_large(cap: int, pdf: bool) -> Unreadable:
    return Unreadable(f"larger than {_size(cap)} {'PDF cap' if pdf else 'cap'}")


def _read_bytes(path: Path, max_bytes: int, max_pdf_bytes: int | None = None) -> bytes:
    """The file's bytes, refusing non-regular files before opening them (a FIFO would block).

    A PDF (by its name or its first bytes) is capped at `max_pdf_bytes`, anything else at
    `max_bytes`; a file over its cap is refused by its size before it is read."""
    pdf_cap = max_bytes if max_pdf_bytes is None else max_pdf_bytes
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("broken symlink" if os.path.islink(path) else "no such file or directory") from None
    except OSError as e:
        raise Unreadable(_os_reason(e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable("not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat above
                raise Unreadable("not a regular file")
            head = f.read(len(PDF_MAGIC))
            pdf = is_pdf(path, head)
            cap = pdf_cap if pdf else max_bytes
            if st.st_size > cap:
                raise _too_large(cap, pdf)
            data = head + f.read(max(cap + 1 - len(head), 0))
    except OSError as e:
        raise Unreadable(_os_reason(e)) from None
    if len(data) > cap:
        raise _too_large(cap, pdf)
    if not data:
        raise Unreadable("empty file")
    return data


def _decode_text(data: bytes) -> str:
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise Unreadable("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not valid UTF-8 text") from None
    if not text:
        raise Unreadable("empty file")
    return text


def read_file(
    path: Path,
    display: str,
    max_file_bytes: int,
    max_pdf_bytes: int = PDF_MAX_BYTES,
    pdf_cache: PdfTextCache | None = None,
) -> SourceFile | Skip:
    """One file as a SourceFile, or a Skip saying why it cannot be read."""
    try:
        data = _read_bytes(path, max_file_bytes, max_pdf_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        kind = "pdf" if is_pdf(path, data) else "text"
        text = pdf_text(data, sha256, pdf_cache) if kind == "pdf" else _decode_text(data)
    except Unreadable as e:
        return Skip(display, str(e))
    return SourceFile(display, sha256, len(data), kind, text)


# --- collecting ---------------------------------------------------------------------------


def root_labels(paths: Sequence[Path]) -> list[str]:
    """The prefix of each root's display paths when several roots are given: its name, or the
    path as given where two roots share a name."""
    names = [Path(os.path.abspath(p)).name or str(p) for p in paths]
    counts = Counter(names)
    return [name if counts[name] == 1 else Path(os.path.normpath(p)).as_posix() for name, p in zip(names, paths)]


def _printable(display: str) -> str:
    """File names that are not UTF-8 shown with backslash escapes, so the text stays encodable."""
    return display.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _summary(skips: list[Skip]) -> str:
    counts = Counter(s.reason.split(":")[0] for s in skips)
    parts = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"no readable files ({len(skips)} skipped: {parts})"


def collect(
    paths: Sequence[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    max_file_bytes: int = TEXT_MAX_BYTES,
    max_pdf_bytes: int = PDF_MAX_BYTES,
    cache_dir: Path | None = None,
) -> Collection:
    """Read every path (files and directories) into one Collection.

    `cache_dir`: keep and reuse extracted PDF text there (never written when it lies inside a
    directory being read, or holds one).

    Raises TTTReadError(ExitCode.INPUT) for a missing path, a file given directly that cannot
    be read, a directory with nothing readable in it, or when the filters leave nothing at all.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise TTTReadError("no paths to read", ExitCode.USAGE)
    for path in paths:
        if not os.path.lexists(path):
            raise TTTReadError(f"{path}: no such file or directory", ExitCode.INPUT)
    labels = root_labels(paths) if len(paths) > 1 else [None] * len(paths)
    cache = None
    if cache_dir is not None:
        cache_real = os.path.realpath(cache_dir)
        roots = [os.path.realpath(p) for p in paths if os.path.isdir(p)]
        inside = any(_within(cache_real, r) or _within(r, cache_real) for r in roots)
        cache = PdfTextCache(Path(cache_dir), writable=not inside)
    collector = _Collector(Filters(include, exclude), max_file_bytes, max_pdf_bytes, cache)
    for path, label in zip(paths, labels):
        collector.add_root(path, label)
    if not collector.files:
        names = ", ".join(str(p) for p in paths)
        raise TTTReadError(f"{names}: no files match --include/--exclude", ExitCode.INPUT)
    return Collection(collector.files, collector.skipped)


class _Collector:
    """Reads roots one after another, each real file once, in sorted order within a root."""

    def __init__(self, filters: Filters, max_file_bytes: int, max_pdf_bytes: int = PDF_MAX_BYTES, pdf_cache=None):
        self.filters = filters
        self.max_file_bytes = max_file_bytes
        self.max_pdf_bytes = max_pdf_bytes
        self.pdf_cache = pdf_cache
        self.files: list[SourceFile] = []
        self.skipped: list[Skip] = []
        self.seen: dict[str, SourceFile | Skip] = {}  # real path -> what reading it gave

    def add_root(self, path: Path, label: str | None) -> None:
        """Add one root's files; raise if the root itself yields nothing readable."""
        if not os.path.isdir(path):
            self._add_file_root(path, label)
            return
        try:
            walk = _walk(path)
        except OSError as e:
            raise TTTReadError(f"{path}: {_os_reason(e)}", ExitCode.INPUT) from None
        if not walk.candidates:
            reason = "no files to read (all ignored by .gitignore)" if walk.hidden else "empty directory"
            raise TTTReadError(f"{path}: {reason}", ExitCode.INPUT)
        prefix = f"{label.rstrip('/')}/" if label else ""
        candidates = [_Candidate(_printable(prefix + c.display), c.path, c.problem) for c in walk.candidates]
        kept = [c for c in sorted(candidates, key=lambda c: c.display) if self.filters.keep(c.display)]
        outcomes = [self._read(c) for c in kept]
        if kept and not any(isinstance(o, SourceFile) for o in outcomes):
            raise TTTReadError(f"{path}: {_summary(outcomes)}", ExitCode.INPUT)

    def _add_file_root(self, path: Path, label: str | None) -> None:
        candidate = _Candidate(_printable(label or path.name), path)
        if self.filters.keep(candidate.display):
            outcome = self._read(candidate)
            if isinstance(outcome, Skip):
                raise TTTReadError(f"{path}: {outcome.reason}", ExitCode.INPUT)

    def _read(self, candidate: _Candidate) -> SourceFile | Skip:
        """Read a candidate once per real path; a second reach returns the first result."""
        if candidate.problem:
            skip = Skip(candidate.display, candidate.problem)
            self.skipped.append(skip)
            return skip
        real = os.path.realpath(candidate.path)
        if real not in self.seen:
            result = read_file(
                candidate.path, candidate.display, self.max_file_bytes, self.max_pdf_bytes, self.pdf_cache
            )
            (self.files if isinstance(result, SourceFile) else self.skipped).append(result)
            self.seen[real] = result
        return self.seen[real]
