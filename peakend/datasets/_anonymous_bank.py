"""The "Anonymous Bank" call-centre log (Technion SEELab), as a peakend visit log."""

from __future__ import annotations

import lzma
import os
from importlib import resources
from typing import IO, Literal, cast

import numpy as np
import pandas as pd

__all__ = ["ATTRIBUTION", "anonymous_bank", "read_anonymous_bank"]

#: The attribution the data's authors ask for, to print wherever the data or figures from it appear.
ATTRIBUTION = (
    'The "Anonymous Bank" call-centre data (an Israeli bank, 1999) are from the Technion '
    "Service Enterprise Engineering Laboratory (SEELab), Avishai Mandelbaum and colleagues, "
    "and were analysed in L. Brown, N. Gans, A. Mandelbaum, A. Sakov, H. Shen, S. Zeltyn and "
    "L. Zhao (2005), Statistical analysis of a telephone call center: a queueing-science "
    "perspective, Journal of the American Statistical Association 100(469):36-50."
)

_SHIPPED = "anonymous_bank_1999-02-01_to_14.tsv.xz"

#: Columns of the original format, in order.
ORIGINAL_COLUMNS: tuple[str, ...] = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
_TIME_COLUMNS = ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")
_INT_COLUMNS = ("call_id", "customer_id", "priority", "vru_time", "q_time", "ser_time")
#: priority code -> segment name
SEGMENTS: dict[int, str] = {0: "unidentified", 1: "regular", 2: "priority"}
_OUTCOMES = ("AGENT", "HANG", "PHANTOM")
#: Served calls shorter than this are flagged ``short_service``, seconds.
SHORT_SERVICE_SECONDS = 10
#: Recorded service starts this far from arrival + queue time are flagged, minutes.
_INCONSISTENT_MINUTES = 1.0


def _clock_minutes(values: pd.Series, column: str) -> np.ndarray:
    """Parse ``H:MM:SS`` texts into minutes since midnight; name the first bad row."""
    parts = values.str.extract(r"^\s*(\d{1,2}):([0-5]\d):([0-5]\d)\s*$")
    bad = parts[0].isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise ValueError(
            f"{column}: times must be 'H:MM:SS' (hours 0-99); bad value(s) "
            f"{values.iloc[rows].tolist()} in data row(s) {(rows + 1).tolist()}"
        )
    num = parts.astype(int).to_numpy()
    return num[:, 0] * 60.0 + num[:, 1] + num[:, 2] / 60.0


def _read_table(source: str | os.PathLike[str] | IO[str]) -> pd.DataFrame:
    raw = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in ORIGINAL_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"anonymous_bank: column(s) {missing} missing; the original format has the "
            f"tab-separated columns {list(ORIGINAL_COLUMNS)}"
        )
    return raw


