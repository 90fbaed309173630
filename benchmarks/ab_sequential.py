"""Error rates of ``rnnbench ab --until-decided``'s looks, on the real pair noise of the CI suite.

Each simulated comparison draws its pairs, one at a time, from the real per-pair log ratios of
one cell's A/A runs (``reports/ab-rates/runs-reuse``, centred so that the truth is exactly no
change; a slowdown adds log(1 + s) to every pair), and is judged as ``rnnbench ab --pairs 8
--until-decided`` judges it: a look after the 8 planned pairs, then after every added pair
while the cell is inconclusive, up to ``--stop`` pairs (what the budget reaches; the intervals
are planned for looks up to ``--max-pairs``). Two interval rules at every look: a fixed
(1 - alpha) Student-t interval (what ab did before), and the repeated confidence intervals it
uses now (:mod:`rnnbench.sequential`). Prints per cell, rule and slowdown: the share of
comparisons that claimed any change (slower or faster, below the threshold or not), that
failed (*slower*), that ended *unchanged* or *inconclusive*, and the mean pairs used.

    python benchmarks/ab_sequential.py --sims 4000
    python benchmarks/ab_sequential.py --sims 4000 --alpha 0.01 --stop 16

The pairs are real; their order and the looks are simulated (a pair drawn with replacement
from 500 real ones), so this measures the rule on this noise, not the runner's drift.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def real_aa_pairs(folder: Path) -> dict[str, list[float]]:
    """Per cell label, every A/A pair's log ratio in ``folder``'s ab runs, centred on 0."""
    from rnnbench.ab import reopen_ab_run
    from rnnbench.stats import pair_log_ratio

    out: dict[str, list[float]] = {}
    for run_dir in sorted(d for d in folder.iterdir() if (d / "results.jsonl").exists()):
        run, _, sides, _, _ = reopen_ab_run(str(run_dir))
        if sides[0].overrides.get("extra_work", 0.0) != sides[1].overrides.get("extra_work", 0.0):
            continue
        by: dict[tuple[str, int], dict[str, dict]] = {}
        for r in run.records():
            if r.get("status") == "ok":
                by.setdefault((r["ab"]["label"], r["ab"]["pair"]), {})[r["ab"]["side"]] = r
        for (label, _), p in sorted(by.items()):
            if len(p) == 2:
                lr = pair_log_ratio(p["a"]["metrics"]["steady_step_samples"], p["b"]["metrics"]["steady_step_samples"],
                                    b_first=p["a"].get("turn_first") == "b")
                if lr is not None:
                    out.setdefault(label, []).append(lr)
    return {k: [x - statistics.fmean(v) for x in v] for k, v in out.items()}


def one_comparison(draw, shift: float, planned: int, stop: int, th: dict[str, float]) -> tuple[str, int]:
    """The verdict and pairs of one simulated --until-decided comparison."""
    from rnnbench.ab.verdicts import look_alpha
    from rnnbench.stats import AB_INCONCLUSIVE, paired_ratio, paired_verdict

    logs = [draw() + shift for _ in range(planned)]
    while True:
        pr = paired_ratio(logs, alpha=look_alpha(len(logs), th), trim=th["trim"], threshold=th["time"])
        verdict = paired_verdict(pr, th["time"])
        if verdict != AB_INCONCLUSIVE or len(logs) >= stop:
            return verdict, len(logs)
        logs.append(draw() + shift)


def main() -> None:
    import random

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default=str(ROOT / "reports/ab-rates/runs-reuse"))
    ap.add_argument("--sims", type=int, default=4000, help="comparisons per cell, rule and slowdown")
    ap.add_argument("--alpha", type=float, default=0.05, help="the suite's alpha (ci-ab: 0.05)")
    ap.add_argument("--trim", type=float, default=0.125, help="the suite's trim (ci-ab: 0.125)")
    ap.add_argument("--planned", type=int, default=8, help="--pairs")
    ap.add_argument("--stop", type=int, default=12, help="pairs a comparison reaches at most (the budget's reach)")
    ap.add_argument("--max-pairs", type=int, default=16, help="--max-pairs: the looks the intervals are planned for")
    ap.add_argument("--slowdowns", default="0,0.02,0.03,0.05")
    args = ap.parse_args()
    pairs = real_aa_pairs(Path(args.runs))
    print(f"real A/A pairs: " + ", ".join(f"{k} {len(v)} (sd {statistics.stdev(v):.2%})" for k, v in pairs.items()))
    print(f"alpha {args.alpha:g}, trim {args.trim:g}, {args.planned} planned pairs, looks up to {args.stop} "
          f"(intervals planned for {args.max_pairs}), {args.sims} comparisons a row\n")
    print("| cell | rule | B slowdown | claimed a change | failed (slower) | unchanged | inconclusive | mean pairs |")
    print("|---|---|---|---|---|---|---|---|")
    base = {"time": 1.05, "alpha": args.alpha, "trim": args.trim}
    for label, logs in pairs.items():
        for rule, th in (("fixed", base), ("repeated", {**base, "max_pairs": float(args.max_pairs)})):
            for s in (float(x) for x in args.slowdowns.split(",")):
                rng = random.Random(f"{label}-{rule}-{s}")
                out = [one_comparison(lambda: rng.choice(logs), math.log1p(s), args.planned, args.stop, th)
                       for _ in range(args.sims)]
                n = len(out)
                claimed = sum(v.startswith(("slower", "faster")) for v, _ in out)
                share = {v: sum(x == v for x, _ in out) / n for v in ("slower", "unchanged", "inconclusive")}
                print(f"| {label} | {rule} | {s:+.0%} | {claimed / n:.2%} | {share['slower']:.2%} | "
                      f"{share['unchanged']:.1%} | {share['inconclusive']:.1%} | "
                      f"{statistics.fmean(k for _, k in out):.1f} |", flush=True)


if __name__ == "__main__":
    main()
