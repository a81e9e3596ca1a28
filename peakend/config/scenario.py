"""The :class:`Scenario`: a bank-branch day, and what is derived from it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from peakend.config.base import (
    _DEFAULT_JOURNEY,
    JOURNEY_TOUCHPOINTS,
    MAX_CLOCK_HOURS,
    ClockTime,
    JourneyTouchpoint,
    Model,
    _did_you_mean,
)
from peakend.config.checks import _check_scenario, _profile_integral
from peakend.config.counters import CounterGroup, count_at, plan_hours
from peakend.config.demand import Arrivals, BusinessType, Segment
from peakend.config.experience import (
    _DEFAULT_LIMITS,
    Abandonment,
    Entrance,
    GiftUtility,
    Hall,
    Limits,
    Lobby,
    Lounge,
    MemoryRule,
    ValueFunction,
)
from peakend.config.stages import Route, RouteSpec, Stage, StaticTouchpoint


@dataclass(frozen=True)
class StaffGroup:
    """One counter group of one stage, as :meth:`Scenario.group_table` lists it.

    Attributes
    ----------
    name : str
        Its name in a plan: the group's own name on the first stage, ``"stage/group"``
        on a further stage.
    stage : str
        The stage's name.
    group : str
        The group's name within its stage.
    first : bool
        It belongs to the first stage (the scenario's ``counters``).
    counter : CounterGroup
        Its configuration.
    """

    name: str
    stage: str
    group: str
    first: bool
    counter: CounterGroup

    @property
    def keys(self) -> tuple[str, ...]:
        """Keys of the group's table in a policy's changes."""
        if self.first:
            return ("counters", self.group)
        return ("stages", self.stage, "counters", self.group)

    @property
    def path(self) -> str:
        """Policy path of the group's tellers, e.g. ``"stages.advisor.counters.rm.tellers"``."""
        return ".".join((*self.keys, "tellers"))


class Scenario(Model):
    """A bank-branch day: hours, demand, customers, counters and experience design.

    Examples
    --------
    >>> import peakend as pe
    >>> s = pe.load_scenario("default_branch")
    >>> s.opening < s.closing
    True
    >>> bigger = s.model_copy(update={"name": "five tellers"})
    >>> bigger.name
    'five tellers'
    """

    name: str = Field("scenario", min_length=1, description="scenario name")
    description: str = Field("", description="free text")
    currency: str = Field("CNY", description="currency of all costs and values")
    opening: ClockTime = Field(
        ge=0, le=MAX_CLOCK_HOURS, description="opening time, clock hours ('09:00'), 0-1000"
    )
    closing: ClockTime = Field(
        ge=0,
        le=MAX_CLOCK_HOURS,
        description="closing time, clock hours (> opening), 0-1000; doors close, nobody "
        "enters after",
    )
    after_closing: Literal["serve", "dismiss"] = Field(
        "serve",
        description="serve: customers inside at closing are served; dismiss: those still "
        "waiting at closing leave unserved (recorded as reneged)",
    )
    arrivals: Arrivals = Field(description="arrival-rate profile (customers per hour)")
    segments: dict[str, Segment] = Field(min_length=1, description="customer segments by name")
    business_types: dict[str, BusinessType] = Field(
        min_length=1, description="business types by name"
    )
    counters: dict[str, CounterGroup] = Field(min_length=1, description="counter groups by name")
    first_stage: str = Field(
        "counter",
        min_length=1,
        description="name of the first service stage, the one the counters table staffs",
    )
    stages: dict[str, Stage] = Field(
        default_factory=dict,
        description="further service stages by name, in visiting order (empty: one stage)",
    )
    routes: dict[str, Route] = Field(
        default_factory=dict,
        description="routes per business type (default: the first stage only)",
    )
    touchpoints: dict[str, StaticTouchpoint] = Field(
        default_factory=dict,
        description="the scenario's own static touchpoints by name, in journey order",
    )
    journey: list[JourneyTouchpoint] = Field(
        default_factory=lambda: list(_DEFAULT_JOURNEY),
        description="touchpoints recorded, in journey order; must include waiting and service; "
        "allowed: " + ", ".join(JOURNEY_TOUCHPOINTS),
    )
    entrance: Entrance = Field(default_factory=Entrance, description="entrance touchpoint")
    lobby: Lobby = Field(default_factory=Lobby, description="lobby managers and welcome")
    hall: Hall = Field(default_factory=Hall, description="waiting hall and perceived wait")
    lounge: Lounge = Field(default_factory=Lounge, description="VIP lounge")
    abandonment: Abandonment = Field(default_factory=Abandonment, description="leaving unserved")
    gift_utility: GiftUtility = Field(default_factory=GiftUtility, description="gift utility")
    value_function: ValueFunction = Field(
        default_factory=ValueFunction, description="Delta-law value function"
    )
    memory: MemoryRule = Field(default_factory=MemoryRule, description="default memory rule")
    limits: Limits = Field(
        default_factory=Limits,
        description="size guards (left out of model_dump while at their defaults)",
    )

    @model_serializer(mode="wrap")
    def _drop_default_limits(self, handler: SerializerFunctionWrapHandler) -> Any:
        # default limits are not part of a scenario's identity: dumps (and the results,
        # checkpoints and stored studies made from them) stay as they were before limits
        data = handler(self)
        if isinstance(data, dict) and self.limits == _DEFAULT_LIMITS:
            data.pop("limits", None)
        if isinstance(data, dict) and not self.touchpoints:
            data.pop("touchpoints", None)
        if isinstance(data, dict) and not self.stages and not self.routes:
            # a one-stage scenario dumps (and is stored) exactly as before stages existed
            data.pop("stages", None)
            data.pop("routes", None)
            if self.first_stage == "counter":
                data.pop("first_stage", None)
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> Scenario:
        _check_scenario(self)
        return self

    # ------------------------------------------------------------------ derived
    @property
    def open_minutes(self) -> float:
        """Length of the opening hours, minutes."""
        return (self.closing - self.opening) * 60.0

    def group_table(self) -> dict[str, StaffGroup]:
        """Every counter group of every stage, by its plan name, in stage order.

        The one table of counter-group names: a first-stage group under its own name
        (``"general"``), a further stage's group as ``"<stage>/<group>"``
        (``"advisor/rm"``), as a simulated day's ``meta["counter_group"]`` names them.

        Returns
        -------
        dict of str to StaffGroup
            First-stage groups, then each further stage's groups. A first-stage group
            named like a further stage's ``"<stage>/<group>"`` is refused when the
            scenario is validated, so no name is taken twice.
        """
        out = {g: StaffGroup(g, self.first_stage, g, True, c) for g, c in self.counters.items()}
        for x, st in self.stages.items():  # no name is taken twice (refused when validated)
            for g, c in st.counters.items():
                out[f"{x}/{g}"] = StaffGroup(f"{x}/{g}", x, g, False, c)
        return out

    def find_group(self, name: str, field: str = "group") -> StaffGroup:
        """Return the counter group ``name`` names, from :meth:`group_table`.

        Parameters
        ----------
        name : str
            A plan name (``"general"``, ``"advisor/rm"``); a first-stage group may also
            be written ``"<first_stage>/<group>"``.
        field : str, optional
            The argument or field named in the error message.

        Raises
        ------
        ValueError
            If no group has that name; the message lists the valid names and a close match.
        """
        table = self.group_table()
        ref = table.get(name)
        prefix = f"{self.first_stage}/"
        if ref is None and name.startswith(prefix) and name[len(prefix) :] in self.counters:
            ref = table[name[len(prefix) :]]
        if ref is None:
            hint = _did_you_mean(name, table)
            if not hint:  # a further stage's group by its bare name, or a stage's name
                close = [k for k, r in table.items() if not r.first and name in (r.group, r.stage)]
                hint = f"; did you mean {close[0]!r}?" if close else ""
            how = "; a further stage's groups are named '<stage>/<group>'" if self.stages else ""
            raise ValueError(
                f"{field}: unknown counter group {name!r}{hint} (valid: {', '.join(table)}{how})"
            )
        return ref

    def counter_group(self, group: str) -> CounterGroup:
        """Return the counter group named ``group`` (a first-stage name or ``"<stage>/<group>"``).

        See :meth:`find_group` for the names.

        Raises
        ------
        ValueError
            If there is no such group; the message lists the valid names.
        """
        return self.find_group(group).counter

    def tellers_at(self, group: str, clock: float) -> int:
        """Tellers of counter group ``group`` on duty at clock time ``clock`` (hours).

        ``group`` is a first-stage group's name or ``"<stage>/<group>"`` (see
        :meth:`counter_group`).
        """
        return count_at(self.counter_group(group).tellers, clock)

    def teller_hours(self, group: str) -> float:
        """Teller-hours of counter group ``group`` within opening hours, hours.

        ``group`` as for :meth:`tellers_at`. On duty, breaks included (they are paid).
        """
        return plan_hours(self.counter_group(group).tellers, self.opening, self.closing)

    def managers_at(self, clock: float) -> int:
        """Lobby managers on duty at clock time ``clock`` (hours)."""
        return count_at(self.lobby.managers, clock)

    def manager_hours(self) -> float:
        """Lobby-manager hours within opening hours, hours."""
        return plan_hours(self.lobby.managers, self.opening, self.closing)

    def staff_cost(self) -> float:
        """Staff cost of the day's shift plans within opening hours, currency units per day.

        Tellers (teller-hours times each group's ``cost_per_hour``) plus lobby
        managers (manager-hours of their plan times ``lobby.cost_per_hour``). Overtime after
        closing and fixed costs (lounge, distraction, display) are not included;
        see :meth:`fixed_cost`.
        """
        tellers = sum(self.teller_hours(g) * c.cost_per_hour for g, c in self.counters.items())
        for st in self.stages.values():
            tellers += sum(
                plan_hours(c.tellers, self.opening, self.closing) * c.cost_per_hour
                for c in st.counters.values()
            )
        return tellers + self.manager_hours() * self.lobby.cost_per_hour

    def fixed_cost(self) -> float:
        """Daily running cost of the lounge, distraction and wait display, currency units."""
        cost = self.lounge.cost_per_day if self.lounge.enabled else 0.0
        cost += self.hall.distraction_cost_per_day if self.hall.distraction else 0.0
        cost += self.hall.display_cost_per_day if self.hall.wait_display else 0.0
        return cost

    @property
    def stage_names(self) -> list[str]:
        """All service stages in visiting order: the first stage, then ``stages``."""
        return [self.first_stage, *self.stages]

    def route(self, segment: str, business: str) -> tuple[list[str], list[float]]:
        """Stages a (segment, business) customer may visit, in order, and each one's share.

        Without a route: the first stage only, with share 1.
        """
        r = self.routes.get(business)
        if r is None:
            return [self.first_stage], [1.0]
        spec: RouteSpec = r.segments.get(segment, r)
        return list(spec.stages), [spec.share.get(x, 1.0) for x in spec.stages]

    def stage_view(self, stage: str) -> Scenario:
        """Return this scenario with the counter groups of ``stage`` as its counters (unvalidated).

        For the movement engine and the queueing disciplines, which read ``counters``.
        """
        if stage == self.first_stage:
            return self
        return self.model_copy(update={"counters": self.stages[stage].counters})

    def served_segments(self, group: str) -> list[str]:
        """Segments counter group ``group`` can serve, in the order it prefers them."""
        c = self.counters[group]
        everyone = list(self.segments)
        own = list(c.segments) or everyone
        if c.discipline == "priority":
            ordered = [s for s in c.priority_order() if s in own]
            return ordered + [s for s in own if s not in ordered]
        if c.discipline == "flexible":
            extra = c.overflow if c.overflow is not None else everyone
            return own + [s for s in extra if s not in own]
        return own

    def expected_arrivals(self) -> float:
        """Return the expected number of customers coming in a day (after e-channel diversion)."""
        potential = _profile_integral(self) / 60.0
        stay = 0.0
        for seg in self.segments.values():
            for b, share in seg.business_mix.items():
                stay += seg.share * share * (1.0 - self.business_types[b].e_channel_share)
        return potential * stay

    def offered_load(self) -> float:
        """Offered work divided by available teller time over the opening hours, dimensionless.

        Expected service minutes of the day's expected arrivals over the teller-minutes
        of the shift plans, weighted by the groups' availability; above 1 the branch
        cannot keep up. With further stages, the largest of every stage's
        :meth:`stage_load` (the first stage's included).
        """
        return max(self.stage_load(x) for x in self.stage_names)

    def stage_load(self, stage: str) -> float:
        """Offered load of one service stage: its expected service minutes over its teller time.

        Every customer whose route lists the stage is counted with the stage's share on
        the route (each stage's routing is drawn on its own; as if all were served at the
        stages before, so for a further stage this is an upper bound of the load it
        sees); dimensionless. The
        teller time is the groups' available teller-minutes within opening hours.

        Parameters
        ----------
        stage : str
            The first stage's name (``first_stage``) or a name in ``stages``.

        Raises
        ------
        ValueError
            If ``stage`` names no stage (the message lists them).
        """
        if stage not in self.stage_names:
            raise ValueError(
                f"stage: no stage {stage!r}{_did_you_mean(stage, self.stage_names)} (stages: "
                f"{', '.join(self.stage_names)})"
            )
        first = stage == self.first_stage
        counters = self.counters if first else self.stages[stage].counters
        work = 0.0
        for sn, seg in self.segments.items():
            for b, share in seg.business_mix.items():
                names, shares = self.route(sn, b)
                if stage not in names:
                    continue
                # each stage's routing is drawn on its own: whoever is served before
                # (or leaves a stage out) goes on with that stage's share
                visit = shares[names.index(stage)]
                bt = self.business_types[b]
                if first:
                    mean = bt.service.mean
                else:
                    st_service = self.stages[stage].service
                    mean = st_service[b].mean if b in st_service else 0.0
                work += seg.share * share * (1.0 - bt.e_channel_share) * visit * mean
        work *= _profile_integral(self) / 60.0
        capacity = 60.0 * sum(
            plan_hours(c.tellers, self.opening, self.closing)
            if c.availability == 1.0
            else c.available_hours(self.opening, self.closing)
            for c in counters.values()
        )
        if capacity <= 0:
            return math.inf if work > 0 else 0.0
        return work / capacity
