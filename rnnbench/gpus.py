"""GPUs: which ones this machine has, which one a cell gets, and why a GPU cell cannot run.

Asked in the parent, before a worker starts, so no framework is imported: the GPUs are the
ones ``CUDA_VISIBLE_DEVICES`` leaves visible, or else the ones NVIDIA's driver tool
(``nvidia-smi``) lists. A cell with ``device = "cuda"`` takes any free GPU from the
:class:`GpuPool` (each concurrent cell its own), ``"cuda:N"`` waits for GPU N; the worker
then sees only that GPU (``CUDA_VISIBLE_DEVICES``, set by :mod:`rnnbench.cellenv`) and
trains on its first visible device. The framework in the worker has the last word: when it
sees no GPU the cell is recorded ``skipped`` with the framework's reason
(:class:`rnnbench.backends.base.DeviceUnavailable`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from typing import Any

NVIDIA_SMI_TIMEOUT_S = 10


def _nvidia_smi(*query: str) -> list[list[str]] | None:
    """Rows of ``nvidia-smi --query-gpu=...`` (None when there is no driver tool or it fails)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, f"--query-gpu={','.join(query)}", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return [[c.strip() for c in line.split(",")] for line in out.stdout.splitlines() if line.strip()]


def visible_gpus(environ: dict[str, str] | None = None) -> list[int]:
    """The GPU indices a cell may be given: ``CUDA_VISIBLE_DEVICES`` when set (empty = none),
    else every GPU ``nvidia-smi`` lists, else none."""
    env = os.environ if environ is None else environ
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [int(x) for x in listed.split(",") if x.strip().isdigit()]
    rows = _nvidia_smi("index")
    return [int(r[0]) for r in rows or [] if r and r[0].isdigit()]


def gpu_facts() -> list[dict[str, Any]]:
    """Model, driver and memory of each GPU, as the driver reports them (empty without one)."""
    rows = _nvidia_smi("index", "name", "driver_version", "memory.total")
    return [{"index": int(r[0]), "name": r[1], "driver": r[2], "memory_mib": float(r[3])}
            for r in rows or [] if len(r) == 4 and r[0].isdigit()]


def wanted_gpu(device: str) -> int | None:
    """``"cuda:N"`` → N; ``"cuda"`` (any) and ``"cpu"`` → None."""
    _, _, index = device.partition(":")
    return int(index) if index else None


def no_gpu_reason(device: str, gpus: list[int]) -> str | None:
    """Why a cell with this ``device`` cannot run on a machine with these GPUs (None: it can)."""
    if device == "cpu":
        return None
    if not gpus:
        why = ("CUDA_VISIBLE_DEVICES is empty" if os.environ.get("CUDA_VISIBLE_DEVICES") == ""
               else "nvidia-smi is not installed" if shutil.which("nvidia-smi") is None
               else "nvidia-smi lists none")
        return f"device = {device!r}: no CUDA GPU on this machine ({why})"
    want = wanted_gpu(device)
    if want is not None and want not in gpus:
        return f"device = {device!r}: this machine's GPUs are {', '.join(map(str, gpus))}"
    return None


class GpuPool:
    """Hands each concurrent GPU cell a GPU of its own: ``take("cuda")`` any free one,
    ``take("cuda:N")`` GPU N once it is free; ``give(i)`` returns it."""

    def __init__(self, gpus: list[int]) -> None:
        self.free = list(gpus)
        self.cond = threading.Condition()

    def take(self, device: str) -> int:
        want = wanted_gpu(device)
        with self.cond:
            while True:
                if want is None and self.free:
                    return self.free.pop(0)
                if want is not None and want in self.free:
                    self.free.remove(want)
                    return want
                self.cond.wait()

    def give(self, gpu: int) -> None:
        with self.cond:
            self.free.append(gpu)
            self.cond.notify_all()
