"""The identity of a cell: which settings make two records the same measurement.

One definition, used wherever records are grouped — a suite's cells and their group keys
(:mod:`rnnbench.suite`), run-to-run and baseline matching (:mod:`rnnbench.compare`,
:mod:`rnnbench.baseline`, :mod:`rnnbench.exports`), A/B pairing (:mod:`rnnbench.ab`) and the
report's findings. Imports nothing else of rnnbench, so every layer can use it.

Left out of the identity: the seed (seeds pool like repeats), the harness knobs
(``timeout``, ``target_accuracy``, ``fault``) and, where a caller asks (``compare``, which
must match a candidate with ``extra_work`` to its plain baseline), more.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

# Settings that do not change what a cell measures.
NON_IDENTITY = ("timeout", "target_accuracy", "fault")


def identity(settings: dict[str, Any], defaults: dict[str, Any] | None = None,
             ignore: Iterable[str] = ()) -> dict[str, Any]:
    """The settings that define what is measured (defaults filled in, seed and knobs dropped)."""
    d = {**(defaults or {}), **settings}
    for k in (*NON_IDENTITY, "seed", *ignore):
        d.pop(k, None)
    return d


def digest(obj: Any) -> str:
    """A short, stable hash of any JSON-able value (cell keys, group keys, suite fingerprints)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def identity_key(settings: dict[str, Any], defaults: dict[str, Any] | None = None, ignore: Iterable[str] = ()) -> str:
    return digest(identity(settings, defaults, ignore))
