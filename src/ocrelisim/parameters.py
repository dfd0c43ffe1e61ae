"""Frozen, sourced parameter specs: the one place where model numbers live.

Source keys (``[S2]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``. A value marked
``assumption=True`` was not found in the literature and is our choice; the ``source`` text says
why it was chosen. Variants come from :func:`dataclasses.replace`, never mutation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar, Self

from .errors import InvalidParameterError, bounds_message
from .units import DAYS_PER_MONTH, DAYS_PER_YEAR

LN2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One model number with its unit, plausible bounds and provenance.

    Parameters
    ----------
    value : float
        The value, in ``unit``.
    unit : str
        Unit of ``value`` (internal units: day, mg, L, kg).
    bounds : tuple of float
        Closed range of values the model accepts; checked when the spec is built.
    source : str
        Key in the fact dossier (e.g. ``"[S2]"``) or, for assumptions, why this value.
    assumption : bool
        True when the value is our choice rather than a published estimate.
    """

    value: float
    unit: str
    bounds: tuple[float, float]
    source: str
    assumption: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        if not (math.isfinite(self.value) and lo <= self.value <= hi):
            raise InvalidParameterError(bounds_message("parameter", self.value, self.bounds,
                                                       self.unit))

    def with_value(self, value: float) -> Parameter:
        """A copy with a new value (bounds are checked)."""
        return replace(self, value=float(value))


def _check(name: str, p: Parameter) -> None:
    lo, hi = p.bounds
    if not (math.isfinite(p.value) and lo <= p.value <= hi):
        raise InvalidParameterError(bounds_message(name, p.value, p.bounds, p.unit))


class _Spec:
    """Shared behaviour of the frozen parameter-spec dataclasses (all fields are Parameter)."""

    __slots__ = ()
    _what: ClassVar[str] = "model"

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            _check(f.name, getattr(self, f.name))

    def replace(self, **values: float) -> Self:
        """A copy with new values, e.g. ``PK.replace(omega_clinf=0.2)`` (bounds are checked)."""
        known = [f.name for f in fields(self)]  # type: ignore[arg-type]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InvalidParameterError(
                f"unknown {self._what} parameter(s) {unknown}; known: {known}")
        new = {k: getattr(self, k).with_value(v) for k, v in values.items()}
        return replace(self, **new)  # type: ignore[type-var]

    def table(self) -> list[tuple[str, float, str, str, bool]]:
        """Rows (name, value, unit, source, assumption) for reports."""
        return [(f.name, p.value, p.unit, p.source, p.assumption)
                for f in fields(self) for p in [getattr(self, f.name)]]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class PKParameters(_Spec):
    """Population PK of IV and SC ocrelizumab (typical values, covariates, variability).

    Structure [S1][S2]: two compartments, zero-order IV input into the central compartment,
    clearance ``CL(t) = CLinf + CLT·exp(-kdes·t)`` with ``t`` the time since the first dose.
    SC doses enter a depot absorbed first-order into the central compartment with
    bioavailability ``f_sc``. Weight enters as ``(WT/wt_ref)**exponent`` on clearances
    (CLinf, CLT, Q) and volumes (V1, V2).
    """

    _what: ClassVar[str] = "PK"

    clinf: Parameter = field(
        default_factory=lambda: Parameter(0.17, "L/day", (0.01, 2.0), "[S2]"))
    clt: Parameter = field(
        default_factory=lambda: Parameter(0.0489, "L/day", (0.0, 1.0), "[S2]"))
    kdes: Parameter = field(
        default_factory=lambda: Parameter(LN2 / (33.0 * 7.0), "1/day", (1e-4, 0.1),
                                          "[S2]: CLT decays with a half-life of 33 weeks"))
    v1: Parameter = field(default_factory=lambda: Parameter(2.78, "L", (0.5, 20.0), "[S2]"))
    v2: Parameter = field(default_factory=lambda: Parameter(2.68, "L", (0.5, 20.0), "[S2]"))
    q: Parameter = field(default_factory=lambda: Parameter(0.294, "L/day", (0.01, 5.0), "[S2]"))
    wt_ref: Parameter = field(default_factory=lambda: Parameter(
        75.0, "kg", (40.0, 120.0),
        "reference weight not found [S1]; 75 kg, the centre of the shared benchmark population",
        assumption=True))
    exp_cl: Parameter = field(default_factory=lambda: Parameter(
        0.75, "1", (0.0, 1.5),
        "weight exponent not found [S1]; theory-based allometry (0.75 on clearances), the usual "
        "fixed choice for monoclonal antibodies when estimates are unavailable",
        assumption=True))
    exp_v: Parameter = field(default_factory=lambda: Parameter(
        1.0, "1", (0.0, 1.5),
        "weight exponent not found [S1]; theory-based allometry (1 on volumes)",
        assumption=True))
    omega_clinf: Parameter = field(default_factory=lambda: Parameter(
        0.3, "SD of log", (0.0, 2.0), "IIV not published [S1]; 30% CV, as in shared/perf",
        assumption=True))
    omega_clt: Parameter = field(default_factory=lambda: Parameter(
        0.5, "SD of log", (0.0, 2.0), "IIV not published [S1]; 50% CV, as in shared/perf",
        assumption=True))
    omega_v1: Parameter = field(default_factory=lambda: Parameter(
        0.3, "SD of log", (0.0, 2.0), "IIV not published [S1]; 30% CV, as in shared/perf",
        assumption=True))
    omega_v2: Parameter = field(default_factory=lambda: Parameter(
        0.0, "SD of log", (0.0, 2.0), "IIV not published [S1]; none by default",
        assumption=True))
    omega_q: Parameter = field(default_factory=lambda: Parameter(
        0.0, "SD of log", (0.0, 2.0), "IIV not published [S1]; none by default",
        assumption=True))
    omega_ka: Parameter = field(default_factory=lambda: Parameter(
        0.0, "SD of log", (0.0, 2.0), "SC IIV not published [S6]; none by default",
        assumption=True))
    ka: Parameter = field(default_factory=lambda: Parameter(
        0.3, "1/day", (0.01, 10.0),
        "SC absorption rate not found [S6]; 0.3/day, a value typical of SC monoclonal "
        "antibodies. OCARINA II AUC ratios [S8] do not identify it: any ka in 0.1-7.7/day fits "
        "them with a matching f_sc (see tests/validation/test_sc_calibration.py)",
        assumption=True))
    f_sc: Parameter = field(default_factory=lambda: Parameter(
        0.835, "1", (0.05, 1.0),
        "SC bioavailability not found [S6]; calibrated (given ka) so that the simulated "
        "OCARINA II AUC GMR SC 920 mg / IV 2x300 mg, day 1-week 12, is 1.29 [S8] (model: week 24 "
        "1.278 vs published 1.27, 90% CI 1.21-1.34)",
        assumption=True))
    sigma_prop: Parameter = field(default_factory=lambda: Parameter(
        0.15, "SD (fraction)", (0.0, 1.0),
        "residual error not published [S1]; 15% proportional, a typical mAb assay value",
        assumption=True))
    sigma_add: Parameter = field(default_factory=lambda: Parameter(
        0.1, "mg/L", (0.0, 10.0),
        "residual error not published [S1]; 0.1 mg/L additive floor", assumption=True))



