"""The stored series read back: one per machine × cell × metric, ordered by commit time.

Series never mix machines: timings only compare within a machine fingerprint. The table gives
each series' first and last value, the change between them, and a sparkline of its medians.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Series:
    machine: str
    cell: str
    label: str
    metric: str
    points: tuple[Point, ...]


def read_series(engine: Any, *, branch: str | None = None, metric: str | None = None,
                cell: str | None = None) -> list[Series]:
    """The stored series, filtered by branch, metric and cell (its key, or a part of its label)."""
    from sqlalchemy import or_, select

    from rnnbench.history.schema import measurements as m
    from rnnbench.history.schema import runs as r

    q = (select(r.c.machine, m.c.cell, m.c.label, m.c.metric, r.c.commit, r.c.commit_time, r.c.branch, r.c.run_id,
                m.c.median, m.c.lower, m.c.upper, m.c.n)
         .join(r, m.c.run == r.c.id)
         .order_by(r.c.machine, m.c.label, m.c.cell, m.c.metric, r.c.commit_time, r.c.created, r.c.run_id))
    if branch:
        q = q.where(r.c.branch == branch)
    if metric:
        q = q.where(m.c.metric == metric)
    if cell:
        q = q.where(or_(m.c.cell == cell, m.c.label.contains(cell)))
    grouped: dict[tuple[str, str, str, str], list[Point]] = {}
    with engine.connect() as conn:
        for row in conn.execute(q):
            grouped.setdefault((row.machine, row.cell, row.label, row.metric), []).append(
                Point(row.commit, row.commit_time, row.branch, row.run_id, row.median, row.lower, row.upper, row.n))
    return [Series(*key, tuple(points)) for key, points in grouped.items()]


def sparkline(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - lo) / (hi - lo) * len(SPARKS)))] for v in values)


def table_rows(series: list[Series]) -> list[list[str]]:
    """Rows of ``history show``: machine, cell (key), metric, runs, first, last, change, trend."""
    rows = []
    for s in series:
        first, last = s.points[0].median, s.points[-1].median
        change = f"{(last / first - 1) * 100:+.1f}%" if first else "–"
        rows.append([s.machine, f"{s.label} ({s.cell})", s.metric, str(len(s.points)), f"{first:.4g}",
                     f"{last:.4g}", change, sparkline([p.median for p in s.points])])
    return rows


def show(url: str | None, **filters: Any) -> list[list[str]]:
    from rnnbench.history.store import database_errors, open_store, store_url

    engine = open_store(url)
    try:
        with database_errors(store_url(url)):
            return table_rows(read_series(engine, **filters))
    finally:
        engine.dispose()
