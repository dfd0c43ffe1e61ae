"""Dosing regimens: IV infusions, SC injections, label presets, a short text form, NONMEM records.

Times are days since the first dose (t = 0), amounts mg, infusion rates mg/day. Source keys
(``[S3]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``.

Text form (tokenised, never evaluated; words are case-insensitive)::

    regimen  := clause (";" clause)*
    clause   := NUMBER ("mg" | "g") ("IV" | "SC") [mode] [schedule]   no schedule: d0
    mode     := "label" | "short" | "over" NUMBER ("min"|"h"|"d")       IV only; default label
              | "rate" NUMBER ("mg/h"|"mg/min"|"mg/d")
    schedule := time ("," time)* | "q" NUMBER ("d"|"w") "x" INT ["from" time]
    time     := "d" NUMBER | "w" NUMBER                               day or week of the dose

``"300 mg IV d0, d14; 600 mg IV q24w x4 from d168"``: ``x`` counts doses; ``q24w x4 from d168``
means days 168, 336, 504 and 672. ``str(regimen)`` writes this form and ``Regimen.parse`` reads
it back to an equal regimen (numbers in their shortest exact form).

NONMEM records (:meth:`Regimen.to_nonmem`): TIME in days, AMT mg, RATE mg/day, CMT 1 = SC depot,
2 = central. A stepped IV infusion is written as one row per rate step, each with its RATE and
its DUR (day) so that it reads back exactly; contiguous IV rows (each starting where the previous
ended) are read back as one stepped infusion.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import pairwise
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._types import Float1D, Int1D
from .errors import RegimenError
from .parameters import (
    IV_CONCENTRATION,
    MAINTENANCE_INTERVAL,
    MIN_INTERVAL_600,
    SHORT_INFUSION_DURATION,
    Parameter,
)
from .units import DAYS_PER_WEEK, HOURS_PER_DAY, MINUTES_PER_DAY

# Solver compartments, 0-based (DoseEvents.cmt); NONMEM CMT is 1-based.
CMT_DEPOT, CMT_CENTRAL, CMT_PERIPHERAL = 0, 1, 2

STARTING_DOSE = Parameter(300.0, "mg", (1.0, 2000.0), "[S3][S4]: 300 mg IV, twice, 2 weeks apart")
SECOND_START_DAY = Parameter(14.0, "day", (1.0, 60.0), "[S3][S4]: second 300 mg 2 weeks later")
MAINTENANCE_DOSE = Parameter(600.0, "mg", (1.0, 2000.0), "[S3][S4]: 600 mg IV every 6 months")
SC_DOSE = Parameter(920.0, "mg", (1.0, 2000.0), "[S6]: 920 mg SC every 6 months")
EXTENDED_INTERVAL = Parameter(
    33.0 * 7.0, "day", (1.0, 1000.0),
    "no fixed extended-interval rule was published ([S32]-[S35]); 24 weeks plus the median "
    "delay 8.68 weeks [S32] or mean extension 9 weeks [S33], rounded to 33 weeks; the mean "
    "interval 7.72 months [S35] (about 33.6 weeks) agrees", assumption=True)


@dataclass(frozen=True, slots=True)
class RateTable:
    """A label infusion-rate table: start rate, raised every ``every_h`` hours to a maximum."""

    start: float  # mL/h
    increment: float  # mL/h
    maximum: float  # mL/h
    every_h: float  # h
    source: str


LABEL_RATES_300 = RateTable(30.0, 30.0, 180.0, 0.5, "[S3]: infusions 1 and 2, 300 mg in 250 mL")
LABEL_RATES_600 = RateTable(40.0, 40.0, 200.0, 0.5, "[S3]: later 600 mg in 500 mL, option 1")

PRESETS = {
    "iv": "label IV: 300 mg on days 0 and 14, then 600 mg every 24 weeks from day 168 [S3][S4]",
    "iv-short": "as 'iv', the 600 mg doses as ~2 h infusions at a constant rate [S3b][S15]",
    "sc": "Ocrevus Zunovo: 920 mg SC on day 0, then every 24 weeks [S6]",
    "iv-extended": "as 'iv', 600 mg every 33 weeks (extended interval, assumption [S32][S33])",
}

_REL_TOL = 1e-9  # steps must deliver the amount to this relative tolerance (rounding only)
_MAX_REPEAT = 10_000  # sanity cap on "x <count>" so that text cannot allocate without bound
_AMOUNT_UNITS = {"mg": 1.0, "g": 1000.0}
_DURATION_PER_DAY = {"h": HOURS_PER_DAY, "min": MINUTES_PER_DAY, "d": 1.0}
_RATE_PER_DAY = {"mg/h": HOURS_PER_DAY, "mg/min": MINUTES_PER_DAY, "mg/d": 1.0, "mg/day": 1.0}
_TIME_FACTOR = {"d": 1.0, "w": DAYS_PER_WEEK}


def _real(name: str, value: object, unit: str) -> float:
    """``value`` as a finite float, else RegimenError."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise RegimenError(f"{name} = {value!r} {unit} is not a finite number; pass a number")
    return float(value)


