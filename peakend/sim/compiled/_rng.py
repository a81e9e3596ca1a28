"""A chunk of days' random draws compiled (numba): numpy's bits, from numpy's algorithms.

Imported only when :func:`peakend.sim.draws.draw_days` is called with ``compiled=True``.
Everything here reproduces numpy exactly (numpy 1.17+ ``Generator`` over ``PCG64``, seeded
by ``SeedSequence``), so a stream gives the numbers :func:`peakend.sim.sampling.stream`
gives:

* ``SeedSequence``'s entropy-pool hashing and ``generate_state(4, uint64)``
  (``numpy/random/bit_generator.pyx``), and ``PCG64``'s seeding from it (``srandom``:
  step, add the seed, step), for many streams at once (:func:`seed_states`);
* ``PCG64`` (XSL-RR 128/64: step the 128-bit LCG, output ``rotr64(hi ^ lo, hi >> 58)``;
  the 128-bit product from 32-bit pieces) and ``next_double = (next_uint64 >> 11) * 2**-53``;
* ``random_standard_normal`` (numpy's 256-step ziggurat, numpy's tables as numba ships
  them in ``numba.np.random._constants``), ``normal(loc, scale) = loc + scale * gauss``,
  ``uniform(low, high) = low + (high - low) * next_double`` and ``random_poisson``
  (multiplication below ``lam = 10``, PTRS from 10 on, with numpy's ``random_loggam``),
  float64 operations in numpy's order, no fast-math.

A stream's state is a row of 4 uint64: the LCG state's high and low halves, then the
increment's. :func:`draw_chunk` draws every stream of every day of a chunk in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit
from numba.np.random._constants import (
    fi_double,
    ki_double,
    wi_double,
    ziggurat_nor_inv_r,
    ziggurat_nor_r,
)
from numpy.typing import NDArray

from peakend.sim.sampling import (
    KernelPlan,
    name_key,
    seed_words,
    stream,
    stream_key_words,
)

__all__ = [
    "draw_chunk",
    "draw_streams",
    "fill_normal",
    "fill_random",
    "fill_uniform",
    "poisson_many",
    "seed_states",
    "self_check",
    "state_of",
    "warm_up",
]

_KI = np.ascontiguousarray(ki_double, dtype=np.uint64)
_WI = np.ascontiguousarray(wi_double, dtype=np.float64)
_FI = np.ascontiguousarray(fi_double, dtype=np.float64)
_NOR_R = float(ziggurat_nor_r)
_NOR_INV_R = float(ziggurat_nor_inv_r)

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U8 = np.uint64(8)
_U11 = np.uint64(11)
_U16 = np.uint64(16)
_U32 = np.uint64(32)
_U58 = np.uint64(58)
_U63 = np.uint64(63)
_U64 = np.uint64(64)
_FF = np.uint64(0xFF)
_M32 = np.uint64(0xFFFFFFFF)
_M52 = np.uint64(0x000FFFFFFFFFFFFF)
# SeedSequence's hash constants (numpy/random/bit_generator.pyx)
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_L = np.uint64(0xCA01F9DD)
_MIX_R = np.uint64(0x4973F715)
# PCG64's 128-bit multiplier, high and low halves
_PCG_MH = np.uint64(2549297995355413924)
_PCG_ML = np.uint64(4865540595714422341)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53

# random_loggam's coefficients (numpy/random/src/distributions/distributions.c)
_LOGGAM_A = np.array([
    8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
    -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
    6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
    -1.39243221690590e+00,
])


# ----------------------------------------------------------------------------- seeding
@njit(cache=True)
def _hashmix(value: Any, h: Any) -> Any:  # pragma: no cover - compiled
    """SeedSequence's ``hashmix`` of a 32-bit ``value`` with hash constant ``h``.

    Returns the mixed word and the next hash constant (uint32 values in uint64).
    """
    value = value ^ h
    h = (h * _MULT_A) & _M32
    value = (value * h) & _M32
    value ^= value >> _U16
    return value, h


@njit(cache=True)
def _mix(x: Any, y: Any) -> Any:  # pragma: no cover - compiled
    """SeedSequence's ``mix`` of two 32-bit words."""
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> _U16)


