"""The shipped Anonymous Bank log and its loader for files in the original format."""

from __future__ import annotations

import csv
import gzip
import io
import lzma
from collections import Counter
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import peakend as pe
from peakend.datasets._anonymous_bank import ORIGINAL_COLUMNS

HEADER = "\t".join(ORIGINAL_COLUMNS)


def _row(**kw: str) -> str:
    base = {
        "vru+line": "AA0101",
        "call_id": "1",
        "customer_id": "0",
        "priority": "0",
        "type": "PS",
        "date": "990201",
        "vru_entry": "10:00:00",
        "vru_exit": "10:00:10",
        "vru_time": "10",
        "q_start": "0:00:00",
        "q_exit": "0:00:00",
        "q_time": "0",
        "outcome": "AGENT",
        "ser_start": "10:00:10",
        "ser_exit": "10:02:10",
        "ser_time": "120",
        "server": "TOVA",
    }
    base.update(kw)
    return "\t".join(base[c] for c in ORIGINAL_COLUMNS)


SMALL = "\n".join(
    [
        HEADER,
        # served at once, 2 minutes
        _row(),
        # waited 60 s, then served 3 min by MICHAL; a priority customer
        _row(
            call_id="2",
            priority="2",
            type="NE",
            vru_entry="10:05:00",
            vru_exit="10:05:06",
            vru_time="6",
            q_start="10:05:06",
            q_exit="10:06:06",
            q_time="60",
            ser_start="10:06:06",
            ser_exit="10:09:06",
            ser_time="180",
            server="MICHAL",
        ),
        # hung up after 90 s in the queue
        _row(
            call_id="3",
            priority="1",
            vru_entry="11:00:00",
            vru_exit="11:00:30",
            vru_time="30",
            q_start="11:00:30",
            q_exit="11:02:00",
            q_time="90",
            outcome="HANG",
            ser_start="0:00:00",
            ser_exit="0:00:00",
            ser_time="0",
            server="NO_SERVER",
        ),
        # hung up in the VRU, never queued
        _row(
            call_id="4",
            outcome="HANG",
            ser_start="0:00:00",
            ser_exit="0:00:00",
            ser_time="0",
            server="NO_SERVER",
        ),
        # PHANTOM
        _row(call_id="5", outcome="PHANTOM", server="NO_SERVER"),
        # crosses midnight: enters the VRU at 23:59:50, queue from 00:00:05 for 20 s
        _row(
            call_id="6",
            vru_entry="23:59:50",
            vru_exit="0:00:05",
            vru_time="15",
            q_start="0:00:05",
            q_exit="0:00:25",
            q_time="20",
            ser_start="0:00:25",
            ser_exit="0:01:25",
            ser_time="60",
            server="TOVA",
        ),
        # data errors: negative VRU time, a 3-second service without a server name
        _row(
            call_id="7",
            date="990202",
            vru_entry="9:00:50",
            vru_exit="9:00:00",
            vru_time="-50",
            ser_start="9:00:00",
            ser_exit="9:00:03",
            ser_time="3",
            server="NO_SERVER",
        ),
    ]
)


def test_small_file_in_the_original_format(tmp_path):
    path = tmp_path / "calls.txt"
    path.write_text(SMALL + "\n")
    log = pe.datasets.anonymous_bank(path)
    assert log["call_id"].tolist() == [1, 2, 3, 6, 7]  # PHANTOM and the VRU hang-up dropped
    assert log.attrs["dropped"] == {"phantom": 1, "vru_hangup": 1}
    by = log.set_index("call_id")
    assert by.loc[1, "arrival"] == pytest.approx(600 + 10 / 60)
    assert by.loc[1, "service_start"] == pytest.approx(600 + 10 / 60)
    assert by.loc[1, "service_end"] == pytest.approx(602 + 10 / 60)
    assert np.isnan(by.loc[1, "left"])
    assert by.loc[2, "segment"] == "priority" and by.loc[2, "business_type"] == "NE"
    assert by.loc[2, "service_start"] - by.loc[2, "arrival"] == pytest.approx(1.0)
    assert by.loc[2, "server"] == "MICHAL"
    assert by.loc[3, "segment"] == "regular"
    assert by.loc[3, "left"] - by.loc[3, "arrival"] == pytest.approx(1.5)
    assert np.isnan(by.loc[3, "service_start"]) and pd.isna(by.loc[3, "server"])
    # midnight: times continue above 1440 minutes of the call's day
    assert by.loc[6, "arrival"] == pytest.approx(1440 + 5 / 60)
    assert by.loc[6, "service_end"] == pytest.approx(1440 + 85 / 60)
    assert by.loc[6, "day"] == pd.Timestamp("1999-02-01")
    assert by.loc[7, "day"] == pd.Timestamp("1999-02-02")
    assert set(by.loc[7, "issue"].split(",")) == {
        "negative_vru_time",
        "short_service",
        "served_without_server",
    }
    counts = {k: v["rows"] for k, v in log.attrs["issues"].items()}
    assert counts["negative_vru_time"] == 1
    assert counts["short_service"] == 1
    assert counts["served_without_server"] == 1
    # the result is a valid visit log
    pe.calibrate.read_log(log)


