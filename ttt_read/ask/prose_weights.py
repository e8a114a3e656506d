"""Weights of the sentence ranker of a manual's prose and of its "not found" (`prose`),
written by `python -m ttt_read.train.prose_ranker` from the questions in docs/questions/train."""

PROSE = {
    "features": [
        "bm25",
        "coverage",
        "soft",
        "context",
        "heading",
        "first",
        "number",
        "name",
        "string",
        "new",
        "length",
        "lead",
        "pairs",
        "passage",
        "focus",
        "opens"
    ],
    "weights": [
        1.78417,
        1.89504,
        2.76708,
        2.66506,
        3.06701,
        1.41019,
        1.86044,
        1.64431,
        0.88345,
        0.34748,
        0.5762,
        0.86249,
        1.39762,
        1.83696,
        0.18771,
        -0.46121
    ],
    "refusal": {
        "weights": [
            1.64311,
            1.59219,
            0.67797,
            -0.94149,
            -0.62579
        ],
        "bias": -1.41869
    },
    "threshold": 0.325,
    "trained_on": [
        "developers-reference.jsonl",
        "gnu-standards.jsonl",
        "man5-login.defs.jsonl",
        "man5-sources.list.jsonl",
        "man8-apt-get.jsonl",
        "manual-coreutils.jsonl",
        "manual-diffutils.jsonl",
        "manual-findutils.jsonl",
        "manual-sed.jsonl",
        "manual-wget.jsonl"
    ]
}
