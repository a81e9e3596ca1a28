"""Model features for calibration (issue 13): availability, time-of-day mix, shared priority
levels, Weibull and mixture durations. Checked against closed forms where there is one."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

import peakend as pe
from peakend.config import Scenario, deep_merge
from peakend.config.models import Mixture, Weibull, weibull_shape
from peakend.sim.draws import draw_day
from peakend.sim.sampling import ppf
from peakend.sim.staff import BREAK_CYCLE_MINUTES, shift_events
from peakend.theory import erlang_b, priority_waits

BASE: dict[str, Any] = {
    "name": "features",
    "opening": 9.0,
    "closing": 17.0,
    "arrivals": {"profile": [{"start": 9.0, "rate": 50.0}]},
    "business_types": {"cash": {"service": {"kind": "exponential", "mean": 4.0}}},
    "segments": {
        "a": {"share": 0.5, "business_mix": {"cash": 1.0}},
        "b": {"share": 0.5, "business_mix": {"cash": 1.0}},
    },
    "counters": {"desk": {"tellers": 4}},
    "journey": ["waiting", "service"],
}


def build(changes: dict[str, Any] | None = None) -> Scenario:
    return Scenario.model_validate(deep_merge(BASE, changes or {}))


def with_service(s: Scenario, service: dict[str, Any]) -> Scenario:
    """The scenario with business type ``cash``'s service replaced (validated)."""
    data = s.model_dump()
    data["business_types"]["cash"]["service"] = service
    return Scenario.model_validate(data)


def day(s: Scenario, seed: int = 1) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overload warnings are part of some tests
        return dict(pe.simulate(s, seed).customers)


def on_duty_minutes(s: Scenario, group: str) -> tuple[float, list[tuple[float, int, bool]]]:
    """Teller-minutes on duty of a group within opening hours, from the shift events."""
    _, groups, events = shift_events(s)
    horizon = s.open_minutes
    since: dict[int, float] = {}
    total = 0.0
    for t, i, on in events:
        if groups[i] != group or t >= horizon:
            continue
        if on:
            since[i] = t
        else:
            total += t - since.pop(i)
    total += sum(horizon - t for t in since.values())
    return total, [e for e in events if groups[e[1]] == group]


def available_at(events: list[tuple[float, int, bool]], t: float) -> int:
    state: dict[int, bool] = {}
    for when, i, on in events:
        if when > t:
            break
        state[i] = on
    return sum(state.values())


# --------------------------------------------------------------------------- availability
@pytest.mark.parametrize(
    "tellers, availability",
    [
        (4, 0.7),
        (3, 0.35),
        (1, 0.5),
        (
            [{"start": 9.0, "count": 2}, {"start": 11.25, "count": 5}, {"start": 15.0, "count": 1}],
            [0.9, 0.62, 0.4],
        ),
        # availability blocks of their own, not aligned with the shift plan
        (
            [{"start": 9.0, "count": 2}, {"start": 11.25, "count": 5}, {"start": 15.0, "count": 1}],
            [(9.0, 1.0), (10.5, 0.5), (12.0, 0.8), (16.5, 0.3)],
        ),
        (
            [{"start": 10.0, "count": 3}, {"start": 13.0, "count": 0}, {"start": 14.0, "count": 2}],
            0.75,
        ),
    ],
)
def test_available_teller_minutes_are_the_availability_share(tellers, availability):
    if isinstance(availability, list) and isinstance(availability[0], tuple):
        avail_blocks = availability
    elif isinstance(availability, list):
        avail_blocks = [(b["start"], a) for b, a in zip(tellers, availability, strict=True)]
    else:
        avail_blocks = [(9.0, availability)]
    given = [{"start": t, "share": a} for t, a in avail_blocks]
    s = build({"counters": {"desk": {"tellers": tellers, "availability": given}}})
    full = build({"counters": {"desk": {"tellers": tellers}}})
    minutes, events = on_duty_minutes(s, "desk")
    # the share of the plan's teller-minutes, piece by piece (count and availability constant)
    plan = full.counters["desk"].tellers
    plan_blocks = [(9.0, plan)] if isinstance(plan, int) else [(b.start, b.count) for b in plan]
    cuts = sorted({t for t, _ in plan_blocks} | {t for t, _ in avail_blocks} | {9.0})

    def at(table: list[tuple[float, Any]], t: float, before: Any) -> Any:
        value = before
        for start, v in table:
            if start <= t:
                value = v
        return value

    blocks = [(t, at(plan_blocks, t, 0)) for t in cuts]
    values = [at(avail_blocks, t, 1.0) for t in cuts]
    ends = [b[0] for b in blocks[1:]] + [17.0]
    expected = sum(
        60.0 * (end - start) * count * a
        for (start, count), end, a in zip(blocks, ends, values, strict=True)
    )
    assert minutes == pytest.approx(expected, rel=1e-9)
    assert on_duty_minutes(full, "desk")[0] * min(values) <= minutes
    # the group's available hours (for a capacity figure) are the same teller-minutes
    assert 60.0 * s.counters["desk"].available_hours(9.0, 17.0) == pytest.approx(minutes)
    assert full.counters["desk"].available_hours(9.0, 17.0) == full.teller_hours("desk")
    # at any moment floor or ceil of n * a tellers are available (staggered breaks)
    rng = np.random.default_rng(3)
    for t in rng.uniform(0, s.open_minutes, 400):
        clock = 9.0 + t / 60.0
        k = next((i for i in range(len(blocks) - 1, -1, -1) if blocks[i][0] <= clock), None)
        n, a = (0, 1.0) if k is None else (blocks[k][1], values[k])
        assert math.floor(n * a - 1e-9) <= available_at(events, t) <= math.ceil(n * a + 1e-9)


