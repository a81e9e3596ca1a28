"""The branch model: :func:`simulate` one day into a :class:`~peakend.Journeys`.

The day runs in three stages, each in its own module: the draws (:mod:`peakend.sim.draws`,
all randomness up front), the movement (:mod:`peakend.sim.engine`, SimPy, with the counter
disciplines in :mod:`peakend.sim.disciplines` and the staff in :mod:`peakend.sim.staff`)
and the experience (:mod:`peakend.sim.experience`, episodes from a table of touchpoints);
:mod:`peakend.sim.model` puts them together. See ``docs/background/branch-model.md`` for
the model and its equations.
"""

from peakend.sim.model import MOMENT, OverloadWarning, PeakendWarning, draw_day, run_day, simulate

__all__ = ["MOMENT", "OverloadWarning", "PeakendWarning", "draw_day", "run_day", "simulate"]
