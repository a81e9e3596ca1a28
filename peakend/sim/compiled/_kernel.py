"""The compiled event loop of :func:`peakend.sim.compiled.move_compiled` (numba).

Imported only when a day is moved with the compiled engine, never by ``import peakend``.
The kernels are compiled once and cached on disk (``cache=True``); every input is cast to
a fixed dtype by the caller, so each has a single signature. :func:`move_kernel` moves
one day, :func:`move_days_kernel` the days of a chunk, each day with :func:`_move_day`
(or, for a day of one first-come queue with nothing that changes during it, the short
way :func:`~peakend.sim.compiled._fifo._move_fifo`: the same events in the same
order), writing into the chunk's arrays.

The kernel is :func:`peakend.sim.movement.move` written as a state machine: the SimPy
engine's event callbacks (:mod:`peakend.sim.event_loop`: the tellers', the door's, the
shift plan's and the closing's, which give the day of the generator processes they
replaced, bit for bit) become resume points,
SimPy's event heap becomes an array heap ordered by (time, scheduling number), and the
Python lists of scalars become arrays (the heaps and the count tree are in
:mod:`peakend.sim.compiled._heaps`). See the tie rule in :mod:`peakend.sim.compiled`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from peakend.sim.compiled._fifo import _fifo_day, _move_fifo
from peakend.sim.compiled._heaps import (
    _BALKED,
    _CLOSE,
    _DONE,
    _DOOR,
    _HALL,
    _NDL,
    _NEV,
    _NEW,
    _NFREE,
    _NQ,
    _RENEGED,
    _SERVING,
    _SHIFT,
    _WAITING,
    _WAKE,
    _dl_push,
    _ev_pop,
    _expire,
    _schedule,
    _tree_first,
    _tree_set,
)

__all__ = ["move_days_kernel", "move_kernel"]

@njit(cache=True)
def _move_day(
    join: Any,  # float64[n], join order
    keys: Any,  # int64[n]
    svc: Any,  # float64[n]
    pat: Any,  # float64[n]
    balk: Any,  # float64[n]
    hall: Any,  # bool[n]
    horizon: float,
    dismiss: bool,
    can_leave: bool,
    can_balk: bool,
    n_keys: int,  # max present key + 1
    present: Any,  # int64[], the present keys
    cand_ptr: Any,
    cand_idx: Any,  # key -> candidate groups, best first
    ahead_ptr: Any,
    ahead_idx: Any,  # key -> keys whose waiting customers are ahead
    glev_ptr: Any,  # group -> range of its levels
    lev_ptr: Any,
    lev_keys: Any,  # level -> its keys
    teller_gi: Any,  # int64[T], group of each teller
    gt_ptr: Any,
    gt_list: Any,  # group -> its tellers, ascending (tree positions)
    pos_of: Any,  # int64[T], teller -> tree position
    ch_time: Any,
    ch_teller: Any,
    ch_on: Any,  # shift changes in time order
    state: Any,  # out: int8[n]
    start: Any,  # out: float64[n]
    end: Any,  # out: float64[n]
    leave: Any,  # out: float64[n]
    served_by: Any,  # out: int32[n]
    seen: Any,  # out: int32[n]
    ahead_seen: Any,  # out: int32[n]
    q_time: Any,  # out: float64[2n + 2], the hall series (its first nq entries)
    q_len: Any,  # out: int32[2n + 2]
) -> Any:  # pragma: no cover - compiled
    """Move one day, writing its record into the given arrays; return (error, nq)."""
    n = join.size
    n_tellers = teller_gi.size
    n_groups = gt_ptr.size - 1
    n_changes = ch_time.size
    inf = np.inf

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
    n_wait = np.zeros(n_keys, dtype=np.int64)
    sc = np.zeros(8, dtype=np.int64)
    sc[_NQ] = 1  # the series starts at (0, 0)

    # one first-come queue per key: a linked list through the customers
    q_head = np.full(n_keys, -1, dtype=np.int64)
    q_tail = np.full(n_keys, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)

    on_duty = np.zeros(n_tellers, dtype=np.bool_)
    idle = np.zeros(n_tellers, dtype=np.bool_)
    cur = np.full(n_tellers, -1, dtype=np.int64)
    n_free_of = np.zeros(n_groups, dtype=np.int64)
    # the free (idle and on duty) tellers, per group a range of leaves in one tree of
    # counts: the door finds a group's lowest-numbered free teller in O(log tellers)
    size = 1
    while size < max(n_tellers, 1):
        size *= 2
    tree = np.zeros(2 * size, dtype=np.int64)
    stack = np.zeros(128, dtype=np.int64)

    dl_t = np.zeros(max(n, 1))
    dl_c = np.zeros(max(n, 1), dtype=np.int64)
    # pending events: slots 0..T-1 the tellers, then the door, the shift plan, the closing
    door_slot = n_tellers
    shift_slot = n_tellers + 1
    close_slot = n_tellers + 2
    ev = np.zeros((n_tellers + 3, 3))
    pk = np.zeros(n_tellers + 3, dtype=np.int64)  # kind of each slot's pending event
    pv = np.zeros(n_tellers + 3, dtype=np.int64)  # its value (a customer, -1, or a flag)

    for i in range(n_changes):
        if ch_time[i] <= 0.0:
            on_duty[ch_teller[i]] = ch_on[i]

    door_c = 0
    shift_i = 0
    error = 0
    # Initialize events (URGENT, time 0) in env.process order: tellers, door, shifts,
    # closing; then the heap of NORMAL events
    n_init = n_tellers + 1 + (1 if n_changes > 0 else 0) + (1 if dismiss else 0)
    step = 0
    now = 0.0
    while True:
        if step < n_init:
            if step < n_tellers:
                kind, who, value = _WAKE, step, -1  # a teller's first pass = a wake with -1
            elif step == n_tellers:
                kind, who, value = _DOOR, 0, 1  # value 1: the door checks the first delay
            elif step == n_tellers + 1 and n_changes > 0:
                kind, who, value = _SHIFT, 0, 1  # value 1: fresh start, check the times
            else:
                kind, who, value = _CLOSE, 0, 1  # value 1: the closing's first pass
            step += 1
        else:
            if sc[_NEV] == 0:
                break
            now = ev[0, 0]
            who = int(ev[0, 2])
            kind = pk[who]
            value = pv[who]
            _ev_pop(ev, sc)

        if kind == _WAKE or kind == _DONE:
            t = who
            top = True
            if kind == _DONE:
                end[cur[t]] = now
            elif value >= 0:
                # handed over by the door as they took their ticket: no wait at all
                c = value
                start[c] = join[c]
                served_by[c] = t
                cur[t] = c
                pk[t] = _DONE
                _schedule(ev, sc, now + svc[c], t)
                top = False
            if top:
                gi = teller_gi[t]
                c = -1
                if on_duty[t]:
                    if sc[_NDL] > 0 and dl_t[0] <= now:
                        _expire(
                            now, dl_t, dl_c, sc, state, leave, n_wait, keys, hall, q_time, q_len
                        )
                    # pick: the earliest ticket of the first level with anyone waiting
                    for lv in range(glev_ptr[gi], glev_ptr[gi + 1]):
                        best = -1
                        best_k = -1
                        for j in range(lev_ptr[lv], lev_ptr[lv + 1]):
                            k = lev_keys[j]
                            h = q_head[k]
                            while h >= 0 and state[h] != _WAITING:
                                h = nxt[h]
                            q_head[k] = h
                            if h < 0:
                                q_tail[k] = -1
                            elif best < 0 or h < best:
                                best = h
                                best_k = k
                        if best_k >= 0:
                            q_head[best_k] = nxt[best]
                            if q_head[best_k] < 0:
                                q_tail[best_k] = -1
                            c = best
                            break
                if c < 0:
                    idle[t] = True
                    if on_duty[t]:
                        _tree_set(tree, size, pos_of[t], 1)
                        n_free_of[gi] += 1
                        sc[_NFREE] += 1
                else:
                    state[c] = _SERVING
                    n_wait[keys[c]] -= 1
                    if hall[c]:
                        sc[_HALL] -= 1
                        q_time[sc[_NQ]] = now
                        q_len[sc[_NQ]] = sc[_HALL]
                        sc[_NQ] += 1
                    start[c] = now
                    served_by[c] = t
                    cur[t] = c
                    pk[t] = _DONE
                    _schedule(ev, sc, now + svc[c], t)

        elif kind == _DOOR:
            check = value == 1  # a resumed door takes its customer without checking
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
                if sc[_NDL] > 0 and dl_t[0] <= now:
                    _expire(now, dl_t, dl_c, sc, state, leave, n_wait, keys, hall, q_time, q_len)
                seen[c] = sc[_HALL]
                if dismiss and now >= horizon:
                    state[c] = _RENEGED
                    leave[c] = now
                    continue
                k = keys[c]
                ahead_c = 0
                for j in range(ahead_ptr[k], ahead_ptr[k + 1]):
                    ahead_c += n_wait[ahead_idx[j]]
                ahead_seen[c] = ahead_c
                handed = False
                if sc[_NFREE] != 0:
                    for j in range(cand_ptr[k], cand_ptr[k + 1]):
                        gi = cand_idx[j]
                        if n_free_of[gi] != 0:
                            p = _tree_first(tree, size, gt_ptr[gi], gt_ptr[gi + 1], stack)
                            if p < 0:
                                error = 1  # SimPy: popping an empty heap (model bug)
                                break
                            t = gt_list[p]
                            idle[t] = False
                            _tree_set(tree, size, p, 0)
                            n_free_of[gi] -= 1
                            sc[_NFREE] -= 1
                            state[c] = _SERVING
                            pk[t] = _WAKE
                            pv[t] = c
                            _schedule(ev, sc, now, t)
                            handed = True
                            break
                if error:
                    break
                if not handed:
                    if can_balk and balk[c] <= ahead_c:
                        state[c] = _BALKED
                        continue
                    state[c] = _WAITING
                    n_wait[k] += 1
                    nxt[c] = -1
                    if q_tail[k] < 0:
                        q_head[k] = c
                    else:
                        nxt[q_tail[k]] = c
                    q_tail[k] = c
                    if hall[c]:
                        sc[_HALL] += 1
                        q_time[sc[_NQ]] = now
                        q_len[sc[_NQ]] = sc[_HALL]
                        sc[_NQ] += 1
                    if can_leave:
                        pc = pat[c]
                        if pc < inf:
                            _dl_push(dl_t, dl_c, sc, now + pc, c)
            if error:
                break

        elif kind == _SHIFT:
            check = value == 1
            while shift_i < n_changes:
                i = shift_i
                if check:
                    if ch_time[i] <= 0.0:
                        shift_i += 1
                        continue
                    if ch_time[i] > now:
                        pk[shift_slot] = _SHIFT
                        pv[shift_slot] = 0
                        _schedule(ev, sc, now + (ch_time[i] - now), shift_slot)
                        break
                check = True
                shift_i += 1
                t = ch_teller[i]
                on = ch_on[i]
                gi = teller_gi[t]
                if idle[t] and on_duty[t] and not on:  # an idle teller goes off duty
                    n_free_of[gi] -= 1
                    sc[_NFREE] -= 1
                on_duty[t] = on
                if on and idle[t]:
                    idle[t] = False
                    pk[t] = _WAKE
                    pv[t] = -1
                    _schedule(ev, sc, now, t)
                _tree_set(tree, size, pos_of[t], 1 if (idle[t] and on_duty[t]) else 0)

        else:  # _CLOSE
            if value == 1:
                pk[close_slot] = _CLOSE
                pv[close_slot] = 0
                _schedule(ev, sc, now + horizon, close_slot)
            else:
                _expire(now, dl_t, dl_c, sc, state, leave, n_wait, keys, hall, q_time, q_len)
                for j in range(present.size):
                    k = present[j]
                    h = q_head[k]
                    while h >= 0:
                        if state[h] == _WAITING:
                            state[h] = _RENEGED
                            leave[h] = now
                        h = nxt[h]
                    q_head[k] = -1
                    q_tail[k] = -1
                for k in range(n_keys):
                    n_wait[k] = 0
                if sc[_HALL] != 0:
                    sc[_HALL] = 0
                    q_time[sc[_NQ]] = now
                    q_len[sc[_NQ]] = 0
                    sc[_NQ] += 1

    if error == 0:
        # deadlines after the last event (nobody left to serve them)
        _expire(inf, dl_t, dl_c, sc, state, leave, n_wait, keys, hall, q_time, q_len)
    return error, sc[_NQ]


@njit(cache=True)
def move_kernel(
    join: Any,
    keys: Any,
    svc: Any,
    pat: Any,
    balk: Any,
    hall: Any,
    horizon: float,
    dismiss: bool,
    can_leave: bool,
    can_balk: bool,
    n_keys: int,
    present: Any,
    cand_ptr: Any,
    cand_idx: Any,
    ahead_ptr: Any,
    ahead_idx: Any,
    glev_ptr: Any,
    lev_ptr: Any,
    lev_keys: Any,
    teller_gi: Any,
    gt_ptr: Any,
    gt_list: Any,
    pos_of: Any,
    ch_time: Any,
    ch_teller: Any,
    ch_on: Any,
) -> Any:  # pragma: no cover - compiled
    """Move one day (the arguments of :func:`_move_day` without its outputs).

    Returns (error, state, start, end, leave, served_by, seen, ahead_seen, q_time, q_len).
    """
    n = join.size
    state = np.empty(n, dtype=np.int8)
    start = np.empty(n)
    end = np.empty(n)
    leave = np.empty(n)
    served_by = np.empty(n, dtype=np.int32)
    seen = np.empty(n, dtype=np.int32)
    ahead_seen = np.empty(n, dtype=np.int32)
    q_time = np.zeros(2 * n + 2)
    q_len = np.zeros(2 * n + 2, dtype=np.int32)
    error, nq = _move_day(
        join, keys, svc, pat, balk, hall, horizon, dismiss, can_leave, can_balk, n_keys,
        present, cand_ptr, cand_idx, ahead_ptr, ahead_idx, glev_ptr, lev_ptr, lev_keys,
        teller_gi, gt_ptr, gt_list, pos_of, ch_time, ch_teller, ch_on,
        state, start, end, leave, served_by, seen, ahead_seen, q_time, q_len,
    )
    return (
        error,
        state,
        start,
        end,
        leave,
        served_by,
        seen,
        ahead_seen,
        q_time[:nq].copy(),
        q_len[:nq].copy(),
    )


@njit(cache=True)
def move_days_kernel(
    bounds: Any,  # int64[D + 1], day d is rows bounds[d]:bounds[d + 1]
    join: Any,
    keys: Any,
    svc: Any,
    pat: Any,
    balk: Any,
    hall: Any,
    horizon: float,
    dismiss: bool,
    can_leave: bool,
    can_balk: bool,
    n_keys: int,
    present: Any,
    cand_ptr: Any,
    cand_idx: Any,
    ahead_ptr: Any,
    ahead_idx: Any,
    glev_ptr: Any,
    lev_ptr: Any,
    lev_keys: Any,
    teller_gi: Any,
    gt_ptr: Any,
    gt_list: Any,
    pos_of: Any,
    ch_time: Any,
    ch_teller: Any,
    ch_on: Any,
    fast: bool = True,
) -> Any:  # pragma: no cover - compiled
    """Move several days of one stage in one call: each day as :func:`move_kernel` alone.

    A day with one first-come queue and nothing that changes during it (see
    :func:`_fifo_day`) is moved by :func:`_move_fifo` unless ``fast`` is False (the
    tests compare the two); every other day by :func:`_move_day`.

    The inputs are the days' rows end to end (each day in its own join order); every
    day runs :func:`_move_day` on its own rows with fresh queues, tellers and clock,
    writing into its rows of the chunk's arrays. Returns (error, state, start, end, leave,
    served_by, seen, ahead_seen, q_time, q_len, q_bounds, no_slips): the hall series of
    the days end to end, day ``d``'s at ``q_bounds[d]:q_bounds[d + 1]``, and per day
    whether it has customers, all of one key, none who can renege; ``error`` is that of
    the first failing day (1: a group counted a free teller it has not; 2: customers
    left waiting at the end of the day), the days after it are not moved.
    """
    n = join.size
    n_days = bounds.size - 1
    state = np.empty(n, dtype=np.int8)
    start = np.empty(n)
    end = np.empty(n)
    leave = np.empty(n)
    served_by = np.empty(n, dtype=np.int32)
    seen = np.empty(n, dtype=np.int32)
    ahead_seen = np.empty(n, dtype=np.int32)
    q_time = np.zeros(2 * n + 2 * n_days)
    q_len = np.zeros(2 * n + 2 * n_days, dtype=np.int32)
    q_bounds = np.zeros(n_days + 1, dtype=np.int64)
    no_slips = np.zeros(n_days, dtype=np.bool_)
    inf = np.inf
    error = 0
    q = 0
    for d in range(n_days):
        lo = bounds[d]
        hi = bounds[d + 1]
        room = 2 * (hi - lo) + 2  # a day's series is at most 2 n + 2 long
        gi = _fifo_day(keys[lo:hi], pat[lo:hi], balk[lo:hi], n_keys, cand_ptr, cand_idx,
                       gt_ptr, ch_time) if fast else -1
        if gi >= 0:
            err, nq = _move_fifo(
                join[lo:hi], svc[lo:hi], hall[lo:hi], horizon, dismiss, gi, teller_gi,
                gt_ptr, gt_list, pos_of, ch_time, ch_teller, ch_on,
                state[lo:hi], start[lo:hi], end[lo:hi], leave[lo:hi], served_by[lo:hi],
                seen[lo:hi], ahead_seen[lo:hi], q_time[q : q + room], q_len[q : q + room],
            )
        else:
            err, nq = _move_day(
                join[lo:hi], keys[lo:hi], svc[lo:hi], pat[lo:hi], balk[lo:hi], hall[lo:hi],
                horizon, dismiss, can_leave, can_balk, n_keys,
                present, cand_ptr, cand_idx, ahead_ptr, ahead_idx, glev_ptr, lev_ptr, lev_keys,
                teller_gi, gt_ptr, gt_list, pos_of, ch_time, ch_teller, ch_on,
                state[lo:hi], start[lo:hi], end[lo:hi], leave[lo:hi], served_by[lo:hi],
                seen[lo:hi], ahead_seen[lo:hi], q_time[q : q + room], q_len[q : q + room],
            )
        if err == 0:
            for i in range(lo, hi):
                if state[i] == _WAITING or state[i] == _NEW:
                    err = 2  # left waiting at the end of the day (model bug)
                    break
        if err != 0:
            error = err
            break
        q += nq
        q_bounds[d + 1] = q
        # move_compiled's no_slips: some customers, one key, nobody who can renege
        one = hi > lo
        for i in range(lo, hi):
            if keys[i] != keys[lo] or pat[i] < inf:
                one = False
                break
        no_slips[d] = one
    return (
        error,
        state,
        start,
        end,
        leave,
        served_by,
        seen,
        ahead_seen,
        q_time[:q].copy(),
        q_len[:q].copy(),
        q_bounds,
        no_slips,
    )
