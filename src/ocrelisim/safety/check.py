"""The pre-dose check: "may we dose today, and what must be checked or watched?"

:func:`check` applies every rule of ``rules.yaml`` to one :class:`PatientRecord` under the US or
EU label and returns a :class:`CheckResult`: the decision (strictest of the rules that fired:
do not dose > delay > cannot decide > dose), one card per fired rule, the pre-dose checklist,
premedication and observation, warning-sign lists in plain language, vaccination windows,
contraception advice, the dosing-interval dates and a trace of every rule (fired or not, and
why). It reports what the label rules and the cited sources give; it is not a treatment
decision. Source keys: ``[S..]`` in the fact dossier, ``[W..]`` in ``rules.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..regimens._calendar import (
    SECOND_INFUSION_DAYS,
    add_months,
    earliest_next_dose,
    interval_allowed,
)
from .parameters import INFECTIONS
from .record import UNKNOWN, PatientRecord, PreviousDose, parse_record
from .rules import (
    LABELS,
    SEVERITIES,
    Decision,
    Label,
    Rule,
    Severity,
    extra_sources,
    rules,
    strictest,
)

STATEMENT = ("This check reports what the label rules and the cited sources give for this "
             "record; it is not a treatment decision, which stays with the prescriber.")

IGG_LLN_G_PER_L = INFECTIONS.igg_lln.value
"""IgG lower limit of normal used in the ocrelizumab trial analyses, 5.65 g/L [S22]."""
ADULT_AGE = 18.0  # years; both labels are for adults [S19][W3]
LIVE_VACCINE_WEEKS: Mapping[Label, int] = MappingProxyType({"US": 4, "EU": 6})
"""Weeks between a live vaccine and the first dose: US 4 [S20b][W4], EU 6 [S66]."""
NONLIVE_VACCINE_WEEKS: Mapping[Label, int] = MappingProxyType({"US": 2, "EU": 6})
"""Weeks between a non-live vaccine and the first dose: US 2 when possible [S20b], EU 6 [S66]."""
CONTRACEPTION_MONTHS: Mapping[Label, int] = MappingProxyType({"US": 6, "EU": 12})
"""Months of contraception after the last dose: US 6 [S19][S69], EU 12 [S66][S68]."""
CARRYOVER_PML_DAYS = 92  # latest carry-over PML diagnosis after starting ocrelizumab [S25b]
CARRYOVER_THERAPIES = ("natalizumab", "tysabri", "fingolimod", "gilenya")  # [S25b][S78]

SYMPTOM_CODES: Mapping[str, tuple[str, str]] = MappingProxyType({
    # code: (kind, plain words). PML signs [W1][S78]; infection signs [W2].
    "one_sided_weakness": ("pml", "new weakness on one side of the body"),
    "limb_clumsiness": ("pml", "new clumsiness of arms or legs"),
    "vision_changes": ("pml", "new changes in vision"),
    "confusion": ("pml", "confusion or changes in thinking"),
    "memory_problems": ("pml", "new memory problems"),
    "personality_change": ("pml", "changes in personality or behaviour"),
    "speech_difficulty": ("pml", "new difficulty speaking"),
    "fever": ("infection", "fever"),
    "chills": ("infection", "chills"),
    "persistent_cough": ("infection", "a cough that does not go away"),
    "cold_sores": ("infection", "cold sores"),
    "shingles": ("infection", "shingles"),
    "genital_sores": ("infection", "genital sores"),
    "none": ("none", "no symptoms"),
})
"""Symptom codes the check reads; any other text is shown to a clinician (SYMPTOM-UNCODED)."""


class Card(BaseModel):
    """One fired rule, as shown to the nurse."""

    model_config = ConfigDict(frozen=True)
    rule_id: str
    severity: Severity
    effect: Decision
    summary: str
    detail: str
    sources: tuple[str, ...]


class TraceEntry(BaseModel):
    """One rule evaluated: whether it fired and why (or why not)."""

    model_config = ConfigDict(frozen=True)
    rule_id: str
    fired: bool
    effect: Decision | None
    reason: str


class Advice(BaseModel):
    """One line of guidance with its sources."""

    model_config = ConfigDict(frozen=True)
    text: str
    sources: tuple[str, ...]


class Interval(BaseModel):
    """Dosing dates from the calendar rules [S3][S4][S87] (``ocrelisim.regimens._calendar``)."""

    model_config = ConfigDict(frozen=True)
    last_dose: dt.date | None
    earliest_allowed: dt.date | None
    next_due: dt.date
    next_due_text: str


class CheckResult(BaseModel):
    """What :func:`check` returns (``model_dump(mode="json")`` for JSON)."""

    model_config = ConfigDict(frozen=True)
    decision: Decision
    label: Label
    check_date: dt.date
    planned: Advice
    cards: tuple[Card, ...]
    checklist: tuple[Advice, ...]
    premedication: tuple[Advice, ...]
    observation: Advice
    reaction_management: tuple[Advice, ...]
    irr_signs: Advice
    pml_signs: Advice
    infection_signs: Advice
    vaccination: tuple[Advice, ...]
    contraception: Advice
    interval: Interval
    trace: tuple[TraceEntry, ...]
    sources: Mapping[str, str]
    statement: str = STATEMENT
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True)
class _Ctx:
    record: PatientRecord
    label: Label
    doses: tuple[PreviousDose, ...]  # sorted by date
    codes: tuple[str, ...] = field(default=())
    uncoded: tuple[str, ...] = field(default=())

    @property
    def today(self) -> dt.date:
        return self.record.check_date

    @property
    def first_dose(self) -> bool:
        return not self.doses

    @property
    def maintenance(self) -> bool:
        p = self.record.planned
        return (p.route, p.dose_mg) in (("IV", 600.0), ("SC", 920.0))


@dataclass(frozen=True)
class _Outcome:
    fired: bool
    reason: str
    values: Mapping[str, str] = field(default_factory=dict)


def _yes(reason: str, **values: str) -> _Outcome:
    return _Outcome(True, reason, values)


def _no(reason: str) -> _Outcome:
    return _Outcome(False, reason)


def _state(value: object) -> str:
    return "missing" if value is None else "unknown"


def _show(value: object) -> str:
    """A record value as the record spells it: true, false, unknown, missing."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _iso(day: dt.date) -> str:
    return day.isoformat()


