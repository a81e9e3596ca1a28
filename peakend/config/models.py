"""Pydantic models of a branch scenario.

Every model is frozen and rejects unknown fields. Times of day are clock hours
(``9.5`` or ``"09:30"``); inside the simulation they become minutes from
opening. Rates are per hour, durations in minutes, experience and expectation
levels on a 0-10 scale, money in the scenario's currency units.

Named collections (segments, business types, counter groups) are
``dict[str, Model]`` keyed by name, so a policy can deep-merge a partial change
(``{"counters": {"general": {"tellers": 5}}}``) and re-validate.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from peakend.memory._names import RuleName  # the one definition of the rule names

__all__ = [
    "JOURNEY_TOUCHPOINTS",
    "LEVEL_TOUCHPOINTS",
    "MAX_CLOCK_HOURS",
    "MAX_CUSTOMERS_PER_DAY",
    "MEMORY_RULE_PARAMS",
    "TOUCHPOINTS",
    "Abandonment",
    "Arrivals",
    "AvailabilityBlock",
    "BusinessType",
    "ClockTime",
    "CounterGroup",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Entrance",
    "Exponential",
    "Farewell",
    "Gamma",
    "GiftUtility",
    "Hall",
    "Limits",
    "Lobby",
    "Lognormal",
    "Lounge",
    "MemoryRule",
    "MixBlock",
    "Mixture",
    "Model",
    "ParamRange",
    "Quality",
    "RateBlock",
    "Route",
    "RouteSpec",
    "Scenario",
    "Segment",
    "ShiftBlock",
    "Stage",
    "StaticTouchpoint",
    "ValueFunction",
    "Weibull",
]

#: Every touchpoint the branch model records, in journey order.
TOUCHPOINTS: tuple[str, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "waiting",
    "service",
    "advice",
    "farewell",
    "abandonment",
)
#: Touchpoints a scenario's ``journey`` may switch on (abandonment is recorded when it happens).
JOURNEY_TOUCHPOINTS: tuple[str, ...] = TOUCHPOINTS[:-1]
#: Touchpoints with a per-segment expectation level, 0-10 (waiting uses ``expected_wait``).
LEVEL_TOUCHPOINTS: tuple[str, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "service",
    "advice",
    "farewell",
)
#: Latest clock time allowed anywhere in a scenario (opening, closing, block starts), hours
#: since midnight of the opening day. A day may be up to 1000 hours long (the steady-state
#: validation runs of :func:`peakend.scenarios.mmc` use days of tens to hundreds of hours);
#: the bound is a guard against typos such as ``9999:00``, not a 24-hour clock.
MAX_CLOCK_HOURS: float = 1000.0
#: Default of ``limits.max_customers_per_day``: expected potential visits per day above
#: which a scenario is refused when it is built (raise it in the scenario's ``[limits]``).
MAX_CUSTOMERS_PER_DAY: int = 2_000_000


class ParamRange(NamedTuple):
    """Allowed range of one memory-rule parameter (mirrors ``peakend.memory``)."""

    default: float | None
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a finite number in the range."""
        if not math.isfinite(value):
            return False
        lo_ok = value > self.low if self.low_open else value >= self.low
        hi_ok = value < self.high if self.high_open else value <= self.high
        return lo_ok and hi_ok

    def text(self) -> str:
        """Describe the range, e.g. ``"a finite number in (0, 1]"``."""
        lo = ("(" if self.low_open else "[") + f"{self.low:g}"
        hi = "inf)" if math.isinf(self.high) else f"{self.high:g}" + (
            ")" if self.high_open else "]"
        )
        out = f"a finite number in {lo}, {hi}"
        return f"{out} ({self.unit})" if self.unit else out


_END_WINDOW = ParamRange(None, 0.0, low_open=True, unit="minutes")
#: Parameters of each memory rule and their ranges, by rule name. This mirrors the
#: rule classes of :mod:`peakend.memory` (config imports nothing of peakend); a test
#: pins the two together. ``end_window`` may also be left out (None: the last episode).
MEMORY_RULE_PARAMS: dict[str, dict[str, ParamRange]] = {
    "peak_end": {"end_window": _END_WINDOW},
    "weighted_peak_end": {
        "w_peak": ParamRange(0.5, 0.0),
        "w_end": ParamRange(0.5, 0.0),
        "w_mean": ParamRange(0.0, 0.0),
        "end_window": _END_WINDOW,
    },
    "best_worst_end": {
        "w_best": ParamRange(0.5, 0.0),
        "w_worst": ParamRange(0.5, 0.0),
        "w_end": ParamRange(0.5, 0.0),
        "end_window": _END_WINDOW,
    },
    "mean": {},
    "integral": {},
    "time_weighted_mean": {},
    "peak": {},
    "end": {"end_window": _END_WINDOW},
    "trend": {
        "part": ParamRange(0.5, 0.0, 1.0, low_open=True),
        "horizon": ParamRange(1.0, 0.0, unit="minutes"),
    },
    "recency": {"decay": ParamRange(0.2, 0.0, unit="per minute")},
}
#: Rules whose listed weights must not all be 0.
_POSITIVE_WEIGHTS: dict[str, tuple[str, ...]] = {
    "weighted_peak_end": ("w_peak", "w_end", "w_mean"),
    "best_worst_end": ("w_best", "w_worst", "w_end"),
}

JourneyTouchpoint = Literal[
    "entrance", "welcome", "information", "lounge", "waiting", "service", "advice", "farewell"
]
_DEFAULT_JOURNEY: tuple[JourneyTouchpoint, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "waiting",
    "service",
    "advice",
    "farewell",
)
LevelTouchpoint = Literal[
    "entrance", "welcome", "information", "lounge", "service", "advice", "farewell"
]

_SHARE_TOLERANCE = 1e-6
_CLOCK = re.compile(r"^\s*(\d{1,4}):([0-5]\d)\s*$")


def _parse_clock(value: Any) -> Any:
    """Turn ``"HH:MM"`` into clock hours (float); pass numbers through."""
    if isinstance(value, str):
        m = _CLOCK.match(value)
        if m is None:
            raise ValueError(f"clock time must be 'HH:MM' or hours as a number, got {value!r}")
        return int(m.group(1)) + int(m.group(2)) / 60.0
    return value


#: Clock time in hours since midnight (``9.5``), also accepted as ``"09:30"``.
ClockTime = Annotated[
    float,
    BeforeValidator(_parse_clock),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_CLOCK_HOURS},
                {"type": "string", "pattern": r"^\s*\d{1,4}:[0-5]\d\s*$"},
            ]
        }
    ),
]


def _clock_text(hours: float) -> str:
    h = int(hours)
    m = round((hours - h) * 60)
    return f"{h:02d}:{m:02d}"


