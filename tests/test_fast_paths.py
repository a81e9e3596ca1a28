"""The faster paths of the experience, scoring and aggregation steps give the old bits.

Each fast path is compared, bit for bit, with the implementation it replaced (kept here
as the reference) or with the plain numpy computation it stands for, on Hypothesis-random
inputs and on every built-in scenario; edge cases: empty input, one customer, ties,
signed zeros.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import peakend as pe
from peakend import affect, memory
from peakend.config.models import Scenario
from peakend.experiment import load_policies
from peakend.experiment._aggregate import _bin_quantile, _bin_sums, aggregate_days
from peakend.experiment._tasks import (
    _costs,
    _remembered,
    _scenario_from_json,
    replication_seed,
)
from peakend.journeys import CUSTOMER_COLUMNS, Journeys, _trusted_columns
from peakend.sim.batch import simulate_days
from peakend.sim.model import day_meta, overload_message, scenario_meta
from peakend.warnings import OVERLOAD_OVERRUN_MINUTES, PeakendWarning

HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")


def bits(x: Any) -> np.ndarray:
    """The bytes of a float64 array (tells -0.0 from 0.0 and NaN payloads apart)."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.uint64)


# ----------------------------------------------------------------------- reference code
def ref_bin_sums(values: np.ndarray, bins: np.ndarray, n_bins: int) -> np.ndarray:
    """The one-bincount ``_bin_sums`` the per-row version replaced."""
    k, n = values.shape
    index = (np.arange(k, dtype=np.intp)[:, None, None] * n_bins + bins[None, :, :]).reshape(-1)
    weights = np.broadcast_to(values[:, None, :], (k, 2, n)).reshape(-1)
    return np.bincount(index, weights=weights, minlength=k * n_bins).reshape(k, n_bins)


def ref_bin_quantile(x: np.ndarray, bins: np.ndarray, n_bins: int, q: float) -> np.ndarray:
    """The two-stable-sorts ``_bin_quantile`` the faster sorts replaced."""
    by_value = np.argsort(x, kind="stable")
    xs = np.concatenate([x[by_value], x[by_value]])
    flat_bins = bins[:, by_value].reshape(-1)
    xs = xs[np.argsort(flat_bins, kind="stable")]
    n = np.bincount(flat_bins, minlength=n_bins)
    starts = np.cumsum(n) - n
    pos = q * (n - 1)
    lo = np.floor(pos)
    hi = np.minimum(lo + 1, n - 1)
    ok = n > 0
    if not xs.size:
        return np.full(n_bins, np.nan)
    low = xs[np.where(ok, starts + lo.astype(np.intp), 0)]
    high = xs[np.where(ok, starts + hi.astype(np.intp), 0)]
    return np.where(ok, low + (pos - lo) * (high - low), np.nan)


def ref_prospect(x: np.ndarray, a: float, b: float, lam: float, s: float) -> np.ndarray:
    """The ``np.where`` over two products of ``affect.prospect`` before the one-power path."""
    mag = np.abs(x)
    return np.clip(np.where(x >= 0, s * mag**a, -s * lam * mag**b), -10.0, 10.0)


# --------------------------------------------------------------------------- strategies
@st.composite
def binned(draw: Any) -> tuple[np.ndarray, int]:
    """Customers of a few days: (2 x n) bins (day bin, segment bin) and the number of bins.

    As ``aggregate_days`` builds them: each day has its "all" bin then one per segment.
    """
    n_days = draw(st.integers(1, 5))
    widths = draw(st.lists(st.integers(2, 5), min_size=n_days, max_size=n_days))
    sizes = draw(st.lists(st.integers(0, 12), min_size=n_days, max_size=n_days))
    first = np.cumsum([0, *widths[:-1]])
    day_bin = np.repeat(first, sizes).astype(np.intp)
    seg = [draw(st.integers(0, w - 2)) for w, k in zip(widths, sizes, strict=True)
           for _ in range(k)]
    own = day_bin + 1 + np.asarray(seg, dtype=np.intp)
    return np.stack([day_bin, own]).astype(np.intp), int(sum(widths))


floats = st.floats(-1e6, 1e6, allow_nan=False, width=64) | st.sampled_from(
    [0.0, -0.0, 1.0, 1.0, 2.5, -3.0])


# ---------------------------------------------------------------------------- _bin_sums
@settings(max_examples=200, deadline=None)
@given(binned(), st.integers(1, 4), st.data())
def test_bin_sums_are_the_one_bincount_sums(b: Any, k: int, data: Any) -> None:
    bins, n_bins = b
    n = bins.shape[1]
    values = data.draw(hnp.arrays(np.float64, (k, n), elements=floats))
    assert np.array_equal(bits(_bin_sums(values, bins, n_bins)),
                          bits(ref_bin_sums(values, bins, n_bins)))
    use = data.draw(hnp.arrays(np.bool_, (k, n)))
    assert np.array_equal(bits(_bin_sums(use, bins, n_bins)),
                          bits(ref_bin_sums(use.astype(np.float64), bins, n_bins)))


