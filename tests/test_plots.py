"""Tests for peakend.plots: check what is drawn, not only that nothing raises."""

from __future__ import annotations

import itertools

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PolyCollection
from matplotlib.patches import PathPatch

from peakend import plots, stats
from peakend.journeys import Journeys

TOUCHPOINTS = ["entrance", "waiting", "counter", "farewell"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def two_patients() -> Journeys:
    """Redelmeier & Kahneman's patients A and B as two four-episode journeys.

    Both peak at -8; A ends at -7, B at -1, so peak-end gives -7.5 and -4.5.
    """
    return Journeys(
        customers={
            "customer": [0, 1],
            "segment": [0, 1],
            "arrival": [0.0, 30.0],
            "wait": [2.0, 2.0],
            "departure": [8.0, 50.0],
            "remembered": [-7.5, -4.5],
        },
        episodes={
            "touchpoint": [0, 1, 2, 3, 0, 1, 2, 3],
            "start": [0.0, 1.0, 3.0, 6.0, 30.0, 31.0, 40.0, 45.0],
            "end": [1.0, 3.0, 6.0, 8.0, 31.0, 40.0, 45.0, 50.0],
            "affect": [-2.0, -8.0, -5.0, -7.0, -2.0, -8.0, 8.0, -1.0],
        },
        offsets=[0, 4, 8],
        segments=["ordinary", "gold"],
        business_types=["deposit"],
        touchpoints=TOUCHPOINTS,
        counters=["general-1"],
    )


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ----------------------------------------------------------------- journey map


def test_journey_map_draws_one_path_per_customer_with_peak_end_and_remembered(two_patients):
    ax = plots.journey_map(two_patients, [0, 1])
    paths = [line for line in ax.get_lines() if line.get_label().startswith("customer")]
    assert len(paths) == 2
    # customer 0's path passes through every episode's affect, timed from arrival
    x, y = paths[0].get_data()
    y = np.asarray(y)
    assert list(y[np.isfinite(y)]) == [-2.0, -2.0, -8.0, -8.0, -5.0, -5.0, -7.0, -7.0]
    assert np.isnan(y).sum() == 3  # one flat segment per episode
    assert x[0] == 0.0 and x[-1] == 8.0
    assert len([ln for ln in ax.get_lines() if ln.get_label() == "_connector"]) == 2
    x1, _ = paths[1].get_data()
    assert x1[0] == 0.0 and x1[-1] == 20.0  # customer 1 arrived at 30, left at 50
    texts = _texts(ax)
    # remembered values written; touchpoints named; peak marked on the waiting episode
    assert "-7.5" in texts and "+4.5" not in texts and "-4.5" in texts
    # customer 0 peaks (-8) while waiting; customer 1's +8 at the counter ties -8 while
    # waiting, and bad wins the tie: so both peaks are the waiting episode
    assert texts.count("waiting · peak") == 2
    assert "counter · peak" not in texts
    assert texts.count("end") == 2
    assert {"entrance", "counter", "farewell"} <= set(texts)
    # expectation line at zero, and labelled axes with units
    zero = [ln for ln in ax.get_lines() if ln.get_label().startswith("expectation met")]
    assert len(zero) == 1 and set(zero[0].get_ydata()) == {0.0}
    assert "minutes" in ax.get_xlabel()
    assert "−10..10" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("(gold)" in t and "-4.5" in t for t in legend)


def test_journey_map_marks_peak_and_end_at_episode_midpoints(two_patients):
    ax = plots.journey_map(two_patients, 0, label_touchpoints=False)
    markers = {ln.get_marker(): ln for ln in ax.get_lines() if ln.get_marker() in ("o", "s")}
    px, py = markers["o"].get_data()
    ex, ey = markers["s"].get_data()
    assert (float(np.ravel(px)[0]), float(np.ravel(py)[0])) == (2.0, -8.0)  # waiting 1..3
    assert (float(np.ravel(ex)[0]), float(np.ravel(ey)[0])) == (7.0, -7.0)  # farewell 6..8
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and set(dashed[0].get_ydata()) == {-7.5}
    # only the peak is named when touchpoint labels are off
    assert "peak" in _texts(ax) and "entrance" not in _texts(ax)


def test_journey_map_opening_time_axis_and_rule(two_patients):
    ax = plots.journey_map(two_patients, [1], time="opening", rule="end")
    (path,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("customer")]
    x, _ = path.get_data()
    assert x[0] == 30.0
    assert ax.get_xlabel() == "minutes from opening"
    assert "-1.0" in _texts(ax)  # end rule: the last affect


def test_journey_map_uses_given_axes(two_patients):
    fig, ax = plt.subplots()
    assert plots.journey_map(two_patients, ax=ax) is ax
    assert len(fig.axes) == 1


@pytest.mark.parametrize("customers", [[2], [-1], []])
def test_journey_map_rejects_bad_customers(two_patients, customers):
    with pytest.raises(ValueError, match="customers"):
        plots.journey_map(two_patients, customers)


def test_journey_map_rejects_bad_time(two_patients):
    with pytest.raises(ValueError, match="time"):
        plots.journey_map(two_patients, time="clock")


# --------------------------------------------------------------- distributions


def _boxes(ax) -> list[PathPatch]:
    return [p for p in ax.patches if isinstance(p, PathPatch)]


def test_remembered_distribution_nested_dict_one_box_per_group():
    data = {
        "baseline": {"ordinary": [-3.0, -2.0, -1.0], "gold": [-4.0, -3.0]},
        "extra teller": {"ordinary": [-1.0, 0.0, 1.0], "gold": [-2.0, -1.0]},
    }
    ax = plots.remembered_distribution(data)
    assert len(_boxes(ax)) == 4
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ordinary", "gold"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baseline", "extra teller"]
    assert "remembered" in ax.get_ylabel() and "−10..10" in ax.get_ylabel()
    assert ax.get_xlabel() == "customer segment"
    # the mean markers sit at the group means
    means = sorted(
        float(np.ravel(ln.get_ydata())[0]) for ln in ax.get_lines() if ln.get_marker() == "D"
    )
    assert means == pytest.approx(sorted([-2.0, -3.5, 0.0, -1.5]))


