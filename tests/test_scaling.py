"""Scaling fits: power laws on log–log axes from rows that differ in one setting only."""

from __future__ import annotations

import math

import pytest

from rnnbench.report.aggregate import Summary
from rnnbench.report.scaling import fit_power, fits, markdown


def _row(cell: str, backend: str, maxlen: int, units: int, step: float, fwd: float | None = None) -> dict:
    return {"cell": cell, "backend": backend, "maxlen": maxlen, "units": units, "steady_step_ms": step,
            "forward_ms": fwd, "backward_ms": None if fwd is None else step - fwd}


def test_a_power_law_is_recovered_with_its_exponent() -> None:
    pts = [(x, 3.0 * x**1.5) for x in (10, 20, 40, 80)]
    k, a, r2 = fit_power(pts)
    assert k == pytest.approx(1.5) and math.exp(a) == pytest.approx(3.0) and r2 == pytest.approx(1.0)


def test_series_differ_in_one_setting_only_and_need_three_points() -> None:
    rows = [_row("GRU / torch", "torch", m, 128, 0.5 * m, fwd=0.2 * m) for m in (50, 100, 200, 400)]
    rows += [_row("GRU / torch", "torch", 200, u, 0.01 * u**2) for u in (32, 64, 256)]
    rows += [_row("LSTM / torch", "torch", m, 128, 2.0 * m**0.5) for m in (100, 200)]  # two points: no fit
    found = fits(Summary(rows=rows, failures=[], varying=["maxlen", "units"]))
    by = {(f.axis, f.series, f.quantity): f for f in found}
    step = by[("maxlen", "GRU / torch (units=128)", "step")]
    assert step.exponent == pytest.approx(1.0) and len(step.points) == 4
    assert by[("maxlen", "GRU / torch (units=128)", "forward")].exponent == pytest.approx(1.0)
    # the width sweep at maxlen 200: units 32, 64, 256 plus the matrix's 128 point
    width = by[("units", "GRU / torch (maxlen=200)", "step")]
    assert [x for x, _ in width.points] == [32, 64, 128, 256]
    assert not any(f.series.startswith("LSTM") for f in found)
    lines = markdown(Summary(rows=rows, failures=[], varying=["maxlen", "units"]))
    assert any("GRU / torch (units=128) step time grows as maxlen^1.00" in line for line in lines)


def test_no_varying_axis_no_section() -> None:
    rows = [_row("GRU / torch", "torch", 200, 128, 10.0)]
    assert fits(Summary(rows=rows, failures=[], varying=["seed"])) == [] and markdown(Summary(rows, [], [])) == []