# ---- rules, one function per id -------------------------------------------------------------

def _field_is(path: str, hit: str | bool) -> Callable[[_Ctx], _Outcome]:
    """A rule that fires when the record's field ``path`` (dotted) holds ``hit``."""
    get = attrgetter(path)

    def rule(c: _Ctx) -> _Outcome:
        v = get(c.record)
        same = v is hit if isinstance(hit, bool) else v == hit
        return _yes(f"{path} is {_show(hit)}") if same else _no(f"{path} is {_show(v)}")

    return rule


def _field_missing(path: str) -> Callable[[_Ctx], _Outcome]:
    """A rule that fires when the record's field ``path`` (dotted) is absent or ``unknown``."""
    get = attrgetter(path)

    def rule(c: _Ctx) -> _Outcome:
        v = get(c.record)
        if v in (None, UNKNOWN):
            return _yes(f"{path} is {_state(v)}", state=_state(v))
        return _no(f"{path} is {_show(v)}")

    return rule


def _ig_baseline_missing(c: _Ctx) -> _Outcome:
    if not c.first_dose:
        return _no("not the first dose (baseline immunoglobulins apply before the first dose)")
    if c.record.igg_g_per_l is None:
        return _yes("first dose and igg_g_per_l is missing or unknown")
    return _no(f"igg_g_per_l = {c.record.igg_g_per_l:g} g/L")


