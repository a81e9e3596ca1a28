"""Confidence intervals, paired comparisons and multiple-comparison control.

Everything here is vectorized along ``axis=0`` (the replications) and is
explicit about the two degenerate cases of simulation output:

* **fewer than three replications** (``n < 3``): a t-interval with one degree
  of freedom is so wide that it is misleading rather than useful, so the
  half-width is ``NaN`` and the note is ``"n<3"``; p-values are ``NaN`` too;
* **zero variance** (all replications equal, e.g. a policy compared with
  itself under common random numbers): the half-width is ``0.0`` and the
  note is ``"zero variance"``; a paired difference that is exactly zero in
  every replication has p-value ``1.0``, a constant non-zero difference has
  p-value ``0.0``.

Non-finite values (``NaN``, e.g. the mean wait of a segment that had no
customer in one replication) are left out; ``n`` counts the finite values
(for paired data, the pairs where both are finite).

Examples
--------
>>> import numpy as np
>>> ci = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
>>> round(float(ci.mean), 3), round(float(ci.half_width), 3)
(2.5, 2.054)
>>> mean_ci(np.array([1.0, 2.0])).note.item()
'n<3'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MIN_N",
    "NOTE_FEW",
    "NOTE_ZERO_VARIANCE",
    "Interval",
    "PairedDifference",
    "check_confidence",
    "holm",
    "mean_ci",
    "paired_difference",
    "pareto_efficient",
    "rank",
]

#: Smallest number of finite values for which an interval is computed.
MIN_N = 3
#: Note for fewer than :data:`MIN_N` finite values: half-width and p-value are NaN.
NOTE_FEW = "n<3"
#: Note for zero sample variance: half-width 0.
NOTE_ZERO_VARIANCE = "zero variance"


def _scipy_stats() -> Any:
    """Import scipy.stats on first use (it takes a second; worker processes never need it)."""
    from scipy import stats

    return stats


def check_confidence(confidence: float) -> float:
    """Check a confidence level and return it as a float.

    Parameters
    ----------
    confidence : float
        Confidence level, strictly between 0 and 1 (e.g. 0.95).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If it is not a real number in (0, 1) (a bool, a string or NaN included).
    """
    ok = isinstance(confidence, (int, float, np.integer, np.floating)) and not isinstance(
        confidence, (bool, np.bool_))
    if not ok or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return float(confidence)


_check_confidence = check_confidence


@dataclass(frozen=True)
class Interval:
    """A t-based confidence interval for a mean, per column.

    All attributes are arrays of the shape of the input with ``axis`` removed
    (0-d arrays for 1-d input).

    Attributes
    ----------
    mean : ndarray of float64
        Mean of the finite values (``NaN`` if there are none).
    half_width : ndarray of float64
        Half-width of the interval, in the unit of the data; ``NaN`` when
        ``n < 3``, ``0.0`` for zero variance.
    low, high : ndarray of float64
        ``mean - half_width`` and ``mean + half_width``.
    sd : ndarray of float64
        Sample standard deviation (``ddof=1``); ``NaN`` when ``n < 2``.
    n : ndarray of int64
        Number of finite values used.
    note : ndarray of str
        ``""``, ``"n<3"`` or ``"zero variance"``.
    confidence : float
        Confidence level, e.g. ``0.95``.
    """

    mean: NDArray[np.float64]
    half_width: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    sd: NDArray[np.float64]
    n: NDArray[np.int64]
    note: NDArray[np.str_]
    confidence: float


@dataclass(frozen=True)
class PairedDifference:
    """Paired differences ``a - b`` with a t-interval and a two-sided p-value.

    Attributes
    ----------
    mean : ndarray of float64
        Mean paired difference ``mean(a - b)`` over the finite pairs.
    half_width, low, high : ndarray of float64
        Confidence interval of the mean difference (see :class:`Interval`).
    sd : ndarray of float64
        Standard deviation of the differences (``ddof=1``).
    n : ndarray of int64
        Number of finite pairs.
    p_value : ndarray of float64
        Two-sided p-value of the paired t-test of ``mean(a - b) == 0``;
        ``NaN`` when ``n < 3``; ``1.0`` for differences identically zero,
        ``0.0`` for a constant non-zero difference.
    note : ndarray of str
        ``""``, ``"n<3"`` or ``"zero variance"``.
    confidence : float
        Confidence level.
    """

    mean: NDArray[np.float64]
    half_width: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    sd: NDArray[np.float64]
    n: NDArray[np.int64]
    p_value: NDArray[np.float64]
    note: NDArray[np.str_]
    confidence: float


def _moments(
    x: NDArray[np.float64], axis: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Return mean, sd (ddof=1) and count of the finite values along ``axis``."""
    finite = np.isfinite(x)
    n = finite.sum(axis=axis).astype(np.int64)
    filled = np.where(finite, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=axis) / n
        dev = np.where(finite, x - np.expand_dims(mean, axis), 0.0)
        var = (dev * dev).sum(axis=axis) / (n - 1)
    mean = np.where(n > 0, mean, np.nan)
    var = np.where(n > 1, var, np.nan)
    return mean, np.sqrt(var), n


