"""The optimised appointment schedule (OR-Tools CP-SAT) and, when not every patient fits, which
constraints conflict, in plain words.

CP-SAT runs with one worker, a fixed seed and a *deterministic* time limit, so a schedule
repeats exactly on any machine. The objective is lexicographic (three solves, each keeping the
previous optimum): patients treated, then overtime, then waiting. The first-come schedule is
the solver's hint, and a result that is not at least as good as it (a solve cut short) is
replaced by it: the optimised plan is never worse than the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from ._clinic import (
    ClinicOptions,
    Phases,
    Request,
    Schedule,
    _clock,
    first_come,
    phase_table,
    plan_objective,
)

EFFORT = 2.0
"""Default deterministic time per lexicographic stage (CP-SAT's work units, about seconds)."""


@dataclass(frozen=True, slots=True)
class _Model:
    model: cp_model.CpModel
    present: dict[int, cp_model.IntVar]
    start: Mapping[int, cp_model.LinearExprT]
    wait: dict[int, cp_model.IntVar]
    overtime: cp_model.IntVar


def _solver(effort: float, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = effort
    return solver


def _intervals(m: cp_model.CpModel, r: Request, p: Phases, start: cp_model.LinearExprT,
               present: cp_model.IntVar | None
               ) -> tuple[list[cp_model.IntervalVar], list[cp_model.IntervalVar],
                          list[cp_model.IntervalVar]]:
    def interval(at: cp_model.LinearExprT, size: int, name: str) -> cp_model.IntervalVar:
        if present is None:
            return m.new_fixed_size_interval_var(at, size, name)
        return m.new_optional_fixed_size_interval_var(at, size, present, name)

    chair = interval(start, p.chair, f"chair{r.id}")
    nurse = [interval(start, p.checks, f"start{r.id}")]
    dose = interval(start + p.checks + p.premed, p.dose, f"dose{r.id}")
    if r.visit == "sc":
        return [chair], [*nurse, dose], []
    return [chair], nurse, [dose]


def _build(requests: Sequence[Request], opt: ClinicOptions) -> _Model:
    m = cp_model.CpModel()
    ph = phase_table(opt)
    horizon = opt.day_minutes + opt.max_overtime
    overtime = m.new_int_var(0, opt.max_overtime, "overtime")
    present, start, wait = {}, {}, {}
    chairs, nurses, watch = [], [], []
    for r in requests:
        p = ph[r.visit]
        lo = -(-r.ready // opt.slot)
        hi = (horizon - p.chair) // opt.slot
        x = m.new_int_var(lo, max(lo, hi), f"slot{r.id}")
        present[r.id] = m.new_bool_var(f"present{r.id}")
        if hi < lo:
            m.add(present[r.id] == 0)
        start[r.id] = opt.slot * x
        c, n, w = _intervals(m, r, p, start[r.id], present[r.id])
        chairs += c
        nurses += n
        watch += w
        m.add(start[r.id] + p.chair <= opt.day_minutes + overtime).only_enforce_if(
            present[r.id])
        wait[r.id] = m.new_int_var(0, horizon, f"wait{r.id}")
        m.add(wait[r.id] == start[r.id] - r.ready).only_enforce_if(present[r.id])
        m.add(wait[r.id] == 0).only_enforce_if(~present[r.id])
    m.add_cumulative(chairs, [1] * len(chairs), opt.chairs)
    m.add_cumulative(nurses, [1] * len(nurses), opt.nurses)
    m.add_cumulative(watch, [1] * len(watch), opt.nurses * opt.infusions_per_nurse)
    return _Model(m, present, start, wait, overtime)


def _hint(b: _Model, requests: Sequence[Request], seats: dict[int, int], opt: ClinicOptions
          ) -> None:
    b.model.clear_hints()  # type: ignore[no-untyped-call]
    for r in requests:
        on = r.id in seats
        b.model.add_hint(b.present[r.id], on)
        if on:
            b.model.add_hint(b.wait[r.id], seats[r.id] - r.ready)


def optimise(requests: Sequence[Request], opt: ClinicOptions, *, effort: float = EFFORT,
             seed: int = 0, baseline: Schedule | None = None) -> Schedule:
    """The CP-SAT appointment schedule, never worse than ``baseline`` (first-come by default).

    Parameters
    ----------
    requests : sequence of Request
    opt : ClinicOptions
    effort : float
        Deterministic time limit per lexicographic stage (> 0).
    seed : int
        CP-SAT's random seed (one worker: results repeat).
    """
    base = baseline or first_come(requests, opt)
    b = _build(requests, opt)
    seats = dict(base.seats)
    stages = (("treated", sum(b.present.values()), True), ("overtime", b.overtime, False),
              ("waiting", sum(b.wait.values()), False))
    solver = _solver(effort, seed)
    status_names = []
    for name, expr, maximise in stages:
        _hint(b, requests, seats, opt)
        if maximise:
            b.model.maximize(expr)
        else:
            b.model.minimize(expr)
        status = solver.solve(b.model)
        status_names.append(f"{name}: {solver.status_name(status).lower()}")
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        value = round(solver.objective_value)
        seats = {r.id: int(solver.value(b.start[r.id])) for r in requests
                 if solver.boolean_value(b.present[r.id])}
        b.model.add(expr >= value if maximise else expr <= value)
    unbooked = tuple(r.id for r in requests if r.id not in seats)
    cand = Schedule("optimised", seats, unbooked, "CP-SAT " + ", ".join(status_names))
    mine = plan_objective(requests, cand, opt)
    theirs = plan_objective(requests, base, opt)
    if (-mine[0], mine[1], mine[2]) > (-theirs[0], theirs[1], theirs[2]):
        return Schedule("optimised", dict(base.seats), base.unbooked,
                        cand.note + "; not better than first-come within its effort: kept it")
    return cand


_CONSTRAINT_WORDS = {
    "hours": "the opening hours ({opens}-{closes}, at most {ot} min overtime)",
    "chairs": "the {chairs} chairs",
    "nurses": "the {nurses} nurses who start visits and give SC injections",
    "watch": "the limit of {k} running infusions per nurse ({cap} at once)",
}


def explain_unfit(requests: Sequence[Request], opt: ClinicOptions, *, effort: float = EFFORT,
                  seed: int = 0) -> str:
    """Why not every request fits in one day, in plain words (empty string when all fit)."""
    ph = phase_table(opt)
    horizon = opt.day_minutes + opt.max_overtime
    too_long = sorted({r.visit for r in requests if ph[r.visit].chair > horizon - r.ready})
    if too_long:
        k = too_long[0]
        return (f"a {k} visit needs {ph[k].chair} min in a chair, but the suite is open "
                f"{_clock(opt.opens)}-{_clock(opt.closes)} with at most {opt.max_overtime} min "
                f"overtime ({horizon} min): lengthen the day or allow more overtime")
    m = cp_model.CpModel()
    lits = {name: m.new_bool_var(name) for name in _CONSTRAINT_WORDS}
    n = len(requests)
    chairs, nurses, watch = [], [], []
    big = 4 * horizon + sum(ph[r.visit].chair for r in requests)
    for r in requests:
        p = ph[r.visit]
        x = m.new_int_var(-(-r.ready // opt.slot), big // opt.slot, f"slot{r.id}")
        start = opt.slot * x
        c, nu, w = _intervals(m, r, p, start, None)
        chairs += c
        nurses += nu
        watch += w
        m.add(start + p.chair <= horizon).only_enforce_if(lits["hours"])
    m.add_cumulative(chairs, [1] * len(chairs), opt.chairs + n * (1 - lits["chairs"]))
    m.add_cumulative(nurses, [1] * len(nurses), opt.nurses + 2 * n * (1 - lits["nurses"]))
    m.add_cumulative(watch, [1] * len(watch),
                     opt.nurses * opt.infusions_per_nurse + n * (1 - lits["watch"]))
    m.add_assumptions(list(lits.values()))
    solver = _solver(effort, seed)
    status = solver.solve(m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ""
    if status != cp_model.INFEASIBLE:
        return (f"all {n} patients did not fit, and the solver could not tell within its effort "
                f"which constraints conflict")
    core = set(solver.sufficient_assumptions_for_infeasibility())
    names = [name for name, lit in lits.items() if lit.index in core]
    for name in list(names):  # shrink to a minimal conflicting set
        rest = [lits[n] for n in names if n != name]
        m.clear_assumptions()
        m.add_assumptions(rest)
        if rest and solver.solve(m) == cp_model.INFEASIBLE:
            names.remove(name)
    words = [_CONSTRAINT_WORDS[name].format(
        opens=_clock(opt.opens), closes=_clock(opt.closes), ot=opt.max_overtime,
        chairs=opt.chairs, nurses=opt.nurses, k=opt.infusions_per_nurse,
        cap=opt.nurses * opt.infusions_per_nurse) for name in names]
    fixes = [_FIXES[name] for name in names]
    return (f"all {n} patients cannot be treated in one day: {_and(words)} conflict"
            f"{'s' if len(words) == 1 else ''}; {_and(fixes, 'or')}, or move patients to "
            f"shorter visits (the shorter infusion or SC)")


_FIXES = {"hours": "open longer or allow more overtime", "chairs": "add chairs",
          "nurses": "add nurses", "watch": "add nurses or let each watch more infusions"}


def _and(words: Sequence[str], conj: str = "and") -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {conj} " + words[-1]
