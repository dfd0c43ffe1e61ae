"""Forecast report of one patient: the answer in plain language, a figure and tables.

The figure shows the patient's CD19+ B cells (observations; censored ones as open markers at
their LLOQ), the fitted trajectory with 50% and 90% bands, the population band for comparison,
the threshold, the 90% interval of the return day, the guided and label next-dose days, and the
probability of B cells back at or above the threshold by each day. matplotlib is imported inside
the functions that draw (see :mod:`._report`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._meta import DISCLAIMER
from ..forecasting._types import DVID_BCELL, DVID_CONC
from ..units import DAYS_PER_WEEK
from ._report import Figure, Report, new_figure, panel_layout

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..forecasting import Forecast, ReturnDay

B_FLOOR = 0.01
"""Lowest B-cell value drawn on the log axis, cells/µL (bands reach ~0.1 while depleted)."""
C_FLOOR = 0.01
"""Lowest concentration drawn on the log axis, mg/L."""
_BAND_MAP = {"q05": "p05", "q25": "p25", "q50": "p50", "q75": "p75", "q95": "p95"}
_METHOD_TEXT = {
    "map+laplace": "Bayesian estimate from this patient's values (posterior mode with a Laplace "
                   "approximation of its uncertainty), the population model as prior",
    "mcmc": "Bayesian estimate from this patient's values (posterior samples, emcee), the "
            "population model as prior",
    "population": "population prediction: no observations were given, so this is the "
                  "population model for this patient's doses and covariates, not an individual "
                  "forecast",
}


def last_dose_day(fc: Forecast) -> float:
    """Start of the patient's last dose, days since the first dose."""
    return float(max(d.time for d in fc.record.regimen))


def when(fc: Forecast, day: float | None) -> str:
    """A day as a clinician reads it: the date (or day number) and weeks after the last dose."""
    if day is None or not math.isfinite(day):
        return "not within the forecast horizon"
    weeks = (day - last_dose_day(fc)) / DAYS_PER_WEEK
    date = fc.record.day_to_date(day)
    head = date.strftime("%d %b %Y") if date is not None else f"day {day:.0f}"
    return f"{head} ({weeks:.0f} weeks after the last dose)"


def _interval(fc: Forecast, rd: ReturnDay) -> str:
    if rd.median is None:
        return (f"are not expected back at or above {fc.threshold:g} cells/µL within the "
                f"forecast horizon ({fc.horizon_days / DAYS_PER_WEEK:.0f} weeks after the last "
                f"dose)")
    hi = when(fc, rd.hi90) if rd.hi90 is not None else "beyond the forecast horizon"
    return (f"are expected back at or above {fc.threshold:g} cells/µL between "
            f"{when(fc, rd.lo90)} and {hi} (90%), most likely around {when(fc, rd.median)}")


def percent(p: float) -> str:
    """A probability for a clinician: whole percent, never a certain 0% or 100% (the model's
    own error is not in it)."""
    return "above 99%" if p > 0.995 else "below 1%" if p < 0.005 else f"{p:.0%}"


def horizon_day(fc: Forecast) -> float:
    """End of the forecast horizon, days since the first dose."""
    return last_dose_day(fc) + fc.horizon_days


def answer(fc: Forecast) -> str:
    """The plain-language answer for one patient (issue 15 item 6)."""
    end = when(fc, horizon_day(fc))
    parts = [f"Patient {fc.id}: B cells {_interval(fc, fc.return_day)}."]
    if fc.next_dose_day is not None:
        parts.append(f"Under a B-cell-guided interval the next dose would be due around "
                     f"{when(fc, fc.next_dose_day)};")
    else:
        parts.append(f"Under a B-cell-guided interval no check up to {end}, the end of the "
                     f"forecast, reaches the rule, so no next dose would be due by then (B cells "
                     f"are not expected back; keep checking);")
    parts.append(f"the label date is {when(fc, fc.label_next_dose_day)}.")
    parts.append(f"Probability of B cells back by {end}, the end of the forecast: "
                 f"{percent(fc.p_return_by_horizon)}.")
    if fc.method == "population":
        parts.append("No observations were given: this is the population prediction.")
    return " ".join(parts)


