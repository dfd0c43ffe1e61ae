"""Treatment-planning reports: a patient's plan, the infusion day, the clinic comparison with a
Gantt chart of the chairs (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ..planning import ClinicComparison, InfusionDay, PatientPlan
from ..planning import Visit as PlanVisit
from ._report import Figure, Report, new_figure

_COLORS = {"first": "#c0392b", "maintenance": "#2471a3", "short": "#27ae60", "sc": "#8e44ad"}

METRIC_LABELS = {
    "booked_per_day": "booked per day",
    "treated_per_day": "treated per day",
    "unfinished": "unfinished (not seated by closing)",
    "not_booked": "not booked (no room)",
    "patients_per_chair_day": "patients per chair per day",
    "chair_utilisation": "chair utilisation (opening hours)",
    "nurse_load_mean": "running infusions per nurse, mean",
    "nurse_load_peak": "running infusions per nurse, peak",
    "waiting_mean_min": "waiting per patient, min (booked delay + on the day)",
    "waiting_on_day_mean_min": "waiting on the day per patient, min",
    "overtime_mean_min": "overtime per day, min",
    "plan_treated_per_day": "planned: treated per day",
    "plan_overtime_mean_min": "planned: overtime per day, min",
}


def patient_report(plan: PatientPlan) -> Report:
    """The patient's plan: visits (date, local time, purpose, sources), findings, switching."""
    frame = plan.to_frame()
    visits = pd.DataFrame({
        "date": frame["date"], "time": frame["time"],
        "until": [_until(v) for v in plan.visits], "what": frame["title"],
        "purpose": frame["purpose"], "sources": frame["source"]})
    tables = {"Visits": visits}
    if plan.findings:
        tables["Findings"] = pd.DataFrame([{"rule": f.rule, "severity": f.severity,
                                            "message": f.message, "source": f.source}
                                           for f in plan.findings])
    notes = [f"Route {plan.route}; times are local ({plan.tz}); maintenance every "
             f"{plan.options.interval}; {plan.options.label} label. Dose dates follow the "
             "label: at least 5 calendar months between doses, a missed dose as soon as "
             "possible and the schedule reset from it [S3][S4][S87]."]
    if plan.switch is not None:
        s = plan.switch
        notes.append(f"Switching from {s.therapy.name} (last dose {s.last_dose.isoformat()}): "
                     f"{s.therapy.guidance}. First ocrelizumab dose {s.start.isoformat()}: "
                     f"{s.risk or f'gap {s.gap_days} days'}.")
        notes += [f"Evidence: {e}" for e in s.therapy.evidence]
    return Report("Ocrelizumab treatment plan", "plan-patient", tables=tables,
                  data={"plan": frame}, notes=notes,
                  inputs={"route": plan.route, "tz": plan.tz,
                          "interval": plan.options.interval, "label": plan.options.label})


def _until(v: PlanVisit) -> str:
    """End of a visit: the last day of a window, or the clock time a timed visit ends."""
    if v.time is None:
        return v.end.isoformat() if v.end else ""
    end = dt.datetime.combine(v.date, v.time) + dt.timedelta(minutes=round(v.minutes))
    return end.strftime("%H:%M")


