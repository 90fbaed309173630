"""Which failed attempts of a cell are run again (``retries``), and what the record keeps of them.

A cell whose process crashed, that timed out, or whose Ray node or task process was lost may
have met bad luck (a node going away, an out-of-memory kill by a neighbour), so with
``retries = N`` it runs again up to N times; an error raised by the cell's own code
(``error``, ``diverged``, ``out_of_memory``) would only fail again and is not retried. The
record that lands is the last attempt's, with the earlier ones kept in ``attempts``: a
retried success is never mistaken for a clean one. Every executor (local, ``--jobs``, Ray)
uses these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RETRYABLE = frozenset({"crashed", "timeout"})
_KEPT = ("status", "error", "exit_code", "signal", "node", "started", "finished", "wall_s", "log_tail")


def should_retry(record: dict[str, Any], earlier: list[dict[str, Any]], retries: int) -> bool:
    return record.get("status") in RETRYABLE and len(earlier) < retries


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What the final record keeps of a failed attempt."""
    return {k: record.get(k) for k in _KEPT if record.get(k) is not None}


def with_attempts(record: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any]:
    if earlier:
        record["attempts"] = list(earlier)
    return record


def run_with_retries(retries: int, run_once: Callable[[], dict[str, Any]],
                     on_retry: Callable[[dict[str, Any], int], None] | None = None) -> dict[str, Any]:
    """``run_once()`` until it gives a record that is not retryable or ``retries`` are used up."""
    earlier: list[dict[str, Any]] = []
    while True:
        record = run_once()
        if not should_retry(record, earlier, retries):
            return with_attempts(record, earlier)
        earlier.append(summary(record))
        if on_retry:
            on_retry(record, len(earlier) + 1)
