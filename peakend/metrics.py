"""Survey metrics, the complaint iceberg and churn risk from remembered experience.

Banks read their customers through surveys: CSAT (satisfaction 1-5, overall and per
touchpoint), NPS (likelihood to recommend 0-10: % promoters 9-10 minus % detractors
0-6) and CES (customer effort). This module turns the *remembered* value of simulated
journeys (affect scale -10..10) into those answers through a documented,
configurable :class:`SurveyMapping`, with response noise from a numpy Generator you
pass, so that a simulated survey looks like a real one and policies read in the
figures managers already use (seed 001).

It also models the complaint iceberg of seed 002 (only a third to a twelfth of
dissatisfied customers complain: :class:`ComplaintModel`), the extra damage of a
marketing promise that is then missed (:func:`missed_promise_gap`), and the
probability of not returning after a visit (:class:`ChurnModel`).

The answer model
----------------
Every closed question is an *ordered* answer to a latent score: the latent score
is a linear function of the remembered value (or of effort), Gaussian response noise
is added, and the result is rounded to the nearest answer and clipped to the scale
(an ordered-probit model with equally spaced cut points). With ``rng=None`` no noise
is added (the modal answer). Defaults (see :class:`SurveyMapping`):

* CSAT = round(3 + (remembered - csat_center) / csat_step + noise), 1..5: a visit that
  just met expectations (remembered 0) answers 3, each 2.5 points of remembered
  value is one answer step, so +5 answers 5 and -5 answers 1.
* likelihood to recommend = round(ltr_at_zero + ltr_slope * remembered + noise),
  0..10: a visit that just met expectations answers 7.5 on average, a *passive*
  (Reichheld 2003: satisfied is not loyal); promoters need about +3, detractors
  about -2 or below.
* CES (CES 2.0 wording, Dixon, Toman & DeLisi 2013: "the bank made it easy to handle
  my business", 1 = strongly disagree .. 7 = strongly agree, higher is easier) =
  round(ces_no_effort - ces_per_wait_minute * perceived wait - ces_abandonment *
  abandoned - ces_repeat_visit * repeat visits + noise), 1..7.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

__all__ = [
    "SEED_COMPLAINT_RANGE",
    "SURVEY_METRICS",
    "ChurnModel",
    "ComplaintModel",
    "Survey",
    "SurveyMapping",
    "churn_probability",
    "complaint_iceberg",
    "complaints",
    "csat",
    "customer_effort",
    "early_warning",
    "likelihood_to_recommend",
    "missed_promise_gap",
    "net_promoter_score",
    "segment_survey_metrics",
    "survey",
    "with_marketing_uplift",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Share of dissatisfied customers who complain, as seed 002 (Goodman, *Customer
#: Experience 3.0*, 2014) gives it: "at most a third, more likely a twelfth".
SEED_COMPLAINT_RANGE: tuple[float, float] = (1.0 / 12.0, 1.0 / 3.0)

#: Name used for the whole population in per-segment tables.
ALL = "all"

#: The metrics of :func:`segment_survey_metrics`, in order: name -> description with unit.
SURVEY_METRICS: dict[str, str] = {
    "n_customers": "customers in the segment, count",
    "n_responses": "customers who answered the survey, count",
    "remembered": "mean remembered value of respondents, affect points (-10..10)",
    "csat": "mean CSAT answer, 1..5",
    "csat_top2": "respondents answering CSAT 4-5, %",
    "ltr": "mean likelihood-to-recommend answer, 0..10",
    "nps": "net promoter score: % promoters (9-10) minus % detractors (0-6), -100..100",
    "promoters": "respondents answering 9-10, %",
    "detractors": "respondents answering 0-6, %",
    "ces": "mean customer-effort answer, 1..7 (higher is easier)",
    "ces_easy": "respondents answering CES 5-7, %",
    "dissatisfied": "customers with remembered value below the complaint threshold, %",
    "complaints": "complaints received (iceberg: a share of the dissatisfied), count",
    "complaint_rate": "complaints per 100 customers, %",
}


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


@dataclass(frozen=True)
class ComplaintModel:
    """The complaint iceberg (seed 002): few dissatisfied customers complain.

    Parameters
    ----------
    probability : float
        Probability that a dissatisfied customer complains (0..1). Default 0.25, inside
        the seed's range :data:`SEED_COMPLAINT_RANGE` (1/12..1/3).
    threshold : float
        A customer is dissatisfied when the remembered value (affect points, -10..10)
        is strictly below this. Default -2.0 (about a CSAT answer of 2 or less).
    """

    probability: float = 0.25
    threshold: float = -2.0

    def __post_init__(self) -> None:
        _check(0.0 <= self.probability <= 1.0,
               f"probability must be in [0, 1], got {self.probability}")
        _check(-10.0 <= self.threshold <= 10.0,
               f"threshold must be in [-10, 10] (affect scale), got {self.threshold}")


@dataclass(frozen=True)
class ChurnModel:
    """Probability that a customer does not come back after a visit (logistic).

    ``P(churn | r) = 1 / (1 + exp(-(logit(base_rate) - log(odds_ratio) * r)))`` for
    remembered value ``r`` (affect points): ``base_rate`` at ``r = 0`` and each point of
    remembered value multiplies the odds of *returning* by ``odds_ratio``.

    Parameters
    ----------
    base_rate : float
        Churn probability per visit for a visit that just met expectations (0 < p < 1).
        Default 0.01: with about one visit a month, roughly 11 % a year, the order of
        magnitude of retail-bank attrition (an assumption to vary).
    odds_ratio : float
        Odds ratio of returning per remembered-value point (>= 1). Default 1.25: in the
        randomised colonoscopy trial of Redelmeier, Katz & Kahneman (2003) a better end
        (about 0.8 cm better on a 10 cm pain scale, i.e. about 1.6 points on the
        -10..10 affect scale) gave an odds ratio of 1.41 of returning, about 1.24 per
        point. An assumption to vary, not a banking estimate.
    """

    base_rate: float = 0.01
    odds_ratio: float = 1.25

    def __post_init__(self) -> None:
        _check(0.0 < self.base_rate < 1.0, f"base_rate must be in (0, 1), got {self.base_rate}")
        _check(math.isfinite(self.odds_ratio) and self.odds_ratio >= 1.0,
               f"odds_ratio must be >= 1, got {self.odds_ratio}")


# ---------------------------------------------------------------------------------------
# answers on arrays


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


# ---------------------------------------------------------------------------------------
# complaints, promises, churn


def complaints(
    remembered: ArrayLike,
    model: ComplaintModel | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Draw who complains: each dissatisfied customer complains with ``model.probability``.

    Parameters
    ----------
    remembered : array_like of float
        Remembered value per customer, affect points on -10..10.
    model : ComplaintModel, optional
        Threshold and complaint probability; default ``ComplaintModel()``.
    rng : numpy.random.Generator
        Source of the complaint draws (required unless the probability is 0 or 1).

    Returns
    -------
    dissatisfied, complained : ndarray of bool
        Per customer; ``complained`` implies ``dissatisfied``.
    """
    m = model or ComplaintModel()
    _check_rng(rng)
    r = _float_array(remembered, "remembered")
    dissatisfied = r < m.threshold
    if m.probability in (0.0, 1.0):
        return dissatisfied, dissatisfied & (m.probability == 1.0)
    _check(rng is not None, "rng is required to draw complaints when 0 < probability < 1")
    assert rng is not None
    return dissatisfied, dissatisfied & (rng.random(r.shape) < m.probability)


