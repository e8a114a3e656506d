"""`bench`: reading and its baselines timed side by side in one run, wall-clock and CPU time."""

from __future__ import annotations

import pytest


def test_ratios_come_from_one_run(model):
    from ttt_read import bench

    result = bench.run(model, [128, 256], decode_tokens=2)
    first, second = result["rows"]
    assert [first["tokens"], second["tokens"]] == [128, 256]
    for row in result["rows"]:
        assert row["reading_vs_full_attention"] == pytest.approx(row["reading_tok_s"] / row["full_attention_tok_s"])
        assert row["reading_tok_per_cpu_s"] > 0
    assert first["reading_vs_shortest"] == 1.0
    assert second["reading_vs_shortest"] == pytest.approx(second["reading_tok_s"] / first["reading_tok_s"])
    assert result["decode_ms_per_token"] > 0 and result["decode_cpu_ms_per_token"] > 0
