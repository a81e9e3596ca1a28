"""How a day's cost grows with its size: time and memory per customer, 1k to 1M customers.

The day is ``default_branch`` (lobby, lounge, a VIP window, reneging, balking,
appointments, advice, experience and memory scoring) scaled by a factor ``f``: every
arrival rate times ``f``, and the staff with it (general tellers ``4 f``, VIP
tellers ``f``, split into counter groups of at most 1,000 tellers, since a group holds
up to 1,000; lobby managers ``min(f, 100)``, the schema's limit). So utilisation stays
about the same and the customers per day grow with ``f``: about 1k, 10k, 100k and 1M.

For each size the script reports

* **time per customer**: CPU seconds of this process (``time.process_time``) over the
  customers simulated, best of ``--repeats`` passes, the sizes taking turns in each
  pass; every size simulates about the same total number of customers per pass
  (``--customers``; many days for the small sizes, one for the largest), so that every
  figure averages the same amount of work;
* **memory per customer**: the peak memory traced by ``tracemalloc`` while one day is
  simulated (numpy's arrays included), and the ``nbytes`` of the resulting
  ``Journeys``, each divided by the day's customers (a separate pass: tracing slows
  Python down, so it is not timed);
* the **ratio** of each to the 1k case, measured in the same run.

Target (issue 11): a day's cost linear in its customers and flat in the number of
tellers: time per customer within 1.5x of the 1k case at every size.

Every size runs with each movement engine of ``--engine`` (default both: ``simpy`` and
``compiled``, the numba kernel; the same days bit for bit), the engines taking turns
too; the ratios are per engine, against its own 1k case.

Usage::

    python benchmarks/bench_scaling.py            # 1k, 10k, 100k, 1M; about 10 min
    python benchmarks/bench_scaling.py --quick    # 1k, 10k, 100k; about a minute
    python benchmarks/bench_scaling.py --json out.json
    python benchmarks/bench_scaling.py --engine compiled --sizes 1000,1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
import tracemalloc
import warnings
from typing import Any

import numpy as np

import peakend as pe
from peakend.config import Scenario

SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = SIZES[:3]
TARGET_RATIO = 1.5  # time per customer at any size / at 1k, at most
MAX_GROUP = 1000  # tellers per counter group (schema limit)
MAX_MANAGERS = 100  # lobby managers (schema limit)


def scaled_branch(customers: int) -> Scenario:
    """``default_branch`` with demand and staff scaled to about ``customers`` a day."""
    base = pe.load_scenario("default_branch")
    f = customers / base.expected_arrivals()
    data = base.model_dump()
    data["name"] = f"default_branch x{f:.1f}"
    for block in data["arrivals"]["profile"]:
        block["rate"] *= f
    counters: dict[str, Any] = {}
    for name, group in data["counters"].items():
        total = max(1, round(group["tellers"] * f))
        n_groups = math.ceil(total / MAX_GROUP)
        for k in range(n_groups):
            share = total // n_groups + (1 if k < total % n_groups else 0)
            counters[name if k == 0 else f"{name}_{k + 1}"] = {**group, "tellers": share}
    data["counters"] = counters
    data["lobby"]["managers"] = max(1, min(MAX_MANAGERS, round(data["lobby"]["managers"] * f)))
    return Scenario.model_validate(data)


def simulate_quietly(scenario: Scenario, seed: int, engine: str = "simpy") -> pe.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.warnings.PeakendWarning)
        return pe.simulate(scenario, seed=seed, engine=engine)


def journeys_bytes(day: pe.Journeys) -> int:
    arrays = [*day.customers.values(), *day.episodes.values(), *day.queue.values(), day.offsets]
    return int(sum(a.nbytes for a in arrays))


def time_days(scenario: Scenario, seeds: range, engine: str = "simpy") -> tuple[float, int]:
    """CPU seconds and customers of the days with these seeds."""
    customers = 0
    t0 = time.process_time()
    for seed in seeds:
        customers += len(simulate_quietly(scenario, seed, engine))
    return time.process_time() - t0, customers


def memory_size(scenario: Scenario, engine: str = "simpy") -> tuple[float, float, int]:
    """Peak traced bytes and Journeys bytes per customer of one day."""
    tracemalloc.start()
    try:
        day = simulate_quietly(scenario, 0, engine)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n = len(day)
    return peak / n, journeys_bytes(day) / n, n


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k, 10k, 100k only, less work")
    parser.add_argument("--customers", type=int, default=None, help="customers per size")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes per size")
    parser.add_argument("--json", type=str, default=None, help="write the results here")
    parser.add_argument("--engine", default="simpy,compiled",
                        help="movement engines, comma-separated (default simpy,compiled)")
    parser.add_argument("--sizes", default=None, help="customers per day, comma-separated")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(x) for x in args.sizes.split(","))
    total = args.customers or (200_000 if args.quick else 1_000_000)
    repeats = args.repeats or (3 if args.quick else 2)

    # warm up: imports, the compiled kernel, the scenario loader
    for engine in engines:
        simulate_quietly(scaled_branch(1_000), 0, engine)

    scenarios = {size: scaled_branch(size) for size in sizes}
    days = {size: max(1, round(total / size)) for size in sizes}
    # the sizes take turns (each repeat runs every size once, the seeds of a size the
    # same in every repeat), so that a change in the machine's load hits all of them
    cases = [(engine, size) for size in sizes for engine in engines]
    best = dict.fromkeys(cases, math.inf)
    customers = dict.fromkeys(cases, 0)
    for r in range(repeats):
        for engine, size in cases:
            seconds, n = time_days(scenarios[size], range(days[size]), engine)
            best[(engine, size)] = min(best[(engine, size)], seconds / n)
            customers[(engine, size)] = n
            print(
                f"repeat {r + 1}, {engine:>8}, size {size:>9,}: "
                f"{seconds / n * 1e6:6.1f} us/customer",
                flush=True,
            )
    rows = []
    for engine, size in sorted(cases, key=lambda c: (engines.index(c[0]), c[1])):
        s = scenarios[size]
        peak, record, n_day = memory_size(s, engine)
        rows.append(
            {
                "engine": engine,
                "size": size,
                "tellers": sum(c.max_tellers() for c in s.counters.values()),
                "groups": len(s.counters),
                "days": days[size],
                "customers": customers[(engine, size)],
                "us_per_customer": best[(engine, size)] * 1e6,
                "peak_bytes_per_customer": peak,
                "record_bytes_per_customer": record,
                "customers_in_memory_day": n_day,
            }
        )
    for r in rows:
        ref = next(x for x in rows if x["engine"] == r["engine"])  # its own smallest size
        r["time_ratio"] = r["us_per_customer"] / ref["us_per_customer"]
        r["peak_ratio"] = r["peak_bytes_per_customer"] / ref["peak_bytes_per_customer"]

    print()
    print(
        "| engine | customers/day (target) | tellers (groups) | days | customers | us/customer "
        "| x 1k time | peak B/customer | x 1k | record B/customer |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['size']:,} | {r['tellers']:,} ({r['groups']}) | {r['days']} | "
            f"{r['customers']:,} | {r['us_per_customer']:.1f} | {r['time_ratio']:.2f} | "
            f"{r['peak_bytes_per_customer']:,.0f} | {r['peak_ratio']:.2f} | "
            f"{r['record_bytes_per_customer']:,.0f} |"
        )
    worst_of = {e: max(r["time_ratio"] for r in rows if r["engine"] == e) for e in engines}
    print()
    for e, w in worst_of.items():
        verdict = "within" if w <= TARGET_RATIO else "OVER"
        print(f"{e}: worst time ratio {w:.2f} ({verdict} the {TARGET_RATIO}x target)")
    worst = max(worst_of.values())
    out = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "peakend": pe.__version__,
        "numpy": np.__version__,
        "rows": rows,
        "worst_time_ratio": worst,
        "worst_time_ratio_by_engine": worst_of,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
