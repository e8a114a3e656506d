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
        3.95267,
        2.1231,
        0.96007,
        0.94126,
        -0.67699,
        -0.50629,
        -0.31837,
        0.49943,
        2.43167,
        1.80639,
        0.07231,
        -0.17948,
        -0.06051,
        2.19359,
        0.30917,
        2.16074,
        1.17884
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.22906,
            0.28006,
            -1.33199,
            0.84988,
            -0.54417,
            0.53237
        ],
        "bias": -0.51741
    },
    "threshold": 0.425,
    "min_coverage": 0.1,
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
