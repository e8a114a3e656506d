"""The memory at earlier points of a read: where a snapshot keeps it, and which state a
question gets."""

from __future__ import annotations

import pytest
import torch
from conftest import CORPUS, SAMPLE_FILES

from ttt_read.memory import opened
from ttt_read.read import ingest as engine
from ttt_read.read import snapshot, waypoints
from ttt_read.text import tokenizer as tok


def test_points_are_evenly_spaced_without_files_and_never_the_final_chunk():
    assert waypoints.chunks([], 80, k=8) == [9, 19, 29, 39, 49, 59, 69]
    assert waypoints.chunks([], 5, k=8) == [0, 1, 2, 3]  # a short read keeps every earlier chunk
    assert waypoints.chunks([], 1, k=8) == []


def test_large_fast_weights_keep_fewer_earlier_states():
    assert waypoints.states(196_608) == waypoints.WAYPOINTS  # the bundled model: 0.4 MiB a state
    assert waypoints.states(1_500_000) == 3  # 2.9 MiB a state
    assert waypoints.states(18_579_456) == 1  # 70.9 MiB in fp32: the final state only
    assert waypoints.chunks([], 80, k=1) == []


def test_a_point_moves_to_a_file_end_within_half_the_spacing():
    ends = [11, 33, 52, 79]  # the last file ends in the final chunk: that state is kept anyway
    assert waypoints.chunks(ends, 80, k=8) == [11, 19, 33, 39, 52, 59, 69]  # 9, 29, 49 moved


@pytest.mark.usefixtures("one_thread", "home")
def test_a_snapshot_keeps_earlier_states_and_a_question_gets_the_one_it_surprises_least(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    for name in SAMPLE_FILES:
        (root / name).write_text((CORPUS / name).read_text())
    metadata = engine.ingest([root], tmp_path / "t.mem", device="cpu")
    n_chunks = len(metadata["chunk_losses"])
    assert 0 < len(metadata["waypoints"]) <= waypoints.WAYPOINTS - 1
    assert all(0 <= c < n_chunks - 1 for c in metadata["waypoints"])

    memory = opened.open_memory(tmp_path / "t.mem", device="cpu")
    assert len(memory.snapshot.waypoints) == len(metadata["waypoints"])
    final = memory.fast_weights()
    assert all(torch.equal(a[0], b) for a, b in zip(final, memory.snapshot.fast, strict=True))  # `continue` starts here

    question = "What does the parser's `parsestr` method return?"
    prompt = tok.encode_qa_prompt(memory.tokenizer, question)
    states = [memory.snapshot.fast, *memory.snapshot.waypoints]
    surprises = [memory.session_from([w.float()[None] for w in s], learn=False).surprise(prompt) for s in states]
    chosen = memory.fast_weights(question=question)
    best = states[surprises.index(min(surprises))]
    assert all(torch.equal(a[0], b.float()) for a, b in zip(chosen, best, strict=True))
    assert len(set(surprises)) > 1  # the states differ in how well they know the question
    assert snapshot.load(tmp_path / "t.mem").metadata["waypoints"] == metadata["waypoints"]
