"""Calibration from a visit log: recovery of a known scenario from logs simulated by peakend,
censored patience, family choice by AIC, Kaplan-Meier, back-test schema and honesty."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import peakend as pe
from peakend.calibrate import (
    BACKTEST_COLUMNS,
    METRICS,
    fit_duration,
    fit_families,
    kaplan_meier,
    log_from_journeys,
)

RATES = [40.0, 60.0, 80.0, 70.0, 50.0, 60.0]  # per hour, 09:00-15:00
SHIFTS = [(9, 4), (10, 6), (12, 7), (14, 5)]  # (clock hour, tellers)
TRUTH = {
    "shares": {"vip": 0.3, "ordinary": 0.7},
    "mix": {"vip": {"A": 0.2, "B": 0.8}, "ordinary": {"A": 0.6, "B": 0.4}},
    "service": {"A": ("lognormal", 4.0, 3.0), "B": ("gamma", 6.0, 3.0)},
    "patience": {"vip": ("lognormal", 3.0, 2.0), "ordinary": ("exponential", 6.0, 6.0)},
}


def truth_scenario() -> pe.Scenario:
    def dist(kind, mean, sd):
        return (
            {"kind": kind, "mean": mean}
            if kind == "exponential"
            else {"kind": kind, "mean": mean, "sd": sd}
        )

    return pe.Scenario.model_validate(
        {
            "name": "truth",
            "opening": 9.0,
            "closing": 15.0,
            "after_closing": "serve",
            "arrivals": {"profile": [{"start": 9.0 + i, "rate": r} for i, r in enumerate(RATES)]},
            "segments": {
                s: {
                    "share": TRUTH["shares"][s],
                    "business_mix": TRUTH["mix"][s],
                    "renege": dist(*TRUTH["patience"][s]),
                }
                for s in ("vip", "ordinary")
            },
            "business_types": {b: {"service": dist(*TRUTH["service"][b])} for b in ("A", "B")},
            "counters": {
                "general": {
                    "tellers": [{"start": float(h), "count": c} for h, c in SHIFTS],
                    "discipline": "priority",
                    "priority": ["vip", "ordinary"],
                }
            },
            "journey": ["waiting", "service"],
        }
    )


def tellers_at(hour: float) -> int:
    return [c for h, c in SHIFTS if h <= hour][-1]


@pytest.fixture(scope="module")
def sim_log() -> pd.DataFrame:
    scenario = truth_scenario()
    seeds = np.random.SeedSequence(2024).spawn(12)
    return log_from_journeys([pe.simulate(scenario, seed=s) for s in seeds])


@pytest.fixture(scope="module")
def cal(sim_log):
    """Calibrated on 10 of the 12 simulated days, with 99 % intervals.

    Each single-draw coverage check below then fails by chance about 1 % of the time;
    coverage at the nominal rate over repeated draws is checked in
    test_censored_exponential_interval_covers_at_nominal_rate.
    """
    days = sorted(sim_log["day"].unique())
    return pe.calibrate.from_log(
        level=0.99,
        log=sim_log[sim_log["day"].isin(days[:10])],
        interval=60,
        day_type=None,
        hours=(9, 15),
    )


def test_log_from_journeys_is_a_valid_log(sim_log):
    log = pe.calibrate.read_log(sim_log)
    assert log["day"].nunique() == 12
    assert log["arrival"].min() >= 9 * 60 and log["arrival"].max() < 15 * 60
    assert set(log["segment"]) == {"vip", "ordinary"}


def test_arrival_rates_cover_the_truth(cal):
    arr = cal.estimates["arrivals"]
    assert arr["start"].tolist() == [540.0 + 60 * i for i in range(6)]
    covered = (arr["rate_low"] <= RATES) & (np.array(RATES) <= arr["rate_high"])
    assert covered.sum() >= 5  # 95 % intervals, 6 blocks
    # a 30 % wrong rate is outside most intervals
    wrong = 1.3 * np.array(RATES)
    assert ((arr["rate_low"] <= wrong) & (wrong <= arr["rate_high"])).sum() <= 1
    # the scenario's profile is the estimate
    assert [b.rate for b in cal.scenario.arrivals.profile] == pytest.approx(arr["rate"].tolist())


def test_dispersion_check_accepts_poisson_counts(cal):
    disp = cal.estimates["dispersion"].iloc[0]
    assert disp["p_value"] > 0.001 and bool(disp["poisson"]) == bool(disp["p_value"] >= 0.05)
    assert 0.4 < disp["dispersion_index"] < 1.8


def test_dispersion_check_rejects_overdispersed_counts():
    # a day-level random volume (gamma-mixed Poisson) is not Poisson
    rng = np.random.default_rng(3)
    rows = []
    for d in range(15):
        factor = rng.gamma(4.0, 0.25)
        for hour in range(9, 15):
            n = rng.poisson(40 * factor)
            t = hour * 60 + rng.uniform(0, 60, n)
            rows.append(
                pd.DataFrame(
                    {"day": pd.Timestamp("2001-01-01") + pd.Timedelta(days=d), "arrival": t}
                )
            )
    log = pd.concat(rows, ignore_index=True)
    log["service_start"] = log["arrival"] + 1
    log["service_end"] = log["arrival"] + 3
    log["segment"] = "all"
    log["server"] = "t1"
    cal = pe.calibrate.from_log(log, day_type=None, hours=(9, 15))
    disp = cal.estimates["dispersion"].iloc[0]
    assert disp["p_value"] < 1e-6 and not disp["poisson"] and disp["dispersion_index"] > 3


def test_segment_and_business_mix_cover_the_truth(cal):
    seg = cal.estimates["segments"].set_index("segment")
    for s, share in TRUTH["shares"].items():
        assert seg.loc[s, "low"] <= share <= seg.loc[s, "high"]
    mix = cal.estimates["business_mix"].set_index(["segment", "business_type"])
    for s, m in TRUTH["mix"].items():
        for b, share in m.items():
            assert mix.loc[(s, b), "low"] <= share <= mix.loc[(s, b), "high"]


def test_service_family_and_mean_recovered(cal):
    svc = cal.estimates["service"]
    for b, (family, mean, sd) in TRUTH["service"].items():
        part = svc[(svc["business_type"] == b) & (svc["segment"] == "all")]
        best = part.iloc[0]
        assert best["family"] == family, part[["family", "aic"]]
        assert best["mean_low"] <= mean <= best["mean_high"]
        assert best["sd"] == pytest.approx(sd, rel=0.15)
        assert best["ks_p"] > 0.01
        got = cal.scenario.business_types[b].service
        assert got.kind == family and got.mean == pytest.approx(best["mean"])
    # no segment split: service does not depend on the segment in the truth
    assert not cal.estimates["service_by_segment"]["split"].any()


def test_patience_recovered_from_censored_waits(cal):
    pat = cal.estimates["patience"]
    for s, (family, mean, _) in TRUTH["patience"].items():
        part = pat[pat["segment"] == s].set_index("family")
        # the generating family's censored fit covers the true mean patience
        assert part.loc[family, "mean_low"] <= mean <= part.loc[family, "mean_high"], part
        chosen = part.loc[part["chosen"]].iloc[0]
        assert chosen.name in ("exponential", "lognormal", "gamma")
        assert chosen["mean"] == pytest.approx(mean, rel=0.2)
        # the naive mean (abandoners' waits only) is biased low, far outside the interval
        assert chosen["naive_mean"] < chosen["mean_low"]
        got = cal.scenario.segments[s].renege
        assert got is not None and got.mean == pytest.approx(chosen["mean"])
    # the exponential truth is told apart from the lognormal (AIC, and the KM distance)
    ordinary = pat[pat["segment"] == "ordinary"].set_index("family")
    assert ordinary.loc["exponential", "delta_aic"] < ordinary.loc["lognormal", "delta_aic"] - 10
    assert ordinary.loc["exponential", "km_distance"] < ordinary.loc["lognormal", "km_distance"]


def test_staffing_inferred_from_service_records(cal):
    staff = cal.estimates["staffing"].sort_values("start")
    expected = [tellers_at(9 + i) for i in range(6)]
    assert staff["servers"].tolist() == expected
    assert ((staff["distinct_low"] <= expected) & (staff["distinct_high"] >= expected)).all()
    assert (staff["utilisation"] > 0.3).all() and (staff["utilisation"] <= 1).all()
    blocks = cal.scenario.counters["agents"].tellers
    assert [b.count for b in blocks] == expected


def test_priority_order_found(cal):
    prio = cal.estimates["priority"]
    assert prio["segment"].tolist() == ["vip", "ordinary"]
    assert prio["level"].tolist() == [0, 1]
    counter = cal.scenario.counters["agents"]
    assert counter.discipline == "priority" and counter.priority == ["vip", "ordinary"]


def test_fifo_when_waits_show_no_priority():
    scenario = truth_scenario()
    data = scenario.model_dump()
    data["counters"]["general"]["discipline"] = "fifo"
    data["counters"]["general"]["priority"] = []
    fifo = pe.Scenario.model_validate(data)
    log = log_from_journeys([pe.simulate(fifo, seed=s) for s in range(6)])
    cal = pe.calibrate.from_log(log, day_type=None, hours=(9, 15))
    assert cal.scenario.counters["agents"].discipline == "fifo"
    assert cal.estimates["priority"]["level"].max() == 0


def test_service_split_by_segment_when_it_differs():
    data = truth_scenario().model_dump()
    data["business_types"]["A2"] = {"service": {"kind": "lognormal", "mean": 8.0, "sd": 4.0}}
    data["segments"]["vip"]["business_mix"] = {"A2": 1.0}  # vip's "A" takes twice as long
    data["segments"]["ordinary"]["business_mix"] = {"A": 1.0}
    scenario = pe.Scenario.model_validate(data)
    log = log_from_journeys([pe.simulate(scenario, seed=s) for s in range(4)])
    log["business_type"] = log["business_type"].replace({"A2": "A"})
    cal = pe.calibrate.from_log(log, day_type=None, hours=(9, 15))
    by = cal.estimates["service_by_segment"].set_index("segment")
    assert by["split"].all()
    assert set(cal.scenario.business_types) == {"A:vip", "A:ordinary"}
    assert cal.scenario.business_types["A:vip"].service.mean == pytest.approx(8.0, rel=0.15)


def test_day_types_and_main_scenario(sim_log):
    cal = pe.calibrate.from_log(sim_log, hours=(9, 15), weekend_days=(5, 6))
    # 12 days from Monday 2000-01-03: 10 weekdays, 2 weekend days
    assert set(cal.scenarios) == {"weekday", "weekend"} and cal.day_type == "weekday"
    assert cal.scenario is cal.scenarios["weekday"]
    asked = pe.calibrate.from_log(sim_log, hours=(9, 15), main_day_type="weekend")
    assert asked.scenario is asked.scenarios["weekend"]
    with pytest.raises(ValueError, match="main_day_type"):
        pe.calibrate.from_log(sim_log, hours=(9, 15), main_day_type="holiday")
    by_dow = pe.calibrate.from_log(sim_log, day_type="day_of_week", hours=(9, 15))
    # Monday to Friday have two days each: ties go to the first name in sorted order
    assert set(by_dow.scenarios) == {
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    }
    assert by_dow.day_type == "Friday"
    odd = pe.calibrate.from_log(
        sim_log, day_type=lambda d: "odd" if d.day % 2 else "even", hours=(9, 15)
    )
    assert set(odd.scenarios) == {"odd", "even"}


def test_report_mentions_every_estimate(cal):
    text = cal.report()
    for word in (
        "Arrivals",
        "Poisson",
        "Segments",
        "Service",
        "Patience",
        "naive",
        "Staffing",
        "Priority",
    ):
        assert word in text


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"interval": 0}, "interval"),
        ({"hours": (15, 9)}, "hours"),
        ({"availability": 1.5}, "availability"),
        ({"availability": "guess"}, "availability"),
        ({"availability": "fit", "staffing": 3}, "availability"),
        ({"level": 1.0}, "level"),
        ({"min_service": -1}, "min_service"),
        ({"staffing": "lots"}, "staffing"),
        ({"staffing": 0}, "staffing"),
        ({"staffing": pd.DataFrame({"start": [540.0]})}, "staffing"),
        ({"day_type": "month"}, "day_type"),
        ({"hours": (20, 22)}, "hours"),
    ],
)
def test_from_log_bad_arguments(sim_log, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        pe.calibrate.from_log(sim_log, **kwargs)


def test_given_staffing(sim_log):
    cal = pe.calibrate.from_log(sim_log, day_type=None, hours=(9, 15), staffing=7)
    assert [b.count for b in cal.scenario.counters["agents"].tellers] == [7] * 6
    table = pd.DataFrame(
        {"start": [540.0 + 60 * i for i in range(6)], "servers": [1, 2, 3, 4, 5, 6]}
    )
    cal = pe.calibrate.from_log(sim_log, day_type=None, hours=(9, 15), staffing=table)
    assert [b.count for b in cal.scenario.counters["agents"].tellers] == [1, 2, 3, 4, 5, 6]


# ------------------------------------------------------------------ censoring, AIC, Kaplan-Meier
def censored_sample(rng, n, patience_mean=10.0, wait_mean=4.0):
    patience = rng.exponential(patience_mean, n)
    wait = rng.exponential(wait_mean, n)
    return np.minimum(patience, wait), patience <= wait


def test_censored_exponential_interval_covers_at_nominal_rate():
    rng = np.random.default_rng(11)
    hits, naive_hits = 0, 0
    draws = 200
    for _ in range(draws):
        t, e = censored_sample(rng, 300)
        fit = fit_duration(t, e, "exponential")
        hits += fit.mean_low <= 10.0 <= fit.mean_high
        naive = t[e]
        half = 1.96 * naive.std(ddof=1) / math.sqrt(naive.size)
        naive_hits += naive.mean() - half <= 10.0 <= naive.mean() + half
    # binomial(200, 0.95): 0.91-0.98 holds with probability > 0.99
    assert 0.91 <= hits / draws <= 0.985
    assert naive_hits == 0  # ignoring censoring: never covers the truth


def test_censored_lognormal_recovered():
    rng = np.random.default_rng(5)
    n = 4000
    sigma = 0.7
    mu = math.log(12.0) - sigma**2 / 2
    patience = rng.lognormal(mu, sigma, n)
    wait = rng.exponential(8.0, n)
    t, e = np.minimum(patience, wait), patience <= wait
    table = fit_families(t, e)
    assert table["family"].iloc[0] == "lognormal"
    best = table.iloc[0]
    assert best["mean_low"] <= 12.0 <= best["mean_high"]
    assert best["params"]["sigma"] == pytest.approx(sigma, rel=0.1)
    assert t[e].mean() < best["mean_low"]  # the naive estimate is far off
    assert best["km_distance"] < 0.03


def test_aic_keeps_the_exponential_against_nested_families():
    """Gamma and Weibull contain the exponential: AIC mostly prefers the simpler family."""
    rng = np.random.default_rng(23)
    picks = [fit_families(rng.exponential(5.0, 300))["family"].iloc[0] for _ in range(40)]
    assert picks.count("exponential") >= 24  # about 0.75 expected; lognormal never
    assert "lognormal" not in picks


@pytest.mark.parametrize(
    ("family", "draw"),
    [
        ("lognormal", lambda r, n: r.lognormal(1.0, 0.6, n)),
        ("gamma", lambda r, n: r.gamma(4.0, 1.5, n)),
        ("weibull", lambda r, n: 5.0 * r.weibull(0.7, n)),
    ],
)
def test_aic_picks_the_generating_family(family, draw):
    x = draw(np.random.default_rng(17), 3000)
    table = fit_families(x)
    assert table["family"].iloc[0] == family, table[["family", "aic"]]
    assert table["delta_aic"].iloc[1] > 2
    assert table["ks_p"].iloc[0] > 0.01


def test_empirical_fallback_when_no_family_fits():
    rng = np.random.default_rng(2)
    # bimodal service: two clear humps no single family fits
    log = []
    for d in range(3):
        n = 400
        arrival = 540 + np.sort(rng.uniform(0, 360, n))
        service = np.where(rng.random(n) < 0.5, rng.normal(1.0, 0.05, n), rng.normal(9.0, 0.3, n))
        log.append(
            pd.DataFrame(
                {
                    "day": pd.Timestamp("2001-01-01") + pd.Timedelta(days=d),
                    "arrival": arrival,
                    "service_start": arrival,
                    "service_end": arrival + service,
                    "segment": "all",
                    "server": [f"t{i % 9}" for i in range(n)],
                }
            )
        )
    cal = pe.calibrate.from_log(pd.concat(log, ignore_index=True), day_type=None, hours=(9, 15))
    dist = cal.scenario.business_types["all"].service
    assert dist.kind == "empirical"
    assert dist.mean == pytest.approx(5.0, rel=0.1)


def test_kaplan_meier_by_hand_and_against_the_truth():
    # by hand: times 1, 2+, 2, 3, 4+: S(1) = 4/5, S(2) = 4/5 * 2/3 (2+ is censored at 2:
    # still at risk at 2), S(3) = S(2) * 1/2
    km = kaplan_meier(
        np.array([1.0, 2.0, 2.0, 3.0, 4.0]), np.array([True, False, True, True, False])
    )
    assert km["time"].tolist() == [1.0, 2.0, 3.0]
    assert km["at_risk"].tolist() == [5, 4, 2]
    np.testing.assert_allclose(km["survival"], [0.8, 0.8 * 3 / 4, 0.8 * 3 / 4 / 2])
    rng = np.random.default_rng(8)
    t, e = censored_sample(rng, 3000)
    km = kaplan_meier(t, e)
    row = km.iloc[np.searchsorted(km["time"], 5.0) - 1]
    assert row["low"] <= math.exp(-0.5) <= row["high"]
    assert not (row["low"] <= math.exp(-0.5 * 1.2) <= row["high"])  # a 20 % wrong rate is refused


def test_fit_duration_bad_input():
    with pytest.raises(ValueError, match="times"):
        fit_duration(np.array([]))
    with pytest.raises(ValueError, match="times"):
        fit_duration(np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="events"):
        fit_duration(np.array([1.0, 2.0]), np.array([False, False]))
    with pytest.raises(ValueError, match="family"):
        fit_duration(np.array([1.0, 2.0]), family="pareto")


# ------------------------------------------------------------------ back-test
@pytest.fixture(scope="module")
def backtest_table(cal, sim_log):
    days = sorted(sim_log["day"].unique())
    holdout = sim_log[sim_log["day"].isin(days[10:])]
    return cal.backtest(holdout, replications=30, seed=4), holdout


def test_backtest_schema(backtest_table):
    table, _ = backtest_table
    assert list(table.columns) == list(BACKTEST_COLUMNS)
    assert (
        set(table["metric"])
        == set(METRICS)
        == {
            "arrivals",
            "served",
            "abandonment_rate",
            "wait_mean",
            "waited_share",
        }
    )
    labels = ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "all"]
    for s in ("ordinary", "vip"):
        part = table[table["segment"] == s]
        assert list(dict.fromkeys(part["interval"])) == labels
        assert len(part) == len(labels) * len(METRICS)
    assert (table["predicted_low"] <= table["predicted"] + 1e-12).all()
    assert (table["predicted"] <= table["predicted_high"] + 1e-12).all()


def test_backtest_observed_values_computed_independently(backtest_table):
    table, holdout = backtest_table
    served = holdout["service_start"].notna()
    wait = np.where(
        served, holdout["service_start"] - holdout["arrival"], holdout["left"] - holdout["arrival"]
    )
    h = holdout.assign(wait=wait, left_=~served)
    n_days = h["day"].nunique()
    pooled = table[table["interval"] == "all"].set_index(["segment", "metric"])["observed"]
    for s, g in h.groupby("segment"):
        assert pooled[(s, "arrivals")] == pytest.approx(len(g) / n_days)
        assert pooled[(s, "served")] == pytest.approx((~g["left_"]).sum() / n_days)
        assert pooled[(s, "abandonment_rate")] == pytest.approx(g["left_"].mean())
        assert pooled[(s, "wait_mean")] == pytest.approx(g["wait"].mean())
        assert pooled[(s, "waited_share")] == pytest.approx((g["wait"] > 0.5 / 60).mean())
    # per interval: vip arrivals 10:00-11:00
    g = h[(h["segment"] == "vip") & (h["arrival"] >= 600) & (h["arrival"] < 660)]
    row = table[
        (table["segment"] == "vip")
        & (table["interval"] == "10:00")
        & (table["metric"] == "arrivals")
    ]
    assert row["observed"].iloc[0] == pytest.approx(len(g) / n_days)


def test_backtest_of_a_correct_model_agrees(backtest_table):
    """The calibrated model is the true one: pooled observations fall in the prediction range."""
    table, _ = backtest_table
    pooled = table[(table["interval"] == "all")]
    for _, r in pooled.iterrows():
        width = r["predicted_high"] - r["predicted_low"]
        assert (
            r["predicted_low"] - 0.25 * width <= r["observed"] <= r["predicted_high"] + 0.25 * width
        ), r


def test_backtest_detects_a_wrong_model(cal, sim_log):
    """Cut the patience to a tenth: the back-test must show abandonment far above the observed."""
    days = sorted(sim_log["day"].unique())
    holdout = sim_log[sim_log["day"].isin(days[10:])]
    data = cal.scenario.model_dump()
    for seg in data["segments"].values():
        seg["renege"]["mean"] *= 0.1
        if "sd" in seg["renege"]:
            seg["renege"]["sd"] *= 0.1
    wrong = pe.calibrate.Calibration(
        scenarios={cal.day_type: pe.Scenario.model_validate(data)},
        day_type=cal.day_type,
        estimates=cal.estimates,
        settings=cal.settings,
    )
    table = wrong.backtest(holdout, replications=10, seed=4)
    ab = table[(table["interval"] == "all") & (table["metric"] == "abandonment_rate")]
    assert (ab["predicted_low"] > ab["observed_high"]).all()


def test_backtest_seed_reproducible_and_bad_arguments(cal, sim_log):
    holdout = sim_log[sim_log["day"] == sim_log["day"].max()]
    a = cal.backtest(holdout, replications=3, seed=9)
    b = cal.backtest(holdout, replications=3, seed=9)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="replications"):
        cal.backtest(holdout, replications=0)
    with pytest.raises(ValueError, match="seed"):
        cal.backtest(holdout, seed=-1)
    with pytest.raises(ValueError, match="calibrated hours"):
        cal.backtest(
            holdout.assign(arrival=1000.0, service_start=1001.0, service_end=1002.0, left=np.nan)
        )


def test_availability_fit_recovers_full_availability():
    """Logs of a model without shrinkage: the fitted availability is close to 1."""
    scenario = truth_scenario()
    log = log_from_journeys([pe.simulate(scenario, seed=s) for s in range(3)])
    cal = pe.calibrate.from_log(
        log, day_type=None, hours=(9, 15), availability="fit", fit_replications=3
    )
    fit = cal.estimates["availability_fit"]
    assert fit["chosen"].sum() == 1
    assert cal.settings["availability"] >= 0.85
    assert (
        stats.describe(fit["predicted_abandonment"]).minmax[1] > fit["observed_abandonment"].iloc[0]
    )


def test_plot_backtest(backtest_table):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, _ = backtest_table
    ax = pe.calibrate.plot_backtest(table, "wait_mean")
    assert ax.get_ylabel() == "wait_mean" and len(ax.lines) >= 2
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="metric"):
        pe.calibrate.plot_backtest(table, "waits")


def test_priority_argument(sim_log):
    kw = {"day_type": None, "hours": (9, 15)}
    fifo = pe.calibrate.from_log(sim_log, priority="fifo", **kw)
    assert fifo.scenario.counters["agents"].discipline == "fifo"
    # what the log shows is still reported
    assert fifo.estimates["priority"]["segment"].tolist() == ["vip", "ordinary"]
    given = pe.calibrate.from_log(sim_log, priority=["ordinary"], **kw)
    assert given.scenario.counters["agents"].priority == ["ordinary", "vip"]
    with pytest.raises(ValueError, match="priority"):
        pe.calibrate.from_log(sim_log, priority=["gold"], **kw)
    with pytest.raises(ValueError, match="priority"):
        pe.calibrate.from_log(sim_log, priority="random", **kw)


def test_bad_arguments_refused_before_the_log_is_read(tmp_path):
    missing = tmp_path / "no-such-log.csv"
    for kwargs, pattern in [
        ({"staffing": "lots"}, "staffing"),
        ({"interval": -5}, "interval"),
        ({"priority": "random"}, "priority"),
        ({"availability": 0.0}, "availability"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            pe.calibrate.from_log(missing, **kwargs)
