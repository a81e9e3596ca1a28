"""Tests for peakend.cem: the seven-step gap analysis (seed 000) and moments of truth."""

import numpy as np
import pytest

from peakend import cem

# Seed 000, "美蘇電器": step 2a experience, 2b expectation, 2d importance, 4a ideal (0..10).
SEED_EXPERIENCE = {
    "price": 7,
    "brand": 7,
    "service": 6,
    "product": 6,
    "convenience": 5,
    "relationship": 4,
}
SEED_EXPECTATION = {"product": 7, "price": 7, "convenience": 7, "brand": 7}
SEED_IMPORTANCE = {"convenience": 9}
SEED_IDEAL = {**SEED_EXPERIENCE, "convenience": 10}


def seed_table() -> cem.GapTable:
    return cem.gap_analysis(
        SEED_EXPERIENCE, SEED_EXPECTATION, importance=SEED_IMPORTANCE, ideal=SEED_IDEAL
    )


def test_seed_worked_example_exactly():
    t = seed_table()
    # 2c: convenience -2 (too few shops), product -1 (range too narrow); price, brand 0
    assert t.row("convenience")["satisfaction"] == -2.0
    assert t.row("product")["satisfaction"] == -1.0
    assert t.row("price")["satisfaction"] == 0.0
    assert t.row("brand")["satisfaction"] == 0.0
    # no expectation was given for service and relationship
    assert np.isnan(t.row("service")["satisfaction"])
    assert np.isnan(t.row("relationship")["satisfaction"])
    # 3: importance 9 x satisfaction -2 = -18, the key experience
    assert t.row("convenience")["weighted"] == -18.0
    assert t.key == "convenience"
    # 4b: experience gap to the ideal 5 - 10 = -5, zero elsewhere
    assert t.row("convenience")["gap"] == -5.0
    for f in ("price", "brand", "service", "product", "relationship"):
        assert t.row(f)["gap"] == 0.0
    assert t.ranking()[0] == "convenience"
    assert t.factors == tuple(SEED_EXPERIENCE)


def test_seed_example_with_arrays_and_equal_importance():
    factors = list(SEED_EXPERIENCE)
    exp = np.array([SEED_EXPERIENCE[f] for f in factors], float)
    expect = np.array([SEED_EXPECTATION.get(f, np.nan) for f in factors])
    # with equal importance, the key is still the most negative satisfaction
    t = cem.gap_analysis(exp, expect, importance=np.full(6, 9.0), factors=factors)
    assert t.key == "convenience"
    assert t.row("product")["weighted"] == -9.0
    assert np.all(np.isnan(t.gap))


def test_importance_changes_the_key_experience():
    # if product mattered 10 and convenience 4, product (-10) beats convenience (-8)
    t = cem.gap_analysis(
        SEED_EXPERIENCE, SEED_EXPECTATION, importance={"convenience": 4, "product": 10}
    )
    assert t.key == "product"
    assert t.ranking()[:2] == ["product", "convenience"]


def test_no_negative_weighted_means_no_key():
    t = cem.gap_analysis({"a": 8, "b": 9}, {"a": 7, "b": 7}, importance={"a": 1, "b": 1})
    assert t.key is None


def test_gap_table_outputs():
    t = seed_table()
    d = t.to_dict()
    assert d["convenience"]["weighted"] == -18.0
    assert "convenience" in str(t)
    import pandas as pd
    frame = t.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert bool(frame.loc["convenience", "key"])
    assert frame.loc["convenience", "gap"] == -5.0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        (dict(experience=[1.0, 2.0], expectation=[1.0, 2.0]), "factors"),
        (dict(experience=[1.0, 2.0], expectation=[1.0], factors=["a", "b"]), "expectation"),
        (dict(experience={"a": 1.0}, expectation={"z": 1.0}), "expectation"),
        (dict(experience={"a": 1.0}, expectation={"a": 1.0}, importance={"a": -1.0}),
         "importance"),
        (dict(experience=[1.0, 2.0], expectation=[1, 2], factors=["a", "a"]), "unique"),
        (dict(experience={}, expectation={}), "experience"),
        (dict(experience={"a": 1.0}, expectation={"a": 1.0}, ideal=[1.0, 2.0]), "ideal"),
    ],
)
def test_bad_inputs_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        cem.gap_analysis(**kwargs)


