"""The SimPy event loop of one stage's movement (:func:`run_events`, for ``move``).

A door (customers take a ticket at their join times, are handed to an idle teller, balk,
or queue), a process per teller (picking by its group's order, :mod:`peakend.sim.disciplines`;
on and off duty by the shift plan), the closing, and reneging deadlines handled lazily
before anything reads the queues: SimPy event callbacks, with virtual timeouts for
arrivals while no teller is free (:mod:`peakend.sim.callbacks`), writing Python lists.
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
from peakend.sim.callbacks import (
    BALKED,
    NEW,
    RENEGED,
    SERVING,
    WAITING,
    Outcomes,
    StartUp,
    Then,
    Wake,
    delay_to,
    pick,
    run_all,
)
from peakend.sim.disciplines import queue_plan
from peakend.sim.staff import shift_events

__all__ = ["BALKED", "NEW", "RENEGED", "SERVING", "WAITING", "Outcomes", "run_events"]



def run_events(
    s: Scenario,
    join: NDArray[np.float64],
    key_arr: NDArray[np.int64],
    service: NDArray[np.float64],
    patience: NDArray[np.float64],
    balk_arr: NDArray[np.float64],
    hall: NDArray[np.bool_],
) -> Outcomes:
    """Run one stage's day in SimPy; the inputs are those of :func:`~peakend.sim.movement.move`."""
    n, horizon = join.size, s.open_minutes
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
    wake: list[Any] = [None] * n_tellers  # per teller: the callback of its wake-up events
    # idle tellers of each group, a min-heap of teller indices with lazy deletion (an
    # entry counts while its teller is idle and on duty): the lowest-numbered free teller
    idle_heaps: list[list[int]] = [[] for _ in group_names]
    # idle on-duty tellers per group, and in all: the door skips the groups with none
    n_free_of = [0] * len(group_names)
    n_free = 0
    levels_of = [group_levels[teller_group[t]] for t in range(n_tellers)]
    serve_of: list[Any] = [None] * n_tellers  # per teller: start serving a handed customer
    for t_, t, on in changes:
        if t_ <= 0.0:
            on_duty[t] = on

    # reneging deadlines (join + patience) of those who queued, handled lazily before
    # anything reads the queues, each at its own time: the same day as a SimPy timeout per
    # queued customer, without filling SimPy's heap with timeouts for customers long served
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

    # the processes as SimPy event callbacks (peakend.sim.callbacks)
    q_time_append, q_len_append, inf = q_time.append, q_len.append, math.inf
    heappop, heappush = heapq.heappop, heapq.heappush
    # the door's next customer, the time its timeout fires at, and whether that timeout is
    # virtual (scheduled while no teller was free: not in SimPy's heap; handled before the
    # first event after it: see peakend.sim.callbacks)
    nxt, nxt_at, virtual = n, inf, False
    # from first_virtual on, each join time is at most 1.5 times the one before: a timeout
    # can be made real to the bit from any clock after the arrival before it (delay_to)
    jumps = np.flatnonzero(join[1:] > 1.5 * join[:-1])
    first_virtual = int(jumps[-1]) + 2 if jumps.size else 1
    # the door starts the tellers it hands customers to itself if no other event is due then
    heap_of_env, direct = env._queue, False
    handed: list[tuple[int, int]] = []

    def door(ev: Then) -> None:
        nonlocal direct
        direct = True
        arrive(ev._value, env._now)
        direct = False
        if handed:
            for t, c in handed:
                serve_of[t](c)
            handed.clear()

    def hand(k: int, c: int) -> bool:
        """Hand customer ``c`` (queue key ``k``) to the best free teller, if any."""
        nonlocal n_free
        for gi in cand[k]:
            if n_free_of[gi]:
                # every idle on-duty teller is in the heap (and stale entries too)
                h = idle_heaps[gi]
                t = heappop(h)
                while not (idle[t] and on_duty[t]):
                    t = heappop(h)
                idle[t] = False
                n_free_of[gi] -= 1
                n_free -= 1
                state[c] = SERVING
                if direct and not (heap_of_env and heap_of_env[0][0] <= env._now):
                    handed.append((t, c))  # no event due now: the door starts them
                else:
                    Wake(env, wake[t]).succeed(c)
                return True
        return False

    # one queue, no balking, reneging or dismissal, all in the hall: the door's short way
    plain = len(present) == 1 and not (can_balk or can_leave or dismiss) and all(in_hall)
    k0, q0 = (present[0], queues[present[0]]) if plain else (0, deque())

    def arrive(c: int, now: float, until: float = -inf) -> None:
        """Let ``c`` take a ticket at ``now``, and those due then or virtual before ``until``."""
        nonlocal hall_n, nxt, nxt_at, virtual
        while True:
            if plain:
                seen[c] = ahead_seen[c] = hall_n  # everyone waiting is in the hall, ahead
                if not (n_free and hand(k0, c)):
                    state[c] = WAITING
                    n_wait[k0] += 1
                    q0.append(c)
                    hall_n += 1
                    q_time_append(now)
                    q_len_append(hall_n)
            else:
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
                    if n_free and hand(k, c):
                        pass
                    elif can_balk and balk[c] <= ahead_c:
                        # nobody free at once: a walk-in balks when the queue ahead of them
                        # (in their priority order) is at their threshold (0: a loss system)
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
                nxt = n
                return
            delay = join_l[c] - now
            if delay > 0:
                nxt, nxt_at = c, now + delay
                # virtual while no teller is free (so always when handled virtually,
                # where now is not the clock: c is past first_virtual then)
                virtual = not n_free and c >= first_virtual
                if not virtual:
                    Then(env, delay, c, door)
                elif nxt_at < until:  # handled virtually: on to the next at its time
                    virtual = False
                    now = nxt_at
                    continue
                return

    def admit(now: float) -> None:
        """Handle the virtual arrivals before ``now``, each at its own time."""
        nonlocal virtual
        if virtual and nxt_at < now:
            virtual = False
            arrive(nxt, nxt_at, now)

    def make_real() -> None:
        """Put the door's virtual timeout in SimPy's heap, firing at ``nxt_at`` exactly."""
        nonlocal virtual
        virtual = False
        Then(env, delay_to(env._now, nxt_at), nxt, door)

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
            nonlocal hall_n, n_free, virtual
            now = env._now
            if virtual and nxt_at < now:  # admit(now), inline
                virtual = False
                arrive(nxt, nxt_at, now)
            c = ev._value
            if c >= 0:
                end[c] = now
            if not on_duty[t]:
                c = -1
            elif single is not None:
                c = single.popleft() if single else -1
            else:
                if deadlines and deadlines[0][0] <= now:
                    expire(now)
                c = pick(levels, state)
            if c >= 0:
                state[c] = SERVING
                n_wait[keys[c]] -= 1
                if in_hall[c]:
                    hall_n -= 1
                    q_time_append(now)
                    q_len_append(hall_n)
                start[c] = now
                served_by[c] = t
                d = svc[c]
                if virtual and now + d == nxt_at:
                    make_real()  # the door's timeout was scheduled first
                Then(env, d, c, free)
                return
            idle[t] = True  # till woken by a Wake (made when it is triggered)
            if on_duty[t]:  # off duty it waits for the shift to wake it
                heappush(heap, t)
                n_free_of[gi] += 1
                n_free += 1
                if virtual:
                    make_real()

        def woken(ev: Any) -> None:
            c = ev._value
            if c < 0:  # woken by the shift plan: look again
                free(ev)
                return
            served(c)

        def served(c: int) -> None:
            # handed over by the door at their ticket, now (so no virtual arrival is due):
            # no wait (the clock may differ from the join time by a rounding error)
            start[c] = join_l[c]
            served_by[c] = t
            if virtual and env._now + svc[c] == nxt_at:
                make_real()
            Then(env, svc[c], c, free)

        serve_of[t], wake[t] = served, woken
        return free

    def later(delay: float, value: Any, callback: Any) -> None:
        """Schedule ``callback`` after ``delay`` (after a virtual arrival due then)."""
        if virtual and env._now + delay == nxt_at:
            make_real()
        Then(env, delay, value, callback)

    def shifts_from(i: int) -> None:
        """Apply the shift plan from change ``i`` on, until one still to come."""
        while i < len(changes):
            t_, t, on = changes[i]
            if t_ <= 0.0:
                i += 1
                continue
            if t_ > env._now:
                later(t_ - env._now, i, shift_at)
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
            if virtual and env._now == nxt_at:
                make_real()
            Wake(env, wake[t]).succeed(-1)

    def shift_at(ev: Then) -> None:
        if virtual and nxt_at < env._now:
            admit(env._now)
        apply_shift(*changes[ev._value][1:])
        shifts_from(ev._value + 1)

    def closing(_ev: Then) -> None:
        nonlocal hall_n
        now = env._now
        admit(now)
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

    # the garbage collector's passes over millions of small objects cost 15 % and find little
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # start-up, in the order the processes were created
        for t in range(n_tellers):
            make_teller(t)(StartUp(-1))
        if n and join_l[0] > 0:  # join_l[0] - env._now, the clock at 0
            nxt, nxt_at = 0, join_l[0]
            Then(env, join_l[0], 0, door)  # real: more than twice the clock at 0
        elif n:
            arrive(0, 0.0)
        shifts_from(0)
        if dismiss:
            later(horizon, None, closing)
        run_all(env)
        while virtual:  # arrivals after the last event (all tellers off duty)
            make_real()
            run_all(env)
    finally:
        if gc_was_enabled:
            gc.enable()
    expire(math.inf)  # deadlines after the last event (nobody left to serve them)
    lists = (state, start, end, leave, served_by, seen, ahead_seen, q_time, q_len)
    return Outcomes(*lists, teller_names, teller_group, len(queues) == 1 and not can_leave)