def missed_promise_gap(
    experience: ArrayLike,
    expectation: ArrayLike,
    uplift: ArrayLike,
    *,
    betrayal: float = 3.0,
) -> FloatArray:
    """Delta-law gap when marketing raised the expectation and the promise was missed.

    Seed 002 (Goodman 2014): a customer misled by marketing or sales loses two to four
    times more loyalty than from a front-line mistake or a faulty product, because the
    expectation was deliberately raised. Here the shortfall below the *raised*
    expectation ``expectation + uplift`` is split into the front-line part (below the
    original expectation) and the broken-promise part (between the original and the
    raised expectation, at most ``uplift``); the broken-promise part counts ``betrayal``
    times::

        gap = experience - (expectation + uplift)                  if that is >= 0
        gap = -(front_line + betrayal * broken_promise)            otherwise
        broken_promise = clip(expectation + uplift - experience, 0, uplift)
        front_line     = max(expectation - experience, 0)

    Feed the result to the value function (``peakend.affect.value``) to get the affect.
    ``betrayal = 1`` is the plain Delta law with the raised expectation; ``uplift = 0``
    is the plain Delta law.

    Parameters
    ----------
    experience, expectation : array_like of float
        Experience and (original) expectation, levels on the 0-10 experience scale
        (points).
    uplift : array_like of float
        Expectation raised by marketing (>= 0, points); broadcast.
    betrayal : float, keyword-only
        How many times a point of broken promise hurts more than a point of front-line
        shortfall (>= 1). Default 3.0, the middle of the seed's "two to four times".

    Returns
    -------
    ndarray of float64
        The effective gap (points of the 0-10 experience scale).

    Examples
    --------
    A front-line slip of 1 point, and a promise 1 point above the expectation missed by
    1 point:

    >>> missed_promise_gap([6.0, 7.0], [7.0, 7.0], [0.0, 1.0]).tolist()
    [-1.0, -3.0]
    """
    _check(math.isfinite(betrayal) and betrayal >= 1.0, f"betrayal must be >= 1, got {betrayal}")
    x = np.asarray(experience, dtype=np.float64)
    e = np.asarray(expectation, dtype=np.float64)
    u = np.asarray(uplift, dtype=np.float64)
    _check(bool(np.all(u >= 0)), "uplift must be >= 0")
    raised = e + u
    broken = np.clip(raised - x, 0.0, u)
    front = np.maximum(e - x, 0.0)
    return np.where(x >= raised, x - raised, -(front + betrayal * broken))