def test_row_unknown_factor():
    with pytest.raises(ValueError, match="factor"):
        seed_table().row("speed")


# ------------------------------------------------------------------ from journeys

from peakend.journeys import Journeys  # noqa: E402

TPS = ["entrance", "waiting", "counter", "farewell"]


def make_record(affect, segment=None, touchpoints=None, offsets=None, remembered=None,
                experience=None, expectation=None, segments=("ordinary", "gold")):
    """A record from a dense (customer x episode) affect matrix, or CSR arrays."""
    affect = np.asarray(affect, float)
    if offsets is None:
        n, k = affect.shape
        offsets = np.arange(0, n * k + 1, k)
        touchpoints = np.tile(np.arange(k), n) if touchpoints is None else touchpoints
        affect = affect.ravel()
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    start = (np.arange(affect.size) - np.repeat(offsets[:-1], lengths)).astype(float)
    seg = np.zeros(n, int) if segment is None else np.asarray(segment)
    if remembered is None:
        remembered = np.full(n, np.nan)
    eps = {"touchpoint": touchpoints, "start": start, "end": start + 1.0, "affect": affect}
    if experience is not None:
        eps["experience"] = experience
        eps["expectation"] = expectation
    return Journeys(
        customers={"customer": np.arange(n), "segment": seg, "arrival": np.zeros(n),
                   "wait": np.zeros(n), "departure": np.full(n, 9.0),
                   "remembered": remembered},
        episodes=eps,
        offsets=offsets,
        segments=list(segments),
        business_types=["deposit"],
        touchpoints=TPS,
        counters=["c1"],
    )


def peak_end(a):
    """Peak-end of each row of a dense matrix (tie goes to the negative side)."""
    idx = np.argmax(np.abs(a) + 1e-9 * (a < 0), axis=1)
    return (a[np.arange(len(a)), idx] + a[:, -1]) / 2


def test_touchpoint_matrix_averages_repeats_and_marks_missing():
    # customer 0: entrance 1, waiting -2, waiting -4; customer 1: counter 3
    j = make_record([1.0, -2.0, -4.0, 3.0], offsets=np.array([0, 3, 4]),
                    touchpoints=np.array([0, 1, 1, 2]))
    values, present = cem.touchpoint_matrix(j)
    assert values.tolist() == [[1.0, -3.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]]
    assert present.tolist() == [[True, True, False, False], [False, False, True, False]]
    with pytest.raises(ValueError, match="column"):
        cem.touchpoint_matrix(j, "remembered")


def test_importance_recovers_a_linear_memory_exactly():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 3, (500, 4))
    y = 1.0 + 2.0 * a[:, 0] + 0.5 * a[:, 2] - 1.0 * a[:, 3]
    fit = cem.importance_from_journeys(make_record(a, remembered=y))
    assert np.allclose(fit.coefficients, [2.0, 0.0, 0.5, -1.0], atol=1e-9)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.r_squared == pytest.approx(1.0)
    scaled = fit.scaled()
    assert scaled["entrance"] == pytest.approx(10.0) and scaled["farewell"] == 0.0
    assert scaled["counter"] == pytest.approx(2.5)


