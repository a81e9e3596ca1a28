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

from peakend.experiment._aggregate import ALL, remembered_metric
from peakend.experiment._analysis import ResultsTables
from peakend.experiment._metadata import (
    RESULTS_FORMAT,
    RESULTS_SCHEMA_VERSION,
    ResultsFileError,
    read_results_file,
    validated,
    write_results_file,
)

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys
    from peakend.plots import ResultsPlot

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


class Results(ResultsTables):
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
    engine : {"simpy", "compiled"}, optional
        The movement engine that simulated the days (``run`` records it; saved in the
        metadata). Every engine gives the same values, so results that differ only in
        their engine are equal.
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
        engine: str | None = None,
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
        self.engine = engine

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
        metrics = _names(metrics, "metrics")
        segments = _names(segments, "segments")
        ms = [self.metric_name(m) for m in metrics] if metrics is not None else list(self.metrics)
        ss = list(segments) if segments is not None else list(self.segments)
        for s in ss:
            self._index("segment", self.segments, s)
        return ms, ss

    def _baseline(self, baseline: str | None) -> int:
        if baseline is None:
            return 0
        return self._index("policy", self.policies, baseline)

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
            **({"engine": self.engine} if self.engine is not None else {}),
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
        return write_results_file(Path(path), self._values, validated(self.metadata()))

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
            engine=meta.engine,
        )

    # ------------------------------------------------------- plots and report
    @property
    def plot(self) -> ResultsPlot:
        """Figures of these results: ``.plot.compare()``, ``.plot.pareto()``, ``.plot.rules()``.

        Each method takes ``ax=None`` and returns the matplotlib Axes (see
        :class:`peakend.plots.ResultsPlot`; needs matplotlib).
        """
        from peakend.plots import ResultsPlot

        return ResultsPlot(self)

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
        from peakend.report import write_report

        return Path(write_report(self, path, **kwargs))

    # ------------------------------------------------------------------- show
    def describe(self) -> str:
        """One line: numbers of policies, replications, segments, metrics; seed, rules, version."""
        return (f"Results: {len(self.policies)} policies x {self.n_replications} replications x "
                f"{len(self.segments)} segments x {len(self.metrics)} metrics; "
                f"seed {self.seed}; rules {', '.join(self.rules)}; peakend {self.version}")

    def __repr__(self) -> str:
        from peakend.experiment._table import COLUMN_DIGITS, format_text

        table = self.headline()
        table = table[table["segment"] == ALL].drop(columns="segment").reset_index(drop=True)
        return (self.describe() + "\n"
                + format_text(table, digits=COLUMN_DIGITS, title=False))

    def _repr_html_(self) -> str:
        table = self.headline()
        title = html.escape(table.attrs["title"])
        body = table.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-")
        return f"<p>{html.escape(self.describe())}</p><p><em>{title}</em></p>{body}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Results):
            return NotImplemented
        def meta(r: Results) -> dict[str, Any]:
            return {k: v for k, v in r.metadata().items() if k != "engine"}

        return (meta(self) == meta(other)
                and np.array_equal(self._values, other._values, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]


def _names(value: Sequence[str] | str | None, what: str) -> list[str] | None:
    """Return a name or a sequence of names as a list (None stays None), else raise."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) or (hasattr(value, "__iter__") and
                                       not isinstance(value, Mapping)):
        names = list(value)
        if all(isinstance(n, str) for n in names):
            return names
    raise ValueError(f"{what}: expected a name or a list of names, got {value!r}")


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
