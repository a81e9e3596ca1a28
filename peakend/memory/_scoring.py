"""Scoring: validated ragged input, the shared passes, the rule classes, score/score_many.

The public names are re-exported by :mod:`peakend.memory`; see its docstring and
``docs/reference/memory-rules.md``.
"""

from __future__ import annotations

import abc
import dataclasses
import difflib
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from peakend.memory._names import RULE_NAMES

__all__ = [
    "AUTO_MIN_EPISODES",
    "ENGINES",
    "RULES",
    "RULE_NAMES",
    "BestWorstEnd",
    "End",
    "Integral",
    "Mean",
    "MemoryRule",
    "Peak",
    "PeakEnd",
    "Recency",
    "TimeWeightedMean",
    "Trend",
    "WeightedPeakEnd",
    "get_rule",
    "score",
    "score_many",
]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------
# Validated ragged input with a per-call cache of shared passes
# --------------------------------------------------------------------------------------


def _as_real_array(x: ArrayLike, argument: str) -> NDArray[Any]:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{argument} must be a 1-D array, got an array of shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{argument} must be a real numeric array, got dtype {arr.dtype}")
    return arr


def _validate(
    affect: ArrayLike,
    offsets: ArrayLike,
    durations: ArrayLike | None,
    kernels: ModuleType | None = None,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.int64], FloatArray | None]:
    """Check the CSR input; return affect (float32/64), offsets (int64), durations (float64).

    With ``kernels`` (the numba engine) the scans over offsets and durations are
    single compiled passes; the checks and their messages are the same.
    """
    a = _as_real_array(affect, "affect")
    if a.dtype != np.float32 and a.dtype != np.float64:
        a = a.astype(np.float64)
    o = np.asarray(offsets)
    if o.ndim != 1:
        raise ValueError(
            f"offsets must be a 1-D integer array of length n_journeys + 1, "
            f"got an array of shape {o.shape}"
        )
    if o.dtype.kind not in "iu":
        raise ValueError(f"offsets must be an integer array, got dtype {o.dtype}")
    if o.size == 0:
        raise ValueError("offsets must have at least one entry (length n_journeys + 1)")
    if o.dtype.kind == "u" and o.dtype.itemsize == 8 and o.max() > a.size:
        # would wrap around in int64: name the first entry past the end of affect
        i = int(np.argmax(o > a.size))
        raise ValueError(
            f"offsets must lie in [0, len(affect) = {a.size}], got offsets[{i}] = {o[i]}"
        )
    o = o.astype(np.int64, copy=False)
    if o[0] != 0:
        raise ValueError(f"offsets must start at 0, got offsets[0] = {o[0]}")
    if o[-1] != a.size:
        raise ValueError(f"offsets must end at len(affect) = {a.size}, got offsets[-1] = {o[-1]}")
    if kernels is not None:
        o = np.ascontiguousarray(o)
        i = int(kernels.first_decrease(o))
    else:
        lengths = np.diff(o)
        i = int(np.argmax(lengths < 0)) if lengths.size and lengths.min() < 0 else -1
    if i >= 0:
        raise ValueError(
            f"offsets must be non-decreasing, got offsets[{i + 1}] = {o[i + 1]} "
            f"< offsets[{i}] = {o[i]}"
        )
    d: FloatArray | None = None
    if durations is not None:
        draw = _as_real_array(durations, "durations")
        if draw.shape != a.shape:
            raise ValueError(
                f"durations must have one entry per episode (len(affect) = {a.size}), "
                f"got length {draw.size}"
            )
        d = draw.astype(np.float64, copy=False)
        if kernels is not None:
            d = np.ascontiguousarray(d)
            bad = int(kernels.first_bad_duration(d))
        elif d.size and not (d.min() > 0 and np.isfinite(d.max())):
            bad = int(np.argmax(~(np.isfinite(d) & (d > 0))))
        else:
            bad = -1
        if bad >= 0:
            raise ValueError(
                f"durations must be finite and > 0 (minutes), got durations[{bad}] = {d[bad]}"
            )
    return a, o, d


def _raise_if_not_finite(affect: NDArray[np.floating[Any]], base: int = 0) -> None:
    """Raise the ValueError for the first NaN or inf in ``affect`` (at ``base + i``), if any."""
    bad = ~np.isfinite(affect)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"affect must be finite (no NaN or inf), got affect[{base + i}] = {affect[i]}"
        )


