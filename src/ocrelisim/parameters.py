"""Frozen, sourced parameter specs: the one place where model numbers live.

Source keys (``[S2]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``. A value marked
``assumption=True`` was not found in the literature and is our choice; the ``source`` text says
why it was chosen. Variants come from :func:`dataclasses.replace`, never mutation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

from .errors import InvalidParameterError, bounds_message

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


@dataclass(frozen=True, slots=True)
class PKParameters:
    """Population PK of IV and SC ocrelizumab (typical values, covariates, variability).

    Structure [S1][S2]: two compartments, zero-order IV input into the central compartment,
    clearance ``CL(t) = CLinf + CLT·exp(-kdes·t)`` with ``t`` the time since the first dose.
    SC doses enter a depot absorbed first-order into the central compartment with
    bioavailability ``f_sc``. Weight enters as ``(WT/wt_ref)**exponent`` on clearances
    (CLinf, CLT, Q) and volumes (V1, V2).
    """

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

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))

    def replace(self, **values: float) -> PKParameters:
        """A copy with new values, e.g. ``PK.replace(omega_clinf=0.2)`` (bounds are checked)."""
        unknown = sorted(set(values) - {f.name for f in fields(self)})
        if unknown:
            raise InvalidParameterError(
                f"unknown PK parameter(s) {unknown}; known: {[f.name for f in fields(self)]}")
        new = {k: getattr(self, k).with_value(v) for k, v in values.items()}
        return replace(self, **new)

    def table(self) -> list[tuple[str, float, str, str, bool]]:
        """Rows (name, value, unit, source, assumption) for reports."""
        return [(f.name, p.value, p.unit, p.source, p.assumption)
                for f in fields(self) for p in [getattr(self, f.name)]]


PK = PKParameters()
"""Default population PK parameters of ocrelizumab."""

# Administration facts used by the regimen presets.
IV_CONCENTRATION = Parameter(1.2, "mg/mL", (0.1, 30.0), "[S3][S5]: 300 mg/250 mL, 600 mg/500 mL")
MIN_INTERVAL_600 = Parameter(5.0 * 30.4375, "day", (0.0, 400.0),
                             "[S3][S4]: 600 mg doses at least 5 months apart")
MAINTENANCE_INTERVAL = Parameter(24.0 * 7.0, "day", (1.0, 1000.0),
                                 "[S3][S4]: 600 mg every 6 months (24 weeks)")
SC_INJECTION_DURATION = Parameter(10.0 / 1440.0, "day", (0.0, 1.0), "[S6]: about 10 minutes")
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
