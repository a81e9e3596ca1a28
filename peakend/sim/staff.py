"""Staff over the day: lobby greetings (a loss system) and the tellers' shift changes."""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario

__all__ = ["greetings", "managers_on_duty", "shift_events"]


def greetings(
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


def managers_on_duty(scenario: Scenario, minutes: NDArray[np.float64]) -> NDArray[np.int64]:
    """Lobby managers on duty at each time (minutes from opening), from the shift plan."""
    plan = scenario.lobby.managers
    if isinstance(plan, int):
        return np.full(minutes.size, plan, dtype=np.int64)
    starts = np.array([(b.start - scenario.opening) * 60.0 for b in plan])
    counts = np.array([b.count for b in plan], dtype=np.int64)
    block = np.searchsorted(starts, minutes, side="right") - 1
    return np.where(block >= 0, counts[np.maximum(block, 0)], 0)


def shift_events(scenario: Scenario) -> tuple[list[str], list[str], list[tuple[float, int, bool]]]:
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
