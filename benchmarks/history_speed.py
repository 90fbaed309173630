"""How fast the history store takes and gives runs (issue 25): prints figures, asserts nothing.

Goals: ingest 1,000 runs in ≤ 30 s; ``history show`` over 10,000 stored runs in ≤ 1 s.

The runs are copies of a committed study (reports/gru-vs-lstm: 12 records, 6 cells, 42 cell
figures a run), each with its own id and creation time, ingested through the same code as
``rnnbench history ingest`` in one call. For the show figure the store is grown to 10,000 runs
the same way, then ``rnnbench history show`` runs as a user would run it (a fresh process,
its start-up included, and again in-process without it)::

    python benchmarks/history_speed.py [--runs 1000] [--show-runs 10000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "reports" / "gru-vs-lstm"


def make_copies(root: Path, start: int, n: int) -> list[str]:
    meta = json.loads((SOURCE / "run.json").read_text())
    out = []
    for i in range(start, start + n):
        dst = root / f"run-{i:05d}"
        dst.mkdir(parents=True)
        shutil.copy(SOURCE / "results.jsonl", dst / "results.jsonl")
        m = dict(meta, run_id=f"{meta['run_id']}-{i:05d}")
        (dst / "run.json").write_text(json.dumps(m))
        out.append(str(dst))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--show-runs", type=int, default=10000)
    ap.add_argument("--db", default=None, help="a store URL (default: a new SQLite file)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from rnnbench.history.ingest import ingest_runs

    tmp = Path(tempfile.mkdtemp(prefix="rnnbench-hist-"))
    db = args.db or f"sqlite:///{tmp / 'history.sqlite'}"
    try:
        refs = make_copies(tmp / "runs", 0, args.runs)
        t0 = time.perf_counter()
        done = ingest_runs(db, refs, branch="main")
        took = time.perf_counter() - t0
        print(f"ingest: {len(done)} runs ({sum(d.measurements for d in done)} cell figures) in {took:.1f} s "
              f"({took / len(done) * 1e3:.1f} ms a run; goal ≤ 30 s for 1,000)", flush=True)
        stored = args.runs
        while stored < args.show_runs:
            n = min(2000, args.show_runs - stored)
            batch = make_copies(tmp / f"more-{stored}", stored, n)
            ingest_runs(db, batch, branch="main")
            shutil.rmtree(tmp / f"more-{stored}")
            stored += n
        from rnnbench.history.show import show

        t0 = time.perf_counter()
        rows = show(db)
        inproc = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "rnnbench", "history", "show", "--db", db], cwd=REPO,
                             capture_output=True, text=True, check=True)
        whole = time.perf_counter() - t0
        print(f"show over {stored} runs: {len(rows)} series; {inproc:.2f} s in-process, {whole:.2f} s as a command "
              f"(its start-up included; {len(res.stdout.splitlines())} lines); goal ≤ 1 s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
