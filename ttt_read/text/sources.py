"""Turn the paths given to `ttt-read ingest` into a deterministic list of files and one text.

Reading a codebase into weights is only reproducible if the same tree always yields the same
text, so files come in a fixed order, ignored files (.gitignore, .git/info/exclude, .git/) stay
out, and anything that is not readable text is recorded as a `Skip` rather than guessed at.
A bad file inside a directory never stops the run; a bad path named on the command line does.
The only thing written is the PDF text cache (`cache_dir`, when given: text extracted from a
PDF, keyed by the file's sha256), and never inside a directory being read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import re
import stat
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.text.tokenizer import file_header

PAGE_MARK = re.compile(r"(?m)^\[page (\d+)\]$")  # the line before each page of a PDF's text

BINARY_SNIFF_BYTES = 8192
PDF_TEXT_LIMIT = 50_000_000  # characters of extracted text per PDF, against decompression bombs
PDF_TIME_BUDGET_S = 20.0  # wall seconds of extraction per PDF
# Raw bytes per PDF: PDFs get their own cap, larger than text files', since compressed streams,
# fonts and images make a PDF big for its text; the text limit above bounds what comes out.
PDF_MAX_BYTES = 64_000_000
TEXT_MAX_BYTES = 2_000_000  # per text file: a larger one is data or generated, not reading
PDF_CACHE_VERSION = 2  # bump when extraction changes what text a PDF gives
# Glyphs a typesetter substitutes for plain characters (groff's man pages: `−x` with a minus
# sign, `ﬁle` with a ligature, `˜/.bashrc` with a spacing tilde), mapped back so a question
# typed on a keyboard finds them and the model reads the text it was trained on.
TYPESET_CHARACTERS = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u2212": "-",  # minus sign
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u00ad": "",  # soft hyphen
        "\u02dc": "~",  # small tilde
        "\u02c6": "^",  # modifier circumflex
    }
)


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


# --- gitignore-style patterns -------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """One gitignore pattern, relative to the directory `base` ("" for the root)."""

    regex: re.Pattern
    negated: bool
    dir_only: bool
    anchored: bool  # a slash before the end: match the whole path below base, not a name
    base: str = ""

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1 :]
        target = path if self.anchored else path.rpartition("/")[2]
        return self.regex.fullmatch(target) is not None


def parse_pattern(line: str, base: str = "") -> Pattern | None:
    """A gitignore line as a Pattern, or None for blank lines and comments."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    return Pattern(re.compile(glob_to_regex(line), re.DOTALL), negated, dir_only, anchored, base)


