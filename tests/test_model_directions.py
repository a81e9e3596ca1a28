"""Every experience parameter moves its touchpoint the documented way (issue 11).

One case per parameter of the scenario's experience design, enumerated from the config
models (segments, counters, business types, entrance, lobby, hall, lounge, abandonment,
gift utility, value function). Each case simulates the same days (same seeds: common
random numbers) with the parameter at a low and at a high value and asserts the sign
of the change in what the parameter acts on: the affect (or duration, spread, count) of
its touchpoint's episodes. A case fails if the parameter's effect is removed (no
change) or reversed (the wrong sign), on every one of a few seeds.

The cases of parameters that only change experience (not movement) also assert that
the change is monotone episode by episode (the days are the same, only the ratings
move), so that a sign that holds on average but is wrong for some episodes is caught.

``test_every_experience_parameter_has_a_case`` keeps the table complete: a new field in
one of the experience models without a case here fails it.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import peakend as pe
from peakend.config import Scenario
from peakend.config import models as cm
from peakend.sim import OverloadWarning

SEEDS = (1, 2, 3)


# --------------------------------------------------------------------------- scenarios
def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in a nested dict; ``*`` stands for every key at that level."""
    head, _, rest = path.partition(".")
    keys = list(data) if head == "*" else [head]
    for key in keys:
        if rest:
            _set(data[key], rest, value)
        else:
            data[key] = value


def with_values(base: Scenario, changes: dict[str, Any]) -> Scenario:
    data = copy.deepcopy(base.model_dump())
    for path, value in changes.items():
        _set(data, path, value)
    return Scenario.model_validate(data)


@functools.cache
def base(name: str) -> Scenario:
    """The branches the cases run on: the built-ins with every experience extra switched on."""
    on = {"hall.wait_display": True, "hall.distraction": True}
    if name == "branch":
        return with_values(pe.load_scenario("default_branch"), on)
    if name == "contrast":  # busy hall, VIPs waiting in the lounge for one manager
        return with_values(pe.load_scenario("vip_contrast"), {**on, "counters.vip.tellers": 1})
    if name == "slips":  # gold first in the general queue: ordinary customers slip
        return with_values(
            pe.load_scenario("default_branch"),
            {
                **on,
                "counters.general.discipline": "priority",
                "counters.general.priority": ["gold"],
            },
        )
    raise KeyError(name)


