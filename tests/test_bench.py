"""`bench`: reading and its baselines timed side by side in one run, wall-clock and CPU time."""

from __future__ import annotations

import types

import pytest

# What the timed work costs on the clocks below: wall and CPU seconds per token.
READING, FULL_ATTENTION, DECODING = (1e-3, 0.5e-3), (2e-3, 1.5e-3), (7e-3, 3e-3)


class Clocks:
    """A wall clock and a CPU clock that move only when the timed work says it ran: the
    bench's numbers then follow from known costs, whatever the machine and its load."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def spend(self, tokens: int, cost: tuple[float, float]) -> None:
        self.wall += tokens * cost[0]
        self.cpu += tokens * cost[1]

    def module(self):
        return types.SimpleNamespace(perf_counter=lambda: self.wall, process_time=lambda: self.cpu)


@pytest.fixture
def clocks(model, monkeypatch) -> Clocks:
    """The bench's clocks replaced; reading, full attention and each decoded token (the real
    ones, on the real model) charge them their cost."""
    from ttt_read.evaluate import bench

    clocks = Clocks()
    monkeypatch.setattr(bench, "time", clocks.module())
    read, full_attention, session = bench.read, model.full_attention_hidden, bench.Session

    def charged_read(model, tokens, **kwargs):
        clocks.spend(tokens.shape[1] - 1, READING)  # length + 1 tokens: length predictions
        return read(model, tokens, **kwargs)

    def charged_full_attention(tokens):
        clocks.spend(tokens.shape[1], FULL_ATTENTION)
        return full_attention(tokens)

    class ChargedSession(session):
        def feed(self, tokens):
            clocks.spend(len(tokens), DECODING)
            return super().feed(tokens)

    monkeypatch.setattr(bench, "read", charged_read)
    monkeypatch.setattr(model, "full_attention_hidden", charged_full_attention)
    monkeypatch.setattr(bench, "Session", ChargedSession)
    return clocks


def test_rates_are_tokens_over_the_time_of_the_timed_work_alone(model, clocks):
    """Reading at 1 ms (CPU 0.5 ms) a token and full attention at 2 ms (CPU 1.5 ms) give
    1000 and 500 tokens/s (2000 per CPU-second), a ratio of 2 at every length; decoding at
    7 ms (CPU 3 ms) a token gives 7 and 3 ms/token. Warm-up calls are not timed."""
    from ttt_read.evaluate import bench

    result = bench.run(model, [128, 256], decode_tokens=3)
    assert [row["tokens"] for row in result["rows"]] == [128, 256]
    for row in result["rows"]:
        assert row["reading_tok_s"] == pytest.approx(1000)
        assert row["reading_tok_per_cpu_s"] == pytest.approx(2000)
        assert row["full_attention_tok_s"] == pytest.approx(500)
        assert row["reading_vs_full_attention"] == pytest.approx(2.0)
        assert row["reading_vs_shortest"] == pytest.approx(1.0)
    assert result["decode_ms_per_token"] == pytest.approx(7.0)
    assert result["decode_cpu_ms_per_token"] == pytest.approx(3.0)
    assert clocks.wall > 0


def test_ratios_come_from_one_run_on_the_real_clocks(model):
    """Every number is a real measurement: the time each implies fits within the run's own."""
    import time

    from ttt_read.evaluate import bench

    started, cpu_started = time.perf_counter(), time.process_time()
    result = bench.run(model, [128, 256], decode_tokens=2)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    first, second = result["rows"]
    assert [first["tokens"], second["tokens"]] == [128, 256]
    assert first["reading_vs_shortest"] == 1.0
    assert second["reading_vs_shortest"] == pytest.approx(second["reading_tok_s"] / first["reading_tok_s"])
    rows = result["rows"]
    timed = sum(row["tokens"] / row["reading_tok_s"] + row["tokens"] / row["full_attention_tok_s"] for row in rows)
    assert 0 < timed + 2 * result["decode_ms_per_token"] / 1000 <= wall
    timed_cpu = sum(row["tokens"] / row["reading_tok_per_cpu_s"] for row in rows)
    assert 0 < timed_cpu + 2 * result["decode_cpu_ms_per_token"] / 1000 <= cpu


def test_decoding_with_a_notepad_is_timed_on_the_whole_package_source(model_and_tokenizer, checkpoint_info):
    """The notepad bench times decoding against is ttt-read's own source read whole, every
    sub-package of it (a small codebase, over 100K tokens), not the one folder bench lives in."""
    from ttt_read.evaluate import bench

    model, tokenizer = model_and_tokenizer
    index, gate = bench.package_notepad(tokenizer, checkpoint_info, model.cfg.vocab_size)
    assert len(index.tokens) > 100_000 and gate is not None
