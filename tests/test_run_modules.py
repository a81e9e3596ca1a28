"""The experiment package after its split: public names kept, modules small, imports plain."""

import re
import tomllib
from pathlib import Path

import peakend as pe
import peakend.experiment
from peakend._version import __version__

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "peakend" / "experiment"

#: peakend.experiment's public names in 0.1 (before the split): all must stay, except
#: ``Table``, which pandas DataFrames replaced on purpose (see the CHANGELOG).
NAMES_0_1 = [
    "ALL", "BASE_METRICS", "DEFAULT_RULES", "METRIC_DESCRIPTIONS", "TIDY_COLUMNS",
    "CheckpointError", "Policy", "PolicyError", "Results", "builtin_policy_sets",
    "deep_merge", "load_policies", "load_results", "metric_names", "replication_seed", "run",
    "simulate_replication", "survey_metric_names",
]


def test_public_names_of_0_1_are_all_still_exported():
    missing = [n for n in NAMES_0_1 if n not in peakend.experiment.__all__]
    assert not missing
    for name in peakend.experiment.__all__:
        assert getattr(peakend.experiment, name) is not None
    assert pe.run is peakend.experiment.run


def test_version_lives_in_its_own_module_and_pyproject_reads_it():
    assert pe.__version__ == __version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "peakend._version.__version__"


SPLIT = ["_run.py", "_tasks.py", "_checkpoint.py", "_executor.py", "_lifeline.py",
         "_progress.py", "_checks.py"]


def test_the_run_modules_are_small_and_import_plainly():
    for name in SPLIT:
        text = (EXPERIMENT / name).read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, name
        literal = re.findall(r"import_module\(\s*[\"']", text)  # a module named in a string
        assert not literal, f"{name}: import_module with a string literal"
