"""The meta-training corpus: documents (`train.documents`) tokenized, split and stored.

Meta-training reads 8-32K-token windows, each from inside one document.

The output directory holds `tokenizer.json`, `train.bin` and `val.bin` (flat little-endian
uint16 token ids; each bin starts with `<|endoftext|>` and every document is followed by one,
so every document is preceded by the marker, as the ingest stream is) and `manifest.json`
with each document's `offset` and `tokens` in its bin. The same inputs give byte-identical
outputs: no timestamps, walks in name order, splits by hashes of document names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.text import tokenizer as tok
from ttt_read.train.documents import Document, SourceFilter, read_documents

FORMAT = "ttt-read-corpus/1"
TOKENIZER_SAMPLE_CHARS = 8_000_000
TOKENIZER_BAND = 0.5  # only documents hashing above this feed the tokenizer; val comes from below
MIN_VAL_TOKENS = 32_768


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


def _tokenizer(
    docs: Sequence[Document], vocab_size: int, tokenizer_path: Path | None, val_fraction: float, *, out_dir: Path, say
):
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
    *,
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
    *,
    vocab_size: int = 16384,
    tokenizer_path: Path | None = None,
    val_fraction: float = 0.05,
    min_val_code: int = 5,
    min_val_prose: int = 3,
    max_tokens: int | None = None,
    progress: Callable[[str], None] | None = None,
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
    reader = SourceFilter(exclude)
    docs = read_documents(sources, reader, say)
    if not docs:
        raise TTTReadError("the sources hold no documents long enough to train on", ExitCode.INPUT)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)  # a build that fails leaves no corpus behind
    tokenizer, shaped, sample_chars = _tokenizer(
        docs, vocab_size, tokenizer_path, val_fraction, out_dir=out_dir, say=say
    )
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
    split, shortfall = assign_splits(
        docs, lengths, val_fraction, minimum=minimum, min_tokens=min_val_tokens, shaped=shaped
    )
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
    return {
        "documents": len(entries),
        "tokens": sum(by_split.values()),
        **{f"{s}_tokens": n for s, n in by_split.items()},
    }


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