def test_remembered_distribution_tidy_frame_filters_metric():
    import pandas as pd
    frame = pd.DataFrame(
        {
            "policy": ["a", "a", "b", "b", "a", "b"],
            "replication": [0, 1, 0, 1, 0, 0],
            "seed": 0,
            "segment": ["vip", "vip", "vip", "vip", "vip", "vip"],
            "metric": ["remembered_mean"] * 4 + ["wait_mean"] * 2,
            "value": [1.0, 2.0, 3.0, 4.0, 99.0, 99.0],
        }
    )
    ax = plots.remembered_distribution(frame, metric="remembered_mean")
    assert len(_boxes(ax)) == 2
    tops = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    assert max(float(np.ravel(ln.get_ydata())[0]) for ln in tops) == 3.5
    with pytest.raises(ValueError, match="metric"):
        plots.remembered_distribution(frame, metric="nope")


def test_remembered_distribution_from_journeys_frame(two_patients):
    import pandas  # noqa: F401
    ax = plots.remembered_distribution(two_patients.to_pandas(), order=["gold", "ordinary"])
    assert len(_boxes(ax)) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["gold", "ordinary"]
    assert ax.get_legend() is None  # a single (unnamed) policy


def test_remembered_distribution_rejects_unknown_order():
    with pytest.raises(ValueError, match="order"):
        plots.remembered_distribution({"gold": [1.0]}, order=["vip"])


# ----------------------------------------------------------------- forest plot

COMPARE = {
    "policy": ["extra teller", "gift", "extra teller", "gift"],
    "segment": ["ordinary", "ordinary", "gold", "gold"],
    "diff": [0.8, -0.5, 0.2, 0.6],
    "ci_low": [0.6, -0.7, -0.2, 0.2],
    "ci_high": [1.0, -0.3, 0.6, 1.0],
}


def _estimates(ax):
    """(marker, face colour, edge colour) of each row's estimate, from the top down."""
    return [(ln.get_marker(), matplotlib.colors.to_hex(ln.get_markerfacecolor()),
             matplotlib.colors.to_hex(ln.get_color()))
            for ln in ax.get_lines() if ln.get_label() == "_estimate"]


