"""FLOPs per training step, and the matmul calibration the efficiency columns are relative to."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnbench import calibrate
from rnnbench.cli import app
from rnnbench.flops import achieved_gflops, forward_flops_per_sample, train_flops_per_step
from rnnbench.suite import CellSettings

IMDB = {"backend": "torch", "num_words": 20000, "maxlen": 200, "embedding_dim": 128, "units": 128, "batch_size": 64}


@pytest.mark.parametrize("arch, measured_g", [("gru", 7.55), ("lstm", 10.07), ("rnn", 2.52)])
def test_reproduces_the_measured_facts(arch: str, measured_g: float) -> None:
    """shared/design/measured-facts.md: training FLOPs per step GRU 7.55 G, LSTM 10.07 G, SimpleRNN 2.52 G."""
    flops = train_flops_per_step(CellSettings(arch=arch, **IMDB))
    assert round(flops / 1e9, 2) == measured_g


def test_formula_terms() -> None:
    h, i, t = 128, 128, 200
    # per sample forward: T · 2·gates·h(i+h) + head 2h
    assert forward_flops_per_sample("gru", units=h, embedding_dim=i, maxlen=t) == t * 2 * 3 * h * (i + h) + 2 * h
    assert forward_flops_per_sample("lstm", units=h, embedding_dim=i, maxlen=t) == t * 2 * 4 * h * (i + h) + 2 * h
    assert forward_flops_per_sample("rnn", units=h, embedding_dim=i, maxlen=t) == t * 2 * h * (i + h) + 2 * h
    # a second layer reads h (or 2h when bidirectional) inputs; two directions double each layer
    two = forward_flops_per_sample("gru", units=64, embedding_dim=32, maxlen=10, layers=2)
    assert two == 10 * 2 * 3 * 64 * (32 + 64) + 10 * 2 * 3 * 64 * (64 + 64) + 2 * 64
    bi = forward_flops_per_sample("lstm", units=64, embedding_dim=32, maxlen=10, layers=2, bidirectional=True)
    assert bi == 2 * 10 * 2 * 4 * 64 * (32 + 64) + 2 * 10 * 2 * 4 * 64 * (128 + 64) + 2 * 128
    # training ≈ 3 × forward, per batch
    s = CellSettings(arch="rnn", units=8, embedding_dim=4, maxlen=5, batch_size=3)
    assert train_flops_per_step(s) == 3 * 3 * forward_flops_per_sample("rnn", units=8, embedding_dim=4, maxlen=5)
    # gru_reset changes no product; the fake backend does no such work
    assert train_flops_per_step({**IMDB, "arch": "gru", "gru_reset": "before"}) == train_flops_per_step(
        {**IMDB, "arch": "gru"})
    assert train_flops_per_step({**IMDB, "arch": "gru", "backend": "fake"}) is None


def test_achieved_gflops() -> None:
    assert achieved_gflops(7.55e9, 0.097) == pytest.approx(77.8, rel=1e-3)
    assert achieved_gflops(None, 0.1) is None and achieved_gflops(1e9, 0.0) is None


def test_calibration_measures_caches_and_loads() -> None:
    cal = calibrate.measure(seconds=0.01, peak_shape=(64, 64, 64), recurrent_shape=(8, 16, 24),
                            libraries=("numpy",))  # (torch's import alone takes seconds on a busy machine)
    assert cal["peak_gflops"] > 0 and cal["recurrent_gflops"] > 0
    assert {r["library"] for r in cal["results"]} == {"numpy"} and cal["peak_library"] == "numpy"
    assert {r["shape"] for r in cal["results"]} == {"64x64 @ 64x64", "8x16 @ 16x24"}
    path = calibrate.save(cal)
    assert path.parent.parent == calibrate.paths.home()  # under $RNNBENCH_HOME (isolated per test)
    assert calibrate.load() == cal
    assert calibrate.load(cal["cpu_model"], cal["cpu_count"]) == cal
    assert calibrate.load("some other CPU", 2) is None


def test_env_calibrate_and_report_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = calibrate.measure
    monkeypatch.setattr(calibrate, "measure", lambda: real(seconds=0.01, peak_shape=(64, 64, 64), libraries=("numpy",)))
    runner = CliRunner()
    res = runner.invoke(app, ["env", "--calibrate"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "matmul peak" in res.output and "GFLOP/s" in res.output and "64x64 @ 64x64" in res.output
    res = runner.invoke(app, ["env", "--json"])
    info = json.loads(res.output)
    assert info["calibration"]["peak_gflops"] > 0

    # a run on this machine (start_run records this CPU): the report now has "% of peak"
    from helpers import make_report_run as make_run

    from rnnbench.report.build import write_reports

    run = make_run(tmp_path / "runs", ["torch"])
    paths = write_reports([run.path], out_root=tmp_path / "out", formats="csv")
    with open(paths[0], newline="") as f:
        rows = list(csv.DictReader(f))
    peak = info["calibration"]["peak_gflops"]
    for r in rows:
        assert float(r["peak_pct"]) == pytest.approx(100 * float(r["gflops"]) / peak)
