"""Tasks of a run: one (policy, replication) each, simulated, scored and aggregated in a worker.

A task and its result are plain data (str, int, numpy arrays), so that any executor
can ship them: the scenario travels as JSON text, the memory rules as names or rule
objects with their labels.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend import config, memory
from peakend.experiment._aggregate import aggregate_days

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys

__all__ = [
    "DEFAULT_RULES",
    "replication_seed",
    "rule_label",
    "simulate_chunk",
    "simulate_replication",
]

#: Memory rules scored by default; the first is the headline rule of tables and plots.
DEFAULT_RULES: tuple[str, ...] = ("peak_end", "mean", "integral", "end")


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """Return the seed sequence of one replication.

    It equals ``numpy.random.SeedSequence(seed).spawn(n)[replication]`` for
    any ``n > replication``, so a single replication can be re-simulated
    alone: ``pe.simulate(policy.apply(scenario), replication_seed(seed, r))``.

    Parameters
    ----------
    seed : int
        The ``seed`` passed to :func:`run` (>= 0).
    replication : int
        Replication index (>= 0).

    Returns
    -------
    numpy.random.SeedSequence
    """
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def rule_label(rule: Any) -> str:
    """Column label of a memory rule given by name or as a rule object."""
    if isinstance(rule, str):
        try:
            return str(memory.get_rule(rule).label)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"rules: unknown memory rule {rule!r}: {exc}") from exc
    label = getattr(rule, "label", None)
    if not isinstance(label, str):
        raise ValueError(f"rules: expected a rule name or rule object, got {rule!r}")
    return label


_WARNINGS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16)
def _scenario_from_json(text: str) -> config.Scenario:
    scenario: config.Scenario = config.Scenario.model_validate_json(text)
    return scenario


@functools.lru_cache(maxsize=16)
def _scenario_rule_label(text: str) -> str:
    """Label of the memory rule of a scenario (JSON text): its ``remembered`` column."""
    rule = _scenario_from_json(text).memory
    return str(memory.get_rule(rule.rule, **rule.params).label)


def simulate_replication(task: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate and aggregate one (policy, replication); runs in a worker.

    The task and the result are plain data (str, int, numpy arrays), so any
    executor can ship them; ``peakend.sim.batch.simulate_days`` is looked up at
    call time.

    Parameters
    ----------
    task : Mapping
        ``policy`` (index), ``replication``, ``seed``, ``scenario`` (JSON
        text), ``rules`` (names or rule objects), ``labels`` (their labels),
        ``keep_journeys`` and optionally ``survey`` and ``engine`` (a resolved
        movement engine, ``"simpy"`` or ``"compiled"``; default ``"simpy"``).

    Returns
    -------
    dict
        ``policy``, ``replication``, ``segments``, ``metrics``, ``values``
        (float64, segments x metrics), ``journeys`` (or None) and ``warnings``
        (``(module, class name, message)`` of each warning the simulation issued).
    """
    return simulate_chunk([task])[0]


def _simulate_days(
    tasks: Sequence[Mapping[str, Any]],
) -> list[tuple[Journeys, list[tuple[str, str, str]]]]:
    """Simulate the tasks' days; each with the warnings it issued.

    The tasks of one scenario and engine go to ``peakend.sim.batch.simulate_days``
    together (the days of one policy: the same days, bit for bit, as one at a time).
    """
    from peakend.sim import batch  # SimPy is imported only once a day is simulated

    out: list[tuple[Journeys, list[tuple[str, str, str]]] | None] = [None] * len(tasks)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault((task["scenario"], task.get("engine", "simpy")), []).append(i)
    # warnings (e.g. an overloaded day) are returned as data and summarised once per
    # run by run(), instead of being printed by every worker for every day.
    # catch_warnings swaps process-wide state, so threads (a threaded Dask worker)
    # take turns; SimPy holds the GIL anyway.
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for (text, engine), members in groups.items():
            # the scenario was validated when parsed from JSON (cached per text) and is
            # not changed here, so simulate's per-call re-validation is skipped: same bits
            before = len(caught)
            days = batch.simulate_days(
                _scenario_from_json(text),
                [replication_seed(tasks[i]["seed"], tasks[i]["replication"]) for i in members],
                engine=engine,
            )
            # simulate_days warns nothing of its own days: any warning caught here came
            # from elsewhere in the batch, so it goes with its first day
            extra = [_warning_record(w) for w in caught[before:]]
            for k, (i, (journeys, message)) in enumerate(zip(members, days, strict=True)):
                records = list(extra) if k == 0 else []
                if message is not None:
                    records.append(("peakend.warnings", "OverloadWarning", message))
                out[i] = (journeys, records)
    return [x for x in out if x is not None]


