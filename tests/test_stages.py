"""Multi-stage days: the stage_visits table, journey totals, episodes and common random numbers."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

import peakend as pe
from peakend.config import Scenario, deep_merge
from peakend.journeys import STAGE_VISIT_COLUMNS
from peakend.sim import OverloadWarning

BASE: dict[str, Any] = {
    "name": "three",
    "opening": 9.0,
    "closing": 17.0,
    "first_stage": "teller",
    "arrivals": {"profile": [{"start": 9.0, "rate": 40.0}]},
    "business_types": {
        "deposit": {"service": {"kind": "exponential", "mean": 4.0}},
        "wealth": {"service": {"kind": "exponential", "mean": 5.0}},
    },
    "segments": {
        "ordinary": {
            "share": 0.8,
            "business_mix": {"deposit": 0.6, "wealth": 0.4},
            "renege": {"kind": "exponential", "mean": 25.0},
            "balk_queue": 8,
        },
        "vip": {
            "share": 0.2,
            "business_mix": {"wealth": 1.0},
            "expectations": {"service": 8.0},
        },
    },
    "counters": {"general": {"tellers": 3}},
    "stages": {
        "advisor": {
            "counters": {"rm": {"tellers": 2, "quality": {"mean": 7.0, "sd": 1.0}}},
            "service": {"wealth": {"kind": "exponential", "mean": 12.0}},
            "expected_wait": {"vip": 2.0},
        },
        "cashier": {
            "counters": {"cash": {"tellers": 1}},
            "service": {
                "wealth": {"kind": "exponential", "mean": 2.0},
                "deposit": {"kind": "exponential", "mean": 2.0},
            },
        },
    },
    "routes": {
        "wealth": {"stages": ["teller", "advisor", "cashier"], "share": {"advisor": 0.4}},
        "deposit": {"stages": ["teller", "cashier"], "share": {"cashier": 0.3}},
    },
}


def build(changes: dict[str, Any] | None = None) -> Scenario:
    return Scenario.model_validate(deep_merge(BASE, changes or {}))


def day_of(s: Scenario, seed: int = 1) -> pe.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return pe.simulate(s, seed=seed)


def test_stage_visits_schema_is_pinned():
    assert {k: v[0] for k, v in STAGE_VISIT_COLUMNS.items()} == {
        "day": "int32",
        "customer": "int32",
        "stage": "int16",
        "queue_join": "float64",
        "service_start": "float64",
        "service_end": "float64",
        "left": "float64",
        "counter": "int16",
        "abandoned": "bool",
    }
    day = day_of(build())
    assert list(day.stage_visits) == list(STAGE_VISIT_COLUMNS)
    assert day.stages == ("teller", "advisor", "cashier")
    frame = day.to_pandas("stage_visits")
    assert set(frame["stage"].cat.categories) == {"teller", "advisor", "cashier"}


def test_a_one_stage_day_has_one_visit_per_customer():
    day = day_of(pe.load_scenario("default_branch"))
    sv, c = day.stage_visits, day.customers
    assert day.stages == ("counter",)
    np.testing.assert_array_equal(sv["customer"], c["customer"])
    np.testing.assert_array_equal(sv["stage"], 0)
    np.testing.assert_array_equal(sv["counter"], c["counter"])
    np.testing.assert_array_equal(sv["abandoned"], day.abandoned)
    np.testing.assert_array_equal(np.isnan(sv["service_start"]), ~day.served)


def test_visits_follow_the_route_and_the_journey_totals_add_up():
    s = build()
    day = day_of(s, seed=3)
    sv, c = day.stage_visits, day.customers
    n = len(day)
    # route order: by customer, stages in table order, each stage at most once
    key = sv["customer"].astype(np.int64) * 10 + sv["stage"]
    assert np.all(np.diff(key) > 0)
    # every customer visits the first stage; a later visit only after service before
    first = sv["stage"] == 0
    np.testing.assert_array_equal(sv["customer"][first], np.arange(n))
    served_at = ~np.isnan(sv["service_start"])
    prev_served = np.r_[True, served_at[:-1]]
    same_customer = np.r_[False, sv["customer"][1:] == sv["customer"][:-1]]
    assert np.all(prev_served[~first & same_customer])
    assert np.all(
        sv["queue_join"][1:][same_customer[1:]] == sv["service_end"][:-1][same_customer[1:]]
    )
    # per customer: wait is the total, abandoned at some stage, served: route completed
    until = np.where(served_at, sv["service_start"], sv["left"])
    w = np.where(np.isnan(until), 0.0, until - sv["queue_join"])
    total = np.bincount(sv["customer"], weights=w, minlength=n)
    np.testing.assert_allclose(c["wait"], total, atol=1e-9)
    ab = np.bincount(sv["customer"], weights=sv["abandoned"], minlength=n)
    assert ab.max() <= 1
    np.testing.assert_array_equal(day.abandoned, ab == 1)
    # conservation: every arrival ends exactly once, served or abandoned
    assert np.all(day.served ^ day.abandoned)
    assert day.abandoned.sum() > 0 and (sv["abandoned"] & ~first).sum() > 0  # both happen
    assert (sv["stage"] == 1).sum() > 50 and (sv["stage"] == 2).sum() > 50
    last = np.r_[sv["customer"][1:] != sv["customer"][:-1], True]
    np.testing.assert_allclose(
        c["service_end"][day.served], sv["service_end"][last][day.served], atol=0
    )


def test_multi_stage_episodes_partition_the_visit():
    day = day_of(build({"after_closing": "dismiss"}), seed=5)
    off, e = day.offsets, day.episodes
    c = day.customers
    assert np.all(e["end"] > e["start"])
    for i in range(len(day)):
        a, b = off[i], off[i + 1]
        np.testing.assert_allclose(e["start"][a + 1 : b], e["end"][a : b - 1], atol=1e-9)
        assert e["start"][a] == pytest.approx(c["arrival"][i])
        assert e["end"][b - 1] == pytest.approx(c["departure"][i])
    names = np.array(day.touchpoints)[e["touchpoint"]]
    assert {"wait@advisor", "service@advisor", "wait@cashier", "service@cashier"} <= set(names)
    # a journey that ends at a later stage ends with the abandonment, without farewell
    ends = names[off[1:] - 1]
    assert set(ends[day.abandoned]) == {"abandonment"}
    assert "farewell" not in set(names[np.repeat(day.abandoned, day.lengths)])
    advisor_ab = np.zeros(len(day), bool)
    sv = day.stage_visits
    advisor_ab[sv["customer"][(sv["stage"] == 1) & sv["abandoned"]]] = True
    assert advisor_ab.any()


def test_a_later_stage_rates_its_wait_against_its_own_expectation():
    s = build()
    day = day_of(s, seed=2)
    e = day.episodes
    names = np.array(day.touchpoints)[e["touchpoint"]]
    seg = day.customers["segment"][day.episode_customer]
    vip = day.code("segments", "vip")
    mpp = s.hall.minutes_per_point
    m = (names == "wait@advisor") & (seg == vip)
    np.testing.assert_allclose(e["expectation"][m], 10 - 2.0 / mpp)
    m = (names == "service@advisor") & (seg == vip)
    np.testing.assert_allclose(e["expectation"][m], 8.0)  # the segment's service expectation
    m = (names == "wait@cashier") & (seg == vip)  # no stage value: the segment's expected wait
    np.testing.assert_allclose(e["expectation"][m], 10 - s.segments["vip"].expected_wait / mpp)


def _keyed(day: pe.Journeys, stage: int) -> dict[float, float]:
    sv, c = day.stage_visits, day.customers
    m = (sv["stage"] == stage) & ~np.isnan(sv["service_start"])
    arrival = c["arrival"][sv["customer"][m]]
    minutes = (sv["service_end"] - sv["service_start"])[m]
    return dict(zip(arrival.tolist(), minutes.tolist(), strict=True))


def test_a_route_share_change_keeps_the_customers_and_their_needs():
    a = day_of(build(), seed=11)
    b = day_of(build({"routes": {"wealth": {"share": {"advisor": 0.8}}}}), seed=11)
    for col in ("arrival", "segment", "business", "appointment"):
        np.testing.assert_array_equal(a.customers[col], b.customers[col])
    # the first stage is upstream of the change: the same day there, bit for bit
    for col in ("queue_join", "service_start", "service_end", "counter"):
        np.testing.assert_array_equal(
            a.stage_visits[col][a.stage_visits["stage"] == 0],
            b.stage_visits[col][b.stage_visits["stage"] == 0],
        )
    # who went to the advisor at 0.4 still goes at 0.8 (if served at the teller in both),
    # needing the same advisor and cashier service minutes
    for stage in (1, 2):
        ka, kb = _keyed(a, stage), _keyed(b, stage)
        common = set(ka) & set(kb)
        assert len(common) > 30
        assert all(ka[t] == pytest.approx(kb[t], abs=1e-9) for t in common)
    sa = set(a.customers["arrival"][a.stage_visits["customer"][a.stage_visits["stage"] == 1]])
    sb = set(b.customers["arrival"][b.stage_visits["customer"][b.stage_visits["stage"] == 1]])
    assert sa <= sb and len(sb) > len(sa)


def test_staffing_a_later_stage_leaves_the_earlier_ones_alone():
    a = day_of(build(), seed=4)
    b = day_of(build({"stages": {"advisor": {"counters": {"rm": {"tellers": 4}}}}}), seed=4)
    first_a = a.stage_visits["stage"] == 0
    first_b = b.stage_visits["stage"] == 0
    for col in STAGE_VISIT_COLUMNS:
        np.testing.assert_array_equal(a.stage_visits[col][first_a], b.stage_visits[col][first_b])
    assert not np.array_equal(a.customers["wait"], b.customers["wait"])


def test_same_seed_same_multi_stage_day():
    s = build()
    a, b = day_of(s, seed=9), day_of(s, seed=9)
    for k in STAGE_VISIT_COLUMNS:
        np.testing.assert_array_equal(a.stage_visits[k], b.stage_visits[k])
    np.testing.assert_array_equal(a.customers["remembered"], b.customers["remembered"])


def test_stage_visits_survive_select_concat_and_save(tmp_path):
    a, b = day_of(build(), seed=1), day_of(build(), seed=2)
    both = pe.Journeys.concat([a, b])
    assert (
        both.stage_visits["customer"].size
        == a.stage_visits["customer"].size * 1 + b.stage_visits["customer"].size
    )
    np.testing.assert_array_equal(np.unique(both.stage_visits["day"]), [0, 1])
    one = both.day(1)
    np.testing.assert_array_equal(one.stage_visits["service_end"], b.stage_visits["service_end"])
    vip = a.segment("vip")
    assert set(vip.stage_visits["customer"]) == set(vip.customers["customer"])
    both.save(tmp_path / "d.npz")
    back = pe.load_journeys(tmp_path / "d.npz")
    assert back.stages == both.stages
    for k in STAGE_VISIT_COLUMNS:
        np.testing.assert_array_equal(back.stage_visits[k], both.stage_visits[k])


def test_docs_table_lists_every_stage_visit_column():
    from pathlib import Path

    page = Path(__file__).parents[1] / "docs" / "reference" / "journeys.md"
    text = page.read_text(encoding="utf-8")
    for name in STAGE_VISIT_COLUMNS:
        assert f"| `{name}` |" in text, name


def test_stage_perception_and_patience_factors_act_at_that_stage_only():
    base = day_of(build(), seed=6)
    shorter = day_of(build({"stages": {"advisor": {"wait_multiplier": 0.5}}}), seed=6)
    names = np.array(base.touchpoints)[base.episodes["touchpoint"]]
    w = names == "wait@advisor"
    np.testing.assert_array_equal(
        base.stage_visits["service_start"], shorter.stage_visits["service_start"]
    )
    assert np.all(shorter.episodes["experience"][w] >= base.episodes["experience"][w])
    assert np.any(shorter.episodes["experience"][w] > base.episodes["experience"][w])
    np.testing.assert_array_equal(
        shorter.episodes["experience"][~w], base.episodes["experience"][~w]
    )
    thin = day_of(build({"stages": {"advisor": {"patience_scale": 0.2}}}), seed=6)
    ab = lambda d, k: int((d.stage_visits["abandoned"] & (d.stage_visits["stage"] == k)).sum())  # noqa: E731
    assert ab(thin, 1) > ab(base, 1)
    assert ab(thin, 0) == ab(base, 0)  # the teller stage is upstream


def test_a_route_may_leave_out_the_first_stage():
    s = build(
        {
            "routes": {
                "wealth": {"segments": {"vip": {"stages": ["advisor", "cashier"]}}},
                "deposit": {"share": {"teller": 0.5, "cashier": 1.0}},
            }
        }
    )
    day = day_of(s, seed=7)
    sv, c = day.stage_visits, day.customers
    n = len(day)
    vip_wealth = (c["segment"] == day.code("segments", "vip")) & (
        c["business"] == day.code("business_types", "wealth")
    )
    deposit = c["business"] == day.code("business_types", "deposit")
    at = np.zeros((3, n), bool)
    for k in range(3):
        at[k, sv["customer"][sv["stage"] == k]] = True
    assert vip_wealth.sum() > 5 and not at[0, vip_wealth].any()
    assert at[1, vip_wealth].all()  # straight to the advisor
    # deposits skip the teller with probability 1/2 (binomial, 99.99 % interval)
    skipped = (~at[0] & deposit).sum()
    lo, hi = stats.binom.interval(0.9999, deposit.sum(), 0.5)
    assert lo <= skipped <= hi
    # who skips the teller queues at the next stage as they take their ticket
    first_rows = np.r_[True, sv["customer"][1:] != sv["customer"][:-1]]
    e, off = day.episodes, day.offsets
    names = np.array(day.touchpoints)[e["touchpoint"]]
    skip = ~at[0]
    join_first = sv["queue_join"][first_rows]
    for i in np.flatnonzero(skip)[:20]:
        ep = names[off[i] : off[i + 1]]
        assert "waiting" not in ep and "service" not in ep
        j = list(ep).index("information")
        assert e["end"][off[i] + j] == pytest.approx(join_first[i])
    # totals and outcomes as for any route
    assert np.all(day.served ^ day.abandoned)
    served_skippers = skip & day.served
    assert served_skippers.sum() > 10
    assert np.all(c["counter"][served_skippers] >= 0)
    np.testing.assert_allclose(
        c["service_start"][served_skippers],
        sv["service_start"][first_rows][served_skippers],
    )
    for i in range(n):
        a, b = off[i], off[i + 1]
        np.testing.assert_allclose(e["start"][a + 1 : b], e["end"][a : b - 1], atol=1e-9)
        assert e["end"][b - 1] == pytest.approx(c["departure"][i])


def test_a_scenario_adds_its_own_static_touchpoints_without_code():
    extra = {
        "touchpoints": {
            "coffee": {
                "position": "before_queue",
                "minutes": 2.0,
                "level": 6.0,
                "levels": {"vip": 8.0},
                "expectation": 5.0,
            },
            "tablet": {"position": "before_exit", "minutes": 0.5, "level": 4.0},
        },
        "journey": ["entrance", "information", "waiting", "service", "farewell"],
        "segments": {"vip": {"farewell": {"enabled": True, "minutes": 1.0}}},
    }
    base = day_of(build({"journey": extra["journey"], "segments": extra["segments"]}), seed=3)
    day = day_of(build(extra), seed=3)
    e, off, c = day.episodes, day.offsets, day.customers
    names = np.array(day.touchpoints)[e["touchpoint"]]
    coffee = names == "coffee"
    assert coffee.sum() == len(day)  # everyone passes it
    np.testing.assert_allclose(e["end"][coffee] - e["start"][coffee], 2.0)
    vip = c["segment"][day.episode_customer] == day.code("segments", "vip")
    np.testing.assert_allclose(e["experience"][coffee & vip], 8.0)
    np.testing.assert_allclose(e["experience"][coffee & ~vip], 6.0)
    # it delays the queue join by its minutes
    first = np.r_[True, day.stage_visits["customer"][1:] != day.stage_visits["customer"][:-1]]
    bfirst = np.r_[True, base.stage_visits["customer"][1:] != base.stage_visits["customer"][:-1]]
    np.testing.assert_allclose(
        day.stage_visits["queue_join"][first] - base.stage_visits["queue_join"][bfirst], 2.0
    )
    tablet = names == "tablet"
    assert tablet.sum() == day.served.sum()
    # journey order: tablet right before the farewell (or last), episodes back to back
    for i in np.flatnonzero(day.served)[:30]:
        ep = list(names[off[i] : off[i + 1]])
        k = ep.index("tablet")
        assert ep[k + 1 :] in ([], ["farewell"])
    for i in range(len(day)):
        a, b = off[i], off[i + 1]
        np.testing.assert_allclose(e["start"][a + 1 : b], e["end"][a : b - 1], atol=1e-9)
        assert e["end"][b - 1] == pytest.approx(c["departure"][i])
    with pytest.raises(ValueError, match=r"touchpoints\.service: the name is taken"):
        build({"touchpoints": {"service": {"position": "before_exit", "minutes": 1.0}}})
    with pytest.raises(ValueError, match="did you mean 'vip'"):
        build(
            {
                "touchpoints": {
                    "x": {"position": "before_exit", "minutes": 1.0, "levels": {"vpi": 3}}
                }
            }
        )
