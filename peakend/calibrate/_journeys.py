"""Turn simulated journeys into a visit log (for parameter-recovery checks and what-ifs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from peakend.journeys import Journeys

__all__ = ["log_from_journeys"]


def log_from_journeys(
    days: Journeys | Sequence[Journeys], start_date: str = "2000-01-03"
) -> pd.DataFrame:
    """Write simulated days as a visit log, one row a customer.

    Parameters
    ----------
    days : Journeys or sequence of Journeys
        Simulated days (:func:`peakend.simulate`); each day (each ``day`` index
        within each Journeys, in order) gets the next calendar date.
    start_date : str, default "2000-01-03"
        Date of the first day (a Monday by default).

    Returns
    -------
    pandas.DataFrame
        A visit log (see :func:`peakend.calibrate.read_log`): ``day``, ``arrival``,
        ``service_start``, ``service_end``, ``left`` (minutes since midnight: the
        simulation's minutes from opening plus the opening clock time),
        ``segment``, ``business_type`` and ``server`` (the counter's name); balked
        and reneged customers have ``left`` set.

    Examples
    --------
    >>> import peakend as pe
    >>> day = pe.simulate(pe.scenarios.mmc(1.0, 0.3, 4, 3), seed=1)
    >>> log = pe.calibrate.log_from_journeys(day)
    >>> bool((log["arrival"] >= 0).all())
    True
    """
    items = [days] if isinstance(days, Journeys) else list(days)
    if not items or not all(isinstance(j, Journeys) for j in items):
        raise ValueError("days: must be a Journeys or a non-empty sequence of Journeys")
    date0 = pd.Timestamp(start_date).normalize()
    frames = []
    offset = 0
    for j in items:
        c = j.customers
        opening = 60.0 * float(j.meta.get("opening_clock_hours", 0.0))
        day_idx = np.asarray(c["day"], dtype=int)
        uniq = np.unique(day_idx)
        pos = np.searchsorted(uniq, day_idx)
        left_mask = np.asarray(c["balked"]) | np.asarray(c["reneged"])
        served = ~np.isnan(c["service_start"])
        frames.append(
            pd.DataFrame(
                {
                    "day": date0 + pd.to_timedelta(offset + pos, unit="D"),
                    "arrival": c["arrival"] + opening,
                    "service_start": c["service_start"] + opening,
                    "service_end": c["service_end"] + opening,
                    "left": np.where(left_mask, c["arrival"] + c["wait"] + opening, np.nan),
                    "segment": np.asarray(j.segments, dtype=object)[c["segment"]],
                    "business_type": np.asarray(j.business_types, dtype=object)[c["business"]],
                    "server": np.where(
                        served,
                        np.asarray(j.counters, dtype=object)[np.maximum(c["counter"], 0)],
                        None,
                    ),
                }
            )
        )
        offset += uniq.size
    return pd.concat(frames, ignore_index=True)
