"""Property tests of peakend.memory against the plain-loop reference and invariants."""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_memory import reference_score

from peakend.memory import RULES, get_rule, score, score_many
from peakend.memory import _scoring as memory  # the module whose globals tests patch

ALL_RULES = list(RULES)
HAS_NUMBA = importlib.util.find_spec("numba") is not None
ENGINES = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")),
]
# magnitudes that create ties between +x and -x and between equal extrema
TIE_VALUES = [-8.0, 8.0, -3.0, 3.0, 0.0, -1.0, 1.0, -10.0, 10.0]


@st.composite
def ragged(draw: Any, durations: bool | None = None) -> dict[str, Any]:
    """Ragged journeys with empty and length-1 journeys, float32 or float64, durations or not."""
    lengths = draw(st.lists(st.integers(0, 9), min_size=0, max_size=12))
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
    n = int(offsets[-1])
    value = st.one_of(
        st.floats(-10, 10, allow_nan=False, allow_infinity=False), st.sampled_from(TIE_VALUES)
    )
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    affect = np.array(draw(st.lists(value, min_size=n, max_size=n)), dtype=dtype)
    with_d = draw(st.booleans()) if durations is None else durations
    d = None
    if with_d:
        d = np.array(draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n)), dtype=float)
    return {"affect": affect, "offsets": offsets, "durations": d}


def weights(names: list[str]) -> st.SearchStrategy[dict[str, float]]:
    def fix(w: dict[str, float]) -> dict[str, float]:
        if sum(w.values()) == 0:
            w[names[0]] = 1.0
        return w

    return st.fixed_dictionaries({k: st.floats(0, 2) for k in names}).map(fix)


WINDOW = st.one_of(st.none(), st.floats(0.1, 25))
PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "peak_end": st.fixed_dictionaries({"end_window": WINDOW}),
    "weighted_peak_end": st.tuples(weights(["w_peak", "w_end", "w_mean"]), WINDOW).map(
        lambda t: {**t[0], "end_window": t[1]}
    ),
    "best_worst_end": st.tuples(weights(["w_best", "w_worst", "w_end"]), WINDOW).map(
        lambda t: {**t[0], "end_window": t[1]}
    ),
    "mean": st.just({}),
    "integral": st.just({}),
    "time_weighted_mean": st.just({}),
    "peak": st.just({}),
    "end": st.fixed_dictionaries({"end_window": WINDOW}),
    "trend": st.fixed_dictionaries({"part": st.floats(0.05, 1.0), "horizon": st.floats(0, 5)}),
    "recency": st.fixed_dictionaries({"decay": st.one_of(st.just(0.0), st.floats(0.01, 5.0))}),
}


def close(got: np.ndarray, want: np.ndarray, tol: float = 1e-9) -> None:
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", ALL_RULES)
@given(data=ragged(), params=st.data())
def test_matches_plain_loop_reference(
    rule: str, engine: str, data: dict[str, Any], params: Any
) -> None:
    p = params.draw(PARAMS[rule])
    got = score(**data, rule=rule, engine=engine, **p)
    want = reference_score(data["affect"], data["offsets"], data["durations"], rule, **p)
    close(got, want)
    lengths = np.diff(data["offsets"])
    assert np.isnan(got[lengths == 0]).all()
    assert np.isfinite(got[lengths > 0]).all()


@given(data=ragged(), params=st.data())
def test_score_many_equals_separate_calls(data: dict[str, Any], params: Any) -> None:
    rules = [get_rule(r, **params.draw(PARAMS[r])) for r in ALL_RULES]
    together = score_many(data["affect"], data["offsets"], rules, durations=data["durations"])
    assert list(together) == list(dict.fromkeys(r.label for r in rules))
    for r in rules:
        # equal up to rounding: shared passes may sum in a different order
        close(together[r.label], score(**data, rule=r), 1e-12)


def uses_episode_times(rule: Any) -> bool:
    """Rules whose value uses per-episode times summed from the durations."""
    return (
        getattr(rule, "end_window", None) is not None
        or (rule.name == "trend" and rule.horizon != 0)
        or (rule.name == "recency" and rule.decay != 0)
    )


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@given(data=ragged(), params=st.data())
def test_numba_engine_equals_numpy_engine(data: dict[str, Any], params: Any) -> None:
    """Bit for bit, except rules that sum episode times from durations (1e-12 there)."""
    rules = [get_rule(r, **params.draw(PARAMS[r])) for r in ALL_RULES]
    rules += [get_rule(r, **params.draw(PARAMS[r])) for r in ALL_RULES]
    args = (data["affect"], data["offsets"], rules)
    fast = score_many(*args, durations=data["durations"], engine="numba")
    slow = score_many(*args, durations=data["durations"], engine="numpy")
    assert list(fast) == list(slow)
    for r in rules:
        assert fast[r.label].dtype == np.float64
        if data["durations"] is not None and uses_episode_times(r):
            close(fast[r.label], slow[r.label], 1e-12)
        else:
            np.testing.assert_array_equal(fast[r.label], slow[r.label], err_msg=r.label)


