"""The counter groups a staffing plan reaches: every stage's, named as simulated days name them.

A first-stage group keeps its own name (``general``); a group of a further stage is
qualified by its stage (``advisor/rm``), as in the ``counter_group`` of a simulated
day's ``meta`` (its tellers are ``advisor/rm/1``, ...). The policy path of a group's
tellers is ``counters.<group>.tellers`` on the first stage and
``stages.<stage>.counters.<group>.tellers`` on a further one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario
    from peakend.config.models import CounterGroup

__all__ = ["GroupFlow", "StaffGroup", "group_flows", "plan_changes", "resolve_groups",
           "staff_groups"]


@dataclass(frozen=True)
class StaffGroup:
    """One counter group of one stage.

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


def staff_groups(scenario: Scenario) -> dict[str, StaffGroup]:
    """Every counter group of every stage, by its plan name, in stage order.

    Parameters
    ----------
    scenario : Scenario
        The branch day.

    Returns
    -------
    dict of str to StaffGroup
        First-stage groups under their own names, then each further stage's
        groups as ``"stage/group"``.

    Raises
    ------
    ValueError
        If a first-stage group's name equals a further stage's qualified name.
    """
    out = {g: StaffGroup(g, scenario.first_stage, g, True, c)
           for g, c in scenario.counters.items()}
    for x, st in scenario.stages.items():
        for g, c in st.counters.items():
            name = f"{x}/{g}"
            if name in out:
                raise ValueError(
                    f"counters.{name}: the first-stage counter group {name!r} has the name of "
                    f"group {g!r} of stage {x!r} in a staffing plan; rename one of them")
            out[name] = StaffGroup(name, x, g, False, c)
    return out


