"""rnnbench compare: verdicts on fixed synthetic records, exit codes, and the statistics alone.

Records are written with ``append_record`` into tmp run directories with a ``run.json`` —
no training. Every random draw is seeded, so the verdicts asserted here are deterministic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnbench.cli import app
from rnnbench.compare import (
    FASTER,
    INCOMPARABLE,
    MISSING,
    NEW,
    NEWLY_FAILING,
    SLOWER,
    UNCHANGED,
    UNSTABLE,
    _u_lower_critical,
    _u_null_counts,
    compare,
    judge,
    load_snapshot,
    render_markdown,
    can_reach_alpha,
)
from rnnbench.envinfo import fingerprint
from rnnbench.results import append_record
from rnnbench.suite import Cell, CellSettings

runner = CliRunner()

MACHINE = {"cpu_model": "Test CPU 9000", "cpu_count": 8, "python": "3.11.9", "versions": {"numpy": "2.0.0"},
           "git_commit": "0123456789abcdef0123456789abcdef01234567", "hostname": "ci-1"}
CELLS = ({"arch": "gru"}, {"arch": "lstm"}, {"arch": "rnn"})
BASE_STEP = {"gru": 0.020, "lstm": 0.025, "rnn": 0.010}


def make_run(
    root: Path,
    run_id: str,
    *,
    seed: int,
    cells: tuple[dict[str, Any], ...] = CELLS,
    procs: int = 5,
    steps: int = 30,
    ratio: float | dict[str, float] = 1.0,
    within: float = 0.01,
    between: float = 0.01,
    rss: float = 300.0,
    rss_ratio: float = 1.0,
    acc: float = 0.85,
    acc_shift: float = 0.0,
    acc_noise: float = 0.002,
    fail: dict[str, str] | None = None,
    suite: str = "ci",
    machine: dict[str, Any] | None = None,
    env: dict[str, Any] | None = None,
    common: dict[str, Any] | None = None,
) -> Path:
    """A run dir whose cells have lognormal step times: ``between``-process and ``within``-process noise."""
    rng = np.random.default_rng(seed)
    run = root / run_id
    run.mkdir(parents=True)
    m = dict(machine or MACHINE)
    all_cells = []
    for spec in cells:
        for r in range(procs):
            settings = CellSettings.model_validate({"backend": "fake", **(common or {}), **spec, "seed": r})
            all_cells.append(Cell(settings=settings, repeat=r))
    meta = {"schema": 1, "run_id": run_id, "created": "2024-05-01T12:00:00+00:00", "machine": m,
            "fingerprint": fingerprint(m), "cells": [c.to_json() for c in all_cells],
            "suite": {"name": suite, "fingerprint": "cells-" + suite, "regression": {}, "varying": ["arch"]}}
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    for cell in all_cells:
        arch = cell.settings.arch
        status = (fail or {}).get(arch, "ok")
        rec: dict[str, Any] = {"schema": 1, "run_id": run_id, **cell.to_json(), "status": status,
                               "exit_code": 0, "signal": None, "error": None, "log_tail": None, "wall_s": 1.0,
                               "metrics": None, "env": None}
        if status == "ok":
            rt = ratio[arch] if isinstance(ratio, dict) else ratio
            center = BASE_STEP[arch] * rt * math.exp(rng.normal(0, between))
            samples = [round(float(s), 6) for s in center * np.exp(rng.normal(0, within, steps))]
            rec["metrics"] = {
                "steady_step_samples": samples, "steady_step_s": float(np.median(samples)),
                "step_times_s": [samples[:5], samples], "epochs": [{"epoch": 1}],
                "peak_rss_mb": rss * rss_ratio * math.exp(rng.normal(0, 0.005)),
                "test_acc": acc + acc_shift + float(rng.normal(0, acc_noise)),
                "samples_per_s": 64 / float(np.median(samples)), "first_epoch_s": 2.0, "steady_epoch_s": 1.5,
            }
            rec["env"] = dict(env or {"framework": "fake", "threads": 1})
        else:
            rec["error"] = f"synthetic {status}"
            rec["log_tail"] = "Traceback ...\n" * 20
        append_record(run / "results.jsonl", rec)
    return run


def cli(*args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def run_json(tmp_path: Path, base: Path, cand: Path, *extra: str) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / "cmp.json"
    res = cli("compare", base, cand, "--json", out, *extra)
    data = json.loads(out.read_text()) if out.exists() else {}
    return res, data


def verdicts(data: dict[str, Any], metric: str | None = None) -> dict[str, list[str]]:
    return {c["label"]: [m["verdict"] for m in c["metrics"] if metric is None or m["metric"] == metric]
            for c in data["cells"]}


# --------------------------------------------------------------------------- verdicts


def test_same_vs_same_is_clean(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0, res.output
    assert data["regression"] is False
    for label, vs in verdicts(data).items():
        assert vs == [UNCHANGED] * 3, (label, vs)
    assert {m["level"] for c in data["cells"] for m in c["metrics"] if m["metric"] == "time"} == {"process"}


def test_every_cell_five_percent_slower_is_caught(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, ratio=1.05)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 1, res.output
    assert all(v == [SLOWER] for v in verdicts(data, "time").values()), verdicts(data, "time")
    for c in data["cells"]:
        t = next(m for m in c["metrics"] if m["metric"] == "time")
        assert t["ci"][0] <= 1.05 <= t["ci"][1] + 0.01 and t["p"] < 0.05
    # and the table says so
    res = cli("compare", a, b)
    assert res.exit_code == 1 and "slower" in res.output and "3 regressions" in res.output


def test_faster_is_reported_but_exit_0(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, ratio=0.90)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0
    assert all(v == [FASTER] for v in verdicts(data, "time").values())


def test_one_process_per_side_uses_step_samples(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1, procs=1, steps=100)
    b = make_run(tmp_path, "b", seed=2, procs=1, steps=100, ratio=1.06)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 1
    times = [m for c in data["cells"] for m in c["metrics"] if m["metric"] == "time"]
    assert {m["level"] for m in times} == {"step"} and {m["verdict"] for m in times} == {SLOWER}
    assert "pooled step samples" in times[0]["detail"] + times[0]["note"]
    # memory / accuracy have one value per side: point estimate only, unchanged here
    mem = [m for c in data["cells"] for m in c["metrics"] if m["metric"] == "memory"]
    assert {m["level"] for m in mem} == {"point"} and {m["verdict"] for m in mem} == {UNCHANGED}


def test_newly_failing_cell(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, fail={"lstm": "crashed"})
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 1
    v = verdicts(data)
    assert v["LSTM / fake"] == [NEWLY_FAILING]
    assert v["GRU / fake"] == [UNCHANGED] * 3
    # and back: fixed, exit 0
    res, data = run_json(tmp_path, b, a)
    assert res.exit_code == 0 and verdicts(data)["LSTM / fake"] == ["fixed"]


def test_noisy_cell_is_unstable_not_a_regression(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1, between=0.30)
    b = make_run(tmp_path, "b", seed=2, between=0.30, ratio=1.05)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0, res.output
    assert set(sum(verdicts(data, "time").values(), [])) == {UNSTABLE}
    res = cli("compare", a, b)
    assert "unstable" in res.output and "max_cv" in res.output


def test_noisy_steps_in_a_single_process_are_unstable(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1, procs=1, within=0.30, steps=60)
    b = make_run(tmp_path, "b", seed=2, procs=1, within=0.30, steps=60)
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0
    assert set(sum(verdicts(data, "time").values(), [])) == {UNSTABLE}


def test_memory_verdicts(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    more = make_run(tmp_path, "more", seed=2, rss_ratio=1.25)
    less = make_run(tmp_path, "less", seed=3, rss_ratio=0.75)
    small = make_run(tmp_path, "small", seed=4, rss_ratio=1.04)
    res, data = run_json(tmp_path, a, more)
    assert res.exit_code == 1 and set(sum(verdicts(data, "memory").values(), [])) == {"more memory"}
    res, data = run_json(tmp_path, a, less)
    assert res.exit_code == 0 and set(sum(verdicts(data, "memory").values(), [])) == {"less memory"}
    res, data = run_json(tmp_path, a, small)  # significant but under the 1.10 threshold
    assert res.exit_code == 0 and set(sum(verdicts(data, "memory").values(), [])) == {UNCHANGED}
    res, data = run_json(tmp_path, a, small, "--memory", "1.03")  # threshold from the command line
    assert res.exit_code == 1 and set(sum(verdicts(data, "memory").values(), [])) == {"more memory"}


def test_accuracy_verdicts(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    lower = make_run(tmp_path, "lower", seed=2, acc_shift=-0.03)
    higher = make_run(tmp_path, "higher", seed=3, acc_shift=0.03)
    slight = make_run(tmp_path, "slight", seed=4, acc_shift=-0.004)
    res, data = run_json(tmp_path, a, lower)
    assert res.exit_code == 1 and set(sum(verdicts(data, "accuracy").values(), [])) == {"accuracy lower"}
    res, data = run_json(tmp_path, a, higher)
    assert res.exit_code == 0 and set(sum(verdicts(data, "accuracy").values(), [])) == {"accuracy higher"}
    res, data = run_json(tmp_path, a, slight)
    assert res.exit_code == 0 and set(sum(verdicts(data, "accuracy").values(), [])) == {UNCHANGED}


def test_suite_regression_table_sets_thresholds(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, ratio=1.05)
    meta = json.loads((b / "run.json").read_text())
    meta["suite"]["regression"] = {"time": 1.20}
    (b / "run.json").write_text(json.dumps(meta))
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0 and data["thresholds"]["time"] == 1.20
    res, data = run_json(tmp_path, a, b, "--time", "1.05")  # the flag wins
    assert res.exit_code == 1 and data["thresholds"]["time"] == 1.05


def test_different_settings_are_incomparable(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, cells=({"arch": "gru", "units": 256}, {"arch": "lstm"}, {"arch": "rnn"}))
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0, res.output
    gru = next(c for c in data["cells"] if c["label"] == "GRU / fake")
    assert [m["verdict"] for m in gru["metrics"]] == [INCOMPARABLE]
    assert "units 128 → 256" in gru["metrics"][0]["detail"]


def test_different_worker_environment_is_incomparable(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, env={"framework": "fake", "threads": 4})
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0
    assert set(sum(verdicts(data).values(), [])) == {INCOMPARABLE}
    assert "threads 1 → 4" in data["cells"][0]["metrics"][0]["detail"]


def test_extra_work_still_matches_the_baseline_cells(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, ratio=1.05, common={"extra_work": 0.05})
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 1
    assert all(v == [SLOWER] for v in verdicts(data, "time").values())


def test_missing_and_new_cells(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, cells=({"arch": "gru"}, {"arch": "lstm"}))
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 1 and verdicts(data)["SimpleRNN / fake"] == [MISSING]
    res, data = run_json(tmp_path, b, a)
    assert res.exit_code == 0 and verdicts(data)["SimpleRNN / fake"] == [NEW]


# --------------------------------------------------------------------------- bad input


def test_different_machines_exit_2_unless_allowed(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, machine={**MACHINE, "cpu_model": "Other CPU 1"})
    res = cli("compare", a, b)
    assert res.exit_code == 2
    assert "DIFFERENT MACHINES" in res.output and "Other CPU 1" in res.output
    assert "--allow-different-machines" in res.output
    res, data = run_json(tmp_path, a, b, "--allow-different-machines")
    assert res.exit_code == 0 and any("DIFFERENT MACHINES" in w for w in data["warnings"])


def _one_error_line(res: Any, needle: str) -> None:
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("rnnbench: error:") and needle in lines[0], res.output


def test_missing_run_is_one_line_exit_2(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    _one_error_line(cli("compare", a, "no-such-run"), "no-such-run: no such run or baseline")
    _one_error_line(cli("compare", "baseline:nope", a), "no baseline named 'nope'")


def test_unreadable_results_is_one_line_exit_2(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text("{}")
    (bad / "results.jsonl").write_text("this is not json\n")
    with pytest.warns(UserWarning):
        res = cli("compare", a, bad / "results.jsonl")
    _one_error_line(res, "no readable records")
    (bad / "run.json").write_text("{not json")
    (bad / "results.jsonl").write_text((a / "results.jsonl").read_text())
    _one_error_line(cli("compare", a, bad), "unreadable run metadata")
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2")
    _one_error_line(cli("compare", junk, a), "unreadable baseline")


def test_different_suites_exit_2_unless_allowed(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, suite="other")
    _one_error_line(cli("compare", a, b), "different suites")
    res, data = run_json(tmp_path, a, b, "--allow-different-suites")
    assert res.exit_code == 0 and any("different suites" in w for w in data["warnings"])


def test_bad_threshold_is_exit_2(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    _one_error_line(cli("compare", a, a, "--time", "0.9"), "ratios above 1")


# --------------------------------------------------------------------------- outputs


def test_markdown_and_json_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2, ratio=1.05, fail={"rnn": "timeout"})
    res = cli("compare", a, b, "--markdown", "-")
    assert res.exit_code == 1
    md = res.stdout
    assert md.startswith("## ❌ rnnbench compare: 3 regressions")
    assert "| cell | metric |" in md and "**slower**" in md and "**newly failing**" in md
    assert "<details>" in md
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step output\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    other = tmp_path / "pr-comment.md"
    res = cli("compare", a, b, "--markdown", summary, "--markdown", other, "-q")
    text = summary.read_text()
    assert text.startswith("# earlier step output\n## ❌")  # appended, not replaced
    assert other.read_text().startswith("## ❌")
    assert "3 regressions" in res.output
    res = cli("compare", a, b, "--json", "-")
    data = json.loads(res.stdout)
    assert data["exit_code"] == 1 and data["counts"][SLOWER] == 2 and data["counts"][NEWLY_FAILING] == 1
    assert data["baseline"]["machine"]["cpu_model"] == "Test CPU 9000"


def test_markdown_when_all_unchanged(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", seed=1)
    b = make_run(tmp_path, "b", seed=2)
    md = render_markdown(compare(load_snapshot(str(a)), load_snapshot(str(b))))
    assert md.startswith("## ✅ rnnbench compare: no regression") and "All 9 comparisons unchanged." in md


# --------------------------------------------------------------------------- the statistics alone


def _lognormal_procs(rng: np.random.Generator, ratio: float, procs: int, steps: int, between: float,
                     within: float) -> list[float]:
    return [float(np.median(ratio * math.exp(rng.normal(0, between)) * np.exp(rng.normal(0, within, steps))))
            for _ in range(procs)]


@pytest.mark.parametrize("between", [0.01, 0.02])
def test_false_alarms_in_aa_comparisons(between: float) -> None:
    rng = np.random.default_rng(12345)
    flagged = 0
    for _ in range(200):
        base = _lognormal_procs(rng, 1.0, 5, 30, between, 0.05)
        cand = _lognormal_procs(rng, 1.0, 5, 30, between, 0.05)
        flagged += judge(base, cand, threshold=1.05).direction in ("worse", "better")
    assert flagged <= 2  # ≤ 1 % of 200


def test_power_at_the_threshold() -> None:
    rng = np.random.default_rng(7)
    hits = sum(judge(_lognormal_procs(rng, 1.0, 5, 30, 0.01, 0.02), _lognormal_procs(rng, 1.05, 5, 30, 0.01, 0.02),
                     threshold=1.05).direction == "worse" for _ in range(100))
    assert hits >= 85
    # a change well under the threshold is rarely flagged even though it is real
    small = sum(judge(_lognormal_procs(rng, 1.0, 5, 30, 0.005, 0.02), _lognormal_procs(rng, 1.02, 5, 30, 0.005, 0.02),
                      threshold=1.05).direction == "worse" for _ in range(100))
    assert small <= 3


def test_step_level_false_alarms_with_one_process() -> None:
    rng = np.random.default_rng(99)
    flagged = sum(judge(list(np.exp(rng.normal(0, 0.05, 200))), list(np.exp(rng.normal(0, 0.05, 200))),
                        threshold=1.05, level="step").direction != "unchanged" for _ in range(200))
    assert flagged <= 2


def test_judge_details() -> None:
    j = judge([10.0, 10.1, 9.9, 10.05, 9.95], [12.0, 12.1, 11.9, 12.05, 11.95], threshold=1.05)
    assert j.direction == "worse" and j.level == "process"
    assert j.effect == pytest.approx(1.2, rel=0.01) and j.ci[0] < 1.2 < j.ci[1]
    assert j.p == pytest.approx(2 / 252)  # exact: complete separation of 5 vs 5
    # too few values for any test: the point estimate must reach the whole threshold
    assert judge([100.0], [109.0], threshold=1.10).direction == "unchanged"
    assert judge([100.0], [111.0], threshold=1.10).direction == "worse"
    assert judge([100.0, 100], [111.0, 111], threshold=1.10).level == "point"
    # accuracy: absolute difference, lower is worse
    acc = judge([0.85, 0.851, 0.849, 0.852, 0.848], [0.82, 0.821, 0.819, 0.822, 0.818], threshold=0.01,
                kind="difference", worse="lower", max_cv=None)
    assert acc.direction == "worse" and acc.effect == pytest.approx(-0.03, abs=0.002)
    # identical values: no change, p = 1
    same = judge([5.0] * 5, [5.0] * 5, threshold=1.05)
    assert same.direction == "unchanged" and same.p == 1.0
    # a huge change beyond the threshold is reported even when noisy
    noisy = judge([1.0, 1.3, 0.8, 1.1, 0.9], [3.0, 3.9, 2.4, 3.3, 2.7], threshold=1.05, max_cv=0.10)
    assert noisy.direction == "worse"


def test_u_distribution_and_critical_values() -> None:
    assert sum(_u_null_counts(7, 9)) == math.comb(16, 7)
    assert _u_null_counts(2, 2) == [1, 1, 2, 1, 1]
    # published two-sided alpha = 0.05 critical values of U
    sizes = ((5, 5), (6, 9), (8, 8), (10, 10), (20, 20))
    assert [_u_lower_critical(n, m, 0.05) for n, m in sizes] == [2, 10, 13, 23, 127]
    assert _u_lower_critical(3, 3, 0.05) == -1
    assert can_reach_alpha(4, 4, 0.05) and can_reach_alpha(3, 5, 0.05)
    assert not can_reach_alpha(3, 4, 0.05) and not can_reach_alpha(1, 1, 0.05)
