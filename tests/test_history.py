"""The history store (issue 25): committed runs ingested into SQLite and into a real PostgreSQL
server the tests start, stored once however often and however concurrently they are ingested,
the same `history show` on both, and every bad input one line with nothing half-written."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO, unavailable

GRU_VS_LSTM = REPO / "reports" / "gru-vs-lstm"
TUTORIAL = REPO / "reports" / "tutorial" / "runs" / "20261202-081107-tutorial"


def rnnbench(*args: str, db: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RNNBENCH_DB": db}
    return subprocess.run([sys.executable, "-m", "rnnbench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def counts(engine_url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, func, select

    from rnnbench.history.schema import measurements, runs

    engine = create_engine(engine_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(runs)).scalar_one()
        m = conn.execute(select(func.count()).select_from(measurements)).scalar_one()
    engine.dispose()
    return n, m


def copies(tmp: Path, n: int, source: Path = GRU_VS_LSTM) -> list[Path]:
    """``n`` copies of a committed run, each a run of its own (its own id and creation time)."""
    out = []
    for i in range(n):
        dst = tmp / f"copy-{i:03d}"
        dst.mkdir(parents=True)
        shutil.copy(source / "results.jsonl", dst / "results.jsonl")
        meta = json.loads((source / "run.json").read_text())
        meta["run_id"], meta["created"] = f"{meta['run_id']}-{i:03d}", f"2026-12-04T19:{i // 60:02d}:{i % 60:02d}+00:00"
        (dst / "run.json").write_text(json.dumps(meta))
        out.append(dst)
    return out


# -- a real PostgreSQL server ----------------------------------------------------------------


def _pg_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of Debian's package, started for these tests on a free port with a
    password (scram-sha-256); yields its URL without a database name."""
    pg = _pg_bin()
    if pg is None:
        unavailable("PostgreSQL's server (Debian package postgresql) is not installed")
    root = Path(tempfile.mkdtemp(prefix="rnnbench-pg-"))
    os.chmod(root, 0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the package's postgres user
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    (root / "pw").write_text("secret\n")
    if as_user:
        shutil.chown(root / "pw", "postgres")
    port = _free_port()
    data = root / "data"
    subprocess.run([*as_user, str(pg / "initdb"), "-D", str(data), "-U", "rnnbench", "--auth=scram-sha-256",
                    f"--pwfile={root / 'pw'}", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
    subprocess.run([*as_user, str(pg / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
                    "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql+psycopg://rnnbench:secret@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True,
                       timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    return fresh_database(request.getfixturevalue("postgres"), f"h_{request.node.name[-12:].strip('[]')}".lower()
                          .replace("-", "_"))


# -- what a store keeps ----------------------------------------------------------------------


def test_a_run_is_stored_once_with_each_cells_figures_under_the_key_its_records_stored(store: str) -> None:
    first = rnnbench("history", "ingest", str(GRU_VS_LSTM), str(TUTORIAL), db=store)
    assert first.returncode == 0, first.stderr
    assert "stored: run 20261204-185811-gru-vs-lstm" in first.stdout
    again = rnnbench("history", "ingest", str(GRU_VS_LSTM), db=store)
    assert again.returncode == 0 and again.stdout.strip() == "already stored: run 20261204-185811-gru-vs-lstm"
    n_runs, n_meas = counts(store)
    assert n_runs == 2

    from rnnbench.exports import cell_stats
    from rnnbench.history.ingest import measurements
    from rnnbench.snapshot import load_snapshot

    snap = load_snapshot(str(GRU_VS_LSTM))
    stats = {c["group"]: c for c in cell_stats(snap)}
    stored = [m for m in measurements(snap.records) if m.metric == "steady_step_ms"]
    assert {m.cell for m in stored} == {r["group"] for r in snap.records} == set(stats)
    for m in stored:  # the history's step time against the export's, computed apart
        assert m.median == pytest.approx(stats[m.cell]["steady_step_ms"])
        assert m.lower == pytest.approx(min(stats[m.cell]["step_medians_ms"]))
        assert m.upper == pytest.approx(max(stats[m.cell]["step_medians_ms"])) and m.n == stats[m.cell]["ok"]
    assert n_meas == len(measurements(snap.records)) + len(measurements(load_snapshot(str(TUTORIAL)).records))


def test_show_lists_each_cells_series_over_commits(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    runs = copies(tmp_path, 3)
    assert rnnbench("history", "ingest", *map(str, runs), db=db).returncode == 0
    out = rnnbench("history", "show", "--metric", "steady_step_ms", "--cell", "GRU / keras-tensorflow", db=db)
    assert out.returncode == 0, out.stderr
    (line,) = [x for x in out.stdout.splitlines() if "GRU / keras-tensorflow" in x]
    assert "(c8e0b3b77b)" in line and " 3 " in line and "+0.0%" in line and "▁▁▁" in line
    none = rnnbench("history", "show", "--cell", "no such cell", db=db)
    assert none.returncode == 0 and "no stored runs match" in none.stdout


@pytest.mark.slow
def test_sqlite_and_postgresql_show_the_same_history(postgres: str, tmp_path: Path) -> None:
    lite, pg = f"sqlite:///{tmp_path / 'h.sqlite'}", fresh_database(postgres, "same_show")
    for db in (lite, pg):
        assert rnnbench("history", "ingest", str(GRU_VS_LSTM), str(TUTORIAL), db=db).returncode == 0
    shown = [rnnbench("history", "show", db=db) for db in (lite, pg)]
    assert shown[0].returncode == 0 and shown[0].stdout.count("\n") > 20
    assert shown[0].stdout == shown[1].stdout


@pytest.mark.slow
def test_eight_parallel_ingests_of_the_same_fifty_runs_store_each_once(store: str, tmp_path: Path) -> None:
    runs = copies(tmp_path / "runs", 50)
    assert rnnbench("history", "show", db=store).returncode == 0  # the store made before the race
    env = {**os.environ, "RNNBENCH_DB": store}
    procs = [subprocess.Popen([sys.executable, "-m", "rnnbench", "history", "ingest", *map(str, runs)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    stored = sum(o.count("\nstored: ") + o.startswith("stored: ") for o, _ in outs)
    assert stored == 50
    per_run = counts(store)[1] // 50
    assert counts(store) == (50, 50 * per_run) and per_run > 0


# -- bad input: one line, exit 2, nothing written -----------------------------------------------


def one_line_error(res: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    for text in expected:
        assert text in res.stderr, res.stderr


@pytest.mark.slow
def test_a_store_that_cannot_be_reached_or_opened_is_one_line(postgres: str, tmp_path: Path) -> None:
    one_line_error(rnnbench("history", "show", db=f"postgresql+psycopg://rnnbench:secret@127.0.0.1:{_free_port()}/x"),
                   "127.0.0.1", "***")
    wrong = postgres.replace(":secret@", ":wrong@") + "/postgres"
    one_line_error(rnnbench("history", "show", db=wrong), "password authentication failed", "***")
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    one_line_error(rnnbench("history", "show", db=f"sqlite:///{corrupt}"), "not an rnnbench history store")
    one_line_error(rnnbench("history", "show", db="nosuchdb://x"), "not a database URL")


def test_a_store_written_by_a_newer_rnnbench_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert rnnbench("history", "show", db=f"sqlite:///{db}").returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    one_line_error(rnnbench("history", "ingest", str(GRU_VS_LSTM), db=f"sqlite:///{db}"),
                   "written by a newer rnnbench", "9999")


def test_a_bad_run_in_a_batch_stores_nothing_of_the_batch(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    good, torn, foreign, outside = copies(tmp_path / "runs", 4)
    with open(torn / "results.jsonl", "a") as f:
        f.write('{"schema": 1, "key": "gru-torch-1", "status": "o')  # a write cut short
    (foreign / "results.jsonl").write_text('{"name": "not a record"}\n')
    meta = json.loads((outside / "run.json").read_text())
    meta["machine"]["git_commit"] = None
    (outside / "run.json").write_text(json.dumps(meta))
    one_line_error(rnnbench("history", "ingest", str(good), str(torn), db=db), "truncated or foreign", "not ingested")
    one_line_error(rnnbench("history", "ingest", str(good), str(foreign), db=db))
    one_line_error(rnnbench("history", "ingest", str(good), str(outside), db=db), "outside a git checkout")
    meta["machine"]["git_commit"] = "0" * 40
    (outside / "run.json").write_text(json.dumps(meta))
    one_line_error(rnnbench("history", "ingest", str(good), str(outside), db=db), "not in this checkout's history")
    assert counts(db) == (0, 0)
    assert rnnbench("history", "ingest", str(good), db=db).returncode == 0 and counts(db)[0] == 1


@pytest.mark.slow  # real runs and several rnnbench processes
def test_a_finished_run_is_stored_in_the_history_unless_asked_not_to(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers import write_suite

    monkeypatch.delenv("RNNBENCH_NO_HISTORY")
    monkeypatch.setenv("RNNBENCH_BRANCH", "feature-x")
    db = f"sqlite:///{tmp_path / 'home' / 'history.sqlite'}"  # the default store in this test's data home
    suite = write_suite(tmp_path, '[defaults]\nbackend = "fake"\nepochs = 1\n[matrix]\narch = ["gru", "lstm"]\n')
    run = subprocess.run([sys.executable, "-m", "rnnbench", "run", str(suite), "--no-report"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "history: stored in sqlite:///" in run.stderr
    shown = subprocess.run([sys.executable, "-m", "rnnbench", "history", "show", "--branch", "feature-x",
                            "--metric", "steady_step_ms"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and {"GRU / fake", "LSTM / fake"} <= {
        line.split("  ")[1].rsplit(" (", 1)[0].strip() for line in shown.stdout.splitlines()[2:]}, shown.stdout
    assert counts(db)[0] == 1
    off = subprocess.run([sys.executable, "-m", "rnnbench", "run", str(suite), "--no-report", "--no-history"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert off.returncode == 0 and "history" not in off.stderr and counts(db)[0] == 1


AB_RUN = REPO / "reports" / "keras-upgrade" / "runs" / "20261202-140415-ab-ci-ab"


def test_an_ab_run_is_stored_as_each_cells_paired_comparison_as_ab_judged_it(tmp_path: Path) -> None:
    from rnnbench.ab import load_analysis

    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    res = rnnbench("history", "ingest", str(AB_RUN), db=db)
    assert res.returncode == 0 and "stored: run 20261202-140415-ab-ci-ab" in res.stdout, res.stderr
    analysis, _, _ = load_analysis(str(AB_RUN))
    shown = rnnbench("history", "show", "--paired", db=db)
    assert shown.returncode == 0, shown.stderr
    for c in analysis.cells:  # ab's own analysis of the same records, against what the history shows
        line = next(x for x in shown.stdout.splitlines() if c.label in x)
        assert f"{c.ratio:.4f} [{c.ci[0]:.4f}, {c.ci[1]:.4f}] {c.time_verdict}" in line
    from sqlalchemy import create_engine, select

    from rnnbench.history.schema import comparisons

    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(select(comparisons)).all()
    engine.dispose()
    assert {json.loads(r.side_a)["versions"]["keras"] for r in rows} == {"3.13.2"}  # the upgrade, side by side
    assert {json.loads(r.side_b)["versions"]["keras"] for r in rows} == {"3.15.1"}
    assert {r.cell for r in rows} == {rec["group"] for rec in map(json.loads, (AB_RUN / "results.jsonl").open())
                                      if rec["ab"]["side"] == "a"}


def test_the_chained_index_multiplies_the_ratios_and_adds_their_log_intervals_in_quadrature() -> None:
    from rnnbench.history.show import Compared, chained

    e = math.exp
    points = [Compared("c1", "t1", "r1", 1.02, 1.02 * e(-0.01), 1.02 * e(0.01), 8, "slower"),
              Compared("c2", "t2", "r2", 1.01, 1.01 * e(-0.02), 1.01 * e(0.02), 8, "unchanged")]
    index, lo, hi = chained(points)
    half = math.sqrt(0.01 ** 2 + 0.02 ** 2)  # 0.02236
    assert index == pytest.approx(1.0302) and lo == pytest.approx(1.0302 * e(-half)) and hi == pytest.approx(
        1.0302 * e(half))


def test_a_store_of_the_first_schema_is_migrated_with_its_runs_kept(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from rnnbench.history.store import _scripts

    db = f"sqlite:///{tmp_path / 'old.sqlite'}"
    cfg, _ = _scripts()
    engine = create_engine(db)
    with engine.begin() as conn:  # a store as the first rnnbench with a history wrote it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert not {"comparisons", "series"} & set(inspect(engine).get_table_names())
    engine.dispose()
    from rnnbench.history.ingest import load_whole_run, measurements, run_row
    from rnnbench.history.schema import measurements as mtable
    from rnnbench.history.schema import runs as rtable

    old = create_engine(db)
    snap = load_whole_run(str(GRU_VS_LSTM))
    with old.begin() as conn:  # what that rnnbench wrote: a run and its cells' figures
        run = conn.execute(rtable.insert().values(**run_row(snap, "main"))).inserted_primary_key[0]
        conn.execute(mtable.insert(), [{"run": run, "cell": m.cell, "label": m.label, "identity": "{}",
                                        "metric": m.metric, "median": m.median, "lower": m.lower, "upper": m.upper,
                                        "n": m.n} for m in measurements(snap.records)])
    old.dispose()
    res = rnnbench("history", "ingest", str(AB_RUN), db=db)  # opening it migrates it to the newest schema
    assert res.returncode == 0, res.stderr
    shown = rnnbench("history", "show", "--metric", "steady_step_ms", db=db)
    assert "GRU / keras-tensorflow (c8e0b3b77b)" in shown.stdout
    assert "GRU / keras-tensorflow" in rnnbench("history", "show", "--paired", db=db).stdout
    assert counts(db)[0] == 2


@pytest.mark.slow  # real runs and several rnnbench processes
def test_a_finished_ab_run_is_stored_as_its_comparisons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_ab import FAKE

    monkeypatch.delenv("RNNBENCH_NO_HISTORY")
    suite = tmp_path / "f.toml"
    suite.write_text(FAKE, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "rnnbench", "ab", str(suite), "-o", str(tmp_path / "runs"),
                          "--b-set", "extra_work=10", "--pairs", "4"], cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 1, res.stderr  # B does 10× the work: slower, a regression
    assert "history: stored in sqlite:///" in res.stderr
    shown = subprocess.run([sys.executable, "-m", "rnnbench", "history", "show", "--paired"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and shown.stdout.count(" slower ") == 2, shown.stdout  # GRU and LSTM


# -- change points -------------------------------------------------------------------------------


def test_a_step_in_a_noisy_series_is_found_where_it_is_and_a_flat_series_has_none() -> None:
    import random

    from rnnbench.history.changes import detect

    rng = random.Random(7)
    for _ in range(10):  # 2% noise, as a paired ratio has here; +10% from the 21st commit on
        stepped = [100 * math.exp(rng.gauss(0, 0.02)) * (1.10 if i >= 20 else 1.0) for i in range(40)]
        assert 20 in detect(stepped)
        assert detect([100 * math.exp(rng.gauss(0, 0.02)) for _ in range(40)]) == []


def history_with_an_upgrade(tmp: Path, n: int = 12, at: int = 6, slower: float = 1.10) -> list[Path]:
    """``n`` runs on ``n`` commits of one machine; from run ``at`` on, torch is newer and every
    step ``slower`` times as long (each run's steps scaled by a seeded 1% noise)."""
    import random

    rng = random.Random(11)
    runs = copies(tmp, n)
    for i, run in enumerate(runs):
        meta = json.loads((run / "run.json").read_text())
        meta["machine"].update(git_commit=f"{i:02d}" + "c" * 38, git_commit_time=f"2026-11-{i + 1:02d}T12:00:00+00:00")
        if i >= at:
            meta["machine"]["versions"] = {**meta["machine"]["versions"], "torch": "2.14.0"}
        (run / "run.json").write_text(json.dumps(meta))
        factor = (slower if i >= at else 1.0) * math.exp(rng.gauss(0, 0.01))
        recs = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
        for r in recs:
            m = r["metrics"]
            m["steady_step_samples"] = [s * factor for s in m["steady_step_samples"]]
            m["steady_step_s"] *= factor
        (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return runs


@pytest.mark.slow  # real runs and several rnnbench processes
def test_a_change_point_says_its_size_and_what_differed_between_the_runs_around_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    runs = history_with_an_upgrade(tmp_path / "runs")
    assert rnnbench("history", "ingest", *map(str, runs), db=db).returncode == 0
    res = rnnbench("history", "changes", "--metric", "steady_step_ms", "--cell", "GRU / torch", db=db)
    assert res.returncode == 0, res.stderr
    (line,) = res.stdout.splitlines()
    assert line.startswith("GRU / torch (") and "steady_step_ms on 3efe908b2c30: +10." in line
    assert f"between 05{'c' * 10} and 06{'c' * 10}" in line and "torch 2.13.0+cpu → 2.14.0" in line
    lo, hi = (float(x) for x in line.split("[")[1].split("]")[0].replace("%", "").split(", "))
    assert lo <= 10.0 <= hi and hi - lo < 5
    flat = history_with_an_upgrade(tmp_path / "flat", slower=1.0)
    db2 = f"sqlite:///{tmp_path / 'flat.sqlite'}"
    assert rnnbench("history", "ingest", *map(str, flat), db=db2).returncode == 0
    assert rnnbench("history", "changes", "--metric", "steady_step_ms", db=db2).stdout.strip() == \
        "no change points in the stored series"


def test_series_from_a_csv_get_their_change_points_as_json(tmp_path: Path) -> None:
    import random

    rng = random.Random(3)
    rows = ["series_id,commit_index,value"]
    for i in range(30):
        rows.append(f"up,{i},{100 * math.exp(rng.gauss(0, 0.01)) * (1.2 if i >= 12 else 1):.4f}")
        rows.append(f"flat,{i},{50 * math.exp(rng.gauss(0, 0.01)):.4f}")
    csv = tmp_path / "series.csv"
    csv.write_text("\n".join(rows) + "\n")
    res = rnnbench("history", "changes", "--csv", str(csv), db="sqlite:///unused")
    assert res.returncode == 0, res.stderr
    out = {s["series_id"]: s["change_points"] for s in json.loads(res.stdout)}
    assert out["flat"] == [] and [c["commit_index"] for c in out["up"]] == [12]
    assert out["up"][0]["ci"][0] <= out["up"][0]["ratio"] <= out["up"][0]["ci"][1] and out["up"][0]["ratio"] > 1.15
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    one_line_error(rnnbench("history", "changes", "--csv", str(tmp_path / "bad.csv"), db="sqlite:///unused"),
                   "expected the columns series_id, commit_index, value")


def test_show_reads_a_summary_kept_at_ingest_that_agrees_with_every_stored_point(tmp_path: Path) -> None:
    """history show reads one row a series (kept by each ingest, and built from the stored points
    when a store is migrated to it); its count, first, last and trend are those of every point
    read back in commit order — the trend the newest 24."""
    from rnnbench.history.ingest import ingest_runs
    from rnnbench.history.series import RECENT
    from rnnbench.history.show import read_series, sparkline, summary_rows
    from rnnbench.history.store import open_store

    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    runs = history_with_an_upgrade(tmp_path / "runs", n=30, at=15)
    ingest_runs(db, [str(r) for r in runs[::2]], branch="main")  # out of commit order: evens, then odds
    ingest_runs(db, [str(r) for r in runs[1::2]], branch="main")
    engine = open_store(db)
    rows = {(r[0], r[1], r[2]): r for r in summary_rows(engine)}
    every = read_series(engine)
    engine.dispose()
    assert len(rows) == len(every) == 42
    for s in every:
        medians = [p.median for p in s.points]
        row = rows[(s.machine, f"{s.label} ({s.cell})", s.metric)]
        assert row[3:6] == [str(len(medians)), f"{medians[0]:.4g}", f"{medians[-1]:.4g}"]
        assert row[7] == sparkline(medians[-RECENT:]) and row[8] == "main"
