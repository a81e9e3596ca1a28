"""Survey answers on arrays: the answer model (:class:`SurveyMapping`), CSAT, NPS and CES."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


def _finite(name: str, value: float) -> None:
    _check(math.isfinite(value), f"{name} must be finite, got {value!r}")


@dataclass(frozen=True)
class SurveyMapping:
    """How a simulated customer answers a survey (ordered answers with response noise).

    Parameters
    ----------
    csat_center : float
        Remembered value (affect points, -10..10) whose expected CSAT answer is 3
        (neutral). Default 0: a visit that met expectations.
    csat_step : float
        Remembered-value points per CSAT answer step (> 0). Default 2.5, so +5 answers 5
        and -5 answers 1.
    csat_noise : float
        Standard deviation of response noise, in CSAT answer steps (>= 0). Default 0.6.
    ltr_at_zero : float
        Expected likelihood-to-recommend answer (0..10) for remembered value 0. Default
        7.5: meeting expectations makes a passive.
    ltr_slope : float
        Likelihood-to-recommend points per remembered-value point (> 0). Default 0.5.
    ltr_noise : float
        Standard deviation of response noise, in likelihood-to-recommend points (>= 0).
        Default 1.0.
    ces_no_effort : float
        Expected CES answer (1..7, 7 = very easy) of a customer served without waiting.
        Default 6.0.
    ces_per_wait_minute : float
        CES points lost per minute of *perceived* wait (>= 0). Default 0.08 (25 minutes
        perceived cost two points).
    ces_abandonment : float
        CES points lost by a customer who balked or reneged and must come back (>= 0).
        Default 2.0.
    ces_repeat_visit : float
        CES points lost per earlier visit for the same business (>= 0). Default 1.0.
    ces_noise : float
        Standard deviation of response noise, in CES points (>= 0). Default 0.7.
    response_rate : float
        Probability that a customer answers the survey (0 < rate <= 1). Default 1.0
        (everyone answers; real surveys get far fewer answers). Below 1 needs an ``rng``.
    """

    csat_center: float = 0.0
    csat_step: float = 2.5
    csat_noise: float = 0.6
    ltr_at_zero: float = 7.5
    ltr_slope: float = 0.5
    ltr_noise: float = 1.0
    ces_no_effort: float = 6.0
    ces_per_wait_minute: float = 0.08
    ces_abandonment: float = 2.0
    ces_repeat_visit: float = 1.0
    ces_noise: float = 0.7
    response_rate: float = 1.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            _finite(name, float(getattr(self, name)))
        _check(self.csat_step > 0, f"csat_step must be > 0, got {self.csat_step}")
        _check(self.ltr_slope > 0, f"ltr_slope must be > 0, got {self.ltr_slope}")
        for name in ("csat_noise", "ltr_noise", "ces_noise", "ces_per_wait_minute",
                     "ces_abandonment", "ces_repeat_visit"):
            _check(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        _check(0 < self.response_rate <= 1,
               f"response_rate must be in (0, 1], got {self.response_rate}")



def _float_array(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    _check(arr.ndim == 1, f"{name} must be a 1-d array, got shape {arr.shape}")
    _check(bool(np.all(np.isfinite(arr))), f"{name} must be finite")
    return arr


def _ordinal(
    latent: FloatArray, lo: int, hi: int, noise: float, rng: np.random.Generator | None
) -> IntArray:
    """Round ``latent + N(0, noise)`` to the nearest integer answer in ``lo..hi``."""
    if rng is not None and noise > 0:
        latent = latent + rng.normal(0.0, noise, size=latent.shape)
    return np.clip(np.floor(latent + 0.5), lo, hi).astype(np.int64)


def _check_rng(rng: object) -> None:
    _check(rng is None or isinstance(rng, np.random.Generator),
           f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")


def csat(
    remembered: ArrayLike,
    mapping: SurveyMapping | None = None,
    rng: np.random.Generator | None = None,
) -> IntArray:
    """Answer "how satisfied were you?" on 1..5 from remembered values.

    Parameters
    ----------
    remembered : array_like of float
        Remembered value per customer (or momentary affect per episode, for a
        per-touchpoint CSAT), affect points on -10..10.
    mapping : SurveyMapping, optional
        Answer model; default ``SurveyMapping()``.
    rng : numpy.random.Generator, optional
        Source of response noise; None gives the noiseless (modal) answer.

    Returns
    -------
    ndarray of int64
        CSAT answers, 1 (very dissatisfied) .. 5 (very satisfied).

    Examples
    --------
    >>> csat([-10.0, -5.0, 0.0, 2.5, 5.0]).tolist()
    [1, 1, 3, 4, 5]
    """
    m = mapping or SurveyMapping()
    _check_rng(rng)
    r = _float_array(remembered, "remembered")
    latent = 3.0 + (r - m.csat_center) / m.csat_step
    return _ordinal(latent, 1, 5, m.csat_noise, rng)


def likelihood_to_recommend(
    remembered: ArrayLike,
    mapping: SurveyMapping | None = None,
    rng: np.random.Generator | None = None,
) -> IntArray:
    """Answer "how likely are you to recommend us?" on 0..10 from remembered values.

    Parameters
    ----------
    remembered : array_like of float
        Remembered value per customer, affect points on -10..10.
    mapping : SurveyMapping, optional
        Answer model; default ``SurveyMapping()``.
    rng : numpy.random.Generator, optional
        Source of response noise; None gives the noiseless (modal) answer.

    Returns
    -------
    ndarray of int64
        Answers 0..10 (9-10 promoters, 7-8 passives, 0-6 detractors).

    Examples
    --------
    >>> likelihood_to_recommend([-10.0, 0.0, 3.0, 10.0]).tolist()
    [3, 8, 9, 10]
    """
    m = mapping or SurveyMapping()
    _check_rng(rng)
    r = _float_array(remembered, "remembered")
    return _ordinal(m.ltr_at_zero + m.ltr_slope * r, 0, 10, m.ltr_noise, rng)


def net_promoter_score(ltr: ArrayLike) -> float:
    """Net promoter score (Reichheld 2003) of likelihood-to-recommend answers.

    Parameters
    ----------
    ltr : array_like of int
        Answers on 0..10.

    Returns
    -------
    float
        Percentage of promoters (9-10) minus percentage of detractors (0-6), in
        percentage points on -100..100; NaN for no answers.

    Examples
    --------
    >>> net_promoter_score([10, 9, 8, 7, 6, 0])
    0.0
    >>> net_promoter_score([10, 9, 9, 3])
    50.0
    """
    a = np.asarray(ltr)
    _check(a.ndim == 1, f"ltr must be a 1-d array, got shape {a.shape}")
    if a.size == 0:
        return math.nan
    _check(bool(np.all((a >= 0) & (a <= 10))), "ltr answers must be in 0..10")
    return float(100.0 * (np.mean(a >= 9) - np.mean(a <= 6)))


def customer_effort(
    perceived_wait: ArrayLike,
    abandoned: ArrayLike | None = None,
    repeat_visits: ArrayLike | None = None,
    mapping: SurveyMapping | None = None,
    rng: np.random.Generator | None = None,
) -> IntArray:
    """Answer the customer-effort question (CES 2.0, 1..7, 7 = very easy).

    Parameters
    ----------
    perceived_wait : array_like of float
        Perceived wait per customer, minutes (>= 0).
    abandoned : array_like of bool, optional
        Customer balked or reneged (left without service and must come back).
    repeat_visits : array_like of int, optional
        Earlier visits for the same business (>= 0), e.g. from :mod:`peakend.loyalty`.
    mapping : SurveyMapping, optional
        Answer model; default ``SurveyMapping()``.
    rng : numpy.random.Generator, optional
        Source of response noise; None gives the noiseless (modal) answer.

    Returns
    -------
    ndarray of int64
        Answers 1..7, higher is easier (less effort).

    Examples
    --------
    >>> customer_effort([0.0, 12.5, 25.0, 5.0], abandoned=[False, False, False, True]).tolist()
    [6, 5, 4, 4]
    """
    m = mapping or SurveyMapping()
    _check_rng(rng)
    w = _float_array(perceived_wait, "perceived_wait")
    _check(bool(np.all(w >= 0)), "perceived_wait must be >= 0 minutes")
    latent = m.ces_no_effort - m.ces_per_wait_minute * w
    if abandoned is not None:
        ab = np.asarray(abandoned, dtype=bool)
        _check(ab.shape == w.shape, "abandoned must have the same length as perceived_wait")
        latent = latent - m.ces_abandonment * ab
    if repeat_visits is not None:
        rv = np.asarray(repeat_visits, dtype=np.float64)
        _check(rv.shape == w.shape, "repeat_visits must have the same length as perceived_wait")
        _check(bool(np.all(rv >= 0)), "repeat_visits must be >= 0")
        latent = latent - m.ces_repeat_visit * rv
    return _ordinal(latent, 1, 7, m.ces_noise, rng)
