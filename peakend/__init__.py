"""peakend: how customers will remember a service visit.

A SimPy discrete-event model of a bank branch produces customer journeys; each
touchpoint gives a momentary affect by the Delta law (experience minus
expectation); a vectorized scorer turns each journey into a remembered value
with Kahneman's peak-end rule or an alternative memory rule; an experiment layer
compares staffing and window policies with common random numbers.

Submodules and public names are imported lazily on first use, so that
``import peakend`` stays fast and light (matplotlib, scipy and SimPy are only
loaded when a function that needs them is called).

Examples
--------
>>> import peakend as pe
>>> import numpy as np
>>> pe.score(np.array([-8.0, -7.0, -8.0, -1.0]), np.array([0, 2, 4])).tolist()
[-7.5, -4.5]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from peakend._version import __version__

# public name -> submodule that defines it
_LAZY_NAMES: dict[str, str] = {
    # memory and affect
    "score": "peakend.memory",
    "score_many": "peakend.memory",
    "get_rule": "peakend.memory",
    # journeys
    "Journeys": "peakend.journeys",
    "load_journeys": "peakend.journeys",
    # configuration
    "Scenario": "peakend.config",
    "load_scenario": "peakend.config",
    "scenario_schema": "peakend.config",
    # simulation
    "simulate": "peakend.sim",
    # experiments
    "Policy": "peakend.experiment",
    "run": "peakend.experiment",
    "Results": "peakend.experiment",
    "load_results": "peakend.experiment",
    # decisions
    "optimize_staffing": "peakend.decide",
    "select_best": "peakend.decide",
    "sensitivity": "peakend.decide",
    "replications_needed": "peakend.decide",
    # the what-if widget and the HTML report
    "explore": "peakend.explore",
    "write_report": "peakend.report",
}

_SUBMODULES = (
    "affect",
    "calibrate",
    "cem",
    "cli",
    "config",
    "datasets",
    "decide",
    "experiment",
    "journeys",
    "loyalty",
    "memory",
    "metrics",
    "plots",
    "report",
    "scenarios",
    "sim",
    "stats",
    "theory",
    "warnings",
)

__all__ = ["__version__", *sorted(_LAZY_NAMES), *_SUBMODULES]


def __getattr__(name: str) -> Any:
    """Import public names and submodules on first access (PEP 562)."""
    if name in _LAZY_NAMES:
        module = importlib.import_module(_LAZY_NAMES[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"peakend.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'peakend' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public names, including the lazily imported ones."""
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for static type checkers only
    from peakend import (  # noqa: F401
        affect,
        calibrate,
        cem,
        cli,
        config,
        datasets,
        decide,
        experiment,
        journeys,
        loyalty,
        memory,
        metrics,
        plots,
        report,
        scenarios,
        sim,
        stats,
        theory,
        warnings,
    )
    from peakend.config import Scenario, load_scenario, scenario_schema  # noqa: F401
    from peakend.decide import (  # noqa: F401
        optimize_staffing,
        replications_needed,
        select_best,
        sensitivity,
    )
    from peakend.experiment import Policy, Results, load_results, run  # noqa: F401
    from peakend.explore import explore  # noqa: F401
    from peakend.journeys import Journeys, load_journeys  # noqa: F401
    from peakend.memory import get_rule, score, score_many  # noqa: F401
    from peakend.report import write_report  # noqa: F401
    from peakend.sim import simulate  # noqa: F401
