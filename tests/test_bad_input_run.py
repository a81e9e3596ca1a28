"""Bad arguments of ``pe.run``: each refused before anything is simulated, with a clear message.

Every case names the argument and what is allowed (``TypeError`` for a wrong type,
``ValueError`` for a value out of range; ``PolicyError`` and ``CheckpointError`` are
``ValueError``s). A fixture makes any simulation fail the test, so each error is shown
to come before the first simulated day.
"""

import concurrent.futures as cf
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.experiment import MAX_TASKS, CheckpointError, Policy, PolicyError


@pytest.fixture(scope="module")
def scenario():
    return pe.scenarios.mmc(1.0, 0.5, 3, 1)


@pytest.fixture(autouse=True)
def no_simulation(monkeypatch):
    import peakend.sim.batch
    import peakend.sim.model

    def refuse(*args, **kwargs):
        raise AssertionError("run simulated a day before refusing a bad argument")

    # run's workers simulate through simulate_chunk; simulate_validated is its per-day path
    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", refuse)
    monkeypatch.setattr(peakend.sim.model, "simulate_validated", refuse)


def run(scenario, **kwargs):
    kwargs.setdefault("replications", 2)
    kwargs.setdefault("progress", False)
    return pe.run(scenario, **kwargs)


class Thing:
    """An object of no accepted type."""


