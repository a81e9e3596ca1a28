"""Random draws for one simulated day, made up front and per customer.

Every source of randomness has its own stream derived from the day's
:class:`numpy.random.SeedSequence` without mutating it, and every per-customer
quantity is drawn by inverse transform from one uniform (or one normal) per
potential customer, in arrival order. A policy that changes staffing therefore
sees exactly the same customers, business, service times and patience: common
random numbers.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import (
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Scenario,
    Weibull,
)

__all__ = [
    "STREAMS",
    "arrival_profile",
    "arrival_times",
    "as_seed_sequence",
    "ppf",
    "stream",
    "stream_states",
    "thin",
]

#: Named random streams: index into the day's SeedSequence spawn key.
STREAMS: dict[str, int] = {
    "arrivals": 0,
    "mix": 1,
    "service": 2,
    "patience": 3,
    "experience": 4,
    "tellers": 5,
    "advice": 6,
    "advice_tellers": 7,
    # further service stages (peakend.sim.network), one stream per stage (and group)
    "routing": 8,
    "stage_service": 9,
    "stage_patience": 10,
    "stage_experience": 11,
    "stage_tellers": 12,
}


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Return ``seed`` as a SeedSequence (an int becomes ``SeedSequence(seed)``).

    Raises
    ------
    ValueError
        If ``seed`` is a negative int or not an int / SeedSequence.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed: must be an int >= 0 or a numpy SeedSequence, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed: must be >= 0, got {seed}")
    return np.random.SeedSequence(int(seed))


def stream(root: np.random.SeedSequence, name: str, *extra: int) -> np.random.Generator:
    """Return the generator of the named stream, derived from ``root`` without spawning.

    ``root`` is not mutated (``SeedSequence.spawn`` would advance it), so the
    same SeedSequence always gives the same streams.
    """
    key = (*tuple(root.spawn_key), STREAMS[name], *extra)
    seq = np.random.SeedSequence(root.entropy, spawn_key=key, pool_size=root.pool_size)
    return np.random.Generator(np.random.PCG64(seq))


# SeedSequence's hash constants (numpy/random/bit_generator.pyx) and PCG64's multiplier
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _M32, _M128 = 0xCA01F9DD, 0x4973F715, 0xFFFFFFFF, (1 << 128) - 1
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341


def _hash_consts(start: int, mult: int, count: int) -> list[int]:
    """Return the ``count`` successive hash constants of SeedSequence (independent of data)."""
    out, h = [], start
    for _ in range(count):
        out.append(h)
        h = (h * mult) & _M32
    return out


@functools.lru_cache(maxsize=64)
def _hash_consts_cached(start: int, mult: int, count: int) -> tuple[int, ...]:
    return tuple(_hash_consts(start, mult, count))


@functools.lru_cache(maxsize=64)
def _run_pool(run: tuple[int, ...], pool_size: int) -> tuple[int, ...]:
    """SeedSequence's pool after the words of its run entropy (padded to the pool size).

    The first two steps of ``SeedSequence.mix_entropy`` read only the first
    ``pool_size`` entropy words, the run entropy: every stream of the days of one seed
    shares them, so they are computed once (Python ints, modulo 2**32).
    """
    consts = iter(_hash_consts(_INIT_A, _MULT_A, pool_size * pool_size))

    def hashmix(value: int) -> int:
        h = next(consts)
        v = ((value ^ h) * ((h * _MULT_A) & _M32)) & _M32
        return v ^ (v >> 16)

    def mix(x: int, y: int) -> int:
        r = (_MIX_L * x - _MIX_R * y) & _M32
        return r ^ (r >> 16)

    pool = [hashmix(run[i] if i < len(run) else 0) for i in range(pool_size)]
    for i_src in range(pool_size):
        for i_dst in range(pool_size):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    return tuple(pool)


def _pools(
    start: tuple[int, ...], words: NDArray[np.uint32], first: int
) -> NDArray[np.uint32]:
    """``SeedSequence.pool`` for each row of further entropy words (the spawn keys).

    ``start`` is the pool after the run entropy (:func:`_run_pool`), ``first`` the number
    of hash constants used so far; each further word is mixed into every pool word, as in
    the last step of ``SeedSequence.mix_entropy``.
    """
    pool_size = len(start)
    k, length = words.shape
    consts = _hash_consts_cached(_INIT_A, _MULT_A, first + length * pool_size)[first:]
    pool = [np.full(k, x, dtype=np.uint32) for x in start]
    j = 0
    for i_src in range(length):
        word = words[:, i_src]
        for i_dst in range(pool_size):
            h = consts[j]
            j += 1
            v = (word ^ np.uint32(h)) * np.uint32((h * _MULT_A) & _M32)
            v ^= v >> np.uint32(16)
            r = np.uint32(_MIX_L) * pool[i_dst] - np.uint32(_MIX_R) * v
            pool[i_dst] = r ^ (r >> np.uint32(16))
    return np.stack(pool, axis=1) if pool else np.zeros((k, 0), dtype=np.uint32)


def _pcg64_states(pools: NDArray[np.uint32]) -> list[dict[str, Any]]:
    """PCG64's state seeded from each pool, as ``PCG64(SeedSequence)`` seeds it."""
    k, pool_size = pools.shape
    words = np.empty((k, 8), dtype=np.uint32)
    for i, h in enumerate(_hash_consts_cached(_INIT_B, _MULT_B, 8)):  # generate_state(4, u8)
        v = (pools[:, i % pool_size] ^ np.uint32(h)) * np.uint32((h * _MULT_B) & _M32)
        words[:, i] = v ^ (v >> np.uint32(16))
    val = words.astype("<u4").view("<u8").tolist()
    out = []
    for v0, v1, v2, v3 in val:
        seed, inc = (v0 << 64) | v1, (((v2 << 64) | v3) << 1 | 1) & _M128
        state = ((inc + seed) * _PCG_MULT + inc) & _M128  # srandom: step, add, step
        out.append({"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                    "has_uint32": 0, "uinteger": 0})
    return out


def _words(values: tuple[int, ...]) -> list[int]:
    """Return the 32-bit words of non-negative ints, as SeedSequence reads a spawn key."""
    if all(0 <= v <= _M32 for v in values):
        return list(values)
    out = []
    for v in values:
        v = int(v)
        if v == 0:
            out.append(0)
        while v > 0:
            out.append(v & _M32)
            v >>= 32
    return out


def stream_states(
    requests: list[tuple[np.random.SeedSequence, str, tuple[int, ...]]],
) -> list[dict[str, Any]]:
    """Return the PCG64 states of many named streams at once: those :func:`stream` seeds.

    ``stream(root, name, *extra)`` builds a SeedSequence and a PCG64 per stream (about
    13 microseconds); here the SeedSequence hashing of all the requests is vectorized
    with numpy and the generator's state is computed from it, the same bits (pinned
    by ``tests/test_many_days.py`` against numpy's own seeding). Set a ``PCG64``'s
    ``state`` to one of them to draw from that stream.

    Parameters
    ----------
    requests : list of (SeedSequence, str, tuple of int)
        ``(root, name, extra)`` per stream, as the arguments of :func:`stream`.

    Returns
    -------
    list of dict
        ``PCG64.state`` of each stream, in order.
    """
    from numpy.random.bit_generator import (  # type: ignore[attr-defined]
        _coerce_to_uint32_array,
    )

    # requests that share the run entropy and the number of key words go together
    rows: dict[tuple[tuple[int, ...], int, int], list[int]] = {}
    keys: list[list[int]] = []
    runs: dict[int, tuple[int, ...]] = {}
    for i, (root, name, extra) in enumerate(requests):
        key = _words((*root.spawn_key, STREAMS[name], *extra))
        keys.append(key)
        run = runs.get(id(root))
        if run is None:
            run = runs[id(root)] = tuple(int(x) for x in _coerce_to_uint32_array(root.entropy))
        rows.setdefault((run, root.pool_size, len(key)), []).append(i)
    out: list[dict[str, Any]] = [{} for _ in requests]
    for (run, pool_size, n_key), members in rows.items():
        if len(run) > pool_size:  # run entropy longer than the pool: numpy's way
            for i in members:
                root, name, extra = requests[i]
                out[i] = dict(stream(root, name, *extra).bit_generator.state)
            continue
        start = _run_pool(run, pool_size)
        words = np.array([keys[i] for i in members], dtype=np.uint32).reshape(-1, n_key)
        pools = _pools(start, words, pool_size * pool_size)
        for i, st in zip(members, _pcg64_states(pools), strict=True):
            out[i] = st
    return out


def name_key(name: str) -> int:
    """Return a stable integer key (CRC-32) for a name: each teller group gets its own stream."""
    return zlib.crc32(name.encode("utf-8"))


def arrival_times(scenario: Scenario, rng: np.random.Generator) -> NDArray[np.float64]:
    """Potential arrival times by thinning the piecewise-constant rate profile.

    Candidates form a homogeneous Poisson process at the profile's maximum
    rate over the opening hours; a candidate at time ``t`` is kept with
    probability ``rate(t) / max_rate`` (Lewis & Shedler 1979).

    Parameters
    ----------
    scenario : Scenario
        Gives the opening hours and the rate profile (customers per hour).
    rng : numpy.random.Generator
        The arrivals stream.

    Returns
    -------
    numpy.ndarray of float64
        Sorted arrival times, minutes from opening, in ``[0, open_minutes)``.
    """
    return thin(rng, *arrival_profile(scenario))


def arrival_profile(scenario: Scenario) -> tuple[Any, Any, float, float]:
    """Return the rate profile as :func:`thin` takes it: starts, rates, maximum rate, horizon.

    Returns
    -------
    starts, rates : numpy.ndarray
        Block starts (minutes from opening, a leading ``-inf`` block of rate 0) and rates
        per minute.
    lam_max : float
        The largest rate of a block overlapping the opening hours, per minute (0: none).
    horizon : float
        The opening hours, minutes.
    """
    horizon = scenario.open_minutes
    opening = scenario.opening
    blocks = scenario.arrivals.profile
    # a zero-rate block before the first one: no arrivals before the profile starts
    starts = np.array([-np.inf] + [(b.start - opening) * 60.0 for b in blocks])
    rates = np.array([0.0] + [b.rate / 60.0 for b in blocks])  # per minute
    # only blocks overlapping the opening hours matter for the maximum
    ends = np.append(starts[1:], horizon)
    live = ends > 0
    lam_max = float(rates[live].max()) if live.any() else 0.0
    return starts, rates, lam_max, horizon


def thin(
    rng: np.random.Generator, starts: Any, rates: Any, lam_max: float, horizon: float
) -> NDArray[np.float64]:
    """Return arrival times by thinning (:func:`arrival_times`) from :func:`arrival_profile`."""
    if lam_max <= 0:
        return np.empty(0)
    n = int(rng.poisson(lam_max * horizon))
    times = np.sort(rng.uniform(0.0, horizon, n))
    u = rng.random(n)
    rate_at = rates[np.searchsorted(starts, times, side="right") - 1]
    out: NDArray[np.float64] = times[u * lam_max < rate_at]
    return out


def ppf(dist: Any, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse CDF of a duration distribution at probabilities ``u``, minutes.

    Parameters
    ----------
    dist : Exponential, Lognormal, Gamma, Weibull, Deterministic, Empirical or Mixture
        The configured distribution. A mixture picks its component by the cumulative
        weights at ``u`` and takes that component's inverse CDF at ``u`` rescaled to the
        component's slice of ``[0, 1)``: one uniform per draw, so common random numbers
        hold.
    u : numpy.ndarray
        Probabilities in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray of float64
        Durations, minutes, the same shape as ``u``.
    """
    u = np.asarray(u, dtype=np.float64)
    if isinstance(dist, Lognormal | Gamma):
        # imported here: scipy.special is slow to import and only these two need it
        from scipy import special
    if isinstance(dist, Exponential):
        return -dist.mean * np.log1p(-u)
    if isinstance(dist, Lognormal):
        return np.exp(dist.mu + dist.sigma * special.ndtri(u))
    if isinstance(dist, Gamma):
        return np.asarray(dist.scale * special.gammaincinv(dist.shape, u), dtype=np.float64)
    if isinstance(dist, Weibull):
        return np.asarray(dist.lam * (-np.log1p(-u)) ** (1.0 / dist.k), dtype=np.float64)
    if isinstance(dist, Deterministic):
        return np.full(u.shape, dist.value)
    if isinstance(dist, Mixture):
        w = np.asarray(dist.weights, dtype=np.float64)
        upper = np.cumsum(w) / w.sum()
        comp = np.minimum(np.searchsorted(upper, u, side="right"), w.size - 1)
        lower = upper - w / w.sum()
        result = np.empty(u.shape)
        below_one = np.nextafter(1.0, 0.0)
        for j, c in enumerate(dist.components):
            m = comp == j
            if w[j] <= 0 or not m.any():
                continue
            v = np.clip((u[m] - lower[j]) / (upper[j] - lower[j]), 0.0, below_one)
            result[m] = ppf(c, v)
        return result
    if isinstance(dist, Empirical):
        values = np.asarray(dist.values, dtype=np.float64)
        w = np.ones_like(values) if dist.weights is None else np.asarray(dist.weights, float)
        cdf = np.cumsum(w) / w.sum()
        idx = np.minimum(np.searchsorted(cdf, u, side="right"), values.size - 1)
        out: NDArray[np.float64] = values[idx]
        return out
    raise TypeError(f"dist: unknown distribution {type(dist).__name__}")
