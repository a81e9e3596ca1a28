"""Names, clock times and the frozen base model shared by every scenario model.

The touchpoint name tuples are the one source of truth the simulation derives its codes
from; ``ClockTime`` accepts ``9.5`` or ``"09:30"``; :class:`Model` is the frozen base
(unknown fields and inf/NaN are errors).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

#: Every touchpoint the branch model records, in journey order.
TOUCHPOINTS: tuple[str, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "waiting",
    "service",
    "advice",
    "farewell",
    "abandonment",
)
#: Touchpoints a scenario's ``journey`` may switch on (abandonment is recorded when it happens).
JOURNEY_TOUCHPOINTS: tuple[str, ...] = TOUCHPOINTS[:-1]
#: Touchpoints with a per-segment expectation level, 0-10 (waiting uses ``expected_wait``).
LEVEL_TOUCHPOINTS: tuple[str, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "service",
    "advice",
    "farewell",
)
#: Latest clock time allowed anywhere in a scenario (opening, closing, block starts), hours
#: since midnight of the opening day. A day may be up to 1000 hours long (the steady-state
#: validation runs of :func:`peakend.scenarios.mmc` use days of tens to hundreds of hours);
#: the bound is a guard against typos such as ``9999:00``, not a 24-hour clock.
MAX_CLOCK_HOURS: float = 1000.0
#: Default of ``limits.max_customers_per_day``: expected potential visits per day above
#: which a scenario is refused when it is built (raise it in the scenario's ``[limits]``).
MAX_CUSTOMERS_PER_DAY: int = 2_000_000


JourneyTouchpoint = Literal[
    "entrance", "welcome", "information", "lounge", "waiting", "service", "advice", "farewell"
]
_DEFAULT_JOURNEY: tuple[JourneyTouchpoint, ...] = (
    "entrance",
    "welcome",
    "information",
    "lounge",
    "waiting",
    "service",
    "advice",
    "farewell",
)
LevelTouchpoint = Literal[
    "entrance", "welcome", "information", "lounge", "service", "advice", "farewell"
]

_SHARE_TOLERANCE = 1e-6
_CLOCK = re.compile(r"^\s*(\d{1,4}):([0-5]\d)\s*$")


def _parse_clock(value: Any) -> Any:
    """Turn ``"HH:MM"`` into clock hours (float); pass numbers through."""
    if isinstance(value, str):
        m = _CLOCK.match(value)
        if m is None:
            raise ValueError(f"clock time must be 'HH:MM' or hours as a number, got {value!r}")
        return int(m.group(1)) + int(m.group(2)) / 60.0
    return value


#: Clock time in hours since midnight (``9.5``), also accepted as ``"09:30"``.
ClockTime = Annotated[
    float,
    BeforeValidator(_parse_clock),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_CLOCK_HOURS},
                {"type": "string", "pattern": r"^\s*\d{1,4}:[0-5]\d\s*$"},
            ]
        }
    ),
]


def _clock_text(hours: float) -> str:
    h = int(hours)
    m = round((hours - h) * 60)
    return f"{h:02d}:{m:02d}"


class Model(BaseModel):
    """Frozen base of all configuration models: unknown fields and inf/NaN are errors."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


def _did_you_mean(name: str, valid: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``valid``, or ``""``."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    if not close and "_" not in name:
        close = [v for v in valid if v.endswith("_" + name)][:1]
    return f"; did you mean {close[0]!r}?" if close else ""
