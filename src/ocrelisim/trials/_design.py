"""Trial designs: arms, allocation, size, schedule, endpoints; presets and YAML files."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from ..errors import DesignError, RegimenError
from ..outcomes import EDSS_MAX, MECHANISMS, Baseline, Schedule
from ..parameters import DEMOGRAPHICS, DISEASE, DiseaseParameters, Parameter
from ..population import DISEASES
from ..regimens import PRESETS, GuidedRule, Regimen

TREATMENTS = ("ocrelizumab", "interferon", "placebo", "comparator")
"""Arm treatments: ocrelizumab (through the immune model), IFN β-1a 44 µg three times weekly,
placebo (untreated natural history) or a comparator given as rate ratios vs untreated."""

ENDPOINTS = {
    "ARR": ("annualised relapse rate", "RMS", "rate ratio, negative binomial regression"),
    "CDP12": ("12-week confirmed disability progression", None, "hazard ratio, Cox regression"),
    "CDP24": ("24-week confirmed disability progression", None, "hazard ratio, Cox regression"),
    "PIRA12": ("12-week confirmed progression independent of relapse activity", "RMS",
               "hazard ratio, Cox regression (other progression censored at onset)"),
    "GD": ("Gd-enhancing T1 lesions per scan", "RMS", "rate ratio, negative binomial regression"),
    "T2": ("new/enlarging T2 lesions per scan", "RMS", "rate ratio, negative binomial regression"),
    "T25FW": ("timed 25-foot walk: mean % change in walk time from baseline to the walk week "
              "(the design's walk_week; without one, the end of the analysed follow-up)", "PPMS",
              "ratio of the arms' mean % changes (delta-method interval)"),
    "NHPT12": ("12-week confirmed ≥15% worsening of the nine-hole peg test", "PPMS",
               "hazard ratio, Cox regression"),
    "NHPT24": ("24-week confirmed ≥15% worsening of the nine-hole peg test", "PPMS",
               "hazard ratio, Cox regression"),
    "CCDP12": ("12-week composite confirmed progression: EDSS, timed walk ≥20% or peg test "
               "≥20% (thresholds are conventions)", "PPMS", "hazard ratio, Cox regression"),
    "CCDP24": ("24-week composite confirmed progression: EDSS, timed walk ≥20% or peg test "
               "≥20% (thresholds are conventions)", "PPMS", "hazard ratio, Cox regression"),
    "HCDP12": ("12-week composite confirmed progression without the walk: EDSS or peg test "
               "≥20% (ORATORIO-HAND's primary endpoint; the threshold is a convention)", "PPMS",
               "hazard ratio, Cox regression"),
    "HCDP24": ("24-week composite confirmed progression without the walk: EDSS or peg test "
               "≥20% (the threshold is a convention)", "PPMS", "hazard ratio, Cox regression"),
    "NEDA": ("no evidence of disease activity (no relapse, 12-week CDP, Gd+ or new/enlarging "
             "T2 lesion)", "RMS", "risk ratio"),
}
"""Endpoint code → (description, disease it needs or None, analysis)."""
HIGHER_IS_BETTER = frozenset({"NEDA"})
"""Endpoints whose ratio favours the treated arm when above 1."""


@dataclass(frozen=True, slots=True)
class Arm:
    """One trial arm.

    Parameters
    ----------
    name : str
        Label used in tables and as ``control``.
    treatment : {"ocrelizumab", "interferon", "placebo", "comparator"}
    regimen : str, optional
        Ocrelizumab only: a preset name (``iv``, ``sc``, ``iv-short``, ``iv-extended``; doses
        are added until the trial ends) or a regimen text such as
        ``"300 mg IV d0, d14; 600 mg IV q24w x4 from d168"``.
    rate_ratios : mapping, optional
        Comparator only: multipliers of the untreated rates by mechanism (``relapse``, ``gd``,
        ``t2``, ``pira``, ``walk``); missing mechanisms are 1 (no effect).
    guided : mapping, optional
        Ocrelizumab only: B-cell-guided redosing after ``regimen``. A 600 mg IV label infusion
        is given at the first monitoring visit where CD19+ B cells are at or above
        ``threshold`` (cells/µL, default 10), visits every ``check_every`` weeks (default 4)
        from ``earliest`` weeks (default 24) after the previous dose. No rule of this kind
        is published for ocrelizumab (facts §2.3); the defaults are assumptions. The keys are
        the fields of :class:`ocrelisim.regimens.GuidedRule` (see :meth:`guided_rule`).
    """

    name: str
    treatment: str
    regimen: str | None = None
    rate_ratios: Mapping[str, float] | None = None
    guided: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise DesignError(f"arm name {self.name!r} must be a non-empty string")
        if self.treatment not in TREATMENTS:
            raise DesignError(f"arm {self.name!r}: unknown treatment {self.treatment!r}; use one "
                              f"of {', '.join(TREATMENTS)}")
        if self.treatment == "ocrelizumab":
            if self.regimen is None:
                raise DesignError(f"arm {self.name!r}: an ocrelizumab arm needs a regimen (a "
                                  f"preset such as 'iv' or 'sc', or a regimen text)")
            if self.regimen not in PRESETS:
                try:
                    Regimen.parse(self.regimen)
                except RegimenError as err:
                    raise DesignError(f"arm {self.name!r}: {err}") from None
        elif self.regimen is not None:
            raise DesignError(f"arm {self.name!r}: only ocrelizumab arms take a regimen; "
                              f"{self.treatment} arms are modelled as rate ratios")
        if self.treatment == "comparator":
            if not self.rate_ratios:
                raise DesignError(f"arm {self.name!r}: a comparator needs rate_ratios, e.g. "
                                  f"{{relapse: 0.5, pira: 0.8}} (multipliers vs untreated)")
            bad = sorted(set(self.rate_ratios) - set(MECHANISMS))
            if bad:
                raise DesignError(f"arm {self.name!r}: unknown rate_ratios keys {bad}; use "
                                  f"{', '.join(MECHANISMS)}")
            for k, v in self.rate_ratios.items():
                if isinstance(v, bool) or not isinstance(v, int | float) \
                        or not math.isfinite(v) or v < 0:
                    raise DesignError(f"arm {self.name!r}: rate_ratios[{k!r}] = {v!r} must be a "
                                      f"finite number >= 0 (1 = no effect)")
            object.__setattr__(self, "rate_ratios", {k: float(v)
                                                     for k, v in self.rate_ratios.items()})
        elif self.rate_ratios is not None:
            raise DesignError(f"arm {self.name!r}: rate_ratios are only for comparator arms")
        if self.guided is not None:
            if self.treatment != "ocrelizumab":
                raise DesignError(f"arm {self.name!r}: guided redosing is for ocrelizumab arms")
            object.__setattr__(self, "guided", _guided_rule(self.name, self.guided))

    def guided_rule(self) -> GuidedRule | None:
        """The arm's B-cell-guided redosing rule (None when the arm is not guided)."""
        return None if self.guided is None else GuidedRule(**self.guided)

    def regimen_for(self, weeks: int) -> Regimen:
        """The ocrelizumab regimen, presets extended to cover ``weeks`` of follow-up (for a
        guided arm: the regimen as given, the start before guided doses)."""
        if self.regimen is None:
            raise DesignError(f"arm {self.name!r} has no regimen ({self.treatment})")
        if self.regimen not in PRESETS or self.guided is not None:
            if self.regimen in PRESETS:
                return Regimen.preset(self.regimen, 0)
            return Regimen.parse(self.regimen)
        doses = 0
        while Regimen.preset(self.regimen, doses + 1)[-1].time < weeks * 7.0:
            doses += 1
        return Regimen.preset(self.regimen, doses)


