"""The journey map: one or several customers' affect over their visit, peak and end marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.plots._style import _BAD, _GOOD, AFFECT_LABEL, _colors, _new_axes, _root_figure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

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
