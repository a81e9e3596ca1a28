"""The model means what the docs say: priority levels, loss systems, the queue ahead (issue 11).

Validation against closed-form theory with confidence intervals (never against numbers the
simulator produced), each also asserting that a nearby *wrong* answer -- the behaviour
before the fix -- falls outside the interval.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from scipy import stats

import peakend as pe
from peakend import theory
from peakend.config import Scenario, deep_merge
from peakend.sim import OverloadWarning

CONFIDENCE = 0.99
BASE_SEED = 20_261_201


def variant(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def days(scenario: Scenario, n: int, salt: int) -> list[pe.Journeys]:
    children = np.random.SeedSequence([BASE_SEED, salt]).spawn(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return [pe.simulate(scenario, seed=child) for child in children]


def t_interval(samples: Any) -> tuple[float, float, float]:
    x = np.asarray(samples, dtype=float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------- priority levels
# three classes, priority = ["class0"]: class1 and class2 share one first-come level
RATES = (0.3, 0.5, 0.8)
MU, SERVERS, HOURS = 0.5, 4, 40.0
WARMUP, COOLDOWN = 5 * 60.0, 2 * 60.0
N_DAYS = 24


def priority_scenario(order: list[str]) -> Scenario:
    base = pe.scenarios.mmc(sum(RATES), MU, SERVERS, HOURS, class_rates=list(RATES))
    return variant(base, {"counters": {"servers": {"priority": order}}})


@functools.cache
def class_waits(order: tuple[str, ...]) -> list[tuple[float, float, float]]:
    """Per-class mean wait intervals (steady state, warm-up and cool-down dropped)."""
    per_class: list[list[float]] = [[] for _ in RATES]
    for day in days(priority_scenario(list(order)), N_DAYS, salt=len(order)):
        c = day.customers
        keep = (c["arrival"] >= WARMUP) & (c["arrival"] <= 60 * HOURS - COOLDOWN)
        for k in range(len(RATES)):
            m = keep & (c["segment"] == day.segments.index(f"class{k}"))
            per_class[k].append(c["wait"][m].mean())
    return [t_interval(w) for w in per_class]


def test_unlisted_segments_share_one_level_after_the_listed_ones():
    """priority = ["class0"]: class0 first, then class1 and class2 first come, first served,
    which is Cobham's two-class queue with rates (r0, r1 + r2)."""
    found = class_waits(("class0",))
    two = theory.priority_waits([RATES[0], RATES[1] + RATES[2]], MU, SERVERS)
    expected = [two[0], two[1], two[1]]
    for k, (mean, lo, hi) in enumerate(found):
        assert lo <= expected[k] <= hi, (k, mean, lo, hi, expected[k])
    # the old reading (every segment its own level, in table order) is rejected
    three = theory.priority_waits(list(RATES), MU, SERVERS)
    for k in (1, 2):
        assert not found[k][1] <= three[k] <= found[k][2], (k, found[k], three[k])


def test_listing_every_segment_differs_from_listing_one():
    """["class0"] and ["class0", "class1", "class2"] give different waits to class1 (the
    built-in vip_priority policy no longer puts gold ahead of ordinary)."""
    one = class_waits(("class0",))
    every = class_waits(("class0", "class1", "class2"))
    three = theory.priority_waits(list(RATES), MU, SERVERS)
    for k in range(3):
        assert every[k][1] <= three[k] <= every[k][2], (k, every[k], three[k])
    assert every[1][2] < one[1][1]  # class1 waits less when it is listed above class2


def test_vip_priority_policy_treats_gold_and_ordinary_alike():
    branch = pe.load_scenario("default_branch")
    policy = {p.name: p for p in pe.experiment.load_policies("default_branch")}["vip_priority"]
    s = policy.apply(branch)
    listed = variant(s, {"counters": {"general": {"priority": ["vip", "gold", "ordinary"]}}})
    a, b = days(s, 1, salt=7)[0], days(listed, 1, salt=7)[0]
    gold = a.segments.index("gold")
    # same customers (common random numbers), but gold no longer jumps the ordinary queue
    np.testing.assert_array_equal(a.customers["arrival"], b.customers["arrival"])
    assert not np.array_equal(a.customers["wait"], b.customers["wait"])
    g = a.customers["segment"] == gold
    assert b.customers["wait"][g].mean() < a.customers["wait"][g].mean()


