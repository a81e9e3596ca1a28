"""Experience design: entrance, lobby, hall, lounge, abandonment, value and memory rule.

Also the size guard :class:`Limits` and the memory-rule parameter table
``MEMORY_RULE_PARAMS``.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

from pydantic import Field, model_validator

from peakend.config.base import MAX_CUSTOMERS_PER_DAY, Model, _did_you_mean
from peakend.config.counters import ShiftBlock, _check_plan, max_count
from peakend.memory._names import RuleName  # the one definition of the rule names


class ParamRange(NamedTuple):
    """Allowed range of one memory-rule parameter (mirrors ``peakend.memory``)."""

    default: float | None
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a finite number in the range."""
        if not math.isfinite(value):
            return False
        lo_ok = value > self.low if self.low_open else value >= self.low
        hi_ok = value < self.high if self.high_open else value <= self.high
        return lo_ok and hi_ok

    def text(self) -> str:
        """Describe the range, e.g. ``"a finite number in (0, 1]"``."""
        lo = ("(" if self.low_open else "[") + f"{self.low:g}"
        hi = "inf)" if math.isinf(self.high) else f"{self.high:g}" + (
            ")" if self.high_open else "]"
        )
        out = f"a finite number in {lo}, {hi}"
        return f"{out} ({self.unit})" if self.unit else out


_END_WINDOW = ParamRange(None, 0.0, low_open=True, unit="minutes")
#: Parameters of each memory rule and their ranges, by rule name. This mirrors the
#: rule classes of :mod:`peakend.memory` (config imports nothing of peakend); a test
#: pins the two together. ``end_window`` may also be left out (None: the last episode).
MEMORY_RULE_PARAMS: dict[str, dict[str, ParamRange]] = {
    "peak_end": {"end_window": _END_WINDOW},
    "weighted_peak_end": {
        "w_peak": ParamRange(0.5, 0.0),
        "w_end": ParamRange(0.5, 0.0),
        "w_mean": ParamRange(0.0, 0.0),
        "end_window": _END_WINDOW,
    },
    "best_worst_end": {
        "w_best": ParamRange(0.5, 0.0),
        "w_worst": ParamRange(0.5, 0.0),
        "w_end": ParamRange(0.5, 0.0),
        "end_window": _END_WINDOW,
    },
    "mean": {},
    "integral": {},
    "time_weighted_mean": {},
    "peak": {},
    "end": {"end_window": _END_WINDOW},
    "trend": {
        "part": ParamRange(0.5, 0.0, 1.0, low_open=True),
        "horizon": ParamRange(1.0, 0.0, unit="minutes"),
    },
    "recency": {"decay": ParamRange(0.2, 0.0, unit="per minute")},
}
#: Rules whose listed weights must not all be 0.
_POSITIVE_WEIGHTS: dict[str, tuple[str, ...]] = {
    "weighted_peak_end": ("w_peak", "w_end", "w_mean"),
    "best_worst_end": ("w_best", "w_worst", "w_end"),
}


class Entrance(Model):
    """Arrival at the branch: location, hours, ambience."""

    minutes: float = Field(0.25, gt=0, le=60, description="entrance episode duration, minutes")
    level: float = Field(6.0, ge=0, le=10, description="entrance (ambience) experience, 0-10")


class Lobby(Model):
    """Lobby managers who greet arriving customers."""

    managers: int | list[ShiftBlock] = Field(
        0,
        description="lobby managers on duty: a constant count (0-100) or a shift plan of blocks "
        "within opening hours (count from each start until the next); a manager going off "
        "duty finishes the greeting in hand",
    )
    greeting_minutes: float = Field(
        1.0, gt=0, le=60, description="time a greeting takes (manager busy), minutes"
    )
    greeted_level: float = Field(
        7.0, ge=0, le=10, description="welcome experience if greeted, 0-10"
    )
    ungreeted_level: float = Field(
        4.0, ge=0, le=10, description="welcome experience if no manager is free, 0-10"
    )
    cost_per_hour: float = Field(
        0.0, ge=0, le=1e6, description="staff cost, currency units per manager-hour"
    )

    @model_validator(mode="after")
    def _check(self) -> Lobby:
        _check_plan(self.managers, "managers", 100)
        return self

    def max_managers(self) -> int:
        """Largest number of lobby managers on duty at any time."""
        return max_count(self.managers)


