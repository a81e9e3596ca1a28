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

__all__ = ["greet_days_kernel", "greet_kernel", "join_order_kernel"]


@njit(cache=True)
def _greet_into(arrive: Any, on_duty: Any, minutes: float, out: Any) -> None:  # pragma: no cover
    """Run the loss system of one day, writing the flags into ``out`` (all False on entry)."""
    n = arrive.size
    most = 0
    for i in range(n):
        if on_duty[i] > most:
            most = on_duty[i]
    if most <= 0:
        return
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


@njit(cache=True)
def greet_kernel(arrive: Any, on_duty: Any, minutes: float) -> Any:  # pragma: no cover - compiled
    """Which customers find a free lobby manager; ``arrive`` minutes, ``on_duty`` counts."""
    out = np.zeros(arrive.size, dtype=np.bool_)
    _greet_into(arrive, on_duty, minutes, out)
    return out


@njit(cache=True)
def greet_days_kernel(
    arrive: Any, on_duty: Any, minutes: float, bounds: Any
) -> Any:  # pragma: no cover - compiled
    """:func:`greet_kernel` of several days end to end, each day on its own (``bounds``)."""
    out = np.zeros(arrive.size, dtype=np.bool_)
    for d in range(bounds.size - 1):
        lo = bounds[d]
        hi = bounds[d + 1]
        _greet_into(arrive[lo:hi], on_duty[lo:hi], minutes, out[lo:hi])
    return out


@njit(cache=True)
def join_order_kernel(join: Any, bounds: Any) -> Any:  # pragma: no cover - compiled
    """Rows of several days in join order: each day's own stable argsort, offset by its start.

    A day whose join times are already non-decreasing keeps its rows (the stable argsort
    of a sorted array is the identity); any other day is sorted with a stable mergesort.
    Returns (order, whether every day kept its rows).
    """
    n = join.size
    order = np.empty(n, dtype=np.int64)
    kept = True
    for d in range(bounds.size - 1):
        lo = bounds[d]
        hi = bounds[d + 1]
        ok = True
        for i in range(lo + 1, hi):
            if join[i] < join[i - 1]:
                ok = False
                break
        if ok:
            for i in range(lo, hi):
                order[i] = i
        else:
            kept = False
            o = np.argsort(join[lo:hi], kind="mergesort")
            for i in range(hi - lo):
                order[lo + i] = o[i] + lo
    return order, kept
