"""Loyalty over many visits: adapting expectations, habituation, churn and retained value.

A *panel* of customers returns to the branch week after week. Each visit is a branch
journey simulated under the scenario (and so under whatever policy it encodes): every
week a few days are simulated with :func:`peakend.simulate` and each panel member who
visits that week takes the journey of one simulated customer of their own segment
that week (sampled at random). The journey is then *re-felt* with the member's own,
adapted expectations:

* **Adaptation**: after each visit, at every touchpoint visited,
  ``expectation += eta * (experience - expectation)``. A standardised pleasant
  surprise (a farewell gift, the automatic birthday SMS of seed 000) is therefore
  *habituated*: the expectation rises towards it and its affect fades towards 0.
* **Affect**: ``v(experience - own expectation)`` with the scenario's value function
  (:func:`peakend.affect.value` with ``scenario.value_function``); any part of the
  recorded affect that is not ``v(experience - recorded expectation)`` (for example
  a fairness penalty) is kept as it is.
* **Memory**: the scenario's default memory rule.
* **Churn**: after each visit the member leaves with probability
  :func:`peakend.metrics.churn_probability` of the remembered value (logistic,
  :class:`peakend.metrics.ChurnModel`), plus an optional background attrition per week
  unrelated to the branch (moving away).
* **Early warning** (seed 001): each week's visitors whose remembered value is below a
  threshold are listed, worst first.

:func:`value_of_policy` turns one policy's simulated journeys into retained customers
and revenue per segment over a horizon, with every assumption a parameter.
Everything is vectorized over customers; only weeks are looped over.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from peakend.metrics import (
    ChurnModel,
    SurveyMapping,
    _perceived_wait_of,
    _remembered_of,
    churn_probability,
    csat,
    customer_effort,
    likelihood_to_recommend,
)

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario
    from peakend.journeys import Journeys

__all__ = [
    "LoyaltyModel",
    "LoyaltyResult",
    "simulate_loyalty",
    "value_of_policy",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: A source of one week of branch visits: ``source(week, seed_sequence) -> Journeys``.
VisitSource = Callable[[int, np.random.SeedSequence], "Journeys"]
WEEKS_PER_YEAR = 52.0


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


@dataclass(frozen=True)
class LoyaltyModel:
    """Assumptions of the repeated-visit model (all documented, all parameters).

    Parameters
    ----------
    eta : float
        Expectation learning rate per visit, 0..1: ``expectation += eta * (experience -
        expectation)``. Default 0.3 (0: expectations never move; 1: the last visit
        becomes the expectation).
    visit_probability : float or mapping of str to float
        Probability that an active member visits in a given week (0..1), overall or per
        segment name. Default 0.25 (about one visit a month).
    churn : ChurnModel
        Probability of not returning after a visit, from the remembered value.
    background_churn : float
        Probability per week that an active member leaves for reasons unrelated to the
        branch (0..1). Default 0.
    warning_threshold : float
        Remembered value (affect points, -10..10) below which a visitor is put on the
        early-warning list. Default -3.
    adapt : tuple of str or None
        Touchpoints whose expectation adapts; None (default) adapts all but ``fixed``.
    fixed : tuple of str
        Touchpoints whose expectation never adapts (names absent from the record are
        ignored). Default ``("abandonment",)``: being turned away does not become
        acceptable by repetition.
    """

    eta: float = 0.3
    visit_probability: float | Mapping[str, float] = 0.25
    churn: ChurnModel = field(default_factory=ChurnModel)
    background_churn: float = 0.0
    warning_threshold: float = -3.0
    adapt: tuple[str, ...] | None = None
    fixed: tuple[str, ...] = ("abandonment",)

    def __post_init__(self) -> None:
        _check(0.0 <= self.eta <= 1.0, f"eta must be in [0, 1], got {self.eta}")
        vp = self.visit_probability
        values = list(vp.values()) if isinstance(vp, Mapping) else [vp]
        for v in values:
            _check(0.0 <= float(v) <= 1.0, f"visit_probability must be in [0, 1], got {v}")
        _check(0.0 <= self.background_churn <= 1.0,
               f"background_churn must be in [0, 1], got {self.background_churn}")
        _check(-10.0 <= self.warning_threshold <= 10.0,
               f"warning_threshold must be in [-10, 10], got {self.warning_threshold}")


@dataclass(frozen=True, eq=False)
class LoyaltyResult:
    """What happened to a panel over the weeks.

    Arrays indexed ``[week, segment]`` have shape ``(weeks, n_segments)``; ``[week,
    segment, touchpoint]`` ``(weeks, n_segments, n_touchpoints)``.

    Attributes
    ----------
    segments, touchpoints : tuple of str
        Names.
    active : ndarray of int64, shape (weeks + 1, n_segments)
        Active members at the start of each week (last row: after the last week).
    visits : ndarray of int64
        Visits per week and segment.
    churned : ndarray of int64
        Members lost in the week (after a visit, or to background attrition).
    remembered : ndarray of float64
        Mean remembered value of the week's visits (affect points), NaN if none.
    affect : ndarray of float64, 3-d
        Mean felt affect per touchpoint of the week's visits (affect points).
    expectation : ndarray of float64, 3-d
        Mean adapted expectation after the week, over active members who have visited
        the touchpoint at least once (touchpoint scale).
    value : ndarray of float64
        Value of the members active at the start of the week: active x segment value
        per year / 52 (currency per week).
    warnings : dict of str to ndarray
        Early-warning list: ``week``, ``member``, ``segment`` (code), ``remembered``;
        each week's visitors below the threshold, worst first within the week.
    member_segment : ndarray of int64
        Segment code per panel member.
    member_active : ndarray of bool
        Still active after the last week.
    member_visits : ndarray of int64
        Visits per member.
    abandoned : ndarray of int64
        Visits that ended unserved (balked or reneged), per week and segment.
    csat, nps, ces : ndarray of float64
        The week's visitors' survey answers per segment (see
        :class:`peakend.metrics.SurveyMapping`): mean CSAT (1..5), NPS (percentage
        points) and mean CES (1..7, higher easier; a visit after an unserved one counts
        as a repeat visit for the same business). NaN if nobody visited.
    """

    segments: tuple[str, ...]
    touchpoints: tuple[str, ...]
    active: IntArray
    visits: IntArray
    churned: IntArray
    remembered: FloatArray
    affect: FloatArray
    expectation: FloatArray
    value: FloatArray
    warnings: dict[str, NDArray[Any]]
    member_segment: IntArray
    member_active: NDArray[np.bool_]
    member_visits: IntArray
    abandoned: IntArray
    csat: FloatArray
    nps: FloatArray
    ces: FloatArray

    @property
    def weeks(self) -> int:
        """Number of simulated weeks."""
        return int(self.visits.shape[0])

    def retention(self) -> FloatArray:
        """Share of each segment's panel still active at the start of each week.

        Returns
        -------
        ndarray of float64, shape (weeks + 1, n_segments)
            Fractions 0..1 (NaN for a segment with no members).
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.active / self.active[0].astype(np.float64)

    def to_pandas(self) -> Any:
        """Return a tidy :class:`pandas.DataFrame`: week, segment, metric, value.

        Metrics: active, visits, churned, abandoned, remembered, csat, nps, ces, value, and
        ``affect:<touchpoint>`` and ``expectation:<touchpoint>``.
        """
        import pandas as pd

        n_w, n_s = self.visits.shape
        frames = []
        weeks = np.repeat(np.arange(n_w), n_s)
        segs = np.tile(np.array(self.segments, dtype=object), n_w)
        for name, arr in (("active", self.active[:-1]), ("visits", self.visits),
                          ("churned", self.churned), ("abandoned", self.abandoned),
                          ("remembered", self.remembered), ("csat", self.csat),
                          ("nps", self.nps), ("ces", self.ces), ("value", self.value)):
            frames.append(pd.DataFrame({"week": weeks, "segment": segs, "metric": name,
                                        "value": np.asarray(arr, float).ravel()}))
        for k, t in enumerate(self.touchpoints):
            for name, arr3 in (("affect", self.affect), ("expectation", self.expectation)):
                frames.append(pd.DataFrame({"week": weeks, "segment": segs,
                                            "metric": f"{name}:{t}",
                                            "value": arr3[:, :, k].ravel()}))
        return pd.concat(frames, ignore_index=True)


