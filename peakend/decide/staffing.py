"""The cheapest staffing plan that meets targets on simulated (remembered) outcomes.

Method (see docs/background/decisions.md):

1. a starting plan from queueing theory per block and counter group of every
   stage: the offered load of the lagged arrival rate routed to the group's
   stage (pointwise-stationary approximation, lag = the mean service times on
   the route up to and including this stage), then the smallest c whose Erlang C
   mean wait meets the tightest ``wait_mean`` target, else square-root staffing
   ``ceil(R + sqrt(R))``; each stage is treated as an independent M/M/c queue;
2. a simulation search with common random numbers: while a target fails, add the
   one teller (block, group) that removes the most shortfall per unit cost; then,
   while every target still holds, remove the teller that saves the most;
3. a final check on fresh replications (a new seed), with every target's one-sided
   confidence bound, Bonferroni-adjusted over all checks; if it fails, tellers are
   added (never removed) where it failed, on those replications, and a new fresh
   check follows;
4. a trim: a teller whose removal still met every target on the check is removed
   if the smaller plan passes a fresh check of its own.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.decide.blocks import (
    PER_BLOCK_METRICS,
    block_demand,
    block_values,
    clock_text,
    group_flows,
    plan_changes,
    resolve_blocks,
    resolve_groups,
    staff_groups,
)
from peakend.decide.targets import Bound, Target, parse_targets

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from peakend.config import Scenario
    from peakend.experiment import Policy, Results

__all__ = ["StaffingPlan", "TargetsUnreachable", "optimize_staffing"]

Plan = dict[str, list[int]]


class TargetsUnreachable(ValueError):
    """No plan within the teller limits meets the targets (the message says which fail)."""


def derived_seed(seed: int, *key: int) -> int:
    """Return a fresh root seed derived from ``seed`` and ``key`` (independent streams)."""
    return int(np.random.SeedSequence([int(seed), *key]).generate_state(1)[0])


@dataclass
class _Eval:
    bounds: list[Bound]
    values: list[np.ndarray]

    @property
    def feasible(self) -> bool:
        return all(b.holds for b in self.bounds)

    @property
    def violation(self) -> float:
        return float(sum(b.shortfall for b in self.bounds))

    @property
    def min_margin(self) -> float:
        return float(min(b.margin for b in self.bounds))


@dataclass
class StaffingPlan:
    """The cheapest staffing plan found by :func:`optimize_staffing`.

    Attributes
    ----------
    tellers : dict of str to list of int
        Counter group -> tellers on duty in each block. First-stage groups by their
        own names, further stages' groups as ``"stage/group"`` (as a simulated
        day's ``meta["counter_group"]`` names them, e.g. ``"advisor/rm"``; its
        tellers are ``"advisor/rm/1"``, ...).
    blocks : list of (float, float)
        Block start and end, clock hours.
    cost : float
        Staff cost of the plan's day (``Scenario.staff_cost()``, currency units),
        or teller-hours of the planned groups when their staff cost nothing.
    cost_unit : str
        ``"currency"`` (the scenario's currency) or ``"teller-hours"``.
    teller_hours : float
        Teller-hours of the planned groups, hours.
    targets : list of Target
        The parsed targets.
    checks : list of dict
        The final check of every target (and block, if per block): ``target``,
        ``block``, ``mean``, ``bound``, ``n``, ``holds``, ``margin``.
    binding : list of str
        Targets that some single teller removal breaks on the check replications.
    optional : list of str
        Tellers (``"group@HH:MM"``) whose removal still met every target on the check
        replications (normally empty).
    verified : bool
        Every target held on the last fresh check.
    results : Results
        The final check run: policy ``"plan"`` first, then ``"without group@HH:MM"``
        for each single removal (same replications: common random numbers).
    history : list of dict
        One row per search step (phases ``evaluate``, ``add``, ``remove``, ``check``,
        ``trim``): ``step``, ``phase``, ``tellers``, ``cost``,
        ``feasible``, ``violation``, ``simulated_days``.
    simulated_days : int
        Days simulated in total (all policies, all phases).
    confidence : float
        Joint confidence of the final check; ``level`` is the one-sided level of
        each bound (after the adjustment).
    level : float
        One-sided confidence level of each bound.
    start : dict of str to list of int
        The queueing-theory starting plan.
    demand : ndarray
        Mean potential arrival rate per block, customers per hour.
    per_block : bool
        The targets were required in every block.
    paths : dict of str to str
        Counter group -> the policy path of its tellers, e.g. ``"counters.general.tellers"``,
        ``"stages.advisor.counters.rm.tellers"``.
    """

    tellers: Plan
    blocks: list[tuple[float, float]]
    cost: float
    cost_unit: str
    teller_hours: float
    targets: list[Target]
    checks: list[dict[str, Any]]
    binding: list[str]
    optional: list[str]
    verified: bool
    results: Results
    history: list[dict[str, Any]]
    simulated_days: int
    confidence: float
    level: float
    start: Plan
    demand: np.ndarray
    per_block: bool = False
    paths: dict[str, str] = field(default_factory=dict)
    _policy: Policy | None = field(default=None, repr=False)

    @property
    def policy(self) -> Policy:
        """The plan as a :class:`peakend.Policy` named ``"optimized"``."""
        assert self._policy is not None
        return self._policy

    def summary(self) -> str:
        """Return a few lines: the plan per block and group, its cost and the targets' bounds."""
        hours = "" if self.cost_unit == "teller-hours" else f"{self.teller_hours:g} teller-hours, "
        lines = [f"staffing plan ({self.cost:g} {self.cost_unit}, {hours}"
                 f"{self.simulated_days} simulated days)"]
        width = {g: max(10, len(g) + 2) for g in self.tellers}
        head = "block        " + "".join(f"{g:>{width[g]}}" for g in self.tellers)
        lines.append(head)
        for b, (s, e) in enumerate(self.blocks):
            lines.append(f"{clock_text(s)}-{clock_text(e)}  "
                         + "".join(f"{self.tellers[g][b]:>{width[g]}d}" for g in self.tellers))
        staged = [f"{g} = {p}" for g, p in self.paths.items() if p.startswith("stages.")]
        if staged:
            lines.append("policy paths: " + "; ".join(staged))
        for c in self.checks:
            where = "" if c["block"] is None else f" [{c['block']}]"
            lines.append(f"  {c['target']}{where}: mean {c['mean']:.4g}, bound {c['bound']:.4g} "
                         f"({'holds' if c['holds'] else 'FAILS'})")
        if self.binding:
            lines.append("binding: " + "; ".join(self.binding))
        if self.optional:
            lines.append("optional tellers: " + ", ".join(self.optional))
        return "\n".join(lines)

    def plot(self, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
        """Staffing and demand per block; remembered value per block.

        Parameters
        ----------
        axes : pair of matplotlib Axes, optional
            Where to draw; default a new figure with two panels.

        Returns
        -------
        list of Axes
            ``[staffing, remembered]``.
        """
        import matplotlib.pyplot as plt

        if axes is None:
            _, created = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
            axes = list(created)
        ax, ax2 = axes[0], axes[1]
        starts = [s for s, _ in self.blocks]
        edges = [*starts, self.blocks[-1][1]]
        for g, counts in self.tellers.items():
            ax.stairs(counts, edges, label=f"{g} tellers", linewidth=2, baseline=None)
        ax.set_ylabel("tellers on duty")
        ax.set_ylim(bottom=0)
        twin = ax.twinx()
        twin.stairs(self.demand, edges, color="grey", linestyle="--", label="arrivals per hour",
                    baseline=None)
        twin.set_ylabel("arrivals per hour")
        twin.set_ylim(bottom=0)
        ax.legend(loc="upper left")
        twin.legend(loc="upper right")
        rule = next((t.rule for t in self.targets if t.rule), None) or "peak_end"
        values = self._remembered_per_block(rule)
        centres = [(s + e) / 2 for s, e in self.blocks]
        ax2.plot(centres, values, marker="o")
        ax2.axhline(0.0, color="grey", linewidth=0.8)
        ax2.set_ylabel(f"remembered[{rule}] of arrivals")
        ax2.set_xlabel("clock time, hours")
        return [ax, ax2]

    def _remembered_per_block(self, rule: str) -> np.ndarray:
        assert self.results.journeys is not None
        t = Target(f"all.remembered[{rule}]", "all", f"remembered[{rule}]", ">=", 0.0)
        opening = float(self.results.scenario["opening"])
        vals = block_values(self.results.journeys["plan"], [t], self.blocks, opening,
                            self.results.n_replications)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanmean(vals, axis=1))


# --------------------------------------------------------------------------- helpers
def _key(plan: Plan) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(v) for v in plan.values())


