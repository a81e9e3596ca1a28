"""Loads and staff hours per stage: every stage by name, clear errors for unknown names."""

from __future__ import annotations

import math

import pytest

import peakend as pe


def test_the_first_stage_load_counts_only_the_customers_routed_to_it():
    s = pe.load_scenario("clinic")  # booked consultations skip triage
    work = 0.0
    for sn, seg in s.segments.items():
        for b, share in seg.business_mix.items():
            names, shares = s.route(sn, b)
            if "triage" in names:
                work += seg.share * share * shares[0] * s.business_types[b].service.mean
    arrivals = s.expected_arrivals()
    capacity = 60.0 * s.teller_hours("nurses")
    assert s.stage_load("triage") == pytest.approx(arrivals * work / capacity, rel=1e-12)
    everyone = arrivals * sum(
        seg.share * share * s.business_types[b].service.mean
        for seg in s.segments.values()
        for b, share in seg.business_mix.items()
    ) / capacity
    assert s.stage_load("triage") < everyone  # the booked patients are not counted
    assert s.offered_load() == max(s.stage_load(x) for x in s.stage_names)


def test_availability_lowers_the_capacity_in_the_load():
    s = pe.load_scenario("default_branch")
    data = s.model_dump()
    for c in data["counters"].values():
        c["availability"] = 0.5
    half = pe.Scenario.model_validate(data)
    assert half.offered_load() == pytest.approx(2.0 * s.offered_load(), rel=1e-9)
    assert half.staff_cost() == s.staff_cost()  # breaks are paid


def test_later_stage_groups_by_stage_and_name():
    s = pe.load_scenario("clinic")
    doctors = s.stages["doctor"].counters["doctors"]
    assert s.counter_group("doctor/doctors") is doctors
    assert s.tellers_at("doctor/doctors", 12.5) == 2 and s.tellers_at("doctor/doctors", 9) == 3
    assert s.teller_hours("doctor/doctors") == pytest.approx(3 * 4 + 2 * 1 + 3 * 3)
    with pytest.raises(ValueError, match=r"did you mean 'doctor/doctors'.*valid: nurses"):
        s.tellers_at("doctors", 9.0)
    with pytest.raises(ValueError, match=r"stage: no stage 'pharmcy'; did you mean 'pharmacy'"):
        s.stage_load("pharmcy")
    assert math.isfinite(s.stage_load("pharmacy"))


def test_a_one_stage_scenario_refuses_a_touchpoint_before_a_stage_it_lacks():
    data = pe.load_scenario("default_branch").model_dump()
    data["touchpoints"] = {
        "walk": {"position": "before_stage", "stage": "advisr", "minutes": 1.0}
    }
    with pytest.raises(ValueError, match=r"touchpoints\.walk\.stage: unknown stage 'advisr'"):
        pe.Scenario.model_validate(data)


def test_a_segment_that_comes_only_in_a_mix_block_is_checked_at_its_stages():
    s = pe.load_scenario("branch_with_advisors")
    data = s.model_dump()
    names = list(data["segments"])
    vip = "vip"
    rest = [x for x in names if x != vip]
    # VIPs come only between 10:00 and 11:00 (share 0 over the day) ...
    data["segments"][vip]["share"] = 0.0
    total = sum(data["segments"][x]["share"] for x in rest)
    for x in rest:
        data["segments"][x]["share"] /= total
    block = {x: 1.0 / len(names) for x in names}
    data["arrivals"]["segment_mix"] = [
        {"start": 9.0, "shares": {**{x: 1.0 / len(rest) for x in rest}, vip: 0.0}},
        {"start": 10.0, "shares": block},
        {"start": 11.0, "shares": {**{x: 1.0 / len(rest) for x in rest}, vip: 0.0}},
    ]
    pe.Scenario.model_validate(data)  # valid as it is
    # ... and the advisor stage cannot serve them: refused, although their day share is 0
    data["stages"]["advisor"]["counters"]["rm"]["segments"] = rest
    with pytest.raises(ValueError, match="no staffed counter group serves segment 'vip'"):
        pe.Scenario.model_validate(data)


def test_a_later_stage_load_matches_the_simulated_visits():
    """Each stage's routing is its own draw: the load counts its share, not a product."""
    import numpy as np

    s = pe.load_scenario("branch_with_advisors")
    st = s.stages["advisor"]
    mean = {b: d.mean for b, d in st.service.items()}
    minutes = []
    for seed in range(20):
        day = pe.simulate(s, seed=seed)
        sv = day.stage_visits
        adv = sv["customer"][sv["stage"] == 1]
        bus = np.asarray(day.customers["business"])[adv]
        minutes.append(sum(mean[day.business_types[b]] for b in bus))
    capacity = 60.0 * sum(s.teller_hours(f"advisor/{g}") for g in st.counters)
    m = np.array(minutes) / capacity
    half = 3.0 * m.std(ddof=1) / np.sqrt(m.size)
    # all who visit are counted (an upper bound: nobody reneged before is left out here)
    assert abs(m.mean() - s.stage_load("advisor")) < half + 0.02 * s.stage_load("advisor")
