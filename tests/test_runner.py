"""The cell runner with real subprocesses and the fake backend: crashes, hangs, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, interruptible, write_suite

from rnnbench.errors import UserError
from rnnbench.progress import QuietProgress
from rnnbench.results import RunDir, append_record, read_records, resolve_run
from rnnbench.runner import execute, reopen_run, start_run
from rnnbench.suite import load_suite

FAKE = """
[defaults]
backend = "fake"
dataset = "sample"
num_words = 2000
maxlen = 50
epochs = 2
batch_size = 256
train_size = 512
test_size = 256
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _workers(run_dir: Path) -> list[int]:
    """Pids of the live ``rnnbench.worker`` processes of the run in ``run_dir``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"rnnbench.worker" in argv and any(str(run_dir).encode() in a for a in argv) and _alive(int(proc.name)):
            pids.append(int(proc.name))
    return pids


def _still_alive_after(pids: list[int], seconds: float) -> list[int]:
    """Poll until every pid is gone or ``seconds`` pass; the ones still running."""
    deadline = time.monotonic() + seconds
    while True:
        left = [p for p in pids if _alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _first_record(runs: Path, seconds: float = 120) -> Path | None:
    """The run's results.jsonl once it holds a finished cell, polling up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = list(runs.glob("*/results.jsonl"))
        if found and found[0].read_text().count("\n") >= 1:
            return found[0]
        time.sleep(0.1)
    return None


def _run(suite_path: Path, tmp_path: Path) -> RunDir:
    suite = load_suite(suite_path)
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    return run


@pytest.mark.slow  # a crash, a hang and an error in real workers: ~10 s
def test_failures_become_records_and_the_suite_goes_on(tmp_path: Path) -> None:
    # only the hung cell gets the short timeout, so a slow host cannot time out the others
    path = write_suite(tmp_path, FAKE + """
[matrix]
fault = ["none", "crash", "error", "exit"]
[[include]]
fault = "hang"
timeout = 8
""")
    run = _run(path, tmp_path)
    recs = {r["settings"]["fault"]: r for r in run.records()}
    assert set(recs) == {"none", "crash", "hang", "error", "exit"}
    assert recs["none"]["status"] == "ok"
    m = recs["none"]["metrics"]
    assert len(m["epochs"]) == 2 and 0.0 <= m["test_acc"] <= 1.0
    assert m["first_epoch_s"] > 0 and m["steady_epoch_s"] > 0 and m["peak_rss_mb"] > 0
    assert recs["crash"]["status"] == "crashed" and recs["crash"]["signal"] == "SIGSEGV"
    assert recs["hang"]["status"] == "timeout" and "timed out after 8" in recs["hang"]["error"]
    assert recs["error"]["status"] == "error" and "injected error" in recs["error"]["error"]
    assert "RuntimeError" in recs["error"]["log_tail"]
    assert recs["exit"]["status"] == "crashed" and recs["exit"]["exit_code"] == 3
    meta = run.meta()
    assert meta["suite"]["name"] == "t" and len(meta["cells"]) == 5 and meta["machine"]["cpu_count"] >= 1

    import rnnbench

    df = rnnbench.load_results(run.path)
    assert len(df) == 5 and set(df["status"]) == {"ok", "crashed", "timeout", "error"}
    ok = df[df["status"] == "ok"].iloc[0]
    assert ok["fault"] == "none" and ok["params_total"] > 0 and 0 <= ok["test_acc"] <= 1


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "results.jsonl"
    append_record(p, {"key": "a", "status": "ok"})
    with open(p, "a") as f:
        f.write('{"key": "b", "sta')
    with pytest.warns(UserWarning, match="incomplete record"):
        assert [r["key"] for r in read_records(p)] == ["a"]


def test_resume_refuses_a_changed_suite(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE + '[matrix]\narch = ["gru"]\n')
    suite = load_suite(path)
    run = start_run(suite, root=tmp_path / "runs")
    path.write_text(path.read_text().replace('["gru"]', '["gru", "lstm"]'))
    with pytest.raises(UserError, match="suite changed"):
        reopen_run(str(run.path), load_suite(path))


