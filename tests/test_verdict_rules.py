"""The rules of ``rnnbench ab``'s verdicts (:func:`rnnbench.ab.analyze`), each on pair records
built by hand: which verdict a cell gets for step time, memory and accuracy, which side a
failing cell is blamed on, the exit code CI sees, and what the summary line and the JSON say.

Every expected figure is worked out here from the records (hand arithmetic in a comment, or
scipy on the same numbers), not copied from what the analysis printed."""

from __future__ import annotations

import json
import math
import statistics
import sys
from typing import Any

import pytest

from rnnbench.ab import DEFAULTS, SideSpec, analyze, plan
from rnnbench.suite import parse_suite

SUITE = '''name = "v"
[defaults]
backend = "fake"
dataset = "sample"
epochs = 1
[matrix]
arch = ["gru", "lstm"]
'''


@pytest.fixture(scope="module")
def cells() -> list[Any]:
    """The two cells (GRU, LSTM) of a real plan, as ``rnnbench ab`` makes them."""
    sides = (SideSpec("a", sys.executable), SideSpec("b", sys.executable, {"extra_work": 0.01}))
    return plan(parse_suite(SUITE), sides)


def record(cell: Any, pair: int, side: str, *, step: float = 0.1, rss: float | None = 100.0,
           acc: float | None = 0.85, status: str = "ok", error: str | None = None,
           steady_step_s: float | None = -1.0, faults: float | None = None) -> dict[str, Any]:
    """One worker's stored record: ``step`` s a step throughout (ten steady samples)."""
    rec: dict[str, Any] = {"ab": {"side": side, "pair": pair, "cell": cell.key, "label": cell.label},
                           "status": status, "error": error, "metrics": None}
    if status == "ok":
        metrics: dict[str, Any] = {"steady_step_samples": [step] * 10,
                                   "steady_step_s": step if steady_step_s == -1.0 else steady_step_s}
        if rss is not None:
            metrics["peak_rss_mb"] = rss
        if acc is not None:
            metrics["test_acc"] = acc
        if faults is not None:
            metrics["steady_page_faults_per_step"] = faults
        rec["metrics"] = metrics
    return rec


def pairs(cell: Any, ratios: list[float], *, step: float = 0.1, **b: Any) -> list[dict[str, Any]]:
    """One pair per ratio: A steps ``step`` s, B ``step × ratio`` s (so the pair's log ratio is log(ratio))."""
    out = []
    for k, r in enumerate(ratios):
        out += [record(cell, k, "a", step=step), record(cell, k, "b", step=step * r, **b)]
    return out


# --------------------------------------------------------------------------- step time


def test_a_consistently_slower_b_is_slower_and_a_regression(cells) -> None:
    gru = cells[0]
    a = analyze(pairs(gru, [1.20, 1.21, 1.19]), [gru], {})
    (c,) = a.cells
    assert (c.key, c.label) == (gru.key, "GRU / fake")
    assert (c.n_pairs, c.a_ok, c.b_ok) == (3, 3, 3)
    assert c.time_verdict == "slower" and c.failing is None
    # logs log 1.20, log 1.21, log 1.19: their mean is log of the geometric mean ≈ 1.19997
    assert c.ratio == pytest.approx((1.20 * 1.21 * 1.19) ** (1 / 3), rel=1e-9)
    assert c.pair_ratios == pytest.approx((1.20, 1.21, 1.19))
    assert a.exit_code() == 1 and a.exit_code(True) == 1
    assert a.summary_line() == "1 cell regressed (step time: 1 slower)"


def test_two_regressed_cells_are_counted_in_the_plural(cells) -> None:
    recs = pairs(cells[0], [1.20, 1.21, 1.19]) + pairs(cells[1], [1.30, 1.31, 1.29])
    a = analyze(recs, cells, {})
    assert [c.time_verdict for c in a.cells] == ["slower", "slower"]
    assert a.summary_line() == "2 cells regressed (step time: 2 slower)"


