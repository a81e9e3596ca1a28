"""``from_log``: arrivals, mix, service, patience, staffing and priority from a visit log."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from peakend.calibrate._fit import (
    fit_families,
    kaplan_meier,
    logrank,
    poisson_interval,
    restricted_mean,
    wilson_interval,
)
from peakend.calibrate._log import read_log
from peakend.config import Scenario

__all__ = ["MODEL_FAMILIES", "Calibration", "day_types", "from_log", "staffing_table"]

#: Fewer service times than this are used as they are (empirical), not fitted.
MIN_FIT = 10
#: Families the Scenario model can simulate (service and patience).
MODEL_FAMILIES: tuple[str, ...] = ("exponential", "lognormal", "gamma")
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


@dataclass
class Calibration:
    """What :func:`from_log` estimated, and the scenarios built from it.

    Attributes
    ----------
    scenarios : dict of str to Scenario
        Day type -> the calibrated scenario.
    day_type : str
        The most common day type (the one :attr:`scenario` returns).
    estimates : dict of str to pandas.DataFrame
        Tables: ``arrivals``, ``dispersion``, ``segments``, ``business_mix``,
        ``segment_mix_by_interval``, ``service``, ``service_by_segment``,
        ``patience``, ``kaplan_meier``, ``staffing``, ``priority``, ``data``
        (see ``docs/how-to/calibrate.md`` for their columns).
    settings : dict
        The arguments of :func:`from_log` that the back-test reuses.
    """

    scenarios: dict[str, Scenario]
    day_type: str
    estimates: dict[str, pd.DataFrame]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        """The calibrated scenario for the most common day type."""
        return self.scenarios[self.day_type]

    def report(self) -> str:
        """Summarise the estimates as plain text, with intervals and fit figures."""
        from peakend.calibrate._report import report

        return report(self)

    def backtest(
        self,
        holdout_log: pd.DataFrame | str | os.PathLike[str],
        replications: int = 20,
        seed: int = 0,
        *,
        columns: Mapping[str, str] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Simulate held-out days and compare with what was observed.

        See :func:`peakend.calibrate.backtest`.
        """
        from peakend.calibrate._backtest import backtest

        return backtest(
            self, holdout_log, replications=replications, seed=seed, columns=columns, level=level
        )


def _grid(hours: tuple[float, float] | None, arrival: np.ndarray, interval: float) -> np.ndarray:
    if hours is None:
        lo = math.floor(float(arrival.min()) / interval) * interval
        hi = math.ceil(float(arrival.max()) / interval + 1e-12) * interval
        if hi <= lo:
            hi = lo + interval
    else:
        lo, hi = hours[0] * 60.0, hours[1] * 60.0
    n = max(1, math.ceil((hi - lo) / interval - 1e-9))
    return lo + interval * np.arange(n + 1)


def _check_args(
    interval: float, hours: Any, availability: float, level: float, min_service: float
) -> None:
    if not (
        isinstance(interval, int | float) and math.isfinite(interval) and 1 <= interval <= 1440
    ):
        raise ValueError(f"interval: must be minutes in [1, 1440], got {interval!r}")
    if hours is not None:
        if (
            not isinstance(hours, tuple | list)
            or len(hours) != 2
            or not 0 <= hours[0] < hours[1] <= 48
        ):
            raise ValueError(
                f"hours: must be (opening, closing) clock hours with 0 <= opening < closing <= 48, "
                f"got {hours!r}"
            )
    if not 0 < availability <= 1:
        raise ValueError(f"availability: must be in (0, 1], got {availability!r}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level: must be in [0.5, 1), got {level!r}")
    if not 0 <= min_service < 60:
        raise ValueError(f"min_service: must be minutes in [0, 60), got {min_service!r}")


def _service_dist(row: pd.Series) -> dict[str, Any]:
    fam = row["family"]
    if fam == "exponential":
        return {"kind": "exponential", "mean": float(row["mean"])}
    return {"kind": fam, "mean": float(row["mean"]), "sd": float(row["sd"])}


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
    best = table.iloc[0]
    if best["ks"] > ks_max:
        return table, _empirical(durations)
    return table, _service_dist(best)


