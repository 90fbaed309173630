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

A change is reported only when BOTH

* the test is significant (p < alpha), and
* the effect is large enough: the estimate reaches 3/4 of the threshold (on the log scale
  for ratios: +3.7 % for a 1.05 time threshold) *and* its (1 - alpha) interval reaches the
  threshold itself (time: ratio 1.05, memory: 1.10, accuracy: an absolute drop of 0.01).

Why not "estimate >= threshold": that catches a true change of exactly the threshold (a 5 %
slowdown against a 5 % threshold, what ``extra_work = 0.05`` produces) only half the time.
With the rule above, simulated with 5 processes × 30 steps and 1 % between-process noise, a
true +5 % is flagged ~95 % of the time, +4 % ~60 %, +3 % ~17 %, +2 % < 1 %, and same-code
(A/A) comparisons ~0 % (``tests/test_compare.py`` checks 200 A/A simulations flag ≤ 1 %).
The false-alarm rate is set by the between-process spread relative to the threshold: keep
``repeat`` at 5 or more so that spread is measured, and so the test can reach alpha at all.
No correction for testing many cells is applied: the effect-size floor, not alpha, is what
keeps a suite-wide A/A comparison clean.

Fallbacks: with too few processes for the U test to reach alpha at all (the smallest
possible two-sided p is 2 / C(n+m, n): at alpha 0.05 that takes 4 against 4, or 3 against 5,
or more), step time is
judged on the pooled within-process step samples (the only evidence there is — it cannot
see between-process noise, so the effect threshold carries more of the weight; the level
used is shown in the output), and memory/accuracy on the point estimate alone (the
difference of medians must reach the full threshold).

Spread: when the robust coefficient of variation (1.4826 × MAD / median) of the judged
values exceeds ``max_cv`` (default 0.10) on either side, the metric is ``unstable`` —
never a regression — unless the whole confidence interval lies beyond the threshold.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from rnnbench.cells import digest, identity
from rnnbench.errors import UserError
from rnnbench.markdown import escape as md_escape
from rnnbench.stats import Judgement, can_reach_alpha, judge

FAILING = ("error", "crashed", "timeout", "unavailable")
# Settings left out of the comparison identity on top of Cell.identity's exclusions.
COMPARE_IGNORED = ("extra_work",)

DEFAULTS: dict[str, float] = {"time": 1.05, "memory": 1.10, "accuracy_drop": 0.01, "alpha": 0.05, "max_cv": 0.10}

# verdicts
SLOWER, FASTER = "slower", "faster"
MORE_MEMORY, LESS_MEMORY = "more memory", "less memory"
ACC_LOWER, ACC_HIGHER = "accuracy lower", "accuracy higher"
UNCHANGED, UNSTABLE, INCOMPARABLE = "unchanged", "unstable", "incomparable"
NEWLY_FAILING, FIXED, STILL_FAILING = "newly failing", "fixed", "still failing"
MISSING, NEW = "missing", "new"
REGRESSIONS = frozenset({SLOWER, MORE_MEMORY, ACC_LOWER, NEWLY_FAILING, MISSING})
IMPROVEMENTS = frozenset({FASTER, LESS_MEMORY, ACC_HIGHER, FIXED})


# --------------------------------------------------------------------------------------
# inputs: runs and baselines as snapshots
# --------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What a comparison needs from one side: records plus suite and machine facts."""

    ref: str  # how it is shown: a run id or baseline:NAME
    kind: str  # "run" | "baseline"
    path: Path
    records: list[dict[str, Any]]
    suite: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    created: str | None = None
    run_id: str | None = None

    @property
    def git_commit(self) -> str | None:
        return self.machine.get("git_commit")


