"""What the tests run against: the installed package and the installed distributions, never
the repository root as a place for top-level imports, and none of a user's settings.

ttt_kernels/, models/ and completions/ live at the top of the repository and ship inside the
package (ttt_read.kernels, ...). With the root on sys.path (`python -m pytest` puts the working
directory there) a top-level folder named like an installed distribution's package would be
imported instead of it: a folder `kernels/` would hide the `kernels` distribution that
`transformers` imports, which is why the kernels' folder is not called that.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, cli_env

OWN_DISTRIBUTION = "ttt-read"


def installed_packages(path: list[str] | None = None) -> dict[str, set[str]]:
    """Top-level import names of the distributions installed on `path` (default sys.path),
    each with the distributions that ship it; the project's own distribution left out."""
    provided: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions(**({} if path is None else {"path": path})):
        name = dist.metadata["Name"]
        if name is None or name.lower().replace("_", "-") == OWN_DISTRIBUTION:
            continue
        declared = (dist.read_text("top_level.txt") or "").split()
        inferred = {
            f.parts[0].removesuffix(".py")
            for f in dist.files or ()
            if len(f.parts) > 1 or f.suffix == ".py"
            if not f.parts[0].endswith((".dist-info", ".egg-info", ".data")) and f.parts[0] != ".."
        }
        for top in declared or inferred:
            if top.isidentifier():
                provided.setdefault(top, set()).add(name)
    return provided


def shadowing(folders: list[Path], path: list[str], provided: dict[str, set[str]]) -> dict[str, str]:
    """Each entry of `folders` that `import NAME` would find on `path` in place of the installed
    package NAME: {NAME: where it would come from}. A folder without __init__.py is only a
    namespace portion, which an installed package always wins over."""
    found = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            name = entry.stem if entry.suffix == ".py" else entry.name
            if name not in provided or not (entry.suffix == ".py" or entry.is_dir()):
                continue
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            origin = (spec.origin or "") if spec is not None else ""
            if origin and Path(origin).resolve().parent in (folder.resolve(), folder.resolve() / name):
                found[name] = f"{origin} (installed: {', '.join(sorted(provided[name]))})"
    return found


def folders_to_check(path: list[str]) -> list[Path]:
    """The repository root and every sys.path entry inside the repository (the runner puts
    tests/ there), but for the environment's own (a venv may live in the checkout)."""
    environment = {Path(sys.prefix).resolve(), Path(sys.exec_prefix).resolve()}
    inside = [Path(entry or os.curdir).resolve() for entry in path]
    return [REPO] + [
        p
        for p in inside
        if p != REPO and p.is_relative_to(REPO) and not any(p.is_relative_to(env) for env in environment)
    ]


def test_the_repository_root_is_not_a_place_for_top_level_imports():
    assert shadowing(folders_to_check(sys.path), sys.path, installed_packages()) == {}
    assert not [entry for entry in sys.path if Path(entry or os.curdir).resolve() == REPO]


def test_ttt_read_comes_from_its_installed_distribution():
    """The package the tests import is the installed distribution's (for an editable install,
    the checkout it was installed from)."""
    from urllib.parse import unquote, urlparse

    import ttt_read.kernels

    dist = importlib.metadata.distribution(OWN_DISTRIBUTION)
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):
        checkout = Path(unquote(urlparse(direct["url"]).path)).resolve()
        assert Path(ttt_read.kernels.__file__).resolve() == checkout / "ttt_kernels" / "__init__.py"
    else:
        files = {Path(dist.locate_file(f)).resolve() for f in dist.files or ()}
        assert Path(ttt_read.kernels.__file__).resolve() in files


