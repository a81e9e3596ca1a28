"""Counter groups, their shift plans and availability, and teller quality."""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from peakend.config.base import MAX_CLOCK_HOURS, ClockTime, Model, _clock_text


class ShiftBlock(Model):
    """One block of a shift plan (tellers of a counter group, or lobby managers)."""

    start: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="clock time the block starts, hours, 0-1000"
    )
    count: int = Field(
        ge=0, le=1000, description="staff on duty from start on (tellers or managers), 0-1000"
    )


def _check_plan(plan: int | list[ShiftBlock], field: str, upper: int) -> None:
    """Check a staffing field: a count in 0..upper, or shift blocks with increasing starts."""
    if isinstance(plan, int):
        if not 0 <= plan <= upper:
            raise ValueError(f"{field}: must be between 0 and {upper}, got {plan}")
        return
    if not plan:
        raise ValueError(f"{field}: a shift plan needs at least one block")
    starts = [b.start for b in plan]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError(f"{field}: shift block starts must strictly increase, got {starts}")
    too_many = [b.count for b in plan if b.count > upper]
    if too_many:
        raise ValueError(
            f"{field}: shift block counts must be between 0 and {upper}, got {too_many}"
        )


def count_at(plan: int | list[ShiftBlock], clock: float) -> int:
    """Staff on duty at clock time ``clock`` (hours) under a count or a shift plan (0 before it)."""
    if isinstance(plan, int):
        return plan
    count = 0
    for block in plan:
        if block.start <= clock:
            count = block.count
    return count


def plan_hours(plan: int | list[ShiftBlock], opening: float, closing: float) -> float:
    """Staff-hours of a count or a shift plan within opening hours, hours."""
    if isinstance(plan, int):
        return plan * (closing - opening)
    total = 0.0
    for i, block in enumerate(plan):
        end = plan[i + 1].start if i + 1 < len(plan) else closing
        total += block.count * (min(end, closing) - max(block.start, opening))
    return total


def _check_plan_hours(
    plan: int | list[ShiftBlock], field: str, opening: float, closing: float
) -> None:
    """Check that every shift block of a plan starts within opening hours."""
    if isinstance(plan, int):
        return
    for block in plan:
        if not opening <= block.start < closing:
            raise ValueError(
                f"{field}: shift block start {_clock_text(block.start)} must be within "
                f"opening hours [{_clock_text(opening)}, {_clock_text(closing)})"
            )


def max_count(plan: int | list[ShiftBlock]) -> int:
    """Largest number of staff on duty at any time under a count or a shift plan."""
    return plan if isinstance(plan, int) else max(b.count for b in plan)


class AvailabilityBlock(Model):
    """One block of a counter group's availability plan: the share from ``start`` on."""

    start: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="clock time the block starts, hours, 0-1000"
    )
    share: float = Field(
        gt=0,
        le=1,
        description="share of each on-duty teller's time available to serve from start "
        "until the next block, (0, 1]",
    )


class Quality(Model):
    """A teller level (service or advice): one draw per teller, normal, clipped to 0-10."""

    mean: float = Field(6.0, ge=0, le=10, description="mean teller level, 0-10")
    sd: float = Field(0.0, ge=0, le=5, description="sd of the level between tellers, points (0-5)")


