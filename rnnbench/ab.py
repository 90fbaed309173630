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
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from rnnbench.cellenv import STARTED_BY_PARENT
from rnnbench.errors import UserError
from rnnbench.results import RunDir, append_record, resolve_run
from rnnbench.signals import exit_code, terminate_as_interrupt
from rnnbench.stats import AB_FASTER, AB_INCONCLUSIVE, AB_SLOWER, judge, pair_log_ratio, paired_ratio, paired_verdict
from rnnbench.suite import (Cell, CellSettings, Suite, parse_suite, setting_problem, settings_error,
                            with_stored_keys)

DEFAULTS = {"time": 1.05, "memory": 1.10, "accuracy_drop": 0.02, "alpha": 0.01, "trim": 0.0}
FAILING_ON_B, FAILING_ON_A, FAILING_BOTH = "failing on B", "failing on A", "failing on both"
REGRESSIONS = frozenset({AB_SLOWER, "more memory", "accuracy lower", FAILING_ON_B})


# -- sides ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideSpec:
    """One side: the interpreter it runs and the settings it overrides."""

    name: str  # "a" | "b"
    python: str
    overrides: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # PYTHONPATH when the side has no rnnbench
    rnnbench: str = ""  # which rnnbench the side's workers run (version and where)
    versions: dict[str, str] = field(default_factory=dict)
    # settings this rnnbench has and the side's own (older) rnnbench does not: left out of the
    # cells its workers get, which is only allowed while they keep their default (plan)
    unknown_settings: tuple[str, ...] = ()

    def describe(self) -> str:
        bits = [self.python]
        if self.overrides:
            bits.append(", ".join(f"{k}={v}" for k, v in self.overrides.items()))
        return "; ".join(bits)


# A side's interpreter must import *its* rnnbench, never one that happens to lie in the current
# folder (``python -c`` and ``-m`` put the working directory first on sys.path): Python 3.11's
# safe-path mode leaves it out, for the probe and for the side's workers alike.
SAFE_PATH = {"PYTHONSAFEPATH": "1"}

_PROBE = """
import importlib.util, json, sys
from importlib import metadata
out = {"python": sys.version.split()[0], "modules": {}, "versions": {}}
for m in sys.argv[1:]:
    out["modules"][m] = importlib.util.find_spec(m) is not None
for d in ("torch", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "numpy", "rnnbench"):
    try:
        out["versions"][d] = metadata.version(d)
    except metadata.PackageNotFoundError:
        pass
spec = importlib.util.find_spec("rnnbench")
out["rnnbench_at"] = (spec.submodule_search_locations or [None])[0] if spec else None
out["lockstep"] = bool(spec) and importlib.util.find_spec("rnnbench.turns") is not None
if out["lockstep"]:
    try:
        from rnnbench.suite import CellSettings
        out["settings"] = sorted(CellSettings.model_fields)
    except Exception:  # its workers will say what is wrong, cell by cell
        pass
print(json.dumps(out))
"""


def resolve_python(path: str, side: str) -> str:
    """An interpreter path, or a venv folder (its ``bin/python``), checked to run."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "bin" / "python"
    if not p.exists():
        raise UserError(f"--{side} {path}: no such interpreter or venv",
                        hint="give a Python executable or a venv folder (with bin/python)")
    if not os.access(p, os.X_OK):
        raise UserError(f"--{side} {path}: {p} is not executable")
    return str(p.absolute())


def probe_side(name: str, python: str, overrides: dict[str, Any], needs: set[str]) -> SideSpec:
    """Check the side's interpreter has what its cells need; say which rnnbench it will run."""
    try:
        out = subprocess.run([python, "-c", _PROBE, *sorted(needs | {"numpy"})], capture_output=True, text=True,
                             timeout=60, check=False, env={**os.environ, **SAFE_PATH})
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UserError(f"side {name.upper()}: {python} does not run: {e}") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"side {name.upper()}: {python} failed: {last}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    if info.get("rnnbench_at") and not info.get("lockstep"):
        raise UserError(f"side {name.upper()}: its rnnbench {info['versions'].get('rnnbench', '?')} "
                        f"({info['rnnbench_at']}) predates rnnbench ab (no lockstep worker)",
                        hint="install a newer rnnbench there, or uninstall it to run this one's worker on its frameworks")
    missing = sorted(m for m, ok in info["modules"].items() if not ok)
    if missing:
        raise UserError(f"side {name.upper()} ({python}) lacks {', '.join(missing)}, which its cells need",
                        hint=f"{python} -m pip install {' '.join(missing)}")
    env: dict[str, str] = dict(SAFE_PATH)
    unknown: tuple[str, ...] = ()
    if info.get("settings"):
        unknown = tuple(sorted(set(CellSettings.model_fields) - set(info["settings"])))
    if info.get("rnnbench_at"):
        which = f"its own rnnbench {info['versions'].get('rnnbench', '?')} ({info['rnnbench_at']})"
    else:  # no rnnbench there: run this one's worker with that side's frameworks
        here = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = here + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
        which = f"this rnnbench ({here}) on the side's frameworks"
    return SideSpec(name, python, dict(overrides), env, which, info.get("versions", {}), unknown)


