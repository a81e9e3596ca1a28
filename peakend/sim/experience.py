"""Stage 3 of a simulated day: episodes from a table of touchpoints (:func:`build_journeys`).

After the movement engine has run, everything a customer experiences is computed for
all customers at once with numpy. :class:`Facts` gathers the day's times and outcomes
in arrival order (the wait, the perceived wait, the slips, where each episode starts and
ends); :data:`TABLE` then says, for every touchpoint in journey order, who has the
episode, when it starts and ends, its experience level and the expectation it is rated
against. A simple touchpoint is one row of the table: its level before the per-episode
noise (``level``), and its start and end; the builder adds the noise, clips to 0-10,
places the episodes in the CSR arrays and applies the Delta-law value function.

Episodes never overlap: a journey is a partition of [arrival, departure) (see
``docs/background/branch-model.md``, "Episode timing conventions").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend import affect, memory
from peakend.config.models import TOUCHPOINTS, Scenario
from peakend.journeys import Journeys
from peakend.sim.draws import DayDraws
from peakend.sim.engine import DayRun
from peakend.sim.facts import Facts
from peakend.sim.touchpoints import NOISE_COLUMN, PRE_QUEUE

__all__ = ["TABLE", "Touchpoint", "build_journeys", "episode_arrays"]

Array = NDArray[np.float64]


Getter = Callable[[Facts], Any]


@dataclass(frozen=True)
class Touchpoint:
    """One row of the touchpoint table: how a touchpoint becomes an episode.

    ``level`` gives the experience level before noise; the builder adds the customer's
    noise for the touchpoint (``noise``: the column of the experience-noise matrix, by
    default the one named after the touchpoint; None: no noise and no clipping, the
    level is final) and clips to 0-10. ``expectation`` is the level touchpoint whose
    expectation the episode is rated against (default: its own name), or a getter.
    """

    name: str
    has: Getter  # who has the episode: a mask, or a bool for everyone
    start: Getter
    end: Getter
    level: Getter
    expectation: str | Getter | None = None
    noise: str | None = "own"


def _pre(name: str) -> tuple[Getter, Getter, Getter]:
    """Who has a pre-queue episode, its start and its end."""
    return (
        lambda f: name in f.pre,
        lambda f: f.pre[name][0],
        lambda f: f.pre[name][1],
    )


def _waiting_level(f: Facts) -> Array:
    hall = f.s.hall
    mpp = hall.minutes_per_point
    out: Array = np.clip(10.0 - f.perceived / mpp - hall.slip_penalty * f.slips, 0.0, 10.0)
    return out


def _waiting_expectation(f: Facts) -> Array:
    out: Array = np.clip(10.0 - f.expected_wait / f.s.hall.minutes_per_point, 0.0, 10.0)
    return out


def _advice_level(f: Facts) -> Array:
    assert f.draws.advice_noise is not None  # no advice episode without it
    out: Array = np.clip(f.teller_level(f.draws.advice) + f.draws.advice_noise, 0.0, 10.0)
    return out


def _lounge_level(f: Facts) -> Array:
    lg = f.s.lounge
    crowd = f.seen / (f.seen + lg.crowd_half)
    out: Array = lg.level + lg.contrast_strength * crowd
    return out


#: The touchpoints of a journey, in journey order (the order of ``config.TOUCHPOINTS``).
TABLE: tuple[Touchpoint, ...] = (
    Touchpoint("entrance", *_pre("entrance"), level=lambda f: f.s.entrance.level),
    Touchpoint(
        "welcome",
        *_pre("welcome"),
        level=lambda f: np.where(f.greeted, f.s.lobby.greeted_level, f.s.lobby.ungreeted_level),
    ),
    Touchpoint(
        "information",
        *_pre("information"),
        level=lambda f: (
            f.s.hall.ticket_level + (f.s.hall.display_bonus if f.s.hall.wait_display else 0.0)
        ),
    ),
    Touchpoint(
        "lounge",
        has=lambda f: f.in_lounge,
        start=lambda f: f.join,
        end=lambda f: f.lounge_end,
        level=_lounge_level,
    ),
    Touchpoint(
        "waiting",
        has=lambda f: f.served | (f.reneged & f.waited),
        start=lambda f: f.wait_start,
        end=lambda f: f.wait_end,
        level=_waiting_level,
        expectation=_waiting_expectation,
        noise=None,
    ),
    Touchpoint(
        "service",
        has=lambda f: f.served,
        start=lambda f: f.service_start,
        end=lambda f: f.split,
        level=lambda f: f.teller_level(f.draws.quality),
    ),
    Touchpoint(
        "advice",
        has=lambda f: f.served & (f.advice_share > 0) if f.advice_share is not None else False,
        start=lambda f: f.split,
        end=lambda f: f.end,
        level=_advice_level,  # its own noise stream, added in the level
        noise=None,
    ),
    Touchpoint(
        "farewell",
        has=lambda f: f.route_served & ("farewell" in f.journey),
        start=lambda f: f.last_end + f.exit_extra,
        end=lambda f: f.last_end + f.exit_extra + f.farewell_minutes,
        level=Facts.farewell_level,
    ),
    Touchpoint(
        "abandonment",
        has=lambda f: f.left,
        start=lambda f: f.abandon_start,
        end=lambda f: f.abandon_start + f.s.abandonment.minutes,
        level=lambda f: f.s.abandonment.level,
        expectation="service",  # leaving unserved falls short of the service expected
        noise=None,
    ),
)

# one source of truth for the names: the table follows config.TOUCHPOINTS exactly
assert tuple(t.name for t in TABLE) == TOUCHPOINTS, "sim TABLE out of step with TOUCHPOINTS"
assert set(PRE_QUEUE) <= {t.name for t in TABLE}


def build_journeys(
    scenario: Scenario,
    draws: DayDraws,
    run: DayRun,
    meta: dict[str, Any],
    rule: Any = None,
    stages: Any = None,
) -> Journeys:
    """Turn the run into episodes with experience, expectation and affect (vectorized).

    Parameters
    ----------
    scenario : Scenario
        The branch.
    draws : DayDraws
        The day's draws (arrival order).
    run : DayRun
        The SimPy record (join order).
    meta : dict
        Facts to store in ``Journeys.meta``.
    rule : memory rule, optional
        The rule for the ``remembered`` column; default: the scenario's.
    stages : tuple of (list of StageDraws, list of StageRun), optional
        The further stages' draws and runs (:mod:`peakend.sim.network`); None: one stage.

    Returns
    -------
    Journeys
        One row per customer in arrival order, episodes in journey order.
    """
    s = scenario
    f = Facts(s, draws, run)
    table: tuple[Touchpoint, ...] = TABLE
    names: list[str] = list(TOUCHPOINTS)
    if stages is not None:
        from peakend.sim.stage_experience import with_stages

        table, names = with_stages(f, *stages)
    customers, episodes, offsets, names = episode_arrays(f, table, names, rule)
    customers["day"] = np.zeros(f.n, dtype=np.int32)
    customers["customer"] = np.arange(f.n, dtype=np.int32)
    queue = {
        "day": np.zeros(run.queue_time.size, dtype=np.int32),
        "time": run.queue_time,
        "length": run.queue_length,
    }
    stage_queue = None
    if stages is not None and stages[1]:
        runs = stages[1]
        stage_queue = {
            "stage": np.concatenate(
                [np.full(r.queue_time.size, k, dtype=np.int16) for k, r in enumerate(runs, 1)]
            ),
            "time": np.concatenate([r.queue_time for r in runs]),
            "length": np.concatenate([r.queue_length for r in runs]),
        }
        stage_queue["day"] = np.zeros(stage_queue["time"].size, dtype=np.int32)
    return Journeys(
        customers,
        episodes,
        offsets,
        segments=list(s.segments),
        business_types=list(s.business_types),
        touchpoints=names,
        counters=f.teller_names,
        queue=queue,
        meta=meta,
        # built from the model's own arrays: its invariants (codes in range, offsets,
        # end > start, finite affect) are pinned by tests/test_sim.py
        validate=False,
        stage_visits=f.stage_visits(),
        stages=s.stage_names,
        stage_queue=stage_queue,
    )


def episode_arrays(
    f: Facts, table: tuple[Touchpoint, ...], names: list[str], rule: Any = None
) -> tuple[dict[str, Any], dict[str, Any], NDArray[np.int64], list[str]]:
    """Return the customer columns, episode columns and CSR offsets of the facts' customers.

    The one implementation of the experience logic: :func:`build_journeys` calls it for a
    day, :func:`peakend.sim.batch.simulate_days` for a chunk of days (``f.days``; every
    computation here is elementwise or per journey, so each day's rows are those of the
    day alone, bit for bit). ``customers`` has no ``day`` or ``customer`` column (the
    caller numbers the customers of each day).

    Parameters
    ----------
    f : Facts
        The customers' times and outcomes.
    table : tuple of Touchpoint
        The touchpoint table (:data:`TABLE`, or with further stages).
    names : list of str
        The touchpoint names the codes index.
    rule : memory rule, optional
        The rule for the ``remembered`` column; default: the scenario's.

    Returns
    -------
    customers, episodes : dict of str to numpy.ndarray
        Per-customer and per-episode columns.
    offsets : numpy.ndarray of int64
        CSR offsets, ``f.n + 1``.
    names : list of str
        The touchpoint names, with the scenario's own touchpoints.
    """
    s = f.s
    draws = f.draws
    n = f.n
    if s.touchpoints:
        from peakend.sim.static_touchpoints import with_static

        table, names = with_static(f, table, names)
    code = {name: i for i, name in enumerate(names)}
    # which episodes each customer has: one mask per touchpoint, in journey order (the
    # touchpoints nobody has, those not in the journey, are left out of the loops)
    has = []
    rows = []
    for tp in table:
        mask = tp.has(f)
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (n,):
            has.append(mask)  # a mask per customer, as most are
        elif np.ndim(mask) == 0 and not mask:
            continue
        else:
            has.append(np.broadcast_to(np.asarray(mask, dtype=bool), (n,)))
        rows.append(tp)
    # episodes before touchpoint k in each journey (column by column: numpy is slow
    # at reductions along the short axis of an (n, 9) matrix)
    before: list[NDArray[np.int64]] = []
    counts = np.zeros(n, dtype=np.int64)
    for mask in has:
        before.append(counts)
        counts = counts + mask
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    first = offsets[:-1]
    m_total = int(offsets[-1])
    tp_code = np.empty(m_total, dtype=np.int16)
    ep_start = np.empty(m_total)
    ep_end = np.empty(m_total)
    experience = np.empty(m_total)
    expectation = np.empty(m_total)
    for k, tp in enumerate(rows):
        m = has[k]
        if not m.any():  # nobody has it: its arguments are not even computed
            continue
        level = tp.level(f)
        if tp.noise is not None:
            column: str = tp.name if tp.noise == "own" else tp.noise
            noise: Array = draws.noise[:, NOISE_COLUMN[column]]
            level = np.clip(level + noise, 0.0, 10.0)
        if tp.expectation is None or isinstance(tp.expectation, str):
            expected = f.expect(tp.expectation or tp.name)
        else:
            expected = tp.expectation(f)
        # the episode's position in the episode arrays; the customers who have it are
        # taken by index (one flatnonzero, then a take per column: cheaper than a
        # boolean mask per column), or all of them as they are when everyone has it
        who = None if m.all() else np.flatnonzero(m)
        p = first + before[k] if who is None else (first + before[k]).take(who)
        tp_code[p] = code[tp.name]
        # a scalar is assigned as is, an array (one value per customer) is taken
        for dst, v in (
            (ep_start, tp.start(f)),
            (ep_end, tp.end(f)),
            (experience, level),
            (expectation, expected),
        ):
            if not np.ndim(v) or who is None:
                dst[p] = v
            else:
                dst[p] = np.asarray(v).take(who)

    if rule is None:
        rule = memory.get_rule(s.memory.rule, **s.memory.params)
    vf = s.value_function
    aff = np.asarray(
        affect.value(
            experience - expectation,
            kind=vf.kind,
            alpha=vf.alpha,
            beta=vf.beta,
            loss_aversion=vf.loss_aversion,
            scale=vf.scale,
            clip=(-10.0, 10.0),
        ),
        dtype=np.float64,
    )
    durations = ep_end - ep_start
    # the NumPy engine always: "auto" would pick by the call's size and by whether numba
    # is installed, and the remembered column must have the same bits everywhere
    remembered = memory.score(aff, offsets, durations=durations, rule=rule, engine="numpy")

    served, end, ab0 = f.route_served, f.last_end, f.abandon_start
    exit_at = end + f.exit_extra if f.exit_extra else end  # after static exit touchpoints
    if "farewell" in f.journey:
        departure = np.where(served, exit_at + f.farewell_minutes, ab0 + s.abandonment.minutes)
    else:
        departure = np.where(served, exit_at, ab0 + s.abandonment.minutes)
    if "farewell" in f.journey:
        gift_cost = np.where(served & (f.gift > 0), f.gift_cost_each, 0.0)
    else:
        gift_cost = np.zeros(n)
    customers = {
        "segment": draws.segment,
        "business": draws.business,
        "appointment": draws.appointment,
        "arrival": f.arrival,
        "queue_on_arrival": f.seen.astype(np.int32),
        "queue_ahead": f.ahead.astype(np.int32),
        "expected_wait": f.expected_wait,
        "wait": f.total_wait,
        "perceived_wait": f.total_perceived,
        "slips": f.total_slips,
        "balked": f.any_balked,
        "reneged": f.any_reneged,
        "counter": f.counter.astype(np.int16),
        "service_start": f.first_service_start,
        "service_end": np.where(np.isnan(f.first_service_start), np.nan, end),
        "departure": departure,
        "gift_cost": gift_cost,
        "remembered": np.asarray(remembered, dtype=np.float64),
    }
    episodes = {
        "touchpoint": tp_code,
        "start": ep_start,
        "end": ep_end,
        "experience": experience,
        "expectation": expectation,
        "affect": aff,
    }
    return customers, episodes, offsets, names
