"""Safety report pieces: reactions per infusion, rates per 100 patient-years, and a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._meta import DISCLAIMER
from ..units import DAYS_PER_YEAR
from ._report import Figure, new_figure, panel_layout


def infusion_table(reactions: pd.DataFrame) -> pd.DataFrame:
    """One row per dose number: shares of patients with a reaction and a serious reaction,
    mean extra infusion minutes among reactions during the dose (fractions, minutes)."""
    by = reactions.groupby("number", sort=True)
    table = pd.DataFrame({
        "number": by["number"].first(),
        "route": by["route"].first(),
        "dose_mg": by["dose_mg"].first(),
        "protocol": by["protocol"].first(),
        "share_with_irr": by["irr"].mean(),
        "share_serious": by["serious"].mean(),
        "share_managed": by["action"].agg(lambda a: float((a != "none").mean())),
        "mean_actual_min": by["actual_min"].mean(),
        "planned_min": by["planned_min"].first(),
    }).reset_index(drop=True)
    table.attrs["units"] = {"share_with_irr": "fraction", "share_serious": "fraction",
                            "share_managed": "fraction", "mean_actual_min": "min",
                            "planned_min": "min", "dose_mg": "mg"}
    return table


def format_infusion_table(table: pd.DataFrame) -> pd.DataFrame:
    """The infusion table with percentages and minutes as text, for HTML and the terminal."""
    return pd.DataFrame({
        "Dose": table["number"].astype(int),
        "Route": table["route"],
        "mg": table["dose_mg"].map(lambda v: f"{v:g}"),
        "Protocol": table["protocol"],
        "Reaction": table["share_with_irr"].map(lambda v: f"{100 * v:.1f}%"),
        "Serious": table["share_serious"].map(lambda v: f"{100 * v:.2f}%"),
        "Slowed/stopped": table["share_managed"].map(lambda v: f"{100 * v:.1f}%"),
        "Mean minutes (planned)": [f"{a:.0f} ({p:.0f})" for a, p in
                                   zip(table["mean_actual_min"], table["planned_min"],
                                       strict=True)],
    })


def plot_safety(infusions: pd.DataFrame, infection_days: np.ndarray, n: int, days: float,
                title: str) -> Figure:
    """Two panels: share of patients with a reaction per dose; cumulative serious infections
    per 100 patients over time."""
    fig = new_figure(10.0, 4.0)
    ax1, ax2 = fig.subplots(1, 2)
    x = infusions["number"].to_numpy(dtype=float)
    share = 100.0 * infusions["share_with_irr"].to_numpy()
    ax1.bar(x, share, color="tab:orange")
    ax1.set_xlabel("dose number")
    ax1.set_ylabel("patients with a reaction, %")
    ax1.set_title("Infusion or injection reactions per dose")
    grid = np.linspace(0.0, days, 200)
    cumulative = 100.0 * np.searchsorted(np.sort(infection_days), grid, side="right") / n
    ax2.plot(grid / DAYS_PER_YEAR, cumulative, color="tab:red")
    ax2.set_xlabel("years")
    ax2.set_ylabel("serious infections per 100 patients")
    ax2.set_title("Serious infections, cumulative")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.text(0.99, 0.995, DISCLAIMER, fontsize=7, color="0.4", ha="right", va="top")
    data = pd.concat([
        pd.DataFrame({"panel": "reactions", "series": "share_with_irr_percent", "x": x,
                      "y": share}),
        pd.DataFrame({"panel": "infections", "series": "serious_per_100_patients",
                      "x": grid / DAYS_PER_YEAR, "y": cumulative}),
    ], ignore_index=True)
    layout = {
        "reactions": panel_layout(xlabel="dose number", ylabel="patients with a reaction, %",
                                  title="Infusion or injection reactions per dose"),
        "infections": panel_layout(xlabel="years", ylabel="serious infections per 100 patients",
                                   title="Serious infections, cumulative"),
    }
    return Figure(figure=fig, data=data, layout=layout, title=title)