def make_sides(a: str | None, b: str | None, a_set: dict[str, Any], b_set: dict[str, Any], suite: Suite,
               allow_same: bool = False) -> tuple[SideSpec, SideSpec]:
    py_a = resolve_python(a, "a") if a else sys.executable
    py_b = resolve_python(b, "b") if b else sys.executable
    for side, over in (("a", a_set), ("b", b_set)):
        for k, v in over.items():
            problem = setting_problem(k, v)
            if problem:
                raise UserError(f"--{side}-set {k}: {problem}")
    # Paths, not their targets: two venvs' pythons link to the same interpreter, yet differ.
    same = os.path.abspath(py_a) == os.path.abspath(py_b) and a_set == b_set
    if same and not allow_same:
        raise UserError("side A and side B differ in nothing (same interpreter, same settings)",
                        hint="give --a/--b environments or --a-set/--b-set overrides; --aa measures A against itself")
    needs = {m for c in suite.cells for m in _backend_modules(c.settings.backend)}
    return (probe_side("a", py_a, a_set, needs), probe_side("b", py_b, b_set, needs))


def _set_items(overrides: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items())


def _backend_modules(backend: str) -> tuple[str, ...]:
    from rnnbench.backends.base import get_backend

    return get_backend(backend).requires


# -- the plan and the run -------------------------------------------------------------------


@dataclass(frozen=True)
class PairCell:
    """A suite cell as run on each side."""

    base: Cell
    a: Cell
    b: Cell

    @property
    def key(self) -> str:
        return self.base.key

    @property
    def label(self) -> str:
        return self.base.label


def plan(suite: Suite, sides: tuple[SideSpec, SideSpec]) -> list[PairCell]:
    """Each suite cell (repeats aside: pairs are the repeats here) with each side's overrides."""
    out: list[PairCell] = []
    seen: set[str] = set()
    for c in suite.cells:
        if c.repeat or c.key in seen:
            continue
        if c.settings.task != "train":
            raise UserError(f"{c.label}: task = {c.settings.task!r}: ab pairs training steps",
                            hint="A/B an inference cell with two runs and rnnbench compare")
        seen.add(c.key)
        cells = []
        for side in sides:
            try:
                s = CellSettings.model_validate({**c.settings.model_dump(), **side.overrides})
            except ValidationError as e:  # a combination of settings this cell cannot take
                raise UserError(f"--{side.name}-set {_set_items(side.overrides)}: {c.label}: "
                                f"{settings_error(e)}") from None
            for k in side.unknown_settings:
                if getattr(s, k) != CellSettings.model_fields[k].default and k not in STARTED_BY_PARENT:
                    raise UserError(f"side {side.name.upper()}: its rnnbench ({side.rnnbench}) has no setting {k!r}, "
                                    f"and {c.label} sets it to {getattr(s, k)!r}",
                                    hint=f"leave {k} at its default for an A/B against that rnnbench")
            cells.append(Cell(settings=s, repeat=0))
        out.append(PairCell(c, cells[0], cells[1]))
    return out


def start_ab_run(suite: Suite, sides: tuple[SideSpec, SideSpec], pairs: int, thresholds: dict[str, float],
                 root: Path | None = None) -> RunDir:
    from rnnbench.runner import start_run

    stem = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-ab-{suite.name}"
    return start_run(suite, root, stem, {"kind": "ab", "sides": [asdict(s) for s in sides], "pairs": pairs,
                                         "thresholds": thresholds})


