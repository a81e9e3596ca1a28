"""Figures for journeys, experiments and memory rules (matplotlib).

Every function takes plain data (a :class:`~peakend.journeys.Journeys`, numpy
arrays, a mapping or a pandas DataFrame), draws on the Axes passed as ``ax`` (or on
a new figure when ``ax`` is None) and returns that Axes. No function calls
``plt.show()``: the caller decides whether to show, save or close the figure.
``matplotlib.pyplot`` is imported only inside the functions, so importing this
module is cheap.

Units follow the library conventions: times in minutes (from opening, or from the
customer's arrival), affect and remembered values on the -10..10 affect scale
(0 means "exactly as expected"), costs in currency units (the scenario's currency
where the figure knows it).

Every colour comes from the colour-blind-safe Okabe-Ito palette (:data:`OKABE_ITO`):
blue for better, vermillion for worse, grey for no difference, and meaning carried by
shape too (▲ better, ▼ worse, ○ not significant). Significance is one notion
throughout, Holm-adjusted (:func:`is_significant`), as in the tables and the command
line. :class:`ResultsPlot` and :class:`JourneysPlot` draw the usual figures of a
``Results`` or a ``Journeys`` in one call (``ResultsPlot(results).compare()``).

Examples
--------
>>> import numpy as np
>>> from peakend import plots
>>> ax = plots.cost_value_pareto([100.0, 150.0, 120.0], [-1.0, 0.5, -1.5],
...                              labels=["base", "extra teller", "gift"])
>>> plots.pareto_frontier([100.0, 150.0, 120.0], [-1.0, 0.5, -1.5]).tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

__all__ = [
    "AFFECT_LABEL",
    "OKABE_ITO",
    "JourneysPlot",
    "ResultsPlot",
    "cost_value_pareto",
    "hall_queue",
    "is_significant",
    "journey_map",
    "moments_of_truth",
    "pareto_frontier",
    "policy_comparison",
    "remembered_distribution",
    "rule_rankings",
]

#: Axis label used for affect and remembered values.
AFFECT_LABEL = "affect (experience − expectation, −10..10)"
_REMEMBERED_LABEL = "remembered value (−10..10)"
#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
#: deficiency; every figure of this module draws its categories from it, in this order.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
"""The Okabe-Ito palette (hex colours): blue, orange, bluish green, reddish purple, sky blue,
vermillion, yellow, black; safe for every common colour-vision deficiency."""
#: Better than the baseline / than expected (Okabe-Ito blue).
_GOOD = "#0072B2"
#: Worse (Okabe-Ito vermillion): blue against vermillion stays distinct for every deficiency.
_BAD = "#D55E00"
_NEUTRAL = "#7f7f7f"
_FRONTIER = "#009E73"
#: Markers that repeat the meaning of colour: better, worse, no significant difference.
_MARK_GOOD, _MARK_BAD, _MARK_NEUTRAL = "^", "v", "o"
#: Marker shapes cycled with the colours when there are more categories than colours.
_SHAPES = ("o", "s", "D", "^", "v", "P", "X", "*")


# --------------------------------------------------------------------------- helpers


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """Return ``ax`` or the Axes of a new pyplot figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _colors(n: int) -> list[Any]:
    """Return ``n`` colours of the Okabe-Ito palette (yellow last: it is faint on white).

    More than seven categories repeat colours; callers then vary the marker
    (:func:`_shape`) so that no two categories look alike.
    """
    usable = [c for c in OKABE_ITO if c != "#F0E442"]
    return [usable[i % len(usable)] for i in range(n)]


