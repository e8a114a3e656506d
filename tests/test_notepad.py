"""The notepad against real text: the frozen `email` package corpus, real PDFs, and its own bytes."""

from __future__ import annotations

import ast
import lzma
import re
from typing import NamedTuple

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfs import write_pdf

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.notepad.codec import decode_varints, encode_varints, front_code, front_decode
from ttt_read.notepad.lexicon import compounds, defined_names, identifiers, inflections, query_terms, word_terms
from ttt_read.notepad.store import VERSION, Notepad
from ttt_read.text import sources

QUERIES = [
    "Where is `Message` defined?",
    "What parameters does `get_payload` take?",
    "What is the value of `SEMISPACE`?",
    "What does module `parser` import?",
    "How does the parser turn bytes into a message model?",
    "the of a",  # only common words
]


@pytest.fixture(scope="module")
def corpus_files():
    return sources.collect([CORPUS]).files


@pytest.fixture(scope="module")
def corpus_pad(corpus_files) -> Notepad:
    return Notepad.build(corpus_files)


def line_of(path, pattern: str) -> int:
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        if re.match(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in {path}")


class Text(NamedTuple):
    """A file's text as `Notepad.build` takes it, without a file on disk."""

    path: str
    text: str
    kind: str = "text"


def lines_matching(pattern: str) -> set[tuple[str, int]]:
    """(file, line) of every line of the corpus's modules that matches `pattern`."""
    return {
        (p.name, n)
        for p in CORPUS.glob("*.py")
        for n, line in enumerate(p.read_text().split("\n"), 1)
        if re.search(pattern, line)
    }


# --- terms -----------------------------------------------------------------------------------


def test_identifiers_are_indexed_whole_and_in_parts():
    assert word_terms("max_file_bytes") == ["max_file_bytes", "max", "file", "bytes"]
    assert word_terms("HTTPServer") == ["httpserver", "http", "server"]
    assert word_terms("readFile2") == ["readfile2", "read", "file"]
    assert word_terms("x") == []


def test_questions_lose_their_question_words_and_ask_for_definitions():
    terms = query_terms("Where is `collect` defined?")
    assert terms == ["collect", "=collect", "@collect"]


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "definition"),
    [
        ("Message", "message.py", r"^class Message:"),  # also the stem of message.py
        ("Parser", "parser.py", r"^class Parser:"),  # also the stem of parser.py
        ("decode", "base64mime.py", r"^def decode\("),
        ("get_payload", "message.py", r"^    def get_payload\("),
        ("MessageError", "errors.py", r"^class MessageError\("),
    ],
)
def test_a_definition_outranks_its_uses_and_its_module(corpus_pad, name, path, definition):
    uses = lines_matching(rf"\b{name}\b") - lines_matching(definition)
    assert uses, "the name must be used besides where it is defined"
    found = corpus_pad.search(f"Where is `{name}` defined?", k=3)
    best = found[0]
    assert (best.path, best.focus) == (path, line_of(CORPUS / path, definition))
    assert best.line_start <= best.focus <= best.line_end
    assert best.cite() == f"{path}:{best.focus}"
    assert all(p.score < best.score for p in found[1:])


def test_a_definition_comes_with_the_docstring_below_it(corpus_pad):
    best = corpus_pad.search("Where is `get_payload` defined?", k=1)[0]
    shown = best.text.split("\n")[best.focus - best.line_start :]
    assert shown[0].strip().startswith("def get_payload(")
    assert shown[1].strip() == '"""Return a reference to the payload.'


def test_a_file_named_after_the_query_is_found_when_nothing_defines_it(corpus_pad):
    best = corpus_pad.search("What does module `iterators` import?", k=1)[0]
    assert best.path == "iterators.py" and best.line_start == 1


def test_passages_are_the_files_own_lines(corpus_pad, corpus_files):
    texts = {f.path: f.text.split("\n") for f in corpus_files}
    for query in QUERIES[:5]:
        found = corpus_pad.search(query, k=4)
        assert 1 <= len(found) <= 4
        assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)
        for p in found:
            assert p.text == "\n".join(texts[p.path][p.line_start - 1 : p.line_end])
            assert p.page is None
        spans = [(p.path, p.line_start, p.line_end) for p in found]
        for i, (path, lo, hi) in enumerate(spans):
            assert not any(q == path and ql <= hi and lo <= qh for q, ql, qh in spans[:i]), "passages overlap"


