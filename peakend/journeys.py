"""The columnar record of simulated customer journeys.

A :class:`Journeys` holds one or many simulated branch days as plain numpy
arrays: one row a customer in :attr:`Journeys.customers`, one row an episode (a
touchpoint visit) in :attr:`Journeys.episodes`, with ragged journeys stored as
CSR arrays (``offsets``). It is what :func:`peakend.simulate` returns and what
the scorer, the metrics and the plots read. It never holds live SimPy objects.

The schema (every column, its dtype and unit) is documented in
``docs/reference/journeys.md`` and pinned by ``tests/test_journeys.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from peakend.plots import JourneysPlot

__all__ = [
    "CUSTOMER_COLUMNS",
    "EPISODE_COLUMNS",
    "QUEUE_COLUMNS",
    "Journeys",
    "load_journeys",
]

SCHEMA_VERSION = 1

#: Per-customer columns: name -> (dtype, fill value when the producer omits it, description).
CUSTOMER_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "day": ("int32", 0, "index of the simulated day (replication) within this record"),
    "customer": ("int32", None, "customer number within its day, in arrival order from 0"),
    "segment": ("int16", None, "code into Journeys.segments"),
    "business": ("int16", 0, "code into Journeys.business_types"),
    "appointment": ("bool", False, "the customer booked a time slot"),
    "arrival": ("float64", None, "arrival time, minutes from opening"),
    "queue_on_arrival": ("int32", 0, "hall queue shown when this customer took a ticket"),
    "queue_ahead": (
        "int32",
        0,
        "customers waiting ahead of this one in its own priority order when it took a ticket",
    ),
    "expected_wait": ("float64", np.nan, "wait the customer expects, minutes"),
    "wait": ("float64", None, "time in queue to service start or to reneging, minutes (0: balk)"),
    "perceived_wait": ("float64", np.nan, "wait as perceived, minutes"),
    "slips": ("int32", 0, "later arrivals served before this customer while waiting"),
    "balked": ("bool", False, "left at once on seeing the queue"),
    "reneged": ("bool", False, "left the queue after waiting"),
    "counter": ("int16", -1, "code into Journeys.counters of the serving counter, -1: not served"),
    "service_start": ("float64", np.nan, "service start, minutes from opening; NaN: not served"),
    "service_end": ("float64", np.nan, "service end, minutes from opening; NaN: not served"),
    "departure": ("float64", None, "time of leaving the branch, minutes from opening"),
    "gift_cost": ("float64", 0.0, "cost of the farewell gift given, currency units"),
    "remembered": ("float64", np.nan, "remembered value under the default rule, -10..10"),
}

#: Per-episode columns (CSR values): name -> (dtype, fill value, description).
EPISODE_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "touchpoint": ("int16", None, "code into Journeys.touchpoints"),
    "start": ("float64", None, "episode start, minutes from opening"),
    "end": ("float64", None, "episode end, minutes from opening (end > start)"),
    "experience": ("float64", np.nan, "experience level on the touchpoint's scale (0..10)"),
    "expectation": ("float64", np.nan, "expectation level on the same scale (0..10)"),
    "affect": ("float64", None, "momentary affect v(experience - expectation), -10..10"),
}

#: Hall-queue step series: the queue length holds from ``time`` until the next row.
QUEUE_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "day": ("int32", 0, "index of the simulated day"),
    "time": ("float64", None, "minutes from opening"),
    "length": ("int32", None, "customers waiting in the hall from this time on"),
}

#: Stage visits, one row a visit, in each customer's route order: name -> (dtype, fill,
#: description). A customer who balks at a stage has a row there with no service start.
STAGE_VISIT_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "day": ("int32", 0, "index of the simulated day"),
    "customer": ("int32", None, "customer number within the day (the customers column)"),
    "stage": ("int16", None, "code into Journeys.stages (the stage's name)"),
    "queue_join": ("float64", None, "time of joining the stage's queue, minutes from opening"),
    "service_start": ("float64", np.nan, "service start at the stage, minutes; NaN: not served"),
    "service_end": ("float64", np.nan, "service end at the stage, minutes; NaN: not served"),
    "left": ("float64", np.nan, "time an abandoning customer left the queue, minutes; NaN"),
    "counter": ("int16", -1, "code into Journeys.counters of the serving counter, -1: none"),
    "abandoned": ("bool", False, "balked or reneged at this stage (the journey ended here)"),
}

#: Queue-length step series of the further stages (the first stage's is ``queue``, the
#: hall series): one row a change, per day and stage in time order; the length holds from
#: ``time`` until the stage's next row. Each stage's series starts at (0, 0).
STAGE_QUEUE_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "day": ("int32", 0, "index of the simulated day"),
    "stage": ("int16", None, "code into Journeys.stages (a further stage: 1 and up)"),
    "time": ("float64", None, "minutes from opening"),
    "length": ("int32", None, "customers waiting in the stage's queue from this time on"),
}

_TABLES = ("segments", "business_types", "touchpoints", "counters")


def _columns(
    given: Mapping[str, Any] | None,
    spec: Mapping[str, tuple[str, Any, str]],
    n: int | None,
    what: str,
) -> dict[str, np.ndarray]:
    """Check and convert a mapping of columns against a schema.

    Parameters
    ----------
    given : mapping of str to array_like or None
        The columns supplied by the producer.
    spec : mapping
        The schema: name -> (dtype, fill, description); ``fill is None`` marks a
        required column.
    n : int or None
        Required length; ``None`` takes the length of the first column given.
    what : str
        Name of the argument, for error messages.

    Returns
    -------
    dict of str to numpy.ndarray
        One 1-D array per schema column, in schema order, of the schema dtype.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ValueError(f"{what}: unknown column(s) {unknown}; valid columns are {list(spec)}")
    out: dict[str, np.ndarray] = {}
    for name, (dtype, fill, _) in spec.items():
        if name in given:
            arr = np.asarray(given[name])
            if arr.ndim != 1:
                raise ValueError(f"{what}[{name!r}] must be 1-D, got shape {arr.shape}")
            if n is None:
                n = arr.shape[0]
            if arr.shape[0] != n:
                raise ValueError(
                    f"{what}[{name!r}] has length {arr.shape[0]}, expected {n} (one per row)"
                )
            if arr.dtype.kind == "f" and arr.size and np.dtype(dtype).kind in "iub":
                if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                    raise ValueError(f"{what}[{name!r}] must hold whole numbers ({dtype})")
            out[name] = np.ascontiguousarray(arr, dtype=dtype)
        elif fill is None:
            raise ValueError(f"{what} is missing the required column {name!r}")
    if n is None:
        n = 0
    for name, (dtype, fill, _) in spec.items():
        if name not in out:
            out[name] = np.full(n, fill, dtype=dtype)
    return {name: out[name] for name in spec}


