"""SimPy events that carry their callback, for the movement (:func:`~peakend.sim.movement.move`).

:func:`peakend.sim.event_loop.run_events` drives SimPy with event callbacks rather than
generator processes. Each of its door, teller, shift and closing functions runs what a
generator process ran between two of its yields, and ends by scheduling the event the
process would have yielded, with the function that goes on as that event's one callback
(:class:`Then`, :class:`Wake`). SimPy's heap orders events by (time, priority,
scheduling order); the same events are scheduled in the same order; and the start-up
code of the processes (the tellers in index order, the door, the shifts, the closing)
runs in that order at time 0 before any other event, as the URGENT initialization events
of generator processes made it (:class:`StartUp` stands in for the event a callback is
given then).

One event is left out when nothing depends on it: the door's timeout for its next
customer, scheduled while no teller is free, stays *virtual* (not in SimPy's heap). The
arrival then schedules nothing (no teller can be handed the customer), so it is handled
at its own time at the start of the first event after it, before that event's own work.
That is its place in SimPy's order: an event scheduled at its very time after it makes
it real first (so comes after it, as its later scheduling number would put it). It is
made real at its exact time (:func:`delay_to`) the moment a teller is free. A timeout is
left virtual only where every join time from there on is at most 1.5 times the one
before, so that it can be made real to the bit from any later clock. So the day is the
same, bit for bit (``tests/test_movement_callbacks.py`` keeps the generator version to
compare with, on days full of ties), with fewer events: in a busy day most arrivals find
every teller busy.

A second event is left out the same way: the wake-up event of an idle teller the door
hands a customer to. When no other event is due at that moment, SimPy would process it
right after the door's callback, with nothing scheduled in between, so the door starts
the service there itself (``tests/test_movement_handover.py``). :func:`run_all` runs the
events as ``env.run()`` does, without a method call per event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL

__all__ = [
    "BALKED",
    "NEW",
    "RENEGED",
    "SERVING",
    "WAITING",
    "Outcomes",
    "StartUp",
    "Then",
    "Wake",
    "delay_to",
    "pick",
    "run_all",
]

#: Customer states during the run (``DayRun.state``).
NEW, WAITING, SERVING, BALKED, RENEGED = 0, 1, 2, 3, 4


class Then(simpy.Timeout):
    """A SimPy timeout made with its one callback: ``callback(event)`` after ``delay``.

    The same event as ``env.timeout(delay, value)`` with ``callback`` appended to its
    callbacks (scheduled at ``env.now + delay`` minutes, normal priority, in creation
    order), built in one step. The callback reads ``value`` as ``event._value``.
    """

    _ok = True  # (for every instance: a timeout does not fail)

    def __init__(self, env: simpy.Environment, delay: float, value: Any, callback: Any):
        # what run_all reads (SimPy's env and _delay are not kept: nothing reads them)
        self.callbacks = [callback]
        self._value = value
        # env.schedule(self, NORMAL, delay), inline
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class Wake(simpy.Event):
    """A SimPy event made with its one callback, to be triggered by ``succeed(value)``.

    The same event as ``env.event()`` with ``callback`` appended to its callbacks.
    """

    def __init__(self, env: simpy.Environment, callback: Any):
        self.env = env
        self.callbacks = [callback]


class StartUp:
    """Stands in for the event a callback is given when it runs at start-up (``_value``)."""

    def __init__(self, value: Any):
        self._value = value


def run_all(env: simpy.Environment) -> None:
    """Process the events of ``env`` until none is left: ``env.run()`` for these events.

    The loop of ``Environment.step`` without its method call per event: pop the next
    event by (time, priority, scheduling order), set the clock, run its callbacks. The
    events here never fail, and nothing stops the simulation early.
    """
    queue = env._queue
    while queue:
        env._now, _, _, event = heappop(queue)
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)


def pick(levels: list[list[deque[int]]], state: list[int]) -> int:
    """Take a teller's next customer from its levels of queues (-1: nobody waiting).

    At the first level with anyone waiting, the queue whose head came first (the lowest
    index); heads that no longer wait (``state``) are dropped on the way.
    """
    for level in levels:
        best = -1
        best_q: deque[int] | None = None
        for q in level:
            while q and state[q[0]] != WAITING:
                q.popleft()
            if q and (best < 0 or q[0] < best):
                best = q[0]
                best_q = q
        if best_q is not None:
            best_q.popleft()
            return best
    return -1


def delay_to(now: float, at: float) -> float:
    """Return the delay, minutes, that SimPy adds to ``now`` to fire at ``at`` to the bit.

    SimPy fires a timeout at ``now + delay`` in floating point. For ``at / 2 <= now <=
    at``, ``at - now`` is exact (Sterbenz's lemma) and so is the sum; the door keeps a
    timeout virtual only while the clock stays in that range.

    Raises
    ------
    RuntimeError
        If ``now + (at - now)`` is not ``at`` (outside that range).
    """
    delay = at - now
    if now + delay != at:
        raise RuntimeError(f"simulate: no delay from {now!r} fires at {at!r} (model bug)")
    return delay


@dataclass
class Outcomes:
    """What :func:`~peakend.sim.event_loop.run_events` wrote, as Python lists.

    See ``QueueRun`` for the fields.
    """

    state: list[int]
    start: list[float]
    end: list[float]
    leave: list[float]
    served_by: list[int]
    seen: list[int]
    ahead_seen: list[int]
    q_time: list[float]
    q_len: list[int]
    teller_names: list[str]
    teller_group: list[str]
    no_slips: bool
