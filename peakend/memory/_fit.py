"""Fitting memory rules to retrospective ratings: feature weights, bootstrap intervals, CV.

:func:`fit` regresses ratings on features of each journey (peak, end, mean, ...) by
least squares with an intercept, with percentile-bootstrap intervals that resample
journeys; :func:`compare_rules` cross-validates candidate rules against the ratings.
Features are computed by the vectorized scorer (one ``reduceat`` pass per feature,
no loop over journeys); the bootstrap solves all replicates as one stack of small
normal-equation systems.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from peakend.memory._scoring import (
    RULE_NAMES,
    MemoryRule,
    _Batch,
    _suggest,
    _validate,
    get_rule,
    score_many,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FEATURES",
    "LinearRule",
    "MemoryFit",
    "compare_rules",
    "fit",
    "journey_features",
]

FloatArray = NDArray[np.float64]

#: Journey features a rating can be regressed on: name -> (meaning, unit).
FEATURES: dict[str, tuple[str, str]] = {
    "peak": ("affect of largest magnitude, with its sign (rule 'peak')", "affect"),
    "end": ("affect of the last episode", "affect"),
    "mean": (
        "average moment: time-weighted mean of affect (plain mean without durations)",
        "affect",
    ),
    "trough": ("lowest affect (the worst moment)", "affect"),
    "best": ("highest affect (the best moment)", "affect"),
    "trend": ("least-squares slope of affect over the later half (rule 'trend')", "affect/min"),
    "duration": ("total duration (number of episodes without durations)", "minutes"),
    "first": ("affect of the first episode", "affect"),
    "integral": ("sum of affect x duration (rule 'integral')", "affect x minutes"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)


def _feature(batch: _Batch, name: str) -> FloatArray:
    """One feature per leading journey of ``batch`` (empty journeys are masked later)."""
    if name == "peak":
        return batch.peak()
    if name == "end":
        return batch.last_value()
    if name == "mean":
        return batch.time_weighted_mean()
    if name == "trough":
        return np.minimum.reduceat(batch.affect, batch.starts).astype(np.float64)
    if name == "best":
        return np.maximum.reduceat(batch.affect, batch.starts).astype(np.float64)
    if name == "trend":
        return batch.trend_slope(0.5)
    if name == "duration":
        return batch.total_duration()
    if name == "first":
        first = np.minimum(batch.starts, batch.affect.size - 1)
        return batch.affect[first].astype(np.float64)
    if name == "integral":
        return batch.area()
    raise AssertionError(name)  # names are checked before scoring


def _check_features(features: Any, argument: str = "features") -> tuple[str, ...]:
    if isinstance(features, str):
        features = (features,)
    try:
        names = tuple(features)
    except TypeError:
        raise TypeError(
            f"{argument} must be a sequence of feature names from {', '.join(FEATURE_NAMES)}, "
            f"got {type(features).__name__}"
        ) from None
    if not names:
        raise ValueError(f"{argument} must name at least one of {', '.join(FEATURE_NAMES)}")
    for name in names:
        if name not in FEATURES:
            raise ValueError(
                f"{argument}: unknown feature {name!r}{_suggest(name, FEATURE_NAMES)}; "
                f"valid features: {', '.join(FEATURE_NAMES)}"
            )
    seen = [n for i, n in enumerate(names) if n in names[:i]]
    if seen:
        raise ValueError(f"{argument}: feature {seen[0]!r} is given twice")
    return names


@dataclass(frozen=True)
class _Feature(MemoryRule):
    """One journey feature as a rule, so that features share the scorer's passes."""

    name: ClassVar[str] = "feature"
    feature: str = "peak"

    def _score(self, batch: _Batch) -> FloatArray:
        return _feature(batch, self.feature)


