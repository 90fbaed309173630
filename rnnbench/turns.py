"""Taking turns: the protocol between a lockstep parent and the two workers of a pair.

Two worker processes (side A and side B of ``rnnbench ab``) train the same cell at the same
time, but only one of them computes at any moment: slow spells of a shared machine then hit
both alike, and their step-by-step ratio keeps little of the machine's noise.

One byte each way over a pair of pipes per worker:

* the worker, at every *turn* (before the first step of each epoch and after every step),
  writes ``d`` ("done, idle") and blocks until it reads ``g`` ("go");
* the parent first waits for both workers' first ``d`` (data loaded, model built: that work
  overlaps, outside the paired window), then hands out turns strictly alternating — A, B,
  A, B — ``g`` to one side, wait for its ``d``, then the other.

Why strictly alternating, not A B B A: a process that has just finished a step leaves its
OpenMP threads spinning for a moment, and a step that follows the *same* process's step
runs with warm caches and no spinning neighbour. With A B B A every other step of each
side ran after itself, and measured here (2 cores, CI-sized torch GRU) the step that came
second in its round was 30-45 % slower: a bias as large as anything worth detecting. With
A B A B every step of both sides follows the other side's step; the remaining drift
(B's step lies between A's k-th and (k+1)-th) cancels when B is compared with both
neighbours (:func:`rnnbench.stats.pair_log_ratio`).

A worker's own clock starts after it reads ``g`` and stops at the end of the step, so its
recorded step times never include waiting. Work between a step and the next turn (the end of
an epoch, evaluation) happens inside that worker's own turn, while the other side is idle.
After a worker's turn the parent also waits for it to *settle* — until its threads stop
burning CPU: an OpenMP worker thread spins ~10 ms after a parallel region (measured: a torch
process idling after a step burnt ~10 ms of CPU), and that spin would run on a core the other
side's step needs. Measured on 2 cores (torch GRU, 64 units, 28-35 ms steps): without settling
the steps were ~20 % slower and A/A pair ratios spread 0.91-1.07; with it 0.97-1.00 but one.

A worker that finishes (or dies) closes its pipe: the parent reads end-of-file and goes on
with the other side alone; those unpaired steps are not used.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field

GO, DONE = b"g", b"d"


class Gate:
    """The worker's side: ``turn()`` says "idle" and waits for the parent's go."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.turns = 0

    def turn(self) -> None:
        os.write(self.fd_out, DONE)
        if os.read(self.fd_in, 1) != GO:
            raise SystemExit("lockstep: the parent went away")
        self.turns += 1


def running_threads(pid: int) -> int | None:
    """How many of a process's threads are running or runnable (state R, Linux /proc), or None."""
    n = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                stat = f.read()
            if stat[stat.rindex(b")") + 2:][:1] == b"R":
                n += 1
    except (OSError, ValueError):
        return None
    return n


@dataclass
class Side:
    """The parent's end of one worker's pipes."""

    name: str
    to_worker: int  # the parent writes GO here
    from_worker: int  # and reads DONE here
    pid: int | None = None  # to wait for the worker's threads to go idle (settle)
    finished: bool = False
    turns: int = 0
    settle_s: float = 0.0  # time spent waiting for this side to go quiet

    def settle(self, poll_s: float = 0.0005, max_s: float = 0.05) -> None:
        """Wait until none of the worker's threads is running (OpenMP workers spin ~10 ms after a
        parallel region), so the other side's next step runs alone."""
        if self.pid is None or self.finished:
            return
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < max_s and (running_threads(self.pid) or 0) > 0:
            time.sleep(poll_s)
        self.settle_s += time.perf_counter() - t0

    def wait_done(self, timeout: float | None) -> bool:
        """Block until the worker is idle; False when it has finished (EOF) or timed out."""
        if self.finished:
            return False
        ready, _, _ = select.select([self.from_worker], [], [], timeout)
        if not ready:
            raise TimeoutError(f"side {self.name}: no answer in {timeout:g} s")
        got = os.read(self.from_worker, 1)
        if got != DONE:
            self.finished = True
            return False
        return True

    def go(self) -> None:
        try:
            os.write(self.to_worker, GO)
        except BrokenPipeError:
            self.finished = True
        self.turns += 1


@dataclass
class Referee:
    """Hands out turns to two sides until both have finished."""

    a: Side
    b: Side
    timeout: float | None = None
    order: list[str] = field(default_factory=list)
    settle: bool = True

    def run(self) -> None:
        alive = [s for s in (self.a, self.b) if s.wait_done(self.timeout)]  # both built and ready
        while alive:
            for side in (self.a, self.b):
                if side in alive:
                    side.go()
                    self.order.append(side.name)
                    if not side.wait_done(self.timeout):
                        alive.remove(side)
                    elif self.settle:
                        side.settle()
