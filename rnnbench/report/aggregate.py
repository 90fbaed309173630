"""From records to report rows: one row per cell group, medians over repeats and seeds.

Cells whose settings are equal except for seed and repeat form a group (see
``Cell.group_key``); each numeric column is the median over the group's successful
records, accuracy also with its min–max spread. Failed records are listed apart.
Plain data out (lists of dicts / DataFrames): rendering lives in :mod:`.build`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

# (column, title, source in metrics or a callable, format)
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("params_total", "params", "{:,.0f}"),
    ("first_epoch_s", "first epoch s", "{:.1f}"),
    ("steady_epoch_s", "steady epoch s", "{:.1f}"),
    ("steady_step_ms", "steady step ms", "{:.1f}"),
    ("samples_per_s", "samples/s", "{:,.0f}"),
    ("eval_s", "eval s", "{:.1f}"),
    ("peak_rss_mb", "peak RSS MB", "{:,.0f}"),
    ("test_loss", "test loss", "{:.4f}"),
    ("test_acc", "test acc", "{:.4f}"),
    ("time_to_target_s", "time to target s", "{:.1f}"),
)


@dataclass(frozen=True)
class Summary:
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    varying: list[str]
    runs: list[str] = field(default_factory=list)


def _metric_values(rec: dict[str, Any]) -> dict[str, Any]:
    m = rec.get("metrics") or {}
    return {
        "params_total": m.get("params_total"),
        "first_epoch_s": m.get("first_epoch_s"),
        "steady_epoch_s": m.get("steady_epoch_s"),
        "steady_step_ms": m["steady_step_s"] * 1e3 if m.get("steady_step_s") is not None else None,
        "samples_per_s": m.get("samples_per_s"),
        "eval_s": m.get("eval_s"),
        "peak_rss_mb": m.get("peak_rss_mb"),
        "test_loss": m.get("test_loss"),
        "test_acc": m.get("test_acc"),
        "time_to_target_s": m.get("time_to_target_s"),
    }


def varying_settings(records: list[dict[str, Any]]) -> list[str]:
    """Settings that differ between records (beyond arch/backend, shown in the label)."""
    import json

    keys: list[str] = []
    for rec in records:
        for k in rec.get("settings", {}):
            if k not in keys:
                keys.append(k)
    out = []
    for k in keys:
        if k in ("arch", "backend", "seed", "bidirectional", "layers", "impl", "timeout", "fault"):
            continue
        vals = {json.dumps(r.get("settings", {}).get(k), sort_keys=True) for r in records}
        if len(vals) > 1:
            out.append(k)
    return out


def summarize(records: list[dict[str, Any]]) -> Summary:
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault(rec["group"], []).append(rec)
    varying = varying_settings(records)
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for recs in groups.values():
        ok = [r for r in recs if r["status"] == "ok"]
        for r in recs:
            if r["status"] != "ok":
                failures.append(
                    {"label": r["label"], "repeat": r.get("repeat"), "seed": r["settings"].get("seed"),
                     "status": r["status"], "error": r.get("error"), "exit_code": r.get("exit_code"),
                     "signal": r.get("signal"), "log_tail": r.get("log_tail") or "", "run_id": r.get("run_id"),
                     "log": r.get("log")}
                )
        first = recs[0]
        row: dict[str, Any] = {
            "cell": first["label"],
            "arch": first["settings"]["arch"],
            "backend": first["settings"]["backend"],
            **{k: first["settings"].get(k) for k in varying},
            "n": len(ok),
            "failed": len(recs) - len(ok),
        }
        values = [_metric_values(r) for r in ok]
        for col, _, _ in METRIC_COLUMNS:
            xs = [v[col] for v in values if v[col] is not None]
            row[col] = statistics.median(xs) if xs else None
        accs = [v["test_acc"] for v in values if v["test_acc"] is not None]
        row["test_acc_min"] = min(accs) if accs else None
        row["test_acc_max"] = max(accs) if accs else None
        params = (ok[0]["metrics"].get("params") if ok else None) or {}
        for part in ("embedding", "recurrent", "head"):
            row[f"params_{part}"] = params.get(part)
        row["target_accuracy"] = first["settings"].get("target_accuracy")
        row["kernel"] = ((ok[0].get("env") or {}).get("kernel") if ok else None)
        rows.append(row)
    runs = sorted({r.get("run_id") for r in records if r.get("run_id")})
    return Summary(rows=rows, failures=failures, varying=varying, runs=runs)
