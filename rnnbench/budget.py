"""A run's time budget as a hard limit: ``rnnbench ab --until-decided SECONDS``.

The round planning in :mod:`rnnbench.ab` starts a round only when it is expected to end within
the budget, from how long this run's pairs took so far. An expectation is not a limit: on a
machine that something else keeps busy, a PyTorch pair with two threads on two cores was seen
to slow from 44 ms to ~10 s a step (each of its thousands of small parallel regions waits for a
thread the other process preempted), and the first pair alone ran past the budget. So the
budget also has a deadline: when it passes, the workers in flight are killed, their pair is
not kept (half a pair compares nothing), and the run ends with what it has, saying so.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any


class Deadline:
    """Kills the registered workers when ``seconds`` have passed since it was made.

    ``started(workers)`` registers a pair's workers (one started after the deadline is killed at
    once; ``kill`` must ignore a worker that has already exited); ``spent`` tells whether the deadline passed. Use it as a context manager: leaving it
    stops the watch (nothing is killed after the run ends).
    """

    def __init__(self, seconds: float, kill: Callable[[Any], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._kill = seconds, kill
        self.ends_at = clock() + seconds
        self._clock = clock
        self._live: list[Any] = []
        self._lock = threading.Lock()
        self._spent = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ab-deadline", daemon=True)

    @property
    def spent(self) -> bool:
        return self._spent.is_set()

    def started(self, workers: Iterable[Any]) -> None:
        with self._lock:
            workers = list(workers)
            self._live.extend(workers)
            late = self._spent.is_set()
        if late:
            for w in workers:
                self._kill(w)

    def _watch(self) -> None:
        wait = None if math.isinf(self.ends_at) else max(0.0, self.ends_at - self._clock())
        if self._closed.wait(wait):
            return
        with self._lock:
            self._spent.set()
            live = list(self._live)
        for w in live:
            self._kill(w)

    def __enter__(self) -> "Deadline":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._thread.join(timeout=1)