PK = PKParameters()
"""Default population PK parameters of ocrelizumab."""

# Administration facts used by the regimen presets.
IV_CONCENTRATION = Parameter(1.2, "mg/mL", (0.1, 30.0), "[S3][S5]: 300 mg/250 mL, 600 mg/500 mL")
MIN_INTERVAL_600 = Parameter(5.0 * DAYS_PER_MONTH, "day", (0.0, 400.0),
                             "[S3][S4]: 600 mg doses at least 5 months apart")
MAINTENANCE_INTERVAL = Parameter(24.0 * 7.0, "day", (1.0, 1000.0),
                                 "[S3][S4]: 600 mg every 6 months (24 weeks)")
SHORT_INFUSION_DURATION = Parameter(
    2.0 / 24.0, "day", (0.01, 1.0),
    "[S3b][S15]: about 2 h; the label's mL/h steps for the shorter infusion were not found, so "
    "it is given at a constant rate (assumption)", assumption=True)
# Accepted body-weight input range, kg (our plausibility check, not a clinical limit).
PLAUSIBLE_WEIGHT_KG = (30.0, 250.0)

# Accepted age input range, years (our plausibility check for covariate files, not a clinical
# limit; ages outside the trials' entry range are accepted).
PLAUSIBLE_AGE_Y = (0.0, 120.0)

_WEIGHT_SOURCE = (
    "body weight not reported by arm [S12][S13][S14][S60]; assumption: log-normal by sex, "
    "medians 68 kg (F) and 83 kg (M), SD of log 0.2 (about 20% CV), truncated to "
    "PLAUSIBLE_WEIGHT_KG. With assumed heights of 1.65 m (F) and 1.78 m (M) this gives a mean "
    "BMI of about 25.9 kg/m2 for the RMS sex mix, consistent with the OPERA mean BMI 26.2 [S60], "
    "and a mean weight of about 75 kg, the PK reference weight"
)


@dataclass(frozen=True, slots=True)
class Demographics:
    """Baseline demographics of a trial population, used by ``Population.sample``.

    Age follows a normal distribution truncated to ``[age_min, age_max]`` (the trial's entry
    range) whose truncated mean and SD equal ``age_mean`` and ``age_sd``; sex is female with
    probability ``female_fraction``; weight is log-normal by sex (medians
    ``weight_median_female``/``weight_median_male``, SD of log ``weight_sd_log``) truncated to
    ``PLAUSIBLE_WEIGHT_KG``.
    """

    age_mean: Parameter
    age_sd: Parameter
    age_min: Parameter
    age_max: Parameter
    female_fraction: Parameter
    weight_median_female: Parameter = field(default_factory=lambda: Parameter(
        68.0, "kg", PLAUSIBLE_WEIGHT_KG, _WEIGHT_SOURCE, assumption=True))
    weight_median_male: Parameter = field(default_factory=lambda: Parameter(
        83.0, "kg", PLAUSIBLE_WEIGHT_KG, _WEIGHT_SOURCE, assumption=True))
    weight_sd_log: Parameter = field(default_factory=lambda: Parameter(
        0.2, "SD of log", (0.01, 1.0), _WEIGHT_SOURCE, assumption=True))

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))
        lo, hi, mean = self.age_min.value, self.age_max.value, self.age_mean.value
        if not lo < mean < hi:
            raise InvalidParameterError(
                f"age_mean = {mean!r} y must lie strictly inside the age range [{lo:g}, {hi:g}] y "
                "(age_min, age_max); widen the range or change the mean")


