"""Byte-level BPE tokenizer with the special tokens the reading format relies on.

Every text ttt-read reads or trains on uses the same markers, so a model meta-trained on
`FILE` headers and `QUESTION`/`ANSWER` turns sees exactly that format at read time.

A foreign tokenizer (an imported model's) has none of these tokens; `load` wraps it in
`PlainMarkers`, which gives the same functions a plain-text form: documents are separated
by the model's own end-of-text token, file headers start with a run of newlines, and a
question is asked as `Question: ...` / `Answer:`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PASSAGES = 3  # notepad passages put before a question in an `ask` prompt (and in grounded training turns)

END_OF_TEXT = "<|endoftext|>"
FILE = "<|file|>"
QUESTION = "<|question|>"
ANSWER = "<|answer|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [END_OF_TEXT, FILE, QUESTION, ANSWER, PAD]


def file_header(relative_path: str) -> str:
    """The line that introduces each file in a read text, so answers can point at files."""
    return f"{FILE}{relative_path}\n"


def plain_encoding(tokenizer, text: str):
    """`text` encoded as plain text (a `tokenizers.Encoding`, offsets included): a literal
    `<|endoftext|>` in a file or a question never acts as a control token; only the
    functions below place the markers."""
    tokenizer.encode_special_tokens = True
    try:
        return tokenizer.encode(text, add_special_tokens=False)
    finally:
        tokenizer.encode_special_tokens = False


def encode_text(tokenizer, text: str) -> list[int]:
    return plain_encoding(tokenizer, text).ids


def file_body(relative_path: str, text: str) -> str:
    """What follows a file's FILE marker when it is read: its path line, then its text."""
    return relative_path + "\n" + text + ("" if text.endswith("\n") else "\n")


def encode_file(tokenizer, relative_path: str, text: str) -> list[int]:
    """Ids of one file as reading sees it: the FILE marker, then its path and text."""
    return [tokenizer.token_to_id(FILE)] + encode_text(tokenizer, file_body(relative_path, text))


def encode_qa_prompt(tokenizer, question: str) -> list[int]:
    """The turn `ask` prompts with and QA training uses: QUESTION, the question, ANSWER."""
    if isinstance(tokenizer, PlainMarkers):
        return encode_text(tokenizer, f"Question: {question.strip()}\nAnswer:")
    return (
        [tokenizer.token_to_id(QUESTION)]
        + encode_text(tokenizer, question.strip() + "\n")
        + [tokenizer.token_to_id(ANSWER)]
    )


def encode_answer(tokenizer, answer: str) -> list[int]:
    """What follows `encode_qa_prompt` in training, and what `ask` generates until END_OF_TEXT."""
    separator = " " if isinstance(tokenizer, PlainMarkers) else ""
    return encode_text(tokenizer, separator + answer) + [tokenizer.token_to_id(END_OF_TEXT)]


PLAIN_FILE_MARKERS = ("\n\n\n", "\n\n", "\n")  # the first that is one token marks a file


class PlainMarkers:
    """A tokenizer without ttt-read's special tokens, answering `token_to_id` for them in
    plain text: END_OF_TEXT is the model's own end-of-text id, FILE the id of a newline run
    (so a file header is blank lines, its path, a newline), QUESTION, ANSWER and PAD have
    no id. Everything else is the wrapped `tokenizers.Tokenizer`."""

    def __init__(self, inner, end_of_text_id: int | None):
        self._inner = inner
        self._end_of_text_id = end_of_text_id
        single = (inner.encode(m, add_special_tokens=False).ids for m in PLAIN_FILE_MARKERS)
        self._file_id = next((ids[0] for ids in single if len(ids) == 1), end_of_text_id)

    def token_to_id(self, token: str) -> int | None:
        if token == END_OF_TEXT:
            return self._end_of_text_id
        if token == FILE:
            return self._file_id
        if token in SPECIAL_TOKENS:
            return None
        return self._inner.token_to_id(token)

    @property
    def encode_special_tokens(self) -> bool:
        return self._inner.encode_special_tokens

    @encode_special_tokens.setter
    def encode_special_tokens(self, value: bool) -> None:
        self._inner.encode_special_tokens = value

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


FOREIGN_END_OF_TEXT = (END_OF_TEXT, "<|end_of_text|>", "</s>", "<eos>")  # names models use for it


def load(path: Path, *, end_of_text_id: int | None = None):
    """The tokenizer at `path`; a foreign one (no FILE token) wrapped in `PlainMarkers`,
    separating documents with `end_of_text_id`, else with the first token it has of
    `FOREIGN_END_OF_TEXT`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    if tokenizer.token_to_id(FILE) is not None:
        return tokenizer
    if end_of_text_id is None:
        end_of_text_id = next(
            (tokenizer.token_to_id(n) for n in FOREIGN_END_OF_TEXT if tokenizer.token_to_id(n) is not None), None
        )
    return PlainMarkers(tokenizer, end_of_text_id)


def train(texts: Iterable[str], vocab_size: int):
    """Train a byte-level BPE whose first ids are the special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def _byte_level_chars() -> dict[str, int]:
    """The byte-level BPE alphabet: each byte is one printable character; printable Latin-1
    bytes stand for themselves, the others for 256, 257, ... in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    code = {b: b for b in printable}
    for b in range(256):
        if b not in code:
            code[b] = 256 + len(code) - len(printable)
    return {chr(c): b for b, c in code.items()}


def token_bytes(tokenizer) -> list[bytes]:
    """The exact bytes each id stands for. A marker (`<|file|>`, ...) stands for its own
    text, so the compressor is handed the same document structure the model predicts."""
    chars = _byte_level_chars()
    table = [b""] * tokenizer.get_vocab_size(with_added_tokens=True)
    added = {t.content for t in tokenizer.get_added_tokens_decoder().values()}
    for piece, index in tokenizer.get_vocab(with_added_tokens=True).items():
        table[index] = piece.encode() if piece in added else bytes(chars[c] for c in piece)
    return table
