"""Change points in a history's series, and what differed where each one happened.

Detection (:func:`detect`) runs on one series at a time — one machine, one cell, one metric —
on the logarithm of its values, with ruptures' PELT (an l2 cost: a change of the mean level)
and the penalty ``PENALTY × σ̂² × ln n``, σ̂ the noise of the series estimated robustly from the
median absolute deviation of successive differences (so a step does not inflate it). The
penalty factor was chosen on synthetic series built from this machine's recorded noise
(benchmarks/history_changes.py prints recall and precision for each factor and step size).

Each change point says how big it is — the ratio of the medians after and before, with the
95% distribution-free interval of the shift in log values (Hodges–Lehmann / Mann–Whitney,
:func:`rnnbench.stats.shift_ci`) — and what differed between the last run before it and the
first after: framework and library versions, rnnbench's version, the suite, the machine's CPU.

Paired series (``rnnbench ab`` comparisons) need no detector: a comparison that ab judged
slower or faster is a change at that commit, and what differed is the two sides' versions and
settings.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any

PENALTY = 4.0  # × σ̂² ln n; see the module doc
MIN_SIZE = 3  # runs on each side of a change (fewer cannot give a 95% interval of its size)


@dataclass(frozen=True)
class ChangePoint:
    series: str
    index: int  # the first point after the change
    before: str  # its commit (or index, for series from a CSV)
    after: str
    ratio: float  # median after ÷ median before
    ci: tuple[float, float]  # 95% interval of that ratio
    differed: tuple[str, ...]  # what differed between the run before and the run after

    def line(self) -> str:
        lo, hi = self.ci
        what = "; ".join(self.differed) if self.differed else "nothing recorded differed (the code did)"
        interval = (f"[{(lo - 1) * 100:+.1f}%, {(hi - 1) * 100:+.1f}%]" if math.isfinite(lo) and math.isfinite(hi)
                    and lo > 0 else "(too few runs for a 95% interval)")
        return (f"{self.series}: {(self.ratio - 1) * 100:+.1f}% {interval} "
                f"between {self.before} and {self.after}: {what}")


def noise(logs: list[float]) -> float:
    """σ̂ of a series from the MAD of its successive differences (a step moves one difference only)."""
    d = [b - a for a, b in zip(logs, logs[1:])]
    if not d:
        return 0.0
    med = statistics.median(d)
    return 1.4826 * statistics.median(abs(x - med) for x in d) / math.sqrt(2)


def detect(values: list[float], penalty: float = PENALTY, min_size: int = MIN_SIZE) -> list[int]:
    """Indices where a series of positive values changes level (the first point after each change)."""
    import numpy as np
    import ruptures

    if len(values) < 2 * min_size or min(values) <= 0:
        return []
    logs = [math.log(v) for v in values]
    sigma = max(noise(logs), 1e-6)
    algo = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(np.array(logs).reshape(-1, 1))
    return [b for b in algo.predict(pen=penalty * sigma ** 2 * math.log(len(logs))) if b < len(logs)]


def size(values: list[float], at: int, end: int | None = None, start: int = 0) -> tuple[float, tuple[float, float]]:
    """The ratio of the medians after and before ``at`` (within [start, end)) and its 95% interval."""
    from rnnbench.stats import shift_ci

    before, after = values[start:at], values[at:end]
    ratio = statistics.median(after) / statistics.median(before)
    lo, hi = shift_ci([math.log(v) for v in after], [math.log(v) for v in before], 0.05)
    return ratio, (math.exp(lo), math.exp(hi))


def differences(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """What differed between two stored runs: versions, rnnbench, suite, CPU."""
    out = []
    va, vb = json.loads(before.get("environment") or "{}"), json.loads(after.get("environment") or "{}")
    for k in sorted(set(va) | set(vb)):
        if va.get(k) != vb.get(k):
            out.append(f"{k} {va.get(k) or '(none)'} → {vb.get(k) or '(none)'}")
    for key, name in (("rnnbench", "rnnbench"), ("suite_fingerprint", "suite"), ("cpu_model", "CPU")):
        if before.get(key) != after.get(key):
            out.append(f"{name} {before.get(key)} → {after.get(key)}")
    return tuple(out)


def series_changes(name: str, points: list[Any], penalty: float = PENALTY) -> list[ChangePoint]:
    """The change points of one stored series (points with ``median``, ``commit`` and ``run``: the
    run's row as a dict)."""
    values = [p.median for p in points]
    cuts = detect(values, penalty)
    bounds = [0, *cuts, len(values)]
    out = []
    for i, at in enumerate(cuts):
        ratio, ci = size(values, at, bounds[i + 2], bounds[i])
        out.append(ChangePoint(name, at, points[at - 1].commit[:12], points[at].commit[:12], ratio, ci,
                               differences(points[at - 1].run, points[at].run)))
    return out


def csv_changes(rows: list[dict[str, str]], penalty: float = PENALTY) -> list[dict[str, Any]]:
    """Change points of series given as CSV rows (``series_id, commit_index, value``), as JSON-able dicts."""
    by: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        by.setdefault(row["series_id"], []).append((int(row["commit_index"]), float(row["value"])))
    out = []
    for sid, pts in by.items():
        pts.sort()
        values = [v for _, v in pts]
        cuts = detect(values, penalty)
        bounds = [0, *cuts, len(values)]
        found = []
        for i, at in enumerate(cuts):
            ratio, ci = size(values, at, bounds[i + 2], bounds[i])
            found.append({"commit_index": pts[at][0], "ratio": round(ratio, 6), "ci": [round(c, 6) for c in ci]})
        out.append({"series_id": sid, "change_points": found})
    return out


def paired_changes(series: dict[tuple[str, str, str], list[Any]]) -> list[ChangePoint]:
    """Each comparison ab judged slower or faster, with what differed between its two sides."""
    out = []
    for (machine, cell, label), points in series.items():
        for i, p in enumerate(points):
            if p.verdict in ("slower", "faster"):
                a, b = (json.loads(x) for x in p.sides)
                differed = differences({"environment": json.dumps(a.get("versions") or {})},
                                       {"environment": json.dumps(b.get("versions") or {})})
                oa, ob = a.get("overrides") or {}, b.get("overrides") or {}
                differed += tuple(f"{k} {oa.get(k)} → {ob.get(k)}" for k in sorted(set(oa) | set(ob))
                                  if oa.get(k) != ob.get(k))
                out.append(ChangePoint(f"{label} ({cell}) B/A on {machine}", i, "A", f"B at {p.commit[:12]}",
                                       p.ratio, (p.lower, p.upper), differed))
    return out


def changes(url: str | None, **filters: Any) -> list[ChangePoint]:
    """The change points of every stored series (filters as :func:`rnnbench.history.show.read_series`),
    then those of the paired comparisons."""
    from rnnbench.history.show import read_paired, read_series
    from rnnbench.history.store import database_errors, open_store, store_url

    engine = open_store(url)
    try:
        with database_errors(store_url(url)):
            found = [c for s in read_series(engine, **filters)
                     for c in series_changes(f"{s.label} ({s.cell}) {s.metric} on {s.machine}", list(s.points))]
            filters.pop("metric", None)
            return found + paired_changes(read_paired(engine, **filters))
    finally:
        engine.dispose()
