"""The door starts the tellers it hands customers to without a wake-up event (issue 12).

When the door hands an arriving customer to an idle teller and no other event is due at
that moment, SimPy would process the hand-over's wake-up event right after the door's
callback, so ``peakend.sim.event_loop`` starts the service there instead. The day must
stay the generator version's bit for bit (``tests/movement_generators.py``), on a light
day (most arrivals find a free teller), on a two-stage tandem (the second stage's
arrivals are the first stage's service ends) and on days where several customers arrive
at once while another event is due then (the wake-up event is kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from movement_generators import move_generators
from test_engine import assert_same_journeys
from test_movement_callbacks import generator_simulate

import peakend as pe
from peakend.sim import callbacks
from peakend.sim.movement import move


def count_wakes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the value of every wake-up event triggered (a customer: a hand-over)."""
    woken: list[Any] = []
    real_succeed = callbacks.Wake.succeed

    def counting_succeed(self: Any, value: Any = None) -> Any:
        woken.append(value)
        return real_succeed(self, value)

    monkeypatch.setattr(callbacks.Wake, "succeed", counting_succeed)
    return woken


@pytest.mark.parametrize(
    "s",
    [
        pe.scenarios.mmc(0.5, 0.5, 4, 8),  # load 0.25: most arrivals find a free teller
        pe.scenarios.tandem(1.8, [(0.5, 4), (0.5, 4)], 8),  # the issue-12 tandem day
        pe.scenarios.tandem(0.6, [(0.5, 2), (0.25, 4)], 8),
    ],
)
def test_hand_overs_start_at_once_and_give_the_generator_day(
    s: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = generator_simulate(s, 3)
    woken = count_wakes(monkeypatch)
    day = pe.simulate(s, 3)
    assert_same_journeys(day, reference)
    waits = np.asarray(day.customers["wait"])  # zero: handed over at every door
    assert int(np.sum(waits == 0.0)) >= 10
    # every hand-over started at once: no wake-up event carried a customer
    assert [v for v in woken if v is not None and v >= 0] == []


def test_hand_overs_while_another_event_is_due_keep_their_wake_up_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # whole-minute arrivals and 2-minute services: arrivals tie with service ends, so an
    # arrival often finds another event due at its moment, and the wake-up event stays
    s = pe.scenarios.mmc(1.0, 0.5, 3, 2)
    rng = np.random.default_rng(0)
    join = np.sort(rng.integers(0, 120, 150)).astype(np.float64)
    n = join.size
    args = (
        s,
        join,
        np.zeros(n, dtype=np.int64),
        np.full(n, 2.0),
        np.full(n, np.inf),
        np.full(n, np.inf),
        np.ones(n, dtype=bool),
    )
    woken = count_wakes(monkeypatch)
    got = move(*args)
    monkeypatch.undo()
    want = move_generators(*args)
    fields = ("state", "start", "end", "leave", "teller", "queue_seen", "queue_ahead")
    for name in (*fields, "queue_time", "queue_length"):
        a, b = getattr(got, name), getattr(want, name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    assert any(v is not None and v >= 0 for v in woken)  # some kept their wake-up event
