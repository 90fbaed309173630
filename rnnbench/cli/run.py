"""``rnnbench run``: expand a suite and run each cell in its own process."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

MANY_CELLS = 500  # more cells than this and `run` asks first (or needs --yes)


def run(
    suite: Optional[str] = typer.Argument(
        None, help="suite file (or a ready suite's name: quick, imdb, ...); optional with --resume"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="list the cells and exit"),
    resume: Optional[str] = typer.Option(
        None, "--resume", help="continue a run (its id, a path, or 'latest'): finished cells are skipped"
    ),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="with --resume: run failed cells again"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="runs directory (default $RNNBENCH_REPORTS/runs, else ./reports/runs)"
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="write the report when the run ends"),
    set_: Optional[List[str]] = typer.Option(
        None, "--set", help="override a setting for every cell: KEY=VALUE (repeatable), e.g. --set epochs=1"
    ),
    repeat: Optional[int] = typer.Option(None, "--repeat", min=1, help="run each cell N times (overrides the suite)"),
    only: Optional[List[str]] = typer.Option(
        None, "--only", help="run only cells whose setting matches: KEY=VALUE or KEY=[V1, V2] (repeatable)"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help=f"run a suite of more than {MANY_CELLS} cells without asking"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="cells to run at once, each pinned to cores of its own "
                             "(cells that leave threads unset get cores ÷ N each). Fine for accuracy studies; "
                             "concurrent cells disturb each other's timings, so timing studies use 1"),
    executor: str = typer.Option("local", "--executor", "-e", help="where cells run: local (this machine, one "
                                 "process per cell) or ray (each cell a task on a Ray cluster; needs --address and "
                                 "pip install 'rnnbench[ray]')"),
    address: Optional[str] = typer.Option(None, "--address", help="with --executor ray: the cluster, 'auto' (the one "
                                          "`ray start --head` started on this machine) or HOST:PORT"),
    fetch: bool = typer.Option(False, "--fetch", help="download what the cells need and is missing (the IMDB data "
                               "set, Keras's word index) before the first cell, sha256-checked, as "
                               "keras.datasets.imdb.load_data would; $RNNBENCH_IMDB_URL/_SHA256 name a mirror"),
    history: bool = typer.Option(True, "--history/--no-history", help="store the finished run in the history "
                                 "(rnnbench history; --db via $RNNBENCH_DB); $RNNBENCH_NO_HISTORY=1 also turns it off"),
) -> None:
    """Run a suite: every cell trains in its own process; results go to reports/runs/<run-id>/."""
    from rnnbench.errors import UserError
    from rnnbench.runner import execute, reopen_run, start_run
    from rnnbench.suite import load_suite, parse_assignments

    if suite is None and resume is None:
        raise UserError("give a suite to run, or --resume RUN", hint="ready suites: rnnbench list")
    ray_address = _ray_address(executor, address, jobs)
    overrides, filters = parse_assignments(set_, "--set"), parse_assignments(only, "--only")
    spec = load_suite(suite, overrides, filters, repeat) if suite is not None else None
    if spec is not None and jobs > 1 and "threads" not in overrides and all(c.settings.threads is None for c in spec.cells):
        import os

        share = max(1, len(os.sched_getaffinity(0)) // jobs)  # unset threads = all cores: split them
        spec = load_suite(suite, {**overrides, "threads": share}, filters, repeat)

    if spec is not None and ray_address is not None and not dry_run and "threads" not in overrides \
            and all(c.settings.threads is None for c in spec.cells):
        from rnnbench.executors.ray_cluster import smallest_node_cpus

        share = smallest_node_cpus(ray_address)  # unset threads = a whole node: the smallest one's cores
        if not quiet:
            typer.echo(f"threads unset: each cell asks for {share} CPU{'s' if share > 1 else ''} and runs on as "
                       "many threads (the smallest node's)", err=True)
        spec = load_suite(suite, {**overrides, "threads": share}, filters, repeat)

    if dry_run:
        if spec is None:
            raise UserError("--dry-run needs a suite to list")
        _print_cells(spec, output)
        return
    if spec is not None and len(spec.cells) > MANY_CELLS and not yes:
        _confirm_many(spec)
    if resume is not None:
        run_dir, spec = reopen_run(resume, spec, root=output)
        _preflight(spec, run_dir.path.parent, quiet, fetch)
        _calibration(spec, quiet, ray_address)  # cached for the report; the run.json stays as it was written
    else:
        assert spec is not None
        from rnnbench import paths

        _preflight(spec, output or paths.runs_dir(), quiet, fetch)
        if jobs > 1:
            from rnnbench.cellenv import core_slots, resolved_threads

            core_slots(jobs, max(resolved_threads(c.settings) for c in spec.cells))  # refused before the run exists
        meta = {"jobs": jobs} if jobs > 1 else {}
        if ray_address is not None:
            meta = {"executor": "ray", "ray_address": ray_address}
        calibration = _calibration(spec, quiet, ray_address)
        if calibration is not None:
            meta["calibration"] = calibration  # a report rendered elsewhere still has this machine's peak
        if ray_address is None and any(c.settings.backend != "fake" for c in spec.cells):
            meta["machine_load_before"] = _machine_before(quiet)  # timings to take: is the machine quiet?
        run_dir = start_run(spec, root=output, extra_meta=meta or None)
    if not quiet:
        _say_where(spec if suite is not None else None, run_dir.path)
    from rnnbench.progress import make_progress

    summary = execute(spec, run_dir, make_progress(quiet), retry_failed=retry_failed, jobs=jobs,
                      ray_address=ray_address)
    out = typer.echo
    if summary.interrupted:
        why = "terminated (SIGTERM)" if summary.exit_code == 143 else "interrupted"
        out(f"{why}: {summary.ran} cell{'s' if summary.ran != 1 else ''} recorded in {summary.path}; "
            "continue with "
            f"`rnnbench run --resume {summary.run_id}`", err=True)
        raise typer.Exit(summary.exit_code or 130)
    if not quiet:
        out(f"run {summary.run_id}: {summary.ran} cell{'s' if summary.ran != 1 else ''} run, "
            f"{summary.skipped} skipped, "
            f"{summary.failed} failed → {summary.path}")
    if report:
        from rich.console import Console

        from rnnbench.report.build import write_reports

        for p in write_reports([run_dir.path], console=Console(quiet=quiet)):
            if not quiet:
                out(f"wrote {p}")
    if history:
        from rnnbench.cli.history import remember

        remember(run_dir.path, quiet)


def _ray_address(executor: str, address: Optional[str], jobs: int) -> Optional[str]:
    """The Ray cluster to run on (None: run locally); refuses flags that do not go together."""
    from rnnbench.errors import UserError

    if executor not in ("local", "ray"):
        raise UserError(f"--executor {executor!r}: expected local or ray")
    if executor == "local":
        if address is not None:
            raise UserError("--address is for --executor ray", hint="add --executor ray, or drop --address")
        return None
    if address is None:
        raise UserError("--executor ray needs --address: 'auto' (a cluster started on this machine with "
                        "`ray start --head`) or the head's HOST:PORT")
    if jobs > 1:
        raise UserError("--jobs is for the local executor: on Ray the cluster decides how many cells run at once "
                        "(each asks for its threads as CPUs)")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise UserError("--executor ray needs Ray, which is not installed", hint="pip install 'rnnbench[ray]'")
    return address


def _machine_before(quiet: bool) -> Optional[dict]:
    """Half a second of the machine before the first cell: a busy one is named at once (each cell's
    record says so again for its own timed steps)."""
    from rnnbench.machine_load import before_run, busy_before_run

    load = before_run()
    warning = busy_before_run(load, "timings taken now are not this machine's own (each cell's record will say so)")
    if warning and not quiet:
        typer.echo(warning, err=True)
    return load


def _calibration(spec, quiet: bool, ray_address: Optional[str]) -> Optional[dict]:  # noqa: ANN001 - a Suite
    """This machine's float32 matmul peak for the report's % of peak, when the run times CPU cells here:
    the cached one, else measured now (a few seconds, once per machine), before any cell starts so
    that it disturbs no timing. None for runs on Ray or without CPU cells, and under the opt-out."""
    if ray_address is not None or not any(c.settings.device == "cpu" and c.settings.backend != "fake"
                                          for c in spec.cells):
        return None
    import sys

    from rnnbench import calibrate

    return calibrate.ensure(None if quiet else sys.stderr)


def _say_where(spec, run_path: Path) -> None:  # noqa: ANN001 - a Suite or None; imported lazily
    """Which suite file runs (packaged or the user's) and where its output goes, before anything runs."""
    from rnnbench.suite import suite_source

    if spec is not None:
        typer.echo(f"suite {spec.name}: {spec.path} ({suite_source(Path(spec.path))})", err=True)
    typer.echo(f"output: {run_path.resolve()} (move it with RNNBENCH_REPORTS or -o)", err=True)


def _confirm_many(spec) -> None:  # noqa: ANN001 - a Suite; imported lazily
    """A matrix that expands to very many cells is asked about (refused when nobody can answer)."""
    import sys

    from rnnbench.errors import UserError

    n = len(spec.cells)
    if sys.stdin.isatty() and typer.confirm(f"{spec.name} expands to {n:,} cells, each its own process. Run them all?"):
        return
    raise UserError(f"{spec.path}: the matrix expands to {n:,} cells (more than {MANY_CELLS:,})",
                    hint="pass --yes to run them all, or narrow the matrix / use --only")


def _preflight(spec, root: Path, quiet: bool, fetch: bool = False) -> None:  # noqa: ANN001 - a Suite
    """Stop before the first cell when something every cell needs is missing (one message, exit 2);
    with ``fetch``, download the missing data first and check again."""
    from rnnbench.errors import UserError
    from rnnbench.preflight import check

    pre = check(spec, root)
    if pre.problems and fetch and pre.fetchable:
        from rnnbench.data.fetch import fetch_items

        for line in fetch_items(pre.fetchable, progress=not quiet):
            if not quiet:
                typer.echo(line, err=True)
        pre = check(spec, root)
    if pre.problems:
        n = len(pre.problems)
        raise UserError(f"cannot start {spec.name}: " + "; ".join(pre.problems)
                        + (f" ({n} problems)" if n > 1 else "")
                        + ("; or add --fetch to download it first" if pre.fetchable and not fetch else ""))
    if pre.unavailable and not quiet:
        for backend, how in pre.unavailable.items():
            typer.echo(f"backend {backend} is not installed: its cells will be recorded unavailable ({how})", err=True)


def _print_cells(spec, output: Optional[Path] = None) -> None:  # noqa: ANN001 - a Suite; imported lazily
    from rich.console import Console
    from rich.table import Table

    n = len(spec.cells)
    t = Table(title=f"{spec.name}: {n} cell{'s' if n != 1 else ''}", caption=spec.description.strip() or None)
    t.add_column("#", justify="right")
    t.add_column("cell")
    t.add_column("repeat", justify="right")
    cols = [k for k in spec.varying if k not in ("arch", "backend")]
    for c in cols:
        t.add_column(c)
    t.add_column("key")
    for i, cell in enumerate(spec.cells, 1):
        d = cell.settings.model_dump()
        t.add_row(str(i), cell.label, str(cell.repeat), *[str(d[c]) for c in cols], cell.key)
    console = Console()
    console.print(t)
    from rnnbench.estimate import estimate

    common = _common_settings(spec.cells)
    console.print("settings of every cell (resolved): " + ", ".join(f"{k}={v}" for k, v in common.items()),
                  markup=False, highlight=False)
    console.print(estimate(list(spec.cells), output).text(), markup=False, highlight=False)


def _common_settings(cells) -> dict:  # noqa: ANN001 - Cells; imported lazily
    """The settings every cell has with the same value, as the worker will get them."""
    dumps = [c.settings.model_dump() for c in cells]
    return {k: v for k, v in dumps[0].items() if all(d.get(k) == v for d in dumps[1:])}
