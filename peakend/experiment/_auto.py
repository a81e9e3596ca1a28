"""How many replications: sequential replications to a target precision, and a pilot-run helper.

:func:`run_auto` runs replications in growing batches until the confidence
interval of one metric is narrow enough for every policy, in the manner of the
replication algorithm of Hoad, Robinson and Davies (2010): precision must be
reached *and kept* for ``k_limit`` further replications (5, or 5 % of the
count beyond 100 replications) before the run stops. Every batch calls the
public :func:`peakend.run` with a larger ``replications`` and the same
checkpoint directory, so finished replications are loaded, not re-simulated;
replication ``r`` always uses the seed of replication ``r``, so the result
equals ``peakend.run(..., replications=n)`` for the final ``n``.

:func:`replications_needed` answers "how many replications for a half-width of
h?" from a pilot run.

References
----------
.. [1] K. Hoad, S. Robinson and R. Davies, "Automated selection of the number of
   replications for a discrete-event simulation", *Journal of the Operational
   Research Society* 61(11):1632-1644, 2010.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from peakend.config import Scenario
    from peakend.experiment import Results

__all__ = ["AutoReplications", "k_limit", "replications_needed", "run_auto"]


@dataclass
class AutoReplications:
    """What :func:`run_auto` did: the count, the final half-widths, the steps.

    Attributes
    ----------
    n_replications : int
        Replications run (the Results hold this many).
    n_solution : int or None
        The smallest count from which the precision held up to the end (Hoad et
        al.'s N_sol); None if never reached.
    converged : bool
        Precision reached and kept for ``k_limit(n_solution)`` further replications.
    metric : str
        ``segment.metric``.
    target : float
        The half-width target (relative to ``|mean|`` if ``relative``).
    relative : bool
        Whether the target is relative.
    confidence : float
        Confidence level of the two-sided t-intervals.
    means, half_widths : dict of str to float
        Per policy, at ``n_replications`` (metric units).
    steps : list of int
        The replication counts run, in order.
    """

    n_replications: int
    n_solution: int | None
    converged: bool
    metric: str
    target: float
    relative: bool
    confidence: float
    means: dict[str, float] = field(default_factory=dict)
    half_widths: dict[str, float] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)


def k_limit(n: int) -> int:
    """Look-ahead of Hoad et al.: 5 replications, or 5 % of ``n`` beyond 100."""
    return 5 if n <= 100 else math.ceil(5 * n / 100)


def _t(confidence: float, df: np.ndarray | int) -> np.ndarray:
    from scipy import stats

    return np.asarray(stats.t.ppf(0.5 + confidence / 2.0, df))


def prefix_half_widths(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and t half-width of the first m replications, for every m.

    Parameters
    ----------
    values : ndarray, shape (n_policies, n)
        Per-replication values (NaN entries are skipped).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    means, half_widths : ndarray, shape (n_policies, n)
        Column m - 1 uses the first m replications; NaN half-width below 2 finite values.
    """
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    shift = np.nanmean(x, axis=1, keepdims=True)  # centre for numerical stability
    shift = np.where(np.isfinite(shift), shift, 0.0)
    y = np.where(finite, x - shift, 0.0)
    cnt = np.cumsum(finite, axis=1)
    s1 = np.cumsum(y, axis=1)
    s2 = np.cumsum(y * y, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        var = (s2 - cnt * mean**2) / (cnt - 1)
        hw = _t(confidence, np.maximum(cnt - 1, 1)) * np.sqrt(np.maximum(var, 0.0) / cnt)
    hw = np.where(cnt >= 2, hw, np.nan)
    return mean + shift, hw


def _precision(mean: np.ndarray, hw: np.ndarray, relative: bool) -> np.ndarray:
    if not relative:
        return hw
    with np.errstate(divide="ignore", invalid="ignore"):
        out = hw / np.abs(mean)
    return np.where(hw == 0, 0.0, out)


def _n_for_half_width(sd: float, target: float, confidence: float) -> int:
    """Smallest n >= 2 with t_{n-1} sd / sqrt(n) <= target."""
    if sd == 0:
        return 2
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    n = max(2, math.ceil((z * sd / target) ** 2))
    while float(_t(confidence, n - 1)) * sd / math.sqrt(n) > target:
        n += 1
    while n > 2 and float(_t(confidence, n - 2)) * sd / math.sqrt(n - 1) <= target:
        n -= 1
    return n


def _check_common(half_width: Any, confidence: Any) -> tuple[float, float]:
    if isinstance(half_width, bool) or not isinstance(half_width, (int, float)) or not (
        math.isfinite(half_width) and half_width > 0
    ):
        raise ValueError(f"half_width: must be a positive finite number, got {half_width!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (
        0 < confidence < 1
    ):
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    return float(half_width), float(confidence)


def replications_needed(
    results: Results,
    metric: str = "all.remembered[peak_end]",
    half_width: float = 0.05,
    relative: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How many replications give a t-interval of half-width ``half_width``, from a pilot run.

    Uses the pilot's sample standard deviation s per policy and returns the
    smallest n with ``t_{n-1} s / sqrt(n) <= h`` (``h = half_width * |mean|`` if
    ``relative``). The estimate is only as good as the pilot's s (use >= 10
    replications); :func:`run_auto` runs to the target instead.

    Parameters
    ----------
    results : Results
        A pilot run.
    metric : str, default "all.remembered[peak_end]"
        ``segment.metric``.
    half_width : float, default 0.05
        Target half-width, metric units (or a fraction of ``|mean|`` if ``relative``).
    relative : bool, default False
        Target relative to the mean.
    confidence : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``policy, n_pilot, mean, sd, half_width, n_needed``.
    """
    import pandas as pd

    from peakend.experiment._metric_names import parse_metric

    h, confidence = _check_common(half_width, confidence)
    segment, name = parse_metric(metric)
    rows = []
    for pol in results.policies:
        x = np.asarray(results.get(name, segment, pol), dtype=np.float64)
        x = x[np.isfinite(x)]
        if x.size < 2:
            raise ValueError(f"results: policy {pol!r} has {x.size} finite value(s) of "
                             f"{metric}; a pilot needs at least 2")
        mean, sd = float(x.mean()), float(x.std(ddof=1))
        target = h * abs(mean) if relative else h
        now = float(_t(confidence, x.size - 1)) * sd / math.sqrt(x.size)
        need = _n_for_half_width(sd, target, confidence) if target > 0 else math.inf
        rows.append({"policy": pol, "n_pilot": int(x.size), "mean": mean, "sd": sd,
                     "half_width": now, "n_needed": need})
    return pd.DataFrame(rows)


def run_auto(
    scenario: Scenario | str | os.PathLike[str],
    policies: Any = None,
    *,
    metric: str = "all.remembered[peak_end]",
    half_width: float = 0.05,
    relative: bool = False,
    confidence: float = 0.95,
    n0: int = 10,
    max_replications: int = 1000,
    seed: int = 0,
    workers: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    **run_kwargs: Any,
) -> Results:
    """Run replications until the metric's interval is narrow enough for every policy.

    Parameters
    ----------
    scenario, policies
        As for :func:`peakend.run`.
    metric : str, default "all.remembered[peak_end]"
        ``segment.metric`` whose interval must be narrow.
    half_width : float, default 0.05
        Target half-width of the two-sided t-interval, metric units (or a
        fraction of ``|mean|`` if ``relative``).
    relative : bool, default False
        Target relative to the mean (Hoad et al.'s d = half-width / |mean|).
    confidence : float, default 0.95
        Confidence level of the intervals.
    n0 : int, default 10
        First batch, >= 3.
    max_replications : int, default 1000
        Give up (a ``RuntimeWarning``) beyond this count.
    seed, workers
        As for :func:`peakend.run`.
    checkpoint : path, optional
        Checkpoint directory shared by the batches (a temporary one if None);
        give one to resume an interrupted run.
    **run_kwargs
        Other arguments of :func:`peakend.run` (``rules``, ``progress`` ...).

    Returns
    -------
    Results
        Equal to ``peakend.run(..., replications=n)`` for the final n; its
        attribute ``auto`` (an :class:`AutoReplications`) holds the count, the
        final half-widths and the batch sizes.

    Warns
    -----
    RuntimeWarning
        If ``max_replications`` is reached before the precision holds.
    """
    import peakend as pe
    from peakend.experiment._metric_names import parse_metric

    h, confidence = _check_common(half_width, confidence)
    segment, name = parse_metric(metric)
    if isinstance(n0, bool) or not isinstance(n0, int) or n0 < 3:
        raise ValueError(f"n0: must be an integer >= 3, got {n0!r}")
    if isinstance(max_replications, bool) or not isinstance(max_replications, int) or \
            max_replications < n0:
        raise ValueError(f"max_replications: must be an integer >= n0 ({n0}), got "
                         f"{max_replications!r}")
    if "replications" in run_kwargs:
        raise ValueError("run_auto chooses replications itself; do not pass it")
    run_kwargs.setdefault("progress", False)
    rule = name[len("remembered["):-1] if name.startswith("remembered[") else None
    if rule is not None:
        rules = tuple(run_kwargs.get("rules", pe.experiment.DEFAULT_RULES))
        if rule not in rules:
            run_kwargs["rules"] = (*rules, rule)

    tmp = tempfile.TemporaryDirectory(prefix="peakend-auto-") if checkpoint is None else None
    path = tmp.name if tmp is not None else os.fspath(checkpoint)  # type: ignore[arg-type]
    try:
        n, steps = n0, []
        while True:
            res = pe.run(scenario, policies, replications=n, seed=seed, workers=workers,
                         checkpoint=path, **run_kwargs)
            steps.append(n)
            values = np.asarray(res.get(name, segment))
            mean, hw = prefix_half_widths(values, confidence)
            ok = np.all(_precision(mean, hw, relative) <= h, axis=0)  # per prefix m
            ok[: n0 - 1] = False
            if ok[-1]:
                bad = np.flatnonzero(~ok)
                n_sol = int(bad[-1]) + 2 if bad.size else 1
                n_sol = max(n_sol, n0)
            else:
                n_sol = None
            if n_sol is not None and n - n_sol >= k_limit(n_sol):
                converged = True
                break
            if n >= max_replications:
                converged = False
                break
            if n_sol is not None:
                n_next = n_sol + k_limit(n_sol)
            else:
                prec = _precision(mean[:, -1], hw[:, -1], relative)
                ratio = float(np.nanmax(prec)) / h if np.any(np.isfinite(prec)) else 2.0
                n_next = min(2 * n, max(n + 1, math.ceil(n * ratio**2)))
            n = min(max_replications, n_next)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if not converged:
        warnings.warn(f"run_auto: {metric} half-width target {h:g} not reached for every "
                      f"policy in {n} replications (max_replications)", RuntimeWarning,
                      stacklevel=2)
    info = AutoReplications(
        n_replications=n, n_solution=n_sol, converged=converged, metric=metric, target=h,
        relative=bool(relative), confidence=confidence,
        means={p: float(mean[i, -1]) for i, p in enumerate(res.policies)},
        half_widths={p: float(hw[i, -1]) for i, p in enumerate(res.policies)}, steps=steps,
    )
    res.auto = info  # type: ignore[attr-defined]
    return res
