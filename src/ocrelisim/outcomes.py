"""Patient-level disease activity and progression: relapses, MRI lesions, EDSS, timed walk.

Every patient is simulated on a weekly grid (week ``w`` covers ``[w, w + 1)``). Treatment
enters only through *multipliers* of four mechanisms (relapse rate, Gd+ lesion rate, T2 lesion
rate, PIRA rate), shape ``(n, n_weeks)``: 1 for untreated natural history, a constant for a
comparator given as an effect size (IFN β-1a, a new drug), and ``1 − imax·E(t)`` for
ocrelizumab, ``E`` the delayed B-cell depletion of the immune model (:func:`drug_multipliers`).
Parameter values and sources: :class:`ocrelisim.parameters.DiseaseParameters`.

Confirmed disability progression (CDP) follows the usual rule: an EDSS rise from baseline of
at least 1.0 (0.5 when the baseline is above 5.5) at a visit, still present at every visit up
to one at least ``confirm`` weeks later. The onset visit is the event time; patients without a
confirmed event are censored at their last EDSS visit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._types import Bool1D, Bool2D, Float1D, Float2D, Int1D
from .parameters import DISEASE, DiseaseParameters
from .units import DAYS_PER_WEEK, DAYS_PER_YEAR

WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK
MECHANISMS = ("relapse", "gd", "t2", "pira", "walk")
"""Treatment-multiplier keys, one per disease mechanism."""
EDSS_STEP = 0.5
EDSS_MAX = 9.5
HIGH_BASELINE = 5.5  # above this baseline EDSS a rise of 0.5 counts as progression


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a trial looks: follow-up length, EDSS/walk visits and MRI scans (weeks).

    Parameters
    ----------
    weeks : int
        Follow-up length in weeks (planned; dropout may shorten it per patient).
    visit_every : int
        EDSS (and timed-walk) visits every this many weeks from week 0.
    mri_weeks : tuple of int
        Weeks of the on-treatment MRI scans (the baseline scan at week 0 is implied).
    confirm : tuple of int
        Confirmation windows in weeks, e.g. (12, 24).
    """

    weeks: int
    visit_every: int = 12
    mri_weeks: tuple[int, ...] = (24, 48, 96)
    confirm: tuple[int, ...] = (12, 24)

    @property
    def visits(self) -> Int1D:
        """EDSS visit weeks: 0, visit_every, ... up to ``weeks``."""
        return np.arange(0, self.weeks + 1, self.visit_every, dtype=np.int64)


def _gamma_frailty(rng: np.random.Generator, variance: float, n: int) -> Float1D:
    if variance <= 0.0:
        return np.ones(n)
    return rng.gamma(1.0 / variance, variance, n)


def _baseline_edss(rng: np.random.Generator, n: int, disease: str,
                   p: DiseaseParameters) -> Float1D:
    """Baseline EDSS on the 0.5-point grid within the entry range (rounded truncated normal)."""
    if disease == "PPMS":
        mean, sd, lo, hi = (p.edss0_ppms_mean.value, p.edss0_ppms_sd.value,
                            p.edss0_ppms_min.value, p.edss0_ppms_max.value)
    else:
        mean, sd, lo, hi = (p.edss0_rms_mean.value, p.edss0_rms_sd.value,
                            p.edss0_rms_min.value, p.edss0_rms_max.value)
    grid = np.arange(lo, hi + 1e-9, EDSS_STEP)
    weight = np.exp(-0.5 * ((grid - mean) / max(sd, 1e-9)) ** 2)
    return rng.choice(grid, size=n, p=weight / weight.sum())


