"""The demo: label IV, SC and shorter IV infusion compared on one simulated population."""

from __future__ import annotations

import numpy as np

from ..parameters import IMMUNE, ImmuneParameters
from ..population import Population
from ..regimens import PRESETS, Regimen
from ..reports import Report
from ..reports.exposure import (
    cycle_intervals,
    exposure_table,
    format_exposure_table,
    plot_concentration,
)
from ..reports.immune import plot_bcells, repletion_table
from ..results import SimulationResult
from ..simulate import simulate
from ._common import (
    Progress,
    check_days,
    covering_doses,
    immune_inputs,
    stage,
    time_grid,
)
from ._defaults import DEMO_DAYS, DEMO_REGIMENS, DEMO_SEED

FOLLOW_UP_DAYS = 200 * 7.0  # B-cell follow-up after the last dose of the demo, day


def demo(*, n: int = 1000, seed: int = DEMO_SEED, days: float = DEMO_DAYS,
         disease: str = "RMS", immune: ImmuneParameters = IMMUNE,
         progress: Progress | None = None) -> Report:
    """Compare label IV, SC and shorter-infusion IV dosing on one simulated population.

    Concentrations and exposure per dosing cycle over ``days`` (the immune model's C, equal to
    the PK model's), then B cells with dosing up to ``days`` and a follow-up of 200 weeks
    without doses (immune model).

    Parameters
    ----------
    n : int
        Simulated patients (``Population.sample(n, disease=disease, seed=seed)``).
    seed : int
        Seed of the population.
    days : float
        Dosed period, day; each preset gets the maintenance doses that start before it.
    disease : {"RMS", "PPMS"}
        Population to sample.
    immune : ImmuneParameters
        Immune-model parameters of the B-cell runs; its ``lln_b`` is the repletion threshold
        and the reference line of the B-cell figure.
    progress : callable, optional
        ``progress(stage, done, total)``, in patients over the six runs.

    Returns
    -------
    Report
        Figures ``concentration`` and ``bcells``; data ``exposure``
        (:func:`~ocrelisim.reports.exposure_table`, numeric) and ``repletion``; the same two
        tables formatted for display.

    Raises
    ------
    InvalidInputError
        A bad ``days``, ``n`` or ``disease``.
    """
    check_days(days)
    population = Population.sample(n, disease=disease, seed=seed)
    regimens = {name: Regimen.preset(name, maintenance_doses=covering_doses(days))
                for name in DEMO_REGIMENS}
    total = 2 * len(regimens) * population.n
    results: dict[str, SimulationResult] = {}
    for k, (name, regimen) in enumerate(regimens.items()):
        # The immune model's C is the PK model's, bit for bit (its PK steps do not depend on
        # the immune states, and C alone integrates none of them): the demo needs one compiled
        # kernel, which halves a newcomer's first run.
        results[name] = simulate(
            regimen, population, time_grid(days, 1.0, [d.end for d in regimen]),
            model="immune", variables=["C"],
            intervals=cycle_intervals([d.time for d in regimen], days),
            progress=stage(progress, f"simulating {name}", k * population.n, total))
    bcells, last = _bcells(regimens, population, days, immune, progress, total)
    lln = immune.lln_b.value
    table = exposure_table(results)
    repletion = repletion_table(bcells, last, lln=lln)
    return Report(
        title="ocrelisim demo: IV vs SC vs shorter IV infusion", kind="demo",
        tables={"Exposure per dosing cycle": format_exposure_table(table),
                "B-cell repletion after the last dose": repletion},
        figures={
            "concentration": plot_concentration(
                results, title=f"Ocrelizumab concentration, {population.n} {disease} patients"),
            "bcells": plot_bcells(
                bcells, lln=lln, title=f"CD19+ B cells, {population.n} {disease} patients: "
                                       f"dosing for {days:g} days, then none")},
        data={"exposure": table, "repletion": repletion},
        notes=_notes(population, seed, days, disease, regimens, lln),
        inputs={"n": n, "seed": seed, "days": days, "disease": disease,
                "regimens": {name: str(reg) for name, reg in regimens.items()},
                "follow_up_days": FOLLOW_UP_DAYS, **immune_inputs(immune, IMMUNE)})


def _bcells(regimens: dict[str, Regimen], population: Population, days: float,
            immune: ImmuneParameters, progress: Progress | None, total: int
            ) -> tuple[dict[str, SimulationResult], dict[str, float]]:
    """B cells for each demo regimen: doses up to ``days``, then follow-up without doses."""
    bcells: dict[str, SimulationResult] = {}
    last: dict[str, float] = {}
    times = np.arange(0.0, days + FOLLOW_UP_DAYS + 1.0, 1.0)
    for k, (name, regimen) in enumerate(regimens.items()):
        given = Regimen(tuple(d for d in regimen if d.time <= days))
        last[name] = max(d.time for d in given)
        offset = (len(regimens) + k) * population.n
        bcells[name] = simulate(given, population, times, model="immune", variables=["B"],
                                immune=immune,
                                progress=stage(progress, f"B cells {name}", offset, total))
    return bcells, last


def _notes(population: Population, seed: int, days: float, disease: str,
           regimens: dict[str, Regimen], lln: float) -> list[str]:
    return [
        f"Population: {population.n} simulated {disease} patients (seed {seed}); {days:g} days.",
        *(f"{name}: {PRESETS[name]}. Doses: {regimens[name]}" for name in regimens),
        "Exposure per dosing cycle (cycle k from dose k to dose k+1, the last to the end of the "
        "period): median (5th-95th percentile) across patients. AUC in mg·day/L, Cmax and "
        "trough (concentration at the cycle end) in mg/L.",
        "B cells: ocrelisim's immune model (calibrated to published depletion and repletion "
        "figures; see the parameter sources). Repletion: back to baseline or to the LLN "
        f"({lln:g} cells/uL, an assumption), whichever first, counted from the last dose, with "
        f"no dose after day {days:g}."]
