"""The SimPy branch model: :func:`simulate` one day into a :class:`~peakend.Journeys`.

See ``docs/background/branch-model.md`` for the model and its equations.
"""

from peakend.sim.model import MOMENT, OverloadWarning, PeakendWarning, draw_day, run_day, simulate

__all__ = ["MOMENT", "OverloadWarning", "PeakendWarning", "draw_day", "run_day", "simulate"]
