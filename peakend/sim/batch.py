"""Many days of one scenario per call (:func:`simulate_days`), the same days bit for bit.

``run`` simulates hundreds of days of each policy; one day of ``default_branch`` is a
few hundred customers, so a day at a time pays numpy's and Python's fixed cost per call
(the scenario's tables, a few hundred small array operations) for every day.
:func:`simulate_days` pays the per-scenario part once per call and builds the
experience of all its days at once:

1. **draws** (:func:`~peakend.sim.draws.draw_days`): each day's random numbers from its
   own streams, everything that follows from them elementwise for all the days at once:
   the same customers as a day alone;
2. **movement** (:func:`~peakend.sim.engine.run_days`): the moments before the queue
   for all the days at once, then with the compiled engine one kernel call that moves
   every day of the chunk on its own (SimPy: day by day), each day's record that of
   :func:`~peakend.sim.engine.run_day` for the day alone;
3. **experience**, once for the chunk: the days' draws and movement records are
   concatenated (:class:`~peakend.sim.facts.Days` says where each day lies) and
   :func:`~peakend.sim.experience.episode_arrays`, the one implementation of the
   experience logic, builds episodes, affect and remembered values for all of them.
   Every computation there is elementwise or per journey (the slips are counted day by
   day, the teller levels indexed by day), so each day's values are those of the day
   alone. :func:`simulate_chunk` returns them as they are (a :class:`Chunk`: ``run``
   scores and aggregates its days straight from the chunk's columns);
   :func:`simulate_days` splits them into one :class:`~peakend.journeys.Journeys` per day
   (slices of the chunk's arrays, :meth:`Chunk.day`).

Scenarios with further stages (``scenario.stages``) are simulated one day at a time
(:func:`~peakend.sim.model.simulate_validated`) inside the call.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peakend import memory
from peakend.config.models import TOUCHPOINTS, Scenario
from peakend.journeys import CUSTOMER_COLUMNS, EPISODE_COLUMNS, Journeys, _spec_dtypes
from peakend.sim.draws import draw_days
from peakend.sim.engine import run_days
from peakend.sim.experience import TABLE, episode_arrays
from peakend.sim.facts import Days, Facts

__all__ = ["Chunk", "simulate_chunk", "simulate_days"]


@dataclass
class Chunk:
    """The simulated days of one :func:`simulate_chunk` call, as chunk-wide columns.

    Day ``d`` has the customers ``bounds[d]:bounds[d + 1]`` of :attr:`customers` (in
    the order of its own day) and their episodes ``offsets[bounds[d]]:offsets[bounds[d
    + 1]]``. :meth:`day` builds its :class:`~peakend.journeys.Journeys` (bit for bit
    that of ``simulate_validated``), :meth:`message` its overload message.

    A chunk of a scenario with further stages (``scenario.stages``) is simulated one
    day at a time: it holds the finished days (:attr:`days`) and no columns.
    """

    scenario: Scenario
    seeds: list[int | np.random.SeedSequence]
    #: customer columns of all the days (schema dtypes), without ``day`` and ``customer``
    customers: dict[str, np.ndarray] = field(default_factory=dict)
    #: episode columns of all the days (schema dtypes)
    episodes: dict[str, np.ndarray] = field(default_factory=dict)
    #: CSR offsets of the episodes of all the customers (n_customers + 1, from 0)
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    #: customer bounds of the days (n_days + 1, from 0)
    bounds: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.intp))
    #: the finished days and messages of a staged scenario (else None)
    days: list[tuple[Journeys, str | None]] | None = None
    _rest: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def sizes(self) -> list[int]:
        """Customers of each day (count)."""
        if self.days is not None:
            return [d.n_customers for d, _ in self.days]
        return np.diff(self.bounds).tolist()

    def day(self, d: int) -> Journeys:
        """Return day ``d``: bit for bit ``simulate_validated(scenario, seeds[d], engine)``."""
        if self.days is not None:
            return self.days[d][0]
        from peakend.sim.model import day_meta

        s, r = self.scenario, self._rest
        run, q_bounds, offsets = r["run"], r["q_bounds"], self.offsets
        lo, hi = int(self.bounds[d]), int(self.bounds[d + 1])
        q0, q1 = int(q_bounds[d]), int(q_bounds[d + 1])
        e0, e1 = int(offsets[lo]), int(offsets[hi])
        n = hi - lo
        numbers = {"day": np.zeros(n, dtype=np.int32), "customer": np.arange(n, dtype=np.int32)}
        return Journeys(
            {k: v[lo:hi] for k, v in self.customers.items()} | numbers,
            {k: v[e0:e1] for k, v in self.episodes.items()},
            offsets[lo : hi + 1] - e0,
            segments=list(s.segments),
            business_types=list(s.business_types),
            touchpoints=r["names"],
            counters=list(run.teller_names),
            queue={
                "day": np.zeros(q1 - q0, dtype=np.int32),
                "time": run.queue_time[q0:q1],
                "length": run.queue_length[q0:q1],
            },
            meta=day_meta(s, self.seeds[d], r["load"], list(run.teller_group),
                          static=r["static"]),
            validate=False,  # slices of the model's own arrays (see build_journeys)
            stage_visits={k: v[lo:hi] for k, v in r["visits"].items()} | numbers,
            stages=s.stage_names,
        )

    def message(self, d: int) -> str | None:
        """Return the message of day ``d``'s :class:`~peakend.warnings.OverloadWarning`, or None."""
        if self.days is not None:
            return self.days[d][1]
        from peakend.sim.model import overload_reasons

        lo, hi = int(self.bounds[d]), int(self.bounds[d + 1])
        columns = {k: self.customers[k][lo:hi] for k in ("balked", "reneged", "departure")}
        return overload_reasons(self.scenario, columns, load=self._rest["load"])