def test_policy_comparison_one_interval_per_row_sorted_by_effect_significance_by_shape():
    ax = plots.policy_comparison(COMPARE, baseline="baseline")
    cis = [ln for ln in ax.get_lines() if ln.get_label() == "_ci"]
    assert len(cis) == 4
    # within each segment, best effect on top: ordinary 0.8 > -0.5; gold 0.6 > 0.2
    assert [list(ln.get_xdata()) for ln in cis] == [[0.6, 1.0], [-0.7, -0.3], [0.2, 1.0],
                                                    [-0.2, 0.6]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["extra teller", "gift", "gift",
                                                            "extra teller"]
    colors = [matplotlib.colors.to_hex(ln.get_color()) for ln in cis]
    assert colors == [c.lower() for c in (plots._GOOD, plots._BAD, plots._GOOD, plots._NEUTRAL)]
    # shape as well as colour: filled up triangle, filled down triangle, hollow circle
    marks = _estimates(ax)
    assert [m for m, _, _ in marks] == ["^", "v", "^", "o"]
    assert marks[0][1] == plots._GOOD.lower() and marks[1][1] == plots._BAD.lower()
    assert marks[3][1] == "#ffffff"  # hollow: not significant
    assert {"ordinary", "gold"} <= set(_texts(ax))  # segment headers
    assert {"+0.80", "-0.50", "+0.60", "+0.20"} <= set(_texts(ax))  # values at the right
    assert "baseline" in ax.get_xlabel() and "affect points" in ax.get_xlabel()
    zero = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [0, 0]]
    assert len(zero) == 1
    # a legend says what colour, shape and filling mean
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "better than baseline", "worse than baseline", "no significant difference"]
    assert "filled = significant" in legend.get_title().get_text()


def test_policy_comparison_uses_holm_not_the_unadjusted_interval():
    """One notion of significance: Holm-adjusted, as in the tables and the CLI."""
    table = {"policy": ["a", "b", "c"], "difference": [0.5, 0.4, -0.3],
             "low": [0.1, 0.05, -0.5], "high": [0.9, 0.75, -0.1],
             "p_holm": [0.015, 0.08, 0.02]}  # b's interval excludes 0, but not after Holm
    marks = _estimates(plots.policy_comparison(table))
    assert [m for m, _, _ in marks] == ["^", "o", "v"]
    np.testing.assert_array_equal(plots.is_significant(table), [True, False, True])
    # a 'significant' column (the DataFrame tables of Results.compare) wins over p_holm
    table["significant"] = [False, True, True]
    marks = _estimates(plots.policy_comparison(table))
    assert [m for m, _, _ in marks] == ["o", "^", "v"]
    assert "Holm" in plots.policy_comparison(table).get_legend().get_title().get_text()
    # a stricter test level changes the verdict of p_holm (0.015 and 0.02 are not < 0.01)
    del table["significant"]
    np.testing.assert_array_equal(plots.is_significant(table, confidence=0.99),
                                  [False, False, False])
    with pytest.raises(ValueError, match="confidence"):
        plots.is_significant(table, confidence=1.0)


def test_policy_comparison_reads_a_dataframe_with_a_significant_column():
    import pandas as pd

    frame = pd.DataFrame({"policy": ["a", "b"], "segment": ["all", "all"],
                          "metric": ["remembered[peak_end]"] * 2,
                          "difference": [0.2, 0.3], "low": [0.1, 0.2], "high": [0.3, 0.4],
                          "p_value": [0.01, 0.001], "p_holm": [0.02, 0.002],
                          "significant": [False, True]})
    ax = plots.policy_comparison(frame, metric="remembered[peak_end]")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert [m for m, _, _ in _estimates(ax)] == ["^", "o"]


