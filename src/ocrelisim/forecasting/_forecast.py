"""Individual forecasts: B-cell return, intervals, the next-dose day, what-if regimens.

Definitions (all days since the patient's first dose):

* **return day**: the first whole day after the last dose (``L + k``, k = 1, 2, ...) on which
  CD19 is at or above the threshold, after having been below it on an earlier day after the
  last dose; a patient whose count never falls below the threshold has returned on day
  ``L + 1``; one who stays below it to the horizon (``L + horizon``) has not returned (+inf).
  Its 5%, 50% and 95% quantiles over the posterior draws are the 90% interval and the median
  (None where return by the horizon is less likely than that quantile).
* **p_above**: the probability that the return has happened by each day after the last dose
  (cumulative).
* **next dose** (B-cell-guided): checks fall on the first day at least 5 months after the last
  dose (5 calendar months with dates [S3][S4][S87],
  :func:`ocrelisim.regimens._calendar.earliest_next_dose`; otherwise ``MIN_INTERVAL_600`` =
  5 × 30.4375 days, rounded up to a whole day) and every ``check_every`` days after it; the
  next dose is due at the first check on which the probability that CD19 has returned to the
  threshold is at least 0.5. Why: a guided schedule redoses at the first check whose measured
  count reaches the threshold; before such a check the forecast says the count is more likely
  than not still below it (the dose would more likely than not be premature); from it on,
  waiting for the next check more likely than not leaves B cells above the threshold for up to
  a check interval. The label minimum of 5 months between doses is never undercut. No
  published rule for ocrelizumab gives the threshold or the probability (facts §2.3); they
  are options.
* **label date**: the start of the last course + 6 months [S3][S4]: 6 calendar months with
  dates (:func:`~ocrelisim.regimens._calendar.next_maintenance_dose`), else 6 mean calendar
  months (:data:`LABEL_INTERVAL`, 182.6 days), so that a record given in days and the same
  record given in dates differ by at most a few days (the trials' 24 weeks,
  ``MAINTENANCE_INTERVAL``, would put the days answer two weeks earlier); doses at most 21 days
  apart form one course (the split 300 mg starting dose, two weeks apart [S3]).
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing as mp
import numbers
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .._types import Float1D, Float2D
from ..engine import SolverOptions
from ..errors import InvalidInputError
from ..parameters import MIN_INTERVAL_600
from ..regimens import Regimen
from ..regimens._calendar import earliest_next_dose, next_maintenance_dose
from ..simulate import DEFAULT_OPTIONS
from ..units import DAYS_PER_MONTH
from . import _estimate
from ._problem import Problem, eta_spec
from ._types import (
    BAND_QUANTILES,
    DVID_BCELL,
    Forecast,
    PatientRecord,
    ReturnDay,
)

DEFAULT_DRAWS = 500
"""Posterior (and prior) draws behind the intervals and probabilities."""
MIN_DRAWS = 50
"""Fewest draws (``draws``, or ``samples`` when > 0) behind a 90% interval: with fewer, its
5% and 95% quantiles rest on one or two draws each (and a covariance of one draw is undefined)."""
LABEL_INTERVAL = 6.0 * DAYS_PER_MONTH
"""The label's interval from the start of one course to the next, 600 mg every 6 months
[S3][S4], in days for records without dates (6 mean calendar months, 182.6 days)."""
COURSE_GAP = 21.0
"""Doses at most this many days apart form one course (the split starting dose is given two
weeks apart [S3]; 21 days is our margin, an assumption)."""
BAND_EVERY = 7
"""Bands are given every 7th day of the daily forecast grid (weekly; return days use every
day)."""
PROCESS_MIN = 200
"""Patients from which ``forecast_many(executor="auto")`` uses worker processes (with more than
4 workers): their start-up, 2-3 s, is repaid by long lists on many cores, where threads stop
scaling on the Python part of each forecast."""
P_DUE = 0.5
"""Probability of return at a check from which the next dose is due (see the module
docstring)."""


def forecast(record: PatientRecord, *, threshold: float = 10.0, check_every: float = 28.0,
             horizon: float = 730.0, samples: int = 0, draws: int = DEFAULT_DRAWS,
             seed: int = 0, options: SolverOptions = DEFAULT_OPTIONS) -> Forecast:
    """Forecast one patient's B-cell return and next dose from their record.

    Parameters
    ----------
    record : PatientRecord
        Doses, observations (CD19 cells/µL, concentrations mg/L, censored rows flagged) and
        covariates (:func:`ocrelisim.forecasting.read_records`).
    threshold : float
        CD19+ B cells, cells/µL, that count as returned (default 10; an option, facts §2.3).
    check_every : float
        Days between B-cell checks of the guided schedule (default 28).
    horizon : float
        Days after the last dose to forecast (default 730).
    samples : int
        0 (default): MAP and Laplace approximation; otherwise that many (at least 50)
        posterior draws by emcee.
    draws : int
        Draws from the Laplace approximation and from the population prior (default 500, at
        least 50).
    seed : int
        Seed of the draws (results are reproducible for a seed).
    options : SolverOptions
        Solver settings.

    Returns
    -------
    Forecast
        Individual and population return days, probabilities, bands, the next-dose and label
        days, estimates; ``method`` "population" with a note when there are no observations.

    Raises
    ------
    InvalidInputError
        An option out of range (the message names it).
    SolverError
        The solver failed for the patient's parameters.
    """
    _check_options(threshold, check_every, horizon, samples, draws, seed)
    problem = Problem(record, options=options)
    post_rng, prior_rng = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(seed).spawn(2))
    n = samples if samples > 0 else draws
    pop = _estimate.prior(problem.eta.n, n, prior_rng)
    if problem.n_obs == 0:
        post = pop
    elif samples > 0:
        post = _estimate.mcmc(problem, n, post_rng)
    else:
        post = _estimate.laplace(problem, n, post_rng)
    last = last_dose_day(record.regimen)
    grid = _grid(last, horizon)
    traj = problem.predict(post.draws if post is pop else np.vstack([post.draws, pop.draws]),
                           grid)
    ind, popt = traj[:n], traj[-n:]
    after = grid > last
    ret = return_days(grid[after], ind[:, 1, after], threshold, last)
    ret_pop = return_days(grid[after], popt[:, 1, after], threshold, last)
    checks = check_days(record, last, check_every, horizon)
    p_checks = np.mean(ret[:, None] <= checks[None, :], axis=0)
    due = checks[p_checks >= P_DUE]
    next_dose = float(due[0]) if due.size else None
    return Forecast(
        id=record.id, threshold=float(threshold), horizon_days=float(horizon),
        return_day=return_quantiles(ret), population_return_day=return_quantiles(ret_pop),
        next_dose_day=next_dose,
        label_next_dose_day=label_day(record),
        p_return_by_horizon=float(np.mean(np.isfinite(ret))),
        p_above=pd.DataFrame({"day": grid[after],
                              "p": np.mean(ret[:, None] <= grid[after][None, :], axis=0)}),
        bands=bands(grid[::BAND_EVERY], ind[:, :, ::BAND_EVERY]),
        population_bands=bands(grid[::BAND_EVERY], popt[:, :, ::BAND_EVERY]),
        estimates=estimates(problem, post), method=post.method, n_obs=problem.n_obs,
        messages=(_messages(problem, post, ret, threshold, float(grid[after][0]))
                  + _next_dose_notes(record, next_dose, checks)),
        record=record,
        draws=post.draws)


def forecast_many(records: Sequence[PatientRecord], *, workers: int | None = None,
                  executor: str = "auto", **kw: Any) -> list[Forecast]:
    """:func:`forecast` for a clinic's list of patients on all cores, in input order.

    Parameters
    ----------
    records : sequence of PatientRecord
        The patients.
    workers : int, optional
        Parallel workers (default: one per core); 1 runs in this process.
    executor : {"auto", "process", "thread"}
        ``"process"``: a pool of worker processes (started by ``forkserver`` where available,
        else ``spawn``; each imports ocrelisim and loads the cached kernels once, about 2-3 s).
        ``"thread"``: a thread pool in this process, no start-up cost; the kernels release the
        GIL but the optimiser's Python code does not, so it scales less (measured: 60
        patients, 2 cores, 1.7 times one worker's speed; processes 1.2 times, their start-up
        included). ``"auto"`` (default): processes for at least :data:`PROCESS_MIN` patients
        on more than 4 workers, threads otherwise. A script that starts worker processes must
        guard its top level with ``if __name__ == "__main__":`` (they import it).
    **kw
        Options of :func:`forecast` (the same for every patient). Each patient's solves run
        single-threaded (``options.threads = 1``): the pool is the parallelism.

    Returns
    -------
    list of Forecast
        Equal to ``[forecast(r, **kw) for r in records]``.
    """
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InvalidInputError(f"workers = {workers!r}; give a whole number >= 1 (default: "
                                "one per core)")
    if executor not in ("auto", "process", "thread"):
        raise InvalidInputError(f"executor = {executor!r}; give 'auto', 'process' or 'thread'")
    options: SolverOptions = kw.pop("options", DEFAULT_OPTIONS)
    kw["options"] = replace(options, threads=1)
    one = partial(_forecast_kw, kw)
    recs = list(records)
    n_workers = min(n_workers, len(recs))
    if n_workers <= 1:
        return [one(r) for r in recs]
    if executor == "thread" or (executor == "auto" and (len(recs) < PROCESS_MIN
                                                        or n_workers <= 4)):
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            return list(pool.map(one, recs))
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    chunk = max(1, len(recs) // (4 * n_workers))
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context(method)) as pool:
        return list(pool.map(one, recs, chunksize=chunk))


def _forecast_kw(kw: dict[str, Any], record: PatientRecord) -> Forecast:
    """``forecast(record, **kw)`` (module level, so that worker processes can run it)."""
    return forecast(record, **kw)


def what_if(fc: Forecast, regimen: Regimen, *, horizon: float | None = None,
            options: SolverOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """Bands of C and B for the fitted patient under another regimen.

    Parameters
    ----------
    fc : Forecast
        A forecast (its posterior draws are reused).
    regimen : Regimen
        All doses, days since the first dose, e.g. ``fc.record.regimen +
        Regimen.parse("600 mg IV d700")``.
    horizon : float, optional
        Days after the regimen's last dose (default the forecast's horizon).
    options : SolverOptions
        Solver settings.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (day), ``output`` ("C" mg/L, "B" cells/µL), ``q05 q25 q50 q75 q95``.
    """
    if not isinstance(regimen, Regimen):
        raise InvalidInputError(f"regimen is {type(regimen).__name__}; give a Regimen, e.g. "
                                "fc.record.regimen + Regimen.parse('600 mg IV d700')")
    if fc.draws is None:
        raise InvalidInputError("this forecast holds no posterior draws; make it with "
                                "ocrelisim.forecasting.forecast")
    h = fc.horizon_days if horizon is None else horizon
    _check_options(fc.threshold, 28.0, h, 0, MIN_DRAWS, 0)
    problem = Problem(fc.record, options=options, regimen=regimen,
                      eta=eta_spec(fc.record.regimen))
    grid = _grid(last_dose_day(regimen), h)[::BAND_EVERY]
    return bands(grid, problem.predict(fc.draws, grid))


# -- pieces ---------------------------------------------------------------------------------


def last_dose_day(regimen: Regimen) -> float:
    """Start of the last dose, day."""
    return float(max(d.time for d in regimen))


def course_start_day(regimen: Regimen) -> float:
    """Start of the last course (doses at most :data:`COURSE_GAP` days apart), day."""
    times = sorted(float(d.time) for d in regimen)
    start = times[-1]
    for t in reversed(times[:-1]):
        if start - t > COURSE_GAP:
            break
        start = t
    return start


def _date_day(record: PatientRecord, date: dt.date) -> float:
    assert record.first_dose_date is not None
    return float((date - record.first_dose_date).days)


def _day_date(record: PatientRecord, day: float) -> dt.date:
    assert record.first_dose_date is not None
    return record.first_dose_date + dt.timedelta(days=math.floor(day))


def label_day(record: PatientRecord) -> float:
    """The label's next maintenance dose (see the module docstring), day."""
    start = course_start_day(record.regimen)
    if record.first_dose_date is None:
        return start + LABEL_INTERVAL
    return _date_day(record, next_maintenance_dose(_day_date(record, start)))