class Model(BaseModel):
    """Frozen base of all configuration models: unknown fields and inf/NaN are errors."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


# --------------------------------------------------------------------------- distributions
#: Smallest mean of an exponential, lognormal or gamma duration, minutes.
MIN_MEAN_MINUTES = 1e-6
#: Shortest service time, minutes (0.6 s): deterministic and empirical values, and the mean
#: of the other kinds. Shorter services would vanish in the rounding of clock times.
MIN_SERVICE_MINUTES = 0.01
#: Largest coefficient of variation (sd / mean) of a lognormal duration.
MAX_LOGNORMAL_CV = 100.0
#: Largest coefficient of variation of a gamma duration: shape (mean / sd)**2 >= 0.1, so that
#: no draw underflows to 0 (a gamma with a smaller shape puts most of its draws at 0.0).
MAX_GAMMA_CV = math.sqrt(10.0)
#: Smallest coefficient of variation of a gamma duration (a finite shape).
MIN_GAMMA_CV = 1e-6


class Exponential(Model):
    """Exponential durations, minutes."""

    kind: Literal["exponential"] = Field("exponential", description="distribution family")
    mean: float = Field(
        ge=MIN_MEAN_MINUTES, le=1e6, description="mean duration, minutes (1e-6 to 1e6)"
    )


class Lognormal(Model):
    """Lognormal durations given by their mean and standard deviation, minutes.

    ``sd`` may be at most 100 times ``mean``, so that the log-scale parameters and
    every draw are finite and positive.
    """

    kind: Literal["lognormal"] = Field("lognormal", description="distribution family")
    mean: float = Field(
        ge=MIN_MEAN_MINUTES, le=1e6, description="mean duration, minutes (1e-6 to 1e6)"
    )
    sd: float = Field(
        gt=0, le=1e6, description="standard deviation, minutes (> 0, at most 100 * mean)"
    )

    @model_validator(mode="after")
    def _check_spread(self) -> Lognormal:
        if self.sd > MAX_LOGNORMAL_CV * self.mean:
            raise ValueError(
                f"sd: must be at most {MAX_LOGNORMAL_CV:g} * mean = "
                f"{MAX_LOGNORMAL_CV * self.mean:.6g} minutes (coefficient of variation <= "
                f"{MAX_LOGNORMAL_CV:g}; beyond it draws underflow to 0 or overflow), got "
                f"sd={self.sd:.6g} with mean={self.mean:.6g}"
            )
        return self

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal (log scale), dimensionless."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self) -> float:
        """Mean of the underlying normal, log-minutes."""
        return math.log(self.mean) - 0.5 * self.sigma**2


class Gamma(Model):
    """Gamma durations given by their mean and standard deviation, minutes.

    ``sd / mean`` must lie in ``[1e-6, sqrt(10)]`` (shape ``(mean / sd)**2`` between 0.1
    and 1e12), so that the shape and scale are finite and no draw underflows to 0.
    """

    kind: Literal["gamma"] = Field("gamma", description="distribution family")
    mean: float = Field(
        ge=MIN_MEAN_MINUTES, le=1e6, description="mean duration, minutes (1e-6 to 1e6)"
    )
    sd: float = Field(
        gt=0,
        le=1e6,
        description="standard deviation, minutes (> 0; between 1e-6 * mean and "
        "sqrt(10) * mean = 3.16 * mean)",
    )

    @model_validator(mode="after")
    def _check_spread(self) -> Gamma:
        cv = self.sd / self.mean
        if not MIN_GAMMA_CV <= cv <= MAX_GAMMA_CV:
            raise ValueError(
                f"sd: must be between {MIN_GAMMA_CV:g} * mean and sqrt(10) * mean = "
                f"{MAX_GAMMA_CV * self.mean:.6g} minutes (shape (mean / sd)**2 between 0.1 "
                f"and 1e12; a smaller shape puts draws at 0), got sd={self.sd:.6g} with "
                f"mean={self.mean:.6g} (shape {cv ** -2:.3g})"
            )
        return self

    @property
    def shape(self) -> float:
        """Shape parameter ``(mean / sd)**2``, dimensionless."""
        return (self.mean / self.sd) ** 2

    @property
    def scale(self) -> float:
        """Scale parameter ``sd**2 / mean``, minutes."""
        return self.sd**2 / self.mean


class Deterministic(Model):
    """A fixed duration, minutes (> 0 for a service time)."""

    kind: Literal["deterministic"] = Field("deterministic", description="distribution family")
    value: float = Field(
        ge=0,
        le=1e6,
        description="the duration, minutes (>= 0; a service time at least 0.01, a patience "
        "of 0 leaves at once)",
    )

    @property
    def mean(self) -> float:
        """The mean duration (the value itself), minutes."""
        return self.value


#: Weights above this are rescaled (divided by the largest) so that their sum stays finite.
_WEIGHT_RESCALE = 1e300


class Empirical(Model):
    """Durations resampled from observed values, minutes.

    Weights are relative: ``[1e308, 1e308]`` means 50/50 (weights so large that their sum
    would overflow are divided by the largest one when the model is built).
    """

    kind: Literal["empirical"] = Field("empirical", description="distribution family")
    values: list[Annotated[float, Field(ge=0, le=1e6)]] = Field(
        min_length=1,
        description="observed durations, minutes (each 0 to 1e6, at least one; each at least "
        "0.01 for a service time)",
    )
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="relative weights of the values (finite, >= 0, same length, positive "
        "sum); None: equal",
    )

    @field_validator("weights", mode="after")
    @classmethod
    def _rescale(cls, weights: list[float] | None) -> list[float] | None:
        if weights and (max(weights) > _WEIGHT_RESCALE or not math.isfinite(sum(weights))):
            top = max(weights)
            return [w / top for w in weights]
        return weights

    @model_validator(mode="after")
    def _check_weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights: length {len(self.weights)} must equal the length of values "
                    f"({len(self.values)})"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights: must have a positive sum")
        return self

    @property
    def mean(self) -> float:
        """The (weighted) mean of the values, minutes."""
        if self.weights is None:
            return sum(self.values) / len(self.values)
        total = sum(self.weights)
        return sum(v * w for v, w in zip(self.values, self.weights, strict=True)) / total


#: Range of a Weibull shape parameter, dimensionless: 0.1 (very heavy tail, coefficient of
#: variation about 430) to 100 (nearly deterministic).
WEIBULL_SHAPE_RANGE: tuple[float, float] = (0.1, 100.0)


def _weibull_cv2(shape: float) -> float:
    """Squared coefficient of variation of a Weibull with this shape: G(1+2/k)/G(1+1/k)^2 - 1."""
    return math.expm1(math.lgamma(1.0 + 2.0 / shape) - 2.0 * math.lgamma(1.0 + 1.0 / shape))


def weibull_shape(cv: float) -> float:
    """Return the Weibull shape whose coefficient of variation (sd / mean) is ``cv``.

    Solves ``Gamma(1 + 2/k) / Gamma(1 + 1/k)**2 - 1 = cv**2`` for ``k`` by bisection on
    ``log k`` (the left side falls as ``k`` grows), to a relative 1e-13.

    Raises
    ------
    ValueError
        If ``cv`` is outside what shapes in ``WEIBULL_SHAPE_RANGE`` give.
    """
    lo, hi = (math.log(x) for x in WEIBULL_SHAPE_RANGE)
    target = cv * cv
    low_cv, high_cv = (math.sqrt(_weibull_cv2(x)) for x in reversed(WEIBULL_SHAPE_RANGE))
    if not low_cv <= cv <= high_cv:
        raise ValueError(
            f"sd: a Weibull needs sd / mean between {low_cv:.4g} and {high_cv:.4g} (shape "
            f"{WEIBULL_SHAPE_RANGE[1]:g} to {WEIBULL_SHAPE_RANGE[0]:g}), got {cv:.6g}"
        )
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _weibull_cv2(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return math.exp(0.5 * (lo + hi))


class Weibull(Model):
    """Weibull durations, minutes: given by ``mean`` and ``sd``, or by ``shape`` and ``scale``.

    Give exactly one pair. The survival function is ``S(t) = exp(-(t / scale)**shape)``;
    ``mean = scale * Gamma(1 + 1/shape)`` and ``sd = scale * sqrt(Gamma(1 + 2/shape) -
    Gamma(1 + 1/shape)**2)``; from ``mean`` and ``sd`` the shape solves the coefficient-of-
    variation equation (:func:`weibull_shape`) and ``scale = mean / Gamma(1 + 1/shape)``.
    A shape below 1 has a falling hazard (many quick abandonments and a long tail), 1 is
    the exponential. ``mean`` and ``sd`` are always set (computed from a native pair); a
    dump holds the pair that was given.
    """

    kind: Literal["weibull"] = Field("weibull", description="distribution family")
    mean: float = Field(
        ge=MIN_MEAN_MINUTES,
        le=1e6,
        description="mean duration, minutes (1e-6 to 1e6); or give shape and scale",
    )
    sd: float = Field(
        gt=0,
        le=1e6,
        description="standard deviation, minutes (> 0; sd / mean between 0.012 and 430, "
        "i.e. shape 100 to 0.1)",
    )
    shape: float | None = Field(
        None,
        ge=WEIBULL_SHAPE_RANGE[0],
        le=WEIBULL_SHAPE_RANGE[1],
        description="shape parameter k, dimensionless (0.1 to 100; 1 is the exponential); "
        "with scale, instead of mean and sd",
    )
    scale: float | None = Field(
        None,
        ge=MIN_MEAN_MINUTES,
        le=1e6,
        description="scale parameter, minutes (1e-6 to 1e6); with shape, instead of mean and sd",
    )

    @model_validator(mode="before")
    @classmethod
    def _native_to_moments(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        moments = [k for k in ("mean", "sd") if data.get(k) is not None]
        native = [k for k in ("shape", "scale") if data.get(k) is not None]
        if moments and native:
            raise ValueError(
                f"weibull: give either mean and sd or shape and scale, not both (got "
                f"{', '.join(moments + native)})"
            )
        if native:
            if len(native) != 2:
                raise ValueError("weibull: shape and scale must be given together")
            shape, scale = data["shape"], data["scale"]
            lo, hi = WEIBULL_SHAPE_RANGE
            ok = (
                isinstance(shape, int | float)
                and not isinstance(shape, bool)
                and isinstance(scale, int | float)
                and not isinstance(scale, bool)
                and math.isfinite(shape)
                and math.isfinite(scale)
                and lo <= shape <= hi
                and scale > 0
            )
            if ok:  # else the field checks below name the bad value
                mean = scale * math.gamma(1.0 + 1.0 / shape)
                data = {**data, "mean": mean, "sd": mean * math.sqrt(_weibull_cv2(shape))}
            else:
                data = {**data, "mean": 1.0, "sd": 1.0}
        elif len(moments) == 1:
            raise ValueError("weibull: mean and sd must be given together (or shape and scale)")
        return data

    @model_validator(mode="after")
    def _check_spread(self) -> Weibull:
        if self.shape is None:
            weibull_shape(self.sd / self.mean)  # raises for a spread no shape gives
        return self

    @model_serializer(mode="wrap")
    def _dump_given_pair(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            if self.shape is None:
                data.pop("shape", None)
                data.pop("scale", None)
            else:
                data.pop("mean", None)
                data.pop("sd", None)
        return data

    @property
    def k(self) -> float:
        """The shape parameter (given, or solved from mean and sd), dimensionless."""
        if self.shape is not None:
            return self.shape
        return weibull_shape(self.sd / self.mean)

    @property
    def lam(self) -> float:
        """The scale parameter (given, or ``mean / Gamma(1 + 1/k)``), minutes."""
        if self.scale is not None:
            return self.scale
        return self.mean / math.gamma(1.0 + 1.0 / self.k)


#: A single-family duration distribution (a mixture component), discriminated by ``kind``.
SimpleDistribution = Annotated[
    Exponential | Lognormal | Gamma | Weibull | Deterministic | Empirical,
    Field(discriminator="kind"),
]


class Mixture(Model):
    """A mixture of durations, minutes: component ``i`` with probability ``weights[i]``.

    Drawn by inverse transform from the customer's one uniform ``u`` (common random
    numbers hold): the component is the first whose cumulative weight exceeds ``u``, and
    its own inverse CDF is taken at ``u`` rescaled to its slice of ``[0, 1)``. A point mass
    at zero (callers who hang up at once) is a ``deterministic`` component of value 0;
    put it first so that the draw is monotone in ``u`` (then it is the mixture's exact
    inverse CDF for a zero mass and one continuous component).
    """

    kind: Literal["mixture"] = Field("mixture", description="distribution family")
    weights: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1, description="probability of each component, 0-1, summing to 1"
    )
    components: list[SimpleDistribution] = Field(
        min_length=1,
        description="the component distributions (any kind but mixture), as many as weights",
    )

    @model_validator(mode="after")
    def _check_weights(self) -> Mixture:
        if len(self.weights) != len(self.components):
            raise ValueError(
                f"weights: length {len(self.weights)} must equal the number of components "
                f"({len(self.components)})"
            )
        total = sum(self.weights)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(
                f"weights: mixture weights must sum to 1 (tolerance {_SHARE_TOLERANCE}), "
                f"got {total:.6g}"
            )
        return self

    @property
    def mean(self) -> float:
        """The mixture's mean duration, minutes."""
        return sum(w * c.mean for w, c in zip(self.weights, self.components, strict=True))


