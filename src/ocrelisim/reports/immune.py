"""Immune-model figures and tables: B-cell bands, repletion, the two timescales.

matplotlib is imported inside the functions that draw (see :mod:`._report`). Reference lines
(lower limits of normal) come from the parameters of the run, passed in.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..models.immune import (
    MEASURED,
    REPLETION_MONTHS,
    REPLETION_THRESHOLDS,
    repletion_percentiles,
    repletion_summary,
    repletion_time,
    repletion_weeks,
)
from ..parameters import ImmuneParameters
from ..results import SimulationResult
from ..units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from ._report import (
    DASHES,
    Figure,
    band_data,
    draw_bands,
    finish_band_plot,
    new_figure,
    panel_layout,
)

T_CELL_INDICES = ("CD20_T", "IFNG_CD4", "IFNG_CD8", "TH17", "GMCSF_T", "TREG", "NE_CD4",
                  "NE_CD8", "B_CYTO")
"""Indices drawn in the months panel of :func:`plot_immune`."""
IG = ("IgG", "IgM", "IgA")


def _need(res: SimulationResult, names: Sequence[str], label: str) -> None:
    missing = [v for v in names if v not in res.names]
    if missing:
        raise InvalidInputError(
            f"result {label!r} lacks {missing}; simulate with model='immune' and keep these "
            f"variables")


def plot_bcells(results: Mapping[str, SimulationResult], *, lln: float,
                title: str = "CD19+ B cells") -> Figure:
    """B cells over time per regimen (median, 25-75% and 5-95% bands; log axis).

    Parameters
    ----------
    results : mapping of str to SimulationResult
        Regimen label to a result with B-cell trajectories (``model="immune"``).
    lln : float
        Lower limit of normal drawn as a reference line, cells/µL: the run's
        ``ImmuneParameters.lln_b``.
    title : str
        Figure title.

    Returns
    -------
    Figure
        Data: one row per regimen (``series``) and time (``x``, week) with percentiles of
        B cells (cells/µL, floored at 1e-3 for the log axis).

    Raises
    ------
    InvalidInputError
        Empty ``results`` or a result without B-cell trajectories.
    """
    if not results:
        raise InvalidInputError("results is empty; pass a mapping of regimen name -> result")
    for label, res in results.items():
        _need(res, ["B"], label)
    fig = new_figure(9.0, 4.5)
    ax = fig.add_subplot()
    frames = []
    for i, (label, res) in enumerate(results.items()):
        data = draw_bands(ax, np.asarray(res.times) / DAYS_PER_WEEK,
                          np.maximum(res.bcells, 1e-3), f"C{i % 10}",
                          f"{label} (n={res.n_subjects})", DASHES[i % 4], panel="bcells")
        frames.append(data.assign(series=label, n=res.n_subjects))
    lln_label = f"LLN {lln:g} cells/µL (assumption)"
    ax.axhline(lln, color="0.3", linewidth=0.8, linestyle=":")
    ax.text(0.0, lln * 1.15, lln_label, fontsize=8, color="0.3")
    ax.set_yscale("log")
    xlabel, ylabel = "Time since first dose (week)", "CD19+ B cells (cells/µL)"
    finish_band_plot(fig, ax, xlabel=xlabel, ylabel=ylabel, title=title, legend="lower right")
    layout = {"bcells": panel_layout(xlabel=xlabel, ylabel=ylabel, title=title, yscale="log",
                                     hlines=[{"y": lln, "label": lln_label}])}
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=120)


def repletion_table(results: Mapping[str, SimulationResult], last_dose: Mapping[str, float],
                    *, lln: float) -> pd.DataFrame:
    """Per regimen: share depleted at the last dose and B-cell repletion after it.

    Repletion is the label's definition [S59]: B cells back to baseline or to ``lln``,
    whichever comes first, measured from ``last_dose[label]`` (day). Each result needs B-cell
    trajectories long enough after the last dose, and ``result.parameters`` (B0).

    Returns
    -------
    pandas.DataFrame
        Columns Regimen, "Below LLN at last dose (%)", "Weeks to repletion, median (5-95%)",
        "Not repleted by end (%)".
    """
    rows = []
    for label, res in results.items():
        _need(res, ["B"], label)
        if res.parameters is None or "B0" not in res.parameters.columns:
            raise InvalidInputError(f"result {label!r} has no individual B0; use model='immune'")
        t = np.asarray(res.times)
        b = np.asarray(res.bcells)
        t_last = float(last_dose[label])
        thr = np.minimum(lln, res.parameters["B0"].to_numpy())
        j = int(np.searchsorted(t, t_last))
        below = 100.0 * float(np.mean(b[:, min(j, t.size - 1)] < lln))
        weeks = (repletion_time(t, b, thr, after=t_last + 1.0) - t_last) / DAYS_PER_WEEK
        open_pct = 100.0 * float(np.mean(~np.isfinite(weeks)))
        med, lo, hi = _censored_percentiles(weeks, [50.0, 5.0, 95.0])
        rows.append({
            "Regimen": label,
            "Below LLN at last dose (%)": f"{below:.1f}",
            "Weeks to repletion, median (5-95%)": (
                f"{_w(med)} ({_w(lo)}-{_w(hi)})"),
            "Not repleted by end (%)": f"{open_pct:.1f}",
        })
    table = pd.DataFrame(rows)
    table.attrs["disclaimer"] = DISCLAIMER
    return table


def _censored_percentiles(values: np.ndarray, q: Sequence[float]) -> list[float]:
    """Percentiles where NaN marks a censored value (later than every observed one).

    Censored values rank above every observed value; a percentile that falls on or
    interpolates towards a censored value is unknown and returned as +inf (shown ">end").
    Without any observed value every percentile is NaN.
    """
    done = values[np.isfinite(values)]
    if done.size == 0:
        return [math.nan] * len(q)
    top = float(done.max())
    full = np.where(np.isfinite(values), values, top + 1.0)  # any value above ``top``
    return [float(v) if v <= top else math.inf for v in np.percentile(full, q)]


def _w(x: float) -> str:
    return ">end" if not np.isfinite(x) else f"{x:.0f}"


def plot_immune(res: SimulationResult, *, immune: ImmuneParameters,
                title: str = "What ocrelizumab does to the immune system") -> Figure:
    """The two timescales: B cells in weeks, T-cell/cytokine indices in months, Ig in years.

    Three panels with medians and 5-95% bands across subjects; the T-cell panel says that its
    sizes are modelled (only directions and time points are measured).

    Parameters
    ----------
    res : SimulationResult
        A ``model="immune"`` result with every output.
    immune : ImmuneParameters
        The parameters of the run: the lower limits of normal drawn (``lln_b``, ``lln_igg``,
        ``lln_igm``, ``lln_iga``).
    title : str
        Figure title.

    Returns
    -------
    Figure
        Data: panels ``bcells`` (x in weeks), ``tcells`` (months) and ``ig`` (years), one
        series per variable, with percentiles across subjects.
    """
    _need(res, ["B", *T_CELL_INDICES, *IG], "result")
    t = np.asarray(res.times)
    fig = new_figure(10.0, 11.0)
    ax_b, ax_t, ax_ig = fig.subplots(3, 1)
    frames = []

    weeks = t <= 52 * DAYS_PER_WEEK
    frames.append(draw_bands(ax_b, t[weeks] / DAYS_PER_WEEK,
                             np.maximum(res.bcells[:, weeks], 1e-3), "C0", "CD19+ B cells",
                             panel="bcells").assign(series="B"))
    lln_b = immune.lln_b.value
    ax_b.axhline(lln_b, color="0.3", linewidth=0.8, linestyle=":")
    ax_b.set_yscale("log")
    ax_b.set_xlabel("Weeks since first dose")
    ax_b.set_ylabel("cells/µL")
    ax_b.set_title("Weeks: B cells are depleted within days (calibrated to published figures)")
    ax_b.legend(loc="upper right", frameon=False)

    months = t <= 24 * DAYS_PER_MONTH
    for i, name in enumerate(T_CELL_INDICES):
        data = band_data(t[months] / DAYS_PER_MONTH, np.asarray(res[name])[:, months],
                          panel="tcells", series=name)
        ax_t.plot(data["x"], data["p50"], color=f"C{i}", label=name)
        ax_t.fill_between(data["x"], data["p05"], data["p95"], color=f"C{i}", alpha=0.08,
                          linewidth=0)
        frames.append(data)
    ax_t.axhline(1.0, color="0.3", linewidth=0.8)
    ax_t.set_xlabel("Months since first dose")
    ax_t.set_ylabel("index (1 = baseline)")
    ax_t.set_title("Months: T cells and cytokines follow (directions measured, sizes modelled)")
    ax_t.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)

    ig_lines: list[dict[str, Any]] = []
    for i, name in enumerate(IG):
        frames.append(draw_bands(ax_ig, t / DAYS_PER_YEAR, np.asarray(res[name]), f"C{i}", name,
                                 panel="ig"))
        lln = getattr(immune, f"lln_{name.lower()}").value
        ax_ig.axhline(lln, color=f"C{i}", linewidth=0.8, linestyle=":")
        ig_lines.append({"y": lln, "label": f"LLN {name} {lln:g} g/L"})
    ax_ig.set_yscale("log")
    ax_ig.set_xlabel("Years since first dose")
    ax_ig.set_ylabel("g/L (dotted: lower limits of normal [S22])")
    ax_ig.set_title("Years: immunoglobulins fall slowly (calibrated to extension studies)")
    ax_ig.legend(loc="lower left", frameon=False)
    for ax in (ax_b, ax_t, ax_ig):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}\nmedian and 5-95% of {res.n_subjects} simulated patients")
    fig.text(0.01, 0.002, DISCLAIMER, fontsize=7, color="0.4")
    layout = {
        "bcells": panel_layout(xlabel="Weeks since first dose", ylabel="cells/µL",
                               title=ax_b.get_title(), yscale="log",
                               hlines=[{"y": lln_b, "label": f"LLN {lln_b:g} cells/µL"}]),
        "tcells": panel_layout(xlabel="Months since first dose",
                               ylabel="index (1 = baseline)", title=ax_t.get_title(),
                               hlines=[{"y": 1.0, "label": "baseline"}]),
        "ig": panel_layout(xlabel="Years since first dose", ylabel="g/L",
                           title=ax_ig.get_title(), yscale="log", hlines=ig_lines),
    }
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=110)


def immune_table(res: SimulationResult, days: Sequence[float]) -> pd.DataFrame:
    """Median (5-95%) of every immune output at the given days, with what is measured."""
    t = np.asarray(res.times)
    rows = []
    for name in res.names:
        if name == "C":
            continue
        row = {"Variable": name, "Unit": res.units[name]}
        for d in days:
            j = int(np.argmin(np.abs(t - d)))
            v = np.asarray(res[name])[:, j]
            lo, med, hi = np.percentile(v, [5, 50, 95])
            row[f"day {d:g}"] = f"{med:.3g} ({lo:.3g}-{hi:.3g})"
        row["Evidence"] = MEASURED.get(name, "")
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["disclaimer"] = DISCLAIMER
    return table


def return_tables(res: SimulationResult, last_dose_day: float, *,
                  lln: float) -> dict[str, pd.DataFrame]:
    """B-cell return after the last dose: shares above 10, 20, 40, 80 cells/µL at 3-24 months
    (:func:`ocrelisim.models.immune.repletion_summary`) and the repletion-time percentiles
    (:func:`ocrelisim.models.immune.repletion_percentiles`, to baseline or ``lln``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"shares"``: one row per month, percentages formatted to one decimal;
        ``"repletion"``: one row per percentile with the weeks (">end" when later than the
        simulated period) and the share not repleted by the end.
    """
    shares = repletion_summary(res, last_dose_day)
    shown = shares.drop(columns=["day"]).rename(columns={"months": "Months after last dose"})
    for c in shown.columns[1:]:
        shown[c] = shown[c].map(lambda v: f"{v:.1f}")
    shown["Months after last dose"] = shown["Months after last dose"].map(lambda v: f"{v:g}")
    pct = repletion_percentiles(res, last_dose_day, lln=lln)
    rep = pd.DataFrame({
        "Percentile": [f"{q:g}th" for q in pct["percentile"]],
        "Weeks from last dose to repletion": [_w(v) for v in pct["weeks"]],
    })
    rep.attrs["not_repleted"] = pct.attrs["not_repleted"]
    for t in (shown, rep):
        t.attrs["disclaimer"] = DISCLAIMER
    return {"shares": shown, "repletion": rep}


def published_ranges(key: str) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Months after the last dose and the published low and high values of ``key``'s rows in
    the package's ``data/bcell_timecourse.csv`` (a value ``"3-5"`` is the range 3 to 5)."""
    text = (files("ocrelisim") / "data" / "bcell_timecourse.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(text.splitlines()) if r["key"] == key]
    if not rows:
        raise InvalidInputError(f"no rows with key {key!r} in data/bcell_timecourse.csv")
    ranges = [r["value"].partition("-") for r in rows]
    return (tuple(float(r["months_after_last_dose"]) for r in rows),
            tuple(float(lo) for lo, _, _ in ranges),
            tuple(float(hi or lo) for lo, _, hi in ranges))


def plot_return(res: SimulationResult, last_dose_day: float, *, lln: float,
                title: str = "B-cell return after the last dose") -> Figure:
    """Shares of patients above 10, 20, 40 and 80 cells/µL by month after the last dose, and
    the share repleted (baseline or ``lln``, whichever first) by week after it.

    The published shares of [B1] (CD19 >= 1% of lymphocytes, read here as 24 cells/µL: 1% of a
    mean lymphocyte count of 2,400 cells/µL [S85c]) are drawn as ranges: predictions, not fitted
    (``src/ocrelisim/data/bcell_timecourse.csv``); so is the label's median of 72 weeks [S59],
    which is a calibration target.

    Returns
    -------
    Figure
        Data: panel ``shares`` (x in months, one series per threshold, ``share`` in %) and
        panel ``repleted`` (x in weeks, ``share`` in %).
    """
    t = np.asarray(res.times)
    end_months = math.floor((t[-1] - last_dose_day) / DAYS_PER_MONTH)
    months = np.arange(0.5, min(end_months, 30) + 0.5, 0.5)  # from 2 weeks after the dose
    shares = repletion_summary(res, last_dose_day, months=list(months),
                               thresholds=list(REPLETION_THRESHOLDS))
    fig = new_figure(11.0, 4.6)
    ax_s, ax_r = fig.subplots(1, 2)
    frames = []
    for i, thr in enumerate(REPLETION_THRESHOLDS):
        col = f"> {thr:g} cells/uL (%)"
        ax_s.plot(months, shares[col], color=f"C{i}", label=f"> {thr:g} cells/µL")
        frames.append(pd.DataFrame({"panel": "shares", "series": f"> {thr:g} cells/uL",
                                    "x": months, "share": shares[col]}))
    b1_months, b1_lo, b1_hi = published_ranges("B1")
    mid = [(a + b) / 2 for a, b in zip(b1_lo, b1_hi, strict=True)]
    err = [[m - a for m, a in zip(mid, b1_lo, strict=True)],
           [b - m for m, b in zip(mid, b1_hi, strict=True)]]
    ax_s.errorbar(b1_months, mid, yerr=err, fmt="none", ecolor="k", capsize=4, linewidth=1.5,
                  label="[B1] ≥ 1% of lymphocytes (prediction)")
    model24 = repletion_summary(res, last_dose_day, months=list(b1_months), thresholds=[24.0])
    ax_s.plot(b1_months, model24["> 24 cells/uL (%)"], "kx",
              label="model > 24 cells/µL (derived [S85c])")
    frames.append(pd.DataFrame({"panel": "shares", "series": "published [B1] >= 1% of "
                                "lymphocytes", "x": b1_months, "share": mid,
                                "low": b1_lo, "high": b1_hi}))
    frames.append(pd.DataFrame({"panel": "shares", "series": "> 24 cells/uL", "x": b1_months,
                                "share": model24["> 24 cells/uL (%)"]}))
    for m in REPLETION_MONTHS:
        ax_s.axvline(m, color="0.85", linewidth=0.6, zorder=0)
    ax_s.set_xlabel("Months after the last dose")
    ax_s.set_ylabel("patients above the count (%)")
    ax_s.set_ylim(-2, 102)
    ax_s.set_title("Share of patients above each B-cell count")
    ax_s.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False,
                fontsize=8)  # below the axes: inside, it hid curves or [B1] bars

    weeks = repletion_weeks(res, last_dose_day, lln=lln)
    x = np.arange(0.0, math.floor((t[-1] - last_dose_day) / DAYS_PER_WEEK) + 1.0)
    done = np.where(np.isfinite(weeks), weeks, np.inf)
    cum = 100.0 * np.mean(done[:, None] <= x[None, :], axis=0)
    ax_r.plot(x, cum, color="C0", label=f"model (n={res.n_subjects})")
    ax_r.axvline(72.0, color="k", linestyle="--", linewidth=1.0,
                 label="label median 72 weeks [S59] (calibration)")
    ax_r.axhline(50.0, color="0.6", linewidth=0.6)
    ax_r.set_xlabel("Weeks after the last dose")
    ax_r.set_ylabel("patients repleted (%)")
    ax_r.set_ylim(-2, 102)
    ax_r.set_title(f"Repleted: back to baseline or {lln:g} cells/µL")
    ax_r.legend(loc="lower right", frameon=False, fontsize=8)
    frames.append(pd.DataFrame({"panel": "repleted", "series": "model", "x": x, "share": cum}))
    for ax in (ax_s, ax_r):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}\n{res.n_subjects} simulated patients; last dose on day "
                 f"{last_dose_day:g}")
    fig.set_layout_engine("constrained", rect=(0.0, 0.04, 1.0, 0.96))  # room for the disclaimer
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=7, color="0.4")
    layout = {
        "shares": panel_layout(xlabel="Months after the last dose", ylabel="%",
                               title=ax_s.get_title()),
        "repleted": panel_layout(xlabel="Weeks after the last dose", ylabel="%",
                                 title=ax_r.get_title(), hlines=[{"y": 50.0,
                                                                  "label": "half repleted"}]),
    }
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=110)