@njit(cache=True)
def _mul_hi(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    """Return the high 64 bits of the 128-bit product of two uint64."""
    a_lo = a & _M32
    a_hi = a >> _U32
    b_lo = b & _M32
    b_hi = b >> _U32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _M32) + (p2 & _M32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@njit(cache=True)
def _step(s_hi: Any, s_lo: Any, i_hi: Any, i_lo: Any) -> Any:  # pragma: no cover - compiled
    """One LCG step of PCG64: ``state * MULT + inc`` modulo 2**128, as (high, low)."""
    lo = s_lo * _PCG_ML
    hi = _mul_hi(s_lo, _PCG_ML) + s_lo * _PCG_MH + s_hi * _PCG_ML
    lo2 = lo + i_lo
    carry = _U1 if lo2 < lo else _U0
    return hi + i_hi + carry, lo2


@njit(cache=True)
def seed_states(
    day_words: Any, day_off: Any, pool_size: Any, sfx_words: Any, sfx_off: Any
) -> Any:  # pragma: no cover - compiled
    """PCG64 states of the streams ``(day, suffix)``: ``PCG64(SeedSequence(...))``'s.

    Parameters
    ----------
    day_words : numpy.ndarray of uint32
        Per day, end to end: the root's run entropy as 32-bit words, padded with zeros to
        its pool size when shorter, then the words of its spawn key (numpy's
        ``get_assembled_entropy`` without the stream's own key words).
    day_off : numpy.ndarray of int64
        ``n_days + 1`` offsets into ``day_words``.
    pool_size : numpy.ndarray of int64
        Each day's ``SeedSequence.pool_size``.
    sfx_words, sfx_off : numpy.ndarray of uint32, int64
        Per stream, the further spawn-key words (the stream's index and extra key), and
        ``n_streams + 1`` offsets into them.

    Returns
    -------
    numpy.ndarray of uint64, shape (n_days, n_streams, 4)
        Each stream's state: LCG state high, low, increment high, low.
    """
    n_days = day_off.size - 1
    n_streams = sfx_off.size - 1
    out = np.empty((n_days, n_streams, 4), dtype=np.uint64)
    p_max = 1
    for d in range(n_days):
        p_max = max(p_max, pool_size[d])
    base = np.empty(p_max, dtype=np.uint64)
    pool = np.empty(p_max, dtype=np.uint64)
    words = np.empty(8, dtype=np.uint64)
    for d in range(n_days):
        p = pool_size[d]
        lo_w, hi_w = day_off[d], day_off[d + 1]
        h = _INIT_A
        for i in range(p):  # the first pool_size words (the padded run entropy)
            base[i], h = _hashmix(np.uint64(day_words[lo_w + i]), h)
        for i_src in range(p):
            for i_dst in range(p):
                if i_src != i_dst:
                    v, h = _hashmix(base[i_src], h)
                    base[i_dst] = _mix(base[i_dst], v)
        for j in range(lo_w + p, hi_w):  # the rest of the day's words
            w = np.uint64(day_words[j])
            for i_dst in range(p):
                v, h = _hashmix(w, h)
                base[i_dst] = _mix(base[i_dst], v)
        for s in range(n_streams):
            hs = h
            for i in range(p):
                pool[i] = base[i]
            for j in range(sfx_off[s], sfx_off[s + 1]):
                w = np.uint64(sfx_words[j])
                for i_dst in range(p):
                    v, hs = _hashmix(w, hs)
                    pool[i_dst] = _mix(pool[i_dst], v)
            hb = _INIT_B  # generate_state(4, uint64): 8 words cycling over the pool
            for i in range(8):
                v = pool[i % p] ^ hb
                hb = (hb * _MULT_B) & _M32
                v = (v * hb) & _M32
                words[i] = v ^ (v >> _U16)
            v0 = words[0] | (words[1] << _U32)  # little-endian uint32 pairs
            v1 = words[2] | (words[3] << _U32)
            v2 = words[4] | (words[5] << _U32)
            v3 = words[6] | (words[7] << _U32)
            # seed = v0:v1, inc = (v2:v3 << 1) | 1; srandom: state = (inc + seed) * M + inc
            i_hi = (v2 << _U1) | (v3 >> _U63)
            i_lo = (v3 << _U1) | _U1
            a_lo = i_lo + v1
            a_hi = i_hi + v0 + (_U1 if a_lo < i_lo else _U0)
            s_hi, s_lo = _step(a_hi, a_lo, i_hi, i_lo)
            out[d, s, 0] = s_hi
            out[d, s, 1] = s_lo
            out[d, s, 2] = i_hi
            out[d, s, 3] = i_lo
    return out


# ----------------------------------------------------------------------------- draws
@njit(cache=True)
def _next64(st: Any) -> Any:  # pragma: no cover - compiled
    """PCG64's next uint64 from the state row ``st`` (advanced in place)."""
    hi, lo = _step(st[0], st[1], st[2], st[3])
    st[0] = hi
    st[1] = lo
    x = hi ^ lo
    rot = hi >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63))


