"""The immune workflow: B cells, T-cell and cytokine indices, immunoglobulins for one regimen."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ..parameters import IMMUNE, ImmuneParameters
from ..population import Population
from ..regimens import Regimen
from ..reports import Report
from ..reports.immune import immune_table, plot_immune
from ..simulate import simulate
from ..units import DAYS_PER_YEAR
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
    return Report(
        title="ocrelisim immune: B cells, T cells and cytokines, immunoglobulins",
        kind="immune",
        tables={"Immune variables, median (5-95%)": table},
        figures={"immune": plot_immune(result, immune=immune,
                                       title=f"Immune effects of {label}, {disease}")},
        data={"immune-table": table},
        notes=[f"Regimen: {given}",
               f"Population: {population.n} simulated {disease} patients (seed {seed}); "
               f"{years:g} years.",
               "T-cell and cytokine indices: only directions and time points are published; "
               "the sizes of the changes and the delay are model assumptions (see Evidence)."],
        inputs={"regimen": str(given), "n": n, "disease": disease, "seed": seed,
                "years": years, **immune_inputs(immune, IMMUNE)})
