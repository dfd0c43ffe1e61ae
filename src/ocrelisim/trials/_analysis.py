"""Trial analyses as the trials did them, with statsmodels (one replicate at a time).

- ARR, Gd+ and T2 lesions: negative binomial regression of counts on arm with the log of
  follow-up years (or of the number of scans) as offset; rate per arm and rate ratio.
- CDP: Cox proportional-hazards regression on arm (Efron ties; visit times tie often); share
  of patients with a confirmed event per arm. PIRA12: the same for 12-week confirmed
  progression without a relapse from 12 weeks before onset to confirmation (progression with
  relapse activity is censored at its onset).
- Nine-hole peg test (NHPT12/24), composite confirmed progression (CCDP12/24) and the
  composite without the walk (HCDP12/24, ORATORIO-HAND's): Cox regression as for CDP.
- Timed 25-foot walk (T25FW): mean percentage change in walk time from baseline per arm and
  the ratio of the two means (delta-method interval on the log ratio, Wald p), as ORATORIO
  reported it (38.9% vs 55.1% [S13]).
- NEDA: share per arm and risk ratio (Katz log interval).

Each analysis returns rows ``(endpoint, arm, control, treated, reference, estimate, lower,
upper, p)``; a fit that fails (for example no events at all) gives NaN estimates, never a
guess, and the row says so in ``p`` = NaN.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._types import Bool1D, Float1D
from ..outcomes import WEEKS_PER_YEAR, Outcomes

Row = dict[str, Any]
_Z = 1.959963984540054


def _nan_row() -> Row:
    return {"estimate": math.nan, "lower": math.nan, "upper": math.nan, "p": math.nan}


def _ratio_row(coef: float, se: float, p: float) -> Row:
    if not (math.isfinite(coef) and math.isfinite(se)):
        return _nan_row()
    return {"estimate": _exp(coef), "lower": _exp(coef - _Z * se),
            "upper": _exp(coef + _Z * se), "p": float(p)}


def _exp(x: float) -> float:
    """exp without OverflowError: a degenerate fit can give an infinite upper limit."""
    return math.exp(x) if x < 700.0 else math.inf


def negbin(counts: Float1D, exposure: Float1D, treated: Bool1D) -> Row:
    """Negative binomial regression (NB2, dispersion estimated) of counts on one arm contrast."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    keep = exposure > 0
    y, t, off = counts[keep], treated[keep].astype(float), np.log(exposure[keep])
    if y.sum() == 0 or t.min() == t.max():
        return _nan_row()
    X = np.column_stack([np.ones_like(t), t])
    model = NegativeBinomial(y, X, offset=off)
    # start from the Poisson rates and the moment estimate of the dispersion: Newton from the
    # default start can step to a negative dispersion; Nelder-Mead is the fallback
    rate = np.array([y[t == g].sum() / np.exp(off[t == g]).sum() for g in (0.0, 1.0)])
    if np.any(rate <= 0):
        return _nan_row()
    mu = np.exp(off) * rate[t.astype(int)]
    alpha = max(float(((y - mu) ** 2 - y).sum() / (mu ** 2).sum()), 0.05)
    start = np.array([math.log(rate[0]), math.log(rate[1] / rate[0]), alpha])
    for method in ("newton", "nm"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = model.fit(start_params=start, disp=0, method=method, maxiter=2000)
            except (np.linalg.LinAlgError, ValueError):
                continue
        if fit.mle_retvals.get("converged", False) and np.all(np.isfinite(fit.params)) \
                and np.all(np.isfinite(fit.bse)):
            return _ratio_row(float(fit.params[1]), float(fit.bse[1]), float(fit.pvalues[1]))
    return _nan_row()


def cox(time: Float1D, event: Bool1D, treated: Bool1D) -> Row:
    """Cox regression (Efron ties) of time to event on the arm contrast: hazard ratio."""
    from statsmodels.duration.hazard_regression import PHReg

    if not event.any() or treated.min() == treated.max():
        return _nan_row()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = PHReg(time, treated.astype(float)[:, None], status=event.astype(float),
                        ties="efron").fit(disp=0)
        except (np.linalg.LinAlgError, ValueError):
            return _nan_row()
    coef, se = float(fit.params[0]), float(fit.bse[0])
    return _ratio_row(coef, se, float(fit.pvalues[0]))


def risk_ratio(worse: Float1D, treated: Bool1D) -> Row:
    """Risk ratio of a binary outcome with a Katz (log) confidence interval and Wald p."""
    from scipy.stats import norm

    ok = np.isfinite(worse)
    a, n1 = worse[ok & treated].sum(), (ok & treated).sum()
    c, n0 = worse[ok & ~treated].sum(), (ok & ~treated).sum()
    if min(a, c) == 0 or min(n1, n0) == 0:
        return _nan_row()
    coef = math.log((a / n1) / (c / n0))
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    return _ratio_row(coef, se, float(2 * norm.sf(abs(coef) / se)))


def mean_ratio(change: Float1D, treated: Bool1D) -> Row:
    """Ratio of the arms' mean changes (treated / control; NaN values not measured) with a
    delta-method 95% interval on the log ratio and a Wald p; NaN when a mean is not positive."""
    from scipy.stats import norm

    ok = np.isfinite(change)
    a, c = change[ok & treated], change[ok & ~treated]
    if a.size < 2 or c.size < 2 or a.mean() <= 0 or c.mean() <= 0:
        return _nan_row()
    coef = math.log(a.mean() / c.mean())
    se = math.sqrt(a.var(ddof=1) / (a.size * a.mean() ** 2)
                   + c.var(ddof=1) / (c.size * c.mean() ** 2))
    return _ratio_row(coef, se, float(2 * norm.sf(abs(coef) / se)))


def _mean(x: Float1D) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _rate(counts: Float1D, exposure: Float1D) -> float:
    total = exposure.sum()
    return float(counts.sum() / total) if total > 0 else math.nan


def _share(x: Bool1D | Float1D) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def neda(out: Outcomes, confirm: tuple[int, ...], weeks: int) -> Float1D:
    """No evidence of disease activity over follow-up: no relapse, no 12-week CDP, no Gd+ and
    no new/enlarging T2 lesion at any scan. 1.0 or 0.0; NaN for a patient who left early
    without activity (not evaluable)."""
    active = (out.relapses > 0) | out.cdp_event[:, confirm.index(12)] | (out.gd > 0) \
        | (out.t2 > 0)
    return np.where(active, 0.0, np.where(out.followup >= weeks, 1.0, np.nan))


def analyse(out: Outcomes, arm: np.ndarray, control: int, endpoints: tuple[str, ...],
            confirm: tuple[int, ...], weeks: int) -> list[Row]:
    """Every endpoint, every arm against ``control`` (arm codes are integers)."""
    rows: list[Row] = []
    years = out.followup / WEEKS_PER_YEAR
    free = neda(out, confirm, weeks) if "NEDA" in endpoints else None
    others = [a for a in np.unique(arm) if a != control]
    for a in others:
        pair = (arm == a) | (arm == control)
        t = arm[pair] == a
        for e in endpoints:
            if e in ("ARR", "GD", "T2"):
                counts = {"ARR": out.relapses, "GD": out.gd, "T2": out.t2}[e][pair].astype(float)
                ex = years[pair] if e == "ARR" else out.scans[pair].astype(float)
                fit = negbin(counts, ex, t)
                values = (_rate(counts[t], ex[t]), _rate(counts[~t], ex[~t]))
            elif e.startswith(("CDP", "PIRA", "NHPT", "CCDP", "HCDP")):
                c = confirm.index(int(e.lstrip("CDPIRANHT")))
                times, events = {"CDP": (out.cdp_time, out.cdp_event),
                                 "PIRA": (out.cdp_time, out.cdp_pira),
                                 "NHPT": (out.hpt_time, out.hpt_event),
                                 "CCDP": (out.ccdp_time, out.ccdp_event),
                                 "HCDP": (out.hcdp_time, out.hcdp_event)}[e.rstrip("0123456789")]
                if times is None or events is None:
                    raise ValueError(f"outcomes lack the {e} process")
                tm, ev = times[pair, c], events[pair, c]
                fit = cox(tm, ev, t)
                values = (_share(ev[t]), _share(ev[~t]))
            elif e == "T25FW":  # mean % change and ratio of means
                if out.t25_change is None:
                    raise ValueError("outcomes lack the timed-walk change")
                ch = out.t25_change[pair]
                fit = mean_ratio(ch, t)
                values = (_mean(ch[t]), _mean(ch[~t]))
            else:  # NEDA: shares and risk ratio
                w = free[pair] if free is not None else np.full(t.size, np.nan)
                fit = risk_ratio(w, t)
                values = (_share(w[t]), _share(w[~t]))
            rows.append({"endpoint": e, "arm": int(a), "control": control,
                         "treated": values[0], "reference": values[1], **fit})
    return rows
