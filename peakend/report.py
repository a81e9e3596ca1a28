"""A self-contained HTML report of a policy experiment, for a manager to open in a browser.

:func:`write_report` writes one ``.html`` file: what was compared and why, the
headline findings, the comparison table and its forest plot, cost against
remembered value with the Pareto frontier, where the memory rules disagree, and
the scenario with every assumption (value, unit and meaning of each field), the
seed, the replications and the library version. Figures are inline SVG; the
file loads no script, style sheet, font or image from anywhere, so it opens
offline and can be mailed as it is.

Examples
--------
>>> import peakend as pe
>>> from peakend.report import write_report
>>> results = pe.run("default_branch", "default_branch", replications=5,
...                  progress=False)  # doctest: +SKIP
>>> write_report(results, "report.html")  # doctest: +SKIP
PosixPath('report.html')
"""

from __future__ import annotations

import html
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1d1d1f; max-width: 1100px; margin: 2em auto; padding: 0 1.5em;
       line-height: 1.45; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; margin-top: 2em; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f5f8; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr.better td { background: #e6f0f8; }
tr.worse td { background: #fbeee6; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9em; max-width: 900px; }
.findings li { margin: 0.3em 0; }
.key { display: inline-block; padding: 0 0.4em; border-radius: 3px; }
.key.better { background: #e6f0f8; } .key.worse { background: #fbeee6; }
code { background: #f3f5f8; padding: 0 0.2em; border-radius: 3px; }
details { margin: 0.5em 0 1em; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 3em; color: #666; font-size: 0.85em; }
"""


# ----------------------------------------------------------------------- tables


def _frame_columns(table: Any) -> dict[str, np.ndarray]:
    """Columns of a peakend Table or a pandas DataFrame (a named index becomes a column)."""
    if hasattr(table, "reset_index") and hasattr(table, "columns"):
        names = [n for n in getattr(table.index, "names", [None]) if n is not None]
        frame = table.reset_index() if names else table
        return {str(c): np.asarray(frame[c]) for c in frame.columns}
    if isinstance(table, Mapping):
        return {str(c): np.asarray(v) for c, v in table.items()}
    return {str(c): np.asarray(table[c]) for c in table.columns}


def _fmt(value: Any, column: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "–"
        if column.startswith("p_") or column == "p_value":
            return f"{v:.2g}" if v >= 1e-4 else "< 0.0001"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        text = f"{v:.2f}"  # two decimals throughout: a manager reads columns, not digits
        return "0.00" if text == "-0.00" else text
    return html.escape(str(value))


def _html_table(table: Any, columns: Sequence[str] | None = None,
                row_class: Sequence[str] | None = None,
                headers: Mapping[str, str] | None = None) -> str:
    cols = _frame_columns(table)
    names = [c for c in (columns or list(cols)) if c in cols]
    n = len(next(iter(cols.values()))) if cols else 0
    text = {c for c in names if cols[c].dtype.kind in "OUS"}
    head = "".join(
        f'<th class="{"text" if c in text else "num"}">'
        f"{html.escape((headers or {}).get(c, c))}</th>" for c in names)
    rows = []
    for i in range(n):
        cls = f' class="{row_class[i]}"' if row_class is not None and row_class[i] else ""
        cells = "".join(
            f'<td class="{"text" if c in text else "num"}">{_fmt(cols[c][i], c)}</td>'
            for c in names)
        rows.append(f"<tr{cls}>{cells}</tr>")
    if not rows:
        return "<p><em>(no rows)</em></p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# ---------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """Make a Figure (no pyplot: no global state) with an Agg canvas; return it and its Axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _svg(fig: Any) -> str:
    """Return the figure as an inline ``<svg>`` element (text as paths: no font needed)."""
    import matplotlib as mpl

    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": "peakend"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure_block(svg: str, caption: str, name: str) -> str:
    return (f'<figure id="figure-{name}" class="figure">{svg}'
            f"<figcaption>{caption}</figcaption></figure>")


# --------------------------------------------------------------------- scenario


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted paths and leaf values of nested scenario data (lists of tables kept whole)."""
    if isinstance(data, Mapping) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, data)]


def _field_description(path: str) -> str:
    """Return the description (with unit) of the scenario field at a dotted ``path``."""
    from pydantic import BaseModel

    from peakend.config import Scenario

    model: Any = Scenario
    description = ""
    parts = path.split(".")
    i = 0
    while i < len(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or parts[i] not in fields:
            return description
        info = fields[parts[i]]
        description = info.description or ""
        annotation = info.annotation
        inner = _dict_value_model(annotation, BaseModel)
        if inner is not None:  # e.g. segments.<name>.<field>
            if i + 2 >= len(parts):
                return description
            model = inner
            i += 2
            continue
        nxt = _model_in(annotation, BaseModel)
        if nxt is not None:
            model = nxt
            i += 1
            continue
        return description
    return description


def _model_in(annotation: Any, base: type) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, base):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, base):
            return arg
    return None


def _dict_value_model(annotation: Any, base: type) -> Any:
    import typing

    if typing.get_origin(annotation) is dict:
        args = typing.get_args(annotation)
        if len(args) == 2:
            return _model_in(args[1], base)
    return None


def _value_text(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return html.escape(json.dumps(value, ensure_ascii=False))
    if value is None:
        return "–"
    return html.escape(str(value))


def _scenario_table(scenario: Mapping[str, Any]) -> str:
    rows = []
    for path, value in _flatten(scenario):
        rows.append(f'<tr><td class="text"><code>{html.escape(path)}</code></td>'
                    f'<td class="text">{_value_text(value)}</td>'
                    f'<td class="text">{html.escape(_field_description(path))}</td></tr>')
    return ('<table class="scenario"><thead><tr><th class="text">field</th>'
            '<th class="text">value</th><th class="text">meaning and unit</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


# ---------------------------------------------------------------------- report


def _significant(cols: Mapping[str, np.ndarray], confidence: float) -> np.ndarray:
    from peakend.plots import is_significant

    return is_significant(dict(cols), confidence=confidence)


def _policy_list(results: Any) -> str:
    items = []
    for spec in results.policy_specs:
        name = html.escape(str(spec.get("name", "")))
        desc = html.escape(str(spec.get("description", "") or ""))
        changes = spec.get("changes") or {}
        change_text = ("no change: the scenario as configured" if not changes else
                       "; ".join(f"<code>{html.escape(p)}</code> = {_value_text(v)}"
                                 for p, v in _flatten(changes)))
        items.append(f"<li><strong>{name}</strong>{': ' + desc if desc else ''}"
                     f"<br><small>{change_text}</small></li>")
    return f"<ul>{''.join(items)}</ul>"


def _findings(results: Any, cmp_cols: Mapping[str, np.ndarray], significant: np.ndarray,
              baseline: str, pareto_cols: Mapping[str, np.ndarray], currency: str) -> str:
    rule = results.headline_rule
    all_rows = np.asarray(cmp_cols["segment"]).astype(str) == "all"
    pol = np.asarray(cmp_cols["policy"]).astype(str)
    diff = np.asarray(cmp_cols["difference"], dtype=float)
    better = [p for p, s, d, a in zip(pol, significant, diff, all_rows, strict=True)
              if a and s and d > 0]
    worse = [p for p, s, d, a in zip(pol, significant, diff, all_rows, strict=True)
             if a and s and d < 0]
    items = []
    if better:
        best = max(better, key=lambda p: float(diff[all_rows & (pol == p)][0]))
        gain = float(diff[all_rows & (pol == best)][0])
        items.append(f"{len(better)} of {len(results.policies) - 1} policies make the visit "
                     f"remembered significantly better than <strong>{html.escape(baseline)}"
                     f"</strong> for all customers ({rule}, after Holm's adjustment); the "
                     f"largest gain is <strong>{html.escape(best)}</strong>, "
                     f"{gain:+.2f} affect points.")
    else:
        items.append(f"No policy is remembered significantly better than "
                     f"<strong>{html.escape(baseline)}</strong> for all customers ({rule}, "
                     f"after Holm's adjustment).")
    if worse:
        items.append("Significantly worse remembered: "
                     + ", ".join(f"<strong>{html.escape(p)}</strong>" for p in worse) + ".")
    eff = np.asarray(pareto_cols["efficient"], dtype=bool)
    names = np.asarray(pareto_cols["policy"]).astype(str)
    items.append("On the cost-value frontier (no other policy is cheaper and better "
                 "remembered): " + ", ".join(
                     f"<strong>{html.escape(p)}</strong> ({c:,.0f} {html.escape(currency)}/day)"
                     for p, c in zip(names[eff], np.asarray(pareto_cols["cost"])[eff],
                                     strict=True)) + ".")
    return f'<ul class="findings">{"".join(f"<li>{i}</li>" for i in items)}</ul>'


def render_report(
    results: Any,
    *,
    title: str | None = None,
    baseline: str | None = None,
    confidence: float = 0.95,
) -> str:
    """Return the HTML text of the report (see :func:`write_report`).

    Parameters
    ----------
    results : Results
        From :func:`peakend.run` or :func:`peakend.load_results`.
    title : str, optional
        Page title; default ``"Policy experiment: <scenario name>"``.
    baseline : str, optional
        Policy to compare against; default the first policy.
    confidence : float, default 0.95
        Level of the intervals; significance is Holm-adjusted at ``1 - confidence``.

    Returns
    -------
    str
        A complete HTML5 document with inline CSS and inline SVG figures.

    Raises
    ------
    ValueError
        If ``baseline`` is not a policy of the results or ``confidence`` is not
        in (0, 1).
    """
    from peakend.plots import ResultsPlot

    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    if baseline is not None and baseline not in results.policies:
        raise ValueError(f"baseline: {baseline!r} is not a policy of these results; "
                         f"available: {', '.join(results.policies)}")
    base = baseline or results.policies[0]
    scenario = results.scenario
    name = str(scenario.get("name", "scenario"))
    currency = str(scenario.get("currency", "") or "currency units")
    title = title or f"Policy experiment: {name}"
    rule = results.headline_rule
    metric = results.metric_name(rule)
    plot = ResultsPlot(results)
    level = f"{confidence:.0%}"
    parts: list[str] = []

    parts.append(f"<h1>{html.escape(title)}</h1>")
    parts.append(f'<p class="subtitle">{html.escape(str(scenario.get("description", "")))}'
                 f"</p>")
    parts.append("<h2 id='what'>What was compared, and why</h2>")
    parts.append(
        f"<p>Each of the {len(results.policies)} policies was simulated on the same "
        f"{results.n_replications} branch days (replications) of the scenario "
        f"<code>{html.escape(name)}</code>: the same customers, arrival times, service times "
        f"and patience (common random numbers), so that the differences between policies "
        f"are due to the policies and are compared day by day (paired). How a customer "
        f"remembers the visit is scored with the <strong>{html.escape(rule)}</strong> memory "
        f"rule on the affect scale -10..10 (0: exactly as expected); the other rules scored "
        f"are {', '.join(html.escape(r) for r in results.rules[1:]) or 'none'}. Policies are "
        f"compared against <strong>{html.escape(base)}</strong>; the policies and what "
        f"each changes are <a href='#policies'>listed below</a>.</p>")
    policy_section = ["<h2 id='policies'>The policies compared</h2>", _policy_list(results)]

    if len(results.policies) > 1:
        cmp_table = results.compare(base, metrics=metric, confidence=confidence)
        cmp_cols = _frame_columns(cmp_table)
        significant = _significant(cmp_cols, confidence)
        pareto_cols = _frame_columns(results.pareto(rule))
        parts.append("<h2 id='findings'>Findings</h2>")
        parts.append(_findings(results, cmp_cols, significant, base, pareto_cols, currency))
        parts.extend(policy_section)

        parts.append("<h2 id='comparison'>The comparison</h2>")
        diff = np.asarray(cmp_cols["difference"], dtype=float)
        classes = ["better" if s and d > 0 else "worse" if s and d < 0 else ""
                   for s, d in zip(significant, diff, strict=True)]
        cmp_cols = dict(cmp_cols)
        cmp_cols["significant"] = significant
        parts.append(
            f"<p>Paired differences in mean remembered value ({html.escape(rule)}, affect "
            f"points) against <strong>{html.escape(base)}</strong>, per customer segment, with "
            f"{level} t-intervals; <code>p_holm</code> is the p-value after Holm's adjustment "
            f"across the policies compared, and <code>significant</code> means "
            f"<code>p_holm</code> &lt; {1 - confidence:.2g}. Rows: "
            f"<span class='key better'>significantly better</span>, "
            f"<span class='key worse'>significantly worse</span>.</p>")
        parts.append(_html_table(
            cmp_cols, ["policy", "segment", "baseline_mean", "policy_mean", "difference", "low",
                       "high", "p_holm", "significant"], classes))
        n_rows = (len(results.policies) - 1) * len(results.segments) + len(results.segments)
        fig, ax = _figure(8.0, max(3.0, 0.3 * n_rows + 2.2))
        plot.compare(base, confidence=confidence, ax=ax)
        parts.append(_figure_block(
            _svg(fig), f"Forest plot of the table above: each row is a policy in a segment, "
            f"the bar its {level} interval, sorted by effect. Filled ▲ significantly better, "
            f"filled ▼ significantly worse, hollow ○ not significantly different (Holm).",
            "comparison"))

        parts.append("<h2 id='cost'>Cost against remembered value</h2>")
        fig, ax = _figure(8.0, 5.2)
        plot.pareto(rule, confidence=confidence, ax=ax)
        parts.append(_figure_block(
            _svg(fig), f"Mean branch cost per day ({html.escape(currency)}: staff, fixed "
            f"running costs and gifts) against the mean remembered value of all customers, "
            f"with {level} error bars. The line joins the Pareto frontier: the policies no "
            f"other policy beats on both cost and remembered value.", "pareto"))
        parts.append(_html_table(pareto_cols, ["policy", "cost", "value", "efficient"],
                                 headers={"cost": f"cost ({currency}/day)",
                                          "value": f"remembered ({rule})"}))
        cpp = results.cost_per_point(base, rule)
        parts.append(f"<p>Extra cost per point of remembered value gained against "
                     f"<strong>{html.escape(base)}</strong> ({html.escape(currency)} per day "
                     f"per affect point):</p>")
        parts.append(_html_table(cpp, ["policy", "cost_difference", "value_difference",
                                       "value_low", "value_high", "cost_per_point", "note"]))

        parts.append("<h2 id='rules'>Where the memory rules disagree</h2>")
        if len(results.rules) > 1:
            fig, ax = _figure(2.8 + 1.7 * len(results.rules),
                              2.0 + 0.45 * len(results.policies))
            plot.rules(ax=ax)
            parts.append(_figure_block(
                _svg(fig), "Rank of each policy (1 = best remembered) under each memory rule; "
                "thick lines change rank. A manager optimising the integral of experience "
                "(total affect over the visit) would choose differently from one optimising "
                "what customers remember (peak-end) where the lines cross.", "rules"))
            disagreement = results.rule_disagreement()
            parts.append(f"<p>Pairs of policies that {html.escape(rule)} and another rule "
                         f"order differently (differences of policy_1 − policy_2 under each "
                         f"rule; p-values unadjusted):</p>")
            parts.append(_html_table(disagreement, [
                "rule_a", "rule_b", "policy_1", "policy_2", "difference_a", "p_a",
                "difference_b", "p_b", "both_significant"]))
        else:
            parts.append("<p>Only one memory rule was scored in this run.</p>")
    else:
        parts.extend(policy_section)
        parts.append("<p>Only one policy was run: there is nothing to compare.</p>")

    parts.append("<h2 id='headline'>Every policy and segment</h2>")
    if hasattr(results, "headline"):
        everything = results.headline(confidence=confidence)
    else:  # pragma: no cover - results without the headline table
        everything = results.summary([metric, "wait_mean", "abandonment_rate", "cost"],
                                     confidence=confidence)
    parts.append(_html_table(everything))

    parts.append("<h2 id='scenario'>The scenario and every assumption</h2>")
    parts.append("<p>Every field of the base scenario, as simulated (policies change the "
                 "fields listed with them above). Times of day are clock hours, rates per "
                 "hour, durations in minutes, experience and expectation levels on a 0-10 "
                 f"scale, money in {html.escape(currency)}.</p>")
    parts.append(_scenario_table(scenario))

    parts.append("<h2 id='reproduce'>Reproducing these results</h2>")
    facts = {"seed": results.seed, "replications per policy": results.n_replications,
             "policies": len(results.policies), "memory rules": ", ".join(results.rules),
             "segments": ", ".join(results.segments), "peakend version": results.version}
    parts.append("<table>" + "".join(
        f'<tr><th class="text">{html.escape(k)}</th><td class="text">{html.escape(str(v))}'
        f"</td></tr>" for k, v in facts.items()) + "</table>")
    parts.append("<p>The same scenario, policies, seed and number of replications give the "
                 "same numbers, bit for bit, on any number of worker processes.</p>")
    body = "\n".join(parts)
    footer = (f"<footer>Made by peakend {html.escape(results.version)}. This file is "
              f"self-contained: it loads nothing from the network.</footer>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"{body}\n{footer}\n</body>\n</html>\n")


def write_report(
    results: Any,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    baseline: str | None = None,
    confidence: float = 0.95,
) -> Path:
    """Write a self-contained HTML report of a policy experiment.

    The page says what was compared and why, gives the headline findings, the
    comparison table (paired differences with confidence intervals and
    Holm-adjusted significance) with its forest plot, cost per day against
    remembered value with the Pareto frontier and the cost per point gained,
    where the memory rules disagree, every policy and segment, and the scenario
    with every field's value, unit and meaning, the seed, the replications and
    the library version. Figures are inline SVG; no script, font or image is
    loaded from the network.

    Parameters
    ----------
    results : Results
        From :func:`peakend.run` or :func:`peakend.load_results`.
    path : path-like
        The file to write (``.html`` is appended if it has no suffix); parent
        directories are created. Written atomically.
    title : str, optional
        Page title; default ``"Policy experiment: <scenario name>"``.
    baseline : str, optional
        Policy to compare against; default the first policy.
    confidence : float, default 0.95
        Level of the intervals; significance is Holm-adjusted at ``1 - confidence``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If ``baseline`` is not a policy of the results or ``confidence`` is not
        in (0, 1) (raised before anything is written).
    """
    target = Path(path)
    if not target.suffix:
        target = target.with_name(target.name + ".html")
    text = render_report(results, title=title, baseline=baseline, confidence=confidence)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target
