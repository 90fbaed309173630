"""``rnnbench report``: render stored results as tables (terminal, Markdown, CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def report(
    runs: Optional[List[str]] = typer.Argument(None, help="run ids or paths (default: the latest run)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="reports directory (default reports/)"),
) -> None:
    """Summarize runs: one row per cell (medians over repeats), failures listed with their reason."""
    from rnnbench.report.build import write_reports

    for p in write_reports(list(runs or []), out_root=output):
        typer.echo(f"wrote {p}")