#: A duration distribution (service or patience), discriminated by ``kind``.
Distribution = Annotated[
    Exponential | Lognormal | Gamma | Weibull | Deterministic | Empirical | Mixture,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- arrivals
class RateBlock(Model):
    """One block of the piecewise-constant arrival-rate profile."""

    start: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="clock time the block starts, hours (9.5 or '09:30'), 0-1000",
    )
    rate: float = Field(
        ge=0,
        le=1e6,
        description="arrivals per hour from start until the next block (before e-channel "
        "diversion), >= 0",
    )


class MixBlock(Model):
    """One block of a time-of-day segment mix: the segments' shares from ``start`` on."""

    start: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="clock time the block starts, hours (9.5 or '09:30'), 0-1000",
    )
    shares: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1,
        description="share of arrivals per segment from start until the next block, 0-1, "
        "summing to 1 (a segment left out: 0)",
    )


class Arrivals(Model):
    """Non-homogeneous Poisson arrivals with a piecewise-constant rate."""

    profile: list[RateBlock] = Field(
        min_length=1,
        description="rate blocks in increasing start order, each rate holding until the next "
        "block starts (customers per hour); the rate is 0 before the first block",
    )
    segment_mix: list[MixBlock] | None = Field(
        None,
        description="segment shares by time of day: blocks in increasing start order within "
        "opening hours, each holding until the next; before the first block the segments' "
        "own 'share'; None: the segments' 'share' all day",
    )

    @model_validator(mode="after")
    def _check_order(self) -> Arrivals:
        starts = [b.start for b in self.profile]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(f"arrivals.profile: block starts must strictly increase, got {starts}")
        if self.segment_mix is not None:
            if not self.segment_mix:
                raise ValueError("arrivals.segment_mix: give at least one block (or leave it out)")
            starts = [b.start for b in self.segment_mix]
            if any(b <= a for a, b in itertools.pairwise(starts)):
                raise ValueError(
                    f"arrivals.segment_mix: block starts must strictly increase, got {starts}"
                )
            for i, block in enumerate(self.segment_mix):
                total = sum(block.shares.values())
                if abs(total - 1.0) > _SHARE_TOLERANCE:
                    raise ValueError(
                        f"arrivals.segment_mix.{i}.shares: shares must sum to 1 (tolerance "
                        f"{_SHARE_TOLERANCE}), got {total:.6g}"
                    )
        return self

    @model_serializer(mode="wrap")
    def _drop_default_mix(self, handler: SerializerFunctionWrapHandler) -> Any:
        # without a time-of-day mix the arrivals dump exactly as before it existed
        data = handler(self)
        if isinstance(data, dict) and self.segment_mix is None:
            data.pop("segment_mix", None)
        return data


# --------------------------------------------------------------------------- segments
class Farewell(Model):
    """The farewell protocol for one segment."""

    enabled: bool = Field(False, description="a sincere farewell at the end of service (on/off)")
    minutes: float = Field(
        0.5, gt=0, le=60, description="duration of the farewell episode, minutes (0-60]"
    )
    level: float = Field(
        7.0, ge=0, le=10, description="farewell experience with the protocol on, 0-10"
    )
    plain_level: float = Field(
        5.0, ge=0, le=10, description="end-of-service experience with the protocol off, 0-10"
    )
    gift_size: float = Field(
        0.0, ge=0, le=1e4, description="size (value) of the farewell gift, currency units (0: none)"
    )
    gift_cost: float = Field(
        0.0, ge=0, le=1e6, description="cost of one gift, currency units per gift given"
    )


class Segment(Model):
    """A customer segment: its share, mix, expectations and patience."""

    share: float = Field(ge=0, le=1, description="share of arrivals, 0-1 (segments sum to 1)")
    business_mix: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1,
        description="share of each business type among this segment's visits, 0-1 (sum to 1)",
    )
    appointment_share: float = Field(
        0.0, ge=0, le=1, description="share of visits with a booked slot, 0-1"
    )
    appointment_expected_wait: float = Field(
        2.0, ge=0, le=1440, description="wait a customer with an appointment expects, minutes"
    )
    expected_wait: float = Field(
        10.0, ge=0, le=1440, description="wait a walk-in customer expects, minutes"
    )
    expectations: dict[LevelTouchpoint, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expected experience level per touchpoint, 0-10 (missing: 5); keys: "
        + ", ".join(LEVEL_TOUCHPOINTS),
    )
    noise_sd: float = Field(
        0.5, ge=0, le=5, description="sd of the per-episode experience noise, points (0-5)"
    )
    balk_queue: int | None = Field(
        None,
        ge=0,
        le=100000,
        description="customers waiting ahead in the customer's own priority order at or "
        "above which a walk-in leaves at once, when no teller is free; 0: leave whenever no "
        "teller is free (a loss system); None: never balks",
    )
    renege: Distribution | None = Field(
        None, description="patience before leaving the queue, minutes; None: never reneges"
    )
    lounge: bool = Field(False, description="waits in the VIP lounge (when the lounge is on)")
    farewell: Farewell = Field(default_factory=Farewell, description="farewell protocol")
    value: float = Field(
        0.0, ge=0, le=1e9, description="value of a customer to the bank, currency units per year"
    )


class BusinessType(Model):
    """A kind of business done at the counter."""

    service: Distribution = Field(
        description="counter service time distribution, minutes (values or mean at least "
        "0.01; a gamma with sd <= mean)"
    )
    e_channel_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of this business diverted to e-channels (never comes), 0-1 (< 1)",
    )
    advice_share: float = Field(
        0.0,
        ge=0,
        le=0.9,
        description="share of the counter service time spent on professional advice, 0-0.9: "
        "the last part of the service becomes an 'advice' episode (when 'advice' is in the "
        "journey) rated on the teller's advice quality; 0: no advice episode",
    )

    @model_validator(mode="after")
    def _check_service(self) -> BusinessType:
        dist = self.service
        if isinstance(dist, Mixture):
            for i, (w, c) in enumerate(zip(dist.weights, dist.components, strict=True)):
                if w > 0:
                    _check_service_time(c, f"service.components.{i}")
        else:
            _check_service_time(dist, "service")
        return self


