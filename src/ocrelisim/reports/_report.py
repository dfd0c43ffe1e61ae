"""The report object a workflow returns, and the figure wrapper that keeps its data.

matplotlib is imported only inside the functions that draw (:func:`new_figure`), through its
object-oriented API on the Agg canvas: importing this module costs nothing, needs no display,
and leaves the user's pyplot backend alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._meta import DISCLAIMER
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

BANDS = ((5.0, 95.0, 0.15), (25.0, 75.0, 0.30))
"""Percentile bands of the band plots: (low, high percentile, fill opacity)."""

BAND_COLUMNS = ("p05", "p25", "p50", "p75", "p95")
"""Columns of a band plot's data: percentiles across subjects at each x."""

DASHES = ("-", "--", ":", "-.")


@dataclass(frozen=True, slots=True)
class Figure:
    """A drawn figure and the data it was drawn from.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure, on the Agg canvas (render it with :func:`ocrelisim.reports.figure_png`).
    data : pandas.DataFrame
        Tidy data of every plotted series: one row per point, columns ``panel``, ``series``,
        ``x`` and the plotted values (for percentile bands ``p05``, ``p25``, ``p50``, ``p75``,
        ``p95``), so that another front end (e.g. Plotly on a web page) can redraw it.
    layout : dict
        JSON-serialisable description of the axes, per panel: ``xlabel``, ``ylabel``,
        ``yscale`` (``"linear"`` or ``"log"``), ``title`` and ``hlines`` (reference lines as
        ``{"y": value, "label": text}``, e.g. the lower limit of normal of the run's
        parameters).
    title : str
        Figure title.
    dpi : int
        Resolution of the PNG rendering, dots per inch.
    """

    figure: MplFigure
    data: pd.DataFrame
    layout: dict[str, Any]
    title: str
    dpi: int = 120

    def __post_init__(self) -> None:
        missing = {"panel", "series", "x"} - set(self.data.columns)
        if missing:
            raise InvalidInputError(
                f"figure data lacks the columns {sorted(missing)}; give one row per plotted "
                f"point with panel, series and x")
        _check_json("figure layout", self.layout)


@dataclass(frozen=True, slots=True)
class Report:
    """What a workflow returns: tables, figures with their data, notes and the inputs.

    Attributes
    ----------
    title : str
        Heading of the report.
    kind : str
        The workflow that made it: ``"demo"``, ``"immune"``, ``"trial"``, ``"power"``, ...
    tables : dict of str to pandas.DataFrame
        Tables to show (HTML, terminal), by heading; values may be formatted strings.
    figures : dict of str to Figure
        Figures by name (the name is the PNG file stem when written).
    data : dict of str to pandas.DataFrame
        The numbers behind the report, by name (the CSV file stem when written); unformatted
        where the quantity is numeric, with units in ``attrs["units"]`` where known.
    notes : list of str
        Paragraphs: population, regimens, methods, assumptions.
    inputs : dict
        JSON-serialisable inputs that made the report (seed, sizes, regimens, parameters).
    disclaimer : str
        :data:`ocrelisim._meta.DISCLAIMER`.
    """

    title: str
    kind: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    data: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def __post_init__(self) -> None:
        _check_json("report inputs", self.inputs)
        for name in (*self.figures, *self.data):
            if not name or any(c in name for c in '/\\:*?"<>|') or name.startswith("."):
                raise InvalidInputError(
                    f"report entry name {name!r} is not a plain file stem; use letters, digits, "
                    f"'-' and '_'")


def _check_json(what: str, value: Mapping[str, Any]) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what} must be JSON-serialisable (str, finite numbers, lists, dicts): {exc}"
        ) from None


def new_figure(width: float, height: float) -> MplFigure:
    """A constrained-layout matplotlib figure on the Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def band_data(x: np.ndarray, values: np.ndarray, *, panel: str, series: str) -> pd.DataFrame:
    """Percentiles (5, 25, 50, 75, 95) across subjects (rows of ``values``) at each x."""
    pct = np.percentile(np.asarray(values), [5.0, 25.0, 50.0, 75.0, 95.0], axis=0)
    frame: dict[str, Any] = {"panel": panel, "series": series, "x": np.asarray(x, dtype=float)}
    frame.update(zip(BAND_COLUMNS, pct, strict=True))
    return pd.DataFrame(frame)


def draw_bands(ax: Axes, x: np.ndarray, values: np.ndarray, color: str, label: str,
               dash: str = "-", *, panel: str = "main") -> pd.DataFrame:
    """Median line with 25-75% and 5-95% bands across subjects; returns the drawn data."""
    data = band_data(x, values, panel=panel, series=label)
    for lo, hi, alpha in BANDS:
        ax.fill_between(data["x"], data[f"p{int(lo):02d}"], data[f"p{int(hi):02d}"],
                        color=color, alpha=alpha, linewidth=0)
    ax.plot(data["x"], data["p50"], color=color, linestyle=dash, linewidth=1.5, label=label)
    return data


def finish_band_plot(fig: MplFigure, ax: Axes, *, xlabel: str, ylabel: str, title: str,
                     legend: Literal["upper right", "lower right"]) -> None:
    """Labels, the band legend, grid and disclaimer of a percentile-band plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\nmedian, 25-75% and 5-95% of subjects")
    ax.legend(loc=legend, frameon=False)
    ax.grid(alpha=0.3)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=7, color="0.4")


def panel_layout(*, xlabel: str, ylabel: str, title: str, yscale: str = "linear",
                 hlines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One panel's entry of :attr:`Figure.layout`."""
    return {"xlabel": xlabel, "ylabel": ylabel, "title": title, "yscale": yscale,
            "hlines": list(hlines or [])}
