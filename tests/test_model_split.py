"""The simulator split into modules (issue 12) is the same model, day for day.

``tests/data/sim_days.npz`` holds whole simulated days (the built-in scenarios, four
built-in policies, M/M/c days with priority classes and with a loss system, closing
dismissal, wait display and distraction), made by ``tests/data/make_sim_days.py`` just
before the split. Every column is compared: integer and boolean columns exactly, floats
to 1e-12 relative (room for a different libm, nothing more: on the machine that made
the file they are equal bit for bit).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import peakend.sim
import peakend.sim.model as model

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
from make_sim_days import days, simulate_all  # noqa: E402


@pytest.fixture(scope="module")
def stored() -> dict[str, np.ndarray]:
    with np.load(DATA / "sim_days.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def fresh() -> dict[str, np.ndarray]:
    return simulate_all()


def test_every_stored_day_is_simulated_again_identically(stored, fresh):
    assert set(fresh) == set(stored)
    assert {k.split("/")[0] for k in stored} == set(days())
    for key, want in stored.items():
        got = fresh[key]
        assert got.dtype == want.dtype and got.shape == want.shape, key
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(got, want, err_msg=key)


def test_the_old_entry_points_are_still_importable():
    for name in ("simulate", "simulate_validated", "draw_day", "run_day", "build_journeys"):
        assert callable(getattr(model, name))
    assert peakend.sim.simulate is model.simulate
    assert model.DayDraws.__module__ == "peakend.sim.draws"
    assert model.run_day.__module__ == "peakend.sim.engine"
    assert model.build_journeys.__module__ == "peakend.sim.experience"


def test_no_module_of_the_simulator_is_over_about_400_lines():
    sim = Path(peakend.sim.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in sim.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_the_touchpoint_table_follows_the_one_list_of_names():
    from peakend.config.models import TOUCHPOINTS
    from peakend.sim.experience import TABLE

    assert tuple(t.name for t in TABLE) == TOUCHPOINTS
