"""The history's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

``runs``: one row a stored run — where it ran (machine fingerprint), what it ran (suite, its
fingerprint), on which code (branch, commit, commit time) and environment (framework versions),
unique by (run id, created) so that ingesting a run again stores nothing. ``measurements``: one
row a cell × metric of a run — the cell's identity key (:mod:`rnnbench.identity`, the ``group``
its records stored), its label and identity, and the value with its spread: the median over
the cell's processes, their lowest and highest value, and how many there were.
``series`` (revision 0003): one row a branch × machine × cell × metric, kept by every ingest in
the same transaction — the count, the earliest and latest point and the newest points — so
``history show`` reads a row a series however many runs the store holds.
``comparisons`` (revision 0002): one row a cell of an ``rnnbench ab`` run — B's step time over
A's as ab judged it (the paired ratio, its interval, the pairs, the verdict) and what each side
was (interpreter, overrides, versions). A history of these sees changes an unpaired one cannot.

Changing these tables means a new Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), nullable=False),
    Column("created", String(40), nullable=False),
    Column("kind", String(20), nullable=False),  # "run"
    Column("suite", String(200), nullable=False),
    Column("suite_fingerprint", String(40)),
    Column("branch", String(200), nullable=False),
    Column("commit", String(80), nullable=False),
    Column("commit_time", String(40), nullable=False),
    Column("machine", String(40), nullable=False),  # the machine fingerprint
    Column("cpu_model", String(200)),
    Column("rnnbench", String(40)),
    Column("environment", Text, nullable=False),  # JSON: framework and library versions
    Column("ingested", String(40), nullable=False),
    UniqueConstraint("run_id", "created", name="uq_runs_run"),
)

measurements = Table(
    "measurements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("cell", String(40), nullable=False, index=True),  # the identity key
    Column("label", String(200), nullable=False),
    Column("identity", Text, nullable=False),  # JSON
    Column("metric", String(60), nullable=False),
    Column("median", Float, nullable=False),
    Column("lower", Float, nullable=False),
    Column("upper", Float, nullable=False),
    Column("n", Integer, nullable=False),
    UniqueConstraint("run", "cell", "metric", name="uq_measurements_cell"),
)

comparisons = Table(
    "comparisons", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("cell", String(40), nullable=False, index=True),  # the identity key of side A's records
    Column("label", String(200), nullable=False),
    Column("metric", String(60), nullable=False),  # "steady_step": B's step time over A's
    Column("ratio", Float, nullable=False),
    Column("lower", Float, nullable=False),
    Column("upper", Float, nullable=False),
    Column("pairs", Integer, nullable=False),
    Column("verdict", String(40), nullable=False),
    Column("side_a", Text, nullable=False),  # JSON: python, overrides, versions
    Column("side_b", Text, nullable=False),
    UniqueConstraint("run", "cell", "metric", name="uq_comparisons_cell"),
)

series = Table(
    "series", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(200), nullable=False),
    Column("machine", String(40), nullable=False),
    Column("cell", String(40), nullable=False),
    Column("label", String(200), nullable=False),
    Column("metric", String(60), nullable=False),
    Column("n", Integer, nullable=False),
    Column("first", Text, nullable=False),  # JSON [commit_time, created, run_id, median]: the earliest point
    Column("last", Text, nullable=False),  # ... the latest
    Column("recent", Text, nullable=False),  # JSON list of the newest RECENT points, in commit order
    UniqueConstraint("branch", "machine", "cell", "metric", name="uq_series"),
)
