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
from peakend.experiment._aggregate import aggregate_columns, aggregate_days

if TYPE_CHECKING:  # pragma: no cover
    from peakend.journeys import Journeys
    from peakend.sim.batch import Chunk

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
    executor can ship them; ``peakend.sim.batch.simulate_chunk`` is looked up at
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
) -> list[tuple[list[int], Chunk, list[list[tuple[str, str, str]]]]]:
    """Simulate the tasks' days: per group of tasks, its members, days and warnings.

    The tasks of one scenario, engine, rule labels and survey option go to
    ``peakend.sim.batch.simulate_chunk`` together (the days of one policy: the same
    days, bit for bit, as one at a time, however they are grouped); each member gets
    the warnings its day issued.
    """
    from peakend.sim import batch  # SimPy is imported only once a day is simulated

    groups: dict[tuple[str, str, tuple[str, ...], bool], list[int]] = {}
    for i, task in enumerate(tasks):
        key = (task["scenario"], task.get("engine", "simpy"), tuple(task["labels"]),
               bool(task.get("survey", False)))
        groups.setdefault(key, []).append(i)
    out = []
    # warnings (e.g. an overloaded day) are returned as data and summarised once per
    # run by run(), instead of being printed by every worker for every day.
    # catch_warnings swaps process-wide state, so threads (a threaded Dask worker)
    # take turns; SimPy holds the GIL anyway.
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for (text, engine, _, _), members in groups.items():
            # the scenario was validated when parsed from JSON (cached per text) and is
            # not changed here, so simulate's per-call re-validation is skipped: same bits
            before = len(caught)
            chunk = batch.simulate_chunk(
                _scenario_from_json(text),
                [replication_seed(tasks[i]["seed"], tasks[i]["replication"]) for i in members],
                engine=engine,
            )
            # simulate_chunk warns nothing of its own days: any warning caught here came
            # from elsewhere in the batch, so it goes with its first day
            extra = [_warning_record(w) for w in caught[before:]]
            records: list[list[tuple[str, str, str]]] = []
            for k in range(len(members)):
                mine = list(extra) if k == 0 else []
                message = chunk.message(k)
                if message is not None:
                    mine.append(("peakend.warnings", "OverloadWarning", message))
                records.append(mine)
            out.append((members, chunk, records))
    return out


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


def _score(
    own_values: np.ndarray,
    episodes: Mapping[str, np.ndarray],
    offsets: np.ndarray,
    rules: Sequence[Any],
    labels: Sequence[str],
    own: str,
) -> dict[str, np.ndarray]:
    """Remembered values of the customers of several days under each rule, scored together.

    ``simulate`` has already scored the scenario's own memory rule (label ``own``):
    its ``remembered`` column (``own_values``), ``memory.score`` of the same affect,
    offsets and durations, is reused rather than scored a second time. Memory rules
    score each journey on its own, so scoring several days in one call gives the same
    values. ``episodes`` and ``offsets`` (from 0) are the joined days' episode columns
    and CSR offsets.
    """
    rest = [rule for rule, lab in zip(rules, labels, strict=True) if lab != own]
    scored: dict[str, np.ndarray] = {}
    if rest:
        # engine="numpy": the engine "auto" would pick depends on the call's size,
        # hence on how days are chunked (which depends on the number of workers); the
        # NumPy engine gives every journey the same bits whatever the chunk. The
        # durations are end - start, elementwise the same as per day
        scored = memory.score_many(
            episodes["affect"], offsets, list(rest),
            durations=episodes["end"] - episodes["start"], engine="numpy",
        )
    return {lab: own_values if lab == own else scored[lab] for lab in labels}


def _remembered(
    days: Sequence[Journeys], rules: Sequence[Any], labels: Sequence[str], own: str
) -> list[dict[str, np.ndarray]]:
    """:func:`_score` of days given one by one: remembered values per day under each rule."""
    sizes = [d.n_customers for d in days]
    # each day's offsets start at 0: shifted by the episodes before the day, they
    # join into the chunk's offsets (no per-day diff and cumsum)
    shift = 0
    parts = [np.zeros(1, dtype=np.int64)]
    for d in days:
        parts.append(d.offsets[1:] + shift)
        shift += int(d.offsets[-1])
    episodes = {k: np.concatenate([d.episodes[k] for d in days])
                for k in ("affect", "start", "end")}
    scored = _score(
        np.concatenate([d.customers["remembered"] for d in days]), episodes,
        np.concatenate(parts), rules, labels, own,
    )
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return [{lab: v[bounds[k] : bounds[k + 1]] for lab, v in scored.items()}
            for k in range(len(days))]


def simulate_chunk(tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run several tasks (one round trip to a worker): simulate, then score and aggregate.

    The days of each scenario are simulated together
    (``peakend.sim.batch.simulate_chunk``), then scored and reduced to per-segment
    aggregates together straight from the chunk's columns (a few array passes for the
    whole chunk instead of per day; a day's ``Journeys`` is built only if the task
    keeps it); the values are the same as for each task alone.

    Parameters
    ----------
    tasks : sequence of Mapping
        Tasks as described in :func:`simulate_replication`.

    Returns
    -------
    list of dict
        One result per task, in the order of ``tasks``.
    """
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    for members, chunk, caught in _simulate_days(tasks):
        first = tasks[members[0]]
        labels, survey = tuple(first["labels"]), bool(first.get("survey", False))
        own = _scenario_rule_label(first["scenario"])
        costs = _costs([tasks[i]["scenario"] for i in members])
        staff, fixed = [c[0] for c in costs], [c[1] for c in costs]
        if chunk.days is not None:  # a staged scenario: its days one by one
            days = [d for d, _ in chunk.days]
            remembered = _remembered(days, first["rules"], labels, own)
            reduced = aggregate_days(days, remembered, staff_costs=staff, fixed_costs=fixed,
                                     survey=survey)
        else:  # straight from the chunk's columns: no Journeys unless one is kept
            scored = _score(chunk.customers["remembered"], chunk.episodes, chunk.offsets,
                            first["rules"], labels, own)
            segments = [tuple(str(g) for g in chunk.scenario.segments)] * len(chunk)
            reduced = aggregate_columns(
                chunk.customers, chunk.sizes, segments, scored, staff_costs=staff,
                fixed_costs=fixed, survey_day=chunk.day if survey else None,
            )
        for k, (i, (segs, metrics, values)) in enumerate(zip(members, reduced, strict=True)):
            task = tasks[i]
            results[i] = {
                "policy": int(task["policy"]),
                "replication": int(task["replication"]),
                "segments": list(segs),
                "metrics": list(metrics),
                "values": values,
                "journeys": chunk.day(k) if task["keep_journeys"] else None,
                "warnings": caught[k],
            }
    return [r for r in results if r is not None]