def _igg_low(c: _Ctx) -> _Outcome:
    igg = c.record.igg_g_per_l
    if igg is None:
        return _no("igg_g_per_l not given")
    if igg < IGG_LLN_G_PER_L:
        return _yes(f"igg_g_per_l = {igg:g} < {IGG_LLN_G_PER_L:g} g/L [S22]",
                    igg=f"{igg:g}", lln=f"{IGG_LLN_G_PER_L:g}")
    return _no(f"igg_g_per_l = {igg:g} >= {IGG_LLN_G_PER_L:g} g/L")


def _vaccines_within(c: _Ctx, live: bool, weeks: int) -> _Outcome:
    if not c.first_dose:
        return _no("not the first dose")
    kind = "live" if live else "non-live"
    recent = [v for v in c.record.vaccinations
              if v.live is live and c.today < v.date + dt.timedelta(weeks=weeks)]
    if not recent:
        return _no(f"no {kind} vaccine in the {weeks} weeks before {_iso(c.today)}")
    last = max(recent, key=lambda v: v.date)
    until = last.date + dt.timedelta(weeks=weeks)
    return _yes(f"{kind} vaccine {last.name!r} on {_iso(last.date)}, less than {weeks} weeks "
                f"({c.label} label) before the first dose",
                vaccine=last.name, date=_iso(last.date), weeks=str(weeks), until=_iso(until))


def _live_before_start(c: _Ctx) -> _Outcome:
    return _vaccines_within(c, True, LIVE_VACCINE_WEEKS[c.label])


def _nonlive_before_start(c: _Ctx) -> _Outcome:
    return _vaccines_within(c, False, NONLIVE_VACCINE_WEEKS[c.label])


def _live_on_treatment(c: _Ctx) -> _Outcome:
    if c.first_dose:
        return _no("no ocrelizumab dose given yet")
    start = c.doses[0].date
    late = [v for v in c.record.vaccinations if v.live and v.date >= start]
    if not late:
        return _no(f"no live vaccine since the first dose ({_iso(start)})")
    v = max(late, key=lambda v: v.date)
    return _yes(f"live vaccine {v.name!r} on {_iso(v.date)}, after the first dose "
                f"({_iso(start)})", vaccine=v.name, date=_iso(v.date))


def _min_interval(c: _Ctx) -> _Outcome:
    if not c.maintenance or c.first_dose:
        return _no("applies to a 600 mg IV or 920 mg SC dose after an earlier dose")
    last = c.doses[-1].date
    if interval_allowed(last, c.today):
        return _no(f"{_iso(c.today)} is at least 5 calendar months after {_iso(last)}")
    until = earliest_next_dose(last)
    days = (c.today - last).days
    return _yes(f"{days} days since {_iso(last)}; earliest allowed {_iso(until)}",
                elapsed=f"{days} days", last=_iso(last), until=_iso(until))


def _second_early(c: _Ctx) -> _Outcome:
    p = c.record.planned
    if not (_is_starting_half(c) and p.route == "IV" and p.dose_mg == 300.0):
        return _no("not the second 300 mg starting infusion")
    first = c.doses[0].date
    until = first + dt.timedelta(days=SECOND_INFUSION_DAYS)
    if c.today >= until:
        return _no(f"{_iso(c.today)} is at least 2 weeks after the first infusion")
    return _yes(f"{(c.today - first).days} days after the first 300 mg infusion",
                first=_iso(first), until=_iso(until))


def _is_starting_half(c: _Ctx) -> bool:
    return len(c.doses) == 1 and (c.doses[0].route, c.doses[0].dose_mg) == ("IV", 300.0)


def _expected(c: _Ctx) -> tuple[tuple[str, float], ...]:
    if c.first_dose:
        return (("IV", 300.0), ("SC", 920.0))
    if _is_starting_half(c):
        return (("IV", 300.0),)
    return (("IV", 600.0), ("SC", 920.0))


