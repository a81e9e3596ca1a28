"""``ResultsPlot`` and ``JourneysPlot``: the usual figures of a Results or a Journeys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.plots._style import _columns, _new_axes
from peakend.plots.day import hall_queue
from peakend.plots.journey import journey_map
from peakend.plots.results import cost_value_pareto, policy_comparison, rule_rankings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

def _metric_axis_label(metric: str, currency: str | None) -> str:
    """Return what a difference in ``metric`` is measured in, for an axis label."""
    if metric.startswith("remembered["):
        rule = metric[len("remembered["):-1]
        unit = "affect x minutes" if rule == "integral" else "affect points"
        return f"remembered value ({rule}), {unit}"
    units = {"wait_mean": "mean wait, minutes", "wait_p90": "90th percentile wait, minutes",
             "perceived_wait_mean": "mean perceived wait, minutes",
             "abandonment_rate": "abandonment rate, share 0..1",
             "slips_mean": "slips per customer", "n_customers": "customers per day"}
    if metric in units:
        return units[metric]
    if metric.endswith("cost"):
        return f"{metric.replace('_', ' ')}, {currency or 'currency units'} per day"
    return metric


class ResultsPlot:
    """Figures of a policy experiment: ``ResultsPlot(results).compare()`` and friends.

    ``Results.plot`` returns one of these. Each method draws on ``ax`` (or a new
    figure) and returns the Axes; nothing is shown or saved.

    Parameters
    ----------
    results : Results
        From :func:`peakend.run` or :func:`peakend.load_results`. Its tables
        (``compare``, ``pareto``, ``summary``) may be peakend Tables or pandas
        DataFrames with the documented column names.
    """

    def __init__(self, results: Any) -> None:
        self._results = results

    @property
    def currency(self) -> str | None:
        """The scenario's currency (``Scenario.currency``), for cost axes."""
        scenario = getattr(self._results, "scenario", None) or {}
        value = scenario.get("currency") if isinstance(scenario, Mapping) else None
        return str(value) if value else None

    def compare(
        self,
        baseline: str | None = None,
        metric: str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
        ax: Axes | None = None,
    ) -> Axes:
        """Forest plot of every policy's paired difference against the baseline.

        Parameters
        ----------
        baseline : str, optional
            Baseline policy; default the first policy of the run.
        metric : str, optional
            Metric or memory rule; default the remembered value under the
            headline rule (affect points).
        segments : str or sequence of str, optional
            Segments to show; default all, ``"all"`` first.
        confidence : float, default 0.95
            Interval level; significance is Holm-adjusted at ``1 - confidence``.
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            See :func:`policy_comparison`.
        """
        r = self._results
        name = r.metric_name(metric or r.headline_rule)
        base = baseline or r.policies[0]
        table = r.compare(base, metrics=name, segments=segments, confidence=confidence)
        n_rows = len(r.policies) * (len(r.segments) if segments is None else
                                    (1 if isinstance(segments, str) else len(segments)))
        ax = _new_axes(ax, (7.5, max(2.5, 0.3 * (n_rows + 4) + 1.6)))
        return policy_comparison(
            table, metric=name, baseline=base, confidence=confidence, ax=ax,
            xlabel=f"difference vs {base}: {_metric_axis_label(name, self.currency)} "
                   f"({confidence:.0%} CI)")

    def pareto(
        self,
        rule: str | None = None,
        segment: str = "all",
        *,
        confidence: float = 0.95,
        ax: Axes | None = None,
    ) -> Axes:
        """Cost per day against remembered value, with the Pareto frontier.

        Parameters
        ----------
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.
        confidence : float, default 0.95
            Level of the vertical error bars (t-intervals over replications).
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            See :func:`cost_value_pareto`; the cost axis is in the scenario's currency.
        """
        r = self._results
        rule = rule or r.headline_rule
        cols = _columns(r.pareto(rule, segment))
        summary = _columns(r.summary(r.metric_name(rule), segment, confidence=confidence))
        half = dict(zip(summary["policy"].astype(str),
                        np.asarray(summary["half_width"], dtype=float), strict=True))
        policies = [str(p) for p in cols["policy"]]
        err = np.nan_to_num([half.get(p, np.nan) for p in policies], nan=0.0)
        ax = cost_value_pareto(
            np.asarray(cols["cost"], dtype=float), np.asarray(cols["value"], dtype=float),
            policies, value_err=err, currency=self.currency, ax=ax,
            ylabel=f"mean {_metric_axis_label(r.metric_name(rule), self.currency)}")
        if segment != "all":
            ax.set_title(f"{ax.get_title()}, segment {segment}")
        return ax

    def rules(
        self,
        segment: str = "all",
        rules: Sequence[str] | None = None,
        *,
        ax: Axes | None = None,
    ) -> Axes:
        """Where the memory rules disagree: the policies' ranks under each rule.

        Parameters
        ----------
        segment : str, default "all"
            Whose remembered value counts.
        rules : sequence of str, optional
            Rules to show; default every rule of the run.
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            See :func:`rule_rankings` (ranks of the mean remembered value over
            replications; rank 1 is the best remembered).
        """
        r = self._results
        chosen = list(rules) if rules is not None else list(r.rules)
        scores = {rule: {p: float(np.nanmean(v)) for p, v in
                         zip(r.policies, r.get(rule, segment), strict=True)}
                  for rule in chosen}
        ax = rule_rankings(scores, ax=ax)
        return ax


