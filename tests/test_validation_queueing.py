"""Validation of the simulator against queueing theory (issue 3).

Textbook ``mmc`` scenarios are simulated through the full model
(``peakend.simulate``) and compared with closed-form or exact values from
``peakend.theory`` -- never with numbers the simulator produced before:

* long FIFO runs, warm-up discarded, independent replications: the mean wait
  and the probability of waiting contain Erlang C inside a 99 % t-interval, and
  the time-average hall queue contains ``lambda * Wq`` (Little's law);
* the same with priority classes: each class's mean wait contains Cobham's value;
* short days that start empty: the mean wait contains the exact transient value
  of ``theory.mmc_transient_wait`` and excludes the (wrong) steady-state value;
* sample-path identities that hold exactly on every simulated day: every
  arrival is served once, by at most ``servers`` counters at a time, in FIFO
  order, and the integral of the hall queue equals the sum of the waits.

Why 99 % intervals and fixed seeds: the seeds are fixed, so the outcome is
reproducible; the 99 % level keeps the chance that an unlucky *new* set of seeds
trips one of the intervals (there are about a dozen) near 10 % rather than near
50 %, while each interval is still narrow enough to catch a wrong rate, a wrong
discipline or a recording error (the tests below also assert that the
intervals exclude nearby wrong answers).

Run ``python tests/test_validation_queueing.py`` to print the theory-versus-
simulation table used in ``docs/background/queueing-validation.md``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy import stats

import peakend as pe
from peakend import theory

pytestmark = pytest.mark.slow

CONFIDENCE = 0.99
BASE_SEED = 20_261_125


@dataclass(frozen=True)
class Queue:
    """An M/M/c experiment: rates per minute, day length in hours."""

    arrival_rate: float
    service_rate: float
    servers: int
    hours: float
    class_rates: tuple[float, ...] | None = None

    @property
    def rho(self) -> float:
        return self.arrival_rate / (self.servers * self.service_rate)

    def scenario(self) -> Any:
        rates = None if self.class_rates is None else list(self.class_rates)
        return pe.scenarios.mmc(
            self.arrival_rate, self.service_rate, self.servers, self.hours, class_rates=rates
        )


# Long FIFO runs: rho = 0.8; relaxation time about 1 / (c mu (1 - sqrt(rho))^2) = 45 min,
# so a 5-hour warm-up leaves a negligible start-empty bias.
FIFO = Queue(1.6, 0.5, 4, 60.0)
FIFO_WARMUP = 5 * 60.0  # minutes discarded at the start
FIFO_REPLICATIONS = 40

# Priority classes (highest first), equal service rates, total rho = 0.8.
PRIORITY_RATES = (0.3, 0.5, 0.8)
PRIORITY = Queue(sum(PRIORITY_RATES), 0.5, 4, 60.0, class_rates=PRIORITY_RATES)
PRIORITY_WARMUP = 5 * 60.0
PRIORITY_COOLDOWN = 2 * 60.0  # minutes discarded at the end (no more arrivals after closing)
PRIORITY_REPLICATIONS = 40

# Short days starting empty: the busy branch (rho = 0.9) for 2 hours.
SHORT = Queue(1.8, 0.5, 4, 2.0)
SHORT_REPLICATIONS = 500
# The reference day: 8 hours at rho = 0.9, exact mean wait about 3.47 min (Erlang C
# says 3.94). Its day-to-day spread is large, so it only has to contain the exact value.
DAY = Queue(1.8, 0.5, 4, 8.0)
DAY_REPLICATIONS = 300


# ------------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class Comparison:
    """One theory-versus-simulation comparison with its confidence interval."""

    experiment: str
    quantity: str
    unit: str
    theory: float
    estimate: float
    low: float
    high: float
    replications: int
    customers: int

    @property
    def contains(self) -> bool:
        return self.low <= self.theory <= self.high

    def excludes(self, value: float) -> bool:
        return not self.low <= value <= self.high


def t_interval(samples: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and two-sided ``CONFIDENCE`` t-interval of independent replications."""
    x = np.asarray(samples, dtype=float)
    n = x.size
    assert n >= 3, "need at least 3 replications for a t-interval"
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def ratio_interval(numerators: np.ndarray, denominators: np.ndarray) -> tuple[float, float, float]:
    """Ratio of sums with a delta-method t-interval (per-customer mean over replications).

    The mean wait over all customers of many days is ``sum(total waits) / sum(counts)``;
    its standard error follows from the residuals ``num - ratio * den`` of each day.
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    n = num.size
    ratio = float(num.sum() / den.sum())
    resid = num - ratio * den
    se = float(np.sqrt(resid.var(ddof=1) / n) / den.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * se)
    return ratio, ratio - half, ratio + half


def queue_integral(times: np.ndarray, lengths: np.ndarray, start: float, end: float) -> float:
    """Integral of a right-continuous step series over ``[start, end]`` (length x minutes).

    ``lengths[i]`` holds from ``times[i]`` until ``times[i + 1]``; before the first
    row the queue is empty.
    """
    order = np.argsort(times, kind="stable")
    t = np.clip(np.asarray(times, dtype=float)[order], start, end)
    q = np.asarray(lengths, dtype=float)[order]
    widths = np.diff(np.append(t, end))
    return float(q @ widths)


def simulate_days(scenario: Any, n_days: int, salt: int, engine: str = "simpy") -> list[Any]:
    """Independent days: seeds spawned from one SeedSequence, one child per day."""
    children = np.random.SeedSequence([BASE_SEED, salt]).spawn(n_days)
    return [pe.simulate(scenario, seed=child, engine=engine) for child in children]


#: Every test below runs on both movement engines (the compiled one gives SimPy's bits,
#: tests/test_engine.py; here each is held to the theory on its own).
ENGINES = ("simpy", "compiled")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ------------------------------------------------------------------------ experiments


@functools.cache
def fifo_days(engine: str = "simpy") -> list[Any]:
    return simulate_days(FIFO.scenario(), FIFO_REPLICATIONS, salt=1, engine=engine)


@functools.cache
def priority_days(engine: str = "simpy") -> list[Any]:
    return simulate_days(PRIORITY.scenario(), PRIORITY_REPLICATIONS, salt=2, engine=engine)


@functools.cache
def short_days(hours: float, engine: str = "simpy") -> list[Any]:
    if hours == SHORT.hours:
        return simulate_days(SHORT.scenario(), SHORT_REPLICATIONS, salt=3, engine=engine)
    assert hours == DAY.hours
    return simulate_days(DAY.scenario(), DAY_REPLICATIONS, salt=4, engine=engine)


def class_codes(day: Any) -> list[int]:
    """Segment code of each priority class, highest priority first.

    ``mmc`` names its classes ``class0``, ``class1``, ... in the order of ``class_rates``.
    """
    return [day.segments.index(f"class{k}") for k in range(len(PRIORITY_RATES))]


@functools.cache
def fifo_comparisons(engine: str = "simpy") -> dict[str, Comparison]:
    lam, mu, c = FIFO.arrival_rate, FIFO.service_rate, FIFO.servers
    horizon = 60.0 * FIFO.hours
    window = horizon - FIFO_WARMUP
    waits, p_wait, lq, little_gap = [], [], [], []
    customers = 0
    for day in fifo_days(engine):
        arrival = day.customers["arrival"]
        wait = day.customers["wait"]
        keep = arrival >= FIFO_WARMUP
        customers += int(keep.sum())
        waits.append(wait[keep].mean())
        p_wait.append((wait[keep] > 1e-9).mean())
        area = queue_integral(day.queue["time"], day.queue["length"], FIFO_WARMUP, horizon)
        lq.append(area / window)
        # Little's law on the sample path: time-average queue minus observed rate x mean wait
        little_gap.append(area / window - keep.sum() / window * wait[keep].mean())
    exact = theory.mmc_metrics(lam, mu, c)
    name = f"M/M/{c}, rho={lam / (c * mu):.2f}, {FIFO.hours:.0f} h"
    runs = len(waits)

    def make(quantity: str, unit: str, value: float, samples: list[float]) -> Comparison:
        return Comparison(name, quantity, unit, value, *t_interval(samples), runs, customers)

    return {
        "wait": make("mean wait Wq (Erlang C)", "min", exact.mean_wait, waits),
        "p_wait": make("P(wait) (Erlang C)", "", exact.prob_wait, p_wait),
        "lq": make("time-average queue Lq = lambda Wq", "customers", exact.mean_queue_length, lq),
        "little": make("Lq - lambda_obs * W_obs (Little)", "customers", 0.0, little_gap),
    }


@functools.cache
def priority_comparisons(engine: str = "simpy") -> list[Comparison]:
    rates = PRIORITY_RATES
    mu, c = PRIORITY.service_rate, PRIORITY.servers
    horizon = 60.0 * PRIORITY.hours
    cobham = theory.priority_waits(rates, mu, c)
    per_class: list[list[float]] = [[] for _ in rates]
    customers = [0 for _ in rates]
    for day in priority_days(engine):
        arrival = day.customers["arrival"]
        keep = (arrival >= PRIORITY_WARMUP) & (arrival <= horizon - PRIORITY_COOLDOWN)
        for k, code in enumerate(class_codes(day)):
            mask = keep & (day.customers["segment"] == code)
            customers[k] += int(mask.sum())
            per_class[k].append(day.customers["wait"][mask].mean())
    rho = sum(rates) / (c * mu)
    name = f"priority M/M/{c}, rho={rho:.2f}, rates {list(rates)}"
    return [
        Comparison(
            name,
            f"class {k + 1} mean wait (Cobham)",
            "min",
            float(cobham[k]),
            *t_interval(per_class[k]),
            len(per_class[k]),
            customers[k],
        )
        for k in range(len(rates))
    ]


@functools.cache
def short_comparison(hours: float, engine: str = "simpy") -> Comparison:
    queue = SHORT if hours == SHORT.hours else DAY
    totals, counts = [], []
    for day in short_days(hours, engine):
        totals.append(day.customers["wait"].sum())
        counts.append(day.n_customers)
    exact = theory.mmc_transient_wait(
        queue.arrival_rate, queue.service_rate, queue.servers, queue.hours
    )
    name = f"M/M/{queue.servers}, rho={queue.rho:.2f}, {queue.hours:.0f} h day from empty"
    return Comparison(
        name,
        "mean wait (exact transient)",
        "min",
        exact,
        *ratio_interval(np.array(totals), np.array(counts)),
        len(totals),
        int(sum(counts)),
    )


def all_comparisons() -> list[Comparison]:
    return [
        *fifo_comparisons().values(),
        *priority_comparisons(),
        short_comparison(SHORT.hours),
        short_comparison(DAY.hours),
    ]


# ------------------------------------------------------------------------ tests


@pytest.mark.parametrize("key", ["wait", "p_wait", "lq", "little"])
def test_long_fifo_run_matches_erlang_c(key: str, engine: str) -> None:
    comparison = fifo_comparisons(engine)[key]
    assert comparison.contains, comparison


def test_long_fifo_intervals_are_sharp(engine: str) -> None:
    """The intervals must be narrow enough to reject a nearby wrong answer: the Erlang C
    values for one server more or one server fewer."""
    lam, mu, c = FIFO.arrival_rate, FIFO.service_rate, FIFO.servers
    found = fifo_comparisons(engine)
    for wrong_c in (c - 1, c + 1):
        if lam < wrong_c * mu:
            assert found["wait"].excludes(theory.erlang_c_wait(lam, mu, wrong_c))
            assert found["p_wait"].excludes(theory.erlang_c(lam, mu, wrong_c))
    # and 10 % faster or slower service
    for factor in (0.9, 1.1):
        assert found["wait"].excludes(theory.erlang_c_wait(lam, mu * factor, c))


@pytest.mark.parametrize("k", range(len(PRIORITY_RATES)))
def test_priority_classes_match_cobham(k: int, engine: str) -> None:
    comparison = priority_comparisons(engine)[k]
    assert comparison.contains, comparison


def test_priority_intervals_reject_fifo(engine: str) -> None:
    """Top and bottom classes must be distinguishable from the FIFO wait."""
    rates = PRIORITY_RATES
    fifo = theory.erlang_c_wait(sum(rates), PRIORITY.service_rate, PRIORITY.servers)
    found = priority_comparisons(engine)
    assert found[0].high < fifo < found[-1].low


def test_short_day_matches_exact_transient_not_erlang_c(engine: str) -> None:
    comparison = short_comparison(SHORT.hours, engine)
    assert comparison.contains, comparison
    steady = theory.erlang_c_wait(SHORT.arrival_rate, SHORT.service_rate, SHORT.servers)
    assert comparison.excludes(steady), comparison


def test_eight_hour_day_matches_exact_transient(engine: str) -> None:
    """Issue 3's reference day: the simulated mean wait contains the exact 8-hour value."""
    comparison = short_comparison(DAY.hours, engine)
    assert comparison.contains, comparison
    assert comparison.theory == pytest.approx(3.47, abs=0.005)


