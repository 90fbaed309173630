"""Every backend gets the same threads: the worker's environment and CPU affinity; the worker's
memory and timing figures are taken where their names say."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from rnnbench.cellenv import cell_cpus, cell_environment
from rnnbench.suite import Cell, CellSettings
from helpers import require_module


def test_cell_cpus_take_the_first_threads_cores() -> None:
    assert cell_cpus(CellSettings(threads=1), {3, 1, 2}) == [1]
    assert cell_cpus(CellSettings(threads=2), {3, 1, 2}) == [1, 2]
    assert cell_cpus(CellSettings(threads=8), {0, 1}) == [0, 1]  # never more than there are


@pytest.mark.parametrize("backend", ["torch", "keras-tensorflow", "keras-jax", "keras-torch"])
def test_every_framework_is_asked_for_the_same_thread_count(backend: str) -> None:
    env = cell_environment(CellSettings(backend=backend, threads=3), base={})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        assert env[var] == "3", var
    assert "TF_ENABLE_ONEDNN_OPTS" not in env
    assert cell_environment(CellSettings(backend=backend, onednn=False), base={})["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_the_worker_process_is_pinned_to_its_cores(tmp_path: Path) -> None:
    from rnnbench.executors.local import run_cell_process

    cores = sorted(os.sched_getaffinity(0))
    cell = Cell(CellSettings(backend="fake", threads=1, epochs=1, train_size=64, test_size=32, maxlen=20,
                             num_words=200, batch_size=32, warmup_steps=0))
    record = run_cell_process(cell, tmp_path, "run")
    assert record["status"] == "ok", record.get("log_tail")
    assert record["env"]["cpu_affinity"] == cores[:1]


def test_rss_after_import_is_read_before_the_data_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnbench import worker

    calls: list[str] = []
    readings = iter(range(100, 200))

    def fake_rss() -> float:
        calls.append("rss")
        return float(next(readings))

    real_load = None

    def load_dataset(spec: Any) -> Any:
        calls.append("data")
        return real_load(spec)

    import rnnbench.data as data_mod
    import rnnbench.measure as measure_mod

    real_load = data_mod.load_dataset
    monkeypatch.setattr(measure_mod, "rss_mb", fake_rss)
    monkeypatch.setattr(data_mod, "load_dataset", load_dataset)
    cell = Cell(CellSettings(backend="fake", epochs=1, train_size=64, test_size=32, maxlen=20, num_words=200,
                             batch_size=32, warmup_steps=0))
    out = worker.run_cell(cell.to_json())
    m = out["metrics"]
    assert calls[:3] == ["rss", "rss", "data"]  # start, after the framework import, then the data
    assert (m["rss_start_mb"], m["rss_after_import_mb"]) == (100.0, 101.0)
    assert {"framework_import_s", "framework_init_s", "data_load_s"} <= set(m)


def test_every_record_carries_the_rnnbench_version(tmp_path: Path) -> None:
    from rnnbench import __version__
    from rnnbench.executors.local import run_cell_process

    cell = Cell(CellSettings(backend="fake", epochs=1, train_size=64, test_size=32, maxlen=20, num_words=200,
                             batch_size=32, warmup_steps=0))
    assert run_cell_process(cell, tmp_path, "run")["env"]["rnnbench"] == __version__


def test_huge_pages_ask_glibc_and_pytorch_for_them_and_keep_other_tunables() -> None:
    env = cell_environment(CellSettings(huge_pages=True), base={"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    assert env["THP_MEM_ALLOC_ENABLE"] == "1"
    plain = cell_environment(CellSettings(), base={})
    assert "GLIBC_TUNABLES" not in plain and "THP_MEM_ALLOC_ENABLE" not in plain


def test_reuse_memory_sets_glibc_tunables_alongside_the_others() -> None:
    env = cell_environment(CellSettings(reuse_memory=True, huge_pages=True),
                           base={"GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.mmap_max=7"})
    assert env["GLIBC_TUNABLES"].split(":") == [
        "glibc.malloc.arena_max=2", "glibc.malloc.hugetlb=1", "glibc.malloc.mmap_max=0",
        f"glibc.malloc.trim_threshold={2**62}"]


@pytest.mark.slow  # two real torch workers: ~8 s
def test_a_reuse_memory_worker_faults_a_tenth_of_the_pages_in_its_steady_steps(tmp_path: Path) -> None:
    """A real PyTorch LSTM worker: without the setting each step maps its large buffers afresh
    (thousands of minor page faults a step); with it, glibc's malloc hands the same memory back
    (under 10 a step alone here; once, amid the whole test suite, 400 on average over 4 steps)."""
    require_module("torch")
    from rnnbench.executors.local import run_cell_process

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc tunables and minor-fault counts are Linux's")
    faults, tunables = {}, {}
    for reuse in (False, True):
        cell = Cell(CellSettings(backend="torch", arch="lstm", threads=1, epochs=1, train_size=64 * 12, test_size=64,
                                 maxlen=200, num_words=2000, batch_size=64, units=64, embedding_dim=64,
                                 warmup_steps=4, reuse_memory=reuse))
        rec = run_cell_process(cell, tmp_path / str(reuse), "run")
        assert rec["status"] == "ok", rec.get("log_tail")
        faults[reuse] = rec["metrics"]["steady_page_faults_per_step"]
        tunables[reuse] = rec["env"]["glibc_tunables"] or ""
    assert faults[False] > 1000, faults
    # a heap still growing late can fault a few MB once (seen: 1,600 pages in one of 4 steady steps)
    assert faults[True] < faults[False] / 10, faults
    assert "glibc.malloc.mmap_max=0" in tunables[True] and "mmap_max" not in tunables[False]


@pytest.mark.slow  # a real torch worker on huge pages: ~8 s
def test_a_huge_pages_worker_really_runs_on_huge_pages(tmp_path: Path) -> None:
    """A real PyTorch worker: its record says how much of its memory huge pages back (where the
    kernel offers them on request, as most Linux distributions do: THP ``madvise``)."""
    require_module("torch")
    from rnnbench.envinfo import transparent_huge_pages
    from rnnbench.executors.local import run_cell_process

    mode = transparent_huge_pages()
    if mode not in ("madvise", "always"):
        pytest.skip(f"the kernel's transparent huge pages are {mode!r} here")
    records = {}
    for huge in (False, True):
        cell = Cell(CellSettings(backend="torch", threads=1, epochs=1, train_size=128, test_size=64, maxlen=50,
                                 num_words=2000, batch_size=64, units=32, embedding_dim=32, warmup_steps=0,
                                 huge_pages=huge))
        records[huge] = run_cell_process(cell, tmp_path / str(huge), "run")
        assert records[huge]["status"] == "ok", records[huge].get("log_tail")
        assert records[huge]["env"]["transparent_huge_pages"] == mode
    assert records[True]["env"]["huge_pages_mb"] >= 2
    if mode == "madvise":  # without the setting, only what a library madvises by itself (seen: 0 or 2 MB)
        assert records[False]["env"]["huge_pages_mb"] < records[True]["env"]["huge_pages_mb"]


def test_aslr_false_starts_the_worker_without_layout_randomization(tmp_path: Path) -> None:
    """The setting reaches the kernel: a worker started with aslr = false runs with
    ADDR_NO_RANDOMIZE and says so in its record; by default it draws its own layout."""
    from rnnbench.envinfo import address_space_randomized
    from rnnbench.executors.local import run_cell_process

    if not sys.platform.startswith("linux") or address_space_randomized() is None:
        pytest.skip("process personalities are Linux's")
    records = {}
    for aslr in (True, False):
        cell = Cell(CellSettings(backend="fake", threads=1, epochs=1, train_size=64, test_size=32, maxlen=20,
                                 num_words=200, batch_size=32, warmup_steps=0, aslr=aslr))
        records[aslr] = run_cell_process(cell, tmp_path / str(aslr), "run")
        assert records[aslr]["status"] == "ok", records[aslr].get("log_tail")
    assert records[False]["env"]["aslr"] is False
    assert records[True]["env"]["aslr"] is address_space_randomized()  # this test's own process: randomized unless the kernel says 0
