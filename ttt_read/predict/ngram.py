"""Exact-match prediction from the text already read: the notepad as a next-token model.

The fast weights keep the gist of a text; exact repeats (an identifier defined 3,000 lines
up, a signature quoted in a docstring, a line read a minute ago) are what a compressor
such as xz lives on, and the notepad holds them verbatim. This module turns the read token
stream into a second next-token distribution, an unbounded n-gram ("infini-gram") model:

- the *match* of a context is its longest suffix, up to `MAX_ORDER` tokens, that occurred
  earlier in the text; the tokens that followed those occurrences, counted, are the
  distribution (`Match`);
- a `Gate` mixes it with the model's distribution, `p = (1 - g) p_model + g p_match`, with
  g a logistic function of the match: its length, how often it occurred, how many distinct
  tokens followed it, and how dominant the most frequent one was. The gate is fitted on
  training documents read as `ingest` reads them (`fit_gate`), never hand-set, and a
  checkpoint without a gate file predicts with the model alone.

Three views of one definition: `TokenIndex` (a snapshot's notepad, sorted once, queried
per token while decoding), `History` (the few hundred tokens a session added since), and
`prequential` (every position of a document at once, each matched only against text
before it, for `eval`). They agree on `Match` for the same text, which the tests check.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_ORDER = 16  # tokens of context a match can use: 16 tokens of code are ~2 lines
# Gate features are per bucket of match length; bucket i holds lengths in (EDGES[i-1], EDGES[i]].
ORDER_EDGES = (1, 2, 3, 4, 6, 8, 12, 16)
GATE_FILE = "notepad_gate.json"


@dataclasses.dataclass
class Match:
    """The longest earlier occurrence of a context: its length (0: none) and what followed."""

    order: int
    counts: np.ndarray  # [vocab] how often each token followed the matched context

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def order_bucket(order: np.ndarray) -> np.ndarray:
    """Bucket index of each match length (orders ≥ 1)."""
    return np.searchsorted(np.asarray(ORDER_EDGES), order, side="left")


# --- a snapshot's token stream ------------------------------------------------------------


class TokenIndex:
    """Every position of a token stream sorted by the context that ends there, read
    backwards (a suffix array of the reversed stream, cut at `MAX_ORDER` tokens), so the
    occurrences of any context are one contiguous range found by binary search."""

    def __init__(self, tokens: Sequence[int], vocab_size: int):
        self.tokens = np.asarray(tokens, dtype=np.int32)
        self.vocab_size = vocab_size
        n = len(self.tokens) - 1  # positions that have a next token
        self._padded = np.concatenate([np.full(MAX_ORDER, -1, np.int32), self.tokens])
        if n <= 0:
            self.order = np.zeros(0, np.int64)
            self._first = np.zeros(0, np.int32)
            return
        positions = np.arange(n)
        keys = [self._padded[positions + MAX_ORDER - j] for j in range(MAX_ORDER)]  # keys[j] = token j back
        self.order = np.lexsort(keys[::-1])  # keys[0] sorts first
        self._first = keys[0][self.order]

    def _key(self, lo: int, hi: int, back: int) -> np.ndarray:
        return self._padded[self.order[lo:hi] + MAX_ORDER - back]

    def find(self, context: Sequence[int]) -> tuple[int, int, int]:
        """(order, lo, hi): the longest suffix of `context` found, and its range of positions."""
        if not len(context) or not len(self.order):
            return 0, 0, 0
        last = context[-1]
        lo, hi = np.searchsorted(self._first, last, "left"), np.searchsorted(self._first, last, "right")
        if lo == hi:
            return 0, 0, 0
        order = 1
        for back in range(1, min(MAX_ORDER, len(context))):
            keys = self._key(lo, hi, back)
            want = context[-1 - back]
            a, b = np.searchsorted(keys, want, "left"), np.searchsorted(keys, want, "right")
            if a == b:
                break
            lo, hi, order = lo + a, lo + b, order + 1
        return order, int(lo), int(hi)

    def next_counts(self, lo: int, hi: int) -> np.ndarray:
        return np.bincount(self.tokens[self.order[lo:hi] + 1], minlength=self.vocab_size)


class History:
    """Tokens a session saw after its snapshot (a prompt, what it wrote), matched by brute
    force: a few hundred tokens need no index."""

    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size
        self.tokens: list[int] = []

    def extend(self, tokens: Sequence[int]) -> None:
        self.tokens.extend(int(t) for t in tokens)

    def lengths(self, context: Sequence[int]) -> np.ndarray:
        """For each earlier position with a next token, how many tokens of `context`'s end
        match the tokens ending there (at most `MAX_ORDER`)."""
        seen = np.asarray(self.tokens[:-1], dtype=np.int64)
        length = np.zeros(len(seen), dtype=np.int64)
        alive = np.ones(len(seen), dtype=bool)
        for back in range(min(MAX_ORDER, len(context))):
            at = np.arange(len(seen)) - back
            ok = alive & (at >= 0)
            ok[ok] = seen[at[ok]] == context[-1 - back]
            length += ok
            alive = ok
            if not alive.any():
                break
        return length


def lookup(context: Sequence[int], index: TokenIndex | None, history: History | None, vocab_size: int) -> Match:
    """The match of `context` in the snapshot's stream and the session's tokens together:
    the longer match wins; at equal length their counts add."""
    order, lo, hi = index.find(context) if index is not None else (0, 0, 0)
    counts = np.zeros(vocab_size, dtype=np.int64)
    if order:
        counts += index.next_counts(lo, hi)
    if history is not None and len(history.tokens) > 1:
        lengths = history.lengths(context)
        longest = int(lengths.max()) if len(lengths) else 0
        if longest > order:
            order, counts = longest, np.zeros(vocab_size, dtype=np.int64)
        if longest == order and order:
            followers = np.asarray(history.tokens[1:], dtype=np.int64)[lengths >= order]
            counts += np.bincount(followers, minlength=vocab_size)
    return Match(order, counts)


# --- every position of a document at once -------------------------------------------------


@dataclasses.dataclass
class MatchStats:
    """Per position t of a document (predicting token t+1): the match's length, its total
    count, distinct followers, the top follower's count, and the count of the true next token."""

    order: np.ndarray
    total: np.ndarray
    distinct: np.ndarray
    top: np.ndarray
    hit: np.ndarray

    def __len__(self) -> int:
        return len(self.order)

    def tail(self, n: int) -> MatchStats:
        """The last `n` positions (a document scored after a notepad that came before it)."""
        return MatchStats(*(getattr(self, f.name)[len(self) - n :] for f in dataclasses.fields(self)))


