"""The notepad as a next-token model: its three views agree, the gate mixes, healing."""

import math

import numpy as np
import pytest
import torch

from ttt_read.predict import ngram


def _text(seed: int) -> list[int]:
    """Random tokens with repeats of several lengths, over a small vocabulary (many matches)."""
    rng = np.random.default_rng(seed)
    noise = list(rng.integers(0, 40, 300))
    phrase = list(rng.integers(0, 40, 25))
    return noise + phrase * 3 + list(rng.integers(0, 4, 150)) + phrase[:10] + noise[:50]


def _brute(tokens: list[int], t: int) -> tuple[int, int, int, int, int]:
    """(order, total, distinct, top, hit) at position t by counting every earlier position."""
    for order in range(min(ngram.MAX_ORDER, t + 1), 0, -1):
        context = tokens[t - order + 1 : t + 1]
        followers = [tokens[s + 1] for s in range(order - 1, t) if tokens[s - order + 1 : s + 1] == context]
        if followers:
            counts = {f: followers.count(f) for f in followers}
            return order, len(followers), len(counts), max(counts.values()), counts.get(tokens[t + 1], 0)
    return 0, 0, 0, 0, 0


@pytest.mark.parametrize("seed", [0, 1])
def test_prequential_counts_only_earlier_text_exactly(seed):
    tokens = _text(seed)
    stats = ngram.prequential(tokens)
    fields = ("order", "total", "distinct", "top", "hit")
    got = [tuple(int(getattr(stats, f)[t]) for f in fields) for t in range(len(stats))]
    assert got == [_brute(tokens, t) for t in range(len(tokens) - 1)]
    assert stats.order.max() == ngram.MAX_ORDER  # the repeated phrase is matched at full length


def test_the_snapshot_index_and_a_session_history_find_the_same_matches():
    tokens = _text(2)
    index = ngram.TokenIndex(tokens, 40)
    history = ngram.History(40)
    history.extend(tokens)
    rng = np.random.default_rng(3)
    for q in range(60):
        start = int(rng.integers(0, len(tokens) - 20))
        context = tokens[start : start + int(rng.integers(1, 20))] if q % 2 else list(rng.integers(0, 40, 6))
        a = ngram.lookup(context, index, None, 40)
        b = ngram.lookup(context, None, history, 40)
        assert a.order == b.order and np.array_equal(a.counts, b.counts)


def test_the_longer_match_wins_and_equal_ones_add():
    index = ngram.TokenIndex([1, 2, 3, 1, 2, 4], 8)
    history = ngram.History(8)
    history.extend([9, 1, 2, 5])
    both = ngram.lookup([1, 2], index, history, 8)
    assert both.order == 2 and both.counts[[3, 4, 5]].tolist() == [1, 1, 1]
    history.extend([7, 9, 1, 2, 6])
    longer = ngram.lookup([9, 1, 2], index, history, 8)
    assert longer.order == 3 and longer.counts.sum() == 2 and longer.counts[[5, 6]].tolist() == [1, 1]


def test_a_fitted_gate_trusts_long_matches_and_never_scores_worse_than_the_model():
    rng = np.random.default_rng(4)
    block = list(rng.integers(0, 300, 400))
    tokens = block + list(rng.integers(0, 300, 2000)) + block  # the second copy is predictable
    stats = ngram.prequential(tokens)
    model = np.full(len(stats), math.log(300))  # a model that knows nothing: uniform
    gate = ngram.fit_gate([model], [stats])
    mixed = ngram.mixed_losses(model, stats, gate)
    copy = slice(len(tokens) - 380, len(tokens) - 1)
    assert mixed[copy].mean() < 0.1 < model[copy].mean()
    assert mixed.mean() < model.mean()
    g = gate(np.array([16, 1]), np.array([1, 1]), np.array([1, 1]), np.array([1, 1]))
    assert g[0] > 0.9 > g[1]


def test_mix_without_a_match_is_the_model(tmp_path):
    logits = torch.randn(8)
    gate = ngram.Gate([[5.0, 0, 0, 0]] * len(ngram.ORDER_EDGES))
    none = ngram.Match(0, np.zeros(8, dtype=np.int64))
    assert torch.allclose(ngram.mix(logits, none, gate), logits.softmax(-1))
    sure = ngram.Match(16, np.eye(8, dtype=np.int64)[3])
    assert int(ngram.mix(logits, sure, gate).argmax()) == 3
    gate.save(tmp_path / "g.json")
    assert ngram.Gate.load(tmp_path / "g.json").weights == gate.weights
    (tmp_path / "bad.json").write_text("{")
    assert ngram.Gate.load(tmp_path / "bad.json") is None and ngram.Gate.load(tmp_path / "none.json") is None


