"""The rules behind every statistical verdict (``rnnbench.stats``), each checked against an
independent reference: scipy's Mann–Whitney U, t and Welch intervals, a separate count of
the exact U null distribution, numpy's sorted pairwise differences, or small examples whose
arithmetic is written out in the comments.

Grouped by function: robust CV, the smallest attainable p, the U critical value (exact and
normal approximation), the k-th pairwise difference (direct and bisection), Hodges–Lehmann,
the Moses interval, the U p-value, ``judge`` (input checks, the test-level rule, the point
rule, noise), the per-pair log ratio, the trimmed mean, ``paired_ratio``, ``paired_verdict``
and ``seed_difference``.
"""

from __future__ import annotations

import math
import statistics
import tracemalloc
import warnings
from functools import lru_cache

import numpy as np
import pytest
import scipy.stats as st

from rnnbench.stats import (
    AB_FASTER,
    AB_INCONCLUSIVE,
    AB_SLOWER,
    AB_UNCHANGED,
    PairedRatio,
    SeedDifference,
    _kth_difference,
    _u_lower_critical,
    can_reach_alpha,
    hodges_lehmann,
    judge,
    mann_whitney_p,
    min_two_sided_p,
    pair_log_ratio,
    paired_ratio,
    paired_verdict,
    robust_cv,
    seed_difference,
    shift_ci,
    trimmed_mean_se,
)

NAN, INF = float("nan"), float("inf")


def _exact_mwu_p(x: list[float], y: list[float]) -> float:
    return float(st.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue)


