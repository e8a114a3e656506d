"""A PDF's text: extracted page by page with pypdf within a size and time budget, typeset
glyphs mapped back to plain characters, and cached by the PDF's sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ttt_read.core.errors import Unreadable

PDF_TEXT_LIMIT = 50_000_000  # characters of extracted text per PDF, against decompression bombs
PDF_TIME_BUDGET_S = 20.0  # wall seconds of extraction per PDF
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


def pdf_text(data: bytes, sha256: str | None = None, cache: PdfTextCache | None = None) -> str:
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
        raise Unreadable(
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
        raise Unreadable(f"not a readable PDF: {_one_line(e)}") from None
    if locked:
        raise Unreadable("encrypted PDF")
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


def is_pdf(path: Path, data: bytes) -> bool:
    """A PDF by its suffix or by its first bytes."""
    return path.suffix.lower() == ".pdf" or data.startswith(PDF_MAGIC)
