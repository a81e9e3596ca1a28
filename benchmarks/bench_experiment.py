"""Scaling and overhead of ``peakend.run``, measured in interleaved pairs.

Issue 4's targets, on the built-in ``default_branch`` (a full 8-hour day, about 240
customers) with ``--replications`` replications (default 200) of one policy at a time:

* **overhead** (target <= 10 %): ``run(..., workers=None, progress=False)`` against a
  plain loop calling ``pe.simulate`` for the same days. Also reported: a loop that
  also scores the four default memory rules day by day, and what ``run`` spends
  besides simulating (the time inside its ``simulate`` calls is summed).
* **speed-up** (target >= 1.8x): ``run`` with ``--workers`` processes (default 2:
  this process and one worker process, start-up included) against ``run`` in
  process. The workers start the way ``run`` starts them here (``fork`` in a
  single-threaded script on Linux); the same run with a fork server (what a
  Jupyter kernel, which has threads, gets on Linux; warm after the first block)
  is timed too.
* **machine ceiling**: how much faster ``--workers`` independent ``simulate`` loops
  (separate processes, started together once all have imported; their start-up is
  not timed) run side by side than one alone. On free cores this is 2.00; on a
  shared or SMT machine less, and no parallel ``run`` can beat it by more than its
  start-up allows.

The machine is shared and its speed drifts by 10-20 % within minutes, more than the
overhead being measured. So the cases are timed in ``--pairs`` short blocks (about 1 s
each); a block times every case once, in an order that alternates, on the next policy
of the built-in set, and every ratio is taken *within* a block, where the cases saw
about the same machine. Reported: the median of the per-block ratios with a
distribution-free 95 % confidence interval (binomial order statistics), the range, and
the ratio of the best times.

Run (from the repository root)::

    python benchmarks/bench_experiment.py                          # about 5 min
    python benchmarks/bench_experiment.py --blocks 6 --set-blocks 2  # a quick look
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import peakend as pe
import peakend.experiment._executor as run_module
import peakend.sim.model as sim_model
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


def worker_startup(n: int, method: str) -> float:
    """Wall seconds until ``n`` fresh workers started with ``method`` have each simulated a day."""
    context = run_module._context(method)
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        list(pool.map(_first_day, range(n)))
        return time.perf_counter() - t0


_LOOP = """
import sys, time, warnings, peakend as pe
from peakend.experiment import replication_seed
warnings.simplefilter("ignore")
s = pe.load_scenario("default_branch"); pe.simulate(s, 0)
print("ready", flush=True); sys.stdin.readline()
t = time.perf_counter()
for r in range({days}): pe.simulate(s, replication_seed(0, r))
print(time.perf_counter() - t, flush=True)
"""


def side_by_side(n: int, days: int) -> float:
    """Wall seconds of the slowest of ``n`` simulate loops (own processes) started together."""
    code = _LOOP.format(days=days)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:  # every process has imported and warmed up
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return max(float(p.communicate()[0]) for p in procs)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def median_ci(x: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Median and a distribution-free confidence interval for it (order statistics).

    The interval ``[x_(j), x_(n+1-j)]`` covers the population median with probability
    ``1 - 2 P(B <= j - 1)``, B ~ Binomial(n, 1/2); ``j`` is the largest with coverage
    >= ``level`` (for n < 6 there is none at 95 %: the range is returned).
    """
    from scipy import stats  # here: a spawned worker re-imports this module, and pays for it

    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    j = int(stats.binom.ppf((1 - level) / 2, n, 0.5))  # smallest k with P(B <= k) >= a/2
    if j < 1:
        return float(np.median(xs)), float(xs[0]), float(xs[-1])
    return float(np.median(xs)), float(xs[j - 1]), float(xs[n - j])


def timed_blocks(cases: dict[str, Callable[[int], Any]], blocks: int) -> dict[str, list[float]]:
    """Wall seconds of every case in each of ``blocks`` blocks (order alternating per block).

    A case gets the block's index; a case that times itself returns its seconds.
    """
    names = list(cases)
    wall: dict[str, list[float]] = {k: [] for k in names}
    for i in range(blocks):
        for name in names if i % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            out = cases[name](i)
            wall[name].append(out if isinstance(out, float) else time.perf_counter() - t0)
            for thread in threading.enumerate():  # a worker still starting (not
                if thread is not threading.main_thread():  # waited for) must not make
                    thread.join()  # the next case use a fork server (see _start_method)
    return wall


