"""How sensitive and how noisy is `rnnbench compare` on this machine? Measured, not assumed.

1. A pool of same-code runs: the CI suite with ``--repeat 2R`` (every process a real
   training process, one cell each).
2. Real slowdowns of known size: the same suite with ``--set extra_work=S`` for each S
   (3%, 5%, 10% by default) and ``--repeat R``. ``extra_work`` makes the worker busy-wait
   S × the step's own duration after every step — added CPU work, like a real slowdown,
   applied to every step of every cell.
3. False alarms (A/A): draw ``--draws`` random splits of the pool into R baseline and R
   candidate processes per cell and compare them with rnnbench's own ``compare``; a
   comparison is a false alarm when it flags any regression (suite level), and each cell
   that says "slower" is a per-cell false alarm.
4. Detection: compare each slowdown run against random R-process subsets of the pool; the
   detection rate is the fraction of cells flagged "slower".

The resampled A/A splits reuse the pool's processes, so they are not independent trials:
the figures estimate the rates for this machine and suite, they do not bound them.

    python benchmarks/sensitivity.py [--suite ci] [--repeat 4] [--slowdowns 0.03,0.05,0.10]
        [--only backend=torch] [--draws 200] [--pool RUN_ID] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rnnbench.compare import Snapshot, compare
from rnnbench.results import resolve_run


def run_suite(suite: str, repeat: int, extra: list[str]) -> str:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "rnnbench", "run", suite, "-q", "--no-report", "--repeat", str(repeat), *extra]
    subprocess.run(cmd, check=True)
    run = resolve_run("latest")
    print(f"  {' '.join(cmd[3:])}: {run.run_id} in {time.perf_counter() - t0:.0f} s", flush=True)
    return run.run_id


def snapshot(run_id: str, records: list[dict[str, Any]]) -> Snapshot:
    run = resolve_run(run_id)
    meta = run.meta()
    return Snapshot(ref=run_id, kind="run", path=run.path, records=records, suite=meta.get("suite") or {},
                    machine=meta.get("machine") or {}, fingerprint=meta.get("fingerprint"), run_id=run_id)


def by_group(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r["group"]].append(r)
    return out


def flagged(cmp: Any) -> tuple[bool, list[str]]:
    slower = [c.label for c in cmp.cells for r in c.results if r.verdict == "slower"]
    return bool(cmp.regressions), slower


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="ci")
    ap.add_argument("--repeat", type=int, default=4, help="processes per cell on each side (R)")
    ap.add_argument("--slowdowns", default="0.03,0.05,0.10")
    ap.add_argument("--only", action="append", default=[], help="passed to rnnbench run --only")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--pool", help="reuse same-code runs (comma-separated ids, 2R processes per cell in all) "
                    "instead of running a pool")
    ap.add_argument("--slow-runs", help="reuse slowdown runs instead of running them: S=RUN_ID,S=RUN_ID")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    extra = [x for o in args.only for x in ("--only", o)]
    R = args.repeat
    slowdowns = [float(x) for x in args.slowdowns.split(",") if x]
    t0 = time.perf_counter()
    print(f"suite {args.suite}, R = {R} processes per side, slowdowns {slowdowns}", flush=True)
    pool_ids = args.pool.split(",") if args.pool else [run_suite(args.suite, 2 * R, extra)]
    pool_id = pool_ids[0]
    if args.slow_runs:
        slow_ids = {float(k): v for k, v in (x.split("=", 1) for x in args.slow_runs.split(","))}
    else:
        slow_ids = {s: run_suite(args.suite, R, [*extra, "--set", f"extra_work={s}"]) for s in slowdowns}
    measure_s = time.perf_counter() - t0

    rng = random.Random(args.seed)
    pool = [r for rid in pool_ids for r in resolve_run(rid).records()]
    groups = by_group([r for r in pool if r["status"] == "ok"])
    n_cells = len(groups)

    def draw() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        a, b = [], []
        for recs in groups.values():
            picked = rng.sample(recs, len(recs))
            a += picked[:R]
            b += picked[R : 2 * R]
        return a, b

    aa_suite = aa_cells = 0
    for _ in range(args.draws):
        a, b = draw()
        cmp = compare(snapshot(pool_id, a), snapshot(pool_id, b))
        any_reg, slower = flagged(cmp)
        aa_suite += any_reg
        aa_cells += len(slower)
    result: dict[str, Any] = {
        "suite": args.suite, "processes_per_side": R, "cells": n_cells, "draws": args.draws,
        "pool_runs": pool_ids, "slowdown_runs": slow_ids, "measure_s": round(measure_s),
        "aa_false_alarm_suite": aa_suite / args.draws,
        "aa_false_alarm_per_cell": aa_cells / (args.draws * n_cells),
        "detection": {},
    }
    print(f"A/A: {args.draws} comparisons of {n_cells} cells: a regression flagged in "
          f"{aa_suite}/{args.draws} = {aa_suite / args.draws:.1%} of suite comparisons; "
          f"'slower' in {aa_cells}/{args.draws * n_cells} = {aa_cells / (args.draws * n_cells):.2%} of cell comparisons")
    for s, rid in slow_ids.items():
        cand = [r for r in resolve_run(rid).records() if r["status"] == "ok"]
        hits = total = 0
        per_cell: dict[str, int] = defaultdict(int)
        for _ in range(args.draws):
            base, _ = draw()
            _, slower = flagged(compare(snapshot(pool_id, base), snapshot(rid, cand)))
            hits += len(slower)
            total += n_cells
            for label in slower:
                per_cell[label] += 1
        result["detection"][f"{s:.2f}"] = {"rate": hits / total,
                                           "per_cell": {k: v / args.draws for k, v in sorted(per_cell.items())}}
        print(f"+{s:.0%} slowdown: 'slower' in {hits}/{total} = {hits / total:.1%} of cell comparisons", flush=True)
        for label, v in sorted(per_cell.items()):
            print(f"    {label}: {v / args.draws:.0%}")
    print(f"measuring took {measure_s:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
