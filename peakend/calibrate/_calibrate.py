"""``from_log``: arrivals, mix, service, patience, staffing and priority from a visit log."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from peakend.calibrate._estimate import (
    DayType,
    day_types,
    estimate_arrivals,
    estimate_mix,
    estimate_mix_blocks,
    estimate_patience,
    estimate_priority,
    estimate_service,
    estimate_staffing,
)
from peakend.calibrate._log import read_log
from peakend.config import Scenario

__all__ = ["MODEL_FAMILIES", "Calibration", "from_log"]

#: Families the Scenario model can simulate (service and patience; patience also with a
#: point mass at zero).
MODEL_FAMILIES: tuple[str, ...] = ("exponential", "lognormal", "gamma", "weibull")
#: Ways ``availability`` is chosen besides a number.
AVAILABILITY_FITS: tuple[str, ...] = ("fit", "utilisation")


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


def _check_staffing(staffing: Any) -> None:
    """Refuse a bad ``staffing`` before anything is read or fitted."""
    if isinstance(staffing, str):
        if staffing != "distinct":
            raise ValueError(
                f"staffing: must be 'distinct', a DataFrame or an int, got {staffing!r}"
            )
    elif isinstance(staffing, bool) or not isinstance(staffing, int | np.integer | pd.DataFrame):
        raise ValueError(
            f"staffing: must be 'distinct', a DataFrame or an int, got {type(staffing).__name__}"
        )
    elif isinstance(staffing, pd.DataFrame):
        need = {"start", "servers"}
        if not need <= set(staffing.columns):
            raise ValueError(
                f"staffing: a table needs columns {sorted(need)}, got {list(staffing.columns)}"
            )
    elif not 1 <= int(staffing) <= 1000:
        raise ValueError(f"staffing: must be 1-1000 servers, got {staffing}")


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


def from_log(
    log: pd.DataFrame | str | os.PathLike[str],
    interval: float = 60,
    day_type: DayType = "weekday",
    *,
    columns: Mapping[str, str] | None = None,
    hours: tuple[float, float] | None = None,
    weekend_days: Sequence[int] | None = None,
    staffing: Literal["distinct"] | pd.DataFrame | int = "distinct",
    availability: float | Literal["fit", "utilisation"] = 1.0,
    fit_replications: int = 4,
    seed: int = 0,
    min_service: float = 10 / 60,
    service_families: Sequence[str] = MODEL_FAMILIES,
    patience_families: Sequence[str] = MODEL_FAMILIES,
    split_service: float = 0.1,
    ks_max: float = 0.1,
    level: float = 0.95,
    priority: Literal["auto", "fifo"] | Sequence[str | Sequence[str]] = "auto",
    segment_mix: Literal["auto", "day"] = "auto",
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
        rounded; a DataFrame with columns ``start`` (minutes since midnight) and
        ``servers`` (and optionally ``day_type``); an int: that many all day.
    availability : float, "fit" or "utilisation", default 1.0
        Share of the servers' time available to serve, the counter group's
        ``availability`` in the scenario (shrinkage: breaks, after-call work; the
        model lays it out as staggered breaks). A number in (0, 1]: every
        interval. ``"fit"``: one share for every interval, chosen in [0.2, 1] by
        bisection so that simulating the calibration days (their own volumes and
        staffing) reproduces their observed share of abandonment
        (``estimates["availability_fit"]``). ``"utilisation"``: per interval,
        proportional to the servers' busy share there (``min(1, x * u / u_max)``),
        the factor ``x`` fitted the same way. Both fits need ``staffing="distinct"``.
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
    priority : "auto", "fifo" or sequence, default "auto"
        The counter discipline of the scenarios: ``"auto"``, priority levels in the
        order the times to service show, neighbours whose difference is not
        significant (log-rank) sharing a level (first come, first served between
        them), when there are at least two levels, else first come, first served;
        ``"fifo"``; or a segment order, highest first (unlisted segments last; a
        nested list is one shared level), e.g. a documented policy.
        ``estimates["priority"]`` always holds what the log shows.
    segment_mix : {"auto", "day"}, default "auto"
        ``"auto"``: when the segment mix changes by interval (chi-square test of
        homogeneity at ``1 - level``), the scenario gets the mix of every interval
        (``arrivals.segment_mix``; intervals with fewer than 30 visits take the
        day's); ``"day"``: the day-average mix only.
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
    if fit_availability and availability not in AVAILABILITY_FITS:
        raise ValueError(
            f"availability: must be in (0, 1], 'fit' or 'utilisation', got {availability!r}"
        )
    if fit_availability and not (isinstance(staffing, str) and staffing == "distinct"):
        raise ValueError(
            f"availability: {availability!r} needs staffing='distinct' (servers inferred "
            "from the log)"
        )
    if segment_mix not in ("auto", "day"):
        raise ValueError(f"segment_mix: must be 'auto' or 'day', got {segment_mix!r}")
    if isinstance(priority, str) and priority not in ("auto", "fifo"):
        raise ValueError(
            f"priority: must be 'auto', 'fifo' or a list of segments, got {priority!r}"
        )
    avail = 1.0 if isinstance(availability, str) else float(availability)
    _check_args(interval, hours, avail, level, min_service)
    _check_staffing(staffing)
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
    segments = sorted(frame["segment"].unique())
    businesses = sorted(frame["business_type"].unique())

    n_days = frame.groupby("day_type")["day"].nunique()
    types = sorted(frame["day_type"].unique())
    arrivals, dispersion = estimate_arrivals(frame, grid, float(interval), level)
    segments_table, mix_table, tod_table = estimate_mix(frame, segments, businesses, level)
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
    service_table, by_seg_table, service_dists, split = estimate_service(
        frame,
        segments,
        businesses,
        min_service=min_service,
        families=service_families,
        level=level,
        ks_max=ks_max,
        split_service=split_service,
    )
    patience_table, km_table, patience = estimate_patience(
        frame, segments, patience_families, level
    )
    # whole servers; availability is the model's (the counter group's), not a rounding
    staff = estimate_staffing(frame, grid, staffing, 1.0, day_type, weekend_days, types, level)
    prio, order, ordered = estimate_priority(frame, segments, level, priority)
    levels = _priority_levels(prio, order, priority) if ordered else None
    mix_blocks = estimate_mix_blocks(frame, segments, grid, level)
    varying = {
        str(dt): bool(part["p_value"].iloc[0] < 1 - level)
        for dt, part in tod_table.groupby("day_type")
    } if len(tod_table) else {}  # fmt: skip
    use_mix = {dt: segment_mix == "auto" and varying.get(dt, False) for dt in types}
    ratio = _availability_ratio(staff, grid, types, availability)
    staff["availability"] = np.nan

    # ------------------------------------------------------------ scenarios
    def build(x: float) -> dict[str, Scenario]:
        out = {}
        for dt in types:
            avail_dt = [float(min(1.0, x * r)) for r in ratio[dt]]
            staff.loc[staff["day_type"] == dt, "availability"] = _per_start(
                staff.loc[staff["day_type"] == dt, "start"], grid, avail_dt
            )
            out[dt] = _build_scenario(
                f"{name} {dt}",
                grid,
                arrivals.loc[arrivals["day_type"] == dt],
                segments_table.loc[segments_table["day_type"] == dt],
                mix_table,
                service_dists,
                split,
                patience,
                staff.loc[staff["day_type"] == dt],
                levels,
                availability=avail_dt,
                segment_mix=mix_blocks.loc[mix_blocks["day_type"] == dt] if use_mix[dt] else None,
            )
        return out

    scenarios = build(avail)
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
        "segment_mix": mix_blocks,
        "data": pd.DataFrame(data_rows, columns=["item", "count"]),
    }
    settings = {
        "availability_mode": availability if fit_availability else "given",
        "segment_mix": {dt: use_mix[dt] for dt in types},
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
        top = 1.0 / min(min(r) for r in ratio.values())
        avail, fit_table = _fit_availability(cal, frame, fit_replications, seed, build, top)
        cal.scenarios = build(avail)
        cal.settings["availability"] = avail
        estimates["availability_fit"] = fit_table
    return cal


def _per_start(starts: pd.Series, grid: np.ndarray, values: list[float]) -> np.ndarray:
    """Return the value of each row's interval (``starts``: interval starts on ``grid``)."""
    idx = np.searchsorted(grid, starts.to_numpy(), side="right") - 1
    return np.asarray(values, dtype=float)[np.clip(idx, 0, len(values) - 1)]