def _sorted_diffs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Every x_i - y_j, ascending: the reference for order statistics of the differences."""
    return np.sort(np.subtract.outer(np.asarray(x, float), np.asarray(y, float)).ravel())


# -- robust_cv ----------------------------------------------------------------------------------


def _scipy_robust_cv(values: list[float]) -> float:
    # scale="normal" divides the MAD by Phi^-1(3/4) = 0.67449, i.e. multiplies by 1.482602...
    return float(st.median_abs_deviation(values, scale="normal")) / abs(statistics.median(values))


@pytest.mark.parametrize("values", [
    [1.0, 3.0],  # n = 2 is enough: median 2, MAD 1 -> 1.4826 / 2
    [0.5, 1.0, 1.5],  # median exactly 1 is an ordinary median: MAD 0.5 -> 0.7413
    [10.0, 10.4, 9.7, 11.2, 9.9, 30.0],
    [-4.0, -5.0, -3.5, -4.2],  # negative median: divided by |median|
])
def test_robust_cv_is_the_normal_scaled_mad_over_the_median(values: list[float]) -> None:
    assert robust_cv(values) == pytest.approx(_scipy_robust_cv(values), rel=1e-5)


def test_robust_cv_of_two_values_is_not_zero() -> None:
    # median 2, |1-2| = |3-2| = 1 -> MAD 1 -> 1.4826 * 1 / 2 = 0.7413
    assert robust_cv([1.0, 3.0]) == pytest.approx(0.7413)


def test_robust_cv_is_zero_for_one_value_and_for_a_zero_median() -> None:
    assert robust_cv([5.0]) == 0.0
    assert robust_cv([]) == 0.0
    assert robust_cv([-1.0, 0.0, 1.0]) == 0.0  # median 0: no relative spread defined


# -- min_two_sided_p / can_reach_alpha ---------------------------------------------------------


@pytest.mark.parametrize("n,m", [(1, 39), (39, 1), (4, 4), (3, 5), (1, 2), (2, 7)])
def test_min_two_sided_p_is_the_exact_p_of_complete_separation(n: int, m: int) -> None:
    """The smallest p is reached when every value of one side lies above the other: scipy's
    exact test on such data gives 2 / C(n+m, n) (0.05 for 1 against 39)."""
    low, high = [float(i) for i in range(m)], [100.0 + i for i in range(n)]
    assert min_two_sided_p(n, m) == pytest.approx(min(1.0, _exact_mwu_p(high, low)), rel=1e-12)
    assert min_two_sided_p(n, m) == pytest.approx(min(1.0, 2 / math.comb(n + m, n)), rel=1e-12)


def test_min_two_sided_p_with_an_empty_side_is_one() -> None:
    assert min_two_sided_p(0, 5) == 1.0
    assert min_two_sided_p(5, 0) == 1.0
    assert min_two_sided_p(0, 0) == 1.0
    assert min_two_sided_p(1, 1) == 1.0  # 2 / C(2, 1) = 1


def test_one_value_against_many_can_reach_alpha_when_enough_many() -> None:
    # 2 / C(41, 1) = 0.0488 < 0.05; 2 / C(39, 1) = 0.0513 > 0.05
    assert can_reach_alpha(1, 40, 0.05) and can_reach_alpha(40, 1, 0.05)
    assert not can_reach_alpha(1, 38, 0.05) and not can_reach_alpha(38, 1, 0.05)


def test_a_smallest_p_equal_to_alpha_cannot_reach_it() -> None:
    """1 value against 39: the smallest exact p is 2 / C(40, 1) = 0.05 exactly; judge calls only
    p < alpha significant, so at alpha 0.05 the test can never decide and the point rule must."""
    assert min_two_sided_p(1, 39) == 0.05
    assert not can_reach_alpha(1, 39, 0.05) and can_reach_alpha(1, 39, 0.0501)


def test_judge_refuses_a_kind_or_direction_it_does_not_know() -> None:
    for kind, worse in (("ratios", "higher"), ("ratio", "lowr"), ("difference", None)):
        with pytest.raises(ValueError, match="kind must be ratio or difference"):
            judge([1.0, 2.0], [1.0, 2.0], threshold=1.05, kind=kind, worse=worse)  # type: ignore[arg-type]


# -- _u_lower_critical ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _u_counts_reference(n: int, m: int) -> tuple[int, ...]:
    """Number of orderings of n x's and m y's with U = #{(x, y): x < y} = 0..n*m, by recursion
    on the largest value: an x (no y above it: U += 0, rest (n-1, m)) or a y (above all n
    x's: U += n, rest (n, m-1))."""
    if n == 0 or m == 0:
        return (1,)
    out = [0] * (n * m + 1)
    for u, c in enumerate(_u_counts_reference(n - 1, m)):
        out[u] += c
    for u, c in enumerate(_u_counts_reference(n, m - 1)):
        out[u + n] += c
    return tuple(out)


def _exact_critical(n: int, m: int, alpha: float) -> int:
    counts = _u_counts_reference(n, m)
    total = sum(counts)
    assert total == math.comb(n + m, n)
    cum, a = 0, -1
    for u, c in enumerate(counts):
        cum += c
        if cum / total > alpha / 2:
            break
        a = u
    return a


def _normal_critical(n: int, m: int, alpha: float) -> int:
    """Largest a whose continuity-corrected normal two-sided p, 2 Phi((a + 1/2 - nm/2) / sigma)
    (scipy's mannwhitneyu(method="asymptotic")), is <= alpha; -1 if none."""
    mu, sigma = n * m / 2, math.sqrt(n * m * (n + m + 1) / 12)
    a = np.arange(0, n * m // 2 + 1)
    ok = a[2 * st.norm.cdf((a + 0.5 - mu) / sigma) <= alpha]
    return int(ok.max()) if ok.size else -1


@pytest.mark.parametrize("n,m,alpha", [
    (1, 39, 0.05),  # P(U <= 0) = 1/40 = alpha/2 exactly: a = 0 (the bound is inclusive)
    (4, 4, 0.05), (5, 5, 0.05), (6, 7, 0.10), (10, 50, 0.05), (2, 58, 0.01), (20, 40, 0.01),
    (30, 30, 0.05),
])
def test_u_critical_is_exact_up_to_sixty_values(n: int, m: int, alpha: float) -> None:
    """n + m <= 60 (60 included): the largest a with P(U <= a) <= alpha/2 under H0, from the
    exact distribution. (10, 50) and (2, 58) are cases where the normal approximation differs."""
    assert _u_lower_critical(n, m, alpha) == _exact_critical(n, m, alpha)


def test_the_exact_bound_is_inclusive_at_alpha_over_two() -> None:
    # one value against 39: every U in 0..39 has probability 1/40; P(U <= 0) = 0.025 = alpha / 2
    assert _u_lower_critical(1, 39, 0.05) == 0
    assert _u_lower_critical(39, 1, 0.05) == 0


@pytest.mark.parametrize("n,m,alpha", [
    (11, 50, 0.05), (30, 31, 0.05), (1, 60, 0.10), (2, 59, 0.01), (40, 60, 0.05), (40, 60, 0.01),
    (100, 100, 0.05), (100, 100, 0.20), (7, 300, 0.05), (200, 3, 0.10),
])
def test_u_critical_above_sixty_values_is_the_continuity_corrected_normal(n: int, m: int, alpha: float) -> None:
    assert _u_lower_critical(n, m, alpha) == _normal_critical(n, m, alpha)


def test_u_critical_approximation_stays_close_to_the_exact_value() -> None:
    for n, m in [(11, 50), (30, 31), (20, 45)]:
        assert abs(_u_lower_critical(n, m, 0.05) - _exact_critical(n, m, 0.05)) <= 2


def test_u_critical_above_sixty_values_is_minus_one_when_no_interval_exists() -> None:
    # 1 against 60 at alpha 0.01: exactly P(U <= 0) = 1/61 = 0.0164 > 0.005, and the normal
    # bound 30 - 2.576 * sqrt(60 * 62 / 12) - 0.5 = -15.9 is below zero: no interval (-1)
    assert _exact_critical(1, 60, 0.01) == -1
    assert _u_lower_critical(1, 60, 0.01) == -1
    assert _u_lower_critical(60, 1, 0.01) == -1


# -- _kth_difference ------------------------------------------------------------------------------


@pytest.mark.parametrize("n,m", [(7, 6), (20, 30)])
def test_kth_difference_every_k_on_small_samples(n: int, m: int) -> None:
    rng = np.random.default_rng(3)
    x, y = np.sort(rng.normal(0, 1, n)), np.sort(rng.normal(0.5, 2, m))
    ref = _sorted_diffs(x, y)
    assert [_kth_difference(x, y, k) for k in range(1, n * m + 1)] == list(ref)


@pytest.mark.parametrize("shift", [0.0, 10.0, -10.0])
def test_kth_difference_above_the_direct_size_by_bisection(shift: float) -> None:
    """501 x 501 = 251 001 pairs (> 250 000) goes to the bisection on the value: it finds the
    same order statistics as sorting all the differences, to float resolution."""
    rng = np.random.default_rng(11)
    x, y = np.sort(rng.normal(shift, 1, 501)), np.sort(rng.normal(0.3, 2, 501))
    ref = _sorted_diffs(x, y)
    nm = 501 * 501
    for k in (1, 2, 3, 1000, nm // 2, nm // 2 + 1, nm - 7, nm - 1, nm):
        got = _kth_difference(x, y, k)
        assert got == pytest.approx(ref[k - 1], rel=1e-9, abs=1e-12), k


def test_kth_difference_by_bisection_with_many_ties() -> None:
    rng = np.random.default_rng(5)
    x = np.sort(rng.integers(0, 20, 600).astype(float))
    y = np.sort(rng.integers(5, 30, 500).astype(float))
    ref = _sorted_diffs(x, y)
    for k in (1, 17, 1500, 150_000, 150_001, 299_999, 300_000):
        assert _kth_difference(x, y, k) == pytest.approx(ref[k - 1], rel=1e-9, abs=1e-9), k


def test_kth_difference_of_large_samples_does_not_build_every_difference() -> None:
    """2000 x 2000 = 4 million differences would take 32 MB; above the direct size the
    bisection keeps memory to a few arrays of n values."""
    rng = np.random.default_rng(2)
    x, y = np.sort(rng.normal(0, 1, 2000)), np.sort(rng.normal(0, 1, 2000))
    tracemalloc.start()
    try:
        _kth_difference(x, y, 2_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000


# -- hodges_lehmann ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n,m", [(1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (3, 3), (2, 3), (4, 1),
                                 (1, 9), (5, 7), (6, 6)])
def test_hodges_lehmann_is_the_median_of_all_differences(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 100 + m)
    x, y = np.sort(rng.exponential(1.0, n)), np.sort(rng.exponential(2.0, m))
    assert hodges_lehmann(x, y) == pytest.approx(float(np.median(np.subtract.outer(x, y))), rel=1e-12)


def test_hodges_lehmann_small_examples_by_hand() -> None:
    # differences 0, 1 -> median 0.5
    assert hodges_lehmann(np.array([0.0, 1.0]), np.array([0.0])) == 0.5
    # differences 0, 1, 5 -> median 1
    assert hodges_lehmann(np.array([0.0, 1.0, 5.0]), np.array([0.0])) == 1.0
    # differences 0, 1, 3, 10 -> (1 + 3) / 2 = 2
    assert hodges_lehmann(np.array([0.0, 1.0, 3.0, 10.0]), np.array([0.0])) == 2.0
    # x = {0, 10}, y = {0, 1}: differences -1, 0, 9, 10 -> (0 + 9) / 2 = 4.5
    assert hodges_lehmann(np.array([0.0, 10.0]), np.array([0.0, 1.0])) == 4.5


# -- shift_ci ------------------------------------------------------------------------------------------


def test_moses_interval_for_four_against_four_is_the_range_of_differences() -> None:
    """4 vs 4 at alpha 0.05: P(U <= 0) = 1/70 <= 0.025 < P(U <= 1) = 2/70, so a = 0 and the
    interval runs from the smallest to the largest difference (coverage 1 - 2/70 = 97.1 %)."""
    x = np.array([5.0, 6.0, 7.5, 9.0])
    y = np.array([1.0, 2.0, 2.5, 4.0])
    assert shift_ci(x, y, 0.05) == (1.0, 8.0)  # 5 - 4 and 9 - 1


def test_moses_interval_with_too_few_values_is_unbounded() -> None:
    lo, hi = shift_ci(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), 0.05)
    assert lo == -math.inf and hi == math.inf


@pytest.mark.parametrize("n,m,alpha", [(6, 7, 0.05), (6, 7, 0.10), (8, 5, 0.05), (5, 5, 0.05), (4, 4, 0.05)])
def test_moses_interval_inverts_the_exact_u_test(n: int, m: int, alpha: float) -> None:
    """A shift just inside either end is accepted by scipy's exact two-sided U test on x - shift
    against y (p > alpha); a shift just outside is rejected (p <= alpha)."""
    rng = np.random.default_rng(n * 31 + m)
    x, y = np.sort(rng.normal(1.0, 1.0, n)), np.sort(rng.normal(0.0, 1.0, m))
    lo, hi = shift_ci(x, y, alpha)
    d = _sorted_diffs(x, y)
    assert d[0] <= lo <= hi <= d[-1]
    i_lo, i_hi = int(np.searchsorted(d, lo)), int(np.searchsorted(d, hi))
    below = (d[i_lo - 1] + lo) / 2 if i_lo > 0 else lo - 1.0
    above = (d[i_hi + 1] + hi) / 2 if i_hi + 1 < d.size else hi + 1.0
    inside_lo, inside_hi = (lo + d[i_lo + 1]) / 2, (hi + d[i_hi - 1]) / 2

    def p(shift: float) -> float:
        return _exact_mwu_p(list(x - shift), list(y))

    assert p(inside_lo) > alpha and p(inside_hi) > alpha
    assert p(below) <= alpha and p(above) <= alpha


# -- mann_whitney_p ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cand,base", [
    ([2.0] * 5, [1.0] * 5),  # two distinct values: ties, but a real difference
    ([1.0, 2.0, 2.0, 1.0], [1.0, 1.0, 1.0, 2.0]),
    ([3.1, 4.2, 5.0, 6.6, 2.2], [1.0, 2.0, 3.0, 1.5, 0.5]),
    (list(np.linspace(1, 2, 12)), list(np.linspace(1.3, 2.5, 15))),
])
def test_mann_whitney_p_is_scipys_two_sided_p(cand: list[float], base: list[float]) -> None:
    assert mann_whitney_p(cand, base) == float(st.mannwhitneyu(cand, base, alternative="two-sided").pvalue)


