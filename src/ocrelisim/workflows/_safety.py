"""The safety workflow: infusion or injection reactions per dose and infections over years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..population import Population
from ..regimens import Regimen
from ..reports import Report
from ..reports.safety import format_infusion_table, infusion_table, plot_safety
from ..safety import INFECTIONS, Visit, sample_course_reactions, sample_infections
from ..safety.infections import rates_per_100py
from ..simulate import simulate
from ..units import DAYS_PER_YEAR
from ._common import DEMO_SEED, Progress, check_days, covering_doses, load_regimens, stage

IGG_STEP_DAYS = 7.0
"""IgG is simulated weekly for the infection model (rates are per 100 patient-years)."""


def _visits(regimen: Regimen, days: float) -> tuple[Visit, ...]:
    """The regimen's doses before ``days`` as visits, numbered per route."""
    visits: list[Visit] = []
    counts = {"IV": 0, "SC": 0}
    for dose in regimen:
        if dose.time >= days:
            continue
        route = "SC" if dose.kind == "sc" else "IV"
        counts[route] += 1
        protocol = "shorter" if dose.kind == "short" else "standard"
        try:
            visits.append(Visit(counts[route], float(dose.amount), route,  # type: ignore[arg-type]
                                protocol))  # type: ignore[arg-type]
        except InvalidInputError as exc:
            raise InvalidInputError(f"regimen dose on day {dose.time:g}: the reaction model is "
                                    f"calibrated for label doses only ({exc})") from None
    if not visits:
        raise InvalidInputError("the regimen gives no dose within the simulated period")
    return tuple(visits)


def safety(regimen: str | Regimen = "iv", *, n: int = 1000, years: float = 2.0,
           disease: str = "RMS", seed: int = DEMO_SEED,
           progress: Progress | None = None) -> Report:
    """Reactions per dose and infections per 100 patient-years for one regimen.

    Parameters
    ----------
    regimen : str or Regimen
        A preset name (``iv``, ``iv-short``, ``sc``; its maintenance doses cover ``years``),
        regimen text with label doses, or a Regimen.
    n : int
        Simulated patients.
    years : float
        Simulated period, years (365.25 days).
    disease : {"RMS", "PPMS"}
    seed : int
        Seed of the population and of the reaction and infection draws.
    progress : callable, optional
        ``progress(stage, done, total)``, in patients.

    Returns
    -------
    Report
        Tables ``Reactions per dose`` and ``Rates``; data ``infusions`` (one row per dose
        number) and ``summary`` (one row: ``patients_with_irr``, ``irr_per_100py``,
        ``serious_infections_per_100py``, ...); figure ``safety``.

    Raises
    ------
    InvalidInputError
        A bad period, size, population or regimen (or a dose the reaction model does not know).
    """
    days = years * DAYS_PER_YEAR
    check_days(days)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInputError(f"n = {n!r}; give a whole number of patients >= 1")
    if isinstance(regimen, Regimen):
        given, label = regimen, str(regimen)
    else:
        regimens, _ids, _cov = load_regimens(regimen, covering_doses(days))
        if len(regimens) != 1:
            raise InvalidInputError("the safety workflow takes one regimen (a preset or text)")
        given, label = regimens[0], regimen
    visits = _visits(given, days)
    reaction_seed, infection_seed = np.random.SeedSequence(seed).spawn(2)
    reactions = sample_course_reactions(visits, n, np.random.default_rng(reaction_seed))
    population = Population.sample(n, disease=disease, seed=seed)
    times = np.unique(np.r_[np.arange(0.0, days, IGG_STEP_DAYS), days])
    result = simulate(given, population, times, model="immune", variables=["IgG"],
                      progress=stage(progress, "simulating IgG", 0, population.n))
    igg = np.asarray(result.outputs["IgG"])
    events = sample_infections(times, igg, disease, np.random.default_rng(infection_seed))
    rates = rates_per_100py(events, times, igg)
    per_dose = infusion_table(reactions)
    summary = _summary(reactions, rates, n, years)
    return Report(
        title="ocrelisim safety: reactions per dose and infections",
        kind="safety",
        tables={"Reactions per dose": format_infusion_table(per_dose),
                "Rates": summary.T.reset_index().set_axis(["Quantity", "Value"], axis=1)},
        figures={"safety": plot_safety(per_dose, events.loc[events["serious"], "day"].to_numpy(),
                                       n, days, f"Safety of {label}, {disease}")},
        data={"infusions": per_dose, "summary": summary},
        notes=[f"Regimen: {given}",
               f"Population: {n} simulated {disease} patients (seed {seed}); {years:g} years.",
               "Reactions: calibrated to the OPERA and ORATORIO shares of patients with an IRR, "
               "the all-exposure IRR rate and ENSEMBLE PLUS; SC to OCARINA I. Infections: "
               "serious infections by MS type, higher while IgG (immune model) is below "
               f"{INFECTIONS.igg_lln.value:g} g/L. See ocrelisim.safety for sources and "
               "assumptions."],
        inputs={"regimen": str(given), "n": n, "disease": disease, "seed": seed,
                "years": years})


def _summary(reactions: pd.DataFrame, rates: dict[str, float], n: int,
             years: float) -> pd.DataFrame:
    """One row: shares of patients with reactions, IRR and infection rates per 100 PY."""
    by_patient = reactions.groupby("patient")
    row = {
        "patients_with_irr": float(by_patient["irr"].any().mean()),
        "patients_with_serious_irr": float(by_patient["serious"].any().mean()),
        "irr_per_100py": float(reactions["irr"].sum()) / (n * years) * 100.0,
        "serious_infections_per_100py": rates["serious_per_100py"],
        "non_serious_infections_per_100py": rates["non_serious_per_100py"],
        "share_py_igg_below_lln": rates["share_py_below_lln"],
    }
    return pd.DataFrame([row])