@dataclass(frozen=True)
class LinearRule(MemoryRule):
    """A rule linear in journey features: ``intercept + sum_k weights[k] * feature_k``.

    :func:`fit` returns one with the fitted weights (``MemoryFit.rule``); it can
    also be written by hand. The value is on the rating scale the weights were
    fitted to. Like every custom rule it is scored by its own NumPy method on
    every engine (``engine="numba"`` included).

    Parameters
    ----------
    features : tuple of str
        Feature names from :data:`FEATURES` (peak, end, mean, trough, best,
        trend, duration, first, integral), each once.
    weights : tuple of float
        One finite weight per feature, in rating units per feature unit.
    intercept : float, default 0.0
        Rating units; finite.

    Examples
    --------
    >>> import numpy as np
    >>> rule = LinearRule(features=("peak", "end"), weights=(0.5, 0.5))
    >>> rule(np.array([-2.0, -8.0, -7.0]), np.array([0, 3])).tolist()
    [-7.5]
    """

    name: ClassVar[str] = "linear"
    features: tuple[str, ...] = ("peak", "end")
    weights: tuple[float, ...] = (0.5, 0.5)
    intercept: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        features = _check_features(self.features)
        try:
            weights = tuple(float(w) for w in self.weights)
        except (TypeError, ValueError):
            raise ValueError(
                f"rule 'linear': weights must be a sequence of numbers, got {self.weights!r}"
            ) from None
        if len(weights) != len(features):
            raise ValueError(
                f"rule 'linear': weights must have one entry per feature "
                f"({len(features)} features), got {len(weights)}"
            )
        if not all(math.isfinite(w) for w in weights):
            raise ValueError(f"rule 'linear': weights must be finite, got {weights}")
        if not (isinstance(self.intercept, int | float) and math.isfinite(self.intercept)):
            raise ValueError(
                f"rule 'linear': intercept must be a finite number, got {self.intercept!r}"
            )
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "intercept", float(self.intercept))

    def _score(self, batch: _Batch) -> FloatArray:
        out = np.full(batch.n_lead, self.intercept)
        for name, w in zip(self.features, self.weights, strict=True):
            out += w * _feature(batch, name)
        return out


def journey_features(
    affect: ArrayLike,
    offsets: ArrayLike,
    *,
    durations: ArrayLike | None = None,
    features: Sequence[str] = FEATURE_NAMES,
    engine: str = "auto",
) -> pd.DataFrame:
    """Features of every journey, one row a journey: the regressors of :func:`fit`.

    Parameters
    ----------
    affect, offsets, durations, engine
        As for :func:`peakend.memory.score` (affect on the -10..10 scale,
        durations in minutes).
    features : sequence of str, default all of :data:`FEATURES`
        Which features, in this order.

    Returns
    -------
    pandas.DataFrame
        One column per feature (units in :data:`FEATURES`), one row per journey;
        NaN for empty journeys.
    """
    import pandas as pd

    names = _check_features(features)
    values = score_many(
        affect, offsets, [_Feature(feature=n) for n in names], durations=durations, engine=engine
    )
    return pd.DataFrame(dict(zip(names, values.values(), strict=True)))


# --------------------------------------------------------------------------------------
# input checks shared by fit and compare_rules
# --------------------------------------------------------------------------------------


def _ragged_with_ratings(
    affect: ArrayLike, offsets: ArrayLike, ratings: ArrayLike, durations: ArrayLike | None
) -> tuple[NDArray[Any], NDArray[np.int64], FloatArray | None, FloatArray]:
    a, o, d = _validate(affect, offsets, durations)
    n = o.size - 1
    y = np.asarray(ratings)
    if y.ndim != 1 or y.dtype.kind not in "iuf":
        raise ValueError(
            f"ratings must be a 1-D array of numbers, one per journey, got "
            f"{'dtype ' + str(y.dtype) if y.ndim == 1 else 'shape ' + str(y.shape)}"
        )
    if y.size != n:
        raise ValueError(
            f"ratings must have one entry per journey (len(offsets) - 1 = {n}), got length {y.size}"
        )
    y = y.astype(np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"ratings must be finite, got ratings[{i}] = {y[i]} ({int(bad.sum())} not finite); "
            "leave unrated journeys out of affect, offsets and ratings"
        )
    empty = np.flatnonzero(np.diff(o) == 0)
    if empty.size:
        i = int(empty[0])
        raise ValueError(
            f"journey {i} is empty (offsets[{i}] == offsets[{i + 1}] == {o[i]}); every rated "
            f"journey needs at least one episode ({empty.size} empty journeys)"
        )
    return a, o, d, y


