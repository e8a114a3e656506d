"""ttt-read: read text into a language model's fast weights (TTT-E2E) and answer from them."""

__version__ = "0.1.0"