CASES = [
    # (id, keyword arguments, error class, the message, or a part of it)
    ("policies-int", {"policies": 5}, TypeError,
     "policies: expected None, a Policy, a list of Policy, a mapping of names to changes, "
     "or a policy file or built-in set name, got int 5"),
    ("policies-set", {"policies": {Policy("a"), Policy("b")}}, TypeError,
     "policies: a set has no order; give a list or a mapping"),
    ("policies-empty-name", {"policies": ""}, ValueError,
     "policies: expected a policy file or built-in set name, got ''"),
    ("policies-empty-list", {"policies": []}, PolicyError,
     "policies must contain at least one policy"),
    ("policies-item", {"policies": [Policy("a"), "b"]}, PolicyError,
     "policies[1] must be a Policy, got str"),
    ("policies-mapping-value", {"policies": {"x": 5}}, PolicyError,
     "policies['x'] must be a Policy or a changes table, got int"),
    ("policies-twice", {"policies": [Policy("a"), Policy("a")]}, PolicyError,
     "policy name 'a' is used twice; names must be unique"),
    ("replications-none", {"replications": None}, TypeError,
     "replications: expected an integer from 1 to 1,000,000, got None"),
    ("replications-float", {"replications": 2.5}, TypeError,
     "replications: expected an integer from 1 to 1,000,000, got 2.5"),
    ("replications-whole-float", {"replications": 10.0}, TypeError,
     "replications: expected an integer from 1 to 1,000,000, got 10.0"),
    ("replications-str", {"replications": "10"}, TypeError,
     "replications: expected an integer from 1 to 1,000,000, got '10'"),
    ("replications-bool", {"replications": True}, TypeError,
     "replications: expected an integer from 1 to 1,000,000, got bool True"),
    ("replications-zero", {"replications": 0}, ValueError,
     "replications must be an integer from 1 to 1,000,000, got 0"),
    ("replications-negative", {"replications": -3}, ValueError,
     "replications must be an integer from 1 to 1,000,000, got -3"),
    ("replications-huge", {"replications": 10**12}, ValueError,
     "replications: 1,000,000,000,000 is more than max_tasks = 1,000,000 simulated days per "
     "run; ask for fewer, or pass a larger max_tasks to raise the cap"),
    ("replications-times-policies", {"replications": 600_000,
                                     "policies": [Policy("a"), Policy("b")]}, ValueError,
     "replications: 600,000 replications x 2 policies = 1,200,000 simulated days, more than "
     "max_tasks = 1,000,000; ask for fewer, or pass a larger max_tasks to raise the cap"),
    ("replications-over-own-cap", {"replications": 11, "max_tasks": 10}, ValueError,
     "replications: 11 is more than max_tasks = 10 simulated days per run"),
    ("max-tasks-zero", {"max_tasks": 0}, ValueError,
     "max_tasks must be an integer from 1 to 4,611,686,018,427,387,904, got 0"),
    ("max-tasks-str", {"max_tasks": "big"}, TypeError,
     "max_tasks: expected an integer from 1 to 4,611,686,018,427,387,904, got 'big'"),
    ("seed-negative", {"seed": -1}, ValueError,
     "seed must be an integer from 0 to 9,223,372,036,854,775,807, got -1"),
    ("seed-too-large", {"seed": 2**63}, ValueError,
     "seed must be an integer from 0 to 9,223,372,036,854,775,807, got "
     "9,223,372,036,854,775,808"),
    ("seed-float", {"seed": 1.0}, TypeError,
     "seed: expected an integer from 0 to 9,223,372,036,854,775,807, got 1.0"),
    ("seed-none", {"seed": None}, TypeError,
     "seed: expected an integer from 0 to 9,223,372,036,854,775,807, got None"),
    ("seed-str", {"seed": "7"}, TypeError,
     "seed: expected an integer from 0 to 9,223,372,036,854,775,807, got '7'"),
    ("workers-zero", {"workers": 0}, ValueError,
     "workers must be an integer from 1 to 1,024, got 0"),
    ("workers-negative", {"workers": -1}, ValueError,
     "workers must be an integer from 1 to 1,024, got -1"),
    ("workers-too-many", {"workers": 10**6}, ValueError,
     "workers must be an integer from 1 to 1,024, got 1,000,000"),
    ("workers-float", {"workers": 2.0}, TypeError,
     "workers: expected None or an integer from 1 to 1024, got 2.0"),
    ("workers-str", {"workers": "2"}, TypeError,
     "workers: expected None or an integer from 1 to 1024, got '2'"),
    ("workers-bool", {"workers": True}, TypeError,
     "workers: expected None or an integer from 1 to 1024, got bool True"),
    ("executor-str", {"executor": "dask"}, TypeError,
     "executor: expected a concurrent.futures.Executor (e.g. a Dask client's "
     "get_executor()), got 'dask'"),
    ("executor-class", {"executor": cf.ThreadPoolExecutor}, TypeError,
     "executor: expected a concurrent.futures.Executor (e.g. a Dask client's "
     "get_executor()), got the class ThreadPoolExecutor (not an instance)"),
    ("progress-str", {"progress": "yes"}, TypeError,
     "progress: expected True or False, got 'yes'"),
    ("progress-none", {"progress": None}, TypeError,
     "progress: expected True or False, got None"),
    ("keep-journeys-int", {"keep_journeys": 1}, TypeError,
     "keep_journeys: expected True or False, got int 1"),
    ("survey-str", {"survey": "no"}, TypeError,
     "survey: expected True or False, got 'no'"),
    ("rules-str", {"rules": "peak_end"}, TypeError,
     "rules: expected a sequence of memory rules, got the string 'peak_end'; write "
     "rules=['peak_end']"),
    ("rules-int", {"rules": 5}, TypeError,
     "rules: expected a sequence of memory-rule names or rule objects, got int 5"),
    ("rules-mapping", {"rules": {"peak_end": 1}}, TypeError,
     "rules: expected a sequence of memory-rule names or rule objects, got dict"),
    ("rules-empty", {"rules": []}, ValueError, "rules must name at least one memory rule"),
    ("rules-unknown", {"rules": ["peak_end", "nope"]}, ValueError,
     "rules: unknown memory rule 'nope'"),
    ("rules-object", {"rules": [Thing()]}, ValueError,
     "rules: expected a rule name or rule object, got <"),
    ("rules-twice", {"rules": ["peak_end", "peak_end"]}, ValueError,
     "rules must be distinct, got labels ['peak_end', 'peak_end']"),
    ("checkpoint-int", {"checkpoint": 5}, TypeError,
     "checkpoint: expected a directory path, got int 5"),
    ("checkpoint-bool", {"checkpoint": True}, TypeError,
     "checkpoint: expected a directory path, got bool True"),
    ("checkpoint-empty", {"checkpoint": ""}, ValueError,
     "checkpoint: expected a directory path, got ''"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_argument_is_refused_with_its_name_and_range(scenario, kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message)) as caught:
        run(scenario, **kwargs)
    assert caught.type is error or issubclass(caught.type, error)


SCENARIOS = [
    ("none", None, TypeError,
     "scenario: expected a Scenario, the name of a built-in scenario or the path of a "
     "scenario file, got None"),
    ("int", 42, TypeError, "scenario: expected a Scenario, the name of a built-in scenario "
     "or the path of a scenario file, got int 42"),
    ("dict", {"name": "x"}, TypeError, "scenario: expected a Scenario, the name of a "
     "built-in scenario or the path of a scenario file, got dict"),
    ("empty-name", "  ", ValueError,
     "scenario: expected a built-in scenario name or a path, got ''"),
]


@pytest.mark.parametrize(("value", "error", "message"), [c[1:] for c in SCENARIOS],
                         ids=[c[0] for c in SCENARIOS])
def test_bad_scenario_is_refused(value, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        pe.run(value, replications=2, progress=False)


def test_run_none_is_a_type_error_at_once():
    with pytest.raises(TypeError, match=r"^scenario: expected a Scenario"):
        pe.run(None)


def unwritable_directory(tmp_path: Path) -> Path:
    """A directory this process cannot write in (as root, chmod does not stop it: /proc)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if not os.access(folder, os.W_OK):
        return folder
    assert sys.platform.startswith("linux"), "running as root outside Linux: no test dir"
    assert not os.access("/proc/self", os.W_OK)
    return Path("/proc/self")


def checkpoint_cases(tmp_path):
    a_file = tmp_path / "results.npz"
    a_file.write_bytes(b"not a directory")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    locked = unwritable_directory(tmp_path)
    return {
        "existing-file": (a_file, f"checkpoint: {str(a_file)!r} is a file, not a directory; "
                                  "give a new or empty directory, or an earlier checkpoint"),
        "inside-a-file": (a_file / "ck", f"checkpoint: cannot create the directory "
                                         f"{str(a_file / 'ck')!r} (Not a directory)"),
        "unwritable": (locked, f"checkpoint: cannot write in the directory {str(locked)!r}; "
                               "give a directory this process may write in"),
        "under-unwritable": (Path("/proc/self/peakend-checkpoint"),
                             "checkpoint: cannot create the directory "
                             "'/proc/self/peakend-checkpoint' ("),
        "not-a-checkpoint": (foreign, f"checkpoint {str(foreign)!r} is a directory that is "
                                      "not empty and has no manifest.json (it holds "
                                      "'cat.jpg'); give a new or empty directory"),
    }


@pytest.mark.parametrize("case", ["existing-file", "inside-a-file", "unwritable",
                                  "under-unwritable", "not-a-checkpoint"])
def test_unusable_checkpoint_path_is_refused_naming_checkpoint(scenario, tmp_path, case):
    if case == "under-unwritable" and not sys.platform.startswith("linux"):
        pytest.fail("this case uses /proc; give it another unwritable place on this system")
    path, message = checkpoint_cases(tmp_path)[case]
    with pytest.raises(CheckpointError, match="^" + re.escape(message)):
        run(scenario, checkpoint=path)


def test_a_bad_argument_creates_no_checkpoint_directory(scenario, tmp_path):
    with pytest.raises(ValueError, match="seed"):
        run(scenario, seed=-1, checkpoint=tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_the_cap_can_be_raised(scenario, monkeypatch):
    """max_tasks raises the cap: the same call then gets past the checks (to the first day)."""
    assert MAX_TASKS == 1_000_000
    with pytest.raises(AssertionError, match="run simulated a day"):
        run(scenario, replications=12, max_tasks=12)


@pytest.mark.parametrize("policies", [
    None, Policy("one"), [Policy("a"), Policy("b")], (Policy("a"),), {"a": {}, "b": None},
    (p for p in [Policy("a")]), "default_branch"], ids=[
    "none", "one-policy", "list", "tuple", "mapping", "generator", "built-in-set"])
def test_every_accepted_form_of_policies_gets_past_the_checks(policies):
    """Each accepted form reaches the first simulated day (the fixture stops it there)."""
    scenario = pe.load_scenario("default_branch")
    with pytest.raises(AssertionError, match="run simulated a day"):
        run(scenario, policies=policies)


@pytest.mark.parametrize("kwargs", [
    {"replications": np.int64(2)}, {"seed": np.uint32(5)}, {"workers": np.int32(1)},
    {"progress": np.bool_(False)}, {"keep_journeys": True}, {"rules": ("mean",)},
    {"rules": [pe.get_rule("end"), "peak_end"]}, {"max_tasks": 2},
    {"executor": cf.ThreadPoolExecutor(max_workers=1)},
], ids=["numpy-replications", "numpy-seed", "numpy-workers", "numpy-bool", "journeys",
        "rules-tuple", "rule-object", "max-tasks-exact", "executor"])
def test_accepted_values_get_past_the_checks(scenario, kwargs):
    with pytest.raises(AssertionError, match="run simulated a day"):
        run(scenario, **kwargs)


@pytest.mark.parametrize("form", ["name", "str-path", "path"])
def test_scenario_forms_and_checkpoint_path_get_past_the_checks(tmp_path, form):
    import peakend.scenarios

    source = Path(peakend.scenarios.__file__).parent / "default_branch.toml"
    value = {"name": "default_branch", "str-path": str(source), "path": source}[form]
    with pytest.raises(AssertionError, match="run simulated a day"):
        pe.run(value, replications=2, progress=False, checkpoint=str(tmp_path / "ck"))
    assert (tmp_path / "ck" / "manifest.json").is_file()
