"""The compiled kernel's short way for a day of one first-come queue (numba).

:func:`_fifo_day` tells whether a day can take it: one queue key served by one counter
group (its only candidate), nobody who can renege or balk, no shift change after the
opening. :func:`_move_fifo` then moves the day with the same events in the same
(time, scheduling number) order on the same event heap as
:func:`peakend.sim.compiled._kernel._move_day`, leaving out what such a day cannot have,
so the record is the same bit for bit (``tests/test_compiled_chunk.py`` compares them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from peakend.sim.compiled._heaps import (
    _CLOSE,
    _DONE,
    _DOOR,
    _NEV,
    _RENEGED,
    _SERVING,
    _WAITING,
    _WAKE,
    _ev_pop,
    _schedule,
)

__all__ = ["_fifo_day", "_move_fifo"]


@njit(cache=True)
def _fifo_day(
    keys: Any,
    pat: Any,
    balk: Any,
    n_keys: int,
    cand_ptr: Any,
    cand_idx: Any,
    gt_ptr: Any,
    ch_time: Any,
) -> int:  # pragma: no cover - compiled
    """Return the group of a day that :func:`_move_fifo` can move (else -1).

    One queue key, served by one counter group (its only candidate), nobody who can
    renege or balk, no shift change after the opening.
    """
    n = keys.size
    if n == 0:
        return -1
    k = keys[0]
    if k < 0 or k >= n_keys or cand_ptr[k + 1] - cand_ptr[k] != 1:
        return -1
    for i in range(ch_time.size):
        if ch_time[i] > 0.0:
            return -1
    for i in range(n):
        if keys[i] != k or pat[i] < np.inf or balk[i] < np.inf:
            return -1
    gi = cand_idx[cand_ptr[k]]
    if gt_ptr[gi + 1] - gt_ptr[gi] > 64:
        return -1  # many tellers: the generic loop's count tree finds a free one faster
    return gi


@njit(cache=True)
def _move_fifo(
    join: Any,
    svc: Any,
    hall: Any,
    horizon: float,
    dismiss: bool,
    gi: int,  # the one group that serves the day's one key
    teller_gi: Any,
    gt_ptr: Any,
    gt_list: Any,
    pos_of: Any,
    ch_time: Any,
    ch_teller: Any,
    ch_on: Any,
    state: Any,
    start: Any,
    end: Any,
    leave: Any,
    served_by: Any,
    seen: Any,
    ahead_seen: Any,
    q_time: Any,
    q_len: Any,
) -> Any:  # pragma: no cover - compiled
    """:func:`_move_day` for a day :func:`_fifo_day` accepts: the same record, bit for bit.

    The same events in the same (time, scheduling number) order, on the same event
    heap; what such a day cannot have is left out: the levels and keys of the pick (one
    first-come queue), the count tree (a scan of the group's few tellers, lowest
    position first, as the tree's search), reneging deadlines, balking and the shift
    plan's events (its changes at the opening are applied before the start, as there).
    Tellers of the other groups never serve anyone: only their first pass (idle) is
    left, which schedules nothing.
    """
    n = join.size
    n_tellers = teller_gi.size
    for i in range(n):
        state[i] = 0
        start[i] = np.nan
        end[i] = np.nan
        leave[i] = np.nan
        served_by[i] = -1
        seen[i] = 0
        ahead_seen[i] = 0
    q_time[0] = 0.0
    q_len[0] = 0
    nq = 1
    sc = np.zeros(8, dtype=np.int64)  # the event heap's counters (_EID, _NEV)

    on_duty = np.zeros(n_tellers, dtype=np.bool_)
    for i in range(ch_time.size):
        on_duty[ch_teller[i]] = ch_on[i]  # every change is at the opening
    g0 = gt_ptr[gi]
    m = gt_ptr[gi + 1] - g0
    free = np.zeros(m, dtype=np.bool_)  # per position in the group: idle and on duty
    n_free = 0
    for p in range(m):  # the tellers' first pass: nobody waits yet, so the on-duty idle
        if on_duty[gt_list[g0 + p]]:
            free[p] = True
            n_free += 1
    cur = np.full(n_tellers, -1, dtype=np.int64)
    wq = np.empty(max(n, 1), dtype=np.int64)  # the waiting customers, first come first
    qh = 0
    qt = 0
    n_hall = 0
    door_slot = n_tellers
    close_slot = n_tellers + 2
    ev = np.zeros((n_tellers + 3, 3))
    pk = np.zeros(n_tellers + 3, dtype=np.int64)
    pv = np.zeros(n_tellers + 3, dtype=np.int64)

    door_c = 0
    now = 0.0
    kind = _DOOR  # the door's first pass (after the tellers'), then the closing's
    who = door_slot
    value = 1
    first = True
    while True:
        if kind == _DONE:
            t = who
            end[cur[t]] = now
            if qt > qh:  # the earliest ticket waiting
                c = wq[qh]
                qh += 1
                state[c] = _SERVING
                if hall[c]:
                    n_hall -= 1
                    q_time[nq] = now
                    q_len[nq] = n_hall
                    nq += 1
                start[c] = now
                served_by[c] = t
                cur[t] = c
                pk[t] = _DONE
                _schedule(ev, sc, now + svc[c], t)
            else:
                p = pos_of[t] - g0
                free[p] = True
                n_free += 1
        elif kind == _WAKE:  # handed over by the door as they took their ticket
            t = who
            c = value
            start[c] = join[c]
            served_by[c] = t
            cur[t] = c
            pk[t] = _DONE
            _schedule(ev, sc, now + svc[c], t)
        elif kind == _DOOR:
            check = value == 1
            while door_c < n:
                c = door_c
                if check:
                    delay = join[c] - now
                    if delay > 0:
                        pk[door_slot] = _DOOR
                        pv[door_slot] = 0
                        _schedule(ev, sc, now + delay, door_slot)
                        break
                check = True
                door_c += 1
                seen[c] = n_hall
                if dismiss and now >= horizon:
                    state[c] = _RENEGED
                    leave[c] = now
                    continue
                ahead_seen[c] = qt - qh
                if n_free != 0:
                    p = 0
                    while not free[p]:
                        p += 1
                    t = gt_list[g0 + p]
                    free[p] = False
                    n_free -= 1
                    state[c] = _SERVING
                    pk[t] = _WAKE
                    pv[t] = c
                    _schedule(ev, sc, now, t)
                else:
                    state[c] = _WAITING
                    wq[qt] = c
                    qt += 1
                    if hall[c]:
                        n_hall += 1
                        q_time[nq] = now
                        q_len[nq] = n_hall
                        nq += 1
        else:  # _CLOSE
            if value == 1:
                pk[close_slot] = _CLOSE
                pv[close_slot] = 0
                _schedule(ev, sc, now + horizon, close_slot)
            else:
                for j in range(qh, qt):
                    c = wq[j]
                    state[c] = _RENEGED
                    leave[c] = now
                qh = qt
                if n_hall != 0:
                    n_hall = 0
                    q_time[nq] = now
                    q_len[nq] = 0
                    nq += 1
        if first:
            first = False
            if dismiss:  # the closing's first pass, at the opening
                kind = _CLOSE
                value = 1
                continue
        if sc[_NEV] == 0:
            break
        now = ev[0, 0]
        who = int(ev[0, 2])
        kind = pk[who]
        value = pv[who]
        _ev_pop(ev, sc)
    return 0, nq