def test_bin_sums_of_no_customers_are_zero() -> None:
    out = _bin_sums(np.zeros((3, 0)), np.zeros((2, 0), dtype=np.intp), 4)
    assert out.shape == (3, 4) and not out.any()
    assert np.array_equal(out, ref_bin_sums(np.zeros((3, 0)), np.zeros((2, 0), dtype=np.intp), 4))


# ------------------------------------------------------------------------- _bin_quantile
@settings(max_examples=300, deadline=None)
@given(binned(), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.data())
def test_bin_quantile_is_the_two_stable_sorts_and_numpys_quantile_per_bin(
    b: Any, q: float, data: Any
) -> None:
    bins, n_bins = b
    n = bins.shape[1]
    # ties, signed zeros and repeated values are frequent on purpose
    x = data.draw(hnp.arrays(np.float64, n, elements=st.sampled_from(
        [0.0, -0.0, 1.0, 2.0, 2.0, 7.25]) | st.floats(0, 100, width=64)))
    got = _bin_quantile(x, bins, n_bins, q)
    assert np.array_equal(bits(got), bits(ref_bin_quantile(x, bins, n_bins, q)))
    for j in range(n_bins):
        members = x[(bins == j).any(axis=0)]
        if members.size:
            # numpy's lerp takes b - (b - a) * (1 - t) for t >= 0.5: the last bit can
            # differ from a + (b - a) * t, which run's results have always used
            want = np.quantile(members, q)
            assert abs(got[j] - want) <= 4 * np.spacing(abs(want)), (j, members)
        else:
            assert math.isnan(got[j])


def test_bin_quantile_edge_cases() -> None:
    empty = _bin_quantile(np.zeros(0), np.zeros((2, 0), dtype=np.intp), 3, 0.9)
    assert empty.shape == (3,) and np.isnan(empty).all()
    one = _bin_quantile(np.array([4.0]), np.array([[0], [1]]), 3, 0.9)
    assert one[0] == one[1] == 4.0 and np.isnan(one[2])
    # a 16-bit radix sort of the codes only when they fit: more bins take the wide sort
    many = 70_000
    x = np.arange(6, dtype=np.float64)[::-1].copy()
    bins = np.array([[0, 0, 0, many - 2, many - 2, many - 2],
                     [1, 1, 2, many - 1, many - 1, many - 1]])
    assert np.array_equal(bits(_bin_quantile(x, bins, many, 0.9)),
                          bits(ref_bin_quantile(x, bins, many, 0.9)))


# ------------------------------------------------------------ the compiled bin kernels
@needs_numba
@settings(max_examples=200, deadline=None)
@given(binned(), st.integers(1, 4), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.data())
def test_compiled_bin_kernels_give_the_numpy_bits(b: Any, k: int, q: float, data: Any) -> None:
    from peakend.experiment import _aggregate_kernels as kern

    bins, n_bins = b
    n = bins.shape[1]
    day, own = np.ascontiguousarray(bins[0]), np.ascontiguousarray(bins[1])
    values = data.draw(hnp.arrays(np.float64, (k, n), elements=floats))
    assert np.array_equal(bits(kern.bin_sums(values, day, own, n_bins)),
                          bits(_bin_sums(values, bins, n_bins)))
    use = data.draw(hnp.arrays(np.bool_, (k, n)))
    assert np.array_equal(bits(kern.bin_sums(use.astype(np.float64), day, own, n_bins)),
                          bits(_bin_sums(use, bins, n_bins)))
    x = data.draw(hnp.arrays(np.float64, n, elements=st.sampled_from(
        [0.0, -0.0, 1.0, 2.0, 2.0, -7.25]) | st.floats(-100, 100, width=64)))
    assert np.array_equal(bits(kern.bin_quantile(x, day, own, n_bins, q)),
                          bits(_bin_quantile(x, bins, n_bins, q)))


