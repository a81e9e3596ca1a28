"""Duration fits: maximum likelihood with right censoring, Kaplan-Meier, count and share intervals.

Families and their native parameters (times in minutes):

- ``exponential``: scale ``theta`` (the mean);
- ``lognormal``: ``mu``, ``sigma`` of log-minutes; mean ``exp(mu + sigma**2 / 2)``;
- ``gamma``: shape ``k``, scale ``theta``; mean ``k * theta``;
- ``weibull``: shape ``k``, scale ``lambda``; mean ``lambda * Gamma(1 + 1/k)``.

Patience may also have a point mass at zero (:func:`fit_patience`).

The log-likelihood of a right-censored sample is ``sum(log f(t_i))`` over observed events plus
``sum(log S(t_j))`` over censored times. Parameters are fitted on an unconstrained scale
(logs of positive parameters); the covariance is the inverse of a finite-difference Hessian of the
negative log-likelihood, and the interval for the mean is the delta-method interval on the log of
the mean, so it stays positive.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = [
    "FAMILIES",
    "DurationFit",
    "fit_duration",
    "fit_families",
    "fit_patience",
    "kaplan_meier",
    "poisson_interval",
    "wilson_interval",
]

#: Families fitted, in the order they are tried.
FAMILIES: tuple[str, ...] = ("exponential", "lognormal", "gamma", "weibull")
#: Shortest duration used in a fit, minutes (zeros are moved up to it: log f needs t > 0).
TINY = 1.0 / 600.0
#: Kaplan-Meier points with fewer durations at risk are left out of the fit distance.
MIN_AT_RISK = 20


@dataclass(frozen=True)
class DurationFit:
    """A maximum-likelihood fit of one family to (possibly censored) durations, minutes.

    Attributes
    ----------
    family : str
        ``exponential``, ``lognormal``, ``gamma`` or ``weibull``.
    params : dict of str to float
        Native parameters (see the module docstring).
    loglik : float
        Maximised log-likelihood.
    aic : float
        ``2 * n_params - 2 * loglik``.
    n : int
        Durations used; ``events`` of them observed, the rest right-censored.
    events : int
        Observed (uncensored) durations.
    mean, sd : float
        Mean and standard deviation of the fitted distribution, minutes.
    mean_low, mean_high : float
        Confidence interval for the mean, minutes.
    """

    family: str
    params: dict[str, float]
    loglik: float
    aic: float
    n: int
    events: int
    mean: float
    sd: float
    mean_low: float
    mean_high: float

    def frozen(self) -> Any:
        """Return the fitted distribution as a frozen :mod:`scipy.stats` object."""
        return _frozen(self.family, self.params)


def _frozen(family: str, p: dict[str, float]) -> Any:
    if family == "exponential":
        return stats.expon(scale=p["theta"])
    if family == "lognormal":
        return stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
    if family == "gamma":
        return stats.gamma(a=p["k"], scale=p["theta"])
    if family == "weibull":
        return stats.weibull_min(c=p["k"], scale=p["lambda"])
    raise ValueError(f"family: must be one of {list(FAMILIES)}, got {family!r}")


def _native(family: str, z: np.ndarray) -> dict[str, float]:
    if family == "exponential":
        return {"theta": float(np.exp(z[0]))}
    if family == "lognormal":
        return {"mu": float(z[0]), "sigma": float(np.exp(z[1]))}
    if family == "gamma":
        return {"k": float(np.exp(z[0])), "theta": float(np.exp(z[1]))}
    return {"k": float(np.exp(z[0])), "lambda": float(np.exp(z[1]))}


def _moments(family: str, p: dict[str, float]) -> tuple[float, float]:
    if family == "exponential":
        return p["theta"], p["theta"]
    if family == "lognormal":
        s2 = p["sigma"] ** 2
        mean = math.exp(p["mu"] + s2 / 2)
        return mean, mean * math.sqrt(math.expm1(s2))
    if family == "gamma":
        return p["k"] * p["theta"], math.sqrt(p["k"]) * p["theta"]
    k, lam = p["k"], p["lambda"]
    g1 = special.gamma(1 + 1 / k)
    g2 = special.gamma(1 + 2 / k)
    return lam * g1, lam * math.sqrt(max(g2 - g1 * g1, 0.0))


def _logpdf_logsf(family: str, p: dict[str, float], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log density and log survival at ``t`` (explicit formulas: freezing scipy is slow)."""
    lt = np.log(t)
    if family == "exponential":
        x = t / p["theta"]
        return -math.log(p["theta"]) - x, -x
    if family == "lognormal":
        u = (lt - p["mu"]) / p["sigma"]
        return -lt - math.log(p["sigma"]) - 0.5 * math.log(
            2 * math.pi
        ) - 0.5 * u * u, special.log_ndtr(-u)
    if family == "gamma":
        k, th = p["k"], p["theta"]
        logpdf = (k - 1) * lt - t / th - special.gammaln(k) - k * math.log(th)
        return logpdf, np.log(np.maximum(special.gammaincc(k, t / th), 1e-300))
    k, lam = p["k"], p["lambda"]
    x = (t / lam) ** k
    return math.log(k) - math.log(lam) + (k - 1) * (lt - math.log(lam)) - x, -x


