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
    python benchmarks/ab_sensitivity.py --pairs 0 --reuse reports/ab-rates/runs-until  # each run whole
    python benchmarks/ab_sensitivity.py --pairs 8 --reuse reports/ab-rates/runs-huge --emulate-until-decided 280
    python benchmarks/ab_sensitivity.py --pairs 8 --reuse reports/ab-rates/runs-reuse --emulate-until-decided 280 --sequential
    python benchmarks/ab_sensitivity.py --spread --reuse reports/ab-rates/runs-malloc-huge,reports/ab-rates/runs-malloc-reuse
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _span_s(records: list[dict[str, Any]]) -> float:
    """Seconds from the first worker's start to the last one's end (what the pairs took)."""
    from datetime import datetime

    ts = [(datetime.fromisoformat(r["started"]), datetime.fromisoformat(r["finished"])) for r in records]
    return (max(e for _, e in ts) - min(s for s, _ in ts)).total_seconds() if ts else 0.0


def _open_run(run_ref: str, rules: dict[str, float] | None) -> dict[str, Any]:
    from rnnbench.ab import plan, reopen_ab_run

    run, suite, sides, _, th = reopen_ab_run(run_ref)
    slowdown = float(sides[1].overrides.get("extra_work", 0.0)) - float(sides[0].overrides.get("extra_work", 0.0))
    return {"ref": run_ref, "records": run.records(), "cells": plan(suite, sides), "th": {**th, **(rules or {})},
            "slowdown": slowdown}


def _row(c: Any, group: int, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cell": c.label, "group": group, "verdict": c.time_verdict, "ratio": c.ratio, "mde": c.mde, "ci": c.ci,
            "failing": c.failing, "pairs": c.n_pairs, "span_s": _span_s(records)}


