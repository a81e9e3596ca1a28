"""Tests of peakend.affect: value functions of the Delta law, gift utility, perceived wait."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from peakend import affect
from peakend.affect import gift_utility, linear, perceived_wait, prospect, value


def test_defaults_are_tversky_kahneman_1992_estimates() -> None:
    # median estimates alpha = beta = 0.88, lambda = 2.25
    x = np.array([4.0, -4.0])
    np.testing.assert_allclose(value(x), [4**0.88, -2.25 * 4**0.88])
    np.testing.assert_allclose(prospect(x), value(x))


def test_prospect_shape() -> None:
    x = np.linspace(-4, 4, 81)
    v = prospect(x, clip=None)
    assert v[40] == 0.0  # reference point
    assert (np.diff(v) > 0).all()  # increasing
    gains, losses = v[41:], v[:40]
    assert (np.diff(gains, 2) < 0).all()  # concave for gains
    assert (np.diff(losses, 2) > 0).all()  # convex for losses
    # losses loom larger: |v(-x)| = lambda * v(x) when alpha == beta
    np.testing.assert_allclose(-v[:40][::-1], 2.25 * gains)
    # loss aversion 1 and alpha = beta = 1 is linear
    np.testing.assert_allclose(prospect(x, alpha=1, beta=1, loss_aversion=1, clip=None), x)


def test_linear_and_clip_to_affect_scale() -> None:
    x = np.array([-30.0, -2.0, 0.0, 3.5, 12.0])
    np.testing.assert_array_equal(linear(x), [-10.0, -2.0, 0.0, 3.5, 10.0])
    np.testing.assert_array_equal(linear(x, clip=None), x)
    np.testing.assert_array_equal(linear(x, scale=2.0, clip=(-5, 5)), [-5, -4, 0, 5, 5])
    np.testing.assert_array_equal(value(x, kind="linear"), linear(x))
    assert value(np.array([-10.0]))[0] == -10.0  # -2.25 * 10**0.88 = -17.1 is clipped
    assert affect.AFFECT_RANGE == (-10.0, 10.0)


def test_scalars_and_shapes() -> None:
    assert float(value(-1.0)) == pytest.approx(-2.25)
    assert value(np.zeros((2, 3))).shape == (2, 3)
    assert value([1, 2]).dtype == np.float64


def test_gift_utility_is_concave_and_zero_at_zero() -> None:
    # DOMAIN.md: a 5 L bottle of oil does not please five times as much as 1 L
    u = gift_utility(np.array([0.0, 1.0, 5.0]), scale=2.0, curvature=0.5)
    assert u[0] == 0.0
    assert u[2] < 5 * u[1]
    np.testing.assert_allclose(u[2] / u[1], np.sqrt(5))
    sizes = np.linspace(0, 50, 51)
    g = gift_utility(sizes, scale=1.0, curvature=0.7)
    assert (np.diff(g) > 0).all() and (np.diff(g, 2) < 0).all()
    np.testing.assert_allclose(gift_utility(sizes, scale=0.3, curvature=1.0), 0.3 * sizes)


def test_perceived_wait() -> None:
    t = np.array([0.0, 1.0, 4.0, 9.0])
    np.testing.assert_array_equal(perceived_wait(t), t)
    # people overestimate waits by about a third (Larson)
    np.testing.assert_allclose(perceived_wait(t, k=4 / 3), 4 / 3 * t)
    np.testing.assert_allclose(perceived_wait(t, p=0.5), [0, 1, 2, 3])
    # distraction (m < 1) shortens, unfairness (m > 1) lengthens; per-customer multipliers
    m = np.array([0.8, 1.0, 1.25, 1.5])
    np.testing.assert_allclose(perceived_wait(t, multiplier=m), t * m)
    assert perceived_wait(10.0, multiplier=0.8) < perceived_wait(10.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: value([np.nan]), r"x must be finite"),
        (
            lambda: value([1.0], kind="quadratic"),  # type: ignore[arg-type]
            r"kind must be 'prospect' or 'linear'",
        ),
        (lambda: prospect([1.0], alpha=0), r"alpha must be a finite number in \(0, 1\]"),
        (lambda: prospect([1.0], alpha=1.2), r"alpha"),
        (lambda: prospect([1.0], beta=-1), r"beta must be a finite number in \(0, 1\]"),
        (lambda: prospect([1.0], loss_aversion=0), r"loss_aversion must be a finite number in"),
        (lambda: linear([1.0], scale=np.inf), r"scale must be a finite number in \(0, inf\)"),
        (lambda: linear([1.0], clip=(5, -5)), r"clip must be None or finite"),
        (
            lambda: linear([1.0], clip=3),  # type: ignore[arg-type]
            r"clip must be None or a pair",
        ),
        (lambda: linear(["a"]), r"x must be real numbers"),
        (lambda: gift_utility([-1.0]), r"size must be >= 0"),
        (lambda: gift_utility([1.0], curvature=1.5), r"curvature must be a finite number in"),
        (lambda: gift_utility([1.0], scale=0), r"scale must be a finite number in \(0, inf\)"),
        (lambda: perceived_wait([-0.5]), r"actual must be >= 0"),
        (lambda: perceived_wait([np.inf]), r"actual must be finite"),
        (lambda: perceived_wait([1.0], k=0), r"k must be a finite number in \(0, inf\)"),
        (lambda: perceived_wait([1.0], p=-1), r"p must be a finite number in \(0, inf\)"),
        (lambda: perceived_wait([1.0], multiplier=[0.0]), r"multiplier must be > 0"),
        (lambda: perceived_wait([1.0], k=True), r"k must be a finite number"),
    ],
)
def test_validation_names_the_argument(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
