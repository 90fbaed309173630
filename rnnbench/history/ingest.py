"""A run into the history store: its place (branch, commit, machine) and its cells' figures.

Each cell is the group of records with one identity key (:func:`rnnbench.cells.group_records`,
the ``group`` its records stored), and each metric is stored with its spread over the cell's
successful processes: the median, the lowest and highest process value, and the count. An
``rnnbench ab`` run stores each cell's paired comparison instead (:func:`comparisons`: the
ratio, interval and verdict ab gives it, analysed again from its records). A run
is written in one transaction, and a run already stored (same run id and creation time) is
left as it is, so ingesting twice, or from eight processes at once, stores it once.

Refused with one line, nothing written: a results file with a torn or foreign line (the
store keeps whole runs only), a run made outside a git checkout (the history is keyed by
commit), a commit this checkout's git does not know (it cannot be placed in time).
"""

from __future__ import annotations

import json
import statistics
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rnnbench.errors import UserError

# Stored per cell: the step time (per-process medians of the steady steps) and these record metrics.
RECORD_METRICS = ("samples_per_s", "peak_rss_mb", "test_acc", "first_epoch_s", "steady_epoch_s",
                  "steady_page_faults_per_step")


@dataclass(frozen=True)
class Measurement:
    cell: str  # the identity key
    label: str
    identity: dict[str, Any]
    metric: str
    median: float
    lower: float
    upper: float
    n: int


@dataclass(frozen=True)
class Comparison:
    cell: str  # the identity key of side A's records
    label: str
    metric: str
    ratio: float
    lower: float
    upper: float
    pairs: int
    verdict: str
    side_a: dict[str, Any]
    side_b: dict[str, Any]


@dataclass(frozen=True)
class Ingested:
    ref: str
    run_id: str
    stored: bool  # False: the store already held this run
    measurements: int


def measurements(records: list[dict[str, Any]]) -> list[Measurement]:
    """Each cell × metric of a run's records, with its spread over the cell's processes."""
    from rnnbench.cells import group_records, metric_values, time_values

    out = []
    for g in group_records(records).values():
        medians, _ = time_values(g.ok)
        series = {"steady_step_ms": [m * 1e3 for m in medians]}
        series.update({name: metric_values(g.ok, name) for name in RECORD_METRICS})
        for metric, values in series.items():
            if values:
                out.append(Measurement(g.key, g.label, g.identity, metric, statistics.median(values),
                                       min(values), max(values), len(values)))
    return out


def comparisons(path: Any, records: list[dict[str, Any]]) -> list[Comparison]:
    """Each cell of an ab run: B's steady step time over A's, as ``rnnbench ab`` judges it."""
    from rnnbench.ab import load_analysis

    analysis, sides, _ = load_analysis(str(path))
    group_of = {(r.get("ab") or {}).get("cell"): r.get("group") for r in records
                if (r.get("ab") or {}).get("side") == "a"}
    described = [{"python": s.python, "overrides": s.overrides, "versions": s.versions} for s in sides]
    return [Comparison(group_of.get(c.key) or c.key, c.label, "steady_step", c.ratio, c.ci[0], c.ci[1], c.n_pairs,
                       c.time_verdict, *described)
            for c in analysis.cells if c.ratio is not None and c.ci is not None]


def load_whole_run(ref: str) -> Any:
    """The run's snapshot, refused when a line of its results is torn or foreign."""
    from rnnbench.snapshot import load_snapshot

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snap = load_snapshot(ref)
    skipped = [str(w.message) for w in caught if "skipping" in str(w.message)]
    if skipped:
        raise UserError(f"{skipped[0].split(': skipping')[0]}: truncated or foreign results file "
                        f"({len(skipped)} line(s) not complete records); not ingested")
    if snap.kind != "run":
        raise UserError(f"{ref}: a baseline, not a run; ingest the run it was saved from")
    return snap


