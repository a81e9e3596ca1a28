"""The standard policy study: the default branch, 3-6 general tellers x window options.

Runs ``default_branch`` under 16 policies (3, 4, 5 or 6 general tellers crossed with
four ways of serving VIPs) with common random numbers, 200 replications each, and
writes the reference table and plots:

* ``dedicated``: a dedicated VIP window (the default branch; idle when no VIP waits);
* ``flexible``: the VIP window serves VIPs first, else the next general customer;
* ``priority``: no VIP window; its teller joins the general pool and VIPs go first in
  the shared queue;
* ``shared``: no VIP window and no priority: one shared first-come queue for all.

The baseline of the comparison is ``4_dedicated`` (the default branch as shipped).

Run (from the repository root)::

    python benchmarks/study_policies.py            # 200 replications (about a minute)
    python benchmarks/study_policies.py --quick    # 20 replications, a smoke test

Writes ``study_policies.txt`` (the table in markdown), ``study_policies.csv`` and
``study_policies.npz`` (the results) to ``--out`` (default ``benchmarks/results``), and
the figures ``study_policies_pareto.png`` and ``study_policies_compare.png`` to
``--figures`` (default ``docs/benchmarks``, where the benchmark page shows them).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import peakend as pe
from peakend import plots, stats
from peakend.experiment import Policy
from peakend.experiment._table import format_markdown, format_text

TELLERS = (3, 4, 5, 6)
WINDOWS = ("dedicated", "flexible", "priority", "shared")
BASELINE = "4_dedicated"
#: Decimals per column of the printed table (the same in every row).
DIGITS = {"wait_mean": 1, "vip_wait_mean": 1, "abandonment_rate": 3, "cost": 0}


def window_changes(general: int, window: str) -> dict[str, Any]:
    """Scenario changes for ``general`` general tellers and a VIP window option."""
    if window == "dedicated":
        return {"counters": {"general": {"tellers": general}}}
    if window == "flexible":
        return {"counters": {"general": {"tellers": general},
                             "vip": {"discipline": "flexible"}}}
    pool: dict[str, Any] = {"tellers": general + 1, "segments": []}
    if window == "priority":
        pool.update(discipline="priority", priority=["vip"])
    else:
        pool.update(discipline="fifo", priority=[])
    return {"counters": {"general": pool, "vip": {"tellers": 0}}}


def study_policies() -> list[Policy]:
    """Return the 16 policies, baseline first."""
    out = [Policy(BASELINE, window_changes(4, "dedicated"), "the default branch")]
    for g in TELLERS:
        for w in WINDOWS:
            name = f"{g}_{w}"
            if name != BASELINE:
                out.append(Policy(name, window_changes(g, w), f"{g} general tellers, {w}"))
    return out


def study_table(res: pe.Results) -> pd.DataFrame:
    """One row per policy: remembered value per segment, waits, cost, difference, Pareto."""
    rule = res.headline_rule
    cmp = res.compare(BASELINE, rule, "all")
    par = res.pareto(rule)
    efficient = dict(zip(par["policy"], par["efficient"], strict=True))
    cols: dict[str, list[Any]] = {k: [] for k in (
        "policy", "remembered", "half_width", "difference", "low", "high", "vip", "gold",
        "ordinary", "wait_mean", "vip_wait_mean", "abandonment_rate", "cost", "pareto")}
    for pol in res.policies:
        ci = stats.mean_ci(res.get(rule, "all", pol))
        cols["policy"].append(pol)
        cols["remembered"].append(float(ci.mean))
        cols["half_width"].append(float(ci.half_width))
        if pol == BASELINE:
            d = lo = hi = float("nan")
        else:
            row = cmp[cmp["policy"] == pol].iloc[0]
            d, lo, hi = row["difference"], row["low"], row["high"]
        cols["difference"].append(d)
        cols["low"].append(lo)
        cols["high"].append(hi)
        for seg in ("vip", "gold", "ordinary"):
            cols[seg].append(float(np.nanmean(res.get(rule, seg, pol))))
        cols["wait_mean"].append(float(np.nanmean(res.get("wait_mean", "all", pol))))
        cols["vip_wait_mean"].append(float(np.nanmean(res.get("wait_mean", "vip", pol))))
        cols["abandonment_rate"].append(float(np.nanmean(res.get("abandonment_rate", "all", pol))))
        cols["cost"].append(float(np.nanmean(res.get("cost", "all", pol))))
        cols["pareto"].append(bool(efficient[pol]))
    table = pd.DataFrame(cols)
    table.attrs["title"] = (f"default_branch, {res.n_replications} replications, seed "
                            f"{res.seed}: remembered value ({rule}, affect points) with 95% CI")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 replications (smoke test)")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--figures", type=Path, default=Path("docs/benchmarks"))
    args = parser.parse_args(argv)
    reps = args.replications or (20 if args.quick else 200)
    scenario = pe.load_scenario("default_branch")
    policies = study_policies()
    t0 = time.perf_counter()
    res = pe.run(scenario, policies, replications=reps, seed=args.seed, workers=args.workers,
                 progress=False)
    elapsed = time.perf_counter() - t0
    table = study_table(res)
    print(format_text(table, digits=DIGITS))
    dis = res.rule_disagreement("peak_end", "integral")
    strong = dis[dis["both_significant"]]
    print(f"\npeak_end vs integral: {len(dis)} policy pairs ordered oppositely, "
          f"{len(strong)} of them significant under both rules")
    print(f"{len(policies)} policies x {reps} replications in {elapsed:.1f} s "
          f"on {args.workers} worker(s)")
    args.out.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)
    stem = "study_policies" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.txt").write_text(
        f"{table.attrs['title']}\n\n{format_markdown(table, digits=DIGITS)}\n", encoding="utf-8")
    table.to_csv(args.out / f"{stem}.csv", index=False)
    res.save(args.out / f"{stem}.npz")
    par = res.pareto()
    err = [float(stats.mean_ci(res.get(res.headline_rule, "all", p)).half_width)
           for p in par["policy"]]
    ax = plots.cost_value_pareto(par["cost"], par["value"], list(par["policy"]), value_err=err)
    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.savefig(args.figures / f"{stem}_pareto.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    cmp = res.compare(BASELINE, res.headline_rule, ["all", "vip", "ordinary"])
    ax = plots.policy_comparison(cmp, baseline=BASELINE)
    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.savefig(args.figures / f"{stem}_compare.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {stem}.txt, .csv, .npz to {args.out}; {stem}_pareto.png, "
          f"{stem}_compare.png to {args.figures}")


if __name__ == "__main__":
    main()