def test_no_top_level_folder_shadows_an_installed_package_in_the_clis_subprocesses(ttt_home):
    """`python -m ...` as the tests start the CLI, from the repository root: its sys.path."""
    done = subprocess.run(
        [sys.executable, "-m", "site"], cwd=REPO, env=cli_env(ttt_home), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("sys.path = [", 1)[1].split("]", 1)[0].strip().splitlines()
    path = [ast.literal_eval(line.strip().rstrip(",")) for line in lines]
    assert path and shadowing(folders_to_check(path), path, installed_packages(path)) == {}


def fake_distribution(site: Path, name: str) -> None:
    """An installed distribution NAME 1.0 whose one package is NAME."""
    (site / name).mkdir(parents=True)
    (site / name / "__init__.py").write_text("INSTALLED = True\n")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")


def test_the_check_finds_a_folder_that_hides_an_installed_package(tmp_path):
    """A repository with a top-level `kernels/` package, next to an installed `kernels`
    distribution: hidden when the repository comes first on the path, not otherwise."""
    repo, site = tmp_path / "repo", tmp_path / "site"
    fake_distribution(site, "kernels")
    (repo / "kernels").mkdir(parents=True)
    (repo / "kernels" / "__init__.py").write_text("")
    (repo / "docs").mkdir()  # no distribution of that name
    provided = installed_packages([str(site)])
    assert provided == {"kernels": {"kernels"}}
    found = shadowing([repo], [str(repo), str(site)], provided)
    assert list(found) == ["kernels"] and str(repo / "kernels" / "__init__.py") in found["kernels"]
    assert shadowing([repo], [str(site)], provided) == {}  # the root off the path
    assert shadowing([repo], [str(site), str(repo)], provided) == {}  # the installed package first
    (repo / "kernels" / "__init__.py").unlink()  # a namespace portion: the installed package wins
    assert shadowing([repo], [str(repo), str(site)], provided) == {}
    (repo / "kernels.py").write_text("")  # a module hides it too
    assert list(shadowing([repo], [str(repo), str(site)], provided)) == ["kernels"]


def test_this_repository_on_the_path_would_hide_installed_packages():
    """The hazard is real wherever an installed distribution is named like a top-level
    folder (transformers brings `kernels`): the check names it once the root is on the path."""
    provided = installed_packages()
    named = sorted(p.name for p in REPO.iterdir() if (p / "__init__.py").is_file() and p.name in provided)
    if not named:
        pytest.skip("no installed distribution is named like a top-level package folder here")
    assert sorted(shadowing([REPO], [str(REPO), *sys.path], provided)) == named


# --- the lock ----------------------------------------------------------------------------

LOCK = REPO / ".ci" / "cpu-constraints.txt"


def locked_versions() -> dict[str, str]:
    """The lock's pins: {canonical name: version}; every line pins one version."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (pin,) = requirement.specifier
            assert pin.operator == "==" and not requirement.marker, line
            pins[canonicalize_name(requirement.name)] = pin.version
    return pins


def declared_requirements(extras: set[str]) -> list[str]:
    """pyproject.toml's runtime requirements and those of EXTRAS, as written there (the
    installed metadata of an editable install may be older)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + [r for extra in sorted(extras) for r in project["optional-dependencies"][extra]]


def dependency_closure(extras: set[str]) -> dict[str, list]:
    """Every distribution that installing the project with EXTRAS brings here, transitive ones
    included, with the requirements that ask for it (markers evaluated on this machine)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    reached: dict[str, list] = {}
    todo, seen = [(None, frozenset())], set()
    while todo:
        name, wanted = todo.pop()
        try:
            texts = declared_requirements(extras) if name is None else importlib.metadata.requires(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here
        for text in texts or ():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": extra}) for extra in wanted | {""}):
                continue
            key = canonicalize_name(requirement.name)
            reached.setdefault(key, []).append(requirement)
            if (key, frozenset(requirement.extras)) not in seen:
                seen.add((key, frozenset(requirement.extras)))
                todo.append((key, frozenset(requirement.extras)))
    return reached


def test_the_lock_pins_every_dependency_within_the_declared_ranges():
    """Every runtime and test dependency, transitive ones included, has one version in the lock,
    and that version is inside every range declared for it (pyproject.toml's included)."""
    pins = locked_versions()
    reached = dependency_closure({"test"})
    installed = {}
    for name in reached:
        try:
            installed[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed[name] = None
    if any(version is None or version != pins.get(name, version) for name, version in installed.items()):
        pytest.skip("this environment was not installed from the lock with this pyproject.toml")
    assert sorted(set(reached) - set(pins)) == [], "not in the lock (run .ci/lock)"
    outside = [f"{pins[name]} {r}" for name, rs in reached.items() for r in rs if pins[name] not in r.specifier]
    assert outside == []
    assert sorted(set(pins) - set(reached)) == [], "in the lock but needed by nothing (run .ci/lock)"


def test_ci_runs_exactly_the_readmes_test_command():
    setup = (REPO / "README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = [block.strip() for block in setup.split("```sh\n")[1:]]
    commands = [block.split("\n```", 1)[0] for block in blocks]
    assert len(commands) == 2 and all(f"-c {LOCK.relative_to(REPO)} " in c for c in commands)
    script = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert script[-1] == commands[1]


# --- settings ----------------------------------------------------------------------------


INNER = """
import os

from ttt_read.read import checkpoint
from ttt_read.core import dirs
from ttt_read.core import settings


def test_inner():
    assert "TTT_READ_MODEL" not in os.environ
    assert not str(dirs.config_dir()).startswith({user_home!r})
    assert settings.load().model is None and checkpoint.resolve(None).name == "default"
"""


def test_a_users_model_and_config_are_never_seen(tmp_path):
    """A run started from a shell with TTT_READ_MODEL set and a TTT_READ_HOME whose config.toml
    names another model (and is broken): the tests see neither."""
    user_home = tmp_path / "user"
    (user_home / "config").mkdir(parents=True)
    (user_home / "config" / "config.toml").write_text('model = "no-such-model"\n[broken\n')
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text())
    (suite / "test_inner.py").write_text(textwrap.dedent(INNER.format(user_home=str(user_home))))
    env = {**os.environ, "TTT_READ_MODEL": "no-such-model", "TTT_READ_HOME": str(user_home)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
    assert os.listdir(user_home) == ["config"]  # nothing written there
