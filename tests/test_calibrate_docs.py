"""Notebook 07 matches its builder and has no outputs; the calibration docstring examples run."""

from __future__ import annotations

import doctest
import importlib.util
from pathlib import Path

import nbformat

import peakend.calibrate._fit
import peakend.calibrate._journeys
import peakend.calibrate._log
import peakend.datasets._anonymous_bank

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_07_is_built_by_its_builder_without_outputs():
    spec = importlib.util.spec_from_file_location(
        "build_calibration_notebook", ROOT / "notebooks" / "build_calibration_notebook.py"
    )
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    for name, cells in builder.NOTEBOOKS.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in cells], name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def test_docstring_examples():
    for module in (
        peakend.calibrate._fit,
        peakend.calibrate._journeys,
        peakend.calibrate._log,
        peakend.datasets._anonymous_bank,
    ):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_how_to_mentions_every_estimates_table():
    import warnings

    import peakend as pe

    scenario = pe.scenarios.mmc(1.2, 0.3, 4, 4, class_rates=[0.4, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = scenario.model_dump()
        for seg in data["segments"].values():
            seg["renege"] = {"kind": "exponential", "mean": 5.0}
        scenario = pe.Scenario.model_validate(data)
        log = pe.calibrate.log_from_journeys([pe.simulate(scenario, seed=s) for s in range(3)])
        cal = pe.calibrate.from_log(log, day_type=None, availability="fit", fit_replications=2)
    page = (ROOT / "docs" / "how-to" / "calibrate.md").read_text(encoding="utf-8")
    for table in cal.estimates:
        assert f"`{table}`" in page, table
    assert 0.2 <= cal.settings["availability"] <= 1.0
