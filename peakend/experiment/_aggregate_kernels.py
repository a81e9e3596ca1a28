"""Compiled (numba) per-bin sums and quantiles for :mod:`peakend.experiment._aggregate`.

Optional: used only when numba is already imported (the compiled movement engine loads
it), never imported by ``import peakend``; the NumPy functions of ``_aggregate`` stay the
reference and these give their bits exactly:

* :func:`bin_sums` adds each customer's value to its two bins in customer order, one
  float64 addition at a time, as ``numpy.bincount`` does (no pairwise summation);
* :func:`bin_quantile` sorts each bin's values and interpolates between the same order
  statistics with the same float64 operations, ``low + (pos - lo) * (high - low)``.

Compiled on first use and cached on disk (``cache=True``); no fast-math.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["bin_quantile", "bin_sums"]


@njit(cache=True)
def bin_sums(values: Any, day: Any, own: Any, n_bins: int) -> Any:  # pragma: no cover - compiled
    """Sum each row of ``values`` (k x customers, float64) into the bins ``day`` and ``own``.

    Parameters
    ----------
    values : ndarray of float64, shape (k, customers)
        The values (wait minutes, remembered affect, flags as 0.0/1.0, ...).
    day, own : ndarray of int64, shape (customers,)
        Each customer's two bins (its day's "all" bin, its segment's bin).
    n_bins : int
        Number of bins.

    Returns
    -------
    ndarray of float64, shape (k, n_bins)
        ``out[r, b]``: the left-to-right sum of the values of the customers whose
        ``day`` or ``own`` bin is ``b`` (the two never share a bin), in the values' units.
    """
    k, n = values.shape
    out = np.zeros((k, n_bins))
    for r in range(k):
        for i in range(n):
            v = values[r, i]
            out[r, day[i]] += v
            out[r, own[i]] += v
    return out


@njit(cache=True)
def bin_quantile(  # pragma: no cover - compiled
    x: Any, day: Any, own: Any, n_bins: int, q: float
) -> Any:
    """Quantile ``q`` (linear interpolation) of the ``x`` of each bin; NaN for an empty bin.

    Parameters
    ----------
    x : ndarray of float64, shape (customers,)
        The values (wait minutes).
    day, own : ndarray of int64, shape (customers,)
        Each customer's two bins.
    n_bins : int
        Number of bins.
    q : float
        The quantile, 0..1.

    Returns
    -------
    ndarray of float64, shape (n_bins,)
        In the units of ``x``.
    """
    n = x.shape[0]
    counts = np.zeros(n_bins, dtype=np.int64)
    for i in range(n):
        counts[day[i]] += 1
        counts[own[i]] += 1
    starts = np.zeros(n_bins + 1, dtype=np.int64)
    for b in range(n_bins):
        starts[b + 1] = starts[b] + counts[b]
    fill = starts[:-1].copy()
    xs = np.empty(2 * n)
    for i in range(n):
        xs[fill[day[i]]] = x[i]
        fill[day[i]] += 1
        xs[fill[own[i]]] = x[i]
        fill[own[i]] += 1
    out = np.empty(n_bins)
    for b in range(n_bins):
        m = counts[b]
        if m == 0:
            out[b] = np.nan
            continue
        part = xs[starts[b] : starts[b + 1]]
        part.sort()  # in place: the bin's values in order
        pos = q * (m - 1)
        lo = np.floor(pos)
        hi = min(lo + 1.0, m - 1.0)
        low = part[int(lo)]
        high = part[int(hi)]
        out[b] = low + (pos - lo) * (high - low)
    return out