def read_anonymous_bank(
    source: str | os.PathLike[str] | IO[str],
    *,
    vru_hangups: Literal["drop", "keep"] = "drop",
) -> pd.DataFrame:
    """Read a file (or open text stream) in the Anonymous Bank's original format.

    See :func:`anonymous_bank` for the result and the choices made; this is the
    same loader for any file or stream (``.xz`` and ``.gz`` paths are decompressed).

    Parameters
    ----------
    source : path or text stream
        A tab-separated file with the columns of the original format.
    vru_hangups : {"drop", "keep"}, default "drop"
        What to do with calls that hung up in the voice-response unit before
        they ever queued (see :func:`anonymous_bank`).

    Returns
    -------
    pandas.DataFrame
        The visit log (see :func:`anonymous_bank`).

    Raises
    ------
    ValueError
        If a column is missing, or a value cannot be parsed (naming the column and
        the data rows, counted from 1 after the header).
    """
    if vru_hangups not in ("drop", "keep"):
        raise ValueError(f"vru_hangups: must be 'drop' or 'keep', got {vru_hangups!r}")
    raw = _read_table(source)
    n_raw = len(raw)
    ints: dict[str, np.ndarray] = {}
    for col in _INT_COLUMNS:
        num = pd.to_numeric(raw[col].str.strip(), errors="coerce").to_numpy(dtype=float)
        # customer ids are written like 6.02701E+11 in places: a number, not always an integer
        bad = ~np.isfinite(num) if col == "customer_id" else ~np.isfinite(num) | (num % 1 != 0)
        if bad.any():
            rows = np.flatnonzero(bad)[:5]
            raise ValueError(
                f"{col}: must be an integer; bad value(s) {raw[col].iloc[rows].tolist()} in "
                f"data row(s) {(rows + 1).tolist()}"
            )
        ints[col] = num.astype(np.int64)
    outcome = raw["outcome"].str.strip()
    bad = ~outcome.isin(_OUTCOMES).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise ValueError(
            f"outcome: must be one of {list(_OUTCOMES)}; bad value(s) "
            f"{outcome.iloc[rows].tolist()} in data row(s) {(rows + 1).tolist()}"
        )
    priority = ints["priority"]
    bad = ~np.isin(priority, list(SEGMENTS))
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise ValueError(
            f"priority: must be 0, 1 or 2; bad value(s) {priority[rows].tolist()} in data "
            f"row(s) {(rows + 1).tolist()}"
        )
    day = pd.to_datetime(raw["date"].str.strip(), format="%y%m%d", errors="coerce")
    bad = day.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise ValueError(
            f"date: must be yymmdd; bad value(s) {raw['date'].iloc[rows].tolist()} in data "
            f"row(s) {(rows + 1).tolist()}"
        )
    t = {c: _clock_minutes(raw[c], c) for c in _TIME_COLUMNS}
    vru_entry = t["vru_entry"]
    # a call crossing midnight: a later stamp that reads more than 12 h earlier is the next day
    arrival = t["vru_exit"] + np.where(t["vru_exit"] < vru_entry - 720.0, 1440.0, 0.0)
    q_time = ints["q_time"] / 60.0
    ser_time = ints["ser_time"] / 60.0
    vru_time = ints["vru_time"]
    served = (outcome == "AGENT").to_numpy()
    hang = (outcome == "HANG").to_numpy()
    queued = q_time > 0
    ser_start = t["ser_start"] + np.where(t["ser_start"] < vru_entry - 720.0, 1440.0, 0.0)

    n = n_raw
    service_start = np.full(n, np.nan)
    service_end = np.full(n, np.nan)
    left = np.full(n, np.nan)
    # the recorded durations are the authority: the clock stamps disagree by a second or so
    service_start[served] = arrival[served] + q_time[served]
    service_end[served] = service_start[served] + ser_time[served]
    left[hang] = arrival[hang] + q_time[hang]

    server = raw["server"].str.strip().to_numpy(dtype=object)
    no_server = server == "NO_SERVER"
    server = np.where(served & ~no_server, server, np.array(None, dtype=object))

    flags: dict[str, tuple[np.ndarray, str]] = {
        "negative_vru_time": (
            vru_time < 0,
            "VRU exit before VRU entry; kept, arrival = VRU exit (the VRU entry is unreliable)",
        ),
        "short_service": (
            served & (ser_time * 60 < SHORT_SERVICE_SECONDS),
            f"served in under {SHORT_SERVICE_SECONDS} s; kept as visits, left out of "
            "service-time fits by peakend.calibrate.from_log (min_service)",
        ),
        "served_without_server": (
            served & no_server,
            "outcome AGENT but server NO_SERVER; kept, server unknown (not counted in staffing)",
        ),
        "inconsistent_times": (
            served & (np.abs(ser_start - service_start) > _INCONSISTENT_MINUTES),
            "service start stamp more than 1 min from VRU exit + queue time; kept, times "
            "rebuilt from the recorded durations",
        ),
    }
    issue = np.full(n, "", dtype=object)
    for name, (mask, _) in flags.items():
        issue[mask] = np.where(issue[mask] == "", name, issue[mask] + "," + name)

    phantom = (outcome == "PHANTOM").to_numpy()
    vru_hang = hang & ~queued
    drop = phantom | (vru_hang if vru_hangups == "drop" else np.zeros(n, dtype=bool))
    if vru_hangups == "keep":
        left[vru_hang] = arrival[vru_hang]

    log = pd.DataFrame(
        {
            "day": day.to_numpy(),
            "arrival": arrival,
            "service_start": service_start,
            "service_end": service_end,
            "left": left,
            "segment": pd.Categorical(
                [SEGMENTS[p] for p in priority], categories=list(SEGMENTS.values())
            ),
            "business_type": raw["type"].str.strip().to_numpy(dtype=object),
            "server": server,
            "vru_entry": vru_entry,
            "vru_time": vru_time / 60.0,
            "queue_time": q_time,
            "outcome": outcome.to_numpy(dtype=object),
            "vru_hangup": vru_hang,
            "call_id": ints["call_id"],
            "customer_id": ints["customer_id"],
            "vru_line": raw["vru+line"].str.strip().to_numpy(dtype=object),
            "issue": issue,
        }
    )
    kept = ~drop
    # plain dicts in attrs: pandas compares attrs when it combines frames, and a DataFrame
    # there would make every concat or groupby of the log fail
    issues = {
        name: {"rows": int((mask & kept).sum()), "action": action}
        for name, (mask, action) in flags.items()
    }
    log = log.loc[kept].sort_values(["day", "arrival"], kind="stable").reset_index(drop=True)
    log.attrs["issues"] = issues
    log.attrs["dropped"] = {
        "phantom": int(phantom.sum()),
        "vru_hangup": int(vru_hang.sum()) if vru_hangups == "drop" else 0,
    }
    log.attrs["rows_read"] = n_raw
    log.attrs["weekend_days"] = (4, 5)  # Friday and Saturday in Israel (Monday = 0)
    log.attrs["source"] = ATTRIBUTION
    log.attrs["time_unit"] = "minutes since midnight of day"
    return log