def _check_day(day: Any, servers: int, hours: float, fifo: bool) -> None:
    c = day.customers
    n = day.n_customers
    assert n > 0
    # every arrival appears once, numbered 0..n-1 in arrival order, and is served once
    np.testing.assert_array_equal(c["customer"], np.arange(n))
    assert np.all(np.diff(c["arrival"]) >= 0)
    assert np.all((c["arrival"] >= 0) & (c["arrival"] <= 60.0 * hours))
    assert not c["balked"].any() and not c["reneged"].any()
    assert np.all(c["counter"] >= 0)
    assert np.all(np.isfinite(c["service_start"]) & np.isfinite(c["service_end"]))
    np.testing.assert_allclose(c["service_start"] - c["arrival"], c["wait"], atol=1e-9)
    assert np.all(c["wait"] >= 0)
    assert np.all(c["service_end"] > c["service_start"])
    assert np.all(c["departure"] >= c["service_end"])
    # never more than `servers` customers in service at once, one per counter at a time
    events = np.concatenate([c["service_start"], c["service_end"]])
    steps = np.concatenate([np.ones(n), -np.ones(n)])
    order = np.lexsort((steps, events))  # ends before starts at equal times
    assert np.cumsum(steps[order]).max() <= servers
    for counter in np.unique(c["counter"]):
        on = c["counter"] == counter
        s = np.sort(c["service_start"][on])
        e = np.sort(c["service_end"][on])
        assert np.all(s[1:] >= e[:-1] - 1e-9)
    # work conservation: a customer who waited starts exactly when some service ends
    waited = c["wait"] > 1e-9
    ends = np.sort(c["service_end"])
    pos = np.clip(np.searchsorted(ends, c["service_start"][waited]), 0, n - 1)
    near = np.minimum(
        np.abs(ends[pos] - c["service_start"][waited]),
        np.abs(ends[np.maximum(pos - 1, 0)] - c["service_start"][waited]),
    )
    assert np.all(near < 1e-9)
    if fifo:
        assert np.all(np.diff(c["service_start"]) >= -1e-9)
    # sample-path Little's law: integral of the hall queue == sum of the waits
    q = day.queue
    area = queue_integral(q["time"], q["length"], 0.0, float(c["departure"].max()))
    assert area == pytest.approx(float(c["wait"].sum()), rel=1e-9, abs=1e-6)


