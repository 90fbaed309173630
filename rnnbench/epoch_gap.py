"""An epoch's wall time against the sum of its step times: the second clock for epoch figures.

An epoch's wall time minus the sum of its step times is time outside the training steps (the
framework's per-epoch set-up and tear-down). A few milliseconds is normal; more than
``GAP_WARN_PCT`` of the epoch (and at least ``GAP_WARN_MIN_S``) is a wait counted as training —
the Keras-TensorFlow tf.data stall padded epochs by up to 2× this way (issue 29). Epochs after
the first are checked (the first holds compilation), or the only one. Not checked under
``rnnbench ab``'s lockstep, whose epoch walls hold the partner's turns by design.

Pure arithmetic on a record's clock readings, so the worker checks each new record with it
(:mod:`rnnbench.measure`) and the report checks records written before the check existed.
"""

from __future__ import annotations

from typing import Any

GAP_WARN_PCT = 5.0  # an epoch's wall more than 5% above its summed steps ...
GAP_WARN_MIN_S = 0.05  # ... and by at least 50 ms (tiny epochs have ms of Python around fit)


def epoch_gaps(step_times: list[list[float]], epoch_walls: list[float], gated: bool = False) -> dict[str, Any]:
    """Each epoch's wall time outside its steps, and a warning when one is too large (module doc).

    Returns ``epoch_gap`` (``{"outside_steps_s": [...], "worst_epoch", "worst_s", "worst_pct",
    "checked"}``) and ``warnings``.
    """
    outside = [round(w - sum(st), 6) for w, st in zip(epoch_walls, step_times)]
    checked = [] if gated else (list(range(1, len(outside))) or list(range(len(outside))))
    out: dict[str, Any] = {"outside_steps_s": outside, "checked": not gated}
    if not checked:
        return {"epoch_gap": out, "warnings": []}
    worst = max(checked, key=lambda e: outside[e] / epoch_walls[e] if epoch_walls[e] > 0 else 0.0)
    pct = 100.0 * outside[worst] / epoch_walls[worst] if epoch_walls[worst] > 0 else 0.0
    out.update(worst_epoch=worst + 1, worst_s=outside[worst], worst_pct=round(pct, 2))
    warnings = []
    if pct > GAP_WARN_PCT and outside[worst] >= GAP_WARN_MIN_S:
        warnings.append(
            f"epoch wall time disagrees with its steps: epoch {worst + 1} took {epoch_walls[worst]:.3f} s but its "
            f"steps sum to {sum(step_times[worst]):.3f} s ({outside[worst]:.3f} s, {pct:.0f}%, outside the steps); "
            "epoch times, epoch throughput and time to target count that wait as training "
            "(step times and samples/s do not)")
    out["flagged"] = bool(warnings)
    return {"epoch_gap": out, "warnings": warnings}