def test_mann_whitney_p_of_identical_values_is_one() -> None:
    assert mann_whitney_p([3.0, 3.0], [3.0, 3.0, 3.0]) == 1.0


def test_mann_whitney_p_without_a_test_is_one_not_nan() -> None:
    """scipy answers NaN when a side has no values; that is no evidence of a change: p = 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mann_whitney_p([], [1.0, 2.0, 3.0]) == 1.0


# -- judge: inputs ----------------------------------------------------------------------------------------

_B5 = [10.0, 10.1, 9.9, 10.05, 9.95]
_C5 = [12.0, 12.1, 11.9, 12.05, 11.95]


def test_judge_drops_missing_and_non_finite_values() -> None:
    clean = judge(_B5, _C5, threshold=1.05)
    dirty = judge(_B5 + [None, NAN, INF], [None, -INF] + _C5 + [NAN], threshold=1.05)  # type: ignore[list-item]
    assert dirty == clean
    assert (dirty.n_base, dirty.n_cand) == (5, 5)


@pytest.mark.parametrize("base,cand", [([], [1.0]), ([1.0], []), ([None, NAN], [1.0, 2.0]), ([1.0, 2.0], [INF])])
@pytest.mark.parametrize("kind", ["ratio", "difference"])
def test_judge_needs_a_value_on_each_side(base: list, cand: list, kind: str) -> None:
    with pytest.raises(ValueError, match=r"^judge needs at least one value per side$"):
        judge(base, cand, threshold=1.05, kind=kind)


@pytest.mark.parametrize("base,cand", [([0.0, 1.0], [1.0, 2.0]), ([1.0, 2.0], [0.0, 1.0]), ([1.0, -2.0], [1.0]),
                                       ([1.0], [3.0, -1.0]), ([0.0], [0.0])])
def test_ratio_metrics_refuse_zero_or_negative_values(base: list, cand: list) -> None:
    with pytest.raises(ValueError, match=r"^ratio metrics need positive values$"):
        judge(base, cand, threshold=1.05)


def test_difference_metrics_accept_zero_and_negative_values() -> None:
    assert judge([0.0, -1.0], [0.0, -1.0], threshold=0.5, kind="difference").direction == "inconclusive"


@pytest.mark.parametrize("threshold,kind,msg", [
    (1.0, "ratio", "threshold must be > 1, got 1.0"),
    (0.9, "ratio", "threshold must be > 1, got 0.9"),
    (0.0, "difference", "threshold must be > 0, got 0.0"),
    (-0.01, "difference", "threshold must be > 0, got -0.01"),
])
def test_judge_refuses_a_threshold_that_allows_no_change(threshold: float, kind: str, msg: str) -> None:
    with pytest.raises(ValueError) as err:
        judge([1.0, 2.0], [1.0, 2.0], threshold=threshold, kind=kind)
    assert str(err.value) == msg


def test_judge_reports_medians_and_robust_cvs_of_each_side() -> None:
    base, cand = [10.0, 10.4, 9.7, 11.2, 9.9], [12.0, 12.5, 11.0, 13.5, 12.2]
    j = judge(base, cand, threshold=1.05, max_cv=None)
    assert (j.base, j.cand) == (10.0, 12.2)
    assert j.cv_base == pytest.approx(_scipy_robust_cv(base), rel=1e-5)
    assert j.cv_cand == pytest.approx(_scipy_robust_cv(cand), rel=1e-5)
    assert j.note == ""  # a test was possible: nothing to note


def test_difference_metrics_have_no_cv_and_are_never_unstable() -> None:
    """A CV is relative to the median and means nothing for differences (accuracy near 0)."""
    base, cand = [0.0, 0.5, -0.4, 0.3, 0.9], [0.1, -0.6, 0.7, 0.2, 0.0]
    for max_cv in (0.10, 0.0, None):
        j = judge(base, cand, threshold=0.05, kind="difference", max_cv=max_cv)
        assert j.cv_base is None and j.cv_cand is None
        assert j.direction != "unstable"


# -- judge: the test-level rule (n, m large enough for the U test) -----------------------------------


def _diff_judge(base: list[float], cand: list[float], threshold: float, **kw: object):
    """judge at alpha 0.05 (unless told), where 5 vs 5 intervals are the 3rd and 23rd differences."""
    return judge(base, cand, threshold=threshold, kind="difference", max_cv=None, **{"alpha": 0.05, **kw})


def test_an_interval_above_zero_that_reaches_the_threshold_is_worse_and_one_short_of_it_is_below() -> None:
    """5 vs 5, threshold 4: cand = base + 3 with base spaced 0.5 apart: the 25 differences are
    3 + 0.5 k for k = -4..4 (counts 1,2,3,4,5,4,3,2,1). Median 3 >= 4 / 2; the 95 % interval
    (a = 2: 3rd and 23rd differences) is [1.5, 4.5], reaching 4; U = 0, p = 2/252. Against a
    threshold of 5 the same interval stops short of it: worse, below threshold."""
    base = [0.0, 0.5, 1.0, 1.5, 2.0]
    j = _diff_judge(base, [b + 3 for b in base], 4.0)
    assert j.effect == 3.0 and j.ci == (1.5, 4.5) and j.p == pytest.approx(2 / 252)
    assert j.direction == "worse"
    assert _diff_judge(base, [b + 3 for b in base], 5.0).direction == "worse, below threshold"
    j = _diff_judge(base, [b - 3 for b in base], 4.0)  # mirrored: interval [-4.5, -1.5]
    assert j.effect == -3.0 and j.ci == (-4.5, -1.5)
    assert j.direction == "better"
    assert _diff_judge(base, [b - 3 for b in base], 5.0).direction == "better, below threshold"


def test_an_interval_reaching_exactly_the_threshold_counts() -> None:
    """cand = base + 10 with base 0..4: differences 10 + k, k = -4..4; median 10 >= 0.75 * 13,
    interval [7, 13]: its far end is exactly the threshold 13."""
    base = [0.0, 1.0, 2.0, 3.0, 4.0]
    j = _diff_judge(base, [b + 10 for b in base], 13.0)
    assert j.ci == (7.0, 13.0) and j.direction == "worse"
    j = _diff_judge([b + 10 for b in base], base, 13.0)  # mirrored: interval [-13, -7]
    assert j.ci == (-13.0, -7.0) and j.direction == "better"


def test_a_significant_improvement_the_interval_keeps_short_of_the_threshold_is_below_not_unchanged() -> None:
    """cand = base - 5, base 0..4: estimate -5, interval [-8, -2], p = 2/252. Threshold 8.5:
    the interval excludes 0 and -8.5; threshold 7.5: it reaches -7.5 and -5 <= -3.75."""
    base = [0.0, 1.0, 2.0, 3.0, 4.0]
    j = _diff_judge(base, [b - 5 for b in base], 8.5)
    assert j.effect == -5.0 and j.ci == (-8.0, -2.0) and j.p < 0.05
    assert j.direction == "better, below threshold"
    assert _diff_judge(base, [b - 5 for b in base], 7.5).direction == "better"


def test_a_change_whose_interval_does_not_reach_the_threshold_is_below_it_never_unchanged() -> None:
    """cand = base - 5 with base spaced 0.1: estimate -5, interval [-5.3, -4.7]. Threshold 6:
    the estimate passes -3, but the interval stops at -5.3, short of -6."""
    base = [0.0, 0.1, 0.2, 0.3, 0.4]
    j = _diff_judge(base, [b - 5 for b in base], 6.0)
    assert j.ci is not None and j.ci[0] == pytest.approx(-5.3) and j.ci[1] == pytest.approx(-4.7)
    assert j.direction == "better, below threshold"
    j = _diff_judge([b - 5 for b in base], base, 6.0)  # mirrored: +5 in [4.7, 5.3]
    assert j.direction == "worse, below threshold"


def test_significance_is_strict_p_below_alpha() -> None:
    """4 vs 4 with exactly one crossed pair: U = 1, exact p = 2 * 2/70 = 4/70. At alpha = 4/70
    the test can reach alpha (full separation gives 2/70) but this p is not below it."""
    base, cand = [1.0, 2.0, 3.0, 5.0], [4.0, 6.0, 7.0, 8.0]  # only 4 < 5 crosses
    p = _exact_mwu_p(cand, base)
    assert p == pytest.approx(4 / 70)
    j = _diff_judge(base, cand, 0.5, alpha=p)
    assert j.p == p and j.level == "process"
    assert j.direction == "inconclusive"  # not significant: the interval is taken to hold 0
    assert _diff_judge(base, cand, 0.5, alpha=p * 1.0001).direction == "worse"


# -- judge: noise ---------------------------------------------------------------------------------------


def test_default_max_cv_is_ten_percent() -> None:
    """compare's docstring: a robust CV above max_cv (default 0.10) on either side is unstable."""
    quiet = [10.0, 10.1, 9.9, 10.05, 9.95]
    noisy = [10.0, 12.0, 8.0, 11.5, 8.5]  # median 10, MAD 1.5 -> CV 0.222
    assert robust_cv(noisy) > 0.10 > robust_cv(quiet)
    assert judge(noisy, quiet, threshold=1.05).direction == "unstable"
    assert judge(quiet, noisy, threshold=1.05).direction == "unstable"
    mid = [10.0, 10.5, 9.5, 10.6, 9.4]  # MAD 0.5 -> CV 0.074: not noisy at the default
    assert judge(mid, mid, threshold=1.05).direction == "inconclusive"  # (its interval passes ×1.05)
    assert judge(mid, mid, threshold=1.25).direction == "unchanged"


