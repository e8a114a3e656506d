"""The notepad's compact encodings: varint streams and the front-coded vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np


def encode_varints(values: Iterable[int]) -> bytes:
    """Non-negative integers as LEB128 varints: small counts and deltas take one byte."""
    out = bytearray()
    for v in values:
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def decode_varints(data: bytes) -> np.ndarray:
    """All varints of `data` at once (LEB128, little-endian groups of 7 bits)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size == 0 or ends[-1] != raw.size - 1:
        raise ValueError("truncated varint stream")
    starts = np.concatenate(([0], ends[:-1] + 1))
    shift = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    return np.add.reduceat((raw & 0x7F).astype(np.int64) << (7 * shift), starts)


def front_code(sorted_terms: list[str]) -> str:
    """Each term as one control character (length of the prefix shared with the previous
    term, at most 30) plus the rest; terms are `\\w+`, `=\\w+` or `@\\w+`, never control characters."""
    out, prev = [], ""
    for term in sorted_terms:
        n = 0
        limit = min(len(term), len(prev), 30)
        while n < limit and term[n] == prev[n]:
            n += 1
        out.append(chr(1 + n) + term[n:])
        prev = term
    return "".join(out)


def front_decode(coded: str) -> list[str]:
    """The sorted terms `front_code` wrote."""
    terms, prev = [], ""
    for shared, rest in _FRONT_ENTRY.findall(coded):
        prev = prev[: ord(shared) - 1] + rest
        terms.append(prev)
    return terms


_FRONT_ENTRY = re.compile(r"([\x01-\x1f])([^\x01-\x1f]*)")