def check_days(record: PatientRecord, last: float, check_every: float,
               horizon: float) -> Float1D:
    """Guided-schedule checks from 5 months after the last dose to the horizon, days."""
    if record.first_dose_date is None:
        first = float(math.ceil(last + MIN_INTERVAL_600.value))
    else:
        first = _date_day(record, earliest_next_dose(_day_date(record, last)))
    n = math.floor((last + horizon - first) / check_every) + 1
    out: Float1D = first + check_every * np.arange(max(n, 0), dtype=np.float64)
    return out


def _grid(last: float, horizon: float) -> Float1D:
    """Daily output days: 0 .. before the last dose, then ``last + k`` for k = 0..horizon."""
    before = np.arange(0.0, last)
    return np.concatenate([before, last + np.arange(0.0, math.floor(horizon) + 1.0)])


def return_days(days: Float1D, b: Float2D, threshold: float, last: float) -> Float1D:
    """Return day of each draw (see the module docstring) from B (n, n_days) on ``days``
    (after the last dose, ascending); +inf when not returned by the last day."""
    below = b < threshold
    seen = np.maximum.accumulate(below, axis=1)
    back = seen & ~below
    hit = back.any(axis=1)
    out = np.where(hit, days[np.argmax(back, axis=1)], np.inf)
    never_below = ~below.any(axis=1)
    out[never_below] = days[0]
    result: Float1D = out
    return result