class _Batch:
    """Validated CSR journeys and the intermediate arrays shared by rules.

    Per-journey arrays (``starts``, ``lengths``, ``last`` and the cached
    reductions) cover the *leading* journeys: all journeys except the empty
    ones at the very end, whose start would be ``len(affect)`` and out of
    range for ``reduceat``. An empty journey inside that range gets a garbage
    value from ``reduceat`` (the next journey's first element), which
    :meth:`expand` overwrites with NaN; masking afterwards is cheaper than
    compressing every per-journey array beforehand. The only cached array of
    ``affect``'s size is the reverse time (windowed ends, trend, recency).
    """

    def __init__(
        self,
        affect: NDArray[np.floating[Any]],
        offsets: NDArray[np.int64],
        durations: FloatArray | None,
        base: int = 0,
    ):
        a, o, d = affect, offsets, durations
        lengths = np.diff(o)
        shortest = int(lengths.min()) if lengths.size else 0
        self.base = base  # index of affect[0] in the caller's array (for messages)
        self.affect: NDArray[np.floating[Any]] = a
        self.durations = d
        self.n_journeys = lengths.size
        # leading journeys: those starting before the end of the array
        n_lead = int(np.searchsorted(o[:-1], a.size, side="left"))
        self.n_lead = n_lead
        self.starts = o[:n_lead]
        self.lengths = lengths[:n_lead]
        self.last = o[1 : n_lead + 1] - 1
        self.empty = (
            np.flatnonzero(self.lengths == 0) if shortest == 0 else np.empty(0, dtype=np.intp)
        )
        self._cache: dict[Any, Any] = {}

    # -- helpers -----------------------------------------------------------------------

    def _cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def expand(self, values: FloatArray) -> FloatArray:
        """Return values for all journeys: NaN for empty ones, never a shared array."""
        if self.n_lead < self.n_journeys:
            out = np.full(self.n_journeys, np.nan)
            out[: self.n_lead] = values
        elif any(values is v for v in self._cache.values()):
            out = values.copy()
        else:
            out = values
        out[self.empty] = np.nan
        return out

    def expand_into(self, values: FloatArray, out: FloatArray) -> None:
        """Write values for all journeys of this batch into ``out`` (NaN for empty ones)."""
        out[: self.n_lead] = values
        out[self.n_lead :] = np.nan
        out[self.empty] = np.nan

    def check_finite(self, needs: set[str]) -> None:
        """Raise if affect holds NaN or inf, reusing a reduction a rule needs anyway."""
        if self.affect.size == 0:
            return
        if "extrema" in needs:
            # NaN and inf have the largest magnitudes: they show in one of the two
            # extremes, hence in their sum (which can also overflow: exact check below)
            if np.isfinite(self.extremes_sum()).all():
                return
        elif "sum" in needs:
            if np.isfinite(self.sum()).all():  # a sum of finite values can only overflow
                return
        elif np.isfinite(np.add.reduce(self.affect, dtype=np.float64)):
            return
        _raise_if_not_finite(self.affect, self.base)

    # -- shared passes (per leading journey) ---------------------------------------------

    def extremes(self) -> tuple[FloatArray, FloatArray]:
        """Return ``(high, low)``: the largest affect >= 0 and the most negative affect.

        Two integer max-reductions over the bit patterns, no temporary: seen as
        signed integers, IEEE floats >= 0 sort above negative ones and both
        halves sort by magnitude, so the signed maximum is the largest affect
        >= 0 if there is one (else the most negative affect); seen as unsigned
        integers negative floats sort above non-negative ones, so the unsigned
        maximum is the most negative affect if there is one (else the largest).
        """

        def compute() -> tuple[FloatArray, FloatArray]:
            a = self.affect
            signed, unsigned = (np.int64, np.uint64) if a.itemsize == 8 else (np.int32, np.uint32)
            high = np.maximum.reduceat(a.view(signed), self.starts).view(a.dtype)
            low = np.maximum.reduceat(a.view(unsigned), self.starts).view(a.dtype)
            return high.astype(np.float64, copy=False), low.astype(np.float64, copy=False)

        return self._cached("extremes", compute)

    def extremes_sum(self) -> FloatArray:
        """Return ``high + low``: its sign decides the peak, its finiteness validates affect."""

        def compute() -> FloatArray:
            high, low = self.extremes()
            return high + low

        return self._cached("extremes_sum", compute)

    def peak(self) -> FloatArray:
        """Affect of largest magnitude with its sign; a tie between +x and -x gives -x.

        ``low <= 0 <= high`` on a mixed journey, so ``|low| >= |high|`` exactly when
        ``high + low <= 0`` (an exact test in floating point); on a one-signed
        journey ``high == low``.
        """

        def compute() -> FloatArray:
            high, low = self.extremes()
            return np.where(self.extremes_sum() <= 0, low, high)

        return self._cached("peak", compute)

    def sum(self) -> FloatArray:
        return self._cached(
            "sum", lambda: np.add.reduceat(self.affect, self.starts, dtype=np.float64)
        )

    def mean(self) -> FloatArray:
        return self._cached("mean", lambda: self.sum() / self.lengths)

    def last_value(self) -> FloatArray:
        return self._cached("last", lambda: self.affect[self.last].astype(np.float64, copy=False))

    def total_duration(self) -> FloatArray:
        """Journey duration in minutes (number of episodes when durations are not given)."""

        def compute() -> FloatArray:
            if self.durations is None:
                return self.lengths.astype(np.float64)
            return np.add.reduceat(self.durations, self.starts)

        return self._cached("total_duration", compute)

    def area(self) -> FloatArray:
        """Sum of affect x duration per journey (affect x minutes)."""

        def compute() -> FloatArray:
            if self.durations is None:
                return self.sum()
            prod = np.multiply(self.affect, self.durations, dtype=np.float64)
            return np.add.reduceat(prod, self.starts)

        return self._cached("area", compute)

    def time_weighted_mean(self) -> FloatArray:
        return self._cached("twm", lambda: self.area() / self.total_duration())

    def reverse_time(self) -> NDArray[Any]:
        """Per episode: minutes from the episode's end to its journey's end (affect-sized).

        Without durations this is the integer number of episodes after it (int64).
        """

        def compute() -> NDArray[Any]:
            # a cumulative sum restarted at each journey: -1 (or -d) per episode, and at
            # a journey's first episode a jump up to the time left after it
            nonempty = self.lengths > 0
            first = self.starts[nonempty]
            r: NDArray[Any]
            if self.durations is None:
                r = np.full(self.affect.size, -1, dtype=np.int64)
                r[first] = self.lengths[nonempty] - 1
            else:
                r = np.negative(self.durations)
                r[first] += self.total_duration()[nonempty]
            np.cumsum(r, out=r)
            return r

        return self._cached("reverse_time", compute)

    def _weighted_sum(self, table: FloatArray) -> FloatArray:
        """Per journey ``sum(table[r] * a)`` for one-minute episodes (r = reverse index)."""
        w = np.take(table, self.reverse_time())
        w *= self.affect
        return np.add.reduceat(w, self.starts)

    def _max_length(self) -> int:
        return self._cached("max_length", lambda: int(self.lengths.max()))

    def end(self, window: float | None) -> FloatArray:
        """Return the end: last affect, or the time-average over the final window."""
        if window is None:
            return self.last_value()

        def compute() -> FloatArray:
            assert window is not None
            den = np.minimum(window, self.total_duration())
            if self.durations is None:
                # overlap of the episode r places from the end with the window: clip(W - r, 0, 1)
                table = np.clip(window - np.arange(self._max_length()), 0.0, 1.0)
                return self._weighted_sum(table) / den
            r = self.reverse_time()
            # overlap of episode [r, r + d] (reverse time) with the window [0, W]
            w = np.subtract(window, r)
            np.minimum(w, self.durations, out=w)
            np.maximum(w, 0.0, out=w)
            w *= self.affect
            num = np.add.reduceat(w, self.starts)
            del w
            return num / den

        return self._cached(("end", window), compute)

    def trend_slope(self, part: float) -> FloatArray:
        """Least-squares slope (affect per minute) over the later part of each journey.

        One ``reduceat`` over interleaved indices ``[start, start + n - m, ...]``
        gives each journey's early part (even entries) and later part (odd
        entries); early + later is the journey's plain sum, cached for free.
        """

        def compute() -> FloatArray:
            n = self.lengths
            m = np.ceil(part * n - 1e-9).astype(np.int64)
            np.maximum(m, 2, out=m)
            np.minimum(m, n, out=m)
            idx = np.empty(2 * n.size, dtype=np.int64)
            idx[0::2] = self.starts
            idx[1::2] = self.starts + n - m

            def later_sum(x: NDArray[Any]) -> FloatArray:
                return np.add.reduceat(x, idx, dtype=np.float64)[1::2]

            res = np.add.reduceat(self.affect, idx, dtype=np.float64)
            sa = res[1::2]
            if "sum" not in self._cache:
                self._cache["sum"] = np.where(n > m, res[0::2], 0.0) + sa
            mf = m.astype(np.float64)
            if self.durations is None:
                # r = 0 .. m - 1 over the later part: sum(r) and sum((r - mean r)**2) are
                # closed forms, and the slope against time is -cov(r, a) / var(r)
                ra = np.multiply(self.reverse_time(), self.affect, dtype=np.float64)
                sra = later_sum(ra)
                del ra
                neg_sxy = (mf - 1) * 0.5
                neg_sxy *= sa
                neg_sxy -= sra  # = -(sum(r a) - sum(r) sum(a) / m)
                sxx = mf * mf
                sxx -= 1
                sxx *= mf / 12
            else:
                # u: time before the journey's end of each episode's midpoint (minutes)
                u = np.add(self.reverse_time(), 0.5 * self.durations)
                su = later_sum(u)
                ua = np.multiply(u, self.affect)
                sua = later_sum(ua)
                del ua
                u *= u
                suu = later_sum(u)
                del u
                sxx = suu - su * su / mf
                neg_sxy = su * sa / mf - sua
            # u runs backwards in time, hence the sign; one-episode parts have slope 0
            slope = np.zeros(n.size)
            np.divide(neg_sxy, sxx, out=slope, where=(m > 1) & (sxx > 0))
            return slope

        return self._cached(("slope", part), compute)

    def recency(self, decay: float) -> FloatArray:
        """Mean affect under weights exp(-decay * (T - t)), integrated over each episode."""
        if decay == 0.0:
            return self.time_weighted_mean()

        def compute() -> FloatArray:
            if self.durations is None:
                # one-minute episodes: weights q**r with q = exp(-decay), a geometric series
                table = np.exp(-decay * np.arange(self._max_length()))
                num = self._weighted_sum(table)
                return num * (math.expm1(-decay) / np.expm1(-decay * self.total_duration()))
            w = np.multiply(self.reverse_time(), -decay)
            np.exp(w, out=w)
            e = np.multiply(self.durations, -decay)
            np.expm1(e, out=e)
            w *= e
            del e
            w *= self.affect
            num = np.add.reduceat(w, self.starts)
            del w
            # the weights telescope to 1 - exp(-decay * T) (both sides negated here)
            return num / np.expm1(-decay * self.total_duration())

        return self._cached(("recency", decay), compute)


