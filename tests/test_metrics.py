"""Tests for peakend.metrics: survey answers, NPS, CES, complaint iceberg, churn."""

import doctest
import math

import numpy as np
import pytest
from scipy import stats

from peakend import metrics
from peakend.journeys import Journeys

TOUCHPOINTS = ["entrance", "waiting", "counter", "farewell"]


def make_journeys(rng, n=2000, segments=("ordinary", "gold"), shift=(0.0, 0.0), wait_affect=None):
    """Synthetic record: each customer visits the four touchpoints once.

    ``shift[s]`` is added to all affects of segment ``s``; ``wait_affect`` overrides the
    waiting affect. The remembered value is peak-end, computed here independently.
    """
    seg = rng.integers(0, len(segments), n)
    aff = rng.normal(0.0, 2.0, (n, 4)) + np.asarray(shift)[seg][:, None]
    if wait_affect is not None:
        aff[:, 1] = wait_affect
    aff = np.clip(aff, -10, 10)
    start = np.cumsum(np.ones((n, 4)), axis=1) - 1.0
    peak_idx = np.argmax(np.abs(aff) + 1e-9 * (aff < 0), axis=1)
    remembered = (aff[np.arange(n), peak_idx] + aff[:, -1]) / 2
    wait = rng.exponential(10.0, n)
    return Journeys(
        customers={
            "customer": np.arange(n),
            "segment": seg,
            "arrival": np.zeros(n),
            "wait": wait,
            "perceived_wait": wait,
            "departure": np.full(n, 4.0),
            "remembered": remembered,
        },
        episodes={
            "touchpoint": np.tile(np.arange(4), n),
            "start": start.ravel(),
            "end": (start + 1.0).ravel(),
            "experience": np.full(4 * n, 5.0),
            "expectation": 5.0 - aff.ravel(),
            "affect": aff.ravel(),
        },
        offsets=np.arange(0, 4 * n + 1, 4),
        segments=list(segments),
        business_types=["deposit"],
        touchpoints=TOUCHPOINTS,
        counters=["c1"],
    )


def test_docstring_examples():
    assert doctest.testmod(metrics).failed == 0


# ------------------------------------------------------------------ answers on arrays


def test_csat_is_monotone_and_on_scale():
    r = np.linspace(-10, 10, 201)
    a = metrics.csat(r)
    assert a.min() == 1 and a.max() == 5
    assert np.all(np.diff(a) >= 0)
    # a visit that met expectations answers "neutral"
    assert metrics.csat([0.0])[0] == 3


def test_csat_noise_matches_the_ordered_probit():
    # latent exactly 3 with N(0, 0.6) noise: P(answer 3) = P(|Z| < 0.5 / 0.6)
    m = metrics.SurveyMapping(csat_noise=0.6)
    rng = np.random.default_rng(1)
    n = 40_000
    a = metrics.csat(np.zeros(n), m, rng)
    p_theory = 2 * stats.norm.cdf(0.5 / 0.6) - 1
    ci = stats.binomtest(int(np.sum(a == 3)), n).proportion_ci(0.999)
    assert ci.low <= p_theory <= ci.high
    # symmetric noise around the middle answer: mean answer 3
    assert abs(a.mean() - 3.0) < 4 * a.std() / math.sqrt(n)


def test_nps_definition():
    assert metrics.net_promoter_score([10, 9, 8, 7, 6, 0]) == 0.0
    # uniform answers 0..10: 2/11 promoters, 7/11 detractors
    assert metrics.net_promoter_score(np.arange(11)) == pytest.approx(100 * (2 - 7) / 11)
    assert metrics.net_promoter_score([9, 10]) == 100.0
    assert math.isnan(metrics.net_promoter_score([]))
    with pytest.raises(ValueError, match="ltr"):
        metrics.net_promoter_score([11])


def test_ltr_bands():
    ltr = metrics.likelihood_to_recommend([-3.0, 0.0, 3.0])
    assert ltr[0] <= 6  # a bad visit makes a detractor
    assert 7 <= ltr[1] <= 8  # meeting expectations makes a passive
    assert ltr[2] >= 9  # exceeding them makes a promoter


def test_ces_falls_with_wait_abandonment_and_repeat_visits():
    w = np.array([0.0, 10.0, 30.0, 60.0])
    ces = metrics.customer_effort(w)
    assert np.all(np.diff(ces) <= 0) and ces[0] > ces[-1]
    base = metrics.customer_effort([5.0, 5.0, 5.0], abandoned=[False, True, False],
                                   repeat_visits=[0, 0, 2])
    assert base[1] < base[0] and base[2] < base[0]
    assert metrics.customer_effort([1000.0])[0] == 1


