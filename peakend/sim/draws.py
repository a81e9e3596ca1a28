"""Stage 1 of a simulated day: every random quantity, drawn up front (:func:`draw_day`).

Every per-customer quantity of every potential customer is drawn vectorized from its own
stream (:mod:`peakend.sim.sampling`), so that a policy that changes staffing, disciplines
or the experience design sees the same customers: common random numbers. The movement
engine and the experience builder hold no random generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim._cache import ScenarioCache
from peakend.sim.sampling import (
    arrival_profile,
    as_seed_sequence,
    name_key,
    ppf,
    stream,
    stream_states,
    thin,
)
from peakend.sim.touchpoints import NOISE_TOUCHPOINTS

__all__ = ["DayDraws", "day_draws", "draw_day", "draw_days"]


@dataclass(frozen=True)
class DayDraws:
    """All per-customer random draws of a day, for the customers who come.

    Arrays are in arrival order. ``potential`` is the index of each customer
    among all potential arrivals (before e-channel diversion), which is what
    common random numbers are keyed on.
    """

    arrival: NDArray[np.float64]  # minutes from opening
    potential: NDArray[np.int64]
    segment: NDArray[np.int16]
    business: NDArray[np.int16]
    appointment: NDArray[np.bool_]
    service: NDArray[np.float64]  # minutes
    patience: NDArray[np.float64]  # minutes, inf: never reneges
    noise: NDArray[np.float64]  # (n, len(NOISE_TOUCHPOINTS)) points
    quality: dict[str, NDArray[np.float64]]  # per counter group, per teller, 0-10
    # the advice episode: None when no business type includes advice
    advice_noise: NDArray[np.float64] | None  # (n,) points
    advice: dict[str, NDArray[np.float64]]  # per counter group, per teller, 0-10


def draw_day(scenario: Scenario, seed: int | np.random.SeedSequence = 0) -> DayDraws:
    """Draw every random quantity of one day, per potential customer.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    seed : int or numpy.random.SeedSequence
        The day's seed; a SeedSequence is not mutated.

    Returns
    -------
    DayDraws
        The draws of the customers who come (e-channel diversions removed).
    """
    draws, _ = draw_days(scenario, [seed])
    return replace(
        draws,
        quality={g: q[0] for g, q in draws.quality.items()},
        advice={g: q[0] for g, q in draws.advice.items()},
    )


def draw_days(
    scenario: Scenario, seeds: Sequence[int | np.random.SeedSequence]
) -> tuple[DayDraws, NDArray[np.int64]]:
    """Draw several days at once: each day from its own streams, as :func:`draw_day` would.

    Every day's random numbers come from that day's streams, in the same calls as for
    the day alone; what follows from them (segments, business, appointments, e-channel
    diversion, service times, patience, the scaled noise) is elementwise, so it is
    computed once for all the days: each day's values are those of the day alone.

    Parameters
    ----------
    scenario : Scenario
        The branch.
    seeds : sequence of int or numpy.random.SeedSequence
        One seed per day (not mutated).

    Returns
    -------
    draws : DayDraws
        The days' customers end to end (``potential`` counts from 0 in each day); the
        per-teller levels ``quality`` and ``advice`` have one row per day.
    bounds : numpy.ndarray of int64
        ``len(seeds) + 1`` offsets: day ``d`` has the customers ``bounds[d]:bounds[d + 1]``.
    """
    plan = _plan(scenario)
    n_noise = len(NOISE_TOUCHPOINTS)
    times_l, u_l, us_l, up_l, noise_l, adv_l = [], [], [], [], [], []
    quality: dict[str, list[NDArray[np.float64]]] = {g: [] for g in scenario.counters}
    advice: dict[str, list[NDArray[np.float64]]] = {g: [] for g in scenario.counters}
    sizes = []
    streams = _Streams([as_seed_sequence(seed) for seed in seeds], plan.names)
    for _ in seeds:
        times = thin(streams.next(), *plan.profile)  # "arrivals" (arrival_times)
        n = times.size
        sizes.append(n)
        times_l.append(times)
        u_l.append(streams.next().random((n, 4)))  # "mix"
        us_l.append(streams.next().random(n))  # "service"
        if plan.renege:
            # the stream is only needed (and only set up) when someone can renege
            up_l.append(streams.next().random(n))  # "patience"
        noise_l.append(streams.next().standard_normal((n, n_noise)))  # "experience"
        if plan.advice:
            adv_l.append(streams.next().standard_normal(n))  # "advice"
            for g, c in scenario.counters.items():  # "advice_tellers", per group
                q = streams.next().normal(c.advice.mean, c.advice.sd, size=c.max_tellers())
                advice[g].append(np.clip(q, 0.0, 10.0))
        for g, c in scenario.counters.items():  # "tellers", per group
            q = streams.next().normal(c.quality.mean, c.quality.sd, size=c.max_tellers())
            quality[g].append(np.clip(q, 0.0, 10.0))

    def cat(parts: list[Any]) -> Any:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    times = cat(times_l)
    n = times.size
    u = cat(u_l)
    seg_names, bus_names = plan.seg_names, plan.bus_names
    if len(seg_names) == 1:  # the formula below gives 0 for everyone
        seg = np.zeros(n, dtype=np.int64)
    elif scenario.arrivals.segment_mix is None:
        seg = np.minimum(np.searchsorted(plan.cum, u[:, 0], side="right"), len(seg_names) - 1)
    else:
        seg = _segments_by_time(scenario, seg_names, plan.cum, times, u[:, 0])
    if len(bus_names) == 1:  # the formula below gives 0 for everyone
        bus = np.zeros(n, dtype=np.int64)
    else:
        bus = np.minimum((u[:, 1:2] >= plan.cmix[seg]).sum(axis=1), len(bus_names) - 1)
    appointment = u[:, 2] < plan.appt_share[seg]
    keep = u[:, 3] >= plan.e_share[bus]

    u_service = cat(us_l)
    service = np.empty(n)
    if len(bus_names) == 1:  # ppf is elementwise: the same values without masking
        service[:] = ppf(scenario.business_types[bus_names[0]].service, u_service)
    else:
        for i, b in enumerate(bus_names):
            m = bus == i
            service[m] = ppf(scenario.business_types[b].service, u_service[m])

    patience = np.full(n, np.inf)
    if plan.renege:
        u_patience = cat(up_l)
        for i, dist in plan.renege:
            m = seg == i
            patience[m] = ppf(dist, u_patience[m])

    noise = cat(noise_l)
    noise *= plan.sd[seg][:, None]
    advice_noise = cat(adv_l) * plan.sd[seg] if plan.advice else None

    potential = (
        np.arange(n, dtype=np.int64) if len(sizes) == 1
        else np.concatenate([np.arange(k, dtype=np.int64) for k in sizes])
    )
    levels = {g: np.stack(q) if q else np.zeros((0, 0)) for g, q in quality.items()}
    advice_levels = {g: np.stack(q) for g, q in advice.items() if q} if plan.advice else {}
    idx = np.flatnonzero(keep)
    bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
    if idx.size == n:  # nobody diverted to the e-channel: no need to copy
        np.cumsum(sizes, out=bounds[1:])
        return DayDraws(
            arrival=times,
            potential=potential,
            segment=seg.astype(np.int16),
            business=bus.astype(np.int16),
            appointment=appointment,
            service=service,
            patience=patience,
            noise=noise,
            quality=levels,
            advice_noise=advice_noise,
            advice=advice_levels,
        ), bounds
    day = np.repeat(np.arange(len(sizes)), sizes)
    np.cumsum(np.bincount(day[idx], minlength=len(sizes)), out=bounds[1:])
    return DayDraws(
        arrival=times[idx],
        potential=potential[idx],
        segment=seg[idx].astype(np.int16),
        business=bus[idx].astype(np.int16),
        appointment=appointment[idx],
        service=service[idx],
        patience=patience[idx],
        noise=noise[idx],
        quality=levels,
        advice_noise=None if advice_noise is None else advice_noise[idx],
        advice=advice_levels,
    ), bounds


def day_draws(draws: DayDraws, bounds: NDArray[np.int64], d: int) -> DayDraws:
    """Return day ``d`` of :func:`draw_days`' result: :func:`draw_day`'s draws (as views)."""
    lo, hi = int(bounds[d]), int(bounds[d + 1])
    return DayDraws(
        arrival=draws.arrival[lo:hi],
        potential=draws.potential[lo:hi],
        segment=draws.segment[lo:hi],
        business=draws.business[lo:hi],
        appointment=draws.appointment[lo:hi],
        service=draws.service[lo:hi],
        patience=draws.patience[lo:hi],
        noise=draws.noise[lo:hi],
        quality={g: q[d] for g, q in draws.quality.items()},
        advice_noise=None if draws.advice_noise is None else draws.advice_noise[lo:hi],
        advice={g: q[d] for g, q in draws.advice.items()},
    )


class _Streams:
    """The named streams of several days, handed out in order (:meth:`next`).

    Every day uses the streams ``names`` (name and extra key, in the order the draws
    take them). Their generators' states are computed for all the days at once
    (:func:`~peakend.sim.sampling.stream_states`); one PCG64 is set to each state in
    turn, so each stream draws exactly what :func:`~peakend.sim.sampling.stream` would.
    A stream must be used up before the next is taken.
    """

    def __init__(
        self, roots: list[np.random.SeedSequence], names: list[tuple[str, tuple[int, ...]]]
    ) -> None:
        requests = [(root, name, extra) for root in roots for name, extra in names]
        self._roots, self._names, self._i = roots, names, 0
        # one day: numpy's own seeding is as quick (the vectorized hashing pays off on many)
        fast = len(roots) > 1 and _fast_streams()
        self._states = stream_states(requests) if fast else None
        if fast:
            self._bits = np.random.PCG64(0)
            self._rng = np.random.Generator(self._bits)

    def next(self) -> np.random.Generator:
        """Return the generator of the next stream."""
        i = self._i
        self._i += 1
        if self._states is None:
            day, k = divmod(i, len(self._names))
            name, extra = self._names[k]
            return stream(self._roots[day], name, *extra)
        self._bits.state = self._states[i]  # type: ignore[assignment]
        return self._rng


_FAST: list[bool] = []


def _fast_streams() -> bool:
    """Whether :func:`stream_states` seeds as numpy does here (checked once per process)."""
    if not _FAST:
        root = np.random.SeedSequence(20261202, spawn_key=(3, 1 << 33))
        probe = [(root, "tellers", (name_key("general"),)), (root, "mix", ())]
        ok = all(
            st == stream(r, name, *extra).bit_generator.state
            for (r, name, extra), st in zip(probe, stream_states(probe), strict=True)
        )
        _FAST.append(ok)
    return _FAST[0]


@dataclass(frozen=True)
class _Plan:
    """What the draws need of a scenario: its share tables and distributions."""

    seg_names: list[str]
    bus_names: list[str]
    cum: NDArray[np.float64]  # cumulative segment shares, normalised
    cmix: NDArray[np.float64]  # per segment, cumulative business mix, normalised
    appt_share: NDArray[np.float64]
    e_share: NDArray[np.float64]
    sd: NDArray[np.float64]  # per segment, experience noise sd
    renege: list[tuple[int, Any]]  # (segment, patience distribution) of those who renege
    advice: bool  # some business type includes advice
    names: list[tuple[str, tuple[int, ...]]]  # the streams of a day, in the order drawn
    profile: tuple[Any, Any, float, float]  # sampling.arrival_profile


_PLANS: ScenarioCache[_Plan] = ScenarioCache()


def _plan(scenario: Scenario) -> _Plan:
    """Return the scenario's :class:`_Plan`, cached per scenario object (scenarios are frozen)."""
    return _PLANS.get(scenario, None, lambda: _build_plan(scenario))