def reopen_ab_run(ref: str, root: Path | None = None
                  ) -> tuple[RunDir, Suite, tuple[SideSpec, SideSpec], int, dict[str, float]]:
    run = resolve_run(ref, root, kind="ab")
    meta = run.meta()
    if meta.get("kind") != "ab":
        raise UserError(f"{run.run_id}: not an ab run", hint="resume a suite run with: rnnbench run --resume")
    src = (run.path / "suite.toml").read_text(encoding="utf-8")
    suite = parse_suite(src, meta["suite"]["path"], meta["suite"].get("overrides"), meta["suite"].get("only"))
    suite = replace(suite, cells=with_stored_keys(suite.cells, meta.get("cells") or []))
    sides = tuple(SideSpec(**s) for s in meta["sides"])
    return run, suite, sides, int(meta["pairs"]), dict(meta["thresholds"])  # type: ignore[return-value]


def done_pairs(records: list[dict[str, Any]]) -> dict[str, set[int]]:
    """Per cell key, the pair indices whose two records are both stored."""
    seen: dict[tuple[str, int], set[str]] = {}
    for r in records:
        ab = r.get("ab") or {}
        seen.setdefault((ab.get("cell"), ab.get("pair")), set()).add(ab.get("side"))
    out: dict[str, set[int]] = {}
    for (cell, pair), sides in seen.items():
        if sides >= {"a", "b"}:
            out.setdefault(cell, set()).add(pair)
    return out


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
                                             started=lambda workers, c=cell, k=k: started(c, k, workers)))
            return
        from rnnbench.executors.slots import run_on_slots

        def work(item: tuple[PairCell, int], cpus: list[int], pool_started: Callable[[Any], None]) -> Any:
            cell, k = item

            def on_workers(workers: list[Any]) -> None:
                for w in workers:
                    pool_started(w)
                started(cell, k, workers)
            return pair_runner((cell.a, cell.b), sides, run.path, run.run_id, f"{cell.key}.p{k}", cpus=cpus,
                               started=on_workers)

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


# -- analysis -------------------------------------------------------------------------------


@dataclass
class CellResult:
    key: str
    label: str
    n_pairs: int
    a_ok: int
    b_ok: int
    time_verdict: str
    ratio: float | None = None
    ci: tuple[float, float] | None = None
    mde: float | None = None
    pair_ratios: tuple[float, ...] = ()
    a_step_ms: float | None = None
    b_step_ms: float | None = None
    memory_verdict: str | None = None
    memory_ratio: float | None = None
    accuracy_verdict: str | None = None
    accuracy_diff: float | None = None
    failing: str | None = None
    error: str | None = None

    @property
    def verdicts(self) -> list[str]:
        return [v for v in (self.failing, self.time_verdict, self.memory_verdict, self.accuracy_verdict) if v]

    @property
    def regression(self) -> bool:
        return any(v in REGRESSIONS for v in self.verdicts)


@dataclass
class Analysis:
    cells: list[CellResult]
    thresholds: dict[str, float]

    @property
    def by_key(self) -> dict[str, CellResult]:
        return {c.key: c for c in self.cells}

    @property
    def regressions(self) -> list[CellResult]:
        return [c for c in self.cells if c.regression]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cells:
            v = c.failing if c.failing and not c.ratio else c.time_verdict
            out[v] = out.get(v, 0) + 1
        return out

    @property
    def inconclusive(self) -> list[CellResult]:
        """Cells that did not regress and whose step time could not be decided either way."""
        return [c for c in self.cells if not c.regression and c.time_verdict == AB_INCONCLUSIVE]

    def exit_code(self, fail_on_inconclusive: bool = False) -> int:
        """1 on a regression (or, with ``fail_on_inconclusive``, on a cell left inconclusive), else 0."""
        return 1 if self.regressions or (fail_on_inconclusive and self.inconclusive) else 0

    @property
    def nothing_compared(self) -> bool:
        """No cell has a single pair where both sides succeeded."""
        return all(c.ratio is None for c in self.cells)

    def summary_line(self) -> str:
        """``2 cells regressed (step time: 1 slower, 1 unchanged; more memory: 2)``: the regressed
        cells, then step-time verdicts per cell, then memory and accuracy regressions apart (a
        cell can regress on memory with its step time unchanged). Without a regression, cells left
        inconclusive head it (``inconclusive: 1 of 2 cells undecided``): "no regression" is said only
        when every cell was decided."""
        n, undecided, cells = len(self.regressions), len(self.inconclusive), len(self.cells)
        head = (f"{n} cell{'s' if n != 1 else ''} regressed" if n else
                f"inconclusive: {undecided} of {cells} cell{'s' if cells != 1 else ''} undecided" if undecided
                else "no regression")
        parts = "step time: " + ", ".join(f"{k} {v}" for v, k in sorted(self.counts().items()))
        for verdict in ("more memory", "accuracy lower"):
            k = sum(verdict in (c.memory_verdict, c.accuracy_verdict) for c in self.cells)
            if k:
                parts += f"; {verdict}: {k}"
        return f"{head} ({parts})"

    def to_json(self, fail_on_inconclusive: bool = False) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "summary": self.summary_line(),
                "exit_code": self.exit_code(fail_on_inconclusive), "cells": [asdict(c) for c in self.cells]}

    @property
    def icon(self) -> str:
        """The Markdown headline's mark: ❌ regressed, ⚠️ inconclusive (not a green tick), ✅ no regression."""
        return "❌" if self.regressions else "⚠️" if self.inconclusive else "✅"