def test_breaks_are_within_cycles_and_end_at_closing():
    s = build({"counters": {"desk": {"tellers": 4, "availability": 0.5}}})
    _, events = on_duty_minutes(s, "desk")
    offs = [t for t, _, on in events if not on]
    assert offs and max(offs) < s.open_minutes
    assert available_at(events, s.open_minutes + 1.0) == 4  # everyone back after closing
    # every teller is off half of every one-hour cycle
    grid = np.arange(0.0, s.open_minutes, 0.25) + 0.125
    for i in range(4):
        mine = [e for e in events if e[1] == i]
        on = np.array([available_at(mine, t) for t in grid])
        per_cycle = on.reshape(-1, int(BREAK_CYCLE_MINUTES / 0.25)).mean(axis=1)
        assert np.allclose(per_cycle, 0.5), (i, per_cycle)


def test_an_overloaded_group_serves_in_proportion_to_its_availability():
    # always a queue: each teller serves whenever on duty, and a break starts after the
    # customer in hand (deterministic 0.5-minute services: at most 0.5 minutes lost per
    # break). Served counts are then about availability * teller-minutes / 0.5.
    base = {
        "closing": 12.0,
        "arrivals": {"profile": [{"start": 9.0, "rate": 900.0}]},
        "after_closing": "dismiss",
        "counters": {"desk": {"tellers": 5}},
    }
    for a in (1.0, 0.8, 0.45):
        s = build(deep_merge(base, {"counters": {"desk": {"availability": a}}}))
        s = with_service(s, {"kind": "deterministic", "value": 0.5})
        c = day(s, 2)
        served = int(np.isfinite(c["service_start"]).sum())
        capacity = 5 * s.open_minutes / 0.5
        breaks = 5 * 3 * 2  # at most two per teller and hour (a wrapped one in two pieces)
        assert a * capacity - 5 <= served <= a * capacity + breaks + 5


def test_lower_availability_means_longer_waits():
    waits = []
    for a in (1.0, 0.85, 0.7):
        s = build({"counters": {"desk": {"availability": a}}})
        waits.append(np.mean([np.nanmean(day(s, seed)["wait"]) for seed in range(3)]))
    assert waits[0] < waits[1] < waits[2]


def test_availability_one_is_bit_for_bit_the_model_without_it():
    plain = build()
    one = build({"counters": {"desk": {"availability": 1.0}}})
    assert one.model_dump() == plain.model_dump()
    assert "availability" not in plain.model_dump_json()
    a, b = day(plain, 7), day(one, 7)
    for col in a:
        assert np.array_equal(a[col], b[col], equal_nan=True), col
    assert shift_events(plain) == shift_events(one)