# ------------------------------------------------------------------ complaints, churn


def test_default_complaint_probability_is_in_the_seed_range():
    lo, hi = metrics.SEED_COMPLAINT_RANGE
    assert lo == pytest.approx(1 / 12) and hi == pytest.approx(1 / 3)
    assert lo <= metrics.ComplaintModel().probability <= hi


@pytest.mark.parametrize("p", [1 / 12, 0.25, 1 / 3])
def test_complaints_seen_per_dissatisfied_within_binomial_ci(p):
    rng = np.random.default_rng(7)
    r = rng.uniform(-10, 10, 30_000)
    dis, com = metrics.complaints(r, metrics.ComplaintModel(probability=p, threshold=-2.0), rng)
    assert np.array_equal(dis, r < -2.0)
    assert not np.any(com & ~dis)  # only dissatisfied customers complain
    ci = stats.binomtest(int(com.sum()), int(dis.sum())).proportion_ci(0.999)
    assert ci.low <= p <= ci.high
    assert com.sum() < dis.sum()


def test_complaint_iceberg_per_segment():
    rng = np.random.default_rng(3)
    j = make_journeys(rng, n=6000, shift=(0.0, -3.0))
    ice = metrics.complaint_iceberg(j, metrics.ComplaintModel(probability=0.25), rng)
    assert set(ice) == {"ordinary", "gold", "all"}
    for row in ice.values():
        assert row["complaints"] < row["dissatisfied"]
        assert row["unheard"] == row["dissatisfied"] - row["complaints"]
        ci = stats.binomtest(int(row["complaints"]), int(row["dissatisfied"])).proportion_ci(0.999)
        assert ci.low <= 0.25 <= ci.high
    # the segment with worse affects has a larger share of dissatisfied customers
    assert (ice["gold"]["dissatisfied"] / ice["gold"]["customers"]
            > ice["ordinary"]["dissatisfied"] / ice["ordinary"]["customers"])
    assert ice["all"]["customers"] == 6000


def test_missed_promise_hurts_betrayal_times_more():
    # front-line slip: 1 point below the expectation; broken promise: 1 point below an
    # expectation raised by 1 (experience equal to the original expectation)
    for k in (2.0, 3.0, 4.0):
        slip, promise = metrics.missed_promise_gap([6.0, 7.0], [7.0, 7.0], [0.0, 1.0],
                                                   betrayal=k)
        assert promise / slip == pytest.approx(k)
    # a kept promise is a plain gain against the raised expectation
    assert metrics.missed_promise_gap(9.0, 7.0, 1.0).item() == 1.0
    # both: 2 below the original, uplift 1 -> 2 + 3 x 1
    assert metrics.missed_promise_gap(5.0, 7.0, 1.0).item() == -5.0
    # betrayal 1 is the plain Delta law with the raised expectation
    x = np.linspace(0, 10, 11)
    assert np.allclose(metrics.missed_promise_gap(x, 6.0, 2.0, betrayal=1.0), x - 8.0)


def test_churn_probability_logistic():
    m = metrics.ChurnModel(base_rate=0.1, odds_ratio=1.5)
    r = np.array([-4.0, 0.0, 1.0, 4.0])
    p = metrics.churn_probability(r, m)
    assert p[1] == pytest.approx(0.1)
    assert np.all(np.diff(p) < 0)  # a better memory lowers churn
    odds_return = (1 - p) / p
    assert odds_return[2] / odds_return[1] == pytest.approx(1.5)


def test_early_warning_lists_worst_first():
    idx = metrics.early_warning([0.0, -5.0, -3.5, -9.0, -3.0], threshold=-3.0)
    assert idx.tolist() == [3, 1, 2]


# ------------------------------------------------------------------ surveys of journeys


