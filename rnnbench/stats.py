"""The statistics behind every verdict: rank tests and intervals for independent processes
(``compare``), paired step-by-step ratios for processes that took turns (``ab``).

Imports nothing from the rest of rnnbench, so every layer above (compare, ab, baseline,
report) can use it and none of them needs another's private helpers.

Independent processes (``compare``: a baseline run against a candidate run) — see
:func:`judge`: a two-sided Mann–Whitney U test on per-process values plus a
Hodges–Lehmann effect with its Moses interval; a change counts when it is significant and
the effect reaches the threshold (the estimate 3/4 of it, the interval all of it); the
decision rule and its measured rates are in :mod:`rnnbench.compare`'s docstring.

Paired processes (``ab``: side A and side B of a cell, taking turns one step each) — see
:func:`paired_ratio`: each *pair* of processes gives one estimate, the median over its
paired steps of log(B step / A step); the pair, not the step, is the unit of replication,
because neighbouring steps are correlated and each process draws its own luck (memory
layout, thread placement) that no amount of steps inside it averages away. The interval is
Student's t over the pair estimates (``n_pairs - 1`` degrees of freedom), so it widens with
the spread *between* pairs that the data show; the minimum detectable effect is what a
comparison of that many pairs at that spread detects with 80 % power.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Sequence

# The estimate must reach this fraction of the threshold (log scale for ratios) — the
# tolerance that lets a change of exactly the threshold be caught (see rnnbench.compare).
EFFECT_FRACTION = 0.75



@dataclass(frozen=True)
class Judgement:
    """The statistical verdict on one metric of one cell."""

    direction: str  # "worse" | "better" | "unchanged" | "unstable"
    level: str  # "process" (per-process values) | "step" (pooled step samples) | "point" (no test possible)
    n_base: int
    n_cand: int
    base: float  # median of the baseline's values (natural units)
    cand: float
    effect: float  # ratio (kind="ratio") or difference cand - base (kind="difference")
    ci: tuple[float, float] | None  # (1 - alpha) interval of the effect, same scale
    p: float | None
    cv_base: float | None
    cv_cand: float | None
    note: str = ""


def robust_cv(values: Sequence[float]) -> float:
    """1.4826 × median absolute deviation / median (≈ the CV for normal data, robust to outliers)."""
    if len(values) < 2:
        return 0.0
    med = statistics.median(values)
    if med == 0:
        return 0.0
    mad = statistics.median(abs(v - med) for v in values)
    return 1.4826 * mad / abs(med)


def min_two_sided_p(n: int, m: int) -> float:
    """The smallest two-sided p-value an exact U test on n and m values can give (no ties)."""
    if n < 1 or m < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n + m, n))  # int / int: no overflow for huge binomials


def can_reach_alpha(n: int, m: int, alpha: float) -> bool:
    """Whether the U test on n vs m values can reach ``alpha`` at all: its smallest p below it
    (:func:`judge` calls p < alpha significant, so a smallest p equal to alpha never is)."""
    return min_two_sided_p(n, m) < alpha


def _u_null_counts(n: int, m: int) -> list[int]:
    """Number of orderings giving each U = 0..n*m (coefficients of the Gaussian binomial)."""
    # [n+m choose n]_q = prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i), exact in Python ints
    size = n * m + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, n + 1):
        shift = m + i
        for k in range(size - 1, shift - 1, -1):  # multiply by (1 - q^shift)
            poly[k] -= poly[k - shift]
        for k in range(i, size):  # divide by (1 - q^i): running sum with stride i
            poly[k] += poly[k - i]
    return poly


def _u_lower_critical(n: int, m: int, alpha: float) -> int:
    """Largest a with P(U <= a) <= alpha / 2 under H0 (-1 if none): the CI's order statistic offset."""
    if n + m <= 60:
        counts = _u_null_counts(n, m)
        total = math.comb(n + m, n)
        cum = 0
        a = -1
        for u, c in enumerate(counts):
            cum += c
            if cum / total <= alpha / 2:
                a = u
            else:
                break
        return a
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2)
    a = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12) - 0.5)
    return max(a, -1)


