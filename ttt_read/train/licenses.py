"""Best-effort licence family of each training document, recorded in the corpus manifest.

Sources: a package's dist-info metadata, a LICENSE file at the top of its tree, or the
copyright file of the Debian package that installed it.
"""

from __future__ import annotations

import email.parser
import os
import re
from collections.abc import Iterable
from pathlib import Path

from ttt_read.text import sources

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


class Licenses:
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
    named = [headers.get("License-Expression", "")] + [
        c for c in headers.get_all("Classifier", []) if c.startswith("License ::")
    ]
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
    return sorted(
        {Path(f).stem if f.endswith(".py") else f for f in firsts if f and not f.endswith((".dist-info", ".."))}
    )


def _license_file(directory: Path) -> str | None:
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENSE.rst", "COPYING", "COPYING.txt", "LICENCE"):
        try:
            family = license_family_of_text((directory / name).read_text(errors="replace"))
        except OSError:
            continue
        if family:
            return family
    return None