def test_survey_tables_follow_the_memories():
    rng = np.random.default_rng(11)
    j = make_journeys(rng, n=4000, shift=(0.0, 3.0), wait_affect=-6.0)
    s = metrics.survey(j, rng=np.random.default_rng(12))
    seg = s.by_segment()
    assert set(seg) == {"ordinary", "gold", "all"}
    assert seg["all"]["n_customers"] == 4000 == seg["all"]["n_responses"]
    assert seg["gold"]["csat"] > seg["ordinary"]["csat"]
    assert seg["gold"]["nps"] > seg["ordinary"]["nps"]
    assert seg["all"]["nps"] == pytest.approx(seg["all"]["promoters"] - seg["all"]["detractors"])
    for row in seg.values():
        assert 1 <= row["csat"] <= 5 and -100 <= row["nps"] <= 100 and 1 <= row["ces"] <= 7
    tp = s.touchpoint_table()
    # waiting at -6 is the worst-rated touchpoint in every segment
    for row in tp.values():
        assert min(row, key=row.get) == "waiting"
    assert s.touchpoint_n[-1].tolist() == [4000] * 4


def test_survey_response_rate_and_reproducibility():
    rng = np.random.default_rng(5)
    j = make_journeys(rng, n=5000)
    m = metrics.SurveyMapping(response_rate=0.2)
    a = metrics.survey(j, m, np.random.default_rng(9))
    b = metrics.survey(j, m, np.random.default_rng(9))
    assert np.array_equal(a.responses["csat"], b.responses["csat"])
    n_resp = int(a.responses["responded"].sum())
    ci = stats.binomtest(n_resp, 5000).proportion_ci(0.999)
    assert ci.low <= 0.2 <= ci.high
    assert np.all(a.responses["csat"][~a.responses["responded"]] == -1)
    with pytest.raises(ValueError, match="rng"):
        metrics.survey(j, m, None)


def test_segment_survey_metrics_for_the_experiment_layer():
    rng = np.random.default_rng(2)
    j = make_journeys(rng, n=3000, shift=(0.0, -2.0))
    res = metrics.segment_survey_metrics(j, rng=np.random.default_rng(4))
    assert list(res) == ["ordinary", "gold", "all"]
    for row in res.values():
        assert list(row) == list(metrics.SURVEY_METRICS)
        assert all(isinstance(v, float) for v in row.values())
        assert {"csat", "nps", "ces", "dissatisfied", "complaints", "complaint_rate"} <= set(row)
        assert row["complaint_rate"] < row["dissatisfied"]
    # noiseless: expected complaints = dissatisfied x p exactly
    res0 = metrics.segment_survey_metrics(j)
    n_dis = np.sum(j.customers["remembered"] < -2.0)
    assert res0["all"]["complaints"] == pytest.approx(0.25 * n_dis)


def test_survey_to_pandas():
    import pandas as pd
    rng = np.random.default_rng(0)
    s = metrics.survey(make_journeys(rng, n=200), rng=rng)
    assert isinstance(s.to_pandas("segments"), pd.DataFrame)
    assert len(s.to_pandas("touchpoints")) == 3 * 4
    assert list(s.to_pandas("responses")["segment"].cat.categories) == ["ordinary", "gold"]
    with pytest.raises(ValueError, match="table"):
        s.to_pandas("nope")


# ------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    ("factory", "word"),
    [
        (lambda: metrics.SurveyMapping(csat_step=0), "csat_step"),
        (lambda: metrics.SurveyMapping(ltr_noise=-1), "ltr_noise"),
        (lambda: metrics.SurveyMapping(response_rate=0), "response_rate"),
        (lambda: metrics.SurveyMapping(ces_no_effort=math.nan), "ces_no_effort"),
        (lambda: metrics.ComplaintModel(probability=1.5), "probability"),
        (lambda: metrics.ComplaintModel(threshold=-11), "threshold"),
        (lambda: metrics.ChurnModel(base_rate=0.0), "base_rate"),
        (lambda: metrics.ChurnModel(odds_ratio=0.5), "odds_ratio"),
        (lambda: metrics.missed_promise_gap(1.0, 1.0, 1.0, betrayal=0.5), "betrayal"),
        (lambda: metrics.missed_promise_gap(1.0, 1.0, -1.0), "uplift"),
        (lambda: metrics.csat([[1.0]]), "remembered"),
        (lambda: metrics.csat([math.nan]), "remembered"),
        (lambda: metrics.csat([1.0], rng=1), "rng"),
        (lambda: metrics.customer_effort([-1.0]), "perceived_wait"),
        (lambda: metrics.customer_effort([1.0], abandoned=[True, False]), "abandoned"),
        (lambda: metrics.complaints([-5.0]), "rng"),
        (lambda: metrics.early_warning([1.0], threshold=math.inf), "threshold"),
    ],
)
def test_bad_inputs_raise(factory, word):
    with pytest.raises(ValueError, match=word):
        factory()


