"""A scenario's own static touchpoints between two stages (``position = "before_stage"``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sim import assert_episodes_partition_the_visit, quiet, random_branch
from test_stages import build, day_of

import peakend as pe
from peakend import affect
from peakend.config import Scenario, deep_merge

BETWEEN: dict[str, Any] = {
    "touchpoints": {
        "walk": {
            "position": "before_stage",
            "stage": "advisor",
            "minutes": 1.5,
            "level": 4.0,
            "levels": {"vip": 7.0},
            "expectation": 6.0,
        },
        "stairs": {"position": "before_stage", "stage": "advisor", "minutes": 0.5},
        "pay_desk": {"position": "before_stage", "stage": "cashier", "minutes": 1.0},
    }
}


def _names(day: pe.Journeys) -> np.ndarray:
    return np.array(day.touchpoints)[day.episodes["touchpoint"]]


def test_a_touchpoint_between_stages_delays_the_join_at_the_next_stage():
    base, day = day_of(build(), seed=3), day_of(build(BETWEEN), seed=3)
    sv, bv = day.stage_visits, base.stage_visits
    # the first stage is upstream: the same visits, bit for bit
    for k in ("customer", "queue_join", "service_start", "service_end", "left", "counter"):
        np.testing.assert_array_equal(sv[k][sv["stage"] == 0], bv[k][bv["stage"] == 0])
    # every later visit joins its queue the touchpoints' minutes after the stage before
    same = np.r_[False, sv["customer"][1:] == sv["customer"][:-1]]
    later = np.flatnonzero(same)
    gap = sv["queue_join"][later] - sv["service_end"][later - 1]
    minutes = np.where(sv["stage"][later] == 1, 2.0, 1.0)
    np.testing.assert_allclose(gap, minutes, rtol=0, atol=1e-9)
    assert (sv["stage"][later] == 1).sum() > 30 and (sv["stage"][later] == 2).sum() > 30


def test_only_those_who_go_on_to_the_stage_have_it_in_journey_order():
    s = build(BETWEEN)
    day = day_of(s, seed=4)
    names, off = _names(day), day.offsets
    sv = day.stage_visits
    for tp, k, nxt in (("walk", 1, "stairs"), ("stairs", 1, "wait@advisor"), ("pay_desk", 2, None)):
        has = np.unique(day.episode_customer[names == tp])
        np.testing.assert_array_equal(has, np.unique(sv["customer"][sv["stage"] == k]))
        assert (names == tp).sum() == has.size  # once per visit
        at = np.flatnonzero(names == tp)
        if nxt is not None:
            assert set(names[at + 1]) == {nxt}
        else:  # the cashier's wait follows the pay desk
            assert set(names[at + 1]) == {"wait@cashier"}
    # it follows the last episode of the stage before (the teller's or the advisor's service)
    at = np.flatnonzero(names == "walk")
    assert set(names[at - 1]) <= {"service", "advice"}
    at = np.flatnonzero(names == "pay_desk")
    assert set(names[at - 1]) <= {"service", "advice", "service@advisor"}
    # a balker at the advisor walked there first, then left
    ab = sv["customer"][(sv["stage"] == 1) & sv["abandoned"]]
    assert ab.size > 0
    for i in ab[:10]:
        ep = list(names[off[i] : off[i + 1]])
        assert ep.index("walk") < ep.index("abandonment")
    assert_episodes_partition_the_visit(day)


def test_a_touchpoint_between_stages_is_rated_by_the_delta_law():
    s = build(BETWEEN)
    day = day_of(s, seed=5)
    names, e = _names(day), day.episodes
    vip = day.customers["segment"][day.episode_customer] == day.code("segments", "vip")
    walk = names == "walk"
    np.testing.assert_array_equal(e["experience"][walk & vip], 7.0)
    np.testing.assert_array_equal(e["experience"][walk & ~vip], 4.0)
    np.testing.assert_array_equal(e["expectation"][walk], 6.0)
    np.testing.assert_allclose(e["end"][walk] - e["start"][walk], 1.5)
    vf = s.value_function
    expected = affect.value(
        e["experience"][walk] - 6.0,
        kind=vf.kind,
        alpha=vf.alpha,
        beta=vf.beta,
        loss_aversion=vf.loss_aversion,
        scale=vf.scale,
    )
    np.testing.assert_allclose(e["affect"][walk], expected, rtol=1e-12)
    assert np.any(e["affect"][walk & ~vip] < 0) and np.any(e["affect"][walk & vip] > 0)


def test_a_route_leaving_out_the_first_stage_has_the_touchpoint_from_the_ticket():
    s = build(
        deep_merge(BETWEEN, {"routes": {"wealth": {"segments": {"vip": {"stages": ["advisor"]}}}}})
    )
    day = day_of(s, seed=6)
    names, off = _names(day), day.offsets
    c = day.customers
    vip_wealth = (c["segment"] == day.code("segments", "vip")) & (
        c["business"] == day.code("business_types", "wealth")
    )
    assert vip_wealth.sum() > 5
    for i in np.flatnonzero(vip_wealth)[:10]:
        ep = list(names[off[i] : off[i + 1]])
        k = ep.index("walk")
        assert ep[k - 1] == "information" and ep[k + 1 : k + 3] == ["stairs", "wait@advisor"]
    assert_episodes_partition_the_visit(day)


@pytest.mark.parametrize(
    ("tp", "words"),
    [
        ({"position": "before_stage", "minutes": 1.0}, ["touchpoints.x", "stage:", "needs"]),
        (
            {"position": "before_exit", "stage": "advisor", "minutes": 1.0},
            ["touchpoints.x", "only a position = 'before_stage'"],
        ),
        (
            {"position": "before_stage", "stage": "advisr", "minutes": 1.0},
            ["touchpoints.x.stage", "did you mean 'advisor'"],
        ),
        (
            {"position": "before_stage", "stage": "teller", "minutes": 1.0},
            ["touchpoints.x.stage", "first stage", "before_queue"],
        ),
        ({"position": "between", "stage": "advisor", "minutes": 1.0}, ["touchpoints.x.position"]),
        ({"position": "before_stage", "stage": "advisor", "minutes": 0}, ["minutes"]),
    ],
)
def test_bad_touchpoints_between_stages_are_refused_naming_the_field(tp, words):
    with pytest.raises(ValueError) as err:
        build({"touchpoints": {"x": tp}})
    text = str(err.value)
    for w in words:
        assert w in text, text


def test_a_touchpoint_before_a_stage_of_a_one_stage_scenario_is_refused_before_the_run():
    data = pe.scenarios.mmc(1.0, 0.5, 3, 2).model_dump()
    data["touchpoints"] = {"walk": {"position": "before_stage", "stage": "advisor", "minutes": 1}}
    with pytest.raises(ValueError, match=r"touchpoints\.walk\.stage: unknown stage 'advisor'"):
        pe.simulate(Scenario.model_validate(data), seed=1)


@st.composite
def staged_branch(draw) -> Scenario:
    """A random branch with a further stage and touchpoints before it (and elsewhere)."""
    data = draw(random_branch()).model_dump()
    bus = list(data["business_types"])
    data["stages"] = {
        "later": {
            "counters": {"x": {"tellers": draw(st.integers(1, 2))}},
            "service": {b: {"kind": "exponential", "mean": 3.0} for b in bus},
            "patience_decay": draw(st.sampled_from([0.0, 0.1])),
            "wait_multiplier_growth": draw(st.sampled_from([0.0, 0.05])),
        }
    }
    first = draw(st.sampled_from([1.0, 0.6]))
    data["routes"] = {
        b: {
            "stages": ["counter", "later"],
            "share": {
                "counter": first,
                "later": 1.0 if first < 1 else draw(st.sampled_from([0.5, 1.0])),
            },
        }
        for b in bus
    }
    tps: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 2))):
        tps[f"walk{i}"] = {
            "position": "before_stage",
            "stage": "later",
            "minutes": draw(st.sampled_from([0.05, 1.0, 3.0])),
            "level": draw(st.sampled_from([2.0, 8.0])),
        }
    if draw(st.booleans()):
        tps["coffee"] = {"position": "before_queue", "minutes": 1.0}
    if draw(st.booleans()):
        tps["tablet"] = {"position": "before_exit", "minutes": 0.5}
    data["touchpoints"] = tps
    return Scenario.model_validate(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=staged_branch(), seed=st.integers(0, 2**32 - 1))
def test_episodes_partition_the_time_in_the_branch_with_touchpoints_between_stages(scenario, seed):
    d = quiet(scenario, seed)
    d.validate()
    assert_episodes_partition_the_visit(d)
    # everyone who reached the later stage walked there, nobody else
    names = np.array(d.touchpoints)[d.episodes["touchpoint"]]
    sv = d.stage_visits
    np.testing.assert_array_equal(
        np.unique(d.episode_customer[names == "walk0"]), np.unique(sv["customer"][sv["stage"] == 1])
    )
