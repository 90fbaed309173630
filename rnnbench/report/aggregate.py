"""From records to report rows: one row per cell group, medians over repeats and seeds.

Cells whose settings are equal except for seed and repeat form a group (see
``Cell.group_key``); when several runs are combined, the same group in two runs stays two
rows (a ``run`` column tells them apart), so a before/after pair is never pooled. Each
numeric column is the median over the group's successful records; a few also carry their
min–max spread (``<col>_min``/``<col>_max``). Failed records are listed apart.

Metrics are computed per record by :data:`METRICS` (a registry: name → title, format,
extractor), so the summary table, the pivot (:func:`pivot`) and the plots read the same
numbers. Derived metrics:

* ``time_to_target_s`` / ``epochs_to_target`` — training time (evaluation excluded) and
  epochs until the first epoch whose validation accuracy (test accuracy in records without a
  validation split) reaches the target: the cell's ``target_accuracy`` or the report's
  ``--target``. Recomputed from the per-epoch evaluations, so a different target needs no
  new run. The group's value is the median over the repeats that reached it; ``target_reached``
  counts them and a group where none did is shown as "never ≥ target".
* ``gflop_per_step``, ``gflops`` — training FLOPs per step from :mod:`rnnbench.flops`, and
  that over the steady step time.
* ``peak_pct`` — ``gflops`` as a percentage of the machine's calibrated float32 matmul peak
  (:mod:`rnnbench.calibrate`): the calibration the run stored in its ``run.json``, else the
  one cached for the run's CPU (``Context.calibrations``; empty when there is neither).

Plain data out (lists of dicts): rendering lives in :mod:`.build`, :mod:`.htmlpage` and
:mod:`.plots`.
"""

from __future__ import annotations

import difflib
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnnbench.cells import kinds_of, machine_kind, machine_label
from rnnbench.epoch_gap import epoch_gaps
from rnnbench.errors import UserError


@dataclass(frozen=True)
class Context:
    """What turns a record into metric values beyond the record itself."""

    target: float | None = None  # overrides each cell's target_accuracy
    calibrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # run_id → calibration

    def target_for(self, rec: dict[str, Any]) -> float | None:
        if self.target is not None:
            return self.target
        return (rec.get("settings") or {}).get("target_accuracy")

    def peak_for(self, rec: dict[str, Any]) -> float | None:
        """The float32 peak a record's GFLOP/s is a fraction of: its GPU's for a GPU cell (``env
        --calibrate --device cuda``), else its run machine's CPU peak."""
        if (rec.get("settings") or {}).get("device", "cpu") != "cpu":
            gpu = (rec.get("env") or {}).get("gpu_name")
            if not gpu:
                return None
            from rnnbench import calibrate

            cal = calibrate.load_gpu(gpu)
            return cal.get("peak_gflops") if cal else None
        cal = self.calibrations.get(rec.get("run_id") or "")
        return cal.get("peak_gflops") if cal else None


