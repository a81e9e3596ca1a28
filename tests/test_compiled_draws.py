"""The compiled draws (issue 16): numpy's random numbers, bit for bit, from numba kernels.

``peakend.sim.compiled._rng`` re-implements SeedSequence's seeding, PCG64 and the
distributions the draws use; ``draw_days(..., compiled=True)`` draws a chunk's streams with
it. Every stream state, every first draw and every field of every day must be numpy's
exactly (floats compared by their bits). The compiled cases skip only where numba is missing
(and ``test_ci_has_numba`` in ``test_many_days`` fails under CI then).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import scenarios

import peakend as pe
from peakend.config.models import Scenario
from peakend.experiment._tasks import replication_seed
from peakend.sim import draws as D
from peakend.sim.draws import DayDraws, draw_day, draw_days
from peakend.sim.sampling import STREAMS, name_key, seed_words, stream, stream_key_words

HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba missing")


def fresh(s: Scenario) -> Scenario:
    """The scenario as run's workers hold it: validated from its JSON text."""
    return Scenario.model_validate_json(s.model_dump_json())


def bits(a: Any) -> Any:
    """An array's bytes with its dtype and shape: equal only if bit for bit equal."""
    a = np.ascontiguousarray(a)
    return a.dtype.str, a.shape, a.view(np.uint8).tobytes()


def assert_same_draws(a: DayDraws, b: DayDraws) -> None:
    for f in fields(DayDraws):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, dict):
            assert list(x) == list(y), f.name
            for g in x:
                assert bits(x[g]) == bits(y[g]), (f.name, g)
        elif x is None or y is None:
            assert x is None and y is None, f.name
        else:
            assert bits(x) == bits(y), f.name


def assert_compiled_is_numpy(s: Scenario, seeds: list[Any]) -> DayDraws:
    ref, ref_bounds = draw_days(s, seeds)
    got, got_bounds = draw_days(s, seeds, compiled=True)
    assert bits(ref_bounds) == bits(got_bounds)
    assert_same_draws(ref, got)
    return ref


@pytest.fixture
def compiled_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """``compiled=True`` must take the compiled path (no silent fallback to numpy)."""
    assert D._compiled_ok(), "the compiled draws' self-check failed: numpy is used"
    numpy_raw = D._numpy_raw
    calls: list[int] = []

    def guarded(*args: Any) -> Any:
        calls.append(1)
        return numpy_raw(*args)

    monkeypatch.setattr(D, "_numpy_raw", guarded)
    real = D.draw_days

    def checked(s: Scenario, seeds: Any, compiled: bool = False) -> Any:
        before = len(calls)
        out = real(s, seeds, compiled=compiled)
        assert (len(calls) > before) is (not compiled), "compiled=True used numpy's draws"
        return out

    monkeypatch.setattr(sys.modules[__name__], "draw_days", checked)


# --------------------------------------------------------------------------- streams
def _states(roots: list[np.random.SeedSequence], names: list[tuple[str, tuple[int, ...]]]) -> Any:
    from peakend.sim.compiled import _rng

    return _rng.seed_states(*seed_words(roots), *stream_key_words(names))


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    entropy=st.one_of(
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**300),
        st.lists(st.integers(0, 2**64), min_size=1, max_size=9),
    ),
    spawn=st.lists(st.integers(0, 2**70), max_size=4),
    pool_size=st.sampled_from([4, 5, 8]),
    names=st.lists(
        st.tuples(st.sampled_from(sorted(STREAMS)), st.lists(st.integers(0, 2**40), max_size=2)),
        min_size=1,
        max_size=4,
    ),
    lam=st.one_of(
        st.floats(0.0, 9.999), st.sampled_from([9.99, 10.0, 10.01]), st.floats(10.0, 2e6)
    ),
    loc=st.floats(-10, 10),
    scale=st.floats(0, 5),
)
def test_compiled_streams_are_numpys(
    entropy: Any, spawn: list[int], pool_size: int, names: list[Any],
    lam: float, loc: float, scale: float,
) -> None:
    """Seeding and every distribution: numpy's state and numpy's first draws, exactly."""
    from peakend.sim.compiled import _rng

    root = np.random.SeedSequence(entropy, spawn_key=tuple(spawn), pool_size=pool_size)
    other = np.random.SeedSequence(7, spawn_key=(1,))  # a second root in the same call
    plan = [(name, tuple(extra)) for name, extra in names]
    states = _states([root, other, 12345], plan)
    for d, r in enumerate([root, other, np.random.SeedSequence(12345)]):
        for s, (name, extra) in enumerate(plan):
            rng = stream(r, name, *extra)
            row = states[d, s].copy()
            assert _rng.state_of(row) == rng.bit_generator.state["state"]
            assert bits(rng.random(50)) == bits(_rng.fill_random(row, 50))
            assert bits(rng.standard_normal(400)) == bits(_rng.fill_normal(row, 400, 0.0, 1.0))
            assert bits(rng.normal(loc, scale, 30)) == bits(_rng.fill_normal(row, 30, loc, scale))
            assert bits(rng.uniform(0.0, 540.0, 30)) == bits(_rng.fill_uniform(row, 30, 0.0, 540.0))
            assert bits(rng.uniform(loc, 11.0, 30)) == bits(_rng.fill_uniform(row, 30, loc, 11.0))
            ref = np.array([rng.poisson(lam) for _ in range(5)], dtype=np.int64)
            assert bits(ref) == bits(_rng.poisson_many(row, lam, 5))
            assert bits(rng.random(3)) == bits(_rng.fill_random(row, 3))  # still in step


