"""Which architecture a suite's ``arch`` names, and loading it.

``arch`` is a built-in name (``gru``, ``lstm``, ``rnn``, ``mingru``, ``minlstm``), a name
registered in the ``rnnbench.architectures`` entry-point group by an installed distribution,
or ``package.module:Name``. A suite is validated against names only — nothing is imported
until a worker builds its cell, so a plugin that fails to import is that cell's recorded
failure (:class:`PluginError`), not a failed suite. The built-ins are registered in
rnnbench's own ``pyproject.toml`` exactly as a plugin would be; :data:`BUILTIN` is the same
table for a source tree that was never installed.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from rnnbench.architectures.base import Architecture

ENTRY_POINT_GROUP = "rnnbench.architectures"
BUILTIN: dict[str, str] = {
    "gru": "rnnbench.architectures.builtin:GRU",
    "lstm": "rnnbench.architectures.builtin:LSTM",
    "rnn": "rnnbench.architectures.builtin:SimpleRNN",
    "mingru": "rnnbench.architectures.minimal:MinGRU",
    "minlstm": "rnnbench.architectures.minimal:MinLSTM",
}
LABELS: dict[str, str] = {"gru": "GRU", "lstm": "LSTM", "rnn": "SimpleRNN", "mingru": "minGRU", "minlstm": "minLSTM"}
CLASSIC = ("gru", "lstm", "rnn")  # the gated/Elman layers every framework ships (fused kernels, verify's weight mapping)
PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")

__all__ = ["Architecture", "PluginError", "BUILTIN", "CLASSIC", "ENTRY_POINT_GROUP", "label", "load", "target",
           "check_name"]


class PluginError(RuntimeError):
    """An architecture that could not be imported or is not an :class:`Architecture`."""


@lru_cache(maxsize=1)
def installed() -> dict[str, str]:
    """``{name: "module:attr"}`` registered in the entry-point group by installed distributions."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def target(name: str) -> str | None:
    """``module:attr`` that ``name`` stands for, or None when it names nothing."""
    if name in BUILTIN:
        return BUILTIN[name]
    if name in installed():
        return installed()[name]
    return name if PATH.fullmatch(name) else None


def check_name(name: str) -> str:
    """``name`` when it names an architecture; ValueError listing what would, otherwise."""
    if target(name) is None:
        plugins = sorted(set(installed()) - set(BUILTIN))
        raise ValueError(f"unknown architecture {name!r}: expected one of {', '.join(BUILTIN)}"
                         + (f", an installed plugin ({', '.join(plugins)})" if plugins else "")
                         + ' or "package.module:Name" (an rnnbench Architecture)')
    return name


def label(name: str) -> str:
    """How tables show ``name``, without importing it: the built-in's label, else the name
    (for ``package.module:Name``, ``Name``)."""
    return LABELS.get(name) or name.rpartition(":")[2]


def _import(module: str) -> Any:
    """Import ``module`` as a worker started with ``python -m`` would: from the current folder too
    (the console script's own ``sys.path`` does not hold it)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        cwd = os.getcwd()
        if e.name != module.partition(".")[0] or cwd in sys.path:
            raise
        sys.path.insert(0, cwd)
        return importlib.import_module(module)


def load(name: str) -> Architecture:
    """The architecture ``name`` stands for (imported now). PluginError says what failed."""
    spec = target(name)
    if spec is None:
        raise PluginError(check_name.__doc__ or name)  # pragma: no cover - suites are validated first
    module, _, attr = spec.partition(":")
    try:
        obj = getattr(_import(module), attr)
    except Exception as e:  # noqa: BLE001 - anything a plugin's import raises is its failure
        raise PluginError(f"architecture {name!r} ({spec}) failed to import: {type(e).__name__}: {e}") from e
    arch = obj() if isinstance(obj, type) else obj
    if not isinstance(arch, Architecture):
        raise PluginError(f"architecture {name!r} ({spec}) is a {type(arch).__name__}, "
                          "not an rnnbench.architectures.Architecture")
    if not arch.name:
        arch.name = name
    if not arch.label:
        arch.label = label(name)
    return arch
