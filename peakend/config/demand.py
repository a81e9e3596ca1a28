"""Demand: the arrival-rate profile, customer segments and business types."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from peakend.config.base import (
    _SHARE_TOLERANCE,
    LEVEL_TOUCHPOINTS,
    MAX_CLOCK_HOURS,
    ClockTime,
    LevelTouchpoint,
    Model,
)
from peakend.config.distributions import Distribution, Mixture, _check_service_time


class RateBlock(Model):
    """One block of the piecewise-constant arrival-rate profile."""

    start: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="clock time the block starts, hours (9.5 or '09:30'), 0-1000",
    )
    rate: float = Field(
        ge=0,
        le=1e6,
        description="arrivals per hour from start until the next block (before e-channel "
        "diversion), >= 0",
    )


class MixBlock(Model):
    """One block of a time-of-day segment mix: the segments' shares from ``start`` on."""

    start: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="clock time the block starts, hours (9.5 or '09:30'), 0-1000",
    )
    shares: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1,
        description="share of arrivals per segment from start until the next block, 0-1, "
        "summing to 1 (a segment left out: 0)",
    )


class Arrivals(Model):
    """Non-homogeneous Poisson arrivals with a piecewise-constant rate."""

    profile: list[RateBlock] = Field(
        min_length=1,
        description="rate blocks in increasing start order, each rate holding until the next "
        "block starts (customers per hour); the rate is 0 before the first block",
    )
    segment_mix: list[MixBlock] | None = Field(
        None,
        description="segment shares by time of day: blocks in increasing start order within "
        "opening hours, each holding until the next; before the first block the segments' "
        "own 'share'; None: the segments' 'share' all day",
    )

    @model_validator(mode="after")
    def _check_order(self) -> Arrivals:
        starts = [b.start for b in self.profile]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(f"arrivals.profile: block starts must strictly increase, got {starts}")
        if self.segment_mix is not None:
            if not self.segment_mix:
                raise ValueError("arrivals.segment_mix: give at least one block (or leave it out)")
            starts = [b.start for b in self.segment_mix]
            if any(b <= a for a, b in itertools.pairwise(starts)):
                raise ValueError(
                    f"arrivals.segment_mix: block starts must strictly increase, got {starts}"
                )
            for i, block in enumerate(self.segment_mix):
                total = sum(block.shares.values())
                if abs(total - 1.0) > _SHARE_TOLERANCE:
                    raise ValueError(
                        f"arrivals.segment_mix.{i}.shares: shares must sum to 1 (tolerance "
                        f"{_SHARE_TOLERANCE}), got {total:.6g}"
                    )
        return self

    @model_serializer(mode="wrap")
    def _drop_default_mix(self, handler: SerializerFunctionWrapHandler) -> Any:
        # without a time-of-day mix the arrivals dump exactly as before it existed
        data = handler(self)
        if isinstance(data, dict) and self.segment_mix is None:
            data.pop("segment_mix", None)
        return data


# --------------------------------------------------------------------------- segments
class Farewell(Model):
    """The farewell protocol for one segment."""

    enabled: bool = Field(False, description="a sincere farewell at the end of service (on/off)")
    minutes: float = Field(
        0.5, gt=0, le=60, description="duration of the farewell episode, minutes (0-60]"
    )
    level: float = Field(
        7.0, ge=0, le=10, description="farewell experience with the protocol on, 0-10"
    )
    plain_level: float = Field(
        5.0, ge=0, le=10, description="end-of-service experience with the protocol off, 0-10"
    )
    gift_size: float = Field(
        0.0, ge=0, le=1e4, description="size (value) of the farewell gift, currency units (0: none)"
    )
    gift_cost: float = Field(
        0.0, ge=0, le=1e6, description="cost of one gift, currency units per gift given"
    )


class Segment(Model):
    """A customer segment: its share, mix, expectations and patience."""

    share: float = Field(ge=0, le=1, description="share of arrivals, 0-1 (segments sum to 1)")
    business_mix: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1,
        description="share of each business type among this segment's visits, 0-1 (sum to 1)",
    )
    appointment_share: float = Field(
        0.0, ge=0, le=1, description="share of visits with a booked slot, 0-1"
    )
    appointment_expected_wait: float = Field(
        2.0, ge=0, le=1440, description="wait a customer with an appointment expects, minutes"
    )
    expected_wait: float = Field(
        10.0, ge=0, le=1440, description="wait a walk-in customer expects, minutes"
    )
    expectations: dict[LevelTouchpoint, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expected experience level per touchpoint, 0-10 (missing: 5); keys: "
        + ", ".join(LEVEL_TOUCHPOINTS),
    )
    noise_sd: float = Field(
        0.5, ge=0, le=5, description="sd of the per-episode experience noise, points (0-5)"
    )
    balk_queue: int | None = Field(
        None,
        ge=0,
        le=100000,
        description="customers waiting ahead in the customer's own priority order at or "
        "above which a walk-in leaves at once, when no teller is free; 0: leave whenever no "
        "teller is free (a loss system); None: never balks",
    )
    renege: Distribution | None = Field(
        None, description="patience before leaving the queue, minutes; None: never reneges"
    )
    lounge: bool = Field(False, description="waits in the VIP lounge (when the lounge is on)")
    farewell: Farewell = Field(default_factory=Farewell, description="farewell protocol")
    value: float = Field(
        0.0, ge=0, le=1e9, description="value of a customer to the bank, currency units per year"
    )


class BusinessType(Model):
    """A kind of business done at the counter."""

    service: Distribution = Field(
        description="counter service time distribution, minutes (values or mean at least "
        "0.01; a gamma with sd <= mean)"
    )
    e_channel_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of this business diverted to e-channels (never comes), 0-1 (< 1)",
    )
    advice_share: float = Field(
        0.0,
        ge=0,
        le=0.9,
        description="share of the counter service time spent on professional advice, 0-0.9: "
        "the last part of the service becomes an 'advice' episode (when 'advice' is in the "
        "journey) rated on the teller's advice quality; 0: no advice episode",
    )

    @model_validator(mode="after")
    def _check_service(self) -> BusinessType:
        dist = self.service
        if isinstance(dist, Mixture):
            for i, (w, c) in enumerate(zip(dist.weights, dist.components, strict=True)):
                if w > 0:
                    _check_service_time(c, f"service.components.{i}")
        else:
            _check_service_time(dist, "service")
        return self
