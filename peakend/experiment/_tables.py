"""The analysis tables of :class:`~peakend.experiment.Results`, as pandas DataFrames.

Each function takes a ``Results`` and returns a DataFrame with a plain
``RangeIndex``, columns a pandas or R user can type (units in
``docs/reference/results.md``), and ``df.attrs["title"]`` (plus the settings
that made it, e.g. ``attrs["confidence"]``). The methods of ``Results`` call
these; they hold the docstrings.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from peakend import stats
from peakend.experiment._aggregate import ALL

if TYPE_CHECKING:  # pragma: no cover
    from peakend.experiment._results import Results

__all__ = [
    "COLUMNS",
    "compare_table",
    "cost_per_point_table",
    "headline_table",
    "pareto_table",
    "rankings_table",
    "rule_disagreement_table",
    "summary_table",
]

#: Columns of each table (``rankings`` adds one column per rule after ``policy``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "summary": ("policy", "segment", "metric", "mean", "half_width", "low", "high", "sd", "n",
                "note"),
    "compare": ("policy", "segment", "metric", "baseline_mean", "policy_mean", "difference",
                "half_width", "low", "high", "p_value", "p_holm", "significant", "n", "note"),
    "cost_per_point": ("policy", "segment", "rule", "cost_difference", "value_difference",
                       "value_low", "value_high", "cost_per_point", "note"),
    "pareto": ("policy", "cost", "value", "efficient", "note"),
    "rankings": ("policy",),
    "rule_disagreement": ("segment", "rule_a", "rule_b", "policy_1", "policy_2", "difference_a",
                          "p_a", "difference_b", "p_b", "both_significant"),
    "headline": ("policy", "segment", "remembered", "half_width", "wait_mean", "abandonment_rate",
                 "cost", "n_customers"),
}

_DTYPES = {"n": "int64", "significant": "bool", "both_significant": "bool", "efficient": "bool"}
_TEXT = {"policy", "segment", "metric", "note", "rule", "rule_a", "rule_b", "policy_1",
         "policy_2"}

#: Note of a row whose segment had no customer in any replication (every value NaN).
NOTE_NO_CUSTOMERS = "no customers"
#: Note of a row with customers but no finite value (e.g. a mean wait when nobody queued).
NOTE_UNDEFINED = "undefined"


def _no_value_note(res: Results, policies: Sequence[int], segment: int) -> str:
    """Say why a row has no finite value: a policy without customers, or undefined."""
    if "n_customers" not in res.metrics:
        return NOTE_UNDEFINED
    n = res.values[list(policies), :, segment, res.metrics.index("n_customers")]
    none = np.all(np.nan_to_num(n) == 0, axis=1)  # per policy: no customer in any replication
    return NOTE_NO_CUSTOMERS if none.any() else NOTE_UNDEFINED


def _frame(kind: str, cols: dict[str, list[Any]], **attrs: Any) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, values in cols.items():
        if name in _TEXT:
            data[name] = pd.Series(values, dtype=str)
        elif name in _DTYPES:
            data[name] = pd.Series(values, dtype=_DTYPES[name])
        else:
            data[name] = pd.Series(values, dtype="float64")
    df = pd.DataFrame(data, columns=list(cols))
    df.attrs.update(attrs)
    df.attrs["table"] = kind
    return df


def _empty(kind: str) -> dict[str, list[Any]]:
    return {k: [] for k in COLUMNS[kind]}


def nanmean(x: np.ndarray, axis: int | None = None) -> Any:
    """Mean of the finite values (NaN where there are none), without numpy's warnings.

    The same values as :func:`peakend.stats.mean_ci` uses; no global warning
    filter is touched (safe in threads).
    """
    arr = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(arr)
    n = finite.sum(axis=axis)
    total = np.where(finite, arr, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)[()]


def summary_table(res: Results, metrics: Sequence[str] | str | None,
                  segments: Sequence[str] | str | None, confidence: float) -> pd.DataFrame:
    """See :meth:`Results.summary`."""
    confidence = stats.check_confidence(confidence)
    ms, ss = res._select(metrics, segments)
    cols = _empty("summary")
    mi = [res.metrics.index(m) for m in ms]
    for p, pol in enumerate(res.policies):
        for seg in ss:
            s = res.segments.index(seg)
            ci = stats.mean_ci(res.values[p, :, s, :][:, mi], axis=0, confidence=confidence)
            for k, m in enumerate(ms):
                cols["policy"].append(pol)
                cols["segment"].append(seg)
                cols["metric"].append(m)
                for name in ("mean", "half_width", "low", "high", "sd"):
                    cols[name].append(float(getattr(ci, name)[k]))
                cols["n"].append(int(ci.n[k]))
                cols["note"].append(str(ci.note[k]) if ci.n[k] else _no_value_note(res, [p], s))
    return _frame("summary", cols, confidence=confidence,
                  title=f"summary ({confidence:.0%} t-intervals, {res.n_replications} "
                        "replications)")


def compare_table(res: Results, baseline: str | None, metrics: Sequence[str] | str | None,
                  segments: Sequence[str] | str | None, confidence: float) -> pd.DataFrame:
    """See :meth:`Results.compare`."""
    confidence = stats.check_confidence(confidence)
    b = res._baseline(baseline)
    ms, ss = res._select(metrics, segments)
    others = [p for p in range(len(res.policies)) if p != b]
    cols = _empty("compare")
    alpha = 1.0 - confidence
    attrs = {"baseline": res.policies[b], "confidence": confidence}
    if not others:
        return _frame("compare", cols, title="compare: only one policy", **attrs)
    for seg in ss:
        s = res.segments.index(seg)
        for m in ms:
            k = res.metrics.index(m)
            base = res.values[b, :, s, k]
            arr = res.values[others, :, s, k]  # (P-1, R)
            d = stats.paired_difference(arr.T, np.broadcast_to(base, arr.shape).T,
                                        axis=0, confidence=confidence)
            adj = stats.holm(d.p_value)
            base_mean = float(stats.mean_ci(base).mean)
            pol_mean = stats.mean_ci(arr.T, axis=0).mean
            for j, p in enumerate(others):
                cols["policy"].append(res.policies[p])
                cols["segment"].append(seg)
                cols["metric"].append(m)
                cols["baseline_mean"].append(base_mean)
                cols["policy_mean"].append(float(pol_mean[j]))
                cols["difference"].append(float(d.mean[j]))
                cols["half_width"].append(float(d.half_width[j]))
                cols["low"].append(float(d.low[j]))
                cols["high"].append(float(d.high[j]))
                cols["p_value"].append(float(d.p_value[j]))
                cols["p_holm"].append(float(adj[j]))
                cols["significant"].append(bool(adj[j] < alpha))  # NaN < alpha is False
                cols["n"].append(int(d.n[j]))
                cols["note"].append(str(d.note[j]) if d.n[j] else _no_value_note(res, [p, b], s))
    title = (f"paired differences vs {res.policies[b]!r} ({confidence:.0%} t-intervals, "
             f"Holm across {len(others)} policies; significant: Holm-adjusted p < {alpha:g})")
    return _frame("compare", cols, title=title, **attrs)


def cost_per_point_table(res: Results, baseline: str | None, rule: str | None, segment: str,
                         confidence: float) -> pd.DataFrame:
    """See :meth:`Results.cost_per_point`."""
    confidence = stats.check_confidence(confidence)
    b = res._baseline(baseline)
    rule = rule or res.headline_rule
    v = res.get(rule, segment)
    c = res.get("cost", ALL)
    cols = _empty("cost_per_point")
    for p in range(len(res.policies)):
        if p == b:
            continue
        dv = stats.paired_difference(v[p], v[b], confidence=confidence)
        dc = float(nanmean(c[p] - c[b]))
        gain = float(dv.mean)
        note = ""
        cpp = float("nan")
        if not np.isfinite(gain):
            note = _no_value_note(res, [p, b], res.segments.index(segment)) if not dv.n else str(
                dv.note)
        else:
            # the value difference is known to be positive (negative) when its interval
            # lies above (below) zero, or when every replication's difference is exactly
            # that of the mean (a policy that changes nobody's memory: gain 0, width 0)
            exact = float(dv.half_width) == 0.0
            better = dv.low > 0 or (exact and gain > 0)
            worse = dv.high < 0 or (exact and gain < 0)
            same = exact and gain == 0
            if same and dc == 0:
                note = "no change"
            elif (better or same) and dc <= 0:
                note = "dominant"  # better (or the same) and not dearer
            elif (worse or same) and dc >= 0:
                note = "dominated"  # worse (or the same) and not cheaper
            elif worse and dc < 0:
                note = "cheaper, worse"
            elif not better:
                note = "not significant"
            if gain > 0 and dc > 0:
                cpp = dc / gain
        cols["policy"].append(res.policies[p])
        cols["segment"].append(segment)
        cols["rule"].append(rule)
        cols["cost_difference"].append(dc)
        cols["value_difference"].append(gain)
        cols["value_low"].append(float(dv.low))
        cols["value_high"].append(float(dv.high))
        cols["cost_per_point"].append(cpp)
        cols["note"].append(note)
    return _frame("cost_per_point", cols, baseline=res.policies[b], rule=rule, segment=segment,
                  confidence=confidence,
                  title=f"cost per point of remembered value ({rule}, segment {segment!r}) "
                        f"vs {res.policies[b]!r}")


def pareto_table(res: Results, rule: str | None, segment: str) -> pd.DataFrame:
    """See :meth:`Results.pareto`."""
    rule = rule or res.headline_rule
    v = nanmean(res.get(rule, segment), axis=1)
    c = nanmean(res.get("cost", ALL), axis=1)
    eff = stats.pareto_efficient(c, v)
    order = np.lexsort((-np.nan_to_num(v, nan=-np.inf), c))
    cols = _empty("pareto")
    for i in order:
        cols["policy"].append(res.policies[i])
        cols["cost"].append(float(c[i]))
        cols["value"].append(float(v[i]))
        cols["efficient"].append(bool(eff[i]))
        cols["note"].append("" if np.isfinite(v[i])
                            else _no_value_note(res, [int(i)], res.segments.index(segment)))
    return _frame("pareto", cols, rule=rule, segment=segment,
                  title=f"Pareto front: min cost, max remembered value ({rule}, "
                        f"segment {segment!r})")


def rankings_table(res: Results, segment: str, rules: Sequence[str] | None) -> pd.DataFrame:
    """See :meth:`Results.rankings`."""
    rules = list(rules) if rules is not None else list(res.rules)
    df = pd.DataFrame({"policy": pd.Series(list(res.policies), dtype=str)})
    for r in rules:
        df[r] = stats.rank(nanmean(res.get(r, segment), axis=1))
    df.attrs.update(table="rankings", segment=segment,
                    title=f"rank of policies by remembered value (segment {segment!r}; "
                          "1 = best)")
    return df


def rule_disagreement_table(res: Results, rule_a: str | None, rule_b: str | None, segment: str,
                            confidence: float) -> pd.DataFrame:
    """See :meth:`Results.rule_disagreement`."""
    confidence = stats.check_confidence(confidence)
    first = rule_a or res.headline_rule
    if rule_b is not None:
        pairs = [(first, rule_b)]
    else:
        pairs = [(first, r) for r in res.rules if res.metric_name(r) != res.metric_name(first)]
    cols = _empty("rule_disagreement")
    alpha = 1.0 - confidence
    for ra, rb in pairs:
        va, vb = res.get(ra, segment), res.get(rb, segment)
        for i, j in itertools.combinations(range(len(res.policies)), 2):
            da = stats.paired_difference(va[i], va[j], confidence=confidence)
            db = stats.paired_difference(vb[i], vb[j], confidence=confidence)
            if not (np.sign(da.mean) * np.sign(db.mean) < 0):  # NaN: no disagreement shown
                continue
            cols["segment"].append(segment)
            cols["rule_a"].append(ra)
            cols["rule_b"].append(rb)
            cols["policy_1"].append(res.policies[i])
            cols["policy_2"].append(res.policies[j])
            cols["difference_a"].append(float(da.mean))
            cols["p_a"].append(float(da.p_value))
            cols["difference_b"].append(float(db.mean))
            cols["p_b"].append(float(db.p_value))
            cols["both_significant"].append(bool(da.p_value < alpha and db.p_value < alpha))
    return _frame("rule_disagreement", cols, segment=segment, confidence=confidence,
                  title=f"policy pairs ordered differently by two memory rules "
                        f"(segment {segment!r})")


def headline_table(res: Results, confidence: float) -> pd.DataFrame:
    """See :meth:`Results.headline`."""
    confidence = stats.check_confidence(confidence)
    rule = res.headline_rule
    cols = _empty("headline")
    for pol in res.policies:
        for seg in res.segments:
            ci = stats.mean_ci(res.get(rule, seg, pol), confidence=confidence)
            cols["policy"].append(pol)
            cols["segment"].append(seg)
            cols["remembered"].append(float(ci.mean))
            cols["half_width"].append(float(ci.half_width))
            for m in ("wait_mean", "abandonment_rate", "cost", "n_customers"):
                cols[m].append(float(nanmean(res.get(m, seg, pol))))
    return _frame("headline", cols, rule=rule, confidence=confidence,
                  title=f"remembered value ({rule}, affect points) with {confidence:.0%} CI "
                        f"half-width, {res.n_replications} replications")
