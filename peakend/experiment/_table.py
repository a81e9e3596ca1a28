"""A small column table returned by the Results methods (pandas optional)."""

from __future__ import annotations

import csv
import html
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Table", "require_pandas"]


def require_pandas() -> Any:
    """Import pandas or raise an ImportError naming the ``pandas`` extra."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the test extra
        raise ImportError(
            "to_pandas() needs pandas, an optional dependency: "
            "pip install 'peakend[pandas]'"
        ) from exc
    return pd


def _fmt(value: Any, digits: int, na_rep: str = "nan") -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return na_rep
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 10 ** (-digits)):
            return f"{v:.{digits}g}"
        return f"{v:.{digits}f}"
    return str(value)


class Table:
    """Named equal-length columns, printable, with ``to_pandas()``.

    Parameters
    ----------
    columns : Mapping of str to sequence
        Column name -> values (converted to numpy arrays of equal length).
    title : str, optional
        Printed above the table.

    Examples
    --------
    >>> t = Table({"policy": ["a", "b"], "value": [1.0, 2.5]})
    >>> len(t), t["value"].tolist()
    (2, [1.0, 2.5])
    """

    def __init__(self, columns: Mapping[str, Sequence[Any] | np.ndarray], title: str = "") -> None:
        self._cols = {str(k): np.asarray(v) for k, v in columns.items()}
        lengths = {v.shape[0] for v in self._cols.values()} if self._cols else {0}
        if len(lengths) > 1:
            raise ValueError(f"columns must have equal length, got lengths {sorted(lengths)}")
        self.title = title

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._cols)

    def __len__(self) -> int:
        return next(iter(self._cols.values())).shape[0] if self._cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def rows(self) -> Iterator[dict[str, Any]]:
        """Iterate over rows as dicts of Python scalars."""
        for i in range(len(self)):
            yield {k: v[i].item() for k, v in self._cols.items()}

    def select(self, mask: np.ndarray) -> Table:
        """Rows where ``mask`` is True (or at the given indices)."""
        return Table({k: v[mask] for k, v in self._cols.items()}, self.title)

    def where(self, **equal: Any) -> Table:
        """Rows whose columns equal the given values, e.g. ``where(segment="all")``."""
        mask = np.ones(len(self), dtype=bool)
        for k, v in equal.items():
            mask &= self._cols[k] == v
        return self.select(mask)

    def to_pandas(self) -> pd.DataFrame:
        """Return a pandas DataFrame (needs the ``pandas`` extra)."""
        pd = require_pandas()
        return pd.DataFrame({k: v for k, v in self._cols.items()})

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the table to a CSV file (full precision, header row)."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.columns)
            for row in self.rows():
                writer.writerow(row.values())

    def _cells(self, digits: int, na_rep: str = "nan") -> list[list[str]]:
        return [[_fmt(v[i], digits, na_rep) for v in self._cols.values()]
                for i in range(len(self))]

    def to_text(self, digits: int = 3, max_rows: int | None = None, na_rep: str = "nan") -> str:
        """Fixed-width text rendering (what ``repr`` shows).

        Parameters
        ----------
        digits : int, default 3
            Decimals of floats (significant digits for very large or small ones).
        max_rows : int, optional
            Show at most this many rows.
        na_rep : str, default "nan"
            Text for NaN values.

        Returns
        -------
        str
            Title line (if any), header and rows.
        """
        cells = self._cells(digits, na_rep)
        head = self.columns
        cut = max_rows is not None and len(cells) > max_rows
        if cut:
            cells = cells[:max_rows]
        widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(head)]
        numeric = [v.dtype.kind in "fiub" for v in self._cols.values()]

        def line(items: Sequence[str]) -> str:
            return "  ".join(
                s.rjust(w) if num else s.ljust(w)
                for s, w, num in zip(items, widths, numeric, strict=True)
            ).rstrip()

        out = [self.title] if self.title else []
        out.append(line(head))
        out.extend(line(r) for r in cells)
        if cut:
            out.append(f"... ({len(self)} rows)")
        return "\n".join(out)

    def to_markdown(self, digits: int = 3, na_rep: str = "nan") -> str:
        """GitHub-flavoured markdown table (``na_rep`` for NaN values)."""
        head = self.columns
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self._cells(digits, na_rep)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text(max_rows=60)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._cells(3)[:200]
        )
        cap = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
