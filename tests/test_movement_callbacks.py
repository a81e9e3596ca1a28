"""The callback-driven SimPy movement gives the generator version's day bit for bit (issue 12).

``peakend.sim.movement.move`` drives SimPy with event callbacks
(``peakend.sim.callbacks``, ``peakend.sim.event_loop``) instead of one generator process
per teller, door, shift plan and closing, and leaves the door's timeouts virtual while no
teller is free, to spend less Python per customer. It must break every tie as before.
``tests/movement_generators.py`` keeps the generator version verbatim; these tests
compare the two with ``np.array_equal`` (NaN equal to NaN, dtypes equal) on hand-built
days full of ties (the Hypothesis strategy of ``tests/test_engine.py``: join times,
service ends and shift changes on a half-minute grid, deterministic services, many
customers at once), on random scenarios through ``simulate`` (groups, disciplines, shift
plans, patience, balking, appointments, closing rules, further stages), and on the
built-in and textbook scenarios.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from movement_generators import move_generators
from test_engine import assert_same_journeys, assert_same_run, quiet_simulate, scenarios, tied_days

import peakend as pe
from peakend.config.models import Scenario
from peakend.sim import callbacks, engine, network
from peakend.sim.callbacks import delay_to
from peakend.sim.movement import move


def generator_simulate(s: Scenario, seed: int) -> pe.Journeys:
    """Simulate a day with the generator version of the movement at every stage."""
    calls: list[int] = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return move_generators(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "mover", lambda engine="simpy": counted)
        mp.setattr(network, "mover", lambda engine="simpy": counted)
        day = quiet_simulate(s, seed, "simpy")
    assert len(calls) == 1 + len(s.stages)  # every stage was moved by the generators
    return day


@settings(max_examples=60)
@given(tied_days())
def test_tied_days_give_the_generator_record(day: tuple[Scenario, tuple[Any, ...]]) -> None:
    s, args = day
    assert_same_run(move(s, *args), move_generators(s, *args))


@st.composite
def plain_tied_days(draw: Any) -> tuple[Scenario, tuple[Any, ...]]:
    """A tied day with one queue, nobody balking or reneging, all in the hall, served at
    closing: the door's short way (``plain`` in ``peakend.sim.event_loop``)."""
    s, (join, _keys, service, _patience, _balk, _hall) = draw(tied_days())
    s = s.model_copy(update={"after_closing": "serve"})
    key = draw(st.sampled_from([0, 1, 6, 23]))  # (segment * 4 + business) * 2 + appointment
    n = join.size
    inf = np.full(n, math.inf)
    return s, (join, np.full(n, key, dtype=np.int64), service, inf, inf, np.ones(n, bool))


@settings(max_examples=60)
@given(plain_tied_days())
def test_plain_tied_days_give_the_generator_record(day: tuple[Scenario, tuple[Any, ...]]) -> None:
    s, args = day
    assert_same_run(move(s, *args), move_generators(s, *args))


@settings(max_examples=15)
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_random_scenarios_give_the_generator_journeys(s: Scenario, seed: int) -> None:
    assert_same_journeys(quiet_simulate(s, seed, "simpy"), generator_simulate(s, seed))