def test_the_same_step_time_on_both_sides_is_no_regression_and_exits_0(cells) -> None:
    recs = pairs(cells[0], [1.0, 1.001, 0.999]) + pairs(cells[1], [1.0, 1.002, 0.998])
    a = analyze(recs, cells, {})
    assert [c.time_verdict for c in a.cells] == ["unchanged", "unchanged"]
    assert a.exit_code() == 0 and a.exit_code(fail_on_inconclusive=True) == 0
    assert a.summary_line() == "no regression (step time: 2 unchanged)"
    assert a.icon == "✅"


def test_step_times_per_side_are_the_median_of_the_processes_in_milliseconds(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a", step=0.1), record(gru, 0, "b", step=0.3),
            record(gru, 1, "a", step=0.3), record(gru, 1, "b", step=0.6),
            record(gru, 2, "a", step=0.2), record(gru, 2, "b", step=0.5)]
    (c,) = analyze(recs, [gru], {}).cells
    # A: median of 0.1, 0.3, 0.2 s = 0.2 s = 200 ms; B: median of 0.3, 0.6, 0.5 s = 0.5 s = 500 ms
    assert c.a_step_ms == pytest.approx(200.0, rel=1e-12)
    assert c.b_step_ms == pytest.approx(500.0, rel=1e-12)


def test_a_process_without_a_steady_step_time_is_left_out_of_its_sides_median(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a", step=0.1), record(gru, 0, "b", step=0.2),
            record(gru, 1, "a", step=0.3, steady_step_s=None), record(gru, 1, "b", step=0.4, steady_step_s=None),
            record(gru, 2, "a", step=0.3), record(gru, 2, "b", step=0.6)]
    (c,) = analyze(recs, [gru], {}).cells
    # A: median of 0.1 and 0.3 s (pair 1 has none) = 0.2 s; B: median of 0.2 and 0.6 s = 0.4 s
    assert c.a_step_ms == pytest.approx(200.0, rel=1e-12)
    assert c.b_step_ms == pytest.approx(400.0, rel=1e-12)
    none = [record(gru, 0, "a", steady_step_s=None), record(gru, 0, "b", steady_step_s=None)]
    (c,) = analyze(none, [gru], {}).cells
    assert c.a_step_ms is None and c.b_step_ms is None


def test_alpha_sets_the_width_of_the_step_time_interval(cells) -> None:
    """B slower by 10 %, 4 % and 7 % over three pairs: at the default alpha (0.01, t with 2 df ≈ 9.9)
    the 99 % interval is far too wide to decide; at alpha 0.2 (t ≈ 1.89) it lies above 1."""
    from scipy import stats as st

    gru = cells[0]
    ratios = [1.10, 1.04, 1.07]
    logs = [math.log(r) for r in ratios]
    mean, se = statistics.fmean(logs), statistics.stdev(logs) / math.sqrt(3)
    assert analyze(pairs(gru, ratios), [gru], {}).cells[0].time_verdict == "inconclusive"
    a = analyze(pairs(gru, ratios), [gru], {"alpha": 0.2})
    (c,) = a.cells
    t = st.t.ppf(1 - 0.2 / 2, 2)
    assert c.ci == pytest.approx((math.exp(mean - t * se), math.exp(mean + t * se)), rel=1e-9)
    assert c.ci[0] > 1 and c.time_verdict == "slower"
    assert a.thresholds["alpha"] == 0.2


