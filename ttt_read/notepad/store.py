"""The notepad: the read text kept verbatim (compressed) with a lexical index, for exact recall.

TTT-E2E compresses what it reads into weights, which keeps gist and style but loses exact
details from far outside the attention window. The notepad is the complement: every read
file's text, compressed, plus a BM25 index over short passages, so `ask` can put the few
passages that matter back into the window before the question and cite where they came from.

Index design, kept small so a snapshot grows by well under half the compressed text:

- Each file is cut into blocks of `BLOCK_LINES` lines (fewer once `BLOCK_CHARS` are
  reached, for prose written one paragraph per line); a passage is `PASSAGE_BLOCKS`
  consecutive blocks of one file, one starting at every block, so passages overlap while
  the index stores each block once.
- Terms are identifier-aware: every `\\w+` word lowercased, and when it is a compound
  (`snake_case`, `CamelCase`, `HTTPServer2`), its parts too. A file's path counts as text of
  its first block (the model reads it in the file header). Lines that define a name
  (`def x`, `class X`, `fn x`, `X = ...` at the top level but not `X = module.X`; in prose a
  markdown heading, a command's synopsis `x [-ab] ...`, a glossary entry `X A list of ...`,
  a texinfo manual's `[Function]int x (...`)
  add the term `=x`, so a query naming `x` prefers its definition over its uses. A file's
  stem adds `@x` to its first block, which counts like a use: a query for `Message` finds
  `class Message:` before the top of message.py, and still finds the module named
  `snapshot` when nothing defines `snapshot`.
- The vocabulary leaves out words seen in a single block (about half of it, most of all in
  prose); a query word missing from it is looked up in the texts instead. Every other term
  keeps its block count (for IDF), and only terms in at most ~5% of the blocks keep their
  block list. A search ranks passages by those rarer terms first, then rescores the best
  few dozen with full BM25 on their text, every query term counted.
- A question also names things no word index holds: an option (`-L`, not `-l`), a special
  parameter (`$?`), a quoted heading or cased name (`Unquote` is not `unquote`), the
  subject of "what is X?". Those are found verbatim
  by scanning the texts at search time (`exact_phrases`), so snapshots made before them
  answer the same way; an option list's line defines its option (`=-L`). A question's
  words also find the other forms the vocabulary has (`inflections`: "changes" finds
  "Change", "reads" the synopsis of `read`), a hyphenated word its joined form
  ("read-only" finds "readonly"), and adjacent words the name code gives them ("block
  start string" finds `BLOCK_START_STRING`). In a manual, a passage also counts the
  command whose synopsis is above it, so "the -x option of set" finds `set`'s list, not
  `ulimit`'s.
- Stored as one LZMA stream of: a JSON header, the texts, the front-coded sorted vocabulary,
  and one varint stream (block counts, block-id deltas, lines per block).

The format is versioned (`MAGIC` + one version byte); `from_bytes` refuses other versions.
"""

from __future__ import annotations

import bisect
import json
import lzma
import math
import re
import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.notepad.codec import decode_varints, encode_varints, front_code, front_decode
from ttt_read.notepad.lexicon import (
    DEFINITION,
    EXACT,
    LOWER,
    MARKER_WEIGHTS,
    UPPER,
    WORD_CHAR,
    Terms,
    block_terms,
    compounds,
    described_definition,
    exact_pattern,
    identifiers,
    inflections,
    is_marker,
    line_style,
    owner_terms,
    owning_command,
    path_terms,
    query_terms,
    starts_phrase,
    word_terms,
)
from ttt_read.text import filekinds
from ttt_read.text.sources import PAGE_MARK