def glob_to_regex(glob: str) -> str:
    """Git's wildmatch as a regex: `*`, `?` and `[...]` stay inside one path component,
    `**` spans components only as a whole component (`**/x`, `x/**`, `x/**/y`)."""
    out = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            whole_component = j - i >= 2 and (i == 0 or glob[i - 1] == "/") and (j == n or glob[j] == "/")
            if not whole_component:
                out.append("[^/]*")
            elif j == n:
                out.append(".*")
            else:
                out.append("(?:.*/)?")
                j += 1  # the slash is part of the optional group
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _char_class(glob, i)
            out.append(cls)
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _char_class(glob: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression at glob[start]; a `[` without a closing `]` is literal."""
    i = start + 1
    negated = i < len(glob) and glob[i] in "!^"
    if negated:
        i += 1
    members = []
    first = True
    while i < len(glob) and (glob[i] != "]" or first):
        c = glob[i]
        if c == "\\" and i + 1 < len(glob):
            members.append(re.escape(glob[i + 1]))
            i += 2
        else:
            members.append("-" if c == "-" else re.escape(c))
            i += 1
        first = False
    if i >= len(glob):
        return re.escape("["), start + 1
    body = "".join(members)
    return ("[^/" + body + "]" if negated else "[" + body + "]"), i + 1


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns in force for a directory; later (deeper) patterns win, as in git."""

    patterns: tuple[Pattern, ...] = ()

    def extended(self, lines: Iterable[str], base: str = "") -> IgnoreRules:
        parsed = (parse_pattern(line, base) for line in lines)
        return IgnoreRules(self.patterns + tuple(p for p in parsed if p is not None))

    def ignores(self, path: str, is_dir: bool) -> bool:
        for pattern in reversed(self.patterns):
            if pattern.matches(path, is_dir):
                return not pattern.negated
        return False


def _read_lines(path: Path) -> list[str]:
    """The lines of an ignore file; a missing or unreadable one simply adds no rules."""
    try:
        with path.open("rb") as f:
            return f.read().decode("utf-8-sig", errors="replace").splitlines()
    except OSError:
        return []


class _Filters:
    """--include/--exclude: gitignore-style globs on the display path. A file matches when the
    glob matches its path or one of its parent directories, so `--exclude build` drops build/."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str]):
        self.include = [p for p in map(parse_pattern, include) if p is not None]
        self.exclude = [p for p in map(parse_pattern, exclude) if p is not None]

    def keep(self, path: str) -> bool:
        if self.include and not any_match(self.include, path):
            return False
        return not any_match(self.exclude, path)


def any_match(patterns: list[Pattern], path: str) -> bool:
    """gitignore-style: a pattern matches the path itself or one of its parent directories."""
    parts = path.split("/")
    parents = ["/".join(parts[:k]) for k in range(1, len(parts))]
    return any(p.matches(path, False) or any(p.matches(d, True) for d in parents) for p in patterns)


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
    rules = IgnoreRules().extended(_read_lines(root / ".git" / "info" / "exclude"))
    visited = {root_real}
    stack = [(root, "", rules, (root_real,))]
    while stack:
        directory, rel, rules, chain = stack.pop()
        rules = rules.extended(_read_lines(directory / ".gitignore"), base=rel)
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


class _Unreadable(Exception):
    """Why a file cannot be read; becomes a Skip, or an error for a path given directly."""


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


def _too_large(cap: int, pdf: bool) -> _Unreadable:
    return _Unreadable(f"larger than {_size(cap)} {'PDF cap' if pdf else 'cap'}")


def _read_bytes(path: Path, max_bytes: int, max_pdf_bytes: int | None = None) -> bytes:
    """The file's bytes, refusing non-regular files before opening them (a FIFO would block).

    A PDF (by its name or its first bytes) is capped at `max_pdf_bytes`, anything else at
    `max_bytes`; a file over its cap is refused by its size before it is read."""
    pdf_cap = max_bytes if max_pdf_bytes is None else max_pdf_bytes
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _Unreadable("broken symlink" if os.path.islink(path) else "no such file or directory") from None
    except OSError as e:
        raise _Unreadable(_os_reason(e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise _Unreadable("not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat above
                raise _Unreadable("not a regular file")
            head = f.read(len(PDF_MAGIC))
            pdf = _is_pdf(path, head)
            cap = pdf_cap if pdf else max_bytes
            if st.st_size > cap:
                raise _too_large(cap, pdf)
            data = head + f.read(max(cap + 1 - len(head), 0))
    except OSError as e:
        raise _Unreadable(_os_reason(e)) from None
    if len(data) > cap:
        raise _too_large(cap, pdf)
    if not data:
        raise _Unreadable("empty file")
    return data


def _decode_text(data: bytes) -> str:
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise _Unreadable("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _Unreadable("not valid UTF-8 text") from None
    if not text:
        raise _Unreadable("empty file")
    return text


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning for every quirk of a damaged file; the Skip says what matters."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _one_line(e: Exception) -> str:
    message = str(e).strip().splitlines()
    return message[0] if message else type(e).__name__


def _pdf_text(data: bytes, sha256: str | None = None, cache: PdfTextCache | None = None) -> str:
    """Page texts, each after a "[page N]" line; pages without text are left out.

    With a cache, text extracted before from the same bytes is reused, and a complete
    extraction (not cut short by the time budget, which depends on the machine) is kept."""
    if cache is not None and sha256 is not None:
        cached = cache.get(sha256)
        if cached is not None:
            return cached
    state = {"complete": True, "error": None}
    with _quiet_pypdf():
        text = _LONE_SURROGATE.sub("\ufffd", "".join(_page_texts(_pdf_pages(data), state)))
    if not text:
        # pages that failed (e.g. pypdf's decompression limit against bombs) say why
        raise _Unreadable(
            f"no extractable text ({state['error']})" if state["error"] else "no extractable text (scanned PDF?)"
        )
    if cache is not None and sha256 is not None and state["complete"]:
        cache.put(sha256, text)
    return text


# A damaged text string in a PDF can decode to lone UTF-16 surrogates, which no UTF-8 codec
# (nor the tokenizer) accepts.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class PdfTextCache:
    """Text extracted from PDFs, one file per PDF in `root`, named by the PDF's sha256 and a
    tag of what extracts it (cache version, pypdf version, text limit). Unreadable or
    unwritable cache files are simply misses: the cache never makes a read fail."""

    def __init__(self, root: Path, writable: bool = True):
        self.root = Path(root)
        self.writable = writable

    def _path(self, sha256: str) -> Path:
        try:
            from pypdf import __version__ as pypdf_version
        except ImportError:  # pragma: no cover - pypdf is a dependency
            pypdf_version = "?"
        tag = hashlib.sha256(f"{PDF_CACHE_VERSION}|{pypdf_version}|{PDF_TEXT_LIMIT}".encode()).hexdigest()[:12]
        return self.root / f"{sha256}.{tag}.txt"

    def get(self, sha256: str) -> str | None:
        try:
            return self._path(sha256).read_bytes().decode("utf-8", "surrogatepass")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, sha256: str, text: str) -> None:
        if not self.writable:
            return
        import tempfile

        target = self._path(sha256)
        tmp = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=self.root)
            with open(fd, "wb") as f:
                f.write(text.encode("utf-8", "surrogatepass"))
            os.replace(tmp, target)
        except OSError:
            pass
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)


def _pdf_pages(data: bytes) -> list:
    """The pages of a PDF that opens. pypdf raises all kinds of exceptions on malformed input,
    hence the broad except: whatever the failure, the file is a Skip, not a crash."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        locked = reader.is_encrypted and not _decrypt(reader)
        pages = [] if locked else list(reader.pages)
    except Exception as e:
        raise _Unreadable(f"not a readable PDF: {_one_line(e)}") from None
    if locked:
        raise _Unreadable("encrypted PDF")
    return pages


def _decrypt(reader) -> bool:
    """Open PDFs that are encrypted only against editing (empty user password)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _page_texts(pages: list, state: dict | None = None) -> Iterator[str]:
    """Extract page by page until the text or time budget runs out, keeping what came before;
    a page whose extraction fails (any exception, as above) loses only that page. When the
    time budget cuts it short, `state["complete"]` becomes False."""
    deadline = time.monotonic() + PDF_TIME_BUDGET_S
    budget = PDF_TEXT_LIMIT
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text().translate(TYPESET_CHARACTERS).rstrip()
        except Exception as e:
            text = ""
            if state is not None and state.get("error") is None:
                state["error"] = f"page {number}: {_one_line(e)}"
        if text:
            chunk = f"[page {number}]\n{text}\n"[:budget]
            budget -= len(chunk)
            yield chunk
        if budget <= 0:
            return
        if time.monotonic() > deadline:
            if state is not None and number < len(pages):
                state["complete"] = False
            return


PDF_MAGIC = b"%PDF-"


def _is_pdf(path: Path, data: bytes) -> bool:
    return path.suffix.lower() == ".pdf" or data.startswith(PDF_MAGIC)


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
        kind = "pdf" if _is_pdf(path, data) else "text"
        text = _pdf_text(data, sha256, pdf_cache) if kind == "pdf" else _decode_text(data)
    except _Unreadable as e:
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
    collector = _Collector(_Filters(include, exclude), max_file_bytes, max_pdf_bytes, cache)
    for path, label in zip(paths, labels):
        collector.add_root(path, label)
    if not collector.files:
        names = ", ".join(str(p) for p in paths)
        raise TTTReadError(f"{names}: no files match --include/--exclude", ExitCode.INPUT)
    return Collection(collector.files, collector.skipped)


class _Collector:
    """Reads roots one after another, each real file once, in sorted order within a root."""

    def __init__(self, filters: _Filters, max_file_bytes: int, max_pdf_bytes: int = PDF_MAX_BYTES, pdf_cache=None):
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