def judge_groups(run_ref: str, pairs_per_group: int, rules: dict[str, float] | None = None
                 ) -> tuple[float, list[dict[str, Any]]]:
    """The run's pairs cut into groups of ``pairs_per_group`` (0: the whole run, as ``rnnbench ab``
    judged it, e.g. a run that added pairs with --until-decided), each judged on its own."""
    from rnnbench.ab import analyze

    r = _open_run(run_ref, rules)
    records = r["records"]
    n_pairs = 1 + max((x["ab"]["pair"] for x in records), default=-1)
    size = pairs_per_group or n_pairs
    out = []
    for g in range(n_pairs // size if size else 0):
        lo, hi = g * size, (g + 1) * size
        chunk = [x for x in records if lo <= x["ab"]["pair"] < hi]
        out += [_row(c, g, chunk) for c in analyze(chunk, r["cells"], r["th"]).cells]
    return r["slowdown"], out


def emulate_until_decided(run_refs: list[str], pairs: int, budget: float, max_pairs: int,
                          rules: dict[str, float] | None = None) -> dict[float, list[dict[str, Any]]]:
    """What ``rnnbench ab --pairs P --until-decided BUDGET`` would have said, replayed on stored
    runs: each run's first P pairs per cell, then, while a cell is inconclusive and a round of
    one more pair per open cell is expected to fit the budget (the mean pair time so far), that
    cell's next real pair: the run's own pairs beyond P first, then those of the following runs
    of the same folder and slowdown (in time order, wrapping around). Time is the real pairs'
    wall time plus 0.5 s each, from 3 s. An emulation: the added pairs are real, but they were
    run minutes to hours later than the run they extend."""
    from rnnbench.ab import analyze, next_round

    runs = [_open_run(ref, rules) for ref in run_refs]
    series: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in runs:
        series.setdefault((str(Path(r["ref"]).parent), round(r["slowdown"], 6)), []).append(r)
    out: dict[float, list[dict[str, Any]]] = {}
    for (_, slowdown), rs in series.items():
        for i, r in enumerate(rs):
            pool: dict[str, list[list[dict[str, Any]]]] = {c.key: [] for c in r["cells"]}
            for o in [r, *rs[i + 1:], *rs[:i]]:
                by: dict[tuple[str, int], list[dict[str, Any]]] = {}
                for x in o["records"]:
                    by.setdefault((x["ab"]["cell"], x["ab"]["pair"]), []).append(x)
                for (key, _k), pair in sorted(by.items(), key=lambda kv: kv[0][1]):
                    if key in pool and len(pair) == 2:
                        pool[key].append(pair)
            records: list[dict[str, Any]] = []
            n = {c.key: 0 for c in r["cells"]}
            elapsed = 3.0

            def add(key: str) -> None:
                nonlocal elapsed
                pair = pool[key].pop(0)
                records.extend({**x, "ab": {**x["ab"], "pair": n[key]}} for x in pair)
                elapsed += max(x["wall_s"] for x in pair) + 0.5
                n[key] += 1

            for _ in range(pairs):
                for c in r["cells"]:
                    if pool[c.key]:
                        add(c.key)
            while True:
                with_more = [c for c in r["cells"] if pool[c.key]]
                open_cells = next_round(records, r["cells"], r["th"], n, max_pairs, elapsed, budget,
                                        candidates=with_more)
                if not open_cells:
                    break
                for c in open_cells:
                    add(c.key)
            analysis = analyze(records, r["cells"], r["th"])
            out.setdefault(slowdown, []).extend(
                {**_row(c, 0, []), "span_s": elapsed} for c in analysis.cells)
    return out


def pair_spread(run_refs: list[str]) -> list[str]:
    """Markdown rows, one per (folder, cell): how far its pairs' B/A ratios stray from the
    slowdown put in (sd and MAD-based sd of the log ratios, shares off by more than 5% and 10%),
    the share of paired steps over 1.5x their process's median (spikes), the median step and
    the median steady page faults per step (where recorded)."""
    from rnnbench.stats import pair_log_ratio

    acc: dict[tuple[str, str], dict[str, list[float]]] = {}
    for ref in run_refs:
        r = _open_run(ref, None)
        sides: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        for x in r["records"]:
            if (x.get("metrics") or {}).get("steady_step_samples"):
                sides.setdefault((x["ab"]["label"], x["ab"]["pair"]), {})[x["ab"]["side"]] = x
        for (label, _), pair in sorted(sides.items()):
            if len(pair) < 2:
                continue
            a, b = (pair[s]["metrics"]["steady_step_samples"] for s in ("a", "b"))
            log = pair_log_ratio(a, b)
            if log is None:
                continue
            d = acc.setdefault((str(Path(ref).parent.name), label), {"dev": [], "spike": [], "step": [], "faults": []})
            d["dev"].append(log - math.log1p(r["slowdown"]))
            for side in (a, b):
                m = statistics.median(side)
                d["spike"] += [float(t > 1.5 * m) for t in side]
                d["step"].append(m)
            d["faults"] += [f for s in ("a", "b") if (f := pair[s]["metrics"].get("steady_page_faults_per_step"))
                            is not None]
    rows = []
    for (folder, label), d in acc.items():
        dev = d["dev"]
        mid = statistics.median(dev)
        mad_sd = 1.4826 * statistics.median(abs(x - mid) for x in dev)
        faults = f"{statistics.median(d['faults']):.0f}" if d["faults"] else "—"
        rows.append(f"| {folder} | {label} | {len(dev)} | {statistics.pstdev(dev):.1%} | {mad_sd:.1%} "
                    f"| {sum(abs(x) > 0.05 for x in dev) / len(dev):.0%} | {sum(abs(x) > 0.1 for x in dev) / len(dev):.0%} "
                    f"| {statistics.fmean(d['spike']):.1%} | {statistics.median(d['step']) * 1000:.1f} ms | {faults} |")
    return rows


VERDICTS = ("slower", "slower, below threshold", "faster", "faster, below threshold", "unchanged", "inconclusive")


def summarize(slowdown: float, rows: list[dict[str, Any]]) -> str:
    """One Markdown row: per verdict the count and share, then how many "unchanged" had an
    interval excluding 1 (the rule allows none), the median ratio, MDE, pairs and run time."""
    n = len(rows)
    share = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    wrong = sum(r["verdict"] == "unchanged" and r["ci"] is not None and not r["ci"][0] <= 1 <= r["ci"][1]
                for r in rows)
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    mdes = [r["mde"] for r in rows if r["mde"] is not None]
    pairs = [r["pairs"] for r in rows]
    spans = [r["span_s"] for r in rows]
    head = (f"| {slowdown:+.0%} | {n} | " + " | ".join(f"{share[v]} ({share[v] / n:.0%})" if n else "—" for v in share)
            + f" | {wrong}")
    if not (ratios and mdes):
        return head + " | — | — | — | — |"
    return (head + f" | {statistics.median(ratios):.4f} | {statistics.median(mdes):.1%} | {min(pairs)}–{max(pairs)}"
            f" | {statistics.median(spans):.0f} / {max(spans):.0f} s |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="ci-ab")
    ap.add_argument("--pairs", type=int, default=4, help="pairs per cell comparison (P; with --reuse, 0 = each run "
                    "whole, as rnnbench ab judged it)")
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
    ap.add_argument("--emulate-until-decided", type=float, default=None, metavar="SECONDS",
                    help="with --reuse: replay --pairs P --until-decided SECONDS on the stored runs (see "
                    "emulate_until_decided)")
    ap.add_argument("--max-pairs", type=int, default=16, help="with --emulate-until-decided: pairs per cell at most")
    ap.add_argument("--sequential", action="store_true", help="judge each look with the repeated confidence "
                    "intervals rnnbench ab --until-decided uses (up to --max-pairs); without it, a fixed interval at "
                    "every look")
    ap.add_argument("--spread", action="store_true", help="with --reuse: how the pairs spread, per folder and cell, "
                    "instead of verdicts (see pair_spread)")
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
    if args.spread:
        print("| runs | cell | pairs | sd | MAD sd | off >5% | off >10% | steps >1.5× median | median step "
              "| page faults a step |\n|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(pair_spread(runs)))
        return
    print("\n| B slowdown | cell comparisons | " + " | ".join(VERDICTS) + " | unchanged, interval excluding 1 "
          "| median B/A | median MDE (fails, 80%) | pairs | run time (median / max) |")
    print("|---|---|" + "---|" * len(VERDICTS) + "---|---|---|---|---|")
    rules = {k: v for k, v in (("trim", args.trim), ("alpha", args.alpha)) if v is not None}
    if args.sequential:  # the looks' repeated confidence intervals, up to --max-pairs (what rnnbench ab now does)
        rules["max_pairs"] = float(args.max_pairs)
    by_slowdown: dict[float, list[dict[str, Any]]] = {}
    if args.emulate_until_decided:
        by_slowdown = emulate_until_decided(runs, args.pairs, args.emulate_until_decided, args.max_pairs, rules)
    else:
        for ref in runs:
            s, rows = judge_groups(ref, args.pairs, rules)
            by_slowdown.setdefault(round(s, 6), []).extend(rows)
    for s, rows in sorted(by_slowdown.items()):
        print(summarize(s, rows))
    how = (f"emulated --pairs {args.pairs} --until-decided {args.emulate_until_decided:g} --max-pairs {args.max_pairs}"
           if args.emulate_until_decided else f"{args.pairs or 'all'} pairs per comparison")
    names = sorted(Path(r).name for r in runs)
    span = f"{names[0]} … {names[-1]}" if len(names) > 2 else ", ".join(names)
    print(f"\n{len(runs)} runs ({span}); {how}" + (f"; rules {rules}" if rules else ""))

if __name__ == "__main__":
    main()