def _dose_sequence(c: _Ctx) -> _Outcome:
    p = c.record.planned
    expected = _expected(c)
    text = " or ".join(f"{d:g} mg {r}" for r, d in expected)
    if (p.route, p.dose_mg) in expected:
        return _no(f"planned {p.dose_mg:g} mg {p.route} follows the label sequence")
    planned = f"{p.dose_mg:g} mg {p.route}"
    return _yes(f"after {len(c.doses)} dose(s) the label sequence gives {text}",
                planned=planned, expected=text)


def _due_date(c: _Ctx) -> dt.date:
    """The label date of the next maintenance dose: 6 months after the last dose, or after
    the first infusion of the starting pair [S3][S4]."""
    starting_pair = (len(c.doses) == 2
                     and all((d.route, d.dose_mg) == ("IV", 300.0) for d in c.doses))
    return add_months(c.doses[0].date if starting_pair else c.doses[-1].date, 6)


def _overdue(c: _Ctx) -> _Outcome:
    if not c.maintenance or c.first_dose:
        return _no("applies to a 600 mg IV or 920 mg SC dose after an earlier dose")
    due = _due_date(c)
    if c.today <= due:
        return _no(f"due {_iso(due)}; not overdue")
    return _yes(f"due {_iso(due)}, {(c.today - due).days} days ago",
                last=_iso(c.doses[-1].date), due=_iso(due))


def _prior_life_threatening(c: _Ctx) -> _Outcome:
    hits = [d for d in c.doses if d.reaction == "life-threatening"]
    if not hits:
        return _no("no previous dose recorded with a life-threatening reaction")
    return _yes(f"life-threatening reaction on {_iso(hits[-1].date)}", date=_iso(hits[-1].date))


def _shorter_not_allowed(c: _Ctx) -> _Outcome:
    if c.record.planned.protocol != "shorter":
        return _no("standard infusion planned")
    hits = [d for d in c.doses if d.reaction in ("severe", "life-threatening")]
    if not hits:
        return _no("no previous dose recorded with a severe reaction")
    return _yes(f"{hits[-1].reaction} reaction on {_iso(hits[-1].date)}",
                date=_iso(hits[-1].date))


def _shorter_history_missing(c: _Ctx) -> _Outcome:
    if c.record.planned.protocol != "shorter":
        return _no("standard infusion planned")
    missing = [d for d in c.doses if d.route == "IV" and d.reaction in (None, UNKNOWN)]
    if not missing:
        return _no("every previous infusion has its reaction recorded")
    return _yes(f"reaction not recorded for {len(missing)} previous infusion(s)",
                count=str(len(missing)))


def _symptom_words(codes: tuple[str, ...], kind: str) -> list[str]:
    return [SYMPTOM_CODES[s][1] for s in codes if SYMPTOM_CODES[s][0] == kind]


def _pml_signs(c: _Ctx) -> _Outcome:
    words = _symptom_words(c.codes, "pml")
    if not words:
        return _no("no coded sign of PML")
    return _yes(f"coded PML sign(s): {', '.join(words)}", symptoms=", ".join(words))


def _infection_signs(c: _Ctx) -> _Outcome:
    words = _symptom_words(c.codes, "infection")
    if not words:
        return _no("no coded sign of infection")
    if c.record.active_infection is True:
        return _no("active infection already recorded (INFECTION-ACTIVE)")
    return _yes(f"coded sign(s) of infection: {', '.join(words)}; active_infection is "
                f"{_show(c.record.active_infection)}", symptoms=", ".join(words))


def _uncoded(c: _Ctx) -> _Outcome:
    if not c.uncoded:
        return _no("every symptom is a known code")
    shown = "; ".join(repr(s) for s in c.uncoded)
    return _yes(f"symptom text not read: {shown}", symptoms=shown)


def _symptoms_unknown(c: _Ctx) -> _Outcome:
    if c.record.symptoms == UNKNOWN:
        return _yes("symptoms is unknown")
    return _no("symptoms given (an empty list means none)")


