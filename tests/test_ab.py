"""rnnbench ab: the turn-taking protocol, the paired statistics, and the command end to end
(real worker processes, the fake backend)."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import FAKE_AB_SUITE
from rnnbench.cli import app
from rnnbench.errors import UserError
from rnnbench.stats import pair_log_ratio, paired_ratio, paired_verdict
from rnnbench.turns import Referee, Side

FAKE = FAKE_AB_SUITE

CHILD = """
import sys, time
from rnnbench.turns import Gate
g = Gate(int(sys.argv[1]), int(sys.argv[2]))
out = []
for _ in range(int(sys.argv[3])):
    g.turn()
    t0 = time.monotonic(); time.sleep(0.01); out.append((t0, time.monotonic()))
print(repr(out))
"""


def test_referee_alternates_strictly_and_never_lets_two_steps_overlap() -> None:
    sides, procs = [], []
    for name, steps in (("a", 6), ("b", 4)):  # b finishes early: a goes on alone
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD, str(go_r), str(done_w), str(steps)],
                                      pass_fds=(go_r, done_w), stdout=subprocess.PIPE, text=True))
        os.close(go_r)
        os.close(done_w)
        sides.append(Side(name, go_w, done_r))
    ref = Referee(sides[0], sides[1], timeout=30)
    ref.run()
    spans = [eval(p.communicate(timeout=30)[0]) for p in procs]  # noqa: S307 - our own child's repr
    # every go is followed by that side's step (plus one last go that finds the worker gone)
    assert "".join(ref.order).startswith("abababab")
    everything = sorted((s, e, who) for who, sp in zip("ab", spans) for s, e in sp)
    for (s1, e1, _), (s2, _, _) in zip(everything, everything[1:]):
        assert s2 >= e1, "two workers computed at the same time"
    assert [who for _, _, who in everything] == list("ababababaa")


def test_pair_log_ratio_cancels_drift_between_neighbours() -> None:
    a = [1.0 + 0.01 * i for i in range(20)]  # A drifts slower step by step
    b = [1.05 * (x + 0.005) for x in a]  # B 5 % slower, half a step later in the drift
    assert math.exp(pair_log_ratio(a, b)) == pytest.approx(1.05, rel=1e-3)


def test_paired_verdicts() -> None:
    same = paired_ratio([0.002, -0.003, 0.001, 0.0], alpha=0.01)
    assert paired_verdict(same, 1.05) == "unchanged" and same.ci[0] < 1 < same.ci[1]
    slow = paired_ratio([math.log(1.05) + d for d in (0.004, -0.003, 0.002, -0.001)], alpha=0.01)
    assert paired_verdict(slow, 1.05) == "slower"
    assert paired_verdict(paired_ratio([-x for x in (0.05, 0.047, 0.052, 0.049)]), 1.05) == "faster"
    wide = paired_ratio([0.1, -0.1, 0.05, -0.02], alpha=0.01)
    assert paired_verdict(wide, 1.05) == "inconclusive" and wide.mde > 0.05
    assert paired_verdict(paired_ratio([0.1]), 1.05) == "inconclusive"  # one pair: no interval


runner = CliRunner()


def _ab(tmp_path: Path, *args: str):  # noqa: ANN202
    suite = tmp_path / "f.toml"
    suite.write_text(FAKE, encoding="utf-8")
    return runner.invoke(app, ["ab", str(suite), "-o", str(tmp_path / "runs"), "-q", *args])


def test_a_trimmed_mean_over_pairs_keeps_one_wild_pair_from_deciding() -> None:
    from rnnbench.stats import trimmed_mean_se

    logs = [math.log(1.05) + d for d in (0.004, -0.003, 0.002, -0.001, 0.003, -0.002, 0.001, 0.0)]
    wild = logs[:-1] + [math.log(1.40)]  # one pair whose B process was slow throughout
    assert paired_verdict(paired_ratio(logs), 1.05) == "slower"
    plain = paired_ratio(wild)
    assert paired_verdict(plain, 1.05) == "inconclusive" and plain.ratio > 1.08
    trimmed = paired_ratio(wild, trim=0.2)
    assert paired_verdict(trimmed, 1.05) == "slower" and abs(trimmed.ratio - 1.05) < 0.005
    # no trimming possible with 4 pairs (floor(0.8) = 0): the plain mean
    assert paired_ratio(wild[:4], trim=0.2) == paired_ratio(wild[:4])
    m, se, df = trimmed_mean_se([1.0, 2.0, 3.0, 4.0, 100.0], 0.2)
    assert m == 3.0 and df == 2  # one cut from each end; winsorized [2, 2, 3, 4, 4]
    assert abs(se - statistics.stdev([2, 2, 3, 4, 4]) / (0.6 * math.sqrt(5))) < 1e-12


@pytest.mark.parametrize("option, value, expected", [
    ("--faults", "0.5", "--faults 0.5: expected a ratio of page faults per step above 1 (e.g. 2.0), got 0.5"),
    ("--alpha", "1.5", "--alpha 1.5: expected a significance level between 0 and 1 (e.g. 0.05), got 1.5"),
    ("--trim", "0.5", "--trim 0.5: expected a fraction of pairs trimmed from each end, from 0 up to below 0.5 "
                      "(e.g. 0.125), got 0.5"),
    ("--time", "1", "--time 1: expected a step-time ratio above 1 (e.g. 1.05 = 5% slower counts), got 1.0"),
])
def test_a_threshold_out_of_range_is_refused_as_a_suite_would_refuse_it(tmp_path: Path, option: str, value: str,
                                                                       expected: str) -> None:
    res = _ab(tmp_path, "--aa", option, value)
    assert res.exit_code == 2 and expected in res.output, res.output
    assert not (tmp_path / "runs").exists()


def test_sides_that_differ_in_nothing_or_do_not_exist_are_refused(tmp_path: Path) -> None:
    res = _ab(tmp_path)
    assert res.exit_code == 2 and "differ in nothing" in res.output
    res = _ab(tmp_path, "--b", str(tmp_path / "no-venv"))
    assert res.exit_code == 2 and "no such interpreter or venv" in res.output
    res = _ab(tmp_path, "--b-set", "nonsense=1")
    assert res.exit_code == 2 and "unknown setting" in res.output


def test_two_venvs_on_one_interpreter_are_two_sides(tmp_path: Path) -> None:
    from rnnbench.ab import make_sides
    from rnnbench.suite import parse_suite

    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)  # a venv's python is a link to the same interpreter
    sides = make_sides(None, str(tmp_path / "venv"), {}, {}, parse_suite(FAKE))
    assert sides[1].python == str(venv / "python")


def test_ab_flags_a_slower_side_and_a_side_that_fails(tmp_path: Path) -> None:
    res = _ab(tmp_path, "--b-set", "extra_work=10", "--pairs", "4", "--json", str(tmp_path / "v.json"))
    assert res.exit_code == 1, res.output
    data = json.loads((tmp_path / "v.json").read_text())
    assert [c["time_verdict"] for c in data["cells"]] == ["slower", "slower"]
    assert all(c["ratio"] > 2 and c["n_pairs"] == 4 for c in data["cells"])
    run = next((tmp_path / "runs").iterdir())
    recs = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert sorted((r["ab"]["side"], r["ab"]["pair"]) for r in recs if r["ab"]["label"] == "GRU / fake") == \
        [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("b", 0), ("b", 1), ("b", 2), ("b", 3)]
    # every worker ran with an environment padding of its own random length (memory layout luck
    # is redrawn per process): the recorded padding is what the worker's environment really held
    pads = {(r["ab"]["cell"], r["ab"]["pair"], r["ab"]["side"]): r for r in recs}
    assert all(0 <= r["layout_pad"] <= 4095 for r in recs)
    assert len({r["layout_pad"] for r in recs}) > 4
    # the first turn alternates over pairs (the referee's real order, on both records of a pair)
    assert {(r["ab"]["pair"], r["turn_first"]) for r in recs} == {(0, "a"), (1, "b"), (2, "a"), (3, "b")}
    for (cell, k, side), ra in pads.items():
        if side == "a":
            rb = pads[(cell, k, "b")]
            assert rb["env"]["environ_bytes"] - ra["env"]["environ_bytes"] == rb["layout_pad"] - ra["layout_pad"]

    res = _ab(tmp_path, "--b-set", "fault=error", "--pairs", "2", "--json", str(tmp_path / "f.json"))
    assert res.exit_code == 1
    cells = json.loads((tmp_path / "f.json").read_text())["cells"]
    assert [c["failing"] for c in cells] == ["failing on B", "failing on B"]
    assert "injected error" in cells[0]["error"]



def test_jobs_run_pairs_at_once_each_on_cores_of_its_own(tmp_path: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores to run two pairs at once")
    res = _ab(tmp_path, "--b-set", "extra_work=10", "--pairs", "4", "--set", "threads=1", "-j", "2",
              "--json", str(tmp_path / "v.json"))
    assert res.exit_code == 1, res.output
    assert [c["time_verdict"] for c in json.loads((tmp_path / "v.json").read_text())["cells"]] == ["slower", "slower"]
    run = next((tmp_path / "runs").iterdir())
    recs = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert len(recs) == 16
    by_pair: dict[tuple[str, int], list[list[int]]] = {}
    for r in recs:
        by_pair.setdefault((r["ab"]["cell"], r["ab"]["pair"]), []).append(r["env"]["cpu_affinity"])
    assert all(len(v) == 2 and v[0] == v[1] and len(v[0]) == 1 for v in by_pair.values())  # a pair shares its core
    assert len({tuple(v[0]) for v in by_pair.values()}) == 2  # and the two slots were both used
    res = _ab(tmp_path, "--pairs", "2", "--b-set", "extra_work=1", "-j", str(len(os.sched_getaffinity(0)) + 1),
              "--set", "threads=1")
    assert res.exit_code == 2 and "--jobs" in res.output and "cores" in res.output, res.output


def test_a_side_whose_rnnbench_predates_ab_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old" / "rnnbench"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text('__version__ = "0.0.1"\n')
    py = tmp_path / "python"
    # -S: no site-packages (so not this checkout's editable install either), only the old package
    py.write_text(f'#!/bin/sh\nPYTHONPATH={old.parent} exec {sys.executable} -S "$@"\n')
    py.chmod(0o755)
    res = _ab(tmp_path, "--b", str(py))
    assert res.exit_code == 2 and "predates rnnbench ab" in res.output, res.output


def test_resume_runs_only_the_missing_pairs(tmp_path: Path) -> None:
    res = _ab(tmp_path, "--b-set", "extra_work=10", "--pairs", "3")
    assert res.exit_code == 1, res.output
    run = next((tmp_path / "runs").iterdir())
    results = run / "results.jsonl"
    lines = results.read_text().splitlines()
    kept = [x for x in lines if json.loads(x)["ab"]["pair"] < 2]  # as if stopped after two rounds
    results.write_text("\n".join(kept) + "\n")
    res = runner.invoke(app, ["ab", "--resume", str(run), "-q"])
    assert res.exit_code == 1, res.output
    recs = [json.loads(x) for x in results.read_text().splitlines()]
    assert sorted((r["ab"]["label"], r["ab"]["pair"], r["ab"]["side"]) for r in recs) == sorted(
        (label, k, s) for label in ("GRU / fake", "LSTM / fake") for k in (0, 1, 2) for s in "ab")


def test_settle_waits_for_a_busy_process_and_not_for_an_idle_one() -> None:
    import time

    from rnnbench.turns import running_threads

    assert running_threads(os.getpid()) >= 1 and running_threads(2**22 + 12345) is None
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import sys, time; print(flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE)
    try:
        # No fixed sleeps (a loaded machine starts Python slowly): wait until each is seen in its state
        assert idle.stdout is not None and idle.stdout.readline() == b"\n"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (running_threads(idle.pid) != 0 or not running_threads(busy.pid)):
            time.sleep(0.01)
        s_busy, s_idle = Side("busy", -1, -1, pid=busy.pid), Side("idle", -1, -1, pid=idle.pid)
        s_busy.settle(max_s=0.5)
        s_idle.settle(max_s=0.5)
        assert s_busy.settle_s >= 0.45  # still spinning: waited the whole window
        assert s_idle.settle_s < 0.25  # asleep: did not wait it out
    finally:
        busy.kill()
        idle.kill()


def test_an_older_rnnbench_on_a_side_gets_cells_without_the_settings_it_lacks(tmp_path: Path) -> None:
    """A pull request that adds a setting runs its A/B against the base's rnnbench, which would
    refuse the new key (settings forbid extras): it is left out of that side's cells, and a
    cell that sets it away from its default is refused up front, unless the parent carries it
    out when it starts the worker (huge_pages, reuse_memory, memory_limit_mb): then the old
    worker gets its effect all the same."""
    from rnnbench.ab import SideSpec, plan
    from rnnbench.executors.local import start_worker
    from rnnbench.suite import parse_suite

    base = 'name = "s"\n[defaults]\nbackend = "fake"\ndataset = "sample"\nepochs = 1\n'
    old = SideSpec("a", sys.executable, unknown_settings=("flush_denormal", "huge_pages", "reuse_memory",
                                                                 "memory_limit_mb"))
    new = SideSpec("b", sys.executable)
    (cell,) = plan(parse_suite(base + "huge_pages = true\nreuse_memory = true\nmemory_limit_mb = 4000\n"), (old, new))
    w = start_worker(cell.a, tmp_path, drop_settings=old.unknown_settings)
    limits, environ = "", b""
    if sys.platform.startswith("linux"):  # once the setup step has exec'd the worker: its limits and environment
        proc = Path(f"/proc/{w.proc.pid}")
        while b"-c\0" in (argv := (proc / "cmdline").read_bytes()) or b"rnnbench.worker" not in argv:
            time.sleep(0.005)
        limits, environ = (proc / "limits").read_text(), (proc / "environ").read_bytes()
    w.proc.wait(120)
    given = json.loads((tmp_path / "cells" / f"{cell.a.key}.json").read_text())
    assert not {"memory_limit_mb", "huge_pages", "reuse_memory", "flush_denormal"} & set(given["settings"])
    assert "epochs" in given["settings"]
    assert w.record("r", False)["status"] == "ok"
    if sys.platform.startswith("linux"):  # the old worker ran under the limit, with huge pages and reuse asked for
        line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
        assert str(4000 * 2**20) in line, line
        assert b"glibc.malloc.hugetlb=1" in environ and b"glibc.malloc.mmap_max=0" in environ
    with pytest.raises(UserError, match="has no setting 'flush_denormal'"):
        plan(parse_suite(base + "flush_denormal = false\n"), (old, new))


def test_the_summary_line_counts_regressed_cells_apart_from_step_time_verdicts() -> None:
    """Two cells regressed on memory only, two were slower: 4 cells regressed, and the step-time
    verdicts say 2 slower, 2 unchanged (it used to read "4 regressions (2 slower, 2 unchanged)")."""
    from rnnbench.ab import Analysis, CellResult

    cells = [CellResult(f"k{i}", f"cell {i}", 6, 6, 6, time, ratio=1.0, memory_verdict="more memory")
             for i, time in enumerate(["slower", "slower", "unchanged", "unchanged"])]
    line = Analysis(cells, {}).summary_line()
    assert line == "4 cells regressed (step time: 2 slower, 2 unchanged; more memory: 4)"
    quiet = [CellResult("k", "cell", 6, 6, 6, "unchanged", ratio=1.0, memory_verdict="unchanged")]
    assert Analysis(quiet, {}).summary_line() == "no regression (step time: 1 unchanged)"


def _until_decided(tmp_path: Path, pair_wall_s: float, budget: float, notes: list[str] | None = None) -> dict[str, int]:
    """execute_ab over FAKE with a stand-in pair runner: GRU's pairs agree exactly (decided at
    once), LSTM's swing ±10% (inconclusive however many pairs); returns pairs run per cell."""
    from rnnbench.ab import SideSpec, execute_ab, plan, start_ab_run
    from rnnbench.suite import load_suite

    tmp_path.mkdir()
    path = tmp_path / "f.toml"
    path.write_text(FAKE, encoding="utf-8")
    suite = load_suite(path)
    sides = (SideSpec("a", sys.executable), SideSpec("b", sys.executable, {"extra_work": 0.01}))
    run = start_ab_run(suite, sides, 3, {}, root=tmp_path / "runs")
    cells = plan(suite, sides)
    calls: dict[str, int] = {}

    def pair_runner(pair, sides, run_dir, run_id, name, **_):  # noqa: ANN001, ANN202
        key = name.rsplit(".p", 1)[0]
        calls[key] = calls.get(key, 0) + 1
        swing = 1.0 if "gru" in key else (0.9 if calls[key] % 2 else 1.1)

        def rec(step: float) -> dict[str, Any]:
            return {"key": name, "status": "ok", "wall_s": pair_wall_s,
                    "metrics": {"steady_step_samples": [step] * 10, "steady_step_s": step, "peak_rss_mb": 100.0,
                                "test_acc": 0.5}}
        return rec(0.1), rec(0.1 * swing)

    summary = execute_ab(run, cells, sides, 3, {}, until_decided=budget, max_pairs=7, pair_runner=pair_runner,
                         on_note=(notes if notes is not None else []).append)
    assert summary.analysis is not None
    by = summary.analysis.by_key
    assert by[cells[1].key].time_verdict == "inconclusive"
    return {c.label: by[c.key].n_pairs for c in cells}


