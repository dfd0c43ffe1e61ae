"""iCalendar, CSV and history files: events parse back, local times across DST changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.planning import (
    PastDose,
    PlanOptions,
    parse_history,
    plan_patient,
    read_history,
    to_csv,
    to_ics,
)

STAMP = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_ics_round_trip_has_one_event_per_visit() -> None:
    plan = plan_patient(dt.date(2025, 3, 3), "iv", tz="Europe/Berlin")
    events = _events(to_ics(plan, stamp=STAMP))
    assert len(events) == len(plan.visits)
    for ev, v in zip(events, plan.visits, strict=True):
        assert str(ev["SUMMARY"]) == v.title
        cats = ev.get("CATEGORIES").to_ical().decode()
        assert cats == ("DOSE" if v.is_dose else "VISIT")
        assert v.purpose in str(ev["DESCRIPTION"]) and DISCLAIMER in str(ev["DESCRIPTION"])
        start = ev.decoded("DTSTART")
        if v.time is None:
            assert start == v.date
            assert ev.decoded("DTEND") == (v.end or v.date) + dt.timedelta(days=1)
        else:
            assert start == dt.datetime.combine(v.date, v.time, tzinfo=ZoneInfo("Europe/Berlin"))
            assert ev.decoded("DTEND") - start == dt.timedelta(minutes=round(v.minutes))
    doses = [e for e in events if e.get("CATEGORIES").to_ical() == b"DOSE"]
    assert len(doses) == len(plan.doses) == 6
    assert all(str(e["SUMMARY"]).startswith("Ocrelizumab") for e in doses)
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_ics_keeps_local_time_across_daylight_saving() -> None:
    # Berlin: CET (UTC+1) in winter, CEST (UTC+2) in summer; 08:00 local both times
    plan = plan_patient(dt.date(2025, 3, 3), "iv", tz="Europe/Berlin",
                        options=PlanOptions(maintenance_doses=1))
    data = to_ics(plan, stamp=STAMP)
    assert b"BEGIN:VTIMEZONE" in data and b"TZID:Europe/Berlin" in data
    doses = [e for e in _events(data) if e.get("CATEGORIES").to_ical() == b"DOSE"]
    utc = [e.decoded("DTSTART").astimezone(dt.UTC) for e in doses]
    assert [u.hour for u in utc] == [7, 7, 6]  # 3 Mar, 17 Mar (winter), 3 Sep (summer)
    assert all(e.decoded("DTSTART").hour == 8 for e in doses)


def test_ics_new_york_dose_on_the_fall_back_day() -> None:
    # 2 Nov 2025 is the US fall-back day: 08:00 EST is 13:00 UTC
    plan = plan_patient(dt.date(2025, 5, 2), "sc", tz="America/New_York",
                        options=PlanOptions(maintenance_doses=1))
    (first, second) = [e for e in _events(to_ics(plan, stamp=STAMP))
                       if e.get("CATEGORIES").to_ical() == b"DOSE"]
    assert second.decoded("DTSTART").date() == dt.date(2025, 11, 2)
    assert first.decoded("DTSTART").astimezone(dt.UTC).hour == 12  # EDT
    assert second.decoded("DTSTART").astimezone(dt.UTC).hour == 13  # EST


def test_csv_has_disclaimer_and_one_row_per_visit() -> None:
    plan = plan_patient(dt.date(2025, 3, 3), "iv")
    text = to_csv(plan)
    lines = text.strip().splitlines()
    assert lines[0] == f"# {DISCLAIMER}"
    assert lines[1].startswith("date,time,end,minutes,kind,title")
    assert len(lines) == 2 + len(plan.visits)


def test_history_from_a_safety_record_file(tmp_path: Path) -> None:
    f = tmp_path / "patient.yaml"
    f.write_text("check_date: 2025-03-01\nage: 40\nweight_kg: 70\n"
                 "planned: {route: IV, dose_mg: 600}\n"
                 "previous_doses:\n  - {date: 2024-01-10, route: IV, dose_mg: 300}\n"
                 "  - {date: 2024-01-24, route: iv, dose_mg: 300, reaction: mild}\n")
    assert read_history(f) == (PastDose(dt.date(2024, 1, 10), "IV", 300.0),
                               PastDose(dt.date(2024, 1, 24), "IV", 300.0, "mild"))


@pytest.mark.parametrize(("data", "match"), [
    ({"check_date": "2025-01-01"}, "no previous_doses"),
    ([{"date": "2024-02-30", "route": "IV", "dose_mg": 600}], r"previous_doses\[0\].date"),
    ([{"date": "2024-02-01", "route": "IV"}], "dose_mg missing"),
    ([{"date": "2024-02-01", "route": "IV", "dose_mg": "600"}], "number of mg"),
    ([{"date": "2024-02-01", "route": "IV", "dose_mg": 600, "site": "arm"}], "unknown field"),
    ([{"date": "2024-02-01", "route": "IV", "dose_mg": 600, "reaction": "bad"}], "reaction"),
    ({"previous_doses": "none"}, "must be a list"),
])
def test_bad_history_names_the_field(data: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        parse_history(data)


def test_unreadable_or_malformed_history_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot be read"):
        read_history(tmp_path / "missing.yaml")
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_history(bad)