# --------------------------------------------------------------------------------------
# Rule objects
# --------------------------------------------------------------------------------------


def _param(
    default: float | None,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
    optional: bool = False,
) -> Any:
    """Declare a rule parameter with its allowed range and unit."""
    meta = {
        "low": low,
        "high": high,
        "low_open": low_open,
        "high_open": high_open,
        "unit": unit,
        "optional": optional,
    }
    return dataclasses.field(default=default, metadata=meta)


def _range_text(meta: Any) -> str:
    lo = ("(" if meta["low_open"] else "[") + f"{meta['low']:g}"
    hi = (
        "inf)"
        if math.isinf(meta["high"])
        else f"{meta['high']:g}" + (")" if meta["high_open"] else "]")
    )
    text = f"a finite number in {lo}, {hi}"
    if meta["unit"]:
        text += f" ({meta['unit']})"
    if meta["optional"]:
        text += " or None"
    return text


def _suggest(word: object, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class MemoryRule(abc.ABC):
    """Base class of memory rules: a frozen, hashable set of validated parameters.

    Call a rule object like :func:`score`: ``rule(affect, offsets, durations=None)``.

    Writing your own rule: subclass it as a frozen dataclass, set the class
    attribute ``name`` (a non-empty string not used by a built-in rule) and
    implement ``_score(batch)``, which returns one float64 value per journey
    of ``batch`` from the batch's shared passes (``batch.peak()``,
    ``batch.end(window)``, ``batch.mean()``, ``batch.sum()``,
    ``batch.last_value()``, ``batch.total_duration()``, ``batch.area()``,
    ``batch.time_weighted_mean()``, ``batch.extremes()``,
    ``batch.trend_slope(part)``, ``batch.recency(decay)``; or your own
    ``reduceat`` over ``batch.affect`` at ``batch.starts``). Empty journeys
    are set to NaN afterwards. A custom rule works with every engine and
    input size: the compiled engine has kernels for the built-in rules only,
    so a custom rule is always scored by its ``_score`` method (NumPy), also
    under ``engine="numba"``, while built-in rules in the same call still use
    the compiled pass. Fields declared with plain dataclass defaults are not
    range-checked (check them in ``__post_init__``); see
    ``docs/reference/memory-rules.md#writing-your-own-rule``.
    """

    name: ClassVar[str] = ""
    #: shared passes this rule needs ("extrema", "sum"); used to validate affect cheaply
    needs: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(
                f"memory rule class {type(self).__qualname__} must set the class attribute "
                "'name' to a non-empty string (it labels the rule's values)"
            )
        builtin = RULES.get(self.name) if "RULES" in globals() else None
        if builtin is not None and not isinstance(self, builtin):
            raise TypeError(
                f"memory rule class {type(self).__qualname__} uses the name {self.name!r} of "
                f"the built-in rule {builtin.__qualname__}; choose another name"
            )
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if "low" not in meta:  # a plain field of a user's rule: the user checks it
                continue
            if value is None and meta.get("optional"):
                continue
            ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool
            )
            if ok:
                value = float(value)
                lo_ok = value > meta["low"] if meta["low_open"] else value >= meta["low"]
                hi_ok = value < meta["high"] if meta["high_open"] else value <= meta["high"]
                ok = math.isfinite(value) and lo_ok and hi_ok
            if not ok:
                raise ValueError(
                    f"rule {self.name!r}: parameter {f.name!r} must be {_range_text(meta)}, "
                    f"got {getattr(self, f.name)!r}"
                )
            object.__setattr__(self, f.name, value)  # canonical float: equal rules hash equal

    @property
    def label(self) -> str:
        """Column name: rule name plus non-default parameters.

        For example ``peak_end(end_window=3.0)``.
        """
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        ]
        return f"{self.name}({', '.join(changed)})" if changed else self.name

    @property
    def params(self) -> dict[str, float | None]:
        """The rule's parameters as a dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def _needs(self, has_durations: bool) -> set[str]:
        return set(self.needs)

    @abc.abstractmethod
    def _score(self, batch: _Batch) -> FloatArray:
        """Score a block of journeys from the shared passes in ``batch``."""

    def __call__(
        self,
        affect: ArrayLike,
        offsets: ArrayLike,
        *,
        durations: ArrayLike | None = None,
        engine: str = "auto",
    ) -> FloatArray:
        """Score journeys with this rule; see :func:`score`."""
        return score(affect, offsets, durations=durations, rule=self, engine=engine)


@dataclass(frozen=True)
class PeakEnd(MemoryRule):
    """Peak-end rule (Kahneman): ``(peak + end) / 2``, the library's default.

    The peak is the affect of largest magnitude with its sign (a tie between
    +x and -x goes to -x).

    Parameters
    ----------
    end_window : float or None, default None
        Minutes. None: the end is the last episode's affect. A number W > 0: the
        end is the time-average of affect over the journey's final W minutes.
    """

    name: ClassVar[str] = "peak_end"
    needs: ClassVar[frozenset[str]] = frozenset({"extrema"})
    end_window: float | None = _param(None, 0.0, low_open=True, unit="minutes", optional=True)

    def _score(self, batch: _Batch) -> FloatArray:
        out = batch.peak() + batch.end(self.end_window)
        out *= 0.5
        return out


@dataclass(frozen=True)
class WeightedPeakEnd(MemoryRule):
    """Weighted peak-end: ``w_peak * peak + w_end * end + w_mean * mean``.

    Weights summing to 1 keep the value on the affect scale; the mean is the
    plain (duration-neglecting) mean of the episodes.

    Parameters
    ----------
    w_peak, w_end, w_mean : float, defaults 0.5, 0.5, 0.0
        Dimensionless weights >= 0, at least one > 0.
    end_window : float or None, default None
        Minutes; as for :class:`PeakEnd`.
    """

    name: ClassVar[str] = "weighted_peak_end"
    needs: ClassVar[frozenset[str]] = frozenset({"extrema"})
    w_peak: float = _param(0.5, 0.0)
    w_end: float = _param(0.5, 0.0)
    w_mean: float = _param(0.0, 0.0)
    end_window: float | None = _param(None, 0.0, low_open=True, unit="minutes", optional=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.w_peak + self.w_end + self.w_mean <= 0:
            raise ValueError(
                f"rule {self.name!r}: at least one of the weights 'w_peak', 'w_end', 'w_mean' "
                "must be > 0"
            )

    def _score(self, batch: _Batch) -> FloatArray:
        out = self.w_peak * batch.peak() + self.w_end * batch.end(self.end_window)
        if self.w_mean:
            out += self.w_mean * batch.mean()
        return out


@dataclass(frozen=True)
class BestWorstEnd(MemoryRule):
    """Best-worst-end: ``w_best * best + w_worst * worst + w_end * end``.

    ``best = max(0, max a)`` is the most positive affect and
    ``worst = min(0, min a)`` the most negative one. A journey with no positive
    (negative) episode has ``best = 0`` (``worst = 0``): nothing good (bad)
    happened, which contributes the neutral value. With the default weights
    the rule equals :class:`PeakEnd` on any journey whose affects share one
    sign, and on mixed journeys replaces the peak by ``best + worst``.

    Parameters
    ----------
    w_best, w_worst, w_end : float, defaults 0.5, 0.5, 0.5
        Dimensionless weights >= 0, at least one > 0. Set ``w_worst > w_best``
        for a memory in which bad moments weigh more than good ones.
    end_window : float or None, default None
        Minutes; as for :class:`PeakEnd`.
    """

    name: ClassVar[str] = "best_worst_end"
    needs: ClassVar[frozenset[str]] = frozenset({"extrema"})
    w_best: float = _param(0.5, 0.0)
    w_worst: float = _param(0.5, 0.0)
    w_end: float = _param(0.5, 0.0)
    end_window: float | None = _param(None, 0.0, low_open=True, unit="minutes", optional=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.w_best + self.w_worst + self.w_end <= 0:
            raise ValueError(
                f"rule {self.name!r}: at least one of the weights 'w_best', 'w_worst', 'w_end' "
                "must be > 0"
            )

    def _score(self, batch: _Batch) -> FloatArray:
        high, low = batch.extremes()
        best = np.maximum(high, 0.0)
        worst = np.minimum(low, 0.0)
        out = self.w_best * best
        out += self.w_worst * worst
        out += self.w_end * batch.end(self.end_window)
        return out


@dataclass(frozen=True)
class Mean(MemoryRule):
    """Plain mean of the episodes' affects (duration neglect without peak emphasis)."""

    name: ClassVar[str] = "mean"
    needs: ClassVar[frozenset[str]] = frozenset({"sum"})

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.mean()


