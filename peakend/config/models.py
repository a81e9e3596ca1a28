"""Pydantic models of a branch scenario.

Every model is frozen and rejects unknown fields. Times of day are clock hours
(``9.5`` or ``"09:30"``); inside the simulation they become minutes from
opening. Rates are per hour, durations in minutes, experience and expectation
levels on a 0-10 scale, money in the scenario's currency units.

Named collections (segments, business types, counter groups) are
``dict[str, Model]`` keyed by name, so a policy can deep-merge a partial change
(``{"counters": {"general": {"tellers": 5}}}``) and re-validate.

The models live in modules along their seams (``base``, ``distributions``, ``demand``,
``counters``, ``experience``, ``stages``, ``scenario``, ``checks``); this module gathers
them under the one import path users and the rest of peakend use
(``from peakend.config.models import Scenario``).
"""

from __future__ import annotations

from peakend.config.base import (
    JOURNEY_TOUCHPOINTS,
    LEVEL_TOUCHPOINTS,
    MAX_CLOCK_HOURS,
    MAX_CUSTOMERS_PER_DAY,
    TOUCHPOINTS,
    ClockTime,
    Model,
)
from peakend.config.base import JourneyTouchpoint as JourneyTouchpoint
from peakend.config.base import LevelTouchpoint as LevelTouchpoint
from peakend.config.counters import (
    AvailabilityBlock,
    CounterGroup,
    Quality,
    ShiftBlock,
)
from peakend.config.counters import count_at as count_at
from peakend.config.counters import max_count as max_count
from peakend.config.counters import plan_hours as plan_hours
from peakend.config.demand import Arrivals, BusinessType, Farewell, MixBlock, RateBlock, Segment
from peakend.config.distributions import MAX_GAMMA_CV as MAX_GAMMA_CV
from peakend.config.distributions import MAX_LOGNORMAL_CV as MAX_LOGNORMAL_CV
from peakend.config.distributions import MIN_GAMMA_CV as MIN_GAMMA_CV
from peakend.config.distributions import MIN_MEAN_MINUTES as MIN_MEAN_MINUTES
from peakend.config.distributions import MIN_SERVICE_MINUTES as MIN_SERVICE_MINUTES
from peakend.config.distributions import WEIBULL_SHAPE_RANGE as WEIBULL_SHAPE_RANGE
from peakend.config.distributions import (
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Weibull,
)
from peakend.config.distributions import SimpleDistribution as SimpleDistribution
from peakend.config.distributions import weibull_shape as weibull_shape
from peakend.config.experience import (
    MEMORY_RULE_PARAMS,
    Abandonment,
    Entrance,
    GiftUtility,
    Hall,
    Limits,
    Lobby,
    Lounge,
    MemoryRule,
    ParamRange,
    ValueFunction,
)
from peakend.config.experience import RuleName as RuleName
from peakend.config.scenario import Scenario
from peakend.config.scenario import StaffGroup as StaffGroup
from peakend.config.stages import Route, RouteSpec, Stage, StaticTouchpoint

__all__ = [
    "JOURNEY_TOUCHPOINTS",
    "LEVEL_TOUCHPOINTS",
    "MAX_CLOCK_HOURS",
    "MAX_CUSTOMERS_PER_DAY",
    "MEMORY_RULE_PARAMS",
    "TOUCHPOINTS",
    "Abandonment",
    "Arrivals",
    "AvailabilityBlock",
    "BusinessType",
    "ClockTime",
    "CounterGroup",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Entrance",
    "Exponential",
    "Farewell",
    "Gamma",
    "GiftUtility",
    "Hall",
    "Limits",
    "Lobby",
    "Lognormal",
    "Lounge",
    "MemoryRule",
    "MixBlock",
    "Mixture",
    "Model",
    "ParamRange",
    "Quality",
    "RateBlock",
    "Route",
    "RouteSpec",
    "Scenario",
    "Segment",
    "ShiftBlock",
    "Stage",
    "StaticTouchpoint",
    "ValueFunction",
    "Weibull",
]
