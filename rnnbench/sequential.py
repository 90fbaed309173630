"""Intervals that stay valid when ``ab --until-decided`` looks at a cell after every pair.

Looking again after each added pair and stopping once the interval decides is a sequential
test: with a fixed (1 - alpha) interval at every look, the chance that *some* look excludes
no change under A/A grows with the looks (about 1.6× here, issue 26). This module gives the
looks *repeated confidence intervals* (Jennison & Turnbull, 1989): at a look with ``n`` of at
most ``n_max`` pairs, the interval is the estimate ± c_n standard errors, where the
boundaries c_n come from a Lan–DeMets alpha-spending function (O'Brien–Fleming type by
default, as gsDesign's ``sfLDOF`` spends alpha/2 on each side: f(t) = 2 − 2Φ(z_{1−α/4} / √t)
a side, t = n / n_max) so that under no change all looks together exclude it with
probability alpha. Intervals valid at every look at once make any
stopping rule built on them valid: stop when decided, at the budget, or at ``n_max``.

The boundaries are for a normal statistic with known variance, computed by the recursive
numerical integration of gsDesign (the ``gsdesign`` package: its grid and density update);
each look's boundary is then used as a nominal error rate for that look's Student-t interval
(the usual way to carry a group-sequential design to an estimated variance). The A/A rate
this gives on real pairs is measured by ``benchmarks/ab_sequential.py``.
"""

from __future__ import annotations

import math
from functools import lru_cache

SPENDING = ("obrien-fleming", "pocock")


def spent(t: float, alpha: float, kind: str = "obrien-fleming") -> float:
    """Lan–DeMets spending: the error rate spent by information fraction ``t`` (0 < t <= 1)."""
    from scipy.stats import norm

    if kind == "obrien-fleming":  # gsDesign's sfLDOF for alpha/2 on each side
        return float(2 * (2 - 2 * norm.cdf(norm.ppf(1 - alpha / 4) / math.sqrt(t))))
    if kind == "pocock":
        return alpha * math.log(1 + (math.e - 1) * t)
    raise ValueError(f"spending must be one of {', '.join(SPENDING)}, got {kind!r}")


@lru_cache(maxsize=64)
def boundaries(looks: tuple[int, ...], n_max: int, alpha: float, kind: str = "obrien-fleming") -> tuple[float, ...]:
    """Two-sided z boundaries c_k for looks after ``looks`` pairs (increasing, at most ``n_max``):
    under no change P(|Z_k| >= c_k at some look k <= j) = f(n_j / n_max) for every j."""
    import numpy as np
    from gsdesign import h1, hupdate
    from scipy.optimize import brentq
    from scipy.stats import norm

    if not looks or list(looks) != sorted(set(looks)) or looks[0] < 1 or looks[-1] > n_max:
        raise ValueError(f"looks must increase from 1 to at most n_max={n_max}, got {looks}")
    out: list[float] = []
    grid: tuple | None = None  # the density of the paths that stayed inside, at the last look
    prev_info, stayed, before = 0.0, 1.0, 0.0
    for n in looks:
        now = spent(n / n_max, alpha, kind)

        def inside(c: float, n: int = n, grid: tuple | None = grid, prev_info: float = prev_info) -> tuple:
            """The density of the paths still inside ±c after this look (gsDesign's grid)."""
            if grid is None:
                return h1(r=32, info=float(n), a=-c, b=c)
            return hupdate(r=32, theta=0.0, info=float(n), a=-c, b=c, theta_prev=0.0, info_prev=prev_info, gm1=grid)

        if grid is None:  # the first look: exact
            c = float(norm.isf(now / 2))
        else:  # later: what stayed inside so far (as integrated) less what this look may spend
            target = stayed - (now - before)

            def excess(c: float) -> float:
                return float(np.sum(inside(c)[2])) - target

            c = brentq(excess, 0.01, 40.0, xtol=1e-12) if excess(40.0) > 0 else 40.0
        grid = inside(c)
        prev_info, stayed, before = float(n), float(np.sum(grid[2])), now
        out.append(c)
    return tuple(out)


def nominal_alpha(n: int, n_max: int, alpha: float, first: int = 2, kind: str = "obrien-fleming") -> float:
    """The two-sided error rate of the interval at the look after ``n`` pairs, when looks come
    after every pair from ``first`` to ``n_max``: 2(1 − Φ(c_n))."""
    from scipy.stats import norm

    if n <= first - 1:
        raise ValueError(f"no look before {first} pairs")
    n = min(n, n_max)
    c = boundaries(tuple(range(first, n_max + 1)), n_max, alpha, kind)[n - first]
    return float(2 * norm.sf(c))
