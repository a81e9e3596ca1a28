"""A day with no arrivals is a valid, explicit empty record (issue 11)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import peakend as pe
from peakend.config import Scenario, deep_merge
from peakend.memory import RULES


def no_arrivals(name: str, **changes: object) -> Scenario:
    base = pe.load_scenario(name).model_dump()
    data = deep_merge(base, {"arrivals": {"profile": [{"start": base["opening"], "rate": 0.0}]}})
    return Scenario.model_validate(deep_merge(data, dict(changes)))


@pytest.mark.parametrize("after_closing", ["serve", "dismiss"])
@pytest.mark.parametrize("name", ["default_branch", "gold_card_paradox", "vip_contrast"])
def test_a_day_without_arrivals_is_an_empty_valid_record(name, after_closing):
    s = no_arrivals(name, after_closing=after_closing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warnings, no overload warning
        day = pe.simulate(s, seed=3)
        day.validate()
        assert len(day) == 0 and day.n_episodes == 0 and day.n_days == 1
        assert day.offsets.tolist() == [0]
        for column in (*day.customers.values(), *day.episodes.values()):
            assert column.shape == (0,)
        # the hall queue series is explicit: empty from opening on
        assert day.queue["time"].tolist() == [0.0] and day.queue["length"].tolist() == [0]
        # the record still says what was simulated
        assert day.meta["scenario"] == s.name and day.meta["offered_load"] == 0.0
        assert list(day.segments) == list(s.segments)
        assert len(day.counters) == sum(c.max_tellers() for c in s.counters.values())
        for rule in RULES:
            assert day.score(rule).shape == (0,)
        assert day.durations.shape == (0,) and day.lengths.shape == (0,)
        assert len(day.segment(day.segments[0])) == 0
        frames = day.to_pandas("customers"), day.to_pandas("episodes")
        assert all(len(f) == 0 for f in frames)
        both = pe.Journeys.concat([day, pe.simulate(pe.load_scenario(name), seed=3)])
    assert len(both) > 0 and both.n_days == 2


def test_an_empty_day_round_trips(tmp_path):
    day = pe.simulate(no_arrivals("default_branch"), seed=1)
    day.save(tmp_path / "empty.npz")
    back = pe.load_journeys(tmp_path / "empty.npz")
    assert len(back) == 0 and back.meta["scenario"] == "default_branch"
    np.testing.assert_array_equal(back.offsets, day.offsets)