def epochs_of(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's per-epoch list, each with ``elapsed_train_s`` (filled in when absent)."""
    out, elapsed = [], 0.0
    for ep in ((rec.get("metrics") or {}).get("epochs") or []):
        elapsed += ep.get("wall_s") or 0.0
        out.append({**ep, "elapsed_train_s": ep.get("elapsed_train_s", elapsed)})
    return out


def _first_at_target(rec: dict[str, Any], target: float | None) -> tuple[int, dict[str, Any]] | None:
    if target is None:
        return None
    for i, ep in enumerate(epochs_of(rec)):
        acc = ep.get("val_acc", ep.get("test_acc"))
        if acc is not None and acc >= target:
            return i + 1, ep
    return None


def time_to_target(rec: dict[str, Any], target: float | None) -> float | None:
    """Training seconds until the first epoch with validation (else test) accuracy ≥ target, else None."""
    hit = _first_at_target(rec, target)
    return hit[1]["elapsed_train_s"] if hit else None


def epochs_to_target(rec: dict[str, Any], target: float | None) -> int | None:
    """Epochs until validation (else test) accuracy first reached ``target``, else None."""
    hit = _first_at_target(rec, target)
    return hit[0] if hit else None


def format_value(value: Any, fmt: str) -> str:
    """A value for a table: ``—`` for None; ``fmt`` is a format string or ``t`` (times: 3
    significant digits below 100 — 0.0123, 1.23, 12.3 — and whole numbers above)."""
    if value is None:
        return "—"
    try:
        if fmt == "t":
            v = float(value)
            if v != 0 and abs(v) < 100:
                digits = max(1, 2 - int(math.floor(math.log10(abs(v)))))
                out = f"{v:.{digits}f}"
                if abs(float(out)) < 100:
                    return out
            return f"{v:.0f}"
        return fmt.format(value)
    except (ValueError, TypeError, OverflowError):
        return str(value)


def _m(name: str) -> Callable[[dict[str, Any], Context], Any]:
    return lambda rec, ctx: (rec.get("metrics") or {}).get(name)


def _param(part: str) -> Callable[[dict[str, Any], Context], Any]:
    return lambda rec, ctx: ((rec.get("metrics") or {}).get("params") or {}).get(part)


def _phase_ms(phase: str) -> Callable[[dict[str, Any], Context], Any]:
    def get(rec: dict[str, Any], ctx: Context) -> float | None:
        v = ((rec.get("metrics") or {}).get("steady_phases_s") or {}).get(phase)
        return v * 1000 if isinstance(v, (int, float)) else None

    return get


def _step_ms(rec: dict[str, Any], ctx: Context) -> float | None:
    s = (rec.get("metrics") or {}).get("steady_step_s")
    return s * 1e3 if s is not None else None


def _flops_per_step(rec: dict[str, Any]) -> float | None:
    """The worker's figure (what the architecture declared), else the built-ins' formula."""
    from rnnbench.flops import train_flops_per_step

    return (rec.get("metrics") or {}).get("train_flops_per_step") or train_flops_per_step(rec.get("settings") or {})


def _gflop_per_step(rec: dict[str, Any], ctx: Context) -> float | None:
    f = _flops_per_step(rec)
    return f / 1e9 if f else None


def _gflops(rec: dict[str, Any], ctx: Context) -> float | None:
    from rnnbench.flops import achieved_gflops

    return achieved_gflops(_flops_per_step(rec), (rec.get("metrics") or {}).get("steady_step_s"))


def _peak_pct(rec: dict[str, Any], ctx: Context) -> float | None:
    g, peak = _gflops(rec, ctx), ctx.peak_for(rec)
    return 100.0 * g / peak if g and peak else None


# Figures a caveat puts in doubt. An epoch padded by time outside its steps (rnnbench.epoch_gap)
# inflates what is read off epoch walls; a busy machine (rnnbench.machine_load) every timing.
EPOCH_WALL_METRICS = ("first_epoch_s", "steady_epoch_s", "time_to_target_s")
MARK = "⚠"


def record_caveats(rec: dict[str, Any]) -> dict[str, str]:
    """The record's caveats: ``{"epoch_gap" | "busy": warning text}`` (empty when none)."""
    m = rec.get("metrics") or {}
    out: dict[str, str] = {}
    warnings = m.get("warnings") or []
    gap = m.get("epoch_gap")
    walls = [e.get("wall_s") for e in m.get("epochs") or []]
    if gap is None and walls and None not in walls and m.get("step_times_s"):  # a record from before the check
        checked = epoch_gaps(m["step_times_s"], walls, gated=bool(rec.get("ab")))
        gap, warnings = checked["epoch_gap"], [*warnings, *checked["warnings"]]
    if (gap or {}).get("flagged"):
        out["epoch_gap"] = next((w for w in warnings if w.startswith("epoch wall time")), "epoch wall time padded")
    if (m.get("machine_load") or {}).get("busy"):
        out["busy"] = next((w for w in warnings if w.startswith("busy machine")), "busy machine")
    return out


def marked(row: dict[str, Any], metric: str, text: str) -> str:
    """A table value with the caveat mark when its row's epoch walls were padded."""
    return f"{text} {MARK}" if metric in EPOCH_WALL_METRICS and row.get("epoch_gap_flagged") and text != "—" else text


def row_label(row: dict[str, Any]) -> str:
    """The row's cell label, saying so when its timings were taken on a busy machine."""
    return f"{row['cell']} {MARK} busy machine" if row.get("busy_machine") else row["cell"]


def caveat_notes(summary: "Summary") -> list[str]:
    """One line per row and caveat, for the reports' caveats section (empty when none)."""
    what = {"epoch_gap": "epoch times marked " + MARK, "busy": "all timings (busy machine)"}
    lines = []
    for row in summary.rows:
        for kind, (count, text) in row.get("_caveats", {}).items():
            lines.append(f"{row['cell']} — {what[kind]}, {count} of {row['n']} runs: {text}")
    return lines


def threads_text(env: dict[str, Any]) -> str | None:
    """The threads a cell really ran with, as the worker recorded them: intra-op, inter-op, cores."""
    threads = env.get("threads")
    if threads is None:
        return None
    inter = env.get("interop_threads") or env.get("inter_op_threads_config") or env.get("TF_NUM_INTEROP_THREADS")
    cores = env.get("cpu_affinity")
    bits = [str(threads)]
    if inter:
        bits.append(f"inter-op {inter}")
    if cores:
        bits.append(f"cores {','.join(str(c) for c in cores)}")
    return bits[0] + (f" ({'; '.join(bits[1:])})" if len(bits) > 1 else "")


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    fmt: str
    get: Callable[[dict[str, Any], Context], Any]
    help: str
    spread: bool = False  # keep min/max over repeats (error bars, accuracy spread)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("params_total", "params", "{:,.0f}", _m("params_total"), "trainable parameters"),
    Metric("params_embedding", "embedding params", "{:,.0f}", _param("embedding"), "embedding parameters"),
    Metric("params_recurrent", "recurrent params", "{:,.0f}", _param("recurrent"), "recurrent-layer parameters"),
    Metric("params_head", "head params", "{:,.0f}", _param("head"), "output-layer parameters"),
    Metric("first_epoch_s", "first epoch s", "t", _m("first_epoch_s"),
           "first epoch's training time (warm-up, compilation)", spread=True),
    Metric("steady_epoch_s", "steady epoch s", "t", _m("steady_epoch_s"),
           "median training time of the epochs after the first", spread=True),
    Metric("steady_step_ms", "steady step ms", "t", _step_ms, "median step time after warm-up", spread=True),
    Metric("forward_ms", "forward ms", "t", _phase_ms("forward"),
           "median forward time (model and loss) of the steady steps, where the backend splits the step"),
    Metric("backward_ms", "backward ms", "t", _phase_ms("backward"), "median backward time of the steady steps"),
    Metric("optimizer_ms", "optimizer ms", "t", _phase_ms("optimizer"),
           "median optimizer time (zeroing gradients and the update) of the steady steps"),
    Metric("samples_per_s", "samples/s", "{:,.0f}", _m("samples_per_s"),
           "training samples per second of the steady-state steps"),
    Metric("eval_first_s", "first eval s", "t", _m("eval_first_s"),
           "the first evaluation's time (Keras compiles predict there)"),
    Metric("eval_s", "eval s", "t", _m("eval_s"), "median evaluation time of the epochs after the first"),
    Metric("peak_rss_mb", "peak RSS MB", "{:,.0f}", _m("peak_rss_mb"),
           "peak resident memory of the worker process (framework and data included)", spread=True),
    Metric("device_peak_mb", "device MB", "{:,.0f}", _m("device_peak_mb"),
           "GPU cells: the framework's own peak of device memory", spread=True),
    Metric("rss_after_import_mb", "RSS after import MB", "{:,.0f}", _m("rss_after_import_mb"),
           "resident memory right after the framework import", spread=True),
    Metric("train_loss", "train loss", "{:.4f}", _m("train_loss"), "last epoch's training loss"),
    Metric("test_loss", "test loss", "{:.4f}", _m("test_loss"), "test loss at the selected epoch"),
    Metric("test_acc", "test acc", "{:.4f}", _m("test_acc"),
           "test accuracy at the selected epoch (best validation accuracy, else the last)", spread=True),
    Metric("val_acc", "val acc", "{:.4f}", _m("val_acc"), "validation accuracy at the selected epoch", spread=True),
    Metric("train_acc", "train acc", "{:.4f}", _m("train_acc"),
           "training accuracy at the selected epoch (fixed training subset, evaluation mode)", spread=True),
    Metric("generalization_gap", "gap", "{:+.4f}", _m("generalization_gap"),
           "training minus validation accuracy at the selected epoch", spread=True),
    Metric("selected_epoch", "epoch", "{:.0f}", _m("selected_epoch"), "the epoch the result figures come from"),
    Metric("time_to_target_s", "time to target s", "t",
           lambda rec, ctx: time_to_target(rec, ctx.target_for(rec)),
           "training seconds until validation (else test) accuracy first reached the target", spread=True),
    Metric("epochs_to_target", "epochs to target", "{:.0f}",
           lambda rec, ctx: epochs_to_target(rec, ctx.target_for(rec)),
           "epochs until validation (else test) accuracy first reached the target", spread=True),
    Metric("infer_b1_p50_ms", "batch-1 p50 ms", "t", _m("infer_b1_p50_ms"),
           "task = infer: median latency of one review (forward only)", spread=True),
    Metric("infer_b1_p99_ms", "batch-1 p99 ms", "t", _m("infer_b1_p99_ms"), "task = infer: 99th-percentile latency of one review"),
    Metric("infer_bn_p50_ms", "batch p50 ms", "t", _m("infer_bn_p50_ms"),
           "task = infer: median latency of a batch of batch_size reviews", spread=True),
    Metric("infer_bn_p99_ms", "batch p99 ms", "t", _m("infer_bn_p99_ms"), "task = infer: 99th percentile at batch_size"),
    Metric("infer_bn_samples_per_s", "infer samples/s", "{:,.0f}", _m("infer_bn_samples_per_s"),
           "task = infer: reviews served per second at batch_size"),
    Metric("stream_p50_ms", "ms/token p50", "{:.3f}", _m("stream_p50_ms"),
           "task = infer: median latency of one streamed token (state carried)", spread=True),
    Metric("stream_p99_ms", "ms/token p99", "{:.3f}", _m("stream_p99_ms"), "task = infer: 99th percentile per token"),
    Metric("gflop_per_step", "GFLOP/step", "{:.2f}", _gflop_per_step,
           "training FLOPs per step (rnnbench.flops; 3 × forward matmul work)"),
    Metric("gflops", "GFLOP/s", "{:.1f}", _gflops, "achieved: FLOPs per step / steady step time", spread=True),
    Metric("peak_pct", "% of peak", "{:.1f}", _peak_pct,
           "GFLOP/s as a percentage of the machine's float32 matmul peak (measured by rnnbench run once per "
           "machine, or by rnnbench env --calibrate)"),
)}

