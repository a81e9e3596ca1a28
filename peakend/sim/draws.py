"""Stage 1 of a simulated day: every random quantity, drawn up front (:func:`draw_day`).

Every per-customer quantity of every potential customer is drawn vectorized from its own
stream (:mod:`peakend.sim.sampling`), so that a policy that changes staffing, disciplines
or the experience design sees the same customers: common random numbers. The movement
engine and the experience builder hold no random generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from peakend.config.models import Scenario
from peakend.sim.sampling import arrival_times, as_seed_sequence, name_key, ppf, stream
from peakend.sim.touchpoints import NOISE_TOUCHPOINTS

__all__ = ["DayDraws", "draw_day"]


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
    root = as_seed_sequence(seed)
    seg_names = list(scenario.segments)
    bus_names = list(scenario.business_types)
    times = arrival_times(scenario, stream(root, "arrivals"))
    n = times.size
    u = stream(root, "mix").random((n, 4))
    shares = np.array([scenario.segments[s].share for s in seg_names])
    cum = np.cumsum(shares)
    cum /= cum[-1]
    if len(seg_names) == 1:  # the formula below gives 0 for everyone
        seg = np.zeros(n, dtype=np.int64)
    elif scenario.arrivals.segment_mix is None:
        seg = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), len(seg_names) - 1)
    else:
        seg = _segments_by_time(scenario, seg_names, cum, times, u[:, 0])
    mix = np.array(
        [[scenario.segments[s].business_mix.get(b, 0.0) for b in bus_names] for s in seg_names]
    )
    cmix = np.cumsum(mix, axis=1)
    cmix /= cmix[:, -1:]
    if len(bus_names) == 1:  # the formula below gives 0 for everyone
        bus = np.zeros(n, dtype=np.int64)
    else:
        bus = np.minimum((u[:, 1:2] >= cmix[seg]).sum(axis=1), len(bus_names) - 1)
    appt_share = np.array([scenario.segments[s].appointment_share for s in seg_names])
    appointment = u[:, 2] < appt_share[seg]
    e_share = np.array([scenario.business_types[b].e_channel_share for b in bus_names])
    keep = u[:, 3] >= e_share[bus]

    u_service = stream(root, "service").random(n)
    service = np.empty(n)
    if len(bus_names) == 1:  # ppf is elementwise: the same values without masking
        service[:] = ppf(scenario.business_types[bus_names[0]].service, u_service)
    else:
        for i, b in enumerate(bus_names):
            m = bus == i
            service[m] = ppf(scenario.business_types[b].service, u_service[m])

    patience = np.full(n, np.inf)
    renege = [(i, scenario.segments[s].renege) for i, s in enumerate(seg_names)]
    if any(dist is not None for _, dist in renege):
        # the stream is only needed (and only set up) when someone can renege
        u_patience = stream(root, "patience").random(n)
        for i, dist in renege:
            if dist is not None:
                m = seg == i
                patience[m] = ppf(dist, u_patience[m])

    sd = np.array([scenario.segments[s].noise_sd for s in seg_names])
    noise = stream(root, "experience").standard_normal((n, len(NOISE_TOUCHPOINTS)))
    noise *= sd[seg][:, None]
    advice_noise = None
    advice: dict[str, NDArray[np.float64]] = {}
    if any(b.advice_share > 0 for b in scenario.business_types.values()):
        advice_noise = stream(root, "advice").standard_normal(n) * sd[seg]
        for g, c in scenario.counters.items():
            rng = stream(root, "advice_tellers", name_key(g))
            q = rng.normal(c.advice.mean, c.advice.sd, size=c.max_tellers())
            advice[g] = np.clip(q, 0.0, 10.0)

    quality = {}
    for g, c in scenario.counters.items():
        rng = stream(root, "tellers", name_key(g))
        q = rng.normal(c.quality.mean, c.quality.sd, size=c.max_tellers())
        quality[g] = np.clip(q, 0.0, 10.0)

    idx = np.flatnonzero(keep)
    if idx.size == n:  # nobody diverted to the e-channel: no need to copy
        return DayDraws(
            arrival=times,
            potential=idx.astype(np.int64),
            segment=seg.astype(np.int16),
            business=bus.astype(np.int16),
            appointment=appointment,
            service=service,
            patience=patience,
            noise=noise,
            quality=quality,
            advice_noise=advice_noise,
            advice=advice,
        )
    return DayDraws(
        arrival=times[idx],
        potential=idx.astype(np.int64),
        segment=seg[idx].astype(np.int16),
        business=bus[idx].astype(np.int16),
        appointment=appointment[idx],
        service=service[idx],
        patience=patience[idx],
        noise=noise[idx],
        quality=quality,
        advice_noise=None if advice_noise is None else advice_noise[idx],
        advice=advice,
    )


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
