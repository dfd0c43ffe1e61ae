"""Typed simulation results and their tables.

:class:`SimulationResult` holds trajectories at the requested times, ``(n_subjects, n_times)``
per output (patients first), and optionally an :class:`Exposure` of per-interval metrics
reduced inside the solver. All arrays are read-only. Tables come out long (one row per subject
and time, or per subject and interval), as pandas, xarray, Parquet or CSV.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from ._meta import DISCLAIMER
from ._types import Float1D, Float2D
from .errors import InvalidInputError
from .io import write_table

EXPOSURE_COLUMNS = ("ID", "INTERVAL", "START", "END", "AUC", "CMAX", "CTROUGH", "TIME_ABOVE")
"""Columns of :meth:`Exposure.to_pandas` and :meth:`SimulationResult.summary`."""

EXPOSURE_UNITS: Mapping[str, str] = MappingProxyType({
    "START": "day", "END": "day", "AUC": "mg*day/L", "CMAX": "mg/L", "CTROUGH": "mg/L",
    "TIME_ABOVE": "day",
})


def _frozen(values: npt.ArrayLike, name: str, ndim: int) -> npt.NDArray[np.float64]:
    """A read-only float64 view of ``values``; error unless it has ``ndim`` dimensions."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != ndim:
        raise InvalidInputError(
            f"{name} must be a {ndim}-D array; got shape {arr.shape}; reshape it "
            f"(patients first: (n_subjects, ...))"
        )
    view = arr.view()
    view.flags.writeable = False
    return view


def _check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...], hint: str) -> None:
    if arr.shape != shape:
        raise InvalidInputError(
            f"{name} has shape {arr.shape}; expected {shape} ({hint}); "
            f"check that subjects are on the first axis"
        )