def from_log(
    log: pd.DataFrame | str | os.PathLike[str],
    interval: float = 60,
    day_type: DayType = "weekday",
    *,
    columns: Mapping[str, str] | None = None,
    hours: tuple[float, float] | None = None,
    weekend_days: Sequence[int] | None = None,
    staffing: Literal["distinct"] | pd.DataFrame | int = "distinct",
    availability: float | Literal["fit"] = 1.0,
    fit_replications: int = 4,
    seed: int = 0,
    min_service: float = 10 / 60,
    service_families: Sequence[str] = MODEL_FAMILIES,
    patience_families: Sequence[str] = MODEL_FAMILIES,
    split_service: float = 0.1,
    ks_max: float = 0.1,
    level: float = 0.95,
    priority: Literal["auto", "fifo"] | Sequence[str] = "auto",
    main_day_type: str | None = None,
    name: str = "calibrated",
) -> Calibration:
    """Calibrate scenarios (one per day type) from a visit log.

    Parameters
    ----------
    log : pandas.DataFrame or path
        A visit log (see :func:`read_log`; ``columns`` maps your column names).
    interval : float, default 60
        Length of the piecewise-constant blocks of arrival rate and staffing, minutes.
    day_type : {"weekday", "day_of_week"}, callable or None, default "weekday"
        How days are grouped (see :func:`day_types`); one scenario per type.
    columns : mapping, optional
        Column mapping passed to :func:`read_log`.
    hours : (float, float), optional
        Opening and closing clock hours of the model day (e.g. ``(7, 24)``);
        visits arriving outside are left out (counted in ``estimates["data"]``).
        None: from the earliest to the latest arrival, rounded to ``interval``.
    weekend_days : sequence of int, optional
        Weekend days (Monday = 0) for ``day_type="weekday"``; None: the log's
        ``attrs["weekend_days"]`` if set, else (5, 6).
    staffing : "distinct", DataFrame or int, default "distinct"
        Servers per interval: ``"distinct"`` counts the distinct servers who start
        a service in the interval, averaged over the days of the type and
        multiplied by ``availability``; a DataFrame with columns ``start``
        (minutes since midnight) and ``servers`` (and optionally ``day_type``);
        an int: that many all day.
    availability : float or "fit", default 1.0
        Share of the inferred servers counted as available, (0, 1] (a stand-in
        for shrinkage: breaks, after-call work), applied before rounding to whole
        servers. ``"fit"``: chosen in (0.2, 1] by bisection so that simulating the
        calibration days (their own volumes and staffing) reproduces their
        observed share of abandonment (``estimates["availability_fit"]``); only
        with ``staffing="distinct"``.
    fit_replications : int, default 4
        Replications per step of the availability fit.
    seed : int, default 0
        Seed of the availability fit's simulations.
    min_service : float, default 1/6
        Service times shorter than this (minutes) are left out of the service
        fits (data errors such as 2-second "services"); their count is reported.
    service_families, patience_families : sequence of str
        Families tried (by maximum likelihood, chosen by AIC); the defaults are
        the families the Scenario model can simulate.
    split_service : float, default 0.1
        A business type gets its own service distribution per segment when the
        segments' mean service times differ significantly (Kruskal-Wallis at
        ``1 - level``) and by more than this relative amount.
    ks_max : float, default 0.1
        If the best family's Kolmogorov-Smirnov distance from the service times
        exceeds this, the empirical distribution (200 quantiles) is used instead.
    level : float, default 0.95
        Confidence level of every interval.
    priority : "auto", "fifo" or sequence of str, default "auto"
        The counter discipline of the scenarios: ``"auto"``, strict priority in the
        order the times to service show when any difference between neighbours is
        significant, else first come, first served; ``"fifo"``; or a segment order,
        highest first (unlisted segments last), e.g. a documented policy.
        ``estimates["priority"]`` always holds what the log shows.
    main_day_type : str, optional
        The day type :attr:`Calibration.scenario` returns; None: the type with the
        most days (ties: the first in sorted order).
    name : str, default "calibrated"
        Scenario name prefix (``"calibrated weekday"``).

    Returns
    -------
    Calibration
        ``.scenario``, ``.scenarios``, ``.estimates``, ``.report()``, ``.backtest()``.

    Raises
    ------
    ValueError
        For a bad log (see :func:`read_log`) or argument, or when a day type has
        no served visits to fit service times from.

    Notes
    -----
    Patience is estimated from censored data: the wait of a customer who left is
    an observed patience; the wait of a served customer is only a lower bound on
    it (right-censored). The naive mean of the abandoning customers' waits is
    reported for comparison only: it is biased low. See
    ``docs/background/calibration.md``.
    """
    fit_availability = isinstance(availability, str)
    if fit_availability and availability != "fit":
        raise ValueError(f"availability: must be in (0, 1] or 'fit', got {availability!r}")
    if fit_availability and not (isinstance(staffing, str) and staffing == "distinct"):
        raise ValueError(
            "availability: 'fit' needs staffing='distinct' (servers inferred from the log)"
        )
    if isinstance(priority, str) and priority not in ("auto", "fifo"):
        raise ValueError(
            f"priority: must be 'auto', 'fifo' or a list of segments, got {priority!r}"
        )
    avail = 1.0 if isinstance(availability, str) else float(availability)
    _check_args(interval, hours, avail, level, min_service)
    frame = read_log(log, columns)
    attrs = dict(frame.attrs)
    if weekend_days is None:
        weekend_days = tuple(attrs.get("weekend_days", (5, 6)))
    grid = _grid(hours, frame["arrival"].to_numpy(), float(interval))
    inside = (frame["arrival"] >= grid[0]) & (frame["arrival"] < grid[-1])
    data_rows = [
        ("visits in the log", len(frame)),
        ("arrivals outside the hours", int((~inside).sum())),
    ]
    frame = frame.loc[inside].copy()
    if frame.empty:
        raise ValueError(f"hours: no visit arrives within {hours}")
    frame["day_type"] = day_types(frame["day"], day_type, weekend_days).to_numpy()
    frame["interval"] = np.searchsorted(grid, frame["arrival"].to_numpy(), side="right") - 1
    served = frame["service_start"].notna().to_numpy()
    frame["wait"] = np.where(
        served, frame["service_start"] - frame["arrival"], frame["left"] - frame["arrival"]
    )
    frame["abandoned"] = ~served
    z = stats.norm.ppf(0.5 + level / 2)
    segments = sorted(frame["segment"].unique())
    businesses = sorted(frame["business_type"].unique())

    # ------------------------------------------------------------ arrivals per day type
    n_days = frame.groupby("day_type")["day"].nunique()
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

    # ------------------------------------------------------------ segment and business mix
    seg_rows, mix_rows = [], []
    for dt, part in frame.groupby("day_type"):
        counts = part["segment"].value_counts().reindex(segments, fill_value=0)
        lo, hi = wilson_interval(counts.to_numpy(), np.full(len(segments), counts.sum()), level)
        for k, s in enumerate(segments):
            seg_rows.append(
                {
                    "day_type": dt,
                    "segment": s,
                    "visits": int(counts[s]),
                    "share": counts[s] / counts.sum(),
                    "low": lo[k],
                    "high": hi[k],
                }
            )
    for s, part in frame.groupby("segment"):
        counts = part["business_type"].value_counts().reindex(businesses, fill_value=0)
        lo, hi = wilson_interval(counts.to_numpy(), np.full(len(businesses), counts.sum()), level)
        for k, b in enumerate(businesses):
            mix_rows.append(
                {
                    "segment": s,
                    "business_type": b,
                    "visits": int(counts[b]),
                    "share": counts[b] / counts.sum(),
                    "low": lo[k],
                    "high": hi[k],
                }
            )
    segments_table = pd.DataFrame(seg_rows)
    mix_table = pd.DataFrame(mix_rows)
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

    # ------------------------------------------------------------ service times
    dur = (frame["service_end"] - frame["service_start"]).to_numpy()
    usable = served & (dur >= min_service)
    data_rows.append(("served visits", int(served.sum())))
    data_rows.append(
        (
            f"service times shorter than {min_service:.3g} min (left out of fits)",
            int((served & ~usable).sum()),
        )
    )
    data_rows.append(("visits that left unserved", int((~served).sum())))
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
        table, dist = _fit_service(x, service_families, level, ks_max)
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
                t2, d2 = _fit_service(g, service_families, level, ks_max)
                t2.insert(0, "business_type", b)
                t2.insert(1, "segment", s)
                t2["chosen"] = [i == 0 and d2["kind"] != "empirical" for i in range(len(t2))]
                service_rows.append(t2)
                service_dists[f"{b}:{s}"] = d2
    service_table = pd.concat(service_rows, ignore_index=True)
    by_seg_table = pd.DataFrame(by_seg_rows)

    # ------------------------------------------------------------ patience (censored)
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
        zero_share = float((w[ev] <= 1 / 60).mean())
        fams = list(dict.fromkeys([*patience_families, "weibull"]))
        table = fit_families(w, ev, fams, level=level)
        model_rows = table["family"].isin(list(patience_families)).to_numpy()
        best = table.loc[model_rows].iloc[0]
        table.insert(0, "segment", s)
        table["chosen"] = table["family"] == best["family"]
        table["naive_mean"] = naive
        table["zero_share"] = zero_share
        pat_rows.append(table)
        patience[s] = _service_dist(best)
        km = kaplan_meier(w, ev, level=level)
        km.insert(0, "segment", s)
        km_rows.append(km)
    patience_table = pd.concat(pat_rows, ignore_index=True)
    km_table = pd.concat(km_rows, ignore_index=True) if km_rows else pd.DataFrame()

    # ------------------------------------------------------------ staffing
    types = sorted(frame["day_type"].unique())
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

    # ------------------------------------------------------------ priority between segments
    # time to service, with leaving as censoring: the wait a segment would have had
    # whatever its patience; compared by its Kaplan-Meier restricted mean and log-rank
    wait_all = np.maximum(frame["wait"].to_numpy(), 0.0)
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
        wanted = [str(s) for s in priority]
        unknown = sorted(set(wanted) - set(segments))
        if unknown or len(set(wanted)) != len(wanted):
            raise ValueError(
                f"priority: must list distinct segments of the log {segments}, got {wanted}"
            )
        order = wanted + [s for s in segments if s not in wanted]
        ordered = True

    # ------------------------------------------------------------ scenarios
    def build(staff: pd.DataFrame) -> dict[str, Scenario]:
        return {
            dt: _build_scenario(
                f"{name} {dt}",
                grid,
                arrivals.loc[arrivals["day_type"] == dt],
                segments_table.loc[segments_table["day_type"] == dt],
                mix_table,
                service_dists,
                split,
                patience,
                staff.loc[staff["day_type"] == dt],
                order if ordered else None,
            )
            for dt in types
        }

    scenarios = build(staff)
    counts = n_days.to_dict()
    main = max(types, key=lambda t: (counts.get(t, 0), -types.index(t)))
    if main_day_type is not None:
        if main_day_type not in scenarios:
            raise ValueError(
                f"main_day_type: {main_day_type!r} is not a day type of the log; "
                f"the log has {types}"
            )
        main = main_day_type
    data_rows.append(("days", int(frame["day"].nunique())))
    for dt in types:
        data_rows.append((f"days of type {dt}", int(counts[dt])))
    estimates = {
        "arrivals": arrivals,
        "dispersion": dispersion,
        "segments": segments_table,
        "business_mix": mix_table,
        "segment_mix_by_interval": tod_table,
        "service": service_table,
        "service_by_segment": by_seg_table,
        "patience": patience_table,
        "kaplan_meier": km_table,
        "staffing": staff,
        "priority": prio,
        "data": pd.DataFrame(data_rows, columns=["item", "count"]),
    }
    settings = {
        "interval": float(interval),
        "grid": grid,
        "day_type": day_type,
        "weekend_days": tuple(weekend_days),
        "staffing": staffing if not isinstance(staffing, pd.DataFrame) else "given",
        "availability": avail,
        "level": level,
        "issues": attrs.get("issues"),
        "source": attrs.get("source"),
    }
    cal = Calibration(scenarios=scenarios, day_type=main, estimates=estimates, settings=settings)
    if fit_availability:
        avail, fit_table = _fit_availability(cal, frame, fit_replications, seed)
        staff["servers"] = np.round(staff["distinct"] * avail).astype(int)
        staff.loc[(staff["distinct"] > 0) & (staff["servers"] < 1), "servers"] = 1
        cal.scenarios = build(staff)
        cal.settings["availability"] = avail
        estimates["availability_fit"] = fit_table
    return cal


