"""What a file holds, judged by its name: code, prose, or something else.

Retrieval (whether `# ...` starts a heading), question synthesis (which extractor reads a
file) and the training corpus (whether a tree is code or documentation) all ask this; one
table answers all three.
"""

from __future__ import annotations

CODE_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".rb", ".java", ".kt", ".kts",
    ".scala", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".swift", ".php", ".lua", ".pl", ".sh",
    ".bash", ".zig", ".dart",
})  # fmt: skip
PROSE_SUFFIXES = frozenset({"", ".md", ".markdown", ".mdx", ".rst", ".txt", ".text", ".adoc", ".org", ".info"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})


def suffix(path: str) -> str:
    """The lower-case suffix with its dot, looking through a `.gz` ("" for none): `a/B.PY` -> `.py`,
    `README` -> "", `.bashrc` -> ""."""
    name = path.rpartition("/")[2].removesuffix(".gz")
    return name[name.rfind(".") :].lower() if "." in name.lstrip(".") else ""


def is_code(path: str) -> bool:
    return suffix(path) in CODE_SUFFIXES


def is_prose(path: str) -> bool:
    return suffix(path) in PROSE_SUFFIXES
