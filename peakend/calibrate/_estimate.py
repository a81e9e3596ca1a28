"""The estimators behind ``from_log``: one function a kind of estimate, each a table."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from peakend.calibrate._fit import (
    ZERO_WAIT,
    fit_families,
    fit_patience,
    kaplan_meier,
    logrank,
    poisson_interval,
    restricted_mean,
    wilson_interval,
)

__all__ = [
    "MIN_FIT",
    "day_types",
    "estimate_arrivals",
    "estimate_mix",
    "estimate_mix_blocks",
    "estimate_patience",
    "estimate_priority",
    "estimate_service",
    "estimate_staffing",
    "patience_dist",
    "staffing_table",
]

#: Fewer service times than this are used as they are (empirical), not fitted.
MIN_FIT = 10
DayType = Literal["weekday", "day_of_week"] | Callable[[pd.Timestamp], str] | None
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day_types(
    days: pd.Series, day_type: DayType, weekend_days: Sequence[int] = (5, 6)
) -> pd.Series:
    """Label each date with its day type.

    Parameters
    ----------
    days : pandas.Series of datetime64
        Dates.
    day_type : {"weekday", "day_of_week"}, callable or None
        ``"weekday"``: ``"weekday"`` or ``"weekend"`` (by ``weekend_days``);
        ``"day_of_week"``: ``"Monday"`` ... ``"Sunday"``; a callable: its label for
        each date (a ``pandas.Timestamp``); None: one type, ``"all"``.
    weekend_days : sequence of int, default (5, 6)
        Weekend days, Monday = 0 (Saturday and Sunday; Friday and Saturday in Israel: (4, 5)).

    Returns
    -------
    pandas.Series of str
        One label a row.
    """
    if day_type is None:
        return pd.Series("all", index=days.index)
    if day_type == "weekday":
        weekend = days.dt.day_of_week.isin(list(weekend_days))
        return pd.Series(np.where(weekend, "weekend", "weekday"), index=days.index)
    if day_type == "day_of_week":
        return days.dt.day_of_week.map(dict(enumerate(_WEEKDAY_NAMES))).astype(str)
    if callable(day_type):
        uniq = {d: str(day_type(pd.Timestamp(d))) for d in pd.unique(days)}
        return days.map(uniq).astype(str)
    raise ValueError(
        f"day_type: must be 'weekday', 'day_of_week', a callable date -> label or None, "
        f"got {day_type!r}"
    )


def staffing_table(
    log: pd.DataFrame, grid: np.ndarray, *, availability: float = 1.0
) -> pd.DataFrame:
    """Servers per day and interval, inferred from the service records.

    Parameters
    ----------
    log : pandas.DataFrame
        A visit log (see :func:`read_log`), with ``server`` names.
    grid : numpy.ndarray
        Interval edges, minutes since midnight (increasing).
    availability : float, default 1.0
        Share of an agent's time on duty spent serving (0-1]; ``servers`` below is
        ``round(distinct * availability)`` (at least 1 where someone served).

    Returns
    -------
    pandas.DataFrame
        One row per day and interval: ``day``, ``start`` (minutes), ``distinct``
        (servers who start a service in the interval), ``busy`` (service
        minutes in the interval over its length: the mean number serving),
        ``servers`` (whole servers for the model).
    """
    served = log.loc[log["service_start"].notna() & log["server"].notna()]
    rows = []
    width = np.diff(grid)
    for day, part in served.groupby("day", sort=True):
        s = part["service_start"].to_numpy()
        e = part["service_end"].to_numpy()
        names = part["server"].to_numpy()
        lo, hi = grid[:-1], grid[1:]
        overlap = np.clip(np.minimum(e[:, None], hi) - np.maximum(s[:, None], lo), 0, None)
        # a server counts in an interval if it starts a service there: one going off duty
        # finishes the service in hand but starts no other
        touches = (s[:, None] >= lo) & (s[:, None] < hi)
        busy = overlap.sum(axis=0) / width
        for j in range(lo.size):
            distinct = len(set(names[touches[:, j]]))
            rows.append((day, lo[j], distinct, busy[j]))
    table = pd.DataFrame(rows, columns=["day", "start", "distinct", "busy"])
    servers = np.round(table["distinct"].to_numpy() * availability).astype(int)
    table["servers"] = np.where(table["distinct"] > 0, np.maximum(servers, 1), 0)
    return table


def _service_dist(row: pd.Series) -> dict[str, Any]:
    fam = row["family"]
    if fam == "exponential":
        return {"kind": "exponential", "mean": float(row["mean"])}
    if fam == "weibull":
        return {"kind": "weibull", "shape": float(row["params"]["k"]),
                "scale": float(row["params"]["lambda"])}  # fmt: skip
    return {"kind": fam, "mean": float(row["mean"]), "sd": float(row["sd"])}


def patience_dist(family: str, params: dict[str, float], zero_mass: float) -> dict[str, Any]:
    """Return a fitted patience law as a scenario distribution (a mixture with a zero mass)."""
    from peakend.config.models import WEIBULL_SHAPE_RANGE

    if family == "exponential":
        dist: dict[str, Any] = {"kind": "exponential", "mean": float(params["theta"])}
    elif family == "weibull":
        lo, hi = WEIBULL_SHAPE_RANGE
        dist = {
            "kind": "weibull",
            "shape": float(min(max(params["k"], lo), hi)),
            "scale": float(params["lambda"]),
        }
    else:
        from peakend.calibrate._fit import _moments

        mean, sd = _moments(family, params)
        dist = {"kind": family, "mean": float(mean), "sd": float(sd)}
    if zero_mass <= 0:
        return dist
    return {
        "kind": "mixture",
        "weights": [float(zero_mass), 1.0 - float(zero_mass)],
        "components": [{"kind": "deterministic", "value": 0.0}, dist],
    }


def _empirical(x: np.ndarray, n_values: int = 200) -> dict[str, Any]:
    q = np.quantile(x, (np.arange(n_values) + 0.5) / n_values)
    return {"kind": "empirical", "values": [float(v) for v in np.maximum(q, 0)]}


def _fit_service(
    durations: np.ndarray, families: Sequence[str], level: float, ks_max: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    if durations.size < MIN_FIT:
        # too few to choose a family: resample the observed values
        nan = math.nan
        table = pd.DataFrame(
            [
                {"family": "empirical (too few to fit)", "params": {}, "loglik": nan,
                 "aic": nan, "delta_aic": nan, "n": durations.size, "events": durations.size,
                 "mean": float(durations.mean()), "mean_low": nan, "mean_high": nan,
                 "sd": float(durations.std()), "ks": nan, "ks_p": nan}
            ]
        )  # fmt: skip
        return table, {"kind": "empirical", "values": [float(v) for v in durations]}
    table = fit_families(durations, None, families, level=level)
    from pydantic import ValidationError

    from peakend.config.models import BusinessType

    for i in range(len(table)):
        row = table.iloc[i]
        if row["ks"] > ks_max:
            break
        dist = _service_dist(row)
        try:  # e.g. a gamma with sd > mean or a Weibull with shape < 0.5 is no service time
            BusinessType.model_validate({"service": dist})
        except ValidationError:
            continue
        if i:  # the simulable family is the chosen one: put it first
            table = pd.concat([table.iloc[[i]], table.drop(index=table.index[i])])
            table = table.reset_index(drop=True)
        return table, dist
    return table, _empirical(durations)


def estimate_arrivals(
    frame: pd.DataFrame, grid: np.ndarray, interval: float, level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rates per day type and interval with Poisson intervals, and the dispersion check."""
    arrival_rows, disp_rows = [], []
    all_days = frame[["day", "day_type"]].drop_duplicates()
    hours_per_block = interval / 60.0
    for dt, days in all_days.groupby("day_type"):
        part = frame.loc[frame["day_type"] == dt]
        counts = (
            part.groupby(["day", "interval"]).size().unstack(fill_value=0)
            .reindex(index=sorted(days["day"]), columns=range(grid.size - 1), fill_value=0)
        )  # fmt: skip
        c = counts.to_numpy()
        nd = c.shape[0]
        total = c.sum(axis=0)
        low, high = poisson_interval(total, level)
        mean = c.mean(axis=0)
        var = c.var(axis=0, ddof=1) if nd > 1 else np.full(c.shape[1], np.nan)
        stat = np.where(mean > 0, (nd - 1) * var / np.where(mean > 0, mean, 1), np.nan)
        pvals = stats.chi2.sf(stat, nd - 1) if nd > 1 else np.full(c.shape[1], np.nan)
        for j in range(c.shape[1]):
            arrival_rows.append(
                {
                    "day_type": dt,
                    "start": grid[j],
                    "n_days": nd,
                    "mean_count": mean[j],
                    "rate": mean[j] / hours_per_block,
                    "rate_low": low[j] / nd / hours_per_block,
                    "rate_high": high[j] / nd / hours_per_block,
                    "dispersion_index": var[j] / mean[j] if mean[j] > 0 else np.nan,
                    "dispersion_p": pvals[j],
                }
            )
        ok = mean > 0
        if nd > 1 and ok.any():
            s_all = float(np.nansum(stat[ok]))
            df_all = int((nd - 1) * ok.sum())
            disp_rows.append(
                {
                    "day_type": dt,
                    "n_days": nd,
                    "intervals": int(ok.sum()),
                    "dispersion_index": s_all / df_all,
                    "chi2": s_all,
                    "df": df_all,
                    "p_value": float(stats.chi2.sf(s_all, df_all)),
                    "poisson": bool(stats.chi2.sf(s_all, df_all) >= 1 - level),
                }
            )
    arrivals = pd.DataFrame(arrival_rows)
    dispersion = pd.DataFrame(
        disp_rows,
        columns=[
            "day_type",
            "n_days",
            "intervals",
            "dispersion_index",
            "chi2",
            "df",
            "p_value",
            "poisson",
        ],
    )

    return arrivals, dispersion


