"""Grounded answers: candidate units, their places in the window, the span head file, and
the user-phrased questions that training and eval-qa ask (real tokenizer and checkpoint)."""

from __future__ import annotations

from ttt_read.ask import span
from ttt_read.ask.answer import normalize
from ttt_read.ask.span import Shown
from ttt_read.notepad.store import Passage
from ttt_read.questions import pair
from ttt_read.questions import synthesis as qa

CODE = '''import os

DEFAULT_TIMEOUT = 30


def fetch_table(path, *, sep=",", limit=None):
    """Read a table from a file."""
    return load(path).split(sep)[:limit]


class Store:
    def put(self, key, value) -> bool:
        return True
'''

MANUAL = """Invoking the tool
The tool reads every file given on its command line. It never writes to them.
-q      Print nothing but errors.
--depth N   Descend at most N directories below each given one.
"""


def shown_of(path: str, text: str, focus: int = 1, start: int = 0) -> Shown:
    lines = text.split("\n")
    return Shown(Passage(path, 1, len(lines), None, text, 1.0, focus), 1, len(lines), text, start)


def units(shown: Shown, kind: str) -> list[str]:
    return [c.text for c in span.candidates([shown]) if c.kind == kind]


def test_candidates_are_the_well_formed_units_of_code():
    shown = shown_of("pkg/table.py", CODE)
    assert units(shown, "path") == ["pkg/table.py"]
    assert units(shown, "parameters") == ['path, *, sep=",", limit=None', "key, value"]
    assert {"30", "load(path).split(sep)[:limit]", "True", "bool"} <= set(units(shown, "value"))
    assert {"fetch_table", "DEFAULT_TIMEOUT", "Store", "os"} <= set(units(shown, "name"))
    assert "Read a table from a file." in [t.strip('"') for t in units(shown, "sentence")]
    assert 'def fetch_table(path, *, sep=",", limit=None):' in units(shown, "line")


def test_candidates_of_a_manual_and_their_locations():
    shown = shown_of("guide.txt", MANUAL)
    assert units(shown, "option") == [  # each description, alone and after its option (a "how" answer)
        "Print nothing but errors.",
        "-q      Print nothing but errors.",
        "Descend at most N directories below each given one.",
        "--depth N   Descend at most N directories below each given one.",
    ]
    found = span.candidates([shown])
    for c in found:
        if c.begin >= 0:
            line, col = c.location(shown)
            assert shown.text.split("\n")[line - 1][col - 1 :].startswith(c.text.split("\n")[0])
    depth = next(c for c in found if c.kind == "option" and c.text.startswith("Descend"))
    assert depth.location(shown) == (4, 13)


def test_an_option_description_runs_on_to_the_end_of_its_first_sentence():
    text = (
        "-B  The shell performs brace expansion (see\n"
        "    Brace Expansion, page 24). It is on by default.\n"
        "-L file True if file exists and is a symbolic link.\n"
        "-C  Prevent output redirection from overwriting\n"
        "\n"
        "    Unrelated paragraph. It ends here.\n"
        "-S Display Readline bindings.\n"  # a capitalised word after the option starts its description
    )
    assert units(shown_of("shell.txt", text), "option") == [
        "The shell performs brace expansion (see",
        "The shell performs brace expansion (see\n    Brace Expansion, page 24).",
        "-B  The shell performs brace expansion (see\n    Brace Expansion, page 24).",
        "True if file exists and is a symbolic link.",
        "-L file True if file exists and is a symbolic link.",
        "Prevent output redirection from overwriting",
        "-C  Prevent output redirection from overwriting",
        "Display Readline bindings.",
        "-S Display Readline bindings.",
    ]


def test_sentences_keep_their_inner_stops_and_a_paragraph_may_start_with_a_name():
    text = (
        "3.3 Invoking asn1Decoding\n"
        "asn1Decoding generates an ASN.1 structure from a file with ASN.1\n"
        "definitions and a binary file. See Section 3.5.1 [Brace Expansion], page 24.\n"
        "Bash is an acronym for \u2018Bourne-Again SHell.\u2019 The Bourne shell is the traditional shell.\n"
    )
    sentences = units(shown_of("manual.pdf", text), "sentence")
    assert (
        "asn1Decoding generates an ASN.1 structure from a file with ASN.1\ndefinitions and a binary file." in sentences
    )
    assert "See Section 3.5.1 [Brace Expansion], page 24." in sentences
    assert "The Bourne shell is the traditional shell." in sentences


def test_a_parameters_question_accepts_only_the_parameter_list_of_the_definition_it_names():
    code = "def parse(text, strict=False):\n    return load(text)\n\ndef load(path, *, mode='r'):\n    pass"
    shown = [shown_of("io.py", code)]
    found = span.candidates(shown)
    only = span.asked_parameter_lists("What parameters does `load` take?", shown, found)
    assert [found[i].text for i in only] == ["path, *, mode='r'"]
    assert span.asked_parameter_lists("What does `load` return?", shown, found) == []
    assert span.asked_parameter_lists("What arguments does `dump` take?", shown, found) == []
    assert [found[i].text for i in span.asked_parameter_lists("What does `Reader.parse` take?", shown, found)] == [
        "text, strict=False"
    ]


