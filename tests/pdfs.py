"""Write small but real PDF files for tests, so PDF handling is tested against actual bytes.

The objects are written by hand (catalog, page tree, one Helvetica font, one content stream
per page, a cross-reference table) so the tests do not depend on a PDF-writing library for
the plain case; encryption goes through pypdf so the encrypted files are genuinely encrypted.
"""

from __future__ import annotations

from pathlib import Path

LINE_HEIGHT = 14
# Glyphs typesetters (groff, TeX) use where the text means plain characters: ligatures, the
# minus sign of an option, the accents that stand for `~` and `^`. Written as the codes a
# font's /Differences maps to those glyph names, as such PDFs do.
TYPESET_GLYPHS = {"\ufb01": "fi", "\ufb02": "fl", "\u2212": "minus", "\u02dc": "tilde", "\u02c6": "circumflex"}
_GLYPH_CODES = {char: chr(0x80 + i) for i, char in enumerate(TYPESET_GLYPHS)}


def write_pdf(path: Path, pages: list[str], encrypt_password: str | None = None) -> Path:
    """A PDF whose page i shows the lines of pages[i] as text; encrypted when a password is given.

    With `encrypt_password=""` the file is encrypted with an empty user password (and a real
    owner password), the common "protected against editing" case that opens without a prompt.
    """
    path.write_bytes(_pdf_bytes([_text_stream(text) for text in pages]))
    if encrypt_password is not None:
        _encrypt(path, encrypt_password)
    return path


def write_scanned_pdf(path: Path, n_pages: int = 1) -> Path:
    """A PDF like a scan: pages that draw something but carry no text operators."""
    path.write_bytes(_pdf_bytes([b"0.5 g 72 72 400 600 re f"] * n_pages))
    return path


def write_truncated_pdf(path: Path, keep: int = 40) -> Path:
    """A PDF cut short after `keep` bytes, as a failed download leaves it."""
    path.write_bytes(_pdf_bytes([_text_stream("lost text")])[:keep])
    return path


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_stream(text: str) -> bytes:
    ops = ["BT", "/F1 12 Tf"]
    for index, line in enumerate(text.split("\n")):
        move = "72 720 Td" if index == 0 else f"0 -{LINE_HEIGHT} Td"
        ops.append(f"{move} ({_escape(line.translate(str.maketrans(_GLYPH_CODES)))}) Tj")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def _pdf_bytes(streams: list[bytes]) -> bytes:
    """Serialise a document with one page per content stream."""
    n = len(streams)
    page_ids = [4 + 2 * i for i in range(n)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % n,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
        + b"/BaseEncoding /WinAnsiEncoding /Differences [128 "
        + b" ".join(b"/" + name.encode() for name in TYPESET_GLYPHS.values())
        + b"] >> >>",
    ]
    for page_id, stream in zip(page_ids, streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def _encrypt(path: Path, user_password: str) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=path)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    with path.open("wb") as out:
        writer.write(out)
