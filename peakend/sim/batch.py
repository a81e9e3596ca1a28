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
   alone; the result is split into one :class:`~peakend.journeys.Journeys` per day
   (slices of the chunk's arrays).

Scenarios with further stages (``scenario.stages``) are simulated one day at a time
(:func:`~peakend.sim.model.simulate_validated`) inside the call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peakend import memory
from peakend.config.models import TOUCHPOINTS, Scenario
from peakend.journeys import Journeys
from peakend.sim.draws import draw_days
from peakend.sim.engine import run_days
from peakend.sim.experience import TABLE, episode_arrays
from peakend.sim.facts import Days, Facts

__all__ = ["simulate_days"]


def simulate_days(
    scenario: Scenario,
    seeds: Sequence[int | np.random.SeedSequence],
    engine: str = "simpy",
) -> list[tuple[Journeys, str | None]]:
    """Simulate one day per seed, each the day ``simulate_validated`` gives for that seed.

    Not part of the public API (``run`` uses it for the days of one policy).

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
    from peakend.sim.model import day_meta, overload_message, scenario_meta, simulate_validated

    if scenario.stages:  # the per-day path of the network of stages
        import warnings

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
        return out

    s = scenario
    rule = memory.get_rule(s.memory.rule, **s.memory.params)  # checks the params
    load = s.offered_load()
    if not seeds:
        return []
    draws, bounds = draw_days(s, seeds, compiled=engine == "compiled")
    moved = run_days(s, draws, bounds, engine=engine)
    run, q_bounds = moved.run, moved.q_bounds
    chunk = Days(
        bounds=bounds,
        no_slips=moved.no_slips,
        day=np.repeat(np.arange(len(seeds), dtype=np.intp), np.diff(bounds)),
        compiled=engine == "compiled",
    )
    f = Facts(s, draws, run, days=chunk)
    customers, episodes, offsets, names = episode_arrays(f, TABLE, list(TOUCHPOINTS), rule)
    visits = f.stage_visits()
    segments, business, stage_names = list(s.segments), list(s.business_types), s.stage_names
    static = scenario_meta(s, load)  # the per-scenario part of every day's meta
    results: list[tuple[Journeys, str | None]] = []
    counters, groups = list(run.teller_names), list(run.teller_group)  # the same every day
    for d, seed in enumerate(seeds):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        q0, q1 = int(q_bounds[d]), int(q_bounds[d + 1])
        e0, e1 = int(offsets[lo]), int(offsets[hi])
        n = hi - lo
        numbers = {"day": np.zeros(n, dtype=np.int32), "customer": np.arange(n, dtype=np.int32)}
        cust = {k: v[lo:hi] for k, v in customers.items()} | numbers
        sv = {k: v[lo:hi] for k, v in visits.items()} | numbers
        day = Journeys(
            cust,
            {k: v[e0:e1] for k, v in episodes.items()},
            offsets[lo : hi + 1] - e0,
            segments=segments,
            business_types=business,
            touchpoints=names,
            counters=list(counters),
            queue={
                "day": np.zeros(q1 - q0, dtype=np.int32),
                "time": run.queue_time[q0:q1],
                "length": run.queue_length[q0:q1],
            },
            meta=day_meta(s, seed, load, list(groups), static=static),
            validate=False,  # slices of the model's own arrays (see build_journeys)
            stage_visits=sv,
            stages=stage_names,
        )
        results.append((day, overload_message(s, day, load=load)))
    return results