def test_importance_with_touchpoints_some_customers_never_reach():
    # half the customers skip the counter (balk): "absent" must not read as "affect 0"
    rng = np.random.default_rng(1)
    n = 600
    a = rng.normal(0, 3, (n, 4))
    skip = rng.random(n) < 0.5
    y = 2.0 * a[:, 1] + np.where(skip, -4.0, 1.0 * a[:, 2])
    keep_ep = np.ones((n, 4), bool)
    keep_ep[skip, 2] = False
    lengths = keep_ep.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    tps = np.tile(np.arange(4), (n, 1))[keep_ep]
    j = make_record(a[keep_ep], offsets=offsets, touchpoints=tps, remembered=y)
    fit = cem.importance_from_journeys(j)
    assert np.allclose(fit.coefficients, [0.0, 2.0, 1.0, 0.0], atol=1e-9)
    assert fit.missing_effects[2] == pytest.approx(-4.0)
    assert np.isnan(fit.missing_effects[0])


def test_importance_under_peak_end_weights_the_end_most():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 2, (3000, 4))
    fit = cem.importance_from_journeys(make_record(a, remembered=peak_end(a)))
    c = fit.coefficients
    # the end always counts half; the other touchpoints only when they hold the peak
    assert c[3] == c.max() and c[3] > 0.5
    assert np.all(c[:3] > 0) and np.all(c[:3] < 0.5)


def test_gap_analysis_from_journeys_finds_the_waiting_gap():
    rng = np.random.default_rng(3)
    n = 2000
    expectation = np.tile([5.0, 6.0, 6.0, 5.0], (n, 1))
    experience = expectation + rng.normal(0, 1, (n, 4))
    experience[:, 1] -= 3.0  # waiting falls 3 points short on average
    a = experience - expectation
    j = make_record(a, remembered=peak_end(a), experience=experience.ravel(),
                    expectation=expectation.ravel())
    t = cem.gap_analysis_from_journeys(j, ideal={"waiting": 8.0})
    assert t.factors == tuple(TPS)
    assert t.row("waiting")["satisfaction"] == pytest.approx(-3.0, abs=0.1)
    assert t.key == "waiting"
    assert t.row("waiting")["gap"] == pytest.approx(3.0 - 8.0, abs=0.1)
    assert np.nanmax(t.importance) == pytest.approx(10.0)
    # a segment that is not there has no episodes
    with pytest.raises(ValueError, match="episode"):
        cem.gap_analysis_from_journeys(j, segment="gold")
    with pytest.raises(ValueError, match="ideal"):
        cem.gap_analysis_from_journeys(j, ideal={"lounge": 9.0})
    with pytest.raises(ValueError, match="remembered"):
        cem.gap_analysis_from_journeys(j, remembered=np.zeros(3))


def test_moments_of_truth_gold_card_pattern():
    # seed 000: for gold customers staff attitude (counter) is a positive peak, waiting a
    # larger negative one; ordinary customers have no strong moments at all
    rng = np.random.default_rng(4)
    n = 1000
    seg = (np.arange(n) % 2).astype(int)  # 1 = gold
    a = rng.normal(0, 0.3, (n, 4))
    a[seg == 1, 1] = -6.0 + rng.normal(0, 0.5, (seg == 1).sum())
    a[seg == 1, 2] = 4.0 + rng.normal(0, 0.5, (seg == 1).sum())
    mot = cem.moments_of_truth(make_record(a, segment=seg))
    gold = mot.classification("gold")
    assert gold == {"entrance": "neutral", "waiting": "negative", "counter": "positive",
                    "farewell": "neutral"}
    assert set(mot.classification("ordinary").values()) == {"neutral"}
    gi = mot.segments.index("gold")
    assert mot.negative_peak_share[gi, 1] == pytest.approx(1.0)
    assert mot.positive_peak_share[gi, 2] == pytest.approx(1.0)
    assert mot.peak_share[gi, 1] == pytest.approx(1.0)  # the waiting peak dominates
    assert mot.mean_affect[gi, 1] == pytest.approx(-6.0, abs=0.1)
    assert np.allclose(mot.reach, 1.0)
    import pandas as pd
    frame = mot.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3 * 4


