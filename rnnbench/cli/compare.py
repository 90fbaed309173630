"""``rnnbench compare`` and ``rnnbench export``: regression verdicts between two runs, exports of one.

Exit codes of ``compare``: 0 no regression, 1 regression (slower, more memory, accuracy
lower, newly failing, missing), 2 bad input (one line on stderr).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def compare(
    baseline: str = typer.Argument(
        ..., help="baseline: a run id, run directory, results.jsonl, baseline:NAME, a saved baseline's name or .json"
    ),
    candidate: str = typer.Argument("latest", help="candidate, in the same forms (default: the latest run)"),
    time: Optional[float] = typer.Option(
        None, "--time", help="step-time ratio that counts as slower (default: the suite's regression.time, else 1.05)"
    ),
    memory: Optional[float] = typer.Option(
        None, "--memory", help="peak-RSS ratio that counts as more memory (default 1.10)"
    ),
    accuracy_drop: Optional[float] = typer.Option(
        None, "--accuracy-drop", help="absolute test-accuracy drop that counts (default 0.01)"
    ),
    alpha: Optional[float] = typer.Option(
        None, "--alpha", help="significance level of the Mann–Whitney test (default 0.05)"
    ),
    max_cv: Optional[float] = typer.Option(
        None, "--max-cv", help="robust coefficient of variation above which a metric is 'unstable' (default 0.10)"
    ),
    markdown: Optional[List[str]] = typer.Option(
        None, "--markdown",
        help="write a Markdown report to FILE ('-' = stdout; appends to $GITHUB_STEP_SUMMARY); repeatable",
    ),
    json_out: Optional[str] = typer.Option(None, "--json", help="write the comparison as JSON to FILE ('-' = stdout)"),
    allow_different_suites: bool = typer.Option(
        False, "--allow-different-suites", help="compare runs of differently named suites (shared cells only)"
    ),
    allow_different_machines: bool = typer.Option(
        False, "--allow-different-machines", help="compare although the machine fingerprints differ"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no table; just the summary line"),
) -> None:
    """Compare a candidate run with a baseline, cell by cell: exit 1 on a regression."""
    import json

    from rnnbench.compare import (
        compare as do_compare,
        load_snapshot,
        render_markdown,
        render_rich,
        summary_line,
        write_output,
    )

    base = load_snapshot(baseline)
    cand = load_snapshot(candidate)
    result = do_compare(base, cand, time=time, memory=memory, accuracy_drop=accuracy_drop, alpha=alpha,
                        max_cv=max_cv, allow_different_suites=allow_different_suites,
                        allow_different_machines=allow_different_machines)
    outputs = list(markdown or [])
    for dest in outputs:
        write_output(render_markdown(result), dest)
    if json_out:
        write_output(json.dumps(result.to_json(), indent=2, sort_keys=True), json_out)
    stdout_taken = "-" in outputs or json_out == "-"
    if stdout_taken or quiet:
        for w in result.warnings:
            typer.echo(f"warning: {w}", err=True)
        typer.echo(summary_line(result), err=stdout_taken)
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console = Console(width=200)
        console.print(render_rich(result))
    raise typer.Exit(result.exit_code)


def export(
    run: str = typer.Argument("latest", help="run id, run directory, results.jsonl or baseline (default: latest run)"),
    out_dir: Optional[Path] = typer.Option(
        None, "--out-dir", "-o", help="directory for all three files (default reports/exports)"
    ),
    smaller: Optional[Path] = typer.Option(
        None, "--smaller", help="github-action-benchmark customSmallerIsBetter JSON (step ms, peak RSS MB)"
    ),
    bigger: Optional[Path] = typer.Option(
        None, "--bigger", help="github-action-benchmark customBiggerIsBetter JSON (test accuracy %, samples/s)"
    ),
    history: Optional[Path] = typer.Option(None, "--history", help="CSV history to append one row per cell to"),
) -> None:
    """Export a run for github-action-benchmark (two JSON files) and append it to a CSV history.

    With none of --smaller/--bigger/--history, writes all three into --out-dir:
    benchmark-smaller.json, benchmark-bigger.json and history.csv.
    """
    from rnnbench import paths
    from rnnbench.compare import load_snapshot
    from rnnbench.exports import export as do_export

    snap = load_snapshot(run)
    if smaller is None and bigger is None and history is None:
        d = out_dir or paths.reports_dir() / "exports"
        smaller, bigger, history = d / "benchmark-smaller.json", d / "benchmark-bigger.json", d / "history.csv"
    elif out_dir is not None:
        smaller, bigger, history = (out_dir / p if p is not None and not p.is_absolute() else p
                                    for p in (smaller, bigger, history))
    for line in do_export(snap, smaller, bigger, history):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
    app.command("export")(export)