def test_availability_applies_to_a_stage_s_counters():
    s = build(
        {
            "stages": {
                "cashier": {
                    "counters": {"cash": {"tellers": 2, "availability": 0.6}},
                    "service": {"cash": {"kind": "exponential", "mean": 2.0}},
                }
            },
            "routes": {"cash": {"stages": ["counter", "cashier"]}},
        }
    )
    minutes, _ = on_duty_minutes(s.stage_view("cashier"), "cash")
    assert minutes == pytest.approx(0.6 * 2 * s.open_minutes, rel=1e-9)
    assert s.staff_cost() == build().staff_cost() + 0.0  # breaks are paid: cost unchanged


@pytest.mark.parametrize(
    "availability, tellers, hint",
    [
        (0.0, 3, r"\(0, 1\]"),
        (1.5, 3, r"\(0, 1\]"),
        (-0.2, 3, r"\(0, 1\]"),
        ([{"start": 9.0, "share": 0.0}], 3, r"availability\.list.*0\.share"),
        ([{"start": 9.0, "share": 1.2}], 3, r"availability\.list.*0\.share"),
        ([], 3, r"at least one block"),
        ([{"start": 12.0, "share": 0.5}, {"start": 10.0, "share": 0.6}], 3, r"strictly increase"),
        ([{"start": 8.0, "share": 0.5}], 3, r"within opening hours"),
        ([{"start": 17.0, "share": 0.5}], 3, r"within opening hours"),
    ],
)
def test_bad_availability_is_refused_naming_the_field(availability, tellers, hint):
    with pytest.raises(ValidationError, match=r"availability") as info:
        build({"counters": {"desk": {"tellers": tellers, "availability": availability}}})
    assert re_search(hint, str(info.value))


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


def test_staff_cost_is_unchanged_by_breaks():
    s = build({"counters": {"desk": {"availability": 0.6, "cost_per_hour": 50.0}}})
    assert s.staff_cost() == build({"counters": {"desk": {"cost_per_hour": 50.0}}}).staff_cost()


# --------------------------------------------------------------------------- segment mix
MIX = {
    "arrivals": {
        "profile": [{"start": 9.0, "rate": 120.0}],
        "segment_mix": [
            {"start": "11:00", "shares": {"a": 0.8, "b": 0.2}},
            {"start": "14:00", "shares": {"a": 0.1, "b": 0.9}},
        ],
    },
    "counters": {"desk": {"tellers": 12}},
}


def test_the_segment_mix_follows_the_time_of_day():
    s = build(MIX)
    blocks = [(0.0, 120.0, 0.5), (120.0, 300.0, 0.8), (300.0, 480.0, 0.1)]
    counts = np.zeros((3, 2))
    for seed in range(6):
        d = draw_day(s, seed)
        for k, (lo, hi, _) in enumerate(blocks):
            m = (d.arrival >= lo) & (d.arrival < hi)
            counts[k, 0] += np.sum(d.segment[m] == 0)
            counts[k, 1] += np.sum(d.segment[m] == 1)
    for k, (_, _, share) in enumerate(blocks):
        n = counts[k].sum()
        low, high = stats.binomtest(int(counts[k, 0]), int(n)).proportion_ci(0.999)
        assert low <= share <= high, (k, counts[k])


def test_the_segment_mix_keeps_common_random_numbers():
    no_mix = MIX | {"arrivals": {"profile": MIX["arrivals"]["profile"]}}
    plain, mixed = draw_day(build(no_mix), 4), draw_day(build(MIX), 4)
    assert np.array_equal(plain.arrival, mixed.arrival)
    before = plain.arrival < 120.0
    assert np.array_equal(plain.segment[before], mixed.segment[before])
    # a's share rises from 0.5 to 0.8 in 11:00-14:00: everyone who was 'a' stays 'a';
    # it falls to 0.1 after 14:00: everyone 'a' then was 'a' without the mix
    mid = (plain.arrival >= 120.0) & (plain.arrival < 300.0)
    assert np.all(mixed.segment[mid & (plain.segment == 0)] == 0)
    late = plain.arrival >= 300.0
    assert np.all(plain.segment[late & (mixed.segment == 0)] == 0)
    assert np.array_equal(plain.service, mixed.service)


