"""The episodes of further service stages: ``wait@<stage>`` and ``service@<stage>``.

:func:`with_stages` updates a day's :class:`~peakend.sim.facts.Facts` with what happened
at the further stages (the journey's totals, where it ended) and returns the touchpoint
table with two rows per further stage, placed after the first stage's episodes and
before the farewell or the abandonment. A later stage's wait is rated like the first
stage's (the hall's perceived-wait function times the stage's ``wait_multiplier`` for a
customer served at an earlier stage, an in-process wait; 1 for one whose route starts
here; grown by ``wait_multiplier_growth`` per minute already waited at the earlier
stages, and the
slip penalty; slips counted in that stage's queue) against the stage's expected
wait for the segment (default: the segment's expected wait at the first stage). Its
service level is the serving teller's quality at that stage plus the customer's noise
(its own stream), rated against the stage's service expectation for the segment
(default: the segment's ``expectations.service``, 5 when unset). Episodes stay back to
back: a stage's wait begins the moment the previous service ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend import affect
from peakend.config.models import TOUCHPOINTS
from peakend.sim.experience import TABLE, Touchpoint
from peakend.sim.facts import Facts
from peakend.sim.network import StageDraws, StageRun
from peakend.sim.touchpoints import MOMENT

__all__ = ["stage_touchpoints", "with_stages"]

Array = NDArray[np.float64]


def _const(value: Any) -> Any:
    """Return a touchpoint getter giving ``value`` (this stage's array) whatever the facts."""
    return lambda _f: value


def stage_touchpoints(stage: str) -> tuple[str, str]:
    """Names of a further stage's waiting and service episodes."""
    return f"wait@{stage}", f"service@{stage}"


def _stage_rows(
    f: Facts, d: StageDraws, r: StageRun, offset: int, in_process: NDArray[np.bool_]
) -> tuple[list[Touchpoint], Array]:
    s = f.s
    st = s.stages[r.name]
    seg_names = list(s.segments)
    until = np.where(r.served, r.start, r.leave)
    wait = np.where(r.visit & ~r.balked, np.maximum(until - r.join, 0.0), 0.0)
    wait = np.nan_to_num(wait, nan=0.0)
    waited = wait > 0.0
    called = r.served & ~waited
    moment = np.where(called, np.minimum(MOMENT, 0.5 * (r.end - r.start)), 0.0)
    hall = s.hall
    multiplier: float | Array = st.wait_multiplier
    if st.wait_multiplier_growth > 0.0:  # waits feel longer after the waits before
        multiplier = st.wait_multiplier * (1.0 + st.wait_multiplier_growth * r.waited_before)
    if st.wait_multiplier != 1.0 and not bool(np.all(in_process | ~r.visit)):
        # the stage's multiplier is for an in-process wait (Maister 1985): a customer
        # whose route starts here has not been served yet, so it is a pre-process wait,
        # felt as a first-stage wait (multiplier 1)
        multiplier = np.where(in_process, multiplier, 1.0)
    perceived = np.asarray(
        affect.perceived_wait(
            wait, k=hall.perception_k, p=hall.perception_p, multiplier=multiplier
        ),
        dtype=np.float64,
    )
    mpp = hall.minutes_per_point
    wait_level = np.clip(10.0 - perceived / mpp - hall.slip_penalty * r.slips, 0.0, 10.0)
    exp_seg = np.array([st.expected_wait.get(x, np.nan) for x in seg_names])[f.seg]
    exp_wait = np.where(np.isnan(exp_seg), f.expected_wait, exp_seg)
    wait_expect = np.clip(10.0 - exp_wait / mpp, 0.0, 10.0)
    levels = np.concatenate([np.zeros(1), *(d.quality[g] for g in st.counters)])
    local = np.where(r.teller >= 0, r.teller - offset, -1)
    service_level = np.clip(levels[local + 1] + d.noise, 0.0, 10.0)
    service_expect = np.array(
        [
            st.service_expectation.get(x, float(s.segments[x].expectations.get("service", 5.0)))
            for x in seg_names
        ]
    )[f.seg]
    wait_name, service_name = stage_touchpoints(r.name)
    # bind this stage's arrays now (the lambdas run after the loop over stages)
    has_wait = r.served | (r.reneged & waited)
    wait_start = np.where(called, r.start, r.join)
    wait_end = np.where(called, r.start + moment, until)
    service_start = r.start + moment
    rows = [
        Touchpoint(
            wait_name,
            has=_const(has_wait),
            start=_const(wait_start),
            end=_const(wait_end),
            level=_const(wait_level),
            expectation=_const(wait_expect),
            noise=None,
        ),
        Touchpoint(
            service_name,
            has=_const(r.served),
            start=_const(service_start),
            end=_const(r.end),
            level=_const(service_level),
            expectation=_const(service_expect),
            noise=None,
        ),
    ]
    return rows, np.where(r.visit & ~r.balked, perceived, 0.0)


def with_stages(
    f: Facts, stage_draws: list[StageDraws], stage_runs: list[StageRun]
) -> tuple[tuple[Touchpoint, ...], list[str]]:
    """Fold the further stages into the day's facts; return the touchpoint table and names.

    Parameters
    ----------
    f : Facts
        The first stage's facts (updated in place: journey totals, where it ended).
    stage_draws, stage_runs : list
        From :func:`~peakend.sim.network.draw_stages` and
        :func:`~peakend.sim.network.run_stages`.

    Returns
    -------
    tuple of (tuple of Touchpoint, list of str)
        The table in journey order and the touchpoint names (``TOUCHPOINTS`` and then
        ``wait@<stage>``, ``service@<stage>`` per further stage): the codes of a
        one-stage day are unchanged.
    """
    rows: list[Touchpoint] = []
    names = list(TOUCHPOINTS)
    f.stage_runs = list(stage_runs)
    first_teller = f.teller.copy()  # the counter of the first stage visited
    in_process = f.served.copy()  # served at an earlier stage of the route
    for k, (d, r) in enumerate(zip(stage_draws, stage_runs, strict=True), start=1):
        offset = len(f.teller_names)
        stage_rows, perceived = _stage_rows(f, d, r, offset, in_process)
        rows += stage_rows
        f.total_perceived = f.total_perceived + perceived  # over all stages
        in_process = in_process | r.served
        names += list(stage_touchpoints(r.name))
        gone = r.balked | r.reneged
        until = np.where(r.served, r.start, r.leave)
        wait = np.where(r.visit & ~r.balked, np.maximum(until - r.join, 0.0), 0.0)
        f.total_wait = f.total_wait + np.nan_to_num(wait, nan=0.0)
        f.total_slips = f.total_slips + r.slips
        f.route_served = f.route_served & ~gone
        f.left = f.left | gone
        f.any_balked = f.any_balked | r.balked
        f.any_reneged = f.any_reneged | r.reneged
        f.last_end = np.where(r.served, r.end, f.last_end)
        first_teller = np.where(first_teller < 0, r.teller, first_teller)
        f.first_service_start = np.where(
            np.isnan(f.first_service_start) & r.served, r.start, f.first_service_start
        )
        f.abandon_start = np.where(r.balked, r.join, np.where(r.reneged, r.leave, f.abandon_start))
        f.teller_names += r.teller_names
        f.visits.append((k, r.visit, r.join, r.start, r.end, r.leave, r.teller, gone, r.served))
    f.counter = np.where(f.route_served, first_teller, -1)
    cut = [t.name for t in TABLE].index("farewell")
    table: Any = (*TABLE[:cut], *rows, *TABLE[cut:])
    return table, names