RMS_DEMOGRAPHICS = Demographics(
    age_mean=Parameter(38.1, "y", (18.0, 80.0),
                       "[S60]: ocrelizumab-exposed OPERA population (n=1448, incl. switchers)"),
    age_sd=Parameter(9.3, "y", (1.0, 30.0), "[S60]"),
    age_min=Parameter(18.0, "y", (0.0, 120.0), "[S12]: OPERA entry age 18-55"),
    age_max=Parameter(55.0, "y", (0.0, 120.0), "[S12]: OPERA entry age 18-55"),
    female_fraction=Parameter(0.655, "1", (0.0, 1.0), "[S60]: 65.5% female"),
)
"""OPERA I/II (relapsing MS) baseline demographics."""

PPMS_DEMOGRAPHICS = Demographics(
    age_mean=Parameter(44.7, "y", (18.0, 80.0), "[S14]: ORATORIO ocrelizumab arm"),
    age_sd=Parameter(7.9, "y", (1.0, 30.0), "[S14]: ORATORIO ocrelizumab arm"),
    age_min=Parameter(18.0, "y", (0.0, 120.0), "[S13][S14]: ORATORIO entry age 18-55"),
    age_max=Parameter(55.0, "y", (0.0, 120.0), "[S13][S14]: ORATORIO entry age 18-55"),
    female_fraction=Parameter(0.486, "1", (0.0, 1.0), "[S14]: 48.6% female, ocrelizumab arm"),
)
"""ORATORIO (primary progressive MS) ocrelizumab-arm baseline demographics."""

DEMOGRAPHICS = {"RMS": RMS_DEMOGRAPHICS, "PPMS": PPMS_DEMOGRAPHICS}
"""Demographics by disease code."""


_TEMPLATE = ("ofatumumab popPK-B-cell model [S28] used as a template (another anti-CD20 "
             "antibody; no ocrelizumab PD model was found)")
_REUSED = (f"{_TEMPLATE}. Assumption: the ofatumumab estimate is re-used unchanged, although "
           "kout, emax and ec50 were re-fitted for ocrelizumab (no ocrelizumab "
           "individual B-cell data to re-estimate it with)")
_T_EFFECT = ("effect size not found (only directions and p-values [S38][S39][S40]); our "
             "assumption: maximal fractional change at complete, sustained B-cell depletion")


