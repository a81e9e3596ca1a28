"""The SimPy branch model: invariants, seeds and CRN, disciplines, shifts, closing."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend import affect
from peakend.config import Scenario, deep_merge, load_scenario
from peakend.config.models import Deterministic, Empirical, Exponential, Gamma, Lognormal
from peakend.scenarios import mmc
from peakend.sim import MOMENT, OverloadWarning, simulate
from peakend.sim.sampling import ppf

TOL = 1e-9


def variant(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def quiet(scenario: Scenario, seed: int = 0) -> pe.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return simulate(scenario, seed)


@pytest.fixture(scope="module")
def branch() -> Scenario:
    return load_scenario("default_branch")


@pytest.fixture(scope="module")
def day(branch) -> pe.Journeys:
    return simulate(branch, seed=11)


def small_branch(**changes: Any) -> Scenario:
    """One segment, one business, one FIFO group: easy to reason about."""
    data: dict[str, Any] = {
        "name": "small",
        "opening": "09:00",
        "closing": "11:00",
        "arrivals": {"profile": [{"start": "09:00", "rate": 60}]},
        "segments": {"walkin": {"share": 1.0, "business_mix": {"cash": 1.0}, "noise_sd": 0.0}},
        "business_types": {"cash": {"service": {"kind": "deterministic", "value": 3.0}}},
        "counters": {"desk": {"tellers": 2}},
        "journey": ["waiting", "service"],
    }
    return Scenario.model_validate(deep_merge(data, changes))


# --------------------------------------------------------------------------- bookkeeping
def test_every_arrival_is_served_balked_or_reneged_exactly_once(day):
    c = day.customers
    served = c["counter"] >= 0
    outcome = served.astype(int) + c["balked"].astype(int) + c["reneged"].astype(int)
    assert np.all(outcome == 1)
    assert np.all(np.isfinite(c["service_start"]) == served)
    assert np.all(np.isfinite(c["service_end"]) == served)
    assert np.array_equal(c["customer"], np.arange(len(day)))
    assert np.all(np.diff(c["arrival"]) >= 0)
    assert np.all((c["arrival"] >= 0) & (c["arrival"] < 480))


def test_times_are_consistent(day, branch):
    c = day.customers
    served = c["counter"] >= 0
    pre = branch.entrance.minutes + branch.hall.ticket_minutes  # + welcome (>= MOMENT)
    assert np.all(c["service_start"][served] >= c["arrival"][served] + pre - TOL)
    assert np.all(c["service_end"][served] > c["service_start"][served])
    assert np.all(c["departure"] >= c["arrival"])
    assert np.all(c["departure"][served] > c["service_end"][served])
    assert np.all(c["wait"] >= 0)
    assert np.all(c["wait"][c["balked"]] == 0)
    # perceived wait follows the configured power law (no distraction or display here)
    assert np.allclose(c["perceived_wait"], branch.hall.perception_k * c["wait"])


def test_episodes_follow_the_journey_and_the_delta_law(day, branch):
    e, off = day.episodes, day.offsets
    assert np.all(e["end"] > e["start"])
    vf = branch.value_function
    expected = affect.value(
        e["experience"] - e["expectation"],
        kind=vf.kind,
        alpha=vf.alpha,
        beta=vf.beta,
        loss_aversion=vf.loss_aversion,
        scale=vf.scale,
    )
    assert np.allclose(e["affect"], expected)
    assert np.all(np.abs(e["affect"]) <= 10)
    tps = list(day.touchpoints)
    cust = day.episode_customer
    # touchpoint codes strictly increase within every journey (journey order)
    same = cust[1:] == cust[:-1]
    assert np.all(np.diff(e["touchpoint"].astype(int))[same] > 0)
    last = e["touchpoint"][off[1:] - 1]
    ab = day.abandoned
    assert np.all(last[ab] == tps.index("abandonment"))
    assert np.all(last[~ab] == tps.index("farewell"))
    has_farewell = np.zeros(len(day), bool)
    has_farewell[cust[e["touchpoint"] == tps.index("farewell")]] = True
    assert not np.any(has_farewell & ab)  # no farewell after abandoning
    # every journey starts at the entrance, at the arrival time
    first = off[:-1]
    assert np.all(e["touchpoint"][first] == tps.index("entrance"))
    assert np.allclose(e["start"][first], day.customers["arrival"])
    # the remembered column is the scenario's default rule applied to the episodes
    assert np.allclose(day.customers["remembered"], day.score(branch.memory.rule))


def test_pre_queue_episodes_are_contiguous_and_end_at_the_queue(day):
    """Entrance, welcome and information run back to back; waiting starts when they end.

    Guards against mixing arrival order and queue-join order (a greeting outcome read for
    the wrong customer puts the welcome episode out of step with the queue join).
    """
    e, tps = day.episodes, list(day.touchpoints)
    cust = day.episode_customer

    def per_customer(name, column):
        out = np.full(len(day), np.nan)
        m = e["touchpoint"] == tps.index(name)
        out[cust[m]] = e[column][m]
        return out

    assert np.allclose(per_customer("welcome", "start"), per_customer("entrance", "end"))
    assert np.allclose(per_customer("information", "start"), per_customer("welcome", "end"))
    # the episode after the information (lounge, waiting or abandonment) starts when it ends
    info = np.flatnonzero(e["touchpoint"] == tps.index("information"))
    assert info.size == len(day)
    np.testing.assert_array_equal(e["start"][info + 1], e["end"][info])
    waiting_start = per_customer("waiting", "start")
    has_wait = ~np.isnan(waiting_start)
    assert has_wait.sum() > 0.9 * len(day)
    # the wait ends when service starts (or, served at once, a moment after it)
    served = day.served
    w_end = per_customer("waiting", "end")[served]
    s_start = day.customers["service_start"][served]
    assert np.all((w_end == s_start) | (w_end == s_start + MOMENT))


def test_hall_queue_series_and_littles_law():
    s = mmc(1.8, 0.5, 4, 8)
    d = simulate(s, seed=3)
    q = d.queue
    assert np.all(np.diff(q["time"]) >= 0)
    assert np.all(q["length"] >= 0)
    assert q["length"][-1] == 0
    # sample-path Little's law: the area under the queue-length curve equals the
    # total time spent waiting, exactly (the queue starts and ends empty)
    area = np.sum(np.diff(q["time"]) * q["length"][:-1])
    assert area == pytest.approx(d.customers["wait"].sum(), rel=1e-9)
    assert q["length"].max() >= d.customers["queue_on_arrival"].max()


def test_servers_never_exceed_capacity_and_fifo_holds():
    d = quiet(mmc(1.8, 0.5, 3, 8), seed=4)  # utilisation 1.2: long queues
    c = d.customers
    starts, ends = c["service_start"], c["service_end"]
    times = np.concatenate([starts, ends])
    delta = np.concatenate([np.ones_like(starts), -np.ones_like(ends)])
    order = np.lexsort((delta, times))  # ends before starts at equal times
    assert np.cumsum(delta[order]).max() <= 3
    # one FIFO queue: service starts in arrival order
    assert np.all(np.diff(starts) >= -TOL)
    assert np.all(c["slips"] == 0)


def test_priority_is_non_preemptive_and_ordered():
    d = quiet(mmc(1.8, 0.5, 3, 8, class_rates=[0.6, 1.2]), seed=5)
    c = d.customers
    hi, lo = c["segment"] == 0, c["segment"] == 1
    # no low-priority service starts while a high-priority customer is waiting
    for ts in c["service_start"][lo]:
        waiting = hi & (c["arrival"] < ts - TOL) & (c["service_start"] > ts + TOL)
        assert not waiting.any()
    assert c["wait"][hi].mean() < c["wait"][lo].mean()
    # served customers' services are never cut: service time is the drawn one
    assert np.all(c["service_end"] - c["service_start"] > 0)
    # priority makes later high-priority arrivals overtake: slips are counted
    assert c["slips"][lo].sum() > 0


# --------------------------------------------------------------------------- seeds and CRN
def test_same_seed_same_bits_and_seed_sequences(branch):
    a, b = simulate(branch, seed=7), simulate(branch, seed=7)
    for name in a.customers:
        np.testing.assert_array_equal(a.customers[name], b.customers[name])
    for name in a.episodes:
        np.testing.assert_array_equal(a.episodes[name], b.episodes[name])
    np.testing.assert_array_equal(a.queue["length"], b.queue["length"])
    ss = np.random.SeedSequence(7)
    c = simulate(branch, seed=ss)
    assert ss.n_children_spawned == 0  # not mutated
    np.testing.assert_array_equal(a.customers["remembered"], c.customers["remembered"])
    other = simulate(branch, seed=8)
    assert len(other) != len(a) or not np.array_equal(
        other.customers["arrival"], a.customers["arrival"]
    )
    with pytest.raises(ValueError, match="seed"):
        simulate(branch, seed=-1)


@pytest.mark.parametrize("name", ["default_branch", "gold_card_paradox", "vip_contrast"])
def test_simulate_validated_is_simulate_without_the_revalidation(name):
    """run's workers parse each scenario once from JSON and skip the per-day re-validation."""
    from peakend.sim.model import simulate_validated

    scenario = load_scenario(name)
    parsed = Scenario.model_validate_json(scenario.model_dump_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        for seed in (0, 3):
            a, b = simulate(scenario, seed=seed), simulate_validated(parsed, seed)
            assert a.meta == b.meta
            for table in ("customers", "episodes", "queue"):
                for col, values in getattr(a, table).items():
                    np.testing.assert_array_equal(values, getattr(b, table)[col], err_msg=col)


def test_simulate_validated_warns_at_its_caller():
    from peakend.sim.model import simulate_validated

    overloaded = mmc(3.0, 0.5, 1, 2)
    with pytest.warns(OverloadWarning) as caught:
        simulate_validated(overloaded, 1)
    assert caught[0].filename == __file__
    with pytest.warns(OverloadWarning) as caught:
        simulate(overloaded, 1)
    assert caught[0].filename == __file__


def test_common_random_numbers_across_staffing(branch):
    base = simulate(branch, seed=21)
    more = simulate(variant(branch, {"counters": {"general": {"tellers": 6}}}), seed=21)
    for name in ("arrival", "segment", "business", "appointment", "expected_wait"):
        np.testing.assert_array_equal(base.customers[name], more.customers[name])
    served = (base.customers["counter"] >= 0) & (more.customers["counter"] >= 0)
    dur_a = base.customers["service_end"] - base.customers["service_start"]
    dur_b = more.customers["service_end"] - more.customers["service_start"]
    np.testing.assert_allclose(dur_a[served], dur_b[served], rtol=1e-12)
    assert served.sum() > 100
    # the experience draws are per customer too: the entrance (no queue involved) is identical
    ent = base.touchpoints.index("entrance")
    np.testing.assert_array_equal(
        base.episodes["experience"][base.episodes["touchpoint"] == ent],
        more.episodes["experience"][more.episodes["touchpoint"] == ent],
    )
    # the tellers already there keep their quality draws when a teller is added
    from peakend.sim.model import draw_day

    q4 = draw_day(branch, 21).quality["general"]
    q6 = draw_day(variant(branch, {"counters": {"general": {"tellers": 6}}}), 21).quality
    np.testing.assert_array_equal(q6["general"][:4], q4)
    # and diverting more business to e-channels keeps the remaining customers' draws
    fewer = simulate(
        variant(branch, {"business_types": {"transfer": {"e_channel_share": 0.6}}}), seed=21
    )
    assert len(fewer) < len(base)
    keep = np.isin(base.customers["arrival"], fewer.customers["arrival"])
    np.testing.assert_array_equal(base.customers["business"][keep], fewer.customers["business"])


# --------------------------------------------------------------------------- behaviour
def test_shift_change_finishes_the_customer_in_hand():
    s = small_branch(
        counters={
            "desk": {
                "tellers": [
                    {"start": "09:00", "count": 2},
                    {"start": "10:00", "count": 1},
                    {"start": "10:30", "count": 2},
                ]
            }
        },
        arrivals={"profile": [{"start": "09:00", "rate": 50}]},
    )
    d = quiet(s, seed=2)
    c = d.customers
    second = list(d.counters).index("desk/2")
    mine = c["counter"] == second
    starts, ends = c["service_start"][mine], c["service_end"][mine]
    # off duty from 60 to 90 minutes: no new customer starts with teller 2 then
    assert not np.any((starts >= 60 + TOL) & (starts < 90 - TOL))
    # the customer in hand at the change was finished, not cut short (3 minutes)
    in_hand = (starts < 60) & (ends > 60)
    assert in_hand.sum() == 1
    assert np.allclose(ends - starts, 3.0)
    assert np.any(starts >= 90)  # back on duty


def test_closing_serves_those_inside_or_dismisses_them():
    s = small_branch(
        counters={"desk": {"tellers": 1}}, arrivals={"profile": [{"start": "09:00", "rate": 40}]}
    )
    d = quiet(s, seed=1)  # utilisation 2: a queue remains at closing
    c = d.customers
    assert np.all(c["arrival"] < 120)  # doors close at closing
    assert np.all(c["counter"] >= 0)  # everyone inside is served...
    assert np.nanmax(c["service_start"]) > 120  # ...after closing time too
    dis = quiet(variant(s, {"after_closing": "dismiss"}), seed=1)
    c2 = dis.customers
    np.testing.assert_array_equal(c["arrival"], c2["arrival"])
    assert np.all(c2["service_start"][c2["counter"] >= 0] <= 120 + TOL)
    assert c2["reneged"].sum() > 0
    dismissed = c2["reneged"]
    assert np.allclose(c2["departure"][dismissed], 120 + s.abandonment.minutes)


def test_balking_and_reneging_follow_patience():
    s = small_branch(
        counters={"desk": {"tellers": 1}},
        arrivals={"profile": [{"start": "09:00", "rate": 40}]},
        segments={"walkin": {"balk_queue": 4, "renege": {"kind": "deterministic", "value": 10.0}}},
    )
    d = quiet(s, seed=3)
    c = d.customers
    assert c["balked"].any() and c["reneged"].any()
    assert np.all(c["queue_on_arrival"][c["balked"]] >= 4)
    assert np.all(c["queue_on_arrival"][~c["balked"]] < 4)
    assert np.allclose(c["wait"][c["reneged"]], 10.0)
    assert np.all(c["wait"][c["counter"] >= 0] <= 10.0 + TOL)


def test_appointments_come_first_and_never_balk():
    s = small_branch(
        counters={"desk": {"tellers": 1}},
        arrivals={"profile": [{"start": "09:00", "rate": 30}]},
        segments={
            "walkin": {
                "appointment_share": 0.3,
                "balk_queue": 5,
                "appointment_expected_wait": 1.0,
                "expected_wait": 12.0,
            }
        },
    )
    d = quiet(s, seed=4)
    c = d.customers
    appt = c["appointment"]
    assert 0.15 < appt.mean() < 0.45
    assert not np.any(c["balked"] & appt)
    assert c["balked"][~appt].any()
    assert c["wait"][appt].mean() < 0.5 * c["wait"][~appt & ~c["balked"]].mean()
    np.testing.assert_array_equal(c["expected_wait"], np.where(appt, 1.0, 12.0))


def test_flexible_window_serves_its_own_segment_first():
    s = small_branch(
        segments={
            "walkin": {"share": 0.5, "appointment_share": 1.0},
            "vip": {"share": 0.5, "business_mix": {"cash": 1.0}, "noise_sd": 0.0},
        },
        counters={"desk": {"tellers": 1, "segments": ["vip"], "discipline": "flexible"}},
        arrivals={"profile": [{"start": "09:00", "rate": 30}]},
    )
    d = quiet(s, seed=6)
    c = d.customers
    vip = c["segment"] == d.segments.index("vip")
    assert (c["counter"][~vip] == 0).all()  # overflow customers are served by the window
    # ...but never while a VIP (own segment) waits, appointment or not
    for ts in c["service_start"][~vip]:
        waiting = vip & (c["arrival"] < ts - TOL) & (c["service_start"] > ts + TOL)
        assert not waiting.any()


def test_dedicated_and_flexible_windows(branch):
    d = simulate(branch, seed=5)
    c = d.customers
    vip = c["segment"] == d.segments.index("vip")
    vip_counter = list(d.counters).index("vip/1")
    assert np.all(c["counter"][vip & (c["counter"] >= 0)] == vip_counter)
    assert not np.any(c["counter"][~vip] == vip_counter)  # dedicated: idle rather than help
    flex = quiet(variant(branch, {"counters": {"vip": {"discipline": "flexible"}}}), seed=5)
    f = flex.customers
    assert np.any(f["counter"][~vip] == vip_counter)  # flexible: helps when no VIP waits
    assert f["wait"][~vip].mean() < c["wait"][~vip].mean()


def test_lobby_greeting_needs_a_free_manager(branch):
    d = simulate(branch, seed=2)
    e = d.episodes
    w = e["touchpoint"] == d.touchpoints.index("welcome")
    dur = (e["end"] - e["start"])[w]
    greeted = np.isclose(dur, branch.lobby.greeting_minutes)
    assert greeted.any() and (~greeted).any()
    assert np.allclose(dur[~greeted], MOMENT)
    none = simulate(variant(branch, {"lobby": {"managers": 0}}), seed=2)
    e2 = none.episodes
    w2 = e2["touchpoint"] == none.touchpoints.index("welcome")
    assert np.allclose((e2["end"] - e2["start"])[w2], MOMENT)


def test_lobby_shift_plan_greets_only_while_managers_are_on_duty(branch):
    """No manager before 12:00 and two from 12:00: nobody who reaches the lobby before noon
    is greeted, and some who come after are; a constant plan equals its integer count."""
    opening = branch.opening
    plan = {"lobby": {"managers": [{"start": opening, "count": 0}, {"start": 12.0, "count": 2}]}}
    d = simulate(variant(branch, plan), seed=2)
    e = d.episodes
    w = e["touchpoint"] == d.touchpoints.index("welcome")
    greeted = np.isclose((e["end"] - e["start"])[w], branch.lobby.greeting_minutes)
    noon = (12.0 - opening) * 60.0
    start = e["start"][w]
    assert not greeted[start < noon].any()
    assert greeted[start >= noon].any()
    flat = {"lobby": {"managers": [{"start": opening, "count": branch.lobby.managers}]}}
    same = simulate(variant(branch, flat), seed=2)
    base = simulate(branch, seed=2)
    assert np.array_equal(same.episodes["end"], base.episodes["end"])
    assert np.array_equal(same.customers["remembered"], base.customers["remembered"])


def test_lobby_manager_going_off_duty_finishes_the_greeting():
    from peakend.sim.staff import greetings as _greetings

    # one manager on duty for the first customer only; a greeting takes 5 min
    arrive = np.array([0.0, 1.0, 6.0, 7.0])
    on_duty = np.array([1, 0, 0, 1])
    greeted = _greetings(arrive, on_duty, 5.0)
    assert greeted.tolist() == [True, False, False, True]
    # back on duty at 3.0 but still busy with the greeting begun at 0.0 until 5.0
    greeted = _greetings(np.array([0.0, 3.0, 5.0]), np.array([1, 1, 1]), 5.0)
    assert greeted.tolist() == [True, False, True]


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=300),
    managers=st.integers(1, 6),
    minutes=st.floats(0.1, 5.0),
)
def test_lobby_greetings_heap_matches_the_plain_scan(gaps, managers, minutes):
    """With the same managers all day the greeting loss system runs on a heap; it must
    greet exactly the customers the plain scan over the managers greets."""
    from peakend.sim.staff import greetings as _greetings

    arrive = np.cumsum(gaps)
    free = [0.0] * managers
    expected = []
    for t in arrive.tolist():
        k = min(range(managers), key=free.__getitem__)
        expected.append(free[k] <= t)
        if free[k] <= t:
            free[k] = t + minutes
    got = _greetings(arrive, np.full(arrive.size, managers), minutes)
    assert got.tolist() == expected


