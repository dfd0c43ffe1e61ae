"""A patient plan as iCalendar (RFC 5545, with the ``icalendar`` library) and CSV; the dosing
history read from a file in the safety check's record format (``previous_doses``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import icalendar

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..io import read_structured
from ._patient import PastDose, PatientPlan, Visit, check_timezone

PRODID = "-//ocrelisim//treatment plan//EN"
REACTIONS = ("none", "mild", "moderate", "severe", "life-threatening", "unknown")


def _uid(plan: PatientPlan, index: int, visit: Visit) -> str:
    key = f"{plan.route}|{visit.date.isoformat()}|{visit.kind}|{visit.title}|{index}"
    return hashlib.sha1(key.encode()).hexdigest()[:20] + "@ocrelisim"


def to_ics(plan: PatientPlan, *, stamp: dt.datetime | None = None) -> bytes:
    """The plan as an iCalendar file: one VEVENT per visit.

    Timed visits start at their local time in the plan's zone (DTSTART with TZID and a
    VTIMEZONE, so that daylight-saving changes keep the local time); windows and deadlines are
    all-day events. Doses carry ``CATEGORIES:DOSE`` and a SUMMARY beginning "Ocrelizumab",
    other visits ``CATEGORIES:VISIT``; the DESCRIPTION says the purpose and the sources.
    """
    zone = check_timezone(plan.tz)
    stamp = stamp or dt.datetime.now(dt.UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Ocrelizumab treatment plan")
    cal.add("x-wr-caldesc", DISCLAIMER)
    cal.add("x-wr-timezone", plan.tz)
    for i, v in enumerate(plan.visits):
        ev = icalendar.Event()
        ev.add("uid", _uid(plan, i, v))
        ev.add("dtstamp", stamp)
        if v.time is not None:
            start = dt.datetime.combine(v.date, v.time, tzinfo=zone)
            ev.add("dtstart", start)
            ev.add("dtend", start + dt.timedelta(minutes=round(v.minutes)))
        else:
            ev.add("dtstart", v.date)
            ev.add("dtend", (v.end or v.date) + dt.timedelta(days=1))  # DTEND is exclusive
        ev.add("summary", v.title)
        ev.add("description", f"{v.purpose}\nSources: {v.source} (ocrelisim fact dossier).\n"
                              f"{DISCLAIMER}")
        ev.add("categories", ["DOSE" if v.is_dose else "VISIT"])
        cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def to_csv(plan: PatientPlan) -> str:
    """The plan as CSV text (one row per visit), the disclaimer on the first line as a comment."""
    buf = io.StringIO()
    buf.write(f"# {DISCLAIMER}\n")
    plan.to_frame().to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _mapping_doses(data: Any, where: str) -> list[Any]:
    if isinstance(data, dict):
        if "previous_doses" not in data:
            raise InvalidInputError(f"{where}: no previous_doses field; give a patient record "
                                    f"or a list of doses with date, route and dose_mg")
        data = data["previous_doses"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidInputError(f"{where}: previous_doses must be a list of doses (date, route, "
                                f"dose_mg), got {type(data).__name__}")
    return data


def parse_history(data: Any, where: str = "history") -> tuple[PastDose, ...]:
    """Doses from a safety record (``previous_doses``) or a bare list of
    {date, route, dose_mg[, reaction]} mappings; unknown fields and bad values are errors."""
    out = []
    for i, item in enumerate(_mapping_doses(data, where)):
        field = f"{where}: previous_doses[{i}]"
        if not isinstance(item, dict):
            raise InvalidInputError(f"{field} must be a mapping with date, route, dose_mg")
        extra = set(item) - {"date", "route", "dose_mg", "reaction"}
        if extra:
            raise InvalidInputError(f"{field}: unknown field(s) {', '.join(sorted(extra))}; "
                                    f"use date, route, dose_mg, reaction")
        missing = [k for k in ("date", "route", "dose_mg") if k not in item]
        if missing:
            raise InvalidInputError(f"{field}: required field(s) {', '.join(missing)} missing")
        out.append(PastDose(_date(item["date"], f"{field}.date"),
                            _route(item["route"], f"{field}.route"),
                            _mg(item["dose_mg"], f"{field}.dose_mg"),
                            _reaction(item.get("reaction"), f"{field}.reaction")))
    return tuple(out)


def _date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInputError(f"{field} = {value!r} is not a date; give YYYY-MM-DD")


def _route(value: object, field: str) -> str:
    if isinstance(value, str) and value.strip().upper() in ("IV", "SC"):
        return value.strip().upper()
    raise InvalidInputError(f"{field} = {value!r}; use IV or SC")


def _mg(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{field} = {value!r}; give the dose as a number of mg")
    return float(value)


def _reaction(value: object, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in REACTIONS:
        return value.strip().lower()
    raise InvalidInputError(f"{field} = {value!r}; use one of {', '.join(REACTIONS)}")


def read_history(path: str | Path) -> tuple[PastDose, ...]:
    """Past ocrelizumab doses from a YAML or JSON file (a safety patient record, or a mapping
    or list holding ``previous_doses``)."""
    p = Path(path)
    data = read_structured(p, "history file")
    return parse_history(data, f"history file {p.name}")
