"""Scaling: how step time grows with sequence length, width, batch size or depth.

When a report's cells vary one of :data:`AXES`, the rows that differ only in that setting
(same backend, architecture and every other setting) form a series; a series with at least
:data:`MIN_POINTS` distinct values is fitted by least squares on log–log axes,
``log t = a + k · log x``, so ``k`` is the exponent ("GRU step time grows as maxlen^1.02").
The forward and backward parts of the step are fitted apart where the backend splits the
step (``forward_ms``, ``backward_ms``: PyTorch). Each fit keeps its points, so a report shows
the measurements beside the line, and its R² — a poor fit is reported as one, not hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rnnbench.report.aggregate import Summary

AXES = ("maxlen", "units", "batch_size", "layers")
MIN_POINTS = 3
QUANTITIES = (("steady_step_ms", "step"), ("forward_ms", "forward"), ("backward_ms", "backward"))


@dataclass(frozen=True)
class Fit:
    axis: str
    series: str  # "GRU / torch" plus any other settings that differ between series
    backend: str
    quantity: str  # step | forward | backward
    exponent: float
    r2: float
    points: tuple[tuple[float, float], ...]  # (axis value, ms)
    intercept: float = 0.0  # log(ms) at log(x) = 0
    others: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: float) -> float:
        return math.exp(self.intercept + self.exponent * math.log(x))

    def sentence(self) -> str:
        xs = [p[0] for p in self.points]
        return (f"{self.series} {self.quantity} time grows as {self.axis}^{self.exponent:.2f} "
                f"(R² {self.r2:.3f}; {len(xs)} points, {self.axis} {min(xs):g}–{max(xs):g})")


def fit_power(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(exponent, intercept, R²) of ``y = e^a · x^k`` by least squares on the logs."""
    lx = [math.log(x) for x, _ in points]
    ly = [math.log(y) for _, y in points]
    n = len(points)
    mx, my = sum(lx) / n, sum(ly) / n
    sxx = sum((x - mx) ** 2 for x in lx)
    k = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sxx
    a = my - k * mx
    ss_tot = sum((y - my) ** 2 for y in ly)
    ss_res = sum((y - (a + k * x)) ** 2 for x, y in zip(lx, ly))
    return k, a, (1.0 - ss_res / ss_tot) if ss_tot > 0 else 1.0


def fits(summary: Summary) -> list[Fit]:
    """Every power-law fit the summary's rows allow (see the module doc)."""
    out: list[Fit] = []
    for axis in AXES:
        if axis not in summary.varying:
            continue
        others = [k for k in summary.varying if k != axis]
        series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in summary.rows:
            if row.get(axis) is None:
                continue
            key = (row["cell"], *(str(row.get(k)) for k in others))
            series.setdefault(key, []).append(row)
        for key, rows in series.items():
            rest = {k: rows[0].get(k) for k in others}
            name = key[0] + (f" ({', '.join(f'{k}={v}' for k, v in rest.items())})" if rest else "")
            for col, quantity in QUANTITIES:
                pts = sorted({(float(r[axis]), float(r[col])) for r in rows
                              if isinstance(r.get(col), (int, float)) and r[col] > 0 and float(r[axis]) > 0})
                if len({x for x, _ in pts}) < MIN_POINTS:
                    continue
                k, a, r2 = fit_power(pts)
                out.append(Fit(axis, name, rows[0]["backend"], quantity, k, r2, tuple(pts), a, rest))
    return out


def markdown(summary: Summary) -> list[str]:
    found = fits(summary)
    if not found:
        return []
    out = ["## Scaling", "", "Power laws fitted by least squares on log–log axes to the steady step time (and, where "
           "the backend splits the step, its forward and backward parts) of cells that differ in one setting "
           "only; the measured points are in the `scaling-*` figures.", ""]
    out += [f"- {f.sentence()}" for f in found]
    return [*out, ""]