def _feature_matrix(
    a: NDArray[Any], o: NDArray[np.int64], d: FloatArray | None, names: tuple[str, ...], engine: str
) -> FloatArray:
    values = score_many(a, o, [_Feature(feature=n) for n in names], durations=d, engine=engine)
    return np.column_stack(list(values.values())) if names else np.empty((o.size - 1, 0))


def _check_design(x: FloatArray, names: tuple[str, ...], where: str) -> None:
    """Refuse features that are constant or collinear (the fit would not be identified)."""
    n, p = x.shape
    if n < p + 2:
        raise ValueError(
            f"too few journeys{where}: fitting {p} feature(s) and an intercept needs at least "
            f"{p + 2} rated journeys, got {n}"
        )
    sd = x.std(axis=0)
    for k, name in enumerate(names):
        if not sd[k] > 1e-12 * max(1.0, float(np.abs(x[:, k]).max())):
            raise ValueError(
                f"feature {name!r} is constant{where} (= {x[0, k]:g} on every journey): "
                "it cannot be told apart from the intercept; leave it out"
            )
    z = (x - x.mean(axis=0)) / sd
    if p > 1 and np.linalg.matrix_rank(z, tol=1e-8 * math.sqrt(n)) < p:
        raise ValueError(
            f"features {', '.join(map(repr, names))} are collinear{where} (one is a linear "
            "combination of the others, e.g. peak, end and mean coincide when every journey "
            "has one episode); leave one out"
        )


def _ols(x: FloatArray, y: FloatArray) -> tuple[float, FloatArray]:
    """Least squares with an intercept, on centred and scaled features: (intercept, slopes)."""
    mx, sx = x.mean(axis=0), x.std(axis=0)
    z = (x - mx) / sx
    my = y.mean()
    c, *_ = np.linalg.lstsq(z, y - my, rcond=None)
    b = c / sx
    return float(my - mx @ b), b


