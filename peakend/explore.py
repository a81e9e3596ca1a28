"""A live what-if in Jupyter: ``pe.explore(scenario)``, an ipywidgets app.

Sliders and toggles for the levers that matter (tellers per time block and
counter group, window discipline, lounge, hall distraction, wait display,
farewell and gift per segment, appointment share per segment); every change
builds the scenario it describes, re-simulates the same replicated days
(common random numbers: the same customers, arrivals, service times and
patience as the baseline) and redraws, in about a second:

* the hall queue over the day (replication 0), with the tellers on duty and
  the baseline's queue for comparison;
* the per-segment remembered value against the baseline, paired differences
  with confidence intervals and Holm-adjusted significance;
* one customer's journey map (the same customer under the baseline and the
  what-if: common random numbers give them the same arrival and business).

The returned :class:`Explorer` displays as the app in a notebook; its
:attr:`Explorer.controls` (lever name -> widget) and :attr:`Explorer.summary`
(the DataFrame shown) are updated synchronously when a control changes, so
scripts and tests can drive it without a browser. ipywidgets is needed
(``pip install "peakend[notebooks]"``); it is imported when ``explore`` is
called, not when peakend is imported.

This module is callable: ``pe.explore(scenario)`` works whether ``pe.explore``
names the function or, once ``import peakend.explore`` ran, the module.
"""

from __future__ import annotations

import io
import sys
import time
import types
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from peakend.config import Scenario
    from peakend.journeys import Journeys

__all__ = ["Explorer", "explore"]

#: Disciplines a counter group can switch between.
DISCIPLINES = ("fifo", "priority", "dedicated", "flexible")


def _require_ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - ipywidgets is in the test extra
        raise ImportError(
            "explore() needs ipywidgets, an optional dependency: "
            "pip install 'peakend[notebooks]'") from exc
    return ipywidgets


def _clock(hours: float) -> str:
    total = round(60 * hours)
    return f"{total // 60:02d}:{total % 60:02d}"


def _blocks(scenario: Scenario) -> list[float]:
    """Start times (clock hours) of the staffing blocks the sliders set.

    The union of the starts of every counter group's shift plan; for constant
    staffing, the morning, the lunch peak (11:30-14:00) and the afternoon,
    clipped to the opening hours.
    """
    opening, closing = float(scenario.opening), float(scenario.closing)
    starts = {opening}
    for group in scenario.counters.values():
        if not isinstance(group.tellers, int):
            starts.update(float(b.start) for b in group.tellers)
    if len(starts) == 1:
        starts.update(t for t in (11.5, 14.0) if opening < t < closing)
    return sorted(t for t in starts if opening <= t < closing)


def _mean_by_segment(day: Journeys, column: np.ndarray) -> np.ndarray:
    """Mean of ``column`` over all customers, then per segment (NaN where a segment is empty)."""
    seg = np.asarray(day.customers["segment"])
    values = np.asarray(column, dtype=float)
    out = [float(np.nanmean(values)) if np.isfinite(values).any() else np.nan]
    for code in range(len(day.segments)):
        v = values[(seg == code) & np.isfinite(values)]
        out.append(float(v.mean()) if v.size else np.nan)
    return np.asarray(out)


