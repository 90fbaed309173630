"""The statistics behind every verdict: rank tests and intervals for independent processes
(``compare``), paired step-by-step ratios for processes that took turns (``ab``).

Imports nothing from the rest of rnnbench, so every layer above (compare, ab, baseline,
report) can use it and none of them needs another's private helpers.

One decision rule for both (:func:`decide`), on an effect with its interval: *worse* (the
one verdict that fails) when the interval excludes no change, reaches the threshold and the
estimate reaches half of it; *worse, below threshold* when the interval shows a change but
excludes one as large as the threshold; *unchanged* only when the interval holds no change
and excludes the threshold both ways (equivalence); *inconclusive* otherwise. The same
defaults for both (:data:`DEFAULTS`).

Independent processes (``compare``: a baseline run against a candidate run) — see
:func:`judge`: a two-sided Mann–Whitney U test on per-process values plus a
Hodges–Lehmann effect with its Moses interval; its simulated error rates are in
:mod:`rnnbench.compare.verdicts`' docstring.

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

# The estimate must reach this fraction of the threshold (log scale for ratios) for a change
# to fail: it lets a true change of exactly the threshold be caught (an estimate >= threshold
# would catch it half the time) while a significant change far below it is not called one.
FLOOR_FRACTION = 0.5

# The thresholds and error rate ab and compare share (a suite's [regression] table and the
# command line override them): a change that fails is B/A >= time or memory, or an accuracy
# drop >= accuracy_drop (absolute); alpha is the two-sided error rate of every interval.
DEFAULTS: dict[str, float] = {"time": 1.05, "memory": 1.10, "accuracy_drop": 0.01, "alpha": 0.01}

# The verdicts of :func:`decide`, oriented: "worse" is higher time or memory, lower accuracy.
WORSE, WORSE_BELOW, UNCHANGED, BETTER_BELOW, BETTER, INCONCLUSIVE = (
    "worse", "worse, below threshold", "unchanged", "better, below threshold", "better", "inconclusive")


def rule_text(alpha: float) -> str:
    """:func:`decide` in one sentence, for the captions under every verdict table."""
    return (f"A change fails only when its {1 - alpha:.0%} interval excludes no change and reaches the threshold "
            f"with the estimate at least {FLOOR_FRACTION:g} of it; one the interval shows but keeps below the "
            "threshold is reported as '…, below threshold' and does not fail; 'unchanged' only when the interval "
            "holds no change and excludes the threshold both ways; anything else is inconclusive")


def decide(e: float, lo: float, hi: float, thr: float, floor: float = FLOOR_FRACTION) -> str:
    """The verdict on an effect ``e`` with its interval [``lo``, ``hi``], on the oriented scale
    (positive = worse; logs for ratios), against a threshold ``thr`` > 0 on that scale.

    * *worse* — the only verdict that fails: the interval lies above 0 and reaches ``thr``,
      and the estimate reaches ``floor·thr``;
    * *worse, below threshold* — the interval lies above 0 and below ``thr``: a change shown,
      smaller than one that fails (never "unchanged");
    * *unchanged* — the interval contains 0 and lies within (−thr, thr): equivalence;
    * *better*, *better, below threshold* — mirrored;
    * *inconclusive* — anything else: the interval is too wide to say (more data decides).
    """
    if lo > 0:
        if hi < thr:
            return WORSE_BELOW
        return WORSE if e >= floor * thr else INCONCLUSIVE
    if hi < 0:
        if lo > -thr:
            return BETTER_BELOW
        return BETTER if e <= -floor * thr else INCONCLUSIVE
    return UNCHANGED if -thr < lo and hi < thr else INCONCLUSIVE



@dataclass(frozen=True)
class Judgement:
    """The statistical verdict on one metric of one cell."""

    direction: str  # a verdict of :func:`decide`, or "unstable"
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
    alpha: float = DEFAULTS["alpha"],
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
        if not p < alpha:  # the test and its inverted interval can part over ties: the test decides
            w_lo, w_hi = min(w_lo, 0.0), max(w_hi, 0.0)
        direction = decide(e, w_lo, w_hi, thr)
        clear = w_lo >= thr or w_hi <= -thr
    else:
        level = "point"
        est = tf(med_c) - tf(med_b)
        e = sign * est
        direction = WORSE if e >= thr - 1e-12 else BETTER if e <= -thr + 1e-12 else INCONCLUSIVE
        clear = False
        note = f"too few values for a test at alpha={alpha:g}: point estimate only (never 'unchanged')"
    noisy = max_cv is not None and max(cv_b or 0.0, cv_c or 0.0) > max_cv
    if noisy and not clear:
        direction = "unstable"
    return Judgement(direction=direction, level=level, n_base=len(b), n_cand=len(c), base=med_b, cand=med_c,
                     effect=back(est), ci=ci, p=p, cv_base=cv_b, cv_cand=cv_c, note=note)


# -- paired (lockstep) ratios ---------------------------------------------------------------


def pair_log_ratio(a_steps: Sequence[float], b_steps: Sequence[float], b_first: bool = False) -> float | None:
    """One pair's estimate of log(B step / A step) from steps taken in turns A, B, A, B, …
    (``b_first``: B, A, B, A, …).

    Each B step lies between two A steps: A first, B's i-th between A's i-th and (i+1)-th; B
    first, between A's (i-1)-th and i-th. The medians of log(b / a) against the A step before
    and against the one after err in opposite directions under drift, so their mean is the
    estimate.
    """
    pairs_before = zip(a_steps, b_steps) if not b_first else zip(a_steps, b_steps[1:])
    pairs_after = zip(a_steps[1:], b_steps) if not b_first else zip(a_steps, b_steps)
    before = [math.log(b / a) for a, b in pairs_before if a > 0 and b > 0]
    after = [math.log(b / a) for a, b in pairs_after if a > 0 and b > 0]
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
    mde: float | None  # minimum detectable effect (relative, e.g. 0.02 = 2 %) at 80 % power, see paired_ratio
    pair_ratios: tuple[float, ...]
    mde95: float | None = None  # the same at 95 % power


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
                 trim: float = 0.0, threshold: float | None = None) -> PairedRatio:
    """Combine per-pair log ratios into a ratio, its t-interval and the minimum detectable effect.

    ``trim`` > 0: the trimmed mean over pairs with its Tukey–McLaughlin interval, so one pair
    whose process drew a slow state throughout cannot pull the estimate or widen the interval
    in full (with too few pairs to trim, ``floor(trim·n) = 0``, it is the plain mean).

    The MDE (at ``power`` and at 95 %): without ``threshold``, the true slowdown whose interval
    lies above 1 with that probability; with it, the one :func:`decide` *fails* with that
    probability — the estimate must pass the larger of c·se (interval above 1) and log T − c·se
    (interval reaching T), c the interval's t multiplier (the larger is never below half of
    log T, so the floor adds nothing to a symmetric interval).
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
    ci = (math.exp(mean - t_crit * se), math.exp(mean + t_crit * se))
    need = t_crit * se
    if threshold is not None:
        tau = math.log(threshold)
        need = max(need, tau - t_crit * se)

    def mde(p: float) -> float:
        return math.exp(need + float(st.t.ppf(p, df)) * se) - 1

    return PairedRatio(n, math.exp(mean), ci, se, mde(power), tuple(math.exp(x) for x in xs), mde(0.95))


