"""``ocrelisim plan patient|day|clinic``: a patient's calendar, the infusion day, the clinic.

A thin layer over :mod:`ocrelisim.planning` and :mod:`ocrelisim.reports.plan`. Bad input ends
with one line naming the option and exit status 2 (no traceback).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..io import atomic_write
from ._console import user_errors as _user_errors

if TYPE_CHECKING:  # planning (OR-Tools, SimPy, icalendar) and pandas load when a command runs
    import pandas as pd

    from .. import planning

plan_app = typer.Typer(
    name="plan",
    help=f"Treatment planning: a patient's calendar, the infusion day, the clinic's chairs. "
         f"{DISCLAIMER}",
    epilog=DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_MIX = "first=0.1,maintenance=0.5,short=0.2,sc=0.2"
"""Default patient mix of ``plan clinic`` (an assumption: no published suite mix)."""
SCENARIO_LABELS = {"chair_hours_needed_per_day": "chair h needed",
                   "chair_hours_freed_per_day": "chair h freed",
                   "treated_per_day": "treated", "patients_per_chair_day": "per chair",
                   "chair_utilisation": "utilisation", "overtime_mean_min": "overtime min",
                   "waiting_mean_min": "waiting min"}
REACTIONS_NOTE = ("the safety model (issue 13): IRRs by infusion number and protocol; one "
                  "starting during the infusion slows, pauses or stops it as the label says "
                  "(first visits: infusion 1 or 2; 600 mg visits: infusion 4); SC unchanged")
NO_REACTIONS = "none (--no-reactions): every visit follows the label table"


def _out() -> Console:
    return Console(highlight=False)


def _date(option: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{option} {text!r} is not a calendar date; give YYYY-MM-DD "
                                f"(e.g. 2025-03-31)") from None


def _clock(option: str, text: str) -> int:
    try:
        t = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{option} {text!r} is not a time of day; give HH:MM") from None
    return t.hour * 60 + t.minute


def _write(path: Path, data: bytes | str) -> Path:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: tmp.write_bytes(raw))


def _print_frame(console: Console, frame: pd.DataFrame, title: str) -> None:
    import pandas as pd

    table = Table(title=title, title_justify="left", show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    console.print(table)


_PATIENT_HELP = (
    "A patient's calendar: every dose by the label's rules (IV: 300 mg day 0 and day 14, then "
    "600 mg every 6 calendar months; SC: 920 mg every 6 months; >= 5 months between doses; a "
    "missed dose as soon as possible, the schedule reset from it), screening, tests before "
    "each dose, vaccination windows, the contraception period and, with --from, the switch "
    "from another therapy with its evidence. Without --history, --start is the first dose; "
    "with --history (previous_doses as in the safety record), --start is the plan date and a "
    f"dose due before it was missed. Exports .ics, CSV and printable HTML. {DISCLAIMER}")


@plan_app.command("patient", help=_PATIENT_HELP, epilog=DISCLAIMER)
def patient_cmd(
    start: Annotated[str | None, typer.Option(
        help="First dose (or, with --history, the plan date: default today), YYYY-MM-DD. "
             "May be left out with --from: the plan proposes it.")] = None,
    route: Annotated[str, typer.Option(help="iv or sc.")] = "iv",
    tz: Annotated[str, typer.Option(help="IANA time zone of the clinic (appointment times "
                                         "are local).")] = "UTC",
    history: Annotated[Path | None, typer.Option(
        help="YAML/JSON with previous_doses [{date, route, dose_mg}] (safety record "
             "format).")] = None,
    from_: Annotated[str | None, typer.Option(
        "--from", help="Prior therapy (natalizumab, fingolimod, interferon-beta, glatiramer "
                       "acetate, dimethyl fumarate, teriflunomide, alemtuzumab, "
                       "cladribine).")] = None,
    prior_last_dose: Annotated[str | None, typer.Option(
        help="Last dose of the prior therapy, YYYY-MM-DD.")] = None,
    ics: Annotated[Path | None, typer.Option(help="Write the iCalendar file here.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the CSV file here.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the printable HTML page here.")
                    ] = None,
    interval: Annotated[str, typer.Option(help="'months' (6 calendar months, label) or '24w'.")
                        ] = "months",
    label: Annotated[str, typer.Option(help="US or EU label (contraception 6 vs 12 months, "
                                            "vaccination windows).")] = "US",
    doses: Annotated[int, typer.Option(help="Maintenance doses to plan.")] = 4,
    at: Annotated[str, typer.Option(help="Dose appointment time, HH:MM local "
                                         "(assumption: 08:00).")] = "08:00",
    shorter: Annotated[bool, typer.Option(help="Plan 600 mg doses as the shorter infusion.")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    from .. import planning

    with _user_errors():
        if interval not in ("months", "24w"):
            raise InvalidInputError(f"--interval {interval!r}; use months or 24w")
        minute = _clock("--at", at)
        labels: dict[str, Literal["US", "EU"]] = {"US": "US", "EU": "EU"}
        if label.strip().upper() not in labels:
            raise InvalidInputError(f"--label {label!r}; use US or EU")
        options = planning.PlanOptions(
            interval="6 months" if interval == "months" else "24 weeks",
            maintenance_doses=doses, label=labels[label.strip().upper()],
            at=dt.time(minute // 60, minute % 60), shorter_infusion=shorter)
        past = planning.read_history(history) if history is not None else ()
        first = _date("--start", start)
        if first is None and history is not None:
            first = dt.date.today()  # with a history, the plan starts today unless told
        plan = planning.plan_patient(
            first, route, history=past, prior=from_,
            prior_last_dose=_date("--prior-last-dose", prior_last_dose), tz=tz, options=options)
        written = _export_plan(plan, ics, csv, html)
        if as_json:
            typer.echo(json.dumps(_plan_json(plan), indent=2))
        else:
            _print_plan(_out(), plan)
        for path in written:
            Console(stderr=as_json, highlight=False).print(f"wrote {path}", markup=False,
                                                           soft_wrap=True)


def _export_plan(plan: planning.PatientPlan, ics: Path | None, csv: Path | None,
                 html: Path | None) -> list[Path]:
    from .. import planning
    from ..reports import to_html
    from ..reports.plan import patient_report

    out = []
    if ics is not None:
        out.append(_write(ics, planning.to_ics(plan)))
    if csv is not None:
        out.append(_write(csv, planning.to_csv(plan)))
    if html is not None:
        out.append(_write(html, to_html(patient_report(plan))))
    return out


def _plan_json(plan: planning.PatientPlan) -> dict[str, Any]:
    switch = None
    if plan.switch is not None:
        s = plan.switch
        switch = {"from": s.therapy.name, "last_dose": s.last_dose.isoformat(),
                  "start": s.start.isoformat(), "gap_days": s.gap_days,
                  "earliest": s.earliest.isoformat() if s.earliest else None,
                  "latest": s.latest.isoformat() if s.latest else None,
                  "guidance": s.therapy.guidance, "risk": s.risk,
                  "evidence": list(s.therapy.evidence), "source": s.therapy.source}
    return {"route": plan.route, "timezone": plan.tz,
            "visits": plan.to_frame().to_dict(orient="records"),
            "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message,
                          "source": f.source} for f in plan.findings],
            "switch": switch, "disclaimer": DISCLAIMER}


def _print_plan(console: Console, plan: planning.PatientPlan) -> None:
    console.print(f"Ocrelizumab plan, route {plan.route}, times in {plan.tz}. {DISCLAIMER}",
                  markup=False, soft_wrap=True)
    from ..reports.plan import patient_report

    visits = patient_report(plan).tables["Visits"]
    _print_frame(console, visits[["date", "time", "until", "what", "sources"]], "Visits")
    if plan.switch is not None:
        s = plan.switch
        console.print(f"Switch from {s.therapy.name}: {s.therapy.guidance}. First dose "
                      f"{s.start.isoformat()}: {s.risk or f'gap {s.gap_days} days'}.",
                      markup=False, soft_wrap=True)
        for e in s.therapy.evidence:
            console.print(f"  evidence: {e}", markup=False, soft_wrap=True)
    for finding in plan.findings:
        console.print(f"{finding.severity}: {finding.message} ({finding.rule} "
                      f"{finding.source})", style="yellow" if finding.severity == "warning"
                      else "cyan", markup=False, soft_wrap=True)


_DAY_HELP = (
    "The infusion day minute by minute: arrival, checks, premedication, the label's rate steps "
    "(mL/h, mL) or the SC injection, observation. With --n, the chair time over N simulated "
    f"visits. --json gives steps [{{name, start_min, end_min}}], infusion_minutes, "
    f"chair_minutes, on_site_minutes. {DISCLAIMER}")


@plan_app.command("day", help=_DAY_HELP, epilog=DISCLAIMER)
def day_cmd(
    visit: Annotated[str, typer.Option(help="first, maintenance, short or sc.")] = "maintenance",
    n: Annotated[int | None, typer.Option(help="Simulated visits for the chair-time "
                                               "distribution.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    first_injection: Annotated[bool, typer.Option(
        help="SC: the first injection (observed >= 1 h instead of 15 min).")] = False,
    reactions: Annotated[bool, typer.Option(
        help="Draw infusion reactions from the safety model (for --n).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    from .. import planning

    with _user_errors():
        if n is not None and n < 1:
            raise InvalidInputError(f"--n {n}: give a number of visits >= 1")
        day = planning.infusion_day(visit, options=planning.DayOptions(
            first_injection=first_injection))
        table = summary = None
        if n is not None:
            sampler = planning.safety_sampler() if reactions else None
            table = planning.chair_times(visit, n, sampler, rng=seed,
                                         options=planning.DayOptions(
                                             first_injection=first_injection))
            summary = planning.chair_time_summary(table)
        if as_json:
            payload = day.to_dict()
            if summary is not None:
                payload["chair_time"] = summary
                payload["reactions"] = REACTIONS_NOTE if reactions else NO_REACTIONS
            payload["disclaimer"] = DISCLAIMER
            typer.echo(json.dumps(payload, indent=2))
            return
        from ..reports.plan import day_table

        console = _out()
        console.print(f"{visit} visit: {day.dose_mg:g} mg {day.route}. {DISCLAIMER}",
                      markup=False, soft_wrap=True)
        _print_frame(console, day_table(day), "Minute by minute (from arrival)")
        console.print(f"infusion {day.infusion_minutes:.0f} min, chair {day.chair_minutes:.0f} "
                      f"min, on site {day.on_site_minutes:.0f} min", markup=False, soft_wrap=True)
        for note in day.notes:
            console.print(note, markup=False, soft_wrap=True)
        if summary is not None:
            console.print(f"chair time over {n} visits: mean {summary['mean']:.1f} min, "
                          f"median {summary['median']:.0f}, 5-95% {summary['p5']:.0f}-"
                          f"{summary['p95']:.0f}, max {summary['max']:.0f} min; "
                          f"{summary['share_with_reaction']:.1%} with a reaction during the "
                          f"infusion; reactions: "
                          f"{REACTIONS_NOTE if reactions else NO_REACTIONS}", markup=False,
                          soft_wrap=True)


_CLINIC_HELP = (
    "An infusion suite's days: a first-come appointment book against a CP-SAT optimised one "
    "(one worker, fixed seed: results repeat), both simulated (SimPy) on the same patients and "
    "random numbers; never worse on treated, then overtime, then waiting. Prints the "
    "comparison, what moving patients to the shorter infusion or SC frees up, and why not "
    "everyone fits. Opening hours, nurse ratio and the default mix are assumptions (options). "
    f"{DISCLAIMER}")


@plan_app.command("clinic", help=_CLINIC_HELP, epilog=DISCLAIMER)
def clinic_cmd(
    chairs: Annotated[int, typer.Option(help="Treatment chairs.")],
    nurses: Annotated[int, typer.Option(help="Nurses on duty.")],
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 5,
    patients_per_day: Annotated[int | None, typer.Option(
        help="Requests per day (default: 3 per chair).")] = None,
    mix: Annotated[str, typer.Option(help="Shares of first, maintenance, short, sc summing to "
                                          "1 (default an assumption).")] = DEFAULT_MIX,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    per_nurse: Annotated[int, typer.Option(
        help="Running infusions one nurse watches (assumption: 4).")] = 4,
    opens: Annotated[str, typer.Option(help="Opening time, HH:MM (assumption).")] = "08:00",
    closes: Annotated[str, typer.Option(help="Closing time, HH:MM (assumption).")] = "18:00",
    overtime: Annotated[int, typer.Option(help="Overtime a booked visit may reach, min "
                                               "(assumption).")] = 120,
    effort: Annotated[float, typer.Option(help="CP-SAT deterministic time per stage.")] = 0.5,
    reactions: Annotated[bool, typer.Option(
        help="Draw infusion reactions from the safety model.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write the HTML report, Gantt chart and "
                                                  "CSVs here.")] = None,
) -> None:
    from .. import planning

    with _user_errors():
        opt = planning.ClinicOptions(chairs=chairs, nurses=nurses, infusions_per_nurse=per_nurse,
                                     opens=_clock("--opens", opens),
                                     closes=_clock("--closes", closes), max_overtime=overtime)
        if not effort > 0:
            raise InvalidInputError(f"--effort {effort}: give a positive number")
        shares = planning.parse_mix(mix)
        ppd = patients_per_day if patients_per_day is not None else 3 * chairs
        sampler = planning.safety_sampler() if reactions else None
        comp = planning.compare_schedules(
            opt, days=days, patients_per_day=ppd, mix=shares, seed=seed, effort=effort,
            sampler=sampler, reactions=REACTIONS_NOTE if reactions else NO_REACTIONS)
        what_if = planning.scenarios(opt, days=days, patients_per_day=ppd, mix=shares,
                                     seed=seed, effort=effort, sampler=sampler, given=comp)
        written: list[Path] = []
        if out is not None:
            from ..reports import write
            from ..reports.plan import clinic_report

            written = write(clinic_report(comp, what_if), out)
        if as_json:
            typer.echo(json.dumps(_clinic_json(comp, what_if), indent=2))
        else:
            _print_clinic(_out(), comp, what_if)
        for path in written:
            Console(stderr=as_json, highlight=False).print(f"wrote {path}", markup=False,
                                                           soft_wrap=True)


def _clinic_json(comp: planning.ClinicComparison, what_if: pd.DataFrame) -> dict[str, Any]:
    return {"summary": comp.summary().to_dict(orient="records"),
            "scenarios": what_if.to_dict(orient="records"),
            "conflicts": [c for c in comp.conflicts if c],
            "schedule_notes": [o.schedule.note for o in comp.outcomes if o.schedule.note],
            "reactions": comp.reactions, "disclaimer": DISCLAIMER}


def _print_clinic(console: Console, comp: planning.ClinicComparison,
                  what_if: pd.DataFrame) -> None:
    from ..reports.plan import comparison_table

    opt = comp.options
    console.print(f"Infusion suite: {opt.chairs} chairs, {opt.nurses} nurses, "
                  f"{comp.patients_per_day} requests a day, {len(comp.requests)} days. "
                  f"{DISCLAIMER}", markup=False, soft_wrap=True)
    _print_frame(console, comparison_table(comp), "First-come vs optimised (simulated)")
    _print_frame(console, what_if.rename(columns=SCENARIO_LABELS).round(2),
                 "Moving patients to shorter visits (optimised schedules, per day)")
    for i, c in enumerate(comp.conflicts):
        if c:
            console.print(f"day {i + 1}: {c}", markup=False, style="yellow")
    console.print(f"reactions: {comp.reactions}", markup=False, soft_wrap=True)
