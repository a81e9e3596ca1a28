"""The plot accessors and the report hooks reach the code that draws and writes them."""

import re

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.axes import Axes

import peakend as pe
from peakend.cli import main


@pytest.fixture(scope="module")
def results():
    scenario = pe.load_scenario("default_branch")
    five = pe.Policy("five", {"counters": {"general": {"tellers": 5}}})
    return pe.run(scenario, [pe.Policy("baseline"), five], replications=4, seed=2,
                  progress=False)


def test_journeys_plot_accessor_draws_a_journey_and_the_queue():
    day = pe.simulate(pe.load_scenario("default_branch"), seed=1)
    ax = day.plot.journey(0)
    assert isinstance(ax, Axes) and ax.lines
    ax = day.plot.queue()
    assert isinstance(ax, Axes) and ax.lines


def test_results_plot_accessor_returns_axes(results):
    for name in ("compare", "pareto", "rules"):
        ax = getattr(results.plot, name)()
        assert isinstance(ax, Axes), name
        assert ax.lines or ax.collections or ax.patches, name


def test_results_report_writes_one_self_contained_page(results, tmp_path):
    path = results.report(tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "r.html"
    assert "<svg" in text and "five" in text
    assert not re.search(r'(src|href)\s*=\s*"https?://', text)  # nothing from the network


def test_cli_report_flag_writes_report_html(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "default_branch", "--replications", "3",
                 "--out", str(out), "--report", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert (out / "report.html").is_file()
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")


def test_cli_optimize_prints_the_plan_and_writes_a_policy_file_run_reads(tmp_path, capsys):
    policy = tmp_path / "plan.toml"
    code = main(["optimize", "default_branch", "--target", "all.wait_mean <= 8",
                 "--blocks", "1", "--replications", "5", "--out", str(policy)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "staffing plan" in out
    plans = pe.experiment.load_policies(policy, pe.load_scenario("default_branch"))
    assert [p.name for p in plans] == ["optimized"]


def test_cli_optimize_refuses_a_bad_target_naming_it(capsys):
    code = main(["optimize", "default_branch", "--target", "all.wiat_mean <= 8"])
    err = capsys.readouterr().err
    assert code == 2
    assert "wiat_mean" in err and "did you mean" in err
