"""The training corpus builder on small real directories: documents, dedupe, splits, bins."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from ttt_read.text import sources
from ttt_read.text import tokenizer as tok
from ttt_read.train import corpus, documents, render

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau").split()


def python_source(seed: int, functions: int = 40) -> str:
    """Distinct, deterministic Python text of a few thousand characters."""
    lines = [f'"""Module {seed}."""\n']
    for i in range(functions):
        a, b = WORDS[(seed + i) % len(WORDS)], WORDS[(seed * 7 + i * 3) % len(WORDS)]
        lines.append(f"def {a}_{b}_{seed}_{i}(value):\n    return value * {i + seed} + len('{b}')\n\n")
    return "".join(lines)


def prose(seed: int, sentences: int = 60) -> str:
    return " ".join(
        f"The {WORDS[(seed + i) % 19]} reads the {WORDS[(seed * 3 + i) % 19]} page {seed}.{i}."
        for i in range(sentences)
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def html_page(title: str, body: str, next_page: str | None) -> str:
    link = f'<link rel="next" title="n" href="{next_page}" />' if next_page else ""
    return (
        f"<html><head><title>{title}</title>{link}<script>var junk = 1;</script></head><body>"
        f'<div class="related" role="navigation"><a href="x.html">NAVIGATION-NOISE</a></div>'
        f"<h1>{title}</h1><p>{body}</p><pre>x = 1\n    y = 2</pre></body></html>"
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A site-packages with four packages (one file duplicated across two of them, a binary
    and a dist-info), a loose module, and a prose tree with linked HTML pages and text."""
    root = tmp_path_factory.mktemp("machine")
    site = root / "site-packages"
    write(site / "alpha" / "__init__.py", python_source(1))
    write(site / "alpha" / "core.py", python_source(2))
    write(site / "alpha" / "sub" / "util.py", python_source(3))
    write(site / "alpha" / "README.md", prose(4))
    (site / "alpha" / "data.bin").write_bytes(bytes(range(256)) * 4)
    write(site / "alpha-1.0.dist-info" / "METADATA", "Metadata-Version: 2.4\nName: alpha\nLicense-Expression: MIT\n")
    write(site / "alpha-1.0.dist-info" / "top_level.txt", "alpha\n")
    write(site / "beta" / "__init__.py", python_source(5))
    write(site / "beta" / "copied.py", python_source(2))  # the same bytes as alpha/core.py
    write(site / "beta" / "extra.py", python_source(6))
    for i, name in enumerate(["gamma", "delta"]):
        for j in range(3):
            write(site / name / f"m{j}.py", python_source(10 + 5 * i + j))
    write(site / "loose_module.py", python_source(30, functions=80))
    write(site / "__pycache__" / "loose_module.cpython-311.pyc", "not python")

    docs = root / "docs"
    # Reading order index -> usage -> intro differs from name order index, intro, usage.
    write(docs / "manual" / "index.html", html_page("Index", prose(40, 100), "usage.html"))
    write(docs / "manual" / "usage.html", html_page("Usage", prose(41, 100), "intro.html#top"))
    write(docs / "manual" / "intro.html", html_page("Intro", prose(42, 100), None))
    write(docs / "manual" / "genindex.html", html_page("General Index", prose(43), None))
    write(docs / "notes" / "a.txt", prose(50, 120))
    write(docs / "notes" / "b.md", "# B\n\n" + prose(51, 120))
    write(docs / "notes" / "b.html", html_page("B as HTML", prose(52), None))  # b.md is preferred
    with gzip.open(docs / "notes" / "c.txt.gz", "wt") as f:
        f.write(prose(53, 120))
    write(docs / "guide" / "part1.rst", prose(60, 200))
    write(docs / "guide" / "part2.rst", prose(61, 200))
    return root


SMALL = dict(vocab_size=300, val_fraction=0.2, min_val_code=3, min_val_prose=1, min_val_tokens=1000)
TARGET = 10_000  # characters per packed prose document: several documents from a small tree


