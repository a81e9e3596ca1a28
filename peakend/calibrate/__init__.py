"""Calibrate a scenario from a visit log, and back-test it on held-out days.

See ``docs/how-to/calibrate.md`` (how) and ``docs/background/calibration.md`` (the
methods, their sources and limits).
"""

from peakend.calibrate._backtest import BACKTEST_COLUMNS, METRICS, backtest, plot_backtest
from peakend.calibrate._calibrate import MODEL_FAMILIES, Calibration, from_log
from peakend.calibrate._estimate import day_types, staffing_table
from peakend.calibrate._fit import (
    FAMILIES,
    DurationFit,
    fit_duration,
    fit_families,
    fit_patience,
    kaplan_meier,
    poisson_interval,
    wilson_interval,
)
from peakend.calibrate._journeys import log_from_journeys
from peakend.calibrate._log import LOG_COLUMNS, read_log

__all__ = [
    "BACKTEST_COLUMNS",
    "FAMILIES",
    "LOG_COLUMNS",
    "METRICS",
    "MODEL_FAMILIES",
    "Calibration",
    "DurationFit",
    "backtest",
    "day_types",
    "fit_duration",
    "fit_families",
    "fit_patience",
    "from_log",
    "kaplan_meier",
    "log_from_journeys",
    "plot_backtest",
    "poisson_interval",
    "read_log",
    "staffing_table",
    "wilson_interval",
]
