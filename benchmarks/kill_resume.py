"""Crash consistency: SIGKILL ``rnnbench run`` at random moments, resume, and count what survived.

Each round starts ``rnnbench run`` on a suite of quick cells (or ``--resume``s the run it left),
lets it work for a random 0.05-4 s (long enough, often, for a cold start to finish a cell), and kills the runner with SIGKILL — mid-cell, mid-append,
mid-startup, wherever it is. After every kill the store is read back and checked against every
record ever seen in it: a record once complete must never disappear (lost), no cell may be
recorded twice (duplicates), the file must always be readable (unreadable stores) and every
killed run must resume (unresumable runs). When a run completes, a new one starts. Prints the
totals; exit 1 if any of the four is not 0.

    python benchmarks/kill_resume.py --kills 200          # the full check (~10 minutes)
    python benchmarks/kill_resume.py --kills 20 --seed 1  # what the default tests run

The cells use the ``fake`` backend (numpy logistic regression): the store, the runner, the
worker processes and the kills are all real; only the training is cheap, so that 200 kills
land in every phase of a cell's life, not mostly inside one long training step.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUITE = """name = "kill"
[defaults]
backend = "fake"
dataset = "sample"
epochs = 2
train_size = 256
test_size = 64
[matrix]
seed = [{seeds}]
"""


@dataclass
class Tally:
    kills: int = 0
    runs_completed: int = 0
    cells_finished: int = 0  # distinct records seen complete in a store, over all runs
    cells_found: int = 0  # of those, present in the store at the end
    duplicates: int = 0
    lost: int = 0
    unreadable: int = 0
    unresumable: int = 0  # a killed run whose --resume then failed (e.g. a half-made run folder)
    errors: list[str] = field(default_factory=list)  # what those said

    def ok(self) -> bool:
        return self.duplicates == self.lost == self.unreadable == self.unresumable == 0

    def line(self) -> str:
        return (f"kills {self.kills}, runs completed {self.runs_completed}, cells finished {self.cells_finished}, "
                f"found after resume {self.cells_found}, duplicates {self.duplicates}, lost {self.lost}, "
                f"unreadable stores {self.unreadable}, unresumable runs {self.unresumable}"
                + (f" ({'; '.join(self.errors[:3])})" if self.errors else ""))


def _keys(results: Path, tally: Tally) -> list[str] | None:
    from rnnbench.results import read_records

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a torn last line is expected after a kill
            return [r["key"] for r in read_records(results)]
    except Exception:  # noqa: BLE001 - any failure to read is what this script counts
        tally.unreadable += 1
        return None


def kill_loop(kills: int, workdir: Path, seed: int = 0, cells: int = 6, max_wait: float = 4.0,
              python: str = sys.executable) -> Tally:
    rng = random.Random(seed)
    suite = workdir / "kill.toml"
    suite.write_text(SUITE.format(seeds=", ".join(str(i) for i in range(cells))), encoding="utf-8")
    runs = workdir / "runs"
    tally = Tally()
    seen: dict[str, set[str]] = {}  # run folder -> keys ever seen complete there
    current: Path | None = None
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    while tally.kills < kills:
        cmd = [python, "-m", "rnnbench", "run", "-q", "--no-report", "-o", str(runs)]
        cmd += ["--resume", str(current)] if current else [str(suite)]
        before = set(runs.iterdir()) if runs.exists() else set()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        try:
            err = proc.communicate(timeout=rng.uniform(0.05, max_wait))[1].decode(errors="replace")
            finished = True
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)  # the runner only: its worker follows by PR_SET_PDEATHSIG
            proc.communicate()
            tally.kills += 1
            finished = False
        if current is None:
            new = sorted(p for p in set(runs.iterdir()) - before if not p.name.startswith(".")) \
                if runs.exists() else []  # a kill inside start_run leaves a hidden .starting-* folder
            if not new:
                continue  # killed before it made its run folder: nothing to resume
            current = new[0]
        keys = _keys(current / "results.jsonl", tally)
        if keys is not None:
            had = seen.setdefault(str(current), set())
            tally.lost += len(had - set(keys))
            tally.duplicates += len(keys) - len(set(keys))
            had |= set(keys)
        if finished and proc.returncode == 0:
            tally.runs_completed += 1
            if keys is not None and len(set(keys)) != cells:
                tally.lost += cells - len(set(keys))
            current = None  # start a fresh run next round
        elif finished:  # it exited by itself, and not well: the run cannot be continued
            tally.unresumable += 1
            tally.errors.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
            current = None
    time.sleep(0.5)  # let the last killed worker's parent-death signal land
    for run, had in seen.items():
        keys = _keys(Path(run) / "results.jsonl", tally) or []
        tally.cells_finished += len(had)
        tally.cells_found += len(had & set(keys))
    return tally


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cells", type=int, default=6, help="cells per run")
    ap.add_argument("--max-wait", type=float, default=4.0, help="longest a round runs before its kill (s)")
    ap.add_argument("--keep", type=Path, help="work in this folder (kept) instead of a temporary one")
    args = ap.parse_args()
    t0 = time.time()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        tally = kill_loop(args.kills, args.keep, args.seed, args.cells, args.max_wait)
    else:
        with tempfile.TemporaryDirectory() as d:
            tally = kill_loop(args.kills, Path(d), args.seed, args.cells, args.max_wait)
    print(f"{tally.line()} ({time.time() - t0:.0f} s)")
    sys.exit(0 if tally.ok() else 1)


if __name__ == "__main__":
    main()
