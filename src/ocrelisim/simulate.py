"""The one entry point: ``simulate(regimen, population, times)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from . import immune as im
from . import pk
from ._types import Float1D, Float2D, Int1D
from .errors import InvalidInputError
from .parameters import IMMUNE, ImmuneParameters
from .population import Population
from .regimens import Regimen
from .results import Exposure, IntervalMetrics, SimulationResult
from .solver import ModelSpec, Schedules, SolverOptions, integrate

DEFAULT_OPTIONS = SolverOptions()
MODELS: dict[str, ModelSpec] = {"pk": pk.PK_MODEL, "immune": im.IMMUNE_MODEL}
"""Models by name: ``"pk"`` (concentration only) and ``"immune"`` (PK, B cells, T-cell and
cytokine indices, immunoglobulins; see :mod:`ocrelisim.immune`)."""


def simulate(
    regimen: Regimen | Sequence[Regimen],
    population: Population,
    times: ArrayLike | None,
    *,
    intervals: ArrayLike | None = None,
    threshold: float = 0.0,
    trajectories: bool = True,
    model: str = "pk",
    variables: Sequence[str] | None = None,
    immune: ImmuneParameters = IMMUNE,
    reduce: Mapping[str, float] | None = None,
    options: SolverOptions = DEFAULT_OPTIONS,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate ocrelizumab concentrations for every patient of ``population``.

    Parameters
    ----------
    regimen : Regimen or sequence of Regimen
        One regimen for everybody, or one per patient (length ``population.n``).
    population : Population
        Patients and their individual PK parameters.
    times : array_like or None
        Output times in days since the first dose, shape (n_times,), sorted, >= 0. May be
        None or empty when ``trajectories=False``.
    intervals : array_like, optional
        Windows ``[[start, end], ...]`` in days (shape (n_intervals, 2)) for in-kernel exposure
        metrics: AUC (mg·day/L), Cmax (mg/L), trough (C at the window end, mg/L) and time above
        ``threshold`` (days).
    threshold : float
        Concentration threshold in mg/L for the time-above metric.
    trajectories : bool
        If False, no concentration-time arrays are kept (summary-only runs of millions).
    model : {"pk", "immune"}
        ``"pk"``: concentration only. ``"immune"``: also B cells, CD20+ T cells, T-cell and
        cytokine indices and immunoglobulins (:data:`ocrelisim.immune.OUTPUTS`), with the
        immune variability drawn with the population (``Population.immune_eta``).
    variables : sequence of str, optional
        Outputs to keep (default: all of the model's); e.g. ``["C", "B"]`` keeps memory low
        for large immune runs.
    immune : ImmuneParameters
        Immune-model parameters (``model="immune"`` only).
    reduce : mapping of str to float, optional
        Further outputs to reduce over ``intervals`` inside the solver, with a threshold each
        in the output's unit, e.g. ``{"B": 80.0}``: area, maximum, end value, time above and
        below the threshold and the first time above it (``result.metrics["B"]``), with no
        trajectories needed.
    options : SolverOptions
        Tolerances, lanes per block, threads.
    progress : callable, optional
        ``progress(done, total)`` called as patients are finished.

    Returns
    -------
    SimulationResult
        ``result.concentration`` has shape (n_patients, n_times), mg/L; ``result.exposure``
        holds the interval metrics when ``intervals`` is given.

    Raises
    ------
    InvalidInputError
        Bad times, intervals, threshold, a regimen list of the wrong length, an unknown
        model or variable name.
    SolverError
        The solver failed for some patients (the message names them).
    """
    t = _check_times(times, trajectories)
    win = _check_intervals(intervals)
    if t.size == 0 and win.shape[0] == 0:
        raise InvalidInputError(
            "nothing to compute: give output times, or intervals with trajectories=False")
    if not (np.isfinite(threshold) and threshold >= 0.0):
        raise InvalidInputError(f"threshold = {threshold!r} mg/L; give a finite value >= 0")
    spec = _model(model)
    names = _variables(spec, variables)
    regimens, sched = _schedule_index(regimen, population.n)
    schedules = _schedules(regimens, sched)
    first_dose = _first_dose_times(regimens)[sched]
    P, y0, individual = _model_inputs(spec, population, first_dose, immune)
    select = [spec.outputs.index(v) for v in names]
    extra = _reductions(spec, reduce, win)
    raw = integrate(spec, P, y0, schedules, t, win, [float(threshold), *extra.values()],
                    options, progress=progress, select=select,
                    reduce_outputs=[0, *(spec.outputs.index(v) for v in extra)])
    metrics = {v: _interval_metrics(spec, v, thr, win, raw.reductions[k])
               for k, (v, thr) in enumerate(extra.items(), start=1)}
    outputs = {name: raw.out[i] for i, name in enumerate(names)}
    exposure = None
    if win.shape[0]:
        exposure = Exposure(intervals=win, auc=raw.auc, cmax=raw.cmax, ctrough=raw.ctrough,
                            time_above=raw.time_above, threshold=float(threshold))
    text = str(regimens[0]) if len(regimens) == 1 else None
    return SimulationResult(
        times=t,
        outputs=outputs,
        units={v: spec.output_units[spec.outputs.index(v)] for v in names},
        ids=np.asarray(population.ids),
        exposure=exposure,
        seed=population.seed,
        n_steps=raw.n_accepted,
        n_substeps=raw.n_substeps,
        status="ok",
        regimen_text=text,
        parameters=individual,
        metrics=metrics,
    )


