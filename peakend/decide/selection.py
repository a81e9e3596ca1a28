"""Picking the best policy with a guarantee: Kim and Nelson's fully sequential procedure.

The procedure KN (Kim & Nelson 2001) takes ``n0`` replications of every system,
estimates the variance of every pairwise difference (so common random numbers,
which make the differences less variable, need fewer replications), then adds one
replication at a time to the surviving systems and eliminates system ``i`` as
soon as its mean falls below another survivor's mean by more than a shrinking
allowance ``W_il(r) = max(0, delta / (2 r) (h^2 S_il^2 / delta^2 - r))``. With
normal outputs it selects the best with probability at least ``confidence``
whenever the best is at least ``delta`` better than every other system (the
indifference zone).

References
----------
.. [1] S.-H. Kim and B. L. Nelson, "A fully sequential procedure for
   indifference-zone selection in simulation", *ACM TOMACS* 11(3):251-273, 2001.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from peakend.config import Scenario

__all__ = ["Selection", "kn_select", "select_best"]

#: Metrics for which smaller is better (the default direction of select_best).
SMALLER_IS_BETTER = ("wait_mean", "wait_p90", "perceived_wait_mean", "abandonment_rate",
                     "slips_mean", "gift_cost", "staff_cost", "fixed_cost", "cost")


@dataclass
class Selection:
    """The outcome of a ranking-and-selection procedure.

    Attributes
    ----------
    best : str
        Name of the selected system (policy).
    names : list of str
        Every system, in the order given.
    replications : dict of str to int
        Replications each system needed (until it was eliminated, or to the end).
    eliminations : list of dict
        In order: ``policy``, ``replication`` (the count r at elimination) and
        ``by`` (the survivor that beat it).
    means : dict of str to float
        Each system's mean over its replications (metric units, as given: not negated).
    delta : float
        Indifference zone, metric units.
    confidence : float
        Nominal probability of correct selection.
    h2 : float
        The procedure's constant ``h^2 = 2 eta (n0 - 1)``.
    stopped : bool
        True if ``max_replications`` ended the procedure with several survivors
        (then ``best`` is the survivor with the best mean and the guarantee does not hold).
    simulated_days : int
        Days simulated (every policy and batch; 0 for a synthetic simulator).
    """

    best: str
    names: list[str]
    replications: dict[str, int]
    eliminations: list[dict[str, Any]]
    means: dict[str, float]
    delta: float
    confidence: float
    h2: float
    stopped: bool = False
    simulated_days: int = 0
    larger_is_better: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """Return one row per system: mean, replications, eliminated at, by whom, selected."""
        import pandas as pd

        out = {e["policy"]: e for e in self.eliminations}
        return pd.DataFrame({
            "policy": self.names,
            "mean": [self.means[n] for n in self.names],
            "replications": [self.replications[n] for n in self.names],
            "eliminated_at": pd.array([out[n]["replication"] if n in out else None
                                       for n in self.names], dtype="Int64"),
            "eliminated_by": [out[n]["by"] if n in out else None for n in self.names],
            "selected": [n == self.best for n in self.names],
        })


def _check(value: Any, name: str, low: float, high: float, *, integer: bool = False,
           open_low: bool = False) -> Any:
    ok = not isinstance(value, bool) and isinstance(
        value, (int, np.integer) if integer else (int, float, np.integer, np.floating))
    if ok:
        v = float(value)
        ok = math.isfinite(v) and (v > low if open_low else v >= low) and v <= high
    if not ok:
        kind = "an integer" if integer else "a number"
        side = "(" if open_low else "["
        raise ValueError(f"{name}: must be {kind} in {side}{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


def kn_select(
    simulate: Callable[[int, np.ndarray], np.ndarray],
    names: list[str] | int,
    *,
    delta: float,
    confidence: float = 0.95,
    n0: int = 10,
    larger_is_better: bool = True,
    max_replications: int = 100000,
) -> Selection:
    """Kim-Nelson fully sequential selection of the best of k systems.

    Parameters
    ----------
    simulate : callable ``(r, alive) -> ndarray of shape (k,)``
        Outputs of replication ``r`` (0, 1, ...) of every system; ``alive`` is
        a boolean mask of the surviving systems (outputs of the others are not
        used and may be NaN). Replication ``r`` of all systems should share
        random numbers (CRN), but need not.
    names : list of str or int
        System names, or their number k (then named ``"0"``, ``"1"``, ...).
    delta : float
        Indifference zone, > 0, in output units.
    confidence : float, default 0.95
        Nominal probability of correct selection, in (1/k, 1).
    n0 : int, default 10
        First-stage replications, >= 2.
    larger_is_better : bool, default True
        Direction of the output.
    max_replications : int, default 100000
        Stop with several survivors after this many replications (flagged ``stopped``).

    Returns
    -------
    Selection
    """
    labels = [str(i) for i in range(names)] if isinstance(names, int) else list(names)
    k = len(labels)
    if k < 2:
        raise ValueError(f"names: need at least 2 systems to select from, got {k}")
    delta = _check(delta, "delta", 0.0, math.inf, open_low=True)
    confidence = _check(confidence, "confidence", 1.0 / k, 1.0 - 1e-12, open_low=True)
    n0 = _check(n0, "n0", 2, 10**6, integer=True)
    max_replications = _check(max_replications, "max_replications", n0, 10**9, integer=True)
    alpha = 1.0 - confidence
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    h2 = 2.0 * eta * (n0 - 1)
    sign = 1.0 if larger_is_better else -1.0
    alive = np.ones(k, dtype=bool)

    def draw(r: int) -> np.ndarray:
        x = np.asarray(simulate(r, alive.copy()), dtype=np.float64)
        if x.shape != (k,):
            raise ValueError(f"simulate must return {k} outputs, got shape {x.shape}")
        if not np.all(np.isfinite(x[alive])):
            raise ValueError(f"simulate returned a non-finite output at replication {r}")
        return x

    first = np.stack([draw(r) for r in range(n0)])  # (n0, k)
    diffs = first[:, :, None] - first[:, None, :]
    s2 = diffs.var(axis=0, ddof=1)  # (k, k)
    sums = first.sum(axis=0) * sign
    own_sums = first.sum(axis=0)
    counts = np.full(k, n0)
    eliminations: list[dict[str, Any]] = []
    r = n0
    stopped = False
    while True:
        means = sums / r
        w = np.maximum(0.0, delta / (2.0 * r) * (h2 * s2 / delta**2 - r))
        idx = np.flatnonzero(alive)
        # i is out if some other survivor l has mean_l - W_il > mean_i
        gap = means[idx][None, :] - w[np.ix_(idx, idx)] - means[idx][:, None]
        np.fill_diagonal(gap, -np.inf)
        out = idx[(gap > 0).any(axis=1)]
        for i in out:
            by = idx[int(np.argmax(gap[list(idx).index(i)]))]
            eliminations.append({"policy": labels[i], "replication": r, "by": labels[by]})
        alive[out] = False
        if alive.sum() <= 1:
            break
        if r >= max_replications:
            stopped = True
            break
        x = draw(r)
        sums[alive] += sign * x[alive]
        own_sums[alive] += x[alive]
        counts[alive] += 1
        r += 1
    survivors = np.flatnonzero(alive)
    if survivors.size == 0:  # two survivors eliminated each other (ties): best mean wins
        survivors = np.array([int(np.argmax(sums / counts))])
    best = survivors[int(np.argmax((sums / counts)[survivors]))]
    return Selection(
        best=labels[best], names=labels,
        replications={labels[i]: int(counts[i]) for i in range(k)},
        eliminations=eliminations,
        means={labels[i]: float(own_sums[i] / counts[i]) for i in range(k)},
        delta=delta, confidence=confidence, h2=float(h2), stopped=stopped,
        larger_is_better=larger_is_better,
    )


class _Batches:
    """Replications of the surviving policies in batches, each batch on its own seed (CRN)."""

    def __init__(self, scenario: Scenario, policies: list[Any], segment: str, metric: str,
                 rules: tuple[str, ...], *, seed: int, n0: int, batch: int,
                 workers: int | None, run_kwargs: Mapping[str, Any]) -> None:
        self.scenario, self.policies, self.segment, self.metric = scenario, policies, segment, \
            metric
        self.rules, self.seed, self.n0, self.batch = rules, seed, n0, batch
        self.workers, self.run_kwargs = workers, dict(run_kwargs)
        self.cache: dict[int, dict[int, np.ndarray]] = {}
        self.simulated_days = 0

    def where(self, r: int) -> tuple[int, int, int]:
        """Batch index, position in it, and its size, of replication r."""
        if r < self.n0:
            return 0, r, self.n0
        j, pos = divmod(r - self.n0, self.batch)
        return j + 1, pos, self.batch

    def __call__(self, r: int, alive: np.ndarray) -> np.ndarray:
        import peakend as pe
        from peakend.decide.staffing import derived_seed

        j, pos, size = self.where(r)
        have = self.cache.setdefault(j, {})
        need = [i for i in np.flatnonzero(alive) if int(i) not in have]
        if need:
            res = pe.run(self.scenario, [self.policies[i] for i in need], replications=size,
                         seed=derived_seed(self.seed, 2, j), workers=self.workers,
                         progress=False, rules=self.rules, **self.run_kwargs)
            self.simulated_days += size * len(need)
            for i in need:
                have[int(i)] = np.asarray(res.get(self.metric, self.segment,
                                                  self.policies[i].name), dtype=np.float64)
        out = np.full(len(self.policies), np.nan)
        for i in np.flatnonzero(alive):
            out[i] = have[int(i)][pos]
        return out


def select_best(
    scenario: Scenario | str | os.PathLike[str],
    policies: Any,
    metric: str = "all.remembered[peak_end]",
    *,
    delta: float,
    confidence: float = 0.95,
    larger_is_better: bool | None = None,
    n0: int = 10,
    seed: int = 0,
    workers: int | None = None,
    batch: int = 10,
    max_replications: int = 1000,
    **run_kwargs: Any,
) -> Selection:
    """Select the best policy with Kim and Nelson's fully sequential procedure and CRN.

    Parameters
    ----------
    scenario : Scenario or str
        The branch day (or a built-in name / path).
    policies : sequence of Policy, mapping, str or path
        At least two policies (as for :func:`peakend.run`).
    metric : str, default "all.remembered[peak_end]"
        ``segment.metric`` of the daily outcome to compare.
    delta : float
        Indifference zone, > 0, in the metric's units: the best is guaranteed
        (with probability ``confidence``) when it is at least ``delta`` better
        than the rest; otherwise a policy within ``delta`` of the best is chosen
        with that probability (for normal outputs).
    confidence : float, default 0.95
        Nominal probability of correct selection.
    larger_is_better : bool, optional
        Default: False for waits, abandonment and costs, True otherwise
        (remembered values, customer counts).
    n0 : int, default 10
        First-stage replications, >= 2.
    seed : int, default 0
        Root seed; the first stage and each later batch use seeds derived from it,
        so the outcome depends on ``seed``, ``n0`` and ``batch`` (not on ``workers``).
    workers : int, optional
        Processes for :func:`peakend.run`.
    batch : int, default 10
        Replications simulated at a time after the first stage (for the
        surviving policies; the procedure still looks at them one by one).
    max_replications : int, default 1000
        Stop with several survivors after this many replications (``stopped=True``).
    **run_kwargs
        Passed on to :func:`peakend.run`.

    Returns
    -------
    Selection
        The choice, replications each policy needed, eliminations, means.
    """
    import peakend as pe
    from peakend.decide._common import policy_list
    from peakend.decide.targets import parse_metric

    if isinstance(scenario, (str, os.PathLike)):
        scenario = pe.load_scenario(scenario)
    segment, name = parse_metric(metric, scenario)
    items = policy_list(policies)
    if len(items) < 2:
        raise ValueError(f"policies: need at least 2 policies to select from, got {len(items)}")
    for p in items:
        p.apply(scenario)
    _check(seed, "seed", 0, 2**63 - 1, integer=True)
    batch = _check(batch, "batch", 1, 10**6, integer=True)
    if larger_is_better is None:
        larger_is_better = name not in SMALLER_IS_BETTER
    rule = name[len("remembered["):-1] if name.startswith("remembered[") else None
    rules = (rule,) if rule else ("peak_end",)
    sim = _Batches(scenario, items, segment, name, rules, seed=int(seed),
                   n0=_check(n0, "n0", 2, 10**6, integer=True), batch=batch, workers=workers,
                   run_kwargs=run_kwargs)
    out = kn_select(sim, [p.name for p in items], delta=delta, confidence=confidence, n0=n0,
                    larger_is_better=bool(larger_is_better), max_replications=max_replications)
    out.simulated_days = sim.simulated_days
    out.extra["metric"] = metric
    return out