class Hall(Model):
    """The waiting hall: ticket machine, perceived waiting time, fairness."""

    ticket_minutes: float = Field(
        0.25, gt=0, le=60, description="ticket / information episode duration, minutes"
    )
    ticket_level: float = Field(5.0, ge=0, le=10, description="ticket/information experience, 0-10")
    wait_display: bool = Field(False, description="the expected wait is displayed (on/off)")
    display_multiplier: float = Field(
        0.85, gt=0, le=5, description="perceived-wait multiplier when displayed, (0, 5]"
    )
    display_bonus: float = Field(
        1.0, ge=0, le=10, description="information experience gain when displayed, points"
    )
    distraction: bool = Field(False, description="distractions in the hall: TV, news (on/off)")
    distraction_multiplier: float = Field(
        0.8, gt=0, le=5, description="perceived-wait multiplier with distraction, (0, 5]"
    )
    perception_k: float = Field(
        1.0, gt=0, le=10, description="k in perceived = k * wait**p * m, (0, 10]"
    )
    perception_p: float = Field(
        1.0, gt=0, le=3, description="p in perceived = k * wait**p * m, (0, 3]"
    )
    minutes_per_point: float = Field(
        5.0,
        gt=0,
        le=1440,
        description="waiting scale: each this many perceived minutes costs one point of the "
        "0-10 waiting experience, minutes per point",
    )
    slip_penalty: float = Field(
        0.5,
        ge=0,
        le=10,
        description="waiting experience lost per slip (later arrival served first), points",
    )
    distraction_cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="cost of the distractions, currency units per day"
    )
    display_cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="cost of the wait display, currency units per day"
    )


class Lounge(Model):
    """The VIP lounge: a peak made by contrast with a crowded hall."""

    enabled: bool = Field(False, description="the lounge is open (on/off)")
    minutes: float = Field(
        0.5, gt=0, le=60, description="duration of the lounge-entry episode, minutes"
    )
    level: float = Field(7.0, ge=0, le=10, description="lounge experience with an empty hall, 0-10")
    contrast_strength: float = Field(
        3.0, ge=0, le=10, description="experience gain with a very crowded hall, points (0-10)"
    )
    crowd_half: float = Field(
        5.0, gt=0, le=1e4, description="hall queue giving half the contrast gain, customers"
    )
    cost_per_day: float = Field(
        0.0, ge=0, le=1e6, description="running cost of the lounge, currency units per day"
    )


class Abandonment(Model):
    """The moment a customer gives up (balks or reneges)."""

    minutes: float = Field(0.25, gt=0, le=60, description="abandonment episode duration, minutes")
    level: float = Field(
        0.0,
        ge=0,
        le=10,
        description="experience of leaving unserved, 0-10 (compared with the "
        "segment's service expectation)",
    )


class GiftUtility(Model):
    """Concave utility of a farewell gift, ``scale * size**curvature`` (see peakend.affect)."""

    scale: float = Field(
        0.5, gt=0, le=10, description="experience points added by a gift of size 1, (0, 10]"
    )
    curvature: float = Field(
        0.5, gt=0, le=1, description="exponent: 1 linear, smaller more concave, (0, 1]"
    )


class ValueFunction(Model):
    """The Delta-law value function v(experience - expectation)."""

    kind: Literal["prospect", "linear"] = Field("prospect", description="value function family")
    alpha: float = Field(0.88, gt=0, le=1, description="curvature for gains, (0, 1]")
    beta: float = Field(0.88, gt=0, le=1, description="curvature for losses, (0, 1]")
    loss_aversion: float = Field(
        2.25, ge=1, le=10, description="lambda, losses weigh more, [1, 10]"
    )
    scale: float = Field(1.0, gt=0, le=10, description="affect points per level point, (0, 10]")


class MemoryRule(Model):
    """The default memory rule that gives the ``remembered`` column."""

    rule: RuleName = Field("peak_end", description="memory rule name (see peakend.memory)")
    params: dict[str, float] = Field(
        default_factory=dict,
        description="rule parameters, by name (rule-specific units and ranges, checked "
        "when the scenario is built; see peakend.memory)",
    )

    @model_validator(mode="after")
    def _check_params(self) -> MemoryRule:
        known = MEMORY_RULE_PARAMS[self.rule]
        for name, value in self.params.items():
            if name not in known:
                valid = ", ".join(known) or "none"
                hint = _did_you_mean(name, known)
                raise ValueError(
                    f"params.{name}: rule {self.rule!r} has no parameter {name!r}{hint}; "
                    f"its parameters: {valid}"
                )
            if not known[name].contains(value):
                raise ValueError(
                    f"params.{name}: rule {self.rule!r} needs {known[name].text()}, got {value!r}"
                )
        weights = _POSITIVE_WEIGHTS.get(self.rule)
        if weights is not None:
            total = sum(
                self.params.get(w, MEMORY_RULE_PARAMS[self.rule][w].default or 0.0)
                for w in weights
            )
            if total <= 0:
                raise ValueError(
                    f"params: rule {self.rule!r} needs at least one of "
                    f"{', '.join(weights)} > 0"
                )
        return self


class Limits(Model):
    """Guards against scenarios too large to simulate by mistake."""

    max_customers_per_day: int = Field(
        MAX_CUSTOMERS_PER_DAY,
        ge=1,
        le=1_000_000_000,
        description="largest expected number of potential visits per day (the arrival "
        "profile's integral, before e-channel diversion) a scenario may have, customers "
        "(1 to 1e9); larger scenarios are refused when built",
    )


_DEFAULT_LIMITS = Limits()