@needs_numba
@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_aggregate_with_and_without_the_kernels_is_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numba  # noqa: F401  # aggregate_days uses the kernels once numba is loaded

    import peakend.experiment._aggregate as agg

    assert agg._kernels() is not None and "numba" in sys.modules
    _, days = _chunk(name, 3)
    rem = [{"peak-end": d.customers["remembered"], "x": d.customers["wait"]} for d in days]
    kw: dict[str, Any] = {"staff_costs": [1.0, 2.0, 3.0], "fixed_costs": [0.5] * 3}
    compiled = aggregate_days(days, rem, **kw)
    monkeypatch.setattr(agg, "_kernels", lambda: None)
    plain = aggregate_days(days, rem, **kw)
    for a, b in zip(compiled, plain, strict=True):
        assert a[:2] == b[:2]
        assert np.array_equal(bits(a[2]), bits(b[2]))
    # no customers at all
    empty = [d.select(np.zeros(len(d), dtype=bool)) for d in days]
    rem0 = [{"peak-end": np.zeros(0)} for _ in empty]
    monkeypatch.undo()
    with_k = aggregate_days(empty, rem0, **kw)
    monkeypatch.setattr(agg, "_kernels", lambda: None)
    without = aggregate_days(empty, rem0, **kw)
    for a, b in zip(with_k, without, strict=True):
        assert np.array_equal(bits(a[2]), bits(b[2]))


# ------------------------------------------------------------------------------ affect
@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(0, 60), elements=st.floats(-20, 20, width=64) |
               st.sampled_from([0.0, -0.0, 1.0, -1.0])),
    st.floats(0.01, 1.0), st.floats(0.01, 1.0), st.floats(0.01, 10.0), st.floats(0.01, 10.0),
    st.booleans(),
)
def test_prospect_is_the_two_product_formula(
    x: np.ndarray, a: float, b: float, lam: float, s: float, same: bool
) -> None:
    if same:
        b = a  # the one-power path
    got = affect.value(x, kind="prospect", alpha=a, beta=b, loss_aversion=lam, scale=s)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert np.array_equal(bits(got), bits(ref_prospect(x, a, b, lam, s)))


def test_prospect_keeps_the_shape_of_scalars_and_matrices() -> None:
    assert np.asarray(affect.value(2.0)).shape == ()
    assert bits(affect.value(-2.0)) == bits(ref_prospect(np.array(-2.0), 0.88, 0.88, 2.25, 1.0))
    m = np.array([[1.0, -1.0], [0.0, -0.0]])
    assert np.array_equal(bits(affect.value(m)), bits(ref_prospect(m, 0.88, 0.88, 2.25, 1.0)))


# ------------------------------------------------------------ run's per-chunk shortcuts
def _variants() -> list[Scenario]:
    out = []
    for name in pe.scenarios.builtin_names():
        base = pe.load_scenario(name)
        try:
            policies = load_policies(name, base)
        except (FileNotFoundError, KeyError, ValueError):
            policies = []
        out += [base] + [p.apply(base) for p in policies]
    return out


def test_costs_once_per_scenario_equal_each_tasks_own_for_every_builtin_policy() -> None:
    texts = [s.model_dump_json() for s in _variants()]
    got = _costs(texts + texts[::-1])
    for text, (staff, fixed) in zip(texts + texts[::-1], got, strict=True):
        sc = Scenario.model_validate_json(text)
        assert staff == float(sc.staff_cost())
        assert fixed == float(sc.fixed_cost())
        assert _scenario_from_json(text).staff_cost() == sc.staff_cost()


