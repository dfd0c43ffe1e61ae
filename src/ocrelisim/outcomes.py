"""Patient-level disease activity and progression: relapses, MRI lesions, EDSS, timed tests.

Every patient is simulated on a weekly grid (week ``w`` covers ``[w, w + 1)``). Treatment
enters only through *multipliers* of six mechanisms (relapse rate, Gd+ lesion rate, T2 lesion
rate, PIRA rate, timed-walk and peg-test drift), shape ``(n, n_weeks)``: 1 for untreated
natural history, a constant for a comparator given as an effect size (IFN β-1a, a new drug),
and ``1 − imax·E(t)`` for ocrelizumab, ``E`` the delayed B-cell depletion of the immune model
(:func:`drug_multipliers`). Parameter values and sources:
:class:`ocrelisim.parameters.DiseaseParameters`.

Disability moves on the EDSS scale's real steps (0, 1.0, 1.5, ..., 9.5; there is no 0.5). The
hazard of a step depends on the patient: the current EDSS, age, disease duration and MRI
activity (:func:`covariate_multiplier`, :func:`edss_multiplier`; see
:func:`simulate_outcomes`).

Confirmed disability progression (CDP) follows the usual rule: an EDSS rise from baseline of
at least 1.0 (0.5 when the baseline is above 5.5) at a visit, still present at every visit up
to one at least ``confirm`` weeks later. The onset visit is the event time; patients without a
confirmed event are censored at their last EDSS visit. Timed tests (25-foot walk, nine-hole
peg test) worsen when the time is a given share above baseline, confirmed the same way
(:func:`confirmed_worsening`); composite confirmed progression is the first of EDSS, walk
≥ 20% and peg test ≥ 20% (conventions of recent trials, ``composite_worsening``), and the
composite without the walk (EDSS or peg test ≥ 20%) that ORATORIO-HAND used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._types import Bool1D, Bool2D, Float1D, Float2D, Int1D
from .parameters import (
    DISEASE,
    PPMS_DEMOGRAPHICS,
    RMS_DEMOGRAPHICS,
    Demographics,
    DiseaseParameters,
)
from .units import DAYS_PER_WEEK, DAYS_PER_YEAR

WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK
MECHANISMS = ("relapse", "gd", "t2", "pira", "walk", "hpt")
"""Treatment-multiplier keys, one per disease mechanism."""
EDSS_STEP = 0.5
EDSS_MAX = 9.5
EDSS_SCORES: Float1D = np.concatenate([[0.0], np.arange(1.0, EDSS_MAX + 1e-9, EDSS_STEP)])
"""The EDSS scale's scores: 0, 1.0, 1.5, ..., 9.5 (there is no 0.5)."""
EDSS_TOP = EDSS_SCORES.size - 1  # index of 9.5
HIGH_BASELINE = 5.5  # above this baseline EDSS a rise of 0.5 counts as progression


def edss_index(score: Float1D | float) -> Int1D:
    """Position of EDSS scores on the scale (0 → 0, 1.0 → 1, 1.5 → 2, ..., 9.5 → 18)."""
    s = np.asarray(score, dtype=np.float64)
    return np.where(s < 0.75, 0, np.rint(2.0 * s) - 1).astype(np.int64)


