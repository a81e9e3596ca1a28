"""Calibrate a scenario from a visit log, and back-test it on held-out days."""

from peakend.calibrate._fit import DurationFit, fit_duration, fit_families, kaplan_meier
from peakend.calibrate._log import LOG_COLUMNS, read_log

__all__ = ["LOG_COLUMNS", "DurationFit", "fit_duration", "fit_families", "kaplan_meier", "read_log"]
