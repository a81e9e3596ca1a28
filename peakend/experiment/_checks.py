"""Checks of :func:`peakend.run`'s arguments, made before anything is simulated.

Each error names the argument and what is allowed: a ``TypeError`` for a value of the
wrong type, a ``ValueError`` for one out of range.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Iterable, Mapping, Set
from typing import Any

import numpy as np

from peakend.experiment._policy import Policy

__all__ = ["MAX_SEED", "MAX_TASKS", "MAX_WORKERS", "check_run_arguments", "check_tasks"]

#: Default cap on replications x policies (simulated days) in one run; ``max_tasks`` raises it.
MAX_TASKS = 1_000_000
#: Seeds are stored as int64 in results files: 0 <= seed <= MAX_SEED.
MAX_SEED = 2**63 - 1
#: Most processes one run may use (``workers``).
MAX_WORKERS = 1024


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _kind(value: Any) -> str:
    """Describe a wrong value for a message: its repr if short and plain, else its type."""
    if value is None or isinstance(value, (str, bytes, float)):
        text = repr(value)
        return text if len(text) <= 60 else f"{text[:57]}..."
    if _is_int(value) or _is_bool(value):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, type):
        return f"the class {value.__name__} (not an instance)"
    return type(value).__name__


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if not _is_int(value):
        raise TypeError(
            f"{name}: expected an integer from {low:,} to {high:,}, got {_kind(value)}"
        )
    if not low <= value <= high:
        raise ValueError(
            f"{name} must be an integer from {low:,} to {high:,}, got {int(value):,}"
        )
    return int(value)


def check_run_arguments(
    scenario: Any,
    policies: Any,
    replications: Any,
    seed: Any,
    workers: Any,
    executor: Any,
    progress: Any,
    checkpoint: Any,
    rules: Any,
    keep_journeys: Any,
    survey: Any,
    max_tasks: Any,
) -> tuple[int, int, tuple[Any, ...]]:
    """Check the arguments of :func:`peakend.run` that need no simulation or file.

    Returns
    -------
    tuple
        ``replications``, ``seed`` (as int) and ``rules`` (as a tuple).

    Raises
    ------
    TypeError
        For an argument of the wrong type, naming it.
    ValueError
        For an argument out of range, naming it and the range.
    """
    if not (hasattr(scenario, "model_dump") or isinstance(scenario, (str, os.PathLike))):
        raise TypeError(
            "scenario: expected a Scenario, the name of a built-in scenario or the path of a "
            f"scenario file, got {_kind(scenario)}"
        )
    if isinstance(scenario, str) and not scenario.strip():
        raise ValueError("scenario: expected a built-in scenario name or a path, got ''")
    if isinstance(policies, Set):
        raise TypeError("policies: a set has no order; give a list or a mapping")
    if policies is not None and not isinstance(policies, (Policy, str, os.PathLike, Iterable)):
        raise TypeError(
            "policies: expected None, a Policy, a list of Policy, a mapping of names to "
            f"changes, or a policy file or built-in set name, got {_kind(policies)}"
        )
    if isinstance(policies, str) and not policies.strip():
        raise ValueError("policies: expected a policy file or built-in set name, got ''")
    max_tasks = _integer("max_tasks", max_tasks, 1, 2**62)
    if _is_int(replications) and replications > max_tasks:
        raise ValueError(
            f"replications: {int(replications):,} is more than max_tasks = {max_tasks:,} "
            "simulated days per run; ask for fewer, or pass a larger max_tasks to raise the cap"
        )
    replications = _integer("replications", replications, 1, max_tasks)
    seed = _integer("seed", seed, 0, MAX_SEED)
    if workers is not None:
        if not _is_int(workers):
            raise TypeError(
                f"workers: expected None or an integer from 1 to {MAX_WORKERS}, got "
                f"{_kind(workers)}"
            )
        _integer("workers", workers, 1, MAX_WORKERS)
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(
            "executor: expected a concurrent.futures.Executor (e.g. a Dask client's "
            f"get_executor()), got {_kind(executor)}"
        )
    for name, flag in (("progress", progress), ("keep_journeys", keep_journeys),
                       ("survey", survey)):
        if not _is_bool(flag):
            raise TypeError(f"{name}: expected True or False, got {_kind(flag)}")
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)):
            raise TypeError(f"checkpoint: expected a directory path, got {_kind(checkpoint)}")
        if not os.fspath(checkpoint):
            raise ValueError("checkpoint: expected a directory path, got ''")
    if isinstance(rules, (str, bytes)):
        raise TypeError(
            f"rules: expected a sequence of memory rules, got the string {rules!r}; "
            f"write rules=[{rules!r}]"
        )
    if isinstance(rules, Mapping) or not isinstance(rules, Iterable):
        raise TypeError(
            f"rules: expected a sequence of memory-rule names or rule objects, got {_kind(rules)}"
        )
    rules = tuple(rules)
    if not rules:
        raise ValueError("rules must name at least one memory rule")
    return replications, seed, rules


def check_tasks(replications: int, n_policies: int, max_tasks: int) -> None:
    """Refuse a run of more than ``max_tasks`` simulated days, before making its task list.

    Raises
    ------
    ValueError
        Naming ``replications``, the number of days and the cap.
    """
    if replications * n_policies > max_tasks:
        raise ValueError(
            f"replications: {replications:,} replications x {n_policies} policies = "
            f"{replications * n_policies:,} simulated days, more than max_tasks = "
            f"{max_tasks:,}; ask for fewer, or pass a larger max_tasks to raise the cap"
        )
