"""The progress bar of a run: a widget in Jupyter when ipywidgets is there, else text.

tqdm is imported only when a bar is wanted. ``tqdm.auto`` is not used: in a Jupyter
kernel without ipywidgets it warns "IProgress not found" on import; here the choice
is made first (:func:`bar_class`), so the text bar comes without a warning. The bar
runs no monitor thread (tqdm's ``TMonitor`` only tunes the refresh of bars updated
rarely): a thread left running would make every later run start its workers with a
fork server instead of ``fork`` (see ``_executor._start_method``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

__all__ = ["NoProgress", "bar_class", "in_jupyter_kernel", "progress_bar"]


class NoProgress:
    """Stands in for a progress bar when none is wanted (tqdm is then not imported)."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def in_jupyter_kernel() -> bool:
    """Whether this process is a Jupyter kernel that displays widgets (as tqdm.auto tells).

    A Qt console or Spyder, which cannot show widgets, counts as no.
    """
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    try:
        shell = sys.modules["IPython"].get_ipython()
    except (KeyError, AttributeError):
        return False
    name = type(shell).__name__.lower()
    return shell is not None and "qt" not in name and "spyder" not in name


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. sys.modules[name] is None: blocked
        return False


def bar_class(notebook: bool | None = None) -> type[Any]:
    """Return the tqdm class of a run's bar: ``tqdm.notebook.tqdm`` in Jupyter with ipywidgets.

    Parameters
    ----------
    notebook : bool, optional
        Whether to aim at a notebook; by default :func:`in_jupyter_kernel`.

    Returns
    -------
    type
        A subclass of the chosen tqdm class without a monitor thread.
    """
    if notebook is None:
        notebook = in_jupyter_kernel()
    base: type[Any] | None = None
    if notebook and _importable("ipywidgets"):
        from tqdm import notebook as tqdm_notebook

        if getattr(tqdm_notebook, "IProgress", None) is not None:  # None: too old, broken
            base = tqdm_notebook.tqdm
    if base is None:
        from tqdm import std

        base = std.tqdm
    return type("PeakendProgress", (base,), {"monitor_interval": 0})


def progress_bar(total: int, initial: int, enabled: bool) -> Any:
    """Return a progress bar over ``total`` simulated days, ``initial`` of them done.

    Parameters
    ----------
    total : int
        Days in the run.
    initial : int
        Days already done (loaded from a checkpoint).
    enabled : bool
        False gives a stand-in that shows nothing (and imports nothing).

    Returns
    -------
    object
        With ``update(n)`` and ``close()``.
    """
    if not enabled:
        return NoProgress()
    return bar_class()(
        total=total, initial=initial, desc="peakend run", unit="day", leave=False,
        dynamic_ncols=True,
    )
