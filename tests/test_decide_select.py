"""select_best: Kim-Nelson's procedure on a synthetic normal simulator and on real days."""

from __future__ import annotations

import math

import numpy as np
import pytest

import peakend as pe
from peakend.decide.selection import kn_select, select_best


def _normal_simulator(means, sd, rho, rng):
    """One replication: normal outputs with a common component (correlation rho: CRN)."""
    means = np.asarray(means, dtype=float)

    def simulate(r, alive):
        common = rng.standard_normal()
        own = rng.standard_normal(means.size)
        return means + sd * (math.sqrt(rho) * common + math.sqrt(1 - rho) * own)

    return simulate


@pytest.mark.parametrize(("k", "rho", "larger"), [(5, 0.0, True), (4, 0.6, False)])
def test_pcs_at_least_nominal_in_the_slippage_configuration(k, rho, larger):
    # slippage: the best is exactly delta ahead of k - 1 equal systems (the least
    # favourable configuration); its position is random so a fixed pick would fail
    delta, sd, macro, nominal = 0.5, 1.0, 600, 0.95
    rng = np.random.default_rng(2024 + k)
    correct = 0
    for _ in range(macro):
        best = int(rng.integers(k))
        means = np.zeros(k)
        means[best] = delta if larger else -delta
        sel = kn_select(_normal_simulator(means, sd, rho, rng), k, delta=delta,
                        confidence=nominal, n0=10, larger_is_better=larger)
        correct += sel.best == str(best)
    pcs = correct / macro
    # one-sided 99 % binomial allowance below the nominal level
    assert pcs >= nominal - 2.33 * math.sqrt(nominal * (1 - nominal) / macro), pcs


def test_a_procedure_without_the_guarantee_would_be_caught():
    # the same check with a tiny n0 and confidence 0.6 gives a PCS well below 0.95:
    # the PCS test above can tell a weak procedure from a good one
    delta, k, macro = 0.5, 5, 400
    rng = np.random.default_rng(7)
    correct = 0
    for _ in range(macro):
        means = np.zeros(k)
        means[0] = delta
        sel = kn_select(_normal_simulator(means, 1.0, 0.0, rng), k, delta=delta,
                        confidence=0.6, n0=3)
        correct += sel.best == "0"
    assert correct / macro < 0.95 - 2.33 * math.sqrt(0.95 * 0.05 / macro)


def test_crn_needs_fewer_replications():
    means = [0.3, 0.0, 0.0, 0.0]
    totals = {}
    for rho in (0.0, 0.9):
        rng = np.random.default_rng(11)
        totals[rho] = np.mean([sum(kn_select(_normal_simulator(means, 1.0, rho, rng), 4,
                                             delta=0.3, n0=10).replications.values())
                               for _ in range(40)])
    assert totals[0.9] < 0.5 * totals[0.0]


def test_selection_records_eliminations_and_replications():
    rng = np.random.default_rng(3)
    sel = kn_select(_normal_simulator([2.0, 0.0, 1.0], 0.5, 0.0, rng), ["a", "b", "c"],
                    delta=0.2, n0=5)
    assert sel.best == "a"
    out = {e["policy"] for e in sel.eliminations}
    assert out == {"b", "c"} and all(e["by"] in ("a", "b", "c") for e in sel.eliminations)
    assert sel.replications["a"] >= max(sel.replications["b"], sel.replications["c"]) >= 5
    table = sel.table()
    assert list(table["selected"]) == [True, False, False]


def test_kn_arguments_are_checked():
    sim = _normal_simulator([0, 0], 1, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"delta: must be a number in \(0"):
        kn_select(sim, 2, delta=0)
    with pytest.raises(ValueError, match="n0: must be an integer"):
        kn_select(sim, 2, delta=1, n0=1)
    with pytest.raises(ValueError, match="at least 2 systems"):
        kn_select(sim, 1, delta=1)
    sel = kn_select(sim, 2, delta=1e-3, n0=5, max_replications=20)
    assert sel.stopped and max(sel.replications.values()) == 20


def test_select_best_on_real_days_picks_the_most_servers():
    s = pe.scenarios.mmc(1.6, 0.5, 4, 8)
    policies = [pe.Policy(f"c{c}", {"counters": {"servers": {"tellers": c}}}) for c in (4, 5, 6)]
    sel = select_best(s, policies, "all.wait_mean", delta=0.1, seed=1, n0=8, batch=5)
    assert not sel.larger_is_better
    assert sel.best == "c6"  # Erlang C: W(4) = 2.4 > W(5) = 0.44 > W(6) = 0.12 minutes
    assert sel.replications["c4"] <= sel.replications["c6"]
    assert sel.simulated_days >= sum(sel.replications.values())
    again = select_best(s, policies, "all.wait_mean", delta=0.1, seed=1, n0=8, batch=5)
    assert again.replications == sel.replications and again.means == sel.means


def test_select_best_checks_its_metric_and_policies():
    s = pe.scenarios.mmc(1.0, 0.5, 3, 2)
    with pytest.raises(ValueError, match="did you mean 'wait_mean'"):
        select_best(s, [pe.Policy("a"), pe.Policy("b")], "all.wait_men", delta=1)
    with pytest.raises(ValueError, match="at least 2 policies"):
        select_best(s, [pe.Policy("a")], "all.wait_mean", delta=1)