def _bootstrap(x: FloatArray, y: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Slopes of ``n_boot`` resamples of the journeys (rows), shape (n_boot, p + 1)."""
    n, p = x.shape
    mx, sx = x.mean(axis=0), x.std(axis=0)
    design = np.column_stack([np.ones(n), (x - mx) / sx])
    outer = (design[:, :, None] * design[:, None, :]).reshape(n, (p + 1) ** 2)
    out = np.empty((n_boot, p + 1))
    # in chunks, so that the count matrix stays small for many journeys
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for b0 in range(0, n_boot, chunk):
        b1 = min(n_boot, b0 + chunk)
        rows = b1 - b0
        idx = rng.integers(0, n, size=(rows, n))
        idx += (np.arange(rows) * n)[:, None]
        w = np.bincount(idx.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)
        xtx = (w @ outer).reshape(rows, p + 1, p + 1)
        xty = w @ (design * y[:, None])
        try:
            out[b0:b1] = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a resample with collinear rows: minimum-norm fits
            out[b0:b1] = (np.linalg.pinv(xtx) @ xty[:, :, None])[:, :, 0]
    slopes = out[:, 1:] / sx
    intercept = out[:, 0] - slopes @ mx
    return np.column_stack([intercept, slopes])


# --------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MemoryFit:
    """Result of :func:`fit`: feature weights with bootstrap intervals.

    Attributes
    ----------
    coef : pandas.Series
        Weights by feature (rating units per feature unit; with
        ``standardize=True``: rating SDs per feature SD), plus ``intercept``
        when fitted. With groups the index is ``(group, feature)``.
    ci : pandas.DataFrame
        Bootstrap percentile intervals, columns ``low`` and ``high``, same index
        as ``coef`` (NaN with ``n_boot=0``).
    r2 : pandas.Series
        In-sample R^2 (by group with groups; a Series with the one entry
        ``"all"`` otherwise).
    n_journeys : pandas.Series
        Rated journeys used (by group, or ``"all"``).
    features : tuple of str
    level : float
    n_boot : int
    standardize : bool
    rules : dict
        Group (``"all"`` without groups) -> :class:`LinearRule` with the fitted
        weights on the rating scale (unstandardised).
    """

    coef: pd.Series
    ci: pd.DataFrame
    r2: pd.Series
    n_journeys: pd.Series
    features: tuple[str, ...]
    level: float
    n_boot: int
    standardize: bool
    rules: dict[Hashable, LinearRule] = dataclasses.field(repr=False)
    grouped: bool = False

    @property
    def rule(self) -> LinearRule:
        """The fitted :class:`LinearRule` (ungrouped fits; with groups use ``rules[group]``)."""
        if self.grouped:
            raise ValueError(
                f"this fit has one rule per group; use .rules[group] (groups: "
                f"{', '.join(map(str, self.rules))})"
            )
        return self.rules["all"]

    def table(self) -> pd.DataFrame:
        """Return weights, intervals, bootstrap standard errors and the fit's size, one row a term.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``low``, ``high`` (the ``level`` interval),
            ``r2`` and ``n_journeys`` (of the term's group).
        """
        t = self.ci.copy()
        t.insert(0, "estimate", self.coef)
        if self.grouped:
            groups = t.index.get_level_values(0)
            t["r2"] = self.r2.reindex(groups).to_numpy()
            t["n_journeys"] = self.n_journeys.reindex(groups).to_numpy()
        else:
            t["r2"] = float(self.r2.iloc[0])
            t["n_journeys"] = int(self.n_journeys.iloc[0])
        return t

    summary = table


def _check_int(value: Any, argument: str, low: int, text: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{argument} must be {text}, got {value!r}")
    return int(value)


def fit(
    affect: ArrayLike,
    offsets: ArrayLike,
    ratings: ArrayLike,
    durations: ArrayLike | None = None,
    features: Sequence[str] = ("peak", "end", "mean"),
    groups: ArrayLike | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    intercept: bool = True,
    standardize: bool = False,
    engine: str = "auto",
) -> MemoryFit:
    """Estimate how strongly each feature of a journey drives its retrospective rating.

    Least squares of ``ratings`` on the chosen journey features, by default
    unstandardised (weights on the rating's own scale per feature unit) with an
    intercept, and percentile-bootstrap intervals that resample whole journeys
    (with replacement, ``n_boot`` times, from ``seed``: the same call gives the
    same intervals). With ``groups`` one fit per group, each with its own
    bootstrap.

    Parameters
    ----------
    affect, offsets, durations
        Ragged journeys as for :func:`peakend.memory.score`: affect on the
        -10..10 scale, durations in minutes (default one minute per episode).
        Every journey must be rated and have at least one episode.
    ratings : array_like of float, shape (n_journeys,)
        The retrospective rating of each journey, any scale; finite.
    features : sequence of str, default ("peak", "end", "mean")
        Regressors from :data:`FEATURES`: ``peak``, ``end``, ``mean``,
        ``trough``, ``best``, ``trend``, ``duration``, ``first``, ``integral``.
    groups : array_like, shape (n_journeys,), optional
        A label per journey (e.g. a segment); one fit per distinct label.
    n_boot : int, default 1000
        Bootstrap resamples: 0 (no intervals) or >= 100.
    level : float, default 0.95
        Interval coverage, in (0, 1).
    seed : int, default 0
        Seed of the bootstrap (``numpy.random.SeedSequence``); >= 0.
    intercept : bool, default True
        Fit an intercept (without one the weights must carry the rating's
        offset; only sensible when ratings and affect share a zero).
    standardize : bool, default False
        Report weights in rating SDs per feature SD (``coef`` and ``ci``);
        ``rules`` always use the unstandardised weights.
    engine : {"auto", "numpy", "numba"}
        Scoring engine for the features (see :func:`peakend.memory.score`).

    Returns
    -------
    MemoryFit
        ``.coef`` (pandas Series by feature), ``.ci`` (DataFrame, columns
        ``low``, ``high``), ``.table()``, ``.r2``, ``.rule`` (a
        :class:`LinearRule` that scores new journeys with the fitted weights).

    Raises
    ------
    ValueError
        Malformed journeys, ratings of the wrong length or not finite, empty
        journeys, unknown or repeated features, too few journeys for the
        features, constant or collinear features, bad ``n_boot``, ``level``,
        ``seed`` or ``groups``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> offsets = np.concatenate([[0], np.cumsum(rng.integers(2, 12, 300))])
    >>> affect = rng.uniform(-8, 8, offsets[-1])
    >>> truth = LinearRule(features=("peak", "end"), weights=(0.6, 0.3), intercept=1.0)
    >>> ratings = truth(affect, offsets) + rng.normal(0, 0.5, 300)
    >>> result = fit(affect, offsets, ratings, features=("peak", "end"), n_boot=200)
    >>> result.coef.round(1).to_dict()
    {'intercept': 1.0, 'peak': 0.6, 'end': 0.3}
    """
    import pandas as pd

    names = _check_features(features)
    n_boot = _check_int(n_boot, "n_boot", 0, "an integer, 0 (no intervals) or >= 100")
    if 0 < n_boot < 100:
        raise ValueError(f"n_boot must be an integer, 0 (no intervals) or >= 100, got {n_boot}")
    if not (isinstance(level, float | int) and not isinstance(level, bool) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    seed = _check_int(seed, "seed", 0, "an integer >= 0")
    for flag, value in (("intercept", intercept), ("standardize", standardize)):
        if not isinstance(value, bool):
            raise ValueError(f"{flag} must be True or False, got {value!r}")
    a, o, d, y = _ragged_with_ratings(affect, offsets, ratings, durations)
    n = y.size
    if groups is None:
        labels: list[Hashable] = ["all"]
        members = [np.arange(n)]
    else:
        g = np.asarray(groups)
        if g.ndim != 1 or g.size != n:
            raise ValueError(
                f"groups must have one label per journey (len(offsets) - 1 = {n}), got "
                f"{'shape ' + str(g.shape) if g.ndim != 1 else 'length ' + str(g.size)}"
            )
        codes, uniques = pd.factorize(g, sort=True, use_na_sentinel=True)
        if (codes < 0).any():
            i = int(np.argmax(codes < 0))
            raise ValueError(f"groups must not be missing (NaN/None), got groups[{i}] = {g[i]!r}")
        labels = [u.item() if hasattr(u, "item") else u for u in uniques]
        members = [np.flatnonzero(codes == k) for k in range(len(labels))]
    x_all = _feature_matrix(a, o, d, names, engine)
    terms = (["intercept"] if intercept else []) + list(names)
    streams = np.random.SeedSequence(seed).spawn(len(labels))
    tail = (1 - level) / 2
    coef_rows, ci_rows, r2, sizes, rules = [], [], {}, {}, {}
    for label, idx, stream in zip(labels, members, streams, strict=True):
        where = "" if groups is None else f" in group {label!r}"
        x, yy = x_all[idx], y[idx]
        _check_design(x, names, where)
        if intercept:
            b0, b = _ols(x, yy)
        else:
            b = np.linalg.lstsq(x, yy, rcond=None)[0].astype(np.float64)
            b0 = 0.0
        fitted = b0 + x @ b
        ss_tot = float(((yy - yy.mean()) ** 2).sum())
        r2[label] = 1 - float(((yy - fitted) ** 2).sum()) / ss_tot if ss_tot > 0 else math.nan
        sizes[label] = int(idx.size)
        rules[label] = LinearRule(features=names, weights=tuple(b.tolist()), intercept=b0)
        est = np.concatenate([[b0], b]) if intercept else b
        if n_boot:
            rng = np.random.default_rng(stream)
            if intercept:
                boot = _bootstrap(x, yy, n_boot, rng)
            else:
                boot = _bootstrap_no_intercept(x, yy, n_boot, rng)
            low, high = np.quantile(boot, [tail, 1 - tail], axis=0)
        else:
            low = high = np.full(est.size, np.nan)
        if standardize:
            # rating SDs per feature SD; the intercept of z-scored data is 0 by construction
            scale = x.std(axis=0) / yy.std()
            if intercept:
                scale = np.concatenate([[0.0], scale])
            est, low, high = est * scale, low * scale, high * scale
        coef_rows.append(est)
        ci_rows.append(np.column_stack([low, high]))
    if groups is None:
        index: pd.Index = pd.Index(terms, name="term")
    else:
        index = pd.MultiIndex.from_product([labels, terms], names=["group", "term"])
    coef = pd.Series(np.concatenate(coef_rows), index=index, name="estimate")
    ci = pd.DataFrame(np.concatenate(ci_rows), index=index, columns=["low", "high"])
    return MemoryFit(
        coef=coef,
        ci=ci,
        r2=pd.Series(r2, name="r2"),
        n_journeys=pd.Series(sizes, name="n_journeys"),
        features=names,
        level=float(level),
        n_boot=n_boot,
        standardize=standardize,
        rules=rules,
        grouped=groups is not None,
    )


def _bootstrap_no_intercept(
    x: FloatArray, y: FloatArray, n_boot: int, rng: np.random.Generator
) -> FloatArray:
    n, _ = x.shape
    out = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        b, *_ = np.linalg.lstsq(x[idx], y[idx], rcond=None)
        out.append(b)
    return np.array(out)


# --------------------------------------------------------------------------------------
# compare_rules
# --------------------------------------------------------------------------------------

#: Candidate rules of :func:`compare_rules` by default; "fitted" is the weighted rule
#: fitted inside the folds on ``fitted_features``.
DEFAULT_CANDIDATES: tuple[str, ...] = ("peak_end", "mean", "end", "integral", "trend", "fitted")


def compare_rules(
    affect: ArrayLike,
    offsets: ArrayLike,
    ratings: ArrayLike,
    rules: Iterable[str | MemoryRule] = DEFAULT_CANDIDATES,
    *,
    durations: ArrayLike | None = None,
    folds: int = 5,
    seed: int = 0,
    fitted_features: Sequence[str] = ("peak", "end", "mean"),
    engine: str = "auto",
) -> pd.DataFrame:
    """Cross-validate candidate memory rules against retrospective ratings.

    Each rule's score is linearly calibrated to the rating scale
    (``rating ~ a + b * score``) on the training folds and predicts the held-out
    fold; ``"fitted"`` is the weighted rule, least squares on
    ``fitted_features`` fitted inside the folds. Journeys are split into
    ``folds`` random folds from ``seed`` (the same folds for every rule).

    Parameters
    ----------
    affect, offsets, ratings, durations
        As for :func:`fit`.
    rules : iterable of str or MemoryRule
        Built-in rule names (:data:`peakend.memory.RULE_NAMES`), rule objects
        (a :class:`LinearRule` included, used as it is then calibrated), and/or
        ``"fitted"``. Default: peak_end, mean, end, integral, trend, fitted.
    folds : int, default 5
        Number of folds, 2 <= folds <= n_journeys (``folds = n_journeys`` is
        leave-one-out); every training set needs enough journeys for its fit.
    seed : int, default 0
        Seed of the fold assignment; >= 0.
    fitted_features : sequence of str, default ("peak", "end", "mean")
        Features of the ``"fitted"`` candidate (see :data:`FEATURES`).
    engine : {"auto", "numpy", "numba"}
        Scoring engine.

    Returns
    -------
    pandas.DataFrame
        One row per rule (index ``rule``: the rule's label, or ``fitted``),
        sorted by ``r2_cv`` (best first), with columns ``r2_cv`` (out-of-fold
        R^2 against the ratings' mean), ``r_cv`` (correlation of out-of-fold
        predictions with the ratings), ``rmse_cv`` (rating units), ``r``
        (correlation of the rule's raw score with the ratings over all
        journeys; for ``fitted``: ``r_cv``), and ``n_params`` (fitted per
        fold: 2 for a calibrated rule). Compare ``r`` with the meta-analytic
        r = 0.58 of the peak-end rule (Alaybek et al. 2022, 95 % CI 0.49-0.66).

    Raises
    ------
    ValueError
        Bad journeys or ratings (as for :func:`fit`), unknown rules, bad
        ``folds`` or ``seed``, a rule whose score is constant over the journeys.
    """
    import pandas as pd

    candidates = [rules] if isinstance(rules, str | MemoryRule) else list(rules)
    if not candidates:
        raise ValueError("rules must name at least one candidate rule")
    fixed: list[MemoryRule] = []
    labels: list[str] = []
    for rule in candidates:
        if rule == "fitted":
            labels.append("fitted")
            continue
        if isinstance(rule, str) and rule not in RULE_NAMES:
            raise ValueError(
                f"rules: unknown rule {rule!r}{_suggest(rule, (*RULE_NAMES, 'fitted'))}; valid: "
                f"{', '.join(RULE_NAMES)}, fitted, or a MemoryRule object"
            )
        obj = get_rule(rule)
        fixed.append(obj)
        labels.append(obj.label)
    dup = [lab for i, lab in enumerate(labels) if lab in labels[:i]]
    if dup:
        raise ValueError(f"rules: {dup[0]!r} is given twice")
    names = _check_features(fitted_features, "fitted_features")
    seed = _check_int(seed, "seed", 0, "an integer >= 0")
    a, o, d, y = _ragged_with_ratings(affect, offsets, ratings, durations)
    n = y.size
    folds = _check_int(folds, "folds", 2, "an integer >= 2")
    need = (len(names) + 2) if "fitted" in labels else 3
    if n - math.ceil(n / folds) < need or folds > n:
        raise ValueError(
            f"folds = {folds} is too many for {n} journeys: every fold needs a journey and "
            f"every training set at least {need} (use fewer folds or more journeys)"
        )
    scores = score_many(a, o, fixed, durations=d, engine=engine) if fixed else {}
    for label, s in scores.items():
        if not s.std() > 1e-12 * max(1.0, float(np.abs(s).max())):
            raise ValueError(
                f"rule {label!r} gives the same score (= {s[0]:g}) to every journey: it cannot "
                "be calibrated to the ratings"
            )
    x_fit = _feature_matrix(a, o, d, names, engine) if "fitted" in labels else None
    fold_of = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n) % folds
    ss_tot = float(((y - y.mean()) ** 2).sum())
    rows = {}
    for label in labels:
        pred = np.empty(n)
        for k in range(folds):
            test = fold_of == k
            train = ~test
            if label == "fitted":
                assert x_fit is not None
                _check_design(x_fit[train], names, f" in the training set of fold {k}")
                b0, b = _ols(x_fit[train], y[train])
                pred[test] = b0 + x_fit[test] @ b
            else:
                s = scores[label]
                b0, b = _ols(s[train, None], y[train])
                pred[test] = b0 + s[test] * b[0]
        resid = y - pred
        r_cv = float(np.corrcoef(pred, y)[0, 1]) if pred.std() > 0 else math.nan
        raw = r_cv if label == "fitted" else float(np.corrcoef(scores[label], y)[0, 1])
        rows[label] = {
            "r2_cv": 1 - float(resid @ resid) / ss_tot if ss_tot > 0 else math.nan,
            "r_cv": r_cv,
            "rmse_cv": float(np.sqrt(np.mean(resid**2))),
            "r": raw,
            "n_params": len(names) + 1 if label == "fitted" else 2,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "rule"
    return table.sort_values("r2_cv", ascending=False, kind="stable")