@dataclass(frozen=True, slots=True, eq=False)  # arrays: compare values explicitly
class Exposure:
    """Per-subject exposure metrics over dosing intervals.

    Parameters
    ----------
    intervals : (n_intervals, 2) array of float
        Start and end of each interval, day; start < end.
    auc : (n_subjects, n_intervals) array of float
        Area under the concentration curve over each interval, mg·day/L.
    cmax : (n_subjects, n_intervals) array of float
        Maximum concentration within each interval, mg/L.
    ctrough : (n_subjects, n_intervals) array of float
        Concentration at each interval's end, mg/L.
    time_above : (n_subjects, n_intervals) array of float
        Time within each interval with concentration above ``threshold``, day.
    threshold : float
        Concentration threshold for ``time_above``, mg/L.
    """

    intervals: Float2D
    auc: Float2D
    cmax: Float2D
    ctrough: Float2D
    time_above: Float2D
    threshold: float = 0.0

    def __post_init__(self) -> None:
        iv = _frozen(self.intervals, "intervals", 2)
        if iv.shape[1] != 2:
            raise InvalidInputError(
                f"intervals has shape {iv.shape}; expected (n_intervals, 2) rows of start, end "
                f"(day)"
            )
        if not (np.all(np.isfinite(iv)) and np.all(iv[:, 0] < iv[:, 1])):
            raise InvalidInputError(
                f"intervals must be finite with start < end (day); got {iv.tolist()!r}; "
                f"fix the interval bounds"
            )
        object.__setattr__(self, "intervals", iv)
        auc = _frozen(self.auc, "auc", 2)
        shape = (auc.shape[0], iv.shape[0])
        for name in ("auc", "cmax", "ctrough", "time_above"):
            arr = auc if name == "auc" else _frozen(getattr(self, name), name, 2)
            _check_shape(name, arr, shape, "n_subjects, n_intervals")
            object.__setattr__(self, name, arr)
        if not math.isfinite(self.threshold):
            raise InvalidInputError(
                f"threshold = {self.threshold!r} mg/L is not finite; pass a finite number"
            )
        object.__setattr__(self, "threshold", float(self.threshold))

    @classmethod
    def from_metrics(cls, metrics: IntervalMetrics) -> Exposure:
        """The exposure view of a concentration's interval reductions: AUC = area, Cmax =
        maximum, trough = value at the interval end (the same read-only arrays)."""
        return cls(intervals=metrics.intervals, auc=metrics.area, cmax=metrics.maximum,
                   ctrough=metrics.end, time_above=metrics.time_above,
                   threshold=metrics.threshold)

    @property
    def n_subjects(self) -> int:
        """Number of subjects (rows of the metric arrays)."""
        return int(self.auc.shape[0])

    @property
    def n_intervals(self) -> int:
        """Number of intervals."""
        return int(self.intervals.shape[0])

    @classmethod
    def from_trajectories(
        cls,
        times: npt.ArrayLike,
        concentration: npt.ArrayLike,
        intervals: npt.ArrayLike | None = None,
        threshold: float = 0.0,
    ) -> Exposure:
        """Exposure metrics from sampled trajectories, linear between samples.

        The concentration is taken as piecewise linear between the sample times (interval
        bounds between samples are interpolated), so AUC is the trapezoid rule, Cmax the
        largest sample (or bound) in the interval, and time above the threshold exact for the
        linear interpolant. Metrics reduced inside the solver from the continuous solution are
        more accurate; use this for results without them.

        Parameters
        ----------
        times : (n_times,) array of float
            Strictly increasing sample times, day.
        concentration : (n_subjects, n_times) array of float
            Concentration, mg/L.
        intervals : (n_intervals, 2) array of float, optional
            Start and end, day, within ``[times[0], times[-1]]``. Default: one interval over
            the whole grid.
        threshold : float
            Concentration threshold for ``time_above``, mg/L.

        Raises
        ------
        InvalidInputError
            Unsorted times, mismatched shapes, or intervals outside the sampled range.
        """
        t = _frozen(times, "times", 1)
        c = _frozen(concentration, "concentration", 2)
        if t.size < 2 or not np.all(np.diff(t) > 0):
            raise InvalidInputError(
                f"times must hold at least 2 strictly increasing values (day); got {t.size} "
                f"values; pass a sorted grid without duplicates"
            )
        _check_shape("concentration", c, (c.shape[0], t.size), "n_subjects, n_times")
        iv = np.array([[t[0], t[-1]]]) if intervals is None else _frozen(intervals, "intervals", 2)
        if iv.shape[1] != 2:
            raise InvalidInputError(
                f"intervals has shape {iv.shape}; expected (n_intervals, 2) rows of start, end "
                f"(day)"
            )
        if np.any(iv < t[0]) or np.any(iv > t[-1]):
            raise InvalidInputError(
                f"intervals {iv.tolist()!r} reach outside the sampled times "
                f"[{t[0]:g}, {t[-1]:g}] day; simulate a longer grid or shorten the intervals"
            )
        cols = [_interval_metrics(t, c, float(a), float(b), threshold) for a, b in iv]
        auc, cmax, ctrough, above = (np.stack([col[k] for col in cols], axis=1)
                                     for k in range(4))
        return cls(iv, auc, cmax, ctrough, above, threshold=threshold)

    def to_pandas(self, ids: npt.ArrayLike | None = None) -> pd.DataFrame:
        """Long table, one row per subject and interval (subject-major).

        Parameters
        ----------
        ids : (n_subjects,) array, optional
            Subject identifiers; default 1 ... n_subjects.

        Returns
        -------
        pandas.DataFrame
            Columns ID, INTERVAL (1-based, like dosing cycle numbers), START, END (day), AUC
            (mg·day/L), CMAX (mg/L), CTROUGH (mg/L), TIME_ABOVE (day). Units and the threshold
            are in ``attrs``.
        """
        n, k = self.n_subjects, self.n_intervals
        id_arr = np.arange(1, n + 1) if ids is None else np.asarray(ids)
        _check_shape("ids", id_arr, (n,), "n_subjects")
        df = pd.DataFrame({
            "ID": np.repeat(id_arr, k),
            "INTERVAL": np.tile(np.arange(1, k + 1), n),
            "START": np.tile(self.intervals[:, 0], n),
            "END": np.tile(self.intervals[:, 1], n),
            "AUC": self.auc.ravel(),
            "CMAX": self.cmax.ravel(),
            "CTROUGH": self.ctrough.ravel(),
            "TIME_ABOVE": self.time_above.ravel(),
        })
        df.attrs.update({"units": dict(EXPOSURE_UNITS), "threshold_mg_per_L": self.threshold,
                         "disclaimer": DISCLAIMER})
        return df


