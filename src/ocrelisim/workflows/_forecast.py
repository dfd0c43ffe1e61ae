"""The forecast workflow: patient records in, one forecast and one report per patient out.

(Named ``_forecast`` like the other workflow modules: a public submodule called ``forecast``
would shadow the function of the same name on the package once imported.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from ..reports import Report
from ..reports.forecast import forecast_report
from ._common import Progress

if TYPE_CHECKING:
    import pandas as pd

    from ..forecasting import Forecast, PatientRecord


def forecast_patients(source: str | os.PathLike[str] | pd.DataFrame | Sequence[PatientRecord],
                      *, threshold: float = 10.0, check_every: float = 28.0,
                      horizon: float = 730.0, samples: int = 0, seed: int = 0,
                      workers: int | None = None,
                      progress: Progress | None = None) -> list[Forecast]:
    """Forecasts of every patient in ``source``, in input order.

    Parameters
    ----------
    source : path, pandas.DataFrame or sequence of PatientRecord
        NONMEM-style records (file or DataFrame, one or many patients), a one-patient
        YAML/JSON record (:func:`ocrelisim.forecasting.read_records`), or records already read.
    threshold : float
        CD19+ B cells, cells/µL, that count as back (default 10).
    check_every : float
        Days between B-cell checks of the guided schedule (default 28).
    horizon : float
        Days after each patient's last dose to forecast (default 730).
    samples : int
        0: posterior mode and Laplace approximation; >= 50: that many posterior draws (emcee).
    seed : int
        Seed of the draws.
    workers : int, optional
        Parallel workers for a list of patients (default: one per core; threads, or
        processes for long lists on many cores: :func:`ocrelisim.forecasting.forecast_many`).
    progress : callable, optional
        ``progress(stage, done, total)``, in patients.

    Raises
    ------
    InvalidInputError
        Bad records (the row or field is named) or an option out of range.
    """
    from ..forecasting import forecast_many, read_records

    records = (list(source) if isinstance(source, Sequence) and not isinstance(source, str)
               else read_records(source))
    if not records:
        raise InvalidInputError("no patients in the records; give at least one patient")
    if progress is not None:
        progress("forecasting", 0, len(records))
    out = forecast_many(records, workers=workers, threshold=threshold,
                        check_every=check_every, horizon=horizon, samples=samples, seed=seed)
    if progress is not None:
        progress("forecasting", len(records), len(records))
    return out


def forecast(source: str | os.PathLike[str] | pd.DataFrame | Sequence[PatientRecord], *,
             threshold: float = 10.0, check_every: float = 28.0, horizon: float = 730.0,
             samples: int = 0, seed: int = 0, workers: int | None = None,
             progress: Progress | None = None) -> list[Report]:
    """One report per patient: the answer in plain language, the figure, the tables.

    Parameters are those of :func:`forecast_patients`. Each report (kind ``"forecast"``) has
    the figure ``forecast``, tables ``Answer``, ``Observations`` and the individual estimates,
    and data ``bands``, ``population_bands``, ``p_above``, ``observations`` (and
    ``estimates``); its first note is the answer (:func:`ocrelisim.reports.forecast.answer`).
    """
    fcs = forecast_patients(source, threshold=threshold, check_every=check_every,
                            horizon=horizon, samples=samples, seed=seed, workers=workers,
                            progress=progress)
    return [forecast_report(fc, check_every=check_every) for fc in fcs]
