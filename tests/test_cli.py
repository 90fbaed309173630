"""The command line as a user meets it: exit codes, one-line errors, a light --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import REPO, write_suite
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()


def test_help_imports_no_framework() -> None:
    code = ("import sys; from rnnbench.cli import app; "
            "heavy=[m for m in ('torch','tensorflow','keras','jax','pandas','pydantic','numpy') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
    res = subprocess.run([sys.executable, "-m", "rnnbench", "--help"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0 and "run" in res.stdout and "report" in res.stdout


def _bad(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = write_suite(tmp_path, body)
    return subprocess.run([sys.executable, "-m", "rnnbench", "run", str(path), "--dry-run"],
                          capture_output=True, text=True, cwd=REPO)


def test_bad_suites_give_one_line_and_exit_2(tmp_path: Path) -> None:
    for body, needle in [
        ("[defaults\n", "invalid TOML"),
        ("[defaults]\nunitz = 3\n", "defaults.unitz: unknown setting 'unitz'; did you mean 'units'?"),
        ('[defaults]\nepochs = "three"\n', "defaults.epochs: expected a valid integer"),
    ]:
        res = _bad(tmp_path, body)
        assert res.returncode == 2, res
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(tmp_path) in lines[0], res.stderr
        assert "Traceback" not in res.stderr


def test_dry_run_lists_cells(tmp_path: Path) -> None:
    path = write_suite(tmp_path, '[matrix]\narch = ["gru", "lstm", "rnn"]\nunits = [8, 16]\n')
    res = runner.invoke(app, ["run", str(path), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "6 cells" in res.output and "SimpleRNN / torch" in res.output


def test_unknown_run_for_report(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "nope"])
    assert res.exit_code == 2
    assert "nope: no such run" in res.output


def test_list_shows_backends_and_suites() -> None:
    res = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for word in ("torch", "keras-tensorflow", "fake", "quick", "imdb"):
        assert word in res.output
