"""Per-replication, per-segment aggregates of one simulated day."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
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
    "aggregate_columns",
    "aggregate_days",
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


def _bin_sums(values: np.ndarray, bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Sum each row of ``values`` (k x customers; float or bool) into bins: k x n_bins.

    ``bins`` (2 x customers) gives every customer two bins (its day's "all" bin and
    its segment's bin); the two rows of ``bins`` never share a bin. Each
    ``bincount`` adds the values in customer order: each sum is the plain
    left-to-right sum (no pairwise or BLAS summation), the same as the ``einsum``
    against a one-hot matrix this replaced, and independent of how many days are
    aggregated together or of the machine's thread settings. One ``bincount`` per
    row of ``values`` and row of ``bins`` (added together: every bin gets its sum
    from one of the two, and 0.0 from the other) avoids building a k x 2 x customers
    index and copy of the values.
    """
    k = values.shape[0]
    out = np.empty((k, n_bins))
    if not values.shape[1]:
        out[:] = 0.0
        return out
    day, own = bins[0], bins[1]
    for i in range(k):
        np.add(
            np.bincount(day, weights=values[i], minlength=n_bins),
            np.bincount(own, weights=values[i], minlength=n_bins),
            out=out[i],
        )
    return out


def _bin_quantile(x: np.ndarray, bins: np.ndarray, n_bins: int, q: float) -> np.ndarray:
    """Quantile ``q`` of the ``x`` in each bin (``bins``: 2 x len(x)); NaN for an empty bin.

    Linear interpolation between order statistics (numpy's default method), from
    one sort by value and a stable sort by bin. Which of several equal values lands
    where does not change the result (equal values have equal bits, except 0.0 and
    -0.0, and ``low + f * (high - low)`` is +0.0 for both), so the value sort need not
    be stable; the bin codes are sorted as 16-bit integers when they fit (numpy's
    radix sort), giving the same order as a stable sort of the wider codes.
    """
    if not x.size:
        return np.full(n_bins, np.nan)
    by_value = np.argsort(x)
    xv = x[by_value]
    xs = np.concatenate([xv, xv])
    flat_bins = bins[:, by_value].reshape(-1)
    key = flat_bins.astype(np.uint16) if n_bins <= np.iinfo(np.uint16).max + 1 else flat_bins
    xs = xs[np.argsort(key, kind="stable")]  # by bin, then value
    n = np.bincount(flat_bins, minlength=n_bins)
    starts = np.cumsum(n) - n
    pos = q * (n - 1)
    lo = np.floor(pos)
    hi = np.minimum(lo + 1, n - 1)
    ok = n > 0
    low = xs[np.where(ok, starts + lo.astype(np.intp), 0)]
    high = xs[np.where(ok, starts + hi.astype(np.intp), 0)]
    return np.where(ok, low + (pos - lo) * (high - low), np.nan)


def _kernels() -> ModuleType | None:
    """Return the compiled per-bin kernels if numba is already imported, else None.

    Both give the same bits; numba is not imported here (about half a second per
    process): a run with the compiled movement engine has loaded it already.
    """
    if "numba" not in sys.modules:
        return None
    try:
        from peakend.experiment import _aggregate_kernels
    except ImportError:  # pragma: no cover - a numba that does not load
        return None
    return _aggregate_kernels


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
    return aggregate_days(
        [journeys], [remembered], staff_costs=[staff_cost], fixed_costs=[fixed_cost],
        survey=survey,
    )[0]


def aggregate_days(
    days: Sequence[Journeys],
    remembered: Sequence[Mapping[str, np.ndarray]],
    *,
    staff_costs: Sequence[float],
    fixed_costs: Sequence[float],
    survey: bool = False,
) -> list[tuple[tuple[str, ...], tuple[str, ...], np.ndarray]]:
    """:func:`aggregate` for several days at once (the same rules), one result per day.

    The days' columns are joined and reduced together by :func:`aggregate_columns`.
    """
    if not days:
        return []
    names = ("segment", "balked", "reneged", "wait", "perceived_wait", "slips", "gift_cost")
    customers = {k: np.concatenate([d.customers[k] for d in days]) for k in names}
    joined = {
        lab: np.concatenate([np.asarray(r[lab], dtype=np.float64) for r in remembered])
        for lab in remembered[0]
    }
    return aggregate_columns(
        customers, [d.n_customers for d in days], [d.segments for d in days], joined,
        staff_costs=staff_costs, fixed_costs=fixed_costs,
        survey_day=days.__getitem__ if survey else None,
    )


