"""The history store: every run remembered, keyed by branch, commit, machine and cell identity.

``rnnbench history ingest`` stores runs (``run`` and ``ab`` store theirs when they finish);
``rnnbench history show`` lists each series over commits, ``history changes`` its change points. The store is one SQLite file under ``RNNBENCH_HOME`` by default, or any database
SQLAlchemy reaches through a URL (``--db`` / ``RNNBENCH_DB``: a team's PostgreSQL) — the same
SQLAlchemy Core tables (:mod:`rnnbench.history.schema`) and Alembic migrations
(``migrations/``) on every database, no hand-written SQL dialects.

Modules: :mod:`~rnnbench.history.store` (opening, migrating, the errors a user can meet),
:mod:`~rnnbench.history.ingest` (a run's cells as rows, one transaction a run),
:mod:`~rnnbench.history.series` (the per-series summary kept at ingest),
:mod:`~rnnbench.history.show` (the series read back), :mod:`~rnnbench.history.changes`
(change points and what differed there).
"""
