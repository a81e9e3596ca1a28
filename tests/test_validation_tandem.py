"""Validation of a network of stages against queueing theory (issue 12).

``pe.scenarios.tandem`` days are simulated through the full model and compared with
closed-form values, never with numbers the simulator produced before:

* a series of M/M/c stations is a Jackson network: by Burke's theorem each station is
  an M/M/c queue at the external arrival rate, so with the warm-up discarded each
  station's mean wait contains Erlang C (``theory.erlang_c_wait``) in a 99 % t-interval
  over independent replications, and the time in system contains the sum of the
  waits and service means; nearby wrong answers (10 % off) lie outside;
* probabilistic routing: the number of visits to a later stage is binomial in the
  number served before, with the route share; Little's law holds per stage (the
  time-average number at the stage, sampled on a grid, against arrival rate times
  mean time there), and a stage visited by a share p is an M/M/c queue at p * lambda;
* conservation: every arrival ends exactly once (served at the last stage of its
  route, or abandoned at one stage);
* direction: more advisors -> shorter advisor waits and better memories for those
  routed to the advisor (paired over common random numbers).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

import peakend as pe
from peakend import theory
from peakend.config import Scenario, deep_merge
from peakend.sim import OverloadWarning

CONFIDENCE = 0.99
BASE_SEED = 20_261_201
LAMBDA = 1.0
STATIONS = ((0.5, 3), (0.4, 4))  # rho 0.667 and 0.625
HOURS = 150.0
WARMUP = 5 * 60.0  # minutes
COOLDOWN = 60.0  # minutes before closing: arrivals stop at closing
REPLICATIONS = 24


def t_interval(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def quiet(s: Scenario, seed: int, engine: str = "simpy") -> pe.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return pe.simulate(s, seed=seed, engine=engine)


#: The theory tests run on both movement engines (each held to the theory on its own).
ENGINES = ("simpy", "compiled")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@functools.cache
def tandem_days(engine: str = "simpy") -> list[pe.Journeys]:
    s = pe.scenarios.tandem(LAMBDA, list(STATIONS), HOURS)
    return [quiet(s, BASE_SEED + r, engine) for r in range(REPLICATIONS)]


def _window(day: pe.Journeys) -> np.ndarray:
    a = day.customers["arrival"]
    return (a >= WARMUP) & (a < HOURS * 60.0 - COOLDOWN)


def station_waits(day: pe.Journeys, k: int) -> float:
    sv = day.stage_visits
    keep = _window(day)[sv["customer"]] & (sv["stage"] == k)
    return float(np.mean(sv["service_start"][keep] - sv["queue_join"][keep]))


@pytest.mark.parametrize("k", [0, 1])
def test_each_station_waits_as_erlang_c(k, engine):
    mu, c = STATIONS[k]
    expected = theory.erlang_c_wait(LAMBDA, mu, c)
    lo, hi = t_interval(np.array([station_waits(d, k) for d in tandem_days(engine)]))
    assert lo <= expected <= hi, (k, lo, expected, hi)
    assert not lo <= 0.9 * expected <= hi and not lo <= 1.1 * expected <= hi


def test_time_in_system_is_the_sum_over_stations(engine):
    expected = sum(theory.erlang_c_wait(LAMBDA, mu, c) + 1 / mu for mu, c in STATIONS)
    per_day = []
    for d in tandem_days(engine):
        c = d.customers
        keep = _window(d)
        per_day.append(np.mean(c["service_end"][keep] - c["arrival"][keep]))
    lo, hi = t_interval(np.array(per_day))
    assert lo <= expected <= hi, (lo, expected, hi)
    assert not lo <= 0.95 * expected <= hi and not lo <= 1.05 * expected <= hi


def test_every_arrival_is_served_once_at_every_station(engine):
    for d in tandem_days(engine)[:3]:
        sv = d.stage_visits
        assert np.all(d.served) and not d.abandoned.any()
        counts = np.bincount(sv["customer"], minlength=len(d))
        np.testing.assert_array_equal(counts, len(STATIONS))
        # FIFO at each station: service starts in queue-join order
        for k in range(len(STATIONS)):
            m = sv["stage"] == k
            order = np.argsort(sv["queue_join"][m], kind="stable")
            assert np.all(np.diff(sv["service_start"][m][order]) >= -1e-9)


# --------------------------------------------------------------------------- routing
SHARE = 0.3
ROUTED: dict[str, Any] = {
    "name": "routed",
    "opening": 0.0,
    "closing": HOURS,
    "first_stage": "teller",
    "arrivals": {"profile": [{"start": 0.0, "rate": 60.0 * LAMBDA}]},
    "business_types": {"b": {"service": {"kind": "exponential", "mean": 2.0}}},
    "segments": {"x": {"share": 1.0, "business_mix": {"b": 1.0}, "noise_sd": 0.0}},
    "counters": {"t": {"tellers": 3}},
    "journey": ["waiting", "service"],
    "stages": {
        "advisor": {
            "counters": {"rm": {"tellers": 2}},
            "service": {"b": {"kind": "exponential", "mean": 4.0}},
        }
    },
    "routes": {"b": {"stages": ["teller", "advisor"], "share": {"advisor": SHARE}}},
}


@functools.cache
def routed_days(engine: str = "simpy") -> list[pe.Journeys]:
    s = Scenario.model_validate(ROUTED)
    return [quiet(s, BASE_SEED + 100 + r, engine) for r in range(REPLICATIONS)]


def test_visit_counts_match_the_route_share(engine):
    served1 = visits = 0
    for d in routed_days(engine):
        sv = d.stage_visits
        served1 += int(((sv["stage"] == 0) & ~np.isnan(sv["service_start"])).sum())
        visits += int((sv["stage"] == 1).sum())
    lo, hi = stats.binom.interval(CONFIDENCE, served1, SHARE)
    assert lo <= visits <= hi, (visits, lo, hi, served1)
    lo2, hi2 = stats.binom.interval(CONFIDENCE, served1, SHARE * 1.05)
    assert not lo2 <= visits <= hi2


def test_a_routed_stage_waits_as_erlang_c_at_its_thinned_rate(engine):
    # a Bernoulli-thinned Poisson departure stream is Poisson at SHARE * lambda
    expected = theory.erlang_c_wait(SHARE * LAMBDA, 0.25, 2)
    lo, hi = t_interval(np.array([station_waits(d, 1) for d in routed_days(engine)]))
    assert lo <= expected <= hi, (lo, expected, hi)


@pytest.mark.parametrize("k", [0, 1])
def test_littles_law_holds_per_stage(k, engine):
    ratios = []
    for d in routed_days(engine):
        sv = d.stage_visits
        m = sv["stage"] == k
        t_in, t_out = sv["queue_join"][m], sv["service_end"][m]
        t0, t1 = WARMUP, HOURS * 60.0 - COOLDOWN
        grid = np.linspace(t0, t1, 4001)
        # number at the stage (waiting or in service) at each grid time
        number = np.searchsorted(np.sort(t_in), grid, "right") - np.searchsorted(
            np.sort(t_out), grid, "right"
        )
        inside = (t_in >= t0) & (t_in < t1)
        rate = inside.sum() / (t1 - t0)
        ratios.append(number.mean() / (rate * np.mean(t_out[inside] - t_in[inside])))
    lo, hi = t_interval(np.array(ratios))
    assert lo <= 1.0 <= hi, (lo, hi)
    assert hi - lo < 0.1


# --------------------------------------------------------------------------- direction
def test_more_advisors_shorten_advisor_waits_and_lift_memories():
    base = dict(ROUTED, closing=8.0, arrivals={"profile": [{"start": 0.0, "rate": 80.0}]})
    base["routes"] = {"b": {"stages": ["teller", "advisor"], "share": {"advisor": 0.4}}}
    base["stages"] = deep_merge(base["stages"], {"advisor": {"counters": {"rm": {"tellers": 2}}}})
    base["journey"] = ["waiting", "service", "farewell"]
    few = Scenario.model_validate(base)
    more = Scenario.model_validate(
        deep_merge(base, {"stages": {"advisor": {"counters": {"rm": {"tellers": 4}}}}})
    )
    d_wait, d_mem = [], []
    for r in range(12):
        a, b = quiet(few, 500 + r), quiet(more, 500 + r)
        # the same customers are routed to the advisor in both (common random numbers)
        ra = a.stage_visits["customer"][a.stage_visits["stage"] == 1]
        rb = b.stage_visits["customer"][b.stage_visits["stage"] == 1]
        np.testing.assert_array_equal(ra, rb)
        d_wait.append(np.mean(b.customers["wait"][rb] - a.customers["wait"][ra]))
        d_mem.append(np.mean(b.customers["remembered"][rb] - a.customers["remembered"][ra]))
    assert t_interval(np.array(d_wait))[1] < 0
    assert t_interval(np.array(d_mem))[0] > 0
