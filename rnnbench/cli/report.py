"""``rnnbench report``: render stored results (terminal table; Markdown, CSV and HTML files)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def report(
    runs: Optional[List[str]] = typer.Argument(
        None, help="run ids or paths (default: the latest run); several runs are combined into one report"
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="reports directory (default reports/)"),
    formats: Optional[str] = typer.Option(
        None, "--format", "-f",
        help="files to write, comma-separated: md, csv, html, or all (default: all three; the terminal "
        "table is always printed). Figures need matplotlib.",
    ),
    rows: Optional[str] = typer.Option(
        None, "--rows", help="pivot: fields down the side, comma-separated (any setting, or cell, model, run)"
    ),
    cols: Optional[str] = typer.Option(None, "--cols", help="pivot: fields across the top, comma-separated"),
    metric: Optional[str] = typer.Option(
        None, "--metric",
        help="pivot: metric(s) in the cells, comma-separated (default steady_step_ms; see --list-metrics). "
        "Any of --rows/--cols/--metric adds a pivot (default rows arch, cols backend)",
    ),
    target: Optional[float] = typer.Option(
        None, "--target", help="accuracy for time-to-accuracy (default: each cell's target_accuracy setting)"
    ),
    list_metrics: bool = typer.Option(False, "--list-metrics", help="list the metric names and exit"),
) -> None:
    """Summarize runs: one row per cell (medians over repeats), failures listed with their reason.

    Writes reports/<run-id>/ (reports/combined-<ids>/ for several runs): report.md with its
    figures as SVG files, results.csv, and index.html, one self-contained page (figures
    inline, no network access). Options not given fall back to the suite's report table
    (formats, rows, cols, metric, target). Example: rnnbench report RUN_A RUN_B --rows arch
    --cols backend --metric steady_step_ms,time_to_target_s --target 0.8
    """
    if list_metrics:
        from rnnbench.report.aggregate import METRICS

        for m in METRICS.values():
            typer.echo(f"{m.name:20} {m.help}")
        return
    from rnnbench.report.build import write_reports

    for p in write_reports(list(runs or []), out_root=output, formats=formats, rows=rows, cols=cols,
                           metric=metric, target=target):
        typer.echo(f"wrote {p}")
