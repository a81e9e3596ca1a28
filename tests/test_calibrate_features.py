"""Calibration puts the model features of issue 13 into the scenario it builds: a patience
mass at zero (and Weibull), availability per interval, the segment mix by interval and
shared priority levels; each recovered from logs simulated with a known truth."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import peakend as pe
from peakend.calibrate import fit_patience

TRUE_ZERO = 0.15  # share of b and c customers who leave at once unless served at once
TRUE_MEAN = 10.0  # mean patience of the others, minutes (exponential)
MIX_AM = {"a": 0.5, "b": 0.25, "c": 0.25}
MIX_PM = {"a": 0.1, "b": 0.45, "c": 0.45}


def truth() -> pe.Scenario:
    impatient = {
        "kind": "mixture",
        "weights": [TRUE_ZERO, 1 - TRUE_ZERO],
        "components": [
            {"kind": "deterministic", "value": 0.0},
            {"kind": "exponential", "mean": TRUE_MEAN},
        ],
    }
    return pe.Scenario.model_validate(
        {
            "name": "truth",
            "opening": 9.0,
            "closing": 17.0,
            "arrivals": {
                "profile": [{"start": 9.0, "rate": 42.0}],
                "segment_mix": [
                    {"start": 9.0, "shares": MIX_AM},
                    {"start": 13.0, "shares": MIX_PM},
                ],
            },
            "segments": {
                "a": {"share": 0.3, "business_mix": {"cash": 1.0}},
                "b": {"share": 0.35, "business_mix": {"cash": 1.0}, "renege": impatient},
                "c": {"share": 0.35, "business_mix": {"cash": 1.0}, "renege": impatient},
            },
            "business_types": {"cash": {"service": {"kind": "exponential", "mean": 4.0}}},
            "counters": {
                "desk": {"tellers": 3, "discipline": "priority", "priority": ["a", ["b", "c"]]}
            },
            "journey": ["waiting", "service"],
        }
    )


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        days = [pe.simulate(truth(), seed=s) for s in range(12)]
    return pe.calibrate.log_from_journeys(days)


@pytest.fixture(scope="module")
def cal(log: pd.DataFrame) -> pe.calibrate.Calibration:
    return pe.calibrate.from_log(log, day_type=None, hours=(9, 17), availability=0.8)


def test_a_zero_mass_in_patience_is_found_and_simulated(cal):
    pat = cal.estimates["patience"]
    for seg in ("b", "c"):
        rows = pat.loc[pat["segment"] == seg]
        chosen = rows.loc[rows["chosen"]].iloc[0]
        assert chosen["family"].endswith("+zero"), rows[["family", "aic"]]
        # the informative customers (not served at once) of the segment
        n = int(chosen["n"])
        assert abs(chosen["zero_mass"] - TRUE_ZERO) < 4 * math.sqrt(0.15 * 0.85 / (0.5 * n))
        # the mean of the whole law, (1 - w) * 10 minutes, inside its interval
        assert chosen["mean_low"] <= (1 - TRUE_ZERO) * TRUE_MEAN <= chosen["mean_high"]
        dist = cal.scenario.segments[seg].renege
        assert dist.kind == "mixture" and dist.components[0].kind == "deterministic"
        assert dist.weights[0] == pytest.approx(chosen["zero_mass"])
    # segment a never reneges: no patience law
    assert cal.scenario.segments["a"].renege is None


def test_fit_patience_recovers_a_weibull_with_a_zero_mass():
    rng = np.random.default_rng(1)
    n = 4000
    k, lam, w = 0.8, 5.0, 0.2
    patience = np.where(rng.random(n) < w, 0.0, lam * rng.weibull(k, n))
    at_once = rng.random(n) < 0.3  # served at once: nothing known of their patience
    served_after = rng.exponential(3.0, n)
    wait = np.where(at_once, 0.0, np.minimum(patience, served_after))
    left = ~at_once & (patience <= served_after)
    table = fit_patience(np.round(wait * 60) / 60, left)
    best = table.iloc[0]
    assert best["family"] in ("weibull+zero", "gamma+zero")  # gamma(0.8) is close
    weib = table.loc[table["family"] == "weibull+zero"].iloc[0]
    informative = int((~at_once).sum())
    assert abs(weib["zero_mass"] - w) < 4 * math.sqrt(w * (1 - w) / informative)
    assert weib["mean_low"] <= (1 - w) * lam * math.gamma(1 + 1 / k) <= weib["mean_high"]
    assert abs(weib["params"]["k"] - k) < 0.1
    # without a mass at zero in the truth, the extra parameter does not pay (AIC)
    pure = np.where(at_once, 0.0, np.minimum(lam * rng.weibull(1.5, n), served_after))
    left2 = ~at_once & (pure < served_after)
    t2 = fit_patience(np.round(pure * 60) / 60, left2)
    assert not t2.iloc[0]["family"].endswith("+zero")


def test_the_segment_mix_by_interval_goes_into_the_scenario(cal):
    assert cal.settings["segment_mix"]["all"]
    blocks = cal.scenario.arrivals.segment_mix
    assert blocks is not None and len(blocks) == 8
    for lo, hi, truth_mix in ((9, 13, MIX_AM), (13, 17, MIX_PM)):
        part = [b for b in blocks if lo <= b.start < hi]
        for seg, share in truth_mix.items():
            mean = np.mean([b.shares.get(seg, 0.0) for b in part])
            assert abs(mean - share) < 0.05, (lo, seg, mean)
    day = pe.calibrate.from_log(
        cal_log_cache(), day_type=None, hours=(9, 17), segment_mix="day", availability=0.8
    )
    assert day.scenario.arrivals.segment_mix is None


_CACHE: dict[str, pd.DataFrame] = {}


def cal_log_cache() -> pd.DataFrame:
    if "log" not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE["log"] = pe.calibrate.log_from_journeys(
                [pe.simulate(truth(), seed=100 + s) for s in range(4)]
            )
    return _CACHE["log"]


def test_shared_priority_levels_are_detected(cal):
    prio = cal.estimates["priority"].set_index("segment")
    assert prio.loc["a", "level"] == 0
    assert prio.loc["b", "level"] == prio.loc["c", "level"] == 1
    levels = cal.scenario.counters["agents"].priority_levels()
    assert levels[0] == ["a"] and sorted(levels[1]) == ["b", "c"] and len(levels) == 2


def test_availability_is_the_model_s_not_a_rounding(cal):
    counter = cal.scenario.counters["agents"]
    assert [b.share for b in counter.availability] == [0.8] * 8
    assert [b.start for b in counter.availability] == [9.0 + i for i in range(8)]
    staff = cal.estimates["staffing"]
    assert (staff["servers"] == np.round(staff["distinct"])).all()
    assert np.allclose(staff["availability"], 0.8)


def test_availability_by_utilisation_follows_the_busy_share():
    cal = pe.calibrate.from_log(
        cal_log_cache(), day_type=None, hours=(9, 17), availability="utilisation",
        fit_replications=2,
    )  # fmt: skip
    x = cal.settings["availability"]
    u = cal.estimates["staffing"]["utilisation"].to_numpy()
    expect = np.minimum(1.0, x * np.maximum(u / u.max(), 0.05))
    assert np.allclose([b.share for b in cal.scenario.counters["agents"].availability], expect)
    fit = cal.estimates["availability_fit"]
    assert fit["chosen"].sum() == 1 and (fit["availability"] >= 0.2).all()


def test_the_back_test_keeps_mix_and_availability(cal):
    table = cal.backtest(cal_log_cache(), replications=3, seed=2)
    pooled = table.loc[table["interval"] == "all"].pivot(
        index="segment", columns="metric", values="predicted"
    )
    assert pooled.loc["a", "arrivals"] == pytest.approx(
        pooled.loc[["a", "b", "c"], "arrivals"].sum() * 0.3, rel=0.2
    )
    am = table.loc[(table["metric"] == "arrivals") & (table["interval"] == "09:00")]
    am = am.set_index("segment")["predicted"]
    assert am["a"] / am.sum() > 0.4  # the morning mix, not the day's 0.3


def test_bad_new_arguments_are_refused(log):
    with pytest.raises(ValueError, match="segment_mix"):
        pe.calibrate.from_log(log, day_type=None, segment_mix="hourly")
    with pytest.raises(ValueError, match="availability"):
        pe.calibrate.from_log(log, day_type=None, availability="utilization")
    with pytest.raises(ValueError, match=r"availability.*staffing='distinct'"):
        pe.calibrate.from_log(log, day_type=None, availability="utilisation", staffing=3)
    with pytest.raises(ValueError, match="priority"):
        pe.calibrate.from_log(log, day_type=None, priority=["a", ["b", "a"]])
    given = pe.calibrate.from_log(log, day_type=None, priority=[["b", "c"]])
    assert given.scenario.counters["agents"].priority_levels() == [["b", "c"], ["a"]]
