"""Metric names of :class:`~peakend.experiment.Results` as ``segment.metric`` strings.

``"all.remembered[peak_end]"`` names a segment (or ``all``) and a metric; the decision
tools (targets, selection, sensitivity) and ``run(replications="auto")`` parse such
strings strictly, with the valid names and a close match in the error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario

__all__ = ["check_names", "did_you_mean", "metric_choices", "parse_metric", "rule_names"]

_METRIC = re.compile(r"^\s*(?P<segment>[A-Za-z_][\w-]*)\.(?P<metric>[A-Za-z_]\w*(?:\[\w+\])?)\s*$")


def rule_names() -> tuple[str, ...]:
    from peakend.memory import RULES

    return tuple(RULES)


def _base_metrics() -> tuple[str, ...]:
    from peakend.experiment._aggregate import BASE_METRICS

    return tuple(BASE_METRICS)


def metric_choices() -> list[str]:
    """Every metric name a target may use: the base metrics, then ``remembered[<rule>]``."""
    return [*_base_metrics(), *(f"remembered[{r}]" for r in rule_names())]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_names(text: str, segment: str, metric: str, segments: Sequence[str], what: str) -> None:
    allowed_segments = ["all", *segments]
    if segment not in allowed_segments:
        raise ValueError(
            f"{what} {text!r}: unknown segment {segment!r}; valid segments: "
            f"{', '.join(allowed_segments)}{did_you_mean(segment, allowed_segments)}"
        )
    choices = metric_choices()
    if metric not in choices and metric != "remembered":
        raise ValueError(
            f"{what} {text!r}: unknown metric {metric!r}; valid metrics: "
            f"{', '.join(_base_metrics())}, remembered[<rule>] with rule one of "
            f"{', '.join(rule_names())}{did_you_mean(metric, choices)}"
        )


def parse_metric(text: str, scenario: Scenario | None = None, *, allow_own_rule: bool = False
                 ) -> tuple[str, str]:
    """Parse ``"segment.metric"`` (e.g. ``"all.remembered[peak_end]"``) strictly.

    Parameters
    ----------
    text : str
        Segment (or ``all``), a dot and a metric name of :func:`metric_choices`.
    scenario : Scenario, optional
        If given, the segment must be one of its segments or ``all``.
    allow_own_rule : bool, default False
        Also accept plain ``remembered``: the value under each scenario's own memory rule.

    Returns
    -------
    tuple of str
        ``(segment, metric)``.

    Raises
    ------
    ValueError
        Naming the metric string, the valid segments or metrics and a close match.
    """
    if not isinstance(text, str):
        raise ValueError(f"metric must be a string 'segment.metric', got {text!r}")
    m = _METRIC.match(text)
    if not m:
        raise ValueError(
            f"metric {text!r}: expected 'segment.metric', e.g. 'all.remembered[peak_end]'"
        )
    seg, metric = m.group("segment"), m.group("metric")
    if metric == "remembered" and not allow_own_rule:
        raise ValueError(
            f"metric {text!r}: name the memory rule, e.g. 'remembered[peak_end]'"
        )
    segments = list(scenario.segments) if scenario is not None else [seg]
    check_names(text, seg, metric, segments, "metric")
    return seg, metric