def _share_table(
    frame: pd.DataFrame, by: str, column: str, names: list[str], level: float
) -> pd.DataFrame:
    """Per group of ``by``: visits and share of each of ``names`` in ``column``, Wilson CIs."""
    rows = []
    for key, part in frame.groupby(by):
        counts = part[column].value_counts().reindex(names, fill_value=0)
        lo, hi = wilson_interval(counts.to_numpy(), np.full(len(names), counts.sum()), level)
        for k, x in enumerate(names):
            rows.append(
                {
                    by: key,
                    column: x,
                    "visits": int(counts[x]),
                    "share": counts[x] / counts.sum(),
                    "low": lo[k],
                    "high": hi[k],
                }
            )
    return pd.DataFrame(rows)


def estimate_mix(
    frame: pd.DataFrame, segments: list[str], businesses: list[str], level: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Segment shares per day type, business mix per segment, segment mix by interval."""
    segments_table = _share_table(frame, "day_type", "segment", segments, level)
    mix_table = _share_table(frame, "segment", "business_type", businesses, level)
    # does the segment mix change by time of day? (chi-square test of homogeneity)
    tod_rows = []
    for dt, part in frame.groupby("day_type"):
        ct = pd.crosstab(part["interval"], part["segment"]).reindex(columns=segments, fill_value=0)
        ct = ct.loc[ct.sum(axis=1) > 0]
        if ct.shape[0] > 1 and ct.shape[1] > 1:
            res = stats.chi2_contingency(ct.to_numpy())
            chi2, p, dof = float(res[0]), float(res[1]), int(res[2])
        else:
            chi2, p, dof = math.nan, math.nan, 0
        shares = ct.div(ct.sum(axis=1), axis=0)
        for s in segments:
            tod_rows.append(
                {
                    "day_type": dt,
                    "segment": s,
                    "share_min": float(shares[s].min()),
                    "share_max": float(shares[s].max()),
                    "chi2": chi2,
                    "df": dof,
                    "p_value": p,
                }
            )
    tod_table = pd.DataFrame(tod_rows)

    return segments_table, mix_table, tod_table


def estimate_service(
    frame: pd.DataFrame,
    segments: list[str],
    businesses: list[str],
    *,
    min_service: float,
    families: Sequence[str],
    level: float,
    ks_max: float,
    split_service: float,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any]], dict[str, bool]]:
    """Service-time fits per business type (and segment where they differ)."""
    served = frame["service_start"].notna().to_numpy()
    dur = (frame["service_end"] - frame["service_start"]).to_numpy()
    usable = served & (dur >= min_service)
    z = stats.norm.ppf(0.5 + level / 2)
    service_rows, by_seg_rows = [], []
    service_dists: dict[str, dict[str, Any]] = {}
    split: dict[str, bool] = {}
    for b in businesses:
        mask = usable & (frame["business_type"] == b).to_numpy()
        x = dur[mask]
        if x.size == 0:
            raise ValueError(
                f"visit log: business type {b!r} has no usable service time "
                f"(>= min_service = {min_service:.3g} min); lower min_service or merge the type"
            )
        table, dist = _fit_service(x, families, level, ks_max)
        table.insert(0, "business_type", b)
        table.insert(1, "segment", "all")
        table["chosen"] = [i == 0 and dist["kind"] != "empirical" for i in range(len(table))]
        service_rows.append(table)
        service_dists[b] = dist
        groups = [dur[mask & (frame["segment"] == s).to_numpy()] for s in segments]
        sizes = [g.size for g in groups]
        big = [g for g in groups if g.size >= 30]
        p_kw = float(stats.kruskal(*big).pvalue) if len(big) > 1 else math.nan
        means = [float(g.mean()) if g.size else math.nan for g in groups]
        big_means = [m for m, n in zip(means, sizes, strict=True) if n >= 30]
        rel = max(big_means) / min(big_means) - 1 if len(big_means) > 1 else 0.0
        split[b] = bool(len(big) > 1 and p_kw < 1 - level and rel > split_service)
        for s, g, m in zip(segments, groups, means, strict=True):
            half = z * g.std(ddof=1) / math.sqrt(g.size) if g.size > 1 else math.nan
            by_seg_rows.append(
                {"business_type": b, "segment": s, "n": g.size, "mean": m, "mean_low": m - half,
                 "mean_high": m + half, "kruskal_p": p_kw, "split": split[b]}
            )  # fmt: skip
        if split[b]:
            for s, g in zip(segments, groups, strict=True):
                if g.size < 2:
                    continue
                t2, d2 = _fit_service(g, families, level, ks_max)
                t2.insert(0, "business_type", b)
                t2.insert(1, "segment", s)
                t2["chosen"] = [i == 0 and d2["kind"] != "empirical" for i in range(len(t2))]
                service_rows.append(t2)
                service_dists[f"{b}:{s}"] = d2
    service_table = pd.concat(service_rows, ignore_index=True)
    by_seg_table = pd.DataFrame(by_seg_rows)

    return service_table, by_seg_table, service_dists, split


def estimate_patience(
    frame: pd.DataFrame, segments: list[str], families: Sequence[str], level: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any] | None]]:
    """Censored patience fits and Kaplan-Meier curves per segment."""
    pat_rows, km_rows = [], []
    patience: dict[str, dict[str, Any] | None] = {}
    for s in segments:
        mask = (frame["segment"] == s).to_numpy()
        w = np.maximum(frame["wait"].to_numpy()[mask], 0.0)
        ev = frame["abandoned"].to_numpy()[mask]
        naive = float(w[ev].mean()) if ev.any() else math.nan
        if ev.sum() < 2:
            patience[s] = None
            pat_rows.append(
                pd.DataFrame(
                    [
                        {
                            "segment": s,
                            "family": "none (no abandonment)",
                            "n": w.size,
                            "events": int(ev.sum()),
                            "chosen": True,
                            "naive_mean": naive,
                        }
                    ]
                )
            )
            continue
        zero_share = float((w[ev] <= ZERO_WAIT).mean())
        # every family with and without a mass at zero, all simulable: best AIC chosen
        table = fit_patience(w, ev, list(families), level=level)
        best = table.iloc[0]
        table.insert(0, "segment", s)
        table["chosen"] = table.index == 0
        table["naive_mean"] = naive
        table["zero_share"] = zero_share
        pat_rows.append(table)
        patience[s] = patience_dist(best["base_family"], best["params"], best["zero_mass"])
        km = kaplan_meier(w, ev, level=level)
        km.insert(0, "segment", s)
        km_rows.append(km)
    patience_table = pd.concat(pat_rows, ignore_index=True)
    km_table = pd.concat(km_rows, ignore_index=True) if km_rows else pd.DataFrame()

    return patience_table, km_table, patience


def estimate_staffing(
    frame: pd.DataFrame,
    grid: np.ndarray,
    staffing: str | pd.DataFrame | int,
    avail: float,
    day_type: DayType,
    weekend_days: Sequence[int],
    types: list[str],
    level: float,
) -> pd.DataFrame:
    """Servers per day type and interval: inferred from the log, or as given."""
    if isinstance(staffing, str):
        if staffing != "distinct":
            raise ValueError(
                f"staffing: must be 'distinct', a DataFrame or an int, got {staffing!r}"
            )
        if frame["server"].isna().all():
            raise ValueError(
                "staffing: the log has no server names; give staffing as a table or an int"
            )
        per_day = staffing_table(frame, grid, availability=avail)
        per_day["day_type"] = day_types(per_day["day"], day_type, weekend_days).to_numpy()
        staff = (
            per_day.groupby(["day_type", "start"])
            .agg(
                distinct=("distinct", "mean"),
                distinct_sd=("distinct", "std"),
                busy=("busy", "mean"),
                days=("day", "nunique"),
            )
            .reset_index()
        )
        # t-interval for the mean number of servers over the days of the type
        t_q = stats.t.ppf(0.5 + level / 2, np.maximum(staff["days"] - 1, 1))
        half = t_q * staff["distinct_sd"] / np.sqrt(staff["days"])
        staff["distinct_low"] = staff["distinct"] - half
        staff["distinct_high"] = staff["distinct"] + half
        staff = staff.drop(columns="distinct_sd")
        staff["servers"] = np.round(staff["distinct"] * avail).astype(int)
        staff.loc[(staff["distinct"] > 0) & (staff["servers"] < 1), "servers"] = 1
        staff["utilisation"] = np.where(
            staff["distinct"] > 0, staff["busy"] / np.maximum(staff["distinct"], 1e-12), np.nan
        )
    elif isinstance(staffing, int | np.integer) and not isinstance(staffing, bool):
        if not 1 <= int(staffing) <= 1000:
            raise ValueError(f"staffing: must be 1-1000 servers, got {staffing}")
        staff = pd.DataFrame(
            [
                {"day_type": dt, "start": g, "servers": int(staffing)}
                for dt in types
                for g in grid[:-1]
            ]
        )
    elif isinstance(staffing, pd.DataFrame):
        need = {"start", "servers"}
        if not need <= set(staffing.columns):
            raise ValueError(
                f"staffing: a table needs columns {sorted(need)}, got {list(staffing.columns)}"
            )
        given = staffing.copy()
        if "day_type" not in given.columns:
            given = pd.concat([given.assign(day_type=dt) for dt in types], ignore_index=True)
        staff = given[["day_type", "start", "servers"]].astype({"servers": int})
        if (staff["servers"] < 0).any():
            raise ValueError("staffing: servers must be >= 0")
    else:
        raise ValueError(
            f"staffing: must be 'distinct', a DataFrame or an int, got {type(staffing).__name__}"
        )

    return staff


def estimate_priority(
    frame: pd.DataFrame,
    segments: list[str],
    level: float,
    priority: Literal["auto", "fifo"] | Sequence[str | Sequence[str]],
) -> tuple[pd.DataFrame, list[str], bool]:
    """Segments ordered by time to service; the order and whether to use strict priority."""
    # time to service, with leaving as censoring: the wait a segment would have had
    # whatever its patience; compared by its Kaplan-Meier restricted mean and log-rank
    wait_all = np.maximum(frame["wait"].to_numpy(), 0.0)
    served = frame["service_start"].notna().to_numpy()
    z = stats.norm.ppf(0.5 + level / 2)
    seg_all = frame["segment"].to_numpy()
    tau = min(float(wait_all[seg_all == s].max()) for s in segments)
    tau = tau if tau > 0 else 1.0
    prio_rows = []
    for s in segments:
        m = seg_all == s
        w = wait_all[m]
        half = z * w.std(ddof=1) / math.sqrt(w.size) if w.size > 1 else math.nan
        prio_rows.append(
            {
                "segment": s,
                "visits": w.size,
                "wait_mean": w.mean(),
                "low": w.mean() - half,
                "high": w.mean() + half,
                "time_to_service": restricted_mean(w, served[m], tau),
            }
        )
    prio = pd.DataFrame(prio_rows).sort_values("time_to_service", kind="stable")
    prio = prio.reset_index(drop=True)
    pvals = [math.nan]
    for i in range(1, len(prio)):
        a = seg_all == prio["segment"][i - 1]
        b = seg_all == prio["segment"][i]
        pvals.append(logrank(wait_all[a], served[a], wait_all[b], served[b])[1])
    prio["p_vs_previous"] = pvals
    prio["rank"] = np.arange(len(prio))
    distinct_levels = [i == 0 or (p < 1 - level) for i, p in enumerate(pvals)]
    prio["level"] = np.cumsum(distinct_levels) - 1
    ordered = len(prio) > 1 and prio["level"].max() > 0
    order = prio["segment"].tolist()
    if priority == "fifo":
        ordered = False
    elif priority != "auto":
        wanted = [str(y) for x in priority for y in ([x] if isinstance(x, str) else list(x))]
        unknown = sorted(set(wanted) - set(segments))
        if unknown or len(set(wanted)) != len(wanted):
            raise ValueError(
                f"priority: must list distinct segments of the log {segments} (a nested "
                f"list is one level), got {list(priority)}"
            )
        order = wanted + [s for s in segments if s not in wanted]
        ordered = True

    return prio, order, ordered


#: Intervals with fewer visits than this take the day type's average segment mix.
MIN_MIX_VISITS = 30


def estimate_mix_blocks(
    frame: pd.DataFrame, segments: list[str], grid: np.ndarray, level: float
) -> pd.DataFrame:
    """Segment shares per day type and interval, with Wilson intervals.

    An interval with fewer than :data:`MIN_MIX_VISITS` visits takes the day type's
    average shares (``pooled`` True): a share from a handful of visits is noise.
    """
    rows = []
    for dt, part in frame.groupby("day_type"):
        total = part["segment"].value_counts().reindex(segments, fill_value=0)
        avg = total.to_numpy() / max(total.sum(), 1)
        ct = pd.crosstab(part["interval"], part["segment"]).reindex(
            index=range(grid.size - 1), columns=segments, fill_value=0
        )
        for j in range(grid.size - 1):
            c = ct.iloc[j].to_numpy()
            n = int(c.sum())
            pooled = n < MIN_MIX_VISITS
            share = avg if pooled else c / n
            lo, hi = wilson_interval(c, np.full(len(segments), max(n, 1)), level)
            for k, seg in enumerate(segments):
                rows.append(
                    {"day_type": dt, "start": grid[j], "segment": seg, "visits": int(c[k]),
                     "share": float(share[k]), "low": float(lo[k]), "high": float(hi[k]),
                     "pooled": pooled}
                )  # fmt: skip
    return pd.DataFrame(rows)
