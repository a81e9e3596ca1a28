"""Scenario configuration: validation, loading, schema, built-ins, mmc()."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import peakend as pe
from peakend.config import Scenario, deep_merge, load_scenario, scenario_schema
from peakend.config.models import Empirical, Gamma, Lognormal
from peakend.scenarios import builtin_names, mmc

DOCS = Path(__file__).resolve().parent.parent / "docs" / "reference" / "scenario.md"


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return load_scenario("default_branch").model_dump()


def build(base: dict[str, Any], changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(base, changes))


# --------------------------------------------------------------------------- built-ins
def test_builtins_load_and_are_listed():
    names = builtin_names()
    assert {"default_branch", "gold_card_paradox", "vip_contrast"} <= set(names)
    for name in names:
        s = load_scenario(name)
        assert isinstance(s, Scenario)
        assert s.name == name
    assert pe.load_scenario is load_scenario
    assert pe.Scenario is Scenario


def test_default_branch_matches_the_issue():
    s = load_scenario("default_branch")
    # 200-300 customers a day, 4 general counters, 1 VIP window, lounge, 5/15/80 % mix
    assert 200 <= s.expected_arrivals() <= 300
    assert s.counters["general"].tellers == 4
    assert s.counters["vip"].tellers == 1
    assert s.counters["vip"].segments == ["vip"]
    assert s.lounge.enabled
    shares = {k: v.share for k, v in s.segments.items()}
    assert shares == pytest.approx({"vip": 0.05, "gold": 0.15, "ordinary": 0.80})
    # a lunch peak: the highest rate is in the 12:00-14:00 window
    peak = max(s.arrivals.profile, key=lambda b: b.rate)
    assert 12.0 <= peak.start < 14.0


def test_lobby_manager_shift_plans():
    s = load_scenario("default_branch")
    opening, closing = s.opening, s.closing
    plan = [{"start": opening, "count": 1}, {"start": 12.0, "count": 3}]
    changed = Scenario.model_validate(
        deep_merge(s.model_dump(), {"lobby": {"managers": plan, "cost_per_hour": 50.0}})
    )
    assert changed.managers_at(opening) == 1 and changed.managers_at(13.0) == 3
    hours = 1 * (12.0 - opening) + 3 * (closing - 12.0)
    assert changed.manager_hours() == pytest.approx(hours)
    flat = Scenario.model_validate(
        deep_merge(s.model_dump(), {"lobby": {"managers": 0, "cost_per_hour": 50.0}})
    )
    assert changed.staff_cost() == pytest.approx(flat.staff_cost() + 50.0 * hours)
    bad = {
        "lobby.managers: shift block start": [{"start": closing + 1, "count": 1}],
        "managers: shift block starts must strictly increase": [
            {"start": 12.0, "count": 1},
            {"start": 11.0, "count": 2},
        ],
        "managers: shift block counts must be between 0 and 100": [
            {"start": opening, "count": 101}
        ],
        "managers: must be between 0 and 100": 101,
    }
    for message, managers in bad.items():
        with pytest.raises(ValidationError, match=message):
            Scenario.model_validate(deep_merge(s.model_dump(), {"lobby": {"managers": managers}}))


def test_staff_cost_from_shift_plans():
    # default_branch: 4 general x 8 h x 80 + 1 VIP x 8 h x 150 + 1 lobby manager x 8 h x 60
    assert load_scenario("default_branch").staff_cost() == pytest.approx(
        4 * 8 * 80 + 8 * 150 + 8 * 60
    )
    # gold_card_paradox: general 3 (9-12), 4 (12-13), 3 (13-17) teller-hours at 80,
    # one gold window at 90, one VIP window at 150, one lobby manager at 60
    general = (3 * 3 + 4 * 1 + 3 * 4) * 80
    assert load_scenario("gold_card_paradox").staff_cost() == pytest.approx(
        general + 8 * 90 + 8 * 150 + 8 * 60
    )


def test_derived_quantities():
    g = load_scenario("gold_card_paradox")
    assert [g.tellers_at("general", h) for h in (9.0, 11.99, 12.0, 12.5, 13.0, 16.9)] == [
        3,
        3,
        4,
        4,
        3,
        3,
    ]
    assert g.teller_hours("general") == pytest.approx(3 * 3 + 4 * 1 + 3 * 4)
    d = load_scenario("default_branch")
    assert d.fixed_cost() == pytest.approx(300.0)  # the lounge; no distraction, no display
    both = build(d.model_dump(), {"hall": {"distraction": True, "wait_display": True}})
    assert both.fixed_cost() == pytest.approx(300.0 + 50.0 + 20.0)
    flex = build(d.model_dump(), {"counters": {"vip": {"discipline": "flexible"}}})
    assert flex.served_segments("vip") == ["vip", "gold", "ordinary"]
    prio = build(
        d.model_dump(),
        {"counters": {"general": {"discipline": "priority", "priority": ["gold"]}}},
    )
    assert prio.served_segments("general") == ["gold", "ordinary"]
    # offered load: expected work over staffed teller time, by hand for mmc
    assert mmc(1.0, 0.25, 5, 3).offered_load() == pytest.approx(1.0 / (5 * 0.25))


def test_load_from_path_and_unknown_name(tmp_path):
    src = (Path(pe.config.builtin_dir()) / "default_branch.toml").read_text()
    path = tmp_path / "my_branch.toml"
    path.write_text(src.replace('name = "default_branch"\n', ""))
    s = load_scenario(path)
    assert s.name == "my_branch"  # defaults to the file stem
    with pytest.raises(FileNotFoundError, match="name_or_path"):
        load_scenario("no_such_branch")


def test_clock_times_accept_hh_mm_and_hours(base):
    s = build(base, {"opening": "08:30", "closing": 17.25})
    assert s.opening == pytest.approx(8.5)
    assert s.open_minutes == pytest.approx(525.0)
    with pytest.raises(ValidationError, match="opening"):
        build(base, {"opening": "8h30"})


def test_round_trip_and_policy_merge(base):
    s = load_scenario("default_branch")
    assert Scenario.model_validate(s.model_dump()) == s
    assert Scenario.model_validate_json(s.model_dump_json()) == s
    more = build(base, {"counters": {"general": {"tellers": 5}}})
    assert more.counters["general"].tellers == 5
    assert more.counters["vip"] == s.counters["vip"]  # untouched parts survive the merge
    assert more.staff_cost() == pytest.approx(s.staff_cost() + 8 * 80)


def test_models_are_frozen():
    s = load_scenario("default_branch")
    with pytest.raises(ValidationError):
        s.closing = 18.0  # type: ignore[misc]


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("changes", "field", "hint"),
    [
        ({"arrivals": {"profile": [{"start": "09:00", "rate": -5}]}}, "rate", r">= 0|greater"),
        ({"segments": {"vip": {"share": 0.3}}}, r"share", r"sum to 1"),
        ({"segments": {"vip": {"share": 1.5}}}, r"share", r"less than or equal to 1"),
        ({"counters": {"vip": {"segments": ["gold"]}}}, r"counters", r"'vip'"),
        ({"counters": {"vip": {"tellers": 0}}}, r"counters", r"'vip'"),
        ({"closing": "08:00"}, r"closing", r"after opening \(09:00\)"),
        ({"segments": {"vip": {"expectations": {"coffee": 5}}}}, r"expectations", r"entrance"),
        ({"journey": ["entrance", "coffee", "waiting", "service"]}, r"journey", r"entrance"),
        ({"journey": ["entrance", "service"]}, r"journey", r"waiting"),
        ({"segments": {"vip": {"colour": "gold"}}}, r"colour", r"Extra inputs"),
        ({"tellers": 4}, r"tellers", r"Extra inputs"),
        ({"segments": {"gold": {"business_mix": {"deposit": 0.9}}}}, r"business_mix", r"sum"),
        ({"segments": {"gold": {"business_mix": {"loans": 1.0}}}}, r"business_mix", r"loans"),
        (
            {"counters": {"general": {"tellers": [{"start": "08:00", "count": 4}]}}},
            "tellers",
            r"within opening hours",
        ),
        ({"counters": {"general": {"discipline": "priority"}}}, r"priority", r"order"),
        (
            {"counters": {"general": {"discipline": "priority", "priority": ["platinum"]}}},
            r"priority",
            r"platinum",
        ),
        (
            {
                "business_types": {
                    "deposit": {"service": {"kind": "lognormal", "mean": 5, "sd": -1}}
                }
            },
            r"sd",
            r"greater than 0",
        ),
        (
            {"business_types": {"deposit": {"service": {"kind": "pareto", "mean": 5}}}},
            r"service",
            r"exponential",
        ),
        ({"business_types": {"deposit": {"e_channel_share": 1.0}}}, r"e_channel_share", r"less"),
        ({"hall": {"minutes_per_point": 0}}, r"minutes_per_point", r"greater than 0"),
        ({"memory": {"rule": "median"}}, r"rule", r"peak_end"),
        (
            {
                "arrivals": {
                    "profile": [{"start": "09:00", "rate": 20}, {"start": "18:00", "rate": 5}]
                }
            },
            r"arrivals.profile",
            r"before closing \(17:00\)",
        ),
        (
            {
                "arrivals": {
                    "profile": [{"start": "10:00", "rate": 20}, {"start": "09:00", "rate": 5}]
                }
            },
            r"arrivals.profile",
            r"strictly increase",
        ),
    ],
)
def test_bad_scenarios_name_the_field(base, changes, field, hint):
    with pytest.raises(ValidationError) as info:
        build(base, changes)
    text = str(info.value)
    assert re.search(field, text), text
    assert re.search(hint, text), text


def test_validation_happens_before_simpy_starts(base, monkeypatch):
    import simpy

    def boom(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("SimPy started on an invalid scenario")

    monkeypatch.setattr(simpy, "Environment", boom)
    good = load_scenario("default_branch")
    # model_copy(update=...) skips pydantic validation; simulate re-validates first
    bad = good.model_copy(update={"closing": 8.0})
    with pytest.raises(ValidationError, match="closing"):
        pe.simulate(bad, seed=1)


def test_empirical_weights_and_distribution_means():
    with pytest.raises(ValidationError, match="weights"):
        Empirical(values=[1.0, 2.0], weights=[1.0])
    assert Empirical(values=[1.0, 3.0], weights=[3.0, 1.0]).mean == pytest.approx(1.5)
    g = Gamma(mean=4.0, sd=2.0)
    assert g.shape * g.scale == pytest.approx(4.0)
    assert g.shape * g.scale**2 == pytest.approx(4.0)  # variance sd**2
    ln = Lognormal(mean=5.0, sd=3.0)
    import math

    assert math.exp(ln.mu + ln.sigma**2 / 2) == pytest.approx(5.0)


# --------------------------------------------------------------------------- schema and docs
def _walk_properties(schema: dict[str, Any]):
    yield from schema.get("properties", {}).items()
    for sub in schema.get("$defs", {}).values():
        yield from _walk_properties(sub)


def test_schema_exports_every_field_with_a_description():
    schema = scenario_schema()
    json.dumps(schema)  # JSON-serialisable
    props = schema["properties"]
    for key in (
        "opening",
        "closing",
        "arrivals",
        "segments",
        "business_types",
        "counters",
        "journey",
        "lobby",
        "hall",
        "lounge",
        "value_function",
        "memory",
    ):
        assert key in props
    assert {"Segment", "CounterGroup", "Lognormal", "Hall"} <= set(schema["$defs"])
    missing = [name for name, prop in _walk_properties(schema) if not prop.get("description")]
    assert not missing, f"fields without a description (unit): {missing}"


def test_builtin_files_validate_against_the_exported_schema():
    import tomllib

    import jsonschema

    schema = scenario_schema()
    for name in builtin_names():
        data = tomllib.loads((pe.config.builtin_dir() / f"{name}.toml").read_text())
        jsonschema.validate(data, schema)  # raw file, "HH:MM" strings included
    bad = tomllib.loads((pe.config.builtin_dir() / "default_branch.toml").read_text())
    bad["segments"]["vip"]["colour"] = "gold"
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.validate(bad, schema)


def test_reference_page_documents_every_field():
    text = DOCS.read_text(encoding="utf-8")
    names = {name for name, _ in _walk_properties(scenario_schema())}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"docs/reference/scenario.md does not document: {missing}"


def test_reference_page_policies_are_valid_changes():
    import warnings

    from peakend.config import apply_changes

    blocks = re.findall(r"```python\n(POLICIES = .*?)```", DOCS.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {}
    exec(blocks[0], namespace)
    policies = namespace["POLICIES"]
    assert len(policies) >= 10
    base = load_scenario("default_branch")
    for name, changes in policies.items():
        s = apply_changes(base, changes)
        assert s != base, name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            day = pe.simulate(s, seed=1)
        assert len(day) > 100, name


# --------------------------------------------------------------------------- mmc
def test_mmc_builds_a_plain_queue():
    s = mmc(1.8, 0.5, 4, 8)
    assert s.offered_load() == pytest.approx(1.8 / (4 * 0.5))
    assert s.expected_arrivals() == pytest.approx(1.8 * 8 * 60)
    assert s.journey == ["waiting", "service"]
    seg = s.segments["customer"]
    assert seg.renege is None and seg.balk_queue is None
    assert s.business_types["service"].service.mean == pytest.approx(2.0)
    p = mmc(1.8, 0.5, 4, 8, class_rates=[0.6, 1.2])
    assert p.counters["servers"].discipline == "priority"
    assert p.counters["servers"].priority == ["class0", "class1"]
    assert p.segments["class0"].share == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"arrival_rate": -1.0}, "arrival_rate"),
        ({"service_rate": 0.0}, "service_rate"),
        ({"servers": 0}, "servers"),
        ({"servers": 2.5}, "servers"),
        ({"hours": 0.0}, "hours"),
        ({"class_rates": []}, "class_rates"),
        ({"class_rates": [1.0, -0.5]}, "class_rates"),
    ],
)
def test_mmc_rejects_bad_arguments(kwargs, name):
    args = {"arrival_rate": 1.8, "service_rate": 0.5, "servers": 4, "hours": 8.0} | kwargs
    with pytest.raises(ValueError, match=name):
        mmc(**args)


# --------------------------------------------------------------------------- the reference page
def test_reference_page_python_blocks_run(capsys):
    """Every Python block of docs/reference/scenario.md runs, in order, as written."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict[str, Any] = {}
    a_file = repr(str(pe.config.builtin_dir() / "default_branch.toml"))
    for block in blocks:
        exec(block.replace('"path/to/my_branch.toml"', a_file), namespace)
    assert namespace["gold"].counters["gold"].discipline == "dedicated"
    assert namespace["fixed"].business_types["deposit"].service.kind == "empirical"
    assert namespace["five"].counters["general"].tellers == 5
    assert "did you mean 'general'" in capsys.readouterr().out