def test_until_decided_adds_pairs_only_to_open_cells_and_only_within_its_budget(tmp_path: Path) -> None:
    # quick pairs: the inconclusive cell gets pairs up to --max-pairs, the decided one none
    assert _until_decided(tmp_path / "quick", pair_wall_s=0.01, budget=600) == {"GRU / fake": 3, "LSTM / fake": 7}
    # pairs that took 100 s each: the budget covers the planned pairs too (issue 31: it limited only
    # the extra ones), so after the two rounds that always run, the plan shrinks and says so
    notes: list[str] = []
    assert _until_decided(tmp_path / "slow", pair_wall_s=100.0, budget=60, notes=notes) == {
        "GRU / fake": 2, "LSTM / fake": 2}
    assert notes == ["the plan shrank to fit --until-decided 60 s: 2 of 3 planned pairs a cell (one more round, "
                     "~200 s, would end after the budget)"]
    # a budget the planned pairs fit in: all of them run, no note
    fits: list[str] = []
    assert _until_decided(tmp_path / "fits", pair_wall_s=1.0, budget=30, notes=fits)["GRU / fake"] == 3 and not fits


def test_the_budget_is_a_deadline_a_pair_still_running_is_stopped_and_not_kept(tmp_path: Path) -> None:
    """Issue 31: on a machine kept busy by another process, one PyTorch pair ran ~10 s a step and
    ``--until-decided 280`` went on past 4 minutes waiting for it. A pair still running when the
    budget ends is killed, not recorded, and the run ends at once, saying why."""
    from types import SimpleNamespace

    from rnnbench.ab import SideSpec, execute_ab, plan, start_ab_run
    from rnnbench.suite import load_suite

    path = tmp_path / "f.toml"
    path.write_text(FAKE, encoding="utf-8")
    suite = load_suite(path)
    sides = (SideSpec("a", sys.executable), SideSpec("b", sys.executable, {"extra_work": 0.01}))
    run = start_ab_run(suite, sides, 3, {}, root=tmp_path / "runs")
    started_pairs: list[str] = []

    def hung_pair(pair, sides, run_dir, run_id, name, started=None, **_):  # noqa: ANN001, ANN202
        procs = [subprocess.Popen(["sleep", "60"], start_new_session=True) for _ in "ab"]
        started_pairs.append(name)
        started([SimpleNamespace(proc=p) for p in procs])
        for p in procs:
            p.wait()  # returns only when the deadline kills it
        return ({"status": "crashed", "wall_s": 1.0, "metrics": {}}, {"status": "crashed", "wall_s": 1.0,
                                                                     "metrics": {}})

    t0 = time.monotonic()
    summary = execute_ab(run, plan(suite, sides), sides, 3, {}, until_decided=1.5, pair_runner=hung_pair)
    assert time.monotonic() - t0 < 15  # the 60 s pair was stopped at the budget (+ the kill's grace)
    assert len(started_pairs) == 1  # and nothing started after it
    assert summary.ran == 0 and run.records() == []
    assert summary.budget_note == ("the --until-decided budget (1.5 s) ran out while GRU / fake pair 1 ran: "
                                   "stopped, not kept; 0 pairs kept this run")