@dataclass(frozen=True, slots=True)
class ImmuneParameters(_Spec):
    """B cells, CD20+ T cells, the delayed T-cell programme and immunoglobulins.

    Structure (see :mod:`ocrelisim.models.immune`): blood CD19+ B cells follow an indirect-response
    turnover with drug-stimulated loss ``kout·(1 + Emax·E(C))``, ``E = C/(EC50 + C)`` (the
    ofatumumab structure [S28] with a Hill coefficient of 1, our choice: with the template's 2.81
    the effect saturates and deep depletion no longer depends on the dose as in GAVOTTE [S52]),
    fed through a three-stage CD20+ maturation chain (mean transit time ``mtt_b``) whose cells
    the drug kills at the same rate ``kout·Emax·E``: *when* B cells return is set by EC50, Emax
    and ``mtt_b``, *how fast* they rise by ``kout``, each with its own variability;
    CD20+ T cells are lost the same way with their own turnover; the T-cell and cytokine indices
    follow B-cell depletion through a two-step delay (months); immunoglobulins turn over
    (``kel_*``) with synthesis from long-lived plasma cells that B-cell depletion does not remove
    (share ``f_*``) and from plasma cells renewed from B cells, which fall with depletion at
    ``k_pc``, so that levels settle. Covariate references 70 kg and 38 years are those of [S28].
    """

    _what: ClassVar[str] = "immune"

    # -- B cells ------------------------------------------------------------------------------
    b0: Parameter = Parameter(200.0, "cells/uL", (1.0, 2000.0),
                       "[S28]: median baseline CD19 200 cells/uL (ofatumumab RMS pool); "
                       "ocrelizumab starters CD20+ 191 +/- 150 [S42]")
    b0_exp_wt: Parameter = Parameter(0.271, "1", (-3.0, 3.0), f"[S28] weight on B0; {_REUSED}",
                                     assumption=True)
    b0_exp_age: Parameter = Parameter(-0.282, "1", (-3.0, 3.0),
                               f"[S28] age on B0 (older PPMS patients start lower); {_REUSED}",
                               assumption=True)
    omega_b0: Parameter = Parameter(0.394, "SD of log", (0.0, 2.0), f"[S28]; {_REUSED}",
                                    assumption=True)
    kout: Parameter = Parameter(
        0.00229, "1/day", (1e-4, 1.0),
        "calibrated with emax and ec50 (given mtt_b): median repletion 72 weeks after the last "
        "infusion [S59], GAVOTTE's deep depletion [S52] and depletion by 2 weeks [S63]. Sets how "
        "fast counts rise once cells arrive: blood B-cell mean lifetime 437 days, near the "
        "inebilizumab model's 391 days [S30] (ofatumumab 81 days [S28]); "
        "tools/calibrate_bcells.py", assumption=True)
    kout_exp_wt: Parameter = Parameter(-0.624, "1", (-3.0, 3.0), f"[S28]; {_REUSED}",
                                       assumption=True)
    omega_kout: Parameter = Parameter(
        0.2, "SD of log", (0.0, 2.0),
        "calibrated: the label's range of 27-175 weeks to repletion [S59] read as the 2.5-97.5th "
        "percentiles; with the re-used variability of emax and ec50 [S28] only a narrow spread "
        "of the rise keeps the 97.5th percentile below 175 weeks (model about 40-168)",
        assumption=True)
    emax: Parameter = Parameter(
        286.6, "1", (1.0, 1e5),
        "calibrated: 20.0% of patients at <= 0.4 CD19 cells/uL on 600 mg in GAVOTTE [S52] "
        "(taken at the trough before the second 600 mg dose, day 336; the time point is not "
        "given; model 17.1%, and 32.7% on the high dose vs 30.8%: the 72-week median and "
        "2-week depletion hold it below 20%), with CD19 below 1% of baseline 2 weeks after the "
        "first dose [S63]. The drug "
        "kills a CD20+ cell at kout·emax·E per day (0.66/day at full effect) in blood and in "
        "the maturation chain", assumption=True)
    omega_emax: Parameter = Parameter(0.587, "SD of log", (0.0, 2.0), f"[S28]; {_REUSED}",
                                      assumption=True)
    ec50: Parameter = Parameter(
        2.303, "mg/L", (1e-5, 100.0),
        "calibrated with emax and kout: the dose-dependence of deep depletion in GAVOTTE "
        "[S52] (30.8% on the high dose) needs an effect that is not saturated at the trough, so "
        "EC50 lies near trough concentrations (the template's 0.0057 mg/L free drug and Hill "
        "2.81 [S28] saturate)", assumption=True)
    omega_ec50: Parameter = Parameter(0.927, "SD of log", (0.0, 3.0), f"[S28]; {_REUSED}",
                                      assumption=True)
    mtt_b: Parameter = Parameter(
        4.0, "day", (0.5, 365.0),
        "mean transit time of the CD20+ maturation chain (3 stages) from CD20-negative "
        "precursors to blood B cells: the delay between the end of the drug effect and new B "
        "cells in blood. Not in the dossier and not identifiable from the calibration figures: "
        "refits of kout, emax, ec50 with 4, 7 and 14 days all hold the 72-week median [S59], "
        "the shallower delays GAVOTTE's 20.0% [S52] and the range better (with kout fixed at "
        "391 days [S30] a free fit went to 3.5 days). Assumption: 4 days, about the time newly "
        "CD20+ immature B cells stay in the bone marrow; src/ocrelisim/data/README.md lists "
        "what was searched", assumption=True)
    omega_mtt_b: Parameter = Parameter(
        0.3, "SD of log", (0.0, 2.0),
        "IIV of mtt_b (when repopulation starts, independent of kout: how fast counts rise); "
        "assumption, no data", assumption=True)
    lln_b: Parameter = Parameter(
        80.0, "cells/uL", (1.0, 1000.0),
        "CD19 LLN not found: the label's '80 cells/uL' is not verified and no source in the "
        "dossier gives it. Assumption: 80 cells/uL, within the lower limits of adult CD19 "
        "reference ranges (51-140 cells/uL [S85][S85b][S85c]); used as the default repletion "
        "threshold", assumption=True)
    # -- CD20+ T cells ----------------------------------------------------------------------
    kt20: Parameter = Parameter(0.05, "1/day", (1e-3, 1.0),
                         "CD20+ T-cell turnover not found; assumption (half-life 2 weeks)",
                         assumption=True)
    emax_t20: Parameter = Parameter(4.0, "1", (0.0, 100.0),
                             "not found (CD20+ T cells reduced at 6 and 12 months, p<0.0001 "
                             "[S40][S36]); assumption: about 80% fewer at full drug effect",
                             assumption=True)
    # -- delayed T-cell programme -----------------------------------------------------------
    t_delay: Parameter = Parameter(
        90.0, "day", (7.0, 720.0),
        "mean delay of the T-cell programme behind B-cell depletion; assumption chosen so that "
        "less than 5% of the change is present at 2 weeks (B-cell pathways only [S38][S39]) and "
        "more than 80% at 6 months (T-cell changes measured [S38][S40])", assumption=True)
    omega_t: Parameter = Parameter(0.5, "SD of log", (0.0, 2.0),
                            "IIV of T-cell effect sizes and delay; assumption (uncertainty "
                            "bands, not data)", assumption=True)
    s_ifng_cd4: Parameter = Parameter(0.25, "1", (0.0, 0.95), 
        f"IFN-g+ CD4 down (p=0.03) [S40]; {_T_EFFECT}",
                               assumption=True)
    s_ifng_cd8: Parameter = Parameter(0.35, "1", (0.0, 0.95), 
        f"IFN-g+ CD8 down (p=0.004) [S40]; {_T_EFFECT}",
                               assumption=True)
    s_th17: Parameter = Parameter(0.25, "1", (0.0, 0.95),
                           "Th17 pathways quieted at 6 months, transcriptomic only "
                           f"[S39]; {_T_EFFECT}",
                           assumption=True)
    s_gmcsf_t: Parameter = Parameter(0.2, "1", (0.0, 0.95),
                              "GM-CSF in T cells: lay summaries only; primary data show GM-CSF "
                              f"reduced in B cells [S40]; {_T_EFFECT}", assumption=True)
    s_treg: Parameter = Parameter(0.1, "1", (0.0, 2.0),
                           "Treg up: trend, not significant [S40]; programme enhanced "
                           f"[S38]; {_T_EFFECT}",
                           assumption=True)
    s_ne_cd4: Parameter = Parameter(0.3, "1", (0.0, 5.0),
                             f"naive/effector CD4 ratio up (p=0.002) [S40]; {_T_EFFECT}",
                             assumption=True)
    s_ne_cd8: Parameter = Parameter(0.3, "1", (0.0, 5.0),
                             f"naive/effector CD8 ratio up (p=0.002) [S40]; {_T_EFFECT}",
                             assumption=True)
    # -- immunoglobulins -------------------------------------------------------------------
    igg0: Parameter = Parameter(
        8.34, "g/L", (1.0, 40.0),
        "baseline IgG not found; geometric mean calibrated with omega_igg0 so that IgG < LLN "
        "in 1.5% at week 96 and 7.7% at week 312 (OPERA OCR-OCR [S21]), given f_igg and k_pc "
        "(tools/calibrate_ig.py)",
        assumption=True)
    omega_igg0: Parameter = Parameter(
        0.134, "SD of log", (0.0, 1.0),
        "calibrated with igg0 (see igg0; tools/calibrate_ig.py): with the decline slowing as "
        "IgG settles, only a narrow baseline distribution near the LLN gives 1.5% below it at "
        "week 96 and 7.7% at week 312", assumption=True)
    igm0: Parameter = Parameter(1.0, "g/L", (0.05, 10.0),
                         "baseline IgM not found; assumption (typical adult geometric mean)",
                         assumption=True)
    omega_igm0: Parameter = Parameter(0.45, "SD of log", (0.0, 1.5), "assumption", assumption=True)
    iga0: Parameter = Parameter(2.0, "g/L", (0.1, 20.0),
                         "baseline IgA not found; assumption (typical adult geometric mean)",
                         assumption=True)
    omega_iga0: Parameter = Parameter(0.40, "SD of log", (0.0, 1.5), "assumption", assumption=True)
    k_pc: Parameter = Parameter(
        LN2 / (2.0 * DAYS_PER_YEAR), "1/day", (1e-5, 0.1),
        "turnover of the plasma cells renewed from B cells not in the dossier; assumption: "
        "half-life 2 years (months to years for such cells). The RMS IgM decline of 58.1% at "
        "week 264 [S22] needs a half-life below about 4 years (f_igm >= 0); no Ig time course "
        "in the dossier pins it further. docs/validation.md shows the held-out Ig predictions "
        "at 1 and 3 years", assumption=True)
    kel_igg: Parameter = Parameter(
        LN2 / 21.0, "1/day", (1e-3, 1.0),
        "IgG serum half-life not in the dossier; assumption: 21 days (typical adult value). It "
        "sets how fast IgG follows its synthesis (weeks), not the yearly declines",
        assumption=True)
    kel_igm: Parameter = Parameter(
        LN2 / 5.0, "1/day", (1e-3, 1.0),
        "IgM serum half-life not in the dossier; assumption: 5 days (typical adult value)",
        assumption=True)
    kel_iga: Parameter = Parameter(
        LN2 / 6.0, "1/day", (1e-3, 1.0),
        "IgA serum half-life not in the dossier; assumption: 6 days (typical adult value)",
        assumption=True)
    f_igg: Parameter = Parameter(
        0.7924, "1", (0.0, 1.0),
        "calibrated: share of IgG synthesis from long-lived plasma cells (not removed by B-cell "
        "depletion) so that mean IgG falls 17.0% from baseline to week 264 in RMS [S22], given "
        "k_pc (tools/calibrate_ig.py)")
    f_igm: Parameter = Parameter(
        0.2939, "1", (0.0, 1.0),
        "calibrated: as f_igg, IgM -58.1% to week 264, RMS [S22]")
    f_iga: Parameter = Parameter(
        0.7411, "1", (0.0, 1.0),
        "calibrated: as f_igg, IgA -21.3% to week 264, RMS [S22]")
    lln_igg: Parameter = Parameter(5.65, "g/L", (0.1, 40.0), "[S22]")
    lln_igm: Parameter = Parameter(0.40, "g/L", (0.01, 10.0), "[S22]")
    lln_iga: Parameter = Parameter(0.70, "g/L", (0.01, 10.0), "[S22]")
    wt_ref: Parameter = Parameter(70.0, "kg", (40.0, 120.0), "[S28] covariate reference")
    age_ref: Parameter = Parameter(38.0, "y", (18.0, 80.0), "[S28] covariate reference")