def _under_18(c: _Ctx) -> _Outcome:
    age = c.record.age
    if age < ADULT_AGE:
        return _yes(f"age {age:g} < {ADULT_AGE:g} years", age=f"{age:g}")
    return _no(f"age {age:g} >= {ADULT_AGE:g} years")


def _switch(c: _Ctx) -> _Outcome:
    prior = c.record.prior_therapy
    if prior is None:
        return _no("treatment-naive (no prior_therapy)")
    if not c.first_dose:
        return _no("ocrelizumab already started")
    last = _iso(prior.last_dose) if prior.last_dose else "not recorded"
    return _yes(f"first dose after {prior.name!r} (last dose {last})", therapy=prior.name,
                last=last)


def _carryover(c: _Ctx) -> _Outcome:
    prior = c.record.prior_therapy
    if prior is None or not any(t in prior.name.lower() for t in CARRYOVER_THERAPIES):
        return _no("no prior natalizumab or fingolimod")
    if not c.first_dose and (c.today - c.doses[0].date).days > CARRYOVER_PML_DAYS:
        return _no(f"more than {CARRYOVER_PML_DAYS} days since ocrelizumab started")
    return _yes(f"prior {prior.name!r}, within the carry-over window", therapy=prior.name)


_EVALUATORS: Mapping[str, Callable[[_Ctx], _Outcome]] = MappingProxyType({
    "HBV-SURFACE-POSITIVE": _field_is("hbv.hbsag", "positive"),
    "HBV-SURFACE-MISSING": _field_missing("hbv.hbsag"),
    "HBV-CORE-POSITIVE": _field_is("hbv.anti_hbc", "positive"),
    "HBV-CORE-MISSING": _field_missing("hbv.anti_hbc"),
    "INFECTION-ACTIVE": _field_is("active_infection", True),
    "INFECTION-STATUS-MISSING": _field_missing("active_infection"),
    "IG-BASELINE-MISSING": _ig_baseline_missing,
    "IGG-BELOW-LLN": _igg_low,
    "PREGNANT": _field_is("pregnant", True),
    "PREGNANCY-STATUS-MISSING": _field_missing("pregnant"),
    "LIVE-VACCINE-BEFORE-START": _live_before_start,
    "NONLIVE-VACCINE-BEFORE-START": _nonlive_before_start,
    "LIVE-VACCINE-ON-TREATMENT": _live_on_treatment,
    "MIN-INTERVAL": _min_interval,
    "SECOND-INFUSION-EARLY": _second_early,
    "DOSE-SEQUENCE": _dose_sequence,
    "DOSE-OVERDUE": _overdue,
    "PRIOR-LIFE-THREATENING-REACTION": _prior_life_threatening,
    "SHORTER-INFUSION-NOT-ALLOWED": _shorter_not_allowed,
    "SHORTER-INFUSION-HISTORY-MISSING": _shorter_history_missing,
    "PML-SIGNS": _pml_signs,
    "INFECTION-SIGNS": _infection_signs,
    "SYMPTOM-UNCODED": _uncoded,
    "SYMPTOMS-UNKNOWN": _symptoms_unknown,
    "AGE-UNDER-18": _under_18,
    "PRIOR-THERAPY-SWITCH": _switch,
    "PRIOR-THERAPY-PML-CARRYOVER": _carryover,
})
"""The condition of each rule in ``rules.yaml`` (a test checks that the two sets match)."""


def rule_ids() -> tuple[str, ...]:
    """Ids of every rule, in the order of ``rules.yaml``."""
    return tuple(rules())


# ---- guidance that does not depend on a rule firing -----------------------------------------

def _a(text: str, *sources: str) -> Advice:
    return Advice(text=text, sources=sources)


