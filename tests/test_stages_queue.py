"""The further stages' queue-length series (``Journeys.stage_queue``) and Little's law per stage."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from test_stages import build, day_of

import peakend as pe
from peakend import theory
from peakend.journeys import QUEUE_COLUMNS, STAGE_QUEUE_COLUMNS

CONFIDENCE = 0.99
LAMBDA = 1.0  # customers per minute
STATIONS = ((0.5, 3), (0.4, 4), (0.7, 2))  # rho 0.667, 0.625, 0.714
HOURS = 60.0
WARMUP = 120.0  # minutes discarded at the start (the stations start empty)
COOLDOWN = 60.0  # minutes discarded before closing
REPLICATIONS = 24


def test_stage_queue_schema_is_pinned():
    assert {k: v[0] for k, v in STAGE_QUEUE_COLUMNS.items()} == {
        "day": "int32",
        "stage": "int16",
        "time": "float64",
        "length": "int32",
    }
    page = Path(__file__).parents[1] / "docs" / "reference" / "journeys.md"
    text = page.read_text(encoding="utf-8").split("## Stage queue series")[1]
    text = text.split("\n## ")[0]
    for name in STAGE_QUEUE_COLUMNS:
        assert f"| `{name}` |" in text, name


def test_a_one_stage_day_has_no_stage_queue_and_its_hall_series_as_before():
    day = pe.simulate(pe.scenarios.mmc(1.6, 0.5, 4, 4), seed=1)
    assert all(v.size == 0 for v in day.stage_queue.values())
    assert list(day.queue) == list(QUEUE_COLUMNS)


def _area(time: np.ndarray, length: np.ndarray, lo: float = -np.inf, hi: float = np.inf) -> float:
    """Integral of a step series (length from time on) over [lo, hi], customers x minutes."""
    t = np.clip(np.append(time, max(hi if np.isfinite(hi) else time[-1], time[-1])), lo, hi)
    return float(np.sum(np.diff(t) * length))


def _series(day: pe.Journeys, k: int) -> tuple[np.ndarray, np.ndarray]:
    sq = day.stage_queue
    m = sq["stage"] == k
    return sq["time"][m], sq["length"][m]


@pytest.mark.parametrize("after_closing", ["serve", "dismiss"])
def test_each_stage_series_integrates_to_the_waits_there(after_closing):
    """Sample-path Little's law, per stage: area under the series = total wait there."""
    day = day_of(build({"after_closing": after_closing}), seed=8)
    sv = day.stage_visits
    for k in (1, 2):
        t, n = _series(day, k)
        assert t[0] == 0.0 and n[0] == 0 and n[-1] == 0 and np.all(np.diff(t) >= 0)
        if after_closing == "serve":  # one customer joins or leaves at a time
            assert np.all(np.abs(np.diff(n)) == 1)
        m = sv["stage"] == k
        until = np.where(np.isnan(sv["service_start"][m]), sv["left"][m], sv["service_start"][m])
        wait = np.nan_to_num(until - sv["queue_join"][m], nan=0.0)
        assert wait.sum() > 50
        assert _area(t, n) == pytest.approx(wait.sum(), rel=1e-9)
        # the series counts exactly those waiting: at each row, joined minus gone
        waited = wait > 0
        joins, gone = np.sort(sv["queue_join"][m][waited]), np.sort(until[waited])
        at = t[1:]
        inside = np.searchsorted(joins, at, "right") - np.searchsorted(gone, at, "right")
        np.testing.assert_array_equal(n[1:], inside)


def t_interval(x: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


@functools.cache
def tandem_days() -> tuple[pe.Journeys, ...]:
    s = pe.scenarios.tandem(LAMBDA, list(STATIONS), HOURS)
    return tuple(pe.simulate(s, seed=20_261_202 + r) for r in range(REPLICATIONS))


@pytest.mark.parametrize("k", [1, 2])
def test_littles_law_per_stage_against_erlang_c(k):
    """Time-average queue at station k = lambda x Erlang-C wait (Jackson network).

    By Burke's theorem station k of a stable tandem of M/M/c stations is an M/M/c queue
    at the external rate lambda in steady state, so by Little's law its time-average
    queue length is lambda * W_q with W_q from Erlang C. The window starts after a
    warm-up (the stations start empty) and ends an hour before closing; the replications
    are independent, so a 99 % t-interval of the per-day time averages holds L_q.
    """
    mu, c = STATIONS[k]
    expected = LAMBDA * theory.erlang_c_wait(LAMBDA, mu, c)
    hi_t = HOURS * 60.0 - COOLDOWN
    averages = np.array(
        [_area(*_series(d, k), WARMUP, hi_t) / (hi_t - WARMUP) for d in tandem_days()]
    )
    lo, hi = t_interval(averages)
    assert lo <= expected <= hi, (k, lo, expected, hi)
    assert hi - lo < 0.3 * expected  # narrow enough that a 25 % error would show
    assert not lo <= 1.25 * expected <= hi and not lo <= 0.75 * expected <= hi


def test_stage_queue_survives_select_day_concat_save_and_pandas(tmp_path):
    a, b = day_of(build(), seed=1), day_of(build(), seed=2)
    both = pe.Journeys.concat([a, b])
    np.testing.assert_array_equal(np.unique(both.stage_queue["day"]), [0, 1])
    one = both.day(1)
    for col in ("stage", "time", "length"):
        np.testing.assert_array_equal(one.stage_queue[col], b.stage_queue[col])
    vip = a.segment("vip")  # a selection keeps the series whole, as the hall series
    np.testing.assert_array_equal(vip.stage_queue["time"], a.stage_queue["time"])
    both.save(tmp_path / "d.npz")
    back = pe.load_journeys(tmp_path / "d.npz")
    for k in STAGE_QUEUE_COLUMNS:
        np.testing.assert_array_equal(back.stage_queue[k], both.stage_queue[k])
    df = a.to_pandas("stage_queue")
    assert list(df.columns) == list(STAGE_QUEUE_COLUMNS)
    assert set(df["stage"].astype(str)) == {"advisor", "cashier"}
    with pytest.raises(ValueError, match="stage_queue"):
        pe.Journeys(
            dict(a.customers),
            dict(a.episodes),
            a.offsets,
            segments=a.segments,
            business_types=a.business_types,
            touchpoints=a.touchpoints,
            counters=a.counters,
            stage_visits=dict(a.stage_visits),
            stages=a.stages,
            stage_queue={"stage": [0], "time": [0.0], "length": [0]},  # 0 is the first stage
        )


def test_plot_queue_draws_a_further_stage_and_its_tellers():
    import matplotlib

    matplotlib.use("Agg")
    s = build({"stages": {"advisor": {"counters": {"rm": {"tellers": 3}}}}})
    day = day_of(s, seed=3)
    ax = day.plot.queue(stage="advisor")
    (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("customers")]
    _, n = _series(day, 1)
    assert list(line.get_ydata()[:-1]) == list(n)
    assert "advisor" in ax.get_title() and "advisor" in line.get_label()
    from peakend.plots import JourneysPlot

    ax = JourneysPlot(day, s).queue(stage="advisor")
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    (staff,) = twin.get_lines()
    assert set(staff.get_ydata()) == {3}  # the advisor stage's tellers, not the teller stage's
    hall = day.plot.queue(stage="teller")  # the first stage: the hall series
    (line,) = [ln for ln in hall.get_lines() if ln.get_label().startswith("customers")]
    assert list(line.get_ydata()[:-1]) == list(day.queue["length"])
    with pytest.raises(ValueError, match="not a stage"):
        day.plot.queue(stage="advisr")
