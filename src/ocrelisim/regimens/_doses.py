"""Doses: IV infusions (label rate steps), SC injections, solver dose events, dose constants.

Times are days since the first dose (t = 0), amounts mg, infusion rates mg/day. Source keys
(``[S3]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from .._types import Float1D, Int1D
from ..errors import RegimenError
from ..parameters import IV_CONCENTRATION, SHORT_INFUSION_DURATION, Parameter
from ..units import HOURS_PER_DAY

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


@dataclass(frozen=True, slots=True)
class RateSteps:
    """A label infusion-rate table written out step by step: (rate mL/h, minutes) pairs."""

    steps: tuple[tuple[float, float], ...]
    source: str


SHORT_RATES_600 = RateSteps(
    ((100.0, 15.0), (200.0, 15.0), (250.0, 30.0), (300.0, 60.0)),
    "[S65][S3b][S15]: the shorter 600 mg infusion (option 2) in 500 mL, Swiss label 11/2020 "
    "(US label steps not seen): 25 + 50 + 125 + 300 = 500 mL in 120 min; only if no prior "
    "serious IRR. IVInfusion.short still runs at a constant rate over the same 2 h")

_REL_TOL = 1e-9  # steps must deliver the amount to this relative tolerance (rounding only)
_MAX_REPEAT = 10_000  # sanity cap on "x <count>" so that text cannot allocate without bound


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


def _repeat(start: float, interval: float, count: int) -> list[float]:
    return [start + k * interval for k in range(count)]