def test_the_deadline_kills_what_runs_when_it_passes_and_nothing_once_closed() -> None:
    from rnnbench.budget import Deadline

    now, killed = [0.0], []
    with Deadline(0.2, killed.append) as d:
        d.started(["w1", "w2"])
        assert not d.spent
        time.sleep(0.6)
        assert d.spent and killed == ["w1", "w2"]
        d.started(["late"])  # a pair started after the deadline is stopped at once
        assert killed == ["w1", "w2", "late"]
    with Deadline(0.3, killed.append) as early:
        early.started(["w3"])
    time.sleep(0.5)
    assert not early.spent and "w3" not in killed  # the run ended first: nothing killed after it
    assert now == [0.0]


def test_pair_progress_names_the_step_each_pair_in_flight_has_reached(tmp_path: Path) -> None:
    """Between pairs the heartbeat names the running pair, how long it has run and its slower
    side's step, so a slow pair is seen to move rather than a bare "pairs running"."""
    from rnnbench.progress import PairProgress

    a, b = tmp_path / "a.events.jsonl", tmp_path / "b.events.jsonl"
    now = [0.0]
    p = PairProgress(planned=4, clock=lambda: now[0])
    assert p.in_flight() == ""
    p.pair_started("LSTM / torch", 0, [a, b])
    now[0] = 100.0
    assert p.in_flight() == "LSTM / torch pair 1 running 1:40"  # no worker has written a step yet
    a.write_text('{"event": "built"}\n{"event": "step", "epoch": 1, "step": 10, "of": 30}\n'
                 '{"event": "step", "epoch": 1, "step": 20, "of": 30}\n{"event": "ste', encoding="utf-8")
    assert p.in_flight() == "LSTM / torch pair 1 running 1:40"  # side B has not reported a step yet
    b.write_text('{"event": "step", "epoch": 1, "step": 10, "of": 30}\n', encoding="utf-8")
    assert p.in_flight() == "LSTM / torch pair 1 running 1:40, at step 10/30"  # the slower side's step
    b.write_text('{"event": "step", "epoch": 1, "step": 30, "of": 30}\n{"event": "st', encoding="utf-8")
    assert p.in_flight() == "LSTM / torch pair 1 running 1:40, at step 20/30"  # half a line is skipped
    p.pair_done("LSTM / torch", 0)
    assert p.in_flight() == "" and p.done == 1


