"""Running policies over replications: seeds, executors, progress, checkpoints."""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import importlib
import itertools
import json
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.experiment._aggregate import ALL, aggregate_days, metric_names
from peakend.experiment._policy import Policy, policies_from
from peakend.experiment._results import Results

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario
    from peakend.journeys import Journeys

__all__ = ["DEFAULT_RULES", "CheckpointError", "replication_seed", "rule_label", "run"]

#: Memory rules scored by default; the first is the headline rule of tables and plots.
DEFAULT_RULES: tuple[str, ...] = ("peak_end", "mean", "integral", "end")

CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be used: made with other arguments, or not a checkpoint."""


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
        memory = importlib.import_module("peakend.memory")
        try:
            return str(memory.get_rule(rule).label)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"rules: unknown memory rule {rule!r}: {exc}") from exc
    label = getattr(rule, "label", None)
    if not isinstance(label, str):
        raise ValueError(f"rules: expected a rule name or rule object, got {rule!r}")
    return label


# --------------------------------------------------------------------------- worker side
_WARNINGS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16)
def _scenario_from_json(text: str) -> Scenario:
    config = importlib.import_module("peakend.config")
    scenario: Scenario = config.Scenario.model_validate_json(text)
    return scenario


@functools.lru_cache(maxsize=16)
def _scenario_rule_label(text: str) -> str:
    """Label of the memory rule of a scenario (JSON text): its ``remembered`` column."""
    rule = _scenario_from_json(text).memory
    memory = importlib.import_module("peakend.memory")
    return str(memory.get_rule(rule.rule, **rule.params).label)


def simulate_replication(task: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate and aggregate one (policy, replication); runs in a worker.

    The task and the result are plain data (str, int, numpy arrays), so any
    executor can ship them; ``peakend.sim.simulate`` is looked up at call time.

    Parameters
    ----------
    task : Mapping
        ``policy`` (index), ``replication``, ``seed``, ``scenario`` (JSON
        text), ``rules`` (names or rule objects), ``labels`` (their labels),
        ``keep_journeys`` and optionally ``survey``.

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
) -> list[tuple[Journeys, list[warnings.WarningMessage]]]:
    """Simulate the tasks' days one by one; each with the warnings it issued."""
    # the scenario was validated when parsed from JSON (cached per text) and is not
    # changed here, so simulate's per-call re-validation is skipped: same bits
    simulate = importlib.import_module("peakend.sim.model").simulate_validated
    out = []
    # warnings (e.g. an overloaded day) are returned as data and summarised once per
    # policy by run(), instead of being printed by every worker for every day.
    # catch_warnings swaps process-wide state, so threads (a threaded Dask worker)
    # take turns; SimPy holds the GIL anyway.
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for task in tasks:
            before = len(caught)
            journeys: Journeys = simulate(
                _scenario_from_json(task["scenario"]),
                replication_seed(task["seed"], task["replication"]),
            )
            out.append((journeys, caught[before:]))
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
    sizes = np.array([d.n_customers for d in days])
    scored: dict[str, np.ndarray] = {}
    if rest:
        lengths = np.concatenate([d.lengths for d in days])
        offsets = np.zeros(lengths.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        score_many = importlib.import_module("peakend.memory").score_many
        # engine="numpy": the engine "auto" would pick depends on the call's size,
        # hence on how days are chunked (which depends on the number of workers); the
        # NumPy engine gives every journey the same bits whatever the chunk
        scored = score_many(
            np.concatenate([d.episodes["affect"] for d in days]), offsets, list(rest),
            durations=np.concatenate([d.durations for d in days]), engine="numpy",
        )
    cuts = np.cumsum(sizes)[:-1]
    per_day: list[dict[str, np.ndarray]] = [{} for _ in days]
    for lab in labels:
        parts = (
            [d.customers["remembered"] for d in days] if lab == own
            else np.split(scored[lab], cuts)
        )
        for out, part in zip(per_day, parts, strict=True):
            out[lab] = part
    return per_day


def simulate_chunk(tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run several tasks (one round trip to a worker): simulate, then score and aggregate.

    The days are simulated one by one, then scored and reduced to per-segment
    aggregates together (a few array passes for the whole chunk instead of per
    day); the values are the same as for each task alone.
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
        scenarios = [_scenario_from_json(tasks[i]["scenario"]) for i in members]
        fixed = [getattr(sc, "fixed_cost", None) for sc in scenarios]
        reduced = aggregate_days(
            days, remembered, staff_costs=[float(sc.staff_cost()) for sc in scenarios],
            fixed_costs=[float(f()) if callable(f) else 0.0 for f in fixed], survey=survey,
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
                "warnings": [
                    (w.category.__module__, w.category.__qualname__, str(w.message))
                    for w in caught
                ],
            }
    return [r for r in results if r is not None]


# --------------------------------------------------------------------------- checkpoints
def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _npz_bytes(**arrays: Any) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


class Checkpoint:
    """A directory of finished (policy, replication) aggregates.

    Layout: ``manifest.json`` (the arguments and their hash), ``done/`` with
    one ``p<policy>-r<replication>.npz`` per finished task, written to a
    temporary file, fsynced and renamed into place (atomic), and ``journeys/``
    when journeys are kept. A task counts as finished when its file exists.

    Parameters
    ----------
    path : path-like
        The directory (created if missing).
    arguments : Mapping
        JSON-able description of the call (scenario, policies, seed, rules,
        library version); replications are not part of it, so a run can be
        extended with more replications.

    Raises
    ------
    CheckpointError
        If the directory holds a checkpoint made with other arguments, or is
        a non-empty directory that is not a checkpoint.
    """

    def __init__(self, path: str | os.PathLike[str], arguments: Mapping[str, Any]) -> None:
        self.root = Path(path)
        self.arguments = dict(arguments)
        self.key = hashlib.sha256(_canonical(self.arguments).encode()).hexdigest()
        manifest = self.root / "manifest.json"
        if self.root.exists() and not self.root.is_dir():
            raise CheckpointError(f"checkpoint {str(self.root)!r} exists and is not a directory")
        if manifest.is_file():
            stored = json.loads(manifest.read_text(encoding="utf-8"))
            if stored.get("key") != self.key:
                raise CheckpointError(self._mismatch(stored.get("arguments", {})))
        elif self.root.is_dir() and any(self.root.iterdir()):
            raise CheckpointError(
                f"checkpoint directory {str(self.root)!r} is not empty and has no manifest.json; "
                "give a new or empty directory"
            )
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            payload = {"format": CHECKPOINT_FORMAT, "key": self.key, "arguments": self.arguments}
            _atomic_write_bytes(manifest, json.dumps(payload, indent=1).encode())
        self.done_dir = self.root / "done"
        self.journeys_dir = self.root / "journeys"
        self.done_dir.mkdir(exist_ok=True)
        for folder in (self.done_dir, self.journeys_dir):
            if folder.is_dir():
                for stale in folder.glob(".tmp-*"):  # left by a killed run
                    stale.unlink(missing_ok=True)

    def _mismatch(self, stored: Mapping[str, Any]) -> str:
        differ = [k for k in sorted(set(stored) | set(self.arguments))
                  if _canonical(stored.get(k)) != _canonical(self.arguments.get(k))]
        details = []
        for k in differ:
            a, b = stored.get(k), self.arguments.get(k)
            if isinstance(a, (int, float, str)) or a is None:
                details.append(f"{k} (checkpoint {a!r}, now {b!r})")
            else:
                details.append(k)
        return (
            f"checkpoint {str(self.root)!r} was made with different arguments: "
            f"{', '.join(details) or 'unknown'}; use another checkpoint path, or delete "
            "this one to start over"
        )

    @staticmethod
    def _name(policy: int, replication: int) -> str:
        return f"p{policy:04d}-r{replication:06d}.npz"

    def load(self, policy: int, replication: int, need_journeys: bool) -> dict[str, Any] | None:
        """Return a finished task's result, or None if it is not (completely) there."""
        path = self.done_dir / self._name(policy, replication)
        if not path.is_file():
            return None
        jpath = self.journeys_dir / self._name(policy, replication)
        if need_journeys and not jpath.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                result: dict[str, Any] = {
                    "policy": policy,
                    "replication": replication,
                    "segments": [str(s) for s in z["segments"]],
                    "metrics": [str(m) for m in z["metrics"]],
                    "values": np.array(z["values"], dtype=np.float64),
                    "journeys": None,
                }
        except (OSError, ValueError, KeyError):  # unreadable: treat as not done
            return None
        if need_journeys:
            result["journeys"] = importlib.import_module("peakend.journeys").load_journeys(jpath)
        return result

    def save(self, result: Mapping[str, Any]) -> None:
        """Write one finished task atomically (journeys first, then the aggregate)."""
        name = self._name(result["policy"], result["replication"])
        if result.get("journeys") is not None:
            self.journeys_dir.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.journeys_dir, prefix=".tmp-", suffix=".npz")
            os.close(fd)
            try:
                result["journeys"].save(tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.journeys_dir / name)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        data = _npz_bytes(
            segments=np.array(result["segments"], dtype=np.str_),
            metrics=np.array(result["metrics"], dtype=np.str_),
            values=np.asarray(result["values"], dtype=np.float64),
        )
        _atomic_write_bytes(self.done_dir / name, data)


# --------------------------------------------------------------------------- execution
def _chunks(
    tasks: Sequence[Mapping[str, Any]], n_workers: int, *, shared: bool = False
) -> list[list[Mapping[str, Any]]]:
    """Split tasks into chunks of at most 8, about 8 per process, smaller where processes meet.

    A simulated day takes a few milliseconds, so one round trip per day would cost
    a noticeable share; chunks of up to 8 days (about 40 ms) make that negligible,
    and a killed run loses little (see :func:`run`). With ``shared=True`` the
    worker pool takes chunks from the front and this process from the back
    (:func:`_share`); they meet where the pool has done ``(n_workers - 1) /
    n_workers`` of the work. Towards that point the chunks shrink to one day, so
    that whoever finishes first waits for at most a day's simulation, not for a
    whole chunk.
    """
    n = len(tasks)
    size = max(1, min(8, -(-n // (8 * max(1, n_workers)))))
    if not shared or n_workers <= 1 or size == 1:
        return [list(tasks[i : i + size]) for i in range(0, n, size)]

    def tapered(length: int) -> list[int]:
        """Chunk sizes covering ``length`` tasks, shrinking to 1 towards the end."""
        sizes = []
        while length > 0:
            sizes.append(min(size, max(1, length // 4)))
            length -= sizes[-1]
        return sizes

    meet = n * (n_workers - 1) // n_workers
    sizes = tapered(meet) + tapered(n - meet)[::-1]
    bounds = [0, *itertools.accumulate(sizes)]
    return [list(tasks[a:b]) for a, b in itertools.pairwise(bounds)]


def _execute(
    tasks: Sequence[Mapping[str, Any]],
    *,
    workers: int | None,
    executor: cf.Executor | None,
    on_result: Callable[[dict[str, Any]], None],
    on_start: Callable[[], None] = lambda: None,
) -> None:
    """Run the tasks; ``on_start`` is called once work has started (processes launched)."""
    if not tasks:
        on_start()
        return
    if executor is not None:
        n = workers or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        _drain(executor, _chunks(tasks, n), on_result, on_start=on_start)
        return
    chunks = _chunks(tasks, workers or 1, shared=True)
    # this process is one of the ``workers``: it starts workers - 1 others (no idle
    # processes for a small run) and simulates alongside them
    spawned = min((workers or 1) - 1, len(chunks) - 1)
    if spawned < 1:
        on_start()
        for chunk in chunks:
            for res in simulate_chunk(chunk):
                on_result(res)
        return
    method = _start_method()
    pool = cf.ProcessPoolExecutor(max_workers=spawned, mp_context=_context(method))
    _share(pool, chunks, on_result, n_workers=spawned, on_start=on_start, method=method)


def _start_method() -> str:
    """How :func:`run` starts its worker processes: ``fork``, ``forkserver`` or ``spawn``.

    ``"fork"`` on Linux when this process runs no other Python thread: a forked
    worker starts in milliseconds with everything already imported; with one
    thread no lock can be left held by another thread, and the workers run only
    peakend's simulation. ``"forkserver"`` on Linux otherwise (a Jupyter kernel, a
    Dask client or other threads are running): a fresh single-threaded server
    process imports peakend once (:data:`_PRELOAD`, 0.5-1 s, while the first run
    of the session computes) and forks the workers of this and every later run
    from it, ready in tens of milliseconds. ``"spawn"`` elsewhere (macOS, whose system
    libraries are not fork-safe, and Windows): a fresh interpreter per worker, which
    imports NumPy, pydantic, SimPy and peakend (about 0.4 s). The results do not
    depend on it, bit for bit.
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux"):
        if threading.active_count() == 1 and "fork" in methods:
            return "fork"
        if "forkserver" in methods:
            return "forkserver"
    return "spawn"


#: Modules a fork server imports before forking workers, so that they start warm.
_PRELOAD = (
    "peakend.config", "peakend.memory", "peakend.sim.model", "peakend.experiment._run",
    "scipy.special",
)


def _context(method: str) -> Any:
    """Return the multiprocessing context of a start method (a fork server preloads peakend).

    The modules are added to the server's preload list, keeping any the caller
    set; the list only matters until the server starts (once per session).
    """
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        server = importlib.import_module("multiprocessing.forkserver")._forkserver
        current = list(getattr(server, "_preload_modules", None) or [])
        context.set_forkserver_preload(current + [m for m in _PRELOAD if m not in current])
    return context


def _drain(
    executor: cf.Executor,
    chunks: Sequence[Sequence[Mapping[str, Any]]],
    on_result: Callable[[dict[str, Any]], None],
    *,
    on_start: Callable[[], None] = lambda: None,
) -> None:
    """Submit every chunk and hand each result to ``on_result`` (in this thread) as it completes."""
    finished: queue.SimpleQueue[cf.Future[list[dict[str, Any]]]] = queue.SimpleQueue()
    futures = [executor.submit(simulate_chunk, [dict(t) for t in chunk]) for chunk in chunks]
    on_start()
    for fut in futures:  # called once per future: when it completes or is cancelled
        fut.add_done_callback(finished.put)
    try:
        for _ in futures:
            for res in finished.get().result():
                on_result(res)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise


def _worker_ready() -> int:
    """Return at once: a worker's answer to this first call shows that it has started."""
    return os.getpid()


def _share(
    pool: cf.Executor,
    chunks: Sequence[Sequence[Mapping[str, Any]]],
    on_result: Callable[[dict[str, Any]], None],
    *,
    n_workers: int,
    on_start: Callable[[], None] = lambda: None,
    method: str = "spawn",
) -> None:
    """Compute the chunks here and in a pool of ``n_workers`` fresh processes; shut it down.

    The pool takes chunks from the front, this process from the back. Chunks go to
    the pool only once a worker has started (answered an empty first call), then at
    most two per worker at a time (one computing, one queued), topped up between two
    of this process's own chunks. So this process computes while the workers start
    (a spawned worker imports NumPy, pydantic, SimPy and peakend: about 0.35 s), a
    run shorter than that is done by this process alone instead of waiting for them,
    and at the end no worker holds more than two chunks. The workers' results are
    handed to ``on_result`` (in this thread) between two of this process's chunks,
    so checkpoints are written as work completes. Results are ordered later by
    (policy, replication), so who computed what does not change them.

    A worker that is not forked is launched from a helper thread: launching blocks
    while a fork server starts (it imports peakend first, 0.5-1 s, once per
    session), and this process computes meanwhile. At the end the pool is shut down
    and its processes and thread are waited for, except workers that have not
    started yet (no answer to the first call): the helper shuts the pool down once
    they have, rather than this process waiting for them.

    If a worker process fails (it cannot start, e.g. a script without the
    ``if __name__ == "__main__":`` guard under ``spawn``, or it is killed), a
    ``RuntimeWarning`` says so and this process simulates the rest, including the
    chunks the worker had: the results are the same. An error raised by the
    simulation itself is raised here.
    """
    forked = method == "fork"
    finished: queue.SimpleQueue[cf.Future[list[dict[str, Any]]]] = queue.SimpleQueue()
    launcher = None
    if forked:
        ready = pool.submit(_worker_ready)
    else:
        ready = cf.Future()
        launched = threading.Event()  # the helper's submit has returned

        def launch() -> None:
            try:
                probe = pool.submit(_worker_ready)
            except BaseException as exc:  # handed to the run (ready.result() raises it)
                ready.set_exception(exc)
            else:
                probe.add_done_callback(lambda f: _copy_outcome(f, ready))
            finally:
                launched.set()

        launcher = threading.Thread(target=launch, name="peakend-launch", daemon=True)
        launcher.start()
    on_start()  # a forked pool has launched its workers by now
    if method == "forkserver":  # a running server forks a worker in milliseconds
        cf.wait([ready], timeout=0.05)
    lo, hi = 0, len(chunks)  # chunks[lo:hi] are not taken yet
    # chunks at the pool, not handed on yet
    given: dict[cf.Future[list[dict[str, Any]]], Sequence[Mapping[str, Any]]] = {}
    broken: list[BaseException] = []  # why the pool cannot be used any more, if so

    def give_up(exc: BaseException, depth: int = 0) -> None:
        if not broken:
            broken.append(exc)
            warnings.warn(
                f"run: a worker process failed ({type(exc).__name__}: {exc}); simulating "
                "the rest in this process (the results are the same). In a script, put "
                "the call under `if __name__ == \"__main__\":`",
                RuntimeWarning,
                stacklevel=5 + depth,  # run's caller (give_up < _share < _execute < run)
            )

    def hand_on(fut: cf.Future[list[dict[str, Any]]]) -> None:
        chunk = given.pop(fut)
        exc = fut.exception()
        if isinstance(exc, cf.BrokenExecutor):  # the worker died: do it here
            give_up(exc, 1)
            results = simulate_chunk(chunk)
        else:
            results = fut.result()  # an error in the simulation itself is raised
        for res in results:
            on_result(res)

    try:
        while lo < hi:
            while not finished.empty():
                hand_on(finished.get())
            # a forked worker starts in milliseconds: give it work at once; others only
            # once they have answered (a start may take longer than this whole run)
            if not broken and (forked or ready.done()):
                if ready.done() and ready.exception() is not None:
                    give_up(ready.exception())  # type: ignore[arg-type]
                while not broken and len(given) < 2 * n_workers and lo < hi:
                    try:
                        fut = pool.submit(simulate_chunk, [dict(t) for t in chunks[lo]])
                    except cf.BrokenExecutor as exc:
                        give_up(exc)
                        break
                    given[fut] = chunks[lo]
                    fut.add_done_callback(finished.put)
                    lo += 1
            if lo < hi:
                hi -= 1
                for res in simulate_chunk(chunks[hi]):
                    on_result(res)
        while given:
            hand_on(finished.get())
    except BaseException:
        for fut in given:
            fut.cancel()
        raise
    finally:
        if forked or ready.done():
            # waiting joins the pool's thread too: a thread left running would make
            # the next run use a fork server instead of fork (see _start_method)
            if launcher is not None:
                launcher.join()
            pool.shutdown(wait=True, cancel_futures=True)
        else:  # not started yet: shut down once the launch returns, not waiting here
            threading.Thread(
                target=_shutdown_after, args=(launched, pool), name="peakend-shutdown",
                daemon=True,
            ).start()


def _copy_outcome(source: cf.Future[Any], target: cf.Future[Any]) -> None:
    """Give ``target`` the result or exception of the finished ``source``."""
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


def _shutdown_after(launched: threading.Event, pool: cf.Executor) -> None:
    """Shut ``pool`` down (cancelling what is queued) once its launch has returned."""
    launched.wait()
    pool.shutdown(wait=False, cancel_futures=True)


class _NoProgress:
    """Stands in for a progress bar when none is wanted (tqdm is then not imported)."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    # tqdm.auto is imported only when a bar is wanted: in a notebook without ipywidgets
    # its import alone prints a warning, which progress=False must not produce.
    if not enabled:
        return _NoProgress()
    from tqdm.auto import tqdm

    # without tqdm's monitor thread (it only tunes the refresh of bars updated rarely):
    # a thread left running would make every later run use a fork server, not fork
    quiet = type("PeakendProgress", (tqdm,), {"monitor_interval": 0})
    return quiet(
        total=total, initial=initial, disable=not enabled, desc="peakend run", unit="day",
        leave=False, dynamic_ncols=True,
    )


def run(
    scenario: Scenario | str | os.PathLike[str],
    policies: Any = None,
    replications: int = 30,
    seed: int = 0,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    rules: Sequence[Any] = DEFAULT_RULES,
    keep_journeys: bool = False,
    survey: bool = False,
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
    replications : int, default 30
        Simulated days per policy, >= 1 (confidence intervals need >= 3).
    seed : int, default 0
        Root seed, >= 0.
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
        does the rest. ``None`` or 1 runs in this process only.
    executor : concurrent.futures.Executor, optional
        Any executor to run the replications on instead, for example a Dask
        ``distributed.Client(...).get_executor()``. Overrides ``workers``.
    progress : bool, default True
        Show a tqdm progress bar (``tqdm.auto``: a widget in Jupyter).
    checkpoint : path, optional
        Directory in which every finished (policy, replication) is written
        atomically. Calling again with the same arguments resumes: finished
        work is loaded, not re-simulated; a run killed at any moment loses only
        the replications in flight. Replications go in chunks of up to 8 days
        (one round trip to a worker; scored and aggregated together) and are
        written when their chunk is done: in flight are the chunk each process
        is computing, one chunk queued per worker process, and the workers'
        results that arrived while this process was computing its own chunk
        (written as soon as it finishes). A checkpoint made with a different
        scenario, policies, seed, rules or library version is refused with
        :class:`CheckpointError`. More replications than before is allowed.
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

    Returns
    -------
    Results
        Per policy, replication, segment and metric aggregates.

    Raises
    ------
    ValueError
        For an invalid argument (naming it), a policy that gives an invalid
        scenario (:class:`PolicyError`) or an unusable checkpoint
        (:class:`CheckpointError`).

    Warns
    -----
    RuntimeWarning
        If a worker process fails (``workers`` > 1); the run continues in this
        process with the same results.
    OverloadWarning
        Once per policy whose simulated days were overloaded, with the number of
        such days (likewise for any other warning the simulation issues).
    """
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)):
        raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1
    ):
        raise ValueError(f"workers must be None or an integer >= 1, got {workers!r}")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise ValueError(
            f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}"
        )
    replications, seed = int(replications), int(seed)
    rules = tuple(rules)
    if not rules:
        raise ValueError("rules must name at least one memory rule")
    labels = tuple(rule_label(r) for r in rules)
    if len(set(labels)) != len(labels):
        raise ValueError(f"rules must be distinct, got labels {list(labels)}")

    if not hasattr(scenario, "model_dump"):
        scenario = importlib.import_module("peakend.config").load_scenario(scenario)
    policy_list = policies_from(policies)
    applied = [p.apply(scenario) for p in policy_list]  # type: ignore[arg-type]
    scenario_texts = [s.model_dump_json() for s in applied]

    from peakend import __version__

    scenario_data = json.loads(scenario.model_dump_json())  # type: ignore[union-attr]
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

    n_pol = len(policy_list)
    results: dict[tuple[int, int], dict[str, Any]] = {}
    todo: list[dict[str, Any]] = []
    for p in range(n_pol):
        for r in range(replications):
            loaded = store.load(p, r, keep_journeys) if store is not None else None
            if loaded is not None:
                results[(p, r)] = loaded
                continue
            todo.append({
                "policy": p, "replication": r, "seed": seed, "scenario": scenario_texts[p],
                "rules": rules, "labels": labels, "keep_journeys": bool(keep_journeys),
                "survey": bool(survey),
            })

    bar: Any = _NoProgress()

    def on_start() -> None:
        # the bar is made once the worker processes are running: a progress widget
        # may start threads, and a process with a second thread does not fork them
        nonlocal bar
        bar = _progress_bar(n_pol * replications, len(results), progress)

    def on_result(res: dict[str, Any]) -> None:
        if store is not None:
            store.save(res)
        results[(res["policy"], res["replication"])] = res
        bar.update(1)

    try:
        _execute(todo, workers=workers, executor=executor, on_result=on_result,
                 on_start=on_start)
    finally:
        bar.close()
    _summarise_warnings(results, policy_list, replications)

    return _assemble(
        results, policy_list, replications, seed, labels, scenario_data, keep_journeys, survey
    )


def _warning_class(module: str, name: str) -> type[Warning]:
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
    """Re-issue the simulations' warnings once per policy and kind, with a count of days."""
    found: dict[tuple[int, str, str], list[str]] = {}
    for (p, _r), res in sorted(results.items()):
        seen = set()
        for module, name, message in res.get("warnings") or []:
            key = (p, module, name)
            if key not in seen:  # count days, not warnings
                found.setdefault(key, []).append(message)
                seen.add(key)
    for (p, module, name), messages in found.items():
        warnings.warn(
            f"policy {policy_list[p].name!r}: {len(messages)} of {replications} simulated "
            f"days issued {name}; the first: {messages[0]}",
            _warning_class(module, name),
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
        journeys_mod = importlib.import_module("peakend.journeys")
        journeys = {
            pol.name: journeys_mod.Journeys.concat(
                [results[(p, r)]["journeys"] for r in range(replications)]
            )
            for p, pol in enumerate(policy_list)
        }
    from peakend import __version__

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
