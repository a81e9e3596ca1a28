"""Bad input to the scorer: each case is refused with a message naming the argument at fault.

Part of the project's bad-input suite (issue 11): ragged arrays, affect values, durations,
rule names and parameters, engines. Every case runs on both engines where the engine
matters (validation is one code path with the same messages).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

from peakend.memory import AUTO_MIN_EPISODES, get_rule, score, score_many

HAS_NUMBA = importlib.util.find_spec("numba") is not None
ENGINES = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")),
]

A = np.array([-2.0, -8.0, -7.0])
OK_OFFSETS = np.array([0, 3])

# (id, affect, offsets, durations, exception type, message pattern)
ARRAY_CASES: list[tuple[str, Any, Any, Any, type[Exception], str]] = [
    # affect
    ("affect-2d", np.ones((2, 3)), [0, 6], None, ValueError,
     r"^affect must be a 1-D array, got an array of shape \(2, 3\)$"),
    ("affect-scalar", 3.0, [0, 1], None, ValueError,
     r"^affect must be a 1-D array, got an array of shape \(\)$"),
    ("affect-None", None, [0], None, ValueError,
     r"^affect must be a 1-D array, got an array of shape \(\)$"),
    ("affect-strings", np.array(["a", "b"]), [0, 2], None, ValueError,
     r"^affect must be a real numeric array, got dtype <U1$"),
    ("affect-complex", np.array([1j, 2.0]), [0, 2], None, ValueError,
     r"^affect must be a real numeric array, got dtype complex128$"),
    ("affect-bool", np.array([True, False]), [0, 2], None, ValueError,
     r"^affect must be a real numeric array, got dtype bool$"),
    ("affect-object-None", np.array([1.0, None], dtype=object), [0, 2], None, ValueError,
     r"^affect must be a real numeric array, got dtype object$"),
    ("affect-nan", np.array([1.0, np.nan, 2.0]), [0, 3], None, ValueError,
     r"^affect must be finite \(no NaN or inf\), got affect\[1\] = nan$"),
    ("affect-inf", np.array([1.0, 2.0, np.inf]), [0, 1, 3], None, ValueError,
     r"^affect must be finite \(no NaN or inf\), got affect\[2\] = inf$"),
    ("affect-minus-inf-float32", np.array([1.0, -np.inf, 2.0], dtype=np.float32), [0, 3], None,
     ValueError, r"^affect must be finite \(no NaN or inf\), got affect\[1\] = -inf$"),
    ("affect-nan-in-a-later-journey", np.array([1.0, 2.0, 3.0, np.nan]), [0, 2, 2, 4], None,
     ValueError, r"^affect must be finite \(no NaN or inf\), got affect\[3\] = nan$"),
    # offsets
    ("offsets-float", A, np.array([0.0, 3.0]), None, ValueError,
     r"^offsets must be an integer array, got dtype float64$"),
    ("offsets-bool", A, np.array([False, True]), None, ValueError,
     r"^offsets must be an integer array, got dtype bool$"),
    ("offsets-strings", A, np.array(["0", "3"]), None, ValueError,
     r"^offsets must be an integer array, got dtype <U1$"),
    ("offsets-2d", A, np.array([[0, 3]]), None, ValueError,
     r"^offsets must be a 1-D integer array of length n_journeys \+ 1, "
     r"got an array of shape \(1, 2\)$"),
    ("offsets-scalar", A, 3, None, ValueError,
     r"^offsets must be a 1-D integer array of length n_journeys \+ 1, "
     r"got an array of shape \(\)$"),
    ("offsets-empty", A, np.array([], dtype=np.int64), None, ValueError,
     r"^offsets must have at least one entry \(length n_journeys \+ 1\)$"),
    ("offsets-start-1", A, [1, 3], None, ValueError,
     r"^offsets must start at 0, got offsets\[0\] = 1$"),
    ("offsets-start-negative", A, [-1, 3], None, ValueError,
     r"^offsets must start at 0, got offsets\[0\] = -1$"),
    ("offsets-end-short", A, [0, 2], None, ValueError,
     r"^offsets must end at len\(affect\) = 3, got offsets\[-1\] = 2$"),
    ("offsets-end-long", A, [0, 4], None, ValueError,
     r"^offsets must end at len\(affect\) = 3, got offsets\[-1\] = 4$"),
    ("offsets-only-zero-with-episodes", A, [0], None, ValueError,
     r"^offsets must end at len\(affect\) = 3, got offsets\[-1\] = 0$"),
    ("offsets-decreasing", A, [0, 2, 1, 3], None, ValueError,
     r"^offsets must be non-decreasing, got offsets\[2\] = 1 < offsets\[1\] = 2$"),
    ("offsets-past-the-end-in-the-middle", A, [0, 5, 3], None, ValueError,
     r"^offsets must be non-decreasing, got offsets\[2\] = 3 < offsets\[1\] = 5$"),
    ("offsets-uint64-wraparound", A, np.array([0, 2**63 + 5, 3], dtype=np.uint64), None,
     ValueError, r"^offsets must lie in \[0, len\(affect\) = 3\], got offsets\[1\] = "
     r"9223372036854775813$"),
    # durations
    ("durations-too-short", A, OK_OFFSETS, [1.0, 1.0], ValueError,
     r"^durations must have one entry per episode \(len\(affect\) = 3\), got length 2$"),
    ("durations-too-long", A, OK_OFFSETS, [1.0] * 4, ValueError,
     r"^durations must have one entry per episode \(len\(affect\) = 3\), got length 4$"),
    ("durations-negative", A, OK_OFFSETS, [1.0, -1.0, 1.0], ValueError,
     r"^durations must be finite and > 0 \(minutes\), got durations\[1\] = -1\.0$"),
    ("durations-zero", A, OK_OFFSETS, [1.0, 1.0, 0.0], ValueError,
     r"^durations must be finite and > 0 \(minutes\), got durations\[2\] = 0\.0$"),
    ("durations-nan", A, OK_OFFSETS, [np.nan, 1.0, 1.0], ValueError,
     r"^durations must be finite and > 0 \(minutes\), got durations\[0\] = nan$"),
    ("durations-inf", A, OK_OFFSETS, [1.0, np.inf, 1.0], ValueError,
     r"^durations must be finite and > 0 \(minutes\), got durations\[1\] = inf$"),
    ("durations-2d", A, OK_OFFSETS, np.ones((1, 3)), ValueError,
     r"^durations must be a 1-D array, got an array of shape \(1, 3\)$"),
    ("durations-strings", A, OK_OFFSETS, np.array(["1", "1", "1"]), ValueError,
     r"^durations must be a real numeric array, got dtype <U1$"),
]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("affect", "offsets", "durations", "error", "match"),
    [pytest.param(*case[1:], id=case[0]) for case in ARRAY_CASES],
)
def test_bad_arrays_are_refused_naming_the_argument(
    affect: Any, offsets: Any, durations: Any, error: type[Exception], match: str, engine: str
) -> None:
    with pytest.raises(error, match=match):
        score(affect, offsets, durations=durations, engine=engine)
    # the same refusal through score_many with several rules
    with pytest.raises(error, match=match):
        score_many(affect, offsets, ["peak_end", "trend", "integral"], durations=durations,
                   engine=engine)  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", ["peak_end", "mean", "end", "integral", "trend", "recency"])
def test_nan_deep_in_a_large_blocked_input_is_named_by_its_index(rule: str, engine: str) -> None:
    rng = np.random.default_rng(4)
    offsets = np.concatenate([[0], np.cumsum(rng.geometric(1 / 9, 40_000) - 1)])
    affect = rng.uniform(-10, 10, offsets[-1])
    assert affect.size > 4 * AUTO_MIN_EPISODES  # several NumPy blocks; compiled under auto
    bad = int(affect.size * 0.9)
    affect[bad] = -np.inf
    with pytest.raises(ValueError, match=rf"got affect\[{bad}\] = -inf$"):
        score(affect, offsets, rule=rule, engine=engine)


# (id, keyword arguments of score, exception type, message pattern)
RULE_CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("unknown-rule-did-you-mean", {"rule": "peakend"}, ValueError,
     r"^rule: unknown rule 'peakend' \(did you mean 'peak_end'\?\); valid rules: peak_end, "
     r"weighted_peak_end, .*, recency$"),
    ("unknown-rule-misspelt-recency", {"rule": "recenty"}, ValueError,
     r"unknown rule 'recenty' \(did you mean 'recency'\?\)"),
    ("unknown-rule-no-close-name", {"rule": "banana"}, ValueError,
     r"^rule: unknown rule 'banana'; valid rules: peak_end, "),
    ("rule-not-a-string", {"rule": 3}, TypeError,
     r"^rule must be a rule name \(str\) or a MemoryRule object, got int 3; valid rule names: "),
    ("rule-None", {"rule": None}, TypeError,
     r"^rule must be a rule name \(str\) or a MemoryRule object, got NoneType None"),
    ("unknown-parameter-did-you-mean", {"rule": "peak_end", "window": 3}, ValueError,
     r"^unknown parameter 'window' \(did you mean 'end_window'\?\) for rule 'peak_end'; "
     r"valid parameters: end_window$"),
    ("parameter-of-a-rule-without-any", {"rule": "mean", "part": 0.5}, ValueError,
     r"^unknown parameter 'part' for rule 'mean'; valid parameters: \(none\)$"),
    ("trend-part-above-1", {"rule": "trend", "part": 1.5}, ValueError,
     r"^rule 'trend': parameter 'part' must be a finite number in \(0, 1\], got 1\.5$"),
    ("trend-part-0", {"rule": "trend", "part": 0}, ValueError,
     r"^rule 'trend': parameter 'part' must be a finite number in \(0, 1\], got 0$"),
    ("trend-horizon-negative", {"rule": "trend", "horizon": -1.0}, ValueError,
     r"^rule 'trend': parameter 'horizon' must be a finite number in \[0, inf\) \(minutes\), "
     r"got -1\.0$"),
    ("trend-horizon-bool", {"rule": "trend", "horizon": True}, ValueError,
     r"parameter 'horizon' must be a finite number in \[0, inf\) \(minutes\), got True$"),
    ("trend-horizon-string", {"rule": "trend", "horizon": "1"}, ValueError,
     r"parameter 'horizon' must be a finite number in \[0, inf\) \(minutes\), got '1'$"),
    ("recency-decay-nan", {"rule": "recency", "decay": float("nan")}, ValueError,
     r"^rule 'recency': parameter 'decay' must be a finite number in \[0, inf\) "
     r"\(per minute\), got nan$"),
    ("recency-decay-inf", {"rule": "recency", "decay": float("inf")}, ValueError,
     r"parameter 'decay' must be a finite number in \[0, inf\) \(per minute\), got inf$"),
    ("end-window-0", {"rule": "peak_end", "end_window": 0}, ValueError,
     r"^rule 'peak_end': parameter 'end_window' must be a finite number in \(0, inf\) "
     r"\(minutes\) or None, got 0$"),
    ("end-window-negative", {"rule": "end", "end_window": -2.0}, ValueError,
     r"^rule 'end': parameter 'end_window' must be a finite number in \(0, inf\) "
     r"\(minutes\) or None, got -2\.0$"),
    ("weight-negative", {"rule": "weighted_peak_end", "w_peak": -0.5}, ValueError,
     r"^rule 'weighted_peak_end': parameter 'w_peak' must be a finite number in \[0, inf\), "
     r"got -0\.5$"),
    ("weights-all-zero", {"rule": "weighted_peak_end", "w_peak": 0, "w_end": 0}, ValueError,
     r"^rule 'weighted_peak_end': at least one of the weights 'w_peak', 'w_end', 'w_mean' "
     r"must be > 0$"),
    ("best-worst-weights-all-zero",
     {"rule": "best_worst_end", "w_best": 0, "w_worst": 0, "w_end": 0}, ValueError,
     r"^rule 'best_worst_end': at least one of the weights 'w_best', 'w_worst', 'w_end' "
     r"must be > 0$"),
    ("engine-unknown", {"engine": "gpu"}, ValueError,
     r"^engine: unknown engine 'gpu'; valid engines: auto, numpy, numba$"),
    ("engine-did-you-mean", {"engine": "numbaa"}, ValueError,
     r"^engine: unknown engine 'numbaa' \(did you mean 'numba'\?\); valid engines: "),
    ("engine-None", {"engine": None}, ValueError,
     r"^engine: unknown engine None; valid engines: auto, numpy, numba$"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [pytest.param(*case[1:], id=case[0]) for case in RULE_CASES],
)
def test_bad_rules_parameters_and_engines_are_refused(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        score(A, OK_OFFSETS, **kwargs)


def test_rule_errors_come_before_array_errors() -> None:
    """A bad rule is reported even when the arrays are bad too (nothing is computed first)."""
    with pytest.raises(ValueError, match=r"unknown rule 'peakend'"):
        score(np.array([np.nan]), [0, 2], rule="peakend")
    with pytest.raises(ValueError, match=r"parameter 'part'"):
        get_rule("trend", part=2.0)
    with pytest.raises(ValueError, match=r"unknown rule 'median'"):
        score_many(A, OK_OFFSETS, ["mean", "median"])
