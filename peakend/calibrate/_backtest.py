"""Back-test a calibration: simulate held-out days with their own volumes and staffing, compare."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

import peakend
from peakend.calibrate._estimate import day_types, staffing_table
from peakend.calibrate._fit import poisson_interval, wilson_interval
from peakend.calibrate._log import read_log

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from peakend.calibrate._calibrate import Calibration

__all__ = ["BACKTEST_COLUMNS", "METRICS", "backtest", "plot_backtest"]

#: Back-test metrics, in row order.
METRICS: tuple[str, ...] = ("arrivals", "served", "abandonment_rate", "wait_mean", "waited_share")
#: Columns of the back-test table.
BACKTEST_COLUMNS: tuple[str, ...] = (
    "segment",
    "interval",
    "metric",
    "predicted",
    "predicted_low",
    "predicted_high",
    "observed",
    "observed_low",
    "observed_high",
)
#: A wait longer than this counts as having waited, minutes (half a second: logs are in seconds).
WAITED = 0.5 / 60


def _clock(minutes: float) -> str:
    h, m = divmod(round(minutes), 60)
    return f"{int(h):02d}:{int(m):02d}"


def _metrics(
    segment: np.ndarray,
    interval: np.ndarray,
    wait: np.ndarray,
    left: np.ndarray,
    segments: list[str],
    n_intervals: int,
    n_days: int,
) -> dict[str, np.ndarray]:
    """Per (segment, interval + pooled) sums: arrivals, served, left, wait sum, waited."""
    k = len(segments)
    code = pd.Categorical(segment, categories=segments).codes
    ok = (code >= 0) & (interval >= 0) & (interval < n_intervals)
    cells = (code[ok] * (n_intervals + 1) + interval[ok]).astype(np.int64)
    size = k * (n_intervals + 1)

    def tally(w: np.ndarray | None) -> np.ndarray:
        out = np.bincount(cells, weights=w, minlength=size).reshape(k, n_intervals + 1)
        out[:, n_intervals] = out[:, :n_intervals].sum(axis=1)
        return out

    return {
        "n": tally(None),
        "left": tally(left[ok].astype(float)),
        "wait": tally(wait[ok]),
        "waited": tally((wait[ok] > WAITED).astype(float)),
        "days": np.full((k, n_intervals + 1), float(n_days)),
    }


def _values(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n, days = t["n"], t["days"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "arrivals": n / days,
            "served": (n - t["left"]) / days,
            "abandonment_rate": t["left"] / n,
            "wait_mean": t["wait"] / n,
            "waited_share": t["waited"] / n,
        }


def backtest(
    calibration: Calibration,
    holdout_log: pd.DataFrame | str | os.PathLike[str],
    replications: int = 20,
    seed: int = 0,
    *,
    columns: Mapping[str, str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Simulate the held-out days and compare predicted with observed, per segment and interval.

    Each held-out day is simulated with the calibrated scenario of its day type,
    but with that day's own arrival volume per interval (its counts as the rates
    of the piecewise-constant profile) and its own staffing (inferred from its
    service records as in the calibration, or the calibration's table when it was
    given), ``replications`` times, through the public :func:`peakend.simulate`.
    Segment mix (by interval, when calibrated so), service, patience, priority
    levels and the servers' availability stay the calibrated ones: what is tested
    is the queue model given the volume and the staff.

    Parameters
    ----------
    calibration : Calibration
        From :func:`peakend.calibrate.from_log`.
    holdout_log : pandas.DataFrame or path
        Visit log of the held-out days (see :func:`read_log`).
    replications : int, default 20
        Simulated replications of the whole held-out period (1-10000).
    seed : int, default 0
        Seed; replication ``r`` of day ``d`` uses ``SeedSequence(seed).spawn(days)[d]
        .spawn(replications)[r]``.
    columns : mapping, optional
        Column mapping for :func:`read_log`.
    level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per segment, interval and metric, columns :data:`BACKTEST_COLUMNS`:
        ``interval`` is the interval's clock start (``"07:00"``) or ``"all"`` for
        the segment's pooled row; ``metric`` one of :data:`METRICS`: ``arrivals``
        and ``served`` (visits per day), ``abandonment_rate`` (share of arrivals
        who left unserved), ``wait_mean`` (minutes, over all arrivals: 0 for those
        served at once, the time until leaving for those who left),
        ``waited_share`` (share of arrivals who waited more than half a second).
        ``predicted`` is the mean over replications and ``predicted_low``/``_high``
        the central ``level`` range of the replications (a prediction interval for
        the held-out period); ``observed_low``/``_high`` are the observed
        values' intervals (Poisson for counts, Wilson for shares, t for the mean
        wait). Intervals are by arrival time.

    Raises
    ------
    ValueError
        If ``replications`` or ``seed`` is out of range, or the held-out log has no
        visit within the calibrated hours, or a day of a type the calibration has no
        scenario for.
    """
    if isinstance(replications, bool) or not isinstance(replications, int | np.integer):
        raise ValueError(f"replications: must be an int in 1-10000, got {replications!r}")
    if not 1 <= int(replications) <= 10000:
        raise ValueError(f"replications: must be an int in 1-10000, got {replications}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: must be an int >= 0, got {seed!r}")
    settings = calibration.settings
    grid: np.ndarray = settings["grid"]
    n_int = grid.size - 1
    frame = read_log(holdout_log, columns)
    frame = frame.loc[(frame["arrival"] >= grid[0]) & (frame["arrival"] < grid[-1])].copy()
    if frame.empty:
        raise ValueError("holdout_log: no visit arrives within the calibrated hours")
    frame["day_type"] = day_types(
        frame["day"], settings["day_type"], settings["weekend_days"]
    ).to_numpy()
    unknown = sorted(set(frame["day_type"]) - set(calibration.scenarios))
    if unknown:
        raise ValueError(
            f"holdout_log: day type(s) {unknown} have no calibrated scenario; calibrated: "
            f"{sorted(calibration.scenarios)}"
        )
    segments = sorted(calibration.scenario.segments)
    served = frame["service_start"].notna().to_numpy()
    wait = np.where(
        served, frame["service_start"] - frame["arrival"], frame["left"] - frame["arrival"]
    )
    interval = np.searchsorted(grid, frame["arrival"].to_numpy(), side="right") - 1
    days = sorted(frame["day"].unique())
    observed = _metrics(
        frame["segment"].to_numpy(), interval, wait, ~served, segments, n_int, len(days)
    )
    est = calibration.estimates
    if settings["staffing"] == "distinct":
        # whole servers seen on the day; their availability is the calibrated scenario's
        per_day = staffing_table(frame, grid)
    else:
        per_day = None
    children = np.random.SeedSequence(int(seed)).spawn(len(days))
    sums: list[dict[str, np.ndarray]] = [
        {k: np.zeros((len(segments), n_int + 1)) for k in ("n", "left", "wait", "waited")}
        for _ in range(replications)
    ]
    for d, day in enumerate(days):
        part = frame.loc[frame["day"] == day]
        dt = str(part["day_type"].iloc[0])
        counts = np.bincount(interval[(frame["day"] == day).to_numpy()], minlength=n_int)[:n_int]
        rates = counts / (settings["interval"] / 60.0)
        if per_day is not None:
            st = per_day.loc[per_day["day"] == day].set_index("start")["servers"]
            servers = np.array([int(st.get(g, 0)) for g in grid[:-1]])
        else:
            staff = (
                est["staffing"].loc[est["staffing"]["day_type"] == dt].set_index("start")["servers"]
            )
            servers = np.array([int(staff.get(g, 0)) for g in grid[:-1]])
        base = calibration.scenarios[dt]
        scenario = _day_scenario(base, grid, rates, servers)
        for r, child in enumerate(children[d].spawn(replications)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", peakend.sim.OverloadWarning)
                sim = peakend.simulate(scenario, seed=child)
            c = sim.customers
            names = np.asarray(sim.segments, dtype=object)[c["segment"]]
            arrive = c["arrival"] + grid[0]
            iv = np.searchsorted(grid, arrive, side="right") - 1
            t = _metrics(names, iv, c["wait"], c["balked"] | c["reneged"], segments, n_int, 1)
            for k in ("n", "left", "wait", "waited"):
                sums[r][k] += t[k]
    n_days = float(len(days))
    pred = [_values({**s, "days": np.full_like(s["n"], n_days)}) for s in sums]
    obs = _values(observed)
    a = (1 - level) / 2
    z = stats.t.ppf(1 - a, np.maximum(observed["n"] - 1, 1))
    # observed intervals
    n_obs = observed["n"]
    cnt_lo, cnt_hi = poisson_interval(n_obs, level)
    srv = n_obs - observed["left"]
    srv_lo, srv_hi = poisson_interval(srv, level)
    ab_lo, ab_hi = wilson_interval(observed["left"], n_obs, level)
    wt_lo, wt_hi = wilson_interval(observed["waited"], n_obs, level)
    wsd = _wait_sd(frame["segment"].to_numpy(), interval, wait, segments, n_int)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * wsd / np.sqrt(n_obs)
    obs_int = {
        "arrivals": (cnt_lo / n_days, cnt_hi / n_days),
        "served": (srv_lo / n_days, srv_hi / n_days),
        "abandonment_rate": (ab_lo, ab_hi),
        "wait_mean": (obs["wait_mean"] - half, obs["wait_mean"] + half),
        "waited_share": (wt_lo, wt_hi),
    }
    labels = [_clock(g) for g in grid[:-1]] + ["all"]
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(segments):
        for j, lab in enumerate(labels):
            for m in METRICS:
                reps = np.array([p[m][i, j] for p in pred])
                finite = reps[np.isfinite(reps)]
                rows.append(
                    {
                        "segment": s,
                        "interval": lab,
                        "metric": m,
                        "predicted": float(finite.mean()) if finite.size else np.nan,
                        "predicted_low": float(np.quantile(finite, a)) if finite.size else np.nan,
                        "predicted_high": float(np.quantile(finite, 1 - a))
                        if finite.size
                        else np.nan,
                        "observed": float(obs[m][i, j]),
                        "observed_low": float(obs_int[m][0][i, j]),
                        "observed_high": float(obs_int[m][1][i, j]),
                    }
                )
    table = pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS))
    table.attrs["days"] = [pd.Timestamp(d).date().isoformat() for d in days]
    table.attrs["replications"] = int(replications)
    table.attrs["seed"] = int(seed)
    return table


