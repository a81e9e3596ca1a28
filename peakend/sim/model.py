"""The SimPy branch model: customers move, tellers pull, a recorder writes arrays.

The day runs in three stages:

1. **Draws** (:func:`draw_day`): every random quantity of every potential
   customer is drawn up front, vectorized, from its own stream
   (:mod:`peakend.sim.sampling`), so that staffing changes keep the same
   customers (common random numbers).
2. **Movement** (:func:`run_day`): a SimPy environment with one door process
   (customers join the hall queue at their pre-computed join times, balk, or
   are handed to an idle teller), one process per teller (pulling the next
   customer by its counter group's discipline, going on and off duty by the
   shift plan, always finishing the customer in hand), one shift process, and
   reneging as timeout callbacks. Processes only write scalars into Python
   lists; nothing per customer is an object.
3. **Experience** (:func:`build_journeys`): episodes, experience, expectation,
   affect and the remembered value are computed vectorized after the day.

See ``docs/background/branch-model.md`` for the equations and their sources.
"""

from __future__ import annotations

import gc
import heapq
import math
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from peakend import __version__, affect, memory
from peakend.config.models import LEVEL_TOUCHPOINTS, TOUCHPOINTS, Scenario
from peakend.journeys import Journeys
from peakend.sim.sampling import arrival_times, as_seed_sequence, name_key, ppf, stream
from peakend.warnings import (
    OVERLOAD_ABANDONED_SHARE,
    OVERLOAD_LOAD,
    OVERLOAD_OVERRUN_MINUTES,
    OverloadWarning,
    PeakendWarning,
)

__all__ = ["MOMENT", "OverloadWarning", "PeakendWarning", "draw_day", "run_day", "simulate"]

#: Duration given to an instantaneous moment (an unattended welcome, a zero
#: wait), minutes: 3 seconds, so that every episode has ``end > start``.
MOMENT = 0.05

# customer states during the run
_NEW, _WAITING, _SERVING, _BALKED, _RENEGED = 0, 1, 2, 3, 4

# columns of the per-customer experience noise matrix; the advice episode's noise has its
# own stream (drawn only when some business includes advice), so that adding advice left
# every other draw as it was
_NOISE_TOUCHPOINTS = tuple(t for t in LEVEL_TOUCHPOINTS if t != "advice")
_NOISE = {name: i for i, name in enumerate(_NOISE_TOUCHPOINTS)}
# columns of the per-segment expectation table
_LEVEL = {name: i for i, name in enumerate(LEVEL_TOUCHPOINTS)}
_TP = {name: i for i, name in enumerate(TOUCHPOINTS)}


# --------------------------------------------------------------------------- stage 1: draws
@dataclass(frozen=True)
class DayDraws:
    """All per-customer random draws of a day, for the customers who come.

    Arrays are in arrival order. ``potential`` is the index of each customer
    among all potential arrivals (before e-channel diversion), which is what
    common random numbers are keyed on.
    """

    arrival: NDArray[np.float64]  # minutes from opening
    potential: NDArray[np.int64]
    segment: NDArray[np.int16]
    business: NDArray[np.int16]
    appointment: NDArray[np.bool_]
    service: NDArray[np.float64]  # minutes
    patience: NDArray[np.float64]  # minutes, inf: never reneges
    noise: NDArray[np.float64]  # (n, len(_NOISE_TOUCHPOINTS)) points
    quality: dict[str, NDArray[np.float64]]  # per counter group, per teller, 0-10
    # the advice episode: None when no business type includes advice
    advice_noise: NDArray[np.float64] | None  # (n,) points
    advice: dict[str, NDArray[np.float64]]  # per counter group, per teller, 0-10