def _check_service_time(dist: Any, field: str) -> None:
    """Refuse service-time distributions with draws within rounding of 0 minutes."""
    low = MIN_SERVICE_MINUTES
    if isinstance(dist, Deterministic) and dist.value < low:
        raise ValueError(
            f"{field}.value: a service time must be at least {low:g} minutes (0.6 s), "
            f"got {dist.value:g}"
        )
    if isinstance(dist, Empirical):
        short = [i for i, v in enumerate(dist.values) if v < low]
        if short:
            raise ValueError(
                f"{field}.values: every service time must be at least {low:g} minutes "
                f"(0.6 s), got {dist.values[short[0]]:g} at index "
                f"{', '.join(map(str, short[:10]))}"
                + (f" and {len(short) - 10} more" if len(short) > 10 else "")
            )
    if isinstance(dist, Exponential | Lognormal | Gamma | Weibull) and dist.mean < low:
        raise ValueError(
            f"{field}.mean: a mean service time must be at least {low:g} minutes (0.6 s), "
            f"got {dist.mean:g}"
        )
    if isinstance(dist, Gamma) and dist.sd > dist.mean:
        raise ValueError(
            f"{field}.sd: a gamma service time needs sd <= mean = {dist.mean:g} minutes "
            f"(shape >= 1): a more variable gamma puts many draws within rounding of 0; "
            f"use a lognormal for service times with sd > mean, got sd={dist.sd:g}"
        )
    if isinstance(dist, Weibull) and dist.k < 0.5:
        raise ValueError(
            f"{field}.shape: a Weibull service time needs shape >= 0.5 (sd <= "
            f"{math.sqrt(_weibull_cv2(0.5)):.3g} * mean): a smaller shape puts many draws "
            f"within rounding of 0; use a lognormal, got shape {dist.k:.4g}"
        )


# --------------------------------------------------------------------------- counters
class ShiftBlock(Model):
    """One block of a shift plan (tellers of a counter group, or lobby managers)."""

    start: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="clock time the block starts, hours, 0-1000"
    )
    count: int = Field(
        ge=0, le=1000, description="staff on duty from start on (tellers or managers), 0-1000"
    )


def _check_plan(plan: int | list[ShiftBlock], field: str, upper: int) -> None:
    """Check a staffing field: a count in 0..upper, or shift blocks with increasing starts."""
    if isinstance(plan, int):
        if not 0 <= plan <= upper:
            raise ValueError(f"{field}: must be between 0 and {upper}, got {plan}")
        return
    if not plan:
        raise ValueError(f"{field}: a shift plan needs at least one block")
    starts = [b.start for b in plan]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError(f"{field}: shift block starts must strictly increase, got {starts}")
    too_many = [b.count for b in plan if b.count > upper]
    if too_many:
        raise ValueError(
            f"{field}: shift block counts must be between 0 and {upper}, got {too_many}"
        )


def count_at(plan: int | list[ShiftBlock], clock: float) -> int:
    """Staff on duty at clock time ``clock`` (hours) under a count or a shift plan (0 before it)."""
    if isinstance(plan, int):
        return plan
    count = 0
    for block in plan:
        if block.start <= clock:
            count = block.count
    return count


def plan_hours(plan: int | list[ShiftBlock], opening: float, closing: float) -> float:
    """Staff-hours of a count or a shift plan within opening hours, hours."""
    if isinstance(plan, int):
        return plan * (closing - opening)
    total = 0.0
    for i, block in enumerate(plan):
        end = plan[i + 1].start if i + 1 < len(plan) else closing
        total += block.count * (min(end, closing) - max(block.start, opening))
    return total


def _check_plan_hours(
    plan: int | list[ShiftBlock], field: str, opening: float, closing: float
) -> None:
    """Check that every shift block of a plan starts within opening hours."""
    if isinstance(plan, int):
        return
    for block in plan:
        if not opening <= block.start < closing:
            raise ValueError(
                f"{field}: shift block start {_clock_text(block.start)} must be within "
                f"opening hours [{_clock_text(opening)}, {_clock_text(closing)})"
            )


def max_count(plan: int | list[ShiftBlock]) -> int:
    """Largest number of staff on duty at any time under a count or a shift plan."""
    return plan if isinstance(plan, int) else max(b.count for b in plan)


class AvailabilityBlock(Model):
    """One block of a counter group's availability plan: the share from ``start`` on."""

    start: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="clock time the block starts, hours, 0-1000"
    )
    share: float = Field(
        gt=0,
        le=1,
        description="share of each on-duty teller's time available to serve from start "
        "until the next block, (0, 1]",
    )


class Quality(Model):
    """A teller level (service or advice): one draw per teller, normal, clipped to 0-10."""

    mean: float = Field(6.0, ge=0, le=10, description="mean teller level, 0-10")
    sd: float = Field(0.0, ge=0, le=5, description="sd of the level between tellers, points (0-5)")


class CounterGroup(Model):
    """A group of identical counters (windows) with one discipline."""

    tellers: int | list[ShiftBlock] = Field(
        1,
        description="tellers on duty: a constant count (0-1000) or a shift plan of blocks "
        "within opening hours (count from each start until the next)",
    )
    segments: list[str] = Field(
        default_factory=list, description="segments served (own segments); empty: all"
    )
    business: list[str] = Field(
        default_factory=list, description="business types served; empty: all"
    )
    discipline: Literal["fifo", "priority", "dedicated", "flexible"] = Field(
        "fifo",
        description="fifo: one shared first-come queue; priority: non-preemptive by "
        "'priority' order; dedicated: only 'segments'; flexible: 'segments' first, else the "
        "next customer of 'overflow'",
    )
    priority: list[str | list[str]] = Field(
        default_factory=list,
        description="segment order for the priority discipline, highest first; a nested "
        "list is one level whose segments are served first come, first served between them "
        "(['priority', ['regular', 'unidentified']]); segments the group serves but not "
        "listed share one level, after the listed ones",
    )
    overflow: list[str] | None = Field(
        None,
        description="flexible discipline: segments served when none of 'segments' waits; "
        "None: all other segments",
    )
    appointments: Literal["first", "by_level", "none"] = Field(
        "first",
        description="where customers with an appointment come in this group's pick order: "
        "first: before every walk-in (a booked slot is a promise); by_level: before the "
        "walk-ins of their own level of the discipline, after higher levels (an urgent "
        "walk-in before a booked patient); none: like walk-ins, by ticket (an appointment "
        "booked for another stage). A flexible group always serves its own segments, "
        "appointments first unless none, before overflow customers",
    )
    availability: float | list[AvailabilityBlock] = Field(
        1.0,
        description="share of each on-duty teller's time available to serve, (0, 1] "
        "(shrinkage: breaks, after-call work): one value, or blocks of { start, share } "
        "within opening hours (1 before the first); each teller takes staggered breaks of "
        "(1 - availability) of every hour, finishing the customer in hand; breaks are paid "
        "(staff cost unchanged); 1: none",
    )
    cost_per_hour: float = Field(
        0.0, ge=0, le=1e6, description="staff cost, currency units per teller-hour"
    )
    quality: Quality = Field(
        default_factory=Quality,
        description="teller service quality (staff attitude, correct and quick service): the "
        "level of the 'service' episode, drawn once per teller and day",
    )
    advice: Quality = Field(
        default_factory=Quality,
        description="teller advice quality (professional advice): the level of the 'advice' "
        "episode, drawn once per teller and day, independently of 'quality'",
    )

    @model_validator(mode="after")
    def _check(self) -> CounterGroup:
        _check_plan(self.tellers, "tellers", 1000)
        if self.discipline in ("dedicated", "flexible") and not self.segments:
            raise ValueError(f"segments: discipline {self.discipline!r} needs at least one segment")
        if self.discipline == "priority" and not self.priority:
            raise ValueError("priority: discipline 'priority' needs a segment order")
        if self.overflow is not None and self.discipline != "flexible":
            raise ValueError("overflow: only allowed with discipline 'flexible'")
        flat: list[str] = []
        for i, entry in enumerate(self.priority):
            if isinstance(entry, list) and not entry:
                raise ValueError(f"priority.{i}: a priority level needs at least one segment")
            flat += [entry] if isinstance(entry, str) else entry
        repeated = sorted({x for x in flat if flat.count(x) > 1})
        if repeated:
            raise ValueError(f"priority: segments must appear once, repeated: {repeated}")
        avail = self.availability
        if isinstance(avail, list):
            if not avail:
                raise ValueError("availability: give at least one block (or one value)")
            starts = [b.start for b in avail]
            if any(b <= a for a, b in itertools.pairwise(starts)):
                raise ValueError(
                    f"availability: block starts must strictly increase, got {starts}"
                )
        elif not 0 < avail <= 1:
            raise ValueError(f"availability: must be in (0, 1], got {avail!r}")
        return self

    @model_serializer(mode="wrap")
    def _drop_default_availability(self, handler: SerializerFunctionWrapHandler) -> Any:
        # without shrinkage a group dumps exactly as before availability existed
        data = handler(self)
        if isinstance(data, dict) and self.availability == 1.0:
            data.pop("availability", None)
        if isinstance(data, dict) and self.appointments == "first":
            data.pop("appointments", None)  # ... and without the appointments setting
        return data

    def max_tellers(self) -> int:
        """Largest number of tellers on duty at any time, counters."""
        return max_count(self.tellers)

    def priority_levels(self) -> list[list[str]]:
        """Return the ``priority`` list as levels, highest first (a name alone is a level)."""
        return [[x] if isinstance(x, str) else list(x) for x in self.priority]

    def priority_order(self) -> list[str]:
        """Return the segments of ``priority`` flattened, highest level first."""
        return [x for level in self.priority_levels() for x in level]

    def availability_at(self, clock: float) -> float:
        """Availability at clock time ``clock`` (hours), (0, 1]; 1 before the first block."""
        a = self.availability
        if not isinstance(a, list):
            return a
        value = 1.0
        for block in a:
            if block.start <= clock:
                value = block.share
        return value

    def available_hours(self, opening: float, closing: float) -> float:
        """Teller-hours available to serve within opening hours: on duty times availability.

        ``plan_hours(tellers)`` weighted by the availability in force, hours; what the
        group can serve (breaks are paid: :meth:`Scenario.staff_cost` uses the teller-hours).
        """
        plan = self.tellers
        blocks = [(opening, plan)] if isinstance(plan, int) else [(b.start, b.count) for b in plan]
        cuts = sorted(
            {opening}
            | {max(opening, t) for t, _ in blocks}
            | {max(opening, t) for t, _ in self.availability_changes()}
        )
        total = 0.0
        for lo, hi in itertools.pairwise([*cuts, closing]):
            if hi > lo:
                total += count_at(plan, lo) * self.availability_at(lo) * (hi - lo)
        return total

    def availability_changes(self) -> list[tuple[float, float]]:
        """``(clock hours, availability)`` from each change on (one value: from 0 on)."""
        a = self.availability
        if not isinstance(a, list):
            return [(0.0, a)]
        return [(b.start, b.share) for b in a]


