"""The backend contract, and the registry of backend names.

A backend adapts one framework. It builds the model a cell describes, trains it one epoch
at a time and evaluates it; it never times anything itself — :mod:`rnnbench.measure` owns
the clock and calls ``on_step`` timing. The contract:

* The environment the framework reads at import (threads, ``KERAS_BACKEND``) is set by
  :mod:`rnnbench.cellenv` in the parent, before the worker process starts.
* ``__init__(settings)``: import the framework, apply thread/denormal settings, seed.
* ``build(vocab_size)``: create model and optimizer from ``settings``.
* ``param_counts()`` → ``{"embedding", "recurrent", "head", "total"}`` counted from the
  framework's own parameters.
* ``train_epoch(x, y, batch_size, on_step, max_steps)`` → mean training loss. ``on_step()``
  must be called once after each step has *completed* (force completion where the
  framework dispatches asynchronously), so wall times between calls are true step times.
* ``evaluate(x, y, batch_size)`` → ``(loss, accuracy)``.
* ``get_weights()`` / ``set_weights(w)``: a copy of the model's weights, and putting one back
  (to evaluate the selected epoch's model at the end, see ``epoch_test_size``).
* ``profile_step(x, y)`` (optional) → the op names of one forward + backward, called once
  after training outside every timed window (see :mod:`rnnbench.backends.kernels`), so
  ``describe()`` can say which kernel actually ran rather than which one was asked for.
* ``describe()`` → facts for the record: framework versions, thread counts, flush-to-zero,
  kernel path (which implementation ran, and from what evidence) and why; on a GPU the
  device's model, driver, CUDA and cuDNN versions.
* ``epoch_phases`` (optional attribute, set by ``train_epoch``): ``{"forward", "backward",
  "optimizer"}`` → each step's time in that phase, where the framework allows a clean split;
  ``phase_note`` says why there is none otherwise.
* ``device_memory()`` (optional) → ``{"device_peak_mb": …}``: the framework's own peak of
  device memory for a GPU cell (PyTorch's ``max_memory_allocated``, TensorFlow's and JAX's
  memory stats), beside the worker's peak RSS; ``{}`` on the CPU.
* ``device = "cuda…"``: ``__init__`` raises :class:`DeviceUnavailable` when the framework
  sees no GPU; ``on_step`` is called only once the device has finished the step.

This module imports no framework: ``rnnbench list`` and ``--help`` use it.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from rnnbench.errors import UserError

if TYPE_CHECKING:
    import numpy as np

    from rnnbench.suite import CellSettings


class DeviceUnavailable(RuntimeError):
    """The cell asks for a GPU that its framework, in the worker, cannot see: the cell is
    recorded ``skipped`` with this reason, not as a failure of the code under test."""


class Backend(Protocol):
    def __init__(self, settings: "CellSettings") -> None: ...

    def build(self, vocab_size: int) -> None: ...

    def param_counts(self) -> dict[str, int]: ...

    def train_epoch(
        self,
        x: "np.ndarray",
        y: "np.ndarray",
        batch_size: int,
        on_step: Callable[[], None],
        max_steps: int | None,
    ) -> float: ...

    def evaluate(self, x: "np.ndarray", y: "np.ndarray", batch_size: int) -> tuple[float, float]: ...

    def get_weights(self) -> Any: ...

    def set_weights(self, weights: Any) -> None: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class BackendInfo:
    name: str
    module: str  # "rnnbench.backends.torch_backend:TorchBackend"
    requires: tuple[str, ...]  # importable top-level modules
    install: str  # how to get it
    description: str

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def load(self) -> type:
        mod, _, cls = self.module.partition(":")
        return getattr(importlib.import_module(mod), cls)


BACKENDS: dict[str, BackendInfo] = {
    info.name: info
    for info in (
        BackendInfo(
            "torch", "rnnbench.backends.torch_backend:TorchBackend", ("torch",),
            "pip install 'rnnbench[torch]'", "PyTorch nn.GRU / nn.LSTM / nn.RNN",
        ),
        BackendInfo(
            "keras-tensorflow", "rnnbench.backends.keras_backend:KerasBackend", ("keras", "tensorflow"),
            "pip install 'rnnbench[keras]'", "Keras 3 on TensorFlow",
        ),
        BackendInfo(
            "keras-torch", "rnnbench.backends.keras_backend:KerasBackend", ("keras", "torch"),
            "pip install 'rnnbench[keras,torch]'", "Keras 3 on PyTorch",
        ),
        BackendInfo(
            "keras-jax", "rnnbench.backends.keras_backend:KerasBackend", ("keras", "jax"),
            "pip install 'rnnbench[keras,jax]'", "Keras 3 on JAX",
        ),
        BackendInfo(
            "fake", "rnnbench.backends.fake:FakeBackend", ("numpy",),
            "built in", "numpy stand-in for testing the harness (not a benchmark)",
        ),
    )
}


def get_backend(name: str) -> BackendInfo:
    try:
        return BACKENDS[name]
    except KeyError:
        raise UserError(f"unknown backend '{name}'", hint=f"known: {', '.join(BACKENDS)}") from None


def ensure_available(name: str) -> BackendInfo:
    info = get_backend(name)
    missing = info.missing()
    if missing:
        raise UserError(
            f"backend '{name}' is unavailable: {', '.join(missing)} not installed", hint=info.install
        )
    return info
