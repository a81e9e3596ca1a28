"""Targets on simulated metrics: ``"ordinary.remembered[peak_end] >= 0"``, parsed strictly.

A target names a segment (or ``all``), a metric as in :class:`peakend.Results`
(``wait_mean``, ``wait_p90``, ``abandonment_rate``, ``remembered[<rule>]`` ...),
an operator (``<=``, ``>=``, ``<``, ``>``) and a value. It holds for a plan when a
one-sided confidence bound of the metric's expected daily value is on the right
side of the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from peakend.experiment._metric_names import (
    check_names,
    metric_choices,
    parse_metric,
    rule_names,
)

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario

__all__ = ["OPERATORS", "Bound", "Target", "metric_choices", "parse_metric", "parse_targets"]

#: Comparison operators allowed in a target.
OPERATORS: tuple[str, ...] = ("<=", ">=", "<", ">")

_TARGET = re.compile(
    r"^\s*(?P<segment>[A-Za-z_][\w-]*)\.(?P<metric>[A-Za-z_][\w]*(?:\[[\w]+\])?)\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Bound:
    """A target's one-sided confidence bound, evaluated on replications.

    Attributes
    ----------
    mean : float
        Mean of the metric over the replications with a finite value (metric units).
    bound : float
        One-sided confidence bound on the unfavourable side: the upper bound for
        ``<=``/``<``, the lower bound for ``>=``/``>`` (metric units).
    n : int
        Replications with a finite value.
    holds : bool
        The bound is on the allowed side of the target value (True when n == 0:
        a target about no customers is vacuous).
    shortfall : float
        How far the bound is on the wrong side, relative to ``max(|value|, 1)``;
        0 when the target holds.
    margin : float
        Signed distance of the bound from the value, positive when it holds (metric units).
    """

    mean: float
    bound: float
    n: int
    holds: bool
    shortfall: float
    margin: float


@dataclass(frozen=True)
class Target:
    """One parsed target: ``segment.metric op value``.

    Attributes
    ----------
    text : str
        The target as written.
    segment : str
        ``"all"`` or a segment name.
    metric : str
        Metric name as in :class:`peakend.Results`.
    op : str
        One of :data:`OPERATORS`.
    value : float
        The threshold, in the metric's units.
    """

    text: str
    segment: str
    metric: str
    op: str
    value: float

    @property
    def upper(self) -> bool:
        """True for ``<=``/``<`` (the metric must stay below the value)."""
        return self.op in ("<=", "<")

    @property
    def rule(self) -> str | None:
        """The memory rule of a ``remembered[<rule>]`` metric, else None."""
        m = re.fullmatch(r"remembered\[(\w+)\]", self.metric)
        return m.group(1) if m else None

    def evaluate(self, values: np.ndarray, level: float) -> Bound:
        """Check the target on per-replication values with a one-sided bound.

        Parameters
        ----------
        values : ndarray
            The metric on each replication (NaN entries are ignored).
        level : float
            One-sided confidence level of the bound, in (0, 1) (e.g. 0.95, or
            ``1 - 0.05 / k`` for a Bonferroni adjustment over k targets).

        Returns
        -------
        Bound
        """
        from scipy import stats

        x = np.asarray(values, dtype=np.float64)
        x = x[np.isfinite(x)]
        n = int(x.size)
        if n == 0:
            return Bound(math.nan, math.nan, 0, True, 0.0, math.inf)
        mean = float(x.mean())
        if n >= 2:
            sd = float(x.std(ddof=1))
            half = float(stats.t.ppf(level, n - 1)) * sd / math.sqrt(n)
        else:
            half = 0.0
        bound = mean + half if self.upper else mean - half
        margin = self.value - bound if self.upper else bound - self.value
        strict = self.op in ("<", ">")
        holds = margin > 0 if strict else margin >= 0
        shortfall = 0.0 if holds else -margin / max(abs(self.value), 1.0)
        return Bound(mean, bound, n, bool(holds), float(shortfall), float(margin))

    def __str__(self) -> str:
        return f"{self.segment}.{self.metric} {self.op} {self.value!r}"


def parse_targets(
    targets: str | Iterable[str], scenario: Scenario | None = None
) -> list[Target]:
    """Parse targets such as ``"ordinary.remembered[peak_end] >= 0"`` strictly.

    Parameters
    ----------
    targets : str or iterable of str
        One target or several: ``segment.metric op value`` with segment ``all``
        or a segment of the scenario, a metric of :func:`metric_choices`,
        op one of ``<=``, ``>=``, ``<``, ``>`` and a finite number.
    scenario : Scenario, optional
        If given, the segment must be one of its segments (or ``all``).

    Returns
    -------
    list of Target
        In the order given.

    Raises
    ------
    ValueError
        Naming the target at fault, the valid segments or metrics and a close match.
    """
    if isinstance(targets, str):
        targets = [targets]
    items = list(targets)
    if not items:
        raise ValueError("targets: give at least one target, e.g. 'all.wait_p90 <= 10'")
    segments = list(scenario.segments) if scenario is not None else None
    out = []
    for text in items:
        if not isinstance(text, str):
            raise ValueError(f"targets: each target must be a string, got {text!r}")
        m = _TARGET.match(text)
        if not m:
            raise ValueError(
                f"target {text!r}: expected 'segment.metric OP value' with OP one of "
                f"{', '.join(OPERATORS)}, e.g. 'ordinary.remembered[peak_end] >= 0' or "
                f"'all.wait_p90 <= 10'"
            )
        seg, metric = m.group("segment"), m.group("metric")
        value = float(m.group("value"))
        if not math.isfinite(value):
            raise ValueError(f"target {text!r}: the value must be a finite number")
        if metric == "remembered":
            raise ValueError(
                f"target {text!r}: name the memory rule, e.g. 'remembered[peak_end]'; rules: "
                f"{', '.join(rule_names())}"
            )
        if segments is not None:
            check_names(text, seg, metric, segments, "target")
        else:
            check_names(text, seg, metric, [seg], "target")
        out.append(Target(text, seg, metric, m.group("op"), value))
    return out
