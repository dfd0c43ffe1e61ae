"""The infusion suite's day as a SimPy discrete-event simulation, and the comparison of the
first-come and optimised schedules over days with common random numbers.

Each patient's random draws (the infusion reaction, hence the infusion's actual length) come
from a generator keyed on (seed, day, patient), so both schedules meet the same patients with
the same reactions. A patient not seated by closing time goes home unfinished and is reported;
a visit that has started runs to its end (overtime).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd
import simpy

from ..errors import InvalidInputError
from ._clinic import (
    ClinicOptions,
    Request,
    Schedule,
    check_mix,
    first_come,
    phase_table,
    plan_objective,
    requests_for,
)
from ._cpsat import EFFORT, explain_unfit, optimise
from ._day import ReactionSampler, VisitKind, infusion_day


@dataclass(frozen=True, slots=True)
class Draw:
    """One patient's random outcome: the infusion's actual minutes and its reaction."""

    dose_minutes: float
    reaction: str = ""


def draws_for(requests: Sequence[Request], day: int, seed: int,
              sampler: ReactionSampler | None, opt: ClinicOptions) -> dict[int, Draw]:
    """Common random numbers: each patient's draw depends on (seed, day, id) only."""
    out = {}
    nominal = {k: infusion_day(k, options=opt.day).infusion_minutes for k in
               {r.visit for r in requests}}
    for r in requests:
        reaction = None
        if sampler is not None and r.visit != "sc":
            reaction = sampler(r.visit, np.random.default_rng([seed, day, r.id]))
        if reaction is None:
            out[r.id] = Draw(nominal[r.visit])
        else:
            d = infusion_day(r.visit, options=opt.day, reaction=reaction)
            out[r.id] = Draw(d.infusion_minutes, reaction.severity)
    return out


@dataclass(frozen=True, slots=True)
class DayLog:
    """What happened: one row per patient, and every chair, nurse-task and watch interval
    (resource id, start, end, patient) for invariant checks."""

    visits: pd.DataFrame
    chairs: tuple[tuple[int, float, float, int], ...]
    nurse_tasks: tuple[tuple[int, float, float, int], ...]
    watches: tuple[tuple[int, float, float, int], ...]


def simulate_day(requests: Sequence[Request], schedule: Schedule, opt: ClinicOptions,
                 draws: Mapping[int, Draw]) -> DayLog:
    """Run one day of ``schedule`` (minutes from opening) with the patients' ``draws``."""
    env = simpy.Environment()
    chairs = simpy.Store(env, capacity=opt.chairs)
    chairs.items.extend(range(opt.chairs))
    nurses = simpy.Store(env, capacity=opt.nurses)
    nurses.items.extend(range(opt.nurses))
    watch = simpy.Store(env, capacity=opt.nurses * opt.infusions_per_nurse)
    watch.items.extend(n for _ in range(opt.infusions_per_nurse) for n in range(opt.nurses))
    ph = phase_table(opt)
    rows: list[dict[str, Any]] = []
    logs: dict[str, list[tuple[int, float, float, int]]] = {"chair": [], "nurse": [],
                                                            "watch": []}
    by_id = {r.id: r for r in requests}

    def use(store: simpy.Store, kind: str, minutes: float, pid: int
            ) -> Generator[simpy.Event, Any, float]:
        t0 = env.now
        item = yield store.get()
        start = env.now
        yield env.timeout(minutes)
        logs[kind].append((int(item), float(start), float(env.now), pid))
        yield store.put(item)
        return start - t0

    def patient(pid: int, seat: int) -> Generator[simpy.Event, Any, None]:
        r = by_id[pid]
        p = ph[r.visit]
        yield env.timeout(seat)
        get = chairs.get()
        closing = env.timeout(max(0.0, opt.day_minutes - env.now))
        got = yield get | closing
        if get not in got:
            get.cancel()
            rows.append(_row(r, seat, None, None, opt.day_minutes - r.ready, draws[pid], False))
            return
        chair, seated = cast(int, get.value), env.now
        wait = seated - r.ready
        wait += yield from use(nurses, "nurse", p.checks, pid)
        yield env.timeout(p.premed)
        dose_start = env.now
        if r.visit == "sc":
            wait += yield from use(nurses, "nurse", p.dose, pid)
        else:
            wait += yield from use(watch, "watch", draws[pid].dose_minutes, pid)
        yield env.timeout(p.observation)
        logs["chair"].append((int(chair), float(seated), float(env.now), pid))
        yield chairs.put(chair)
        rows.append(_row(r, seat, seated, env.now, wait, draws[pid], True, dose_start))

    for pid, seat in sorted(schedule.seats.items(), key=lambda kv: (kv[1], kv[0])):
        env.process(patient(pid, seat))
    env.run()
    for pid in schedule.unbooked:
        r = by_id[pid]
        rows.append(_row(r, None, None, None, 0.0, draws[pid], False))
    visits = pd.DataFrame(rows).sort_values("id", kind="stable").reset_index(drop=True)
    return DayLog(visits, tuple(logs["chair"]), tuple(logs["nurse"]), tuple(logs["watch"]))


