"""A scenario's own static touchpoints (``[touchpoints.<name>]``) as rows of the table.

A static touchpoint is a fixed-length episode at a place in the journey: ``before_queue``
(after the ticket; it delays the queue join, so :func:`~peakend.sim.touchpoints.pre_queue_episodes`
places it and the movement engine sees the later join), ``before_stage`` (between two
stages, right before joining a further stage's queue; it delays that join, so
:func:`~peakend.sim.touchpoints.between_stage_episodes` places it for the stage movement
and here alike; only those who go on to that stage have it) or ``before_exit`` (after
the last service of a completed route, before the farewell; it delays the farewell and
the departure). Its experience and expectation levels are per segment (no noise). Like every
episode it takes time and does not overlap the others.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peakend.sim.experience import Touchpoint
from peakend.sim.facts import Facts
from peakend.sim.touchpoints import between_stage_episodes

__all__ = ["with_static"]


def _const(value: Any) -> Any:
    """Return a getter giving ``value`` whatever the facts."""
    return lambda _f: value


def _pre(name: str, part: int | None) -> Any:
    """Return a getter of a pre-queue episode: who has it (None), its start (0) or end (1)."""
    if part is None:
        return lambda f: name in f.pre
    return lambda f: f.pre[name][part]


def _route_served(f: Facts) -> Any:
    return f.route_served


def _per_segment(f: Facts, values: dict[str, float], default: float) -> Any:
    return np.array([values.get(x, default) for x in f.s.segments])[f.seg]


def with_static(
    f: Facts, table: tuple[Touchpoint, ...], names: list[str]
) -> tuple[tuple[Touchpoint, ...], list[str]]:
    """Insert the scenario's static touchpoints into the table (``f.exit_extra`` is set).

    Parameters
    ----------
    f : Facts
        The day's facts (after any further stages were folded in).
    table : tuple of Touchpoint
        The table so far, in journey order.
    names : list of str
        The touchpoint names so far (codes); the static ones are appended.

    Returns
    -------
    tuple of (tuple of Touchpoint, list of str)
        The table and the names.
    """
    before_queue: list[Touchpoint] = []
    before_exit: list[Touchpoint] = []
    before_stage: dict[str, list[Touchpoint]] = {}
    between = {}
    for r in f.stage_runs:  # the episodes of the before_stage touchpoints, per stage
        for name, t0, t1 in between_stage_episodes(f.s, r.name, r.come):
            between[name] = (r.visit, t0, t1)
    offset = 0.0
    for name, tp in f.s.touchpoints.items():
        level = _per_segment(f, tp.levels, tp.level)
        expected = _per_segment(f, tp.expectations, tp.expectation)
        if tp.position == "before_stage":
            visit, t0, t1 = between[name]
            row = Touchpoint(
                name,
                has=_const(visit),
                start=_const(t0),
                end=_const(t1),
                level=_const(level),
                expectation=_const(expected),
                noise=None,
            )
            before_stage.setdefault(str(tp.stage), []).append(row)
        elif tp.position == "before_queue":
            row = Touchpoint(
                name,
                has=_pre(name, None),
                start=_pre(name, 0),
                end=_pre(name, 1),
                level=_const(level),
                expectation=_const(expected),
                noise=None,
            )
            before_queue.append(row)
        else:
            start = f.last_end + offset
            row = Touchpoint(
                name,
                has=_route_served,
                start=_const(start),
                end=_const(start + tp.minutes),
                level=_const(level),
                expectation=_const(expected),
                noise=None,
            )
            before_exit.append(row)
            offset += tp.minutes
        names = [*names, name]
    f.exit_extra = offset
    for stage, rows in before_stage.items():  # right before the stage's wait
        at = [t.name for t in table].index(f"wait@{stage}")
        table = (*table[:at], *rows, *table[at:])
    order = [t.name for t in table]
    lounge, farewell = order.index("lounge"), order.index("farewell")
    out = (
        *table[:lounge],
        *before_queue,
        *table[lounge:farewell],
        *before_exit,
        *table[farewell:],
    )
    return out, names