def _positive(name: str, value: object, unit: str) -> float:
    v = _real(name, value, unit)
    if v <= 0.0:
        raise RegimenError(f"{name} = {value!r} {unit} must be > 0; pass a positive value")
    return v


def _time(value: object, name: str = "time") -> float:
    v = _real(name, value, "day")
    if v < 0.0:
        raise RegimenError(f"{name} = {value!r} day is negative; times count days from the "
                           f"first dose (day 0) and must be >= 0")
    return v


def _fmt(x: float) -> str:
    """Shortest text that reads back as exactly ``x``."""
    return str(int(x)) if x.is_integer() and abs(x) < 2.0**53 else repr(x)


def _label_steps(amount: float) -> tuple[tuple[float, float], ...]:
    """Label rate steps [S3] (duration day, rate mg/day) delivering ``amount`` mg at 1.2 mg/mL."""
    table = LABEL_RATES_300 if amount == STARTING_DOSE.value else LABEL_RATES_600
    step_day = table.every_h / HOURS_PER_DAY
    steps: list[tuple[float, float]] = []
    delivered: list[float] = []
    ml_h = table.start
    while True:
        rate = ml_h * IV_CONCENTRATION.value * HOURS_PER_DAY  # mL/h -> mg/day
        remaining = amount - math.fsum(delivered)
        if ml_h >= table.maximum or remaining <= rate * step_day * (1.0 + 1e-12):
            steps.append((remaining / rate, rate))  # the last piece ends when the bag is empty
            return tuple(steps)
        steps.append((step_day, rate))
        delivered.append(rate * step_day)
        ml_h = min(ml_h + table.increment, table.maximum)


def _short_steps(amount: float) -> tuple[tuple[float, float], ...]:
    d = SHORT_INFUSION_DURATION.value
    return ((d, amount / d),)


