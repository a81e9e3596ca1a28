"""A simulated branch day: :func:`simulate` on top of the three stages of :mod:`peakend.sim`.

1. **Draws** (:func:`~peakend.sim.draws.draw_day`, :mod:`peakend.sim.draws`): every random
   quantity of every potential customer, drawn up front from its own stream, so that
   policies keep the same customers (common random numbers).
2. **Movement** (:func:`~peakend.sim.engine.run_day`, :mod:`peakend.sim.engine`): SimPy
   moves the customers through the branch by the counters' disciplines
   (:mod:`peakend.sim.disciplines`) and the staff plans (:mod:`peakend.sim.staff`); no
   experience logic. Further service stages (draws and movement, stage after stage:
   :mod:`peakend.sim.network`) follow the first; their episodes are added by
   :mod:`peakend.sim.stage_experience`.
3. **Experience** (:func:`~peakend.sim.experience.build_journeys`,
   :mod:`peakend.sim.experience`): episodes from a table of touchpoints, experience,
   expectation, affect (the Delta law) and the remembered value, vectorized after the day.

This module keeps the names that were defined here before the split importable
(``draw_day``, ``run_day``, ``build_journeys``, ``DayDraws``, ``DayRun``, ``count_slips``,
``MOMENT`` and the warning classes). See ``docs/background/branch-model.md`` for the
equations and their sources.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from peakend import __version__, memory
from peakend.config.models import Scenario
from peakend.journeys import Journeys
from peakend.sim.compiled import resolve_engine
from peakend.sim.draws import DayDraws, draw_day
from peakend.sim.engine import DayRun, run_day
from peakend.sim.experience import build_journeys
from peakend.sim.network import draw_stages, first_stage_skips, run_stages
from peakend.sim.slips import count_slips
from peakend.sim.touchpoints import MOMENT, pre_queue_episodes
from peakend.warnings import (
    OVERLOAD_ABANDONED_SHARE,
    OVERLOAD_LOAD,
    OVERLOAD_OVERRUN_MINUTES,
    OverloadWarning,
    PeakendWarning,
)

__all__ = [
    "MOMENT",
    "DayDraws",
    "DayRun",
    "OverloadWarning",
    "PeakendWarning",
    "build_journeys",
    "count_slips",
    "day_meta",
    "draw_day",
    "overload_message",
    "overload_reasons",
    "pre_queue_episodes",
    "run_day",
    "scenario_meta",
    "simulate",
    "simulate_validated",
]


def _seed_meta(seed: int | np.random.SeedSequence) -> Any:
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": str(seed.entropy), "spawn_key": [int(k) for k in seed.spawn_key]}
    return int(seed)


def scenario_meta(scenario: Scenario, load: float) -> dict[str, Any]:
    """Return the part of a day's ``Journeys.meta`` that depends only on the scenario.

    A caller that builds the meta of many days of one scenario (unchanged in between)
    computes this once and passes it to :func:`day_meta` as ``static``: ``staff_cost``
    alone rebuilds the counter-group table on every call.

    Parameters
    ----------
    scenario : Scenario
        The simulated branch.
    load : float
        ``scenario.offered_load()`` (stored as None when infinite).

    Returns
    -------
    dict
        Every key of :func:`day_meta` but ``seed`` and ``counter_group``, in its order.
    """
    return {
        "scenario": scenario.name,
        "peakend_version": __version__,
        "opening": 0.0,
        "closing": scenario.open_minutes,
        "opening_clock_hours": scenario.opening,
        "rule": scenario.memory.rule,
        "rule_params": dict(scenario.memory.params),
        "currency": scenario.currency,
        "offered_load": load if math.isfinite(load) else None,
        "staff_cost": scenario.staff_cost(),
        "fixed_cost": scenario.fixed_cost(),
        "segment_value": {k: v.value for k, v in scenario.segments.items()},
    }


def day_meta(
    scenario: Scenario,
    seed: int | np.random.SeedSequence,
    load: float,
    groups: list[str],
    *,
    static: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a simulated day's ``Journeys.meta``.

    Parameters
    ----------
    scenario : Scenario
        The simulated branch.
    seed : int or numpy.random.SeedSequence
        The day's seed.
    load : float
        ``scenario.offered_load()`` (stored as None when infinite).
    groups : list of str
        The counter group of each teller (every stage's, as ``meta["counter_group"]``).
    static : dict, optional
        ``scenario_meta(scenario, load)``, if the caller has it already (computed
        otherwise); each day gets its own copy of its mutable values.
    """
    if static is None:
        static = scenario_meta(scenario, load)
    meta = {
        "scenario": static["scenario"],
        "peakend_version": static["peakend_version"],
        "seed": _seed_meta(seed),
    }
    meta.update(static)  # the keys after "seed", in their order
    meta["rule_params"] = dict(static["rule_params"])  # each day's own copies
    meta["segment_value"] = dict(static["segment_value"])
    meta["counter_group"] = groups
    return meta


