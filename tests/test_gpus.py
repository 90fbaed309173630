"""GPU cells on a machine without a GPU, and the machinery that hands GPUs out.

This machine (and CI) has no GPU, so what is tested for real here is the CPU side: a GPU cell
is recorded ``skipped`` with the reason — by the parent when it sees no GPU, by the framework
in the worker when the parent was told of one that is not there — CPU cells see no GPU, and
each concurrent GPU cell gets a GPU of its own from the pool.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import require_module, write_suite

from rnnbench.gpus import GpuPool, no_gpu_reason, visible_gpus, wanted_gpu
from rnnbench.progress import QuietProgress
from rnnbench.runner import execute, start_run
from rnnbench.suite import CellSettings, load_suite


def test_visible_gpus_follow_cuda_visible_devices() -> None:
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == [2, 3]
    assert wanted_gpu("cuda:3") == 3 and wanted_gpu("cuda") is None and wanted_gpu("cpu") is None


def test_why_a_gpu_cell_cannot_run() -> None:
    assert no_gpu_reason("cpu", []) is None
    assert "no CUDA GPU on this machine" in no_gpu_reason("cuda", [])
    assert no_gpu_reason("cuda", [0]) is None
    assert no_gpu_reason("cuda:1", [0, 1]) is None
    assert "this machine's GPUs are 0" in no_gpu_reason("cuda:1", [0])


def test_the_pool_gives_each_concurrent_cell_its_own_gpu() -> None:
    pool = GpuPool([0, 1])
    held: list[int] = []
    overlap: list[set[int]] = []
    lock = threading.Lock()

    def cell(device: str) -> None:
        gpu = pool.take(device)
        with lock:
            assert gpu not in held, f"GPU {gpu} handed out twice"
            held.append(gpu)
            overlap.append(set(held))
        time.sleep(0.05)
        with lock:
            held.remove(gpu)
        pool.give(gpu)

    threads = [threading.Thread(target=cell, args=(d,)) for d in ["cuda", "cuda", "cuda:1", "cuda", "cuda:0"] * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert max(len(s) for s in overlap) == 2  # two at once, never the same GPU
    assert sorted(pool.free) == [0, 1]


def test_cpu_cells_see_no_gpu_and_gpu_cells_only_theirs() -> None:
    from rnnbench.cellenv import cell_environment

    assert cell_environment(CellSettings(), {"CUDA_VISIBLE_DEVICES": "0,1"})["CUDA_VISIBLE_DEVICES"] == ""
    import shutil

    if shutil.which("nvidia-smi") is None:  # no GPU to hide: the environment stays as it was
        assert "CUDA_VISIBLE_DEVICES" not in cell_environment(CellSettings(), {})
    assert cell_environment(CellSettings(device="cuda"), {}, gpu=1)["CUDA_VISIBLE_DEVICES"] == "1"
    # a Ray task's GPU (set by Ray) is left as it is
    assert cell_environment(CellSettings(device="cuda"), {"CUDA_VISIBLE_DEVICES": "3"})["CUDA_VISIBLE_DEVICES"] == "3"


def _run(tmp_path: Path, body: str) -> list[dict]:
    suite = load_suite(str(write_suite(tmp_path, body)))
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    return run.records()


def test_a_gpu_cell_on_a_machine_without_one_is_skipped_and_the_suite_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU, whatever machine runs the tests
    records = _run(tmp_path, """
[defaults]
backend = "fake"
epochs = 1
[matrix]
device = ["cuda", "cpu"]
""")
    by_device = {r["settings"]["device"]: r for r in records}
    assert by_device["cpu"]["status"] == "ok"
    assert by_device["cuda"]["status"] == "skipped"
    assert "no CUDA GPU on this machine (CUDA_VISIBLE_DEVICES is empty)" in by_device["cuda"]["error"]
    assert by_device["cuda"]["node"]["executor"] == "local"


def test_the_framework_has_the_last_word_on_a_gpu_it_cannot_see(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent is told of GPU 0, so the worker starts; PyTorch there finds no CUDA device."""
    torch = require_module("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the skip path cannot be shown here")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    (record,) = _run(tmp_path, """
[defaults]
backend = "torch"
device = "cuda"
epochs = 1
max_steps_per_epoch = 8
""")
    assert record["status"] == "skipped", record
    assert "torch.cuda.is_available() is False" in record["error"] and record["gpu"] == 0


def test_a_crashing_cell_is_retried_and_its_attempts_are_kept(tmp_path: Path) -> None:
    records = _run(tmp_path, """
[defaults]
backend = "fake"
epochs = 1
retries = 2
[matrix]
fault = ["crash", "error"]
""")
    by_fault = {r["settings"]["fault"]: r for r in records}
    crashed = by_fault["crash"]
    assert crashed["status"] == "crashed" and crashed["signal"] == "SIGSEGV"
    assert [a["status"] for a in crashed["attempts"]] == ["crashed", "crashed"]  # 1 + 2 retries
    assert all(a["signal"] == "SIGSEGV" and a["node"]["executor"] == "local" for a in crashed["attempts"])
    # an error in the cell's own code would only fail again: not retried
    assert by_fault["error"]["status"] == "error" and "attempts" not in by_fault["error"]


def test_a_gpu_cells_percent_of_peak_is_of_its_gpus_calibrated_peak() -> None:
    from rnnbench import calibrate
    from rnnbench.report.aggregate import Context, metric_values

    calibrate.save_gpu({"gpu_name": "Test GPU 80GB", "peak_gflops": 50_000.0})
    cpu_cal = {"run": {"peak_gflops": 100.0}}
    settings = CellSettings(device="cuda").model_dump()
    gpu_rec = {"run_id": "run", "settings": settings, "env": {"gpu_name": "Test GPU 80GB"},
               "metrics": {"steady_step_s": 0.01}}
    cpu_rec = {**gpu_rec, "settings": CellSettings().model_dump(), "env": {}}
    ctx = Context(calibrations=cpu_cal)
    gpu, cpu = metric_values(gpu_rec, ctx), metric_values(cpu_rec, ctx)
    assert gpu["gflops"] == cpu["gflops"] > 0
    assert gpu["peak_pct"] == 100.0 * gpu["gflops"] / 50_000.0  # the GPU's peak, not the CPU's
    assert cpu["peak_pct"] == 100.0 * cpu["gflops"] / 100.0
    # an uncalibrated GPU model: no % rather than a % of the CPU's peak
    assert metric_values({**gpu_rec, "env": {"gpu_name": "Other GPU"}}, ctx)["peak_pct"] is None