def with_marketing_uplift(
    journeys: Journeys,
    uplift: Mapping[str, float],
    *,
    betrayal: float = 3.0,
    segments: Sequence[str] | None = None,
    value_function: Mapping[str, Any] | None = None,
) -> Journeys:
    """Re-feel simulated journeys after marketing raised expectations at some touchpoints.

    At each touchpoint named in ``uplift`` the expectation is raised by that many points
    (the campaign's promise) and the affect becomes ``v(missed_promise_gap(experience,
    expectation, uplift, betrayal=betrayal))`` (see :func:`missed_promise_gap`): a point
    of broken promise hurts ``betrayal`` times a point of front-line shortfall, as seed
    002 says. Any part of the recorded affect that is not ``v(experience -
    expectation)`` (e.g. a fairness penalty) is kept. The remembered value is re-scored
    with the record's memory rule (``meta["rule"]``, default peak-end). Episodes without
    a recorded experience or expectation are left as they are.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    uplift : mapping of str to float
        Expectation raised per touchpoint name (>= 0, touchpoint scale 0..10).
    betrayal : float, keyword-only
        Weight of a broken-promise point relative to a front-line point (>= 1). Default
        3.0, the middle of the seed's "two to four times".
    segments : sequence of str, optional
        Segments the campaign reached; default all.
    value_function : mapping, optional
        Keyword arguments of :func:`peakend.affect.value` (e.g.
        ``scenario.value_function.model_dump()``); default its defaults.

    Returns
    -------
    Journeys
        A new record with raised ``expectation``, re-felt ``affect`` and re-scored
        ``remembered``.

    Raises
    ------
    ValueError
        If a touchpoint or segment is unknown, an uplift is negative, or ``betrayal < 1``.
    """
    from peakend import affect as _affect
    from peakend.journeys import Journeys as _Journeys

    _check(math.isfinite(betrayal) and betrayal >= 1.0, f"betrayal must be >= 1, got {betrayal}")
    n_tp = len(journeys.touchpoints)
    up = np.zeros(n_tp)
    for name, u in uplift.items():
        _check(name in journeys.touchpoints,
               f"uplift names unknown touchpoint {name!r}; touchpoints are "
               f"{list(journeys.touchpoints)}")
        _check(math.isfinite(float(u)) and float(u) >= 0, f"uplift[{name!r}] must be >= 0")
        up[journeys.touchpoints.index(name)] = float(u)
    reached = np.ones(len(journeys.segments), dtype=bool)
    if segments is not None:
        reached[:] = False
        for sname in segments:
            reached[journeys.code("segments", sname)] = True
    vf = dict(value_function or {})
    ep = journeys.episodes
    tp = np.asarray(ep["touchpoint"], dtype=np.int64)
    seg = np.asarray(journeys.customers["segment"], dtype=np.int64)[journeys.episode_customer]
    x = np.asarray(ep["experience"], dtype=np.float64)
    e = np.asarray(ep["expectation"], dtype=np.float64)
    u_ep = np.where(reached[seg], up[tp], 0.0)
    hit = (u_ep > 0) & np.isfinite(x) & np.isfinite(e)
    x0, e0, u0 = np.where(hit, x, 0.0), np.where(hit, e, 0.0), np.where(hit, u_ep, 0.0)
    gap = missed_promise_gap(x0, e0, u0, betrayal=betrayal)
    a_old = np.asarray(ep["affect"], dtype=np.float64)
    a_new = np.where(hit, a_old + _affect.value(gap, **vf) - _affect.value(x0 - e0, **vf), a_old)
    episodes = {k: np.asarray(v) for k, v in ep.items()}
    episodes["affect"] = np.clip(a_new, -10.0, 10.0)
    episodes["expectation"] = np.where(hit, e + u_ep, e)
    customers = {k: np.asarray(v) for k, v in journeys.customers.items()}
    out = _Journeys(
        customers, episodes, journeys.offsets, segments=journeys.segments,
        business_types=journeys.business_types, touchpoints=journeys.touchpoints,
        counters=journeys.counters, queue=dict(journeys.queue), meta=journeys.meta,
        validate=False, stage_visits=dict(journeys.stage_visits), stages=journeys.stages,
        stage_queue=dict(journeys.stage_queue),
    )
    rule = str(journeys.meta.get("rule", "peak_end"))
    params = dict(journeys.meta.get("rule_params", {}))
    customers["remembered"] = np.asarray(out.score(rule, **params), dtype=np.float64)
    return _Journeys(
        customers, episodes, journeys.offsets, segments=journeys.segments,
        business_types=journeys.business_types, touchpoints=journeys.touchpoints,
        counters=journeys.counters, queue=dict(journeys.queue), meta=journeys.meta,
        validate=False, stage_visits=dict(journeys.stage_visits), stages=journeys.stages,
        stage_queue=dict(journeys.stage_queue),
    )


