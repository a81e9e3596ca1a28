"""Compiled (numba) scoring engine for :mod:`peakend.memory`.

Imported only when a scoring call selects the numba engine (``engine="numba"``,
or ``engine="auto"`` with numba installed), never by ``import peakend``; the
kernels are compiled on first use and cached on disk (``cache=True``).

One fused pass per journey computes everything the requested rules need (the
extremes, sums, the end, the areas with durations, the trend's later-part
sums, the recency weights) and writes each rule's value directly, so that a
call reads the affect array once and allocates nothing of its size. Journeys
are processed in chunks spread over threads (``prange``); each journey is
computed by one thread with a fixed order of operations, so results do not
depend on the number of threads.

The kernels reproduce the NumPy engine operation by operation: sums follow
NumPy's pairwise summation as used by ``np.add.reduceat`` (first element,
then the pairwise sum of the rest), the extremes are those of the NumPy
engine's integer reductions over the bit patterns (computed in floating point
from the sign bits: the same values, signed zeros included), and the tables
of the windowed end and of recency without durations are the NumPy engine's
own. Where the NumPy engine derives
per-episode times from a cumulative sum across many journeys (durations given:
the windowed end, trend and recency) the kernels restart it at each journey,
which changes the last bits only. See ``docs/reference/memory-rules.md``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
from numba import get_parallel_chunksize, njit, prange, set_parallel_chunksize

from peakend.memory import RULE_NAMES

__all__ = ["PEAK_END", "RULE_CODES", "first_bad_duration", "first_decrease", "run"]

#: Rule name -> kernel code: the position in :data:`peakend.memory.RULE_NAMES`.
RULE_CODES: dict[str, int] = {name: code for code, name in enumerate(RULE_NAMES)}
PEAK_END = RULE_CODES["peak_end"]
WEIGHTED_PEAK_END = RULE_CODES["weighted_peak_end"]
BEST_WORST_END = RULE_CODES["best_worst_end"]
MEAN = RULE_CODES["mean"]
INTEGRAL = RULE_CODES["integral"]
TIME_WEIGHTED_MEAN = RULE_CODES["time_weighted_mean"]
PEAK = RULE_CODES["peak"]
END = RULE_CODES["end"]
TREND = RULE_CODES["trend"]
RECENCY = RULE_CODES["recency"]
if len(RULE_CODES) != 10:  # a new built-in rule needs a kernel branch in _score_chunks
    raise ImportError(f"peakend._kernels has no kernel for the rules {sorted(RULE_CODES)}")

#: journeys per parallel work item (each item allocates its scratch buffer once)
CHUNK_JOURNEYS = 4096

# numba's default threading layer (workqueue) must not be entered by two Python
# threads at once; calls from threads (e.g. a threaded Dask worker) take turns
_LOCK = threading.Lock()


@njit(cache=True)
def _leaf_sum(x: Any, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """NumPy's pairwise summation of a block of at most 128 values, in float64."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += np.float64(x[i])
        return res
    r0 = np.float64(x[lo])
    r1 = np.float64(x[lo + 1])
    r2 = np.float64(x[lo + 2])
    r3 = np.float64(x[lo + 3])
    r4 = np.float64(x[lo + 4])
    r5 = np.float64(x[lo + 5])
    r6 = np.float64(x[lo + 6])
    r7 = np.float64(x[lo + 7])
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += np.float64(x[lo + i])
        r1 += np.float64(x[lo + i + 1])
        r2 += np.float64(x[lo + i + 2])
        r3 += np.float64(x[lo + i + 3])
        r4 += np.float64(x[lo + i + 4])
        r5 += np.float64(x[lo + i + 5])
        r6 += np.float64(x[lo + i + 6])
        r7 += np.float64(x[lo + i + 7])
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += np.float64(x[lo + i])
        i += 1
    return res


@njit(cache=True)
def _half(n: int) -> int:  # pragma: no cover - compiled
    """Where NumPy's pairwise summation splits ``n > 128`` values."""
    n2 = n // 2
    return n2 - n2 % 8


