"""Memory rules: from a journey's moment-by-moment affect to a remembered value.

Journeys are ragged and stored as CSR arrays: ``affect`` holds every episode's
momentary affect (on the -10..10 scale of the library), ``offsets`` has one more
entry than there are journeys, and journey ``i`` is
``affect[offsets[i]:offsets[i + 1]]``. ``durations`` (minutes, > 0), if given,
has one entry per episode; without it every episode lasts one minute.

Every rule is vectorized over journeys (``numpy.ufunc.reduceat`` over the
journey starts, with empty journeys masked out before the reduction, because
``reduceat`` returns the next row's first value on an empty segment). Empty
journeys score NaN. Several rules scored in one :func:`score_many` call share
validation and the common passes (extrema, sums, the end gather, durations).

:func:`fit` estimates how strongly each feature of a journey (peak, end, mean,
...) drives retrospective ratings, with bootstrap intervals, and
:func:`compare_rules` cross-validates candidate rules against ratings.

The rules, their formulas and their edge-case conventions are documented in
``docs/reference/memory-rules.md``; fitting in ``docs/how-to/fit-memory-rules.md``.

Examples
--------
Redelmeier & Kahneman (1996), patients A and B, pain as negative affect:

>>> import numpy as np
>>> from peakend.memory import score
>>> a = np.array([-2.0, -8.0, -7.0, -2.0, -8.0, -5.0, -3.0, -1.0])
>>> score(a, np.array([0, 3, 8])).tolist()
[-7.5, -4.5]
>>> score(a, np.array([0, 3, 8]), rule="integral").tolist()
[-17.0, -19.0]
"""

from __future__ import annotations

from peakend.memory._scoring import (
    AUTO_MIN_EPISODES,
    BLOCK_EPISODES,
    ENGINES,
    RULE_NAMES,
    RULES,
    BestWorstEnd,
    End,
    Integral,
    Mean,
    MemoryRule,
    Peak,
    PeakEnd,
    Recency,
    TimeWeightedMean,
    Trend,
    WeightedPeakEnd,
    get_rule,
    score,
    score_many,
)

__all__ = [
    "AUTO_MIN_EPISODES",
    "BLOCK_EPISODES",
    "ENGINES",
    "RULES",
    "RULE_NAMES",
    "BestWorstEnd",
    "End",
    "Integral",
    "Mean",
    "MemoryRule",
    "Peak",
    "PeakEnd",
    "Recency",
    "TimeWeightedMean",
    "Trend",
    "WeightedPeakEnd",
    "get_rule",
    "score",
    "score_many",
]

from peakend.memory._fit import (
    FEATURE_NAMES,
    FEATURES,
    LinearRule,
    MemoryFit,
    compare_rules,
    fit,
    journey_features,
)

__all__ += [
    "FEATURES",
    "FEATURE_NAMES",
    "LinearRule",
    "MemoryFit",
    "compare_rules",
    "fit",
    "journey_features",
]
