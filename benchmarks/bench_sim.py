"""Simulation throughput and memory: peakend against a bare SimPy loop and Ciw.

Measures customers simulated per second for

* ``mmc``: an M/M/c day through the full peakend model (``peakend.scenarios.mmc``:
  lambda 1.8/min, mu 0.5/min, 4 servers, 8 hours), ``--days`` independent days;
* ``default_branch``: the built-in realistic branch, ``--days`` days;
* ``bare_simpy``: the same M/M/c day as a minimal SimPy loop written here, with no
  recording at all (the floor: what SimPy itself costs);
* ``ciw``: the same M/M/c day in Ciw (if installed; it is not a peakend
  dependency: ``pip install ciw``).

Every engine runs ``--repeats`` times, interleaved, and the fastest repeat is kept
(the machine is shared, so the minimum is the least disturbed measurement). Ratios
are computed within the same run. Memory per customer is the total ``nbytes`` of
every array in the ``Journeys`` records divided by the number of customers.

Targets (issue 3): the ``mmc`` day through the full model takes <= 2x the bare
loop's time per customer, runs at >= 1.2x Ciw's customers per second, and keeps
<= 1 KB per customer.

Usage::

    python benchmarks/bench_sim.py [--days 200] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

ARRIVAL_RATE = 1.8  # customers per minute
SERVICE_RATE = 0.5  # customers per minute per server
SERVERS = 4
HOURS = 8.0
TARGET_BARE_RATIO = 2.0  # full model time per customer / bare loop time per customer, at most
TARGET_CIW_RATIO = 1.2  # full model customers/s / Ciw customers/s, at least
TARGET_BYTES = 1024.0  # bytes per customer in Journeys, at most


# ----------------------------------------------------------------------------- engines


def bare_simpy_day(seed: int) -> int:
    """One M/M/c day in plain SimPy with no recording; returns the number of arrivals.

    Doors close after ``HOURS``; customers inside are served. Interarrival and
    service times are drawn up front from one numpy Generator (the cheapest
    honest way to get them), so the loop measures SimPy's event handling.
    """
    rng = np.random.default_rng(seed)
    horizon = 60.0 * HOURS
    # enough interarrival gaps for the day with overwhelming probability
    n_max = int(ARRIVAL_RATE * horizon + 10 * np.sqrt(ARRIVAL_RATE * horizon) + 50)
    gaps = rng.exponential(1.0 / ARRIVAL_RATE, n_max).tolist()
    services = rng.exponential(1.0 / SERVICE_RATE, n_max).tolist()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    count = 0

    def customer(service: float) -> Any:
        with servers.request() as request:
            yield request
            yield env.timeout(service)

    def source() -> Any:
        nonlocal count
        for gap, service in zip(gaps, services, strict=True):
            yield env.timeout(gap)
            if env.now >= horizon:
                return
            count += 1
            env.process(customer(service))

    env.process(source())
    env.run()
    return count


def ciw_day_factory() -> Callable[[int], int] | None:
    """Return a function simulating one Ciw M/M/c day, or None if Ciw is missing."""
    try:
        ciw = importlib.import_module("ciw")  # optional, untyped: not a peakend dependency
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ARRIVAL_RATE)],
        service_distributions=[ciw.dists.Exponential(SERVICE_RATE)],
        number_of_servers=[SERVERS],
    )

    def ciw_day(seed: int) -> int:
        # Ciw seeds Python's global random module; that is Ciw's design, not ours.
        ciw.seed(seed)
        simulation = ciw.Simulation(network)
        simulation.simulate_until_max_time(60.0 * HOURS)
        # customers who arrived during the day (served ones are in the records;
        # those still queueing at the cut-off are counted too)
        return int(simulation.nodes[0].number_of_individuals)

    return ciw_day


def peakend_factory(scenario: Any) -> Callable[[int], tuple[int, int]]:
    """Return a function simulating one peakend day: (customers, bytes of its Journeys)."""
    import peakend as pe

    def peakend_day(seed: int) -> tuple[int, int]:
        journeys = pe.simulate(scenario, seed=seed)
        return journeys.n_customers, journeys_nbytes(journeys)

    return peakend_day


def journeys_nbytes(journeys: Any) -> int:
    """Total bytes of every numpy array held by a Journeys record."""
    total = int(np.asarray(journeys.offsets).nbytes)
    for table in (journeys.customers, journeys.episodes, journeys.queue):
        total += sum(int(np.asarray(col).nbytes) for col in table.values())
    return total


# ----------------------------------------------------------------------------- timing


def time_days(day: Callable[[int], Any], days: int) -> tuple[float, int, int]:
    """Simulate ``days`` days with seeds 0..days-1: (seconds, customers, bytes)."""
    customers = 0
    nbytes = 0
    start = time.perf_counter()
    for seed in range(days):
        out = day(seed)
        if isinstance(out, tuple):
            customers += out[0]
            nbytes += out[1]
        else:
            customers += out
    return time.perf_counter() - start, customers, nbytes


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=200, help="days per engine (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the fastest is kept")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    import peakend as pe

    mmc = pe.scenarios.mmc(ARRIVAL_RATE, SERVICE_RATE, SERVERS, HOURS)
    branch = pe.load_scenario("default_branch")
    engines: dict[str, Callable[[int], Any]] = {
        "bare_simpy": bare_simpy_day,
        "peakend_mmc": peakend_factory(mmc),
        "peakend_default_branch": peakend_factory(branch),
    }
    ciw_day = ciw_day_factory()
    if ciw_day is None:
        print("NOTE: ciw is not installed (pip install ciw); the Ciw comparison is skipped.")
    else:
        engines["ciw"] = ciw_day

    # warm up imports and caches
    for day in engines.values():
        day(10_000)

    best: dict[str, tuple[float, int, int]] = {}
    for _ in range(args.repeats):
        for name, day in engines.items():
            result = time_days(day, args.days)
            if name not in best or result[0] < best[name][0]:
                best[name] = result

    rows: dict[str, dict[str, float]] = {}
    for name, (seconds, customers, nbytes) in best.items():
        rows[name] = {
            "seconds": seconds,
            "customers": customers,
            "customers_per_second": customers / seconds,
            "microseconds_per_customer": 1e6 * seconds / customers,
        }
        if nbytes:
            rows[name]["bytes_per_customer"] = nbytes / customers

    floor = rows["bare_simpy"]["microseconds_per_customer"]
    for row in rows.values():
        row["time_ratio_to_bare"] = row["microseconds_per_customer"] / floor
        if "ciw" in rows:
            row["speed_ratio_to_ciw"] = (
                row["customers_per_second"] / rows["ciw"]["customers_per_second"]
            )

    report = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}, SimPy {simpy.__version__}",
        "days": args.days,
        "repeats": args.repeats,
        "rows": rows,
    }
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = report["rows"]
    print(f"# {report['date_utc']} UTC, {report['machine']}")
    print(f"# {report['days']} days per engine, best of {report['repeats']} repeats\n")
    print("| engine | customers | customers/s | us/customer | x bare time | x Ciw speed | B/cust |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        ciw_ratio = f"{row['speed_ratio_to_ciw']:.2f}" if "speed_ratio_to_ciw" in row else "-"
        nbytes = f"{row['bytes_per_customer']:.0f}" if "bytes_per_customer" in row else "-"
        print(
            f"| {name} | {row['customers']:.0f} | {row['customers_per_second']:,.0f} | "
            f"{row['microseconds_per_customer']:.1f} | {row['time_ratio_to_bare']:.2f} | "
            f"{ciw_ratio} | {nbytes} |"
        )
    full = rows["peakend_mmc"]
    print()
    verdicts = [
        (
            "mmc time per customer <= 2x bare SimPy",
            full["time_ratio_to_bare"] <= TARGET_BARE_RATIO,
            f"{full['time_ratio_to_bare']:.2f}x",
        ),
        (
            "mmc memory <= 1 KB per customer",
            full["bytes_per_customer"] <= TARGET_BYTES,
            f"{full['bytes_per_customer']:.0f} B",
        ),
    ]
    if "speed_ratio_to_ciw" in full:
        verdicts.append(
            (
                "mmc customers/s >= 1.2x Ciw",
                full["speed_ratio_to_ciw"] >= TARGET_CIW_RATIO,
                f"{full['speed_ratio_to_ciw']:.2f}x",
            )
        )
    else:
        verdicts.append(("mmc customers/s >= 1.2x Ciw", None, "ciw not installed"))
    for label, ok, value in verdicts:
        mark = "n/a" if ok is None else ("met" if ok else "MISSED")
        print(f"target: {label}: {value} -> {mark}")


if __name__ == "__main__":
    main(sys.argv[1:])
