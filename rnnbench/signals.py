"""A clean stop on SIGTERM, as on Ctrl-C.

``kill PID``, a CI job's cancel or a scheduler's preemption sends SIGTERM; by default Python
dies on the spot, leaving the running cell's worker to its parent-death signal and the
terminal's progress display half drawn. Inside :func:`terminate_as_interrupt` SIGTERM raises
:class:`Terminated` (a ``KeyboardInterrupt``) in the main thread instead, so ``run`` and ``ab``
take the path Ctrl-C takes: kill the cell's worker, keep every finished record, say how to
resume, exit 143 (128 + SIGTERM) instead of 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (handled exactly like Ctrl-C, with its own exit code)."""


EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


def exit_code(exc: BaseException | None) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler signature
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough; cleanup runs in peace
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
