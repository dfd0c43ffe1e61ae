"""A Forecast built from the dataclass (no estimation), for report, CLI and web layout tests.

The numbers are made up to have a known shape (a log-linear B-cell recovery after the last
dose), not model output: tests of the layers that only show a forecast use it, so they need no
engine.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ocrelisim.forecasting import Forecast, PatientRecord, ReturnDay
from ocrelisim.regimens import IVInfusion, Regimen

LAST_DOSE = 168.0
THRESHOLD = 10.0


def _bands(scale: float, shift: float) -> pd.DataFrame:
    t = np.arange(0.0, LAST_DOSE + 731.0, 7.0)
    since = np.clip(t - LAST_DOSE - 150.0 - shift, 0.0, None)
    b50 = np.where(t < 7, 200.0, 0.3 * np.exp(since / 60.0 * scale))
    b50 = np.minimum(b50, 200.0)
    c50 = 150.0 * np.exp(-np.mod(t, LAST_DOSE if t.size else 1) / 40.0) + 1.0
    rows = []
    for output, mid in (("B", b50), ("C", c50)):
        rows.append(pd.DataFrame({"time": t, "output": output, "q05": mid / 4, "q25": mid / 2,
                                  "q50": mid, "q75": mid * 2, "q95": mid * 4}))
    return pd.concat(rows, ignore_index=True)


def make_forecast(*, dated: bool = True, conc: bool = False, method: str = "map+laplace",
                  returns: bool = True, pid: str = "P1") -> Forecast:
    """A forecast of a patient on the label IV start (day 0, 14) and one 600 mg dose (day 168),
    with two CD19 values (one censored) and optionally a concentration."""
    regimen = Regimen((IVInfusion.label(0, 300), IVInfusion.label(14, 300),
                       IVInfusion.label(LAST_DOSE, 600)))
    rows = [(LAST_DOSE + 120, 2, 0.2, 1.0, True), (LAST_DOSE + 240, 2, 3.5, 1.0, False)]
    if conc:
        rows.append((LAST_DOSE + 120, 1, 4.2, np.nan, False))
    obs = pd.DataFrame(rows, columns=["TIME", "DVID", "DV", "LLOQ", "CENSORED"])
    obs = obs.sort_values("TIME", kind="stable").reset_index(drop=True)
    if method == "population":
        obs = obs.iloc[:0]
    record = PatientRecord(pid, regimen, obs, {"WT": 72.0},
                           dt.date(2024, 1, 8) if dated else None)
    days = np.arange(LAST_DOSE, LAST_DOSE + 731.0, 7.0)
    p = np.clip((days - (LAST_DOSE + 300)) / 300.0, 0.0, 0.97 if returns else 0.3)
    if returns:
        rd = ReturnDay(LAST_DOSE + 450.0, LAST_DOSE + 330.0, LAST_DOSE + 620.0)
        next_day: float | None = LAST_DOSE + 476.0
    else:
        rd, next_day = ReturnDay(None, LAST_DOSE + 500.0, None), None
    estimates = (pd.DataFrame({"param": ["B0", "KOUT"], "map": [0.1, -0.3], "sd": [0.5, 0.6]})
                 if method != "population" else pd.DataFrame(columns=["param", "map", "sd"]))
    return Forecast(
        id=pid, threshold=THRESHOLD, horizon_days=730.0, return_day=rd,
        population_return_day=ReturnDay(LAST_DOSE + 480.0, LAST_DOSE + 250.0,
                                        LAST_DOSE + 900.0 if returns else None),
        next_dose_day=next_day, label_next_dose_day=LAST_DOSE + 168.0,
        p_return_by_horizon=float(p[-1]),
        p_above=pd.DataFrame({"day": days, "p": p}),
        bands=_bands(1.0, 0.0), population_bands=_bands(0.8, 20.0), estimates=estimates,
        method=method, n_obs=len(obs),
        messages=(["No observations: population prediction."] if method == "population"
                  else []),
        record=record)
