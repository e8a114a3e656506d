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
        3.74639,
        2.23502,
        0.86945,
        0.8598,
        -0.78651,
        -0.61224,
        -0.32896,
        0.5014,
        2.76163,
        1.73659,
        0.16395,
        -0.20905,
        -0.19963,
        2.25156,
        0.32138,
        2.14046,
        1.17854
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.27092,
            0.27866,
            -1.30917,
            0.9603,
            -0.53365,
            0.4931
        ],
        "bias": -0.55306
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