def draw_day(scenario: Scenario, seed: int | np.random.SeedSequence = 0) -> DayDraws:
    """Draw every random quantity of one day, per potential customer.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    seed : int or numpy.random.SeedSequence
        The day's seed; a SeedSequence is not mutated.

    Returns
    -------
    DayDraws
        The draws of the customers who come (e-channel diversions removed).
    """
    root = as_seed_sequence(seed)
    seg_names = list(scenario.segments)
    bus_names = list(scenario.business_types)
    times = arrival_times(scenario, stream(root, "arrivals"))
    n = times.size
    u = stream(root, "mix").random((n, 4))
    shares = np.array([scenario.segments[s].share for s in seg_names])
    cum = np.cumsum(shares)
    cum /= cum[-1]
    if len(seg_names) == 1:  # the formula below gives 0 for everyone
        seg = np.zeros(n, dtype=np.int64)
    else:
        seg = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), len(seg_names) - 1)
    mix = np.array(
        [[scenario.segments[s].business_mix.get(b, 0.0) for b in bus_names] for s in seg_names]
    )
    cmix = np.cumsum(mix, axis=1)
    cmix /= cmix[:, -1:]
    if len(bus_names) == 1:  # the formula below gives 0 for everyone
        bus = np.zeros(n, dtype=np.int64)
    else:
        bus = np.minimum((u[:, 1:2] >= cmix[seg]).sum(axis=1), len(bus_names) - 1)
    appt_share = np.array([scenario.segments[s].appointment_share for s in seg_names])
    appointment = u[:, 2] < appt_share[seg]
    e_share = np.array([scenario.business_types[b].e_channel_share for b in bus_names])
    keep = u[:, 3] >= e_share[bus]

    u_service = stream(root, "service").random(n)
    service = np.empty(n)
    if len(bus_names) == 1:  # ppf is elementwise: the same values without masking
        service[:] = ppf(scenario.business_types[bus_names[0]].service, u_service)
    else:
        for i, b in enumerate(bus_names):
            m = bus == i
            service[m] = ppf(scenario.business_types[b].service, u_service[m])

    patience = np.full(n, np.inf)
    renege = [(i, scenario.segments[s].renege) for i, s in enumerate(seg_names)]
    if any(dist is not None for _, dist in renege):
        # the stream is only needed (and only set up) when someone can renege
        u_patience = stream(root, "patience").random(n)
        for i, dist in renege:
            if dist is not None:
                m = seg == i
                patience[m] = ppf(dist, u_patience[m])

    sd = np.array([scenario.segments[s].noise_sd for s in seg_names])
    noise = stream(root, "experience").standard_normal((n, len(_NOISE_TOUCHPOINTS)))
    noise *= sd[seg][:, None]
    advice_noise = None
    advice: dict[str, NDArray[np.float64]] = {}
    if any(b.advice_share > 0 for b in scenario.business_types.values()):
        advice_noise = stream(root, "advice").standard_normal(n) * sd[seg]
        for g, c in scenario.counters.items():
            rng = stream(root, "advice_tellers", name_key(g))
            q = rng.normal(c.advice.mean, c.advice.sd, size=c.max_tellers())
            advice[g] = np.clip(q, 0.0, 10.0)

    quality = {}
    for g, c in scenario.counters.items():
        rng = stream(root, "tellers", name_key(g))
        q = rng.normal(c.quality.mean, c.quality.sd, size=c.max_tellers())
        quality[g] = np.clip(q, 0.0, 10.0)

    idx = np.flatnonzero(keep)
    if idx.size == n:  # nobody diverted to the e-channel: no need to copy
        return DayDraws(
            arrival=times,
            potential=idx.astype(np.int64),
            segment=seg.astype(np.int16),
            business=bus.astype(np.int16),
            appointment=appointment,
            service=service,
            patience=patience,
            noise=noise,
            quality=quality,
            advice_noise=advice_noise,
            advice=advice,
        )
    return DayDraws(
        arrival=times[idx],
        potential=idx.astype(np.int64),
        segment=seg[idx].astype(np.int16),
        business=bus[idx].astype(np.int16),
        appointment=appointment[idx],
        service=service[idx],
        patience=patience[idx],
        noise=noise[idx],
        quality=quality,
        advice_noise=None if advice_noise is None else advice_noise[idx],
        advice=advice,
    )


# --------------------------------------------------------------------------- stage 2: movement
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


def _greetings(
    arrive: NDArray[np.float64], on_duty: NDArray[np.int64], minutes: float
) -> NDArray[np.bool_]:
    """Which customers find a free lobby manager (a loss system: nobody waits to be greeted).

    ``arrive`` is each customer's time in the lobby (minutes, non-decreasing) and
    ``on_duty[i]`` the number of managers on duty then. Managers ``0..on_duty[i]-1``
    are eligible; one going off duty finishes the greeting in hand (its busy time is
    kept) and greets nobody new until back on duty.
    """
    greeted = np.zeros(arrive.size, dtype=bool)
    most = int(on_duty.max(initial=0))
    if most <= 0:
        return greeted
    if bool(np.all(on_duty == most)):
        # the same managers all day: the one free soonest (lowest number on ties) is the
        # top of a heap of (free from, manager), O(log managers) per customer
        heap = [(0.0, k) for k in range(most)]
        out = greeted.tolist()
        for i, t in enumerate(arrive.tolist()):
            if heap[0][0] <= t:
                heapq.heapreplace(heap, (t + minutes, heap[0][1]))
                out[i] = True
        return np.array(out, dtype=bool)
    free = [0.0] * most
    for i, (t, n) in enumerate(zip(arrive.tolist(), on_duty.tolist(), strict=True)):
        if n <= 0:
            continue
        k = min(range(n), key=free.__getitem__)
        if free[k] <= t:
            free[k] = t + minutes
            greeted[i] = True
    return greeted