def test_candidate_positions_point_at_their_tokens(model_and_tokenizer):
    from types import SimpleNamespace

    from ttt_read.ask.answer import layout
    from ttt_read.notepad.store import Notepad

    _, tokenizer = model_and_tokenizer

    notepad = Notepad.build([SimpleNamespace(path="pkg/table.py", kind="text", text=CODE)])
    question = "What parameters does `fetch_table` take?"
    context, shown = layout(tokenizer, notepad.search(question, 3), question, 512, 48)
    found = span.candidates(shown)
    positions = span.candidate_positions(tokenizer, shown, found)
    for c, (first, last) in zip(found, positions):
        decoded = tokenizer.decode(context[first : last + 1])
        assert c.text.split()[0] in decoded and c.text.split()[-1] in decoded, (c, decoded)


def test_coverage_counts_the_question_terms_the_passages_hold():
    shown = [shown_of("pkg/table.py", CODE)]
    weights = span.query_weights(None, "What does `fetch_table` return?")
    assert span.coverage(weights, shown) == 1.0
    weights = span.query_weights(None, "What does `zorblax_widget` return?")
    assert span.coverage(weights, shown) == 0.25  # of its terms, only `return` is there


def test_coverage_matches_terms_as_retrieval_does():
    """In any inflection, and a manual's option list also speaks of its command."""
    options = "-e Exit immediately if a pipeline returns a non-zero status.\n-u Treat unset variables as an error."
    listed = Shown(Passage("bashref.pdf", 10, 11, 3, options, 1.0, 10, "set"), 10, 11, options, 0)
    weights = span.query_weights(None, "What does the -e option of set do?")
    assert span.coverage(weights, [listed]) == 1.0
    assert span.coverage(weights, [shown_of("bashref.pdf", options)]) == 0.0  # no owner: `set` is nowhere
    weights = span.query_weights(None, "Which option exits when a pipeline fails?")
    assert span.coverage(weights, [listed]) == 2 / 3  # "exits" is "Exit", "fails" is not there


def test_a_head_for_another_backbone_is_ignored_with_a_notice(tmp_path, checkpoint_info):
    import torch

    path = tmp_path / span.HEAD_FILE
    head = span.SpanHead(
        span.make_head(checkpoint_info.config.d_model),
        "0" * 64,
        {"weights": [0, 0, 1], "bias": 0, "threshold": 0.5},
        {},
    )
    head.save(path)
    loaded, notice = span.load_head(path, "0" * 64, checkpoint_info.config.d_model)
    assert notice is None and loaded.not_found["threshold"] == 0.5
    x = torch.randn(3, 5 * checkpoint_info.config.d_model + span.N_LEXICAL)
    assert torch.equal(loaded.scores(x), head.scores(x))
    other, notice = span.load_head(path, checkpoint_info.sha256(), checkpoint_info.config.d_model)
    assert other is None and "another model checkpoint" in notice and "\n" not in notice
    path.write_bytes(b"not a head")
    broken, notice = span.load_head(path, "0" * 64, checkpoint_info.config.d_model)
    assert broken is None and "unreadable" in notice


def test_a_head_trained_on_standardised_inputs_scores_raw_ones_alike():
    """Training standardises each input feature (hidden states and lexical features differ in
    scale by orders of magnitude); the saved head, folded, takes the raw inputs `ask` gives,
    and ignores a feature that never varied in training (a cue never met with a unit kind)."""
    import torch

    from ttt_read.train.span_head import Example, fold_scale, input_scale

    torch.manual_seed(0)
    d = 8
    width = 5 * d + span.N_LEXICAL
    scales = torch.cat([torch.full((5 * d,), 40.0), torch.full((span.N_LEXICAL,), 0.01)])
    examples = [Example(torch.randn(n, width) * scales + 3.0, [0], True, 1.0, []) for n in (4, 9)]
    never = width - 1
    for e in examples:
        e.inputs[:, never] = 0.0
    mean, scale = input_scale(examples)
    rows = torch.cat([e.inputs for e in examples])
    standardised = (rows - mean) * scale
    assert torch.allclose(standardised[:, :never].std(0, unbiased=False), torch.ones(never), atol=1e-4)
    assert scale[never] == 0 and not standardised[:, never].any()
    net = span.make_head(d)
    expected = net(standardised)
    fold_scale(net, mean, scale)
    assert torch.allclose(net(rows), expected, atol=1e-4)
    fired = rows.clone()
    fired[:, never] = 1.0  # met only after training
    assert torch.equal(net(fired), net(rows))


