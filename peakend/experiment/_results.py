"""Results of a policy experiment: summary, paired comparison, cost, Pareto, rule disagreement."""

from __future__ import annotations

import difflib
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from peakend.experiment import _tables
from peakend.experiment._aggregate import ALL, remembered_metric
from peakend.experiment._metadata import (
    RESULTS_FORMAT,
    RESULTS_SCHEMA_VERSION,
    ResultsFileError,
    ResultsMetadata,
    read_results_file,
    write_results_file,
)

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys
    from peakend.plots import ResultsPlot  # type: ignore[attr-defined, unused-ignore]

__all__ = [
    "RESULTS_FORMAT",
    "RESULTS_SCHEMA_VERSION",
    "TIDY_COLUMNS",
    "Results",
    "ResultsFileError",
    "load_results",
]

#: Columns (name, dtype) of :meth:`Results.to_pandas`, in order.
TIDY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("policy", "category"),
    ("replication", "int64"),
    ("seed", "int64"),
    ("segment", "category"),
    ("metric", "category"),
    ("value", "float64"),
)


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=2, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


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

    Every analysis method returns a :class:`pandas.DataFrame` with a plain
    index, its title in ``df.attrs["title"]``.

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
            If it is not a metric of these results (lists the available ones,
            with a "did you mean").
        """
        if metric in self.metrics:
            return metric
        if remembered_metric(metric) in self.metrics:
            return remembered_metric(metric)
        hint = did_you_mean(metric, [*self.metrics, *self.rules])
        raise ValueError(f"metric {metric!r} is not in these results{hint}; available: "
                         f"{', '.join(self.metrics)} (or a rule: {', '.join(self.rules)})")

    def _index(self, kind: str, labels: Sequence[str], name: str) -> int:
        try:
            return list(labels).index(name)
        except ValueError:
            raise ValueError(f"{kind} {name!r} is not in these results{did_you_mean(name, labels)}"
                             f"; available: {', '.join(labels)}") from None

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

    def _baseline(self, baseline: str | None) -> int:
        if baseline is None:
            return 0
        return self._index("policy", self.policies, baseline)

    # ------------------------------------------------------------------ tables
    def summary(
        self,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
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
        pandas.DataFrame
            Columns ``policy, segment, metric, mean, half_width, low, high, sd,
            n, note`` (units of the metric); ``n`` counts the replications with
            a finite value; ``half_width`` is NaN with note ``"n<3"`` when
            fewer than 3, 0 with note ``"zero variance"`` when all
            replications agree, and everything is NaN with note
            ``"no customers"`` when the segment had no customer in any
            replication.
        """
        return _tables.summary_table(self, metrics, segments, confidence)

    def compare(
        self,
        baseline: str | None = None,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
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
        pandas.DataFrame
            Columns ``policy, segment, metric, baseline_mean, policy_mean,
            difference, half_width, low, high, p_value, p_holm, significant,
            n, note`` (one row per non-baseline policy, segment and metric;
            units of the metric). ``significant`` is ``p_holm < 1 -
            confidence``: the one notion of significance of peakend's tables,
            plots and command line. ``attrs``: ``title``, ``baseline``,
            ``confidence``.
        """
        return _tables.compare_table(self, baseline, metrics, segments, confidence)

    def cost_per_point(
        self,
        baseline: str | None = None,
        rule: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
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
        pandas.DataFrame
            Columns ``policy, segment, rule, cost_difference`` (currency/day),
            ``value_difference, value_low, value_high`` (affect points),
            ``cost_per_point`` (currency/day per point), ``note``. The note
            says ``"dominant"`` (better and not dearer), ``"dominated"`` (not
            better and not cheaper), ``"not significant"`` (the value interval
            contains 0), ``"no change"`` (neither cost nor value differs),
            ``"no customers"`` (no value to compare) or ``""``;
            ``cost_per_point`` is NaN unless value rises at a cost.
        """
        return _tables.cost_per_point_table(self, baseline, rule, segment, confidence)

    def pareto(self, rule: str | None = None, segment: str = ALL) -> pd.DataFrame:
        """Which policies are Pareto-efficient in (cost, remembered value).

        Parameters
        ----------
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, cost`` (mean currency/day), ``value`` (mean
            remembered value), ``efficient`` (no other policy is at most as
            dear and at least as good, one of them strictly), ``note``
            (``"no customers"`` where the value is NaN: never efficient);
            sorted by cost.
        """
        return _tables.pareto_table(self, rule, segment)

    def rankings(self, segment: str = ALL, rules: Sequence[str] | None = None) -> pd.DataFrame:
        """Rank of each policy (1 = best remembered) under each memory rule.

        Parameters
        ----------
        segment : str, default "all"
            Segment.
        rules : sequence of str, optional
            Default every rule of the run.

        Returns
        -------
        pandas.DataFrame
            Column ``policy`` then one column of ranks per rule (named by the
            rule; ties share the mean rank, NaN where the value is NaN).
        """
        return _tables.rankings_table(self, segment, rules)

    def rule_disagreement(
        self,
        rule_a: str | None = None,
        rule_b: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
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
            Level of ``both_significant`` (p-values are unadjusted).

        Returns
        -------
        pandas.DataFrame
            Columns ``segment, rule_a, rule_b, policy_1, policy_2,
            difference_a, p_a, difference_b, p_b, both_significant``, with
            ``difference = mean(policy_1 - policy_2)`` under each rule and
            ``both_significant`` when both p-values are below ``1 - confidence``.
            Empty when the rules agree on every pair.
        """
        return _tables.rule_disagreement_table(self, rule_a, rule_b, segment, confidence)

    def headline(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per policy and segment: remembered value with CI, wait, abandonment, cost.

        Parameters
        ----------
        confidence : float, default 0.95
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, segment, remembered`` (mean under the headline
            rule, ``attrs["rule"]``), ``half_width`` (of its t-interval),
            ``wait_mean`` (minutes), ``abandonment_rate`` (0..1), ``cost``
            (currency/day), ``n_customers`` (mean per day); the table
            ``repr`` shows (``peakend run`` prints a wider comparison table).
        """
        return _tables.headline_table(self, confidence)

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
        """
        n_p, n_r, n_s, n_m = self._values.shape
        idx = np.indices((n_p, n_r, n_s, n_m)).reshape(4, -1)
        return pd.DataFrame({
            "policy": pd.Categorical.from_codes(idx[0], categories=pd.Index(list(self.policies))),
            "replication": idx[1].astype(np.int64),
            "seed": np.full(idx.shape[1], self.seed, dtype=np.int64),
            "segment": pd.Categorical.from_codes(idx[2], categories=pd.Index(list(self.segments))),
            "metric": pd.Categorical.from_codes(idx[3], categories=pd.Index(list(self.metrics))),
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
        meta = ResultsMetadata.model_validate(self.metadata())
        return write_results_file(Path(path), self._values, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Results:
        """Read results written by :meth:`save` (see :func:`load_results`)."""
        values, meta = read_results_file(path)
        return cls(
            values,
            policies=meta.policies,
            segments=meta.segments,
            metrics=meta.metrics,
            seed=meta.seed,
            rules=meta.rules,
            scenario=meta.scenario,
            policy_specs=[p.model_dump() for p in meta.policy_specs],
            version=meta.version,
        )

    # ------------------------------------------------------- plots and report
    @property
    def plot(self) -> ResultsPlot:
        """Figures of these results: ``.plot.compare()``, ``.plot.pareto()``, ``.plot.rules()``.

        Each method takes ``ax=None`` and returns the matplotlib Axes (see
        :class:`peakend.plots.ResultsPlot`; needs matplotlib).
        """
        from peakend.plots import ResultsPlot  # type: ignore[attr-defined, unused-ignore]

        return ResultsPlot(self)  # type: ignore[no-any-return, unused-ignore]

    def report(self, path: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Write a self-contained HTML report of these results.

        See :func:`peakend.report.write_report` (figures embedded, no network needed).

        Parameters
        ----------
        path : path-like
            The ``.html`` file to write.
        **kwargs
            Passed on to :func:`peakend.report.write_report` (e.g. ``title``).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from peakend.report import (  # type: ignore[import-not-found, unused-ignore]
            write_report,
        )

        return Path(write_report(self, path, **kwargs))

    # ------------------------------------------------------------------- show
    def describe(self) -> str:
        """One line: numbers of policies, replications, segments, metrics; seed, rules, version."""
        return (f"Results: {len(self.policies)} policies x {self.n_replications} replications x "
                f"{len(self.segments)} segments x {len(self.metrics)} metrics; "
                f"seed {self.seed}; rules {', '.join(self.rules)}; peakend {self.version}")

    def __repr__(self) -> str:
        from peakend.experiment._table import format_text

        table = self.headline()
        table = table[table["segment"] == ALL].drop(columns="segment").reset_index(drop=True)
        return (self.describe() + "\n"
                + format_text(table, digits={"cost": 0, "n_customers": 1}, title=False))

    def _repr_html_(self) -> str:
        table = self.headline()
        title = html.escape(table.attrs["title"])
        body = table.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-")
        return f"<p>{html.escape(self.describe())}</p><p><em>{title}</em></p>{body}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Results):
            return NotImplemented
        return (self.metadata() == other.metadata()
                and np.array_equal(self._values, other._values, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]


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
    ResultsFileError
        (a ``ValueError``) if the file is missing, not a results file (e.g. a
        scenario ``.toml``, random bytes, another ``.npz``), damaged, has
        metadata that breaks the schema (the message names the key), or
        another schema version.
    """
    return Results.load(path)
