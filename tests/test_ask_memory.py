"""`ask` answers from the memory: a fact read once, far outside the attention window and kept
out of the prompt (no notepad), makes its answer more likely than the model alone finds it."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from conftest import CORPUS, SAMPLE_FILES, ingest, run_in_process

from ttt_read.memory import opened
from ttt_read.text import tokenizer as tok

QUESTION = "Who is the keeper of the Varnholm lighthouse?"
ANSWER = "Quillon Marrow"
FACT = """# Varnholm harbour

The keeper of the Varnholm lighthouse is Quillon Marrow. Quillon Marrow lights the lamp at
dusk and logs every ship that passes the point. Ask for Quillon Marrow, the lighthouse
keeper, at the foot of the tower.
"""
# Nats by which the memory of FACT raises the answer's log-probability, measured with the
# bundled checkpoint by tools/measure_recall.py: 7.12 over the model alone (--no-memory), 4.94
# over a memory of the same text without FACT. From the final state alone they are 0.97 and
# 2.25: reading the code after FACT moved the weights away from it (`ttt_read/waypoints.py`).
MARGIN_OVER_NO_MEMORY = 1.5
MARGIN_OVER_OTHER_MEMORY = 1.0


def read_tree(root, with_fact: bool):
    """FACT first (when asked for), then more than a window of other text after it."""
    root.mkdir()
    if with_fact:
        (root / "harbour.md").write_text(FACT)
    for name in SAMPLE_FILES:
        shutil.copyfile(CORPUS / name, root / name)
    return ingest([root], root.with_suffix(".mem"))


pytestmark = pytest.mark.usefixtures("one_thread", "home")  # one torch thread, a TTT_READ_HOME of its own


@pytest.fixture(scope="module")
def mems(tmp_path_factory):
    base = tmp_path_factory.mktemp("ask")
    return read_tree(base / "fact", with_fact=True), read_tree(base / "other", with_fact=False)


def forced_logprob(memory, use_memory: bool, final_state: bool = False) -> float:
    """log P(ANSWER, then the end of the answer | the question), as `ask --no-notepad` prompts
    and from the memory's state it answers with (or its final state)."""
    session = memory.session(learn=False, use_memory=use_memory, question=None if final_state else QUESTION)
    logits = session.feed(tok.encode_qa_prompt(memory.tokenizer, QUESTION))
    total = 0.0
    for token in tok.encode_answer(memory.tokenizer, ANSWER):
        total += float(torch.log_softmax(logits.float(), -1)[token])
        logits = session.feed([token])
    return total


def test_the_fact_is_only_in_the_fast_weights(mems):
    memory = opened.open_memory(mems[0], device="cpu")
    assert ANSWER not in memory.tokenizer.decode(memory.snapshot.tail_tokens)  # not in the window `ask` starts with
    assert ANSWER not in "".join(p.read_text() for p in CORPUS.iterdir())


def test_the_memory_makes_the_answer_more_likely(mems):
    with_fact, other = (opened.open_memory(mem, device="cpu") for mem in mems)
    remembered = forced_logprob(with_fact, use_memory=True)
    assert remembered >= forced_logprob(with_fact, use_memory=False) + MARGIN_OVER_NO_MEMORY
    assert remembered >= forced_logprob(other, use_memory=True) + MARGIN_OVER_OTHER_MEMORY


def greedy_answer(memory, use_memory: bool, question: str | None = QUESTION, n: int = 8) -> tuple[str, float]:
    """The model's own greedy answer to QUESTION, from the state the question chooses (or the
    final one for question=None), ending at the end of an answer: (text, mean log-probability)."""
    from ttt_read.predict.generate import generate

    tokenizer = memory.tokenizer
    stops = frozenset(tokenizer.token_to_id(t) for t in (tok.END_OF_TEXT, tok.QUESTION, tok.FILE))
    session = memory.session(learn=False, use_memory=use_memory, question=question)
    logprobs: list[float] = []
    prompt = tok.encode_qa_prompt(tokenizer, QUESTION)
    ids = list(generate(session, prompt, n, temperature=0.0, stop=stops, logprobs=logprobs))
    return tokenizer.decode(ids).strip(), sum(logprobs) / len(logprobs)


def test_ask_without_notepad_answers_from_the_memory(mems, capsys):
    """The command, not just the session: with the memory it answers from the very state whose
    recall the test above measures (the one the question chooses, not the final one), and
    with --no-memory from the model alone."""
    answers = {}
    for flags in ((), ("--no-memory",)):
        code, out, _ = run_in_process(capsys, "ask", mems[0], QUESTION, "--no-notepad", "-n", "8", "--json", *flags)
        assert code == 0
        answers[flags] = json.loads(out)
    assert answers[()]["sources"] == answers[("--no-memory",)]["sources"] == []
    memory = opened.open_memory(mems[0], device="cpu")
    for flags, use_memory in (((), True), (("--no-memory",), False)):
        text, logprob = greedy_answer(memory, use_memory)
        assert answers[flags]["answer"] == text, flags
        assert answers[flags]["scores"]["answer_logprob"] == pytest.approx(logprob, abs=1e-4), flags
    assert answers[()]["answer"] != answers[("--no-memory",)]["answer"]
    assert greedy_answer(memory, True, question=None)[0] != answers[()]["answer"]  # the final state answers otherwise


def test_the_memory_scores_the_answer_it_read_above_another(mems):
    """What `TTT_READ_MEMORY_RERANK` adds to a candidate's score: its answer's log-likelihood
    gain per token from the state `ask` answers from (not the drifted final state), higher for
    the answer read once than for a name the text never said."""
    from ttt_read.ask.ranking import memory_scores

    with_fact = opened.open_memory(mems[0], device="cpu")
    read, unread = memory_scores(with_fact, QUESTION, [ANSWER, "Brannock Weald"])
    tokens = len(tok.encode_answer(with_fact.tokenizer, ANSWER))
    # the gain `ask` itself sees (its prompt also follows the snapshot's last window, so the two
    # differ; from the final state the score would keep well under half of it)
    gain = forced_logprob(with_fact, use_memory=True) - forced_logprob(with_fact, use_memory=False)
    assert read * tokens >= 0.5 * gain
    assert read > unread + MARGIN_OVER_OTHER_MEMORY / tokens
