"""Scaling and overhead of ``peakend.run``.

Measures, on the built-in ``default_branch`` (a full 8-hour day, about 240 customers),
for the first ``--policies`` policies of its built-in set (default 1; the set has 9)
and ``--replications`` replications (default 200):

* **overhead** (target of issue 4: <= 10 %): ``run(..., workers=None, progress=False)``
  against a plain loop calling ``pe.simulate`` for the same policies and replications;
  also against a loop that also scores the four default memory rules.
* **speed-up** (target: >= 1.8x): ``run`` with ``--workers`` processes (default 2:
  this process and one spawned worker, start-up included) against ``run`` in process.
* **machine ceiling**: how much faster ``--workers`` independent ``simulate`` loops
  (separate processes, no executor, start-up excluded) run side by side than one
  alone. On free cores this is 2.00; on a shared or SMT machine less, and no
  parallel ``run`` can beat it by more than its start-up allows.

The machine is shared, so every measurement is taken ``--repeats`` times in rounds:
each round runs every case once (in alternating order), so a case and the case it is
compared with see about the same load. Both targets are reported as ratios within a
round (the median over rounds) and as ratios of the fastest times (best of rounds),
with wall and CPU times and the load average (``os.getloadavg()``) of each round.

Run (from the repository root)::

    python benchmarks/bench_experiment.py                              # 1 policy x 200
    python benchmarks/bench_experiment.py --policies 9 --repeats 3     # 1800 days
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import peakend as pe
from peakend.experiment import DEFAULT_RULES, load_policies, replication_seed
from peakend.memory import score_many


def _first_day(_: int) -> int:
    """Do what a fresh worker does before its first result: imports and one (short) day."""
    import peakend as pe
    from peakend.experiment import simulate_replication

    scenario = pe.scenarios.mmc(1.8, 0.5, 4, 1)
    simulate_replication({
        "policy": 0, "replication": 0, "seed": 0, "scenario": scenario.model_dump_json(),
        "rules": DEFAULT_RULES, "labels": DEFAULT_RULES, "keep_journeys": False,
    })
    return os.getpid()


def worker_startup(n: int) -> tuple[float, float]:
    """Wall and CPU seconds until ``n`` fresh spawn workers have each simulated a short day."""
    context = multiprocessing.get_context("spawn")
    c0, t0 = cpu_seconds(), time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        list(pool.map(_first_day, range(n)))
        wall = time.perf_counter() - t0
    return wall, cpu_seconds() - c0


_LOOP = """
import time, warnings, peakend as pe
from peakend.experiment import replication_seed
warnings.simplefilter("ignore")
s = pe.load_scenario("default_branch"); pe.simulate(s, 0)
c, t = time.process_time(), time.perf_counter()
for r in range({days}): pe.simulate(s, replication_seed(0, r))
print(time.perf_counter() - t, time.process_time() - c)
"""


def side_by_side(n: int, days: int) -> tuple[float, float]:
    """Wall and CPU seconds of the slowest of ``n`` simulate loops run at once.

    Each loop runs in its own process; their start-up is not timed.
    """
    code = _LOOP.format(days=days)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(n)]
    times = [tuple(map(float, p.communicate()[0].split())) for p in procs]
    return max(t[0] for t in times), max(t[1] for t in times)


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children, seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall time and CPU time (this process and its workers) of one call, seconds."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    if isinstance(out, tuple):  # a case timed in its own processes
        return out
    return time.perf_counter() - t0, cpu_seconds() - c0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1,
                        help="first N policies of the built-in default_branch set (1-9)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every case")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # overloaded policies warn; not what is measured

    scenario = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", scenario)[: args.policies]
    applied = [p.apply(scenario) for p in policies]
    reps = args.replications
    days = reps * len(policies)
    per_process = max(1, days // args.workers)

    def plain_loop() -> None:
        for sc in applied:
            for r in range(reps):
                pe.simulate(sc, replication_seed(0, r))

    def scored_loop() -> None:
        for sc in applied:
            for r in range(reps):
                j = pe.simulate(sc, replication_seed(0, r))
                score_many(j.episodes["affect"], j.offsets, DEFAULT_RULES,
                           durations=j.durations)

    def run_serial() -> None:
        pe.run(scenario, policies, replications=reps, seed=0, progress=False)

    def run_parallel() -> None:
        pe.run(scenario, policies, replications=reps, seed=0, workers=args.workers,
               progress=False)

    # warm up imports and caches (not timed)
    pe.run(scenario, policies[:1], replications=2, progress=False)
    par = f"run, {args.workers} workers"
    cases: dict[str, Callable[[], Any]] = {
        "plain simulate loop": plain_loop,
        "simulate + score loop": scored_loop,
        "run, in process": run_serial,
        par: run_parallel,
        f"1 simulate loop alone ({per_process} days)": lambda: side_by_side(1, per_process),
        f"{args.workers} simulate loops side by side": lambda: side_by_side(
            args.workers, per_process),
    }
    names = list(cases)
    alone, together = names[4], names[5]
    wall: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    loads: list[tuple[float, float]] = []
    for i in range(args.repeats):
        load0 = os.getloadavg()[0]
        for name in names if i % 2 == 0 else names[::-1]:
            w, c = timed(cases[name])
            wall[name].append(w)
            cpu[name].append(c)
        loads.append((load0, os.getloadavg()[0]))

    def ratio(a: str, b: str, times: dict[str, list[float]]) -> tuple[float, float]:
        """(median of per-round a/b, best a / best b)."""
        per_round = [x / y for x, y in zip(times[a], times[b], strict=True)]
        return statistics.median(per_round), min(times[a]) / min(times[b])

    startup, startup_cpu = min(worker_startup(args.workers - 1 or 1) for _ in range(2))

    print(f"# bench_experiment: default_branch, {len(policies)} policies x {reps} replications "
          f"= {days} days; {args.repeats} rounds")
    print(f"# {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__},"
          f" {os.cpu_count()} CPUs; load average (1 min) at the start / end of each round: "
          + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in loads))
    print("| case | best wall (s) | median wall (s) | ms per day (best) "
          "| best CPU, all processes (s) |")
    print("|---|---|---|---|---|")
    for name in names:
        n = per_process if name in (alone, together) else days
        print(f"| {name} | {min(wall[name]):.2f} | {statistics.median(wall[name]):.2f} "
              f"| {1000 * min(wall[name]) / n:.2f} | {min(cpu[name]):.2f} |")
    over_med, over_best = ratio("run, in process", "plain simulate loop", wall)
    over_cpu_med, over_cpu_best = ratio("run, in process", "plain simulate loop", cpu)
    sc_med, sc_best = ratio("run, in process", "simulate + score loop", wall)
    sp_med, sp_best = ratio(par, "run, in process", wall)
    ce_med, ce_best = ratio(together, alone, wall)
    n = args.workers
    print()
    print(f"overhead of run over the plain simulate loop (target <= 10 %): "
          f"{100 * (over_med - 1):.1f} % median of rounds, {100 * (over_best - 1):.1f} % "
          f"best/best; CPU time: {100 * (over_cpu_med - 1):.1f} % median, "
          f"{100 * (over_cpu_best - 1):.1f} % best/best")
    print(f"overhead of run over the simulate + score loop: {100 * (sc_med - 1):.1f} % median, "
          f"{100 * (sc_best - 1):.1f} % best/best")
    print(f"speed-up with {n} workers (target >= 1.8x): {1 / sp_med:.2f}x median of rounds, "
          f"{1 / sp_best:.2f}x best/best; per round: "
          + ", ".join(f"{s / p:.2f}" for s, p in zip(wall["run, in process"], wall[par],
                                                     strict=True)))
    print(f"machine ceiling: {n} simulate loops side by side ran {n / ce_med:.2f}x as fast as "
          f"one (median of rounds), {n / ce_best:.2f}x best/best; per round: "
          + ", ".join(f"{n * a / t:.2f}" for a, t in zip(wall[alone], wall[together],
                                                       strict=True))
          + " (2.00 = free cores)")
    print(f"start-up of {n - 1 or 1} fresh spawn worker(s) until their first day is done "
          f"(imports, SciPy, first-use caches): {startup:.2f} s wall, {startup_cpu:.2f} s CPU")
    serial = min(wall["run, in process"])
    bound = n * serial / (serial + (n - 1) * startup)
    print(f"best possible speed-up on {n} free cores with this start-up "
          f"({n} x T / (T + {n - 1} x start-up), T = in-process time): {bound:.2f}x")
    print(f"CPU time of the parallel run over the in-process run: "
          f"{min(cpu[par]) / min(cpu['run, in process']):.2f} (best/best; includes start-up)")


if __name__ == "__main__":
    main()
