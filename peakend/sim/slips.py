"""Larson's slips: later arrivals served first while a customer waits (unfairness, counted)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["count_slips"]


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