@pytest.fixture(scope="module")
def built(tree, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(documents, "TARGET_DOC_CHARS", TARGET)
        manifest = corpus.build_corpus([tree / "site-packages", f"prose={tree / 'docs'}"], out, **SMALL)
    return out, manifest


def decoded(out: Path, split: str) -> dict[str, str]:
    """Each document of a split decoded back to text, special tokens included."""
    tokenizer = tok.load(out / "tokenizer.json")
    return {
        d["name"]: tokenizer.decode(ids.tolist(), skip_special_tokens=False)
        for d, ids in corpus.TokenCorpus(out, split).iter_documents()
    }


def all_decoded(out: Path) -> dict[str, str]:
    return decoded(out, "train") | decoded(out, "val")


def headers(text: str) -> list[str]:
    return re.findall(re.escape(tok.FILE) + r"(.*)\n", text)


def test_one_code_document_per_package_with_headers_in_path_order(built):
    out, manifest = built
    code = {d["name"] for d in manifest["documents"] if d["kind"] == "code"}
    assert code == {f"site-packages/{n}" for n in ("alpha", "beta", "gamma", "delta", "loose_module")}
    texts = all_decoded(out)
    assert headers(texts["site-packages/alpha"]) == ["README.md", "__init__.py", "core.py", "sub/util.py"]
    assert headers(texts["site-packages/gamma"]) == ["m0.py", "m1.py", "m2.py"]
    assert headers(texts["site-packages/loose_module"]) == ["loose_module.py"]


def test_document_text_is_what_ingest_renders(built, tree):
    """Decoding a document's span of the bin gives back exactly the collected text."""
    out, _ = built
    expected = sources.collect([tree / "site-packages" / "delta"]).render()
    assert all_decoded(out)["site-packages/delta"] == expected


def test_duplicate_files_are_used_once(built):
    out, manifest = built
    texts = all_decoded(out)
    assert headers(texts["site-packages/beta"]) == ["__init__.py", "extra.py"]  # copied.py repeats alpha/core.py
    copied = python_source(2).splitlines()[1]
    assert sum(text.count(copied) for text in texts.values()) == 1
    assert manifest["skipped"]["duplicate content"] == 1


def test_prose_follows_next_links_and_drops_navigation(built):
    out, manifest = built
    texts = all_decoded(out)
    manual = next(text for name, text in texts.items() if "manual" in name)
    assert headers(manual) == ["manual/index.html", "manual/usage.html", "manual/intro.html"]
    assert "# Usage" in manual and "x = 1\n    y = 2" in manual
    assert "NAVIGATION-NOISE" not in manual and "junk" not in manual and "General Index" not in manual
    notes = next(text for name, text in texts.items() if "notes" in name)
    assert headers(notes) == ["notes/a.txt", "notes/b.md", "notes/c.txt.gz"]
    assert {d["kind"] for d in manifest["documents"] if d["source"].endswith("docs")} == {"prose"}


def test_splits_are_whole_documents_with_the_guaranteed_val_documents(built):
    out, manifest = built
    train, val = decoded(out, "train"), decoded(out, "val")
    assert train and val and not set(train) & set(val)
    assert set(train) | set(val) == {d["name"] for d in manifest["documents"]}
    long_val = [d for d in manifest["documents"] if d["split"] == "val" and d["tokens"] >= SMALL["min_val_tokens"]]
    assert sum(d["kind"] == "code" for d in long_val) >= SMALL["min_val_code"]
    assert sum(d["kind"] == "prose" for d in long_val) >= SMALL["min_val_prose"]
    promoted = [d["name"] for d in long_val if corpus._unit(d["name"]) >= SMALL["val_fraction"]]
    assert promoted and not manifest["val_shortfall"]


def test_manifest_offsets_index_the_bins(built):
    out, manifest = built
    for split in ("train", "val"):
        data = np.fromfile(out / f"{split}.bin", dtype="<u2")
        assert manifest["splits"][split]["ids"] == len(data)
        eot = data[0]
        ends = [d["offset"] + d["tokens"] for d in manifest["documents"] if d["split"] == split]
        assert all(data[d["offset"] - 1] == eot for d in manifest["documents"] if d["split"] == split)
        assert all(data[end] == eot for end in ends) and max(ends) + 1 == len(data)
    assert manifest["totals"]["all"]["tokens"] == sum(d["tokens"] for d in manifest["documents"])
    assert next(d for d in manifest["documents"] if d["name"] == "site-packages/alpha")["license"] == "MIT"


def test_build_is_deterministic(built, tree, tmp_path, monkeypatch):
    out, _ = built
    monkeypatch.setattr(documents, "TARGET_DOC_CHARS", TARGET)
    corpus.build_corpus([tree / "site-packages", f"prose={tree / 'docs'}"], tmp_path, **SMALL)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["manifest.json", "tokenizer.json", "train.bin", "val.bin"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_sampler_windows_stay_inside_one_document(built):
    out, _ = built
    data = corpus.TokenCorpus(out, "train")
    eot = int(data.tokens[0])
    spans = {d["name"]: np.asarray(ids) for d, ids in data.iter_documents()}
    lengths = sorted(map(len, spans.values()))
    length = (lengths[0] + lengths[-2]) // 2  # the shortest document is too short, two are not
    eligible = {name for name, ids in spans.items() if len(ids) > length}
    assert 2 <= len(eligible) < len(spans)
    rng = np.random.default_rng(0)
    drawn = set()
    for _ in range(100):
        window = data.sample(rng, length)
        assert window.shape == (length + 1,) and eot not in window
        inside = {name for name in spans if _contains(spans[name], window)}
        assert inside and inside <= eligible
        drawn |= inside
    assert len(drawn) >= 2
    with pytest.raises(ValueError):
        data.sample(rng, max(len(ids) for ids in spans.values()))


def _contains(haystack: np.ndarray, window: np.ndarray) -> bool:
    starts = np.flatnonzero(haystack[: len(haystack) - len(window) + 1] == window[0])
    return any(np.array_equal(haystack[s : s + len(window)], window) for s in starts)


def test_max_tokens_shortens_the_longest_documents_at_file_boundaries(tree, built, tmp_path):
    out, full = built
    total = full["totals"]["all"]["tokens"]
    manifest = corpus.build_corpus(
        [tree / "site-packages"], tmp_path, tokenizer_path=out / "tokenizer.json", max_tokens=total // 3, **SMALL
    )
    assert manifest["totals"]["all"]["tokens"] <= total // 3
    assert manifest["tokenizer"]["trained"] is False
    assert (tmp_path / "tokenizer.json").read_bytes() == (out / "tokenizer.json").read_bytes()
    cut = [d for d in manifest["documents"] if "truncated_from" in d]
    assert cut and all(d["tokens"] < d["truncated_from"] for d in cut)
    kept = [d["tokens"] for d in manifest["documents"] if "truncated_from" not in d]
    assert all(n <= min(d["truncated_from"] for d in cut) for n in kept)  # the longest were cut


def test_sources_are_detected_or_named(tree, tmp_path):
    repo = tmp_path / "repo"
    write(repo / "pkg" / "main.py", python_source(70, functions=80))
    write(repo / "README.md", prose(71))
    assert documents.detect(tree / "site-packages") == "packages"
    assert documents.detect(tree / "docs") == "prose"
    assert documents.detect(repo) == "code"
    assert documents.parse_source(f"prose={repo}") == ("prose", repo)
    assert documents.parse_source(repo) == (None, repo)
    manifest = corpus.build_corpus([repo], tmp_path / "out", vocab_size=300, val_fraction=0)
    assert [(d["name"], d["kind"], d["files"]) for d in manifest["documents"]] == [("repo", "code", 2)]
    with pytest.raises(Exception, match="not a directory"):
        corpus.build_corpus([repo / "README.md"], tmp_path / "bad")


def test_info_and_html_text():
    info = (
        "\x1f\nFile: x.info,  Node: Top,  Next: A\n\nIntro text.\n\x1f\nTag Table:\nNode: Top\x7f12\n\x1f\nEnd "
        "Tag Table\n"
    )
    assert render.info_text(info) == "Intro text.\n"
    parser = render.HTMLText()
    parser.feed(
        "<ul><li>one</li><li>two &amp; three</li></ul><a "
        "class='headerlink'>¶</a><table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert parser.text() == "- one\n- two & three\na b\n"


def test_truncate_prefers_a_file_boundary():
    ids = np.array([1, 5, 5, 5, 1, 5, 5, 5, 5, 1, 5, 5], dtype="<u2")
    assert corpus.truncate(ids, 10, file_id=1).tolist() == ids[:9].tolist()  # before the header at 9
    assert corpus.truncate(ids, 3, file_id=1).tolist() == ids[:3].tolist()  # no header in the second half


def test_water_level_fits_the_budget():
    assert corpus.water_level([10, 100, 1000], 310) == 200
    assert corpus.water_level([10, 100, 1000], 10_000) == 1000