# The summary table's metric columns (Markdown, CSV, HTML); the terminal shows TERMINAL_COLUMNS.
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (m.name, m.title, m.fmt) for m in METRICS.values()
    if m.name in ("params_total", "first_epoch_s", "steady_epoch_s", "steady_step_ms", "samples_per_s",
                  "eval_s", "peak_rss_mb", "test_loss", "test_acc", "time_to_target_s", "gflops", "peak_pct")
)
TERMINAL_COLUMNS = ("params_total", "first_epoch_s", "steady_epoch_s", "steady_step_ms", "samples_per_s",
                    "peak_rss_mb", "device_peak_mb", "test_acc", "time_to_target_s", "gflops", "peak_pct",
                    "infer_b1_p50_ms", "infer_bn_p50_ms", "stream_p50_ms")  # inference: shown when measured

# Settings shown in the cell label (or pooled, for seed) rather than as columns.
LABEL_SETTINGS = ("arch", "backend", "seed", "bidirectional", "layers", "impl", "timeout", "fault")


@dataclass(frozen=True)
class Summary:
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    varying: list[str]
    runs: list[str] = field(default_factory=list)
    context: Context = field(default_factory=Context)


def metric_values(rec: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
    ctx = ctx or Context()
    out = {}
    for m in METRICS.values():
        try:
            out[m.name] = m.get(rec, ctx)
        except (TypeError, ValueError, KeyError, ZeroDivisionError):
            out[m.name] = None
    return out


def varying_settings(records: list[dict[str, Any]]) -> list[str]:
    """Settings that differ between records (beyond arch/backend, shown in the label)."""
    keys: list[str] = []
    for rec in records:
        for k in rec.get("settings", {}):
            if k not in keys:
                keys.append(k)
    out = []
    for k in keys:
        if k in LABEL_SETTINGS:
            continue
        vals = {json.dumps(r.get("settings", {}).get(k), sort_keys=True) for r in records}
        if len(vals) > 1:
            out.append(k)
    return out


def model_name(label: str) -> str:
    """A cell label without its backend: ``GRU-bi / torch`` → ``GRU-bi``."""
    return label.split(" / ", 1)[0]


def group_records(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Records by group; a group present in several runs is split by run (never pooled), and by
    the kind of machine that ran it when the records ran on several (a Ray cluster of mixed nodes)."""
    runs_of: dict[str, set[str]] = {}
    for rec in records:
        runs_of.setdefault(rec["group"], set()).add(rec.get("run_id") or "")
    by_kind = len(kinds_of(records)) > 1
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for rec in records:
        g = rec["group"]
        run = rec.get("run_id") or "" if len(runs_of[g]) > 1 else ""
        groups.setdefault((g, run, machine_kind(rec) or "" if by_kind else ""), []).append(rec)
    return groups


def _failure(r: dict[str, Any]) -> dict[str, Any]:
    return {"label": r.get("label"), "repeat": r.get("repeat"), "seed": (r.get("settings") or {}).get("seed"),
            "status": r.get("status"), "error": r.get("error"), "exit_code": r.get("exit_code"),
            "signal": r.get("signal"), "log_tail": r.get("log_tail") or "", "run_id": r.get("run_id"),
            "log": r.get("log"), "wall_s": r.get("wall_s")}


def summarize(records: list[dict[str, Any]], context: Context | None = None) -> Summary:
    ctx = context or Context()
    groups = group_records(records)
    varying = varying_settings(records)
    split_by_run = any(run for _, run, _ in groups)
    split_by_kind = any(kind for _, _, kind in groups)
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for (_, run, _), recs in groups.items():
        ok = [r for r in recs if r.get("status") == "ok"]
        failures.extend(_failure(r) for r in recs if r.get("status") != "ok")
        first = recs[0]
        settings = first.get("settings") or {}
        row: dict[str, Any] = {
            "cell": first["label"],
            "model": model_name(first["label"]),
            "arch": settings.get("arch"),
            "backend": settings.get("backend"),
        }
        if split_by_run:
            row["run"] = first.get("run_id")
        if split_by_kind:
            row["machine"] = machine_label(first)
        row.update({k: settings.get(k) for k in varying})
        row.update({"n": len(ok), "failed": len(recs) - len(ok)})
        values = [metric_values(r, ctx) for r in ok]
        for m in METRICS.values():
            xs = [v[m.name] for v in values if v[m.name] is not None]
            row[m.name] = statistics.median(xs) if xs else None
            if m.spread:
                row[f"{m.name}_min"] = min(xs) if xs else None
                row[f"{m.name}_max"] = max(xs) if xs else None
        targets = {ctx.target_for(r) for r in recs}
        row["target_accuracy"] = targets.pop() if len(targets) == 1 else None
        row["target_reached"] = sum(v["time_to_target_s"] is not None for v in values)
        row["time_to_target"] = time_to_target_text(row)
        row["kernel"] = (ok[0].get("env") or {}).get("kernel") if ok else None
        row["threads"] = threads_text(ok[0].get("env") or {}) if ok else None
        row["group"] = first["group"]
        caveats: dict[str, tuple[int, str]] = {}
        for r in ok:
            for kind, text in record_caveats(r).items():
                count, first_text = caveats.get(kind, (0, text))
                caveats[kind] = (count + 1, first_text)
        row["epoch_gap_flagged"] = caveats.get("epoch_gap", (0, ""))[0]
        row["busy_machine"] = caveats.get("busy", (0, ""))[0]
        row["_caveats"] = caveats
        row["_records"] = ok  # for plots; keys starting with "_" stay out of tables and CSV
        rows.append(row)
    runs = sorted({r.get("run_id") for r in records if r.get("run_id")})
    return Summary(rows=rows, failures=failures,
                   varying=(["run"] if split_by_run else []) + (["machine"] if split_by_kind else []) + varying,
                   runs=runs, context=ctx)


def time_to_target_text(row: dict[str, Any]) -> str:
    """``12.3``, ``12.3 (2/3 reached)``, ``never ≥ 0.85``, or ``—`` without successful runs."""
    n = row.get("n") or 0
    if not n:
        return "—"
    target = row.get("target_accuracy")
    if not row.get("target_reached"):
        return f"never ≥ {target:g}" if target is not None else "never"
    text = format_value(row["time_to_target_s"], "t")
    if row["target_reached"] < n:
        text += f" ({row['target_reached']}/{n} reached)"
    return text


# --- pivot -------------------------------------------------------------------------------

PIVOT_FIELDS_EXTRA = ("cell", "model", "run")


@dataclass(frozen=True)
class Pivot:
    metric: str
    rows: list[str]
    cols: list[str]
    row_keys: list[tuple[Any, ...]]
    col_keys: list[tuple[Any, ...]]
    values: dict[tuple[tuple[Any, ...], tuple[Any, ...]], dict[str, Any]]  # (row, col) → {value, n, reached, pooled}
    notes: list[str]

    @property
    def title(self) -> str:
        m = METRICS[self.metric]
        by = " × ".join(filter(None, [", ".join(self.rows), ", ".join(self.cols)]))
        return f"{m.title} by {by}"

    def text(self, cell: dict[str, Any] | None) -> str:
        if not cell or not cell["n"]:
            return "—"
        if self.metric == "time_to_target_s":
            if cell["value"] is None:
                t = cell.get("target")
                return f"never ≥ {t:g}" if t is not None else "never"
            text = format_value(cell["value"], "t")
            return text + (f" ({cell['reached']}/{cell['n']} reached)" if cell["reached"] < cell["n"] else "")
        return format_value(cell["value"], METRICS[self.metric].fmt)

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and formatted rows (row labels first)."""
        col_names = [" · ".join(_show(v) for v in ck) or METRICS[self.metric].title for ck in self.col_keys]
        header = [*self.rows, *col_names] if self.rows else ["", *col_names]
        out = []
        for rk in self.row_keys:
            labels = [_show(v) for v in rk] if self.rows else [METRICS[self.metric].title]
            out.append([*labels, *[self.text(self.values.get((rk, ck))) for ck in self.col_keys]])
        return header, out

    def records(self) -> list[dict[str, Any]]:
        """Long form for CSV: one line per (row, col) with the numeric value."""
        out = []
        for (rk, ck), cell in self.values.items():
            out.append({**dict(zip(self.rows, rk)), **dict(zip(self.cols, ck)), "metric": self.metric,
                        "value": cell["value"], "n": cell["n"], "text": self.text(cell)})
        return out


def _show(v: Any) -> str:
    return "—" if v is None else str(v)


def _field(rec: dict[str, Any], name: str) -> Any:
    if name == "cell":
        return rec.get("label")
    if name == "model":
        return model_name(rec.get("label") or "")
    if name == "run":
        return rec.get("run_id")
    v = (rec.get("settings") or {}).get(name)
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def check_names(rows: list[str], cols: list[str], metrics: list[str]) -> None:
    from rnnbench.suite import SETTING_NAMES

    fields = (*PIVOT_FIELDS_EXTRA, *SETTING_NAMES)
    for name in (*rows, *cols):
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else "; use a setting name, cell, model or run"
            raise UserError(f"--rows/--cols: unknown field '{name}'{hint}")
    overlap = set(rows) & set(cols)
    if overlap:
        raise UserError(f"--rows/--cols: '{sorted(overlap)[0]}' is on both axes")
    for name in metrics:
        if name not in METRICS:
            close = difflib.get_close_matches(name, list(METRICS), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; one of: {', '.join(METRICS)}"
            raise UserError(f"--metric: unknown metric '{name}'{hint}")


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v))
                 for v in key)