@dataclass(frozen=True, slots=True)
class IVInfusion:
    """An IV infusion into the central compartment, piecewise-constant rate steps.

    Parameters
    ----------
    time : float
        Start, day since the first dose (>= 0).
    amount : float
        Dose, mg (> 0).
    steps : tuple of (float, float)
        Consecutive pieces (duration day, rate mg/day), each > 0, delivering ``amount``.
    """

    time: float
    amount: float
    steps: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", _time(self.time))
        amount = _positive("amount", self.amount, "mg")
        try:
            steps = tuple((_positive("step duration", d, "day"), _positive("step rate", r,
                           "mg/day")) for d, r in self.steps)
        except (TypeError, ValueError) as err:
            if isinstance(err, RegimenError):
                raise
            raise RegimenError(f"steps = {self.steps!r} must be (duration_day, rate_mg_per_day) "
                               f"pairs") from None
        delivered = math.fsum(d * r for d, r in steps)
        if not steps or abs(delivered - amount) > _REL_TOL * amount:
            raise RegimenError(f"IV infusion steps deliver {delivered!r} mg but amount = "
                               f"{amount!r} mg; give steps whose duration x rate sum to amount")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "steps", steps)

    @classmethod
    def label(cls, time: float, amount: float) -> IVInfusion:
        """Infusion following the label rate-step table [S3] (300 mg: 30 mL/h +30 every 30 min
        to 180 mL/h, 2.64 h; other amounts: 40 mL/h +40 to 200 mL/h, 600 mg in 3.5 h)."""
        return cls(time, amount, _label_steps(_positive("amount", amount, "mg")))

    @classmethod
    def short(cls, time: float, amount: float) -> IVInfusion:
        """The shorter 600 mg infusion: constant rate over SHORT_INFUSION_DURATION (assumption)."""
        return cls(time, amount, _short_steps(_positive("amount", amount, "mg")))

    @classmethod
    def constant(cls, time: float, amount: float, duration: float | None = None,
                 rate: float | None = None) -> IVInfusion:
        """Constant-rate infusion; give exactly one of ``duration`` (day) or ``rate`` (mg/day)."""
        if (duration is None) == (rate is None):
            raise RegimenError(f"IVInfusion.constant: got duration={duration!r}, rate={rate!r}; "
                               f"give exactly one of duration (day) or rate (mg/day)")
        a = _positive("amount", amount, "mg")
        if duration is not None:
            d = _positive("duration", duration, "day")
            return cls(time, a, ((d, a / d),))
        r = _positive("rate", rate, "mg/day")
        return cls(time, a, ((a / r, r),))

    @property
    def kind(self) -> str:
        """How the steps were made: "label", "short", "constant" (one step) or "custom"."""
        if self.steps == _label_steps(self.amount):
            return "label"
        if self.steps == _short_steps(self.amount):
            return "short"
        return "constant" if len(self.steps) == 1 else "custom"

    @property
    def route(self) -> str:
        return "IV"

    def boundaries(self) -> tuple[float, ...]:
        """Step boundary times, day: start, each step's end (cumulative sum)."""
        out = [self.time]
        for d, _ in self.steps:
            out.append(out[-1] + d)
        return tuple(out)

    @property
    def duration(self) -> float:
        """Infusion duration, day."""
        return math.fsum(d for d, _ in self.steps)

    @property
    def end(self) -> float:
        """End of the infusion, day."""
        return self.boundaries()[-1]

    def with_time(self, time: float) -> IVInfusion:
        return replace(self, time=time)


@dataclass(frozen=True, slots=True)
class SCInjection:
    """An SC injection: ``amount`` mg (> 0) into the depot at ``time`` day (first-order
    absorption; ~10 min injection [S6] treated as a bolus)."""

    time: float
    amount: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", _time(self.time))
        object.__setattr__(self, "amount", _positive("amount", self.amount, "mg"))

    @property
    def kind(self) -> str:
        return "sc"

    @property
    def route(self) -> str:
        return "SC"

    @property
    def duration(self) -> float:
        """0 day: a bolus into the depot."""
        return 0.0

    @property
    def end(self) -> float:
        """Same as ``time``, day."""
        return self.time

    def with_time(self, time: float) -> SCInjection:
        return replace(self, time=time)


Dose = IVInfusion | SCInjection


@dataclass(frozen=True, slots=True, eq=False)
class DoseEvents:
    """Dose events for the solver, sorted by time (read-only arrays of one length).

    ``time`` day; ``cmt`` 0-based (0 SC depot, 1 central, 2 peripheral); ``rate`` change of the
    zero-order input rate into ``cmt`` from this time on, mg/day; ``bolus`` mg added to ``cmt``.
    Rate rows of each infusion add up, in order, to exactly zero at its end.
    """

    time: Float1D
    cmt: Int1D
    rate: Float1D
    bolus: Float1D

    def __post_init__(self) -> None:
        for name, dtype in (("time", np.float64), ("cmt", np.int64), ("rate", np.float64),
                            ("bolus", np.float64)):
            a = np.array(getattr(self, name), dtype=dtype)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    def __len__(self) -> int:
        return int(self.time.size)


def _dose_key(d: Dose) -> tuple[Any, ...]:
    return (d.time, 0, d.amount, d.steps) if isinstance(d, IVInfusion) else (d.time, 1, d.amount)