def test_trim_keeps_one_wild_pair_from_deciding_the_step_time(cells) -> None:
    """Seven pairs at +5 % (±0.4 %) and one whose B ran 40 % slow throughout: the plain mean is
    pulled past the threshold with a wide interval; the 20 %-trimmed mean (one pair cut from
    each end of eight) stays at +5 % and calls it slower."""
    gru = cells[0]
    ratios = [1.05 * math.exp(d) for d in (0.004, -0.003, 0.002, -0.001, 0.003, -0.002, 0.001)] + [1.40]
    assert analyze(pairs(gru, ratios), [gru], {}).cells[0].time_verdict == "inconclusive"
    (c,) = analyze(pairs(gru, ratios), [gru], {"trim": 0.2}).cells
    kept = sorted(math.log(r) for r in ratios)[1:-1]
    assert c.ratio == pytest.approx(math.exp(statistics.fmean(kept)), rel=1e-9)
    assert abs(c.ratio - 1.05) < 0.005 and c.time_verdict == "slower"


def test_a_cell_without_a_single_pair_is_inconclusive(cells) -> None:
    gru, lstm = cells
    a = analyze(pairs(lstm, [1.0, 1.001, 0.999]), cells, {})
    c = a.by_key[gru.key]
    assert (c.n_pairs, c.a_ok, c.b_ok, c.failing, c.ratio) == (0, 0, 0, None, None)
    assert c.time_verdict == "inconclusive"
    assert a.summary_line() == "inconclusive: 1 of 2 cells undecided (step time: 1 inconclusive, 1 unchanged)"
    alone = analyze([], [gru], {})
    assert alone.nothing_compared
    assert alone.summary_line() == "inconclusive: 1 of 1 cell undecided (step time: 1 inconclusive)"


def test_an_undecided_cell_fails_ci_only_when_asked(cells) -> None:
    gru = cells[0]
    a = analyze(pairs(gru, [1.10, 0.95, 1.02]), [gru], {})  # ±7 % swings over 3 pairs
    assert a.cells[0].time_verdict == "inconclusive" and not a.regressions
    assert a.exit_code() == 0  # by default an inconclusive cell does not fail the build
    assert a.exit_code(fail_on_inconclusive=True) == 1
    assert a.icon == "⚠️"
    assert a.to_json()["exit_code"] == 0
    assert a.to_json(fail_on_inconclusive=True)["exit_code"] == 1
    assert a.to_json(True)["summary"] == "inconclusive: 1 of 1 cell undecided (step time: 1 inconclusive)"


def test_a_pair_missing_one_sides_record_is_not_counted(cells) -> None:
    gru = cells[0]
    recs = pairs(gru, [1.0, 1.001, 0.999]) + [record(gru, 3, "a")]  # stopped before B of pair 4 ran
    (c,) = analyze(recs, [gru], {}).cells
    assert (c.n_pairs, c.a_ok, c.b_ok, c.failing) == (3, 3, 3, None)


# --------------------------------------------------------------------------- failing sides


def test_a_cell_failing_on_b_only_is_a_regression_named_by_bs_error(cells) -> None:
    gru = cells[0]
    recs = [record(gru, k, "a") for k in range(2)] + [
        record(gru, k, "b", status="error", error="injected error") for k in range(2)]
    a = analyze(recs, [gru], {})
    (c,) = a.cells
    assert (c.n_pairs, c.a_ok, c.b_ok) == (2, 2, 0)
    assert c.failing == "failing on B" and c.error == "error: injected error"
    assert c.ratio is None and c.time_verdict == "inconclusive"
    assert a.exit_code() == 1
    # without a single paired ratio the failure stands in for the step-time verdict
    assert a.counts() == {"failing on B": 1}
    assert a.summary_line() == "1 cell regressed (step time: 1 failing on B)"


def test_a_cell_failing_on_a_only_blames_a_and_is_no_regression(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a"), record(gru, 0, "b"),
            record(gru, 1, "a", status="crashed", error="killed by signal SIGSEGV"), record(gru, 1, "b")]
    a = analyze(recs, [gru], {})
    (c,) = a.cells
    assert (c.n_pairs, c.a_ok, c.b_ok) == (2, 1, 2)
    assert c.failing == "failing on A"
    assert c.error == "crashed: killed by signal SIGSEGV"
    assert not a.regressions and a.exit_code() == 0


