"""Dosing rules on calendar dates: one definition shared by regimens, safety and planning.

The label counts maintenance intervals in calendar months: 600 mg IV (or 920 mg SC) every
6 months, at least 5 months between doses, a missed dose given as soon as possible and the
next one 6 months after it [S3][S4][S87]. Day-based regimens (``Regimen``) use the same rule
through ``MIN_INTERVAL_600`` (5 × 30.4375 days); on dates, a month is a calendar month.
"""

from __future__ import annotations

import calendar
import datetime as dt

from ..errors import InvalidInputError

MAINTENANCE_MONTHS = 6
"""Months between maintenance doses [S3][S4]."""
MIN_INTERVAL_MONTHS = 5
"""Fewest months between two doses of 600 mg IV or 920 mg SC [S3][S4][S87]."""
SECOND_INFUSION_DAYS = 14
"""The second 300 mg infusion: 2 weeks after the first [S3][S4]."""


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months; a day past the month's end moves to its last day
    (31 August + 6 months = 28 or 29 February)."""
    if isinstance(months, bool) or not isinstance(months, int):
        raise InvalidInputError(f"months = {months!r}; give a whole number of months")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise InvalidInputError(f"{day.isoformat()} + {months} months is outside the calendar")
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def earliest_next_dose(last_dose: dt.date) -> dt.date:
    """The first date a dose may follow a 600 mg IV or 920 mg SC dose given on ``last_dose``:
    5 calendar months later [S3][S4][S87]."""
    return add_months(last_dose, MIN_INTERVAL_MONTHS)


def next_maintenance_dose(last_dose: dt.date) -> dt.date:
    """The label date of the next maintenance dose: 6 calendar months after ``last_dose``
    [S3][S4] (also after a late, missed dose: the schedule resets from it)."""
    return add_months(last_dose, MAINTENANCE_MONTHS)


def interval_allowed(previous: dt.date, following: dt.date) -> bool:
    """True when ``following`` is at least 5 calendar months after ``previous``."""
    return following >= earliest_next_dose(previous)