def test_overloaded_branch_warns_ends_and_reports_abandonment(branch):
    over = variant(branch, {"counters": {"general": {"tellers": 1}}})
    with pytest.warns(OverloadWarning, match="overloaded"):
        d = simulate(over, seed=1)
    assert d.abandoned.mean() > 0.25
    assert np.all(np.isfinite(d.customers["departure"]))
    with pytest.warns(OverloadWarning):
        simulate(mmc(3.0, 0.5, 2, 4), seed=1)


def test_memory_rule_parameters_are_checked_before_the_run(branch):
    bad = {"memory": {"rule": "peak_end", "params": {"end_window": -1.0}}}
    with pytest.raises(ValueError, match="end_window"):  # refused when the scenario is built
        variant(branch, bad)
    # a variant that skipped validation (model_copy) is refused by simulate, before the run
    from peakend.config.models import MemoryRule

    rule = MemoryRule.model_construct(rule="peak_end", params={"end_window": -1.0})
    with pytest.raises(ValueError, match="end_window"):
        simulate(branch.model_copy(update={"memory": rule}), seed=1)
    windowed = variant(branch, {"memory": {"rule": "peak_end", "params": {"end_window": 3.0}}})
    d = simulate(windowed, seed=1)
    np.testing.assert_allclose(d.customers["remembered"], d.score("peak_end", end_window=3.0))


