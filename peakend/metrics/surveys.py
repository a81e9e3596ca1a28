"""Surveys of simulated journeys: answers per customer, segment and touchpoint."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from peakend.metrics.answers import (
    FloatArray,
    IntArray,
    SurveyMapping,
    _check,
    _check_rng,
    csat,
    customer_effort,
    likelihood_to_recommend,
)
from peakend.metrics.behaviour import ComplaintModel, complaints

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

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
