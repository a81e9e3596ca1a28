"""Tests for peakend.loyalty: adapting expectations, habituation, churn, value."""

import math

import numpy as np
import pytest
from scipy import stats

from peakend import loyalty
from peakend.journeys import Journeys
from peakend.metrics import ChurnModel, SurveyMapping

TPS = ["waiting", "counter", "farewell"]
SEGMENTS = ["ordinary", "gold"]


def linear(x):
    return np.asarray(x, dtype=float)


def week_source(n=400, farewell=8.0, expectation=5.0, noise=0.0, gold_share=0.5,
                balked=False):
    """Synthetic weekly visits: three touchpoints; affect = experience - expectation."""

    def source(week, seed):
        rng = np.random.default_rng(seed)
        seg = (rng.random(n) < gold_share).astype(int)
        x = np.full((n, 3), expectation) + noise * rng.normal(size=(n, 3))
        x[:, 2] = farewell + noise * rng.normal(size=n)
        e = np.full((n, 3), expectation)
        a = x - e
        start = np.tile([0.0, 1.0, 2.0], (n, 1))
        return Journeys(
            customers={"customer": np.arange(n), "segment": seg, "arrival": np.zeros(n),
                       "wait": np.zeros(n), "departure": np.full(n, 3.0),
                       "balked": np.full(n, balked)},
            episodes={"touchpoint": np.tile(np.arange(3), n), "start": start.ravel(),
                      "end": start.ravel() + 1.0, "experience": x.ravel(),
                      "expectation": e.ravel(), "affect": a.ravel()},
            offsets=np.arange(0, 3 * n + 1, 3),
            segments=SEGMENTS, business_types=["deposit"], touchpoints=TPS, counters=["c1"],
        )

    return source


NO_CHURN = ChurnModel(base_rate=1e-9, odds_ratio=1.0)


def test_habituation_a_repeated_gift_fades_geometrically():
    # every member visits every week; the farewell gift is 3 points above the
    # expectation; with a linear value function the felt gift is 3 (1 - eta)^k exactly
    eta = 0.3
    res = loyalty.simulate_loyalty(
        None, {"ordinary": 50, "gold": 50}, 8,
        model=loyalty.LoyaltyModel(eta=eta, visit_probability=1.0, churn=NO_CHURN),
        source=week_source(), value=linear, rule="peak_end", seed=1,
    )
    k = np.arange(8)
    for s in range(2):
        assert np.allclose(res.affect[:, s, 2], 3.0 * (1 - eta) ** k)
        assert np.allclose(res.expectation[:, s, 2], 8.0 - 3.0 * (1 - eta) ** (k + 1))
        # the other touchpoints meet expectations and stay at 0
        assert np.allclose(res.affect[:, s, :2], 0.0)
    # peak-end of (0, 0, g): peak g, end g -> remembered g
    assert np.allclose(res.remembered[:, 0], 3.0 * (1 - eta) ** k)
    assert np.all(np.diff(res.remembered[:, 0]) < 0)
    assert res.visits.sum() == 100 * 8 and np.all(res.member_visits == 8)


def test_weekly_survey_follows_habituation_and_repeat_visits():
    quiet = SurveyMapping(csat_noise=0.0, ltr_noise=0.0, ces_noise=0.0)
    model = loyalty.LoyaltyModel(eta=0.3, visit_probability=1.0, churn=NO_CHURN)
    res = loyalty.simulate_loyalty(None, {"ordinary": 30}, 6, model=model,
                                   source=week_source(), value=linear, rule="peak_end",
                                   mapping=quiet)
    # remembered 3 (0.7)^k: CSAT round(3 + r / 2.5) falls from 4 to 3 as the gift fades
    assert res.csat[0, 0] == 4.0 and res.csat[-1, 0] == 3.0
    assert res.nps[0, 0] >= res.nps[-1, 0]
    # turned away every week: CES 6 - 2 (abandoned) - 1 per earlier unserved visit
    away = loyalty.simulate_loyalty(None, {"ordinary": 30}, 4, model=model,
                                    source=week_source(balked=True), value=linear,
                                    rule="peak_end", mapping=quiet)
    assert away.ces[:, 0].tolist() == [4.0, 3.0, 2.0, 1.0]
    assert np.all(away.abandoned[:, 0] == 30)


def test_no_adaptation_without_learning():
    res = loyalty.simulate_loyalty(
        None, {"ordinary": 20}, 4,
        model=loyalty.LoyaltyModel(eta=0.0, visit_probability=1.0, churn=NO_CHURN),
        source=week_source(), value=linear, rule="peak_end",
    )
    assert np.allclose(res.affect[:, 0, 2], 3.0)


