"""Time blocks of a staffing plan, the counter groups it reaches, demand and per-block metrics.

The groups are every stage's, named as simulated days name them: a first-stage group
keeps its own name (``general``); a group of a further stage is qualified by its stage
(``advisor/rm``), as in the ``counter_group`` of a simulated day's ``meta`` (its tellers
are ``advisor/rm/1``, ...). The policy path of a group's tellers is
``counters.<group>.tellers`` on the first stage and
``stages.<stage>.counters.<group>.tellers`` on a further one.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.config import StaffGroup

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario
    from peakend.decide.targets import Target
    from peakend.journeys import Journeys

__all__ = ["GroupFlow", "StaffGroup", "block_demand", "block_values", "clock_text",
           "group_flows", "plan_changes", "resolve_blocks", "resolve_groups", "staff_groups"]

_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)$")


def clock_text(hours: float) -> str:
    """Clock time ``HH:MM`` of a time in hours."""
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock(value: Any, where: str) -> float:
    if isinstance(value, str):
        m = _CLOCK.match(value.strip())
        if not m:
            raise ValueError(f"{where}: expected a clock time 'HH:MM' or hours, got {value!r}")
        return int(m.group(1)) + int(m.group(2)) / 60.0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{where}: expected a clock time 'HH:MM' or hours, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{where}: must be finite, got {value!r}")
    return out


def resolve_blocks(
    scenario: Scenario, groups: Sequence[str], blocks: int | Sequence[Any] | None
) -> list[tuple[float, float]]:
    """Return the staffing blocks ``[(start, end), ...]`` in clock hours.

    Parameters
    ----------
    scenario : Scenario
        The branch day.
    groups : sequence of str
        Counter groups being planned, by plan name (``"general"``, ``"advisor/rm"``).
    blocks : None, int or sequence
        None: the starts of the groups' own shift plans (one block if staffing is
        constant); an int k: k blocks of equal length; a sequence: block start
        times (hours or ``"HH:MM"``), the first at opening, strictly increasing,
        before closing.

    Returns
    -------
    list of (float, float)
        Block start and end, clock hours; the last ends at closing.

    Raises
    ------
    ValueError
        Naming ``blocks`` and the allowed range.
    """
    opening, closing = float(scenario.opening), float(scenario.closing)
    if blocks is None:
        refs = staff_groups(scenario)
        starts = {opening}
        for g in groups:
            plan = refs[g].counter.tellers
            if not isinstance(plan, int):
                starts.update(float(b.start) for b in plan)
        cuts = sorted(s for s in starts if opening <= s < closing)
    elif isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        k = int(blocks)
        if not 1 <= k <= 1000:
            raise ValueError(f"blocks: a number of equal blocks must be in 1..1000, got {k}")
        cuts = [opening + i * (closing - opening) / k for i in range(k)]
    elif isinstance(blocks, Sequence) and not isinstance(blocks, str):
        cuts = [_clock(v, f"blocks[{i}]") for i, v in enumerate(blocks)]
        if not cuts:
            raise ValueError("blocks: give at least one block start")
        if abs(cuts[0] - opening) > 1e-9:
            raise ValueError(
                f"blocks: the first block must start at opening ({clock_text(opening)}), got "
                f"{clock_text(cuts[0])}"
            )
        if any(b <= a for a, b in itertools.pairwise(cuts)) or cuts[-1] >= closing:
            raise ValueError(
                f"blocks: starts must strictly increase and lie in [{clock_text(opening)}, "
                f"{clock_text(closing)}), got {blocks!r}"
            )
        cuts[0] = opening
    else:
        raise ValueError(
            f"blocks: expected None, a number of equal blocks or a list of start times, got "
            f"{blocks!r}"
        )
    ends = [*cuts[1:], closing]
    return list(zip(cuts, ends, strict=True))


# --------------------------------------------------------------------------- groups
def staff_groups(scenario: Scenario) -> dict[str, StaffGroup]:
    """Every counter group of every stage, by its plan name, in stage order.

    The scenario's one table of group names, :meth:`~peakend.config.Scenario.group_table`.

    Parameters
    ----------
    scenario : Scenario
        The branch day.

    Returns
    -------
    dict of str to StaffGroup
        First-stage groups under their own names, then each further stage's
        groups as ``"stage/group"``.
    """
    return scenario.group_table()


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
    out = []
    for g in items:
        if not isinstance(g, str):
            raise ValueError(f"groups: each group must be a string, got {g!r}")
        name = scenario.find_group(g, field="groups").name
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


# --------------------------------------------------------------------------- demand
def _rate_integral(scenario: Scenario, a: float, b: float) -> float:
    """Integral of the potential arrival rate (per hour) over clock hours [a, b]: customers."""
    profile = scenario.arrivals.profile
    total = 0.0
    for i, block in enumerate(profile):
        lo = float(block.start)
        hi = float(profile[i + 1].start) if i + 1 < len(profile) else math.inf
        lo, hi = max(lo, a, float(scenario.opening)), min(hi, b, float(scenario.closing))
        if hi > lo:
            total += block.rate * (hi - lo)
    return total


def block_demand(
    scenario: Scenario, blocks: Sequence[tuple[float, float]], lag_hours: float = 0.0
) -> np.ndarray:
    """Mean potential arrival rate in each block, customers per hour, lagged by ``lag_hours``.

    The rate is averaged over ``[start - lag, end - lag]`` (the lag of the
    pointwise-stationary approximation for time-varying demand).
    """
    out = np.empty(len(blocks))
    for i, (a, b) in enumerate(blocks):
        out[i] = _rate_integral(scenario, a - lag_hours, b - lag_hours) / (b - a)
    return out


def _metric_of(metric: str, idx: np.ndarray, c: dict[str, np.ndarray],
               remembered: dict[str, np.ndarray]) -> float:
    if idx.size == 0:
        return math.nan
    if metric.startswith("remembered["):
        v = remembered[metric][idx]
        v = v[np.isfinite(v)]
        return float(v.mean()) if v.size else math.nan
    if metric == "n_customers":
        return float(idx.size)
    if metric == "abandonment_rate":
        return float(np.mean(c["balked"][idx] | c["reneged"][idx]))
    if metric == "gift_cost":
        return float(np.sum(c["gift_cost"][idx]))
    joined = idx[~c["balked"][idx]]
    if joined.size == 0:
        return math.nan
    if metric == "wait_mean":
        return float(np.mean(c["wait"][joined]))
    if metric == "wait_p90":
        return float(np.percentile(c["wait"][joined], 90))
    if metric == "perceived_wait_mean":
        return float(np.mean(c["perceived_wait"][joined]))
    if metric == "slips_mean":
        return float(np.mean(c["slips"][joined]))
    raise ValueError(f"metric {metric!r} has no per-block value (it is a branch-day cost)")


#: Metrics that have a per-block value (customers arriving in the block).
PER_BLOCK_METRICS = ("wait_mean", "wait_p90", "perceived_wait_mean", "abandonment_rate",
                     "slips_mean", "n_customers", "gift_cost")


def block_values(
    journeys: Journeys,
    targets: Sequence[Target],
    blocks: Sequence[tuple[float, float]],
    opening: float,
    n_days: int,
) -> np.ndarray:
    """Per-block value of each target's metric, from the customers arriving in the block.

    Parameters
    ----------
    journeys : Journeys
        Several simulated days (``customers["day"]`` = replication).
    targets : sequence of Target
        The metrics and segments to compute.
    blocks : sequence of (start, end)
        Clock hours.
    opening : float
        Opening time, clock hours (arrival times are minutes from opening).
    n_days : int
        Number of days (replications).

    Returns
    -------
    ndarray, shape (n_targets, n_blocks, n_days)
        NaN where a block had no customer of the segment (or none who joined the queue).
    """
    c = {k: np.asarray(journeys.customers[k]) for k in (
        "day", "segment", "arrival", "wait", "perceived_wait", "slips", "balked", "reneged",
        "gift_cost")}
    remembered: dict[str, np.ndarray] = {}
    for t in targets:
        if t.rule is not None and t.metric not in remembered:
            remembered[t.metric] = np.asarray(journeys.score(t.rule), dtype=np.float64)
    seg_names = list(journeys.segments)
    edges = np.array([(a - opening) * 60.0 for a, _ in blocks] + [math.inf])
    block_of = np.searchsorted(edges, c["arrival"], side="right") - 1
    out = np.full((len(targets), len(blocks), n_days), np.nan)
    order = np.lexsort((block_of, c["day"]))
    keys = c["day"][order] * len(blocks) + block_of[order]
    bounds = np.searchsorted(keys, np.arange(n_days * len(blocks) + 1))
    for d in range(n_days):
        for b in range(len(blocks)):
            k = d * len(blocks) + b
            rows = order[bounds[k]:bounds[k + 1]]
            for i, t in enumerate(targets):
                idx = rows if t.segment == "all" else rows[
                    c["segment"][rows] == seg_names.index(t.segment)]
                out[i, b, d] = _metric_of(t.metric, idx, c, remembered)
    return out
