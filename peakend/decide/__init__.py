"""Decisions: the cheapest staffing plan, the best policy with a guarantee, robustness.

:func:`optimize_staffing` finds the cheapest tellers-per-block plan that meets
targets on simulated outcomes (remembered value, waits, abandonment);
:func:`select_best` picks the best policy with Kim and Nelson's fully sequential
procedure; :func:`sensitivity` measures how outcomes and the ranking of
policies depend on uncertain inputs (SALib). All build on :func:`peakend.run`
with common random numbers.
"""

from peakend.decide.global_sensitivity import Parameter, Sensitivity, sensitivity
from peakend.decide.selection import Selection, kn_select, select_best
from peakend.decide.staffing import StaffingPlan, TargetsUnreachable, optimize_staffing
from peakend.decide.targets import Target, metric_choices, parse_metric, parse_targets
from peakend.experiment._auto import AutoReplications, replications_needed, run_auto

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