IMMUNE = ImmuneParameters()
"""Default immune-dynamics parameters."""


_NO_IFN = ("IFN β-1a vs placebo effect not in the dossier; assumption from the PRISMS-era "
           "literature (about a third fewer relapses with 44 µg three times weekly), not verified "
           "here")
_NATURAL = ("untreated level not in the dossier; derived as the IFN β-1a arm's level [S12] "
            "divided by the assumed IFN effect")


@dataclass(frozen=True, slots=True)
class DiseaseParameters(_Spec):
    """Patient-level disease activity and progression (relapsing and primary progressive MS).

    Structure (see :mod:`ocrelisim.outcomes`): relapses are a Poisson process whose rate is the
    untreated rate times a gamma frailty (mean 1, variance ``relapse_alpha``: negative binomial
    counts) times a treatment multiplier. Gd-enhancing and new/enlarging T2 lesions are
    Poisson counts with a second gamma frailty (the patient's MRI activity). Disability (EDSS)
    moves on the scale's steps (0, 1.0, 1.5, ..., 9.5): progression independent of relapses
    (PIRA, a Poisson process with a gamma frailty whose hazard depends on the current EDSS,
    ``edss_beta``, and on age, disease duration and MRI activity, ``age_beta``,
    ``duration_beta``, ``mri_beta``) and the residual step of a relapse (probability
    ``p_residual``); a relapse also raises EDSS for ``transient_weeks``; visit scores carry
    rater error. The timed 25-foot walk and the nine-hole peg test drift as log ratios to
    baseline. Ocrelizumab acts through B-cell depletion: multiplier ``1 − imax·E(t)``, ``E``
    the depletion ``1 − B/B0`` of the immune model passed through a first-order effect delay
    (``t_half_effect`` rising, ``t_half_offset`` falling).
    """

    _what: ClassVar[str] = "disease"

    # -- relapses (RMS) ----------------------------------------------------------------
    arr_untreated: Parameter = Parameter(
        0.29 / 0.68, "relapses/year", (0.0, 5.0),
        f"{_NATURAL}: 0.29 [S12] / 0.68 (rr_ifn_relapse)", assumption=True)
    relapse_alpha: Parameter = Parameter(
        0.8, "1", (0.0, 10.0),
        "negative-binomial dispersion of relapse counts (gamma frailty variance) not in the "
        "dossier; assumption in the range usual for 2-year relapse counts", assumption=True)
    rr_ifn_relapse: Parameter = Parameter(0.68, "1", (0.0, 2.0), _NO_IFN, assumption=True)
    imax_relapse: Parameter = Parameter(
        0.665, "1", (0.0, 1.0),
        "calibrated: ARR 0.16 (ocrelizumab) vs 0.29 (IFN β-1a) in OPERA I and II [S12]")
    # -- MRI lesions (RMS) -------------------------------------------------------------
    gd_untreated: Parameter = Parameter(
        0.355 / 0.5, "lesions/scan", (0.0, 20.0),
        f"{_NATURAL}: 0.355, the mean of 0.29 and 0.42 Gd+ lesions per scan [S12], / 0.5 "
        "(rr_ifn_lesion)", assumption=True)
    t2_untreated: Parameter = Parameter(
        3.0, "lesions/year", (0.0, 50.0),
        "new/enlarging T2 lesion rate not in the dossier (only relative reductions [S12]); "
        "assumption: 1.5/year on IFN β-1a with rr_ifn_lesion 0.5", assumption=True)
    lesion_alpha: Parameter = Parameter(
        4.0, "1", (0.0, 20.0),
        "calibrated: lesion-count dispersion (gamma frailty variance) set so that 27.1% of the "
        "IFN β-1a arm show no evidence of disease activity over 96 weeks (OPERA mITT [S43]); "
        "the ocrelizumab arm's NEDA (47.7%) is then a check")
    rr_ifn_lesion: Parameter = Parameter(
        0.5, "1", (0.0, 2.0),
        "IFN β-1a effect on MRI lesions vs placebo not in the dossier; assumption",
        assumption=True)
    imax_gd: Parameter = Parameter(
        0.984, "1", (0.0, 1.0),
        "calibrated: Gd+ lesions per scan 0.02 vs 0.29 (OPERA I) and 0.02 vs 0.42 (OPERA II) "
        "[S12]")
    imax_t2: Parameter = Parameter(
        0.97, "1", (0.0, 1.0),
        "calibrated: new/enlarging T2 lesions −77% (OPERA I) and −83% (OPERA II) vs IFN β-1a "
        "[S12]")
    # -- disability ----------------------------------------------------------------------
    edss0_rms_mean: Parameter = Parameter(
        2.8, "EDSS", (0.0, 9.5),
        "OPERA baseline EDSS not in the dossier (entry 0-5.5 [S12]); assumption",
        assumption=True)
    edss0_rms_sd: Parameter = Parameter(1.3, "EDSS", (0.0, 5.0), "assumption", assumption=True)
    edss0_rms_min: Parameter = Parameter(0.0, "EDSS", (0.0, 9.5), "[S12]: entry EDSS 0-5.5")
    edss0_rms_max: Parameter = Parameter(5.5, "EDSS", (0.0, 9.5), "[S12]: entry EDSS 0-5.5")
    edss0_ppms_mean: Parameter = Parameter(4.7, "EDSS", (0.0, 9.5),
                                           "[S14]: ORATORIO ocrelizumab arm 4.7 (SD 1.2)")
    edss0_ppms_sd: Parameter = Parameter(1.2, "EDSS", (0.0, 5.0), "[S14]")
    edss0_ppms_min: Parameter = Parameter(3.0, "EDSS", (0.0, 9.5),
                                          "[S13][S14]: entry EDSS 3.0-6.5")
    edss0_ppms_max: Parameter = Parameter(6.5, "EDSS", (0.0, 9.5),
                                          "[S13][S14]: entry EDSS 3.0-6.5")
    duration_rms_mean: Parameter = Parameter(
        5.0, "year", (0.0, 40.0),
        "OPERA disease duration not in the dossier; assumption: CASTING's RRMS population, "
        "5.0 (SD 2.7) years [S48]", assumption=True)
    duration_rms_sd: Parameter = Parameter(
        2.7, "year", (0.01, 20.0), "assumption: CASTING [S48] (see duration_rms_mean)",
        assumption=True)
    duration_ppms_mean: Parameter = Parameter(
        6.7, "year", (0.0, 40.0), "[S14]: ORATORIO symptom duration 6.7 (SD 4.0) years")
    duration_ppms_sd: Parameter = Parameter(4.0, "year", (0.01, 20.0), "[S14]")
    pira_rms: Parameter = Parameter(
        0.23, "steps/year", (0.0, 10.0),
        "calibrated: 12-week CDP 13.6% at 96 weeks on IFN β-1a (OPERA pooled [S12]), with "
        "p_residual; the rate of a patient with every covariate at its reference")
    pira_ppms: Parameter = Parameter(
        0.83, "steps/year", (0.0, 10.0),
        "calibrated: ORATORIO's event-driven analysis (256 12-week CDP events, derived from "
        "32.9% of 488 and 39.3% of 244, no earlier than week 120 [S13]) falls at week 120, so "
        "the shares at the analysis are the published ones; the rate at the reference "
        "covariates (mean baseline EDSS 4.7, with edss_beta)")
    pira_shape: Parameter = Parameter(
        2.0, "1", (0.1, 100.0),
        "gamma shape of the between-patient PIRA frailty (CV 1/sqrt(shape)); assumption",
        assumption=True)
    edss_beta: Parameter = Parameter(
        -0.75, "1/EDSS point", (-2.0, 2.0),
        "log hazard ratio of a step per EDSS point above the disease's mean baseline "
        "(edss0_*_mean); calibrated with pira_ppms: extrapolated median time to EDSS >= 7 of "
        "12.1 years on placebo from ORATORIO's baseline [S46b] (a hazard constant over EDSS "
        "gives 5.7-6.8 years, depending on the PIRA rate); applied to relapsing MS too "
        "(assumption: no RMS figure in the dossier)")
    age_beta: Parameter = Parameter(
        0.0, "1/year", (-0.2, 0.2),
        "log hazard ratio of a step per year of age above the disease's mean age (Demographics); "
        "no natural-history age dependence in the dossier (OLYMPUS reports a larger rituximab "
        "effect below 51 years [S55], an effect modification, not a natural-history rate); "
        "assumption: none, varied in the sensitivity check", assumption=True)
    duration_beta: Parameter = Parameter(
        0.0, "1/year", (-0.5, 0.5),
        "log hazard ratio of a step per year of disease duration above the disease's mean "
        "(duration_*_mean); not in the dossier; assumption: none, varied in the sensitivity "
        "check", assumption=True)
    mri_beta: Parameter = Parameter(
        0.0, "1", (0.0, 2.0),
        "exponent of the lesion frailty (MRI activity: expected Gd+ lesions relative to the "
        "mean) in the step hazard, normalised to mean 1; not in the dossier (OLYMPUS: larger "
        "rituximab effect with Gd+ lesions [S55], an effect modification); assumption: none, "
        "varied in the sensitivity check", assumption=True)
    imax_pira: Parameter = Parameter(
        0.25, "1", (0.0, 1.0),
        "calibrated: ORATORIO 12-week CDP HR 0.76 [S13] (event-driven analysis); the same "
        "effect applies to PIRA in relapsing MS")
    rr_ifn_pira: Parameter = Parameter(
        1.0, "1", (0.0, 2.0),
        "IFN β-1a effect on progression independent of relapses not in the dossier; "
        "assumption: none", assumption=True)
    p_residual: Parameter = Parameter(
        0.36, "1", (0.0, 1.0),
        "calibrated: share of relapses leaving a one-step EDSS residue, fitted with pira_rms "
        "to the OPERA 12- and 24-week CDP figures [S12]")
    transient_weeks: Parameter = Parameter(
        6.0, "week", (0.0, 52.0),
        "duration of the transient EDSS rise during a relapse; assumption", assumption=True)
    transient_step: Parameter = Parameter(
        1.0, "EDSS", (0.0, 5.0),
        "size of the transient EDSS rise during a relapse (whole steps of the scale: 0.5 "
        "points, 1.0 from 0); assumption", assumption=True)
    p_rater: Parameter = Parameter(
        0.10, "1", (0.0, 1.0),
        "probability that a visit EDSS is misrated by one step of the scale (equal odds; "
        "inter-rater variability); calibrated with pira_ppms and pira_rms to the gap between "
        "12- and 24-week CDP (39.3% vs 35.7% [S13], 13.6% vs 10.5% [S12])")
    # -- timed 25-foot walk and nine-hole peg test (PPMS) --------------------------------
    t25_slope: Parameter = Parameter(
        0.17, "log(ratio)/year", (0.0, 5.0),
        "calibrated: mean increase in timed 25-foot walk time 55.1% at week 120 on placebo "
        "(ORATORIO [S13]); scaled by the PIRA frailty and covariates, reduced by imax_walk")
    t25_sd: Parameter = Parameter(
        0.05, "SD of log", (0.0, 2.0),
        "visit-to-visit variability of the timed 25-foot walk (log ratio) not in the dossier; "
        "assumption (small, so that the walk follows the drift); varied in the sensitivity "
        "check (0-0.20: ORATORIO's placebo composite share 70-77%, its HR 0.73-0.84)",
        assumption=True)
    imax_walk: Parameter = Parameter(
        0.245, "1", (0.0, 1.0),
        "calibrated: mean increase in walk time 38.9% on ocrelizumab vs 55.1% on placebo at "
        "week 120 (ORATORIO [S13])")
    t25_worsening: Parameter = Parameter(
        0.20, "1", (0.0, 5.0),
        "convention: a walk time at least 20% above baseline at the walk week is worsening "
        "(Outcomes.t25_worse, the share worsened; the composite's walk component uses "
        "composite_worsening); a convention of recent trials, not a fit")
    hpt_slope: Parameter = Parameter(
        0.085, "log(ratio)/year", (0.0, 5.0),
        "drift of the nine-hole peg test time (mean of both hands, log ratio) per year on "
        "placebo not in the dossier; assumption: half the walk's drift (upper limbs "
        "progress more slowly), varied in the sensitivity check", assumption=True)
    hpt_sd: Parameter = Parameter(
        0.05, "SD of log", (0.0, 2.0),
        "visit-to-visit variability of the nine-hole peg test not in the dossier; assumption "
        "(as the walk); varied in the sensitivity check (0-0.20: ORATORIO's 9HPT12 HR "
        "0.54-0.90 without re-fitting imax_hpt)", assumption=True)
    imax_hpt: Parameter = Parameter(
        0.30, "1", (0.0, 1.0),
        "calibrated: ORATORIO 12-week confirmed ≥15% nine-hole peg test progression HR 0.627 "
        "(both hands [S53b]), given the assumed hpt_slope and hpt_sd")
    hpt_worsening: Parameter = Parameter(
        0.15, "1", (0.0, 5.0),
        "[S53b]: ORATORIO's upper-limb HRs are for a ≥15% increase in 9HPT time (the "
        "abstract also analyses 20% and 25%)")
    composite_worsening: Parameter = Parameter(
        0.20, "1", (0.0, 5.0),
        "convention: composite confirmed progression counts a ≥20% increase in walk or peg "
        "test time (thresholds of recent trials, not a fit)")
    # -- effect delay and follow-up ------------------------------------------------------
    t_half_effect: Parameter = Parameter(
        28.0, "day", (0.1, 365.0),
        "delay from B-cell depletion to clinical effect not in the dossier; assumption "
        "(phase II: Gd+ lesions −89% at weeks 12-24 [S58])", assumption=True)
    t_half_offset: Parameter = Parameter(
        28.0, "day", (0.1, 3650.0),
        "delay of the effect's fall when B cells return (the effect rises with t_half_effect); "
        "default equal to t_half_effect (a symmetric delay, as calibrated). Rituximab's "
        "efficacy outlasts B-cell return (ARR 0.03 before vs 0.04 after a median 17-month "
        "extension [S37]), which a symmetric 28-day delay cannot show (docs/models/disease.md, "
        "issue 12 item 5); assumption", assumption=True)
    dropout_rms: Parameter = Parameter(
        0.07, "1/year", (0.0, 2.0),
        "OPERA discontinuation by arm not in the dossier; assumption", assumption=True)
    dropout_ppms: Parameter = Parameter(
        0.08, "1/year", (0.0, 2.0),
        "ORATORIO discontinuation not in the dossier; assumption", assumption=True)


DISEASE = DiseaseParameters()
"""Default disease-activity and progression parameters."""
