"""The advice touchpoint: teller advice quality, the split of the counter time, CRN."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import peakend as pe
from peakend.config import Scenario, deep_merge, load_scenario
from peakend.sim import MOMENT, simulate


def variant(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def advice_branch(**changes: Any) -> Scenario:
    """Two business types, one with advice; no experience noise; three identical tellers."""
    data: dict[str, Any] = {
        "name": "advice",
        "opening": "09:00",
        "closing": "12:00",
        "arrivals": {"profile": [{"start": "09:00", "rate": 20}]},
        "segments": {
            "walkin": {
                "share": 1.0,
                "business_mix": {"cash": 0.5, "wealth": 0.5},
                "noise_sd": 0.0,
                "expectations": {"service": 6.0, "advice": 7.0},
            }
        },
        "business_types": {
            "cash": {"service": {"kind": "exponential", "mean": 3.0}},
            "wealth": {"service": {"kind": "lognormal", "mean": 10.0, "sd": 4.0},
                       "advice_share": 0.4},
        },
        "counters": {"desk": {"tellers": 3, "quality": {"mean": 6.5}, "advice": {"mean": 5.0}}},
        "journey": ["waiting", "service", "advice"],
    }
    return Scenario.model_validate(deep_merge(data, changes))


def episodes_of(day: pe.Journeys, name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Customers and episode columns of one touchpoint."""
    m = day.episodes["touchpoint"] == day.touchpoints.index(name)
    return day.episode_customer[m], {k: v[m] for k, v in day.episodes.items()}


def test_advice_episode_splits_the_counter_time():
    s = advice_branch()
    day = simulate(s, seed=3)
    c = day.customers
    served = c["counter"] >= 0
    wealth = c["business"] == day.business_types.index("wealth")
    cust_a, adv = episodes_of(day, "advice")
    cust_s, svc = episodes_of(day, "service")
    # exactly the served wealth customers have an advice episode, one each
    assert np.array_equal(np.sort(cust_a), np.flatnonzero(served & wealth))
    assert np.array_equal(np.sort(cust_s), np.flatnonzero(served))
    # the advice is the last 40 % of the counter time, right after the service episode
    service_of = dict(zip(cust_s.tolist(), range(cust_s.size), strict=True))
    k = np.array([service_of[i] for i in cust_a.tolist()])
    start, end = c["service_start"][cust_a], c["service_end"][cust_a]
    assert np.allclose(adv["end"], end, rtol=0, atol=1e-9)
    assert np.allclose(adv["end"] - adv["start"], 0.4 * (end - start), rtol=1e-9)
    assert np.array_equal(svc["end"][k], adv["start"])
    # (a customer served at once spends the first moment of it on the waiting moment)
    called = c["wait"][cust_a] == 0
    assert np.array_equal(svc["start"][k], np.where(called, start + MOMENT, start))
    # customers without advice keep the whole counter time as service
    plain = np.setdiff1d(cust_s, cust_a)
    idx = np.array([service_of[i] for i in plain.tolist()])
    assert np.array_equal(svc["end"][idx], c["service_end"][plain])


def test_advice_is_rated_on_advice_quality_against_advice_expectation():
    day = simulate(advice_branch(), seed=5)
    _, adv = episodes_of(day, "advice")
    _, svc = episodes_of(day, "service")
    assert adv["experience"].size > 10
    # noise_sd 0 and sd 0: every teller gives exactly the configured levels
    assert np.array_equal(adv["experience"], np.full(adv["experience"].size, 5.0))
    assert np.array_equal(adv["expectation"], np.full(adv["expectation"].size, 7.0))
    assert np.array_equal(svc["experience"], np.full(svc["experience"].size, 6.5))
    # the Delta law with the default prospect value function: 2 points short is a loss
    assert np.allclose(adv["affect"], -2.25 * 2.0**0.88)


def test_better_advice_changes_only_the_advice_episodes():
    base = advice_branch(segments={"walkin": {"noise_sd": 0.8}},
                         counters={"desk": {"advice": {"mean": 5.0, "sd": 1.0}}})
    better = variant(base, {"counters": {"desk": {"advice": {"mean": 8.0, "sd": 1.0}}}})
    a, b = simulate(base, seed=9), simulate(better, seed=9)
    # common random numbers: the same customers, times and every other episode, bit for bit
    for col in a.customers:
        if col != "remembered":
            np.testing.assert_array_equal(a.customers[col], b.customers[col], err_msg=col)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    is_adv = a.episodes["touchpoint"] == a.touchpoints.index("advice")
    for col in ("start", "end", "expectation", "touchpoint"):
        np.testing.assert_array_equal(a.episodes[col], b.episodes[col])
    for col in ("experience", "affect"):
        np.testing.assert_array_equal(a.episodes[col][~is_adv], b.episodes[col][~is_adv])
    # better advice: every advice experience at least as good, most strictly better
    xa, xb = a.episodes["experience"][is_adv], b.episodes["experience"][is_adv]
    assert np.all(xb >= xa)
    assert np.mean(xb > xa) > 0.9
    # and every customer's integral (area) of affect at least as good
    ia, ib = a.score("integral"), b.score("integral")
    assert np.all(ib >= ia - 1e-12)
    assert np.any(ib > ia)


