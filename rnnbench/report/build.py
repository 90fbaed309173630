"""Render runs' results: a rich table in the terminal, and report files.

``write_reports`` reads only the stored results (never a live run) and writes into
``reports/<run-id>/`` (or ``reports/combined-<ids>/`` for several runs):

* ``md`` — ``report.md`` (tables; links the figures, written next to it as ``<name>.svg``);
* ``csv`` — ``results.csv`` (one row per cell group, numeric columns), and
  ``pivot-<metric>.csv`` for each pivot (long form: one line per row/column pair);
* ``html`` — ``index.html``: one self-contained page (tables, inline SVG figures,
  environment, failures with their log tails); see :mod:`.htmlpage`.

The default is all three (:data:`DEFAULT_FORMATS`). Figures need matplotlib
(``pip install 'rnnbench[plots]'``); without it the reports hold the tables and say so.
A pivot (``rows``/``cols``/``metrics``) is shown in every format. Options not given fall
back to the suite's ``[report]`` table (``formats``, ``rows``, ``cols``, ``metric``,
``target``) when the (first) run's suite has one.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from rnnbench import calibrate, paths
from rnnbench.errors import UserError
from rnnbench.markdown import escape as md_escape
from rnnbench.report.aggregate import (METRIC_COLUMNS, format_value, METRICS, TERMINAL_COLUMNS, Context, Pivot, Summary,
                                       caveat_notes, marked, row_label,
                                       check_names, pivot, summarize)
from rnnbench.results import RunDir, resolve_run

FORMATS = ("md", "csv", "html")
DEFAULT_FORMATS = FORMATS


def _fmt(value: Any, fmt: str) -> str:
    return format_value(value, fmt)


def _acc_cell(row: dict[str, Any]) -> str:
    acc = _fmt(row["test_acc"], "{:.4f}")
    if row.get("n", 0) > 1 and row.get("test_acc_min") is not None:
        acc += f" ({row['test_acc_min']:.3f}–{row['test_acc_max']:.3f})"
    return acc


def table_rows(summary: Summary, columns: tuple[str, ...] | None = None,
               compact: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows shared by the terminal and Markdown renderers.

    ``compact`` (the terminal): accuracy to 3 decimals without its min–max spread.
    """
    from rnnbench.report.plots import ordered

    cols = (list(METRIC_COLUMNS) if columns is None
            else [(c, METRICS[c].title, METRICS[c].fmt) for c in columns])
    header = ["cell", *summary.varying, "n"] + [title for _, title, _ in cols]
    rows = []
    for r in ordered(summary.rows):
        cells = [row_label(r), *[str(r.get(k)) for k in summary.varying], str(r["n"])]
        for col, _, fmt in cols:
            if col == "test_acc":
                cells.append(_fmt(r.get("test_acc"), "{:.3f}") if compact else _acc_cell(r))
            elif col == "time_to_target_s":
                text = r.get("time_to_target") or "—"
                cells.append(marked(r, col, text.replace(" reached)", ")") if compact else text))
            else:
                cells.append(marked(r, col, _fmt(r.get(col), fmt)))
        rows.append(cells)
    return header, rows


# (metric, short title) for the terminal; dropped right to left of DROP_ORDER when too wide
TERMINAL_TITLES = {"params_total": "params", "first_epoch_s": "1st epoch s", "steady_epoch_s": "epoch s",
                   "steady_step_ms": "step ms", "samples_per_s": "samples/s", "peak_rss_mb": "RSS MB",
                   "device_peak_mb": "device MB",
                   "test_acc": "test acc", "time_to_target_s": "to target s", "gflops": "GFLOP/s",
                   "peak_pct": "% peak", "infer_b1_p50_ms": "b1 p50 ms", "infer_bn_p50_ms": "batch p50 ms",
                   "stream_p50_ms": "ms/token"}
DROP_ORDER = ("infer_bn_p50_ms", "device_peak_mb", "samples_per_s", "params_total", "peak_pct", "gflops", "first_epoch_s", "peak_rss_mb",
              "steady_epoch_s", "time_to_target_s", "test_acc")


def _terminal_columns(summary: Summary, width: int | None) -> tuple[list[str], list[str]]:
    """The metric columns that fit ``width`` (those with no value at all are left out)."""
    header, rows = table_rows(summary, TERMINAL_COLUMNS, compact=True)
    fixed = 1 + len(summary.varying) + 1
    cols = [c for c in TERMINAL_COLUMNS]
    widths = {}
    for i, col in enumerate(cols):
        values = [r[fixed + i] for r in rows]
        if rows and all(v == "—" for v in values):
            widths[col] = None
            continue
        title = TERMINAL_TITLES[col]
        widths[col] = max([len(title)] + [len(v) for v in values]) + 3
    shown = [c for c in cols if widths[c] is not None]
    if width:
        base = sum(max([len(h)] + [len(r[i]) for r in rows]) + 3 for i, h in enumerate(header[:fixed])) + 1
        for col in DROP_ORDER:
            if base + sum(widths[c] for c in shown) <= width:
                break
            if col in shown:
                shown.remove(col)
    dropped = [TERMINAL_TITLES[c] for c in cols if widths[c] is not None and c not in shown]
    return shown, dropped


