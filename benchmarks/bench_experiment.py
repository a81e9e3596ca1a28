"""Scaling and overhead of ``peakend.run``.

Measures, on the built-in ``default_branch`` (a full 8-hour day, about 240 customers):

* **speed-up**: ``run`` with ``--replications`` (default 200) replications of
  ``--policies`` policies (default 1: the baseline; the built-in set has 9) in this
  process (``workers=None``) and with 2 worker processes (``workers=2``, the
  ``spawn`` start method, worker start-up included). Target (issue 4): >= 1.8x.
  The start-up of fresh workers (imports) is measured on its own and reported, and so
  is the machine's ceiling: how much faster ``--workers`` independent ``simulate``
  loops run side by side than one alone (on a shared or SMT machine, below 2).
* **overhead**: ``run(..., workers=None, progress=False)`` against a plain loop
  calling ``pe.simulate`` for the same policies and replications (target <= 10 %),
  and against a loop that also scores the four default memory rules (the same work
  ``run`` does, minus the per-segment aggregation and bookkeeping).

Each measurement is repeated ``--repeats`` times, interleaved, and the fastest is
kept: the machine is shared, the minimum is the least disturbed run.

Run (from the repository root)::

    python benchmarks/bench_experiment.py                  # 1 policy x 200 replications
    python benchmarks/bench_experiment.py --policies 9     # the built-in set, 1800 days
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import peakend as pe
from peakend.experiment import DEFAULT_RULES, load_policies, replication_seed
from peakend.memory import score_many


def _import_probe(_: int) -> int:
    import peakend.config
    import peakend.experiment._run
    import peakend.memory
    import peakend.sim  # noqa: F401

    return os.getpid()


def worker_startup(n: int) -> tuple[float, float]:
    """Wall and CPU seconds for a fresh spawn pool of ``n`` workers to import what a day needs."""
    context = multiprocessing.get_context("spawn")
    c0, t0 = cpu_seconds(), time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        list(pool.map(_import_probe, range(n)))
        wall = time.perf_counter() - t0
    return wall, cpu_seconds() - c0


_LOOP = """
import time, peakend as pe
from peakend.experiment import replication_seed
s = pe.load_scenario("default_branch"); pe.simulate(s, 0)
t = time.perf_counter()
for r in range({days}): pe.simulate(s, replication_seed(0, r))
print(time.perf_counter() - t)
"""


def machine_ceiling(n: int, days: int) -> float:
    """Speed-up the machine allows ``n`` independent processes (no executor involved).

    Times a plain simulate loop of ``days`` days alone, then ``n`` copies side by side;
    returns ``n * alone / slowest copy``.
    """
    code = _LOOP.format(days=days)
    alone = float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                 text=True, check=True).stdout)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(n)]
    together = max(float(p.communicate()[0]) for p in procs)
    return n * alone / together


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children, seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall time and CPU time (this process and its workers) of one call, seconds."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu_seconds() - c0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1,
                        help="first N policies of the built-in default_branch set (1-9)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    scenario = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", scenario)[: args.policies]
    applied = [p.apply(scenario) for p in policies]
    reps = args.replications
    days = reps * len(policies)

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
    cases = {"plain simulate loop": plain_loop, "simulate + score loop": scored_loop,
             "run, in process": run_serial, f"run, {args.workers} workers": run_parallel}
    best = dict.fromkeys(cases, float("inf"))
    cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(args.repeats):
        for name, fn in cases.items():
            wall, used = timed(fn)
            best[name] = min(best[name], wall)
            cpu[name] = min(cpu[name], used)

    print(f"# bench_experiment: default_branch, {len(policies)} policies x {reps} replications "
          f"= {days} days; best of {args.repeats}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__},"
          f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print("| case | wall time (s) | ms per day | CPU time, all processes (s) |")
    print("|---|---|---|---|")
    for name, t in best.items():
        print(f"| {name} | {t:.2f} | {1000 * t / days:.2f} | {cpu[name]:.2f} |")
    speedup = best["run, in process"] / best[f"run, {args.workers} workers"]
    over_plain = best["run, in process"] / best["plain simulate loop"] - 1
    over_scored = best["run, in process"] / best["simulate + score loop"] - 1
    startup, startup_cpu = min(worker_startup(args.workers) for _ in range(2))
    ceiling = max(machine_ceiling(args.workers, 300) for _ in range(args.repeats))
    print()
    print(f"start-up of {args.workers} fresh spawn workers (imports): {startup:.2f} s wall, "
          f"{startup_cpu:.2f} s CPU")
    print(f"ceiling: {args.workers} independent simulate loops side by side run "
          f"{ceiling:.2f}x as fast as one (best of {args.repeats}; 2.00 = free cores)")
    print(f"speed-up with {args.workers} workers: {speedup:.2f}x (target >= 1.8x)")
    print(f"overhead of run over the plain simulate loop: {100 * over_plain:.1f} % "
          f"(target <= 10 %)")
    print(f"overhead of run over the simulate + score loop: {100 * over_scored:.1f} %")
    par = cpu[f"run, {args.workers} workers"]
    work = max(par - startup_cpu, 1e-9)
    print(f"CPU time of the parallel run, start-up excluded, over the in-process run: "
          f"{work / cpu['run, in process']:.2f} (1.00 = no parallel overhead)")
    print(f"speed-up if each worker had a core of its own (start-up + work / workers): "
          f"{best['run, in process'] / (startup + work / args.workers):.2f}x (estimate)")


if __name__ == "__main__":
    main()
