"""Plain-text report of a calibration."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from peakend.calibrate._calibrate import Calibration

__all__ = ["report"]


def _fmt(x: float, digits: int = 3) -> str:
    return "nan" if pd.isna(x) else f"{x:.{digits}g}"


def report(cal: Calibration) -> str:
    """Summarise the estimates of a calibration, with intervals and fit figures.

    Parameters
    ----------
    cal : Calibration
        From :func:`peakend.calibrate.from_log`.

    Returns
    -------
    str
        Several lines of text.
    """
    est = cal.estimates
    level = cal.settings.get("level", 0.95)
    pct = f"{100 * level:g} %"
    out: list[str] = [
        f"Calibration ({pct} intervals); scenarios: {sorted(cal.scenarios)}, main: {cal.day_type}"
    ]
    if cal.settings.get("source"):
        out.append(f"Source: {cal.settings['source']}")
    out.append("")
    out.append("Data")
    for _, r in est["data"].iterrows():
        out.append(f"  {r['item']}: {r['count']}")
    issues = cal.settings.get("issues")
    if isinstance(issues, dict) and issues:
        out.append("  data issues flagged by the loader:")
        for name, info in issues.items():
            out.append(f"    {name}: {info['rows']} rows ({info['action']})")
    out.append("")
    out.append("Arrivals: Poisson dispersion check (index 1 = Poisson)")
    for _, r in est["dispersion"].iterrows():
        verdict = "consistent with Poisson" if r["poisson"] else "over-dispersed: not Poisson"
        out.append(
            f"  {r['day_type']}: index {_fmt(r['dispersion_index'])}, chi2 {_fmt(r['chi2'], 4)} on "
            f"{r['df']} df, p = {_fmt(r['p_value'], 2)} ({verdict})"
        )
    for dt, part in est["arrivals"].groupby("day_type"):
        daily = part["mean_count"].sum()
        out.append(f"  {dt}: {daily:.0f} arrivals a day on average")
    out.append("")
    out.append("Segments (share of arrivals, interval)")
    for _, r in est["segments"].iterrows():
        out.append(
            f"  {r['day_type']} {r['segment']}: {r['share']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"
        )
    tod = est["segment_mix_by_interval"]
    if len(tod):
        for dt, part in tod.groupby("day_type"):
            p = part["p_value"].iloc[0]
            spans = ", ".join(
                f"{r['segment']} {r['share_min']:.2f}-{r['share_max']:.2f}"
                for _, r in part.iterrows()
            )
            out.append(f"  {dt}: mix by interval {spans}; homogeneity p = {_fmt(p, 2)}")
    out.append("")
    out.append("Service times (chosen family by AIC; KS distance)")
    svc = est["service"]
    for (b, s), part in svc.groupby(["business_type", "segment"], sort=False):
        best = part.iloc[0]
        used = "used" if bool(part["chosen"].any()) else "empirical distribution used"
        out.append(
            f"  {b}/{s}: {best['family']} mean {_fmt(best['mean'])} min "
            f"[{_fmt(best['mean_low'])}, {_fmt(best['mean_high'])}], sd {_fmt(best['sd'])}, "
            f"n {best['n']}, KS {_fmt(best['ks'], 2)}; {used}"
        )
    out.append("")
    out.append("Patience (censored fits; the naive mean ignores censoring and is biased low)")
    pat = est["patience"]
    for seg_name, part in pat.groupby("segment", sort=False):
        chosen = part.loc[part["chosen"]].iloc[0]
        line = (
            f"  {seg_name!s}: {chosen['family']} mean {_fmt(chosen.get('mean', math.nan))} min "
            f"[{_fmt(chosen.get('mean_low', math.nan))}, "
            f"{_fmt(chosen.get('mean_high', math.nan))}], "
            f"events {chosen['events']} of {chosen['n']}, naive {_fmt(chosen['naive_mean'])} min"
        )
        if "km_distance" in part.columns and pd.notna(chosen.get("km_distance")):
            line += f", KM distance {_fmt(chosen['km_distance'], 2)}"
        best_any = part.sort_values("aic").iloc[0] if "aic" in part.columns else chosen
        if best_any["family"] != chosen["family"]:
            line += f" (best overall: {best_any['family']}, not in the model)"
        out.append(line)
    out.append("")
    staff = est["staffing"]
    out.append("Staffing (servers per interval)")
    for dt, part in staff.groupby("day_type"):
        out.append(f"  {dt}: " + " ".join(str(int(v)) for v in part["servers"]))
        if "utilisation" in part.columns:
            u = part["utilisation"].mean()
            out.append(f"    mean busy share of the inferred servers: {_fmt(u, 2)}")
    out.append("")
    prio = est["priority"]
    out.append(
        "Priority (segments by time to service, leaving censored: Kaplan-Meier restricted "
        "mean; log-rank p against the previous; level 0 is served first)"
    )
    for _, r in prio.iterrows():
        out.append(
            f"  {r['segment']}: time to service {_fmt(r['time_to_service'])} min, mean wait "
            f"{_fmt(r['wait_mean'])} min [{_fmt(r['low'])}, {_fmt(r['high'])}], "
            f"level {r['level']}, p {_fmt(r['p_vs_previous'], 2)}"
        )
    fit = est.get("availability_fit")
    if isinstance(fit, pd.DataFrame) and len(fit):
        row = fit.loc[fit["chosen"]].iloc[0]
        out.append("")
        out.append(
            f"Availability (share of inferred servers kept) fitted to in-sample abandonment: "
            f"{row['availability']:.3g} (simulated {row['predicted_abandonment']:.3f}, "
            f"observed {row['observed_abandonment']:.3f})"
        )
    return "\n".join(out)
