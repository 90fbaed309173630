"""The identity of a cell: which settings make two records the same measurement.

One definition, used wherever records are grouped — a suite's cells and their group keys
(:mod:`rnnbench.suite`), run-to-run and baseline matching (:mod:`rnnbench.compare`,
:mod:`rnnbench.baseline`, :mod:`rnnbench.exports`), A/B pairing (:mod:`rnnbench.ab`) and the
report's findings. Imports nothing else of rnnbench, so every layer can use it.

Also where a record ran: :func:`machine_kind` (the fingerprint of the node that ran it), by
which reports split groups and comparisons refuse to pair timings across kinds of machine.

Left out of the identity: the seed (seeds pool like repeats), the harness knobs
(``timeout``, ``target_accuracy``, ``fault``, ``memory_limit_mb``, ``retries``, ``ray_resources``) and, where a caller asks (``compare``, which
must match a candidate with ``extra_work`` to its plain baseline), more.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from dataclasses import dataclass
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


# -- grouping records of stored runs ---------------------------------------------------------

FAILING = ("error", "crashed", "timeout", "unavailable", "diverged", "out_of_memory", "skipped")
# Left out when matching records across runs: a candidate run with ``extra_work = 0.05`` (a
# simulated slowdown) must match the plain baseline, not look like a different cell.
MATCH_IGNORED = ("extra_work",)


def setting_defaults() -> dict[str, Any]:
    try:
        from rnnbench.suite import CellSettings

        return {k: f.default for k, f in CellSettings.model_fields.items()}
    except Exception:  # pragma: no cover - pydantic always present with rnnbench
        return {}


def match_identity(settings: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings that must match for two records of different runs to be the same measurement."""
    return identity(settings, defaults, MATCH_IGNORED)


@dataclass
class Group:
    key: str
    label: str
    identity: dict[str, Any]
    records: list[dict[str, Any]]
    settings: dict[str, Any]  # the first record's full settings

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok" and r.get("metrics")]

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") in FAILING]


def group_records(records: Iterable[dict[str, Any]]) -> dict[str, Group]:
    defaults = setting_defaults()
    groups: dict[str, Group] = {}
    for r in records:
        ident = match_identity(r.get("settings") or {}, defaults)
        key = digest(ident)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(key=key, label=r.get("label") or key, identity=ident, records=[],
                                    settings=dict(r.get("settings") or {}))
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