# --- continue: recall of what a snapshot read ---------------------------------------------


def _unique_long_lines(n: int) -> list[tuple[list[str], int]]:
    """(lines, index) of the first `n` lines of the sample files that are long, appear once,
    and have 3 lines above them."""
    from conftest import CORPUS, SAMPLE_FILES

    files = [(CORPUS / name).read_text().split("\n") for name in SAMPLE_FILES]
    count = {}
    for lines in files:
        for line in lines:
            count[line.strip()] = count.get(line.strip(), 0) + 1
    found = [(lines, i) for lines in files for i, line in enumerate(lines) if i >= 3 and len(line.strip()) >= 40]
    return [(lines, i) for lines, i in found if count[lines[i].strip()] == 1][::7][:n]


def test_continue_recalls_lines_it_read_with_the_notepad_and_less_without(ttt_home, sample_mem):
    import json

    from conftest import assert_ok, run_cli

    recalled = {"notepad": 0, "model alone": 0}
    for lines, i in _unique_long_lines(4):
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip())]
        prompt = "\n".join(lines[i - 3 : i]) + "\n" + indent + line.strip()[:8]
        for setting, flags in (("notepad", []), ("model alone", ["--no-notepad"])):
            result = run_cli(
                ttt_home, "continue", sample_mem, prompt, "-n", "40", "--temperature", "0", "--json", *flags
            )
            assert_ok(result)
            written = (prompt + json.loads(result.stdout)["text"]).split("\n")[3]
            recalled[setting] += written == line
    assert recalled["notepad"] == 4 and recalled["model alone"] < 4, recalled


def test_eval_scores_the_notepad_alone_and_mixed_prequentially(
    model, model_and_tokenizer, code_tokens, checkpoint_info
):
    """A text read twice: the second copy is nearly free with the notepad (the bundled gate),
    while the first copy, new text, costs the mixture no more than the model alone."""
    from conftest import take

    from ttt_read.evaluate.loss import evaluate

    model, tokenizer = model_and_tokenizer
    gate = ngram.Gate.load(ngram.gate_path(checkpoint_info.path))
    assert gate is not None
    text = take(code_tokens, 700, start=2000)
    result = evaluate({"on": (model, model.cfg.inner_lr)}, [text + text], tokenizer=tokenizer, gate=gate, mixed=["on"])
    rows = result["settings"]
    assert list(rows) == ["on", "notepad alone", "on + notepad"]
    model_losses = evaluate({"on": (model, model.cfg.inner_lr)}, [text], tokenizer=tokenizer)["settings"]["on"]
    assert rows["on + notepad"]["bits_per_byte"] < 0.6 * rows["on"]["bits_per_byte"]
    first = evaluate({"on": (model, model.cfg.inner_lr)}, [text], tokenizer=tokenizer, gate=gate, mixed=["on"])
    assert first["settings"]["on + notepad"]["mean_loss"] <= model_losses["mean_loss"] + 0.02


def test_train_gate_fits_on_a_corpus_of_the_models_tokenizer_and_refuses_another(ttt_home, checkpoint_info, tmp_path):
    """`train gate` on frozen fixture code tokenized as the model tokenizes: the written gate
    loads and mixes to a lower loss than the model alone; a corpus of another tokenizer is an
    input error, one line, and writes nothing."""
    import json

    from conftest import CORPUS, assert_ok, run_cli

    from ttt_read.core.errors import ExitCode
    from ttt_read.train.corpus import build_corpus

    corpus = tmp_path / "corpus"
    build_corpus(
        [CORPUS],
        corpus,
        tokenizer_path=checkpoint_info.tokenizer_path,
        val_fraction=0.0,
        min_val_code=0,
        min_val_prose=0,
    )
    out = tmp_path / "gate.json"
    args = ("train", "gate", "--corpus", corpus, "--documents", "1", "--tokens", "1024", "-o", out)
    result = run_cli(ttt_home, *args, "--json")
    assert_ok(result)
    fitted = json.loads(result.stdout)
    assert fitted["output"] == str(out) and len(fitted["documents"]) >= 1
    assert fitted["mixed_loss"] < fitted["model_loss"]
    assert ngram.Gate.load(out) is not None

    other = tmp_path / "other"
    build_corpus([CORPUS], other, vocab_size=400, val_fraction=0.0, min_val_code=0, min_val_prose=0)
    refused = run_cli(ttt_home, "train", "gate", "--corpus", other, "-o", tmp_path / "refused.json")
    assert refused.returncode == ExitCode.INPUT and "another tokenizer" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "refused.json").exists()