def test_a_constant_is_found_where_it_is_set(corpus_pad):
    assert len(lines_matching(r"\bSEMISPACE\b")) > 1  # set once, used more often
    best = corpus_pad.search("What is the value of `SEMISPACE`?", k=1)[0]
    assert (best.path, best.focus) == ("message.py", line_of(CORPUS / "message.py", r"SEMISPACE ="))


def test_an_alias_is_not_a_definition():
    files = [
        Text("classes.py", "class Charset:\n    pass\n"),
        Text("header.py", "import charset as _charset\nCharset = _charset.Charset\n"),
    ]
    best = Notepad.build(files).search("Where is `Charset` defined?", k=1)[0]
    assert (best.path, best.focus) == ("classes.py", 1)


def test_prose_is_found_by_its_words(corpus_pad):
    best = corpus_pad.search("Which component turns a model into a sequence of bytes?", k=1)[0]
    assert best.path == "architecture.rst"
    assert "Takes a model and turns it into a sequence of characters or bytes." in best.text


def test_nothing_matches_nothing(corpus_pad):
    assert corpus_pad.search("zzqx wvvq", k=3) == []
    assert corpus_pad.search("Where is `Message` defined?", k=0) == []


def test_pdf_passages_cite_their_page(tmp_path):
    pages = [
        "Introduction\nThis manual describes the harbour.",
        "Chapter two\nThe lighthouse keeper is called Ottoline Brandt.\nShe lights the lamp at dusk.",
        "Chapter three\nFerries leave every forty minutes.",
    ]
    pdf = write_pdf(tmp_path / "manual.pdf", pages)
    pad = Notepad.from_bytes(Notepad.build(sources.collect([pdf]).files).to_bytes())
    keeper = pad.search("Who is the lighthouse keeper?", k=1)[0]
    assert keeper.path == "manual.pdf" and keeper.page == 2
    assert keeper.cite() == "manual.pdf (page 2)"
    assert "Ottoline Brandt" in keeper.text
    assert pad.search("How often do ferries leave?", k=1)[0].page == 3


# --- bytes -------------------------------------------------------------------------------------


def test_round_trip_keeps_texts_and_answers_the_same(corpus_pad, corpus_files):
    data = corpus_pad.to_bytes()
    assert data[:5] == b"TTNP" + bytes([VERSION])
    loaded = Notepad.from_bytes(data)
    assert [(f.path, f.kind, f.text) for f in loaded.files] == [(f.path, f.kind, f.text) for f in corpus_files]
    assert loaded.vocab == corpus_pad.vocab and loaded.df.tolist() == corpus_pad.df.tolist()
    for query in QUERIES:
        assert loaded.search(query, k=3) == corpus_pad.search(query, k=3)
    assert loaded.to_bytes() == data


def test_the_index_costs_at_most_half_the_compressed_text(corpus_pad, tmp_path):
    stats = corpus_pad.stats()
    compressed = len(lzma.compress("".join(f.text for f in corpus_pad.files).encode(), preset=6 | lzma.PRESET_EXTREME))
    assert stats["compressed_text_bytes"] == compressed
    assert stats["bytes"] <= 1.5 * compressed, stats
    assert stats["overhead_ratio"] <= 0.5
    # prose: the architecture notes, and a PDF of the modules' docstrings
    notes = Notepad.build(sources.collect([CORPUS / "architecture.rst"]).files).stats()
    assert notes["overhead_ratio"] <= 0.5, notes
    docs = [
        ast.get_docstring(node) or ""
        for p in sorted(CORPUS.glob("*.py"))
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
    ]
    docs = [d.encode("latin-1", "replace").decode("latin-1") for d in docs if d]
    pdf = write_pdf(tmp_path / "docs.pdf", docs)
    prose = Notepad.build(sources.collect([pdf]).files).stats()
    assert prose["overhead_ratio"] <= 0.5, prose


