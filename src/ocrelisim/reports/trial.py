"""Virtual-trial tables, figures and the report.

Kaplan-Meier curves come from lifelines; lifelines and matplotlib are imported inside the
functions that draw (see :mod:`._report`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..trials import ENDPOINTS, PatientBank, TrialDesign, TrialResult
from ._report import Figure, Report, new_figure, panel_layout

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _fmt(x: float, digits: int = 3) -> str:
    return "–" if not math.isfinite(x) else f"{x:.{digits}g}"


def design_table(design: TrialDesign, bank: PatientBank | None = None) -> pd.DataFrame:
    """One row per arm: treatment, regimen or rate ratios, allocation share and size (and,
    with the bank, the mean number of doses per patient within the follow-up)."""
    rows = []
    for arm, share, n in zip(design.arms, design.allocation, design.arm_sizes(), strict=True):
        what = (f"{arm.regimen}, then B-cell guided: " + ", ".join(
            f"{k} {v:g}" for k, v in arm.guided.items()) if arm.guided else arm.regimen) \
            if arm.treatment == "ocrelizumab" else (
            ", ".join(f"{k} ×{v:g}" for k, v in (arm.rate_ratios or {}).items())
            if arm.treatment == "comparator" else
            "44 µg SC three times weekly (rate ratios, assumption)"
            if arm.treatment == "interferon" else "untreated natural history")
        rows.append({"Arm": arm.name + (" (control)" if arm.name == design.control else ""),
                     "Treatment": arm.treatment, "Regimen or effect": what,
                     "Share": f"{share:.3f}", "Patients": n,
                     "Doses per patient": f"{bank.doses[arm.name].mean():.2f}"
                     if bank is not None and arm.name in bank.doses else "–"})
    return pd.DataFrame(rows)


def follow_up_text(design: TrialDesign) -> str:
    """The follow-up rule in words (fixed or event-driven)."""
    if design.events_target is None:
        return f"fixed follow-up of {design.weeks} weeks"
    return (f"event-driven: analysed at the first visit from week {design.first_analysis} by "
            f"which {design.events_target} 12-week confirmed progression events are confirmed "
            f"(at most week {design.weeks})")


def schedule_text(design: TrialDesign) -> str:
    s = design.schedule
    scans = ", ".join(map(str, s.mri_weeks)) or "none"
    walk = (f"; timed walk change at week {design.walk_week}" if design.walk_week is not None
            else "")
    return (f"{design.name}: {design.disease}, {design.n} patients, {follow_up_text(design)}; "
            f"EDSS, walk and peg-test visits every {s.visit_every} weeks; MRI at weeks {scans}"
            f"{walk}; endpoints {', '.join(design.endpoints)}; two-sided alpha "
            f"{design.alpha:g}.")


def enrolment_table(design: TrialDesign) -> pd.DataFrame:
    """The design's enrolment criteria and follow-up rule, one row each ("any" where the
    design sets none: the model's population for the disease)."""
    def pair(x: tuple[float, float] | None, unit: str, spec: str = "g") -> str:
        if x is None:
            return "any (model population)"
        return f"{x[0]:{spec}}-{x[1]:{spec}} {unit}".rstrip()

    rows = [("Age", pair(design.age_range, "years")),
            ("Baseline EDSS", pair(design.edss_range, "", ".1f")),
            ("Disease duration", pair(design.disease_duration, "years")),
            ("Body weight", pair(design.weight_range, "kg"))]
    if design.disease == "RMS":
        rows += [("Relapses before randomisation",
                  "any" if design.prior_relapses is None else
                  f"{design.prior_relapses[0]}-{design.prior_relapses[1]} in "
                  f"{design.prior_years} year(s)"),
                 ("Gd+ lesions at baseline", "any" if design.gd_baseline is None
                  else ">= 1" if design.gd_baseline else "none")]
    if design.baseline is not None:
        rows.append(("Population drawn (design baseline)",
                     ", ".join(f"{k} {v:g}" for k, v in design.baseline.items())
                     + " (outside the calibration population: extrapolated)"))
    rows.append(("Follow-up", follow_up_text(design)))
    return pd.DataFrame(rows, columns=["Criterion", "Value"])


