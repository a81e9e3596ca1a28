"""pe.explore driven headlessly: set widget values, check the outputs move the right way."""

from __future__ import annotations

import ipywidgets  # in the test extra: a missing package fails, never skips
import numpy as np
import pandas as pd
import pytest

import peakend as pe

REPLICATIONS = 4


@pytest.fixture
def app():
    """The full app, figures drawn on every change."""
    return pe.explore("default_branch", "default_branch", replications=REPLICATIONS, seed=2)


@pytest.fixture
def table_app():
    """The same app updating only its summary (the direction tests need no figures)."""
    return pe.explore("default_branch", "default_branch", replications=REPLICATIONS, seed=2,
                      figures=False)


def _row(app, segment):
    return app.summary.set_index("segment").loc[segment]


def test_explore_has_a_control_for_every_lever(app):
    scenario = pe.load_scenario("default_branch")
    names = set(app.controls)
    for group in scenario.counters:
        assert {f"tellers.{group}.09:00", f"tellers.{group}.11:30", f"tellers.{group}.14:00",
                f"discipline.{group}"} <= names
    for segment in scenario.segments:
        assert {f"farewell.{segment}", f"gift.{segment}",
                f"appointment_share.{segment}"} <= names
    assert {"lounge", "distraction", "wait_display", "start", "customer"} <= names
    assert all(isinstance(c, ipywidgets.ValueWidget) for c in app.controls.values())
    # the controls start at the baseline's values
    assert app.controls["tellers.general.11:30"].value == 4
    assert app.controls["discipline.vip"].value == "dedicated"
    assert app.controls["lounge"].value is True
    assert app.controls["farewell.vip"].value is True
    assert app.controls["gift.vip"].value == 9.0
    assert app.controls["appointment_share.vip"].value == pytest.approx(0.4)
    # it is a widget in a notebook
    assert isinstance(app.widget, ipywidgets.Widget)
    assert "application/vnd.jupyter.widget-view+json" in app._repr_mimebundle_()


def test_explore_starts_identical_to_the_baseline_by_common_random_numbers(app):
    summary = app.summary
    assert isinstance(summary, pd.DataFrame)
    assert list(summary["segment"]) == ["all", "vip", "gold", "ordinary"]
    assert list(summary.columns) == ["segment", "baseline", "what_if", "difference", "low",
                                     "high", "p_holm", "significant", "wait_baseline",
                                     "wait_what_if"]
    # the same days, customer for customer: every difference is exactly zero
    assert (summary["difference"] == 0).all() and not summary["significant"].any()
    np.testing.assert_array_equal(summary["baseline"], summary["what_if"])


def test_a_lunch_teller_shortens_waits_and_raises_remembered_value(app):
    before_image = app._images["queue"].value
    app.controls["tellers.general.11:30"].value = 6  # synchronous: outputs updated on return
    assert app.error == ""
    all_ = _row(app, "all")
    assert all_["wait_what_if"] < all_["wait_baseline"]
    assert all_["difference"] > 0 and all_["low"] > 0
    assert _row(app, "vip")["difference"] == 0  # VIPs have their own window
    assert app.scenario.tellers_at("general", 12.0) == 6
    assert app.scenario.tellers_at("general", 10.0) == 4
    assert app._images["queue"].value != before_image  # the figure was redrawn
    assert app.seconds > 0
    twin = next(a for a in app.axes["queue"].figure.axes if a is not app.axes["queue"])
    assert max(twin.get_lines()[0].get_ydata()) == 7  # 6 general + 1 VIP teller at lunch


def test_fewer_tellers_all_day_make_it_worse(table_app):
    for block in ("09:00", "11:30", "14:00"):
        table_app.controls[f"tellers.general.{block}"].value = 3
    all_ = _row(table_app, "all")
    assert all_["wait_what_if"] > all_["wait_baseline"]
    assert all_["difference"] < 0 and all_["significant"]