def _repeat(start: float, interval: float, count: int) -> list[float]:
    return [start + k * interval for k in range(count)]


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
        text = _to_text(self)
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
        """Read the text form (grammar in the module docstring).

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
        doses = _Parser(text).regimen()
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
        return pd.DataFrame(
            [(i, d.time, d.route, d.amount, d.kind, d.duration * HOURS_PER_DAY, d.end,
              len(d.steps) if isinstance(d, IVInfusion) else 0) for i, d in enumerate(self)],
            columns=["dose", "day", "route", "amount_mg", "kind", "duration_h", "end_day",
                     "n_steps"])

    def to_nonmem(self, id: int | str = 1) -> pd.DataFrame:
        """NONMEM dose records: ID TIME EVID AMT RATE DUR CMT II ADDL SS (one row per SC dose
        and per infusion rate step; TIME day, AMT mg, RATE mg/day, DUR day; CMT 1 depot,
        2 central; step AMTs sum exactly to the dose)."""
        rows: list[tuple[float, float, float, float, int]] = []
        for d in self.doses:
            if isinstance(d, SCInjection):
                rows.append((d.time, d.amount, 0.0, 0.0, CMT_DEPOT + 1))
                continue
            for b, (dur, r), a in zip(d.boundaries(), d.steps, _step_amounts(d), strict=False):
                rows.append((b, a, r, dur, CMT_CENTRAL + 1))
        rows.sort(key=lambda row: row[0])
        df = pd.DataFrame(rows, columns=["TIME", "AMT", "RATE", "DUR", "CMT"])
        df.insert(0, "ID", id)
        df.insert(2, "EVID", 1)
        df["II"], df["ADDL"], df["SS"] = 0.0, 0, 0
        return df[["ID", "TIME", "EVID", "AMT", "RATE", "DUR", "CMT", "II", "ADDL", "SS"]]

    @classmethod
    def from_nonmem(cls, df: pd.DataFrame) -> Regimen:
        """One subject's regimen from NONMEM records (EVID 1 rows; ADDL/II expanded).

        A row is an infusion when RATE > 0 (mg/day) or DUR > 0 (day), or RATE = -2 with DUR;
        otherwise a bolus. CMT 1: SC injection (bolus only); CMT 2: IV infusion (infusion only).
        Raises RegimenError for several IDs (use :func:`read_nonmem`) or bad columns.
        """
        rec = _records(df, require_id=False)
        ids = rec["ID"].unique() if "ID" in rec else [None]
        if len(ids) > 1:
            raise RegimenError(f"NONMEM data holds {len(ids)} IDs ({', '.join(map(str, ids[:5]))}"
                               f"...); from_nonmem reads one subject: use read_nonmem(df)")
        return _regimen_from_records(rec, "")


# --- text form ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
                    r"|(?P<word>[A-Za-z/]+)|(?P<punct>[,;]))")


class _Tok(NamedTuple):
    kind: str  # num | word | punct | end
    text: str
    col: int  # 1-based


def _tokenize(text: str) -> list[_Tok]:
    toks, pos = [], 0
    while (m := _TOKEN.match(text, pos)) is not None:
        kind = str(m.lastgroup)
        toks.append(_Tok(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    rest = text[pos:]
    if rest.strip():
        col = pos + len(rest) - len(rest.lstrip()) + 1
        raise RegimenError(f"{text!r}: unexpected character {text[col - 1]!r} at column {col}; "
                           f"regimen text holds numbers, words, ',' and ';'")
    return [*toks, _Tok("end", "end of text", len(text) + 1)]


class _Parser:
    """Recursive-descent reader of the grammar in the module docstring."""

    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokenize(text), 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def word(self) -> str:
        tok = self.peek()
        return tok.text.lower() if tok.kind == "word" else ""

    def fail(self, tok: _Tok, what: str, fix: str) -> RegimenError:
        return RegimenError(f"{self.text!r}: {what} at column {tok.col}; {fix}")

    def number(self, what: str) -> float:
        tok = self.take()
        if tok.kind != "num":
            raise self.fail(tok, f"expected {what} (a number), got {tok.text!r}",
                            "see Regimen.parse for the grammar")
        return float(tok.text)

    def unit(self, table: dict[str, float], what: str) -> float:
        tok = self.take()
        factor = table.get(tok.text.lower()) if tok.kind == "word" else None
        if factor is None:
            raise self.fail(tok, f"unknown {what} {tok.text!r}", f"use {' or '.join(table)}")
        return factor

    def regimen(self) -> list[Dose]:
        doses = self.clause()
        while (tok := self.take()).kind != "end":
            if tok.text != ";":
                raise self.fail(tok, f"unexpected {tok.text!r}",
                                "separate clauses with ';' and dose times with ','")
            doses += self.clause()
        return doses

    def clause(self) -> list[Dose]:
        first = self.peek()
        amount = self.number("the dose amount") * self.unit(_AMOUNT_UNITS, "unit")
        route_tok = self.take()
        route = route_tok.text.upper() if route_tok.kind == "word" else ""
        if route not in ("IV", "SC"):
            raise self.fail(route_tok, f"unknown route {route_tok.text!r}", "use IV or SC")
        make = self.mode(route, amount)
        times = self.schedule()
        try:
            return [make(t) for t in times]
        except RegimenError as err:
            raise RegimenError(f"{self.text!r}: clause at column {first.col}: {err}") from None

    def mode(self, route: str, amount: float) -> Callable[[float], Dose]:
        tok, w = self.peek(), self.word()
        if w not in ("label", "short", "over", "rate"):
            if route == "SC":
                return lambda t: SCInjection(t, amount)
            return lambda t: IVInfusion.label(t, amount)
        if route == "SC":
            raise self.fail(tok, f"infusion option {tok.text!r} given for an SC dose",
                            "SC doses take no infusion option: remove it or use IV")
        self.take()
        if w in ("label", "short"):
            build = IVInfusion.label if w == "label" else IVInfusion.short
            return lambda t: build(t, amount)
        vtok = self.peek()
        value = self.number("the infusion duration" if w == "over" else "the infusion rate")
        table = _DURATION_PER_DAY if w == "over" else _RATE_PER_DAY
        factor = self.unit(table, "duration unit" if w == "over" else "rate unit")
        if not value > 0.0:
            raise self.fail(vtok, f"infusion {'duration' if w == 'over' else 'rate'} "
                            f"{vtok.text} is not positive", "give a value > 0")
        if w == "over":
            return lambda t: IVInfusion.constant(t, amount, duration=value / factor)
        return lambda t: IVInfusion.constant(t, amount, rate=value * factor)

    def schedule(self) -> list[float]:
        tok = self.peek()
        if tok.kind == "end" or tok.text == ";":
            return [0.0]
        if self.word() == "q":
            return self.repeat()
        times = [self.time()]
        while self.peek().text == ",":
            self.take()
            times.append(self.time())
        return times

    def time(self) -> float:
        tok = self.peek()
        if self.word() not in _TIME_FACTOR:
            raise self.fail(tok, f"expected a dose time like d14 or w2, got {tok.text!r}",
                            "write times as d<day> or w<week> counted from the first dose")
        factor = self.unit(_TIME_FACTOR, "time unit")
        ntok = self.peek()
        t = self.number("the dose day") * factor
        if t < 0.0:
            raise self.fail(ntok, f"negative time {tok.text}{ntok.text}",
                            "times count from the first dose (d0) and must be >= 0")
        return t

    def repeat(self) -> list[float]:
        self.take()  # q
        qtok = self.peek()
        interval = self.number("the dosing interval") * self.unit(_TIME_FACTOR, "interval unit")
        if not interval > 0.0:
            raise self.fail(qtok, f"dosing interval q{qtok.text} is not positive",
                            "give an interval > 0, e.g. q24w")
        xtok = self.take()
        if xtok.kind != "word" or xtok.text.lower() != "x":
            raise self.fail(xtok, f"expected 'x <count>' after the interval, got {xtok.text!r}",
                            "write e.g. q24w x4")
        ctok = self.take()
        if not (ctok.kind == "num" and ctok.text.isdigit() and 1 <= int(ctok.text) <= _MAX_REPEAT):
            raise self.fail(ctok, f"dose count {ctok.text!r} is not a whole number in "
                            f"[1, {_MAX_REPEAT}]", "write e.g. x4")
        start = 0.0
        if self.word() == "from":
            self.take()
            start = self.time()
        return _repeat(start, interval, int(ctok.text))


def _mode_text(d: IVInfusion) -> str | None:
    """The infusion option that parse turns back into exactly ``d``'s steps, or None."""
    kind = d.kind
    if kind in ("label", "short"):
        return "" if kind == "label" else " short"
    if kind == "custom":
        return None
    dur, rate = d.steps[0]
    texts = []
    if d.amount / dur == rate:
        texts += [f" over {_fmt(dur * k)}{unit}" for unit, k in _DURATION_PER_DAY.items()
                  if float(_fmt(dur * k)) / k == dur]
    if d.amount / rate == dur:
        texts += [f" rate {_fmt(rate / k)} {unit}" for unit, k in _RATE_PER_DAY.items()
                  if float(_fmt(rate / k)) * k == rate]
    return min(texts, key=len, default=None)  # the shortest exact spelling