def anonymous_bank(
    path: str | os.PathLike[str] | None = None,
    *,
    vru_hangups: Literal["drop", "keep"] = "drop",
) -> pd.DataFrame:
    """Return the Anonymous Bank call-centre log as a visit log.

    Every call to the call centre of an Israeli bank, 1-14 February 1999, as
    shipped with peakend (xz-compressed, original format), or any file in the
    same original tab-separated format given by ``path``. The shipped file has
    17,456 calls: 143 PHANTOM calls and 1,040 hang-ups in the voice-response unit
    are left out, leaving 16,273 visits (14,405 served, 1,868 who hung up in the
    queue). A call centre is not a
    branch, but it has the mechanics that matter: priority customers, impatient
    callers and staffing by the hour.

    Source: the Technion Service Enterprise Engineering Laboratory (SEELab),
    Avishai Mandelbaum and colleagues; the data analysed in L. Brown, N. Gans,
    A. Mandelbaum, A. Sakov, H. Shen, S. Zeltyn and L. Zhao (2005), "Statistical
    analysis of a telephone call center: a queueing-science perspective",
    Journal of the American Statistical Association 100(469):36-50. The data are
    free for use with the source acknowledged: name it (:data:`ATTRIBUTION`)
    wherever the data or figures derived from them appear.

    Parameters
    ----------
    path : path-like, optional
        A file in the original format (``.xz``/``.gz`` decompressed); None: the
        shipped two weeks.
    vru_hangups : {"drop", "keep"}, default "drop"
        Calls that hung up in the voice-response unit (VRU) before they ever
        queued. ``"drop"``: they are not visits (like a branch customer who
        turns round before taking a ticket, they never join the queue the model
        simulates; their count is in ``attrs["dropped"]``). ``"keep"``: visits
        that left at once (``left == arrival``, a wait of 0).

    Returns
    -------
    pandas.DataFrame
        One row a visit, sorted by day and arrival, with the visit-log columns
        ``day`` (the date, datetime64 at midnight), ``arrival`` (VRU exit, when the
        call asks for an agent), ``service_start``, ``service_end`` (NaN if not
        served), ``left`` (NaN unless the caller hung up unserved), all in minutes
        since midnight of ``day`` (a call after midnight has times above 1440);
        ``segment`` (``priority`` 0 -> ``"unidentified"``, 1 -> ``"regular"``, 2 ->
        ``"priority"``, moved up the queue), ``business_type`` (the original
        ``type``: PS regular, PE regular in English, IN internet, NE stock exchange,
        NW potential new customer, TT call-back request), ``server`` (agent name,
        missing (NA) when not served or not recorded); and the original fields
        ``vru_entry`` (minutes), ``vru_time``, ``queue_time`` (minutes),
        ``outcome`` (AGENT or HANG), ``vru_hangup``, ``call_id``, ``customer_id``,
        ``vru_line`` and ``issue`` (comma-separated data-error flags, "" if none).

        Service start and end are rebuilt from the recorded durations
        (arrival + queue time, + service time), since the clock stamps disagree
        with them by about a second. PHANTOM calls (fate unknown) are dropped.
        ``attrs`` holds ``"issues"`` (issue -> ``{"rows": count, "action": what was
        done}``; ``pandas.DataFrame(log.attrs["issues"]).T`` makes it a table),
        ``"dropped"`` (counts of PHANTOM calls and VRU hang-ups left out),
        ``"rows_read"``, ``"weekend_days"`` ((4, 5): Friday and Saturday, Monday
        = 0), ``"source"`` (the attribution) and ``"time_unit"``.

    Raises
    ------
    ValueError
        If the file misses a column of the original format or a value cannot be
        parsed (the message names the column and the data rows).

    Examples
    --------
    >>> import peakend as pe
    >>> log = pe.datasets.anonymous_bank()
    >>> sorted(log["segment"].unique())
    ['priority', 'regular', 'unidentified']
    >>> int(log.attrs["dropped"]["phantom"]) > 0
    True
    """
    if path is None:
        ref = resources.files("peakend.datasets") / "data" / _SHIPPED
        with ref.open("rb") as fh, lzma.open(fh, "rt", encoding="utf-8") as text:
            return read_anonymous_bank(cast(IO[str], text), vru_hangups=vru_hangups)
    p = os.fspath(path)
    if p.endswith(".xz"):
        with lzma.open(p, "rt", encoding="utf-8") as text:
            return read_anonymous_bank(cast(IO[str], text), vru_hangups=vru_hangups)
    return read_anonymous_bank(p, vru_hangups=vru_hangups)
