"""Policy experiments: replications with common random numbers, executors, results.

A :class:`Policy` is a named change to a scenario; :func:`run` simulates every
policy over the same replicated days (common random numbers), in this process,
in worker processes or on any ``concurrent.futures`` executor (Dask included),
with a progress bar and an optional resumable checkpoint; :class:`Results`
summarises, compares (paired, Holm-adjusted), costs and ranks the policies.

Examples
--------
>>> import peakend as pe
>>> lunch = pe.Policy("five", {"counters": {"general": {"tellers": 5}}})
>>> res = pe.run("default_branch", [pe.Policy("baseline"), lunch], replications=5,
...              progress=False)
>>> bool(res.compare("baseline", "wait_mean", "all")["difference"][0] < 0)
True
"""

from peakend.experiment._aggregate import (
    ALL,
    BASE_METRICS,
    METRIC_DESCRIPTIONS,
    metric_names,
    survey_metric_names,
)
from peakend.experiment._checkpoint import CheckpointError, CheckpointWarning
from peakend.experiment._checks import MAX_TASKS
from peakend.experiment._policy import (
    Policy,
    PolicyError,
    builtin_policy_sets,
    deep_merge,
    load_policies,
    policies_from,
)
from peakend.experiment._results import TIDY_COLUMNS, Results, ResultsFileError, load_results
from peakend.experiment._run import run
from peakend.experiment._tasks import DEFAULT_RULES, replication_seed, simulate_replication

__all__ = [
    "ALL",
    "BASE_METRICS",
    "DEFAULT_RULES",
    "MAX_TASKS",
    "METRIC_DESCRIPTIONS",
    "TIDY_COLUMNS",
    "CheckpointError",
    "CheckpointWarning",
    "Policy",
    "PolicyError",
    "Results",
    "ResultsFileError",
    "builtin_policy_sets",
    "deep_merge",
    "load_policies",
    "load_results",
    "metric_names",
    "policies_from",
    "replication_seed",
    "run",
    "simulate_replication",
    "survey_metric_names",
]
