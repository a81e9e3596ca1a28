"""The movement of a chunk of days (issue 16): each day's record that of the day alone, bit for bit.

``peakend.sim.engine.run_days`` computes the moments before the queue of all the days of
a chunk at once and, with the compiled engine, moves every day in one kernel call
(``peakend.sim.compiled.move_days_compiled``). Each day's slice of its record must equal
``run_day`` on that day alone, field by field (``np.array_equal``, NaN equal to NaN,
dtypes equal), with both engines. Tested on random scenarios and chunks of 1 to 40 days
(empty days and days with one customer included), on chunks of hand-built days full of
ties, and on every built-in scenario with its policies.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import BUSINESS, _base, counter_groups

import peakend as pe
from peakend.config.models import Scenario
from peakend.experiment import load_policies
from peakend.experiment._policy import builtin_policy_sets
from peakend.experiment._tasks import replication_seed
from peakend.sim.disciplines import queue_keys
from peakend.sim.draws import day_draws, draw_days
from peakend.sim.engine import DayRun, DaysRun, _join_order, run_day, run_days
from peakend.sim.movement import QueueRun, move

HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")
ENGINES = ["simpy", pytest.param("compiled", marks=needs_numba)]

PER_CUSTOMER = (
    "join", "greeted", "lounge", "state", "start", "end", "leave", "teller", "queue_seen",
    "queue_ahead",
)
QUEUE_FIELDS = ("state", "start", "end", "leave", "teller", "queue_seen", "queue_ahead")


def same(x: np.ndarray, y: np.ndarray, what: str) -> None:
    assert x.dtype == y.dtype, what
    assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), what


def assert_days_match(s: Scenario, draws: Any, bounds: np.ndarray, engine: str) -> DaysRun:
    """``run_days`` gives, per day, the record of ``run_day`` on that day alone."""
    moved = run_days(s, draws, bounds, engine=engine)
    run = moved.run
    n_days = bounds.size - 1
    assert len(moved.no_slips) == n_days and moved.q_bounds.size == n_days + 1
    assert run.order.size == bounds[-1]
    for d in range(n_days):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        q0, q1 = int(moved.q_bounds[d]), int(moved.q_bounds[d + 1])
        alone: DayRun = run_day(s, day_draws(draws, bounds, d), engine=engine)
        same(run.order[lo:hi] - lo, alone.order.astype(run.order.dtype), f"day {d}: order")
        for f in PER_CUSTOMER:
            same(getattr(run, f)[lo:hi], getattr(alone, f), f"day {d}: {f}")
        same(run.queue_time[q0:q1], alone.queue_time, f"day {d}: queue_time")
        same(run.queue_length[q0:q1], alone.queue_length, f"day {d}: queue_length")
        assert moved.no_slips[d] == alone.no_slips, f"day {d}: no_slips"
        assert run.teller_names == alone.teller_names
        assert run.teller_group == alone.teller_group
    return moved


# --------------------------------------------------------------------------- strategies
@st.composite
def chunk_scenarios(draw: Any) -> Scenario:
    """A random valid branch without further stages; low rates give empty days."""
    d = _base(9.0, 12.0)
    rate = draw(st.sampled_from([0.3, 1.0, 10.0, 30.0, 60.0]))
    d["arrivals"] = {"profile": [{"start": 9.0, "rate": rate}]}
    d["counters"] = draw(counter_groups(9.0, 12.0, 0.5))
    d["after_closing"] = draw(st.sampled_from(["serve", "dismiss"]))
    for x in d["segments"]:
        seg = d["segments"][x]
        seg["balk_queue"] = draw(st.one_of(st.none(), st.integers(0, 6)))
        seg["renege"] = draw(
            st.sampled_from(
                [None, {"kind": "deterministic", "value": 10.0},
                 {"kind": "lognormal", "mean": 15.0, "sd": 8.0}]
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
        d["lobby"]["managers"] = [{"start": 9.0, "count": 1}, {"start": 10.0, "count": 2}]
    return Scenario.model_validate(d)


@st.composite
def tied_chunks(draw: Any) -> tuple[Scenario, np.ndarray, tuple[np.ndarray, ...]]:
    """One stage's input for 1 to 8 days, each on a half-minute grid (ties everywhere)."""
    d = _base(0.0, 1.0)
    d["counters"] = draw(counter_groups(0.0, 1.0, 0.25))
    d["after_closing"] = draw(st.sampled_from(["serve", "dismiss"]))
    s = Scenario.model_validate(d)
    grid = st.sampled_from([0.5, 1.0, 2.0, 5.0, 15.0])
    inf = st.just(math.inf)
    days = []
    for _ in range(draw(st.integers(1, 8))):
        n = draw(st.sampled_from([0, 1, draw(st.integers(0, 40))]))

        def ints(lo: int, hi: int, n: int = n) -> np.ndarray:
            return np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))

        join = np.sort(ints(0, 150)) * 0.5
        if n and draw(st.booleans()):
            join = np.full(n, join[0])  # everyone at once
        keys = queue_keys(ints(0, 2).astype(np.int64), ints(0, 3).astype(np.int64),
                          ints(0, 1).astype(bool), len(BUSINESS))
        service = np.array(draw(st.lists(grid, min_size=n, max_size=n)), dtype=float)
        patience = np.array(draw(st.lists(st.one_of(inf, grid), min_size=n, max_size=n)), float)
        balk = np.array(
            draw(st.lists(st.one_of(inf, st.integers(0, 4).map(float)), min_size=n, max_size=n)),
            dtype=float,
        )
        hall = ints(0, 1).astype(bool)
        days.append((join.astype(float), keys, service, patience, balk, hall))
    bounds = np.zeros(len(days) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([x[0].size for x in days])
    cols = tuple(np.concatenate([x[i] for x in days]) for i in range(6))
    return s, bounds, cols


# --------------------------------------------------------------------------- tests
@settings(max_examples=40, deadline=None)
@given(chunk_scenarios(), st.integers(0, 2**32 - 1), st.integers(1, 40))
@pytest.mark.parametrize("engine", ENGINES)
def test_random_chunks_give_each_day_alone(
    engine: str, s: Scenario, seed: int, n_days: int
) -> None:
    seeds = [replication_seed(seed, r) for r in range(n_days)]
    draws, bounds = draw_days(s, seeds)
    assert_days_match(s, draws, bounds, engine)


@needs_numba
def test_sparse_chunks_have_empty_and_one_customer_days() -> None:
    d = _base(9.0, 12.0)
    d["arrivals"] = {"profile": [{"start": 9.0, "rate": 0.4}]}
    s = Scenario.model_validate(d)
    draws, bounds = draw_days(s, list(range(40)))
    sizes = np.diff(bounds)
    assert (sizes == 0).any() and (sizes == 1).any()  # the edge cases are there
    for engine in ("simpy", "compiled"):
        assert_days_match(s, draws, bounds, engine)


@needs_numba
def test_a_chunk_of_only_empty_days() -> None:
    d = _base(9.0, 9.1)
    d["arrivals"] = {"profile": [{"start": 9.0, "rate": 0.001}]}
    s = Scenario.model_validate(d)
    draws, bounds = draw_days(s, [1, 2, 3])
    assert bounds[-1] == 0
    for engine in ("simpy", "compiled"):
        moved = assert_days_match(s, draws, bounds, engine)
        assert moved.no_slips == (False, False, False)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(tied_chunks())
def test_tied_chunks_move_as_each_day_alone(chunk: Any) -> None:
    from peakend.sim.compiled import move_compiled, move_days_compiled

    s, bounds, cols = chunk
    run, q_bounds, no_slips = move_days_compiled(s, bounds, *cols)
    for d in range(bounds.size - 1):
        r = slice(int(bounds[d]), int(bounds[d + 1]))
        q = slice(int(q_bounds[d]), int(q_bounds[d + 1]))
        day = tuple(c[r] for c in cols)
        for alone in (move(s, *day), move_compiled(s, *day)):
            assert isinstance(alone, QueueRun)
            for f in QUEUE_FIELDS:
                same(getattr(run, f)[r], getattr(alone, f), f"day {d}: {f}")
            same(run.queue_time[q], alone.queue_time, f"day {d}: queue_time")
            same(run.queue_length[q], alone.queue_length, f"day {d}: queue_length")
            assert no_slips[d] == alone.no_slips
            assert run.teller_names == alone.teller_names


@st.composite
def fifo_chunks(draw: Any) -> tuple[Scenario, np.ndarray, tuple[np.ndarray, ...]]:
    """Days of one queue key each, nobody reneging or balking, no shift change after 0."""
    d = _base(0.0, 1.0)
    tellers = draw(st.one_of(st.integers(1, 5), st.integers(1, 5).map(
        lambda k: [{"start": 0.0, "count": k}])))
    d["counters"] = {"g0": {"tellers": tellers}}
    if draw(st.booleans()):  # a second group, for the vip only: another key's only server
        d["counters"]["g1"] = {"tellers": draw(st.integers(1, 2)), "discipline": "dedicated",
                               "segments": ["vip"]}
    d["after_closing"] = draw(st.sampled_from(["serve", "dismiss"]))
    s = Scenario.model_validate(d)
    grid = st.sampled_from([0.5, 1.0, 2.0, 5.0, 15.0])
    days = []
    for _ in range(draw(st.integers(1, 8))):
        n = draw(st.sampled_from([0, 1, draw(st.integers(0, 60))]))
        join = np.sort(np.array(draw(st.lists(st.integers(0, 150), min_size=n, max_size=n))))
        join = join * 0.5
        if n and draw(st.booleans()):
            join = np.full(n, join[0])  # everyone at once
        key = queue_keys(np.array([draw(st.integers(1, 2))]), np.array([draw(st.integers(0, 3))]),
                         np.array([draw(st.booleans())]), len(BUSINESS))[0]
        service = np.array(draw(st.lists(grid, min_size=n, max_size=n)), dtype=float)
        if draw(st.booleans()):
            service = service + np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
        hall = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        days.append((join.astype(float), np.full(n, key, dtype=np.int64), service,
                     np.full(n, math.inf), np.full(n, math.inf), hall))
    bounds = np.zeros(len(days) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([x[0].size for x in days])
    cols = tuple(np.concatenate([x[i] for x in days]) for i in range(6))
    return s, bounds, cols


@needs_numba
@settings(max_examples=80, deadline=None)
@given(fifo_chunks())
def test_one_queue_days_take_the_short_way_with_the_same_record(chunk: Any) -> None:
    # the kernel's short way for one first-come queue (_move_fifo) against SimPy's move
    # and the kernel's general loop (_move_day), day by day, ties everywhere
    from peakend.sim.compiled import _packed, move_days_compiled
    from peakend.sim.compiled._fifo import _fifo_day

    s, bounds, cols = chunk
    run, q_bounds, no_slips = move_days_compiled(s, bounds, *cols)
    arrays = _packed(s, None).arrays
    for d in range(bounds.size - 1):
        r = slice(int(bounds[d]), int(bounds[d + 1]))
        q = slice(int(q_bounds[d]), int(q_bounds[d + 1]))
        day = tuple(c[r] for c in cols)
        if day[0].size:  # the short way is taken
            assert _fifo_day(day[1], day[3], day[4], arrays[0], arrays[2], arrays[3],
                             arrays[10], arrays[13]) >= 0
        alone = move(s, *day)
        for f in QUEUE_FIELDS:
            same(getattr(run, f)[r], getattr(alone, f), f"day {d}: {f}")
        same(run.queue_time[q], alone.queue_time, f"day {d}: queue_time")
        same(run.queue_length[q], alone.queue_length, f"day {d}: queue_length")
        assert no_slips[d] == alone.no_slips


@needs_numba
def test_a_key_outside_the_plan_moves_day_by_day() -> None:
    # a key no counter group serves (the plan over the servable keys does not cover it):
    # the days go one by one through move_compiled, with the same records
    from peakend.sim.compiled import move_compiled, move_days_compiled

    d = _base(0.0, 1.0)
    d["counters"] = {"g0": {"tellers": 2}}
    s = Scenario.model_validate(d)
    n = 6
    join = np.arange(n, dtype=float)
    keys = np.zeros(n, dtype=np.int64)
    keys[3] = 1000  # outside every plan: refused like a day alone
    cols = (join, keys, np.full(n, 2.0), np.full(n, math.inf), np.full(n, math.inf),
            np.ones(n, bool))
    bounds = np.array([0, 3, 6], dtype=np.int64)
    with pytest.raises(Exception) as chunk_error:
        move_days_compiled(s, bounds, *cols)
    with pytest.raises(Exception) as alone_error:
        move_compiled(s, *(c[3:] for c in cols))
    assert type(chunk_error.value) is type(alone_error.value)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 6), max_size=12), min_size=1, max_size=6),
    st.booleans(),
)
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_the_join_order_is_each_days_stable_argsort(
    compiled: bool, days: list[list[int]], halves: bool
) -> None:
    # small integers: many equal join times within a day and across days
    join = np.array([v for x in days for v in x], dtype=float) * (0.5 if halves else 1.0)
    bounds = np.zeros(len(days) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([len(x) for x in days])
    got, kept = _join_order(join, bounds, compiled)
    assert got.dtype == np.int64
    want = [np.argsort(join[bounds[d] : bounds[d + 1]], kind="stable") + bounds[d]
            for d in range(len(days))]
    assert np.array_equal(got, np.concatenate(want).astype(np.int64))
    assert kept == bool(np.array_equal(got, np.arange(join.size)))


def _builtin_cases() -> list[Any]:
    cases = []
    for name in pe.scenarios.builtin_names():
        s = pe.load_scenario(name)
        if s.stages:
            continue  # further stages: simulate_days goes day by day (test_many_days)
        cases.append(pytest.param(name, None, id=name))
        if name in builtin_policy_sets():
            for p in load_policies(name, s):
                if not p.apply(s).stages:
                    cases.append(pytest.param(name, p.name, id=f"{name}-{p.name}"))
    return cases


@needs_numba
@pytest.mark.parametrize(("name", "policy"), _builtin_cases())
def test_builtin_scenarios_and_policies_give_each_day_alone(name: str, policy: str | None) -> None:
    s = pe.load_scenario(name)
    if policy is not None:
        s = next(p for p in load_policies(name, s) if p.name == policy).apply(s)
    s = Scenario.model_validate_json(s.model_dump_json())  # as run's workers hold it
    seeds = [replication_seed(7, r) for r in range(12)]
    draws, bounds = draw_days(s, seeds)
    for engine in ("simpy", "compiled"):
        assert_days_match(s, draws, bounds, engine)


@needs_numba
@pytest.mark.parametrize(
    "s",
    [
        pe.scenarios.mmc(1.8, 0.5, 4, 8),
        pe.scenarios.mmc(1.6, 0.5, 4, 8, class_rates=[0.3, 0.5, 0.8]),
        pe.scenarios.mmc(0.4, 0.5, 1, 2),
    ],
    ids=["mmc", "mmc-priority", "mm1"],
)
def test_textbook_scenarios_give_each_day_alone(s: Scenario) -> None:
    s = Scenario.model_validate_json(s.model_dump_json())
    draws, bounds = draw_days(s, [replication_seed(3, r) for r in range(6)])
    for engine in ("simpy", "compiled"):
        moved = assert_days_match(s, draws, bounds, engine)
    if len(s.segments) == 1 and not any(x.renege for x in s.segments.values()):
        assert all(moved.no_slips)  # one queue, nobody reneges
