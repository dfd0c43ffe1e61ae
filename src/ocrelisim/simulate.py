"""The one entry point: ``simulate(regimen, population, times)``.

A call reads top-down: check the request, find the model in the registry, make each patient's
individual parameters (the model's covariate model and random effects, or given ones),
pack the dosing events onto the model's dose states, run the engine, and wrap its raw arrays
as a :class:`SimulationResult`. Nothing here names a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from . import models
from ._types import Float1D, Float2D, Int1D
from .engine import Schedules, SolverOptions, integrate
from .errors import InvalidInputError
from .models import Model
from .population import Population
from .regimens import CMT_CENTRAL, CMT_DEPOT, Regimen
from .results import Exposure, IntervalMetrics, SimulationResult

DEFAULT_OPTIONS = SolverOptions()
# Route of a regimen's dose events by their ``cmt`` code (regimens write the label PK's depot
# for SC injections and its central compartment for IV infusions).
_ROUTES = {CMT_DEPOT: "SC", CMT_CENTRAL: "IV"}


def simulate(
    regimen: Regimen | Sequence[Regimen],
    population: Population,
    times: ArrayLike | None,
    *,
    intervals: ArrayLike | None = None,
    threshold: float = 0.0,
    trajectories: bool = True,
    model: str | Model = "pk",
    variables: Sequence[str] | None = None,
    model_parameters: object | None = None,
    immune: object | None = None,
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
        Threshold of the time-above metric, in the unit of the model's exposure output
        (mg/L for the concentration).
    trajectories : bool
        If False, no concentration-time arrays are kept (summary-only runs of millions).
    model : str or Model
        A registered model's name (:func:`ocrelisim.models.names`) or a :class:`Model`:
        ``"pk"``: concentration only. ``"immune"``: also B cells, CD20+ T cells, T-cell and
        cytokine indices and immunoglobulins (:data:`ocrelisim.models.immune.OUTPUTS`), with
        the immune variability drawn with the population (``Population.etas["immune"]``).
    variables : sequence of str, optional
        Outputs to keep (default: all of the model's); e.g. ``["C", "B"]`` keeps memory low
        for large immune runs.
    model_parameters : object, optional
        The model's parameter set (its ``Model.settings`` type, e.g. ``ImmuneParameters`` for
        ``"immune"``); default the model's own.
    immune : object, optional
        Former name of ``model_parameters`` (kept for compatibility).
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
        holds the interval metrics when ``intervals`` is given (a view of
        ``result.metrics["C"]``); ``result.parameters`` the individual parameters
        (``Population.from_parameters(result.parameters)`` reproduces the run).

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
        raise InvalidInputError(f"threshold = {threshold!r}; give a finite value >= 0")
    mod = models.get(model)
    names = _variables(mod, variables)
    reductions = _reductions(mod, reduce, win, float(threshold))
    regimens, sched = _schedule_index(regimen, population.n)
    settings = model_parameters if model_parameters is not None else immune
    individual = mod.individual(population, mod.settings if settings is None else settings)
    P, y0 = mod.prepare(individual, _first_dose_times(regimens)[sched])
    raw = integrate(mod.spec, P, y0, _schedules(mod, regimens, sched), t, win,
                    list(reductions.values()), options, progress=progress,
                    select=[mod.outputs.index(v) for v in names],
                    reduce_outputs=[mod.outputs.index(v) for v in reductions])
    metrics = {v: _interval_metrics(mod, v, thr, win, raw.reductions[k])
               for k, (v, thr) in enumerate(reductions.items())}
    exposure = (Exposure.from_metrics(metrics[mod.exposure_output])
                if mod.exposure_output in metrics else None)
    return SimulationResult(
        times=t,
        outputs={name: raw.out[i] for i, name in enumerate(names)},
        units={v: mod.unit(v) for v in names},
        ids=np.asarray(population.ids),
        exposure=exposure,
        seed=population.seed,
        n_steps=raw.n_accepted,
        n_substeps=raw.n_substeps,
        status="ok",
        regimen_text=str(regimens[0]) if len(regimens) == 1 else None,
        parameters=pd.concat([population.covariates[["ID"]], individual], axis=1),
        metrics=metrics,
    )


def _interval_metrics(model: Model, name: str, threshold: float, win: Float2D,
                      red: np.ndarray) -> IntervalMetrics:
    """The engine's reductions of output ``name`` (``red``: (5, n, n_intervals))."""
    return IntervalMetrics(
        name=name, unit=model.unit(name), intervals=win, area=red[0], maximum=red[1],
        end=red[2], time_above=red[3], first_above=red[4], threshold=threshold)


