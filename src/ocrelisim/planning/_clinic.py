"""Clinic capacity: an infusion suite's day as appointments (baseline and CP-SAT) and as a
SimPy discrete-event simulation with common random numbers.

The suite has chairs and nurses; starting a visit (checks, cannula, premedication) needs a nurse
for ``DayOptions.checks_min``; each nurse watches at most ``infusions_per_nurse`` running IV
infusions; an SC injection needs a nurse for its 10 minutes [S6]. Visit phases come from the
infusion-day model (label rate tables, premedication lead, observation). Operational numbers
the dossier does not give (opening hours, nurse ratio, overtime allowed) are options whose
defaults are assumptions.

Times are whole minutes from opening. The objective, compared lexicographically, is: patients
treated (more is better), then overtime (minutes the suite stays open past closing), then
waiting (patient-minutes between the requested time and the start of each phase).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputError, InvalidParameterError
from ._day import (
    VISIT_KINDS,
    DayOptions,
    VisitKind,
    check_visit,
    infusion_day,
)


@dataclass(frozen=True, slots=True)
class ClinicOptions:
    """The suite: chairs, nurses, hours. Defaults other than the counts are assumptions."""

    chairs: int
    nurses: int
    infusions_per_nurse: int = 4  # assumption: one nurse watches up to 4 running infusions
    opens: int = 8 * 60  # assumption: 08:00, minutes after midnight
    closes: int = 18 * 60  # assumption: 18:00
    max_overtime: int = 120  # assumption: booked visits may end up to 2 h after closing
    slot: int = 15  # assumption: appointments on a 15-minute grid
    day: DayOptions = field(default_factory=DayOptions)

    def __post_init__(self) -> None:
        for name, lo, hi in (("chairs", 1, 500), ("nurses", 1, 500),
                             ("infusions_per_nurse", 1, 50), ("opens", 0, 1439),
                             ("closes", 1, 1440), ("max_overtime", 0, 720), ("slot", 1, 60)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                what = {"chairs": "a suite needs at least one chair",
                        "nurses": "a suite needs at least one nurse"}.get(name, "")
                raise InvalidParameterError(
                    f"{name} = {v!r} must be a whole number in [{lo}, {hi}]"
                    + (f"; {what}" if what else ""))
        if self.closes <= self.opens:
            raise InvalidParameterError(f"closes = {_clock(self.closes)} is not after opens = "
                                        f"{_clock(self.opens)}; give opening hours with "
                                        f"closing later than opening")

    @property
    def day_minutes(self) -> int:
        return self.closes - self.opens


@dataclass(frozen=True, slots=True)
class Phases:
    """Nominal minutes of one visit type (whole minutes, rounded up)."""

    kind: VisitKind
    checkin: int  # before the chair
    checks: int  # in the chair, needs a nurse
    premed: int  # in the chair
    dose: int  # IV: needs a watch slot; SC: needs a nurse
    observation: int

    @property
    def chair(self) -> int:
        return self.checks + self.premed + self.dose + self.observation


def phases(kind: str, day: DayOptions | None = None) -> Phases:
    """The visit's phases from the infusion-day model (label tables and observation)."""
    k = check_visit(kind)
    d = infusion_day(k, options=day or DayOptions())
    by = {s.kind: s for s in d.steps}
    return Phases(k, _whole(by["arrival"].minutes), _whole(by["checks"].minutes),
                  _whole(by["premedication"].minutes), _whole(d.infusion_minutes),
                  _whole(by["observation"].minutes))


def _whole(minutes: float) -> int:
    """Minutes rounded up to a whole minute (float noise below 1e-6 min ignored)."""
    return math.ceil(minutes - 1e-6)


def phase_table(opt: ClinicOptions) -> dict[VisitKind, Phases]:
    """Phases of every visit type under the suite's day options."""
    return {k: phases(k, opt.day) for k in VISIT_KINDS}


@dataclass(frozen=True, slots=True)
class Request:
    """A patient to treat: ``id``, visit type and the requested (earliest) seat minute."""

    id: int
    visit: VisitKind
    ready: int = 0


@dataclass(frozen=True, slots=True)
class Schedule:
    """Booked seat minutes by request id; the requests left out; how it was made."""

    method: str
    seats: Mapping[int, int]
    unbooked: tuple[int, ...]
    note: str = ""


def parse_mix(text: str) -> dict[VisitKind, float]:
    """``"first=0.1,maintenance=0.5,short=0.2,sc=0.2"`` as shares summing to 1."""
    out: dict[VisitKind, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidInputError(f"mix part {part.strip()!r} is not name=share; write e.g. "
                                    f"first=0.1,maintenance=0.5,short=0.2,sc=0.2")
        kind = check_visit(name.strip())
        try:
            share = float(value)
        except ValueError:
            raise InvalidInputError(f"mix share for {kind} = {value.strip()!r} is not a "
                                    f"number") from None
        if not math.isfinite(share) or share < 0:
            raise InvalidInputError(f"mix share for {kind} = {value.strip()} must be >= 0")
        out[kind] = share
    return check_mix(out)


def check_mix(mix: Mapping[str, float] | Mapping[VisitKind, float]) -> dict[VisitKind, float]:
    """Shares by visit type (missing types 0), else an error saying they must sum to 1."""
    out = {check_visit(k): float(v) for k, v in mix.items()}
    total = math.fsum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise InvalidInputError(f"mix shares sum to {total:g}; give shares of "
                                f"{', '.join(VISIT_KINDS)} that sum to 1")
    return {k: out.get(k, 0.0) for k in VISIT_KINDS}


def requests_for(n: int, mix: Mapping[str, float] | Mapping[VisitKind, float],
                 rng: np.random.Generator) -> list[Request]:
    """``n`` requests in random order, counts by largest remainder of ``n`` x share."""
    shares = check_mix(mix)
    raw = {k: n * s for k, s in shares.items()}
    counts = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(
            counts.values())]:
        counts[k] += 1
    kinds = [k for k in VISIT_KINDS for _ in range(counts[k])]
    order = rng.permutation(len(kinds))
    return [Request(i, kinds[j]) for i, j in enumerate(order)]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- the planned schedule: objective, feasibility, first-come baseline -------------------------

