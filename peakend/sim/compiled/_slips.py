"""Larson's slips compiled (numba): :func:`peakend.sim.slips.count_slips`, day by day.

Imported only for the compiled engine's days. The same count as
:func:`~peakend.sim.slips.count_slips` (integers from comparisons of the same floats, so
the same numbers): for each hall customer ``i`` whose waiting ends (finite ``until``),
the hall customers ``j`` after it in join order who joined before ``i`` stopped waiting,
joined strictly later than ``i`` and started service before ``i`` stopped waiting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["slips_kernel"]


@njit(cache=True)
def slips_kernel(
    join: Any, start: Any, until: Any, in_hall: Any, bounds: Any, skip: Any
) -> Any:  # pragma: no cover - compiled
    """Slips per customer (join order) of the days ``bounds[d]:bounds[d + 1]``, int32.

    Days with ``skip[d]`` (nobody can slip) are left at 0.
    """
    n = join.size
    out = np.zeros(n, dtype=np.int32)
    hall = np.empty(n, dtype=np.int64)
    for d in range(bounds.size - 1):
        if skip[d]:
            continue
        m = 0
        for i in range(bounds[d], bounds[d + 1]):
            if in_hall[i] and np.isfinite(until[i]):
                hall[m] = i
                m += 1
        for a in range(m):
            i = hall[a]
            u = until[i]
            count = 0
            for b in range(a + 1, m):
                j = hall[b]
                if not join[j] < u:
                    break
                if start[j] < u and join[j] > join[i]:
                    count += 1
            out[i] = count
    return out
