"""A patient's calendar: every dose by the label's rules, and the visits around the doses.

Dose dates follow the calendar-month rules of :mod:`ocrelisim.regimens._calendar` (the one
definition shared with safety and forecasting): IV day 0 and day 14 (300 mg), then 600 mg every
6 calendar months from the first infusion (or every 24 weeks, an option); SC 920 mg every 6
months [S3][S4][S6]; at least 5 calendar months between doses [S3][S4][S87]; a missed dose is
given as soon as possible and the schedule resets from it [S3][S4].
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from ..errors import InvalidInputError, RegimenError
from ..regimens._calendar import (
    MAINTENANCE_MONTHS,
    MIN_INTERVAL_MONTHS,
    SECOND_INFUSION_DAYS,
    add_months,
    earliest_next_dose,
    interval_allowed,
)
from ..regimens._guided import GuidedRule, next_guided_date
from ._day import DayOptions, VisitKind, infusion_day
from ._switching import PriorTherapy, gap_risk, prior_therapy

Interval = Literal["6 months", "24 weeks"]
INTERVALS: tuple[Interval, ...] = ("6 months", "24 weeks")
"""Maintenance interval: 6 calendar months (label) or 24 weeks (the label's equivalent) [S3][S4]."""
Label = Literal["US", "EU"]

CONTRACEPTION_MONTHS: dict[str, tuple[int, str]] = {"US": (6, "[S19][S69]"),
                                                    "EU": (12, "[S66][S68]")}
"""Contraception during treatment and this many months after the last dose."""
LIVE_VACCINE_WEEKS = 4
"""US: live or live-attenuated vaccines at least 4 weeks before the start [S20b][S4]."""
NONLIVE_VACCINE_WEEKS = 2
"""US: non-live vaccines at least 2 weeks before the start, when possible [S20b]."""
EU_VACCINE_WEEKS = 6
"""EU leaflet: any vaccinations at least 6 weeks before starting [S66]."""
SERIOUS_REACTIONS = ("severe", "life-threatening")


@dataclass(frozen=True, slots=True)
class PastDose:
    """An ocrelizumab dose already given (the safety record's ``previous_doses`` fields)."""

    date: dt.date
    route: str  # "IV" or "SC"
    dose_mg: float
    reaction: str | None = None  # worst reaction: none, mild, moderate, severe, ...


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Choices of the plan; times without a source are assumptions and say so."""

    interval: Interval = "6 months"
    maintenance_doses: int = 4  # 600 mg / 920 mg doses planned after the start
    label: Label = "US"
    at: dt.time = dt.time(8, 0)  # assumption: dose appointments at 08:00 local time
    shorter_infusion: bool = False  # 600 mg by the shorter infusion [S65]
    screening_weeks: int = 8  # assumption: screening 8 weeks before the first dose
    predose_days: int = 7  # assumption: tests 7 days before each 600 mg / 920 mg dose
    check_minutes: int = 30  # assumption: a screening or pre-dose visit takes 30 min

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise InvalidInputError(f"interval = {self.interval!r}; use '6 months' (label, "
                                    f"default) or '24 weeks'")
        if self.label not in CONTRACEPTION_MONTHS:
            raise InvalidInputError(f"label = {self.label!r}; use US or EU")
        for name, lo, hi in (("maintenance_doses", 0, 100), ("screening_weeks", 6, 52),
                             ("predose_days", 0, 60), ("check_minutes", 5, 480)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise InvalidInputError(f"{name} = {v!r} must be a whole number in [{lo}, {hi}]")


@dataclass(frozen=True, slots=True)
class Visit:
    """One calendar entry. Timed (``time`` set, ``minutes`` long, local time of the plan's
    zone) or all-day from ``date`` to ``end`` inclusive."""

    date: dt.date
    kind: str  # dose, screening, tests, vaccination, contraception, switch
    title: str
    purpose: str
    source: str
    time: dt.time | None = None
    minutes: float = 0.0
    end: dt.date | None = None
    dose_mg: float | None = None
    route: str | None = None
    visit: VisitKind | None = None

    @property
    def is_dose(self) -> bool:
        return self.kind == "dose"


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule the input breaks or a note the plan must carry: rule id, message, source."""

    rule: str
    message: str
    source: str
    severity: Literal["warning", "info"] = "warning"


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    """When to give the first dose after another therapy, and what the evidence says."""

    therapy: PriorTherapy
    last_dose: dt.date
    earliest: dt.date | None
    latest: dt.date | None
    start: dt.date
    gap_days: int
    risk: str | None


@dataclass(frozen=True, slots=True)
class PatientPlan:
    """A patient's plan: visits sorted by date, findings, the switch (if any), the time zone."""

    route: str
    tz: str
    options: PlanOptions
    visits: tuple[Visit, ...]
    findings: tuple[Finding, ...] = ()
    switch: SwitchPlan | None = None
    history: tuple[PastDose, ...] = field(default=())

    @property
    def doses(self) -> tuple[Visit, ...]:
        return tuple(v for v in self.visits if v.is_dose)

    def to_frame(self) -> pd.DataFrame:
        """One row per visit: date, time, end, minutes, kind, title, purpose, source."""
        return pd.DataFrame([{
            "date": v.date.isoformat(), "time": v.time.strftime("%H:%M") if v.time else "",
            "end": v.end.isoformat() if v.end else "", "minutes": v.minutes, "kind": v.kind,
            "title": v.title, "purpose": v.purpose, "source": v.source,
            "timezone": self.tz} for v in self.visits])


def check_timezone(tz: str) -> ZoneInfo:
    """The IANA zone ``tz`` (e.g. Europe/Berlin), else InvalidInputError."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"time zone = {tz!r} is not an IANA zone; give one such as "
                                f"Europe/Berlin, America/New_York or UTC") from None


def check_history(history: Sequence[PastDose], plan_date: dt.date) -> tuple[
        tuple[PastDose, ...], tuple[Finding, ...]]:
    """History sorted by date; impossible entries raise, doses too close become findings."""
    doses = tuple(sorted(history, key=lambda d: d.date))
    for i, d in enumerate(doses):
        if d.route not in ("IV", "SC"):
            raise RegimenError(f"history[{i}].route = {d.route!r}; use IV or SC")
        allowed = (300.0, 600.0) if d.route == "IV" else (920.0,)
        if d.dose_mg not in allowed:
            raise RegimenError(f"history[{i}].dose_mg = {d.dose_mg!r} mg {d.route} is not a "
                               f"label dose ({' or '.join(f'{a:g}' for a in allowed)} mg) "
                               f"[S3][S4][S6]")
        if d.date > plan_date:
            raise InvalidInputError(f"history dose on {d.date.isoformat()} is after the plan "
                                    f"date {plan_date.isoformat()}; a given dose cannot be in "
                                    f"the future")
        if i and d.date == doses[i - 1].date:
            raise InvalidInputError(f"history lists two doses on {d.date.isoformat()}; give "
                                    f"each dose once")
    return doses, tuple(_spacing_findings(doses))


def _spacing_findings(doses: tuple[PastDose, ...]) -> list[Finding]:
    out = []
    for prev, cur in itertools.pairwise(doses):
        if _is_second_starting(prev, cur, doses):
            if (cur.date - prev.date).days < SECOND_INFUSION_DAYS:
                out.append(Finding(
                    "second-infusion-14-days",
                    f"second 300 mg infusion on {cur.date.isoformat()} is "
                    f"{(cur.date - prev.date).days} days after the first "
                    f"({prev.date.isoformat()}); the label gives it 2 weeks later",
                    "[S3][S4]"))
        elif not interval_allowed(prev.date, cur.date):
            out.append(Finding(
                "min-interval-5-months",
                f"dose on {cur.date.isoformat()} is less than {MIN_INTERVAL_MONTHS} calendar "
                f"months after the dose on {prev.date.isoformat()} (earliest allowed "
                f"{earliest_next_dose(prev.date).isoformat()}); the label asks for at least 5 "
                f"months between doses", "[S3][S4][S87]"))
    return out


def _is_second_starting(prev: PastDose, cur: PastDose, doses: tuple[PastDose, ...]) -> bool:
    """cur is the second 300 mg of the split starting dose (the 2nd dose, both 300 mg IV)."""
    return (doses.index(prev) == 0 and prev.dose_mg == 300.0 and cur.dose_mg == 300.0
            and prev.route == cur.route == "IV")


def _maintenance_after(base: dt.date, k: int, options: PlanOptions) -> dt.date:
    """The k-th maintenance date after ``base``: 6k calendar months or 24k weeks [S3][S4]."""
    if options.interval == "24 weeks":
        return base + dt.timedelta(weeks=24 * k)
    return add_months(base, MAINTENANCE_MONTHS * k)


def _guided(due: dt.date, last: dt.date, crossings: Sequence[dt.date] | None,
            notes: list[Finding], rule: GuidedRule | None) -> dt.date:
    """B-cell-guided hook (:func:`ocrelisim.regimens.next_guided_date`): the first CD19
    crossing after ``last`` (with ``rule``, the first check on or after it), never before
    5 months."""
    if crossings is None:
        return due
    guided = next_guided_date(crossings, last, rule)
    if guided is None:
        notes.append(Finding("bcell-guided", f"no CD19 crossing given after "
                             f"{last.isoformat()}; the label interval is used",
                             "[S32]-[S35]", "info"))
        return due
    return guided


def dose_dates(plan_date: dt.date, route: str, history: tuple[PastDose, ...],
               options: PlanOptions, bcell_crossings: Sequence[dt.date] | None = None,
               guided_rule: GuidedRule | None = None
               ) -> tuple[list[tuple[dt.date, float, str, str]], list[Finding]]:
    """Planned doses from ``plan_date`` on: (date, mg, route, note) and findings.

    Without history the first dose is on ``plan_date``. With history the schedule continues
    from the last dose; a dose due before ``plan_date`` was missed and is planned on
    ``plan_date`` (as soon as possible), the schedule resetting from it [S3][S4].
    """
    notes: list[Finding] = []
    out: list[tuple[dt.date, float, str, str]] = []
    big = (600.0, "IV") if route == "iv" else (920.0, "SC")
    if not history:
        if route == "iv":
            out.append((plan_date, 300.0, "IV", "first 300 mg infusion [S3][S4]"))
            second = plan_date + dt.timedelta(days=SECOND_INFUSION_DAYS)
            out.append((second, 300.0, "IV", "second 300 mg infusion, 2 weeks later [S3][S4]"))
        else:
            out.append((plan_date, 920.0, "SC", "first SC dose; no split starting dose [S6]"))
        anchor = plan_date  # the first maintenance dose: 6 months after infusion 1 [S3][S4]
    else:
        last = history[-1]
        anchor = last.date
        if len(history) == 1 and last.route == "IV" and last.dose_mg == 300.0:
            due = last.date + dt.timedelta(days=SECOND_INFUSION_DAYS)
            given = max(due, plan_date)
            note = ("second 300 mg infusion [S3][S4]" if given == due else
                    f"second 300 mg infusion, due {due.isoformat()}: missed, given as soon "
                    f"as possible, schedule reset from it [S3][S4]")
            out.append((given, 300.0, "IV", note))
            anchor = last.date if given == due else given
        elif len(history) == 2 and _is_second_starting(history[0], last, history) and (
                last.date - history[0].date).days <= SECOND_INFUSION_DAYS:
            anchor = history[0].date  # on time: 6 months after infusion 1 [S3][S4]
    last_date = out[-1][0] if out else (history[-1].date if history else anchor)
    base, k = anchor, 0  # doses on time count from one base date, so that month ends
    for _ in range(options.maintenance_doses):  # do not drift (31 Aug -> 28 Feb -> 31 Aug)
        k += 1
        scheduled = _maintenance_after(base, k, options)
        label_due = max(scheduled, earliest_next_dose(last_date))
        due = _guided(label_due, last_date, bcell_crossings, notes, guided_rule)
        note = (f"{big[0]:g} mg {big[1]} every {options.interval} [S3][S4]" if due == label_due
                else f"{big[0]:g} mg {big[1]}, B-cell guided (CD19 crossing), >= 5 months "
                     f"after the previous dose [S3][S4]")
        if due < plan_date:
            note = (f"{big[0]:g} mg {big[1]} due {due.isoformat()}: missed, given as soon as "
                    f"possible, schedule reset from it [S3][S4]")
            due = plan_date
        out.append((due, big[0], big[1], note))
        if due != scheduled:  # moved: the schedule resets from the dose given [S3][S4]
            base, k = due, 0
        last_date = due
    return out, notes


def plan_patient(start: dt.date | None, route: str, *, history: Sequence[PastDose] = (),
                 prior: str | None = None, prior_last_dose: dt.date | None = None,
                 tz: str = "UTC", options: PlanOptions | None = None,
                 bcell_crossings: Sequence[dt.date] | None = None,
                 guided_rule: GuidedRule | None = None) -> PatientPlan:
    """A patient's calendar from a start date, a route and a history.

    Parameters
    ----------
    start : date or None
        Without history: the first dose. With history: the plan date (doses due before it were
        missed and are planned on it). None only with ``prior``: the plan proposes the start.
    route : {"iv", "sc"}
    history : sequence of PastDose
        Ocrelizumab doses already given. Doses closer than the label allows become findings.
    prior, prior_last_dose : str, date
        The therapy before ocrelizumab and its last dose (switching plan and evidence).
    tz : str
        IANA time zone of the clinic; appointment times are local.
    options : PlanOptions
    bcell_crossings : sequence of date, optional
        Hook for B-cell-guided dosing: dates a measured or predicted CD19 count crosses the
        redosing threshold; each maintenance dose moves to the first crossing after the
        previous dose, never earlier than 5 months after it.
    guided_rule : GuidedRule, optional
        With ``bcell_crossings``: doses fall on the rule's monitoring checks (the first check
        on or after the crossing, :func:`ocrelisim.regimens.next_guided_date`); without it
        the crossing dates are the checks.

    Returns
    -------
    PatientPlan
    """
    opt = options or PlanOptions()
    route = _check_route(route)
    check_timezone(tz)
    switch, findings = _switch(prior, prior_last_dose, start, bool(history))
    plan_date = start if start is not None else (switch.start if switch else None)
    if plan_date is None:
        raise InvalidInputError("start is missing; give the first dose date (YYYY-MM-DD), or "
                                "a prior therapy and its last dose so that the plan proposes "
                                "one")
    doses, spacing = check_history(history, plan_date)
    findings += spacing
    if opt.shorter_infusion and any(d.reaction in SERIOUS_REACTIONS for d in doses):
        findings.append(Finding("short-infusion-no-serious-irr", "the shorter infusion is only "
                                "for patients without a prior serious infusion reaction; the "
                                "standard infusion is planned", "[S65]"))
        opt = replace(opt, shorter_infusion=False)
    planned, notes = dose_dates(plan_date, route, doses, opt, bcell_crossings, guided_rule)
    findings += notes
    visits = _dose_visits(planned, doses, opt)
    if not doses:
        visits += _start_visits(planned[0][0], opt)
    visits += _tests_visits(planned, doses, opt)
    visits.append(_contraception(planned[-1][0], opt))
    if switch is not None:
        visits.append(Visit(switch.last_dose, "switch", f"Last dose of {switch.therapy.name}",
                            "switching: " + switch.therapy.guidance, switch.therapy.source))
    visits.sort(key=lambda v: (v.date, v.time or dt.time(0, 0), v.kind))
    return PatientPlan(route.upper(), tz, opt, tuple(visits), tuple(findings), switch, doses)


def _check_route(route: str) -> str:
    r = str(route).strip().lower()
    if r not in ("iv", "sc"):
        raise InvalidInputError(f"route = {route!r}; use iv or sc")
    return r


def _switch(prior: str | None, last: dt.date | None, start: dt.date | None,
            has_history: bool) -> tuple[SwitchPlan | None, list[Finding]]:
    if prior is None:
        if last is not None:
            raise InvalidInputError("prior_last_dose is given without a prior therapy; name "
                                    "the therapy (e.g. natalizumab)")
        return None, []
    therapy = prior_therapy(prior)
    if last is None:
        raise InvalidInputError(f"prior therapy {therapy.name!r} needs the date of its last "
                                f"dose (prior_last_dose, YYYY-MM-DD)")
    if has_history:
        raise InvalidInputError("a prior therapy and an ocrelizumab history were both given; "
                                "a switch plan is for the first ocrelizumab dose: leave one out")
    earliest, latest = therapy.earliest(last), therapy.latest(last)
    findings: list[Finding] = []
    if start is None:
        if earliest is None:
            raise InvalidInputError(f"after {therapy.name} the evidence gives no fixed interval "
                                    f"({therapy.guidance}); give the start date")
        start = earliest
    if start <= last:
        raise InvalidInputError(f"start {start.isoformat()} is not after the last "
                                f"{therapy.name} dose ({last.isoformat()}); give a later start")
    if (earliest is not None and start < earliest) or (latest is not None and start > latest):
        window = (f"{earliest.isoformat() if earliest else 'any time'} to "
                  f"{latest.isoformat() if latest else 'open'}")
        findings.append(Finding("switch-window", f"start {start.isoformat()} is outside the "
                                f"window the evidence suggests after {therapy.name} ({window}): "
                                f"{therapy.guidance}", therapy.source))
    gap = (start - last).days
    return SwitchPlan(therapy, last, earliest, latest, start, gap, gap_risk(therapy, gap)), findings


def _dose_visits(planned: list[tuple[dt.date, float, str, str]], history: tuple[PastDose, ...],
                 opt: PlanOptions) -> list[Visit]:
    out = []
    sc_before = any(d.route == "SC" for d in history)
    n0 = len(history)
    for k, (date, mg, route, note) in enumerate(planned, start=n0 + 1):
        kind: VisitKind
        if route == "SC":
            kind = "sc"
            day = infusion_day("sc", options=DayOptions(first_injection=not sc_before))
            sc_before = True
        else:
            kind = "first" if mg == 300.0 else ("short" if opt.shorter_infusion else
                                                 "maintenance")
            day = infusion_day(kind)
        how = (f"{day.bag_ml:g} mL bag at {day.concentration_mg_ml:g} mg/mL, infusion "
               f"{_hm(day.infusion_minutes)}" if route == "IV" else "injection ≈10 min [S6]")
        obs = [s for s in day.steps if s.kind == "observation"][-1]
        eu = (" Your doctor may ask you to stop blood-pressure medicines 12 h before the "
              "infusion [S66]." if opt.label == "EU" and route == "IV" else "")
        purpose = (f"Dose {k}: ocrelizumab {mg:g} mg {route} ({note}). {how}; about "
                   f"{_hm(day.on_site_minutes)} on site. Premedication: "
                   + "; ".join(w for w, _ in day.premedication)
                   + f". Then {obs.name}.{eu} Plan for the whole visit (bring snacks).")
        title = f"Ocrelizumab {mg:g} mg {route}" + (" (shorter infusion)" if kind == "short"
                                                     else "") + f" - dose {k}"
        source = "[S3][S4]" if route == "IV" else "[S6][S7]"
        out.append(Visit(date, "dose", title, purpose, source, opt.at,
                         day.on_site_minutes, None, mg, route, kind))
    return out


def _hm(minutes: float) -> str:
    m = math.ceil(minutes - 1e-9)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _start_visits(first: dt.date, opt: PlanOptions) -> list[Visit]:
    """Screening and vaccination windows before the first dose."""
    screen = first - dt.timedelta(weeks=opt.screening_weeks)
    visits = [Visit(screen, "screening", "Screening before ocrelizumab",
                    "Before the first dose: hepatitis B screening (HBsAg, anti-HBc) [S6][S20b]; "
                    "quantitative serum immunoglobulins [S20b][S6]; liver tests (ALT, AST, "
                    "ALP, bilirubin; US label 8/2025) [S20b]; vaccination review. The "
                    f"screening date ({opt.screening_weeks} weeks before) is this plan's "
                    "assumption.", "[S6][S20b]", dt.time(9, 0), float(opt.check_minutes))]
    windows: tuple[tuple[int, str, str, str], ...]
    if opt.label == "US":
        windows = ((LIVE_VACCINE_WEEKS, "live or live-attenuated vaccines",
                    "Live vaccines are not recommended during treatment until B-cell "
                    "repletion [S20b].", "[S20b][S4]"),
                   (NONLIVE_VACCINE_WEEKS, "non-live vaccines", "When possible [S20b].",
                    "[S20b]"))
    else:
        windows = ((EU_VACCINE_WEEKS, "any vaccinations", "No live or live-attenuated "
                    "vaccines during treatment; seasonal influenza vaccine may be given [S66].",
                    "[S66]"),)
    for weeks, what, extra, src in windows:
        deadline = first - dt.timedelta(weeks=weeks)
        visits.append(Visit(screen, "vaccination", f"Vaccination window: {what}",
                            f"Give {what} by {deadline.isoformat()}, at least {weeks} weeks "
                            f"before the first dose. {extra}", src, end=deadline))
    return visits


def _tests_visits(planned: list[tuple[dt.date, float, str, str]], history: tuple[PastDose, ...],
                  opt: PlanOptions) -> list[Visit]:
    """Tests before each 600 mg / 920 mg dose (not before the start, covered by screening)."""
    out = []
    for i, (date, mg, _, _) in enumerate(planned):
        if mg == 300.0 or (i == 0 and not history):
            continue
        day = date - dt.timedelta(days=opt.predose_days)
        out.append(Visit(day, "tests", "Tests before the next ocrelizumab dose",
                         f"Before the dose of {date.isoformat()}: any active infection? (the "
                         "dose is delayed until it resolves [S4]); quantitative serum "
                         "immunoglobulins (monitored during treatment [S20b][S19]; before each "
                         "dose is this plan's assumption).", "[S4][S20b][S19]",
                         dt.time(9, 0), float(opt.check_minutes)))
    return out


def _contraception(last: dt.date, opt: PlanOptions) -> Visit:
    months, src = CONTRACEPTION_MONTHS[opt.label]
    end = add_months(last, months)
    return Visit(end, "contraception", "Contraception period ends (if treatment stopped)",
                 f"For patients who can become pregnant: contraception during treatment and "
                 f"{months} months after the last dose ({opt.label} label). If treatment stops "
                 f"after the last dose of this plan ({last.isoformat()}), the period ends "
                 f"on {end.isoformat()}.", src)