def _checked_columns(
    given: Mapping[str, Any], spec: Mapping[str, tuple[str, Any, str]], what: str
) -> dict[str, np.ndarray]:
    """:func:`_columns` with the length taken from the columns given."""
    return _columns(given, spec, None, what)


_SPEC_DTYPES: dict[int, tuple[Mapping[str, tuple[str, Any, str]], dict[str, np.dtype[Any]]]] = {}


def _spec_dtypes(spec: Mapping[str, tuple[str, Any, str]]) -> dict[str, np.dtype[Any]]:
    """Return the schema's dtypes as ``numpy.dtype`` objects (parsed once per schema)."""
    hit = _SPEC_DTYPES.get(id(spec))
    if hit is None or hit[0] is not spec or len(hit[1]) != len(spec):
        hit = _SPEC_DTYPES[id(spec)] = (spec, {k: np.dtype(v[0]) for k, v in spec.items()})
    return hit[1]


def _trusted_columns(
    given: Mapping[str, Any], spec: Mapping[str, tuple[str, Any, str]], what: str
) -> dict[str, np.ndarray]:
    """:func:`_columns` for trusted producers (``validate=False``): names and lengths only.

    The columns are converted to the schema dtypes and missing ones filled, but the
    per-column checks of :func:`_columns` (1-D, whole numbers in integer columns) are
    left to the producer, which builds them from arrays of the right kinds. An array
    of the schema's dtype is kept as it is (what ``numpy.asarray`` returns for it).
    """
    dtypes = _spec_dtypes(spec)
    if not given.keys() <= dtypes.keys():
        unknown = sorted(set(given) - set(spec))
        raise ValueError(f"{what}: unknown column(s) {unknown}; valid columns are {list(spec)}")
    out: dict[str, np.ndarray] = {}
    n = -1
    for name, dtype in dtypes.items():
        v = given.get(name)
        if v is None:
            continue
        arr = out[name] = (
            v if type(v) is np.ndarray and v.dtype == dtype else np.asarray(v, dtype=dtype)
        )
        if n < 0:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise ValueError(
                f"{what}[{name!r}] has length {arr.shape[0]}, expected {n} (one per row)"
            )
    if len(out) == len(spec):
        return out
    return _columns(out, spec, None, what)  # fills the missing ones (and checks them all)