def _interval_metrics(
    t: Float1D, c: Float2D, a: float, b: float, threshold: float
) -> tuple[Float1D, Float1D, Float1D, Float1D]:
    """AUC, Cmax, value at ``b`` and time above threshold of linear trajectories on [a, b]."""
    inside = (t > a) & (t < b)
    ca = _interp_rows(t, c, a)
    cb = _interp_rows(t, c, b)
    tt = np.concatenate([[a], t[inside], [b]])
    cc = np.concatenate([ca[:, None], c[:, inside], cb[:, None]], axis=1)
    dt = np.diff(tt)
    c0, c1 = cc[:, :-1], cc[:, 1:]
    auc = np.sum(0.5 * (c0 + c1) * dt, axis=1)
    cmax = np.max(cc, axis=1)
    # Fraction of each linear segment above the threshold (crossing point where it changes).
    lo, hi = np.minimum(c0, c1), np.maximum(c0, c1)
    span = np.where(hi > lo, hi - lo, 1.0)
    frac = np.where(lo > threshold, 1.0,
                    np.where(hi <= threshold, 0.0, (hi - threshold) / span))
    above = np.sum(frac * dt, axis=1)
    return auc, cmax, cb, above


def _interp_rows(t: Float1D, c: Float2D, x: float) -> Float1D:
    """Each row of ``c`` linearly interpolated at ``x`` (``t[0] <= x <= t[-1]``)."""
    j = int(np.clip(np.searchsorted(t, x, side="right") - 1, 0, t.size - 2))
    w = (x - t[j]) / (t[j + 1] - t[j])
    out: Float1D = (1.0 - w) * c[:, j] + w * c[:, j + 1]
    return out


@dataclass(frozen=True, slots=True, eq=False)
class IntervalMetrics:
    """Per-subject metrics of one output over intervals, reduced inside the solver.

    Parameters
    ----------
    name, unit : str
        The output and its unit.
    intervals : (n_intervals, 2) array of float
        Start and end of each interval, day.
    area : (n_subjects, n_intervals) array of float
        Integral of the output over each interval, unit·day.
    maximum, end : (n_subjects, n_intervals) array of float
        Largest value within, and value at the end of, each interval.
    time_above : (n_subjects, n_intervals) array of float
        Time with the output above ``threshold``, day.
    first_above : (n_subjects, n_intervals) array of float
        First time (day since the first dose) the output is above ``threshold`` within the
        interval, NaN when never: for B cells and a threshold at the LLN, the repletion time.
    threshold : float
        Threshold, in ``unit``.
    """

    name: str
    unit: str
    intervals: Float2D
    area: Float2D
    maximum: Float2D
    end: Float2D
    time_above: Float2D
    first_above: Float2D
    threshold: float

    def __post_init__(self) -> None:
        for f in ("intervals", "area", "maximum", "end", "time_above", "first_above"):
            object.__setattr__(self, f, _frozen(getattr(self, f), f, 2))

    @property
    def time_below(self) -> Float2D:
        """Time with the output at or below ``threshold`` in each interval, day."""
        length = self.intervals[:, 1] - self.intervals[:, 0]
        below: Float2D = length[None, :] - self.time_above
        return below

    def to_pandas(self, ids: npt.ArrayLike | None = None) -> pd.DataFrame:
        """Long table: ID, INTERVAL, START, END, AREA, MAX, END_VALUE, TIME_ABOVE, TIME_BELOW,
        FIRST_ABOVE; units in ``attrs``."""
        n, m = self.area.shape
        ident = np.arange(1, n + 1) if ids is None else np.asarray(ids)
        df = pd.DataFrame({
            "ID": np.repeat(ident, m), "INTERVAL": np.tile(np.arange(1, m + 1), n),
            "START": np.tile(self.intervals[:, 0], n), "END": np.tile(self.intervals[:, 1], n),
            "AREA": self.area.ravel(), "MAX": self.maximum.ravel(),
            "END_VALUE": self.end.ravel(), "TIME_ABOVE": self.time_above.ravel(),
            "TIME_BELOW": self.time_below.ravel(), "FIRST_ABOVE": self.first_above.ravel()})
        df.attrs["units"] = {"AREA": f"{self.unit}*day", "MAX": self.unit,
                             "END_VALUE": self.unit, "TIME_ABOVE": "day", "TIME_BELOW": "day",
                             "FIRST_ABOVE": "day"}
        df.attrs["variable"] = self.name
        df.attrs["threshold"] = self.threshold
        df.attrs["disclaimer"] = DISCLAIMER
        return df


def _no_trajectories() -> InvalidInputError:
    return InvalidInputError(
        "this result holds no trajectories (simulated with trajectories=False); rerun with "
        "trajectories=True, or use result.exposure and result.summary()"
    )