def _availability_ratio(
    staff: pd.DataFrame, grid: np.ndarray, types: list[str], availability: Any
) -> dict[str, list[float]]:
    """Per day type and interval, availability relative to the fitted factor, (0, 1]."""
    out: dict[str, list[float]] = {}
    for dt in types:
        n = grid.size - 1
        if availability != "utilisation" or "utilisation" not in staff.columns:
            out[dt] = [1.0] * n
            continue
        part = staff.loc[staff["day_type"] == dt].set_index("start")["utilisation"]
        u = np.array([float(part.get(g, np.nan)) for g in grid[:-1]])
        top = np.nanmax(u) if np.isfinite(u).any() else 1.0
        r = np.where(np.isfinite(u) & (u > 0), u / top, 1.0)
        out[dt] = [float(max(v, 0.05)) for v in r]
    return out


def _priority_levels(prio: pd.DataFrame, order: list[str], priority: Any) -> list[str | list[str]]:
    """Return the counter's priority list: the given order, or the estimated levels."""
    if priority != "auto":
        # the given levels, then every unlisted segment in its own level (``order``)
        given: list[str | list[str]] = []
        for x in priority:
            given.append(str(x) if isinstance(x, str) else [str(y) for y in x])
        listed = {y for x in given for y in ([x] if isinstance(x, str) else x)}
        return given + [x for x in order if x not in listed]
    out: list[str | list[str]] = []
    for _, part in prio.groupby("level", sort=True):
        names = [str(x) for x in part["segment"]]
        out.append(names[0] if len(names) == 1 else names)
    return out


