"""The infusion day minute by minute: arrival, checks, premedication, the label's rate steps,
observation; what an infusion-related reaction does to the infusion; chair time over patients.

Minutes count from the patient's arrival. Source keys (``[S3]`` ...) refer to
``shared/reference/ocrelizumab-facts.md``; every time not in that file is an assumption and
says so (``DayOptions``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._types import RngLike, as_generator
from ..errors import InvalidInputError, InvalidParameterError
from ..parameters import IV_CONCENTRATION
from ..regimens import MAINTENANCE_DOSE, SC_DOSE, SHORT_RATES_600, STARTING_DOSE, IVInfusion
from ..units import HOURS_PER_DAY, MINUTES_PER_DAY

VisitKind = Literal["first", "maintenance", "short", "sc"]
VISIT_KINDS: tuple[VisitKind, ...] = ("first", "maintenance", "short", "sc")
"""first: a 300 mg infusion (infusions 1 and 2) [S3]; maintenance: 600 mg, standard rate table
[S3]; short: 600 mg, the shorter infusion [S65][S3b][S15]; sc: 920 mg Ocrevus Zunovo [S6]."""

Severity = Literal["mild", "moderate", "severe", "life-threatening"]
SEVERITIES: tuple[Severity, ...] = ("mild", "moderate", "severe", "life-threatening")

IV_OBSERVATION_MIN = 60.0
"""Observation after the end of each IV infusion, at least 1 h [S3][S19]."""
SC_FIRST_OBSERVATION_MIN = 60.0
"""Observation after the first SC injection, at least 1 h [S6]."""
SC_LATER_OBSERVATION_MIN = 15.0
"""Observation after later SC injections, at least 15 min [S6]."""
SC_INJECTION_MIN = 10.0
"""SC injection into the abdomen, about 10 minutes [S6]."""
PREMEDICATION_LEAD_MIN = 30.0
"""Premedication before the infusion or injection: methylprednisolone ≈30 min before each
infusion [S3][S5]; antihistamine 30–60 min before [S3][S5]; SC premedication ≥30 min before
[S6][S7]."""
IRR_HOLD_MIN = 30.0
"""A mild or moderate IRR: halve the rate from the rate at onset and hold it ≥30 min [S3]."""

PREMEDICATION: dict[str, tuple[tuple[str, str], ...]] = {
    "iv": (
        ("methylprednisolone 100 mg IV (or equivalent), about 30 min before", "[S3][S5]"),
        ("antihistamine (e.g. diphenhydramine), 30-60 min before", "[S3][S5]"),
        ("antipyretic (e.g. acetaminophen), optional", "[S3]"),
    ),
    "sc": (
        ("oral dexamethasone 20 mg or equivalent (EU), at least 30 min before", "[S6][S7][S6b]"),
        ("oral antihistamine (e.g. desloratadine), at least 30 min before", "[S6][S7]"),
        ("antipyretic, may be considered", "[S6b]"),
    ),
}
"""Premedication before each dose: (what and when, source)."""


@dataclass(frozen=True, slots=True)
class DayOptions:
    """Times of the infusion day that the label does not give (all assumptions, minutes).

    The defaults put premedication and preparation at about an hour, so that a standard 600 mg
    visit takes 5.5 h on site and a shorter one 4 h, as reported [S16].
    """

    checkin_min: float = 15.0  # assumption: registration, waiting room
    checks_min: float = 15.0  # assumption: vital signs, infection questions, IV cannula
    premedication_lead_min: float = PREMEDICATION_LEAD_MIN
    first_injection: bool = False  # SC: the first injection is observed >= 1 h [S6]

    def __post_init__(self) -> None:
        for name in ("checkin_min", "checks_min", "premedication_lead_min"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 600:
                raise InvalidParameterError(f"{name} = {v!r} min must be a number in "
                                            f"[0, 600] minutes")
        if self.premedication_lead_min < PREMEDICATION_LEAD_MIN:
            raise InvalidParameterError(
                f"premedication_lead_min = {self.premedication_lead_min!r} min is shorter than "
                f"the label's 30 min before the dose [S3][S6]; pass at least 30")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the visit, minutes from arrival; infusion steps carry their rate and volume."""

    name: str
    start_min: float
    end_min: float
    kind: str  # arrival, checks, premedication, infusion, pause, injection, observation
    rate_ml_h: float | None = None
    volume_ml: float | None = None
    source: str = ""

    @property
    def minutes(self) -> float:
        return self.end_min - self.start_min