MAGIC = b"TTNP"
VERSION = 1
BLOCK_LINES = 12  # a block ends after this many lines,
BLOCK_CHARS = 800  # or once it holds this many characters (long prose lines)
PASSAGE_BLOCKS = 2  # a passage is two consecutive blocks of one file; one starts at every block
POSTING_MAX_SHARE = 0.05  # terms in more than this share of blocks keep only their count,
POSTING_MIN_CAP = 16  # but never below this many blocks
# a returned passage starts this many lines above its best line, or higher, at the definition
# the line describes (`lexicon.DEFINITION_REACH`)
FOCUS_LINES_BEFORE = 4
CANDIDATES = 32  # passages rescored on their text per search
SCAN_MAX_HITS = 20_000  # a term missing from the vocabulary is looked for at most this often per file
K1, B = 1.2, 0.75  # BM25
INFLECTION_WEIGHT = 0.5  # another form of a question's word ("changes" -> "change"), relative to the word
LZMA_PRESET = 6 | lzma.PRESET_EXTREME


@dataclass(frozen=True)
class Passage:
    path: str
    line_start: int  # 1-based, inclusive, in the file's text
    line_end: int
    page: int | None  # PDFs: the page of the best-matching line
    text: str
    score: float
    focus: int = 0  # the line that matches the query best
    owner: str | None = None  # manuals: the command whose documentation the focus line is in
    definition: int | None = None  # the line defining what the focus line describes (`described_definition`)

    @property
    def is_prose(self) -> bool:
        """A PDF page, a text or info manual, a man page: not code."""
        return self.page is not None or filekinds.is_prose(self.path)

    def cite(self, line: int | None = None) -> str:
        """`path:line` for text, `path (page N)` for PDFs."""
        if self.page is not None:
            return f"{self.path} (page {self.page})"
        return f"{self.path}:{line or self.focus or self.line_start}"


@dataclass
class _File:
    path: str
    kind: str
    text: str
    first_block: int
    block_starts: list[int]  # 0-based first line of each of its blocks
    lines: list[str] = field(default_factory=list)
    pages: list[tuple[int, int]] | None = None  # (line index, page) of each page marker
    newlines: list[int] | None = None  # character offset of every newline

    @property
    def n_blocks(self) -> int:
        return len(self.block_starts)

    def line_list(self) -> list[str]:
        if not self.lines:
            self.lines = self.text.split("\n")
        return self.lines

    def line_of_offset(self, offset: int) -> int:
        """The 0-based line a character offset of the text is on."""
        if self.newlines is None:
            self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self.newlines, offset)

    def block_range(self, first: int, last: int) -> tuple[int, int]:
        """Lines [lo, hi) of the file's blocks first..last (indices within the file)."""
        hi = self.block_starts[last + 1] if last + 1 < self.n_blocks else len(self.line_list())
        return self.block_starts[first], hi

    def page_of(self, line: int) -> int | None:
        """The page a 1-based line is on (PDF text marks pages with "[page N]" lines)."""
        if self.kind != "pdf":
            return None
        if self.pages is None:
            self.pages = [
                (i, int(m.group(1))) for i, line in enumerate(self.line_list()) if (m := PAGE_MARK.match(line))
            ]
        if not self.pages:
            return None
        at = bisect.bisect_right([i for i, _ in self.pages], line - 1) - 1
        return self.pages[max(at, 0)][1]


def _blocks(lines: list[str]) -> list[int]:
    """First line of each block: BLOCK_LINES lines, or fewer once BLOCK_CHARS are reached."""
    starts, size, count = [0], 0, 0
    for i, line in enumerate(lines):
        if count and (count >= BLOCK_LINES or size >= BLOCK_CHARS):
            starts.append(i)
            size, count = 0, 0
        size += len(line) + 1
        count += 1
    return starts


def posting_cap(n_blocks: int) -> int:
    """Terms in more blocks than this keep only their count: they rank little and cost most."""
    return max(POSTING_MIN_CAP, int(POSTING_MAX_SHARE * n_blocks))