def _model_inputs(spec: ModelSpec, population: Population, first_dose: Float1D,
                  immune: ImmuneParameters) -> tuple[Float2D, Float2D, pd.DataFrame | None]:
    """Kernel parameters, initial states and (immune model) individual immune parameters."""
    params = population.params
    if spec is pk.PK_MODEL:
        return pk.kernel_parameters(params, first_dose), pk.initial_states(params.shape[0]), None
    individual = im.individual_parameters(population.covariates, population.immune_eta, immune)
    return (im.kernel_parameters(params, first_dose, individual),
            im.initial_states(individual), individual)


def _interval_metrics(spec: ModelSpec, name: str, threshold: float, win: Float2D,
                      red: np.ndarray) -> IntervalMetrics:
    """The solver's reductions of output ``name`` (``red``: (5, n, n_intervals))."""
    return IntervalMetrics(
        name=name, unit=spec.output_units[spec.outputs.index(name)], intervals=win,
        area=red[0], maximum=red[1], end=red[2], time_above=red[3], first_above=red[4],
        threshold=threshold)


def _reductions(spec: ModelSpec, reduce: Mapping[str, float] | None,
                win: Float2D) -> dict[str, float]:
    if not reduce:
        return {}
    if win.shape[0] == 0:
        raise InvalidInputError("reduce needs intervals=[[start, end], ...] to reduce over")
    out: dict[str, float] = {}
    for name, thr in reduce.items():
        if name == spec.outputs[0] or name not in spec.outputs:
            raise InvalidInputError(
                f"reduce: {name!r} is not one of the further outputs "
                f"{list(spec.outputs[1:])} of the {spec.name!r} model (use threshold= for "
                f"{spec.outputs[0]!r})")
        if not (isinstance(thr, int | float) and np.isfinite(thr) and thr >= 0):
            raise InvalidInputError(
                f"reduce: threshold {thr!r} for {name!r}; give a finite number >= 0 in "
                f"{spec.output_units[spec.outputs.index(name)]}")
        out[name] = float(thr)
    return out


def _model(model: str) -> ModelSpec:
    if model not in MODELS:
        raise InvalidInputError(f"unknown model {model!r}; choose one of {sorted(MODELS)}")
    return MODELS[model]