def edss_score(index: Int1D) -> Float1D:
    """EDSS score of scale positions (inverse of :func:`edss_index`)."""
    return EDSS_SCORES[np.clip(np.asarray(index), 0, EDSS_TOP)]


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a trial looks: follow-up length, EDSS/walk visits and MRI scans (weeks).

    Parameters
    ----------
    weeks : int
        Follow-up length in weeks (planned; dropout may shorten it per patient).
    visit_every : int
        EDSS, timed-walk and peg-test visits every this many weeks from week 0.
    mri_weeks : tuple of int
        Weeks of the on-treatment MRI scans (the baseline scan at week 0 is implied).
    confirm : tuple of int
        Confirmation windows in weeks, e.g. (12, 24).
    walk_week : int, optional
        Week of the timed-walk change from baseline (mean percentage change; ORATORIO: week
        120); default: the end of the analysed follow-up (``weeks``, or the cut-off). The
        change is read from the walk visit series (the composite's walks): the last visit at
        or before this week.
    """

    weeks: int
    visit_every: int = 12
    mri_weeks: tuple[int, ...] = (24, 48, 96)
    confirm: tuple[int, ...] = (12, 24)
    walk_week: int | None = None

    @property
    def visits(self) -> Int1D:
        """EDSS visit weeks: 0, visit_every, ... up to ``weeks``."""
        return np.arange(0, self.weeks + 1, self.visit_every, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Baseline:
    """A trial population's baseline draws where they differ from the calibration trials'
    (OPERA, ORATORIO), e.g. a PPMS trial enrolling older, more disabled patients.

    Only the *draws* change: baseline EDSS (truncated normal weights on the scale's scores in
    ``[edss_min, edss_max]``) and ages (truncated normal with mean ``age_mean`` in
    ``[age_min, age_max]``). The hazard's references (the disease's mean baseline EDSS of
    ``edss_beta``, the mean age of ``age_beta``) stay those of the calibration population,
    so a patient at EDSS 7.0 or aged 62 progresses as the model's laws say, extrapolated.
    """

    edss_mean: float
    edss_sd: float
    edss_min: float
    edss_max: float
    demographics: Demographics  # ages (and sex) of the population


def _gamma_frailty(rng: np.random.Generator, variance: float, n: int) -> Float1D:
    if variance <= 0.0:
        return np.ones(n)
    return rng.gamma(1.0 / variance, variance, n)


def _baseline_edss(rng: np.random.Generator, n: int, disease: str,
                   p: DiseaseParameters, baseline: Baseline | None = None) -> Float1D:
    """Baseline EDSS on the scale's scores within the entry range (truncated normal weights)."""
    if baseline is not None:
        mean, sd, lo, hi = (baseline.edss_mean, baseline.edss_sd, baseline.edss_min,
                            baseline.edss_max)
    elif disease == "PPMS":
        mean, sd, lo, hi = (p.edss0_ppms_mean.value, p.edss0_ppms_sd.value,
                            p.edss0_ppms_min.value, p.edss0_ppms_max.value)
    else:
        mean, sd, lo, hi = (p.edss0_rms_mean.value, p.edss0_rms_sd.value,
                            p.edss0_rms_min.value, p.edss0_rms_max.value)
    grid = EDSS_SCORES[(EDSS_SCORES >= lo - 1e-9) & (EDSS_SCORES <= hi + 1e-9)]
    weight = np.exp(-0.5 * ((grid - mean) / max(sd, 1e-9)) ** 2)
    return rng.choice(grid, size=n, p=weight / weight.sum())


def _demographics(disease: str) -> Demographics:
    return PPMS_DEMOGRAPHICS if disease == "PPMS" else RMS_DEMOGRAPHICS


def _ages(rng: np.random.Generator, n: int, disease: str,
          demo: Demographics | None = None) -> Float1D:
    """Ages (years) as :meth:`ocrelisim.Population.sample` draws them (truncated normal)."""
    from .population import _latent_age, _truncated_normal

    demo = _demographics(disease) if demo is None else demo
    lo, hi = demo.age_min.value, demo.age_max.value
    mu, sd = _latent_age(demo.age_mean.value, demo.age_sd.value, lo, hi)
    return _truncated_normal(rng, mu, sd, lo, hi, n)


def _durations(rng: np.random.Generator, n: int, disease: str, p: DiseaseParameters
               ) -> Float1D:
    """Disease duration at randomisation (years): gamma with the disease's mean and SD."""
    mean, sd = ((p.duration_ppms_mean.value, p.duration_ppms_sd.value) if disease == "PPMS"
                else (p.duration_rms_mean.value, p.duration_rms_sd.value))
    if mean <= 0.0:
        return np.zeros(n)
    shape = (mean / sd) ** 2
    return rng.gamma(shape, mean / shape, n)


