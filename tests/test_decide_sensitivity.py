"""sensitivity: Morris and Sobol' indices with CRN, categorical memory rule, ranking flips."""

from __future__ import annotations

import sys

import matplotlib
import pytest

import peakend as pe
from peakend.decide.global_sensitivity import parse_parameters, sensitivity

matplotlib.use("Agg")

THREE_FOUR = [pe.Policy("three"), pe.Policy("four", {"counters": {"servers": {"tellers": 4}}})]


def _mmc():
    return pe.scenarios.mmc(1.2, 0.5, 3, 4)


def test_morris_irrelevant_input_has_zero_effect_and_relevant_does_not():
    res = sensitivity(_mmc(), THREE_FOUR,
                      {"arrivals.scale": (0.8, 1.2), "segments.customer.expected_wait": (0, 20)},
                      metric="all.wait_mean", n=6, replications=4, seed=1)
    idx = res.indices.set_index(["policy", "parameter"])
    for pol in ("three", "four"):
        # the expected wait changes feelings, not waiting: with CRN its effect is exactly 0
        assert idx.loc[(pol, "segments.customer.expected_wait"), "mu_star"] == 0.0
        relevant = idx.loc[(pol, "arrivals.scale")]
        assert relevant["mu_star"] > 0.1 and relevant["mu_star"] > relevant["mu_star_conf"] / 2
    assert res.outputs.shape == (2, 6 * 3)
    assert res.simulated_days == 2 * 18 * 4
    # four servers always wait less: the ranking never flips
    assert list(res.best_share["share"]) == [0.0, 1.0]
    assert (res.flips["flips"] == 0).all()


def test_sobol_indices_and_categorical_memory_rule():
    res = sensitivity(_mmc(), None,
                      {"memory.rule": ["peak_end", "end", "mean"],
                       "counters.servers.cost_per_hour": (0, 100)},
                      metric="all.remembered", method="sobol", n=8, replications=3, seed=2)
    idx = res.indices.set_index("parameter")
    assert idx.loc["counters.servers.cost_per_hour", "ST"] == pytest.approx(0.0, abs=1e-12)
    assert idx.loc["counters.servers.cost_per_hour", "S1"] == pytest.approx(0.0, abs=1e-12)
    assert idx.loc["memory.rule", "ST"] > 0.5  # the only input that matters
    assert res.outputs.shape == (1, 8 * 4)
    ax = res.plot()
    assert ax.get_xlabel().startswith("ST of all.remembered")


def test_ranking_flips_with_the_load_and_not_with_an_irrelevant_input():
    # better tellers win when the branch is quiet, a fourth teller wins when it is busy
    policies = [pe.Policy("quality", {"counters": {"servers": {"quality": {"mean": 8.0}}}}),
                pe.Policy("more", THREE_FOUR[1].changes)]
    with pytest.warns(pe.sim.OverloadWarning, match="sensitivity: .* runs issued"):
        res = sensitivity(_mmc(), policies,
                          {"arrivals.scale": (0.3, 1.5), "segments.customer.value": (0, 100)},
                          metric="all.remembered[peak_end]", n=8, replications=4, seed=0)
    share = dict(zip(res.best_share["policy"], res.best_share["share"], strict=True))
    assert 0 < share["quality"] < 1 and share["quality"] + share["more"] == pytest.approx(1)
    flips = res.flips.set_index("parameter")
    assert flips.loc["arrivals.scale", "flips"] > 0
    assert flips.loc["segments.customer.value", "flips"] == 0
    assert res.flips["parameter"][0] == "arrivals.scale"


@pytest.mark.parametrize(("parameters", "fragment"), [
    ({"segmnts.customer.expected_wait": (0, 5)}, "did you mean 'segments'"),
    ({"segments.customer.expected_wiat": (0, 5)},
     "did you mean 'segments.customer.expected_wait'"),
    ({"segments.customer.expected_wait": (5, 1)}, "low < high"),
    ({"segments.customer.expected_wait": (0, 5000)}, "does not give a valid scenario"),
    ({"arrivals.profile.7.rate": (1, 2)}, "list index in 0..0"),
    ({"arrivals.scale": (0, 2)}, "the scale must be > 0"),
    ({"memory.rule": ["peak_end"]}, "at least two memory rules"),
    ({"memory.rule": ["peak_end", "peek"]}, "at least two memory rules"),
    ({"segments.customer": (0, 1)}, "is not a number"),
])
def test_parameter_paths_and_ranges_are_validated(parameters, fragment):
    with pytest.raises(ValueError, match="parameters: ") as info:
        parse_parameters(_mmc(), parameters)
    assert fragment in str(info.value)


def test_integer_fields_are_rounded_and_arguments_checked():
    (p,) = parse_parameters(_mmc(), {"counters.servers.tellers": (3, 5)})
    assert p.integer and p.value(3.6) == 4
    with pytest.raises(ValueError, match="method: must be"):
        sensitivity(_mmc(), None, {"arrivals.scale": (0.5, 1)}, method="fast")
    with pytest.raises(ValueError, match="power of 2"):
        sensitivity(_mmc(), None, {"arrivals.scale": (0.5, 1)}, method="sobol", n=6)


def test_missing_salib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(ImportError, match=r"peakend\[sensitivity\]"):
        sensitivity(_mmc(), None, {"arrivals.scale": (0.5, 1)})


def test_memory_rule_weights_are_uncertain_inputs():
    base = _mmc().model_dump()
    base["memory"] = {"rule": "weighted_peak_end", "params": {"w_peak": 0.5, "w_end": 0.5}}
    s = pe.Scenario.model_validate(base)
    res = sensitivity(s, None, {"memory.params.w_peak": (0.1, 0.9),
                                "segments.customer.value": (0, 10)},
                      metric="all.remembered", n=4, replications=2, seed=4)
    idx = res.indices.set_index("parameter")
    assert idx.loc["memory.params.w_peak", "mu_star"] > 0.01
    assert idx.loc["segments.customer.value", "mu_star"] == 0.0
    with pytest.raises(ValueError, match=r"memory.params.w_peek.*unknown parameter 'w_peek'"):
        parse_parameters(s, {"memory.params.w_peek": (0.1, 0.9)})
    with pytest.raises(ValueError, match="with memory rule 'mean'"):
        parse_parameters(s, {"memory.params.w_peak": (0.1, 0.9), "memory.rule": ["mean", "end"]})
