"""Many days per call (issue 16): the chunk path gives the days of one day at a time, bit for bit.

``peakend.sim.batch.simulate_days`` builds the experience of several days at once; every
day it returns must be identical (every column of every table, dtypes, offsets, names,
meta) to ``simulate_validated`` of that day's seed alone, with either engine, and
``run`` must give identical ``Results`` whatever the chunking, the workers or a
checkpoint interrupted and resumed. The compiled cases skip only where numba is missing
and fail under ``CI=true`` instead.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import assert_same_journeys, scenarios

import peakend as pe
from peakend.config.models import Scenario
from peakend.experiment import load_policies
from peakend.experiment._tasks import replication_seed
from peakend.sim.batch import simulate_days
from peakend.sim.model import overload_message, simulate_validated
from peakend.warnings import PeakendWarning

HAS_NUMBA = importlib.util.find_spec("numba") is not None


def test_ci_has_numba() -> None:
    """The compiled cases skip only where numba is missing; CI installs it (the test extra)."""
    if os.environ.get("CI"):
        assert HAS_NUMBA, 'CI must install ".[test]", which includes numba'


ENGINES = [
    "simpy",
    pytest.param("compiled", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")),
]


def fresh(s: Scenario) -> Scenario:
    """The scenario as run's workers hold it: validated from its JSON text."""
    return Scenario.model_validate_json(s.model_dump_json())