def test_a_cv_equal_to_max_cv_is_not_noisy() -> None:
    # [0.5, 1, 1.5]: median 1, MAD 0.5 -> CV = 1.4826 * 0.5 = 0.7413 exactly (halving is exact)
    vals = [0.5, 1.0, 1.5]
    assert robust_cv(vals) == 0.7413
    assert judge(vals, vals, threshold=1.05, max_cv=0.7413).direction == "inconclusive"  # the point rule
    assert judge(vals, vals, threshold=1.05, max_cv=0.7412).direction == "unstable"


def test_noise_is_excused_only_by_a_significant_change_whose_interval_clears_the_threshold() -> None:
    """Ratio metrics, base = 0.5 0.6 0.7 0.8 1.0 (CV 0.21 > max_cv 0.10): cand = T * (0.99,
    0.995, 1, 1.333, 1.667) with T = 1.5 lies wholly above. The three smallest log differences
    are log(0.99 T), log(0.995 T), log(T) - log(1) = log T: the 95 % interval starts exactly at
    the threshold log T, so the change is clear of the noise: worse, not unstable."""
    base = [0.5, 0.6, 0.7, 0.8, 1.0]
    t = 1.5
    cand = [t * 0.99, t * 0.995, t, 2.0, 2.5]
    j = judge(base, cand, threshold=t, alpha=0.05)
    assert j.ci is not None and math.log(j.ci[0]) == math.log(t)
    assert j.direction == "worse"
    # mirrored: the interval ends exactly at 1 / T
    j = judge(cand, base, threshold=t, alpha=0.05)
    assert j.ci is not None and j.ci[1] == pytest.approx(1 / t)
    assert j.direction == "better"
    # a 5 % higher threshold: still a significant change whose estimate (log 0.916) passes
    # half of it and whose interval reaches it (log 1.575 = 0.454), but the
    # interval no longer lies wholly past it -> the noise wins
    lt = math.log(t * 1.05)
    for b, c in ((cand, base), (base, cand)):
        j = judge(b, c, threshold=t * 1.05, alpha=0.05)
        assert j.p is not None and j.p < 0.05 and j.ci is not None
        assert abs(math.log(j.effect)) >= 0.5 * lt
        near, far = sorted(abs(math.log(end)) for end in j.ci)
        assert near < lt <= far
        assert j.direction == "unstable"


