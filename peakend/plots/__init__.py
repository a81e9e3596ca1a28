"""Figures for journeys, experiments and memory rules (matplotlib).

Every function takes plain data (a :class:`~peakend.journeys.Journeys`, numpy
arrays, a mapping or a pandas DataFrame), draws on the Axes passed as ``ax`` (or on
a new figure when ``ax`` is None) and returns that Axes. No function calls
``plt.show()``: the caller decides whether to show, save or close the figure.
``matplotlib.pyplot`` is imported only inside the functions, so importing this
module is cheap.

Units follow the library conventions: times in minutes (from opening, or from the
customer's arrival), affect and remembered values on the -10..10 affect scale
(0 means "exactly as expected"), costs in currency units (the scenario's currency
where the figure knows it).

Every colour comes from the colour-blind-safe Okabe-Ito palette (:data:`OKABE_ITO`):
blue for better, vermillion for worse, grey for no difference, and meaning carried by
shape too (▲ better, ▼ worse, ○ not significant). Significance is one notion
throughout, Holm-adjusted (:func:`is_significant`), as in the tables and the command
line. :class:`ResultsPlot` and :class:`JourneysPlot` draw the usual figures of a
``Results`` or a ``Journeys`` in one call (``ResultsPlot(results).compare()``).

Examples
--------
>>> import numpy as np
>>> from peakend import plots
>>> ax = plots.cost_value_pareto([100.0, 150.0, 120.0], [-1.0, 0.5, -1.5],
...                              labels=["base", "extra teller", "gift"])
>>> plots.pareto_frontier([100.0, 150.0, 120.0], [-1.0, 0.5, -1.5]).tolist()
[0, 1]
The figures live in modules of this package (``journey``, ``day``, ``results``, the
accessors in ``accessors`` and the shared palette and helpers in ``_style``); every name
is imported from here, ``from peakend.plots import journey_map``.
"""

from __future__ import annotations

from peakend.plots._style import _BAD as _BAD
from peakend.plots._style import _GOOD as _GOOD
from peakend.plots._style import _NEUTRAL as _NEUTRAL
from peakend.plots._style import AFFECT_LABEL, OKABE_ITO, is_significant
from peakend.plots.accessors import JourneysPlot, ResultsPlot
from peakend.plots.day import hall_queue, moments_of_truth, remembered_distribution
from peakend.plots.journey import journey_map
from peakend.plots.results import (
    cost_value_pareto,
    pareto_frontier,
    policy_comparison,
    rule_rankings,
)

__all__ = [
    "AFFECT_LABEL",
    "OKABE_ITO",
    "JourneysPlot",
    "ResultsPlot",
    "cost_value_pareto",
    "hall_queue",
    "is_significant",
    "journey_map",
    "moments_of_truth",
    "pareto_frontier",
    "policy_comparison",
    "remembered_distribution",
    "rule_rankings",
]
