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
        1.73926,
        1.91615,
        2.97933,
        2.61864,
        3.05743,
        1.42407,
        1.86561,
        1.62157,
        0.8908,
        0.36832,
        0.55864,
        0.85206,
        1.43146,
        1.83282,
        0.18428,
        -0.44965
    ],
    "refusal": {
        "weights": [
            1.62868,
            1.63917,
            0.66884,
            -1.00032,
            -0.64292
        ],
        "bias": -1.43461
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
