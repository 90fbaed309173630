"""End to end through the real CLI, real subprocesses, real PyTorch and real IMDB reviews."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SHARED_IMDB, write_suite

pytest.importorskip("torch")

pytestmark = pytest.mark.slow


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rnnbench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _records(reports: Path) -> list[dict]:
    (results,) = reports.glob("runs/*/results.jsonl")
    return [json.loads(x) for x in results.read_text().splitlines()]


def test_quick_suite_runs_from_the_embedded_sample_and_writes_a_report(tmp_path: Path) -> None:
    res = _cli("run", "suites/quick.toml", "-q")
    assert res.returncode == 0, res.stderr
    reports = tmp_path / "reports"
    recs = _records(reports)
    assert [r["settings"]["arch"] for r in recs] == ["gru", "lstm", "rnn"]
    assert all(r["status"] == "ok" for r in recs), [r.get("error") for r in recs]
    for r in recs:
        m = r["metrics"]
        assert m["train_size"] == 2000 and m["test_size"] == 2000
        assert len(m["epochs"]) == 6 and m["steady_epoch_s"] > 0 and m["peak_rss_mb"] > 100
        assert m["params"]["total"] == sum(m["params"][p] for p in ("embedding", "recurrent", "head"))
        assert r["env"]["flush_denormal"] is True
        assert m["test_acc"] > 0.55, "a recurrent net on real reviews learns something in 6 epochs"
    (md,) = reports.glob("*/report.md")
    text = md.read_text()
    assert "GRU / torch" in text and "SimpleRNN / torch" in text and "steady epoch s" in text


@pytest.mark.skipif(not (SHARED_IMDB / "aclImdb_labelled.tar.gz").exists(), reason="real IMDB copy not present")
def test_imported_full_imdb_trains_a_gru_on_a_slice(tmp_path: Path) -> None:
    res = _cli("data", "import", str(SHARED_IMDB / "aclImdb_labelled.tar.gz"))
    assert res.returncode == 0, res.stderr
    suite = write_suite(tmp_path, """
[defaults]
dataset = "imdb"
backend = "torch"
train_size = 1024
test_size = 512
epochs = 1
units = 32
embedding_dim = 32
[matrix]
arch = ["gru"]
""")
    res = _cli("run", str(suite), "-q")
    assert res.returncode == 0, res.stderr
    (rec,) = _records(tmp_path / "reports")
    assert rec["status"] == "ok", rec.get("log_tail")
    m = rec["metrics"]
    assert m["train_size"] == 1024 and m["test_size"] == 512 and m["vocab_size"] == 20000
    assert "imdb" in m["data_source"] and len(m["data_sha256"]) == 64
    assert len(m["steady_step_samples"]) == 16 - 5
