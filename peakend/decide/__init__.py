"""Decisions: the cheapest staffing plan, the best policy with a guarantee, robustness.

:func:`optimize_staffing` finds the cheapest tellers-per-block plan, over the
counter groups of every stage, that meets targets on simulated outcomes
(remembered value, waits, abandonment); :func:`select_best` picks the best policy
with Kim and Nelson's fully sequential procedure; :func:`sensitivity` measures how
outcomes and the ranking of policies depend on uncertain inputs (SALib). All build
on :func:`peakend.run` with common random numbers.

The names are imported on first use (PEP 562), so that ``import peakend.decide.cli``
(which every ``peakend`` command does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    "AutoReplications": "peakend.experiment._auto",
    "Parameter": "peakend.decide.global_sensitivity",
    "Selection": "peakend.decide.selection",
    "Sensitivity": "peakend.decide.global_sensitivity",
    "StaffingPlan": "peakend.decide.staffing",
    "Target": "peakend.decide.targets",
    "TargetsUnreachable": "peakend.decide.staffing",
    "kn_select": "peakend.decide.selection",
    "metric_choices": "peakend.decide.targets",
    "optimize_staffing": "peakend.decide.staffing",
    "parse_metric": "peakend.decide.targets",
    "parse_targets": "peakend.decide.targets",
    "replications_needed": "peakend.experiment._auto",
    "run_auto": "peakend.experiment._auto",
    "select_best": "peakend.decide.selection",
    "sensitivity": "peakend.decide.global_sensitivity",
}

__all__ = [
    "AutoReplications",
    "Parameter",
    "Selection",
    "Sensitivity",
    "StaffingPlan",
    "Target",
    "TargetsUnreachable",
    "kn_select",
    "metric_choices",
    "optimize_staffing",
    "parse_metric",
    "parse_targets",
    "replications_needed",
    "run_auto",
    "select_best",
    "sensitivity",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'peakend.decide' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public names, including the lazily imported ones."""
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for static type checkers and the API docs
    from peakend.decide.global_sensitivity import Parameter, Sensitivity, sensitivity
    from peakend.decide.selection import Selection, kn_select, select_best
    from peakend.decide.staffing import StaffingPlan, TargetsUnreachable, optimize_staffing
    from peakend.decide.targets import Target, metric_choices, parse_metric, parse_targets
    from peakend.experiment._auto import AutoReplications, replications_needed, run_auto
