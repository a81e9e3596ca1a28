"""The compiled movement engine against SimPy and against a compiled floor (issue 16).

Four measurements, in one run, each a ratio of figures measured in that run:

1. **run per day**: ``peakend.run`` on ``default_branch`` (its built-in policy set, one
   process, no progress bar), CPU seconds per simulated day (everything ``run`` does
   per day: draws, movement, journeys, scoring, aggregation), the SimPy engine against
   the compiled one, interleaved, best of ``--repeats``; 64 replications per policy (two
   full chunks of 32 days per policy, as in ``peakend run``'s 200; 8 with ``--quick``).
   Target (issue 16): >= 10x. Beside it, the same days through the draws and the
   movement only (``draw_days``, ``run_days``): the engine's own part of a day. The
   rest of ``run``'s day is shared by both engines, so SimPy's ``run`` day over the
   compiled engine's own part bounds the ratio ``run`` can reach with that rest free.
2. **simulate vs Kiefer-Wolfowitz**: full simulation of 8-hour M/M/4 days
   (lambda 1.8/min, mu 0.5/min; about 865 customers a day) with each engine, per
   customer, one day per call (``peakend.simulate``) and 25 days per call
   (``peakend.sim.batch.simulate_days``, what ``run``'s workers use: the same days),
   against a Kiefer-Wolfowitz recursion for the waits of the same M/M/4 queue
   compiled with numba here (pre-drawn exponential gaps and services, the workload
   vector of the c servers kept sorted): the least any compiled M/M/c simulation can
   cost. Target (issue 16, many days per call): within 10x.
3. **scaling**: time per customer at 1k to 1M customers a day for both engines is in
   ``benchmarks/bench_scaling.py`` (``--engine simpy,compiled``); this script runs its
   quick sizes (1k, 10k) unless ``--no-scaling``.
4. **peakend run**: the command ``peakend run`` with no scenario (``default_branch``,
   its policies, the default replications) on 2 workers with each engine, the
   simulation seconds it reports (wall clock of ``run``, process start-up excluded).
   Target (issue 16): under 3 s.

Times are CPU seconds of this process (``time.process_time``) except item 4 (wall
clock, since it uses worker processes); the machine may be shared, so treat single
figures as provisional. The first call of the compiled engine in a fresh environment
compiles the kernel (a few seconds, then cached on disk); the script warms both
engines up before timing.

Usage::

    python benchmarks/bench_engine.py                 # about 2 minutes
    python benchmarks/bench_engine.py --quick         # about 30 s
    python benchmarks/bench_engine.py --json out.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

import peakend as pe
from peakend.experiment import load_policies
from peakend.warnings import PeakendWarning

ROOT = Path(__file__).resolve().parents[1]
LAMBDA, MU, SERVERS, HOURS = 1.8, 0.5, 4, 8.0


# --------------------------------------------------------------------------- 1. run per day
def run_seconds_per_day(engine: str, replications: int) -> float:
    """CPU seconds per simulated day of ``run`` on default_branch with its policies."""
    scenario = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", scenario)
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        res = pe.run(scenario, policies, replications=replications, progress=False,
                     workers=1, engine=engine)
    return (time.process_time() - t0) / (len(res.policies) * replications)


# --------------------------------------------------------------------------- 2. KW floor
@njit(cache=True)
def kw_waits(gaps: Any, services: Any, c: int) -> Any:  # pragma: no cover - compiled
    """Kiefer-Wolfowitz: waits of a FIFO G/G/c queue from inter-arrival gaps and services.

    ``w`` is the sorted workload vector (time until each server is free, as seen by the
    arriving customer): the customer waits ``w[0]``, adds its service to it, the vector
    is re-sorted (one insertion) and every entry drops by the next gap (floored at 0).
    """
    n = gaps.size
    out = np.empty(n)
    w = np.zeros(c)
    for i in range(n):
        out[i] = w[0]
        v = w[0] + services[i]
        j = 1
        while j < c and w[j] < v:
            w[j - 1] = w[j]
            j += 1
        w[j - 1] = v
        if i + 1 < n:
            g = gaps[i + 1]
            for k in range(c):
                w[k] = max(w[k] - g, 0.0)
    return out


def kw_seconds_per_customer(n_days: int) -> float:
    """CPU seconds per customer of the KW recursion over ``n_days`` M/M/4 8-hour days."""
    rng = np.random.default_rng(0)
    n = int(LAMBDA * HOURS * 60.0)
    days = [(rng.exponential(1 / LAMBDA, n), rng.exponential(1 / MU, n)) for _ in range(n_days)]
    kw_waits(days[0][0], days[0][1], SERVERS)  # compile / load
    t0 = time.process_time()
    for gaps, services in days:
        kw_waits(gaps, services, SERVERS)
    return (time.process_time() - t0) / (n * n_days)


def simulate_seconds_per_customer(engine: str, n_days: int) -> float:
    s = pe.scenarios.mmc(LAMBDA, MU, SERVERS, HOURS)
    customers = 0
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakendWarning)
        for seed in range(n_days):
            customers += len(pe.simulate(s, seed, engine=engine))
    return (time.process_time() - t0) / customers


def simulate_many_seconds_per_customer(engine: str, n_days: int, per_call: int = 25) -> float:
    """CPU seconds per customer of whole M/M/4 days simulated ``per_call`` at a time.

    ``peakend.sim.batch.simulate_days``, what ``run``'s workers call for the days of a
    policy (draws, movement, journeys, remembered values, overload checks: everything
    ``simulate`` does, the same days bit for bit), on a scenario fresh from validation.
    """
    from peakend.config import Scenario
    from peakend.experiment._tasks import replication_seed
    from peakend.sim.batch import simulate_days

    s = Scenario.model_validate_json(pe.scenarios.mmc(LAMBDA, MU, SERVERS, HOURS).model_dump_json())
    seeds = [replication_seed(0, r) for r in range(n_days)]
    used = "compiled" if engine == "compiled" else "simpy"
    customers = 0
    t0 = time.process_time()
    for a in range(0, n_days, per_call):
        customers += sum(len(day) for day, _ in simulate_days(s, seeds[a : a + per_call], used))
    return (time.process_time() - t0) / customers


def movement_seconds_per_customer(engine: str, n_days: int) -> float:
    """CPU seconds per customer of the movement stage alone (run_day) of the mmc day."""
    from peakend.sim.draws import draw_day
    from peakend.sim.engine import run_day

    s = pe.scenarios.mmc(LAMBDA, MU, SERVERS, HOURS)
    draws = [draw_day(s, seed) for seed in range(n_days)]
    t0 = time.process_time()
    for d in draws:
        run_day(s, d, engine=engine)
    return (time.process_time() - t0) / sum(d.arrival.size for d in draws)


def engine_part_seconds_per_day(engine: str, replications: int) -> float:
    """CPU seconds per day of the engine's own part of ``run``: the draws and the movement.

    The same days as :func:`run_seconds_per_day` (each policy of ``default_branch``, the
    replications' seeds, chunks of 32 days as ``run``'s workers take them), through
    ``draw_days`` and ``run_days`` only. What ``run`` does after the movement (episodes,
    affect, scoring, aggregation) is one implementation, shared by both engines, so a
    compiled ``run`` day costs at least this much: ``run``'s SimPy day divided by the
    compiled figure here is the most the compiled engine can gain with everything else
    free.
    """
    from peakend.experiment._tasks import replication_seed
    from peakend.sim.draws import draw_days
    from peakend.sim.engine import run_days

    scenario = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", scenario)
    seeds = [replication_seed(7, r) for r in range(replications)]
    chunks = [seeds[i:i + 32] for i in range(0, len(seeds), 32)]
    applied = [p.apply(scenario) for p in policies]
    t0 = time.process_time()
    for s in applied:
        for chunk in chunks:
            draws, bounds = draw_days(s, chunk, compiled=engine == "compiled")
            run_days(s, draws, bounds, engine=engine)
    return (time.process_time() - t0) / (len(applied) * replications)


# --------------------------------------------------------------------------- 4. CLI
def cli_seconds(engine: str) -> float:
    """Return the simulation seconds ``peakend run`` reports (2 workers, no other argument)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "peakend.cli", "run", "--workers", "2", "--engine", engine,
             "--no-progress", "--out", str(Path(tmp) / "out")],
            capture_output=True, text=True, env=env, check=True, cwd=tmp,
        )
    found = re.search(r"in ([0-9.]+) s on", proc.stdout + proc.stderr)
    if found is None:
        raise RuntimeError(f"no timing in the output of peakend run: {proc.stdout[-500:]}")
    return float(found.group(1))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer days and repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes (best kept)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling rows")
    parser.add_argument("--json", type=str, default=None, help="write the results here")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    reps = 8 if args.quick else 64  # run's workers take chunks of up to 32 days
    n_days = 20 if args.quick else 100

    # warm up both engines (imports, numba's cache, the scenario loader)
    run_seconds_per_day("simpy", 1)
    run_seconds_per_day("compiled", 1)

    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, np.inf), value)

    for r in range(repeats):
        for engine in ("simpy", "compiled"):
            keep(f"run_per_day_{engine}", run_seconds_per_day(engine, reps))
            keep(f"engine_part_{engine}", engine_part_seconds_per_day(engine, reps))
            keep(f"simulate_{engine}", simulate_seconds_per_customer(engine, n_days))
            keep(f"many_{engine}", simulate_many_seconds_per_customer(engine, n_days))
            keep(f"movement_{engine}", movement_seconds_per_customer(engine, n_days))
        keep("kw", kw_seconds_per_customer(n_days))
        print(f"pass {r + 1}: " + ", ".join(f"{k} {v * 1e6:.2f} us" for k, v in best.items()),
              flush=True)

    rows = {
        "run_ms_per_day": {e: best[f"run_per_day_{e}"] * 1e3 for e in ("simpy", "compiled")},
        "run_speedup": best["run_per_day_simpy"] / best["run_per_day_compiled"],
        "engine_part_ms_per_day": {e: best[f"engine_part_{e}"] * 1e3
                                   for e in ("simpy", "compiled")},
        # the most run's ratio can be while the shared experience stays (see
        # engine_part_seconds_per_day): SimPy's whole day over the compiled draws+movement
        "run_speedup_bound": best["run_per_day_simpy"] / best["engine_part_compiled"],
        "simulate_us_per_customer": {e: best[f"simulate_{e}"] * 1e6
                                     for e in ("simpy", "compiled")},
        "movement_us_per_customer": {e: best[f"movement_{e}"] * 1e6
                                     for e in ("simpy", "compiled")},
        "kw_us_per_customer": best["kw"] * 1e6,
        "simulate_over_kw": {e: best[f"simulate_{e}"] / best["kw"] for e in ("simpy", "compiled")},
        "many_days_us_per_customer": {e: best[f"many_{e}"] * 1e6 for e in ("simpy", "compiled")},
        "many_days_over_kw": {e: best[f"many_{e}"] / best["kw"] for e in ("simpy", "compiled")},
        "movement_speedup": best["movement_simpy"] / best["movement_compiled"],
    }
    rows["cli_seconds_2_workers"] = {e: cli_seconds(e) for e in ("simpy", "compiled")}
    if not args.no_scaling:
        sys.path.insert(0, str(Path(__file__).parent))
        import bench_scaling

        rows["scaling"] = bench_scaling.main(
            ["--sizes", "1000,10000", "--customers", "20000" if args.quick else "100000",
             "--repeats", str(repeats), "--engine", "simpy,compiled"])["rows"]

    print()
    print("| measurement | simpy | compiled | ratio |")
    print("|---|---:|---:|---:|")
    r = rows
    print(f"| run, default_branch, ms per day | {r['run_ms_per_day']['simpy']:.2f} | "
          f"{r['run_ms_per_day']['compiled']:.2f} | {r['run_speedup']:.2f}x faster |")
    print(f"| run's draws + movement only, ms per day | "
          f"{r['engine_part_ms_per_day']['simpy']:.2f} | "
          f"{r['engine_part_ms_per_day']['compiled']:.2f} | "
          f"bound on run's ratio: {r['run_speedup_bound']:.2f}x |")
    print(f"| simulate, M/M/4 8 h, us per customer | {r['simulate_us_per_customer']['simpy']:.2f}"
          f" | {r['simulate_us_per_customer']['compiled']:.2f} | "
          f"{r['simulate_over_kw']['compiled']:.1f}x the KW floor "
          f"({r['kw_us_per_customer']:.3f} us) |")
    print(f"| simulate_days (25 per call), M/M/4 8 h, us per customer | "
          f"{r['many_days_us_per_customer']['simpy']:.2f} | "
          f"{r['many_days_us_per_customer']['compiled']:.2f} | "
          f"{r['many_days_over_kw']['compiled']:.1f}x the KW floor |")
    print(f"| run_day (movement), M/M/4, us per customer | "
          f"{r['movement_us_per_customer']['simpy']:.2f} | "
          f"{r['movement_us_per_customer']['compiled']:.2f} | "
          f"{r['movement_speedup']:.1f}x faster |")
    print(f"| peakend run, 2 workers, s | {r['cli_seconds_2_workers']['simpy']:.2f} | "
          f"{r['cli_seconds_2_workers']['compiled']:.2f} | "
          f"{r['cli_seconds_2_workers']['simpy'] / r['cli_seconds_2_workers']['compiled']:.2f}x |")
    out = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "peakend": pe.__version__,
        "quick": bool(args.quick),
        **rows,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
