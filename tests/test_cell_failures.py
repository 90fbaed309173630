"""Cells that fail in ways of their own, on a real framework: a loss that diverges to NaN and a
cell that needs more memory than it is allowed. Each is a record with its own status while the
rest of the suite goes on."""

from __future__ import annotations

from pathlib import Path

from helpers import require_module, write_suite
from rnnbench.executors.local import run_cell_process
from rnnbench.results import read_records
from rnnbench.runner import execute, start_run
from rnnbench.suite import load_suite

TORCH_CELL = """
[defaults]
dataset = "sample"
backend = "torch"
arch = "gru"
units = 8
embedding_dim = 8
maxlen = 50
epochs = 2
train_size = 256
test_size = 64
threads = 1
"""


class _Quiet:
    def start(self, *a: object) -> None: ...
    def cell_start(self, *a: object) -> None: ...
    def event(self, *a: object) -> None: ...
    def cell_done(self, *a: object) -> None: ...
    def stop(self) -> None: ...


def test_a_loss_that_becomes_nan_is_recorded_as_diverged_with_its_epoch(tmp_path: Path) -> None:
    require_module("torch")
    # RMSprop at 3e38: the first update sends the weights to inf, the loss to NaN (PyTorch, real)
    path = write_suite(tmp_path, TORCH_CELL + 'optimizer = "rmsprop"\nlearning_rate = 3e38\n')
    cell = load_suite(path).cells[0]
    rec = run_cell_process(cell, tmp_path / "run", "r")
    assert rec["status"] == "diverged", rec
    assert rec["diverged_epoch"] == 1 and "nan in epoch 1" in rec["error"]


def test_too_little_memory_is_out_of_memory_and_the_suite_goes_on(tmp_path: Path) -> None:
    require_module("torch")
    # 2.5 GiB of address space lets PyTorch import and train the small cell; the other one's
    # embedding alone (10,000 words × 65,536 dimensions, float32) is 2.4 GiB.
    path = write_suite(tmp_path, TORCH_CELL.replace("epochs = 2", "epochs = 1") + "memory_limit_mb = 2500\n"
                       "[matrix]\nembedding_dim = [65536, 8]\n")
    suite = load_suite(path)
    run = start_run(suite, root=tmp_path / "runs")
    summary = execute(suite, run, _Quiet())  # type: ignore[arg-type]
    recs = read_records(run.results)
    assert summary.ran == 2 and [r["status"] for r in recs] == ["out_of_memory", "ok"], recs
    assert "can't allocate memory" in recs[0]["error"]