def _on_duty(scenario: Scenario, minutes: NDArray[np.float64]) -> NDArray[np.int64]:
    """Lobby managers on duty at each time (minutes from opening), from the shift plan."""
    plan = scenario.lobby.managers
    if isinstance(plan, int):
        return np.full(minutes.size, plan, dtype=np.int64)
    starts = np.array([(b.start - scenario.opening) * 60.0 for b in plan])
    counts = np.array([b.count for b in plan], dtype=np.int64)
    block = np.searchsorted(starts, minutes, side="right") - 1
    return np.where(block >= 0, counts[np.maximum(block, 0)], 0)


def pre_queue_episodes(
    scenario: Scenario, arrival: NDArray[np.float64], greeted: NDArray[np.bool_]
) -> list[tuple[str, NDArray[np.float64], NDArray[np.float64]]]:
    """Return the episodes before the queue, back to back from the arrival: (name, start, end).

    Entrance (``entrance.minutes``), welcome (``lobby.greeting_minutes`` if greeted, else
    a ``MOMENT``) and information (``hall.ticket_minutes``), those in the journey, in
    journey order; the last one ends when the customer takes a ticket and joins the
    queue. The movement engine and the experience builder both use this function, so
    the episodes meet the queue join exactly (same floating-point operations).

    Parameters
    ----------
    scenario : Scenario
        The branch.
    arrival : numpy.ndarray
        Arrival times, minutes from opening.
    greeted : numpy.ndarray of bool
        Whether each customer found a free lobby manager.

    Returns
    -------
    list of (str, numpy.ndarray, numpy.ndarray)
        The touchpoint name and each customer's start and end, minutes from opening.
    """
    journey = set(scenario.journey)
    out = []
    t = arrival
    if "entrance" in journey:
        t1 = t + scenario.entrance.minutes
        out.append(("entrance", t, t1))
        t = t1
    if "welcome" in journey:
        t1 = t + np.where(greeted, scenario.lobby.greeting_minutes, MOMENT)
        out.append(("welcome", t, t1))
        t = t1
    if "information" in journey:
        t1 = t + scenario.hall.ticket_minutes
        out.append(("information", t, t1))
        t = t1
    return out


def _shift_events(scenario: Scenario) -> tuple[list[str], list[str], list[tuple[float, int, bool]]]:
    """Teller names, their groups, and (minute, teller, on_duty) changes in time order."""
    names: list[str] = []
    groups: list[str] = []
    events: list[tuple[float, int, bool]] = []
    horizon = scenario.open_minutes
    for g, c in scenario.counters.items():
        n = c.max_tellers()
        base = len(names)
        names += [f"{g}/{i + 1}" for i in range(n)]
        groups += [g] * n
        if isinstance(c.tellers, int):
            blocks = [(0.0, c.tellers)]
        else:
            blocks = [(max(0.0, (b.start - scenario.opening) * 60.0), b.count) for b in c.tellers]
            if blocks[0][0] > 0:
                blocks.insert(0, (0.0, 0))
        current = 0
        for t, count in blocks:
            for i in range(n):
                was, now = i < current, i < count
                if was != now:
                    events.append((t, base + i, now))
            current = count
        if current == 0 and n > 0 and scenario.after_closing == "serve":
            # nobody of this group is on duty at closing: one teller comes back to
            # serve the customers still waiting for this group
            events.append((horizon, base, True))
    events.sort(key=lambda e: (e[0], e[1]))
    return names, groups, events