def answer_table(fc: Forecast) -> pd.DataFrame:
    """Quantity / individual / population-only, as text."""
    ind, pop = fc.return_day, fc.population_return_day

    def fmt(day: float | None) -> str:
        return "—" if day is None else when(fc, day)

    rows = [
        ("B cells back (median)", fmt(ind.median), fmt(pop.median)),
        ("B cells back, 90% interval from", fmt(ind.lo90), fmt(pop.lo90)),
        ("B cells back, 90% interval to", fmt(ind.hi90), fmt(pop.hi90)),
        ("Next dose, B-cell-guided", fmt(fc.next_dose_day), ""),
        ("Next dose, label", fmt(fc.label_next_dose_day), ""),
        (f"P(back by {when(fc, horizon_day(fc))})", percent(fc.p_return_by_horizon), ""),
    ]
    return pd.DataFrame(rows, columns=["Quantity", "This patient", "Population only"])


def observations_table(fc: Forecast) -> pd.DataFrame:
    """The observations used, as text (censored ones marked)."""
    obs = fc.record.observations
    names = {DVID_CONC: "concentration, mg/L", DVID_BCELL: "CD19+ B cells, cells/µL"}
    rows = []
    for time, dvid, dv, lloq, censored in zip(
            obs["TIME"].to_numpy(float), obs["DVID"].to_numpy(int), obs["DV"].to_numpy(float),
            obs["LLOQ"].to_numpy(float), obs["CENSORED"].to_numpy(bool), strict=True):
        date = fc.record.day_to_date(float(time))
        value = f"< {lloq:g} (censored)" if censored else f"{dv:g}"
        rows.append((date.isoformat() if date is not None else "", f"{time:g}",
                     names.get(int(dvid), str(dvid)), value))
    return pd.DataFrame(rows, columns=["Date", "Day", "Measured", "Value"])


def _x(fc: Forecast, days: Any) -> Any:
    """Plot positions: dates when the record has them, else days since the first dose."""
    days = np.asarray(days, dtype=float)
    first = fc.record.first_dose_date
    if first is None:
        return days
    base = np.datetime64(first.isoformat(), "D")
    return base + np.round(days * 24 * 60).astype("timedelta64[m]")


def _bands(frame: pd.DataFrame, output: str, series: str, panel: str) -> pd.DataFrame:
    part = frame[frame["output"] == output].sort_values("time")
    out = part.rename(columns=_BAND_MAP)[["time", *_BAND_MAP.values()]].rename(
        columns={"time": "x"})
    cols = list(_BAND_MAP.values())
    out[cols] = out[cols].clip(lower=B_FLOOR if output == "B" else C_FLOOR)
    out.insert(0, "series", series)
    out.insert(0, "panel", panel)
    return out.reset_index(drop=True)


def _draw_band(ax: Axes, fc: Forecast, data: pd.DataFrame, color: str, label: str) -> None:
    x = _x(fc, data["x"])
    ax.fill_between(x, data["p05"], data["p95"], color=color, alpha=0.15, linewidth=0,
                    label=f"{label}, 90%")
    ax.fill_between(x, data["p25"], data["p75"], color=color, alpha=0.30, linewidth=0,
                    label=f"{label}, 50%")
    ax.plot(x, data["p50"], color=color, linewidth=1.8, label=f"{label}, median")


def _draw_population(ax: Axes, fc: Forecast, data: pd.DataFrame) -> None:
    x = _x(fc, data["x"])
    ax.plot(x, data["p50"], color="0.45", linestyle=":", linewidth=1.2,
            label="population, median")
    ax.plot(x, data["p05"], color="0.45", linestyle="--", linewidth=0.8,
            label="population, 90%")
    ax.plot(x, data["p95"], color="0.45", linestyle="--", linewidth=0.8)


def _observed(fc: Forecast, dvid: int, panel: str) -> pd.DataFrame:
    obs = fc.record.observations
    obs = obs[obs["DVID"] == dvid]
    censored = obs["CENSORED"].to_numpy(dtype=bool)
    return pd.concat([
        pd.DataFrame({"panel": panel, "series": "observed", "x": obs["TIME"][~censored],
                      "y": obs["DV"][~censored]}),
        pd.DataFrame({"panel": panel, "series": "below LLOQ (censored, drawn at the LLOQ)",
                      "x": obs["TIME"][censored], "y": obs["LLOQ"][censored]}),
    ], ignore_index=True)