class Notepad:
    """Texts plus a block-level index; see the module docstring for the layout."""

    def __init__(
        self,
        files: list[_File],
        vocab: list[str],
        df: np.ndarray,
        total_terms: int,
        *,
        postings: dict[str, np.ndarray] | None = None,
        lazy: tuple | None = None,
    ):
        self.files = files
        self.vocab = vocab
        self.index = {t: i for i, t in enumerate(vocab)}
        self.df = df
        self.total_terms = total_terms
        self._postings = postings if postings is not None else {}
        self._lazy = lazy  # (offset of each term's postings or -1, deltas) until a term is needed
        self._scanned: dict[str, np.ndarray] = {}
        self.n_blocks = sum(f.n_blocks for f in files)
        self.cap = posting_cap(self.n_blocks)
        self.block_file = np.zeros(self.n_blocks, dtype=np.int64)
        for i, f in enumerate(files):
            self.block_file[f.first_block : f.first_block + f.n_blocks] = i
        self.avg_length = PASSAGE_BLOCKS * total_terms / self.n_blocks if self.n_blocks else 1.0

    # building

    @classmethod
    def build(cls, source_files: Iterable) -> Notepad:
        """Index `sources.SourceFile`s (anything with `path`, `kind` and `text`)."""
        terms_of = Terms()
        files: list[_File] = []
        blocks_of: dict[str, list[int]] = {}
        total, n_blocks = 0, 0
        for sf in source_files:
            lines = sf.text.split("\n")
            style = line_style(sf.path, sf.kind)
            starts = _blocks(lines)
            files.append(_File(sf.path, sf.kind, sf.text, n_blocks, starts, lines))
            for b, lo in enumerate(starts):
                hi = starts[b + 1] if b + 1 < len(starts) else len(lines)
                terms = block_terms(lines[lo:hi], style, terms_of)
                if b == 0:
                    terms += path_terms(sf.path)
                total += len(terms)
                for term in set(terms):
                    blocks_of.setdefault(term, []).append(n_blocks + b)
            n_blocks += len(starts)
        cap = posting_cap(n_blocks)
        vocab = sorted(t for t, b in blocks_of.items() if len(b) > 1 or is_marker(t))
        df = np.array([len(blocks_of[t]) for t in vocab], dtype=np.int64)
        postings = {t: np.array(blocks_of[t], dtype=np.int64) for t in vocab if len(blocks_of[t]) <= cap}
        return cls(files, vocab, df, total, postings=postings)

    # serialising

    def to_bytes(self) -> bytes:
        texts = [f.text.encode("utf-8", "surrogatepass") for f in self.files]
        ints = self.df.tolist()
        for term in self.vocab:
            blocks = self._term(term)
            if blocks is not None:
                ints += np.diff(blocks, prepend=0).tolist()
        for f in self.files:
            ints += np.diff(f.block_starts + [len(f.line_list())]).tolist()
        varints = encode_varints(ints)
        vocab = front_code(self.vocab).encode("utf-8", "surrogatepass")
        header = {
            "block_lines": BLOCK_LINES,
            "block_chars": BLOCK_CHARS,
            "total_terms": self.total_terms,
            "files": [[f.path, f.kind, len(t), f.n_blocks] for f, t in zip(self.files, texts)],
            "sizes": [len(vocab), len(varints)],
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        payload = struct.pack("<I", len(head)) + head + b"".join(texts) + vocab + varints
        return MAGIC + bytes([VERSION]) + lzma.compress(payload, preset=LZMA_PRESET)

    @classmethod
    def from_bytes(cls, data: bytes) -> Notepad:
        if data[:4] != MAGIC:
            raise TTTReadError("snapshot notepad: not a ttt-read notepad", ExitCode.SNAPSHOT)
        if len(data) < 5 or data[4] != VERSION:
            found = data[4] if len(data) > 4 else "?"
            raise TTTReadError(
                f"snapshot notepad: version {found} is not supported (this ttt-read reads {VERSION})", ExitCode.SNAPSHOT
            )
        try:
            payload = lzma.decompress(data[5:])
            interrupts.point("notepad-decode")
            (n,) = struct.unpack("<I", payload[:4])
            header = json.loads(payload[4 : 4 + n])
            at = 4 + n
            texts = []
            for path, kind, size, n_blocks in header["files"]:
                texts.append((path, kind, payload[at : at + size].decode("utf-8", "surrogatepass"), n_blocks))
                at += size
            n_vocab, n_varints = header["sizes"]
            vocab = front_decode(payload[at : at + n_vocab].decode("utf-8", "surrogatepass"))
            at += n_vocab
            ints = decode_varints(payload[at : at + n_varints])
            df = ints[: len(vocab)]
            n_blocks = sum(t[3] for t in texts)
            has_postings = df <= posting_cap(n_blocks)
            offsets = np.full(len(vocab) + 1, -1, dtype=np.int64)
            starts = np.concatenate(([0], np.cumsum(np.where(has_postings, df, 0))))
            offsets[:-1] = np.where(has_postings, starts[:-1], -1)
            end = len(vocab) + int(starts[-1])
            deltas = ints[len(vocab) : end]
            block_lines = ints[end:].tolist()
            if len(block_lines) != n_blocks or len(deltas) != int(starts[-1]):
                raise ValueError("sizes do not add up")
            files, first = [], 0
            for path, kind, text, nb in texts:
                counts = block_lines[first : first + nb]
                block_starts = [0] + np.cumsum(counts[:-1]).tolist() if nb else []
                files.append(_File(path, kind, text, first, block_starts))
                first += nb
        except (lzma.LZMAError, ValueError, KeyError, TypeError, IndexError, struct.error, UnicodeDecodeError) as e:
            raise TTTReadError(f"snapshot notepad is unreadable ({type(e).__name__})", ExitCode.SNAPSHOT) from None
        return cls(files, vocab, df, int(header["total_terms"]), lazy=(offsets, deltas))

    def _term(self, term: str) -> np.ndarray | None:
        """The blocks holding `term`, or None if it is too common to have postings."""
        found = self._postings.get(term)
        if found is not None:
            return found
        i = self.index.get(term)
        if i is None:
            found = self._scanned.get(term)
            if found is None:
                found = self._scanned[term] = self._scan(term)
            return found
        if self._lazy is not None:
            offsets, deltas = self._lazy
            if offsets[i] >= 0:
                lo = int(offsets[i])
                found = self._postings[term] = np.cumsum(deltas[lo : lo + int(self.df[i])])
        return found

    def df_of(self, term: str) -> int:
        i = self.index.get(term)
        if i is not None:
            return int(self.df[i])
        return len(self._term(term))

    def _scan(self, term: str) -> np.ndarray:
        """Blocks holding a term the vocabulary leaves out (one seen in a single block, or not
        at all), found in the texts: hits that can start and end a word or a part of one,
        kept when the enclosing word really yields the term."""
        if term.startswith(EXACT):
            return self._scan_exact(term[1:])
        if is_marker(term):
            return np.zeros(0, dtype=np.int64)
        pattern = re.compile(re.escape(term), re.IGNORECASE)
        blocks: set[int] = set()
        checked: dict[str, bool] = {}
        for f in self.files:
            if term in Terms()(f.path) and f.n_blocks:
                blocks.add(f.first_block)
            text = f.text
            for hits, m in enumerate(pattern.finditer(text)):
                if hits >= SCAN_MAX_HITS:
                    break
                lo, hi = m.start(), m.end()
                # a word or a part of one starts after a non-lowercase letter or at a capital,
                # and ends before a non-lowercase letter or with a capital
                if lo and text[lo - 1] in LOWER and text[lo] not in UPPER:
                    continue
                if hi < len(text) and text[hi] in LOWER and text[hi - 1] not in UPPER:
                    continue
                while lo > 0 and WORD_CHAR.match(text, lo - 1):
                    lo -= 1
                while hi < len(text) and WORD_CHAR.match(text, hi):
                    hi += 1
                word = text[lo:hi]
                if word not in checked:
                    checked[word] = term in word_terms(word)
                if checked[word]:
                    line = f.line_of_offset(m.start())
                    blocks.add(f.first_block + bisect.bisect_right(f.block_starts, line) - 1)
        return np.array(sorted(blocks), dtype=np.int64)

    def _scan_exact(self, phrase: str) -> np.ndarray:
        """Blocks where a verbatim phrase starts (`exact_pattern`)."""
        pattern = exact_pattern(phrase)
        blocks: set[int] = set()
        for f in self.files:
            for hits, m in enumerate(pattern.finditer(f.text)):
                if hits >= SCAN_MAX_HITS:
                    break
                line = f.line_of_offset(m.start())
                blocks.add(f.first_block + bisect.bisect_right(f.block_starts, line) - 1)
        return np.array(sorted(blocks), dtype=np.int64)

    # facts

    def text_bytes(self) -> int:
        return sum(len(f.text.encode("utf-8", "surrogatepass")) for f in self.files)

    def stats(self, packed: bytes | None = None) -> dict:
        """Sizes for the snapshot metadata and reports; compresses the texts once to compare."""
        texts = "".join(f.text for f in self.files).encode("utf-8", "surrogatepass")
        size = len(packed if packed is not None else self.to_bytes())
        compressed = len(lzma.compress(texts, preset=LZMA_PRESET))
        return {
            "version": VERSION,
            "files": len(self.files),
            "blocks": self.n_blocks,
            "terms": len(self.vocab),
            "text_bytes": len(texts),
            "compressed_text_bytes": compressed,
            "bytes": size,
            "overhead_ratio": round((size - compressed) / compressed, 4) if compressed else 0.0,
        }

    # searching

    def idf(self, term: str) -> float:
        df = self.df_of(term)
        return math.log(1 + (self.n_blocks - df + 0.5) / (df + 0.5)) if df else 0.0

    def _window(self, per_block: np.ndarray) -> np.ndarray:
        """Sum over the PASSAGE_BLOCKS blocks starting at each block, within one file."""
        out = per_block.copy()
        for j in range(1, PASSAGE_BLOCKS):
            shifted = np.zeros_like(per_block)
            shifted[:-j] = np.where(self.block_file[:-j] == self.block_file[j:], per_block[j:], 0)
            out += shifted
        return out

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The k best non-overlapping passages for `query`, best first.

        Stage 1 ranks passages by the query's indexed (not too common) terms; stage 2 scores
        the best candidates with full BM25 on their text, every query term counted.
        """
        if not self.n_blocks or k <= 0:
            return []
        weights: Counter = Counter()
        for term in query_terms(query):
            weights[term] += MARKER_WEIGHTS.get(term[:1], 1.0)
        for term in [t for t in weights if not is_marker(t)]:
            for variant in inflections(term):
                if variant not in weights and variant in self.index:
                    weights[variant] = INFLECTION_WEIGHT
                if DEFINITION + variant not in weights and DEFINITION + variant in self.index:  # "reads": `read [-ers]`
                    weights[DEFINITION + variant] = INFLECTION_WEIGHT * MARKER_WEIGHTS[DEFINITION]
        for form in compounds(query):  # few: looked up in the texts too when the vocabulary lacks them
            if form not in weights and self.df_of(form):
                weights[form] = 1.0
        for name in identifiers(query):  # many: looked up in the vocabulary only
            if name not in weights and name in self.index:
                weights[name] = 1.0
                if DEFINITION + name in self.index:
                    weights[DEFINITION + name] = MARKER_WEIGHTS[DEFINITION]
        idfs = {t: self.idf(t) * w for t, w in sorted(weights.items())}  # in one order: ties stay ties
        idfs = {t: v for t, v in idfs.items() if v > 0}
        if not idfs:
            return []
        coarse = np.zeros(self.n_blocks)

        def rank(blocks: np.ndarray, weight: float) -> None:
            present = np.zeros(self.n_blocks)
            present[blocks] = 1.0
            present = self._window(present)
            coarse[:] += weight * present * (K1 + 1) / (present + K1)

        for term, weight in idfs.items():
            blocks = self._term(term)
            if blocks is not None:
                rank(blocks, weight)
        if not coarse.any():  # only common words matched: look the two least common up in the texts
            common = sorted((self.df_of(t), t) for t in idfs if not is_marker(t))
            for _, term in common[:2]:
                rank(self._scan(term), idfs[term])
        order = np.argsort(-coarse, kind="stable")
        candidates = [int(b) for b in order[: max(CANDIDATES, 8 * k)] if coarse[b] > 0]
        scored = sorted((self._score(b, idfs) for b in candidates), key=lambda s: (-s[0], s[1]))
        passages: list[Passage] = []
        for score, start, last, focus in scored:
            if score <= 0 or len(passages) >= k:
                break
            p = self._passage(int(self.block_file[start]), start, last, score, focus)
            if not any(
                q.path == p.path and q.line_start <= p.line_end and p.line_start <= q.line_end for q in passages
            ):
                passages.append(p)
        return passages

    def _score(self, start: int, idfs: dict[str, float]) -> tuple[float, int, int, int]:
        """BM25 of the passage starting at block `start` from its text, and its best line."""
        f = self.files[int(self.block_file[start])]
        first = start - f.first_block
        last = min(first + PASSAGE_BLOCKS - 1, f.n_blocks - 1)
        lo, hi = f.block_range(first, last)
        lines = f.line_list()
        style = line_style(f.path, f.kind)
        terms_of = Terms()
        exact = [t for t in idfs if t.startswith(EXACT)]
        tf: Counter = Counter(t for t in owner_terms(lines, lo, style) if t in idfs)
        length = 0
        best, focus = -1.0, lo
        for i in range(lo, hi):
            terms = block_terms([lines[i]], style, terms_of)
            terms += [t for t in exact if starts_phrase(lines, i, t[1:])]
            line_score = sum(idfs.get(t, 0.0) for t in sorted(set(terms)))  # the path does not make line 1 the best
            if i == 0:
                terms += path_terms(f.path)
            length += len(terms)
            if line_score > best:
                best, focus = line_score, i
            tf.update(t for t in terms if t in idfs)
        norm = K1 * (1 - B + B * length / self.avg_length)
        score = sum(w * tf[t] * (K1 + 1) / (tf[t] + norm) for t, w in idfs.items() if tf[t])
        return score, start, f.first_block + last, focus

    def _passage(self, fi: int, start: int, last: int, score: float, focus: int) -> Passage:
        """The scored lines, moved to start a few lines above the best one (a definition at
        the end of a passage is better shown with the lines after it), or at the definition
        the best line describes when it is a little further up (a manual's function
        reference lists the parameters between the name and what the function does)."""
        f = self.files[fi]
        lo, hi = f.block_range(start - f.first_block, last - f.first_block)
        lines = f.line_list()
        style = line_style(f.path, f.kind)
        size = hi - lo
        definition = described_definition(lines, focus, style)
        lo = max(0, min(focus - FOCUS_LINES_BEFORE, focus if definition is None else definition, len(lines) - size))
        hi = min(len(lines), lo + size)
        text = "\n".join(lines[lo:hi])
        owner = owning_command(lines, focus, style)
        return Passage(
            f.path,
            lo + 1,
            max(lo + 1, hi),
            f.page_of(focus + 1),
            text,
            round(score, 4),
            focus + 1,
            owner,
            None if definition is None else definition + 1,
        )

    def file_text(self, path: str) -> str | None:
        for f in self.files:
            if f.path == path:
                return f.text
        return None
