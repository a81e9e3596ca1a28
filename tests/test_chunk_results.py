"""run's workers score and aggregate a chunk straight from its columns (issue 16).

``peakend.sim.batch.simulate_chunk`` keeps a chunk's days as chunk-wide columns; run's
workers score them (``_tasks._score``) and aggregate them
(``_aggregate.aggregate_columns``) without one ``Journeys`` per day. Every aggregate must
be bit for bit that of the per-day path (``_remembered`` and ``aggregate_days`` of the
days' Journeys), with or without ``keep_journeys``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import scenarios
from test_many_days import ENGINES, HAS_NUMBA, _quiet_day_scenario, fresh

import peakend as pe
import peakend.sim.batch
from peakend.experiment import load_policies
from peakend.experiment._aggregate import aggregate_columns, aggregate_days
from peakend.experiment._tasks import _remembered, _score, replication_seed
from peakend.memory import get_rule
from peakend.sim.batch import Chunk, simulate_chunk, simulate_days
from peakend.sim.model import overload_message
from peakend.warnings import PeakendWarning

RULES = ["peak_end", "mean", "integral", "end"]


def bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)


def assert_same_aggregates(got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want)
    for (s1, m1, v1), (s2, m2, v2) in zip(got, want, strict=True):
        assert s1 == s2 and m1 == m2
        assert v1.shape == v2.shape
        assert np.array_equal(bits(v1), bits(v2))


def _per_day_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make run's workers take the per-day path: a Chunk of finished days."""
    real = peakend.sim.batch.simulate_chunk

    def finished(scenario: Any, seeds: Any, engine: str = "simpy") -> Chunk:
        chunk = real(scenario, seeds, engine)
        days = chunk.days or [(chunk.day(d), chunk.message(d)) for d in range(len(chunk))]
        return Chunk(scenario, list(seeds), days=days)

    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", finished)


def _run(name: str, engine: str, **kwargs: Any) -> pe.Results:
    base = pe.load_scenario(name)
    try:
        policies = load_policies(name, base)[:1]
    except (FileNotFoundError, KeyError, ValueError):
        policies = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        return pe.run(base, policies or None, replications=2, seed=8, progress=False,
                      engine=engine, **kwargs)


def assert_same_results(a: pe.Results, b: pe.Results) -> None:
    assert a == b
    assert np.array_equal(bits(a.values), bits(b.values))


# --------------------------------------------------------------------------- run
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_run_aggregates_are_the_same_with_and_without_journeys(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = _run(name, engine)  # keep_journeys=False: no Journeys per day
    kept = _run(name, engine, keep_journeys=True)
    assert columns.journeys is None and kept.journeys is not None
    assert_same_results(columns, kept)
    with monkeypatch.context() as m:
        _per_day_reference(m)
        reference = _run(name, engine)
    assert_same_results(columns, reference)


@pytest.mark.parametrize("engine", ENGINES)
def test_survey_aggregates_are_those_of_the_per_day_path(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = _run("default_branch", engine, survey=True)
    with monkeypatch.context() as m:
        _per_day_reference(m)
        reference = _run("default_branch", engine, survey=True)
    assert_same_results(columns, reference)


# --------------------------------------------------------------------------- aggregate_columns
def _check_chunk(s: pe.Scenario, seeds: list[Any], engine: str, data: Any) -> None:
    chunk = simulate_chunk(s, seeds, engine)
    days = [chunk.day(d) for d in range(len(chunk))]
    n = sum(chunk.sizes)
    customers = chunk.customers
    if chunk.days is not None:  # a staged scenario: its finished days, joined here
        customers = {k: np.concatenate([d.customers[k] for d in days]) for k in days[0].customers}
    assert chunk.sizes == [len(d) for d in days]
    # remembered values with NaNs, ties and signed zeros
    values = st.floats(-10, 10, allow_nan=False) | st.sampled_from([np.nan, 0.0, -0.0, 1.5])
    remembered = {
        lab: np.asarray(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
        for lab in ("a", "b")
    }
    ends = np.cumsum([0, *chunk.sizes])
    per_day = [{k: v[ends[d] : ends[d + 1]].copy() for k, v in remembered.items()}
               for d in range(len(days))]
    staff = [float(data.draw(st.floats(0, 1e4))) for _ in days]
    fixed = [float(data.draw(st.floats(0, 1e3))) for _ in days]
    survey = data.draw(st.booleans())
    want = aggregate_days(days, per_day, staff_costs=staff, fixed_costs=fixed, survey=survey)
    segments = [tuple(s.segments)] * len(days)
    got = aggregate_columns(customers, chunk.sizes, segments, remembered,
                            staff_costs=staff, fixed_costs=fixed,
                            survey_day=chunk.day if survey else None)
    assert_same_aggregates(got, want)

    for d, day in enumerate(days):
        assert chunk.message(d) == overload_message(s, day)
    if chunk.days is not None or not days:  # no chunk-wide columns to score
        return
    # the scores of the chunk's columns are those of the days one by one
    labels = [get_rule(r).label for r in RULES]
    own = get_rule(s.memory.rule, **s.memory.params).label
    scored = _score(chunk.customers["remembered"], chunk.episodes, chunk.offsets,
                    RULES, labels, own)
    for d, day_scores in enumerate(_remembered(days, RULES, labels, own)):
        for lab in labels:
            assert np.array_equal(bits(scored[lab][ends[d] : ends[d + 1]]), bits(day_scores[lab]))


@pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")
@settings(max_examples=15, deadline=None)
@given(s=scenarios(), first=st.integers(0, 10_000), size=st.integers(1, 5), data=st.data())
def test_aggregate_columns_is_aggregate_days_on_random_days(
    s: pe.Scenario, first: int, size: int, data: Any
) -> None:
    seeds = [replication_seed(first, r) for r in range(size)]
    _check_chunk(fresh(s), seeds, "compiled" if first % 2 else "simpy", data)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_empty_days_and_one_customer(engine: str, data: Any) -> None:
    s = _quiet_day_scenario()  # about one customer a day: empty days, single customers
    _check_chunk(s, list(range(8)), engine, data)
    _check_chunk(s, [], engine, data)


def test_no_days_no_aggregates() -> None:
    assert aggregate_columns({}, [], [], {"a": np.zeros(0)}, staff_costs=[],
                             fixed_costs=[]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_simulate_days_is_the_chunks_days(engine: str) -> None:
    s = fresh(pe.scenarios.mmc(2.4, 0.5, 4, 4))  # overloaded: every day has a message
    seeds = [replication_seed(3, r) for r in range(3)]
    chunk = simulate_chunk(s, seeds, engine)
    got = simulate_days(s, seeds, engine)
    assert [m for _, m in got] == [chunk.message(d) for d in range(3)]
    assert all(m is not None for _, m in got)
    for d, (day, _) in enumerate(got):
        again = chunk.day(d)
        for k, v in day.customers.items():
            assert np.array_equal(v, again.customers[k], equal_nan=v.dtype.kind == "f"), k
        assert day.meta == again.meta
