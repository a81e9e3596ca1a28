"""Unit tests of peakend.theory against textbook values computed independently.

Every expected value here comes from a formula written out in the test (or a
published example whose values are exact fractions), never from numbers that
peakend produced.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from peakend import theory

# ------------------------------------------------------------------ independent references


def erlang_c_direct(lam: float, mu: float, c: int) -> float:
    """Textbook Erlang C with factorials (Gross & Harris eq. 2.34); fine for small c."""
    a = lam / mu
    rho = a / c
    tail = a**c / (math.factorial(c) * (1 - rho))
    head = math.fsum(a**k / math.factorial(k) for k in range(c))
    return tail / (head + tail)


def erlang_c_exact(lam: Fraction, mu: Fraction, c: int) -> Fraction:
    """Erlang C in exact rational arithmetic."""
    a = lam / mu
    rho = a / c
    tail = a**c / (math.factorial(c) * (1 - rho))
    head = sum((a**k / math.factorial(k) for k in range(c)), Fraction(0))
    return tail / (head + tail)


# ------------------------------------------------------------------ Erlang C and M/M/c


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (0.3, 0.4), (1.0, 1.01)])
def test_mm1_closed_form(lam: float, mu: float) -> None:
    rho = lam / mu
    assert theory.erlang_c(lam, mu, 1) == pytest.approx(rho, rel=1e-12)
    assert theory.erlang_c_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam), rel=1e-12)
    m = theory.mmc_metrics(lam, mu, 1)
    assert m.mean_time_in_system == pytest.approx(1 / (mu - lam), rel=1e-12)
    assert m.mean_number_in_system == pytest.approx(rho / (1 - rho), rel=1e-12)
    assert m.mean_queue_length == pytest.approx(rho**2 / (1 - rho), rel=1e-12)


@pytest.mark.parametrize("rho", [0.1, 1 / 3, 0.5, 0.8, 0.95, 0.999])
def test_mm2_closed_form(rho: float) -> None:
    mu = 0.7
    lam = 2 * mu * rho
    # M/M/2: P0 = (1 - rho) / (1 + rho), C = 2 rho^2 / (1 + rho), Lq = 2 rho^3 / (1 - rho^2)
    assert theory.erlang_c(lam, mu, 2) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)
    lq = 2 * rho**3 / (1 - rho**2)
    m = theory.mmc_metrics(lam, mu, 2)
    assert m.mean_queue_length == pytest.approx(lq, rel=1e-10)
    assert m.mean_wait == pytest.approx(lq / lam, rel=1e-10)
    assert m.utilisation == pytest.approx(rho, rel=1e-12)


def test_published_example_hillier_lieberman_county_hospital() -> None:
    """Hillier & Lieberman, *Introduction to Operations Research*, M/M/s County Hospital
    emergency room: lambda = 2 patients/h, mu = 3 patients/h.  Published (exact) values:
    s = 1: Lq = 4/3, L = 2, Wq = 2/3 h, W = 1 h;  s = 2: Lq = 1/12, L = 3/4, Wq = 1/24 h,
    W = 3/8 h, P0 = 1/2, so P(wait) = 1 - P0 - P1 = 1/6."""
    one = theory.mmc_metrics(2.0, 3.0, 1)
    assert one.mean_queue_length == pytest.approx(4 / 3, rel=1e-12)
    assert one.mean_number_in_system == pytest.approx(2.0, rel=1e-12)
    assert one.mean_wait == pytest.approx(2 / 3, rel=1e-12)
    assert one.mean_time_in_system == pytest.approx(1.0, rel=1e-12)
    two = theory.mmc_metrics(2.0, 3.0, 2)
    assert two.mean_queue_length == pytest.approx(1 / 12, rel=1e-12)
    assert two.mean_number_in_system == pytest.approx(3 / 4, rel=1e-12)
    assert two.mean_wait == pytest.approx(1 / 24, rel=1e-12)
    assert two.mean_time_in_system == pytest.approx(3 / 8, rel=1e-12)
    assert two.prob_wait == pytest.approx(1 / 6, rel=1e-12)


def test_issue_three_reference_day() -> None:
    """Issue 3: lambda 1.8/min, mu 0.5/min, 4 servers has Erlang C mean wait 3.94 min."""
    c = erlang_c_exact(Fraction(9, 5), Fraction(1, 2), 4)
    wq = c / (4 * Fraction(1, 2) - Fraction(9, 5))
    assert theory.erlang_c_wait(1.8, 0.5, 4) == pytest.approx(float(wq), rel=1e-12)
    assert round(theory.erlang_c_wait(1.8, 0.5, 4), 2) == 3.94


@given(
    c=st.integers(1, 40),
    rho=st.floats(0.01, 0.99),
    mu=st.floats(0.01, 10.0),
)
def test_erlang_c_recursion_matches_factorial_formula(c: int, rho: float, mu: float) -> None:
    lam = rho * c * mu
    assert theory.erlang_c(lam, mu, c) == pytest.approx(erlang_c_direct(lam, mu, c), rel=1e-9)


def test_erlang_c_large_server_count_is_finite() -> None:
    # factorials overflow a float long before c = 2000; the recursion must not
    p = theory.erlang_c(0.98 * 2000, 1.0, 2000)
    assert 0 < p < 1
    # Halfin & Whitt (1981): with c = a + beta sqrt(a) servers, P(wait) tends to
    # 1 / (1 + beta Phi(beta) / phi(beta)) as the load a grows
    a = 10_000.0
    for beta in (0.5, 1.0, 2.0):
        limit = 1 / (1 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta))
        p_wait = theory.erlang_c(a, 1.0, round(a + beta * math.sqrt(a)))
        assert p_wait == pytest.approx(limit, rel=0.03)


def test_erlang_b_known_values() -> None:
    # B(a, 1) = a / (1 + a); B(a, 2) = a^2/2 / (1 + a + a^2/2)
    assert theory.erlang_b(2.0, 1) == pytest.approx(2 / 3)
    assert theory.erlang_b(2.0, 2) == pytest.approx(2 / 5)
    assert theory.erlang_b(0.0, 3) == 0.0


def test_zero_arrivals_never_wait() -> None:
    assert theory.erlang_c(0.0, 1.0, 3) == 0.0
    assert theory.erlang_c_wait(0.0, 1.0, 3) == 0.0


def test_more_servers_shorter_wait() -> None:
    waits = [theory.erlang_c_wait(1.8, 0.5, c) for c in range(4, 10)]
    assert all(w1 > w2 for w1, w2 in itertools.pairwise(waits))


def test_littles_law_in_metrics() -> None:
    m = theory.mmc_metrics(3.3, 0.4, 10)
    assert m.mean_number_in_system - m.mean_queue_length == pytest.approx(3.3 / 0.4)
    assert m.mean_time_in_system - m.mean_wait == pytest.approx(1 / 0.4)


# ------------------------------------------------------------------ Cobham priorities


@pytest.mark.parametrize(("lam", "mu", "c"), [(0.5, 1.0, 1), (1.8, 0.5, 4), (7.0, 1.0, 8)])
def test_cobham_one_class_is_erlang_c(lam: float, mu: float, c: int) -> None:
    (w,) = theory.priority_waits([lam], mu, c)
    assert w == pytest.approx(theory.erlang_c_wait(lam, mu, c), rel=1e-12)
    assert w == pytest.approx(erlang_c_direct(lam, mu, c) / (c * mu - lam), rel=1e-10)


def test_cobham_single_server_matches_mg1_priority_formula() -> None:
    """For c = 1, Cobham's M/G/1 result: Wq_k = W0 / ((1 - s_{k-1})(1 - s_k)) with
    W0 = sum(lambda_i E[S^2]) / 2 = lambda / mu^2 for exponential service."""
    rates = np.array([0.2, 0.6, 1.2])  # Hillier & Lieberman's County Hospital classes, per h
    mu = 3.0
    w0 = rates.sum() * (2 / mu**2) / 2
    s = np.cumsum(rates) / mu
    s_prev = np.concatenate(([0.0], s[:-1]))
    expected = w0 / ((1 - s_prev) * (1 - s))
    np.testing.assert_allclose(theory.priority_waits(rates, mu, 1), expected, rtol=1e-12)
    # and by hand: W0 = 2/9 h, sigma = 1/15, 4/15, 2/3
    np.testing.assert_allclose(
        theory.priority_waits(rates, mu, 1),
        [(2 / 9) / (14 / 15), (2 / 9) / ((14 / 15) * (11 / 15)), (2 / 9) / ((11 / 15) * (1 / 3))],
        rtol=1e-12,
    )


@given(
    c=st.integers(1, 20),
    rho=st.floats(0.05, 0.97),
    shares=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=5),
)
def test_cobham_conservation_law(c: int, rho: float, shares: list[float]) -> None:
    """Kleinrock's conservation law: with equal exponential service the arrival-weighted
    mean of the class waits is the FIFO (Erlang C) wait."""
    mu = 0.5
    rates = np.array(shares) / sum(shares) * rho * c * mu
    waits = theory.priority_waits(rates, mu, c)
    assert float(rates @ waits / rates.sum()) == pytest.approx(
        erlang_c_direct(rates.sum(), mu, c) / (c * mu - rates.sum()), rel=1e-9
    )
    assert np.all(np.diff(waits) >= -1e-15)  # lower class never waits less


def test_cobham_zero_rate_class_is_allowed() -> None:
    waits = theory.priority_waits([0.0, 1.0], 0.5, 3)
    # the empty top class would wait W0 = C / (c mu); the second class FIFO Erlang C
    c_prob = erlang_c_direct(1.0, 0.5, 3)
    assert waits[0] == pytest.approx(c_prob / 1.5)
    assert waits[1] == pytest.approx(c_prob / (1.5 - 1.0))


# ------------------------------------------------------------------ transient day


def transient_wait_expm(lam: float, mu: float, c: int, hours: float, n_states: int) -> float:
    """Independent method: matrix exponential of the generator augmented by the reward."""
    q = np.zeros((n_states, n_states))
    for n in range(n_states):
        if n + 1 < n_states:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu
        q[n, n] = -q[n].sum()
    reward = np.maximum(np.arange(n_states) - c + 1, 0).astype(float)
    # d/dt [p, s] = [p Q, p . reward]; s(T) = integral of E[reward(N(t))]
    m = np.zeros((n_states + 1, n_states + 1))
    m[:n_states, :n_states] = q.T
    m[n_states, :n_states] = reward
    horizon = 60 * hours
    x0 = np.zeros(n_states + 1)
    x0[0] = 1
    s = (expm(m * horizon) @ x0)[-1]
    return float(s / (horizon * c * mu))


def transient_wait_ode(lam: float, mu: float, c: int, hours: float, n_states: int) -> float:
    """Second independent method: integrate the Kolmogorov forward equations."""
    n = np.arange(n_states)
    births = np.where(n < n_states - 1, lam, 0.0)
    deaths = np.minimum(n, c) * mu
    reward = np.maximum(n - c + 1, 0).astype(float)

    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        p = x[:-1]
        dp = -(births + deaths) * p
        dp[1:] += births[:-1] * p[:-1]
        dp[:-1] += deaths[1:] * p[1:]
        return np.append(dp, reward @ p)

    x0 = np.zeros(n_states + 1)
    x0[0] = 1
    horizon = 60 * hours
    sol = solve_ivp(rhs, (0, horizon), x0, method="LSODA", rtol=1e-10, atol=1e-13)
    return float(sol.y[-1, -1] / (horizon * c * mu))


def test_transient_issue_three_value() -> None:
    """Issue 3: the 8-hour day at rho = 0.9 (1.8/min, 0.5/min, 4 servers) has an exact mean
    wait of about 3.47 min, well below Erlang C's 3.94 min."""
    w = theory.mmc_transient_wait(1.8, 0.5, 4, 8)
    assert w == pytest.approx(3.47, abs=0.005)
    assert w < theory.erlang_c_wait(1.8, 0.5, 4) - 0.4


