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
        1.80092,
        1.87994,
        2.7673,
        2.66489,
        3.06733,
        1.40618,
        1.86052,
        1.64409,
        0.88485,
        0.35252,
        0.58016,
        0.86226,
        1.3984,
        1.83686,
        0.18739,
        -0.46215
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