def test_a_cell_failing_on_both_sides_says_so_and_names_bs_failure_first(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a", status="crashed", error="boom A"),
            record(gru, 0, "b", status="timeout", error="no step in 900 s")]
    (c,) = analyze(recs, [gru], {}).cells
    assert (c.n_pairs, c.a_ok, c.b_ok) == (1, 0, 0)
    assert c.failing == "failing on both"
    assert c.error == "timeout: no step in 900 s"


def test_a_cell_that_fails_now_and_then_keeps_its_step_time_verdict_in_the_counts(cells) -> None:
    """B failed in one pair of three; the other two agree exactly (ratio 1, a zero-width interval):
    the cell regressed (failing on B) but its step time was measured, and that is what it counts as."""
    gru = cells[0]
    recs = pairs(gru, [1.0, 1.0]) + [record(gru, 2, "a"), record(gru, 2, "b", status="crashed", error="x")]
    a = analyze(recs, [gru], {})
    (c,) = a.cells
    assert c.failing == "failing on B" and c.ratio == pytest.approx(1.0) and c.time_verdict == "unchanged"
    assert a.counts() == {"unchanged": 1}
    assert a.summary_line() == "1 cell regressed (step time: 1 unchanged)"


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize("b_rss, verdict, regressed", [
    ((120.0, 120.0), "more memory", True),  # 120/100 = ×1.20 ≥ ×1.10
    ((80.0, 80.0), "less memory", False),  # ×0.80 ≤ 1/1.10
    ((104.0, 104.0), "inconclusive", False),  # ×1.04 short of the threshold, and no interval to say "unchanged"
])
def test_peak_memory_verdicts(cells, b_rss: tuple[float, float], verdict: str, regressed: bool) -> None:
    gru = cells[0]
    recs = []
    for k, rss in enumerate(b_rss):
        recs += [record(gru, k, "a", rss=100.0), record(gru, k, "b", rss=rss)]
    a = analyze(recs, [gru], {})
    (c,) = a.cells
    assert c.memory_verdict == verdict
    # two processes a side: the point estimate, B's median over A's median
    assert c.memory_ratio == pytest.approx(statistics.median(b_rss) / 100.0, rel=1e-9)
    assert c.regression is regressed
    assert a.exit_code() == int(regressed)
    if regressed:
        assert a.summary_line() == "1 cell regressed (step time: 1 unchanged; more memory: 1)"


