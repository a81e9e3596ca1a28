"""How long the staffing optimiser takes, and how many simulated days it spends.

Issue 14: ``pe.optimize_staffing`` on the built-in ``default_branch`` with three
targets (ordinary customers' peak-end memory >= 0, the day's 90th-percentile wait
<= 10 minutes, VIP abandonment <= 2 %) on ``--workers`` processes (default 2).
Reported per case: wall time, simulated days (search + fresh checks, every
candidate plan), the plan, its cost, and the wall time of one ``pe.run`` that
simulates the same number of days of the baseline in the same way (same workers),
measured in the same run: the ratio says how much the search costs beyond the
simulation itself (candidate bookkeeping, one ``pe.run`` call per step, worker
start-up per call).

With ``--scenario branch_with_advisors`` the same on the two-stage branch (tellers,
then relationship managers for wealth business), planning the groups of both stages
(``general``, ``vip``, ``advisor/rm``) against the targets of the how-to's per-stage
example.

Run (from the repository root)::

    python benchmarks/bench_decide.py            # 4 and 8 blocks, 30 replications
    python benchmarks/bench_decide.py --quick    # 2 blocks, 10 replications
    python benchmarks/bench_decide.py --scenario branch_with_advisors [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import peakend as pe

TARGETS = {
    "default_branch": ["ordinary.remembered[peak_end] >= 0", "all.wait_p90 <= 10",
                       "vip.abandonment_rate <= 0.02"],
    "branch_with_advisors": ["vip.wait_mean <= 2", "gold.wait_mean <= 4",
                             "ordinary.remembered[peak_end] >= 0"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 blocks, 10 replications")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", choices=sorted(TARGETS), default="default_branch")
    args = parser.parse_args()
    targets = TARGETS[args.scenario]
    cases = [2] if args.quick else [4, 8]
    reps = args.replications or (10 if args.quick else 30)
    scenario = pe.load_scenario(args.scenario)
    print(f"peakend {pe.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{args.scenario}, targets: {'; '.join(targets)}; {reps} replications per plan, "
          f"{args.workers} workers")
    print("| blocks | wall s | simulated days | days/s | plain run s | ratio | cost CNY | "
          "plan | verified |")
    print("|---|---|---|---|---|---|---|---|---|")
    for blocks in cases:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plan = pe.optimize_staffing(scenario, targets, blocks=blocks, replications=reps,
                                        workers=args.workers, seed=args.seed)
        wall = time.perf_counter() - t0
        days = plan.simulated_days
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pe.run(scenario, None, replications=days, workers=args.workers, progress=False,
                   rules=("peak_end",))
        plain = time.perf_counter() - t1
        print(f"| {blocks} | {wall:.1f} | {days} | {days / wall:.0f} | {plain:.1f} | "
              f"{wall / plain:.2f} | {plan.cost:.0f} | "
              f"{'; '.join(f'{g} {v}' for g, v in plan.tellers.items())} | {plan.verified} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
