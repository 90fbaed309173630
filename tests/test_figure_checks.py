"""The checks that put a figure in doubt (issue 29): an epoch wall padded by time outside its
steps, and timings taken on a busy machine — in the record, the terminal and the report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from helpers import REPO, require_module, write_suite
from test_measure import FakeClock, ScriptedBackend, _Data

from rnnbench import machine_load
from rnnbench.epoch_gap import GAP_WARN_PCT, epoch_gaps
from rnnbench.measure import run_protocol
from rnnbench.report.aggregate import summarize
from rnnbench.report.build import render_markdown, table_rows
from rnnbench.suite import CellSettings


def test_an_epoch_wall_above_its_summed_steps_is_flagged_and_says_by_how_much() -> None:
    steps = [[0.5, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]]
    quiet = epoch_gaps(steps, [0.701, 0.301, 0.302])
    assert not quiet["warnings"] and quiet["epoch_gap"]["flagged"] is False
    assert quiet["epoch_gap"]["outside_steps_s"] == pytest.approx([0.001, 0.001, 0.002])
    padded = epoch_gaps(steps, [0.701, 0.301, 2.86])  # epoch 3 waited 2.56 s after its last step
    assert padded["epoch_gap"]["flagged"] is True and padded["epoch_gap"]["worst_epoch"] == 3
    (warning,) = padded["warnings"]
    assert "epoch 3 took 2.860 s but its steps sum to 0.300 s" in warning and "2.560 s" in warning


def test_the_first_epoch_is_left_out_unless_it_is_the_only_one_and_lockstep_is_not_checked() -> None:
    compiling = epoch_gaps([[0.1, 0.1], [0.1, 0.1]], [3.0, 0.2])  # the first epoch holds set-up
    assert not compiling["warnings"]
    only = epoch_gaps([[0.1, 0.1]], [3.0])
    assert only["epoch_gap"]["flagged"] is True
    gated = epoch_gaps([[0.1], [0.1]], [1.0, 1.0], gated=True)  # walls hold the partner's turns
    assert gated["epoch_gap"]["checked"] is False and not gated["warnings"]


def test_the_threshold_is_a_few_percent_and_a_few_milliseconds_are_not_a_wait() -> None:
    steps = [[1.0] * 10, [1.0] * 10]
    just_under = epoch_gaps(steps, [10.0, 10.0 * (1 + GAP_WARN_PCT / 100) - 0.01])
    just_over = epoch_gaps(steps, [10.0, 10.0 * (1 + GAP_WARN_PCT / 100) + 0.06])
    assert not just_under["warnings"] and just_over["warnings"]
    tiny = epoch_gaps([[0.001] * 3, [0.001] * 3], [0.004, 0.004])  # 25%, but 1 ms of Python around fit
    assert not tiny["warnings"]


def test_the_worst_epoch_is_the_largest_share_of_its_wall_and_its_figures_are_exact() -> None:
    """Epoch 2 is 20% outside its steps (0.1 s of 0.5 s), epoch 3 only 5% (0.5 s of 10 s): the
    worst is the largest share, not the most seconds; its share is kept to 0.01%."""
    gap = epoch_gaps([[1.0], [0.4], [9.5]], [1.0, 0.5, 10.0])["epoch_gap"]
    assert gap["outside_steps_s"] == pytest.approx([0.0, 0.1, 0.5])
    assert (gap["worst_epoch"], gap["worst_s"]) == (2, pytest.approx(0.1))
    assert gap["worst_pct"] == 20.0
    thirds = epoch_gaps([[0.2], [0.2]], [0.3, 0.3])["epoch_gap"]  # 0.1 / 0.3 = 33.333…%
    assert thirds["worst_pct"] == 33.33 and thirds["worst_s"] == pytest.approx(0.1)


def test_outside_times_are_kept_to_the_microsecond() -> None:
    gap = epoch_gaps([[0.5, 0.5], [0.5, 0.5]], [1.0000004, 1.0000016])["epoch_gap"]
    assert gap["outside_steps_s"] == [0.0, 0.000002]


def test_an_epoch_with_no_wall_time_neither_divides_by_zero_nor_counts_as_the_worst() -> None:
    gaps = epoch_gaps([[1.0], [0.0], [0.4]], [1.0, 0.0, 0.5])  # epoch 2: no wall reading (0 s)
    assert gaps["epoch_gap"]["worst_epoch"] == 3 and gaps["epoch_gap"]["worst_pct"] == 20.0
    nothing = epoch_gaps([[0.0], [0.0]], [0.0, 0.0])["epoch_gap"]
    assert nothing["worst_pct"] == 0.0 and nothing["flagged"] is False


def test_the_warning_needs_more_than_five_percent_and_at_least_fifty_milliseconds() -> None:
    """The two bounds at their edges: exactly 5% is not flagged, exactly 50 ms is."""
    at_pct = epoch_gaps([[1.0], [1.9]], [1.0, 2.0])  # 0.1 s of 2.0 s: 5.0% exactly
    assert at_pct["epoch_gap"]["worst_pct"] == GAP_WARN_PCT and not at_pct["warnings"]
    at_ms = epoch_gaps([[1.0], [0.45]], [1.0, 0.5])  # 0.05 s of 0.5 s: 10%, 50 ms exactly
    assert at_ms["epoch_gap"]["worst_s"] == 0.05 and at_ms["warnings"]


def test_the_warning_says_which_figures_count_the_wait_and_which_do_not() -> None:
    (warning,) = epoch_gaps([[1.0], [0.45]], [1.0, 0.5])["warnings"]
    assert warning == (
        "epoch wall time disagrees with its steps: epoch 2 took 0.500 s but its steps sum to 0.450 s "
        "(0.050 s, 10%, outside the steps); epoch times, epoch throughput and time to target count "
        "that wait as training (step times and samples/s do not)")


class WaitsAfterItsSteps(ScriptedBackend):
    """Steps of 0.1 s; from the second epoch on, ``wait`` seconds pass after the last step
    before train_epoch returns (as the tf.data iterator's destruction did)."""

    def __init__(self, settings: CellSettings, clock: FakeClock, wait: float) -> None:
        super().__init__(settings, clock, [0.1] * 1000)
        self.wait, self.epoch = wait, 0

    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int, on_step: Callable[[], None],
                    max_steps: int | None) -> float:
        loss = super().train_epoch(x, y, batch_size, on_step, max_steps)
        self.epoch += 1
        if self.epoch > 1:
            self.clock.t += self.wait
        return loss


