"""Lobby greetings compiled (numba): :func:`peakend.sim.staff.greetings`, the same flags.

Imported only by the compiled engine. The loss system of the lobby managers is a loop
over the customers in arrival order; here it is compiled (``cache=True``). A customer is
greeted by the manager on duty who is free soonest (the lowest number on ties) if that
manager is free by the customer's time, exactly as in :func:`~peakend.sim.staff.greetings`
(whose heap orders managers by (free from, number)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["greet_kernel"]


@njit(cache=True)
def greet_kernel(arrive: Any, on_duty: Any, minutes: float) -> Any:  # pragma: no cover - compiled
    """Which customers find a free lobby manager; ``arrive`` minutes, ``on_duty`` counts."""
    n = arrive.size
    out = np.zeros(n, dtype=np.bool_)
    most = 0
    for i in range(n):
        if on_duty[i] > most:
            most = on_duty[i]
    if most <= 0:
        return out
    free = np.zeros(most)
    for i in range(n):
        m = on_duty[i]
        if m <= 0:
            continue
        k = 0
        for j in range(1, m):
            if free[j] < free[k]:
                k = j
        if free[k] <= arrive[i]:
            free[k] = arrive[i] + minutes
            out[i] = True
    return out
