"""Import paths kept by the split of big modules into smaller ones.

The lists below were printed from the modules before the split
(``sorted(n for n in dir(m) if not n.startswith("_"))``), leaving out only what those
modules had themselves imported from the standard library, typing, numpy and pydantic
(``math``, ``Field``, ``np``, ...), which were never peakend's names.
"""

from __future__ import annotations

import importlib

import pytest

CONFIG_MODELS = [
    "Abandonment", "Arrivals", "AvailabilityBlock", "BusinessType", "ClockTime",
    "CounterGroup", "Deterministic", "Distribution", "Empirical", "Entrance", "Exponential",
    "Farewell", "Gamma", "GiftUtility", "Hall", "JOURNEY_TOUCHPOINTS", "JourneyTouchpoint",
    "LEVEL_TOUCHPOINTS", "LevelTouchpoint", "Limits", "Lobby", "Lognormal", "Lounge",
    "MAX_CLOCK_HOURS", "MAX_CUSTOMERS_PER_DAY", "MAX_GAMMA_CV", "MAX_LOGNORMAL_CV",
    "MEMORY_RULE_PARAMS", "MIN_GAMMA_CV", "MIN_MEAN_MINUTES", "MIN_SERVICE_MINUTES",
    "MemoryRule", "MixBlock", "Mixture", "Model", "ParamRange", "Quality", "RateBlock",
    "Route", "RouteSpec", "RuleName", "Scenario", "Segment", "ShiftBlock",
    "SimpleDistribution", "Stage", "StaticTouchpoint", "TOUCHPOINTS", "ValueFunction",
    "WEIBULL_SHAPE_RANGE", "Weibull", "count_at", "max_count", "plan_hours", "weibull_shape",
]
#: ``peakend.config.models.__all__`` before the split.
CONFIG_MODELS_ALL = [
    "JOURNEY_TOUCHPOINTS", "LEVEL_TOUCHPOINTS", "MAX_CLOCK_HOURS", "MAX_CUSTOMERS_PER_DAY",
    "MEMORY_RULE_PARAMS", "TOUCHPOINTS", "Abandonment", "Arrivals", "AvailabilityBlock",
    "BusinessType", "ClockTime", "CounterGroup", "Deterministic", "Distribution",
    "Empirical", "Entrance", "Exponential", "Farewell", "Gamma", "GiftUtility", "Hall",
    "Limits", "Lobby", "Lognormal", "Lounge", "MemoryRule", "MixBlock", "Mixture", "Model",
    "ParamRange", "Quality", "RateBlock", "Route", "RouteSpec", "Scenario", "Segment",
    "ShiftBlock", "Stage", "StaticTouchpoint", "ValueFunction", "Weibull",
]


@pytest.mark.parametrize("name", CONFIG_MODELS)
def test_every_name_of_config_models_is_still_importable(name):
    models = importlib.import_module("peakend.config.models")
    assert hasattr(models, name), f"peakend.config.models lost {name!r}"
    exec(f"from peakend.config.models import {name}", {})  # the form users write


def test_config_models_all_is_unchanged():
    from peakend.config import models

    assert list(models.__all__) == CONFIG_MODELS_ALL


def test_config_models_names_are_the_config_packages_objects():
    # one class per name: the package, the hub and the defining module hand out the same one
    import peakend.config as config
    from peakend.config import models

    for name in config.__all__:
        if hasattr(models, name):
            assert getattr(config, name) is getattr(models, name), name
    scenario = models.Scenario
    assert importlib.import_module(scenario.__module__).Scenario is scenario


PLOTS = [
    "AFFECT_LABEL", "JourneysPlot", "OKABE_ITO", "ResultsPlot", "cost_value_pareto",
    "hall_queue", "is_significant", "journey_map", "moments_of_truth", "pareto_frontier",
    "policy_comparison", "remembered_distribution", "rule_rankings",
]


@pytest.mark.parametrize("name", PLOTS)
def test_every_name_of_plots_is_still_importable(name):
    plots = importlib.import_module("peakend.plots")
    assert hasattr(plots, name), f"peakend.plots lost {name!r}"
    exec(f"from peakend.plots import {name}", {})
    assert name in plots.__all__


def test_the_plot_accessors_are_the_packages_classes():
    import peakend as pe
    from peakend import plots

    day = pe.simulate(pe.scenarios.mmc(0.5, 0.2, 4, 1.0), seed=1)
    assert type(day.plot) is plots.JourneysPlot


METRICS = [
    "ALL", "ChurnModel", "ComplaintModel", "FloatArray", "IntArray", "SEED_COMPLAINT_RANGE",
    "SURVEY_METRICS", "Survey", "SurveyMapping", "churn_probability", "complaint_iceberg",
    "complaints", "csat", "customer_effort", "early_warning", "likelihood_to_recommend",
    "missed_promise_gap", "net_promoter_score", "segment_survey_metrics", "survey",
    "with_marketing_uplift",
    "_perceived_wait_of", "_remembered_of",  # private, but peakend.loyalty imports them
]


@pytest.mark.parametrize("name", METRICS)
def test_every_name_of_metrics_is_still_importable(name):
    metrics = importlib.import_module("peakend.metrics")
    assert hasattr(metrics, name), f"peakend.metrics lost {name!r}"
    exec(f"from peakend.metrics import {name}", {})


@pytest.mark.parametrize("module", ["peakend.metrics", "peakend.plots"])
def test_the_api_page_lists_every_function_and_class_of_a_split_module(module):
    # the page lists these packages' members by name (to keep the order of the page from
    # before the split): a new function or class must be added to the list to be shown
    import inspect
    import re
    from pathlib import Path

    page = (Path(__file__).parents[1] / "docs" / "reference" / "api.md").read_text("utf-8")
    block = re.search(rf"::: {re.escape(module)}\n((?:    .*\n)+)", page)
    assert block is not None, f"no members list for {module} on docs/reference/api.md"
    listed = re.findall(r"^        - (\w+)$", block.group(1), re.M)
    mod = importlib.import_module(module)
    wanted = [n for n in mod.__all__
              if inspect.isclass(getattr(mod, n)) or inspect.isfunction(getattr(mod, n))]
    assert sorted(set(wanted) - set(listed)) == []
    assert set(listed) <= set(mod.__all__)