GUIDED_DEFAULTS = {k: getattr(GuidedRule(), k) for k in ("threshold", "check_every", "earliest")}
"""B-cell-guided redosing defaults: cells/µL, weeks, weeks (assumptions; no published rule):
the defaults of :class:`ocrelisim.regimens.GuidedRule`, whose fields are these keys."""


def _guided_rule(arm: str, rule: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(rule, Mapping):
        raise DesignError(f"arm {arm!r}: guided must be a mapping such as "
                          f"{{threshold: 10, check_every: 4, earliest: 24}}")
    bad = sorted(set(rule) - set(GUIDED_DEFAULTS))
    if bad:
        raise DesignError(f"arm {arm!r}: unknown guided keys {bad}; use "
                          f"{', '.join(GUIDED_DEFAULTS)}")
    out = {**GUIDED_DEFAULTS, **rule}
    for k, v in out.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                or v <= 0:
            raise DesignError(f"arm {arm!r}: guided {k} = {v!r} must be a positive number "
                              f"(threshold in cells/µL, check_every and earliest in weeks)")
    GuidedRule(**out)  # the one definition checks it too
    return {k: float(v) for k, v in out.items()}


def _pair(name: str, value: object, unit: str) -> tuple[float, float]:
    pair = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else ()
    if len(pair) != 2 or not all(not isinstance(x, bool) and isinstance(x, int | float)
                                 and math.isfinite(x) for x in pair) or pair[0] > pair[1]:
        raise DesignError(f"{name} = {value!r} must be [low, high] ({unit}) with low <= high")
    return float(pair[0]), float(pair[1])


def _whole(name: str, value: object, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise DesignError(f"{name} = {value!r} must be a whole number >= {lo}")
    return value


BASELINE_KEYS = ("edss_mean", "edss_sd", "edss_min", "edss_max", "age_mean", "age_sd",
                 "age_min", "age_max")
"""Keys of a design's ``baseline`` (population draws other than the calibration trial's)."""


def _baseline_defaults(disease: str) -> dict[str, float]:
    """The disease's own baseline draws (ORATORIO for PPMS, OPERA for RMS)."""
    p, demo = DISEASE, DEMOGRAPHICS[disease]
    edss = (p.edss0_ppms_mean, p.edss0_ppms_sd, p.edss0_ppms_min, p.edss0_ppms_max) \
        if disease == "PPMS" else (p.edss0_rms_mean, p.edss0_rms_sd, p.edss0_rms_min,
                                   p.edss0_rms_max)
    values = (*edss, demo.age_mean, demo.age_sd, demo.age_min, demo.age_max)
    return {k: float(v.value) for k, v in zip(BASELINE_KEYS, values, strict=True)}


@dataclass(frozen=True, slots=True)
class TrialDesign:
    """A virtual parallel-group trial.

    Parameters
    ----------
    name : str
    disease : {"RMS", "PPMS"}
    arms : sequence of Arm
        At least two; names unique.
    allocation : sequence of float
        Randomisation ratio, one per arm: whole numbers (``[2, 1]``) or fractions summing to 1
        (``[0.5, 0.5]``).
    n : int
        Patients randomised in total (split by allocation, largest remainder).
    weeks : int
        Planned follow-up in weeks; must exceed every confirmation window by a visit.
    endpoints : sequence of str
        Codes from :data:`ENDPOINTS`.
    control : str, optional
        Name of the reference arm (default: the last arm).
    visit_every : int
        EDSS visits every this many weeks (12 in OPERA and ORATORIO).
    mri_weeks : sequence of int, optional
        On-treatment MRI scan weeks (RMS lesion endpoints); default every 24 weeks.
    alpha : float
        Two-sided significance level for power.
    published : mapping, optional
        Endpoint → published values for reports and tests (see :data:`PUBLISHED`).
    weight_range : (float, float), optional
        Enrol only patients with body weight in ``[low, high)`` kg (weight-band scenarios).
    dropout : float, optional
        Dropout hazard per year, every arm (default: ``DiseaseParameters.dropout_rms`` or
        ``dropout_ppms``, assumptions).
    age_range : (float, float), optional
        Enrol only patients aged ``[low, high]`` years: the B-cell bank's patients (the
        covariates of the immune model) are drawn from the disease population by rejection
        sampling, and every arm's patients are screened on age (ocrelizumab patients carry
        their bank patient's age into the disease model, whose progression hazard depends on
        age through ``DiseaseParameters.age_beta``). Must lie within the population's age
        range (the disease's demographics, or ``baseline``): a range beyond it is refused.
    edss_range : (float, float), optional
        Enrol only patients whose observed baseline (screening) EDSS lies in ``[low, high]``
        (steps of 0.5), within the EDSS range the population is drawn in (the calibration
        trial's entry, or ``baseline``): a range beyond it is refused, not silently cut.
    prior_relapses : (int, int), optional
        RMS only: enrol only patients with ``low`` to ``high`` relapses in the ``prior_years``
        before randomisation. Pre-trial relapses are drawn Poisson with the untreated rate
        times the patient's relapse frailty (an assumption: no pre-trial history or regression
        to the mean is modelled), so the criterion selects on the frailty.
    prior_years : int
        Years before randomisation that ``prior_relapses`` counts: 1 or 2 (default 1).
    gd_baseline : bool, optional
        RMS only: True enrols only patients with at least one Gd+ lesion on the baseline scan,
        False only patients with none (baseline lesions Poisson with the untreated mean times
        the patient's lesion frailty).
    disease_duration : (float, float), optional
        Enrol only patients whose disease duration at randomisation lies in ``[low, high]``
        years (durations are gamma draws with the disease's mean and SD: ORATORIO's symptom
        duration 6.7 (4.0) years for PPMS [S14], an assumption for RMS; see
        ``DiseaseParameters.duration_*``).
    events_target : int, optional
        Event-driven follow-up: each replicate is analysed at the first EDSS visit, no
        earlier than ``min_weeks``, by which the pooled number of confirmed 12-week
        progression events (counted when confirmed) reaches ``events_target``; ``weeks`` is
        then the longest follow-up (the analysis is at ``weeks`` if the target is not reached).
        None (default): fixed follow-up of ``weeks``.
    min_weeks : int, optional
        Event-driven only: the earliest analysis week (default: the longest confirmation
        window plus one visit interval).
    walk_week : int, optional
        Week at which the timed-walk change from baseline (T25FW) is measured, at most the
        earliest analysis week (ORATORIO: 120 [S13]); default: the end of each replicate's
        analysed follow-up. A visit week (a multiple of ``visit_every``): the endpoint reads
        the walk visit series, the walks the composite endpoints use.
    baseline : mapping, optional
        PPMS or RMS population whose baseline draws differ from the calibration trial's, keys
        of :data:`BASELINE_KEYS` (missing keys: the disease's defaults): ``edss_mean``,
        ``edss_sd`` (truncated-normal weights on the scale's scores), ``edss_min``,
        ``edss_max`` (the range drawn), ``age_mean``, ``age_sd``, ``age_min``, ``age_max``
        (years). Entry criteria only narrow a population; this widens or shifts it (e.g. a
        trial of older, more disabled patients). The progression laws' references stay the
        calibration population's, so patients outside it are an extrapolation of
        ``edss_beta`` and ``age_beta``.

    Notes
    -----
    Enrolment criteria (``edss_range``, ``prior_relapses``, ``gd_baseline``) are applied by
    rejection sampling of whole patients in each replicate (see
    :func:`ocrelisim.trials.simulate_replicate`): patients are simulated with the replicate's
    generator and the first eligible ones are kept, so the enrolled patients' outcomes follow
    the model's distribution given eligibility. The model's populations are the calibration
    trials' enrolled patients (OPERA [S12], ORATORIO [S13]): criteria can narrow them, not
    widen them. A design without criteria draws exactly what it drew before.
    """

    name: str
    disease: str
    arms: tuple[Arm, ...]
    allocation: tuple[float, ...]
    n: int
    weeks: int
    endpoints: tuple[str, ...]
    control: str = ""
    visit_every: int = 12
    mri_weeks: tuple[int, ...] | None = None
    alpha: float = 0.05
    published: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    weight_range: tuple[float, float] | None = None
    dropout: float | None = None
    age_range: tuple[float, float] | None = None
    edss_range: tuple[float, float] | None = None
    prior_relapses: tuple[int, int] | None = None
    prior_years: int = 1
    gd_baseline: bool | None = None
    disease_duration: tuple[float, float] | None = None
    events_target: int | None = None
    min_weeks: int | None = None
    walk_week: int | None = None
    baseline: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if self.disease not in DISEASES:
            raise DesignError(f"disease {self.disease!r} is not known; use one of "
                              f"{', '.join(DISEASES)}")
        arms = tuple(self.arms)
        if len(arms) < 2 or not all(isinstance(a, Arm) for a in arms):
            raise DesignError("a trial needs at least two arms (Arm objects)")
        names = [a.name for a in arms]
        if len(set(names)) != len(names):
            raise DesignError(f"arm names must be unique; got {names}")
        object.__setattr__(self, "arms", arms)
        object.__setattr__(self, "allocation", self._check_allocation(len(arms)))
        _whole("n", self.n, len(arms))
        _whole("weeks", self.weeks, 1)
        _whole("visit_every", self.visit_every, 1)
        control = self.control or names[-1]
        if control not in names:
            raise DesignError(f"control {control!r} is not an arm; arms are {names}")
        object.__setattr__(self, "control", control)
        endpoints = tuple(self.endpoints)
        if not endpoints:
            raise DesignError(f"name at least one endpoint from {', '.join(ENDPOINTS)}")
        for e in endpoints:
            if e not in ENDPOINTS:
                raise DesignError(f"unknown endpoint {e!r}; use one of {', '.join(ENDPOINTS)}")
            need = ENDPOINTS[e][1]
            if need is not None and need != self.disease:
                raise DesignError(f"endpoint {e} needs disease {need}; this design is "
                                  f"{self.disease} (relapses and lesions are modelled for RMS)")
        object.__setattr__(self, "endpoints", endpoints)
        for w in self.confirm:
            if self.weeks < w + self.visit_every:
                raise DesignError(
                    f"weeks = {self.weeks} is too short for {w}-week confirmed progression: "
                    f"a progression must be seen at a visit and confirmed {w} weeks later; use "
                    f"at least {w + self.visit_every} weeks")
        if self.mri_weeks is None:  # default: every 24 weeks
            scans = tuple(range(24, self.weeks + 1, 24))
        else:
            scans = tuple(int(_whole("mri week", s, 1)) for s in self.mri_weeks)
        if list(scans) != sorted(set(scans)):
            raise DesignError(f"mri_weeks {list(scans)} must be increasing")
        if scans and scans[-1] > self.weeks:
            raise DesignError(f"MRI week {scans[-1]} is after the end of follow-up (week "
                              f"{self.weeks}); drop it from mri_weeks or lengthen weeks")
        object.__setattr__(self, "mri_weeks", scans)
        if {"GD", "T2", "NEDA"} & set(endpoints) and not [s for s in scans if s <= self.weeks]:
            raise DesignError("lesion endpoints need at least one MRI scan within the "
                              f"{self.weeks} weeks; set mri_weeks")
        if not (isinstance(self.alpha, float | int) and 0.0 < self.alpha < 1.0):
            raise DesignError(f"alpha = {self.alpha!r} must lie in (0, 1)")
        if self.dropout is not None and (
                isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float)
                or not 0.0 <= self.dropout <= 2.0):
            raise DesignError(f"dropout = {self.dropout!r} per year must lie in [0, 2]")
        if self.weight_range is not None:
            lo_hi = tuple(self.weight_range)
            if len(lo_hi) != 2 or not all(isinstance(w, int | float) and math.isfinite(w)
                                          for w in lo_hi) or not 0 < lo_hi[0] < lo_hi[1]:
                raise DesignError(f"weight_range = {self.weight_range!r} must be [low, high] kg "
                                  f"with 0 < low < high")
            object.__setattr__(self, "weight_range", (float(lo_hi[0]), float(lo_hi[1])))
        self._check_enrolment()
        self._check_baseline()
        self._check_reachable()
        self._check_events()
        if self.walk_week is not None:
            _whole("walk_week", self.walk_week, 1)
            if self.walk_week % self.visit_every:
                raise DesignError(f"walk_week = {self.walk_week} is not a visit week (visits "
                                  f"every {self.visit_every} weeks): the walk is read at a "
                                  f"visit; use a multiple of {self.visit_every}")
            if self.walk_week > self.first_analysis:
                raise DesignError(f"walk_week = {self.walk_week} is after the earliest analysis "
                                  f"(week {self.first_analysis}); every analysis must see the "
                                  f"walk: use at most {self.first_analysis}")

    def _check_events(self) -> None:
        if self.events_target is None:
            if self.min_weeks is not None:
                raise DesignError(f"min_weeks = {self.min_weeks!r} is for event-driven designs "
                                  f"only; set events_target too, or remove min_weeks")
            return
        target = _whole("events_target", self.events_target, 1)
        if target > self.n:
            raise DesignError(f"events_target = {target} exceeds the {self.n} patients; each "
                              f"patient has at most one confirmed progression event")
        earliest = max(self.confirm) + self.visit_every
        low = self.min_weeks if self.min_weeks is not None else earliest
        _whole("min_weeks", low, 1)
        if not earliest <= low <= self.weeks:
            raise DesignError(f"min_weeks = {low} must lie between {earliest} (the longest "
                              f"confirmation window plus a visit) and weeks = {self.weeks} "
                              f"(the longest follow-up)")

    @property
    def first_analysis(self) -> int:
        """Event-driven designs: the earliest analysis week (``min_weeks`` or its default);
        fixed follow-up: ``weeks``."""
        if self.events_target is None:
            return self.weeks
        if self.min_weeks is not None:
            return int(self.min_weeks)
        return max(self.confirm) + self.visit_every

    def _check_enrolment(self) -> None:
        if self.disease_duration is not None:
            lo, hi = _pair("disease_duration", self.disease_duration, "years")
            if not 0.0 <= lo <= hi <= 60.0:
                raise DesignError(f"disease_duration = {list(self.disease_duration)!r} must be "
                                  f"[low, high] years with 0 <= low <= high <= 60")
            object.__setattr__(self, "disease_duration", (lo, hi))
        if self.age_range is not None:
            lo, hi = _pair("age_range", self.age_range, "years")
            if not 18.0 <= lo <= hi <= 80.0:
                raise DesignError(f"age_range = {list(self.age_range)!r} must be [low, high] "
                                  f"years with 18 <= low <= high <= 80")
            object.__setattr__(self, "age_range", (lo, hi))
        if self.edss_range is not None:
            lo, hi = _pair("edss_range", self.edss_range, "EDSS points")
            if not 0.0 <= lo <= hi <= EDSS_MAX or not (2 * lo).is_integer() \
                    or not (2 * hi).is_integer():
                raise DesignError(f"edss_range = {list(self.edss_range)!r} must be [low, high] "
                                  f"EDSS scores in steps of 0.5 with 0 <= low <= high <= "
                                  f"{EDSS_MAX:g}, e.g. [3.0, 6.5]")
            object.__setattr__(self, "edss_range", (lo, hi))
        if self.prior_relapses is not None:
            if self.disease != "RMS":
                raise DesignError(f"prior_relapses: relapses are modelled for RMS only; this "
                                  f"design is {self.disease}; remove prior_relapses")
            pair = tuple(self.prior_relapses) if isinstance(self.prior_relapses, Sequence) \
                and not isinstance(self.prior_relapses, str) else ()
            if len(pair) != 2 or any(isinstance(k, bool) or not isinstance(k, int) or k < 0
                                     for k in pair) or pair[0] > pair[1]:
                raise DesignError(f"prior_relapses = {self.prior_relapses!r} must be [low, high] "
                                  f"whole numbers of relapses with 0 <= low <= high, e.g. "
                                  f"[1, 10]")
            object.__setattr__(self, "prior_relapses", (int(pair[0]), int(pair[1])))
        if isinstance(self.prior_years, bool) or self.prior_years not in (1, 2):
            raise DesignError(f"prior_years = {self.prior_years!r} must be 1 or 2 (years before "
                              f"randomisation that prior_relapses counts)")
        if self.gd_baseline is not None:
            if not isinstance(self.gd_baseline, bool):
                raise DesignError(f"gd_baseline = {self.gd_baseline!r} must be true (at least "
                                  f"one Gd+ lesion at baseline) or false (none)")
            if self.disease != "RMS":
                raise DesignError(f"gd_baseline: Gd+ lesions are modelled for RMS only; this "
                                  f"design is {self.disease}; remove gd_baseline")

    def _check_baseline(self) -> None:
        if self.baseline is None:
            return
        if not isinstance(self.baseline, Mapping):
            raise DesignError(f"baseline = {self.baseline!r} must be a mapping such as "
                              f"{{edss_mean: 6.0, edss_max: 8.0, age_max: 65}}")
        bad = sorted(set(self.baseline) - set(BASELINE_KEYS))
        if bad:
            raise DesignError(f"unknown baseline keys {bad}; use {', '.join(BASELINE_KEYS)}")
        for k, v in self.baseline.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise DesignError(f"baseline {k} = {v!r} must be a finite number")
        object.__setattr__(self, "baseline", {k: float(v) for k, v in self.baseline.items()})
        b = {**_baseline_defaults(self.disease), **self.baseline}
        if not 0.0 <= b["edss_min"] <= b["edss_max"] <= EDSS_MAX or not all(
                (2 * b[k]).is_integer() for k in ("edss_min", "edss_max")):
            raise DesignError(f"baseline edss_min = {b['edss_min']:g}, edss_max = "
                              f"{b['edss_max']:g} must be EDSS scores (steps of 0.5) with 0 <= "
                              f"edss_min <= edss_max <= {EDSS_MAX:g}")
        if not (0.0 < b["edss_sd"] <= 5.0 and b["edss_min"] <= b["edss_mean"] <= b["edss_max"]):
            raise DesignError(f"baseline edss_mean = {b['edss_mean']:g} must lie in [edss_min, "
                              f"edss_max] and edss_sd = {b['edss_sd']:g} in (0, 5]")
        if not 18.0 <= b["age_min"] < b["age_max"] <= 80.0 or not \
                b["age_min"] < b["age_mean"] < b["age_max"] or not 1.0 <= b["age_sd"] <= 30.0:
            raise DesignError(f"baseline ages (age_mean {b['age_mean']:g}, age_sd "
                              f"{b['age_sd']:g}, age_min {b['age_min']:g}, age_max "
                              f"{b['age_max']:g}) must satisfy 18 <= age_min < age_mean < "
                              f"age_max <= 80 and 1 <= age_sd <= 30 years")
        try:
            self.population_baseline()
        except ValueError as err:  # the demographics' own checks (a truncated mean)
            raise DesignError(f"baseline: {err}") from None

    def _check_reachable(self) -> None:
        """Entry ranges must lie within the ranges the population is drawn in: a criterion
        reaching beyond them would enrol nobody there (or only misrated patients), silently."""
        b = {**_baseline_defaults(self.disease), **(self.baseline or {})}
        for var, crit, unit in (("edss", self.edss_range, "EDSS"),
                                ("age", self.age_range, "years")):
            lo, hi = b[f"{var}_min"], b[f"{var}_max"]
            if crit is not None and (crit[0] < lo or crit[1] > hi):
                raise DesignError(
                    f"{var}_range = [{crit[0]:g}, {crit[1]:g}] reaches beyond the "
                    f"{self.disease} population's draws, [{lo:g}, {hi:g}] {unit}; nobody outside "
                    f"them can be enrolled. Draw a wider population with baseline {var}_min, "
                    f"{var}_max (and {var}_mean), or narrow {var}_range")

    def population_baseline(self) -> Baseline | None:
        """The baseline draws of :attr:`baseline` (None: the disease's own population)."""
        if self.baseline is None:
            return None
        b = {**_baseline_defaults(self.disease), **self.baseline}
        demo = DEMOGRAPHICS[self.disease]
        src = f"design {self.name!r} baseline"

        def par(key: str, template: Parameter) -> Parameter:
            return Parameter(b[key], template.unit, template.bounds, src, assumption=True)

        ages = replace(demo, age_mean=par("age_mean", demo.age_mean),
                       age_sd=par("age_sd", demo.age_sd), age_min=par("age_min", demo.age_min),
                       age_max=par("age_max", demo.age_max))
        return Baseline(b["edss_mean"], b["edss_sd"], b["edss_min"], b["edss_max"], ages)

    @property
    def screened(self) -> bool:
        """Whether the design has enrolment criteria applied per replicate (age, EDSS,
        disease duration, prior relapses, baseline Gd+ lesions)."""
        return (self.edss_range is not None or self.prior_relapses is not None
                or self.gd_baseline is not None or self.age_range is not None
                or self.disease_duration is not None)

    def _check_allocation(self, n_arms: int) -> tuple[float, ...]:
        alloc = tuple(self.allocation)
        if len(alloc) != n_arms:
            raise DesignError(f"allocation has {len(alloc)} entries for {n_arms} arms; give one "
                              f"per arm, e.g. [1, 1] or [2, 1]")
        for a in alloc:
            if isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a) \
                    or a <= 0:
                raise DesignError(f"allocation {list(alloc)}: every entry must be a positive "
                                  f"number")
        whole = all(float(a).is_integer() for a in alloc)
        if not whole and not math.isclose(sum(alloc), 1.0, abs_tol=1e-6):
            raise DesignError(f"allocation fractions {list(alloc)} sum to {sum(alloc):g}, not 1; "
                              f"give fractions that sum to 1 or a whole-number ratio like [2, 1]")
        total = float(sum(alloc))
        return tuple(float(a) / total for a in alloc)

    @property
    def confirm(self) -> tuple[int, ...]:
        """Confirmation windows (weeks) the endpoints need (12 is always computed)."""
        return tuple(sorted({12, *(int(e.lstrip("CDPIRANHT")) for e in self.endpoints
                                   if e[-2:].isdigit())}))

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.weeks, self.visit_every, tuple(self.mri_weeks or ()), self.confirm,
                        walk_week=self.walk_week)

    def disease_parameters(self, params: DiseaseParameters) -> DiseaseParameters:
        """``params`` with this design's dropout, if it sets one."""
        if self.dropout is None:
            return params
        key = "dropout_rms" if self.disease == "RMS" else "dropout_ppms"
        return params.replace(**{key: float(self.dropout)})

    def arm_sizes(self) -> tuple[int, ...]:
        """Patients per arm: ``n`` split by allocation (largest remainder, ties to first)."""
        exact = [self.n * a for a in self.allocation]
        sizes = [math.floor(x) for x in exact]
        order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - sizes[i]), i))
        for i in order[: self.n - sum(sizes)]:
            sizes[i] += 1
        return tuple(sizes)

    def with_(self, **changes: Any) -> Self:
        """A copy with changes, checked again (e.g. ``design.with_(n=400)``)."""
        return replace(self, **changes)

    def resized(self, n: int) -> Self:
        """A copy with ``n`` patients; an event-driven design keeps its events per patient
        (``events_target`` scaled by ``n / self.n``, at least 1), as a smaller or larger trial
        of the same design would plan it (power curves, preset-based designs)."""
        if self.events_target is None:
            return self.with_(n=n)
        return self.with_(n=n, events_target=max(1, round(self.events_target * n / self.n)))

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> TrialDesign:
        """A design from plain data (the YAML form); unknown keys are errors."""
        if not isinstance(spec, Mapping):
            raise DesignError("a design must be a mapping of keys (name, disease, arms, ...)")
        allowed = {"name", "disease", "arms", "allocation", "n", "weeks", "endpoints", "control",
                   "visit_every", "mri_weeks", "alpha", "weight_range", "dropout", "preset",
                   "age_range", "edss_range", "prior_relapses", "prior_years", "gd_baseline",
                   "disease_duration", "events_target", "min_weeks", "walk_week",
                   "baseline"}
        bad = sorted(set(spec) - allowed)
        if bad:
            raise DesignError(f"unknown design keys {bad}; allowed: {sorted(allowed)}")
        base: dict[str, Any] = {}
        if "preset" in spec:
            known = preset(str(spec["preset"]))
            if "n" in spec and "events_target" not in spec and isinstance(spec["n"], int) \
                    and not isinstance(spec["n"], bool) and spec["n"] >= len(known.arms):
                known = known.resized(spec["n"])  # events per patient kept
            base = {k: getattr(known, k) for k in allowed - {"preset"}}
            base["published"] = {}  # a changed preset is a new design
        data = {**base, **{k: v for k, v in spec.items() if k != "preset"}}
        missing = sorted({"disease", "arms", "allocation", "n", "weeks", "endpoints"} - set(data))
        if missing:
            raise DesignError(f"design is missing {missing}")
        arms_in = data["arms"]
        if not isinstance(arms_in, Sequence) or isinstance(arms_in, str):
            raise DesignError("arms must be a list of {name, treatment, regimen|rate_ratios}")
        arms = []
        for a in arms_in:
            if isinstance(a, Arm):
                arms.append(a)
                continue
            if not isinstance(a, Mapping):
                raise DesignError(f"arm {a!r} must be a mapping with name and treatment")
            extra = sorted(set(a) - {"name", "treatment", "regimen", "rate_ratios", "guided"})
            if extra or "name" not in a or "treatment" not in a:
                raise DesignError(f"arm {dict(a)!r}: needs name and treatment, and may have "
                                  f"regimen, guided or rate_ratios only")
            arms.append(Arm(**a))
        data["arms"] = tuple(arms)
        for key in ("allocation", "endpoints", "mri_weeks", "weight_range", "age_range",
                    "edss_range", "prior_relapses", "disease_duration"):
            if data.get(key) is not None and (isinstance(data[key], str)
                                              or not isinstance(data[key], Sequence)):
                raise DesignError(f"{key} must be a list")
            if key in data and data[key] is not None:
                data[key] = tuple(data[key])
        data.setdefault("name", "custom design")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TrialDesign:
        """A design from a YAML file (keys as in :meth:`from_dict`)."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise DesignError(f"design file {str(p)!r} does not exist")
        try:
            spec = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise DesignError(f"{p}: not valid YAML ({err})") from None
        return cls.from_dict(spec)


_IV = "iv"
ORATORIO_EVENTS = 256
"""ORATORIO's analysis event count: 12-week CDP events at the primary analysis, derived from
the published shares and arms (32.9% of 488 + 39.3% of 244 = 256.4 [S13]); the protocol's
prespecified number is not in the dossier."""
ORATORIO_MAX_WEEKS = 168
"""Longest simulated ORATORIO follow-up (weeks) for the event-driven cut-off; the dossier gives
only 'at least 120 weeks and until the prespecified number of events' [S13] (assumption)."""
_ORATORIO_REGIMEN = "300 mg IV q24w x6; 300 mg IV q24w x6 from d14"

ORATORIO_HAND_WEEKS = 144
"""ORATORIO-HAND's follow-up (weeks): "for up to 144 weeks" [T1]; median treatment duration 144
weeks [T2]. The trial could stop earlier at >= 340 progression events [T2]; its 370 composite
events (32.7% of 505 + 40.4% of 508, derived) exceed that, and the model counts 12-week EDSS
events for event-driven designs, so the preset is fixed follow-up (simplification)."""

TRIAL_SOURCES: dict[str, dict[str, str]] = {
    "T1": {
        "citation": "Giovannoni G et al. Efficacy and safety of ocrelizumab in primary "
                    "progressive multiple sclerosis, including older patients and those with "
                    "more advanced disease (ORATORIO-HAND). Lancet 2026; 407: 2195-207; "
                    "NCT04035005",
        "url": "https://neurotrials.ai/trials/immunology/oratorio-hand/",
        "gives": "adults 18-65 years, PPMS, EDSS 3.0-8.0, disease duration < 20 y (EDSS "
                 "7.0-8.0), < 15 y (5.5-6.5), < 10 y (<= 5.0), 9HPT > 25 s (mean of two "
                 "hands); ocrelizumab 600 mg IV every 24 weeks (first dose two 300 mg 14 days "
                 "apart) for up to 144 weeks (n=505) vs placebo (n=508); 12-week composite "
                 "confirmed progression (9HPT or EDSS) HR 0.70 (95% CI 0.57-0.86), p=0.0007",
    },
    "T2": {
        "citation": "ECTRIMS 2025 conference report of ORATORIO-HAND (G Giovannoni)",
        "url": "https://conferences.medicom-publishers.com/specialisation/neurology/"
               "ectrims-2025/ocrelizumab-delays-disability-progression-in-older-patients-"
               "with-ppms/",
        "gives": "1:1, every 6 months for 144 weeks or until >= 340 progression events; "
                 "primary endpoint 12-week CDP on a 20% worsening of the 9HPT or on the EDSS; "
                 "median age 48 (18-66) vs 47 (22-66) years, median EDSS 6.0 (3.0-8.0) vs 6.0 "
                 "(2.5-8.0); composite events 32.7% vs 40.4% (HR 0.70, 0.57-0.86); 9HPT "
                 "16.7% vs 24.9%; EDSS 23.0% vs 30.8%; median treatment 144 weeks",
    },
}
"""The trial presets' own sources beyond the dossier (keys ``[T1]``, ``[T2]``, ...): what
each text says, read with the project's search tools (2026-11-30). No fit uses them: they
are predictions (ORATORIO-HAND)."""

_OPERA_INFECTIONS = {
    "ocrelizumab": {"share_with_infection": 0.58, "share_with_serious": 0.013,
                    "source": "[S76] >= 1 infection, [S12] serious; OPERA I and II, 96 weeks"},
    "interferon β-1a": {"share_with_infection": 0.52, "share_with_serious": 0.029,
                        "source": "[S76] >= 1 infection, [S12] serious; OPERA I and II, "
                                  "96 weeks"},
}
"""OPERA infections by arm (the two trials together [S12][S76]), shown for every OPERA preset."""

PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "opera1": {
        "ARR": {"treated": 0.16, "control": 0.29, "estimate": 0.54, "source": "[S12]",
                "note": "−46%"},
        "GD": {"treated": 0.02, "control": 0.29, "estimate": 0.06, "source": "[S12]",
               "note": "−94%"},
        "T2": {"estimate": 0.23, "source": "[S12]", "note": "−77%"},
        "infections": _OPERA_INFECTIONS,
    },
    "opera2": {
        "ARR": {"treated": 0.16, "control": 0.29, "estimate": 0.53, "source": "[S12]",
                "note": "−47%"},
        "GD": {"treated": 0.02, "control": 0.42, "estimate": 0.05, "source": "[S12]",
               "note": "−95%"},
        "T2": {"estimate": 0.17, "source": "[S12]", "note": "−83%"},
        "infections": _OPERA_INFECTIONS,
    },
    "opera": {
        "ARR": {"treated": 0.16, "control": 0.29, "estimate": 0.535, "source": "[S12]",
                "note": "both trials 0.16 vs 0.29"},
        "CDP12": {"treated": 0.091, "control": 0.136, "estimate": 0.60, "lower": 0.45,
                  "upper": 0.81, "source": "[S12]", "note": "pooled"},
        "CDP24": {"treated": 0.069, "control": 0.105, "estimate": 0.60, "lower": 0.43,
                  "upper": 0.84, "source": "[S12]", "note": "pooled"},
        "NEDA": {"treated": 0.477, "control": 0.271, "estimate": 0.477 / 0.271,
                 "source": "[S43]",
                 "note": "mITT, 96 weeks; the IFN β-1a arm (27.1%) was used to fit "
                         "lesion_alpha; the ocrelizumab arm (47.7%) and the ratio were not"},
        "infections": _OPERA_INFECTIONS,
    },
    "oratorio": {
        "CDP12": {"treated": 0.329, "control": 0.393, "estimate": 0.76, "lower": 0.59,
                  "upper": 0.98, "source": "[S13]"},
        "CDP24": {"treated": 0.296, "control": 0.357, "estimate": 0.75, "lower": 0.58,
                  "upper": 0.98, "source": "[S13]"},
        "T25FW": {"treated": 38.9, "control": 55.1, "estimate": 38.9 / 55.1,
                  "source": "[S13]",
                  "note": "mean % increase in walk time, baseline to week 120; ratio derived "
                          "(relative reduction 29.4%)"},
        "NHPT12": {"estimate": 0.627, "source": "[S53b]",
                   "note": "≥15% increase in 9HPT time (both hands), 12-week confirmed"},
        "NHPT24": {"estimate": 0.607, "source": "[S53b]",
                   "note": "≥15% increase in 9HPT time (both hands), 24-week confirmed"},
        "infections": {
            "ocrelizumab": {"serious_per_100py": 2.97,
                            "source": "[S64] PPMS serious infections per 100 PY at the primary "
                                      "analysis"},
            "placebo": {"source": "not in the dossier"},
        },
    },
    "oratoriohand": {
        "HCDP12": {"treated": 0.327, "control": 0.404, "estimate": 0.70, "lower": 0.57,
                   "upper": 0.86, "source": "[T1][T2]",
                   "note": "primary: 12-week composite confirmed progression, EDSS or 9HPT "
                           "≥20%; a prediction (no fit uses it)"},
        "CDP12": {"treated": 0.230, "control": 0.308, "source": "[T2]",
                  "note": "EDSS component of the composite (RRR 33%, P=0.0013; no HR quoted)"},
    },
}
"""Published results by preset and endpoint: shares or rates by arm, effect estimate (rate,
hazard or risk ratio, ocrelizumab vs control) and confidence limits where the dossier has them.
Key ``infections``: by arm name, ``share_with_infection`` and ``share_with_serious`` (patients
with at least one over the trial), ``serious_per_100py``, and the ``source``."""



def _opera(key: str, title: str, n: int, endpoints: tuple[str, ...]) -> TrialDesign:
    """OPERA I/II [S12]: RMS, ocrelizumab IV (label) vs IFN β-1a 44 µg, 1:1, 96 weeks, EDSS
    every 12 weeks, MRI at weeks 24, 48 and 96."""
    return TrialDesign(
        name=title, disease="RMS",
        arms=(Arm("ocrelizumab", "ocrelizumab", _IV), Arm("interferon β-1a", "interferon")),
        allocation=(1, 1), n=n, weeks=96, endpoints=endpoints, mri_weeks=(24, 48, 96),
        published=PUBLISHED[key])


ORATORIO_HAND_BASELINE = {"edss_mean": 6.0, "edss_sd": 1.2, "edss_min": 3.0, "edss_max": 8.0,
                          "age_mean": 48.0, "age_sd": 7.9, "age_min": 18.0, "age_max": 65.0}
"""ORATORIO-HAND's baseline draws: EDSS 3.0-8.0 and ages 18-65 (entry [T1]); centres at the
published medians, EDSS 6.0 and age 48 (ocrelizumab arm) [T2]; the SDs are ORATORIO's (1.2,
7.9 [S14]): assumptions (not published)."""


def preset(name: str) -> TrialDesign:
    """A trial preset: ``opera1``, ``opera2`` (821 and 835 patients [S12]), ``opera`` (the two
    pooled, 1,656, as for the pooled disability analysis [S12]), ``oratorio-hand``
    (:func:`oratorio_hand`, a held-out prediction) or ``oratorio`` (732, 2:1,
    entry 18-55 years and EDSS 3.0-6.5, event-driven: analysed when
    :data:`ORATORIO_EVENTS` 12-week CDP events are confirmed, no earlier than week 120
    [S13][S14]). The model's PPMS population is ORATORIO's enrolled one (baseline EDSS
    4.7 (1.2), age 44.7 (7.9), symptom duration 6.7 (4.0) years [S14]), so its entry criteria
    change little; they are stated so the design reads as the trial did. ORATORIO's duration
    rule (< 10 years if EDSS <= 5.0, < 15 years above) is EDSS-dependent and not expressible as
    one range; it is not applied."""
    key = name.lower().replace(" ", "").replace("_", "").replace("-", "")
    rms_all = ("ARR", "CDP12", "CDP24", "GD", "T2")
    if key == "opera1":
        return _opera(key, "OPERA I", 821, rms_all)
    if key == "opera2":
        return _opera(key, "OPERA II", 835, rms_all)
    if key == "opera":
        return _opera(key, "OPERA I + II (pooled)", 1656, ("ARR", "CDP12", "CDP24", "NEDA"))
    if key == "oratorio":
        return TrialDesign(
            name="ORATORIO", disease="PPMS",
            arms=(Arm("ocrelizumab", "ocrelizumab", _ORATORIO_REGIMEN),
                  Arm("placebo", "placebo")),
            allocation=(2, 1), n=732, weeks=ORATORIO_MAX_WEEKS,
            endpoints=("CDP12", "CDP24", "T25FW", "NHPT12", "NHPT24", "CCDP12"),
            mri_weeks=(), published=PUBLISHED["oratorio"], age_range=(18.0, 55.0),
            edss_range=(3.0, 6.5), events_target=ORATORIO_EVENTS, min_weeks=120,
            walk_week=120)
    if key == "oratoriohand":
        return oratorio_hand()
    raise DesignError(f"unknown trial preset {name!r}; use {', '.join(PRESET_NAMES)}, or a "
                      f"design YAML file")


def oratorio_hand() -> TrialDesign:
    """ORATORIO-HAND-like design [T1][T2]: PPMS, label ocrelizumab IV (300 mg d0, d14, then
    600 mg every 24 weeks) vs placebo, 505 : 508 patients, 144 weeks fixed follow-up
    (:data:`ORATORIO_HAND_WEEKS`), visits every 12 weeks (assumption), primary endpoint HCDP12
    (EDSS or 9HPT >= 20%, 12-week confirmed).

    Entry: ages 18-65, EDSS 3.0-8.0, with the population widened to them
    (:data:`ORATORIO_HAND_BASELINE`: the model's PPMS population is ORATORIO's, 18-55 and
    3.0-6.5). Simplifications: the EDSS-dependent duration limits (< 10 y at EDSS <= 5.0, < 15 y
    at 5.5-6.5, < 20 y at 7.0-8.0) are entered as one range, 0-20 years (with
    ``duration_beta`` 0, the default, duration does not change progression); the 9HPT entry
    rule (> 25 s) and the IgG index / oligoclonal band rule are not modelled (the model has no
    baseline 9HPT time or CSF); durations are ORATORIO's (6.7 (4.0) y [S14]). The model
    extrapolates its EDSS law (``edss_beta``, calibrated on ORATORIO's 3.0-6.5) to 8.0 and
    age to 65 (``age_beta`` 0, an assumption). A prediction: no fit uses it."""
    return TrialDesign(
        name="ORATORIO-HAND", disease="PPMS",
        arms=(Arm("ocrelizumab", "ocrelizumab", _IV), Arm("placebo", "placebo")),
        allocation=(505, 508), n=1013, weeks=ORATORIO_HAND_WEEKS,
        endpoints=("HCDP12", "CDP12"), mri_weeks=(), published=PUBLISHED["oratoriohand"],
        age_range=(18.0, 65.0), edss_range=(3.0, 8.0), disease_duration=(0.0, 20.0),
        baseline=dict(ORATORIO_HAND_BASELINE))


PRESET_NAMES = ("opera", "opera1", "opera2", "oratorio", "oratorio-hand")
