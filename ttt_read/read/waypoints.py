"""Waypoints: the memory at a few points of a read, for questions about what came earlier.

Reading learns every chunk into the same fast weights, so they drift towards what was read
last: after a README and then code, a question about the README meets weights that have
specialised on code, and a meta-trained model can find its answer less likely than with no
memory at all, though the memory holds it (`tools/measure_recall.py`). A snapshot therefore
also keeps the fast weights as they were at up to `WAYPOINTS - 1` earlier points of the read
(within `BUDGET_BYTES`), at file ends where there are some, and an answer from the memory
starts from the state under
which the question itself is least surprising: the weights that know its subject best
(`opened.Memory.fast_weights`). Continuing text always starts from the final state, where the
text left off.
"""

from __future__ import annotations

WAYPOINTS = 8  # states a snapshot keeps at most, the final one included
BUDGET_BYTES = 8 * 2**20  # for the earlier states (bf16: 2 bytes per fast weight): 2.6 MiB for the bundled model


def states(n_fast_weights: int) -> int:
    """How many states a snapshot keeps, the final one included: fewer for large fast weights
    (an imported model's can be tens of MiB each, and then only the final one is kept)."""
    return 1 + min(WAYPOINTS - 1, BUDGET_BYTES // (2 * n_fast_weights))


def chunks(file_ends: list[int], n_chunks: int, k: int = WAYPOINTS) -> list[int]:
    """The chunks after whose update the fast weights are kept: k - 1 evenly spaced points
    of the read, each moved to the nearest chunk where a file ends when one lies within half
    the spacing (the final chunk is the final state, never listed)."""
    spacing = n_chunks / k
    ends = sorted(set(file_ends))
    chosen = set()
    for j in range(1, k):
        point = round(j * spacing) - 1
        nearest = min(ends, key=lambda end: abs(end - point), default=None)
        if nearest is not None and abs(nearest - point) <= spacing / 2:
            point = nearest
        if 0 <= point < n_chunks - 1:
            chosen.add(point)
    return sorted(chosen)
