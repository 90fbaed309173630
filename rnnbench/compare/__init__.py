"""``rnnbench compare``: two runs (or a saved baseline and a run), cell by cell, with a verdict.

The layers, imports running one way (each uses only those above it):

* :mod:`rnnbench.stats` — the statistics (rank tests, Hodges–Lehmann, paired ratios);
* :mod:`rnnbench.cells` — a cell's identity and the grouping of records;
* :mod:`rnnbench.snapshot` — a run or a baseline, loaded and checked;
* :mod:`rnnbench.compare.verdicts` — matching groups and judging each metric (the decision
  rule is in its docstring);
* :mod:`rnnbench.compare.render` — terminal and Markdown output.

This package re-exports what callers use, so ``from rnnbench.compare import compare`` works.
"""

from rnnbench.compare.render import render_markdown, render_rich, rows, summary_line, write_output
from rnnbench.compare.verdicts import (
    ACC_HIGHER,
    ACC_LOWER,
    DEFAULTS,
    FASTER,
    FIXED,
    IMPROVEMENTS,
    INCOMPARABLE,
    LESS_MEMORY,
    MISSING,
    MORE_MEMORY,
    NEW,
    NEWLY_FAILING,
    REGRESSIONS,
    SLOWER,
    STILL_FAILING,
    UNCHANGED,
    UNSTABLE,
    Comparison,
    compare,
)
from rnnbench.snapshot import Snapshot, load_snapshot

__all__ = [
    "ACC_HIGHER", "ACC_LOWER", "DEFAULTS", "FASTER", "FIXED", "IMPROVEMENTS", "INCOMPARABLE", "LESS_MEMORY",
    "MISSING", "MORE_MEMORY", "NEW", "NEWLY_FAILING", "REGRESSIONS", "SLOWER", "STILL_FAILING", "UNCHANGED",
    "UNSTABLE", "Comparison", "Snapshot", "compare", "load_snapshot", "render_markdown", "render_rich", "rows",
    "summary_line", "write_output",
]