@pytest.mark.parametrize("wait", [0.0, 1.0])
def test_the_protocol_warns_when_a_wait_outside_the_steps_pads_its_epochs(
        monkeypatch: pytest.MonkeyPatch, wait: float) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=3, batch_size=4, warmup_steps=1)
    events: list[dict[str, Any]] = []
    m = run_protocol(s, WaitsAfterItsSteps(s, clock, wait), _Data(12), events.append)
    gap_warnings = [w for w in m["warnings"] if w.startswith("epoch wall time")]
    assert m["epoch_gap"]["flagged"] is bool(wait)
    assert len(gap_warnings) == (1 if wait else 0)
    assert m["steady_epoch_s"] == pytest.approx(0.3 + wait)  # the figure the warning puts in doubt
    assert m["steady_step_s"] == pytest.approx(0.1)  # step times do not hold the wait
    if wait:
        assert {"event": "warning", "message": gap_warnings[0]} in events  # the terminal shows it


def test_judge_names_what_crossed_which_threshold() -> None:
    assert machine_load.judge(0.05, 0.0, 2) == {"busy": False, "busy_reason": None}
    verdict = machine_load.judge(0.97, 0.0, 2)
    assert verdict["busy"] and "0.97 of the 2 cores" in verdict["busy_reason"]
    stolen = machine_load.judge(0.0, 12.5, 2)
    assert stolen["busy"] and "stole 12.5%" in stolen["busy_reason"]
    assert machine_load.busy_warning(None) is None
    assert machine_load.busy_warning({"busy": False}) is None


def _spinner() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _metered(seconds: float) -> dict[str, Any]:
    meter = machine_load.LoadMeter()
    meter.start()
    time.sleep(seconds)
    meter.stop()
    figures = meter.figures()
    assert figures is not None
    return figures


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="the kernel counters are Linux's")
def test_a_process_spinning_beside_the_window_is_seen_as_other_cores_busy() -> None:
    spin = _spinner()
    try:
        time.sleep(0.2)
        busy = _metered(1.5)
    finally:
        spin.kill()
        spin.wait()
    assert busy["busy"] is True, busy
    assert busy["other_cores"] > 0.7, busy  # one core's worth (more when something else runs too)
    assert busy["window_s"] == pytest.approx(1.5, abs=0.2) and busy["windows"] == 1


