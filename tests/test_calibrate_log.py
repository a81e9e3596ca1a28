"""Visit-log validation: good logs are normalised, bad logs are refused naming column and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend.calibrate import LOG_COLUMNS, read_log

NAN = np.nan


def good() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-05", "2024-03-05"]),
            "arrival": [540.0, 545.0, 600.0, 610.0],
            "service_start": [541.0, NAN, 600.0, 615.0],
            "service_end": [548.0, NAN, 603.5, 620.0],
            "left": [NAN, 560.0, NAN, NAN],
            "segment": ["vip", "ordinary", "ordinary", "vip"],
            "business_type": ["deposit", "deposit", "transfer", "deposit"],
            "server": ["t1", None, "t2", "t1"],
        }
    )


def test_good_log_roundtrip():
    log = read_log(good())
    assert list(log.columns[: len(LOG_COLUMNS)]) == list(LOG_COLUMNS)
    assert log["day"].dtype == "datetime64[ns]"
    assert log["arrival"].tolist() == [540.0, 545.0, 600.0, 610.0]
    assert log["server"].isna().tolist() == [False, True, False, False]
    assert log["server"].dropna().tolist() == ["t1", "t2", "t1"]


def test_datetimes_and_mapping():
    raw = good()
    stamps = raw.copy()
    for col in ("arrival", "service_start", "service_end", "left"):
        stamps[col] = raw["day"] + pd.to_timedelta(raw[col], unit="min")
    stamps = stamps.drop(columns="day").rename(
        columns={"arrival": "ticket", "segment": "kind", "server": "teller"}
    )
    log = read_log(stamps, columns={"ticket": "arrival", "kind": "segment", "teller": "server"})
    np.testing.assert_allclose(log["arrival"], good()["arrival"])
    np.testing.assert_allclose(log["service_end"], good()["service_end"])
    assert (log["day"] == good()["day"]).all()  # day taken from the arrival's date


def test_csv_and_tsv_paths(tmp_path):
    raw = good()
    csv_path = tmp_path / "log.csv"
    raw.to_csv(csv_path, index=False)
    tsv_path = tmp_path / "log.tsv"
    raw.to_csv(tsv_path, index=False, sep="\t")
    for path in (csv_path, tsv_path):
        log = read_log(path)
        np.testing.assert_allclose(log["arrival"], raw["arrival"])
        assert log["day"].iloc[2] == pd.Timestamp("2024-03-05")
        assert pd.isna(log["server"].iloc[1])


def test_optional_columns_default():
    raw = good().drop(columns=["business_type", "server"])
    log = read_log(raw)
    assert set(log["business_type"]) == {"all"}
    assert log["server"].isna().all()


def _set(col, row, value):
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if col in df.columns and df[col].dtype.kind in "fM" and isinstance(value, str):
            df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df

    return edit


def _drop(col):
    return lambda df: df.drop(columns=col)


def _both(*edits):
    def edit(df):
        for e in edits:
            df = e(df)
        return df

    return edit


BAD = [
    # (id, edit of the good log, kwargs, pattern the message must match)
    ("missing-day", _drop("day"), {}, r"required column\(s\) \['day'\]"),
    ("missing-arrival", _drop("arrival"), {}, r"\['arrival'\]"),
    ("missing-segment", _drop("segment"), {}, r"\['segment'\]"),
    ("map-unknown-source", None, {"columns": {"ticket": "arrival"}}, r"columns: \['ticket'\]"),
    ("map-unknown-target", None, {"columns": {"segment": "kind"}}, r"unknown standard name.*kind"),
    (
        "map-two-to-one",
        None,
        {"columns": {"segment": "business_type", "business_type": "business_type"}},
        "several columns mapped",
    ),
    ("empty-log", lambda df: df.iloc[0:0], {}, "no rows"),
    ("nan-day", _set("day", 2, pd.NaT), {}, r"'day'.*empty.*row\(s\) \[2\]"),
    (
        "bad-day-text",
        lambda df: df.assign(day=["2024-03-04", "x", "2024-03-05", "y"]),
        {},
        r"'day'.*\[1, 3\]",
    ),
    ("nan-arrival", _set("arrival", 1, NAN), {}, r"'arrival'.*empty.*\[1\]"),
    ("negative-arrival", _set("arrival", 0, -5.0), {}, r"'arrival'.*0-2880.*\[0\]"),
    ("arrival-too-late", _set("arrival", 3, 3000.0), {}, r"'arrival'.*0-2880.*\[3\]"),
    ("infinite-arrival", _set("arrival", 2, np.inf), {}, r"'arrival'.*finite.*\[2\]"),
    ("text-arrival", _set("arrival", 1, "soon"), {}, r"'arrival'.*minutes.*\[1\]"),
    ("bool-arrival", lambda df: df.assign(arrival=[True] * 4), {}, r"'arrival'.*booleans"),
    (
        "end-before-start",
        _set("service_end", 0, 540.5),
        {},
        r"'service_end'.*before service_start.*\[0\]",
    ),
    (
        "start-before-arrival",
        _set("service_start", 3, 605.0),
        {},
        r"'service_start'.*before arrival.*\[3\]",
    ),
    ("left-and-served", _set("left", 0, 550.0), {}, r"'left'.*served.*\[0\]"),
    ("start-without-end", _set("service_end", 2, NAN), {}, r"'service_end'.*missing.*\[2\]"),
    (
        "end-without-start",
        _both(_set("service_start", 2, NAN), _set("server", 2, None), _set("left", 2, 601.0)),
        {},
        r"'service_start'.*missing.*\[2\]",
    ),
    (
        "neither-served-nor-left",
        _set("left", 1, NAN),
        {},
        r"'left'.*empty for a visit that was not served.*\[1\]",
    ),
    ("left-before-arrival", _set("left", 1, 500.0), {}, r"'left'.*before arrival.*\[1\]"),
    ("nan-segment", _set("segment", 3, None), {}, r"'segment'.*empty.*\[3\]"),
    ("blank-segment", _set("segment", 0, "  "), {}, r"'segment'.*empty.*\[0\]"),
    ("nan-business", _set("business_type", 1, None), {}, r"'business_type'.*empty.*\[1\]"),
    ("server-unserved", _set("server", 1, "t3"), {}, r"'server'.*not served.*\[1\]"),
    ("not-a-log", lambda df: [1, 2, 3], {}, "must be a pandas DataFrame or a path"),
    (
        "duplicate-columns",
        lambda df: pd.concat([df, df[["segment"]]], axis=1),
        {},
        "duplicate column",
    ),
    ("negative-left", _set("left", 1, -1.0), {}, r"'left'.*0-2880"),
]


@pytest.mark.parametrize(
    ("edit", "kwargs", "pattern"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_logs_are_refused(edit, kwargs, pattern):
    raw = good() if edit is None else edit(good())
    with pytest.raises(ValueError, match=pattern):
        read_log(raw, **kwargs)


def test_at_least_25_bad_cases():
    assert len({b[0] for b in BAD}) >= 25


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_log(tmp_path / "nope.csv")


def test_many_bad_rows_are_summarised():
    raw = pd.concat([good()] * 7, ignore_index=True)
    raw.loc[raw["server"].isna(), "server"] = "x"
    with pytest.raises(ValueError, match=r"\[1, 5, 9, 13, 17\] and 2 more"):
        read_log(raw)


def test_from_log_validates_before_fitting():
    with pytest.raises(ValueError, match=r"'left'.*before arrival"):
        pe.calibrate.from_log(_set("left", 1, 500.0)(good()))


def test_csv_with_datetime_text(tmp_path):
    raw = good()
    stamps = raw.copy()
    for col in ("arrival", "service_start", "service_end", "left"):
        stamps[col] = (raw["day"] + pd.to_timedelta(raw[col], unit="min")).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        stamps.loc[raw[col].isna(), col] = ""
    path = tmp_path / "stamps.csv"
    stamps.to_csv(path, index=False)
    log = read_log(path)
    np.testing.assert_allclose(log["arrival"], raw["arrival"])
    np.testing.assert_allclose(log["left"], raw["left"])


def test_python_dates_and_text_days():
    raw = good()
    for days in (raw["day"].dt.date, raw["day"].dt.strftime("%Y-%m-%d")):
        log = read_log(raw.assign(day=days))
        assert (log["day"] == raw["day"]).all()


def test_log_without_servers_needs_given_staffing():
    raw = good().drop(columns="server")
    with pytest.raises(ValueError, match="no server names"):
        pe.calibrate.from_log(raw, day_type=None)
    cal = pe.calibrate.from_log(raw, day_type=None, staffing=2)
    assert cal.scenario.counters["agents"].max_tellers() == 2


def test_no_abandonment_means_no_reneging():
    raw = good()
    raw = raw[raw["left"].isna()]
    cal = pe.calibrate.from_log(raw, day_type=None)
    assert all(seg.renege is None for seg in cal.scenario.segments.values())
    assert "no abandonment" in cal.report()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_valid_random_logs_roundtrip_through_datetimes(seed, n):
    """Any consistent log is accepted, and minutes and datetimes give the same log."""
    rng = np.random.default_rng(seed)
    arrival = rng.uniform(0, 1400, n)
    served = rng.random(n) < 0.7
    start = np.where(served, arrival + rng.exponential(3, n), np.nan)
    end = np.where(served, start + rng.exponential(4, n), np.nan)
    left = np.where(served, np.nan, arrival + rng.exponential(2, n))
    day = pd.Timestamp("2020-02-29") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")
    raw = pd.DataFrame(
        {
            "day": day,
            "arrival": arrival,
            "service_start": start,
            "service_end": end,
            "left": left,
            "segment": rng.choice(["a", "b"], n),
            "server": np.where(served, "t1", None),
        }
    )
    log = read_log(raw)
    stamps = raw.copy()
    for col in ("arrival", "service_start", "service_end", "left"):
        stamps[col] = raw["day"] + pd.to_timedelta(raw[col], unit="min")
    again = read_log(stamps)
    for col in ("arrival", "service_start", "service_end", "left"):
        np.testing.assert_allclose(again[col], log[col], atol=1e-6)
        np.testing.assert_allclose(log[col], raw[col])