def _earlier_counts(keys: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions share its key."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - group_start
    return rank


def _earlier_sums(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each position, the sum of `values` over earlier positions sharing its key."""
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_values = keys[order], values[order]
    csum = np.cumsum(sorted_values) - sorted_values  # exclusive, over the whole sorted array
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    group_base = np.repeat(csum[starts], np.diff(np.r_[starts, len(keys)]))
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = csum - group_base
    return out


_MULTIPLIERS = np.random.default_rng(20261204).integers(1, 2**63, size=MAX_ORDER + 1, dtype=np.uint64) | np.uint64(1)


def prequential(tokens: Sequence[int]) -> MatchStats:
    """`MatchStats` of every position, each matched only against the text before it (a
    position's own context may overlap the text it is compared with, as in `History`)."""
    toks = np.asarray(tokens, dtype=np.int64)
    n = len(toks) - 1
    follow = toks[1:]
    order = np.zeros(n, np.int64)
    total, distinct, top, hit = (np.zeros(n, np.int64) for _ in range(4))
    context = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for m in range(1, MAX_ORDER + 1):
            at = np.arange(n) - (m - 1)
            valid = at >= 0
            context[valid] += (toks[at[valid]].astype(np.uint64) + np.uint64(1)) * _MULTIPLIERS[m]
            keys = np.where(valid, context, np.uint64(2**64 - 1) - np.arange(n, dtype=np.uint64))  # invalid: unique
            seen = _earlier_counts(keys)
            if not (seen > 0).any():
                break
            pair = keys * _MULTIPLIERS[0] + follow.astype(np.uint64)
            same = _earlier_counts(pair)
            firsts = _earlier_sums(keys, (same == 0).astype(np.int64))
            tops = _earlier_top(keys, pair)
            now = seen > 0
            order[now] = m
            total[now], hit[now], distinct[now], top[now] = seen[now], same[now], firsts[now], tops[now]
    return MatchStats(order, total, distinct, top, hit)


def _earlier_top(keys: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """For each position, the largest count of one follower among earlier positions that
    share its key: a running maximum, within each key, of each follower's running count."""
    running = _earlier_counts(pair) + 1  # the count of a position's follower once it is seen
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    new_group = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    group = np.cumsum(new_group)
    offset = group * (len(keys) + 1)  # groups never mix: each lies above all earlier ones
    inclusive = np.maximum.accumulate(running[order] + offset) - offset
    exclusive = np.r_[0, inclusive[:-1]]
    exclusive[new_group] = 0
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = exclusive
    return out


def stats_of(match: Match, next_token: int | None = None) -> tuple[int, int, int, int, int]:
    """(order, total, distinct, top, hit) of a `Match`, as `MatchStats` holds them."""
    counts = match.counts
    hit = int(counts[next_token]) if next_token is not None else 0
    return match.order, int(counts.sum()), int((counts > 0).sum()), int(counts.max(initial=0)), hit


# --- the gate -----------------------------------------------------------------------------

N_FEATURES = 4  # per bucket: bias, log total, log distinct, top share


def features(total: np.ndarray, distinct: np.ndarray, top: np.ndarray) -> np.ndarray:
    """[n, N_FEATURES] inputs of the gate, multiplied by the bucket's weights."""
    total = np.maximum(total, 1)
    return np.stack([np.ones(len(total)), np.log(total), np.log(np.maximum(distinct, 1)), top / total], axis=1).astype(
        np.float64
    )


@dataclasses.dataclass
class Gate:
    """How much to trust a match: g = sigmoid(weights[bucket] · features)."""

    weights: list[list[float]]  # [len(ORDER_EDGES)][N_FEATURES]
    fitted_on: dict = dataclasses.field(default_factory=dict)

    def __call__(self, order: np.ndarray, total: np.ndarray, distinct: np.ndarray, top: np.ndarray) -> np.ndarray:
        order = np.asarray(order)
        w = np.asarray(self.weights, dtype=np.float64)[order_bucket(np.maximum(order, 1))]
        z = (w * features(np.asarray(total), np.asarray(distinct), np.asarray(top))).sum(-1)
        return np.where(order > 0, 1 / (1 + np.exp(-z)), 0.0)

    def save(self, path: Path) -> None:
        """Whole or not at all: a stopped write leaves the previous gate in place."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps({"orders": list(ORDER_EDGES), **dataclasses.asdict(self)}, indent=1) + "\n")
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> Gate | None:
        """The gate in `path`, or None when there is none (or it was made for other buckets)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if data.get("orders") != list(ORDER_EDGES):
            return None
        return cls(data["weights"], data.get("fitted_on", {}))


def mixed_losses(model_losses: np.ndarray, stats: MatchStats, gate: Gate) -> np.ndarray:
    """Per-token loss (nats) of the mixture, from the model's per-token losses."""
    g = gate(stats.order, stats.total, stats.distinct, stats.top)
    p_match = stats.hit / np.maximum(stats.total, 1)
    return -np.log((1 - g) * np.exp(-model_losses) + g * p_match)


def match_alone_losses(stats: MatchStats, floor: float) -> np.ndarray:
    """Per-token loss of the match distribution alone, each token given at least `floor`
    probability mass spread over the vocabulary (an unmatched or unseen token is not free)."""
    p_match = stats.hit / np.maximum(stats.total, 1)
    return -np.log((1 - floor) * p_match + floor)


def fit_gate(model_losses: Sequence[np.ndarray], stats: Sequence[MatchStats], steps: int = 300) -> Gate:
    """Fit the gate's weights by maximum likelihood of the mixture on the given documents."""
    import torch

    losses = torch.tensor(np.concatenate(model_losses), dtype=torch.float64)
    order = np.concatenate([s.order for s in stats])
    x = torch.tensor(
        features(*(np.concatenate([getattr(s, f) for s in stats]) for f in ("total", "distinct", "top"))),
        dtype=torch.float64,
    )
    p_match = torch.tensor(np.concatenate([s.hit / np.maximum(s.total, 1) for s in stats]), dtype=torch.float64)
    bucket = torch.tensor(order_bucket(np.maximum(order, 1)))
    matched = torch.tensor(order > 0)
    weights = torch.zeros(len(ORDER_EDGES), N_FEATURES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights], max_iter=steps, line_search_fn="strong_wolfe")
    p_model = torch.exp(-losses)

    def mean_loss():
        g = torch.sigmoid((weights[bucket] * x).sum(-1)) * matched
        return -torch.log((1 - g) * p_model + g * p_match).mean()

    def objective():
        optimizer.zero_grad()
        loss = mean_loss() + 1e-4 * weights.square().sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    with torch.no_grad():
        after = float(mean_loss())
    fitted = {"tokens": len(losses), "model_loss": float(losses.mean()), "mixed_loss": after}
    return Gate(weights.detach().tolist(), fitted)


def gate_path(checkpoint_dir: Path) -> Path:
    return Path(checkpoint_dir) / GATE_FILE


def mix(logits, match: Match, gate: Gate | None):
    """The next-token distribution (probabilities, torch) of the model's logits mixed with
    a match; the model's alone without a gate or a match."""
    import torch

    probs = torch.softmax(logits.float().flatten(), -1)
    if gate is None or not match.order or not match.total:
        return probs
    o, total, distinct, top, _ = stats_of(match)
    g = float(gate(np.array([o]), np.array([total]), np.array([distinct]), np.array([top]))[0])
    p_match = torch.from_numpy(match.counts / total).to(probs)
    return (1 - g) * probs + g * p_match


def bits(losses: np.ndarray) -> float:
    return float(np.sum(losses) / math.log(2))
