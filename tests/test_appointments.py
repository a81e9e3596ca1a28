"""Where customers with an appointment come in a counter group's pick order (``appointments``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import peakend as pe
from peakend.config import Scenario, deep_merge

BASE: dict[str, Any] = {
    "name": "appointments",
    "opening": 9.0,
    "closing": 13.0,
    "arrivals": {"profile": [{"start": 9.0, "rate": 28.0}]},
    "business_types": {"visit": {"service": {"kind": "exponential", "mean": 4.0}}},
    "segments": {
        "urgent": {"share": 0.2, "business_mix": {"visit": 1.0}},
        "booked": {"share": 0.4, "business_mix": {"visit": 1.0}, "appointment_share": 1.0},
        "walk_in": {"share": 0.4, "business_mix": {"visit": 1.0}},
    },
    "counters": {"desk": {"tellers": 2, "discipline": "priority", "priority": ["urgent"]}},
    "journey": ["waiting", "service"],
}


def visits(appointments: str | None, seed: int = 2) -> tuple[dict[str, np.ndarray], list[str]]:
    changes = {} if appointments is None else {"counters": {"desk": {"appointments": appointments}}}
    s = Scenario.model_validate(deep_merge(BASE, changes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        day = pe.simulate(s, seed=seed)
    sv = {k: np.asarray(v) for k, v in day.stage_visits.items()}
    sv["segment"] = np.asarray(day.customers["segment"])[sv["customer"]]
    return sv, list(day.segments)


def overtaken(sv: dict[str, np.ndarray], first: int, then: int) -> int:
    """Times a ``then`` customer was called while a ``first`` customer waited."""
    start = sv["service_start"]
    gone = np.where(np.isnan(start), sv["left"], start)
    waiting = sv["segment"] == first
    count = 0
    for t in start[(sv["segment"] == then) & np.isfinite(start)]:
        count += int(np.sum(waiting & (sv["queue_join"] < t) & (gone > t)))
    return count


def test_first_puts_every_appointment_before_the_urgent_walk_ins():
    sv, seg = visits(None)
    u, b = seg.index("urgent"), seg.index("booked")
    assert overtaken(sv, b, u) == 0  # no urgent walk-in called while a booked one waited
    assert overtaken(sv, u, b) > 0  # ... but booked patients go ahead of waiting urgent ones


def test_by_level_puts_appointments_after_a_higher_level():
    sv, seg = visits("by_level")
    u, b, w = seg.index("urgent"), seg.index("booked"), seg.index("walk_in")
    assert overtaken(sv, u, b) == 0 and overtaken(sv, u, w) == 0  # urgent first
    assert overtaken(sv, b, w) == 0  # then the booked, then the other walk-ins
    assert overtaken(sv, w, b) > 0


def test_none_serves_appointments_as_walk_ins_by_ticket():
    sv, seg = visits("none")
    u, b, w = seg.index("urgent"), seg.index("booked"), seg.index("walk_in")
    assert overtaken(sv, u, b) == 0 and overtaken(sv, u, w) == 0
    # booked and walk-in patients share one first-come level: called in ticket order
    assert overtaken(sv, b, w) > 0 and overtaken(sv, w, b) > 0
    both = np.isin(sv["segment"], [b, w]) & np.isfinite(sv["service_start"])
    order = np.argsort(sv["service_start"][both], kind="stable")
    assert np.all(np.diff(sv["queue_join"][both][order]) >= 0)


def test_the_default_dumps_and_simulates_as_before():
    s = Scenario.model_validate(BASE)
    assert "appointments" not in s.model_dump()["counters"]["desk"]
    explicit = {"counters": {"desk": {"appointments": "first"}}}
    first = Scenario.model_validate(deep_merge(BASE, explicit))
    a, _ = visits(None)
    b, _ = visits("first")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert first == s


def test_a_bad_setting_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match=r"counters\.desk\.appointments"):
        Scenario.model_validate(deep_merge(BASE, {"counters": {"desk": {"appointments": "last"}}}))
