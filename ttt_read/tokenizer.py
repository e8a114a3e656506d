"""Byte-level BPE tokenizer with the special tokens the reading format relies on.

Every text ttt-read reads or trains on uses the same markers, so a model meta-trained on
`FILE` headers and `QUESTION`/`ANSWER` turns sees exactly that format at read time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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
    return [tokenizer.token_to_id(QUESTION)] + encode_text(tokenizer, question.strip() + "\n") + [tokenizer.token_to_id(ANSWER)]


def encode_answer(tokenizer, answer: str) -> list[int]:
    """What follows `encode_qa_prompt` in training, and what `ask` generates until END_OF_TEXT."""
    return encode_text(tokenizer, answer) + [tokenizer.token_to_id(END_OF_TEXT)]


def load(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


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
