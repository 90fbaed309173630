"""A cell's identity: which settings make two records the same measurement, and its digest.

The one definition (:func:`identity`, :func:`digest`), below everything that names a cell: a
suite's cells and their group keys (:mod:`rnnbench.suite`), the grouping of stored records
(:mod:`rnnbench.cells`), run-to-run and baseline matching, A/B pairing and the reports. Imports
nothing of rnnbench.

Left out of the identity: the seed (seeds pool like repeats), the harness knobs
(``timeout``, ``target_accuracy``, ``fault``, ``memory_limit_mb``, ``retries``, ``ray_resources``) and, where a
caller asks (``compare``, which must match a candidate with ``extra_work`` to its plain
baseline: :func:`match_identity`), more.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

# Settings that do not change what a cell measures.
NON_IDENTITY = ("timeout", "target_accuracy", "fault", "memory_limit_mb", "retries", "ray_resources")


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


# Left out when matching records across runs: a candidate run with ``extra_work = 0.05`` (a
# simulated slowdown) must match the plain baseline, not look like a different cell.
MATCH_IGNORED = ("extra_work",)


def match_identity(settings: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings that must match for two records of different runs to be the same measurement."""
    return identity(settings, defaults, MATCH_IGNORED)
