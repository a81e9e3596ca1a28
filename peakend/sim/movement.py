"""The queue-and-counter movement of one service stage (:func:`move`, SimPy).

:func:`move` runs one stage's day in SimPy (:func:`peakend.sim.event_loop.run_events`: a
door, a process per teller, the shift plan, the closing, reneging) and returns its record
(:class:`QueueRun`); :func:`mover` picks SimPy or the compiled engine, which gives the
same record bit for bit. :func:`peakend.sim.engine.run_day` runs the first stage with it
and :mod:`peakend.sim.network` every further stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.event_loop import BALKED, NEW, RENEGED, SERVING, WAITING, run_events

__all__ = ["BALKED", "NEW", "RENEGED", "SERVING", "WAITING", "QueueRun", "move", "mover"]


@dataclass
class QueueRun:
    """One stage's record, per customer in join order (see :func:`move`)."""

    state: NDArray[np.int8]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    leave: NDArray[np.float64]
    teller: NDArray[np.int32]
    queue_seen: NDArray[np.int32]
    queue_ahead: NDArray[np.int32]
    queue_time: NDArray[np.float64]
    queue_length: NDArray[np.int32]
    teller_names: list[str]
    teller_group: list[str]
    no_slips: bool


def move(
    s: Scenario,
    join: NDArray[np.float64],
    key_arr: NDArray[np.int64],
    service: NDArray[np.float64],
    patience: NDArray[np.float64],
    balk_arr: NDArray[np.float64],
    hall: NDArray[np.bool_],
) -> QueueRun:
    """Move customers through one stage's queues and counters (``s.counters``) with SimPy.

    Parameters
    ----------
    s : Scenario
        The branch, with the stage's counter groups as its ``counters``.
    join : numpy.ndarray
        Queue-join times, minutes from opening, non-decreasing (join order).
    key_arr : numpy.ndarray of int64
        Queue keys (:func:`~peakend.sim.disciplines.queue_keys`).
    service, patience : numpy.ndarray
        Service minutes and patience minutes (inf: never reneges).
    balk_arr : numpy.ndarray
        Balking thresholds (queue ahead), inf: never balks.
    hall : numpy.ndarray of bool
        Who is counted in the hall-queue series.

    Returns
    -------
    QueueRun
        Per-customer outcomes in join order and the hall-queue series.
    """
    o = run_events(s, join, key_arr, service, patience, balk_arr, hall)
    n = join.size
    st = np.fromiter(o.state, np.int8, n)
    if np.any((st == WAITING) | (st == NEW)):
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    f64, i32 = np.float64, np.int32  # np.fromiter: the values of np.array, in half the time
    return QueueRun(
        state=st,
        start=np.fromiter(o.start, f64, n),
        end=np.fromiter(o.end, f64, n),
        leave=np.fromiter(o.leave, f64, n),
        teller=np.fromiter(o.served_by, i32, n),
        queue_seen=np.fromiter(o.seen, i32, n),
        queue_ahead=np.fromiter(o.ahead_seen, i32, n),
        queue_time=np.fromiter(o.q_time, f64, len(o.q_time)),
        queue_length=np.fromiter(o.q_len, i32, len(o.q_len)),
        teller_names=o.teller_names,
        teller_group=o.teller_group,
        no_slips=o.no_slips,
    )


def mover(engine: str = "simpy") -> Any:
    """Return the movement function of a resolved engine: :func:`move` or the compiled one.

    ``"compiled"`` gives :func:`peakend.sim.compiled.move_compiled`: the same inputs and
    the same :class:`QueueRun`, bit for bit. ``engine`` is a resolved name (see
    :func:`peakend.sim.compiled.resolve_engine`), not ``"auto"``.
    """
    if engine == "simpy":
        return move
    if engine == "compiled":
        from peakend.sim.compiled import move_compiled

        return move_compiled
    raise ValueError(f"engine: must be 'simpy' or 'compiled' here, got {engine!r}")


def join_runs(parts: list[QueueRun]) -> tuple[QueueRun, NDArray[np.int64], tuple[bool, ...]]:
    """Join days' :class:`QueueRun` end to end, as the compiled chunk kernel returns them.

    Returns the joined record (``no_slips`` False: it is per day), the bounds of each
    day's hall series (day ``d``'s at ``q_bounds[d]:q_bounds[d + 1]``) and each day's
    ``no_slips``.
    """

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in parts])

    run = QueueRun(
        state=cat("state"),
        start=cat("start"),
        end=cat("end"),
        leave=cat("leave"),
        teller=cat("teller"),
        queue_seen=cat("queue_seen"),
        queue_ahead=cat("queue_ahead"),
        queue_time=cat("queue_time"),
        queue_length=cat("queue_length"),
        teller_names=list(parts[0].teller_names),
        teller_group=list(parts[0].teller_group),
        no_slips=False,
    )
    q_bounds = np.zeros(len(parts) + 1, dtype=np.int64)
    q_bounds[1:] = np.cumsum([p.queue_time.size for p in parts])
    return run, q_bounds, tuple(p.no_slips for p in parts)