def _pooled_abandonment(table: pd.DataFrame) -> float:
    pooled = table.loc[table["interval"] == "all"].pivot(
        index="segment", columns="metric", values="predicted"
    )
    return float((pooled["arrivals"] - pooled["served"]).sum() / pooled["arrivals"].sum())


def _fit_availability(
    cal: Calibration,
    frame: pd.DataFrame,
    replications: int,
    seed: int,
    build: Any,
    top: float = 1.0,
) -> tuple[float, pd.DataFrame]:
    """Find the availability whose in-sample simulated abandonment matches the observed one.

    Bisection on [0.2, top] (``top`` 1 for one share; for shares proportional to
    the busy share, the factor at which every interval reaches 1): abandonment
    falls as availability rises; each step simulates the calibration days with
    their own volumes and staffing.
    """
    from peakend.calibrate._backtest import backtest

    target = float(frame["abandoned"].mean())
    rows = []

    def predicted(a: float) -> float:
        cal.settings["availability"] = a
        cal.scenarios = build(a)
        table = backtest(cal, frame, replications=replications, seed=seed)
        value = _pooled_abandonment(table)
        rows.append(
            {"availability": a, "predicted_abandonment": value, "observed_abandonment": target}
        )
        return value

    lo, hi = 0.2, round(float(top), 4)
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
    order: list[str | list[str]] | None,
    rates: np.ndarray | None = None,
    servers: np.ndarray | None = None,
    *,
    availability: list[float] | None = None,
    segment_mix: pd.DataFrame | None = None,
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
    if availability is not None and any(a < 1.0 for a in availability):
        counter["availability"] = [
            {"start": float(g / 60.0), "share": float(a)}
            for g, a in zip(grid[:-1], availability, strict=True)
        ]
    if order:
        counter["discipline"] = "priority"
        counter["priority"] = order
    arrivals_data: dict[str, Any] = {"profile": profile}
    if segment_mix is not None and len(segment_mix):
        mix_rows = []
        for start, part in segment_mix.groupby("start", sort=True):
            block: dict[str, float] = {
                str(k): float(v) for k, v in zip(part["segment"], part["share"], strict=True)
            }
            total = sum(block.values())
            if total <= 0:
                continue
            clock = float(start) / 60.0  # type: ignore[arg-type]
            mix_rows.append({"start": clock, "shares": {k: v / total for k, v in block.items()}})
        arrivals_data["segment_mix"] = mix_rows
    data = {
        "name": name,
        "description": "calibrated from a visit log by peakend.calibrate.from_log",
        "opening": float(opening),
        "closing": float(closing),
        "after_closing": "serve",
        "arrivals": arrivals_data,
        "segments": seg_data,
        "business_types": {k: {"service": service[k]} for k in service if k in used},
        "counters": {"agents": counter},
        "journey": ["waiting", "service"],
    }
    return Scenario.model_validate(data)