def test_vru_hangups_can_be_kept(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_text(SMALL)
    log = pe.datasets.anonymous_bank(path, vru_hangups="keep")
    row = log.set_index("call_id").loc[4]
    assert row["left"] == row["arrival"] and bool(row["vru_hangup"])
    assert log.attrs["dropped"]["vru_hangup"] == 0


@pytest.mark.parametrize("opener", ["xz", "gz"])
def test_compressed_files(tmp_path, opener):
    path = tmp_path / f"calls.tsv.{opener}"
    op = lzma.open if opener == "xz" else gzip.open
    with op(path, "wt") as fh:
        fh.write(SMALL)
    assert len(pe.datasets.anonymous_bank(path)) == 5


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        ({"vru_exit": "10:61:00"}, "vru_exit"),
        ({"q_time": "abc"}, "q_time"),
        ({"outcome": "LOST"}, "outcome"),
        ({"priority": "7"}, "priority"),
        ({"date": "19990201"}, "date"),
    ],
)
def test_bad_values_name_column_and_row(tmp_path, edit, column):
    path = tmp_path / "bad.tsv"
    path.write_text("\n".join([HEADER, _row(), _row(call_id="2", **edit)]))
    with pytest.raises(ValueError, match=rf"{column}.*row\(s\) \[2\]"):
        pe.datasets.anonymous_bank(path)


def test_missing_column(tmp_path):
    path = tmp_path / "bad.tsv"
    lines = [line.split("\t") for line in SMALL.splitlines()]
    path.write_text("\n".join("\t".join(parts[:-1]) for parts in lines))
    with pytest.raises(ValueError, match="server"):
        pe.datasets.anonymous_bank(path)
    with pytest.raises(ValueError, match="vru_hangups"):
        pe.datasets.anonymous_bank(vru_hangups="maybe")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shipped_rows() -> list[dict[str, str]]:
    ref = resources.files("peakend.datasets") / "data" / "anonymous_bank_1999-02-01_to_14.tsv.xz"
    with ref.open("rb") as fh, lzma.open(fh, "rt") as text:
        return list(csv.DictReader(io.StringIO(text.read()), delimiter="\t"))


def test_shipped_log_counts(shipped_rows):
    """Counts derived independently, with the csv module, from the shipped file."""
    log = pe.datasets.anonymous_bank()
    phantom = sum(r["outcome"] == "PHANTOM" for r in shipped_rows)
    vru = sum(r["outcome"] == "HANG" and int(r["q_time"]) == 0 for r in shipped_rows)
    assert log.attrs["rows_read"] == len(shipped_rows)
    assert log.attrs["dropped"] == {"phantom": phantom, "vru_hangup": vru}
    assert len(log) == len(shipped_rows) - phantom - vru
    kept = [
        r
        for r in shipped_rows
        if r["outcome"] == "AGENT" or (r["outcome"] == "HANG" and int(r["q_time"]) > 0)
    ]
    names = {"0": "unidentified", "1": "regular", "2": "priority"}
    assert Counter(log["segment"].astype(str)) == Counter(names[r["priority"]] for r in kept)
    assert Counter(log["business_type"]) == Counter(r["type"] for r in kept)
    assert int(log["left"].notna().sum()) == sum(r["outcome"] == "HANG" for r in kept)
    per_day = Counter(r["date"] for r in kept)
    got = log.groupby(log["day"].dt.strftime("%y%m%d")).size().to_dict()
    assert got == dict(per_day)
    issues = {k: v["rows"] for k, v in log.attrs["issues"].items()}
    # the attrs do not get in the way of pandas operations on the log
    pd.concat([log.iloc[:5], log.iloc[5:10]]).groupby("segment", observed=True).size()
    assert issues["negative_vru_time"] == sum(int(r["vru_time"]) < 0 for r in kept)
    assert issues["short_service"] == sum(
        r["outcome"] == "AGENT" and int(r["ser_time"]) < 10 for r in kept
    )
    assert issues["served_without_server"] == sum(
        r["outcome"] == "AGENT" and r["server"] == "NO_SERVER" for r in kept
    )
    # waits are the recorded queue times
    served = log["service_start"].notna()
    waits = (log["service_start"] - log["arrival"])[served].to_numpy() * 60
    assert np.allclose(
        np.sort(waits), np.sort([int(r["q_time"]) for r in kept if r["outcome"] == "AGENT"])
    )
    # the counts the docstring documents are these
    doc = pe.datasets.anonymous_bank.__doc__
    n_served = sum(r["outcome"] == "AGENT" for r in kept)
    for n in (len(shipped_rows), phantom, vru, len(kept), n_served, len(kept) - n_served):
        assert f"{n:,}" in doc, n
    assert "Brown" in log.attrs["source"] and "SEELab" in pe.datasets.ATTRIBUTION
    pe.calibrate.read_log(log)
