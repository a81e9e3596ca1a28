"""The built-in memory-rule names: the one definition of them.

:data:`RuleName` is the ``Literal`` type of a rule name (the type of the scenario's
``memory.rule`` field) and :data:`RULE_NAMES` the same names as a tuple, in their
documented order. :mod:`peakend.config` and :mod:`peakend.memory` both import them, so
the names are written once; every rule class's ``name`` is checked against this tuple
when :mod:`peakend.memory` is imported. This module imports nothing (not even numpy),
so that the configuration can import it cheaply.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["RULE_NAMES", "RuleName"]

#: A built-in memory rule's name.
RuleName = Literal[
    "peak_end",
    "weighted_peak_end",
    "best_worst_end",
    "mean",
    "integral",
    "time_weighted_mean",
    "peak",
    "end",
    "trend",
    "recency",
]

#: The built-in rule names, in their documented order.
RULE_NAMES: tuple[RuleName, ...] = get_args(RuleName)