def _draw_observed(ax: Axes, fc: Forecast, data: pd.DataFrame, floor: float = 0.0) -> None:
    seen = data[data["series"] == "observed"]
    cens = data[data["series"] != "observed"]
    if len(seen):
        ax.plot(_x(fc, seen["x"]), np.maximum(seen["y"], floor), "o", color="black",
                markersize=6, label="observed", zorder=5)
    if len(cens):
        ax.plot(_x(fc, cens["x"]), cens["y"], "o", markerfacecolor="white",
                markeredgecolor="black", markersize=7, label="below LLOQ (at the LLOQ)",
                zorder=5)


def _vlines(ax: Axes, fc: Forecast) -> None:
    for k, dose in enumerate(fc.record.regimen):
        ax.axvline(_x(fc, [dose.time])[0], color="tab:purple", alpha=0.35, linewidth=1,
                   label="dose" if k == 0 else None)
    if fc.next_dose_day is not None:
        ax.axvline(_x(fc, [fc.next_dose_day])[0], color="tab:green", linestyle="--",
                   linewidth=1.4, label="next dose, B-cell-guided")
    ax.axvline(_x(fc, [fc.label_next_dose_day])[0], color="tab:red", linestyle="-.",
               linewidth=1.2, label="next dose, label")


def plot_forecast(fc: Forecast) -> Figure:
    """B cells (and concentrations when measured) with bands, and P(back by day).

    Data: panels ``bcells`` (series ``this patient`` and ``population`` with ``p05 ... p95``,
    ``observed`` and ``below LLOQ ...`` with ``y`` = DV or LLOQ, ``return 90%`` with the
    interval ends), ``concentration`` when concentrations were measured, ``probability``
    (``y`` = P(CD19 >= threshold by day)); ``x`` is days since the first dose.
    """
    has_conc = bool((fc.record.observations["DVID"] == DVID_CONC).any())
    fig = new_figure(10.0, 9.0 if has_conc else 7.0)
    heights = [3, 2, 1.6] if has_conc else [3, 1.6]
    axes = fig.subplots(len(heights), 1, sharex=True, gridspec_kw={"height_ratios": heights})
    ax_b, ax_p = axes[0], axes[-1]
    xlabel = "date" if fc.record.first_dose_date is not None else "days since the first dose"
    frames = [_bands(fc.bands, "B", "this patient", "bcells"),
              _bands(fc.population_bands, "B", "population", "bcells"),
              _observed(fc, DVID_BCELL, "bcells")]
    _draw_band(ax_b, fc, frames[0], "tab:blue", "this patient")
    _draw_population(ax_b, fc, frames[1])
    _draw_observed(ax_b, fc, frames[2], floor=B_FLOOR)
    ax_b.axhline(fc.threshold, color="black", linewidth=0.8, linestyle=":")
    rd = fc.return_day
    if rd.lo90 is not None:
        hi = rd.hi90 if rd.hi90 is not None else horizon_day(fc)
        ax_b.plot(_x(fc, [rd.lo90, hi]), [fc.threshold] * 2, color="tab:orange", linewidth=5,
                  alpha=0.8, solid_capstyle="butt", label="B cells back, 90% interval")
        frames.append(pd.DataFrame({"panel": "bcells", "series": "return 90%",
                                    "x": [rd.lo90, hi], "y": [fc.threshold] * 2}))
    _vlines(ax_b, fc)
    ax_b.set_yscale("log")
    ax_b.set_ylim(bottom=B_FLOOR)
    ax_b.set_ylabel("CD19+ B cells, cells/µL")
    ax_b.set_title(f"Patient {fc.id}: CD19+ B cells, threshold {fc.threshold:g} cells/µL")
    ax_b.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    layout = {"bcells": panel_layout(
        xlabel=xlabel, ylabel="CD19+ B cells, cells/µL", yscale="log",
        title=f"CD19+ B cells (threshold {fc.threshold:g} cells/µL)",
        hlines=[{"y": fc.threshold, "label": f"threshold {fc.threshold:g}"}])}
    if has_conc:
        ax_c = axes[1]
        conc = [_bands(fc.bands, "C", "this patient", "concentration"),
                _bands(fc.population_bands, "C", "population", "concentration"),
                _observed(fc, DVID_CONC, "concentration")]
        _draw_band(ax_c, fc, conc[0], "tab:brown", "this patient")
        _draw_population(ax_c, fc, conc[1])
        _draw_observed(ax_c, fc, conc[2], floor=C_FLOOR)
        ax_c.set_yscale("log")
        ax_c.set_ylim(bottom=C_FLOOR)
        ax_c.set_ylabel("ocrelizumab, mg/L")
        ax_c.set_title("Concentration")
        frames += conc
        layout["concentration"] = panel_layout(xlabel=xlabel, ylabel="ocrelizumab, mg/L",
                                               title="Concentration", yscale="log")
    p = fc.p_above.sort_values("day")
    ax_p.plot(_x(fc, p["day"]), p["p"], color="tab:blue", drawstyle="steps-post")
    ax_p.axhline(0.5, color="black", linewidth=0.8, linestyle=":")
    _vlines(ax_p, fc)
    ax_p.set_ylim(0, 1)
    ax_p.set_ylabel(f"P(CD19 ≥ {fc.threshold:g}) by then")
    ax_p.set_xlabel(xlabel)
    frames.append(pd.DataFrame({"panel": "probability", "series": "P(back by day)",
                                "x": p["day"].to_numpy(float), "y": p["p"].to_numpy(float)}))
    layout["probability"] = panel_layout(
        xlabel=xlabel, ylabel=f"P(CD19 ≥ {fc.threshold:g} cells/µL) by the day",
        title="Probability that B cells are back", hlines=[{"y": 0.5, "label": "0.5"}])
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.text(0.01, 0.003, DISCLAIMER, fontsize=7, color="0.4")
    data = pd.concat(frames, ignore_index=True)
    return Figure(figure=fig, data=data, layout=layout,
                  title=f"Forecast for patient {fc.id}")


