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
from helpers import MACHINE, cli
from helpers import make_compare_run as make_run

from rnnbench.compare import (
    FASTER,
    INCOMPARABLE,
    MISSING,
    NEW,
    NEWLY_FAILING,
    SLOWER,
    UNCHANGED,
    UNSTABLE,
    compare,
    load_snapshot,
    render_markdown,
)
from rnnbench.envinfo import fingerprint
from rnnbench.stats import _u_lower_critical, _u_null_counts, can_reach_alpha, judge


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
    # memory / accuracy have one value per side: point estimate only, and without an interval
    # nothing is "unchanged": inconclusive
    mem = [m for c in data["cells"] for m in c["metrics"] if m["metric"] == "memory"]
    assert {m["level"] for m in mem} == {"point"} and {m["verdict"] for m in mem} == {"inconclusive"}


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
    res, data = run_json(tmp_path, a, small)  # significant but under the 1.10 threshold: sized, no failure
    assert res.exit_code == 0 and set(sum(verdicts(data, "memory").values(), [])) == {"more memory, below threshold"}
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


# What rnnbench.envinfo.machine() records, split by whether it makes timings incomparable.
FULL_MACHINE = {**MACHINE, "platform": "Linux-6.8.0-x86_64-with-glibc2.39", "memory_gib": 31.2, "rnnbench": "0.4.0",
                "git_branch": "main", "git_commit_time": "2026-12-01T10:00:00+00:00"}
IN_FINGERPRINT = {"cpu_model": "Other CPU 1", "cpu_count": 4, "python": "3.12.1",
                  "versions": {"numpy": "2.1.0"}}
NOT_IN_FINGERPRINT = {"git_commit": "fedcba9876543210fedcba9876543210fedcba98-dirty", "hostname": "ci-2",
                      "platform": "Linux-6.9.1-x86_64-with-glibc2.39", "memory_gib": 15.5, "rnnbench": "0.5.0",
                      "git_branch": "feature", "git_commit_time": "2026-12-02T10:00:00+00:00"}


def test_the_fingerprint_split_covers_every_machine_field() -> None:
    from rnnbench.envinfo import machine

    assert set(machine()) == set(IN_FINGERPRINT) | set(NOT_IN_FINGERPRINT) == set(FULL_MACHINE)


@pytest.mark.parametrize("field", sorted(IN_FINGERPRINT))
def test_fingerprint_changes_with_cpu_cores_python_and_frameworks(field: str) -> None:
    assert fingerprint({**FULL_MACHINE, field: IN_FINGERPRINT[field]}) != fingerprint(FULL_MACHINE)


def test_fingerprint_changes_with_a_framework_added() -> None:
    more = {**FULL_MACHINE, "versions": {**MACHINE["versions"], "torch": "2.13.0"}}
    assert fingerprint(more) != fingerprint(FULL_MACHINE)


@pytest.mark.parametrize("field", sorted(NOT_IN_FINGERPRINT))
def test_fingerprint_ignores_commit_host_platform_memory_and_rnnbench_version(field: str) -> None:
    assert fingerprint({**FULL_MACHINE, field: NOT_IN_FINGERPRINT[field]}) == fingerprint(FULL_MACHINE)
    assert fingerprint({k: v for k, v in FULL_MACHINE.items() if k != field}) == fingerprint(FULL_MACHINE)


def test_next_commit_on_another_runner_compares_without_exit_2(tmp_path: Path) -> None:
    """Every PR is a new commit (often a new rnnbench version, another CI host): still the same machine."""
    a = make_run(tmp_path, "a", seed=1, machine=FULL_MACHINE)
    b = make_run(tmp_path, "b", seed=2, machine={**FULL_MACHINE, **NOT_IN_FINGERPRINT})
    res, data = run_json(tmp_path, a, b)
    assert res.exit_code == 0, res.output
    assert not any("DIFFERENT MACHINES" in w for w in data["warnings"])
    c = make_run(tmp_path, "c", seed=3, machine={**FULL_MACHINE, "cpu_count": 4})
    res = cli("compare", a, c)
    assert res.exit_code == 2 and "DIFFERENT MACHINES" in res.output


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
    _one_error_line(cli("compare", a, a, "--time", "0.9"), "ratio above 1")


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
    flagged = claimed = 0
    for _ in range(200):
        base = _lognormal_procs(rng, 1.0, 5, 30, between, 0.05)
        cand = _lognormal_procs(rng, 1.0, 5, 30, between, 0.05)
        direction = judge(base, cand, threshold=1.05).direction
        flagged += direction in ("worse", "better")
        claimed += direction.startswith(("worse", "better"))
    assert flagged <= 2  # failing verdicts: ≤ 1 % of 200
    assert claimed <= 5  # any change claimed (alpha 0.01): ≤ 2.5 % of 200


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
    assert judge([100.0], [109.0], threshold=1.10).direction == "inconclusive"
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