def return_quantiles(days: Float1D) -> ReturnDay:
    """Median and 90% interval of return days (None where the quantile is not reached)."""
    def q(p: float) -> float | None:
        v = float(np.quantile(days, p, method="inverted_cdf"))
        return v if math.isfinite(v) else None

    return ReturnDay(median=q(0.5), lo90=q(0.05), hi90=q(0.95))


def bands(times: Float1D, traj: np.ndarray) -> pd.DataFrame:
    """Quantile bands (long: time, output, q05 .. q95) of C and B from draws (n, 2, n_t)."""
    q = np.quantile(traj, BAND_QUANTILES, axis=0)  # (5, 2, n_t), linear interpolation
    parts = []
    for k, name in enumerate(("C", "B")):
        cols = {"time": times, "output": name}
        cols.update({f"q{round(100 * p):02d}": q[j, k] for j, p in enumerate(BAND_QUANTILES)})
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True)


def estimates(problem: Problem, post: _estimate.Posterior) -> pd.DataFrame:
    """Per estimated random effect: the individual parameter's typical value (covariates, no
    random effect), value at the posterior mode (``map``), posterior SD of its log (``sd``),
    and the effect's mode and SD on the standard-normal scale."""
    d = problem.eta.n
    ind = problem.individual(np.vstack([np.zeros(d), post.mode, np.eye(d)]))
    names = list(problem.eta.names)
    vals = ind[names].to_numpy(dtype=np.float64)
    slope = np.abs(np.log(vals[2:].diagonal() / vals[0]))
    eta_sd = np.sqrt(np.diag(post.cov))
    units = dict(zip(problem.model.parameters, problem.model.units, strict=True))
    return pd.DataFrame({"param": names, "unit": [units[n] for n in names],
                         "typical": vals[0], "map": vals[1], "sd": slope * eta_sd,
                         "eta_map": post.mode, "eta_sd": eta_sd})