def _kth_difference(x: Any, y: Any, k: int) -> float:
    """The k-th smallest (1-based) of all x_i - y_j; x and y sorted numpy arrays."""
    import numpy as np

    n, m = len(x), len(y)
    if n * m <= 250_000:
        d = np.subtract.outer(x, y).ravel()
        return float(np.partition(d, k - 1)[k - 1])
    lo = float(x[0] - y[-1])
    hi = float(x[-1] - y[0])

    def count_le(t: float) -> int:  # #{(i, j): x_i - y_j <= t} = #{j: y_j >= x_i - t}
        return int(m * n - np.searchsorted(y, x - t, side="left").sum())

    for _ in range(200):  # bisection on the value; converges to float resolution
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if count_le(mid) >= k:
            hi = mid
        else:
            lo = mid
    return hi


def hodges_lehmann(x: Any, y: Any) -> float:
    """Median of all pairwise differences x_i - y_j (x, y sorted numpy arrays)."""
    total = len(x) * len(y)
    if total % 2:
        return _kth_difference(x, y, (total + 1) // 2)
    return (_kth_difference(x, y, total // 2) + _kth_difference(x, y, total // 2 + 1)) / 2


def shift_ci(x: Any, y: Any, alpha: float) -> tuple[float, float]:
    """Distribution-free (1 - alpha) interval for the shift x - y, inverting the U test."""
    n, m = len(x), len(y)
    a = _u_lower_critical(n, m, alpha)
    if a < 0:
        return (-math.inf, math.inf)
    return (_kth_difference(x, y, a + 1), _kth_difference(x, y, n * m - a))


def mann_whitney_p(cand: Sequence[float], base: Sequence[float]) -> float:
    """Two-sided Mann–Whitney U p-value (scipy; exact for small tie-free samples)."""
    from scipy.stats import mannwhitneyu  # a core dependency
    if len(set(cand) | set(base)) == 1:
        return 1.0
    p = float(mannwhitneyu(cand, base, alternative="two-sided", method="auto").pvalue)
    return 1.0 if math.isnan(p) else p


def judge(
    base: Sequence[float],
    cand: Sequence[float],
    *,
    threshold: float,
    alpha: float = 0.05,
    max_cv: float | None = 0.10,
    kind: str = "ratio",
    worse: str = "higher",
    level: str = "process",
) -> Judgement:
    """Decide whether ``cand`` differs from ``base`` (see the module docstring for the rule).

    ``kind="ratio"``: values are positive, the effect is a ratio and ``threshold`` a ratio
    (> 1, e.g. 1.05). ``kind="difference"``: the effect is ``cand - base`` and ``threshold``
    an absolute amount (> 0, e.g. 0.01). ``worse`` says which direction is a regression.
    When ``n`` and ``m`` are too small for the test to reach ``alpha``, only the point
    estimate (difference of medians) is used and it must reach the full threshold.
    """
    import numpy as np

    b = [float(v) for v in base if v is not None and math.isfinite(float(v))]
    c = [float(v) for v in cand if v is not None and math.isfinite(float(v))]
    if not b or not c:
        raise ValueError("judge needs at least one value per side")
    if kind not in ("ratio", "difference") or worse not in ("higher", "lower"):
        raise ValueError(f"judge: kind must be ratio or difference and worse higher or lower, got {kind!r}, {worse!r}")
    ratio = kind == "ratio"
    if ratio and (min(b) <= 0 or min(c) <= 0):
        raise ValueError("ratio metrics need positive values")
    sign = 1.0 if worse == "higher" else -1.0
    tf = (lambda v: math.log(v)) if ratio else (lambda v: v)
    thr = math.log(threshold) if ratio else float(threshold)
    if thr <= 0:
        raise ValueError(f"threshold must be {'> 1' if ratio else '> 0'}, got {threshold}")
    back = (lambda e: math.exp(e)) if ratio else (lambda e: e)
    med_b, med_c = statistics.median(b), statistics.median(c)
    cv_b = robust_cv(b) if ratio else None
    cv_c = robust_cv(c) if ratio else None

    x = np.sort(np.array([tf(v) for v in c]))
    y = np.sort(np.array([tf(v) for v in b]))
    ci: tuple[float, float] | None = None
    p: float | None = None
    note = ""
    if can_reach_alpha(len(c), len(b), alpha):
        p = mann_whitney_p(c, b)
        est = hodges_lehmann(x, y)
        lo, hi = shift_ci(x, y, alpha)
        ci = (back(lo), back(hi))
        e, w_lo, w_hi = (est, lo, hi) if sign > 0 else (-est, -hi, -lo)  # oriented: positive = worse
        sig = p < alpha
        is_worse = sig and e >= EFFECT_FRACTION * thr and w_hi >= thr
        is_better = sig and e <= -EFFECT_FRACTION * thr and w_lo <= -thr
        clear = (is_worse and w_lo >= thr) or (is_better and w_hi <= -thr)
    else:
        level = "point"
        est = tf(med_c) - tf(med_b)
        e = sign * est
        is_worse = e >= thr - 1e-12
        is_better = e <= -thr + 1e-12
        clear = False
        note = f"too few values for a test at alpha={alpha:g}: point estimate only"
    noisy = max_cv is not None and max(cv_b or 0.0, cv_c or 0.0) > max_cv
    if noisy and not clear:
        direction = "unstable"
    elif is_worse:
        direction = "worse"
    elif is_better:
        direction = "better"
    else:
        direction = "unchanged"
    return Judgement(direction=direction, level=level, n_base=len(b), n_cand=len(c), base=med_b, cand=med_c,
                     effect=back(est), ci=ci, p=p, cv_base=cv_b, cv_cand=cv_c, note=note)


# -- paired (lockstep) ratios ---------------------------------------------------------------


def pair_log_ratio(a_steps: Sequence[float], b_steps: Sequence[float]) -> float | None:
    """One pair's estimate of log(B step / A step) from steps taken in turns A, B, A, B, …

    B's i-th step lies between A's i-th and (i+1)-th: the median of log(b_i / a_i) and the
    median of log(b_i / a_(i+1)) err in opposite directions under drift, so their mean is
    the estimate.
    """
    before = [math.log(b / a) for a, b in zip(a_steps, b_steps) if a > 0 and b > 0]
    after = [math.log(b / a) for a, b in zip(a_steps[1:], b_steps) if a > 0 and b > 0]
    if not before:
        return None
    return (statistics.median(before) + statistics.median(after or before)) / 2


@dataclass(frozen=True)
class PairedRatio:
    """B/A step-time ratio of one cell over its pairs, with a (1 - alpha) interval."""

    n_pairs: int
    ratio: float  # exp(mean of the pair estimates)
    ci: tuple[float, float] | None  # None with fewer than 2 pairs
    se_log: float | None  # standard error of the mean log ratio
    mde: float | None  # minimum detectable effect (relative, e.g. 0.02 = 2 %) at 80 % power
    pair_ratios: tuple[float, ...]


def trimmed_mean_se(xs: Sequence[float], trim: float) -> tuple[float, float, int]:
    """The ``trim``-trimmed mean, its standard error from the winsorized variance, and the
    degrees of freedom (Tukey & McLaughlin 1963): ``n - 2g - 1`` with ``g = floor(trim·n)``
    values cut from each end. With ``g = 0`` it is the plain mean and its standard error."""
    v = sorted(float(x) for x in xs)
    n = len(v)
    g = int(math.floor(trim * n))
    if n - 2 * g < 2:
        raise ValueError(f"trimming {g} of {n} values from each end leaves too few")
    mean = statistics.fmean(v[g:n - g])
    w = [v[g]] * g + v[g:n - g] + [v[n - g - 1]] * g  # winsorized
    se = statistics.stdev(w) / ((1 - 2 * g / n) * math.sqrt(n))
    return mean, se, n - 2 * g - 1


def paired_ratio(pair_logs: Sequence[float], alpha: float = 0.01, power: float = 0.8,
                 trim: float = 0.0) -> PairedRatio:
    """Combine per-pair log ratios into a ratio, its t-interval and the minimum detectable effect.

    ``trim`` > 0: the trimmed mean over pairs with its Tukey–McLaughlin interval, so one pair
    whose process drew a slow state throughout cannot pull the estimate or widen the interval
    in full (with too few pairs to trim, ``floor(trim·n) = 0``, it is the plain mean).
    """
    from scipy import stats as st

    xs = [float(x) for x in pair_logs if x is not None and math.isfinite(x)]
    if not xs:
        raise ValueError("paired_ratio needs at least one pair")
    n = len(xs)
    if n < 2:
        return PairedRatio(n, math.exp(xs[0]), None, None, None, tuple(math.exp(x) for x in xs))
    mean, se, df = trimmed_mean_se(xs, trim)
    t_crit = float(st.t.ppf(1 - alpha / 2, df))
    t_pow = float(st.t.ppf(power, df))
    ci = (math.exp(mean - t_crit * se), math.exp(mean + t_crit * se))
    return PairedRatio(n, math.exp(mean), ci, se, math.exp((t_crit + t_pow) * se) - 1, tuple(math.exp(x) for x in xs))


# ab's verdicts on step time
AB_SLOWER, AB_FASTER, AB_UNCHANGED, AB_INCONCLUSIVE = "slower", "faster", "unchanged", "inconclusive"


def paired_verdict(r: PairedRatio, threshold: float) -> str:
    """slower | faster | unchanged | inconclusive for a B/A ratio against ``threshold`` (> 1).

    *slower*: the interval lies above 1 (significant) and the estimate reaches half the
    threshold (so a true change of the threshold is caught, a tiny real one is not called a
    regression); *faster* mirrored; *unchanged*: the interval lies inside
    (1/threshold, threshold) — equivalence shown; otherwise *inconclusive* (the interval is
    too wide for this threshold: add pairs, see ``--until-decided``).
    """
    if r.ci is None:
        return AB_INCONCLUSIVE
    lo, hi = r.ci
    half = math.log(threshold) / 2
    if lo > 1 and math.log(r.ratio) >= half:
        return AB_SLOWER
    if hi < 1 and math.log(r.ratio) <= -half:
        return AB_FASTER
    if lo > 1 / threshold and hi < threshold:
        return AB_UNCHANGED
    return AB_INCONCLUSIVE


# -- seeds (independent training runs) --------------------------------------------------------


@dataclass(frozen=True)
class SeedDifference:
    """mean(x) - mean(y) over independent runs (seeds), with its Welch (1 - alpha) interval."""

    n_x: int
    n_y: int
    diff: float
    ci: tuple[float, float] | None  # None with fewer than 2 runs on a side
    sd_x: float | None
    sd_y: float | None


def seed_difference(x: Sequence[float], y: Sequence[float], alpha: float = 0.05) -> SeedDifference:
    """Welch's t interval for a difference of means; exact (zero-width) when neither side varies."""
    from scipy import stats as st

    xs = [float(v) for v in x if v is not None and math.isfinite(float(v))]
    ys = [float(v) for v in y if v is not None and math.isfinite(float(v))]
    if not xs or not ys:
        raise ValueError("seed_difference needs at least one value per side")
    d = statistics.fmean(xs) - statistics.fmean(ys)
    if len(xs) < 2 or len(ys) < 2:
        return SeedDifference(len(xs), len(ys), d, None, None, None)
    vx, vy = statistics.variance(xs), statistics.variance(ys)
    se2 = vx / len(xs) + vy / len(ys)
    if se2 == 0:
        return SeedDifference(len(xs), len(ys), d, (d, d), 0.0, 0.0)
    df = se2 ** 2 / ((vx / len(xs)) ** 2 / (len(xs) - 1) + (vy / len(ys)) ** 2 / (len(ys) - 1))
    half = float(st.t.ppf(1 - alpha / 2, df)) * math.sqrt(se2)
    return SeedDifference(len(xs), len(ys), d, (d - half, d + half), math.sqrt(vx), math.sqrt(vy))
