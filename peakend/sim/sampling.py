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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.random.bit_generator import (  # type: ignore[attr-defined]
    _coerce_to_uint32_array,
)
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
    "KernelPlan",
    "arrival_profile",
    "arrival_times",
    "as_seed_sequence",
    "kernel_plan",
    "key_words",
    "ppf",
    "seed_words",
    "stream",
    "stream_key_words",
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


@functools.lru_cache(maxsize=256)
def _entropy_words(entropy: int) -> tuple[int, ...]:
    """Return the 32-bit words of an int entropy, as ``SeedSequence`` reads it.

    Cached: the days of a run share their root entropy.
    """
    return tuple(int(x) for x in _coerce_to_uint32_array(entropy))


def key_words(values: tuple[Any, ...]) -> list[int]:
    """Return the 32-bit words of a spawn key, as ``SeedSequence`` reads it."""
    if all(isinstance(v, int) and 0 <= v <= 0xFFFFFFFF for v in values):
        return list(values)
    return [int(x) for x in _coerce_to_uint32_array(values)]


def seed_words(
    seeds: Sequence[int | np.random.SeedSequence],
) -> tuple[NDArray[np.uint32], NDArray[np.int64], NDArray[np.int64]]:
    """Return each seed's assembled entropy before a stream's own key, end to end.

    ``SeedSequence.get_assembled_entropy`` of a :func:`stream` of the seed without the
    stream's key words: the run entropy's words, padded with zeros to the pool size when
    shorter (a stream's key is never empty), then the root's spawn key's words. An int
    seed is ``SeedSequence(seed)`` (checked as :func:`as_seed_sequence` checks it).

    Returns
    -------
    words : numpy.ndarray of uint32
        The seeds' words end to end.
    offsets : numpy.ndarray of int64
        ``len(seeds) + 1`` offsets into ``words``.
    pool_size : numpy.ndarray of int64
        Each seed's ``pool_size``.
    """
    words: list[int] = []
    offsets = [0]
    pools = []
    for seed in seeds:
        if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
            run, key, pool_size = _entropy_words(seed), [], 4
        else:
            root = as_seed_sequence(seed)
            ent = root.entropy
            if isinstance(ent, int):
                run = _entropy_words(ent)
            else:
                run = tuple(int(x) for x in _coerce_to_uint32_array(ent))
            key, pool_size = key_words(tuple(root.spawn_key)), int(root.pool_size)
        words += run
        if len(run) < pool_size:
            words += [0] * (pool_size - len(run))
        words += key
        offsets.append(len(words))
        pools.append(pool_size)
    return (
        np.array(words, dtype=np.uint32),
        np.array(offsets, dtype=np.int64),
        np.array(pools, dtype=np.int64),
    )


def stream_key_words(
    names: list[tuple[str, tuple[int, ...]]],
) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
    """Return the further spawn-key words of the named streams, end to end, and offsets."""
    sfx = [key_words((STREAMS[name], *extra)) for name, extra in names]
    return (
        np.array([w for x in sfx for w in x], dtype=np.uint32),
        np.cumsum([0] + [len(x) for x in sfx]).astype(np.int64),
    )


@dataclass(frozen=True)
class KernelPlan:
    """A day's draws as the compiled kernel (``peakend.sim.compiled._rng``) takes them.

    Built without numba (:func:`kernel_plan`), cached with the draws' plan.
    """

    sfx_words: NDArray[np.uint32]  # per stream of a day, its own spawn-key words
    sfx_off: NDArray[np.int64]
    args: tuple[Any, ...]  # _rng.draw_chunk's arguments after the states
    groups: list[str]  # counter groups, in order
    tel_off: NDArray[np.int64]  # each group's columns of the teller levels


def kernel_plan(
    s: Scenario, names: list[tuple[str, tuple[int, ...]]], advice: bool, n_noise: int
) -> KernelPlan:
    """Return the compiled draws' plan: stream indices, key words, level parameters.

    Parameters
    ----------
    s : Scenario
        The branch.
    names : list of (str, tuple of int)
        The day's streams (name and extra key) in the order drawn: "arrivals", "mix",
        "service" first.
    advice : bool
        Whether the "advice" and "advice_tellers" streams are drawn.
    n_noise : int
        Noise columns per customer.
    """
    index = {(name, extra): i for i, (name, extra) in enumerate(names)}
    groups = list(s.counters)
    keys = [(name_key(g),) for g in groups]
    cs = [s.counters[g] for g in groups]
    tel_size = np.array([c.max_tellers() for c in cs], dtype=np.int64)
    starts, rates, lam_max, horizon = arrival_profile(s)
    args = (
        np.ascontiguousarray(starts, dtype=np.float64),
        np.ascontiguousarray(rates, dtype=np.float64),
        float(lam_max),
        float(horizon),
        index.get(("patience", ()), -1),
        index[("experience", ())],
        index.get(("advice", ()), -1),
        n_noise,
        np.array([index[("tellers", k)] for k in keys], dtype=np.int64),
        tel_size,
        np.array([float(c.quality.mean) for c in cs]),
        np.array([float(c.quality.sd) for c in cs]),
        np.array([index[("advice_tellers", k)] if advice else -1 for k in keys],
                 dtype=np.int64),
        np.array([float(c.advice.mean) for c in cs]),
        np.array([float(c.advice.sd) for c in cs]),
    )
    sfx_words, sfx_off = stream_key_words(names)
    return KernelPlan(
        sfx_words=sfx_words,
        sfx_off=sfx_off,
        args=args,
        groups=groups,
        tel_off=np.concatenate([[0], np.cumsum(tel_size)]).astype(np.int64),
    )


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