def _messages(problem: Problem, post: _estimate.Posterior, ret: Float1D,
              threshold: float, first_day: float) -> list[str]:
    out = []
    if problem.n_obs == 0:
        out.append("No observations: this is the population prediction for the patient's "
                   "doses and covariates, not an individual forecast.")
    obs = problem.record.observations
    n_b = int((obs["DVID"] == DVID_BCELL).sum()) if len(obs) else 0
    n_cens = int(obs["CENSORED"].sum()) if len(obs) else 0
    if n_cens:
        out.append(f"{n_cens} of {len(obs)} observations were below their limit of "
                   "quantification and entered as censored (probability of being below it).")
    if problem.n_obs and n_b == 0:
        out.append("No CD19 counts: the B-cell forecast rests on the concentrations and the "
                   "population model.")
    out += problem.notes
    out += list(post.messages)
    if np.mean(ret == first_day) >= 0.5:
        out.append(f"CD19 is not expected to fall below {threshold:g} cells/µL after the last "
                   "dose (return day = the day after it).")
    if np.mean(np.isfinite(ret)) < 0.5:
        out.append(f"Return to {threshold:g} cells/µL within the horizon is less likely than "
                   "not; the median return day is not given.")
    return out


def _next_dose_notes(record: PatientRecord, next_dose: float | None,
                     checks: Float1D) -> list[str]:
    """Why there is no guided next dose, or that it fell due before the latest observation."""
    if next_dose is None:
        if checks.size == 0:
            return ["No guided next dose: the horizon ends before the first check, 5 months "
                    "after the last dose; give a longer horizon."]
        return [f"No guided next dose within the horizon: at no check up to "
                f"{_when(record, float(checks[-1]))} is return to the threshold more likely "
                f"than not."]
    obs = record.observations
    latest = float(obs["TIME"].max()) if len(obs) else -math.inf
    if next_dose < latest:
        return [f"The guided next dose fell due on {_when(record, next_dose)}, before the "
                f"latest observation ({_when(record, latest)}): by the rule it is overdue."]
    return []


