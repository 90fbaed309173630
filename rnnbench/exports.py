"""Exports of one run (or baseline) for tools outside rnnbench.

* github-action-benchmark JSON (https://github.com/benchmark-action/github-action-benchmark,
  "custom" tools): a list of ``{"name", "unit", "value", "range"?, "extra"?}`` objects —
  ``range`` and ``extra`` are free text shown in the chart's tooltip. One file for
  ``tool: customSmallerIsBetter`` (steady step ms, peak RSS MB) and one for
  ``tool: customBiggerIsBetter`` (test accuracy %, training samples/s), since the action
  takes one direction per file. Names are ``<cell> - <metric>``, stable while the suite
  is, so the action's history lines up run after run.
* A CSV history: one row per run and cell appended to a file (run id, timestamp, git
  commit, cell, metrics); exporting the same run twice adds nothing.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError

HISTORY_COLUMNS = (
    "run_id", "timestamp", "git_commit", "suite", "machine_fingerprint", "cpu_model", "cell", "group",
    "processes", "failed", "steady_step_ms", "steady_step_ms_min", "steady_step_ms_max", "peak_rss_mb",
    "test_acc", "samples_per_s", "first_epoch_s", "steady_epoch_s",
)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def cell_stats(snapshot: Any) -> list[dict[str, Any]]:
    """Per cell group of a snapshot: the medians over its successful processes."""
    from rnnbench.cells import cell_name, group_records, metric_values, time_values, varying

    groups = group_records(snapshot.records)
    varying = varying(groups.values())
    out = []
    for g in groups.values():
        ok = g.ok
        medians, pooled = time_values(ok)
        out.append({
            "cell": cell_name(g, varying),
            "group": g.key,
            "processes": len(g.records),
            "failed": len(g.failing),
            "ok": len(ok),
            "step_medians_ms": [m * 1e3 for m in medians],
            "step_samples": len(pooled),
            "steady_step_ms": _median(medians) * 1e3 if medians else None,
            "peak_rss_mb": _median(metric_values(ok, "peak_rss_mb")),
            "test_acc": _median(metric_values(ok, "test_acc")),
            "test_accs": metric_values(ok, "test_acc"),
            "rss_values": metric_values(ok, "peak_rss_mb"),
            "samples_per_s": _median(metric_values(ok, "samples_per_s")),
            "first_epoch_s": _median(metric_values(ok, "first_epoch_s")),
            "steady_epoch_s": _median(metric_values(ok, "steady_epoch_s")),
        })
    return out


def _spread(values: list[float], digits: int) -> str | None:
    if len(values) < 2:
        return None
    return f"± {round((max(values) - min(values)) / 2, digits)}"


def benchmark_entries(snapshot: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(smaller-is-better, bigger-is-better) entries in github-action-benchmark's custom format."""
    where = f"run {snapshot.run_id or snapshot.ref}"
    if snapshot.git_commit:
        where += f", commit {snapshot.git_commit[:12]}"
    smaller: list[dict[str, Any]] = []
    bigger: list[dict[str, Any]] = []

    def entry(name: str, unit: str, value: float, spread: str | None, extra: str) -> dict[str, Any]:
        e: dict[str, Any] = {"name": name, "unit": unit, "value": value}
        if spread:
            e["range"] = spread
        e["extra"] = extra
        return e

    for c in cell_stats(snapshot):
        n = f"{c['ok']} process{'es' if c['ok'] != 1 else ''}"
        if c["steady_step_ms"] is not None:
            meds = c["step_medians_ms"]
            extra = f"median of {n} ({c['step_samples']} steady steps)"
            if len(meds) > 1:
                extra += f"; per-process medians {min(meds):.3f}–{max(meds):.3f} ms"
            smaller.append(entry(f"{c['cell']} - steady step", "ms", round(c["steady_step_ms"], 4),
                                 _spread(meds, 4), f"{extra}\n{where}"))
        if c["peak_rss_mb"] is not None:
            smaller.append(entry(f"{c['cell']} - peak RSS", "MB", round(c["peak_rss_mb"], 1),
                                 _spread(c["rss_values"], 1), f"median of {n}\n{where}"))
        if c["test_acc"] is not None:
            accs = [a * 100 for a in c["test_accs"]]
            bigger.append(entry(f"{c['cell']} - test accuracy", "%", round(c["test_acc"] * 100, 3),
                                _spread(accs, 3), f"median of {n} (seeds)\n{where}"))
        if c["samples_per_s"] is not None:
            bigger.append(entry(f"{c['cell']} - training throughput", "samples/s", round(c["samples_per_s"], 1),
                                None, f"median of {n}\n{where}"))
    return smaller, bigger