@njit(cache=True)
def _next_double(st: Any) -> Any:  # pragma: no cover - compiled
    """Return numpy's ``next_double``: 53 random bits in [0, 1)."""
    return np.float64(_next64(st) >> _U11) * _TO_DOUBLE


@njit(cache=True)
def _gauss(st: Any) -> Any:  # pragma: no cover - compiled
    """Return numpy's ``random_standard_normal`` (the 256-step ziggurat)."""
    while True:
        r = _next64(st)
        idx = r & _FF
        r >>= _U8
        sign = r & _U1
        rabs = (r >> _U1) & _M52
        x = np.float64(rabs) * _WI[idx]
        if sign == _U1:
            x = -x
        if rabs < _KI[idx]:
            return x
        if idx == _U0:
            while True:
                xx = -_NOR_INV_R * np.log1p(-_next_double(st))
                yy = -np.log1p(-_next_double(st))
                if yy + yy > xx * xx:
                    if (rabs >> _U8) & _U1:
                        return -(_NOR_R + xx)
                    return _NOR_R + xx
        else:
            if (_FI[idx - _U1] - _FI[idx]) * _next_double(st) + _FI[idx] < np.exp(
                -0.5 * x * x
            ):
                return x


@njit(cache=True)
def _loggam(x: Any) -> Any:  # pragma: no cover - compiled
    """Return numpy's ``random_loggam``: log Gamma(x) for the PTRS acceptance test."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = np.int64(0)
    if x < 7.0:
        n = np.int64(7 - x)
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    lg2pi = 1.8378770664093453e00
    gl0 = _LOGGAM_A[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_A[k]
    gl = gl0 / x0 + 0.5 * lg2pi + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(1, n + 1):
            gl -= np.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(cache=True)
def _poisson(st: Any, lam: float) -> Any:  # pragma: no cover - compiled
    """Return numpy's ``random_poisson``: multiplication below 10, PTRS (Hoermann 1993) above."""
    if lam >= 10:
        slam = np.sqrt(lam)
        loglam = np.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = _next_double(st) - 0.5
            v = _next_double(st)
            us = 0.5 - np.fabs(u)
            k = np.int64(np.floor((2 * a / us + b) * u + lam + 0.43))
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= (
                -lam + k * loglam - _loggam(np.float64(k + 1))
            ):
                return k
    if lam == 0:
        return np.int64(0)
    enlam = np.exp(-lam)
    x = np.int64(0)
    prod = 1.0
    while True:
        prod *= _next_double(st)
        if prod > enlam:
            x += 1
        else:
            return x


# ------------------------------------------------------- single streams (the self-check)
@njit(cache=True)
def fill_random(st: Any, n: int) -> Any:  # pragma: no cover - compiled
    """``Generator.random(n)`` from the state row ``st`` (advanced in place)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = _next_double(st)
    return out


@njit(cache=True)
def fill_uniform(st: Any, n: int, low: float, high: float) -> Any:  # pragma: no cover
    """``Generator.uniform(low, high, n)`` from the state row ``st``."""
    rng = high - low
    out = np.empty(n)
    for i in range(n):
        out[i] = low + rng * _next_double(st)
    return out


@njit(cache=True)
def fill_normal(st: Any, n: int, loc: float, scale: float) -> Any:  # pragma: no cover
    """``Generator.normal(loc, scale, n)`` from the state row ``st``."""
    out = np.empty(n)
    for i in range(n):
        out[i] = loc + scale * _gauss(st)
    return out


@njit(cache=True)
def poisson_many(st: Any, lam: float, n: int) -> Any:  # pragma: no cover - compiled
    """``n`` successive ``Generator.poisson(lam)`` draws from the state row ``st``."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = _poisson(st, lam)
    return out


