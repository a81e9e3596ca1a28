"""Benchmark of the vectorized memory rules against the reduceat floor and a plain loop.

Scores ``--n`` journeys of geometric length (mean 8, about 11 % empty) and prints,
in one run:

* the time of one ``np.add.reduceat`` over the same affect array (the floor);
* each rule's time as a ratio to the floor (default parameters, no durations;
  then the duration-aware variants);
* all rules in one ``score_many`` call, as a ratio;
* a plain-Python loop over journeys (peak-end) on a ``--loop-n`` subset,
  extrapolated to ``--n`` journeys, as a ratio to the vectorized peak-end;
* peak memory: traced peak allocation (tracemalloc) of each call in units of
  the affect array's size, and the process's maximum resident set size.

Targets (issue 2): peak_end <= 3x the floor, all rules in one call <= 8x,
>= 100x faster than a loop over journeys, at most two affect-sized temporaries.

Run: ``python benchmarks/bench_memory.py --n 10_000_000``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from peakend.memory import RULES, get_rule, score, score_many


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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
    parser.add_argument("--loop-n", type=int, default=100_000, help="journeys for the loop")
    parser.add_argument("--repeat", type=int, default=5, help="timings: best of this many rounds")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

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
        f"machine: {platform.machine()} {platform.processor() or ''} python "
        f"{sys.version.split()[0]} numpy {np.__version__}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"journeys {args.n:,}  episodes {n_episodes:,}  empty "
        f"{args.n - starts.size:,}  affect {args.dtype} {affect.nbytes / 2**20:,.0f} MiB"
    )

    all_rules = list(RULES)
    cases: dict[str, Callable[[], Any]] = {
        "floor": lambda: np.add.reduceat(affect, starts),
    }

    def make(rule: Any, with_durations: bool = False) -> Callable[[], Any]:
        return lambda: score(
            affect, offsets, durations=durations if with_durations else None, rule=rule
        )

    for name in RULES:
        cases[name] = make(name)
    with_d = [
        get_rule("peak_end", end_window=3.0),
        get_rule("integral"),
        get_rule("time_weighted_mean"),
        get_rule("trend"),
        get_rule("recency"),
    ]
    for rule in with_d:
        cases[f"{rule.label} +durations"] = make(rule, with_durations=True)
    cases["peak_end(end_window=3.0) no durations"] = lambda: score(
        affect, offsets, rule="peak_end", end_window=3.0
    )
    cases["score_many(10 rules)"] = lambda: score_many(affect, offsets, all_rules)
    cases["score_many(10 rules) +durations"] = lambda: score_many(
        affect, offsets, all_rules, durations=durations
    )
    # round-robin: every round times every case once; keep each case's best round, so
    # that a burst of load from other processes on a shared machine hits all cases alike
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(args.repeat):
        for label, fn in cases.items():
            best[label] = min(best[label], best_time(fn, 1))
    floor = best["floor"]
    print(f"\nfloor: np.add.reduceat over affect  {floor * 1e3:9.1f} ms  (best of {args.repeat})")

    def show(label: str) -> float:
        t = best[label]
        peak = traced_peak(cases[label])
        print(
            f"{label:44s} {t * 1e3:9.1f} ms  {t / floor:6.2f}x floor  "
            f"peak alloc {peak / affect.nbytes:5.2f} x affect"
        )
        return t

    print("\nrule (default parameters, durations=None)")
    times = {name: show(name) for name in RULES}
    print("\nduration-aware variants (durations given, minutes)")
    for rule in with_d:
        show(f"{rule.label} +durations")
    show("peak_end(end_window=3.0) no durations")
    print("\nall rules in one call")
    t_all = show("score_many(10 rules)")
    t_sep = sum(times.values())
    label = "  (sum of the 10 separate calls)"
    print(f"{label:44s} {t_sep * 1e3:9.1f} ms  {t_sep / floor:6.2f}x floor")
    t_all_d = show("score_many(10 rules) +durations")

    print("\nplain-Python loop (peak_end), extrapolated")
    m = min(args.loop_n, args.n)
    sub_aff = affect[: offsets[m]].tolist()
    sub_off = offsets[: m + 1].tolist()
    t_loop = best_time(lambda: plain_loop_peak_end(sub_aff, sub_off), 1) * args.n / m
    check = np.array(plain_loop_peak_end(sub_aff, sub_off))
    np.testing.assert_allclose(score(affect[: offsets[m]], offsets[: m + 1]), check)
    print(
        f"{'Python floats, ' + format(m, ',') + ' journeys, x' + format(args.n / m, 'g'):44s} "
        f"{t_loop:9.1f} s   {t_loop / times['peak_end']:6.0f}x slower than peak_end"
    )
    sub = affect[: offsets[m]]
    sub_o = offsets[: m + 1]
    t_nloop = best_time(lambda: numpy_loop_peak_end(sub, sub_o), 1) * args.n / m
    np.testing.assert_allclose(numpy_loop_peak_end(sub, sub_o), check)
    print(
        f"{'NumPy per journey, ' + format(m, ',') + ' journeys, x' + format(args.n / m, 'g'):44s} "
        f"{t_nloop:9.1f} s   {t_nloop / times['peak_end']:6.0f}x slower than peak_end"
    )

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"\nmax resident set size of the process: {max_rss:,.0f} MiB")

    # temporaries: the same affect cut into journeys of ~1000 episodes, so that
    # per-journey arrays are negligible and the traced peak counts affect-sized arrays
    coarse = np.unique(np.concatenate([offsets[::125], offsets[-1:]]))
    temp = {
        "default": traced_peak(lambda: score(affect, coarse)),
        "end_window": traced_peak(lambda: score(affect, coarse, end_window=3.0)),
        "end_window +durations": traced_peak(
            lambda: score(affect, coarse, durations=durations, end_window=3.0)
        ),
    }
    # an affect-sized temporary is 8 bytes per episode (computed in float64)
    unit = 8 * n_episodes
    print("\npeak_end temporaries (journeys of ~1000 episodes; units of 8 bytes x episodes)")
    for k, v in temp.items():
        print(f"  {k:30s} {v / unit:5.2f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\ntargets")
    checks = [
        (
            "peak_end <= 3x floor",
            times["peak_end"] / floor <= 3,
            f"{times['peak_end'] / floor:.2f}x",
        ),
        ("all rules in one call <= 8x floor", t_all / floor <= 8, f"{t_all / floor:.2f}x"),
        (
            "all rules +durations <= 8x floor",
            t_all_d / floor <= 8,
            f"{t_all_d / floor:.2f}x",
        ),
        (
            ">= 100x faster than the NumPy-per-journey loop",
            t_nloop / times["peak_end"] >= 100,
            f"{t_nloop / times['peak_end']:.0f}x",
        ),
        (
            ">= 100x faster than the Python-float loop",
            t_loop / times["peak_end"] >= 100,
            f"{t_loop / times['peak_end']:.0f}x",
        ),
        (
            "peak_end temporaries <= 2 x affect",
            max(temp.values()) <= 2.05 * unit,
            ", ".join(f"{k} {v / unit:.2f}" for k, v in temp.items()),
        ),
    ]
    for text, ok, value in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {text:48s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
