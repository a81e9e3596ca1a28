"""Plain-loop reference implementation of the memory rules, for tests only.

Written from the definitions in docs/reference/memory-rules.md, one journey
at a time with Python floats and explicit episode intervals, sharing no code
with ``peakend.memory`` (which is vectorized over journeys with reduceat).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULTS: dict[str, dict[str, Any]] = {
    "peak_end": {"end_window": None},
    "weighted_peak_end": {"w_peak": 0.5, "w_end": 0.5, "w_mean": 0.0, "end_window": None},
    "best_worst_end": {"w_best": 0.5, "w_worst": 0.5, "w_end": 0.5, "end_window": None},
    "mean": {},
    "integral": {},
    "time_weighted_mean": {},
    "peak": {},
    "end": {"end_window": None},
    "trend": {"part": 0.5, "horizon": 1.0},
    "recency": {"decay": 0.2},
}


def _peak(a: Sequence[float]) -> float:
    best = a[0]
    for x in a[1:]:
        if abs(x) > abs(best) or (abs(x) == abs(best) and x < best):
            best = x
    return best


def _intervals(d: Sequence[float]) -> list[tuple[float, float]]:
    out, t = [], 0.0
    for dk in d:
        out.append((t, t + dk))
        t += dk
    return out


def _end(a: Sequence[float], d: Sequence[float], window: float | None) -> float:
    if window is None:
        return a[-1]
    iv = _intervals(d)
    total = iv[-1][1]
    lo = max(0.0, total - window)
    num = 0.0
    for x, (s, e) in zip(a, iv, strict=True):
        num += x * max(0.0, e - max(s, lo))
    return num / (total - lo)


def _mean(a: Sequence[float]) -> float:
    return math.fsum(a) / len(a)


def _integral(a: Sequence[float], d: Sequence[float]) -> float:
    return math.fsum(x * dk for x, dk in zip(a, d, strict=True))


def _twm(a: Sequence[float], d: Sequence[float]) -> float:
    return _integral(a, d) / math.fsum(d)


def _trend(a: Sequence[float], d: Sequence[float], part: float, horizon: float) -> float:
    n = len(a)
    m = min(n, max(2, math.ceil(part * n - 1e-9)))
    iv = _intervals(d)[n - m :]
    y = list(a[n - m :])
    if m < 2:
        slope = 0.0
    else:
        t = [(s + e) / 2 for s, e in iv]
        tbar, ybar = sum(t) / m, sum(y) / m
        sxx = sum((ti - tbar) ** 2 for ti in t)
        sxy = sum((ti - tbar) * (yi - ybar) for ti, yi in zip(t, y, strict=True))
        slope = sxy / sxx
    return a[-1] + horizon * slope


def _recency(a: Sequence[float], d: Sequence[float], decay: float) -> float:
    if decay == 0:
        return _twm(a, d)
    iv = _intervals(d)
    total = iv[-1][1]
    # weight of an episode: integral over [s, e] of exp(-decay * (T - t)) dt (times decay)
    w = [math.exp(-decay * (total - e)) * -math.expm1(-decay * (e - s)) for s, e in iv]
    return sum(wk * x for wk, x in zip(w, a, strict=True)) / sum(w)


def score_one(a: Sequence[float], d: Sequence[float], rule: str, **params: Any) -> float:
    """Score one non-empty journey (affects ``a``, durations ``d`` in minutes)."""
    p = {**DEFAULTS[rule], **params}
    if rule == "peak_end":
        return (_peak(a) + _end(a, d, p["end_window"])) / 2
    if rule == "weighted_peak_end":
        return (
            p["w_peak"] * _peak(a)
            + p["w_end"] * _end(a, d, p["end_window"])
            + p["w_mean"] * _mean(a)
        )
    if rule == "best_worst_end":
        return (
            p["w_best"] * max(0.0, max(a))
            + p["w_worst"] * min(0.0, min(a))
            + p["w_end"] * _end(a, d, p["end_window"])
        )
    if rule == "mean":
        return _mean(a)
    if rule == "integral":
        return _integral(a, d)
    if rule == "time_weighted_mean":
        return _twm(a, d)
    if rule == "peak":
        return _peak(a)
    if rule == "end":
        return _end(a, d, p["end_window"])
    if rule == "trend":
        return _trend(a, d, p["part"], p["horizon"])
    if rule == "recency":
        return _recency(a, d, p["decay"])
    raise KeyError(rule)


def reference_score(
    affect: Any, offsets: Any, durations: Any = None, rule: str = "peak_end", **params: Any
) -> np.ndarray:
    """Score every journey with a Python loop over journeys (NaN for empty ones)."""
    out = []
    for i in range(len(offsets) - 1):
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        a = [float(x) for x in affect[lo:hi]]
        d = [1.0] * len(a) if durations is None else [float(x) for x in durations[lo:hi]]
        out.append(score_one(a, d, rule, **params) if a else math.nan)
    return np.array(out, dtype=np.float64)
