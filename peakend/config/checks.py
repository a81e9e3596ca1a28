"""Cross-field checks of a :class:`~peakend.config.scenario.Scenario`.

Every message names the field at fault and the allowed values. Called by the
scenario's after-validator, once its fields are valid one by one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from peakend.config.base import (
    _SHARE_TOLERANCE,
    JOURNEY_TOUCHPOINTS,
    TOUCHPOINTS,
    _clock_text,
    _did_you_mean,
)
from peakend.config.counters import _check_plan_hours

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config.counters import CounterGroup
    from peakend.config.scenario import Scenario


def _profile_integral(s: Scenario) -> float:
    """Integral of the rate profile over the opening hours, customers * minutes / hour."""
    total = 0.0
    blocks = s.arrivals.profile
    for i, block in enumerate(blocks):
        end = blocks[i + 1].start if i + 1 < len(blocks) else s.closing
        lo, hi = max(block.start, s.opening), min(end, s.closing)
        if hi > lo:
            total += block.rate * (hi - lo) * 60.0
    return total


def _round_up(x: float) -> int:
    """``x`` rounded up to two significant digits, for a suggested limit."""
    n = max(math.ceil(x), 1)
    step = 10 ** max(len(str(n)) - 2, 0)
    return -(-n // step) * step


def _comes(s: Scenario, segment: str) -> bool:
    """Whether a segment comes: its day share, or its share in a segment_mix block, is > 0."""
    blocks = s.arrivals.segment_mix or []
    return s.segments[segment].share > 0 or any(b.shares.get(segment, 0.0) > 0 for b in blocks)


def _served(view: Scenario, segment: str, business: str) -> bool:
    """Whether a staffed counter group of ``view`` (a stage's view) serves the pair."""
    return any(
        c.max_tellers() > 0
        and segment in view.served_segments(g)
        and (not c.business or business in c.business)
        for g, c in view.counters.items()
    )


def _check_scenario(s: Scenario) -> None:
    """Cross-field checks; every message names the field and the allowed values."""
    if s.stages or s.routes or any(tp.position == "before_stage" for tp in s.touchpoints.values()):
        _check_stages(s)
    for tname, tp in s.touchpoints.items():
        taken = set(TOUCHPOINTS) | {f"{k}@{x}" for x in s.stages for k in ("wait", "service")}
        if tname in taken or "@" in tname or "/" in tname:
            raise ValueError(
                f"touchpoints.{tname}: the name is taken or has '@' or '/'; built-in "
                f"touchpoints: {', '.join(TOUCHPOINTS)}"
            )
        for key in ("levels", "expectations"):
            for x in getattr(tp, key):
                if x not in s.segments:
                    raise ValueError(
                        f"touchpoints.{tname}.{key}: unknown segment {x!r}"
                        f"{_did_you_mean(x, s.segments)}; allowed: {sorted(s.segments)}"
                    )
    if s.closing <= s.opening:
        raise ValueError(
            f"closing: must be after opening ({_clock_text(s.opening)}), got "
            f"{_clock_text(s.closing)}"
        )
    # size
    visits = _profile_integral(s) / 60.0
    limit = s.limits.max_customers_per_day
    if visits > limit:
        raise ValueError(
            f"arrivals.profile: about {visits:,.0f} expected arrivals per day (potential visits "
            f"before e-channel diversion) exceed limits.max_customers_per_day = {limit:,}; "
            f"lower the rates or shorten the day, or raise the limit (in the scenario file: "
            f"[limits] max_customers_per_day = {_round_up(visits)})"
        )
    # arrivals
    for rate_block in s.arrivals.profile:
        if rate_block.start >= s.closing:
            raise ValueError(
                f"arrivals.profile: block start {_clock_text(rate_block.start)} must be before "
                f"closing ({_clock_text(s.closing)})"
            )
    mix_blocks = s.arrivals.segment_mix or []
    for i, mix_block in enumerate(mix_blocks):
        field = f"arrivals.segment_mix.{i}"
        if not s.opening <= mix_block.start < s.closing:
            raise ValueError(
                f"{field}.start: {_clock_text(mix_block.start)} must be within opening hours "
                f"[{_clock_text(s.opening)}, {_clock_text(s.closing)})"
            )
        for x in mix_block.shares:
            if x not in s.segments:
                raise ValueError(
                    f"{field}.shares: unknown segment {x!r}{_did_you_mean(x, s.segments)}; "
                    f"allowed: {sorted(s.segments)}"
                )
    # segments
    total = sum(seg.share for seg in s.segments.values())
    if abs(total - 1.0) > _SHARE_TOLERANCE:
        raise ValueError(
            f"segments.*.share: shares must sum to 1 (tolerance {_SHARE_TOLERANCE}), "
            f"got {total:.6g}"
        )
    names_b = set(s.business_types)
    for name, seg in s.segments.items():
        unknown = set(seg.business_mix) - names_b
        if unknown:
            raise ValueError(
                f"segments.{name}.business_mix: unknown business types {sorted(unknown)}; "
                f"allowed: {sorted(names_b)}"
            )
        mix = sum(seg.business_mix.values())
        if abs(mix - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(
                f"segments.{name}.business_mix: shares must sum to 1 "
                f"(tolerance {_SHARE_TOLERANCE}), got {mix:.6g}"
            )
    # journey
    if "waiting" not in s.journey or "service" not in s.journey:
        raise ValueError(f"journey: must include 'waiting' and 'service', got {s.journey}")
    if len(set(s.journey)) != len(s.journey):
        raise ValueError(f"journey: touchpoints must not repeat, got {s.journey}")
    order = [t for t in JOURNEY_TOUCHPOINTS if t in s.journey]
    if list(s.journey) != order:
        raise ValueError(f"journey: touchpoints must be in journey order {order}, got {s.journey}")
    _check_group_names(s, "counters", s.counters)
    _check_plan_hours(s.lobby.managers, "lobby.managers", s.opening, s.closing)
    # every (segment, business) with positive mix must be served by a staffed group
    for sname, seg in s.segments.items():
        if not _comes(s, sname):
            continue
        for bname, share in seg.business_mix.items():
            if share <= 0:
                continue
            if not _served(s, sname, bname):
                raise ValueError(
                    f"counters: no staffed counter group serves segment {sname!r} with business "
                    f"{bname!r}; every segment and business type must be served (check "
                    f"counters.*.segments, .business and .tellers > 0)"
                )


def _check_group_names(s: Scenario, field: str, counters: dict[str, CounterGroup]) -> None:
    names_s, names_b = set(s.segments), set(s.business_types)
    for gname, c in counters.items():
        for fname, listed in (
            ("segments", c.segments),
            ("priority", c.priority_order()),
            ("overflow", c.overflow or []),
        ):
            unknown = set(listed) - names_s
            if unknown:
                raise ValueError(
                    f"{field}.{gname}.{fname}: unknown segments {sorted(unknown)}; "
                    f"allowed: {sorted(names_s)}"
                )
        unknown = set(c.business) - names_b
        if unknown:
            raise ValueError(
                f"{field}.{gname}.business: unknown business types {sorted(unknown)}; "
                f"allowed: {sorted(names_b)}"
            )
        _check_plan_hours(c.tellers, f"{field}.{gname}.tellers", s.opening, s.closing)
        if isinstance(c.availability, list):
            for block in c.availability:
                if not s.opening <= block.start < s.closing:
                    raise ValueError(
                        f"{field}.{gname}.availability: block start "
                        f"{_clock_text(block.start)} must be within opening hours "
                        f"[{_clock_text(s.opening)}, {_clock_text(s.closing)})"
                    )


def _refuse_touchpoint_stage(s: Scenario, tname: str, stage: str) -> None:
    """Raise the error of a before_stage touchpoint naming no further stage."""
    field = f"touchpoints.{tname}.stage"
    if stage == s.first_stage:
        raise ValueError(
            f"{field}: {stage!r} is the first stage; a touchpoint before it has position "
            "'before_queue'"
        )
    further = list(s.stages)
    raise ValueError(
        f"{field}: unknown stage {stage!r}{_did_you_mean(stage, further)}; a before_stage "
        f"touchpoint precedes a further stage, allowed: {further}"
    )


def _check_stages(s: Scenario) -> None:
    """Check the stages and routes; every message names the field at fault."""
    names = s.stage_names
    if s.first_stage in s.stages:
        raise ValueError(
            f"stages.{s.first_stage}: the first stage {s.first_stage!r} is staffed by the "
            "counters table; name further stages differently (or set first_stage)"
        )
    for x in names:
        if "@" in x or "/" in x:
            raise ValueError(f"stages: stage name {x!r} must not contain '@' or '/'")
    for st_name, st in s.stages.items():
        field = f"stages.{st_name}"
        for g in st.counters:
            if f"{st_name}/{g}" in s.counters:
                raise ValueError(
                    f"counters.{st_name}/{g}: the first-stage counter group {st_name + '/' + g!r} "
                    f"has the name of group {g!r} of stage {st_name!r} ('<stage>/<group>'); "
                    "rename one of them"
                )
        _check_group_names(s, f"{field}.counters", st.counters)
        for key, what, valid in (
            ("service", "business types", s.business_types),
            ("expected_wait", "segments", s.segments),
            ("service_expectation", "segments", s.segments),
        ):
            for k in getattr(st, key):
                if k not in valid:
                    raise ValueError(
                        f"{field}.{key}: unknown {what} {k!r}{_did_you_mean(k, valid)}; "
                        f"allowed: {sorted(valid)}"
                    )
    for bname, r in s.routes.items():
        if bname not in s.business_types:
            raise ValueError(
                f"routes.{bname}: unknown business type{_did_you_mean(bname, s.business_types)}; "
                f"allowed: {sorted(s.business_types)}"
            )
        for seg in r.segments:
            if seg not in s.segments:
                raise ValueError(
                    f"routes.{bname}.segments.{seg}: unknown segment"
                    f"{_did_you_mean(seg, s.segments)}; allowed: {sorted(s.segments)}"
                )
        specs = [(f"routes.{bname}", r)] + [
            (f"routes.{bname}.segments.{seg}", sp) for seg, sp in r.segments.items()
        ]
        for field, spec in specs:
            for x in spec.stages:
                if x not in names:
                    raise ValueError(
                        f"{field}.stages: unknown stage {x!r}{_did_you_mean(x, names)}; "
                        f"allowed: {names}"
                    )
            if all(spec.share.get(x, 1.0) < 1.0 for x in spec.stages):
                raise ValueError(
                    f"{field}.share: at least one stage of the route must have share 1 "
                    f"(so that everyone on it visits a stage), got {dict(spec.share)}"
                )
            order = [x for x in names if x in spec.stages]
            if len(set(spec.stages)) != len(spec.stages) or order != list(spec.stages):
                raise ValueError(
                    f"{field}.stages: stages must not repeat and must follow the order of "
                    f"the stages table {names}, got {spec.stages}"
                )
            for x in spec.share:
                if x not in spec.stages:
                    raise ValueError(
                        f"{field}.share: {x!r} is not a stage of this route "
                        f"{spec.stages}{_did_you_mean(x, spec.stages)}"
                    )
    for tname, tp in s.touchpoints.items():
        if tp.position == "before_stage" and tp.stage not in s.stages:
            _refuse_touchpoint_stage(s, tname, str(tp.stage))
    # every routed (segment, business) must be served, and have a service time, at each
    # later stage it may visit
    for sname, segm in s.segments.items():
        if not _comes(s, sname):
            continue
        for bname, share in segm.business_mix.items():
            if share <= 0:
                continue
            stages, shares = s.route(sname, bname)
            for x, p in zip(stages, shares, strict=True):
                if p <= 0 or x == s.first_stage:
                    continue
                st = s.stages[x]
                if bname not in st.service:
                    raise ValueError(
                        f"stages.{x}.service: no service time for business {bname!r}, which "
                        f"is routed to stage {x!r}; add stages.{x}.service.{bname}"
                    )
                if not _served(s.stage_view(x), sname, bname):
                    raise ValueError(
                        f"stages.{x}.counters: no staffed counter group serves segment "
                        f"{sname!r} with business {bname!r}, routed to stage {x!r} (check "
                        f"stages.{x}.counters.*.segments, .business and .tellers > 0)"
                    )