@dataclass(frozen=True)
class Integral(MemoryRule):
    """Area ``sum(a_k * d_k)`` in affect x minutes: Kahneman's total experienced utility.

    Without durations every episode lasts one minute, so the integral is the
    plain sum of affects. It grows with duration: the normative benchmark.
    """

    name: ClassVar[str] = "integral"

    def _needs(self, has_durations: bool) -> set[str]:
        return set() if has_durations else {"sum"}

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.area()


@dataclass(frozen=True)
class TimeWeightedMean(MemoryRule):
    """Area divided by total duration: the average moment, on the affect scale."""

    name: ClassVar[str] = "time_weighted_mean"

    def _needs(self, has_durations: bool) -> set[str]:
        return set() if has_durations else {"sum"}

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.time_weighted_mean()


@dataclass(frozen=True)
class Peak(MemoryRule):
    """The peak alone: affect of largest magnitude with its sign (tie +x/-x gives -x)."""

    name: ClassVar[str] = "peak"
    needs: ClassVar[frozenset[str]] = frozenset({"extrema"})

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.peak()


@dataclass(frozen=True)
class End(MemoryRule):
    """The end alone: last episode's affect, or the mean over a final window.

    Parameters
    ----------
    end_window : float or None, default None
        Minutes; as for :class:`PeakEnd`.
    """

    name: ClassVar[str] = "end"
    end_window: float | None = _param(None, 0.0, low_open=True, unit="minutes", optional=True)

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.end(self.end_window)


