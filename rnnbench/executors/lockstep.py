"""Run one cell as a *pair* of worker processes that take turns, one training step each.

Side A and side B (``rnnbench ab``) each get their own interpreter (a venv's Python: a
framework upgrade, a patched build) and their own cell (setting overrides); both run
rnnbench's worker. The turn-taking itself is :mod:`rnnbench.turns`. Whatever happens to a
worker — crash, timeout, exception — comes back as its record, exactly as with the local
executor; a dead side leaves the other to finish alone (its steps are then unpaired).

Each worker also gets an environment variable of random length (:data:`LAYOUT_PAD_VAR`, 0 to
4095 bytes, drawn anew for every process). The size of a process's environment and the paths
it runs from move where its stack lies (Mytkowicz et al., "Producing wrong data without doing
anything obviously wrong!", ASPLOS 2009); two sides run from two venvs would otherwise each keep
their own layout for the whole run, a bias that looks like a regression, where a fresh random
padding per process turns it into noise that the pairs average out (setup randomization, as in
Stabilizer, Curtsinger & Berger 2013). The padding's length is recorded (``layout_pad``).
Measured since: among 860 LSTM/torch processes, how often one ran in the slow state did not
depend on that length. What made the pairs steady (measured) is the cell setting
``reuse_memory`` (:mod:`rnnbench.cellenv`): without it each PyTorch LSTM step maps its large
buffers afresh, and what those page faults cost differs between processes and moments.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rnnbench.executors.local import Worker, kill, start_worker
from rnnbench.suite import Cell
from rnnbench.turns import Referee
from rnnbench.turns import Side as Turns


LAYOUT_PAD_VAR = "RNNBENCH_LAYOUT_PAD"
LAYOUT_PAD_MAX = 4095


def layout_padding() -> dict[str, str]:
    """A fresh random-length environment padding for one worker (see the module docstring)."""
    return {LAYOUT_PAD_VAR: "x" * secrets.randbelow(LAYOUT_PAD_MAX + 1)}


class Side(Protocol):
    """What the pair runner needs of a side (:class:`rnnbench.ab.SideSpec` is one)."""

    name: str  # "a" | "b": names the worker's files
    python: str  # the interpreter its worker runs in
    env: dict[str, str]  # added to the cell's environment (e.g. PYTHONPATH)


def run_pair(cells: tuple[Cell, Cell], sides: tuple[Side, Side], run_dir: Path, run_id: str,
             stem: str, cpus: Sequence[int] | None = None,
             started: Callable[[list[Worker]], None] | None = None,
             b_first: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``cells[0]`` on side A and ``cells[1]`` on side B in lockstep; return their records.

    ``b_first``: B takes the first turn (ab alternates it over pairs, so whatever going first
    does to a step falls on both sides alike); each record's ``turn_first`` names the side that
    really took it (the referee's order).

    Both workers are pinned to the same cores: ``cpus`` (default: the first ``threads`` of
    this process's), so that pairs running at the same time (``ab --jobs``) never share a
    core. ``started`` is told the workers once they run (to kill them from another thread).
    KeyboardInterrupt kills both workers and propagates (an interrupted pair is not recorded).
    """
    pipes: list[tuple[int, int, int, int]] = []  # (worker reads, parent writes, parent reads, worker writes)
    workers: list[Worker] = []
    pads: list[int] = []
    try:
        for cell, side in zip(cells, sides):
            go_r, go_w = os.pipe()
            done_r, done_w = os.pipe()
            pipes.append((go_r, go_w, done_r, done_w))
            pad = layout_padding()
            pads.append(len(pad[LAYOUT_PAD_VAR]))
            workers.append(start_worker(cell, run_dir, side.python, name=f"{stem}.{side.name}",
                                        gate=(go_r, done_w), env_extra={**side.env, **pad}, cpus=cpus,
                                        drop_settings=tuple(getattr(side, "unknown_settings", ()))))
            os.close(go_r)  # the worker's ends live on in the worker only
            os.close(done_w)
        if started:
            started(workers)
        timeout = max(c.settings.timeout for c in cells)
        turns = [Turns(side.name, pipe[1], pipe[2], pid=w.proc.pid) for side, pipe, w in zip(sides, pipes, workers)]
        referee = Referee(*(turns[::-1] if b_first else turns), timeout=timeout)
        timed_out = False
        try:
            referee.run()
        except TimeoutError:
            timed_out = True
            for w in workers:
                kill(w)
        deadline = time.monotonic() + timeout
        for w in workers:
            try:
                w.proc.wait(max(1.0, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - a worker that hangs after its steps is a timeout
                timed_out = True
                kill(w)
        records = workers[0].record(run_id, timed_out), workers[1].record(run_id, timed_out)
        first = "b" if referee.order[:1] == [sides[1].name] else "a" if referee.order else None
        for rec, n in zip(records, pads):
            rec["layout_pad"] = n  # bytes of environment padding this process ran with
            rec["turn_first"] = first  # which side took the first turn
        return records
    except BaseException:
        for w in workers:
            kill(w)
        raise
    finally:
        for _, go_w, done_r, _ in pipes:
            for fd in (go_w, done_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
