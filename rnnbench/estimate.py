"""How long a suite's cells will take on this machine, from earlier runs here (``run --dry-run``).

A cell's estimate is the median wall time of the successful records of the same measurement
(its group key: the cell's identity, seeds pooled) in earlier runs whose machine fingerprint is
this machine's (CPU, cores, Python, framework versions): times from another machine would not
say anything about this one. Cells never run here are counted apart, not guessed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable


@dataclass(frozen=True)
class Estimate:
    seconds: float  # summed over the cells with history
    known: int  # cells with at least one earlier successful record here
    total: int
    runs: int  # earlier runs on this machine that were read

    def text(self) -> str:
        if not self.known:
            cells = "the 1 cell has not" if self.total == 1 else f"none of the {self.total} cells has"
            return (f"estimated time: unknown — {cells} run on this machine before "
                    f"({self.runs} earlier run{'s' if self.runs != 1 else ''} here)")
        m, s = divmod(round(self.seconds), 60)
        rest = "" if self.known == self.total else f"; {self.total - self.known} never ran here, not counted"
        return (f"estimated time: {m}:{s:02d} for {self.known} of {self.total} cell{'s' if self.total != 1 else ''}, "
                f"from their median wall "
                f"time in {self.runs} earlier run{'s' if self.runs != 1 else ''} on this machine{rest}")


def durations_here(runs: Iterable[Any], fingerprint: str) -> tuple[dict[str, list[float]], int]:
    """Wall times of successful records by group key, from runs made on the machine ``fingerprint``."""
    out: dict[str, list[float]] = {}
    n = 0
    for run in runs:
        try:
            if run.meta().get("fingerprint") != fingerprint:
                continue
            records = run.records()
        except (OSError, ValueError):
            continue
        n += 1
        for rec in records:
            if rec.get("status") == "ok" and rec.get("group") and rec.get("wall_s") and not rec.get("ab"):
                out.setdefault(rec["group"], []).append(float(rec["wall_s"]))
    return out, n


def estimate(cells: list[Any], runs_root: Path | None = None) -> Estimate:
    """The suite's expected wall time here (see the module doc)."""
    from rnnbench.envinfo import fingerprint, machine
    from rnnbench.results import list_runs

    seen, n_runs = durations_here(list_runs(runs_root), fingerprint(machine()))
    known = [statistics.median(seen[c.group_key]) for c in cells if c.group_key in seen]
    return Estimate(sum(known), len(known), len(cells), n_runs)
