"""How long one change in ``pe.explore`` takes, against simulating the same days alone.

A control change in the what-if app rebuilds and validates the scenario, simulates the
``--replications`` days of the what-if, summarises them against the baseline and, with
figures on, redraws three PNG figures (the per-segment forest plot, the hall queue, one
journey map). This script times

* ``simulate``: the bare cost, a loop of ``pe.simulate`` over the same days;
* ``update_table``: one change with ``figures=False`` (simulation and the summary table);
* ``update_figures``: one change with the three figures redrawn, what a user sees.

Times are CPU seconds of this process (``time.process_time``; on a shared machine
wall-clock time measures the other jobs too), the best of ``--repeats`` passes, the three
measurements interleaved within each pass. Ratios are to ``simulate`` in the same run.
Target (issue 15): an update with figures in about a second of wall time for 20 days of
the default branch on a quiet machine.

Usage::

    python benchmarks/bench_explore.py [--replications 20] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import peakend as pe


def _timed(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 repeats of 10 days")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    replications = 10 if args.quick else args.replications
    repeats = 3 if args.quick else args.repeats

    scenario = pe.load_scenario("default_branch")
    table = pe.explore(scenario, replications=replications, seed=1, figures=False)
    full = pe.explore(scenario, replications=replications, seed=1)
    seeds = [pe.experiment.replication_seed(1, r) for r in range(replications)]
    lever = "tellers.general.11:30"

    def bare() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in seeds:
                pe.simulate(table.scenario, seed=s)

    best = {"simulate": float("inf"), "update_table": float("inf"),
            "update_figures": float("inf")}
    wall = float("inf")
    for k in range(repeats):
        value = 5 + k % 2  # a real change every time
        best["simulate"] = min(best["simulate"], _timed(bare))

        def set_table(v: int = value) -> None:
            table.controls[lever].value = v

        def set_full(v: int = value) -> None:
            full.controls[lever].value = v

        best["update_table"] = min(best["update_table"], _timed(set_table))
        best["update_figures"] = min(best["update_figures"], _timed(set_full))
        wall = min(wall, full.seconds)
    out = {
        "replications": replications,
        "customers_per_day": round(sum(len(d) for d in full._days) / replications),
        "cpu_seconds": {k: round(v, 4) for k, v in best.items()},
        "ratio_to_simulate": {k: round(v / best["simulate"], 2) for k, v in best.items()},
        "update_figures_wall_seconds": round(wall, 3),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
