"""Touchpoint names and timing conventions shared by the movement engine and the experience.

The touchpoint names have one source of truth, :data:`peakend.config.models.TOUCHPOINTS`
(in journey order); every index used in :mod:`peakend.sim` is derived from it here.
The episodes before the queue are deterministic given the arrivals and the greetings,
so the engine (which needs the queue-join times) and the experience builder (which
records them) compute them with the same function, :func:`pre_queue_episodes`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import LEVEL_TOUCHPOINTS, TOUCHPOINTS, Scenario

__all__ = [
    "MOMENT",
    "NOISE_TOUCHPOINTS",
    "PRE_QUEUE",
    "between_stage_episodes",
    "pre_queue_episodes",
]

#: Duration given to an instantaneous moment (an unattended welcome, a farewell without
#: protocol, the waiting moment of a customer served at once), minutes: 3 seconds, so
#: that every episode has ``end > start``.
MOMENT = 0.05

#: Touchpoints before the queue, in journey order.
PRE_QUEUE: tuple[str, ...] = ("entrance", "welcome", "information")

#: Columns of the per-customer experience noise matrix (stream ``experience``). The
#: advice episode's noise has its own stream (drawn only when some business includes
#: advice), so that adding advice left every other draw as it was.
NOISE_TOUCHPOINTS: tuple[str, ...] = tuple(t for t in LEVEL_TOUCHPOINTS if t != "advice")
NOISE_COLUMN = {name: i for i, name in enumerate(NOISE_TOUCHPOINTS)}
#: Columns of the per-segment expectation table.
LEVEL_COLUMN = {name: i for i, name in enumerate(LEVEL_TOUCHPOINTS)}
#: Code of each touchpoint in ``Journeys.touchpoints``.
CODE = {name: i for i, name in enumerate(TOUCHPOINTS)}

assert set(PRE_QUEUE) <= set(TOUCHPOINTS)


def pre_queue_episodes(
    scenario: Scenario, arrival: NDArray[np.float64], greeted: NDArray[np.bool_]
) -> list[tuple[str, NDArray[np.float64], NDArray[np.float64]]]:
    """Return the episodes before the queue, back to back from the arrival: (name, start, end).

    Entrance (``entrance.minutes``), welcome (``lobby.greeting_minutes`` if greeted, else
    a ``MOMENT``) and information (``hall.ticket_minutes``), those in the journey, in
    journey order; the last one ends when the customer takes a ticket and joins the
    queue. The movement engine and the experience builder both use this function, so
    the episodes meet the queue join exactly (same floating-point operations).

    Parameters
    ----------
    scenario : Scenario
        The branch.
    arrival : numpy.ndarray
        Arrival times, minutes from opening.
    greeted : numpy.ndarray of bool
        Whether each customer found a free lobby manager.

    Returns
    -------
    list of (str, numpy.ndarray, numpy.ndarray)
        The touchpoint name and each customer's start and end, minutes from opening.
    """
    journey = set(scenario.journey)
    out = []
    t = arrival
    if "entrance" in journey:
        t1 = t + scenario.entrance.minutes
        out.append(("entrance", t, t1))
        t = t1
    if "welcome" in journey:
        t1 = t + np.where(greeted, scenario.lobby.greeting_minutes, MOMENT)
        out.append(("welcome", t, t1))
        t = t1
    if "information" in journey:
        t1 = t + scenario.hall.ticket_minutes
        out.append(("information", t, t1))
        t = t1
    for name, tp in scenario.touchpoints.items():  # the scenario's own, before the queue
        if tp.position == "before_queue":
            t1 = t + tp.minutes
            out.append((name, t, t1))
            t = t1
        elif tp.position == "before_stage" and tp.stage not in scenario.stages:
            # config checks this with the stages; a scenario without stages is refused here,
            # before the movement starts
            raise ValueError(
                f"touchpoints.{name}.stage: unknown stage {tp.stage!r}; a before_stage "
                f"touchpoint precedes a further stage, allowed: {list(scenario.stages)}"
            )
    return out


def between_stage_episodes(
    scenario: Scenario, stage: str, come: NDArray[np.float64]
) -> list[tuple[str, NDArray[np.float64], NDArray[np.float64]]]:
    """Return the scenario's own episodes before a further stage: (name, start, end).

    The ``before_stage`` touchpoints of ``stage``, in the order of the touchpoints table,
    back to back from ``come`` (when the customer left the stage before); the last one
    ends when the customer joins ``stage``'s queue. The stage movement
    (:func:`peakend.sim.network.run_stages`) and the experience builder both use this
    function, so the episodes meet the queue join exactly.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    stage : str
        A further stage's name.
    come : numpy.ndarray
        Per customer, the end of the previous stage (service end, or the ticket for one
        whose route leaves out the first stage), minutes from opening.

    Returns
    -------
    list of (str, numpy.ndarray, numpy.ndarray)
        The touchpoint name and each customer's start and end, minutes from opening
        (empty: the customer joins the stage's queue at ``come``).
    """
    out = []
    t = come
    for name, tp in scenario.touchpoints.items():
        if tp.position == "before_stage" and tp.stage == stage:
            t1 = t + tp.minutes
            out.append((name, t, t1))
            t = t1
    return out
