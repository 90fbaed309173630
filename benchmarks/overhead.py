"""Does rnnbench add per-step overhead? The same cell through rnnbench and hand-written loops.

Each way runs in its own process with the environment rnnbench gives a cell
(:func:`rnnbench.cellenv.cell_environment`: threads, ``KERAS_BACKEND``):

* ``rnnbench``: the backend adapter driven by :func:`rnnbench.measure.run_protocol` — what
  ``python -m rnnbench.worker`` does, minus loading the data set (random ids here); its
  step clock stops after the harness's own ``on_step`` work, so that cost is counted;
* ``--backend torch``: ``plain``, a hand-written PyTorch loop (Embedding → nn.GRU/LSTM/RNN
  → Linear, BCEWithLogits, Adam, ``loss.item()`` per step);
* ``--backend keras-*``: ``fit``, a plain Keras model written by hand, one ``model.fit``
  epoch, clocked in a callback's ``on_train_batch_end``; and ``train_on_batch``, the same
  plain model in a Python loop of ``model.train_on_batch``.

IMDB-shaped data: vocabulary 20,000, maxlen 200, embedding 128, 128 units, batch 64.

**Lockstep.** The machine this was written on has 2 cores shared with other people's work,
and run-to-run noise there (±20%) dwarfs a 5% question. So the three processes run at the
same time but take turns, one training step each: a process waits for a token from this
parent before each step and hands it back after, so exactly one of them computes at any
moment and slow periods hit all three alike. Each child clocks its own steps from the
moment it gets the token to the end of the step (for ``rnnbench``, at the ``on_step``
calls the harness times; its protocol's own clock would include the waits, so it is not
used here). Prints the steady step (median after ``--warmup``) of each and the ratios.

    python benchmarks/overhead.py --backend torch [--arch gru] [--steps 40] [--threads N]
    python benchmarks/overhead.py --backend keras-tensorflow [--arch gru]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
VOCAB, MAXLEN, EMB, UNITS, BATCH = 20000, 200, 128, 128, 64
KERAS_REFS = ("fit", "train_on_batch")


def refs_for(backend: str) -> tuple[str, ...]:
    return ("plain",) if backend == "torch" else KERAS_REFS


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


class Turns:
    """The child's side of the lockstep: ``start()`` waits for the token and starts the
    clocks; ``stop()`` records the step and hands the token back."""

    def __init__(self, fd_in: int | None, fd_out: int | None, total: int) -> None:
        self.fd_in, self.fd_out, self.total = fd_in, fd_out, total
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.t0 = self.c0 = 0.0

    def start(self) -> None:
        if self.fd_out is not None:
            os.write(self.fd_out, b"r")  # ready (and: the previous step is done)
            if os.read(self.fd_in, 1) != b"g":  # type: ignore[arg-type]
                raise SystemExit("lockstep: parent went away")
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def stop(self) -> None:
        self.wall.append(time.perf_counter() - self.t0)
        self.cpu.append(time.process_time() - self.c0)

    def step_done(self) -> None:
        """After a step: record it, then wait for the next turn (unless it was the last)."""
        self.stop()
        if len(self.wall) < self.total:
            self.start()


class _Clocked:
    """Passes everything to the backend, clocking each step between ``on_step`` calls."""

    def __init__(self, inner: Any, turns: Turns) -> None:
        self.inner, self.turns = inner, turns

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def train_epoch(self, x: Any, y: Any, batch_size: int, on_step: Callable[[], None], max_steps: Any) -> float:
        def tick() -> None:
            on_step()  # the harness's own clock (includes the lockstep waits: not used here)
            self.turns.stop()
            if len(self.turns.wall) < self.turns.total:
                self.turns.start()

        self.turns.start()
        return self.inner.train_epoch(x, y, batch_size, tick, max_steps)


def child(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    turns = Turns(args.fd_in, args.fd_out, args.steps)
    x, y, xt, yt = _data(args.steps)
    if mode == "rnnbench":
        from types import SimpleNamespace

        from rnnbench.backends.base import ensure_available
        from rnnbench.measure import run_protocol

        s = _settings(args)
        backend = ensure_available(s.backend).load()(s)
        data = SimpleNamespace(x_train=x, y_train=y, x_test=xt, y_test=yt, vocab_size=VOCAB,
                               source="random", source_sha256="")
        run_protocol(s, _Clocked(backend, turns), data)
        return {"wall": turns.wall, "cpu": turns.cpu, "kernel": backend.describe()["kernel"]}
    if mode == "plain":
        return _plain_torch(args, turns, x, y)

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
    if mode == "fit":
        class Clock(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                turns.step_done()

        turns.start()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[Clock()])
    else:
        for i in range(0, len(x), BATCH):
            turns.start()
            model.train_on_batch(x[i:i + BATCH], y[i:i + BATCH])
            turns.stop()
    return {"wall": turns.wall, "cpu": turns.cpu}


def _plain_torch(args: argparse.Namespace, turns: Turns, x: Any, y: Any) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    layer = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[args.arch]

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.rnn, self.head = nn.Embedding(VOCAB, EMB), layer(EMB, UNITS, batch_first=True), nn.Linear(UNITS, 1)

        def forward(self, xb: Any) -> Any:
            _, h = self.rnn(self.emb(xb))
            h = h[0] if isinstance(h, tuple) else h
            return self.head(h[-1]).squeeze(1)

    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    xt, yt = torch.from_numpy(x).long(), torch.from_numpy(y).float()
    for i in range(0, len(xt), BATCH):
        turns.start()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[i:i + BATCH]), yt[i:i + BATCH])
        loss.backward()
        opt.step()
        loss.item()
        turns.stop()
    return {"wall": turns.wall, "cpu": turns.cpu}


def run_lockstep(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from rnnbench.cellenv import cell_environment

    env = cell_environment(_settings(args))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    procs: dict[str, tuple[subprocess.Popen[str], int, int, Path]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="rnnbench_overhead_"))
    modes = ("rnnbench", *refs_for(args.backend))
    for mode in modes:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        out = tmp / f"{mode}.json"
        cmd = [sys.executable, __file__, "--child", mode, "--arch", args.arch, "--backend", args.backend,
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--fd-in", str(to_child_r),
               "--fd-out", str(from_child_w), "--out", str(out)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        p = subprocess.Popen(cmd, env=env, pass_fds=(to_child_r, from_child_w), stdout=subprocess.DEVNULL,
                             stderr=open(tmp / f"{mode}.log", "w"))
        os.close(to_child_r)
        os.close(from_child_w)
        procs[mode] = (p, to_child_w, from_child_r, out)
    active = list(modes)
    for mode in modes:  # wait until each has imported, built and is ready for its first step
        if os.read(procs[mode][2], 1) != b"r":
            active.remove(mode)
    turn = 0
    while active:
        order = active[turn % len(active):] + active[:turn % len(active)]  # rotate who goes first
        turn += 1
        for mode in order:
            _, w, r, _ = procs[mode]
            os.write(w, b"g")
            if os.read(r, 1) != b"r":  # "e" or EOF: finished (evaluation included) or failed
                active.remove(mode)
    results: dict[str, dict[str, Any]] = {}
    for mode, (p, w, r, out) in procs.items():
        p.wait(timeout=600)
        os.close(w)
        os.close(r)
        if p.returncode != 0 or not out.exists():
            log = (tmp / f"{mode}.log").read_text()[-3000:]
            raise SystemExit(f"{mode} failed (exit {p.returncode}):\n{log}")
        results[mode] = json.loads(out.read_text())
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="gru", choices=("gru", "lstm", "rnn"))
    ap.add_argument("--backend", default="torch",
                    choices=("torch", "keras-tensorflow", "keras-jax", "keras-torch"))
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3, help="lockstep rounds (fresh processes each)")
    ap.add_argument("--child", choices=("rnnbench", "plain", *KERAS_REFS), help=argparse.SUPPRESS)
    ap.add_argument("--fd-in", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--fd-out", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        turns_out = args.fd_out
        res = child(args.child, args)
        args.out.write_text(json.dumps(res))
        if turns_out is not None:
            os.write(turns_out, b"e")
        return 0

    t0 = time.perf_counter()
    w = args.warmup
    refs = refs_for(args.backend)
    modes = ("rnnbench", *refs)
    paired: dict[str, list[float]] = {ref: [] for ref in refs}
    for r in range(args.rounds):
        res = run_lockstep(args)
        med = {m: statistics.median(res[m]["wall"][w:]) for m in modes}
        med_cpu = {m: statistics.median(res[m]["cpu"][w:]) for m in modes}
        if r == 0:
            print(f"{args.arch.upper()} on {args.backend}, batch {BATCH}, maxlen {MAXLEN}, emb {EMB}, units {UNITS}, "
                  f"threads {args.threads or 'all'}; {args.steps} steps each in lockstep, first {w} dropped")
            print(f"kernel (rnnbench describe): {res['rnnbench'].get('kernel')}")
        print(f"round {r + 1}:")
        for m in modes:
            v = res[m]["wall"][w:]
            print(f"  {m:<15} steady step median {med[m] * 1e3:7.1f} ms (mean {statistics.fmean(v) * 1e3:7.1f}, "
                  f"CPU {med_cpu[m] * 1e3:7.1f})  first step {res[m]['wall'][0]:.2f} s")
        for ref in refs:
            # steps i of both processes ran back to back, under the same conditions: pair them
            ratios = [a / b for a, b in zip(res["rnnbench"]["wall"][w:], res[ref]["wall"][w:])]
            paired[ref] += ratios
            print(f"  ratio rnnbench / {ref:<15} of medians {med['rnnbench'] / med[ref]:.4f} "
                  f"(CPU {med_cpu['rnnbench'] / med_cpu[ref]:.4f}); median of paired steps "
                  f"{statistics.median(ratios):.4f}")
    for ref in refs:
        print(f"overall ({args.rounds} rounds, {len(paired[ref])} paired steps): steady-step ratio rnnbench / {ref} = "
              f"{statistics.median(paired[ref]):.4f}  [{time.perf_counter() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
