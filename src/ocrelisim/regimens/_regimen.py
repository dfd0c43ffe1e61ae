"""Regimen: a sorted, non-overlapping set of doses; label presets, label rules, solver events.

The text form lives in ``_text`` and the NONMEM records in ``_nonmem``; ``_nonmem`` builds
Regimens, so the NONMEM methods here import it when called.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from .._types import Float1D
from ..errors import RegimenError
from ..parameters import MAINTENANCE_INTERVAL, MIN_INTERVAL_600
from ..units import HOURS_PER_DAY
from ._doses import (
    _MAX_REPEAT,
    CMT_CENTRAL,
    CMT_DEPOT,
    EXTENDED_INTERVAL,
    MAINTENANCE_DOSE,
    SC_DOSE,
    SECOND_START_DAY,
    STARTING_DOSE,
    Dose,
    DoseEvents,
    IVInfusion,
    SCInjection,
    _positive,
    _repeat,
    _time,
)
from ._text import parse_doses, to_text

if TYPE_CHECKING:  # pandas loads when a table is made, not on import
    import pandas as pd

PRESETS = {
    "iv": "label IV: 300 mg on days 0 and 14, then 600 mg every 24 weeks from day 168 [S3][S4]",
    "iv-short": "as 'iv', the 600 mg doses as ~2 h infusions at a constant rate [S3b][S15]",
    "sc": "Ocrevus Zunovo: 920 mg SC on day 0, then every 24 weeks [S6]",
    "iv-extended": "as 'iv', 600 mg every 33 weeks (extended interval, assumption [S32][S33])",
}


def _dose_key(d: Dose) -> tuple[Any, ...]:
    return (d.time, 0, d.amount, d.steps) if isinstance(d, IVInfusion) else (d.time, 1, d.amount)


@dataclass(frozen=True, slots=True)
class Regimen:
    """A dosing regimen: doses sorted by time; IV infusions must not overlap.

    Parameters
    ----------
    doses : tuple of IVInfusion or SCInjection
        At least one dose, in any order.
    """

    doses: tuple[Dose, ...]

    def __post_init__(self) -> None:
        doses = tuple(self.doses) if isinstance(self.doses, tuple | list) else ()
        if not doses:
            raise RegimenError(f"regimen doses = {self.doses!r} holds no doses; give a tuple of "
                               f"at least one IVInfusion or SCInjection")
        for d in doses:
            if not isinstance(d, IVInfusion | SCInjection):
                raise RegimenError(f"regimen dose {d!r} is not an IVInfusion or SCInjection")
        doses = tuple(sorted(doses, key=_dose_key))
        ivs = [d for d in doses if isinstance(d, IVInfusion)]
        for a, b in pairwise(ivs):
            if b.time < a.end:
                raise RegimenError(f"IV infusions overlap: the one starting on day {a.time!r} "
                                   f"ends on day {a.end!r}, after the next one starts (day "
                                   f"{b.time!r}); start each infusion after the previous ends")
        object.__setattr__(self, "doses", doses)

    def __len__(self) -> int:
        return len(self.doses)

    def __iter__(self) -> Iterator[Dose]:
        return iter(self.doses)

    def __getitem__(self, index: int) -> Dose:
        return self.doses[self._index(index)]

    def __add__(self, other: object) -> Regimen:
        if not isinstance(other, Regimen):
            return NotImplemented
        return Regimen(self.doses + other.doses)

    def __str__(self) -> str:
        text = to_text(self.doses)
        return repr(self) if text is None else text

    @property
    def end(self) -> float:
        """End of the last dose (infusion end or injection time), day."""
        return max(d.end for d in self.doses)

    def _index(self, index: int) -> int:
        try:
            i = operator.index(index)
        except TypeError:
            i = len(self)  # reported as out of range below
        if not -len(self) <= i < len(self):
            raise RegimenError(f"dose index {index!r} is out of range for a regimen of "
                               f"{len(self)} doses; use 0 .. {len(self) - 1}")
        return i % len(self)

    @classmethod
    def parse(cls, text: str) -> Regimen:
        """Read the text form (grammar in the :mod:`ocrelisim.regimens` docstring).

        Parameters
        ----------
        text : str
            E.g. ``"300 mg IV d0, d14; 600 mg IV q24w x4 from d168"`` or ``"920 mg SC q24w x4"``.

        Returns
        -------
        Regimen
            Equal to ``Regimen.parse(str(result))``.

        Raises
        ------
        RegimenError
            Naming the column and the token that could not be read, or the broken dose rule.
        """
        if not isinstance(text, str) or not text.strip():
            raise RegimenError(f"regimen text {text!r} is empty or not a string; write e.g. "
                               f"'300 mg IV d0, d14; 600 mg IV q24w x4 from d168'")
        doses = parse_doses(text)
        try:
            return cls(tuple(doses))
        except RegimenError as err:
            raise RegimenError(f"{text!r}: {err}") from None

    @classmethod
    def preset(cls, name: str, maintenance_doses: int = 4) -> Regimen:
        """A named regimen from :data:`PRESETS`.

        Parameters
        ----------
        name : str
            "iv", "iv-short", "sc" or "iv-extended".
        maintenance_doses : int
            Doses after the start, every 24 weeks (33 for "iv-extended"): 600 mg IV after the
            two 300 mg infusions; for "sc" 920 mg after the first 920 mg on day 0, so the last
            dose of "iv", "iv-short" and "sc" falls on the same day.
        """
        if name not in PRESETS:
            raise RegimenError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
        if isinstance(maintenance_doses, bool) or not isinstance(maintenance_doses, int) \
                or not 0 <= maintenance_doses <= _MAX_REPEAT:
            raise RegimenError(f"maintenance_doses = {maintenance_doses!r} must be a whole "
                               f"number in [0, {_MAX_REPEAT}]")
        n, q = maintenance_doses, MAINTENANCE_INTERVAL.value
        if name == "sc":
            return cls(tuple(SCInjection(t, SC_DOSE.value) for t in _repeat(0.0, q, n + 1)))
        start = (0.0, SECOND_START_DAY.value)
        make = IVInfusion.short if name == "iv-short" else IVInfusion.label
        q = EXTENDED_INTERVAL.value if name == "iv-extended" else q
        return cls((*(IVInfusion.label(t, STARTING_DOSE.value) for t in start),
                    *(make(t, MAINTENANCE_DOSE.value) for t in _repeat(q, q, n))))

    def check(self, strict: bool = False) -> list[str]:
        """Label-rule violations: IV doses of 600 mg or more less than MIN_INTERVAL_600
        (5 months) apart [S3][S4]. With ``strict`` raise RegimenError instead of returning."""
        big = [(i, d) for i, d in enumerate(self.doses)
               if isinstance(d, IVInfusion) and d.amount >= MAINTENANCE_DOSE.value]
        out = [f"doses[{i}] (day {a.time:g}) and doses[{j}] (day {b.time:g}) are "
               f"{b.time - a.time:g} days apart; the label requires at least "
               f"{MIN_INTERVAL_600.value:g} days (5 months) between 600 mg doses [S3][S4]"
               for (i, a), (j, b) in pairwise(big) if b.time - a.time < MIN_INTERVAL_600.value]
        if strict and out:
            raise RegimenError("regimen breaks a label rule: " + "; ".join(out)
                               + "; space the doses further apart or pass strict=False")
        return out

    def with_missed(self, index: int, given_on: float) -> Regimen:
        """The regimen with dose ``index`` given late, on day ``given_on``.

        Label rule [S3][S4]: give a missed dose as soon as possible and the next 6 months
        (MAINTENANCE_INTERVAL, 24 weeks) later; later doses move with it, keeping their
        spacing. A next dose originally closer than 5 months (MIN_INTERVAL_600: the second
        300 mg infusion of the split start) keeps its original spacing instead.

        Parameters
        ----------
        index : int
            Position of the missed dose in ``doses`` (negative counts from the end).
        given_on : float
            Day it is given, after its scheduled day.
        """
        i = self._index(index)
        dose, later = self.doses[i], self.doses[i + 1:]
        given = _time(given_on, "given_on")
        if not given > dose.time:
            raise RegimenError(f"given_on = {given_on!r} day is not after dose {index}'s "
                               f"scheduled day {dose.time!r}; a missed dose is given later")
        new = [*self.doses[:i], dose.with_time(given)]
        if later:
            gap = later[0].time - dose.time
            gap = gap if gap < MIN_INTERVAL_600.value else MAINTENANCE_INTERVAL.value
            shift = given + gap - later[0].time
            new += [d.with_time(d.time + shift) for d in later]
        return Regimen(tuple(new))

    def with_delay(self, index: int, days: float) -> Regimen:
        """Dose ``index`` given ``days`` (> 0) late; see :meth:`with_missed`."""
        i = self._index(index)
        return self.with_missed(i, self.doses[i].time + _positive("delay", days, "day"))

    def events(self) -> DoseEvents:
        """Solver events: a row per rate change of each infusion (at its start, at each step
        boundary and at its end), a bolus row into the depot per SC dose.

        Returns
        -------
        DoseEvents
            Arrays of shape (n_events,), sorted by time (stable: same-time rows keep dose order).
        """
        rows: list[tuple[float, int, float, float]] = []
        for d in self.doses:
            if isinstance(d, SCInjection):
                rows.append((d.time, CMT_DEPOT, 0.0, d.amount))
                continue
            u = 0.0  # input rate as the solver accumulates it; the last row returns it to 0
            for b, (_, r) in zip(d.boundaries(), d.steps, strict=False):
                rows.append((b, CMT_CENTRAL, r - u, 0.0))
                u += r - u
            rows.append((d.end, CMT_CENTRAL, -u, 0.0))
        rows.sort(key=lambda row: row[0])  # stable: same-time rows keep dose order
        cols = [np.array(c) for c in zip(*rows, strict=True)]
        return DoseEvents(*cols)

    def breakpoints(self) -> Float1D:
        """Sorted unique event times, day."""
        return np.unique(self.events().time)

    def table(self) -> pd.DataFrame:
        """One row per dose: dose, day, route, amount_mg, kind, duration_h, end_day, n_steps."""
        import pandas as pd

        return pd.DataFrame(
            [(i, d.time, d.route, d.amount, d.kind, d.duration * HOURS_PER_DAY, d.end,
              len(d.steps) if isinstance(d, IVInfusion) else 0) for i, d in enumerate(self)],
            columns=["dose", "day", "route", "amount_mg", "kind", "duration_h", "end_day",
                     "n_steps"])

    def to_nonmem(self, id: int | str = 1) -> pd.DataFrame:
        """NONMEM dose records: ID TIME EVID AMT RATE DUR CMT II ADDL SS (one row per SC dose
        and per infusion rate step; TIME day, AMT mg, RATE mg/day, DUR day; CMT 1 depot,
        2 central; step AMTs sum exactly to the dose)."""
        from ._nonmem import to_nonmem

        return to_nonmem(self.doses, id)

    @classmethod
    def from_nonmem(cls, df: pd.DataFrame) -> Regimen:
        """One subject's regimen from NONMEM records (EVID 1 rows; ADDL/II expanded).

        A row is an infusion when RATE > 0 (mg/day) or DUR > 0 (day), or RATE = -2 with DUR;
        otherwise a bolus. CMT 1: SC injection (bolus only); CMT 2: IV infusion (infusion only).
        Raises RegimenError for several IDs (use :func:`read_nonmem`) or bad columns.
        """
        from ._nonmem import from_nonmem

        return from_nonmem(df)