def _schedule_texts(times: list[float]) -> list[str]:
    """Dose times as schedules: runs of >= 3 equally spaced doses as 'q.. x.. from ..'."""
    out: list[str] = []
    pending: list[float] = []
    i = 0
    while i < len(times):
        start, n = times[i], 1
        q = times[i + 1] - start if i + 1 < len(times) else 0.0
        while q > 0.0 and i + n < len(times) and start + n * q == times[i + n]:
            n += 1
        if n < 3:
            pending.append(start)
            i += 1
            continue
        if pending:
            out.append(", ".join(f"d{_fmt(t)}" for t in pending))
            pending = []
        weeks = f"q{_fmt(q / 7.0)}w" if float(_fmt(q / 7.0)) * 7.0 == q else ""
        every = min((weeks, f"q{_fmt(q)}d"), key=lambda s: len(s) if s else math.inf)
        out.append(f"{every} x{n}" + (f" from d{_fmt(start)}" if start else ""))
        i += n
    if pending:
        out.append(", ".join(f"d{_fmt(t)}" for t in pending))
    return out


def _to_text(regimen: Regimen) -> str | None:
    groups: dict[Dose, list[float]] = {}
    for d in regimen.doses:
        groups.setdefault(d.with_time(0.0), []).append(d.time)
    clauses = []
    for d, times in groups.items():
        mode = _mode_text(d) if isinstance(d, IVInfusion) else ""
        if mode is None:
            return None
        clauses += [f"{_fmt(d.amount)} mg {d.route}{mode} {s}" for s in _schedule_texts(times)]
    return "; ".join(clauses)


