"""Visit logs: read, map columns, convert times and validate (naming the column and rows)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LOG_COLUMNS", "read_log"]

#: Standard visit-log columns -> description (times in minutes since midnight of ``day``).
LOG_COLUMNS: dict[str, str] = {
    "day": "the visit's date (datetime64 at midnight, a date, or text like 1999-02-01)",
    "arrival": "arrival (joins the queue), minutes since midnight of day, or a datetime",
    "service_start": "service start, same unit; empty if never served",
    "service_end": "service end, same unit; empty if never served",
    "left": "when a customer who was not served gave up, same unit; empty otherwise",
    "segment": "customer segment name",
    "business_type": "business type name (missing column: one type 'all')",
    "server": "who served the visit (teller / agent id); empty if not served",
}
_REQUIRED = ("day", "arrival", "segment")
_TIMES = ("arrival", "service_start", "service_end", "left")
#: Latest time of a visit accepted, minutes since midnight of its day (two days).
MAX_MINUTES = 2880.0
_SHOW = 5


def _rows(mask: np.ndarray, index: pd.Index) -> str:
    """Describe the first offending rows by their index labels."""
    hits = np.flatnonzero(mask)
    labels = [index[i] for i in hits[:_SHOW]]
    more = f" and {len(hits) - _SHOW} more" if len(hits) > _SHOW else ""
    return f"row(s) {labels}{more}"


def _fail(column: str, what: str, mask: np.ndarray, index: pd.Index) -> None:
    if mask.any():
        raise ValueError(f"visit log, column {column!r}: {what}; {_rows(mask, index)}")


def _read_file(path: str | os.PathLike[str], sep: str | None) -> pd.DataFrame:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ValueError(f"log_or_path: no such file {p!r}")
    if sep is None:
        stem = p[:-3] if p.endswith(".gz") else p[:-3] if p.endswith(".xz") else p
        sep = "\t" if stem.endswith((".tsv", ".tab", ".txt")) else ","
    return pd.read_csv(p, sep=sep, keep_default_na=True)


def _days(values: pd.Series, index: pd.Index) -> pd.Series:
    na = values.isna().to_numpy()
    _fail("day", "must not be empty (NaN/NaT)", na, index)
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values
    else:
        days = pd.to_datetime(values, errors="coerce")
        _fail(
            "day",
            "must be a date (datetime, date or text like 1999-02-01)",
            days.isna().to_numpy(),
            index,
        )
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_localize(None)
    return days.dt.normalize().astype("datetime64[ns]")


def _minutes(values: pd.Series, days: pd.Series, column: str, index: pd.Index) -> np.ndarray:
    """Convert times to minutes since midnight of ``days``; datetimes are converted."""
    if pd.api.types.is_datetime64_any_dtype(values):
        v = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        delta = v.astype("datetime64[ns]") - days
        return (delta.dt.total_seconds() / 60.0).to_numpy(dtype=float)
    if pd.api.types.is_bool_dtype(values):
        _fail(
            column,
            "must be minutes (numbers) or datetimes, got booleans",
            np.ones(len(values), bool),
            index,
        )
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        num = pd.to_numeric(values, errors="coerce")
        bad = num.isna().to_numpy() & values.notna().to_numpy()
        if bad.any():
            stamps = pd.to_datetime(values, errors="coerce")
            if not (stamps.isna().to_numpy() & values.notna().to_numpy()).any():
                return _minutes(stamps, days, column, index)
        _fail(column, "must be minutes (numbers) or datetimes", bad, index)
        return num.to_numpy(dtype=float)
    return values.to_numpy(dtype=float)


def read_log(
    log_or_path: pd.DataFrame | str | os.PathLike[str],
    columns: Mapping[str, str] | None = None,
    *,
    sep: str | None = None,
    keep_extra: bool = True,
) -> pd.DataFrame:
    """Read and validate a visit log: one row a visit, times in minutes since midnight.

    Parameters
    ----------
    log_or_path : pandas.DataFrame or path
        The log, or a CSV/TSV file (``.tsv``, ``.tab``, ``.txt``: tab-separated,
        else comma; ``.gz``/``.xz`` decompressed).
    columns : mapping of str to str, optional
        Your column name -> standard name (``{"ticket_time": "arrival"}``); see
        :data:`LOG_COLUMNS` for the standard names.
    sep : str, optional
        Field separator of a file; None: from the file name.
    keep_extra : bool, default True
        Keep columns that are not standard visit-log columns (unchanged).

    Returns
    -------
    pandas.DataFrame
        The standard columns first (``day`` as datetime64 at midnight; ``arrival``,
        ``service_start``, ``service_end``, ``left`` as float minutes since
        midnight of ``day``, NaN when empty; ``segment``, ``business_type`` and
        ``server`` as text, ``server`` missing (NA) when empty), then any extra columns; the
        index and ``attrs`` of a DataFrame are kept. Datetimes are converted to
        minutes since midnight of ``day`` (``day`` defaults to the arrival's date
        when the log has datetimes but no ``day`` column).

    Raises
    ------
    ValueError
        For a log that cannot be used; the message names the column and the
        first offending rows (index labels): a missing or unmapped column, empty
        or unparsable days and times, times outside 0-2880 minutes, service end
        before start, service before arrival, a visit both served and left (or
        neither), a server named for an unserved visit, empty segment or
        business-type names.

    Examples
    --------
    >>> import pandas as pd
    >>> import peakend as pe
    >>> raw = pd.DataFrame({"date": ["2024-03-04"] * 2, "ticket": [540.0, 545.0],
    ...                     "called": [541.0, None], "done": [548.0, None],
    ...                     "gave_up": [None, 560.0], "kind": ["vip", "ordinary"]})
    >>> log = pe.calibrate.read_log(raw, columns={"date": "day", "ticket": "arrival",
    ...     "called": "service_start", "done": "service_end", "gave_up": "left",
    ...     "kind": "segment"})
    >>> log["business_type"].tolist()
    ['all', 'all']
    """
    if isinstance(log_or_path, pd.DataFrame):
        raw = log_or_path
    elif isinstance(log_or_path, str | os.PathLike):
        raw = _read_file(log_or_path, sep)
    else:
        raise ValueError(
            f"log_or_path: must be a pandas DataFrame or a path to a CSV/TSV file, got "
            f"{type(log_or_path).__name__}"
        )
    mapping = dict(columns or {})
    unknown_src = [c for c in mapping if c not in raw.columns]
    if unknown_src:
        raise ValueError(
            f"columns: {unknown_src} not in the log; its columns are {list(raw.columns)}"
        )
    unknown_dst = sorted(set(mapping.values()) - set(LOG_COLUMNS))
    if unknown_dst:
        raise ValueError(
            f"columns: unknown standard name(s) {unknown_dst}; allowed: {list(LOG_COLUMNS)}"
        )
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise ValueError(f"columns: several columns mapped to {doubled}; map one each")
    df = raw.rename(columns=mapping)
    clash = [c for c in df.columns[df.columns.duplicated()]]
    if clash:
        raise ValueError(f"columns: the log has duplicate column(s) {sorted(set(clash))}")
    if len(df) == 0:
        raise ValueError("visit log: has no rows (at least one visit needed)")
    index = df.index
    if "day" not in df.columns and "arrival" in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df["arrival"]):
            df = df.assign(day=df["arrival"].dt.normalize())
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(
            f"visit log: required column(s) {missing} missing (map yours with columns=...); "
            f"the log has {list(raw.columns)}"
        )
    days = _days(df["day"], index)
    out: dict[str, Any] = {"day": days}
    for col in _TIMES:
        if col in df.columns:
            out[col] = _minutes(df[col], days, col, index)
        else:
            out[col] = np.full(len(df), np.nan)
    arrival = out["arrival"]
    _fail("arrival", "must not be empty (every visit arrives)", np.isnan(arrival), index)
    for col in _TIMES:
        v = out[col]
        _fail(col, "must be finite", np.isinf(v), index)
        _fail(
            col,
            f"must be within 0-{MAX_MINUTES:g} minutes since midnight of day",
            ~np.isnan(v) & ((v < 0) | (v > MAX_MINUTES)),
            index,
        )
    s, e, left = out["service_start"], out["service_end"], out["left"]
    served = ~np.isnan(s)
    _fail("service_end", "missing for a visit with a service_start", served & np.isnan(e), index)
    _fail("service_start", "missing for a visit with a service_end", ~served & ~np.isnan(e), index)
    _fail("service_end", "before service_start", served & (e < s), index)
    _fail("service_start", "before arrival", served & (s < arrival), index)
    _fail(
        "left",
        "set for a visit that was served (service_start also set)",
        served & ~np.isnan(left),
        index,
    )
    _fail("left", "before arrival", ~np.isnan(left) & (left < arrival), index)
    _fail(
        "left",
        "empty for a visit that was not served (set service_start/service_end or left)",
        ~served & np.isnan(left),
        index,
    )
    for col in ("segment", "business_type"):
        if col not in df.columns:
            out[col] = np.full(len(df), "all", dtype=object)
            continue
        vals = df[col]
        bad = vals.isna().to_numpy() | (vals.astype(str).str.strip() == "").to_numpy()
        _fail(col, "must not be empty", bad, index)
        out[col] = vals.astype(str).str.strip().to_numpy(dtype=object)
    if "server" in df.columns:
        sv = df["server"]
        empty = sv.isna().to_numpy() | (sv.astype(str).str.strip() == "").to_numpy()
        _fail("server", "named for a visit that was not served", ~served & ~empty, index)
        names = sv.astype(str).str.strip().to_numpy(dtype=object)
        out["server"] = np.where(empty, np.array(None, dtype=object), names)
    else:
        out["server"] = np.full(len(df), None, dtype=object)
    result = pd.DataFrame({c: out[c] for c in LOG_COLUMNS}, index=index)
    if keep_extra:
        extra = [c for c in df.columns if c not in LOG_COLUMNS]
        if extra:
            result = pd.concat([result, df[extra]], axis=1)
    result.attrs.update(raw.attrs)
    return result