def test_noisy_insignificant_result_is_unstable_even_with_an_interval_past_the_threshold() -> None:
    """9 vs 9 at alpha 0.01: the exact interval uses a = 11, while scipy's p for U = 11 is the
    continuity-corrected normal one, 0.0104 > 0.01. Logs: base = 7 values at 0..0.06, one at 0.3
    and one at 10; cand = 0.2, 0.25 and 7 values at 0.9..0.96. The crossed pairs are the 9 with
    base 10 and the 2 with base 0.3: U = 11, so the interval starts at the 12th difference,
    0.2 - 0.06 = 0.14, past log(threshold) = 0.1 - but the test is not significant."""
    base_log = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.3, 10.0]
    cand_log = [0.2, 0.25, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96]
    base, cand = [math.exp(v) for v in base_log], [math.exp(v) for v in cand_log]
    for worse in ("higher", "lower"):
        j = judge(base, cand, threshold=math.exp(0.1), alpha=0.01, max_cv=0.01, worse=worse)
        assert j.p == pytest.approx(0.0104, abs=1e-4) and j.p > 0.01
        assert j.ci is not None and math.log(j.ci[0]) == pytest.approx(0.14)
        assert j.direction == "unstable"


# -- judge: the point rule (too few values for the test) -------------------------------------------------


