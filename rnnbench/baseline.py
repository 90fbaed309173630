"""Named baselines: a run's comparable essentials, saved to ``reports/baselines/<NAME>.json``.

A baseline is meant to be committed next to the code (CI compares every change against
``baseline:ci``), so the file is plain and diff-friendly: indent 2, sorted keys, and each
list of numbers (the per-step samples) on one line. It carries

* the suite's name, fingerprint and ``[regression]`` table,
* the machine fingerprint and its details (CPU model, cores, Python, framework versions,
  git commit of the run),
* every record (failed ones too: "fixed" and "newly failing" need them) with what a
  comparison reads — settings, status, error, worker environment and the scalar metrics
  plus ``steady_step_samples``; bulky fields (log tails, per-epoch step times, the
  per-epoch table) are dropped.

Anywhere a run is accepted by ``rnnbench compare``, ``baseline:NAME`` (or a bare NAME that
is not also a run id, or the .json path) names a baseline instead.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from rnnbench import paths
from rnnbench.errors import UserError

BASELINE_SCHEMA = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Record fields kept in a baseline; metrics keep scalars plus the steady step samples.
RECORD_FIELDS = ("schema", "run_id", "key", "group", "label", "repeat", "settings", "status", "error",
                 "exit_code", "signal", "env", "started", "finished", "wall_s", "node")
KEPT_LISTS = ("steady_step_samples",)


def baselines_dir() -> Path:
    return paths.reports_dir() / "baselines"


def _check_name(name: str) -> str:
    if not NAME_RE.match(name) or name.endswith(".json"):
        raise UserError(f"{name!r}: not a valid baseline name", hint="letters, digits, '_', '.', '-'")
    return name


def find_baseline(name: str) -> Path | None:
    """The file of a saved baseline, or None."""
    if not NAME_RE.match(name):
        return None
    p = baselines_dir() / f"{name}.json"
    return p if p.is_file() else None


def baseline_path(name: str) -> Path:
    if not NAME_RE.match(name):
        raise UserError(f"{name!r}: not a valid baseline name", hint="letters, digits, '_', '.', '-'")
    p = baselines_dir() / f"{name}.json"
    if not p.is_file():
        known = [b["name"] for b in list_baselines()]
        raise UserError(f"no baseline named '{name}' in {baselines_dir()}",
                        hint=f"saved baselines: {', '.join(known)}" if known
                        else "save one: rnnbench baseline save NAME [RUN]")
    return p


def slim_record(record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a result record a comparison reads."""
    out = {k: record[k] for k in RECORD_FIELDS if k in record}
    metrics = record.get("metrics")
    if isinstance(metrics, dict):
        slim: dict[str, Any] = {}
        for k, v in metrics.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                slim[k] = v
            elif k in KEPT_LISTS and isinstance(v, list):
                slim[k] = v
            elif k == "params" and isinstance(v, dict):
                slim[k] = v
        out["metrics"] = slim
    else:
        out["metrics"] = None
    return out


def build_baseline(name: str, run_ref: str | None = None) -> dict[str, Any]:
    from rnnbench.results import resolve_run

    run = resolve_run(run_ref, kind="suite")
    meta = run.meta()
    if not meta:
        raise UserError(f"{run.path}: no run.json; a baseline needs the run's suite and machine facts")
    try:
        records = run.records()
    except OSError as e:
        raise UserError(f"{run.results}: cannot read: {e.strerror}") from None
    if not records:
        raise UserError(f"{run.path}: no results recorded yet; nothing to save")
    suite = meta.get("suite") or {}
    machine = meta.get("machine") or {}
    return {
        "baseline_schema": BASELINE_SCHEMA,
        "name": name,
        "saved": datetime.now().astimezone().isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "run_created": meta.get("created"),
        "suite": {k: suite.get(k) for k in ("name", "description", "fingerprint", "regression", "varying")},
        "fingerprint": meta.get("fingerprint"),
        "machine": {k: machine.get(k) for k in ("cpu_model", "cpu_count", "memory_gib", "platform", "python",
                                                 "rnnbench", "versions", "git_commit", "hostname")},
        "records": [slim_record(r) for r in records],
    }