def _scenario_source(scenario: Scenario, days_per_week: int) -> VisitSource:
    from peakend.journeys import Journeys
    from peakend.sim import simulate

    def source(week: int, seed: np.random.SeedSequence) -> Journeys:
        days = [simulate(scenario, s) for s in seed.spawn(days_per_week)]
        return days[0] if len(days) == 1 else Journeys.concat(days)

    return source


def _scenario_value(scenario: Any) -> Callable[[FloatArray], FloatArray]:
    from peakend import affect

    vf = getattr(scenario, "value_function", None)
    params: dict[str, Any] = vf.model_dump() if vf is not None else {}

    def v(x: FloatArray) -> FloatArray:
        return np.asarray(affect.value(x, **params), dtype=np.float64)

    return v


def _per_segment(
    value: float | Mapping[str, float], segments: tuple[str, ...], name: str
) -> FloatArray:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in segments]
        _check(not unknown, f"{name} names unknown segments {unknown}; segments are "
                            f"{list(segments)}")
        missing = [s for s in segments if s not in value]
        _check(not missing, f"{name} is missing segments {missing}")
        return np.array([float(value[s]) for s in segments])
    return np.full(len(segments), float(value))


def simulate_loyalty(
    scenario: Scenario | None,
    panel: Mapping[str, int],
    weeks: int,
    *,
    model: LoyaltyModel | None = None,
    seed: int | np.random.SeedSequence = 0,
    days_per_week: int = 1,
    source: VisitSource | None = None,
    value: Callable[[FloatArray], FloatArray] | None = None,
    rule: Any = None,
    segment_value: Mapping[str, float] | None = None,
    mapping: SurveyMapping | None = None,
) -> LoyaltyResult:
    """Simulate a panel of customers returning to the branch over many weeks.

    Parameters
    ----------
    scenario : Scenario or None
        The branch (with the policy applied). Gives the visits (via
        :func:`peakend.simulate`), the value function, the memory rule and the segment
        values. May be None when ``source`` and ``value`` are given.
    panel : mapping of str to int
        Panel members per segment name (>= 0 each, at least one in total).
    weeks : int
        Number of weeks (>= 1).
    model : LoyaltyModel, optional
        Adaptation, visit and churn assumptions; default ``LoyaltyModel()``.
    seed : int or numpy.random.SeedSequence
        Root seed. Separate streams for the simulated days, who visits, which simulated
        journey a visitor takes, the churn draws and the survey noise, so two policies
        run with the same seed share each week's visitors and the uniform draws behind
        churn (common random numbers).
    days_per_week : int
        Branch days simulated per week to draw the visits from (>= 1). Default 1.
    source : callable, optional
        ``source(week, seed_sequence) -> Journeys`` giving the week's simulated visits,
        instead of simulating the scenario (e.g. recorded or synthetic journeys).
    value : callable, optional
        Value function ``v(experience - expectation) -> affect``; default the
        scenario's (:func:`peakend.affect.value` with ``scenario.value_function``).
    rule : str or rule object, optional
        Memory rule; default the scenario's ``memory.rule`` (with its params), else
        peak-end.
    segment_value : mapping of str to float, optional
        Value of a customer per segment, currency per year; default the scenario's
        ``segments[name].value``, else 0.
    mapping : SurveyMapping, optional
        Answer model of the weekly survey of visitors (with response noise from its own
        stream); default ``SurveyMapping()``.

    Returns
    -------
    LoyaltyResult
        Weekly counts, remembered values, felt affects and adapted expectations per
        segment, value, and the early-warning list.

    Raises
    ------
    ValueError
        If an argument is out of range or names an unknown segment.
    """
    m = model or LoyaltyModel()
    _check(isinstance(weeks, int | np.integer) and weeks >= 1, f"weeks must be >= 1, got {weeks}")
    _check(isinstance(days_per_week, int | np.integer) and days_per_week >= 1,
           f"days_per_week must be >= 1, got {days_per_week}")
    if source is None:
        _check(scenario is not None, "scenario is required when no source is given")
        assert scenario is not None
        source = _scenario_source(scenario, int(days_per_week))
    if value is None:
        _check(scenario is not None, "scenario is required when no value function is given")
        value = _scenario_value(scenario)
    rule_params: dict[str, Any] = {}
    if rule is None:
        mem = getattr(scenario, "memory", None)
        rule = mem.rule if mem is not None else "peak_end"
        rule_params = dict(mem.params) if mem is not None else {}
    from peakend.memory import score

    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    day_seq, visit_seq, churn_seq, survey_seq, assign_seq = root.spawn(5)
    rng_assign = np.random.default_rng(assign_seq)
    rng_survey = np.random.default_rng(survey_seq)
    survey_map = mapping or SurveyMapping()
    week_seeds = day_seq.spawn(weeks)
    rng_visit = np.random.default_rng(visit_seq)
    rng_churn = np.random.default_rng(churn_seq)

    first = source(0, week_seeds[0])
    segments, touchpoints = tuple(first.segments), tuple(first.touchpoints)
    n_seg, n_tp = len(segments), len(touchpoints)
    counts = _per_segment_counts(panel, segments)
    member_seg = np.repeat(np.arange(n_seg, dtype=np.int64), counts)
    n = int(member_seg.size)
    p_visit = _per_segment(m.visit_probability, segments, "visit_probability")[member_seg]
    if segment_value is None and scenario is not None:
        segment_value = {s: float(getattr(scenario.segments.get(s), "value", 0.0))
                         for s in segments}
    seg_value = (_per_segment(segment_value, segments, "segment_value")
                 if segment_value is not None else np.zeros(n_seg))
    adapt = np.ones(n_tp, dtype=bool)
    if m.adapt is not None:
        unknown = [t for t in m.adapt if t not in touchpoints]
        _check(not unknown, f"adapt names unknown touchpoints {unknown}")
        adapt = np.isin(np.array(touchpoints), np.array(m.adapt))
    adapt &= ~np.isin(np.array(touchpoints), np.array(m.fixed, dtype=str))

    expect = np.full((n, n_tp), np.nan)  # adapted expectation; NaN: not yet visited
    active = np.ones(n, dtype=bool)
    n_visits = np.zeros(n, dtype=np.int64)
    repeats = np.zeros(n, dtype=np.int64)  # unserved visits in a row before the next one
    out_abandoned = np.zeros((weeks, n_seg), np.int64)
    out_csat = np.full((weeks, n_seg), np.nan)
    out_nps = np.full((weeks, n_seg), np.nan)
    out_ces = np.full((weeks, n_seg), np.nan)
    out_active = np.zeros((weeks + 1, n_seg), np.int64)
    out_visits = np.zeros((weeks, n_seg), np.int64)
    out_churned = np.zeros((weeks, n_seg), np.int64)
    out_remembered = np.full((weeks, n_seg), np.nan)
    out_affect = np.full((weeks, n_seg, n_tp), np.nan)
    out_expect = np.full((weeks, n_seg, n_tp), np.nan)
    out_value = np.zeros((weeks, n_seg))
    warn: dict[str, list[NDArray[Any]]] = {"week": [], "member": [], "segment": [],
                                           "remembered": []}

    for week in range(weeks):
        day = first if week == 0 else source(week, week_seeds[week])
        _check(tuple(day.segments) == segments and tuple(day.touchpoints) == touchpoints,
               f"source returned different segments/touchpoints in week {week}")
        out_active[week] = np.bincount(member_seg[active], minlength=n_seg)
        out_value[week] = out_active[week] * seg_value / WEEKS_PER_YEAR
        # draws are made for every member each week (common random numbers)
        u_background = rng_churn.random(n)
        u_churn = rng_churn.random(n)
        u_visit = rng_visit.random(n)
        lost_bg = active & (u_background < m.background_churn)
        active &= ~lost_bg
        visiting = active & (u_visit < p_visit)
        members, rows = _assign(day, member_seg, visiting, n_seg, rng_assign)
        churned_week = np.bincount(member_seg[lost_bg], minlength=n_seg)
        if members.size:
            sub = day.select(rows)
            ep_member = members[sub.episode_customer]
            tp = np.asarray(sub.episodes["touchpoint"], dtype=np.int64)
            x = np.asarray(sub.episodes["experience"], dtype=np.float64)
            e_rec = np.asarray(sub.episodes["expectation"], dtype=np.float64)
            a_rec = np.asarray(sub.episodes["affect"], dtype=np.float64)
            e_own = expect[ep_member, tp]
            e_use = np.where(np.isnan(e_own), e_rec, e_own)
            ok = np.isfinite(x) & np.isfinite(e_rec)
            x0, er0, eu0 = (np.where(ok, v, 0.0) for v in (x, e_rec, e_use))
            felt = np.where(ok, a_rec + value(x0 - eu0) - value(x0 - er0), a_rec)
            felt = np.clip(felt, -10.0, 10.0)
            remembered = score(felt, sub.offsets, durations=sub.durations, rule=rule,
                               **rule_params)
            # adapt expectations: one update per (member, touchpoint) from the mean
            # experience there, for adapting touchpoints with a recorded experience
            upd = ok & adapt[tp]
            key = ep_member[upd] * n_tp + tp[upd]
            uniq, inv = np.unique(key, return_inverse=True)
            x_mean = np.bincount(inv, weights=x[upd], minlength=uniq.size) / np.bincount(
                inv, minlength=uniq.size)
            e_mean = np.bincount(inv, weights=e_use[upd], minlength=uniq.size) / np.bincount(
                inv, minlength=uniq.size)
            mem_u, tp_u = uniq // n_tp, uniq % n_tp
            expect[mem_u, tp_u] = e_mean + m.eta * (x_mean - e_mean)
            n_visits[members] += 1
            # churn after the visit
            has_r = np.isfinite(remembered)
            p = np.zeros(members.size)
            p[has_r] = churn_probability(remembered[has_r], m.churn)
            leave = u_churn[members] < p
            active[members[leave]] = False
            churned_week = churned_week + np.bincount(member_seg[members[leave]],
                                                      minlength=n_seg)
            # per-segment summaries
            seg_v = member_seg[members]
            out_visits[week] = np.bincount(seg_v, minlength=n_seg)
            rs = np.bincount(seg_v[has_r], weights=remembered[has_r], minlength=n_seg)
            rc = np.bincount(seg_v[has_r], minlength=n_seg)
            out_remembered[week] = np.where(rc > 0, rs / np.maximum(rc, 1), np.nan)
            cell = member_seg[ep_member] * n_tp + tp
            fs = np.bincount(cell, weights=felt, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
            fc = np.bincount(cell, minlength=n_seg * n_tp).reshape(n_seg, n_tp)
            out_affect[week] = np.where(fc > 0, fs / np.maximum(fc, 1), np.nan)
            # the week's survey of visitors; an unserved visit makes the next a repeat
            unserved = np.asarray(sub.abandoned, dtype=bool)
            out_abandoned[week] = np.bincount(seg_v[unserved], minlength=n_seg)
            r_ans = np.where(has_r, remembered, 0.0)
            ans_c = csat(r_ans, survey_map, rng_survey).astype(np.float64)
            ans_l = likelihood_to_recommend(r_ans, survey_map, rng_survey)
            ans_e = customer_effort(_perceived_wait_of(sub), unserved, repeats[members],
                                    survey_map, rng_survey).astype(np.float64)
            sv = seg_v[has_r]
            cnt = np.bincount(sv, minlength=n_seg)
            with np.errstate(invalid="ignore", divide="ignore"):
                out_csat[week] = np.bincount(sv, weights=ans_c[has_r], minlength=n_seg) / cnt
                out_ces[week] = np.bincount(sv, weights=ans_e[has_r], minlength=n_seg) / cnt
                promoters = np.bincount(sv, weights=(ans_l[has_r] >= 9), minlength=n_seg)
                detractors = np.bincount(sv, weights=(ans_l[has_r] <= 6), minlength=n_seg)
                out_nps[week] = 100.0 * (promoters - detractors) / cnt
            repeats[members] = np.where(unserved, repeats[members] + 1, 0)
            # early warning
            flag = has_r & (remembered < m.warning_threshold)
            order = np.argsort(remembered[flag], kind="stable")
            warn["week"].append(np.full(order.size, week, np.int64))
            warn["member"].append(members[flag][order])
            warn["segment"].append(member_seg[members[flag][order]])
            warn["remembered"].append(remembered[flag][order])
        out_churned[week] = churned_week
        seen = active[:, None] & np.isfinite(expect)
        cell_s = np.broadcast_to(member_seg[:, None], expect.shape)[seen] * n_tp + np.nonzero(
            seen)[1]
        es = np.bincount(cell_s, weights=expect[seen], minlength=n_seg * n_tp)
        ec = np.bincount(cell_s, minlength=n_seg * n_tp)
        out_expect[week] = np.where(ec > 0, es / np.maximum(ec, 1), np.nan).reshape(n_seg, n_tp)
    out_active[weeks] = np.bincount(member_seg[active], minlength=n_seg)
    warnings = {
        "week": np.concatenate(warn["week"]) if warn["week"] else np.zeros(0, np.int64),
        "member": np.concatenate(warn["member"]) if warn["member"] else np.zeros(0, np.int64),
        "segment": np.concatenate(warn["segment"]) if warn["segment"] else np.zeros(0, np.int64),
        "remembered": (np.concatenate(warn["remembered"]) if warn["remembered"]
                       else np.zeros(0, np.float64)),
    }
    return LoyaltyResult(
        segments=segments,
        touchpoints=touchpoints,
        active=out_active,
        visits=out_visits,
        churned=out_churned,
        remembered=out_remembered,
        affect=out_affect,
        expectation=out_expect,
        value=out_value,
        warnings=warnings,
        member_segment=member_seg,
        member_active=active,
        member_visits=n_visits,
        abandoned=out_abandoned,
        csat=out_csat,
        nps=out_nps,
        ces=out_ces,
    )


def _per_segment_counts(panel: Mapping[str, int], segments: tuple[str, ...]) -> IntArray:
    _check(isinstance(panel, Mapping), "panel must be a mapping {segment name: members}")
    unknown = [k for k in panel if k not in segments]
    _check(not unknown, f"panel names unknown segments {unknown}; segments are {list(segments)}")
    counts = np.array([int(panel.get(s, 0)) for s in segments], dtype=np.int64)
    _check(bool(np.all(counts >= 0)), "panel counts must be >= 0")
    _check(int(counts.sum()) >= 1, "panel must have at least one member")
    return counts


def _assign(
    day: Journeys,
    member_seg: IntArray,
    visiting: NDArray[np.bool_],
    n_seg: int,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Give each visiting member a simulated journey of their segment that week.

    Without replacement while the week has enough simulated customers of the segment,
    with replacement otherwise; members of a segment with no simulated customer that
    week do not visit.
    """
    day_seg = np.asarray(day.customers["segment"], dtype=np.int64)
    members_out, rows_out = [], []
    for s in range(n_seg):
        who = np.flatnonzero(visiting & (member_seg == s))
        pool = np.flatnonzero(day_seg == s)
        if who.size == 0 or pool.size == 0:
            continue
        rows = rng.choice(pool, size=who.size, replace=who.size > pool.size)
        members_out.append(who)
        rows_out.append(rows)
    if not members_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(members_out), np.concatenate(rows_out).astype(np.int64)


def value_of_policy(
    journeys: Journeys,
    customers: Mapping[str, float],
    segment_value: Mapping[str, float] | None = None,
    *,
    horizon_years: float = 3.0,
    visits_per_year: float | Mapping[str, float] = 12.0,
    churn: ChurnModel | None = None,
    background_churn_per_year: float = 0.0,
    discount_rate: float = 0.0,
    remembered: ArrayLike | None = None,
    baseline: Journeys | None = None,
    baseline_remembered: ArrayLike | None = None,
) -> dict[str, dict[str, float]]:
    """Retained customers and revenue per segment over a horizon under one policy.

    Each of a segment's customers visits ``visits_per_year`` times a year; each visit is
    like a random simulated visit of that segment under the policy, so the probability
    of staying after a visit is ``q = 1 - mean(churn_probability(remembered))`` over the
    segment's simulated customers (visits independent: persistent differences between
    customers are the job of :func:`simulate_loyalty`). With ``v`` visits a year and
    background attrition ``b`` a year, after ``t`` years ``N(t) = N0 * q**(v t) *
    (1 - b)**t`` customers remain (treated as continuous in ``t``); revenue is
    ``segment_value * integral_0^H N(t) * (1 + discount_rate)**-t dt`` (closed form).

    Parameters
    ----------
    journeys : Journeys
        Simulated visits under the policy (one or many days).
    customers : mapping of str to float
        Customers per segment at the start (>= 0).
    segment_value : mapping of str to float, optional
        Value of a customer per segment, currency per year (>= 0). Default
        ``journeys.meta["segment_value"]`` (the scenario's ``segments[name].value``, as
        recorded by the simulator).
    horizon_years : float
        Horizon in years (> 0). Default 3 (Temkin Group's three years, seeds 001/003).
    visits_per_year : float or mapping of str to float
        Branch visits per customer per year (> 0). Default 12.
    churn : ChurnModel, optional
        Churn per visit from the remembered value; default ``ChurnModel()``.
    background_churn_per_year : float
        Attrition unrelated to the branch, per year (0..1). Default 0.
    discount_rate : float
        Yearly discount rate for revenue (>= 0). Default 0.
    remembered : array_like of float, optional
        Remembered values (affect points, -10..10) instead of
        ``journeys.customers["remembered"]`` (if that column
        is all NaN, the journeys are scored with ``meta["rule"]``, default peak-end).
    baseline : Journeys, optional
        Visits under the baseline policy; adds ``retained_change`` and
        ``revenue_change`` (policy minus baseline).
    baseline_remembered : array_like of float, optional
        Remembered values of ``baseline`` instead of its column.

    Returns
    -------
    dict of str to dict of str to float
        ``{segment or "all": {metric: value}}`` with ``customers`` (start), ``churn_per_visit``
        (probability), ``retained`` (customers at the horizon), ``retained_share``,
        ``lost``, ``revenue`` (currency over the horizon) and, with a baseline,
        ``retained_change`` and ``revenue_change``.
    """
    segments = tuple(journeys.segments)
    if segment_value is None:
        recorded = journeys.meta.get("segment_value")
        _check(isinstance(recorded, Mapping),
               "segment_value is required when journeys.meta has no 'segment_value'")
        assert isinstance(recorded, Mapping)
        segment_value = recorded
    n0 = _per_segment(customers, segments, "customers")
    val = _per_segment(segment_value, segments, "segment_value")
    vpy = _per_segment(visits_per_year, segments, "visits_per_year")
    _check(bool(np.all(n0 >= 0)), "customers must be >= 0")
    _check(bool(np.all(val >= 0)), "segment_value must be >= 0")
    _check(bool(np.all(vpy > 0)), "visits_per_year must be > 0")
    _check(math.isfinite(horizon_years) and horizon_years > 0,
           f"horizon_years must be > 0, got {horizon_years}")
    _check(0 <= background_churn_per_year < 1,
           f"background_churn_per_year must be in [0, 1), got {background_churn_per_year}")
    _check(math.isfinite(discount_rate) and discount_rate >= 0,
           f"discount_rate must be >= 0, got {discount_rate}")
    cm = churn or ChurnModel()

    def per_visit_churn(j: Journeys, r_given: ArrayLike | None, what: str) -> FloatArray:
        _check(tuple(j.segments) == segments, f"{what} must have the same segments")
        try:
            r = _remembered_of(j, r_given)
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None
        ok = np.isfinite(r)
        seg = np.asarray(j.customers["segment"], np.int64)[ok]
        p = churn_probability(r[ok], cm)
        s = np.bincount(seg, weights=p, minlength=len(segments))
        c = np.bincount(seg, minlength=len(segments))
        _check(bool(np.all(c[n0 > 0] > 0)),
               f"{what} has no simulated customer of a segment with customers > 0")
        return np.where(c > 0, s / np.maximum(c, 1), 0.0)

    def project(p_visit: FloatArray) -> tuple[FloatArray, FloatArray]:
        # per-segment survival over the horizon (log-rate per year), revenue in closed form
        rate = vpy * np.log1p(-p_visit) + np.log1p(-background_churn_per_year)  # per year
        retained = n0 * np.exp(rate * horizon_years)
        disc = np.log1p(discount_rate)
        g = rate - disc
        # integral_0^H N0 exp(g t) dt, closed form (g -> 0 limit: H)
        with np.errstate(invalid="ignore", divide="ignore"):
            integral = np.where(np.abs(g) > 1e-12, np.expm1(g * horizon_years) / g,
                                horizon_years)
        return retained, n0 * val * integral

    p = per_visit_churn(journeys, remembered, "journeys")
    retained, revenue = project(p)
    rows: dict[str, dict[str, float]] = {}
    base: tuple[FloatArray, FloatArray] | None = None
    if baseline is not None:
        base = project(per_visit_churn(baseline, baseline_remembered, "baseline"))
    for i, s in enumerate((*segments, "all")):
        if i < len(segments):
            c0, r, rev, pv = n0[i], retained[i], revenue[i], p[i]
        else:
            c0, r, rev = n0.sum(), retained.sum(), revenue.sum()
            pv = float(np.sum(p * n0) / n0.sum()) if n0.sum() > 0 else math.nan
        row = {
            "customers": float(c0),
            "churn_per_visit": float(pv),
            "retained": float(r),
            "retained_share": float(r / c0) if c0 > 0 else math.nan,
            "lost": float(c0 - r),
            "revenue": float(rev),
        }
        if base is not None:
            br = base[0][i] if i < len(segments) else base[0].sum()
            bv = base[1][i] if i < len(segments) else base[1].sum()
            row["retained_change"] = float(r - br)
            row["revenue_change"] = float(rev - bv)
        rows[s] = row
    return rows