def run_row(snap: Any, branch: str | None) -> dict[str, Any]:
    """Where and on what a run ran, as the ``runs`` row."""
    from rnnbench.envinfo import git_branch, git_commit_time

    machine = snap.machine
    commit = machine.get("git_commit")
    if not commit:
        raise UserError(f"{snap.path}: made outside a git checkout (no commit recorded); the history "
                        "keeps runs by commit")
    commit_time = machine.get("git_commit_time") or git_commit_time(commit)
    if not commit_time:
        raise UserError(f"{snap.path}: commit {commit[:12]} is not in this checkout's history, so the run "
                        "cannot be placed in time", hint="ingest from the repository that made it")
    branch = branch or machine.get("git_branch") or git_branch()
    if not branch:
        raise UserError(f"{snap.path}: no branch recorded and none checked out", hint="give --branch")
    suite = snap.suite or {}
    try:  # the id the run was given (its folder may have been renamed or copied since)
        run_id = json.loads((snap.path / "run.json").read_text(encoding="utf-8")).get("run_id") or snap.run_id
    except (OSError, ValueError):
        run_id = snap.run_id
    return {
        "run_id": run_id, "created": snap.created or "", "kind": "run", "suite": suite.get("name") or "?",
        "suite_fingerprint": suite.get("fingerprint"), "branch": branch, "commit": commit,
        "commit_time": commit_time, "machine": snap.fingerprint or "?", "cpu_model": machine.get("cpu_model"),
        "rnnbench": machine.get("rnnbench"), "environment": json.dumps(machine.get("versions") or {}, sort_keys=True),
        "ingested": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def ingest(engine: Any, refs: list[str], branch: str | None = None) -> list[Ingested]:
    """Store each run (a run id, run directory or results.jsonl); one transaction a run. Every
    run is checked before the first is written."""
    prepared = []
    for ref in refs:
        snap = load_whole_run(ref)
        row = run_row(snap, branch)
        if _is_ab(snap.path):
            prepared.append((ref, {**row, "kind": "ab"}, [], comparisons(snap.path, snap.records)))
        else:
            prepared.append((ref, row, measurements(snap.records), []))
    return [_store(engine, *p) for p in prepared]


def _is_ab(path: Any) -> bool:
    try:
        return json.loads((path / "run.json").read_text(encoding="utf-8")).get("kind") == "ab"
    except (OSError, ValueError):
        return False


def _store(engine: Any, ref: str, row: dict[str, Any], ms: list[Measurement], cs: list[Comparison]) -> Ingested:
    """One run in one transaction. A unique key met at commit is either the run itself, stored
    by another process meanwhile (then it is left), or a new series another run just added
    (then the transaction runs again, and finds the series)."""
    from sqlalchemy import exc

    for attempt in range(5):
        try:
            return _store_once(engine, ref, row, ms, cs)
        except exc.IntegrityError:
            if _held(engine, row) or attempt == 4:
                return Ingested(ref, row["run_id"], False, 0)
    raise AssertionError("unreachable")


def _held(engine: Any, row: dict[str, Any]) -> bool:
    from sqlalchemy import select

    from rnnbench.history.schema import runs

    with engine.connect() as conn:
        return conn.execute(select(runs.c.id).where(runs.c.run_id == row["run_id"],
                                                    runs.c.created == row["created"])).first() is not None


def _store_once(engine: Any, ref: str, row: dict[str, Any], ms: list[Measurement], cs: list[Comparison]) -> Ingested:
    from sqlalchemy import select

    from rnnbench.history.schema import comparisons as ctable
    from rnnbench.history.schema import measurements as mtable
    from rnnbench.history.schema import runs
    from rnnbench.history.series import add_point

    with engine.begin() as conn:
        held = conn.execute(select(runs.c.id).where(runs.c.run_id == row["run_id"],
                                                    runs.c.created == row["created"])).first()
        if held is not None:
            return Ingested(ref, row["run_id"], False, 0)
        run = conn.execute(runs.insert().values(**row)).inserted_primary_key[0]
        if ms:
            conn.execute(mtable.insert(), [
                {"run": run, "cell": m.cell, "label": m.label, "identity": json.dumps(m.identity, sort_keys=True,
                                                                                      default=str),
                 "metric": m.metric, "median": m.median, "lower": m.lower, "upper": m.upper, "n": m.n}
                for m in ms])
        for m in ms:
            add_point(conn, {"branch": row["branch"], "machine": row["machine"], "cell": m.cell, "metric": m.metric},
                      m.label, [row["commit_time"], row["created"], row["run_id"], m.median])
        if cs:
            conn.execute(ctable.insert(), [
                {"run": run, "cell": c.cell, "label": c.label, "metric": c.metric, "ratio": c.ratio,
                 "lower": c.lower, "upper": c.upper, "pairs": c.pairs, "verdict": c.verdict,
                 "side_a": json.dumps(c.side_a, sort_keys=True, default=str),
                 "side_b": json.dumps(c.side_b, sort_keys=True, default=str)} for c in cs])
    return Ingested(ref, row["run_id"], True, len(ms) + len(cs))


def ingest_runs(url: str | None, refs: list[str], branch: str | None = None) -> list[Ingested]:
    """Open the store at ``url`` (see :func:`rnnbench.history.store.store_url`) and ingest ``refs``."""
    from rnnbench.history.store import database_errors, open_store, store_url

    engine = open_store(url)
    try:
        with database_errors(store_url(url)):
            return ingest(engine, refs, branch)
    finally:
        engine.dispose()