def _shape(i: int) -> str:
    """Marker of category ``i``: changes every time the colours wrap around."""
    return _SHAPES[(i // 7) % len(_SHAPES)]


def _diverging_cmap() -> Any:
    """Vermillion - white - blue colour map (colour-blind safe), for signed shares."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("peakend_diverging", [_BAD, "#FFFFFF", _GOOD])


def is_significant(table: Any, *, confidence: float = 0.95) -> np.ndarray:
    """Which rows of a comparison table are significant, after Holm's adjustment.

    The one notion of significance of peakend: the ``significant`` column of
    ``Results.compare()`` when the table has it, else ``p_holm < 1 - confidence``
    (Holm-adjusted p-values across the policies compared), else, for a table
    without p-values, the confidence interval excluding zero (``low > 0`` or
    ``high < 0``; unadjusted, so only for hand-made tables).

    Parameters
    ----------
    table : DataFrame, Table, mapping of columns or list of records
        Rows of paired differences, e.g. ``Results.compare(...)``.
    confidence : float, default 0.95
        Confidence level in (0, 1); the test level is ``1 - confidence``.

    Returns
    -------
    numpy.ndarray of bool
        One flag per row.

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1) or the table has none of the columns.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    cols = _columns(table)
    return _significance(cols, confidence)[0]


def _significance(cols: Mapping[str, np.ndarray], confidence: float) -> tuple[np.ndarray, str]:
    """Return the flags and a short description of the test used (for legends)."""
    if "significant" in cols:
        return np.asarray(cols["significant"], dtype=bool), "Holm-adjusted"
    if "p_holm" in cols:
        p = np.asarray(cols["p_holm"], dtype=float)
        return np.nan_to_num(p, nan=1.0) < 1.0 - confidence, f"Holm p < {1 - confidence:.2g}"
    lo_name = next((c for c in ("ci_low", "low", "lower", "ci_lower") if c in cols), None)
    hi_name = next((c for c in ("ci_high", "high", "upper", "ci_upper") if c in cols), None)
    if lo_name is None or hi_name is None:
        raise ValueError("table: needs a 'significant', 'p_holm' or low/high interval column")
    lo = np.asarray(cols[lo_name], dtype=float)
    hi = np.asarray(cols[hi_name], dtype=float)
    return (lo > 0) | (hi < 0), "CI excludes 0, unadjusted"


def _columns(data: Any) -> dict[str, np.ndarray]:
    """Turn a DataFrame, a mapping of columns or a list of records into numpy columns."""
    if hasattr(data, "columns") and hasattr(data, "reset_index"):  # pandas DataFrame
        frame = data.reset_index() if _has_named_index(data) else data
        return {str(c): np.asarray(frame[c]) for c in frame.columns}
    if (hasattr(data, "columns") and hasattr(data, "__getitem__")
            and not isinstance(data, Mapping)):  # peakend.experiment.Table
        return {str(c): np.asarray(data[c]) for c in data.columns}
    if isinstance(data, Mapping):
        cols = {str(k): np.asarray(v) for k, v in data.items()}
        lengths = {len(v) for v in cols.values() if v.ndim == 1}
        if len(lengths) > 1:
            raise ValueError(f"data: all columns must have the same length, got {sorted(lengths)}")
        return cols
    if isinstance(data, Sequence) and data and isinstance(data[0], Mapping):
        keys = list(data[0].keys())
        return {str(k): np.asarray([row[k] for row in data]) for k in keys}
    raise ValueError(
        "data: expected a pandas DataFrame, a mapping of equal-length columns or a list of "
        f"records, got {type(data).__name__}"
    )


def _has_named_index(frame: Any) -> bool:
    names = getattr(frame.index, "names", [None])
    return any(n is not None for n in names)


def _pick(cols: Mapping[str, np.ndarray], wanted: str | None, candidates: Sequence[str],
          what: str) -> str:
    """Return the column named ``wanted``, or the first of ``candidates`` present."""
    if wanted is not None:
        if wanted not in cols:
            raise ValueError(f"{what}: column {wanted!r} not in the data (has {sorted(cols)})")
        return wanted
    for name in candidates:
        if name in cols:
            return name
    raise ValueError(
        f"{what}: none of the columns {list(candidates)} found (data has {sorted(cols)}); "
        f"pass the column name explicitly"
    )


def _root_figure(ax: Axes) -> Any:
    """Return the top-level Figure of ``ax`` (also when it sits in a SubFigure)."""
    fig: Any = ax.figure
    return getattr(fig, "figure", fig) or fig


def _legend_below(ax: Axes, handles: Sequence[Any], *, title: str | None = None,
                  ncol: int = 3, drop: float = 34.0) -> Any:
    """Put a legend under the x-axis label, ``drop`` points below the Axes (no overlap)."""
    from matplotlib.transforms import ScaledTranslation

    below = ax.transAxes + ScaledTranslation(0, -drop / 72, ax.figure.dpi_scale_trans)
    return ax.legend(handles=handles, title=title, fontsize=8, title_fontsize=8,
                     loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
                     ncol=ncol, frameon=False)


def _unique_in_order(values: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _minutes_formatter(opening: str | float | None) -> Callable[[float, Any], str] | None:
    """Return a tick formatter that prints minutes from opening as clock time hh:mm."""
    if opening is None:
        return None
    if isinstance(opening, str):
        try:
            hours, minutes = (int(p) for p in opening.split(":"))
        except ValueError as exc:
            raise ValueError(f"opening: expected a clock time 'hh:mm', got {opening!r}") from exc
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(
                f"opening: hours must be in 0..23 and minutes in 0..59, got {opening!r}")
        start = 60 * hours + minutes
    else:
        if not 0 <= float(opening) < 24:
            raise ValueError(f"opening: clock hours must be in [0, 24), got {opening!r}")
        start = round(60 * float(opening))

    def fmt(x: float, _pos: Any = None) -> str:
        total = round(start + x)
        return f"{(total // 60) % 24:02d}:{total % 60:02d}"

    return fmt


# ------------------------------------------------------------------------ journey map


def _peak_index(affect: np.ndarray) -> int:
    """Index of the affect of largest magnitude; a tie between +x and -x goes to -x."""
    magnitude = np.abs(affect)
    candidates = np.flatnonzero(magnitude == magnitude.max())
    return int(candidates[np.argmin(affect[candidates])])


def journey_map(
    journeys: Any,
    customers: Sequence[int] | int | None = None,
    *,
    rule: Any = None,
    time: str = "arrival",
    label_touchpoints: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Draw the affect of one or several customers over their visit.

    Each episode (touchpoint) is a flat segment at its momentary affect
    ``v(experience - expectation)``, from its start to its end. The zero line is
    the expectation: above it the visit was better than expected, below it worse.
    The peak (the moment of largest magnitude, bad winning a tie) and the end
    (the last episode) are marked, and the remembered value is drawn as a dashed
    line and written at the right of each journey.

    Parameters
    ----------
    journeys : Journeys
        Simulated journeys (see :class:`peakend.journeys.Journeys`). Uses the
        ``offsets`` and the episode columns ``touchpoint``, ``start``, ``end``,
        ``affect``, and the customer columns ``arrival``, ``segment`` and
        ``remembered``.
    customers : int or sequence of int, optional
        Row indices of the customers to draw (0 .. n_customers-1). Default: the
        first customer. More than about four customers make the figure hard to read.
    rule : str or rule object, optional
        Memory rule for the remembered value (passed to ``journeys.score``).
        Default: the ``remembered`` column (the scenario's default rule).
    time : {"arrival", "opening"}
        Time axis: minutes since each customer's arrival (aligns customers, the
        default) or minutes from the branch's opening.
    label_touchpoints : bool
        Write the touchpoint name above or below each episode.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on. One ``Line2D`` per customer carries the episodes as
        flat segments separated by NaN (its label starts with ``"customer"``);
        thin connectors (label ``"_connector"``) join consecutive episodes.

    Raises
    ------
    ValueError
        If a customer index is outside 0 .. n_customers-1, a customer has no
        episodes, or ``time`` is not one of the allowed values.
    """
    if time not in ("arrival", "opening"):
        raise ValueError(f"time: must be 'arrival' or 'opening', got {time!r}")
    offsets = np.asarray(journeys.offsets)
    n = len(offsets) - 1
    if customers is None:
        idx = [0]
    elif isinstance(customers, int | np.integer):
        idx = [int(customers)]
    else:
        idx = [int(c) for c in customers]
    if not idx:
        raise ValueError("customers: give at least one customer index")
    for c in idx:
        if not 0 <= c < n:
            raise ValueError(f"customers: index {c} outside 0..{n - 1}")

    ep = journeys.episodes
    cust = journeys.customers
    touchpoint_names = list(journeys.touchpoints)
    segment_names = list(journeys.segments)
    if rule is None:
        remembered = np.asarray(cust["remembered"], dtype=float)
        rule_text = "remembered"
    else:
        remembered = np.asarray(journeys.score(rule), dtype=float)
        rule_name = getattr(rule, "label", rule)
        rule_text = f"remembered ({rule_name})"

    ax = _new_axes(ax, (9.0, 5.0))
    ax.axhspan(0, 11, color=_GOOD, alpha=0.05, lw=0)
    ax.axhspan(-11, 0, color=_BAD, alpha=0.05, lw=0)
    ax.axhline(0.0, color="0.3", lw=1.0, label="expectation met (affect 0)")
    colors = _colors(len(idx))
    x_right = 0.0
    drawn: list[tuple[Any, ...]] = []
    for color, c in zip(colors, idx, strict=True):
        s, e = int(offsets[c]), int(offsets[c + 1])
        if e <= s:
            raise ValueError(f"customers: customer {c} has no episodes to draw")
        start = np.asarray(ep["start"][s:e], dtype=float)
        end = np.asarray(ep["end"][s:e], dtype=float)
        affect = np.asarray(ep["affect"][s:e], dtype=float)
        tps = np.asarray(ep["touchpoint"][s:e])
        t0 = float(cust["arrival"][c]) if time == "arrival" else 0.0
        start, end = start - t0, end - t0
        # one flat segment per episode (NaN breaks: episodes may overlap in time, e.g.
        # the lounge while queueing), joined by thin connectors in journey order
        xs = np.column_stack([start, end, np.full_like(start, np.nan)]).ravel()[:-1]
        ys = np.column_stack([affect, affect, np.full_like(affect, np.nan)]).ravel()[:-1]
        seg = segment_names[int(cust["segment"][c])]
        value = float(remembered[c])
        ax.plot(xs, ys, color=color, lw=2.6, solid_capstyle="butt",
                label=f"customer {c} ({seg}): {rule_text} {value:+.1f}")
        if len(affect) > 1:
            cx = np.column_stack([end[:-1], start[1:], np.full(len(affect) - 1, np.nan)])
            cy = np.column_stack([affect[:-1], affect[1:], np.full(len(affect) - 1, np.nan)])
            ax.plot(cx.ravel(), cy.ravel(), color=color, lw=0.8, alpha=0.6,
                    label="_connector")
        # peak and end
        k = _peak_index(affect)
        mid = 0.5 * (start + end)
        ax.plot(mid[k], affect[k], marker="o", ms=11, color=color, mfc="none", mec=color,
                mew=2.0, ls="none", zorder=5)
        ax.plot(mid[-1], affect[-1], marker="s", ms=9, color=color, ls="none", zorder=5)
        ax.plot([start[0], end[-1]], [value, value], color=color, lw=1.2, ls="--")
        drawn.append((start, end, affect, tps, k, value, color))
        x_right = max(x_right, float(end[-1]))

    ax.set_ylim(-11, 11)
    left = ax.get_xlim()[0]
    ax.set_xlim(left, x_right + 0.14 * (x_right - left) + 1.0)
    ax.set_xlabel("minutes since arrival" if time == "arrival" else "minutes from opening")
    ax.set_ylabel(AFFECT_LABEL)
    ax.text(0.005, 0.98, "better than expected", transform=ax.transAxes, va="top",
            fontsize=8, color=_GOOD)
    ax.text(0.005, 0.02, "worse than expected", transform=ax.transAxes, va="bottom",
            fontsize=8, color=_BAD)
    ax.set_title("Journey map: ○ peak, ■ end, dashed line = remembered value")
    legend = ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    # fix the layout first (a layout engine moves the Axes when the figure is drawn), so
    # that the labels, placed in display space and kept out of the layout, stay apart
    _root_figure(ax).draw_without_rendering()
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    # labels avoid each other, the legend and corner notes, and the drawn lines
    from matplotlib.transforms import Bbox

    to_display = ax.transData.transform
    placed: list[Any] = [(legend.get_window_extent(renderer), 10.0)]
    placed += [(t.get_window_extent(renderer), 10.0) for t in ax.texts]
    for start, end, affect, _, _, value, _ in drawn:
        for x0, x1, y in [*zip(start, end, affect, strict=True),
                          (start[0], end[-1], value)]:
            (px0, py), (px1, _) = to_display([(x0, y), (x1, y)])
            placed.append((Bbox([[px0, py - 1.5], [px1, py + 1.5]]), 1.0))
    # first what matters most (remembered value, end, peak) for every customer...
    for start, end, affect, tps, k, value, color in drawn:
        box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": color, "lw": 0.8}
        note = ax.annotate(f"{value:+.1f}", (end[-1], value), xytext=(34, 0),
                           textcoords="offset points", ha="left", va="center", fontsize=9,
                           color=color, bbox=box, annotation_clip=False)
        note.set_in_layout(False)
        placed.append((note.get_window_extent(renderer), 10.0))
        _place_label(ax, placed, "end", (float(end[-1]), float(affect[-1])), color,
                     [(6, 0, "left", "center"), (6, 10, "left", "bottom"),
                      (6, -10, "left", "top"), (6, 20, "left", "bottom"),
                      (6, -20, "left", "top")], bold=True)
        name = str(touchpoint_names[int(tps[k])]) if label_touchpoints else ""
        _place_label(ax, placed, f"{name} · peak" if name else "peak",
                     (float(0.5 * (start[k] + end[k])), float(affect[k])), color,
                     _label_candidates(affect[k]), bold=True)
    # ...then the other touchpoints' names, left out where they would cover other text
    if label_touchpoints:
        for start, end, affect, tps, k, _, color in drawn:
            mid = 0.5 * (start + end)
            for i in range(len(affect)):
                if i != k:
                    _place_label(ax, placed, str(touchpoint_names[int(tps[i])]),
                                 (float(mid[i]), float(affect[i])), color,
                                 _label_candidates(affect[i]), optional=True)
    return ax


def _label_candidates(affect: float) -> list[tuple[float, float, str, str]]:
    """Offsets (points) to try for an episode's label: away from zero first, then across."""
    sign = 1 if affect >= 0 else -1
    out: list[tuple[float, float, str, str]] = [
        (0.0, sign * d, "center", "bottom" if sign > 0 else "top") for d in (9, 20, 31, 42)]
    out += [(0.0, -sign * d, "center", "top" if sign > 0 else "bottom") for d in (9, 20)]
    out += [(dx, sign * d, "left" if dx > 0 else "right", "bottom" if sign > 0 else "top")
            for d in (9, 24) for dx in (14.0, -14.0)]
    return out


def _place_label(ax: Axes, placed: list[Any], text: str, xy: tuple[float, float], color: Any,
                 candidates: Sequence[tuple[float, float, str, str]], *,
                 bold: bool = False, fontsize: float = 8, leader_from: int = 1,
                 optional: bool = False) -> bool:
    """Annotate ``xy`` at the candidate offset that collides least with what is drawn.

    ``placed`` holds ``(display-space box, weight)`` pairs: labels already drawn
    (weight 10: text must not cover text) and drawn lines (weight 1: a label with
    a white background may sit on a line). A candidate's cost is the summed weight
    of what it overlaps plus 0.6 per step away from the preferred position; the
    new label's box is appended. A label placed at candidate ``leader_from`` or
    later gets a thin leader line to its point; a label crossing the Axes frame costs
    5. An ``optional`` label that would cover another label at every candidate is
    left out. Labels are kept out of
    the figure's layout (they must not move the Axes once placed). Returns
    whether the label was drawn.
    """
    from matplotlib.text import Text

    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    style = {"fontsize": fontsize, "color": color, "fontweight": "bold" if bold else "normal",
             "bbox": {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                      "alpha": 0.75}}
    frame = ax.get_window_extent(renderer)
    best: tuple[float, int, Any] | None = None  # (cost, candidate index, extent)
    for k, (dx, dy, ha, va) in enumerate(candidates):
        probe = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha,
                            va=va, **style)
        probe.update_positions(renderer)
        extent = Text.get_window_extent(probe, renderer).expanded(1.04, 1.1)
        probe.remove()
        hits = [w for other, w in placed if extent.overlaps(other)]
        cost = 0.6 * k + sum(hits) + 100.0 * optional * any(w >= 10.0 for w in hits)
        if not (frame.x0 <= extent.x0 and extent.x1 <= frame.x1
                and frame.y0 <= extent.y0 and extent.y1 <= frame.y1):
            cost += 5.0  # a label crossing the frame would cover the axis and its ticks
        if best is None or cost < best[0]:
            best = (cost, k, extent)
        if cost == 0:
            break
    assert best is not None
    cost, k, extent = best
    if cost >= 100.0:  # an optional label that covers text wherever it goes
        return False
    dx, dy, ha, va = candidates[k]
    arrow = None
    if k >= leader_from:
        arrow = {"arrowstyle": "-", "color": color, "lw": 0.6, "alpha": 0.6,
                 "shrinkA": 0, "shrinkB": 1}
    label = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                        arrowprops=arrow, annotation_clip=False, **style)
    label.set_in_layout(False)
    placed.append((extent, 10.0))
    return True


# ---------------------------------------------------------------- distributions


def _groups_from_data(
    data: Any, *, value: str | None, segment: str, policy: str, metric: str | None,
) -> dict[tuple[str, str], np.ndarray]:
    """Normalise the inputs of :func:`remembered_distribution` to {(policy, segment): values}."""
    if isinstance(data, Mapping) and data and not hasattr(data, "columns"):
        first = next(iter(data.values()))
        if isinstance(first, Mapping):  # {policy: {segment: values}}
            return {(str(p), str(s)): np.asarray(v, dtype=float).ravel()
                    for p, inner in data.items() for s, v in inner.items()}
        keys = list(data.keys())
        if all(isinstance(k, tuple) and len(k) == 2 for k in keys):  # {(policy, segment): v}
            return {(str(k[0]), str(k[1])): np.asarray(v, dtype=float).ravel()
                    for k, v in data.items()}
        if not {segment, policy} & {str(k) for k in keys}:  # {segment: values}
            return {("", str(k)): np.asarray(v, dtype=float).ravel() for k, v in data.items()}
    cols = _columns(data)
    if metric is not None:
        if "metric" not in cols:
            raise ValueError("metric: the data has no 'metric' column to filter on")
        keep = cols["metric"] == metric
        if not keep.any():
            found = sorted({str(m) for m in cols["metric"]})
            raise ValueError(f"metric: no rows with metric {metric!r} (found {found})")
        cols = {k: v[keep] for k, v in cols.items()}
    value_col = _pick(cols, value, ("value", "remembered"), "value")
    seg = cols[segment].astype(str) if segment in cols else np.full(len(cols[value_col]), "all")
    pol = cols[policy].astype(str) if policy in cols else np.full(len(cols[value_col]), "")
    vals = np.asarray(cols[value_col], dtype=float)
    out: dict[tuple[str, str], np.ndarray] = {}
    for p in _unique_in_order(pol):
        for s in _unique_in_order(seg):
            sel = (pol == p) & (seg == s)
            if sel.any():
                out[(p, s)] = vals[sel]
    return out


def remembered_distribution(
    data: Any,
    *,
    value: str | None = None,
    segment: str = "segment",
    policy: str = "policy",
    metric: str | None = None,
    order: Sequence[str] | None = None,
    ylabel: str = _REMEMBERED_LABEL,
    ax: Axes | None = None,
) -> Axes:
    """Box plots of remembered values per segment, one box per policy.

    Parameters
    ----------
    data : DataFrame, mapping or list of records
        One of:

        * a tidy frame with a value column (``value`` or ``remembered``), and
          optionally ``segment``, ``policy`` and ``metric`` columns, e.g.
          ``Results.to_pandas()`` (filter with ``metric``) or
          ``journeys.to_pandas()`` (one row per customer);
        * ``{policy: {segment: values}}``;
        * ``{(policy, segment): values}``;
        * ``{segment: values}`` (a single policy).
    value : str, optional
        Name of the value column; default ``value``, else ``remembered``.
    segment, policy : str
        Names of the grouping columns. A missing column means one group.
    metric : str, optional
        Keep only rows whose ``metric`` column equals this (tidy experiment rows).
    order : sequence of str, optional
        Segments to draw, in this order (default: order of first appearance).
    ylabel : str
        Label of the value axis (give the unit when plotting another metric).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One box (a ``PathPatch``) per (policy, segment) group with data; the
        white diamonds are the group means.

    Raises
    ------
    ValueError
        If the data has no usable value column, or ``metric`` matches no row.
    """
    groups = _groups_from_data(data, value=value, segment=segment, policy=policy,
                               metric=metric)
    if not groups:
        raise ValueError("data: no values to plot")
    policies = _unique_in_order(p for p, _ in groups)
    segments = _unique_in_order(s for _, s in groups)
    if order is not None:
        missing = [s for s in order if s not in segments]
        if missing:
            raise ValueError(f"order: segment(s) {missing} not in the data (has {segments})")
        segments = [str(s) for s in order]
    n_pol = len(policies)
    width = 0.8 / n_pol
    colors = _colors(n_pol)
    ax = _new_axes(ax, (max(5.0, 1.2 + 1.1 * len(segments) * max(n_pol, 1) ** 0.7), 4.5))
    ax.axhline(0.0, color="0.3", lw=0.8, ls=":")
    for i, p in enumerate(policies):
        pos, vals = [], []
        for j, s in enumerate(segments):
            v = groups.get((p, s))
            if v is None:
                continue
            v = v[np.isfinite(v)]
            if v.size == 0:
                continue
            pos.append(j + (i - (n_pol - 1) / 2) * width)
            vals.append(v)
        if not vals:
            continue
        bp = ax.boxplot(vals, positions=pos, widths=width * 0.85, patch_artist=True,
                        showmeans=True, manage_ticks=False,
                        meanprops={"marker": "D", "markerfacecolor": "white",
                                   "markeredgecolor": "black", "markersize": 5},
                        medianprops={"color": "black"},
                        flierprops={"marker": ".", "markersize": 3, "alpha": 0.4})
        for box in bp["boxes"]:
            box.set_facecolor(colors[i])
            box.set_alpha(0.75)
        if p:
            bp["boxes"][0].set_label(p)
    ax.set_xticks(range(len(segments)), segments)
    ax.set_xlim(-0.6, len(segments) - 0.4)
    ax.set_xlabel("customer segment")
    ax.set_ylabel(ylabel)
    title = "Remembered value by segment"
    if any(policies):
        title += " and policy"
        ax.legend(title="policy", fontsize=8, loc="best")
    ax.set_title(title + " (◇ = mean)")
    return ax


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


# ---------------------------------------------------------------------- hall queue


def hall_queue(
    time: Sequence[float] | np.ndarray,
    length: Sequence[float] | np.ndarray,
    *,
    staffing_time: Sequence[float] | np.ndarray | None = None,
    staffing: Sequence[float] | np.ndarray | None = None,
    close: float | None = None,
    opening: str | float | None = None,
    staffing_label: str = "tellers on duty",
    queue_max: float | None = None,
    staffing_max: float | None = None,
    ax: Axes | None = None,
    where: str | None = None,
) -> Axes:
    """Draw the hall queue over the day as a step series, with staffing on a twin axis.

    Parameters
    ----------
    time : array of float
        Minutes from opening at which the queue length changes (increasing).
    length : array of int
        Customers waiting in the hall from that time on (same length as ``time``).
        For a multi-day ``Journeys``, select one day of ``journeys.queue`` first.
    staffing_time, staffing : array of float, optional
        Minutes from opening at which the number of servers changes, and the
        number from that time on. Drawn as a step line on a right-hand axis.
    close : float, optional
        Minutes from opening at which the day ends; default the last time given.
    opening : str or float, optional
        Clock time of opening, ``"hh:mm"`` or hours (``9.5`` is 09:30, as in
        ``Scenario.opening``); when given, the time axis shows clock time
        instead of minutes from opening.
    staffing_label : str
        Label of the right-hand axis (a count).
    queue_max, staffing_max : float, optional
        Upper limits of the queue and staffing axes (counts); give the same values
        to several panels to make them comparable. Default: from the data.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    where : str, optional
        The queue's place for the labels (a further stage's name: "waiting at
        advisor"); default the hall.

    Returns
    -------
    matplotlib.axes.Axes
        The queue Axes. The staffing twin Axes, when drawn, is ``ax.figure.axes``'s
        other member sharing the x axis (``ax.get_shared_x_axes()``).

    Raises
    ------
    ValueError
        If arrays have different lengths, times decrease, or ``opening`` is not
        a clock time.
    """
    t = np.asarray(time, dtype=float)
    q = np.asarray(length, dtype=float)
    if t.shape != q.shape or t.ndim != 1:
        raise ValueError(f"time, length: must be 1-D of equal length, got {t.shape}, {q.shape}")
    if t.size and np.any(np.diff(t) < 0):
        raise ValueError("time: must be non-decreasing (minutes from opening)")
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    fmt = _minutes_formatter(opening)
    st: np.ndarray | None = None
    sv: np.ndarray | None = None
    if (staffing_time is None) != (staffing is None):
        raise ValueError("staffing_time, staffing: give both or neither")
    if staffing_time is not None and staffing is not None:
        st = np.asarray(staffing_time, dtype=float)
        sv = np.asarray(staffing, dtype=float)
        if st.shape != sv.shape or st.ndim != 1 or st.size == 0:
            raise ValueError("staffing_time, staffing: must be non-empty 1-D of equal length")
        if np.any(np.diff(st) < 0):
            raise ValueError("staffing_time: must be non-decreasing (minutes from opening)")
    ends = [x for x in (close, t[-1] if t.size else None,
                        st[-1] if st is not None else None) if x is not None]
    t_end = float(max(ends)) if ends else 0.0
    t_full = np.append(t, t_end)
    q_full = np.append(q, q[-1] if q.size else 0.0)

    ax = _new_axes(ax, (9.0, 4.0))
    ax.fill_between(t_full, q_full, step="post", color=OKABE_ITO[0], alpha=0.25, lw=0)
    place = "in the hall" if where is None else f"at {where}"
    ax.step(t_full, q_full, where="post", color=OKABE_ITO[0], lw=1.2,
            label=f"customers waiting {place}")
    ax.set_ylabel(f"waiting {place} (customers)", color=OKABE_ITO[0])
    top = max(1.0, float(q_full.max())) if queue_max is None else float(queue_max)
    ax.set_ylim(0, top * 1.3 + 0.5)  # headroom for the legend
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(min(0.0, float(t_full[0])), t_end)
    handles, labels = ax.get_legend_handles_labels()
    if st is not None and sv is not None:
        twin = ax.twinx()
        s_full = np.append(st, max(t_end, float(st[-1])))
        v_full = np.append(sv, sv[-1])
        twin.step(s_full, v_full, where="post", color=OKABE_ITO[1], lw=2.5, ls="--",
                  label=staffing_label)
        twin.set_ylabel(f"{staffing_label} (count)", color=OKABE_ITO[1])
        top = max(1.0, float(sv.max())) if staffing_max is None else float(staffing_max)
        twin.set_ylim(0, top * 1.25 + 0.5)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if fmt is not None:
        ax.xaxis.set_major_locator(MultipleLocator(60.0))
        ax.xaxis.set_major_formatter(FuncFormatter(fmt))
        ax.set_xlabel("time of day (hh:mm)")
    else:
        ax.set_xlabel("minutes from opening")
    ax.legend(handles, labels, loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Hall queue over the day" if where is None else f"Queue at {where} over the day")
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


# ----------------------------------------------------------------- moments of truth


def moments_of_truth(
    shares: Any,
    touchpoints: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
    *,
    share: str = "net",
    include_all: bool = True,
    colorbar_label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of where peaks are made: touchpoint x segment, annotated with shares.

    Parameters
    ----------
    shares : MomentsOfTruth, 2-D array or DataFrame
        A :class:`peakend.cem.MomentsOfTruth` (from :func:`peakend.cem.moments_of_truth`),
        whose classification is drawn too (▲ positive, ▼ negative moment of truth),
        with a row for each touchpoint somebody met;
        or ``shares[i, j]``, the share (0..1) of segment ``j``'s customers whose
        peak moment was at touchpoint ``i``. Signed shares (-1..1, e.g. positive-peak
        share minus negative-peak share) are drawn with a diverging, colour-blind
        safe colour map (vermillion = negative moments of truth, blue = positive).
        A DataFrame gives the labels from its index (touchpoints) and columns
        (segments).
    touchpoints : sequence of str, optional
        Row labels (required for an array).
    segments : sequence of str, optional
        Column labels (required for an array).
    share : {"net", "positive", "negative", "peak"}
        For a ``MomentsOfTruth``: which share to draw: the difference
        ``positive_peak_share - negative_peak_share`` ("net", signed, the
        default), ``positive_peak_share``, ``negative_peak_share`` or
        ``peak_share``. The ▲/▼ marks use the measure the number shows, so a
        mark never sits on a number that contradicts it: on the net map ▲ marks
        a positive moment of truth with a positive net share and ▼ a negative
        one with a negative net share (a tie of the two shares is left
        unmarked); the positive map marks only ▲, the negative map only ▼;
        the peak map (whose share mixes good and bad peaks) has no marks.
    include_all : bool
        For a ``MomentsOfTruth``: add the "all customers" column.
    colorbar_label : str, optional
        Label of the colour bar; default describes the share drawn.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The image is ``ax.images[0]``; each cell carries a percentage text.

    Raises
    ------
    ValueError
        If the shape does not match the labels, shares are outside -1..1, or
        ``share`` is not one of the allowed values.
    """
    kinds: np.ndarray | None = None
    what = "share of customers whose peak is here"
    if hasattr(shares, "peak_share") and hasattr(shares, "kind"):
        fields = {"peak": "peak_share", "positive": "positive_peak_share",
                  "negative": "negative_peak_share"}
        if share == "net":
            matrix = np.asarray(shares.positive_peak_share) - np.asarray(
                shares.negative_peak_share)
            what = "positive − negative peak share"
        elif share in fields:
            matrix = np.asarray(getattr(shares, fields[share]))
            what = {"peak": what, "positive": "share whose best moment is here",
                    "negative": "share whose worst moment is here"}[share]
        else:
            raise ValueError(
                f"share: must be 'peak', 'positive', 'negative' or 'net', got {share!r}")
        n_rows = len(shares.segments) + (1 if include_all else 0)
        # rows only for the touchpoints somebody met (a day without a lounge or advice
        # would otherwise show them as empty "neutral" rows)
        met = shares.met
        touchpoints = [t for t, m_ in zip(shares.touchpoints, met, strict=True) if m_]
        segments = [*shares.segments, "all customers"][:n_rows]
        kinds = np.asarray(shares.kind)[:n_rows][:, met].T
        shares = matrix[:n_rows][:, met].T
    elif hasattr(shares, "columns") and hasattr(shares, "index"):
        if touchpoints is None:
            touchpoints = [str(i) for i in shares.index]
        if segments is None:
            segments = [str(c) for c in shares.columns]
        shares = shares.to_numpy()
    m = np.asarray(shares, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"shares: must be 2-D (touchpoints x segments), got shape {m.shape}")
    if touchpoints is None or segments is None:
        raise ValueError("touchpoints, segments: labels are required for an array of shares")
    if m.shape != (len(touchpoints), len(segments)):
        raise ValueError(
            f"shares: shape {m.shape} does not match {len(touchpoints)} touchpoints x "
            f"{len(segments)} segments"
        )
    finite = m[np.isfinite(m)]
    if finite.size and (finite.min() < -1 - 1e-9 or finite.max() > 1 + 1e-9):
        raise ValueError("shares: must be fractions in 0..1 (or signed, -1..1)")
    signed = bool(finite.size and finite.min() < 0) or (kinds is not None and share == "net")
    ax = _new_axes(ax, (2.2 + 1.3 * len(segments), 1.4 + 0.45 * len(touchpoints)))
    if signed:
        cmap, vmin, vmax = _diverging_cmap(), -1.0, 1.0
        if colorbar_label is None and kinds is None:
            what = "positive − negative peak share"
    else:
        cmap, vmin, vmax = "Blues", 0.0, max(float(finite.max()) if finite.size else 1.0, 1e-9)
    image = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    import matplotlib as mpl

    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    marks = _marks(kinds, m, share) if kinds is not None else None
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            x = m[i, j]
            if not np.isfinite(x):
                text, color = "–", "black"
            else:
                text = f"{x:+.0%}" if signed else f"{x:.0%}"
                r, g, b, _ = colormap((x - vmin) / (vmax - vmin))
                color = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            if marks is not None:
                text += marks[i][j]
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=color)
    ax.set_xticks(range(len(segments)), list(segments))
    ax.set_yticks(range(len(touchpoints)), list(touchpoints))
    ax.set_xlabel("customer segment")
    ax.set_ylabel("touchpoint")
    ax.tick_params(length=0)
    ax.figure.colorbar(image, ax=ax, label=colorbar_label or what, format="{x:.0%}")
    title = "Moments of truth: where the peaks are made"
    if marks is not None and share != "peak":
        title += "\n(▲ positive, ▼ negative moment of truth)"
    ax.set_title(title)
    return ax


def _marks(kinds: np.ndarray, shown: np.ndarray, share: str) -> list[list[str]]:
    """Return the ▲/▼ suffix of each heat-map cell, consistent with the number shown."""
    out = []
    for i in range(shown.shape[0]):
        row = []
        for j in range(shown.shape[1]):
            kind, x = str(kinds[i, j]), shown[i, j]
            up = kind == "positive" and share in ("net", "positive") and x > 0
            down = kind == "negative" and (
                (share == "net" and x < 0) or (share == "negative" and x > 0))
            row.append(" ▲" if up else " ▼" if down else "")
        out.append(row)
    return out


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


# ---------------------------------------------------------------- plot accessors


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
