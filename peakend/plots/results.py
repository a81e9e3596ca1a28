"""Figures of policy experiments: paired differences, cost against value, rule rankings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.plots._style import (
    _BAD,
    _FRONTIER,
    _GOOD,
    _MARK_BAD,
    _MARK_GOOD,
    _MARK_NEUTRAL,
    _NEUTRAL,
    _colors,
    _columns,
    _legend_below,
    _new_axes,
    _pick,
    _root_figure,
    _shape,
    _significance,
    _unique_in_order,
)
from peakend.plots.journey import _place_label

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes


# ------------------------------------------------------------------ forest plot


def policy_comparison(
    table: Any,
    *,
    estimate: str | None = None,
    low: str | None = None,
    high: str | None = None,
    policy: str = "policy",
    segment: str = "segment",
    metric: str | None = None,
    baseline: str | None = None,
    xlabel: str | None = None,
    confidence: float = 0.95,
    sort: bool = True,
    annotate: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Forest plot of paired differences against a baseline policy, per segment.

    Each row is one policy in one segment: a marker at the mean paired difference
    and a horizontal bar for its confidence interval. Significance is shown by
    shape as well as colour, and decided by the Holm-adjusted test of
    :func:`is_significant` (the same test as the ``significant`` column of
    ``Results.compare()``): a filled blue ▲ is significantly better than the
    baseline, a filled vermillion ▼ significantly worse, a hollow grey ○ not
    significantly different. A legend says so. Within a segment the rows are
    sorted by effect, best at the top, so that ten or more policies stay readable.

    Parameters
    ----------
    table : DataFrame, Table, mapping of columns or list of records
        The table returned by ``Results.compare(baseline)``. Expected columns:

        * ``policy`` and ``segment`` (names; rows for the baseline itself may be
          present and are skipped when ``baseline`` is given);
        * the estimate: ``diff``, ``mean_diff``, ``difference``, ``estimate`` or
          ``mean`` (first one found), in the metric's unit;
        * the interval: ``ci_low``/``ci_high`` (or ``low``/``high``,
          ``lower``/``upper``);
        * for significance: ``significant`` or ``p_holm`` (else the interval is used);
        * optionally ``metric``, to be filtered with ``metric``.
    estimate, low, high : str, optional
        Explicit column names, overriding the search above.
    policy, segment : str
        Names of the grouping columns (``segment`` may be absent: one group).
    metric : str, optional
        Keep only the rows whose ``metric`` column equals this.
    baseline : str, optional
        Name of the baseline policy, shown in the axis label and dropped from rows.
    xlabel : str, optional
        Axis label; default: difference in remembered value in affect points.
    confidence : float, default 0.95
        Level of the intervals; the test level is ``1 - confidence``.
    sort : bool, default True
        Sort the rows of each segment by effect (largest first); else table order.
    annotate : bool, default True
        Write each difference at the right edge of the plot.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One ``Line2D`` per row for the interval (label ``"_ci"``), drawn from the
        top row down, plus the markers.

    Raises
    ------
    ValueError
        If a required column is missing, ``metric`` matches no row, a lower
        bound exceeds its upper bound, or ``confidence`` is not in (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    cols = _columns(table)
    if metric is not None:
        if "metric" not in cols:
            raise ValueError("metric: the table has no 'metric' column to filter on")
        keep = cols["metric"] == metric
        if not keep.any():
            raise ValueError(f"metric: no rows with metric {metric!r}")
        cols = {k: v[keep] for k, v in cols.items()}
    est_col = _pick(cols, estimate, ("diff", "mean_diff", "difference", "estimate", "mean"),
                    "estimate")
    lo_col = _pick(cols, low, ("ci_low", "low", "lower", "ci_lower"), "low")
    hi_col = _pick(cols, high, ("ci_high", "high", "upper", "ci_upper"), "high")
    if policy not in cols:
        raise ValueError(f"policy: column {policy!r} not in the table (has {sorted(cols)})")
    pol = cols[policy].astype(str)
    n_rows = len(pol)
    seg = cols[segment].astype(str) if segment in cols else np.full(n_rows, "all customers")
    est = np.asarray(cols[est_col], dtype=float)
    lo = np.asarray(cols[lo_col], dtype=float)
    hi = np.asarray(cols[hi_col], dtype=float)
    test_cols = dict(cols)
    test_cols.setdefault("low", lo)
    test_cols.setdefault("high", hi)
    significant, test = _significance(test_cols, confidence)
    keep = np.ones(n_rows, dtype=bool) if baseline is None else pol != baseline
    if np.any(lo[keep] > hi[keep]):
        raise ValueError(f"table: a lower bound {lo_col!r} exceeds its upper bound {hi_col!r}")

    segments = _unique_in_order(seg[keep])
    rows: list[tuple[float, int]] = []  # (y, row index)
    headers: list[tuple[float, str]] = []
    y = 0.0
    for s in segments:
        headers.append((y, s))
        y -= 1.0
        members = np.flatnonzero(keep & (seg == s))
        if sort:
            members = members[np.argsort(-np.nan_to_num(est[members], nan=-np.inf),
                                         kind="stable")]
        for row in members:
            rows.append((y, int(row)))
            y -= 1.0
        y -= 0.5
    ax = _new_axes(ax, (7.5, max(2.5, 0.3 * (len(rows) + len(headers)) + 1.6)))
    ax.axvline(0.0, color="0.3", lw=1.0)
    kinds_drawn: set[str] = set()
    for k, (yy, i) in enumerate(rows):
        if k % 2 == 0:
            ax.axhspan(yy - 0.5, yy + 0.5, color="0.5", alpha=0.07, lw=0)
        if significant[i] and est[i] > 0:
            kind, color, marker = "better", _GOOD, _MARK_GOOD
        elif significant[i] and est[i] < 0:
            kind, color, marker = "worse", _BAD, _MARK_BAD
        else:
            kind, color, marker = "none", _NEUTRAL, _MARK_NEUTRAL
        kinds_drawn.add(kind)
        ax.plot([lo[i], hi[i]], [yy, yy], color=color, lw=2.0, label="_ci")
        ax.plot(est[i], yy, marker=marker, ms=8, color=color,
                mfc="white" if kind == "none" else color, mew=1.5, ls="none",
                label="_estimate")
        if annotate and np.isfinite(est[i]):
            ax.annotate(f"{est[i]:+.2f}", (1.0, yy), xycoords=("axes fraction", "data"),
                        xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=8, color=color)
    ax.set_yticks([yy for yy, _ in rows], [pol[i] for _, i in rows], fontsize=9)
    for yy, s in headers:
        ax.text(-0.01, yy, s, transform=ax.get_yaxis_transform(), ha="right", va="center",
                fontweight="bold", fontsize=10,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
    ax.set_ylim(y + 0.5, 0.8)
    ax.tick_params(axis="y", length=0)
    name = baseline or "baseline"
    if xlabel is None:
        xlabel = f"difference in remembered value vs {name} (affect points, {confidence:.0%} CI)"
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    from matplotlib.lines import Line2D

    legend = [
        Line2D([], [], color=_GOOD, marker=_MARK_GOOD, ms=8, lw=2.0,
               label=f"better than {name}"),
        Line2D([], [], color=_BAD, marker=_MARK_BAD, ms=8, lw=2.0, label=f"worse than {name}"),
        Line2D([], [], color=_NEUTRAL, marker=_MARK_NEUTRAL, ms=8, mfc="white", lw=2.0,
               label="no significant difference"),
    ]
    _legend_below(ax, legend, title=f"filled = significant ({test})", ncol=3)
    ax.set_title("Paired policy differences per segment (sorted by effect)")
    return ax


# ------------------------------------------------------------------ cost vs value


def pareto_frontier(cost: Sequence[float] | np.ndarray,
                    value: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return the indices of the policies no other policy beats on both cost and value.

    A policy is on the frontier when no other policy costs at most as much and
    gives a strictly higher value, or costs strictly less for at least the same
    value: the same definition as :func:`peakend.stats.pareto_efficient`, which
    marks the ``efficient`` column of ``Results.pareto()`` (so the plot and the
    tables always agree; exact duplicates are all on the frontier, options with
    an infinite cost or value never are).

    Parameters
    ----------
    cost : array of float
        Cost of each policy (currency units; lower is better).
    value : array of float
        Remembered value of each policy (affect points; higher is better).

    Returns
    -------
    numpy.ndarray of int
        Indices of the frontier policies, sorted by increasing cost.

    Raises
    ------
    ValueError
        If the arrays differ in length or contain NaN.
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    if c.shape != v.shape or c.ndim != 1:
        raise ValueError(f"cost, value: must be 1-D of equal length, got {c.shape}, {v.shape}")
    if np.isnan(c).any() or np.isnan(v).any():
        raise ValueError("cost, value: must not contain NaN")
    from peakend.stats import pareto_efficient

    front = np.flatnonzero(pareto_efficient(c, v))
    order = np.lexsort((-v[front], c[front]))  # by cost, then best value first
    return np.asarray(front[order], dtype=np.int64)


def cost_value_pareto(
    cost: Sequence[float] | np.ndarray,
    value: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    value_err: Sequence[float] | np.ndarray | None = None,
    currency: str | None = None,
    xlabel: str | None = None,
    ylabel: str = "mean remembered value (affect points)",
    ax: Axes | None = None,
) -> Axes:
    """Scatter cost against remembered value and highlight the Pareto frontier.

    Parameters
    ----------
    cost : array of float
        Cost of each policy (currency units, e.g. per day).
    value : array of float
        Remembered value of each policy (affect points; higher is better).
    labels : sequence of str, optional
        Policy names written next to the points.
    value_err : array of float, optional
        Half-width of the confidence interval of each value (affect points), drawn
        as vertical error bars.
    currency : str, optional
        The scenario's currency (``Scenario.currency``, e.g. ``"CNY"``), written
        on the cost axis; default "currency units".
    xlabel : str, optional
        Cost axis label; default ``"cost (<currency> per day)"``.
    ylabel : str
        Value axis label (state the unit).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Frontier points are drawn as filled diamonds with label
        ``"Pareto frontier"``, the others as hollow grey circles with label
        ``"dominated"`` (shape and colour both tell them apart).

    Raises
    ------
    ValueError
        If the arrays differ in length or contain NaN.
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    front = pareto_frontier(c, v)
    if labels is not None and len(labels) != len(c):
        raise ValueError(f"labels: need {len(c)} labels, got {len(labels)}")
    on_front = np.zeros(len(c), dtype=bool)
    on_front[front] = True
    ax = _new_axes(ax, (7.0, 4.8))
    if value_err is not None:
        err = np.asarray(value_err, dtype=float)
        if err.shape != c.shape:
            raise ValueError(f"value_err: need shape {c.shape}, got {err.shape}")
        ax.errorbar(c, v, yerr=err, fmt="none", color="0.6", ecolor="0.6", elinewidth=1,
                    capsize=3)
    ax.plot(c[front], v[front], color=_FRONTIER, lw=2, zorder=2)
    if (~on_front).any():
        ax.plot(c[~on_front], v[~on_front], "o", color="0.45", mfc="white", mew=1.5, ms=8,
                label="dominated", zorder=3)
    ax.plot(c[front], v[front], "D", color=_FRONTIER, ms=9, mec="black",
            label="Pareto frontier", zorder=4)
    ax.margins(x=0.15, y=0.15)
    if xlabel is None:
        xlabel = f"cost ({currency or 'currency units'} per day)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    legend = ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Cost vs remembered value (up and left is better)")
    if labels is not None:
        # fix the limits and the layout, then place labels where they cover neither
        # each other, the legend nor a point
        ax.autoscale_view()
        ax.set_xlim(ax.get_xlim())
        ax.set_ylim(ax.get_ylim())
        _root_figure(ax).draw_without_rendering()
        from matplotlib.transforms import Bbox

        renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
        pixels = ax.transData.transform(np.column_stack([c, v]))
        placed: list[Any] = [(Bbox([[px - 5, py - 5], [px + 5, py + 5]]), 10.0)
                             for px, py in pixels]
        placed.append((legend.get_window_extent(renderer), 10.0))
        near = [(7, 5, "left", "bottom"), (7, -5, "left", "top"),
                (-7, 5, "right", "bottom"), (-7, -5, "right", "top"),
                (0, 9, "center", "bottom"), (0, -9, "center", "top")]
        far = [(dx * 3, dy * 3, ha, va) for dx, dy, ha, va in near]
        order = np.concatenate([np.flatnonzero(on_front), np.flatnonzero(~on_front)])
        for i in order:
            _place_label(ax, placed, str(labels[i]), (float(c[i]), float(v[i])),
                         "black" if on_front[i] else "0.35", near + far,
                         bold=bool(on_front[i]), fontsize=9, leader_from=len(near))
    return ax