@njit(cache=True)
def _pairwise(x: Any, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """NumPy's pairwise summation (``pairwise_sum``) of ``x[lo:lo + n]`` in float64.

    Blocks of at most 128 values are summed with eight accumulators; longer runs
    are split in two (at a multiple of 8) and the halves added. The recursion is
    unrolled over an explicit stack (recursive functions compile slowly).
    """
    if n <= 128:
        return _leaf_sum(x, lo, n)
    # frames: start, length, whether the left half is done, and its sum
    f_lo = np.empty(64, dtype=np.int64)
    f_n = np.empty(64, dtype=np.int64)
    f_right = np.zeros(64, dtype=np.bool_)
    f_left = np.empty(64)
    top = 0
    f_lo[0] = lo
    f_n[0] = n
    f_right[0] = False
    result = 0.0
    while top >= 0:
        cn = f_n[top]
        if cn > 128:  # descend into the left half
            n2 = _half(cn)
            f_lo[top + 1] = f_lo[top]
            f_n[top + 1] = n2
            f_right[top + 1] = False
            top += 1
            continue
        result = _leaf_sum(x, f_lo[top], cn)
        top -= 1
        # hand the finished sum up until a frame still needs its right half
        while top >= 0:
            if not f_right[top]:
                f_left[top] = result
                f_right[top] = True
                n2 = _half(f_n[top])
                f_lo[top + 1] = f_lo[top] + n2
                f_n[top + 1] = f_n[top] - n2
                f_right[top + 1] = False
                top += 1
                break
            result = f_left[top] + result
            top -= 1
    return result


@njit(cache=True)
def _segment_sum(x: Any, lo: int, hi: int) -> float:  # pragma: no cover - compiled
    """``np.add.reduceat`` of one non-empty segment: first element plus the pairwise rest."""
    rest = hi - lo - 1
    if rest < 8:  # the common case, inlined: a plain loop (as in NumPy)
        res = 0.0
        for i in range(lo + 1, hi):
            res += np.float64(x[i])
    else:
        res = _pairwise(x, lo + 1, rest)
    return np.float64(x[lo]) + res


@njit(cache=True)
def _later_part(part: float, n: int) -> int:  # pragma: no cover - compiled
    """Episodes in the trend's later part: ``min(n, max(2, ceil(part * n - 1e-9)))``."""
    m = math.ceil(part * n - 1e-9)
    return min(max(m, 2), n)


@njit(cache=True)
def _reverse_times(d: Any, lo: int, hi: int, total: float, r: Any) -> None:  # pragma: no cover
    """Minutes from each episode's end to the journey's end, as the NumPy engine sums them."""
    acc = total - d[lo]
    r[0] = acc
    for j in range(lo + 1, hi):
        acc = acc - d[j]
        r[j - lo] = acc


@njit(cache=True)
def _windowed_end(
    a: Any, d: Any, has_d: bool, lo: int, hi: int, total: float, window: float, r: Any, buf: Any
) -> float:  # pragma: no cover - compiled
    """Time-average of affect over the final ``window`` minutes of one journey."""
    n = hi - lo
    if has_d:
        for e in range(n):
            w = window - r[e]
            w = min(w, d[lo + e])
            w = max(w, 0.0)
            buf[e] = w * np.float64(a[lo + e])
    else:
        for e in range(n):
            t: float = window - np.float64(n - 1 - e)
            t = min(max(t, 0.0), 1.0)
            buf[e] = t * np.float64(a[lo + e])
    return _segment_sum(buf, 0, n) / min(window, total)


@njit(cache=True)
def _end(
    a: Any, d: Any, has_d: bool, lo: int, hi: int, total: float, window: float, r: Any,
    buf: Any, last: float,
) -> float:  # pragma: no cover - compiled
    """Return the end of one journey: its last affect, or the windowed end if ``window`` is set."""
    if math.isnan(window):
        return last
    return _windowed_end(a, d, has_d, lo, hi, total, window, r, buf)


@njit(cache=True, parallel=True)
def _score_chunks(
    a: Any,
    offsets: Any,
    d: Any,
    has_d: bool,
    flags: Any,
    sum_part: float,
    codes: Any,
    params: Any,
    rec_num: Any,
    rec_den: Any,
    out: Any,
    bad: Any,
) -> None:  # pragma: no cover - compiled
    need_extrema = flags[0]
    need_sum = flags[1] or not need_extrema
    need_area = flags[2]
    need_times = flags[3]
    n_journeys = offsets.size - 1
    n_rules = codes.size
    n_chunks = (n_journeys + CHUNK_JOURNEYS - 1) // CHUNK_JOURNEYS
    for c in prange(n_chunks):
        j0 = c * CHUNK_JOURNEYS
        j1 = min(j0 + CHUNK_JOURNEYS, n_journeys)
        longest = 1
        for i in range(j0, j1):
            longest = max(longest, offsets[i + 1] - offsets[i])
        buf = np.empty(longest)
        r = np.empty(longest)
        n_bad = 0
        for i in range(j0, j1):
            lo = offsets[i]
            hi = offsets[i + 1]
            n = hi - lo
            if n == 0:
                for k in range(n_rules):
                    out[k, i] = np.nan
                continue
            # -- shared passes ---------------------------------------------------
            high = 0.0
            low = 0.0
            peak = 0.0
            check = 0.0
            if need_extrema:
                # the NumPy engine's extremes (integer max-reductions over the bit
                # patterns) in floating point: the largest value with the sign bit
                # clear and the most negative value with it set; without the former
                # high is the most negative value, without the latter low is the largest
                top = -np.inf
                bottom = np.inf
                n_clear = 0
                finite = 0.0
                for j in range(lo, hi):
                    x = np.float64(a[j])
                    negative = math.copysign(1.0, x) < 0.0
                    top = max(top, -np.inf if negative else x)
                    bottom = min(bottom, x if negative else np.inf)
                    n_clear += 0 if negative else 1
                    finite += x - x  # NaN if x is NaN or inf
                high = top if n_clear > 0 else bottom
                low = bottom if n_clear < n else top
                ext = high + low
                peak = low if ext <= 0 else high
                check = finite
            total_affect = 0.0
            if not need_sum:
                pass
            elif sum_part > 0.0:
                m = _later_part(sum_part, n)
                later = _segment_sum(a, hi - m, hi)
                early = _segment_sum(a, lo, hi - m) if n > m else 0.0
                total_affect = early + later
            elif n <= 8:  # _segment_sum's common case, written out (no call per journey)
                rest = 0.0
                for j in range(lo + 1, hi):
                    rest += np.float64(a[j])
                total_affect = np.float64(a[lo]) + rest
            else:
                total_affect = _segment_sum(a, lo, hi)
            if not need_extrema:
                check = total_affect
            if not math.isfinite(check):
                n_bad += 1
            last: float = np.float64(a[hi - 1])
            if has_d:
                total = _segment_sum(d, lo, hi)
                area = 0.0
                if need_area:
                    for e in range(n):
                        buf[e] = np.float64(a[lo + e]) * d[lo + e]
                    area = _segment_sum(buf, 0, n)
                if need_times:
                    _reverse_times(d, lo, hi, total, r)
            else:
                total = np.float64(n)
                area = total_affect
            # -- rules -------------------------------------------------------------
            for k in range(n_rules):
                code = codes[k]
                p0 = params[k, 0]
                p1 = params[k, 1]
                p2 = params[k, 2]
                p3 = params[k, 3]
                v = 0.0
                end = last
                if code == PEAK_END or code == END:
                    end = _end(a, d, has_d, lo, hi, total, p0, r, buf, last)
                    if code == END:
                        v = end
                    else:
                        v = peak + end
                        v *= 0.5
                elif code == WEIGHTED_PEAK_END or code == BEST_WORST_END:
                    end = _end(a, d, has_d, lo, hi, total, p3, r, buf, last)
                    if code == WEIGHTED_PEAK_END:
                        v = p0 * peak + p1 * end
                        if p2 != 0.0:
                            v += p2 * (total_affect / np.float64(n))
                    else:
                        best = high if high >= 0.0 else 0.0
                        worst = low if low <= 0.0 else 0.0
                        v = p0 * best
                        v += p1 * worst
                        v += p2 * end
                elif code == MEAN:
                    v = total_affect / np.float64(n)
                elif code == INTEGRAL:
                    v = area
                elif code == TIME_WEIGHTED_MEAN or (code == RECENCY and p0 == 0.0):
                    v = area / total
                elif code == PEAK:
                    v = peak
                elif code == TREND:
                    if p1 == 0.0:
                        v = last
                    else:
                        m = _later_part(p0, n)
                        mf = np.float64(m)
                        s = hi - m  # first episode of the later part
                        if m <= 8:
                            rest = 0.0
                            for j in range(s + 1, hi):
                                rest += np.float64(a[j])
                            sa: float = np.float64(a[s]) + rest
                        else:
                            sa = _segment_sum(a, s, hi)
                        if has_d:
                            # u: time before the journey's end of each episode's midpoint
                            for j in range(s, hi):
                                buf[j - s] = r[j - lo] + 0.5 * d[j]
                            su = _segment_sum(buf, 0, m)
                            for j in range(s, hi):
                                buf[j - s] = (r[j - lo] + 0.5 * d[j]) * np.float64(a[j])
                            sua = _segment_sum(buf, 0, m)
                            for j in range(s, hi):
                                u = r[j - lo] + 0.5 * d[j]
                                buf[j - s] = u * u
                            suu = _segment_sum(buf, 0, m)
                            sxx = suu - su * su / mf
                            neg_sxy = su * sa / mf - sua
                        else:
                            if m <= 8:
                                rest = 0.0
                                for j in range(s + 1, hi):
                                    rest += np.float64(hi - 1 - j) * np.float64(a[j])
                                sra: float = np.float64(hi - 1 - s) * np.float64(a[s]) + rest
                            else:
                                for j in range(s, hi):
                                    buf[j - s] = np.float64(hi - 1 - j) * np.float64(a[j])
                                sra = _segment_sum(buf, 0, m)
                            neg_sxy = (mf - 1) * 0.5
                            neg_sxy *= sa
                            neg_sxy -= sra
                            sxx = mf * mf
                            sxx -= 1
                            sxx *= mf / 12
                        slope = neg_sxy / sxx if (m > 1 and sxx > 0) else 0.0
                        v = last + p1 * slope
                else:  # RECENCY with decay > 0
                    if has_d:
                        for k2 in range(n):
                            w = math.exp(r[k2] * -p0)
                            w *= math.expm1(d[lo + k2] * -p0)
                            buf[k2] = w * np.float64(a[lo + k2])
                        v = _segment_sum(buf, 0, n) / math.expm1(-p0 * total)
                    else:
                        q = int(p1)
                        if n <= 8:
                            rest = 0.0
                            for k2 in range(1, n):
                                rest += rec_num[q, n - 1 - k2] * np.float64(a[lo + k2])
                            num: float = rec_num[q, n - 1] * np.float64(a[lo]) + rest
                        else:
                            for k2 in range(n):
                                buf[k2] = rec_num[q, n - 1 - k2] * np.float64(a[lo + k2])
                            num = _segment_sum(buf, 0, n)
                        v = num * (p2 / rec_den[q, n])
                out[k, i] = v
        bad[c] = n_bad


@njit(cache=True)
def first_decrease(offsets: Any) -> int:  # pragma: no cover - compiled
    """Index ``i`` of the first ``offsets[i + 1] < offsets[i]``, or -1."""
    for i in range(offsets.size - 1):
        if offsets[i + 1] < offsets[i]:
            return i
    return -1


@njit(cache=True)
def first_bad_duration(d: Any) -> int:  # pragma: no cover - compiled
    """Index of the first duration that is not finite and > 0, or -1."""
    for i in range(d.size):
        x = d[i]
        if not (x > 0.0 and x < np.inf):
            return i
    return -1


def run(
    affect: np.ndarray,
    offsets: np.ndarray,
    durations: np.ndarray | None,
    codes: np.ndarray,
    params: np.ndarray,
    flags: tuple[bool, bool, bool, bool],
    sum_part: float,
    rec_num: np.ndarray,
    rec_den: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Score all journeys with the encoded rules.

    Parameters
    ----------
    affect : ndarray of float32 or float64
        Validated affect (float32 is copied to float64).
    offsets : ndarray of int64, C-contiguous
        Validated offsets.
    durations : ndarray of float64 or None
        Validated durations (minutes).
    codes : ndarray of int64, shape (n_rules,)
        Rule codes (:data:`RULE_CODES`).
    params : ndarray of float64, shape (n_rules, 4)
        Rule parameters in the order the kernel reads them (NaN for no end window).
    flags : tuple of bool
        Shared passes needed: the extremes (peak, best, worst), the journey
        sums, the areas with durations, the reverse times with durations.
    sum_part : float
        The trend part whose split sums give the journey sums (as in the NumPy
        engine when a trend is scored), or 0 for the plain sums.
    rec_num, rec_den : ndarray of float64, 2-D
        Per recency rule without durations: ``exp(-decay * k)`` and
        ``expm1(-decay * k)`` for ``k = 0, 1, ...`` (computed by NumPy).

    Returns
    -------
    values : ndarray of float64, shape (n_rules, n_journeys)
        One row per rule; NaN for empty journeys.
    suspect : bool
        True when a per-journey check value was not finite: affect may hold NaN
        or inf (the caller confirms with an exact scan).
    """
    n_journeys = offsets.size - 1
    n_chunks = (n_journeys + CHUNK_JOURNEYS - 1) // CHUNK_JOURNEYS
    # one compiled signature only (compiling costs seconds): float32 affect is widened to
    # float64, exactly, as the NumPy engine's float64 sums and comparisons see it
    a = np.ascontiguousarray(affect, dtype=np.float64)
    has_d = durations is not None
    d = np.ascontiguousarray(durations) if has_d else np.empty(0)
    out = np.empty((codes.size, n_journeys))
    bad = np.zeros(n_chunks, dtype=np.int64)
    with _LOCK:
        # hand out chunks of journeys one at a time (not one equal share per thread), so
        # that a thread slowed down by another process does not hold up the call
        saved = get_parallel_chunksize()
        set_parallel_chunksize(1)
        try:
            _score_chunks(
                a,
                offsets,
                d,
                has_d,
                np.array(flags, dtype=np.bool_),
                sum_part,
                codes,
                params,
                rec_num,
                rec_den,
                out,
                bad,
            )
        finally:
            set_parallel_chunksize(saved)
    return out, bool(bad.any())