# --------------------------------------------------------------------------- experience design
class Entrance(Model):
    """Arrival at the branch: location, hours, ambience."""

    minutes: float = Field(0.25, gt=0, le=60, description="entrance episode duration, minutes")
    level: float = Field(6.0, ge=0, le=10, description="entrance (ambience) experience, 0-10")


class Lobby(Model):
    """Lobby managers who greet arriving customers."""

    managers: int | list[ShiftBlock] = Field(
        0,
        description="lobby managers on duty: a constant count (0-100) or a shift plan of blocks "
        "within opening hours (count from each start until the next); a manager going off "
        "duty finishes the greeting in hand",
    )
    greeting_minutes: float = Field(
        1.0, gt=0, le=60, description="time a greeting takes (manager busy), minutes"
    )
    greeted_level: float = Field(
        7.0, ge=0, le=10, description="welcome experience if greeted, 0-10"
    )
    ungreeted_level: float = Field(
        4.0, ge=0, le=10, description="welcome experience if no manager is free, 0-10"
    )
    cost_per_hour: float = Field(
        0.0, ge=0, le=1e6, description="staff cost, currency units per manager-hour"
    )

    @model_validator(mode="after")
    def _check(self) -> Lobby:
        _check_plan(self.managers, "managers", 100)
        return self

    def max_managers(self) -> int:
        """Largest number of lobby managers on duty at any time."""
        return max_count(self.managers)


class Hall(Model):
    """The waiting hall: ticket machine, perceived waiting time, fairness."""

    ticket_minutes: float = Field(
        0.25, gt=0, le=60, description="ticket / information episode duration, minutes"
    )
    ticket_level: float = Field(5.0, ge=0, le=10, description="ticket/information experience, 0-10")
    wait_display: bool = Field(False, description="the expected wait is displayed (on/off)")
    display_multiplier: float = Field(
        0.85, gt=0, le=5, description="perceived-wait multiplier when displayed, (0, 5]"
    )
    display_bonus: float = Field(
        1.0, ge=0, le=10, description="information experience gain when displayed, points"
    )
    distraction: bool = Field(False, description="distractions in the hall: TV, news (on/off)")
    distraction_multiplier: float = Field(
        0.8, gt=0, le=5, description="perceived-wait multiplier with distraction, (0, 5]"
    )
    perception_k: float = Field(
        1.0, gt=0, le=10, description="k in perceived = k * wait**p * m, (0, 10]"
    )
    perception_p: float = Field(
        1.0, gt=0, le=3, description="p in perceived = k * wait**p * m, (0, 3]"
    )
    minutes_per_point: float = Field(
        5.0,
        gt=0,
        le=1440,
        description="waiting scale: each this many perceived minutes costs one point of the "
        "0-10 waiting experience, minutes per point",
    )
    slip_penalty: float = Field(
        0.5,
        ge=0,
        le=10,
        description="waiting experience lost per slip (later arrival served first), points",
    )
    distraction_cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="cost of the distractions, currency units per day"
    )
    display_cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="cost of the wait display, currency units per day"
    )


class Lounge(Model):
    """The VIP lounge: a peak made by contrast with a crowded hall."""

    enabled: bool = Field(False, description="the lounge is open (on/off)")
    minutes: float = Field(
        0.5, gt=0, le=60, description="duration of the lounge-entry episode, minutes"
    )
    level: float = Field(7.0, ge=0, le=10, description="lounge experience with an empty hall, 0-10")
    contrast_strength: float = Field(
        3.0, ge=0, le=10, description="experience gain with a very crowded hall, points (0-10)"
    )
    crowd_half: float = Field(
        5.0, gt=0, le=1e4, description="hall queue giving half the contrast gain, customers"
    )
    cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="running cost of the lounge, currency units per day"
    )


class Abandonment(Model):
    """The moment a customer gives up (balks or reneges)."""

    minutes: float = Field(0.25, gt=0, le=60, description="abandonment episode duration, minutes")
    level: float = Field(
        0.0,
        ge=0,
        le=10,
        description="experience of leaving unserved, 0-10 (compared with the "
        "segment's service expectation)",
    )


class GiftUtility(Model):
    """Concave utility of a farewell gift, ``scale * size**curvature`` (see peakend.affect)."""

    scale: float = Field(
        0.5, gt=0, le=10, description="experience points added by a gift of size 1, (0, 10]"
    )
    curvature: float = Field(
        0.5, gt=0, le=1, description="exponent: 1 linear, smaller more concave, (0, 1]"
    )


class ValueFunction(Model):
    """The Delta-law value function v(experience - expectation)."""

    kind: Literal["prospect", "linear"] = Field("prospect", description="value function family")
    alpha: float = Field(0.88, gt=0, le=1, description="curvature for gains, (0, 1]")
    beta: float = Field(0.88, gt=0, le=1, description="curvature for losses, (0, 1]")
    loss_aversion: float = Field(
        2.25, ge=1, le=10, description="lambda, losses weigh more, [1, 10]"
    )
    scale: float = Field(1.0, gt=0, le=10, description="affect points per level point, (0, 10]")


class MemoryRule(Model):
    """The default memory rule that gives the ``remembered`` column."""

    rule: RuleName = Field("peak_end", description="memory rule name (see peakend.memory)")
    params: dict[str, float] = Field(
        default_factory=dict,
        description="rule parameters, by name (rule-specific units and ranges, checked "
        "when the scenario is built; see peakend.memory)",
    )

    @model_validator(mode="after")
    def _check_params(self) -> MemoryRule:
        known = MEMORY_RULE_PARAMS[self.rule]
        for name, value in self.params.items():
            if name not in known:
                valid = ", ".join(known) or "none"
                hint = _did_you_mean(name, known)
                raise ValueError(
                    f"params.{name}: rule {self.rule!r} has no parameter {name!r}{hint}; "
                    f"its parameters: {valid}"
                )
            if not known[name].contains(value):
                raise ValueError(
                    f"params.{name}: rule {self.rule!r} needs {known[name].text()}, got {value!r}"
                )
        weights = _POSITIVE_WEIGHTS.get(self.rule)
        if weights is not None:
            total = sum(
                self.params.get(w, MEMORY_RULE_PARAMS[self.rule][w].default or 0.0)
                for w in weights
            )
            if total <= 0:
                raise ValueError(
                    f"params: rule {self.rule!r} needs at least one of "
                    f"{', '.join(weights)} > 0"
                )
        return self