def day_table(day: InfusionDay) -> pd.DataFrame:
    """The timeline as a printable table (clock minutes from arrival)."""
    f = day.to_frame()
    return pd.DataFrame({
        "from": [_hhmm(m) for m in f["start_min"]], "to": [_hhmm(m) for m in f["end_min"]],
        "min": f["minutes"].round(1), "step": f["name"],
        "mL/h": f["rate_ml_h"].map(lambda v: "" if pd.isna(v) else f"{v:g}"),
        "mL": f["volume_ml"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
        "source": f["source"]})


def _hhmm(minutes: float) -> str:
    m = round(minutes)
    return f"+{m // 60}:{m % 60:02d}"


def day_report(day: InfusionDay, chair_times: pd.DataFrame | None = None,
               summary: dict[str, float] | None = None) -> Report:
    """The infusion day, and the chair-time distribution over simulated visits if given."""
    tables = {f"{day.visit} visit, minute by minute": day_table(day)}
    data = {"timeline": day.to_frame()}
    if chair_times is not None and summary is not None:
        tables["Chair time over simulated visits, min"] = pd.DataFrame([summary]).round(1)
        data["chair_times"] = chair_times
    notes = [f"Infusion {day.infusion_minutes:.0f} min, chair {day.chair_minutes:.0f} min, "
             f"on site {day.on_site_minutes:.0f} min.", *day.notes]
    return Report(f"Infusion day: {day.visit}", "plan-day", tables=tables, data=data,
                  notes=notes, inputs={"visit": day.visit})


def comparison_table(comp: ClinicComparison) -> pd.DataFrame:
    """Metrics by method, one row per metric (first-come and optimised columns)."""
    s = comp.summary().set_index("method")
    rows = [{"metric": label, "first-come": _fmt(s.loc["first-come", key]),
             "optimised": _fmt(s.loc["optimised", key])} for key, label in METRIC_LABELS.items()]
    return pd.DataFrame(rows)


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def gantt(comp: ClinicComparison, day: int = 0) -> Figure:
    """Chairs over the day, first-come above optimised (one bar per visit, coloured by type)."""
    opt = comp.options
    rows = []
    for o in comp.outcomes:
        if o.day != day:
            continue
        visit = o.log.visits.set_index("id")["visit"]
        for chair, start, end, pid in o.log.chairs:
            rows.append({"panel": o.method, "series": f"chair {chair + 1}", "x": start,
                         "end": end, "patient": pid, "visit": visit[pid]})
    data = pd.DataFrame(rows, columns=["panel", "series", "x", "end", "patient", "visit"])
    fig = new_figure(10.0, 2.0 + 0.5 * opt.chairs)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, method in zip(axes, ("first-come", "optimised"), strict=True):
        part = data[data["panel"] == method]
        for _, r in part.iterrows():
            y = int(str(r["series"]).split()[1])
            ax.barh(y, r["end"] - r["x"], left=r["x"], color=_COLORS[str(r["visit"])],
                    edgecolor="white", height=0.8)
        ax.axvline(opt.day_minutes, color="0.3", linestyle="--", linewidth=1)
        ax.set_ylabel("chair")
        ax.set_title(f"{method}, day {day + 1}", loc="left")
        ax.set_yticks(range(1, opt.chairs + 1))
    axes[-1].set_xlabel(f"minutes after opening ({opt.opens // 60:02d}:{opt.opens % 60:02d}); "
                        "dashed: closing")
    from matplotlib.patches import Patch

    axes[0].legend(handles=[Patch(color=c, label=k) for k, c in _COLORS.items()],
                   loc="lower right", ncol=4, frameon=False, fontsize=8,
                   bbox_to_anchor=(1.0, 1.0))
    layout: dict[str, Any] = {m: {"xlabel": "minutes after opening", "ylabel": "chair", "title": m,
                  "yscale": "linear", "hlines": []} for m in ("first-come", "optimised")}
    return Figure(fig, data, layout, f"Chairs on day {day + 1}")


def clinic_report(comp: ClinicComparison, scenarios: pd.DataFrame | None = None) -> Report:
    """First-come vs optimised: the metrics table, what-if scenarios, conflicts, Gantt chart."""
    opt = comp.options
    tables = {"First-come vs optimised (simulated, same patients and random numbers)":
              comparison_table(comp)}
    if scenarios is not None:
        tables["Moving patients to shorter visits (optimised)"] = scenarios.round(2)
    notes = [f"{opt.chairs} chairs, {opt.nurses} nurses (each watches at most "
             f"{opt.infusions_per_nurse} running infusions: assumption), open "
             f"{opt.opens // 60:02d}:{opt.opens % 60:02d}-{opt.closes // 60:02d}:"
             f"{opt.closes % 60:02d} (assumption) with at most {opt.max_overtime} min overtime "
             f"booked; {comp.patients_per_day} requests a day over {len(comp.requests)} days; "
             "mix " + ", ".join(f"{k} {v:.0%}" for k, v in comp.mix.items()) + ".",
             f"Reactions: {comp.reactions}."]
    notes += [f"Day {i + 1}: {c}" for i, c in enumerate(comp.conflicts) if c]
    return Report("Infusion suite: first-come vs optimised schedule", "plan-clinic",
                  tables=tables, figures={"chairs": gantt(comp)},
                  data={"visits": comp.visits(), "summary": comp.summary()}, notes=notes,
                  inputs={"chairs": opt.chairs, "nurses": opt.nurses,
                          "infusions_per_nurse": opt.infusions_per_nurse,
                          "days": len(comp.requests), "patients_per_day": comp.patients_per_day,
                          "mix": dict(comp.mix), "seed": comp.seed})