@given(
    lengths=st.lists(st.integers(1, 9), min_size=1, max_size=10),
    const=st.floats(-10, 10),
    durations=st.booleans(),
)
def test_constant_journey_scores_the_constant(
    lengths: list[int], const: float, durations: bool
) -> None:
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    affect = np.full(offsets[-1], const)
    rng = np.random.default_rng(len(lengths))
    d = rng.uniform(0.1, 5, offsets[-1]) if durations else None
    for rule in ALL_RULES:
        if rule == "integral":
            continue
        for params in ({}, {"end_window": 2.5}, {"decay": 1.3}, {"part": 0.3, "horizon": 4.0}):
            valid = {k: v for k, v in params.items() if k in RULES[rule].__dataclass_fields__}
            got = score(affect, offsets, durations=d, rule=rule, **valid)
            np.testing.assert_allclose(got, const, rtol=1e-12, atol=1e-12, err_msg=rule)
    total = np.add.reduceat(d, offsets[:-1]) if d is not None else np.array(lengths, float)
    got = score(affect, offsets, durations=d, rule="integral")
    np.testing.assert_allclose(got, const * total, rtol=1e-12, atol=1e-12)


@given(data=ragged(), seed=st.integers(0, 2**32 - 1))
def test_permuting_middle_episodes_leaves_peak_end_unchanged(
    data: dict[str, Any], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    affect = data["affect"].copy()
    off = data["offsets"]
    for lo, hi in itertools.pairwise(off):
        if hi - lo > 2:
            affect[lo + 1 : hi - 1] = rng.permutation(affect[lo + 1 : hi - 1])
    before = score(data["affect"], off, durations=data["durations"])
    after = score(affect, off, durations=data["durations"])
    np.testing.assert_array_equal(before, after)


@given(data=ragged(durations=False), duration=st.floats(0.1, 30))
def test_time_weighted_mean_equals_mean_with_equal_durations(
    data: dict[str, Any], duration: float
) -> None:
    d = np.full(data["affect"].size, duration)
    twm = score(data["affect"], data["offsets"], durations=d, rule="time_weighted_mean")
    mean = score(data["affect"], data["offsets"], rule="mean")
    close(twm, mean, 1e-12)


@given(data=ragged(durations=True), factor=st.floats(0.1, 20))
def test_integral_scales_with_duration_peak_end_does_not(
    data: dict[str, Any], factor: float
) -> None:
    a, off, d = data["affect"], data["offsets"], data["durations"]
    close(
        score(a, off, durations=d * factor, rule="integral"),
        factor * score(a, off, durations=d, rule="integral"),
        1e-9,
    )
    np.testing.assert_array_equal(score(a, off, durations=d * factor), score(a, off, durations=d))
    # a final window stretched with the journey gives the same end
    close(
        score(a, off, durations=d * factor, end_window=3.0 * factor),
        score(a, off, durations=d, end_window=3.0),
        1e-9,
    )


@given(data=ragged())
def test_recency_limits(data: dict[str, Any]) -> None:
    a, off, d = data["affect"], data["offsets"], data["durations"]
    base = "mean" if d is None else "time_weighted_mean"
    close(
        score(a, off, durations=d, rule="recency", decay=0.0), score(a, off, durations=d, rule=base)
    )
    # a memory that forgets within seconds keeps only the last episode
    close(
        score(a, off, durations=d, rule="recency", decay=500.0),
        score(a, off, durations=d, rule="end"),
        1e-9,
    )


@given(data=ragged(), sign=st.sampled_from([-1.0, 1.0]))
def test_best_worst_end_default_equals_peak_end_on_one_signed_journeys(
    data: dict[str, Any], sign: float
) -> None:
    a = sign * np.abs(data["affect"])
    off, d = data["offsets"], data["durations"]
    close(score(a, off, durations=d, rule="best_worst_end"), score(a, off, durations=d), 1e-12)


@given(data=ragged(), window=st.floats(0.1, 25))
def test_end_window_lies_between_extrema_and_long_window_is_time_weighted_mean(
    data: dict[str, Any], window: float
) -> None:
    a, off, d = data["affect"].astype(np.float64), data["offsets"], data["durations"]
    end = score(a, off, durations=d, rule="end", end_window=window)
    lo = score(a, off, rule="weighted_peak_end", w_peak=0, w_end=0, w_mean=1)  # plain mean
    assert np.array_equal(np.isnan(end), np.isnan(lo))
    ok = ~np.isnan(end)
    mx = np.array([a[i:j].max() for i, j in itertools.pairwise(off) if j > i])
    mn = np.array([a[i:j].min() for i, j in itertools.pairwise(off) if j > i])
    assert (end[ok] <= mx + 1e-9).all() and (end[ok] >= mn - 1e-9).all()
    huge = score(a, off, durations=d, rule="end", end_window=1e6)
    close(huge, score(a, off, durations=d, rule="time_weighted_mean"), 1e-9)


@contextmanager
def block_size(n: int) -> Iterator[None]:
    saved = memory.BLOCK_EPISODES
    memory.BLOCK_EPISODES = n
    try:
        yield
    finally:
        memory.BLOCK_EPISODES = saved


@given(data=ragged(), block=st.integers(1, 12), params=st.data())
def test_scoring_in_blocks_matches_reference(data: dict[str, Any], block: int, params: Any) -> None:
    """Small blocks: journeys split across many blocks, blocks of empty journeys only."""
    rules = [get_rule(r, **params.draw(PARAMS[r])) for r in ALL_RULES]
    with block_size(block):
        got = score_many(data["affect"], data["offsets"], rules, durations=data["durations"])
    for r in rules:
        want = reference_score(
            data["affect"], data["offsets"], data["durations"], r.name, **r.params
        )
        close(got[r.label], want)


def test_non_finite_affect_reported_with_its_global_index_in_blocks() -> None:
    affect = np.arange(40, dtype=float)
    affect[33] = np.nan
    with block_size(8), pytest.raises(ValueError, match=r"affect\[33\] = nan"):
        score(affect, np.arange(0, 41, 4))