_UNIT_ALIASES = {"cells/mm3": "cells/uL", "cells/µL": "cells/uL", "cells/μL": "cells/uL",
                 "µg/mL": "mg/L", "ug/mL": "mg/L"}


def _unit_key(unit: str) -> str:
    u = str(unit).strip().replace(" ", "")
    return _UNIT_ALIASES.get(u, u)


@dataclass(frozen=True, slots=True, eq=False)  # arrays: compare values explicitly
class SimulationResult:
    """Trajectories and exposure metrics of one simulation.

    Parameters
    ----------
    times : (n_times,) array of float
        Output times, day since the first dose. Empty when no trajectories were stored.
    outputs : mapping of str to (n_subjects, n_times) arrays of float
        Output name to values; ``"C"`` is the concentration, mg/L (= µg/mL).
    units : mapping of str to str
        Unit of each output.
    ids : (n_subjects,) array
        Subject identifiers, in row order.
    exposure : Exposure, optional
        Per-interval metrics reduced in the solver.
    seed : int, optional
        Seed of the random population, when there was one.
    n_steps : int
        Accepted solver steps, all subjects together.
    n_substeps : int
        Accepted substeps of the linear states (the immune model's B cells, T cells and Ig,
        which cross each solver step in substeps of their own), all subjects together.
    status : str
        ``"ok"`` for a successful solve (failures raise instead).
    regimen_text : str, optional
        Text form of the regimen (:meth:`Regimen.__str__`), when there was one for all.
    parameters : pandas.DataFrame, optional
        Individual model parameters beyond PK (the immune model's, one row per subject).
    metrics : mapping of str to IntervalMetrics, optional
        In-solver interval metrics of further outputs (``simulate(..., reduce={...})``).
    """

    times: Float1D
    outputs: Mapping[str, Float2D]
    units: Mapping[str, str]
    ids: np.ndarray
    exposure: Exposure | None = None
    seed: int | None = None
    n_steps: int = 0
    n_substeps: int = 0
    status: str = "ok"
    regimen_text: str | None = None
    parameters: pd.DataFrame | None = None
    metrics: Mapping[str, IntervalMetrics] | None = None
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        times = _frozen(self.times, "times", 1)
        ids = np.asarray(self.ids).view()
        if ids.ndim != 1:
            raise InvalidInputError(f"ids must be 1-D; got shape {ids.shape}; pass one per subject")
        ids.flags.writeable = False
        shape = (ids.size, times.size)
        outputs: dict[str, Float2D] = {}
        for name, values in self.outputs.items():
            arr = _frozen(values, f"output {name!r}", 2)
            _check_shape(f"output {name!r}", arr, shape, "n_subjects, n_times")
            if name not in self.units:
                raise InvalidInputError(
                    f"output {name!r} has no unit in units {dict(self.units)!r}; add one"
                )
            outputs[name] = arr
        if self.exposure is not None and self.exposure.n_subjects != ids.size:
            raise InvalidInputError(
                f"exposure has {self.exposure.n_subjects} subjects but ids has {ids.size}; "
                f"pass metrics for the same subjects"
            )
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "outputs", MappingProxyType(outputs))
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))
        object.__setattr__(self, "_names", tuple(outputs))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics or {})))

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return int(self.ids.size)

    @property
    def names(self) -> tuple[str, ...]:
        """Output names, in column order."""
        return self._names

    @property
    def has_trajectories(self) -> bool:
        """True when outputs were stored at one or more times (``trajectories=True``)."""
        return bool(self._names) and self.times.size > 0

    @property
    def concentration(self) -> Float2D:
        """Concentration, mg/L, shape (n_subjects, n_times) (read-only)."""
        return self["C"]

    @property
    def bcells(self) -> Float2D:
        """CD19+ B cells, cells/µL, shape (n_subjects, n_times) (``model="immune"``)."""
        return self["B"]

    def fraction_below(self, name: str, threshold: float, unit: str) -> Float1D:
        """Fraction of subjects with output ``name`` below ``threshold`` at each time.

        ``unit`` must be the output's unit (``self.units[name]``; "cells/mm3" and "cells/µL"
        are accepted for "cells/uL"): a threshold in another unit is refused, not converted.

        Raises
        ------
        InvalidInputError
            Unknown output, a unit that is not the output's, or a threshold that is not a
            finite number >= 0.
        """
        values = self[name]
        have = self.units[name]
        if _unit_key(unit) != _unit_key(have):
            raise InvalidInputError(
                f"threshold unit {unit!r} does not match output {name!r}, which is in {have!r}; "
                f"give the threshold in {have}")
        if not (isinstance(threshold, int | float) and math.isfinite(threshold)
                and threshold >= 0):
            raise InvalidInputError(
                f"threshold = {threshold!r} {unit}; give a finite number >= 0")
        frac: Float1D = np.mean(values < threshold, axis=0)
        return frac

    def __getitem__(self, name: str) -> Float2D:
        """Output ``name``, shape (n_subjects, n_times) (read-only)."""
        try:
            return self.outputs[name]
        except KeyError:
            if not self._names:
                raise _no_trajectories() from None
            raise InvalidInputError(
                f"unknown output {name!r}; this result has {', '.join(map(repr, self._names))}"
            ) from None

    def _attrs(self) -> dict[str, object]:
        attrs: dict[str, object] = {"disclaimer": DISCLAIMER, "status": self.status,
                                    "n_steps": self.n_steps, "n_substeps": self.n_substeps}
        if self.seed is not None:
            attrs["seed"] = self.seed
        if self.regimen_text is not None:
            attrs["regimen"] = self.regimen_text
        return attrs

    def to_pandas(self) -> pd.DataFrame:
        """Long table: columns ID, TIME (day), one column per output; subject-major rows.

        Units, the disclaimer and run metadata are in ``attrs``.

        Raises
        ------
        InvalidInputError
            If the result holds no trajectories.
        """
        if not self.has_trajectories:
            raise _no_trajectories()
        n, m = self.n_subjects, self.times.size
        data: dict[str, np.ndarray] = {"ID": np.repeat(self.ids, m),
                                       "TIME": np.tile(self.times, n)}
        for name in self._names:
            data[name] = self.outputs[name].ravel()
        df = pd.DataFrame(data)
        df.attrs.update(self._attrs())
        df.attrs["units"] = {"TIME": "day", **self.units}
        return df

    def to_xarray(self) -> xr.Dataset:
        """Dataset with dims (ID, TIME) per output, and (ID, INTERVAL) for exposure metrics.

        Each variable carries a ``units`` attribute; the dataset carries the disclaimer,
        status, solver steps, and seed and regimen text when known.
        """
        coords: dict[str, object] = {"ID": ("ID", np.asarray(self.ids))}
        data_vars: dict[str, object] = {}
        if self.has_trajectories:
            coords["TIME"] = ("TIME", np.asarray(self.times), {"units": "day"})
            for name in self._names:
                data_vars[name] = (("ID", "TIME"), np.asarray(self.outputs[name]),
                                   {"units": self.units[name]})
        ex = self.exposure
        if ex is not None:
            coords["INTERVAL"] = ("INTERVAL", np.arange(1, ex.n_intervals + 1))
            coords["START"] = ("INTERVAL", np.asarray(ex.intervals[:, 0]), {"units": "day"})
            coords["END"] = ("INTERVAL", np.asarray(ex.intervals[:, 1]), {"units": "day"})
            for name, arr in (("AUC", ex.auc), ("CMAX", ex.cmax), ("CTROUGH", ex.ctrough),
                              ("TIME_ABOVE", ex.time_above)):
                data_vars[name] = (("ID", "INTERVAL"), np.asarray(arr),
                                   {"units": EXPOSURE_UNITS[name]})
        attrs = self._attrs()
        if ex is not None:
            attrs["threshold_mg_per_L"] = ex.threshold
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_pandas` to a Parquet file atomically; returns the path."""
        return write_table(self.to_pandas(), path, fmt="parquet")

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_pandas` to CSV atomically (gzip for ``.gz``); returns the path."""
        return write_table(self.to_pandas(), path, fmt="csv")

    def summary(self) -> pd.DataFrame:
        """Per-subject exposure metrics, one row per subject and interval.

        Uses :attr:`exposure` when present; otherwise one interval over the whole output grid
        computed from the ``"C"`` trajectories (trapezoid AUC, Cmax of the samples, value at
        the last time, time above 0 mg/L). Columns as :meth:`Exposure.to_pandas`.

        Raises
        ------
        InvalidInputError
            Without exposure metrics and without a concentration trajectory.
        """
        ex = self.exposure
        if ex is None:
            if not self.has_trajectories:
                raise _no_trajectories()
            ex = Exposure.from_trajectories(self.times, self.concentration)
        return ex.to_pandas(self.ids)
