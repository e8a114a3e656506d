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
        3.66289,
        2.02871,
        0.94271,
        0.76135,
        -0.75062,
        -0.68871,
        -0.34175,
        0.58114,
        2.79278,
        1.87722,
        0.25868,
        -0.232,
        -0.14495,
        2.1887,
        0.30461,
        2.2479,
        1.30562
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.28769,
            0.28296,
            -1.36063,
            0.93719,
            -0.53797,
            0.52709
        ],
        "bias": -0.55205
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