def _nll(family: str, z: np.ndarray, t_event: np.ndarray, t_cens: np.ndarray) -> float:
    try:
        with np.errstate(all="ignore"):
            p = _native(family, z)
            total = float(np.sum(_logpdf_logsf(family, p, t_event)[0]))
            if t_cens.size:
                total += float(np.sum(_logpdf_logsf(family, p, t_cens)[1]))
    except (ValueError, OverflowError, ZeroDivisionError):  # parameters out of range
        return 1e300
    return -total if math.isfinite(total) else 1e300


def _start(family: str, t: np.ndarray, events: np.ndarray) -> np.ndarray:
    mean = max(float(t.sum() / max(events.sum(), 1)), TINY)
    obs = t[events] if events.any() else t
    lt = np.log(obs)
    if family == "exponential":
        return np.array([math.log(mean)])
    if family == "lognormal":
        return np.array([float(lt.mean()), math.log(max(float(lt.std()), 0.1))])
    cv2 = max(float(obs.var() / max(obs.mean() ** 2, 1e-12)), 0.05)
    k = 1.0 / cv2
    if family == "gamma":
        return np.array([math.log(k), math.log(mean / k)])
    return np.array([math.log(max(k**0.5, 0.2)), math.log(mean)])


def _hessian(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    n = z.size
    h = 1e-4 * np.maximum(1.0, np.abs(z))
    out = np.empty((n, n))
    f0 = f(z)
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h[i]
            ej[j] = h[j]
            if i == j:
                v = (f(z + ei) - 2 * f0 + f(z - ei)) / h[i] ** 2
            else:
                v = (f(z + ei + ej) - f(z + ei - ej) - f(z - ei + ej) + f(z - ei - ej)) / (
                    4 * h[i] * h[j]
                )
            out[i, j] = out[j, i] = v
    return out


def _check(times: np.ndarray, events: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times: must be a non-empty 1-D array of minutes, got shape {t.shape}")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("times: must be finite and >= 0 (minutes)")
    e = np.ones(t.size, dtype=bool) if events is None else np.asarray(events, dtype=bool)
    if e.shape != t.shape:
        raise ValueError(f"events: must have the shape of times {t.shape}, got {e.shape}")
    return np.maximum(t, TINY), e


def fit_duration(
    times: np.ndarray,
    events: np.ndarray | None = None,
    family: str = "lognormal",
    *,
    level: float = 0.95,
) -> DurationFit:
    """Fit one family to durations by maximum likelihood, with right censoring.

    Parameters
    ----------
    times : array_like of float
        Durations, minutes (>= 0; zeros are moved up to 0.1 s).
    events : array_like of bool, optional
        True where the duration was observed, False where it is only a lower
        bound (right-censored: e.g. a served customer's wait as a patience);
        None: all observed.
    family : {"exponential", "lognormal", "gamma", "weibull"}
        The family.
    level : float, default 0.95
        Confidence level of the interval for the mean.

    Returns
    -------
    DurationFit
        The fit.

    Raises
    ------
    ValueError
        If ``times`` is empty, negative or not finite, ``events`` has another
        shape or no event at all, or ``family`` is unknown.
    """
    if family not in FAMILIES:
        raise ValueError(f"family: must be one of {list(FAMILIES)}, got {family!r}")
    t, e = _check(times, events)
    if not e.any():
        raise ValueError("events: at least one observed (uncensored) duration is needed")
    te, tc = t[e], t[~e]
    z_quant = stats.norm.ppf(0.5 + level / 2)
    if family == "exponential":
        theta = float(t.sum() / e.sum())
        loglik = -_nll(family, np.array([math.log(theta)]), te, tc)
        se_log = 1.0 / math.sqrt(e.sum())
        p = {"theta": theta}
        mean, sd = _moments(family, p)
        return DurationFit(
            family, p, loglik, 2 - 2 * loglik, t.size, int(e.sum()), mean, sd,
            mean * math.exp(-z_quant * se_log), mean * math.exp(z_quant * se_log),
        )  # fmt: skip

    def f(z: np.ndarray) -> float:
        return _nll(family, z, te, tc)

    z0 = _start(family, t, e)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # a family far from the data (a Weibull for near-deterministic times) may step
        # out of range on the way: those steps are refused by f, not reported
        warnings.simplefilter("ignore", RuntimeWarning)
        res = optimize.minimize(
            f, z0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 2000}
        )
        polished = optimize.minimize(f, res.x, method="BFGS", options={"gtol": 1e-6})
    if np.isfinite(polished.fun) and polished.fun <= res.fun:
        res = polished
    z = res.x
    with np.errstate(all="ignore"):  # a diverged fit has inf parameters and a huge AIC
        p = _native(family, z)
        mean, sd = _moments(family, p)
    loglik = -float(res.fun)
    try:
        with np.errstate(all="ignore"):
            hess = _hessian(f, z)
            cov = np.linalg.inv(hess)
            eps = 1e-5
            grad = np.array(
                [
                    (math.log(_moments(family, _native(family, z + eps * np.eye(z.size)[i]))[0])
                     - math.log(_moments(family, _native(family, z - eps * np.eye(z.size)[i]))[0]))
                    / (2 * eps)
                    for i in range(z.size)
                ]
            )  # fmt: skip
            var = float(grad @ cov @ grad)
        se_log = math.sqrt(var) if var > 0 else math.nan
    except (np.linalg.LinAlgError, ValueError, OverflowError, ZeroDivisionError):
        se_log = math.nan
    return DurationFit(
        family, p, loglik, 2 * z.size - 2 * loglik, t.size, int(e.sum()), mean, sd,
        mean * math.exp(-z_quant * se_log), mean * math.exp(z_quant * se_log),
    )  # fmt: skip


def kaplan_meier(
    times: np.ndarray, events: np.ndarray | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival function from right-censored durations.

    ``S(t) = prod over event times t_i <= t of (1 - d_i / n_i)``, with ``d_i``
    events at ``t_i`` and ``n_i`` at risk just before it; Greenwood's variance
    ``S(t)**2 * sum d_i / (n_i (n_i - d_i))`` and the log(-log) interval, which
    stays inside (0, 1).

    Parameters
    ----------
    times : array_like of float
        Durations, minutes (>= 0).
    events : array_like of bool, optional
        True: observed; False: right-censored; None: all observed.
    level : float, default 0.95
        Confidence level of the pointwise interval.

    Returns
    -------
    pandas.DataFrame
        One row per distinct event time: ``time`` (minutes), ``at_risk``,
        ``events``, ``survival``, ``low``, ``high``.

    Examples
    --------
    >>> import numpy as np
    >>> km = kaplan_meier(np.array([1.0, 2.0, 2.0, 3.0]), np.array([True, False, True, True]))
    >>> km["survival"].round(3).tolist()
    [0.75, 0.5, 0.0]
    """
    t = np.asarray(times, dtype=float)
    e = np.ones(t.size, dtype=bool) if events is None else np.asarray(events, dtype=bool)
    if t.ndim != 1 or e.shape != t.shape or not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("times/events: equal-length 1-D arrays of finite durations >= 0 needed")
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    uniq = np.unique(t[e])
    # at risk: durations >= u; events: observed durations == u
    at_risk = t.size - np.searchsorted(t, uniq, side="left")
    d = np.searchsorted(t[e], uniq, side="right") - np.searchsorted(t[e], uniq, side="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / at_risk)
        green = np.cumsum(d / (at_risk * (at_risk - d)))
        z = stats.norm.ppf(0.5 + level / 2)
        log_s = np.log(surv)
        se = np.sqrt(green) / np.abs(log_s)
        low = np.exp(-np.exp(np.log(-log_s) + z * se))
        high = np.exp(-np.exp(np.log(-log_s) - z * se))
    low = np.where(surv > 0, low, 0.0)
    high = np.where(surv > 0, high, 0.0)
    return pd.DataFrame(
        {"time": uniq, "at_risk": at_risk, "events": d, "survival": surv, "low": low, "high": high}
    )


def _km_distance(km: pd.DataFrame, fit: DurationFit) -> float:
    """Largest gap between the Kaplan-Meier curve and the fitted survival, 0-1.

    Only where at least :data:`MIN_AT_RISK` durations are at risk: beyond, the
    curve rests on a handful of customers.
    """
    km = km.loc[km["at_risk"] >= MIN_AT_RISK]
    if km.empty:
        return math.nan
    return float(np.max(np.abs(km["survival"].to_numpy() - fit.frozen().sf(km["time"].to_numpy()))))


def fit_families(
    times: np.ndarray,
    events: np.ndarray | None = None,
    families: Sequence[str] = FAMILIES,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fit several families and compare them by AIC, with a goodness-of-fit figure.

    Parameters
    ----------
    times, events : array_like
        As for :func:`fit_duration`.
    families : sequence of str
        Families to fit.
    level : float, default 0.95
        Confidence level of the intervals for the mean.

    Returns
    -------
    pandas.DataFrame
        One row a family, sorted by AIC (best first): ``family``, ``params``
        (dict), ``loglik``, ``aic``, ``delta_aic``, ``n``, ``events``, ``mean``,
        ``mean_low``, ``mean_high``, ``sd`` (minutes), and the goodness of fit:
        without censoring the Kolmogorov-Smirnov ``ks`` statistic and its ``ks_p``
        (approximate, since the parameters are estimated), with censoring
        ``km_distance``, the largest gap between the fitted survival and the
        Kaplan-Meier curve.
    """
    t, e = _check(times, events)
    censored = not e.all()
    km = kaplan_meier(t, e) if censored else None
    rows = []
    for fam in families:
        fit = fit_duration(t, e, fam, level=level)
        row = {
            "family": fam,
            "params": fit.params,
            "loglik": fit.loglik,
            "aic": fit.aic,
            "n": fit.n,
            "events": fit.events,
            "mean": fit.mean,
            "mean_low": fit.mean_low,
            "mean_high": fit.mean_high,
            "sd": fit.sd,
        }
        if km is not None:
            row["km_distance"] = _km_distance(km, fit)
        else:
            ks = stats.kstest(t, fit.frozen().cdf)
            row["ks"] = float(ks.statistic)
            row["ks_p"] = float(ks.pvalue)
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("aic", kind="stable").reset_index(drop=True)
    table.insert(4, "delta_aic", table["aic"] - table["aic"].iloc[0])
    return table


def poisson_interval(count: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson mean from an observed count."""
    k = np.asarray(count, dtype=float)
    a = 1 - level
    low = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    high = np.asarray(stats.chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2, dtype=float)
    return low, high


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (NaN where there are no trials)."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def restricted_mean(times: np.ndarray, events: np.ndarray, tau: float) -> float:
    """Restricted mean ``integral_0^tau S(t) dt`` of the Kaplan-Meier curve, minutes.

    Parameters
    ----------
    times, events : array_like
        Durations (minutes) and event flags (False: right-censored).
    tau : float
        Upper limit, minutes (> 0).

    Returns
    -------
    float
        The restricted mean duration, minutes.
    """
    km = kaplan_meier(times, events)
    t = np.concatenate([[0.0], km["time"].to_numpy()])
    s = np.concatenate([[1.0], km["survival"].to_numpy()])
    keep = t < tau
    t, s = t[keep], s[keep]
    edges = np.concatenate([t, [tau]])
    return float(np.sum(s * np.diff(edges)))


def logrank(
    times_a: np.ndarray, events_a: np.ndarray, times_b: np.ndarray, events_b: np.ndarray
) -> tuple[float, float]:
    """Two-sample log-rank test of equal survival curves (right-censored data).

    Parameters
    ----------
    times_a, events_a, times_b, events_b : array_like
        Durations (minutes) and event flags of the two samples.

    Returns
    -------
    (float, float)
        The chi-square statistic (1 df) and its p-value.
    """
    t = np.concatenate([np.asarray(times_a, float), np.asarray(times_b, float)])
    e = np.concatenate([np.asarray(events_a, bool), np.asarray(events_b, bool)])
    g = np.concatenate([np.zeros(len(times_a), bool), np.ones(len(times_b), bool)])
    uniq = np.unique(t[e])
    if uniq.size == 0:
        return math.nan, math.nan
    ts = np.sort(t)
    ta = np.sort(t[~g])
    at_risk = t.size - np.searchsorted(ts, uniq, side="left")
    at_risk_a = ta.size - np.searchsorted(ta, uniq, side="left")
    te = np.sort(t[e])
    tea = np.sort(t[e & ~g])
    d = np.searchsorted(te, uniq, side="right") - np.searchsorted(te, uniq, side="left")
    d_a = np.searchsorted(tea, uniq, side="right") - np.searchsorted(tea, uniq, side="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = d * at_risk_a / at_risk
        var = (
            d
            * (at_risk_a / at_risk)
            * (1 - at_risk_a / at_risk)
            * (at_risk - d)
            / np.maximum(at_risk - 1, 1)
        )
    v = float(np.nansum(var))
    if v <= 0:
        return math.nan, math.nan
    chi2 = float((d_a.sum() - np.nansum(expected)) ** 2 / v)
    return chi2, float(stats.chi2.sf(chi2, 1))


#: Abandonments after a wait of at most this are "at once" (a point mass at zero), minutes.
ZERO_WAIT = 1.0 / 60.0


def _patience_nll(
    family: str,
    z: np.ndarray,
    zero_mass: bool,
    t_event: np.ndarray,
    n_zero: int,
    t_cens: np.ndarray,
    zero: float,
) -> float:
    """Negative log-likelihood of a patience model (see :func:`fit_patience`)."""
    try:
        return _patience_nll_raw(family, z, zero_mass, t_event, n_zero, t_cens, zero)
    except (ValueError, OverflowError, ZeroDivisionError):  # parameters out of range
        return 1e300


def _patience_nll_raw(
    family: str,
    z: np.ndarray,
    zero_mass: bool,
    t_event: np.ndarray,
    n_zero: int,
    t_cens: np.ndarray,
    zero: float,
) -> float:
    with np.errstate(all="ignore"):
        p = _native(family, z[: z.size - 1] if zero_mass else z)
        logf, _ = _logpdf_logsf(family, p, t_event)
        logs_c = _logpdf_logsf(family, p, t_cens)[1] if t_cens.size else np.empty(0)
        log_s0 = float(_logpdf_logsf(family, p, np.array([zero]))[1][0])
        log_f0 = math.log(-math.expm1(log_s0)) if log_s0 < 0 else -math.inf
        if zero_mass:
            w = float(special.expit(z[-1]))
            log_keep = math.log1p(-w) if w < 1 else -math.inf
            total = (t_event.size + t_cens.size) * log_keep + float(np.sum(logf))
            total += float(np.sum(logs_c))
            if n_zero:
                total += n_zero * float(np.logaddexp(math.log(w), log_keep + log_f0))
        else:
            total = float(np.sum(logf)) + float(np.sum(logs_c))
            if n_zero:
                total += n_zero * log_f0
    return -total if math.isfinite(total) else 1e300


def fit_patience(
    waits: np.ndarray,
    left: np.ndarray,
    families: Sequence[str] = FAMILIES,
    *,
    zero: float = ZERO_WAIT,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fit patience laws to censored waits, each family with and without a mass at zero.

    The data: a customer who left after waiting ``t`` had patience ``t`` (an event);
    a served customer who waited ``t > 0`` had patience above ``t`` (right-censored);
    a customer served at once tells nothing (their term is 1 in every model). Leaving
    within ``zero`` minutes (one second: logs are in seconds) is "at once" and enters
    every model as the probability of patience ``<= zero``, so that the models are
    fitted to the same data and their AICs compare. A family ``f`` alone has
    log-likelihood ``sum log f(t_i) + n_0 log F(zero) + sum log S(t_j)``; with a
    mass ``w`` at zero (patience 0 with probability ``w``, else from ``f``)
    ``sum log((1 - w) f(t_i)) + n_0 log(w + (1 - w) F(zero)) + sum log((1 - w) S(t_j))``.
    Maximum likelihood on the log (and logit) scale; the interval for the mean is the
    delta-method interval on its log.

    Parameters
    ----------
    waits : array_like of float
        Waits, minutes (>= 0).
    left : array_like of bool
        True where the customer left unserved (their wait is their patience).
    families : sequence of str
        Continuous families (of :data:`FAMILIES`).
    zero : float, default 1/60
        Longest wait of an abandonment "at once", minutes.
    level : float, default 0.95
        Level of the intervals for the mean.

    Returns
    -------
    pandas.DataFrame
        One row per family and variant, best AIC first: ``family`` (``"weibull"`` or
        ``"weibull+zero"``), ``base_family``, ``zero_mass`` (``w``, 0 without),
        ``params`` (native, of the continuous part), ``loglik``, ``aic``,
        ``delta_aic``, ``n``, ``events``, ``mean``, ``mean_low``, ``mean_high``,
        ``sd`` (minutes, of the whole law), ``km_distance`` (largest gap between the
        fitted survival and the Kaplan-Meier curve where at least 20 are at risk).
    """
    t = np.asarray(waits, dtype=float)
    e = np.asarray(left, dtype=bool)
    if t.ndim != 1 or e.shape != t.shape or t.size == 0:
        raise ValueError("waits/left: equal-length, non-empty 1-D arrays needed")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("waits: must be finite and >= 0 (minutes)")
    if not e.any():
        raise ValueError("left: at least one abandonment is needed")
    for fam in families:
        if fam not in FAMILIES:
            raise ValueError(f"family: must be one of {list(FAMILIES)}, got {fam!r}")
    at_once = e & (t <= zero)
    t_event = np.maximum(t[e & ~at_once], TINY)
    t_cens = np.maximum(t[~e & (t > 0)], TINY)
    n_zero = int(at_once.sum())
    # those served at once carry no information on patience: not at risk in the curve
    informative = e | (t > 0)
    km = kaplan_meier(np.maximum(t[informative], TINY), e[informative])
    km = km.loc[km["at_risk"] >= MIN_AT_RISK]
    z_quant = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for fam in families:
        variants = (False, True) if n_zero > 0 else (False,)
        for zm in variants:
            if zm and t_event.size == 0:
                continue
            if t_event.size:
                tt = np.concatenate([t_event, t_cens])
                ee = np.arange(tt.size) < t_event.size
                base = _start(fam, tt, ee)
            else:
                base = _start(fam, np.maximum(t, TINY), e)
            share0 = n_zero / max(int((t > 0).sum() + (e & (t == 0)).sum()), 1)
            z0 = np.append(base, special.logit(min(max(share0, 1e-4), 0.9))) if zm else base

            def f(z: np.ndarray, fam: str = fam, zm: bool = zm) -> float:
                return _patience_nll(fam, z, zm, t_event, n_zero, t_cens, zero)

            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = optimize.minimize(
                    f, z0, method="Nelder-Mead",
                    options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000},
                )  # fmt: skip
                polished = optimize.minimize(f, res.x, method="BFGS", options={"gtol": 1e-6})
            if np.isfinite(polished.fun) and polished.fun <= res.fun:
                res = polished
            z = res.x
            w = float(special.expit(z[-1])) if zm else 0.0

            def log_mean(z: np.ndarray, fam: str = fam, zm: bool = zm) -> float:
                p = _native(fam, z[:-1] if zm else z)
                keep = 1.0 - float(special.expit(z[-1])) if zm else 1.0
                return math.log(keep * _moments(fam, p)[0])

            p = _native(fam, z[:-1] if zm else z)
            m1, sd1 = _moments(fam, p)
            mean = (1 - w) * m1
            sd = math.sqrt(max((1 - w) * (sd1**2 + m1**2) - mean**2, 0.0))
            try:
                with np.errstate(all="ignore"):
                    hess = _hessian(f, z)
                cov = np.linalg.inv(hess)
                eps = 1e-5
                grad = np.array([
                    (log_mean(z + eps * np.eye(z.size)[i]) - log_mean(z - eps * np.eye(z.size)[i]))
                    / (2 * eps)
                    for i in range(z.size)
                ])  # fmt: skip
                var = float(grad @ cov @ grad)
                se_log = math.sqrt(var) if var > 0 else math.nan
            except (np.linalg.LinAlgError, ValueError, OverflowError, ZeroDivisionError):
                se_log = math.nan
            loglik = -float(res.fun)
            if km.empty:
                gap = math.nan
            else:
                sf = (1 - w) * _frozen(fam, p).sf(km["time"].to_numpy())
                gap = float(np.max(np.abs(km["survival"].to_numpy() - sf)))
            rows.append({
                "family": f"{fam}+zero" if zm else fam, "base_family": fam, "zero_mass": w,
                "params": p, "loglik": loglik, "aic": 2 * z.size - 2 * loglik, "n": t.size,
                "events": int(e.sum()), "mean": mean,
                "mean_low": mean * math.exp(-z_quant * se_log),
                "mean_high": mean * math.exp(z_quant * se_log), "sd": sd, "km_distance": gap,
            })  # fmt: skip
    table = pd.DataFrame(rows).sort_values("aic", kind="stable").reset_index(drop=True)
    table.insert(6, "delta_aic", table["aic"] - table["aic"].iloc[0])
    return table
