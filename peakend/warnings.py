"""The warning classes of peakend, in one place.

Every warning peakend issues is a :class:`PeakendWarning`, so a caller can silence or
escalate them all at once::

    import warnings
    import peakend as pe

    warnings.simplefilter("error", pe.warnings.PeakendWarning)

The classes are re-exported where they were defined before (``peakend.sim``,
``peakend.sim.model``), so existing imports keep working.
"""

from __future__ import annotations

__all__ = [
    "OVERLOAD_ABANDONED_SHARE",
    "OVERLOAD_LOAD",
    "OVERLOAD_OVERRUN_MINUTES",
    "OverloadWarning",
    "PeakendWarning",
]

#: Offered load (expected service minutes over staffed teller-minutes) above which a
#: scenario is reported as overloaded, dimensionless.
OVERLOAD_LOAD = 1.0
#: Share of a day's customers who abandon (balk or renege) above which the day is
#: reported as overloaded, 0-1.
OVERLOAD_ABANDONED_SHARE = 0.25
#: Minutes after closing the last customer may leave before the day is reported as
#: overloaded.
OVERLOAD_OVERRUN_MINUTES = 120.0


class PeakendWarning(UserWarning):
    """Base class of the warnings issued by peakend."""


class OverloadWarning(PeakendWarning):
    """The branch cannot keep up: demand above capacity, many abandonments or a long overrun.

    Issued by :func:`peakend.simulate` when the scenario's offered load exceeds
    :data:`OVERLOAD_LOAD`, more than :data:`OVERLOAD_ABANDONED_SHARE` of the day's
    customers abandon, or the last customer leaves more than
    :data:`OVERLOAD_OVERRUN_MINUTES` after closing. The message names the conditions
    that triggered it, with their numbers and thresholds. The day is still simulated
    to its end and its abandonments are recorded.
    """