def _when(record: PatientRecord, day: float) -> str:
    """``day N``, with its date when the record has dates."""
    date = record.day_to_date(day)
    return f"day {day:g}" if date is None else f"{date.isoformat()} (day {day:g})"


def _check_options(threshold: float, check_every: float, horizon: float, samples: int,
                   draws: int, seed: int) -> None:
    """Options in range, or an InvalidInputError naming the option, the value and the range.
    Checks at least a day apart; the horizon at least 28 days, so that it holds the depletion
    after the last dose (about 2 weeks [S63]) and "never below the threshold" means a patient
    not depleted, not a window too short to see it."""
    for name, value, lo, hi, unit, closed in (
            ("threshold", threshold, 0.0, 1e4, "cells/µL", False),
            ("check_every", check_every, 1.0, 3650.0, "days", True),
            ("horizon", horizon, 28.0, 3650.0, "days", True)):
        ok = (not isinstance(value, bool | np.bool_) and isinstance(value, numbers.Real)
              and math.isfinite(value) and (lo <= value if closed else lo < value)
              and value <= hi)
        if not ok:
            left = "[" if closed else "("
            raise InvalidInputError(f"{name} = {value!r}; give a number in {left}{lo:g}, "
                                    f"{hi:g}] {unit}")
    for name, value, lo in (("draws", draws, MIN_DRAWS), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
            raise InvalidInputError(f"{name} = {value!r}; give a whole number >= {lo}")
    if (isinstance(samples, bool) or not isinstance(samples, int | np.integer)
            or not (samples == 0 or samples >= MIN_DRAWS)):
        raise InvalidInputError(f"samples = {samples!r}; give 0 (MAP and Laplace) or a whole "
                                f"number >= {MIN_DRAWS} (MCMC draws)")