def test_adapt_only_some_touchpoints():
    res = loyalty.simulate_loyalty(
        None, {"ordinary": 20}, 4,
        model=loyalty.LoyaltyModel(eta=0.5, visit_probability=1.0, churn=NO_CHURN,
                                   adapt=("waiting",)),
        source=week_source(), value=linear, rule="peak_end",
    )
    assert np.allclose(res.affect[:, 0, 2], 3.0)  # the farewell never habituates


def test_better_end_lowers_churn():
    churn = ChurnModel(base_rate=0.1, odds_ratio=1.3)
    model = loyalty.LoyaltyModel(eta=0.0, visit_probability=0.5, churn=churn)
    common = dict(panel={"ordinary": 3000, "gold": 3000}, weeks=6, model=model, seed=3,
                  value=linear, rule="peak_end")
    good = loyalty.simulate_loyalty(None, source=week_source(farewell=7.0, noise=1.0), **common)
    bad = loyalty.simulate_loyalty(None, source=week_source(farewell=3.0, noise=1.0), **common)
    assert np.all(good.active[-1] > bad.active[-1])
    assert good.churned.sum() < bad.churned.sum()
    assert np.all(good.retention()[-1] > bad.retention()[-1])
    # week 0, same visitors (common random numbers): the churn rate among visitors is
    # the logistic model's at the remembered value (peak-end of 0, 0, f-5 is f-5)
    for res, r in ((good, 2.0), (bad, -2.0)):
        p = 1 / (1 + math.exp(-(math.log(0.1 / 0.9) - math.log(1.3) * r)))
        n_v, n_c = int(res.visits[0].sum()), int(res.churned[0].sum())
        # noise makes remembered vary around r; a loose binomial check of the level
        ci = stats.binomtest(n_c, n_v).proportion_ci(0.999)
        assert ci.low - 0.02 <= p <= ci.high + 0.02


def test_visit_probability_and_background_churn():
    model = loyalty.LoyaltyModel(eta=0.0, visit_probability={"ordinary": 0.2, "gold": 0.6},
                                 churn=NO_CHURN, background_churn=0.05)
    res = loyalty.simulate_loyalty(None, {"ordinary": 4000, "gold": 4000}, 5, model=model,
                                   source=week_source(), value=linear, rule="peak_end", seed=5)
    # visits among members active after attrition ~ Binomial(active, p)
    for s, p in ((0, 0.2), (1, 0.6)):
        v = int(res.visits[:, s].sum())
        after_bg = int((res.active[:-1, s] - res.churned[:, s]).sum())
        ci = stats.binomtest(v, after_bg).proportion_ci(0.999)
        assert ci.low <= p <= ci.high
    # only background attrition: active falls by ~5 % a week
    lost = res.churned.sum()
    exposed = res.active[:-1].sum()
    ci = stats.binomtest(int(lost), int(exposed)).proportion_ci(0.999)
    assert ci.low <= 0.05 <= ci.high


def test_early_warning_list():
    model = loyalty.LoyaltyModel(eta=0.0, visit_probability=1.0, churn=NO_CHURN,
                                 warning_threshold=-1.0)
    res = loyalty.simulate_loyalty(None, {"ordinary": 200, "gold": 200}, 2, model=model,
                                   source=week_source(farewell=4.0, noise=1.0), value=linear,
                                   rule="peak_end", seed=2)
    w = res.warnings
    assert w["member"].size > 0
    assert np.all(w["remembered"] < -1.0)
    assert np.array_equal(w["segment"], res.member_segment[w["member"]])
    for week in (0, 1):
        r = w["remembered"][w["week"] == week]
        assert np.all(np.diff(r) >= 0)  # worst first
    import pandas as pd
    frame = res.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert {"active", "visits", "affect:farewell", "expectation:waiting"} <= set(frame["metric"])


def test_same_seed_same_result():
    kw = dict(panel={"ordinary": 100, "gold": 100}, weeks=3, source=week_source(noise=1.0),
              value=linear, rule="peak_end", seed=9)
    a = loyalty.simulate_loyalty(None, **kw)
    b = loyalty.simulate_loyalty(None, **kw)
    assert np.array_equal(a.active, b.active) and np.allclose(a.remembered, b.remembered)


def test_segment_value_gives_weekly_value():
    res = loyalty.simulate_loyalty(None, {"ordinary": 10, "gold": 5}, 2,
                                   model=loyalty.LoyaltyModel(churn=NO_CHURN),
                                   source=week_source(), value=linear, rule="peak_end",
                                   segment_value={"ordinary": 520.0, "gold": 5200.0})
    assert np.allclose(res.value[0], [10 * 10.0, 5 * 100.0])