# ----------------------------------------------------------------------------- a chunk
@njit(cache=True)
def draw_chunk(
    states: Any,
    starts: Any,
    rates: Any,
    lam_max: float,
    horizon: float,
    i_patience: int,
    i_experience: int,
    i_advice: int,
    n_noise: int,
    tel_stream: Any,
    tel_size: Any,
    tel_mean: Any,
    tel_sd: Any,
    adv_stream: Any,
    adv_mean: Any,
    adv_sd: Any,
) -> Any:  # pragma: no cover - compiled
    """Every random number of a chunk of days, as ``peakend.sim.draws.draw_days`` draws them.

    Parameters
    ----------
    states : numpy.ndarray of uint64, shape (n_days, n_streams, 4)
        The days' streams (:func:`seed_states`) in the order of the draws' plan: arrivals
        (0), mix (1), service (2), then those named by the indices below (not changed).
    starts, rates : numpy.ndarray of float64
        The rate profile (``sampling.arrival_profile``): block starts, minutes from
        opening, and rates per minute.
    lam_max : float
        The largest rate, per minute (0: no arrivals).
    horizon : float
        The opening hours, minutes.
    i_patience, i_experience, i_advice : int
        The streams "patience" (-1: nobody reneges), "experience" and "advice" (-1: no
        advice).
    n_noise : int
        Noise columns per customer.
    tel_stream, tel_size, tel_mean, tel_sd : numpy.ndarray
        Per counter group: its "tellers" stream, its number of tellers and the quality
        level's mean and sd, points.
    adv_stream, adv_mean, adv_sd : numpy.ndarray
        Per counter group: its "advice_tellers" stream and the advice level's mean and sd
        (used when ``i_advice >= 0``).

    Returns
    -------
    times : numpy.ndarray of float64
        The days' arrival times end to end (``sampling.thin``), minutes.
    sizes : numpy.ndarray of int64
        Customers per day.
    u : numpy.ndarray of float64, shape (n, 4)
        The "mix" uniforms.
    u_service, u_patience : numpy.ndarray of float64
        The "service" and "patience" uniforms (``u_patience`` empty without reneging).
    noise : numpy.ndarray of float64, shape (n, n_noise)
        Standard normals of the "experience" stream.
    advice_noise : numpy.ndarray of float64
        Standard normals of the "advice" stream (empty without advice).
    quality, advice : numpy.ndarray of float64, shape (n_days, sum(tel_size))
        The teller levels per day, the groups side by side, before clipping (``advice``
        has no columns without advice).
    """
    n_days = states.shape[0]
    n_groups = tel_stream.size
    st = np.empty(4, dtype=np.uint64)
    counts = np.zeros(n_days, dtype=np.int64)
    after = np.empty((n_days, 4), dtype=np.uint64)  # the arrivals streams after the count
    mean_n = lam_max * horizon
    total = 0
    if lam_max > 0:
        for d in range(n_days):
            st[:] = states[d, 0]
            counts[d] = _poisson(st, mean_n)
            after[d] = st
            total += counts[d]
    times = np.empty(total)
    sizes = np.zeros(n_days, dtype=np.int64)
    cand = np.empty(total)
    n_blocks = starts.size
    rng = horizon - 0.0
    pos = 0
    for d in range(n_days):
        c = counts[d]
        if c == 0:
            continue
        st[:] = after[d]
        for i in range(c):
            cand[i] = 0.0 + rng * _next_double(st)
        srt = np.sort(cand[:c])
        kept = 0
        for i in range(c):
            t = srt[i]
            u = _next_double(st)
            lo, hi = 0, n_blocks  # searchsorted(starts, t, side="right")
            while lo < hi:
                mid = (lo + hi) >> 1
                if starts[mid] <= t:
                    lo = mid + 1
                else:
                    hi = mid
            if u * lam_max < rates[lo - 1]:
                times[pos + kept] = t
                kept += 1
        sizes[d] = kept
        pos += kept
    n = pos
    u4 = np.empty((n, 4))
    u_service = np.empty(n)
    u_patience = np.empty(n if i_patience >= 0 else 0)
    noise = np.empty((n, n_noise))
    advice_noise = np.empty(n if i_advice >= 0 else 0)
    n_tel = 0
    for g in range(n_groups):
        n_tel += tel_size[g]
    quality = np.empty((n_days, n_tel))
    advice = np.empty((n_days, n_tel if i_advice >= 0 else 0))
    lo_c = 0
    for d in range(n_days):
        hi_c = lo_c + sizes[d]
        st[:] = states[d, 1]
        for i in range(lo_c, hi_c):
            for j in range(4):
                u4[i, j] = _next_double(st)
        st[:] = states[d, 2]
        for i in range(lo_c, hi_c):
            u_service[i] = _next_double(st)
        if i_patience >= 0:
            st[:] = states[d, i_patience]
            for i in range(lo_c, hi_c):
                u_patience[i] = _next_double(st)
        st[:] = states[d, i_experience]
        for i in range(lo_c, hi_c):
            for j in range(n_noise):
                noise[i, j] = _gauss(st)
        col = 0
        if i_advice >= 0:
            st[:] = states[d, i_advice]
            for i in range(lo_c, hi_c):
                advice_noise[i] = _gauss(st)
            for g in range(n_groups):
                st[:] = states[d, adv_stream[g]]
                for k in range(tel_size[g]):
                    advice[d, col + k] = adv_mean[g] + adv_sd[g] * _gauss(st)
                col += tel_size[g]
        col = 0
        for g in range(n_groups):
            st[:] = states[d, tel_stream[g]]
            for k in range(tel_size[g]):
                quality[d, col + k] = tel_mean[g] + tel_sd[g] * _gauss(st)
            col += tel_size[g]
        lo_c = hi_c
    return (
        times[:n], sizes, u4, u_service, u_patience, noise, advice_noise, quality, advice
    )


