"""The movement as it was written before the callbacks: SimPy generator processes.

:func:`peakend.sim.movement.move` drives SimPy with event callbacks (see
:mod:`peakend.sim.callbacks`) and must give the same day as this version, bit for bit,
which ran one generator process per teller, one for the door, one for the shift plan and
one for the closing (``tests/test_movement_callbacks.py`` compares them). Kept verbatim
from peakend before the change, apart from its name; not part of the package.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import deque
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.disciplines import queue_plan
from peakend.sim.movement import BALKED, NEW, RENEGED, SERVING, WAITING, QueueRun
from peakend.sim.staff import shift_events

__all__ = ["move_generators"]


def move_generators(
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
    join_l = join.tolist()
    svc = service.tolist()
    pat = patience.tolist()
    keys = key_arr.tolist()
    balk = balk_arr.tolist()
    in_hall = hall.tolist()
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
    # customers leave a queue without being picked only by reneging (the closing
    # dismissal clears the queues): without it, queue heads are always waiting
    can_leave = bool(np.any(patience < math.inf))
    can_balk = bool(np.any(balk_arr < math.inf))
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

    def door() -> Any:
        nonlocal hall_n, n_free
        timeout = env.timeout
        q_time_append, q_len_append, inf = q_time.append, q_len.append, math.inf
        heappop, heappush = heapq.heappop, heapq.heappush
        for c in range(n):
            delay = join_l[c] - env.now
            if delay > 0:
                yield timeout(delay)
            if deadlines and deadlines[0][0] <= env.now:
                expire(env.now)
            seen[c] = hall_n
            if dismiss and env.now >= horizon:
                state[c] = RENEGED
                leave[c] = env.now
                continue
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
            if not handed:
                # nobody free to serve at once: a walk-in balks when the queue ahead of
                # them (in their own priority order) is at or above their threshold, so
                # balk_queue = 0 is a loss system (leave if no teller is free)
                if can_balk and balk[c] <= ahead_c:
                    state[c] = BALKED
                    continue
                state[c] = WAITING
                n_wait[k] += 1
                queues[k].append(c)
                if in_hall[c]:
                    hall_n += 1
                    q_time_append(env.now)
                    q_len_append(hall_n)
                if can_leave:
                    p = pat[c]
                    if p < inf:
                        # the time a SimPy timeout of delay p would fire at
                        heappush(deadlines, (env.now + p, c))

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

    def teller(t: int) -> Any:
        nonlocal hall_n, n_free
        levels = levels_of[t]
        gi = teller_gi[t]
        heap = idle_heaps[gi]
        heappush = heapq.heappush
        # one queue and nobody who can leave it: the head is always the next customer
        single = (
            levels[0][0] if not can_leave and len(levels) == 1 and len(levels[0]) == 1 else None
        )
        timeout, event = env.timeout, env.event
        q_time_append, q_len_append = q_time.append, q_len.append
        while True:
            if not on_duty[t]:
                c = -1
            elif single is not None:
                c = single.popleft() if single else -1
            else:
                if deadlines and deadlines[0][0] <= env.now:
                    expire(env.now)
                c = pick(levels)
            if c < 0:
                ev = event()
                wake[t] = ev
                idle[t] = True
                if on_duty[t]:  # off duty it waits for the shift to wake it
                    heappush(heap, t)
                    n_free_of[gi] += 1
                    n_free += 1
                c = yield ev
                if c < 0:
                    continue
                # handed over by the door as they took their ticket: no wait at all (the
                # clock may differ from the join time by a rounding error of the delay)
                start[c] = join_l[c]
            else:
                now = env.now
                state[c] = SERVING
                n_wait[keys[c]] -= 1
                if in_hall[c]:
                    hall_n -= 1
                    q_time_append(now)
                    q_len_append(hall_n)
                start[c] = now
            served_by[c] = t
            yield timeout(svc[c])
            end[c] = env.now

    def shifts() -> Any:
        nonlocal n_free
        for t_, t, on in changes:
            if t_ <= 0.0:
                continue
            if t_ > env.now:
                yield env.timeout(t_ - env.now)
            if idle[t] and on_duty[t] and not on:  # an idle teller goes off duty
                n_free_of[teller_gi[t]] -= 1
                n_free -= 1
            on_duty[t] = on
            if on and idle[t]:
                idle[t] = False
                wake[t].succeed(-1)

    def closing() -> Any:
        nonlocal hall_n
        yield env.timeout(horizon)
        expire(env.now)
        for q in queues.values():
            for c in q:
                if state[c] == WAITING:
                    state[c] = RENEGED
                    leave[c] = env.now
            q.clear()
        for k in range(len(n_wait)):
            n_wait[k] = 0
        if hall_n:
            hall_n = 0
            q_time.append(env.now)
            q_len.append(0)

    for t in range(n_tellers):
        env.process(teller(t))
    env.process(door())
    if changes:
        env.process(shifts())
    if dismiss:
        env.process(closing())
    # the event loop makes and drops millions of small objects; the cyclic garbage
    # collector's passes over them cost time that grows with the day (about 15 % at a
    # million customers) and find little: SimPy's cycles are broken as events are
    # processed. Switch it off for the run and restore the caller's setting.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        env.run()
    finally:
        if gc_was_enabled:
            gc.enable()
    expire(math.inf)  # deadlines after the last event (nobody left to serve them)

    st = np.array(state, dtype=np.int8)
    if np.any((st == WAITING) | (st == NEW)):
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    return QueueRun(
        state=st,
        start=np.array(start),
        end=np.array(end),
        leave=np.array(leave),
        teller=np.array(served_by, dtype=np.int32),
        queue_seen=np.array(seen, dtype=np.int32),
        queue_ahead=np.array(ahead_seen, dtype=np.int32),
        queue_time=np.array(q_time),
        queue_length=np.array(q_len, dtype=np.int32),
        teller_names=teller_names,
        teller_group=teller_group,
        no_slips=len(queues) == 1 and not can_leave,
    )
