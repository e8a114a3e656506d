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
        3.86173,
        2.26393,
        1.11186,
        0.90405,
        -0.66231,
        -0.50074,
        -0.30186,
        0.58775,
        2.53932,
        1.34172,
        0.08898,
        -0.15429,
        0.0155,
        2.2575,
        0.36431,
        2.24082
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.18382,
            0.2809,
            -1.34089,
            0.85503,
            -0.53838,
            0.53818
        ],
        "bias": -0.50782
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
