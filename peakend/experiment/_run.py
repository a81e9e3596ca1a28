"""``run``: every policy over the same replicated days (common random numbers).

The pieces live in their own modules: the argument checks (:mod:`._checks`), the tasks
that simulate, score and aggregate a day in a worker (:mod:`._tasks`), the checkpoint
storage (:mod:`._checkpoint`), the executors (:mod:`._executor`, with the workers'
lifeline :mod:`._lifeline`) and the progress bar (:mod:`._progress`).
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from peakend import config
from peakend import journeys as journeys_module
from peakend._version import __version__
from peakend.experiment._aggregate import ALL, metric_names
from peakend.experiment._checkpoint import Checkpoint
from peakend.experiment._checks import MAX_TASKS, check_run_arguments, check_tasks
from peakend.experiment._executor import execute
from peakend.experiment._policy import Policy, policies_from
from peakend.experiment._progress import NoProgress, progress_bar
from peakend.experiment._results import Results
from peakend.experiment._tasks import DEFAULT_RULES, rule_label

__all__ = ["run"]


def run(
    scenario: config.Scenario | str | os.PathLike[str],
    policies: Any = None,
    replications: int | Literal["auto"] = 30,
    seed: int = 0,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    rules: Sequence[Any] = DEFAULT_RULES,
    keep_journeys: bool = False,
    survey: bool = False,
    max_tasks: int = MAX_TASKS,
    *,
    metric: str | None = None,
    half_width: float | None = None,
    relative: bool | None = None,
    engine: str = "auto",
) -> Results:
    """Run policies over replicated branch days with common random numbers.

    Replication ``r`` of every policy is simulated with the same seed
    sequence, ``numpy.random.SeedSequence(seed).spawn(replications)[r]``, so
    the policies see the same customers, service times and patience; the
    paired differences in :meth:`Results.compare` are then much sharper than
    independent runs, and a policy compared with itself differs by exactly 0.
    The result depends on ``seed`` only: not on ``workers``, the executor, or
    the order in which replications finish.

    Parameters
    ----------
    scenario : Scenario, str or path
        The scenario, or a built-in name / ``.toml`` path for
        :func:`peakend.load_scenario`.
    policies : None, Policy, sequence of Policy, mapping, str or path, optional
        ``None`` runs the scenario as given, as a policy named ``"baseline"``.
        A mapping maps names to :class:`Policy` objects or to changes dicts;
        a str or path names a policy file or a built-in policy set (see
        :func:`load_policies`).
    replications : int or "auto", default 30
        Simulated days per policy, from 1 to ``max_tasks`` (confidence
        intervals need >= 3); replications x policies may not exceed
        ``max_tasks`` either. ``"auto"`` adds replications until the 95 %
        interval of ``metric`` is narrower than ``half_width`` for every
        policy (see :func:`peakend.experiment.run_auto`, which takes more
        options); the count and the final half-widths are in
        ``results.auto``. The result equals a run with that many replications.
    seed : int, default 0
        Root seed, from 0 to 2**63 - 1 (it is stored as int64).
    workers : int, optional
        Number of processes to simulate in: this one and ``workers - 1``
        worker processes (a ``ProcessPoolExecutor``) that take replications
        from the other end of the queue, so that this process computes while
        they start. On Linux they are forked when this process runs no other
        thread (milliseconds), else (e.g. in Jupyter) forked by a fork server
        that imports peakend once per session (0.5-1 s, on the first run);
        elsewhere they are spawned (a fresh interpreter each: about 0.4 s).
        Results do not depend on it. If a worker process fails (it cannot
        start, or it is killed), a ``RuntimeWarning`` says so and this process
        does the rest. ``None`` or 1 runs in this process only; at most 1024.
        Worker processes end with the process that started them, also when it
        is killed (on Linux by ``prctl(PR_SET_PDEATHSIG)``, elsewhere by a
        watchdog thread in each worker).
    executor : concurrent.futures.Executor, optional
        Any executor to run the replications on instead, for example a Dask
        ``distributed.Client(...).get_executor()``. Overrides ``workers``.
    progress : bool, default True
        Show a tqdm progress bar: a widget in a Jupyter kernel where ipywidgets
        is installed, else text (without tqdm's "IProgress not found" warning).
    checkpoint : path, optional
        Directory in which every finished (policy, replication) is written
        atomically. Calling again with the same arguments resumes: finished
        work is loaded, not re-simulated; a run killed at any moment loses only
        the replications in flight. Replications go in chunks of up to 32 days
        (one round trip to a worker; scored and aggregated together) and are
        written when their chunk is done: in flight are the chunk each process
        is computing, one chunk queued per worker process, and the workers'
        results that arrived while this process was computing its own chunk
        (written as soon as it finishes). A checkpoint made with a different
        scenario, policies, seed, rules or library version is refused with
        :class:`CheckpointError`, as is a damaged ``manifest.json``, a path
        that is a file, a directory that cannot be written, or a non-empty
        directory that is not a checkpoint. More replications than before is
        allowed. Every finished file carries the run's key, its (policy,
        replication) and a SHA-256 of its bytes; one that is truncated,
        altered, of the wrong shape or from another run or task is simulated
        again (one :class:`CheckpointWarning` lists them), never used. Two
        runs may share a checkpoint at the same time (each writes through its
        own temporary files and renames them into place).
    rules : sequence of str or rule objects, default ("peak_end", "mean", "integral", "end")
        Memory rules to score; the first is the headline rule.
    keep_journeys : bool, default False
        Also keep every simulated day (``Results.journeys``, one
        :class:`~peakend.journeys.Journeys` per policy with ``day`` = the
        replication). Memory grows with replications x customers.
    survey : bool, default False
        Also keep survey metrics per segment (``survey_csat``, ``survey_nps``,
        ``survey_ces``, ``survey_complaints``...; see
        :func:`peakend.metrics.segment_survey_metrics`: noiseless answers and
        expected complaint counts from the scenario's memory rule). Costs
        about 1 ms per simulated day.
    max_tasks : int, default 1_000_000
        Cap on replications x policies (simulated days) in one run, checked
        before any work starts; raise it for a larger run (its records take
        a few kilobytes of memory per simulated day, before journeys).
    metric : str, default "all.remembered[peak_end]"
        With ``replications="auto"``: the ``segment.metric`` whose interval
        must be narrow.
    half_width : float, default 0.05
        With ``replications="auto"``: the target half-width of that interval,
        in the metric's units (a fraction of ``|mean|`` if ``relative``).
    relative : bool, default False
        With ``replications="auto"``: the target is relative to the mean.
    engine : {"auto", "simpy", "compiled"}, default "auto"
        The movement engine of every simulated day (see :func:`peakend.simulate`):
        ``"auto"`` takes the compiled engine when numba is installed (the ``fast``
        extra), else SimPy. The results are identical whichever engine, bit for bit,
        so a checkpoint made with one resumes with the other. The engine is resolved
        once, here, and the workers use it; it is recorded as ``results.engine``.

    Returns
    -------
    Results
        Per policy, replication, segment and metric aggregates.

    Raises
    ------
    TypeError
        For an argument of the wrong type (naming it and what is accepted),
        e.g. ``run(None)``.
    ValueError
        For an argument out of range (naming it and the range), a policy that
        gives an invalid scenario (:class:`PolicyError`) or an unusable
        checkpoint (:class:`CheckpointError`), or an unknown ``engine``. All are
        raised before any day is simulated.
    ImportError
        If ``engine="compiled"`` and numba is not installed (``pip install "peakend[fast]"``),
        before any day is simulated.

    Warns
    -----
    RuntimeWarning
        If a worker process fails (``workers`` > 1); the run continues in this
        process with the same results.
    CheckpointWarning
        Once, if finished files of the checkpoint could not be used.
    OverloadWarning
        Once per run if simulated days were overloaded: how many, under which
        policies, and the first day's message (what triggered it); likewise
        for any other warning the simulation issues.
    """
    auto_options: dict[str, Any] = {k: v for k, v in
                    (("metric", metric), ("half_width", half_width), ("relative", relative))
                    if v is not None}
    from peakend.sim.compiled import check_engine, resolve_engine, warm_up  # imports SimPy

    check_engine(engine)  # a bad value: before anything else
    if isinstance(replications, str) and replications == "auto":
        from peakend.experiment._auto import run_auto

        # the engine is resolved by the first inner run, after run_auto's and its own
        # argument checks (a missing numba is still an error before anything is simulated);
        # the Results returned are the last inner run's, with its engine
        return run_auto(scenario, policies, seed=seed, workers=workers, executor=executor,
                        progress=progress, checkpoint=checkpoint, rules=rules,
                        keep_journeys=keep_journeys, survey=survey, max_tasks=max_tasks,
                        engine=engine, **auto_options)
    if auto_options:
        raise TypeError(f"run: {', '.join(auto_options)} apply only with replications='auto' "
                        f"(got replications={replications!r})")
    replications, seed, rules = check_run_arguments(
        scenario, policies, replications, seed, workers, executor, progress, checkpoint,
        rules, keep_journeys, survey, max_tasks,
    )
    labels = tuple(rule_label(r) for r in rules)
    if len(set(labels)) != len(labels):
        raise ValueError(f"rules must be distinct, got labels {list(labels)}")

    if not isinstance(scenario, config.Scenario):
        scenario = config.load_scenario(scenario)
    policy_list = policies_from(policies)
    check_tasks(replications, len(policy_list), max_tasks)
    applied = [p.apply(scenario) for p in policy_list]
    # numba is imported (about 0.5 s) only once the arguments have passed their checks;
    # a missing numba for engine="compiled" is still an error before anything is simulated
    used = resolve_engine(engine)
    scenario_texts = [s.model_dump_json() for s in applied]

    scenario_data = json.loads(scenario.model_dump_json())
    arguments = {
        "scenario": scenario_data,
        "policies": [{"name": p.name, "changes": p.changes} for p in policy_list],
        "seed": seed,
        "rules": list(labels),
        "version": __version__,
    }
    if survey:  # only when on, so checkpoints made before this option stay valid
        arguments["survey"] = True
    store = Checkpoint(checkpoint, arguments) if checkpoint is not None else None
    metrics = metric_names(labels, survey)

    n_pol = len(policy_list)
    results: dict[tuple[int, int], dict[str, Any]] = {}
    todo: list[dict[str, Any]] = []
    for p in range(n_pol):
        for r in range(replications):
            loaded = store.load(p, r, keep_journeys, metrics) if store is not None else None
            if loaded is not None:
                results[(p, r)] = loaded
                continue
            todo.append({
                "policy": p, "replication": r, "seed": seed, "scenario": scenario_texts[p],
                "rules": rules, "labels": labels, "keep_journeys": bool(keep_journeys),
                "survey": bool(survey), "engine": used,
            })
    if store is not None:
        store.warn_problems(stacklevel=2)

    bar: Any = NoProgress()

    def on_start() -> None:
        # the bar is made once the worker processes are running: a progress widget
        # may start threads, and a process with a second thread does not fork them
        nonlocal bar
        bar = progress_bar(n_pol * replications, len(results), bool(progress))

    def on_result(res: dict[str, Any]) -> None:
        if store is not None:
            store.save(res)
        results[(res["policy"], res["replication"])] = res
        bar.update(1)

    if used == "compiled" and todo:
        # load the cached kernel once here: forked workers inherit it
        warm_up()
    try:
        execute(todo, workers=workers, executor=executor, on_result=on_result,
                on_start=on_start)
    finally:
        bar.close()
    _summarise_warnings(results, policy_list, replications)

    out = _assemble(
        results, policy_list, replications, seed, labels, scenario_data, keep_journeys, survey
    )
    # the movement engine of this call (not part of the values: every engine gives the
    # same bits; days loaded from a checkpoint may have been simulated by another)
    out.engine = used
    return out


def _warning_class(module: str, name: str) -> type[Warning]:
    """Return the warning class a worker named (its module name is data, hence importlib)."""
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return UserWarning
    return cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning


def _summarise_warnings(
    results: Mapping[tuple[int, int], Mapping[str, Any]],
    policy_list: Sequence[Policy],
    replications: int,
) -> None:
    """Re-issue the simulations' warnings once per run and kind, saying which policies and days.

    The message keeps the first day's own text, which states what triggered it (for an
    overloaded day: the offered load, the share that abandoned, the overrun).
    """
    days: dict[tuple[str, str], dict[int, int]] = {}  # kind -> policy -> days that warned
    first: dict[tuple[str, str], tuple[int, int, str]] = {}  # kind -> (policy, day, text)
    for (p, r), res in sorted(results.items()):
        seen = set()
        for module, name, message in res.get("warnings") or []:
            kind = (module, name)
            if kind in seen:  # count days, not warnings
                continue
            seen.add(kind)
            per_policy = days.setdefault(kind, {})
            per_policy[p] = per_policy.get(p, 0) + 1
            first.setdefault(kind, (p, r, message))
    for kind, per_policy in days.items():
        total = sum(per_policy.values())
        which = ", ".join(
            f"{policy_list[p].name!r} ({n} of {replications})" for p, n in per_policy.items()
        )
        p, r, message = first[kind]
        warnings.warn(
            f"{kind[1]} on {total} of {len(policy_list) * replications} simulated days, in "
            f"{len(per_policy)} of {len(policy_list)} policies: {which}; the first (policy "
            f"{policy_list[p].name!r}, replication {r}): {message}",
            _warning_class(*kind),
            stacklevel=3,
        )


def _assemble(
    results: Mapping[tuple[int, int], Mapping[str, Any]],
    policy_list: Sequence[Policy],
    replications: int,
    seed: int,
    labels: Sequence[str],
    scenario_data: Mapping[str, Any],
    keep_journeys: bool,
    survey: bool = False,
) -> Results:
    """Put task results into one array, ordered by (policy, replication), never by arrival."""
    metrics = metric_names(labels, survey)
    segments: list[str] = [ALL]
    for key in sorted(results):
        for s in results[key]["segments"]:
            if s not in segments:
                segments.append(s)
    values = np.full((len(policy_list), replications, len(segments), len(metrics)), np.nan)
    seg_index = {s: i for i, s in enumerate(segments)}
    for (p, r), res in sorted(results.items()):
        if list(res["metrics"]) != list(metrics):
            raise RuntimeError(f"task ({p}, {r}) returned metrics {res['metrics']}")
        rows = [seg_index[s] for s in res["segments"]]
        values[p, r, rows, :] = res["values"]
        missing = [i for i in range(len(segments)) if i not in rows]
        for i in missing:  # a segment this policy does not have: no customers
            values[p, r, i, metrics.index("n_customers")] = 0.0
    journeys = None
    if keep_journeys:
        journeys = {
            pol.name: journeys_module.Journeys.concat(
                [results[(p, r)]["journeys"] for r in range(replications)]
            )
            for p, pol in enumerate(policy_list)
        }
    return Results(
        values,
        policies=[p.name for p in policy_list],
        segments=segments,
        metrics=metrics,
        seed=seed,
        rules=list(labels),
        scenario=scenario_data,
        policy_specs=[p.to_dict() for p in policy_list],
        version=__version__,
        journeys=journeys,
    )