def churn_probability(remembered: ArrayLike, model: ChurnModel | None = None) -> FloatArray:
    """Probability of not returning after a visit, falling with the remembered value.

    Parameters
    ----------
    remembered : array_like of float
        Remembered value per customer, affect points on -10..10.
    model : ChurnModel, optional
        Logistic churn model; default ``ChurnModel()``.

    Returns
    -------
    ndarray of float64
        Probabilities in (0, 1).

    Examples
    --------
    >>> p = churn_probability([-5.0, 0.0, 5.0])
    >>> round(float(p[1]), 3), bool(p[0] > p[1] > p[2])
    (0.01, True)
    """
    m = model or ChurnModel()
    r = _float_array(remembered, "remembered")
    z = math.log(m.base_rate / (1.0 - m.base_rate)) - math.log(m.odds_ratio) * r
    return 1.0 / (1.0 + np.exp(-z))


def early_warning(remembered: ArrayLike, threshold: float = -3.0) -> IntArray:
    """Return the customers whose remembered value is below a threshold, worst first.

    Parameters
    ----------
    remembered : array_like of float
        Remembered value per customer, affect points on -10..10.
    threshold : float
        Flag customers strictly below this (affect points). Default -3.0.

    Returns
    -------
    ndarray of int64
        Customer indices sorted by remembered value, lowest first (a call list).

    Examples
    --------
    >>> early_warning([1.0, -4.0, -8.0, -2.0]).tolist()
    [2, 1]
    """
    _check(math.isfinite(threshold), f"threshold must be finite, got {threshold}")
    r = _float_array(remembered, "remembered")
    idx = np.flatnonzero(r < threshold)
    return idx[np.argsort(r[idx], kind="stable")].astype(np.int64)


