"""Further service stages: their draws (:func:`draw_stages`) and movement (:func:`run_stages`).

A scenario's first stage is its ``counters`` and runs as a one-stage day
(:func:`peakend.sim.engine.run_day`). Each further stage, in the order of the ``stages``
table, takes the customers who were served at the stage before on their route and whose
route (drawn up front) goes on there; they join its queue the moment their previous
service ends, and :func:`peakend.sim.movement.move` moves them through its counter
groups. Routes are feed-forward (the stage order), so running the stages one after the
other is the same day as running them together, and the minutes a customer has already
waited at the earlier stages are known when a stage runs: its ``patience_decay`` wears
the patience drawn for its queue before :func:`~peakend.sim.movement.move` is called, so
no movement engine knows about it.

Every random quantity of a stage has its own stream keyed on the stage's name: the
routing choice, the service time, the patience at its queue, the service-episode noise
and its tellers' quality. Each is drawn for every potential customer (keyed on
``DayDraws.potential``), so a policy that changes a route share or a stage's staffing
keeps who arrives and what they need everywhere else (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.disciplines import queue_keys
from peakend.sim.draws import DayDraws
from peakend.sim.engine import SKIPPED, DayRun
from peakend.sim.movement import BALKED, RENEGED, SERVING, mover
from peakend.sim.sampling import as_seed_sequence, name_key, ppf, stream
from peakend.sim.slips import count_slips
from peakend.sim.touchpoints import between_stage_episodes

__all__ = ["StageDraws", "StageRun", "draw_stages", "first_stage_skips", "run_stages"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class StageDraws:
    """A further stage's draws for the day's customers, in arrival order."""

    name: str
    routed: NDArray[np.bool_]  # the route goes on to this stage (if served before)
    service: Array  # minutes (NaN: business not served here)
    patience: Array  # minutes, inf: never reneges
    noise: Array  # service-episode noise, points
    quality: dict[str, Array]  # per counter group, per teller, 0-10


@dataclass(frozen=True)
class StageRun:
    """What happened at a further stage, per customer in arrival order (NaN: no visit)."""

    name: str
    visit: NDArray[np.bool_]  # reached the stage's queue
    join: Array
    served: NDArray[np.bool_]
    balked: NDArray[np.bool_]
    reneged: NDArray[np.bool_]
    start: Array
    end: Array
    leave: Array
    teller: NDArray[np.int32]  # global teller index over all stages, -1
    slips: NDArray[np.int32]
    teller_names: list[str]
    teller_group: list[str]
    waited_before: Array  # minutes waited at the earlier stages of the route (0: no visit)
    come: Array  # left the stage before (NaN: no visit); before_stage episodes, then join
    queue_time: Array  # the stage's queue-length step series: minutes from opening...
    queue_length: NDArray[np.int32]  # ...and customers waiting in its queue from then on


def _potential(draws: DayDraws, u_of: np.random.Generator, kind: str = "random") -> Array:
    """One draw per potential customer, picked for those who came (prefix-stable)."""
    n_potential = int(draws.potential[-1]) + 1 if draws.potential.size else 0
    if kind == "random":
        u = u_of.random(n_potential)
    else:
        u = u_of.standard_normal(n_potential)
    out: Array = u[draws.potential]
    return out


def _shares(s: Scenario, stage: str) -> NDArray[np.float64]:
    """Visiting share of ``stage`` per (segment, business type) from the routes."""
    seg_names, bus_names = list(s.segments), list(s.business_types)
    share = np.zeros((len(seg_names), len(bus_names)))
    for i, sn in enumerate(seg_names):
        for j, bn in enumerate(bus_names):
            names, shares = s.route(sn, bn)
            if stage in names:
                share[i, j] = shares[names.index(stage)]
    return share


def first_stage_skips(
    scenario: Scenario, seed: int | np.random.SeedSequence, draws: DayDraws
) -> NDArray[np.bool_] | None:
    """Whose route leaves out the first stage (arrival order), or None if nobody's can.

    The routing draw of the first stage has its own stream, keyed on its name.
    """
    s = scenario
    share = _shares(s, s.first_stage)
    if bool(np.all(share >= 1.0)):
        return None
    u = _potential(draws, stream(as_seed_sequence(seed), "routing", name_key(s.first_stage)))
    skip: NDArray[np.bool_] = u >= share[draws.segment.astype(np.int64), draws.business]
    return skip


def draw_stages(
    scenario: Scenario, seed: int | np.random.SeedSequence, draws: DayDraws
) -> list[StageDraws]:
    """Draw every random quantity of the further stages, per customer who came.

    Parameters
    ----------
    scenario : Scenario
        The branch, with ``stages``.
    seed : int or numpy.random.SeedSequence
        The day's seed (the same as for :func:`~peakend.sim.draws.draw_day`).
    draws : DayDraws
        The day's draws.

    Returns
    -------
    list of StageDraws
        One per further stage, in the order of ``scenario.stages``.
    """
    s = scenario
    root = as_seed_sequence(seed)
    seg_names, bus_names = list(s.segments), list(s.business_types)
    seg = draws.segment.astype(np.int64)
    bus = draws.business.astype(np.int64)
    sd = np.array([s.segments[x].noise_sd for x in seg_names])
    out = []
    for x, st in s.stages.items():
        share = _shares(s, x)
        key = name_key(x)
        if bool(np.all(share >= 1.0)):  # everyone's route goes on here (u < 1 always)
            routed = np.ones(seg.size, dtype=bool)
        else:
            routed = _potential(draws, stream(root, "routing", key)) < share[seg, bus]
        u = _potential(draws, stream(root, "stage_service", key))
        service = np.full(u.size, np.nan)
        for j, bn in enumerate(bus_names):
            if bn in st.service:
                m = bus == j
                service[m] = ppf(st.service[bn], u[m])
        patience = np.full(u.size, np.inf)
        renege = [(i, s.segments[sn].renege) for i, sn in enumerate(seg_names)]
        if any(d is not None for _, d in renege):
            up = _potential(draws, stream(root, "stage_patience", key))
            for i, d in renege:
                if d is not None:
                    m = seg == i
                    patience[m] = ppf(d, up[m]) * st.patience_scale
        noise = _potential(draws, stream(root, "stage_experience", key), "normal") * sd[seg]
        quality = {}
        for g, c in st.counters.items():
            rng = stream(root, "stage_tellers", key, name_key(g))
            q = rng.normal(c.quality.mean, c.quality.sd, size=c.max_tellers())
            quality[g] = np.clip(q, 0.0, 10.0)
        out.append(StageDraws(x, routed, service, patience, noise, quality))
    return out


def run_stages(
    scenario: Scenario,
    draws: DayDraws,
    run: DayRun,
    stage_draws: list[StageDraws],
    engine: str = "simpy",
) -> list[StageRun]:
    """Move the customers served at the first stage on through their routes' further stages.

    Parameters
    ----------
    scenario : Scenario
        The branch, with ``stages``.
    draws : DayDraws
        The day's draws.
    run : DayRun
        The first stage's run (join order).
    stage_draws : list of StageDraws
        From :func:`draw_stages`.
    engine : {"simpy", "compiled"}, default "simpy"
        The movement engine (:func:`~peakend.sim.movement.mover`); the same bits.

    Returns
    -------
    list of StageRun
        One per further stage, in arrival order.
    """
    move = mover(engine)
    s = scenario
    n = draws.arrival.size
    n_bus = len(s.business_types)
    seg_names = list(s.segments)
    o = run.order
    served = np.empty(n, dtype=bool)
    served[o] = (run.state == SERVING) | (run.state == SKIPPED)
    last_end = np.empty(n)
    # who leaves out the first stage goes on as they take their ticket
    last_end[o] = np.where(run.state == SKIPPED, run.join, run.end)
    # minutes waited so far: the first stage's wait of those served there (0: skipped)
    waited = np.zeros(n)
    waited[o] = np.where(run.state == SERVING, np.maximum(run.start - run.join, 0.0), 0.0)
    keys_all = queue_keys(draws.segment, draws.business, draws.appointment, n_bus)
    balk_seg = np.array(
        [
            np.inf if s.segments[x].balk_queue is None else s.segments[x].balk_queue
            for x in seg_names
        ]
    )
    balk_all = np.where(draws.appointment, np.inf, balk_seg[draws.segment.astype(np.int64)])
    offset = len(run.teller_names)
    out = []
    for sd in stage_draws:
        visit = served & sd.routed
        idx = np.flatnonzero(visit)
        come0 = last_end[idx]
        between = between_stage_episodes(s, sd.name, come0)  # the scenario's own, if any
        join0 = between[-1][2] if between else come0
        order = np.argsort(join0, kind="stable")
        rows = idx[order]
        view = s.stage_view(sd.name)
        st = s.stages[sd.name]
        before = waited[rows]
        patience = sd.patience[rows]
        if st.patience_decay > 0.0:  # patience wears thin with the minutes waited before
            patience = patience / (1.0 + st.patience_decay * before)
        q = move(
            view,
            join0[order],
            keys_all[rows],
            sd.service[rows],
            patience,
            balk_all[rows],
            np.ones(rows.size, dtype=bool),  # everyone in its queue: its queue series
        )
        join = np.full(n, np.nan)
        start, end, leave = join.copy(), join.copy(), join.copy()
        state = np.full(n, -1, dtype=np.int8)
        teller = np.full(n, -1, dtype=np.int32)
        join[rows], start[rows], end[rows], leave[rows] = join0[order], q.start, q.end, q.leave
        state[rows] = q.state
        teller[rows] = np.where(q.teller >= 0, q.teller + offset, -1)
        slips = np.zeros(n, dtype=np.int32)
        if not q.no_slips and rows.size:
            until = np.where(q.state == SERVING, q.start, q.leave)
            slips[rows] = count_slips(join0[order], q.start, until, np.ones(rows.size, bool))
        ok = state == SERVING
        waited_before = np.zeros(n)
        waited_before[rows] = before
        come = np.full(n, np.nan)
        come[idx] = come0
        out.append(
            StageRun(
                name=sd.name,
                visit=visit,
                join=join,
                served=ok,
                balked=state == BALKED,
                reneged=state == RENEGED,
                start=start,
                end=end,
                leave=leave,
                teller=teller,
                slips=slips,
                teller_names=[f"{sd.name}/{t}" for t in q.teller_names],
                teller_group=[f"{sd.name}/{g}" for g in q.teller_group],
                waited_before=waited_before,
                come=come,
                queue_time=q.queue_time,
                queue_length=q.queue_length,
            )
        )
        here = np.zeros(n)
        here[rows] = np.where(q.state == SERVING, np.maximum(q.start - join0[order], 0.0), 0.0)
        waited = waited + here
        offset += len(q.teller_names)
        served = np.where(visit, ok, served)
        last_end = np.where(ok, end, last_end)
    return out
