"""How often does ``rnnbench ab`` cry wolf, and how often does it catch a real slowdown?

For each slowdown S (0 = A/A: both sides the same), one ``rnnbench ab`` run of the suite with
``--pairs K×P`` (B gets ``--b-set extra_work=S``, a busy-wait of S × each step's own time); its
pairs are then cut into K disjoint groups of P consecutive pairs, and each (cell, group) is one
*cell comparison* judged exactly as ``rnnbench ab`` judges a cell with P pairs. Every comparison
rests on its own real process pairs; none is simulated. Prints, per slowdown: comparisons,
the share called slower / faster / unchanged / inconclusive, the median B/A ratio measured and
the median minimum detectable effect.

    python benchmarks/ab_sensitivity.py --suite ci-ab --pairs 4 --groups 5 --slowdowns 0,0.05,0.03
    python benchmarks/ab_sensitivity.py --reuse RUN_ID[,RUN_ID...]     # re-judge stored ab runs
    python benchmarks/ab_sensitivity.py --reuse reports/ab-rates/runs   # every ab run in a folder
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def judge_groups(run_ref: str, pairs_per_group: int, rules: dict[str, float] | None = None
                 ) -> tuple[float, list[dict[str, Any]]]:
    from rnnbench.ab import analyze, plan, reopen_ab_run

    run, suite, sides, _, th = reopen_ab_run(run_ref)
    th = {**th, **(rules or {})}
    records = run.records()
    cells = plan(suite, sides)
    slowdown = float(sides[1].overrides.get("extra_work", 0.0)) - float(sides[0].overrides.get("extra_work", 0.0))
    n_pairs = 1 + max((r["ab"]["pair"] for r in records), default=-1)
    out = []
    for g in range(n_pairs // pairs_per_group):
        lo, hi = g * pairs_per_group, (g + 1) * pairs_per_group
        chunk = [r for r in records if lo <= r["ab"]["pair"] < hi]
        for c in analyze(chunk, cells, th).cells:
            out.append({"cell": c.label, "group": g, "verdict": c.time_verdict, "ratio": c.ratio, "mde": c.mde,
                        "failing": c.failing})
    return slowdown, out


def summarize(slowdown: float, rows: list[dict[str, Any]]) -> str:
    n = len(rows)
    share = {v: sum(r["verdict"] == v for r in rows) for v in ("slower", "faster", "unchanged", "inconclusive")}
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    mdes = [r["mde"] for r in rows if r["mde"] is not None]
    return (f"| {slowdown:+.0%} | {n} | " + " | ".join(f"{share[v]} ({share[v] / n:.0%})" if n else "—"
                                                        for v in share)
            + f" | {statistics.median(ratios):.4f} | {statistics.median(mdes):.1%} |" if ratios and mdes else " | — | — |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="ci-ab")
    ap.add_argument("--pairs", type=int, default=4, help="pairs per cell comparison (P)")
    ap.add_argument("--groups", type=int, default=3, help="comparisons per cell and slowdown (K)")
    ap.add_argument("--slowdowns", default="0,0.05", help="comma-separated extra_work values for B (0 = A/A)")
    ap.add_argument("--only", action="append", default=[], help="passed to rnnbench ab --only")
    ap.add_argument("--set", action="append", default=[], help="passed to rnnbench ab --set (both sides)")
    ap.add_argument("--jobs", type=int, default=1, help="passed to rnnbench ab --jobs")
    ap.add_argument("--until-decided", type=float, default=None, help="passed to rnnbench ab --until-decided")
    ap.add_argument("--trim", type=float, default=None, help="judge with this trimmed mean over pairs")
    ap.add_argument("--alpha", type=float, default=None, help="judge at this alpha")
    ap.add_argument("--reuse", help="judge these stored ab runs (ids, paths, or folders of runs; comma-separated) "
                    "instead of running new ones")
    ap.add_argument("--output", "-o", default=None, help="runs directory")
    args = ap.parse_args()
    runs: list[str] = []
    if args.reuse:
        for ref in args.reuse.split(","):  # a run, or a folder of runs (every ab run in it)
            p = Path(ref)
            if p.is_dir() and not (p / "results.jsonl").exists():
                runs += sorted(str(d) for d in p.iterdir() if (d / "results.jsonl").exists() and "-ab-" in d.name)
            else:
                runs.append(ref)
    else:
        for s in (float(x) for x in args.slowdowns.split(",")):
            cmd = [sys.executable, "-m", "rnnbench", "ab", args.suite, "--pairs", str(args.pairs * args.groups), "-q",
                   "--json", "-"]
            cmd += ["--aa"] if s == 0 else ["--b-set", f"extra_work={s}"]
            for o in args.only:
                cmd += ["--only", o]
            for o in args.set:
                cmd += ["--set", o]
            if args.jobs > 1:
                cmd += ["--jobs", str(args.jobs)]
            if args.until_decided:
                cmd += ["--until-decided", str(args.until_decided)]
            if args.output:
                cmd += ["-o", args.output]
            t0 = time.time()
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode not in (0, 1):
                sys.exit(f"rnnbench ab failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
            data = json.loads(out.stdout[out.stdout.index("{"):])
            runs.append(str(Path(args.output) / data["run_id"]) if args.output else data["run_id"])
            print(f"slowdown {s:+.0%}: run {data['run_id']} in {time.time() - t0:.0f} s", flush=True)
    print("\n| B slowdown | cell comparisons | slower | faster | unchanged | inconclusive | median B/A | median MDE |")
    print("|---|---|---|---|---|---|---|---|")
    rules = {k: v for k, v in (("trim", args.trim), ("alpha", args.alpha)) if v is not None}
    by_slowdown: dict[float, list[dict[str, Any]]] = {}
    for ref in runs:
        s, rows = judge_groups(ref, args.pairs, rules)
        by_slowdown.setdefault(round(s, 6), []).extend(rows)
    for s, rows in sorted(by_slowdown.items()):
        print(summarize(s, rows))
    print(f"\nruns: {', '.join(runs)}; {args.pairs} pairs per comparison" + (f"; rules {rules}" if rules else ""))


if __name__ == "__main__":
    main()
