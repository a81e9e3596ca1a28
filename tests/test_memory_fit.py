"""Fitting memory rules to ratings: features, least squares, bootstrap coverage, CV comparison.

Ratings are generated in the tests from features computed here (reshaped fixed-length
journeys, or the plain-loop reference), never from the library's own feature code, so a
wrong feature or a wrong fit cannot make its own data agree with it.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reference_memory import reference_score

import peakend as pe
from peakend.memory import (
    FEATURE_NAMES,
    LinearRule,
    MemoryFit,
    compare_rules,
    fit,
    journey_features,
)

HAS_NUMBA = importlib.util.find_spec("numba") is not None
ENGINES = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")),
]


def fixed_length(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Journeys of equal length: affect uniform on -8..8 and the offsets."""
    return rng.uniform(-8, 8, n * length), np.arange(0, n * length + 1, length)


def features_by_reshape(affect: np.ndarray, length: int) -> dict[str, np.ndarray]:
    """peak, end, mean of fixed-length journeys from the definitions (one row a journey)."""
    a = affect.reshape(-1, length)
    hi, lo = a.max(axis=1), a.min(axis=1)
    peak = np.where(-lo >= hi, lo, hi)  # a tie +x/-x goes to -x
    return {"peak": peak, "end": a[:, -1], "mean": a.mean(axis=1)}