def test_point_rule_change_of_exactly_the_threshold_is_caught() -> None:
    """100 -> 110 against 1.10: log(110) - log(100) falls 1.6e-16 short of log(1.1) in floats;
    the rule still calls it (the docstring: the estimate must reach the full threshold)."""
    assert math.log(110.0) - math.log(100.0) < math.log(1.10)
    assert judge([100.0], [110.0], threshold=1.10).direction == "worse"
    assert judge([110.0], [100.0], threshold=1.10).direction == "better"
    assert judge([0.0], [0.25], threshold=0.25, kind="difference").direction == "worse"
    assert judge([0.25], [0.0], threshold=0.25, kind="difference").direction == "better"


def test_point_rule_float_tolerance_is_1e_12_inclusive() -> None:
    thr = 0.01
    assert judge([0.0], [thr - 1e-12], threshold=thr, kind="difference").direction == "worse"
    assert judge([0.0], [-(thr - 1e-12)], threshold=thr, kind="difference").direction == "better"
    assert judge([0.0], [thr - 1e-11], threshold=thr, kind="difference").direction == "inconclusive"
    assert judge([0.0], [-(thr - 1e-11)], threshold=thr, kind="difference").direction == "inconclusive"


def test_point_rule_for_lower_is_worse_metrics() -> None:
    """Accuracy (worse = lower), one value each, threshold 0.01: a drop of 0.005 is half the
    threshold: inconclusive (without an interval nothing is "unchanged"); a drop of 0.02 is
    worse; a rise of 0.02 is better."""
    kw = dict(threshold=0.01, kind="difference", worse="lower", max_cv=None)
    assert judge([0.85], [0.845], **kw).direction == "inconclusive"
    assert judge([0.85], [0.83], **kw).direction == "worse"
    assert judge([0.85], [0.87], **kw).direction == "better"
    assert judge([0.85], [0.855], **kw).direction == "inconclusive"


def test_point_rule_with_noisy_values_is_unstable() -> None:
    # 2 vs 2 cannot reach alpha; base 1.0, 1.5: median 1.25, MAD 0.25 -> CV 0.30 > 0.10
    j = judge([1.0, 1.5], [2.0, 2.0], threshold=1.05)
    assert j.level == "point" and j.direction == "unstable"


def test_point_rule_notes_that_no_test_was_possible() -> None:
    j = judge([100.0, 100.0], [111.0, 111.0], threshold=1.10, alpha=0.05)
    assert j.level == "point" and j.p is None and j.ci is None
    assert j.note == "too few values for a test at alpha=0.05: point estimate only (never 'unchanged')"
    assert judge([1.0], [1.0], threshold=1.1, alpha=0.01).note.endswith(
        "alpha=0.01: point estimate only (never 'unchanged')")


# -- pair_log_ratio -------------------------------------------------------------------------------------------


def test_pair_log_ratio_averages_the_before_and_after_medians() -> None:
    """A = 0.1, 0.2, 0.4 (drifting), B = A: b_i/a_i = 1 (log 0); b_i/a_(i+1) = 1/2, 1/2
    (log -log 2): the estimate is (0 - log 2) / 2."""
    a = [0.1, 0.2, 0.4]
    assert pair_log_ratio(a, a) == pytest.approx(-math.log(2) / 2)


