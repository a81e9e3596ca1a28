"""Momentary affect: the Delta law, gift utility and perceived waiting time.

At every touchpoint a customer feels ``a = v(experience - expectation)``
(the Delta law; see its background page in the documentation), on the
library's affect scale of -10..10. This module gives the value functions ``v``
(linear, and prospect-theory style with loss aversion, Tversky & Kahneman
1992), a concave utility of farewell gifts, and the perceived length of a wait
(``k * actual**p * multiplier``, Antonides, Verhoef & van Aalst 2002; Maister
1985). All functions are vectorized over numpy arrays and validate their
arguments.

Examples
--------
>>> import numpy as np
>>> from peakend.affect import value
>>> value(np.array([2.0, -2.0]), kind="linear").tolist()
[2.0, -2.0]
>>> np.round(value(np.array([1.0, -1.0])), 2).tolist()  # losses loom larger
[1.0, -2.25]
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["AFFECT_RANGE", "gift_utility", "linear", "perceived_wait", "prospect", "value"]

#: The affect scale of the library: -10 (worst) to 10 (best).
AFFECT_RANGE: tuple[float, float] = (-10.0, 10.0)

FloatArray = NDArray[np.float64]


def _scalar(
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = True,
    high_open: bool = False,
    unit: str = "",
) -> float:
    """Validate a real scalar parameter against its allowed range."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (
            math.isfinite(v)
            and (v > low if low_open else v >= low)
            and (v < high if high_open else v <= high)
        )
    if not ok:
        lo = ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if math.isinf(high) else f"{high:g}" + (")" if high_open else "]")
        suffix = f" ({unit})" if unit else ""
        raise ValueError(f"{name} must be a finite number in {lo}, {hi}{suffix}, got {value!r}")
    return float(value)


def _array(name: str, x: ArrayLike, *, nonnegative: bool = False) -> FloatArray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if nonnegative and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got a minimum of {arr.min()!r}")
    return arr


def _clip(out: FloatArray, clip: tuple[float, float] | None) -> FloatArray:
    if clip is None:
        return out
    try:
        lo, hi = clip
        lo_f, hi_f = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"clip must be None or a pair (low, high), got {clip!r}") from None
    if not (math.isfinite(lo_f) and math.isfinite(hi_f) and lo_f < hi_f):
        raise ValueError(f"clip must be None or finite (low, high) with low < high, got {clip!r}")
    return np.asarray(np.clip(out, lo_f, hi_f), dtype=np.float64)


def linear(
    x: ArrayLike, *, scale: float = 1.0, clip: tuple[float, float] | None = AFFECT_RANGE
) -> FloatArray:
    """Linear value function ``v(x) = scale * x``.

    Parameters
    ----------
    x : array_like of float
        Experience minus expectation (experience scale, usually -10..10); finite.
    scale : float, default 1.0
        Affect units per experience unit, > 0.
    clip : (float, float) or None, default (-10, 10)
        Clip the result to this affect range; None leaves it unbounded.

    Returns
    -------
    ndarray of float64
        Momentary affect, same shape as ``x``.

    Raises
    ------
    ValueError
        Non-finite ``x``, ``scale`` out of range, malformed ``clip``.
    """
    s = _scalar("scale", scale, 0.0, unit="affect per experience unit")
    out = np.asarray(_array("x", x) * s)
    return _clip(out, clip)


def prospect(
    x: ArrayLike,
    *,
    alpha: float = 0.88,
    beta: float = 0.88,
    loss_aversion: float = 2.25,
    scale: float = 1.0,
    clip: tuple[float, float] | None = AFFECT_RANGE,
) -> FloatArray:
    """Prospect-theory value function (Tversky & Kahneman 1992).

    ``v(x) = scale * x**alpha`` for ``x >= 0`` and
    ``v(x) = -scale * loss_aversion * (-x)**beta`` for ``x < 0``: gains and
    losses against the expectation, with diminishing sensitivity and losses
    weighing more.

    Parameters
    ----------
    x : array_like of float
        Experience minus expectation (experience scale, usually -10..10); finite.
    alpha : float, default 0.88
        Curvature for gains, in (0, 1] (1 is linear).
    beta : float, default 0.88
        Curvature for losses, in (0, 1].
    loss_aversion : float, default 2.25
        Ratio of the weight of a loss to that of an equal gain, > 0 (dimensionless).
    scale : float, default 1.0
        Affect units per (experience unit)**alpha, > 0.
    clip : (float, float) or None, default (-10, 10)
        Clip the result to this affect range; None leaves it unbounded.

    Returns
    -------
    ndarray of float64
        Momentary affect, same shape as ``x``.

    Raises
    ------
    ValueError
        Non-finite ``x`` or a parameter out of its range (the message names it).
    """
    a = _scalar("alpha", alpha, 0.0, 1.0)
    b = _scalar("beta", beta, 0.0, 1.0)
    lam = _scalar("loss_aversion", loss_aversion, 0.0)
    s = _scalar("scale", scale, 0.0, unit="affect per experience unit**alpha")
    xx = _array("x", x)
    mag = np.abs(xx)
    loss_factor = -s * lam
    if b != a:
        out = np.where(xx >= 0, s * mag**a, loss_factor * mag**b)
        return _clip(out, clip)
    # equal curvatures: one power (mag**b is the same array, bit for bit), and each
    # element's factor (scale for a gain, -scale * loss_aversion for a loss) picked
    # from a two-entry table instead of np.where over two products: the same product
    # of the same two floats, so the same bits, in a third of the time
    factor = np.array([loss_factor, s])[(xx >= 0).view(np.uint8)]
    out = factor * mag**a
    return _clip(out, clip)