def _reductions(model: Model, reduce: Mapping[str, float] | None, win: Float2D,
                threshold: float) -> dict[str, float]:
    """Outputs to reduce over the intervals, with their thresholds: the exposure output
    (with ``threshold``) whenever intervals are given, then those of ``reduce``."""
    out: dict[str, float] = {}
    if win.shape[0] and model.exposure_output is not None:
        out[model.exposure_output] = threshold
    if not reduce:
        return out
    if win.shape[0] == 0:
        raise InvalidInputError("reduce needs intervals=[[start, end], ...] to reduce over")
    further = [o for o in model.outputs if o != model.exposure_output]
    for name, thr in reduce.items():
        if name not in further:
            hint = (f" (use threshold= for {model.exposure_output!r})"
                    if model.exposure_output else "")
            raise InvalidInputError(
                f"reduce: {name!r} is not one of the further outputs {further} of the "
                f"{model.name!r} model{hint}")
        if not (isinstance(thr, int | float) and np.isfinite(thr) and thr >= 0):
            raise InvalidInputError(
                f"reduce: threshold {thr!r} for {name!r}; give a finite number >= 0 in "
                f"{model.unit(name)}")
        out[name] = float(thr)
    return out


def _variables(model: Model, variables: Sequence[str] | None) -> tuple[str, ...]:
    if variables is None:
        return tuple(model.outputs)
    if isinstance(variables, str):
        variables = [variables]
    names = tuple(variables)
    unknown = [v for v in names if v not in model.outputs]
    if unknown or not names or len(set(names)) != len(names):
        raise InvalidInputError(
            f"variables {list(names)!r}: give distinct names from the {model.name!r} model's "
            f"outputs {list(model.outputs)}" + (f"; unknown: {unknown}" if unknown else ""))
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


def _schedules(model: Model, regimens: list[Regimen], sched: Int1D) -> Schedules:
    """The regimens' dose events on the model's dose states (``Model.dose_targets``)."""
    events = [r.events() for r in regimens]
    codes = sorted(_ROUTES)
    target = np.full(max(codes) + 1, -1, dtype=np.int64)
    target[codes] = model.dose_states(tuple(_ROUTES[c] for c in codes))
    for e in events:
        missing = sorted({_ROUTES[int(c)] for c in np.unique(e.cmt) if target[int(c)] < 0})
        if missing:
            raise InvalidInputError(
                f"the {model.name!r} model takes no {' or '.join(missing)} doses (it doses "
                f"{dict(model.dose_targets)}); give a regimen by those routes")
    counts = np.array([e.time.size for e in events], dtype=np.int64)
    ev_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def cat(name: str, dtype: type) -> np.ndarray:
        parts: list[np.ndarray] = [np.asarray(getattr(e, name), dtype=dtype) for e in events]
        return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0, dtype))

    return Schedules(sched=np.ascontiguousarray(sched), ev_ptr=ev_ptr,
                     ev_time=cat("time", np.float64),
                     ev_cmt=np.ascontiguousarray(target[cat("cmt", np.int64)]),
                     ev_rate=cat("rate", np.float64), ev_bolus=cat("bolus", np.float64))


def _first_dose_times(regimens: list[Regimen]) -> Float1D:
    """Start of the first dose of each regimen (clearance time origin), 0 without doses."""
    return np.array([float(r.events().time.min()) if r.events().time.size else 0.0
                     for r in regimens])