def _copy(plan: Plan) -> Plan:
    return {g: list(v) for g, v in plan.items()}


def _erlang_start(rate_per_minute: float, service_minutes: float, wait_target: float | None,
                  ) -> int:
    from peakend import theory

    if rate_per_minute <= 0 or service_minutes <= 0:
        return 1
    load = rate_per_minute * service_minutes
    if wait_target is None:
        return max(1, math.ceil(load + math.sqrt(load)))
    mu = 1.0 / service_minutes
    c = max(1, math.floor(load) + 1)
    while theory.erlang_c_wait(rate_per_minute, mu, c) > wait_target and c < 1000:
        c += 1
    return c


class _Search:
    """The state of one optimisation: evaluates plans with CRN and caches them."""

    def __init__(self, scenario: Scenario, targets: list[Target], groups: list[str],
                 blocks: list[tuple[float, float]], *, replications: int, workers: int | None,
                 per_block: bool, level: float, run_kwargs: Mapping[str, Any]) -> None:
        self.scenario, self.targets, self.groups, self.blocks = scenario, targets, groups, blocks
        self.replications, self.workers, self.per_block = replications, workers, per_block
        self.level, self.run_kwargs = level, dict(run_kwargs)
        rules = list(dict.fromkeys(t.rule for t in targets if t.rule))
        self.rules = tuple(rules) or ("peak_end",)
        refs = staff_groups(scenario)
        rates = {g: refs[g].counter.cost_per_hour for g in groups}
        self.free = all(r == 0 for r in rates.values())
        self.rates = {g: (1.0 if self.free else rates[g]) for g in groups}
        self.cache: dict[tuple[int, int, tuple[Any, ...]], _Eval] = {}
        self.simulated_days = 0
        self.last_results: Results | None = None

    def cost(self, plan: Plan) -> float:
        return sum(self.rates[g] * c * (e - s) for g in plan
                   for c, (s, e) in zip(plan[g], self.blocks, strict=True))

    def teller_hours(self, plan: Plan) -> float:
        return sum(c * (e - s) for g in plan for c, (s, e) in zip(plan[g], self.blocks,
                                                                  strict=True))

    def checks(self) -> list[tuple[Target, int | None]]:
        if self.per_block:
            return [(t, b) for t in self.targets for b in range(len(self.blocks))]
        return [(t, None) for t in self.targets]

    def policy(self, plan: Plan, name: str) -> Policy:
        from peakend.experiment import Policy

        return Policy(name, plan_changes(self.scenario, plan, self.blocks))

    def evaluate(self, plans: Sequence[Plan], seed: int, *, names: Sequence[str] | None = None,
                 keep: bool = False) -> list[_Eval]:
        import peakend as pe

        todo = [p for p in plans if (seed, self.replications, _key(p)) not in self.cache]
        todo = list({_key(p): p for p in todo}.values())
        if keep:
            todo = list(plans)
        if todo:
            labels = list(names) if (keep and names) else [f"p{i}" for i in range(len(todo))]
            # candidate plans may well be overloaded: only the final plan's warnings matter
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = pe.run(self.scenario,
                             [self.policy(p, n) for p, n in zip(todo, labels, strict=True)],
                             replications=self.replications, seed=seed, workers=self.workers,
                             progress=False, rules=self.rules,
                             keep_journeys=self.per_block or keep, **self.run_kwargs)
            if keep:
                for w in caught:
                    if f"policy {labels[0]!r}" in str(w.message):
                        warnings.warn(w.message, w.category, stacklevel=3)
            self.simulated_days += self.replications * len(todo)
            if keep:
                self.last_results = res
            for p, name in zip(todo, labels, strict=True):
                self.cache[(seed, self.replications, _key(p))] = self._bounds(res, name)
        return [self.cache[(seed, self.replications, _key(p))] for p in plans]

    def _bounds(self, res: Results, name: str) -> _Eval:
        bounds, values = [], []
        if self.per_block:
            assert res.journeys is not None
            per = block_values(res.journeys[name], self.targets, self.blocks,
                               float(self.scenario.opening), res.n_replications)
            for i, t in enumerate(self.targets):
                for b in range(len(self.blocks)):
                    values.append(per[i, b])
                    bounds.append(t.evaluate(per[i, b], self.level))
        else:
            for t in self.targets:
                x = np.asarray(res.get(t.metric, t.segment, name))
                values.append(x)
                bounds.append(t.evaluate(x, self.level))
        return _Eval(bounds, values)

    def neighbours(self, plan: Plan, step: int, low: int, high: int) -> list[tuple[str, int, Plan]]:
        out = []
        for g in self.groups:
            for b in range(len(self.blocks)):
                n = plan[g][b] + step
                if low <= n <= high:
                    q = _copy(plan)
                    q[g][b] = n
                    out.append((g, b, q))
        return out

    def describe_failures(self, ev: _Eval) -> str:
        parts = []
        for (t, b), bound in zip(self.checks(), ev.bounds, strict=True):
            if not bound.holds:
                where = "" if b is None else f" in block {clock_text(self.blocks[b][0])}"
                parts.append(f"{t.text!r}{where} (bound {bound.bound:.4g})")
        return "; ".join(parts)


