"""Duration distributions (service times, patience), minutes, discriminated by ``kind``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from peakend.config.base import _SHARE_TOLERANCE, Model

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