def confirmed_progression(edss: Float2D, seen: Bool2D, window: int, visit_every: int
                          ) -> tuple[Bool1D, Int1D]:
    """Confirmed disability progression from visit scores (the usual rule).

    Parameters
    ----------
    edss : ndarray, shape (n, n_visits)
        Observed EDSS at visits ``0, visit_every, 2·visit_every, ...``; column 0 is baseline.
    seen : ndarray of bool, shape (n, n_visits)
        Whether each visit took place (False after dropout).
    window : int
        Confirmation window in weeks (12 or 24).
    visit_every : int
        Weeks between visits.

    Returns
    -------
    event : ndarray of bool, shape (n,)
        True when a rise of at least 1.0 from baseline (0.5 if baseline > 5.5) at a visit is
        present at every visit up to the first one at least ``window`` weeks later.
    onset : ndarray of int, shape (n,)
        Index of the first onset visit (meaningless where ``event`` is False).
    """
    n, n_visits = edss.shape
    base = edss[:, 0]
    need = np.where(base > HIGH_BASELINE, EDSS_STEP, 1.0)
    up = ((edss - base[:, None]) >= need[:, None] - 1e-9) & seen
    k = -(-window // visit_every)                            # visits after onset
    m = n_visits - k
    if m <= 1:
        return np.zeros(n, bool), np.zeros(n, np.int64)
    ok = up[:, 1:m].copy()
    for j in range(1, k + 1):
        ok &= up[:, 1 + j:m + j]
    return np.asarray(ok.any(axis=1)), (np.argmax(ok, axis=1) + 1).astype(np.int64)


def effect_delay(depletion: Float2D, step_days: float, t_half: float) -> Float2D:
    """First-order effect delay of a depletion series sampled every ``step_days``.

    Exact for a depletion that is linear between samples: ``dE/dt = k·(d(t) − E)``,
    ``k = ln 2 / t_half``, ``E(0) = d(0)``.
    """
    k = math.log(2.0) / t_half
    a = math.exp(-k * step_days)
    # exact update for linear d on [t, t + h]: E' = a·E + (1 − a)·d1 + (d0 − d1)·(φ − a)
    # with φ = (1 − a)/(k h)
    phi = (1.0 - a) / (k * step_days)
    out = np.empty_like(depletion)
    e = depletion[:, 0].copy()
    out[:, 0] = e
    for j in range(1, depletion.shape[1]):
        d0, d1 = depletion[:, j - 1], depletion[:, j]
        e = a * e + (1.0 - a) * d1 + (d0 - d1) * (phi - a)
        out[:, j] = e
    return out


def drug_multipliers(effect: Float2D, p: DiseaseParameters = DISEASE) -> dict[str, Float2D]:
    """Ocrelizumab multipliers ``1 − imax·E`` per mechanism from weekly effect ``E`` (n, W)."""
    return {
        "relapse": 1.0 - p.imax_relapse.value * effect,
        "gd": 1.0 - p.imax_gd.value * effect,
        "t2": 1.0 - p.imax_t2.value * effect,
        "pira": 1.0 - p.imax_pira.value * effect,
        "walk": 1.0 - p.imax_walk.value * effect,
    }


def constant_multipliers(rate_ratios: dict[str, float], n: int, weeks: int
                         ) -> dict[str, Float2D]:
    """Multipliers for a comparator given as rate ratios vs untreated (missing keys: 1)."""
    return {m: np.full((n, weeks), float(rate_ratios.get(m, 1.0))) for m in MECHANISMS}


def ifn_rate_ratios(p: DiseaseParameters = DISEASE) -> dict[str, float]:
    """Interferon β-1a 44 µg three times weekly as rate ratios vs untreated natural history."""
    return {"relapse": p.rr_ifn_relapse.value, "gd": p.rr_ifn_lesion.value,
            "t2": p.rr_ifn_lesion.value, "pira": p.rr_ifn_pira.value,
            "walk": p.rr_ifn_pira.value}


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per-patient outcomes of one simulated arm or trial (patients first).

    Times are in weeks since randomisation; counts are totals over follow-up.
    """

    followup: Float1D          # weeks of follow-up (dropout or end), > 0
    relapses: Int1D            # relapse count over follow-up
    gd: Int1D                  # Gd+ lesions summed over the on-treatment scans done
    t2: Int1D                  # new/enlarging T2 lesions summed over the scans done
    scans: Int1D               # on-treatment scans done
    edss0: Float1D             # baseline (observed) EDSS
    edss_last: Float1D         # EDSS at the last visit
    cdp_time: Float2D          # (n, n_confirm) onset week of CDP or censoring week
    cdp_event: Bool2D          # (n, n_confirm) True if confirmed
    cdp_pira: Bool2D           # (n, n_confirm) confirmed with no relapse from 12 weeks
    #                            before onset to confirmation (progression independent of
    #                            relapse activity)
    t25_worse: Float1D         # 1.0 if the timed walk worsened by the threshold at the end,
    #                            0.0 if not, NaN if not measured at the end (dropout)
    prior_relapses: Int1D | None = None  # relapses before randomisation (screening only)
    gd0: Int1D | None = None   # Gd+ lesions on the baseline scan (screening only)

    @property
    def n(self) -> int:
        return int(self.followup.shape[0])


def simulate_outcomes(rng: np.random.Generator, multipliers: dict[str, Float2D], disease: str,
                      schedule: Schedule, p: DiseaseParameters = DISEASE, *,
                      prior_years: float | None = None, cutoff: int | None = None
                      ) -> Outcomes:
    """Simulate relapses, lesions, EDSS and the timed walk for ``n`` patients.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (same generator state → same outcomes).
    multipliers : dict
        ``{"relapse", "gd", "t2", "pira", "walk"}`` → array (n, schedule.weeks) of rate
        multipliers.
    disease : {"RMS", "PPMS"}
        RMS has relapses, relapse-associated worsening and lesions; PPMS progresses by PIRA
        only (relapses and new lesions are not modelled for PPMS).
    schedule : Schedule
        Follow-up, visits, scans and confirmation windows.
    p : DiseaseParameters
        Natural-history and effect parameters.
    prior_years : float, optional
        RMS only, for enrolment criteria: also draw each patient's relapses over the
        ``prior_years`` before randomisation, Poisson with the untreated rate times the
        patient's relapse frailty (assumption: the pre-trial rate is the untreated on-trial
        rate; the model carries no pre-trial history or regression to the mean), and the Gd+
        lesions on the baseline scan, Poisson with the untreated mean times the lesion frailty
        (``prior_relapses`` and ``gd0``). Drawn after every other draw, so the other outcomes
        are those of a call without it; None (default) draws nothing more.
    cutoff : int, optional
        Analysis cut-off week (event-driven trials): the draws are those of the full
        ``schedule.weeks`` (same generator state → same patients), but follow-up, relapses,
        visits, scans and the timed walk end at ``cutoff``. None (default): at the end.
    """
    n, weeks = multipliers["pira"].shape
    rms = disease == "RMS"
    dropout = p.dropout_rms.value if rms else p.dropout_ppms.value
    u = _gamma_frailty(rng, p.relapse_alpha.value, n)       # relapse frailty
    v = _gamma_frailty(rng, p.lesion_alpha.value, n)        # lesion frailty
    z = _gamma_frailty(rng, 1.0 / p.pira_shape.value, n)    # progression frailty
    stop = rng.exponential(WEEKS_PER_YEAR / dropout, n) if dropout > 0 else np.full(n, np.inf)
    followup = np.minimum(stop, float(weeks))
    cut = float(weeks) if cutoff is None else float(min(cutoff, weeks))
    seen_to = followup if cutoff is None else np.minimum(followup, cut)  # analysis follow-up
    week = np.arange(weeks)
    frac = np.clip(followup[:, None] - week[None, :], 0.0, 1.0)  # share of week w followed

    # relapses: weekly Poisson counts of the individual rate
    if rms:
        lam = (p.arr_untreated.value / WEEKS_PER_YEAR) * u[:, None] * multipliers["relapse"]
        rel = rng.poisson(lam * frac)
    else:
        rel = np.zeros((n, weeks), dtype=np.int64)
    relapses = rel.sum(axis=1) if cutoff is None else rel[:, :round(cut)].sum(axis=1)

    # disability: persistent 0.5-point steps from PIRA and relapse residues
    pira_rate = (p.pira_rms.value if rms else p.pira_ppms.value) / WEEKS_PER_YEAR
    steps = rng.poisson(pira_rate * z[:, None] * multipliers["pira"])
    if rms:
        steps = steps + rng.binomial(rel, p.p_residual.value)
    edss0_true = _baseline_edss(rng, n, disease, p)
    level = edss0_true[:, None] + EDSS_STEP * np.cumsum(steps, axis=1)
    if rms and p.transient_weeks.value > 0:
        width = round(p.transient_weeks.value)
        recent = np.cumsum(rel, axis=1)
        recent[:, width:] -= recent[:, :-width].copy()
        level = level + p.transient_step.value * (recent > 0)

    visits = schedule.visits
    # a visit at week v sees the steps of weeks 0 .. v-1
    true_at = np.where(visits[None, :] == 0, edss0_true[:, None],
                       level[:, np.clip(visits - 1, 0, weeks - 1)])
    err = rng.random((n, visits.size))
    half = 0.5 * p.p_rater.value
    noise = np.where(err < half, -EDSS_STEP, np.where(err < 2 * half, EDSS_STEP, 0.0))
    obs = np.clip(true_at + noise, 0.0, EDSS_MAX)
    seen = visits[None, :] <= seen_to[:, None]               # visit done (week 0 always)
    last_visit = np.where(seen, visits[None, :], 0).max(axis=1).astype(np.float64)
    edss_last = obs[np.arange(n), seen.sum(axis=1) - 1]

    rel_cum = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(rel, axis=1)], axis=1)
    shape = (n, len(schedule.confirm))
    cdp_time, cdp_event, cdp_pira = np.empty(shape), np.zeros(shape, bool), np.zeros(shape, bool)
    rows = np.arange(n)
    for c, window in enumerate(schedule.confirm):
        event, first = confirmed_progression(obs, seen, window, schedule.visit_every)
        cdp_event[:, c] = event
        cdp_time[:, c] = np.where(event, visits[first], last_visit)
        k = -(-window // schedule.visit_every)
        start = np.clip(visits[first] - 12, 0, weeks)
        end = np.minimum(visits[np.minimum(first + k, visits.size - 1)], weeks)
        quiet = rel_cum[rows, end] - rel_cum[rows, start] == 0
        cdp_pira[:, c] = event & quiet

    # MRI: Gd+ lesions at each scan, new/enlarging T2 lesions between scans
    gd = np.zeros(n, dtype=np.int64)
    t2 = np.zeros(n, dtype=np.int64)
    scans = np.zeros(n, dtype=np.int64)
    if rms:
        prev = 0
        for s in schedule.mri_weeks:
            done = seen_to >= s
            w = min(s, weeks) - 1
            gd_mean = p.gd_untreated.value * v * multipliers["gd"][:, w]
            t2_mean = (p.t2_untreated.value / WEEKS_PER_YEAR) * v \
                * multipliers["t2"][:, prev:s].sum(axis=1)
            gd += np.where(done, rng.poisson(gd_mean), 0)
            t2 += np.where(done, rng.poisson(t2_mean), 0)
            scans += done
            prev = s

    # timed 25-foot walk (log ratio to baseline; progression frailty scales the slope)
    slope = p.t25_slope.value * z / WEEKS_PER_YEAR
    walk_mult = multipliers["walk"] if cutoff is None else multipliers["walk"][:, :round(cut)]
    drift = (slope[:, None] * walk_mult).sum(axis=1)
    sd = p.t25_sd.value
    log_ratio = drift + sd * (rng.standard_normal(n) - rng.standard_normal(n))
    measured = seen_to >= cut
    worse = np.where(measured, (log_ratio >= math.log1p(p.t25_worsening.value)).astype(float),
                     np.nan)
    prior = gd0 = None
    if prior_years is not None and rms:  # after every other draw (enrolment screening)
        prior = rng.poisson(p.arr_untreated.value * prior_years * u).astype(np.int64)
        gd0 = rng.poisson(p.gd_untreated.value * v).astype(np.int64)
    return Outcomes(followup=seen_to, relapses=relapses.astype(np.int64), gd=gd, t2=t2,
                    scans=scans, edss0=obs[:, 0], edss_last=edss_last, cdp_time=cdp_time,
                    cdp_event=cdp_event, cdp_pira=cdp_pira, t25_worse=worse,
                    prior_relapses=prior, gd0=gd0)


def _join(arrays: list[Any]) -> Any:
    """Arrays concatenated; None when any part lacks the field (screening fields)."""
    return None if any(a is None for a in arrays) else np.concatenate(arrays)


def concat(parts: list[Outcomes]) -> Outcomes:
    """Outcomes of several arms stacked (patients in the order of ``parts``)."""
    names = Outcomes.__dataclass_fields__
    fields: dict[str, Any] = {k: _join([getattr(o, k) for o in parts]) for k in names}
    return Outcomes(**fields)


def subset(out: Outcomes, keep: Int1D) -> Outcomes:
    """The patients ``keep`` (indices, in that order) of ``out``."""
    names = Outcomes.__dataclass_fields__
    fields: dict[str, Any] = {k: None if getattr(out, k) is None else getattr(out, k)[keep]
                              for k in names}
    return Outcomes(**fields)


__all__ = ["MECHANISMS", "Outcomes", "Schedule", "concat", "confirmed_progression",
           "constant_multipliers",
           "drug_multipliers", "effect_delay", "ifn_rate_ratios", "simulate_outcomes", "subset"]