def render_rich(summary: Summary, title: str, pivots: list[Pivot] | None = None, width: int | None = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    shown, dropped = _terminal_columns(summary, width)
    header, rows = table_rows(summary, tuple(shown), compact=True)
    fixed = 1 + len(summary.varying) + 1
    header = header[:fixed] + [TERMINAL_TITLES[c] for c in shown]
    caption = "medians over repeats; spreads and every column in report.md / index.html"
    if dropped:
        caption = f"not shown at this width: {', '.join(dropped)}; {caption}"
    t = Table(title=Text(title), caption=caption, show_lines=False)
    for i, h in enumerate(header):
        left = i == 0 or h in summary.varying
        t.add_column(Text(h), justify="left" if left else "right", overflow="fold", no_wrap=i == 0)
    for row in rows:
        t.add_row(*[Text(c, style="red" if c.startswith("never") else "") for c in row])
    parts: list[Any] = [t]
    parts += [Text(f"⚠ {n}", style="yellow") for n in caveat_notes(summary)]
    for p in pivots or []:
        ph, prow = p.table()
        pt = Table(title=Text(p.title), caption=Text("; ".join(p.notes)) if p.notes else None)
        for i, h in enumerate(ph):
            pt.add_column(Text(h), justify="left" if i < max(1, len(p.rows)) else "right")
        for row in prow:
            pt.add_row(*[Text(c, style="red" if c.startswith("never") else "") for c in row])
        parts.append(pt)
    if summary.failures:
        f = Table(title="failed cells", title_style="bold red")
        for h in ("cell", "repeat", "status", "reason"):
            f.add_column(h)
        for x in summary.failures:
            f.add_row(Text(str(x["label"])), str(x["repeat"]), Text(str(x["status"])), Text(str(x["error"])))
        parts.append(f)
    return Group(*parts)


def render_markdown(summary: Summary, title: str, meta: dict[str, Any] | None = None,
                    pivots: list[Pivot] | None = None, plots: list[Any] | None = None,
                    plots_note: str | None = None, calibrations: dict[str, dict[str, Any]] | None = None,
                    html_name: str | None = None) -> str:
    from tabulate import tabulate

    header, rows = table_rows(summary)
    rows = [[md_escape(c) for c in row] for row in rows]
    gpu_peaks = any(r.get("peak_pct") for r in summary.rows if r.get("device", "cpu") != "cpu"
                    or any((x.get("settings") or {}).get("device", "cpu") != "cpu" for x in r.get("_records", [])))
    header = [md_escape(h) for h in header]
    out = [f"# {md_escape(title)}", ""]
    if meta:
        suite = meta.get("suite", {})
        machine = meta.get("machine", {})
        if suite.get("description"):
            out += [md_escape(suite["description"].strip()), ""]
        versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
        out += [
            f"- runs: {md_escape(', '.join(summary.runs))}",
            f"- machine: {md_escape(machine.get('cpu_model'))} ({machine.get('cpu_count')} cores), "
            f"Python {md_escape(machine.get('python'))}, {md_escape(versions)}",
            f"- rnnbench {md_escape(machine.get('rnnbench'))}, git commit: {md_escape(machine.get('git_commit'))}",
        ]
        if (meta.get("jobs") or 1) > 1:
            out.append(f"- cells ran {meta['jobs']} at a time (`--jobs {meta['jobs']}`), each on cores of its own: "
                       "they shared caches and memory bandwidth, so their timings disturb each other (accuracy "
                       "does not mind); for timing studies run with `--jobs 1`")
        if meta.get("executor") == "ray":
            out.append(f"- cells ran as tasks on the Ray cluster at {md_escape(meta.get('ray_address'))}; "
                       "each record names its node")
        if "machine" in summary.varying:
            out.append("- cells ran on more than one kind of machine: rows are split by machine (CPU × cores, "
                       "fingerprint), and timings compare only within one kind")
        if html_name:
            out.append(f"- full report with figures: [{html_name}]({html_name})")
        out.append("")
    out += [tabulate(rows, headers=header, tablefmt="github", disable_numparse=True), ""]
    notes = caveat_notes(summary)
    if notes:
        out += ["## ⚠ Caveats", "", "Figures the cells' own checks put in doubt (marked ⚠ in the table):", ""]
        out += [f"- {md_escape(n)}" for n in notes] + [""]
    out += [
        "Times are medians over repeats and seeds (n = successful runs); accuracy shows the min–max "
        "spread when n > 1. Steady epoch = median of epochs after the first; steady step = median "
        "step time after warm-up steps. Peak RSS is the whole worker process (framework and data included). "
        "Time to target = training time until the first epoch at or above the target test accuracy "
        "(median over the repeats that reached it). GFLOP/s = training FLOPs per step (rnnbench.flops: "
        "matrix products only, 3 × forward) / steady step time; % of peak is of the machine's float32 "
        "matmul peak.",
        "",
        *[x for line in calibrate.sources(calibrations or {}, md_escape) for x in (f"{line}.", "")],
        *(["% of peak of GPU cells: of their GPU's float32 matmul peak (`rnnbench env --calibrate --device cuda`)."]
          if gpu_peaks else []),
        *([] if calibrations or gpu_peaks else ["% of peak: empty, no calibration stored with the run or cached for its "
                                   "machine (`rnnbench run` measures one before its first CPU cell unless "
                                   "`RNNBENCH_NO_CALIBRATE` is set; `rnnbench env --calibrate` redoes it)."]),
        "",
    ]
    for p in pivots or []:
        ph, prow = p.table()
        out += [f"## {md_escape(p.title)}", "",
                tabulate([[md_escape(c) for c in r] for r in prow], headers=[md_escape(h) for h in ph],
                         tablefmt="github", disable_numparse=True), ""]
        out += [f"_{md_escape(n)}_" for n in p.notes] + ([""] if p.notes else [])
    if plots:
        out += ["## Figures", ""]
        for p in plots:
            out += [f"### {p.title}", "", f"![{p.title}]({p.name}.svg)", "", p.caption, ""]
    elif plots_note:
        out += [f"_{plots_note}_", ""]
    from rnnbench.report.findings import markdown as findings_markdown

    out += findings_markdown(summary)
    params = [r for r in summary.rows if r.get("params_total")]
    if params:
        out += ["## Parameters", ""]
        prow = [[md_escape(r["cell"]), _fmt(r["params_embedding"], "{:,}"), _fmt(r["params_recurrent"], "{:,}"),
                 _fmt(r["params_head"], "{:,}"), _fmt(r["params_total"], "{:,}"), md_escape(r.get("kernel") or "—"),
                 md_escape(r.get("threads") or "—")]
                for r in params]
        out += [tabulate(prow, headers=["cell", "embedding", "recurrent", "head", "total", "kernel", "threads"],
                         tablefmt="github", disable_numparse=True), ""]
    if summary.failures:
        out += ["## Failed cells", ""]
        for x in summary.failures:
            out += [f"### {md_escape(x['label'])} (repeat {x['repeat']}): {md_escape(x['status'])}", "",
                    md_escape(x["error"]), ""]
            if x["log_tail"]:
                out += ["```", x["log_tail"].replace("```", "'''")[-4000:], "```", ""]
    return "\n".join(out)


def csv_columns(summary: Summary) -> list[str]:
    keys: list[str] = []
    for r in summary.rows:
        for k in r:
            if k not in keys and not k.startswith("_"):
                keys.append(k)
    return keys


def write_csv(summary: Summary, path: Path) -> None:
    from rnnbench.report.plots import ordered

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=csv_columns(summary), extrasaction="ignore")
        w.writeheader()
        w.writerows(ordered(summary.rows))