def test_no_segment_mix_dumps_as_before():
    assert "segment_mix" not in build().model_dump()["arrivals"]
    assert build(MIX).model_dump()["arrivals"]["segment_mix"][0]["start"] == 11.0


@pytest.mark.parametrize(
    "mix, hint",
    [
        ([{"start": 11.0, "shares": {"a": 0.8, "c": 0.2}}], r"segment_mix.0.shares.*'c'"),
        ([{"start": 11.0, "shares": {"a": 0.8, "b": 0.3}}], r"segment_mix.0.shares.*sum to 1"),
        ([{"start": 18.0, "shares": {"a": 1.0}}], r"segment_mix.0.start.*opening hours"),
        (
            [{"start": 12.0, "shares": {"a": 1.0}}, {"start": 11.0, "shares": {"b": 1.0}}],
            r"segment_mix.*strictly increase",
        ),
    ],
)
def test_a_bad_segment_mix_is_refused_naming_the_field(mix, hint):
    with pytest.raises(ValidationError) as info:
        build({"arrivals": {"segment_mix": mix}})
    assert re_search(hint, str(info.value)), str(info.value)


def test_a_segment_only_in_the_mix_must_be_served():
    with pytest.raises(ValidationError, match="no staffed counter group serves segment 'b'"):
        build(
            {
                "segments": {"a": {"share": 1.0}, "b": {"share": 0.0}},
                "counters": {"desk": {"segments": ["a"]}},
                "arrivals": {"segment_mix": [{"start": 12.0, "shares": {"b": 1.0}}]},
            }
        )


# --------------------------------------------------------------------------- shared levels
PRIO = {
    "opening": 0.0,
    "closing": 60.0,
    "arrivals": {"profile": [{"start": 0.0, "rate": 96.0}]},  # 1.6 per minute
    "business_types": {"cash": {"service": {"kind": "exponential", "mean": 1.0}}},
    "segments": {
        "a": {"share": 0.25, "business_mix": {"cash": 1.0}},
        "b": {"share": 0.375, "business_mix": {"cash": 1.0}},
        "c": {"share": 0.375, "business_mix": {"cash": 1.0}},
    },
    "counters": {"desk": {"tellers": 2, "discipline": "priority", "priority": ["a", ["b", "c"]]}},
}


