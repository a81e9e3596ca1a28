"""What customers do after a visit: complain (the iceberg), feel a missed promise, not return."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from peakend.metrics.answers import FloatArray, IntArray, _check, _check_rng, _float_array

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

#: Share of dissatisfied customers who complain, as seed 002 (Goodman, *Customer
#: Experience 3.0*, 2014) gives it: "at most a third, more likely a twelfth".
SEED_COMPLAINT_RANGE: tuple[float, float] = (1.0 / 12.0, 1.0 / 3.0)


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
