"""Global sensitivity of outcomes, and of the ranking of policies, to uncertain inputs.

Inputs are scenario fields by their dotted path (``"segments.ordinary.expected_wait"``,
``"value_function.loss_aversion"``, ``"arrivals.profile.3.rate"``), the special
``"arrivals.scale"`` (a factor on every arrival rate) and ``"memory.rule"`` (a
categorical input: a list of rule names). SALib draws the inputs (Morris
elementary effects or Sobol' indices); every draw and policy is simulated on the
same replications (common random numbers), so an input that does not change the
outcome has an effect of exactly zero, and differences between draws are not
blurred by sampling noise.

References
----------
.. [1] M. D. Morris, "Factorial sampling plans for preliminary computational
   experiments", *Technometrics* 33(2):161-174, 1991; F. Campolongo, J. Cariboni
   and A. Saltelli, "An effective screening design for sensitivity analysis of
   large models", *Environmental Modelling & Software* 22:1509-1518, 2007.
.. [2] A. Saltelli et al., "Variance based sensitivity analysis of model output.
   Design and estimator for the total sensitivity index", *Computer Physics
   Communications* 181:259-270, 2010.
.. [3] J. Herman and W. Usher, "SALib: An open-source Python library for
   sensitivity analysis", *JOSS* 2(9), 2017.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

    from peakend.config import Scenario

__all__ = ["Parameter", "Sensitivity", "parse_parameters", "sensitivity"]

SCALE_PATH = "arrivals.scale"
RULE_PATH = "memory.rule"


def _salib() -> Any:
    try:
        import SALib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "peakend.sensitivity needs SALib (>= 1.5): pip install 'peakend[sensitivity]'"
        ) from exc
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    return morris_sample, morris_analyze, sobol_sample, sobol_analyze


@dataclass(frozen=True)
class Parameter:
    """One uncertain input.

    Attributes
    ----------
    path : str
        Dotted path of the scenario field, ``"arrivals.scale"`` or ``"memory.rule"``.
    low, high : float
        Range (for a categorical input: 0 and the number of choices).
    choices : tuple of str
        Choices of a categorical input (memory rules); empty for a numeric one.
    integer : bool
        The field is an integer (draws are rounded).
    """

    path: str
    low: float
    high: float
    choices: tuple[str, ...] = ()
    integer: bool = False

    def value(self, x: float) -> Any:
        """Return the input value of a SALib draw ``x`` in ``[low, high]``."""
        if self.choices:
            return self.choices[min(math.floor(x), len(self.choices) - 1)]
        return round(x) if self.integer else float(x)


def _walk(data: Any, parts: Sequence[str], path: str) -> tuple[Any, Any]:
    """Return (parent, key) of the field at ``parts`` in nested dumped data."""
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"parameters: {path!r}: {where!r} must be a list index in "
                                 f"0..{len(node) - 1}")
            key: Any = int(part)
        elif isinstance(node, dict):
            if part not in node and not last:
                close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
                hint = f"; did you mean {'.'.join([*parts[:i], close[0]])!r}?" if close else ""
                raise ValueError(f"parameters: {path!r}: no field {part!r} at {where!r}; "
                                 f"fields there: {', '.join(map(str, node))}{hint}")
            key = part
        else:
            raise ValueError(f"parameters: {path!r}: {'.'.join(parts[:i])!r} is a value, "
                             f"not a table")
        if last:
            return node, key
        node = node[key]
    raise ValueError(f"parameters: empty path {path!r}")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parent, key = _walk(data, path.split("."), path)
    parent[key] = value


def _apply(dump: dict[str, Any], params: Sequence[Parameter], values: Sequence[Any]
           ) -> dict[str, Any]:
    """Return the changes of one draw: full copies of the top-level fields the inputs touch."""
    data = copy.deepcopy(dump)
    for p, v in zip(params, values, strict=True):
        if p.path == SCALE_PATH:
            for block in data["arrivals"]["profile"]:
                block["rate"] = float(block["rate"]) * float(v)
        else:
            _set(data, p.path, v)
    tops = {("arrivals" if p.path == SCALE_PATH else p.path.split(".")[0]) for p in params}
    return {k: data[k] for k in sorted(tops)}


def parse_parameters(scenario: Scenario, parameters: Mapping[str, Any]) -> list[Parameter]:
    """Validate uncertain inputs against a scenario.

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    parameters : mapping
        Path -> ``(low, high)`` for a numeric input, or a list of memory-rule
        names for ``"memory.rule"``.

    Returns
    -------
    list of Parameter

    Raises
    ------
    ValueError
        Naming the path at fault, with the fields there and a close match, or
        the range (both ends must give a valid scenario).
    """
    from peakend.experiment import Policy

    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError("parameters: give a mapping of at least one path to a range, e.g. "
                         "{'segments.ordinary.expected_wait': (5, 25)}")
    dump = scenario.model_dump(mode="json")
    out = []
    for path, spec in parameters.items():
        if not isinstance(path, str) or not path:
            raise ValueError(f"parameters: paths must be non-empty strings, got {path!r}")
        if path == RULE_PATH:
            from peakend.memory import RULES

            choices = [spec] if isinstance(spec, str) else list(spec)
            bad = [c for c in choices if c not in RULES]
            if len(choices) < 2 or bad:
                raise ValueError(f"parameters: {path!r} takes a list of at least two memory "
                                 f"rules from {', '.join(RULES)}; got {spec!r}")
            out.append(Parameter(path, 0.0, float(len(choices)), tuple(choices)))
            continue
        if not (isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        and math.isfinite(v) for v in spec) and spec[0] < spec[1]):
            raise ValueError(f"parameters: {path!r} needs a range (low, high) of two finite "
                             f"numbers with low < high, got {spec!r}")
        low, high = float(spec[0]), float(spec[1])
        integer = False
        if path == SCALE_PATH:
            if low <= 0:
                raise ValueError(f"parameters: {path!r}: the scale must be > 0, got {spec!r}")
        else:
            parent, key = _walk(copy.deepcopy(dump), path.split("."), path)
            current = parent.get(key) if isinstance(parent, dict) else parent[key]
            if isinstance(current, (dict, list, str, bool)):
                raise ValueError(f"parameters: {path!r} is not a number (it holds "
                                 f"{type(current).__name__}); name a numeric field")
            integer = isinstance(current, int)
        p = Parameter(path, low, high, (), integer)
        if path.startswith("memory.params."):
            _check_rule_param(scenario, parameters, path, low, high)
        for end in (low, high):
            try:
                Policy("check", _apply(dump, [p], [p.value(end)])).apply(scenario)
            except ValueError as exc:
                hint = ""
                if isinstance(parent_keys := _parent_keys(dump, path), list):
                    last = path.split(".")[-1]
                    close = difflib.get_close_matches(last, parent_keys, n=1)
                    hint = f"; did you mean {'.'.join([*path.split('.')[:-1], close[0]])!r}?" \
                        if close and close[0] != last else ""
                raise ValueError(f"parameters: {path!r} = {p.value(end)!r} does not give a "
                                 f"valid scenario: {exc}{hint}") from exc
        out.append(p)
    return out


def _check_rule_param(scenario: Scenario, parameters: Mapping[str, Any], path: str,
                      low: float, high: float) -> None:
    """Check that a memory-rule parameter is valid, in range, for every candidate rule."""
    from peakend.memory import get_rule

    name = path.split(".", 2)[2]
    if "." in name:
        raise ValueError(f"parameters: {path!r}: memory.params takes a parameter name, "
                         f"e.g. 'memory.params.w_peak'")
    choices = parameters.get(RULE_PATH)
    rules = ([choices] if isinstance(choices, str) else list(choices)) if choices else \
        [scenario.memory.rule]
    for rule in rules:
        for end in (low, high):
            try:
                get_rule(rule, **{**scenario.memory.params, name: end})
            except (ValueError, TypeError) as exc:
                raise ValueError(f"parameters: {path!r} = {end!r} with memory rule "
                                 f"{rule!r}: {exc}") from exc


def _own_rule(scenario: Scenario, params: Sequence[Parameter], values: Sequence[Any]) -> Any:
    """Return the memory rule object of one draw (its rule and parameters)."""
    from peakend.memory import get_rule

    rule = scenario.memory.rule
    kwargs = dict(scenario.memory.params)
    for p, v in zip(params, values, strict=True):
        if p.path == RULE_PATH:
            rule = v
        elif p.path.startswith("memory.params."):
            kwargs[p.path.split(".", 2)[2]] = float(v)
    return get_rule(rule, **kwargs)


def _parent_keys(dump: dict[str, Any], path: str) -> list[str] | None:
    parts = path.split(".")
    try:
        parent, _ = _walk(dump, parts, path)
    except ValueError:
        return None
    return [str(k) for k in parent] if isinstance(parent, dict) else None


@dataclass
class Sensitivity:
    """Global sensitivity indices and ranking robustness from :func:`sensitivity`.

    Attributes
    ----------
    method : str
        ``"morris"`` or ``"sobol"``.
    metric : str
        ``segment.metric`` analysed.
    parameters : list of Parameter
        The uncertain inputs.
    policies : list of str
        Policy names.
    samples : ndarray, shape (n_draws, n_parameters)
        SALib's draws (a categorical input as its code in ``[0, k)``).
    outputs : ndarray, shape (n_policies, n_draws)
        Mean of the metric over the replications, per policy and draw.
    indices : pandas.DataFrame
        One row per policy and parameter: Morris ``mu, mu_star, mu_star_conf,
        sigma`` or Sobol' ``S1, S1_conf, ST, ST_conf`` (conf: half-width of the
        bootstrap interval at ``confidence``).
    best_share : pandas.DataFrame
        ``policy, share``: how often each policy is best over the draws.
    flips : pandas.DataFrame
        ``parameter, changes, flips, flip_rate``: of the one-at-a-time changes of
        each input in the design, how many change which policy is best.
    larger_is_better : bool
        Direction used for "best".
    simulated_days : int
        Days simulated.
    """

    method: str
    metric: str
    parameters: list[Parameter]
    policies: list[str]
    samples: np.ndarray
    outputs: np.ndarray
    indices: pd.DataFrame
    best_share: pd.DataFrame
    flips: pd.DataFrame
    larger_is_better: bool
    simulated_days: int
    extra: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bar chart of the main index (Morris mu*, Sobol' ST) with its interval, per policy.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * len(self.parameters) * len(
                self.policies)))
        col, conf = ("mu_star", "mu_star_conf") if self.method == "morris" else ("ST", "ST_conf")
        names = [p.path for p in self.parameters]
        height = 0.8 / len(self.policies)
        y = np.arange(len(names))
        for i, pol in enumerate(self.policies):
            rows = self.indices[self.indices["policy"] == pol].set_index("parameter").loc[names]
            ax.barh(y + i * height, rows[col], height, xerr=rows[conf], label=pol, capsize=2)
        ax.set_yticks(y + height * (len(self.policies) - 1) / 2, names)
        ax.set_xlabel(f"{col} of {self.metric}")
        ax.legend()
        return ax


def _pairs(method: str, n_params: int, n_rows: int) -> list[tuple[int, int, int]]:
    """(row a, row b, parameter) of the design's one-at-a-time changes."""
    out = []
    if method == "morris":
        step = n_params + 1
        for t in range(n_rows // step):
            for j in range(n_params):
                out.append((t * step + j, t * step + j + 1, -1))
    else:
        step = n_params + 2
        for t in range(n_rows // step):
            for j in range(n_params):
                out.append((t * step, t * step + 1 + j, j))
    return out


def sensitivity(
    scenario: Scenario | str | os.PathLike[str],
    policies: Any = None,
    parameters: Mapping[str, Any] | None = None,
    *,
    metric: str = "all.remembered[peak_end]",
    method: str = "morris",
    n: int = 10,
    replications: int = 5,
    seed: int = 0,
    workers: int | None = None,
    confidence: float = 0.95,
    larger_is_better: bool | None = None,
    num_levels: int = 4,
    **run_kwargs: Any,
) -> Sensitivity:
    """Global sensitivity of a metric (and of the best policy) to uncertain inputs.

    Parameters
    ----------
    scenario : Scenario or str
        The base scenario (or a built-in name / path).
    policies : as for :func:`peakend.run`, optional
        Policies applied on top of every draw (default the baseline).
    parameters : mapping
        Dotted path -> ``(low, high)``: any numeric scenario field
        (``"segments.ordinary.expected_wait"``, ``"value_function.loss_aversion"``,
        ``"arrivals.profile.3.rate"``), ``"arrivals.scale"`` (a factor on every
        arrival rate, > 0), ``"memory.rule"`` -> a list of rule names (categorical)
        and ``"memory.params.<name>"`` (a weight of the memory rule, valid for every
        candidate rule).
    metric : str, default "all.remembered[peak_end]"
        ``segment.metric``; ``segment.remembered`` (no rule) means the value
        under each draw's own memory rule (use it with ``"memory.rule"``).
    method : {"morris", "sobol"}, default "morris"
        Morris elementary effects (``n`` trajectories, ``n (D + 1)`` draws) or
        Sobol' first-order and total indices (``n`` a power of 2, ``n (D + 2)`` draws).
    n : int, default 10
        Trajectories (Morris) or base samples (Sobol').
    replications : int, default 5
        Replications per draw and policy (the same for all: common random numbers).
    seed : int, default 0
        Seed of SALib's design and of the simulations.
    workers : int, optional
        Processes for :func:`peakend.run`.
    confidence : float, default 0.95
        Level of the bootstrap intervals of the indices.
    larger_is_better : bool, optional
        Direction for "best policy"; default False for waits, abandonment and costs.
    num_levels : int, default 4
        Grid levels of the Morris design.
    **run_kwargs
        Passed on to :func:`peakend.run`.

    Returns
    -------
    Sensitivity
        Indices with intervals, the outputs, how often each policy is best and
        which inputs flip the ranking; ``.plot()``.

    Raises
    ------
    ImportError
        Without SALib (the ``sensitivity`` extra).
    ValueError
        For an invalid path (naming it, with a close match), range or argument.
    """
    import pandas as pd

    import peakend as pe
    from peakend.decide._common import policy_list
    from peakend.decide.selection import SMALLER_IS_BETTER
    from peakend.decide.targets import parse_metric
    from peakend.experiment import Policy, deep_merge
    from peakend.memory import get_rule

    morris_sample, morris_analyze, sobol_sample, sobol_analyze = _salib()
    if isinstance(scenario, (str, os.PathLike)):
        scenario = pe.load_scenario(scenario)
    if method not in ("morris", "sobol"):
        raise ValueError(f"method: must be 'morris' or 'sobol', got {method!r}")
    if parameters is None:
        raise ValueError("parameters: give a mapping of paths to ranges")
    params = parse_parameters(scenario, parameters)
    segment, name = parse_metric(metric, scenario, allow_own_rule=True)
    for arg, value, low in (("n", n, 2), ("replications", replications, 1),
                            ("num_levels", num_levels, 2), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{arg}: must be an integer >= {low}, got {value!r}")
    if method == "sobol" and n & (n - 1):
        raise ValueError(f"n: Sobol' sampling needs a power of 2, got {n}")
    items = policy_list(policies)
    if larger_is_better is None:
        larger_is_better = name not in SMALLER_IS_BETTER
    problem = {"num_vars": len(params), "names": [p.path for p in params],
               "bounds": [[p.low, p.high] for p in params]}
    if method == "morris":
        x = np.asarray(morris_sample.sample(problem, n, num_levels=num_levels, seed=seed))
    else:
        x = np.asarray(sobol_sample.sample(problem, n, calc_second_order=False, seed=seed))
    dump = scenario.model_dump(mode="json")
    named = [name[len("remembered["):-1]] if name.startswith("remembered[") else []
    rule_objects: dict[str, Any] = {}
    for r in named:
        rule_objects.setdefault(get_rule(r).label, get_rule(r))
    draws = []
    run_policies = []
    for d, row in enumerate(x):
        values = [p.value(v) for p, v in zip(params, row, strict=True)]
        changes = _apply(dump, params, values)
        own = _own_rule(scenario, params, values)
        if name == "remembered":
            rule_objects.setdefault(own.label, own)
        draws.append(own.label)
        for pol in items:
            run_policies.append(Policy(f"d{d}|{pol.name}", deep_merge(changes, pol.changes)))
    rules = list(rule_objects.values()) or [get_rule(scenario.memory.rule,
                                                     **scenario.memory.params)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = pe.run(scenario, run_policies, replications=replications, seed=seed,
                     workers=workers, progress=False, rules=tuple(rules), **run_kwargs)
    # one warning per kind, not one per draw and policy
    kinds: dict[type[Warning], list[str]] = {}
    for w in caught:
        kinds.setdefault(w.category, []).append(str(w.message))
    for category, messages in kinds.items():
        warnings.warn(f"sensitivity: {len(messages)} of {len(run_policies)} (draw, policy) runs "
                      f"issued {category.__name__}; the first: {messages[0]}", category,
                      stacklevel=2)
    y = np.empty((len(items), len(x)))
    for d in range(len(x)):
        col = f"remembered[{draws[d]}]" if name == "remembered" else name
        for i, pol in enumerate(items):
            vals = res.get(col, segment, f"d{d}|{pol.name}")
            finite = vals[np.isfinite(vals)]
            y[i, d] = finite.mean() if finite.size else np.nan
    if not np.all(np.isfinite(y)):
        raise ValueError(f"metric {metric!r} is undefined (no customers) on some draws; "
                         f"choose a segment that always has customers")
    rows = []
    for i, pol in enumerate(items):
        if method == "morris":
            si = morris_analyze.analyze(problem, x, y[i], conf_level=confidence,
                                        num_levels=num_levels, seed=seed)
            for j, p in enumerate(params):
                rows.append({"policy": pol.name, "parameter": p.path,
                             "mu": float(si["mu"][j]), "mu_star": float(si["mu_star"][j]),
                             "mu_star_conf": float(si["mu_star_conf"][j]),
                             "sigma": float(si["sigma"][j])})
        else:
            si = sobol_analyze.analyze(problem, y[i], calc_second_order=False,
                                       conf_level=confidence, seed=seed)
            for j, p in enumerate(params):
                rows.append({"policy": pol.name, "parameter": p.path,
                             "S1": float(si["S1"][j]), "S1_conf": float(si["S1_conf"][j]),
                             "ST": float(si["ST"][j]), "ST_conf": float(si["ST_conf"][j])})
    signed = y if larger_is_better else -y
    best = np.argmax(signed, axis=0)
    share = pd.DataFrame({"policy": [p.name for p in items],
                          "share": [float(np.mean(best == i)) for i in range(len(items))]})
    changes_n = np.zeros(len(params), dtype=int)
    flips_n = np.zeros(len(params), dtype=int)
    for a, b, j in _pairs(method, len(params), len(x)):
        if j < 0:  # Morris: the one input that differs between consecutive rows
            moved = np.flatnonzero(x[a] != x[b])
            if moved.size != 1:
                continue
            j = int(moved[0])
        changes_n[j] += 1
        flips_n[j] += int(best[a] != best[b])
    flips = pd.DataFrame({"parameter": [p.path for p in params], "changes": changes_n,
                          "flips": flips_n,
                          "flip_rate": np.where(changes_n > 0, flips_n / np.maximum(changes_n, 1),
                                                np.nan)})
    flips = flips.sort_values("flip_rate", ascending=False, kind="stable").reset_index(drop=True)
    return Sensitivity(
        method=method, metric=metric, parameters=params, policies=[p.name for p in items],
        samples=x, outputs=y, indices=pd.DataFrame(rows), best_share=share, flips=flips,
        larger_is_better=bool(larger_is_better),
        simulated_days=replications * len(run_policies),
    )
