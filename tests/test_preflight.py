"""Bad input answered before any cell starts: one line, exit 2, nothing run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()

IMDB = """name = "needs-imdb"
[defaults]
dataset = "imdb"
backend = "fake"
epochs = 1
[matrix]
arch = ["gru", "lstm"]
"""
SAMPLE = IMDB.replace('dataset = "imdb"', 'dataset = "sample"\nmax_steps_per_epoch = 6\ntest_size = 32')


def _suite(tmp_path: Path, text: str | bytes, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def _one_line_exit_2(res) -> str:  # noqa: ANN001 - click's Result
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


def test_a_suite_on_data_that_is_not_here_stops_before_any_cell(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    line = _one_line_exit_2(runner.invoke(app, ["run", str(_suite(tmp_path, IMDB)), "-o", str(out)]))
    assert "cannot start needs-imdb" in line and "full IMDB data set is not here" in line
    assert "rnnbench data import" in line and "rnnbench data fetch imdb" in line
    assert not out.exists() or not any(out.iterdir())  # no run was started, no cell ran


def test_an_output_folder_that_cannot_be_written_stops_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    line = _one_line_exit_2(runner.invoke(app, ["run", str(_suite(tmp_path, SAMPLE)), "-o", str(blocker / "runs")]))
    assert "is not writable" in line and "--output" in line


def test_too_little_disk_for_the_results_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr("rnnbench.preflight.shutil.disk_usage",
                        lambda p: real(p)._replace(free=3 << 20))  # 3 MB left
    line = _one_line_exit_2(runner.invoke(app, ["run", str(_suite(tmp_path, SAMPLE)), "-o", str(tmp_path / "r")]))
    assert "3 MB free" in line and "2 cells need about 18 MB" in line


def test_a_suite_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    line = _one_line_exit_2(runner.invoke(app, ["run", str(_suite(tmp_path, b"name = \"x\"\n\xff\xfe\x00binary"))]))
    assert "not a text suite" in line and "not UTF-8" in line


def test_an_empty_suite_is_refused_not_run_as_a_default_cell(tmp_path: Path) -> None:
    for text in ("", "\n# nothing here\n"):
        line = _one_line_exit_2(runner.invoke(app, ["run", str(_suite(tmp_path, text)), "--dry-run"]))
        assert "the suite is empty" in line


@pytest.mark.slow  # a local fetch server and a real run: ~9 s
def test_run_fetch_downloads_the_missing_data_set_then_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--fetch: what preflight finds missing is downloaded (here from a file:// mirror of the
    real tarball, sha256-checked) and imported before the first cell; without it, the one-line
    refusal says --fetch would do it; a wrong checksum imports nothing."""
    from helpers import require_shared_imdb

    tarball = require_shared_imdb() / "aclImdb_labelled.tar.gz"
    suite = _suite(tmp_path, IMDB.replace("epochs = 1", "epochs = 1\ntrain_size = 256\ntest_size = 64"))
    out = tmp_path / "runs"
    line = _one_line_exit_2(runner.invoke(app, ["run", str(suite), "-o", str(out), "-q", "--no-report"]))
    assert "add --fetch to download it first" in line
    monkeypatch.setenv("RNNBENCH_IMDB_URL", tarball.resolve().as_uri())
    monkeypatch.setenv("RNNBENCH_IMDB_SHA256", "0" * 64)
    line = _one_line_exit_2(runner.invoke(app, ["run", str(suite), "-o", str(out), "-q", "--fetch"]))
    assert "expected 0000" in line
    monkeypatch.setenv("RNNBENCH_IMDB_SHA256", "8a6446ea3c40e0d70e7c6453d25b46431a5dcdad25fdd38a38685682c24f0b9e")
    res = runner.invoke(app, ["run", str(suite), "-o", str(out), "-q", "--no-report", "--fetch"])
    assert res.exit_code == 0, res.output
    from rnnbench.results import read_records

    (run,) = out.iterdir()
    assert [r["status"] for r in read_records(run / "results.jsonl")] == ["ok", "ok"]
