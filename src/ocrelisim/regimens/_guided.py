"""B-cell-guided redosing: one rule shared by trials, planning and forecasting.

A guided schedule gives the next dose at the first monitoring check where CD19+ B cells are
at or above a threshold; checks fall every ``check_every`` weeks from ``earliest`` weeks after
the previous dose. Extended-interval dosing keeps its effect in cohort studies [S32][S33][S34]
[S35], but no B-cell threshold rule of this kind is published for ocrelizumab (facts §2.3:
a "CD19 >= 10 cells/µL" rule is not found): the defaults are the trials' assumption. The
label minimum of 5 calendar months between doses [S3][S4][S87] still applies: on dates it is
:func:`ocrelisim.regimens._calendar.earliest_next_dose`; on days the default ``earliest``
(24 weeks = 168 days) lies beyond it (5 months = 152.2 days).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError
from ._calendar import earliest_next_dose

_UNITS = {"threshold": "cells/µL", "check_every": "weeks", "earliest": "weeks"}


@dataclass(frozen=True, slots=True)
class GuidedRule:
    """When to give the next dose of a B-cell-guided schedule.

    Parameters
    ----------
    threshold : float
        CD19+ B cells, cells/µL, at or above which the next dose is due (default 10).
    check_every : float
        Weeks between monitoring checks (default 4).
    earliest : float
        Weeks after the previous dose of the first check (default 24).

    The defaults are an assumption of the trials' guided policy: no published redosing rule
    for ocrelizumab gives them (facts §2.3; extended-interval cohorts [S32][S33][S34][S35]).
    The label minimum of 5 calendar months between doses [S3][S4][S87] still applies (see
    :func:`next_guided_date`). Every field must be a finite number > 0; a bad value raises
    :class:`~ocrelisim.errors.InvalidInputError` naming the field.
    """

    threshold: float = 10.0
    check_every: float = 4.0
    earliest: float = 24.0

    def __post_init__(self) -> None:
        for name, unit in _UNITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value <= 0:
                raise InvalidInputError(
                    f"{name} = {value!r} must be a positive number (threshold in cells/µL, "
                    f"check_every and earliest in weeks); give a finite value > 0 {unit}")
            object.__setattr__(self, name, float(value))


def _check_times(times_days: npt.ArrayLike, bcells: npt.ArrayLike
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    t = np.asarray(times_days, dtype=np.float64)
    b = np.asarray(bcells, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or b.shape != t.shape:
        raise InvalidInputError(f"times_days (shape {t.shape}) and bcells (shape {b.shape}) "
                                f"must be 1-D arrays of the same, non-zero length")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InvalidInputError("times_days must be finite and strictly increasing (days)")
    return t, b


def check_days(last_dose_day: float, end_day: float, rule: GuidedRule) -> npt.NDArray[np.float64]:
    """Monitoring checks (day) after a dose on ``last_dose_day``, up to ``end_day``:
    ``last + 7·(earliest + check_every·k)``, k = 0, 1, ..."""
    if not math.isfinite(last_dose_day):
        raise InvalidInputError(f"last_dose_day = {last_dose_day!r} must be a finite day")
    first = last_dose_day + 7.0 * rule.earliest
    if first > end_day:
        return np.empty(0)
    k = np.arange(0, math.floor((end_day - first) / (7.0 * rule.check_every)) + 2,
                  dtype=np.float64)
    checks: npt.NDArray[np.float64] = last_dose_day + 7.0 * (rule.earliest
                                                             + rule.check_every * k)
    return checks[checks <= end_day]


def next_guided_dose(times_days: npt.ArrayLike, bcells: npt.ArrayLike, last_dose_day: float,
                     rule: GuidedRule | None = None) -> float | None:
    """The day of the next guided dose: the first check (:func:`check_days`) within
    ``times_days`` where B cells are at or above ``rule.threshold``; None when no check in
    the grid reaches it.

    ``bcells[j]`` is the count (cells/µL) on day ``times_days[j]``; a check reads the latest
    count at or before it (on a daily grid, the count of its day).
    """
    rule = rule or GuidedRule()
    t, b = _check_times(times_days, bcells)
    checks = check_days(float(last_dose_day), float(t[-1]), rule)
    checks = checks[checks >= t[0]]
    if checks.size == 0:
        return None
    seen = b[np.searchsorted(t, checks, side="right") - 1]
    due = checks[seen >= rule.threshold]
    return float(due[0]) if due.size else None


def next_guided_date(crossings: Sequence[dt.date], last_dose: dt.date,
                     rule: GuidedRule | None = None) -> dt.date | None:
    """The date of the next guided dose from dates a measured or predicted CD19 count crosses
    the threshold; None when no crossing is after ``last_dose``.

    With ``rule``: the first check date (``last_dose`` plus ``earliest + check_every·k``
    weeks, rounded up to a whole day) on or after the first crossing after ``last_dose``.
    Without: the crossings are themselves the checks (measured counts), and the dose is on
    the first of them. Never earlier than 5 calendar months after ``last_dose`` [S3][S4][S87]
    (:func:`~ocrelisim.regimens._calendar.earliest_next_dose`); with a rule, the first check
    on or after that date.
    """
    later = sorted(c for c in crossings if c > last_dose)
    if not later:
        return None
    target = max(later[0], earliest_next_dose(last_dose))
    if rule is None:
        return target
    need = (target - last_dose).days

    def check(k: int) -> dt.date:
        offset = math.ceil(7.0 * (rule.earliest + rule.check_every * k))
        return last_dose + dt.timedelta(days=offset)

    k = max(0, math.floor(((need - 1) / 7.0 - rule.earliest) / rule.check_every))
    while check(k) < target:
        k += 1
    return check(k)