def test_survey_rejects_wrong_length_remembered():
    j = make_journeys(np.random.default_rng(0), n=10)
    with pytest.raises(ValueError, match="remembered"):
        metrics.survey(j, remembered=np.zeros(3))
    with pytest.raises(ValueError, match="repeat_visits"):
        metrics.survey(j, repeat_visits=np.zeros(3))


# ------------------------------------------------------------------ with the branch simulator


@pytest.mark.filterwarnings("ignore:.*overloaded")  # two tellers overload the branch on purpose
def test_survey_of_simulated_days_reads_staffing():
    import peakend as pe

    branch = pe.load_scenario("default_branch")
    short = pe.Policy("two tellers", {"counters": {"general": {"tellers": 2}}}).apply(branch)
    days = {name: Journeys.concat([pe.simulate(s, k) for k in range(3)])
            for name, s in (("four", branch), ("two", short))}
    res = {name: metrics.segment_survey_metrics(j, rng=np.random.default_rng(0))
           for name, j in days.items()}
    for r in res.values():
        assert set(r) == {*days["four"].segments, "all"}
    # fewer tellers: longer waits, more effort, fewer promoters, more complaints
    assert res["two"]["all"]["ces"] < res["four"]["all"]["ces"]
    assert res["two"]["all"]["nps"] < res["four"]["all"]["nps"]
    assert res["two"]["all"]["dissatisfied"] > res["four"]["all"]["dissatisfied"]
    s = metrics.survey(days["two"], rng=np.random.default_rng(1))
    ces = s.responses["ces"]
    ab = days["two"].abandoned
    assert ces[ab].mean() < ces[~ab].mean()


def test_with_marketing_uplift_re_feels_the_promised_touchpoint():
    rng = np.random.default_rng(21)
    j = make_journeys(rng, n=1500)
    linear = {"kind": "linear", "clip": None}
    k = TOUCHPOINTS.index("counter")
    at = j.episodes["touchpoint"] == k
    out = metrics.with_marketing_uplift(j, {"counter": 1.0}, betrayal=3.0,
                                        value_function=linear)
    x, e = j.episodes["experience"], j.episodes["expectation"]
    expected = np.clip(metrics.missed_promise_gap(x, e, 1.0, betrayal=3.0), -10, 10)
    assert np.allclose(out.episodes["affect"][at], expected[at])
    assert np.array_equal(out.episodes["affect"][~at], j.episodes["affect"][~at])
    assert np.allclose(out.episodes["expectation"][at], e[at] + 1.0)
    # a missed promise only lowers memories, and more so the more betrayal weighs
    assert np.all(out.customers["remembered"] <= j.score("peak_end") + 1e-12)
    worse = metrics.with_marketing_uplift(j, {"counter": 1.0}, betrayal=4.0,
                                          value_function=linear)
    milder = metrics.with_marketing_uplift(j, {"counter": 1.0}, betrayal=2.0,
                                           value_function=linear)
    assert worse.customers["remembered"].mean() < milder.customers["remembered"].mean()
    # a campaign that reached gold customers only
    gold = metrics.with_marketing_uplift(j, {"counter": 1.0}, segments=["gold"],
                                         value_function=linear)
    ordinary = j.customers["segment"] == 0
    assert np.allclose(gold.customers["remembered"][ordinary], j.score("peak_end")[ordinary])
    with pytest.raises(ValueError, match="touchpoint"):
        metrics.with_marketing_uplift(j, {"lounge": 1.0})
    with pytest.raises(ValueError, match="uplift"):
        metrics.with_marketing_uplift(j, {"counter": -1.0})
    with pytest.raises(ValueError, match="betrayal"):
        metrics.with_marketing_uplift(j, {"counter": 1.0}, betrayal=0.5)


def test_with_marketing_uplift_keeps_the_stage_tables_of_a_multi_stage_day():
    import peakend as pe

    day = pe.simulate(pe.load_scenario("branch_with_advisors"), seed=3)
    out = metrics.with_marketing_uplift(day, {"service@advisor": 1.0})
    assert out.stages == day.stages and len(day.stages) > 0
    for table in ("stage_visits", "stage_queue"):
        before, after = getattr(day, table), getattr(out, table)
        assert set(after) == set(before)
        for k in before:
            assert np.array_equal(after[k], before[k], equal_nan=True), (table, k)
    assert len(out.stage_visits["customer"]) > len(day)  # some customers saw two stages