def _interval_parts(
    mean: NDArray[np.float64],
    sd: NDArray[np.float64],
    n: NDArray[np.int64],
    confidence: float,
) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.bool_], NDArray[np.bool_]]:
    few = n < MIN_N
    # sd == 0 exactly, or below rounding noise relative to the mean
    zero = ~few & (sd <= 1e-13 * np.maximum(np.abs(mean), 1e-300))
    df = np.maximum(n - 1, 1).astype(np.float64)
    tq = _scipy_stats().t.ppf(0.5 + confidence / 2.0, df)
    with np.errstate(invalid="ignore"):
        half = tq * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(few, np.nan, np.where(zero, 0.0, half))
    note = np.where(few, NOTE_FEW, np.where(zero, NOTE_ZERO_VARIANCE, "")).astype(np.str_)
    return np.asarray(half, dtype=np.float64), note, few, zero


def mean_ci(data: ArrayLike, *, axis: int = 0, confidence: float = 0.95) -> Interval:
    """Mean and t-based confidence interval along an axis.

    Parameters
    ----------
    data : array_like of float
        Observations, one per replication along ``axis`` (any unit).
    axis : int, default 0
        Axis of the replications.
    confidence : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    Interval
        Mean, half-width ``t_{1-(1-c)/2, n-1} * sd / sqrt(n)``, bounds, sd,
        n and a note per column. With ``n < 3`` finite values the half-width
        is ``NaN`` (note ``"n<3"``); with zero variance it is ``0.0`` (note
        ``"zero variance"``).

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> ci = mean_ci(np.array([5.0, 5.0, 5.0]))
    >>> float(ci.half_width), ci.note.item()
    (0.0, 'zero variance')
    """
    _check_confidence(confidence)
    x = np.asarray(data, dtype=np.float64)
    mean, sd, n = _moments(x, axis)
    half, note, _, _ = _interval_parts(mean, sd, n, confidence)
    return Interval(
        mean=mean,
        half_width=half,
        low=mean - half,
        high=mean + half,
        sd=sd,
        n=n,
        note=note,
        confidence=confidence,
    )