def _record(label: str, **metrics: Any) -> dict[str, Any]:
    return {"label": label, "group": label, "status": "ok", "run_id": "r1",
            "settings": {"arch": "gru", "backend": "keras-tensorflow", "seed": 0},
            "metrics": {"steady_epoch_s": 5.15, "first_epoch_s": 6.6, "steady_step_s": 0.08, **metrics}}


def test_the_report_marks_padded_epoch_figures_and_busy_rows_and_lists_why() -> None:
    gap = "epoch wall time disagrees with its steps: epoch 3 took 5.150 s but its steps sum to 2.620 s"
    busy = "busy machine: during this cell's timed steps other processes kept 0.98 of the 2 cores busy"
    summary = summarize([
        _record("GRU / keras-tensorflow", epoch_gap={"flagged": True}, warnings=[gap]),
        _record("GRU / torch", machine_load={"busy": True}, warnings=[busy]),
        _record("LSTM / torch"),
    ])
    header, rows = table_rows(summary)
    by_cell = {r[0]: dict(zip(header, r)) for r in rows}
    assert by_cell["GRU / keras-tensorflow"]["steady epoch s"] == "5.15 ⚠"
    assert by_cell["GRU / keras-tensorflow"]["steady step ms"] == "80.0"  # steps are not in doubt
    assert "GRU / torch ⚠ busy machine" in by_cell
    assert by_cell["LSTM / torch"]["steady epoch s"] == "5.15"
    md = render_markdown(summary, "t")
    assert "## ⚠ Caveats" in md and gap in md and busy in md
    assert {r["cell"]: (r["epoch_gap_flagged"], r["busy_machine"]) for r in summary.rows} == {
        "GRU / keras-tensorflow": (1, 0), "GRU / torch": (0, 1), "LSTM / torch": (0, 0)}
    assert "Caveats" not in render_markdown(summarize([_record("LSTM / torch")]), "t")


def _run_tiny_cell(tmp_path: Path, name: str) -> tuple[dict[str, Any], str, str]:
    (tmp_path / name).mkdir()
    suite = write_suite(tmp_path / name, """
[defaults]
dataset = "sample"
backend = "torch"
arch = "gru"
num_words = 2000
maxlen = 50
embedding_dim = 16
units = 16
batch_size = 32
epochs = 2
max_steps_per_epoch = 40
warmup_steps = 2
""", name=name)
    out = tmp_path / name / "runs"
    res = subprocess.run([sys.executable, "-m", "rnnbench", "run", str(suite), "-o", str(out)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    (results,) = out.glob("*/results.jsonl")
    (md,) = (tmp_path / "reports").glob(f"{results.parent.name}*/report.md")
    return json.loads(results.read_text().splitlines()[0]), md.read_text(), res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="the kernel counters are Linux's")
def test_a_real_cell_run_beside_a_spinning_process_is_named_busy_in_record_terminal_and_report(
        tmp_path: Path) -> None:
    require_module("torch")
    quiet, _, _ = _run_tiny_cell(tmp_path, "quiet")
    spin = _spinner()
    try:
        rec, md, terminal = _run_tiny_cell(tmp_path, "busy")
    finally:
        spin.kill()
        spin.wait()
    load = rec["metrics"]["machine_load"]
    assert load["busy"] is True and load["other_cores"] > 0.5, load
    assert any(w.startswith("busy machine") for w in rec["metrics"]["warnings"])
    assert "busy machine" in terminal
    assert "warning: the machine is busy before the run starts" in terminal
    assert "⚠ busy machine" in md and "## ⚠ Caveats" in md
    assert load["other_cores"] - quiet["metrics"]["machine_load"]["other_cores"] > 0.4


def test_the_report_checks_records_written_before_the_check_existed() -> None:
    """A committed Keras-TensorFlow record (tutorial run, 2 December) has no epoch_gap field;
    its epochs of 5.15 s over steps summing to ~2.7 s are marked all the same."""
    old = _record("LSTM / keras-tensorflow", epochs=[{"wall_s": 4.0}, {"wall_s": 5.16}, {"wall_s": 5.16}],
                  step_times_s=[[1.3, 1.3], [1.4, 1.3], [1.45, 1.45]])
    (row,) = summarize([old]).rows
    assert row["epoch_gap_flagged"] == 1 and "epoch 2 took 5.160 s" in row["_caveats"]["epoch_gap"][1]
    lockstep = {**old, "ab": {"side": "A"}}  # lockstep walls hold the partner's turns: not judged
    assert summarize([lockstep]).rows[0]["epoch_gap_flagged"] == 0