class JourneysPlot:
    """Figures of simulated days: ``JourneysPlot(day).journey(0)``, ``.queue()``.

    ``Journeys.plot`` returns one of these. Each method draws on ``ax`` (or a
    new figure) and returns the Axes.

    Parameters
    ----------
    journeys : Journeys
        From :func:`peakend.simulate` (or any :class:`~peakend.journeys.Journeys`).
    scenario : Scenario, optional
        The scenario simulated; when given, :meth:`queue` also draws the tellers
        on duty from its shift plans.
    """

    def __init__(self, journeys: Any, scenario: Any = None) -> None:
        self._journeys = journeys
        self._scenario = scenario

    def journey(
        self,
        customers: Sequence[int] | int | None = None,
        *,
        rule: Any = None,
        time: str = "arrival",
        label_touchpoints: bool = True,
        ax: Axes | None = None,
    ) -> Axes:
        """Journey map of one or a few customers (see :func:`journey_map`).

        Parameters
        ----------
        customers : int or sequence of int, optional
            Row indices (0 .. n_customers-1); default the first customer.
        rule : str or rule object, optional
            Memory rule of the remembered value; default the ``remembered`` column.
        time : {"arrival", "opening"}
            Minutes since each customer's arrival, or from opening.
        label_touchpoints : bool
            Name each episode's touchpoint.
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        return journey_map(self._journeys, customers, rule=rule, time=time,
                           label_touchpoints=label_touchpoints, ax=ax)

    def queue(
        self,
        day: int = 0,
        *,
        stage: str | None = None,
        scenario: Any = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Draw the hall queue of one day, with the tellers on duty when the scenario is known.

        Parameters
        ----------
        day : int, default 0
            Which simulated day of the record (its ``day`` column).
        stage : str, optional
            A further stage's name: draw its queue (``Journeys.stage_queue``) and its
            tellers on duty instead. Default (or the first stage's name): the hall queue.
        scenario : Scenario, optional
            Overrides the scenario given to the constructor; its shift plans give
            the tellers on duty (all counter groups together, of the stage drawn).
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            See :func:`hall_queue`; clock time on the x axis when the record
            knows its opening time.

        Raises
        ------
        ValueError
            If the record has no queue series for ``day``, or ``stage`` is not one
            of its stages.
        """
        j = self._journeys
        stages = tuple(getattr(j, "stages", ()) or ())
        further = stage is not None and not (stages and stage == stages[0])
        if further:
            if stage not in stages[1:]:
                raise ValueError(
                    f"stage: {stage!r} is not a stage of this record; its stages: {list(stages)}"
                )
            q = j.stage_queue
            keep = (np.asarray(q["day"]) == day) & (np.asarray(q["stage"]) == stages.index(stage))
        else:
            q = j.queue
            keep = np.asarray(q["day"]) == day
        if not keep.any():
            days = sorted({int(d) for d in np.asarray(q["day"])})
            raise ValueError(f"day: no queue series for day {day} (has {days})")
        meta = getattr(j, "meta", {}) or {}
        scenario = scenario if scenario is not None else self._scenario
        staffing_time = staffing = None
        if scenario is not None:
            view = scenario.stage_view(stage) if further else scenario
            staffing_time, staffing = _tellers_on_duty(view)
        close = meta.get("closing")
        opening = meta.get("opening_clock_hours")
        if opening is None and scenario is not None:
            opening = float(scenario.opening)
        return hall_queue(np.asarray(q["time"])[keep], np.asarray(q["length"])[keep],
                          staffing_time=staffing_time, staffing=staffing,
                          close=float(close) if close is not None else None,
                          opening=float(opening) % 24 if opening is not None else None, ax=ax,
                          where=stage if further else None)


def _tellers_on_duty(scenario: Any) -> tuple[list[float], list[int]]:
    """Minutes from opening at which the tellers on duty (all groups) change, and the counts."""
    starts = {float(scenario.opening)}
    for group in scenario.counters.values():
        if not isinstance(group.tellers, int):
            starts.update(float(block.start) for block in group.tellers)
    clocks = sorted(t for t in starts if scenario.opening <= t < scenario.closing)
    counts = [sum(scenario.tellers_at(name, t) for name in scenario.counters) for t in clocks]
    return [60.0 * (t - float(scenario.opening)) for t in clocks], counts
