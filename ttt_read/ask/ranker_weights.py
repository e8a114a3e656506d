"""Weights of the unit ranker and of "not found" (`structured`), written by
`python -m ttt_read.train.ranker` from the questions in docs/questions/train."""

RANKER = {
    "features": [
        "lexical",
        "coverage",
        "log_prior",
        "name",
        "name_soft",
        "doc",
        "doc_soft",
        "owner",
        "context",
        "path",
        "first",
        "name_explained",
        "name_size",
        "doc_first",
        "verb",
        "pairs",
        "noun"
    ],
    "weights": [
        3.59852,
        1.9963,
        0.96398,
        0.73332,
        -0.74764,
        -0.71,
        -0.34799,
        0.55882,
        2.80999,
        1.85744,
        0.31901,
        -0.24481,
        -0.16733,
        2.25523,
        0.31273,
        2.27225,
        1.30323
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.28582,
            0.28084,
            -1.36292,
            0.93672,
            -0.53597,
            0.51799
        ],
        "bias": -0.55206
    },
    "threshold": 0.425,
    "min_coverage": 0.15,
    "trained_on": [
        "c-testregex.jsonl",
        "developers-reference.jsonl",
        "gnu-standards.jsonl",
        "go-encoding.jsonl",
        "go-flag.jsonl",
        "go-net-http.jsonl",
        "js-express.jsonl",
        "js-luxon.jsonl",
        "js-ws.jsonl",
        "man5-login.defs.jsonl",
        "man5-sources.list.jsonl",
        "man8-apt-get.jsonl",
        "manual-coreutils.jsonl",
        "manual-diffutils.jsonl",
        "manual-findutils.jsonl",
        "manual-sed.jsonl",
        "manual-wget.jsonl",
        "perl-go-syscall-generators.jsonl",
        "py-asyncio.jsonl",
        "py-email.jsonl",
        "py-http.jsonl",
        "py-jinja2.jsonl",
        "py-rich.jsonl",
        "py-unittest.jsonl",
        "sh-go-build-scripts.jsonl"
    ]
}
