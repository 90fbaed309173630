"""``rnnbench ab``: paired, step-by-step A/B comparison of two environments or settings.

Exit codes: 0 no regression, 1 regression (B slower, more memory, accuracy lower, or
failing where A is not; with --fail-on-inconclusive also a cell whose step time stayed
inconclusive), 2 bad input (one line on stderr), 130 interrupted (resumable).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import List, Optional

import typer

# what a resumed run keeps from its start (its suite, sides, pairs and thresholds): given with --resume, refused
FIXED_BY_RUN = ("suite", "a", "b", "a_with", "b_with", "a_set", "b_set", "aa", "pairs", "time_", "memory",
                "accuracy_drop", "alpha", "trim", "faults", "max_pairs", "only", "set_")


def ab(
    ctx: typer.Context,
    suite: Optional[str] = typer.Argument(None, help="suite file or ready suite's name (optional with --resume)"),
    a: Optional[str] = typer.Option(None, "--a", help="side A's Python: an interpreter or venv folder "
                                    "(default: this one)"),
    b: Optional[str] = typer.Option(None, "--b", help="side B's Python: an interpreter or venv folder "
                                    "(default: this one)"),
    a_set: Optional[List[str]] = typer.Option(None, "--a-set", help="setting override for side A: KEY=VALUE"),
    b_set: Optional[List[str]] = typer.Option(None, "--b-set", help="setting override for side B: KEY=VALUE, "
                                              "e.g. --b-set extra_work=0.05 (a simulated 5% slowdown)"),
    a_with: Optional[List[str]] = typer.Option(None, "--a-with", metavar="REQUIREMENT", help="build side A's "
                                               "environment from this one (or --a) plus this pin, e.g. "
                                               "'keras==3.13.2' (with uv; cached per specification); repeatable"),
    b_with: Optional[List[str]] = typer.Option(None, "--b-with", metavar="REQUIREMENT", help="the same for side B, "
                                               "e.g. --a-with 'keras==3.13.2' --b-with 'keras==3.15.1'"),
    aa: bool = typer.Option(False, "--aa", help="allow sides that differ in nothing (an A/A noise check)"),
    pairs: int = typer.Option(4, "--pairs", min=2, help="process pairs per cell (each pair: one worker per side)"),
    until_decided: Optional[float] = typer.Option(
        None, "--until-decided", metavar="SECONDS",
        help="the whole run's time budget: the planned pairs shrink to fit it, then each still-inconclusive "
             "cell gets one more pair per round while the round is expected to end within SECONDS of the start; "
             "a pair still running when the budget ends is stopped and not kept"),
    max_pairs: int = typer.Option(16, "--max-pairs", min=2, help="with --until-decided: pairs per cell at most; "
                                  "the intervals are widened for a look after every pair up to this many (a "
                                  "smaller cap that the budget can reach gives narrower intervals)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="pairs to run at once, each pinned to cores of its "
                             "own (jobs × threads must fit this machine's cores; e.g. --set threads=1 -j 2)"),
    time_: Optional[float] = typer.Option(None, "--time", help="step-time ratio that matters (default: the "
                                          "suite's regression.time, else 1.05)"),
    memory: Optional[float] = typer.Option(None, "--memory", help="peak-RSS ratio that counts (default 1.10)"),
    faults: Optional[float] = typer.Option(None, "--faults", help="ratio of page faults per step that counts: an "
                                           "allocation regression (default 2.0)"),
    accuracy_drop: Optional[float] = typer.Option(None, "--accuracy-drop", help="test-accuracy drop that counts "
                                                  "(default 0.01)"),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="error rate of every interval (default 0.01); "
                                          "under --until-decided, of all looks together"),
    trim: Optional[float] = typer.Option(None, "--trim", help="judge step time on the trimmed mean over pairs, "
                                         "cutting this fraction from each end (default: the suite's "
                                         "regression.trim, else 0 = plain mean)"),
    only: Optional[List[str]] = typer.Option(None, "--only", help="run only matching cells: KEY=VALUE"),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="override a setting on both sides: KEY=VALUE"),
    resume: Optional[str] = typer.Option(None, "--resume", help="continue an interrupted ab run (id or 'latest')"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="runs directory (default reports/runs)"),
    markdown: Optional[List[str]] = typer.Option(None, "--markdown", help="write Markdown to FILE ('-' = "
                                                 "stdout; appends to $GITHUB_STEP_SUMMARY); repeatable"),
    json_out: Optional[str] = typer.Option(None, "--json", help="write the verdicts as JSON to FILE ('-' = stdout)"),
    bench: Optional[str] = typer.Option(None, "--bench", help="write github-action-benchmark JSON "
                                        "(customSmallerIsBetter: B/A ratio per cell) to FILE"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress and no table; just the summary line"),
    fail_on_inconclusive: bool = typer.Option(False, "--fail-on-inconclusive", help="exit 1 also when a cell's "
                                              "step time stays inconclusive (a gate that must decide)"),
    history: bool = typer.Option(True, "--history/--no-history", help="store the comparisons in the history "
                                 "(rnnbench history show --paired); $RNNBENCH_NO_HISTORY=1 also turns it off"),
) -> None:
    """Side A vs side B on every cell of a suite, as pairs of processes taking turns step by step.

    Verdicts on step time (B/A over pairs, with its interval; memory and accuracy alike):
    "slower" (fails: exit 1) when the interval lies above 1 and reaches the threshold, the
    estimate at least half of it; "slower, below threshold" when the interval lies above 1 and
    below the threshold (a change shown, smaller than one that fails: exit 0); "unchanged" only
    when the interval holds 1 and lies within (1/threshold, threshold); "inconclusive"
    otherwise (more pairs decide: --until-decided). With --until-decided the interval at each
    look is a repeated confidence interval (O'Brien–Fleming alpha spending over looks after
    every pair up to --max-pairs), so looking again after each pair keeps the error rate alpha.
    """
    import json

    from rich.console import Console

    from rnnbench import ab as abm
    from rnnbench.compare import write_output
    from rnnbench.errors import UserError
    from rnnbench.suite import load_suite, parse_assignments, regression_problem

    console = Console(stderr=True, quiet=quiet)
    if resume:
        _refuse_with_resume(ctx)
        run, spec, sides, pairs, thresholds = abm.reopen_ab_run(resume, root=output)
        max_pairs = int(thresholds.get("max_pairs") or max_pairs)  # the looks its intervals were planned for
    else:
        if suite is None:
            raise UserError("give a suite to compare on, or --resume RUN", hint="ready suites: rnnbench list")
        spec = load_suite(suite, parse_assignments(set_, "--set"), parse_assignments(only, "--only"))
        sides = abm.make_sides(a, b, parse_assignments(a_set, "--a-set"), parse_assignments(b_set, "--b-set"),
                               spec, allow_same=aa, a_with=tuple(a_with or ()), b_with=tuple(b_with or ()),
                               on_build=lambda opt, pins: console.print(f"{opt}: the environment with "
                                                                        f"{', '.join(pins)} (built once, then reused)"))
        given = {"time": time_, "memory": memory, "accuracy_drop": accuracy_drop, "alpha": alpha,
                 "trim": trim, "faults": faults}
        thresholds = {**{k: v for k, v in spec.regression.items() if k in abm.DEFAULTS},
                      **{k: v for k, v in given.items() if v is not None}}
        for k, v in given.items():  # the suite's own were checked when it was loaded
            problem = regression_problem(k, v) if v is not None else None
            if problem:
                raise UserError(f"--{k.replace('_', '-')} {v:g}: {problem}")
        if until_decided:  # looks after every pair up to this many: the intervals allow for them (ab.look_alpha)
            thresholds["max_pairs"] = float(max(pairs, max_pairs))
        abm.core_slots(abm.plan(spec, sides), jobs)  # refuse a --jobs that does not fit before the run exists
        run = abm.start_ab_run(spec, sides, pairs, thresholds, root=output)
    cells = abm.plan(spec, sides)
    _warn_if_busy(console, cells, until_decided)
    for s in sides:
        console.print(f"side {s.name.upper()}: {s.describe()} — runs {s.rnnbench}")
    console.print(f"{len(cells)} cell{'s' if len(cells) != 1 else ''} × {pairs} pairs"
                  + (f", {jobs} at a time" if jobs > 1 else "")
                  + f" → {run.path}")

    from rnnbench.progress import PairProgress

    done = sum(len(ks) for ks in abm.done_pairs(run.records()).values())
    progress = PairProgress(len(cells) * pairs, done, until_decided)

    def on_pair(cell, k, ra, rb) -> None:  # noqa: ANN001 - progress line
        def part(r):  # noqa: ANN001, ANN202
            m = r.get("metrics") or {}
            if r["status"] != "ok":
                return r["status"]
            return f"{m['steady_step_s'] * 1e3:.1f} ms" if m.get("steady_step_s") else "ok"

        progress.pair_done(cell.label, k)
        console.print(f"  {cell.label} pair {k + 1}: A {part(ra)}, B {part(rb)} · {progress.status()}",
                      markup=False, highlight=False)

    with _heartbeat(console, progress, HEARTBEAT_S):
        summary = abm.execute_ab(run, cells, sides, pairs, thresholds, until_decided, max_pairs, on_pair, jobs=jobs,
                                 on_note=lambda note: console.print(f"  {note}", markup=False, highlight=False),
                                 on_start=lambda c, k, ws: progress.pair_started(c.label, k, [w.events for w in ws]))
    if summary.interrupted:
        why = "terminated (SIGTERM)" if summary.exit_code == 143 else "interrupted"
        typer.echo(f"{why}: finished pairs are kept in {run.path}; continue with "
                   f"`rnnbench ab --resume {run.run_id}`", err=True)
        raise typer.Exit(summary.exit_code or 130)
    analysis = summary.analysis
    assert analysis is not None
    if summary.budget_note:
        console.print(f"  {summary.budget_note}", markup=False, highlight=False)
    if not quiet:
        Console(width=max(Console().width, 150)).print(abm.render_rich(analysis, sides))  # 11 columns
    else:
        typer.echo(analysis.summary_line())
    for dest in markdown or []:
        write_output(abm.render_markdown(analysis, sides, f"rnnbench ab {spec.name}"), dest)
    if json_out:
        write_output(json.dumps({"run_id": run.run_id, **analysis.to_json(fail_on_inconclusive)}, indent=2,
                                default=str), json_out)
    if bench:
        write_output(json.dumps(abm.bench_json(analysis), indent=2), bench)
    if history:
        from rnnbench.cli.history import remember

        remember(run.path, quiet)
    if analysis.nothing_compared and not analysis.regressions and not summary.budget_note:
        typer.echo("rnnbench: error: no cell has a pair where both sides succeeded: nothing was compared "
                   f"(the failures and their logs are in {run.path})", err=True)
        raise typer.Exit(2)
    raise typer.Exit(analysis.exit_code(fail_on_inconclusive))


def _refuse_with_resume(ctx: typer.Context) -> None:
    """``--resume`` continues a run as it started: an option that would change it is refused, not ignored."""
    from rnnbench.errors import UserError

    given = [p for p in ctx.command.params if p.name in FIXED_BY_RUN
             and getattr(ctx.get_parameter_source(p.name), "name", "DEFAULT") in ("COMMANDLINE", "ENVIRONMENT")]
    if given:
        names = ", ".join(p.opts[0] if p.param_type_name == "option" else "SUITE" for p in given)
        raise UserError(f"--resume continues the run with the suite, sides, pairs and thresholds it started with: "
                        f"{names} cannot change them", hint=f"drop {names}, or start a new run")


def _warn_if_busy(console, cells, until_decided: Optional[float]) -> None:  # noqa: ANN001 - Console, PairCells
    """Half a second of the machine before the pairs: a busy one is named at once. Both sides of a
    pair share the load alike, but every step is slower (a PyTorch pair with two threads was seen
    200× slower beside one spinning process), so planned pairs may not fit a budget."""
    if all(c.base.settings.backend == "fake" for c in cells):
        return
    from rnnbench.machine_load import before_run, busy_before_run

    warning = busy_before_run(before_run(), "pairs share it alike, but each step runs slower"
                              + (" and the budget may end before the planned pairs" if until_decided else "")
                              + " (cells with fewer threads suffer less: --set threads=1)")
    if warning:
        console.print(warning, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("ab")(ab)


HEARTBEAT_S = 10.0  # between pairs (10-30 s each here), a line at least this often


@contextlib.contextmanager
def _heartbeat(console, progress, every: float):  # noqa: ANN001, ANN202 - a rich Console, a PairProgress
    """While pairs run, a progress line every ``every`` seconds that no pair finished."""
    import threading

    stop = threading.Event()

    def beat() -> None:
        last = progress.done
        while not stop.wait(every):
            if progress.done == last:
                where = progress.in_flight()
                console.print(f"  … {where or 'pairs running'} · {progress.status()}", markup=False,
                              highlight=False)
            last = progress.done

    thread = threading.Thread(target=beat, name="ab-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
