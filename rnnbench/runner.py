"""One run of a suite: make (or reopen) the run directory, run each cell, append results.

``start_run`` writes ``suite.toml`` and ``run.json`` (resolved cells, suite fingerprint,
machine) before the first cell; each finished cell is appended to ``results.jsonl`` at
once. ``--resume`` reopens a run, refuses if the suite's cells changed, and skips every
cell already recorded. Ctrl-C kills the running cell (not recorded) and leaves the rest.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from rnnbench import paths
from rnnbench.errors import UserError
from rnnbench.results import (RUN_FILE, SCHEMA_VERSION, STORAGE_FULL, RunDir, append_record, not_run_record,
                              resolve_run)
from rnnbench.signals import exit_code, terminate_as_interrupt
from rnnbench.suite import Cell, Suite, parse_suite, with_stored_keys


class Progress(Protocol):
    def start(self, run_id: str, cells: list[Cell], done: int) -> None: ...
    def cell_start(self, cell: Cell) -> None: ...
    def event(self, cell: Cell, event: dict[str, Any]) -> None: ...
    def cell_done(self, cell: Cell, record: dict[str, Any]) -> None: ...
    def stop(self) -> None: ...


CellRunner = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    path: Path
    ran: int
    skipped: int
    failed: int
    interrupted: bool
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM (rnnbench.signals)


def new_run_id(suite: Suite) -> str:
    slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", suite.name).strip("-") or "suite"
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{slug}"


def start_run(suite: Suite, root: Path | None = None, run_id: str | None = None,
              extra_meta: dict[str, Any] | None = None) -> RunDir:
    """Create the run directory with ``suite.toml`` and ``run.json`` (``extra_meta`` merged in:
    ``rnnbench ab`` adds its kind, sides and pairs).

    The folder is filled under a hidden temporary name and renamed into place, so a run folder
    is always complete (a kill during start leaves at most a ``.starting-*`` folder, which
    nothing reads) and the rename is the claim: two runs started in the same second get
    ``ID`` and ``ID-2``, never one folder."""
    import tempfile

    from rnnbench.envinfo import fingerprint, machine

    root = root or paths.runs_dir()
    stem = run_id or new_run_id(suite)
    root.mkdir(parents=True, exist_ok=True)
    env = machine()
    meta = {
        "schema": SCHEMA_VERSION,
        "run_id": stem,
        "suite": {"name": suite.name, "description": suite.description, "path": suite.path,
                  "fingerprint": suite.fingerprint, "varying": list(suite.varying),
                  "regression": suite.regression, "report": suite.report,
                  "overrides": suite.overrides, "only": suite.only, "repeat": suite.repeat},
        "cells": [c.to_json() for c in suite.cells],
        "machine": env,
        "fingerprint": fingerprint(env),
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        **(extra_meta or {}),
    }
    staging = Path(tempfile.mkdtemp(prefix=".starting-", dir=root))
    try:
        (staging / "suite.toml").write_text(suite.source_text, encoding="utf-8")
        for n in range(1, 10_000):
            name = stem if n == 1 else f"{stem}-{n}"
            if (root / name).exists():
                continue
            meta["run_id"] = name
            (staging / RUN_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
            try:
                staging.rename(root / name)  # fails when another run took the name first (non-empty folder)
            except OSError as e:
                if e.errno in STORAGE_FULL:
                    raise
                continue
            return RunDir(root / name)
        raise UserError(f"{root}: could not claim a run folder named {stem}-N")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def reopen_run(ref: str, suite: Suite | None, root: Path | None = None) -> tuple[RunDir, Suite]:
    """The run to resume and its suite; refuses when the given suite differs from the run's."""
    run = resolve_run(ref, root, kind="suite")
    meta = run.meta()
    stored_src = run.path / "suite.toml"
    if not meta or not stored_src.exists():
        raise UserError(f"{run.path}: not a resumable run (no run.json or suite.toml)")
    stored = parse_suite(stored_src.read_text(encoding="utf-8"), meta["suite"].get("path", str(stored_src)),
                         meta["suite"].get("overrides"), meta["suite"].get("only"),
                         meta["suite"].get("repeat"))
    # under the keys the run gave its cells (a setting added to rnnbench since changes them)
    stored = dataclasses.replace(stored, cells=with_stored_keys(stored.cells, meta.get("cells") or []))
    if stored.fingerprint != meta["suite"]["fingerprint"]:
        raise UserError(f"{run.path}: stored suite does not match its run.json (was it edited?)")
    if suite is not None:
        suite = dataclasses.replace(suite, cells=with_stored_keys(suite.cells, meta.get("cells") or []))
        if suite.fingerprint != stored.fingerprint:
            raise UserError(
                f"cannot resume {run.run_id}: the suite changed since the run started "
                f"(cells {stored.fingerprint} → {suite.fingerprint}); start a new run instead"
            )
    return run, stored


def unavailable_record(cell: Cell, run_id: str) -> dict[str, Any] | None:
    """A record saying the cell's framework is not installed, or None when it is."""
    from rnnbench.backends.base import get_backend

    info = get_backend(cell.settings.backend)
    missing = info.missing()
    if not missing:
        return None
    return not_run_record(cell, run_id, "unavailable",
                          f"backend '{info.name}' unavailable: {', '.join(missing)} not installed ({info.install})")


def local_node() -> dict[str, Any]:
    """Where a local cell runs: this machine, by the fingerprint that decides whether timings compare."""
    import socket

    from rnnbench.envinfo import fingerprint, machine

    env = machine()
    return {"executor": "local", "hostname": socket.gethostname(), "fingerprint": fingerprint(env),
            "cpu_model": env.get("cpu_model"), "cpu_count": env.get("cpu_count")}


