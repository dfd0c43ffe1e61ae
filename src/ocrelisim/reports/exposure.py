"""Concentration figures and exposure tables (AUC, Cmax, trough per dosing cycle).

matplotlib is imported inside the functions that draw (see :mod:`._report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._meta import DISCLAIMER
from .._types import Float2D
from ..errors import InvalidInputError
from ..results import Exposure, SimulationResult
from ._report import DASHES, Figure, draw_bands, finish_band_plot, new_figure, panel_layout

METRICS = (("AUC", "mg*day/L"), ("CMAX", "mg/L"), ("CTROUGH", "mg/L"))
"""Metrics of :func:`exposure_table` and their units."""

PERCENTILES = (50.0, 5.0, 95.0)
"""Percentiles of :func:`exposure_table`: median, then the 5-95% range."""


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
    *,
    log: bool = False,
    title: str = "Ocrelizumab concentration",
) -> Figure:
    """Concentration-time percentile bands per regimen.

    For each regimen: the median (line), the 25-75% band and the 5-95% band across subjects
    at every output time.

    Parameters
    ----------
    results : mapping of str to SimulationResult
        Regimen label to result; each needs the ``"C"`` trajectories, mg/L.
    log : bool
        Logarithmic concentration axis (values <= 0 are not drawn).
    title : str
        Figure title.

    Returns
    -------
    Figure
        The figure and its data: one row per regimen (``series``) and time (``x``, day) with
        the percentiles ``p05`` ... ``p95`` of the concentration (mg/L).

    Raises
    ------
    InvalidInputError
        Empty ``results`` or a result without trajectories.
    """
    _check_results(results)
    for label, res in results.items():
        if not res.has_trajectories:
            raise InvalidInputError(
                f"result {label!r} holds no trajectories; simulate with trajectories=True "
                f"to plot it"
            )
    fig = new_figure(9.0, 5.0)
    ax = fig.add_subplot()
    frames = []
    # Distinct dashes too, so that regimens with near-identical curves stay visible.
    for i, (label, res) in enumerate(results.items()):
        data = draw_bands(ax, np.asarray(res.times), np.asarray(res.concentration), f"C{i % 10}",
                          f"{label} (n={res.n_subjects})", DASHES[i % 4], panel="concentration")
        frames.append(data.assign(series=label, n=res.n_subjects))
    if log:
        ax.set_yscale("log", nonpositive="mask")
    xlabel, ylabel = "Time since first dose (day)", "Concentration (mg/L)"
    finish_band_plot(fig, ax, xlabel=xlabel, ylabel=ylabel, title=title, legend="upper right")
    layout = {"concentration": panel_layout(xlabel=xlabel, ylabel=ylabel, title=title,
                                            yscale="log" if log else "linear")}
    return Figure(fig, pd.concat(frames, ignore_index=True), layout, title, dpi=120)


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
