"""Running an A/B run's pairs: round-robin over cells, the ``--until-decided`` rounds and
budget (a plan that shrinks to fit, and a deadline), several pairs at once with ``--jobs``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from rnnbench.ab.plan import PairCell, done_pairs
from rnnbench.ab.sides import SideSpec
from rnnbench.ab.verdicts import Analysis, analyze
from rnnbench.results import RunDir, append_record
from rnnbench.signals import exit_code, terminate_as_interrupt
from rnnbench.stats import AB_INCONCLUSIVE


PairRunner = Callable[..., tuple[dict[str, Any], dict[str, Any]]]


@dataclass
class AbSummary:
    run: RunDir
    ran: int
    interrupted: bool
    analysis: "Analysis | None" = None
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM
    budget_note: str | None = None  # the --until-decided deadline passed: what it stopped


def core_slots(cells: list[PairCell], jobs: int) -> list[list[int]] | None:
    """Disjoint sets of cores for ``jobs`` pairs running at once (None: one pair at a time)."""
    if jobs <= 1:
        return None
    from rnnbench.cellenv import core_slots as slots, resolved_threads

    return slots(jobs, max(resolved_threads(c.settings) for pc in cells for c in (pc.a, pc.b)), "pairs")


def execute_ab(run: RunDir, cells: list[PairCell], sides: tuple[SideSpec, SideSpec], pairs: int,
               thresholds: dict[str, float], until_decided: float | None = None, max_pairs: int = 16,
               on_pair: Callable[[PairCell, int, dict[str, Any], dict[str, Any]], None] | None = None,
               pair_runner: PairRunner | None = None, jobs: int = 1,
               on_note: Callable[[str], None] | None = None,
               on_start: Callable[[PairCell, int, list[Any]], None] | None = None) -> AbSummary:
    """Run the missing pairs round-robin over cells; append both records of each at once.

    With ``until_decided`` (seconds: the whole run's budget), the planned pairs run a round at a
    time and the plan shrinks to fit the budget (``on_note`` says so); then cells still
    *inconclusive* get one more pair each round until decided, ``max_pairs`` or the time is up.
    The budget is also a deadline (:class:`rnnbench.budget.Deadline`): pairs still running when it
    passes are stopped and not kept, and the run ends there (``AbSummary.budget_note``).
    ``on_start(cell, k, workers)`` is told each pair's workers as they start. With
    ``jobs`` > 1, that many pairs run at once, each pinned to cores of its own
    (:func:`core_slots`): its two sides still take turns on those cores, so what one pair's
    neighbour does to the machine falls on both of its sides alike.
    """
    if pair_runner is None:
        from rnnbench.executors.lockstep import run_pair as pair_runner
    slots = core_slots(cells, jobs)
    done = done_pairs(run.records())
    ran = 0
    t_start = time.monotonic()
    deadline = _deadline(until_decided)
    cut: list[str] = []  # the pairs the deadline stopped

    def started(cell: PairCell, k: int, workers: list[Any]) -> None:
        deadline.started(workers)
        if on_start:
            on_start(cell, k, workers)

    def record(cell: PairCell, k: int, ra: dict[str, Any], rb: dict[str, Any]) -> None:
        nonlocal ran
        if deadline.spent:  # stopped by the budget's deadline, or finished after it: not kept
            cut.append(f"{cell.label} pair {k + 1}")
            return
        for side, rec in (("a", ra), ("b", rb)):
            rec["ab"] = {"side": side, "pair": k, "cell": cell.key, "label": cell.label}
            append_record(run.results, rec)
        done.setdefault(cell.key, set()).add(k)
        ran += 1
        if on_pair:
            on_pair(cell, k, ra, rb)

    def run_batch(batch: list[tuple[PairCell, int]]) -> None:
        batch = [] if deadline.spent else batch
        if slots is None:
            for cell, k in batch:
                if deadline.spent:
                    break
                record(cell, k, *pair_runner((cell.a, cell.b), sides, run.path, run.run_id, f"{cell.key}.p{k}",
                                             started=lambda workers, c=cell, k=k: started(c, k, workers),
                                             b_first=b_first(k)))
            return
        from rnnbench.executors.slots import run_on_slots

        def work(item: tuple[PairCell, int], cpus: list[int], pool_started: Callable[[Any], None]) -> Any:
            cell, k = item

            def on_workers(workers: list[Any]) -> None:
                for w in workers:
                    pool_started(w)
                started(cell, k, workers)
            return pair_runner((cell.a, cell.b), sides, run.path, run.run_id, f"{cell.key}.p{k}", cpus=cpus,
                               started=on_workers, b_first=b_first(k))

        run_on_slots(batch, slots, work, lambda item, result, _cpus: record(*item, *result), name="ab-pair")

    try:
        with terminate_as_interrupt(), deadline:
            _run_all(run, cells, pairs, thresholds, until_decided, max_pairs, done, t_start, run_batch, jobs, on_note)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated)
        return AbSummary(run, ran, True, exit_code=exit_code(e))
    note = None
    if deadline.spent:
        note = (f"the --until-decided budget ({until_decided:g} s) ran out"
                + (f" while {', '.join(cut)} ran: stopped, not kept" if cut else "")
                + f"; {ran} pair{'s' if ran != 1 else ''} kept this run")
    return AbSummary(run, ran, False, analyze(run.records(), cells, thresholds), budget_note=note)


def b_first(k: int) -> bool:
    """Whether B takes the first turn in pair ``k``: every other pair, so that an effect of going
    first (A-first pairs read −0.18% on B/A, issue 26) cancels over each two pairs."""
    return k % 2 == 1


def _deadline(until_decided: float | None) -> Any:
    """The budget's deadline (:class:`rnnbench.budget.Deadline`), or one that never comes."""
    from rnnbench.budget import Deadline
    from rnnbench.executors.local import kill

    def kill_running(worker: Any) -> None:
        if worker.proc.poll() is None:
            kill(worker)
    return Deadline(until_decided if until_decided else float("inf"), kill_running)


def _run_all(run: RunDir, cells: list[PairCell], pairs: int, thresholds: dict[str, float], until_decided: float | None,
             max_pairs: int, done: dict[str, set[int]], t_start: float,
             run_batch: Callable[[list[tuple[PairCell, int]]], None], jobs: int = 1,
             on_note: Callable[[str], None] | None = None) -> None:
    """The planned pairs round-robin over cells, then (``until_decided``) more for open cells.

    ``until_decided`` is the whole run's budget in seconds, planned pairs included: a round (one
    pair for each cell, planned or, after the plan, for each cell still inconclusive) starts only
    when it is expected to end within it, at the mean time this run's pairs of those cells took,
    so the budget is a limit a CI job can plan on (passed only when a round runs longer than its
    pairs did so far). The
    first ``MIN_PAIRS`` rounds always run: with fewer pairs there is no interval at all.
    """
    if not until_decided:
        run_batch([(cell, k) for k in range(pairs) for cell in cells if k not in done.get(cell.key, set())])
        return
    if not _planned_rounds(run, cells, pairs, done, t_start, until_decided, run_batch, jobs, on_note):
        return
    while True:
        counts = {key: len(ks) for key, ks in done.items()}
        open_cells = next_round(run.records(), cells, thresholds, counts, max_pairs,
                                time.monotonic() - t_start, until_decided, jobs)
        if not open_cells:
            break
        run_batch([(c, max(done.get(c.key, {-1})) + 1) for c in open_cells])


MIN_PAIRS = 2  # planned rounds that run whatever the budget: one pair gives no interval


def _planned_rounds(run: RunDir, cells: list[PairCell], pairs: int, done: dict[str, set[int]], t_start: float,
                    budget: float, run_batch: Callable[[list[tuple[PairCell, int]]], None], jobs: int,
                    on_note: Callable[[str], None] | None) -> bool:
    """The planned pairs a round at a time while each round is expected to end within ``budget``;
    False (and a note) when the plan had to shrink."""
    for k in range(pairs):
        todo = [(cell, k) for cell in cells if k not in done.get(cell.key, set())]
        if not todo:
            continue
        need = round_seconds(run.records(), [c for c, _ in todo], jobs)
        if k >= MIN_PAIRS and time.monotonic() - t_start + need > budget:
            if on_note:
                on_note(f"the plan shrank to fit --until-decided {budget:g} s: {k} of {pairs} planned pairs a cell "
                        f"(one more round, ~{need:.0f} s, would end after the budget)")
            return False
        run_batch(todo)
    return True


def next_round(records: list[dict[str, Any]], cells: list[PairCell], thresholds: dict[str, float],
               counts: dict[str, int], max_pairs: int, elapsed: float, budget: float, jobs: int = 1,
               candidates: list[PairCell] | None = None) -> list[PairCell]:
    """The cells that get one more pair now under ``--until-decided``: those (of ``candidates``,
    default all) still inconclusive with fewer than ``max_pairs`` pairs, when a round of one pair
    each is expected to end within ``budget`` seconds (``elapsed`` spent); else none."""
    analysis = analyze(records, cells, thresholds)
    open_cells = [c for c in (cells if candidates is None else candidates)
                  if analysis.by_key[c.key].time_verdict == AB_INCONCLUSIVE and counts.get(c.key, 0) < max_pairs]
    if not open_cells or elapsed + round_seconds(records, open_cells, jobs) > budget:
        return []
    return open_cells


def round_seconds(records: list[dict[str, Any]], cells: list[PairCell], jobs: int = 1) -> float:
    """Expected seconds for one more pair of each of ``cells``: the mean time their pairs took
    so far (a pair lasts as long as its slower side), summed, spread over ``jobs`` slots."""
    per_cell = []
    for cell in cells:
        walls: dict[int, float] = {}
        for r in records:
            ab = r.get("ab") or {}
            if ab.get("cell") == cell.key and r.get("wall_s") is not None:
                walls[ab["pair"]] = max(walls.get(ab["pair"], 0.0), float(r["wall_s"]))
        per_cell.append(sum(walls.values()) / len(walls) if walls else 0.0)
    return max(sum(per_cell) / max(jobs, 1), max(per_cell, default=0.0))
