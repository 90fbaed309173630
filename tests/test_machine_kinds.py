"""Records that ran on different kinds of machine (a Ray cluster of mixed nodes): reports split
them, ``compare`` never pairs their timings (accuracy still compares), and two runs whose
drivers differ but whose nodes match are compared without a machine refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import MACHINE
from helpers import make_compare_run as make_run

from rnnbench.compare import INCOMPARABLE, REGRESSIONS, UNCHANGED, compare, load_snapshot
from rnnbench.report.aggregate import summarize


def _on_kinds(run: Path, kind_of: Any) -> Path:
    """Give every record of ``run`` a node whose fingerprint is ``kind_of(index, record)``."""
    path = run / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for i, r in enumerate(records):
        kind = kind_of(i, r)
        r["node"] = {"executor": "ray", "hostname": f"node-{kind}", "fingerprint": kind,
                     "cpu_model": f"CPU {kind}", "cpu_count": 8}
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def _metrics(cmp: Any) -> dict[str, dict[str, Any]]:
    return {c.label: {m.metric: m for m in c.results} for c in cmp.cells}


def test_timings_from_different_kinds_of_machine_are_not_paired(tmp_path: Path) -> None:
    a = _on_kinds(make_run(tmp_path, "a", seed=1), lambda i, r: "kind-x")
    b = _on_kinds(make_run(tmp_path, "b", seed=2, ratio=1.3), lambda i, r: "kind-y")
    cmp = compare(load_snapshot(str(a)), load_snapshot(str(b)), allow_different_machines=True)
    for label, m in _metrics(cmp).items():
        assert m["time"].verdict == INCOMPARABLE and "different kinds of machine" in m["time"].detail, label
        assert "memory" not in m
        assert m["accuracy"].verdict == UNCHANGED  # accuracy does not care where it ran
    assert cmp.exit_code == 0  # 30% slower on another machine is no regression of the code


def test_mixed_kinds_compare_timings_within_the_shared_kind_only(tmp_path: Path) -> None:
    a = _on_kinds(make_run(tmp_path, "a", seed=1), lambda i, r: "kind-x")
    # the candidate's 4th and 5th process of each cell ran on a slower kind of node (+30%): left out
    b = make_run(tmp_path, "b", seed=2)

    def kind(i: int, r: dict[str, Any]) -> str:
        if r["repeat"] < 3:
            return "kind-x"
        m = r["metrics"]
        m["steady_step_samples"] = [s * 1.3 for s in m["steady_step_samples"]]
        m["steady_step_s"] *= 1.3
        return "kind-y"

    _on_kinds(b, kind)
    cmp = compare(load_snapshot(str(a)), load_snapshot(str(b)))
    assert not any("DIFFERENT MACHINES" in w for w in cmp.warnings)
    assert any("2 kinds of machine" in w for w in cmp.warnings), cmp.warnings
    for label, m in _metrics(cmp).items():
        t = m["time"]
        assert t.judgement is not None and "machine kind kind-x only (5 of 5 vs 3 of 5)" in t.judgement.note, label
        # 5 vs 3 processes cannot reach alpha 0.01 in a U test: the pooled steps of those 5 and 3
        assert t.judgement.level == "step" and abs(t.judgement.effect - 1) < 0.03, (label, t)
        assert (t.judgement.n_base, t.judgement.n_cand) == (5 * 30, 3 * 30), (label, t)
        assert t.verdict not in REGRESSIONS, (label, t)


def test_runs_whose_drivers_differ_but_whose_nodes_match_compare(tmp_path: Path) -> None:
    """A Ray run is driven from any laptop: the nodes decide whether timings compare."""
    a = _on_kinds(make_run(tmp_path, "a", seed=1), lambda i, r: "kind-x")
    b = _on_kinds(make_run(tmp_path, "b", seed=2, machine={**MACHINE, "cpu_model": "Laptop CPU"}),
                  lambda i, r: "kind-x")
    cmp = compare(load_snapshot(str(a)), load_snapshot(str(b)))  # no --allow-different-machines needed
    assert all(m["time"].verdict == UNCHANGED for m in _metrics(cmp).values())


def test_the_report_splits_rows_by_kind_of_machine(tmp_path: Path) -> None:
    run = _on_kinds(make_run(tmp_path, "a", seed=1), lambda i, r: "kind-x" if r["repeat"] % 2 else "kind-y")
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    summary = summarize(records)
    assert summary.varying[0] == "machine"
    assert len(summary.rows) == 6  # 3 cells × 2 kinds
    assert {r["machine"] for r in summary.rows} == {"CPU kind-x ×8 (kind-x)", "CPU kind-y ×8 (kind-y)"}
    # one kind: no split, no column
    one = summarize([{**r, "node": {**r["node"], "fingerprint": "kind-x"}} for r in records])
    assert "machine" not in one.varying and len(one.rows) == 3
