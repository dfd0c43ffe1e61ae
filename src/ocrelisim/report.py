"""Plots, exposure tables and a self-contained HTML summary.

matplotlib is imported inside the functions that draw, through its object-oriented API on the
Agg canvas: importing ``ocrelisim.report`` costs nothing, needs no display, and leaves the
user's pyplot backend alone. Nothing in the library imports this module.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._meta import DISCLAIMER
from ._types import Float2D
from .errors import InvalidInputError
from .io import atomic_write
from .results import Exposure, SimulationResult

METRICS = (("AUC", "mg*day/L"), ("CMAX", "mg/L"), ("CTROUGH", "mg/L"))
"""Metrics of :func:`exposure_table` and their units."""

PERCENTILES = (50.0, 5.0, 95.0)
"""Percentiles of :func:`exposure_table`: median, then the 5-95% range."""

_BANDS = ((5.0, 95.0, 0.15), (25.0, 75.0, 0.30))  # (low, high percentile, fill opacity)


def cycle_intervals(dose_times: Sequence[float] | np.ndarray, end: float) -> Float2D:
    """Dosing cycles as intervals: cycle k runs from dose k to dose k+1, the last to ``end``.

    Parameters
    ----------
    dose_times : sequence of float
        Dose start times, day (any order; doses on the same day share a cycle).
    end : float
        End of the simulated period, day; doses at or after it start no cycle.

    Returns
    -------
    (n_cycles, 2) array of float
        Start and end of each cycle, day.

    Raises
    ------
    InvalidInputError
        If no dose starts before ``end``.
    """
    starts = np.unique(np.asarray(dose_times, dtype=np.float64))
    starts = starts[starts < end]
    if starts.size == 0:
        raise InvalidInputError(
            f"no dose starts before the end of the simulated period (day {end:g}); "
            f"simulate longer or start dosing earlier"
        )
    ends = np.append(starts[1:], end)
    out: Float2D = np.column_stack([starts, ends])
    return out


def _check_results(results: Mapping[str, SimulationResult]) -> None:
    if not results:
        raise InvalidInputError("results is empty; pass a mapping of regimen name -> result")


def plot_concentration(
    results: Mapping[str, SimulationResult],
    path: str | os.PathLike[str],
    *,
    log: bool = False,
    title: str = "Ocrelizumab concentration",
) -> Path:
    """Concentration-time percentile bands per regimen, written as PNG.

    For each regimen: the median (line), the 25-75% band and the 5-95% band across subjects
    at every output time.

    Parameters
    ----------
    results : mapping of str to SimulationResult
        Regimen label to result; each needs the ``"C"`` trajectories, mg/L.
    path : str or path-like
        Destination PNG file (written atomically).
    log : bool
        Logarithmic concentration axis (values <= 0 are not drawn).
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
        The PNG path.

    Raises
    ------
    InvalidInputError
        Empty ``results`` or a result without trajectories.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _check_results(results)
    fig = Figure(figsize=(9.0, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # Distinct dashes too, so that regimens with near-identical curves stay visible.
    styles = [(f"C{i % 10}", ("-", "--", ":", "-.")[i % 4]) for i in range(len(results))]
    for (label, res), (color, dash) in zip(results.items(), styles, strict=True):
        if not res.has_trajectories:
            raise InvalidInputError(
                f"result {label!r} holds no trajectories; simulate with trajectories=True "
                f"to plot it"
            )
        t = np.asarray(res.times)
        draw_bands(ax, t, np.asarray(res.concentration), color,
                   f"{label} (n={res.n_subjects})", dash)
    if log:
        ax.set_yscale("log", nonpositive="mask")
    return finish_band_plot(fig, ax, path, xlabel="Time since first dose (day)",
                            ylabel="Concentration (mg/L)", title=title, legend="upper right")


def finish_band_plot(fig: Any, ax: Any, path: str | os.PathLike[str], *, xlabel: str,
                     ylabel: str, title: str, legend: str) -> Path:
    """Labels, the band legend, grid and disclaimer of a percentile-band plot; writes the PNG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\nmedian, 25-75% and 5-95% of subjects")
    ax.legend(loc=legend, frameon=False)
    ax.grid(alpha=0.3)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=7, color="0.4")
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))


def draw_bands(ax: Any, x: np.ndarray, values: np.ndarray, color: str, label: str,
               dash: str = "-") -> None:
    """Median line with 25-75% and 5-95% bands across subjects (rows of ``values``)."""
    for lo, hi, alpha in _BANDS:
        p_lo, p_hi = np.percentile(values, [lo, hi], axis=0)
        ax.fill_between(x, p_lo, p_hi, color=color, alpha=alpha, linewidth=0)
    ax.plot(x, np.median(values, axis=0), color=color, linestyle=dash, linewidth=1.5,
            label=label)


def _exposure_of(label: str, res: SimulationResult) -> Exposure:
    if res.exposure is not None:
        return res.exposure
    if not res.has_trajectories:
        raise InvalidInputError(
            f"result {label!r} has neither exposure metrics nor trajectories; simulate with "
            f"intervals=... or trajectories=True"
        )
    return Exposure.from_trajectories(res.times, res.concentration)


def exposure_table(results: Mapping[str, SimulationResult]) -> pd.DataFrame:
    """Median and 5-95% range of AUC, Cmax and trough per interval and regimen.

    Parameters
    ----------
    results : mapping of str to SimulationResult
        Regimen label to result. Uses each result's in-solver :attr:`~SimulationResult.exposure`
        (e.g. one interval per dosing cycle); without it, one interval over the whole output
        grid computed from the trajectories.

    Returns
    -------
    pandas.DataFrame
        One row per regimen and interval: REGIMEN, INTERVAL (1-based), START, END (day), then
        ``<M>_P50``, ``<M>_P05``, ``<M>_P95`` for M in AUC (mg·day/L), CMAX (mg/L), CTROUGH
        (mg/L); percentiles across subjects (numpy's linear interpolation). Units in ``attrs``.

    Raises
    ------
    InvalidInputError
        Empty ``results``, or a result with neither exposure nor trajectories.
    """
    _check_results(results)
    frames = []
    for label, res in results.items():
        ex = _exposure_of(label, res)
        frame: dict[str, object] = {
            "REGIMEN": [label] * ex.n_intervals,
            "INTERVAL": np.arange(1, ex.n_intervals + 1),
            "START": np.asarray(ex.intervals[:, 0]),
            "END": np.asarray(ex.intervals[:, 1]),
        }
        for metric, _unit in METRICS:
            values = np.asarray(getattr(ex, metric.lower()))
            pct = np.percentile(values, PERCENTILES, axis=0)  # (3, n_intervals)
            for p, row in zip(PERCENTILES, pct, strict=True):
                frame[f"{metric}_P{int(p):02d}"] = row
        frames.append(pd.DataFrame(frame))
    table = pd.concat(frames, ignore_index=True)
    table.attrs["units"] = {"START": "day", "END": "day",
                            **{f"{m}_P{int(p):02d}": u for m, u in METRICS for p in PERCENTILES}}
    table.attrs["disclaimer"] = DISCLAIMER
    return table


def _fmt(value: float) -> str:
    """Three significant digits, never in scientific notation."""
    return str(np.format_float_positional(value, precision=3, fractional=False, trim="-"))


def format_exposure_table(table: pd.DataFrame) -> pd.DataFrame:
    """Human-readable :func:`exposure_table`: ``median (5th-95th)`` strings, 3 digits.

    Returns
    -------
    pandas.DataFrame
        Columns Regimen, Cycle, Days, "AUC (mg·day/L)", "Cmax (mg/L)", "Trough (mg/L)", all
        strings.
    """
    out: dict[str, list[str]] = {
        "Regimen": [str(v) for v in table["REGIMEN"]],
        "Cycle": [str(v) for v in table["INTERVAL"]],
        "Days": [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(table["START"], table["END"],
                                                      strict=True)],
    }
    names = {"AUC": "AUC (mg·day/L)", "CMAX": "Cmax (mg/L)", "CTROUGH": "Trough (mg/L)"}
    for metric, _unit in METRICS:
        cols = [table[f"{metric}_P{int(p):02d}"] for p in PERCENTILES]
        out[names[metric]] = [f"{_fmt(m)} ({_fmt(lo)}-{_fmt(hi)})"
                              for m, lo, hi in zip(*cols, strict=True)]
    return pd.DataFrame(out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
.disclaimer { background: #fff4e5; border-left: 4px solid #e67e22; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th { background: #f4f4f4; }
img { max-width: 100%; }
footer { color: #777; font-size: .8rem; margin-top: 2rem; }
"""


def _figure_html(path: Path) -> str:
    if not path.is_file():
        raise InvalidInputError(
            f"figure {str(path)!r} does not exist; write it first (e.g. plot_concentration)"
        )
    mime = "image/png" if path.suffix.lower() == ".png" else "image/svg+xml"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(path.stem)
    return f'<figure><img alt="{alt}" src="data:{mime};base64,{data}"></figure>'


def write_html_summary(
    path: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    figure_paths: Sequence[str | os.PathLike[str]] = (),
    title: str = "ocrelisim summary",
    *,
    notes: Sequence[str] = (),
) -> Path:
    """A self-contained HTML report: title, disclaimer, notes, figures and tables.

    Figures are embedded as base64 data URIs, so the file can be moved or mailed alone. All
    text is HTML-escaped.

    Parameters
    ----------
    path : str or path-like
        Destination HTML file (written atomically).
    tables : mapping of str to pandas.DataFrame
        Section heading to table (written without the index).
    figure_paths : sequence of path-like
        PNG (or SVG) files to embed.
    title : str
        Page title and heading.
    notes : sequence of str
        Paragraphs shown under the disclaimer (e.g. regimens, population, assumptions).

    Returns
    -------
    pathlib.Path
        The HTML path.

    Raises
    ------
    InvalidInputError
        A figure file that does not exist, or a missing destination directory.
    """
    from . import __version__

    figures = [_figure_html(Path(p)) for p in figure_paths]
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="disclaimer"><strong>{esc(DISCLAIMER)}</strong></p>',
        *(f"<p>{esc(n)}</p>" for n in notes),
        *figures,
    ]
    for heading, df in tables.items():
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts.append(df.to_html(index=False, border=0, escape=True))
    parts.append(f"<footer>ocrelisim {esc(__version__)}. {esc(DISCLAIMER)}</footer>")
    parts.append("</body></html>")
    text = "\n".join(parts) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