# --- NONMEM records ----------------------------------------------------------------------------

_NUMERIC = ("ID", "TIME", "EVID", "AMT", "RATE", "DUR", "CMT", "II", "ADDL", "SS")
_RESERVED = frozenset((*_NUMERIC, "MDV", "DV", "DATE", "DAT1", "DAT2", "DAT3", "PCMT", "CALL",
                       "CONT", "L1", "L2"))


@dataclass(frozen=True, slots=True, eq=False)
class NonmemData:
    """Several subjects read from NONMEM records (:func:`read_nonmem`).

    ``ids`` in order of appearance; ``regimens`` one per ID; ``covariates`` one row per ID
    (column ID, then each non-NONMEM column: its first non-missing value); ``records`` the input
    rows (upper-case names, NONMEM columns as float) with covariate columns carried forward
    (LOCF) within each ID, for time-varying covariates.
    """

    ids: tuple[Any, ...]
    regimens: tuple[Regimen, ...]
    covariates: pd.DataFrame
    records: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)


def read_nonmem(df: pd.DataFrame) -> NonmemData:
    """Regimens and covariates of every subject in NONMEM records.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ID, TIME (day), EVID, AMT (mg), CMT; optional RATE (mg/day), DUR (day), II (day),
        ADDL, SS (must be 0); any other columns are covariates. Rows sorted by TIME within ID.

    Returns
    -------
    NonmemData

    Raises
    ------
    RegimenError
        A missing or malformed column (named), or a subject whose doses are invalid.
    """
    rec = _records(df, require_id=True)
    ids = rec["ID"].to_numpy()
    if int(np.count_nonzero(ids[1:] != ids[:-1])) + 1 != len(pd.unique(ids)):
        raise RegimenError("NONMEM data: the rows of each ID must be contiguous; sort by ID, TIME")
    groups = list(rec.groupby("ID", sort=False))
    regimens = tuple(_regimen_from_records(g, f" (ID {i})") for i, g in groups)
    cov = [c for c in rec.columns if c not in _RESERVED]
    records = rec.copy()
    if cov:
        records[cov] = rec.groupby("ID", sort=False)[cov].ffill()
    covariates = rec[["ID", *cov]].groupby("ID", sort=False).first().reset_index()
    return NonmemData(tuple(i for i, _ in groups), regimens, covariates, records)


