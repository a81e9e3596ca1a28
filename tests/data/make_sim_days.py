"""Regenerate ``sim_days.npz``: whole simulated days, stored to pin the model bit for bit.

Usage (from the repository root)::

    python tests/data/make_sim_days.py

``tests/test_model_split.py`` simulates the same days and compares every column of every
record with the stored one. It was made when the simulator was split into modules
(draws, engine, disciplines, staff, experience) to show that the split changed nothing.
Run this only when a change is *meant* to change simulated days, commit the new file
with that change and say why in the changelog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import peakend as pe
from peakend.config import Scenario, deep_merge
from peakend.experiment import load_policies

HERE = Path(__file__).resolve().parent


def variant(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(deep_merge(scenario.model_dump(), changes))


def days() -> dict[str, tuple[Scenario, int]]:
    """The stored days: name -> (scenario, seed)."""
    branch = pe.load_scenario("default_branch")
    policies = {p.name: p for p in load_policies("default_branch")}
    mmc = pe.scenarios.mmc(1.6, 0.5, 4, 6)
    out = {
        "default_branch": (branch, 1),
        "gold_card_paradox": (pe.load_scenario("gold_card_paradox"), 2),
        "vip_contrast": (pe.load_scenario("vip_contrast"), 3),
        "mmc_priority": (pe.scenarios.mmc(1.6, 0.5, 4, 6, class_rates=[0.4, 0.5, 0.7]), 4),
        "mmc_loss": (variant(mmc, {"segments": {"customer": {"balk_queue": 0}}}), 5),
        "dismiss": (variant(branch, {"after_closing": "dismiss"}), 6),
        "display_distraction": (
            variant(branch, {"hall": {"wait_display": True, "distraction": True}}),
            7,
        ),
    }
    for name in ("vip_priority", "vip_flexible", "lunch_teller", "farewell_gift"):
        out[name] = (policies[name].apply(branch), 8)
    return out


def record(day: pe.Journeys) -> dict[str, np.ndarray]:
    arrays = {"offsets": day.offsets}
    arrays.update({f"customers/{k}": v for k, v in day.customers.items()})
    arrays.update({f"episodes/{k}": v for k, v in day.episodes.items()})
    arrays.update({f"queue/{k}": v for k, v in day.queue.items()})
    return arrays


def simulate_all() -> dict[str, np.ndarray]:
    import warnings

    out: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.warnings.PeakendWarning)
        for name, (scenario, seed) in days().items():
            for key, value in record(pe.simulate(scenario, seed=seed)).items():
                out[f"{name}/{key}"] = value
    return out


if __name__ == "__main__":
    path = HERE / "sim_days.npz"
    np.savez_compressed(path, **simulate_all())
    print(f"wrote {path}")