class Explorer:
    """The what-if app returned by :func:`explore` (see the module docstring).

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        The levers by name: ``tellers.<group>.<hh:mm>`` (tellers of a counter
        group on duty from that block's start), ``discipline.<group>``,
        ``lounge``, ``distraction``, ``wait_display``, ``farewell.<segment>``,
        ``gift.<segment>`` (gift value, currency units; 0: no gift),
        ``appointment_share.<segment>`` (0..1), and ``start`` (the policy the
        what-if starts from) and ``customer`` (whose journey is drawn).
    summary : pandas.DataFrame
        The table shown: one row for all customers, then one per segment, with
        columns ``segment``, ``baseline``, ``what_if`` (mean remembered value,
        affect points), ``difference``, ``low``, ``high`` (paired t-interval),
        ``p_holm`` (Holm across the segments), ``significant``,
        ``wait_baseline`` and ``wait_what_if`` (mean wait, minutes).
    scenario : Scenario
        The scenario the controls describe now.
    error : str
        Why the last change could not be simulated ("" if it could); the
        outputs then keep showing the last valid what-if.
    axes : dict of str to matplotlib Axes
        The last drawn ``"queue"``, ``"segments"`` and ``"journey"`` Axes
        (empty with ``figures=False``).
    seconds : float
        Wall time of the last update (simulation and drawing), seconds.
    widget : ipywidgets.Widget
        The app itself (what a notebook displays).
    """

    def __init__(
        self,
        scenario: Scenario | str,
        policies: Any = None,
        *,
        replications: int = 20,
        seed: int = 0,
        confidence: float = 0.95,
        figures: bool = True,
    ) -> None:
        w = _require_ipywidgets()
        if isinstance(replications, bool) or not isinstance(replications, int) or not (
                2 <= replications <= 1000):
            raise ValueError(f"replications: must be an integer in 2..1000, got {replications!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {seed!r}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
        if isinstance(scenario, str):
            from peakend.config import load_scenario

            scenario = load_scenario(scenario)
        self._w = w
        self._base_scenario = scenario
        self._policies = _policy_list(policies)
        self._starts = {p.name: p.apply(scenario) for p in self._policies}
        self._replications = replications
        self._seed = seed
        self._confidence = confidence
        self._figures = bool(figures)
        self._seeds = [self._replication_seed(r) for r in range(replications)]
        baseline = self._starts[self._policies[0].name]
        self._baseline_days = self._simulate(baseline)
        self.baseline_name = self._policies[0].name
        self.scenario: Scenario = baseline
        self.error = ""
        self.axes: dict[str, Any] = {}
        self.seconds = 0.0
        self._days: list[Journeys] = self._baseline_days
        self.summary: pd.DataFrame = self._summarise()
        self._blocks = _blocks(scenario)
        self._segments = list(scenario.segments)
        self._groups = list(scenario.counters)
        self._gift_ratio = {
            s: (seg.farewell.gift_cost / seg.farewell.gift_size
                if seg.farewell.gift_size > 0 else 1.0)
            for s, seg in scenario.segments.items()}
        self.controls: dict[str, Any] = {}
        self._quiet = False
        self._build_controls()
        self._images = {name: w.Image(format="png", layout=w.Layout(max_width="100%"))
                        for name in ("queue", "segments", "journey")}
        self._table = w.HTML()
        self._status = w.HTML()
        self.widget = self._layout()
        self._set_controls_from(baseline)
        self.update()

    # ------------------------------------------------------------------ building
    def _replication_seed(self, r: int) -> Any:
        from peakend.experiment import replication_seed

        return replication_seed(self._seed, r)

    def _simulate(self, scenario: Scenario) -> list[Journeys]:
        import warnings

        from peakend.sim import simulate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overload warnings: shown in the figures
            return [simulate(scenario, seed=s) for s in self._seeds]

    def _build_controls(self) -> None:
        w = self._w
        c = self.controls
        style = {"description_width": "initial"}
        c["start"] = w.Dropdown(options=[p.name for p in self._policies],
                                value=self._policies[0].name, description="start from",
                                style=style)
        for g in self._groups:
            group = self._base_scenario.counters[g]
            top = max(2 * group.max_tellers(), group.max_tellers() + 4, 4)
            for b in self._blocks:
                c[f"tellers.{g}.{_clock(b)}"] = w.IntSlider(
                    min=0, max=top, description=f"{g} from {_clock(b)}",
                    continuous_update=False, style=style)
            c[f"discipline.{g}"] = w.Dropdown(options=list(DISCIPLINES),
                                              description=f"{g} window", style=style)
        c["lounge"] = w.Checkbox(description="VIP lounge open")
        c["distraction"] = w.Checkbox(description="distraction in the hall (TV, news)")
        c["wait_display"] = w.Checkbox(description="expected wait displayed")
        for s in self._segments:
            c[f"farewell.{s}"] = w.Checkbox(description=f"farewell protocol: {s}")
            c[f"gift.{s}"] = w.FloatSlider(min=0.0, max=50.0, step=1.0,
                                           description=f"gift value {s}",
                                           continuous_update=False, style=style)
            c[f"appointment_share.{s}"] = w.FloatSlider(
                min=0.0, max=1.0, step=0.05, description=f"appointments {s}",
                continuous_update=False, readout_format=".0%", style=style)
        c["customer"] = w.BoundedIntText(
            min=0, max=max(0, len(self._baseline_days[0]) - 1), description="customer",
            style=style)
        for name, control in c.items():
            control.observe(self._on_change(name), names="value")

    def _on_change(self, name: str) -> Any:
        def handler(_change: Any) -> None:
            if self._quiet:
                return
            if name == "start":
                self._set_controls_from(self._starts[self.controls["start"].value])
            self.update()
        return handler

    def _layout(self) -> Any:
        w = self._w
        c = self.controls

        def section(title: str, names: list[str]) -> Any:
            return w.VBox([w.HTML(f"<b>{title}</b>"), *[c[n] for n in names if n in c]])

        staffing = [n for n in c if n.startswith(("tellers.", "discipline."))]
        ends = [n for n in c if n.startswith(("farewell.", "gift."))]
        appointments = [n for n in c if n.startswith("appointment_share.")]
        left = w.VBox([
            section("What-if", ["start"]),
            section("Tellers on duty and windows", staffing),
            section("Hall and lounge", ["lounge", "distraction", "wait_display"]),
            section("End of the visit", ends),
            section("Appointments (share of visits booked)", appointments),
            section("Show", ["customer"]),
        ], layout=w.Layout(width="34%"))
        right = w.VBox([self._status, self._images["segments"], self._table,
                        self._images["queue"], self._images["journey"]],
                       layout=w.Layout(width="66%"))
        return w.HBox([left, right])

    # ------------------------------------------------------------ scenario <-> controls
    def _set_controls_from(self, scenario: Scenario) -> None:
        c = self.controls
        self._quiet = True
        try:
            for g in self._groups:
                group = scenario.counters[g]
                for b in self._blocks:
                    slider = c[f"tellers.{g}.{_clock(b)}"]
                    slider.max = max(slider.max, scenario.tellers_at(g, b))
                    slider.value = scenario.tellers_at(g, b)
                c[f"discipline.{g}"].value = group.discipline
            c["lounge"].value = bool(scenario.lounge.enabled)
            c["distraction"].value = bool(scenario.hall.distraction)
            c["wait_display"].value = bool(scenario.hall.wait_display)
            for s, seg in scenario.segments.items():
                c[f"farewell.{s}"].value = bool(seg.farewell.enabled)
                gift = c[f"gift.{s}"]
                gift.max = max(gift.max, float(seg.farewell.gift_size))
                gift.value = float(seg.farewell.gift_size)
                c[f"appointment_share.{s}"].value = float(seg.appointment_share)
        finally:
            self._quiet = False

    def changes(self) -> dict[str, Any]:
        """Return the controls' settings as a policy ``changes`` dict (for :class:`pe.Policy`).

        Returns
        -------
        dict
            A nested partial scenario: the tellers, disciplines, hall, lounge,
            farewell, gift and appointment fields the controls set. Merged into
            the starting policy's scenario by :meth:`policy`.
        """
        c = self.controls
        start = self._starts[c["start"].value]
        counters: dict[str, Any] = {}
        for g in self._groups:
            counts = [int(c[f"tellers.{g}.{_clock(b)}"].value) for b in self._blocks]
            plan: Any = counts[0] if len(set(counts)) == 1 else [
                {"start": _clock(b), "count": n} for b, n in zip(self._blocks, counts,
                                                                  strict=True)]
            discipline = c[f"discipline.{g}"].value
            group: dict[str, Any] = {"tellers": plan, "discipline": discipline}
            if discipline == "priority" and not start.counters[g].priority:
                by_value = sorted(start.segments, key=lambda s: -start.segments[s].value)
                group["priority"] = by_value
            if discipline != "flexible":
                group["overflow"] = None
            counters[g] = group
        segments: dict[str, Any] = {}
        for s in self._segments:
            gift = float(c[f"gift.{s}"].value)
            segments[s] = {
                "appointment_share": float(c[f"appointment_share.{s}"].value),
                "farewell": {"enabled": bool(c[f"farewell.{s}"].value), "gift_size": gift,
                             "gift_cost": round(gift * self._gift_ratio[s], 6)},
            }
        return {
            "counters": counters,
            "segments": segments,
            "lounge": {"enabled": bool(c["lounge"].value)},
            "hall": {"distraction": bool(c["distraction"].value),
                     "wait_display": bool(c["wait_display"].value)},
        }

    def policy(self, name: str = "what-if") -> Any:
        """Return the current what-if as a :class:`peakend.Policy` of the base scenario.

        Parameters
        ----------
        name : str, default "what-if"
            The policy's name.

        Returns
        -------
        Policy
            The starting policy's changes with the controls' settings merged in,
            ready for :func:`peakend.run`.
        """
        from peakend.experiment import Policy, deep_merge

        start = next(p for p in self._policies if p.name == self.controls["start"].value)
        return Policy(name, deep_merge(start.changes, self.changes()),
                      f"what-if from {start.name}, set in explore()")

    # -------------------------------------------------------------------- update
    def update(self) -> None:
        """Rebuild the scenario from the controls, re-simulate and redraw (synchronously)."""
        from peakend.experiment import PolicyError

        t0 = time.perf_counter()
        try:
            scenario = self.policy().apply(self._base_scenario)
        except PolicyError as exc:
            self.error = str(exc)
            self._status.value = ("<span style='color:#D55E00'>Not simulated: "
                                  f"{_escape(self.error)}</span>")
            return
        self.error = ""
        self.scenario = scenario
        self._days = self._simulate(scenario)
        self.summary = self._summarise()
        if self._figures:
            self._draw()
        else:
            self._table.value = self.summary.to_html(index=False,
                                                     float_format=lambda x: f"{x:.2f}")
        self.seconds = time.perf_counter() - t0
        cost = scenario.staff_cost() + scenario.fixed_cost()
        base_cost = (self._starts[self.baseline_name].staff_cost()
                     + self._starts[self.baseline_name].fixed_cost())
        self._status.value = (
            f"{self._replications} days with common random numbers, compared with "
            f"<b>{_escape(self.baseline_name)}</b>; staff and fixed cost "
            f"{cost:,.0f} {scenario.currency}/day ({cost - base_cost:+,.0f}); "
            f"updated in {self.seconds:.2f} s")

    def _summarise(self) -> pd.DataFrame:
        import pandas as pd

        from peakend import stats

        def per_day(days: list[Journeys], column: str) -> np.ndarray:
            return np.array([_mean_by_segment(d, d.customers[column]) for d in days])

        base, now = per_day(self._baseline_days, "remembered"), per_day(self._days, "remembered")
        wait_base, wait_now = per_day(self._baseline_days, "wait"), per_day(self._days, "wait")
        d = stats.paired_difference(now, base, axis=0, confidence=self._confidence)
        p = np.nan_to_num(np.asarray(d.p_value, dtype=float), nan=1.0)
        p_holm = stats.holm(p)
        names = ["all", *self._baseline_days[0].segments]
        return pd.DataFrame({
            "segment": names,
            "baseline": np.nanmean(base, axis=0),
            "what_if": np.nanmean(now, axis=0),
            "difference": np.asarray(d.mean, dtype=float),
            "low": np.asarray(d.low, dtype=float),
            "high": np.asarray(d.high, dtype=float),
            "p_holm": p_holm,
            "significant": p_holm < 1 - self._confidence,
            "wait_baseline": np.nanmean(wait_base, axis=0),
            "wait_what_if": np.nanmean(wait_now, axis=0),
        })

    def _draw(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from peakend import plots

        def figure(width: float, height: float) -> tuple[Any, Any]:
            fig = Figure(figsize=(width, height), layout="constrained", dpi=80)
            FigureCanvasAgg(fig)
            return fig, fig.subplots()

        # per-segment remembered value against the baseline
        fig, ax = figure(8.0, 3.6)
        table = self.summary.assign(policy=self.summary["segment"], segment="what-if vs "
                                    + self.baseline_name)
        plots.policy_comparison(table, baseline=self.baseline_name, sort=False,
                                confidence=self._confidence, ax=ax)
        ax.set_title("Remembered value per segment: what-if minus baseline")
        self._show("segments", fig, ax)
        # the queue over the day, with the baseline's queue
        fig, ax = figure(9.0, 3.4)
        day = self._days[0]
        plots.JourneysPlot(day, self.scenario).queue(ax=ax)
        bq = self._baseline_days[0].queue
        ax.step(np.append(bq["time"], day.meta.get("closing", bq["time"][-1])),
                np.append(bq["length"], bq["length"][-1]), where="post", color="0.35",
                lw=1.0, ls=":", label=f"waiting under {self.baseline_name}")
        ax.legend(loc="upper left", fontsize=8)
        top = max(float(np.max(bq["length"], initial=0)),
                  float(np.max(day.queue["length"], initial=0)), 1.0)
        ax.set_ylim(0, 1.3 * top + 0.5)
        ax.set_title("Hall queue over the day (replication 0)")
        self._show("queue", fig, ax)
        # one customer's journey
        fig, ax = figure(9.0, 4.2)
        i = min(int(self.controls["customer"].value), len(day) - 1)
        plots.journey_map(day, i, ax=ax)
        ax.set_title(f"Customer {i} under the what-if: ○ peak, ■ end, dashed = remembered")
        self._show("journey", fig, ax)
        self._table.value = self.summary.to_html(index=False, float_format=lambda x: f"{x:.2f}")

    def _show(self, name: str, fig: Any, ax: Any) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        self._images[name].value = buf.getvalue()
        self.axes[name] = ax

    # ------------------------------------------------------------------- display
    @property
    def images(self) -> dict[str, bytes]:
        """The figures shown, as PNG bytes: ``"segments"``, ``"queue"``, ``"journey"``.

        For a static page (a rendered notebook, a report) where the live widget
        cannot run: ``IPython.display.Image(app.images["queue"])``.
        """
        return {name: bytes(image.value) for name, image in self._images.items()}

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # a readable fallback where widgets cannot render
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return (f"Explorer({self._base_scenario.name!r}: {len(self.controls)} controls, "
                f"{self._replications} replications, seed {self._seed})")


def _policy_list(policies: Any) -> list[Any]:
    """Normalise ``policies`` as :func:`peakend.run` does (None: the scenario as given)."""
    import os

    from peakend.experiment import Policy, load_policies

    if policies is None:
        return [Policy("baseline", {}, "the scenario as given")]
    if isinstance(policies, Policy):
        return [policies]
    if isinstance(policies, (str, os.PathLike)):
        return list(load_policies(policies))
    if hasattr(policies, "items"):
        return [p if isinstance(p, Policy) else Policy(str(name), dict(p))
                for name, p in policies.items()]
    out = list(policies)
    if not out or not all(isinstance(p, Policy) for p in out):
        raise ValueError("policies: expected None, a Policy, a sequence of Policy, a mapping "
                         "of names to Policy or changes, or a policy file / built-in set name")
    return out


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def explore(
    scenario: Scenario | str,
    policies: Any = None,
    *,
    replications: int = 20,
    seed: int = 0,
    confidence: float = 0.95,
    figures: bool = True,
) -> Explorer:
    """Open a live what-if of a scenario in Jupyter (an ipywidgets app).

    Parameters
    ----------
    scenario : Scenario or str
        The scenario, or a built-in name / path for :func:`peakend.load_scenario`.
    policies : None, Policy, sequence, mapping, str or path, optional
        Starting points (anything :func:`peakend.run` accepts). The first is the
        baseline every what-if is compared with; the ``start`` control resets the
        levers to another one. Default: the scenario as given.
    replications : int, default 20
        Simulated days per what-if, 2..1000 (more: narrower intervals, slower
        updates; 20 days of the default branch take about 0.2 s).
    seed : int, default 0
        Root seed: replication ``r`` uses the seed ``peakend.run`` would use, so
        the what-if days are the days of ``pe.run(..., seed=seed)``.
    confidence : float, default 0.95
        Level of the intervals; significance is Holm-adjusted across segments.
    figures : bool, default True
        Redraw the three figures on every change; ``False`` updates only the
        summary table (a script sweeping levers; drawing takes most of an update).

    Returns
    -------
    Explorer
        Displays as the app; see :class:`Explorer` for ``controls`` and ``summary``.

    Raises
    ------
    ValueError
        For an invalid argument (naming it) or a policy that gives an invalid scenario.
    ImportError
        If ipywidgets is not installed.

    Examples
    --------
    >>> import peakend as pe
    >>> app = pe.explore("default_branch")  # doctest: +SKIP
    >>> app.controls["tellers.general.11:30"].value = 6  # doctest: +SKIP
    >>> app.summary  # doctest: +SKIP
    """
    return Explorer(scenario, policies, replications=replications, seed=seed,
                    confidence=confidence, figures=figures)


class _CallableModule(types.ModuleType):
    """Module type that makes this module callable as :func:`explore`.

    ``import peakend.explore`` rebinds ``peakend.explore`` to the module; calling it
    still opens the app.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Explorer:
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
