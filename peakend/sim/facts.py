"""What a simulated day's customers went through, in arrival order, for the touchpoint table.

:class:`Facts` turns the movement engine's record (join order) and the draws into the
per-customer arrays the experience builder (:mod:`peakend.sim.experience`) reads: the wait
and the perceived wait, the slips, the expected wait, and where each episode of the queue
and the counter starts and ends so that a journey is a partition of [arrival, departure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend import affect
from peakend.config.models import LEVEL_TOUCHPOINTS, Scenario
from peakend.sim.draws import DayDraws
from peakend.sim.engine import BALKED, RENEGED, SERVING, SKIPPED, DayRun
from peakend.sim.slips import count_slips, count_slips_by_day
from peakend.sim.touchpoints import LEVEL_COLUMN, MOMENT, pre_queue_episodes

__all__ = ["Days", "Facts"]

_VISIT_KEYS = (
    "customer",
    "stage",
    "queue_join",
    "service_start",
    "service_end",
    "left",
    "counter",
    "abandoned",
)

Array = NDArray[np.float64]


def _expectation(levels: Any, touchpoint: str) -> float:
    """Return a segment's expectation level for a touchpoint, 5 (mid-scale) when not set."""
    return float(levels.get(touchpoint, 5.0))


@dataclass(frozen=True)
class Days:
    """Where each day of a chunk lies in the chunk's concatenated arrays (:mod:`peakend.sim.batch`).

    Day ``d`` has the customers ``bounds[d]:bounds[d + 1]``, the same rows in arrival
    order and in join order (each day's join order is offset by ``bounds[d]``).
    """

    bounds: NDArray[np.int64]  # n_days + 1 customer offsets
    no_slips: tuple[bool, ...]  # DayRun.no_slips of each day
    day: NDArray[np.intp]  # the day of each customer
    compiled: bool = False  # count the slips with the compiled kernel (the same counts)