def estimates_table(result: TrialResult) -> pd.DataFrame:
    """Model vs published per endpoint: arm values (model: mean over replicates) and the
    ratio (model: median and 2.5-97.5% of the replicate estimates; published: 95% CI)."""
    rows = []
    several = len(result.design.arms) > 2
    for r in result.summary().to_dict("records"):
        pub = result.design.published.get(str(r["endpoint"]), {})
        ci = f" ({_fmt(pub['lower'])}-{_fmt(pub['upper'])})" if "lower" in pub else ""
        row = {"Endpoint": str(r["endpoint"])}
        if several:
            row["Comparison"] = f"{r['arm']} vs {r['control']}"
        row.update({
            "Treated: model / published": f"{_fmt(r['treated'])} / "
                                          f"{_fmt(r['published_treated'])}",
            "Control: model / published": f"{_fmt(r['reference'])} / "
                                          f"{_fmt(r['published_reference'])}",
            "Ratio, model (2.5-97.5%)": f"{_fmt(r['estimate'])} ({_fmt(r['estimate_2.5%'])}-"
                                        f"{_fmt(r['estimate_97.5%'])})",
            "Ratio, published (95% CI)": _fmt(r["published_estimate"]) + ci if pub else "–",
            "Source": pub.get("source", "–"),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def power_table(result: TrialResult) -> pd.DataFrame:
    """Power per endpoint and comparison with its Wilson 95% interval."""
    s = result.summary()
    return pd.DataFrame({
        "Endpoint": [f"{e}: {ENDPOINTS[e][0]}" for e in s["endpoint"]],
        "Comparison": s["arm"] + " vs " + s["control"],
        "Analysis": [ENDPOINTS[e][2] for e in s["endpoint"]],
        "Power": [f"{p:.3f} ({lo:.3f}-{hi:.3f})" for p, lo, hi in
                  zip(s["power"], s["power_lower"], s["power_upper"], strict=True)],
        "Replicates": result.replicates, "Failed fits": s["failed_fits"],
    })


def _band(mean: float, lo: float, hi: float, spec: str, unit: str) -> str:
    return f"{mean:{spec}}{unit} ({lo:{spec}}-{hi:{spec}})"


NOT_MODELLED = "not modelled"
"""What the infection table shows for an arm without an IgG model (never an invented rate)."""


def infections_table(result: TrialResult) -> pd.DataFrame:
    """Infections by arm: serious and all infections per 100 patient-years and the shares of
    patients with at least one over the trial (model: mean and 2.5-97.5% over replicates), with
    the published values where the dossier has them; arms without an IgG model (interferon,
    placebo, comparators) read "not modelled"."""
    rows = []
    for r in result.infection_summary().to_dict("records"):
        row = {"Arm": r["arm"]}
        for col, key, scale, spec, unit in (
                ("Infections per 100 PY", "infections_per_100py", 1.0, ".3g", ""),
                ("Serious infections per 100 PY", "serious_per_100py", 1.0, ".3g", ""),
                ("Patients with >= 1 infection", "share_with_infection", 100.0, ".1f", "%"),
                ("Patients with >= 1 serious infection", "share_with_serious", 100.0, ".1f",
                 "%")):
            model = (_band(scale * r[key], scale * r[f"{key}_2.5%"],
                           scale * r[f"{key}_97.5%"], spec, unit)
                     if r["modelled"] else NOT_MODELLED)
            pub = scale * r[f"published_{key}"]
            shown = "–" if not math.isfinite(pub) else f"{pub:{spec}}{unit}"
            row[f"{col}: model (2.5-97.5%) / published"] = f"{model} / {shown}"
        row["Source"] = r["source"] or "–"
        rows.append(row)
    return pd.DataFrame(rows)


def typical_replicate(result: TrialResult) -> int:
    """The replicate whose first CDP hazard ratio is closest to the median over replicates
    (replicate 0 when no CDP endpoint was analysed)."""
    t = result.table
    cdp = [e for e in result.design.endpoints if e.startswith("CDP")]
    if not cdp:
        return 0
    sub = t[(t["endpoint"] == cdp[0]) & t["estimate"].notna()]
    if sub.empty:
        return 0
    first = sub[sub["arm"] == sub["arm"].iloc[0]]
    dist = (first["estimate"] - first["estimate"].median()).abs()
    return int(first.loc[dist.idxmin(), "replicate"])


def _km_frame(km: Any, panel: str, series: str) -> pd.DataFrame:
    """Kaplan-Meier curve as percent with CDP (y) and its 95% band, by week (x)."""
    sf, ci = km.survival_function_, km.confidence_interval_
    return pd.DataFrame({
        "panel": panel, "series": series, "x": sf.index.to_numpy(dtype=float),
        "y": 100 * (1 - sf.iloc[:, 0].to_numpy()),
        "y_lower": 100 * (1 - ci.iloc[:, 0].to_numpy()),
        "y_upper": 100 * (1 - ci.iloc[:, 1].to_numpy())})


def _point(panel: str, series: str, x: float, y: float) -> pd.DataFrame:
    return pd.DataFrame({"panel": [panel], "series": [series], "x": [float(x)], "y": [y]})


_KM_TITLES = {"CDP": "confirmed progression (EDSS)", "NHPT": "confirmed peg-test worsening",
              "CCDP": "composite confirmed progression",
              "HCDP": "composite progression (EDSS or peg test)", "PIRA": "PIRA"}


def _km_panels(design: TrialDesign) -> list[str]:
    """Time-to-event endpoints drawn as Kaplan-Meier panels (EDSS CDP windows first)."""
    cdp = [f"CDP{w}" for w in design.confirm if f"CDP{w}" in design.endpoints] or ["CDP12"]
    return cdp + [e for e in design.endpoints
                  if e.startswith(("NHPT", "CCDP", "HCDP", "PIRA"))]


def plot_trial(result: TrialResult) -> Figure:
    """Kaplan-Meier curves of confirmed progression (EDSS, and where the design has them the
    peg test, composite progression and PIRA; one replicate) and the relapse rate or the
    timed walk's mean % change by arm over replicates, with published values marked.

    The figure's data: one panel per time-to-event endpoint (``CDP12``, ``NHPT12``,
    ``CCDP12``, ...; one series per arm: ``x`` week, ``y`` percent with an event,
    ``y_lower``/``y_upper`` its 95% band; series ``published <arm>``: the published point),
    and ``ARR`` or ``T25FW`` (one series per arm: ``x`` replicate, ``y`` the arm's value in
    that replicate; ``published <arm>``).
    """
    from lifelines import KaplanMeierFitter

    design = result.design
    rep = typical_replicate(result)
    out, arm = result.example(rep)
    confirm = design.confirm
    panels = _km_panels(design)
    cols = min(3, len(panels) + 1)
    rows = -(-(len(panels) + 1) // cols)
    fig = new_figure(4.2 * cols, 4.2 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[len(panels) + 1:]:
        ax.set_axis_off()
    frames: list[pd.DataFrame] = []
    layout: dict[str, Any] = {}
    series = {"CDP": (out.cdp_time, out.cdp_event), "PIRA": (out.cdp_time, out.cdp_pira),
              "NHPT": (out.hpt_time, out.hpt_event), "CCDP": (out.ccdp_time, out.ccdp_event),
              "HCDP": (out.hcdp_time, out.hcdp_event)}
    for ax, panel in zip(axes, panels, strict=False):
        kind = panel.rstrip("0123456789")
        w = int(panel[len(kind):])
        c = confirm.index(w)
        times, events = series[kind]
        if times is None or events is None:
            ax.set_axis_off()
            continue
        for i, a in enumerate(design.arms):
            sel = arm == i
            label = f"{a.name} (n={int(sel.sum())})"
            km = KaplanMeierFitter().fit(times[sel, c], events[sel, c], label=label)
            data = _km_frame(km, panel, a.name)
            frames.append(data)
            ax.step(data["x"], data["y"], where="post", color=_COLORS[i % 5])
            ax.fill_between(data["x"], data["y_lower"], data["y_upper"], step="post",
                            color=_COLORS[i % 5], alpha=0.15)
            ax.plot([], [], color=_COLORS[i % 5], label=label)
        pub = design.published.get(panel, {})
        at = design.first_analysis
        for key, i in (("treated", 0), ("control", len(design.arms) - 1)):
            if key in pub:
                ax.plot(at, 100 * pub[key], marker="D", color=_COLORS[i % 5],
                        markeredgecolor="black", linestyle="none")
                frames.append(_point(panel, f"published {design.arms[i].name}", at,
                                     100 * pub[key]))
        if "estimate" in pub:
            ax.text(0.98, 0.03, f"published HR {pub['estimate']:.3g}", transform=ax.transAxes,
                    ha="right", fontsize=8)
        title = f"{w}-week {_KM_TITLES[kind]} (replicate {rep})"
        ax.set(xlabel="weeks since randomisation", ylabel="patients with an event, %",
               title=title)
        ax.title.set_fontsize(9)
        layout[panel] = panel_layout(xlabel="weeks since randomisation",
                                     ylabel="patients with an event, %", title=title)
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    frames += _draw_endpoint_panel(axes[len(panels)], result, layout)
    fig.suptitle(f"{design.name}: virtual trial (research and education only)")
    title = f"{design.name}: virtual trial"
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=110)


def _draw_endpoint_panel(ax: Any, result: TrialResult,
                         layout: dict[str, Any]) -> list[pd.DataFrame]:
    """Box plot of the relapse rate (or the timed walk's mean % change) by arm over
    replicates."""
    design, table = result.design, result.table
    panel = "ARR" if "ARR" in design.endpoints else "T25FW" if "T25FW" in design.endpoints \
        else None
    if panel is None:
        ax.set_axis_off()
        return []
    frames, data, labels = [], [], []
    sub = table[table["endpoint"] == panel]
    ctl = [a.name for a in design.arms].index(design.control)
    for i, a in enumerate(design.arms):
        col, rows = ("reference", sub) if i == ctl else ("treated", sub[sub["arm"] == i])
        picked = rows[[col, "replicate"]].drop_duplicates() if i == ctl else rows
        values = picked[col].to_numpy()  # ARR per year; T25FW already in percent
        data.append(values)
        labels.append(a.name)
        frames.append(pd.DataFrame({"panel": panel, "series": a.name,
                                    "x": picked["replicate"].to_numpy(dtype=float),
                                    "y": values}))
    bp = ax.boxplot(data, tick_labels=labels, patch_artist=True)
    for i, box in enumerate(bp["boxes"]):
        box.set_facecolor(_COLORS[i % 5])
        box.set_alpha(0.4)
    pub = design.published.get(panel, {})
    for which, i in (("treated", 1), ("control", len(design.arms))):
        if which in pub:
            ax.plot(i, pub[which], marker="D", color="black", linestyle="none",
                    label="published" if i == 1 else None)
            frames.append(_point(panel, f"published {labels[i - 1]}", np.nan,
                                 pub[which]))
    week = (f"week {design.walk_week}" if design.walk_week is not None
            else f"week {design.weeks}" if design.events_target is None else "the analysis")
    ylabel = ("annualised relapse rate" if panel == "ARR"
              else f"mean change in walk time at {week}, %")
    title = (f"{'Relapse rate' if panel == 'ARR' else 'Timed 25-foot walk'} by arm "
             f"({result.replicates} replicates)")
    ax.set(ylabel=ylabel, title=title)
    layout[panel] = panel_layout(xlabel="replicate", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return frames


def plot_power_curve(curve: pd.DataFrame, *, target: float | None = None,
                     title: str = "Power by sample size") -> Figure:
    """Power against total sample size per endpoint and comparison, with Wilson intervals.

    The figure's data: one series per endpoint and arm (``"<endpoint>: <arm>"``), ``x`` the
    total size, ``y`` the power, ``y_lower``/``y_upper`` its Wilson 95% interval.
    """
    if curve.empty:
        raise InvalidInputError("the power curve is empty")
    fig = new_figure(7.5, 4.5)
    ax = fig.add_subplot()
    frames = []
    for i, ((e, a), g) in enumerate(curve.groupby(["endpoint", "arm"], sort=False)):
        g = g.sort_values("n")
        label = f"{e}: {a}"
        ax.errorbar(g["n"], g["power"], yerr=[g["power"] - g["power_lower"],
                                              g["power_upper"] - g["power"]],
                    marker="o", capsize=3, color=_COLORS[i % 5], label=label)
        frames.append(pd.DataFrame({
            "panel": "power", "series": label, "x": g["n"].to_numpy(dtype=float),
            "y": g["power"].to_numpy(), "y_lower": g["power_lower"].to_numpy(),
            "y_upper": g["power_upper"].to_numpy()}))
    hlines = []
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", label=f"target {target:g}")
        hlines.append({"y": target, "label": f"target {target:g}"})
    ax.set(xlabel="patients randomised (total)", ylabel="power", ylim=(0, 1.02), title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    layout = {"power": panel_layout(xlabel="patients randomised (total)", ylabel="power",
                                    title=title, hlines=hlines)}
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=110)


def trial_report(result: TrialResult) -> Report:
    """The report of a replicated trial: figure, design, estimates vs published, power,
    infections by arm.

    Data written as CSV: ``replicates`` (one row per replicate, endpoint and comparison),
    ``summary`` (:meth:`TrialResult.summary`) and ``infections`` (one row per replicate and
    ocrelizumab arm: :attr:`TrialResult.infections`).
    """
    design = result.design
    notes = [schedule_text(design),
             f"{result.replicates} replicate trials, seed {result.seed}; ocrelizumab patients "
             f"drawn from a bank of {result.bank.size} patients simulated with the immune model "
             f"(drug effect = delayed B-cell depletion).",
             "Ratios: rate ratio (ARR, lesions; negative binomial regression), hazard ratio "
             "(CDP, peg test, composite; Cox regression), ratio of mean % changes (timed "
             "walk), risk ratio (NEDA), treated vs control. Composite progression: EDSS, or a "
             "timed walk or peg test at least 20% slower than baseline, confirmed (the 20% "
             "thresholds are conventions of recent trials); the peg-test endpoint uses "
             "ORATORIO's 15% [S53b]. Model columns: "
             "mean over replicates of the arm values, median and 2.5-97.5% of the replicate "
             "estimates. Kaplan-Meier curves (95% bands): the replicate with the median "
             f"hazard ratio (replicate {typical_replicate(result)}); diamonds: published "
             "values.",
             "Natural-history levels, IFN β-1a effects and several variabilities are "
             "assumptions; see DiseaseParameters for every value and source.",
             "Infections (ocrelizumab arms only): serious and non-serious infections drawn "
             "over each patient's follow-up from the safety model (rates per 100 patient-years "
             "calibrated to long-term all-exposure data [S20][S74][S75]; serious infections "
             "2.63 times as frequent while IgG, from the immune model, is below the LLN). The "
             "rate is the same for every patient (no frailty), so the share of patients with "
             "an infection can exceed a trial's published share. Interferon, placebo and "
             "comparator arms have no IgG model: their infections are not modelled."]
    return Report(
        title=f"ocrelisim virtual trial: {design.name}", kind="trial",
        tables={"Design": design_table(design, result.bank),
                "Enrolment and follow-up": enrolment_table(design),
                "Effect estimates vs published": estimates_table(result),
                "Power": power_table(result),
                "Infections by arm": infections_table(result)},
        figures={"trial": plot_trial(result)},
        data={"replicates": result.table, "summary": result.summary(),
              "infections": result.infections},
        notes=notes,
        inputs={"design": design.name, "replicates": result.replicates, "seed": result.seed,
                "bank_size": result.bank.size})


__all__ = ["design_table", "enrolment_table", "estimates_table", "follow_up_text",
           "infections_table", "plot_power_curve", "plot_trial", "power_table", "schedule_text",
           "trial_report", "typical_replicate"]
