"""Two runs on the same reports folder and data cache at once, and a report while a run writes.

Neither run corrupts or waits for the other (each claims its own run folder by an atomic
rename; caches are written under temporary names and moved into place), and a ``report`` of a
run that is still appending reads the finished records and never fails with a traceback."""

from __future__ import annotations

import pytest

import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import REPO, write_suite
from rnnbench.results import read_records

FAKE = """
[defaults]
backend = "fake"
dataset = "sample"
epochs = 2
train_size = 256
test_size = 64
[matrix]
seed = [1, 2, 3, 4, 5, 6]
"""


@pytest.mark.slow  # two real runs at once: ~8 s
def test_two_runs_at_once_and_reports_while_they_write(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE)
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    env_home = {"RNNBENCH_HOME": str(tmp_path / "home")}  # one fresh data cache, shared by both runs
    env = {**os.environ, **env_home}
    cmd = [sys.executable, "-m", "rnnbench", "run", str(path), "-q", "--no-report", "-o", str(runs)]
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    reported: list[tuple[int, str]] = []
    deadline = time.monotonic() + 240
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        for run in sorted(runs.glob("[0-9]*")) if runs.exists() else []:
            out = subprocess.run([sys.executable, "-m", "rnnbench", "report", str(run), "-f", "md", "-o",
                                  str(reports)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
            reported.append((out.returncode, out.stderr))
        time.sleep(0.2)
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    folders = sorted(r for r in runs.iterdir() if not r.name.startswith("."))
    assert len(folders) == 2, folders  # two runs, two folders, even if started in the same second
    for run in folders:
        keys = [r["key"] for r in read_records(run / "results.jsonl")]
        assert len(keys) == 6 and len(set(keys)) == 6
        assert all(r["status"] == "ok" for r in read_records(run / "results.jsonl"))
    assert reported, "no report ran while the runs were writing"
    for code, err in reported:  # ok, or one line (e.g. no finished cell yet): never a traceback
        assert code in (0, 2) and "Traceback" not in err, err
    assert any(code == 0 for code, _ in reported)