@dataclass(frozen=True, slots=True)
class Reaction:
    """An infusion-related reaction: onset (minutes after the infusion started), severity, and
    minutes until it resolves (a severe reaction: the infusion is stopped that long)."""

    onset_min: float
    severity: Severity
    resolution_min: float = IRR_HOLD_MIN

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise InvalidInputError(f"severity = {self.severity!r}; use one of "
                                    f"{', '.join(SEVERITIES)}")
        for name in ("onset_min", "resolution_min"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise InvalidInputError(f"{name} = {v!r} min must be a finite number >= 0")


ReactionSampler = Callable[[VisitKind, np.random.Generator], Reaction | None]
"""Draws the reaction of one visit (or None) from the visit kind and a random generator."""


@dataclass(frozen=True, slots=True)
class InfusionDay:
    """One visit, step by step (minutes from arrival)."""

    visit: VisitKind
    dose_mg: float
    route: str
    bag_ml: float | None
    concentration_mg_ml: float
    steps: tuple[Step, ...]
    premedication: tuple[tuple[str, str], ...]
    reaction: Reaction | None = None
    completed: bool = True  # False: stopped for good (a life-threatening reaction) [S19]
    notes: tuple[str, ...] = field(default=())

    @property
    def infusion_minutes(self) -> float:
        """From the start of the infusion (or injection) to its end, pauses included."""
        dosing = [s for s in self.steps if s.kind in ("infusion", "pause", "injection")]
        return dosing[-1].end_min - dosing[0].start_min

    @property
    def chair_minutes(self) -> float:
        """Seated in the treatment chair: from the checks to the end of observation."""
        seated = [s for s in self.steps if s.kind != "arrival"]
        return seated[-1].end_min - seated[0].start_min

    @property
    def on_site_minutes(self) -> float:
        return self.steps[-1].end_min - self.steps[0].start_min

    @property
    def infused_ml(self) -> float:
        return math.fsum(s.volume_ml or 0.0 for s in self.steps if s.kind == "infusion")

    def to_frame(self) -> pd.DataFrame:
        """One row per step: name, kind, start_min, end_min, minutes, rate_ml_h, volume_ml,
        source."""
        rows = [{"name": s.name, "kind": s.kind, "start_min": s.start_min,
                 "end_min": s.end_min, "minutes": s.minutes, "rate_ml_h": s.rate_ml_h,
                 "volume_ml": s.volume_ml, "source": s.source} for s in self.steps]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: visit, dose, ``steps`` [{name, start_min, end_min, ...}], minutes."""
        return {
            "visit": self.visit, "dose_mg": self.dose_mg, "route": self.route,
            "bag_ml": self.bag_ml, "concentration_mg_per_ml": self.concentration_mg_ml,
            "steps": [{"name": s.name, "kind": s.kind, "start_min": round(s.start_min, 2),
                       "end_min": round(s.end_min, 2), "rate_ml_h": s.rate_ml_h,
                       "volume_ml": None if s.volume_ml is None else round(s.volume_ml, 3),
                       "source": s.source} for s in self.steps],
            "premedication": [{"what": w, "source": src} for w, src in self.premedication],
            "infusion_minutes": round(self.infusion_minutes, 2),
            "chair_minutes": round(self.chair_minutes, 2),
            "on_site_minutes": round(self.on_site_minutes, 2),
            "completed": self.completed, "notes": list(self.notes),
        }


def check_visit(visit: str) -> VisitKind:
    """``visit`` as a VisitKind, else InvalidInputError naming the choices."""
    for kind in VISIT_KINDS:
        if visit == kind:
            return kind
    raise InvalidInputError(f"visit = {visit!r} is not a visit type; use one of "
                            f"{', '.join(VISIT_KINDS)}")


def rate_steps(visit: VisitKind) -> tuple[tuple[float, float], ...]:
    """The label's infusion steps of an IV visit as (minutes, mL/h) pairs.

    first and maintenance: the label tables of ``IVInfusion.label`` (LABEL_RATES_300 and
    LABEL_RATES_600 [S3]); short: SHORT_RATES_600 [S65][S3b][S15], the last step running until
    the 500 mL bag is empty.
    """
    ml_h_per_mg_day = 1.0 / (IV_CONCENTRATION.value * HOURS_PER_DAY)
    if visit in ("first", "maintenance"):
        dose = STARTING_DOSE.value if visit == "first" else MAINTENANCE_DOSE.value
        inf = IVInfusion.label(0.0, dose)
        return tuple((d * MINUTES_PER_DAY, r * ml_h_per_mg_day) for d, r in inf.steps)
    if visit == "short":
        bag = MAINTENANCE_DOSE.value / IV_CONCENTRATION.value
        out: list[tuple[float, float]] = []
        given = 0.0
        for i, (ml_h, minutes) in enumerate(SHORT_RATES_600.steps):
            last = i == len(SHORT_RATES_600.steps) - 1
            m = (bag - given) / ml_h * 60.0 if last else minutes
            out.append((m, ml_h))
            given += ml_h * m / 60.0
        return tuple(out)
    raise InvalidInputError(f"visit = {visit!r} has no infusion rate table (SC is an injection)")


def _managed(steps: tuple[tuple[float, float], ...], reaction: Reaction
             ) -> tuple[list[tuple[float, float]], bool]:
    """Rate steps (minutes, mL/h; rate 0 = paused) after the label's IRR management.

    mild/moderate: the rate halves at onset for ≥30 min, then the table resumes [S3]; severe:
    stopped until resolved, restarted at half the rate at onset for 30 min, then the table
    resumes [S19b][S3]; life-threatening: stopped for good [S19]. Returns (steps, completed).
    """
    before: list[tuple[float, float]] = []
    after: list[tuple[float, float]] = []
    t = 0.0
    for m, r in steps:
        if t + m <= reaction.onset_min:
            before.append((m, r))
        elif t >= reaction.onset_min:
            after.append((m, r))
        else:  # the step in which the reaction starts
            before.append((reaction.onset_min - t, r))
            after.append((t + m - reaction.onset_min, r))
        t += m
    if not after:  # after the end of the infusion: the dose was given in full
        return before, True
    if reaction.severity == "life-threatening":
        return before, False
    rate_at_onset = after[0][1]
    out = list(before)
    if reaction.severity == "severe":
        out.append((max(reaction.resolution_min, 0.0), 0.0))
    remaining = sum(m * r for m, r in after) / 60.0  # mL left in the bag
    half = rate_at_onset / 2.0
    hold = min(IRR_HOLD_MIN, remaining / half * 60.0)
    out.append((hold, half))
    remaining -= half * hold / 60.0
    for m, r in after:  # the table resumes from the rate at onset until the bag is empty
        if remaining <= 1e-9:
            break
        give = min(m, remaining / r * 60.0)
        out.append((give, r))
        remaining -= r * give / 60.0
    return [(m, r) for m, r in out if m > 0], True


def infusion_day(visit: str, *, options: DayOptions | None = None,
                 reaction: Reaction | None = None) -> InfusionDay:
    """The visit minute by minute.

    Parameters
    ----------
    visit : {"first", "maintenance", "short", "sc"}
    options : DayOptions, optional
        Times the label does not give (assumptions).
    reaction : Reaction, optional
        An infusion-related reaction, managed as the label says (IV only).

    Returns
    -------
    InfusionDay
        Steps with start and end minutes from arrival; infusion steps carry mL/h and mL.
    """
    kind = check_visit(visit)
    opt = options or DayOptions()
    t = 0.0
    steps = [Step("arrival and check-in", t, t + opt.checkin_min, "arrival",
                  source="assumption")]
    t += opt.checkin_min
    checks = ("pre-dose checks: vital signs, active infection (delay the dose if present "
              "[S4]), IV cannula" if kind != "sc" else
              "pre-dose checks: vital signs, active infection (delay the dose if present [S4])")
    steps.append(Step(checks, t, t + opt.checks_min, "checks", source="assumption; [S4]"))
    t += opt.checks_min
    route = "sc" if kind == "sc" else "iv"
    premed = PREMEDICATION[route]
    steps.append(Step("premedication: " + "; ".join(w for w, _ in premed), t,
                      t + opt.premedication_lead_min, "premedication",
                      source=_keys(s for _, s in premed)))
    t += opt.premedication_lead_min
    if kind == "sc":
        return _sc_day(steps, t, opt, premed)
    return _iv_day(kind, steps, t, premed, reaction)


def _keys(sources: Iterable[str]) -> str:
    """Source keys of several strings, each once, in order: '[S3][S5]', '[S3]' -> '[S3][S5]'."""
    return "".join(dict.fromkeys(k for s in sources for k in re.findall(r"\[[^\]]+\]", s)))


def _sc_day(steps: list[Step], t: float, opt: DayOptions,
            premed: tuple[tuple[str, str], ...]) -> InfusionDay:
    steps.append(Step("SC injection 920 mg / 23 mL into the abdomen", t, t + SC_INJECTION_MIN,
                      "injection", volume_ml=23.0, source="[S6][S7]"))
    t += SC_INJECTION_MIN
    obs = SC_FIRST_OBSERVATION_MIN if opt.first_injection else SC_LATER_OBSERVATION_MIN
    which = "first injection" if opt.first_injection else "later injections"
    steps.append(Step(f"observation (>= {obs:g} min after {which})", t, t + obs, "observation",
                      source="[S6]"))
    return InfusionDay("sc", SC_DOSE.value, "SC", None, 40.0, tuple(steps), premed,
                       notes=("920 mg at 40 mg/mL [S6][S7]",))


def _iv_day(kind: VisitKind, steps: list[Step], t: float,
            premed: tuple[tuple[str, str], ...], reaction: Reaction | None) -> InfusionDay:
    table = rate_steps(kind)
    completed = True
    notes: list[str] = []
    if reaction is not None:
        managed, completed = _managed(table, reaction)
        notes.append(f"{reaction.severity} infusion-related reaction "
                     f"{reaction.onset_min:g} min into the infusion: " + {
                         "mild": "rate halved for >= 30 min, then increased again [S3]",
                         "moderate": "rate halved for >= 30 min, then increased again [S3]",
                         "severe": "stopped; restarted at half the rate at onset after it "
                                   "resolved [S19b]",
                         "life-threatening": "stopped for good [S19]"}[reaction.severity])
    else:
        managed = list(table)
    source = {"first": "[S3]: 300 mg in 250 mL, 30 mL/h +30 every 30 min to 180 mL/h",
              "maintenance": "[S3]: 600 mg in 500 mL, 40 mL/h +40 every 30 min to 200 mL/h",
              "short": SHORT_RATES_600.source.split(":")[0] + ": shorter 600 mg infusion"}[kind]
    for m, r in managed:
        if r == 0.0:
            steps.append(Step("infusion stopped (reaction)", t, t + m, "pause", 0.0, 0.0,
                              "[S19b]"))
        else:
            steps.append(Step(f"infusion at {r:g} mL/h", t, t + m, "infusion", r, r * m / 60.0,
                              source))
        t += m
    if completed:
        steps.append(Step("observation (>= 1 h after the infusion; reactions can occur up to "
                          "24 h later)", t, t + IV_OBSERVATION_MIN, "observation",
                          source="[S3][S19]"))
    else:
        steps.append(Step("reaction care and assessment (infusion stopped for good)", t,
                          t + IV_OBSERVATION_MIN, "observation", source="[S19]"))
    dose = STARTING_DOSE.value if kind == "first" else MAINTENANCE_DOSE.value
    bag = dose / IV_CONCENTRATION.value
    if kind == "short":
        notes.append("only for patients without a prior serious infusion reaction [S65]")
    return InfusionDay(kind, dose, "IV", bag, IV_CONCENTRATION.value, tuple(steps), premed,
                       reaction, completed, tuple(notes))


def chair_times(visit: str, n: int, sampler: ReactionSampler | None = None, *,
                rng: RngLike = None, options: DayOptions | None = None) -> pd.DataFrame:
    """Chair time of ``n`` simulated visits.

    Parameters
    ----------
    visit : {"first", "maintenance", "short", "sc"}
    n : int
        Number of visits (>= 1).
    sampler : ReactionSampler, optional
        Draws each visit's reaction. None: no reactions, every visit follows the table.
    rng : Generator, int or None

    Returns
    -------
    DataFrame
        One row per visit: ``chair_minutes``, ``infusion_minutes``, ``on_site_minutes``,
        ``reaction`` (severity or ""), ``completed``.
    """
    kind = check_visit(visit)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInputError(f"n = {n!r} visits; pass a whole number >= 1")
    gen = as_generator(rng)
    opt = options or DayOptions()
    rows = []
    base = infusion_day(kind, options=opt)
    for _ in range(n):
        reaction = sampler(kind, gen) if sampler is not None else None
        day = base if reaction is None or kind == "sc" else infusion_day(
            kind, options=opt, reaction=reaction)
        rows.append({"chair_minutes": day.chair_minutes,
                     "infusion_minutes": day.infusion_minutes,
                     "on_site_minutes": day.on_site_minutes,
                     "reaction": reaction.severity if reaction is not None else "",
                     "completed": day.completed})
    return pd.DataFrame(rows)


def chair_time_summary(table: pd.DataFrame) -> dict[str, float]:
    """n, share with a reaction, mean and 5/50/95th percentiles of chair minutes."""
    c = table["chair_minutes"].to_numpy(dtype=float)
    p5, p50, p95 = np.percentile(c, [5.0, 50.0, 95.0])
    return {"n": float(c.size), "share_with_reaction": float((table["reaction"] != "").mean()),
            "mean": float(c.mean()), "p5": float(p5), "median": float(p50), "p95": float(p95),
            "max": float(c.max())}

