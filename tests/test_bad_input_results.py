"""Bad input: corrupted, foreign and hand-edited results files each give one clear error.

Every case asserts the specific message of :class:`peakend.experiment.ResultsFileError`
(a ``ValueError``): the file is named, and a metadata problem names the key.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend.experiment import BASE_METRICS, ResultsFileError

POLICIES = ("baseline", "a")
SEGMENTS = ("all", "vip")
METRICS = ("remembered[peak_end]", *BASE_METRICS)


def metadata(**change) -> dict:
    meta = {
        "format": "peakend.results",
        "schema_version": 1,
        "version": pe.__version__,
        "policies": list(POLICIES),
        "segments": list(SEGMENTS),
        "metrics": list(METRICS),
        "n_replications": 4,
        "seed": 7,
        "rules": ["peak_end"],
        "scenario": {"name": "x"},
        "policy_specs": [{"name": p, "description": "", "changes": {}} for p in POLICIES],
    }
    for key, value in change.items():
        if value is DROP:
            del meta[key]
        else:
            meta[key] = value
    return meta


DROP = object()


def values(n_replications: int = 4) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.normal(size=(len(POLICIES), n_replications, len(SEGMENTS), len(METRICS)))


def write(path: Path, meta=None, vals=None, raw_meta=None, **entries) -> Path:
    arrays = dict(entries)
    arrays.setdefault("values", values() if vals is None else vals)
    if raw_meta is not None:
        arrays["metadata"] = raw_meta
    else:
        arrays["metadata"] = np.array(json.dumps(metadata() if meta is None else meta))
    np.savez_compressed(path, **arrays)
    return path


def test_a_good_file_loads(tmp_path):
    res = pe.load_results(write(tmp_path / "ok.npz"))
    assert res.policies == POLICIES and res.n_replications == 4 and res.seed == 7


# ------------------------------------------------------------------ not a results file at all
def _missing(tmp):
    return tmp / "nope.npz"


def _directory(tmp):
    return tmp


def _empty(tmp):
    (tmp / "e.npz").write_bytes(b"")
    return tmp / "e.npz"


def _random_bytes(tmp):
    (tmp / "r.npz").write_bytes(np.random.default_rng(0).bytes(5000))
    return tmp / "r.npz"


def _scenario_toml(tmp):
    src = Path(pe.__file__).parent / "scenarios" / "default_branch.toml"
    (tmp / "s.toml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp / "s.toml"


def _scenario_renamed(tmp):
    src = Path(pe.__file__).parent / "scenarios" / "default_branch.toml"
    (tmp / "s.npz").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp / "s.npz"


def _npy(tmp):
    np.save(tmp / "a.npy", np.zeros(3))
    return tmp / "a.npy"


def _truncated(tmp):
    good = write(tmp / "good.npz").read_bytes()
    (tmp / "t.npz").write_bytes(good[: len(good) // 2])
    return tmp / "t.npz"


def _other_npz(tmp):
    np.savez(tmp / "o.npz", x=np.arange(3), y=np.ones(2))
    return tmp / "o.npz"


def _no_metadata(tmp):
    np.savez(tmp / "v.npz", values=values())
    return tmp / "v.npz"


def _plain_zip(tmp):
    with zipfile.ZipFile(tmp / "z.npz", "w") as zf:
        zf.writestr("readme.txt", "hello")
    return tmp / "z.npz"


FOREIGN = [
    (_missing, "does not exist"),
    (_directory, "is not a file"),
    (_empty, "it is an empty file"),
    (_random_bytes, "binary data of another kind"),
    (_scenario_toml, "a scenario or policy .toml?"),
    (_scenario_renamed, "a scenario or policy .toml?"),
    (_npy, "a single numpy array (.npy)"),
    (_truncated, "a damaged or truncated zip archive"),
    (_other_npz, "an archive without the entries values, metadata (it has: x, y)"),
    (_no_metadata, "an archive without the entries metadata"),
    (_plain_zip, "without the entries values, metadata (it has: readme.txt)"),
]


@pytest.mark.parametrize(("make", "message"), FOREIGN, ids=[f.__name__ for f, _ in FOREIGN])
def test_foreign_file_is_named_and_explained(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ResultsFileError) as info:
        pe.load_results(path)
    text = str(info.value)
    assert message in text and str(path) in text
    assert "allow_pickle" not in text and "\n" not in text


# ------------------------------------------------------------------ damaged archives
def test_bit_flip_in_compressed_data_is_damage(tmp_path):
    path = write(tmp_path / "f.npz", vals=np.arange(2 * 4 * 2 * len(METRICS), dtype=float)
                 .reshape(2, 4, 2, len(METRICS)))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("values.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(10, 40):  # flip bits in the deflated stream of 'values'
        data[start + k] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(ResultsFileError, match="is a damaged results file"):
        pe.load_results(path)


def test_pickled_metadata_is_never_loaded(tmp_path):
    path = write(tmp_path / "p.npz", raw_meta=np.array([{"format": "peakend.results"}],
                                                       dtype=object))
    with pytest.raises(ResultsFileError, match="peakend never unpickles files"):
        pe.load_results(path)


# ------------------------------------------------------------------ metadata against the schema
SCHEMA = [
    ("not_json", None, "{not json", "entry 'metadata' is not valid JSON"),
    ("a_list", None, json.dumps([1, 2]), "must be a JSON object, got list"),
    ("two_d", None, np.array([["a"]]), "must be one JSON string"),
    ("format", {"format": "other.tool"}, None, "metadata key 'format' is 'other.tool'"),
    ("no_format", {"format": DROP}, None, "metadata key 'format' is None"),
    ("schema_2", {"schema_version": 2}, None, "has results schema version 2; this peakend "
                                              "reads version 1"),
    ("schema_str", {"schema_version": "1"}, None, "schema_version: Input should be a valid "
                                                  "integer"),
    ("missing_seed", {"seed": DROP}, None, "seed: missing key"),
    ("missing_rules", {"rules": DROP}, None, "rules: missing key"),
    ("extra_key", {"colour": "blue"}, None, "colour: unknown key"),
    ("seed_str", {"seed": "7"}, None, "seed: Input should be a valid integer, got '7'"),
    ("seed_negative", {"seed": -1}, None, "seed: Input should be greater than or equal to 0"),
    ("seed_float", {"seed": 7.0}, None, "seed: Input should be a valid integer"),
    ("reps_zero", {"n_replications": 0}, None, "n_replications: Input should be greater than "
                                               "or equal to 1"),
    ("reps_bool", {"n_replications": True}, None, "n_replications: Input should be a valid "
                                                  "integer"),
    ("policies_str", {"policies": "baseline"}, None, "policies: Input should be a valid list"),
    ("policies_empty", {"policies": [], "policy_specs": []}, None, "policies: List should have "
                                                                   "at least 1 item"),
    ("policy_number", {"policies": ["baseline", 3]}, None, "policies.1: Input should be a valid "
                                                           "string"),
    ("duplicate", {"policies": ["a", "a"], "policy_specs": [
        {"name": "a", "description": "", "changes": {}}] * 2}, None,
     "policies: labels must be distinct, repeated: ['a']"),
    ("rule_without_metric", {"rules": ["peak_end", "mean"]}, None,
     "rules: no metric remembered[<rule>] for ['mean']"),
    ("specs_mismatch", {"policy_specs": [{"name": "x", "description": "", "changes": {}}] * 2},
     None, "policy_specs: names ['x', 'x'] differ from policies ['baseline', 'a']"),
    ("spec_missing_key", {"policy_specs": [{"name": "baseline", "changes": {}},
                                           {"name": "a", "description": "", "changes": {}}]},
     None, "policy_specs.0.description: missing key"),
    ("spec_extra_key", {"policy_specs": [{"name": "baseline", "description": "", "changes": {},
                                          "cost": 3}, {"name": "a", "description": "",
                                                       "changes": {}}]},
     None, "policy_specs.0.cost: unknown key"),
    ("scenario_list", {"scenario": [1]}, None, "scenario: Input should be a valid dictionary"),
    ("version_number", {"version": 0.1}, None, "version: Input should be a valid string"),
]


@pytest.mark.parametrize(("change", "raw", "message"), [c[1:] for c in SCHEMA],
                         ids=[c[0] for c in SCHEMA])
def test_metadata_breaking_the_schema_names_the_key(tmp_path, change, raw, message):
    if raw is None:
        path = write(tmp_path / "m.npz", meta=metadata(**change))
    else:
        path = write(tmp_path / "m.npz", raw_meta=raw if isinstance(raw, np.ndarray)
                     else np.array(raw))
    with pytest.raises(ResultsFileError) as info:
        pe.load_results(path)
    text = str(info.value)
    assert message in text and str(path) in text
    assert "\n" not in text


# ------------------------------------------------------------------ values against the metadata
def test_values_of_another_shape(tmp_path):
    path = write(tmp_path / "v.npz", vals=values(3))
    with pytest.raises(ResultsFileError, match=r"announces shape \(2, 4, 2, 11\)"):
        pe.load_results(path)


def test_values_of_another_dtype(tmp_path):
    text = np.full((2, 4, 2, len(METRICS)), "ab", dtype="<U2")  # 8 bytes a cell, like float64
    path = write(tmp_path / "v.npz", vals=text)
    with pytest.raises(ResultsFileError, match=r"must be a float64 array of shape"):
        pe.load_results(path)


def test_values_three_dimensional(tmp_path):
    path = write(tmp_path / "v.npz", vals=values().reshape(2, 8, len(METRICS)))
    with pytest.raises(ResultsFileError, match=r"got float64 of shape \(2, 8, 11\)"):
        pe.load_results(path)


def test_errors_are_value_errors_for_old_callers(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        pe.load_results(tmp_path / "missing.npz")


# ------------------------------------------------------------------ fuzzing the bytes
GOOD = None


def _good_bytes() -> bytes:
    global GOOD
    if GOOD is None:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            GOOD = write(Path(d) / "g.npz").read_bytes()
    return GOOD


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_damage_is_a_results_file_error_or_a_good_load(data, tmp_path_factory):
    raw = bytearray(_good_bytes())
    kind = data.draw(st.sampled_from(["flip", "truncate", "append"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        raw += data.draw(st.binary(min_size=1, max_size=64))
    path = tmp_path_factory.mktemp("fuzz") / "f.npz"
    path.write_bytes(bytes(raw))
    try:
        res = pe.load_results(path)
    except ResultsFileError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:  # the damage missed everything that matters (e.g. a zip timestamp)
        assert res.values.shape == (2, 4, 2, len(METRICS)) and res.seed == 7


# ------------------------------------------------------------------ bad arguments to the tables
def _res():
    return pe.load_results(write(Path(__import__("tempfile").mkdtemp()) / "ok.npz"))


API = [
    (lambda r: r.summary(metrics=5), "metrics: expected a name or a list of names, got 5"),
    (lambda r: r.summary(segments=[1]), "segments: expected a name or a list of names, got [1]"),
    (lambda r: r.compare(metrics={"a": 1}), "metrics: expected a name or a list of names"),
    (lambda r: r.summary("wait_maen"), "metric 'wait_maen' is not in these results (did you "
                                       "mean 'wait_mean'"),
    (lambda r: r.summary(segments="vipp"), "segment 'vipp' is not in these results (did you "
                                           "mean 'vip'?)"),
    (lambda r: r.compare("basline"), "policy 'basline' is not in these results (did you mean "
                                     "'baseline'?)"),
    (lambda r: r.get("cost", policy="aa"), "policy 'aa' is not in these results"),
    (lambda r: r.pareto("peak_edn"), "(did you mean 'peak_end'"),
    (lambda r: r.cost_per_point(segment="al"), "segment 'al' is not in these results (did you "
                                               "mean 'all'?)"),
    (lambda r: r.rankings(rules=["peak_end", "nope"]), "metric 'nope' is not in these results"),
    (lambda r: r.compare(confidence=95), "confidence must be a number in (0, 1), got 95"),
    (lambda r: r.summary(confidence="0.9"), "confidence must be a number in (0, 1), got '0.9'"),
    (lambda r: r.rule_disagreement(confidence=0), "confidence must be a number in (0, 1), got 0"),
    (lambda r: r.headline(confidence=1.0), "confidence must be a number in (0, 1), got 1.0"),
]


@pytest.mark.parametrize(("call", "message"), API, ids=[f"api{i}" for i in range(len(API))])
def test_bad_table_argument_is_named(call, message):
    with pytest.raises(ValueError) as info:
        call(_res())
    assert message in str(info.value)


def test_saving_results_that_break_the_schema_names_the_key(tmp_path):
    res = pe.experiment.Results(values(), policies=POLICIES, segments=SEGMENTS, metrics=METRICS,
                                seed=-4, rules=("peak_end",), scenario={"name": "x"},
                                policy_specs=metadata()["policy_specs"], version="0")
    with pytest.raises(ValueError, match="cannot save these results: invalid metadata: seed: "
                                         "Input should be greater than or equal to 0"):
        res.save(tmp_path / "r.npz")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_an_archive_entry_name_with_a_line_break_keeps_the_error_on_one_line(tmp_path):
    import zipfile

    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("val\nues.npy", b"x")
    with pytest.raises(ResultsFileError) as info:
        pe.load_results(path)
    assert "\n" not in str(info.value) and "val\\nues" in str(info.value)
