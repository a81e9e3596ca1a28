"""Stage 2 of a simulated day: customers move through the branch (:func:`run_day`, SimPy).

The moments before the queue (entrance, welcome, ticket) fix each customer's queue-join
time; :func:`peakend.sim.movement.move` (one SimPy run of the queues and counters) does
the rest. There is no experience logic here: the
record of times and outcomes (:class:`DayRun`) goes to :mod:`peakend.sim.experience`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.disciplines import queue_keys
from peakend.sim.draws import DayDraws
from peakend.sim.movement import BALKED, NEW, RENEGED, SERVING, WAITING, join_runs, mover
from peakend.sim.staff import greetings, greetings_by_day, managers_on_duty
from peakend.sim.touchpoints import pre_queue_episodes

__all__ = [
    "BALKED", "NEW", "RENEGED", "SERVING", "SKIPPED", "WAITING", "DayRun", "DaysRun", "run_day",
    "run_days",
]

#: State of a customer whose route leaves out the first stage (``DayRun.state``).
SKIPPED = 5


@dataclass
class DayRun:
    """What the SimPy run records, per customer in join order, plus the hall series."""

    order: NDArray[np.int64]  # join-order position -> arrival-order index
    join: NDArray[np.float64]  # minutes, time the customer takes a ticket / joins the queue
    greeted: NDArray[np.bool_]
    lounge: NDArray[np.bool_]  # waits in the lounge (not in the hall)
    state: NDArray[np.int8]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    leave: NDArray[np.float64]  # reneging time
    teller: NDArray[np.int32]  # global teller index, -1
    queue_seen: NDArray[np.int32]  # hall queue when joining (lounge users not counted)
    queue_ahead: NDArray[np.int32]  # waiting ahead in the customer's own priority order
    queue_time: NDArray[np.float64]
    queue_length: NDArray[np.int32]
    teller_names: list[str]
    teller_group: list[str]
    # one queue, nobody reneges: served strictly in join order, so nobody slips
    # (a teller is idle only when the queue is empty, so nobody is handed to a
    # teller while someone waits, and the queue is first in, first out)
    no_slips: bool = False


def run_day(
    scenario: Scenario,
    draws: DayDraws,
    skip: NDArray[np.bool_] | None = None,
    engine: str = "simpy",
) -> DayRun:
    """Move the day's customers through the branch (SimPy, or the compiled engine).

    Parameters
    ----------
    scenario : Scenario
        The branch.
    draws : DayDraws
        The day's pre-drawn customers (see :func:`draw_day`).
    skip : numpy.ndarray of bool, optional
        Per customer (arrival order), whose route leaves out this (the first) stage:
        they take a ticket and go on to their next stage (state ``SKIPPED``).
    engine : {"simpy", "compiled"}, default "simpy"
        The movement engine (:func:`~peakend.sim.movement.mover`); both give the same
        record, bit for bit.

    Returns
    -------
    DayRun
        Per-customer times and outcomes in join order, and the hall queue series.
    """
    s = scenario
    n = draws.arrival.size
    seg_names = list(s.segments)
    bus_names = list(s.business_types)
    n_bus = len(bus_names)
    journey = set(s.journey)

    # ---- pre-queue moments are deterministic given the arrivals (no queueing for them)
    greeted = np.zeros(n, dtype=bool)
    if "welcome" in journey:
        lobby_time = draws.arrival + s.entrance.minutes if "entrance" in journey else draws.arrival
        greeted = greetings(
            lobby_time, managers_on_duty(s, lobby_time), s.lobby.greeting_minutes,
            compiled=engine == "compiled",
        )
    pre_queue = pre_queue_episodes(s, draws.arrival, greeted)
    join_arrival_order = pre_queue[-1][2] if pre_queue else draws.arrival
    order = np.argsort(join_arrival_order, kind="stable")
    join = join_arrival_order[order]
    seg = draws.segment[order]
    uses_lounge = np.array([s.segments[x].lounge for x in seg_names], dtype=bool)
    lounge = uses_lounge[seg] & (s.lounge.enabled and "lounge" in journey)
    appt = draws.appointment[order]
    key_arr = queue_keys(seg, draws.business[order], appt, n_bus)
    balk_by_seg = np.array(
        [
            math.inf if s.segments[x].balk_queue is None else s.segments[x].balk_queue
            for x in seg_names
        ]
    )
    balk_arr = np.where(appt, math.inf, balk_by_seg[seg])

    if skip is not None and skip.any():
        return _run_with_skips(
            s, draws, skip, order, join, greeted, lounge, key_arr, balk_arr, engine
        )
    q = mover(engine)(
        s, join, key_arr, draws.service[order], draws.patience[order], balk_arr, ~lounge
    )
    return DayRun(
        order=order,
        join=join,
        greeted=greeted[order],
        lounge=lounge,
        state=q.state,
        start=q.start,
        end=q.end,
        leave=q.leave,
        teller=q.teller,
        queue_seen=q.queue_seen,
        queue_ahead=q.queue_ahead,
        queue_time=q.queue_time,
        queue_length=q.queue_length,
        teller_names=q.teller_names,
        teller_group=q.teller_group,
        no_slips=q.no_slips,
    )


@dataclass
class DaysRun:
    """The movement of several days end to end (:func:`run_days`)."""

    run: DayRun  # the days' records end to end (order: rows of the chunk; no_slips False)
    q_bounds: NDArray[np.int64]  # day d's hall series: run.queue_time[q_bounds[d]:q_bounds[d+1]]
    no_slips: tuple[bool, ...]  # DayRun.no_slips of each day alone


def run_days(
    scenario: Scenario,
    draws: DayDraws,
    bounds: NDArray[np.int64],
    engine: str = "simpy",
) -> DaysRun:
    """Move several days' customers: each day's record bit for bit that of :func:`run_day`.

    The moments before the queue are computed for all the days at once (elementwise,
    the greetings day by day); the join order is a stable sort by (day, join time),
    which within each day is the day's own stable sort. ``engine="compiled"`` then moves
    all the days in one kernel call
    (:func:`~peakend.sim.compiled.move_days_compiled`); SimPy moves them day by day.

    Parameters
    ----------
    scenario : Scenario
        The branch (without further stages: nobody skips the first stage).
    draws : DayDraws
        The days' customers end to end, in arrival order within each day
        (:func:`~peakend.sim.draws.draw_days`).
    bounds : numpy.ndarray of int64
        ``days + 1`` offsets: day ``d`` has the customers ``bounds[d]:bounds[d + 1]``.
    engine : {"simpy", "compiled"}, default "simpy"
        The movement engine.

    Returns
    -------
    DaysRun
        The concatenation of each day's :class:`DayRun` (``order`` indexes the chunk's
        rows), the bounds of each day's hall series, and each day's ``no_slips``.
    """
    s = scenario
    bounds = np.asarray(bounds, dtype=np.int64)
    arrival = draws.arrival
    n = arrival.size
    n_days = bounds.size - 1
    seg_names = list(s.segments)
    journey = set(s.journey)
    compiled = engine == "compiled"
    mover(engine)  # checks the engine's name

    greeted = np.zeros(n, dtype=bool)
    if "welcome" in journey:
        lobby_time = arrival + s.entrance.minutes if "entrance" in journey else arrival
        greeted = greetings_by_day(
            lobby_time, managers_on_duty(s, lobby_time), s.lobby.greeting_minutes, bounds,
            compiled=compiled,
        )
    pre_queue = pre_queue_episodes(s, arrival, greeted)
    join_arrival_order = pre_queue[-1][2] if pre_queue else arrival
    order, kept = _join_order(join_arrival_order, bounds, compiled)

    def joined(a: Any) -> Any:  # per customer in join order
        return a if kept else a[order]

    join = joined(join_arrival_order)
    seg = joined(draws.segment)
    uses_lounge = np.array([s.segments[x].lounge for x in seg_names], dtype=bool)
    # the same values as run_day's; a column that is one value for everyone is filled
    if s.lounge.enabled and "lounge" in journey and uses_lounge.any():
        lounge = uses_lounge[seg]
    else:
        lounge = np.zeros(n, dtype=bool)
    appt = joined(draws.appointment)
    key_arr = queue_keys(seg, joined(draws.business), appt, len(s.business_types))
    balk_by_seg = np.array(
        [
            math.inf if s.segments[x].balk_queue is None else s.segments[x].balk_queue
            for x in seg_names
        ]
    )
    if np.all(balk_by_seg == math.inf):
        balk_arr = np.full(n, math.inf)
    else:
        balk_arr = np.where(appt, math.inf, balk_by_seg[seg])
    service, patience, hall = joined(draws.service), joined(draws.patience), ~lounge
    if compiled:
        from peakend.sim.compiled import move_days_compiled

        q, q_bounds, no_slips = move_days_compiled(
            s, bounds, join, key_arr, service, patience, balk_arr, hall
        )
    else:
        parts = []
        for d in range(n_days):
            r = slice(int(bounds[d]), int(bounds[d + 1]))
            parts.append(mover(engine)(
                s, join[r], key_arr[r], service[r], patience[r], balk_arr[r], hall[r]
            ))
        q, q_bounds, no_slips = join_runs(parts)
    run = DayRun(
        order=order,
        join=join,
        greeted=joined(greeted),
        lounge=lounge,
        state=q.state,
        start=q.start,
        end=q.end,
        leave=q.leave,
        teller=q.teller,
        queue_seen=q.queue_seen,
        queue_ahead=q.queue_ahead,
        queue_time=q.queue_time,
        queue_length=q.queue_length,
        teller_names=q.teller_names,
        teller_group=q.teller_group,
        no_slips=False,
    )
    return DaysRun(run, q_bounds, no_slips)


def _join_order(
    join: NDArray[np.float64], bounds: NDArray[np.int64], compiled: bool = False
) -> tuple[NDArray[np.int64], bool]:
    """Rows in join order: a stable sort by (day, join time), each day's own stable argsort.

    Days whose join times are already non-decreasing (no welcome, or nobody overtaken)
    keep their rows: the stable argsort of a sorted array is the identity. ``compiled``:
    the same order from a compiled loop over the days (numba). Returns the order and
    whether it is the identity (every day kept its rows).
    """
    n = join.size
    if compiled:
        from peakend.sim.compiled._greetings import join_order_kernel

        by_day: NDArray[np.int64]
        by_day, kept = join_order_kernel(
            np.ascontiguousarray(join, dtype=np.float64), np.ascontiguousarray(bounds)
        )
        return by_day, bool(kept)
    step = np.diff(join) < 0  # join[i + 1] < join[i]
    if n > 1 and bounds.size > 2:
        inner = bounds[1:-1]
        step[inner[(inner > 0) & (inner < n)] - 1] = False  # a new day may start earlier
    if not step.any():
        return np.arange(n, dtype=np.int64), True
    day = np.repeat(np.arange(bounds.size - 1, dtype=np.int64), np.diff(bounds))
    order: NDArray[np.int64] = np.lexsort((join, day)).astype(np.int64, copy=False)
    return order, False


def _run_with_skips(
    s: Scenario,
    draws: DayDraws,
    skip: NDArray[np.bool_],
    order: NDArray[np.int64],
    join: NDArray[np.float64],
    greeted: NDArray[np.bool_],
    lounge: NDArray[np.bool_],
    key_arr: NDArray[np.int64],
    balk_arr: NDArray[np.float64],
    engine: str = "simpy",
) -> DayRun:
    """Run the first stage for the customers who visit it; the others are ``SKIPPED``."""
    n = join.size
    lounge = lounge & ~skip[order]
    rows = np.flatnonzero(~skip[order])  # join-order positions of the visitors
    q = mover(engine)(
        s,
        join[rows],
        key_arr[rows],
        draws.service[order][rows],
        draws.patience[order][rows],
        balk_arr[rows],
        ~lounge[rows],
    )
    state = np.full(n, SKIPPED, dtype=np.int8)
    start, end, leave = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    teller = np.full(n, -1, dtype=np.int32)
    seen, ahead = np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.int32)
    state[rows], start[rows], end[rows], leave[rows] = q.state, q.start, q.end, q.leave
    teller[rows], seen[rows], ahead[rows] = q.teller, q.queue_seen, q.queue_ahead
    return DayRun(
        order=order,
        join=join,
        greeted=greeted[order],
        lounge=lounge,
        state=state,
        start=start,
        end=end,
        leave=leave,
        teller=teller,
        queue_seen=seen,
        queue_ahead=ahead,
        queue_time=q.queue_time,
        queue_length=q.queue_length,
        teller_names=q.teller_names,
        teller_group=q.teller_group,
        no_slips=False,
    )