def _hint(name: str, every: dict[str, StaffGroup]) -> str:
    close = difflib.get_close_matches(name, list(every), n=1)
    if not close:  # a further stage's group by its bare name, or a stage's name
        close = [k for k, r in every.items() if not r.first and name in (r.group, r.stage)][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_groups(scenario: Scenario, groups: str | Iterable[str] | None) -> list[str]:
    """Check a ``groups`` argument and return the plan names of the groups to plan.

    Parameters
    ----------
    scenario : Scenario
        The branch day.
    groups : None, str or iterable of str
        None: every staffed group of every stage (at least one teller on duty at
        some time); else plan names (``"general"``, ``"advisor/rm"``; a first-stage
        group may also be written ``"<first_stage>/<group>"``).

    Returns
    -------
    list of str
        Plan names, in the order given (default: stage order).

    Raises
    ------
    ValueError
        Naming ``groups``, the valid names and a close match.
    """
    every = staff_groups(scenario)
    if groups is None:
        out = [g for g, ref in every.items() if ref.counter.max_tellers() > 0]
        if not out:
            raise ValueError("groups: the scenario has no staffed counter group; name the "
                             f"groups to plan, from {', '.join(every)}")
        return out
    items = [groups] if isinstance(groups, str) else list(groups)
    if not items:
        raise ValueError("groups: name at least one counter group")
    prefix = f"{scenario.first_stage}/"
    out = []
    for g in items:
        if not isinstance(g, str):
            raise ValueError(f"groups: each group must be a string, got {g!r}")
        name = g
        if name not in every and name.startswith(prefix) and name[len(prefix):] in \
                scenario.counters:
            name = name[len(prefix):]
        if name not in every:
            how = " (a further stage's group as 'stage/group')" if scenario.stages else ""
            raise ValueError(f"groups: unknown counter group {g!r}; valid: "
                             f"{', '.join(every)}{how}{_hint(g, every)}")
        if name in out:
            raise ValueError(f"groups: counter group {g!r} is named twice")
        out.append(name)
    return out


def plan_changes(scenario: Scenario, plan: dict[str, list[int]],
                 blocks: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Return a plan as a policy's changes: each group's tellers at its own policy path.

    Parameters
    ----------
    scenario : Scenario
        The branch day the plan's names refer to.
    plan : dict of str to list of int
        Plan name -> tellers per block.
    blocks : sequence of (float, float)
        Block start and end, clock hours.

    Returns
    -------
    dict
        ``{"counters": {g: {"tellers": ...}}, "stages": {x: {"counters": ...}}}`` with a
        constant count where a group's tellers do not change, else a shift plan.
    """
    refs = staff_groups(scenario)
    out: dict[str, Any] = {}
    for name, counts in plan.items():
        table = out
        for k in refs[name].keys:
            table = table.setdefault(k, {})
        if len(set(counts)) == 1:
            table["tellers"] = int(counts[0])
        else:
            table["tellers"] = [{"start": float(s), "count": int(c)}
                                for (s, _), c in zip(blocks, counts, strict=True)]
    return out


@dataclass(frozen=True)
class GroupFlow:
    """The demand a counter group meets, for the queueing-theory start.

    Attributes
    ----------
    share : float
        Expected visits to the group per potential arrival (after e-channel
        diversion and the routes' shares), dimensionless.
    service : float
        Mean service time of those visits at the group's stage, minutes.
    lag : float
        Mean time from arrival at the branch to the end of service here, without
        waits (the service times of the stages before on the route plus this
        one's), minutes: the lag of the pointwise-stationary approximation.
    """

    share: float
    service: float
    lag: float


def group_flows(scenario: Scenario) -> dict[str, GroupFlow]:
    """Return the demand each counter group of each stage meets.

    Every (segment, business) flow that stays in the branch (after e-channel
    diversion) visits each stage of its route with that stage's share (the
    routing draws are independent per stage; abandonment at an earlier stage is
    ignored, so a later stage's demand is an upper bound), and at a stage it is
    split evenly among the stage's groups whose own segments and business types
    include it (else among the groups that can serve it by overflow).

    Parameters
    ----------
    scenario : Scenario
        The branch day.

    Returns
    -------
    dict of str to GroupFlow
        By plan name (see :func:`staff_groups`).
    """
    refs = staff_groups(scenario)
    share = dict.fromkeys(refs, 0.0)
    work = dict.fromkeys(refs, 0.0)
    before = dict.fromkeys(refs, 0.0)
    names = {x: [r.name for r in refs.values() if r.stage == x] for x in scenario.stage_names}
    for sname, seg in scenario.segments.items():
        for bname, mix in seg.business_mix.items():
            bt = scenario.business_types[bname]
            flow = seg.share * mix * (1.0 - bt.e_channel_share)
            if flow <= 0:
                continue
            upstream = 0.0  # mean service minutes on the route before this stage
            for x, p in zip(*scenario.route(sname, bname), strict=True):
                if p <= 0:
                    continue
                if x == scenario.first_stage:
                    service = float(bt.service.mean)
                elif bname in scenario.stages[x].service:
                    service = float(scenario.stages[x].service[bname].mean)
                else:  # pragma: no cover - refused when the scenario is validated
                    continue
                view = scenario.stage_view(x)

                def serves(g: str, own: bool, view: Any = view, sname: str = sname,
                           bname: str = bname) -> bool:
                    c = refs[g].counter
                    segs = (c.segments or list(scenario.segments)) if own else \
                        view.served_segments(refs[g].group)
                    return sname in segs and (not c.business or bname in c.business)

                eligible = [g for g in names[x] if serves(g, True)] or [
                    g for g in names[x] if serves(g, False)]
                for g in eligible:
                    f = flow * p / len(eligible)
                    share[g] += f
                    work[g] += f * service
                    before[g] += f * upstream
                upstream += p * service
    return {g: GroupFlow(share[g], work[g] / share[g] if share[g] > 0 else 0.0,
                         (before[g] + work[g]) / share[g] if share[g] > 0 else 0.0)
            for g in refs}
