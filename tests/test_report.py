"""Reports from stored runs: aggregation, time to accuracy, pivots, Markdown/CSV/terminal output.

The runs here are synthetic but shaped like real ones: ``run.json`` from ``start_run`` on a
parsed suite, and one record per cell (via ``append_record``) with the metrics layout
``rnnbench.measure`` writes — realistic epoch times, losses and accuracies per architecture.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rnnbench.cli import app
from rnnbench.errors import UserError
from rnnbench.report.aggregate import Context, pivot, summarize, time_to_target
from rnnbench.report.build import parse_formats, write_reports
from rnnbench.results import RunDir, append_record
from rnnbench.runner import start_run
from rnnbench.suite import parse_suite

EVIL = "<script>alert(1)</script>"

# steady step (s), first-epoch extra (s), accuracy after each epoch, peak RSS (MB) — per backend × arch
PROFILE = {
    ("torch", "gru"): (0.097, 4.0, [0.71, 0.84, 0.87], 550),
    ("torch", "lstm"): (0.082, 3.5, [0.69, 0.83, 0.86], 560),
    ("torch", "rnn"): (0.041, 1.5, [0.58, 0.66, 0.70], 540),
    ("keras-tensorflow", "gru"): (0.106, 9.0, [0.73, 0.85, 0.88], 880),
    ("keras-tensorflow", "lstm"): (0.098, 8.0, [0.70, 0.84, 0.87], 890),
    ("keras-tensorflow", "rnn"): (0.050, 5.0, [0.56, 0.62, 0.66], 870),
}
PARAMS = {"gru": 99_072, "lstm": 132_096, "rnn": 33_024}


def suite_text(backends: list[str], name: str = "cmp", repeat: int = 2, description: str = EVIL) -> str:
    return f'''name = "{name}"
description = "{description}"
repeat = {repeat}
[defaults]
dataset = "sample"
epochs = 3
target_accuracy = 0.85
[matrix]
arch = ["gru", "lstm", "rnn"]
backend = {json.dumps(backends)}
'''


def fake_metrics(backend: str, arch: str, repeat: int, settings: dict[str, Any]) -> dict[str, Any]:
    step, extra, accs, rss = PROFILE[(backend, arch)]
    jitter = 1.0 + 0.03 * repeat
    steps = 32
    epochs, elapsed = [], 0.0
    for i, acc in enumerate(accs):
        wall = steps * step * jitter + (extra if i == 0 else 0.0)
        elapsed += wall
        epochs.append({"epoch": i + 1, "wall_s": wall, "steps": steps, "samples": steps * 64,
                       "samples_per_s": steps * 64 / wall, "train_loss": 0.69 * math.exp(-0.5 * i) + 0.01 * repeat,
                       "test_loss": 0.7 - 0.5 * (acc - 0.5) + 0.01 * repeat, "test_acc": acc - 0.01 * repeat,
                       "eval_s": 1.0, "elapsed_train_s": elapsed})
    emb = settings["num_words"] * settings["embedding_dim"]
    params = {"embedding": emb, "recurrent": PARAMS[arch], "head": 129}
    params["total"] = sum(params.values())
    return {"params": params, "params_total": params["total"], "epochs": epochs,
            "first_epoch_s": epochs[0]["wall_s"], "steady_epoch_s": epochs[1]["wall_s"],
            "steady_step_s": step * jitter, "samples_per_s": epochs[1]["samples_per_s"], "eval_s": 1.0,
            "train_loss": epochs[-1]["train_loss"], "test_loss": epochs[-1]["test_loss"],
            "test_acc": epochs[-1]["test_acc"], "best_test_acc": max(e["test_acc"] for e in epochs),
            "time_to_target_s": None, "target_accuracy": settings["target_accuracy"],
            "peak_rss_mb": rss * jitter, "rss_after_import_mb": rss * 0.4}


def make_run(root: Path, backends: list[str], *, name: str = "cmp", fail: str | None = None,
             description: str = EVIL) -> RunDir:
    """A finished synthetic run: every cell ok except ``fail`` (an arch), which crashes on repeat 1."""
    suite = parse_suite(suite_text(backends, name, description=description), f"{name}.toml")
    run = start_run(suite, root=root)
    for cell in suite.cells:
        s = cell.settings
        base = {"schema": 1, "run_id": run.run_id, **cell.to_json(), "started": "2025-01-01T00:00:00+00:00",
                "finished": "2025-01-01T00:01:00+00:00", "wall_s": 60.0, "exit_code": 0, "signal": None,
                "log": f"logs/{cell.key}.log", "error": None, "log_tail": None}
        if fail == s.arch and cell.repeat == 1:
            rec = {**base, "status": "crashed", "exit_code": None, "signal": "SIGSEGV",
                   "error": f"killed by signal SIGSEGV {EVIL}", "metrics": None, "env": None,
                   "log_tail": f"Traceback (most recent call last):\n  boom {EVIL}\nSegmentation fault"}
        else:
            rec = {**base, "status": "ok", "metrics": fake_metrics(s.backend, s.arch, cell.repeat, s.model_dump()),
                   "env": {"framework": s.backend, "threads": 2, "flush_denormal": True,
                           "kernel": f"fused {s.arch} {EVIL}"}}
        append_record(run.results, rec)
    return run


def _records(*runs: RunDir) -> list[dict[str, Any]]:
    return [r for run in runs for r in run.records()]


def test_summary_medians_spread_and_failures(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", ["torch"], fail="lstm")
    s = summarize(run.records())
    rows = {r["cell"]: r for r in s.rows}
    assert set(rows) == {"GRU / torch", "LSTM / torch", "SimpleRNN / torch"}
    gru = rows["GRU / torch"]
    assert gru["n"] == 2 and gru["failed"] == 0
    assert gru["steady_step_ms"] == pytest.approx(97 * 1.015)  # median of 97 and 97 × 1.03
    assert gru["steady_step_ms_min"] == pytest.approx(97) and gru["steady_step_ms_max"] == pytest.approx(97 * 1.03)
    assert rows["LSTM / torch"]["n"] == 1 and rows["LSTM / torch"]["failed"] == 1
    assert [f["status"] for f in s.failures] == ["crashed"] and "boom" in s.failures[0]["log_tail"]


def test_time_to_target_from_epochs_and_override(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", ["torch"])
    recs = run.records()
    gru0 = next(r for r in recs if r["settings"]["arch"] == "gru" and r["repeat"] == 0)
    eps = gru0["metrics"]["epochs"]
    # GRU repeat 0 reaches 0.85 at epoch 3 (0.87), not at epoch 2 (0.84)
    assert time_to_target(gru0, 0.85) == pytest.approx(eps[2]["elapsed_train_s"])
    assert time_to_target(gru0, 0.80) == pytest.approx(eps[1]["elapsed_train_s"])
    assert time_to_target(gru0, 0.95) is None
    rows = {r["cell"]: r for r in summarize(recs).rows}
    assert rows["SimpleRNN / torch"]["time_to_target"] == "never ≥ 0.85"
    # repeat 1 of GRU tops out at 0.86: both reach 0.85
    assert rows["GRU / torch"]["target_reached"] == 2
    # --target overrides the setting; GRU repeat 1 (max 0.86) misses 0.865
    rows = {r["cell"]: r for r in summarize(recs, Context(target=0.865)).rows}
    assert rows["GRU / torch"]["target_reached"] == 1
    assert rows["GRU / torch"]["time_to_target"].endswith("(1/2 reached)")
    assert rows["LSTM / torch"]["time_to_target"] == "never ≥ 0.865"
    rows = {r["cell"]: r for r in summarize(recs, Context(target=0.6)).rows}
    assert rows["SimpleRNN / torch"]["target_reached"] == 2


def test_combined_runs_pivot(tmp_path: Path) -> None:
    a = make_run(tmp_path / "runs", ["torch"], name="pt")
    b = make_run(tmp_path / "runs", ["keras-tensorflow"], name="tf")
    p = pivot(_records(a, b), ["arch"], ["backend"], "steady_step_ms")
    header, rows = p.table()
    assert header == ["arch", "keras-tensorflow", "torch"]
    assert rows[0] == ["gru", "108", "98.5"]  # 106 × 1.015, 97 × 1.015 to 3 significant digits
    assert [r[0] for r in rows] == ["gru", "lstm", "rnn"] and not p.notes
    t = pivot(_records(a, b), ["backend"], ["arch"], "time_to_target_s")
    trow = dict((r[0], r[1:]) for r in t.table()[1])
    assert trow["torch"][2] == "never ≥ 0.85" and trow["keras-tensorflow"][0] != "never ≥ 0.85"
    # a setting that varies but is on neither axis is pooled, and said so
    pooled = pivot(_records(a, b), ["arch"], [], "test_acc")
    assert pooled.notes and "backend" in pooled.notes[0]
    with pytest.raises(UserError, match="did you mean 'units'"):
        pivot(_records(a), ["unitz"], [], "test_acc")
    with pytest.raises(UserError, match="did you mean 'steady_step_ms'"):
        pivot(_records(a), ["arch"], [], "steady_step_m")


def test_same_cells_in_two_runs_are_not_pooled(tmp_path: Path) -> None:
    a = make_run(tmp_path / "runs", ["torch"], name="x")
    b = make_run(tmp_path / "runs", ["torch"], name="x")
    s = summarize(_records(a, b))
    assert len(s.rows) == 6 and s.varying[0] == "run"
    assert {r["run"] for r in s.rows} == {a.run_id, b.run_id}


def test_efficiency_columns_use_calibration(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", ["torch"])
    recs = run.records()
    ctx = Context(calibrations={run.run_id: {"peak_gflops": 334.0}})
    rows = {r["cell"]: r for r in summarize(recs, ctx).rows}
    gru = rows["GRU / torch"]
    # quick-ish suite defaults: num_words 20000, maxlen 200, emb 128, units 128, batch 64 → 7.55 GFLOP/step
    assert gru["gflop_per_step"] == pytest.approx(7.5498, rel=1e-4)
    assert gru["gflops"] == pytest.approx(7.5498 / (0.097 * 1.015), rel=2e-2)
    assert gru["peak_pct"] == pytest.approx(100 * gru["gflops"] / 334.0)
    assert summarize(recs).rows[0]["peak_pct"] is None  # no calibration → no percentage


def test_write_reports_all_formats_with_pivot(tmp_path: Path) -> None:
    a = make_run(tmp_path / "runs", ["torch"], name="pt", fail="rnn")
    b = make_run(tmp_path / "runs", ["keras-tensorflow"], name="tf")
    buf = io.StringIO()
    from rich.console import Console

    paths = write_reports([a.path, b.path], out_root=tmp_path / "out", console=Console(file=buf, width=250),
                          formats="all", rows="arch", cols="backend", metric="steady_step_ms,time_to_target_s",
                          target=0.86)
    names = {p.name for p in paths}
    assert {"report.md", "results.csv", "index.html", "pivot-steady_step_ms.csv",
            "pivot-time_to_target_s.csv"} <= names
    out = paths[0].parent
    assert out.name == f"combined-{a.run_id}+{b.run_id}"
    term = buf.getvalue()
    assert "steady step ms by arch × backend" in term and "never ≥ 0.86" in term
    md = (out / "report.md").read_text()
    assert "## steady step ms by arch × backend" in md and "never ≥ 0.86" in md
    # outside fenced code (where Markdown shows text literally) HTML in values is escaped
    prose = "".join(md.split("```")[::2])
    assert EVIL not in prose and "&lt;script&gt;alert(1)&lt;/script&gt;" in prose
    for svg in [p for p in paths if p.suffix == ".svg"]:
        assert f"]({svg.name})" in md  # the Markdown links each figure written next to it
        assert "<svg" in svg.read_text()
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and "time_to_target" in rows[0] and "gflops" in rows[0]
    never = [r for r in rows if r["arch"] == "rnn"]
    assert all(r["time_to_target"] == "never ≥ 0.86" and r["time_to_target_s"] == "" for r in never)
    with open(out / "pivot-steady_step_ms.csv", newline="") as f:
        prow = list(csv.DictReader(f))
    assert {(r["arch"], r["backend"]) for r in prow} == {(x, y) for x in ("gru", "lstm", "rnn")
                                                         for y in ("torch", "keras-tensorflow")}


def test_formats_parse() -> None:
    assert parse_formats(None) == ("md", "csv", "html")
    assert parse_formats("md") == ("md",)
    assert parse_formats("all") == ("md", "csv", "html")
    assert parse_formats("html, csv") == ("html", "csv")
    with pytest.raises(UserError, match="unknown format 'pdf'"):
        parse_formats("pdf")


def test_cli_report_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path / "reports"))
    run = make_run(tmp_path / "reports" / "runs", ["torch"])
    runner = CliRunner()
    res = runner.invoke(app, ["report", run.run_id, "--format", "csv", "--rows", "arch", "--metric", "test_acc"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "test acc by arch" in res.output and "wrote" in res.output
    assert (tmp_path / "reports" / run.run_id / "results.csv").exists()
    assert not (tmp_path / "reports" / run.run_id / "index.html").exists()
    res = runner.invoke(app, ["report", run.run_id, "--metric", "nope"])
    assert res.exit_code == 2 and "unknown metric 'nope'" in res.output
    res = runner.invoke(app, ["report", "--list-metrics"])
    assert res.exit_code == 0 and "time_to_target_s" in res.output and "peak_pct" in res.output


def test_summarize_keeps_the_old_call(tmp_path: Path) -> None:
    """``summarize(records)`` (no context) still works as ``rnnbench run`` and others call it."""
    run = make_run(tmp_path / "runs", ["torch"])
    s = summarize(run.records())
    assert s.rows and s.runs == [run.run_id]


def test_suite_report_table_gives_defaults(tmp_path: Path) -> None:
    suite = parse_suite(suite_text(["torch"], "r") + '[report]\nrows = "arch"\nmetric = "test_acc"\n'
                        'formats = "csv"\ntarget = 0.6\n', "r.toml")
    run = start_run(suite, root=tmp_path / "runs")
    for cell in suite.cells:
        s = cell.settings
        append_record(run.results, {"schema": 1, "run_id": run.run_id, **cell.to_json(), "status": "ok",
                                    "metrics": fake_metrics(s.backend, s.arch, cell.repeat, s.model_dump()),
                                    "env": {}, "wall_s": 1.0})
    from rich.console import Console

    buf = io.StringIO()
    paths = write_reports([run.path], out_root=tmp_path / "out", console=Console(file=buf, width=200))
    assert sorted(p.name for p in paths) == ["pivot-test_acc.csv", "results.csv"]
    assert "test acc by arch" in buf.getvalue()
    with open(paths[0], newline="") as f:
        assert all(r["time_to_target"] != "never ≥ 0.6" for r in csv.DictReader(f))
    # an option given on the command line wins
    paths = write_reports([run.path], out_root=tmp_path / "out", console=Console(file=io.StringIO()),
                          formats="md", target=0.99)
    assert [p.name for p in paths if p.suffix != ".svg"] == ["report.md"]
    assert "never ≥ 0.99" in paths[0].read_text()