def _median(xs: list[float]) -> float | None:
    import statistics

    return statistics.median(xs) if xs else None


def analyze(records: list[dict[str, Any]], cells: list[PairCell], thresholds: dict[str, float]) -> Analysis:
    th = {**DEFAULTS, **thresholds}
    by: dict[str, dict[int, dict[str, dict[str, Any]]]] = {}
    for r in records:
        ab = r.get("ab") or {}
        by.setdefault(ab.get("cell"), {}).setdefault(ab.get("pair"), {})[ab.get("side")] = r
    out = []
    for cell in cells:
        pairs = {k: v for k, v in by.get(cell.key, {}).items() if {"a", "b"} <= set(v)}
        ok_a = [p["a"] for p in pairs.values() if p["a"]["status"] == "ok"]
        ok_b = [p["b"] for p in pairs.values() if p["b"]["status"] == "ok"]
        res = CellResult(cell.key, cell.label, len(pairs), len(ok_a), len(ok_b), AB_INCONCLUSIVE)
        if pairs and (len(ok_a) < len(pairs) or len(ok_b) < len(pairs)):
            bad_a, bad_b = len(ok_a) < len(pairs), len(ok_b) < len(pairs)
            res.failing = FAILING_BOTH if bad_a and bad_b else FAILING_ON_A if bad_a else FAILING_ON_B
            first_bad = next(p[s] for p in pairs.values() for s in ("b", "a") if p[s]["status"] != "ok")
            res.error = f"{first_bad['status']}: {first_bad.get('error')}"
        logs = []
        for p in pairs.values():
            if p["a"]["status"] == "ok" and p["b"]["status"] == "ok":
                lr = pair_log_ratio(p["a"]["metrics"].get("steady_step_samples") or [],
                                    p["b"]["metrics"].get("steady_step_samples") or [])
                if lr is not None:
                    logs.append(lr)
        if logs:
            pr = paired_ratio(logs, alpha=th["alpha"], trim=th["trim"])
            res.ratio, res.ci, res.mde, res.pair_ratios = pr.ratio, pr.ci, pr.mde, pr.pair_ratios
            res.time_verdict = paired_verdict(pr, th["time"])
        res.a_step_ms = _ms(_median([r["metrics"]["steady_step_s"] for r in ok_a if r["metrics"].get("steady_step_s")]))
        res.b_step_ms = _ms(_median([r["metrics"]["steady_step_s"] for r in ok_b if r["metrics"].get("steady_step_s")]))
        mem_a = [r["metrics"]["peak_rss_mb"] for r in ok_a if r["metrics"].get("peak_rss_mb")]
        mem_b = [r["metrics"]["peak_rss_mb"] for r in ok_b if r["metrics"].get("peak_rss_mb")]
        if mem_a and mem_b:
            j = judge(mem_a, mem_b, threshold=th["memory"], alpha=0.05, max_cv=None)
            res.memory_ratio = j.effect
            res.memory_verdict = {"worse": "more memory", "better": "less memory"}.get(j.direction, "unchanged")
        acc_a = [r["metrics"]["test_acc"] for r in ok_a if r["metrics"].get("test_acc") is not None]
        acc_b = [r["metrics"]["test_acc"] for r in ok_b if r["metrics"].get("test_acc") is not None]
        if acc_a and acc_b:
            j = judge(acc_a, acc_b, threshold=th["accuracy_drop"], alpha=0.05, max_cv=None, kind="difference",
                      worse="lower")
            res.accuracy_diff = j.effect
            res.accuracy_verdict = {"worse": "accuracy lower", "better": "accuracy higher"}.get(j.direction,
                                                                                                 "unchanged")
        out.append(res)
    return Analysis(out, th)