def test_memory_needs_values_on_both_sides(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a", rss=None), record(gru, 0, "b", rss=150.0)]
    (c,) = analyze(recs, [gru], {}).cells
    assert c.memory_verdict is None and c.memory_ratio is None
    recs = [record(gru, 0, "a", rss=100.0), record(gru, 0, "b", rss=None)]
    (c,) = analyze(recs, [gru], {}).cells
    assert c.memory_verdict is None and c.memory_ratio is None


def test_memory_spread_between_processes_does_not_make_the_verdict_unstable(cells) -> None:
    """Peak RSS differs 30 % between A's two processes (robust CV ≈ 0.19): no noise gate applies
    to memory in ab, so B's medians ×175/115 ≈ 1.52 is more memory, not "unchanged"."""
    gru = cells[0]
    recs = [record(gru, 0, "a", rss=100.0), record(gru, 0, "b", rss=150.0),
            record(gru, 1, "a", rss=130.0), record(gru, 1, "b", rss=200.0)]
    (c,) = analyze(recs, [gru], {}).cells
    assert c.memory_verdict == "more memory"
    assert c.memory_ratio == pytest.approx(175.0 / 115.0, rel=1e-9)


def test_with_two_processes_a_side_memory_must_reach_the_full_threshold(cells) -> None:
    """Two processes a side are too few for a U test at alpha 0.05 (its smallest p is 1/3): the
    medians decide, and they must differ by the whole ×1.10. B at 104 and 114 MB against 100:
    ×1.09, not a regression (even though one B process is 14 % up) — and, with no interval,
    inconclusive rather than "unchanged"."""
    gru = cells[0]
    recs = [record(gru, 0, "a", rss=100.0), record(gru, 0, "b", rss=104.0),
            record(gru, 1, "a", rss=100.0), record(gru, 1, "b", rss=114.0)]
    (c,) = analyze(recs, [gru], {}).cells
    assert c.memory_verdict == "inconclusive"
    assert c.memory_ratio == pytest.approx(1.09, rel=1e-9)


def test_the_memory_threshold_comes_from_the_thresholds(cells) -> None:
    gru = cells[0]
    recs = pairs(gru, [1.0, 1.0], rss=104.0)  # B ×1.04
    assert analyze(recs, [gru], {}).cells[0].memory_verdict == "inconclusive"
    a = analyze(recs, [gru], {"memory": 1.03})
    assert a.cells[0].memory_verdict == "more memory"
    assert a.thresholds == {**DEFAULTS, "memory": 1.03}


# --------------------------------------------------------------------------- page faults


def _faulting(cell: Any, a: list[float], b: list[float]) -> list[dict[str, Any]]:
    return [r for k, (fa, fb) in enumerate(zip(a, b))
            for r in (record(cell, k, "a", faults=fa), record(cell, k, "b", faults=fb))]


def test_a_side_that_faults_many_more_pages_a_step_is_an_allocation_regression(cells) -> None:
    """reuse_memory on A only, as measured: ~64 faults a step against ~16,000 (6 pairs; U test at
    alpha 0.01 reachable with 6 vs 6): "more page faults", a regression, step time unchanged."""
    gru = cells[0]
    a = analyze(_faulting(gru, [63, 64, 66, 61, 65, 64], [15900, 16100, 16050, 15800, 16200, 16000]), [gru], {})
    (c,) = a.cells
    assert c.faults_verdict == "more page faults" and c.regression and a.exit_code() == 1
    assert c.faults_ratio == pytest.approx(16001 / 65, rel=0.02)
    assert c.time_verdict == "unchanged"
    assert a.summary_line() == "1 cell regressed (step time: 1 unchanged; more page faults: 1)"
    back = analyze(_faulting(gru, [15900, 16100, 16050, 15800, 16200, 16000], [63, 64, 66, 61, 65, 64]), [gru], {})
    assert back.cells[0].faults_verdict == "fewer page faults" and not back.regressions


def test_page_faults_within_the_threshold_are_no_regression_and_none_recorded_means_no_verdict(cells) -> None:
    gru = cells[0]
    (c,) = analyze(_faulting(gru, [64] * 6, [90, 91, 89, 92, 90, 88]), [gru], {}).cells  # ×1.4 < ×2
    assert c.faults_verdict == "more page faults, below threshold" and not c.regression
    (c,) = analyze(_faulting(gru, [64] * 6, [90, 91, 89, 92, 90, 88]), [gru], {"faults": 1.3}).cells
    assert c.faults_verdict == "more page faults" and c.regression
    (c,) = analyze(pairs(gru, [1.0, 1.0]), [gru], {}).cells
    assert c.faults_verdict is None and c.faults_ratio is None


def test_page_faults_are_counted_plus_one_a_side_and_judged_without_a_noise_gate(cells) -> None:
    """A faults none, B one a step: ×(1+1)/(0+1) = 2, the threshold itself. B's faults spread
    widely between processes (robust CV far above 0.10): still a verdict, not "unstable"."""
    gru = cells[0]
    (c,) = analyze(_faulting(gru, [0.0] * 6, [1.0] * 6), [gru], {}).cells
    assert c.faults_ratio == pytest.approx(2.0) and c.faults_verdict == "more page faults"
    (c,) = analyze(_faulting(gru, [64.0] * 6, [300, 900, 500, 1500, 400, 2000]), [gru], {}).cells
    assert c.faults_verdict == "more page faults"
    (c,) = analyze(_faulting(gru, [64.0] * 6, [50, 90, 130, 170, 210, 250]), [gru], {}).cells
    assert c.faults_verdict == "inconclusive"  # with a noise gate (CV 0.10) it would read "unstable"


# --------------------------------------------------------------------------- the error rate


def test_memory_faults_and_accuracy_are_judged_at_the_runs_alpha(cells) -> None:
    """4 pairs: a U test of 4 against 4 reaches 0.05 (smallest p 2/70) but not 0.01. At 0.05 a
    tight +4% peak, +40% faults and -0.5% accuracy are sized; at 0.01, point estimates only."""
    gru = cells[0]
    recs = []
    for k in range(4):
        recs += [record(gru, k, "a", rss=100.0 + k * 0.1, faults=64.0 + k, acc=0.85 + k * 1e-4),
                 record(gru, k, "b", rss=104.0 + k * 0.1, faults=90.0 + k, acc=0.845 + k * 1e-4)]
    (c,) = analyze(recs, [gru], {"alpha": 0.05}).cells
    assert (c.memory_verdict, c.faults_verdict, c.accuracy_verdict) == (
        "more memory, below threshold", "more page faults, below threshold", "accuracy lower, below threshold")
    (c,) = analyze(recs, [gru], {"alpha": 0.01}).cells
    assert (c.memory_verdict, c.faults_verdict, c.accuracy_verdict) == ("inconclusive",) * 3


def test_each_pair_is_read_in_the_order_its_sides_took_turns(cells) -> None:
    """Steps that grow 2% a turn, B 3% slower than A at the same moment; pair 1 had B go first.
    Read in its own order each pair gives log 1.03 exactly."""
    gru = cells[0]
    slot = [0.1 * math.exp(0.02 * t) for t in range(20)]
    recs = []
    for k, b_first in ((0, False), (1, True)):
        first, second = slot[0::2], slot[1::2]
        a, b = (second, [1.03 * x for x in first]) if b_first else (first, [1.03 * x for x in second])
        for side, steps in (("a", a), ("b", b)):
            r = record(gru, k, side)
            r["metrics"]["steady_step_samples"] = steps
            r["turn_first"] = "b" if b_first else "a"
            recs.append(r)
    (c,) = analyze(recs, [gru], {}).cells
    assert c.pair_ratios == pytest.approx((1.03, 1.03), rel=1e-12)


def test_under_until_decided_each_look_is_a_repeated_interval_and_the_mde_is_the_failing_rules(cells) -> None:
    from rnnbench.sequential import nominal_alpha
    from rnnbench.stats import paired_ratio

    gru = cells[0]
    ratios = [1.01, 1.02, 0.99, 1.015, 1.005, 1.0, 1.012, 0.998]
    recs = pairs(gru, ratios)
    (fixed,) = analyze(recs, [gru], {"alpha": 0.05}).cells
    (seq,) = analyze(recs, [gru], {"alpha": 0.05, "max_pairs": 16.0}).cells
    assert fixed.alpha_look == 0.05 and seq.alpha_look == nominal_alpha(8, 16, 0.05) < 0.05
    assert seq.ci[0] < fixed.ci[0] and seq.ci[1] > fixed.ci[1]
    want = paired_ratio([math.log(x) for x in ratios], alpha=seq.alpha_look, threshold=1.05)
    assert (seq.mde, seq.mde95) == (pytest.approx(want.mde), pytest.approx(want.mde95))
    assert seq.mde != pytest.approx(paired_ratio([math.log(x) for x in ratios], alpha=seq.alpha_look).mde)


# --------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("b_acc, verdict, regressed", [
    (0.80, "accuracy lower", True),  # 0.80 - 0.85 = -0.05, past the 0.01 drop
    (0.90, "accuracy higher", False),  # +0.05
    (0.84, "accuracy lower", True),  # -0.01: the whole drop
    (0.85, "inconclusive", False),  # two values a side: no interval, so never "unchanged"
    (0.845, "inconclusive", False),  # -0.005, short of the 0.01 drop
])
def test_accuracy_verdicts(cells, b_acc: float, verdict: str, regressed: bool) -> None:
    gru = cells[0]
    recs = []
    for k in range(2):
        recs += [record(gru, k, "a", acc=0.85), record(gru, k, "b", acc=b_acc)]
    a = analyze(recs, [gru], {})
    (c,) = a.cells
    assert c.accuracy_verdict == verdict
    assert c.accuracy_diff == pytest.approx(b_acc - 0.85, abs=1e-12)  # B minus A, in accuracy units
    assert c.regression is regressed and a.exit_code() == int(regressed)
    if regressed:
        assert a.summary_line() == "1 cell regressed (step time: 1 unchanged; accuracy lower: 1)"


