"""Reports from stored runs: aggregation, time to accuracy, pivots, Markdown/CSV/terminal output.

The runs here are synthetic but shaped like real ones (``helpers.make_report_run``):
``run.json`` from ``start_run`` on a parsed suite, and one record per cell (via
``append_record``) with the metrics layout ``rnnbench.measure`` writes — realistic epoch
times, losses and accuracies per architecture.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from helpers import EVIL, fake_metrics, suite_text
from helpers import make_report_run as make_run
from typer.testing import CliRunner

from rnnbench.cli import app
from rnnbench.errors import UserError
from rnnbench.report.aggregate import Context, pivot, summarize, time_to_target
from rnnbench.report.build import parse_formats, write_reports
from rnnbench.results import RunDir, append_record
from rnnbench.runner import start_run
from rnnbench.suite import parse_suite


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


# Two repeats of one cell with hand-set epochs: (training wall s, test accuracy) per epoch.
# Evaluation time (eval_s) is excluded from time to target.
TTT_EPOCHS = {
    0: [(10.0, 0.70), (20.0, 0.84), (30.0, 0.86)],  # training time 10, 30, 60 s at the epoch ends
    1: [(10.0, 0.80), (20.0, 0.855), (30.0, 0.85)],  # 10, 30, 60 s; peaks at epoch 2
}


def _ttt_run(root: Path, target: float, *, recorded_elapsed: bool = False) -> RunDir:
    """A finished run of the two repeats above; ``target`` is the cells' target_accuracy setting."""
    suite = parse_suite('name = "ttt"\nrepeat = 2\n[defaults]\ndataset = "sample"\nbackend = "torch"\n'
                        f'epochs = 3\ntarget_accuracy = {target}\n[matrix]\narch = ["gru"]\n', "ttt.toml")
    run = start_run(suite, root=root)
    for cell in suite.cells:
        epochs, elapsed = [], 0.0
        for i, (wall, acc) in enumerate(TTT_EPOCHS[cell.repeat]):
            elapsed += wall
            ep = {"epoch": i + 1, "wall_s": wall, "eval_s": 5.0, "test_acc": acc}
            if recorded_elapsed:  # as rnnbench.measure writes it; here 1 s less per epoch than the walls
                ep["elapsed_train_s"] = elapsed - (i + 1)
            epochs.append(ep)
        append_record(run.results, {"schema": 1, "run_id": run.run_id, **cell.to_json(), "status": "ok",
                                    "metrics": {"epochs": epochs, "test_acc": epochs[-1]["test_acc"]},
                                    "env": {}, "wall_s": 100.0})
    return run


def test_time_to_target_is_the_training_time_of_the_first_epoch_at_target(tmp_path: Path) -> None:
    r0, r1 = sorted(_ttt_run(tmp_path / "runs", 0.85).records(), key=lambda r: r["repeat"])
    # repeat 0: 0.70 after 10 s, 0.84 after 30 s, 0.86 after 60 s (evaluation's 5 s per epoch not counted)
    assert time_to_target(r0, 0.85) == 60.0
    assert time_to_target(r0, 0.84) == 30.0  # reached means ≥
    assert time_to_target(r0, 0.70) == 10.0
    assert time_to_target(r0, 0.5) == 10.0
    assert time_to_target(r0, 0.861) is None  # never reached
    assert time_to_target(r0, None) is None  # no target, no time
    # repeat 1 peaks at epoch 2 and drops: the first epoch at target counts
    assert time_to_target(r1, 0.85) == 30.0 and time_to_target(r1, 0.80) == 10.0
    assert time_to_target(r1, 0.86) is None
    # a recorded elapsed_train_s is used as recorded, not recomputed from the walls
    q0 = min(_ttt_run(tmp_path / "runs2", 0.85, recorded_elapsed=True).records(), key=lambda r: r["repeat"])
    assert time_to_target(q0, 0.85) == 57.0 and time_to_target(q0, 0.84) == 28.0


def test_time_to_target_follows_the_setting_and_the_override(tmp_path: Path) -> None:
    def row(run: RunDir, target: float | None = None) -> dict[str, Any]:
        (r,) = summarize(run.records(), Context(target=target)).rows
        return r

    at_85 = row(_ttt_run(tmp_path / "a", 0.85))
    assert at_85["target_accuracy"] == 0.85 and at_85["target_reached"] == 2
    assert at_85["time_to_target_s"] == 45.0  # median of 60 and 30
    assert (at_85["time_to_target_s_min"], at_85["time_to_target_s_max"]) == (30.0, 60.0)
    assert at_85["time_to_target"] == "45.0"
    # the cells' target_accuracy setting decides it: at 0.80 repeat 0 needs 30 s, repeat 1 10 s
    at_80 = row(_ttt_run(tmp_path / "b", 0.80))
    assert at_80["target_accuracy"] == 0.80 and at_80["time_to_target_s"] == 20.0
    # --target (Context.target) overrides the setting
    run = _ttt_run(tmp_path / "c", 0.85)
    assert row(run, 0.75)["time_to_target_s"] == 20.0
    only0 = row(run, 0.86)  # only repeat 0 (0.86 after 60 s) gets there
    assert only0["target_accuracy"] == 0.86 and only0["target_reached"] == 1
    assert only0["time_to_target_s"] == 60.0 and only0["time_to_target"] == "60.0 (1/2 reached)"
    never = row(run, 0.861)
    assert never["target_reached"] == 0 and never["time_to_target_s"] is None
    assert never["time_to_target"] == "never ≥ 0.861"


def test_time_to_target_when_only_some_repeats_reach_it(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", ["torch"])
    rows = {r["cell"]: r for r in summarize(run.records(), Context(target=0.865)).rows}
    gru = rows["GRU / torch"]  # repeat 0 reaches 0.87 at epoch 3; repeat 1 tops out at 0.86
    (gru0,) = [r for r in gru["_records"] if r["repeat"] == 0]
    assert gru["target_reached"] == 1
    assert gru["time_to_target_s"] == pytest.approx(32 * 0.097 * 3 + 4.0)  # 3 epochs of 32 steps + first-epoch extra
    assert gru["time_to_target_s"] == time_to_target(gru0, 0.865)
    assert gru["time_to_target"].endswith("(1/2 reached)")
    assert rows["LSTM / torch"]["time_to_target"] == "never ≥ 0.865"


def test_cli_report_target_changes_the_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path / "reports"))
    run = _ttt_run(tmp_path / "reports" / "runs", 0.85)
    out = tmp_path / "reports" / run.run_id / "results.csv"

    def csv_ttt(*extra: str) -> str:
        res = CliRunner().invoke(app, ["report", run.run_id, "--format", "csv", *extra], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        with open(out, newline="") as f:
            (row,) = list(csv.DictReader(f))
        return row["time_to_target_s"]

    assert float(csv_ttt()) == 45.0
    assert float(csv_ttt("--target", "0.75")) == 20.0
    assert csv_ttt("--target", "0.9") == ""


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