def load_snapshot(ref: str) -> Snapshot:
    """A run id / ``latest`` / run dir / results.jsonl, ``baseline:NAME``, a bare baseline name or its .json."""
    from rnnbench import baseline as bl
    from rnnbench.results import resolve_run

    ref = str(ref)
    if ref.startswith("baseline:"):
        return bl.snapshot(bl.load_baseline(ref.removeprefix("baseline:")))
    p = Path(ref)
    if p.suffix == ".json" and p.is_file():
        return bl.snapshot(bl.load_baseline(p))
    try:
        run = resolve_run(ref)
    except UserError as e:
        if bl.find_baseline(ref) is not None:
            return bl.snapshot(bl.load_baseline(ref))
        if e.message.endswith("no such run"):
            saved = [b["name"] for b in bl.list_baselines()]
            hint = "; ".join(x for x in (e.hint, f"baselines: {', '.join(saved)}" if saved else None) if x)
            raise UserError(f"{ref}: no such run or baseline", hint=hint or None) from None
        raise
    if not run.results.exists():
        raise UserError(f"{run.path}: no results.jsonl (has the run recorded any cell yet?)")
    try:
        records = run.records()
    except OSError as e:
        raise UserError(f"{run.results}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, AttributeError, TypeError):
        raise UserError(f"{run.results}: unreadable (not rnnbench JSON lines)") from None
    meta = run.meta()
    return Snapshot(ref=run.run_id, kind="run", path=run.path, records=_checked(records, run.results),
                    suite=meta.get("suite") or {}, machine=meta.get("machine") or {},
                    fingerprint=meta.get("fingerprint"), created=meta.get("created"), run_id=run.run_id)


def _checked(records: list[dict[str, Any]], where: Path) -> list[dict[str, Any]]:
    if not records:
        raise UserError(f"{where}: no readable records")
    for n, r in enumerate(records, 1):
        if not isinstance(r, dict) or "status" not in r or not isinstance(r.get("settings"), dict):
            raise UserError(f"{where}: record {n} is not an rnnbench result (no status/settings)")
    return records


# --------------------------------------------------------------------------------------
# grouping
# --------------------------------------------------------------------------------------


def _setting_defaults() -> dict[str, Any]:
    try:
        from rnnbench.suite import CellSettings

        return {k: f.default for k, f in CellSettings.model_fields.items()}
    except Exception:  # pragma: no cover - pydantic always present with rnnbench
        return {}


def compare_identity(settings: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings that must match for two records to be the same measurement."""
    return identity(settings, defaults, COMPARE_IGNORED)


@dataclass
class Group:
    key: str
    label: str
    identity: dict[str, Any]
    records: list[dict[str, Any]]
    settings: dict[str, Any]  # the first record's full settings

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok" and r.get("metrics")]

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") in FAILING]


def group_records(records: Iterable[dict[str, Any]]) -> dict[str, Group]:
    defaults = _setting_defaults()
    groups: dict[str, Group] = {}
    for r in records:
        ident = compare_identity(r.get("settings") or {}, defaults)
        key = digest(ident)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(key=key, label=r.get("label") or key, identity=ident, records=[],
                                    settings=dict(r.get("settings") or {}))
        g.records.append(r)
    return groups


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
            th[k] = float(v)
    if th["time"] <= 1 or th["memory"] <= 1:
        raise UserError(f"time and memory thresholds are ratios above 1 (e.g. 1.05), got "
                        f"time={th['time']:g}, memory={th['memory']:g}")
    if th["accuracy_drop"] <= 0:
        raise UserError(f"accuracy_drop is an absolute drop above 0 (e.g. 0.01), got {th['accuracy_drop']:g}")
    if not 0 < th["alpha"] < 1:
        raise UserError(f"alpha must be between 0 and 1, got {th['alpha']:g}")
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


def _time_values(recs: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Per-process medians and the pooled step samples of the records' steady steps."""
    medians: list[float] = []
    pooled: list[float] = []
    for r in recs:
        m = r.get("metrics") or {}
        samples = [s for s in (m.get("steady_step_samples") or []) if isinstance(s, (int, float)) and s > 0]
        if samples:
            medians.append(statistics.median(samples))
            pooled.extend(samples)
        elif isinstance(m.get("steady_step_s"), (int, float)) and m["steady_step_s"] > 0:
            medians.append(float(m["steady_step_s"]))
            pooled.append(float(m["steady_step_s"]))
    return medians, pooled


def _metric_values(recs: list[dict[str, Any]], name: str) -> list[float]:
    out = []
    for r in recs:
        v = (r.get("metrics") or {}).get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def compare_time(base: list[dict[str, Any]], cand: list[dict[str, Any]], th: dict[str, float]) -> MetricResult | None:
    mb, pb = _time_values(base)
    mc, pc = _time_values(cand)
    if not mb or not mc:
        return None
    if can_reach_alpha(len(mb), len(mc), th["alpha"]):
        j = judge(mb, mc, threshold=th["time"], alpha=th["alpha"], max_cv=th["max_cv"], level="process")
    else:
        j = judge(pb, pc, threshold=th["time"], alpha=th["alpha"], max_cv=th["max_cv"], level="step")
        if j.level == "step":
            j = _with_note(j, f"{len(mb)} vs {len(mc)} processes: judged on pooled step samples "
                              f"(between-process noise unseen)")
    verdict = {"worse": SLOWER, "better": FASTER}.get(j.direction, j.direction)
    return MetricResult("time", verdict, j)


def compare_memory(base: list[dict[str, Any]], cand: list[dict[str, Any]], th: dict[str, float]) -> MetricResult | None:
    b, c = _metric_values(base, "peak_rss_mb"), _metric_values(cand, "peak_rss_mb")
    b, c = [v for v in b if v > 0], [v for v in c if v > 0]
    if not b or not c:
        return None
    j = judge(b, c, threshold=th["memory"], alpha=th["alpha"], max_cv=th["max_cv"])
    return MetricResult("memory", {"worse": MORE_MEMORY, "better": LESS_MEMORY}.get(j.direction, j.direction), j)


def compare_accuracy(base: list[dict[str, Any]], cand: list[dict[str, Any]],
                     th: dict[str, float]) -> MetricResult | None:
    b, c = _metric_values(base, "test_acc"), _metric_values(cand, "test_acc")
    if not b or not c:
        return None
    j = judge(b, c, threshold=th["accuracy_drop"], alpha=th["alpha"], max_cv=None, kind="difference", worse="lower")
    return MetricResult("accuracy", {"worse": ACC_LOWER, "better": ACC_HIGHER}.get(j.direction, j.direction), j)


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


def _pair_leftovers(only_base: list[Group], only_cand: list[Group]) -> list[tuple[Group, Group]]:
    """Pair unmatched groups that share a label when the pairing is unambiguous."""
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
            pairs.append((bs[0], cs[0]))
    return pairs


def _varying(groups: Iterable[Group]) -> list[str]:
    groups = list(groups)
    keys: list[str] = []
    for g in groups:
        for k in g.identity:
            if k not in keys:
                keys.append(k)
    skip = {"arch", "backend", "bidirectional", "layers", "impl"}  # already in the label
    return [k for k in keys if k not in skip
            and len({json.dumps(g.identity.get(k), sort_keys=True, default=str) for g in groups}) > 1]


def _cell_name(g: Group, varying: list[str]) -> str:
    extra = ", ".join(f"{k}={g.identity.get(k)}" for k in varying)
    return f"{g.label} ({extra})" if extra else g.label


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
    gb, gc = group_records(baseline.records), group_records(candidate.records)
    varying = _varying([*gb.values(), *gc.values()])
    only_b = [g for k, g in gb.items() if k not in gc]
    only_c = [g for k, g in gc.items() if k not in gb]
    pairs = _pair_leftovers(only_b, only_c)
    paired_b = {b.key for b, _ in pairs}
    paired_c = {c.key for _, c in pairs}

    cells: list[CellComparison] = []
    for key, b in gb.items():
        if key in gc:
            cells.append(_compare_group(b, gc[key], th, varying, allow_different_machines))
        elif key in paired_b:
            c = next(c for bb, c in pairs if bb.key == key)
            diff = _settings_diff(b.identity, c.identity)
            res = MetricResult("status", INCOMPARABLE, detail="settings differ: " + ", ".join(diff))
            cells.append(CellComparison(b.label, _cell_name(b, varying), key, [res], len(b.records), len(c.records)))
        else:
            res = MetricResult("status", MISSING, detail="in the baseline, not in the candidate")
            cells.append(CellComparison(b.label, _cell_name(b, varying), key, [res], len(b.records), 0))
    for key, c in gc.items():
        if key not in gb and key not in paired_c:
            cells.append(CellComparison(c.label, _cell_name(c, varying), key,
                                        [MetricResult("status", NEW, detail="not in the baseline")], 0, len(c.records)))
    return Comparison(baseline, candidate, th, cells, warnings)


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
                   allow_different_machines: bool) -> CellComparison:
    results: list[MetricResult] = []
    cell = CellComparison(b.label, _cell_name(b, varying), b.key, results, len(b.records), len(c.records))
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
    for fn in (compare_time, compare_memory, compare_accuracy):
        r = fn(b.ok, c.ok, th)
        if r is not None:
            results.append(r)
    return cell


# --------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------

_UNIT = {"time": "ms", "memory": "MB", "accuracy": ""}


def _fmt_value(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    if metric == "time":
        return f"{v * 1e3:.4g} ms"
    if metric == "memory":
        return f"{v:,.0f} MB"
    return f"{v:.4f}"


def _fmt_effect(metric: str, v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if metric == "accuracy":
        return f"{v:+.4f}"
    return f"{(v - 1) * 100:+.1f}%"


def _fmt_ci(metric: str, ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "—"
    return f"[{_fmt_effect(metric, ci[0])}, {_fmt_effect(metric, ci[1])}]"


def _fmt_n(j: Judgement) -> str:
    unit = {"process": "proc", "step": "steps", "point": "proc"}[j.level]
    return f"{j.n_base}/{j.n_cand} {unit}"


def rows(cmp: Comparison) -> list[dict[str, str]]:
    """One display row per (cell, metric), shared by the terminal and Markdown renderers."""
    out = []
    for c in cmp.cells:
        for r in c.results:
            j = r.judgement
            note = r.detail or (j.note if j else "")
            if j is not None and r.verdict == UNSTABLE:
                note = (f"robust CV {max(j.cv_base or 0, j.cv_cand or 0):.0%} > max_cv "
                        f"{cmp.thresholds['max_cv']:.0%}" + (f"; {note}" if note else ""))
            out.append({
                "cell": c.cell,
                "metric": r.metric,
                "baseline": _fmt_value(r.metric, j.base) if j else "",
                "candidate": _fmt_value(r.metric, j.cand) if j else "",
                "change": _fmt_effect(r.metric, j.effect) if j else "",
                "ci": _fmt_ci(r.metric, j.ci) if j else "",
                "p": (f"{j.p:.3g}" if j.p is not None else "—") if j else "",
                "n": _fmt_n(j) if j else "",
                "verdict": r.verdict,
                "note": note,
            })
    return out


_RIGHT = ("baseline", "candidate", "change", "p")
COLUMNS = (("cell", "cell"), ("metric", "metric"), ("baseline", "baseline"), ("candidate", "candidate"),
           ("change", "change"), ("ci", "CI"), ("p", "p"), ("n", "n"), ("verdict", "verdict"), ("note", "note"))


def summary_line(cmp: Comparison) -> str:
    regs = cmp.regressions
    counts = cmp.counts()
    order = [SLOWER, MORE_MEMORY, ACC_LOWER, NEWLY_FAILING, MISSING, UNSTABLE, INCOMPARABLE, FASTER, LESS_MEMORY,
             ACC_HIGHER, FIXED, STILL_FAILING, NEW, UNCHANGED]
    parts = ", ".join(f"{counts[v]} {v}" for v in order if counts.get(v))
    head = f"{len(regs)} regression{'s' if len(regs) != 1 else ''}" if regs else "no regression"
    return f"{head} ({parts})" if parts else head


def _describe_side(s: Snapshot) -> str:
    bits = [s.ref if s.kind == "run" else f"{s.ref} (run {s.run_id})"]
    if s.git_commit:
        bits.append(f"commit {s.git_commit[:12]}")
    return ", ".join(bits)


def render_rich(cmp: Comparison) -> Any:
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    style = {v: "bold red" for v in REGRESSIONS} | {v: "green" for v in IMPROVEMENTS} | {
        UNSTABLE: "yellow", INCOMPARABLE: "yellow", NEW: "cyan", STILL_FAILING: "red", UNCHANGED: "dim"}
    th = cmp.thresholds
    t = Table(title=f"{_describe_side(cmp.baseline)}  →  {_describe_side(cmp.candidate)}",
              caption=f"thresholds: time ×{th['time']:g}, memory ×{th['memory']:g}, accuracy −{th['accuracy_drop']:g}, "
                      f"alpha {th['alpha']:g}, max CV {th['max_cv']:g}. {_CHANGE_NOTE}")
    for key, title in COLUMNS:
        t.add_column(title, justify="right" if key in _RIGHT else "left",
                     overflow="fold")
    for row in rows(cmp):
        t.add_row(*[Text(row[k], style=style.get(row["verdict"], "")) if k == "verdict" else row[k]
                    for k, _ in COLUMNS])
    parts: list[Any] = [Text(f"warning: {w}", style="bold yellow") for w in cmp.warnings]
    parts.append(t)
    verdict_style = "bold red" if cmp.regressions else "bold green"
    parts.append(Text(summary_line(cmp), style=verdict_style))
    return RGroup(*parts)


_CHANGE_NOTE = ("change = Hodges–Lehmann estimate (median of all pairwise ratios, or differences for accuracy) "
                "with its interval; baseline/candidate are medians of per-process values")


def _md_table(rs: list[dict[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(t for _, t in COLUMNS) + " |",
             "|" + "|".join("---:" if k in _RIGHT else "---" for k, _ in COLUMNS) + "|"]
    for r in rs:
        cells = []
        for k, _ in COLUMNS:
            v = md_escape(r[k])
            if k == "verdict":
                v = f"{_ICON.get(r[k], '')} **{v}**" if r[k] in REGRESSIONS else f"{_ICON.get(r[k], '')} {v}"
            cells.append(v.strip())
        lines.append("| " + " | ".join(cells) + " |")
    return lines


_ICON = {**{v: "❌" for v in REGRESSIONS}, **{v: "✅" for v in IMPROVEMENTS}, UNSTABLE: "⚠️", INCOMPARABLE: "⚠️",
         NEW: "🆕", STILL_FAILING: "❌", UNCHANGED: ""}


def render_markdown(cmp: Comparison) -> str:
    th = cmp.thresholds
    icon = "❌" if cmp.regressions else "✅"
    suite = cmp.candidate.suite.get("name") or cmp.baseline.suite.get("name") or "?"
    out = [f"## {icon} rnnbench compare: {summary_line(cmp)}", "",
           f"**Baseline** {md_escape(_describe_side(cmp.baseline))} · "
           f"**candidate** {md_escape(_describe_side(cmp.candidate))} · "
           f"suite {md_escape(suite)} · machine {md_escape(cmp.candidate.fingerprint or '?')} "
           f"({md_escape(cmp.candidate.machine.get('cpu_model', '?'))}, "
           f"{md_escape(cmp.candidate.machine.get('cpu_count', '?'))} cores)", ""]
    for w in cmp.warnings:
        out += [f"> ⚠️ **{md_escape(w)}**", ""]
    all_rows = rows(cmp)
    notable = [r for r in all_rows if r["verdict"] != UNCHANGED]
    if notable:
        out += _md_table(notable) + [""]
    else:
        out += [f"All {len(all_rows)} comparisons unchanged.", ""]
    out += ["<details><summary>All comparisons ({} rows)</summary>".format(len(all_rows)), ""]
    out += _md_table(all_rows) + ["", "</details>", ""]
    out += [f"<sub>A change is reported when a Mann–Whitney U test on per-process values gives p < {th['alpha']:g} "
            f"and the Hodges–Lehmann estimate is at least 3/4 of the threshold while its {1 - th['alpha']:.0%} "
            f"interval reaches it (time ×{th['time']:g}, memory ×{th['memory']:g}, accuracy −{th['accuracy_drop']:g}); "
            f"robust CV above {th['max_cv']:g} → unstable. {_CHANGE_NOTE}.</sub>", ""]
    return "\n".join(out)


def write_output(text: str, dest: str) -> None:
    """Write ``text`` to a file, or stdout for ``-``; appends to ``$GITHUB_STEP_SUMMARY`` (other steps' text stays)."""
    import sys

    if dest == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    p = Path(dest)
    append = bool(os.environ.get("GITHUB_STEP_SUMMARY")) and os.path.abspath(dest) == os.path.abspath(
        os.environ["GITHUB_STEP_SUMMARY"])
    try:
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "a" if append else "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        raise UserError(f"{dest}: cannot write: {e.strerror}") from None