@pytest.mark.parametrize("b_first", [False, True])
def test_pair_log_ratio_cancels_drift_whichever_side_goes_first(b_first: bool) -> None:
    """Steps that grow by e^c a turn, B r times A's: in time order A0 B0 A1 B1 … (or B0 A0 B1
    A1 …). Told the right order, the estimate is log r exactly; told the wrong one, it is off
    by 2c (B first read as A first) or -2c."""
    c, r = 0.01, 1.03
    slot = [math.exp(c * t) * 0.1 for t in range(40)]
    first, second = slot[0::2], slot[1::2]
    a, b = (second, [r * x for x in first]) if b_first else (first, [r * x for x in second])
    assert pair_log_ratio(a, b, b_first=b_first) == pytest.approx(math.log(r), abs=1e-12)
    wrong = pair_log_ratio(a, b, b_first=not b_first)
    assert wrong == pytest.approx(math.log(r) + (-2 * c if b_first else 2 * c), abs=1e-12)


def test_pair_log_ratio_skips_zero_and_negative_steps() -> None:
    # a zero A step: before = log 2 (x2, the 0 skipped), after = pairs (0, 2) skipped, (1, 2)
    assert pair_log_ratio([1.0, 0.0, 1.0], [2.0, 2.0, 2.0]) == pytest.approx(math.log(2))
    assert pair_log_ratio([1.0, -1.0, 1.0], [2.0, -2.0, 2.0]) == pytest.approx(math.log(2))
    # a zero B step: skipped both in the before pairs and in the after pairs
    assert pair_log_ratio([1.0, 1.0, 1.0], [0.0, 2.0, 2.0]) == pytest.approx(math.log(2))
    assert pair_log_ratio([1.0, 1.0, 1.0], [-3.0, 2.0, 2.0]) == pytest.approx(math.log(2))
    assert pair_log_ratio([0.0, 0.0], [1.0, 1.0]) is None


# -- trimmed_mean_se --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("xs,trim", [
    ([1.0, 2.0, 3.0, 4.0], 0.25),  # g = 1 of 4: keeps exactly two values
    ([1.0, 2.0, 3.0, 4.0, 10.0, 5.0, 6.0, 7.0], 0.25),
    ([0.3, -0.1, 0.2, 0.05, 0.4, 0.0, 0.15, 0.1, 0.25, 2.0], 0.2),
])
def test_trimmed_mean_and_its_winsorized_standard_error(xs: list[float], trim: float) -> None:
    mean, se, df = trimmed_mean_se(xs, trim)
    assert mean == pytest.approx(st.trim_mean(xs, trim))
    assert se == pytest.approx(float(st.mstats.trimmed_stde(np.array(xs), limits=(trim, trim))))
    assert df == len(xs) - 2 * int(trim * len(xs)) - 1


@pytest.mark.parametrize("xs,trim", [([1.0, 2.0, 3.0], 0.4), ([1.0, 2.0, 3.0, 4.0], 0.5), ([1.0], 0.0)])
def test_trimming_that_leaves_fewer_than_two_values_is_refused(xs: list[float], trim: float) -> None:
    with pytest.raises(ValueError, match=r"^trimming \d+ of \d+ values from each end leaves too few$"):
        trimmed_mean_se(xs, trim)


# -- paired_ratio ------------------------------------------------------------------------------------------------

_LOGS = [0.03, 0.05, 0.02, 0.06, 0.04, 0.01, 0.05, 0.03, 0.04, 0.02]


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_paired_ratio_is_students_t_interval_on_the_log_ratios(alpha: float) -> None:
    r = paired_ratio(_LOGS, alpha=alpha)
    mean, sem = statistics.fmean(_LOGS), float(st.sem(_LOGS))
    lo, hi = st.t.interval(1 - alpha, len(_LOGS) - 1, loc=mean, scale=sem)
    assert r.n_pairs == 10
    assert r.ratio == pytest.approx(math.exp(mean))
    assert r.se_log == pytest.approx(sem)
    assert r.ci == pytest.approx((math.exp(lo), math.exp(hi)))
    assert r.pair_ratios == pytest.approx(tuple(math.exp(x) for x in _LOGS))


def test_paired_ratio_with_two_pairs_already_has_an_interval() -> None:
    r = paired_ratio([0.01, 0.03])
    lo, hi = st.t.interval(0.99, 1, loc=0.02, scale=float(st.sem([0.01, 0.03])))
    assert r.n_pairs == 2 and r.ci == pytest.approx((math.exp(lo), math.exp(hi)))


def test_paired_ratio_of_one_pair_is_the_pair_itself_without_interval() -> None:
    r = paired_ratio([math.log(1.2)])
    assert (r.ci, r.se_log, r.mde) == (None, None, None)
    assert r.n_pairs == 1 and r.ratio == pytest.approx(1.2) and r.pair_ratios == pytest.approx((1.2,))


def test_paired_ratio_drops_missing_and_non_finite_pairs() -> None:
    assert paired_ratio([None, *_LOGS, NAN, INF]) == paired_ratio(_LOGS)  # type: ignore[list-item]


@pytest.mark.parametrize("logs", [[], [None, NAN, -INF]])
def test_paired_ratio_needs_a_pair(logs: list) -> None:
    with pytest.raises(ValueError, match=r"^paired_ratio needs at least one pair$"):
        paired_ratio(logs)


