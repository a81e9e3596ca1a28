"""Service stages and routes in the scenario file: syntax, defaults and clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from peakend.config import Scenario, deep_merge, load_scenario

TWO: dict[str, Any] = {
    "name": "two",
    "opening": 9.0,
    "closing": 17.0,
    "first_stage": "teller",
    "arrivals": {"profile": [{"start": 9.0, "rate": 30.0}]},
    "business_types": {
        "deposit": {"service": {"kind": "exponential", "mean": 5.0}},
        "wealth": {"service": {"kind": "exponential", "mean": 6.0}},
    },
    "segments": {
        "ordinary": {"share": 0.9, "business_mix": {"deposit": 0.7, "wealth": 0.3}},
        "vip": {"share": 0.1, "business_mix": {"wealth": 1.0}},
    },
    "counters": {"general": {"tellers": 3}},
    "stages": {
        "advisor": {
            "counters": {"rm": {"tellers": 2, "cost_per_hour": 150.0}},
            "service": {"wealth": {"kind": "exponential", "mean": 15.0}},
            "expected_wait": {"ordinary": 10.0},
        }
    },
    "routes": {
        "wealth": {
            "stages": ["teller", "advisor"],
            "share": {"advisor": 0.3},
            "segments": {"vip": {"stages": ["teller", "advisor"]}},
        }
    },
}


def build(changes: dict[str, Any] | None = None) -> Scenario:
    return Scenario.model_validate(deep_merge(TWO, changes or {}))


def test_routes_give_stages_and_shares_per_segment():
    s = build()
    assert s.stage_names == ["teller", "advisor"]
    assert s.route("ordinary", "wealth") == (["teller", "advisor"], [1.0, 0.3])
    assert s.route("vip", "wealth") == (["teller", "advisor"], [1.0, 1.0])
    assert s.route("ordinary", "deposit") == (["teller"], [1.0])


def test_stage_staff_cost_is_counted():
    s = build()
    # 3 tellers at 0 + 2 advisors at 150 for 8 hours
    assert s.staff_cost() == pytest.approx(2 * 8 * 150.0)


def test_a_one_stage_scenario_dumps_as_before():
    d = load_scenario("default_branch").model_dump()
    assert "stages" not in d and "routes" not in d and "first_stage" not in d
    two = build().model_dump()
    assert two["stages"] and two["routes"] and two["first_stage"] == "teller"
    assert Scenario.model_validate(two) == build()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"routes": {"wealth": {"stages": ["teller", "advisr"]}}},
            ["advisr", "did you mean 'advisor'"],
        ),
        ({"routes": {"welth": {"stages": ["teller"]}}}, ["routes.welth", "did you mean 'wealth'"]),
        (  # straight to the advisor
            {"routes": {"wealth": {"stages": ["advisor"], "share": {"advisor": 1.0}}}},
            [],
        ),
        ({"routes": {"wealth": {"share": {"advisor": 1.5}}}}, ["share", "less than or equal to 1"]),
        (
            {"routes": {"wealth": {"share": {"advisor": -0.1}}}},
            ["share", "greater than or equal to 0"],
        ),
        (
            {"routes": {"wealth": {"share": {"pharmacy": 0.5}}}},
            ["share", "'pharmacy' is not a stage"],
        ),
        (
            {"routes": {"wealth": {"share": {"teller": 0.5, "advisor": 0.5}}}},
            ["at least one stage of the route must have share 1"],
        ),
        (
            {"routes": {"wealth": {"segments": {"vipp": {"stages": ["teller"]}}}}},
            ["vipp", "did you mean"],
        ),
        (
            {"stages": {"advisor": {"counters": {"rm": {"tellers": 0}}}}},
            ["stages.advisor.counters", "no staffed"],
        ),
        (
            {"stages": {"advisor": {"counters": {"rm": {"segments": ["vip"]}}}}},
            ["segment 'ordinary'"],
        ),
        (
            {"stages": {"advisor": {"service": {"deposit": {"kind": "exponential", "mean": 3.0}}}}},
            [],
        ),
        (
            {"stages": {"teller": {"counters": {"x": {}}, "service": {}}}},
            ["stages.teller", "first stage"],
        ),
        ({"stages": {"advisor": {"expected_wait": {"vipp": 3.0}}}}, ["expected_wait", "vipp"]),
    ],
)
def test_bad_stages_and_routes_are_refused_with_the_field(changes, words):
    if not words:  # a valid variant
        build(changes)
        return
    with pytest.raises(ValueError) as err:
        build(changes)
    text = str(err.value)
    for w in words:
        assert w in text, text


def test_a_stage_without_service_for_a_routed_business_is_refused():
    data = deep_merge(TWO, {})
    data["stages"]["advisor"]["service"] = {"deposit": {"kind": "exponential", "mean": 3.0}}
    with pytest.raises(
        ValueError, match=r"stages\.advisor\.service: no service time for business 'wealth'"
    ):
        Scenario.model_validate(data)


def test_routes_must_follow_the_stage_order():
    data = deep_merge(TWO, {})
    data["stages"]["cashier"] = {
        "counters": {"c": {}},
        "service": {"wealth": {"kind": "exponential", "mean": 2.0}},
    }
    data["routes"]["wealth"]["stages"] = ["teller", "cashier", "advisor"]
    with pytest.raises(ValueError, match="order of the stages table"):
        Scenario.model_validate(data)
    data["routes"]["wealth"]["stages"] = ["teller", "advisor", "advisor"]
    with pytest.raises(ValueError, match="must not repeat"):
        Scenario.model_validate(data)


def test_stage_load_is_routed_work_over_the_stage_teller_time():
    import peakend as pe

    t = pe.scenarios.tandem(1.0, [(0.5, 3), (0.4, 2)], 8)
    assert t.stage_load("station2") == pytest.approx(1.0 / (2 * 0.4))  # lambda / (c mu)
    assert t.offered_load() == pytest.approx(1.25)  # the busiest stage
    s = build()
    # 30 / h arrivals; wealth: 0.9 * 0.3 at share 0.3 plus 0.1 (VIPs) at share 1; 15 min
    # each, over 2 advisors for 8 hours
    work = 30 * 8 * (0.9 * 0.3 * 0.3 + 0.1 * 1.0) * 15.0
    assert s.stage_load("advisor") == pytest.approx(work / (2 * 8 * 60))


def test_tandem_refuses_bad_stations():
    import peakend as pe

    for bad, word in (
        ([], "1 to 50"),
        ([(0.5,)], "pair"),
        ([(0.0, 2)], "service_rate"),
        ([(0.5, 0)], "servers"),
    ):
        with pytest.raises(ValueError, match=word):
            pe.scenarios.tandem(1.0, bad, 8)