def test_everyone_at_once_and_ties_at_every_event_give_the_generator_record() -> None:
    # 40 customers at minute 0 (the door's start-up hands over and queues at time 0),
    # 5-minute services on two groups, shift changes on service ends, reneging at 15
    d = pe.load_scenario("default_branch").model_dump()
    d["opening"], d["closing"] = 0.0, 1.0
    d["arrivals"] = {"profile": [{"start": 0.0, "rate": 30.0}]}
    d["counters"] = {
        "g0": {"tellers": [{"start": 0.0, "count": 2}, {"start": 0.25, "count": 3}]},
        "g1": {
            "tellers": [{"start": 0.0, "count": 1}, {"start": 0.5, "count": 0}],
            "discipline": "priority",
            "segments": ["vip", "gold"],
            "priority": ["vip", "gold"],
        },
    }
    d["after_closing"] = "dismiss"
    s = Scenario.model_validate(d)
    n = 40
    rng = np.random.default_rng(3)
    join = np.zeros(n)
    join[20:] = np.sort(rng.integers(0, 8, n - 20)) * 5.0
    keys = (rng.integers(0, 3, n) * 4 + rng.integers(0, 4, n)) * 2
    service = np.full(n, 5.0)
    patience = np.where(np.arange(n) % 3 == 0, 15.0, math.inf)
    balk = np.where(np.arange(n) % 4 == 1, 6.0, math.inf)
    args = (join, keys.astype(np.int64), service, patience, balk, np.ones(n, bool))
    a, b = move(s, *args), move_generators(s, *args)
    assert_same_run(a, b)
    # the ties were there: service ends at minutes 5 and 15, reneging at 15, balking
    assert np.sum(a.end == 5.0) >= 2 and np.sum(a.end == 15.0) >= 1
    assert np.any(a.leave == 15.0) and np.any(a.state == 3)


def test_an_empty_day_gives_the_generator_record() -> None:
    s = pe.load_scenario("default_branch")
    z = np.zeros(0)
    args = (z, np.zeros(0, np.int64), z, z, z, np.zeros(0, bool))
    assert_same_run(move(s, *args), move_generators(s, *args))


@pytest.mark.parametrize(
    "s",
    [
        *(pe.load_scenario(name) for name in pe.scenarios.builtin_names()),
        pe.scenarios.mmc(1.8, 0.5, 4, 8),
        pe.scenarios.tandem(1.8, [(0.5, 4), (0.5, 4)], 8),
    ],
    ids=[*pe.scenarios.builtin_names(), "mmc", "tandem"],
)
def test_builtin_and_textbook_scenarios_give_the_generator_journeys(s: Scenario) -> None:
    for seed in range(2):
        assert_same_journeys(quiet_simulate(s, seed, "simpy"), generator_simulate(s, seed))


@settings(max_examples=200)
@given(
    st.floats(0.0, 1e6, allow_nan=False),
    st.floats(0.0, 1e6, allow_nan=False),
)
def test_delay_to_fires_at_the_exact_time(a: float, b: float) -> None:
    at = max(a, b)
    now = max(min(a, b), at / 2)  # the range the door keeps timeouts virtual in
    delay = delay_to(now, at)
    assert delay >= 0.0 and now + delay == at


def test_delay_to_says_when_no_delay_fires_at_the_time() -> None:
    # 1.0810914991307072 lies half an ulp (of 524289.8) off the grid: ties to even skip
    with pytest.raises(RuntimeError, match="no delay"):
        delay_to(1.0810914991307072, 524289.8319713661)


def test_a_busy_day_leaves_most_door_timeouts_virtual(monkeypatch: pytest.MonkeyPatch) -> None:
    # at load 0.9 with 4 tellers most arrivals find every teller busy: their door
    # timeouts are never put in SimPy's heap, and the day is still the generator one's
    s = pe.scenarios.mmc(1.8, 0.5, 4, 8)
    day = pe.simulate(s, 5)
    n = day.n_customers
    made: list[Any] = []
    real_init = callbacks.Then.__init__

    def counting_init(self: Any, env: Any, delay: float, value: Any, callback: Any) -> None:
        made.append(callback.__name__)
        real_init(self, env, delay, value, callback)

    monkeypatch.setattr(callbacks.Then, "__init__", counting_init)
    again = pe.simulate(s, 5)
    assert_same_journeys(day, again)
    assert made.count("free") == n  # one service end per customer served
    assert made.count("door") < 0.5 * n  # most arrivals were virtual
    monkeypatch.undo()
    assert_same_journeys(day, generator_simulate(s, 5))