def execute(
    suite: Suite,
    run: RunDir,
    progress: Progress,
    cell_runner: CellRunner | None = None,
    retry_failed: bool = False,
    jobs: int = 1,
    ray_address: str | None = None,
) -> RunSummary:
    """Run every cell of ``suite`` not yet recorded in ``run``; append each result at once.

    ``jobs`` > 1: that many cells at once, each pinned to cores of its own
    (:func:`rnnbench.cellenv.core_slots`); each record says so (``parallel``).
    ``ray_address``: every cell is a task on that Ray cluster (:mod:`rnnbench.executors.ray_cluster`)."""
    if cell_runner is None:
        from rnnbench.executors.local import run_cell_process as cell_runner
    records = run.records()
    done = {r["key"] for r in records if r.get("status") == "ok" or not retry_failed}
    todo = [c for c in suite.cells if c.key not in done]
    progress.start(run.run_id, list(suite.cells), len(suite.cells) - len(todo))
    counts = [0, 0]  # ran, failed
    interrupted, code = False, 0

    def land(cell: Cell, record: dict[str, Any]) -> None:
        """Append a finished cell's record at once (called by one thread at a time)."""
        append_record(run.results, record)
        counts[0] += 1
        counts[1] += record["status"] != "ok"
        progress.cell_done(cell, record)

    try:
        with terminate_as_interrupt():
            if ray_address is not None:
                from rnnbench.executors.ray_cluster import run_cells

                run_cells(todo, run, progress, land, ray_address)
            elif jobs > 1:
                _run_cells_parallel(todo, run, progress, cell_runner, land, jobs)
            else:
                _run_cells(todo, run, progress, cell_runner, land)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated)
        interrupted, code = True, exit_code(e)
        # Cleanup (killing the cell, writing the summary) must not be cut short by a second
        # Ctrl-C: from here on SIGINT is swallowed; the CLI exits with 130 right after.
        signal.signal(signal.SIGINT, lambda *_: None)
    finally:
        progress.stop()
    ran, failed = counts
    return RunSummary(run.run_id, run.path, ran, len(suite.cells) - len(todo), failed, interrupted, code)


class _LocalCells:
    """Runs one cell on this machine: unavailable or GPU-less cells become records without a
    process; a GPU cell gets a GPU of its own from the pool; crashes and timeouts are retried
    (``retries``); every record names the node."""

    def __init__(self, run: RunDir, progress: Progress, cell_runner: CellRunner, lock: Any = None) -> None:
        import contextlib

        from rnnbench.gpus import GpuPool, visible_gpus

        self.run, self.progress, self.cell_runner = run, progress, cell_runner
        self.lock = lock or contextlib.nullcontext()
        self.node = local_node()
        self.gpus = visible_gpus()
        self.pool = GpuPool(self.gpus)

    def event(self, cell: Cell, event: dict[str, Any]) -> None:
        with self.lock:
            self.progress.event(cell, event)

    def __call__(self, cell: Cell, **kwargs: Any) -> dict[str, Any]:
        from rnnbench.executors.retry import run_with_retries
        from rnnbench.gpus import no_gpu_reason

        record = unavailable_record(cell, self.run.run_id)
        device = cell.settings.device
        why = no_gpu_reason(device, self.gpus)
        if record is None and why:
            record = not_run_record(cell, self.run.run_id, "skipped", why)
        if record is None:
            gpu = self.pool.take(device) if device != "cpu" else None
            extra = {"gpu": gpu} if gpu is not None else {}

            def once() -> dict[str, Any]:
                rec = self.cell_runner(cell, self.run.path, self.run.run_id, on_event=self.event, **kwargs, **extra)
                rec.setdefault("node", self.node)
                return rec

            try:
                record = run_with_retries(
                    cell.settings.retries, once,
                    lambda failed, n: self.event(cell, {"event": "retry", "attempt": n, "after": failed["status"]}))
            finally:
                if gpu is not None:
                    self.pool.give(gpu)
            if gpu is not None:
                record["gpu"] = gpu
        record.setdefault("node", self.node)
        return record


def _run_cells(todo: list[Cell], run: RunDir, progress: Progress, cell_runner: CellRunner,
               land: Callable[[Cell, dict[str, Any]], None]) -> None:
    """Run each cell and append its record at once."""
    one = _LocalCells(run, progress, cell_runner)
    for cell in todo:
        progress.cell_start(cell)
        land(cell, one(cell))


def _run_cells_parallel(todo: list[Cell], run: RunDir, progress: Progress, cell_runner: CellRunner,
                        land: Callable[[Cell, dict[str, Any]], None], jobs: int) -> None:
    """``jobs`` cells at once on disjoint cores; records appended (by this thread) as they finish.
    On Ctrl-C or SIGTERM every running worker is killed and none of them is recorded."""
    import threading

    from rnnbench.cellenv import core_slots, resolved_threads
    from rnnbench.executors.slots import run_on_slots

    slots = core_slots(jobs, max(resolved_threads(c.settings) for c in todo) if todo else 1)
    lock = threading.Lock()
    one = _LocalCells(run, progress, cell_runner, lock)

    def work(cell: Cell, cpus: list[int], started: Callable[[Any], None]) -> dict[str, Any]:
        with lock:  # the progress display follows the cell started last
            progress.cell_start(cell)
        return one(cell, cpus=cpus, started=started)

    def done(cell: Cell, record: dict[str, Any], cpus: list[int]) -> None:
        record["parallel"] = {"jobs": jobs, "cpus": cpus}
        with lock:
            land(cell, record)

    run_on_slots(todo, slots, work, done, name="cell")