def _ms(s: float | None) -> float | None:
    return s * 1e3 if s is not None else None


# -- rendering ------------------------------------------------------------------------------

COLUMNS = ("cell", "pairs", "A step ms", "B step ms", "B/A", "CI", "MDE", "time", "memory", "accuracy", "note")


def table_rows(a: Analysis) -> list[list[str]]:
    rows = []
    for c in a.cells:
        ci = f"{c.ci[0]:.3f}–{c.ci[1]:.3f}" if c.ci else "—"
        mem = c.memory_verdict or "—"
        if c.memory_ratio and c.memory_verdict:
            mem += f" (×{c.memory_ratio:.3f})"
        acc = c.accuracy_verdict or "—"
        if c.accuracy_diff is not None and c.accuracy_verdict:
            acc += f" ({c.accuracy_diff:+.4f})"
        note = c.failing + (f": {c.error}" if c.error else "") if c.failing else ""
        rows.append([c.label, str(c.n_pairs), _f(c.a_step_ms, "{:.2f}"), _f(c.b_step_ms, "{:.2f}"),
                     _f(c.ratio, "{:.4f}"), ci, _f(c.mde, "{:.1%}"), c.time_verdict, mem, acc, note])
    return rows


def _f(v: float | None, fmt: str) -> str:
    return fmt.format(v) if v is not None else "—"


def caption(a: Analysis) -> str:
    th = a.thresholds
    over = (f"{th['trim']:.1%}-trimmed mean" if th.get("trim") else "mean")
    return (f"B/A = step-time ratio ({over} over process pairs of each pair's median paired log ratio); "
            f"CI = {1 - th['alpha']:.0%} Student-t interval over pairs"
            + (" (Tukey–McLaughlin, winsorized variance)" if th.get("trim") else "") + "; MDE = effect detectable with 80% power at "
            f"this spread. slower: CI above 1 and B/A ≥ half the threshold ×{th['time']:g}; unchanged: CI within "
            f"(1/{th['time']:g}, {th['time']:g}); else inconclusive. Memory ×{th['memory']:g}, accuracy "
            f"−{th['accuracy_drop']:g}: Mann–Whitney on per-process values.")


def render_rich(a: Analysis, sides: tuple[SideSpec, SideSpec]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"A: {sides[0].describe()}  vs  B: {sides[1].describe()}", caption=caption(a))
    for col in COLUMNS:
        t.add_column(col, overflow="fold")
    style = {AB_SLOWER: "bold red", AB_FASTER: "green", AB_INCONCLUSIVE: "yellow"}
    for c, row in zip(a.cells, table_rows(a)):
        row[7] = Text(row[7], style=style.get(c.time_verdict, ""))  # type: ignore[call-overload]
        t.add_row(*row)
    return Group(t, Text(a.summary_line(), style="bold red" if a.regressions else "bold yellow" if a.inconclusive
                         else "bold green"))


def render_markdown(a: Analysis, sides: tuple[SideSpec, SideSpec], title: str = "rnnbench ab") -> str:
    from rnnbench.markdown import escape

    out = [f"## {a.icon} {escape(title)}: {escape(a.summary_line())}", "",
           f"**A** {escape(sides[0].describe())} · **B** {escape(sides[1].describe())}", "",
           "| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in table_rows(a):
        out.append("| " + " | ".join(escape(v) for v in row) + " |")
    out += ["", f"<sub>{escape(caption(a))}</sub>", ""]
    return "\n".join(out)


def bench_json(a: Analysis) -> list[dict[str, Any]]:
    """github-action-benchmark ``customSmallerIsBetter`` entries: B/A step-time ratio per cell."""
    return [{"name": f"{c.label} - B/A step time", "unit": "ratio", "value": round(c.ratio, 5),
             "range": f"{c.ci[0]:.4f}-{c.ci[1]:.4f}" if c.ci else "",
             "extra": f"{c.n_pairs} pairs, verdict {c.time_verdict}"} for c in a.cells if c.ratio is not None]


def load_analysis(ref: str) -> tuple[Analysis, tuple[SideSpec, SideSpec], RunDir]:
    """An ab run's stored records analyzed again (``rnnbench ab --report RUN``)."""
    run, suite, sides, _, th = reopen_ab_run(ref)
    return analyze(run.records(), plan(suite, sides), th), sides, run