def test_moments_of_truth_tie_goes_to_the_negative_peak_and_empty_journeys():
    # customer 0: +3 then -3 (peak is the -3); customer 1: no episode at all
    j = make_record([3.0, -3.0], offsets=np.array([0, 2, 2]), touchpoints=np.array([0, 1]))
    mot = cem.moments_of_truth(j, intensity=2.0, min_share=0.5)
    assert mot.peak_share[0].tolist() == [0.0, 1.0, 0.0, 0.0]
    # the best moment (+3) is at the entrance, the worst (-3) while waiting
    assert mot.classification("ordinary") == {"entrance": "positive", "waiting": "negative",
                                              "counter": "neutral", "farewell": "neutral"}
    assert np.isnan(mot.mean_affect[0, 2])
    with pytest.raises(ValueError, match="segment"):
        mot.classification("vip")


@pytest.mark.parametrize(("kw", "word"), [({"intensity": 0.0}, "intensity"),
                                          ({"min_share": 0.0}, "min_share"),
                                          ({"min_share": 1.5}, "min_share")])
def test_moments_of_truth_bad_thresholds(kw, word):
    j = make_record([[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match=word):
        cem.moments_of_truth(j, **kw)


def test_importance_needs_remembered_values():
    j = make_record([[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match="remembered"):
        cem.importance_from_journeys(j)
    with pytest.raises(ValueError, match="remembered"):
        cem.importance_from_journeys(j, remembered=[1.0, 2.0])


def test_importance_of_a_constant_affect_touchpoint():
    # abandonment: affect -10 for everyone who reaches it, absent for the rest; its
    # effect on memory (-5) is reported per affect point: 0.5
    rng = np.random.default_rng(8)
    n = 800
    a = rng.normal(0, 2, (n, 4))
    gone = rng.random(n) < 0.3
    a[:, 3] = -10.0
    y = 1.5 * a[:, 0] + np.where(gone, -5.0, 0.0)
    keep = np.ones((n, 4), bool)
    keep[~gone, 3] = False
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    tps = np.tile(np.arange(4), (n, 1))[keep]
    fit = cem.importance_from_journeys(make_record(a[keep], offsets=offsets, touchpoints=tps,
                                                   remembered=y))
    assert fit.coefficients[3] == pytest.approx(0.5)
    assert fit.coefficients[0] == pytest.approx(1.5)
    assert np.isnan(fit.missing_effects[3])


def test_net_share_for_plotting():
    rng = np.random.default_rng(4)
    a = rng.normal(0, 3, (200, 4))
    mot = cem.moments_of_truth(make_record(a, segment=np.arange(200) % 2))
    net = mot.net_share()
    assert net.shape == (4, 2)
    assert np.allclose(net[:, 1], mot.positive_peak_share[1] - mot.negative_peak_share[1])
    assert mot.net_share(include_all=True).shape == (4, 3)
    assert np.all(np.abs(net) <= 1)


@pytest.mark.filterwarnings("ignore:.*overloaded")
def test_gold_card_paradox_waiting_is_a_negative_moment_of_truth():
    # seed 000: gold customers wait less than ordinary ones, but waiting is their
    # negative moment of truth because they expect little or no wait
    import peakend as pe

    s = pe.load_scenario("gold_card_paradox")
    j = Journeys.concat([pe.simulate(s, k) for k in range(3)])
    mot = cem.moments_of_truth(j)
    assert mot.classification("gold")["waiting"] == "negative"
    g, o = j.segments.index("gold"), j.segments.index("ordinary")
    w = j.touchpoints.index("waiting")
    assert mot.negative_peak_share[g, w] > mot.negative_peak_share[o, w]
    gold_wait = j.customers["wait"][j.customers["segment"] == g].mean()
    ordinary_wait = j.customers["wait"][j.customers["segment"] == o].mean()
    assert gold_wait < ordinary_wait


# ------------------------------------------------------------------ against plain loops

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def ragged(draw):
    n = draw(st.integers(1, 12))
    lengths = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    m = sum(lengths)
    # affects on a coarse grid so that ties happen
    affect = draw(st.lists(st.integers(-8, 8), min_size=m, max_size=m))
    tps = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
    seg = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return (np.array(affect, float) / 2, np.array(tps, np.int64), np.array(seg), offsets)


def loop_moments(a, tp, seg, offsets, intensity):
    pos = np.zeros((3, 4))
    neg = np.zeros((3, 4))
    peak = np.zeros((3, 4))
    n_c = np.zeros(3)
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        if hi == lo:
            continue
        rows = [seg[i], 2]
        for r in rows:
            n_c[r] += 1
        ai = a[lo:hi]
        b = lo + max(range(hi - lo), key=lambda k: (ai[k], k))  # last of the highest
        w = lo + max(range(hi - lo), key=lambda k: (-ai[k], k))  # last of the lowest
        p = lo + max(range(hi - lo), key=lambda k: (abs(ai[k]), ai[k] < 0, k))
        for r in rows:
            if a[b] >= intensity:
                pos[r, tp[b]] += 1
            if a[w] <= -intensity:
                neg[r, tp[w]] += 1
            if abs(a[p]) >= intensity:
                peak[r, tp[p]] += 1
    with np.errstate(invalid="ignore"):
        return pos / n_c[:, None], neg / n_c[:, None], peak / n_c[:, None]


@given(ragged(), st.sampled_from([0.5, 2.0, 3.5]))
def test_moments_of_truth_matches_a_plain_loop(data, intensity):
    a, tp, seg, offsets = data
    j = make_record(a, segment=seg, offsets=offsets, touchpoints=tp)
    mot = cem.moments_of_truth(j, intensity=intensity)
    pos, neg, peak = loop_moments(a, tp, seg, offsets, intensity)
    assert np.allclose(mot.positive_peak_share, np.nan_to_num(pos))
    assert np.allclose(mot.negative_peak_share, np.nan_to_num(neg))
    assert np.allclose(mot.peak_share, np.nan_to_num(peak))
    # every customer has at most one best / worst / peak moment
    assert np.all(mot.positive_peak_share.sum(axis=1) <= 1 + 1e-12)
    assert np.all(mot.negative_peak_share.sum(axis=1) <= 1 + 1e-12)


@given(ragged())
def test_touchpoint_matrix_matches_a_plain_loop(data):
    a, tp, seg, offsets = data
    j = make_record(a, segment=seg, offsets=offsets, touchpoints=tp)
    values, present = cem.touchpoint_matrix(j)
    n = len(offsets) - 1
    for i in range(n):
        for t in range(4):
            sel = [k for k in range(offsets[i], offsets[i + 1]) if tp[k] == t]
            assert present[i, t] == bool(sel)
            assert values[i, t] == pytest.approx(np.mean(a[sel]) if sel else 0.0)


def test_moments_of_truth_table_and_map_leave_out_touchpoints_nobody_met():
    import matplotlib

    matplotlib.use("Agg")
    from peakend import plots

    # nobody met touchpoint 2 (the counter): 4 touchpoints, three met
    j = make_record([3.0, -3.0, 1.0, 2.0], offsets=np.array([0, 2, 4]),
                    touchpoints=np.array([0, 1, 3, 1]))
    mot = cem.moments_of_truth(j, intensity=2.0, min_share=0.5)
    assert mot.touchpoints[2] == "counter" and mot.reach[-1, 2] == 0
    frame = mot.to_pandas()
    assert "counter" not in set(frame["touchpoint"]) and len(frame) == 3 * 3  # 2 segments + all
    assert len(mot.to_pandas(unmet=True)) == 3 * 4
    ax = plots.moments_of_truth(mot)
    labels = [t.get_text() for t in ax.get_yticklabels()] + [
        t.get_text() for t in ax.get_xticklabels()]
    assert "counter" not in labels and "waiting" in labels
