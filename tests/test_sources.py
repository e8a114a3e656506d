"""Tests for ttt_read.sources against real files, real PDFs and, where available, real git."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfs import TYPESET_GLYPHS, write_pdf, write_scanned_pdf, write_truncated_pdf

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.text import sources
from ttt_read.text.ignore import IgnoreRules, parse_pattern
from ttt_read.text.sources import Collection, Skip, SourceFile, collect
from ttt_read.text.tokenizer import file_header


def make_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def paths(collection: Collection) -> list[str]:
    return [f.path for f in collection.files]


def reasons(collection: Collection) -> dict[str, str]:
    return {s.path: s.reason for s in collection.skipped}


def input_error(*args, **kwargs) -> str:
    with pytest.raises(TTTReadError) as info:
        collect(*args, **kwargs)
    assert info.value.code == ExitCode.INPUT
    return str(info.value)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under root with its size and modification time, to prove nothing changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns)
    return out


# --- the gitignore matcher ----------------------------------------------------------------


def ignored(lines: list[str], path: str, is_dir: bool = False) -> bool:
    return IgnoreRules().extended(lines).ignores(path, is_dir)


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("*.log", "a.log", True),
        ("*.log", "deep/er/a.log", True),
        ("*.log", "a.log.txt", False),
        ("/build", "build", True),
        ("/build", "src/build", False),
        ("doc/*.txt", "doc/a.txt", True),
        ("doc/*.txt", "src/doc/a.txt", False),
        ("doc/*.txt", "doc/sub/a.txt", False),
        ("**/foo", "foo", True),
        ("**/foo", "a/b/foo", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "ab", False),
        ("logs/**", "logs/x/y", True),
        ("logs/**", "logs", False),
        ("a**b", "axyb", True),
        ("a**b", "ax/yb", False),
        ("?.txt", "a.txt", True),
        ("?.txt", "ab.txt", False),
        ("/x?y", "x/y", False),
        ("/x[!a]y", "x/y", False),
        ("/x*y", "x/y", False),
        ("[abc].py", "b.py", True),
        ("[abc].py", "d.py", False),
        ("[!abc].py", "d.py", True),
        ("[!abc].py", "a.py", False),
        ("[a-c]x", "bx", True),
        ("[a-c]x", "dx", False),
        ("[]]x", "]x", True),
        ("[unclosed", "[unclosed", True),
        ("\\#hash", "#hash", True),
        ("\\!bang", "!bang", True),
        ("\\*star", "*star", True),
        ("\\*star", "xstar", False),
        ("trail  ", "trail", True),
        ("space\\ ", "space ", True),
        ("a.b", "axb", False),
        ("x+(y)", "x+(y)", True),
    ],
)
def test_pattern_matching(pattern, path, expected):
    assert ignored([pattern], path) is expected


def test_comments_and_blank_lines_are_not_patterns():
    assert parse_pattern("# a comment") is None
    assert parse_pattern("   ") is None
    assert parse_pattern("") is None
    assert parse_pattern("/") is None


def test_dir_only_patterns_match_directories_only():
    assert ignored(["out/"], "out", is_dir=True)
    assert not ignored(["out/"], "out", is_dir=False)
    assert ignored(["out/"], "src/out", is_dir=True)


def test_negation_and_order():
    assert ignored(["*.log", "!keep.log"], "a.log")
    assert not ignored(["*.log", "!keep.log"], "keep.log")
    assert ignored(["!keep.log", "*.log"], "keep.log")  # the last match wins


def test_nested_rules_apply_below_their_directory_only():
    rules = IgnoreRules().extended(["*.tmp"]).extended(["/local", "!keep.tmp"], base="sub")
    assert rules.ignores("sub/local", False)
    assert not rules.ignores("local", False)
    assert not rules.ignores("sub/deeper/local", False)  # anchored to sub/
    assert rules.ignores("x.tmp", False)
    assert not rules.ignores("sub/keep.tmp", False)
    assert rules.ignores("keep.tmp", False)


WORDS = ["a", "b", "a.txt", "*", "**", "?", "[ab]", "[!a]", "*.txt", "*.log", "d", "e"]


@st.composite
def gitignore_lines(draw):
    def line():
        parts = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
        text = "/".join(parts)
        if draw(st.booleans()):
            text = "/" + text
        if draw(st.booleans()):
            text += "/"
        return ("!" if draw(st.booleans()) else "") + text

    return [line() for _ in range(draw(st.integers(1, 4)))]


ORACLE_TREE = [
    "a", "b", "a.txt", "b.log", "d/a", "d/b.txt", "d/e/a.log", "d/e/f/b",
    "e/a", "e/d/a.txt", "x/y/z.txt", "a.txt.d/b",
]  # fmt: skip


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_tree(tmp_path_factory.mktemp("oracle"), {rel: "x\n" for rel in ORACLE_TREE})
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "XDG_CONFIG_HOME": str(root)}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    return root, env


def git_untracked(root: Path, env) -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "-o", "--exclude-standard", "-z"], cwd=root, env=env, check=True, capture_output=True
    ).stdout
    return {p for p in out.decode().split("\0") if p}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=gitignore_lines(), nested=gitignore_lines())
def test_walk_agrees_with_git(git_repo, top, nested):
    """Whatever git leaves untracked-but-not-ignored is exactly what the walk finds."""
    root, env = git_repo
    (root / ".gitignore").write_text("\n".join(top) + "\n")
    (root / "d" / ".gitignore").write_text("\n".join(nested) + "\n")
    walked = {c.display for c in sources._walk(root).candidates}
    assert walked == git_untracked(root, env), (top, nested)


# --- walking directories ------------------------------------------------------------------


def test_order_is_sorted_and_repeatable(tmp_path):
    names = ["zeta.py", "alpha.py", "b/c.py", "a.txt", "a/b.py", "B.md"]
    make_tree(tmp_path, {n: n + "\n" for n in names})
    first = paths(collect([tmp_path]))
    assert first == sorted(names)
    assert paths(collect([tmp_path])) == first


def test_several_roots_keep_given_order_and_get_prefixes(tmp_path):
    make_tree(tmp_path / "zdir", {"b.py": "b", "a.py": "a"})
    make_tree(tmp_path / "adir", {"c.py": "c"})
    single = make_tree(tmp_path, {"note.txt": "n"}) / "note.txt"
    got = collect([tmp_path / "zdir", single, tmp_path / "adir"])
    assert paths(got) == ["zdir/a.py", "zdir/b.py", "note.txt", "adir/c.py"]


def test_roots_with_the_same_name_stay_apart(tmp_path, monkeypatch):
    make_tree(tmp_path, {"one/src/a.py": "1", "two/src/a.py": "2"})
    monkeypatch.chdir(tmp_path)
    got = collect([Path("one/src"), Path("two/src")])
    assert paths(got) == ["one/src/a.py", "two/src/a.py"]


def test_non_utf8_file_names_are_shown_escaped(tmp_path):
    fd = os.open(os.fsencode(tmp_path) + b"/caf\xe9.txt", os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"menu\n")
    os.close(fd)
    got = collect([tmp_path])
    assert paths(got) == ["caf\\xe9.txt"]
    got.render().encode("utf-8")  # stays encodable


def test_no_paths_is_a_usage_error():
    with pytest.raises(TTTReadError) as info:
        collect([])
    assert info.value.code == ExitCode.USAGE


def test_single_file_is_shown_by_name(tmp_path):
    f = make_tree(tmp_path, {"deep/dir/x.md": "# x\n"}) / "deep/dir/x.md"
    assert paths(collect([f])) == ["x.md"]


def test_a_file_reached_twice_is_read_once(tmp_path):
    make_tree(tmp_path, {"src/a.py": "a", "src/b.py": "b"})
    (tmp_path / "src" / "link.py").symlink_to("a.py")
    got = collect([tmp_path / "src", tmp_path / "src" / "b.py"])
    assert paths(got) == ["src/a.py", "src/b.py"]  # link.py is a.py again, b.py was in src


def test_nested_gitignores(tmp_path):
    make_tree(
        tmp_path,
        {
            ".gitignore": "*.log\n/top_only.txt\nbuild/\n# comment\n\n",
            "app.py": "x",
            "debug.log": "x",
            "top_only.txt": "x",
            "build/out.py": "x",
            "pkg/.gitignore": "!keep.log\n/generated.py\n",
            "pkg/keep.log": "x",
            "pkg/other.log": "x",
            "pkg/generated.py": "x",
            "pkg/top_only.txt": "x",
            "pkg/sub/generated.py": "x",
            "pkg/build": "a file named build is not a directory\n",
        },
    )
    assert paths(collect([tmp_path])) == [
        ".gitignore",
        "app.py",
        "pkg/.gitignore",
        "pkg/build",
        "pkg/keep.log",
        "pkg/sub/generated.py",
        "pkg/top_only.txt",
    ]


def test_git_dir_is_skipped_and_info_exclude_honoured(tmp_path):
    make_tree(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".git/config": "[core]\n",
            ".git/info/exclude": "secret.txt\n",
            "secret.txt": "x",
            "sub/.git": "gitdir: ../.git/worktrees/sub\n",
            "sub/a.py": "x",
            "main.py": "x",
        },
    )
    assert paths(collect([tmp_path])) == ["main.py", "sub/a.py"]


def test_include_and_exclude(tmp_path):
    make_tree(
        tmp_path,
        {"src/a.py": "x", "src/b.txt": "x", "src/gen/c.py": "x", "tests/t.py": "x", "README.md": "x"},
    )
    assert paths(collect([tmp_path], include=["*.py"])) == ["src/a.py", "src/gen/c.py", "tests/t.py"]
    assert paths(collect([tmp_path], include=["src/**"], exclude=["gen"])) == ["src/a.py", "src/b.txt"]
    assert paths(collect([tmp_path], exclude=["tests/", "*.txt"])) == ["README.md", "src/a.py", "src/gen/c.py"]
    assert paths(collect([tmp_path], include=["src/*.py"])) == ["src/a.py"]


def test_filters_see_the_root_prefix_with_several_roots(tmp_path):
    make_tree(tmp_path, {"lib/a.py": "x", "app/a.py": "x"})
    got = collect([tmp_path / "lib", tmp_path / "app"], exclude=["app/**"])
    assert paths(got) == ["lib/a.py"]


def test_filters_leaving_nothing_is_an_error(tmp_path):
    make_tree(tmp_path, {"a.py": "x"})
    assert input_error([tmp_path], include=["*.rs"]) == f"{tmp_path}: no files match --include/--exclude"


# --- files that are skipped ---------------------------------------------------------------


def test_unreadable_kinds_are_skipped_with_reasons(tmp_path):
    make_tree(
        tmp_path,
        {
            "ok.py": "print('ok')\n",
            "bom.txt": b"\xef\xbb\xbfwith bom\n",
            "nul.bin": b"abc\x00def",
            "latin1.txt": "caf\xe9\n".encode("latin-1"),
            "empty.txt": b"",
            "big.txt": "x" * 101,
        },
    )
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dangling").symlink_to("nowhere")
    got = collect([tmp_path], max_file_bytes=100)
    assert paths(got) == ["bom.txt", "ok.py"]
    assert got.files[0].text == "with bom\n"
    assert reasons(got) == {
        "big.txt": "larger than 100 bytes cap",
        "dangling": "broken symlink",
        "empty.txt": "empty file",
        "latin1.txt": "not valid UTF-8 text",
        "nul.bin": "binary file",
        "pipe": "not a regular file",
    }


def test_size_cap_is_reported_in_megabytes(tmp_path):
    make_tree(tmp_path, {"big.txt": "x" * 2_000_001, "small.txt": "x"})
    assert reasons(collect([tmp_path])) == {"big.txt": "larger than 2.0 MB cap"}


def test_nul_after_the_sniffed_prefix_still_reads_as_text(tmp_path):
    make_tree(tmp_path, {"late.txt": "x" * 8192 + "\0"})
    assert collect([tmp_path]).files[0].text.endswith("\0")


def test_fifo_given_directly_does_not_block(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = {}
    worker = threading.Thread(target=lambda: result.update(msg=input_error([fifo])), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "collect() blocked on a FIFO"
    assert result["msg"] == f"{fifo}: not a regular file"


def test_permission_denied_is_a_skip(tmp_path, monkeypatch):
    make_tree(tmp_path, {"ok.txt": "x", "locked.txt": "x"})
    real_open = os.open
    locked = str(tmp_path / "locked.txt")

    def deny(path, *args, **kwargs):  # simulated: tests usually run as root, which reads anyway
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    assert reasons(collect([tmp_path])) == {"locked.txt": "unreadable: permission denied"}


def test_unlistable_directory_is_a_skip(tmp_path, monkeypatch):
    make_tree(tmp_path, {"ok.txt": "x", "closed/a.txt": "x"})
    real_scandir = os.scandir
    closed = str(tmp_path / "closed")

    def deny(path="."):  # simulated, as above
        if os.fspath(path) == closed:
            raise PermissionError(13, "Permission denied", closed)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    assert reasons(collect([tmp_path])) == {"closed": "unreadable: permission denied"}
    assert input_error([tmp_path / "closed"]) == f"{closed}: unreadable: permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_chmod_000_is_a_skip(tmp_path):
    make_tree(tmp_path, {"ok.txt": "x", "locked.txt": "x", "closed/a.txt": "x"})
    (tmp_path / "locked.txt").chmod(0)
    (tmp_path / "closed").chmod(0)
    try:
        got = reasons(collect([tmp_path]))
    finally:
        (tmp_path / "closed").chmod(0o755)
    assert got == {"closed": "unreadable: permission denied", "locked.txt": "unreadable: permission denied"}


def test_directory_symlink_loops_are_skipped(tmp_path):
    make_tree(tmp_path, {"a/file.txt": "x", "other/b.txt": "y"})
    (tmp_path / "a" / "up").symlink_to("..")
    (tmp_path / "a" / "self").symlink_to(".")
    (tmp_path / "self_link").symlink_to("self_link")
    (tmp_path / "to_other").symlink_to("other")
    got = collect([tmp_path])
    assert paths(got) == ["a/file.txt", "other/b.txt"]  # to_other/ is other/ again
    assert reasons(got) == {"a/self": "symlink loop", "a/up": "symlink loop", "self_link": "symlink loop"}


def test_symlinked_directory_outside_the_root_is_followed(tmp_path):
    make_tree(tmp_path, {"outside/x.txt": "x", "root/a.txt": "a"})
    (tmp_path / "root" / "ext").symlink_to(tmp_path / "outside")
    assert paths(collect([tmp_path / "root"])) == ["a.txt", "ext/x.txt"]


def test_nothing_is_written_inside_the_read_directory(tmp_path):
    make_tree(tmp_path, {"a.py": "x", "sub/b.txt": "y", ".gitignore": "*.log\n"})
    write_pdf(tmp_path / "doc.pdf", ["hello"])
    write_truncated_pdf(tmp_path / "bad.pdf")
    before = snapshot(tmp_path)
    collect([tmp_path])
    assert snapshot(tmp_path) == before


# --- PDFs ---------------------------------------------------------------------------------


def test_pdf_pages_round_trip_with_page_markers(tmp_path):
    pdf = write_pdf(tmp_path / "paper.pdf", ["Title (draft)\nback\\slash", "", "Third page"])
    got = collect([pdf]).files[0]
    assert got.kind == "pdf"
    assert got.text == "[page 1]\nTitle (draft)\nback\\slash\n[page 3]\nThird page\n"
    assert got.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert got.bytes == pdf.stat().st_size


def test_typeset_glyphs_read_as_the_characters_a_keyboard_types(tmp_path):
    """A man page set by groff writes `-x` with a minus sign, `file` with a ligature and
    `~` as a spacing tilde: a question typed on a keyboard must find them."""
    line = "\u2212x After expanding each \ufb01le in \u02dc/.bashrc, \u02c6C and a \ufb02ag: caf\u00e9"
    assert all(char in line for char in TYPESET_GLYPHS)
    pdf = write_pdf(tmp_path / "bash.1.pdf", [line])
    plain = "-x After expanding each file in ~/.bashrc, ^C and a flag: caf\u00e9"
    assert collect([pdf]).files[0].text == f"[page 1]\n{plain}\n"


def test_pdf_is_recognised_by_its_magic_bytes(tmp_path):
    pdf = write_pdf(tmp_path / "report.bin", ["by magic"])
    assert collect([pdf]).files[0].text == "[page 1]\nby magic\n"


def test_pdf_encrypted_with_an_empty_user_password_reads(tmp_path):
    pdf = write_pdf(tmp_path / "locked.pdf", ["still readable"], encrypt_password="")
    assert collect([pdf]).files[0].text == "[page 1]\nstill readable\n"


def test_unreadable_pdfs_are_skipped_and_pypdf_stays_quiet(tmp_path, caplog):
    write_pdf(tmp_path / "secret.pdf", ["hidden"], encrypt_password="hunter2")
    write_scanned_pdf(tmp_path / "scan.pdf", n_pages=2)
    write_truncated_pdf(tmp_path / "cut.pdf")
    (tmp_path / "fake.pdf").write_text("not a pdf at all\n")
    write_pdf(tmp_path / "good.pdf", ["fine"])
    level = logging.getLogger("pypdf").level
    with caplog.at_level(logging.DEBUG):
        got = collect([tmp_path])
    assert paths(got) == ["good.pdf"]
    skips = reasons(got)
    assert skips.pop("secret.pdf") == "encrypted PDF"
    assert skips.pop("scan.pdf") == "no extractable text (scanned PDF?)"
    for name in ("cut.pdf", "fake.pdf"):
        reason = skips.pop(name)
        assert reason.startswith("not a readable PDF: ") and "\n" not in reason
    assert not skips
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == level


def test_pdf_text_limit_keeps_what_came_first(tmp_path, monkeypatch):
    monkeypatch.setattr("ttt_read.text.pdf.PDF_TEXT_LIMIT", 30)
    pdf = write_pdf(tmp_path / "long.pdf", ["a" * 20, "b" * 20, "c" * 20])
    assert collect([pdf]).files[0].text == "[page 1]\n" + "a" * 20 + "\n"  # 30 chars


def test_pdf_time_budget_keeps_what_came_first(tmp_path, monkeypatch):
    monkeypatch.setattr("ttt_read.text.pdf.PDF_TIME_BUDGET_S", 0.0)
    pdf = write_pdf(tmp_path / "slow.pdf", ["first", "second"])
    assert collect([pdf]).files[0].text == "[page 1]\nfirst\n"


def test_a_failing_page_loses_only_that_page(tmp_path, monkeypatch):
    from pypdf import PageObject

    real = PageObject.extract_text

    def flaky(self, *args, **kwargs):
        text = real(self, *args, **kwargs)
        if text == "broken":
            raise ValueError("bad content stream")
        return text

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    pdf = write_pdf(tmp_path / "mixed.pdf", ["ok", "broken", "also ok"])
    assert collect([pdf]).files[0].text == "[page 1]\nok\n[page 3]\nalso ok\n"


# --- errors -------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert input_error([missing]) == f"{missing}: no such file or directory"


def test_missing_path_among_good_ones(tmp_path):
    make_tree(tmp_path, {"a.py": "x"})
    assert input_error([tmp_path / "a.py", tmp_path / "b.py"]).endswith("b.py: no such file or directory")


@pytest.mark.parametrize(
    "name, make, reason",
    [
        ("secret.pdf", lambda p: write_pdf(p, ["x"], encrypt_password="pw"), "encrypted PDF"),
        ("scan.pdf", write_scanned_pdf, "no extractable text (scanned PDF?)"),
        ("blob.dat", lambda p: p.write_bytes(b"\x00\x01"), "binary file"),
        ("empty.txt", lambda p: p.write_bytes(b""), "empty file"),
        ("dangling", lambda p: p.symlink_to("nowhere"), "broken symlink"),
    ],
)
def test_a_bad_file_given_directly_is_an_error(tmp_path, name, make, reason):
    path = tmp_path / "docs" / name
    path.parent.mkdir()
    make(path)
    assert input_error([path]) == f"{path}: {reason}"


def test_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    assert input_error([tmp_path / "empty"]) == f"{tmp_path / 'empty'}: empty directory"


def test_directory_of_only_ignored_files(tmp_path):
    make_tree(tmp_path, {".gitignore": "*\n", "a.log": "x"})
    assert input_error([tmp_path]) == f"{tmp_path}: no files to read (all ignored by .gitignore)"


def test_directory_with_nothing_readable_counts_the_skips(tmp_path):
    make_tree(tmp_path, {"a.bin": b"\0", "b.bin": b"\0", "c.txt": b""})
    assert input_error([tmp_path]) == f"{tmp_path}: no readable files (3 skipped: 2 binary file, 1 empty file)"


def test_one_bad_directory_among_good_paths_is_an_error(tmp_path):
    make_tree(tmp_path, {"good/a.py": "x", "bad/a.bin": b"\0"})
    message = input_error([tmp_path / "good", tmp_path / "bad"])
    assert message == f"{tmp_path / 'bad'}: no readable files (1 skipped: 1 binary file)"


# --- rendering ----------------------------------------------------------------------------


def test_render_and_manifest(tmp_path):
    make_tree(tmp_path, {"a.py": "print(1)", "b/c.md": "# c\n", "z.bin": b"\0"})
    got = collect([tmp_path])
    assert got.render() == file_header("a.py") + "print(1)\n" + file_header("b/c.md") + "# c\n"
    assert got.manifest() == [
        {"path": "a.py", "sha256": hashlib.sha256(b"print(1)").hexdigest(), "bytes": 8, "kind": "text"},
        {"path": "b/c.md", "sha256": hashlib.sha256(b"# c\n").hexdigest(), "bytes": 4, "kind": "text"},
        {"path": "z.bin", "skipped": "binary file"},
    ]


def test_results_are_plain_frozen_values(tmp_path):
    make_tree(tmp_path, {"a.txt": "x"})
    got = collect([tmp_path])
    assert got.files == [SourceFile("a.txt", hashlib.sha256(b"x").hexdigest(), 1, "text", "x")]
    assert got.skipped == [] and Skip("p", "r").reason == "r"
    with pytest.raises(AttributeError):
        got.files[0].text = "changed"