def _int_arg(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
        low <= value <= high
    ):
        raise ValueError(f"{name}: must be an integer in {low}..{high}, got {value!r}")
    return int(value)


def optimize_staffing(
    scenario: Scenario | str | os.PathLike[str],
    targets: str | Iterable[str],
    *,
    groups: Iterable[str] | None = None,
    blocks: int | Sequence[Any] | None = None,
    seed: int = 0,
    workers: int | None = None,
    replications: int = 30,
    check_replications: int | None = None,
    confidence: float = 0.95,
    adjust: str = "bonferroni",
    per_block: bool = False,
    min_tellers: int = 1,
    max_tellers: int = 60,
    max_rounds: int = 4,
    trim: bool = True,
    max_trims: int = 3,
    **run_kwargs: Any,
) -> StaffingPlan:
    """Find the cheapest staffing plan (tellers per block and counter group) meeting every target.

    Parameters
    ----------
    scenario : Scenario or str
        The branch day (or a built-in name / path for :func:`peakend.load_scenario`).
    targets : str or iterable of str
        Targets ``"segment.metric OP value"`` on the day's metrics, e.g.
        ``"ordinary.remembered[peak_end] >= 0"``, ``"all.wait_p90 <= 10"`` (minutes),
        ``"vip.abandonment_rate <= 0.02"``; see :func:`peakend.decide.parse_targets`.
        Each holds when the one-sided confidence bound of the metric's expected
        daily value is on the allowed side.
    groups : iterable of str, optional
        Counter groups to plan; default every staffed group of every stage. Others
        keep their staffing. First-stage groups by their own names, a further
        stage's groups as ``"stage/group"`` (e.g. ``"advisor/rm"``, as a
        simulated day's ``meta["counter_group"]`` names them).
    blocks : None, int or sequence of start times, optional
        Staffing blocks: default the planned groups' own shift blocks (one block
        when staffing is constant); an int k gives k equal blocks; a list gives
        block starts (hours or ``"HH:MM"``, the first at opening).
    seed : int, default 0
        Root seed of the search; the fresh checks use seeds derived from it. The
        plan depends on the seed and the arguments only, not on ``workers``.
    workers : int, optional
        Processes for :func:`peakend.run`.
    replications : int, default 30
        Replications per plan in the search (common random numbers: every plan
        sees the same days), >= 3.
    check_replications : int, optional
        Fresh replications of the final check; default ``2 * replications`` (a
        narrower bound than the search's, so that a plan the search found
        feasible by luck of its replications is rarely refused).
    confidence : float, default 0.95
        Joint confidence of the targets' bounds, in (0.5, 1).
    adjust : {"bonferroni", "none"}, default "bonferroni"
        ``"bonferroni"``: each of the k checks (targets, times blocks if
        ``per_block``) uses a one-sided level ``1 - (1 - confidence) / k``, so all
        hold jointly with at least ``confidence``; ``"none"``: each uses ``confidence``.
    per_block : bool, default False
        Also require every target in every block (metrics of the customers
        arriving in the block; branch-day costs have no per-block value).
    min_tellers, max_tellers : int, default 1 and 60
        Tellers allowed per group and block.
    max_rounds : int, default 4
        Fresh checks before giving up (a ``RuntimeWarning`` and ``verified=False``).
        After a failed check the search adds tellers where it failed, on the
        check's replications, and never removes, then checks on new replications.
    trim : bool, default True
        After a passed check, remove a teller whose removal also met every target
        on the check's replications (the largest saving first), if the smaller plan
        passes a check of its own on new replications; up to ``max_trims`` times.
    max_trims : int, default 3
        Trim checks at most.
    **run_kwargs
        Passed on to :func:`peakend.run` (e.g. ``executor``); not ``policies``,
        ``replications``, ``seed``, ``rules``, ``workers`` or ``progress``.

    Returns
    -------
    StaffingPlan
        The plan, its cost, the final check, binding targets, history and a plot.

    Raises
    ------
    ValueError
        For an invalid argument (naming it) or target (naming it, with the
        valid segments and metrics).
    TargetsUnreachable
        If adding tellers (up to ``max_tellers``) stops reducing the shortfall.
    """
    import peakend as pe

    if isinstance(scenario, (str, os.PathLike)):
        scenario = pe.load_scenario(scenario)
    parsed = parse_targets(targets, scenario)
    group_list = resolve_groups(scenario, groups)
    block_list = resolve_blocks(scenario, group_list, blocks)
    seed = _int_arg(seed, "seed", 0, 2**63 - 1)
    replications = _int_arg(replications, "replications", 3, 100000)
    check_n = 2 * replications if check_replications is None else _int_arg(
        check_replications, "check_replications", 3, 100000)
    min_tellers = _int_arg(min_tellers, "min_tellers", 0, 1000)
    max_tellers = _int_arg(max_tellers, "max_tellers", max(min_tellers, 1), 1000)
    max_rounds = _int_arg(max_rounds, "max_rounds", 1, 100)
    max_trims = _int_arg(max_trims, "max_trims", 0, 100)
    if not (isinstance(confidence, (int, float)) and 0.5 < confidence < 1):
        raise ValueError(f"confidence: must be in (0.5, 1), got {confidence!r}")
    if adjust not in ("bonferroni", "none"):
        raise ValueError(f"adjust: must be 'bonferroni' or 'none', got {adjust!r}")
    reserved = {"policies", "replications", "seed", "rules", "workers", "progress",
                "keep_journeys"} & set(run_kwargs)
    if reserved:
        raise ValueError(f"optimize_staffing sets {sorted(reserved)} itself; do not pass them")
    if per_block:
        bad = [t.text for t in parsed if t.rule is None and t.metric not in PER_BLOCK_METRICS]
        if bad:
            raise ValueError(f"per_block: targets {bad} have no per-block value; per-block "
                             f"metrics: {', '.join(PER_BLOCK_METRICS)}, remembered[<rule>]")
    n_checks = len(parsed) * (len(block_list) if per_block else 1)
    alpha = 1.0 - float(confidence)
    level = 1.0 - alpha / n_checks if adjust == "bonferroni" else float(confidence)

    search = _Search(scenario, parsed, group_list, block_list, replications=replications,
                     workers=workers, per_block=per_block, level=level, run_kwargs=run_kwargs)

    # 1. queueing-theory start per block and group of every stage (each an M/M/c queue)
    flows = group_flows(scenario)
    refs = staff_groups(scenario)
    start: Plan = {}
    for g in group_list:
        flow = flows[g]
        served = {"all", *scenario.stage_view(refs[g].stage).served_segments(refs[g].group)}
        waits = [t.value for t in parsed if t.metric == "wait_mean" and t.upper
                 and t.segment in served]
        rates = block_demand(scenario, block_list, flow.lag / 60.0) * flow.share / 60.0
        start[g] = [min(max_tellers, max(min_tellers, _erlang_start(
            r, flow.service, min(waits) if waits else None))) for r in rates]
    plan = _copy(start)
    history: list[dict[str, Any]] = []

    def record(phase: str, p: Plan, ev: _Eval) -> None:
        history.append({"step": len(history), "phase": phase, "tellers": _copy(p),
                        "cost": search.cost(p), "feasible": ev.feasible,
                        "violation": ev.violation, "simulated_days": search.simulated_days})

    def check(p: Plan, k: int) -> tuple[int, list[_Eval], list[tuple[str, int, Plan]],
                                         Results | None]:
        """Simulate the plan and each single removal on fresh replications (CRN)."""
        fresh = derived_seed(seed, 1, k)
        removals = search.neighbours(p, -1, min_tellers, max_tellers)
        names = ["plan", *(f"without {g}@{clock_text(block_list[b][0])}"
                           for g, b, _ in removals)]
        search.replications = check_n
        evs = search.evaluate([p, *(q for _, _, q in removals)], fresh, names=names, keep=True)
        search.replications = replications
        return fresh, evs, removals, search.last_results

    seed_now = seed
    verified = False
    checked = 0
    for round_ in range(max_rounds):
        if round_ == 0:
            plan = _add_phase(search, plan, seed_now, min_tellers, max_tellers, record)
            plan = _remove_phase(search, plan, seed_now, min_tellers, record)
        else:
            # the check failed: add where it failed, on the check's own replications, and
            # remove nothing (so the rounds converge instead of chasing noise)
            search.replications = check_n
            plan = _add_phase(search, plan, seed_now, min_tellers, max_tellers, record)
            search.replications = replications
        seed_now, evs, removals, results = check(plan, checked)
        checked += 1
        record("check", plan, evs[0])
        if evs[0].feasible:
            verified = True
            break
    if not verified:
        warnings.warn(f"optimize_staffing: the plan still fails on fresh replications after "
                      f"{max_rounds} rounds: {search.describe_failures(evs[0])}",
                      RuntimeWarning, stacklevel=2)
    # trim: a teller whose removal still met every target on the check is removed if the
    # smaller plan passes a check of its own, on new replications
    trims = 0
    while verified and trim and trims < max_trims:
        ok = [(search.cost(plan) - search.cost(q), ev.min_margin, k)
              for k, ((_, _, q), ev) in enumerate(zip(removals, evs[1:], strict=True))
              if ev.feasible]
        if not ok:
            break
        trial = removals[max(ok)[2]][2]
        t_seed, t_evs, t_removals, t_results = check(trial, checked)
        checked += 1
        trims += 1
        record("trim", trial, t_evs[0])
        if not t_evs[0].feasible:
            break
        plan, seed_now, evs, removals, results = trial, t_seed, t_evs, t_removals, t_results
    final = evs[0]
    binding: list[str] = []
    optional: list[str] = []
    for (g, b, _), ev in zip(removals, evs[1:], strict=True):
        if ev.feasible:
            optional.append(f"{g}@{clock_text(block_list[b][0])}")
        for (t, _blk), bound in zip(search.checks(), ev.bounds, strict=True):
            if not bound.holds and t.text not in binding:
                binding.append(t.text)
    checks = [{"target": t.text, "block": None if b is None else clock_text(block_list[b][0]),
               "mean": bd.mean, "bound": bd.bound, "n": bd.n, "holds": bd.holds,
               "margin": bd.margin} for (t, b), bd in zip(search.checks(), final.bounds,
                                                          strict=True)]
    applied = search.policy(plan, "optimized").apply(scenario)
    cost = search.teller_hours(plan) if search.free else float(applied.staff_cost())
    assert results is not None
    out = StaffingPlan(
        tellers=_copy(plan), blocks=block_list, cost=float(cost),
        cost_unit="teller-hours" if search.free else scenario.currency,
        teller_hours=search.teller_hours(plan), targets=parsed, checks=checks, binding=binding,
        optional=optional, verified=verified, results=results, history=history,
        simulated_days=search.simulated_days, confidence=float(confidence), level=level,
        start=start, demand=block_demand(scenario, block_list), per_block=per_block,
        paths={g: refs[g].path for g in plan},
    )
    desc = "optimize_staffing: " + "; ".join(t.text for t in parsed)
    from peakend.experiment import Policy

    out._policy = Policy("optimized", plan_changes(scenario, plan, block_list), desc)
    return out