def test_every_arrival_served_exactly_once_fifo(engine: str) -> None:
    for day in fifo_days(engine)[:5]:
        _check_day(day, FIFO.servers, FIFO.hours, fifo=True)
    for day in short_days(SHORT.hours, engine)[:50]:
        _check_day(day, SHORT.servers, SHORT.hours, fifo=True)


def test_every_arrival_served_exactly_once_priority(engine: str) -> None:
    for day in priority_days(engine)[:5]:
        _check_day(day, PRIORITY.servers, PRIORITY.hours, fifo=False)
        # within a class, service is FIFO
        for code in class_codes(day):
            on = day.customers["segment"] == code
            assert np.all(np.diff(day.customers["service_start"][on]) >= -1e-9)


def test_arrival_and_service_rates(engine: str) -> None:
    """The inputs are right: Poisson arrival counts and exponential service means."""
    lam, mu = FIFO.arrival_rate, FIFO.service_rate
    horizon = 60.0 * FIFO.hours
    days = fifo_days(engine)
    counts = np.array([d.n_customers for d in days], dtype=float)
    # total count is Poisson(R lambda T): a 99.9 % normal interval
    expected = len(days) * lam * horizon
    assert abs(counts.sum() - expected) < 3.3 * np.sqrt(expected)
    service = np.concatenate(
        [d.customers["service_end"] - d.customers["service_start"] for d in days]
    )
    # exponential: mean 1/mu, standard deviation 1/mu, coefficient of variation 1
    se = service.std() / np.sqrt(service.size)
    assert abs(service.mean() - 1 / mu) < 3.3 * se
    assert service.std() / service.mean() == pytest.approx(1.0, abs=0.02)


