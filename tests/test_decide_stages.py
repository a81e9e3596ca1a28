"""optimize_staffing plans the counter groups of every stage (issue 14's per-stage staffing)."""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import peakend as pe
from peakend import theory
from peakend.decide import optimize_staffing, parse_targets
from peakend.decide.blocks import group_flows, plan_changes, resolve_groups, staff_groups

# A 24-hour two-stage day: everyone sees a teller (M/M/c, mean 3.5 min); wealth customers
# go on to an advisor (mean 15 min) who serves VIPs first (non-preemptive priority).
TELLER_MEAN, ADVISOR_MEAN, RATE = 3.5, 15.0, 30.0  # minutes, minutes, arrivals per hour
SHARES = {"quick": 0.5, "vip": 0.4, "advised": 0.1}
TWO_STAGE: dict[str, Any] = {
    "name": "two_stage",
    "opening": 0.0,
    "closing": 24.0,
    "first_stage": "teller",
    "arrivals": {"profile": [{"start": 0.0, "rate": RATE}]},
    "business_types": {
        "deposit": {"service": {"kind": "exponential", "mean": TELLER_MEAN}},
        "wealth": {"service": {"kind": "exponential", "mean": TELLER_MEAN}},
    },
    "segments": {
        "quick": {"share": SHARES["quick"], "business_mix": {"deposit": 1.0}},
        "vip": {"share": SHARES["vip"], "business_mix": {"wealth": 1.0}},
        "advised": {"share": SHARES["advised"], "business_mix": {"wealth": 1.0}},
    },
    "counters": {"general": {"tellers": 3, "cost_per_hour": 80}},
    "stages": {
        "advisor": {
            "counters": {"rm": {"tellers": 5, "cost_per_hour": 150, "discipline": "priority",
                                "priority": ["vip"]}},
            "service": {"wealth": {"kind": "exponential", "mean": ADVISOR_MEAN}},
        }
    },
    "routes": {"wealth": {"stages": ["teller", "advisor"]}},
}


def two_stage(hours: float = 24.0) -> pe.Scenario:
    return pe.Scenario.model_validate({**TWO_STAGE, "closing": hours})


def _smallest(f, w: float, start: int = 1) -> int:
    c = start
    while f(c) > w:
        c += 1
    return c


