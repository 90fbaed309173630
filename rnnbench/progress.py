"""What the user sees while a run goes on.

* :class:`RichProgress` (stderr is a terminal): a live display at the bottom — the suite's
  bar (cells done / total, failed, remaining, ETA) and the current cell's bar (epoch, step
  of epoch, elapsed) — with one line printed above it per finished epoch (time, train and
  test loss, test accuracy) and per finished cell (status, accuracy, step time).
* :class:`PlainProgress` (not a terminal: CI, a pipe, a log file): one timestamped line per
  event worth keeping — run start, cell start, each epoch, each cell's end with the suite's
  counts and ETA, and the end of the run. No step-by-step lines, no control codes.
* :class:`QuietProgress` (``-q``): nothing.

The ETA is the mean duration of the cells finished in this session times the cells left
(the current one counted by what it has left); before any cell has finished, the current
cell's own pace (elapsed / fraction of its steps done) stands in for the mean.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from rnnbench.suite import Cell


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _fmt_epoch(ev: dict[str, Any], epochs: int | None = None) -> str:
    of = f"/{epochs}" if epochs else ""
    return (f"epoch {ev['epoch']}{of}: {ev['wall_s']:.1f} s, train loss {ev['train_loss']:.4f}, "
            f"test loss {ev['test_loss']:.4f}, test acc {ev['test_acc']:.4f}")


def _fmt_done(record: dict[str, Any]) -> str:
    wall = record.get("wall_s") or 0.0
    if record["status"] == "ok":
        m = record.get("metrics") or {}
        parts = []
        if m.get("test_acc") is not None:
            parts.append(f"acc {m['test_acc']:.4f}")
        if m.get("steady_step_s") is not None:
            parts.append(f"steady step {m['steady_step_s'] * 1e3:.1f} ms")
        parts.append(f"{wall:.0f} s")
        parts += [f"warning: {w}" for w in m.get("warnings") or []]
        return "ok: " + ", ".join(parts)
    return f"{record['status'].upper()}: {record.get('error')}"


# Shown in a cell's label already, or apart (repeat, seed): never repeated in its name.
_IN_LABEL = ("arch", "backend", "seed", "bidirectional", "layers")


def differing_settings(cells: list[Cell]) -> tuple[str, ...]:
    """Settings whose values differ between cells that share a label (what progress lines must name)."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for c in cells:
        by_label.setdefault(c.label, []).append(c.settings.model_dump())
    keys: list[str] = []
    for dumps in by_label.values():
        for k in dumps[0]:
            if k not in _IN_LABEL and k not in keys and len({repr(d.get(k)) for d in dumps}) > 1:
                keys.append(k)
    return tuple(keys)


