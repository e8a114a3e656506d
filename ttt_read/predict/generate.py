"""Continuing text from a memory: sliding KV caches, sampling, and learning while generating.

A `Session` holds the fast weights and every layer's cache. Tokens fed to it (the prompt,
then each sampled token) go through all blocks one call at a time. When the token after b
gathered ones arrives, those b are read into the fast weights exactly as `ingest` reads a
chunk, before the new token goes through: every token is predicted with the weights and the
caches reading would have at that point, so a long conversation keeps learning as the
paper's generation rule says and scores its text as `read()` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch

from ttt_read.core import interrupts
from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read.model import FastWeights, TTTModel
from ttt_read.read.reading import learn_chunk


@contextlib.contextmanager
def one_thread():
    """One intra-op thread for the work of one decoded token (its pass through the model,
    its mixture with the notepad, its sampling): the tensors are too small to share out, so
    a second thread only adds hand-offs, and its spin-waits between such small steps cost
    many times the work itself, the more so on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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
        if len(tokens) != 1:
            return self._feed(tokens)
        with one_thread():
            return self._feed(tokens)

    def _feed(self, tokens: list[int]) -> torch.Tensor:
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
            self.model, x, ids[..., 1:], suffix_caches, self.fast, valid=chunk, lr=self.lr
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


class NotepadPredictor:
    """The model's next-token distribution mixed with exact matches in what the snapshot
    read and what the session has seen since (`ngram`): a line read a minute ago is
    continued as it was read."""

    def __init__(self, index, gate, vocab_size: int, context: list[int]):
        from ttt_read.predict import ngram

        self.index, self.gate, self.vocab_size = index, gate, vocab_size
        self.history = ngram.History(vocab_size)
        self.recent = list(context[-ngram.MAX_ORDER :])

    def observe(self, tokens: list[int]) -> None:
        from ttt_read.predict import ngram

        self.history.extend(tokens)
        self.recent = (self.recent + list(tokens))[-ngram.MAX_ORDER :]

    def log_probs(self, logits: torch.Tensor) -> torch.Tensor:
        from ttt_read.predict import ngram

        match = ngram.lookup(self.recent, self.index, self.history, self.vocab_size)
        with one_thread():  # one token's mixture: as small as its pass through the model
            return ngram.mix(logits, match, self.gate).clamp_min(1e-30).log()


HEAL_CHARS = 32  # the most prompt text given back to generation (a word cut short)


def heal(tokenizer, prompt: str) -> tuple[list[int], list[int], str]:
    """The prompt's ids without the tokens of its unfinished end (the last word with the
    space before it, or trailing whitespace), those tokens, and their text, which generation
    must write first. A prompt cut inside a word ("def url_f") or before one ("x = ")
    tokenizes unlike the same text in the read stream ("url_for", " 0"), so neither the model
    nor the notepad would recognise it; given back, it is tokenized as it was read."""
    encoding = tokenizer.encode(prompt, add_special_tokens=False)
    ids, offsets = encoding.ids, encoding.offsets
    stripped = prompt.rstrip()
    if not stripped or len(ids) < 2:
        return ids, [], ""
    boundary = len(stripped) if stripped != prompt else len(prompt) - len(prompt.split()[-1]) - 1
    keep = len(ids)
    while keep > 1 and offsets[keep - 1][1] > boundary and len(prompt) - offsets[keep - 1][0] <= HEAL_CHARS:
        keep -= 1
    return ids[:keep], ids[keep:], prompt[offsets[keep][0] :] if keep < len(ids) else ""


