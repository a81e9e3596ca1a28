"""A small cache of what is built from a scenario object once and read on every day.

``run`` simulates many days of the same scenario object, so what depends only on the
scenario (the draws' share tables, the compiled engine's packed queue plan) is built once
and looked up by the object's identity. Scenarios are frozen models, and a changed copy
(``model_copy``, a policy) is a new object, so identity is a safe key; the cache holds
each scenario alive, so that its ``id()`` is not reused while the entry is cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["ScenarioCache"]

T = TypeVar("T")


class ScenarioCache(Generic[T]):
    """The last ``size`` values built from (scenario object, key), thread-safe.

    Parameters
    ----------
    size : int
        How many entries to keep (least recently used dropped first).
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[Any, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, scenario: Any, key: Hashable, build: Callable[[], T]) -> T:
        """Return the value cached for ``(scenario, key)``, built by ``build()`` if absent."""
        k = (id(scenario), key)
        with self._lock:
            hit = self._entries.get(k)
            if hit is not None and hit[0] is scenario:
                self._entries.move_to_end(k)
                return hit[1]
        value = build()  # outside the lock: building may take a while
        with self._lock:
            self._entries[k] = (scenario, value)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
