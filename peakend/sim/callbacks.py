"""SimPy events that carry their callback, for the movement (:func:`~peakend.sim.movement.move`).

:func:`peakend.sim.movement.move` drives SimPy with event callbacks rather than generator
processes. Each of its door, teller, shift and closing functions runs what a generator
process ran between two of its yields, and ends by scheduling the event the process would
have yielded, with the function that goes on as that event's one callback
(:class:`Then`). SimPy's event heap orders the events by (time, priority, scheduling
order) as before; the same events are scheduled in the same order; and the start-up code
of the processes (the tellers in index order, the door, the shifts, the closing) runs in
that order at time 0 before any other event, which is what the URGENT initialization
events of generator processes made it do (:class:`StartUp` stands in for the event a
callback is given then). So the day is the same, bit for bit
(``tests/test_movement_callbacks.py`` keeps the generator version to compare with),
without a generator resumed for every event.
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.events import NORMAL

__all__ = ["StartUp", "Then"]


class Then(simpy.Timeout):
    """A SimPy timeout made with its one callback: ``callback(event)`` after ``delay``.

    The same event as ``env.timeout(delay, value)`` with ``callback`` appended to its
    callbacks (scheduled at ``env.now + delay`` minutes, normal priority, in creation
    order), built in one step. The callback reads ``value`` as ``event._value``.
    """

    def __init__(self, env: simpy.Environment, delay: float, value: Any, callback: Any):
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._delay = delay
        self._ok = True
        env.schedule(self, NORMAL, delay)


class StartUp:
    """Stands in for the event a callback is given when it runs at start-up (``_value``)."""

    def __init__(self, value: Any):
        self._value = value