def _add_phase(search: _Search, plan: Plan, seed: int, low: int, high: int, record: Any) -> Plan:
    """Add tellers, one at a time, where they remove the most shortfall per unit cost."""
    current = search.evaluate([plan], seed)[0]
    record("evaluate", plan, current)
    stall = 0
    while not current.feasible:
        cands = search.neighbours(plan, +1, low, high)
        if not cands:
            raise TargetsUnreachable(
                f"targets cannot be met with at most {high} tellers per block: "
                f"{search.describe_failures(current)}")
        evs = search.evaluate([q for _, _, q in cands], seed)
        gains = []
        for (_, _, q), ev in zip(cands, evs, strict=True):
            extra = search.cost(q) - search.cost(plan)
            gains.append(((current.violation - ev.violation) / max(extra, 1e-12),
                          -ev.violation))
        i = max(range(len(cands)), key=lambda k: gains[k])
        gain = current.violation - evs[i].violation
        stall = stall + 1 if gain <= 0 else 0
        if stall >= 3:
            raise TargetsUnreachable(
                "adding tellers no longer reduces the shortfall (3 steps); the targets look "
                f"unreachable by staffing: {search.describe_failures(current)}")
        plan, current = cands[i][2], evs[i]
        record("add", plan, current)
    return plan


def _remove_phase(search: _Search, plan: Plan, seed: int, low: int, record: Any) -> Plan:
    """Remove tellers while every target still holds, the largest saving first."""
    while True:
        cands = search.neighbours(plan, -1, low, 10**9)
        if not cands:
            return plan
        evs = search.evaluate([q for _, _, q in cands], seed)
        ok = [(search.cost(plan) - search.cost(q), ev.min_margin, k)
              for k, ((_, _, q), ev) in enumerate(zip(cands, evs, strict=True)) if ev.feasible]
        if not ok:
            return plan
        k = max(ok)[2]
        plan = cands[k][2]
        record("remove", plan, evs[k])