# ------------------------------------------------------------------------ table for the docs


def markdown_table(comparisons: Sequence[Comparison]) -> str:
    """Theory versus simulation as a Markdown table."""
    lines = [
        f"| experiment | quantity | theory | simulation | {CONFIDENCE:.0%} CI | inside | "
        "replications | customers |",
        "|---|---|---:|---:|---|:-:|---:|---:|",
    ]
    for c in comparisons:
        unit = f" {c.unit}" if c.unit else ""
        lines.append(
            f"| {c.experiment} | {c.quantity} | {c.theory:.4f}{unit} | {c.estimate:.4f} | "
            f"[{c.low:.4f}, {c.high:.4f}] | {'yes' if c.contains else 'NO'} | "
            f"{c.replications} | {c.customers:,} |"
        )
    return "\n".join(lines)


def write_docs(table: str) -> None:
    """Replace the generated table in docs/background/queueing-validation.md."""
    import datetime as dt
    import platform
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "background" / "queueing-validation.md"
    text = page.read_text(encoding="utf-8")
    start, end = "<!-- validation-table:start -->", "<!-- validation-table:end -->"
    head, rest = text.split(start)
    _, tail = rest.split(end)
    stamp = (
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with peakend {pe.__version__}, "
        f"Python {platform.python_version()}; base seed {BASE_SEED}."
    )
    page.write_text(f"{head}{start}\n{stamp}\n\n{table}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    comparisons = all_comparisons()
    table = markdown_table(comparisons)
    print(table)
    if "--write-docs" in sys.argv[1:]:
        write_docs(table)
    sys.exit(0 if all(c.contains for c in comparisons) else 1)