# ---------------------------------------------------------------------------------------
# surveys of simulated journeys


def _remembered_of(journeys: Journeys, remembered: ArrayLike | None) -> FloatArray:
    """Remembered value per customer: given, else the record's column, else scored."""
    n = journeys.n_customers
    if remembered is not None:
        r = np.asarray(remembered, dtype=np.float64)
        _check(r.shape == (n,), f"remembered must have shape ({n},) (one per customer), "
                                f"got {r.shape}")
        return r
    r = np.asarray(journeys.customers["remembered"], dtype=np.float64)
    if n and np.all(np.isnan(r)):
        rule = str(journeys.meta.get("rule", "peak_end"))
        params = dict(journeys.meta.get("rule_params", {}))
        r = np.asarray(journeys.score(rule, **params), dtype=np.float64)
    return r


def _perceived_wait_of(journeys: Journeys) -> FloatArray:
    c = journeys.customers
    pw = np.asarray(c["perceived_wait"], dtype=np.float64)
    return np.where(np.isnan(pw), np.asarray(c["wait"], dtype=np.float64), pw)


def _group_mean(values: FloatArray, codes: IntArray, n_groups: int) -> tuple[FloatArray, IntArray]:
    """Per-group means (NaN for empty groups) and counts, plus the total as the last entry."""
    counts = np.bincount(codes, minlength=n_groups).astype(np.int64)
    sums = np.bincount(codes, weights=values, minlength=n_groups)
    counts = np.append(counts, counts.sum())
    sums = np.append(sums, sums.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def _customer_touchpoint_affect(journeys: Journeys) -> tuple[IntArray, IntArray, FloatArray]:
    """Mean affect per (customer, touchpoint) pair that occurs: rows, touchpoints, means."""
    n_tp = len(journeys.touchpoints)
    cust = journeys.episode_customer
    tp = np.asarray(journeys.episodes["touchpoint"], dtype=np.int64)
    key = cust * n_tp + tp
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=journeys.episodes["affect"], minlength=uniq.size)
    counts = np.bincount(inverse, minlength=uniq.size)
    return uniq // n_tp, uniq % n_tp, sums / counts