def _variables(spec: ModelSpec, variables: Sequence[str] | None) -> tuple[str, ...]:
    if variables is None:
        return tuple(spec.outputs)
    if isinstance(variables, str):
        variables = [variables]
    names = tuple(variables)
    unknown = [v for v in names if v not in spec.outputs]
    if unknown or not names or len(set(names)) != len(names):
        raise InvalidInputError(
            f"variables {list(names)!r}: give distinct names from the {spec.name!r} model's "
            f"outputs {list(spec.outputs)}" + (f"; unknown: {unknown}" if unknown else ""))
    return names


def _check_times(times: ArrayLike | None, trajectories: bool) -> Float1D:
    if times is None or not trajectories:
        return np.zeros(0)
    t = np.asarray(times, dtype=np.float64)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1:
        raise InvalidInputError(f"times must be one-dimensional (n_times,), got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InvalidInputError("times contain NaN or infinite values; give finite days")
    if t.size and t[0] < 0.0:
        raise InvalidInputError(
            f"times must be >= 0 days since the first dose, got {t[0]!r}; shift them")
    if np.any(np.diff(t) <= 0.0):
        i = int(np.flatnonzero(np.diff(t) <= 0.0)[0])
        raise InvalidInputError(
            f"times must be strictly increasing; times[{i}] = {t[i]!r} >= times[{i + 1}] = "
            f"{t[i + 1]!r}; sort them and drop duplicates")
    t = t.copy()
    t.setflags(write=False)
    return t


def _check_intervals(intervals: ArrayLike | None) -> Float2D:
    if intervals is None:
        return np.zeros((0, 2))
    w = np.asarray(intervals, dtype=np.float64)
    if w.ndim == 1 and w.size == 2:
        w = w.reshape(1, 2)
    if w.ndim != 2 or w.shape[1] != 2:
        raise InvalidInputError(
            f"intervals must have shape (n_intervals, 2) of [start, end] days, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w[:, 0] < 0.0) or np.any(w[:, 1] <= w[:, 0]):
        raise InvalidInputError(
            "every interval needs finite 0 <= start < end (days); got "
            f"{w[~(np.isfinite(w).all(axis=1) & (w[:, 0] >= 0) & (w[:, 1] > w[:, 0]))][0]!r}")
    w = w.copy()
    w.setflags(write=False)
    return w


def _schedule_index(regimen: Regimen | Sequence[Regimen],
                    n: int) -> tuple[list[Regimen], Int1D]:
    """Distinct regimens and each patient's index into them."""
    if isinstance(regimen, Regimen):
        return [regimen], np.zeros(n, dtype=np.int64)
    regs = list(regimen)
    if len(regs) != n:
        raise InvalidInputError(
            f"got {len(regs)} regimens for {n} patients; give one Regimen for all or exactly "
            "one per patient")
    distinct: dict[Regimen, int] = {}
    sched = np.empty(n, dtype=np.int64)
    for i, r in enumerate(regs):
        if not isinstance(r, Regimen):
            raise InvalidInputError(f"regimen[{i}] is {type(r).__name__}, not a Regimen")
        sched[i] = distinct.setdefault(r, len(distinct))
    return list(distinct), sched


def _schedules(regimens: list[Regimen], sched: Int1D) -> Schedules:
    events = [r.events() for r in regimens]
    counts = np.array([e.time.size for e in events], dtype=np.int64)
    ev_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def cat(name: str, dtype: type) -> np.ndarray:
        parts: list[np.ndarray] = [np.asarray(getattr(e, name), dtype=dtype) for e in events]
        return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0, dtype))

    return Schedules(sched=np.ascontiguousarray(sched), ev_ptr=ev_ptr,
                     ev_time=cat("time", np.float64), ev_cmt=cat("cmt", np.int64),
                     ev_rate=cat("rate", np.float64), ev_bolus=cat("bolus", np.float64))


def _first_dose_times(regimens: list[Regimen]) -> Float1D:
    """Start of the first dose of each regimen (clearance time origin), 0 without doses."""
    return np.array([float(r.events().time.min()) if r.events().time.size else 0.0
                     for r in regimens])
