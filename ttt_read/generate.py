"""Continuing text from a memory: sliding KV caches, sampling, and learning while generating.

A `Session` holds the fast weights and every layer's cache. Tokens fed to it (the prompt,
then each sampled token) go through all blocks one call at a time. When the token after b
gathered ones arrives, those b are read into the fast weights exactly as `ingest` reads a
chunk, before the new token goes through: every token is predicted with the weights and the
caches reading would have at that point, so a long conversation keeps learning as the
paper's generation rule says and scores its text as `read()` does.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ttt_read import interrupts
from ttt_read.errors import ExitCode, TTTReadError
from ttt_read.model import FastWeights, TTTModel
from ttt_read.reading import learn_chunk


class Session:
    def __init__(self, model: TTTModel, fast: FastWeights, lr: float, learn: bool = True, chunk: int | None = None):
        """`lr` and `chunk` (tokens per update; None: the model's) as the memory was read with."""
        self.model, self.fast, self.lr, self.learn = model, fast, lr, learn
        self.chunk = chunk or model.cfg.chunk
        cfg = model.cfg
        self.prefix_caches = model.empty_caches(1, cfg.n_layers - cfg.n_suffix)
        self.suffix_caches = model.empty_caches(1, cfg.n_suffix)
        self.pending: list[int] = []  # tokens fed since the last update, at most one chunk
        self.pending_caches = (self.prefix_caches, self.suffix_caches)  # caches before `pending`
        self.updates = 0
        self.logits: torch.Tensor | None = None  # next-token logits after the last token seen

    def _hidden(self, tokens: list[int]) -> torch.Tensor:
        """The final hidden states of `tokens` [n, d_model]; the caches move past them."""
        ids = torch.tensor(tokens, device=self.model.embed.weight.device).view(1, 1, -1)
        x, self.prefix_caches = self.model.run_prefix(ids, self.prefix_caches, len(tokens))
        h, self.suffix_caches = self.model.run_suffix(x, self.suffix_caches, len(tokens), self.fast)
        return h[0, 0]

    @torch.no_grad()
    def _forward(self, tokens: list[int]) -> torch.Tensor:
        self.logits = self.model.logits(self._hidden(tokens)[-1])
        return self.logits

    @torch.no_grad()
    def surprise(self, tokens: list[int]) -> float:
        """Nats the session needs to predict `tokens` after what it has seen (from the second
        token on when it has seen nothing); it has then seen them. Scoring only: no learning."""
        if self.learn:
            raise ValueError("surprise() scores text; open the session with learn=False")
        before = self.logits
        logits = self.model.logits(self._hidden(tokens))
        self.logits = logits[-1]
        predicted = logits[:-1] if before is None else torch.cat([before[None], logits[:-1]])
        targets = torch.tensor(tokens if before is not None else tokens[1:], device=logits.device)
        return float(torch.nn.functional.cross_entropy(predicted.float(), targets, reduction="sum"))

    def context(self, tokens: list[int]) -> None:
        """Fill the caches with text the fast weights already learned (a snapshot's tail)."""
        if tokens:
            self._forward(tokens)
        self.pending_caches = (self.prefix_caches, self.suffix_caches)

    def feed(self, tokens: list[int]) -> torch.Tensor:
        """Feed new tokens; return the next-token logits after the last one (with no tokens,
        after the context: an empty prompt continues the text the memory read)."""
        if not tokens:
            if self.logits is None:
                raise TTTReadError(
                    "nothing to continue from: the prompt is empty and the snapshot holds no text", ExitCode.USAGE
                )
            return self.logits
        if not self.learn:
            return self._forward(tokens)
        chunk = self.chunk
        at = 0
        while at < len(tokens):
            if len(self.pending) == chunk:
                self._learn(self.pending + [tokens[at]])
            piece = tokens[at : at + chunk - len(self.pending)]
            logits = self._forward(piece)
            self.pending += piece
            at += len(piece)
        return logits

    def _learn(self, window: list[int]) -> None:
        """Read a chunk (all of `window` but its last token, the chunk's last target) into
        the fast weights; the caches become those reading computed for it."""
        ids = torch.tensor(window, device=self.model.embed.weight.device).view(1, 1, -1)
        chunk = len(window) - 1
        prefix_caches, suffix_caches = self.pending_caches
        with torch.no_grad():
            x, prefix_caches = self.model.run_prefix(ids[..., :-1], prefix_caches, chunk)
        _, _, self.fast, suffix_caches, _ = learn_chunk(
            self.model, x, ids[..., 1:], suffix_caches, self.fast, chunk, self.lr
        )
        self.prefix_caches, self.suffix_caches = self.pending_caches = (prefix_caches, suffix_caches)
        self.pending = []
        self.updates += 1


def sample(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator) -> int:
    """Greedy at temperature 0, else nucleus sampling."""
    if temperature <= 0:
        return int(logits.argmax())
    probs = (logits.float() / temperature).softmax(-1)
    sorted_probs, order = probs.sort(descending=True)
    keep = sorted_probs.cumsum(-1) - sorted_probs < top_p
    sorted_probs = sorted_probs * keep
    choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
    return int(order[choice])


def generate(
    session: Session,
    prompt: list[int],
    max_tokens: int,
    temperature: float = 0.8,
    top_p: float = 0.95,
    seed: int = 0,
    stop: frozenset[int] = frozenset(),
    logprobs: list[float] | None = None,
) -> Iterator[int]:
    """Yield up to `max_tokens` sampled token ids, ending early at a stop token; `logprobs`,
    when given, collects each yielded token's log-probability under the model (how sure it
    was, whatever the temperature)."""
    generator = torch.Generator().manual_seed(seed)
    logits = session.feed(prompt)
    for _ in range(max_tokens):
        token = sample(logits.cpu(), temperature, top_p, generator)
        if token in stop:
            return
        if logprobs is not None:
            logprobs.append(float(torch.log_softmax(logits.float().flatten(), -1)[token]))
        yield token
        interrupts.point("generation")
        logits = session.feed([token])


def stream_text(tokenizer, ids: Iterator[int]) -> Iterator[str]:
    """Decode incrementally, holding back bytes until they form whole characters."""
    seen: list[int] = []
    printed = 0
    for token in ids:
        seen.append(token)
        text = tokenizer.decode(seen, skip_special_tokens=False)
        if not text.endswith("\ufffd"):
            yield text[printed:]
            printed = len(text)