@dataclass(frozen=True, eq=False)
class Survey:
    """A simulated customer survey of a :class:`~peakend.journeys.Journeys` record.

    Attributes
    ----------
    segments : tuple of str
        Segment names (codes in ``responses["segment"]``).
    touchpoints : tuple of str
        Touchpoint names (columns of :attr:`touchpoint_csat`).
    responses : dict of str to ndarray
        Per customer: ``segment`` (code), ``remembered`` (affect points),
        ``responded`` (bool), ``csat`` (1..5), ``ltr`` (0..10), ``ces`` (1..7); answers
        of non-respondents are -1.
    touchpoint_csat : ndarray of float64, shape (n_segments + 1, n_touchpoints)
        Mean CSAT (1..5) per segment (last row: all customers) and touchpoint, among
        respondents who visited the touchpoint; NaN where none did.
    touchpoint_n : ndarray of int64, same shape
        Number of ratings behind each entry of :attr:`touchpoint_csat`.
    """

    segments: tuple[str, ...]
    touchpoints: tuple[str, ...]
    responses: dict[str, NDArray[Any]]
    touchpoint_csat: FloatArray
    touchpoint_n: IntArray

    def by_segment(self) -> dict[str, dict[str, float]]:
        """Per-segment survey metrics, plus ``"all"``.

        Returns
        -------
        dict of str to dict of str to float
            ``{segment: {metric: value}}`` with metrics ``n_customers``, ``n_responses``,
            ``remembered`` (mean, affect points), ``csat`` (mean 1..5), ``csat_top2``
            (% answering 4-5), ``ltr`` (mean 0..10), ``nps`` (percentage points),
            ``promoters`` and ``detractors`` (%), ``ces`` (mean 1..7, higher easier),
            ``ces_easy`` (% answering 5-7). NaN where a segment has no respondents.
        """
        r = self.responses
        n_seg = len(self.segments)
        seg = r["segment"].astype(np.int64)
        ok = r["responded"]
        s_ok = seg[ok]
        _, n_customers = _group_mean(np.zeros(seg.size), seg, n_seg)
        cols: dict[str, FloatArray] = {}
        n_resp: IntArray = np.zeros(n_seg + 1, dtype=np.int64)
        for name, values in (
            ("remembered", r["remembered"][ok]),
            ("csat", r["csat"][ok].astype(np.float64)),
            ("csat_top2", 100.0 * (r["csat"][ok] >= 4)),
            ("ltr", r["ltr"][ok].astype(np.float64)),
            ("promoters", 100.0 * (r["ltr"][ok] >= 9)),
            ("detractors", 100.0 * (r["ltr"][ok] <= 6)),
            ("ces", r["ces"][ok].astype(np.float64)),
            ("ces_easy", 100.0 * (r["ces"][ok] >= 5)),
        ):
            cols[name], n_resp = _group_mean(np.asarray(values, dtype=np.float64), s_ok, n_seg)
        cols["nps"] = cols["promoters"] - cols["detractors"]
        order = ("n_customers", "n_responses", "remembered", "csat", "csat_top2", "ltr", "nps",
                 "promoters", "detractors", "ces", "ces_easy")
        out: dict[str, dict[str, float]] = {}
        for i, name in enumerate((*self.segments, ALL)):
            row = {"n_customers": float(n_customers[i]), "n_responses": float(n_resp[i])}
            row.update({k: float(cols[k][i]) for k in order[2:]})
            out[name] = row
        return out

    def touchpoint_table(self) -> dict[str, dict[str, float]]:
        """Mean CSAT per segment (plus ``"all"``) and touchpoint: ``{segment: {tp: csat}}``."""
        return {
            s: {t: float(self.touchpoint_csat[i, k]) for k, t in enumerate(self.touchpoints)}
            for i, s in enumerate((*self.segments, ALL))
        }

    def to_pandas(self, table: str = "segments") -> Any:
        """Return a table as a :class:`pandas.DataFrame` (needs pandas).

        Parameters
        ----------
        table : {"segments", "touchpoints", "responses"}
            Per-segment metrics (rows: segments and ``"all"``), per segment x touchpoint
            mean CSAT (long format: segment, touchpoint, csat, n), or per-customer answers.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        if table == "segments":
            return pd.DataFrame.from_dict(self.by_segment(), orient="index").rename_axis(
                "segment"
            )
        if table == "touchpoints":
            names = (*self.segments, ALL)
            rows = [
                (names[i], t, float(self.touchpoint_csat[i, k]), int(self.touchpoint_n[i, k]))
                for i in range(len(names))
                for k, t in enumerate(self.touchpoints)
            ]
            return pd.DataFrame(rows, columns=["segment", "touchpoint", "csat", "n"])
        if table == "responses":
            frame = pd.DataFrame(self.responses)
            frame["segment"] = pd.Categorical.from_codes(
                self.responses["segment"].astype(np.int64), categories=pd.Index(self.segments)
            )
            return frame
        raise ValueError(f"table must be 'segments', 'touchpoints' or 'responses', got {table!r}")


def survey(
    journeys: Journeys,
    mapping: SurveyMapping | None = None,
    rng: np.random.Generator | None = None,
    *,
    remembered: ArrayLike | None = None,
    repeat_visits: ArrayLike | None = None,
) -> Survey:
    """Survey every customer of a simulated record: CSAT, likelihood to recommend, CES.

    Overall CSAT and likelihood to recommend come from the remembered value; CSAT per
    touchpoint from the mean momentary affect of the customer's episodes at that
    touchpoint; CES from the perceived wait, abandonment and repeat visits (see the
    module docstring for the answer model). Customers whose remembered value is NaN
    (no episodes) do not answer.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    mapping : SurveyMapping, optional
        Answer model; default ``SurveyMapping()``.
    rng : numpy.random.Generator, optional
        Source of response noise and of who responds; None gives noiseless answers
        (then ``mapping.response_rate`` must be 1).
    remembered : array_like of float, optional
        Remembered value per customer (affect points) to use instead of
        ``journeys.customers["remembered"]`` (e.g. under another memory rule).
    repeat_visits : array_like of int, optional
        Earlier visits per customer for the same business (CES), default 0.

    Returns
    -------
    Survey
        Per-customer answers and per-segment / per-touchpoint tables.

    Raises
    ------
    ValueError
        If ``remembered`` or ``repeat_visits`` has the wrong length, or ``rng`` is None
        with a response rate below 1.
    """
    m = mapping or SurveyMapping()
    _check_rng(rng)
    n = journeys.n_customers
    r = _remembered_of(journeys, remembered)
    responded = ~np.isnan(r)
    if m.response_rate < 1.0:
        _check(rng is not None, "rng is required when mapping.response_rate < 1")
        assert rng is not None
        responded &= rng.random(n) < m.response_rate
    r0 = np.where(responded, r, 0.0)
    answers_csat = np.where(responded, csat(r0, m, rng), -1)
    answers_ltr = np.where(responded, likelihood_to_recommend(r0, m, rng), -1)
    if repeat_visits is not None:
        rv = np.asarray(repeat_visits)
        _check(rv.shape == (n,), f"repeat_visits must have shape ({n},), got {rv.shape}")
    answers_ces = np.where(
        responded,
        customer_effort(_perceived_wait_of(journeys), journeys.abandoned, repeat_visits, m, rng),
        -1,
    )
    seg = np.asarray(journeys.customers["segment"], dtype=np.int64)
    responses: dict[str, NDArray[Any]] = {
        "segment": seg,
        "remembered": r,
        "responded": responded,
        "csat": answers_csat,
        "ltr": answers_ltr,
        "ces": answers_ces,
    }
    # per touchpoint: one rating per (respondent, touchpoint) from the mean affect there
    n_seg, n_tp = len(journeys.segments), len(journeys.touchpoints)
    rows, tps, mean_affect = _customer_touchpoint_affect(journeys)
    keep = responded[rows]
    rows, tps, mean_affect = rows[keep], tps[keep], mean_affect[keep]
    ratings = csat(mean_affect, m, rng).astype(np.float64)
    cell = seg[rows] * n_tp + tps
    sums = np.bincount(cell, weights=ratings, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
    counts = np.bincount(cell, minlength=n_seg * n_tp).reshape(n_seg, n_tp).astype(np.int64)
    sums = np.vstack([sums, sums.sum(axis=0)])
    counts = np.vstack([counts, counts.sum(axis=0)])
    with np.errstate(invalid="ignore", divide="ignore"):
        tp_csat = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return Survey(
        segments=tuple(journeys.segments),
        touchpoints=tuple(journeys.touchpoints),
        responses=responses,
        touchpoint_csat=tp_csat,
        touchpoint_n=counts,
    )


def complaint_iceberg(
    journeys: Journeys,
    model: ComplaintModel | None = None,
    rng: np.random.Generator | None = None,
    *,
    remembered: ArrayLike | None = None,
) -> dict[str, dict[str, float]]:
    """Complaints a manager sees next to the dissatisfaction really there, per segment.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    model : ComplaintModel, optional
        Dissatisfaction threshold and complaint probability; default ``ComplaintModel()``.
    rng : numpy.random.Generator
        Source of the complaint draws (required unless the probability is 0 or 1).
    remembered : array_like of float, optional
        Remembered values to use instead of ``journeys.customers["remembered"]``,
        affect points on -10..10 (affect x minutes if scored with ``integral``).

    Returns
    -------
    dict of str to dict of str to float
        ``{segment or "all": {metric: value}}`` with ``customers``, ``dissatisfied``,
        ``complaints`` (counts), ``unheard`` (dissatisfied who did not complain),
        ``complaint_share`` (complaints / dissatisfied, NaN if none dissatisfied) and
        ``iceberg_ratio`` (dissatisfied / complaints, NaN if no complaint).
    """
    r = _remembered_of(journeys, remembered)
    valid = ~np.isnan(r)
    dissatisfied, complained = complaints(np.where(valid, r, np.inf), model, rng)
    seg = np.asarray(journeys.customers["segment"], dtype=np.int64)
    n_seg = len(journeys.segments)

    def count(mask: NDArray[np.bool_]) -> IntArray:
        c = np.bincount(seg[mask], minlength=n_seg).astype(np.int64)
        return np.append(c, c.sum())

    n_cust, n_dis, n_com = count(valid), count(dissatisfied), count(complained)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate((*journeys.segments, ALL)):
        d, c = float(n_dis[i]), float(n_com[i])
        out[name] = {
            "customers": float(n_cust[i]),
            "dissatisfied": d,
            "complaints": c,
            "unheard": d - c,
            "complaint_share": c / d if d > 0 else math.nan,
            "iceberg_ratio": d / c if c > 0 else math.nan,
        }
    return out


def segment_survey_metrics(
    journeys: Journeys,
    mapping: SurveyMapping | None = None,
    rng: np.random.Generator | None = None,
    *,
    complaint_model: ComplaintModel | None = None,
    remembered: ArrayLike | None = None,
) -> dict[str, dict[str, float]]:
    """Per-segment scalars of a simulated survey and the complaint iceberg.

    Meant to be called once per replication by the experiment layer: its keys become the
    ``segment`` and ``metric`` columns of the tidy results.

    Parameters
    ----------
    journeys : Journeys
        One replication's customers.
    mapping : SurveyMapping, optional
        Answer model; default ``SurveyMapping()``.
    rng : numpy.random.Generator, optional
        Source of response noise and complaint draws; None gives noiseless answers and
        expected complaint counts (dissatisfied x probability).
    complaint_model : ComplaintModel, optional
        Default ``ComplaintModel()``.
    remembered : array_like of float, optional
        Remembered values to use instead of ``journeys.customers["remembered"]``,
        affect points on -10..10 (affect x minutes if scored with ``integral``).

    Returns
    -------
    dict of str to dict of str to float
        ``{segment or "all": {metric: value}}``, the segments in the record's order then
        ``"all"``; the metrics are exactly :data:`SURVEY_METRICS`, in its order: those of
        :meth:`Survey.by_segment` plus ``dissatisfied`` (%), ``complaints`` (count) and
        ``complaint_rate`` (complaints per 100 customers).
    """
    res = survey(journeys, mapping, rng, remembered=remembered).by_segment()
    cm = complaint_model or ComplaintModel()
    if rng is None:
        ice = complaint_iceberg(journeys, ComplaintModel(1.0, cm.threshold), None,
                                remembered=remembered)
        for row in ice.values():
            row["complaints"] = row["dissatisfied"] * cm.probability
    else:
        ice = complaint_iceberg(journeys, cm, rng, remembered=remembered)
    for name, row in res.items():
        n = ice[name]["customers"]
        row["dissatisfied"] = 100.0 * ice[name]["dissatisfied"] / n if n > 0 else math.nan
        row["complaints"] = ice[name]["complaints"]
        row["complaint_rate"] = 100.0 * ice[name]["complaints"] / n if n > 0 else math.nan
    return {name: {k: row[k] for k in SURVEY_METRICS} for name, row in res.items()}
