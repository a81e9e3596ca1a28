"""Shared palette, labels and helpers of the figures: Okabe-Ito colours, significance, inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

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
