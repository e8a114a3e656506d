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
        "pairs"
    ],
    "weights": [
        3.88632,
        2.3138,
        1.10741,
        0.87911,
        -0.64133,
        -0.51935,
        -0.31855,
        0.58463,
        2.53124,
        1.33778,
        0.06985,
        -0.1652,
        -0.0095,
        2.24876,
        0.36016,
        2.19148
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.20042,
            0.26947,
            -1.34378,
            0.86842,
            -0.5395,
            0.56347
        ],
        "bias": -0.4993
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
