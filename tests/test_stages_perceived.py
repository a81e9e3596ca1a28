"""The journey's perceived wait over several stages, and which waits are in-process."""

from __future__ import annotations

import numpy as np

import peakend as pe
from peakend import affect

SEEDS = range(1, 9)


def _scenario(multiplier: float | None = None):
    s = pe.load_scenario("branch_with_advisors")
    if multiplier is None:
        return s
    adv = s.stages["advisor"].model_copy(update={"wait_multiplier": multiplier})
    changed = s.model_copy(update={"stages": {"advisor": adv}})
    return pe.Scenario.model_validate(changed.model_dump())


def _visits(day):
    """Per stage visit: the wait there, and whether it is the customer's first visit."""
    sv = day.stage_visits
    until = np.where(np.isnan(sv["service_start"]), sv["left"], sv["service_start"])
    wait = np.nan_to_num(np.maximum(until - sv["queue_join"], 0.0), nan=0.0)
    first = np.r_[True, sv["customer"][1:] != sv["customer"][:-1]]
    return sv, wait, first


def test_perceived_wait_is_the_sum_of_each_stage_s_perceived_wait():
    s = _scenario()
    hall = s.hall
    checked_only, checked_both = 0, 0
    for seed in SEEDS:
        day = pe.simulate(s, seed=seed)
        c = day.customers
        sv, wait, first = _visits(day)
        adv = sv["stage"] == 1
        # customers who met only the advisor: their whole perceived wait is felt there,
        # with the hall's perception function and multiplier 1 (a pre-process wait)
        only = adv & first
        felt = affect.perceived_wait(
            wait[only], k=hall.perception_k, p=hall.perception_p, multiplier=1.0
        )
        np.testing.assert_allclose(c["perceived_wait"][sv["customer"][only]], felt, rtol=1e-12)
        checked_only += int((wait[only] > 0).sum())
        # customers who waited at both stages perceive more than their teller wait alone
        both = np.flatnonzero(adv & ~first & (wait > 0))
        both = both[wait[both - 1] > 0]
        teller_felt = affect.perceived_wait(
            wait[both - 1], k=hall.perception_k, p=hall.perception_p, multiplier=1.0
        )
        assert np.all(c["perceived_wait"][sv["customer"][both]] > teller_felt)
        checked_both += both.size
    assert checked_only >= 3 and checked_both >= 3


def test_the_in_process_multiplier_applies_only_after_an_earlier_service():
    s = _scenario()
    m = s.stages["advisor"].wait_multiplier
    assert m != 1.0  # the built-in discounts in-process waits (Maister 1985)
    plain_s = _scenario(1.0)
    changed = 0
    for seed in SEEDS:
        day, plain = pe.simulate(s, seed=seed), pe.simulate(plain_s, seed=seed)
        pw, pw_plain = day.customers["perceived_wait"], plain.customers["perceived_wait"]
        sv, wait, first = _visits(day)
        adv = sv["stage"] == 1
        # the multiplier does not touch those whose route starts at the advisor ...
        only = sv["customer"][adv & first]
        np.testing.assert_array_equal(pw[only], pw_plain[only])
        # ... and scales the advisor wait of those served by a teller first
        after = sv["customer"][adv & ~first & (wait > 0)]
        assert np.all(np.sign(pw[after] - pw_plain[after]) == np.sign(m - 1.0))
        changed += after.size
    assert changed >= 3


def test_the_stage_visits_frame_has_segment_business_and_the_wait_per_stage():
    day = pe.simulate(_scenario(), seed=3)
    frame = day.to_pandas("stage_visits")
    customers = day.to_pandas("customers").set_index("customer")
    rows = customers.loc[frame["customer"]]
    assert (frame["segment"].to_numpy() == rows["segment"].to_numpy()).all()
    assert (frame["business"].to_numpy() == rows["business"].to_numpy()).all()
    assert (frame["wait"] >= 0).all() and frame["wait"].notna().all()
    # per customer, the waits over their stages add up to the journey's wait
    total = frame.groupby("customer")["wait"].sum()
    np.testing.assert_allclose(total.to_numpy(), customers.loc[total.index, "wait"], atol=1e-9)
    assert (frame.groupby("customer").size() > 1).any()