def value(
    x: ArrayLike,
    *,
    kind: Literal["prospect", "linear"] = "prospect",
    alpha: float = 0.88,
    beta: float = 0.88,
    loss_aversion: float = 2.25,
    scale: float = 1.0,
    clip: tuple[float, float] | None = AFFECT_RANGE,
) -> FloatArray:
    """Delta-law value function ``v``: momentary affect from experience minus expectation.

    Parameters
    ----------
    x : array_like of float
        Experience minus expectation (experience scale, usually -10..10); finite.
    kind : {"prospect", "linear"}, default "prospect"
        Shape of ``v``: :func:`prospect` or :func:`linear`.
    alpha, beta, loss_aversion : float
        Prospect parameters (defaults 0.88, 0.88, 2.25); ignored when
        ``kind="linear"``. See :func:`prospect` for ranges.
    scale : float, default 1.0
        Affect units per experience unit (per unit**alpha for prospect), > 0.
    clip : (float, float) or None, default (-10, 10)
        Clip the result to this affect range; None leaves it unbounded.

    Returns
    -------
    ndarray of float64
        Momentary affect, same shape as ``x``.

    Raises
    ------
    ValueError
        Unknown ``kind``, non-finite ``x`` or a parameter out of its range.
    """
    if kind == "linear":
        return linear(x, scale=scale, clip=clip)
    if kind == "prospect":
        return prospect(
            x, alpha=alpha, beta=beta, loss_aversion=loss_aversion, scale=scale, clip=clip
        )
    raise ValueError(f"kind must be 'prospect' or 'linear', got {kind!r}")


def gift_utility(size: ArrayLike, *, scale: float = 1.0, curvature: float = 0.5) -> FloatArray:
    """Concave utility of a farewell gift: ``scale * size**curvature``.

    Diminishing marginal utility: a gift five times as
    large pleases ``5**curvature`` times as much (about 2.2 times with the
    default), and no gift gives 0.

    Parameters
    ----------
    size : array_like of float
        Gift size in currency units, finite and >= 0.
    scale : float, default 1.0
        Affect of a gift of one currency unit, > 0 (affect units).
    curvature : float, default 0.5
        Exponent in (0, 1]: 1 is linear, smaller is more concave.

    Returns
    -------
    ndarray of float64
        Affect added by the gift (affect units, >= 0), same shape as ``size``;
        not clipped.

    Raises
    ------
    ValueError
        Negative or non-finite ``size``; ``scale`` or ``curvature`` out of range.
    """
    s = _scalar("scale", scale, 0.0, unit="affect units per currency unit**curvature")
    c = _scalar("curvature", curvature, 0.0, 1.0)
    return np.asarray(s * _array("size", size, nonnegative=True) ** c)


def perceived_wait(
    actual: ArrayLike, *, k: float = 1.0, p: float = 1.0, multiplier: ArrayLike = 1.0
) -> FloatArray:
    """Perceived waiting time ``k * actual**p * multiplier`` (minutes).

    A power law of the actual wait (Antonides, Verhoef & van Aalst 2002); ``k``
    above 1 models the overestimate of waits (about a third, Larson), and the
    multiplier Maister's (1985) propositions: below 1 for occupied or explained
    waits (distraction, a display of the expected wait), above 1 for anxious,
    unexplained or unfair ones.

    Parameters
    ----------
    actual : array_like of float
        Actual wait in minutes, finite and >= 0.
    k : float, default 1.0
        Scale factor, > 0 (minutes**(1 - p), so that the result is in minutes).
    p : float, default 1.0
        Exponent, > 0 (below 1: long waits are felt less than proportionally).
    multiplier : float or array_like of float, default 1.0
        Situational factor(s), finite and > 0, broadcast against ``actual``
        (dimensionless).

    Returns
    -------
    ndarray of float64
        Perceived wait in minutes, the broadcast shape of ``actual`` and ``multiplier``.

    Raises
    ------
    ValueError
        Negative or non-finite ``actual``; ``k``, ``p`` or ``multiplier`` out of range.
    """
    kk = _scalar("k", k, 0.0, unit="minutes**(1 - p)")
    pp = _scalar("p", p, 0.0)
    m = _array("multiplier", multiplier)
    if (m <= 0).any():
        raise ValueError(f"multiplier must be > 0, got a minimum of {m.min()!r}")
    t = _array("actual", actual, nonnegative=True)
    return np.asarray(kk * t**pp * m)
