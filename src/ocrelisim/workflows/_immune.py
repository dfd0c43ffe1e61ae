"""The immune workflow: B cells, T-cell and cytokine indices, immunoglobulins for one regimen."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ..parameters import IMMUNE, ImmuneParameters
from ..population import Population
from ..regimens import Regimen
from ..reports import Report
from ..reports.immune import immune_table, plot_immune, plot_return, return_tables
from ..simulate import simulate
from ..units import DAYS_PER_WEEK, DAYS_PER_YEAR
from ._common import (
    Progress,
    check_days,
    covering_doses,
    immune_inputs,
    load_regimens,
    stage,
)
from ._defaults import DEMO_SEED

TABLE_DAYS = (14.0, 182.0, 365.0)
"""Days of the immune table (two weeks, six months, one year), then the end of the period."""
RETURN_WEEKS = 200.0
"""Follow-up after the last dose of the stopping scenario (weeks; the label's range of times to
repletion ends at 175 weeks [S59])."""


def immune(regimen: str | Regimen = "iv", *, n: int = 500, disease: str = "RMS",
           seed: int = DEMO_SEED, years: float = 6.0, immune: ImmuneParameters = IMMUNE,
           progress: Progress | None = None) -> Report:
    """Immune effects of one regimen on a simulated population, on their three timescales.

    Parameters
    ----------
    regimen : str or Regimen
        A preset name (its maintenance doses cover ``years``), regimen text, or a Regimen.
    n : int
        Simulated patients.
    disease : {"RMS", "PPMS"}
        Population to sample.
    seed : int
        Seed of the population.
    years : float
        Simulated period, years (365.25 days).
    immune : ImmuneParameters
        Immune-model parameters of the run (and the lower limits of normal drawn).
    progress : callable, optional
        ``progress(stage, done, total)``, in patients.

    Returns
    -------
    Report
        Figure ``immune`` (weeks, months, years panels); data ``immune-table``: median
        (5-95%) of every immune output at days 14, 182, 365 and the end, with the evidence.
        Figure and data ``bcell-return``: the same patients given the regimen's doses of the
        first year, then none: shares above 10, 20, 40, 80 cells/µL at 3-24 months after the
        last dose, and tables of those shares and of the weeks to repletion.

    Raises
    ------
    InvalidInputError
        A bad period, population or regimen, or a dosing file with several subjects.
    """
    days = years * DAYS_PER_YEAR
    check_days(days)
    if isinstance(regimen, Regimen):
        given, label = regimen, str(regimen)
    else:
        regimens, _ids, _cov = load_regimens(regimen, covering_doses(days))
        if len(regimens) != 1:
            raise InvalidInputError(
                "the immune workflow takes one regimen (a preset or text form); use "
                "ocrelisim.simulate(..., model='immune') for per-subject dosing records")
        given, label = regimens[0], regimen
    population = Population.sample(n, disease=disease, seed=seed)
    times = np.unique(np.r_[np.arange(0.0, min(days, 365.0) + 1.0),
                            np.arange(365.0, days, 7.0), days])
    result = simulate(given, population, times, model="immune", immune=immune,
                      progress=stage(progress, "simulating immune model", 0, population.n))
    table = immune_table(result, [*TABLE_DAYS, days])
    # B-cell return: the same patients given the regimen's doses of the first year, then none.
    first_year = Regimen(tuple(d for d in given.doses if d.time < DAYS_PER_YEAR))
    last = max(d.time for d in first_year.doses)
    stop_t = np.arange(0.0, last + RETURN_WEEKS * DAYS_PER_WEEK + 1.0)
    stopped = simulate(first_year, population, stop_t, model="immune", immune=immune,
                       variables=["B"],
                       progress=stage(progress, "simulating B-cell return", 0, population.n))
    back = return_tables(stopped, last, lln=immune.lln_b.value)
    return Report(
        title="ocrelisim immune: B cells, T cells and cytokines, immunoglobulins",
        kind="immune",
        tables={"Immune variables, median (5-95%)": table,
                "B-cell return after stopping: patients above each count (%)": back["shares"],
                "B-cell return after stopping: weeks to repletion": back["repletion"]},
        figures={"immune": plot_immune(result, immune=immune,
                                       title=f"Immune effects of {label}, {disease}"),
                 "bcell-return": plot_return(
                     stopped, last, lln=immune.lln_b.value,
                     title=f"B-cell return after stopping ({first_year}), {disease}")},
        data={"immune-table": table, "bcell-return": back["shares"]},
        notes=[f"Regimen: {given}",
               f"Population: {population.n} simulated {disease} patients (seed {seed}); "
               f"{years:g} years.",
               "T-cell and cytokine indices: only directions and time points are published; "
               "the sizes of the changes and the delay are model assumptions (see Evidence).",
               f"B-cell return: the same patients given the regimen's first-year doses "
               f"({first_year}), then none, followed {RETURN_WEEKS:g} weeks after the last "
               f"dose (day {last:g}); {100 * back['repletion'].attrs['not_repleted']:.1f}% not "
               "repleted by then. Repletion: back to baseline or the LLN, whichever first "
               "[S59]. The maturation delay (mtt_b) is an assumption; the published shares "
               "at fixed months [B1] are predictions, not fitted."],
        inputs={"regimen": str(given), "n": n, "disease": disease, "seed": seed,
                "years": years, **immune_inputs(immune, IMMUNE)})