# --------------------------------------------------------------------------- loss system
LAM, LOSS_MU, LOSS_C, LOSS_HOURS, LOSS_WARMUP = 1.6, 0.5, 4, 20.0, 60.0


@functools.cache
def loss_days() -> list[pe.Journeys]:
    s = pe.scenarios.mmc(LAM, LOSS_MU, LOSS_C, LOSS_HOURS)
    return days(variant(s, {"segments": {"customer": {"balk_queue": 0}}}), 20, salt=11)


def test_balk_queue_zero_is_an_erlang_b_loss_system():
    """balk_queue = 0: leave only if no server is free. By PASTA the share of arrivals
    lost is Erlang B at the offered load lambda / mu."""
    shares = []
    for day in loss_days():
        c = day.customers
        keep = c["arrival"] >= LOSS_WARMUP
        shares.append(c["balked"][keep].mean())
        # nobody waits in a loss system, and nobody leaves while a server is free
        assert np.all(c["wait"] == 0.0)
        assert np.all(c["queue_ahead"] == 0)
    mean, lo, hi = t_interval(shares)
    b = theory.erlang_b(LAM / LOSS_MU, LOSS_C)
    assert lo <= b <= hi, (mean, lo, hi, b)
    # not everyone (the old behaviour), and not Erlang C's probability of waiting either
    assert hi < 1.0
    assert not lo <= theory.erlang_c(LAM, LOSS_MU, LOSS_C) <= hi
    assert not lo <= theory.erlang_b(LAM / LOSS_MU, LOSS_C + 1) <= hi


def test_every_balker_in_a_loss_system_found_all_servers_busy():
    day = loss_days()[0]
    c = day.customers
    served = c["counter"] >= 0
    starts, ends = c["service_start"][served], c["service_end"][served]
    for t in c["arrival"][c["balked"]][:200]:
        busy = np.sum((starts <= t) & (ends > t))
        assert busy == LOSS_C


# --------------------------------------------------------------------------- the queue ahead
def two_window_branch(**changes: Any) -> Scenario:
    """Ordinary customers at a FIFO desk; gold at its own window: each has its own queue."""
    data: dict[str, Any] = {
        "name": "two windows",
        "opening": "09:00",
        "closing": "12:00",
        "arrivals": {"profile": [{"start": "09:00", "rate": 50}]},
        "segments": {
            "ordinary": {"share": 0.5, "business_mix": {"cash": 1.0}, "balk_queue": 4},
            "gold": {"share": 0.5, "business_mix": {"cash": 1.0}},
        },
        "business_types": {"cash": {"service": {"kind": "deterministic", "value": 3.0}}},
        "counters": {
            "desk": {"tellers": 1, "segments": ["ordinary"], "discipline": "dedicated"},
            "gold": {"tellers": 1, "segments": ["gold"], "discipline": "dedicated"},
        },
        "journey": ["waiting", "service"],
    }
    return Scenario.model_validate(deep_merge(data, changes))


def test_balking_looks_at_the_queue_ahead_not_the_whole_hall():
    day = days(two_window_branch(), 1, salt=13)[0]
    c = day.customers
    ordinary = c["segment"] == day.segments.index("ordinary")
    balked = c["balked"]
    assert balked.any()
    assert np.all(c["queue_ahead"][balked] >= 4)
    assert np.all(c["queue_ahead"][ordinary & ~balked] < 4)
    # the gold queue is in the hall too: somebody balked with a short queue ahead and a
    # long hall (the old rule compared with the hall and would have sent more away)
    assert np.any(c["queue_on_arrival"][ordinary & ~balked] >= 4)


def test_queue_ahead_counts_the_higher_priority_levels():
    """In a priority queue the queue ahead of a low-priority customer includes the waiting
    high-priority customers; that of a high-priority customer excludes the low ones."""
    s = pe.scenarios.mmc(1.8, 0.5, 3, 6, class_rates=[0.6, 1.2])
    day = days(s, 1, salt=17)[0]
    c = day.customers
    hi = c["segment"] == day.segments.index("class0")
    assert np.all(c["queue_ahead"] <= c["queue_on_arrival"])
    assert np.all(c["queue_ahead"][~hi] == c["queue_on_arrival"][~hi])
    assert np.any(c["queue_ahead"][hi] < c["queue_on_arrival"][hi])
