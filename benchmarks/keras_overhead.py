"""Does rnnbench's Keras adapter add per-step overhead? (rnnbench vs hand-written Keras)

Runs the same cell three ways, each in its own process with the environment rnnbench gives a
cell (:func:`rnnbench.cellenv.cell_environment`: threads, ``KERAS_BACKEND``):

* ``rnnbench``: :class:`~rnnbench.backends.keras_backend.KerasBackend` timed by
  :func:`rnnbench.measure.run_protocol` — what ``python -m rnnbench.worker`` does, minus loading
  the data set (random ids here);
* ``fit``: a plain Keras model written by hand, one ``model.fit`` epoch, timed by a callback's
  ``on_train_batch_end`` (no forced sync);
* ``train_on_batch``: the same plain model, a Python loop of ``model.train_on_batch``.

IMDB-shaped data: vocabulary 20,000, maxlen 200, embedding 128, 128 units, batch 64. Prints
each way's steady step (median of the steps after ``--warmup``) and the ratios. Short by
default (40 steps each): ``python benchmarks/keras_overhead.py [--arch gru] [--steps 40]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOCAB, MAXLEN, EMB, UNITS, BATCH = 20000, 200, 128, 128, 64
MODES = ("rnnbench", "fit", "train_on_batch")


def _settings(args: argparse.Namespace) -> Any:
    from rnnbench.suite import CellSettings

    return CellSettings(
        arch=args.arch, backend=args.backend, units=UNITS, embedding_dim=EMB, batch_size=BATCH,
        epochs=1, max_steps_per_epoch=args.steps, warmup_steps=args.warmup, eval_batch_size=BATCH,
        num_words=VOCAB, maxlen=MAXLEN, seed=0, threads=args.threads,
    )


def _data(steps: int) -> tuple[Any, Any, Any, Any]:
    import numpy as np

    rng = np.random.RandomState(0)
    x = rng.randint(0, VOCAB, size=(steps * BATCH, MAXLEN)).astype("int32")
    y = rng.randint(0, 2, size=(steps * BATCH,)).astype("float32")
    return x, y, x[:BATCH], y[:BATCH]


def child(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    x, y, xt, yt = _data(args.steps)
    if mode == "rnnbench":
        from types import SimpleNamespace

        from rnnbench.backends.base import ensure_available
        from rnnbench.measure import run_protocol

        s = _settings(args)
        backend = ensure_available(s.backend).load()(s)
        data = SimpleNamespace(x_train=x, y_train=y, x_test=xt, y_test=yt, vocab_size=VOCAB,
                               source="random", source_sha256="")
        clocked = _CpuClocked(backend)
        m = run_protocol(s, clocked, data)
        return {"steps": m["step_times_s"][0], "cpu": clocked.cpu, "kernel": backend.describe()["kernel"]}

    import keras

    keras.utils.set_random_seed(0)
    layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "rnn": keras.layers.SimpleRNN}[args.arch]
    model = keras.Sequential([
        keras.Input(shape=(MAXLEN,), dtype="int32"),
        keras.layers.Embedding(VOCAB, EMB),
        layer(UNITS),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    times: list[float] = []
    cpu: list[float] = []
    if mode == "fit":
        class Clock(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
                if batch == 0:
                    self.last, self.last_cpu = time.perf_counter(), time.process_time()

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                now, now_cpu = time.perf_counter(), time.process_time()
                times.append(now - self.last)
                cpu.append(now_cpu - self.last_cpu)
                self.last, self.last_cpu = now, now_cpu

        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[Clock()])
    else:
        for i in range(0, len(x), BATCH):
            t0, c0 = time.perf_counter(), time.process_time()
            model.train_on_batch(x[i:i + BATCH], y[i:i + BATCH])
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {"steps": times, "cpu": cpu}


class _CpuClocked:
    """Passes everything to the backend; also records the process's CPU time per step."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cpu: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def train_epoch(self, x: Any, y: Any, batch_size: int, on_step: Any, max_steps: Any) -> float:
        last = [time.process_time()]

        def tick() -> None:
            now = time.process_time()
            self.cpu.append(now - last[0])
            last[0] = now
            on_step()

        return self.inner.train_epoch(x, y, batch_size, tick, max_steps)


def _spawn(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    from rnnbench.cellenv import cell_environment

    env = cell_environment(_settings(args))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", mode, "--arch", args.arch, "--backend", args.backend,
           "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{mode} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="gru", choices=("gru", "lstm", "rnn"))
    ap.add_argument("--backend", default="keras-tensorflow",
                    choices=("keras-tensorflow", "keras-jax", "keras-torch"))
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=1, help="rounds of the three processes (order rotates)")
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args)))
        return 0

    samples: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    first: dict[str, list[float]] = {m: [] for m in MODES}
    kernel = ""
    for r in range(args.repeats):
        order = MODES[r % 3:] + MODES[:r % 3]
        for mode in order:
            res = _spawn(mode, args)
            samples[mode] += res["steps"][args.warmup:]
            cpu[mode] += res["cpu"][args.warmup:]
            first[mode].append(res["steps"][0])
            kernel = res.get("kernel", kernel)
    med = {m: statistics.median(v) for m, v in samples.items()}
    med_cpu = {m: statistics.median(v) for m, v in cpu.items()}
    print(f"{args.arch.upper()} on {args.backend}, batch {BATCH}, maxlen {MAXLEN}, emb {EMB}, units {UNITS}; "
          f"{args.steps} steps per process, {args.warmup} warm-up steps dropped, {args.repeats} round(s)")
    print(f"kernel (rnnbench describe): {kernel}")
    print("steady step, median over steps (wall = what rnnbench reports; CPU = the process's CPU time, "
          "all threads — steadier when other work shares the cores):")
    for m in MODES:
        v = samples[m]
        print(f"  {m:<15} wall {med[m] * 1e3:7.1f} ms (mean {statistics.fmean(v) * 1e3:7.1f})  "
              f"CPU {med_cpu[m] * 1e3:7.1f} ms  (n={len(v)}; first step {statistics.median(first[m]):.2f} s)")
    for ref in ("fit", "train_on_batch"):
        print(f"  ratio rnnbench / {ref:<15} wall {med['rnnbench'] / med[ref]:.3f}   "
              f"CPU {med_cpu['rnnbench'] / med_cpu[ref]:.3f}")
    worst = max(med["rnnbench"] / med[ref] for ref in ("fit", "train_on_batch"))
    worst_cpu = max(med_cpu["rnnbench"] / med_cpu[ref] for ref in ("fit", "train_on_batch"))
    print(f"  within 5%: wall {'yes' if worst <= 1.05 else 'NO'}, CPU {'yes' if worst_cpu <= 1.05 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
