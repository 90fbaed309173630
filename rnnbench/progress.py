"""What the user sees while a run goes on.

* :class:`RichProgress` (a terminal): the suite's bar (done, failed, remaining, ETA), the
  current cell's epoch/step bar, and one line per finished epoch with loss and accuracy.
* :class:`PlainProgress` (not a terminal, e.g. CI): one log line per event worth keeping.
* :class:`QuietProgress` (``-q``): nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from rnnbench.suite import Cell


def _fmt_epoch(ev: dict[str, Any]) -> str:
    return (f"epoch {ev['epoch']}: {ev['wall_s']:.1f} s, train loss {ev['train_loss']:.4f}, "
            f"test loss {ev['test_loss']:.4f}, test acc {ev['test_acc']:.4f}")


def _fmt_done(record: dict[str, Any]) -> str:
    if record["status"] == "ok":
        m = record["metrics"]
        return f"ok: acc {m['test_acc']:.4f}, steady step {m['steady_step_s'] * 1e3:.1f} ms, {record['wall_s']:.0f} s"
    return f"{record['status'].upper()}: {record.get('error')}"


class QuietProgress:
    def start(self, run_id: str, cells: list[Cell], done: int) -> None: ...
    def cell_start(self, cell: Cell) -> None: ...
    def event(self, cell: Cell, event: dict[str, Any]) -> None: ...
    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None: ...
    def stop(self) -> None: ...


class PlainProgress(QuietProgress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = 0
        self.n = 0

    def _say(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=self.stream, flush=True)

    def start(self, run_id: str, cells: list[Cell], done: int) -> None:
        self.total, self.n = len(cells), done
        self._say(f"run {run_id}: {len(cells)} cells, {done} already done")

    def cell_start(self, cell: Cell) -> None:
        self.n += 1
        self._say(f"cell {self.n}/{self.total} {cell.label} (repeat {cell.repeat}, seed {cell.settings.seed}) ...")

    def event(self, cell: Cell, event: dict[str, Any]) -> None:
        if event.get("event") == "epoch":
            self._say(f"  {cell.label} {_fmt_epoch(event)}")

    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None:
        self._say(f"  {cell.label} {_fmt_done(record)}")


class RichProgress(QuietProgress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.suite_task: Any = None
        self.cell_task: Any = None
        self.failed = 0

    def start(self, run_id: str, cells: list[Cell], done: int) -> None:
        self.progress.start()
        self.console.print(f"[bold]run[/] {run_id}: {len(cells)} cells, {done} already done")
        self.suite_task = self.progress.add_task("suite", total=len(cells), completed=done, extra="")

    def cell_start(self, cell: Cell) -> None:
        if self.cell_task is not None:
            self.progress.remove_task(self.cell_task)
        self.cell_task = self.progress.add_task(f"{cell.label}", total=None, extra="starting")

    def event(self, cell: Cell, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "built":
            total = event["steps_per_epoch"] * event["epochs"]
            self.progress.update(self.cell_task, total=total, extra=f"{event['params']['total']:,} params")
        elif kind == "step":
            done = (event["epoch"] - 1) * event["of"] + event["step"]
            self.progress.update(self.cell_task, completed=done, extra=f"epoch {event['epoch']}")
        elif kind == "epoch":
            self.progress.console.print(f"  {cell.label} {_fmt_epoch(event)}")

    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None:
        self.failed += record["status"] != "ok"
        style = "green" if record["status"] == "ok" else "red"
        self.progress.console.print(f"[{style}]{cell.label}[/] {_fmt_done(record)}", markup=True)
        self.progress.update(self.suite_task, advance=1, extra=f"[red]{self.failed} failed[/]" if self.failed else "")

    def stop(self) -> None:
        self.progress.stop()


def make_progress(quiet: bool = False) -> QuietProgress:
    if quiet:
        return QuietProgress()
    if sys.stderr.isatty():
        return RichProgress()
    return PlainProgress()
