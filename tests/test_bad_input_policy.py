"""Bad policies (Python and files): refused before any simulation, naming the path and range.

A policy may only change what exists (unknown names get the valid ones and a "did you
mean"); new entries go under ``add``; a table that names a ``kind`` replaces a
distribution; values are checked strictly. The cases at the end must work.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.config import ConfigError, PolicyError, apply_changes, check_file, merge_changes
from peakend.experiment import Policy, load_policies

ROOT = Path(__file__).resolve().parent.parent
R = re.escape


@pytest.fixture(scope="module")
def branch() -> pe.Scenario:
    return pe.load_scenario("default_branch")


BAD_POLICIES = [
    # ------------------------------------------------------------ names that do not exist
    ("ghost-counter", {"counters": {"ghost": {"tellers": 5}}},
     (R("counters.ghost: no counter group 'ghost'"), R("(counters: 'general', 'vip')"),
      R("add.counters.ghost"))),
    ("typo-counter", {"counters": {"genral": {"tellers": 5}}},
     (R("counters.genral"), R("did you mean 'general'?"))),
    ("typo-segment", {"segments": {"gld": {"appointment_share": 0.3}}},
     (R("segments.gld: no segment 'gld'"), R("did you mean 'gold'?"), "'ordinary'")),
    ("typo-business", {"business_types": {"deposti": {"e_channel_share": 0.1}}},
     (R("business_types.deposti: no business type"), R("did you mean 'deposit'?"))),
    ("typo-top-field", {"hal": {"distraction": True}},
     (R("hal: unknown field 'hal'"), R("did you mean 'hall'?"), "fields here: name")),
    ("typo-nested-field", {"counters": {"general": {"teller": 5}}},
     (R("counters.general.teller"), R("did you mean 'tellers'?"), "cost_per_hour")),
    ("typo-segment-field", {"segments": {"gold": {"farewel": {"enabled": True}}}},
     (R("segments.gold.farewel"), R("did you mean 'farewell'?"))),
    ("typo-farewell-field", {"segments": {"gold": {"farewell": {"enable": True}}}},
     (R("segments.gold.farewell.enable"), R("did you mean 'enabled'?"))),
    ("typo-distribution-field", {"business_types": {"deposit": {"service": {"sdd": 1.0}}}},
     (R("business_types.deposit.service.sdd"), R("did you mean 'sd'?"), R("kind, mean, sd"))),
    ("typo-limits", {"limits": {"max_customers": 10}},
     (R("limits.max_customers"), R("did you mean 'max_customers_per_day'?"))),
    ("typo-hall", {"hall": {"wait_dispaly": True}},
     (R("hall.wait_dispaly"), R("did you mean 'wait_display'?"))),
    ("typo-lounge-in-segment", {"segments": {"vip": {"lounges": True}}},
     (R("segments.vip.lounges"), R("did you mean 'lounge'?"))),
    ("ghost-in-list-of-several", {"counters": {"general": {"tellers": 5}, "vipp": {"tellers": 2}}},
     (R("counters.vipp"), R("did you mean 'vip'?"))),
    # ------------------------------------------------------------ add
    ("add-existing", {"add": {"counters": {"general": {"tellers": 1}}}},
     (R("add.counters.general: counter group 'general' already exists"),
      R("change it under counters.general"))),
    ("add-unknown-collection", {"add": {"counter": {"gold": {"tellers": 1}}}},
     (R("add.counter: entries can only be added to segments, business_types, counters"),
      R("did you mean 'counters'?"))),
    ("add-field", {"add": {"hall": {"distraction": True}}},
     (R("add.hall: entries can only be added to"),)),
    ("add-not-a-table", {"add": 5}, (R("add: must be a table of new entries"),)),
    ("add-entry-not-a-table", {"add": {"counters": {"gold": 1}}},
     (R("add.counters.gold: a new counter group must be a table"),)),
    ("add-entry-incomplete", {"add": {"business_types": {"loan": {"e_channel_share": 0.1}}}},
     (R("business_types.loan.service"), "Field required")),
    ("add-segment-shares", {"add": {"segments": {"student": {
        "share": 0.1, "business_mix": {"deposit": 1.0}}}}},
     (R("segments.*.share"), "sum to 1", "got 1.1")),
    ("add-counter-bad-segment", {"add": {"counters": {"gold": {
        "tellers": 1, "segments": ["gld"], "discipline": "dedicated"}}}},
     (R("counters.gold.segments"), "unknown segments", "gld")),
    ("add-counter-typo-field", {"add": {"counters": {"gold": {"teller": 1}}}},
     (R("counters.gold.teller"), R("did you mean 'tellers'?"))),
    # ------------------------------------------------------------ distributions
    ("kind-without-fields",
     {"business_types": {"deposit": {"service": {"kind": "empirical"}}}},
     (R("business_types.deposit.service.values"), "Field required")),
    ("kind-with-old-fields",
     {"business_types": {"deposit": {"service": {"kind": "exponential", "mean": 5.0,
                                                   "sd": 3.0}}}},
     (R("business_types.deposit.service.sd"), "unknown field 'sd'", R("kind, mean"))),
    ("kind-unknown",
     {"business_types": {"deposit": {"service": {"kind": "pareto", "mean": 5.0}}}},
     (R("business_types.deposit.service"), "exponential", "lognormal")),
    ("kind-zero-service",
     {"business_types": {"deposit": {"service": {"kind": "deterministic", "value": 0}}}},
     (R("business_types.deposit.service.value"), R("at least 0.01 minutes"))),
    ("merge-makes-spread-too-large",
     {"business_types": {"transfer": {"service": {"sd": 5.0}}}},
     (R("business_types.transfer.service.sd"), R("sd <= mean = 4 minutes"))),
    ("merge-lognormal-overflow",
     {"business_types": {"deposit": {"service": {"mean": 1e-300, "sd": 1e6}}}},
     (R("business_types.deposit.service.mean"), R("greater than or equal to 0.000001"))),
    ("renege-none-needs-kind", {"segments": {"gold": {"renege": None}}}, None),  # see below
    ("weights-infinite",
     {"business_types": {"deposit": {"service": {
         "kind": "empirical", "values": [1.0, 2.0], "weights": [1.0, float("inf")]}}}},
     (R("business_types.deposit.service.weights.1"), "finite number")),
    # ------------------------------------------------------------ strict values
    ("tellers-string", {"counters": {"general": {"tellers": "5"}}},
     (R("counters.general.tellers: Input should be a valid integer (got '5')"),
      "without quotes")),
    ("tellers-float", {"counters": {"general": {"tellers": 5.0}}},
     (R("counters.general.tellers"), R("5, not 5.0"))),
    ("rate-string", {"arrivals": {"profile": [{"start": "09:00", "rate": "30"}]}},
     (R("arrivals.profile.0.rate"), "valid number", R("allowed: >= 0, <= 1e+06"))),
    ("share-bool", {"segments": {"vip": {"share": True}}},
     (R("segments.vip.share"), "true/false is not a number", R("allowed: >= 0, <= 1"))),
    ("lounge-yes", {"segments": {"vip": {"lounge": "yes"}}},
     (R("segments.vip.lounge"), "valid boolean", R("got 'yes'"))),
    ("distraction-one", {"hall": {"distraction": 1}},
     (R("hall.distraction"), "a number is not true/false")),
    ("closing-9999", {"closing": "9999:00"},
     (R("closing"), R("less than or equal to 1000"))),
    ("multiplier-out-of-range", {"hall": {"distraction_multiplier": -1}},
     (R("hall.distraction_multiplier"), "greater than 0")),
    ("tellers-negative", {"counters": {"general": {"tellers": -1}}},
     (R("counters.general.tellers"), "between 0 and 1000")),
    ("memory-window", {"memory": {"params": {"window": 3.0}}},
     (R("memory.params.window"), R("did you mean 'end_window'?"))),
    ("memory-part", {"memory": {"rule": "trend", "params": {"part": 1.5}}},
     (R("memory.params.part"), R("(0, 1]"))),
    ("memory-decay-nan", {"memory": {"rule": "recency", "params": {"decay": float("nan")}}},
     (R("memory.params.decay"), "finite number")),
    ("too-many-customers", {"arrivals": {"profile": [{"start": "09:00", "rate": 300000}]}},
     (R("arrivals.profile"), "about 2,400,000 expected arrivals",
      R("limits.max_customers_per_day = 2,000,000"))),
    ("priority-unknown", {"counters": {"general": {"discipline": "priority",
                                                   "priority": ["gld"]}}},
     (R("counters.general.priority"), "gld", "allowed")),
]


@pytest.mark.parametrize(
    ("changes", "patterns"),
    [pytest.param(c, p, id=n) for n, c, p in BAD_POLICIES if p is not None],
)
def test_bad_policy_is_refused_naming_the_path(branch, changes, patterns):
    with pytest.raises(PolicyError) as info:
        Policy("p", changes).apply(branch)
    message = str(info.value)
    assert message.startswith("policy 'p' gives an invalid scenario: ")
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)


def test_a_distribution_that_is_none_needs_a_kind():
    s = pe.scenarios.mmc(1.0, 0.5, 3, 2)  # no patience: renege is None
    with pytest.raises(PolicyError) as info:
        Policy("p", {"segments": {"customer": {"renege": {"mean": 30.0}}}}).apply(s)
    assert re.search(R("segments.customer.renege: there is no distribution here to change "
                       "(it is None); give a whole one with its kind, one of exponential"),
                     str(info.value))
    ok = Policy("p", {"segments": {"customer": {"renege": {"kind": "exponential",
                                                            "mean": 30.0}}}}).apply(s)
    assert ok.segments["customer"].renege.mean == 30.0


def test_unknown_paths_are_all_reported_and_nothing_is_simulated(branch, monkeypatch):
    import simpy

    def boom(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("SimPy started on an invalid policy")

    monkeypatch.setattr(simpy, "Environment", boom)
    changes = {f"field{i}": 1 for i in range(30)}
    with pytest.raises(PolicyError) as info:
        pe.run(branch, [Policy("baseline"), Policy("p", changes)], replications=2,
               progress=False)
    assert info.value.n_problems == 30
    assert len(info.value.problems) == 20
    assert "... and 10 more not shown" in str(info.value)


# --------------------------------------------------------------------------- policy files
def write(tmp_path: Path, text: str | bytes, name: str = "policies.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


BAD_FILES = [
    ("unknown-key", "[p]\nchanes.hall.distraction = true\n",
     (R("policy 'p' has unknown key(s) ['chanes']"), R("did you mean 'changes'?"),
      R("allowed: ['changes', 'compose', 'description']"))),
    ("compose-unknown", '[a]\n[b]\ncompose = ["c"]\n',
     (R("policy 'b': compose refers to 'c', which is not defined above it"),)),
    ("compose-typo", '[lunch]\n[b]\ncompose = ["lunhc"]\n', (R("did you mean 'lunch'?"),)),
    ("compose-later", '[b]\ncompose = ["a"]\n[a]\n', (R("not defined above it"),)),
    ("compose-not-list", '[a]\n[b]\ncompose = "a"\n', (R("compose must be a list of names"),)),
    ("description-number", "[a]\ndescription = 5\n",
     (R("policy 'a': description must be a string"),)),
    ("changes-not-table", "[a]\nchanges = 5\n", (R("policy 'a': changes must be a table"),)),
    ("top-level-value", 'a = 5\n[b]\n',
     (R("top-level key 'a' must be a table [a]"),)),
    ("empty-file", "", (R("defines no policy"),)),
    ("invalid-toml", "[a\n", (R("invalid TOML"),)),
    ("utf-16", "[baseline]\n".encode("utf-16"), (R("UTF-16 encoded"),)),
    ("undecodable", b"[baseline]\ndescription = \"\xff\"\n",
     (R("not UTF-8 text"), R("line 2"))),
    ("deep", b"[a]\nchanges.x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
     (R("nested more than 32 levels deep"),)),
    ("too-many-policies", "".join(f"[p{i}]\n" for i in range(1001)),
     (R("defines 1,001 policies; at most 1,000 per file"),)),
]


@pytest.mark.parametrize(
    ("text", "patterns"), [pytest.param(t, p, id=n) for n, t, p in BAD_FILES]
)
def test_bad_policy_file_is_one_clear_error(tmp_path, text, patterns):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policies(path)
    message = str(info.value)
    assert str(path) in message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"


def test_a_large_policy_file_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "[a]\n" + "# junk\n" * 200_000)
    with pytest.raises(PolicyError, match=R("more than the limit of 1,000,000 bytes")):
        load_policies(path)
    assert [p.name for p in load_policies(path, max_bytes=4_000_000)] == ["a"]


def test_missing_policy_file_and_unknown_builtin_set(tmp_path):
    with pytest.raises(PolicyError, match="does not exist"):
        load_policies(tmp_path / "none.toml")
    with pytest.raises(PolicyError, match=R("did you mean 'default_branch'?")):
        load_policies("default_brnch")


# --------------------------------------------------------------------------- check_file
def test_check_file_tells_policies_from_scenarios(tmp_path, branch):
    assert check_file(pe.config.builtin_dir() / "default_branch.toml") == "scenario"
    assert check_file(pe.config.builtin_dir() / "policies" / "default_branch.toml") == "policies"
    assert check_file(write(tmp_path, "[baseline]\n")) == "policies"  # an empty table is valid
    assert check_file(write(tmp_path, '[baseline]\ndescription = "as is"\n')) == "policies"
    mmc_policy = write(tmp_path, "[one]\nchanges.counters.servers.tellers = 2\n")
    assert check_file(mmc_policy, pe.scenarios.mmc(1.0, 0.5, 3, 2)) == "policies"
    with pytest.raises(PolicyError, match=R("counters.servers: no counter group 'servers'")):
        check_file(mmc_policy)  # default: checked against default_branch


def test_check_file_lists_every_bad_policy(tmp_path):
    path = write(tmp_path, "[ok]\nchanges.hall.distraction = true\n"
                           "[bad]\nchanges.hall.distraction_multiplier = -1\n"
                           "[typo]\nchanges.hal.distraction = true\n"
                           "[ghost]\nchanges.counters.ghost.tellers = 5\n")
    with pytest.raises(PolicyError) as info:
        check_file(path)
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("policy 'bad': hall.distraction_multiplier")
    assert problems[1].startswith("policy 'typo': hal: unknown field")
    assert problems[2].startswith("policy 'ghost': counters.ghost: no counter group")
    assert str(path) in str(info.value).splitlines()[0]


def test_check_file_on_a_bad_scenario_names_the_file(tmp_path):
    text = (pe.config.builtin_dir() / "default_branch.toml").read_text()
    path = write(tmp_path, text.replace("tellers = 4\n", 'tellers = "4"\n'), "branch.toml")
    with pytest.raises(ConfigError) as info:
        check_file(path)
    assert str(path) in str(info.value) and "counters.general.tellers" in str(info.value)
    with pytest.raises(ConfigError, match="invalid TOML"):
        check_file(write(tmp_path, "[a\n", "broken.toml"))


# --------------------------------------------------------------------------- must work
def test_add_entries_then_change_them(branch):
    gold = {"tellers": 1, "segments": ["gold"], "discipline": "dedicated", "cost_per_hour": 80}
    policy = Policy("gold_window", {
        "counters": {"general": {"tellers": 3, "segments": ["ordinary"]}},
        "add": {"counters": {"gold": gold}},
    })
    s = policy.apply(branch)
    assert list(s.counters) == ["general", "vip", "gold"]
    assert s.counters["gold"].cost_per_hour == 80.0
    assert s.staff_cost() == pytest.approx(branch.staff_cost())  # 4 tellers at 80 either way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        day = pe.simulate(s, seed=2)
    gold_rows = day.customers["segment"] == list(s.segments).index("gold")
    assert np.any(gold_rows)


def test_add_a_segment_and_a_business_type(branch):
    s = apply_changes(branch, {
        "segments": {"ordinary": {"share": 0.7}},
        "counters": {"general": {"segments": ["gold", "ordinary", "student"]}},
        "add": {
            "business_types": {"loan": {"service": {"kind": "lognormal", "mean": 25.0,
                                                    "sd": 10.0}}},
            "segments": {"student": {"share": 0.1, "business_mix": {"deposit": 0.5,
                                                                    "loan": 0.5}}},
        },
    })
    assert set(s.segments) == {"vip", "gold", "ordinary", "student"}
    assert s.business_types["loan"].service.mean == 25.0
    assert s.served_segments("general") == ["gold", "ordinary", "student"]
    with pytest.raises(ConfigError, match="no staffed counter group serves segment 'student'"):
        apply_changes(branch, {"segments": {"ordinary": {"share": 0.7}}, "add": {"segments": {
            "student": {"share": 0.1, "business_mix": {"deposit": 1.0}}}}})


def test_kind_replaces_a_distribution(branch):
    s = Policy("p", {"business_types": {"deposit": {"service": {
        "kind": "empirical", "values": [2.0, 4.0, 9.0], "weights": [1, 2, 1]}}}}).apply(branch)
    service = s.business_types["deposit"].service
    assert service.kind == "empirical" and service.mean == pytest.approx(4.75)
    vip = Policy("q", {"segments": {"vip": {"renege": {"kind": "deterministic",
                                                       "value": 45.0}}}}).apply(branch)
    assert vip.segments["vip"].renege.kind == "deterministic"
    assert vip.segments["gold"].renege == branch.segments["gold"].renege


def test_without_kind_a_distribution_table_merges(branch):
    s = Policy("p", {"business_types": {"deposit": {"service": {"mean": 6.0}}}}).apply(branch)
    assert s.business_types["deposit"].service.mean == 6.0
    assert s.business_types["deposit"].service.sd == branch.business_types["deposit"].service.sd


def test_compose_replaces_a_distribution_named_by_kind(branch):
    first = Policy("a", {"business_types": {"deposit": {"service": {"mean": 6.0}}}})
    then = Policy("b", {"business_types": {"deposit": {"service": {"kind": "deterministic",
                                                                     "value": 3.0}}}})
    both = (first + then).apply(branch)
    assert both.business_types["deposit"].service.kind == "deterministic"
    # the other way round, a mean merged into a deterministic is refused, and named
    with pytest.raises(PolicyError, match=R("business_types.deposit.service.mean")):
        Policy.compose(then, first).apply(branch)
    merged = merge_changes({"add": {"counters": {"x": {"tellers": 1}}}},
                           {"add": {"counters": {"x": {"cost_per_hour": 5}}}})
    assert merged == {"add": {"counters": {"x": {"tellers": 1, "cost_per_hour": 5}}}}


def test_python_callers_keep_int_for_float(branch):
    s = Policy("p", {"hall": {"display_multiplier": 1, "minutes_per_point": 4}}).apply(branch)
    assert s.hall.display_multiplier == 1.0 and isinstance(s.hall.minutes_per_point, float)
    assert Policy("q", {"hall": {"display_multiplier": np.float64(0.9)}}).apply(
        branch).hall.display_multiplier == pytest.approx(0.9)


def test_free_keys_of_plain_tables_merge(branch):
    s = Policy("p", {"segments": {"gold": {"expectations": {"lounge": 6.0}},
                                  "vip": {"business_mix": {"wealth": 0.4, "deposit": 0.3}}},
                     "memory": {"rule": "recency", "params": {"decay": 0.5}}}).apply(branch)
    assert s.segments["gold"].expectations["lounge"] == 6.0
    assert s.segments["gold"].expectations["service"] == 7.0  # the others stay
    assert s.segments["vip"].business_mix["wealth"] == 0.4
    assert s.memory.params == {"decay": 0.5}


def test_raising_the_limit_allows_a_big_day(branch):
    big = {"arrivals": {"profile": [{"start": "09:00", "rate": 300000}]}}
    s = Policy("p", {**big, "limits": {"max_customers_per_day": 3_000_000}}).apply(branch)
    assert s.limits.max_customers_per_day == 3_000_000


def test_empty_table_policy_file_runs(tmp_path):
    path = write(tmp_path, "[baseline]\n[gift]\nchanges.segments.gold.farewell.enabled = true\n")
    policies = load_policies(path, pe.load_scenario("default_branch"))
    assert [p.name for p in policies] == ["baseline", "gift"]
    assert policies[0].changes == {}


def test_how_to_policy_file_block_is_valid(tmp_path, branch):
    page = (ROOT / "docs" / "how-to" / "experiments.md").read_text(encoding="utf-8")
    section = page[page.index("### Policy files"):page.index("## Run them")]
    block = re.search(r"```toml\n(.*?)```", section, flags=re.S)
    assert block is not None
    path = write(tmp_path, block.group(1))
    assert check_file(path, branch) == "policies"
    gold_window, quick = load_policies(path, branch)
    assert "gold" in gold_window.apply(branch).counters
    assert quick.apply(branch).business_types["deposit"].service.kind == "empirical"


def test_builtin_vip_priority_lists_only_vips(branch):
    """The built-in policy says "VIPs first": its priority names the VIPs only."""
    policies = {p.name: p for p in load_policies("default_branch", branch)}
    s = policies["vip_priority"].apply(branch)
    assert s.counters["general"].priority == ["vip"]
    assert "VIPs first" in policies["vip_priority"].description


def test_numpy_scalars_become_python_values(branch):
    p = Policy("n", {"counters": {"general": {"tellers": np.int64(5)}},
                     "hall": {"distraction": np.bool_(True),
                              "display_multiplier": np.float32(0.5)}})
    assert p.changes["counters"]["general"]["tellers"] == 5
    assert type(p.changes["counters"]["general"]["tellers"]) is int
    s = p.apply(branch)
    assert s.counters["general"].tellers == 5 and s.hall.distraction is True
    with pytest.raises(PolicyError, match=R("values must be tables, lists, numbers")):
        Policy("arr", {"hall": {"display_multiplier": np.array([0.5, 0.6])}})


def test_a_missing_field_is_described(branch):
    with pytest.raises(PolicyError) as info:
        Policy("m", {"add": {"business_types": {"loan": {}}}}).apply(branch)
    assert "business_types.loan.service: Field required: counter service time" in str(
        info.value)
