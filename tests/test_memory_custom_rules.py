"""A user's MemoryRule subclass is an extension point: it works on every engine and input size."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from peakend.memory import AUTO_MIN_EPISODES, MemoryRule, PeakEnd, get_rule, score, score_many
from peakend.memory import _scoring as scoring  # the module whose globals tests patch

HAS_NUMBA = importlib.util.find_spec("numba") is not None
NUMBA = pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed"))
ENGINES = ["numpy", NUMBA, "auto"]


@dataclass(frozen=True)
class Worst(MemoryRule):
    """A user's rule: ``scale`` times the lowest affect (a plain, unchecked field)."""

    name: ClassVar[str] = "worst"
    scale: float = 1.0

    def _score(self, batch: Any) -> np.ndarray:
        return self.scale * np.minimum.reduceat(batch.affect, batch.starts).astype(np.float64)


@dataclass(frozen=True)
class HarshPeakEnd(PeakEnd):
    """A subclass of a built-in rule that changes its formula: the kernel must not be used."""

    name: ClassVar[str] = "harsh_peak_end"

    def _score(self, batch: Any) -> np.ndarray:
        return batch.peak() + batch.end(self.end_window)  # no halving


def journeys(n_journeys: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Geometric lengths with empty journeys, affect uniform on -10..10."""
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(rng.geometric(1 / 9, n_journeys) - 1)])
    return rng.uniform(-10, 10, offsets[-1]), offsets


def loop_worst(affect: np.ndarray, offsets: np.ndarray, scale: float = 1.0) -> np.ndarray:
    out = np.full(offsets.size - 1, np.nan)
    for i in range(offsets.size - 1):
        seg = affect[offsets[i] : offsets[i + 1]]
        if seg.size:
            out[i] = scale * seg.min()
    return out


SIZES = {"small": 200, "large": 12_000}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("engine", ENGINES)
def test_custom_rule_scores_on_every_engine_and_size(engine: str, size: str) -> None:
    affect, offsets = journeys(SIZES[size])
    if size == "large":
        assert affect.size >= AUTO_MIN_EPISODES  # auto picks the compiled engine here
    else:
        assert affect.size < AUTO_MIN_EPISODES
    want = loop_worst(affect, offsets, 2.0)
    assert np.isnan(want).any()  # empty journeys are part of the input
    rule = Worst(scale=2.0)
    np.testing.assert_array_equal(score(affect, offsets, rule=rule, engine=engine), want)
    np.testing.assert_array_equal(rule(affect, offsets, engine=engine), want)
    # mixed with built-in rules in one call: the built-ins are unchanged by the company
    mixed = score_many(affect, offsets, ["peak_end", rule, "trend"], engine=engine)
    assert list(mixed) == ["peak_end", "worst(scale=2.0)", "trend"]
    np.testing.assert_array_equal(mixed["worst(scale=2.0)"], want)
    for name in ("peak_end", "trend"):
        np.testing.assert_array_equal(mixed[name], score(affect, offsets, rule=name, engine=engine))


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_builtin_rules_still_use_the_compiled_pass_next_to_a_custom_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    affect, offsets = journeys(SIZES["large"])
    calls: list[list[str]] = []
    real = scoring._score_compiled

    def spy(kernels: Any, a: Any, o: Any, d: Any, rules: list[MemoryRule]) -> Any:
        calls.append([rule.name for rule in rules])
        return real(kernels, a, o, d, rules)

    monkeypatch.setattr(scoring, "_score_compiled", spy)
    score_many(affect, offsets, [Worst(), "mean", HarshPeakEnd()], engine="auto")
    assert calls == [["mean"]]  # the custom rules never reach the kernels
    calls.clear()
    score(affect, offsets, rule=Worst(), engine="auto")
    assert calls == []


@pytest.mark.parametrize("engine", ENGINES)
def test_subclass_of_a_builtin_is_scored_by_its_own_method(engine: str) -> None:
    affect, offsets = journeys(SIZES["large"])
    peak_end = score(affect, offsets, engine="numpy")
    harsh = score(affect, offsets, rule=HarshPeakEnd(), engine=engine)
    np.testing.assert_allclose(harsh, 2 * peak_end, rtol=0, atol=1e-12)
    windowed = score(affect, offsets, rule=HarshPeakEnd(end_window=3.0), engine=engine)
    want = 2 * score(affect, offsets, end_window=3.0, engine="numpy")
    np.testing.assert_allclose(windowed, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_custom_rule_across_blocks_and_with_durations(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    affect, offsets = journeys(SIZES["large"], seed=8)
    durations = np.random.default_rng(1).uniform(0.5, 4.0, affect.size)

    @dataclass(frozen=True)
    class Minutes(MemoryRule):
        """A journey's total duration (minutes)."""

        name: ClassVar[str] = "minutes"

        def _score(self, batch: Any) -> np.ndarray:
            return batch.total_duration()

    want_minutes = np.array(
        [durations[offsets[i] : offsets[i + 1]].sum() for i in range(offsets.size - 1)]
    )
    want_minutes[np.diff(offsets) == 0] = np.nan
    monkeypatch.setattr(scoring, "BLOCK_EPISODES", 5_000)  # many blocks
    got = score_many(affect, offsets, [Worst(), Minutes()], durations=durations, engine=engine)
    np.testing.assert_array_equal(got["worst"], loop_worst(affect, offsets))
    np.testing.assert_allclose(got["minutes"], want_minutes, rtol=1e-12)


def test_custom_rule_parameters_and_labels() -> None:
    rule = get_rule(Worst(), scale=3.0)
    assert rule == Worst(scale=3.0) and rule.label == "worst(scale=3.0)"
    assert Worst().label == "worst"
    with pytest.raises(ValueError, match=r"unknown parameter 'scal' \(did you mean 'scale'\?\)"):
        get_rule(Worst(), scal=3.0)
    assert hash(Worst(scale=2.0)) == hash(Worst(scale=2.0))
    assert [f.name for f in dataclasses.fields(Worst)] == ["scale"]


def test_custom_rule_without_a_name_is_refused() -> None:
    @dataclass(frozen=True)
    class Nameless(MemoryRule):
        def _score(self, batch: Any) -> np.ndarray:
            return batch.mean()

    with pytest.raises(TypeError, match=r"Nameless must set the class attribute 'name'"):
        Nameless()


def test_custom_rule_may_not_take_a_builtin_name() -> None:
    @dataclass(frozen=True)
    class FakeMean(MemoryRule):
        name: ClassVar[str] = "mean"

        def _score(self, batch: Any) -> np.ndarray:
            return batch.mean()

    with pytest.raises(TypeError, match=r"uses the name 'mean' of the built-in rule Mean"):
        FakeMean()


def test_two_different_rules_with_one_label_are_refused() -> None:
    @dataclass(frozen=True)
    class Other(MemoryRule):
        name: ClassVar[str] = "worst"

        def _score(self, batch: Any) -> np.ndarray:
            return batch.mean()

    affect, offsets = journeys(20)
    with pytest.raises(ValueError, match=r"two different rules share the label 'worst'"):
        score_many(affect, offsets, [Worst(), Other()])
    # the same rule twice is one entry, as for built-in rules
    assert list(score_many(affect, offsets, [Worst(), Worst()])) == ["worst"]


@pytest.mark.parametrize("engine", ENGINES)
def test_custom_rule_returning_the_wrong_shape_is_refused(engine: str) -> None:
    @dataclass(frozen=True)
    class Scalar(MemoryRule):
        name: ClassVar[str] = "scalar"

        def _score(self, batch: Any) -> np.ndarray:
            return np.float64(batch.affect.sum())  # one value for all journeys

    affect, offsets = journeys(SIZES["large"])
    with pytest.raises(ValueError, match=r"Scalar._score returned an array of shape \(\)"):
        score(affect, offsets, rule=Scalar(), engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_custom_rule_input_is_validated_like_builtin_rules(engine: str) -> None:
    affect, offsets = journeys(SIZES["large"])
    affect[77] = np.nan
    match = r"affect must be finite \(no NaN or inf\), got affect\[77\] = nan"
    with pytest.raises(ValueError, match=match):
        score(affect, offsets, rule=Worst(), engine=engine)


def test_reference_page_example_of_a_custom_rule_runs_as_documented() -> None:
    import pathlib
    import re

    page = pathlib.Path(__file__).resolve().parents[1] / "docs/reference/memory-rules.md"
    text = page.read_text(encoding="utf-8").split("## Writing your own rule", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, re.DOTALL)[0]
    module = types.ModuleType("docs_example")  # dataclasses look their module up
    sys.modules["docs_example"] = module
    try:
        exec(compile(block, "memory-rules.md", "exec"), module.__dict__)
    finally:
        del sys.modules["docs_example"]
    rule = module.WorstAndEnd(w=0.7)
    affect = module.affect
    # documented values: 0.7 * worst + 0.3 * end, by hand
    assert score(affect, [0, 3, 8], rule=rule).tolist() == pytest.approx([-7.7, -5.9])
