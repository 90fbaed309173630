"""Taking turns: the protocol between a lockstep parent and the two workers of a pair.

Two worker processes (side A and side B of ``rnnbench ab``) train the same cell at the same
time, but only one of them computes at any moment: slow spells of a shared machine then hit
both alike, and their step-by-step ratio keeps little of the machine's noise.

One byte each way over a pair of pipes per worker:

* the worker, at every *turn* (before the first step of each epoch and after every step),
  writes ``d`` ("done, idle") and blocks until it reads ``g`` ("go");
* the parent first waits for both workers' first ``d`` (data loaded, model built: that work
  overlaps, outside the paired window), then hands out turns — ``g`` to one side, wait for
  its ``d``, then the other — alternating which side goes first, so order and drift cancel.

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
        k = 0
        while alive:
            first, second = (self.a, self.b) if k % 2 == 0 else (self.b, self.a)
            for side in (first, second):
                if side in alive:
                    side.go()
                    self.order.append(side.name)
                    if not side.wait_done(self.timeout):
                        alive.remove(side)
            k += 1
