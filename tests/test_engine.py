"""The compiled movement engine gives SimPy's record bit for bit (issue 16).

``peakend.sim.compiled.move_compiled`` must return the same ``QueueRun`` as the SimPy
engine ``peakend.sim.movement.move`` for every input: same waits, services, tellers,
abandonments, queue counts and hall series, compared with ``np.array_equal`` (NaN equal
to NaN, dtypes equal). Tested three ways:

* on hand-built days full of ties (join times, service ends and shift changes on a
  half-minute grid, deterministic service, many customers arriving at once), drawn by
  Hypothesis, straight through ``move`` and ``move_compiled``;
* on random scenarios (groups, the four disciplines, shift plans, patience, balking,
  appointments, dismiss or serve at closing, a further stage with routes that may skip
  the first), drawn by Hypothesis, through ``simulate`` with both engines: identical
  Journeys;
* on every built-in scenario for several seeds.

The Hypothesis profile of ``tests/conftest.py`` applies (derandomized under CI); the
example counts are kept small so that the file takes a few seconds.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend.config.models import Scenario
from peakend.sim import compiled
from peakend.sim.compiled import move_compiled
from peakend.sim.disciplines import queue_keys
from peakend.sim.movement import QueueRun, move
from peakend.warnings import PeakendWarning

FIELDS = (
    "state",
    "start",
    "end",
    "leave",
    "teller",
    "queue_seen",
    "queue_ahead",
    "queue_time",
    "queue_length",
)
SEGMENTS = ["vip", "gold", "ordinary"]
BUSINESS = ["deposit", "transfer", "account", "wealth"]


def assert_same_run(a: QueueRun, b: QueueRun) -> None:
    """The two records are the same bit for bit (NaN equal to NaN), dtypes included."""
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f
    assert a.teller_names == b.teller_names
    assert a.teller_group == b.teller_group
    assert a.no_slips == b.no_slips


def assert_same_journeys(a: pe.Journeys, b: pe.Journeys) -> None:
    """Two simulated days are identical: every column of every table, bit for bit."""
    for table in ("customers", "episodes", "queue", "stage_visits"):
        ta, tb = getattr(a, table), getattr(b, table)
        assert list(ta) == list(tb), table
        for col in ta:
            x, y = np.asarray(ta[col]), np.asarray(tb[col])
            assert x.dtype == y.dtype, (table, col)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (table, col)
    assert np.array_equal(a.offsets, b.offsets)
    assert (a.stages, a.segments, a.business_types, a.touchpoints, a.counters) == (
        b.stages,
        b.segments,
        b.business_types,
        b.touchpoints,
        b.counters,
    )
    assert a.meta == b.meta


def quiet_simulate(s: Scenario, seed: int, engine: str) -> pe.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        return pe.simulate(s, seed, engine=engine)


# --------------------------------------------------------------------------- scenarios
def _base(opening: float, closing: float) -> dict[str, Any]:
    d = pe.load_scenario("default_branch").model_dump()
    d["opening"], d["closing"] = opening, closing
    d["arrivals"] = {"profile": [{"start": opening, "rate": 30.0}]}
    return d


@st.composite
def counter_groups(draw: Any, opening: float, closing: float, grid: float) -> dict[str, Any]:
    """One to three counter groups; the first serves everyone (fifo or priority)."""
    n_groups = draw(st.integers(1, 3))
    starts = [opening + grid * i for i in range(round((closing - opening) / grid))]

    def tellers() -> Any:
        if draw(st.booleans()):
            return draw(st.integers(0, 3))
        chosen = sorted(draw(st.sets(st.sampled_from(starts), min_size=1, max_size=4)))
        return [{"start": t, "count": draw(st.integers(0, 3))} for t in chosen]

    groups: dict[str, Any] = {}
    plan = tellers()
    if isinstance(plan, int):
        plan = max(plan, 1)
    elif max(b["count"] for b in plan) == 0:
        plan[-1]["count"] = 1  # validation: some staffed group must serve everyone
    first: dict[str, Any] = {"tellers": plan, "segments": []}
    if draw(st.booleans()):
        first["discipline"] = "priority"
        first["priority"] = draw(st.permutations(SEGMENTS))[: draw(st.integers(1, 3))]
    groups["g0"] = first
    for i in range(1, n_groups):
        discipline = draw(st.sampled_from(["fifo", "priority", "dedicated", "flexible"]))
        segs = sorted(draw(st.sets(st.sampled_from(SEGMENTS), min_size=1, max_size=3)))
        g: dict[str, Any] = {"tellers": tellers(), "discipline": discipline, "segments": segs}
        if discipline == "priority":
            g["priority"] = draw(st.permutations(segs))
        if discipline == "flexible" and draw(st.booleans()):
            g["overflow"] = [x for x in SEGMENTS if x not in segs][:1]
        if draw(st.booleans()):
            g["business"] = sorted(draw(st.sets(st.sampled_from(BUSINESS), min_size=1, max_size=3)))
        groups[f"g{i}"] = g
    return groups


@st.composite
def scenarios(draw: Any) -> Scenario:
    """A random valid day of a branch: groups, disciplines, shifts, patience, balking, stages."""
    d = _base(9.0, 12.0)
    d["arrivals"] = {"profile": [{"start": 9.0, "rate": draw(st.sampled_from([10, 30, 60]))}]}
    d["counters"] = draw(counter_groups(9.0, 12.0, 0.5))
    d["after_closing"] = draw(st.sampled_from(["serve", "dismiss"]))
    for x in SEGMENTS:
        seg = d["segments"][x]
        seg["balk_queue"] = draw(st.one_of(st.none(), st.integers(0, 6)))
        seg["renege"] = draw(
            st.sampled_from(
                [
                    None,
                    {"kind": "deterministic", "value": 10.0},
                    {"kind": "lognormal", "mean": 15.0, "sd": 8.0},
                ]
            )
        )
        seg["appointment_share"] = draw(st.sampled_from([0.0, 0.3]))
    if draw(st.booleans()):  # deterministic service everywhere: ties at service ends
        value = draw(st.sampled_from([2.0, 5.0]))
        for b in BUSINESS:
            d["business_types"][b]["service"] = {"kind": "deterministic", "value": value}
    if draw(st.booleans()):
        d["lobby"]["managers"] = 0
    if draw(st.booleans()):
        d["first_stage"] = "counter"
        d["stages"] = {
            "desk": {
                "counters": draw(counter_groups(9.0, 12.0, 1.0)),
                "service": {b: {"kind": "deterministic", "value": 3.0} for b in BUSINESS},
                "patience_scale": 0.5,
            }
        }
        share = draw(st.sampled_from([0.3, 1.0]))
        first_share = 1.0 if share < 1.0 else draw(st.sampled_from([0.5, 1.0]))
        d["routes"] = {
            b: {"stages": ["counter", "desk"], "share": {"counter": first_share, "desk": share}}
            for b in BUSINESS
        }
    return Scenario.model_validate(d)


@st.composite
def tied_days(draw: Any) -> tuple[Scenario, tuple[Any, ...]]:
    """One stage's input built to have ties: everything on a half-minute grid."""
    d = _base(0.0, 1.0)  # one hour, clock 0:00: shift starts of 0.25 h are 15.0 minutes
    d["counters"] = draw(counter_groups(0.0, 1.0, 0.25))
    d["after_closing"] = draw(st.sampled_from(["serve", "dismiss"]))
    s = Scenario.model_validate(d)
    n = draw(st.integers(0, 60))
    join = np.sort(np.array(draw(st.lists(st.integers(0, 150), min_size=n, max_size=n)))) * 0.5
    seg = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    bus = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    appt = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    keys = queue_keys(seg, bus, appt, len(BUSINESS))
    grid = st.sampled_from([0.5, 1.0, 2.0, 5.0, 15.0])
    service = np.array(draw(st.lists(grid, min_size=n, max_size=n)), dtype=float)
    if draw(st.booleans()):
        service = service + np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    inf = st.just(math.inf)
    patience = np.array(draw(st.lists(st.one_of(inf, grid), min_size=n, max_size=n)), float)
    balk = np.array(
        draw(st.lists(st.one_of(inf, st.integers(0, 4).map(float)), min_size=n, max_size=n)),
        dtype=float,
    )
    hall = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return s, (join, keys, service, patience, balk, hall)