# ab's verdicts on step time: :func:`decide`'s, in words for time
AB_SLOWER, AB_FASTER, AB_UNCHANGED, AB_INCONCLUSIVE = "slower", "faster", "unchanged", "inconclusive"
AB_SLOWER_BELOW, AB_FASTER_BELOW = "slower, below threshold", "faster, below threshold"


def in_words(direction: str, worse: str, better: str) -> str:
    """A verdict of :func:`decide` with the metric's words: ``in_words("worse, below threshold",
    "slower", "faster")`` is "slower, below threshold"."""
    return direction.replace(WORSE, worse, 1) if direction.startswith(WORSE) else \
        direction.replace(BETTER, better, 1) if direction.startswith(BETTER) else direction


def paired_verdict(r: PairedRatio, threshold: float) -> str:
    """:func:`decide` on a B/A ratio's log and its interval against ``threshold`` (> 1), in words
    for time: slower | slower, below threshold | unchanged | faster, below threshold | faster |
    inconclusive (the interval too wide for this threshold: add pairs, see ``--until-decided``)."""
    if r.ci is None:
        return AB_INCONCLUSIVE
    lo, hi = r.ci
    verdict = decide(math.log(r.ratio), math.log(lo), math.log(hi), math.log(threshold))
    return in_words(verdict, AB_SLOWER, AB_FASTER)


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