def _pooled_abandonment(table: pd.DataFrame) -> float:
    pooled = table.loc[table["interval"] == "all"].pivot(
        index="segment", columns="metric", values="predicted"
    )
    return float((pooled["arrivals"] - pooled["served"]).sum() / pooled["arrivals"].sum())


def _fit_availability(
    cal: Calibration, frame: pd.DataFrame, replications: int, seed: int
) -> tuple[float, pd.DataFrame]:
    """Find the availability whose in-sample simulated abandonment matches the observed one.

    Bisection on (0.2, 1]: abandonment falls as availability (servers) rises; each
    step simulates the calibration days with their own volumes and staffing.
    """
    from peakend.calibrate._backtest import backtest

    target = float(frame["abandoned"].mean())
    rows = []

    def predicted(a: float) -> float:
        cal.settings["availability"] = a
        table = backtest(cal, frame, replications=replications, seed=seed)
        value = _pooled_abandonment(table)
        rows.append(
            {"availability": a, "predicted_abandonment": value, "observed_abandonment": target}
        )
        return value

    lo, hi = 0.2, 1.0
    values = {hi: predicted(hi)}
    if values[hi] >= target:
        best = hi
    else:
        values[lo] = predicted(lo)
        if values[lo] <= target:
            best = lo
        else:
            for _ in range(7):
                mid = round(0.5 * (lo + hi), 4)
                values[mid] = predicted(mid)
                if values[mid] > target:
                    lo = mid
                else:
                    hi = mid
            best = lo if abs(values[lo] - target) < abs(values[hi] - target) else hi
    table = pd.DataFrame(rows).drop_duplicates("availability", keep="last")
    table["chosen"] = table["availability"] == best
    return best, table.reset_index(drop=True)