def allowed(table: list[bytes], pieces: Sequence[bytes], vocab: int) -> torch.Tensor:
    """Of `vocab` ids (a model may have more than its tokenizer), those that re-write the
    given-back `pieces`: a whole word of them as the prompt tokenized it (never another
    split, " part" + "ition" for " partition", whose ids the notepad would not find), or one
    token holding all that remains ("_for" for "_f"); the last, cut word may also be begun
    by any token it starts with (" B" of " Ben", as " Benchmark" was read)."""
    remaining = b"".join(pieces)
    last = len(pieces) == 1
    mask = torch.zeros(vocab, dtype=torch.bool)
    mask[: len(table)] = torch.tensor(
        [bool(b) and (b == pieces[0] or b.startswith(remaining) or (last and remaining.startswith(b))) for b in table]
    )
    return mask


def generate(
    session: Session,
    prompt: list[int],
    max_tokens: int,
    *,
    temperature: float = 0.8,
    top_p: float = 0.95,
    seed: int = 0,
    stop: frozenset[int] = frozenset(),
    logprobs: list[float] | None = None,
    notepad: NotepadPredictor | None = None,
    rewrite: Sequence[bytes] = (),
    table: list[bytes] | None = None,
) -> Iterator[int]:
    """Yield up to `max_tokens` sampled token ids, ending early at a stop token; `logprobs`,
    when given, collects each yielded token's log-probability under the distribution it
    was drawn from (how sure it was, whatever the temperature). With `notepad`, that
    distribution mixes in the notepad's matches; with `rewrite` (and `table`, each id's
    bytes), the text must begin with those pieces (`heal`); tokens that only re-write them do
    not count against `max_tokens`."""
    generator = torch.Generator().manual_seed(seed)
    logits = session.feed(prompt)
    if notepad is not None:
        notepad.observe(prompt)
    written = 0
    while written < max_tokens:
        with one_thread():  # like the token's pass through the model (`Session.feed`)
            scores = notepad.log_probs(logits) if notepad is not None else logits.float().flatten()
            if rewrite:
                scores = scores.masked_fill(~allowed(table, rewrite, scores.numel()), float("-inf"))
            token = sample(scores.cpu(), temperature, top_p, generator)
            if logprobs is not None and token not in stop:
                logprobs.append(float(torch.log_softmax(scores.float().flatten(), -1)[token]))
        if token in stop:
            return
        rest = b"".join(rewrite)
        if rewrite and table[token] == rewrite[0]:
            rewrite = rewrite[1:]
        elif rewrite and rest.startswith(table[token]) and len(table[token]) < len(rest):
            rewrite = [rest[len(table[token]) :]]  # the cut word, begun
        elif rewrite and table[token] == rest:
            rewrite = []
        else:
            rewrite, written = [], written + 1
        yield token
        interrupts.point("generation")
        logits = session.feed([token])
        if notepad is not None:
            notepad.observe([token])


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
    if seen and printed < len(text):  # the end: a replacement character is written as one
        yield text[printed:]


def continuation(memory, prompt: str, options: dict, *, learn: bool, use_notepad: bool, use_memory: bool):
    """`continue` on an open `opened.Memory`: the session, the part of the prompt printed
    as given, and the text pieces that follow it (the first of which re-write the prompt's
    given-back end, `heal`). `options`: generate's max_tokens, temperature, top_p, seed."""
    from ttt_read.text import tokenizer as tok
    from ttt_read.text.tokenizer import token_bytes

    session = memory.session(learn=learn, use_memory=use_memory)
    predictor = memory.predictor() if use_notepad else None
    if options.get("max_tokens"):
        prompt_ids, given_ids, given_back = heal(memory.tokenizer, prompt)
    else:
        prompt_ids, given_ids, given_back = memory.tokenizer.encode(prompt, add_special_tokens=False).ids, [], ""
    table = token_bytes(memory.tokenizer) if given_ids else None
    ids = generate(
        session,
        prompt_ids,
        stop=frozenset([memory.tokenizer.token_to_id(tok.END_OF_TEXT)]),
        notepad=predictor,
        rewrite=[table[i] for i in given_ids] if table else [],
        table=table,
        **options,
    )
    return session, prompt[: len(prompt) - len(given_back)], stream_text(memory.tokenizer, ids)
