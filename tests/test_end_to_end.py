"""End to end through the real CLI, real subprocesses, real PyTorch and real IMDB reviews."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, require_module, require_shared_imdb, write_suite

require_module("torch")

pytestmark = pytest.mark.slow  # real training in real worker processes


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rnnbench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _records(reports: Path) -> list[dict]:
    (results,) = reports.glob("runs/*/results.jsonl")
    return [json.loads(x) for x in results.read_text().splitlines()]


@pytest.mark.timeout(1800)  # 3 cells × 6 epochs; the run itself is allowed 900 s
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
        assert r["env"]["denormals_flushed"] is True  # measured in the worker, not the setting echoed
        assert m["test_acc"] > 0.55, "a recurrent net on real reviews learns something in 6 epochs"
    (md,) = reports.glob("*/report.md")
    text = md.read_text()
    assert "GRU / torch" in text and "SimpleRNN / torch" in text and "steady epoch s" in text


@pytest.mark.timeout(600)
def test_flush_denormal_takes_effect_in_the_worker(tmp_path: Path) -> None:
    """The worker measures it (a subnormal float32 times one comes out 0 only when flushed):
    on by default, off in a cell with flush_denormal = false."""
    suite = write_suite(tmp_path, """
[defaults]
dataset = "sample"
backend = "torch"
arch = "gru"
num_words = 2000
maxlen = 50
embedding_dim = 8
units = 8
batch_size = 64
epochs = 1
train_size = 512
test_size = 128
threads = 1
timeout = 300
[matrix]
flush_denormal = [true, false]
""")
    res = _cli("run", str(suite), "-q", "--no-report", timeout=600)
    assert res.returncode == 0, res.stderr
    recs = {r["settings"]["flush_denormal"]: r for r in _records(tmp_path / "reports")}
    assert set(recs) == {True, False}
    assert all(r["status"] == "ok" for r in recs.values()), [r.get("log_tail") for r in recs.values()]
    assert recs[True]["env"]["denormals_flushed"] is True
    assert recs[False]["env"]["denormals_flushed"] is False


@pytest.mark.timeout(1800)  # an import and a run, each allowed 900 s
def test_imported_full_imdb_trains_a_gru_on_a_slice(tmp_path: Path) -> None:
    shared = require_shared_imdb("aclImdb_labelled.tar.gz")
    res = _cli("data", "import", str(shared / "aclImdb_labelled.tar.gz"))
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