def per_day(s: Scenario, seed: Any, engine: str) -> tuple[pe.Journeys, str | None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        day = simulate_validated(s, seed, engine=engine)
    messages = [str(w.message) for w in caught if issubclass(w.category, PeakendWarning)]
    return day, messages[0] if messages else None


def assert_same_days(s: Scenario, seeds: list[Any], engine: str) -> None:
    got = simulate_days(s, seeds, engine)
    assert len(got) == len(seeds)
    for seed, (day, message) in zip(seeds, got, strict=True):
        ref, ref_message = per_day(s, seed, engine)
        assert_same_journeys(day, ref)
        assert message == ref_message


# --------------------------------------------------------------------------- built-in scenarios
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_every_builtin_scenario_and_policy_gives_the_days_of_one_at_a_time(
    name: str, engine: str
) -> None:
    base = pe.load_scenario(name)
    try:
        policies = load_policies(name, base)
    except (FileNotFoundError, KeyError, ValueError):
        policies = []
    variants = [base] + [p.apply(base) for p in policies]
    seeds = [replication_seed(11, r) for r in range(3)]
    for s in variants:
        assert_same_days(fresh(s), seeds, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_overloaded_chunk_has_each_days_own_warning(engine: str) -> None:
    s = fresh(pe.scenarios.mmc(3.5, 0.5, 4, 4))  # load 1.75: every day overruns closing
    got = simulate_days(s, [0, 1, 2], engine)
    assert all(m is not None and "overloaded" in m for _, m in got)
    assert len({m for _, m in got}) > 1  # each message has its own day's figures
    assert_same_days(s, [0, 1, 2], engine)


# --------------------------------------------------------------------------- random scenarios
@pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")
@settings(max_examples=12, deadline=None)
@given(s=scenarios(), first=st.integers(0, 10_000), size=st.integers(1, 5))
def test_random_scenarios_and_chunk_sizes_give_identical_days(
    s: Scenario, first: int, size: int
) -> None:
    seeds = [replication_seed(first, r) for r in range(size)]
    assert_same_days(fresh(s), seeds, "compiled" if first % 2 else "simpy")


# --------------------------------------------------------------------------- edge cases
def _quiet_day_scenario() -> Scenario:
    d = pe.load_scenario("default_branch").model_dump()
    d["arrivals"] = {"profile": [{"start": d["opening"], "rate": 0.15}]}  # about one a day
    return fresh(Scenario.model_validate(d))


@pytest.mark.parametrize("engine", ENGINES)
def test_days_with_nobody_and_days_with_nobody_served(engine: str) -> None:
    s = _quiet_day_scenario()
    sizes = [len(per_day(s, seed, engine)[0]) for seed in range(40)]
    empty = [seed for seed, n in enumerate(sizes) if n == 0]
    busy = [seed for seed, n in enumerate(sizes) if n > 0]
    assert empty and busy, sizes  # the rate is low enough for some empty days
    # an empty day first, in the middle and last; one-day chunks of each kind
    seeds = [empty[0], busy[0], empty[-1], busy[-1], empty[0]]
    assert_same_days(s, seeds, engine)
    assert_same_days(s, [empty[0]], engine)
    assert_same_days(s, [busy[0]], engine)
    got = simulate_days(s, seeds, engine)
    assert [len(day) for day, _ in got] == [sizes[x] for x in seeds]

    # tellers only in the last half hour, and nobody waits more than a second: the
    # customers of most days leave unserved
    d = s.model_dump()
    for c in d["counters"].values():
        c["tellers"] = [{"start": d["closing"] - 0.5, "count": 1}]
    for x in d["segments"].values():
        x["renege"] = {"kind": "deterministic", "value": 1 / 60}
    unserved = fresh(Scenario.model_validate(d))
    seeds = [seed for seed in busy
             if np.isnan(per_day(unserved, seed, engine)[0].customers["service_start"]).all()]
    assert seeds, "no day with customers and nobody served"
    assert_same_days(unserved, [empty[0], *seeds[:3], busy[-1]], engine)


def test_no_seeds_no_days() -> None:
    assert simulate_days(fresh(pe.load_scenario("default_branch")), [], "simpy") == []


def test_the_overload_message_is_the_days_own() -> None:
    s = fresh(pe.scenarios.mmc(2.4, 0.5, 4, 4))
    (day, message), = simulate_days(s, [5], "simpy")
    assert message == overload_message(s, day)


# --------------------------------------------------------------------------- run
def _run(**kwargs: Any) -> pe.Results:
    s = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", s)[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        return pe.run(s, policies, replications=6, seed=4, progress=False, keep_journeys=True,
                      **kwargs)


def _assert_same_results(a: pe.Results, b: pe.Results) -> None:
    assert a == b
    assert np.array_equal(a.values, b.values, equal_nan=True)
    assert a.journeys is not None and b.journeys is not None
    assert list(a.journeys) == list(b.journeys)
    for name in a.journeys:
        assert_same_journeys(a.journeys[name], b.journeys[name])


def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make run's workers simulate day by day, each day by ``simulate_validated`` alone."""
    import peakend.sim.batch

    def per_day(scenario: Any, seeds: Any, engine: str = "simpy") -> Any:
        out = []
        for seed in seeds:
            with warnings.catch_warnings():  # the message is returned, as simulate_days does
                warnings.simplefilter("ignore")
                day = simulate_validated(scenario, seed, engine=engine)
            out.append((day, overload_message(scenario, day)))
        return peakend.sim.batch.Chunk(scenario, list(seeds), days=out)  # scored day by day

    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", per_day)


def _chunked(monkeypatch: pytest.MonkeyPatch, size: int | None) -> None:
    import peakend.experiment._executor as executor

    real = executor._chunks

    def chunks(tasks: Any, n_workers: int, *, shared: bool = False) -> Any:
        if size is None:
            return real(tasks, n_workers, shared=shared)
        return [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]

    monkeypatch.setattr(executor, "_chunks", chunks)


@pytest.mark.parametrize("engine", ENGINES)
def test_run_gives_the_same_results_for_any_chunking_and_workers(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        _one_at_a_time(m)
        reference = _run(engine=engine, workers=1)
    for size in (1, 4, 18):  # one day, several, every task in one chunk
        with monkeypatch.context() as m:
            _chunked(m, size)
            _assert_same_results(_run(engine=engine, workers=1), reference)
    _assert_same_results(_run(engine=engine, workers=2), reference)


def test_an_interrupted_chunked_run_resumes_to_the_same_results(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import peakend.sim.batch

    reference = _run(engine="simpy", workers=1)
    real = peakend.sim.batch.simulate_chunk
    calls: list[int] = []

    def failing(scenario: Any, seeds: Any, engine: str = "simpy") -> Any:
        calls.append(len(seeds))
        if sum(calls) > 8:  # in the third chunk of four days
            raise RuntimeError("simulated crash")
        return real(scenario, seeds, engine)

    ck = tmp_path / "ck"
    with monkeypatch.context() as m:
        _chunked(m, 4)
        m.setattr(peakend.sim.batch, "simulate_chunk", failing)
        with pytest.raises(RuntimeError, match="simulated crash"):
            _run(engine="simpy", workers=1, checkpoint=ck)
    saved = len(list((ck / "done").glob("p*.npz")))
    assert saved == 8  # the two chunks before the crash
    with monkeypatch.context() as m:
        _chunked(m, 4)
        resumed = _run(engine="simpy", workers=1, checkpoint=ck)
    _assert_same_results(resumed, reference)


# --------------------------------------------------------------------------- streams
@settings(max_examples=60, deadline=None)
@given(
    entropy=st.one_of(
        st.integers(0, 2**32 - 1), st.integers(0, 2**128),
        st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
    ),
    spawn=st.lists(st.integers(0, 2**40), max_size=3),
    pool_size=st.sampled_from([4, 8]),
    name=st.sampled_from(["arrivals", "mix", "tellers", "stage_service"]),
    extra=st.lists(st.integers(0, 2**33), max_size=2),
)
def test_vectorized_stream_seeding_is_numpys(
    entropy: Any, spawn: list[int], pool_size: int, name: str, extra: list[int]
) -> None:
    """stream_states gives the PCG64 state numpy's SeedSequence seeding gives, bit for bit."""
    from peakend.sim._seeding import stream_states
    from peakend.sim.sampling import stream

    root = np.random.SeedSequence(entropy, spawn_key=tuple(spawn), pool_size=pool_size)
    others = np.random.SeedSequence(7, spawn_key=(1,))  # a second group in the same call
    requests = [(root, name, tuple(extra)), (others, "mix", ()), (root, "experience", ())]
    for (r, n, e), state in zip(requests, stream_states(requests), strict=True):
        assert state == stream(r, n, *e).bit_generator.state


# --------------------------------------------------------------------------- greetings
@pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")
@settings(max_examples=80, deadline=None)
@given(
    times=st.lists(st.integers(0, 40), max_size=40),
    duty=st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=40, max_size=40)),
    minutes=st.sampled_from([0.5, 1.0, 2.0, 2.7]),
)
def test_compiled_greetings_are_the_loss_system_of_staff(
    times: list[int], duty: Any, minutes: float
) -> None:
    """Ties on a half-minute grid, managers coming and going: the same greeted flags."""
    from peakend.sim.compiled._greetings import greet_kernel
    from peakend.sim.staff import greetings

    arrive = np.sort(np.array(times, dtype=np.float64)) * 0.5
    on_duty = (np.full(arrive.size, duty) if isinstance(duty, int)
               else np.array(duty[: arrive.size])).astype(np.int64)
    expected = greetings(arrive, on_duty, minutes)
    got = greet_kernel(arrive, on_duty, minutes)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


# --------------------------------------------------------------------------- slips
@pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")
@settings(max_examples=60, deadline=None)
@given(days=st.lists(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 12), st.integers(-1, 12),
                       st.booleans()), max_size=25),
    min_size=1, max_size=4,
))
def test_compiled_slips_are_count_slips_day_by_day(days: list[Any]) -> None:
    """Ties on a half-minute grid, unserved (NaN start) and non-hall customers: same counts."""
    from peakend.sim.compiled._slips import slips_kernel
    from peakend.sim.slips import count_slips

    parts, expected = [], []
    for rows in days:
        rows = sorted(rows)
        join = np.array([r[0] for r in rows], dtype=np.float64) * 0.5
        wait = np.array([r[1] for r in rows], dtype=np.float64) * 0.5
        start = np.where(np.array([r[2] for r in rows]) < 0, np.nan, join + wait)
        until = np.where(np.isnan(start), join + wait, start)
        until[::5] = np.nan  # balked: no end of waiting
        hall = np.array([r[3] for r in rows], dtype=bool)
        parts.append((join, start, until, hall))
        expected.append(count_slips(join, start, until, hall))
    bounds = np.zeros(len(days) + 1, dtype=np.int64)
    np.cumsum([p[0].size for p in parts], out=bounds[1:])
    got = slips_kernel(*(np.concatenate([p[k] for p in parts]) for k in range(4)), bounds,
                       np.zeros(len(days), dtype=np.bool_))
    want = np.concatenate(expected)
    assert got.dtype == want.dtype == np.int32
    assert np.array_equal(got, want)