def describe(r: np.ndarray, fmt: str, best: float | None = None) -> str:
    """Median of per-block ratios with its 95 % CI and range (and best/best)."""
    med, lo, hi = median_ci(r)
    text = (f"median {fmt.format(med)} (95 % CI {fmt.format(lo)} to {fmt.format(hi)}), "
            f"range {fmt.format(r.min())} to {fmt.format(r.max())}")
    return text if best is None else f"{text}; best/best {fmt.format(best)}"


def table(wall: dict[str, list[float]], days: dict[str, int]) -> None:
    """Print the cases' median and best wall times as a Markdown table."""
    print("| case | median wall (s) | best wall (s) | ms per day (median) |")
    print("|---|---|---|---|")
    for name, times in wall.items():
        print(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} "
              f"| {1000 * statistics.median(times) / days[name]:.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200,
                        help="replications per policy (simulated days per policy)")
    parser.add_argument("--blocks", type=int, default=16,
                        help="blocks of one policy each (part 1: overhead, small runs)")
    parser.add_argument("--set-blocks", type=int, default=8,
                        help="blocks of the whole built-in policy set (part 2: speed-up)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # overloaded policies warn; not what is measured

    scenario = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", scenario)
    applied = [p.apply(scenario) for p in policies]
    reps, n = args.replications, args.workers
    per_process = max(1, reps // n)

    def plain_loop(i: int) -> None:
        sc = applied[i % len(policies)]
        for r in range(reps):
            pe.simulate(sc, replication_seed(0, r))

    def scored_loop(i: int) -> None:
        sc = applied[i % len(policies)]
        for r in range(reps):
            j = pe.simulate(sc, replication_seed(0, r))
            score_many(j.episodes["affect"], j.offsets, DEFAULT_RULES, durations=j.durations)

    inside: list[float] = []  # per block: seconds inside run's simulate calls

    def run_serial(i: int) -> None:
        real = sim_model.simulate_validated
        spent = [0.0]

        def timed_simulate(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t

        sim_model.simulate_validated = timed_simulate
        try:
            pe.run(scenario, policies[i % len(policies)], replications=reps, progress=False)
        finally:
            sim_model.simulate_validated = real
        inside.append(spent[0])

    def run_workers(i: int, which: Any = None) -> None:
        pe.run(scenario, policies[i % len(policies)] if which is None else which,
               replications=reps, workers=n, progress=False)

    def threaded(fn: Callable[[], None]) -> None:
        real = run_module._start_method
        run_module._start_method = lambda: "forkserver"
        try:
            fn()
        finally:
            run_module._start_method = real

    # warm up imports and caches (not timed)
    pe.run(scenario, policies[0], replications=2, progress=False)
    method = run_module._start_method()
    par, par_server = f"run, {n} workers ({method})", f"run, {n} workers (forkserver)"
    alone, together = f"1 simulate loop alone ({per_process} days)", \
        f"{n} simulate loops side by side ({per_process} days each)"
    load0 = os.getloadavg()[0]

    # ---- part 1: one policy (200 days) per block
    cases: dict[str, Callable[[int], Any]] = {
        "plain simulate loop": plain_loop,
        "simulate + score loop": scored_loop,
        "run, in process": run_serial,
        par: run_workers,
        par_server: lambda i: threaded(lambda: run_workers(i)),
        alone: lambda i: side_by_side(1, per_process),
        together: lambda i: side_by_side(n, per_process),
    }
    if par == par_server:  # run uses a fork server here anyway: time it once
        del cases[par_server]
    wall = timed_blocks(cases, args.blocks)
    load1 = os.getloadavg()[0]

    # ---- part 2: the whole policy set per block
    n_days = len(policies) * reps
    set_serial = f"run, in process ({len(policies)} policies)"
    set_par = f"run, {n} workers ({method}, {len(policies)} policies)"
    set_cpu: dict[str, list[float]] = {set_serial: [], set_par: []}

    def with_cpu(name: str, fn: Callable[[], Any]) -> None:
        """Run ``fn`` and record the CPU seconds of this process and its (joined) workers."""
        c0 = cpu_seconds()
        fn()
        set_cpu[name].append(cpu_seconds() - c0)

    set_cases: dict[str, Callable[[int], Any]] = {
        set_serial: lambda i: with_cpu(set_serial, lambda: pe.run(
            scenario, policies, replications=reps, progress=False)),
        set_par: lambda i: with_cpu(set_par, lambda: run_workers(i, policies)),
        alone: lambda i: side_by_side(1, per_process),
        together: lambda i: side_by_side(n, per_process),
    }
    set_wall = timed_blocks(set_cases, args.set_blocks)
    load2 = os.getloadavg()[0]
    startup = min(worker_startup(n - 1 or 1, method) for _ in range(3))
    server_up = min(worker_startup(n - 1 or 1, "forkserver") for _ in range(3))
    spawn_up = min(worker_startup(n - 1 or 1, "spawn") for _ in range(3))

    def ratios(times: dict[str, list[float]], a: str, b: str) -> np.ndarray:
        return np.asarray(times[a]) / np.asarray(times[b])

    def best(times: dict[str, list[float]], a: str, b: str) -> float:
        return min(times[a]) / min(times[b])

    print(f"# bench_experiment: default_branch, {n} workers; part 1: {args.blocks} blocks of "
          f"{reps} days (one policy of the built-in set per block, in turn); part 2: "
          f"{args.set_blocks} blocks of the whole set ({len(policies)} policies x {reps} = "
          f"{n_days} days)")
    print(f"# {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__},"
          f" {os.cpu_count()} CPUs; load average (1 min) {load0:.2f} at the start, {load1:.2f} "
          f"after part 1, {load2:.2f} at the end")
    print()
    print(f"Part 1: one policy, {reps} days per block")
    print()
    table(wall, {k: per_process if k in (alone, together) else reps for k in wall})
    print()
    over = 100 * (ratios(wall, "run, in process", "plain simulate loop") - 1)
    print("overhead of run over the plain simulate loop (target <= 10 %): " + describe(
        over, "{:.1f} %", 100 * (best(wall, "run, in process", "plain simulate loop") - 1)))
    scored = 100 * (ratios(wall, "run, in process", "simulate + score loop") - 1)
    print("overhead of run over the simulate + score loop: " + describe(
        scored, "{:.1f} %", 100 * (best(wall, "run, in process", "simulate + score loop") - 1)))
    besides = 100 * (np.asarray(wall["run, in process"]) / np.asarray(inside) - 1)
    print("what run spends besides its simulate calls, over the time in them: "
          + describe(besides, "{:.1f} %"))
    ceiling = n * ratios(wall, alone, together)
    for case in dict.fromkeys((par, par_server)):
        sp = ratios(wall, "run, in process", case)
        print(f"speed-up, {case}, {reps} days (target >= 1.8x): "
              + describe(sp, "{:.2f}x", best(wall, "run, in process", case))
              + f"; blocks >= 1.8x: {int((sp >= 1.8).sum())} of {sp.size}; "
              f"over the block's machine ceiling: {describe(sp / ceiling, '{:.2f}')}")
    print(f"machine ceiling, {n} simulate loops side by side against one (2.00 = free cores): "
          + describe(ceiling, "{:.2f}x", n * best(wall, alone, together)))
    print()
    print(f"Part 2: the whole policy set, {n_days} days per block")
    print()
    table(set_wall, {k: per_process if k in (alone, together) else n_days for k in set_wall})
    print()
    sp = ratios(set_wall, set_serial, set_par)
    set_ceiling = n * ratios(set_wall, alone, together)
    print(f"speed-up, {set_par} (target >= 1.8x): "
          + describe(sp, "{:.2f}x", best(set_wall, set_serial, set_par))
          + f"; blocks >= 1.8x: {int((sp >= 1.8).sum())} of {sp.size}; over the block's "
          f"machine ceiling: {describe(sp / set_ceiling, '{:.2f}')}")
    cpu_ratio = np.asarray(set_cpu[set_par]) / np.asarray(set_cpu[set_serial])
    print(f"CPU time of the {n}-worker run (all processes) over the in-process run: "
          + describe(cpu_ratio, "{:.3f}") + f"; on {n} free cores, with every process busy "
          f"to the end, the speed-up would be {n} / that = {n / np.median(cpu_ratio):.2f}x")
    print("machine ceiling in the same blocks: "
          + describe(set_ceiling, "{:.2f}x", n * best(set_wall, alone, together)))
    print()
    print(f"start-up of {n - 1 or 1} worker(s) until their first day is done (best of 3): "
          f"{method} {startup:.3f} s, forkserver (server running) {server_up:.3f} s, "
          f"spawn {spawn_up:.3f} s (imports, first-use caches)")
    serial = statistics.median(wall["run, in process"])
    bound = n * serial / (serial + (n - 1) * startup)
    print(f"best possible speed-up of a {reps}-day run on {n} free cores with the {method} "
          f"start-up ({n} T / (T + {n - 1} start-up), T = median in-process time): {bound:.2f}x")


if __name__ == "__main__":
    main()
