"""Results tables as pandas DataFrames: columns, dtypes, attrs, significance, empty days."""

from __future__ import annotations

import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import peakend as pe
from peakend.experiment import ALL, BASE_METRICS, Results
from peakend.experiment._table import format_markdown, format_text
from peakend.experiment._tables import COLUMNS

METRICS = ("remembered[peak_end]", "remembered[integral]", *BASE_METRICS)
SEGMENTS = (ALL, "mass", "vip")


def make(values=None, policies=("baseline", "a", "b"), seed=3) -> Results:
    if values is None:
        values = np.random.default_rng(0).normal(size=(len(policies), 8, 3, len(METRICS)))
    return Results(values, policies=policies, segments=SEGMENTS, metrics=METRICS, seed=seed,
                   rules=("peak_end", "integral"), scenario={"name": "x", "currency": "EUR"},
                   policy_specs=[{"name": p, "description": "", "changes": {}} for p in policies],
                   version=pe.__version__)


TABLES = {
    "summary": lambda r: r.summary(),
    "compare": lambda r: r.compare(),
    "cost_per_point": lambda r: r.cost_per_point(),
    "pareto": lambda r: r.pareto(),
    "rankings": lambda r: r.rankings(),
    "rule_disagreement": lambda r: r.rule_disagreement(),
    "headline": lambda r: r.headline(),
}
TYPEABLE = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.mark.parametrize("kind", list(TABLES))
def test_every_table_is_a_dataframe_with_typeable_columns(kind):
    df = TABLES[kind](make())
    assert isinstance(df, pd.DataFrame)
    assert isinstance(df.index, pd.RangeIndex)
    expected = list(COLUMNS[kind]) + (["peak_end", "integral"] if kind == "rankings" else [])
    assert list(df.columns) == expected
    assert all(TYPEABLE.match(c) for c in df.columns), list(df.columns)
    assert df.attrs["title"]
    assert len(df) > 0 or kind == "rule_disagreement"