def test_policy_comparison_readable_with_many_policies():
    n = 14
    rng = np.random.default_rng(3)
    diff = rng.normal(0, 1, n)
    table = {"policy": [f"policy {i}" for i in range(n)], "difference": diff,
             "low": diff - 0.3, "high": diff + 0.3, "p_holm": np.full(n, 0.5)}
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * (n + 1) + 1.6), layout="constrained")
    plots.policy_comparison(table, ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"policy {i}" for i in np.argsort(-diff)]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert all(not a.overlaps(b) for a, b in itertools.pairwise(boxes))
    # the legend sits below the axis label, covering neither it nor the plot
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert legend_box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0
    assert legend_box.y1 <= ax.get_window_extent(renderer).y0
    assert legend_box.y0 >= 0  # inside the figure


def test_policy_comparison_column_names_and_errors():
    table = {"policy": ["p"], "mean_diff": [1.0], "lower": [0.5], "upper": [1.5]}
    ax = plots.policy_comparison(table)
    assert len([ln for ln in ax.get_lines() if ln.get_label() == "_ci"]) == 1
    assert "all customers" in _texts(ax)
    with pytest.raises(ValueError, match="estimate"):
        plots.policy_comparison({"policy": ["p"], "ci_low": [0.0], "ci_high": [1.0]})
    with pytest.raises(ValueError, match="exceeds"):
        plots.policy_comparison({"policy": ["p"], "diff": [0.0], "ci_low": [1.0],
                                 "ci_high": [0.0]})


def test_policy_comparison_skips_baseline_rows():
    table = {k: [*v, v[0]] for k, v in COMPARE.items()}
    table["policy"][-1] = "baseline"
    ax = plots.policy_comparison(table, baseline="baseline")
    assert len([ln for ln in ax.get_lines() if ln.get_label() == "_ci"]) == 4


# ------------------------------------------------------------------ hall queue


def test_hall_queue_step_series_and_staffing_twin_axis():
    ax = plots.hall_queue([0.0, 10.0, 20.0, 30.0], [0, 3, 5, 1],
                          staffing_time=[0.0, 15.0], staffing=[2, 4], close=60.0)
    (queue_line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("customers")]
    x, y = queue_line.get_data()
    assert list(x) == [0.0, 10.0, 20.0, 30.0, 60.0]  # extended to closing
    assert list(y) == [0, 3, 5, 1, 1]
    assert queue_line.get_drawstyle() == "steps-post"
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1
    (staff,) = twins[0].get_lines()
    assert list(staff.get_xdata()) == [0.0, 15.0, 60.0]
    assert list(staff.get_ydata()) == [2, 4, 4]
    assert "tellers" in twins[0].get_ylabel() and "count" in twins[0].get_ylabel()
    assert "customers" in ax.get_ylabel()
    assert ax.get_xlabel() == "minutes from opening"
    assert ax.get_xlim() == (0.0, 60.0)
    assert len(ax.get_legend().get_texts()) == 2
    # common limits for small multiples
    ax2 = plots.hall_queue([0.0], [2], staffing_time=[0.0], staffing=[1], close=60.0,
                           queue_max=10, staffing_max=6)
    twin2 = next(a for a in ax2.figure.axes if a is not ax2)
    assert ax2.get_ylim()[1] > 10 and twin2.get_ylim()[1] > 6


def test_hall_queue_clock_axis():
    ax = plots.hall_queue([0.0, 90.0], [1, 2], close=480.0, opening="09:00")
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert labels[0] == "09:00" and labels[-1] == "17:00" and "12:00" in labels
    assert "time of day" in ax.get_xlabel()
    assert len(ax.figure.axes) == 1  # no staffing given, no twin
    ax = plots.hall_queue([0.0, 90.0], [1, 2], close=60.0, opening=9.5)  # Scenario.opening
    assert ax.xaxis.get_major_formatter()(30.0, None) == "10:00"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time": [1.0, 0.0], "length": [1, 2]}, "non-decreasing"),
        ({"time": [0.0], "length": [1, 2]}, "equal length"),
        ({"time": [0.0], "length": [1], "staffing": [1]}, "both or neither"),
        ({"time": [0.0], "length": [1], "opening": "9h"}, "opening"),
        ({"time": [0.0], "length": [1], "opening": "25:00"}, "opening"),
        ({"time": [0.0], "length": [1], "opening": 24.0}, "opening"),
    ],
)
def test_hall_queue_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.hall_queue(**kwargs)


