"""Immune-model figures and tables: B-cell bands, repletion, the two timescales.

Like :mod:`ocrelisim.report`, matplotlib is imported inside the drawing functions and used
through its object-oriented API on the Agg canvas.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._meta import DISCLAIMER
from .errors import InvalidInputError
from .immune import MEASURED, repletion_time
from .io import atomic_write
from .parameters import IMMUNE
from .report import draw_bands, finish_band_plot
from .results import SimulationResult
from .units import DAYS_PER_WEEK

DAYS_PER_MONTH = 365.25 / 12.0
DAYS_PER_YEAR = 365.25

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


def plot_bcells(results: Mapping[str, SimulationResult], path: str | os.PathLike[str], *,
                lln: float, title: str = "CD19+ B cells") -> Path:
    """B cells over time per regimen (median, 25-75% and 5-95% bands; log axis), as PNG.

    Raises
    ------
    InvalidInputError
        Empty ``results`` or a result without B-cell trajectories.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not results:
        raise InvalidInputError("results is empty; pass a mapping of regimen name -> result")
    fig = Figure(figsize=(9.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (label, res) in enumerate(results.items()):
        _need(res, ["B"], label)
        draw_bands(ax, np.asarray(res.times) / DAYS_PER_WEEK, np.maximum(res.bcells, 1e-3),
                   f"C{i % 10}", f"{label} (n={res.n_subjects})", ("-", "--", ":", "-.")[i % 4])
    ax.axhline(lln, color="0.3", linewidth=0.8, linestyle=":")
    ax.text(0.0, lln * 1.15, f"LLN {lln:g} cells/µL (assumption)", fontsize=8, color="0.3")
    ax.set_yscale("log")
    return finish_band_plot(fig, ax, path, xlabel="Time since first dose (week)",
                            ylabel="CD19+ B cells (cells/µL)", title=title, legend="lower right")


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
        done = weeks[np.isfinite(weeks)]
        open_pct = 100.0 * float(np.mean(~np.isfinite(weeks)))
        # Not-yet-repleted subjects count as later than every observed time (censored).
        full = np.where(np.isfinite(weeks), weeks, np.inf)
        med, lo, hi = np.percentile(full, [50, 5, 95]) if done.size else (np.nan,) * 3
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


def _w(x: float) -> str:
    return ">end" if not np.isfinite(x) else f"{x:.0f}"


def plot_immune(res: SimulationResult, path: str | os.PathLike[str], *, lln: float,
                title: str = "What ocrelizumab does to the immune system") -> Path:
    """The two timescales: B cells in weeks, T-cell/cytokine indices in months, Ig in years.

    Three panels with medians and 5-95% bands across subjects; the T-cell panel says that its
    sizes are modelled (only directions and time points are measured).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _need(res, ["B", *T_CELL_INDICES, *IG], "result")
    t = np.asarray(res.times)
    fig = Figure(figsize=(10.0, 11.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax_b, ax_t, ax_ig = fig.subplots(3, 1)

    weeks = t <= 52 * DAYS_PER_WEEK
    draw_bands(ax_b, t[weeks] / DAYS_PER_WEEK, np.maximum(res.bcells[:, weeks], 1e-3), "C0",
           "CD19+ B cells")
    ax_b.axhline(lln, color="0.3", linewidth=0.8, linestyle=":")
    ax_b.set_yscale("log")
    ax_b.set_xlabel("Weeks since first dose")
    ax_b.set_ylabel("cells/µL")
    ax_b.set_title("Weeks: B cells are depleted within days (calibrated to published figures)")
    ax_b.legend(loc="upper right", frameon=False)

    months = t <= 24 * DAYS_PER_MONTH
    for i, name in enumerate(T_CELL_INDICES):
        x = np.asarray(res[name])[:, months]
        ax_t.plot(t[months] / DAYS_PER_MONTH, np.median(x, axis=0), color=f"C{i}",
                  label=name)
        lo, hi = np.percentile(x, [5, 95], axis=0)
        ax_t.fill_between(t[months] / DAYS_PER_MONTH, lo, hi, color=f"C{i}", alpha=0.08,
                          linewidth=0)
    ax_t.axhline(1.0, color="0.3", linewidth=0.8)
    ax_t.set_xlabel("Months since first dose")
    ax_t.set_ylabel("index (1 = baseline)")
    ax_t.set_title("Months: T cells and cytokines follow (directions measured, sizes modelled)")
    ax_t.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)

    for i, name in enumerate(IG):
        draw_bands(ax_ig, t / DAYS_PER_YEAR, np.asarray(res[name]), f"C{i}", name)
        ax_ig.axhline(getattr(IMMUNE, f"lln_{name.lower()}").value, color=f"C{i}",
                      linewidth=0.8, linestyle=":")
    ax_ig.set_yscale("log")
    ax_ig.set_xlabel("Years since first dose")
    ax_ig.set_ylabel("g/L (dotted: lower limits of normal [S22])")
    ax_ig.set_title("Years: immunoglobulins fall slowly (calibrated to extension studies)")
    ax_ig.legend(loc="lower left", frameon=False)
    for ax in (ax_b, ax_t, ax_ig):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}\nmedian and 5-95% of {res.n_subjects} simulated patients")
    fig.text(0.01, 0.002, DISCLAIMER, fontsize=7, color="0.4")
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


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