def test_empty_day():
    s = small_branch(arrivals={"profile": [{"start": "09:00", "rate": 0}]})
    d = simulate(s, seed=1)
    assert len(d) == 0 and d.n_episodes == 0


def test_mmc_journeys_have_only_waiting_and_service():
    d = simulate(mmc(1.0, 0.5, 3, 2), seed=1)
    names = {d.touchpoints[k] for k in np.unique(d.episodes["touchpoint"])}
    assert names == {"waiting", "service"}
    assert np.all(np.diff(d.offsets) == 2)


# --------------------------------------------------------------------------- sampling
@pytest.mark.parametrize(
    "dist",
    [
        Exponential(mean=4.0),
        Lognormal(mean=5.0, sd=3.0),
        Gamma(mean=4.0, sd=2.0),
        Deterministic(value=2.5),
        Empirical(values=[1.0, 2.0, 6.0], weights=[1.0, 2.0, 1.0]),
    ],
)
def test_inverse_cdf_reproduces_the_analytic_mean(dist):
    u = (np.arange(200_000) + 0.5) / 200_000  # a fine quadrature grid, no randomness
    x = ppf(dist, u)
    assert np.all(x >= 0)
    assert np.all(np.diff(x) >= 0)  # monotone: common random numbers stay ordered
    assert x.mean() == pytest.approx(dist.mean, rel=2e-3)