# ------------------------------------------------------------------ value of a policy


def one_week(farewell, noise=0.0):
    j = week_source(n=2000, farewell=farewell, noise=noise)(0, np.random.SeedSequence(0))
    return j, j.score("peak_end")


def test_value_of_policy_closed_form():
    j, r = one_week(5.0)  # remembered 0 everywhere: churn per visit = base rate
    churn = ChurnModel(base_rate=0.02, odds_ratio=1.25)
    res = loyalty.value_of_policy(j, {"ordinary": 1000, "gold": 100},
                                  {"ordinary": 100.0, "gold": 2000.0}, horizon_years=3,
                                  visits_per_year=12, churn=churn, remembered=r)
    retained = 1000 * 0.98 ** 36
    assert res["ordinary"]["churn_per_visit"] == pytest.approx(0.02)
    assert res["ordinary"]["retained"] == pytest.approx(retained)
    assert res["ordinary"]["lost"] == pytest.approx(1000 - retained)
    # revenue: 100 a year times the customer-years; check against a fine Riemann sum
    t = np.linspace(0, 3, 300_001)
    customer_years = np.trapezoid(1000 * 0.98 ** (12 * t), t)
    assert res["ordinary"]["revenue"] == pytest.approx(100 * customer_years, rel=1e-6)
    assert res["all"]["retained"] == pytest.approx(retained + 100 * 0.98 ** 36)
    # discounting lowers revenue, background attrition lowers retention
    disc = loyalty.value_of_policy(j, {"ordinary": 1000, "gold": 100},
                                   {"ordinary": 100.0, "gold": 2000.0}, churn=churn,
                                   discount_rate=0.1, background_churn_per_year=0.1)
    assert disc["ordinary"]["revenue"] < res["ordinary"]["revenue"]
    assert disc["ordinary"]["retained"] == pytest.approx(retained * 0.9**3)


def test_value_of_policy_better_end_against_baseline():
    good, r_good = one_week(7.0, noise=1.0)
    bad, r_bad = one_week(3.0, noise=1.0)
    kw = dict(customers={"ordinary": 1000, "gold": 100},
              segment_value={"ordinary": 100.0, "gold": 2000.0})
    res = loyalty.value_of_policy(good, remembered=r_good, baseline=bad,
                                  baseline_remembered=r_bad, **kw)
    for s in ("ordinary", "gold", "all"):
        assert res[s]["retained_change"] > 0 and res[s]["revenue_change"] > 0


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"horizon_years": 0.0}, "horizon_years"),
        ({"visits_per_year": 0.0}, "visits_per_year"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"background_churn_per_year": 1.0}, "background_churn_per_year"),
        ({"customers": {"ordinary": 1, "vip": 1}}, "customers"),
        ({"segment_value": {"ordinary": 1.0}}, "segment_value"),
        ({"remembered": np.zeros(3)}, "remembered"),
    ],
)
def test_value_of_policy_bad_inputs(kw, word):
    j, r = one_week(5.0)
    args = dict(customers={"ordinary": 10, "gold": 10},
                segment_value={"ordinary": 1.0, "gold": 1.0}, remembered=r)
    args.update(kw)
    with pytest.raises(ValueError, match=word):
        loyalty.value_of_policy(j, **args)


@pytest.mark.parametrize(
    ("factory", "word"),
    [
        (lambda: loyalty.LoyaltyModel(eta=1.5), "eta"),
        (lambda: loyalty.LoyaltyModel(visit_probability=-0.1), "visit_probability"),
        (lambda: loyalty.LoyaltyModel(visit_probability={"gold": 2.0}), "visit_probability"),
        (lambda: loyalty.LoyaltyModel(background_churn=2.0), "background_churn"),
        (lambda: loyalty.LoyaltyModel(warning_threshold=20.0), "warning_threshold"),
        (lambda: loyalty.simulate_loyalty(None, {"ordinary": 1}, 0, source=week_source(),
                                          value=linear), "weeks"),
        (lambda: loyalty.simulate_loyalty(None, {"vip": 1}, 1, source=week_source(),
                                          value=linear), "panel"),
        (lambda: loyalty.simulate_loyalty(None, {"ordinary": 0}, 1, source=week_source(),
                                          value=linear), "panel"),
        (lambda: loyalty.simulate_loyalty(None, {"ordinary": 1}, 1, value=linear), "scenario"),
        (lambda: loyalty.simulate_loyalty(
            None, {"ordinary": 1}, 1, source=week_source(), value=linear,
            model=loyalty.LoyaltyModel(visit_probability={"ordinary": 0.5})),
         "visit_probability"),
        (lambda: loyalty.simulate_loyalty(
            None, {"ordinary": 1}, 1, source=week_source(), value=linear,
            model=loyalty.LoyaltyModel(adapt=("lounge",))), "adapt"),
    ],
)
def test_bad_inputs_raise(factory, word):
    with pytest.raises(ValueError, match=word):
        factory()


