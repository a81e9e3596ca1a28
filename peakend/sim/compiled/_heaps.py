"""The compiled event loop's data structures (numba): the event heap, deadlines, a count tree.

Part of the kernel of :func:`peakend.sim.compiled.move_compiled`
(:mod:`peakend.sim.compiled._kernel` holds the event loop itself): SimPy's event heap as
an array heap ordered by (time, scheduling number), the reneging deadlines as a heap in
(deadline, customer) order, and a binary count tree of the idle tellers of each group.
Each function is compiled with ``cache=True``. Numba's cache of the event loop is keyed
on ``_kernel.py``: after changing a function here, clear ``__pycache__`` (an installed
release changes both files together).
"""

from __future__ import annotations

from typing import Any

from numba import njit

__all__ = [
    "_BALKED", "_CLOSE", "_DONE", "_DOOR", "_EID", "_HALL", "_NDL", "_NEV", "_NEW", "_NFREE",
    "_NQ", "_RENEGED", "_SERVING", "_SHIFT", "_WAITING", "_WAKE", "_dl_less", "_dl_pop",
    "_dl_push", "_ev_pop", "_expire", "_schedule", "_tree_descend", "_tree_first", "_tree_set",
]

# customer states, as in peakend.sim.movement
_NEW, _WAITING, _SERVING, _BALKED, _RENEGED = 0, 1, 2, 3, 4

# event kinds on the heap
_DOOR, _WAKE, _DONE, _SHIFT, _CLOSE = 0, 1, 2, 3, 4

# slots of the scalar state array
_HALL, _NFREE, _EID, _NQ, _NDL, _NEV = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def _schedule(ev: Any, sc: Any, time: float, slot: int) -> None:  # pragma: no cover - compiled
    """``Environment.schedule``: push (time, next scheduling number, slot) on the heap.

    The heap is one row per pending event (time, scheduling number, process slot), in
    SimPy's (time, priority, number) order: every event on it has NORMAL priority (the
    URGENT initialisations run before the loop starts). Each process has at most one
    pending event, so its kind and value are kept per slot by the caller.
    """
    i = sc[_NEV]
    sc[_NEV] = i + 1
    eid = float(sc[_EID])  # exact: far below 2**53 events
    sc[_EID] += 1
    while i > 0:  # sift up, moving the hole instead of swapping
        p = (i - 1) >> 1
        if time < ev[p, 0] or (time == ev[p, 0] and eid < ev[p, 1]):
            ev[i, 0] = ev[p, 0]
            ev[i, 1] = ev[p, 1]
            ev[i, 2] = ev[p, 2]
            i = p
        else:
            break
    ev[i, 0] = time
    ev[i, 1] = eid
    ev[i, 2] = slot


@njit(cache=True)
def _ev_pop(ev: Any, sc: Any) -> None:  # pragma: no cover - compiled
    """Remove the heap's top (the caller has read it from row 0)."""
    n = sc[_NEV] - 1
    sc[_NEV] = n
    if n == 0:
        return
    t = ev[n, 0]
    e = ev[n, 1]
    w = ev[n, 2]
    i = 0
    while True:  # sift the last row down from the root
        a = 2 * i + 1
        if a >= n:
            break
        b = a + 1
        m = a
        if b < n and (ev[b, 0] < ev[a, 0] or (ev[b, 0] == ev[a, 0] and ev[b, 1] < ev[a, 1])):
            m = b
        if ev[m, 0] < t or (ev[m, 0] == t and ev[m, 1] < e):
            ev[i, 0] = ev[m, 0]
            ev[i, 1] = ev[m, 1]
            ev[i, 2] = ev[m, 2]
            i = m
        else:
            break
    ev[i, 0] = t
    ev[i, 1] = e
    ev[i, 2] = w