@dataclass(frozen=True)
class Trend(MemoryRule):
    """End plus the recent trend: ``end + horizon * slope``.

    ``slope`` is the ordinary least-squares slope (affect per minute) of the
    affects of the later part of the journey against the episodes' midpoint
    times: the last ``m = min(n, max(2, ceil(part * n)))`` of its ``n``
    episodes. A journey of one episode has slope 0. The value is the end
    projected ``horizon`` minutes ahead along the trend, so improving
    sequences are remembered better than declining ones with the same end
    (Ariely 1998; Ariely & Carmon 2000).

    Parameters
    ----------
    part : float, default 0.5
        Fraction of the episodes, in (0, 1], that forms the later part.
    horizon : float, default 1.0
        Minutes >= 0 (0 gives the end alone). Without durations an episode
        lasts one minute, so the default projects one episode ahead.
    """

    name: ClassVar[str] = "trend"
    part: float = _param(0.5, 0.0, 1.0, low_open=True)
    horizon: float = _param(1.0, 0.0, unit="minutes")

    def _score(self, batch: _Batch) -> FloatArray:
        end = batch.last_value()
        if self.horizon == 0.0:
            return end
        return end + self.horizon * batch.trend_slope(self.part)


@dataclass(frozen=True)
class Recency(MemoryRule):
    """Recency-weighted mean with weights ``exp(-decay * (T - t))``.

    ``T`` is the journey's end and ``t`` runs over the time the episodes
    occupy (the weight is integrated over each episode). ``decay = 0`` gives
    the mean (the time-weighted mean when durations are given); a large decay
    gives the end (Das Gupta, Karmarkar & Roels 2016).

    Parameters
    ----------
    decay : float, default 0.2
        Per minute, >= 0 (half-life ``ln 2 / decay``: about 3.5 minutes by
        default, the order of Redelmeier's "last 3 minutes").
    """

    name: ClassVar[str] = "recency"
    decay: float = _param(0.2, 0.0, unit="per minute")

    def _score(self, batch: _Batch) -> FloatArray:
        return batch.recency(self.decay)