def paired_difference(
    a: ArrayLike, b: ArrayLike, *, axis: int = 0, confidence: float = 0.95
) -> PairedDifference:
    """Paired differences ``a - b`` with a t-interval and a paired t-test.

    Use this for common-random-number experiments: replication ``r`` of ``a``
    and of ``b`` saw the same simulated customers, so the differences have
    much less variance than the two samples.

    Parameters
    ----------
    a, b : array_like of float
        Paired observations of the same shape, replications along ``axis``.
    axis : int, default 0
        Axis of the replications.
    confidence : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    PairedDifference
        Mean difference, interval, sd, n, two-sided p-value and note.

    Raises
    ------
    ValueError
        If the shapes differ or ``confidence`` is not in (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> d = paired_difference(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    >>> float(d.mean), float(d.half_width), float(d.p_value)
    (0.0, 0.0, 1.0)
    """
    _check_confidence(confidence)
    xa = np.asarray(a, dtype=np.float64)
    xb = np.asarray(b, dtype=np.float64)
    if xa.shape != xb.shape:
        raise ValueError(f"a and b must have the same shape, got {xa.shape} and {xb.shape}")
    d = xa - xb  # NaN where either is NaN
    mean, sd, n = _moments(d, axis)
    half, note, few, zero = _interval_parts(mean, sd, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_stat = mean / (sd / np.sqrt(np.maximum(n, 1)))
        p = 2.0 * _scipy_stats().t.sf(np.abs(t_stat), np.maximum(n - 1, 1))
    p = np.where(zero, np.where(mean == 0.0, 1.0, 0.0), p)
    p = np.where(few, np.nan, p)
    return PairedDifference(
        mean=mean,
        half_width=half,
        low=mean - half,
        high=mean + half,
        sd=sd,
        n=n,
        p_value=np.asarray(p, dtype=np.float64),
        note=note,
        confidence=confidence,
    )


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm-Bonferroni adjusted p-values (family-wise error control).

    Parameters
    ----------
    p_values : array_like of float
        Raw p-values of one family of tests, each in [0, 1]. ``NaN`` entries
        are not tests: they stay ``NaN`` and do not count in the family size.

    Returns
    -------
    ndarray of float64
        Adjusted p-values, same shape: sorted ascending, the k-th smallest
        (from 0) is multiplied by ``m - k``, made monotone by a running
        maximum and capped at 1. Reject at level alpha where adjusted <= alpha.

    Raises
    ------
    ValueError
        If a finite p-value is outside [0, 1].

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    ok = np.isfinite(flat)
    if np.any((flat[ok] < 0.0) | (flat[ok] > 1.0)):
        raise ValueError("p_values must be in [0, 1]")
    out = np.full(flat.shape, np.nan)
    idx = np.flatnonzero(ok)
    m = idx.size
    if m:
        order = idx[np.argsort(flat[idx], kind="stable")]
        scaled = flat[order] * (m - np.arange(m))
        out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out.reshape(p.shape)


def pareto_efficient(cost: ArrayLike, value: ArrayLike) -> NDArray[np.bool_]:
    """Which options are Pareto-efficient when cost is minimised and value maximised.

    Parameters
    ----------
    cost : array_like of float, shape (k,)
        Cost of each option (e.g. currency per day).
    value : array_like of float, shape (k,)
        Value of each option (e.g. mean remembered value, affect scale).

    Returns
    -------
    ndarray of bool, shape (k,)
        True where no other option has cost <= and value >= with at least one
        strict. Options with a non-finite cost or value are never efficient;
        exact duplicates are all efficient.

    Raises
    ------
    ValueError
        If the shapes differ or are not 1-d.

    Examples
    --------
    >>> pareto_efficient([1.0, 2.0, 3.0], [1.0, 0.5, 2.0]).tolist()
    [True, False, True]
    """
    c = np.asarray(cost, dtype=np.float64)
    v = np.asarray(value, dtype=np.float64)
    if c.ndim != 1 or c.shape != v.shape:
        raise ValueError(f"cost and value must be 1-d of equal length, got {c.shape}, {v.shape}")
    finite = np.isfinite(c) & np.isfinite(v)
    cc, vv = c[:, None], v[:, None]
    # dominated[i, j]: option j dominates option i
    dominated = (
        (c[None, :] <= cc)
        & (v[None, :] >= vv)
        & ((c[None, :] < cc) | (v[None, :] > vv))
        & finite[None, :]
    )
    return np.asarray(finite & ~dominated.any(axis=1), dtype=np.bool_)


def rank(values: ArrayLike, *, descending: bool = True) -> NDArray[np.float64]:
    """Rank of each option, 1 for the best, ties sharing the mean rank.

    Parameters
    ----------
    values : array_like of float, shape (k,)
        One score per option; a ``NaN`` score gets a ``NaN`` rank.
    descending : bool, default True
        Whether a larger value is better.

    Returns
    -------
    ndarray of float64, shape (k,)
        Ranks (1 = best); ``NaN`` where the value is ``NaN``.

    Examples
    --------
    >>> rank([0.5, 2.0, 0.5]).tolist()
    [2.5, 1.0, 2.5]
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    if ok.any():
        out[ok] = _scipy_stats().rankdata(-v[ok] if descending else v[ok], method="average")
    return out