class SuiteState:
    """Counts and the ETA, shared by the plain and rich displays."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.total = self.skipped = self.finished = self.failed = 0
        self.durations: list[float] = []
        self.cell_started: float | None = None
        self.cell_fraction = 0.0  # of the current cell's training steps
        self.current: Cell | None = None
        self.steps_per_epoch: int | None = None
        self.epochs: int | None = None
        self.varying: tuple[str, ...] = ()
        self.started = clock()

    def start(self, cells: list[Cell], done: int) -> None:
        self.total, self.skipped = len(cells), done
        self.started = self.clock()
        self.varying = differing_settings(cells)

    def name(self, cell: Cell) -> str:
        """The cell's label and what sets it apart from the suite's other cells with that label:
        ``GRU / torch [units=64, learning_rate=0.003]`` in a units × learning-rate matrix."""
        s = cell.settings.model_dump()
        apart = ", ".join(f"{k}={s[k]}" for k in self.varying)
        return f"{cell.label} [{apart}]" if apart else cell.label

    def cell_start(self, cell: Cell) -> None:
        self.current = cell
        self.cell_started = self.clock()
        self.cell_fraction = 0.0
        self.steps_per_epoch = None
        self.epochs = cell.settings.epochs

    def cell_done(self, record: dict[str, Any]) -> None:
        if self.cell_started is not None:
            self.durations.append(self.clock() - self.cell_started)
        self.finished += 1
        self.failed += record.get("status") != "ok"
        self.current = None
        self.cell_started = None

    @property
    def done(self) -> int:
        return self.skipped + self.finished

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done)

    def eta(self) -> float | None:
        """Seconds left for the whole suite, or None before there is anything to go by."""
        now = self.clock()
        elapsed = now - self.cell_started if self.cell_started is not None else 0.0
        if self.durations:
            mean = sum(self.durations) / len(self.durations)
        elif self.current is not None and self.cell_fraction > 0.02:
            mean = elapsed / self.cell_fraction
        else:
            return None if self.remaining else 0.0
        if self.current is not None:
            if self.cell_fraction > 0.02:  # the current cell's own pace
                current_left = elapsed / self.cell_fraction - elapsed
            else:
                current_left = max(0.0, mean - elapsed)
            return current_left + max(0, self.remaining - 1) * mean
        return self.remaining * mean

    def counts(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{self.total} done{failed}, {self.remaining} remaining, ETA {_fmt_duration(self.eta())}"

    def step(self, event: dict[str, Any]) -> None:
        of = event.get("of") or self.steps_per_epoch
        if of and self.epochs:
            self.steps_per_epoch = of
            self.cell_fraction = min(1.0, ((event["epoch"] - 1) * of + event["step"]) / (of * self.epochs))


class QuietProgress:
    def start(self, run_id: str, cells: list[Cell], done: int) -> None: ...
    def cell_start(self, cell: Cell) -> None: ...
    def event(self, cell: Cell, event: dict[str, Any]) -> None: ...
    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None: ...
    def stop(self) -> None: ...


class PlainProgress(QuietProgress):
    """One timestamped line per event worth keeping, for logs (no control codes)."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.state = SuiteState(clock)
        self.n = 0

    def _say(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=self.stream, flush=True)

    def start(self, run_id: str, cells: list[Cell], done: int) -> None:
        self.state.start(cells, done)
        self.n = done
        self._say(f"run {run_id}: {len(cells)} cell{'s' if len(cells) != 1 else ''}, {done} already done")

    def cell_start(self, cell: Cell) -> None:
        self.n += 1
        self.state.cell_start(cell)
        self._say(f"cell {self.n}/{self.state.total} {self.state.name(cell)} (repeat {cell.repeat}, "
                  f"seed {cell.settings.seed}) ...")

    def event(self, cell: Cell, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "built":
            self.state.steps_per_epoch = event.get("steps_per_epoch")
        elif kind == "step":
            self.state.step(event)
        elif kind == "epoch":
            self._say(f"  {cell.label} {_fmt_epoch(event, cell.settings.epochs)}")
        elif kind in ("retry", "node"):
            self._say(f"  {cell.label} {_fmt_notice(event, cell)}")

    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None:
        self.state.cell_done(record)
        self._say(f"  {cell.label} {_fmt_done(record)} · {self.state.counts()}")

    def stop(self) -> None:
        st = self.state
        if st.finished:
            failed = f", {st.failed} failed" if st.failed else ""
            self._say(f"finished {st.finished} cell{'s' if st.finished != 1 else ''}{failed} in "
                      f"{_fmt_duration(st.clock() - st.started)}; "
                      f"{st.remaining} not run")


class RichProgress(QuietProgress):
    """A live two-bar display (suite, current cell) with epoch and cell results printed above."""

    def __init__(self, console: Any = None, clock: Callable[[], float] = time.monotonic,
                 auto_refresh: bool = True) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=28),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            auto_refresh=auto_refresh,
            refresh_per_second=4,
        )
        self.state = SuiteState(clock)
        self.suite_task: Any = None
        self.cell_task: Any = None
        self.last_epoch = ""

    def _suite_info(self) -> str:
        st = self.state
        failed = f"[red]{st.failed} failed[/] · " if st.failed else ""
        return f"{failed}{st.remaining} remaining · ETA {_fmt_duration(st.eta())}"

    def _update_suite(self) -> None:
        self.progress.update(self.suite_task, completed=self.state.done, info=self._suite_info())

    def start(self, run_id: str, cells: list[Cell], done: int) -> None:
        from rich.markup import escape

        self.state.start(cells, done)
        self.progress.start()
        self.console.print(f"[bold]run[/] {escape(run_id)}: {len(cells)} cell{'s' if len(cells) != 1 else ''}, "
                           f"{done} already done")
        self.suite_task = self.progress.add_task("[bold]suite[/]", total=len(cells), completed=done,
                                                 info=self._suite_info())

    def cell_start(self, cell: Cell) -> None:
        from rich.markup import escape

        self.state.cell_start(cell)
        self.last_epoch = ""
        if self.cell_task is not None:
            self.progress.remove_task(self.cell_task)
        n = self.state.done + 1
        self.cell_task = self.progress.add_task(
            f"{escape(self.state.name(cell))} [dim](cell {n}/{self.state.total}, repeat {cell.repeat})[/]", total=None,
            info="starting")
        self._update_suite()

    def _cell_info(self, epoch: int | None = None, step: int | None = None, of: int | None = None) -> str:
        parts = []
        if epoch is not None:
            parts.append(f"epoch {epoch}/{self.state.epochs}")
        if step is not None and of:
            parts.append(f"step {step}/{of}")
        if self.last_epoch:
            parts.append(f"[dim]{self.last_epoch}[/]")
        return " · ".join(parts)

    def event(self, cell: Cell, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if self.cell_task is None:
            return
        if kind == "data":
            self.progress.update(self.cell_task, info=f"data loaded ({event.get('train')} train, "
                                                      f"{event.get('test')} test)")
        elif kind == "built":
            self.state.steps_per_epoch = event["steps_per_epoch"]
            total = event["steps_per_epoch"] * event["epochs"]
            self.progress.update(self.cell_task, total=total,
                                 info=f"{event['params']['total']:,} params · epoch 1/{event['epochs']}")
        elif kind == "step":
            self.state.step(event)
            of = event["of"]
            done = (event["epoch"] - 1) * of + event["step"]
            self.progress.update(self.cell_task, completed=done,
                                 info=self._cell_info(event["epoch"], event["step"], of))
            self._update_suite()
        elif kind == "epoch":
            self.last_epoch = f"last: loss {event['test_loss']:.3f}, acc {event['test_acc']:.3f}"
            self.progress.console.print(f"  {cell.label} {_fmt_epoch(event, cell.settings.epochs)}",
                                        markup=False, highlight=False)
            self.progress.update(self.cell_task, info=self._cell_info(event["epoch"]))
        elif kind in ("retry", "node"):
            self.progress.console.print(f"  {cell.label} {_fmt_notice(event, cell)}", markup=False, highlight=False)

    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None:
        from rich.markup import escape

        self.state.cell_done(record)
        style = "green" if record["status"] == "ok" else "red"
        self.progress.console.print(f"[{style}]{escape(cell.label)}[/] {escape(_fmt_done(record))}")
        if self.cell_task is not None:
            self.progress.remove_task(self.cell_task)
            self.cell_task = None
        self._update_suite()

    def refresh(self) -> None:
        self.progress.refresh()

    def stop(self) -> None:
        if self.suite_task is not None:
            self._update_suite()
        self.progress.stop()


def _fmt_notice(event: dict[str, Any], cell: Cell) -> str:
    """A retry (``retries``) or the Ray node a cell landed on, in words."""
    if event.get("event") == "retry":
        return (f"{event.get('after')}: running it again (attempt {event.get('attempt')} of "
                f"{cell.settings.retries + 1})")
    node = event.get("node") or {}
    return f"runs on node {node.get('hostname')} ({str(node.get('node_id') or '')[:8]}, {node.get('address')})"


def make_progress(quiet: bool = False, stream: Any = None) -> QuietProgress:
    """Quiet with ``-q``; the rich display when stderr is a terminal; plain lines otherwise."""
    stream = stream or sys.stderr
    if quiet:
        return QuietProgress()
    if getattr(stream, "isatty", lambda: False)():
        return RichProgress()
    return PlainProgress(stream)


class PairProgress:
    """Where an ``rnnbench ab`` run stands: pairs done of those planned, time spent, and the ETA
    (the mean time per finished pair × the pairs left, never past the ``--until-decided``
    budget); ``rnnbench ab`` prints it after each pair and, between pairs, every few seconds."""

    def __init__(self, planned: int, done: int = 0, budget: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.planned, self.done, self.ran, self.budget, self.clock = planned, done, 0, budget, clock
        self.started = clock()
        # pairs in flight: when each started, and its workers' event files
        self.running: dict[tuple[str, int], tuple[float, list[Path]]] = {}

    def pair_started(self, label: str, k: int, events: list[Path]) -> None:
        self.running[(label, k)] = (self.clock(), list(events))

    def pair_done(self, label: str | None = None, k: int | None = None) -> None:
        self.running.pop((label or "", k if k is not None else -1), None)
        self.done += 1
        self.ran += 1

    def in_flight(self) -> str:
        """``LSTM / torch pair 1 running 1:40, at step 20/30`` for each pair in flight (the
        slower side's last reported step), so a slow pair is named and seen to move."""
        parts = []
        for (label, k), (since, files) in list(self.running.items()):
            steps = [s for s in (last_step(f) for f in files) if s is not None]
            text = f"{label} pair {k + 1} running {_clock(self.clock() - since)}"
            if len(steps) == len(files):
                text += ", at step {}/{}".format(*min(steps))
            parts.append(text)
        return "; ".join(parts)

    def eta(self) -> float | None:
        elapsed = self.clock() - self.started
        if not self.ran:
            return None
        left = max(0, self.planned - self.done) * elapsed / self.ran
        return min(left, max(0.0, self.budget - elapsed)) if self.budget else left

    def status(self) -> str:
        elapsed = self.clock() - self.started
        eta = self.eta()
        text = f"{self.done}/{self.planned} pairs, {_clock(elapsed)} elapsed"
        text += f", ETA {_clock(eta)}" if eta is not None else ", ETA after the first pair"
        return text + (f" (budget {_clock(self.budget)})" if self.budget else "")


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def last_step(events: Path) -> tuple[int, int] | None:
    """The last ``step`` event a worker wrote (its step within the epoch, of how many), read from
    the end of its events file; None when there is none yet."""
    try:
        with open(events, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "step":
            return int(event.get("step", 0)), int(event.get("of", 0))
    return None