#: Rule name -> rule class.
RULES: dict[str, type[MemoryRule]] = {
    cls.name: cls
    for cls in (
        PeakEnd,
        WeightedPeakEnd,
        BestWorstEnd,
        Mean,
        Integral,
        TimeWeightedMean,
        Peak,
        End,
        Trend,
        Recency,
    )
}

# The built-in rule names, in their documented order, are defined once in
# peakend.memory._names (the configuration's MemoryRule.rule type is the same Literal);
# each class's ``name`` must be one of them, in that order.
if tuple(RULES) != RULE_NAMES:  # pragma: no cover - a programming error, caught on import
    raise ImportError(
        f"peakend.memory: rule classes {tuple(RULES)} out of step with RULE_NAMES {RULE_NAMES}"
    )

#: The built-in rule classes (exact types): the ones the compiled engine has kernels for.
_BUILTIN_TYPES: frozenset[type[MemoryRule]] = frozenset(RULES.values())


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


def get_rule(name: str | MemoryRule, **params: Any) -> MemoryRule:
    """Return a validated rule object.

    Parameters
    ----------
    name : str or MemoryRule
        A name from :data:`RULES` (``"peak_end"``, ``"weighted_peak_end"``,
        ``"best_worst_end"``, ``"mean"``, ``"integral"``,
        ``"time_weighted_mean"``, ``"peak"``, ``"end"``, ``"trend"``,
        ``"recency"``), or a rule object (returned as is, or with ``params``
        replaced).
    **params
        The rule's parameters (see each rule class for units and ranges).

    Returns
    -------
    MemoryRule
        A frozen, hashable rule object with ``.name`` and ``.label``.

    Raises
    ------
    ValueError
        Unknown rule name (with the closest valid name), unknown parameter, or a
        parameter out of range.
    TypeError
        ``name`` is neither a string nor a rule object.
    """
    if isinstance(name, MemoryRule):
        cls: type[MemoryRule] = type(name)
        base = name.params
    else:
        if not isinstance(name, str):
            raise TypeError(
                f"rule must be a rule name (str) or a MemoryRule object, got "
                f"{type(name).__name__} {name!r}; valid rule names: {', '.join(RULE_NAMES)}"
            )
        if name not in RULES:
            raise ValueError(
                f"rule: unknown rule {name!r}{_suggest(name, RULE_NAMES)}; "
                f"valid rules: {', '.join(RULE_NAMES)}"
            )
        cls = RULES[name]
        base = {}
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = [p for p in params if p not in valid]
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}{_suggest(unknown[0], valid)} for rule "
            f"{cls.name!r}; valid parameters: {', '.join(valid) if valid else '(none)'}"
        )
    if isinstance(name, MemoryRule) and not params:
        return name
    return cls(**{**base, **params})


def _resolve(rules: Iterable[str | MemoryRule] | str | MemoryRule) -> list[MemoryRule]:
    if isinstance(rules, str | MemoryRule):
        rules = [rules]
    return [get_rule(r) for r in rules]


#: Journeys are scored in blocks of about this many episodes, so that the temporaries of
#: windowed ends, trend and recency stay in cache and small (a loop over blocks, not
#: over journeys; a journey longer than a block forms a block of its own).
BLOCK_EPISODES = 1 << 18


def _score_block(batch: _Batch, rules: list[MemoryRule], needs: set[str]) -> dict[str, FloatArray]:
    values: dict[str, FloatArray] = {}
    # empty journeys inside the array give 0/0 or garbage here; expand masks them
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # trend first: its interleaved pass also yields the plain sums other rules use
        for rule in rules:
            if isinstance(rule, Trend) and rule.label not in values:
                values[rule.label] = _checked(rule, rule._score(batch), batch.n_lead)
        batch.check_finite(needs)
        for rule in rules:
            if rule.label not in values:
                values[rule.label] = _checked(rule, rule._score(batch), batch.n_lead)
    return values


def _checked(rule: MemoryRule, values: Any, n: int) -> FloatArray:
    """Return a rule's ``_score`` values as float64; refuse any shape but one per journey."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(
            f"rule {rule.label!r}: {type(rule).__qualname__}._score returned an array of shape "
            f"{arr.shape}; it must return one value per journey of the batch, shape ({n},) "
            "(as many as batch.starts)"
        )
    return arr


#: Valid values of the ``engine`` argument of :func:`score` and :func:`score_many`.
ENGINES = ("auto", "numpy", "numba")

_FAST_EXTRA = 'pip install "peakend[fast]"'
_PEAK_RULES = frozenset({"peak_end", "weighted_peak_end", "best_worst_end", "peak"})


@functools.cache
def _load_kernels() -> tuple[ModuleType | None, ImportError | None]:
    """Import the compiled kernels once per process: ``(module, None)`` or ``(None, error)``."""
    try:
        import peakend._kernels as _kernels
    except ImportError as exc:
        return None, exc
    return _kernels, None


#: ``engine="auto"`` scores calls with fewer episodes than this with NumPy: for them the
#: compiled engine saves at most milliseconds, while importing numba and loading its
#: cached kernels costs about a second once per process (e.g. per experiment worker).
AUTO_MIN_EPISODES = 1 << 16


def _engine_kernels(engine: str, n_episodes: int) -> ModuleType | None:
    """Return the kernels module for ``engine``, or None for the NumPy engine."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ValueError(
            f"engine: unknown engine {engine!r}{_suggest(engine, ENGINES)}; "
            f"valid engines: {', '.join(ENGINES)}"
        )
    if engine == "numpy" or (engine == "auto" and n_episodes < AUTO_MIN_EPISODES):
        return None
    kernels, error = _load_kernels()
    if kernels is None and engine == "numba":
        raise ImportError(
            f"engine='numba' needs the optional dependency numba ({error}); "
            f"install it with: {_FAST_EXTRA}"
        ) from error
    return kernels


