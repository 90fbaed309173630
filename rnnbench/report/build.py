"""Render a run's summary: a rich table for the terminal, Markdown (tabulate) and CSV files.

``write_reports`` reads only the stored results (never a live run) and writes into
``reports/<run-id>/`` (or ``reports/combined-<ids>/`` for several runs).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from rnnbench import paths
from rnnbench.report.aggregate import METRIC_COLUMNS, Summary, summarize
from rnnbench.results import RunDir, resolve_run


def _fmt(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _acc_cell(row: dict[str, Any]) -> str:
    acc = _fmt(row["test_acc"], "{:.4f}")
    if row.get("n", 0) > 1 and row.get("test_acc_min") is not None:
        acc += f" ({row['test_acc_min']:.3f}–{row['test_acc_max']:.3f})"
    return acc


def table_rows(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows shared by the terminal and Markdown renderers."""
    header = ["cell", *summary.varying, "n"] + [title for _, title, _ in METRIC_COLUMNS]
    rows = []
    for r in summary.rows:
        cells = [r["cell"], *[str(r.get(k)) for k in summary.varying], str(r["n"])]
        for col, _, fmt in METRIC_COLUMNS:
            if col == "test_acc":
                cells.append(_acc_cell(r))
            elif col == "time_to_target_s" and r["n"] and r.get(col) is None:
                cells.append(f"never ≥ {r['target_accuracy']}")
            else:
                cells.append(_fmt(r.get(col), fmt))
        rows.append(cells)
    return header, rows


def render_rich(summary: Summary, title: str) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    header, rows = table_rows(summary)
    t = Table(title=title, show_lines=False)
    for i, h in enumerate(header):
        t.add_column(h, justify="left" if i == 0 or h in summary.varying else "right", overflow="fold")
    for row in rows:
        t.add_row(*row)
    parts: list[Any] = [t]
    if summary.failures:
        f = Table(title="failed cells", title_style="bold red")
        for h in ("cell", "repeat", "status", "reason"):
            f.add_column(h)
        for x in summary.failures:
            f.add_row(x["label"], str(x["repeat"]), x["status"], Text(str(x["error"])))
        parts.append(f)
    return Group(*parts)


def render_markdown(summary: Summary, title: str, meta: dict[str, Any] | None = None) -> str:
    from tabulate import tabulate

    header, rows = table_rows(summary)
    out = [f"# {title}", ""]
    if meta:
        suite = meta.get("suite", {})
        machine = meta.get("machine", {})
        if suite.get("description"):
            out += [suite["description"].strip(), ""]
        versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
        out += [
            f"- runs: {', '.join(summary.runs)}",
            f"- machine: {machine.get('cpu_model')} ({machine.get('cpu_count')} cores), "
            f"Python {machine.get('python')}, {versions}",
            f"- git commit: {machine.get('git_commit')}",
            "",
        ]
    out += [tabulate(rows, headers=header, tablefmt="github", disable_numparse=True), ""]
    out += [
        "Times are medians over repeats and seeds (n = successful runs); accuracy shows the min–max "
        "spread when n > 1. Steady epoch = median of epochs after the first; steady step = median "
        "step time after warm-up steps. Peak RSS is the whole worker process (framework and data included).",
        "",
    ]
    params = [r for r in summary.rows if r.get("params_total")]
    if params:
        out += ["## Parameters", ""]
        prow = [[r["cell"], _fmt(r["params_embedding"], "{:,}"), _fmt(r["params_recurrent"], "{:,}"),
                 _fmt(r["params_head"], "{:,}"), _fmt(r["params_total"], "{:,}"), r.get("kernel") or "—"]
                for r in params]
        out += [tabulate(prow, headers=["cell", "embedding", "recurrent", "head", "total", "kernel"],
                         tablefmt="github", disable_numparse=True), ""]
    if summary.failures:
        out += ["## Failed cells", ""]
        for x in summary.failures:
            out += [f"### {x['label']} (repeat {x['repeat']}): {x['status']}", "", f"{x['error']}", ""]
            if x["log_tail"]:
                out += ["```", x["log_tail"].replace("```", "'''")[-4000:], "```", ""]
    return "\n".join(out)


def write_csv(summary: Summary, path: Path) -> None:
    keys: list[str] = []
    for r in summary.rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(summary.rows)


def collect(run_refs: list[str | Path]) -> tuple[list[RunDir], list[dict[str, Any]]]:
    runs = [resolve_run(r) for r in (run_refs or [None])]  # type: ignore[list-item]
    records = [rec for run in runs for rec in run.records()]
    return runs, records


def report_dir(runs: list[RunDir], out_root: Path | None = None) -> Path:
    root = out_root or paths.reports_dir()
    name = runs[0].run_id if len(runs) == 1 else "combined-" + "+".join(r.run_id for r in runs)
    return root / name[:200]


def write_reports(run_refs: list[str | Path], out_root: Path | None = None,
                  console: Any = None) -> list[Path]:
    """Write report.md and results.csv for the given runs; print the table; return paths."""
    from rich.console import Console

    runs, records = collect(run_refs)
    summary = summarize(records)
    meta = runs[0].meta()
    title = f"{meta.get('suite', {}).get('name', runs[0].run_id)} — {', '.join(r.run_id for r in runs)}"
    (console or Console()).print(render_rich(summary, title))
    out = report_dir(runs, out_root)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    md.write_text(render_markdown(summary, title, meta), encoding="utf-8")
    csv_path = out / "results.csv"
    write_csv(summary, csv_path)
    return [md, csv_path]
