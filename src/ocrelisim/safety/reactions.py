"""Infusion-related reactions (IV) and injection reactions (SC): vectorised sampling.

One row per patient and dose. For research and education only; not clinical advice.

IV occurrence (patient i, infusion number k, counting every IV infusion from the first 300 mg):
``logit p = irr_intercept + irr_first_extra·exp(-(k-1)/irr_decay_infusions) + effects + u_i``
with a patient frailty ``u_i ~ N(0, irr_frailty_sd²)`` shared by the patient's infusions
(:func:`sample_course_reactions`), so that patients who react tend to react again. IRR shares by
infusion number were not found [S18]; the parameters are fitted to the shares per trial period
(OPERA 34.3%, ORATORIO 39.9% [S18]) and the all-exposure rate (25.9 per 100 patient-years
[S20]) by ``tools/calibrate_reactions.py``. The model then gives 26.6% at infusion 1, 12.2% at
infusion 2 and about 7% from infusion 4 on. It does not reproduce ENSEMBLE PLUS's 23.1% at the
first randomised 600 mg dose [S15] (model 8.6% at infusion 3): fitting that figure instead gives
57.8 IRRs per 100 patient-years against the published 25.9, and a flat profile against the
label's "highest with the first infusion" [S19]; ENSEMBLE PLUS is used for the shorter-vs-standard
effect, the share of IRRs starting during the infusion and the severe share.

Severity: life-threatening, severe, then moderate or mild (``grade`` 4, 3, 2, 1); a severe IRR
is serious with a calibrated probability (0.3% of patients over an OPERA course [S19]). Onset:
during the infusion (uniform over it) or after it, up to 24 h [S18][S19]. Management [S3][S19]
[S19b]: mild or moderate during the infusion: half the rate at onset for 30 min, then the rate
table resumes; severe: stop, restart after ``severe_hold_minutes`` at half the rate at onset for
30 min, then the table; life-threatening: stop for good. ``extra_minutes`` is the actual minus the
planned infusion time (negative when stopped for good). SC (Ocrevus Zunovo, 920 mg): local and
systemic injection reactions, independent per injection, calibrated to OCARINA I [S11]; the
injection takes ``sc_injection_minutes`` [S6] and its duration does not change.

For chair time (the planning part), one row per patient at one visit::

    >>> from ocrelisim.safety import Visit, sample_infusion_reactions
    >>> rows = sample_infusion_reactions(Visit(3, 600.0), 1_000, rng=7)  # 1st 600 mg, 3.5 h
    >>> rows[["irr", "severity", "onset_min", "action", "extra_minutes", "actual_min"]]

``severity`` uses the planning part's words (mild, moderate, severe, life-threatening);
``onset_min`` counts from the start of the infusion (after its end: no change to the infusion);
``extra_minutes`` equals what the planning day's managed rate steps add (tested). Visit kinds:
first = ``Visit(1 or 2, 300.0)``, maintenance = ``Visit(k, 600.0)``, short =
``Visit(k, 600.0, protocol="shorter")``, sc = ``Visit(k, 920.0, route="SC")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from .._types import Bool1D, Float1D, RngLike, as_generator
from ..errors import InvalidInputError
from ..regimens import SHORT_RATES_600, IVInfusion
from ..units import MINUTES_PER_DAY
from .parameters import REACTIONS, ReactionParameters

if TYPE_CHECKING:  # pandas loads when reactions are drawn (the CLI's help stays light)
    import pandas as pd

SYMPTOMS = (
    # The label's list [S19][S67]; the 4 most common first [S18].
    "pruritus", "rash", "throat irritation", "flushing",
    "urticaria", "erythema", "oropharyngeal pain", "dyspnoea", "pyrexia", "fatigue",
    "headache", "dizziness", "nausea", "tachycardia",
    "bronchospasm", "pharyngeal or laryngeal oedema", "hypotension",  # severe or worse (ours)
    "anaphylaxis",  # life-threatening only (ours)
)
_COMMON, _MILD_END, _SEVERE_END = 4, 14, 17
SEVERITY_NAMES = ("none", "mild", "moderate", "severe", "life-threatening")
"""``grade`` 0-4 as words (the planning part's ``Reaction.severity``)."""
COLUMNS = ("patient", "number", "route", "dose_mg", "protocol", "planned_min", "irr", "grade",
           "severity", "serious", "during", "onset_min", "symptoms", "action", "extra_minutes",
           "actual_min", "completed", "local", "systemic")
"""Columns of every table returned here, in order."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One dose: which infusion (or injection) it is, amount, route, protocol, premedication.

    ``number`` counts this route's doses from 1 (IV: infusion 1 is the first 300 mg, infusion 2
    the second, infusion 3 the first 600 mg).
    """

    number: int
    dose_mg: float
    route: Literal["IV", "SC"] = "IV"
    protocol: Literal["standard", "shorter"] = "standard"
    premedicated: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise InvalidInputError(f"visit.number = {self.number!r}; give the dose's number "
                                    "(1 = first infusion or injection)")
        allowed = {"IV": (300.0, 600.0), "SC": (920.0,)}.get(self.route)
        if allowed is None:
            raise InvalidInputError(f"visit.route = {self.route!r}; use IV or SC")
        if self.dose_mg not in allowed:
            raise InvalidInputError(f"visit.dose_mg = {self.dose_mg!r} mg {self.route}; label "
                                    f"doses are {' or '.join(f'{d:g}' for d in allowed)} mg")
        if self.protocol not in ("standard", "shorter"):
            raise InvalidInputError(f"visit.protocol = {self.protocol!r}; use standard or "
                                    "shorter")
        if self.protocol == "shorter" and (self.route, self.dose_mg) != ("IV", 600.0):
            raise InvalidInputError("visit.protocol = 'shorter' exists only for 600 mg IV "
                                    "[S65][S3b]; use standard")

    def steps(self) -> tuple[tuple[float, float], ...]:
        """Planned rate steps as (minutes, amount per minute) pairs; SC: one step."""
        if self.route == "SC":
            minutes = REACTIONS.sc_injection_minutes.value
            return ((minutes, self.dose_mg / minutes),)
        if self.protocol == "shorter":  # mL/h for minutes [S65]: amounts in mL
            return tuple((m, r / 60.0) for r, m in SHORT_RATES_600.steps)
        dose = IVInfusion.label(0.0, self.dose_mg)
        return tuple((d * MINUTES_PER_DAY, r / MINUTES_PER_DAY) for d, r in dose.steps)

    @property
    def planned_minutes(self) -> float:
        """Planned duration of the infusion or injection, min."""
        return sum(m for m, _ in self.steps())


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InvalidInputError(f"n = {n!r}; give a whole number of patients >= 1")
    return int(n)


def irr_probability(visit: Visit, frailty: Float1D,
                    params: ReactionParameters = REACTIONS) -> Float1D:
    """Probability of an IRR at this IV infusion for each patient, shape (n_patients,)."""
    if visit.route != "IV":
        raise InvalidInputError("irr_probability: visit.route must be IV (SC: injection "
                                "reactions, see sample_infusion_reactions)")
    k = visit.number
    eta = (params.irr_intercept.value
           + params.irr_first_extra.value * math.exp(-(k - 1) / params.irr_decay_infusions.value)
           + params.irr_log_or_shorter.value * (visit.protocol == "shorter")
           + params.irr_log_or_later_300.value * (visit.dose_mg == 300.0 and k > 2)
           + params.irr_log_or_no_steroid.value * (not visit.premedicated))
    return 1.0 / (1.0 + np.exp(-(eta + np.asarray(frailty, dtype=np.float64))))


def _grades(irr: Bool1D, u: Float1D, params: ReactionParameters) -> np.ndarray:
    lt, sev, mod = (params.p_life_threatening.value, params.p_severe.value,
                    params.p_moderate.value)
    grade = np.where(u < lt, 4, np.where(u < lt + sev, 3,
                                         np.where(u < lt + sev + (1.0 - lt - sev) * mod, 2, 1)))
    return np.where(irr, grade, 0)


def _symptoms(grade: np.ndarray, rng: np.random.Generator,
              params: ReactionParameters) -> np.ndarray:
    """Label symptoms per reaction (Gumbel top-k without replacement), '; '-joined; drawn for
    the patients with a reaction only."""
    out = np.full(grade.size, "", dtype=object)
    rows = np.flatnonzero(grade > 0)
    g = grade[rows]
    weights = np.ones(len(SYMPTOMS))
    weights[:_COMMON] = 3.0
    allowed = np.ones((rows.size, len(SYMPTOMS)), dtype=bool)
    allowed[:, _MILD_END:_SEVERE_END] = (g >= 3)[:, None]
    allowed[:, _SEVERE_END:] = (g >= 4)[:, None]
    keys = np.where(allowed, np.log(rng.random((rows.size, len(SYMPTOMS)))) / weights, -np.inf)
    count = 1 + rng.poisson(params.extra_symptoms_mean.value, size=rows.size)
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    chosen = (rank < count[:, None]) & allowed
    text = np.full(rows.size, "", dtype=object)
    for j, name in enumerate(SYMPTOMS):  # a loop over the 18 symptoms, vectorised over patients
        col = chosen[:, j]
        text[col] = np.where(text[col] == "", name, text[col] + "; " + name)
    out[rows] = text
    return out


def _extra_minutes(visit: Visit, onset: Float1D, grade: np.ndarray, during: Bool1D,
                   params: ReactionParameters) -> tuple[Float1D, Bool1D]:
    """Actual minus planned infusion minutes under the label's management, and completion."""
    steps = visit.steps()
    minutes = np.array([m for m, _ in steps])
    rates = np.array([r for _, r in steps])
    t_knots = np.concatenate([[0.0], np.cumsum(minutes)])
    v_knots = np.concatenate([[0.0], np.cumsum(minutes * rates)])
    total_t, total_v = t_knots[-1], v_knots[-1]
    t = np.clip(onset, 0.0, total_t)
    step = np.clip(np.searchsorted(t_knots, t, side="right") - 1, 0, len(steps) - 1)
    half = rates[step] / 2.0
    left = total_v - np.interp(t, t_knots, v_knots)
    hold = np.minimum(params.slow_minutes.value, left / half)
    given_in_hold = half * hold
    # the table resumes from the onset; the last `given_in_hold` of it is not needed
    saved = total_t - np.interp(total_v - given_in_hold, v_knots, t_knots)
    extra = hold - saved + np.where(grade == 3, params.severe_hold_minutes.value, 0.0)
    stopped = during & (grade == 4)
    extra = np.where(stopped, t - total_t, extra)
    extra = np.where(during & (grade > 0), extra, 0.0)
    return extra, ~stopped


def _iv_rows(visit: Visit, frailty: Float1D, rng: np.random.Generator,
             params: ReactionParameters) -> dict[str, np.ndarray]:
    n = frailty.size
    u_irr, u_grade, u_serious, u_during, u_onset = rng.random((5, n))
    irr = u_irr < irr_probability(visit, frailty, params)
    grade = _grades(irr, u_grade, params)
    serious = (grade == 4) | ((grade == 3) & (u_serious < params.p_serious_if_severe.value))
    p_during = (params.p_during_shorter if visit.protocol == "shorter"
                else params.p_during_standard).value
    during = irr & (u_during < p_during)
    planned = visit.planned_minutes
    after = params.onset_after_max_hours.value * 60.0
    onset = np.where(during, u_onset * planned, planned + u_onset * after)
    extra, completed = _extra_minutes(visit, onset, grade, during, params)
    action = np.select([~during, grade <= 2, grade == 3], ["none", "slowed", "interrupted"],
                       "stopped")
    return {"irr": irr, "grade": grade, "serious": serious, "during": during,
            "onset_min": np.where(irr, onset, np.nan), "symptoms": _symptoms(grade, rng, params),
            "action": action, "extra_minutes": extra, "completed": completed,
            "local": np.zeros(n, dtype=bool), "systemic": irr}


def _sc_rows(visit: Visit, n: int, rng: np.random.Generator,
             params: ReactionParameters) -> dict[str, np.ndarray]:
    u_local, u_systemic, u_grade, u_serious, u_onset = rng.random((5, n))
    local = u_local < params.sc_p_local.value
    systemic = u_systemic < params.sc_p_systemic.value
    irr = local | systemic
    grade = _grades(irr, u_grade, params)
    serious = (grade == 4) | ((grade == 3) & (u_serious < params.p_serious_if_severe.value))
    onset = visit.planned_minutes + u_onset * params.onset_after_max_hours.value * 60.0
    return {"irr": irr, "grade": grade, "serious": serious, "during": np.zeros(n, dtype=bool),
            "onset_min": np.where(irr, onset, np.nan), "symptoms": _symptoms(grade, rng, params),
            "action": np.full(n, "none", dtype=object), "extra_minutes": np.zeros(n),
            "completed": np.ones(n, dtype=bool), "local": local, "systemic": systemic}


def _table(visit: Visit, rows: dict[str, np.ndarray], patients: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    n = patients.size
    planned = visit.planned_minutes
    data = {
        "patient": patients, "number": np.full(n, visit.number), "route": visit.route,
        "dose_mg": np.full(n, float(visit.dose_mg)), "protocol": visit.protocol,
        "planned_min": np.full(n, planned), **rows,
        "severity": np.asarray(SEVERITY_NAMES, dtype=object)[rows["grade"]],
        "actual_min": planned + rows["extra_minutes"],
    }
    return pd.DataFrame({c: data[c] for c in COLUMNS})


def sample_infusion_reactions(visit: Visit, n: int, rng: RngLike = None, *,
                              frailty: Float1D | None = None,
                              params: ReactionParameters = REACTIONS) -> pd.DataFrame:
    """Reactions of ``n`` patients at one visit: a table, one row per patient.

    Parameters
    ----------
    visit : Visit
        The dose (IV infusion number, dose, protocol, premedication; or the SC injection).
    n : int
        Number of patients.
    rng : numpy.random.Generator, int or None
        Random source (a seed builds a Generator).
    frailty : array, shape (n,), optional
        Patients' IRR frailty (log-odds); drawn from N(0, irr_frailty_sd²) when omitted, which
        gives the marginal per-infusion rate. Pass the same array for a patient's later visits
        (or use :func:`sample_course_reactions`).
    params : ReactionParameters
        Model parameters (default :data:`~ocrelisim.safety.parameters.REACTIONS`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``irr`` (bool), ``grade`` 0-4 and ``severity`` (none, mild,
        moderate, severe, life-threatening), ``serious``, ``during`` (onset during the infusion),
        ``onset_min`` (minutes from the start of the dose; NaN without a reaction),
        ``symptoms`` ('; '-joined label terms), ``action`` (none, slowed, interrupted,
        stopped), ``planned_min``, ``extra_minutes`` and ``actual_min`` (the infusion's actual
        duration, min), ``completed`` (False: stopped for good), ``local``/``systemic`` (SC).

    Raises
    ------
    InvalidInputError
        ``n`` < 1, or ``frailty`` of the wrong shape or not finite.
    """
    n = _check_n(n)
    gen = as_generator(rng)
    if visit.route == "SC":
        return _table(visit, _sc_rows(visit, n, gen, params), np.arange(n))
    if frailty is None:
        frailty = gen.normal(0.0, params.irr_frailty_sd.value, size=n)
    frailty = np.asarray(frailty, dtype=np.float64)
    if frailty.shape != (n,) or not np.all(np.isfinite(frailty)):
        raise InvalidInputError(f"frailty: expected {n} finite values, got shape "
                                f"{frailty.shape}")
    return _table(visit, _iv_rows(visit, frailty, gen, params), np.arange(n))


def sample_course_reactions(visits: Sequence[Visit], n: int, rng: RngLike = None, *,
                            params: ReactionParameters = REACTIONS) -> pd.DataFrame:
    """Reactions of ``n`` patients over a course of visits (one frailty per patient).

    Returns the rows of :func:`sample_infusion_reactions` for every visit, in visit order
    (``n * len(visits)`` rows).
    """
    n = _check_n(n)
    if not visits:
        raise InvalidInputError("visits: give at least one Visit")
    gen = as_generator(rng)
    frailty = gen.normal(0.0, params.irr_frailty_sd.value, size=n)
    tables = [sample_infusion_reactions(v, n, gen, frailty=frailty, params=params)
              for v in visits]  # a loop over visits, vectorised over patients
    import pandas as pd

    return pd.concat(tables, ignore_index=True)


def label_course(doses: int, *, shorter_from: int | None = None) -> tuple[Visit, ...]:
    """The label IV course: infusions 300, 300, then ``doses - 1`` × 600 mg [S3][S4].

    ``doses`` counts doses (the two starting infusions are dose 1); with ``shorter_from`` the
    600 mg doses from that dose number on use the shorter infusion [S65].
    """
    if isinstance(doses, bool) or not isinstance(doses, int) or doses < 1:
        raise InvalidInputError(f"doses = {doses!r}; give a whole number >= 1")
    visits = [Visit(1, 300.0), Visit(2, 300.0)]
    for dose in range(2, doses + 1):
        shorter = shorter_from is not None and dose >= shorter_from
        visits.append(Visit(dose + 1, 600.0, protocol="shorter" if shorter else "standard"))
    return tuple(visits)