def test_documented_columns_match_the_code():
    docs = Path(__file__).resolve().parents[1] / "docs" / "reference" / "results.md"
    page = docs.read_text(encoding="utf-8")
    for kind, cols in COLUMNS.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{kind}("))
        assert ", ".join(cols) in row, kind


def test_dtypes_are_plain_and_typed():
    cmp = make().compare()
    assert cmp["significant"].dtype == bool and cmp["n"].dtype == np.int64
    assert cmp["difference"].dtype == np.float64
    assert pd.api.types.is_string_dtype(cmp["policy"])
    assert make().pareto()["efficient"].dtype == bool


def test_compare_significant_is_holm_at_one_minus_confidence():
    rng = np.random.default_rng(5)
    vals = rng.normal(size=(4, 10, 3, len(METRICS)))
    # policy a: a clear gain; b: a small one whose raw p is just below 0.05; c: none
    noise = rng.normal(size=10)
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    for p, shift in ((1, 3.0), (2, 0.8), (3, 0.0)):
        vals[p, :, :, 0] = vals[0, :, :, 0] + shift + noise[:, None]
    res = make(vals, policies=("baseline", "a", "b", "c"))
    cmp = res.compare(metrics="peak_end", segments="all")
    raw = dict(zip(cmp["policy"], cmp["p_value"], strict=True))
    holm = dict(zip(cmp["policy"], cmp["p_holm"], strict=True))
    sig = dict(zip(cmp["policy"], cmp["significant"], strict=True))
    # b: t = 0.8 * sqrt(10) = 2.53, p = 0.032 raw; Holm multiplies by 2 (second smallest)
    assert raw["b"] == pytest.approx(2 * sps.t.sf(0.8 * np.sqrt(10), 9))
    assert raw["b"] < 0.05 < holm["b"]
    assert sig == {"a": True, "b": False, "c": False}
    loose = res.compare(metrics="peak_end", segments="all", confidence=0.9)
    assert dict(zip(loose["policy"], loose["significant"], strict=True))["b"]  # 0.064 < 0.1
    full = res.compare()
    assert (full["significant"] == (full["p_holm"] < 0.05)).all()


def test_compare_interval_is_the_paired_t_interval():
    res = make()
    cmp = res.compare("baseline", "wait_mean", "vip")
    d = res.get("wait_mean", "vip", "a") - res.get("wait_mean", "vip", "baseline")
    half = sps.t.ppf(0.975, 7) * d.std(ddof=1) / np.sqrt(8)
    row = cmp[cmp["policy"] == "a"].iloc[0]
    assert row["difference"] == pytest.approx(d.mean())
    assert row["half_width"] == pytest.approx(half)
    assert (row["low"], row["high"]) == pytest.approx((d.mean() - half, d.mean() + half))


def test_attrs_carry_the_settings():
    res = make()
    cmp = res.compare("a", confidence=0.9)
    assert cmp.attrs["baseline"] == "a" and cmp.attrs["confidence"] == 0.9
    assert "Holm" in cmp.attrs["title"] and "p < 0.1" in cmp.attrs["title"]
    assert res.pareto("integral").attrs["rule"] == "integral"
    assert res.headline().attrs["rule"] == "peak_end"


def test_headline_is_the_headline_rule_per_segment():
    res = make()
    head = res.headline()
    row = head[(head["policy"] == "b") & (head["segment"] == "vip")].iloc[0]
    x = res.get("peak_end", "vip", "b")
    assert row["remembered"] == pytest.approx(x.mean())
    assert row["half_width"] == pytest.approx(sps.t.ppf(0.975, 7) * x.std(ddof=1) / np.sqrt(8))


def test_unknown_names_say_did_you_mean():
    res = make()
    with pytest.raises(ValueError, match=r"metric 'wait_maen' .*did you mean 'wait_mean'"):
        res.get("wait_maen")
    with pytest.raises(ValueError, match=r"segment 'vipp' .*did you mean 'vip'"):
        res.summary(segments="vipp")
    with pytest.raises(ValueError, match=r"policy 'basline' .*did you mean 'baseline'"):
        res.compare("basline")
    with pytest.raises(ValueError, match=r"metric 'peak_edn' .*did you mean 'peak_end'"):
        res.pareto("peak_edn")
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\), got 1.5"):
        res.summary(confidence=1.5)


# --------------------------------------------------------------------------- a day with no one
def closed_values():
    vals = np.random.default_rng(2).normal(size=(2, 5, 3, len(METRICS)))
    k = {m: i for i, m in enumerate(METRICS)}
    vals[1] = np.nan  # policy "closed": nobody came
    vals[1, :, :, k["n_customers"]] = 0.0
    for m in ("gift_cost", "staff_cost", "fixed_cost"):
        vals[1, :, :, k[m]] = 0.0
    vals[1, :, :, k["cost"]] = 900.0
    vals[0, :, :, k["n_customers"]] = 50.0
    return vals