# --------------------------------------------------------------------------- tests
@settings(max_examples=60)
@given(tied_days())
def test_tied_days_give_the_same_record(day: tuple[Scenario, tuple[Any, ...]]) -> None:
    s, args = day
    assert_same_run(move(s, *args), move_compiled(s, *args))


@settings(max_examples=20)
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_random_scenarios_give_the_same_journeys(s: Scenario, seed: int) -> None:
    assert_same_journeys(quiet_simulate(s, seed, "simpy"), quiet_simulate(s, seed, "compiled"))


def test_everyone_at_once_with_a_shift_change_at_every_service_end() -> None:
    # 40 customers at minute 0, 5-minute services, two tellers, a third teller on at
    # minute 15 and one off at 30: every shift change coincides with service ends
    d = _base(0.0, 1.0)
    d["counters"] = {
        "g0": {
            "tellers": [
                {"start": 0.0, "count": 2},
                {"start": 0.25, "count": 3},
                {"start": 0.5, "count": 1},
            ]
        },
    }
    s = Scenario.model_validate(d)
    n = 40
    join = np.zeros(n)
    keys = queue_keys(np.full(n, 2), np.zeros(n, dtype=np.int64), np.zeros(n, bool), 4)
    service = np.full(n, 5.0)
    patience = np.where(np.arange(n) % 3 == 0, 15.0, math.inf)
    args = (join, keys, service, patience, np.full(n, math.inf), np.ones(n, bool))
    a, b = move(s, *args), move_compiled(s, *args)
    assert_same_run(a, b)
    # the ties were there: several service ends at minute 15 and 30, and reneging at 15
    assert np.sum(a.end == 15.0) >= 2 and np.sum(a.end == 30.0) >= 1
    assert np.any(a.leave == 15.0)