def test_arrival_counts_match_the_rate_profile(branch):
    from scipy import stats

    days = [quiet(branch, seed=r) for r in range(40)]
    # the daily count is Poisson; its mean must match the profile within 4 sd
    counts = [len(d) for d in days]
    mu = branch.expected_arrivals()
    assert abs(np.mean(counts) - mu) < 4 * np.sqrt(mu / 40)
    # the shape: arrivals per hour block are proportional to the block's rate
    arrivals = np.concatenate([d.customers["arrival"] for d in days])
    edges = [(b.start - branch.opening) * 60 for b in branch.arrivals.profile] + [480.0]
    observed, _ = np.histogram(arrivals, bins=edges)
    rates = np.array(
        [
            b.rate * (e1 - e0)
            for b, e0, e1 in zip(branch.arrivals.profile, edges[:-1], edges[1:], strict=True)
        ]
    )
    expected = observed.sum() * rates / rates.sum()
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_no_arrivals_before_the_profile_starts(branch):
    late = variant(branch, {"arrivals": {"profile": [{"start": "13:00", "rate": 40}]}})
    d = quiet(late, seed=2)
    assert len(d) > 50
    assert d.customers["arrival"].min() >= 4 * 60


# --------------------------------------------------------------------------- properties

_DISTS = st.sampled_from(
    [
        {"kind": "exponential", "mean": 4.0},
        {"kind": "lognormal", "mean": 5.0, "sd": 3.0},
        {"kind": "gamma", "mean": 3.0, "sd": 1.0},
        {"kind": "deterministic", "value": 2.0},
        {"kind": "empirical", "values": [1.0, 2.0, 8.0]},
    ]
)