def test_unicode_odd_files_and_empty_text_survive(tmp_path):
    files = [
        Text("naïve/ünïcode.md", "# Überschrift\nGrüße aus Köln, straße_name = 1\n"),
        Text("empty.txt", ""),
        Text("no-newline.py", "x = 1"),
    ]
    pad = Notepad.from_bytes(Notepad.build(files).to_bytes())
    assert [f.text for f in pad.files] == [f.text for f in files]
    hit = pad.search("Grüße aus Köln", k=1)[0]
    assert hit.path == "naïve/ünïcode.md" and hit.focus == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"XXXX" + b[4:],
        lambda b: b[:4] + bytes([VERSION + 1]) + b[5:],
        lambda b: b[:40],
        lambda b: b[:5] + lzma.compress(b"{}"),
    ],
    ids=["magic", "version", "truncated", "garbage"],
)
def test_damaged_bytes_are_a_snapshot_error(corpus_pad, damage):
    with pytest.raises(TTTReadError) as info:
        Notepad.from_bytes(damage(corpus_pad.to_bytes()))
    assert info.value.code == ExitCode.SNAPSHOT and "notepad" in str(info.value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**40)))
def test_varints_round_trip(values):
    assert decode_varints(encode_varints(values)).tolist() == values


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"=?\w{1,40}", fullmatch=True), unique=True))
def test_front_coding_round_trips(terms):
    terms = sorted(terms)
    assert front_decode(front_code(terms)) == terms


def test_part_sizes_come_from_the_header(tmp_path):
    import torch

    from ttt_read.read import snapshot

    pad = b"TTNP\x01" + bytes(1000)
    raw = snapshot.encode({"base": {}}, [torch.zeros(4, 8), torch.zeros(8, 4)], [1, 2, 3], notepad=pad)
    path = tmp_path / "s.mem"
    path.write_bytes(raw)
    assert snapshot.part_sizes(path) == {"weights": 2 * 32 * 4, "waypoints": 0, "notepad": len(pad)}
    assert snapshot.load(path).notepad == pad


MANUAL = "\n".join(
    [
        "Contents",
        "1 Shell Builtins . . . . . . . . . . . . . . . . . . . . 1",
        "1.1 Changing Directories . . . . . . . . . . . . . . . . 1",
        "1.2 Testing Files . . . . . . . . . . . . . . . . . . . 2",
        "",
        "1 Shell Builtins",
        "Builtins are commands the shell runs itself, without starting a program.",
        *[f"Builtin number {i} is described in its own section below." for i in range(12)],
        "",
        "1.1 Changing Directories",
        "cd [-L|-P] [directory]",
        "Change the current directory. If -L is given, symbolic links are followed;",
        "-L is the default. With -P the physical directory is used instead.",
        *[f"Directory note {i}: relative names start at the current directory." for i in range(12)],
        "",
        "1.2 Testing Files",
        "Each test of a file is true or false; the exit status says which.",
        "-d file True if file exists and is a directory.",
        "-L file True if file exists and is a symbolic link.",
        "-l file True if file exists and is locked.",
        *[f"File note {i}: a missing file makes every test false." for i in range(12)],
    ]
)