# -------------------------------------------------------------- cost vs value


def test_pareto_frontier_by_hand():
    cost = [100.0, 150.0, 120.0, 150.0, 90.0]
    value = [-1.0, 0.5, -1.5, 0.2, -2.0]
    # 120 is beaten by 100 (cheaper, better); (150, 0.2) by (150, 0.5)
    assert plots.pareto_frontier(cost, value).tolist() == [4, 0, 1]
    # exact duplicates are both on the frontier, as in stats.pareto_efficient
    assert plots.pareto_frontier([1.0, 1.0], [2.0, 2.0]).tolist() == [0, 1]
    # an infinite cost is never efficient
    assert plots.pareto_frontier([np.inf, 2.0], [5.0, 1.0]).tolist() == [1]
    with pytest.raises(ValueError, match="NaN"):
        plots.pareto_frontier([1.0], [np.nan])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 3)), min_size=1, max_size=12))
def test_pareto_frontier_agrees_with_the_tables(points):
    """The plotted frontier is exactly the set the experiment tables mark as efficient."""
    cost = np.array([p[0] for p in points], dtype=float)
    value = np.array([p[1] for p in points], dtype=float)
    front = plots.pareto_frontier(cost, value)
    assert sorted(front.tolist()) == np.flatnonzero(stats.pareto_efficient(cost, value)).tolist()
    assert np.all(np.diff(cost[front]) >= 0)


def test_cost_value_pareto_highlights_frontier():
    ax = plots.cost_value_pareto([100.0, 150.0, 120.0], [-1.0, 0.5, -1.5],
                                 ["base", "teller", "gift"], value_err=[0.1, 0.1, 0.1])
    by_label = {ln.get_label(): ln for ln in ax.get_lines()}
    assert list(by_label["Pareto frontier"].get_xdata()) == [100.0, 150.0]
    assert list(by_label["dominated"].get_xdata()) == [120.0]
    assert {"base", "teller", "gift"} == set(_texts(ax))
    assert "cost" in ax.get_xlabel() and "currency" in ax.get_xlabel()
    assert "affect points" in ax.get_ylabel()
    with pytest.raises(ValueError, match="labels"):
        plots.cost_value_pareto([1.0, 2.0], [1.0, 2.0], ["one"])


# ------------------------------------------------------------- moments of truth


