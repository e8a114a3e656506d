"""Questions and answers synthesised from a text, for training the span head and for `eval-qa`."""