@pytest.mark.parametrize(
    ("option", "described"),
    [
        ("-L", "-L file True if file exists and is a symbolic link."),
        ("-l", "-l file True if file exists and is locked."),
    ],
)
def test_an_option_is_found_where_an_option_list_describes_it(option, described):
    pad = Notepad.build([Text("manual.txt", MANUAL)])
    best = pad.search(f"What does option `{option}` do?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start] == described


def test_a_quoted_heading_is_found_in_the_text_not_the_table_of_contents():
    pad = Notepad.build([Text("manual.txt", MANUAL)])
    best = pad.search('What is the first sentence under the heading "1.2 Testing Files"?', k=1)[0]
    lines = best.text.split("\n")
    at = lines.index("1.2 Testing Files")
    assert lines[at + 1] == "Each test of a file is true or false; the exit status says which."


def test_what_is_finds_the_sentence_that_says_what_it_is():
    pad = Notepad.build([Text("manual.txt", MANUAL)])
    best = pad.search("What are builtins?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start].startswith("Builtins are commands")


def test_verbatim_parts_of_a_question_are_kept():
    assert query_terms("What does option `-L` do?")[-2:] == ['"-L', "=-L"]  # not `-l`, and no word term
    assert '"1.2 testing files' in query_terms('Under the heading "1.2 Testing Files"?')
    assert '"a shell script is' not in query_terms("What is a shell script?")
    assert '"shell script is' in query_terms("What is a shell script?")


def test_a_question_finds_other_forms_of_its_words():
    text = "\n".join(
        ["rdirs", "List the stacked directories in reverse."]
        + [f"Filler line {i} about nothing in particular." for i in range(30)]
        + ["dirs", "Display the stacked directories."]
        + [f"More filler {i} about nothing at all." for i in range(30)]
    )
    best = Notepad.build([Text("manual.txt", text)]).search("Which command displays the stacked directories?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start] == "Display the stacked directories."
    assert {"display", "displayed", "displaying"} <= set(inflections("displays"))
    assert inflections("cd") == [] and inflections("get_payload") == []


def test_a_hyphenated_word_finds_its_joined_form_and_function_words_leave_the_subject():
    fillers = [f"Make {c} read only once, option -{c} says." for c in range(60)]
    text = "\n".join(fillers[:30] + ["-r Make names readonly. They cannot be assigned values."] + fillers[30:])
    pad = Notepad.build([Text("manual.txt", text)])
    best = pad.search("How do I make a variable read-only?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start].startswith("-r Make names readonly.")
    assert compounds("Is it read-only or well-known?") == ["read-only", "well-known", "readonly", "wellknown"]
    assert {"define", "function"} <= set(query_terms("How do I define a function?"))  # not nothing
    assert "define" not in query_terms("How do I define a shell function?")  # a subject besides


def test_a_quoted_name_keeps_its_case():
    """Go's exported `Unquote` and unexported `unquote` share an index term; the quoted name
    tells them apart."""
    lower = ["// unquote parses a quoted string at the start of the input.", "func unquote(in string) {}"]
    upper = ["// Unquote interprets s as a quoted Go string literal.", "func Unquote(s string) (string, error) {}"]
    filler = [f"// note {i}: quoting rules follow the language specification." for i in range(30)]
    pad = Notepad.build([Text("quote.go", "\n".join(lower + filler + upper + filler))])
    best = pad.search("What does `Unquote` do?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start] == upper[1]
    assert '"Unquote' in query_terms("What does `Unquote` do?")
    assert not any(t.startswith('"') for t in query_terms("What does `message_from_file` do?"))


def test_words_of_a_question_find_the_name_code_gives_them():
    """ "the default block start string" is `BLOCK_START_STRING`, found where it is set, not
    where it is imported (which has the same words)."""
    importer = "from .defaults import BLOCK_START_STRING, BLOCK_END_STRING\n" + "\n".join(
        f"def step{i}(block, start, string): return block, start, string" for i in range(30)
    )
    defaults = "\n".join(["# the default settings", 'BLOCK_END_STRING = "%}"', 'BLOCK_START_STRING = "{%"'])
    pad = Notepad.build([Text("environment.py", importer), Text("defaults.py", defaults)])
    best = pad.search("What is the default block start string?", k=1)[0]
    assert best.path == "defaults.py"
    assert best.text.split("\n")[best.focus - best.line_start] == 'BLOCK_START_STRING = "{%"'
    assert identifiers("the max retry count?") == [
        *("max_retry", "maxretry", "retry_count", "retrycount"),
        *("max_retry_count", "maxretrycount"),
    ]


def test_a_manuals_synopses_glossary_entries_and_special_parameters_are_found():
    """A command's synopsis defines the command, a glossary's entry its term (also alone on
    its line), and `$?` is looked up verbatim: each outranks the lines that only use it."""
    uses = [f"Line {i}: run read -r on the PATH and set HISTFILESIZE after it returns." for i in range(40)]
    text = "\n".join(
        uses[:10]
        + ["read [-ers] [-a aname] [-p prompt]", "One line is read from the standard input."]
        + uses[10:20]
        + ["PATH A colon-separated list of directories in which the shell looks for commands."]
        + uses[20:30]
        + ["? ($?) Expands to the exit status of the most recently executed foreground pipeline."]
        + uses[30:]
        + ["HISTFILESIZE", "The maximum number of lines contained in the history file."]
    )
    pad = Notepad.build([Text("shell.pdf", text, kind="pdf")])

    def best_line(question: str) -> str:
        best = pad.search(question, k=1)[0]
        return best.text.split("\n")[best.focus - best.line_start]

    assert best_line("Which builtin reads a line from the standard input?").startswith(("read [-ers]", "One line"))
    assert best_line("What does the PATH variable contain?").startswith("PATH A colon-separated")
    assert best_line("What does $? expand to?").startswith("? ($?) Expands")
    assert best_line("What does HISTFILESIZE set?") == "HISTFILESIZE"
    assert defined_names("GNU BASH MANUAL", "pdf") == [] and defined_names("read [-ers]", "code") == []


def test_an_option_of_a_named_command_is_found_in_that_commands_option_list():
    """Two commands document `-x`, each far below its synopsis (and prose mentions `-x` and
    set in between): "the -x option of set" is the line in `set`'s list."""

    def command(name: str, description: str) -> list[str]:
        options = [f"-{c} Option {c} of {name} is rarely used." for c in "abcdefghijklmnopqrstuvw"]
        return [f"{name} [-abcx] [arg ...]", *options, f"-x {description}", ""]

    prose = ["The -o option to the set builtin, and -x, are described below.", "to -l. The return status is zero."]
    text = "\n".join(
        command("set", "Print a trace of simple commands.") + prose + command("ulimit", "The maximum number of locks.")
    )
    pad = Notepad.build([Text("bash.1.pdf", text, kind="pdf")])
    for name, described in (("set", "-x Print a trace"), ("ulimit", "-x The maximum")):
        best = pad.search(f"What does the -x option of {name} do?", k=1)[0]
        assert best.text.split("\n")[best.focus - best.line_start].startswith(described)
        assert best.owner == name
    assert [defined_names(line, "pdf") for line in prose] == [[], []]  # prose, not synopses


def test_a_man_pages_option_alone_on_its_line_defines_it():
    entry = ["       -l, --length=BITS", "              Digest length in bits."]
    uses = [f"Line {i} passes -l and -b to the tool." for i in range(40)]
    pad = Notepad.build([Text("b2sum.txt", "\n".join(uses[:20] + entry + uses[20:]))])
    best = pad.search("What does the -l option do?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start] == entry[0]
    assert defined_names(entry[0], "text") == ["-l", "--length"] and defined_names(entry[1], "text") == []


def test_comment_lines_of_a_pdf_define_nothing():
    """PDF text has no markdown headings: its `#` lines are comments of printed examples,
    which must not outrank the text that defines what a question names."""
    text = "\n".join(
        ["# a completion example: include variable names and histories"]
        + [f"complete -o default cmd{i}" for i in range(14)]
        + ["HISTSIZE The number of commands to remember in the command history."]
        + [f"Other variable {i} is described elsewhere." for i in range(14)]
    )
    pad = Notepad.build([Text("shell.pdf", text, kind="pdf")])
    best = pad.search("What does the HISTSIZE variable control?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start].startswith("HISTSIZE The number")
    assert pad.df_of("=variable") == 0  # the comment is no heading


def test_a_function_reference_entry_is_shown_from_its_definition():
    """A texinfo manual prints the name, then the parameters, then what the function does:
    a question matching the description gets the passage from the definition on, and the
    definition line defines the function."""

    def entry(name: str, does: str) -> list[str]:
        params = [f"arg{i}: parameter {i} of the call, given by the caller." for i in range(5)]
        return (
            [name.replace("_", " "), f"[Function]int {name} (asn1 node element, const", "char * name)"]
            + params
            + [does]
        )

    text = "\n".join(
        entry("asn1_read_tag", "Returns the TAG and the CLASS of one element inside a structure.")
        + entry("asn1_number_of_elements", "Counts the number of elements of a sub-structure called NAME.")
        + entry("asn1_delete_element", "Deletes the element named inside the structure.")
    )
    pad = Notepad.build([Text("libtasn1.pdf", text, kind="pdf")])
    best = pad.search("Which function counts the elements of a sub-structure?", k=1)[0]
    assert best.text.split("\n")[best.focus - best.line_start].startswith("Counts the number")
    assert best.text.startswith("[Function]int asn1_number_of_elements (")
    assert defined_names("[Function]const char * asn1_strerror (int error)", "pdf") == ["asn1_strerror"]
    assert defined_names("[1] See the manual (page 3)", "pdf") == []