def covariate_multiplier(p: DiseaseParameters, disease: str, age: Float1D, duration: Float1D,
                         lesion_frailty: Float1D) -> Float1D:
    """The patient's fixed factor of the step hazard (age, disease duration, MRI activity).

    ``exp(age_beta·(age − mean age) + duration_beta·(duration − mean duration)) ·
    v^mri_beta / E[v^mri_beta]``, ``v`` the lesion frailty (gamma, mean 1, variance
    ``lesion_alpha``), so the population mean of the MRI factor is 1. References: the
    disease's Demographics mean age and ``duration_*_mean``. Ages and durations advance with
    follow-up: see :func:`simulate_outcomes`.
    """
    demo = _demographics(disease)
    dur_ref = p.duration_ppms_mean.value if disease == "PPMS" else p.duration_rms_mean.value
    out = np.exp(p.age_beta.value * (age - demo.age_mean.value)
                 + p.duration_beta.value * (duration - dur_ref))
    b, alpha = p.mri_beta.value, p.lesion_alpha.value
    if b != 0.0 and alpha > 0.0:
        k = 1.0 / alpha  # E[v^b] of a gamma(k, 1/k) variable: Γ(k + b) / (Γ(k) k^b)
        norm = math.exp(math.lgamma(k + b) - math.lgamma(k) - b * math.log(k))
        out = out * lesion_frailty ** b / norm
    return np.asarray(out, dtype=np.float64)


def edss_multiplier(p: DiseaseParameters, disease: str, edss: Float1D) -> Float1D:
    """Factor of the step hazard at the current (true) EDSS: ``exp(edss_beta·(EDSS − mean
    baseline))``; 0 at 9.5, the top of the scale."""
    ref = p.edss0_ppms_mean.value if disease == "PPMS" else p.edss0_rms_mean.value
    out = np.exp(p.edss_beta.value * (edss - ref))
    return np.where(edss >= EDSS_MAX, 0.0, out)


def _confirmed(up: Bool2D, window: int, visit_every: int) -> tuple[Bool1D, Int1D]:
    """Visits where ``up`` holds and still holds at every visit up to ``window`` weeks later:
    (any such visit, index of the first)."""
    n, n_visits = up.shape
    k = -(-window // visit_every)                            # visits after onset
    m = n_visits - k
    if m <= 1:
        return np.zeros(n, bool), np.zeros(n, np.int64)
    ok = up[:, 1:m].copy()
    for j in range(1, k + 1):
        ok &= up[:, 1 + j:m + j]
    return np.asarray(ok.any(axis=1)), (np.argmax(ok, axis=1) + 1).astype(np.int64)


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
    base = edss[:, 0]
    need = np.where(base > HIGH_BASELINE, EDSS_STEP, 1.0)
    up = ((edss - base[:, None]) >= need[:, None] - 1e-9) & seen
    return _confirmed(up, window, visit_every)


def confirmed_worsening(log_ratio: Float2D, seen: Bool2D, threshold: float, window: int,
                        visit_every: int) -> tuple[Bool1D, Int1D]:
    """Confirmed worsening of a timed test: time at least ``1 + threshold`` times baseline at
    a visit and at every visit up to one at least ``window`` weeks later (``log_ratio``:
    log of the visit time over the baseline time, column 0 is baseline)."""
    up = (log_ratio >= math.log1p(threshold) - 1e-12) & seen
    return _confirmed(up, window, visit_every)


def effect_delay(depletion: Float2D, step_days: float, t_half: float,
                 t_half_offset: float | None = None) -> Float2D:
    """First-order effect delay of a depletion series sampled every ``step_days``.

    Exact for a depletion that is linear between samples: ``dE/dt = k·(d(t) − E)``,
    ``k = ln 2 / t_half``, ``E(0) = d(0)``. With ``t_half_offset`` the effect falls (``d`` below
    ``E`` at the end of a step) with ``k = ln 2 / t_half_offset`` instead: a fast onset and a
    slow offset (efficacy outlasting B-cell return, [S37]); None (default) is the symmetric
    delay.
    """
    out = np.empty_like(depletion)
    e = depletion[:, 0].copy()
    out[:, 0] = e

    def coefficients(t: float) -> tuple[float, float]:
        k = math.log(2.0) / t
        a = math.exp(-k * step_days)
        return a, (1.0 - a) / (k * step_days)

    a, phi = coefficients(t_half)
    symmetric = t_half_offset is None or t_half_offset == t_half
    a_off, phi_off = (a, phi) if symmetric else coefficients(float(t_half_offset or t_half))
    # exact update for linear d on [t, t + h]: E' = a·E + (1 − a)·d1 + (d0 − d1)·(φ − a)
    # with φ = (1 − a)/(k h)
    for j in range(1, depletion.shape[1]):
        d0, d1 = depletion[:, j - 1], depletion[:, j]
        if symmetric:
            e = a * e + (1.0 - a) * d1 + (d0 - d1) * (phi - a)
        else:
            falling = d1 < e
            aa, pp = np.where(falling, a_off, a), np.where(falling, phi_off, phi)
            e = aa * e + (1.0 - aa) * d1 + (d0 - d1) * (pp - aa)
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
        "hpt": 1.0 - p.imax_hpt.value * effect,
    }


