"""Does an epoch's wall time agree with the sum of its step times, on every backend?

Runs GRU cells (64 units, batch 64, 32 steps an epoch, on the IMDB sample embedded in the
package) for each backend × thread count through ``rnnbench run`` — one process per cell, as
a user's run — and prints, for every epoch, its wall time, the sum of its step times and the
gap between them (the wall time outside the steps: the framework's per-epoch set-up and
tear-down). An epoch padded by a wait that is not training (the Keras-TensorFlow tf.data
stall, issue 29) shows as a gap of seconds; a healthy epoch's gap is a few milliseconds.

    python benchmarks/epoch_gap.py [--backends torch,keras-tensorflow,keras-jax,keras-torch]
        [--threads 1,2] [--epochs 4] [--steps 32] [-o DIR]
    python benchmarks/epoch_gap.py --scan reports/*/results.jsonl reports/*/runs/*/results.jsonl

Reads the run's ``results.jsonl``; prints one row per cell × epoch and, per cell, the largest
gap after the first epoch as a percentage of the epoch's wall time. ``--scan`` runs nothing:
it prints, for each cell of the given (committed) results, its steady epoch time beside the
median summed steps of the same epochs, and the largest gap — which studies the stall touched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = """name = "epoch-gap"
description = "epoch wall time against summed step times (benchmarks/epoch_gap.py)"
[defaults]
dataset = "sample"
arch = "gru"
num_words = 10000
maxlen = 200
embedding_dim = 64
units = 64
batch_size = 64
epochs = {epochs}
max_steps_per_epoch = {steps}
warmup_steps = 2
learning_rate = 0.003
seed = 0
timeout = 900
[matrix]
backend = {backends}
threads = {threads}
"""


def scan(paths: list[Path]) -> int:
    """Per cell of each results file: steady epoch (wall) against the median summed steps of the
    same epochs, and the worst gap after the first epoch (lockstep ab records are skipped: their
    walls hold the partner's turns)."""
    import statistics

    print(f"{'results':58} {'cell':28} {'epoch_s':>8} {'steps_s':>8} {'worst gap':>10}")
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            m = rec.get("metrics") or {}
            walls = [e["wall_s"] for e in m.get("epochs") or []]
            sums = [sum(s) for s in m.get("step_times_s") or []]
            if rec.get("status") != "ok" or len(walls) < 2 or len(sums) != len(walls) or rec.get("ab"):
                continue
            gaps = [(w - t) / w for w, t in zip(walls[1:], sums[1:])]
            print(f"{str(path)[-58:]:58} {rec['label'][:28]:28} {statistics.median(walls[1:]):8.2f} "
                  f"{statistics.median(sums[1:]):8.2f} {100 * max(gaps):9.1f}%")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="torch,keras-tensorflow,keras-jax,keras-torch")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("-o", "--output", type=Path, default=None, help="runs folder (default: a temporary one)")
    ap.add_argument("--scan", nargs="+", type=Path, help="results.jsonl files to check instead of running")
    args = ap.parse_args()
    if args.scan:
        return scan(args.scan)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    threads = [int(t) for t in args.threads.split(",")]
    out = args.output or Path(tempfile.mkdtemp(prefix="epoch-gap-"))
    out.mkdir(parents=True, exist_ok=True)
    suite = out / "epoch-gap.toml"
    suite.write_text(SUITE.format(epochs=args.epochs, steps=args.steps, backends=json.dumps(backends),
                                  threads=json.dumps(threads)), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "rnnbench", "run", str(suite), "-o", str(out), "--no-report", "-q"],
                   check=True)
    results = max(out.glob("*/results.jsonl"), key=lambda p: p.stat().st_mtime)
    print(f"{'backend':18} {'thr':>3} {'epoch':>5} {'wall_s':>8} {'steps_s':>8} {'gap_s':>7} {'gap%':>6}")
    for line in results.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        s, m = rec["settings"], rec.get("metrics") or {}
        if rec.get("status") != "ok":
            print(f"{s['backend']:18} {s.get('threads')!s:>3} {rec.get('status')}: {rec.get('error', '')[:80]}")
            continue
        worst = 0.0
        for ep, steps in zip(m["epochs"], m["step_times_s"]):
            wall, summed = ep["wall_s"], sum(steps)
            gap = wall - summed
            if ep["epoch"] > 1:
                worst = max(worst, gap / wall)
            print(f"{s['backend']:18} {s.get('threads')!s:>3} {ep['epoch']:>5} {wall:8.3f} {summed:8.3f} "
                  f"{gap:7.3f} {100 * gap / wall:6.1f}")
        print(f"{'':18} {'':>3} worst gap after the first epoch: {100 * worst:.1f}% of the epoch's wall time")
    print(f"results: {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