class Facts:
    """The day's times and outcomes in arrival order, as the touchpoint table reads them.

    Attributes are per-customer arrays (minutes from opening, or flags) unless noted.
    With ``days`` (:class:`Days`), ``draws`` and ``run`` hold several days of one
    scenario concatenated (the teller levels of ``draws.quality`` and ``draws.advice``
    one row per day): every array is elementwise, so each day's values are those of the
    day alone; only the slips (counted day by day) and the teller levels (indexed by day)
    need the days.
    """

    def __init__(self, s: Scenario, draws: DayDraws, run: DayRun, days: Days | None = None) -> None:
        self.s = s
        self.draws = draws
        self.days = days
        self.n = n = draws.arrival.size
        self.journey = set(s.journey)
        seg_names = list(s.segments)
        o = run.order

        def arrival_order(x: NDArray[Any]) -> NDArray[Any]:
            out = np.empty_like(x)
            out[o] = x
            return out

        state = arrival_order(run.state)
        self.join = join = arrival_order(run.join)
        self.start = start = arrival_order(run.start)
        self.end = end = arrival_order(run.end)
        self.leave = leave = arrival_order(run.leave)
        self.teller = arrival_order(run.teller)
        self.seen = arrival_order(run.queue_seen)
        self.ahead = arrival_order(run.queue_ahead)
        lounge = arrival_order(run.lounge)
        self.greeted = arrival_order(run.greeted)
        self.served = served = state == SERVING
        self.balked = balked = state == BALKED
        self.reneged = reneged = state == RENEGED
        self.skipped = skipped = state == SKIPPED  # the route leaves out the first stage
        self.seg = seg = draws.segment.astype(np.int64)
        self.arrival = draws.arrival

        until = np.where(served, start, np.where(reneged, leave, np.nan))
        self.wait = wait = np.where(balked, 0.0, np.maximum(until - join, 0.0))
        if skipped.any():
            self.wait = wait = np.where(skipped, 0.0, wait)
        if days is not None:  # Larson's slips compare customers of one day: day by day
            self.slips = arrival_order(count_slips_by_day(
                run.join, run.start, until[o], ~run.lounge, days.bounds, days.no_slips,
                compiled=days.compiled,
            ))
        elif run.no_slips:
            self.slips = np.zeros(n, dtype=np.int32)
        else:
            self.slips = arrival_order(count_slips(run.join, run.start, until[o], ~run.lounge))

        hall = s.hall
        mult = np.ones(n)
        if hall.wait_display:
            mult *= hall.display_multiplier
        if hall.distraction:
            mult = np.where(lounge, mult, mult * hall.distraction_multiplier)
        perceived = np.asarray(
            affect.perceived_wait(wait, k=hall.perception_k, p=hall.perception_p, multiplier=mult),
            dtype=np.float64,
        )
        self.perceived = np.where(balked, 0.0, perceived)
        exp_wait_seg = np.array([s.segments[x].expected_wait for x in seg_names])
        appt_wait_seg = np.array([s.segments[x].appointment_expected_wait for x in seg_names])
        self.expected_wait = np.where(draws.appointment, appt_wait_seg[seg], exp_wait_seg[seg])

        # where the episodes of the queue and the counter start and end: the lounge is
        # the first part of a VIP's wait; a customer served at once (wait 0) has a waiting
        # moment cut from the start of the counter time (the moment they are called at
        # once, rated by the Delta law like any wait); a customer dismissed at the door
        # (wait 0, not served) has no waiting episode
        self.waited = waited = wait > 0.0
        self.advice_share = None
        if "advice" in self.journey and draws.advice_noise is not None:
            share_bus = np.array([b.advice_share for b in s.business_types.values()])
            self.advice_share = share_bus[draws.business.astype(np.int64)]
            # the advice is the last part of the service: [split, end]
            self.split = end - self.advice_share * (end - start)
        else:
            self.split = end
        self.until_wait = until_wait = np.where(served, start, leave)  # NaN for balkers
        # the lounge-entry episode: lounge.minutes, or half of a shorter wait (none when
        # the wait is too short to split in floating point)
        if lounge.any():
            self.lounge_end = lounge_end = join + np.minimum(s.lounge.minutes, 0.5 * wait)
            self.in_lounge = lounge & waited & (lounge_end > join) & (lounge_end < until_wait)
            wait_start = np.where(self.in_lounge, lounge_end, join)
        else:  # nobody waits in the lounge (no episode: its end is never read)
            self.in_lounge = lounge
            wait_start = join
        # served at once: the waiting moment takes MOMENT (or half of a shorter service
        # part) from the start of the counter time
        called = served & ~waited
        moment = np.where(called, np.minimum(MOMENT, 0.5 * (self.split - start)), 0.0)
        self.wait_start = np.where(called, start, wait_start)
        self.wait_end = np.where(called, start + moment, until_wait)
        self.service_start = start + moment

        if "farewell" in self.journey:  # (without it, nobody has the episode or a gift)
            fw = [s.segments[x].farewell for x in seg_names]
            self.farewell_on = np.array([f.enabled for f in fw])[seg]
            self.gift = np.array([f.gift_size for f in fw])[seg]
            self.farewell_minutes = np.where(
                self.farewell_on, np.array([f.minutes for f in fw])[seg], MOMENT
            )
            self.gift_cost_each = np.array([f.gift_cost for f in fw])[seg]
            self._farewell_levels = (
                np.array([f.level for f in fw])[seg],
                np.array([f.plain_level for f in fw])[seg],
            )
        self.abandon_start = np.where(balked, join, leave)
        self.pre = {
            name: (t0, t1) for name, t0, t1 in pre_queue_episodes(s, self.arrival, self.greeted)
        }

        # the journey as a whole (one stage: the same arrays; further stages update them,
        # see peakend.sim.stage_experience): the route completed, the end of the last
        # service received, leaving unserved at some stage, totals over the stages
        self.route_served = served | skipped
        self.last_end = np.where(skipped, join, end) if skipped.any() else end
        self.first_service_start = np.where(served, start, np.nan)
        self.left = balked | reneged
        self.any_balked = balked
        self.any_reneged = reneged
        self.total_wait = wait
        self.total_perceived = self.perceived
        self.total_slips = self.slips
        self.exit_extra = 0.0  # minutes of the scenario's own touchpoints before the exit
        self.stage_runs: list[Any] = []  # the further stages' runs (StageRun), if any
        self.counter = self.teller
        self.teller_names = list(run.teller_names)
        # stage visits: (stage code, who, queue join, start, end, left, counter, abandoned)
        self.visits = [
            (0, ~skipped, join, start, end, leave, self.teller, balked | reneged, served)
        ]

        expect_table = np.array(
            [
                [_expectation(s.segments[x].expectations, t) for t in LEVEL_TOUCHPOINTS]
                for x in seg_names
            ]
        )
        self._expect_table = expect_table

    def stage_visits(self) -> dict[str, NDArray[Any]]:
        """Return the ``stage_visits`` table: one row a visit, in each customer's route order."""
        if len(self.visits) == 1 and not self.skipped.any():  # one row per customer
            _, _, join, start, end, leave, teller, abandoned, served = self.visits[0]
            out1 = {
                "customer": np.arange(self.n, dtype=np.int32),
                "stage": np.zeros(self.n, dtype=np.int16),
                "queue_join": join,
                "service_start": np.where(served, start, np.nan),
                "service_end": np.where(served, end, np.nan),
                "left": np.where(abandoned & ~np.isnan(leave), leave, np.nan),
                "counter": teller.astype(np.int16),
                "abandoned": abandoned,
                "day": np.zeros(self.n, dtype=np.int32),
            }
            return out1
        cols: dict[str, list[NDArray[Any]]] = {k: [] for k in _VISIT_KEYS}
        for code, who, join, start, end, leave, teller, abandoned, served in self.visits:
            rows = np.flatnonzero(who)
            cols["customer"].append(rows.astype(np.int32))
            cols["stage"].append(np.full(rows.size, code, dtype=np.int16))
            cols["queue_join"].append(join[rows])
            cols["service_start"].append(np.where(served, start, np.nan)[rows])
            cols["service_end"].append(np.where(served, end, np.nan)[rows])
            cols["left"].append(np.where(abandoned & ~np.isnan(leave), leave, np.nan)[rows])
            cols["counter"].append(teller[rows].astype(np.int16))
            cols["abandoned"].append(abandoned[rows])
        out = {k: np.concatenate(v) for k, v in cols.items()}
        if len(self.visits) > 1:  # in each customer's route order (stages are feed-forward)
            order = np.lexsort((out["stage"], out["customer"]))
            out = {k: v[order] for k, v in out.items()}
        out["day"] = np.zeros(out["customer"].size, dtype=np.int32)
        return out

    def expect(self, name: str) -> Array:
        """Each customer's expectation level for a level touchpoint (its segment's), 0-10."""
        out: Array = self._expect_table[:, LEVEL_COLUMN[name]][self.seg]
        return out

    def farewell_level(self) -> Array:
        """Return the farewell (protocol on) or plain level plus the gift's utility, 0-10+."""
        level, plain = self._farewell_levels
        g = self.s.gift_utility
        utility = np.asarray(
            affect.gift_utility(self.gift, scale=g.scale, curvature=g.curvature),
            dtype=np.float64,
        )
        return np.where(self.farewell_on, level, plain) + utility

    def teller_level(self, by_group: dict[str, Array]) -> Array:
        """Return the serving teller's level (quality or advice), 0 when not served.

        With several days (``self.days``), ``by_group`` holds one row of levels per day.
        """
        if self.days is not None:
            rows = np.concatenate(
                [np.zeros((len(self.days.no_slips), 1)),
                 *(by_group[g] for g in self.s.counters)], axis=1,
            )
            by_day: Array = rows[self.days.day, self.teller + 1]
            return by_day
        levels = np.concatenate([np.zeros(1), *(by_group[g] for g in self.s.counters)])
        out: Array = levels[self.teller + 1]  # teller -1 (not served) reads the leading 0
        return out
