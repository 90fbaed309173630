"""The environment a cell's process starts with.

Thread pools (OpenMP, MKL, TensorFlow's) and Keras's backend are fixed when the framework
is imported, so they are set here, in the parent, before the worker process exists.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rnnbench.envinfo import cpu_count

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings


def resolved_threads(settings: "CellSettings") -> int:
    return settings.threads or cpu_count()


def cell_environment(settings: "CellSettings", base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    threads = str(resolved_threads(settings))
    env.update(
        {
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "TF_NUM_INTRAOP_THREADS": threads,
            "TF_NUM_INTEROP_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONHASHSEED": str(settings.seed),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.backend.startswith("keras-"):
        env["KERAS_BACKEND"] = settings.backend.removeprefix("keras-")
    # flush_denormal is applied by the torch adapters from the settings (TF and XLA flush already).
    return env
