"""Built-in scenarios and textbook scenario factories.

The built-in scenarios are TOML files shipped in this package; load them with
:func:`peakend.load_scenario` by name. :func:`mmc` builds a plain M/M/c queue
(optionally with non-preemptive priority classes) for checks against theory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from peakend.config import MAX_CLOCK_HOURS, Scenario, builtin_dir

__all__ = ["builtin_names", "mmc", "tandem"]


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted.

    Returns
    -------
    list of str
        Names accepted by :func:`peakend.load_scenario`.

    Examples
    --------
    >>> from peakend.scenarios import builtin_names
    >>> "default_branch" in builtin_names()
    True
    """
    return sorted(p.stem for p in builtin_dir().glob("*.toml"))


def mmc(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    hours: float,
    class_rates: Sequence[float] | None = None,
) -> Scenario:
    """Build a textbook M/M/c day: Poisson arrivals, exponential service, c servers.

    One queue, first come first served, or non-preemptive priority by the
    order of ``class_rates``; no balking, no reneging, no lobby, lounge or
    farewell. The journey records only the waiting and service episodes.
    Doors open at clock 0:00 and close after ``hours``; customers inside at
    closing are served.

    Parameters
    ----------
    arrival_rate : float
        Total arrival rate lambda, customers per **minute** (> 0).
    service_rate : float
        Service rate mu of one server, customers per minute (> 0); service
        times are exponential with mean ``1 / service_rate`` minutes.
    servers : int
        Number of servers c (1 to 1000).
    hours : float
        Length of the day, hours (> 0, at most 1000: see
        :data:`peakend.config.MAX_CLOCK_HOURS`). Use long days (and discard a
        warm-up) to compare with steady-state formulas.
    class_rates : sequence of float, optional
        Per-class arrival rates, customers per minute, highest priority first.
        They set the class shares (``class_rates / sum(class_rates)``) of the
        total ``arrival_rate``; pass rates that sum to ``arrival_rate``. The
        classes are segments named ``class0``, ``class1``, ... served by one
        non-preemptive priority queue. None (default): one class named
        ``customer`` served first come, first served.

    Returns
    -------
    Scenario
        A validated scenario named ``mmc``.

    Raises
    ------
    ValueError
        If a rate or ``hours`` is not positive, ``hours`` > 1000, ``servers`` is not 1-1000,
        or ``class_rates`` is empty or has a negative entry or a zero sum.

    Examples
    --------
    >>> from peakend.scenarios import mmc
    >>> s = mmc(1.8, 0.5, 4, 8)
    >>> round(s.offered_load(), 3)  # lambda / (c mu)
    0.9
    """
    for name, value in (("arrival_rate", arrival_rate), ("service_rate", service_rate)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: must be a positive finite rate per minute, got {value}")
    if not (math.isfinite(hours) and 0 < hours <= MAX_CLOCK_HOURS):
        raise ValueError(
            f"hours: must be in (0, {MAX_CLOCK_HOURS:g}] (the longest day a scenario may "
            f"have), got {hours}"
        )
    if isinstance(servers, bool) or int(servers) != servers or not 1 <= servers <= 1000:
        raise ValueError(f"servers: must be an integer from 1 to 1000, got {servers}")
    if class_rates is None:
        shares = {"customer": 1.0}
    else:
        rates = [float(r) for r in class_rates]
        if not rates or any(not (math.isfinite(r) and r >= 0) for r in rates) or sum(rates) <= 0:
            raise ValueError(
                f"class_rates: must be a non-empty sequence of rates >= 0 with a positive "
                f"sum, got {list(class_rates)}"
            )
        total = sum(rates)
        shares = {f"class{i}": r / total for i, r in enumerate(rates)}
        # make the shares sum to exactly 1 despite rounding
        last = f"class{len(rates) - 1}"
        shares[last] = 1.0 - sum(v for k, v in shares.items() if k != last)
    segment = {
        "share": 0.0,
        "business_mix": {"service": 1.0},
        "expected_wait": 0.0,
        "noise_sd": 0.0,
    }
    counter: dict[str, object] = {"tellers": int(servers), "quality": {"mean": 5.0, "sd": 0.0}}
    if class_rates is not None:
        counter["discipline"] = "priority"
        counter["priority"] = list(shares)
    data = {
        "name": "mmc",
        "description": (
            f"M/M/c: lambda {arrival_rate}/min, mu {service_rate}/min, c {servers}, "
            f"{hours} h" + ("" if class_rates is None else f", priority classes {list(shares)}")
        ),
        "opening": 0.0,
        "closing": float(hours),
        "arrivals": {"profile": [{"start": 0.0, "rate": 60.0 * float(arrival_rate)}]},
        "segments": {name: {**segment, "share": share} for name, share in shares.items()},
        "business_types": {
            "service": {"service": {"kind": "exponential", "mean": 1.0 / float(service_rate)}}
        },
        "counters": {"servers": counter},
        "journey": ["waiting", "service"],
    }
    return Scenario.model_validate(data)


def tandem(
    arrival_rate: float,
    stages: Sequence[tuple[float, int]],
    hours: float,
) -> Scenario:
    """Build a series of M/M/c stations: Poisson arrivals, exponential service, FIFO.

    Every customer visits every station in order, moving on the moment their service
    ends; no balking, no reneging, no lobby, lounge or farewell; the journey records
    the waiting and service episodes of every station. By Burke's theorem the
    departures of a stable M/M/c station are Poisson, so in steady state station ``k``
    is an M/M/c queue at the arrival rate ``arrival_rate`` (a Jackson network; compare
    with :func:`peakend.theory.erlang_c_wait` per station). Doors open at clock 0:00 and
    close after ``hours``; customers inside at closing are served. The stations are
    named ``station1``, ``station2``, ...; the first is the scenario's first stage
    (counter group ``servers``), the others are ``stages``.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate lambda, customers per **minute** (> 0).
    stages : sequence of (float, int)
        Per station its service rate mu (customers per minute per server, > 0) and its
        number of servers c (1 to 1000); at least one station, at most 50.
    hours : float
        Length of the day, hours (> 0, at most 1000).

    Returns
    -------
    Scenario
        A validated scenario named ``tandem``.

    Raises
    ------
    ValueError
        If a rate or ``hours`` is out of range, ``stages`` is empty or longer than 50,
        or an entry is not a (rate, servers) pair.

    Examples
    --------
    >>> from peakend.scenarios import tandem
    >>> s = tandem(1.0, [(0.5, 3), (0.25, 5)], 8)
    >>> s.stage_names
    ['station1', 'station2']
    """
    pairs = list(stages)
    if not 1 <= len(pairs) <= 50:
        raise ValueError(
            f"stages: must hold 1 to 50 (service_rate, servers) pairs, got {len(pairs)}"
        )
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"stages[{k}]: must be a (service_rate, servers) pair, got {pair!r}")
        rate, servers = pair
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError(
                f"stages[{k}]: service_rate must be a positive finite rate per minute, got {rate}"
            )
        if isinstance(servers, bool) or int(servers) != servers or not 1 <= servers <= 1000:
            raise ValueError(
                f"stages[{k}]: servers must be an integer from 1 to 1000, got {servers}"
            )
    first = mmc(arrival_rate, pairs[0][0], int(pairs[0][1]), hours)
    data = first.model_dump()
    names = [f"station{k + 1}" for k in range(len(pairs))]
    data["name"] = "tandem"
    data["description"] = (
        f"tandem of M/M/c stations: lambda {arrival_rate}/min, (mu, c) = {pairs}, {hours} h"
    )
    data["first_stage"] = names[0]
    data["stages"] = {
        name: {
            "counters": {"servers": {"tellers": int(c), "quality": {"mean": 5.0, "sd": 0.0}}},
            "service": {"service": {"kind": "exponential", "mean": 1.0 / float(mu)}},
        }
        for name, (mu, c) in zip(names[1:], pairs[1:], strict=True)
    }
    data["routes"] = {"service": {"stages": names}} if len(names) > 1 else {}
    return Scenario.model_validate(data)