def test_an_empty_day_gives_the_same_record() -> None:
    s = pe.load_scenario("default_branch")
    z = np.zeros(0)
    args = (z, np.zeros(0, np.int64), z, z, z, np.zeros(0, bool))
    assert_same_run(move(s, *args), move_compiled(s, *args))


@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_builtin_scenarios_give_the_same_journeys(name: str) -> None:
    s = pe.load_scenario(name)
    for seed in range(3):
        assert_same_journeys(quiet_simulate(s, seed, "simpy"), quiet_simulate(s, seed, "compiled"))


@pytest.mark.parametrize(
    "s",
    [
        pe.scenarios.mmc(1.8, 0.5, 4, 8),
        pe.scenarios.mmc(1.6, 0.5, 4, 8, class_rates=[0.3, 0.5, 0.8]),
        pe.scenarios.tandem(1.0, [(0.5, 3), (0.25, 5)], 8),
    ],
    ids=["mmc", "mmc-priority", "tandem"],
)
def test_textbook_scenarios_give_the_same_journeys(s: Scenario) -> None:
    for seed in range(3):
        assert_same_journeys(quiet_simulate(s, seed, "simpy"), quiet_simulate(s, seed, "compiled"))


# --------------------------------------------------------------------------- the argument
@pytest.mark.parametrize("bad", ["numba", "SimPy", "", None, 1])
def test_a_bad_engine_is_a_clear_error_before_simulating(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"engine: must be one of 'simpy', 'compiled', 'auto'"):
        pe.simulate(pe.scenarios.mmc(1.0, 0.5, 2, 1), 0, engine=bad)


def _hide_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # "import numba" raises ImportError


def test_compiled_without_numba_names_the_fast_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_numba(monkeypatch)
    called = []
    monkeypatch.setattr("peakend.sim.model.draw_day", lambda *a: called.append(a))
    with pytest.raises(ImportError, match=r'pip install "peakend\[fast\]"'):
        pe.simulate(pe.scenarios.mmc(1.0, 0.5, 2, 1), 0, engine="compiled")
    assert called == []  # raised before any simulation


def test_auto_without_numba_falls_back_to_simpy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert compiled.resolve_engine("auto") == "compiled"
    _hide_numba(monkeypatch)
    assert compiled.resolve_engine("auto") == "simpy"
    s = pe.scenarios.mmc(1.0, 0.5, 2, 1)
    assert_same_journeys(quiet_simulate(s, 3, "auto"), quiet_simulate(s, 3, "simpy"))
