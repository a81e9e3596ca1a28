"""Unit tests of peakend.memory: conventions, rule objects, validation, memory use."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import pathlib
import re
import sys
import tracemalloc
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest

import peakend as pe
from peakend.memory import RULE_NAMES, RULES, MemoryRule, get_rule, score, score_many
from peakend.memory import _scoring as memory  # the module whose globals tests patch

HAS_NUMBA = importlib.util.find_spec("numba") is not None


def test_ci_runs_the_compiled_engine_tests():
    """The numba tests skip only where numba is missing; CI installs it (the test extra)."""
    if os.environ.get("CI"):
        assert HAS_NUMBA, 'CI must install ".[test]", which includes numba'
#: both engines; numba is in the test extra, so CI always runs its cases
ENGINES = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")),
]
engines = pytest.mark.parametrize("engine", ENGINES)


def with_engine(engine: str) -> tuple[Callable[..., np.ndarray], Callable[..., dict]]:
    """``score`` and ``score_many`` bound to one engine."""
    return partial(memory.score, engine=engine), partial(memory.score_many, engine=engine)

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "reference" / "memory-rules.md"


def documented_rule_names() -> list[str]:
    """Rule names in the order of the table under "## The rules" in the reference page."""
    text = DOCS.read_text(encoding="utf-8").split("## The rules", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)`", text, flags=re.MULTILINE)


def test_rule_names_are_the_documented_ones_in_order() -> None:
    assert list(RULE_NAMES) == documented_rule_names()
    assert tuple(RULES) == RULE_NAMES
    for name, cls in RULES.items():
        assert cls.name == name
        assert get_rule(name).label == name
    from reference_memory import DEFAULTS  # the tests' independent reference

    assert set(DEFAULTS) == set(RULE_NAMES)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_compiled_engine_codes_derive_from_the_rule_names() -> None:
    from peakend import _kernels

    assert list(_kernels.RULE_CODES) == list(RULE_NAMES)
    assert sorted(_kernels.RULE_CODES.values()) == list(range(len(RULE_NAMES)))


def test_public_api_names() -> None:
    assert pe.score is score
    assert pe.score_many is score_many
    assert pe.get_rule is get_rule


# -- conventions ---------------------------------------------------------------------------


@engines
def test_empty_journeys_score_nan_not_a_neighbours_value(engine: str) -> None:
    score = with_engine(engine)[0]
    # reduceat would return the next row's first value (9.0) for the empty rows
    affect = np.array([-2.0, -4.0, 9.0, 5.0, 1.0])
    offsets = np.array([0, 0, 2, 2, 5, 5])
    for rule in RULES:
        got = score(affect, offsets, rule=rule)
        assert np.isnan(got[[0, 2, 4]]).all(), rule
        assert np.isfinite(got[[1, 3]]).all(), rule
    np.testing.assert_array_equal(score(affect, offsets, rule="peak")[[1, 3]], [-4.0, 9.0])
    np.testing.assert_array_equal(score(affect, offsets, rule="end")[[1, 3]], [-4.0, 1.0])


@engines
def test_all_empty_and_no_journeys(engine: str) -> None:
    score, score_many = with_engine(engine)
    assert score(np.array([]), np.array([0])).shape == (0,)
    got = score_many(np.array([], dtype=np.float32), np.array([0, 0, 0]), list(RULES))
    assert all(v.shape == (2,) and np.isnan(v).all() for v in got.values())


@engines
def test_length_one_journeys_score_their_value(engine: str) -> None:
    score = with_engine(engine)[0]
    affect = np.array([3.5, -7.25, 0.0])
    offsets = np.arange(4)
    d = np.array([2.0, 0.5, 4.0])
    for rule in RULES:
        if rule == "integral":
            continue
        np.testing.assert_allclose(score(affect, offsets, rule=rule), affect, err_msg=rule)
        np.testing.assert_allclose(
            score(affect, offsets, durations=d, rule=rule), affect, err_msg=rule
        )
    np.testing.assert_allclose(score(affect, offsets, durations=d, rule="integral"), affect * d)


@engines
def test_peak_tie_goes_to_the_negative(engine: str) -> None:
    score = with_engine(engine)[0]
    affect = np.array([8.0, -8.0, 2.0, -3.0, 3.0, 0.0, 5.0, -4.9, 0.0, 0.0])
    offsets = np.array([0, 3, 6, 8, 10])
    np.testing.assert_array_equal(score(affect, offsets, rule="peak"), [-8.0, -3.0, 5.0, 0.0])
    np.testing.assert_allclose(score(affect, offsets), [-3.0, -1.5, 0.05, 0.0], atol=1e-15)


@engines
def test_float32_and_float64_agree(engine: str) -> None:
    score = with_engine(engine)[0]
    rng = np.random.default_rng(1)
    offsets = np.concatenate([[0], np.cumsum(rng.geometric(0.2, 300) - 1)])
    a32 = rng.uniform(-10, 10, offsets[-1]).astype(np.float32)
    d = rng.uniform(0.5, 3, offsets[-1])
    for rule in RULES:
        for dd in (None, d):
            r32 = score(a32, offsets, durations=dd, rule=rule)
            r64 = score(a32.astype(np.float64), offsets, durations=dd, rule=rule)
            assert r32.dtype == np.float64
            np.testing.assert_allclose(r32, r64, rtol=1e-12, atol=1e-12, err_msg=rule)


@engines
def test_integer_affect_and_offsets_of_any_integer_type(engine: str) -> None:
    score = with_engine(engine)[0]
    got = score(np.array([-2, -8, -7]), np.array([0, 3], dtype=np.int32))
    np.testing.assert_array_equal(got, [-7.5])
    got = score([-2, -8, -7], np.array([0, 3], dtype=np.uint16))
    np.testing.assert_array_equal(got, [-7.5])


def test_end_window_hand_computed() -> None:
    # episodes of 2, 1, 4 minutes with affects 6, -2, 1: the final 5 minutes hold
    # 4 minutes of 1, 1 minute of -2, 0 of 6  ->  (4 - 2) / 5 = 0.4
    a = np.array([6.0, -2.0, 1.0])
    d = np.array([2.0, 1.0, 4.0])
    np.testing.assert_allclose(score(a, [0, 3], durations=d, rule="end", end_window=5), [0.4])
    # a window of 5.5 minutes takes half a minute of the 6: (4 - 2 + 3) / 5.5
    np.testing.assert_allclose(score(a, [0, 3], durations=d, rule="end", end_window=5.5), [5 / 5.5])
    # window longer than the journey: the time-weighted mean (12 - 2 + 4) / 7
    np.testing.assert_allclose(score(a, [0, 3], durations=d, rule="end", end_window=60), [2.0])
    # without durations each episode is one minute: last two episodes
    np.testing.assert_allclose(score(a, [0, 3], end_window=2), [(6 + (-2 + 1) / 2) / 2])


def test_trend_hand_computed() -> None:
    # improving and declining sequences with the same end: the improving one is remembered better
    up = [-6.0, -4.0, -2.0, 0.0]
    down = [6.0, 4.0, 2.0, 0.0]
    got = score(np.array(up + down), [0, 4, 8], rule="trend")
    # later half: last two episodes, slope +2 and -2 per minute, horizon 1 minute
    np.testing.assert_allclose(got, [2.0, -2.0])
    got = score(np.array(up + down), [0, 4, 8], rule="trend", part=1.0, horizon=0.5)
    np.testing.assert_allclose(got, [1.0, -1.0])
    # slope in affect per minute: 2-minute episodes halve it
    got = score(np.array(up), [0, 4], durations=np.full(4, 2.0), rule="trend")
    np.testing.assert_allclose(got, [1.0])


def test_recency_hand_computed() -> None:
    a = np.array([10.0, 0.0])
    lam = math.log(2)  # half-life of one minute
    # weights: episode 1 covers [T-2, T-1]: e^{-lam}(1-e^{-lam}) = 1/4; episode 2: 1/2
    np.testing.assert_allclose(score(a, [0, 2], rule="recency", decay=lam), [10 * 0.25 / 0.75])


def test_weighted_and_best_worst_end() -> None:
    a = np.array([4.0, -6.0, 2.0, 1.0])
    got = score(a, [0, 4], rule="weighted_peak_end", w_peak=0.2, w_end=0.3, w_mean=0.5)
    np.testing.assert_allclose(got, [0.2 * -6 + 0.3 * 1 + 0.5 * 0.25])
    got = score(a, [0, 4], rule="best_worst_end", w_best=1, w_worst=2, w_end=0.5)
    np.testing.assert_allclose(got, [4 - 12 + 0.5])
    # no positive episode: best is 0 (neutral)
    got = score(np.array([-3.0, -1.0]), [0, 2], rule="best_worst_end", w_best=5.0)
    np.testing.assert_allclose(got, [0.5 * -3 + 0.5 * -1])


# -- rule objects --------------------------------------------------------------------------


def test_rules_are_frozen_hashable_and_labelled() -> None:
    r1 = get_rule("peak_end", end_window=3)
    r2 = get_rule("peak_end", end_window=3.0)
    assert r1 == r2 and hash(r1) == hash(r2)
    assert r1.label == "peak_end(end_window=3.0)"
    assert r1.name == "peak_end"
    assert len({r1, r2, get_rule("peak_end")}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        r1.end_window = 4.0  # type: ignore[attr-defined]
    assert isinstance(r1, MemoryRule)
    w = get_rule("weighted_peak_end", w_mean=0.2)
    assert w.label == "weighted_peak_end(w_mean=0.2)"
    assert get_rule(w) is w
    assert get_rule(w, w_mean=0.3).w_mean == 0.3  # type: ignore[attr-defined]


def test_rule_object_is_callable_and_accepted_by_score() -> None:
    rule = get_rule("end", end_window=2.0)
    a, off = np.array([1.0, 3.0, 5.0]), np.array([0, 3])
    np.testing.assert_array_equal(rule(a, off), score(a, off, rule=rule))
    np.testing.assert_array_equal(rule(a, off), [4.0])
    np.testing.assert_array_equal(score(a, off, rule=rule, end_window=1.0), [5.0])


def test_score_many_keys_and_deduplication() -> None:
    a, off = np.array([1.0, -3.0, 5.0]), np.array([0, 1, 3])
    out = score_many(a, off, ["mean", "peak_end", get_rule("peak_end"), "trend"])
    assert list(out) == ["mean", "peak_end", "trend"]
    np.testing.assert_array_equal(out["mean"], [1.0, 1.0])
    out = score_many(a, off, "peak")  # a single name is accepted too
    assert list(out) == ["peak"]


# -- validation ----------------------------------------------------------------------------

A = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("affect", "offsets", "match"),
    [
        (A, np.array([[0, 3]]), r"offsets must be a 1-D"),
        (A, np.array([0.0, 3.0]), r"offsets must be an integer array"),
        (A, np.array([], dtype=int), r"offsets must have at least one entry"),
        (A, np.array([1, 3]), r"offsets must start at 0"),
        (A, np.array([0, 2]), r"offsets must end at len\(affect\) = 3"),
        (A, np.array([0, 2, 1, 3]), r"offsets must be non-decreasing.*offsets\[2\]"),
        (A.reshape(3, 1), np.array([0, 3]), r"affect must be a 1-D"),
        (np.array(["a", "b"]), np.array([0, 2]), r"affect must be a real numeric"),
        (np.array([1.0, np.nan, 2.0]), np.array([0, 3]), r"affect must be finite.*affect\[1\]"),
        (np.array([1.0, 2.0, -np.inf]), np.array([0, 3]), r"affect must be finite.*affect\[2\]"),
    ],
)
@engines
def test_bad_inputs_name_the_argument(
    affect: np.ndarray, offsets: np.ndarray, match: str, engine: str
) -> None:
    score = with_engine(engine)[0]
    with pytest.raises(ValueError, match=match):
        score(affect, offsets)


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@engines
def test_non_finite_affect_is_caught_by_every_rule(rule: str, bad: float, engine: str) -> None:
    score = with_engine(engine)[0]
    a = np.array([1.0, 2.0, 3.0, 4.0])
    a[1] = bad
    with pytest.raises(ValueError, match=r"affect must be finite.*affect\[1\]"):
        score(a, np.array([0, 2, 4]), rule=rule)
    with pytest.raises(ValueError, match=r"affect must be finite"):
        score(a.astype(np.float32), np.array([0, 2, 4]), durations=np.ones(4), rule=rule)


@engines
def test_finite_but_huge_affect_is_not_rejected(engine: str) -> None:
    score = with_engine(engine)[0]
    # the sum overflows, the values do not: the shortcut check must fall back to an exact one
    a = np.array([1e308, 1e308])
    assert np.isfinite(score(a, [0, 2], rule="peak")).all()
    with np.errstate(over="ignore"):
        assert np.isinf(score(a, [0, 2], rule="mean")).all()


@pytest.mark.parametrize(
    ("durations", "match"),
    [
        (np.ones(2), r"durations must have one entry per episode \(len\(affect\) = 3\)"),
        (np.ones((3, 1)), r"durations must be a 1-D"),
        (np.array([1.0, 0.0, 1.0]), r"durations must be finite and > 0.*durations\[1\]"),
        (np.array([1.0, 1.0, -2.0]), r"durations must be finite and > 0.*durations\[2\]"),
        (np.array([np.nan, 1.0, 1.0]), r"durations must be finite and > 0.*durations\[0\]"),
        (np.array([1.0, np.inf, 1.0]), r"durations must be finite and > 0.*durations\[1\]"),
    ],
)
@engines
def test_bad_durations(durations: np.ndarray, match: str, engine: str) -> None:
    score = with_engine(engine)[0]
    with pytest.raises(ValueError, match=match):
        score(A, np.array([0, 3]), durations=durations)


def test_unknown_rule_lists_valid_ones() -> None:
    match = r"unknown rule 'peak_and_end' \(did you mean 'peak_end'\?\); valid rules: peak_end, "
    with pytest.raises(ValueError, match=match):
        score(A, [0, 3], rule="peak_and_end")
    with pytest.raises(ValueError, match=r"valid rules:.*recency"):
        score_many(A, [0, 3], ["mean", "median"])


def test_unknown_parameter_lists_valid_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown parameter 'window' \(did you mean 'end_window'\?\) for rule 'peak_end'; "
        r"valid parameters: end_window",
    ):
        score(A, [0, 3], window=3)
    with pytest.raises(ValueError, match=r"valid parameters: \(none\)"):
        get_rule("mean", decay=1.0)
    with pytest.raises(ValueError, match=r"valid parameters: part, horizon"):
        get_rule("trend", slope=1.0)


@pytest.mark.parametrize(
    ("rule", "params", "match"),
    [
        ("peak_end", {"end_window": 0}, r"'end_window' must be a finite number in \(0, inf\)"),
        ("peak_end", {"end_window": -1.0}, r"\(minutes\) or None, got -1.0"),
        ("peak_end", {"end_window": np.inf}, r"'end_window'"),
        ("peak_end", {"end_window": "3"}, r"'end_window'"),
        ("weighted_peak_end", {"w_peak": -0.1}, r"'w_peak' must be a finite number in \[0, inf\)"),
        ("weighted_peak_end", {"w_peak": 0, "w_end": 0}, r"at least one of the weights"),
        ("best_worst_end", {"w_worst": np.nan}, r"'w_worst'"),
        ("best_worst_end", {"w_best": 0, "w_worst": 0, "w_end": 0}, r"at least one"),
        ("trend", {"part": 0.0}, r"'part' must be a finite number in \(0, 1\]"),
        ("trend", {"part": 1.5}, r"'part'"),
        ("trend", {"horizon": -1}, r"'horizon' must be a finite number in \[0, inf\) \(minutes\)"),
        ("trend", {"horizon": True}, r"'horizon'"),
        (
            "recency",
            {"decay": -0.5},
            r"'decay' must be a finite number in \[0, inf\) \(per minute\)",
        ),
    ],
)
def test_bad_parameters_name_parameter_and_range(rule: str, params: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        get_rule(rule, **params)
    with pytest.raises(ValueError, match=match):
        score(A, [0, 3], rule=rule, **params)


# -- memory ---------------------------------------------------------------------------------


def _peak_traced(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("blocked", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_peak_end_keeps_at_most_two_affect_sized_temporaries(dtype: type, blocked: bool) -> None:
    rng = np.random.default_rng(0)
    n_journeys = 50_000
    lengths = rng.geometric(1 / 40, n_journeys) - 1  # mean ~ 40 episodes: journey arrays small
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    affect = rng.uniform(-10, 10, offsets[-1]).astype(dtype)
    d = rng.uniform(0.5, 2.0, offsets[-1])
    per_journey = 8 * n_journeys  # one float64/int64 array per journey
    float_episode = 8 * affect.size  # one float64 array per episode
    saved = memory.BLOCK_EPISODES
    memory.BLOCK_EPISODES = saved if blocked else 1 << 40
    try:
        # default: extrema by reduceat and the end gather, no episode-sized temporary at all
        peak = _peak_traced(lambda: score(affect, offsets, engine="numpy"))
        assert peak <= 12 * per_journey, peak / float_episode
        # windowed end: reverse time plus the overlap weights, two temporaries
        for dur in (None, d):
            call = partial(score, affect, offsets, durations=dur, end_window=3.0, engine="numpy")
            peak = _peak_traced(call)
            assert peak <= 2 * float_episode + 12 * per_journey, peak / float_episode
            if blocked:  # block-sized temporaries only
                assert peak <= 0.5 * float_episode + 12 * per_journey, peak / float_episode
    finally:
        memory.BLOCK_EPISODES = saved


# -- engines --------------------------------------------------------------------------------


def test_unknown_engine_lists_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"engine: unknown engine 'cuda'; valid engines: auto, numpy, numba"
    ):
        score(A, [0, 3], engine="cuda")
    with pytest.raises(ValueError, match=r"valid engines"):
        score_many(A, [0, 3], ["mean"], engine=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"valid engines"):
        get_rule("peak")(A, [0, 3], engine="NumPy")


def large_input(n_journeys: int = 12_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    offsets = np.concatenate([[0], np.cumsum(rng.geometric(1 / 9, n_journeys) - 1)])
    assert offsets[-1] >= memory.AUTO_MIN_EPISODES
    return rng.uniform(-10, 10, offsets[-1]), offsets


def test_without_numba_numba_engine_names_the_extra_and_auto_uses_numpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    affect, offsets = large_input()
    want = score(affect, offsets, engine="numpy")
    try:
        with monkeypatch.context() as mp:
            mp.setitem(sys.modules, "numba", None)  # import numba raises ImportError
            mp.delitem(sys.modules, "peakend._kernels", raising=False)
            memory._load_kernels.cache_clear()
            with pytest.raises(ImportError, match=r'pip install "peakend\[fast\]"'):
                score(affect, offsets, engine="numba")
            np.testing.assert_array_equal(score(affect, offsets), want)  # auto: NumPy
            np.testing.assert_array_equal(score(affect, offsets, engine="numpy"), want)
    finally:
        memory._load_kernels.cache_clear()


def test_auto_uses_numpy_for_small_calls_and_numba_for_large_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = memory._load_kernels

    def spy() -> tuple:
        calls.append(1)
        return real()

    monkeypatch.setattr(memory, "_load_kernels", spy)
    score(A, [0, 3])
    assert calls == []  # numba is not even imported for a small call
    affect, offsets = large_input()
    got = score(affect, offsets)
    assert calls == [1]
    np.testing.assert_array_equal(got, score(affect, offsets, engine="numpy"))


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_numba_engine_from_threads_is_deterministic() -> None:
    from concurrent.futures import ThreadPoolExecutor

    affect, offsets = large_input(30_000)
    d = np.random.default_rng(6).uniform(0.5, 3, affect.size)
    rules = [get_rule(r) for r in RULES] + [get_rule("end", end_window=2.0)]
    want = score_many(affect, offsets, rules, durations=d, engine="numba")

    def job(_: int) -> dict:
        return score_many(affect, offsets, rules, durations=d, engine="numba")

    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(job, range(8)):
            for label in want:
                np.testing.assert_array_equal(got[label], want[label])


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_numba_engine_long_journeys_and_large_offsets() -> None:
    # journeys longer than one pairwise-summation block (128) and than a chunk of work
    rng = np.random.default_rng(7)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 3000, 40))])
    for dtype in (np.float32, np.float64):
        affect = rng.uniform(-10, 10, offsets[-1]).astype(dtype)
        for rule in RULES:
            np.testing.assert_array_equal(
                score(affect, offsets, rule=rule, engine="numba"),
                score(affect, offsets, rule=rule, engine="numpy"),
                err_msg=rule,
            )


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_engine_allocates_only_the_results(dtype: type) -> None:
    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(rng.geometric(1 / 40, 50_000) - 1)])
    affect = rng.uniform(-10, 10, offsets[-1]).astype(dtype)
    d = rng.uniform(0.5, 2.0, offsets[-1])
    results = 8 * 50_000
    widened = 8 * affect.size if dtype == np.float32 else 0  # float32 is widened once
    for dur in (None, d):
        call = partial(score_many, affect, offsets, list(RULES), durations=dur, engine="numba")
        call()  # compile or load the kernels outside the traced call
        assert _peak_traced(call) <= widened + 12 * results