@st.composite
def random_branch(draw) -> Scenario:
    n_seg = draw(st.integers(1, 3))
    segs = [f"s{i}" for i in range(n_seg)]
    raw = [draw(st.integers(1, 5)) for _ in segs]
    shares = [r / sum(raw) for r in raw]
    shares[-1] = 1.0 - sum(shares[:-1])
    bus = ["a", "b"][: draw(st.integers(1, 2))]
    segments = {}
    for name, share in zip(segs, shares, strict=True):
        mix = {b: 1.0 / len(bus) for b in bus}
        segments[name] = {
            "share": share,
            "business_mix": mix,
            "appointment_share": draw(st.sampled_from([0.0, 0.3])),
            "balk_queue": draw(st.sampled_from([None, 2, 6])),
            "renege": draw(st.one_of(st.none(), _DISTS)),
            "lounge": draw(st.booleans()),
            "farewell": {
                "enabled": draw(st.booleans()),
                "gift_size": draw(st.sampled_from([0, 4])),
            },
        }
    counters: dict[str, Any] = {
        "main": {
            "tellers": draw(
                st.sampled_from(
                    [
                        1,
                        2,
                        [
                            {"start": "09:00", "count": 1},
                            {"start": "10:00", "count": 3},
                            {"start": "10:30", "count": 0},
                        ],
                    ]
                )
            ),
            "discipline": draw(st.sampled_from(["fifo", "priority"])),
            "priority": list(reversed(segs)),
        }
    }
    if counters["main"]["discipline"] != "priority":
        counters["main"]["priority"] = []
    if draw(st.booleans()):
        counters["side"] = {
            "tellers": draw(st.integers(1, 2)),
            "segments": [segs[0]],
            "business": [bus[0]],
            "discipline": draw(st.sampled_from(["dedicated", "flexible"])),
        }
    data = {
        "name": "random",
        "opening": "09:00",
        "closing": "11:00",
        "after_closing": draw(st.sampled_from(["serve", "dismiss"])),
        "arrivals": {
            "profile": [
                {"start": "09:00", "rate": draw(st.sampled_from([10, 40, 90]))},
                {"start": "10:00", "rate": draw(st.sampled_from([0, 30, 70]))},
            ]
        },
        "segments": segments,
        "business_types": {
            b: {"service": draw(_DISTS), "advice_share": draw(st.sampled_from([0.0, 0.5]))}
            for b in bus
        },
        "counters": counters,
        "lobby": {"managers": draw(st.integers(0, 1))},
        "lounge": {"enabled": draw(st.booleans())},
        "hall": {"distraction": draw(st.booleans()), "wait_display": draw(st.booleans())},
    }
    return Scenario.model_validate(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=random_branch(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_random_branches(scenario, seed):
    d = quiet(scenario, seed)
    d.validate()  # simulate builds the record unvalidated: codes, offsets, times, finite affect
    c, e = d.customers, d.episodes
    served = c["counter"] >= 0
    assert np.all(served.astype(int) + c["balked"] + c["reneged"] == 1)
    assert np.all(e["end"] > e["start"])
    vf = scenario.value_function
    assert np.allclose(
        e["affect"],
        affect.value(
            e["experience"] - e["expectation"],
            kind=vf.kind,
            alpha=vf.alpha,
            beta=vf.beta,
            loss_aversion=vf.loss_aversion,
            scale=vf.scale,
        ),
    )
    # the advice episode, if any, is the end of the counter time, right after the service
    adv = np.flatnonzero(e["touchpoint"] == d.touchpoints.index("advice"))
    assert np.all(e["touchpoint"][adv - 1] == d.touchpoints.index("service"))
    assert np.array_equal(e["start"][adv], e["end"][adv - 1])
    assert np.array_equal(e["end"][adv], c["service_end"][d.episode_customer[adv]])
    # a teller serves one customer at a time
    for k in np.unique(c["counter"][served]):
        m = c["counter"] == k
        order = np.argsort(c["service_start"][m])
        assert np.all(c["service_start"][m][order][1:] >= c["service_end"][m][order][:-1] - TOL)
    # sample-path Little's law on the hall queue (lounge users wait outside the hall)
    q = d.queue
    area = np.sum(np.diff(q["time"]) * q["length"][:-1])
    lounge_users = np.zeros(len(d), bool)
    lounge_users[d.episode_customer[e["touchpoint"] == d.touchpoints.index("lounge")]] = True
    assert area == pytest.approx(c["wait"][~lounge_users].sum(), rel=1e-9, abs=1e-9)
    assert q["length"][-1] == 0
    if scenario.after_closing == "dismiss":
        assert np.all(c["service_start"][served] <= 120 + TOL)
    # the remembered value is the default rule on the recorded affects
    assert np.allclose(c["remembered"], d.score(scenario.memory.rule), equal_nan=True)


def assert_episodes_partition_the_visit(d: pe.Journeys) -> None:
    """Each journey's episodes are back to back from arrival to departure, no overlap."""
    e, off, c = d.episodes, d.offsets, d.customers
    assert np.all(e["end"] > e["start"])
    assert np.all(off[1:] > off[:-1])  # every customer has at least one episode
    first, last = off[:-1], off[1:] - 1
    np.testing.assert_array_equal(e["start"][first], c["arrival"])
    np.testing.assert_array_equal(e["end"][last], c["departure"])
    same = d.episode_customer[1:] == d.episode_customer[:-1]
    np.testing.assert_array_equal(e["start"][1:][same], e["end"][:-1][same])
    # so the durations add up to the time in the branch (the integral counts no minute twice)
    total = np.add.reduceat(e["end"] - e["start"], first) if len(d) else np.zeros(0)
    np.testing.assert_allclose(total, c["departure"] - c["arrival"], rtol=1e-12, atol=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=random_branch(), seed=st.integers(0, 2**32 - 1))
def test_episodes_partition_the_time_in_the_branch(scenario, seed):
    assert_episodes_partition_the_visit(quiet(scenario, seed))


@pytest.mark.parametrize("name", ["default_branch", "gold_card_paradox", "vip_contrast"])
def test_builtin_journeys_partition_the_time_in_the_branch(name):
    d = quiet(load_scenario(name), seed=3)
    assert_episodes_partition_the_visit(d)
    c, e, tps = d.customers, d.episodes, list(d.touchpoints)
    cust = d.episode_customer
    waiting = e["touchpoint"] == tps.index("waiting")
    lounge = e["touchpoint"] == tps.index("lounge")
    # a customer served at once has a waiting moment at the start of the counter time...
    called = (c["wait"] == 0) & d.served
    w_called = waiting & called[cust]
    assert w_called.any()
    np.testing.assert_array_equal(e["start"][w_called], c["service_start"][cust[w_called]])
    np.testing.assert_allclose(e["end"][w_called] - e["start"][w_called], MOMENT)
    # ...and no lounge; the lounge of a VIP who waits is the first part of the wait
    assert not np.any(lounge & called[cust])
    if lounge.any():
        assert np.all(e["touchpoint"][np.flatnonzero(lounge) + 1] == tps.index("waiting"))
        dur = (e["end"] - e["start"])[lounge]
        wait = c["wait"][cust[lounge]]
        np.testing.assert_allclose(dur, np.minimum(load_scenario(name).lounge.minutes, wait / 2))