@pytest.mark.parametrize(
    ("lam", "mu", "c", "hours"),
    [(1.8, 0.5, 4, 8), (0.5, 1.0, 1, 1), (2.0, 0.5, 4, 3), (3.0, 0.4, 6, 0.5)],
)
def test_transient_matches_expm_and_ode(lam: float, mu: float, c: int, hours: float) -> None:
    # includes an overloaded day (rho = 1, 2.0 / (4 * 0.5)) and a very overloaded one (1.25)
    ours = theory.mmc_transient_wait(lam, mu, c, hours)
    n_states = 250
    assert ours == pytest.approx(transient_wait_expm(lam, mu, c, hours, n_states), rel=1e-7)
    assert ours == pytest.approx(transient_wait_ode(lam, mu, c, hours, n_states), rel=1e-6)


@settings(max_examples=25)
@given(
    c=st.integers(1, 6),
    rho=st.floats(0.05, 1.3),
    mu=st.floats(0.2, 1.0),
    hours=st.floats(0.05, 0.5),
)
def test_transient_matches_expm_property(c: int, rho: float, mu: float, hours: float) -> None:
    lam = rho * c * mu
    # enough states to hold every arrival of the day with overwhelming probability
    arrivals = lam * 60 * hours
    n_states = math.ceil(arrivals + 10 * math.sqrt(arrivals) + c + 20)
    expected = transient_wait_expm(lam, mu, c, hours, n_states)
    assert theory.mmc_transient_wait(lam, mu, c, hours) == pytest.approx(
        expected, rel=1e-7, abs=1e-12
    )