def test_without_advice_share_the_journey_has_no_advice_and_draws_are_unchanged():
    s = advice_branch(business_types={"wealth": {"advice_share": 0.0}})
    no_tp = variant(s, {"journey": ["waiting", "service"]})
    a, b = simulate(s, seed=2), simulate(no_tp, seed=2)
    assert not np.any(a.episodes["touchpoint"] == a.touchpoints.index("advice"))
    for col in a.customers:
        np.testing.assert_array_equal(a.customers[col], b.customers[col], err_msg=col)
    for col in a.episodes:
        np.testing.assert_array_equal(a.episodes[col], b.episodes[col], err_msg=col)
    # advice switched off in the journey: the counter time stays one service episode
    off = simulate(variant(advice_branch(), {"journey": ["waiting", "service"]}), seed=2)
    assert not np.any(off.episodes["touchpoint"] == off.touchpoints.index("advice"))
    with_advice = simulate(advice_branch(), seed=2)
    np.testing.assert_array_equal(off.customers["wait"], with_advice.customers["wait"])


def test_advice_quality_varies_between_tellers_not_within_a_teller():
    s = advice_branch(counters={"desk": {"tellers": 4, "advice": {"mean": 6.0, "sd": 1.5}}})
    day = simulate(s, seed=4)
    cust, adv = episodes_of(day, "advice")
    teller = day.customers["counter"][cust]
    levels = {int(t): np.unique(adv["experience"][teller == t]) for t in np.unique(teller)}
    assert all(v.size == 1 for v in levels.values())  # noise_sd 0: one level per teller
    assert len({float(v[0]) for v in levels.values()}) == len(levels) > 1


def test_default_branch_vips_expect_more_advice_than_they_get():
    """DOMAIN.md section 2: advice short of VIPs' high expectations is a negative moment."""
    branch = load_scenario("default_branch")
    vip = list(branch.segments).index("vip")
    affects = []
    for seed in range(20):
        day = simulate(branch, seed=seed)
        cust, adv = episodes_of(day, "advice")
        affects.append(adv["affect"][day.customers["segment"][cust] == vip])
    x = np.concatenate(affects)
    assert x.size > 30
    # one-sided t-test that the VIPs' mean advice affect is below zero
    from scipy import stats

    t = stats.ttest_1samp(x, 0.0, alternative="less")
    assert t.pvalue < 0.01


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"business_types": {"wealth": {"advice_share": 0.95}}}, "advice_share"),
        ({"business_types": {"wealth": {"advice_share": -0.1}}}, "advice_share"),
        ({"counters": {"desk": {"advice": {"mean": 11}}}}, "advice.mean"),
        ({"counters": {"desk": {"advice": {"sd": -1}}}}, "advice.sd"),
        ({"segments": {"walkin": {"expectations": {"advise": 5}}}}, "expectations.advise"),
    ],
)
def test_bad_advice_settings_name_the_field(changes, field):
    with pytest.raises(ValidationError) as err:
        advice_branch(**changes)
    assert field in str(err.value)


def test_advice_must_follow_service_in_the_journey():
    with pytest.raises(ValidationError, match="journey order"):
        advice_branch(journey=["waiting", "advice", "service"])


def test_senior_relationship_manager_helps_vips_only_under_crn():
    """The built-in `senior_rm` policy: better advice at the VIP window.

    Paired over the same days, VIPs' integral of affect rises significantly; gold and
    ordinary customers, who never see the VIP window, are bit for bit unchanged.
    """
    from scipy import stats

    branch = load_scenario("default_branch")
    builtin = {p.name: p for p in pe.experiment.load_policies("default_branch")}
    res = pe.run(branch, [builtin["baseline"], builtin["senior_rm"]], replications=20,
                 seed=11, rules=["peak_end", "integral"], progress=False)
    frame = res.to_pandas()
    def values(policy: str, segment: str, metric: str) -> np.ndarray:
        m = ((frame["policy"] == policy) & (frame["segment"] == segment)
             & (frame["metric"] == metric))
        return frame[m].sort_values("replication")["value"].to_numpy()
    diff = values("senior_rm", "vip", "remembered[integral]") - values(
        "baseline", "vip", "remembered[integral]")
    assert stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue < 0.01
    for segment in ("gold", "ordinary"):
        for metric in ("remembered[peak_end]", "remembered[integral]", "wait_mean"):
            np.testing.assert_array_equal(values("senior_rm", segment, metric),
                                          values("baseline", segment, metric))