def test_no_customers_gives_explicit_notes_and_no_warnings():
    res = make(closed_values(), policies=("baseline", "closed"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" or invalid-value warnings
        summ = res.summary("peak_end")
        cmp = res.compare(metrics="peak_end")
        par = res.pareto()
        cpp = res.cost_per_point()
        head = res.headline()
        ranks = res.rankings()
        text = repr(res)
    closed = summ[summ["policy"] == "closed"]
    assert closed["mean"].isna().all() and (closed["note"] == "no customers").all()
    assert (closed["n"] == 0).all()
    assert (cmp["note"] == "no customers").all() and not cmp["significant"].any()
    assert par.set_index("policy").loc["closed", "note"] == "no customers"
    assert not par.set_index("policy").loc["closed", "efficient"]
    assert par.set_index("policy").loc["baseline", "efficient"]
    assert cpp["note"].tolist() == ["no customers"]
    assert head.loc[head["policy"] == "closed", "n_customers"].eq(0).all()
    assert np.isnan(ranks.set_index("policy").loc["closed", "peak_end"])
    assert "closed" in text


def test_undefined_is_told_apart_from_no_customers():
    vals = closed_values()
    k = METRICS.index("n_customers")
    vals[1, :, :, k] = 10.0  # customers came, but (say) every one balked: no wait to average
    res = make(vals, policies=("baseline", "closed"))
    summ = res.summary("wait_mean")
    assert (summ.loc[summ["policy"] == "closed", "note"] == "undefined").all()


def test_a_run_with_no_arrivals_gives_valid_results():
    s = pe.load_scenario("default_branch")
    profile = [dict(b, rate=0.0) for b in s.model_dump()["arrivals"]["profile"]]
    closed = pe.Policy("closed", {"arrivals": {"profile": profile}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = pe.run(s, [pe.Policy("baseline"), closed], replications=3, workers=1,
                     progress=False)
        summ = res.summary("peak_end", "all")
        par = res.pareto()
    assert np.all(res.get("n_customers", ALL, "closed") == 0)
    assert summ.set_index("policy").loc["closed", "note"] == "no customers"
    assert res.get("cost", ALL, "closed")[0] == pytest.approx(s.staff_cost() + s.fixed_cost())
    assert par.set_index("policy").loc["baseline", "efficient"]


# --------------------------------------------------------------------------- text rendering
def test_text_columns_have_one_number_format_per_column():
    df = pd.DataFrame({"policy": ["a", "b", "c", "d"],
                       "value": [12.3, 0.00005, float("nan"), 1234567.0],
                       "p_value": [0.5, 1e-9, 0.04, float("nan")],
                       "ok": [True, False, True, False]})
    df.attrs["title"] = "a title"
    lines = format_text(df, digits={"value": 2}).splitlines()
    assert lines[0] == "a title"
    cells = [ln.split() for ln in lines[2:]]
    assert [c[1] for c in cells] == ["12.30", "0.00", "-", "1234567.00"]  # 2 decimals, all rows
    assert [c[2] for c in cells] == ["0.500", "<0.001", "0.040", "-"]  # p-values: 3 decimals
    assert [c[3] for c in cells] == ["yes", "no", "yes", "no"]
    widths = {len(ln) for ln in lines[1:]}
    assert len(widths) == 1  # numbers right-aligned: every line as long as the header
    md = format_markdown(df).splitlines()
    assert md[1] == "|---|---|---|---|" and md[2].startswith("| a | 12.30 |")


def test_negative_zero_is_printed_as_zero():
    df = pd.DataFrame({"x": [-0.001, 0.5]})
    assert format_text(df, title=False).splitlines()[1].strip() == "0.00"


def test_repr_and_html_show_the_headline():
    res = make()
    text = repr(res)
    assert text.startswith("Results: 3 policies x 8 replications")
    header = text.splitlines()[1].split()
    assert header == ["policy", "remembered", "half_width", "wait_mean", "abandonment_rate",
                      "cost", "n_customers"]  # segment "all" only
    html = res._repr_html_()
    assert "<table" in html and "remembered value (peak_end" in html


# --------------------------------------------------------------------------- hooks
def test_plot_and_report_hooks_call_the_helpers(monkeypatch, tmp_path):
    from peakend import plots

    class FakePlot:
        def __init__(self, results):
            self.results = results

    monkeypatch.setattr(plots, "ResultsPlot", FakePlot, raising=False)
    res = make()
    assert res.plot.results is res
    fake = types.ModuleType("peakend.report")
    calls = []

    def write_report(results, path, **kwargs):
        calls.append((results, path, kwargs))
        return path

    fake.write_report = write_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "peakend.report", fake)
    out = res.report(tmp_path / "r.html", title="T")
    assert out == tmp_path / "r.html" and calls == [(res, tmp_path / "r.html", {"title": "T"})]
