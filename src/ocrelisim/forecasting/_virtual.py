"""Virtual patients for simulate-and-recover checks of the forecasts (tests, benchmarks).

Patients are drawn from the population model (``Population.sample``: covariates, PK and immune
random effects), given one of a few label-like regimens, and simulated with ``simulate`` (the
public path, not the forecasting code). Each gets 1-3 CD19 samples 3-9 months (91-274 days)
after the last dose, with noise from the residual model ([S28] combined proportional and
additive error) and censoring below an LLOQ (``DV`` left empty, ``CENSORED`` true). The truth
is each patient's return day on the noise-free trajectory, by the forecasts' definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._types import Float1D, Float2D
from ..population import Population
from ..regimens import Regimen
from ..simulate import simulate
from ._forecast import last_dose_day, return_days
from ._problem import SIGMA_B_ADD, SIGMA_B_PROP, eta_spec
from ._types import DVID_BCELL, Forecast, PatientRecord

REGIMENS = (
    "300 mg IV d0, d14",
    "300 mg IV d0, d14; 600 mg IV d168",
    "300 mg IV d0, d14; 600 mg IV q24w x2 from d168",
)
"""Label-like histories [S3]: the split starting dose, then one or two 600 mg doses."""
SAMPLE_WINDOW = (91.0, 274.0)
"""CD19 samples fall 3-9 months after the last dose, days (issue 15 item 4)."""
LLOQ = 1.0
"""CD19 LLOQ of the virtual assay, cells/µL: an assumption (the routine assay's LLOQ is not
found, facts §2.4); high-sensitivity assays reach 0.4 [S52]."""


@dataclass(frozen=True)
class VirtualPatients:
    """Records, true standard-normal random effects (n, n_eta) in ``eta_spec`` order, and the
    true return days (+inf: not returned by the horizon)."""

    records: list[PatientRecord]
    true_z: Float2D
    true_return: Float1D
    names: tuple[str, ...]


def virtual_patients(n: int, seed: int, *, threshold: float = 10.0, horizon: float = 730.0,
                     lloq: float = LLOQ) -> VirtualPatients:
    """``n`` virtual patients (see the module docstring), reproducible for a seed."""
    pop = Population.sample(n, "RMS", seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 15]))
    regs = [Regimen.parse(REGIMENS[i]) for i in rng.integers(len(REGIMENS), size=n)]
    last = np.array([last_dose_day(r) for r in regs])
    grid = np.arange(0.0, float(last.max()) + horizon + 1.0)
    b = simulate(regs, pop, grid, model="immune", variables=["B"])["B"]
    records, truth = [], np.empty(n)
    for i in range(n):
        after = (grid > last[i]) & (grid <= last[i] + horizon)
        truth[i] = return_days(grid[after], b[i:i + 1, after], threshold, last[i])[0]
        k = int(rng.integers(1, 4))
        days = np.unique(np.round(rng.uniform(*SAMPLE_WINDOW, size=k) + last[i]))
        f = b[i, days.astype(np.int64)]
        y = f * (1.0 + SIGMA_B_PROP.value * rng.standard_normal(f.size)) \
            + SIGMA_B_ADD.value * rng.standard_normal(f.size)
        cens = y < lloq
        obs = pd.DataFrame({"TIME": days, "DVID": DVID_BCELL, "DV": np.where(cens, np.nan, y),
                            "LLOQ": lloq, "CENSORED": cens})
        cov = pop.covariates.iloc[i]
        records.append(PatientRecord(str(i + 1), regs[i], obs,
                                     {"WT": float(cov["WT"]), "AGE": float(cov["AGE"])}))
    return VirtualPatients(records, _true_z(pop, regs[0]), truth, eta_spec(regs[0]).names)


def _true_z(pop: Population, regimen: Regimen) -> Float2D:
    """The population's random effects on the standard-normal scale, in ``eta_spec`` order."""
    spec = eta_spec(regimen)
    typical = np.vstack([Population.typical(float(w)).params[0] for w in pop.covariates["WT"]])
    cols = list(spec.pk_columns)
    z_pk = np.log(pop.params[:, cols] / typical[:, cols]) / np.array(spec.pk_omegas)
    eta = (pop.etas or {})["immune"]
    assert eta is not None
    return np.hstack([z_pk, eta[:, list(spec.immune_columns)]])


def recovery_summary(vp: VirtualPatients, forecasts: list[Forecast]) -> dict[str, float]:
    """Coverage of the 90% interval of the return day (and the shares of truths below and
    above it, 5% each when calibrated), the share of truths below the median (50%), bias and
    mean absolute error of the median (days; forecast − truth, over patients whose truth is
    within the horizon; a median not reached counts as the horizon's last day) and the median
    interval width, individual and population-only."""
    out: dict[str, float] = {"n": float(len(forecasts))}
    truth = vp.true_return
    finite = np.isfinite(truth)
    end = np.array([last_dose_day(f.record.regimen) + f.horizon_days for f in forecasts])
    for key, attr in (("ind", "return_day"), ("pop", "population_return_day")):
        rd = [getattr(f, attr) for f in forecasts]
        lo = np.array([np.inf if r.lo90 is None else r.lo90 for r in rd])
        hi = np.array([np.inf if r.hi90 is None else r.hi90 for r in rd])
        med = np.array([e if r.median is None else r.median for r, e in zip(rd, end,
                                                                              strict=True)])
        err = (med - truth)[finite]
        out[f"coverage_{key}"] = float(np.mean((lo <= truth) & (truth <= hi)))
        out[f"below_lo_{key}"] = float(np.mean(truth < lo))
        out[f"above_hi_{key}"] = float(np.mean(truth > hi))
        out[f"below_median_{key}"] = float(np.mean(truth < med))
        out[f"bias_{key}"] = float(err.mean())
        out[f"mae_{key}"] = float(np.abs(err).mean())
        out[f"width_{key}"] = float(np.median(hi - lo))
    return out
