"""Larson's slips: later arrivals served first while a customer waits (unfairness, counted)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["count_slips", "count_slips_by_day"]


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


def count_slips_by_day(
    join: NDArray[np.float64],
    start: NDArray[np.float64],
    until: NDArray[np.float64],
    in_hall: NDArray[np.bool_],
    bounds: NDArray[np.int64],
    skip: tuple[bool, ...],
    compiled: bool = False,
) -> NDArray[np.int32]:
    """:func:`count_slips` of several days end to end, each day on its own.

    Slips compare customers of one day, so day ``d`` (rows ``bounds[d]:bounds[d + 1]``,
    each day in join order) is counted alone; days with ``skip[d]`` (nobody can slip)
    are left at 0.

    Parameters
    ----------
    join, start, until, in_hall : numpy.ndarray
        As for :func:`count_slips`, the days concatenated.
    bounds : numpy.ndarray of int64
        ``n_days + 1`` row offsets.
    skip : tuple of bool
        Per day, whether nobody can slip.
    compiled : bool, default False
        Count with the compiled kernel (:mod:`peakend.sim.compiled._slips`; numba): the
        same counts in one call for every day.

    Returns
    -------
    numpy.ndarray of int32
        Slips per row.
    """
    if compiled:
        from peakend.sim.compiled._slips import slips_kernel

        out: NDArray[np.int32] = slips_kernel(
            np.ascontiguousarray(join, dtype=np.float64),
            np.ascontiguousarray(start, dtype=np.float64),
            np.ascontiguousarray(until, dtype=np.float64),
            np.ascontiguousarray(in_hall),
            bounds,
            np.array(skip, dtype=np.bool_),
        )
        return out
    slips = np.zeros(join.size, dtype=np.int32)
    for d, none in enumerate(skip):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if not none and hi > lo:
            slips[lo:hi] = count_slips(join[lo:hi], start[lo:hi], until[lo:hi], in_hall[lo:hi])
    return slips