# ----------------------------------------------------------------------------- Python side
def draw_streams(kp: KernelPlan, seeds: Sequence[int | np.random.SeedSequence]) -> Any:
    """Every random number of the days of ``seeds``: :func:`seed_states`, :func:`draw_chunk`.

    Returns :func:`draw_chunk`'s arrays as ``peakend.sim.draws._numpy_raw`` returns them:
    None for the patience uniforms without reneging and the advice normals without advice,
    the teller levels split per counter group (dicts of ``(n_days, tellers)`` views; no
    advice levels without advice).
    """
    states = seed_states(*seed_words(seeds), kp.sfx_words, kp.sfx_off)
    times, sizes, u, us, up, noise, adv, quality, advice = draw_chunk(states, *kp.args)
    with_advice = kp.args[6] >= 0
    levels, adv_levels = {}, {}
    for g, lo, hi in zip(kp.groups, kp.tel_off[:-1], kp.tel_off[1:], strict=True):
        levels[g] = quality[:, lo:hi]
        if with_advice:
            adv_levels[g] = advice[:, lo:hi]
    if kp.args[4] < 0:  # nobody reneges
        up = None
    return times, sizes, u, us, up, noise, adv if with_advice else None, levels, adv_levels


def state_of(row: NDArray[np.uint64]) -> dict[str, int]:
    """Return ``PCG64.state["state"]`` of a stream's state row (:func:`seed_states`)."""
    return {"state": (int(row[0]) << 64) | int(row[1]), "inc": (int(row[2]) << 64) | int(row[3])}


def self_check() -> bool:
    """Whether these kernels give numpy's bits here, on a probe.

    Streams of two roots (one with an entropy longer than its pool of 8 words, one with a
    spawn-key word of 33 bits): the seeded states, and from each stream ``random``,
    ``uniform``, ``standard_normal`` (enough for the ziggurat's rare branches), ``normal``
    and ``poisson`` below and above 10, still in step after them.
    """
    roots = [
        np.random.SeedSequence(20261202, spawn_key=(3, 1 << 33)),
        np.random.SeedSequence(2**300 + 5, spawn_key=(7,), pool_size=8),
    ]
    names = [("tellers", (name_key("general"),)), ("mix", ()), ("experience", ())]
    states = seed_states(*seed_words(roots), *stream_key_words(names))
    for d, root in enumerate(roots):
        for s, (name, extra) in enumerate(names):
            rng = stream(root, name, *extra)
            st = states[d, s].copy()
            if state_of(st) != rng.bit_generator.state["state"]:
                return False
            pairs = [
                (rng.random(300), fill_random(st, 300)),
                (rng.uniform(0.0, 540.0, 300), fill_uniform(st, 300, 0.0, 540.0)),
                (rng.standard_normal(3000), fill_normal(st, 3000, 0.0, 1.0)),
                (rng.normal(6.5, 1.5, 300), fill_normal(st, 300, 6.5, 1.5)),
            ]
            for lam in (0.0, 2.5, 10.0, 35.0, 4321.5):
                pairs.append(
                    (np.array([rng.poisson(lam) for _ in range(20)]), poisson_many(st, lam, 20))
                )
            pairs.append((rng.random(5), fill_random(st, 5)))  # still in step
            for a, b in pairs:
                if a.dtype != b.dtype or a.shape != b.shape:
                    return False
                if a.dtype.kind == "f":
                    a, b = a.view(np.uint64), b.view(np.uint64)
                if not np.array_equal(a, b):
                    return False
    return True


def warm_up() -> None:
    """Load (or compile) :func:`seed_states` and :func:`draw_chunk` now, on an empty chunk.

    With the argument types :func:`draw_streams` passes, so that the same compiled
    versions are loaded (``peakend.sim.draws.warm_up`` calls it after the self-check).
    """
    i8, f8 = np.zeros(0, dtype=np.int64), np.zeros(0)
    one = np.zeros(1, dtype=np.int64)
    states = seed_states(np.zeros(0, dtype=np.uint32), one, i8, np.zeros(0, dtype=np.uint32), one)
    draw_chunk(
        np.zeros((0, 0, 4), dtype=np.uint64), f8, f8, 0.0, 0.0, -1, 0, -1, 0, i8, i8, f8, f8,
        i8, f8, f8,
    )
    del states