def test_the_bundled_head_matches_the_bundled_checkpoint(checkpoint_info):
    head, notice = span.load_head(
        span.head_path(checkpoint_info.path), checkpoint_info.sha256(), checkpoint_info.config.d_model
    )
    assert notice is None and 0 < head.not_found["threshold"] < 1
    assert head.trained_on["held_out"]["answerable"] > 0


# --- questions as a user asks them -----------------------------------------------------------


def test_which_function_and_what_does_questions_from_docstrings_and_go_comments():
    found = {q.question: q.answer for q in qa.all_qas("<|file|>pkg/table.py\n" + CODE)}
    assert found["Which function reads a table from a file?"] == "fetch_table"
    go = (
        "<|file|>quote.go\n// Quote returns a double-quoted string literal representing s.\nfunc Quote(s string) "
        "string {\n\treturn s\n}\n"
    )
    found = {q.question: q.answer for q in qa.all_qas(go)}
    assert found["Which function returns a double-quoted string literal representing s?"] == "Quote"
    assert found["What does `Quote` do?"] == "Quote returns a double-quoted string literal representing s."


def test_option_and_command_questions_from_a_manual():
    manual = (
        "<|file|>tool.pdf\n[page 1]\n"
        + MANUAL
        + "cd [-L] [directory]\nChange the current working directory to directory.\n"
        + "PATH A colon-separated list of directories to look in.\nHISTSIZE\nThe number of commands to keep.\n"
        + "\nbash -c true\nThe example runs true and exits.\n"  # a command run in an example, not a synopsis
    )
    found = {q.question: q.answer for q in qa.all_qas(manual)}
    assert found["What does option `-q` do?"] == "Print nothing but errors."
    assert found["What does option `--depth` do?"] == "Descend at most N directories below each given one."
    assert found["Which command changes the current working directory to directory?"] == "cd"
    # "how do I" is answered by the option with its description (a candidate), or by the command
    assert found["How do I print nothing but errors?"] == "-q Print nothing but errors."
    assert found["How do I descend at most N directories below each given one?"] == (
        "--depth N Descend at most N directories below each given one."
    )
    assert found["How do I change the current working directory to directory?"] == "cd"
    assert found["What does the `cd` command do?"] == "Change the current working directory to directory."
    assert found["What is `PATH`?"] == "A colon-separated list of directories to look in."
    assert found["What is `HISTSIZE`?"] == "The number of commands to keep."
    assert "What does the `bash` command do?" not in found
    candidates = {normalize(c.text) for c in span.candidates([shown_of("guide.txt", MANUAL)])}
    assert normalize(found["How do I print nothing but errors?"]) in candidates


MAN_PAGE = """OPTIONS
       -b, --binary
              Read in binary mode.

       -l, --length=BITS
              Digest length in bits; must not exceed the maximum
              for the algorithm.
"""


def test_a_man_pages_option_alone_on_its_line_is_asked_and_cut_with_its_description():
    """Man pages print an option alone on its line and its description indented below it."""
    found = {q.question: q.answer for q in qa.all_qas("<|file|>b2sum.txt\n" + MAN_PAGE)}
    assert found["What does option `-b` do?"] == "Read in binary mode."
    assert found["What does option `-l` do?"] == "Digest length in bits; must not exceed the maximum for the algorithm."
    assert found["How do I read in binary mode?"] == "-b, --binary Read in binary mode."
    options = {normalize(c.text) for c in span.candidates([shown_of("b2sum.txt", MAN_PAGE)]) if c.kind == "option"}
    assert {normalize(found["What does option `-l` do?"]), normalize(found["How do I read in binary mode?"])} <= options


def test_unanswerable_means_answer_and_names_absent():
    item = pair.QA("Where is `fetch_table` defined?", "pkg/table.py", "pkg/table.py", 6, "defined_in")
    assert not qa.absent_from(item, CODE) and qa.absent_from(item, MANUAL)


def test_plain_output_is_answer_then_ripgrep_rows(capsys):
    from ttt_read.ask.found import Answer, Source
    from ttt_read.render.answers import print_answer

    source = Source(
        path="pkg/table.py",
        line=6,
        col=17,
        page=None,
        quote='def fetch_table(path, *, sep=","):',
        span=(16, 31),
        line_start=1,
        line_end=9,
        score=2.0,
        cite="pkg/table.py:6:17",
    )
    other = Source(
        path="pkg/io.py",
        line=3,
        col=None,
        page=None,
        quote="import os",
        span=None,
        line_start=1,
        line_end=5,
        score=1.0,
        cite="pkg/io.py:3",
    )
    print_answer(Answer('path, *, sep=","', True, 0.9, True, [source, other]), "table")
    assert capsys.readouterr().out.split("\n") == [
        'path, *, sep=","',
        'pkg/table.py:6:17: def fetch_table(path, *, sep=","):',
        "pkg/io.py:3: import os",
        "",
    ]
    print_answer(Answer("", False, 0.1, True, [source]), "table")
    assert capsys.readouterr().out == "not found in table\n"
