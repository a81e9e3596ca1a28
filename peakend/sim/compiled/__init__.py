"""The compiled movement engine: :func:`move_compiled`, bit for bit the SimPy engine.

:func:`move_compiled` takes the same inputs as the SimPy engine's
:func:`peakend.sim.movement.move` and returns the same :class:`~peakend.sim.movement.QueueRun`,
bit for bit; its event loop is one numba kernel over arrays
(:mod:`peakend.sim.compiled._kernel`, in the ``fast`` extra: ``pip install "peakend[fast]"``).
The Python side builds the shift changes (:func:`peakend.sim.staff.shift_events`) and the
queue plan (:func:`peakend.sim.disciplines.queue_plan`) exactly as the SimPy engine does and
packs them into flat integer arrays, so the kernel takes them as data.
:func:`move_days_compiled` moves the days of a chunk (``run``'s workers) in one kernel
call, each day on its own, each day's record that of :func:`move_compiled` for the day
alone; a day of one first-come queue with nothing that changes during it takes a short
way through the same events (:func:`peakend.sim.compiled._fifo._move_fifo`).

The tie rule (SimPy's, reproduced)
----------------------------------
Every event has a time, a priority and a scheduling number (a counter increased each time
an event is scheduled), and events are processed in (time, priority, number) order:

* At time 0 the processes start (SimPy's Initialize events, URGENT priority) in the order
  they are created: the tellers by number, the door, the shift plan, the closing; each
  runs until it first waits, before any other event at time 0.
* Every other event has NORMAL priority: a timeout (a customer's arrival at the door, a
  service end, the next shift change, the closing) is scheduled when it is created, at
  ``now + delay``; a hand-over (the door gives a customer to an idle teller) and a shift
  waking a teller are scheduled at ``now`` when they happen. Simultaneous events are
  therefore processed in the order they were scheduled.
* The clock is the event's ``now + delay``: the door waits ``join - now`` minutes, so its
  clock can differ from the join time by a rounding error; the shift plan waits
  ``change - now``. The kernel does the same arithmetic in float64 (no fast-math).
* Reneging deadlines are handled lazily, before anything reads the queues, in
  (deadline, customer) order, each at its own deadline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim._cache import ScenarioCache
from peakend.sim.disciplines import queue_plan
from peakend.sim.staff import shift_events

__all__ = [
    "ENGINES", "FAST_EXTRA", "check_engine", "move_compiled", "move_days_compiled",
    "resolve_engine", "warm_up",
]

#: Valid values of the ``engine`` argument of ``simulate`` and ``run``.
ENGINES = ("simpy", "compiled", "auto")

#: How to install the compiled engine's dependency (numba).
FAST_EXTRA = 'pip install "peakend[fast]"'


def check_engine(engine: Any) -> str:
    """Return ``engine`` if it is one of :data:`ENGINES`, else raise a ValueError naming it."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ValueError(
            f"engine: must be one of {', '.join(repr(e) for e in ENGINES)}, got {engine!r}"
        )
    return engine


def _numba_error() -> ImportError | None:
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        return exc
    return None


def resolve_engine(engine: Any) -> Literal["simpy", "compiled"]:
    """Resolve ``engine`` to the movement engine to use (``"auto"``: compiled if numba imports).

    Parameters
    ----------
    engine : {"simpy", "compiled", "auto"}
        The requested engine.

    Returns
    -------
    {"simpy", "compiled"}
        The engine that will move the customers.

    Raises
    ------
    ValueError
        If ``engine`` is not one of :data:`ENGINES`.
    ImportError
        If ``engine`` is ``"compiled"`` and numba cannot be imported (the ``fast`` extra).
    """
    check_engine(engine)
    if engine == "simpy":
        return "simpy"
    error = _numba_error()
    if error is None:
        return "compiled"
    if engine == "compiled":
        raise ImportError(
            f"engine='compiled' needs the optional dependency numba ({error}); "
            f"install it with: {FAST_EXTRA}"
        ) from error
    return "simpy"


