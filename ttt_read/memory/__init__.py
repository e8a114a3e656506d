"""A snapshot opened with its model: the memory `continue`, `ask`, `diff` and `eval-qa` talk to;
and what `info` says of one without a model."""