def _row(r: Request, seat: int | None, seated: float | None, end: float | None, wait: float,
         draw: Draw, finished: bool, dose_start: float | None = None) -> dict[str, Any]:
    return {"id": r.id, "visit": r.visit, "ready": r.ready, "booked": seat is not None,
            "planned_seat": seat,
            "seated": seated, "dose_start": dose_start, "end": end, "waiting": wait,
            "finished": finished, "reaction": draw.reaction,
            "dose_minutes": draw.dose_minutes}


def sim_objective(log: DayLog, opt: ClinicOptions) -> tuple[int, float, float]:
    """(treated, overtime, waiting) of a simulated day; waiting counts booked patients."""
    v = log.visits
    done = v[v["finished"]]
    overtime = max(0.0, float(done["end"].max()) - opt.day_minutes) if len(done) else 0.0
    return len(done), overtime, float(v.loc[v["booked"], "waiting"].sum())


def _better_or_equal(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    return (-a[0], a[1], a[2]) <= (-b[0], b[1], b[2])


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """One day of one method: its schedule, plan objective, simulation log and objective."""

    method: str
    day: int
    schedule: Schedule
    plan: tuple[int, int, int]
    log: DayLog
    sim: tuple[int, float, float]


@dataclass(frozen=True, slots=True)
class ClinicComparison:
    """First-come vs optimised over days (same patients, same random numbers)."""

    options: ClinicOptions
    mix: dict[VisitKind, float]
    patients_per_day: int
    seed: int
    requests: tuple[tuple[Request, ...], ...]
    outcomes: tuple[DayOutcome, ...]
    conflicts: tuple[str, ...]  # per day: why not everyone fits ("" when all fit)
    reactions: str  # what drew the reactions

    def summary(self) -> pd.DataFrame:
        """One row per method: the report's metrics over all days."""
        return pd.DataFrame([_metrics(self, m) for m in ("first-come", "optimised")])

    def visits(self) -> pd.DataFrame:
        """Every simulated visit: method, day and the DES log columns."""
        frames = [o.log.visits.assign(method=o.method, day=o.day) for o in self.outcomes]
        return pd.concat(frames, ignore_index=True)


def _metrics(c: ClinicComparison, method: str) -> dict[str, Any]:
    outs = [o for o in c.outcomes if o.method == method]
    opt = c.options
    days = len(outs)
    treated = sum(o.sim[0] for o in outs)
    booked = sum(len(o.schedule.seats) for o in outs)
    chair_open = 0.0
    watch_open = 0.0
    peak = 0
    for o in outs:
        chair_open += sum(max(0.0, min(e, opt.day_minutes) - s) for _, s, e, _ in o.log.chairs)
        watch_open += sum(max(0.0, min(e, opt.day_minutes) - s) for _, s, e, _ in o.log.watches)
        peak = max(peak, _peak(o.log.watches))
    v = pd.concat([o.log.visits for o in outs])
    booked_v = v[v["booked"]]
    return {
        "method": method, "days": days,
        "requested_per_day": c.patients_per_day,
        "booked_per_day": booked / days,
        "treated_per_day": treated / days,
        "unfinished": int((booked_v["finished"] == 0).sum()),
        "not_booked": int((~v["booked"]).sum()),
        "patients_per_chair_day": treated / (opt.chairs * days),
        "chair_utilisation": chair_open / (opt.chairs * opt.day_minutes * days),
        "nurse_load_mean": watch_open / (opt.nurses * opt.day_minutes * days),
        "nurse_load_peak": peak / opt.nurses,
        "waiting_mean_min": float(booked_v["waiting"].mean()) if len(booked_v) else 0.0,
        "waiting_on_day_mean_min": float((booked_v["waiting"] - (
            booked_v["planned_seat"] - booked_v["ready"])).mean()) if len(booked_v) else 0.0,
        "overtime_mean_min": sum(o.sim[1] for o in outs) / days,
        "plan_treated_per_day": sum(o.plan[0] for o in outs) / days,
        "plan_overtime_mean_min": sum(o.plan[1] for o in outs) / days,
        "plan_waiting_mean_min": (sum(o.plan[2] for o in outs) / booked) if booked else 0.0,
    }


def _peak(intervals: Sequence[tuple[int, float, float, int]]) -> int:
    events = sorted([(s, 1) for _, s, _, _ in intervals] + [(e, -1) for _, _, e, _ in intervals])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def compare_schedules(opt: ClinicOptions, *, days: int, patients_per_day: int,
                      mix: Mapping[str, float] | Mapping[VisitKind, float], seed: int = 0,
                      sampler: ReactionSampler | None = None, effort: float = EFFORT,
                      reactions: str = "none",
                      move: Callable[[VisitKind], VisitKind] | None = None) -> ClinicComparison:
    """First-come vs CP-SAT schedules for ``days`` days of ``patients_per_day`` requests.

    Both schedules of a day meet the same requests and the same random draws. The optimised
    schedule of a day is kept only if it is at least as good as first-come on the plan and in
    the simulation (lexicographic: treated, overtime, waiting); otherwise first-come is used
    for that day and the schedule's note says so.
    """
    _check_count("days", days, 1, 366)
    _check_count("patients_per_day", patients_per_day, 1, 500)
    shares = check_mix(mix)
    rng = np.random.default_rng(seed)
    all_requests, outcomes, conflicts = [], [], []
    for day in range(days):
        reqs = requests_for(patients_per_day, shares, rng)
        if move is not None:
            reqs = [replace(r, visit=move(r.visit)) for r in reqs]
        all_requests.append(tuple(reqs))
        outcomes += _one_day(reqs, opt, day, seed, sampler, effort)
        booked = outcomes[-1].schedule
        conflicts.append("" if not booked.unbooked else explain_unfit(reqs, opt, effort=effort,
                                                                         seed=seed))
    return ClinicComparison(opt, shares, patients_per_day, seed, tuple(all_requests),
                            tuple(outcomes), tuple(conflicts), reactions)


def _one_day(reqs: list[Request], opt: ClinicOptions, day: int, seed: int,
             sampler: ReactionSampler | None, effort: float) -> list[DayOutcome]:
    draws = draws_for(reqs, day, seed, sampler, opt)
    base = first_come(reqs, opt)
    best = optimise(reqs, opt, effort=effort, seed=seed, baseline=base)
    base_out = _outcome("first-come", day, reqs, base, opt, draws)
    best_out = _outcome("optimised", day, reqs, best, opt, draws)
    if not _better_or_equal(best_out.sim, base_out.sim):
        kept = replace(base, method="optimised", note=best.note + "; worse than first-come in "
                       "the simulation on the same random numbers: kept first-come")
        best_out = _outcome("optimised", day, reqs, kept, opt, draws)
    return [base_out, best_out]


def _outcome(method: str, day: int, reqs: list[Request], schedule: Schedule,
             opt: ClinicOptions, draws: Mapping[int, Draw]) -> DayOutcome:
    log = simulate_day(reqs, schedule, opt, draws)
    return DayOutcome(method, day, schedule, plan_objective(reqs, schedule, opt), log,
                      sim_objective(log, opt))


def _check_count(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInputError(f"{name} = {value!r} must be a whole number in [{lo}, {hi}]")


SCENARIOS: dict[str, Callable[[VisitKind], VisitKind]] = {
    "as given": lambda k: k,
    "standard 600 mg -> shorter infusion": lambda k: "short" if k == "maintenance" else k,
    "all 600 mg IV -> SC": lambda k: "sc" if k in ("maintenance", "short") else k,
}
"""What-if: the same patients with their maintenance visits moved."""


def scenarios(opt: ClinicOptions, *, days: int, patients_per_day: int,
              mix: Mapping[str, float] | Mapping[VisitKind, float], seed: int = 0,
              sampler: ReactionSampler | None = None, effort: float = EFFORT,
              given: ClinicComparison | None = None) -> pd.DataFrame:
    """What moving patients to the shorter infusion or to SC frees up (optimised schedules;
    same requests and random numbers in every scenario). ``given``: the comparison already
    run for the mix as given (reused for the first row)."""
    shares = check_mix(mix)
    ph = phase_table(opt)
    rows = []
    base_need = None
    for name, move in SCENARIOS.items():
        comp = given if given is not None and name == "as given" else compare_schedules(
            opt, days=days, patients_per_day=patients_per_day, mix=shares, seed=seed,
            sampler=sampler, effort=effort, move=move)
        need = sum(ph[r.visit].chair for day in comp.requests for r in day) / days / 60.0
        base_need = need if base_need is None else base_need
        m = _metrics(comp, "optimised")
        rows.append({"scenario": name, "chair_hours_needed_per_day": need,
                     "chair_hours_freed_per_day": base_need - need,
                     "treated_per_day": m["treated_per_day"],
                     "patients_per_chair_day": m["patients_per_chair_day"],
                     "chair_utilisation": m["chair_utilisation"],
                     "overtime_mean_min": m["overtime_mean_min"],
                     "waiting_mean_min": m["waiting_mean_min"]})
    return pd.DataFrame(rows)