def test_a_farewell_gift_helps_ordinary_customers_only(table_app):
    table_app.controls["farewell.ordinary"].value = True
    table_app.controls["gift.ordinary"].value = 3.0
    ordinary = _row(table_app, "ordinary")
    assert ordinary["difference"] > 0 and ordinary["low"] > 0
    assert _row(table_app, "vip")["difference"] == 0
    farewell = table_app.scenario.segments["ordinary"].farewell
    assert farewell.enabled and farewell.gift_size == 3.0 and farewell.gift_cost == 3.0
    assert table_app.policy().changes["segments"]["ordinary"]["farewell"]["gift_size"] == 3.0


def test_hall_and_lounge_toggles_reach_the_scenario(table_app):
    table_app.controls["distraction"].value = True
    table_app.controls["wait_display"].value = True
    assert table_app.scenario.hall.distraction and table_app.scenario.hall.wait_display
    # distraction and a displayed wait shorten the perceived wait: remembered value rises
    assert _row(table_app, "all")["difference"] > 0
    table_app.controls["lounge"].value = False
    assert not table_app.scenario.lounge.enabled
    table_app.controls["appointment_share.gold"].value = 0.5
    assert table_app.scenario.segments["gold"].appointment_share == 0.5


def test_an_invalid_change_is_reported_and_the_last_valid_state_kept(table_app):
    table_app.controls["tellers.vip.11:30"].value = 0  # VIPs still served in the morning
    table_app.controls["tellers.vip.14:00"].value = 0
    assert table_app.error == ""
    kept = table_app.summary.copy()
    table_app.controls["tellers.vip.09:00"].value = 0  # now nobody serves them
    assert "vip" in table_app.error and "counters" in table_app.error
    pd.testing.assert_frame_equal(table_app.summary, kept)
    assert "Not simulated" in table_app._status.value
    table_app.controls["tellers.vip.09:00"].value = 1
    assert table_app.error == ""


def test_the_start_control_resets_the_levers_to_a_policy(table_app):
    table_app.controls["start"].value = "lunch_teller"
    assert table_app.controls["tellers.general.11:30"].value == 5
    assert table_app.controls["tellers.general.14:00"].value == 4
    assert _row(table_app, "all")["difference"] > 0
    table_app.controls["start"].value = "hall_experience"
    assert table_app.controls["distraction"].value
    assert table_app.controls["tellers.general.11:30"].value == 4


def test_the_customer_control_draws_that_customer(app):
    app.controls["customer"].value = 7
    assert "Customer 7" in app.axes["journey"].get_title()
    paths = [ln for ln in app.axes["journey"].get_lines()
             if ln.get_label().startswith("customer 7 ")]
    assert len(paths) == 1


def test_the_what_if_is_a_policy_that_run_reproduces(table_app):
    """The explorer's days are pe.run's days: the same seeds per replication."""
    table_app.controls["tellers.general.11:30"].value = 6
    policy = table_app.policy()
    assert isinstance(policy, pe.Policy)
    results = pe.run(pe.load_scenario("default_branch"), [pe.Policy("baseline"), policy],
                     replications=REPLICATIONS, seed=2, progress=False)
    means = results.get("peak_end", "all").mean(axis=1)
    assert means[0] == pytest.approx(_row(table_app, "all")["baseline"], rel=1e-12)
    assert means[1] == pytest.approx(_row(table_app, "all")["what_if"], rel=1e-12)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"replications": 1}, "replications"),
    ({"seed": -1}, "seed"),
    ({"confidence": 1.0}, "confidence"),
])
def test_explore_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pe.explore("default_branch", **kwargs)


def test_pe_explore_is_callable_as_function_and_module():
    import sys

    import peakend.explore  # noqa: F401 - rebinds pe.explore to the module

    module = sys.modules["peakend.explore"]
    assert callable(pe.explore) and callable(module)
    assert isinstance(module("default_branch", replications=2, figures=False), module.Explorer)


def test_without_figures_the_summary_is_the_same(app, table_app):
    app.controls["tellers.general.11:30"].value = 6
    table_app.controls["tellers.general.11:30"].value = 6
    pd.testing.assert_frame_equal(app.summary, table_app.summary)
    assert set(app.axes) == {"queue", "segments", "journey"} and table_app.axes == {}