@njit(cache=True)
def _dl_less(dl_t: Any, dl_c: Any, i: int, j: int) -> bool:  # pragma: no cover - compiled
    # heapq's order of (deadline, customer) tuples
    if dl_t[i] < dl_t[j]:
        return True
    if dl_t[i] > dl_t[j]:
        return False
    return dl_c[i] < dl_c[j]


@njit(cache=True)
def _dl_push(
    dl_t: Any, dl_c: Any, sc: Any, at: float, c: int
) -> None:  # pragma: no cover - compiled
    i = sc[_NDL]
    sc[_NDL] = i + 1
    dl_t[i] = at
    dl_c[i] = c
    while i > 0:
        p = (i - 1) >> 1
        if _dl_less(dl_t, dl_c, i, p):
            dl_t[i], dl_t[p] = dl_t[p], dl_t[i]
            dl_c[i], dl_c[p] = dl_c[p], dl_c[i]
            i = p
        else:
            break


@njit(cache=True)
def _dl_pop(dl_t: Any, dl_c: Any, sc: Any) -> None:  # pragma: no cover - compiled
    n = sc[_NDL] - 1
    sc[_NDL] = n
    if n == 0:
        return
    dl_t[0], dl_t[n] = dl_t[n], dl_t[0]
    dl_c[0], dl_c[n] = dl_c[n], dl_c[0]
    i = 0
    while True:
        a = 2 * i + 1
        if a >= n:
            break
        b = a + 1
        m = a
        if b < n and _dl_less(dl_t, dl_c, b, a):
            m = b
        if _dl_less(dl_t, dl_c, m, i):
            dl_t[i], dl_t[m] = dl_t[m], dl_t[i]
            dl_c[i], dl_c[m] = dl_c[m], dl_c[i]
            i = m
        else:
            break


@njit(cache=True)
def _expire(
    now: float,
    dl_t: Any,
    dl_c: Any,
    sc: Any,
    state: Any,
    leave: Any,
    n_wait: Any,
    keys: Any,
    hall: Any,
    q_time: Any,
    q_len: Any,
) -> None:  # pragma: no cover - compiled
    """Reneging deadlines up to ``now``, in (deadline, customer) order, at their own time."""
    while sc[_NDL] > 0 and dl_t[0] <= now:
        at = dl_t[0]
        c = dl_c[0]
        _dl_pop(dl_t, dl_c, sc)
        if state[c] == _WAITING:
            state[c] = _RENEGED
            leave[c] = at
            n_wait[keys[c]] -= 1
            if hall[c]:
                sc[_HALL] -= 1
                q_time[sc[_NQ]] = at
                q_len[sc[_NQ]] = sc[_HALL]
                sc[_NQ] += 1


@njit(cache=True)
def _tree_set(tree: Any, size: int, pos: int, value: int) -> None:  # pragma: no cover - compiled
    i = pos + size
    if tree[i] == value:
        return
    tree[i] = value
    i >>= 1
    while i >= 1:
        tree[i] = tree[2 * i] + tree[2 * i + 1]
        i >>= 1


@njit(cache=True)
def _tree_descend(tree: Any, size: int, v: int) -> int:  # pragma: no cover - compiled
    while v < size:
        v = 2 * v if tree[2 * v] > 0 else 2 * v + 1
    return v - size


@njit(cache=True)
def _tree_first(
    tree: Any, size: int, lo: int, hi: int, stack: Any
) -> int:  # pragma: no cover - compiled
    """Return the first position in [lo, hi) whose leaf is set, or -1."""
    left = lo + size
    right = hi + size
    nr = 0
    while left < right:
        if left & 1:
            if tree[left] > 0:
                return _tree_descend(tree, size, left)
            left += 1
        if right & 1:
            right -= 1
            stack[nr] = right
            nr += 1
        left >>= 1
        right >>= 1
    for j in range(nr - 1, -1, -1):
        v = stack[j]
        if tree[v] > 0:
            return _tree_descend(tree, size, v)
    return -1