def forecast_report(fc: Forecast, *, check_every: float | None = None) -> Report:
    """One patient's report: the answer, the figure, answer/observation/estimate tables.

    Parameters
    ----------
    fc : Forecast
    check_every : float, optional
        Days between B-cell checks of the guided rule, for the notes.
    """
    rule = (f"B-cell-guided rule: the first check (every {check_every:g} days) at least 5 "
            f"months after the last dose at which the probability of CD19 at or above "
            f"{fc.threshold:g} cells/µL reaches 0.5" if check_every is not None else
            f"B-cell-guided rule: the first check at least 5 months after the last dose at "
            f"which the probability of CD19 at or above {fc.threshold:g} cells/µL reaches 0.5")
    notes = [
        answer(fc),
        f"Method: {_METHOD_TEXT.get(fc.method, fc.method)}; {fc.n_obs} observation(s) used.",
        f"{rule}. No such rule is published for ocrelizumab (it is an assumption, as in the "
        f"extended-interval cohorts); the label gives the next dose 6 months after the start "
        f"of the last course (at least 5 months apart) [S3][S4].",
        *fc.messages,
    ]
    estimates = fc.estimates.copy()
    data = {
        "bands": fc.bands, "population_bands": fc.population_bands,
        "p_above": fc.p_above, "observations": fc.record.observations,
    }
    if not estimates.empty:
        data["estimates"] = estimates
    first = fc.record.first_dose_date
    inputs: dict[str, Any] = {
        "id": fc.id, "threshold": float(fc.threshold), "horizon_days": float(fc.horizon_days),
        "method": fc.method, "regimen": str(fc.record.regimen),
        "covariates": {k: float(v) for k, v in fc.record.covariates.items()},
        "first_dose_date": first.isoformat() if isinstance(first, dt.date) else None,
    }
    if check_every is not None:
        inputs["check_every_days"] = float(check_every)
    tables = {"Answer": answer_table(fc), "Observations": observations_table(fc)}
    if not estimates.empty:
        shown = estimates.copy()
        for col in shown.columns:
            if pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].map(lambda v: f"{v:.4g}")
        tables["Individual parameter estimates (posterior mode and SD)"] = shown
    return Report(title=f"ocrelisim forecast: patient {fc.id}", kind="forecast", tables=tables,
                  figures={"forecast": plot_forecast(fc)}, data=data, notes=notes,
                  inputs=inputs)
