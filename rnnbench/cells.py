"""Records of stored runs grouped by cell: the groups, their values, and their names.

Records with the same identity (:mod:`rnnbench.identity`, the one definition) form a group:
wherever records are grouped — run-to-run and baseline matching (:mod:`rnnbench.compare`,
:mod:`rnnbench.baseline`, :mod:`rnnbench.exports`), and the report's findings. A group's key is
the identity key its records stored as ``group`` when they ran (recomputed from their stored
settings, it is the same for every committed run): every output names a cell by it. Matching
across runs of different rnnbench versions or with ``extra_work`` uses :attr:`Group.match_key`
(settings added since filled with their defaults, ``extra_work`` left out).

Also where a record ran: :func:`machine_kind` (the fingerprint of the node that ran it), by
which reports split groups and comparisons refuse to pair timings across kinds of machine.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any, Iterable

from rnnbench.identity import digest, identity, identity_key, match_identity

# -- grouping records of stored runs ---------------------------------------------------------

FAILING = ("error", "crashed", "timeout", "unavailable", "diverged", "out_of_memory", "skipped")


def setting_defaults() -> dict[str, Any]:
    try:
        from rnnbench.suite import CellSettings

        return {k: f.default for k, f in CellSettings.model_fields.items()}
    except Exception:  # pragma: no cover - pydantic always present with rnnbench
        return {}


@dataclass
class Group:
    key: str  # the identity key: what the records stored as ``group``
    label: str
    identity: dict[str, Any]  # the identity, settings added since the records ran filled with their defaults
    records: list[dict[str, Any]]
    settings: dict[str, Any]  # the first record's full settings

    @property
    def match_key(self) -> str:
        """The key by which runs are matched: the identity without ``extra_work`` (a run with
        injected work is the same cell, made slower on purpose)."""
        return digest(match_identity(self.identity))

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok" and r.get("metrics")]

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") in FAILING]


def group_records(records: Iterable[dict[str, Any]]) -> dict[str, Group]:
    """The records by cell, keyed by identity key, in the order their cells first appear."""
    defaults = setting_defaults()
    groups: dict[str, Group] = {}
    for r in records:
        settings = r.get("settings") or {}
        key = identity_key(settings)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(key=key, label=r.get("label") or key, identity=identity(settings, defaults),
                                    records=[], settings=dict(settings))
        g.records.append(r)
    return groups


def time_values(recs: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Per-process medians and the pooled step samples of the records' steady steps."""
    medians: list[float] = []
    pooled: list[float] = []
    for r in recs:
        m = r.get("metrics") or {}
        samples = [s for s in (m.get("steady_step_samples") or []) if isinstance(s, (int, float)) and s > 0]
        if samples:
            medians.append(statistics.median(samples))
            pooled.extend(samples)
        elif isinstance(m.get("steady_step_s"), (int, float)) and m["steady_step_s"] > 0:
            medians.append(float(m["steady_step_s"]))
            pooled.append(float(m["steady_step_s"]))
    return medians, pooled


def metric_values(recs: list[dict[str, Any]], name: str) -> list[float]:
    out = []
    for r in recs:
        v = (r.get("metrics") or {}).get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def varying(groups: Iterable[Group]) -> list[str]:
    groups = list(groups)
    keys: list[str] = []
    for g in groups:
        for k in g.identity:
            if k not in keys:
                keys.append(k)
    skip = {"arch", "backend", "bidirectional", "layers", "impl"}  # already in the label
    return [k for k in keys if k not in skip
            and len({json.dumps(g.identity.get(k), sort_keys=True, default=str) for g in groups}) > 1]


def cell_name(g: Group, varying: list[str]) -> str:
    extra = ", ".join(f"{k}={g.identity.get(k)}" for k in varying)
    return f"{g.label} ({extra})" if extra else g.label


# -- where a record ran ----------------------------------------------------------------------


def machine_kind(record: dict[str, Any], default: str | None = None) -> str | None:
    """The fingerprint of the machine that ran a record (its node's; ``default``, the run's
    machine, for records older than per-record nodes). Timings only compare within a kind."""
    node = record.get("node")
    if isinstance(node, dict) and node.get("fingerprint"):
        return str(node["fingerprint"])
    return default


def machine_label(record: dict[str, Any]) -> str:
    """A kind of machine in words: CPU model × cores (fingerprint)."""
    node = record.get("node") if isinstance(record.get("node"), dict) else {}
    cpu = node.get("cpu_model") or "?"
    cores = node.get("cpu_count")
    return f"{cpu}{f' ×{cores}' if cores else ''} ({node.get('fingerprint') or '?'})"


def kinds_of(records: Iterable[dict[str, Any]], default: str | None = None) -> set[str | None]:
    return {machine_kind(r, default) for r in records}