def write_pivot_csv(p: Pivot, path: Path) -> None:
    recs = p.records()
    keys = [*p.rows, *p.cols, "metric", "value", "n", "text"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(recs)


def collect(run_refs: list[str | Path]) -> tuple[list[RunDir], list[dict[str, Any]]]:
    runs = [resolve_run(r, kind="suite") for r in (run_refs or [None])]  # type: ignore[list-item]
    seen: set[Path] = set()
    unique = []
    for r in runs:
        if r.path.resolve() not in seen:
            seen.add(r.path.resolve())
            unique.append(r)
    records = [rec for run in unique for rec in run.records()]
    if not records:
        names = ", ".join(r.run_id for r in unique)
        raise UserError(f"run {names} has no results yet: no cell has finished",
                        hint="let it run, or continue it with `rnnbench run --resume RUN`")
    return unique, records


def report_dir(runs: list[RunDir], out_root: Path | None = None) -> Path:
    root = out_root or paths.reports_dir()
    name = runs[0].run_id if len(runs) == 1 else "combined-" + "+".join(r.run_id for r in runs)
    return root / name[:200]


def parse_formats(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"md,csv"``, ``"all"``, a list, or None (the default) → a tuple of formats."""
    if spec is None:
        return DEFAULT_FORMATS
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in (str(x).strip().lower() for x in items):
        if not item:
            continue
        if item == "all":
            out.extend(FORMATS)
        elif item in ("markdown",):
            out.append("md")
        elif item in FORMATS:
            out.append(item)
        elif item in ("terminal", "term"):
            continue  # always printed
        else:
            raise UserError(f"--format: unknown format '{item}'; expected md, csv, html or all (comma-separated)")
    return tuple(dict.fromkeys(out))


def _split(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [x for v in value for x in str(v).split(",")]
    return [x.strip() for x in items if x.strip()]


def calibrations_for(runs: list[RunDir]) -> dict[str, dict[str, Any]]:
    """Each run's calibration: the one it stored in its ``run.json`` (``rnnbench run`` does), else
    the cached one matching the CPU model and core count it ran on."""
    out = {}
    for run in runs:
        meta = run.meta()
        machine = meta.get("machine") or {}
        stored = meta.get("calibration")
        if isinstance(stored, dict) and stored.get("peak_gflops"):
            out[run.run_id] = stored
        elif machine.get("cpu_model") and machine.get("cpu_count"):
            cal = calibrate.load(machine["cpu_model"], int(machine["cpu_count"]))
            if cal and cal.get("cpu_count") == machine["cpu_count"]:
                out[run.run_id] = cal
    return out


def write_reports(run_refs: list[str | Path], out_root: Path | None = None, console: Any = None, *,
                  formats: str | list[str] | tuple[str, ...] | None = None,
                  rows: str | list[str] | None = None, cols: str | list[str] | None = None,
                  metric: str | list[str] | None = None, target: float | None = None) -> list[Path]:
    """Print the table; write the report files in ``formats``; return the paths written."""
    from rich.console import Console

    runs, records = collect(run_refs)
    metas = {r.run_id: r.meta() for r in runs}
    meta = metas[runs[0].run_id]
    suite_report = (meta.get("suite") or {}).get("report") or {}
    if not isinstance(suite_report, dict):
        suite_report = {}
    try:
        formats = parse_formats(formats if formats is not None else suite_report.get("formats"))
        row_f = _split(rows if rows is not None else suite_report.get("rows"))
        col_f = _split(cols if cols is not None else suite_report.get("cols"))
        met_f = _split(metric if metric is not None else suite_report.get("metric"))
        if target is None and suite_report.get("target") is not None:
            target = float(suite_report["target"])
    except (TypeError, ValueError, AttributeError) as e:
        raise UserError(f"the suite's [report] table: {e}") from None
    if target is not None and not 0.0 < target <= 1.0:
        raise UserError(f"--target: expected an accuracy in (0, 1], got {target}")
    if row_f or col_f or met_f:
        if not row_f and not col_f:
            row_f, col_f = ["arch"], ["backend"]
        met_f = met_f or ["steady_step_ms"]
        check_names(row_f, col_f, met_f)
    calibrations = calibrations_for(runs)
    ctx = Context(target=target, calibrations=calibrations)
    summary = summarize(records, ctx)
    pivots = [pivot(records, row_f, col_f, m, ctx) for m in met_f]
    names = [(metas[r.run_id].get("suite") or {}).get("name") or r.run_id for r in runs]
    title = f"{' + '.join(dict.fromkeys(names))} — {', '.join(r.run_id for r in runs)}"
    console = console or Console()
    console.print(render_rich(summary, title, pivots, width=console.width))

    out = report_dir(runs, out_root)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plots: list[Any] = []
    plots_note = None
    if "md" in formats or "html" in formats:
        from rnnbench.report import plots as plotting

        if plotting.available():
            plots = plotting.make_plots(summary)
        else:
            plots_note = "Figures need matplotlib: pip install 'rnnbench[plots]'."
    if "md" in formats:
        for p in plots:
            path = out / f"{p.name}.svg"
            path.write_text(p.svg, encoding="utf-8")
            written.append(path)
        md = out / "report.md"
        md.write_text(render_markdown(summary, title, meta, pivots, plots, plots_note, calibrations,
                                      "index.html" if "html" in formats else None), encoding="utf-8")
        written.insert(0, md)
    if "csv" in formats:
        csv_path = out / "results.csv"
        write_csv(summary, csv_path)
        written.append(csv_path)
        for p in pivots:
            path = out / f"pivot-{p.metric}.csv"
            write_pivot_csv(p, path)
            written.append(path)
    if "html" in formats:
        from rnnbench.report.htmlpage import render_html

        page = out / "index.html"
        page.write_text(render_html(summary, title, metas, plots, pivots, calibrations, plots_note),
                        encoding="utf-8")
        written.append(page)
    return written


__all__ = ["write_reports", "summarize", "render_markdown", "render_rich", "table_rows", "METRICS"]
