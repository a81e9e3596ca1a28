"""``run`` with either movement engine gives identical results (issue 16).

Both engines give every day bit for bit, so ``run`` must give the same ``Results``
(values and tables) whichever engine, through worker processes too, and a checkpoint
written with one engine must resume with the other without re-simulating.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import peakend as pe
from peakend.experiment._metadata import ResultsMetadata

POLICIES = {
    "base": pe.Policy("base", {}),
    "one more": pe.Policy("one more", {"counters": {"general": {"tellers": 5}}}),
}


def _run(engine: str, **kw: Any) -> Any:
    return pe.run("default_branch", POLICIES, replications=3, seed=7, progress=False,
                  engine=engine, **kw)


def _assert_same_results(a: Any, b: Any) -> None:
    assert np.array_equal(a.values, b.values, equal_nan=True)
    assert a == b
    pa, pb = a.to_pandas(), b.to_pandas()
    assert pa.equals(pb)
    assert a.headline().equals(b.headline())


def test_run_gives_identical_results_with_either_engine() -> None:
    simpy_res = _run("simpy")
    compiled_res = _run("compiled")
    _assert_same_results(simpy_res, compiled_res)
    assert (simpy_res.engine, compiled_res.engine) == ("simpy", "compiled")
    assert _run("auto").engine == "compiled"  # numba is installed in the test environment


def test_workers_use_the_engine_and_give_the_same_results() -> None:
    _assert_same_results(_run("simpy"), _run("compiled", workers=2))


def test_a_checkpoint_resumes_across_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    first = _run("simpy", checkpoint=tmp_path / "ck")
    from peakend.experiment import _tasks

    def fail(tasks: Any) -> Any:
        raise AssertionError("a finished replication was simulated again")

    monkeypatch.setattr(_tasks, "_simulate_days", fail)
    again = _run("compiled", checkpoint=tmp_path / "ck")
    _assert_same_results(first, again)


def test_keep_journeys_gives_identical_days() -> None:
    a = pe.run("clinic", replications=2, progress=False, keep_journeys=True, engine="simpy")
    b = pe.run("clinic", replications=2, progress=False, keep_journeys=True, engine="compiled")
    _assert_same_results(a, b)
    assert a.journeys is not None and b.journeys is not None
    for name in a.journeys:
        for col in a.journeys[name].customers:
            x, y = a.journeys[name].customers[col], b.journeys[name].customers[col]
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), col


@pytest.mark.parametrize("bad", ["numba", "fast", None, 2])
def test_run_refuses_a_bad_engine_naming_the_argument(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"engine: must be one of 'simpy', 'compiled', 'auto'"):
        pe.run("default_branch", replications=1, progress=False, engine=bad)


def test_run_compiled_without_numba_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)
    from peakend.experiment import _tasks

    monkeypatch.setattr(_tasks, "_simulate_days", lambda t: pytest.fail("simulated"))
    with pytest.raises(ImportError, match=r'pip install "peakend\[fast\]"'):
        pe.run("default_branch", replications=1, progress=False, engine="compiled")


def test_run_auto_without_numba_uses_simpy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)
    res = pe.run("clinic", replications=2, progress=False, engine="auto")
    assert res.engine == "simpy"


def test_replications_auto_passes_the_engine_on() -> None:
    a = pe.run("clinic", replications="auto", half_width=10.0, progress=False, engine="simpy")
    b = pe.run("clinic", replications="auto", half_width=10.0, progress=False,
               engine="compiled")
    _assert_same_results(a, b)


def test_the_results_schema_takes_the_engine_and_files_without_it() -> None:
    base = {
        "format": "peakend.results", "schema_version": 1, "version": "x", "policies": ["p"],
        "segments": ["all"], "metrics": ["remembered[peak_end]"], "n_replications": 1,
        "seed": 0, "rules": ["peak_end"], "scenario": {},
        "policy_specs": [{"name": "p", "description": "", "changes": {}}],
    }
    assert ResultsMetadata.model_validate(base).engine is None
    assert ResultsMetadata.model_validate({**base, "engine": "compiled"}).engine == "compiled"
    with pytest.raises(ValueError, match="engine"):
        ResultsMetadata.model_validate({**base, "engine": "numba"})


def test_the_cli_takes_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from peakend import cli

    code = cli.main(["run", "clinic", "-n", "2", "-w", "1", "--engine", "compiled",
                     "--out", str(tmp_path / "c"), "--format", "csv"])
    assert code == 0
    compiled_out = capsys.readouterr().out
    assert cli.main(["run", "clinic", "-n", "2", "-w", "1", "--engine", "simpy",
                     "--out", str(tmp_path / "s"), "--format", "csv"]) == 0
    assert capsys.readouterr().out == compiled_out
    assert cli.main(["run", "clinic", "--engine", "numba"]) == 2
    assert "invalid choice: 'numba'" in capsys.readouterr().err


def test_the_engine_is_saved_with_the_results_and_not_part_of_equality(tmp_path: Path) -> None:
    a, b = _run("simpy"), _run("compiled")
    assert a.metadata()["engine"] == "simpy" and b.metadata()["engine"] == "compiled"
    loaded = pe.load_results(b.save(tmp_path / "r.npz"))
    assert loaded.engine == "compiled" and loaded == a == b
    # results made without an engine (the constructor's default) save without the key
    plain = pe.Results(
        a.values, policies=a.policies, segments=a.segments, metrics=a.metrics, seed=a.seed,
        rules=a.rules, scenario=a.scenario, policy_specs=a.policy_specs, version=a.version,
    )
    assert "engine" not in plain.metadata() and plain == a
    assert pe.load_results(plain.save(tmp_path / "p.npz")).engine is None


@pytest.mark.parametrize(
    "call",
    [
        'pe.run("default_branch", replications=0, progress=False)',
        'pe.run("default_branch", replications=2, workers=-1, progress=False)',
        'pe.run("default_branch", replications="auto", half_width=-1.0, progress=False)',
        'pe.run("default_branch", replications="auto", half_width=1.0, n0=1, progress=False)',
    ],
)
def test_run_refuses_bad_arguments_before_loading_numba(call: str) -> None:
    """engine="auto" loads numba (about 0.5 s) only once the arguments have passed their checks."""
    import subprocess

    code = (
        "import sys, peakend as pe\n"
        f"try:\n    {call}\nexcept (ValueError, TypeError) as e:\n    print('refused:', e)\n"
        "print('numba loaded:', 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "refused:" in out, out
    assert "numba loaded: False" in out, out
