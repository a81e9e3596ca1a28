"""Executors of a run: this process alone, a pool of worker processes beside it, or any executor.

:func:`execute` hands chunks of tasks to :func:`~peakend.experiment._tasks.simulate_chunk`
in this process, in a ``ProcessPoolExecutor`` started with ``fork``, a fork server or
``spawn`` (see :func:`_start_method`), or on a given ``concurrent.futures`` executor
(Dask included), and passes every result to a callback in this thread, as it completes.
Worker processes die with the process that started them (:mod:`._lifeline`).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from peakend.experiment._lifeline import worker_initializer
from peakend.experiment._tasks import simulate_chunk

__all__ = ["execute"]


#: The most days in one chunk (one round trip to a worker, one batch of days).
CHUNK_DAYS = 32


def _chunks(
    tasks: Sequence[Mapping[str, Any]], n_workers: int, *, shared: bool = False
) -> list[list[Mapping[str, Any]]]:
    """Split tasks into chunks of at most 32, about 8 per process, smaller where processes meet.

    A simulated day takes a few milliseconds, so one round trip per day would cost
    a noticeable share, and a worker simulates the days of a chunk's policy together
    (:func:`peakend.sim.batch.simulate_days`: the fixed cost of a call is paid once per
    chunk); chunks of up to 32 days (about 30 ms with the compiled engine, 150 ms with
    SimPy, for the default branch) make both negligible, and a killed run loses
    little (see :func:`run`). With ``shared=True`` the
    worker pool takes chunks from the front and this process from the back
    (:func:`_share`); they meet where the pool has done ``(n_workers - 1) /
    n_workers`` of the work. Towards that point the chunks shrink to one day, so
    that whoever finishes first waits for at most a day's simulation, not for a
    whole chunk.
    """
    n = len(tasks)
    size = max(1, min(CHUNK_DAYS, -(-n // (8 * max(1, n_workers)))))
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


def execute(
    tasks: Sequence[Mapping[str, Any]],
    *,
    workers: int | None,
    executor: cf.Executor | None,
    on_result: Callable[[dict[str, Any]], None],
    on_start: Callable[[], None] = lambda: None,
) -> None:
    """Run the tasks and hand each result to ``on_result``, in this thread, as it completes.

    Parameters
    ----------
    tasks : sequence of Mapping
        Tasks for :func:`~peakend.experiment._tasks.simulate_chunk`.
    workers : int or None
        Processes to use, this one included (see :func:`peakend.run`); with an
        ``executor``, the number of chunks to aim at per worker.
    executor : concurrent.futures.Executor or None
        Run every chunk there instead (this process only collects).
    on_result : callable
        Called with each task's result (in completion order, not task order).
    on_start : callable, optional
        Called once, when work has started (worker processes launched): a
        progress bar made later cannot start a thread before the workers fork.
    """
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
    pool = cf.ProcessPoolExecutor(
        max_workers=spawned, mp_context=_context(method), initializer=worker_initializer,
        initargs=(os.getpid(), method),
    )
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
    "peakend.config", "peakend.memory", "peakend.sim.model", "peakend.sim.batch",
    "peakend.experiment._tasks",
    "peakend.experiment._lifeline", "scipy.special",
)


def _context(method: str) -> Any:
    """Return the multiprocessing context of a start method (a fork server preloads peakend).

    The modules are added to the server's preload list, keeping any the caller
    set; the list only matters until the server starts (once per session).
    """
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        server = multiprocessing.forkserver._forkserver
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
                stacklevel=5 + depth,  # run's caller (give_up < _share < execute < run)
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


