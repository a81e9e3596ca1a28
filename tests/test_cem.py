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
    pd = pytest.importorskip("pandas")
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