def simulate(
    scenario: Scenario, seed: int | np.random.SeedSequence = 0, *, engine: str = "simpy"
) -> Journeys:
    """Simulate one branch day and record every customer's journey.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`peakend.load_scenario`).
    seed : int or numpy.random.SeedSequence, default 0
        The day's seed. Separate streams for arrivals, customer mix, service,
        patience, experience and teller quality (and, when some business
        includes advice, advice noise and tellers' advice quality) are derived
        from it without mutating it; the same seed gives the same bits, and a
        staffing change keeps the same customers (common random numbers). Further
        service stages have their own streams (routing, service, patience, service
        noise, teller quality) keyed on the stage's name, so a route-share or stage
        staffing change keeps them too.
    engine : {"simpy", "compiled", "auto"}, default "simpy"
        The movement engine: SimPy (the reference), the compiled numba kernel (the
        ``fast`` extra; the same day bit for bit, about 0.5 s to load once per process,
        about 8 s to compile on first use after installing), or ``"auto"`` (compiled
        when numba imports, else SimPy).

    Returns
    -------
    Journeys
        One row per customer who came (in arrival order, times in minutes from
        opening), their episodes with experience, expectation and affect
        (``v(experience - expectation)`` on -10..10), the hall queue series, and
        ``remembered`` under the scenario's default memory rule; ``stage_visits``
        has one row per stage visit (one per customer for a one-stage scenario).

    Warns
    -----
    OverloadWarning
        If the offered load exceeds the staffed capacity, or more than a quarter
        of the customers abandon, or service runs over two hours past closing.

    Raises
    ------
    ValueError
        If ``seed`` is not an int >= 0 or a SeedSequence, ``scenario`` is not
        a :class:`~peakend.config.Scenario`, or ``engine`` is not one of the three.
    ImportError
        If ``engine="compiled"`` and numba is not installed (``pip install "peakend[fast]"``).

    Examples
    --------
    >>> import peakend as pe
    >>> day = pe.simulate(pe.scenarios.mmc(1.8, 0.5, 4, 8), seed=1)
    >>> bool((day.customers["wait"] >= 0).all())
    True
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(
            "scenario: must be a peakend Scenario (see load_scenario), got "
            f"{type(scenario).__name__}"
        )
    resolved = resolve_engine(engine)
    # re-validate: catches variants made with model_copy(update=...), before SimPy starts
    scenario = Scenario.model_validate(scenario.model_dump(warnings=False))
    return simulate_validated(scenario, seed, engine=resolved, _stacklevel=3)


def simulate_validated(
    scenario: Scenario,
    seed: int | np.random.SeedSequence = 0,
    *,
    engine: str = "simpy",
    _stacklevel: int = 2,
) -> Journeys:
    """:func:`simulate` for a scenario fresh from validation, without validating it again.

    :func:`simulate` re-validates its scenario on every call (about 0.2 ms, a few
    per cent of a day), because a scenario changed with ``model_copy(update=...)``
    or in place has skipped pydantic's checks. A caller that has just built the
    scenario by validation and does not change it (``run``'s workers parse each
    policy's scenario once from JSON) can skip that; the day is the same, bit for
    bit. Not part of the public API.

    Parameters
    ----------
    scenario : Scenario
        A scenario made by ``Scenario.model_validate`` or ``model_validate_json``
        and not changed since.
    seed : int or numpy.random.SeedSequence, default 0
        As for :func:`simulate`.
    engine : {"simpy", "compiled", "auto"}, default "simpy"
        As for :func:`simulate`.

    Returns
    -------
    Journeys
        As for :func:`simulate`.
    """
    engine = resolve_engine(engine)
    rule = memory.get_rule(scenario.memory.rule, **scenario.memory.params)  # checks the params
    load = scenario.offered_load()
    draws = draw_day(scenario, seed, compiled=engine == "compiled")
    stages = None
    if scenario.stages:
        run = run_day(scenario, draws, first_stage_skips(scenario, seed, draws), engine)
    else:
        run = run_day(scenario, draws, engine=engine)
    groups = list(run.teller_group)
    if scenario.stages:
        stage_draws = draw_stages(scenario, seed, draws)
        stage_runs = run_stages(scenario, draws, run, stage_draws, engine)
        stages = (stage_draws, stage_runs)
        for r in stage_runs:
            groups += r.teller_group
    meta = day_meta(scenario, seed, load, groups)
    day = build_journeys(scenario, draws, run, meta, rule, stages=stages)
    message = overload_message(scenario, day, load=load)
    if message is not None:
        warnings.warn(message, OverloadWarning, stacklevel=_stacklevel)
    return day


def overload_message(
    scenario: Scenario, day: Journeys, *, load: float | None = None
) -> str | None:
    """Say why a simulated day is overloaded, or return None if it is not.

    Parameters
    ----------
    scenario : Scenario
        The simulated branch.
    day : Journeys
        Its day.
    load : float, optional
        ``scenario.offered_load()``, if the caller has it already (it is computed
        otherwise).

    Returns
    -------
    str or None
        The message of the :class:`~peakend.warnings.OverloadWarning`: each condition
        that triggered it (offered load above :data:`~peakend.warnings.OVERLOAD_LOAD`,
        abandonment share above :data:`~peakend.warnings.OVERLOAD_ABANDONED_SHARE`, last
        departure more than :data:`~peakend.warnings.OVERLOAD_OVERRUN_MINUTES` after
        closing) with its number and threshold; None if none did.
    """
    return overload_reasons(scenario, day.customers, load=load)


def overload_reasons(
    scenario: Scenario, customers: Mapping[str, np.ndarray], *, load: float | None = None
) -> str | None:
    """:func:`overload_message` of a day given by its customer columns.

    Parameters
    ----------
    scenario : Scenario
        The simulated branch.
    customers : Mapping of str to ndarray
        The day's ``balked`` and ``reneged`` (bool) and ``departure`` (minutes) columns.
    load : float, optional
        ``scenario.offered_load()``, if the caller has it already.

    Returns
    -------
    str or None
        As :func:`overload_message`.
    """
    if load is None:
        load = scenario.offered_load()
    c = customers
    n = int(c["balked"].shape[0])
    reasons = []
    if load > OVERLOAD_LOAD:
        shown = "infinite (no teller on duty)" if math.isinf(load) else f"{load:.2f}"
        reasons.append(
            f"offered load {shown} > {OVERLOAD_LOAD:g} (expected service minutes over "
            "staffed teller-minutes)"
        )
    if n:
        abandoned = int(np.count_nonzero(c["balked"] | c["reneged"]))
        if abandoned / n > OVERLOAD_ABANDONED_SHARE:
            reasons.append(
                f"{abandoned} of {n} customers ({abandoned / n:.0%}) abandoned "
                f"(> {OVERLOAD_ABANDONED_SHARE:.0%})"
            )
        departure = c["departure"]
        last = float(departure.max())  # NaN if any is NaN: then the NaN-ignoring maximum
        if math.isnan(last):
            last = float(np.nanmax(departure))
        overrun = last - scenario.open_minutes
        if overrun > OVERLOAD_OVERRUN_MINUTES:
            reasons.append(
                f"the last customer left {overrun:.0f} min after closing "
                f"(> {OVERLOAD_OVERRUN_MINUTES:g} min)"
            )
    if not reasons:
        return None
    return f"scenario {scenario.name!r} is overloaded: " + "; ".join(reasons)