def _warning_record(w: warnings.WarningMessage) -> tuple[str, str, str]:
    return (w.category.__module__, w.category.__qualname__, str(w.message))


def _costs(texts: Sequence[str]) -> list[tuple[float, float]]:
    """Staff cost and fixed cost of each task's scenario (JSON text), currency units per day.

    Computed once per distinct scenario of the chunk (the tasks of one policy share it)
    rather than once per task: ``staff_cost`` rebuilds the counter-group table on every
    call. Not cached beyond the call, nor on the Scenario (its dicts can be changed).
    """
    seen: dict[str, tuple[float, float]] = {}
    out = []
    for text in texts:
        if text not in seen:
            sc = _scenario_from_json(text)
            fixed = getattr(sc, "fixed_cost", None)
            seen[text] = (float(sc.staff_cost()), float(fixed()) if callable(fixed) else 0.0)
        out.append(seen[text])
    return out


def _remembered(
    days: Sequence[Journeys], rules: Sequence[Any], labels: Sequence[str], own: str
) -> list[dict[str, np.ndarray]]:
    """Remembered values per day under each rule, scoring the days together.

    ``simulate`` has already scored the scenario's own memory rule (label ``own``):
    its ``remembered`` column, ``memory.score`` of the same affect, offsets and
    durations, is reused rather than scored a second time. Memory rules score each
    journey on its own, so scoring several days in one call gives the same values.
    """
    rest = [rule for rule, lab in zip(rules, labels, strict=True) if lab != own]
    sizes = [d.n_customers for d in days]
    scored: dict[str, np.ndarray] = {}
    if rest:
        # each day's offsets start at 0: shifted by the episodes before the day, they
        # join into the chunk's offsets (no per-day diff and cumsum); the durations are
        # end - start of the joined columns, elementwise the same as per day
        episodes = [d.episodes for d in days]
        shift = 0
        parts = [np.zeros(1, dtype=np.int64)]
        for d in days:
            parts.append(d.offsets[1:] + shift)
            shift += int(d.offsets[-1])
        offsets = np.concatenate(parts)
        end = np.concatenate([e["end"] for e in episodes])
        start = np.concatenate([e["start"] for e in episodes])
        # engine="numpy": the engine "auto" would pick depends on the call's size,
        # hence on how days are chunked (which depends on the number of workers); the
        # NumPy engine gives every journey the same bits whatever the chunk
        scored = memory.score_many(
            np.concatenate([e["affect"] for e in episodes]), offsets, list(rest),
            durations=end - start, engine="numpy",
        )
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    per_day: list[dict[str, np.ndarray]] = [{} for _ in days]
    for lab in labels:
        for k, out in enumerate(per_day):
            out[lab] = (
                days[k].customers["remembered"] if lab == own
                else scored[lab][bounds[k] : bounds[k + 1]]
            )
    return per_day


def simulate_chunk(tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run several tasks (one round trip to a worker): simulate, then score and aggregate.

    The days of each scenario are simulated together
    (``peakend.sim.batch.simulate_days``), then scored and reduced to per-segment
    aggregates together (a few array passes for the whole chunk instead of per
    day); the values are the same as for each task alone.

    Parameters
    ----------
    tasks : sequence of Mapping
        Tasks as described in :func:`simulate_replication`.

    Returns
    -------
    list of dict
        One result per task, in the order of ``tasks``.
    """
    simulated = _simulate_days(tasks)
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    # tasks of one run share rules and options; group anyway, to be safe with any input
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, t in enumerate(tasks):
        key = (tuple(t["labels"]), bool(t.get("survey", False)),
               _scenario_rule_label(t["scenario"]))
        groups.setdefault(key, []).append(i)
    for (labels, survey, own), members in groups.items():
        days = [simulated[i][0] for i in members]
        remembered = _remembered(days, tasks[members[0]]["rules"], labels, own)
        costs = _costs([tasks[i]["scenario"] for i in members])
        reduced = aggregate_days(
            days, remembered, staff_costs=[c[0] for c in costs],
            fixed_costs=[c[1] for c in costs], survey=survey,
        )
        for i, (segments, metrics, values) in zip(members, reduced, strict=True):
            task, (journeys, caught) = tasks[i], simulated[i]
            results[i] = {
                "policy": int(task["policy"]),
                "replication": int(task["replication"]),
                "segments": list(segments),
                "metrics": list(metrics),
                "values": values,
                "journeys": journeys if task["keep_journeys"] else None,
                "warnings": caught,
            }
    return [r for r in results if r is not None]
