"""Benchmark of the memory rules against the reduceat floor and loops over journeys.

Scores ``--n`` journeys of geometric length (mean 8, about 11 % empty) with each
engine (``--engines``, default both: ``numpy`` and the compiled ``numba``) and
compares every call with one ``np.add.reduceat`` over the same affect array, the
*floor*. The loops over journeys (plain Python floats, and NumPy calls on each
journey's slice) are too slow for ``--n`` journeys; they run on a common smaller
input (the first ``--loop-n`` journeys), against the vectorized peak-end of each
engine on that same input.

Method (the same for every case, loops included): ``--repeat`` rounds; each round
times every case once, in a freshly shuffled order, so that a burst of load from
other processes on a shared machine falls on different cases in different rounds.
A ratio is computed within each round (case time / floor time of the same round,
or loop time / engine time of the same round) and the tables give the **median
over rounds with the range (min-max)**. Nothing is extrapolated and no case gets
a best-of while another gets one run.

Also printed: peak memory (traced peak allocation of each call, in units of the
affect array's size; the process's maximum resident set size) and the targets of
issue 2 (peak_end <= 3x the floor, all rules in one call <= 8x, >= 100x faster
than a loop over journeys, at most two affect-sized temporaries) judged on the
medians.

Run: ``python benchmarks/bench_memory.py`` (10 million journeys, 7 rounds; numba:
``pip install ".[fast]"``), or ``--quick`` (200,000 journeys, 3 rounds, loops on
10,000 journeys: a minute, to check that it works).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from peakend.memory import RULE_NAMES, get_rule, score, score_many

ENGINES = ("numpy", "numba")


@dataclass
class Case:
    """One timed call and its times over rounds (seconds)."""

    label: str
    fn: Callable[[], Any]
    times: list[float] = field(default_factory=list)


def timed(fn: Callable[[], Any]) -> float:
    """Wall time of one call, seconds (after a garbage collection)."""
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_rounds(cases: dict[str, Case], rounds: int, seed: int) -> None:
    """Time every case once per round, in a new random order each round."""
    rng = np.random.default_rng(seed)
    labels = list(cases)
    for _ in range(rounds):
        for k in rng.permutation(len(labels)):
            case = cases[labels[int(k)]]
            case.times.append(timed(case.fn))


def ratios(num: Case, den: Case) -> list[float]:
    """Per-round ratios ``num / den`` (both timed in the same rounds)."""
    return [a / b for a, b in zip(num.times, den.times, strict=True)]


def med_range(values: list[float], fmt: str = "{:.2f}") -> str:
    """``median (min-max)`` of values."""
    return (
        f"{fmt.format(statistics.median(values))} "
        f"({fmt.format(min(values))}-{fmt.format(max(values))})"
    )


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated during ``fn`` on top of what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def plain_loop_peak_end(affect: list[float], offsets: list[int]) -> list[float]:
    """Peak-end one journey at a time with Python floats (the naive implementation)."""
    out = []
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        if lo == hi:
            out.append(float("nan"))
            continue
        peak = affect[lo]
        for x in affect[lo + 1 : hi]:
            if abs(x) > abs(peak) or (abs(x) == abs(peak) and x < peak):
                peak = x
        out.append((peak + affect[hi - 1]) / 2)
    return out


def numpy_loop_peak_end(affect: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Peak-end one journey at a time with NumPy calls on slices (the common naive code)."""
    out = np.full(offsets.size - 1, np.nan)
    for i in range(offsets.size - 1):
        a = affect[offsets[i] : offsets[i + 1]]
        if a.size:
            hi, lo = a.max(), a.min()
            out[i] = ((hi if hi > -lo else lo) + a[-1]) / 2
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="number of journeys")
    parser.add_argument("--mean-length", type=float, default=8.0, help="mean episodes/journey")
    parser.add_argument("--loop-n", type=int, default=100_000, help="journeys for the loops")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (median and range)")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument(
        "--quick", action="store_true", help="200,000 journeys, 3 rounds, loops on 10,000"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeat, args.loop_n = min(args.n, 200_000), min(args.repeat, 3), 10_000
    if args.repeat < 1 or args.n < 1 or args.loop_n < 1:
        parser.error("--n, --loop-n and --repeat must be >= 1")
    engines = args.engines

    rng = np.random.default_rng(args.seed)
    lengths = rng.geometric(1.0 / (args.mean_length + 1.0), args.n) - 1  # on 0, 1, 2, ...
    offsets = np.zeros(args.n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n_episodes = int(offsets[-1])
    affect = rng.uniform(-10.0, 10.0, n_episodes).astype(args.dtype)
    durations = rng.uniform(0.5, 5.0, n_episodes)
    starts = offsets[:-1][lengths > 0]
    del lengths

    print(f"peakend memory benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
        f"python {sys.version.split()[0]} numpy {np.__version__}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"journeys {args.n:,}  episodes {n_episodes:,}  empty "
        f"{args.n - starts.size:,}  affect {args.dtype} {affect.nbytes / 2**20:,.0f} MiB"
    )

    with_d = [
        get_rule("peak_end", end_window=3.0),
        get_rule("integral"),
        get_rule("time_weighted_mean"),
        get_rule("trend"),
        get_rule("recency"),
    ]
    all_rules = list(RULE_NAMES)

    def make(rule: Any, engine: str, with_durations: bool = False) -> Callable[[], Any]:
        dur = durations if with_durations else None
        return lambda: score(affect, offsets, durations=dur, rule=rule, engine=engine)

    # the loops' common input, and the engines' peak-end on it
    m = min(args.loop_n, args.n)
    sub = affect[: offsets[m]]
    sub_o = offsets[: m + 1]
    sub_list, sub_o_list = sub.tolist(), sub_o.tolist()
    check = np.array(plain_loop_peak_end(sub_list, sub_o_list))
    np.testing.assert_allclose(numpy_loop_peak_end(sub, sub_o), check)

    cases: dict[str, Case] = {}

    def add(label: str, fn: Callable[[], Any]) -> None:
        cases[label] = Case(label, fn)

    add("floor", lambda: np.add.reduceat(affect, starts))
    add("loop: Python floats", lambda: plain_loop_peak_end(sub_list, sub_o_list))
    add("loop: NumPy per journey", lambda: numpy_loop_peak_end(sub, sub_o))
    for engine in engines:
        # compile (or load the cached kernels) and check before timing
        np.testing.assert_allclose(score(sub, sub_o, engine=engine), check)
        for name in RULE_NAMES:
            add(f"{name} [{engine}]", make(name, engine))
        for rule in with_d:
            add(f"{rule.label} +durations [{engine}]", make(rule, engine, True))
        add(
            f"peak_end(end_window=3.0) no durations [{engine}]",
            make(get_rule("peak_end", end_window=3.0), engine),
        )
        add(
            f"score_many(10 rules) [{engine}]",
            partial(score_many, affect, offsets, all_rules, engine=engine),
        )
        add(
            f"score_many(10 rules) +durations [{engine}]",
            partial(score_many, affect, offsets, all_rules, durations=durations, engine=engine),
        )
        add(f"peak_end on the loops' input [{engine}]", partial(score, sub, sub_o, engine=engine))

    t0 = time.perf_counter()
    run_rounds(cases, args.repeat, args.seed)
    wall = time.perf_counter() - t0
    floor = cases["floor"]
    print(
        f"\n{args.repeat} interleaved rounds in {wall:.0f} s; every figure is the median over "
        "rounds (min-max)"
    )
    floor_ms = med_range([t * 1e3 for t in floor.times], "{:.1f}")
    print(f"floor: np.add.reduceat over affect  {floor_ms} ms")

    def show(label: str) -> float:
        case = cases[label]
        r = ratios(case, floor)
        peak = traced_peak(case.fn)
        print(
            f"| `{label}` | {med_range([t * 1e3 for t in case.times], '{:.1f}')} ms "
            f"| {med_range(r)} | {peak / affect.nbytes:.2f} |"
        )
        return statistics.median(r)

    med: dict[str, float] = {}
    for engine in engines:
        print(f"\n== engine {engine} ==")
        print("| call | time | ratio to the floor | peak alloc (x affect) |")
        print("|---|---:|---:|---:|")
        for name in RULE_NAMES:
            med[f"{name} [{engine}]"] = show(f"{name} [{engine}]")
        for rule in with_d:
            show(f"{rule.label} +durations [{engine}]")
        show(f"peak_end(end_window=3.0) no durations [{engine}]")
        med[f"all [{engine}]"] = show(f"score_many(10 rules) [{engine}]")
        med[f"all+d [{engine}]"] = show(f"score_many(10 rules) +durations [{engine}]")
        separate = [
            sum(cases[f"{name} [{engine}]"].times[k] for name in RULE_NAMES) / floor.times[k]
            for k in range(args.repeat)
        ]
        print(f"| (sum of the 10 separate calls) | | {med_range(separate)} | |")

    print(f"\nloops over journeys: peak-end of the first {m:,} journeys ({offsets[m]:,} episodes)")
    print(
        "ratios per journey: (loop time / its journeys) / (engine time / its journeys), the "
        f"engine on all {args.n:,} journeys; and on the loops' own input"
    )
    head = " | ".join(f"{e}: per journey | {e}: same input" for e in engines)
    print(f"| loop | ns per journey | {head} |")
    print("|---|---:|" + "---:|---:|" * len(engines))
    loop_med: dict[tuple[str, str], float] = {}
    for loop in ("loop: NumPy per journey", "loop: Python floats"):
        ns = [t / m * 1e9 for t in cases[loop].times]
        row = [f"| {loop[6:]} | {med_range(ns, '{:,.0f}')}"]
        for e in engines:
            full = cases[f"peak_end [{e}]"].times
            per = [(lt / m) / (et / args.n) for lt, et in zip(cases[loop].times, full, strict=True)]
            same = ratios(cases[loop], cases[f"peak_end on the loops' input [{e}]"])
            loop_med[(loop, e)] = statistics.median(per)
            row += [f"{med_range(per, '{:.0f}')}x", f"{med_range(same, '{:.0f}')}x"]
        print(" | ".join(row) + " |")
    for e in engines:
        ns = [t / args.n * 1e9 for t in cases[f"peak_end [{e}]"].times]
        per_journey = med_range(ns, "{:.1f}")
        print(f"    peak_end [{e}] on all {args.n:,} journeys: {per_journey} ns per journey")

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"\nmax resident set size of the process: {max_rss:,.0f} MiB")

    # temporaries: the same affect cut into journeys of ~1000 episodes, so that
    # per-journey arrays are negligible and the traced peak counts affect-sized arrays
    coarse = np.unique(np.concatenate([offsets[::125], offsets[-1:]]))
    temp = {}
    for engine in engines:
        temp[f"default [{engine}]"] = traced_peak(partial(score, affect, coarse, engine=engine))
        temp[f"end_window [{engine}]"] = traced_peak(
            partial(score, affect, coarse, end_window=3.0, engine=engine)
        )
        temp[f"end_window +durations [{engine}]"] = traced_peak(
            partial(score, affect, coarse, durations=durations, end_window=3.0, engine=engine)
        )
    unit = 8 * n_episodes  # an affect-sized temporary: 8 bytes per episode (float64)
    print("\npeak_end temporaries (journeys of ~1000 episodes; units of 8 bytes x episodes)")
    for k, v in temp.items():
        print(f"  {k:30s} {v / unit:5.2f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    print("\ntargets (medians over rounds)")
    checks = []
    for e in engines:
        pe_ratio = med[f"peak_end [{e}]"]
        checks += [
            (f"[{e}] peak_end <= 3x floor", pe_ratio <= 3, f"{pe_ratio:.2f}x"),
            (f"[{e}] all rules in one call <= 8x floor", med[f"all [{e}]"] <= 8,
             f"{med[f'all [{e}]']:.2f}x"),
            (f"[{e}] all rules +durations <= 8x floor", med[f"all+d [{e}]"] <= 8,
             f"{med[f'all+d [{e}]']:.2f}x"),
        ]  # fmt: skip
        for loop in ("loop: NumPy per journey", "loop: Python floats"):
            r = loop_med[(loop, e)]
            text = f"[{e}] >= 100x faster per journey than the {loop[6:]} loop"
            checks.append((text, r >= 100, f"{r:.0f}x"))
    checks.append(
        (
            "peak_end temporaries <= 2 x affect",
            max(temp.values()) <= 2.05 * unit,
            ", ".join(f"{k} {v / unit:.2f}" for k, v in temp.items()),
        )
    )
    for text, ok, value in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {text:58s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