def test_an_accuracy_of_zero_is_a_value_and_a_missing_one_is_not(cells) -> None:
    gru = cells[0]
    recs = [record(gru, 0, "a", acc=0.5), record(gru, 0, "b", acc=0.0),
            record(gru, 1, "a", acc=None), record(gru, 1, "b", acc=None)]
    (c,) = analyze(recs, [gru], {}).cells
    # one value a side (pair 1 has none): 0.0 - 0.5 = -0.5
    assert c.accuracy_verdict == "accuracy lower" and c.accuracy_diff == pytest.approx(-0.5)
    (c,) = analyze([record(gru, 0, "a", acc=None), record(gru, 0, "b", acc=0.8)], [gru], {}).cells
    assert c.accuracy_verdict is None and c.accuracy_diff is None
    (c,) = analyze([record(gru, 0, "a", acc=0.8), record(gru, 0, "b", acc=None)], [gru], {}).cells
    assert c.accuracy_verdict is None and c.accuracy_diff is None


def test_with_two_processes_a_side_accuracy_must_drop_the_full_threshold(cells) -> None:
    """B at 0.8475 and 0.84 against 0.85 twice: the medians differ by 0.00625 < 0.01: no
    regression, though one B process dropped 0.01 (and no interval: inconclusive)."""
    gru = cells[0]
    recs = [record(gru, 0, "a", acc=0.85), record(gru, 0, "b", acc=0.8475),
            record(gru, 1, "a", acc=0.85), record(gru, 1, "b", acc=0.84)]
    (c,) = analyze(recs, [gru], {}).cells
    assert c.accuracy_verdict == "inconclusive" and not c.regression
    assert c.accuracy_diff == pytest.approx(-0.00625, abs=1e-12)