def simulate_chunk(
    scenario: Scenario,
    seeds: Sequence[int | np.random.SeedSequence],
    engine: str = "simpy",
) -> Chunk:
    """Simulate one day per seed, as :func:`simulate_days`, and keep the chunk's columns.

    Not part of the public API (``run``'s workers score and aggregate the days from the
    columns and build a day's :class:`~peakend.journeys.Journeys` only if it is kept).

    Parameters
    ----------
    scenario : Scenario
        A scenario fresh from validation (as for
        :func:`~peakend.sim.model.simulate_validated`).
    seeds : sequence of int or numpy.random.SeedSequence
        One seed per day.
    engine : {"simpy", "compiled"}, default "simpy"
        A resolved movement engine.

    Returns
    -------
    Chunk
        The days, in the order of ``seeds``. Nothing is warned here: the caller decides.
    """
    from peakend.sim.model import scenario_meta, simulate_validated

    seeds = list(seeds)
    if scenario.stages:  # the per-day path of the network of stages
        from peakend.warnings import OverloadWarning

        out: list[tuple[Journeys, str | None]] = []
        for seed in seeds:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                day = simulate_validated(scenario, seed, engine=engine)
            messages = [str(w.message) for w in caught if w.category is OverloadWarning]
            for w in caught:  # anything else is passed on as it came
                if w.category is not OverloadWarning:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            out.append((day, messages[0] if messages else None))
        return Chunk(scenario, seeds, days=out)

    s = scenario
    rule = memory.get_rule(s.memory.rule, **s.memory.params)  # checks the params
    load = s.offered_load()
    if not seeds:
        return Chunk(s, seeds)
    draws, bounds = draw_days(s, seeds, compiled=engine == "compiled")
    moved = run_days(s, draws, bounds, engine=engine)
    run = moved.run
    days = Days(
        bounds=bounds,
        no_slips=moved.no_slips,
        day=np.repeat(np.arange(len(seeds), dtype=np.intp), np.diff(bounds)),
        compiled=engine == "compiled",
    )
    f = Facts(s, draws, run, days=days)
    customers, episodes, offsets, names = episode_arrays(f, TABLE, list(TOUCHPOINTS), rule)
    # the schema dtypes once for the chunk (elementwise: each day's slice is what
    # Journeys would convert it to, and Journeys keeps an array of its dtype as it is)
    dtypes = _spec_dtypes(CUSTOMER_COLUMNS)
    customers = {k: np.asarray(v, dtype=dtypes[k]) for k, v in customers.items()}
    dtypes = _spec_dtypes(EPISODE_COLUMNS)
    episodes = {k: np.asarray(v, dtype=dtypes[k]) for k, v in episodes.items()}
    rest = {
        "run": run, "q_bounds": moved.q_bounds, "names": names, "load": load,
        "visits": f.stage_visits(), "static": scenario_meta(s, load),  # once per chunk
    }
    return Chunk(s, seeds, customers, episodes, offsets, np.asarray(bounds), _rest=rest)


def simulate_days(
    scenario: Scenario,
    seeds: Sequence[int | np.random.SeedSequence],
    engine: str = "simpy",
) -> list[tuple[Journeys, str | None]]:
    """Simulate one day per seed, each the day ``simulate_validated`` gives for that seed.

    Not part of the public API (the days of :func:`simulate_chunk`, one
    :class:`~peakend.journeys.Journeys` each).

    Parameters
    ----------
    scenario : Scenario
        A scenario fresh from validation (as for
        :func:`~peakend.sim.model.simulate_validated`).
    seeds : sequence of int or numpy.random.SeedSequence
        One seed per day.
    engine : {"simpy", "compiled"}, default "simpy"
        A resolved movement engine.

    Returns
    -------
    list of (Journeys, str or None)
        Per seed, in order: the day, bit for bit that of ``simulate_validated(scenario,
        seed, engine=engine)``, and the message of its
        :class:`~peakend.warnings.OverloadWarning` (None if the day is not overloaded).
        Nothing is warned here: the caller decides.
    """
    chunk = simulate_chunk(scenario, seeds, engine=engine)
    if chunk.days is not None:
        return chunk.days
    return [(chunk.day(d), chunk.message(d)) for d in range(len(chunk))]
