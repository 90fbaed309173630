"""The stored series read back: one per machine × cell × metric, ordered by commit time.

Series never mix machines: timings only compare within a machine fingerprint. ``history show``
gives each series' first and last value, the change between them, and a sparkline of its newest
medians (:data:`rnnbench.history.series.RECENT`), from the summary kept at ingest (one row a
series and branch); :func:`read_series` brings every point (for change points).

Paired series (``--paired``, from ``rnnbench ab`` runs) give each cell's comparisons in commit
order: the last one's ratio, interval and verdict, and the chained index — the product of the
ratios, B over A each time, so the change across all of them when each compared a commit with
its parent — with an interval whose log half-width is the root sum of squares of theirs (the
comparisons' errors taken as independent, which separate processes on separate commits are).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Point:
    commit: str
    commit_time: str
    branch: str
    run_id: str
    median: float
    lower: float
    upper: float
    n: int
    run: dict[str, Any] = field(default_factory=dict, compare=False)  # versions, rnnbench, suite, CPU


@dataclass(frozen=True)
class Series:
    machine: str
    cell: str
    label: str
    metric: str
    points: tuple[Point, ...]


def filtered(q: Any, branch_col: Any, cols: Any, *, branch: str | None = None, metric: str | None = None,
             cell: str | None = None) -> Any:
    """``q`` narrowed to a branch, a metric and a cell (its key, or a part of its label)."""
    from sqlalchemy import or_

    if branch:
        q = q.where(branch_col == branch)
    if metric:
        q = q.where(cols.metric == metric)
    if cell:
        q = q.where(or_(cols.cell == cell, cols.label.contains(cell)))
    return q


def read_series(engine: Any, *, branch: str | None = None, metric: str | None = None,
                cell: str | None = None) -> list[Series]:
    """The stored series, filtered by branch, metric and cell (its key, or a part of its label)."""
    from sqlalchemy import select

    from rnnbench.history.schema import measurements as m
    from rnnbench.history.schema import runs as r

    q = (select(r.c.machine, m.c.cell, m.c.label, m.c.metric, r.c.commit, r.c.commit_time, r.c.branch, r.c.run_id,
                m.c.median, m.c.lower, m.c.upper, m.c.n, r.c.environment, r.c.rnnbench, r.c.suite_fingerprint,
                r.c.cpu_model)
         .join(r, m.c.run == r.c.id)
         .order_by(r.c.machine, m.c.label, m.c.cell, m.c.metric, r.c.commit_time, r.c.created, r.c.run_id))
    q = filtered(q, r.c.branch, m.c, branch=branch, metric=metric, cell=cell)
    grouped: dict[tuple[str, str, str, str], list[Point]] = {}
    with engine.connect() as conn:
        for row in conn.execute(q):
            grouped.setdefault((row.machine, row.cell, row.label, row.metric), []).append(
                Point(row.commit, row.commit_time, row.branch, row.run_id, row.median, row.lower, row.upper, row.n,
                      {"environment": row.environment, "rnnbench": row.rnnbench,
                       "suite_fingerprint": row.suite_fingerprint, "cpu_model": row.cpu_model}))
    return [Series(*key, tuple(points)) for key, points in grouped.items()]


def sparkline(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - lo) / (hi - lo) * len(SPARKS)))] for v in values)


@dataclass(frozen=True)
class Compared:
    commit: str
    commit_time: str
    run_id: str
    ratio: float
    lower: float
    upper: float
    pairs: int
    verdict: str
    sides: tuple[str, str] = ("{}", "{}")  # JSON: each side's python, overrides and versions


def read_paired(engine: Any, *, branch: str | None = None, cell: str | None = None) -> dict[tuple[str, str, str],
                                                                                            list[Compared]]:
    """(machine, cell, label) → its comparisons in commit order."""
    from sqlalchemy import select

    from rnnbench.history.schema import comparisons as c
    from rnnbench.history.schema import runs as r

    q = (select(r.c.machine, c.c.cell, c.c.label, r.c.commit, r.c.commit_time, r.c.run_id, c.c.ratio, c.c.lower,
                c.c.upper, c.c.pairs, c.c.verdict, c.c.side_a, c.c.side_b)
         .join(r, c.c.run == r.c.id)
         .order_by(r.c.machine, c.c.label, c.c.cell, r.c.commit_time, r.c.created, r.c.run_id))
    q = filtered(q, r.c.branch, c.c, branch=branch, cell=cell)
    out: dict[tuple[str, str, str], list[Compared]] = {}
    with engine.connect() as conn:
        for row in conn.execute(q):
            out.setdefault((row.machine, row.cell, row.label), []).append(
                Compared(row.commit, row.commit_time, row.run_id, row.ratio, row.lower, row.upper, row.pairs,
                         row.verdict, (row.side_a, row.side_b)))
    return out


def chained(points: list[Compared]) -> tuple[float, float, float]:
    """The product of the ratios and its interval (log half-widths added in quadrature)."""
    log = sum(math.log(p.ratio) for p in points)
    half = math.sqrt(sum(((math.log(p.upper) - math.log(p.lower)) / 2) ** 2 for p in points))
    return math.exp(log), math.exp(log - half), math.exp(log + half)


def paired_rows(series: dict[tuple[str, str, str], list[Compared]]) -> list[list[str]]:
    """Rows of ``history show --paired``: machine, cell, comparisons, last (ratio [interval] verdict),
    chained index [interval], trend of the ratios."""
    rows = []
    for (machine, cell, label), points in series.items():
        last = points[-1]
        index, lo, hi = chained(points)
        rows.append([machine, f"{label} ({cell})", str(len(points)),
                     f"{last.ratio:.4f} [{last.lower:.4f}, {last.upper:.4f}] {last.verdict}",
                     f"{index:.4f} [{lo:.4f}, {hi:.4f}]", sparkline([p.ratio for p in points])])
    return rows


def summary_rows(engine: Any, *, branch: str | None = None, metric: str | None = None,
                 cell: str | None = None) -> list[list[str]]:
    """Rows of ``history show`` from the series summary (:mod:`rnnbench.history.series`): one row
    a series, however many runs are stored; its trend is the newest runs'."""
    import json

    from sqlalchemy import select

    from rnnbench.history.schema import series as s

    q = select(s).order_by(s.c.machine, s.c.label, s.c.cell, s.c.metric, s.c.branch)
    q = filtered(q, s.c.branch, s.c, branch=branch, metric=metric, cell=cell)
    rows = []
    with engine.connect() as conn:
        for row in conn.execute(q):
            first, last = json.loads(row.first)[3], json.loads(row.last)[3]
            change = f"{(last / first - 1) * 100:+.1f}%" if first else "–"
            rows.append([row.machine, f"{row.label} ({row.cell})", row.metric, str(row.n), f"{first:.4g}",
                         f"{last:.4g}", change, sparkline([p[3] for p in json.loads(row.recent)]), row.branch])
    return rows


def show(url: str | None, paired: bool = False, **filters: Any) -> list[list[str]]:
    from rnnbench.history.store import database_errors, open_store, store_url

    engine = open_store(url)
    try:
        with database_errors(store_url(url)):
            if paired:
                filters.pop("metric", None)
                return paired_rows(read_paired(engine, **filters))
            return summary_rows(engine, **filters)
    finally:
        engine.dispose()