def test_reference_page_minimal_scenario_behaves_like_a_branch():
    """The newcomer's example copes: offered load 0.7-0.85, few customers abandon."""
    import tomllib
    import warnings

    import numpy as np

    from peakend.config.io import scenario_from_data

    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## A minimal scenario file"):text.index("## Reading files")]
    block = re.search(r"```toml\n(.*?)```", section, flags=re.S)
    assert block is not None
    s = scenario_from_data(tomllib.loads(block.group(1)), "minimal example")
    assert 0.7 <= s.offered_load() <= 0.85
    assert f"offered load\n(`Scenario.offered_load()`) is {s.offered_load():.2f}" in section
    abandoned = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overload warning either
        for seed in range(20):
            c = pe.simulate(s, seed=seed).customers
            abandoned.append(np.mean(c["balked"] | c["reneged"]))
    assert 0.0 < np.mean(abandoned) < 0.06  # "about 3 %"


def test_limits_stay_out_of_the_dump_at_their_defaults():
    s = load_scenario("default_branch")
    assert "limits" not in s.model_dump()  # stored studies and checkpoints keep their keys
    raised = s.model_copy(update={"limits": pe.config.Limits(max_customers_per_day=10)})
    assert raised.model_dump()["limits"] == {"max_customers_per_day": 10}
    assert "limits" in scenario_schema()["properties"]
