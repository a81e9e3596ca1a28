"""optimize_staffing: target parsing, validation against Erlang C, a time-varying day."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend import theory
from peakend.decide import (
    TargetsUnreachable,
    metric_choices,
    optimize_staffing,
    parse_metric,
    parse_targets,
)
from peakend.decide.blocks import block_values, resolve_blocks

matplotlib.use("Agg")


# --------------------------------------------------------------------------- targets
def test_parse_targets_reads_segment_metric_operator_value():
    s = pe.load_scenario("default_branch")
    t = parse_targets(["ordinary.remembered[peak_end] >= 0", "all.wait_p90<=10",
                       "vip.abandonment_rate <= 2e-2"], s)
    assert [(x.segment, x.metric, x.op, x.value) for x in t] == [
        ("ordinary", "remembered[peak_end]", ">=", 0.0), ("all", "wait_p90", "<=", 10.0),
        ("vip", "abandonment_rate", "<=", 0.02)]
    assert t[0].rule == "peak_end" and t[1].rule is None and t[1].upper and not t[0].upper


@pytest.mark.parametrize(("text", "fragment"), [
    ("ordinry.wait_mean <= 3", "did you mean 'ordinary'"),
    ("all.wait_maen <= 3", "did you mean 'wait_mean'"),
    ("all.remembered[peak_ned] >= 0", "did you mean 'remembered[peak_end]'"),
    ("all.remembered >= 0", "name the memory rule"),
    ("all.wait_mean == 3", "expected 'segment.metric OP value'"),
    ("wait_mean <= 3", "expected 'segment.metric OP value'"),
    ("all.wait_mean <= ten", "expected 'segment.metric OP value'"),
])
def test_parse_targets_errors_name_the_target_and_suggest(text, fragment):
    s = pe.load_scenario("default_branch")
    with pytest.raises(ValueError) as info:
        parse_targets([text], s)
    assert repr(text) in str(info.value) and fragment in str(info.value)


def test_parse_targets_lists_valid_segments_and_rejects_empty():
    s = pe.load_scenario("default_branch")
    with pytest.raises(ValueError, match="valid segments: all, vip, gold, ordinary"):
        parse_targets("nobody.wait_mean <= 1", s)
    with pytest.raises(ValueError, match="at least one target"):
        parse_targets([], s)
    assert parse_metric("gold.wait_p90", s) == ("gold", "wait_p90")


def test_target_bound_is_one_sided_t_bound():
    t = parse_targets("all.wait_mean <= 1.1")[0]
    x = np.array([0.5, 0.7, 0.9, np.nan])
    b = t.evaluate(x, 0.95)
    from scipy import stats
    expect = 0.7 + stats.t.ppf(0.95, 2) * 0.2 / math.sqrt(3)
    assert b.n == 3 and b.bound == pytest.approx(expect) and b.holds
    assert not parse_targets("all.wait_mean <= 1.0")[0].evaluate(x, 0.95).holds
    lower = parse_targets("all.wait_mean >= 0.5")[0].evaluate(x, 0.95)
    assert lower.bound == pytest.approx(0.7 - (expect - 0.7)) and not lower.holds


# --------------------------------------------------------------------------- arguments
def test_bad_arguments_are_refused_before_simulating():
    s = pe.scenarios.mmc(1.0, 0.5, 3, 2)
    with pytest.raises(ValueError, match=r"groups: unknown counter group 'server'.*'servers'"):
        optimize_staffing(s, "all.wait_mean <= 1", groups=["server"])
    with pytest.raises(ValueError, match="blocks: the first block must start at opening"):
        optimize_staffing(s, "all.wait_mean <= 1", blocks=[0.5, 1.0])
    with pytest.raises(ValueError, match="blocks: starts must strictly increase"):
        optimize_staffing(s, "all.wait_mean <= 1", blocks=[0, 1.5, 1.0])
    with pytest.raises(ValueError, match="replications: must be an integer in 3"):
        optimize_staffing(s, "all.wait_mean <= 1", replications=2)
    with pytest.raises(ValueError, match="confidence"):
        optimize_staffing(s, "all.wait_mean <= 1", confidence=1.5)
    with pytest.raises(ValueError, match=r"per_block.*no per-block value"):
        optimize_staffing(s, "all.cost <= 1", per_block=True)


def test_resolve_blocks_defaults_to_the_shift_plan_or_one_block():
    s = pe.load_scenario("default_branch")
    assert resolve_blocks(s, ["general"], None) == [(9.0, 17.0)]
    shifted = pe.Policy("x", {"counters": {"general": {"tellers": [
        {"start": 9.0, "count": 3}, {"start": 12.0, "count": 5}]}}}).apply(s)
    assert resolve_blocks(shifted, ["general"], None) == [(9.0, 12.0), (12.0, 17.0)]
    assert resolve_blocks(s, ["general"], 4)[1] == (11.0, 13.0)
    assert resolve_blocks(s, ["general"], ["09:00", "13:30"]) == [(9.0, 13.5), (13.5, 17.0)]


# --------------------------------------------------------------------------- validation
def _erlang_smallest(lam, mu, w):
    c = math.floor(lam / mu) + 1
    while theory.erlang_c_wait(lam, mu, c) > w:
        c += 1
    return c


@pytest.mark.parametrize(("lam", "mu", "w"), [
    (1.8, 0.5, 1.0),    # c* = 5: W(5) = 0.59, W(4) = 3.9
    (0.6, 0.25, 1.5),   # c* = 4: W(4) = 0.72, W(3) = 4.3
    (4.0, 0.5, 0.75),   # c* = 10: W(10) = 0.41, W(9) = 1.31
])
def test_optimizer_matches_erlang_c_on_mmc(lam, mu, w):
    c_star = _erlang_smallest(lam, mu, w)
    # targets away from the knife edge: W(c*) well below w, W(c* - 1) well above
    assert theory.erlang_c_wait(lam, mu, c_star) < 0.6 * w
    assert theory.erlang_c_wait(lam, mu, c_star - 1) > 1.7 * w
    plan = optimize_staffing(pe.scenarios.mmc(lam, mu, 1, 24), [f"all.wait_mean <= {w}"],
                             replications=8, seed=3)
    assert plan.tellers == {"servers": [c_star]}
    assert plan.verified and plan.cost == pytest.approx(24 * c_star)
    assert plan.cost_unit == "teller-hours"
    assert plan.binding == [f"all.wait_mean <= {w}"] and plan.optional == []


def test_optimizer_matches_the_mmc_wait_quantile_from_a_square_root_start():
    # P(Wq > t) = C(c) exp(-(c mu - lam) t): the 90th percentile of the wait
    lam, mu, w = 2.0, 0.5, 0.6

    def p90(c):
        pc = theory.erlang_c(lam, mu, c)
        return 0.0 if pc <= 0.1 else math.log(pc / 0.1) / (c * mu - lam)

    c_star = next(c for c in range(5, 30) if p90(c) <= w)
    assert p90(c_star) < 0.5 * w and p90(c_star - 1) > 1.5 * w
    plan = optimize_staffing(pe.scenarios.mmc(lam, mu, 1, 24), [f"all.wait_p90 <= {w}"],
                             replications=8, seed=5)
    assert plan.tellers == {"servers": [c_star]}
    assert plan.start["servers"] != [c_star] or len(plan.history) > 2


def _time_varying():
    base = pe.scenarios.mmc(1.0, 0.2, 6, 6).model_dump()
    base["arrivals"]["profile"] = [{"start": 0.0, "rate": 60.0}, {"start": 2.0, "rate": 150.0},
                                   {"start": 4.0, "rate": 80.0}]
    return pe.Scenario.model_validate(base)


def test_time_varying_plan_meets_targets_per_block_on_new_seeds():
    s = _time_varying()
    target = "all.wait_mean <= 2"
    plan = optimize_staffing(s, [target], blocks=3, per_block=True, replications=12, seed=1)
    counts = plan.tellers["servers"]
    assert counts[1] > counts[0] and counts[1] > counts[2]  # the peak needs most
    t = parse_targets(target)[0]
    n = 20

    def per_block(policy, seed):
        res = pe.run(s, policy, replications=n, seed=seed, keep_journeys=True, progress=False)
        return block_values(res.journeys[policy.name], [t], plan.blocks, 0.0, n)[0]

    fresh = per_block(plan.policy, 999)
    for b in range(3):
        x = fresh[b]
        se = x.std(ddof=1) / math.sqrt(n)
        assert x.mean() <= 2.0 + 2.0 * se, (b, x.mean(), se)
    # removing any one teller breaks a target (one-sided bound) or is reported optional
    for b in range(3):
        if counts[b] <= 1:
            continue
        fewer = list(counts)
        fewer[b] -= 1
        changes = {"counters": {"servers": {"tellers": [
            {"start": 2.0 * k, "count": c} for k, c in enumerate(fewer)]}}}
        vals = per_block(pe.Policy("fewer", changes), 999)
        breaks = any(not t.evaluate(vals[k], plan.level).holds for k in range(3))
        assert breaks or f"servers@{2 * b:02d}:00" in plan.optional


def test_plan_object_policy_summary_and_plot():
    s = _time_varying()
    plan = optimize_staffing(s, ["all.wait_mean <= 3", "all.remembered[peak_end] >= -5"],
                             blocks=[0, 2, 4], replications=6, seed=2)
    applied = plan.policy.apply(s)
    assert [applied.tellers_at("servers", h) for h in (1, 3, 5)] == plan.tellers["servers"]
    assert plan.results.policies[0] == "plan"
    assert plan.simulated_days == plan.history[-1]["simulated_days"] > 0
    phases = [h["phase"] for h in plan.history]
    assert phases[0] == "evaluate" and "check" in phases
    assert set(phases) <= {"evaluate", "add", "remove", "check", "trim"}
    assert "servers" in plan.summary()
    axes = plan.plot()
    assert len(axes) == 2 and axes[1].get_ylabel().startswith("remembered[peak_end]")


def test_unreachable_targets_raise_with_the_failing_target():
    s = pe.scenarios.mmc(0.5, 0.5, 1, 2)
    with pytest.raises(TargetsUnreachable, match=r"all.remembered\[peak_end\] >= 9"):
        optimize_staffing(s, ["all.remembered[peak_end] >= 9"], replications=4, max_tellers=8)


def test_same_seed_same_plan():
    s = _time_varying()
    a = optimize_staffing(s, ["all.wait_p90 <= 4"], blocks=3, replications=5, seed=4)
    b = optimize_staffing(s, ["all.wait_p90 <= 4"], blocks=3, replications=5, seed=4)
    assert a.tellers == b.tellers and a.history == b.history


# --------------------------------------------------------------------------- command line
def test_optimize_subcommand_prints_the_plan_and_writes_a_policy_file(tmp_path, capsys):
    import argparse

    from peakend.decide import cli
    from peakend.experiment import load_policies

    s = _time_varying()
    scen = tmp_path / "day.json"
    scen.write_text(s.model_dump_json())
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "plan.toml"
    args = parser.parse_args(["optimize", "tv", "--target", "all.wait_mean <= 3",
                              "--blocks", "0:00,2:00,4:00", "-n", "5", "--out", str(out)])
    assert args.blocks == "0:00,2:00,4:00"
    args.scenario = s  # the subcommand passes the scenario on to optimize_staffing
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "staffing plan" in text and "all.wait_mean <= 3" in text
    (policy,) = load_policies(out, s)
    plan = optimize_staffing(s, ["all.wait_mean <= 3"], blocks=[0, 2, 4], replications=5)
    assert policy.apply(s).counters["servers"].tellers == \
        plan.policy.apply(s).counters["servers"].tellers


# --------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(segment=st.sampled_from(["all", "vip", "gold", "ordinary"]),
       metric=st.sampled_from(metric_choices()), op=st.sampled_from(["<=", ">=", "<", ">"]),
       value=st.floats(-1e6, 1e6, allow_nan=False), spaces=st.sampled_from(["", " ", "  "]))
def test_targets_round_trip_through_their_text(segment, metric, op, value, spaces):
    s = pe.load_scenario("default_branch")
    text = f"{spaces}{segment}.{metric}{spaces}{op}{spaces}{value!r}{spaces}"
    (t,) = parse_targets(text, s)
    assert (t.segment, t.metric, t.op, t.value) == (segment, metric, op, value)
    (again,) = parse_targets(str(t), s)
    assert (again.segment, again.metric, again.op, again.value) == (segment, metric, op, value)


def test_plan_does_not_depend_on_workers():
    s = _time_varying()
    one = optimize_staffing(s, ["all.wait_mean <= 3"], blocks=3, replications=4, seed=8)
    two = optimize_staffing(s, ["all.wait_mean <= 3"], blocks=3, replications=4, seed=8,
                            workers=2)
    assert one.tellers == two.tellers and one.history == two.history
    assert one.checks == two.checks


def test_adjustment_check_size_and_trim_options_take_effect():
    s = _time_varying()
    targets = ["all.wait_mean <= 3", "all.wait_p90 <= 8"]
    bonf = optimize_staffing(s, targets, blocks=3, per_block=True, replications=4, seed=6,
                             check_replications=7, trim=False)
    assert bonf.level == pytest.approx(1 - 0.05 / 6)  # 2 targets x 3 blocks
    assert bonf.results.n_replications == 7 and all(c["n"] <= 7 for c in bonf.checks)
    assert "trim" not in [h["phase"] for h in bonf.history]
    plain = optimize_staffing(s, targets, blocks=3, per_block=True, replications=4, seed=6,
                              adjust="none", trim=False)
    assert plain.level == 0.95 and plain.results.n_replications == 8
    # the queueing-theory start does not depend on the bounds
    assert plain.start == bonf.start


def test_groups_plan_only_the_named_counter_group():
    s = pe.load_scenario("default_branch")
    plan = optimize_staffing(s, ["vip.wait_mean <= 4"], groups=["vip"], replications=4, seed=1)
    assert list(plan.tellers) == ["vip"]
    assert plan.policy.apply(s).counters["general"].tellers == 4
    assert plan.cost == pytest.approx(plan.policy.apply(s).staff_cost())
