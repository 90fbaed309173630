"""rnnbench installed as a tool: ready suites by name from any folder, --version, the right git commit.

The wheel itself is built, installed into a fresh venv and run from an empty folder by
``.ci/wheel-check`` (CI); these tests cover the lookups it relies on, from the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from helpers import write_suite
from typer.testing import CliRunner

import rnnbench
from rnnbench import envinfo
from rnnbench.cli import app
from rnnbench.suite import load_suite, packaged_suites_dir, resolve_suite_path, suite_source

runner = CliRunner()
PACKAGE = Path(rnnbench.__file__).resolve().parent


def test_ready_suites_are_package_data_found_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert packaged_suites_dir() == PACKAGE / "suites"
    monkeypatch.chdir(tmp_path)  # an unrelated, empty folder
    for name in ("quick", "quick.toml"):
        p = resolve_suite_path(name)
        assert p.resolve() == PACKAGE / "suites" / "quick.toml", name
        assert suite_source(p) == "packaged"
    assert load_suite("quick").name == "quick"


def test_repository_suites_folder_is_the_packaged_one() -> None:
    suites = PACKAGE.parent / "suites"
    if not suites.exists():
        pytest.skip("not a source checkout")
    assert suites.resolve() == PACKAGE / "suites"  # one source: suites/ links to the package data


@pytest.mark.parametrize("where", ["quick.toml", "suites/quick.toml"])
def test_a_suite_in_the_users_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).write_text('name = "mine"\n[defaults]\nbackend = "fake"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    p = resolve_suite_path("quick")
    assert p == Path(where) and suite_source(p) == "local"
    assert load_suite("quick").name == "mine"


def _suite_rows(output: str) -> dict[str, str]:
    rows = {}
    for line in output.split("ready suites", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) >= 3 and cells[0] in ("quick", "imdb", "ci", "gru-vs-lstm"):
            rows[cells[0]] = line
    return rows


def test_list_says_where_each_suite_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["list"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    rows = _suite_rows(res.output)
    assert set(rows) == {"quick", "imdb", "ci", "gru-vs-lstm"}
    assert all("packaged" in row and "local" not in row for row in rows.values()), rows

    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "quick.toml").write_text('name = "quick"\ndescription = "my own"\n', encoding="utf-8")
    rows = _suite_rows(runner.invoke(app, ["list"], env={"COLUMNS": "250"}).output)
    assert "local" in rows["quick"] and "suites/quick.toml" in rows["quick"] and "my own" in rows["quick"]
    assert "packaged" in rows["imdb"]


def test_version_prints_the_package_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"rnnbench {rnnbench.__version__}")
    assert metadata.version("rnnbench") == rnnbench.__version__  # pyproject reads it from the package


def test_run_says_where_output_goes_before_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_suite(tmp_path, '[defaults]\nbackend = "fake"\nepochs = 1\n', name="mine")
    res = runner.invoke(app, ["run", "mine", "--no-report"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "suite mine: mine.toml (local)"
    assert lines[1].startswith(f"output: {tmp_path / 'reports' / 'runs'}/")  # RNNBENCH_REPORTS (conftest)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_is_rnnbench_s_own_not_the_working_directory_s(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "someone else's project")
    theirs = _git(repo, "rev-parse", "HEAD")
    monkeypatch.chdir(repo)
    commit = envinfo.git_commit()
    assert commit is None or not commit.startswith(theirs)

    # rnnbench installed in a venv inside that repository (ignored, untracked): no commit at all
    site = repo / ".venv" / "site-packages" / "rnnbench"
    site.mkdir(parents=True)
    (repo / ".gitignore").write_text(".venv/\n", encoding="utf-8")
    (site / "envinfo.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(envinfo, "__file__", str(site / "envinfo.py"))
    assert envinfo.git_commit() is None
    # a checkout that tracks the package: its commit
    _git(repo, "add", "-f", str(site / "envinfo.py"))
    _git(repo, "commit", "-q", "-m", "vendored")
    assert envinfo.git_commit() == _git(repo, "rev-parse", "HEAD")


def test_list_names_the_extra_that_installs_a_missing_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnbench.backends.base import BackendInfo

    monkeypatch.setattr(BackendInfo, "missing", lambda self: list(self.requires) if self.name != "fake" else [])
    res = runner.invoke(app, ["list"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "pip install 'rnnbench[torch]'" in res.output and "pip install 'rnnbench[keras,jax]'" in res.output