def _wait_sd(
    segment: np.ndarray, interval: np.ndarray, wait: np.ndarray, segments: list[str], n_int: int
) -> np.ndarray:
    out = np.full((len(segments), n_int + 1), np.nan)
    for i, s in enumerate(segments):
        m = segment == s
        if m.sum() > 1:
            out[i, n_int] = wait[m].std(ddof=1)
        for j in range(n_int):
            mm = m & (interval == j)
            if mm.sum() > 1:
                out[i, j] = wait[mm].std(ddof=1)
    return out


def _day_scenario(
    base: peakend.Scenario, grid: np.ndarray, rates: np.ndarray, servers: np.ndarray
) -> peakend.Scenario:
    data = base.model_dump()
    # the day's own volumes; the calibrated segment mix by interval stays
    data["arrivals"]["profile"] = [
        {"start": float(g / 60.0), "rate": float(r)} for g, r in zip(grid[:-1], rates, strict=True)
    ]
    counts = [int(c) for c in servers]
    if max(counts) == 0:
        counts = [1] * len(counts)
    group = next(iter(data["counters"]))
    data["counters"][group]["tellers"] = [
        {"start": float(g / 60.0), "count": c} for g, c in zip(grid[:-1], counts, strict=True)
    ]
    return peakend.Scenario.model_validate(data)


