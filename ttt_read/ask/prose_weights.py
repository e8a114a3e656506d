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
        1.80895,
        1.92005,
        2.77953,
        2.69707,
        3.09371,
        1.41011,
        1.87058,
        1.64109,
        0.89281,
        0.37961,
        0.58635,
        0.86274,
        1.39721,
        1.79888,
        0.16525,
        -0.46085
    ],
    "refusal": {
        "weights": [
            1.68196,
            1.64795,
            0.69562,
            -0.97723
        ],
        "bias": -1.62664
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
