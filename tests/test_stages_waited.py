"""Perception and patience at a later stage depending on the minutes already waited before."""

from __future__ import annotations

import numpy as np
import pytest
from test_stages import BASE, build, day_of

from peakend.config import Scenario, deep_merge


def exact(**advisor: float) -> Scenario:
    """Everyone goes teller -> advisor; deterministic patience of 12 min: the rule is exact."""
    data = deep_merge(BASE, {"counters": {"general": {"tellers": 2}}})
    for seg in data["segments"].values():
        seg["renege"] = {"kind": "deterministic", "value": 12.0}
        seg["balk_queue"] = None
    data["routes"] = {b: {"stages": ["teller", "advisor"]} for b in ("wealth", "deposit")}
    data["stages"] = {"advisor": dict(data["stages"]["advisor"])}
    data["stages"]["advisor"].update(
        service={b: {"kind": "exponential", "mean": 6.0} for b in ("wealth", "deposit")},
        counters={"rm": {"tellers": 3}},
        **advisor,
    )
    return Scenario.model_validate(data)


def _advisor_rows(day):
    """Per advisor visit: customer, minutes waited at the teller, join, outcome at the advisor."""
    sv = day.stage_visits
    adv = np.flatnonzero(sv["stage"] == 1)
    prev = adv - 1  # the teller visit of the same customer (route order)
    assert np.all(sv["customer"][prev] == sv["customer"][adv]) and np.all(sv["stage"][prev] == 0)
    before = sv["service_start"][prev] - sv["queue_join"][prev]
    return adv, before


def test_defaults_are_independent_of_the_earlier_waits():
    s = build()
    st = s.stages["advisor"]
    assert st.wait_multiplier_growth == 0.0 and st.patience_decay == 0.0
    zero = build({"stages": {"advisor": {"wait_multiplier_growth": 0.0, "patience_decay": 0.0}}})
    a, b = day_of(s, seed=4), day_of(zero, seed=4)
    for table in ("customers", "episodes", "stage_visits"):
        for k, v in getattr(a, table).items():
            np.testing.assert_array_equal(v, getattr(b, table)[k], err_msg=f"{table}.{k}")


def test_patience_at_a_later_stage_shrinks_with_the_minutes_waited_before():
    decay = 0.1
    s = exact(patience_decay=decay)
    day = day_of(s, seed=11)
    sv = day.stage_visits
    adv, before = _advisor_rows(day)
    patience = 12.0 / (1.0 + decay * before)  # the rule, per customer
    gone = sv["abandoned"][adv]
    waited = np.where(gone, sv["left"][adv], sv["service_start"][adv]) - sv["queue_join"][adv]
    assert gone.sum() > 20 and (before[gone] > 0).all()
    # who reneged left exactly when their worn patience ran out; who was served began sooner
    np.testing.assert_allclose(waited[gone], patience[gone], rtol=1e-9, atol=1e-9)
    assert np.all(waited[~gone] <= patience[~gone] + 1e-9)
    # direction: those who reneged at the advisor had waited longer at the teller
    assert before[gone].mean() > before[~gone].mean()


def test_more_earlier_waiting_more_reneging_later():
    """Same customers (common random numbers): wearing patience adds advisor reneging only."""
    worn = build({"stages": {"advisor": {"patience_decay": 0.05}}})
    plain = build()
    more, fewer, first_w, first_p = 0, 0, 0, 0
    for seed in range(6):
        w, p = day_of(worn, seed=seed), day_of(plain, seed=seed)
        sw, sp = w.stage_visits, p.stage_visits
        more += int((sw["abandoned"] & (sw["stage"] == 1)).sum())
        fewer += int((sp["abandoned"] & (sp["stage"] == 1)).sum())
        first_w += int((sw["abandoned"] & (sw["stage"] == 0)).sum())
        first_p += int((sp["abandoned"] & (sp["stage"] == 0)).sum())
    assert more > fewer
    assert first_w == first_p  # the teller stage is upstream: unchanged


def test_a_later_wait_feels_longer_after_the_waits_before():
    growth = 0.04
    s, g = exact(), exact(wait_multiplier_growth=growth)
    a, b = day_of(s, seed=12), day_of(g, seed=12)
    for k, v in a.stage_visits.items():  # perception changes no movement
        np.testing.assert_array_equal(v, b.stage_visits[k])
    names = np.array(a.touchpoints)[a.episodes["touchpoint"]]
    w = names == "wait@advisor"
    ea, eb = a.episodes["experience"][w], b.episodes["experience"][w]
    np.testing.assert_array_equal(a.episodes["experience"][~w], b.episodes["experience"][~w])
    assert np.all(eb <= ea) and np.any(eb < ea)
    # exact where neither level is clipped: the drop is k * wait**p * m * growth * before / mpp
    cust = a.episode_customer[w]
    adv, before = _advisor_rows(a)
    by_customer = np.full(len(a), np.nan)
    by_customer[a.stage_visits["customer"][adv]] = before
    sv = a.stage_visits
    wait_at = np.full(len(a), np.nan)
    until = np.where(sv["abandoned"][adv], sv["left"][adv], sv["service_start"][adv])
    wait_at[sv["customer"][adv]] = until - sv["queue_join"][adv]
    h, st = s.hall, s.stages["advisor"]
    wait = wait_at[cust]
    drop = h.perception_k * wait**h.perception_p * st.wait_multiplier * growth * by_customer[cust]
    inside = (ea > 0) & (ea < 10) & (eb > 0) & (eb < 10) & (wait > 0)
    assert inside.sum() > 30
    np.testing.assert_allclose((ea - eb)[inside], drop[inside] / h.minutes_per_point, atol=1e-9)
    # direction: so the affect of the later wait is worse the more was waited before
    aff_drop = (a.episodes["affect"][w] - b.episodes["affect"][w])[inside]
    assert np.all(aff_drop >= -1e-12)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("wait_multiplier_growth", -0.1, "greater than or equal to 0"),
        ("wait_multiplier_growth", 1.5, "less than or equal to 1"),
        ("patience_decay", -0.01, "greater than or equal to 0"),
        ("patience_decay", 2.0, "less than or equal to 1"),
        ("patience_decay", float("nan"), "patience_decay"),
    ],
)
def test_bad_waited_dependence_is_refused_naming_the_field(field, value, words):
    with pytest.raises(ValueError) as err:
        build({"stages": {"advisor": {field: value}}})
    text = str(err.value)
    assert f"stages.advisor.{field}" in text and words in text, text
