"""``rnnbench ab``: side A against side B, each cell as pairs of processes taking turns.

A *side* is what differs: a Python environment (an interpreter or venv whose installed
frameworks — and rnnbench, if it has one — are used) and/or setting overrides. Each cell of
the suite runs as ``pairs`` process pairs, one worker per side, that take turns one training
step at a time (:mod:`rnnbench.turns`, :mod:`rnnbench.executors.lockstep`); pairs go
round-robin over the cells, so a slow spell of the machine spreads over all of them. Every
worker's record is appended to the run's ``results.jsonl`` with an ``ab`` entry (side,
pair, cell), so a run survives Ctrl-C and resumes like ``rnnbench run``.

The verdicts (:func:`analyze`): step time from the paired ratios (:func:`rnnbench.stats.
paired_ratio`, :func:`rnnbench.stats.paired_verdict`); peak memory and accuracy from the
per-process values of each side (:func:`rnnbench.stats.judge`); a cell that fails on one
side only says so. Exit codes: 0 no regression, 1 regression (or, asked to, a cell left
inconclusive), 2 bad input.

The parts, one module each: :mod:`~rnnbench.ab.sides` (interpreters and overrides),
:mod:`~rnnbench.ab.plan` (cells and run folders), :mod:`~rnnbench.ab.execute` (pairs, rounds,
budget), :mod:`~rnnbench.ab.verdicts` (the analysis) and :mod:`~rnnbench.ab.render` (tables).
"""

from __future__ import annotations

from rnnbench.ab.execute import (MIN_PAIRS, AbSummary, PairRunner, core_slots, execute_ab, next_round,
                                 round_seconds)
from rnnbench.ab.plan import PairCell, done_pairs, plan, reopen_ab_run, start_ab_run
from rnnbench.ab.render import COLUMNS, bench_json, caption, render_markdown, render_rich, table_rows
from rnnbench.ab.sides import SAFE_PATH, SideSpec, make_sides, probe_side, resolve_python
from rnnbench.ab.verdicts import (DEFAULTS, FAILING_BOTH, FAILING_ON_A, FAILING_ON_B, REGRESSIONS, Analysis,
                                  CellResult, analyze)
from rnnbench.results import RunDir

__all__ = ["AbSummary", "Analysis", "COLUMNS", "CellResult", "DEFAULTS", "FAILING_BOTH", "FAILING_ON_A",
           "FAILING_ON_B", "MIN_PAIRS", "PairCell", "PairRunner", "REGRESSIONS", "SAFE_PATH", "SideSpec",
           "analyze", "bench_json", "caption", "core_slots", "done_pairs", "execute_ab", "load_analysis",
           "make_sides", "next_round", "plan", "probe_side", "reopen_ab_run", "render_markdown",
           "render_rich", "resolve_python", "round_seconds", "start_ab_run", "table_rows"]


def load_analysis(ref: str) -> tuple[Analysis, tuple[SideSpec, SideSpec], RunDir]:
    """An ab run's stored records analyzed again (``rnnbench ab --report RUN``)."""
    run, suite, sides, _, th = reopen_ab_run(ref)
    return analyze(run.records(), plan(suite, sides), th), sides, run