def dumps(obj: Any) -> str:
    """JSON with indent 2 and sorted keys, but every list of scalars on a single line."""

    def enc(o: Any, level: int) -> str:
        pad, inner = "  " * level, "  " * (level + 1)
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = [f"{inner}{json.dumps(str(k))}: {enc(o[k], level + 1)}" for k in sorted(o, key=str)]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, (list, tuple)):
            if not o:
                return "[]"
            if all(not isinstance(x, (dict, list, tuple)) for x in o):
                return "[" + ", ".join(json.dumps(x, default=str) for x in o) + "]"
            return "[\n" + ",\n".join(inner + enc(x, level + 1) for x in o) + "\n" + pad + "]"
        return json.dumps(o, default=str)

    return enc(obj, 0) + "\n"


def save_baseline(name: str, run_ref: str | None = None, force: bool = False) -> tuple[Path, dict[str, Any], bool]:
    """Write ``reports/baselines/NAME.json``; returns (path, data, replaced)."""
    _check_name(name)
    path = baselines_dir() / f"{name}.json"
    existed = path.exists()
    if existed and not force:
        raise UserError(f"baseline '{name}' exists ({path})", hint="pass --force to replace it")
    data = build_baseline(name, run_ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps(data), encoding="utf-8")
    tmp.replace(path)
    return path, data, existed


def load_baseline(ref: str | Path) -> dict[str, Any]:
    """A baseline by name (in reports/baselines) or by path to its .json file."""
    p = Path(ref) if (isinstance(ref, Path) or str(ref).endswith(".json")) else baseline_path(str(ref))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p}: no such baseline file") from None
    except OSError as e:
        raise UserError(f"{p}: cannot read: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: unreadable baseline (invalid JSON: {e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise UserError(f"{p}: not an rnnbench baseline (no records)")
    if data.get("baseline_schema", 1) > BASELINE_SCHEMA:
        raise UserError(f"{p}: baseline schema {data['baseline_schema']} is newer than this rnnbench: upgrade")
    data.setdefault("name", p.stem)
    data["_path"] = str(p)
    return data


def list_baselines() -> list[dict[str, Any]]:
    """Summary of every saved baseline (unreadable files listed with their error)."""
    d = baselines_dir()
    out: list[dict[str, Any]] = []
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.json")):
        try:
            data = load_baseline(p)
        except UserError as e:
            out.append({"name": p.stem, "path": str(p), "error": str(e)})
            continue
        recs = data["records"]
        out.append({
            "name": p.stem, "path": str(p), "suite": (data.get("suite") or {}).get("name"),
            "run_id": data.get("run_id"), "saved": data.get("saved"),
            "records": len(recs), "failed": sum(r.get("status") != "ok" for r in recs),
            "cpu_model": (data.get("machine") or {}).get("cpu_model"),
            "fingerprint": data.get("fingerprint"),
            "git_commit": (data.get("machine") or {}).get("git_commit"),
        })
    return out


def cell_summary(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per cell group: processes, failures, median step ms, peak RSS and accuracy."""
    import statistics

    from rnnbench.cells import cell_name, group_records, time_values, varying

    groups = group_records(records)
    varying = varying(groups.values())
    out = []
    for g in groups.values():
        ok = g.ok
        medians, pooled = time_values(ok)
        rss = [r["metrics"]["peak_rss_mb"] for r in ok if isinstance(r["metrics"].get("peak_rss_mb"), (int, float))]
        acc = [r["metrics"]["test_acc"] for r in ok if isinstance(r["metrics"].get("test_acc"), (int, float))]
        out.append({
            "cell": cell_name(g, varying), "settings": g.identity,
            "processes": len(g.records), "failed": len(g.failing),
            "step_ms": statistics.median(medians) * 1e3 if medians else None,
            "step_samples": len(pooled),
            "peak_rss_mb": statistics.median(rss) if rss else None,
            "test_acc": statistics.median(acc) if acc else None,
        })
    return out
