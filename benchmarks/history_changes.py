"""What a history can find on this machine (issue 25): recall and precision of change points on
synthetic 40-commit series built from this machine's recorded noise. Prints figures.

The noise is real: the committed A/A comparisons of ``rnnbench ab`` with the CI suite as shipped
(reports/ab-rates/runs-reuse, the runs whose two sides override nothing), per cell. Two kinds
of history are built from them:

* **absolute**: each commit one process's median steady step (resampled from the recorded
  per-process medians, relative to their median) — what an unpaired history stores;
  change points found by :func:`rnnbench.history.changes.detect` (for each penalty factor).
* **paired**: each commit compared with its parent by ab — 8 pairs, each pair's log ratio
  resampled from the recorded A/A pair log ratios, plus the step on the one commit where it
  enters; a change is a comparison ab's rule (:func:`rnnbench.stats.paired_verdict`, 5%
  threshold, alpha 0.01) calls slower or faster.

A step of +3%, +5% or +10% enters at a known commit (between 10 and 30); flat series have
none. A found change counts when it is within ±1 commit of the true one::

    python benchmarks/history_changes.py [--series 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = (0.0, 0.03, 0.05, 0.10)
N = 40


def recorded_noise() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per cell: process medians relative to their median, and A/A pair log ratios."""
    sys.path.insert(0, str(REPO))
    from rnnbench.stats import pair_log_ratio

    medians: dict[str, list[float]] = {}
    logs: dict[str, list[float]] = {}
    for results in sorted((REPO / "reports" / "ab-rates" / "runs-reuse").glob("*/results.jsonl")):
        sides_of = json.loads((results.parent / "run.json").read_text())["sides"]
        if any(side["overrides"] for side in sides_of):
            continue  # a run with a slowdown injected: not noise
        by: dict[tuple[str, int], dict[str, dict]] = {}
        for line in results.read_text().splitlines():
            r = json.loads(line)
            if r.get("status") != "ok" or not (r.get("metrics") or {}).get("steady_step_samples"):
                continue
            by.setdefault((r["label"], r["ab"]["pair"]), {})[r["ab"]["side"]] = r
            medians.setdefault(r["label"], []).append(statistics.median(r["metrics"]["steady_step_samples"]))
        for (label, _), sides in by.items():
            if {"a", "b"} <= set(sides):
                lr = pair_log_ratio(sides["a"]["metrics"]["steady_step_samples"],
                                    sides["b"]["metrics"]["steady_step_samples"])
                if lr is not None:
                    logs.setdefault(label, []).append(lr)
    rel = {k: [v / statistics.median(vs) for v in vs] for k, vs in medians.items()}
    return rel, logs


def score(found: list[list[int]], truth: list[int | None]) -> tuple[float, float, float]:
    """Recall (true steps found ±1), precision (found changes that are true ±1), false changes per flat series."""
    hits = sum(t is not None and any(abs(f - t) <= 1 for f in fs) for fs, t in zip(found, truth))
    steps = sum(t is not None for t in truth)
    true_found = sum(sum(t is not None and abs(f - t) <= 1 for f in fs) for fs, t in zip(found, truth))
    total = sum(len(fs) for fs in found)
    return (hits / steps if steps else math.nan, true_found / total if total else math.nan,
            sum(len(fs) for fs, t in zip(found, truth) if t is None) / max(1, sum(t is None for t in truth)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=200, help="series per cell and step size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--penalties", default="2,4,8,16")
    args = ap.parse_args()
    from rnnbench.history.changes import detect
    from rnnbench.stats import paired_ratio, paired_verdict

    rel, logs = recorded_noise()
    rng = random.Random(args.seed)
    for k, v in rel.items():
        sd = statistics.stdev(logs[k]) * 100 if len(logs.get(k, [])) > 1 else math.nan
        print(f"recorded noise, {k}: {len(v)} process medians (CV {statistics.stdev(v) * 100:.1f}%), "
              f"{len(logs.get(k, []))} A/A pair log ratios (sd {sd:.2f}%)")
    for cell in rel:
        print(f"\n{cell}")
        for size in SIZES:
            truth = [rng.randint(10, 30) if size else None for _ in range(args.series)]
            absolute = [[rng.choice(rel[cell]) * (1 + size if t is not None and i >= t else 1) for i in range(N)]
                        for t in truth]
            parts = []
            for pen in map(float, args.penalties.split(",")):
                r, p, f = score([detect(s, pen) for s in absolute], truth)
                parts.append(f"pen {pen:g}: recall {r:.2f} precision {p:.2f} false/flat {f:.2f}")
            found = []
            for t in truth:
                calls = []
                for i in range(1, N):
                    shift = math.log(1 + size) if t is not None and i == t else 0.0
                    pr = paired_ratio([rng.choice(logs[cell]) + shift for _ in range(8)], alpha=0.01)
                    if paired_verdict(pr, 1.05) in ("slower", "faster"):
                        calls.append(i)
                found.append(calls)
            r, p, f = score(found, truth)
            label = f"+{size * 100:.0f}%" if size else "flat"
            print(f"  {label:>5}  absolute: {' | '.join(parts)}")
            print(f"  {label:>5}  paired (ab, 8 pairs a commit): recall {r:.2f} precision {p:.2f} "
                  f"false/flat series {f:.2f} (over {N - 1} comparisons)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
