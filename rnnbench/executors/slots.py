"""Several workers at once, each on cores of its own: the one pool ``run --jobs`` and ``ab --jobs`` share.

Items (cells, or A/B pairs) run on as many threads as there are core slots
(:func:`rnnbench.cellenv.core_slots`); each takes a free slot, starts its worker process(es)
pinned to it, and gives the slot back when done. Results are handed over on the calling thread
as they finish, so the caller appends records without locks. Ctrl-C or SIGTERM (or any error)
cancels what has not started and kills every worker that has: nothing half-run is recorded.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
POLL_S = 0.5  # how often the waiting thread wakes (so Ctrl-C is handled at once)


def run_on_slots(items: Iterable[T], slots: list[list[int]],
                 work: Callable[[T, list[int], Callable[[Any], None]], R],
                 done: Callable[[T, R, list[int]], None], name: str = "slot") -> None:
    """``work(item, cpus, started)`` for every item, ``len(slots)`` at once, each on a slot's
    cores; ``started(worker)`` tells the pool a worker process to kill on interrupt.
    ``done(item, result, cpus)`` is called on this thread as each item finishes."""
    from rnnbench.executors.local import kill

    free: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
    for slot in slots:
        free.put(slot)
    live: list[Any] = []

    def task(item: T) -> tuple[R, list[int]]:
        cpus = free.get()
        try:
            return work(item, cpus, live.append), cpus
        finally:
            free.put(cpus)

    with ThreadPoolExecutor(len(slots), thread_name_prefix=name) as pool:
        pending = {pool.submit(task, item): item for item in items}
        try:
            while pending:
                finished, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for f in finished:
                    item = pending.pop(f)
                    result, cpus = f.result()
                    done(item, result, cpus)
        except BaseException:
            for f in pending:
                f.cancel()
            for w in list(live):
                kill(w)
            raise