def test_minimum_detectable_effect_is_detected_with_the_stated_power() -> None:
    """A true log shift of log(1 + mde) gives the two-sided t test (alpha 0.01, 9 df) a power
    near 80 %: the noncentral t with noncentrality log(1 + mde) / se (scipy) says 0.78."""
    r = paired_ratio(_LOGS, alpha=0.01, power=0.8)
    assert r.mde is not None and r.se_log is not None
    ncp, df = math.log(1 + r.mde) / r.se_log, 9
    t_crit = st.t.ppf(1 - 0.005, df)
    achieved = st.nct.sf(t_crit, df, ncp) + st.nct.cdf(-t_crit, df, ncp)
    assert 0.75 < achieved < 0.85
    # more power needs a larger effect
    assert paired_ratio(_LOGS, alpha=0.01, power=0.95).mde > r.mde  # type: ignore[operator]


# -- paired_verdict ------------------------------------------------------------------------------------------------


def _pr(ratio: float, ci: tuple[float, float]) -> PairedRatio:
    return PairedRatio(8, ratio, ci, 0.01, 0.02, ())


def test_an_interval_touching_one_is_not_significant() -> None:
    """*slower* needs the interval to lie above 1, *faster* below 1: an end at exactly 1 is
    neither (and the interval is too wide for *unchanged* at 1.05)."""
    assert paired_verdict(_pr(1.04, (1.0, 1.08)), 1.05) == AB_INCONCLUSIVE
    assert paired_verdict(_pr(1.04, (1.0000001, 1.08)), 1.05) == AB_SLOWER
    assert paired_verdict(_pr(0.96, (0.92, 1.0)), 1.05) == AB_INCONCLUSIVE
    assert paired_verdict(_pr(0.96, (0.92, 0.9999999)), 1.05) == AB_FASTER


def _exact_half(guess: float, sign: int) -> tuple[float, float]:
    """A ratio r (near ``guess``) and a threshold T with log(r) == sign * log(T) / 2 exactly in
    floats, so that the estimate sits exactly on the floor."""
    for i in range(10_000):
        r = guess + sign * i * 1e-7
        t = math.exp(2 * sign * math.log(r))
        if math.log(t) / 2 == sign * math.log(r):
            return r, t
    raise AssertionError("no exact half found")


def test_an_estimate_at_exactly_half_the_threshold_reaches_it() -> None:
    r, t = _exact_half(1.025, 1)
    assert math.log(r) == math.log(t) / 2
    assert paired_verdict(_pr(r, (1.001, 1.06)), t) == AB_SLOWER
    r, t = _exact_half(1 / 1.025, -1)
    assert math.log(r) == -math.log(t) / 2
    assert paired_verdict(_pr(r, (0.94, 0.999)), t) == AB_FASTER


def test_unchanged_needs_the_interval_strictly_inside_the_equivalence_band() -> None:
    assert paired_verdict(_pr(1.0, (1 / 1.05, 1.01)), 1.05) == AB_INCONCLUSIVE
    assert paired_verdict(_pr(1.0, (0.99, 1.05)), 1.05) == AB_INCONCLUSIVE
    assert paired_verdict(_pr(1.0, (1 / 1.05 + 1e-9, 1.05 - 1e-9)), 1.05) == AB_UNCHANGED


# -- seed_difference -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x,y,alpha", [
    ([0.91, 0.93, 0.92, 0.95], [0.88, 0.90, 0.85, 0.87, 0.91, 0.80], 0.05),
    ([1.0, 2.0, 4.0], [3.0, 3.5, 2.0, 8.0, 1.0, 0.0, 5.0], 0.10),
    ([10.0, 10.5], [9.0, 12.0, 11.0], 0.05),
])
def test_seed_difference_is_welchs_interval(x: list[float], y: list[float], alpha: float) -> None:
    d = seed_difference(x, y, alpha)
    ref = st.ttest_ind(x, y, equal_var=False).confidence_interval(1 - alpha)
    assert (d.n_x, d.n_y) == (len(x), len(y))
    assert d.diff == pytest.approx(statistics.fmean(x) - statistics.fmean(y))
    assert d.ci == pytest.approx((ref.low, ref.high))
    assert d.sd_x == pytest.approx(statistics.stdev(x)) and d.sd_y == pytest.approx(statistics.stdev(y))


def test_seed_difference_with_one_run_on_a_side_has_no_interval() -> None:
    assert seed_difference([1.0], [1.0, 2.0, 3.0]) == SeedDifference(1, 3, -1.0, None, None, None)
    assert seed_difference([1.0, 2.0, 3.0], [1.0]) == SeedDifference(3, 1, 1.0, None, None, None)


def test_seed_difference_without_spread_is_exact() -> None:
    assert seed_difference([2.0, 2.0], [0.5, 0.5, 0.5]) == SeedDifference(2, 3, 1.5, (1.5, 1.5), 0.0, 0.0)


def test_seed_difference_drops_missing_and_non_finite_values() -> None:
    x, y = [0.91, 0.93, 0.92], [0.88, 0.90, 0.85]
    assert seed_difference([None, *x, NAN], [INF, *y, None]) == seed_difference(x, y)  # type: ignore[list-item]


@pytest.mark.parametrize("x,y", [([], [1.0]), ([1.0, 2.0], []), ([None, NAN], [1.0])])
def test_seed_difference_needs_a_value_on_each_side(x: list, y: list) -> None:
    with pytest.raises(ValueError, match=r"^seed_difference needs at least one value per side$"):
        seed_difference(x, y)
