"""Per-replication, per-segment aggregates of one simulated day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

__all__ = [
    "ALL",
    "BASE_METRICS",
    "METRIC_DESCRIPTIONS",
    "SURVEY_PREFIX",
    "aggregate",
    "metric_names",
    "survey_metric_names",
]

#: Prefix of the survey metrics (``run(..., survey=True)``), e.g. ``survey_nps``.
SURVEY_PREFIX = "survey_"
#: Survey metrics left out because they repeat a base metric.
_SURVEY_SKIP = ("n_customers", "remembered")

#: Name of the pseudo-segment holding every customer.
ALL = "all"

#: Metrics kept per replication and segment besides the remembered values, in order.
BASE_METRICS: tuple[str, ...] = (
    "wait_mean",
    "wait_p90",
    "perceived_wait_mean",
    "abandonment_rate",
    "slips_mean",
    "n_customers",
    "gift_cost",
    "staff_cost",
    "fixed_cost",
    "cost",
)

#: Description and unit of each metric (``remembered[<rule>]`` stands for every rule).
METRIC_DESCRIPTIONS: dict[str, str] = {
    "remembered[<rule>]": "mean remembered value of the segment's customers under the memory "
    "rule (affect scale -10..10; affect x minutes for integral); NaN if the segment had none",
    "wait_mean": "mean wait in queue of the customers who joined the queue (served or "
    "reneged; balks excluded), minutes; NaN if none joined",
    "wait_p90": "90th percentile of that wait (linear interpolation), minutes",
    "perceived_wait_mean": "mean perceived wait of the customers who joined the queue, minutes",
    "abandonment_rate": "share of the segment's customers who balked or reneged, 0..1",
    "slips_mean": "mean number of later arrivals served first, per customer who joined the queue",
    "n_customers": "customers of the segment that day (count)",
    "gift_cost": "farewell-gift cost spent on the segment that day, currency units",
    "staff_cost": "staff cost of the branch that day (Scenario.staff_cost(): tellers and lobby "
    "managers), currency units; the same in every segment row",
    "fixed_cost": "running cost of lounge, hall distraction and wait display that day "
    "(Scenario.fixed_cost()), currency units; the same in every segment row",
    "cost": "branch cost that day: staff_cost + fixed_cost + gift cost of all customers, "
    "currency units; the same in every segment row",
}


def remembered_metric(label: str) -> str:
    """Metric name of the remembered value under a memory rule label."""
    return f"remembered[{label}]"


def survey_metric_names() -> tuple[str, ...]:
    """Names of the survey metrics: ``survey_`` + each of :data:`peakend.metrics.SURVEY_METRICS`.

    ``n_customers`` and ``remembered`` are left out (they repeat base metrics).
    """
    from peakend.metrics import SURVEY_METRICS

    return tuple(SURVEY_PREFIX + k for k in SURVEY_METRICS if k not in _SURVEY_SKIP)


def metric_names(rule_labels: Sequence[str], survey: bool = False) -> tuple[str, ...]:
    """All metric names, in storage order, for the given memory rule labels."""
    names = tuple(remembered_metric(lab) for lab in rule_labels) + BASE_METRICS
    return names + survey_metric_names() if survey else names


def _group_means(
    values: np.ndarray, counts: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """Column means of the finite ``values`` where ``counts`` is True: overall, then per group.

    ``values`` and ``counts`` are (customers x k); the result is (1 + n_groups) x k,
    NaN where nobody counts. Sums use ``einsum`` (a plain loop, no BLAS threads), so
    the result does not depend on the machine's thread settings.
    """
    use = counts & np.isfinite(values)
    filled = np.where(use, values, 0.0)
    weight = use.astype(np.float64)
    onehot = (groups[:, None] == np.arange(n_groups)[None, :]).astype(np.float64)
    sums = np.vstack([filled.sum(axis=0), np.einsum("ng,nk->gk", onehot, filled)])
    n = np.vstack([weight.sum(axis=0), np.einsum("ng,nk->gk", onehot, weight)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, sums / n, np.nan)


def _quantile_sorted(xs: np.ndarray, q: float) -> float:
    """Quantile of a sorted 1-d array, linear interpolation (numpy's default method)."""
    n = xs.shape[0]
    if n == 0:
        return float("nan")
    pos = q * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(xs[lo] + (pos - lo) * (xs[hi] - xs[lo]))


def _group_quantile(
    x: np.ndarray, groups: np.ndarray, mask: np.ndarray, n_groups: int, q: float
) -> np.ndarray:
    """Quantile ``q`` of ``x[mask]`` overall and per group code (NaN for an empty group)."""
    xv, gv = x[mask], groups[mask]
    out = np.full(n_groups + 1, np.nan)
    out[0] = _quantile_sorted(np.sort(xv), q)
    order = np.lexsort((xv, gv))
    xs, gs = xv[order], gv[order]
    bounds = np.searchsorted(gs, np.arange(n_groups + 1))
    for k in range(n_groups):
        out[k + 1] = _quantile_sorted(xs[bounds[k] : bounds[k + 1]], q)
    return out


def aggregate(
    journeys: Journeys,
    remembered: Mapping[str, np.ndarray],
    *,
    staff_cost: float,
    fixed_cost: float = 0.0,
    survey: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Reduce one simulated day to per-segment aggregates.

    Parameters
    ----------
    journeys : Journeys
        One day (or several: they are pooled).
    remembered : Mapping of str to ndarray
        Rule label -> remembered value per customer (from ``score_many``), in
        the order the metrics should have.
    staff_cost : float
        Staff cost of the day, currency units.
    fixed_cost : float, default 0
        Other running cost of the day (lounge, distraction, display), currency units.
    survey : bool, default False
        Also add the survey metrics of :func:`peakend.metrics.segment_survey_metrics`
        (noiseless answers, expected complaint counts; the scenario's memory rule).

    Returns
    -------
    segments : tuple of str
        ``"all"`` then the journeys' segments.
    metrics : tuple of str
        :func:`metric_names` of the rule labels.
    values : ndarray of float64, shape (n_segments, n_metrics)
        One row per segment; see :data:`METRIC_DESCRIPTIONS`.
    """
    c: Mapping[str, Any] = journeys.customers
    labels = tuple(remembered)
    metrics = metric_names(labels, survey)
    segments = (ALL, *journeys.segments)
    n_seg = len(journeys.segments)
    seg = np.asarray(c["segment"], dtype=np.int64)
    balked = np.asarray(c["balked"], dtype=bool)
    reneged = np.asarray(c["reneged"], dtype=bool)
    wait = np.asarray(c["wait"], dtype=np.float64)
    gifts = np.asarray(c["gift_cost"], dtype=np.float64)
    everyone = np.ones(seg.shape, dtype=bool)
    joined = ~balked
    # every mean in one pass: values (customers x k), who counts (customers x k)
    means: list[tuple[str, np.ndarray, np.ndarray]] = [
        (remembered_metric(lab), np.asarray(remembered[lab], dtype=np.float64), everyone)
        for lab in labels
    ]
    means += [
        ("wait_mean", wait, joined),
        ("perceived_wait_mean", np.asarray(c["perceived_wait"], dtype=np.float64), joined),
        ("abandonment_rate", (balked | reneged).astype(np.float64), everyone),
        ("slips_mean", np.asarray(c["slips"], dtype=np.float64), joined),
    ]
    columns = dict(zip([m[0] for m in means], _group_means(
        np.column_stack([m[1] for m in means]), np.column_stack([m[2] for m in means]),
        seg, n_seg).T, strict=True))
    columns["wait_p90"] = _group_quantile(wait, seg, joined, n_seg, 0.9)
    counts = np.bincount(seg, minlength=n_seg).astype(np.float64)
    columns["n_customers"] = np.concatenate([[float(seg.shape[0])], counts])
    columns["gift_cost"] = np.concatenate(
        [[float(gifts.sum())], np.bincount(seg, weights=gifts, minlength=n_seg)]
    )
    columns["staff_cost"] = np.full(n_seg + 1, float(staff_cost))
    columns["fixed_cost"] = np.full(n_seg + 1, float(fixed_cost))
    columns["cost"] = np.full(n_seg + 1, float(staff_cost) + float(fixed_cost)
                              + float(gifts.sum()))
    if survey:
        from peakend.metrics import segment_survey_metrics

        table = segment_survey_metrics(journeys)
        for name in survey_metric_names():
            key = name[len(SURVEY_PREFIX):]
            columns[name] = np.array([float(table[s][key]) for s in segments])
    out = np.stack([columns[m] for m in metrics], axis=1)
    return segments, metrics, np.ascontiguousarray(out, dtype=np.float64)
