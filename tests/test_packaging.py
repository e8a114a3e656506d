"""What `pip install .` ships: the wheel holds the package (with its synonym table), the bundled
checkpoint, the kernels and the completion scripts (models/, ttt_kernels/ and completions/ live at the top of the
repository and are mapped into the package by pyproject.toml).

The wheel is built from a copy of the sources, so nothing is written into the repository, and
offline: no index, no build isolation (setuptools comes with the test extra).
The full check, a fresh venv (no system site-packages) with torch from the CPU constraint and
a real `ttt-read` run from it, takes a few minutes and runs only with TTT_READ_TEST_INSTALL=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

from ttt_read.cli.app import COMPLETION_FILES

SHIPPED = ("pyproject.toml", "README.md", "ttt_read", "ttt_kernels", "models", "completions")


def copy_sources(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", "*.mem")
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` offline: no index, no build isolation, the build backend from this
    environment (setuptools, in the test extra), so nothing is downloaded."""
    import setuptools

    assert int(setuptools.__version__.split(".")[0]) >= 68, f"setuptools {setuptools.__version__}: the build needs 68"
    src = copy_sources(tmp_path_factory.mktemp("wheel-src"))
    dist = tmp_path_factory.mktemp("dist")
    offline = ["--no-index", "--no-build-isolation", "--no-deps", "--no-cache-dir"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", *offline, str(src), "-w", str(dist)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    [built] = dist.glob("ttt_read-*.whl")
    return built


def test_wheel_holds_package_model_kernels_and_completions(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"ttt_read/{p.relative_to(REPO / 'ttt_read').as_posix()}" for p in (REPO / "ttt_read").rglob("*.py")}
    expected |= {f"ttt_read/kernels/{p.name}" for p in (REPO / "ttt_kernels").glob("*.py")}
    expected |= {
        "ttt_read/ask/synonyms.tsv",  # what `ask` looks a question's words up in
        "ttt_read/models/__init__.py",
        "ttt_read/models/default/config.json",
        "ttt_read/models/default/tokenizer.json",
    }
    expected |= {f"ttt_read/completions/{name}" for name in COMPLETION_FILES.values()}
    assert expected - names == set(), f"missing from the wheel: {sorted(expected - names)}"
    shards = {n for n in names if n.startswith("ttt_read/models/default/model-") and n.endswith(".safetensors")}
    assert (
        shards
        == {f"ttt_read/models/default/{p.name}" for p in (REPO / "models" / "default").glob("model-*.safetensors")}
        != set()
    )
    assert not [n for n in names if n.startswith(("tests/", ".venv/", "runs/", "data/")) or "__pycache__" in n]


def test_wheel_files_are_the_repository_files(wheel):
    with zipfile.ZipFile(wheel) as zf:
        for name in COMPLETION_FILES.values():
            assert zf.read(f"ttt_read/completions/{name}") == (REPO / "completions" / name).read_bytes()
        for path in (REPO / "models" / "default").iterdir():
            if path.is_file():
                assert zf.read(f"ttt_read/models/default/{path.name}") == path.read_bytes(), path.name


def test_wheel_metadata_declares_the_entry_point_and_dependencies(wheel):
    with zipfile.ZipFile(wheel) as zf:
        info = {n.split("/")[-1]: n for n in zf.namelist() if ".dist-info/" in n}
        entry_points = zf.read(info["entry_points.txt"]).decode()
        metadata = zf.read(info["METADATA"]).decode()
    assert "ttt-read = ttt_read.cli:main" in entry_points
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for dependency in ("typer", "rich", "torch", "tokenizers", "pypdf", "safetensors", "platformdirs", "numpy"):
        assert any(r.startswith(dependency) for r in requires), (dependency, requires)


@pytest.mark.skipif(
    os.environ.get("TTT_READ_TEST_INSTALL") != "1",
    reason="set TTT_READ_TEST_INSTALL=1 (minutes: a fresh venv with torch)",
)
def test_pip_install_into_a_fresh_venv_gives_a_working_ttt_read(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    copy_sources(src)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "-c",
        str(REPO / ".ci" / "cpu-constraints.txt"),
        str(src),
    ]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    exe = venv / "bin" / "ttt-read"
    work = tmp_path / "elsewhere"  # run outside the repository: nothing may come from the source tree
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TTT_READ_MODEL")} | {
        "TTT_READ_HOME": str(tmp_path / "home")
    }

    def run(*args):
        done = subprocess.run(
            [str(exe), *map(str, args)], cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        return done.stdout

    assert "ingest" in run("--help")
    [model] = json.loads(run("models", "--json"))["models"]
    assert model["bundled"] and Path(model["path"]).is_relative_to(venv), model
    site = Path(model["path"]).parents[2]
    assert (site / "ttt_read" / "kernels" / "__init__.py").is_file()
    for shell, name in COMPLETION_FILES.items():
        assert (
            run("completions", shell)
            == (site / "ttt_read" / "completions" / name).read_text()
            == (REPO / "completions" / name).read_text()
        )
    (work / "notes.txt").write_text("The config file is parsed in settings.py.\n")
    run("ingest", work / "notes.txt", "--name", "notes", "-q")
    info = json.loads(run("info", "notes", "--json"))
    assert info["manifest"][0]["path"] == "notes.txt" and info["base"]["name"] == "default"
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import ttt_read, ttt_read.kernels; print(ttt_read.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert Path(probe.stdout.strip()).is_relative_to(venv), probe.stdout
