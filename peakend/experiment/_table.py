"""Private text rendering of DataFrames for the command line and ``repr`` (not public API).

Every number of a column is written with the same number of decimals, so
that a column reads down evenly (``12.30`` above ``0.05``, never ``12.3``
above ``0.0500``); booleans are ``yes``/``no``; missing values ``na_rep``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["COLUMN_DIGITS", "format_markdown", "format_text"]

_P_COLUMNS = ("p_value", "p_holm", "p_a", "p_b")
#: Decimals of the columns the command line and ``repr`` print (others: 2; p-values: 3).
COLUMN_DIGITS = {"remembered": 2, "half_width": 2, "difference": 2, "low": 2, "high": 2,
                 "wait_mean": 1, "abandonment_rate": 3, "cost": 0, "n_customers": 1}


def _cell(value: Any, decimals: int, na_rep: str, p_column: bool) -> str:
    if value is None or value is pd.NA:
        return na_rep
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        v = float(value)
        if math.isnan(v):
            return na_rep
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if p_column and 0 <= v < 10 ** (-decimals):
            return f"<{10 ** (-decimals):.{decimals}f}"
        text = f"{v:.{decimals}f}"
        return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text
    return str(value)


def _decimals(df: pd.DataFrame, digits: int | Mapping[str, int]) -> dict[str, int]:
    default = digits if isinstance(digits, int) else 2
    extra = digits if isinstance(digits, Mapping) else {}
    out = {}
    for col in df.columns:
        name = str(col)
        out[name] = extra.get(name, 3 if name in _P_COLUMNS else default)
    return out


def _cells(df: pd.DataFrame, digits: int | Mapping[str, int], na_rep: str) -> list[list[str]]:
    dec = _decimals(df, digits)
    cols = [
        [_cell(v, dec[str(c)], na_rep, str(c) in _P_COLUMNS) for v in df[c].tolist()]
        for c in df.columns
    ]
    return [list(row) for row in zip(*cols, strict=True)] if cols else []


def format_text(
    df: pd.DataFrame,
    *,
    digits: int | Mapping[str, int] = 2,
    na_rep: str = "-",
    max_rows: int | None = None,
    title: bool | str = True,
) -> str:
    """Fixed-width text table: numbers right-aligned, text left-aligned.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (its index is not shown).
    digits : int or mapping of column name to int, default 2
        Decimals of float columns (the same for every row of a column);
        p-value columns default to 3 and show ``<0.001`` below that.
    na_rep : str, default "-"
        Text of missing values.
    max_rows : int, optional
        Show at most this many rows, then ``... (N rows)``.
    title : bool or str, default True
        A title line: ``df.attrs["title"]`` if True, none if False, else the text.

    Returns
    -------
    str
    """
    cells = _cells(df, digits, na_rep)
    head = [str(c) for c in df.columns]
    cut = max_rows is not None and len(cells) > max_rows
    if cut:
        cells = cells[:max_rows]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(head)]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]

    def line(items: Sequence[str]) -> str:
        return "  ".join(
            s.rjust(w) if num else s.ljust(w)
            for s, w, num in zip(items, widths, numeric, strict=True)
        ).rstrip()

    text = df.attrs.get("title", "") if title is True else (title or "")
    out = [text] if text else []
    out.append(line(head))
    out.extend(line(r) for r in cells)
    if cut:
        out.append(f"... ({len(df)} rows)")
    return "\n".join(out)


def format_markdown(df: pd.DataFrame, *, digits: int | Mapping[str, int] = 2,
                    na_rep: str = "-") -> str:
    """GitHub-flavoured markdown table with the same number formatting as :func:`format_text`."""
    head = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in _cells(df, digits, na_rep)]
    return "\n".join(lines)
