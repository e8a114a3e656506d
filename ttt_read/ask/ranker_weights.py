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
        3.936,
        2.15046,
        0.97229,
        0.93839,
        -0.649,
        -0.56555,
        -0.29155,
        0.1314,
        2.61805,
        1.68138,
        0.05488,
        -0.23384,
        0.03765,
        2.24929,
        0.20064,
        2.37366,
        1.08628
    ],
    "bias": 0.0,
    "refusal": {
        "weights": [
            1.17664,
            0.28469,
            -1.33515,
            0.88129,
            -0.52422,
            0.50966
        ],
        "bias": -0.51383
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
