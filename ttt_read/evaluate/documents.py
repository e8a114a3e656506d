"""The documents `eval` reads: paths read as `ingest` would, or a corpus's held-out split."""

from __future__ import annotations

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read.ingest import tokenize
from ttt_read.text import sources


def eval_documents(
    tokenizer, paths, corpus, *, max_tokens: int, min_tokens: int, max_per_kind: int | None
) -> list[tuple[str, str, list[int]]]:
    """(kind, name, token ids) of the documents to evaluate on: each given path read as
    `ingest` would (kind "path"), or a corpus's held-out split; cut to `max_tokens`, shorter
    than `min_tokens` dropped, at most `max_per_kind` of each kind (code, prose)."""
    if corpus is not None:
        from ttt_read.train.corpus import TokenCorpus

        found = [
            (entry["kind"], entry["name"], ids[:max_tokens].tolist())
            for entry, ids in TokenCorpus(corpus, "val").iter_documents()
        ]
    elif paths:
        found = [("path", str(p), tokenize(tokenizer, sources.collect([p]))[0][:max_tokens]) for p in paths]
    else:
        raise TTTReadError("eval: give PATHs or --corpus", ExitCode.USAGE)
    taken: dict[str, int] = {}
    docs = []
    for kind, name, ids in found:
        if len(ids) >= max(min_tokens, 2) and taken.get(kind, 0) < (max_per_kind or len(found)):
            taken[kind] = taken.get(kind, 0) + 1
            docs.append((kind, name, ids))
    if not docs:
        raise TTTReadError(f"eval: no document has at least {max(min_tokens, 2)} tokens", ExitCode.INPUT)
    return docs
