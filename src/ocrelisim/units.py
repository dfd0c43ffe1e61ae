"""Internal units and explicit conversions.

Inside ocrelisim: time in days, amounts in mg, volumes in L, concentrations in mg/L
(identical to µg/mL), body weight in kg, B cells in cells/µL.
"""

from __future__ import annotations

from .errors import InvalidInputError

HOURS_PER_DAY = 24.0
MINUTES_PER_DAY = 1440.0
DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25

_TIME_TO_DAY = {
    "min": 1.0 / MINUTES_PER_DAY,
    "h": 1.0 / HOURS_PER_DAY,
    "d": 1.0,
    "day": 1.0,
    "w": DAYS_PER_WEEK,
    "wk": DAYS_PER_WEEK,
    "week": DAYS_PER_WEEK,
}
_AMOUNT_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "µg": 1e-3}


def to_days(value: float, unit: str) -> float:
    """Convert a time ``value`` in ``unit`` (min, h, d, w) to days."""
    try:
        return value * _TIME_TO_DAY[unit]
    except KeyError:
        raise InvalidInputError(
            f"unknown time unit {unit!r}; use one of {', '.join(sorted(_TIME_TO_DAY))}"
        ) from None


def to_mg(value: float, unit: str) -> float:
    """Convert an amount ``value`` in ``unit`` (mg, g, ug) to mg."""
    try:
        return value * _AMOUNT_TO_MG[unit]
    except KeyError:
        raise InvalidInputError(
            f"unknown amount unit {unit!r}; use one of {', '.join(sorted(_AMOUNT_TO_MG))}"
        ) from None