def test_pair_progress_counts_pairs_and_keeps_its_eta_within_the_budget() -> None:
    from rnnbench.progress import PairProgress

    now = [0.0]
    p = PairProgress(planned=16, done=2, budget=280, clock=lambda: now[0])
    assert p.status() == "2/16 pairs, 0:00 elapsed, ETA after the first pair (budget 4:40)"
    now[0] = 20.0
    p.pair_done()
    assert p.status() == "3/16 pairs, 0:20 elapsed, ETA 4:20 (budget 4:40)"  # 13 left × 20 s = 4:20
    now[0] = 40.0
    p.pair_done()
    assert p.eta() == 240.0  # 12 left × 20 s, inside the 240 s left of the budget
    now[0] = 200.0
    assert p.eta() == 80.0  # the pace says 12 × 100 s, but the budget ends in 80 s


def test_ab_prints_a_progress_line_every_few_seconds_while_pairs_run() -> None:
    """Issue 31: for minutes `ab` printed nothing while its first pairs ran. Between pairs a
    heartbeat line now says where the run stands; it stops when the run does."""
    import time

    from rnnbench.cli.ab import _heartbeat
    from rnnbench.progress import PairProgress

    class Console:
        lines: list[str] = []

        def print(self, text: str, **_: Any) -> None:
            self.lines.append(text)

    console, progress = Console(), PairProgress(planned=4)
    with _heartbeat(console, progress, 0.05):
        time.sleep(0.3)
    assert len(console.lines) >= 3 and all(ln.startswith("  … pairs running · 0/4 pairs") for ln in console.lines)
    n = len(console.lines)
    time.sleep(0.15)
    assert len(console.lines) == n  # stopped with the run
