"""How much does rnnbench add to a training step? Same cell, two ways, side by side.

A: the cell through rnnbench's own worker process (``python -m rnnbench.worker``).
B: a plain hand-written PyTorch loop in its own process: same model, data, batch order
   (seeded permutation), threads and flush-to-zero, timed with perf_counter per step.

Both sides take the median of the steady-state steps (the second epoch, after 5 warm-up
steps). Rounds alternate A, B, A, B ... so drift on the machine hits both; the script
prints each round and the ratio of the medians (A / B). Run:

    python benchmarks/overhead.py [--arch gru] [--rounds 3] [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PLAIN_LOOP = r'''
import json, os, sys, time, statistics
import numpy as np
import torch
from torch import nn
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"]); torch.set_flush_denormal(True); torch.manual_seed(cfg["seed"])
from rnnbench.data import DataSpec, load_dataset
d = load_dataset(DataSpec(dataset=cfg["dataset"], num_words=cfg["num_words"], maxlen=cfg["maxlen"]))
layer = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cfg["arch"]]
class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(d.vocab_size, cfg["emb"]); s.rnn = layer(cfg["emb"], cfg["units"], batch_first=True)
        s.head = nn.Linear(cfg["units"], 1)
    def forward(s, x):
        _, h = s.rnn(s.emb(x))
        h = h[0] if isinstance(h, tuple) else h
        return s.head(h[-1]).squeeze(1)
m = M(); opt = torch.optim.Adam(m.parameters(), lr=1e-3); lossf = nn.BCEWithLogitsLoss()
rng = np.random.RandomState(cfg["seed"]); times = []
for epoch in range(2):
    perm = rng.permutation(len(d.x_train))
    x = torch.from_numpy(d.x_train[perm]).long(); y = torch.from_numpy(d.y_train[perm]).float()
    ep = []
    last = time.perf_counter()
    for i in range(cfg["steps"]):
        xb, yb = x[i*64:(i+1)*64], y[i*64:(i+1)*64]
        opt.zero_grad(set_to_none=True); loss = lossf(m(xb), yb); loss.backward(); opt.step(); loss.item()
        now = time.perf_counter(); ep.append(now - last); last = now
    times.append(ep)
print(json.dumps({"steady_step_s": statistics.median(times[1][5:])}))
'''


def run_rnnbench(cfg: dict, tmp: Path) -> float:
    from rnnbench.cellenv import cell_environment
    from rnnbench.suite import Cell, CellSettings

    s = CellSettings(arch=cfg["arch"], backend="torch", dataset=cfg["dataset"], num_words=cfg["num_words"],
                     maxlen=cfg["maxlen"], embedding_dim=cfg["emb"], units=cfg["units"], batch_size=64,
                     epochs=2, max_steps_per_epoch=cfg["steps"], warmup_steps=5, seed=cfg["seed"],
                     threads=cfg["threads"], eval_batch_size=512, test_size=64)
    cell = Cell(s)
    spec, out = tmp / "cell.json", tmp / "out.json"
    spec.write_text(json.dumps(cell.to_json()))
    subprocess.run([sys.executable, "-m", "rnnbench.worker", "--cell", str(spec), "--out", str(out)],
                   env=cell_environment(s), check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["metrics"]["steady_step_s"]


def run_plain(cfg: dict) -> float:
    from rnnbench.suite import CellSettings
    from rnnbench.cellenv import cell_environment

    env = cell_environment(CellSettings(threads=cfg["threads"], seed=cfg["seed"]))
    out = subprocess.run([sys.executable, "-c", PLAIN_LOOP, json.dumps(cfg)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["steady_step_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="gru", choices=["gru", "lstm", "rnn"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--dataset", default="sample")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    cfg = {"arch": args.arch, "dataset": args.dataset, "num_words": 20000, "maxlen": 200, "emb": 128,
           "units": 128, "steps": args.steps, "seed": 0, "threads": args.threads}
    a_times, b_times = [], []
    with tempfile.TemporaryDirectory() as d:
        for r in range(args.rounds):
            a = run_rnnbench(cfg, Path(d))
            b = run_plain(cfg)
            a_times.append(a)
            b_times.append(b)
            print(f"round {r + 1}: rnnbench {a * 1e3:.2f} ms/step, plain loop {b * 1e3:.2f} ms/step, "
                  f"ratio {a / b:.4f}", flush=True)
    a_med, b_med = statistics.median(a_times), statistics.median(b_times)
    print(f"{args.arch}: median steady step rnnbench {a_med * 1e3:.2f} ms, plain PyTorch {b_med * 1e3:.2f} ms, "
          f"overhead ratio {a_med / b_med:.4f} ({args.rounds} rounds x {args.steps} steps, {args.threads} threads)")


if __name__ == "__main__":
    main()
