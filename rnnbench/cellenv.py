"""The environment a cell's process starts with.

Thread pools (OpenMP, MKL, TensorFlow's, XLA's) and Keras's backend are fixed when the
framework is imported, so they are set here, in the parent, before the worker process exists.

Every backend gets the same treatment for ``threads``: the worker is pinned to that many
cores (:func:`cell_cpus`, applied with ``sched_setaffinity`` before exec), so each framework
sizes its pools from the cores it can see — XLA has no thread-count setting of its own, and
this is what makes keras-jax obey ``threads`` — and the explicit settings (OpenMP/MKL,
TensorFlow's intra- *and* inter-op pools, ``torch.set_num_threads``) ask for the same number.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from rnnbench.envinfo import cpu_count

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings


def resolved_threads(settings: "CellSettings") -> int:
    return settings.threads or cpu_count()


def cell_cpus(settings: "CellSettings", available: set[int] | None = None) -> list[int]:
    """The cores a cell's process is pinned to: the first ``threads`` of those this process may use
    (all of them when ``threads`` asks for more than there are)."""
    cores = sorted(os.sched_getaffinity(0) if available is None else available)
    return cores[: resolved_threads(settings)] or cores


def core_slots(jobs: int, need: int, what: str = "cells") -> list[list[int]]:
    """``jobs`` disjoint sets of ``need`` cores each, from those this process may use (``run
    --jobs``, ``ab --jobs``); refused in one line when they do not fit."""
    from rnnbench.errors import UserError

    cores = sorted(os.sched_getaffinity(0))
    if jobs * need > len(cores):
        raise UserError(f"--jobs {jobs}: {jobs} {what} × {need} thread{'s' if need != 1 else ''} each need "
                        f"{jobs * need} cores, and this process may use {len(cores)}",
                        hint="lower --jobs, or give each cell fewer cores (--set threads=1)")
    return [cores[i * need:(i + 1) * need] for i in range(jobs)]


# glibc >= 2.35 madvises its heap and mmapped chunks for transparent huge pages with this tunable
# (TensorFlow's and oneDNN's buffers come from malloc); PyTorch's CPU allocator does the same for
# its own allocations of 2 MB and more when THP_MEM_ALLOC_ENABLE is set.
GLIBC_HUGE_PAGES = {"glibc.malloc.hugetlb": "1"}

# reuse_memory: glibc's malloc serves every block from its heaps (no chunk of its own mmapped, so
# none unmapped on free) and never trims them, so what one training step frees the next one reuses.
# Without it, a PyTorch LSTM step here mapped and unmapped ~100 MB of fresh pages (16,000–30,000
# minor page faults a step); with it, a few dozen (one thread: none) after warm-up.
GLIBC_REUSE_MEMORY = {"glibc.malloc.mmap_max": "0", "glibc.malloc.trim_threshold": str(2**62)}


# Settings the parent carries out when it starts the worker (its environment, its limits): a
# worker never reads them, so an A/B side whose older rnnbench lacks one still gets its effect.
STARTED_BY_PARENT = ("aslr", "huge_pages", "memory_limit_mb", "reuse_memory")


def with_glibc_tunables(env: dict[str, str], tunables: dict[str, str]) -> dict[str, str]:
    """``env``'s GLIBC_TUNABLES with ``tunables`` set (the others it had are kept)."""
    kept = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t and t.split("=", 1)[0] not in tunables]
    return {"GLIBC_TUNABLES": ":".join([*kept, *(f"{k}={v}" for k, v in tunables.items())])}


def huge_pages_environment(env: dict[str, str]) -> dict[str, str]:
    """What ``huge_pages = true`` adds to a worker's environment (other glibc tunables kept)."""
    return {**with_glibc_tunables(env, GLIBC_HUGE_PAGES), "THP_MEM_ALLOC_ENABLE": "1"}


def cell_environment(settings: "CellSettings", base: dict[str, str] | None = None,
                     gpu: int | None = None) -> dict[str, str]:
    """The worker's environment. A CPU cell sees no GPU (so TensorFlow or JAX cannot pick one up
    unasked); a GPU cell sees only ``gpu`` (the one it was handed, :mod:`rnnbench.gpus`), or
    what it was given already when ``gpu`` is None (a Ray task's GPU)."""
    env = dict(os.environ if base is None else base)
    if settings.device == "cpu":
        if env.get("CUDA_VISIBLE_DEVICES") or shutil.which("nvidia-smi"):  # only where there is a GPU to hide,
            env["CUDA_VISIBLE_DEVICES"] = ""  # so a CPU machine's workers keep the environment they always had
    elif gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    threads = str(resolved_threads(settings))
    env.update(
        {
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "TF_NUM_INTRAOP_THREADS": threads,
            "TF_NUM_INTEROP_THREADS": threads,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONHASHSEED": str(settings.seed),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if not settings.onednn:
        env["TF_ENABLE_ONEDNN_OPTS"] = "0"  # TensorFlow reads it at import; torch is told by its adapter
    if settings.huge_pages:
        env.update(huge_pages_environment(env))
    if settings.reuse_memory:
        env.update(with_glibc_tunables(env, GLIBC_REUSE_MEMORY))
    if settings.backend.startswith("keras-"):
        env["KERAS_BACKEND"] = settings.backend.removeprefix("keras-")
    # flush_denormal is applied by the torch adapters from the settings (TF and XLA flush already).
    return env