def _chunk(name: str, n: int = 4) -> tuple[Scenario, list[Journeys]]:
    s = Scenario.model_validate_json(pe.load_scenario(name).model_dump_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        days = [d for d, _ in simulate_days(s, [replication_seed(5, r) for r in range(n)])]
    return s, days


@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_remembered_of_a_chunk_is_each_days_own_score(name: str) -> None:
    s, days = _chunk(name)
    rules = ["peak_end", "mean", "integral", "end", memory.get_rule("peak_end", end_window=3.0)]
    labels = [memory.get_rule(r).label if isinstance(r, str) else r.label for r in rules]
    own = memory.get_rule(s.memory.rule, **s.memory.params).label
    per_day = _remembered(days, rules, labels, own)
    for day, got in zip(days, per_day, strict=True):
        assert list(got) == labels
        for rule, lab in zip(rules, labels, strict=True):
            if lab == own:
                want = day.customers["remembered"]
            else:
                want = memory.score(day.episodes["affect"], day.offsets, rule=rule,
                                    durations=day.durations, engine="numpy")
            assert np.array_equal(bits(got[lab]), bits(want)), (name, lab)


def test_remembered_with_an_empty_day() -> None:
    _, days = _chunk("default_branch", 2)
    empty = days[0].select(np.zeros(len(days[0]), dtype=bool))
    chunk = [days[0], empty, days[1]]
    got = _remembered(chunk, ["mean"], ["mean"], "peak-end")
    assert got[1]["mean"].shape == (0,)
    want = memory.score(days[1].episodes["affect"], days[1].offsets, rule="mean",
                        durations=days[1].durations, engine="numpy")
    assert np.array_equal(bits(got[2]["mean"]), bits(want))


@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_aggregate_of_a_chunk_is_each_days_own(name: str) -> None:
    _, days = _chunk(name, 3)
    rem = [{"peak-end": d.customers["remembered"]} for d in days]
    together = aggregate_days(days, rem, staff_costs=[1.0, 2.0, 3.0], fixed_costs=[0.5] * 3)
    for k, d in enumerate(days):
        alone = aggregate_days([d], [rem[k]], staff_costs=[k + 1.0], fixed_costs=[0.5])[0]
        assert together[k][:2] == alone[:2]
        assert np.array_equal(bits(together[k][2]), bits(alone[2]))


# ------------------------------------------------------------ per-day objects of a model day
@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_day_meta_from_scenario_meta_is_the_same(name: str) -> None:
    s = pe.load_scenario(name)
    load = s.offered_load()
    seed = np.random.SeedSequence(7, spawn_key=(3,))
    static = scenario_meta(s, load)
    a = day_meta(s, seed, load, ["g"])
    b = day_meta(s, seed, load, ["g"], static=static)
    assert a == b and list(a) == list(b)
    assert list(a) == ["scenario", "peakend_version", "seed", "opening", "closing",
                       "opening_clock_hours", "rule", "rule_params", "currency",
                       "offered_load", "staff_cost", "fixed_cost", "segment_value",
                       "counter_group"]
    b["rule_params"]["x"] = 1.0  # each day's own copies
    b["segment_value"]["x"] = 1.0
    assert "x" not in static["rule_params"] and "x" not in static["segment_value"]
    assert day_meta(s, seed, load, ["g"], static=static) == a


def _ref_overload_parts(scenario: Scenario, day: Journeys) -> tuple[int, float]:
    return int(day.abandoned.sum()), float(np.nanmax(day.customers["departure"]))


@pytest.mark.parametrize("name", pe.scenarios.builtin_names())
def test_overload_message_reads_the_days_counts(name: str) -> None:
    s, days = _chunk(name, 2)
    for d in days:
        abandoned, last = _ref_overload_parts(s, d)
        msg = overload_message(s, d, load=0.0)
        overrun = last - s.open_minutes
        assert (msg is not None) == (abandoned / len(d) > 0.25
                                     or overrun > OVERLOAD_OVERRUN_MINUTES)
        if msg is not None and abandoned / len(d) > 0.25:
            assert f"{abandoned} of {len(d)} customers" in msg


def test_overload_message_ignores_a_nan_departure() -> None:
    s, days = _chunk("default_branch", 1)
    c = dict(days[0].customers)
    dep = c["departure"].copy()
    dep[0] = np.nan
    dep[1] = s.open_minutes + OVERLOAD_OVERRUN_MINUTES + 10.0
    c["departure"] = dep
    day = Journeys(c, dict(days[0].episodes), days[0].offsets, segments=days[0].segments,
                   business_types=days[0].business_types, touchpoints=days[0].touchpoints,
                   counters=days[0].counters, validate=False)
    msg = overload_message(s, day, load=0.0)
    assert msg is not None and "min after closing" in msg


def test_trusted_columns_keep_arrays_of_the_schema_dtype_and_convert_others() -> None:
    n = 3
    given = {name: np.zeros(n, dtype=spec[0]) for name, spec in CUSTOMER_COLUMNS.items()}
    out = _trusted_columns(given, CUSTOMER_COLUMNS, "customers")
    assert all(out[k] is given[k] for k in given)
    given["wait"] = [1, 2, 3]  # a list, of ints
    given["segment"] = np.array([0, 1, 0], dtype=np.int64)
    out = _trusted_columns(given, CUSTOMER_COLUMNS, "customers")
    assert out["wait"].dtype == np.float64 and out["wait"].tolist() == [1.0, 2.0, 3.0]
    assert out["segment"].dtype == np.int16
    with pytest.raises(ValueError, match="unknown column"):
        _trusted_columns({**given, "nope": np.zeros(n)}, CUSTOMER_COLUMNS, "customers")
    with pytest.raises(ValueError, match="has length"):
        _trusted_columns({**given, "wait": np.zeros(n + 1)}, CUSTOMER_COLUMNS, "customers")
    partial = {k: given[k] for k in ("customer", "segment", "arrival", "wait", "departure")}
    out = _trusted_columns(partial, CUSTOMER_COLUMNS, "customers")
    assert list(out) == list(CUSTOMER_COLUMNS) and out["gift_cost"].tolist() == [0.0] * n