def _build_scenario(
    name: str,
    grid: np.ndarray,
    arrivals: pd.DataFrame,
    segments: pd.DataFrame,
    mix: pd.DataFrame,
    service: Mapping[str, dict[str, Any]],
    split: Mapping[str, bool],
    patience: Mapping[str, dict[str, Any] | None],
    staff: pd.DataFrame,
    order: list[str] | None,
    rates: np.ndarray | None = None,
    servers: np.ndarray | None = None,
) -> Scenario:
    opening, closing = grid[0] / 60.0, grid[-1] / 60.0
    rate = arrivals.sort_values("start")["rate"].to_numpy() if rates is None else rates
    profile = [
        {"start": float(g / 60.0), "rate": float(r)} for g, r in zip(grid[:-1], rate, strict=True)
    ]
    shares = segments.set_index("segment")["share"]
    seg_data: dict[str, Any] = {}
    used: set[str] = set()
    for s, share in shares.items():
        m = mix.loc[mix["segment"] == s].set_index("business_type")["share"]
        bm: dict[str, float] = {}
        for b, v in m.items():
            if v <= 0:
                continue
            key = f"{b}:{s}" if split.get(str(b)) and f"{b}:{s}" in service else str(b)
            bm[key] = float(v)
            used.add(key)
        if not bm:  # a segment with no visits of this day type: keep it valid, weight 0
            first = next(iter(service))
            bm = {first: 1.0}
            used.add(first)
        total = sum(bm.values())
        seg_data[str(s)] = {
            "share": float(share),
            "business_mix": {k: v / total for k, v in bm.items()},
            "renege": patience.get(str(s)),
            "expected_wait": 0.0,
        }
    # shares summing to 1 exactly
    keys = list(seg_data)
    seg_data[keys[-1]]["share"] = max(0.0, 1.0 - sum(seg_data[k]["share"] for k in keys[:-1]))
    st = (
        staff.set_index("start")["servers"]
        if servers is None
        else pd.Series(servers, index=grid[:-1])
    )
    counts = [int(st.get(g, 0)) for g in grid[:-1]]
    if max(counts) == 0:
        counts = [1] * len(counts)
    blocks = [
        {"start": float(g / 60.0), "count": c} for g, c in zip(grid[:-1], counts, strict=True)
    ]
    counter: dict[str, Any] = {"tellers": blocks}
    if order:
        counter["discipline"] = "priority"
        counter["priority"] = order
    data = {
        "name": name,
        "description": "calibrated from a visit log by peakend.calibrate.from_log",
        "opening": float(opening),
        "closing": float(closing),
        "after_closing": "serve",
        "arrivals": {"profile": profile},
        "segments": seg_data,
        "business_types": {k: {"service": service[k]} for k in service if k in used},
        "counters": {"agents": counter},
        "journey": ["waiting", "service"],
    }
    return Scenario.model_validate(data)