def _csr(lists: list[list[int]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    flat = np.array([v for x in lists for v in x], dtype=np.int64)
    return ptr, flat


def move_compiled(
    s: Scenario,
    join: NDArray[np.float64],
    key_arr: NDArray[np.int64],
    service: NDArray[np.float64],
    patience: NDArray[np.float64],
    balk_arr: NDArray[np.float64],
    hall: NDArray[np.bool_],
) -> Any:
    """Move customers through one stage's queues and counters with the compiled kernel.

    The same inputs and output as :func:`peakend.sim.movement.move`, bit for bit (the
    tie rule is in this module's docstring).

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
    from peakend.sim.compiled._kernel import move_kernel
    from peakend.sim.movement import NEW, WAITING, QueueRun

    key_arr = np.ascontiguousarray(key_arr, dtype=np.int64)
    packed = _packed_for(s, key_arr)
    n = key_arr.size
    one_key = n > 0 and bool(np.all(key_arr == key_arr[0]))
    teller_names, teller_group = packed.teller_names, packed.teller_group
    f8 = np.float64
    patience = np.ascontiguousarray(patience, dtype=f8)
    balk_arr = np.ascontiguousarray(balk_arr, dtype=f8)
    can_leave = bool(np.any(patience < math.inf))
    out = move_kernel(
        np.ascontiguousarray(join, dtype=f8),
        key_arr,
        np.ascontiguousarray(service, dtype=f8),
        patience,
        balk_arr,
        np.ascontiguousarray(hall, dtype=np.bool_),
        float(s.open_minutes),
        s.after_closing == "dismiss",
        can_leave,
        bool(np.any(balk_arr < math.inf)),
        *packed.arrays,
    )
    error, state, start, end, leave, teller, seen, ahead, q_time, q_len = out
    if error:
        raise RuntimeError("simulate: a counter group counted a free teller it has not (model bug)")
    if np.any((state == WAITING) | (state == NEW)):
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    return QueueRun(
        state=state,
        start=start,
        end=end,
        leave=leave,
        teller=teller,
        queue_seen=seen,
        queue_ahead=ahead,
        queue_time=q_time,
        queue_length=q_len,
        teller_names=list(teller_names),
        teller_group=list(teller_group),
        no_slips=one_key and not can_leave,
    )


def move_days_compiled(
    s: Scenario,
    bounds: NDArray[np.int64],
    join: NDArray[np.float64],
    key_arr: NDArray[np.int64],
    service: NDArray[np.float64],
    patience: NDArray[np.float64],
    balk_arr: NDArray[np.float64],
    hall: NDArray[np.bool_],
) -> tuple[Any, NDArray[np.int64], tuple[bool, ...]]:
    """Move several days of one stage in one kernel call: each day as :func:`move_compiled`.

    Parameters
    ----------
    s : Scenario
        The branch, with the stage's counter groups as its ``counters``.
    bounds : numpy.ndarray of int64
        ``days + 1`` offsets: day ``d`` is the rows ``bounds[d]:bounds[d + 1]``.
    join, key_arr, service, patience, balk_arr, hall : numpy.ndarray
        As for :func:`move_compiled`, the days' rows end to end, each day in its own
        join order (join times in minutes from that day's opening).

    Returns
    -------
    run : QueueRun
        The days' records end to end (``no_slips`` False: it is per day); the hall
        series of the days end to end.
    q_bounds : numpy.ndarray of int64
        ``days + 1`` offsets of each day's hall series in ``run.queue_time`` and
        ``run.queue_length``.
    no_slips : tuple of bool
        Per day, :attr:`QueueRun.no_slips` of the day alone.

    Notes
    -----
    Every day moves with the scenario's packed plan over all servable keys, as
    :func:`move_compiled` does for a day whose keys it covers; a chunk with a key outside
    it (a customer no group serves) is moved day by day with :func:`move_compiled`.
    """
    from peakend.sim.compiled._kernel import move_days_kernel
    from peakend.sim.movement import QueueRun

    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    key_arr = np.ascontiguousarray(key_arr, dtype=np.int64)
    f8 = np.float64
    patience = np.ascontiguousarray(patience, dtype=f8)
    balk_arr = np.ascontiguousarray(balk_arr, dtype=f8)
    full = _packed(s, None)
    allowed = full.allowed
    if key_arr.size and (
        int(key_arr.max()) >= allowed.size or int(key_arr.min()) < 0 or not allowed[key_arr].all()
    ):
        return _move_days_one_by_one(s, bounds, join, key_arr, service, patience, balk_arr, hall)
    can_leave = bool(np.any(patience < math.inf))
    out = move_days_kernel(
        bounds,
        np.ascontiguousarray(join, dtype=f8),
        key_arr,
        np.ascontiguousarray(service, dtype=f8),
        patience,
        balk_arr,
        np.ascontiguousarray(hall, dtype=np.bool_),
        float(s.open_minutes),
        s.after_closing == "dismiss",
        can_leave,
        bool(np.any(balk_arr < math.inf)),
        *full.arrays,
    )
    error, state, start, end, leave, teller, seen, ahead, q_time, q_len, q_bounds, slips = out
    if error == 1:
        raise RuntimeError("simulate: a counter group counted a free teller it has not (model bug)")
    if error:
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    run = QueueRun(
        state=state,
        start=start,
        end=end,
        leave=leave,
        teller=teller,
        queue_seen=seen,
        queue_ahead=ahead,
        queue_time=q_time,
        queue_length=q_len,
        teller_names=list(full.teller_names),
        teller_group=list(full.teller_group),
        no_slips=False,
    )
    return run, q_bounds, tuple(slips.tolist())


def _move_days_one_by_one(
    s: Scenario,
    bounds: NDArray[np.int64],
    join: NDArray[np.float64],
    key_arr: NDArray[np.int64],
    service: NDArray[np.float64],
    patience: NDArray[np.float64],
    balk_arr: NDArray[np.float64],
    hall: NDArray[np.bool_],
) -> tuple[Any, NDArray[np.int64], tuple[bool, ...]]:
    """:func:`move_days_compiled` a day at a time (:func:`move_compiled` per day)."""
    from peakend.sim.movement import join_runs

    parts = []
    for d in range(bounds.size - 1):
        r = slice(int(bounds[d]), int(bounds[d + 1]))
        parts.append(
            move_compiled(s, join[r], key_arr[r], service[r], patience[r], balk_arr[r], hall[r])
        )
    return join_runs(parts)


@dataclass(frozen=True)
class _Packed:
    """A stage's shift changes and queue plan as the kernel's flat arrays."""

    teller_names: list[str]
    teller_group: list[str]
    arrays: tuple[Any, ...]
    allowed: NDArray[np.bool_]  # per key (index), whether the plan covers it


#: Packed plans of recent (scenario object, keys; None: every servable key, see
#: :func:`_packed_for`): ``run`` simulates many days
#: of the same scenario object, so the plan is built once, not per day (a few hundred
#: microseconds of Python per stage and day). Keyed on the object's identity: scenarios
#: are frozen, and a changed copy is a new object.
_CACHE: ScenarioCache[_Packed] = ScenarioCache()


def _servable_keys(s: Scenario) -> tuple[int, ...]:
    """Every queue key some counter group serves: the customers the scenario can produce.

    The same test as :func:`~peakend.sim.disciplines.queue_plan` makes for a present key
    (its segment among the group's served segments, its business among the group's).
    """
    seg_names = list(s.segments)
    bus_names = list(s.business_types)
    n_bus = len(bus_names)
    keys = []
    for si, x in enumerate(seg_names):
        for bi, b in enumerate(bus_names):
            if any(
                x in s.served_segments(g) and (not c.business or b in c.business)
                for g, c in s.counters.items()
            ):
                keys += [(si * n_bus + bi) * 2, (si * n_bus + bi) * 2 + 1]
    return tuple(keys)


def _packed_for(s: Scenario, key_arr: NDArray[np.int64]) -> _Packed:
    """Return the packed plan of a day: the one over every servable key, cached per scenario.

    A plan over more keys than the day's moves the day exactly as the plan over its own
    keys: a key nobody has is an empty queue, which the pick skips, which adds nothing to
    the queue ahead and which nobody is dismissed from at closing; the keys keep their
    order within each level. So one plan serves every day of a scenario (the set of keys
    present changes from day to day). A day with a key outside it (a customer no group
    serves) gets its own plan, as before.
    """
    full = _packed(s, None)
    allowed = full.allowed
    if key_arr.size and (
        int(key_arr.max()) >= allowed.size or int(key_arr.min()) < 0 or not allowed[key_arr].all()
    ):
        return _packed(s, tuple(np.unique(key_arr).tolist()))
    return full


def _packed(s: Scenario, present: tuple[int, ...] | None) -> _Packed:
    return _CACHE.get(
        s, present, lambda: _pack(s, _servable_keys(s) if present is None else present)
    )


def _pack(s: Scenario, present_keys: tuple[int, ...]) -> _Packed:
    """Build the shift changes and the queue plan as SimPy's engine does, as flat arrays."""
    teller_names, teller_group, changes = shift_events(s)
    n_tellers = len(teller_names)
    plan = queue_plan(s, list(present_keys))
    present = plan.keys
    n_keys = max(present, default=0) + 1
    group_names = list(s.counters)
    group_index = {g: i for i, g in enumerate(group_names)}
    teller_gi = np.array([group_index[g] for g in teller_group], dtype=np.int64)

    cand_ptr, cand_idx = _csr([plan.candidates.get(k, []) for k in range(n_keys)])
    ahead_ptr, ahead_idx = _csr([plan.ahead.get(k, []) for k in range(n_keys)])
    levels: list[list[int]] = []
    per_group: list[int] = []
    for g in group_names:
        lv = plan.levels.get(g, [])
        levels += lv
        per_group.append(len(lv))
    glev_ptr = np.zeros(len(group_names) + 1, dtype=np.int64)
    glev_ptr[1:] = np.cumsum(per_group)
    lev_ptr, lev_keys = _csr(levels)
    tellers_of: list[list[int]] = [[] for _ in group_names]
    for t in range(n_tellers):
        tellers_of[int(teller_gi[t])].append(t)
    gt_ptr, gt_list = _csr(tellers_of)  # each group's tellers ascending
    pos_of = np.empty(n_tellers, dtype=np.int64)
    pos_of[gt_list] = np.arange(n_tellers, dtype=np.int64)
    ch_time = np.array([c[0] for c in changes], dtype=np.float64)
    ch_teller = np.array([c[1] for c in changes], dtype=np.int64)
    ch_on = np.array([bool(c[2]) for c in changes], dtype=np.bool_)
    arrays = (
        n_keys,
        np.array(present, dtype=np.int64),
        cand_ptr,
        cand_idx,
        ahead_ptr,
        ahead_idx,
        glev_ptr,
        lev_ptr,
        lev_keys,
        teller_gi,
        gt_ptr,
        gt_list,
        pos_of,
        ch_time,
        ch_teller,
        ch_on,
    )
    # shared by every day that uses this plan: the kernel only reads them (they stay
    # writeable: a read-only array would be another type to numba, another compilation)
    allowed = np.zeros(n_keys, dtype=np.bool_)
    allowed[list(present)] = True
    return _Packed(teller_names, teller_group, arrays, allowed)


def warm_up() -> None:
    """Load (or compile) the kernels now, with an empty day: about 0.5 s from numba's cache.

    ``run`` calls it before starting worker processes, so that forked workers inherit
    the loaded kernel instead of each loading it again.
    """
    from peakend.sim.compiled._greetings import (
        greet_days_kernel,
        greet_kernel,
        join_order_kernel,
    )
    from peakend.sim.compiled._kernel import move_days_kernel, move_kernel

    greet_kernel(np.zeros(0), np.zeros(0, dtype=np.int64), 1.0)
    no_days = np.zeros(1, dtype=np.int64)  # bounds of a chunk of no days
    greet_days_kernel(np.zeros(0), np.zeros(0, dtype=np.int64), 1.0, no_days)
    join_order_kernel(np.zeros(0), no_days)
    from peakend.sim.compiled._slips import slips_kernel

    z = np.zeros(0)
    slips_kernel(z, z, z, np.zeros(0, dtype=np.bool_), np.zeros(1, dtype=np.int64),
                 np.zeros(0, dtype=np.bool_))
    i8 = np.zeros(0, dtype=np.int64)
    f8 = np.zeros(0)
    one = np.zeros(1, dtype=np.int64)
    plan = (
        1, i8, np.zeros(2, dtype=np.int64), i8, np.zeros(2, dtype=np.int64), i8, one, one, i8,
        i8, one, i8, i8, f8, i8, np.zeros(0, dtype=np.bool_),
    )
    move_kernel(f8, i8, f8, f8, f8, np.zeros(0, dtype=np.bool_), 1.0, False, False, False, *plan)
    move_days_kernel(
        no_days, f8, i8, f8, f8, f8, np.zeros(0, dtype=np.bool_), 1.0, False, False, False, *plan
    )
    from peakend.sim.draws import warm_up as warm_up_draws

    warm_up_draws()  # the compiled draws' self-check and kernels
