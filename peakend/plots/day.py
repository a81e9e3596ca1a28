"""Figures of simulated days: remembered values per segment, the hall queue, moments of truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from peakend.plots._style import (
    _REMEMBERED_LABEL,
    OKABE_ITO,
    _colors,
    _columns,
    _diverging_cmap,
    _minutes_formatter,
    _new_axes,
    _pick,
    _unique_in_order,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes


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