def loop_features(
    affect: np.ndarray, offsets: np.ndarray, durations: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Every feature one journey at a time: the plain-loop reference and Python builtins."""
    out = {
        name: reference_score(affect, offsets, durations, rule)
        for name, rule in (("peak", "peak"), ("mean", "time_weighted_mean"),
                           ("integral", "integral"))
    }  # fmt: skip
    segments = [affect[offsets[i] : offsets[i + 1]].tolist() for i in range(offsets.size - 1)]
    out["end"] = np.array([a[-1] for a in segments])
    out["first"] = np.array([a[0] for a in segments])
    out["trough"] = np.array([min(a) for a in segments])
    out["best"] = np.array([max(a) for a in segments])
    # the trend rule with horizon 1 is end + slope
    out["trend"] = reference_score(affect, offsets, durations, "trend") - out["end"]
    if durations is None:
        out["duration"] = np.diff(offsets).astype(float)
    else:
        out["duration"] = np.array(
            [math.fsum(durations[offsets[i] : offsets[i + 1]]) for i in range(offsets.size - 1)]
        )
    return out


def ragged(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = rng.integers(1, 14, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return rng.uniform(-9, 9, offsets[-1]), offsets, rng.uniform(0.5, 6.0, offsets[-1])


# -- features -------------------------------------------------------------------------


@pytest.mark.parametrize("with_durations", [False, True])
def test_features_match_the_definitions(with_durations: bool) -> None:
    rng = np.random.default_rng(11)
    affect, offsets, durations = ragged(400, rng)
    d = durations if with_durations else None
    got = journey_features(affect, offsets, durations=d)
    assert list(got.columns) == list(FEATURE_NAMES)
    want = loop_features(affect, offsets, d)
    for name in FEATURE_NAMES:
        np.testing.assert_allclose(got[name].to_numpy(), want[name], rtol=1e-9, atol=1e-9)


def test_features_of_an_empty_journey_are_nan() -> None:
    got = journey_features(np.array([1.0, -3.0, 2.0]), np.array([0, 2, 2, 3]))
    assert got.iloc[1].isna().all() and got.iloc[[0, 2]].notna().all().all()
    assert got["first"].tolist()[::2] == [1.0, 2.0]


# -- least squares and the fitted rule ---------------------------------------------------


def test_estimates_are_the_least_squares_solution() -> None:
    rng = np.random.default_rng(2)
    affect, offsets, durations = ragged(300, rng)
    feats = loop_features(affect, offsets, durations)
    y = 3.0 + 0.4 * feats["peak"] - 0.2 * feats["duration"] + rng.normal(0, 1, 300)
    result = fit(affect, offsets, y, durations=durations, features=("peak", "duration", "best"),
                 n_boot=0)  # fmt: skip
    design = np.column_stack([np.ones(300), feats["peak"], feats["duration"], feats["best"]])
    want, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert list(result.coef.index) == ["intercept", "peak", "duration", "best"]
    np.testing.assert_allclose(result.coef.to_numpy(), want, rtol=1e-9, atol=1e-12)
    resid = y - design @ want
    r2 = 1 - resid @ resid / ((y - y.mean()) ** 2).sum()
    assert result.r2["all"] == pytest.approx(r2, rel=1e-12)
    assert result.ci.isna().all().all()  # n_boot=0: no intervals
    no_intercept = fit(affect, offsets, y, durations=durations, features=("peak", "duration"),
                       n_boot=0, intercept=False)  # fmt: skip
    want0, *_ = np.linalg.lstsq(design[:, 1:3], y, rcond=None)
    assert list(no_intercept.coef.index) == ["peak", "duration"]
    np.testing.assert_allclose(no_intercept.coef.to_numpy(), want0, rtol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_fitted_rule_scores_new_journeys_with_the_fitted_weights(engine: str) -> None:
    rng = np.random.default_rng(3)
    affect, offsets = fixed_length(300, 6, rng)
    f = features_by_reshape(affect, 6)
    y = 1.0 + 0.6 * f["peak"] + 0.3 * f["end"] + 0.5 * f["mean"] + rng.normal(0, 1, 300)
    result = fit(affect, offsets, y, n_boot=0, engine=engine)
    rule = result.rule
    assert isinstance(rule, LinearRule) and rule.features == ("peak", "end", "mean")
    # new journeys, more than the compiled engine's threshold under "auto"
    new_a, new_o = fixed_length(12_000, 6, rng)
    g = features_by_reshape(new_a, 6)
    c = result.coef
    want = c["intercept"] + c["peak"] * g["peak"] + c["end"] * g["end"] + c["mean"] * g["mean"]
    for e in (engine, "auto"):
        np.testing.assert_allclose(rule(new_a, new_o, engine=e), want, rtol=1e-12, atol=1e-12)
    both = pe.score_many(new_a, new_o, ["peak_end", rule], engine=engine)
    np.testing.assert_allclose(both[rule.label], want, rtol=1e-12, atol=1e-12)


def test_linear_rule_by_hand_and_its_checks() -> None:
    rule = LinearRule(features=("peak", "end"), weights=(0.5, 0.5))
    a = np.array([-2.0, -8.0, -7.0, -2.0, -8.0, -5.0, -3.0, -1.0])
    assert rule(a, np.array([0, 3, 8])).tolist() == [-7.5, -4.5]  # Redelmeier & Kahneman
    with pytest.raises(ValueError, match=r"weights must have one entry per feature \(2 features\)"):
        LinearRule(features=("peak", "end"), weights=(1.0,))
    with pytest.raises(ValueError, match=r"unknown feature 'peek' \(did you mean 'peak'\?\)"):
        LinearRule(features=("peek",), weights=(1.0,))
    with pytest.raises(ValueError, match=r"weights must be finite"):
        LinearRule(features=("peak",), weights=(math.nan,))
    with pytest.raises(ValueError, match=r"intercept must be a finite number"):
        LinearRule(features=("peak",), weights=(1.0,), intercept=math.inf)


# -- bootstrap intervals ---------------------------------------------------------------------

TRUE = {"intercept": 1.0, "peak": 0.6, "end": 0.3, "mean": 0.5}


def test_intervals_cover_the_true_weights_at_the_nominal_rate() -> None:
    """Over 250 independent data sets the 95 % intervals cover each true weight at 95 %.

    The band is the binomial 99.9 % range around 0.95 for 250 draws (+-0.045); a
    value shifted by the typical interval width is covered far less often, so the
    test tells a working interval from one that is too wide or off centre.
    """
    rng = np.random.default_rng(2026)
    n_draws, n, length = 250, 150, 6
    covered = {k: 0 for k in TRUE}
    shifted = {k: 0 for k in TRUE}
    estimates = {k: [] for k in TRUE}
    for draw in range(n_draws):
        affect, offsets = fixed_length(n, length, rng)
        f = features_by_reshape(affect, length)
        y = TRUE["intercept"] + sum(TRUE[k] * f[k] for k in ("peak", "end", "mean"))
        y = y + rng.normal(0, 1.5, n)
        result = fit(affect, offsets, y, n_boot=400, seed=draw)
        for k, true in TRUE.items():
            low, high = result.ci.loc[k, "low"], result.ci.loc[k, "high"]
            covered[k] += low <= true <= high
            shifted[k] += low <= true + (high - low) <= high
            estimates[k].append(result.coef[k])
    half = 3.29 * math.sqrt(0.95 * 0.05 / n_draws)
    for k in TRUE:
        rate = covered[k] / n_draws
        assert abs(rate - 0.95) <= half, f"{k}: coverage {rate:.3f}"
        assert shifted[k] / n_draws < 0.5, f"{k}: a shifted value is covered too often"
        est = np.array(estimates[k])  # unbiased: the mean estimate within 4 SE of the truth
        assert abs(est.mean() - TRUE[k]) <= 4 * est.std(ddof=1) / math.sqrt(n_draws)


def test_bootstrap_is_reproducible_from_its_seed() -> None:
    rng = np.random.default_rng(5)
    affect, offsets = fixed_length(120, 5, rng)
    y = features_by_reshape(affect, 5)["end"] + rng.normal(0, 1, 120)
    one = fit(affect, offsets, y, n_boot=200, seed=7)
    pd.testing.assert_frame_equal(one.ci, fit(affect, offsets, y, n_boot=200, seed=7).ci)
    other = fit(affect, offsets, y, n_boot=200, seed=8)
    assert not np.allclose(one.ci.to_numpy(), other.ci.to_numpy())
    pd.testing.assert_series_equal(one.coef, other.coef)  # the estimate has no randomness
    assert (one.ci["low"] < one.coef).all() and (one.coef < one.ci["high"]).all()
    wider = fit(affect, offsets, y, n_boot=200, seed=7, level=0.99).ci
    assert ((wider["high"] - wider["low"]) > (one.ci["high"] - one.ci["low"])).all()


def test_table_and_standardized_weights() -> None:
    rng = np.random.default_rng(6)
    affect, offsets = fixed_length(200, 6, rng)
    f = features_by_reshape(affect, 6)
    y = 2.0 + 0.8 * f["peak"] + 0.2 * f["end"] + rng.normal(0, 1, 200)
    raw = fit(affect, offsets, y, features=("peak", "end"), n_boot=200)
    std = fit(affect, offsets, y, features=("peak", "end"), n_boot=200, standardize=True)
    for k in ("peak", "end"):  # beta weight = b * sd(x) / sd(y)
        assert std.coef[k] == pytest.approx(raw.coef[k] * f[k].std() / y.std(), rel=1e-10)
    assert std.coef["intercept"] == 0.0
    np.testing.assert_allclose(std.rule(affect, offsets), raw.rule(affect, offsets))
    table = raw.table()
    assert list(table.columns) == ["estimate", "low", "high", "r2", "n_journeys"]
    assert list(table.index) == ["intercept", "peak", "end"]
    assert (table["n_journeys"] == 200).all()
    assert raw.summary().equals(table)
    assert isinstance(raw, MemoryFit)


def test_per_group_fits_recover_each_groups_weights() -> None:
    rng = np.random.default_rng(9)
    affect, offsets = fixed_length(600, 6, rng)
    f = features_by_reshape(affect, 6)
    group = np.where(np.arange(600) % 3 == 0, "vip", "ordinary")
    w_peak = np.where(group == "vip", 0.9, 0.2)
    y = 1.0 + w_peak * f["peak"] + 0.4 * f["end"] + rng.normal(0, 0.8, 600)
    result = fit(affect, offsets, y, features=("peak", "end"), groups=group, n_boot=300)
    assert result.coef.index.names == ["group", "term"]
    assert set(result.rules) == {"ordinary", "vip"}
    for g, true in (("vip", 0.9), ("ordinary", 0.2)):
        low, high = result.ci.loc[(g, "peak"), "low"], result.ci.loc[(g, "peak"), "high"]
        assert low <= true <= high
    # the two groups' peak weights are told apart: their intervals do not overlap
    assert result.ci.loc[("ordinary", "peak"), "high"] < result.ci.loc[("vip", "peak"), "low"]
    assert result.n_journeys.to_dict() == {"ordinary": 400, "vip": 200}
    with pytest.raises(ValueError, match=r"one rule per group; use .rules\[group\]"):
        _ = result.rule
    alone = fit(affect[: 6 * 600], offsets, y, features=("peak", "end"), n_boot=0)
    assert not alone.grouped and alone.rule.features == ("peak", "end")


# -- compare_rules -----------------------------------------------------------------------


def generating_scores(affect: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    f = loop_features(affect, offsets, None)
    return {
        "peak_end": (f["peak"] + f["end"]) / 2,
        "mean": f["mean"],
        "end": f["end"],
        "integral": f["integral"],
    }


@pytest.mark.parametrize("truth", ["peak_end", "mean", "end", "integral"])
def test_the_generating_rule_wins_the_comparison(truth: str) -> None:
    rng = np.random.default_rng({"peak_end": 1, "mean": 2, "end": 3, "integral": 4}[truth])
    affect, offsets, _ = ragged(400, rng)
    s = generating_scores(affect, offsets)[truth]
    y = 5.0 + 1.5 * s / s.std() + rng.normal(0, 0.8, s.size)  # r about 0.88
    fixed = ["peak_end", "mean", "end", "integral", "trend"]
    table = compare_rules(affect, offsets, y, rules=fixed, folds=5, seed=1)
    assert table.index[0] == truth, table
    assert list(table.columns) == ["r2_cv", "r_cv", "rmse_cv", "r", "n_params"]
    assert table["r2_cv"].is_monotonic_decreasing
    assert table.loc[truth, "r"] == pytest.approx(np.corrcoef(s, y)[0, 1], rel=1e-12)
    # with the fitted weighted rule: it nests peak_end and end, so either it or the truth wins
    full = compare_rules(affect, offsets, y, folds=5, seed=1)
    assert set(full.index) == {"peak_end", "mean", "end", "integral", "trend", "fitted"}
    assert truth in full.index[:2]
    assert full.loc["fitted", "n_params"] == 4 and full.loc[truth, "n_params"] == 2


def test_compare_rules_out_of_fold_r2_is_honest() -> None:
    """Ratings unrelated to the journeys: out-of-fold R^2 is about 0 or below, never high."""
    rng = np.random.default_rng(12)
    affect, offsets, _ = ragged(300, rng)
    y = rng.normal(0, 1, 300)
    table = compare_rules(affect, offsets, y, seed=3)
    assert (table["r2_cv"] < 0.05).all()
    same = compare_rules(affect, offsets, y, seed=3)
    pd.testing.assert_frame_equal(table, same)  # same seed, same folds


# -- bad input ------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
A, OFF = fixed_length(40, 5, RNG)
Y = features_by_reshape(A, 5)["end"] + RNG.normal(0, 1, 40)

FIT_CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("ratings-too-short", {"ratings": Y[:-1]}, ValueError,
     r"^ratings must have one entry per journey \(len\(offsets\) - 1 = 40\), got length 39$"),
    ("ratings-nan", {"ratings": np.where(np.arange(40) == 7, np.nan, Y)}, ValueError,
     r"^ratings must be finite, got ratings\[7\] = nan \(1 not finite\)"),
    ("ratings-2d", {"ratings": Y[:, None]}, ValueError,
     r"^ratings must be a 1-D array of numbers, one per journey, got shape \(40, 1\)$"),
    ("ratings-strings", {"ratings": Y.astype(str)}, ValueError,
     r"^ratings must be a 1-D array of numbers, one per journey, got dtype <U"),
    ("empty-journey",
     {"affect": A[:-10], "offsets": np.append(OFF[:-2], OFF[-3]), "ratings": Y[:39]},
     ValueError, r"^journey 38 is empty \(offsets\[38\] == offsets\[39\] == 190\)"),
    ("affect-nan", {"affect": np.where(np.arange(200) == 3, np.nan, A)}, ValueError,
     r"^affect must be finite \(no NaN or inf\), got affect\[3\] = nan$"),
    ("offsets-end", {"offsets": OFF[:-1]}, ValueError,
     r"^offsets must end at len\(affect\) = 200, got offsets\[-1\] = 195$"),
    ("too-few-journeys", {"affect": A[:20], "offsets": OFF[:5], "ratings": Y[:4]}, ValueError,
     r"^too few journeys: fitting 3 feature\(s\) and an intercept needs at least 5 rated "
     r"journeys, got 4$"),
    ("unknown-feature", {"features": ("peak", "ending")}, ValueError,
     r"^features: unknown feature 'ending' \(did you mean 'end'\?\); valid features: peak, "),
    ("repeated-feature", {"features": ("peak", "peak")}, ValueError,
     r"^features: feature 'peak' is given twice$"),
    ("no-features", {"features": ()}, ValueError, r"^features must name at least one of peak"),
    ("constant-feature", {"features": ("peak", "duration")}, ValueError,
     r"^feature 'duration' is constant \(= 5 on every journey\)"),
    ("collinear-features",
     {"affect": A[:40], "offsets": np.arange(41), "features": ("peak", "end")}, ValueError,
     r"^features 'peak', 'end' are collinear \(one is a linear combination"),
    ("n-boot-small", {"n_boot": 50}, ValueError,
     r"^n_boot must be an integer, 0 \(no intervals\) or >= 100, got 50$"),
    ("n-boot-float", {"n_boot": 500.0}, ValueError, r"^n_boot must be an integer"),
    ("n-boot-bool", {"n_boot": True}, ValueError, r"^n_boot must be an integer"),
    ("level-1", {"level": 1.0}, ValueError, r"^level must be a number in \(0, 1\), got 1\.0$"),
    ("seed-negative", {"seed": -1}, ValueError, r"^seed must be an integer >= 0, got -1$"),
    ("groups-length", {"groups": ["a"] * 39}, ValueError,
     r"^groups must have one label per journey \(len\(offsets\) - 1 = 40\), got length 39$"),
    ("groups-missing", {"groups": np.array(["a"] * 39 + [None], dtype=object)}, ValueError,
     r"^groups must not be missing \(NaN/None\), got groups\[39\] = None$"),
    ("group-too-small", {"groups": ["a"] * 37 + ["b"] * 3}, ValueError,
     r"^too few journeys in group 'b': fitting 3 feature\(s\)"),
    ("intercept-not-bool", {"intercept": 1}, ValueError, r"^intercept must be True or False"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "match"), [pytest.param(*c[1:], id=c[0]) for c in FIT_CASES]
)
def test_fit_refuses_bad_input_clearly(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args = {"affect": A, "offsets": OFF, "ratings": Y, **kwargs}
    with pytest.raises(error, match=match):
        fit(args.pop("affect"), args.pop("offsets"), args.pop("ratings"), **args)


COMPARE_CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("folds-1", {"folds": 1}, ValueError, r"^folds must be an integer >= 2, got 1$"),
    ("folds-more-than-journeys", {"folds": 41}, ValueError,
     r"^folds = 41 is too many for 40 journeys: every fold needs a journey and every training "
     r"set at least 5"),
    ("training-set-too-small", {"folds": 2, "ratings": Y[:8], "affect": A[:40],
                                "offsets": OFF[:9]}, ValueError,
     r"^folds = 2 is too many for 8 journeys: every fold needs a journey and every training "
     r"set at least 5"),
    ("unknown-rule", {"rules": ["peak_end", "fited"]}, ValueError,
     r"^rules: unknown rule 'fited' \(did you mean 'fitted'\?\)"),
    ("rule-twice", {"rules": ["mean", "mean"]}, ValueError, r"^rules: 'mean' is given twice$"),
    ("no-rules", {"rules": []}, ValueError, r"^rules must name at least one candidate rule$"),
    ("constant-rule", {"rules": [LinearRule(features=("peak",), weights=(0.0,), intercept=2.0)]},
     ValueError, r"gives the same score \(= 2\) to every journey"),
    ("ratings-nan", {"ratings": np.full(40, np.nan)}, ValueError, r"^ratings must be finite"),
    ("fitted-features", {"fitted_features": ("peak", "tail")}, ValueError,
     r"^fitted_features: unknown feature 'tail'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "match"), [pytest.param(*c[1:], id=c[0]) for c in COMPARE_CASES]
)
def test_compare_rules_refuses_bad_input_clearly(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args = {"affect": A, "offsets": OFF, "ratings": Y, **kwargs}
    with pytest.raises(error, match=match):
        compare_rules(args.pop("affect"), args.pop("offsets"), args.pop("ratings"), **args)


def test_fit_is_in_the_public_api() -> None:
    assert pe.memory.fit is fit and pe.memory.compare_rules is compare_rules


def test_docstring_examples_run() -> None:
    import doctest

    from peakend.memory import _fit, _scoring

    for module in (pe.memory, _scoring, _fit):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_how_to_page_example_runs_and_recovers_the_weights() -> None:
    import pathlib
    import re

    page = pathlib.Path(__file__).resolve().parents[1] / "docs/how-to/fit-memory-rules.md"
    block = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "how-to/fit-memory-rules.md", "exec"), namespace)
    result = namespace["result"]
    for term, true in (("intercept", 5.0), ("peak", 0.4), ("end", 0.3), ("mean", 0.2)):
        assert result.ci.loc[term, "low"] <= true <= result.ci.loc[term, "high"], term
    table = compare_rules(namespace["affect"], namespace["offsets"], namespace["ratings"],
                          durations=namespace["durations"], folds=5, seed=1)  # fmt: skip
    assert table.index[0] == "fitted"  # the data were made by a weighted rule of these features