def constant_multipliers(rate_ratios: dict[str, float], n: int, weeks: int
                         ) -> dict[str, Float2D]:
    """Multipliers for a comparator given as rate ratios vs untreated (missing keys: 1)."""
    return {m: np.full((n, weeks), float(rate_ratios.get(m, 1.0))) for m in MECHANISMS}


def ifn_rate_ratios(p: DiseaseParameters = DISEASE) -> dict[str, float]:
    """Interferon β-1a 44 µg three times weekly as rate ratios vs untreated natural history."""
    return {"relapse": p.rr_ifn_relapse.value, "gd": p.rr_ifn_lesion.value,
            "t2": p.rr_ifn_lesion.value, "pira": p.rr_ifn_pira.value,
            "walk": p.rr_ifn_pira.value, "hpt": p.rr_ifn_pira.value}


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per-patient outcomes of one simulated arm or trial (patients first).

    Times are in weeks since randomisation; counts are totals over follow-up. Arrays of shape
    ``(n, n_confirm)`` have one column per confirmation window of the schedule.
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
    t25_worse: Float1D         # 1.0 if the walk time is ≥ t25_worsening above baseline at the
    #                            walk week, 0.0 if not, NaN if not measured then (dropout)
    prior_relapses: Int1D | None = None  # relapses before randomisation (screening only)
    gd0: Int1D | None = None   # Gd+ lesions on the baseline scan (screening only)
    age: Float1D | None = None       # age at randomisation, years
    duration: Float1D | None = None  # disease duration at randomisation, years
    t25_change: Float1D | None = None  # walk time change from baseline at the walk week, %
    #                                    (NaN if not measured then)
    hpt_time: Float2D | None = None    # (n, n_confirm) onset of confirmed ≥ hpt_worsening
    hpt_event: Bool2D | None = None    # nine-hole peg test worsening, or censoring week
    ccdp_time: Float2D | None = None   # (n, n_confirm) composite confirmed progression: EDSS,
    ccdp_event: Bool2D | None = None   # walk or peg test ≥ composite_worsening, first onset
    hcdp_time: Float2D | None = None   # (n, n_confirm) composite without the walk: EDSS or
    hcdp_event: Bool2D | None = None   # peg test ≥ composite_worsening (ORATORIO-HAND)

    @property
    def n(self) -> int:
        return int(self.followup.shape[0])


def _timed_test(rng: np.random.Generator, slope: Float1D, mult: Float2D, visits: Int1D,
                weeks: int, sd: float) -> Float2D:
    """Log ratio of a timed test to baseline at each visit: drift ``slope·mult`` summed over
    the weeks before the visit plus visit noise (independent normal, SD ``sd``, at baseline
    and at each visit)."""
    drift = np.cumsum(slope[:, None] * mult, axis=1)
    at = np.where(visits[None, :] == 0, 0.0, drift[:, np.clip(visits - 1, 0, weeks - 1)])
    e = rng.standard_normal((slope.size, visits.size))
    return np.asarray(at + sd * (e - e[:, :1]))