def _waits(scenario: pe.Scenario, policy: pe.Policy, target: str, n: int, seed: int):
    (t,) = parse_targets(target, scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = pe.run(scenario, policy, replications=n, seed=seed, progress=False)
    return t, np.asarray(res.get(t.metric, t.segment, policy.name))


# --------------------------------------------------------------------------- names
def test_every_stage_group_is_planned_under_its_journeys_name():
    s = pe.load_scenario("branch_with_advisors")
    assert resolve_groups(s, None) == ["general", "vip", "advisor/rm"]
    assert set(pe.simulate(s, seed=1).meta["counter_group"]) <= {"general", "vip", "advisor/rm"}
    refs = staff_groups(s)
    assert refs["advisor/rm"].path == "stages.advisor.counters.rm.tellers"
    assert refs["general"].path == "counters.general.tellers"
    # the first stage's groups may be written with their stage too
    assert resolve_groups(s, ["teller/general", "advisor/rm"]) == ["general", "advisor/rm"]
    changes = plan_changes(s, {"general": [3], "advisor/rm": [2, 3]}, [(9.0, 12.0), (12.0, 17.0)])
    applied = pe.Policy("p", changes).apply(s)
    assert applied.counters["general"].tellers == 3
    rm = applied.stages["advisor"].counters["rm"]
    assert [(b.start, b.count) for b in rm.tellers] == [(9.0, 2), (12.0, 3)]


@pytest.mark.parametrize(("groups", "words"), [
    (["rm"], ["unknown counter group 'rm'", "did you mean 'advisor/rm'"]),
    (["advisor/rn"], ["unknown counter group 'advisor/rn'", "did you mean 'advisor/rm'"]),
    (["advisor"], ["did you mean 'advisor/rm'"]),
    (["genral"], ["valid: general, vip, advisor/rm", "did you mean 'general'"]),
    (["vip", "vip"], ["'vip' is named twice"]),
    ([], ["name at least one counter group"]),
])
def test_bad_group_names_are_refused_before_simulating(groups, words):
    s = pe.load_scenario("branch_with_advisors")
    with pytest.raises(ValueError) as info:
        optimize_staffing(s, ["all.wait_mean <= 5"], groups=groups)
    for w in words:
        assert w in str(info.value)
    assert str(info.value).startswith("groups: ")


def test_each_stage_meets_the_demand_its_routes_send_it():
    s = pe.load_scenario("branch_with_advisors")
    flows = group_flows(s)
    # advisor: every VIP wealth visit (their teller share of 0.3 does not gate the advisor's
    # 1.0), 60 % of the gold and ordinary wealth visits; 20 minutes each
    expect = 0.05 * 0.5 + 0.15 * 0.2 * 0.6 + 0.80 * 0.05 * 0.6
    assert flows["advisor/rm"].share == pytest.approx(expect)
    assert flows["advisor/rm"].service == pytest.approx(20.0)
    # the VIP window sees 30 % of the VIP wealth visits only
    vip = 0.05 * (0.2 * 0.9 + 0.1 * 0.8 + 0.2 * 1.0 + 0.5 * 0.3)
    assert flows["vip"].share == pytest.approx(vip)
    # the lag adds the service before on the route (VIP wealth: 0.3 x 6 minutes at a teller)
    before = (0.05 * 0.5 * 0.3 * 6.0 + (0.15 * 0.2 + 0.80 * 0.05) * 0.6 * 6.0) / expect
    assert flows["advisor/rm"].lag == pytest.approx(20.0 + before)
    # on the simulated days: advisor visits per day against the routed demand
    potential = sum(b.rate for b in s.arrivals.profile)  # hourly blocks over 8 hours
    days = [pe.simulate(s, seed=k) for k in range(20)]
    visits = [int(np.sum(d.stage_visits["stage"] == d.stages.index("advisor"))) for d in days]
    mean, se = np.mean(visits), np.std(visits, ddof=1) / math.sqrt(len(visits))
    # abandonment at the teller only lowers it
    assert mean <= potential * expect + 3 * se
    assert mean >= 0.9 * potential * expect - 3 * se


# --------------------------------------------------------------------------- validation
def test_tandem_plan_is_the_cheapest_jackson_network_meeting_the_wait():
    # stations M/M/c in series: in steady state the mean time waiting is the sum of each
    # station's Erlang C wait (Jackson); the cheapest (c1, c2) meeting the target is unique
    lam, mu1, mu2, w = 1.0, 0.5, 0.2, 0.75
    total = {(c1, c2): theory.erlang_c_wait(lam, mu1, c1) + theory.erlang_c_wait(lam, mu2, c2)
             for c1 in range(3, 9) for c2 in range(6, 12)}
    best = min(c1 + c2 for (c1, c2), v in total.items() if v <= w)
    (star,) = [k for k, v in total.items() if v <= w and sum(k) == best]
    assert star == (4, 8) and total[star] < 0.65 * w
    # the pairs one teller cheaper fail clearly
    assert min(v for k, v in total.items() if sum(k) < best) > 1.3 * w
    s = pe.scenarios.tandem(lam, [(mu1, 1), (mu2, 1)], 12)
    plan = optimize_staffing(s, [f"all.wait_mean <= {w}"], replications=8, seed=1)
    assert plan.tellers == {"servers": [star[0]], "station2/servers": [star[1]]}
    assert plan.verified and plan.cost == pytest.approx(12 * sum(star))  # teller-hours
    assert plan.paths["station2/servers"] == "stages.station2.counters.servers.tellers"
    applied = plan.policy.apply(s)
    assert applied.counters["servers"].tellers == star[0]
    assert applied.stages["station2"].counters["servers"].tellers == star[1]


def test_a_failing_advised_wait_is_met_by_adding_advisors_not_tellers():
    s = two_stage()
    w = 6.0
    target = f"advised.wait_mean <= {w}"
    lam = RATE / 60.0
    lam_vip, lam_adv = lam * SHARES["vip"], lam * SHARES["advised"]
    mu_t, mu_a = 1.0 / TELLER_MEAN, 1.0 / ADVISOR_MEAN
    # theory: the start treats the advisors as one FIFO M/M/c queue (Erlang C); with VIPs
    # served first, the advised customers wait Cobham's low-priority wait, plus the teller's
    tellers = _smallest(lambda c: theory.erlang_c_wait(lam, mu_t, c), w, 2)
    fifo = _smallest(lambda c: theory.erlang_c_wait(lam_vip + lam_adv, mu_a, c), w, 4)

    def advised(c_t, c_a):
        return theory.erlang_c_wait(lam, mu_t, c_t) + theory.priority_waits(
            [lam_vip, lam_adv], mu_a, c_a)[1]

    star = _smallest(lambda c: advised(tellers, c), w, 4)
    assert (tellers, fifo, star) == (3, 5, 6)
    assert advised(tellers, fifo) > 2 * w and advised(tellers + 1, fifo) > 2 * w
    assert advised(tellers, star) < 0.7 * w and advised(tellers - 1, star) > 1.5 * w
    # the branch as configured (the FIFO-theory count of advisors) fails on fresh days
    t, base = _waits(s, pe.Policy("baseline"), target, 20, 77)
    assert not t.evaluate(base, 0.95).holds and base.mean() > 1.5 * w

    plan = optimize_staffing(s, [target], replications=10, seed=1)
    assert plan.start == {"general": [tellers], "advisor/rm": [fifo]}
    assert plan.tellers == {"general": [tellers], "advisor/rm": [star]}
    added = [h["tellers"] for h in plan.history if h["phase"] == "add"]
    assert added and all(h["general"] == [tellers] for h in added)
    assert plan.verified and plan.binding == [target]
    applied = plan.policy.apply(s)
    assert plan.cost == pytest.approx(applied.staff_cost())
    assert plan.cost == pytest.approx(24 * (tellers * 80 + star * 150))
    # the plan's policy meets the target on fresh replications, with pe.run
    t, fresh = _waits(s, plan.policy, target, 20, 991)
    assert t.evaluate(fresh, 0.95).holds


# --------------------------------------------------------------------------- command line
def test_optimize_subcommand_on_stages_writes_a_policy_that_loads_back(tmp_path, capsys):
    from peakend.decide import cli
    from peakend.experiment import load_policies

    s = pe.scenarios.tandem(1.0, [(0.5, 1), (0.2, 1)], 12)
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "plan.toml"
    args = parser.parse_args(["optimize", "tandem", "-t", "all.wait_mean <= 0.75",
                              "--groups", "servers,station2/servers", "-n", "8", "-s", "1",
                              "--out", str(out)])
    args.scenario = s
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "station2/servers" in text and "stages.station2.counters.servers.tellers" in text
    assert "[optimized.changes.stages.station2.counters.servers]" in out.read_text()
    (policy,) = load_policies(out, s)
    applied = policy.apply(s)
    assert applied.counters["servers"].tellers == 4
    assert applied.stages["station2"].counters["servers"].tellers == 8


def test_the_command_line_does_not_import_the_experiment_machinery_to_start():
    code = ("import sys\nfrom peakend.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('peakend.experiment', "
            "'peakend.decide.staffing', 'pandas'))))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.strip().splitlines()[-1] == "[]"
    # the lazy names still resolve
    import peakend.decide as decide

    assert decide.optimize_staffing is optimize_staffing
    assert sorted(decide.__all__) == sorted(decide._LAZY)


# --------------------------------------------------------------------------- selection, sensitivity
def _advisors(c: int) -> pe.Policy:
    return pe.Policy(f"rm{c}", {"stages": {"advisor": {"counters": {"rm": {"tellers": c}}}}})


def test_select_best_compares_policies_that_staff_a_later_stage():
    # Cobham: the advised customers' advisor wait falls from ~14 to ~3 to ~0.8 minutes with
    # 5, 6, 7 advisors; a policy that did not reach the stage would leave them all equal
    lam = RATE / 60.0
    waits = [theory.priority_waits([lam * SHARES["vip"], lam * SHARES["advised"]],
                                   1.0 / ADVISOR_MEAN, c)[1] for c in (5, 6, 7)]
    assert waits[0] - waits[1] > 5 and waits[1] - waits[2] > 1.5
    sel = pe.select_best(two_stage(8), [_advisors(c) for c in (5, 6, 7)], "advised.wait_mean",
                         delta=0.5, seed=3, n0=6, batch=4, max_replications=60)
    assert sel.best == "rm7" and not sel.stopped
    assert sel.replications["rm5"] <= sel.replications["rm7"]


def test_sensitivity_reaches_stage_fields_and_a_stage_leaves_earlier_waits_alone():
    params = {"stages.advisor.counters.rm.tellers": (5, 8),
              "business_types.deposit.service.mean": (3.0, 3.8)}
    s = two_stage(8)
    quick = sensitivity_of(s, params, "quick.wait_mean")
    advised = sensitivity_of(s, params, "advised.wait_mean")
    # quick customers never see an advisor: with CRN the advisors' effect is exactly zero
    assert quick.loc["stages.advisor.counters.rm.tellers", "mu_star"] == 0.0
    assert quick.loc["business_types.deposit.service.mean", "mu"] > 0
    # more advisors: shorter waits for the customers routed to them
    rm = advised.loc["stages.advisor.counters.rm.tellers"]
    assert rm["mu"] < 0 and rm["mu_star"] > rm["mu_star_conf"]


def sensitivity_of(s: pe.Scenario, params: dict[str, Any], metric: str):
    res = pe.sensitivity(s, None, params, metric=metric, method="morris", n=4, replications=2,
                         seed=5)
    return res.indices.set_index("parameter")