def _planned(c: _Ctx) -> Advice:
    p = c.record.planned
    if p.route == "SC":
        return _a("920 mg SC injection into the abdomen (about 10 minutes)", "[S6]")
    if p.dose_mg == 300.0:
        return _a("300 mg IV infusion (at least 2.5 h at the label rates)", "[S3]")
    if p.protocol == "shorter":
        return _a("600 mg IV, shorter infusion (2 h)", "[S65]", "[S3b]")
    return _a("600 mg IV, standard infusion (at least 3.5 h)", "[S3]")


def _checklist(c: _Ctx) -> tuple[Advice, ...]:
    items = [
        _a("Hepatitis B screening (HBsAg and anti-HBc) result on file.", "[S20b]", "[S6]"),
        _a("Ask about and look for infection; delay the dose if an infection is active.",
           "[S4]", "[W2]"),
        _a("Review vaccinations against the windows below.", "[S20b]", "[S66]"),
        _a("Ask about pregnancy; give the contraception advice below.", "[S69]", "[S68]"),
    ]
    if c.first_dose and c.label == "US":
        items.append(_a("Before the first dose: quantitative serum immunoglobulins, and liver "
                        "tests (ALT, AST, alkaline phosphatase, bilirubin); the liver tests are "
                        "not on the record and are not checked here.", "[S20b]"))
    if c.label == "EU" and c.record.planned.route == "IV":
        items.append(_a("Ask whether blood-pressure medicines were paused for 12 h before the "
                        "infusion, as the doctor may ask (risk of low blood pressure).", "[S66]"))
    items += [
        _a("Give the premedication below before the dose.", "[S3]", "[S5]", "[S6]"),
        _a(f"Give: {_planned(c).text}.", *_planned(c).sources),
        _a("Have treatment for severe reactions at hand; a trained professional supervises.",
           "[W6]"),
        _a("Tell the patient that reactions can happen up to 24 hours after the dose, and "
           "give the warning-sign lists below.", "[S19]", "[W3]"),
    ]
    return tuple(items)


def _premedication(c: _Ctx) -> tuple[Advice, ...]:
    if c.record.planned.route == "SC":
        timing = "at least 30 minutes" if c.label == "US" else "about 30 minutes"
        return (
            _a(f"Oral corticosteroid (dexamethasone 20 mg or equivalent) {timing} before the "
               "injection.", "[S6]", "[S7]", "[S6b]"),
            _a(f"Oral antihistamine (e.g. desloratadine) {timing} before the injection.",
               "[S6]", "[S7]"),
            _a("An antipyretic (e.g. paracetamol/acetaminophen) may be considered.", "[S6b]"),
        )
    return (
        _a("Methylprednisolone 100 mg IV (or equivalent) about 30 minutes before the infusion.",
           "[S3]", "[S5]"),
        _a("Antihistamine (e.g. diphenhydramine) about 30-60 minutes before the infusion.",
           "[S3]", "[S5]"),
        _a("An antipyretic (e.g. paracetamol/acetaminophen) may be considered.", "[S3]"),
    )


def _observation(c: _Ctx) -> Advice:
    if c.record.planned.route == "SC":
        first_sc = not any(d.route == "SC" for d in c.doses)
        minutes = "at least 1 hour" if first_sc else "at least 15 minutes"
        which = "first" if first_sc else "a later"
        return _a(f"Observe for {minutes} after the injection (this is the patient's {which} "
                  "SC injection).", "[S6]")
    return _a("Observe during the infusion and for at least 1 hour after it ends.", "[S3]",
              "[S19]")


def _management(c: _Ctx) -> tuple[Advice, ...]:
    if c.record.planned.route == "SC":
        return (
            _a("Injection reactions can be local (at the site) or systemic; treat symptoms.",
               "[S11]"),
            _a("A life-threatening reaction: stop; no further ocrelizumab.", "[S19]"),
        )
    return (
        _a("Mild or moderate reaction: halve the rate (from the rate at onset) for at least 30 "
           "minutes; if tolerated, increase again.", "[S3]"),
        _a("Severe reaction: stop the infusion at once; after it resolves, restart at half the "
           "rate at onset.", "[S3]", "[S19b]"),
        _a("Life-threatening reaction: stop at once and permanently.", "[S19]"),
    )


