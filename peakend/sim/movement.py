"""The queue-and-counter movement of one service stage (:func:`move`, SimPy).

A SimPy environment with a door (customers take a ticket at their pre-computed join
times, are handed to an idle teller, balk, or join their class's queue), a process per
teller (pulling the next customer by its group's pick order, :mod:`peakend.sim.disciplines`;
going on and off duty by the shift plan, always finishing the customer in hand), the
shift plan, and reneging deadlines handled lazily before anything reads the queues. The
processes are event callbacks (:mod:`peakend.sim.callbacks`) writing scalars into Python
lists. :func:`peakend.sim.engine.run_day` runs the first stage with it and
:mod:`peakend.sim.network` every further stage.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.callbacks import StartUp, Then
from peakend.sim.disciplines import queue_plan
from peakend.sim.staff import shift_events

__all__ = ["BALKED", "NEW", "RENEGED", "SERVING", "WAITING", "QueueRun", "move", "mover"]

#: Customer states during the run (``DayRun.state``).
NEW, WAITING, SERVING, BALKED, RENEGED = 0, 1, 2, 3, 4


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
    n = join.size
    horizon = s.open_minutes
    # ---- tellers and their pick order
    teller_names, teller_group, changes = shift_events(s)
    n_tellers = len(teller_names)
    plan = queue_plan(s, np.unique(key_arr).tolist())
    present = plan.keys
    queues: dict[int, deque[int]] = {k: deque() for k in present}
    group_levels = {
        g: [[queues[k] for k in level] for level in levels] for g, levels in plan.levels.items()
    }
    group_names = list(s.counters)
    group_index = {g: i for i, g in enumerate(group_names)}
    teller_gi = [group_index[g] for g in teller_group]
    cand = plan.candidates
    ahead_keys = plan.ahead

    # ---- state, as Python lists of scalars (fast in the event loop)
    state = [NEW] * n
    start = [math.nan] * n
    end = [math.nan] * n
    leave = [math.nan] * n
    served_by = [-1] * n
    seen = [0] * n
    ahead_seen = [0] * n
    n_wait = [0] * (max(present, default=0) + 1)  # customers waiting, per queue key
    q_time: list[float] = [0.0]
    q_len: list[int] = [0]
    hall_n = 0
    # customers leave a queue without being picked only by reneging (the closing
    # dismissal clears the queues): without it, queue heads are always waiting
    can_leave = bool(np.any(patience < math.inf))
    can_balk = bool(np.any(balk_arr < math.inf))
    join_l = join.tolist()
    svc = service.tolist()
    keys = key_arr.tolist()
    pat = patience.tolist() if can_leave else []
    balk = balk_arr.tolist() if can_balk else []
    in_hall = [True] * n if bool(np.all(hall)) else hall.tolist()
    dismiss = s.after_closing == "dismiss"

    env = simpy.Environment()
    on_duty = [False] * n_tellers
    idle = [False] * n_tellers
    wake: list[Any] = [None] * n_tellers
    # idle tellers of each counter group, a min-heap of teller indices with lazy
    # deletion: an entry counts only while its teller is idle and on duty, so the door
    # finds the lowest-numbered free teller of a group in O(log tellers)
    idle_heaps: list[list[int]] = [[] for _ in group_names]
    # idle on-duty tellers per group, and in all: the door skips the groups with none
    n_free_of = [0] * len(group_names)
    n_free = 0
    levels_of = [group_levels[teller_group[t]] for t in range(n_tellers)]
    for t_, t, on in changes:
        if t_ <= 0.0:
            on_duty[t] = on

    # reneging: the deadlines (join time + patience) of the customers who queued, in a
    # heap of (deadline, customer), processed lazily: before anything reads the queues
    # (an arrival at the door, a teller's pick, the closing) every deadline up to now is
    # handled, in deadline order and at its own time. That is the same day as one SimPy
    # timeout per queued customer, without the timeouts in SimPy's event heap (most of
    # them would fire for customers long served: their cost grows with the day)
    deadlines: list[tuple[float, int]] = []

    def expire(now: float) -> None:
        nonlocal hall_n
        while deadlines and deadlines[0][0] <= now:
            at, c = heapq.heappop(deadlines)
            if state[c] == WAITING:
                state[c] = RENEGED
                leave[c] = at
                n_wait[keys[c]] -= 1
                if in_hall[c]:
                    hall_n -= 1
                    q_time.append(at)
                    q_len.append(hall_n)

    # the processes as SimPy event callbacks (see peakend.sim.callbacks)
    q_time_append, q_len_append, inf = q_time.append, q_len.append, math.inf
    heappop, heappush = heapq.heappop, heapq.heappush

    def door(ev: Any) -> None:
        """Let customer ``ev._value`` take a ticket now, then those due now too."""
        nonlocal hall_n, n_free
        c = ev._value
        now = env.now
        while True:
            if deadlines and deadlines[0][0] <= now:
                expire(now)
            seen[c] = hall_n
            if dismiss and now >= horizon:
                state[c] = RENEGED
                leave[c] = now
            else:
                k = keys[c]
                ahead_c = 0
                for k2 in ahead_keys[k]:
                    ahead_c += n_wait[k2]
                ahead_seen[c] = ahead_c
                handed = False
                if n_free:
                    for gi in cand[k]:
                        if n_free_of[gi]:
                            # the group's heap holds every idle on-duty teller (and stale
                            # entries of tellers since handed over or gone off duty)
                            h = idle_heaps[gi]
                            t = heappop(h)
                            while not (idle[t] and on_duty[t]):
                                t = heappop(h)
                            idle[t] = False
                            n_free_of[gi] -= 1
                            n_free -= 1
                            state[c] = SERVING
                            wake[t].succeed(c)
                            handed = True
                            break
                if handed:
                    pass
                elif can_balk and balk[c] <= ahead_c:
                    # nobody free at once: a walk-in balks when the queue ahead of them (in
                    # their priority order) is at their threshold (balk_queue 0: a loss system)
                    state[c] = BALKED
                else:
                    state[c] = WAITING
                    n_wait[k] += 1
                    queues[k].append(c)
                    if in_hall[c]:
                        hall_n += 1
                        q_time_append(now)
                        q_len_append(hall_n)
                    if can_leave:
                        p = pat[c]
                        if p < inf:
                            # the time a SimPy timeout of delay p would fire at
                            heappush(deadlines, (now + p, c))
            c += 1
            if c == n:
                return
            delay = join_l[c] - now
            if delay > 0:
                Then(env, delay, c, door)
                return

    def pick(levels: list[list[deque[int]]]) -> int:
        for level in levels:
            best = -1
            best_q: deque[int] | None = None
            for q in level:
                while q and state[q[0]] != WAITING:
                    q.popleft()
                if q and (best < 0 or q[0] < best):
                    best = q[0]
                    best_q = q
            if best_q is not None:
                best_q.popleft()
                return best
        return -1

    def make_teller(t: int) -> Any:
        """Build the callbacks of teller ``t``; return its start-up function."""
        levels = levels_of[t]
        gi = teller_gi[t]
        heap = idle_heaps[gi]
        # one queue and nobody who can leave it: the head is always the next customer
        one_queue = len(levels) == 1 and len(levels[0]) == 1
        single = levels[0][0] if one_queue and not can_leave else None

        def free(ev: Any) -> None:
            """Finish customer ``ev._value`` (-1: none) now; take the next or wait idle."""
            nonlocal hall_n, n_free
            now = env.now
            if ev._value >= 0:
                end[ev._value] = now
            if not on_duty[t]:
                c = -1
            elif single is not None:
                c = single.popleft() if single else -1
            else:
                if deadlines and deadlines[0][0] <= now:
                    expire(now)
                c = pick(levels)
            if c >= 0:
                state[c] = SERVING
                n_wait[keys[c]] -= 1
                if in_hall[c]:
                    hall_n -= 1
                    q_time_append(now)
                    q_len_append(hall_n)
                start[c] = now
                served_by[c] = t
                Then(env, svc[c], c, free)
                return
            ev = env.event()
            ev.callbacks.append(woken)
            wake[t] = ev
            idle[t] = True
            if on_duty[t]:  # off duty it waits for the shift to wake it
                heappush(heap, t)
                n_free_of[gi] += 1
                n_free += 1

        def woken(ev: Any) -> None:
            c = ev._value
            if c < 0:  # woken by the shift plan: look again
                free(ev)
                return
            # handed over by the door as they took their ticket: no wait at all (the
            # clock may differ from the join time by a rounding error of the delay)
            start[c] = join_l[c]
            served_by[c] = t
            Then(env, svc[c], c, free)

        return free

    def shifts_from(i: int) -> None:
        """Apply the shift plan from change ``i`` on, until one still to come."""
        while i < len(changes):
            t_, t, on = changes[i]
            if t_ <= 0.0:
                i += 1
                continue
            if t_ > env.now:
                Then(env, t_ - env.now, i, shift_at)
                return
            apply_shift(t, on)
            i += 1

    def apply_shift(t: int, on: bool) -> None:
        nonlocal n_free
        if idle[t] and on_duty[t] and not on:  # an idle teller goes off duty
            n_free_of[teller_gi[t]] -= 1
            n_free -= 1
        on_duty[t] = on
        if on and idle[t]:
            idle[t] = False
            wake[t].succeed(-1)

    def shift_at(ev: Then) -> None:
        apply_shift(*changes[ev._value][1:])
        shifts_from(ev._value + 1)

    def closing(_ev: Then) -> None:
        nonlocal hall_n
        now = env.now
        expire(now)
        for q in queues.values():
            for c in q:
                if state[c] == WAITING:
                    state[c] = RENEGED
                    leave[c] = now
            q.clear()
        n_wait[:] = [0] * len(n_wait)
        if hall_n:
            hall_n = 0
            q_time.append(now)
            q_len.append(0)

    # the event loop makes and drops millions of small objects; the cyclic garbage
    # collector's passes over them cost time that grows with the day (about 15 % at a
    # million customers) and find little (SimPy's cycles are broken as events are
    # processed): off for the run, then the caller's setting again
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # start-up, in the order the processes were created
        for t in range(n_tellers):
            make_teller(t)(StartUp(-1))
        if n and join_l[0] > 0:  # join_l[0] - env.now, the clock at 0
            Then(env, join_l[0], 0, door)
        elif n:
            door(StartUp(0))
        shifts_from(0)
        if dismiss:
            Then(env, horizon, None, closing)
        env.run()
    finally:
        if gc_was_enabled:
            gc.enable()
    expire(math.inf)  # deadlines after the last event (nobody left to serve them)

    st = np.fromiter(state, np.int8, n)
    if np.any((st == WAITING) | (st == NEW)):
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    f64, i32 = np.float64, np.int32  # np.fromiter: the values of np.array, in half the time
    return QueueRun(
        state=st,
        start=np.fromiter(start, f64, n),
        end=np.fromiter(end, f64, n),
        leave=np.fromiter(leave, f64, n),
        teller=np.fromiter(served_by, i32, n),
        queue_seen=np.fromiter(seen, i32, n),
        queue_ahead=np.fromiter(ahead_seen, i32, n),
        queue_time=np.fromiter(q_time, f64, len(q_time)),
        queue_length=np.fromiter(q_len, i32, len(q_len)),
        teller_names=teller_names,
        teller_group=teller_group,
        no_slips=len(queues) == 1 and not can_leave,
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
