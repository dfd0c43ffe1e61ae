"""Data contract of the forecasting package: one patient's record in, one forecast out.

``PatientRecord`` is built by :mod:`ocrelisim.forecasting._records` (NONMEM-style rows or a
YAML/JSON record); ``Forecast`` is returned by :func:`ocrelisim.forecasting.forecast`. Times are
days since the patient's first dose, concentrations mg/L, CD19+ B cells cells/µL.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..regimens import Regimen

DVID_CONC = 1
"""DVID of a drug concentration (mg/L)."""
DVID_BCELL = 2
"""DVID of a CD19+ B-cell count (cells/µL)."""

OBSERVATION_COLUMNS = ("TIME", "DVID", "DV", "LLOQ", "CENSORED")
BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_COLUMNS = ("time", "output", "q05", "q25", "q50", "q75", "q95")

METHODS = ("map+laplace", "mcmc", "population")


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """One patient's doses, observations and covariates.

    Attributes
    ----------
    id : str
        Patient identifier (``ID`` column).
    regimen : Regimen
        All doses given, times in days since the first dose (the first dose is at day 0).
    observations : pandas.DataFrame
        Columns ``TIME`` (day, float), ``DVID`` (int: 1 concentration mg/L, 2 CD19+ B cells
        cells/µL), ``DV`` (float; NaN allowed when censored), ``LLOQ`` (float or NaN),
        ``CENSORED`` (bool: DV below its LLOQ or empty with an LLOQ), sorted by TIME. May be
        empty (a population forecast).
    covariates : dict[str, float]
        ``WT`` (kg) and ``AGE`` (years) when given.
    first_dose_date : datetime.date or None
        Calendar date of day 0 when the input had dates.
    """

    id: str
    regimen: Regimen
    observations: pd.DataFrame
    covariates: dict[str, float] = field(default_factory=dict)
    first_dose_date: dt.date | None = None

    def day_to_date(self, day: float | None) -> dt.date | None:
        """Calendar date of a day since the first dose (floor), None without dates or day."""
        if day is None or self.first_dose_date is None or not math.isfinite(day):
            return None
        return self.first_dose_date + dt.timedelta(days=math.floor(day))


@dataclass(frozen=True, slots=True)
class ReturnDay:
    """Distribution of the B-cell return day (days since the first dose).

    ``median``, ``lo90``, ``hi90``: the 50%, 5% and 95% quantiles of the first day after the last
    dose with CD19 at or above the threshold; a quantile is None when the return by the horizon is
    less likely than that quantile (``median`` is None when return within the horizon is less
    likely than not).
    """

    median: float | None
    lo90: float | None
    hi90: float | None

    def to_dict(self, record: PatientRecord | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"median": self.median, "lo90": self.lo90, "hi90": self.hi90}
        if record is not None and record.first_dose_date is not None:
            for key in ("median", "lo90", "hi90"):
                date = record.day_to_date(out[key])
                out[f"{key}_date"] = None if date is None else date.isoformat()
        return out


@dataclass(frozen=True)
class Forecast:
    """One patient's forecast (:func:`ocrelisim.forecasting.forecast`).

    Attributes
    ----------
    id : str
        Patient identifier.
    threshold : float
        CD19+ B-cell threshold, cells/µL.
    horizon_days : float
        Forecast horizon after the last dose, days.
    return_day : ReturnDay
        Individual (posterior) return day, days since the first dose.
    population_return_day : ReturnDay
        The same from the population prior alone (covariates applied, no observations).
    next_dose_day : float or None
        Recommended next dose day under the B-cell-guided rule (days since the first dose);
        None when no check within the horizon reaches the rule's probability.
    label_next_dose_day : float
        Label next dose day: the start of the last course + 6 months (6 calendar months
        when the record has dates, else 182.6 days) [S3].
    p_return_by_horizon : float
        Posterior probability of CD19 >= threshold by the horizon.
    p_above : pandas.DataFrame
        Columns ``day`` (days since the first dose), ``p``: P(return by that day), cumulative.
    bands : pandas.DataFrame
        Columns ``time`` (day), ``output`` ("C" mg/L, "B" cells/µL), ``q05 q25 q50 q75 q95``.
    population_bands : pandas.DataFrame
        The same from the population prior.
    estimates : pandas.DataFrame
        Columns ``param`` (eta name), ``map`` (posterior mode), ``sd`` (posterior SD); empty for
        a population forecast.
    method : str
        "map+laplace", "mcmc" or "population" (no observations).
    n_obs : int
        Number of observations used (censored included).
    messages : list[str]
        Plain-language notes (population forecast, censoring, convergence).
    record : PatientRecord
        The input record.
    draws : numpy.ndarray or None
        Posterior draws of the estimated random effects (n_draws, n_eta), standard-normal
        scale, columns ``estimates["param"]`` (population draws for a population forecast);
        used by :func:`ocrelisim.forecasting.what_if`.
    """

    id: str
    threshold: float
    horizon_days: float
    return_day: ReturnDay
    population_return_day: ReturnDay
    next_dose_day: float | None
    label_next_dose_day: float
    p_return_by_horizon: float
    p_above: pd.DataFrame
    bands: pd.DataFrame
    population_bands: pd.DataFrame
    estimates: pd.DataFrame
    method: str
    n_obs: int
    messages: list[str]
    record: PatientRecord
    draws: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of issue 15 item 6 (plain Python types; dates as ISO strings).

        Keys: ``id``, ``return_day`` {median, lo90, hi90}, ``population_return_day``,
        ``next_dose_day``, ``label_next_dose_day``, ``p_return_by_horizon``, ``threshold``,
        ``horizon_days``, ``method``, ``n_obs``, ``messages``; with ``first_dose_date`` set also
        ``next_dose_date``, ``label_next_dose_date`` and ``*_date`` inside the return days.
        """
        rec = self.record
        out: dict[str, Any] = {
            "id": self.id,
            "threshold": float(self.threshold),
            "horizon_days": float(self.horizon_days),
            "return_day": self.return_day.to_dict(rec),
            "population_return_day": self.population_return_day.to_dict(rec),
            "next_dose_day": self.next_dose_day,
            "label_next_dose_day": float(self.label_next_dose_day),
            "p_return_by_horizon": float(self.p_return_by_horizon),
            "method": self.method,
            "n_obs": int(self.n_obs),
            "messages": list(self.messages),
        }
        if rec.first_dose_date is not None:
            out["first_dose_date"] = rec.first_dose_date.isoformat()
            for key in ("next_dose", "label_next_dose"):
                date = rec.day_to_date(out[f"{key}_day"])
                out[f"{key}_date"] = None if date is None else date.isoformat()
        return out
