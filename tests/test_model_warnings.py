"""Warning classes live in peakend.warnings; the overload warning says what triggered it."""

from __future__ import annotations

import re
import warnings

import pytest

import peakend as pe
import peakend.sim
import peakend.sim.model
from peakend.config import Scenario, deep_merge
from peakend.warnings import OverloadWarning, PeakendWarning


def variant(scenario: Scenario, changes: dict) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def overload_messages(scenario: Scenario, seed: int = 1) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pe.simulate(scenario, seed=seed)
    return [str(w.message) for w in caught if issubclass(w.category, OverloadWarning)]


def test_warning_classes_have_one_home_and_old_imports_still_work():
    assert issubclass(OverloadWarning, PeakendWarning)
    assert issubclass(PeakendWarning, UserWarning)
    assert peakend.sim.OverloadWarning is OverloadWarning
    assert peakend.sim.model.OverloadWarning is OverloadWarning
    assert peakend.sim.model.PeakendWarning is PeakendWarning
    assert pe.warnings.OverloadWarning is OverloadWarning
    assert OverloadWarning.__module__ == "peakend.warnings"


def test_offered_load_trigger_is_named_with_its_number():
    s = pe.scenarios.mmc(3.0, 0.5, 2, 4)  # offered load 3 / (2 * 0.5) = 3
    (message,) = overload_messages(s)
    assert "offered load 3.00 > 1" in message
    assert "'mmc'" in message


def test_abandonment_trigger_is_named_with_its_share():
    # M/M/3 at offered load 0.93, customers who give up after 6 seconds
    s = variant(
        pe.scenarios.mmc(1.4, 0.5, 3, 8),
        {"segments": {"customer": {"renege": {"kind": "deterministic", "value": 0.1}}}},
    )
    assert s.offered_load() < 1.0
    messages = overload_messages(s)
    assert messages
    m = re.search(r"(\d+) of (\d+) customers \((\d+)%\) abandoned \(> 25%\)", messages[0])
    assert m is not None, messages[0]
    assert int(m.group(3)) > 25
    assert "offered load" not in messages[0]  # it did not trigger


def test_a_branch_that_keeps_up_does_not_warn():
    assert overload_messages(pe.load_scenario("default_branch")) == []


def test_simulate_escalates_to_an_error_by_the_base_class():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PeakendWarning)
        with pytest.raises(OverloadWarning, match="overloaded"):
            pe.simulate(pe.scenarios.mmc(3.0, 0.5, 2, 4), seed=1)
