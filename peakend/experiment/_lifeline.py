"""Worker processes die with the process that started them.

A worker of :func:`peakend.run` is of no use once the run's process is gone, and one
left running would keep computing (and holding memory) for nobody, as a forked worker
of a SIGKILLed run did before. Each worker calls :func:`worker_initializer` when it
starts:

* on Linux, for workers started with ``fork`` or by a fork server, the kernel is
  asked to SIGKILL the worker when its parent dies (``prctl(PR_SET_PDEATHSIG)``,
  through ctypes). A forked worker's parent is the run's process; a fork server's
  worker's parent is the server, which exits once every process holding its "alive"
  pipe has ended: the run's process and, as ``multiprocessing`` has it, every worker
  the server forked. So a worker closes its copy first (it starts no processes), and
  the server ends with the run's process, taking the workers with it. (A
  spawned worker is not given it: the kernel sends the signal when the *thread* that
  started the worker ends, and ``run`` may start a spawned worker from a helper
  thread that ends at once.)
* otherwise, a daemon thread of the worker waits for its parent to end (the
  sentinel ``multiprocessing`` gives every child, or a change of ``os.getppid()``
  where there is none) and then ends the worker.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import sys
import threading
import time

__all__ = ["set_parent_death_signal", "worker_initializer"]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_POLL_SECONDS = 0.5  # the getppid() fallback's interval


def set_parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent (thread) ends.

    Parameters
    ----------
    signum : int, default SIGKILL
        The signal.

    Returns
    -------
    bool
        Whether it was set (False on other systems, or if ``prctl`` is unavailable).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        return False
    return bool(result == 0)


def _exit_when_parent_ends(parent_pid: int) -> None:
    """Block until the parent process has ended, then end this process at once."""
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is not None:
        try:
            multiprocessing.connection.wait([sentinel])
        except OSError:  # the sentinel is unusable: fall back to polling
            pass
        else:
            os._exit(1)
    while os.getppid() == parent_pid:
        time.sleep(_POLL_SECONDS)
    os._exit(1)


def _release_fork_server() -> None:
    """Close this worker's copy of its fork server's "alive" pipe (see the module docstring)."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        try:
            os.close(fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def worker_initializer(owner_pid: int, method: str) -> None:
    """Make this worker process end when the run's process ends; call it first in a worker.

    Parameters
    ----------
    owner_pid : int
        Process id of the process that runs :func:`peakend.run`.
    method : str
        How the worker was started: ``"fork"``, ``"forkserver"`` or ``"spawn"``.
    """
    parent = os.getppid()
    if method == "forkserver":
        _release_fork_server()
    elif parent != owner_pid:  # the run ended before we began
        os._exit(1)
    if method != "spawn" and set_parent_death_signal():
        if os.getppid() != parent:  # the parent ended before the signal was set
            os._exit(1)
        return
    threading.Thread(
        target=_exit_when_parent_ends, args=(parent,), name="peakend-lifeline", daemon=True
    ).start()