def test_sigkill_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE + '[matrix]\nseed = [1, 2, 3, 4]\n')
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "rnnbench", "run", str(path), "-q", "--no-report", "-o", str(runs)]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True)
    results = _first_record(runs)
    assert results is not None, "no cell finished in time"
    workers = _workers(results.parent)  # the next cell's, if it has started
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = [r["key"] for r in read_records(results)]
    assert 1 <= len(before) < 4
    # the worker got SIGKILL through its parent-death signal: none is left to write into the run
    assert not _still_alive_after(workers, 30), "a worker outlived its SIGKILLed runner"
    assert not _workers(results.parent)
    out = subprocess.run([*cmd[:4], "--resume", str(results.parent), "-q", "--no-report"], cwd=REPO,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    after = [r["key"] for r in read_records(results)]
    assert after[: len(before)] == before
    assert len(after) == 4 and len(set(after)) == 4
    assert all(r["status"] == "ok" for r in read_records(results))


def test_sigkill_of_the_runner_takes_its_worker_with_it(tmp_path: Path) -> None:
    """A hanging cell's worker would run for its whole timeout: only the parent-death signal ends it."""
    path = write_suite(tmp_path, FAKE + 'timeout = 600\n[matrix]\nfault = ["hang"]\n')
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "rnnbench", "run", str(path), "-q", "--no-report", "-o", str(runs)],
                            cwd=REPO, start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not workers and time.monotonic() < deadline and proc.poll() is None:
            workers = [pid for run in runs.glob("*") for pid in _workers(run)]
            time.sleep(0.1)
        assert len(workers) == 1, f"expected the hanging cell's worker, found {workers}"
        os.kill(proc.pid, signal.SIGKILL)  # the runner only: the worker is in its own session
        proc.wait()
        left = _still_alive_after(workers, 30)
        assert not left, f"worker {left} still running 30 s after its runner was SIGKILLed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_resolve_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path))
    with pytest.raises(UserError, match="no runs"):
        resolve_run("latest")
    path = write_suite(tmp_path, FAKE + '[matrix]\narch = ["gru"]\n')
    run = start_run(load_suite(path))
    assert resolve_run("latest").path == run.path
    assert resolve_run(run.run_id).path == run.path
    assert json.loads(run.run_json.read_text())["suite"]["fingerprint"]


def test_ctrl_c_keeps_finished_cells_and_says_how_to_resume(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE + '[matrix]\nseed = [1, 2, 3, 4]\n')
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "rnnbench", "run", str(path), "--no-report", "-o", str(runs)],
                            cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    results = _first_record(runs)
    if results is None:
        proc.kill()
        proc.communicate()
    assert results is not None, "no cell finished in time"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rnnbench run --resume" in err and "Traceback" not in err
    recs = read_records(results)
    assert 1 <= len(recs) < 4 and all(r["status"] == "ok" for r in recs)
    assert not _workers(results.parent), "no worker of the interrupted run is left running"


def test_a_ctrl_c_between_fork_and_exec_prints_no_traceback(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the child too while it is still in the parent's process
    # group (between fork and setsid). Python code run there (a preexec_fn, at-fork hooks)
    # raised KeyboardInterrupt inside the forked copy and printed a traceback into the run's
    # terminal (seen in CI). This hook stands for that Ctrl-C, landing in every fork's child.
    code = """
import os, signal, sys
from pathlib import Path
from rnnbench.executors.local import run_cell_process
from rnnbench.suite import Cell, CellSettings
os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))
cell = Cell(CellSettings(backend="fake", threads=1, epochs=1, train_size=64, test_size=32, maxlen=20,
                         num_words=200, batch_size=32, warmup_steps=0))
print(run_cell_process(cell, Path(sys.argv[1]), "run")["status"])
"""
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, preexec_fn=interruptible)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr


def test_sigterm_stops_cleanly_like_ctrl_c_with_exit_143(tmp_path: Path) -> None:
    """``kill PID`` (a CI cancel, a scheduler) reaches the runner only: it must still kill its
    cell's worker, keep what finished, say how to resume, and exit 128 + SIGTERM."""
    path = write_suite(tmp_path, FAKE + '[matrix]\nseed = [1, 2, 3, 4]\n')
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "rnnbench", "run", str(path), "--no-report", "-o", str(runs)]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    results = _first_record(runs)
    if results is None:
        proc.kill()
        proc.communicate()
    assert results is not None, "no cell finished in time"
    workers = _workers(results.parent)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "rnnbench run --resume" in err and "Traceback" not in err
    assert not _still_alive_after(workers, 10), "the running cell's worker outlived a SIGTERMed runner"
    before = [r["key"] for r in read_records(results)]
    assert 1 <= len(before) < 4
    out = subprocess.run([*cmd[:4], "--resume", str(results.parent), "-q", "--no-report"], cwd=REPO,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    after = [r["key"] for r in read_records(results)]
    assert after[: len(before)] == before and sorted(set(after)) == sorted(after) and len(after) == 4


def test_two_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    import threading

    path = write_suite(tmp_path, FAKE + '[matrix]\narch = ["gru"]\n')
    suite = load_suite(path)
    got: list[Path] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            got.append(start_run(suite, root=tmp_path / "runs", run_id="same-second").path)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(got)) == 8 and all((p / "run.json").exists() for p in got)


