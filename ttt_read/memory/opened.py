"""A snapshot opened with its model: what `continue`, `ask`, `diff` and `eval-qa` talk to."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read import checkpoint, snapshot
from ttt_read.read.ingest import stream
from ttt_read.read.loaded import load_with_model
from ttt_read.text import tokenizer as tok


@dataclasses.dataclass
class Memory:
    """A base model with a snapshot's fast weights, and the text position it left off at."""

    model: object
    tokenizer: object
    snapshot: snapshot.Snapshot
    checkpoint: checkpoint.CheckpointInfo  # where the model came from (its span head lies beside it)

    @functools.cached_property
    def notepad(self):
        """The snapshot's notepad, decoded on first use; None for snapshots made without one."""
        from ttt_read.notepad.store import Notepad

        raw = self.snapshot.notepad
        return Notepad.from_bytes(raw) if raw else None

    @functools.cached_property
    def span_head(self):
        """(head, None) for grounded answers, or (None, why not) (`span.load_head`)."""
        from ttt_read.ask import span

        base_sha256 = self.snapshot.metadata.get("base", {}).get("sha256", "")
        return span.load_head(span.head_path(self.checkpoint.path), base_sha256, self.model.cfg.d_model)

    @functools.cached_property
    def notepad_index(self):
        """The notepad's files as the token stream reading saw, indexed for exact matches
        (`ngram.TokenIndex`); None for a snapshot without a notepad."""
        from ttt_read.predict import ngram

        if self.notepad is None:
            return None
        return ngram.TokenIndex(stream(self.tokenizer, self.notepad.files)[0], self.model.cfg.vocab_size)

    def predictor(self):
        """What `generate` mixes into `session`'s predictions: exact matches in the notepad,
        trusted as the checkpoint's gate says; None when the snapshot or the checkpoint
        lacks either."""
        from ttt_read.predict import ngram
        from ttt_read.predict.generate import NotepadPredictor

        gate = ngram.Gate.load(ngram.gate_path(self.checkpoint.path))
        if gate is None or self.notepad is None:
            return None
        return NotepadPredictor(self.notepad_index, gate, self.model.cfg.vocab_size, self.snapshot.tail_tokens)

    def fast_weights(self, use_memory: bool = True, question: str | None = None):
        """Batched fast weights on the model's device: W_0 without the memory; else the final
        state, or for a question the state the snapshot kept that it surprises least
        (`waypoints`)."""
        if not use_memory:
            return self.model.initial_fast_weights(1)
        states = [self.snapshot.fast] + (self.snapshot.waypoints if question is not None else [])
        device = self.model.embed.weight.device
        batched = [[w.float().unsqueeze(0).to(device) for w in state] for state in states]
        if len(batched) == 1:
            return batched[0]
        prompt = tok.encode_qa_prompt(self.tokenizer, question)
        return min(batched, key=lambda fast: self.session_from(fast, learn=False).surprise(prompt))

    def session(self, learn: bool = True, use_memory: bool = True, question: str | None = None):
        """A session after the snapshot's text, with `fast_weights(use_memory, question)`."""
        return self.session_from(self.fast_weights(use_memory, question), learn)

    def session_from(self, fast, learn: bool):
        """A session after the snapshot's text that starts from the batched fast weights `fast`."""
        from ttt_read.predict.generate import Session

        reading = self.snapshot.metadata["reading"]
        session = Session(self.model, fast, lr=reading["lr"], learn=learn, chunk=reading.get("chunk"))
        session.context(self.snapshot.tail_tokens)
        return session


def open_memory(path: Path, model_name: str | None = None, device: str = "auto") -> Memory:
    info = checkpoint.of_snapshot(snapshot.read_metadata(path), model_name)
    [snap], model, tokenizer, _ = load_with_model([path], info, device)
    return Memory(model, tokenizer, snap, info)


def notepad_stream(path: Path, model_name: str, device: str) -> list[int]:
    """The token stream of the files in the notepad of the snapshot at `path`."""
    memory = open_memory(path, model_name, device)
    if memory.notepad is None:
        raise TTTReadError(f"{path}: this snapshot has no notepad", ExitCode.SNAPSHOT)
    return stream(memory.tokenizer, memory.notepad.files)[0]
