"""Customer-experience management: the seven-step gap analysis and moments of truth.

The seven-step customer-experience-management (CEM) method of seed 000 (a Hong Kong
electronics chain, "美蘇電器") measures, per factor, the experience customers get and the
experience they expect (on 0..10), and then

1. satisfaction = experience - expectation (the Delta law);
2. weighted satisfaction = importance x satisfaction;
3. the *key experience* is the factor with the most negative weighted satisfaction;
4. the experience gap = experience - ideal experience.

:func:`gap_analysis` computes that table from numbers a survey gives;
:func:`importance_from_journeys` estimates importance from simulated journeys by
regressing the remembered value on the per-touchpoint affects, and
:func:`gap_analysis_from_journeys` runs the same table on simulated data.
:func:`moments_of_truth` classifies touchpoints as neutral, positive or negative
moments of truth (seed 000) from where the customers' peaks come from.

All functions work on whole arrays (no Python loop over customers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

__all__ = [
    "GapTable",
    "ImportanceFit",
    "MomentsOfTruth",
    "gap_analysis",
    "gap_analysis_from_journeys",
    "importance_from_journeys",
    "moments_of_truth",
    "touchpoint_matrix",
]

FloatArray = NDArray[np.float64]

_GAP_COLUMNS = (
    "experience",
    "expectation",
    "satisfaction",
    "importance",
    "weighted",
    "ideal",
    "gap",
)


@dataclass(frozen=True, eq=False)
class GapTable:
    """Result of the seven-step gap analysis, one row per factor.

    Attributes
    ----------
    factors : tuple of str
        Factor (or touchpoint) names, in input order.
    experience, expectation : ndarray of float64
        Experienced and expected level per factor (the survey's scale, e.g. 0..10).
        NaN where not given.
    satisfaction : ndarray of float64
        ``experience - expectation`` (Delta law), NaN if either is missing.
    importance : ndarray of float64
        Importance weight per factor (the survey's scale, e.g. 0..10), NaN if not given.
    weighted : ndarray of float64
        ``importance * satisfaction`` (weighted satisfaction), NaN if either is missing.
    ideal : ndarray of float64
        Ideal (target) experience per factor, NaN if not given.
    gap : ndarray of float64
        Experience gap ``experience - ideal``, NaN if either is missing.
    key : str or None
        The key experience: the factor with the most negative weighted satisfaction
        (ties go to the first factor in input order); None if no weighted
        satisfaction is negative.
    """

    factors: tuple[str, ...]
    experience: FloatArray
    expectation: FloatArray
    satisfaction: FloatArray
    importance: FloatArray
    weighted: FloatArray
    ideal: FloatArray
    gap: FloatArray
    key: str | None

    def row(self, factor: str) -> dict[str, float]:
        """Return one factor's row as a dict ``{column: value}``.

        Parameters
        ----------
        factor : str
            A name in :attr:`factors`.

        Returns
        -------
        dict of str to float
            Keys ``experience, expectation, satisfaction, importance, weighted, ideal, gap``.
        """
        if factor not in self.factors:
            raise ValueError(f"factor must be one of {list(self.factors)}, got {factor!r}")
        i = self.factors.index(factor)
        return {c: float(getattr(self, c)[i]) for c in _GAP_COLUMNS}

    def to_dict(self) -> dict[str, dict[str, float]]:
        """Return the table as ``{factor: {column: value}}``."""
        return {f: self.row(f) for f in self.factors}

    def ranking(self) -> list[str]:
        """Return the factors ordered from the most negative weighted satisfaction up.

        Factors without a weighted satisfaction (NaN) come last, in input order.
        """
        order = np.argsort(np.where(np.isnan(self.weighted), np.inf, self.weighted), kind="stable")
        return [self.factors[i] for i in order]

    def to_pandas(self) -> Any:
        """Return a :class:`pandas.DataFrame` indexed by factor (needs pandas).

        Returns
        -------
        pandas.DataFrame
            Columns as in :meth:`row`, plus a boolean ``key`` column.
        """
        import pandas as pd

        frame = pd.DataFrame(
            {c: getattr(self, c) for c in _GAP_COLUMNS},
            index=pd.Index(list(self.factors), name="factor"),
        )
        frame["key"] = [f == self.key for f in self.factors]
        return frame

    def __str__(self) -> str:
        header = f"{'factor':<16}" + "".join(f"{c:>13}" for c in _GAP_COLUMNS)
        lines = [header]
        for f in self.factors:
            r = self.row(f)
            mark = " *" if f == self.key else ""
            lines.append(
                f"{f:<16}" + "".join(f"{r[c]:>13.4g}" for c in _GAP_COLUMNS) + mark
            )
        return "\n".join(lines)


def _as_factor_array(
    values: Mapping[str, float] | ArrayLike | None,
    factors: Sequence[str],
    name: str,
) -> FloatArray:
    """Align a mapping or an array of per-factor values to ``factors`` (NaN if missing)."""
    n = len(factors)
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, Mapping):
        unknown = [k for k in values if k not in factors]
        if unknown:
            raise ValueError(f"{name} has factors not in the experience: {unknown}")
        out = np.full(n, np.nan)
        for i, f in enumerate(factors):
            if f in values:
                out[i] = float(values[f])
        return out
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be a 1-d array of length {n} (one per factor), "
                         f"got shape {arr.shape}")
    return arr.copy()


def gap_analysis(
    experience: Mapping[str, float] | ArrayLike,
    expectation: Mapping[str, float] | ArrayLike,
    importance: Mapping[str, float] | ArrayLike | None = None,
    ideal: Mapping[str, float] | ArrayLike | None = None,
    *,
    factors: Sequence[str] | None = None,
) -> GapTable:
    """Run the seven-step gap analysis (seed 000, steps 2-4).

    Parameters
    ----------
    experience : mapping of str to float, or array_like
        Experienced level per factor (survey scale, e.g. 0..10 points). A mapping
        defines the factors and their order; an array needs ``factors``.
    expectation : mapping or array_like
        Expected level per factor (same scale). Factors missing from a mapping are NaN.
    importance : mapping or array_like, optional
        Importance weight per factor (e.g. 0..10 points). Missing factors are NaN (no
        weighted satisfaction, cannot be the key experience).
    ideal : mapping or array_like, optional
        Ideal experience per factor (same scale as experience). Missing factors are NaN.
    factors : sequence of str, optional
        Factor names when the inputs are arrays; if ``experience`` is a mapping they must
        match its keys, and default to them.

    Returns
    -------
    GapTable
        satisfaction = experience - expectation, weighted = importance x satisfaction,
        key = the factor with the most negative weighted satisfaction, gap =
        experience - ideal.

    Raises
    ------
    ValueError
        If ``factors`` is missing or has the wrong length or duplicates, if a mapping
        names a factor that the experience does not have, or if ``importance`` is
        negative.

    Examples
    --------
    The worked example of seed 000 (experience, expectation, importance and ideal
    on 0..10):

    >>> t = gap_analysis(
    ...     {"price": 7, "brand": 7, "service": 6, "product": 6, "convenience": 5,
    ...      "relationship": 4},
    ...     {"product": 7, "price": 7, "convenience": 7, "brand": 7},
    ...     importance={"convenience": 9},
    ...     ideal={"price": 7, "brand": 7, "service": 6, "product": 6, "convenience": 10,
    ...            "relationship": 4},
    ... )
    >>> t.key, t.row("convenience")["weighted"], t.row("convenience")["gap"]
    ('convenience', -18.0, -5.0)
    """
    if isinstance(experience, Mapping):
        names = [str(k) for k in experience]
        if factors is not None and list(factors) != names:
            raise ValueError("factors must equal the keys of experience (in order) when "
                             "experience is a mapping")
    else:
        if factors is None:
            raise ValueError("factors is required when experience is an array")
        names = [str(f) for f in factors]
    if len(names) == 0:
        raise ValueError("experience must have at least one factor")
    if len(set(names)) != len(names):
        raise ValueError(f"factors must be unique, got {names}")
    exp = _as_factor_array(experience, names, "experience")
    expect = _as_factor_array(expectation, names, "expectation")
    imp = _as_factor_array(importance, names, "importance")
    ide = _as_factor_array(ideal, names, "ideal")
    if np.any(imp < 0):
        raise ValueError("importance must be >= 0 for every factor")
    satisfaction = exp - expect
    weighted = imp * satisfaction
    gap = exp - ide
    key: str | None = None
    if np.any(weighted < 0):
        key = names[int(np.nanargmin(weighted))]
    return GapTable(
        factors=tuple(names),
        experience=exp,
        expectation=expect,
        satisfaction=satisfaction,
        importance=imp,
        weighted=weighted,
        ideal=ide,
        gap=gap,
        key=key,
    )


# ---------------------------------------------------------------------------------------
# from simulated journeys


def touchpoint_matrix(
    journeys: Journeys, column: str = "affect"
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Build the customer x touchpoint matrix of an episode column.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    column : str
        Episode column to aggregate: ``"affect"`` (affect points, -10..10),
        ``"experience"`` or ``"expectation"`` (the touchpoint's scale, 0..10).

    Returns
    -------
    values : ndarray of float64, shape (n_customers, n_touchpoints)
        Mean of the column over the customer's episodes at each touchpoint (a
        touchpoint visited twice is averaged); 0.0 where the customer never reached it.
    present : ndarray of bool, same shape
        Whether the customer had an episode at the touchpoint.
    """
    if column not in ("affect", "experience", "expectation"):
        raise ValueError(f"column must be 'affect', 'experience' or 'expectation', got {column!r}")
    n, n_tp = journeys.n_customers, len(journeys.touchpoints)
    flat = journeys.episode_customer * n_tp + np.asarray(journeys.episodes["touchpoint"], np.int64)
    vals = np.asarray(journeys.episodes[column], dtype=np.float64)
    sums = np.bincount(flat, weights=vals, minlength=n * n_tp).reshape(n, n_tp)
    counts = np.bincount(flat, minlength=n * n_tp).reshape(n, n_tp)
    present = counts > 0
    values = np.where(present, sums / np.maximum(counts, 1), 0.0)
    return values, present


@dataclass(frozen=True, eq=False)
class ImportanceFit:
    """Least-squares fit of remembered value on per-touchpoint affects.

    ``remembered ~ intercept + sum_t coefficient_t * affect_t + sum_t missing_t * absent_t``

    Attributes
    ----------
    touchpoints : tuple of str
        Touchpoint names.
    coefficients : ndarray of float64
        Remembered-value points per affect point at each touchpoint (the importance);
        NaN for a touchpoint whose affect does not vary (or is never reached).
    missing_effects : ndarray of float64
        Shift in remembered value when the touchpoint is absent from the journey (the
        indicator's coefficient); NaN when every or no customer reached it.
    intercept : float
        Remembered value with all affects 0 (affect points).
    r_squared : float
        Share of the variance of remembered value explained by the fit.
    n_customers : int
        Customers in the fit.
    """

    touchpoints: tuple[str, ...]
    coefficients: FloatArray
    missing_effects: FloatArray
    intercept: float
    r_squared: float
    n_customers: int

    def as_dict(self) -> dict[str, float]:
        """Return ``{touchpoint: coefficient}``."""
        return {t: float(c) for t, c in zip(self.touchpoints, self.coefficients, strict=True)}

    def scaled(self, top: float = 10.0) -> dict[str, float]:
        """Return importance on a survey-like scale: negatives to 0, the largest to ``top``.

        Parameters
        ----------
        top : float
            Value of the most important touchpoint (> 0). Default 10, the 0..10 scale of
            the seven-step method.

        Returns
        -------
        dict of str to float
            NaN coefficients stay NaN.
        """
        if not (np.isfinite(top) and top > 0):
            raise ValueError(f"top must be > 0, got {top}")
        c = np.clip(self.coefficients, 0.0, None)
        largest = np.nanmax(c) if np.any(np.isfinite(c)) else np.nan
        s = c * (top / largest) if largest > 0 else np.where(np.isnan(c), np.nan, 0.0)
        return {t: float(v) for t, v in zip(self.touchpoints, s, strict=True)}


def importance_from_journeys(
    journeys: Journeys, *, remembered: ArrayLike | None = None
) -> ImportanceFit:
    """Estimate each touchpoint's importance by regressing remembered value on affects.

    The design matrix is built without a Python loop over customers
    (:func:`touchpoint_matrix`): one column of mean affect per touchpoint (0 where the
    customer never reached it), plus, for touchpoints that some but not all customers
    reached, an indicator of absence, so that "not reached" is not mistaken for "affect
    0"; and an intercept. Columns that do not vary are dropped (their coefficient is
    NaN). When a touchpoint's affect is the same nonzero value for everyone who reaches
    it (abandonment at -10), its indicator is dropped instead, so that its coefficient
    is the effect of reaching it per affect point. Solved by ``numpy.linalg.lstsq``.

    Under the peak-end rule remembered value is not linear in the affects; the
    coefficient is the average marginal weight the memory gives to a touchpoint (the end
    touchpoint and the frequent peaks get the largest), which is what the seven-step
    method's importance stands for.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers (at least 2 with a remembered value).
    remembered : array_like of float, optional
        Remembered value per customer (affect points) instead of
        ``journeys.customers["remembered"]``.

    Returns
    -------
    ImportanceFit
        Coefficients per touchpoint, intercept and R^2.

    Raises
    ------
    ValueError
        If ``remembered`` has the wrong length or fewer than 2 customers have one.
    """
    n, n_tp = journeys.n_customers, len(journeys.touchpoints)
    if remembered is None:
        y = np.asarray(journeys.customers["remembered"], dtype=np.float64)
    else:
        y = np.asarray(remembered, dtype=np.float64)
        if y.shape != (n,):
            raise ValueError(f"remembered must have shape ({n},) (one per customer), got {y.shape}")
    values, present = touchpoint_matrix(journeys, "affect")
    keep = np.isfinite(y)
    if int(keep.sum()) < 2:
        raise ValueError("journeys must hold at least 2 customers with a remembered value")
    y, values, present = y[keep], values[keep], present[keep]
    reach = present.mean(axis=0)
    absent = (~present).astype(np.float64)
    columns = np.hstack([values, absent])
    varies = columns.std(axis=0) > 0
    # a touchpoint whose affect is the same for everyone who reaches it (e.g. abandonment
    # at -10): presence and affect cannot be told apart, so keep the affect column alone
    # (absence coded 0) and drop its indicator; the coefficient is then the effect of
    # reaching it per affect point
    n_present = present.sum(axis=0)
    sq = np.where(present, values, 0.0)
    mean_p = sq.sum(axis=0) / np.maximum(n_present, 1)
    var_p = np.where(present, (values - mean_p) ** 2, 0.0).sum(axis=0)
    constant = (n_present > 0) & (var_p <= 1e-12 * np.maximum(mean_p**2, 1.0)) & (mean_p != 0)
    varies[n_tp:] &= ~constant
    design = np.hstack([np.ones((y.size, 1)), columns[:, varies]])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    full = np.full(2 * n_tp, np.nan)
    full[varies] = beta[1:]
    coefficients = full[:n_tp]
    missing = np.where((reach > 0) & (reach < 1), full[n_tp:], np.nan)
    residual = y - design @ beta
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 else float("nan")
    return ImportanceFit(
        touchpoints=tuple(journeys.touchpoints),
        coefficients=coefficients,
        missing_effects=missing,
        intercept=float(beta[0]),
        r_squared=r2,
        n_customers=int(y.size),
    )


def gap_analysis_from_journeys(
    journeys: Journeys,
    *,
    ideal: Mapping[str, float] | None = None,
    segment: str | None = None,
    importance: Mapping[str, float] | None = None,
    importance_top: float = 10.0,
    remembered: ArrayLike | None = None,
) -> GapTable:
    """Run the seven-step gap analysis on simulated journeys, one factor per touchpoint.

    Experience and expectation per touchpoint are the means over its episodes (the
    touchpoint's scale, 0..10); importance is estimated by
    :func:`importance_from_journeys` and rescaled so the most important touchpoint scores
    ``importance_top`` (negative weights become 0), unless given.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    ideal : mapping of str to float, optional
        Ideal experience per touchpoint (0..10); touchpoints left out have no gap (NaN).
    segment : str, optional
        Analyse one segment only (by name).
    importance : mapping of str to float, optional
        Importance per touchpoint, instead of the regression estimate.
    importance_top : float
        Importance of the most important touchpoint after rescaling (> 0). Default 10.
    remembered : array_like of float, optional
        Remembered value per customer (of the whole record, before selecting
        ``segment``) instead of ``journeys.customers["remembered"]``.

    Returns
    -------
    GapTable
        One row per touchpoint that some customer reached.
    """
    if remembered is not None:
        r = np.asarray(remembered, dtype=np.float64)
        if r.shape != (journeys.n_customers,):
            raise ValueError(
                f"remembered must have shape ({journeys.n_customers},), got {r.shape}"
            )
    else:
        r = np.asarray(journeys.customers["remembered"], dtype=np.float64)
    if segment is not None:
        mask = journeys.customers["segment"] == journeys.code("segments", segment)
        journeys, r = journeys.select(mask), r[mask]
    tp = np.asarray(journeys.episodes["touchpoint"], dtype=np.int64)
    n_tp = len(journeys.touchpoints)

    def mean_of(col: str) -> FloatArray:
        v = np.asarray(journeys.episodes[col], dtype=np.float64)
        ok = np.isfinite(v)
        s = np.bincount(tp[ok], weights=v[ok], minlength=n_tp)
        c = np.bincount(tp[ok], minlength=n_tp)
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)

    reached = np.bincount(tp, minlength=n_tp) > 0
    names = [t for t, ok in zip(journeys.touchpoints, reached, strict=True) if ok]
    if not names:
        raise ValueError("journeys must hold at least one episode")
    if importance is None:
        importance = importance_from_journeys(journeys, remembered=r).scaled(importance_top)
    exp, expect = mean_of("experience")[reached], mean_of("expectation")[reached]
    imp = {k: v for k, v in importance.items() if k in names}
    ide = {k: v for k, v in (ideal or {}).items() if k in names}
    unknown = [k for k in (ideal or {}) if k not in journeys.touchpoints]
    if unknown:
        raise ValueError(f"ideal names unknown touchpoints {unknown}")
    return gap_analysis(exp, expect, importance=imp, ideal=ide, factors=names)


@dataclass(frozen=True, eq=False)
class MomentsOfTruth:
    """Where the memorable moments of a journey come from, per segment and touchpoint.

    Arrays have shape ``(n_segments + 1, n_touchpoints)``; the last row is all customers.
    Shares are fractions (0..1) of the segment's customers with at least one episode.

    Attributes
    ----------
    segments, touchpoints : tuple of str
        Row names (plus ``"all"``) and column names.
    reach : ndarray of float64
        Share of customers who had an episode at the touchpoint.
    mean_affect : ndarray of float64
        Mean affect of the touchpoint's episodes (affect points), NaN if none.
    peak_share : ndarray of float64
        Share of customers whose peak (largest absolute affect, a tie going to the
        negative side, then to the later episode) is at the touchpoint and memorable
        (``|affect| >= intensity``).
    positive_peak_share : ndarray of float64
        Share of customers whose best moment is at the touchpoint and is at least
        ``+intensity``.
    negative_peak_share : ndarray of float64
        Share of customers whose worst moment is at the touchpoint and is at most
        ``-intensity``.
    kind : ndarray of str
        ``"negative"``, ``"positive"`` or ``"neutral"`` (rule in
        :func:`moments_of_truth`).
    intensity, min_share : float
        The thresholds used.
    """

    segments: tuple[str, ...]
    touchpoints: tuple[str, ...]
    reach: FloatArray
    mean_affect: FloatArray
    peak_share: FloatArray
    positive_peak_share: FloatArray
    negative_peak_share: FloatArray
    kind: NDArray[np.str_]
    intensity: float
    min_share: float

    @property
    def met(self) -> NDArray[np.bool_]:
        """Per touchpoint, whether anybody met it (reach above 0 for all customers)."""
        return np.asarray(self.reach[-1] > 0)

    def classification(self, segment: str = "all") -> dict[str, str]:
        """Return ``{touchpoint: kind}`` for one segment (or ``"all"``)."""
        names = (*self.segments, "all")
        if segment not in names:
            raise ValueError(f"segment must be one of {list(names)}, got {segment!r}")
        i = names.index(segment)
        return {t: str(k) for t, k in zip(self.touchpoints, self.kind[i], strict=True)}

    def net_share(self, *, include_all: bool = False) -> FloatArray:
        """Positive minus negative peak share, touchpoints x segments (for plotting).

        Parameters
        ----------
        include_all : bool, keyword-only
            Add the all-customers column last.

        Returns
        -------
        ndarray of float64, shape (n_touchpoints, n_segments [+ 1])
            Signed shares on -1..1: ready for :func:`peakend.plots.moments_of_truth`.
        """
        net = (self.positive_peak_share - self.negative_peak_share).T
        return net if include_all else net[:, :-1]

    def to_pandas(self, *, unmet: bool = False) -> Any:
        """Return a long :class:`pandas.DataFrame`: one row per segment x touchpoint.

        Parameters
        ----------
        unmet : bool, keyword-only
            Keep the touchpoints nobody met (reach 0 in every segment: e.g. the lounge
            of a journey without one). Default False: only the touchpoints met.
        """
        import pandas as pd

        names = (*self.segments, "all")
        n_s, n_t = self.kind.shape
        frame = pd.DataFrame(
            {
                "segment": np.repeat(np.array(names, dtype=object), n_t),
                "touchpoint": np.tile(np.array(self.touchpoints, dtype=object), n_s),
                "reach": self.reach.ravel(),
                "mean_affect": self.mean_affect.ravel(),
                "peak_share": self.peak_share.ravel(),
                "positive_peak_share": self.positive_peak_share.ravel(),
                "negative_peak_share": self.negative_peak_share.ravel(),
                "kind": self.kind.ravel(),
            }
        )
        if unmet:
            return frame
        return frame[np.tile(self.met, n_s)].reset_index(drop=True)


def _group_last(order: NDArray[np.int64], offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """Last element of each non-empty CSR group of a within-group sort order."""
    return order[offsets[1:][offsets[1:] > offsets[:-1]] - 1]


def moments_of_truth(
    journeys: Journeys, *, intensity: float = 2.0, min_share: float = 0.2
) -> MomentsOfTruth:
    """Classify touchpoints as neutral, positive or negative moments of truth (seed 000).

    For every customer the *best* moment (highest affect), the *worst* moment (lowest
    affect) and the *peak* (largest absolute affect) are located without a Python loop
    over customers. A moment is memorable when ``|affect| >= intensity``. Per segment and
    touchpoint, with ``pos`` the share of customers whose memorable best moment is there
    and ``neg`` the share whose memorable worst moment is there:

    * **negative moment of truth** if ``neg >= min_share`` and ``neg >= pos``: where the
      worst peaks come from; mitigate it so the negative peak is not larger than the
      positive one;
    * **positive moment of truth** if ``pos >= min_share`` and ``pos > neg``: where good
      impressions are made; invest and differentiate;
    * **neutral** otherwise: be on par with peers.

    Parameters
    ----------
    journeys : Journeys
        Simulated customers.
    intensity : float, keyword-only
        Smallest absolute affect (affect points, > 0) of a memorable moment. Default 2.0,
        a fifth of the affect scale.
    min_share : float, keyword-only
        Share of the segment's customers (0 < s <= 1) whose best or worst moment must
        come from a touchpoint to make it a moment of truth. Default 0.2.

    Returns
    -------
    MomentsOfTruth
        Shares, mean affects and the classification per segment and touchpoint.

    Raises
    ------
    ValueError
        If ``intensity <= 0`` or ``min_share`` is not in (0, 1].
    """
    if not (np.isfinite(intensity) and intensity > 0):
        raise ValueError(f"intensity must be > 0 (affect points), got {intensity}")
    if not (0 < min_share <= 1):
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    n_seg, n_tp = len(journeys.segments), len(journeys.touchpoints)
    a = np.asarray(journeys.episodes["affect"], dtype=np.float64)
    tp = np.asarray(journeys.episodes["touchpoint"], dtype=np.int64)
    cust = journeys.episode_customer
    seg_c = np.asarray(journeys.customers["segment"], dtype=np.int64)
    offsets = np.asarray(journeys.offsets, dtype=np.int64)
    has = offsets[1:] > offsets[:-1]
    seg_h = seg_c[has]

    best = _group_last(np.lexsort((a, cust)), offsets)
    worst = _group_last(np.lexsort((-a, cust)), offsets)
    peak = _group_last(np.lexsort((a < 0, np.abs(a), cust)), offsets)

    def share(ep: NDArray[np.int64], keep: NDArray[np.bool_]) -> FloatArray:
        cell = seg_h[keep] * n_tp + tp[ep[keep]]
        counts = np.bincount(cell, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
        return np.vstack([counts, counts.sum(axis=0)]).astype(np.float64)

    n_cust = np.bincount(seg_h, minlength=n_seg).astype(np.float64)
    n_cust = np.append(n_cust, n_cust.sum())[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = share(best, a[best] >= intensity) / n_cust
        neg = share(worst, a[worst] <= -intensity) / n_cust
        pk = share(peak, np.abs(a[peak]) >= intensity) / n_cust
    # reach: distinct (customer, touchpoint) pairs
    pairs = np.unique(cust * n_tp + tp)
    pair_cust, pair_tp = pairs // n_tp, pairs % n_tp
    cell = seg_c[pair_cust] * n_tp + pair_tp
    counts = np.bincount(cell, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.vstack([counts, counts.sum(axis=0)]) / n_cust
        ep_cell = seg_c[cust] * n_tp + tp
        s = np.bincount(ep_cell, weights=a, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
        c = np.bincount(ep_cell, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
        s, c = np.vstack([s, s.sum(axis=0)]), np.vstack([c, c.sum(axis=0)])
        mean_affect = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    pos, neg = np.nan_to_num(pos), np.nan_to_num(neg)
    kind = np.full(pos.shape, "neutral", dtype="<U8")
    kind[(pos >= min_share) & (pos > neg)] = "positive"
    kind[(neg >= min_share) & (neg >= pos)] = "negative"
    return MomentsOfTruth(
        segments=tuple(journeys.segments),
        touchpoints=tuple(journeys.touchpoints),
        reach=np.nan_to_num(reach),
        mean_affect=mean_affect,
        peak_share=np.nan_to_num(pk),
        positive_peak_share=pos,
        negative_peak_share=neg,
        kind=kind,
        intensity=float(intensity),
        min_share=float(min_share),
    )
