"""Customer-experience management: the seven-step gap analysis and moments of truth.

The seven-step customer-experience-management (CEM) method of seed 000 (a Hong Kong
electronics chain, "美蘇電器") measures, per factor, the experience customers get and the
experience they expect (on 0..10), and then

1. satisfaction = experience - expectation (the Delta law);
2. weighted satisfaction = importance x satisfaction;
3. the *key experience* is the factor with the most negative weighted satisfaction;
4. the experience gap = experience - ideal experience.

:func:`gap_analysis` computes that table from numbers a survey gives;
:func:`importance_from_journeys` estimates importance from simulated journeys by
regressing the remembered value on the per-touchpoint affects, and
:func:`gap_analysis_from_journeys` runs the same table on simulated data.
:func:`moments_of_truth` classifies touchpoints as neutral, positive or negative
moments of truth (seed 000) from where the customers' peaks come from.

All functions work on whole arrays (no Python loop over customers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "GapTable",
    "gap_analysis",
]

FloatArray = NDArray[np.float64]

_GAP_COLUMNS = (
    "experience",
    "expectation",
    "satisfaction",
    "importance",
    "weighted",
    "ideal",
    "gap",
)


@dataclass(frozen=True, eq=False)
class GapTable:
    """Result of the seven-step gap analysis, one row per factor.

    Attributes
    ----------
    factors : tuple of str
        Factor (or touchpoint) names, in input order.
    experience, expectation : ndarray of float64
        Experienced and expected level per factor (the survey's scale, e.g. 0..10).
        NaN where not given.
    satisfaction : ndarray of float64
        ``experience - expectation`` (Delta law), NaN if either is missing.
    importance : ndarray of float64
        Importance weight per factor (the survey's scale, e.g. 0..10), NaN if not given.
    weighted : ndarray of float64
        ``importance * satisfaction`` (weighted satisfaction), NaN if either is missing.
    ideal : ndarray of float64
        Ideal (target) experience per factor, NaN if not given.
    gap : ndarray of float64
        Experience gap ``experience - ideal``, NaN if either is missing.
    key : str or None
        The key experience: the factor with the most negative weighted satisfaction
        (ties go to the first factor in input order); None if no weighted
        satisfaction is negative.
    """

    factors: tuple[str, ...]
    experience: FloatArray
    expectation: FloatArray
    satisfaction: FloatArray
    importance: FloatArray
    weighted: FloatArray
    ideal: FloatArray
    gap: FloatArray
    key: str | None

    def row(self, factor: str) -> dict[str, float]:
        """Return one factor's row as a dict ``{column: value}``.

        Parameters
        ----------
        factor : str
            A name in :attr:`factors`.

        Returns
        -------
        dict of str to float
            Keys ``experience, expectation, satisfaction, importance, weighted, ideal, gap``.
        """
        if factor not in self.factors:
            raise ValueError(f"factor must be one of {list(self.factors)}, got {factor!r}")
        i = self.factors.index(factor)
        return {c: float(getattr(self, c)[i]) for c in _GAP_COLUMNS}

    def to_dict(self) -> dict[str, dict[str, float]]:
        """Return the table as ``{factor: {column: value}}``."""
        return {f: self.row(f) for f in self.factors}

    def ranking(self) -> list[str]:
        """Return the factors ordered from the most negative weighted satisfaction up.

        Factors without a weighted satisfaction (NaN) come last, in input order.
        """
        order = np.argsort(np.where(np.isnan(self.weighted), np.inf, self.weighted), kind="stable")
        return [self.factors[i] for i in order]

    def to_pandas(self) -> Any:
        """Return a :class:`pandas.DataFrame` indexed by factor (needs pandas).

        Returns
        -------
        pandas.DataFrame
            Columns as in :meth:`row`, plus a boolean ``key`` column.
        """
        import pandas as pd

        frame = pd.DataFrame(
            {c: getattr(self, c) for c in _GAP_COLUMNS},
            index=pd.Index(list(self.factors), name="factor"),
        )
        frame["key"] = [f == self.key for f in self.factors]
        return frame

    def __str__(self) -> str:
        header = f"{'factor':<16}" + "".join(f"{c:>13}" for c in _GAP_COLUMNS)
        lines = [header]
        for f in self.factors:
            r = self.row(f)
            mark = " *" if f == self.key else ""
            lines.append(
                f"{f:<16}" + "".join(f"{r[c]:>13.4g}" for c in _GAP_COLUMNS) + mark
            )
        return "\n".join(lines)


def _as_factor_array(
    values: Mapping[str, float] | ArrayLike | None,
    factors: Sequence[str],
    name: str,
) -> FloatArray:
    """Align a mapping or an array of per-factor values to ``factors`` (NaN if missing)."""
    n = len(factors)
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, Mapping):
        unknown = [k for k in values if k not in factors]
        if unknown:
            raise ValueError(f"{name} has factors not in the experience: {unknown}")
        out = np.full(n, np.nan)
        for i, f in enumerate(factors):
            if f in values:
                out[i] = float(values[f])
        return out
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be a 1-d array of length {n} (one per factor), "
                         f"got shape {arr.shape}")
    return arr.copy()


def gap_analysis(
    experience: Mapping[str, float] | ArrayLike,
    expectation: Mapping[str, float] | ArrayLike,
    importance: Mapping[str, float] | ArrayLike | None = None,
    ideal: Mapping[str, float] | ArrayLike | None = None,
    *,
    factors: Sequence[str] | None = None,
) -> GapTable:
    """Run the seven-step gap analysis (seed 000, steps 2-4).

    Parameters
    ----------
    experience : mapping of str to float, or array_like
        Experienced level per factor (survey scale, e.g. 0..10 points). A mapping
        defines the factors and their order; an array needs ``factors``.
    expectation : mapping or array_like
        Expected level per factor (same scale). Factors missing from a mapping are NaN.
    importance : mapping or array_like, optional
        Importance weight per factor (e.g. 0..10 points). Missing factors are NaN (no
        weighted satisfaction, cannot be the key experience).
    ideal : mapping or array_like, optional
        Ideal experience per factor (same scale as experience). Missing factors are NaN.
    factors : sequence of str, optional
        Factor names when the inputs are arrays; if ``experience`` is a mapping they must
        match its keys, and default to them.

    Returns
    -------
    GapTable
        satisfaction = experience - expectation, weighted = importance x satisfaction,
        key = the factor with the most negative weighted satisfaction, gap =
        experience - ideal.

    Raises
    ------
    ValueError
        If ``factors`` is missing or has the wrong length or duplicates, if a mapping
        names a factor that the experience does not have, or if ``importance`` is
        negative.

    Examples
    --------
    The worked example of seed 000 (experience, expectation, importance and ideal
    on 0..10):

    >>> t = gap_analysis(
    ...     {"price": 7, "brand": 7, "service": 6, "product": 6, "convenience": 5,
    ...      "relationship": 4},
    ...     {"product": 7, "price": 7, "convenience": 7, "brand": 7},
    ...     importance={"convenience": 9},
    ...     ideal={"price": 7, "brand": 7, "service": 6, "product": 6, "convenience": 10,
    ...            "relationship": 4},
    ... )
    >>> t.key, t.row("convenience")["weighted"], t.row("convenience")["gap"]
    ('convenience', -18.0, -5.0)
    """
    if isinstance(experience, Mapping):
        names = [str(k) for k in experience]
        if factors is not None and list(factors) != names:
            raise ValueError("factors must equal the keys of experience (in order) when "
                             "experience is a mapping")
    else:
        if factors is None:
            raise ValueError("factors is required when experience is an array")
        names = [str(f) for f in factors]
    if len(names) == 0:
        raise ValueError("experience must have at least one factor")
    if len(set(names)) != len(names):
        raise ValueError(f"factors must be unique, got {names}")
    exp = _as_factor_array(experience, names, "experience")
    expect = _as_factor_array(expectation, names, "expectation")
    imp = _as_factor_array(importance, names, "importance")
    ide = _as_factor_array(ideal, names, "ideal")
    if np.any(imp < 0):
        raise ValueError("importance must be >= 0 for every factor")
    satisfaction = exp - expect
    weighted = imp * satisfaction
    gap = exp - ide
    key: str | None = None
    if np.any(weighted < 0):
        key = names[int(np.nanargmin(weighted))]
    return GapTable(
        factors=tuple(names),
        experience=exp,
        expectation=expect,
        satisfaction=satisfaction,
        importance=imp,
        weighted=weighted,
        ideal=ide,
        gap=gap,
        key=key,
    )