def test_moments_of_truth_heat_map_annotated():
    shares = np.array([[0.1, 0.0], [0.6, 0.2], [0.3, 0.8]])
    ax = plots.moments_of_truth(shares, ["welcome", "waiting", "counter"], ["ordinary", "vip"])
    assert len(ax.images) == 1
    assert ax.images[0].get_array().shape == (3, 2)
    assert _texts(ax) == ["10%", "0%", "60%", "20%", "30%", "80%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["welcome", "waiting", "counter"]
    assert ax.get_xlabel() == "customer segment" and ax.get_ylabel() == "touchpoint"
    assert len(ax.figure.axes) == 2  # the colour bar


def test_moments_of_truth_signed_and_frame():
    import pandas as pd
    frame = pd.DataFrame({"gold": [-0.5, 0.25]}, index=["waiting", "counter"])
    ax = plots.moments_of_truth(frame)
    assert _texts(ax) == ["-50%", "+25%"]
    cmap = ax.images[0].get_cmap()
    # colour-blind safe diverging map: vermillion for negative, blue for positive, no green/red
    assert matplotlib.colors.to_hex(cmap(0.0)) == plots._BAD.lower()
    assert matplotlib.colors.to_hex(cmap(1.0)) == plots._GOOD.lower()
    assert ax.images[0].get_clim() == (-1.0, 1.0)


def test_moments_of_truth_errors():
    with pytest.raises(ValueError, match="labels"):
        plots.moments_of_truth(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        plots.moments_of_truth(np.zeros((2, 2)), ["a"], ["x", "y"])
    with pytest.raises(ValueError, match=r"0\.\.1"):
        plots.moments_of_truth(np.full((1, 1), 1.5), ["a"], ["x"])


# ---------------------------------------------------------------- rule rankings


def test_rule_rankings_bump_chart_ranks():
    scores = {
        "peak_end": {"baseline": -2.0, "teller": -1.0, "gift": -0.5},
        "integral": {"baseline": -30.0, "teller": -10.0, "gift": -28.0},
    }
    ax = plots.rule_rankings(scores)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"baseline", "teller", "gift"}
    assert list(lines["gift"].get_ydata()) == [1, 2]
    assert list(lines["teller"].get_ydata()) == [2, 1]
    assert list(lines["baseline"].get_ydata()) == [3, 3]
    # policies whose rank changes are drawn thicker
    assert lines["gift"].get_linewidth() > lines["baseline"].get_linewidth()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["peak_end", "integral"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # rank 1 on top
    assert "rank" in ax.get_ylabel()
    assert "-10" in _texts(ax)


def test_rule_rankings_lower_is_better_and_frame():
    import pandas as pd
    frame = pd.DataFrame({"wait": [5.0, 3.0]}, index=["a", "b"])
    ax = plots.rule_rankings(frame, higher_is_better=False, annotate_values=False)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert list(lines["b"].get_ydata()) == [1]
    with pytest.raises(ValueError, match="no value"):
        plots.rule_rankings({"r1": {"a": 1.0}, "r2": {"b": 2.0}})


def test_module_does_not_import_pyplot_at_import_time():
    import subprocess
    import sys

    code = "import sys, peakend.plots; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_moments_of_truth_from_cem_classification(two_patients):
    from peakend.cem import moments_of_truth

    mot = moments_of_truth(two_patients, intensity=2.0, min_share=0.2)
    ax = plots.moments_of_truth(mot, share="negative")
    # rows touchpoints, columns the two segments plus all customers
    assert ax.images[0].get_array().shape == (4, 3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ordinary", "gold", "all customers"]
    texts = _texts(ax)
    # both patients' worst moment (-8) is the waiting episode: 100 % in every column, a
    # negative moment of truth; the entrance (-2) is never the worst moment
    assert texts[3:6] == ["100% ▼"] * 3
    assert texts[0:3] == ["0%"] * 3
    # the default, net map: the same cells, signed
    assert _texts(plots.moments_of_truth(mot))[3:6] == ["-100% ▼"] * 3
    ax2 = plots.moments_of_truth(mot, share="net", include_all=False)
    assert ax2.images[0].get_array().shape == (4, 2)
    assert ax2.images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="share"):
        plots.moments_of_truth(mot, share="best")


def test_policy_comparison_reads_experiment_compare_columns():
    """Results.compare() names its columns difference / low / high."""
    table = {"policy": ["lunch"], "segment": ["all"], "metric": ["remembered[peak_end]"],
             "difference": [0.4], "low": [0.1], "high": [0.7], "p_holm": [0.01]}
    ax = plots.policy_comparison(table, metric="remembered[peak_end]")
    (ci,) = [ln for ln in ax.get_lines() if ln.get_label() == "_ci"]
    assert list(ci.get_xdata()) == [0.1, 0.7]


def test_rule_rankings_from_a_table_with_a_policy_column():
    table = {"policy": ["a", "b", "c"], "peak_end": [1.0, 2.0, 3.0], "integral": [3.0, 1.0, 2.0]}
    ax = plots.rule_rankings(table, higher_is_better=False)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert list(lines["b"].get_ydata()) == [2, 1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["peak_end", "integral"]


def _overlapping_texts(ax) -> list[tuple[str, str]]:
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    from matplotlib.text import Text

    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in ax.texts
             if t.get_text() and t.get_visible()]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.overlaps(box_b)]


def test_journey_map_labels_do_not_overlap_on_a_simulated_day():
    """Readability: on a real simulated day, no two labels of the map cover each other."""
    import peakend as pe

    day = pe.simulate(pe.load_scenario("default_branch"), seed=1)
    c = day.customers
    served = np.flatnonzero((c["counter"] >= 0) & (c["wait"] > 5.0))
    _, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    plots.journey_map(day, served[:2].tolist(), ax=ax)
    assert _overlapping_texts(ax) == []
    # one label per episode of each customer, plus peak/end/remembered notes
    n_episodes = sum(int(day.offsets[i + 1] - day.offsets[i]) for i in served[:2])
    assert len(ax.texts) >= n_episodes + 2 * 2


def test_cost_value_pareto_labels_of_crowded_points_do_not_overlap():
    # pairs of policies at the same cost and almost the same value (a real study's shape)
    cost = np.repeat([3700.0, 4300.0, 4900.0, 5500.0], 4) + np.tile([0, 0, 540, 540], 4)
    value = np.array([-1.2, -1.45, -1.1, -2.3, -0.3, -0.43, -0.28, -0.64,
                      -0.09, -0.1, -0.1, -0.16, -0.04, -0.05, -0.05, -0.07])
    names = [f"policy {i}" for i in range(16)]
    _, ax = plt.subplots(figsize=(7, 4.8), layout="constrained")
    plots.cost_value_pareto(cost, value, names, ax=ax)
    assert sorted(_texts(ax)) == sorted(names)
    assert _overlapping_texts(ax) == []


def _mot(pos, neg, peak, kind):
    from peakend.cem import MomentsOfTruth

    arr = [np.asarray(x, dtype=float)[None, :] for x in (pos, neg, peak)]
    return MomentsOfTruth(segments=(), touchpoints=tuple(f"t{i}" for i in range(len(pos))),
                          reach=np.ones_like(arr[0]), mean_affect=np.zeros_like(arr[0]),
                          peak_share=arr[2], positive_peak_share=arr[0],
                          negative_peak_share=arr[1], kind=np.asarray([kind]),
                          intensity=2.0, min_share=0.2)


@pytest.mark.parametrize("share", ["net", "positive", "negative", "peak"])
def test_moments_of_truth_marks_agree_with_the_number_shown(share):
    """A "0 %" cell never carries a triangle: mark and number use the same measure."""
    # t0: best moments here (30 %) but no peaks (0 %: the peaks were bad, elsewhere);
    # t1: worst moments 40 %, best 10 %; t2: a tie 25 % / 25 % (classified negative)
    mot = _mot(pos=[0.3, 0.1, 0.25], neg=[0.0, 0.4, 0.25], peak=[0.0, 0.5, 0.5],
               kind=["positive", "negative", "negative"])
    texts = _texts(plots.moments_of_truth(mot, share=share))
    for text in texts:
        number = float(text.split("%")[0]) / 100
        if "▲" in text:
            assert number > 0 and share in ("net", "positive")
        if "▼" in text:
            assert (number < 0 and share == "net") or (number > 0 and share == "negative")
    expected = {"net": ["+30% ▲", "-30% ▼", "+0%"], "positive": ["30% ▲", "10%", "25%"],
                "negative": ["0%", "40% ▼", "25% ▼"], "peak": ["0%", "50%", "50%"]}
    assert texts == expected[share]


# --------------------------------------------------------------- plot accessors


@pytest.fixture(scope="module")
def small_results():
    import peakend as pe

    scenario = pe.load_scenario("default_branch")
    lunch = {"counters": {"general": {"tellers": [
        {"start": "09:00", "count": 4}, {"start": "11:30", "count": 5},
        {"start": "14:00", "count": 4}]}}}
    gift = {"segments": {"ordinary": {"farewell": {
        "enabled": True, "minutes": 0.5, "level": 7.0, "plain_level": 5.0, "gift_size": 1.0,
        "gift_cost": 3.0}}}}
    policies = [pe.Policy("baseline"), pe.Policy("lunch", lunch), pe.Policy("gift", gift)]
    return pe.run(scenario, policies, replications=6, seed=5, progress=False)


def test_results_plot_compare_marks_the_holm_significant_rows(small_results):
    results = small_results
    ax = plots.ResultsPlot(results).compare()
    table = small_results.compare("baseline", "peak_end")
    assert len([ln for ln in ax.get_lines() if ln.get_label() == "_ci"]) == len(table)
    # filled triangles exactly where Holm's p < 0.05, hollow circles elsewhere
    filled = sum(m != "o" for m, _, _ in _estimates(ax))
    assert filled == int((table["p_holm"] < 0.05).sum())
    assert "peak_end" in ax.get_xlabel() and "affect points" in ax.get_xlabel()
    ax2 = plots.ResultsPlot(results).compare(metric="cost", segments="all")
    assert "CNY per day" in ax2.get_xlabel()
    assert len([ln for ln in ax2.get_lines() if ln.get_label() == "_ci"]) == 2


def test_results_plot_pareto_has_the_frontier_of_the_table_and_the_currency(small_results):
    results = small_results
    ax = plots.ResultsPlot(results).pareto()
    table = small_results.pareto()
    front = {ln.get_label(): ln for ln in ax.get_lines()}["Pareto frontier"]
    assert sorted(front.get_xdata()) == sorted(table["cost"][table["efficient"]])
    assert "CNY" in ax.get_xlabel()
    assert set(_texts(ax)) == set(small_results.policies)


def test_results_plot_rules_ranks_every_policy_under_every_rule(small_results):
    ax = plots.ResultsPlot(small_results).rules()
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == set(small_results.policies)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(small_results.rules)
    ranks = small_results.rankings()
    for policy, line in lines.items():
        row = list(ranks["policy"]).index(policy)
        assert list(line.get_ydata()) == [ranks[r][row] for r in small_results.rules]


def test_journeys_plot_queue_draws_the_shift_plan_and_clock_time():
    import peakend as pe

    scenario = pe.load_scenario("default_branch")
    lunch = pe.Policy("lunch", {"counters": {"general": {"tellers": [
        {"start": "09:00", "count": 4}, {"start": "11:30", "count": 5},
        {"start": "14:00", "count": 4}]}}}).apply(scenario)
    day = pe.simulate(lunch, seed=2)
    ax = plots.JourneysPlot(day, lunch).queue()
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    (staff,) = twin.get_lines()
    # 4 general + 1 VIP teller, one more general teller 11:30-14:00
    assert list(staff.get_xdata()) == [0.0, 150.0, 300.0, 480.0]
    assert list(staff.get_ydata()) == [5, 6, 5, 5]
    assert ax.xaxis.get_major_formatter()(0.0, None) == "09:00"
    (queue_line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("customers")]
    assert list(queue_line.get_ydata()[:-1]) == list(day.queue["length"])
    # without a scenario: no staffing axis
    assert len(plots.JourneysPlot(day).queue().figure.axes) == 1
    with pytest.raises(ValueError, match="day"):
        plots.JourneysPlot(day).queue(day=3)


def test_journeys_plot_journey_is_the_journey_map(two_patients):
    ax = plots.JourneysPlot(two_patients).journey(1, rule="end")
    assert "-1.0" in _texts(ax)
    _, ax2 = plt.subplots()
    assert plots.JourneysPlot(two_patients).journey(ax=ax2) is ax2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_journey_map_labels_never_overlap_for_three_long_journeys(seed):
    """Bounding boxes of every label, measured with the Agg renderer after drawing."""
    import peakend as pe

    day = pe.simulate(pe.load_scenario("default_branch"), seed=seed)
    lengths = np.diff(day.offsets)
    chosen = np.argsort(-lengths, kind="stable")[:3].tolist()  # the busiest journeys
    _, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    plots.journey_map(day, chosen, ax=ax)
    assert _overlapping_texts(ax) == []


def test_every_colour_drawn_is_from_the_colour_blind_safe_palette(small_results, two_patients):
    safe = {c.lower() for c in plots.OKABE_ITO}

    def hues(ax):
        found = set()
        for ln in ax.get_lines():
            for c in (ln.get_color(), ln.get_markerfacecolor()):
                if isinstance(c, str) and c == "none":
                    continue
                rgb = matplotlib.colors.to_rgb(c)
                if max(rgb) - min(rgb) > 0.05:  # skip greys, black and white
                    found.add(matplotlib.colors.to_hex(rgb))
        return found

    axes = [plots.ResultsPlot(small_results).compare(), plots.ResultsPlot(small_results).pareto(),
            plots.ResultsPlot(small_results).rules(), plots.journey_map(two_patients, [0, 1])]
    for ax in axes:
        assert hues(ax) <= safe, ax.get_title()
