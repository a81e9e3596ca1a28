"""Simulation throughput and memory: peakend against a bare SimPy loop and Ciw.

Measures customers simulated per second for

* ``mmc``: an M/M/c day through the full peakend model (``peakend.scenarios.mmc``:
  lambda 1.8/min, mu 0.5/min, 4 servers, 8 hours), ``--days`` independent days;
* ``default_branch``: the built-in realistic branch, ``--days`` days;
* ``bare_simpy``: the same M/M/c day as a lean SimPy loop written here (a door
  process, one process per server, a deque), with no recording at all: the floor,
  what SimPy itself costs;
* ``simpy_resource_loop``: the same day in the idiomatic SimPy style (a process
  per customer and a ``simpy.Resource``), for reference;
* ``peakend_tandem`` and ``bare_simpy_tandem``: a two-station tandem day
  (``peakend.scenarios.tandem``: lambda 1.8/min, two M/M/4 stations with mu 0.5/min,
  8 hours) through the full model, and the same two stations as a lean SimPy loop
  (each station a deque and its server processes; a station-1 server hands the
  customer to station 2): the issue-12 comparison;
* ``peakend_branch_with_advisors``: the built-in two-stage branch, per customer against
  ``default_branch``;
* ``ciw``: the same M/M/c day in Ciw (if installed; it is not a peakend
  dependency: ``pip install ciw``).

Times are CPU seconds of this process (``time.process_time``): on a shared
machine, wall-clock time mostly measures the other jobs. The engines are
interleaved in chunks of 10 days so that a change in load hits all of them alike,
and the fastest of ``--repeats`` passes is kept. Ratios are computed within the
same run. Memory per customer is the total ``nbytes`` of every array in the
``Journeys`` of 20 days (one record per day) divided by their customers. The
script also splits the ``mmc`` and the tandem day's CPU time into the stages of
``simulate`` (draws, SimPy runs, building the record) to show where the time goes.

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
from collections import deque
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


def _day_draws(seed: int, hours: float = HOURS) -> tuple[list[float], list[float]]:
    """Arrival times (minutes, within the day) and service times, drawn up front."""
    rng = np.random.default_rng(seed)
    horizon = 60.0 * hours
    # enough interarrival gaps for the day with overwhelming probability
    n_max = int(ARRIVAL_RATE * horizon + 10 * np.sqrt(ARRIVAL_RATE * horizon) + 50)
    arrivals = np.cumsum(rng.exponential(1.0 / ARRIVAL_RATE, n_max))
    arrivals = arrivals[arrivals < horizon]
    services = rng.exponential(1.0 / SERVICE_RATE, arrivals.size)
    return arrivals.tolist(), services.tolist()


def bare_simpy_day(seed: int, hours: float = HOURS) -> int:
    """One M/M/c day in lean plain SimPy with no recording: the floor.

    One door process and one process per server, a deque as the queue, an event
    to wake an idle server: the fewest SimPy events an M/M/c day needs (one per
    arrival, one per service). Doors close after ``HOURS``; those inside are
    served. Returns the number of arrivals.
    """
    arrivals, services = _day_draws(seed, hours)
    env = simpy.Environment()
    queue: deque[int] = deque()
    idle: list[Any] = []  # wake-up events of idle servers

    def door() -> Any:
        timeout = env.timeout
        for c, t in enumerate(arrivals):
            yield timeout(max(t - env.now, 0.0))
            if idle:
                idle.pop().succeed(c)
            else:
                queue.append(c)

    def server() -> Any:
        timeout = env.timeout
        while True:
            if queue:
                c = queue.popleft()
            else:
                wake = env.event()
                idle.append(wake)
                c = yield wake
            yield timeout(services[c])

    for _ in range(SERVERS):
        env.process(server())
    env.process(door())
    env.run()
    return len(arrivals)


def bare_simpy_tandem_day(seed: int, hours: float = HOURS) -> int:
    """Run the two-station tandem day in lean plain SimPy with no recording: the floor.

    Arrivals and the two stations' service times are drawn up front; each station is
    a deque and ``SERVERS`` server processes; a station-1 server, its service done,
    hands the customer to an idle station-2 server or its queue. Returns the arrivals.
    """
    arrivals, services1 = _day_draws(seed, hours)
    services2 = np.random.default_rng(seed + 1_000_003).exponential(
        1.0 / SERVICE_RATE, len(arrivals)
    )
    services = (services1, services2.tolist())
    env = simpy.Environment()
    queues: tuple[deque[int], deque[int]] = (deque(), deque())
    idle: tuple[list[Any], list[Any]] = ([], [])

    def hand(k: int, c: int) -> None:
        if idle[k]:
            idle[k].pop().succeed(c)
        else:
            queues[k].append(c)

    def door() -> Any:
        timeout = env.timeout
        for c, t in enumerate(arrivals):
            yield timeout(max(t - env.now, 0.0))
            hand(0, c)

    def server(k: int) -> Any:
        timeout = env.timeout
        queue, svc = queues[k], services[k]
        while True:
            if queue:
                c = queue.popleft()
            else:
                wake = env.event()
                idle[k].append(wake)
                c = yield wake
            yield timeout(svc[c])
            if k == 0:
                hand(1, c)

    for k in (0, 1):
        for _ in range(SERVERS):
            env.process(server(k))
    env.process(door())
    env.run()
    return len(arrivals)


def resource_simpy_day(seed: int) -> int:
    """Simulate the same day idiomatically: a process per customer and a Resource.

    Shown for reference (it is how most SimPy tutorials write M/M/c); the floor is
    :func:`bare_simpy_day`, which needs fewer events.
    """
    arrivals, services = _day_draws(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)

    def customer(service: float) -> Any:
        with servers.request() as request:
            yield request
            yield env.timeout(service)

    def source() -> Any:
        for t, service in zip(arrivals, services, strict=True):
            yield env.timeout(max(t - env.now, 0.0))
            env.process(customer(service))

    env.process(source())
    env.run()
    return len(arrivals)


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


def peakend_factory(scenario: Any) -> Callable[[int], int]:
    """Return a function simulating one peakend day and returning its number of customers."""
    import peakend as pe

    def peakend_day(seed: int) -> int:
        return pe.simulate(scenario, seed=seed).n_customers

    return peakend_day


def journeys_nbytes(journeys: Any) -> int:
    """Total bytes of every numpy array held by a Journeys record."""
    total = int(np.asarray(journeys.offsets).nbytes)
    for table in (journeys.customers, journeys.episodes, journeys.queue):
        total += sum(int(np.asarray(col).nbytes) for col in table.values())
    return total


def bytes_per_customer(scenario: Any, days: int) -> float:
    """Array bytes per customer of the Journeys of ``days`` days (one record per day)."""
    import peakend as pe

    customers = 0
    nbytes = 0
    for seed in range(days):
        journeys = pe.simulate(scenario, seed=seed)
        customers += journeys.n_customers
        nbytes += journeys_nbytes(journeys)
    return nbytes / customers


# ----------------------------------------------------------------------------- timing


def clock() -> float:
    """CPU seconds of this process: less disturbed by other jobs on a shared machine."""
    return time.process_time()


def measure(
    engines: dict[str, Callable[[int], int]], days: int, repeats: int, chunk: int = 10
) -> dict[str, tuple[float, int]]:
    """Time every engine on days (seeds) 0..days-1: {name: (best CPU seconds, customers)}.

    The engines are interleaved in chunks of ``chunk`` days, so a change in the
    machine's load hits all of them alike; the fastest of ``repeats`` passes is kept.
    """
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeats):
        seconds = dict.fromkeys(engines, 0.0)
        customers = dict.fromkeys(engines, 0)
        for first in range(0, days, chunk):
            seeds = range(first, min(first + chunk, days))
            for name, day in engines.items():
                start = clock()
                for seed in seeds:
                    customers[name] += day(seed)
                seconds[name] += clock() - start
        for name in engines:
            if name not in best or seconds[name] < best[name][0]:
                best[name] = (seconds[name], customers[name])
    return best


def stage_breakdown(scenario: Any, days: int) -> dict[str, float] | None:
    """CPU microseconds per customer in each stage of ``simulate`` (draws, SimPy run, rest).

    Uses the model's stage functions (``peakend.sim.model.draw_day`` and ``run_day``);
    returns None if they are not available.
    """
    try:
        import peakend as pe
        from peakend import memory
        from peakend.sim.model import build_journeys, draw_day, run_day
    except ImportError:
        return None
    draw = run = build = total = 0.0
    customers = 0
    rule = memory.get_rule(scenario.memory.rule, **scenario.memory.params)
    for seed in range(days):
        t0 = clock()
        draws = draw_day(scenario, seed)
        t1 = clock()
        day_run = run_day(scenario, draws)
        t2 = clock()
        build_journeys(scenario, draws, day_run, {}, rule)
        t3 = clock()
        customers += pe.simulate(scenario, seed=seed).n_customers
        t4 = clock()
        draw += t1 - t0
        run += t2 - t1
        build += t3 - t2
        total += t4 - t3
    scale = 1e6 / customers
    return {
        "draw_day": draw * scale,
        "run_day": run * scale,
        "rest (build_journeys, validation, scoring)": (total - draw - run) * scale,
        "  of which build_journeys (episodes, affect, scoring, the record)": build * scale,
        "  of which the rest (re-validation, overload check, metadata)": (
            total - draw - run - build
        )
        * scale,
        "simulate": total * scale,
    }


def tandem_breakdown(scenario: Any, days: int) -> dict[str, float] | None:
    """CPU microseconds per customer in each stage of a staged ``simulate`` (the tandem day).

    First-stage draws and movement, the further stages' draws (``draw_stages``) and
    movement (``run_stages``), and building the record; returns None if the stage
    functions are not available.
    """
    try:
        import peakend as pe
        from peakend import memory
        from peakend.sim.model import build_journeys, draw_day, run_day
        from peakend.sim.network import draw_stages, first_stage_skips, run_stages
    except ImportError:
        return None
    parts = dict.fromkeys(("draw_day", "run_day", "draw_stages", "run_stages", "build"), 0.0)
    total = 0.0
    customers = 0
    rule = memory.get_rule(scenario.memory.rule, **scenario.memory.params)
    for seed in range(days):
        t0 = clock()
        draws = draw_day(scenario, seed)
        t1 = clock()
        run = run_day(scenario, draws, first_stage_skips(scenario, seed, draws))
        t2 = clock()
        stage_draws = draw_stages(scenario, seed, draws)
        t3 = clock()
        stage_runs = run_stages(scenario, draws, run, stage_draws)
        t4 = clock()
        build_journeys(scenario, draws, run, {}, rule, stages=(stage_draws, stage_runs))
        t5 = clock()
        customers += pe.simulate(scenario, seed=seed).n_customers
        total += clock() - t5
        marks = (t0, t1, t2, t3, t4, t5)
        for i, name in enumerate(parts):
            parts[name] += marks[i + 1] - marks[i]
    scale = 1e6 / customers
    out = {name: seconds * scale for name, seconds in parts.items()}
    out["build_journeys (with the stages' episodes)"] = out.pop("build")
    out["rest (re-validation, overload check, metadata)"] = (total - sum(parts.values())) * scale
    out["simulate"] = total * scale
    return out


def long_day_ratio(hours: float = 80.0, repeats: int = 15) -> dict[str, float]:
    """Per-customer CPU cost on one long M/M/c day, where the fixed cost per call is spread thin.

    Returns microseconds per customer of the floor, of ``run_day`` and of ``simulate``
    (best of ``repeats``), and their ratios to the floor.
    """
    import peakend as pe

    scenario = pe.scenarios.mmc(ARRIVAL_RATE, SERVICE_RATE, SERVERS, hours)
    n_bare = bare_simpy_day(1, hours)
    n_model = pe.simulate(scenario, seed=1).n_customers
    try:
        from peakend.sim.model import draw_day, run_day
    except ImportError:
        draws = None
    else:
        draws = draw_day(scenario, 1)
    best = {"floor": np.inf, "run_day": np.inf, "simulate": np.inf}
    for _ in range(repeats):
        start = clock()
        bare_simpy_day(1, hours)
        best["floor"] = min(best["floor"], (clock() - start) / n_bare)
        if draws is not None:
            start = clock()
            run_day(scenario, draws)
            best["run_day"] = min(best["run_day"], (clock() - start) / n_model)
        start = clock()
        pe.simulate(scenario, seed=1)
        best["simulate"] = min(best["simulate"], (clock() - start) / n_model)
    out = {"hours": hours}
    for name, seconds in best.items():
        if np.isfinite(seconds):
            out[f"{name}_us_per_customer"] = 1e6 * seconds
            out[f"{name}_ratio_to_floor"] = seconds / best["floor"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=200, help="days per engine (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the fastest is kept")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--quick", action="store_true", help="few days, one pass, no stage breakdown or long day"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.repeats = min(args.days, 20), 1

    import peakend as pe

    mmc = pe.scenarios.mmc(ARRIVAL_RATE, SERVICE_RATE, SERVERS, HOURS)
    branch = pe.load_scenario("default_branch")
    tandem = pe.scenarios.tandem(ARRIVAL_RATE, [(SERVICE_RATE, SERVERS)] * 2, HOURS)
    advisors = pe.load_scenario("branch_with_advisors")
    engines: dict[str, Callable[[int], Any]] = {
        "bare_simpy": bare_simpy_day,
        "simpy_resource_loop": resource_simpy_day,
        "peakend_mmc": peakend_factory(mmc),
        "peakend_default_branch": peakend_factory(branch),
        "bare_simpy_tandem": bare_simpy_tandem_day,
        "peakend_tandem": peakend_factory(tandem),
        "peakend_branch_with_advisors": peakend_factory(advisors),
    }
    ciw_day = ciw_day_factory()
    if ciw_day is None:
        print("NOTE: ciw is not installed (pip install ciw); the Ciw comparison is skipped.")
    else:
        engines["ciw"] = ciw_day

    # warm up imports and caches
    for day in engines.values():
        day(10_000)

    best = measure(engines, args.days, args.repeats)
    rows: dict[str, dict[str, float]] = {}
    for name, (seconds, customers) in best.items():
        rows[name] = {
            "cpu_seconds": seconds,
            "customers": customers,
            "customers_per_second": customers / seconds,
            "microseconds_per_customer": 1e6 * seconds / customers,
        }
    rows["peakend_mmc"]["bytes_per_customer"] = bytes_per_customer(mmc, 20)
    rows["peakend_default_branch"]["bytes_per_customer"] = bytes_per_customer(branch, 20)

    floor = rows["bare_simpy"]["microseconds_per_customer"]
    for row in rows.values():
        row["time_ratio_to_bare"] = row["microseconds_per_customer"] / floor
        if "ciw" in rows:
            row["speed_ratio_to_ciw"] = (
                row["customers_per_second"] / rows["ciw"]["customers_per_second"]
            )
    tandem_floor = rows["bare_simpy_tandem"]["microseconds_per_customer"]
    rows["peakend_tandem"]["time_ratio_to_bare_tandem"] = (
        rows["peakend_tandem"]["microseconds_per_customer"] / tandem_floor
    )
    rows["peakend_branch_with_advisors"]["time_ratio_to_default_branch"] = (
        rows["peakend_branch_with_advisors"]["microseconds_per_customer"]
        / rows["peakend_default_branch"]["microseconds_per_customer"]
    )
    if args.quick:
        stages, tandem_stages, long_day = None, None, None
    else:
        stages = stage_breakdown(mmc, min(args.days, 50))
        tandem_stages = tandem_breakdown(tandem, min(args.days, 50))
        long_day = long_day_ratio()

    report = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}, SimPy {simpy.__version__}",
        "days": args.days,
        "repeats": args.repeats,
        "rows": rows,
        "mmc_stages_us_per_customer": stages,
        "tandem_stages_us_per_customer": tandem_stages,
        "bare_simpy_tandem_us_per_customer": tandem_floor,
        "bare_simpy_us_per_customer": floor,
        "long_mmc_day": long_day,
    }
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = report["rows"]
    print(f"# {report['date_utc']} UTC, {report['machine']}")
    print(
        f"# {report['days']} days per engine, CPU time, best of {report['repeats']} "
        "interleaved passes\n"
    )
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
    tandem = rows.get("peakend_tandem", {})
    if "time_ratio_to_bare_tandem" in tandem:
        verdicts.append(
            (
                "two-stage tandem time per customer <= 2x bare SimPy tandem",
                tandem["time_ratio_to_bare_tandem"] <= TARGET_BARE_RATIO,
                f"{tandem['time_ratio_to_bare_tandem']:.2f}x",
            )
        )
    advisors = rows.get("peakend_branch_with_advisors", {})
    if "time_ratio_to_default_branch" in advisors:
        print(
            "branch_with_advisors time per customer: "
            f"{advisors['time_ratio_to_default_branch']:.2f}x default_branch's"
        )
    for label, ok, value in verdicts:
        mark = "n/a" if ok is None else ("met" if ok else "MISSED")
        print(f"target: {label}: {value} -> {mark}")
    stages = report.get("mmc_stages_us_per_customer")
    if stages:
        print("\nmmc day, CPU microseconds per customer by stage of simulate():")
        for stage, value in stages.items():
            print(f"  {stage}: {value:.2f}")
        print(f"  (bare SimPy loop, whole day: {report['bare_simpy_us_per_customer']:.2f})")
    tandem_stages = report.get("tandem_stages_us_per_customer")
    if tandem_stages:
        print("\ntandem day, CPU microseconds per customer by stage of simulate():")
        for stage, value in tandem_stages.items():
            print(f"  {stage}: {value:.2f}")
        floor = report["bare_simpy_tandem_us_per_customer"]
        print(f"  (bare SimPy tandem loop, whole day: {floor:.2f})")
    long_day = report.get("long_mmc_day")
    if long_day:
        print(f"\none {long_day['hours']:.0f}-hour mmc day (fixed cost per call spread thin):")
        for name in ("floor", "run_day", "simulate"):
            if f"{name}_us_per_customer" in long_day:
                print(
                    f"  {name}: {long_day[f'{name}_us_per_customer']:.2f} us/customer, "
                    f"{long_day[f'{name}_ratio_to_floor']:.2f}x the floor"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
