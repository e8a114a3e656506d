"""QA synthesis on the frozen `email` modules (tests/fixtures/), `ask` with the notepad, and
`eval-qa`, end to end with the real checkpoint (whose answers may be poor: the machinery is tested)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from conftest import CORPUS, assert_ok, run_cli
from pdfs import write_pdf

from ttt_read.ask.answer import NO_NOTEPAD_NOTICE, build_context, normalize
from ttt_read.core.errors import ExitCode
from ttt_read.evaluate.qa import SETTINGS, score
from ttt_read.notepad.store import Notepad
from ttt_read.questions import code_qas, pair
from ttt_read.questions import synthesis as qa
from ttt_read.text import sources
from ttt_read.text import tokenizer as tok


@pytest.fixture(scope="module")
def repo_text() -> str:
    return sources.collect([CORPUS]).render()


@pytest.fixture(scope="module")
def repo_qas(repo_text) -> dict[str, pair.QA]:
    return {q.question: q for q in qa.all_qas(repo_text)}


def line_of(path: Path, pattern: str) -> int:
    return next(n for n, line in enumerate(path.read_text().split("\n"), start=1) if re.match(pattern, line))


# --- synthesis: known facts of the frozen `email` files ------------------------------------------


def test_where_things_are_defined(repo_qas):
    where = repo_qas["Where is `body_line_iterator` defined?"]
    assert (where.answer, where.path, where.kind) == ("iterators.py", "iterators.py", "defined_in")
    assert where.line == line_of(CORPUS / "iterators.py", r"def body_line_iterator\(")
    assert repo_qas["Where is `message_from_string` defined?"].answer == "__init__.py"
    parser = repo_qas["Where is `BytesParser` defined?"]  # a class
    assert (parser.answer, parser.line) == ("parser.py", line_of(CORPUS / "parser.py", r"class BytesParser\b"))
    assert repo_qas["Where is `Message` defined?"].answer == "message.py"


def test_signatures_docstrings_and_constants(repo_qas):
    assert repo_qas["What parameters does `message_from_string` take?"].answer == "s, *args, **kws"
    encode = repo_qas["What parameters does `header_encode` take?"]  # defaults are left out
    assert (encode.answer, encode.path) == ("header_bytes, charset", "base64mime.py")
    assert encode.line == line_of(CORPUS / "base64mime.py", r"def header_encode\(")
    assert repo_qas["What does `header_length` return?"].answer == "n"  # no annotation: the one value returned
    assert repo_qas["What does `Message.is_multipart` return?"].answer == "isinstance(self._payload, list)"
    assert "What does `encode_base64` return?" not in repo_qas  # it returns nothing
    doc = repo_qas["What does `message_from_file` do?"]
    assert (doc.answer, doc.path) == ("Read a file and parse its contents into a Message object model.", "__init__.py")
    assert doc.line == line_of(CORPUS / "__init__.py", r"def message_from_file\(")
    assert repo_qas["What is the value of `CRLF`?"].answer == "'\\r\\n'"  # as the file spells it
    assert repo_qas["What is the value of `MISC_LEN`?"].answer == "7"
    constant = repo_qas["What is the value of `SEMISPACE`?"]
    assert (constant.answer, constant.path) == ("'; '", "message.py")
    assert constant.line == line_of(CORPUS / "message.py", r"SEMISPACE = ")
    assert repo_qas["What does module `base64mime` import?"].answer == "base64, binascii"
    imports = repo_qas["What does module `message` import?"].answer.split(", ")
    assert imports[:4] == ["binascii", "re", "quopri", "io"] and imports.count("email") == 1
    assert "email._policybase" in imports


def test_methods_of_a_class_and_of_methods(repo_qas):
    methods = repo_qas["Which methods does class `Parser` have?"]
    assert methods.answer == "__init__, parse, parsestr" and methods.path == "parser.py"
    assert repo_qas["Which methods does class `NonPrintableDefect` have?"].answer == "__init__, __str__"
    assert repo_qas["What parameters does `Parser.__init__` take?"].answer == "_class, policy"  # no self
    assert repo_qas["What parameters does `BytesParser.parse` take?"].answer == "fp, headersonly"


def test_a_decoded_training_window_is_split_into_its_files(model_and_tokenizer):
    _, tokenizer = model_and_tokenizer
    text = (
        tok.END_OF_TEXT
        + tok.file_header("pkg/a.py")
        + "LIMIT = 3\n"
        + tok.file_header("b.md")
        + "# Title\n\nThe quay opens at dawn for boats.\n"
    )
    decoded = tokenizer.decode(tokenizer.encode(text, add_special_tokens=False).ids, skip_special_tokens=False)
    assert [(s.path, s.body) for s in qa.split_files(decoded)] == [
        ("pkg/a.py", "LIMIT = 3\n"),
        ("b.md", "# Title\n\nThe quay opens at dawn for boats.\n"),
    ]
    found = {q.question: q for q in qa.all_qas(decoded)}
    assert found["What is the value of `LIMIT`?"].path == "pkg/a.py"


def test_a_name_defined_in_two_files_asks_nothing():
    text = (
        tok.file_header("a.py")
        + "def twice(x):\n    return x\n"
        + tok.file_header("b.py")
        + "def twice(y):\n    return y\n"
    )
    questions = {q.question for q in qa.all_qas(text)}
    assert "Where is `twice` defined?" not in questions
    assert "What parameters does `twice` take?" not in questions


def test_a_window_cut_out_of_a_file_still_gives_questions():
    """Meta-training windows start and end mid-file: whole top-level statements are parsed,
    and a text that does not parse at all falls back to regular expressions."""
    lines = (CORPUS / "base64mime.py").read_text().split("\n")
    start = line_of(CORPUS / "base64mime.py", r"def header_encode\(") - 3
    window = "    return x\n" + "\n".join(lines[start:])  # begins inside some other function
    found = {q.question: q for q in qa.all_qas(window)}
    assert found["What parameters does `header_encode` take?"].answer == "header_bytes, charset"
    assert found["What parameters does `body_encode` take?"].answer == "s, maxlinelen, eol"
    assert found["What does `decode` do?"].answer == "Decode a raw base64 string, returning a bytes object."
    assert "What parameters does `header_length` take?" not in found  # defined before the window
    assert all(q.path == "" for q in found.values())
    assert not any(q.kind == "defined_in" for q in found.values())  # no file header, no file to name
    narrowed = tok.file_header("m.py") + "import os\n\ndef good(a, b: int = 2) -> bool:\n    return True\n\ndef bad(:\n"
    assert code_qas._parse_python(qa.split_files(narrowed)[0].body) is not None
    assert {q.question: q.answer for q in qa.all_qas(narrowed)}["What parameters does `good` take?"] == "a, b"
    broken = (
        tok.file_header("m.py")
        + 'def good(a, b: int = 2) -> bool:\n    """Say yes to all. Always."""\n    return (True\n'
    )
    assert code_qas._parse_python(qa.split_files(broken)[0].body) is None
    regex = {q.question: q.answer for q in qa.all_qas(broken)}
    assert regex["What parameters does `good` take?"] == "a, b"
    assert regex["What does `good` return?"] == "bool"
    assert regex["What does `good` do?"] == "Say yes to all."
    assert regex["Where is `good` defined?"] == "m.py"


def test_other_languages_by_regex():
    text = (
        tok.file_header("src/lib.rs")
        + "pub fn scale(v: f64, by: f64) -> f64 {\n    v * by\n}\npub struct Meter(f64);\n"
        + tok.file_header("main.go")
        + "package main\n\nfunc (s *Server) Listen(addr string) error {\n\treturn nil\n}\n"
        + tok.file_header("web/app.ts")
        + "export async function fetchUser(id: string) {\n}\n"
    )
    found = {q.question: q.answer for q in qa.all_qas(text)}
    assert found["Where is `scale` defined?"] == "src/lib.rs"
    assert found["What parameters does `scale` take?"] == "v: f64, by: f64"
    assert found["What does `scale` return?"] == "f64"
    assert found["Where is `Meter` defined?"] == "src/lib.rs"
    assert found["What does `Listen` return?"] == "error"
    assert found["What parameters does `fetchUser` take?"] == "id: string"


def test_prose_headings_definitions_and_cloze(tmp_path):
    page = (
        "1 Introduction\nA lighthouse is a tower that guides ships at night.\nThe keeper lit 42 lamps in 1887 "
        "along the coast."
    )
    write_pdf(tmp_path / "coast.pdf", [page])
    md = "# Harbour rules\n\nBoats must moor at the north quay before noon. Fees are due on arrival.\n"
    (tmp_path / "rules.md").write_text(md)
    found = {q.question: q for q in qa.all_qas(sources.collect([tmp_path]).render())}
    heading = found['What is the first sentence under the heading "Harbour rules"?']
    assert (heading.answer, heading.path, heading.line) == (
        "Boats must moor at the north quay before noon.",
        "rules.md",
        3,
    )
    assert found['What is the first sentence under the heading "1 Introduction"?'].answer.startswith(
        "A lighthouse is a tower"
    )
    assert found["What is a lighthouse?"].answer == "A lighthouse is a tower that guides ships at night."
    cloze = found['Fill in the blank: "The keeper lit ____ lamps in 1887 along the coast."']
    assert cloze.answer == "42" and cloze.path == "coast.pdf" and cloze.kind == "cloze"


def test_synthesis_is_deterministic_and_mixes_kinds(repo_text):
    first = qa.synthesize(repo_text, random.Random(7), 20)
    assert first == qa.synthesize(repo_text, random.Random(7), 20)
    assert first != qa.synthesize(repo_text, random.Random(8), 20)
    assert len(first) == 20 and len({q.question for q in first}) == 20
    assert len({q.kind for q in first}) >= 6
    for q in first:
        assert q.answer and len(q.answer) <= pair.MAX_ANSWER_CHARS
        assert (CORPUS / q.path).is_file() and q.line >= 1


def test_training_turns_are_the_ask_format(repo_text, model_and_tokenizer):
    """A turn is the QUESTION marker, the question, the ANSWER marker, then the answer and
    END_OF_TEXT: the ids training scores are the ones `ask` prompts with and generates."""
    _, tokenizer = model_and_tokenizer
    chosen = qa.synthesize(repo_text, random.Random(3), 5)
    assert len(chosen) == 5
    for q in chosen:
        if any(marker in q.question + q.answer for marker in tok.SPECIAL_TOKENS):
            continue  # literal marker text stays text (test_literal_markers_in_questions_and_passages_stay_text)
        turn = tok.encode_qa_prompt(tokenizer, q.question) + tok.encode_answer(tokenizer, q.answer)
        marked = f"{tok.QUESTION}{q.question}\n{tok.ANSWER}{q.answer}{tok.END_OF_TEXT}"
        assert turn == tokenizer.encode(marked, add_special_tokens=False).ids


def test_literal_markers_in_questions_and_passages_stay_text(model_and_tokenizer, tmp_path):
    """A source file that spells the markers out (as ttt-read's own tokenizer.py does); a
    passage from it (or a question quoting one) must not inject a control token into the prompt."""
    _, tokenizer = model_and_tokenizer
    special = {tokenizer.token_to_id(t) for t in tok.SPECIAL_TOKENS}
    prompt = tok.encode_qa_prompt(tokenizer, f"What does {tok.ANSWER} mark?")
    assert [i for i in prompt if i in special] == [
        tokenizer.token_to_id(tok.QUESTION),
        tokenizer.token_to_id(tok.ANSWER),
    ]
    (tmp_path / "markers.py").write_text(
        '"""Markers of the turn format."""\n\n'
        f'END_OF_TEXT = "{tok.END_OF_TEXT}"\nFILE = "{tok.FILE}"\n'
        f'QUESTION = "{tok.QUESTION}"  # opens a question\n'
        f'ANSWER = "{tok.ANSWER}"  # opens its answer\nPAD = "{tok.PAD}"\n\n\n'
        "def question_turn(question):\n"
        '    """The QUESTION marker, the question, then the ANSWER marker."""\n'
        '    return QUESTION + question + "\\n" + ANSWER\n'
    )
    notepad = Notepad.build(sources.collect([tmp_path]).files)
    passages = notepad.search("What is QUESTION?", k=2)
    context, shown = build_context(tokenizer, passages, "What is QUESTION?", 512, 48)
    assert shown and tok.QUESTION in tokenizer.decode(context, skip_special_tokens=False)
    assert [i for i in context if i in special] == [tokenizer.token_to_id(tok.FILE)] * len(shown)


def test_answers_are_compared_without_case_quotes_or_spacing():
    assert normalize("  `Sources.py`. ") == "sources.py"
    assert score("'<|file|>'", ["<|FILE|>"]) == (True, True)
    assert score("It is in sources.py, near the top", ["sources.py"]) == (False, True)
    assert score("", ["x"]) == (False, False)
    assert score("call parse(fp)", ["parse_file", "parse"]) == (False, True)  # any acceptable answer
    assert score("anything", []) == (False, False)
    assert score("CDPATH", ["cd"]) == (False, False)  # a one-word answer counts as a whole word
    assert score("wait [-fn] [id ...]", ["wait"]) == (False, True)


# --- ask and eval-qa end to end ---------------------------------------------------------------


def cli(capsys, *args) -> tuple[int, str, str]:
    """`ttt-read ARGS...` in this process (torch and the model are loaded already, so it is
    quick); one test below runs it as a subprocess, as a user does."""
    from ttt_read.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture(scope="module")
def qa_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("qa-tree")
    for name in ("__init__.py", "errors.py"):
        (root / name).write_text((CORPUS / name).read_text())
    write_pdf(
        root / "guide.pdf",
        ["Welcome\nThe harbour opens at dawn.", "Tides\nThe spring tide reaches 7 metres at Kestrel Point."],
    )
    return root


@pytest.fixture(scope="module")
def qa_mem(qa_tree, tmp_path_factory) -> Path:
    from ttt_read.read import ingest as engine

    out = tmp_path_factory.mktemp("qa-mem") / "qa.mem"
    engine.ingest([qa_tree], out)
    return out


def test_ask_json_quotes_a_span_of_the_sources(ttt_home, qa_tree, qa_mem):
    result = run_cli(ttt_home, "ask", qa_mem, "What parameters does `message_from_binary_file` take?", "--json")
    assert_ok(result)
    payload = json.loads(result.stdout)
    assert payload["schema_version"] == 1 and payload["grounded"] is True and 0 <= payload["confidence"] <= 1
    assert payload["sources"] and payload["sources"][0]["path"] == "__init__.py"
    top = payload["sources"][0]  # the function's own line, and the span there is its parameter list
    assert top["line"] == line_of(qa_tree / "__init__.py", r"def message_from_binary_file\(")
    assert top["span"] is not None and top["quote"][top["span"][0] : top["span"][1]] == "fp, *args, **kws"
    for source in payload["sources"]:
        lines = (qa_tree / source["path"]).read_text().split("\n")
        assert source["quote"].strip() in lines[source["line"] - 1]
        assert source["line_start"] <= source["line"] <= source["line_end"]
    # Answered, not refused: the parameter list, copied from the file at the cited line and column.
    assert payload["found"] is True and payload["answer"] == "fp, *args, **kws"
    line = (qa_tree / top["path"]).read_text().split("\n")[top["line"] - 1]
    assert line[top["col"] - 1 :].startswith(payload["answer"])
    assert top["cite"] == f"__init__.py:{top['line']}:{top['col']}"
    assert top["quote"][top["span"][0] : top["span"][1]] == payload["answer"]


def test_ask_says_not_found_for_a_name_the_snapshot_lacks(capsys, qa_mem):
    code, out, err = cli(capsys, "ask", qa_mem, "Where is `zorblax_frobnicate` defined?")
    assert (code, out, err) == (0, "not found in qa\n", "")
    code, out, _ = cli(capsys, "ask", qa_mem, "Where is `zorblax_frobnicate` defined?", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["found"] is False and payload["answer"] == ""


def test_a_manual_question_no_unit_answers_is_read_from_the_prose(capsys, qa_mem):
    """ "... by default?" asks for a setting's value; a PDF has no settings, so the units refuse,
    but the page says it: a manual's few units do not get the last word. The answer is the
    sentence that says it."""
    question = "How high is the spring tide at Kestrel Point by default?"
    code, out, _ = cli(capsys, "ask", qa_mem, question, "--json")
    payload = json.loads(out)
    assert code == 0 and payload["found"] is True
    assert payload["answer"] == "The spring tide reaches 7 metres at Kestrel Point."
    assert payload["sources"][0]["cite"] == "guide.pdf (page 2)"


def test_ask_free_prints_the_answer_then_page_citations(capsys, qa_mem, checkpoint_info):
    code, out, err = cli(
        capsys, "ask", qa_mem, "How high does the spring tide reach at Kestrel Point?", "--free", "-n", "4"
    )
    assert code == 0 and err == ""
    rows = out.rstrip("\n").split("\n")[1:]  # the answer, then a row per passage shown
    assert any(r.startswith("guide.pdf:") and "(page 2): " in r and "Kestrel Point" in r for r in rows)
    code, out, _ = cli(
        capsys,
        "ask",
        qa_mem,
        "How high does the spring tide reach?",
        "-n",
        "4",
        "--no-notepad",
        "--no-memory",
        "--json",
    )
    payload = json.loads(out)
    assert code == 0 and payload["sources"] == [] and payload["grounded"] is False


def test_interactive_ask_loads_once_and_answers_each_line(ttt_home, qa_mem):
    import subprocess
    import sys

    from conftest import cli_env

    questions = "Where is `zorblax_frobnicate` defined?\n\nWhich function zorblaxes the quuxbar?\n"
    result = subprocess.run(
        [sys.executable, "-m", "ttt_read", "ask", str(qa_mem)],
        check=False,
        input=questions,
        capture_output=True,
        text=True,
        env=cli_env(ttt_home),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("not found in qa") == 2 and result.stdout.rstrip().endswith("?")


def test_the_context_fits_the_window(qa_mem, checkpoint_info):
    from ttt_read.ask.answer import answer
    from ttt_read.memory import opened

    memory = opened.open_memory(qa_mem)
    result = answer(
        memory, "Where is `message_from_string` defined and what does `MessageDefect` hold?", max_tokens=8, k=5
    )
    window = checkpoint_info.config.window
    assert result.scores["context_tokens"] + min(8, 48) <= window
    assert 1 <= len(result.sources) <= 5


def test_info_shows_weights_and_notepad(capsys, qa_mem):
    code, out, _ = cli(capsys, "info", qa_mem)
    size = next(line for line in out.split("\n") if line.startswith("size"))
    assert code == 0 and "weights" in size and "MiB" in size and "notepad" in size and "KiB" in size
    code, out, _ = cli(capsys, "info", qa_mem, "--json")
    meta = json.loads(out)["notepad"]
    assert meta["files"] == 3 and meta["bytes"] > 0 and meta["overhead_ratio"] <= 0.5


def test_an_old_snapshot_without_notepad_answers_from_memory_with_a_notice(capsys, qa_mem, tmp_path):
    from ttt_read.read import snapshot

    snap = snapshot.load(qa_mem)
    metadata = {k: v for k, v in snap.metadata.items() if k != "notepad"}
    old = tmp_path / "old.mem"
    snapshot.write_atomic(old, snapshot.encode(metadata, snap.fast, snap.tail_tokens), force=False)
    assert snapshot.load(old).notepad is None

    code, out, err = cli(capsys, "ask", old, "Where is `message_from_string` defined?", "-n", "4", "--json")
    assert code == 0
    assert err.strip() == f"ttt-read: note: {NO_NOTEPAD_NOTICE}"
    assert json.loads(out)["sources"] == []
    code, out, _ = cli(capsys, "info", old)
    assert code == 0 and "no notepad" in out


def test_eval_qa_asks_a_users_own_questions(capsys, qa_tree, tmp_path):
    """`--asked` replaces the synthesised questions: a list of acceptable answers counts any
    of them; null marks a question the document cannot answer."""
    asked = tmp_path / "asked.jsonl"
    rows = [
        {"question": "What parameters does `message_from_binary_file` take?", "answer": ["fp, *args, **kws", "fp"]},
        {
            "question": "How high does the spring tide reach at Kestrel Point?",
            "answer": "7 metres",
            "path": "guide.pdf",
        },
        {"question": "Who painted the lighthouse at Kestrel Point?", "answer": None},
    ]
    asked.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    code, out, _ = cli(capsys, "eval-qa", qa_tree, "--asked", asked, "--setting", "grounded", "--json", "-q")
    assert code == 0
    report = json.loads(out)
    assert [r["question"] for r in report["questions"]] == [r["question"] for r in rows]
    assert [r["gold"] for r in report["questions"]] == [["fp, *args, **kws", "fp"], "7 metres", None]
    assert (report["documents"][0]["questions"], report["documents"][0]["unanswerable"]) == (2, 1)
    first = report["questions"][0]["answers"]["grounded"]
    assert first["contained"] == (first["found"] and "fp" in first["text"])
    asked.write_text('{"question": "Where?", "answer": 7}\n')
    code, _, err = cli(capsys, "eval-qa", qa_tree, "--asked", asked, "-q")
    assert code == ExitCode.INPUT and err.strip().startswith(f"ttt-read: error: {asked}:1: expected")
    code, _, err = cli(capsys, "eval-qa", qa_tree, qa_tree, "--asked", asked, "-q")
    assert code == ExitCode.USAGE and "one document, not 2" in err


def test_eval_qa_reports_grounded_and_free_with_not_found(capsys, qa_tree, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / "iterators.py").write_text((CORPUS / "iterators.py").read_text())
    code, out, _ = cli(capsys, "eval-qa", qa_tree, other, "-n", "2", "--max-tokens", "2", "--json", "-q")
    assert code == 0
    report = json.loads(out)
    assert report["schema_version"] == 2 and list(report["settings"]) == list(SETTINGS)
    assert [d["questions"] for d in report["documents"]] == [2, 2]
    answerable = [r for r in report["questions"] if r["answerable"]]
    absent = [r for r in report["questions"] if not r["answerable"]]
    assert len(answerable) == 4 and all(r["gold"] is None for r in absent)
    for row in report["settings"].values():
        assert row["questions"] == 4 and row["unanswerable"] == len(absent)
        for name in ("exact", "contained"):
            assert 0 <= row[name] <= 1
        assert (row["retrieved_file"] is None) == (not row["use_notepad"])
        assert (row["not_found_recall"] is None) == (row["free"] or not absent)
    for record in report["questions"]:
        assert set(record["answers"]) == set(SETTINGS)
        assert record["answers"]["free-memory"]["sources"] == []
        grounded = record["answers"]["grounded"]
        assert grounded["found"] == bool(grounded["text"])

    from ttt_read.evaluate.qa import qa_table

    monkeypatch.setenv("COLUMNS", "200")
    qa_table(report)
    table = capsys.readouterr().out
    assert all(row["label"] in table for row in report["settings"].values())


def test_eval_qa_refuses_to_synthesise_from_a_snapshot_in_one_line(capsys, qa_mem):
    """Questions are synthesised from the sources' text: a snapshot without --asked is a usage
    error naming the file and the way out, not a text file too large to read."""
    from ttt_read.core.errors import ExitCode

    code, out, err = cli(capsys, "eval-qa", qa_mem, "-n", "3")
    assert code == ExitCode.USAGE and out == ""
    assert err.count("\n") == 1 and str(qa_mem) in err and "--asked" in err, err