def simulate_outcomes(rng: np.random.Generator, multipliers: dict[str, Float2D], disease: str,
                      schedule: Schedule, p: DiseaseParameters = DISEASE, *,
                      prior_years: float | None = None, cutoff: int | None = None,
                      age: Float1D | None = None, baseline: Baseline | None = None
                      ) -> Outcomes:
    """Simulate relapses, lesions, EDSS, the timed walk and the peg test for ``n`` patients.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (same generator state → same outcomes).
    multipliers : dict
        ``{"relapse", "gd", "t2", "pira", "walk", "hpt"}`` → array (n, schedule.weeks) of
        rate multipliers (a missing ``hpt`` is taken as ``walk``'s).
    disease : {"RMS", "PPMS"}
        RMS has relapses, relapse-associated worsening and lesions; PPMS progresses by PIRA
        only (relapses and new lesions are not modelled for PPMS).
    schedule : Schedule
        Follow-up, visits, scans, confirmation windows and the walk week.
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
        visits and scans end at ``cutoff``. None (default): at the end.
    age : ndarray, optional
        Ages at randomisation (years), e.g. the B-cell bank's patients; default: drawn from
        the disease's Demographics (the draw is made either way, so the generator advances
        alike).
    baseline : Baseline, optional
        Baseline EDSS and age draws of a population other than the calibration trial's
        (same number of draws, so the generator advances alike); default: the disease's.

    Notes
    -----
    Disability moves on the EDSS scale's steps (0, 1.0, 1.5, ..., 9.5). Each week a patient
    takes Poisson(h) steps, ``h = pira·z·c·g(EDSS)·exp((age_beta + duration_beta)·t)·m(t)``:
    ``z`` the progression frailty, ``c`` :func:`covariate_multiplier` (age, duration, MRI
    activity at randomisation), ``g`` :func:`edss_multiplier` at the current true EDSS, ``t``
    years since randomisation (age and duration advance together), ``m`` the treatment
    multiplier; relapses add a step with probability ``p_residual``. The timed walk and the
    nine-hole peg test drift (log ratio to baseline) at ``slope·z·c`` per year times their
    treatment multipliers.
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

    # disability: steps of the EDSS scale from PIRA and relapse residues
    residue = rng.binomial(rel, p.p_residual.value) if rms else np.zeros((n, weeks), np.int64)
    edss0_true = _baseline_edss(rng, n, disease, p, baseline)
    drawn_age = _ages(rng, n, disease, None if baseline is None else baseline.demographics)
    age0 = drawn_age if age is None else np.asarray(age, dtype=np.float64)
    duration = _durations(rng, n, disease, p)
    fixed = covariate_multiplier(p, disease, age0, duration, v)
    pira_rate = (p.pira_rms.value if rms else p.pira_ppms.value) / WEEKS_PER_YEAR
    ageing = np.exp((p.age_beta.value + p.duration_beta.value) * week / WEEKS_PER_YEAR)
    base = pira_rate * z * fixed
    idx = edss_index(edss0_true)
    level = np.empty((n, weeks), dtype=np.int64)
    for w in range(weeks):
        h = base * edss_multiplier(p, disease, edss_score(idx)) * ageing[w] \
            * multipliers["pira"][:, w]
        idx = np.minimum(idx + rng.poisson(h) + residue[:, w], EDSS_TOP)
        level[:, w] = idx
    if rms and p.transient_weeks.value > 0:
        width = round(p.transient_weeks.value)
        recent = np.cumsum(rel, axis=1)
        recent[:, width:] -= recent[:, :-width].copy()
        bump = round(p.transient_step.value / EDSS_STEP)  # in steps of the scale
        level = np.minimum(level + bump * (recent > 0), EDSS_TOP)

    visits = schedule.visits
    # a visit at week v sees the steps of weeks 0 .. v-1
    true_at = np.where(visits[None, :] == 0, edss_index(edss0_true)[:, None],
                       level[:, np.clip(visits - 1, 0, weeks - 1)])
    err = rng.random((n, visits.size))
    half = 0.5 * p.p_rater.value
    noise = np.where(err < half, -1, np.where(err < 2 * half, 1, 0))
    obs = edss_score(np.clip(true_at + noise, 0, EDSS_TOP))
    seen = visits[None, :] <= seen_to[:, None]               # visit done (week 0 always)
    last_visit = np.where(seen, visits[None, :], 0).max(axis=1).astype(np.float64)
    edss_last = obs[np.arange(n), seen.sum(axis=1) - 1]

    rel_cum = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(rel, axis=1)], axis=1)
    shape = (n, len(schedule.confirm))
    cdp_time, cdp_event, cdp_pira = np.empty(shape), np.zeros(shape, bool), np.zeros(shape, bool)
    cdp_first = np.zeros(shape, np.int64)
    rows = np.arange(n)
    for c, window in enumerate(schedule.confirm):
        event, first = confirmed_progression(obs, seen, window, schedule.visit_every)
        cdp_event[:, c], cdp_first[:, c] = event, first
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

    # timed 25-foot walk and nine-hole peg test (log ratio to baseline at each visit; the
    # progression frailty and covariates scale the drift)
    speed = z * fixed / WEEKS_PER_YEAR
    walk = _timed_test(rng, p.t25_slope.value * speed, multipliers["walk"], visits, weeks,
                       p.t25_sd.value)
    # the walk endpoint reads the visit series (one walk per patient and visit): the last
    # visit at or before the walk week
    walk_w = round(cut) if schedule.walk_week is None else min(schedule.walk_week, weeks)
    walk_visit = int(np.searchsorted(visits, walk_w, side="right")) - 1
    walk_ratio = walk[:, walk_visit]
    measured = seen_to >= visits[walk_visit]
    change = np.where(measured, 100.0 * np.expm1(walk_ratio), np.nan)
    worse = np.where(measured, (walk_ratio >= math.log1p(p.t25_worsening.value)).astype(float),
                     np.nan)
    peg = _timed_test(rng, p.hpt_slope.value * speed, multipliers.get("hpt", multipliers["walk"]),
                      visits, weeks, p.hpt_sd.value)
    hpt_time, hpt_event = np.empty(shape), np.zeros(shape, bool)
    ccdp_time, ccdp_event = np.empty(shape), np.zeros(shape, bool)
    hcdp_time, hcdp_event = np.empty(shape), np.zeros(shape, bool)
    comp = p.composite_worsening.value
    for c, window in enumerate(schedule.confirm):
        ev, first = confirmed_worsening(peg, seen, p.hpt_worsening.value, window,
                                        schedule.visit_every)
        hpt_event[:, c] = ev
        hpt_time[:, c] = np.where(ev, visits[first], last_visit)
        onset = np.where(cdp_event[:, c], cdp_first[:, c], visits.size)
        ev, first = confirmed_worsening(peg, seen, comp, window, schedule.visit_every)
        onset = np.minimum(onset, np.where(ev, first, visits.size))
        hcdp_event[:, c] = onset < visits.size              # EDSS or peg test
        hcdp_time[:, c] = np.where(hcdp_event[:, c], visits[np.minimum(onset, visits.size - 1)],
                                   last_visit)
        ev, first = confirmed_worsening(walk, seen, comp, window, schedule.visit_every)
        onset = np.minimum(onset, np.where(ev, first, visits.size))
        ccdp_event[:, c] = onset < visits.size              # EDSS, walk or peg test
        ccdp_time[:, c] = np.where(ccdp_event[:, c], visits[np.minimum(onset, visits.size - 1)],
                                   last_visit)
    prior = gd0 = None
    if prior_years is not None and rms:  # after every other draw (enrolment screening)
        prior = rng.poisson(p.arr_untreated.value * prior_years * u).astype(np.int64)
        gd0 = rng.poisson(p.gd_untreated.value * v).astype(np.int64)
    return Outcomes(followup=seen_to, relapses=relapses.astype(np.int64), gd=gd, t2=t2,
                    scans=scans, edss0=obs[:, 0], edss_last=edss_last, cdp_time=cdp_time,
                    cdp_event=cdp_event, cdp_pira=cdp_pira, t25_worse=worse,
                    prior_relapses=prior, gd0=gd0, age=age0, duration=duration,
                    t25_change=change, hpt_time=hpt_time, hpt_event=hpt_event,
                    ccdp_time=ccdp_time, ccdp_event=ccdp_event, hcdp_time=hcdp_time,
                    hcdp_event=hcdp_event)


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


__all__ = ["EDSS_SCORES", "MECHANISMS", "Baseline", "Outcomes", "Schedule", "concat",
           "confirmed_progression", "confirmed_worsening", "constant_multipliers",
           "covariate_multiplier", "drug_multipliers", "edss_index", "edss_multiplier",
           "edss_score", "effect_delay", "ifn_rate_ratios", "simulate_outcomes", "subset"]