# --------------------------------------------------------------------------- the JSON


def test_the_json_has_the_thresholds_summary_exit_code_and_every_cell(cells) -> None:
    gru, lstm = cells
    recs = pairs(gru, [1.20, 1.21, 1.19]) + pairs(lstm, [1.0, 1.001, 0.999])
    a = analyze(recs, cells, {"time": 1.10})
    data = json.loads(json.dumps(a.to_json()))
    assert set(data) == {"thresholds", "summary", "exit_code", "cells"}
    assert data["thresholds"] == {"time": 1.10, "memory": 1.10, "accuracy_drop": 0.01, "alpha": 0.01, "trim": 0.0,
                                  "faults": 2.0}
    assert data["summary"] == "1 cell regressed (step time: 1 slower, 1 unchanged)"
    assert data["exit_code"] == 1
    assert [(c["label"], c["time_verdict"], c["n_pairs"]) for c in data["cells"]] == [
        ("GRU / fake", "slower", 3), ("LSTM / fake", "unchanged", 3)]
    gru_json = data["cells"][0]
    assert gru_json["a_step_ms"] == pytest.approx(100.0)
    assert gru_json["b_step_ms"] == pytest.approx(120.0)  # median of 0.120, 0.121, 0.119 s
    assert gru_json["ci"][0] > 1 and gru_json["failing"] is None