def plot_backtest(
    table: pd.DataFrame,
    metric: str = "abandonment_rate",
    *,
    segment: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot a back-test: predicted (band) and observed (points with bars) by interval.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`backtest`.
    metric : str, default "abandonment_rate"
        One of :data:`METRICS`.
    segment : str, optional
        One segment; None: every segment, one colour each.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.
    """
    import matplotlib.pyplot as plt

    if metric not in METRICS:
        raise ValueError(f"metric: must be one of {list(METRICS)}, got {metric!r}")
    missing = [c for c in BACKTEST_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"table: columns {missing} missing; pass the table backtest() returns")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    segs = [segment] if segment is not None else list(dict.fromkeys(table["segment"]))
    for k, s in enumerate(segs):
        part = table.loc[
            (table["segment"] == s) & (table["metric"] == metric) & (table["interval"] != "all")
        ]
        if part.empty:
            raise ValueError(f"segment: {s!r} not in the table")
        x = np.arange(len(part))
        colour = f"C{k}"
        ax.fill_between(x, part["predicted_low"], part["predicted_high"], color=colour, alpha=0.2)
        ax.plot(x, part["predicted"], color=colour, label=f"{s} predicted")
        err = np.vstack(
            [part["observed"] - part["observed_low"], part["observed_high"] - part["observed"]]
        )
        ax.errorbar(
            x, part["observed"], yerr=np.clip(err, 0, None), fmt="o", color=colour, ms=3,
            label=f"{s} observed",
        )  # fmt: skip
        ax.set_xticks(x[::2], part["interval"].iloc[::2], rotation=45)
    ax.set_xlabel("interval (arrival time)")
    ax.set_ylabel(metric)
    ax.legend(fontsize="small", ncols=2)
    return ax