@pytest.mark.slow  # a run to a file-size limit and its resume: ~17 s
def test_a_file_size_limit_mid_run_is_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (``ulimit -f``) stands in for a disk that fills up during the run: the
    results store stops growing at 64 KiB. The write fails with EFBIG (Python ignores SIGXFSZ), the
    user gets one line saying what was kept and how to go on, and the resumed run completes
    with every cell once."""
    import resource

    path = write_suite(tmp_path, FAKE + "[matrix]\nseed = [" + ", ".join(str(i) for i in range(1, 26)) + "]\n")
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "rnnbench", "run", str(path), "-q", "--no-report", "-o", str(runs)]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert out.returncode == 2, out.stderr
    assert "File too large" in out.stderr and "every record before it is kept" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    (run,) = runs.iterdir()
    kept = [r["key"] for r in read_records(run / "results.jsonl")]
    assert 1 <= len(kept) < 25
    done = subprocess.run([*cmd[:4], "--resume", str(run), "-q", "--no-report"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    keys = [r["key"] for r in read_records(run / "results.jsonl")]
    assert keys[: len(kept)] == kept and len(keys) == 25 and len(set(keys)) == 25


def test_resume_keeps_the_keys_of_a_run_made_before_a_setting_existed(tmp_path: Path) -> None:
    """A run started by an rnnbench that lacked a setting gave its cells other keys; resuming it
    with this one must still find every finished cell (else it runs them all again)."""
    from rnnbench.identity import digest

    path = write_suite(tmp_path, FAKE + '[matrix]\nseed = [1, 2]\n')
    suite = load_suite(path)
    run = start_run(suite, root=tmp_path / "runs")
    meta = json.loads(run.run_json.read_text())
    old_keys = []
    for c in meta["cells"]:  # as an rnnbench without memory_limit_mb wrote them
        del c["settings"]["memory_limit_mb"]
        c["key"] = "gru-fake-" + digest({**c["settings"], "_repeat": c["repeat"]})
        old_keys.append(c["key"])
    meta["suite"]["fingerprint"] = digest(old_keys)
    run.run_json.write_text(json.dumps(meta))
    for c, key in zip(meta["cells"], old_keys):
        append_record(run.results, {"schema": 1, "key": key, "status": "ok", "settings": c["settings"],
                                    "repeat": c["repeat"], "label": "GRU / fake", "metrics": {}})
    _, reopened = reopen_run(str(run.path), load_suite(path))  # the suite given again, as with --resume
    assert [c.key for c in reopened.cells] == old_keys
    assert execute(reopened, run, QuietProgress()).ran == 0  # nothing left to run


def test_jobs_run_cells_side_by_side_on_cores_of_their_own(tmp_path: Path) -> None:
    from datetime import datetime

    from typer.testing import CliRunner

    from rnnbench.cli import app

    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.skip("--jobs 2 needs 2 cores")
    path = write_suite(tmp_path, FAKE + '[matrix]\nseed = [1, 2, 3, 4]\n')
    runs = tmp_path / "runs"
    res = CliRunner().invoke(app, ["run", str(path), "-q", "-o", str(runs), "--jobs", "2", "--no-report"])
    assert res.exit_code == 0, res.output
    (run,) = runs.iterdir()
    recs = read_records(run / "results.jsonl")
    assert len(recs) == 4 and all(r["status"] == "ok" for r in recs)
    assert all(r["parallel"]["jobs"] == 2 and r["settings"]["threads"] == cores // 2 for r in recs)
    assert {tuple(r["parallel"]["cpus"]) for r in recs} == {tuple(range(cores // 2)), tuple(range(cores // 2, cores))}
    spans = [(datetime.fromisoformat(r["started"]), datetime.fromisoformat(r["finished"])) for r in recs]
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1:]), spans  # overlapped
    out = CliRunner().invoke(app, ["report", str(run), "-f", "md", "-o", str(tmp_path / "rep")])
    assert out.exit_code == 0, out.output
    assert "cells ran 2 at a time" in next((tmp_path / "rep").rglob("report.md")).read_text()
    too_many = CliRunner().invoke(app, ["run", str(path), "-q", "-o", str(runs), "--jobs", str(cores + 1),
                                        "--set", "threads=1"])
    assert too_many.exit_code == 2 and f"--jobs {cores + 1}" in too_many.output, too_many.output
