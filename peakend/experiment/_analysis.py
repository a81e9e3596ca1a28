"""The analysis tables of :class:`Results` (a base class holding their documentation).

The computations are in :mod:`peakend.experiment._tables`; each method here
returns a :class:`pandas.DataFrame` (columns and units in
``docs/reference/results.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import pandas as pd

from peakend.experiment import _tables
from peakend.experiment._aggregate import ALL

if TYPE_CHECKING:  # pragma: no cover
    from peakend.experiment._results import Results

__all__ = ["ResultsTables"]


class ResultsTables:
    """Summary, paired comparison, cost, Pareto, rankings and rule disagreement of a Results."""

    def summary(
        self,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Mean of each metric per policy and segment, with a t-based confidence interval.

        Parameters
        ----------
        metrics : str or sequence of str, optional
            Metrics (or rule names); default all.
        segments : str or sequence of str, optional
            Segments; default all, ``"all"`` first.
        confidence : float, default 0.95
            Confidence level in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, segment, metric, mean, half_width, low, high, sd,
            n, note`` (units of the metric); ``n`` counts the replications with
            a finite value; ``half_width`` is NaN with note ``"n<3"`` when
            fewer than 3, 0 with note ``"zero variance"`` when all
            replications agree, and everything is NaN with note
            ``"no customers"`` when the segment had no customer in any
            replication.
        """
        return _tables.summary_table(cast("Results", self), metrics, segments, confidence)

    def compare(
        self,
        baseline: str | None = None,
        metrics: Sequence[str] | str | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Paired differences of every policy against a baseline, per segment.

        Replication ``r`` of each policy saw the same customers as replication
        ``r`` of the baseline (common random numbers), so the differences are
        paired: ``difference = mean_r(policy_r - baseline_r)``, with a paired
        t-interval and p-value, and Holm's adjustment across the policies
        compared (one family per segment and metric).

        Parameters
        ----------
        baseline : str, optional
            Policy to compare against; default the first policy.
        metrics : str or sequence of str, optional
            Metrics (or rule names); default all.
        segments : str or sequence of str, optional
            Segments; default all.
        confidence : float, default 0.95
            Confidence level in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, segment, metric, baseline_mean, policy_mean,
            difference, half_width, low, high, p_value, p_holm, significant,
            n, note`` (one row per non-baseline policy, segment and metric;
            units of the metric). ``significant`` is ``p_holm < 1 -
            confidence``: the one notion of significance of peakend's tables,
            plots and command line. ``attrs``: ``title``, ``baseline``,
            ``confidence``.
        """
        return _tables.compare_table(cast("Results", self), baseline, metrics, segments, confidence)

    def cost_per_point(
        self,
        baseline: str | None = None,
        rule: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Extra cost per point of remembered value gained, against a baseline.

        ``cost_per_point = mean(cost - cost_baseline) / mean(value - value_baseline)``
        with ``value`` the segment's mean remembered value under ``rule``
        (a point is one unit of the affect scale -10..10) and ``cost`` the
        branch's cost per day (staff + fixed + gifts).

        Parameters
        ----------
        baseline : str, optional
            Default the first policy.
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.
        confidence : float, default 0.95
            For the interval of the value difference.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, segment, rule, cost_difference`` (currency/day),
            ``value_difference, value_low, value_high`` (affect points),
            ``cost_per_point`` (currency/day per point), ``note``. "Better" and
            "worse" mean that the value interval lies above or below 0 (or that
            every replication's difference is the same); the note says
            ``"dominant"`` (better, or the same value, and not dearer),
            ``"dominated"`` (worse, or the same value, and not cheaper),
            ``"cheaper, worse"`` (a saving that costs remembered value),
            ``"not significant"`` (the value interval contains 0, at a different
            cost), ``"no change"`` (neither cost nor value differs), ``"no
            customers"`` (no value to compare) or ``""`` (better at a cost: the
            trade-off ``cost_per_point`` prices); ``cost_per_point`` is NaN unless
            the mean value rises at a cost. The interval is per policy, not
            adjusted for several policies (``compare`` has the Holm-adjusted
            ``significant``).
        """
        res = cast("Results", self)
        return _tables.cost_per_point_table(res, baseline, rule, segment, confidence)

    def pareto(self, rule: str | None = None, segment: str = ALL) -> pd.DataFrame:
        """Which policies are Pareto-efficient in (cost, remembered value).

        Parameters
        ----------
        rule : str, optional
            Memory rule; default the headline rule.
        segment : str, default "all"
            Whose remembered value counts.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, cost`` (mean currency/day), ``value`` (mean
            remembered value), ``efficient`` (no other policy is at most as
            dear and at least as good, one of them strictly), ``note``
            (``"no customers"`` where the value is NaN: never efficient);
            sorted by cost.
        """
        return _tables.pareto_table(cast("Results", self), rule, segment)

    def rankings(
        self, segment: str = ALL, rules: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Rank of each policy (1 = best remembered) under each memory rule.

        Parameters
        ----------
        segment : str, default "all"
            Segment.
        rules : sequence of str, optional
            Default every rule of the run.

        Returns
        -------
        pandas.DataFrame
            Column ``policy`` then one column of ranks per rule (named by the
            rule; ties share the mean rank, NaN where the value is NaN).
        """
        return _tables.rankings_table(cast("Results", self), segment, rules)

    def rule_disagreement(
        self,
        rule_a: str | None = None,
        rule_b: str | None = None,
        segment: str = ALL,
        *,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Pairs of policies that two memory rules order differently.

        For every pair of policies, the paired difference of remembered value
        is computed under both rules; a row is reported where the signs
        differ (one rule prefers policy 1, the other policy 2). This is where
        a manager optimising the integral of experience (Kahneman's
        experienced utility) would choose differently from one optimising what
        customers remember (peak-end).

        Parameters
        ----------
        rule_a, rule_b : str, optional
            The two rules. Default: the headline rule against every other rule
            of the run (``rule_b=None`` with ``rule_a`` given: against every other).
        segment : str, default "all"
            Segment.
        confidence : float, default 0.95
            Level of ``both_significant`` (p-values are unadjusted).

        Returns
        -------
        pandas.DataFrame
            Columns ``segment, rule_a, rule_b, policy_1, policy_2,
            difference_a, p_a, difference_b, p_b, both_significant``, with
            ``difference = mean(policy_1 - policy_2)`` under each rule and
            ``both_significant`` when both p-values are below ``1 - confidence``.
            Empty when the rules agree on every pair.
        """
        res = cast("Results", self)
        return _tables.rule_disagreement_table(res, rule_a, rule_b, segment, confidence)

    def headline(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per policy and segment: remembered value with CI, wait, abandonment, cost.

        Parameters
        ----------
        confidence : float, default 0.95
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            Columns ``policy, segment, remembered`` (mean under the headline
            rule, ``attrs["rule"]``), ``half_width`` (of its t-interval),
            ``wait_mean`` (minutes), ``abandonment_rate`` (0..1), ``cost``
            (currency/day), ``n_customers`` (mean per day); the table
            ``repr`` shows (``peakend run`` prints a wider comparison table).
        """
        return _tables.headline_table(cast("Results", self), confidence)