def _kernel_flags(rules: list[MemoryRule], has_d: bool) -> tuple[bool, bool, bool, bool]:
    """Shared passes the kernel must make: extremes, sums, areas, reverse times."""

    def uses_area(rule: MemoryRule) -> bool:  # integral, time-weighted mean, recency at 0
        return isinstance(rule, Integral | TimeWeightedMean) or (
            isinstance(rule, Recency) and rule.decay == 0.0
        )

    extrema = any(rule.name in _PEAK_RULES for rule in rules)
    sums = any(
        isinstance(rule, Mean)
        or (isinstance(rule, WeightedPeakEnd) and rule.w_mean != 0.0)
        or (not has_d and uses_area(rule))
        for rule in rules
    )
    areas = has_d and any(uses_area(rule) for rule in rules)
    times = has_d and any(
        (isinstance(rule, Trend) and rule.horizon != 0.0)
        or (isinstance(rule, Recency) and rule.decay != 0.0)
        or getattr(rule, "end_window", None) is not None
        for rule in rules
    )
    return extrema, sums, areas, times


def _score_compiled(
    kernels: ModuleType,
    a: NDArray[np.floating[Any]],
    o: NDArray[np.int64],
    d: FloatArray | None,
    rules: list[MemoryRule],
) -> list[FloatArray]:
    """Score unique rules with the numba kernels; one row of values per rule."""
    codes = np.empty(len(rules), dtype=np.int64)
    params = np.full((len(rules), 4), np.nan)
    decays: list[float] = []
    sum_part = 0.0
    for k, rule in enumerate(rules):
        codes[k] = kernels.RULE_CODES[rule.name]
        if isinstance(rule, PeakEnd | End):
            params[k, 0] = np.nan if rule.end_window is None else rule.end_window
        elif isinstance(rule, WeightedPeakEnd):
            params[k, :3] = rule.w_peak, rule.w_end, rule.w_mean
            params[k, 3] = np.nan if rule.end_window is None else rule.end_window
        elif isinstance(rule, BestWorstEnd):
            params[k, :3] = rule.w_best, rule.w_worst, rule.w_end
            params[k, 3] = np.nan if rule.end_window is None else rule.end_window
        elif isinstance(rule, Trend):
            params[k, :2] = rule.part, rule.horizon
            if rule.horizon != 0.0 and sum_part == 0.0:
                # as in the NumPy engine, the first trend's split sums give the plain sums
                sum_part = rule.part
        elif isinstance(rule, Recency):
            params[k, :3] = rule.decay, len(decays), math.expm1(-rule.decay)
            if rule.decay != 0.0 and d is None:
                decays.append(rule.decay)
    if decays:
        # the NumPy engine's tables of q**r and expm1(-decay * n), computed by NumPy
        steps = np.arange(int(np.diff(o).max()) + 1)
        rec_num = np.exp(-np.array(decays)[:, None] * steps[None, :-1])
        rec_den = np.expm1(-np.array(decays)[:, None] * steps[None, :].astype(np.float64))
    else:
        rec_num = rec_den = np.zeros((1, 1))
    flags = _kernel_flags(rules, d is not None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        values, suspect = kernels.run(a, o, d, codes, params, flags, sum_part, rec_num, rec_den)
    if suspect:  # a NaN or inf, or a finite affect whose check value overflowed
        _raise_if_not_finite(a)
    return list(values)


def _unique_rules(rules: list[MemoryRule]) -> dict[str, MemoryRule]:
    """Rules by label, first occurrence kept; two different rules with one label are refused."""
    first: dict[str, MemoryRule] = {}
    for rule in rules:
        other = first.setdefault(rule.label, rule)
        if other != rule:
            raise ValueError(
                f"rules: two different rules share the label {rule.label!r} "
                f"({type(other).__qualname__} and {type(rule).__qualname__}); "
                "give a custom rule a name of its own"
            )
    return first


def _score_numpy(
    a: NDArray[np.floating[Any]],
    o: NDArray[np.int64],
    d: FloatArray | None,
    rules: list[MemoryRule],
) -> dict[str, FloatArray]:
    """Score unique rules with the NumPy engine (each rule's ``_score``), in blocks."""
    n = o.size - 1
    labels = [rule.label for rule in rules]
    needs: set[str] = set()
    for rule in rules:
        needs |= rule._needs(d is not None)
    if a.size <= BLOCK_EPISODES:
        batch = _Batch(a, o, d)
        values = _score_block(batch, rules, needs)
        return {label: batch.expand(values[label]) for label in labels}
    # journey boundaries at about every BLOCK_EPISODES episodes
    cuts = np.searchsorted(o, np.arange(BLOCK_EPISODES, a.size, BLOCK_EPISODES))
    bounds = np.unique(np.concatenate([[0], cuts, [n]]))
    out = {label: np.empty(n) for label in labels}
    for j0, j1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        lo, hi = int(o[j0]), int(o[j1])
        if lo == hi:
            for label in labels:
                out[label][j0:j1] = np.nan
            continue
        batch = _Batch(a[lo:hi], o[j0 : j1 + 1] - lo, None if d is None else d[lo:hi], base=lo)
        values = _score_block(batch, rules, needs)
        for label in labels:
            batch.expand_into(values[label], out[label][j0:j1])
    return out


def _score_rules(
    affect: ArrayLike,
    offsets: ArrayLike,
    rules: list[MemoryRule],
    durations: ArrayLike | None,
    engine: str = "auto",
) -> dict[str, FloatArray]:
    unique = _unique_rules(rules)
    compiled = [rule for rule in unique.values() if type(rule) in _BUILTIN_TYPES]
    if not compiled and engine == "auto":
        kernels = None  # custom rules only: nothing to compile, do not import numba
    else:
        kernels = _engine_kernels(engine, int(np.size(affect)))
    a, o, d = _validate(affect, offsets, durations, kernels)
    n = o.size - 1
    if a.size == 0:
        return {label: np.full(n, np.nan) for label in unique}
    out: dict[str, FloatArray] = {}
    rest = list(unique.values())
    if kernels is not None and compiled:
        rows = _score_compiled(kernels, a, o, d, compiled)
        out.update(zip((rule.label for rule in compiled), rows, strict=True))
        # custom rules have no kernel: their own _score method (NumPy) scores them
        rest = [rule for rule in rest if type(rule) not in _BUILTIN_TYPES]
    if rest:
        out.update(_score_numpy(a, o, d, rest))
    return {label: out[label] for label in unique}


def score(
    affect: ArrayLike,
    offsets: ArrayLike,
    *,
    durations: ArrayLike | None = None,
    rule: str | MemoryRule = "peak_end",
    engine: str = "auto",
    **params: Any,
) -> FloatArray:
    """Score ragged journeys with one memory rule.

    Parameters
    ----------
    affect : array_like of float, shape (n_episodes,)
        Momentary affect of every episode (affect scale, -10..10), journeys one
        after the other; float32 or float64 (computed in float64). Must be finite.
    offsets : array_like of int, shape (n_journeys + 1,)
        Journey ``i`` is ``affect[offsets[i]:offsets[i + 1]]``; starts at 0,
        ends at ``len(affect)``, non-decreasing.
    durations : array_like of float, shape (n_episodes,), optional
        Episode durations in minutes, finite and > 0. Default: one minute each.
    rule : str or MemoryRule, default "peak_end"
        Rule name (see :data:`RULES`) or rule object.
    engine : {"auto", "numpy", "numba"}, default "auto"
        ``"numpy"``: vectorized NumPy (always available). ``"numba"``: one
        compiled, multi-threaded pass per journey (needs the ``fast`` extra,
        ``pip install "peakend[fast]"``; compiled on first use and cached on
        disk). ``"auto"``: numba when it can be imported and the call has at
        least :data:`AUTO_MIN_EPISODES` episodes, else NumPy. Both engines
        give the same values (bit for bit except where durations enter the
        windowed end, trend and recency: see the memory-rules reference).
    **params
        Parameters of the rule (e.g. ``end_window=3.0`` for peak-end).

    Returns
    -------
    ndarray of float64, shape (n_journeys,)
        The remembered value of each journey (affect scale; affect x minutes
        for ``"integral"``); NaN for an empty journey.

    Raises
    ------
    ValueError
        Malformed ``affect``, ``offsets`` or ``durations``; unknown rule,
        parameter or engine; parameter out of range.
    ImportError
        ``engine="numba"`` without numba installed.

    Examples
    --------
    >>> import numpy as np
    >>> score(np.array([-8.0, -7.0, -8.0, -1.0]), np.array([0, 2, 2, 4])).tolist()
    [-7.5, nan, -4.5]
    """
    chosen = get_rule(rule, **params)
    return _score_rules(affect, offsets, [chosen], durations, engine)[chosen.label]


def score_many(
    affect: ArrayLike,
    offsets: ArrayLike,
    rules: Iterable[str | MemoryRule],
    *,
    durations: ArrayLike | None = None,
    engine: str = "auto",
) -> dict[str, FloatArray]:
    """Score ragged journeys with several memory rules, sharing the common passes.

    Validation, the extrema and sums per journey, the end gather, the journey
    durations and the reverse time are computed once for all rules.

    Parameters
    ----------
    affect, offsets, durations, engine
        As for :func:`score`.
    rules : iterable of str or MemoryRule
        Rule names (default parameters) and/or rule objects.

    Returns
    -------
    dict of str to ndarray of float64
        Keyed by rule label (``rule.label``) in the order given; a rule given
        twice appears once.

    Examples
    --------
    >>> import numpy as np
    >>> from peakend.memory import get_rule
    >>> out = score_many(np.array([-8.0, -7.0]), np.array([0, 2]),
    ...                  ["peak_end", get_rule("weighted_peak_end", w_peak=1.0, w_end=0.0)])
    >>> {k: v.tolist() for k, v in out.items()}
    {'peak_end': [-7.5], 'weighted_peak_end(w_peak=1.0, w_end=0.0)': [-8.0]}
    """
    return _score_rules(affect, offsets, _resolve(rules), durations, engine)
