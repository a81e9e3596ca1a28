"""Regenerate the stored back-test study ``backtest_study.npz`` (run deliberately, see README.md).

Usage (from the repository root)::

    python tests/data/make_backtest_study.py

Only run this when a change to the simulator, the memory rules or the
aggregates is *intended* to change results; commit the new file together with
that change and say so in the changelog.
"""

from pathlib import Path

import peakend as pe
from peakend.experiment import load_policies

HERE = Path(__file__).resolve().parent
STUDY = {
    "scenario": "default_branch",
    "policies": ("baseline", "lunch_teller", "vip_flexible", "farewell_gift"),
    "replications": 6,
    "seed": 20261125,
}


def run_study() -> pe.Results:
    """Run the stored study's call (also used by the back-test)."""
    scenario = pe.load_scenario(STUDY["scenario"])
    builtin = {p.name: p for p in load_policies(STUDY["scenario"])}
    policies = [builtin[name] for name in STUDY["policies"]]
    return pe.run(scenario, policies, replications=STUDY["replications"], seed=STUDY["seed"],
                  progress=False)


if __name__ == "__main__":
    path = run_study().save(HERE / "backtest_study.npz")
    print(f"wrote {path}")