@functools.cache
def simulated(name: str, changes: tuple[tuple[str, Any], ...], seed: int) -> pe.Journeys:
    s = with_values(base(name), dict(changes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return pe.simulate(s, seed=seed)


# --------------------------------------------------------------------------- measures
Measure = Callable[[pe.Journeys], float]
Where = Callable[[pe.Journeys], np.ndarray] | None


def episodes_of(day: pe.Journeys, touchpoint: str, where: Where = None) -> np.ndarray:
    """Positions of a touchpoint's episodes, optionally of the customers in ``where``."""
    m = day.episodes["touchpoint"] == day.touchpoints.index(touchpoint)
    if where is not None:
        m &= where(day)[day.episode_customer]
    return np.flatnonzero(m)


def mean_of(column: str, touchpoint: str, where: Where = None) -> Measure:
    def measure(day: pe.Journeys) -> float:
        k = episodes_of(day, touchpoint, where)
        assert k.size > 0, f"no {touchpoint} episodes to measure"
        return float(day.episodes[column][k].mean())

    # the measured column and episodes, for the episode-by-episode check
    measure.pointwise = (column, lambda day: episodes_of(day, touchpoint, where))  # type: ignore[attr-defined]
    return measure


def affect_of(touchpoint: str, where: Where = None) -> Measure:
    return mean_of("affect", touchpoint, where)


def duration_of(touchpoint: str, where: Where = None) -> Measure:
    def measure(day: pe.Journeys) -> float:
        k = episodes_of(day, touchpoint, where)
        assert k.size > 0, f"no {touchpoint} episodes to measure"
        return float((day.episodes["end"] - day.episodes["start"])[k].mean())

    return measure


def spread_of(touchpoint: str, where: Where = None) -> Measure:
    def measure(day: pe.Journeys) -> float:
        k = episodes_of(day, touchpoint, where)
        assert k.size > 2, f"too few {touchpoint} episodes to measure"
        return float(day.episodes["experience"][k].std())

    return measure


def count_of(touchpoint: str) -> Measure:
    return lambda day: float(episodes_of(day, touchpoint).size)


def share_of(column: str, where: Where = None) -> Measure:
    def measure(day: pe.Journeys) -> float:
        m = np.ones(len(day), bool) if where is None else where(day)
        return float(day.customers[column][m].mean())

    return measure


def total_of(column: str) -> Measure:
    return lambda day: float(day.customers[column].sum())


def affect_where_delta(test: Callable[[np.ndarray], np.ndarray]) -> Measure:
    """Mean affect of the episodes whose experience - expectation passes ``test``."""

    def positions(day: pe.Journeys) -> np.ndarray:
        e = day.episodes
        return np.flatnonzero(test(e["experience"] - e["expectation"]))

    def measure(day: pe.Journeys) -> float:
        k = positions(day)
        assert k.size > 0
        return float(day.episodes["affect"][k].mean())

    measure.pointwise = ("affect", positions)  # type: ignore[attr-defined]
    return measure


def segment(name: str) -> Callable[[pe.Journeys], np.ndarray]:
    return lambda day: day.customers["segment"] == day.segments.index(name)


def walk_in(day: pe.Journeys) -> np.ndarray:
    return ~day.customers["appointment"]


def booked(day: pe.Journeys) -> np.ndarray:
    return day.customers["appointment"]


def waited_over(minutes: float) -> Callable[[pe.Journeys], np.ndarray]:
    return lambda day: day.customers["wait"] > minutes


def perceived_over_expected(day: pe.Journeys) -> np.ndarray:
    c = day.customers
    return (c["wait"] > 0) & (c["perceived_wait"] > c["expected_wait"])


def slipped(day: pe.Journeys) -> np.ndarray:
    return day.customers["slips"] > 0


def in_a_busy_hall(day: pe.Journeys) -> np.ndarray:
    return day.customers["queue_on_arrival"] > 0


def hall_waiter(day: pe.Journeys) -> np.ndarray:
    """Customers who waited in the hall (not in the lounge)."""
    lounge = np.zeros(len(day), bool)
    lounge[day.episode_customer[episodes_of(day, "lounge")]] = True
    return (day.customers["wait"] > 0) & ~lounge


# --------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """Parameter ``path`` from ``low`` to ``high`` changes ``measure`` with sign ``sign``."""

    path: str
    low: Any
    high: Any
    measure: Measure
    sign: int
    base: str = "branch"
    # the parameter changes ratings only: the days are the same and the measured
    # episodes move monotonically one by one
    pointwise: bool = False
    # extra settings for both sides (e.g. switch on the feature the parameter tunes)
    given: tuple[tuple[str, Any], ...] = ()


VIP, ORDINARY = segment("vip"), segment("ordinary")
LEVELS = [t for t in cm.LEVEL_TOUCHPOINTS]

CASES: list[Case] = [
    # ---- segments
    Case("segments.*.expected_wait", 5.0, 20.0, affect_of("waiting", walk_in), +1, pointwise=True),
    Case(
        "segments.*.appointment_expected_wait",
        0.5,
        8.0,
        affect_of("waiting", booked),
        +1,
        pointwise=True,
    ),
    *[
        Case(
            f"segments.*.expectations.{t}",
            3.0,
            8.0,
            affect_of(t),
            -1,
            base="contrast" if t == "lounge" else "branch",
            pointwise=True,
        )
        for t in LEVELS
    ],
    # the service expectation is also what an abandonment falls short of
    Case("segments.*.expectations.service", 3.0, 8.0, affect_of("abandonment"), -1, pointwise=True),
    Case("segments.*.noise_sd", 0.1, 2.0, spread_of("entrance"), +1),
    Case("segments.ordinary.balk_queue", 3, 30, share_of("balked", ORDINARY), -1),
    Case("segments.ordinary.renege.mean", 5.0, 60.0, share_of("reneged", ORDINARY), -1),
    Case("segments.vip.lounge", False, True, count_of("lounge"), +1, base="contrast"),
    Case("segments.ordinary.farewell.enabled", False, True, affect_of("farewell", ORDINARY), +1),
    Case("segments.vip.farewell.minutes", 0.5, 3.0, duration_of("farewell", VIP), +1),
    Case("segments.vip.farewell.level", 6.0, 9.0, affect_of("farewell", VIP), +1, pointwise=True),
    Case(
        "segments.ordinary.farewell.plain_level",
        3.0,
        7.0,
        affect_of("farewell", ORDINARY),
        +1,
        pointwise=True,
    ),
    Case(
        "segments.vip.farewell.gift_size", 0.0, 16.0, affect_of("farewell", VIP), +1, pointwise=True
    ),
    Case("segments.vip.farewell.gift_cost", 0.0, 30.0, total_of("gift_cost"), +1),
    # ---- counters and business types
    Case("counters.*.quality.mean", 5.0, 8.0, affect_of("service"), +1, pointwise=True),
    Case("counters.general.quality.sd", 0.0, 2.0, spread_of("service", ORDINARY), +1),
    Case("counters.*.advice.mean", 4.0, 8.0, affect_of("advice"), +1, pointwise=True),
    Case("counters.general.advice.sd", 0.0, 2.0, spread_of("advice", ORDINARY), +1),
    Case("business_types.wealth.advice_share", 0.2, 0.8, duration_of("advice"), +1),
    # ---- entrance and lobby
    Case("entrance.minutes", 0.1, 2.0, duration_of("entrance"), +1),
    Case("entrance.level", 4.0, 8.0, affect_of("entrance"), +1, pointwise=True),
    Case("lobby.managers", 0, 3, affect_of("welcome"), +1),
    Case(
        "lobby.greeting_minutes",
        0.5,
        3.0,
        duration_of("welcome", lambda d: np.ones(len(d), bool)),
        +1,
        given=(("lobby.managers", 4),),
    ),
    Case("lobby.greeted_level", 5.0, 9.0, affect_of("welcome"), +1, pointwise=True),
    Case("lobby.ungreeted_level", 2.0, 6.0, affect_of("welcome"), +1, pointwise=True),
    # ---- the hall: information and perceived waiting
    Case("hall.ticket_minutes", 0.1, 2.0, duration_of("information"), +1),
    Case("hall.ticket_level", 3.0, 7.0, affect_of("information"), +1, pointwise=True),
    Case("hall.wait_display", False, True, affect_of("waiting", hall_waiter), +1, pointwise=True),
    Case("hall.wait_display", False, True, affect_of("information"), +1, pointwise=True),
    Case(
        "hall.display_multiplier", 0.6, 1.3, affect_of("waiting", hall_waiter), -1, pointwise=True
    ),
    Case("hall.display_bonus", 0.0, 2.0, affect_of("information"), +1, pointwise=True),
    Case("hall.distraction", False, True, affect_of("waiting", hall_waiter), +1, pointwise=True),
    Case(
        "hall.distraction_multiplier",
        0.5,
        1.5,
        affect_of("waiting", hall_waiter),
        -1,
        pointwise=True,
    ),
    Case("hall.perception_k", 0.8, 1.8, affect_of("waiting", hall_waiter), -1, pointwise=True),
    Case("hall.perception_p", 0.8, 1.3, affect_of("waiting", waited_over(1.0)), -1, pointwise=True),
    Case(
        "hall.minutes_per_point",
        3.0,
        10.0,
        affect_of("waiting", perceived_over_expected),
        +1,
        pointwise=True,
    ),
    Case(
        "hall.slip_penalty",
        0.0,
        2.0,
        affect_of("waiting", slipped),
        -1,
        base="slips",
        pointwise=True,
    ),
    # ---- the lounge
    Case("lounge.enabled", False, True, count_of("lounge"), +1, base="contrast"),
    Case("lounge.minutes", 0.2, 2.0, duration_of("lounge", waited_over(4.0)), +1, base="contrast"),
    Case("lounge.level", 5.0, 8.0, affect_of("lounge"), +1, base="contrast", pointwise=True),
    Case(
        "lounge.contrast_strength",
        0.0,
        5.0,
        affect_of("lounge", in_a_busy_hall),
        +1,
        base="contrast",
        pointwise=True,
    ),
    Case(
        "lounge.crowd_half",
        1.0,
        20.0,
        affect_of("lounge", in_a_busy_hall),
        -1,
        base="contrast",
        pointwise=True,
    ),
    # ---- abandonment and the end of the visit
    Case("abandonment.minutes", 0.1, 2.0, duration_of("abandonment"), +1),
    Case("abandonment.level", 0.0, 4.0, affect_of("abandonment"), +1, pointwise=True),
    Case("gift_utility.scale", 0.2, 1.5, affect_of("farewell", VIP), +1, pointwise=True),
    Case("gift_utility.curvature", 0.3, 0.9, affect_of("farewell", VIP), +1, pointwise=True),
    # ---- the value function (Delta law)
    Case(
        "value_function.kind",
        "linear",
        "prospect",
        affect_where_delta(lambda x: x < -0.5),
        -1,
        pointwise=True,
    ),
    Case(
        "value_function.alpha", 0.5, 1.0, affect_where_delta(lambda x: x > 1.5), +1, pointwise=True
    ),
    Case(
        "value_function.beta", 0.5, 1.0, affect_where_delta(lambda x: x < -1.5), -1, pointwise=True
    ),
    Case(
        "value_function.loss_aversion",
        1.0,
        3.0,
        affect_where_delta(lambda x: x < -0.1),
        -1,
        pointwise=True,
    ),
    Case(
        "value_function.scale", 0.5, 1.5, affect_where_delta(lambda x: x > 0.5), +1, pointwise=True
    ),
]


def _id(case: Case) -> str:
    return f"{case.path}[{case.low}->{case.high}]"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_parameter_moves_its_touchpoint_the_documented_way(case: Case) -> None:
    for seed in SEEDS:
        lo = simulated(case.base, (*case.given, (case.path, case.low)), seed)
        hi = simulated(case.base, (*case.given, (case.path, case.high)), seed)
        a, b = case.measure(lo), case.measure(hi)
        assert np.sign(b - a) == case.sign, (case.path, seed, a, b)
        if case.pointwise:
            # same days, same episodes: only the ratings move, each the same way (or not
            # at all, where a level is clipped at 0 or 10)
            np.testing.assert_array_equal(lo.episodes["start"], hi.episodes["start"])
            column, positions = case.measure.pointwise  # type: ignore[attr-defined]
            k = positions(lo)
            np.testing.assert_array_equal(k, positions(hi))
            diff = hi.episodes[column][k] - lo.episodes[column][k]
            assert np.all(case.sign * diff >= -1e-12), (case.path, seed)


# the fields of the experience models that are not experience parameters, with the reason
NOT_EXPERIENCE = {
    "CounterGroup.appointments": "queue order (tests/test_appointments.py)",
    "CounterGroup.availability": "staffing (tests/test_model_features.py)",
    "Segment.share": "demand mix",
    "Segment.business_mix": "demand mix",
    "Segment.appointment_share": "demand mix",
    "Segment.value": "money, not experience",
    "Farewell.gift_cost": "money (covered: gift_cost column)",
    "CounterGroup.tellers": "staffing (tests/test_sim_effects.py)",
    "CounterGroup.segments": "discipline (tests/test_sim.py)",
    "CounterGroup.business": "discipline (tests/test_sim.py)",
    "CounterGroup.discipline": "discipline (tests/test_sim.py)",
    "CounterGroup.priority": "discipline (tests/test_model_semantics.py)",
    "CounterGroup.overflow": "discipline (tests/test_sim.py)",
    "CounterGroup.cost_per_hour": "money",
    "BusinessType.service": "demand (tests/test_sim.py)",
    "BusinessType.e_channel_share": "demand",
    "Lobby.cost_per_hour": "money",
    "Hall.distraction_cost_per_day": "money",
    "Hall.display_cost_per_day": "money",
    "Lounge.cost_per_day": "money",
}


def test_every_experience_parameter_has_a_case() -> None:
    models = {
        "Segment": cm.Segment,
        "Farewell": cm.Farewell,
        "CounterGroup": cm.CounterGroup,
        "Quality": cm.Quality,
        "BusinessType": cm.BusinessType,
        "Entrance": cm.Entrance,
        "Lobby": cm.Lobby,
        "Hall": cm.Hall,
        "Lounge": cm.Lounge,
        "Abandonment": cm.Abandonment,
        "GiftUtility": cm.GiftUtility,
        "ValueFunction": cm.ValueFunction,
    }
    covered = {c.path.split(".")[-1] for c in CASES} | {
        c.path.split(".")[-2] for c in CASES if c.path.split(".")[-2] in ("renege",)
    }
    covered |= {"expectations"} if any(".expectations." in c.path for c in CASES) else set()
    covered |= {"farewell", "quality", "advice"}  # nested models, covered field by field
    missing = [
        f"{m}.{field}"
        for m, model in models.items()
        for field in model.model_fields
        if f"{m}.{field}" not in NOT_EXPERIENCE and field not in covered
    ]
    assert not missing, f"experience parameters without a direction case: {missing}"
    # every level touchpoint's expectation has its case
    assert {c.path.split(".")[-1] for c in CASES if ".expectations." in c.path} == set(LEVELS)


# --------------------------------------------------------------------------- mutation check
# Each entry neutralises (or reverses) one parameter's effect in the code; every one of
# them must make this file fail. Run ``python tests/test_model_directions.py`` from the
# repository root to apply them one at a time (each file is restored afterwards) and
# print which test caught each; "SURVIVED" marks a parameter the tests do not pin.
# the file each entry names is where the pattern was written; the runner looks for it in
# every module of peakend/sim and in peakend/affect.py (it must occur exactly once)
_MODEL = "peakend/sim"
_AFFECT = "peakend/affect.py"
MUTATIONS = [
    # (parameter, file, code, the code with the effect neutralised or reversed)
    ("renege (patience)", _MODEL, "patience[m] = ppf(dist, u_patience[m])", "patience[m] = np.inf"),
    ("noise_sd", _MODEL, "noise *= sd[seg][:, None]", "noise *= 0.5"),
    (
        "advice.mean",
        _MODEL,
        "rng.normal(c.advice.mean, c.advice.sd,",
        "rng.normal(6.0, c.advice.sd,",
    ),
    (
        "advice.sd",
        _MODEL,
        "rng.normal(c.advice.mean, c.advice.sd,",
        "rng.normal(c.advice.mean, 0.0,",
    ),
    (
        "quality.mean",
        _MODEL,
        "rng.normal(c.quality.mean, c.quality.sd,",
        "rng.normal(6.0, c.quality.sd,",
    ),
    (
        "quality.sd",
        _MODEL,
        "rng.normal(c.quality.mean, c.quality.sd,",
        "rng.normal(c.quality.mean, 0.0,",
    ),
    ("entrance.minutes", _MODEL, "t1 = t + scenario.entrance.minutes", "t1 = t + 0.25"),
    (
        "greeting_minutes",
        _MODEL,
        "t1 = t + np.where(greeted, scenario.lobby.greeting_minutes, MOMENT)",
        "t1 = t + np.where(greeted, 1.0, MOMENT)",
    ),
    ("ticket_minutes", _MODEL, "t1 = t + scenario.hall.ticket_minutes", "t1 = t + 0.25"),
    (
        "lobby.managers",
        _MODEL,
        "greetings(lobby_time, managers_on_duty(s, lobby_time),",
        "greetings(lobby_time, np.ones(lobby_time.size, dtype=np.int64),",
    ),
    (
        "segment.lounge",
        _MODEL,
        "uses_lounge = np.array([s.segments[x].lounge for x in seg_names], dtype=bool)",
        "uses_lounge = np.array([x == 'vip' for x in seg_names], dtype=bool)",
    ),
    (
        "lounge.enabled",
        _MODEL,
        'lounge = uses_lounge[seg] & (s.lounge.enabled and "lounge" in journey)',
        'lounge = uses_lounge[seg] & ("lounge" in journey)',
    ),
    (
        "balk_queue",
        _MODEL,
        "math.inf if s.segments[x].balk_queue is None else s.segments[x].balk_queue",
        "math.inf if s.segments[x].balk_queue is None else 15",
    ),
    ("display_multiplier = 1.0", _MODEL, "mult *= hall.display_multiplier", "mult *= 1.0"),
    ("wait_display (multiplier)", _MODEL, "if hall.wait_display:\n", "if False:\n"),
    ("distraction", _MODEL, "if hall.distraction:\n", "if False:\n"),
    ("distraction_multiplier", _MODEL, "mult * hall.distraction_multiplier)", "mult * 0.8)"),
    ("perception_k", _MODEL, "k=hall.perception_k,", "k=1.0,"),
    ("perception_p", _MODEL, "p=hall.perception_p,", "p=1.0,"),
    (
        "expected_wait",
        _MODEL,
        "exp_wait_seg = np.array([s.segments[x].expected_wait for x in seg_names])",
        "exp_wait_seg = np.array([10.0 for x in seg_names])",
    ),
    (
        "appointment_expected_wait",
        _MODEL,
        "appt_wait_seg = np.array([s.segments[x].appointment_expected_wait for x in seg_names])",
        "appt_wait_seg = np.array([2.0 for x in seg_names])",
    ),
    (
        "advice_share",
        _MODEL,
        "self.split = end - self.advice_share * (end - start)",
        "self.split = end - 0.5 * (end - start)",
    ),
    (
        "lounge.minutes",
        _MODEL,
        "join + np.minimum(s.lounge.minutes, 0.5 * wait)",
        "join + np.minimum(0.5, 0.5 * wait)",
    ),
    (
        "expectations (all)",
        _MODEL,
        "[_expectation(s.segments[x].expectations, t) for t in LEVEL_TOUCHPOINTS]",
        "[5.0 for t in LEVEL_TOUCHPOINTS]",
    ),
    ("entrance.level", _MODEL, "level=lambda f: f.s.entrance.level", "level=lambda f: 6.0"),
    ("greeted_level", _MODEL, "f.s.lobby.greeted_level, f.s", "7.0, f.s"),
    ("ungreeted_level", _MODEL, ", f.s.lobby.ungreeted_level)", ", 4.0)"),
    ("ticket_level", _MODEL, "f.s.hall.ticket_level + (", "5.0 + ("),
    (
        "display_bonus",
        _MODEL,
        "(f.s.hall.display_bonus if f.s.hall.wait_display else 0.0)",
        "(1.0 if f.s.hall.wait_display else 0.0)",
    ),
    (
        "wait_display (bonus)",
        _MODEL,
        "(f.s.hall.display_bonus if f.s.hall.wait_display else 0.0)",
        "(f.s.hall.display_bonus if False else 0.0)",
    ),
    (
        "crowd_half",
        _MODEL,
        "crowd = f.seen / (f.seen + lg.crowd_half)",
        "crowd = f.seen / (f.seen + 5.0)",
    ),
    (
        "contrast_strength",
        _MODEL,
        "lg.level + lg.contrast_strength * crowd",
        "lg.level + 3.0 * crowd",
    ),
    (
        "lounge.level",
        _MODEL,
        "lg.level + lg.contrast_strength * crowd",
        "7.0 + lg.contrast_strength * crowd",
    ),
    ("minutes_per_point", _MODEL, "mpp = hall.minutes_per_point", "mpp = 5.0"),
    ("slip_penalty = 0", _MODEL, "- hall.slip_penalty * f.slips", "- 0.0 * f.slips"),
    (
        "slip_penalty reversed",
        _MODEL,
        "- hall.slip_penalty * f.slips",
        "+ hall.slip_penalty * f.slips",
    ),
    (
        "farewell.enabled",
        _MODEL,
        "self.farewell_on = np.array([f.enabled for f in fw])[seg]",
        "self.farewell_on = np.array([x == 'vip' for x in seg_names])[seg]",
    ),
    (
        "farewell.minutes",
        _MODEL,
        "self.farewell_on, np.array([f.minutes for f in fw])[seg], MOMENT",
        "self.farewell_on, 1.0, MOMENT",
    ),
    (
        "farewell.level",
        _MODEL,
        "np.array([f.level for f in fw])[seg],",
        "np.array([7.0 for f in fw])[seg],",
    ),
    (
        "farewell.plain_level",
        _MODEL,
        "np.array([f.plain_level for f in fw])[seg],",
        "np.array([5.0 for f in fw])[seg],",
    ),
    (
        "gift_size",
        _MODEL,
        "self.gift = np.array([f.gift_size for f in fw])[seg]",
        "self.gift = np.array([9.0 for f in fw])[seg]",
    ),
    ("gift_utility.scale", _MODEL, "scale=g.scale,", "scale=0.5,"),
    ("gift_utility.curvature", _MODEL, "curvature=g.curvature", "curvature=0.5"),
    (
        "abandonment.minutes",
        _MODEL,
        "end=lambda f: f.abandon_start + f.s.abandonment.minutes,",
        "end=lambda f: f.abandon_start + 0.25,",
    ),
    ("abandonment.level", _MODEL, "level=lambda f: f.s.abandonment.level,", "level=lambda f: 0.0,"),
    ("abandonment expectation", _MODEL, 'expectation="service",', "expectation=lambda f: 5.0,"),
    (
        "gift_cost",
        _MODEL,
        "self.gift_cost_each = np.array([f.gift_cost for f in fw])[seg]",
        "self.gift_cost_each = np.array([30.0 for f in fw])[seg]",
    ),
    ("value_function.kind", _MODEL, "kind=vf.kind,", 'kind="prospect",'),
    ("value_function.alpha", _MODEL, "alpha=vf.alpha,", "alpha=0.88,"),
    ("value_function.beta", _MODEL, "beta=vf.beta,", "beta=0.88,"),
    (
        "value_function.loss_aversion",
        _MODEL,
        "loss_aversion=vf.loss_aversion,",
        "loss_aversion=2.25,",
    ),
    ("value_function.scale", _MODEL, "scale=vf.scale,", "scale=1.0,"),
    ("prospect loss aversion reversed", _AFFECT, "-s * lam *", "-s / lam *"),
]


def _mutation_check(only: list[str]) -> int:
    import glob
    import pathlib
    import subprocess
    import sys

    survived = 0
    for name, _file, old, new in MUTATIONS:
        if only and not any(o in name for o in only):
            continue
        files = [pathlib.Path(p) for p in (*sorted(glob.glob("peakend/sim/*.py")), _AFFECT)]
        hits = [p for p in files if old in p.read_text()]
        total = sum(p.read_text().count(old) for p in hits)
        if total != 1:
            print(f"{name} -> pattern found {total} times: update MUTATIONS")
            survived += 1
            continue
        path = hits[0]
        text = path.read_text()
        path.write_text(text.replace(old, new))
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", __file__],
                capture_output=True,
                text=True,
            )
        finally:
            path.write_text(text)
        failed = [ln for ln in run.stdout.splitlines() if ln.startswith("FAILED")]
        if run.returncode and failed:
            print(f"{name} -> caught by {failed[0].split('::')[-1].split(' ')[0]}", flush=True)
        else:
            print(f"{name} -> SURVIVED", flush=True)
            survived += 1
    return survived


if __name__ == "__main__":
    import sys

    sys.exit(1 if _mutation_check(sys.argv[1:]) else 0)
