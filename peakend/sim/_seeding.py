"""Many named streams seeded at once for the numpy draws (:func:`stream_states`, :class:`Streams`).

``sampling.stream(root, name, *extra)`` builds a SeedSequence and a PCG64 per stream (about
25 microseconds); a chunk of ``run``'s days has hundreds of streams. Here the SeedSequence
hashing of all of them is vectorized with numpy and each generator's state is computed from
it: the same bits as numpy's own seeding (a once-per-process self-check, else numpy's own;
``tests/test_many_days.py`` pins it on random seeds). This is the numpy path's (the SimPy
engine's) speed-up; the compiled draws seed inside their kernel (:mod:`peakend.sim.compiled._rng`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend.sim.sampling import STREAMS, name_key, stream

__all__ = ["Streams", "stream_states"]

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


class Streams:
    """The named streams of several days, handed out in order (:meth:`next`).

    Every day uses the streams ``names`` (name and extra key, in the order the draws
    take them). Their generators' states are computed for all the days at once
    (:func:`stream_states`); one PCG64 is set to each state in
    turn, so each stream draws exactly what :func:`~peakend.sim.sampling.stream` would.
    A stream must be used up before the next is taken.
    """

    def __init__(
        self, roots: list[np.random.SeedSequence], names: list[tuple[str, tuple[int, ...]]]
    ) -> None:
        requests = [(root, name, extra) for root in roots for name, extra in names]
        self._roots, self._names, self._i = roots, names, 0
        # one day: numpy's own seeding is as quick (the vectorized hashing pays off on many)
        fast = len(roots) > 1 and fast_streams()
        self._states = stream_states(requests) if fast else None
        if fast:
            self._bits = np.random.PCG64(0)
            self._rng = np.random.Generator(self._bits)

    def next(self) -> np.random.Generator:
        """Return the generator of the next stream."""
        i = self._i
        self._i += 1
        if self._states is None:
            day, k = divmod(i, len(self._names))
            name, extra = self._names[k]
            return stream(self._roots[day], name, *extra)
        self._bits.state = self._states[i]  # type: ignore[assignment]
        return self._rng


_FAST: list[bool] = []


def fast_streams() -> bool:
    """Whether :func:`stream_states` seeds as numpy does here (checked once per process)."""
    if not _FAST:
        root = np.random.SeedSequence(20261202, spawn_key=(3, 1 << 33))
        probe = [(root, "tellers", (name_key("general"),)), (root, "mix", ())]
        ok = all(
            st == stream(r, name, *extra).bit_generator.state
            for (r, name, extra), st in zip(probe, stream_states(probe), strict=True)
        )
        _FAST.append(ok)
    return _FAST[0]