def _records(df: pd.DataFrame, require_id: bool) -> pd.DataFrame:
    """Validated copy of NONMEM records: upper-case names, numeric NONMEM columns."""
    if not isinstance(df, pd.DataFrame):
        raise RegimenError(f"NONMEM data must be a pandas DataFrame, got {type(df).__name__}; "
                           f"read the file with pandas.read_csv first")
    names = [str(c).strip().upper() for c in df.columns]
    if len(set(names)) != len(names):
        raise RegimenError(f"NONMEM data: duplicate column names {names}; keep one of each")
    rec = df.set_axis(names, axis=1).reset_index(drop=True)
    required = ("ID", "TIME", "EVID", "AMT", "CMT") if require_id else ("TIME", "EVID", "AMT",
                                                                         "CMT")
    for c in required:
        if c not in rec:
            raise RegimenError(f"NONMEM data: missing column {c!r}; required: "
                               f"{', '.join(required)} (optional RATE, DUR, II, ADDL, SS)")
    for c in _NUMERIC[1:]:
        if c in rec:
            rec[c] = _numeric(rec[c], c)
    for c in ("ID", "TIME", "EVID"):
        if c in rec:
            bad = np.flatnonzero(rec[c].isna().to_numpy())
            if bad.size:
                raise RegimenError(f"NONMEM data: column {c!r} row {bad[0]} is missing; "
                                   f"every row needs {c}")
    if "ID" in rec and pd.api.types.is_float_dtype(rec["ID"]) and \
            bool((rec["ID"] % 1 == 0).all()):
        rec["ID"] = rec["ID"].astype(np.int64)  # 1.0 -> 1
    time = rec["TIME"].to_numpy(float)
    if (time < 0).any():
        i = int(np.argmax(time < 0))
        raise RegimenError(f"NONMEM data: column 'TIME' row {i} is {time[i]:g} day, negative; "
                           f"times count days from the first dose and must be >= 0")
    evid = rec["EVID"].to_numpy(float)
    if not np.isin(evid, (0, 1, 2)).all():
        i = int(np.argmax(~np.isin(evid, (0, 1, 2))))
        raise RegimenError(f"NONMEM data: column 'EVID' row {i} is {evid[i]:g}; only 0 "
                           f"(observation), 1 (dose) and 2 (other) are supported (no resets)")
    return rec


def _numeric(s: pd.Series, name: str) -> pd.Series:
    """Column as float; NONMEM's '.' reads as missing; anything else non-numeric is an error."""
    if not pd.api.types.is_numeric_dtype(s):
        s = s.where(s.astype(str).str.strip() != ".", None)
    out = pd.to_numeric(s, errors="coerce").astype(float)
    bad = np.flatnonzero(out.isna().to_numpy() & s.notna().to_numpy())
    if bad.size:
        raise RegimenError(f"NONMEM data: column {name!r} row {bad[0]} holds "
                           f"{s.iloc[bad[0]]!r}, not a number; write numbers ('.' = missing)")
    return out


def _opt(row: Any, name: str) -> float:
    v = getattr(row, name, math.nan)
    return 0.0 if math.isnan(v) else float(v)


class _Entry(NamedTuple):
    time: float
    row: int
    amount: float
    duration: float  # day; 0 for a bolus
    rate: float  # mg/day; 0 for a bolus
    cmt: int