def run_day(scenario: Scenario, draws: DayDraws) -> DayRun:
    """Move the day's customers through the branch with SimPy.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    draws : DayDraws
        The day's pre-drawn customers (see :func:`draw_day`).

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
    horizon = s.open_minutes

    # ---- pre-queue moments are deterministic given the arrivals (no queueing for them)
    greeted = np.zeros(n, dtype=bool)
    if "welcome" in journey:
        lobby_time = draws.arrival + s.entrance.minutes if "entrance" in journey else draws.arrival
        greeted = _greetings(lobby_time, _on_duty(s, lobby_time), s.lobby.greeting_minutes)
    pre_queue = pre_queue_episodes(s, draws.arrival, greeted)
    join_arrival_order = pre_queue[-1][2] if pre_queue else draws.arrival
    order = np.argsort(join_arrival_order, kind="stable")
    join = join_arrival_order[order]
    seg = draws.segment[order]
    uses_lounge = np.array([s.segments[x].lounge for x in seg_names], dtype=bool)
    lounge = uses_lounge[seg] & (s.lounge.enabled and "lounge" in journey)
    appt = draws.appointment[order]
    key_arr = (seg.astype(np.int64) * n_bus + draws.business[order]) * 2 + appt
    balk_by_seg = np.array(
        [
            math.inf if s.segments[x].balk_queue is None else s.segments[x].balk_queue
            for x in seg_names
        ]
    )
    balk_arr = np.where(appt, math.inf, balk_by_seg[seg])

    # ---- tellers and their pick order
    teller_names, teller_group, shift_events = _shift_events(s)
    n_tellers = len(teller_names)
    present = set(np.unique(key_arr).tolist())
    queues: dict[int, deque[int]] = {k: deque() for k in present}
    group_levels: dict[str, list[list[deque[int]]]] = {}
    group_key_levels: dict[str, list[list[int]]] = {}
    for g, c in s.counters.items():
        served = s.served_segments(g)
        bus_ok = [i for i, b in enumerate(bus_names) if not c.business or b in c.business]
        if c.discipline == "priority":
            # the listed segments in their order, then every unlisted one on one shared
            # (first-come) level after them
            listed = [x for x in c.priority if x in served]
            rest = [x for x in served if x not in listed]
            seg_levels = [[x] for x in listed] + ([rest] if rest else [])
        elif c.discipline == "flexible":
            own = list(c.segments)
            seg_levels = [own, [x for x in served if x not in own]]
        else:
            seg_levels = [served]
        # appointments before walk-ins; a flexible window serves its own segments
        # (appointments, then walk-ins) before any overflow customer
        if c.discipline == "flexible":
            order_ = [(names, a) for names in seg_levels for a in (1, 0)]
        else:
            order_ = [(names, a) for a in (1, 0) for names in seg_levels]
        levels: list[list[deque[int]]] = []
        key_levels: list[list[int]] = []
        for names, a in order_:
            level = []
            for x in names:
                si = seg_names.index(x)
                for bi in bus_ok:
                    k = (si * n_bus + bi) * 2 + a
                    if k in present:
                        level.append(k)
            if level:
                levels.append([queues[k] for k in level])
                key_levels.append(level)
        group_levels[g] = levels
        group_key_levels[g] = key_levels
    # candidate idle tellers for each queue key: the group that ranks it highest first
    group_of_key: dict[int, list[tuple[int, str]]] = {k: [] for k in present}
    for g, c in s.counters.items():
        served = s.served_segments(g)
        own = list(c.segments) if c.discipline == "flexible" else served
        for k in present:
            si, rest = divmod(k // 2, n_bus)
            x, b = seg_names[si], bus_names[rest]
            if x in served and (not c.business or b in c.business):
                group_of_key[k].append((0 if x in own else 1, g))
    group_names = list(s.counters)
    group_index = {g: i for i, g in enumerate(group_names)}
    teller_gi = [group_index[g] for g in teller_group]
    # the groups whose idle tellers can take a customer of each key, best-ranked first
    # (a stable sort: equal ranks keep the order of the counters table), and the keys
    # whose waiting customers are ahead of that customer: those at its own level or
    # above in the pick order of its best-ranked group
    cand: dict[int, list[int]] = {}
    ahead_keys: dict[int, list[int]] = {}
    for k in present:
        ranked = sorted(group_of_key[k], key=lambda rg: rg[0])
        cand[k] = [group_index[g] for _, g in ranked]
        ahead: list[int] = []
        for level in group_key_levels[ranked[0][1]]:
            ahead += level
            if k in level:
                break
        ahead_keys[k] = ahead

    # ---- state, as Python lists of scalars (fast in the event loop)
    state = [_NEW] * n
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
    svc = draws.service[order].tolist()
    pat = draws.patience[order].tolist()
    keys = key_arr.tolist()
    balk = balk_arr.tolist()
    in_hall = (~lounge).tolist()
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
    can_leave = bool(np.any(draws.patience < math.inf))
    can_balk = bool(np.any(balk_arr < math.inf))
    levels_of = [group_levels[teller_group[t]] for t in range(n_tellers)]
    for t_, t, on in shift_events:
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
            if state[c] == _WAITING:
                state[c] = _RENEGED
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
                state[c] = _RENEGED
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
                        state[c] = _SERVING
                        wake[t].succeed(c)
                        handed = True
                        break
            if not handed:
                # nobody free to serve at once: a walk-in balks when the queue ahead of
                # them (in their own priority order) is at or above their threshold, so
                # balk_queue = 0 is a loss system (leave if no teller is free)
                if can_balk and balk[c] <= ahead_c:
                    state[c] = _BALKED
                    continue
                state[c] = _WAITING
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
                while q and state[q[0]] != _WAITING:
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
                state[c] = _SERVING
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
        for t_, t, on in shift_events:
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
                if state[c] == _WAITING:
                    state[c] = _RENEGED
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
    if shift_events:
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
    if np.any((st == _WAITING) | (st == _NEW)):
        raise RuntimeError("simulate: customers left waiting at the end of the day (model bug)")
    return DayRun(
        order=order,
        join=join,
        greeted=greeted[order],
        lounge=lounge,
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


# --------------------------------------------------------------------------- stage 3: experience
def count_slips(
    join: NDArray[np.float64],
    start: NDArray[np.float64],
    until: NDArray[np.float64],
    in_hall: NDArray[np.bool_],
) -> NDArray[np.int32]:
    """Later arrivals in the hall served before each waiting customer (Larson's slips).

    For hall customer ``i`` (in join order), the number of hall customers ``j``
    who joined after ``i`` (``join[j] > join[i]``) and started service before
    ``i`` stopped waiting (``start[j] < until[i]``, ``until`` being the service
    start or the reneging time). Vectorized over the pairs that overlap in time.

    Parameters
    ----------
    join, start, until : numpy.ndarray
        Join time, service start (NaN if not served) and end of waiting,
        minutes, in join order (``join`` non-decreasing).
    in_hall : numpy.ndarray of bool
        Customers who wait in the hall (others neither slip nor are counted).

    Returns
    -------
    numpy.ndarray of int32
        Slips per customer (0 outside the hall).
    """
    n = join.size
    slips = np.zeros(n, dtype=np.int32)
    hall = np.flatnonzero(in_hall & np.isfinite(until))
    if hall.size < 2:
        return slips
    j_h = join[hall]
    u_h = until[hall]
    s_h = start[hall]
    hi = np.searchsorted(j_h, u_h, side="left")  # later joiners before i stopped waiting
    lo = np.arange(hall.size) + 1
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total == 0:
        return slips
    out = np.zeros(hall.size, dtype=np.int64)
    chunk = 2_000_000
    rows = np.repeat(np.arange(hall.size), counts)
    first = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    cols = first + np.arange(total)
    for a in range(0, total, chunk):
        r, cidx = rows[a : a + chunk], cols[a : a + chunk]
        hit = (s_h[cidx] < u_h[r]) & (j_h[cidx] > j_h[r])
        out += np.bincount(r[hit], minlength=hall.size)
    slips[hall] = out.astype(np.int32)
    return slips


def _expectation(levels: Any, touchpoint: str) -> float:
    """Return a segment's expectation level for a touchpoint, 5 (mid-scale) when not set."""
    return float(levels.get(touchpoint, 5.0))


def build_journeys(
    scenario: Scenario,
    draws: DayDraws,
    run: DayRun,
    meta: dict[str, Any],
    rule: Any = None,
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

    Returns
    -------
    Journeys
        One row per customer in arrival order, episodes in journey order.
    """
    s = scenario
    n = draws.arrival.size
    seg_names = list(s.segments)
    journey = set(s.journey)
    # back to arrival order
    o = run.order

    def arrival_order(x: NDArray[Any]) -> NDArray[Any]:
        out = np.empty_like(x)
        out[o] = x
        return out

    state = arrival_order(run.state)
    join = arrival_order(run.join)
    start = arrival_order(run.start)
    end = arrival_order(run.end)
    leave = arrival_order(run.leave)
    teller = arrival_order(run.teller)
    seen = arrival_order(run.queue_seen)
    ahead = arrival_order(run.queue_ahead)
    lounge = arrival_order(run.lounge)
    greeted = arrival_order(run.greeted)
    served = state == _SERVING
    balked = state == _BALKED
    reneged = state == _RENEGED
    seg = draws.segment.astype(np.int64)
    arrival = draws.arrival

    until = np.where(served, start, np.where(reneged, leave, np.nan))
    wait = np.where(balked, 0.0, np.maximum(until - join, 0.0))
    if run.no_slips:
        slips = np.zeros(n, dtype=np.int32)
    else:
        slips = arrival_order(count_slips(run.join, run.start, until[o], ~run.lounge))

    hall = s.hall
    mult = np.ones(n)
    if hall.wait_display:
        mult *= hall.display_multiplier
    if hall.distraction:
        mult = np.where(lounge, mult, mult * hall.distraction_multiplier)
    perceived = np.asarray(
        affect.perceived_wait(wait, k=hall.perception_k, p=hall.perception_p, multiplier=mult),
        dtype=np.float64,
    )
    perceived = np.where(balked, 0.0, perceived)
    exp_wait_seg = np.array([s.segments[x].expected_wait for x in seg_names])
    appt_wait_seg = np.array([s.segments[x].appointment_expected_wait for x in seg_names])
    expected_wait = np.where(draws.appointment, appt_wait_seg[seg], exp_wait_seg[seg])

    # ---- which episodes each customer has: one mask per touchpoint, in TOUCHPOINTS order
    has = [np.zeros(n, dtype=bool) for _ in TOUCHPOINTS]
    for name in ("entrance", "welcome", "information"):
        if name in journey:
            has[_TP[name]] = np.ones(n, dtype=bool)
    # episodes never overlap: a journey is a partition of [arrival, departure). The
    # lounge is the first part of a VIP's wait; a customer served at once (wait 0) has a
    # waiting moment cut from the start of the counter time (the moment they are called
    # at once, rated by the Delta law like any wait); a customer dismissed at the door
    # (wait 0, not served) has no waiting episode
    waited = wait > 0.0
    has[_TP["lounge"]] = lounge & waited
    has[_TP["waiting"]] = served | (reneged & waited)
    has[_TP["service"]] = served
    if "advice" in journey and draws.advice_noise is not None:
        share_bus = np.array([b.advice_share for b in s.business_types.values()])
        advice_share = share_bus[draws.business.astype(np.int64)]
        has[_TP["advice"]] = served & (advice_share > 0)
        # the advice is the last part of the service: [split, end]
        split = end - advice_share * (end - start)
    else:
        split = end
    until_wait = np.where(served, start, leave)  # end of the wait (NaN for balkers)
    # the lounge-entry episode: lounge.minutes, or half of a shorter wait (none when the
    # wait is too short to split in floating point)
    lounge_end = join + np.minimum(s.lounge.minutes, 0.5 * wait)
    has[_TP["lounge"]] &= (lounge_end > join) & (lounge_end < until_wait)
    wait_start = np.where(has[_TP["lounge"]], lounge_end, join)
    # served at once: the waiting moment takes MOMENT (or half of a shorter service part)
    # from the start of the counter time
    called = served & ~waited
    moment = np.where(called, np.minimum(MOMENT, 0.5 * (split - start)), 0.0)
    wait_start = np.where(called, start, wait_start)
    wait_end = np.where(called, start + moment, until_wait)
    service_start = start + moment
    has[_TP["farewell"]] = served & ("farewell" in journey)
    has[_TP["abandonment"]] = balked | reneged
    # episodes before touchpoint k in each journey (column by column: numpy is slow
    # at reductions along the short axis of an (n, 8) matrix)
    before: list[NDArray[np.int64]] = []
    counts = np.zeros(n, dtype=np.int64)
    for mask in has:
        before.append(counts)
        counts = counts + mask
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    first = offsets[:-1]
    m_total = int(offsets[-1])
    tp = np.empty(m_total, dtype=np.int16)
    ep_start = np.empty(m_total)
    ep_end = np.empty(m_total)
    experience = np.empty(m_total)
    expectation = np.empty(m_total)

    expect_table = np.array(
        [
            [_expectation(s.segments[x].expectations, t) for t in LEVEL_TOUCHPOINTS]
            for x in seg_names
        ]
    )

    def expect(name: str) -> NDArray[np.float64]:
        """Each customer's expectation level for a touchpoint (its segment's)."""
        out: NDArray[np.float64] = expect_table[:, _LEVEL[name]][seg]
        return out

    noise = draws.noise

    # touchpoints that at least one customer has: the others are skipped
    # (their arguments are not even computed)
    needed = [bool(mask.any()) for mask in has]

    def put(name: str, t0: Any, t1: Any, exp_v: Any, expn: Any) -> None:
        k = _TP[name]
        m = has[k]
        p = (first + before[k])[m]  # the episode's position in the episode arrays
        tp[p] = k
        # a scalar is assigned as is, an array (one value per customer) is masked
        for dst, v in ((ep_start, t0), (ep_end, t1), (experience, exp_v), (expectation, expn)):
            dst[p] = v[m] if np.ndim(v) else v

    def level(base: Any, name: str) -> NDArray[np.float64]:
        return np.clip(base + noise[:, _NOISE[name]], 0.0, 10.0)

    lob = s.lobby
    pre_level = {
        "entrance": s.entrance.level,
        "welcome": np.where(greeted, lob.greeted_level, lob.ungreeted_level),
        "information": hall.ticket_level + (hall.display_bonus if hall.wait_display else 0.0),
    }
    for name, t0, t1 in pre_queue_episodes(s, arrival, greeted):
        put(name, t0, t1, level(pre_level[name], name), expect(name))
    if needed[_TP["lounge"]]:
        lg = s.lounge
        crowd = seen / (seen + lg.crowd_half)
        put(
            "lounge",
            join,
            lounge_end,
            level(lg.level + lg.contrast_strength * crowd, "lounge"),
            expect("lounge"),
        )
    if needed[_TP["waiting"]]:
        mpp = hall.minutes_per_point
        w_expect = np.clip(10.0 - expected_wait / mpp, 0.0, 10.0)
        w_exp = np.clip(10.0 - perceived / mpp - hall.slip_penalty * slips, 0.0, 10.0)
        put("waiting", wait_start, wait_end, w_exp, w_expect)
    if needed[_TP["service"]]:
        # the serving teller's quality
        quality = np.concatenate([np.zeros(1), *(draws.quality[g] for g in s.counters)])
        q = quality[teller + 1]  # teller -1 (not served) reads the leading 0
        put("service", service_start, split, level(q, "service"), expect("service"))
    if needed[_TP["advice"]]:
        assert draws.advice_noise is not None  # has[advice] is all False without it
        adv = np.concatenate([np.zeros(1), *(draws.advice[g] for g in s.counters)])
        q = np.clip(adv[teller + 1] + draws.advice_noise, 0.0, 10.0)
        put("advice", split, end, q, expect("advice"))
    # farewell
    fw = [s.segments[x].farewell for x in seg_names]
    fw_on = np.array([f.enabled for f in fw])[seg]
    gift = np.array([f.gift_size for f in fw])[seg]
    fw_minutes = np.where(fw_on, np.array([f.minutes for f in fw])[seg], MOMENT)
    if needed[_TP["farewell"]]:
        fw_base = np.where(
            fw_on,
            np.array([f.level for f in fw])[seg],
            np.array([f.plain_level for f in fw])[seg],
        )
        g_util = np.asarray(
            affect.gift_utility(
                gift, scale=s.gift_utility.scale, curvature=s.gift_utility.curvature
            ),
            dtype=np.float64,
        )
        put(
            "farewell",
            end,
            end + fw_minutes,
            level(fw_base + g_util, "farewell"),
            expect("farewell"),
        )
    # abandonment
    ab0 = np.where(balked, join, leave)
    if needed[_TP["abandonment"]]:
        put(
            "abandonment",
            ab0,
            ab0 + s.abandonment.minutes,
            s.abandonment.level,
            expect("service"),
        )

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

    if "farewell" in journey:
        departure = np.where(served, end + fw_minutes, ab0 + s.abandonment.minutes)
    else:
        departure = np.where(served, end, ab0 + s.abandonment.minutes)
    gift_cost = np.where(
        served & ("farewell" in journey) & (gift > 0),
        np.array([f.gift_cost for f in fw])[seg],
        0.0,
    )
    customers = {
        "day": np.zeros(n, dtype=np.int32),
        "customer": np.arange(n, dtype=np.int32),
        "segment": draws.segment,
        "business": draws.business,
        "appointment": draws.appointment,
        "arrival": arrival,
        "queue_on_arrival": seen.astype(np.int32),
        "queue_ahead": ahead.astype(np.int32),
        "expected_wait": expected_wait,
        "wait": wait,
        "perceived_wait": perceived,
        "slips": slips,
        "balked": balked,
        "reneged": reneged,
        "counter": teller.astype(np.int16),
        "service_start": np.where(served, start, np.nan),
        "service_end": np.where(served, end, np.nan),
        "departure": departure,
        "gift_cost": gift_cost,
        "remembered": np.asarray(remembered, dtype=np.float64),
    }
    episodes = {
        "touchpoint": tp,
        "start": ep_start,
        "end": ep_end,
        "experience": experience,
        "expectation": expectation,
        "affect": aff,
    }
    queue = {
        "day": np.zeros(run.queue_time.size, dtype=np.int32),
        "time": run.queue_time,
        "length": run.queue_length,
    }
    return Journeys(
        customers,
        episodes,
        offsets,
        segments=seg_names,
        business_types=list(s.business_types),
        touchpoints=list(TOUCHPOINTS),
        counters=run.teller_names,
        queue=queue,
        meta=meta,
        # built from the model's own arrays: its invariants (codes in range, offsets,
        # end > start, finite affect) are pinned by tests/test_sim.py
        validate=False,
    )


# --------------------------------------------------------------------------- public entry
def _seed_meta(seed: int | np.random.SeedSequence) -> Any:
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": str(seed.entropy), "spawn_key": [int(k) for k in seed.spawn_key]}
    return int(seed)


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence = 0) -> Journeys:
    """Simulate one branch day and record every customer's journey.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`peakend.load_scenario`).
    seed : int or numpy.random.SeedSequence, default 0
        The day's seed. Separate streams for arrivals, customer mix, service,
        patience, experience and teller quality (and, when some business
        includes advice, advice noise and tellers' advice quality) are derived
        from it without mutating it; the same seed gives the same bits, and a
        staffing change keeps the same customers (common random numbers).

    Returns
    -------
    Journeys
        One row per customer who came (in arrival order, times in minutes from
        opening), their episodes with experience, expectation and affect
        (``v(experience - expectation)`` on -10..10), the hall queue series, and
        ``remembered`` under the scenario's default memory rule.

    Warns
    -----
    OverloadWarning
        If the offered load exceeds the staffed capacity, or more than a quarter
        of the customers abandon, or service runs over two hours past closing.

    Raises
    ------
    ValueError
        If ``seed`` is not an int >= 0 or a SeedSequence, or ``scenario`` is not
        a :class:`~peakend.config.Scenario`.

    Examples
    --------
    >>> import peakend as pe
    >>> day = pe.simulate(pe.scenarios.mmc(1.8, 0.5, 4, 8), seed=1)
    >>> bool((day.customers["wait"] >= 0).all())
    True
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(
            "scenario: must be a peakend Scenario (see load_scenario), got "
            f"{type(scenario).__name__}"
        )
    # re-validate: catches variants made with model_copy(update=...), before SimPy starts
    scenario = Scenario.model_validate(scenario.model_dump(warnings=False))
    return simulate_validated(scenario, seed, _stacklevel=3)


def simulate_validated(
    scenario: Scenario, seed: int | np.random.SeedSequence = 0, *, _stacklevel: int = 2
) -> Journeys:
    """:func:`simulate` for a scenario fresh from validation, without validating it again.

    :func:`simulate` re-validates its scenario on every call (about 0.2 ms, a few
    per cent of a day), because a scenario changed with ``model_copy(update=...)``
    or in place has skipped pydantic's checks. A caller that has just built the
    scenario by validation and does not change it (``run``'s workers parse each
    policy's scenario once from JSON) can skip that; the day is the same, bit for
    bit. Not part of the public API.

    Parameters
    ----------
    scenario : Scenario
        A scenario made by ``Scenario.model_validate`` or ``model_validate_json``
        and not changed since.
    seed : int or numpy.random.SeedSequence, default 0
        As for :func:`simulate`.

    Returns
    -------
    Journeys
        As for :func:`simulate`.
    """
    rule = memory.get_rule(scenario.memory.rule, **scenario.memory.params)  # checks the params
    load = scenario.offered_load()
    draws = draw_day(scenario, seed)
    run = run_day(scenario, draws)
    meta = {
        "scenario": scenario.name,
        "peakend_version": __version__,
        "seed": _seed_meta(seed),
        "opening": 0.0,
        "closing": scenario.open_minutes,
        "opening_clock_hours": scenario.opening,
        "rule": scenario.memory.rule,
        "rule_params": dict(scenario.memory.params),
        "currency": scenario.currency,
        "offered_load": load if math.isfinite(load) else None,
        "staff_cost": scenario.staff_cost(),
        "fixed_cost": scenario.fixed_cost(),
        "segment_value": {k: v.value for k, v in scenario.segments.items()},
        "counter_group": list(run.teller_group),
    }
    day = build_journeys(scenario, draws, run, meta, rule)
    message = overload_message(scenario, day)
    if message is not None:
        warnings.warn(message, OverloadWarning, stacklevel=_stacklevel)
    return day


def overload_message(scenario: Scenario, day: Journeys) -> str | None:
    """Say why a simulated day is overloaded, or return None if it is not.

    Parameters
    ----------
    scenario : Scenario
        The simulated branch.
    day : Journeys
        Its day.

    Returns
    -------
    str or None
        The message of the :class:`~peakend.warnings.OverloadWarning`: each condition
        that triggered it (offered load above :data:`~peakend.warnings.OVERLOAD_LOAD`,
        abandonment share above :data:`~peakend.warnings.OVERLOAD_ABANDONED_SHARE`, last
        departure more than :data:`~peakend.warnings.OVERLOAD_OVERRUN_MINUTES` after
        closing) with its number and threshold; None if none did.
    """
    load = scenario.offered_load()
    n = len(day)
    reasons = []
    if load > OVERLOAD_LOAD:
        shown = "infinite (no teller on duty)" if math.isinf(load) else f"{load:.2f}"
        reasons.append(
            f"offered load {shown} > {OVERLOAD_LOAD:g} (expected service minutes over "
            "staffed teller-minutes)"
        )
    if n:
        abandoned = int(day.abandoned.sum())
        if abandoned / n > OVERLOAD_ABANDONED_SHARE:
            reasons.append(
                f"{abandoned} of {n} customers ({abandoned / n:.0%}) abandoned "
                f"(> {OVERLOAD_ABANDONED_SHARE:.0%})"
            )
        overrun = float(np.nanmax(day.customers["departure"])) - scenario.open_minutes
        if overrun > OVERLOAD_OVERRUN_MINUTES:
            reasons.append(
                f"the last customer left {overrun:.0f} min after closing "
                f"(> {OVERLOAD_OVERRUN_MINUTES:g} min)"
            )
    if not reasons:
        return None
    return f"scenario {scenario.name!r} is overloaded: " + "; ".join(reasons)