def _did_you_mean(name: str, valid: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``valid``, or ``""``."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    if not close and "_" not in name:
        close = [v for v in valid if v.endswith("_" + name)][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


class Limits(Model):
    """Guards against scenarios too large to simulate by mistake."""

    max_customers_per_day: int = Field(
        MAX_CUSTOMERS_PER_DAY,
        ge=1,
        le=1_000_000_000,
        description="largest expected number of potential visits per day (the arrival "
        "profile's integral, before e-channel diversion) a scenario may have, customers "
        "(1 to 1e9); larger scenarios are refused when built",
    )


_DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------- stages
class Stage(Model):
    """A further service stage after the first (the scenario's ``counters``).

    A stage has its own counter groups (disciplines, shift plans, costs, teller
    quality), the service time of each business type routed to it, and optional
    per-segment expectations for its episodes (``wait@<stage>``, ``service@<stage>``),
    which fall back to the segment's general ones. Its waits may be perceived and
    endured differently from the first stage's (``wait_multiplier``, ``patience_scale``),
    and optionally depend on the minutes already waited at the earlier stages of the
    route (``wait_multiplier_growth``, ``patience_decay``; 0 by default: independent).
    """

    description: str = Field("", description="free text")
    counters: dict[str, CounterGroup] = Field(
        min_length=1, description="the stage's counter groups by name"
    )
    service: dict[str, Distribution] = Field(
        description="service time at this stage per business type routed here, minutes"
    )
    expected_wait: dict[str, Annotated[float, Field(ge=0, le=600)]] = Field(
        default_factory=dict,
        description="expected wait at this stage per segment, minutes (0-600); default: "
        "the segment's expected_wait",
    )
    service_expectation: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expected service level at this stage per segment, 0-10; default: "
        "the segment's expectations.service (5 when unset)",
    )
    wait_multiplier: float = Field(
        1.0,
        gt=0,
        le=5,
        description="multiplier of the perceived wait at this stage's queue for customers "
        "served at an earlier stage (an in-process wait; those whose route starts here feel "
        "it with 1), (0, 5]; 1: felt like a first-stage wait; below 1 for an in-process wait "
        "that feels shorter (Maister 1985)",
    )
    patience_scale: float = Field(
        1.0,
        gt=0,
        le=10,
        description="multiplier of the patience drawn for this stage's queue, (0, 10]; below "
        "1: patience wears thin after the waits before",
    )
    wait_multiplier_growth: float = Field(
        0.0,
        ge=0,
        le=1,
        description="growth of this stage's perceived-wait multiplier with the minutes "
        "already waited at the earlier stages of the route, per minute, [0, 1]: the "
        "multiplier is wait_multiplier * (1 + wait_multiplier_growth * waited); 0: "
        "independent of the earlier waits",
    )
    patience_decay: float = Field(
        0.0,
        ge=0,
        le=1,
        description="wearing of the patience at this stage's queue with the minutes already "
        "waited at the earlier stages of the route, per minute, [0, 1]: the patience is "
        "divided by (1 + patience_decay * waited), so it halves after 1 / patience_decay "
        "minutes of earlier waits; 0: independent of the earlier waits",
    )

    def max_tellers(self) -> int:
        """Most tellers of the stage on duty at any time (over all its groups)."""
        return sum(c.max_tellers() for c in self.counters.values())


class StaticTouchpoint(Model):
    """A touchpoint of the scenario's own: a fixed-length episode at a place in the journey."""

    position: Literal["before_queue", "before_stage", "before_exit"] = Field(
        description="before_queue: after the ticket, before joining the first queue (it "
        "delays the queue join); before_stage: between two stages, right before joining "
        "the queue of the further stage named by 'stage' (it delays that join; only those "
        "who go on to that stage have it); before_exit: after the last service, before the "
        "farewell"
    )
    stage: str | None = Field(
        None,
        description="the further stage (a name in stages) a before_stage touchpoint "
        "precedes; only with position = 'before_stage'",
    )
    minutes: float = Field(gt=0, le=600, description="episode duration, minutes, (0, 600]")
    level: float = Field(5.0, ge=0, le=10, description="experience level, 0-10")
    levels: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description="experience level per segment, 0-10 (default: level)"
    )
    expectation: float = Field(5.0, ge=0, le=10, description="expectation level, 0-10")
    expectations: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expectation level per segment, 0-10 (default: expectation)",
    )

    @model_validator(mode="after")
    def _check_stage(self) -> StaticTouchpoint:
        if self.position == "before_stage" and self.stage is None:
            raise ValueError(
                "stage: position 'before_stage' needs the stage it precedes (a name in stages)"
            )
        if self.position != "before_stage" and self.stage is not None:
            raise ValueError(
                f"stage: only a position = 'before_stage' touchpoint names a stage, got "
                f"position {self.position!r} with stage {self.stage!r}"
            )
        return self


class RouteSpec(Model):
    """Where a business type's customers go: stages in order, each visited with a share."""

    stages: list[str] = Field(
        min_length=1,
        description="stage names in visiting order (first_stage, then the stages table's "
        "order); a stage may be left out",
    )
    share: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="chance of visiting a listed stage, 0-1 (default 1): e.g. advisor = "
        "0.3 sends 30 % of those served before on to the advisor; at least one stage has 1",
    )


class Route(RouteSpec):
    """A business type's route, optionally refined per segment."""

    segments: dict[str, RouteSpec] = Field(
        default_factory=dict, description="per-segment routes replacing this one"
    )


