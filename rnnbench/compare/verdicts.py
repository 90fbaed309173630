"""Compare two runs (or a saved baseline and a run) cell by cell, with a verdict per metric.

Matching
--------
Records are matched by their cell identity — every setting except the seed, the repeat,
the harness knobs (``timeout``, ``target_accuracy``, ``fault``) and ``extra_work`` (a
simulated slowdown: a candidate run with ``extra_work = 0.05`` must compare against the
plain baseline, not look like a different cell). All records of a group pool together.
Groups present on one side only are paired by label when exactly one plausible partner
exists and reported ``incomparable`` with the settings that differ; otherwise ``missing``
(a regression) or ``new``.

The unit of evidence
--------------------
Repeats run in separate processes, and what makes a same-code comparison noisy is mostly
the variation *between* processes (memory layout, frequency scaling, neighbours), not the
step-to-step jitter inside one. So the primary unit for step time is the per-process
median of ``steady_step_samples``; memory (``peak_rss_mb``) and accuracy (``test_acc``)
have one value per process anyway. Treating the thousands of within-process step samples
as independent would make every 1 % between-process wobble "significant".

The decision rule
-----------------
Significance: a two-sided Mann–Whitney U test (``scipy.stats.mannwhitneyu``) on the
per-process values. It is rank based, so one slow process cannot drag the verdict the way
it drags a t-test, and it makes no normality assumption about step times (which are skewed).
Its companion effect estimate is the Hodges–Lehmann shift (median of all pairwise
differences, on log values for time and memory, so it is a ratio) with the distribution-free
(Moses) confidence interval obtained by inverting the same U test — exact for small
samples, deterministic (no bootstrap seed, so CI verdicts are reproducible), and consistent
with the p-value.

The verdict is :func:`rnnbench.stats.decide`'s, the rule ``ab`` uses too, on the estimate
and its (1 - alpha) interval, with the defaults both share (:data:`rnnbench.stats.DEFAULTS`:
alpha 0.01, time ×1.05, memory ×1.10, accuracy −0.01):

* *slower* (a regression) — the interval lies above no change and reaches the threshold,
  and the estimate reaches half of it (+2.5 % for a 1.05 time threshold): an estimate that
  had to reach the threshold itself would catch a true change of exactly the threshold (what
  ``extra_work = 0.05`` produces) only half the time;
* *slower, below threshold* — the interval lies above no change and below the threshold: a
  change shown, smaller than one that fails; never called "unchanged";
* *unchanged* — the interval holds no change and lies within ±threshold (equivalence);
* *faster*, *faster, below threshold* — mirrored (memory: more/less memory; accuracy:
  accuracy lower/higher);
* *inconclusive* — anything else: the interval is too wide to say either way.

Simulated with 5 processes a side × 30 steps (the seeded simulations of
``tests/test_compare.py``): of 200 A/A comparisons, 3, 2 and 1 claimed any change at 0, 2 %
and 5 % between-process noise (0, 1 and 1 failed); a true +5 % at 1 % noise failed in 99 of
100, a true +2 % (0.5 % noise) in 1 of 100 (62 sized "slower, below threshold"). The
false-alarm rate is set by the between-process spread relative to the threshold and by
alpha: keep ``repeat`` at 5 or more so that spread is measured, and so the test can reach
alpha at all. No correction for testing many cells is applied: the floor, not alpha, keeps a
suite-wide A/A comparison from failing.

Fallbacks: with too few processes for the U test to reach alpha at all (the smallest
possible two-sided p is 2 / C(n+m, n): at alpha 0.01 that takes 5 against 5, 4 against 6 or
3 against 10), step time is
judged on the pooled within-process step samples (the only evidence there is — it cannot
see between-process noise, so the effect threshold carries more of the weight; the level
used is shown in the output), and memory/accuracy on the point estimate alone (the
difference of medians must reach the full threshold to fail; without an interval nothing is
called "unchanged": inconclusive).

Spread: when the robust coefficient of variation (1.4826 × MAD / median) of the judged
values exceeds ``max_cv`` (default 0.10) on either side, the metric is ``unstable`` —
never a regression — unless the whole confidence interval lies beyond the threshold.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from rnnbench.cells import Group, cell_name, group_records, kinds_of, machine_kind, metric_values, time_values
from rnnbench.cells import varying as varying_settings
from rnnbench.errors import UserError
from rnnbench.identity import MATCH_IGNORED
from rnnbench.snapshot import Snapshot
from rnnbench.suite import regression_problem
from rnnbench.stats import DEFAULTS as SHARED
from rnnbench.stats import INCONCLUSIVE as INCONCLUSIVE  # a verdict here too: the interval too wide to say
from rnnbench.stats import Judgement, can_reach_alpha, in_words, judge


DEFAULTS: dict[str, float] = {**SHARED, "max_cv": 0.10}  # ab's thresholds and alpha, and compare's spread limit

# verdicts
SLOWER, FASTER = "slower", "faster"
MORE_MEMORY, LESS_MEMORY = "more memory", "less memory"
ACC_LOWER, ACC_HIGHER = "accuracy lower", "accuracy higher"
UNCHANGED, UNSTABLE, INCOMPARABLE = "unchanged", "unstable", "incomparable"
NEWLY_FAILING, FIXED, STILL_FAILING = "newly failing", "fixed", "still failing"
MISSING, NEW = "missing", "new"
BELOW = tuple(f"{v}, below threshold" for v in (SLOWER, MORE_MEMORY, ACC_LOWER, FASTER, LESS_MEMORY, ACC_HIGHER))
REGRESSIONS = frozenset({SLOWER, MORE_MEMORY, ACC_LOWER, NEWLY_FAILING, MISSING})
IMPROVEMENTS = frozenset({FASTER, LESS_MEMORY, ACC_HIGHER, FIXED})


# --------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------


@dataclass
class MetricResult:
    metric: str  # "time" | "memory" | "accuracy" | "status"
    verdict: str
    judgement: Judgement | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"metric": self.metric, "verdict": self.verdict, "detail": self.detail}
        if self.judgement is not None:
            j = asdict(self.judgement)
            j["ci"] = list(j["ci"]) if j["ci"] is not None else None
            d.update({k: _finite(v) for k, v in j.items()})
        return d


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


@dataclass
class CellComparison:
    label: str
    cell: str  # label plus distinguishing settings
    key: str
    results: list[MetricResult]
    n_base: int = 0
    n_cand: int = 0

    @property
    def verdicts(self) -> list[str]:
        return [r.verdict for r in self.results]

    @property
    def regression(self) -> bool:
        return any(v in REGRESSIONS for v in self.verdicts)


@dataclass
class Comparison:
    baseline: Snapshot
    candidate: Snapshot
    thresholds: dict[str, float]
    cells: list[CellComparison]
    warnings: list[str]

    @property
    def regressions(self) -> list[tuple[CellComparison, MetricResult]]:
        return [(c, r) for c in self.cells for r in c.results if r.verdict in REGRESSIONS]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cells:
            for r in c.results:
                out[r.verdict] = out.get(r.verdict, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        def side(s: Snapshot) -> dict[str, Any]:
            return {"ref": s.ref, "kind": s.kind, "path": str(s.path), "run_id": s.run_id, "created": s.created,
                    "git_commit": s.git_commit, "suite": {k: s.suite.get(k) for k in ("name", "fingerprint")},
                    "fingerprint": s.fingerprint,
                    "machine": {k: s.machine.get(k) for k in ("cpu_model", "cpu_count", "python", "versions")}}

        return {
            "baseline": side(self.baseline),
            "candidate": side(self.candidate),
            "thresholds": self.thresholds,
            "regression": bool(self.regressions),
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "warnings": self.warnings,
            "cells": [{"cell": c.cell, "label": c.label, "key": c.key, "n_base": c.n_base, "n_cand": c.n_cand,
                       "regression": c.regression, "metrics": [r.to_json() for r in c.results]}
                      for c in self.cells],
        }


def thresholds_for(baseline: Snapshot, candidate: Snapshot, overrides: dict[str, float | None]) -> dict[str, float]:
    """Defaults ← baseline suite's [regression] ← candidate suite's ← command-line overrides."""
    th = dict(DEFAULTS)
    for snap in (baseline, candidate):
        for k, v in (snap.suite.get("regression") or {}).items():
            if k in th and isinstance(v, (int, float)):
                th[k] = float(v)
    for k, v in overrides.items():
        if v is not None:
            problem = regression_problem(k, v)
            if problem:
                raise UserError(f"--{k.replace('_', '-')} {v:g}: {problem}")
            th[k] = float(v)
    return th


def _machine_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    parts = []
    for k in ("cpu_model", "cpu_count", "python"):
        if a.get(k) != b.get(k):
            parts.append(f"{k} {a.get(k)!r} vs {b.get(k)!r}")
    va, vb = a.get("versions") or {}, b.get("versions") or {}
    for k in sorted(set(va) | set(vb)):
        if va.get(k) != vb.get(k):
            parts.append(f"{k} {va.get(k)} vs {vb.get(k)}")
    return "; ".join(parts) or "details not recorded"


def check_inputs(baseline: Snapshot, candidate: Snapshot, allow_different_suites: bool,
                 allow_different_machines: bool) -> list[str]:
    """Refuse (UserError) what cannot be compared; return warnings for what can, with caveats."""
    warnings: list[str] = []
    sb, sc = baseline.suite.get("name"), candidate.suite.get("name")
    if sb and sc and sb != sc:
        if not allow_different_suites:
            raise UserError(f"different suites: baseline {baseline.ref} ran '{sb}', candidate {candidate.ref} "
                            f"ran '{sc}'", hint="pass --allow-different-suites to compare the cells they share")
        warnings.append(f"different suites ('{sb}' vs '{sc}'): only the cells they share are compared")
    elif baseline.suite.get("fingerprint") and candidate.suite.get("fingerprint") and \
            baseline.suite["fingerprint"] != candidate.suite["fingerprint"]:
        warnings.append(f"suite '{sc or sb}' changed since the baseline (cells {baseline.suite['fingerprint']} → "
                        f"{candidate.suite['fingerprint']})")
    fb, fc = baseline.fingerprint, candidate.fingerprint
    kb, kc = kinds_of(baseline.records), kinds_of(candidate.records)
    if None not in kb | kc:  # every record names the machine that ran it (a Ray cluster: not the driver's)
        if len(kb | kc) > 1 and kb & kc:
            warnings.append(f"cells ran on {len(kb | kc)} kinds of machine: timings are compared only between "
                            "records of the same kind")
            return warnings
        fb, fc = ",".join(sorted(kb)), ",".join(sorted(kc))  # type: ignore[arg-type]
    if fb and fc and fb != fc:
        diff = _machine_diff(baseline.machine, candidate.machine)
        if not allow_different_machines:
            raise UserError(f"DIFFERENT MACHINES: baseline {baseline.ref} (fingerprint {fb}) and candidate "
                            f"{candidate.ref} (fingerprint {fc}) differ: {diff}; timings are not comparable",
                            hint="re-record the baseline on this machine, or pass --allow-different-machines")
        warnings.append(f"DIFFERENT MACHINES ({fb} vs {fc}: {diff}): time and memory verdicts reflect the "
                        f"machines as much as the code")
    elif not fb or not fc:
        warnings.append("machine fingerprint not recorded on one side: cannot check the machines match")
    return warnings


def compare_time(base: list[dict[str, Any]], cand: list[dict[str, Any]], th: dict[str, float]) -> MetricResult | None:
    mb, pb = time_values(base)
    mc, pc = time_values(cand)
    if not mb or not mc:
        return None
    if can_reach_alpha(len(mb), len(mc), th["alpha"]):
        j = judge(mb, mc, threshold=th["time"], alpha=th["alpha"], max_cv=th["max_cv"], level="process")
    else:
        j = judge(pb, pc, threshold=th["time"], alpha=th["alpha"], max_cv=th["max_cv"], level="step")
        if j.level == "step":
            j = _with_note(j, f"{len(mb)} vs {len(mc)} processes: judged on pooled step samples "
                              f"(between-process noise unseen)")
    return MetricResult("time", in_words(j.direction, SLOWER, FASTER), j)


def compare_memory(base: list[dict[str, Any]], cand: list[dict[str, Any]], th: dict[str, float]) -> MetricResult | None:
    b, c = metric_values(base, "peak_rss_mb"), metric_values(cand, "peak_rss_mb")
    b, c = [v for v in b if v > 0], [v for v in c if v > 0]
    if not b or not c:
        return None
    j = judge(b, c, threshold=th["memory"], alpha=th["alpha"], max_cv=th["max_cv"])
    return MetricResult("memory", in_words(j.direction, MORE_MEMORY, LESS_MEMORY), j)


def compare_accuracy(base: list[dict[str, Any]], cand: list[dict[str, Any]],
                     th: dict[str, float]) -> MetricResult | None:
    b, c = metric_values(base, "test_acc"), metric_values(cand, "test_acc")
    if not b or not c:
        return None
    j = judge(b, c, threshold=th["accuracy_drop"], alpha=th["alpha"], max_cv=None, kind="difference", worse="lower")
    return MetricResult("accuracy", in_words(j.direction, ACC_LOWER, ACC_HIGHER), j)


def _with_note(j: Judgement, note: str) -> Judgement:
    from dataclasses import replace

    return replace(j, note=note if not j.note else f"{j.note}; {note}")


def _settings_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _env_of(g: Group) -> dict[str, Any] | None:
    for r in g.ok:
        if isinstance(r.get("env"), dict):
            return r["env"]
    return None


def _pair_leftovers(only_base: list[Group], only_cand: list[Group]) -> list[tuple[str, Group]]:
    """Pair unmatched groups that share a label when the pairing is unambiguous (baseline key,
    candidate group)."""
    pairs = []
    by_label_b: dict[str, list[Group]] = {}
    by_label_c: dict[str, list[Group]] = {}
    for g in only_base:
        by_label_b.setdefault(g.label, []).append(g)
    for g in only_cand:
        by_label_c.setdefault(g.label, []).append(g)
    for label, bs in by_label_b.items():
        cs = by_label_c.get(label, [])
        if len(bs) == 1 and len(cs) == 1:
            pairs.append((bs[0].key, cs[0]))
    return pairs


def compare(
    baseline: Snapshot,
    candidate: Snapshot,
    *,
    time: float | None = None,
    memory: float | None = None,
    accuracy_drop: float | None = None,
    alpha: float | None = None,
    max_cv: float | None = None,
    allow_different_suites: bool = False,
    allow_different_machines: bool = False,
) -> Comparison:
    """Compare two snapshots cell by cell. Raises :class:`UserError` for inputs that cannot be compared."""
    warnings = check_inputs(baseline, candidate, allow_different_suites, allow_different_machines)
    th = thresholds_for(baseline, candidate, {"time": time, "memory": memory, "accuracy_drop": accuracy_drop,
                                              "alpha": alpha, "max_cv": max_cv})
    gb, gc = list(group_records(baseline.records).values()), list(group_records(candidate.records).values())
    varying = [k for k in varying_settings([*gb, *gc]) if k not in MATCH_IGNORED]
    same = _match_groups(gb, gc)
    differing = dict(_pair_leftovers([b for b in gb if b.key not in same], list(_unmatched(gc, same))))

    cells: list[CellComparison] = []
    for b in gb:
        if b.key in same:
            cells.append(_compare_group(b, same[b.key], th, varying, allow_different_machines,
                                        (baseline.fingerprint, candidate.fingerprint)))
        elif b.key in differing:
            c = differing[b.key]
            diff = _settings_diff(b.identity, c.identity)
            res = MetricResult("status", INCOMPARABLE, detail="settings differ: " + ", ".join(diff))
            cells.append(CellComparison(b.label, cell_name(b, varying), b.key, [res], len(b.records), len(c.records)))
        else:
            res = MetricResult("status", MISSING, detail="in the baseline, not in the candidate")
            cells.append(CellComparison(b.label, cell_name(b, varying), b.key, [res], len(b.records), 0))
    paired = {c.key for c in [*same.values(), *differing.values()]}
    for c in gc:
        if c.key not in paired:
            cells.append(CellComparison(c.label, cell_name(c, varying), c.key,
                                        [MetricResult("status", NEW, detail="not in the baseline")], 0, len(c.records)))
    return Comparison(baseline, candidate, th, cells, warnings)


def _match_groups(gb: list[Group], gc: list[Group]) -> dict[str, Group]:
    """Baseline key → the candidate group measuring the same cell: the same identity key, else
    the same match key (another rnnbench version, or ``extra_work`` injected) where that pairs
    one group with one."""
    by_key = {c.key: c for c in gc}
    same = {b.key: by_key[b.key] for b in gb if b.key in by_key}
    rest_b = [b for b in gb if b.key not in same]
    rest_c = list(_unmatched(gc, same))
    for b in rest_b:
        bs = [x for x in rest_b if x.match_key == b.match_key]
        cs = [c for c in rest_c if c.match_key == b.match_key]
        if len(bs) == 1 and len(cs) == 1:
            same[b.key] = cs[0]
    return same


def _unmatched(gc: list[Group], same: dict[str, Group]) -> list[Group]:
    taken = {c.key for c in same.values()}
    return [c for c in gc if c.key not in taken]


def _statuses(g: Group) -> str:
    counts: dict[str, int] = {}
    for r in g.records:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def _first_error(g: Group) -> str:
    for r in g.failing:
        if r.get("error"):
            return str(r["error"]).splitlines()[0][:200]
    return ""


def _compare_group(b: Group, c: Group, th: dict[str, float], varying: list[str],
                   allow_different_machines: bool,
                   defaults: tuple[str | None, str | None] = (None, None)) -> CellComparison:
    results: list[MetricResult] = []
    cell = CellComparison(b.label, cell_name(b, varying), b.key, results, len(b.records), len(c.records))
    fb, fc = bool(b.failing), bool(c.failing)
    if fc and not fb:
        err = _first_error(c)
        results.append(MetricResult("status", NEWLY_FAILING,
                                    detail=f"candidate: {_statuses(c)}" + (f" — {err}" if err else "")))
    elif fb and not fc:
        results.append(MetricResult("status", FIXED, detail=f"baseline: {_statuses(b)}"))
    elif fb and fc:
        results.append(MetricResult("status", STILL_FAILING,
                                    detail=f"baseline: {_statuses(b)}; candidate: {_statuses(c)}"))
    if not b.ok or not c.ok:
        return cell
    eb, ec = _env_of(b), _env_of(c)
    if eb is not None and ec is not None and eb != ec:
        diff = _settings_diff(eb, ec)
        if not allow_different_machines:
            results.append(MetricResult("status", INCOMPARABLE, detail="environment differs: " + ", ".join(diff)))
            return cell
    tb, tc, note = same_kind(b.ok, c.ok, defaults)
    if note and (not tb or not tc):
        results.append(MetricResult("time", INCOMPARABLE, detail=note))
    for fn, (rb, rc) in ((compare_time, (tb, tc)), (compare_memory, (tb, tc)), (compare_accuracy, (b.ok, c.ok))):
        if not rb or not rc:
            continue
        r = fn(rb, rc, th)
        if r is not None:
            if note and fn is not compare_accuracy and r.judgement is not None:
                r = MetricResult(r.metric, r.verdict, _with_note(r.judgement, note), r.detail)
            results.append(r)
    return cell


def same_kind(base: list[dict[str, Any]], cand: list[dict[str, Any]],
              defaults: tuple[str | None, str | None]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The records whose timings may be paired: both sides' records from one kind of machine
    (:func:`rnnbench.cells.machine_kind`; the kind with the most records on both sides when
    they ran on several), and a note when some were left out; none when no kind is shared."""
    kb = [machine_kind(r, defaults[0]) for r in base]
    kc = [machine_kind(r, defaults[1]) for r in cand]
    if None in kb or None in kc or (len(set(kb)) == 1 and set(kb) == set(kc)):
        return base, cand, ""
    shared = set(kb) & set(kc)
    if not shared:
        return [], [], (f"ran on different kinds of machine (baseline {', '.join(sorted(set(kb)))}; candidate "
                        f"{', '.join(sorted(set(kc)))}): time and memory not compared")
    kind = max(shared, key=lambda k: (min(kb.count(k), kc.count(k)), k))
    return ([r for r, k in zip(base, kb) if k == kind], [r for r, k in zip(cand, kc) if k == kind],
            f"time and memory from the records that ran on machine kind {kind} only "
            f"({kb.count(kind)} of {len(kb)} vs {kc.count(kind)} of {len(kc)})")


