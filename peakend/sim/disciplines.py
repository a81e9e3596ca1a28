"""Counter disciplines as data: which queues each counter group calls, in which order.

Customers wait in one first-come queue per class, a class being (segment, business
type, appointment or walk-in), identified by an integer *key*. A counter group's
discipline becomes its pick order: a list of *levels*, each a list of keys; a free
teller serves the earliest ticket of the first level that has anyone waiting (see
``docs/background/branch-model.md``, "Counters"). The plan also says, for each key,
which groups' idle tellers may take such a customer at once (best-ranked first), and
which keys' waiting customers are ahead of them (what balking compares with).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario

__all__ = ["QueuePlan", "queue_keys", "queue_plan"]


def queue_keys(
    segment: NDArray[np.integer],
    business: NDArray[np.integer],
    appointment: NDArray[np.bool_],
    n_business: int,
) -> NDArray[np.int64]:
    """Queue key of each customer: ``(segment * n_business + business) * 2 + appointment``."""
    keys: NDArray[np.int64] = (segment.astype(np.int64) * n_business + business) * 2 + appointment
    return keys


@dataclass(frozen=True)
class QueuePlan:
    """The pick order of every counter group, over the queue keys present in a day."""

    keys: list[int]  # the keys present, sorted
    levels: dict[str, list[list[int]]]  # group -> levels (keys), highest first
    candidates: dict[int, list[int]]  # key -> indices of groups that serve it, best first
    ahead: dict[int, list[int]]  # key -> keys whose waiting customers are ahead


def queue_plan(scenario: Scenario, present: Iterable[int]) -> QueuePlan:
    """Turn the scenario's counter disciplines into pick orders over the present keys.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    present : iterable of int
        The queue keys of the day's customers (see :func:`queue_keys`).

    Returns
    -------
    QueuePlan
        Per group its levels; per key the groups whose idle tellers may take it (a
        dedicated or own-segment window before an overflow window; equal ranks in the
        order of the counters table) and the keys ahead of it: those at its own level
        or above in the pick order of its best-ranked group.
    """
    s = scenario
    present = set(present)
    seg_names = list(s.segments)
    bus_names = list(s.business_types)
    n_bus = len(bus_names)
    group_key_levels: dict[str, list[list[int]]] = {}
    for g, c in s.counters.items():
        served = s.served_segments(g)
        bus_ok = [i for i, b in enumerate(bus_names) if not c.business or b in c.business]
        if c.discipline == "priority":
            # the listed levels in their order (a nested list is one level, its segments
            # first come, first served between them), then every unlisted segment on one
            # shared (first-come) level after them
            levels = [[x for x in level if x in served] for level in c.priority_levels()]
            listed = [x for level in levels for x in level]
            rest = [x for x in served if x not in listed]
            seg_levels = [level for level in levels if level] + ([rest] if rest else [])
        elif c.discipline == "flexible":
            own = list(c.segments)
            seg_levels = [own, [x for x in served if x not in own]]
        else:
            seg_levels = [served]
        # appointments before walk-ins (c.appointments: before every walk-in, or within
        # each level; "none": on the walk-ins' level); a flexible window serves its own
        # segments (appointments, then walk-ins) before any overflow customer
        order_: list[tuple[list[str], tuple[int, ...]]]
        if c.appointments == "none":
            order_ = [(names, (1, 0)) for names in seg_levels]
        elif c.discipline == "flexible" or c.appointments == "by_level":
            order_ = [(names, (a,)) for names in seg_levels for a in (1, 0)]
        else:
            order_ = [(names, (a,)) for a in (1, 0) for names in seg_levels]
        key_levels: list[list[int]] = []
        for names, kinds in order_:
            level = []
            for x in names:
                si = seg_names.index(x)
                for bi in bus_ok:
                    for a in kinds:
                        k = (si * n_bus + bi) * 2 + a
                        if k in present:
                            level.append(k)
            if level:
                key_levels.append(level)
        group_key_levels[g] = key_levels
    # candidate groups for each queue key: the group that ranks it highest first
    group_of_key: dict[int, list[tuple[int, str]]] = {k: [] for k in present}
    for g, c in s.counters.items():
        served = s.served_segments(g)
        own = list(c.segments) if c.discipline == "flexible" else served
        for k in present:
            si, rest_b = divmod(k // 2, n_bus)
            x, b = seg_names[si], bus_names[rest_b]
            if x in served and (not c.business or b in c.business):
                group_of_key[k].append((0 if x in own else 1, g))
    group_index = {g: i for i, g in enumerate(s.counters)}
    candidates: dict[int, list[int]] = {}
    ahead_keys: dict[int, list[int]] = {}
    for k in present:
        ranked = sorted(group_of_key[k], key=lambda rg: rg[0])  # stable: table order
        candidates[k] = [group_index[g] for _, g in ranked]
        ahead: list[int] = []
        for level in group_key_levels[ranked[0][1]]:
            ahead += level
            if k in level:
                break
        ahead_keys[k] = ahead
    return QueuePlan(sorted(present), group_key_levels, candidates, ahead_keys)