@needs_numba
def test_compiled_normals_cover_the_ziggurat_tail_and_wedges() -> None:
    """Enough normals that the rare branches (tail of the base strip, wedges) are taken."""
    from peakend.sim.compiled import _rng

    states = _states([np.random.SeedSequence(99)], [("experience", ())])
    rng = stream(np.random.SeedSequence(99), "experience")
    ref = rng.standard_normal(400_000)
    got = _rng.fill_normal(states[0, 0].copy(), 400_000, 0.0, 1.0)
    assert bits(ref) == bits(got)
    assert np.abs(ref).max() > 3.6541528853610087  # beyond the ziggurat's base: the tail


@needs_numba
@pytest.mark.parametrize("lam", [0.0, 1e-300, 0.5, 9.5, 10.0, 10.5, 100.0, 540.0 * 2, 3e5, 1e6])
def test_compiled_poisson_is_numpys(lam: float) -> None:
    from peakend.sim.compiled import _rng

    root = np.random.SeedSequence(4, spawn_key=(2,))
    rng = stream(root, "arrivals")
    row = _states([root], [("arrivals", ())])[0, 0].copy()
    ref = np.array([rng.poisson(lam) for _ in range(3000)], dtype=np.int64)
    assert bits(ref) == bits(_rng.poisson_many(row, lam, 3000))


# --------------------------------------------------------------------------- days
def _with(s: Scenario, **changes: Any) -> Scenario:
    d = s.model_dump()
    for path, value in changes.items():
        node = d
        *head, last = path.split("__")
        for key in head:
            node = node[key]
        node[last] = value
    return fresh(Scenario.model_validate(d))


def _special() -> dict[str, Scenario]:
    base = pe.load_scenario("default_branch")
    d = base.model_dump()
    segs = list(d["segments"])
    mix = [
        {"start": d["opening"] + 1.0, "shares": {segs[0]: 1.0}},
        {"start": d["opening"] + 3.5, "shares": {x: 1 / len(segs) for x in segs}},
    ]
    no_renege = d
    for x in no_renege["segments"].values():
        x["renege"] = None
    return {
        "no arrivals": _with(base, arrivals__profile=[{"start": d["opening"], "rate": 0.0}]),
        "arrivals start late": _with(  # nobody before the first block
            base, arrivals__profile=[{"start": d["closing"] - 0.5, "rate": 80.0},
                                     {"start": d["closing"] - 0.25, "rate": 0.0}]
        ),
        "about one a day": _with(base, arrivals__profile=[{"start": d["opening"], "rate": 0.15}]),
        "segment mix": _with(base, arrivals__segment_mix=mix),
        "no reneging": fresh(Scenario.model_validate(no_renege)),
        "busy": _with(base, arrivals__profile=[{"start": d["opening"], "rate": 3000.0}]),
        "mmc": fresh(pe.scenarios.mmc(1.8, 0.5, 4, 8.0)),
        "tandem": fresh(pe.scenarios.tandem(1.0, [(1.5, 2), (1.2, 1)], 6.0)),
    }


SPECIAL = _special()
BUILTIN = {name: fresh(pe.load_scenario(name)) for name in pe.scenarios.builtin_names()}


def test_the_special_scenarios_are_what_they_say() -> None:
    plan = {k: D._plan(s) for k, s in {**BUILTIN, **SPECIAL}.items()}
    assert plan["no arrivals"].profile[2] == 0.0
    late = draw_days(SPECIAL["arrivals start late"], [1, 2])[0].arrival
    assert late.size and late.min() >= SPECIAL["arrivals start late"].open_minutes - 30.0
    assert SPECIAL["segment mix"].arrivals.segment_mix is not None
    assert not plan["no reneging"].renege and plan["default_branch"].renege
    assert plan["default_branch"].advice and not plan["mmc"].advice
    assert draw_days(SPECIAL["no arrivals"], [1, 2])[0].arrival.size == 0


SEEDS: list[Any] = [
    0, 7, 2**40, 2**130 + 3, np.int64(12), np.uint64(2**63 + 1),
    np.random.SeedSequence(5, spawn_key=(3,)),
    np.random.SeedSequence([1, 2**33, 5], spawn_key=(2**40, 0, 7), pool_size=6),
    np.random.SeedSequence(2**200 + 11, spawn_key=(1,)),  # entropy longer than the pool
    replication_seed(20261202, 31),
]