def _row_entries(row: Any) -> list[_Entry]:
    """The doses of one EVID 1 row (ADDL expanded), checked."""
    amt, cmt = float(row.AMT), row.CMT
    rate, dur = _opt(row, "RATE"), _opt(row, "DUR")
    ii, addl, ss = _opt(row, "II"), _opt(row, "ADDL"), _opt(row, "SS")
    if ss != 0.0:
        raise RegimenError(f"SS = {ss:g}: steady-state doses are not supported; list the doses")
    if not (addl >= 0 and addl.is_integer()) or ii < 0 or (addl > 0 and ii <= 0):
        raise RegimenError(f"ADDL = {addl:g}, II = {ii:g}: ADDL must be a whole number >= 0 "
                           f"and additional doses need II > 0 (day)")
    if not (math.isfinite(amt) and amt > 0):
        raise RegimenError(f"AMT = {amt!r} mg must be finite and > 0 for a dose")
    if rate > 0 and dur > 0 and abs(rate * dur - amt) > _REL_TOL * amt:
        raise RegimenError(f"RATE x DUR = {rate * dur!r} mg differs from AMT = {amt!r} mg")
    if rate < 0 and not (rate == -2 and dur > 0):
        raise RegimenError(f"RATE = {rate:g} is not supported; give RATE in mg/day or "
                           f"RATE = -2 with DUR in days")
    if rate > 0 or dur > 0:
        dur, rate = (dur if dur > 0 else amt / rate), (rate if rate > 0 else amt / dur)
    if cmt not in (1, 2):
        raise RegimenError(f"CMT = {cmt!r}: doses go to CMT 1 (SC depot) or 2 (central, IV)")
    if cmt == 1 and rate > 0:
        raise RegimenError("CMT 1 (SC depot) dose with RATE or DUR > 0: SC doses are boluses "
                           "into the depot; set RATE and DUR to 0")
    if cmt == 2 and rate == 0:
        raise RegimenError("CMT 2 (central) dose without RATE or DUR: IV doses are infusions; "
                           "give RATE (mg/day) or DUR (day) > 0")
    return [_Entry(float(row.TIME) + k * ii, int(row.Index), amt, dur, rate, int(cmt))
            for k in range(int(addl) + 1)]


def _regimen_from_records(rec: pd.DataFrame, where: str) -> Regimen:
    time = rec["TIME"].to_numpy(float)
    if (np.diff(time) < 0).any():
        i = int(np.argmax(np.diff(time) < 0)) + 1
        raise RegimenError(f"NONMEM data{where}: TIME decreases at row {rec.index[i]} "
                           f"({time[i]:g} after {time[i - 1]:g}); sort records by ID and TIME")
    entries: list[_Entry] = []
    for row in rec[rec["EVID"] == 1].itertuples():
        try:
            entries += _row_entries(row)
        except RegimenError as err:
            raise RegimenError(f"NONMEM data{where}, row {row.Index}: {err}") from None
    if not entries:
        raise RegimenError(f"NONMEM data{where}: no dose records (EVID 1); add the doses")
    doses: list[Dose] = [SCInjection(e.time, e.amount) for e in entries if e.cmt == 1]
    groups: list[list[_Entry]] = []
    for e in sorted((e for e in entries if e.cmt == 2), key=lambda e: (e.time, e.row)):
        prev = groups[-1][-1] if groups else None
        if prev and math.isclose(e.time, prev.time + prev.duration, rel_tol=1e-12, abs_tol=1e-9):
            groups[-1].append(e)  # starts where the previous step ended: same infusion
        else:
            groups.append([e])
    doses += [IVInfusion(g[0].time, math.fsum(e.amount for e in g),
                         tuple((e.duration, e.rate) for e in g)) for g in groups]
    try:
        return Regimen(tuple(doses))
    except RegimenError as err:
        raise RegimenError(f"NONMEM data{where}: {err}") from None


def _step_amounts(d: IVInfusion) -> list[float]:
    """Per-step amounts, mg, nudged by ulps so that math.fsum gives exactly ``d.amount``."""
    head = [dur * r for dur, r in d.steps[:-1]]
    last = d.amount - math.fsum(head)
    for _ in range(8):
        total = math.fsum([*head, last])
        if total == d.amount:
            break
        last = math.nextafter(last, math.inf if total < d.amount else -math.inf)
    return [*head, last]