def aggregate_columns(
    customers: Mapping[str, np.ndarray],
    sizes: Sequence[int],
    segments: Sequence[Sequence[str]],
    remembered: Mapping[str, np.ndarray],
    *,
    staff_costs: Sequence[float],
    fixed_costs: Sequence[float],
    survey_day: Callable[[int], Journeys] | None = None,
) -> list[tuple[tuple[str, ...], tuple[str, ...], np.ndarray]]:
    """:func:`aggregate` of several days given by their joined customer columns.

    The days are reduced together, in a few array passes, so the fixed cost of
    each numpy call is paid once per batch rather than once per day; every
    value is the same as aggregating each day alone.

    Parameters
    ----------
    customers : Mapping of str to ndarray
        The days' customer columns one after the other (``segment``, ``balked``,
        ``reneged``, ``wait`` and ``perceived_wait`` in minutes, ``slips``,
        ``gift_cost`` in currency units).
    sizes : sequence of int
        Customers of each day (count), in order.
    segments : sequence of sequence of str
        Each day's segment names.
    remembered : Mapping of str to ndarray
        Rule label -> remembered value per customer of all the days, in the order the
        metrics should have.
    staff_costs, fixed_costs : sequence of float
        Each day's staff cost and other running cost, currency units.
    survey_day : callable, optional
        ``survey_day(d)`` -> day ``d``'s Journeys: also add the survey metrics (as
        ``survey=True`` of :func:`aggregate`).

    Returns
    -------
    list of (segments, metrics, values)
        One per day, as :func:`aggregate` returns.
    """
    n_days = len(sizes)
    if not n_days:
        return []
    labels = tuple(remembered)
    metrics = metric_names(labels, survey_day is not None)
    n_rules = len(labels)
    widths = [len(g) + 1 for g in segments]  # "all" then the segments
    first_bin = np.cumsum([0, *widths[:-1]])
    n_bins = int(sum(widths))
    ends = np.cumsum([0, *sizes]).tolist()

    def column(name: str, dtype: Any = np.float64) -> np.ndarray:
        return np.asarray(customers[name], dtype=dtype)

    seg = column("segment", np.intp)
    day_bin = np.repeat(first_bin, sizes)
    bins = np.stack([day_bin, day_bin + 1 + seg])  # each customer: its day, its segment
    balked = column("balked", bool)
    joined = ~balked
    wait = column("wait")
    gifts = column("gift_cost")
    # every mean in one pass: one row per metric, the remembered values first, then
    # wait, perceived wait, abandonment and slips (the same order as the metrics)
    rows = np.empty((n_rules + 4, seg.shape[0]))
    for i, lab in enumerate(labels):
        rows[i] = remembered[lab]
    rows[n_rules] = wait
    rows[n_rules + 1] = column("perceived_wait")
    rows[n_rules + 2] = balked | column("reneged", bool)
    rows[n_rules + 3] = column("slips")
    use = np.isfinite(rows)
    use[n_rules : n_rules + 2] &= joined  # waits: of those who joined the queue
    use[n_rules + 3] &= joined  # slips: likewise
    rows[~use] = 0.0
    kernels = _kernels()
    if kernels is not None:
        day_of, own_of = np.ascontiguousarray(bins[0]), np.ascontiguousarray(bins[1])
        sums = kernels.bin_sums(rows, day_of, own_of, n_bins)
        counts = kernels.bin_sums(use.astype(np.float64), day_of, own_of, n_bins)
    else:
        sums = _bin_sums(rows, bins, n_bins)
        counts = _bin_sums(use, bins, n_bins)  # bool weights: bincount adds them as 0.0/1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    out = np.empty((n_bins, len(metrics)))
    out[:, :n_rules] = means[:n_rules].T
    base = {name: n_rules + i for i, name in enumerate(BASE_METRICS)}
    out[:, base["wait_mean"]] = means[n_rules]
    if kernels is not None:
        out[:, base["wait_p90"]] = kernels.bin_quantile(
            np.ascontiguousarray(wait[joined]), np.ascontiguousarray(bins[0, joined]),
            np.ascontiguousarray(bins[1, joined]), n_bins, 0.9,
        )
    else:
        out[:, base["wait_p90"]] = _bin_quantile(wait[joined], bins[:, joined], n_bins, 0.9)
    out[:, base["perceived_wait_mean"]] = means[n_rules + 1]
    out[:, base["abandonment_rate"]] = means[n_rules + 2]
    out[:, base["slips_mean"]] = means[n_rules + 3]
    out[:, base["n_customers"]] = np.bincount(bins.reshape(-1), minlength=n_bins)
    out[:, base["gift_cost"]] = np.bincount(
        bins.reshape(-1), weights=np.concatenate([gifts, gifts]), minlength=n_bins)
    results = []
    for d in range(n_days):
        lo = int(first_bin[d])
        block = out[lo : lo + widths[d]]  # a view; copied below
        gift_total = float(gifts[ends[d] : ends[d + 1]].sum())
        block[0, base["gift_cost"]] = gift_total  # the day's total as summed before
        block[:, base["staff_cost"]] = float(staff_costs[d])
        block[:, base["fixed_cost"]] = float(fixed_costs[d])
        block[:, base["cost"]] = float(staff_costs[d]) + float(fixed_costs[d]) + gift_total
        names = (ALL, *segments[d])
        if survey_day is not None:
            from peakend.metrics import segment_survey_metrics

            table = segment_survey_metrics(survey_day(d))
            for name in survey_metric_names():
                key = name[len(SURVEY_PREFIX):]
                block[:, metrics.index(name)] = [float(table[s][key]) for s in names]
        results.append((names, metrics, block.copy()))
    return results
