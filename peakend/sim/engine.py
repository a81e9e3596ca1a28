"""Stage 2 of a simulated day: customers move through the branch (:func:`run_day`, SimPy).

The moments before the queue (entrance, welcome, ticket) fix each customer's queue-join
time; :func:`peakend.sim.movement.move` (one SimPy run of the queues and counters) does
the rest. There is no experience logic here: the
record of times and outcomes (:class:`DayRun`) goes to :mod:`peakend.sim.experience`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.disciplines import queue_keys
from peakend.sim.draws import DayDraws
from peakend.sim.movement import BALKED, NEW, RENEGED, SERVING, WAITING, mover
from peakend.sim.staff import greetings, managers_on_duty
from peakend.sim.touchpoints import pre_queue_episodes

__all__ = ["BALKED", "NEW", "RENEGED", "SERVING", "SKIPPED", "WAITING", "DayRun", "run_day"]

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