_IRR_WORDS = ("itchy skin, rash, hives, redness of the face (flushing), throat irritation or "
              "pain, swelling of the throat, coughing or wheezing, trouble breathing or "
              "shortness of breath, fever, tiredness, headache, dizziness or feeling faint, "
              "nausea, fast heartbeat")
_PML_WORDS = ("new or worsening weakness on one side of the body, clumsiness of arms or legs, "
              "changes in vision, confusion, memory problems, changes in personality, "
              "difficulty speaking; they get worse over days to weeks and can look like MS")
_INFECTION_WORDS = ("fever, chills, a cough that does not go away, cold sores, shingles, "
                    "genital sores")


def _vaccination(c: _Ctx) -> tuple[Advice, ...]:
    live, nonlive = LIVE_VACCINE_WEEKS[c.label], NONLIVE_VACCINE_WEEKS[c.label]
    items = []
    if c.label == "US":
        items.append(_a(f"Before the first dose: live or live-attenuated vaccines at least "
                        f"{live} weeks before; non-live vaccines at least {nonlive} weeks "
                        "before whenever possible.", "[S20b]", "[W4]"))
    else:
        items.append(_a(f"Before the first dose: complete vaccinations at least {live} weeks "
                        "before starting.", "[S66]"))
    items.append(_a("During treatment and until B cells recover: no live or live-attenuated "
                    "vaccines.", "[S20b]", "[S66]"))
    if c.label == "EU":
        items.append(_a("The seasonal (inactivated) influenza vaccine may be given.", "[S66]"))
    items.append(_a("Non-live vaccines work less well on ocrelizumab (lower responses to "
                    "tetanus, pneumococcal and influenza vaccines).", "[S70]"))
    items.append(_a("Babies exposed in the womb: " + (
        "no live vaccines before their B-cell recovery is confirmed." if c.label == "US" else
        "consider postponing live vaccines."), "[W4]" if c.label == "US" else "[S68]"))
    return tuple(items)


def _contraception(c: _Ctx) -> Advice:
    months = CONTRACEPTION_MONTHS[c.label]
    sources = ("[S19]", "[S69]") if c.label == "US" else ("[S66]", "[S68]")
    return _a(f"Patients who can become pregnant: use effective contraception during treatment "
              f"and for {months} months after the last dose ({c.label} label).", *sources)


def _interval(c: _Ctx) -> Interval:
    p = c.record.planned
    last = c.doses[-1].date if c.doses else None
    earliest = earliest_next_dose(last) if (last is not None and c.maintenance) else None
    if c.first_dose and (p.route, p.dose_mg) == ("IV", 300.0):
        due = c.today + dt.timedelta(days=SECOND_INFUSION_DAYS)
        text = "second 300 mg IV infusion 2 weeks after this one"
    elif _is_starting_half(c) and (p.route, p.dose_mg) == ("IV", 300.0):
        due = add_months(c.doses[0].date, 6)
        text = "first 600 mg dose 6 months after the first 300 mg infusion"
    else:
        due = add_months(c.today, 6)
        text = (f"next dose 6 months after this one; never before "
                f"{_iso(earliest_next_dose(c.today))} (5 months)")
    return Interval(last_dose=last, earliest_allowed=earliest, next_due=due, next_due_text=text)


# ---- the check ------------------------------------------------------------------------------