@needs_numba
@pytest.mark.usefixtures("compiled_only")
@pytest.mark.parametrize("name", [*BUILTIN, *SPECIAL])
def test_every_scenario_compiled_draws_are_numpys(name: str) -> None:
    s = {**BUILTIN, **SPECIAL}[name]
    assert_compiled_is_numpy(s, SEEDS)
    for seed in SEEDS[:3]:  # one day alone
        assert_compiled_is_numpy(s, [seed])
        assert_same_draws(draw_day(s, seed), draw_day(s, seed, compiled=True))


@needs_numba
@pytest.mark.usefixtures("compiled_only")
def test_chunk_sizes_1_to_40_give_the_same_draws() -> None:
    s = BUILTIN["default_branch"]
    seeds = [replication_seed(3, r) for r in range(40)]
    whole, bounds = draw_days(s, seeds)
    for size in range(1, 41):
        got, got_bounds = draw_days(s, seeds[:size], compiled=True)
        assert bits(got_bounds) == bits(bounds[: size + 1])
        lo, hi = 0, int(bounds[size])
        assert bits(got.arrival) == bits(whole.arrival[lo:hi])
        assert bits(got.noise) == bits(whole.noise[lo:hi])
        assert bits(got.service) == bits(whole.service[lo:hi])
        assert bits(got.patience) == bits(whole.patience[lo:hi])
        for g in whole.quality:
            assert bits(got.quality[g]) == bits(whole.quality[g][:size])
            assert bits(got.advice[g]) == bits(whole.advice[g][:size])
    # empty days anywhere in a chunk
    quiet = SPECIAL["about one a day"]
    seeds = list(range(40))
    for size in (1, 2, 5, 17, 40):
        assert_compiled_is_numpy(quiet, seeds[:size])


@needs_numba
@pytest.mark.usefixtures("compiled_only")
@settings(max_examples=25, deadline=None)
@given(
    s=scenarios(),
    seeds=st.lists(
        st.one_of(
            st.integers(0, 2**70),
            st.builds(
                lambda e, k: np.random.SeedSequence(e, spawn_key=tuple(k)),
                st.integers(0, 2**130),
                st.lists(st.integers(0, 2**40), max_size=3),
            ),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_random_scenarios_and_seeds_compiled_draws_are_numpys(
    s: Scenario, seeds: list[Any]
) -> None:
    assert_compiled_is_numpy(s, seeds)


# --------------------------------------------------------------------------- fallback
def test_without_numba_compiled_falls_back_to_the_same_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = BUILTIN["default_branch"]
    ref, ref_bounds = draw_days(s, SEEDS)
    monkeypatch.setattr(D, "HAS_NUMBA", False)

    def no_kernels(*args: Any) -> Any:
        raise AssertionError("the compiled draws ran without numba")

    monkeypatch.setattr(D, "_compiled_raw", no_kernels)
    assert not D._compiled_ok()
    got, got_bounds = draw_days(s, SEEDS, compiled=True)
    assert bits(ref_bounds) == bits(got_bounds)
    assert_same_draws(ref, got)


def test_a_failed_self_check_falls_back_to_the_same_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = BUILTIN["default_branch"]
    ref, _ = draw_days(s, SEEDS)
    monkeypatch.setattr(D, "_COMPILED", [False])
    monkeypatch.setattr(D, "_compiled_raw", lambda *a: pytest.fail("self-check ignored"))
    assert_same_draws(ref, draw_days(s, SEEDS, compiled=True)[0])


@needs_numba
def test_the_self_check_catches_a_wrong_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    from peakend.sim.compiled import _rng

    assert _rng.self_check()
    monkeypatch.setattr(_rng, "fill_normal", lambda st, n, loc, scale: np.zeros(n))
    assert not _rng.self_check()
    monkeypatch.setattr(D, "_COMPILED", [])
    assert not D._compiled_ok()  # and the draws use numpy's generators


@pytest.mark.parametrize("bad", [1, "yes", None, 0.0])
def test_compiled_must_be_a_bool(bad: Any) -> None:
    with pytest.raises(ValueError, match="compiled"):
        draw_days(BUILTIN["default_branch"], [1], compiled=bad)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_bad_seeds_are_refused_as_by_numpys_path(seed: Any) -> None:
    for compiled in (False, True):
        with pytest.raises(ValueError, match="seed"):
            draw_days(BUILTIN["default_branch"], [0, seed], compiled=compiled)


def test_the_teller_streams_are_keyed_by_group_name() -> None:
    s = BUILTIN["default_branch"]
    names = D._plan(s).names
    assert [e for n, e in names if n == "tellers"] == [(name_key(g),) for g in s.counters]


@needs_numba
def test_warm_up_loads_the_kernels_the_draws_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from peakend.sim.compiled import _rng

    assert D.warm_up()
    before = (len(_rng.seed_states.signatures), len(_rng.draw_chunk.signatures))
    for s in (BUILTIN["default_branch"], SPECIAL["mmc"], SPECIAL["no arrivals"]):
        draw_days(s, [1, 2], compiled=True)
    assert (len(_rng.seed_states.signatures), len(_rng.draw_chunk.signatures)) == before
    monkeypatch.setattr(D, "HAS_NUMBA", False)
    assert not D.warm_up()
