"""Tests for peakend.experiment: policies, run (CRN, executors, checkpoints), Results.

The simulation tests use a short version of the built-in default branch (a
two-hour day) so that the whole file stays within about a minute on 2 cores.
"""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.experiment import (
    ALL,
    BASE_METRICS,
    METRIC_DESCRIPTIONS,
    TIDY_COLUMNS,
    CheckpointError,
    Policy,
    PolicyError,
    Results,
    builtin_policy_sets,
    deep_merge,
    load_policies,
    replication_seed,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "reference" / "results.md"


# --------------------------------------------------------------------------- helpers
def short_branch():
    """default_branch cut to its first two opening hours (fast, same structure)."""
    s = pe.load_scenario("default_branch")
    return Policy("short", {"closing": s.opening + 2.0}).apply(s)


def synthetic_results(values=None, policies=("baseline", "a", "b"), seed=3):
    rng = np.random.default_rng(0)
    metrics = ("remembered[peak_end]", "remembered[integral]", *BASE_METRICS)
    segments = (ALL, "mass", "vip")
    if values is None:
        values = rng.normal(size=(len(policies), 8, len(segments), len(metrics)))
    return Results(
        values, policies=policies, segments=segments, metrics=metrics, seed=seed,
        rules=("peak_end", "integral"), scenario={"name": "x"},
        policy_specs=[{"name": p, "description": "", "changes": {}} for p in policies],
        version=pe.__version__,
    )


# --------------------------------------------------------------------------- policies
def test_deep_merge_merges_tables_and_replaces_the_rest():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    out = deep_merge(base, {"a": {"y": [3]}, "c": {"z": 1}})
    assert out == {"a": {"x": 1, "y": [3]}, "b": 2, "c": {"z": 1}}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # not modified


def test_policy_apply_changes_only_named_fields():
    s = pe.load_scenario("default_branch")
    group = next(iter(s.counters))
    p = Policy("one_more", {"counters": {group: {"cost_per_hour": 999.0}}})
    t = p.apply(s)
    assert t.counters[group].cost_per_hour == 999.0
    assert t.counters[group].tellers == s.counters[group].tellers
    assert t.segments == s.segments and t.arrivals == s.arrivals
    assert Policy("baseline").apply(s) is s


def test_policy_errors_name_policy_and_field():
    s = pe.load_scenario("default_branch")
    group = next(iter(s.counters))
    with pytest.raises(PolicyError, match=rf"'bad'.*counters\.{group}\.cost_per_hour"):
        Policy("bad", {"counters": {group: {"cost_per_hour": -5}}}).apply(s)
    with pytest.raises(PolicyError, match=r"'typo'.*hal\b"):
        Policy("typo", {"hal": {"distraction": True}}).apply(s)
    with pytest.raises(PolicyError, match="non-empty"):
        Policy("")
    with pytest.raises(PolicyError, match="values must be"):
        Policy("obj", {"x": object()})


def test_policy_compose_later_wins_and_add():
    a = Policy("a", {"hall": {"distraction": True, "wait_display": False}}, "distract")
    b = Policy("b", {"hall": {"wait_display": True}}, "display")
    c = a + b
    assert c.name == "a+b" and c.description == "distract; display"
    assert c.changes == {"hall": {"distraction": True, "wait_display": True}}
    d = Policy.compose(a, b, name="both")
    assert d.name == "both" and d.changes == c.changes
    assert (b + a).changes["hall"]["wait_display"] is False


def test_builtin_policy_set_is_valid_for_default_branch():
    assert "default_branch" in builtin_policy_sets()
    s = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", s)
    names = [p.name for p in policies]
    assert names[0] == "baseline" and policies[0].changes == {}
    assert len(names) == len(set(names)) >= 6
    # every non-baseline policy changes the scenario
    base = s.model_dump()
    for p in policies[1:]:
        assert p.apply(s).model_dump() != base, p.name


def test_policy_file_errors(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("[a]\nchanges.hall.distraction = true\n[b]\ncompose = ['zzz']\n")
    with pytest.raises(PolicyError, match="'b'.*'zzz'"):
        load_policies(f)
    f.write_text("[a]\nchange = 1\n")
    with pytest.raises(PolicyError, match="unknown key"):
        load_policies(f)
    f.write_text("[a\n")
    with pytest.raises(PolicyError, match="invalid TOML"):
        load_policies(f)
    with pytest.raises(PolicyError, match="neither"):
        load_policies("no_such_set")
    f.write_text("[a]\nchanges.hall.distraction = true\n[b]\ncompose = ['a']\n"
                 "changes.hall.wait_display = true\n")
    a, b = load_policies(f)
    assert b.changes == {"hall": {"distraction": True, "wait_display": True}}


# --------------------------------------------------------------------------- seeds
def test_replication_seed_is_the_spawned_child():
    kids = np.random.SeedSequence(42).spawn(5)
    for r in (0, 3, 4):
        assert np.array_equal(replication_seed(42, r).generate_state(8),
                              kids[r].generate_state(8))


# --------------------------------------------------------------------------- results (synthetic)
def test_summary_matches_stats_and_flags_small_n():
    res = synthetic_results()
    tab = res.summary("peak_end", "vip")
    assert len(tab) == 3
    x = res.values[1, :, 2, 0]
    row = next(r for r in tab.rows() if r["policy"] == "a")
    assert row["mean"] == pytest.approx(x.mean())
    assert row["sd"] == pytest.approx(x.std(ddof=1))
    small = synthetic_results(np.zeros((3, 2, 3, 2 + len(BASE_METRICS))))
    assert set(small.summary()["note"]) == {"n<3"}


def test_compare_holm_across_policies_and_self_zero():
    vals = synthetic_results().values.copy()
    vals[2] = vals[0]  # policy b identical to baseline
    vals[1, :, :, 0] = vals[0, :, :, 0] + 1.0 + 0.01 * np.arange(8)[:, None]
    res = synthetic_results(vals)
    cmp = res.compare("baseline", "peak_end")
    b = cmp.where(policy="b")
    assert np.all(b["difference"] == 0.0) and np.all(b["p_value"] == 1.0)
    a = cmp.where(policy="a", segment="all")
    assert a["difference"][0] == pytest.approx(1.035)
    # Holm with a family of two: the smaller p is doubled
    assert a["p_holm"][0] == pytest.approx(min(1.0, 2 * a["p_value"][0]))


def test_cost_per_point_and_pareto():
    vals = np.zeros((3, 5, 3, 2 + len(BASE_METRICS)))
    cost = 2 + BASE_METRICS.index("cost")
    noise = np.array([0.0, 0.1, -0.1, 0.05, -0.05])
    vals[0, :, :, 0] = 1.0 + noise[:, None]
    vals[1, :, :, 0] = 3.0 + noise[:, None]  # +2 points
    vals[2, :, :, 0] = 0.5 + noise[:, None]  # worse
    vals[0, :, :, cost] = 1000.0
    vals[1, :, :, cost] = 1300.0  # +300 per day
    vals[2, :, :, cost] = 1100.0
    res = synthetic_results(vals)
    cpp = res.cost_per_point()
    assert cpp.where(policy="a")["cost_per_point"][0] == pytest.approx(150.0)
    assert cpp.where(policy="b")["note"][0] == "dominated"
    par = res.pareto()
    assert dict(zip(par["policy"], par["efficient"], strict=True)) == {
        "baseline": True, "a": True, "b": False}


def test_rule_disagreement_finds_reversed_pair():
    vals = np.zeros((3, 6, 3, 2 + len(BASE_METRICS)))
    jitter = np.linspace(-0.1, 0.1, 6)[:, None]
    vals[:, :, :, 0] = np.array([1.0, 2.0, 3.0])[:, None, None] + jitter  # peak_end: b > a > base
    vals[:, :, :, 1] = np.array([10.0, 30.0, 20.0])[:, None, None] + jitter  # integral: a > b
    res = synthetic_results(vals)
    dis = res.rule_disagreement("peak_end", "integral")
    assert len(dis) == 1
    row = next(dis.rows())
    assert {row["policy_1"], row["policy_2"]} == {"a", "b"} and row["both_significant"]
    ranks = res.rankings()
    assert ranks["peak_end"].tolist() == [3.0, 2.0, 1.0]
    assert ranks["integral"].tolist() == [3.0, 1.0, 2.0]


def test_to_pandas_tidy_schema():
    res = synthetic_results()
    df = res.to_pandas()
    assert [(c, str(t)) for c, t in df.dtypes.items()] == list(TIDY_COLUMNS)
    assert len(df) == res.values.size
    row = df.iloc[517]
    p, r, s, m = np.unravel_index(517, res.values.shape)
    assert (row.policy, row.replication, row.segment, row.metric) == (
        res.policies[p], r, res.segments[s], res.metrics[m])
    assert row.value == res.values[p, r, s, m] and row.seed == 3


def test_to_pandas_without_pandas_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"peakend\[pandas\]"):
        synthetic_results().to_pandas()


def test_save_load_roundtrip_without_pickle(tmp_path):
    res = synthetic_results()
    path = res.save(tmp_path / "r")
    assert path.suffix == ".npz"
    back = pe.load_results(path)
    assert back == res and back.policy_specs == res.policy_specs
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["metadata", "values"]
        meta = json.loads(str(z["metadata"]))
    assert meta["format"] == "peakend.results" and meta["seed"] == 3
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a peakend results file"):
        pe.load_results(tmp_path / "bad.npz")


def test_repr_and_html():
    res = synthetic_results()
    text = repr(res)
    assert "3 policies x 8 replications" in text and "baseline" in text
    html = res._repr_html_()
    assert html.count("<tr>") == 1 + 3 * 3


def test_results_schema_matches_docs():
    """docs/reference/results.md documents every metric, tidy column and file key."""
    text = DOCS.read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z_0-9\[\]<>]+)` \|", text, flags=re.M)
    for metric in ("remembered[<rule>]", *BASE_METRICS):
        assert metric in documented, metric
    assert set(METRIC_DESCRIPTIONS) == {"remembered[<rule>]", *BASE_METRICS}
    for column, dtype in TIDY_COLUMNS:
        assert f"| `{column}` | {dtype} |" in text
    meta = synthetic_results().metadata()
    for key in meta:
        assert f"`{key}`" in text, key
    assert f"| `schema_version` | `{meta['schema_version']}` |" in text
