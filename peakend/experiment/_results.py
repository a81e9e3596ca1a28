"""Results of a policy experiment: summary, paired comparison, cost, Pareto, rule disagreement."""

from __future__ import annotations

import html
import io
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend import stats
from peakend.experiment._aggregate import ALL, remembered_metric
from peakend.experiment._table import Table, require_pandas

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from peakend.journeys import Journeys

__all__ = ["RESULTS_FORMAT", "RESULTS_SCHEMA_VERSION", "TIDY_COLUMNS", "Results", "load_results"]

RESULTS_FORMAT = "peakend.results"
RESULTS_SCHEMA_VERSION = 1
#: Columns (name, dtype) of :meth:`Results.to_pandas`, in order.
TIDY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("policy", "category"),
    ("replication", "int64"),
    ("seed", "int64"),
    ("segment", "category"),
    ("metric", "category"),
    ("value", "float64"),
)


class Results:
    """Aggregates of a policy experiment, indexed by policy, replication, segment, metric.

    Made by :func:`peakend.run` or :func:`load_results`; the constructor is
    not meant to be called directly. The data are one float64 array
    :attr:`values` of shape ``(n_policies, n_replications, n_segments,
    n_metrics)``; the metrics are described in ``docs/reference/results.md``
    (``remembered[<rule>]`` per memory rule, then ``wait_mean``,
    ``wait_p90``, ``perceived_wait_mean``, ``abandonment_rate``,
    ``slips_mean``, ``n_customers``, ``gift_cost``, ``staff_cost``,
    ``fixed_cost``, ``cost``). Segment ``"all"`` pools every customer.

    Parameters
    ----------
    values : ndarray, shape (n_policies, n_replications, n_segments, n_metrics)
        The aggregates.
    policies, segments, metrics : sequence of str
        Labels of the axes.
    seed : int
        Root seed of the run; replication ``r`` used
        ``SeedSequence(seed).spawn(n)[r]``.
    rules : sequence of str
        Memory rule labels, the first being the headline rule.
    scenario : Mapping
        The base scenario as JSON-able data.
    policy_specs : sequence of Mapping
        ``Policy.to_dict()`` of each policy.
    version : str
        peakend version that produced the results.
    journeys : Mapping of str to Journeys, optional
        Full simulated days per policy, if the run kept them (not saved).
    """

    def __init__(
        self,
        values: np.ndarray,
        *,
        policies: Sequence[str],
        segments: Sequence[str],
        metrics: Sequence[str],
        seed: int,
        rules: Sequence[str],
        scenario: Mapping[str, Any],
        policy_specs: Sequence[Mapping[str, Any]],
        version: str,
        journeys: Mapping[str, Journeys] | None = None,
    ) -> None:
        arr = np.array(values, dtype=np.float64)
        shape = (len(policies), arr.shape[1] if arr.ndim == 4 else -1, len(segments), len(metrics))
        if arr.ndim != 4 or arr.shape[0] != shape[0] or arr.shape[2:] != shape[2:]:
            raise ValueError(f"values must have shape {shape}, got {arr.shape}")
        arr.setflags(write=False)
        self._values = arr
        self.policies: tuple[str, ...] = tuple(policies)
        self.segments: tuple[str, ...] = tuple(segments)
        self.metrics: tuple[str, ...] = tuple(metrics)
        self.seed = int(seed)
        self.rules: tuple[str, ...] = tuple(rules)
        self.scenario: dict[str, Any] = dict(scenario)
        self.policy_specs: list[dict[str, Any]] = [dict(p) for p in policy_specs]
        self.version = str(version)
        self.journeys = dict(journeys) if journeys is not None else None

    # ------------------------------------------------------------------ access
    @property
    def values(self) -> np.ndarray:
        """The read-only array ``(policy, replication, segment, metric)``."""
        return self._values

    @property
    def n_replications(self) -> int:
        """Replications per policy."""
        return int(self._values.shape[1])

    @property
    def headline_rule(self) -> str:
        """The first memory rule of the run (used by default in tables and plots)."""
        return self.rules[0]

    def metric_name(self, metric: str) -> str:
        """Resolve a metric name; a memory rule name or label means its remembered value.

        Parameters
        ----------
        metric : str
            ``"wait_mean"``, ``"remembered[peak_end]"`` or just ``"peak_end"``.

        Returns
        -------
        str
            The stored metric name.

        Raises
        ------
        ValueError
            If it is not a metric of these results (lists the available ones).
        """
        if metric in self.metrics:
            return metric
        if remembered_metric(metric) in self.metrics:
            return remembered_metric(metric)
        raise ValueError(f"metric {metric!r} is not in these results; available: "
                         f"{', '.join(self.metrics)} (or a rule: {', '.join(self.rules)})")

    def _index(self, kind: str, labels: Sequence[str], name: str) -> int:
        try:
            return list(labels).index(name)
        except ValueError:
            raise ValueError(f"{kind} {name!r} is not in these results; available: "
                             f"{', '.join(labels)}") from None

    def get(self, metric: str, segment: str = ALL, policy: str | None = None) -> np.ndarray:
        """Values of one metric and segment, per replication.

        Parameters
        ----------
        metric : str
            Metric name or memory rule (see :meth:`metric_name`).
        segment : str, default "all"
            Segment name.
        policy : str, optional
            One policy; default all.

        Returns
        -------
        ndarray of float64
            Shape ``(n_replications,)`` for one policy, else
            ``(n_policies, n_replications)``.
        """
        m = self.metrics.index(self.metric_name(metric))
        s = self._index("segment", self.segments, segment)
        if policy is None:
            return self._values[:, :, s, m]
        return self._values[self._index("policy", self.policies, policy), :, s, m]

    def _select(
        self, metrics: Sequence[str] | str | None, segments: Sequence[str] | str | None
    ) -> tuple[list[str], list[str]]:
        if isinstance(metrics, str):
            metrics = [metrics]
        if isinstance(segments, str):
            segments = [segments]
        ms = [self.metric_name(m) for m in metrics] if metrics is not None else list(self.metrics)
        ss = list(segments) if segments is not None else list(self.segments)
        for s in ss:
            self._index("segment", self.segments, s)
        return ms, ss

    # ---------------------------------------------------------------- summary
    def summary(
        self,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> Table:
        """Mean of each metric per policy and segment, with a t-based confidence interval.

        Parameters
        ----------
        metrics : str or sequence of str, optional
            Metrics (or rule names); default all.
        segments : str or sequence of str, optional
            Segments; default all, ``"all"`` first.
        confidence : float, default 0.95
            Confidence level in (0, 1).

        Returns
        -------
        Table
            Columns ``policy, segment, metric, mean, half_width, low, high, sd,
            n, note``; ``n`` counts the replications with a finite value;
            ``half_width`` is NaN with note ``"n<3"`` when fewer than 3, and 0
            with note ``"zero variance"`` when all replications agree.
        """
        ms, ss = self._select(metrics, segments)
        cols: dict[str, list[Any]] = {k: [] for k in (
            "policy", "segment", "metric", "mean", "half_width", "low", "high", "sd", "n", "note")}
        for p, pol in enumerate(self.policies):
            for seg in ss:
                s = self.segments.index(seg)
                mi = [self.metrics.index(m) for m in ms]
                if not mi:
                    continue
                block = self._values[p, :, s, :][:, mi]  # (replications, metrics)
                ci = stats.mean_ci(block, axis=0, confidence=confidence)
                for k, m in enumerate(ms):
                    cols["policy"].append(pol)
                    cols["segment"].append(seg)
                    cols["metric"].append(m)
                    for name in ("mean", "half_width", "low", "high", "sd"):
                        cols[name].append(float(getattr(ci, name)[k]))
                    cols["n"].append(int(ci.n[k]))
                    cols["note"].append(str(ci.note[k]))
        return Table(_typed(cols), title=f"summary ({confidence:.0%} t-intervals, "
                                         f"{self.n_replications} replications)")

    # ---------------------------------------------------------------- compare
    def _baseline(self, baseline: str | None) -> int:
        if baseline is None:
            return 0
        return self._index("policy", self.policies, baseline)

    def compare(
        self,
        baseline: str | None = None,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> Table:
        """Paired differences of every policy against a baseline, per segment.

        Replication ``r`` of each policy saw the same customers as replication
        ``r`` of the baseline (common random numbers), so the differences are
        paired: ``difference = mean_r(policy_r - baseline_r)``, with a paired
        t-interval and p-value, and Holm's adjustment across the policies
        compared (one family per segment and metric).

        Parameters
        ----------
        baseline : str, optional
            Policy to compare against; default the first policy.
        metrics : str or sequence of str, optional
            Metrics (or rule names); default all.
        segments : str or sequence of str, optional
            Segments; default all.
        confidence : float, default 0.95
            Confidence level in (0, 1).

        Returns
        -------
        Table
            Columns ``policy, segment, metric, baseline_mean, policy_mean,
            difference, low, high, p_value, p_holm, n, note`` (one row per
            non-baseline policy, segment and metric; units of the metric).
        """
        b = self._baseline(baseline)
        ms, ss = self._select(metrics, segments)
        others = [p for p in range(len(self.policies)) if p != b]
        names = ("policy", "segment", "metric", "baseline_mean", "policy_mean", "difference",
                 "low", "high", "p_value", "p_holm", "n", "note")
        cols: dict[str, list[Any]] = {k: [] for k in names}
        if not others:
            return Table(_typed(cols), title="compare: only one policy")
        for seg in ss:
            s = self.segments.index(seg)
            for m in ms:
                k = self.metrics.index(m)
                base = self._values[b, :, s, k]
                arr = self._values[others, :, s, k]  # (P-1, R)
                d = stats.paired_difference(arr.T, np.broadcast_to(base, arr.shape).T,
                                            axis=0, confidence=confidence)
                adj = stats.holm(d.p_value)
                base_mean = stats.mean_ci(base).mean
                pol_mean = stats.mean_ci(arr.T, axis=0).mean
                for j, p in enumerate(others):
                    cols["policy"].append(self.policies[p])
                    cols["segment"].append(seg)
                    cols["metric"].append(m)
                    cols["baseline_mean"].append(float(base_mean))
                    cols["policy_mean"].append(float(pol_mean[j]))
                    cols["difference"].append(float(d.mean[j]))
                    cols["low"].append(float(d.low[j]))
                    cols["high"].append(float(d.high[j]))
                    cols["p_value"].append(float(d.p_value[j]))
                    cols["p_holm"].append(float(adj[j]))
                    cols["n"].append(int(d.n[j]))
                    cols["note"].append(str(d.note[j]))
        title = (f"paired differences vs {self.policies[b]!r} ({confidence:.0%} t-intervals, "
                 f"Holm across {len(others)} policies)")
        return Table(_typed(cols), title=title)

    # ------------------------------------------------------------------- cost
    def cost_per_point(
        self,
        baseline: str | None = None,
        rule: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> Table:
        """Extra cost per point of remembered value gained, against a baseline.

        ``cost_per_point = mean(cost - cost_baseline) / mean(value - value_baseline)``
        with ``value`` the segment's mean remembered value under ``rule``
        (a point is one unit of the affect scale -10..10) and ``cost`` the
        branch's cost per day (staff + fixed + gifts).

        Parameters
        ----------
        baseline : str, optional
            Default the first policy.
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.
        confidence : float, default 0.95
            For the interval of the value difference.

        Returns
        -------
        Table
            Columns ``policy, segment, rule, cost_difference (currency/day),
            value_difference, value_low, value_high, cost_per_point
            (currency/day per point), note``. The note says ``"dominant"``
            (better and not dearer), ``"dominated"`` (not better and not
            cheaper), ``"not significant"`` (the value interval contains 0),
            ``"no change"`` (neither cost nor value differs), or ``""``;
            ``cost_per_point`` is NaN unless value rises at a cost.
        """
        b = self._baseline(baseline)
        rule = rule or self.headline_rule
        vname = self.metric_name(rule)
        s = self._index("segment", self.segments, segment)
        v = self._values[:, :, s, self.metrics.index(vname)]
        c = self._values[:, :, self.segments.index(ALL), self.metrics.index("cost")]
        names = ("policy", "segment", "rule", "cost_difference", "value_difference", "value_low",
                 "value_high", "cost_per_point", "note")
        cols: dict[str, list[Any]] = {k: [] for k in names}
        for p in range(len(self.policies)):
            if p == b:
                continue
            dv = stats.paired_difference(v[p], v[b], confidence=confidence)
            dc = float(np.nanmean(c[p] - c[b]))
            gain = float(dv.mean)
            note = ""
            cpp = float("nan")
            if gain == 0 and dc == 0:
                note = "no change"
            elif gain > 0 and dc <= 0:
                note = "dominant"
            elif gain <= 0 and dc >= 0:
                note = "dominated"
            elif gain > 0:
                cpp = dc / gain
            if not note and np.isfinite(dv.low) and dv.low <= 0 <= dv.high:
                note = "not significant"
            cols["policy"].append(self.policies[p])
            cols["segment"].append(segment)
            cols["rule"].append(rule)
            cols["cost_difference"].append(dc)
            cols["value_difference"].append(gain)
            cols["value_low"].append(float(dv.low))
            cols["value_high"].append(float(dv.high))
            cols["cost_per_point"].append(cpp)
            cols["note"].append(note)
        return Table(_typed(cols), title=f"cost per point of remembered value ({rule}, "
                                         f"segment {segment!r}) vs {self.policies[b]!r}")

    def pareto(self, rule: str | None = None, segment: str = ALL) -> Table:
        """Which policies are Pareto-efficient in (cost, remembered value).

        Parameters
        ----------
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.

        Returns
        -------
        Table
            Columns ``policy, cost (mean currency/day), value (mean remembered
            value), efficient`` (no other policy is at most as dear and at least
            as good, one of them strictly), sorted by cost.
        """
        rule = rule or self.headline_rule
        v = np.nanmean(self.get(rule, segment), axis=1)
        c = np.nanmean(self.get("cost", ALL), axis=1)
        eff = stats.pareto_efficient(c, v)
        order = np.lexsort((-v, c))
        return Table(
            {
                "policy": np.array(self.policies, dtype=np.str_)[order],
                "cost": c[order],
                "value": v[order],
                "efficient": eff[order],
            },
            title=f"Pareto front: min cost, max remembered value ({rule}, segment {segment!r})",
        )

    # ------------------------------------------------------- rule disagreement
    def rankings(self, segment: str = ALL, rules: Sequence[str] | None = None) -> Table:
        """Rank of each policy (1 = best remembered) under each memory rule.

        Parameters
        ----------
        segment : str, default "all"
            Segment.
        rules : sequence of str, optional
            Default every rule of the run.

        Returns
        -------
        Table
            Column ``policy`` then one column of mean ranks per rule.
        """
        rules = list(rules) if rules is not None else list(self.rules)
        cols: dict[str, Any] = {"policy": np.array(self.policies, dtype=np.str_)}
        for r in rules:
            cols[r] = stats.rank(np.nanmean(self.get(r, segment), axis=1))
        return Table(cols, title=f"rank of policies by remembered value (segment {segment!r})")

    def rule_disagreement(
        self,
        rule_a: str | None = None,
        rule_b: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> Table:
        """Pairs of policies that two memory rules order differently.

        For every pair of policies, the paired difference of remembered value
        is computed under both rules; a row is reported where the signs
        differ (one rule prefers policy 1, the other policy 2). This is where
        a manager optimising the integral of experience (Kahneman's
        experienced utility) would choose differently from one optimising what
        customers remember (peak-end).

        Parameters
        ----------
        rule_a, rule_b : str, optional
            The two rules. Default: the headline rule against every other rule
            of the run (``rule_b=None`` with ``rule_a`` given: against every other).
        segment : str, default "all"
            Segment.
        confidence : float, default 0.95
            For the p-values' companion intervals (p-values are unadjusted).

        Returns
        -------
        Table
            Columns ``segment, rule_a, rule_b, policy_1, policy_2,
            difference_a, p_a, difference_b, p_b, both_significant``, with
            ``difference = mean(policy_1 - policy_2)`` under each rule and
            ``both_significant`` when both p-values are below ``1 - confidence``.
            Empty when the rules agree on every pair.
        """
        first = rule_a or self.headline_rule
        if rule_b is not None:
            pairs = [(first, rule_b)]
        else:
            pairs = [(first, r) for r in self.rules if self.metric_name(r) !=
                     self.metric_name(first)]
        names = ("segment", "rule_a", "rule_b", "policy_1", "policy_2", "difference_a", "p_a",
                 "difference_b", "p_b", "both_significant")
        cols: dict[str, list[Any]] = {k: [] for k in names}
        alpha = 1.0 - confidence
        for ra, rb in pairs:
            va, vb = self.get(ra, segment), self.get(rb, segment)
            for i, j in itertools.combinations(range(len(self.policies)), 2):
                da = stats.paired_difference(va[i], va[j], confidence=confidence)
                db = stats.paired_difference(vb[i], vb[j], confidence=confidence)
                if not (np.sign(da.mean) * np.sign(db.mean) < 0):
                    continue
                cols["segment"].append(segment)
                cols["rule_a"].append(ra)
                cols["rule_b"].append(rb)
                cols["policy_1"].append(self.policies[i])
                cols["policy_2"].append(self.policies[j])
                cols["difference_a"].append(float(da.mean))
                cols["p_a"].append(float(da.p_value))
                cols["difference_b"].append(float(db.mean))
                cols["p_b"].append(float(db.p_value))
                cols["both_significant"].append(
                    bool(da.p_value < alpha and db.p_value < alpha)
                )
        return Table(_typed(cols), title=f"policy pairs ordered differently by two memory rules "
                                         f"(segment {segment!r})")

    # ------------------------------------------------------------------ export
    def to_pandas(self) -> pd.DataFrame:
        """Tidy long frame: one row per policy, replication, segment and metric.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy`` (category), ``replication`` (int64), ``seed``
            (int64, the root seed of the run), ``segment`` (category),
            ``metric`` (category), ``value`` (float64); rows in the order of
            :attr:`values` (policy, replication, segment, metric).

        Raises
        ------
        ImportError
            If pandas (the ``pandas`` extra) is not installed.
        """
        pd = require_pandas()
        n_p, n_r, n_s, n_m = self._values.shape
        idx = np.indices((n_p, n_r, n_s, n_m)).reshape(4, -1)
        return pd.DataFrame({
            "policy": pd.Categorical.from_codes(idx[0], categories=list(self.policies)),
            "replication": idx[1].astype(np.int64),
            "seed": np.full(idx.shape[1], self.seed, dtype=np.int64),
            "segment": pd.Categorical.from_codes(idx[2], categories=list(self.segments)),
            "metric": pd.Categorical.from_codes(idx[3], categories=list(self.metrics)),
            "value": self._values.reshape(-1).astype(np.float64),
        })

    def metadata(self) -> dict[str, Any]:
        """Return the JSON metadata stored by :meth:`save` (everything except the values)."""
        return {
            "format": RESULTS_FORMAT,
            "schema_version": RESULTS_SCHEMA_VERSION,
            "version": self.version,
            "policies": list(self.policies),
            "segments": list(self.segments),
            "metrics": list(self.metrics),
            "n_replications": self.n_replications,
            "seed": self.seed,
            "rules": list(self.rules),
            "scenario": self.scenario,
            "policy_specs": self.policy_specs,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the results to one ``.npz`` file, without pickle.

        The file holds ``values`` (float64 array) and ``metadata`` (a JSON
        string: scenario, policies, seed, rules, library version, axis labels;
        see ``docs/reference/results.md``). Kept journeys are not saved.

        Parameters
        ----------
        path : path-like
            Target file; ``.npz`` is appended if missing. Written atomically.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_name(target.name + ".npz")
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            values=np.asarray(self._values),
            metadata=np.array(json.dumps(self.metadata(), allow_nan=True)),
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Results:
        """Read results written by :meth:`save` (see :func:`load_results`)."""
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"results file {str(p)!r} does not exist")
        try:
            with np.load(p, allow_pickle=False) as z:
                values = np.array(z["values"], dtype=np.float64)
                meta = json.loads(str(z["metadata"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{str(p)!r} is not a peakend results file: {exc}") from exc
        if meta.get("format") != RESULTS_FORMAT:
            raise ValueError(f"{str(p)!r} is not a peakend results file (format "
                             f"{meta.get('format')!r})")
        if meta.get("schema_version") != RESULTS_SCHEMA_VERSION:
            raise ValueError(f"{str(p)!r} has results schema version "
                             f"{meta.get('schema_version')!r}; this peakend reads "
                             f"{RESULTS_SCHEMA_VERSION}")
        return cls(
            values,
            policies=meta["policies"],
            segments=meta["segments"],
            metrics=meta["metrics"],
            seed=meta["seed"],
            rules=meta["rules"],
            scenario=meta["scenario"],
            policy_specs=meta["policy_specs"],
            version=meta["version"],
        )

    # ------------------------------------------------------------------- show
    def headline(self, confidence: float = 0.95) -> Table:
        """Per policy and segment: remembered value with CI, wait, abandonment, cost.

        Parameters
        ----------
        confidence : float, default 0.95
            Confidence level.

        Returns
        -------
        Table
            Columns ``policy, segment, remembered, ci (half-width), wait_mean
            (minutes), abandonment_rate, cost (currency/day)``, with
            ``remembered`` labelled ``remembered[<rule>]``; this is the table
            ``repr`` shows (``peakend run`` prints a wider comparison table).
        """
        rule = self.headline_rule
        cols: dict[str, list[Any]] = {k: [] for k in (
            "policy", "segment", f"remembered[{rule}]", "ci", "wait_mean", "abandonment_rate",
            "cost")}
        for pol in self.policies:
            for seg in self.segments:
                ci = stats.mean_ci(self.get(rule, seg, pol), confidence=confidence)
                cols["policy"].append(pol)
                cols["segment"].append(seg)
                cols[f"remembered[{rule}]"].append(float(ci.mean))
                cols["ci"].append(float(ci.half_width))
                for m in ("wait_mean", "abandonment_rate", "cost"):
                    cols[m].append(float(np.nanmean(self.get(m, seg, pol)))
                                   if np.isfinite(self.get(m, seg, pol)).any() else float("nan"))
        return Table(_typed(cols), title=f"remembered value ({rule}) with {confidence:.0%} CI "
                                         f"half-width, {self.n_replications} replications")

    def describe(self) -> str:
        """One line: numbers of policies, replications, segments, metrics; seed, rules, version."""
        return (f"Results: {len(self.policies)} policies x {self.n_replications} replications x "
                f"{len(self.segments)} segments x {len(self.metrics)} metrics; "
                f"seed {self.seed}; rules {', '.join(self.rules)}; peakend {self.version}")

    def __repr__(self) -> str:
        table = self.headline().where(segment=ALL)
        table.title = ""
        return self.describe() + "\n" + table.to_text()

    def _repr_html_(self) -> str:
        table = self.headline()
        return f"<p>{html.escape(self.describe())}</p>" + table._repr_html_()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Results):
            return NotImplemented
        return (self.metadata() == other.metadata()
                and np.array_equal(self._values, other._values, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]


def _typed(cols: Mapping[str, list[Any]]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in cols.items():
        if v and isinstance(v[0], str):
            out[k] = np.array(v, dtype=np.str_)
        elif v and isinstance(v[0], bool):
            out[k] = np.array(v, dtype=bool)
        elif v and isinstance(v[0], int):
            out[k] = np.array(v, dtype=np.int64)
        elif v:
            out[k] = np.array(v, dtype=np.float64)
        else:
            out[k] = np.array([], dtype=np.float64)
    return out


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read results saved with :meth:`Results.save`.

    Parameters
    ----------
    path : path-like
        A ``.npz`` file written by :meth:`Results.save`.

    Returns
    -------
    Results
        Equal (``==``) to the saved results; journeys are not stored.

    Raises
    ------
    ValueError
        If the file is missing, not a results file, or has another schema version.
    """
    return Results.load(path)