def _classify(symptoms: tuple[str, ...] | str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if isinstance(symptoms, str):  # "unknown"
        return (), ()
    codes: list[str] = []
    other: list[str] = []
    for s in symptoms:
        key = "_".join(s.strip().lower().replace("-", " ").split())
        (codes if key in SYMPTOM_CODES else other).append(key if key in SYMPTOM_CODES else s)
    return tuple(codes), tuple(other)


def _card(rule: Rule, outcome: _Outcome) -> Card:
    try:
        summary = rule.summary.format_map(outcome.values)
    except KeyError as exc:  # a rules.yaml template names a value its condition does not give
        raise RuntimeError(f"rule {rule.id}: summary needs {exc}") from None
    return Card(rule_id=rule.id, severity=rule.severity, effect=rule.effect, summary=summary,
                detail=rule.detail, sources=rule.sources)


def _context(record: PatientRecord, label: Label) -> _Ctx:
    codes, other = _classify(record.symptoms)
    doses = tuple(sorted(record.previous_doses, key=lambda d: d.date))
    return _Ctx(record=record, label=label, doses=doses, codes=codes, uncoded=other)


def check(record: PatientRecord | Mapping[str, Any], label: str = "US") -> CheckResult:
    """Apply every pre-dose rule to one patient record.

    Parameters
    ----------
    record : PatientRecord or mapping
        The patient on the day of the planned dose (a mapping is validated first).
    label : {"US", "EU"}
        Which label's rules to apply (they differ e.g. in vaccine windows and contraception).

    Returns
    -------
    CheckResult
        Decision, cards, checklist, guidance, interval dates and the trace of every rule.

    Raises
    ------
    InvalidInputError
        A malformed record or an impossible value (the message names the field), or an
        unknown ``label``.
    """
    if label not in LABELS:
        raise InvalidInputError(f"label = {label!r}; use one of {', '.join(LABELS)}")
    lab: Label = "US" if label == "US" else "EU"
    rec = parse_record(dict(record) if isinstance(record, Mapping) else record)
    ctx = _context(rec, lab)
    cards: list[Card] = []
    trace: list[TraceEntry] = []
    for rule in rules().values():
        if lab not in rule.labels:
            trace.append(TraceEntry(rule_id=rule.id, fired=False, effect=None,
                                    reason=f"not a rule of the {lab} label"))
            continue
        outcome = _EVALUATORS[rule.id](ctx)
        trace.append(TraceEntry(rule_id=rule.id, fired=outcome.fired,
                                effect=rule.effect if outcome.fired else None,
                                reason=outcome.reason))
        if outcome.fired:
            cards.append(_card(rule, outcome))
    cards.sort(key=lambda card: -SEVERITIES.index(card.severity))  # stable: file order kept
    return _result(ctx, cards, trace)


def _result(ctx: _Ctx, cards: list[Card], trace: list[TraceEntry]) -> CheckResult:
    advice = [*_checklist(ctx), *_premedication(ctx), _observation(ctx), *_management(ctx),
              *_vaccination(ctx), _contraception(ctx)]
    cited = {k for a in advice for k in a.sources} | {k for c in cards for k in c.sources}
    return CheckResult(
        decision=strictest([c.effect for c in cards]),
        label=ctx.label,
        check_date=ctx.today,
        planned=_planned(ctx),
        cards=tuple(cards),
        checklist=_checklist(ctx),
        premedication=_premedication(ctx),
        observation=_observation(ctx),
        reaction_management=_management(ctx),
        irr_signs=_a(f"Reaction warning signs (during the dose or up to 24 hours after): "
                     f"{_IRR_WORDS}.", "[S19]", "[W3]"),
        pml_signs=_a(f"PML warning signs (report at once): {_PML_WORDS}.", "[W1]", "[S78]"),
        infection_signs=_a(f"Infection warning signs (report; the dose waits until an "
                           f"infection is gone): {_INFECTION_WORDS}.", "[W2]", "[S4]"),
        vaccination=_vaccination(ctx),
        contraception=_contraception(ctx),
        interval=_interval(ctx),
        trace=tuple(trace),
        sources={k: v for k, v in sorted(extra_sources().items())
                 if k in cited | {"[W1]", "[W2]", "[W3]"}},
    )
