"""The ``series`` summary: one row a branch × machine × cell × metric, kept as runs are stored.

Each ingest updates the rows of the series its run adds a point to, in the run's own
transaction (the row locked while it is read and written, so concurrent ingests on PostgreSQL
do not lose a point; SQLite serializes writers anyway): the count, the earliest and the latest
point, and the newest :data:`RECENT` points for the trend. ``history show`` then reads one row
a series, however many runs the store holds. A point is ``[commit_time, created, run_id,
median]`` and points are ordered by those, as :func:`rnnbench.history.show.read_series` orders them.
"""

from __future__ import annotations

import json
from typing import Any

RECENT = 24  # points kept for a series' trend (its sparkline)


def add_point(conn: Any, key: dict[str, str], label: str, point: list[Any]) -> None:
    """Add one run's point to its series (``key``: branch, machine, cell, metric)."""
    from sqlalchemy import select

    from rnnbench.history.schema import series

    where = [series.c[k] == v for k, v in key.items()]
    row = conn.execute(select(series).where(*where).with_for_update()).first()
    if row is None:
        conn.execute(series.insert().values(**key, label=label, n=1, first=json.dumps(point), last=json.dumps(point),
                                            recent=json.dumps([point])))
        return
    first, last = json.loads(row.first), json.loads(row.last)
    recent = sorted([*json.loads(row.recent), point])[-RECENT:]
    conn.execute(series.update().where(series.c.id == row.id).values(
        n=row.n + 1, first=json.dumps(min(first, point)), last=json.dumps(max(last, point)),
        recent=json.dumps(recent)))


def rebuild(conn: Any) -> None:
    """Fill the summary from every stored point (the migration that adds it)."""
    from sqlalchemy import select

    from rnnbench.history.schema import measurements as m
    from rnnbench.history.schema import runs as r

    q = (select(r.c.branch, r.c.machine, m.c.cell, m.c.label, m.c.metric, r.c.commit_time, r.c.created, r.c.run_id,
                m.c.median).join(r, m.c.run == r.c.id)
         .order_by(r.c.branch, r.c.machine, m.c.cell, m.c.metric, r.c.commit_time, r.c.created, r.c.run_id))
    grouped: dict[tuple[str, ...], tuple[str, list[list[Any]]]] = {}
    for row in conn.execute(q):
        grouped.setdefault((row.branch, row.machine, row.cell, row.metric), (row.label, []))[1].append(
            [row.commit_time, row.created, row.run_id, row.median])
    from rnnbench.history.schema import series

    rows = [{"branch": k[0], "machine": k[1], "cell": k[2], "metric": k[3], "label": label, "n": len(points),
             "first": json.dumps(points[0]), "last": json.dumps(points[-1]), "recent": json.dumps(points[-RECENT:])}
            for k, (label, points) in grouped.items()]
    if rows:
        conn.execute(series.insert(), rows)
