"""Further service stages, the scenario's own static touchpoints, and routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from peakend.config.base import Model
from peakend.config.counters import CounterGroup
from peakend.config.distributions import Distribution


class Stage(Model):
    """A further service stage after the first (the scenario's ``counters``).

    A stage has its own counter groups (disciplines, shift plans, costs, teller
    quality), the service time of each business type routed to it, and optional
    per-segment expectations for its episodes (``wait@<stage>``, ``service@<stage>``),
    which fall back to the segment's general ones. Its waits may be perceived and
    endured differently from the first stage's (``wait_multiplier``, ``patience_scale``),
    and optionally depend on the minutes already waited at the earlier stages of the
    route (``wait_multiplier_growth``, ``patience_decay``; 0 by default: independent).
    """

    description: str = Field("", description="free text")
    counters: dict[str, CounterGroup] = Field(
        min_length=1, description="the stage's counter groups by name"
    )
    service: dict[str, Distribution] = Field(
        description="service time at this stage per business type routed here, minutes"
    )
    expected_wait: dict[str, Annotated[float, Field(ge=0, le=600)]] = Field(
        default_factory=dict,
        description="expected wait at this stage per segment, minutes (0-600); default: "
        "the segment's expected_wait",
    )
    service_expectation: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expected service level at this stage per segment, 0-10; default: "
        "the segment's expectations.service (5 when unset)",
    )
    wait_multiplier: float = Field(
        1.0,
        gt=0,
        le=5,
        description="multiplier of the perceived wait at this stage's queue for customers "
        "served at an earlier stage (an in-process wait; those whose route starts here feel "
        "it with 1), (0, 5]; 1: felt like a first-stage wait; below 1 for an in-process wait "
        "that feels shorter (Maister 1985)",
    )
    patience_scale: float = Field(
        1.0,
        gt=0,
        le=10,
        description="multiplier of the patience drawn for this stage's queue, (0, 10]; below "
        "1: patience wears thin after the waits before",
    )
    wait_multiplier_growth: float = Field(
        0.0,
        ge=0,
        le=1,
        description="growth of this stage's perceived-wait multiplier with the minutes "
        "already waited at the earlier stages of the route, per minute, [0, 1]: the "
        "multiplier is wait_multiplier * (1 + wait_multiplier_growth * waited); 0: "
        "independent of the earlier waits",
    )
    patience_decay: float = Field(
        0.0,
        ge=0,
        le=1,
        description="wearing of the patience at this stage's queue with the minutes already "
        "waited at the earlier stages of the route, per minute, [0, 1]: the patience is "
        "divided by (1 + patience_decay * waited), so it halves after 1 / patience_decay "
        "minutes of earlier waits; 0: independent of the earlier waits",
    )

    def max_tellers(self) -> int:
        """Most tellers of the stage on duty at any time (over all its groups)."""
        return sum(c.max_tellers() for c in self.counters.values())


class StaticTouchpoint(Model):
    """A touchpoint of the scenario's own: a fixed-length episode at a place in the journey."""

    position: Literal["before_queue", "before_stage", "before_exit"] = Field(
        description="before_queue: after the ticket, before joining the first queue (it "
        "delays the queue join); before_stage: between two stages, right before joining "
        "the queue of the further stage named by 'stage' (it delays that join; only those "
        "who go on to that stage have it); before_exit: after the last service, before the "
        "farewell"
    )
    stage: str | None = Field(
        None,
        description="the further stage (a name in stages) a before_stage touchpoint "
        "precedes; only with position = 'before_stage'",
    )
    minutes: float = Field(gt=0, le=600, description="episode duration, minutes, (0, 600]")
    level: float = Field(5.0, ge=0, le=10, description="experience level, 0-10")
    levels: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description="experience level per segment, 0-10 (default: level)"
    )
    expectation: float = Field(5.0, ge=0, le=10, description="expectation level, 0-10")
    expectations: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="expectation level per segment, 0-10 (default: expectation)",
    )

    @model_validator(mode="after")
    def _check_stage(self) -> StaticTouchpoint:
        if self.position == "before_stage" and self.stage is None:
            raise ValueError(
                "stage: position 'before_stage' needs the stage it precedes (a name in stages)"
            )
        if self.position != "before_stage" and self.stage is not None:
            raise ValueError(
                f"stage: only a position = 'before_stage' touchpoint names a stage, got "
                f"position {self.position!r} with stage {self.stage!r}"
            )
        return self


class RouteSpec(Model):
    """Where a business type's customers go: stages in order, each visited with a share."""

    stages: list[str] = Field(
        min_length=1,
        description="stage names in visiting order (first_stage, then the stages table's "
        "order); a stage may be left out",
    )
    share: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="chance of visiting a listed stage, 0-1 (default 1): e.g. advisor = "
        "0.3 sends 30 % of those served before on to the advisor; at least one stage has 1",
    )


class Route(RouteSpec):
    """A business type's route, optionally refined per segment."""

    segments: dict[str, RouteSpec] = Field(
        default_factory=dict, description="per-segment routes replacing this one"
    )