# ------------------------------------------------------------------ with the branch simulator


@pytest.fixture(scope="module")
def branch():
    import peakend as pe

    return pe.load_scenario("default_branch")


def test_branch_gift_effect_habituates(branch):
    # VIPs get a farewell gift in default_branch; the same panel without the gift
    # (common random numbers) shows the gift's effect on the felt farewell shrinking as
    # the expected farewell rises towards it
    import peakend as pe

    no_gift = pe.Policy("no gift", {"segments": {"vip": {"farewell": {"gift_size": 0.0}}}})
    model = loyalty.LoyaltyModel(eta=0.5, visit_probability=1.0, churn=NO_CHURN)
    kw = dict(panel={"vip": 40}, weeks=5, model=model, seed=4)
    gift = loyalty.simulate_loyalty(branch, **kw)
    plain = loyalty.simulate_loyalty(no_gift.apply(branch), **kw)
    k = gift.touchpoints.index("farewell")
    v = gift.segments.index("vip")
    effect = gift.affect[:, v, k] - plain.affect[:, v, k]
    assert effect[0] > 0.5  # a clear positive moment at first
    assert effect[-1] < 0.5 * effect[0]  # mostly gone after five visits
    assert gift.expectation[-1, v, k] > plain.expectation[-1, v, k]


def test_branch_better_end_lowers_churn(branch):
    import peakend as pe

    farewell = pe.Policy("farewell", {"segments": {"ordinary": {"farewell": {
        "enabled": True, "level": 8.0}}}})
    model = loyalty.LoyaltyModel(eta=0.2, visit_probability=0.5,
                                 churn=ChurnModel(base_rate=0.1, odds_ratio=1.3))
    kw = dict(panel={"ordinary": 1500}, weeks=3, model=model, seed=6)
    base = loyalty.simulate_loyalty(branch, **kw)
    better = loyalty.simulate_loyalty(farewell.apply(branch), **kw)
    o = base.segments.index("ordinary")
    assert better.remembered[0, o] > base.remembered[0, o]
    assert better.churned[:, o].sum() < base.churned[:, o].sum()
    assert better.value[-1, o] >= base.value[-1, o]


def test_fixed_touchpoints_never_adapt():
    model = loyalty.LoyaltyModel(eta=0.5, visit_probability=1.0, churn=NO_CHURN,
                                 fixed=("farewell", "not-a-touchpoint"))
    res = loyalty.simulate_loyalty(None, {"ordinary": 20}, 4, model=model,
                                   source=week_source(), value=linear, rule="peak_end")
    assert np.allclose(res.affect[:, 0, 2], 3.0)
    assert np.all(np.isnan(res.expectation[:, 0, 2]))


def test_common_random_numbers_across_policies():
    # with no churn, who visits each week depends on the seed only, not on the policy
    model = loyalty.LoyaltyModel(eta=0.3, visit_probability=0.5, churn=NO_CHURN)
    kw = dict(panel={"ordinary": 300, "gold": 300}, weeks=4, model=model, seed=12,
              value=linear, rule="peak_end")
    a = loyalty.simulate_loyalty(None, source=week_source(n=500, farewell=7.0), **kw)
    b = loyalty.simulate_loyalty(None, source=week_source(n=150, farewell=3.0), **kw)
    assert np.array_equal(a.visits, b.visits)
    assert np.array_equal(a.member_visits, b.member_visits)


def test_value_of_policy_reads_segment_values_from_the_simulator(branch):
    import peakend as pe

    j = pe.simulate(branch, 0)
    res = loyalty.value_of_policy(j, {"vip": 10, "gold": 0, "ordinary": 0}, horizon_years=1,
                                  visits_per_year=1e-9)  # nobody visits: nobody churns
    assert res["vip"]["revenue"] == pytest.approx(10 * branch.segments["vip"].value)
    bare = week_source()(0, np.random.SeedSequence(0))
    with pytest.raises(ValueError, match="segment_value"):
        loyalty.value_of_policy(bare, {"ordinary": 1, "gold": 1})
