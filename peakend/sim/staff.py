"""Staff over the day: lobby greetings (a loss system) and the tellers' shift changes."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario

__all__ = [
    "BREAK_CYCLE_MINUTES", "greetings", "greetings_by_day", "managers_on_duty", "shift_events",
]


def greetings(
    arrive: NDArray[np.float64],
    on_duty: NDArray[np.int64],
    minutes: float,
    compiled: bool = False,
) -> NDArray[np.bool_]:
    """Which customers find a free lobby manager (a loss system: nobody waits to be greeted).

    ``arrive`` is each customer's time in the lobby (minutes, non-decreasing) and
    ``on_duty[i]`` the number of managers on duty then. Managers ``0..on_duty[i]-1``
    are eligible; one going off duty finishes the greeting in hand (its busy time is
    kept) and greets nobody new until back on duty. ``compiled``: the same flags from the
    compiled kernel (:mod:`peakend.sim.compiled._greetings`; numba).
    """
    if compiled:
        from peakend.sim.compiled._greetings import greet_kernel

        flags: NDArray[np.bool_] = greet_kernel(
            np.ascontiguousarray(arrive, dtype=np.float64),
            np.ascontiguousarray(on_duty, dtype=np.int64),
            float(minutes),
        )
        return flags
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


def greetings_by_day(
    arrive: NDArray[np.float64],
    on_duty: NDArray[np.int64],
    minutes: float,
    bounds: NDArray[np.int64],
    compiled: bool = False,
) -> NDArray[np.bool_]:
    """:func:`greetings` of several days end to end, each day on its own: the same flags.

    ``bounds`` (``days + 1`` offsets) says where each day lies in ``arrive`` and
    ``on_duty``; every day starts with all its managers free, as a day alone.
    ``compiled``: one call of the compiled kernel for all the days (numba).
    """
    if compiled:
        from peakend.sim.compiled._greetings import greet_days_kernel

        flags: NDArray[np.bool_] = greet_days_kernel(
            np.ascontiguousarray(arrive, dtype=np.float64),
            np.ascontiguousarray(on_duty, dtype=np.int64),
            float(minutes),
            np.ascontiguousarray(bounds, dtype=np.int64),
        )
        return flags
    out = np.zeros(arrive.size, dtype=bool)
    for d in range(bounds.size - 1):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        out[lo:hi] = greetings(arrive[lo:hi], on_duty[lo:hi], minutes)
    return out


def managers_on_duty(scenario: Scenario, minutes: NDArray[np.float64]) -> NDArray[np.int64]:
    """Lobby managers on duty at each time (minutes from opening), from the shift plan."""
    plan = scenario.lobby.managers
    if isinstance(plan, int):
        return np.full(minutes.size, plan, dtype=np.int64)
    starts = np.array([(b.start - scenario.opening) * 60.0 for b in plan])
    counts = np.array([b.count for b in plan], dtype=np.int64)
    block = np.searchsorted(starts, minutes, side="right") - 1
    return np.where(block >= 0, counts[np.maximum(block, 0)], 0)


#: Length of a break cycle, minutes: with ``availability`` below 1, every on-duty teller takes
#: one break of ``(1 - availability)`` of each cycle (a shift block is cut into whole cycles
#: of at most this length).
BREAK_CYCLE_MINUTES: float = 60.0


def shift_events(scenario: Scenario) -> tuple[list[str], list[str], list[tuple[float, int, bool]]]:
    """Teller names, their groups, and (minute, teller, on_duty) changes in time order.

    A counter group's ``availability`` below 1 (shrinkage) becomes breaks in these
    events, so the movement engine needs nothing of it: each shift block is cut into
    ``m = ceil(length / 60)`` equal cycles of length ``L``; in every cycle each of the
    block's ``n`` on-duty tellers is off for ``(1 - a) * L``, teller ``i`` from
    ``i * L / n`` into the cycle (wrapping round to the cycle's start), so that
    ``floor`` or ``ceil`` of ``n * a`` tellers are available at any time and exactly
    ``a`` of the teller-minutes on average. A teller going on a break finishes the
    customer in hand (so slightly more than ``a`` of the time is spent serving).
    Breaks end at closing. Deterministic: no random numbers.
    """
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
        changes = [((t - scenario.opening) * 60.0, a) for t, a in c.availability_changes()]
        if all(a >= 1.0 for _, a in changes):
            current = 0
            for t, count in blocks:
                for i in range(n):
                    was, now = i < current, i < count
                    if was != now:
                        events.append((t, base + i, now))
                current = count
        else:
            # cut the day where the count or the availability changes
            cuts = sorted({t for t, _ in blocks} | {max(0.0, t) for t, _ in changes})
            t_blocks = np.array([t for t, _ in blocks])
            t_avail = np.array([t for t, _ in changes])
            merged, avail = [], []
            for t in cuts:
                k = int(np.searchsorted(t_blocks, t, side="right")) - 1
                j = int(np.searchsorted(t_avail, t, side="right")) - 1
                merged.append((t, blocks[k][1]))
                avail.append(changes[j][1] if j >= 0 else 1.0)
            events += _events_with_breaks(merged, avail, n, base, horizon)
            current = blocks[-1][1]
        if current == 0 and n > 0 and scenario.after_closing == "serve":
            # nobody of this group is on duty at closing: one teller comes back to
            # serve the customers still waiting for this group
            events.append((horizon, base, True))
    events.sort(key=lambda e: (e[0], e[1]))
    return names, groups, events


def _events_with_breaks(
    blocks: list[tuple[float, int]], avail: list[float], n: int, base: int, horizon: float
) -> list[tuple[float, int, bool]]:
    """On/off changes of a group's ``n`` tellers under shift blocks with breaks (see above)."""
    ends = [t for t, _ in blocks[1:]] + [horizon]
    # per teller: the times its state may change, and its breaks
    cuts: list[set[float]] = [{horizon} for _ in range(n)]
    breaks: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    for (t0, count), t1, a in zip(blocks, ends, avail, strict=True):
        for i in range(n):
            cuts[i].add(t0)
        length = t1 - t0
        if a >= 1.0 or count <= 0 or length <= 0:
            continue
        m = max(1, math.ceil(length / BREAK_CYCLE_MINUTES - 1e-9))
        cycle = length / m
        off = (1.0 - a) * cycle
        for j in range(m):
            c0 = t0 + j * cycle
            c1 = t1 if j == m - 1 else c0 + cycle
            for i in range(count):
                s0 = c0 + i * cycle / count
                s1 = s0 + off
                if s1 <= c1:
                    pieces = [(s0, s1)]
                else:  # wraps round to the start of the cycle
                    pieces = [(s0, c1), (c0, c0 + (s1 - c1))]
                for lo, hi in pieces:
                    if hi > lo:
                        breaks[i].append((lo, hi))
                        cuts[i].update((lo, hi))
    starts = np.array([t for t, _ in blocks])
    counts = [k for _, k in blocks]
    events: list[tuple[float, int, bool]] = []
    for i in range(n):
        times = sorted(x for x in cuts[i] if 0.0 <= x <= horizon)
        was = False
        for lo, hi in itertools.pairwise([*times, math.inf]):
            if hi - lo <= 1e-9:
                continue
            mid = lo + 1.0 if math.isinf(hi) else 0.5 * (lo + hi)
            if mid >= horizon:  # breaks end at closing: the plan's last block holds
                now = i < counts[-1]
            else:
                block = int(np.searchsorted(starts, mid, side="right")) - 1
                now = i < counts[block] and not any(b0 <= mid < b1 for b0, b1 in breaks[i])
            if now != was:
                events.append((lo, base + i, now))
                was = now
    return events
