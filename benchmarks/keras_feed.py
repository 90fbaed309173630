"""Keras-TensorFlow: do the steps cost the same fed by arrays (Keras's own tf.data pipeline,
autotuning on) and by rnnbench's dataset (autotuning off)? And where does the epoch's wall go?

One process, one model (the ``rnnbench`` GRU cell of ``benchmarks/epoch_gap.py``: 64 units,
batch 64, 32 steps an epoch, the embedded IMDB sample), epochs alternating between the two
feeds (ABAB..., so a slow period hits both alike). For each epoch: the sum of its step
times (clocked in ``on_train_batch_end`` after the loss is read) and its wall time around
``fit``. Prints the medians per feed and the ratio of summed steps (dataset / arrays).

    python benchmarks/keras_feed.py [--threads 1] [--epochs 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=16, help="epochs per feed (after one warm-up each)")
    ap.add_argument("--steps", type=int, default=32)
    args = ap.parse_args()
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(args.threads)
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.threads]))

    from rnnbench.backends.keras_backend import KerasBackend
    from rnnbench.data import load_dataset
    from rnnbench.suite import CellSettings
    from rnnbench.worker import data_spec

    s = CellSettings(backend="keras-tensorflow", arch="gru", dataset="sample", num_words=10000, maxlen=200,
                     embedding_dim=64, units=64, batch_size=64, threads=args.threads, seed=0)
    data = load_dataset(data_spec(s))
    backend = KerasBackend(s)
    backend.build(data.vocab_size)
    n = args.steps * s.batch_size
    x, y = data.x_train[:n], data.y_train[:n]
    fed_by_dataset = backend._feed  # rnnbench's feed (a tf.data dataset, autotuning off)

    def arrays(xs, ys, batch_size):  # what Keras gets when given arrays: its own pipeline
        import numpy as np

        if ys is None:
            return (np.asarray(xs, dtype="int32"), batch_size)
        return (np.asarray(xs, dtype="int32"), np.asarray(ys, dtype="float32"), batch_size)

    figures: dict[str, list[tuple[float, float]]] = {"arrays": [], "dataset": []}
    for i in range(2 * (args.epochs + 1)):
        name = "arrays" if i % 2 == 0 else "dataset"
        backend._feed = arrays if name == "arrays" else fed_by_dataset
        steps: list[float] = []
        last = time.perf_counter()
        start = last

        def on_step() -> None:
            nonlocal last
            now = time.perf_counter()
            steps.append(now - last)
            last = now

        backend.train_epoch(x, y, s.batch_size, on_step, None)
        wall = time.perf_counter() - start
        if i >= 2:  # one warm-up epoch per feed
            figures[name].append((sum(steps), wall))
    print(f"keras-tensorflow, threads={args.threads}, {args.steps} steps an epoch, {args.epochs} epochs per feed")
    print(f"{'feed':8} {'median steps_s':>15} {'median wall_s':>14} {'max wall-steps_s':>17}")
    for name, rows in figures.items():
        print(f"{name:8} {statistics.median(r[0] for r in rows):15.3f} {statistics.median(r[1] for r in rows):14.3f} "
              f"{max(r[1] - r[0] for r in rows):17.3f}")
    ratios = [d[0] / a[0] for a, d in zip(figures["arrays"], figures["dataset"])]
    print(f"summed steps, dataset / arrays (epoch pairs): median {statistics.median(ratios):.3f}, "
          f"range {min(ratios):.3f}-{max(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