# ------------------------------------------------------------------- rule rankings


def rule_rankings(
    scores: Any,
    *,
    higher_is_better: bool = True,
    annotate_values: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Bump chart of how policy rankings change from one memory rule to the next.

    Parameters
    ----------
    scores : mapping, DataFrame or Table
        ``{rule: {policy: value}}``, a DataFrame with one row per policy (index)
        and one column per rule, or a table with a ``policy`` column and one
        column per rule. Values are each rule's mean remembered value of the
        policy (each rule has its own scale: the integral is in affect x
        minutes, the others in affect points), so only ranks are compared.
        ``Results.rankings()`` (ranks, 1 = best) works with
        ``higher_is_better=False``.
    higher_is_better : bool
        Rank 1 is the highest value (default) or the lowest.
    annotate_values : bool
        Write each value next to its point.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One ``Line2D`` per policy, labelled with the policy name. Policies whose
        rank changes between rules are drawn thick, the others thin.

    Raises
    ------
    ValueError
        If fewer than one rule or policy is given, or a policy lacks a rule's value.
    """
    if (hasattr(scores, "columns") and "policy" in list(scores.columns)) or (
            isinstance(scores, Mapping) and "policy" in scores):
        cols = _columns(scores)
        policies = [str(p) for p in cols.pop("policy")]
        rules = list(cols)
        m = np.array([np.asarray(cols[r], dtype=float) for r in rules]).reshape(
            len(rules), len(policies))
    elif hasattr(scores, "columns") and hasattr(scores, "index"):
        rules = [str(c) for c in scores.columns]
        policies = [str(i) for i in scores.index]
        m = np.asarray(scores.to_numpy(), dtype=float).T  # rules x policies
    elif isinstance(scores, Mapping):
        rules = [str(r) for r in scores]
        if not rules:
            raise ValueError("scores: give at least one rule")
        policies = _unique_in_order(str(p) for inner in scores.values() for p in inner)
        m = np.full((len(rules), len(policies)), np.nan)
        for a, inner in enumerate(scores.values()):
            for p, val in inner.items():
                m[a, policies.index(str(p))] = float(val)
    else:
        raise ValueError(f"scores: expected a mapping or a DataFrame, got {type(scores).__name__}")
    if not rules or not policies:
        raise ValueError("scores: give at least one rule and one policy")
    if np.isnan(m).any():
        a, b = np.argwhere(np.isnan(m))[0]
        raise ValueError(f"scores: policy {policies[b]!r} has no value for rule {rules[a]!r}")
    # rank 1 = best; ties keep the given policy order
    ranks = np.empty_like(m)
    for a in range(len(rules)):
        order = np.argsort(-m[a] if higher_is_better else m[a], kind="stable")
        ranks[a, order] = np.arange(1, len(policies) + 1)
    x = np.arange(len(rules))
    colors = _colors(len(policies))
    ax = _new_axes(ax, (2.5 + 1.6 * len(rules), 1.5 + 0.45 * len(policies)))
    for b, p in enumerate(policies):
        changes = bool(np.ptp(ranks[:, b]) > 0)
        ax.plot(x, ranks[:, b], "-", marker=_shape(b), color=colors[b],
                lw=3.0 if changes else 1.2,
                ms=9 if changes else 6, alpha=1.0 if changes else 0.6, label=p)
        ax.annotate(p, (x[-1], ranks[-1, b]), xytext=(10, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=9, color=colors[b],
                    fontweight="bold" if changes else "normal")
        ax.annotate(p, (x[0], ranks[0, b]), xytext=(-10, 0), textcoords="offset points",
                    va="center", ha="right", fontsize=9, color=colors[b])
        if annotate_values:
            for a in range(len(rules)):
                ax.annotate(f"{m[a, b]:.2g}", (x[a], ranks[a, b]), xytext=(0, -12),
                            textcoords="offset points", ha="center", va="top", fontsize=7,
                            color="0.3")
    ax.set_xticks(x, rules)
    ax.set_yticks(np.arange(1, len(policies) + 1))
    ax.set_ylim(len(policies) + 0.6, 0.4)
    ax.set_xlim(-0.9, len(rules) - 1 + 0.9)
    ax.set_xlabel("memory rule")
    ax.set_ylabel("policy rank (1 = best remembered)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Policy rankings under different memory rules (thick = rank changes)")
    return ax
