"""The repeated looks of ``ab --until-decided``: boundaries as gsDesign publishes them, an
error rate over every look that stays alpha (where a fixed interval at each look does not),
and the one decision rule (:func:`rnnbench.stats.decide`) in every branch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnbench.ab.verdicts import look_alpha
from rnnbench.sequential import boundaries, nominal_alpha, spent
from rnnbench.stats import decide, in_words, paired_ratio, rule_text


def test_obrien_fleming_boundaries_are_gsdesigns() -> None:
    """gsDesign, sfLDOF, five equally spaced looks, one-sided alpha 0.025 (two-sided 0.05):
    4.8769, 3.3570, 2.6803, 2.2898, 2.0310."""
    assert boundaries((1, 2, 3, 4, 5), 5, 0.05) == pytest.approx((4.8769, 3.3570, 2.6803, 2.2898, 2.0310), abs=2e-4)


def test_pocock_type_boundaries_are_the_published_ones() -> None:
    """Lan–DeMets Pocock-type spending, five looks, two-sided 0.05: 2.438, 2.427, 2.410, 2.397, 2.386."""
    assert boundaries((1, 2, 3, 4, 5), 5, 0.05, "pocock") == pytest.approx((2.438, 2.427, 2.410, 2.397, 2.386),
                                                                            abs=2e-3)


def test_spending_reaches_alpha_at_the_last_look_and_refuses_unknown_kinds() -> None:
    for kind in ("obrien-fleming", "pocock"):
        assert spent(1.0, 0.01, kind) == pytest.approx(0.01, rel=1e-12)
        assert spent(0.5, 0.01, kind) < 0.01
    with pytest.raises(ValueError, match="spending must be one of"):
        spent(0.5, 0.01, "haybittle")
    with pytest.raises(ValueError, match="looks must increase"):
        boundaries((3, 2), 5, 0.05)


def test_looking_after_every_pair_keeps_alpha_where_a_fixed_interval_does_not() -> None:
    """400,000 null paths of 16 pairs, a look after each from the 2nd: the boundaries cross in
    1.0 % of paths (binomial sd 0.016 %); the fixed 99 % interval at every look crosses in 5.2 %."""
    rng = np.random.default_rng(20261205)
    n = np.arange(1, 17)
    z = np.abs(np.cumsum(rng.normal(size=(400_000, 16)), axis=1) / np.sqrt(n))[:, 1:]
    c = np.array(boundaries(tuple(range(2, 17)), 16, 0.01))
    assert 0.0094 <= float((z >= c).any(axis=1).mean()) <= 0.0106
    fixed = float((z >= 2.5758).any(axis=1).mean())
    assert fixed > 0.04


def test_a_look_is_at_its_nominal_level_and_a_single_look_at_alpha() -> None:
    th = {"alpha": 0.01}
    assert look_alpha(8, th) == 0.01 and look_alpha(8, {**th, "max_pairs": 0.0}) == 0.01
    seq = {**th, "max_pairs": 16.0}
    levels = [look_alpha(n, seq) for n in range(2, 17)]
    assert levels == sorted(levels) and levels[-1] < 0.01 and levels[0] < 1e-6
    assert look_alpha(16, seq) == nominal_alpha(16, 16, 0.01) == look_alpha(20, seq)  # past the plan: its last level
    assert look_alpha(1, seq) == 0.01  # one pair: no interval either way


T = math.log(1.05)


@pytest.mark.parametrize("e, lo, hi, verdict", [
    (0.03, 0.01, 0.06, "worse"),  # above 0, reaches T, estimate past T/2
    (T / 2, 0.001, T, "worse"),  # the edges count: hi == T, e == T/2
    (0.02, 0.001, 0.06, "inconclusive"),  # above 0 and reaching T, estimate short of T/2
    (0.02, 0.01, 0.03, "worse, below threshold"),  # above 0, below T
    (0.02, 0.01, T * 0.9999, "worse, below threshold"),
    (0.0, -0.01, 0.01, "unchanged"),  # holds 0, within (-T, T)
    (0.0, -T, 0.01, "inconclusive"),  # reaches -T
    (0.0, -0.01, T, "inconclusive"),  # reaches T
    (0.0, 0.0, 0.01, "unchanged"),  # 0 on the edge: no change excluded
    (-0.02, -0.03, -0.01, "better, below threshold"),
    (-0.03, -0.06, -0.01, "better"),
    (-0.02, -0.06, -0.001, "inconclusive"),
])
def test_decide_in_every_branch(e: float, lo: float, hi: float, verdict: str) -> None:
    assert decide(e, lo, hi, T) == verdict


def test_verdicts_in_a_metrics_words() -> None:
    assert in_words("worse, below threshold", "slower", "faster") == "slower, below threshold"
    assert in_words("better", "more memory", "less memory") == "less memory"
    assert in_words("unchanged", "slower", "faster") == "unchanged"
    assert in_words("inconclusive", "slower", "faster") == "inconclusive"


def test_spending_defaults_to_obrien_fleming_and_names_the_kinds_it_knows() -> None:
    assert spent(0.5, 0.01) == spent(0.5, 0.01, "obrien-fleming") != spent(0.5, 0.01, "pocock")
    with pytest.raises(ValueError, match=r"^spending must be one of obrien-fleming, pocock, got 'haybittle'$"):
        spent(0.5, 0.01, "haybittle")


def test_there_is_no_look_before_the_first_and_the_kind_is_passed_on() -> None:
    with pytest.raises(ValueError, match=r"^no look before 2 pairs$"):
        nominal_alpha(1, 16, 0.01)
    assert nominal_alpha(2, 16, 0.01) < nominal_alpha(3, 16, 0.01)
    assert nominal_alpha(16, 16, 0.01, kind="pocock") != nominal_alpha(16, 16, 0.01)
    # the published Pocock-type last boundary of five looks, 2.386: a nominal 2(1 - Φ(2.386)) = 0.0170
    assert nominal_alpha(5, 5, 0.05, first=1, kind="pocock") == pytest.approx(0.0170, abs=2e-4)


def test_the_rule_in_one_sentence() -> None:
    assert rule_text(0.05) == (
        "A change fails only when its 95% interval excludes no change and reaches the threshold with the estimate "
        "at least 0.5 of it; one the interval shows but keeps below the threshold is reported as '…, below "
        "threshold' and does not fail; 'unchanged' only when the interval holds no change and excludes the "
        "threshold both ways; anything else is inconclusive")


@pytest.mark.parametrize("logs", [
    [0.01, 0.012, 0.009, 0.011, 0.010, 0.008],  # tight: the interval must reach the threshold (log T - c·se binds)
    [0.05, -0.04, 0.03, -0.02, 0.06, -0.05],  # wide: it must lie above 1 (c·se binds)
])
def test_the_mde_is_the_slowdown_the_failing_rule_catches_at_80_and_95_percent(logs: list[float]) -> None:
    from scipy import stats as st

    r = paired_ratio(logs, alpha=0.05, threshold=1.05)
    n = len(logs)
    se = float(np.std(logs, ddof=1)) / math.sqrt(n)
    c = float(st.t.ppf(0.975, n - 1))
    need = max(c * se, math.log(1.05) - c * se)
    assert r.mde == pytest.approx(math.exp(need + float(st.t.ppf(0.8, n - 1)) * se) - 1, rel=1e-9)
    assert r.mde95 == pytest.approx(math.exp(need + float(st.t.ppf(0.95, n - 1)) * se) - 1, rel=1e-9)
    plain = paired_ratio(logs, alpha=0.05)  # no threshold: the slowdown whose interval lies above 1
    assert plain.mde == pytest.approx(math.exp((c + float(st.t.ppf(0.8, n - 1))) * se) - 1, rel=1e-9)
