"""Regenerate the figures of the documentation from the library itself.

Run from the repository root::

    python docs/assets/make_figures.py

It writes

* ``journey_map.png`` (the picture on the home page and in the README): a gold-card
  and an ordinary customer of the built-in default branch who waited about as long,
  and remember the visit differently (the gold-card paradox: the gold customer
  expected a shorter wait);
* ``tutorial_journey.png`` and ``tutorial_compare.png``: the two figures of the
  tutorial, made with the tutorial's own code;
* ``patients_a_b.png``: Redelmeier & Kahneman's patients A and B as journeys, for the
  background page on the peak-end rule;
* ``report_top.png``: the top of the HTML report of the tutorial's run, as headless
  Chromium shows it (skipped, with a message, where chromium is not installed).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import peakend as pe

HERE = Path(__file__).resolve().parent


def pick_customers(day: pe.Journeys) -> list[int]:
    """Pick a served gold customer who waited, and the ordinary one whose wait is closest."""
    c = day.customers
    served = c["counter"] >= 0
    waited = served & (c["wait"] >= 4.0) & (c["wait"] <= 15.0)
    gold = np.flatnonzero(waited & (c["segment"] == day.code("segments", "gold")))
    ordinary = np.flatnonzero(waited & (c["segment"] == day.code("segments", "ordinary")))
    if gold.size == 0 or ordinary.size == 0:
        raise RuntimeError("no suitable customers on this day; try another seed")
    g = int(gold[np.argmax(c["wait"][gold])])
    o = int(ordinary[np.argmin(np.abs(c["wait"][ordinary] - c["wait"][g]))])
    return [g, o]


def journey_map_figure(path: Path, seed: int = 1) -> list[int]:
    """Simulate one default-branch day and draw two customers' journeys."""
    day = pe.simulate(pe.load_scenario("default_branch"), seed=seed)
    customers = pick_customers(day)
    fig, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    pe.plots.journey_map(day, customers, ax=ax)
    waits = ", ".join(
        f"{day.segments[day.customers['segment'][i]]} waited {day.customers['wait'][i]:.0f} min"
        for i in customers
    )
    ax.set_title(f"Two customers of the default branch ({waits}):\n"
                 "○ peak, ■ end, dashed line = remembered value (peak-end rule)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return customers


def tutorial_figures(journey_path: Path, compare_path: Path) -> None:
    """Draw the tutorial's journey map and forest plot with the tutorial's code."""
    scenario = pe.load_scenario("default_branch")
    day = pe.simulate(scenario, seed=1)
    c = day.customers
    gold = c["segment"] == day.code("segments", "gold")
    longest = int(np.flatnonzero(gold)[np.argmax(c["wait"][gold])])
    ax = pe.plots.journey_map(day, customers=[longest])
    ax.figure.set_size_inches(9, 4.8)
    ax.figure.savefig(journey_path, dpi=100)
    plt.close(ax.figure)

    lunch_teller = pe.Policy(
        "lunch_teller",
        {"counters": {"general": {"tellers": [
            {"start": "09:00", "count": 4},
            {"start": "11:30", "count": 5},
            {"start": "14:00", "count": 4},
        ]}}},
    )
    results = pe.run(scenario, [pe.Policy("baseline"), lunch_teller],
                     replications=20, seed=7, progress=False)
    ax = pe.plots.policy_comparison(results.compare("baseline", "peak_end"), baseline="baseline")
    ax.figure.savefig(compare_path, dpi=100)
    plt.close(ax.figure)


def patients_figure(path: Path) -> None:
    """Draw patients A and B (pain as negative affect, one episode a minute)."""
    a = [-2.0, -8.0, -7.0]
    b = [-2.0, -8.0, -5.0, -3.0, -1.0]
    affect = np.array(a + b)
    start = np.array([*range(len(a)), *range(len(b))], dtype=float)
    patients = pe.Journeys(
        customers={"customer": [0, 1], "segment": [0, 1], "arrival": [0.0, 0.0],
                   "wait": [0.0, 0.0], "departure": [len(a), len(b)]},
        episodes={"touchpoint": np.zeros(len(affect), dtype=int), "start": start,
                  "end": start + 1.0, "affect": affect},
        offsets=[0, len(a), len(a) + len(b)],
        segments=["patient A", "patient B"], business_types=["procedure"],
        touchpoints=["minute"], counters=["doctor"],
    )
    patients.customers["remembered"][:] = patients.score("peak_end")
    integral = patients.score("integral")
    ax = pe.plots.journey_map(patients, [0, 1], label_touchpoints=False)
    ax.figure.set_size_inches(8, 4.4)
    ax.set_ylabel("affect (pain as negative affect, −10..10)")
    ax.set_xlabel("minutes since the start of the procedure")
    ax.set_title("Patients A and B (Redelmeier & Kahneman 1996): same peak, different end\n"
                 f"integral (total pain): A {integral[0]:.0f}, B {integral[1]:.0f} "
                 "affect x minutes; B remembers better")
    ax.figure.savefig(path, dpi=100)
    plt.close(ax.figure)


def report_screenshot(path: Path) -> bool:
    """Write the tutorial's report and take a screenshot of its top in headless Chromium."""
    import shutil
    import subprocess
    import tempfile

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    policies = pe.experiment.load_policies("default_branch")
    results = pe.run("default_branch", policies, replications=20, seed=7, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        page = pe.write_report(results, Path(tmp) / "report.html",
                               title="Lunch staffing and the end of the visit")
        shot = Path(tmp) / "shot.png"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1000,1150",
                        f"--screenshot={shot}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
        shutil.copyfile(shot, path)
    return True


if __name__ == "__main__":
    chosen = journey_map_figure(HERE / "journey_map.png")
    print(f"wrote {HERE / 'journey_map.png'} (customers {chosen})")
    tutorial_figures(HERE / "tutorial_journey.png", HERE / "tutorial_compare.png")
    print(f"wrote {HERE / 'tutorial_journey.png'} and {HERE / 'tutorial_compare.png'}")
    patients_figure(HERE / "patients_a_b.png")
    print(f"wrote {HERE / 'patients_a_b.png'}")
    if report_screenshot(HERE / "report_top.png"):
        print(f"wrote {HERE / 'report_top.png'}")
    else:
        print("report_top.png not written: chromium is not installed")