def _build_plan(scenario: Scenario) -> _Plan:
    s = scenario
    seg_names = list(s.segments)
    bus_names = list(s.business_types)
    shares = np.array([s.segments[x].share for x in seg_names])
    cum = np.cumsum(shares)
    cum /= cum[-1]
    mix = np.array(
        [[s.segments[x].business_mix.get(b, 0.0) for b in bus_names] for x in seg_names]
    )
    cmix = np.cumsum(mix, axis=1)
    cmix /= cmix[:, -1:]
    renege = [(i, s.segments[x].renege) for i, x in enumerate(seg_names)]
    advice = any(b.advice_share > 0 for b in s.business_types.values())
    names: list[tuple[str, tuple[int, ...]]] = [("arrivals", ()), ("mix", ()), ("service", ())]
    if any(dist is not None for _, dist in renege):
        names.append(("patience", ()))
    names.append(("experience", ()))
    if advice:
        names.append(("advice", ()))
        names += [("advice_tellers", (name_key(g),)) for g in s.counters]
    names += [("tellers", (name_key(g),)) for g in s.counters]
    plan = _Plan(
        seg_names=seg_names,
        bus_names=bus_names,
        cum=cum,
        cmix=cmix,
        appt_share=np.array([s.segments[x].appointment_share for x in seg_names]),
        e_share=np.array([s.business_types[b].e_channel_share for b in bus_names]),
        sd=np.array([s.segments[x].noise_sd for x in seg_names]),
        renege=[(i, dist) for i, dist in renege if dist is not None],
        advice=advice,
        names=names,
        profile=arrival_profile(s),
    )
    return plan


def _segments_by_time(
    scenario: Scenario,
    seg_names: list[str],
    cum: NDArray[np.float64],
    times: NDArray[np.float64],
    u: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Segment of each customer under a time-of-day mix (``arrivals.segment_mix``).

    The same uniform per potential customer as without a mix: only the thresholds (the
    cumulative shares of the block the customer arrives in) change, so common random
    numbers hold. Before the first block the segments' own shares apply (``cum``).
    """
    blocks = scenario.arrivals.segment_mix or []
    starts = np.array([(b.start - scenario.opening) * 60.0 for b in blocks])
    table = np.empty((len(blocks) + 1, len(seg_names)))
    table[0] = cum
    for i, b in enumerate(blocks):
        row = np.cumsum([b.shares.get(x, 0.0) for x in seg_names])
        table[i + 1] = row / row[-1]
    block = np.searchsorted(starts, times, side="right")  # 0: before the first block
    seg: NDArray[np.int64] = np.minimum(
        (u[:, None] >= table[block]).sum(axis=1), len(seg_names) - 1
    )
    return seg