def plan_objective(requests: Sequence[Request], schedule: Schedule, opt: ClinicOptions
                   ) -> tuple[int, int, int]:
    """(treated, overtime minutes, waiting minutes) of a planned schedule."""
    ph = phase_table(opt)
    by_id = {r.id: r for r in requests}
    ends = [s + ph[by_id[i].visit].chair for i, s in schedule.seats.items()]
    overtime = max([0, *(e - opt.day_minutes for e in ends)])
    waiting = sum(s - by_id[i].ready for i, s in schedule.seats.items())
    return len(schedule.seats), overtime, waiting


def _usage(requests: Sequence[Request], seats: Mapping[int, int], opt: ClinicOptions
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-minute chairs, nurse tasks and running infusions of a planned schedule."""
    horizon = opt.day_minutes + opt.max_overtime + 1
    chairs = np.zeros(horizon, dtype=np.int64)
    nurse = np.zeros(horizon, dtype=np.int64)
    watch = np.zeros(horizon, dtype=np.int64)
    by_id = {r.id: r for r in requests}
    ph = phase_table(opt)
    for i, s in seats.items():
        _add(chairs, nurse, watch, s, ph[by_id[i].visit])
    return chairs, nurse, watch


def _add(chairs: np.ndarray, nurse: np.ndarray, watch: np.ndarray, s: int, p: Phases) -> None:
    chairs[s:s + p.chair] += 1
    nurse[s:s + p.checks] += 1
    d0 = s + p.checks + p.premed
    if p.kind == "sc":
        nurse[d0:d0 + p.dose] += 1
    else:
        watch[d0:d0 + p.dose] += 1


def _fits(chairs: np.ndarray, nurse: np.ndarray, watch: np.ndarray, s: int, p: Phases,
          opt: ClinicOptions) -> bool:
    """Whether a visit of phases ``p`` seated at ``s`` keeps every capacity rule."""
    d0 = s + p.checks + p.premed
    if chairs[s:s + p.chair].max() >= opt.chairs or nurse[s:s + p.checks].max() >= opt.nurses:
        return False
    if p.kind == "sc":
        return bool(nurse[d0:d0 + p.dose].max() < opt.nurses)
    return bool(watch[d0:d0 + p.dose].max() < opt.nurses * opt.infusions_per_nurse)


def schedule_violations(requests: Sequence[Request], schedule: Schedule, opt: ClinicOptions
                        ) -> list[str]:
    """Capacity rules a planned schedule breaks (empty when it is feasible)."""
    out = []
    by_id = {r.id: r for r in requests}
    ph = phase_table(opt)
    for i, s in schedule.seats.items():
        p = ph[by_id[i].visit]
        if s < by_id[i].ready or s % opt.slot or s + p.chair > opt.day_minutes + opt.max_overtime:
            out.append(f"request {i} booked at {s} min breaks its time window")
    chairs, nurse, watch = _usage(requests, schedule.seats, opt)
    if chairs.max(initial=0) > opt.chairs:
        out.append(f"{chairs.max()} chairs used at once, {opt.chairs} available")
    if nurse.max(initial=0) > opt.nurses:
        out.append(f"{nurse.max()} nurse tasks at once, {opt.nurses} nurses")
    if watch.max(initial=0) > opt.nurses * opt.infusions_per_nurse:
        out.append(f"{watch.max()} running infusions, at most "
                   f"{opt.nurses * opt.infusions_per_nurse} can be watched")
    return out


def first_come(requests: Sequence[Request], opt: ClinicOptions) -> Schedule:
    """The baseline: requests booked in the order they came, each at the earliest slot that
    keeps every capacity rule; a request that fits nowhere today is left out."""
    horizon = opt.day_minutes + opt.max_overtime + 1
    chairs = np.zeros(horizon, dtype=np.int64)
    nurse = np.zeros(horizon, dtype=np.int64)
    watch = np.zeros(horizon, dtype=np.int64)
    seats: dict[int, int] = {}
    unbooked = []
    ph = phase_table(opt)
    for r in requests:
        p = ph[r.visit]
        start = -(-r.ready // opt.slot) * opt.slot
        for s in range(start, opt.day_minutes + opt.max_overtime - p.chair + 1, opt.slot):
            if _fits(chairs, nurse, watch, s, p, opt):
                _add(chairs, nurse, watch, s, p)
                seats[r.id] = s
                break
        else:
            unbooked.append(r.id)
    return Schedule("first-come", seats, tuple(unbooked))