def write_json(path: str | Path, data: Any) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as e:
        raise UserError(f"{p}: cannot write: {e.strerror}") from None
    return p


def history_rows(snapshot: Any) -> list[dict[str, Any]]:
    run_id = snapshot.run_id or snapshot.ref
    rows = []
    for c in cell_stats(snapshot):
        meds = c["step_medians_ms"]
        rows.append({
            "run_id": run_id,
            "timestamp": snapshot.created or "",
            "git_commit": snapshot.git_commit or "",
            "suite": snapshot.suite.get("name") or "",
            "machine_fingerprint": snapshot.fingerprint or "",
            "cpu_model": snapshot.machine.get("cpu_model") or "",
            "cell": c["cell"],
            "group": c["group"],
            "processes": c["processes"],
            "failed": c["failed"],
            "steady_step_ms": _r(c["steady_step_ms"], 4),
            "steady_step_ms_min": _r(min(meds), 4) if meds else "",
            "steady_step_ms_max": _r(max(meds), 4) if meds else "",
            "peak_rss_mb": _r(c["peak_rss_mb"], 1),
            "test_acc": _r(c["test_acc"], 5),
            "samples_per_s": _r(c["samples_per_s"], 1),
            "first_epoch_s": _r(c["first_epoch_s"], 3),
            "steady_epoch_s": _r(c["steady_epoch_s"], 3),
        })
    return rows


def _r(v: float | None, digits: int) -> Any:
    return "" if v is None else round(v, digits)


def append_history(snapshot: Any, path: str | Path) -> tuple[Path, int]:
    """Append one row per cell of ``snapshot`` to a CSV file; returns (path, rows added).

    A run already in the file is not added again, so re-running a CI job is harmless.
    An existing file keeps its header (columns it lacks are left out).
    """
    p = Path(path)
    rows = history_rows(snapshot)
    header: list[str] = list(HISTORY_COLUMNS)
    seen: set[str] = set()
    try:
        if p.exists() and p.stat().st_size > 0:
            with open(p, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if not reader.fieldnames or "run_id" not in reader.fieldnames:
                    raise UserError(f"{p}: not an rnnbench history file (no run_id column)")
                header = list(reader.fieldnames)
                seen = {r.get("run_id") or "" for r in reader}
            new_file = False
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            new_file = True
        if rows and rows[0]["run_id"] in seen:
            return p, 0
        with open(p, "a", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
            if new_file:
                w.writeheader()
            w.writerows(rows)
    except OSError as e:
        raise UserError(f"{p}: cannot update history: {e.strerror}") from None
    except csv.Error as e:
        raise UserError(f"{p}: unreadable history CSV: {e}") from None
    return p, len(rows)


def export(snapshot: Any, smaller: str | Path | None, bigger: str | Path | None,
           history: str | Path | None) -> list[str]:
    """Write whichever exports are asked for; returns one line per file for the user."""
    done = []
    s, b = benchmark_entries(snapshot)
    if smaller:
        done.append(f"wrote {write_json(smaller, s)} ({len(s)} smaller-is-better entries)")
    if bigger:
        done.append(f"wrote {write_json(bigger, b)} ({len(b)} bigger-is-better entries)")
    if history:
        p, n = append_history(snapshot, history)
        run = snapshot.run_id or snapshot.ref
        done.append(f"appended {n} rows to {p}" if n else f"{p}: run {run} already recorded")
    return done