def _day_customer_keys(table: Mapping[str, np.ndarray]) -> np.ndarray:
    """One int64 key per row of a table with ``day`` and ``customer`` columns."""
    return table["day"].astype(np.int64) << 32 | table["customer"].astype(np.int64)

class Journeys:
    """Columnar record of simulated customer journeys (one or many days).

    Parameters
    ----------
    customers : mapping of str to array_like
        Per-customer columns, equal lengths (see :data:`CUSTOMER_COLUMNS`).
        Required: ``customer``, ``segment``, ``arrival``, ``wait``, ``departure``;
        the others are filled with their documented defaults when omitted.
    episodes : mapping of str to array_like
        Per-episode columns, equal lengths (see :data:`EPISODE_COLUMNS`).
        Required: ``touchpoint``, ``start``, ``end``, ``affect``.
    offsets : array_like of int
        CSR offsets, length ``n_customers + 1``: customer ``i``'s episodes are
        rows ``offsets[i]:offsets[i+1]``.
    segments, business_types, touchpoints, counters : sequence of str
        Name tables that the integer codes index into.
    queue : mapping of str to array_like, optional
        Hall-queue step series (see :data:`QUEUE_COLUMNS`).
    meta : mapping, optional
        JSON-serialisable facts about the run (scenario name, seed, opening and
        closing minutes, default memory rule, library version).
    validate : bool, default True
        Check codes, offsets and episode times. Turn off only for trusted,
        already-validated data (for example when selecting rows).
    stage_visits : mapping of str to array_like, optional
        Stage visits (see :data:`STAGE_VISIT_COLUMNS`).
    stages : sequence of str, optional
        Stage names that ``stage`` codes index into, in visiting order.
    stage_queue : mapping of str to array_like, optional
        Queue-length step series of the further stages (see
        :data:`STAGE_QUEUE_COLUMNS`); empty for a one-stage scenario.

    Attributes
    ----------
    customers : mapping of str to numpy.ndarray
        Read-only view of the per-customer columns.
    episodes : mapping of str to numpy.ndarray
        Read-only view of the per-episode columns.
    offsets : numpy.ndarray of int64
        CSR offsets into the episode columns.
    queue : mapping of str to numpy.ndarray
        Read-only view of the hall-queue step series.
    stage_queue : mapping of str to numpy.ndarray
        Read-only view of the further stages' queue-length step series.

    Examples
    --------
    >>> import numpy as np
    >>> j = Journeys(
    ...     customers={"customer": [0, 1], "segment": [0, 1], "arrival": [0.0, 5.0],
    ...                "wait": [0.0, 2.0], "departure": [10.0, 12.0]},
    ...     episodes={"touchpoint": [0, 1, 0], "start": [0.0, 1.0, 5.0],
    ...               "end": [1.0, 10.0, 12.0], "affect": [1.0, -2.0, 3.0]},
    ...     offsets=[0, 2, 3],
    ...     segments=["ordinary", "vip"], business_types=["deposit"],
    ...     touchpoints=["entrance", "waiting"], counters=["general-1"],
    ... )
    >>> len(j), j.n_episodes
    (2, 3)
    >>> j.segment("vip").customers["arrival"].tolist()
    [5.0]
    """

    __slots__ = (
        "_customers",
        "_episodes",
        "_queue",
        "_stage_queue",
        "_stage_visits",
        "business_types",
        "counters",
        "meta",
        "offsets",
        "segments",
        "stages",
        "touchpoints",
    )

    def __init__(
        self,
        customers: Mapping[str, Any],
        episodes: Mapping[str, Any],
        offsets: Any,
        *,
        segments: Sequence[str],
        business_types: Sequence[str],
        touchpoints: Sequence[str],
        counters: Sequence[str],
        queue: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
        validate: bool = True,
        stage_visits: Mapping[str, Any] | None = None,
        stages: Sequence[str] = (),
        stage_queue: Mapping[str, Any] | None = None,
    ) -> None:
        columns = _checked_columns if validate else _trusted_columns
        cust = columns(customers, CUSTOMER_COLUMNS, "customers")
        n = cust["customer"].shape[0]
        off = np.asarray(offsets)
        if off.ndim != 1 or off.shape[0] != n + 1:
            raise ValueError(
                f"offsets must be 1-D of length n_customers + 1 = {n + 1}, got shape {off.shape}"
            )
        if off.dtype.kind not in "iu":
            raise ValueError(f"offsets must be integers, got dtype {off.dtype}")
        off = np.ascontiguousarray(off, dtype=np.int64)
        epis = columns(episodes, EPISODE_COLUMNS, "episodes")
        if queue is None:
            q = _columns({"time": [], "length": []}, QUEUE_COLUMNS, None, "queue")
        else:
            q = columns(queue, QUEUE_COLUMNS, "queue")
        self._customers = cust
        self._episodes = epis
        self._queue = q
        if stage_visits is None:
            self._stage_visits = _columns(
                {"customer": [], "stage": [], "queue_join": []},
                STAGE_VISIT_COLUMNS,
                None,
                "stage_visits",
            )
        else:
            self._stage_visits = columns(stage_visits, STAGE_VISIT_COLUMNS, "stage_visits")
        if stage_queue is None:  # none (a one-stage day): empty columns of the schema
            self._stage_queue = {
                k: np.zeros(0, dtype=v) for k, v in _spec_dtypes(STAGE_QUEUE_COLUMNS).items()
            }
        else:
            self._stage_queue = columns(stage_queue, STAGE_QUEUE_COLUMNS, "stage_queue")
        self.stages = tuple(str(s) for s in stages)
        self.offsets = off
        self.segments = tuple(str(s) for s in segments)
        self.business_types = tuple(str(s) for s in business_types)
        self.touchpoints = tuple(str(s) for s in touchpoints)
        self.counters = tuple(str(s) for s in counters)
        self.meta: dict[str, Any] = dict(meta or {})
        if validate:
            self.validate()

    # ------------------------------------------------------------------ views
    @property
    def customers(self) -> Mapping[str, np.ndarray]:
        """Per-customer columns, read-only mapping of name to array."""
        return MappingProxyType(self._customers)

    @property
    def episodes(self) -> Mapping[str, np.ndarray]:
        """Per-episode columns (CSR values), read-only mapping of name to array."""
        return MappingProxyType(self._episodes)

    @property
    def queue(self) -> Mapping[str, np.ndarray]:
        """Hall-queue step series, read-only mapping of name to array."""
        return MappingProxyType(self._queue)

    @property
    def stage_queue(self) -> Mapping[str, np.ndarray]:
        """Further stages' queue-length step series (see :data:`STAGE_QUEUE_COLUMNS`), read-only."""
        return MappingProxyType(self._stage_queue)

    @property
    def stage_visits(self) -> Mapping[str, np.ndarray]:
        """Stage visits (see :data:`STAGE_VISIT_COLUMNS`), read-only mapping of name to array."""
        return MappingProxyType(self._stage_visits)

    def _visit_rows(self, idx: np.ndarray) -> np.ndarray:
        """Rows of ``stage_visits`` of the customers at rows ``idx``, in record order."""
        sv = self._stage_visits
        if not sv["customer"].size:
            return np.zeros(0, dtype=np.int64)
        c = self._customers
        chosen = _day_customer_keys(c)[idx]
        keys = _day_customer_keys(sv)
        return np.flatnonzero(np.isin(keys, chosen))

    @property
    def n_customers(self) -> int:
        """Number of customers (journeys)."""
        return int(self._customers["customer"].shape[0])

    @property
    def n_episodes(self) -> int:
        """Number of episodes over all journeys."""
        return int(self._episodes["touchpoint"].shape[0])

    @property
    def plot(self) -> JourneysPlot:
        """Plots of this record: ``j.plot.journey(i)``, ``j.plot.queue(stage=None, ax=None)``.

        Returns
        -------
        peakend.plots.JourneysPlot
            An accessor whose methods draw this record and return the matplotlib Axes
            (matplotlib is imported on first use; it is an optional dependency).
        """
        from peakend.plots import JourneysPlot

        return JourneysPlot(self)

    @property
    def n_days(self) -> int:
        """Number of distinct days in the record.

        A day counts when it has customers or a hall-queue series: a simulated day with no
        arrivals is one day with no customers (its queue series is the empty hall).
        """
        return int(np.union1d(self._customers["day"], self._queue["day"]).shape[0])

    def __len__(self) -> int:
        return self.n_customers

    @property
    def abandoned(self) -> np.ndarray:
        """Boolean per customer: balked or reneged."""
        return self._customers["balked"] | self._customers["reneged"]

    @property
    def served(self) -> np.ndarray:
        """Boolean per customer: reached a counter."""
        return self._customers["counter"] >= 0

    @property
    def lengths(self) -> np.ndarray:
        """Number of episodes per journey (int64)."""
        return np.diff(self.offsets)

    @property
    def durations(self) -> np.ndarray:
        """Episode durations ``end - start``, minutes."""
        return self._episodes["end"] - self._episodes["start"]

    @property
    def episode_customer(self) -> np.ndarray:
        """Row index (into the customer columns) of each episode's customer."""
        return np.repeat(np.arange(self.n_customers, dtype=np.int64), self.lengths)

    def code(self, table: str, name: str) -> int:
        """Return the integer code of ``name`` in a name table.

        Parameters
        ----------
        table : {"segments", "business_types", "touchpoints", "counters"}
            Which name table.
        name : str
            The name to look up.

        Returns
        -------
        int
            Its index in the table.
        """
        if table not in _TABLES:
            raise ValueError(f"table must be one of {list(_TABLES)}, got {table!r}")
        names: tuple[str, ...] = getattr(self, table)
        try:
            return names.index(name)
        except ValueError:
            raise ValueError(f"{name!r} is not in {table}; valid names are {list(names)}") from None

    # ------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check codes, offsets and episode times; raise ``ValueError`` if broken."""
        off = self.offsets
        n_ep = self.n_episodes
        if off[0] != 0:
            raise ValueError(f"offsets[0] must be 0, got {off[0]}")
        if off[-1] != n_ep:
            raise ValueError(f"offsets[-1] must equal the number of episodes {n_ep}, got {off[-1]}")
        if np.any(np.diff(off) < 0):
            raise ValueError("offsets must be non-decreasing")
        c, e = self._customers, self._episodes
        for col, table in (
            (c["segment"], self.segments),
            (c["business"], self.business_types),
            (e["touchpoint"], self.touchpoints),
        ):
            if col.size and (col.min() < 0 or col.max() >= len(table)):
                raise ValueError(f"codes must lie in 0..{len(table) - 1} for a table {table}")
        if c["counter"].size and (
            c["counter"].min() < -1 or c["counter"].max() >= len(self.counters)
        ):
            raise ValueError(f"counter codes must lie in -1..{len(self.counters) - 1}")
        if n_ep and not np.all(e["end"] > e["start"]):
            bad = int(np.argmin(e["end"] > e["start"]))
            raise ValueError(
                f"episode {bad}: end must be > start, got {e['start'][bad]}..{e['end'][bad]}"
            )
        if not np.all(np.isfinite(e["affect"])):
            raise ValueError("episodes['affect'] must be finite")
        sv = self._stage_visits
        if sv["stage"].size and (sv["stage"].min() < 0 or sv["stage"].max() >= len(self.stages)):
            raise ValueError(f"stage_visits['stage'] codes must lie in 0..{len(self.stages) - 1}")
        if sv["counter"].size and (
            sv["counter"].min() < -1 or sv["counter"].max() >= len(self.counters)
        ):
            raise ValueError(
                f"stage_visits['counter'] codes must lie in -1..{len(self.counters) - 1}"
            )
        sq = self._stage_queue["stage"]
        if sq.size and (sq.min() < 1 or sq.max() >= len(self.stages)):
            raise ValueError(
                f"stage_queue['stage'] codes must lie in 1..{len(self.stages) - 1} (further stages)"
            )

    # --------------------------------------------------------------- selection
    def select(self, rows: Any) -> Journeys:
        """Return the journeys of some customers, episodes and all.

        Parameters
        ----------
        rows : array_like of bool or int
            A boolean mask of length ``n_customers`` or integer row indices
            (kept in the order given).

        Returns
        -------
        Journeys
            A new record; the queue series and name tables are kept whole.
        """
        idx = np.asarray(rows)
        if idx.dtype == bool:
            if idx.shape != (self.n_customers,):
                raise ValueError(
                    f"rows: a boolean mask must have shape ({self.n_customers},), got {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        elif idx.dtype.kind not in "iu":
            raise ValueError(f"rows must be a boolean mask or integer indices, got {idx.dtype}")
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < -self.n_customers or idx.max() >= self.n_customers):
            raise ValueError(f"rows: indices must lie in 0..{self.n_customers - 1}")
        idx = np.where(idx < 0, idx + self.n_customers, idx)
        starts = self.offsets[idx]
        lengths = self.offsets[idx + 1] - starts
        new_off = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_off[1:])
        # episode rows: for each chosen journey, starts[k] + 0..lengths[k]-1, no Python loop
        ep_rows = np.repeat(starts - new_off[:-1], lengths) + np.arange(new_off[-1], dtype=np.int64)
        return Journeys(
            {k: v[idx] for k, v in self._customers.items()},
            {k: v[ep_rows] for k, v in self._episodes.items()},
            new_off,
            segments=self.segments,
            business_types=self.business_types,
            touchpoints=self.touchpoints,
            counters=self.counters,
            queue=self._queue,
            meta=self.meta,
            validate=False,
            stage_visits={k: v[self._visit_rows(idx)] for k, v in self._stage_visits.items()},
            stages=self.stages,
            stage_queue=self._stage_queue,
        )

    def segment(self, name: str) -> Journeys:
        """Return the journeys of one customer segment, by name."""
        return self.select(self._customers["segment"] == self.code("segments", name))

    def day(self, index: int) -> Journeys:
        """Return the journeys of one day, with that day's queue series only."""
        sub = self.select(self._customers["day"] == index)
        keep = self._queue["day"] == index
        sub._queue = {k: v[keep] for k, v in self._queue.items()}
        keep = self._stage_queue["day"] == index
        sub._stage_queue = {k: v[keep] for k, v in self._stage_queue.items()}
        return sub

    # ----------------------------------------------------------------- scoring
    def score(self, rule: Any = "peak_end", **params: Any) -> np.ndarray:
        """Score every journey with a memory rule.

        Parameters
        ----------
        rule : str or rule object, default "peak_end"
            A rule name from :data:`peakend.memory.RULES` or a rule object.
        **params
            Parameters of the rule (see :func:`peakend.score`).

        Returns
        -------
        numpy.ndarray
            One remembered value per customer (affect scale -10..10 for the
            averaging rules; affect x minutes for ``integral``).
        """
        from peakend.memory import score

        return score(
            self._episodes["affect"], self.offsets, durations=self.durations, rule=rule, **params
        )

    # ------------------------------------------------------------ combination
    @classmethod
    def concat(cls, parts: Sequence[Journeys], *, renumber_days: bool = True) -> Journeys:
        """Concatenate records, for example many simulated days.

        Parameters
        ----------
        parts : sequence of Journeys
            Records with identical name tables.
        renumber_days : bool, default True
            Give the days of each part new consecutive indices (part ``k``'s day
            ``d`` becomes ``d + sum of earlier parts' day counts``), so days stay
            distinct. With False the ``day`` columns are kept as they are.

        Returns
        -------
        Journeys
            One record; ``meta`` is taken from the first part, with ``n_parts``.
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must contain at least one Journeys")
        first = parts[0]
        for k, p in enumerate(parts[1:], start=1):
            for t in _TABLES:
                if getattr(p, t) != getattr(first, t):
                    raise ValueError(
                        f"parts[{k}].{t} differs from parts[0].{t}; cannot concatenate"
                    )
        shift = np.zeros(len(parts), dtype=np.int64)
        if renumber_days:
            counts = [int(p._customers["day"].max(initial=-1)) + 1 for p in parts]
            counts = [
                max(c, int(p._queue["day"].max(initial=-1)) + 1)
                for c, p in zip(counts, parts, strict=True)
            ]
            shift[1:] = np.cumsum(counts)[:-1]
        customers = {k: np.concatenate([p._customers[k] for p in parts]) for k in CUSTOMER_COLUMNS}
        customers["day"] = np.concatenate(
            [p._customers["day"] + s for p, s in zip(parts, shift, strict=True)]
        ).astype(np.int32)
        queue = {k: np.concatenate([p._queue[k] for p in parts]) for k in QUEUE_COLUMNS}
        queue["day"] = np.concatenate(
            [p._queue["day"] + s for p, s in zip(parts, shift, strict=True)]
        ).astype(np.int32)
        episodes = {k: np.concatenate([p._episodes[k] for p in parts]) for k in EPISODE_COLUMNS}
        for k, p in enumerate(parts[1:], start=1):
            if p.stages != first.stages:
                raise ValueError(
                    f"parts[{k}].stages differs from parts[0].stages; cannot concatenate"
                )
        visits = {
            k: np.concatenate([p._stage_visits[k] for p in parts]) for k in STAGE_VISIT_COLUMNS
        }
        visits["day"] = np.concatenate(
            [p._stage_visits["day"] + s for p, s in zip(parts, shift, strict=True)]
        ).astype(np.int32)
        stage_queue = {
            k: np.concatenate([p._stage_queue[k] for p in parts]) for k in STAGE_QUEUE_COLUMNS
        }
        stage_queue["day"] = np.concatenate(
            [p._stage_queue["day"] + s for p, s in zip(parts, shift, strict=True)]
        ).astype(np.int32)
        ep_counts = np.array([p.n_episodes for p in parts], dtype=np.int64)
        ep_shift = np.concatenate([[0], np.cumsum(ep_counts)[:-1]])
        offsets = np.concatenate(
            [[0]] + [p.offsets[1:] + s for p, s in zip(parts, ep_shift, strict=True)]
        ).astype(np.int64)
        meta = dict(first.meta)
        meta["n_parts"] = len(parts)
        return cls(
            customers,
            episodes,
            offsets,
            segments=first.segments,
            business_types=first.business_types,
            touchpoints=first.touchpoints,
            counters=first.counters,
            queue=queue,
            meta=meta,
            validate=False,
            stage_visits=visits,
            stages=first.stages,
            stage_queue=stage_queue,
        )

    # ----------------------------------------------------------------- export
    def to_pandas(self, table: str = "customers") -> pd.DataFrame:
        """Return one table as a pandas DataFrame, codes decoded to names.

        Parameters
        ----------
        table : {"customers", "episodes", "queue", "stage_visits", "stage_queue"}, optional
            ``customers``: one row a customer, ``segment``, ``business`` and
            ``counter`` as categorical names. ``episodes``: one row an episode
            with its ``row`` (customer row), ``day``, ``customer``, ``segment``,
            ``duration`` and touchpoint name. ``queue``: the hall-queue series.
            ``stage_visits``: one row a stage visit, ``stage`` and ``counter`` as names,
            with the visitor's ``segment`` and ``business`` and the ``wait`` at that stage
            (minutes from joining its queue to the service start or to leaving; 0 for a
            balk).
            ``stage_queue``: the further stages' queue series, ``stage`` as names.
            Default ``"customers"``.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            If pandas is not installed (``pip install "peakend[pandas]"``).
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'Journeys.to_pandas() needs pandas: pip install "peakend[pandas]"'
            ) from exc
        if table == "customers":
            data: dict[str, Any] = dict(self._customers)
            data["segment"] = pd.Categorical.from_codes(data["segment"], pd.Index(self.segments))
            data["business"] = pd.Categorical.from_codes(
                data["business"], pd.Index(self.business_types)
            )
            data["counter"] = pd.Categorical.from_codes(
                data["counter"], pd.Index(self.counters)
            )  # -1 becomes NaN: not served
            return pd.DataFrame(data)
        if table == "episodes":
            owner = self.episode_customer
            data = {
                "row": owner,
                "day": self._customers["day"][owner],
                "customer": self._customers["customer"][owner],
                "segment": pd.Categorical.from_codes(
                    self._customers["segment"][owner], pd.Index(self.segments)
                ),
                "touchpoint": pd.Categorical.from_codes(
                    self._episodes["touchpoint"], pd.Index(self.touchpoints)
                ),
            }
            for k in ("start", "end", "experience", "expectation", "affect"):
                data[k] = self._episodes[k]
            data["duration"] = self.durations
            return pd.DataFrame(data)
        if table == "queue":
            return pd.DataFrame(dict(self._queue))
        if table == "stage_visits":
            data = dict(self._stage_visits)
            data["stage"] = pd.Categorical.from_codes(data["stage"], pd.Index(self.stages))
            data["counter"] = pd.Categorical.from_codes(data["counter"], pd.Index(self.counters))
            # the visitor's segment and business (from the customers table), and the wait
            # at this stage: until the service start, or until leaving the queue
            c = self._customers
            keys = _day_customer_keys(c)
            order = np.argsort(keys, kind="stable")
            sv = self._stage_visits
            vk = _day_customer_keys(sv)
            rows = order[np.searchsorted(keys[order], vk)] if vk.size else vk
            data["segment"] = pd.Categorical.from_codes(c["segment"][rows], pd.Index(self.segments))
            data["business"] = pd.Categorical.from_codes(
                c["business"][rows], pd.Index(self.business_types)
            )
            until = np.where(np.isnan(sv["service_start"]), sv["left"], sv["service_start"])
            balked = sv["abandoned"] & np.isnan(until)  # left at once, at queue_join
            data["wait"] = np.where(balked, 0.0, until - sv["queue_join"])
            return pd.DataFrame(data)
        if table == "stage_queue":
            data = dict(self._stage_queue)
            data["stage"] = pd.Categorical.from_codes(data["stage"], pd.Index(self.stages))
            return pd.DataFrame(data)
        raise ValueError(
            "table must be 'customers', 'episodes', 'queue', 'stage_visits' or 'stage_queue', "
            f"got {table!r}"
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the record to a ``.npz`` file (no pickle), atomically.

        Parameters
        ----------
        path : str or path-like
            Destination; ``.npz`` is appended if missing.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        header = {
            "schema_version": SCHEMA_VERSION,
            **{t: list(getattr(self, t)) for t in _TABLES},
            "meta": self.meta,
            "stages": list(self.stages),
        }
        arrays: dict[str, np.ndarray] = {"offsets": self.offsets}
        arrays.update({f"customers/{k}": v for k, v in self._customers.items()})
        arrays.update({f"episodes/{k}": v for k, v in self._episodes.items()})
        arrays.update({f"queue/{k}": v for k, v in self._queue.items()})
        arrays.update({f"stage_visits/{k}": v for k, v in self._stage_visits.items()})
        if self._stage_queue["stage"].size:  # a one-stage record is stored as before
            arrays.update({f"stage_queue/{k}": v for k, v in self._stage_queue.items()})
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Journeys:
        """Read a record written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            A ``.npz`` file written by :meth:`Journeys.save`.

        Returns
        -------
        Journeys
        """
        with np.load(os.fspath(path), allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode("utf-8"))
            if header.get("schema_version") != SCHEMA_VERSION:
                raise ValueError(
                    f"{os.fspath(path)}: schema_version {header.get('schema_version')} is not "
                    f"supported (this peakend reads version {SCHEMA_VERSION})"
                )

            def group(prefix: str) -> dict[str, np.ndarray]:
                return {
                    k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(prefix + "/")
                }

            return cls(
                group("customers"),
                group("episodes"),
                data["offsets"],
                segments=header["segments"],
                business_types=header["business_types"],
                touchpoints=header["touchpoints"],
                counters=header["counters"],
                queue=group("queue"),
                meta=header["meta"],
                stage_visits=group("stage_visits") or None,
                stages=header.get("stages", ()),
                stage_queue=group("stage_queue") or None,
            )

    # ------------------------------------------------------------------ display
    def _summary_rows(self) -> Iterator[tuple[str, int, float, float, float]]:
        c = self._customers
        for code, name in enumerate(self.segments):
            m = c["segment"] == code
            k = int(m.sum())
            if k == 0:
                continue
            yield (
                name,
                k,
                float(np.mean(c["wait"][m])),
                float(np.mean(self.abandoned[m])),
                float(np.nanmean(c["remembered"][m]))
                if np.any(~np.isnan(c["remembered"][m]))
                else np.nan,
            )

    def __repr__(self) -> str:
        head = (
            f"Journeys({self.n_customers} customers, {self.n_episodes} episodes, "
            f"{self.n_days} day(s), scenario={self.meta.get('scenario', '?')!r})"
        )
        rows = [
            f"  {name:<12} n={k:<6} wait={w:6.2f} min  abandoned={a:6.1%}  remembered={r:+.2f}"
            for name, k, w, a, r in self._summary_rows()
        ]
        return "\n".join([head, *rows])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{name}</td><td>{k}</td><td>{w:.2f}</td><td>{a:.1%}</td><td>{r:+.2f}</td></tr>"
            for name, k, w, a, r in self._summary_rows()
        )
        return (
            f"<p><b>Journeys</b>: {self.n_customers} customers, {self.n_episodes} episodes, "
            f"{self.n_days} day(s), scenario <code>{self.meta.get('scenario', '?')}</code></p>"
            "<table><thead><tr><th>segment</th><th>customers</th><th>mean wait (min)</th>"
            "<th>abandoned</th><th>remembered</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def load_journeys(path: str | os.PathLike[str]) -> Journeys:
    """Read a :class:`Journeys` record written by :meth:`Journeys.save`.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file.

    Returns
    -------
    Journeys
    """
    return Journeys.load(path)
