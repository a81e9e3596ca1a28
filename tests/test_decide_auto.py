"""run_auto (replications="auto") and replications_needed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import peakend as pe
from peakend.experiment._auto import (
    _n_for_half_width,
    k_limit,
    prefix_half_widths,
    replications_needed,
    run_auto,
)

POLICIES = [pe.Policy("three"), pe.Policy("four", {"counters": {"servers": {"tellers": 4}}})]


def _scenario():
    return pe.scenarios.mmc(1.2, 0.5, 3, 4)


def test_run_auto_reaches_the_target_and_equals_a_plain_run(tmp_path):
    s = _scenario()
    res = run_auto(s, POLICIES, metric="all.wait_mean", half_width=0.25, seed=3, n0=5,
                   checkpoint=tmp_path / "ck")
    info = res.auto
    n = info.n_replications
    assert info.converged and res.n_replications == n and n > 5
    plain = pe.run(s, POLICIES, replications=n, seed=3, progress=False)
    np.testing.assert_array_equal(res.values, plain.values)
    x = plain.get("wait_mean", "all")
    hw = stats.t.ppf(0.975, n - 1) * x.std(axis=1, ddof=1) / math.sqrt(n)
    assert np.all(hw <= 0.25)
    np.testing.assert_allclose([info.half_widths[p] for p in ("three", "four")], hw)
    # the precision held from n_solution on, and did not at n_solution - 1 (unless n0)
    sol = info.n_solution
    assert n - sol >= k_limit(sol)
    if sol > 5:
        m = sol - 1
        y = x[:, :m]
        hw_before = stats.t.ppf(0.975, m - 1) * y.std(axis=1, ddof=1) / math.sqrt(m)
        assert np.any(hw_before > 0.25)
    assert info.steps[0] == 5 and info.steps[-1] == n


def test_run_auto_relative_and_max_replications_warning():
    s = _scenario()
    with pytest.warns(RuntimeWarning, match="not reached"):
        res = run_auto(s, POLICIES, metric="all.wait_mean", half_width=0.001, relative=True,
                       n0=4, max_replications=9)
    assert res.n_replications == 9 and not res.auto.converged
    good = run_auto(s, None, metric="all.n_customers", half_width=0.1, relative=True, n0=4)
    assert good.auto.converged and good.auto.relative


def test_run_auto_arguments_are_checked():
    s = _scenario()
    with pytest.raises(ValueError, match="half_width: must be a positive"):
        run_auto(s, None, half_width=0)
    with pytest.raises(ValueError, match="n0: must be an integer >= 3"):
        run_auto(s, None, n0=2)
    with pytest.raises(ValueError, match="max_replications"):
        run_auto(s, None, n0=10, max_replications=5)
    with pytest.raises(ValueError, match="did you mean 'wait_mean'"):
        run_auto(s, None, metric="all.wait_mea")


def test_prefix_half_widths_match_direct_computation():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(2, 12))
    x[1, 4] = np.nan
    mean, hw = prefix_half_widths(x, 0.9)
    for m in (2, 5, 12):
        for p in range(2):
            y = x[p, :m]
            y = y[np.isfinite(y)]
            assert mean[p, m - 1] == pytest.approx(y.mean())
            assert hw[p, m - 1] == pytest.approx(
                stats.t.ppf(0.95, y.size - 1) * y.std(ddof=1) / math.sqrt(y.size))
    assert np.isnan(hw[:, 0]).all()


@pytest.mark.parametrize(("sd", "h"), [(1.0, 0.2), (3.0, 0.5), (0.4, 0.39)])
def test_n_for_half_width_is_the_smallest_n(sd, h):
    n = _n_for_half_width(sd, h, 0.95)
    assert stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= h
    if n > 2:
        assert stats.t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) > h


def test_replications_needed_from_a_pilot_predicts_the_half_width():
    s = _scenario()
    pilot = pe.run(s, POLICIES, replications=15, seed=1, progress=False)
    table = replications_needed(pilot, "all.wait_mean", half_width=0.2)
    assert list(table["policy"]) == ["three", "four"]
    sd = pilot.get("wait_mean", "all", "three").std(ddof=1)
    assert table["n_needed"][0] == _n_for_half_width(sd, 0.2, 0.95)
    n = int(table["n_needed"].max())
    check = pe.run(s, POLICIES, replications=n, seed=77, progress=False).get("wait_mean", "all")
    hw = stats.t.ppf(0.975, n - 1) * check.std(axis=1, ddof=1) / math.sqrt(n)
    assert np.all(hw < 0.2 * 1.6)  # a pilot's sd is uncertain; the scale is right