def pivot(records: list[dict[str, Any]], rows: list[str], cols: list[str], metric: str,
          context: Context | None = None) -> Pivot:
    """``metric`` with ``rows`` fields down and ``cols`` fields across.

    Each pivot cell is the median over the successful records falling in it. When records
    of differing configurations fall in one pivot cell (a setting that varies but is on
    neither axis), they are pooled and a note names the settings.
    """
    check_names(rows, cols, [metric])
    ctx = context or Context()
    varying = varying_settings(records)
    cells: dict[tuple[tuple[Any, ...], tuple[Any, ...]], list[dict[str, Any]]] = {}
    order_r: list[tuple[Any, ...]] = []
    order_c: list[tuple[Any, ...]] = []
    for rec in records:
        rk = tuple(_field(rec, f) for f in rows)
        ck = tuple(_field(rec, f) for f in cols)
        if rk not in order_r:
            order_r.append(rk)
        if ck not in order_c:
            order_c.append(ck)
        cells.setdefault((rk, ck), []).append(rec)
    values: dict[tuple[tuple[Any, ...], tuple[Any, ...]], dict[str, Any]] = {}
    pooled: set[str] = set()
    axes = set(rows) | set(cols)
    identity = [k for k in (*varying, "arch", "backend", "layers", "bidirectional", "impl") if k not in axes]
    for key, recs in cells.items():
        ok = [r for r in recs if r.get("status") == "ok"]
        xs = [v for v in (metric_values(r, ctx)[metric] for r in ok) if v is not None]
        for k in identity:
            if "cell" in axes and k in ("arch", "backend", "layers", "bidirectional", "impl"):
                continue
            if "model" in axes and k in ("arch", "layers", "bidirectional", "impl"):
                continue
            if len({json.dumps((r.get("settings") or {}).get(k), sort_keys=True) for r in ok}) > 1:
                pooled.add(k)
        targets = {ctx.target_for(r) for r in ok}
        values[key] = {"value": statistics.median(xs) if xs else None, "n": len(ok), "reached": len(xs),
                       "target": targets.pop() if len(targets) == 1 else None}
    notes = []
    if pooled:
        notes.append(f"pooled across differing {', '.join(sorted(pooled))} (add them to --rows/--cols to separate)")
    return Pivot(metric=metric, rows=rows, cols=cols, row_keys=sorted(order_r, key=_sort_key),
                 col_keys=sorted(order_c, key=_sort_key), values=values, notes=notes)
