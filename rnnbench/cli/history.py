"""``rnnbench history ingest|show``: runs remembered in a store (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from rnnbench.cli.group import Group

HEADERS = ["machine", "cell", "metric", "runs", "first", "last", "change", "trend", "branch"]
PAIRED_HEADERS = ["machine", "cell", "comparisons", "last: B/A [interval] verdict", "chained [interval]", "trend"]

app = typer.Typer(help="Remember runs in a history store and show their series over commits. The store: --db URL, "
                       "else $RNNBENCH_DB, else a SQLite file in the data home (RNNBENCH_HOME).",
                  no_args_is_help=True, cls=Group, rich_markup_mode=None)

DB = typer.Option(None, "--db", envvar="RNNBENCH_DB", show_envvar=False,
                  help="the store: a SQLAlchemy URL, e.g. sqlite:///history.sqlite or postgresql+psycopg://user@host/db "
                       "(default: $RNNBENCH_DB, else history.sqlite in the data home)")

BRANCH = typer.Option(None, "--branch", help="only runs of this branch")
METRIC = typer.Option(None, "--metric", help="only this metric, e.g. steady_step_ms")
CELL = typer.Option(None, "--cell", help="only this cell: its key, or a part of its label")


@app.command("ingest")
def ingest(
    runs: List[str] = typer.Argument(..., help="run ids, run directories or results.jsonl files"),
    db: Optional[str] = DB,
    branch: Optional[str] = typer.Option(None, "--branch", help="the branch the runs belong to (default: the one "
                                                                "recorded, else the one checked out)"),
) -> None:
    """Store runs: one transaction a run; a run already stored is left as it is."""
    from rnnbench.history.ingest import ingest_runs

    for done in ingest_runs(db, runs, branch):
        typer.echo(f"{'stored' if done.stored else 'already stored'}: run {done.run_id}"
                   + (f" ({done.measurements} cell figures)" if done.stored else ""))


@app.command("show")
def show(
    db: Optional[str] = DB,
    branch: Optional[str] = BRANCH,
    metric: Optional[str] = METRIC,
    cell: Optional[str] = CELL,
    paired: bool = typer.Option(False, "--paired", help="the paired comparisons of `rnnbench ab` runs instead: "
                                "each cell's last B/A step-time ratio and the chained index over all of them"),
) -> None:
    """Each machine × cell × metric over commits: first, last, change and a sparkline of the newest medians."""
    from tabulate import tabulate

    from rnnbench.history.show import show as read

    rows = read(db, paired=paired, branch=branch, metric=metric, cell=cell)
    if not rows:
        typer.echo("no stored runs match (store some: rnnbench history ingest RUN)")
        return
    typer.echo(tabulate(rows, headers=PAIRED_HEADERS if paired else HEADERS, disable_numparse=True))


@app.command("changes")
def changes(
    db: Optional[str] = DB,
    branch: Optional[str] = BRANCH,
    metric: Optional[str] = METRIC,
    cell: Optional[str] = CELL,
    csv: Optional[Path] = typer.Option(None, "--csv", help="series from a CSV file instead of the store (columns "
                                       "series_id, commit_index, value): their change points as JSON on stdout"),
) -> None:
    """Change points of each series (one machine, cell and metric), their size and what differed there."""
    if csv is not None:
        import json

        from rnnbench.history.changes import csv_changes

        typer.echo(json.dumps(csv_changes(_read_csv(csv)), indent=2))
        return
    from rnnbench.history.changes import changes as find

    found = find(db, branch=branch, metric=metric, cell=cell)
    if not found:
        typer.echo("no change points in the stored series")
    for c in found:
        typer.echo(c.line())


def _read_csv(path: Path) -> list[dict[str, str]]:
    import csv as csvlib

    from rnnbench.errors import UserError

    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csvlib.DictReader(f))
    except OSError as e:
        raise UserError(f"{path}: cannot read: {e.strerror}") from None
    need = {"series_id", "commit_index", "value"}
    if not rows or not need <= set(rows[0]):
        raise UserError(f"{path}: expected the columns series_id, commit_index, value")
    for n, row in enumerate(rows, 2):
        try:
            int(row["commit_index"]), float(row["value"])
        except (TypeError, ValueError):
            raise UserError(f"{path}:{n}: commit_index must be an integer and value a number") from None
    return rows


def remember(path: Path, quiet: bool) -> None:
    """A finished run into the history store, unless ``$RNNBENCH_NO_HISTORY`` is set. A run the
    store cannot take (made outside git, a store that cannot be opened) is said so in one line;
    the run itself is kept either way."""
    import os

    from rnnbench.errors import UserError

    if os.environ.get("RNNBENCH_NO_HISTORY", "0") not in ("", "0"):
        return
    from rnnbench.history.ingest import ingest_runs
    from rnnbench.history.store import shown, store_url

    try:
        (done,) = ingest_runs(None, [str(path)])
    except UserError as e:
        if not quiet:
            typer.echo(f"history: run not stored: {e}", err=True)
        return
    if not quiet and done.stored:
        typer.echo(f"history: stored in {shown(store_url())} (rnnbench history show)", err=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="history")