# --------------------------------------------------------------------------- scenario
class Scenario(Model):
    """A bank-branch day: hours, demand, customers, counters and experience design.

    Examples
    --------
    >>> import peakend as pe
    >>> s = pe.load_scenario("default_branch")
    >>> s.opening < s.closing
    True
    >>> bigger = s.model_copy(update={"name": "five tellers"})
    >>> bigger.name
    'five tellers'
    """

    name: str = Field("scenario", min_length=1, description="scenario name")
    description: str = Field("", description="free text")
    currency: str = Field("CNY", description="currency of all costs and values")
    opening: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="opening time, clock hours ('09:00'), 0-1000"
    )
    closing: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="closing time, clock hours (> opening), 0-1000; doors close, nobody "
        "enters after",
    )
    after_closing: Literal["serve", "dismiss"] = Field(
        "serve",
        description="serve: customers inside at closing are served; dismiss: those still "
        "waiting at closing leave unserved (recorded as reneged)",
    )
    arrivals: Arrivals = Field(description="arrival-rate profile (customers per hour)")
    segments: dict[str, Segment] = Field(min_length=1, description="customer segments by name")
    business_types: dict[str, BusinessType] = Field(
        min_length=1, description="business types by name"
    )
    counters: dict[str, CounterGroup] = Field(min_length=1, description="counter groups by name")
    first_stage: str = Field(
        "counter",
        min_length=1,
        description="name of the first service stage, the one the counters table staffs",
    )
    stages: dict[str, Stage] = Field(
        default_factory=dict,
        description="further service stages by name, in visiting order (empty: one stage)",
    )
    routes: dict[str, Route] = Field(
        default_factory=dict,
        description="routes per business type (default: the first stage only)",
    )
    touchpoints: dict[str, StaticTouchpoint] = Field(
        default_factory=dict,
        description="the scenario's own static touchpoints by name, in journey order",
    )
    journey: list[JourneyTouchpoint] = Field(
        default_factory=lambda: list(_DEFAULT_JOURNEY),
        description="touchpoints recorded, in journey order; must include waiting and service; "
        "allowed: " + ", ".join(JOURNEY_TOUCHPOINTS),
    )
    entrance: Entrance = Field(default_factory=Entrance, description="entrance touchpoint")
    lobby: Lobby = Field(default_factory=Lobby, description="lobby managers and welcome")
    hall: Hall = Field(default_factory=Hall, description="waiting hall and perceived wait")
    lounge: Lounge = Field(default_factory=Lounge, description="VIP lounge")
    abandonment: Abandonment = Field(default_factory=Abandonment, description="leaving unserved")
    gift_utility: GiftUtility = Field(default_factory=GiftUtility, description="gift utility")
    value_function: ValueFunction = Field(
        default_factory=ValueFunction, description="Delta-law value function"
    )
    memory: MemoryRule = Field(default_factory=MemoryRule, description="default memory rule")
    limits: Limits = Field(
        default_factory=Limits,
        description="size guards (left out of model_dump while at their defaults)",
    )

    @model_serializer(mode="wrap")
    def _drop_default_limits(self, handler: SerializerFunctionWrapHandler) -> Any:
        # default limits are not part of a scenario's identity: dumps (and the results,
        # checkpoints and stored studies made from them) stay as they were before limits
        data = handler(self)
        if isinstance(data, dict) and self.limits == _DEFAULT_LIMITS:
            data.pop("limits", None)
        if isinstance(data, dict) and not self.touchpoints:
            data.pop("touchpoints", None)
        if isinstance(data, dict) and not self.stages and not self.routes:
            # a one-stage scenario dumps (and is stored) exactly as before stages existed
            data.pop("stages", None)
            data.pop("routes", None)
            if self.first_stage == "counter":
                data.pop("first_stage", None)
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> Scenario:
        _check_scenario(self)
        return self

    # ------------------------------------------------------------------ derived
    @property
    def open_minutes(self) -> float:
        """Length of the opening hours, minutes."""
        return (self.closing - self.opening) * 60.0

    def counter_group(self, group: str) -> CounterGroup:
        """Return the counter group named ``group`` (a first-stage name or ``"<stage>/<group>"``).

        Raises
        ------
        ValueError
            If there is no such group; the message lists the valid names.
        """
        if group in self.counters:
            return self.counters[group]
        stage, _, name = group.partition("/")
        if stage in self.stages and name in self.stages[stage].counters:
            return self.stages[stage].counters[name]
        valid = [*self.counters]
        valid += [f"{x}/{g}" for x, st in self.stages.items() for g in st.counters]
        raise ValueError(
            f"group: no counter group {group!r}{_did_you_mean(group, valid)} (valid: "
            f"{', '.join(valid)}; a later stage's groups are named '<stage>/<group>')"
        )

    def tellers_at(self, group: str, clock: float) -> int:
        """Tellers of counter group ``group`` on duty at clock time ``clock`` (hours).

        ``group`` is a first-stage group's name or ``"<stage>/<group>"`` (see
        :meth:`counter_group`).
        """
        return count_at(self.counter_group(group).tellers, clock)

    def teller_hours(self, group: str) -> float:
        """Teller-hours of counter group ``group`` within opening hours, hours.

        ``group`` as for :meth:`tellers_at`. On duty, breaks included (they are paid).
        """
        return plan_hours(self.counter_group(group).tellers, self.opening, self.closing)

    def managers_at(self, clock: float) -> int:
        """Lobby managers on duty at clock time ``clock`` (hours)."""
        return count_at(self.lobby.managers, clock)

    def manager_hours(self) -> float:
        """Lobby-manager hours within opening hours, hours."""
        return plan_hours(self.lobby.managers, self.opening, self.closing)

    def staff_cost(self) -> float:
        """Staff cost of the day's shift plans within opening hours, currency units per day.

        Tellers (teller-hours times each group's ``cost_per_hour``) plus lobby
        managers (manager-hours of their plan times ``lobby.cost_per_hour``). Overtime after
        closing and fixed costs (lounge, distraction, display) are not included;
        see :meth:`fixed_cost`.
        """
        tellers = sum(self.teller_hours(g) * c.cost_per_hour for g, c in self.counters.items())
        for st in self.stages.values():
            tellers += sum(
                plan_hours(c.tellers, self.opening, self.closing) * c.cost_per_hour
                for c in st.counters.values()
            )
        return tellers + self.manager_hours() * self.lobby.cost_per_hour

    def fixed_cost(self) -> float:
        """Daily running cost of the lounge, distraction and wait display, currency units."""
        cost = self.lounge.cost_per_day if self.lounge.enabled else 0.0
        cost += self.hall.distraction_cost_per_day if self.hall.distraction else 0.0
        cost += self.hall.display_cost_per_day if self.hall.wait_display else 0.0
        return cost

    @property
    def stage_names(self) -> list[str]:
        """All service stages in visiting order: the first stage, then ``stages``."""
        return [self.first_stage, *self.stages]

    def route(self, segment: str, business: str) -> tuple[list[str], list[float]]:
        """Stages a (segment, business) customer may visit, in order, and each one's share.

        Without a route: the first stage only, with share 1.
        """
        r = self.routes.get(business)
        if r is None:
            return [self.first_stage], [1.0]
        spec: RouteSpec = r.segments.get(segment, r)
        return list(spec.stages), [spec.share.get(x, 1.0) for x in spec.stages]

    def stage_view(self, stage: str) -> Scenario:
        """Return this scenario with the counter groups of ``stage`` as its counters (unvalidated).

        For the movement engine and the queueing disciplines, which read ``counters``.
        """
        if stage == self.first_stage:
            return self
        return self.model_copy(update={"counters": self.stages[stage].counters})

    def served_segments(self, group: str) -> list[str]:
        """Segments counter group ``group`` can serve, in the order it prefers them."""
        c = self.counters[group]
        everyone = list(self.segments)
        own = list(c.segments) or everyone
        if c.discipline == "priority":
            ordered = [s for s in c.priority_order() if s in own]
            return ordered + [s for s in own if s not in ordered]
        if c.discipline == "flexible":
            extra = c.overflow if c.overflow is not None else everyone
            return own + [s for s in extra if s not in own]
        return own

    def expected_arrivals(self) -> float:
        """Return the expected number of customers coming in a day (after e-channel diversion)."""
        potential = _profile_integral(self) / 60.0
        stay = 0.0
        for seg in self.segments.values():
            for b, share in seg.business_mix.items():
                stay += seg.share * share * (1.0 - self.business_types[b].e_channel_share)
        return potential * stay

    def offered_load(self) -> float:
        """Offered work divided by available teller time over the opening hours, dimensionless.

        Expected service minutes of the day's expected arrivals over the teller-minutes
        of the shift plans, weighted by the groups' availability; above 1 the branch
        cannot keep up. With further stages, the largest of every stage's
        :meth:`stage_load` (the first stage's included).
        """
        return max(self.stage_load(x) for x in self.stage_names)

    def stage_load(self, stage: str) -> float:
        """Offered load of one service stage: its expected service minutes over its teller time.

        Every customer whose route lists the stage is counted with the stage's share on
        the route (each stage's routing is drawn on its own; as if all were served at the
        stages before, so for a further stage this is an upper bound of the load it
        sees); dimensionless. The
        teller time is the groups' available teller-minutes within opening hours.

        Parameters
        ----------
        stage : str
            The first stage's name (``first_stage``) or a name in ``stages``.

        Raises
        ------
        ValueError
            If ``stage`` names no stage (the message lists them).
        """
        if stage not in self.stage_names:
            raise ValueError(
                f"stage: no stage {stage!r}{_did_you_mean(stage, self.stage_names)} (stages: "
                f"{', '.join(self.stage_names)})"
            )
        first = stage == self.first_stage
        counters = self.counters if first else self.stages[stage].counters
        work = 0.0
        for sn, seg in self.segments.items():
            for b, share in seg.business_mix.items():
                names, shares = self.route(sn, b)
                if stage not in names:
                    continue
                # each stage's routing is drawn on its own: whoever is served before
                # (or leaves a stage out) goes on with that stage's share
                visit = shares[names.index(stage)]
                bt = self.business_types[b]
                if first:
                    mean = bt.service.mean
                else:
                    st_service = self.stages[stage].service
                    mean = st_service[b].mean if b in st_service else 0.0
                work += seg.share * share * (1.0 - bt.e_channel_share) * visit * mean
        work *= _profile_integral(self) / 60.0
        capacity = 60.0 * sum(
            plan_hours(c.tellers, self.opening, self.closing)
            if c.availability == 1.0
            else c.available_hours(self.opening, self.closing)
            for c in counters.values()
        )
        if capacity <= 0:
            return math.inf if work > 0 else 0.0
        return work / capacity


def _profile_integral(s: Scenario) -> float:
    """Integral of the rate profile over the opening hours, customers * minutes / hour."""
    total = 0.0
    blocks = s.arrivals.profile
    for i, block in enumerate(blocks):
        end = blocks[i + 1].start if i + 1 < len(blocks) else s.closing
        lo, hi = max(block.start, s.opening), min(end, s.closing)
        if hi > lo:
            total += block.rate * (hi - lo) * 60.0
    return total


