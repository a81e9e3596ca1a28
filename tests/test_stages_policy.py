"""Policies reach every stage: staff a stage's counter group, change a route share."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_stages import build

import peakend as pe
from peakend.config import PolicyError
from peakend.experiment._policy import Policy


def test_a_policy_staffs_a_later_stage_and_changes_a_route_share():
    s = build()
    more = Policy("more_rm", {"stages": {"advisor": {"counters": {"rm": {"tellers": 4}}}}})
    share = Policy("share", {"routes": {"wealth": {"share": {"advisor": 0.8}}}})
    assert more.apply(s).stages["advisor"].counters["rm"].tellers == 4
    assert share.apply(s).route("ordinary", "wealth")[1] == [1.0, 0.8, 1.0]
    assert more.apply(s).staff_cost() == s.staff_cost()  # rm costs 0 per hour here


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"stages": {"advisr": {"counters": {"rm": {"tellers": 4}}}}},
            ["stages.advisr", "did you mean 'advisor'"],
        ),
        (
            {"stages": {"advisor": {"counters": {"r": {"tellers": 4}}}}},
            ["counters.r", "did you mean 'rm'"],
        ),
        (
            {"routes": {"wealth": {"share": {"advisor": 1.8}}}},
            ["routes.wealth.share.advisor", "less than or equal to 1"],
        ),
        (
            {"routes": {"deposit": {"share": {"advisor": 0.5}}}},
            ["routes.deposit.share", "not a stage of this route"],
        ),
        (
            {"stages": {"advisor": {"counters": {"rm": {"tellers": 0}}}}},
            ["no staffed counter group"],
        ),
    ],
)
def test_bad_stage_policies_are_refused_with_the_field(changes, words):
    with pytest.raises(PolicyError) as err:
        Policy("bad", changes).apply(build())
    for w in words:
        assert w in str(err.value), str(err.value)


def test_run_compares_stage_policies_on_common_random_numbers():
    s = build()
    policies = {
        "baseline": {},
        "more_rm": {"stages": {"advisor": {"counters": {"rm": {"tellers": 4}}}}},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pe.run(s, policies=policies, replications=6, seed=3, workers=1)
    frame = r.to_pandas()
    assert set(frame["policy"]) == {"baseline", "more_rm"}
    rows = frame[(frame["segment"] == "all") & (frame["metric"] == "wait_mean")]
    base = rows[rows["policy"] == "baseline"].sort_values("replication")["value"].to_numpy()
    more = rows[rows["policy"] == "more_rm"].sort_values("replication")["value"].to_numpy()
    assert base.size == more.size == 6
    # paired on the same customers: twice the advisors shorten the mean total wait
    assert np.mean(more - base) < 0


def test_branch_with_advisors_and_its_policy_set():
    from peakend.experiment._policy import builtin_policy_sets, load_policies

    s = pe.load_scenario("branch_with_advisors")
    assert s.stage_names == ["teller", "advisor"]
    assert s.route("vip", "wealth")[1] == [0.3, 1.0]
    assert "branch_with_advisors" in builtin_policy_sets()
    path = pe.config.builtin_dir() / "policies" / "branch_with_advisors.toml"
    policies = load_policies(path, s)
    assert len(policies) >= 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in policies:
            variant = p.apply(s)
            assert p.name == "baseline" or variant != s
        day = pe.simulate(s, seed=2)
    names = np.array(day.touchpoints)[day.episodes["touchpoint"]]
    assert (names == "service@advisor").sum() > 10
    # every VIP wealth customer served at the teller or skipping it went on to an advisor
    sv, c = day.stage_visits, day.customers
    vip_wealth = (c["segment"] == day.code("segments", "vip")) & (
        c["business"] == day.code("business_types", "wealth")
    )
    teller_served = np.zeros(len(day), bool)
    m0 = (sv["stage"] == 0) & ~np.isnan(sv["service_start"])
    teller_served[sv["customer"][m0]] = True
    at_advisor = np.zeros(len(day), bool)
    at_advisor[sv["customer"][sv["stage"] == 1]] = True
    at_teller = np.zeros(len(day), bool)
    at_teller[sv["customer"][sv["stage"] == 0]] = True
    np.testing.assert_array_equal(at_advisor[vip_wealth & (teller_served | ~at_teller)], True)
    assert (vip_wealth & ~at_teller).sum() > (vip_wealth & at_teller).sum()


def test_multi_stage_runs_give_the_same_results_on_any_number_of_workers():
    s = build()
    policies = {"baseline": {}, "share": {"routes": {"wealth": {"share": {"advisor": 0.7}}}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = pe.run(s, policies=policies, replications=4, seed=8, workers=1).to_pandas()
        two = pe.run(s, policies=policies, replications=4, seed=8, workers=2).to_pandas()
    key = ["policy", "replication", "segment", "metric"]
    one = one.sort_values(key).reset_index(drop=True)
    two = two.sort_values(key).reset_index(drop=True)
    np.testing.assert_array_equal(one["value"].to_numpy(), two["value"].to_numpy())


def test_clinic_and_its_policy_set():
    from peakend.experiment._policy import load_policies

    s = pe.load_scenario("clinic")
    assert s.stage_names == ["triage", "doctor", "pharmacy"]
    assert s.route("booked", "consultation") == (["doctor", "pharmacy"], [1.0, 0.7])
    policies = load_policies(pe.config.builtin_dir() / "policies" / "clinic.toml", s)
    assert {p.name for p in policies} >= {"baseline", "fourth_doctor", "second_pharmacist"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pe.run(
            s, policies={p.name: p.changes for p in policies}, replications=4, seed=5, workers=1
        )
    frame = r.to_pandas()
    rows = frame[(frame["segment"] == "all") & (frame["metric"] == "wait_mean")]
    mean = rows.groupby("policy")["value"].mean()
    # more doctors or pharmacists cannot lengthen the mean total wait much; here they cut it
    assert mean["fourth_doctor"] < mean["baseline"]
    assert mean["second_pharmacist"] < mean["baseline"]
    one = pe.simulate(s, seed=1)
    sv = one.stage_visits
    booked_consult = (one.customers["segment"] == one.code("segments", "booked")) & (
        one.customers["business"] == one.code("business_types", "consultation")
    )
    triaged = np.zeros(len(one), bool)
    triaged[sv["customer"][sv["stage"] == 0]] = True
    assert booked_consult.any() and not triaged[booked_consult].any()
