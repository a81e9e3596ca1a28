"""Direction tests and the two named effects of the seed (DOMAIN.md section 2).

Every comparison runs the same replications under both settings (common random
numbers) and tests paired per-replication means with scipy.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

import peakend as pe
from peakend.config import Scenario, deep_merge, load_scenario
from peakend.sim import OverloadWarning, simulate


def variant(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def days(scenario: Scenario, n: int) -> list[pe.Journeys]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverloadWarning)
        return [simulate(scenario, seed=r) for r in range(n)]


def per_day(ds: list[pe.Journeys], fn) -> np.ndarray:
    return np.array([fn(d) for d in ds])


@pytest.fixture(scope="module")
def branch() -> Scenario:
    return load_scenario("default_branch")


def test_more_tellers_shorter_waits(branch):
    few = days(variant(branch, {"counters": {"general": {"tellers": 3}}}), 10)
    many = days(variant(branch, {"counters": {"general": {"tellers": 5}}}), 10)
    w_few = per_day(few, lambda d: d.customers["wait"].mean())
    w_many = per_day(many, lambda d: d.customers["wait"].mean())
    assert np.all(w_many <= w_few)
    res = stats.ttest_rel(w_few, w_many, alternative="greater")
    assert res.pvalue < 0.05


def test_distraction_improves_memory_of_those_who_waited(branch):
    plain = days(branch, 10)
    busy = days(variant(branch, {"hall": {"distraction": True}}), 10)

    def waited_memory(d: pe.Journeys) -> float:
        c = d.customers
        m = (c["wait"] > 1.0) & (c["segment"] != d.segments.index("vip"))  # hall customers
        return float(c["remembered"][m].mean())

    a = per_day(plain, waited_memory)
    b = per_day(busy, waited_memory)
    # distraction changes perception only: the same customers wait the same time
    for x, y in zip(plain, busy, strict=True):
        np.testing.assert_array_equal(x.customers["wait"], y.customers["wait"])
    assert np.all(b >= a)
    assert stats.ttest_rel(b, a, alternative="greater").pvalue < 0.05


def test_farewell_gift_gives_a_better_end(branch):
    base = days(branch, 8)
    gift = days(
        variant(
            branch,
            {
                "segments": {
                    "ordinary": {"farewell": {"enabled": True, "gift_size": 4, "gift_cost": 5}}
                }
            },
        ),
        8,
    )
    code = base[0].segments.index("ordinary")

    def end_and_memory(d: pe.Journeys) -> tuple[float, float, float]:
        c = d.customers
        m = (c["segment"] == code) & (c["counter"] >= 0)
        last = d.episodes["affect"][d.offsets[1:] - 1]
        return float(last[m].mean()), float(c["remembered"][m].mean()), float(c["gift_cost"].sum())

    a = per_day(base, end_and_memory)
    b = per_day(gift, end_and_memory)
    assert np.all(b[:, 0] > a[:, 0])  # the end improves every day
    assert stats.ttest_rel(b[:, 1], a[:, 1], alternative="greater").pvalue < 0.05
    assert np.all(b[:, 2] > a[:, 2])  # and it costs money


def test_gold_card_paradox():
    s = load_scenario("gold_card_paradox")
    ds = days(s, 30)
    gold, ordinary = s_codes = (ds[0].segments.index("gold"), ds[0].segments.index("ordinary"))
    del s_codes

    def mean_of(col: str, code: int):
        return per_day(ds, lambda d: d.customers[col][d.customers["segment"] == code].mean())

    wait_g, wait_o = mean_of("wait", gold), mean_of("wait", ordinary)
    mem_g, mem_o = mean_of("remembered", gold), mean_of("remembered", ordinary)
    # gold customers wait significantly less...
    res_wait = stats.ttest_rel(wait_g, wait_o)
    assert res_wait.statistic < 0 and res_wait.pvalue < 0.05
    # ...and remember the visit significantly worse
    res_mem = stats.ttest_rel(mem_g, mem_o)
    assert res_mem.statistic < 0 and res_mem.pvalue < 0.05
    # because at the waiting moment their expectation is higher (Delta law)
    d = ds[0]
    e = d.episodes
    w = e["touchpoint"] == d.touchpoints.index("waiting")
    seg = d.customers["segment"][d.episode_customer]
    assert e["expectation"][w & (seg == gold)].min() > e["expectation"][w & (seg == ordinary)].max()


def test_vip_contrast():
    s = load_scenario("vip_contrast")
    ds = days(s, 30)
    lounge = ds[0].touchpoints.index("lounge")
    affects, crowd, is_peak = [], [], []
    for d in ds:
        e = d.episodes
        a = e["affect"]
        cust = d.episode_customer
        m = e["touchpoint"] == lounge
        affects.append(a[m])
        crowd.append(d.customers["queue_on_arrival"][cust[m]])
        # the peak of each journey: the largest |affect| (ties to the negative side)
        peaks = []
        for i in cust[m]:
            seq = a[d.offsets[i] : d.offsets[i + 1]]
            tps = e["touchpoint"][d.offsets[i] : d.offsets[i + 1]]
            k = np.lexsort((seq, -np.abs(seq)))[0]
            peaks.append(tps[k] == lounge)
        is_peak.append(np.array(peaks, dtype=bool))
    aff, q, pk = np.concatenate(affects), np.concatenate(crowd), np.concatenate(is_peak)
    # lounge affect rises with hall crowding
    rho = stats.spearmanr(q, aff)
    assert rho.statistic > 0.5 and rho.pvalue < 0.05
    assert aff[q >= 9].mean() > aff[(q >= 1) & (q <= 3)].mean() > aff[q == 0].mean()
    # with an empty hall the lounge is not a moment of truth: affect about 0, rarely the peak
    empty = q == 0
    assert empty.sum() > 30
    assert abs(aff[empty].mean()) < 0.5
    assert pk[empty].mean() < 0.1
    # ...while in a crowded hall it often is: significantly more often than in an empty one
    crowded = q >= 9
    table = [[pk[crowded].sum(), (~pk[crowded]).sum()], [pk[empty].sum(), (~pk[empty]).sum()]]
    assert pk[crowded].mean() > 0.15
    assert stats.fisher_exact(table, alternative="greater").pvalue < 0.01
