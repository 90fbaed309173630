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
A worker that finishes (or dies) closes its pipe: the parent reads end-of-file and goes on
with the other side alone; those unpaired steps are not used.
"""

from __future__ import annotations

import os
import select
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


@dataclass
class Side:
    """The parent's end of one worker's pipes."""

    name: str
    to_worker: int  # the parent writes GO here
    from_worker: int  # and reads DONE here
    finished: bool = False
    turns: int = 0

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

    def run(self) -> None:
        alive = [s for s in (self.a, self.b) if s.wait_done(self.timeout)]  # both built and ready
        while alive:
            for side in (self.a, self.b):
                if side in alive:
                    side.go()
                    self.order.append(side.name)
                    if not side.wait_done(self.timeout):
                        alive.remove(side)
