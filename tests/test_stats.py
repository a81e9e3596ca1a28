"""Tests for peakend.stats: intervals, paired tests, Holm, Pareto front.

Expected values come from textbook formulas or from scipy's own tests
(``scipy.stats.ttest_rel``, ``scipy.stats.t.interval``), never from this module.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps

from peakend import stats


def test_mean_ci_matches_textbook_t_interval():
    x = np.array([2.0, 4.0, 4.0, 5.0, 7.0, 9.0])
    ci = stats.mean_ci(x)
    # textbook: mean 31/6, sd from the definition, t quantile with 5 df
    mean = 31 / 6
    sd = np.sqrt(((x - mean) ** 2).sum() / 5)
    half = 2.5705818366147395 * sd / np.sqrt(6)  # t_{0.975, 5} from tables
    assert ci.mean == pytest.approx(mean)
    assert ci.half_width == pytest.approx(half, rel=1e-9)
    low, high = sps.t.interval(0.95, 5, loc=mean, scale=sd / np.sqrt(6))
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert ci.note.item() == ""
    assert ci.n == 6


def test_mean_ci_confidence_level_changes_width():
    x = np.arange(10.0)
    assert stats.mean_ci(x, confidence=0.99).half_width > stats.mean_ci(x).half_width


@pytest.mark.parametrize("n", [0, 1, 2])
def test_mean_ci_too_few_is_nan_and_flagged(n):
    ci = stats.mean_ci(np.arange(float(n)))
    assert np.isnan(ci.half_width) and np.isnan(ci.low) and np.isnan(ci.high)
    assert ci.note.item() == stats.NOTE_FEW
    assert ci.n == n
    if n == 0:
        assert np.isnan(ci.mean)


def test_mean_ci_zero_variance():
    ci = stats.mean_ci(np.full(5, 3.25))
    assert ci.half_width == 0.0 and ci.low == ci.high == 3.25
    assert ci.note.item() == stats.NOTE_ZERO_VARIANCE


def test_mean_ci_ignores_nan_and_is_vectorized():
    x = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, np.nan], [4.0, 6.0]])
    ci = stats.mean_ci(x, axis=0)
    assert ci.n.tolist() == [4, 2]
    assert ci.mean.tolist() == [2.5, 5.5]
    assert ci.note.tolist() == ["", stats.NOTE_FEW]
    ci1 = stats.mean_ci(x.T, axis=1)
    np.testing.assert_array_equal(ci1.mean, ci.mean)


def test_mean_ci_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        stats.mean_ci([1.0, 2.0, 3.0], confidence=1.5)


def test_paired_difference_matches_scipy_ttest_rel():
    rng = np.random.default_rng(3)
    a = rng.normal(size=12)
    b = a + rng.normal(0.3, 0.5, size=12)
    d = stats.paired_difference(a, b)
    ref = sps.ttest_rel(a, b)
    assert d.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert d.mean == pytest.approx(np.mean(a - b))
    ref_ci = ref.confidence_interval(0.95)
    assert (d.low, d.high) == pytest.approx((ref_ci.low, ref_ci.high))


def test_paired_difference_self_comparison_is_exactly_zero():
    a = np.array([1.5, -2.0, 3.0, 0.25])
    d = stats.paired_difference(a, a.copy())
    assert d.mean == 0.0 and d.half_width == 0.0 and d.p_value == 1.0
    assert d.note.item() == stats.NOTE_ZERO_VARIANCE


def test_paired_difference_constant_shift_is_certain():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    d = stats.paired_difference(a + 0.5, a)
    assert d.mean == 0.5 and d.half_width == 0.0 and d.p_value == 0.0


def test_paired_difference_few_pairs_and_nan_pairs():
    a = np.array([1.0, np.nan, 3.0, 4.0])
    b = np.array([0.0, 1.0, np.nan, 2.0])
    d = stats.paired_difference(a, b)
    assert d.n == 2 and np.isnan(d.p_value) and np.isnan(d.half_width)
    assert d.mean == pytest.approx(1.5)


def test_paired_difference_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        stats.paired_difference(np.zeros(3), np.zeros(4))


def test_holm_textbook_example():
    # Holm (1979) style example: sorted p 0.01, 0.02, 0.03, 0.04 with m = 4
    adj = stats.holm([0.04, 0.01, 0.03, 0.02])
    # 0.01*4=0.04, 0.02*3=0.06, 0.03*2=0.06, 0.04*1=0.04 -> running max
    np.testing.assert_allclose(adj, [0.06, 0.04, 0.06, 0.06])


def test_holm_nan_not_counted_and_capped():
    adj = stats.holm([np.nan, 0.5, 0.6])
    assert np.isnan(adj[0])
    np.testing.assert_allclose(adj[1:], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.holm([0.5, 1.5])


@given(arrays(np.float64, st.integers(1, 12), elements=st.floats(0, 1)))
def test_holm_properties(p):
    adj = stats.holm(p)
    assert np.all(adj >= p - 1e-15) and np.all(adj <= 1.0)
    # monotone in the raw p-values
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= -1e-15)
    # Holm is never more conservative than Bonferroni
    assert np.all(adj <= np.minimum(p * p.size, 1.0) + 1e-12)


def test_pareto_efficient_hand_example():
    cost = [100.0, 120.0, 150.0, 150.0, 90.0, np.nan]
    value = [1.0, 2.0, 1.5, 3.0, 0.5, 9.0]
    # 2 is dominated by 1 (cheaper, better); 5 has no cost
    assert stats.pareto_efficient(cost, value).tolist() == [True, True, False, True, True, False]


@given(
    arrays(np.float64, 6, elements=st.floats(-5, 5)),
    arrays(np.float64, 6, elements=st.floats(-5, 5)),
)
def test_pareto_front_is_mutually_non_dominated(cost, value):
    eff = stats.pareto_efficient(cost, value)
    assert eff.any()
    # the cheapest option with the best value at that cost is always efficient
    best = np.lexsort((-value, cost))[0]
    assert eff[best]
    idx = np.flatnonzero(eff)
    for i in idx:
        for j in idx:
            dominates = (
                cost[j] <= cost[i]
                and value[j] >= value[i]
                and (cost[j] < cost[i] or value[j] > value[i])
            )
            assert not dominates


def test_rank():
    assert stats.rank([3.0, 1.0, 2.0]).tolist() == [1.0, 3.0, 2.0]
    assert stats.rank([3.0, 1.0, 2.0], descending=False).tolist() == [3.0, 1.0, 2.0]
    r = stats.rank([np.nan, 1.0])
    assert np.isnan(r[0]) and r[1] == 1.0


def test_interval_coverage_is_close_to_nominal():
    # 2000 normal samples of n=5: a correct 95 % t-interval covers the mean ~95 % of the time
    rng = np.random.default_rng(11)
    x = rng.normal(10.0, 2.0, size=(5, 2000))
    ci = stats.mean_ci(x, axis=0)
    coverage = np.mean((ci.low <= 10.0) & (10.0 <= ci.high))
    assert 0.93 < coverage < 0.97


@given(
    arrays(np.float64, st.integers(3, 15), elements=st.floats(-100, 100)),
    st.floats(-5, 5),
)
def test_paired_difference_agrees_with_scipy(a, shift):
    rng = np.random.default_rng(0)
    b = a - shift + rng.normal(0, 1, a.size)
    d = stats.paired_difference(a, b)
    diff = a - b
    assert d.mean == pytest.approx(diff.mean(), abs=1e-9)
    if np.std(diff) > 1e-6 * max(1.0, abs(diff.mean())):
        ref = sps.ttest_rel(a, b)
        assert d.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
        assert d.low <= d.mean <= d.high


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.5, 1.5, float("nan"), float("inf"), True,
                                 "0.95", None, [0.9]])
def test_bad_confidence_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\), got"):
        stats.mean_ci(np.arange(5.0), confidence=bad)
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\)"):
        stats.paired_difference(np.arange(5.0), np.zeros(5), confidence=bad)


def test_check_confidence_returns_a_float():
    assert stats.check_confidence(np.float32(0.9)) == pytest.approx(0.9)
    assert type(stats.check_confidence(np.float64(0.95))) is float