def _round_up(x: float) -> int:
    """``x`` rounded up to two significant digits, for a suggested limit."""
    n = max(math.ceil(x), 1)
    step = 10 ** max(len(str(n)) - 2, 0)
    return -(-n // step) * step


def _comes(s: Scenario, segment: str) -> bool:
    """Whether a segment comes: its day share, or its share in a segment_mix block, is > 0."""
    blocks = s.arrivals.segment_mix or []
    return s.segments[segment].share > 0 or any(b.shares.get(segment, 0.0) > 0 for b in blocks)


def _served(view: Scenario, segment: str, business: str) -> bool:
    """Whether a staffed counter group of ``view`` (a stage's view) serves the pair."""
    return any(
        c.max_tellers() > 0
        and segment in view.served_segments(g)
        and (not c.business or business in c.business)
        for g, c in view.counters.items()
    )


def _check_scenario(s: Scenario) -> None:
    """Cross-field checks; every message names the field and the allowed values."""
    if s.stages or s.routes or any(tp.position == "before_stage" for tp in s.touchpoints.values()):
        _check_stages(s)
    for tname, tp in s.touchpoints.items():
        taken = set(TOUCHPOINTS) | {f"{k}@{x}" for x in s.stages for k in ("wait", "service")}
        if tname in taken or "@" in tname or "/" in tname:
            raise ValueError(
                f"touchpoints.{tname}: the name is taken or has '@' or '/'; built-in "
                f"touchpoints: {', '.join(TOUCHPOINTS)}"
            )
        for key in ("levels", "expectations"):
            for x in getattr(tp, key):
                if x not in s.segments:
                    raise ValueError(
                        f"touchpoints.{tname}.{key}: unknown segment {x!r}"
                        f"{_did_you_mean(x, s.segments)}; allowed: {sorted(s.segments)}"
                    )
    if s.closing <= s.opening:
        raise ValueError(
            f"closing: must be after opening ({_clock_text(s.opening)}), got "
            f"{_clock_text(s.closing)}"
        )
    # size
    visits = _profile_integral(s) / 60.0
    limit = s.limits.max_customers_per_day
    if visits > limit:
        raise ValueError(
            f"arrivals.profile: about {visits:,.0f} expected arrivals per day (potential visits "
            f"before e-channel diversion) exceed limits.max_customers_per_day = {limit:,}; "
            f"lower the rates or shorten the day, or raise the limit (in the scenario file: "
            f"[limits] max_customers_per_day = {_round_up(visits)})"
        )
    # arrivals
    for rate_block in s.arrivals.profile:
        if rate_block.start >= s.closing:
            raise ValueError(
                f"arrivals.profile: block start {_clock_text(rate_block.start)} must be before "
                f"closing ({_clock_text(s.closing)})"
            )
    mix_blocks = s.arrivals.segment_mix or []
    for i, mix_block in enumerate(mix_blocks):
        field = f"arrivals.segment_mix.{i}"
        if not s.opening <= mix_block.start < s.closing:
            raise ValueError(
                f"{field}.start: {_clock_text(mix_block.start)} must be within opening hours "
                f"[{_clock_text(s.opening)}, {_clock_text(s.closing)})"
            )
        for x in mix_block.shares:
            if x not in s.segments:
                raise ValueError(
                    f"{field}.shares: unknown segment {x!r}{_did_you_mean(x, s.segments)}; "
                    f"allowed: {sorted(s.segments)}"
                )
    # segments
    total = sum(seg.share for seg in s.segments.values())
    if abs(total - 1.0) > _SHARE_TOLERANCE:
        raise ValueError(
            f"segments.*.share: shares must sum to 1 (tolerance {_SHARE_TOLERANCE}), "
            f"got {total:.6g}"
        )
    names_b = set(s.business_types)
    for name, seg in s.segments.items():
        unknown = set(seg.business_mix) - names_b
        if unknown:
            raise ValueError(
                f"segments.{name}.business_mix: unknown business types {sorted(unknown)}; "
                f"allowed: {sorted(names_b)}"
            )
        mix = sum(seg.business_mix.values())
        if abs(mix - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(
                f"segments.{name}.business_mix: shares must sum to 1 "
                f"(tolerance {_SHARE_TOLERANCE}), got {mix:.6g}"
            )
    # journey
    if "waiting" not in s.journey or "service" not in s.journey:
        raise ValueError(f"journey: must include 'waiting' and 'service', got {s.journey}")
    if len(set(s.journey)) != len(s.journey):
        raise ValueError(f"journey: touchpoints must not repeat, got {s.journey}")
    order = [t for t in JOURNEY_TOUCHPOINTS if t in s.journey]
    if list(s.journey) != order:
        raise ValueError(f"journey: touchpoints must be in journey order {order}, got {s.journey}")
    _check_group_names(s, "counters", s.counters)
    _check_plan_hours(s.lobby.managers, "lobby.managers", s.opening, s.closing)
    # every (segment, business) with positive mix must be served by a staffed group
    for sname, seg in s.segments.items():
        if not _comes(s, sname):
            continue
        for bname, share in seg.business_mix.items():
            if share <= 0:
                continue
            if not _served(s, sname, bname):
                raise ValueError(
                    f"counters: no staffed counter group serves segment {sname!r} with business "
                    f"{bname!r}; every segment and business type must be served (check "
                    f"counters.*.segments, .business and .tellers > 0)"
                )


def _check_group_names(s: Scenario, field: str, counters: dict[str, CounterGroup]) -> None:
    names_s, names_b = set(s.segments), set(s.business_types)
    for gname, c in counters.items():
        for fname, listed in (
            ("segments", c.segments),
            ("priority", c.priority_order()),
            ("overflow", c.overflow or []),
        ):
            unknown = set(listed) - names_s
            if unknown:
                raise ValueError(
                    f"{field}.{gname}.{fname}: unknown segments {sorted(unknown)}; "
                    f"allowed: {sorted(names_s)}"
                )
        unknown = set(c.business) - names_b
        if unknown:
            raise ValueError(
                f"{field}.{gname}.business: unknown business types {sorted(unknown)}; "
                f"allowed: {sorted(names_b)}"
            )
        _check_plan_hours(c.tellers, f"{field}.{gname}.tellers", s.opening, s.closing)
        if isinstance(c.availability, list):
            for block in c.availability:
                if not s.opening <= block.start < s.closing:
                    raise ValueError(
                        f"{field}.{gname}.availability: block start "
                        f"{_clock_text(block.start)} must be within opening hours "
                        f"[{_clock_text(s.opening)}, {_clock_text(s.closing)})"
                    )


def _refuse_touchpoint_stage(s: Scenario, tname: str, stage: str) -> None:
    """Raise the error of a before_stage touchpoint naming no further stage."""
    field = f"touchpoints.{tname}.stage"
    if stage == s.first_stage:
        raise ValueError(
            f"{field}: {stage!r} is the first stage; a touchpoint before it has position "
            "'before_queue'"
        )
    further = list(s.stages)
    raise ValueError(
        f"{field}: unknown stage {stage!r}{_did_you_mean(stage, further)}; a before_stage "
        f"touchpoint precedes a further stage, allowed: {further}"
    )


def _check_stages(s: Scenario) -> None:
    """Check the stages and routes; every message names the field at fault."""
    names = s.stage_names
    if s.first_stage in s.stages:
        raise ValueError(
            f"stages.{s.first_stage}: the first stage {s.first_stage!r} is staffed by the "
            "counters table; name further stages differently (or set first_stage)"
        )
    for x in names:
        if "@" in x or "/" in x:
            raise ValueError(f"stages: stage name {x!r} must not contain '@' or '/'")
    for st_name, st in s.stages.items():
        field = f"stages.{st_name}"
        _check_group_names(s, f"{field}.counters", st.counters)
        for key, what, valid in (
            ("service", "business types", s.business_types),
            ("expected_wait", "segments", s.segments),
            ("service_expectation", "segments", s.segments),
        ):
            for k in getattr(st, key):
                if k not in valid:
                    raise ValueError(
                        f"{field}.{key}: unknown {what} {k!r}{_did_you_mean(k, valid)}; "
                        f"allowed: {sorted(valid)}"
                    )
    for bname, r in s.routes.items():
        if bname not in s.business_types:
            raise ValueError(
                f"routes.{bname}: unknown business type{_did_you_mean(bname, s.business_types)}; "
                f"allowed: {sorted(s.business_types)}"
            )
        for seg in r.segments:
            if seg not in s.segments:
                raise ValueError(
                    f"routes.{bname}.segments.{seg}: unknown segment"
                    f"{_did_you_mean(seg, s.segments)}; allowed: {sorted(s.segments)}"
                )
        specs = [(f"routes.{bname}", r)] + [
            (f"routes.{bname}.segments.{seg}", sp) for seg, sp in r.segments.items()
        ]
        for field, spec in specs:
            for x in spec.stages:
                if x not in names:
                    raise ValueError(
                        f"{field}.stages: unknown stage {x!r}{_did_you_mean(x, names)}; "
                        f"allowed: {names}"
                    )
            if all(spec.share.get(x, 1.0) < 1.0 for x in spec.stages):
                raise ValueError(
                    f"{field}.share: at least one stage of the route must have share 1 "
                    f"(so that everyone on it visits a stage), got {dict(spec.share)}"
                )
            order = [x for x in names if x in spec.stages]
            if len(set(spec.stages)) != len(spec.stages) or order != list(spec.stages):
                raise ValueError(
                    f"{field}.stages: stages must not repeat and must follow the order of "
                    f"the stages table {names}, got {spec.stages}"
                )
            for x in spec.share:
                if x not in spec.stages:
                    raise ValueError(
                        f"{field}.share: {x!r} is not a stage of this route "
                        f"{spec.stages}{_did_you_mean(x, spec.stages)}"
                    )
    for tname, tp in s.touchpoints.items():
        if tp.position == "before_stage" and tp.stage not in s.stages:
            _refuse_touchpoint_stage(s, tname, str(tp.stage))
    # every routed (segment, business) must be served, and have a service time, at each
    # later stage it may visit
    for sname, segm in s.segments.items():
        if not _comes(s, sname):
            continue
        for bname, share in segm.business_mix.items():
            if share <= 0:
                continue
            stages, shares = s.route(sname, bname)
            for x, p in zip(stages, shares, strict=True):
                if p <= 0 or x == s.first_stage:
                    continue
                st = s.stages[x]
                if bname not in st.service:
                    raise ValueError(
                        f"stages.{x}.service: no service time for business {bname!r}, which "
                        f"is routed to stage {x!r}; add stages.{x}.service.{bname}"
                    )
                if not _served(s.stage_view(x), sname, bname):
                    raise ValueError(
                        f"stages.{x}.counters: no staffed counter group serves segment "
                        f"{sname!r} with business {bname!r}, routed to stage {x!r} (check "
                        f"stages.{x}.counters.*.segments, .business and .tellers > 0)"
                    )