def test_segments_sharing_a_level_wait_as_one_class_of_cobham_s_formula():
    # M/M/2 non-preemptive priority: class 1 = a (0.4/min), class 2 = b and c together
    # (1.2/min); both b and c must wait the class-2 mean, a the class-1 mean
    s = Scenario.model_validate(deep_merge(BASE, PRIO))
    theory = priority_waits([0.4, 1.2], 1.0, 2)
    seg_names = list(s.segments)
    means: dict[str, list[float]] = {x: [] for x in seg_names}
    for seed in range(10):
        c = day(s, seed)
        for i, x in enumerate(seg_names):
            means[x].append(float(np.mean(c["wait"][c["segment"] == i])))
    for x, expect in (("a", theory[0]), ("b", theory[1]), ("c", theory[1])):
        v = np.array(means[x])
        half = stats.t.ppf(0.9995, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
        # warm-up from an empty system biases each 60-hour day down by well under 2 %
        assert v.mean() - half <= expect * 1.0 and v.mean() + half >= expect * 0.97, (x, v)


def test_segments_sharing_a_level_are_served_first_come_between_them():
    shared = Scenario.model_validate(deep_merge(BASE, PRIO | {"closing": 4.0}))
    strict = Scenario.model_validate(
        deep_merge(
            BASE,
            deep_merge(PRIO, {"closing": 4.0, "counters": {"desk": {"priority": ["a", "b", "c"]}}}),
        )
    )

    def inversions(s: Scenario) -> int:
        c = day(s, 5)
        m = np.isin(c["segment"], [1, 2]) & np.isfinite(c["service_start"])
        order = np.argsort(c["service_start"][m], kind="stable")
        return int(np.sum(np.diff(c["arrival"][m][order]) < 0))

    assert inversions(shared) == 0
    assert inversions(strict) > 0  # the contrast: strict levels let b overtake c


def test_a_flat_priority_list_is_unchanged():
    s = build({"counters": {"desk": {"discipline": "priority", "priority": ["a"]}}})
    assert s.counters["desk"].priority_levels() == [["a"]]
    assert s.model_dump()["counters"]["desk"]["priority"] == ["a"]


@pytest.mark.parametrize(
    "priority, hint",
    [
        (["a", []], r"priority.1: a priority level needs at least one segment"),
        (["a", ["a", "b"]], r"priority: segments must appear once.*'a'"),
        ([["a", "x"]], r"priority: unknown segments \['x'\]"),
    ],
)
def test_bad_priority_levels_are_refused(priority, hint):
    with pytest.raises(ValidationError) as info:
        build({"counters": {"desk": {"discipline": "priority", "priority": priority}}})
    assert re_search(hint, str(info.value)), str(info.value)


# --------------------------------------------------------------------------- weibull, mixture
def dkw(n: int, alpha: float = 1e-6) -> float:
    """Dvoretzky-Kiefer-Wolfowitz bound on sup |F_n - F| at level 1 - alpha."""
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


@pytest.mark.parametrize("shape, scale", [(0.6, 12.0), (1.0, 5.0), (2.5, 3.0)])
def test_weibull_draws_follow_the_closed_form(shape, scale):
    d = Weibull(shape=shape, scale=scale)
    ref = stats.weibull_min(shape, scale=scale)
    assert d.mean == pytest.approx(ref.mean(), rel=1e-12)
    assert d.sd == pytest.approx(ref.std(), rel=1e-12)
    u = np.random.default_rng(11).random(200_000)
    x = ppf(d, u)
    assert stats.kstest(x, ref.cdf).statistic < dkw(x.size)
    q = np.array([0.1, 0.5, 0.9])
    assert np.allclose(ppf(d, q), ref.ppf(q), rtol=1e-12)
    se = ref.std() / math.sqrt(x.size)
    assert abs(x.mean() - ref.mean()) < 5 * se


@pytest.mark.parametrize("mean, sd", [(5.0, 8.0), (20.0, 20.0), (3.0, 1.0)])
def test_weibull_from_mean_and_sd_has_them(mean, sd):
    d = Weibull(mean=mean, sd=sd)
    ref = stats.weibull_min(d.k, scale=d.lam)
    assert ref.mean() == pytest.approx(mean, rel=1e-9)
    assert ref.std() == pytest.approx(sd, rel=1e-9)
    assert weibull_shape(1.0) == pytest.approx(1.0, rel=1e-12)  # the exponential
    native = Weibull(shape=d.k, scale=d.lam)
    assert native.mean == pytest.approx(mean, rel=1e-9)
    assert native.model_dump() == {"kind": "weibull", "shape": d.k, "scale": d.lam}
    assert d.model_dump() == {"kind": "weibull", "mean": mean, "sd": sd}


def test_a_mixture_with_a_zero_mass_follows_the_closed_form():
    d = Mixture(
        weights=[0.15, 0.55, 0.30],
        components=[
            {"kind": "deterministic", "value": 0.0},
            {"kind": "weibull", "shape": 0.7, "scale": 10.0},
            {"kind": "exponential", "mean": 2.0},
        ],
    )
    w1 = stats.weibull_min(0.7, scale=10.0)
    e = stats.expon(scale=2.0)
    assert d.mean == pytest.approx(0.55 * w1.mean() + 0.30 * 2.0, rel=1e-12)
    u = np.random.default_rng(5).random(200_000)
    x = ppf(d, u)
    n = x.size
    zero = float(np.mean(x == 0.0))
    assert abs(zero - 0.15) < 5 * math.sqrt(0.15 * 0.85 / n)

    def cdf(t: np.ndarray) -> np.ndarray:
        return 0.15 + 0.55 * w1.cdf(t) + 0.30 * e.cdf(t)

    grid = np.array([0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0])
    emp = np.searchsorted(np.sort(x), grid, side="right") / n
    assert np.max(np.abs(emp - cdf(grid))) < dkw(n)
    second = 0.55 * w1.moment(2) + 0.30 * e.moment(2)
    se = math.sqrt(second - d.mean**2) / math.sqrt(n)
    assert abs(x.mean() - d.mean) < 5 * se
    # common random numbers: the same uniform gives the same draw
    assert np.array_equal(ppf(d, u[:100]), x[:100])


def test_simulated_patience_is_the_configured_weibull():
    s = build({"segments": {"a": {"renege": {"kind": "weibull", "mean": 6.0, "sd": 9.0}}}})
    d = draw_day(s, 3)
    w = s.segments["a"].renege
    x = d.patience[d.segment == 0]
    assert np.all(np.isinf(d.patience[d.segment == 1]))
    assert stats.kstest(x, stats.weibull_min(w.k, scale=w.lam).cdf).pvalue > 1e-4


def test_zero_patience_is_a_loss_system_erlang_b():
    # patience 0: a customer leaves at once unless a teller is free when they join
    # (the deadline equals the join time and expires before any teller picks), so
    # the share who leave is Erlang B's blocking probability
    s = Scenario.model_validate(
        deep_merge(
            BASE,
            {
                "opening": 0.0,
                "closing": 100.0,
                "arrivals": {"profile": [{"start": 0.0, "rate": 150.0}]},  # 2.5 per minute
                "business_types": {"cash": {"service": {"kind": "exponential", "mean": 1.0}}},
                "segments": {
                    "a": {"renege": {"kind": "deterministic", "value": 0.0}},
                    "b": {
                        "renege": {
                            "kind": "mixture",
                            "weights": [1.0],
                            "components": [{"kind": "deterministic", "value": 0.0}],
                        }
                    },
                },
                "counters": {"desk": {"tellers": 3}},
            },
        )
    )
    shares = []
    for seed in range(4):
        c = day(s, seed)
        assert np.all(c["wait"][c["reneged"]] == 0.0)
        assert np.all(c["wait"] == 0.0)
        shares.append(float(np.mean(c["reneged"])))
    v = np.array(shares)
    half = stats.t.ppf(0.9995, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    assert abs(v.mean() - erlang_b(2.5, 3)) <= half + 0.002


@pytest.mark.parametrize(
    "dist, hint",
    [
        (
            {
                "kind": "mixture",
                "weights": [0.5, 0.4],
                "components": [
                    {"kind": "exponential", "mean": 1.0},
                    {"kind": "exponential", "mean": 2.0},
                ],
            },
            r"weights.*sum to 1",
        ),
        (
            {
                "kind": "mixture",
                "weights": [1.0],
                "components": [
                    {"kind": "exponential", "mean": 1.0},
                    {"kind": "exponential", "mean": 2.0},
                ],
            },
            r"weights.*number of components",
        ),
        (
            {
                "kind": "mixture",
                "weights": [1.0],
                "components": [{"kind": "mixture", "weights": [1.0], "components": []}],
            },
            r"components",
        ),
        (
            {"kind": "weibull", "mean": 4.0, "sd": 2.0, "shape": 2.0, "scale": 4.0},
            r"either mean and sd or shape and scale",
        ),
        ({"kind": "weibull", "shape": 2.0}, r"shape and scale must be given together"),
        ({"kind": "weibull", "shape": 0.01, "scale": 4.0}, r"shape"),
        ({"kind": "weibull", "mean": 1.0, "sd": 1000.0}, r"sd / mean between"),
    ],
)
def test_bad_weibull_and_mixtures_are_refused(dist, hint):
    with pytest.raises(ValidationError) as info:
        build({"segments": {"a": {"renege": dist}}})
    text = str(info.value)
    assert "renege" in text and re_search(hint, text), text


def test_service_time_components_are_checked():
    with pytest.raises(ValidationError, match=r"service.components.0.value"):
        with_service(
            build(),
            {
                "kind": "mixture",
                "weights": [0.1, 0.9],
                "components": [
                    {"kind": "deterministic", "value": 0.0},
                    {"kind": "exponential", "mean": 3.0},
                ],
            },
        )
    with pytest.raises(ValidationError, match=r"service.shape.*0.5"):
        with_service(build(), {"kind": "weibull", "shape": 0.3, "scale": 2.0})
    ok = with_service(build(), {"kind": "weibull", "mean": 4.0, "sd": 3.0})
    assert ok.offered_load() == pytest.approx(50 / 60 * 4.0 / 4, rel=1e-12)
