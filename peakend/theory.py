"""Closed-form and exact numerical queueing results used to validate the simulator.

All rates share one time unit. peakend measures time in minutes, so arrival and
service rates are *per minute* and every waiting time returned here is in
*minutes*; the functions work unchanged in any other unit as long as both rates
use it (``mmc_transient_wait`` alone takes its horizon in hours and therefore
assumes rates per minute).

Contents
--------
``erlang_b``, ``erlang_c``
    Blocking and waiting probabilities of the M/M/c queue, computed with the
    numerically stable Erlang B recursion (no factorials, no overflow for large
    ``servers``).
``erlang_c_wait``, ``mmc_metrics``
    Steady-state M/M/c mean wait in queue and the other classical measures
    (utilisation, probability of waiting, Wq, W, Lq, L; Little's law ties them).
``priority_waits``
    Cobham's (1954) mean waits for non-preemptive priority classes sharing an
    M/M/c queue with a common service rate.
``mmc_transient_wait``
    The exact expected mean wait of customers arriving during a finite day that
    starts empty: a birth-death continuous-time Markov chain on the number in the
    system, solved by uniformization. Short, busy days never reach steady state,
    so this -- not Erlang C -- is the right reference for an 8-hour simulated day.

References
----------
.. [1] A. K. Erlang, "Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges", *Elektroteknikeren* 13, 1917.
.. [2] A. Cobham, "Priority assignment in waiting line problems", *Journal of the
   Operations Research Society of America* 2(1):70-76, 1954.
.. [3] J. D. C. Little, "A proof for the queuing formula L = lambda W",
   *Operations Research* 9(3):383-387, 1961.
.. [4] D. Gross, J. F. Shortle, J. M. Thompson, C. M. Harris, *Fundamentals of
   Queueing Theory*, 4th ed., Wiley, 2008 (sections 2.3 and 3.4).
.. [5] W. K. Grassmann, "Transient solutions in Markovian queueing systems",
   *Computers & Operations Research* 4(1):47-53, 1977 (uniformization).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "MMCMetrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_wait",
    "mmc_metrics",
    "mmc_transient_wait",
    "priority_waits",
]


class MMCMetrics(NamedTuple):
    """Steady-state measures of an M/M/c queue (see :func:`mmc_metrics`).

    Attributes
    ----------
    utilisation : float
        Offered load per server, ``rho = arrival_rate / (servers * service_rate)``
        (dimensionless, in [0, 1)).
    prob_wait : float
        Probability that an arriving customer has to wait (Erlang C).
    mean_wait : float
        Mean time in queue ``Wq`` (minutes when rates are per minute).
    mean_time_in_system : float
        Mean time in the system ``W = Wq + 1 / service_rate`` (minutes).
    mean_queue_length : float
        Time-average number waiting ``Lq = arrival_rate * Wq`` (customers).
    mean_number_in_system : float
        Time-average number present ``L = arrival_rate * W`` (customers).
    """

    utilisation: float
    prob_wait: float
    mean_wait: float
    mean_time_in_system: float
    mean_queue_length: float
    mean_number_in_system: float


# --------------------------------------------------------------------------- validation


def _check_rate(value: float, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound} (per minute), got {value!r}")
    return x


def _check_servers(servers: int) -> int:
    if isinstance(servers, bool) or not isinstance(servers, numbers.Integral) or servers < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    return int(servers)


def _check_stable(arrival_rate: float, service_rate: float, servers: int) -> float:
    rho = arrival_rate / (servers * service_rate)
    if not rho < 1:
        raise ValueError(
            "arrival_rate must be below servers * service_rate for a steady state "
            f"(utilisation rho < 1), got rho = {rho:.6g}"
        )
    return rho


# --------------------------------------------------------------------------- Erlang B / C


def erlang_b(offered_load: float, servers: int) -> float:
    """Erlang B blocking probability of the M/M/c/c loss system.

    Computed with the recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``,
    which is numerically stable for any number of servers.

    Parameters
    ----------
    offered_load : float
        Offered traffic ``a = arrival_rate / service_rate`` (erlangs, >= 0).
    servers : int
        Number of servers ``c`` (>= 1).

    Returns
    -------
    float
        Probability that all ``servers`` are busy in the loss system, in [0, 1].

    Raises
    ------
    ValueError
        If ``offered_load`` is negative or not finite, or ``servers`` is not an
        integer >= 1.

    Examples
    --------
    >>> round(erlang_b(1.0, 1), 12)
    0.5
    """
    a = _check_rate(offered_load, "offered_load", allow_zero=True)
    c = _check_servers(servers)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arriving customer waits in an M/M/c queue (Erlang C).

    ``C = c B / (c - a (1 - B))`` with ``a = arrival_rate / service_rate`` and ``B``
    the Erlang B probability from the stable recursion [1]_ [4]_.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (customers per minute, >= 0).
    service_rate : float
        Exponential service rate of one server ``mu`` (customers per minute, > 0).
    servers : int
        Number of identical servers ``c`` (>= 1).

    Returns
    -------
    float
        Steady-state probability of waiting, in [0, 1).

    Raises
    ------
    ValueError
        If a rate is negative, zero (``service_rate``) or not finite, ``servers`` is
        not an integer >= 1, or the queue is unstable (``rho >= 1``).

    Examples
    --------
    M/M/1: the probability of waiting equals the utilisation.

    >>> round(erlang_c(0.5, 1.0, 1), 12)
    0.5
    """
    lam = _check_rate(arrival_rate, "arrival_rate", allow_zero=True)
    mu = _check_rate(service_rate, "service_rate")
    c = _check_servers(servers)
    _check_stable(lam, mu, c)
    a = lam / mu
    b = erlang_b(a, c)
    return c * b / (c - a * (1.0 - b))


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Steady-state mean wait in queue ``Wq`` of an M/M/c FIFO queue.

    ``Wq = C(c, a) / (c mu - lambda)`` where ``C`` is :func:`erlang_c`.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (customers per minute, >= 0).
    service_rate : float
        Exponential service rate of one server ``mu`` (customers per minute, > 0).
    servers : int
        Number of identical servers ``c`` (>= 1).

    Returns
    -------
    float
        Mean time from arrival to service start over all customers, including
        those who do not wait (minutes when the rates are per minute).

    Raises
    ------
    ValueError
        As :func:`erlang_c`, in particular when ``rho >= 1``.

    Examples
    --------
    M/M/1 with ``rho = 0.5``: ``Wq = rho / (mu - lambda) = 1``.

    >>> round(erlang_c_wait(0.5, 1.0, 1), 12)
    1.0
    """
    p_wait = erlang_c(arrival_rate, service_rate, servers)
    return p_wait / (servers * float(service_rate) - float(arrival_rate))


def mmc_metrics(arrival_rate: float, service_rate: float, servers: int) -> MMCMetrics:
    """Steady-state measures of an M/M/c FIFO queue.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (customers per minute, >= 0).
    service_rate : float
        Exponential service rate of one server ``mu`` (customers per minute, > 0).
    servers : int
        Number of identical servers ``c`` (>= 1).

    Returns
    -------
    MMCMetrics
        ``utilisation`` (dimensionless), ``prob_wait`` (probability),
        ``mean_wait`` Wq and ``mean_time_in_system`` W (minutes),
        ``mean_queue_length`` Lq and ``mean_number_in_system`` L (customers).

    Raises
    ------
    ValueError
        As :func:`erlang_c`, in particular when ``rho >= 1``.

    Examples
    --------
    >>> m = mmc_metrics(1.8, 0.5, 4)
    >>> round(m.utilisation, 3), round(m.mean_wait, 2)
    (0.9, 3.94)
    """
    p_wait = erlang_c(arrival_rate, service_rate, servers)
    lam, mu = float(arrival_rate), float(service_rate)
    wq = p_wait / (servers * mu - lam)
    w = wq + 1.0 / mu
    return MMCMetrics(
        utilisation=lam / (servers * mu),
        prob_wait=p_wait,
        mean_wait=wq,
        mean_time_in_system=w,
        mean_queue_length=lam * wq,
        mean_number_in_system=lam * w,
    )


# --------------------------------------------------------------------------- priorities


def priority_waits(
    arrival_rates: ArrayLike, service_rate: float, servers: int
) -> NDArray[np.float64]:
    """Mean waits of non-preemptive priority classes in an M/M/c queue (Cobham 1954).

    Classes share one queue and ``servers`` identical exponential servers with a
    common rate ``mu``; a free server takes the waiting customer of the highest
    class (first in ``arrival_rates``), FIFO within a class, and never interrupts a
    service. With ``sigma_k = sum(lambda_1..lambda_k) / (c mu)`` [2]_ [4]_::

        Wq_k = C(c, a) / (c mu (1 - sigma_{k-1}) (1 - sigma_k)),   sigma_0 = 0,

    where ``C`` is Erlang C at the total load. With one class this is
    :func:`erlang_c_wait`, and the arrival-weighted mean of the class waits equals
    the FIFO wait (Kleinrock's conservation law).

    Parameters
    ----------
    arrival_rates : array_like of float
        Poisson arrival rate of each class, highest priority first (customers per
        minute, each >= 0, total > 0).
    service_rate : float
        Exponential service rate of one server, the same for all classes
        (customers per minute, > 0).
    servers : int
        Number of identical servers ``c`` (>= 1).

    Returns
    -------
    numpy.ndarray of float64
        Mean wait in queue of each class, in the order of ``arrival_rates``
        (minutes when the rates are per minute).

    Raises
    ------
    ValueError
        If ``arrival_rates`` is empty, not one-dimensional, has a negative or
        non-finite entry or sums to 0; if ``service_rate`` or ``servers`` is
        invalid; or if the total load is unstable (``rho >= 1``).

    Examples
    --------
    >>> priority_waits([0.5], 1.0, 1).round(12).tolist()
    [1.0]
    """
    rates = np.asarray(arrival_rates, dtype=np.float64)
    if rates.ndim != 1 or rates.size == 0:
        raise ValueError("arrival_rates must be a non-empty one-dimensional sequence")
    if not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError(f"arrival_rates must be finite and >= 0 (per minute), got {rates}")
    total = float(rates.sum())
    if total <= 0:
        raise ValueError("arrival_rates must sum to more than 0 (per minute)")
    mu = _check_rate(service_rate, "service_rate")
    c = _check_servers(servers)
    p_wait = erlang_c(total, mu, c)
    sigma = np.cumsum(rates) / (c * mu)
    sigma_before = np.concatenate(([0.0], sigma[:-1]))
    return np.asarray(p_wait / (c * mu * (1.0 - sigma_before) * (1.0 - sigma)), dtype=np.float64)


# --------------------------------------------------------------------------- transient


def mmc_transient_wait(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    hours: float,
    *,
    tol: float = 1e-12,
    max_states: int = 1_000_000,
) -> float:
    """Exact expected mean wait of the customers arriving during a day that starts empty.

    Arrivals form a Poisson process of rate ``lambda`` on ``[0, T]`` with
    ``T = 60 * hours`` minutes, the queue is M/M/c FIFO and empty at time 0, and
    customers still waiting at closing are served (their waits count). Let
    ``N(t)`` be the number in the system. By PASTA an arrival at ``t`` sees the
    time-``t`` distribution of ``N`` and waits ``max(N(t) - c + 1, 0) / (c mu)`` on
    average, so the mean wait over the day's arrivals (a ratio of expectations:
    expected total wait over expected number of arrivals) is::

        W(T) = 1 / (T c mu) * integral_0^T E[max(N(t) - c + 1, 0)] dt.

    The state probabilities of the birth-death chain are integrated exactly by
    uniformization [5]_: with ``Lambda = lambda + c mu`` and ``P = I + Q / Lambda``,
    ``integral_0^T p(t) dt = (1 / Lambda) sum_k p(0) P^k Pr[Poisson(Lambda T) > k]``.
    The state space is truncated at a level whose probability stays below ``tol``
    at every step (doubled until it does). Unlike the steady-state functions this
    one accepts ``rho >= 1``: a finite day is always well defined.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (customers per minute, >= 0).
    service_rate : float
        Exponential service rate of one server ``mu`` (customers per minute, > 0).
    servers : int
        Number of identical servers ``c`` (>= 1).
    hours : float
        Length of the arrival period ``T / 60`` (hours, > 0).
    tol : float, optional
        Truncation tolerance: bound on the probability of the top state at any
        step and on the neglected Poisson tail (dimensionless, in (0, 1e-3]).
    max_states : int, optional
        Largest state space tried before giving up (states, >= 10).

    Returns
    -------
    float
        Expected mean time in queue per arriving customer (minutes).

    Raises
    ------
    ValueError
        If an argument is out of range, or the truncation needs more than
        ``max_states`` states.

    Examples
    --------
    The busy 8-hour day of issue 3 (utilisation 0.9) stays well below Erlang C's
    steady-state 3.94 minutes:

    >>> round(mmc_transient_wait(1.8, 0.5, 4, 8), 2)
    3.47
    """
    lam = _check_rate(arrival_rate, "arrival_rate", allow_zero=True)
    mu = _check_rate(service_rate, "service_rate")
    c = _check_servers(servers)
    h = _check_rate(hours, "hours")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol <= 1e-3:
        raise ValueError(f"tol must be in (0, 1e-3], got {tol!r}")
    if (
        isinstance(max_states, bool)
        or not isinstance(max_states, numbers.Integral)
        or max_states < 10
    ):
        raise ValueError(f"max_states must be an integer >= 10, got {max_states!r}")
    if lam == 0:
        return 0.0
    horizon = 60.0 * h
    big_lambda = lam + c * mu
    mean_jumps = big_lambda * horizon
    n_terms = int(stats.poisson.isf(tol, mean_jumps)) + 2
    # Starting state: a few multiples of the load; never more than the arrivals could bring.
    n_states = max(4 * c, int(lam / mu) * 2 + 10, 64)
    arrivals_cap = int(stats.poisson.isf(tol, lam * horizon)) + c + 2
    n_states = min(n_states, arrivals_cap)
    while True:
        result, top_mass = _uniformized_wait(lam, mu, c, horizon, n_states, n_terms)
        if top_mass <= tol or n_states >= arrivals_cap:
            return result
        if n_states >= max_states:
            raise ValueError(
                f"max_states = {max_states} is too small for tol = {tol:g}: probability "
                f"{top_mass:.3g} remains at the truncation level"
            )
        n_states = min(2 * n_states, max_states, arrivals_cap)


def _uniformized_wait(
    lam: float, mu: float, c: int, horizon: float, n_states: int, n_terms: int
) -> tuple[float, float]:
    """Uniformized transient mean wait on states 0..n_states-1; also the top-state mass."""
    big_lambda = lam + c * mu
    n = np.arange(n_states)
    up = np.full(n_states, lam / big_lambda)
    up[-1] = 0.0  # truncation: no births out of the top state
    down = np.minimum(n, c) * mu / big_lambda
    stay = 1.0 - up - down
    reward = np.maximum(n - c + 1, 0).astype(np.float64)
    # weights w_k = Pr[Poisson(Lambda T) > k] = survival function at k
    weights = stats.poisson.sf(np.arange(n_terms), big_lambda * horizon)
    v = np.zeros(n_states)
    v[0] = 1.0
    integral = np.zeros(n_states)
    top_mass = 0.0
    nxt = np.empty(n_states)
    for k in range(n_terms):
        integral += weights[k] * v
        top_mass = max(top_mass, v[-1])
        # one step of the uniformized chain: v <- v P (tridiagonal)
        np.multiply(v, stay, out=nxt)
        nxt[1:] += v[:-1] * up[:-1]
        nxt[:-1] += v[1:] * down[1:]
        v, nxt = nxt, v
    integral /= big_lambda
    mean_excess = float(reward @ integral)  # integral_0^T E[max(N - c + 1, 0)] dt
    return mean_excess / (horizon * c * mu), top_mass
