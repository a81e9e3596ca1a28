"""Per-replication, per-segment aggregates of one simulated day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

__all__ = ["ALL", "BASE_METRICS", "METRIC_DESCRIPTIONS", "aggregate", "metric_names"]

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


def metric_names(rule_labels: Sequence[str]) -> tuple[str, ...]:
    """All metric names, in storage order, for the given memory rule labels."""
    return tuple(remembered_metric(lab) for lab in rule_labels) + BASE_METRICS


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def aggregate(
    journeys: Journeys,
    remembered: Mapping[str, np.ndarray],
    *,
    staff_cost: float,
    fixed_cost: float = 0.0,
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
    metrics = metric_names(labels)
    segments = (ALL, *journeys.segments)
    seg_code = np.asarray(c["segment"])
    balked = np.asarray(c["balked"], dtype=bool)
    reneged = np.asarray(c["reneged"], dtype=bool)
    wait = np.asarray(c["wait"], dtype=np.float64)
    perceived = np.asarray(c["perceived_wait"], dtype=np.float64)
    slips = np.asarray(c["slips"], dtype=np.float64)
    gifts = np.asarray(c["gift_cost"], dtype=np.float64)
    total_cost = float(staff_cost) + float(fixed_cost) + float(gifts.sum())
    out = np.full((len(segments), len(metrics)), np.nan)
    n_rules = len(labels)
    for s in range(len(segments)):
        mask = np.ones(seg_code.shape, dtype=bool) if s == 0 else seg_code == s - 1
        n = int(mask.sum())
        row = out[s]
        for k, lab in enumerate(labels):
            row[k] = _nanmean(np.asarray(remembered[lab], dtype=np.float64)[mask])
        joined = mask & ~balked
        wj = wait[joined]
        base = dict.fromkeys(BASE_METRICS, float("nan"))
        if wj.size:
            base["wait_mean"] = float(wj.mean())
            base["wait_p90"] = float(np.percentile(wj, 90.0))
            base["perceived_wait_mean"] = _nanmean(perceived[joined])
            base["slips_mean"] = float(slips[joined].mean())
        if n:
            base["abandonment_rate"] = float((balked[mask] | reneged[mask]).mean())
        base["n_customers"] = float(n)
        base["gift_cost"] = float(gifts[mask].sum())
        base["staff_cost"] = float(staff_cost)
        base["fixed_cost"] = float(fixed_cost)
        base["cost"] = total_cost
        row[n_rules:] = [base[m] for m in BASE_METRICS]
    return segments, metrics, out