def test_transient_tends_to_erlang_c_on_long_horizons() -> None:
    wq = theory.erlang_c_wait(1.8, 0.5, 4)
    long_day = theory.mmc_transient_wait(1.8, 0.5, 4, 250)
    # the start-empty deficit shrinks like 1/T: within 1 % after 250 hours
    assert long_day < wq
    assert long_day == pytest.approx(wq, rel=1e-2)


def test_transient_short_horizon_first_order() -> None:
    """For T -> 0 and c = 1, P(N(t) >= 1) ~ lambda t so W(T) ~ lambda T / (2 mu)."""
    lam, mu, hours = 0.5, 1.0, 0.001
    horizon = 60 * hours
    assert theory.mmc_transient_wait(lam, mu, 1, hours) == pytest.approx(
        lam * horizon / (2 * mu), rel=0.05
    )


def test_transient_increases_with_day_length() -> None:
    waits = [theory.mmc_transient_wait(1.8, 0.5, 4, h) for h in (1, 2, 4, 8, 16)]
    assert all(w1 < w2 for w1, w2 in itertools.pairwise(waits))


def test_transient_zero_arrivals() -> None:
    assert theory.mmc_transient_wait(0.0, 1.0, 2, 8) == 0.0


# ------------------------------------------------------------------ argument validation


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((-1.0, 1.0, 1), "arrival_rate"),
        ((float("nan"), 1.0, 1), "arrival_rate"),
        ((1.0, 0.0, 2), "service_rate"),
        ((1.0, -2.0, 2), "service_rate"),
        ((1.0, float("inf"), 2), "service_rate"),
        ((1.0, 1.0, 0), "servers"),
        ((1.0, 1.0, 2.5), "servers"),
        ((1.0, 1.0, True), "servers"),
        ((2.0, 1.0, 2), "rho < 1"),
        ((3.0, 1.0, 2), "rho < 1"),
    ],
)
def test_steady_state_validation(args: tuple, name: str) -> None:
    for func in (theory.erlang_c, theory.erlang_c_wait, theory.mmc_metrics):
        with pytest.raises(ValueError, match=name.replace("(", r"\(")):
            func(*args)


@pytest.mark.parametrize(
    ("rates", "match"),
    [
        ([], "non-empty"),
        ([[1.0]], "one-dimensional"),
        ([-0.1, 0.5], ">= 0"),
        ([0.0, 0.0], "sum"),
        ([0.6, 0.6], "rho < 1"),
    ],
)
def test_priority_validation(rates: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        theory.priority_waits(rates, 0.5, 2)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"hours": 0.0}, "hours"),
        ({"hours": -1.0}, "hours"),
        ({"servers": 0}, "servers"),
        ({"service_rate": 0.0}, "service_rate"),
        ({"tol": 0.5}, "tol"),
        ({"max_states": 3}, "max_states"),
    ],
)
def test_transient_validation(kwargs: dict, name: str) -> None:
    args = {"arrival_rate": 1.8, "service_rate": 0.5, "servers": 4, "hours": 8.0, **kwargs}
    with pytest.raises(ValueError, match=name):
        theory.mmc_transient_wait(**args)


def test_transient_truncation_too_small_is_reported() -> None:
    with pytest.raises(ValueError, match="max_states"):
        theory.mmc_transient_wait(5.0, 0.5, 4, 8, max_states=20)