class CounterGroup(Model):
    """A group of identical counters (windows) with one discipline."""

    tellers: int | list[ShiftBlock] = Field(
        1,
        description="tellers on duty: a constant count (0-1000) or a shift plan of blocks "
        "within opening hours (count from each start until the next)",
    )
    segments: list[str] = Field(
        default_factory=list, description="segments served (own segments); empty: all"
    )
    business: list[str] = Field(
        default_factory=list, description="business types served; empty: all"
    )
    discipline: Literal["fifo", "priority", "dedicated", "flexible"] = Field(
        "fifo",
        description="fifo: one shared first-come queue; priority: non-preemptive by "
        "'priority' order; dedicated: only 'segments'; flexible: 'segments' first, else the "
        "next customer of 'overflow'",
    )
    priority: list[str | list[str]] = Field(
        default_factory=list,
        description="segment order for the priority discipline, highest first; a nested "
        "list is one level whose segments are served first come, first served between them "
        "(['priority', ['regular', 'unidentified']]); segments the group serves but not "
        "listed share one level, after the listed ones",
    )
    overflow: list[str] | None = Field(
        None,
        description="flexible discipline: segments served when none of 'segments' waits; "
        "None: all other segments",
    )
    appointments: Literal["first", "by_level", "none"] = Field(
        "first",
        description="where customers with an appointment come in this group's pick order: "
        "first: before every walk-in (a booked slot is a promise); by_level: before the "
        "walk-ins of their own level of the discipline, after higher levels (an urgent "
        "walk-in before a booked patient); none: like walk-ins, by ticket (an appointment "
        "booked for another stage). A flexible group always serves its own segments, "
        "appointments first unless none, before overflow customers",
    )
    availability: float | list[AvailabilityBlock] = Field(
        1.0,
        description="share of each on-duty teller's time available to serve, (0, 1] "
        "(shrinkage: breaks, after-call work): one value, or blocks of { start, share } "
        "within opening hours (1 before the first); each teller takes staggered breaks of "
        "(1 - availability) of every hour, finishing the customer in hand; breaks are paid "
        "(staff cost unchanged); 1: none",
    )
    cost_per_hour: float = Field(
        0.0, ge=0, le=1e6, description="staff cost, currency units per teller-hour"
    )
    quality: Quality = Field(
        default_factory=Quality,
        description="teller service quality (staff attitude, correct and quick service): the "
        "level of the 'service' episode, drawn once per teller and day",
    )
    advice: Quality = Field(
        default_factory=Quality,
        description="teller advice quality (professional advice): the level of the 'advice' "
        "episode, drawn once per teller and day, independently of 'quality'",
    )

    @model_validator(mode="after")
    def _check(self) -> CounterGroup:
        _check_plan(self.tellers, "tellers", 1000)
        if self.discipline in ("dedicated", "flexible") and not self.segments:
            raise ValueError(f"segments: discipline {self.discipline!r} needs at least one segment")
        if self.discipline == "priority" and not self.priority:
            raise ValueError("priority: discipline 'priority' needs a segment order")
        if self.overflow is not None and self.discipline != "flexible":
            raise ValueError("overflow: only allowed with discipline 'flexible'")
        flat: list[str] = []
        for i, entry in enumerate(self.priority):
            if isinstance(entry, list) and not entry:
                raise ValueError(f"priority.{i}: a priority level needs at least one segment")
            flat += [entry] if isinstance(entry, str) else entry
        repeated = sorted({x for x in flat if flat.count(x) > 1})
        if repeated:
            raise ValueError(f"priority: segments must appear once, repeated: {repeated}")
        avail = self.availability
        if isinstance(avail, list):
            if not avail:
                raise ValueError("availability: give at least one block (or one value)")
            starts = [b.start for b in avail]
            if any(b <= a for a, b in itertools.pairwise(starts)):
                raise ValueError(
                    f"availability: block starts must strictly increase, got {starts}"
                )
        elif not 0 < avail <= 1:
            raise ValueError(f"availability: must be in (0, 1], got {avail!r}")
        return self

    @model_serializer(mode="wrap")
    def _drop_default_availability(self, handler: SerializerFunctionWrapHandler) -> Any:
        # without shrinkage a group dumps exactly as before availability existed
        data = handler(self)
        if isinstance(data, dict) and self.availability == 1.0:
            data.pop("availability", None)
        if isinstance(data, dict) and self.appointments == "first":
            data.pop("appointments", None)  # ... and without the appointments setting
        return data

    def max_tellers(self) -> int:
        """Largest number of tellers on duty at any time, counters."""
        return max_count(self.tellers)

    def priority_levels(self) -> list[list[str]]:
        """Return the ``priority`` list as levels, highest first (a name alone is a level)."""
        return [[x] if isinstance(x, str) else list(x) for x in self.priority]

    def priority_order(self) -> list[str]:
        """Return the segments of ``priority`` flattened, highest level first."""
        return [x for level in self.priority_levels() for x in level]

    def availability_at(self, clock: float) -> float:
        """Availability at clock time ``clock`` (hours), (0, 1]; 1 before the first block."""
        a = self.availability
        if not isinstance(a, list):
            return a
        value = 1.0
        for block in a:
            if block.start <= clock:
                value = block.share
        return value

    def available_hours(self, opening: float, closing: float) -> float:
        """Teller-hours available to serve within opening hours: on duty times availability.

        ``plan_hours(tellers)`` weighted by the availability in force, hours; what the
        group can serve (breaks are paid: :meth:`Scenario.staff_cost` uses the teller-hours).
        """
        plan = self.tellers
        blocks = [(opening, plan)] if isinstance(plan, int) else [(b.start, b.count) for b in plan]
        cuts = sorted(
            {opening}
            | {max(opening, t) for t, _ in blocks}
            | {max(opening, t) for t, _ in self.availability_changes()}
        )
        total = 0.0
        for lo, hi in itertools.pairwise([*cuts, closing]):
            if hi > lo:
                total += count_at(plan, lo) * self.availability_at(lo) * (hi - lo)
        return total

    def availability_changes(self) -> list[tuple[float, float]]:
        """``(clock hours, availability)`` from each change on (one value: from 0 on)."""
        a = self.availability
        if not isinstance(a, list):
            return [(0.0, a)]
        return [(b.start, b.share) for b in a]
