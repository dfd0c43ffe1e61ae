"""Parameters of the infusion- and injection-reaction model (:mod:`.reactions`), sourced.

Source keys refer to ``shared/reference/ocrelizumab-facts.md``. Calibrated values are fitted by
``tools/calibrate_reactions.py`` (quadrature, deterministic) to the figures named in ``source``;
``assumption=True`` marks values not found in the literature (our choice, reason given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..parameters import Parameter, _Spec

_FIT = "calibrated (tools/calibrate_reactions.py) to"


@dataclass(frozen=True, slots=True)
class ReactionParameters(_Spec):
    """Infusion-related reactions (IV) and injection reactions (SC) per dose.

    IV occurrence, patient i, infusion number k: ``logit p = irr_intercept +
    irr_first_extra·exp(-(k-1)/irr_decay_infusions) + irr_log_or_shorter·[shorter] +
    irr_log_or_later_300·[300 mg, k > 2] + irr_log_or_no_steroid·[no steroid] + u_i``,
    ``u_i ~ N(0, irr_frailty_sd²)`` shared by a patient's infusions.
    """

    _what: ClassVar[str] = "reaction"

    irr_intercept: Parameter = field(default_factory=lambda: Parameter(
        -4.349523, "log-odds", (-10.0, 5.0),
        f"{_FIT} OPERA 34.3% and ORATORIO 39.9% of patients with an IRR [S18] and 25.9 IRRs "
        "per 100 patient-years [S20] (IRR shares by infusion number not found)"))
    irr_first_extra: Parameter = field(default_factory=lambda: Parameter(
        2.526111, "log-odds", (0.0, 10.0),
        f"{_FIT} the same three figures [S18][S20]; label: highest with the first infusion "
        "[S19]"))
    irr_frailty_sd: Parameter = field(default_factory=lambda: Parameter(
        2.338488, "SD of log-odds", (0.0, 6.0),
        f"{_FIT} the same three figures [S18][S20] (patients who react tend to react again)"))
    irr_decay_infusions: Parameter = field(default_factory=lambda: Parameter(
        1.0, "infusions", (0.1, 20.0),
        "not identifiable from the period shares [S18]: the first-infusion excess falls "
        "e-fold per infusion (our choice)", assumption=True))
    irr_log_or_later_300: Parameter = field(default_factory=lambda: Parameter(
        0.0, "log-odds", (-5.0, 5.0),
        "dose effect at later 300 mg infusions (ORATORIO) not found [S18]; none",
        assumption=True))
    irr_log_or_shorter: Parameter = field(default_factory=lambda: Parameter(
        0.124625, "log-odds", (-3.0, 3.0),
        f"{_FIT} ENSEMBLE PLUS 24.6% (2 h) vs 23.1% (3.5 h) at the first randomised dose "
        "(taken as infusion 3), as a marginal odds ratio [S15]"))
    irr_log_or_no_steroid: Parameter = field(default_factory=lambda: Parameter(
        0.0, "log-odds", (0.0, 5.0),
        "effect of premedication not found [S18]: all trial patients had methylprednisolone, "
        "so the calibration holds for premedicated doses; none by default", assumption=True))
    p_severe: Parameter = field(default_factory=lambda: Parameter(
        0.014493, "probability", (0.0, 1.0),
        "[S15]: 1 severe IRR per arm among 67 + 71 patients with IRRs (2/138)"))
    p_moderate: Parameter = field(default_factory=lambda: Parameter(
        0.184, "probability", (0.0, 1.0),
        "[S86]: 18.4% moderate, 81.6% mild, in a real-world cohort (applied to every "
        "non-severe IRR: grade split in the trials not found [S18])", assumption=True))
    p_life_threatening: Parameter = field(default_factory=lambda: Parameter(
        0.0, "probability", (0.0, 0.05),
        "none life-threatening in ENSEMBLE PLUS [S15][S16], no fatal IRR in the trials [S19]; "
        "anaphylaxis only post-marketing [S67]: 0 by default", assumption=True))
    p_serious_if_severe: Parameter = field(default_factory=lambda: Parameter(
        0.334759, "probability", (0.0, 1.0),
        f"{_FIT} 0.3% of patients with a serious IRR [S19] over an OPERA course"))
    p_during_standard: Parameter = field(default_factory=lambda: Parameter(
        0.207792, "probability", (0.0, 1.0),
        "[S15]: slowed or interrupted 4.8% / IRR 23.1% (3.5 h), taking every IRR that starts "
        "during the infusion to be slowed or stopped (our assumption)"))
    p_during_shorter: Parameter = field(default_factory=lambda: Parameter(
        0.353659, "probability", (0.0, 1.0),
        "[S15]: slowed or interrupted 8.7% / IRR 24.6% (2 h), same assumption"))
    slow_minutes: Parameter = field(default_factory=lambda: Parameter(
        30.0, "min", (0.0, 240.0),
        "[S3]: mild-moderate IRR: half the rate at onset for at least 30 minutes"))
    severe_hold_minutes: Parameter = field(default_factory=lambda: Parameter(
        30.0, "min", (0.0, 600.0),
        "time from stopping for a severe IRR to the restart at half rate [S19b] not found; "
        "30 minutes", assumption=True))
    onset_after_max_hours: Parameter = field(default_factory=lambda: Parameter(
        24.0, "h", (0.0, 48.0),
        "[S18][S19]: IRRs during the infusion or within 24 h; onset uniform over the window "
        "(distribution not found, our choice)", assumption=True))
    extra_symptoms_mean: Parameter = field(default_factory=lambda: Parameter(
        0.5, "symptoms", (0.0, 5.0),
        "symptoms per IRR not found [S18]: 1 + Poisson(0.5), the 4 most common [S18] 3 times "
        "as likely as the others (our choice)", assumption=True))
    sc_p_local: Parameter = field(default_factory=lambda: Parameter(
        0.314357, "probability", (0.0, 1.0),
        f"{_FIT} OCARINA I 77.9% of patients with a local injection reaction [S11], over 4 "
        "independent injections (median 96 weeks; our assumption)"))
    sc_p_systemic: Parameter = field(default_factory=lambda: Parameter(
        0.065388, "probability", (0.0, 1.0),
        f"{_FIT} OCARINA I 23.7% with a systemic injection reaction [S11], same assumption"))
    sc_injection_minutes: Parameter = field(default_factory=lambda: Parameter(
        10.0, "min", (1.0, 60.0), "[S6]: about 10 minutes"))


REACTIONS = ReactionParameters()
"""Default reaction-model parameters."""


_LOW_IGG_SHARE = 352.0 / (352.0 + 11174.0)  # [S74]: patient-years with IgG < LLN / all
_RR_LOW_IGG = 5.68 / 2.16  # [S74]: serious infections per 100 PY, IgG < LLN vs >= LLN


def _base_rate(overall: float) -> float:
    """Serious-infection rate at IgG >= LLN whose mix with 3.05% of patient-years below the
    LLN (rate ratio 2.63) gives ``overall`` [S74]."""
    return overall / (1.0 + _LOW_IGG_SHARE * (_RR_LOW_IGG - 1.0))


@dataclass(frozen=True, slots=True)
class InfectionParameters(_Spec):
    """Serious and non-serious infections on ocrelizumab, rising while IgG is below the LLN.

    Serious infections: a Poisson process, per 100 patient-years ``si_rate_rms`` or
    ``si_rate_ppms`` while IgG >= ``igg_lln``, times ``si_rr_low_igg`` while below; rates stable
    over years [S75]. Non-serious infections: ``nsi_rate`` (no IgG effect: not quantified).
    """

    _what: ClassVar[str] = "infection"

    igg_lln: Parameter = field(default_factory=lambda: Parameter(
        5.65, "g/L", (1.0, 15.0), "[S22]: IgG lower limit of normal in the trial analyses"))
    si_rr_low_igg: Parameter = field(default_factory=lambda: Parameter(
        _RR_LOW_IGG, "rate ratio", (1.0, 20.0),
        "[S74]: 5.68 (20 SI / 352 PY) vs 2.16 (241 / 11,174 PY) per 100 PY, IgG < vs >= LLN"))
    si_rate_rms: Parameter = field(default_factory=lambda: Parameter(
        _base_rate(1.50), "per 100 PY", (0.0, 50.0),
        "calibrated to [S75] RMS 1.50 per 100 PY overall, with 3.05% of patient-years below "
        "the IgG LLN [S74] (assumption: the same share in RMS and PPMS)"))
    si_rate_ppms: Parameter = field(default_factory=lambda: Parameter(
        _base_rate(3.70), "per 100 PY", (0.0, 50.0),
        "calibrated to [S75] progressive MS 3.70 per 100 PY overall, same assumption"))
    nsi_rate: Parameter = field(default_factory=lambda: Parameter(
        76.2 - 2.01, "per 100 PY", (0.0, 500.0),
        "[S20]: all infections 76.2 minus serious 2.01 per 100 PY (derived); an IgG effect on "
        "non-serious infections was not quantified (none, our assumption)"))


INFECTIONS = InfectionParameters()
"""Default infection-model parameters."""
