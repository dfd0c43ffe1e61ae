"""Infections on ocrelizumab, rising while serum IgG is below the lower limit of normal.

Serious infections (SI) follow a Poisson process whose rate per 100 patient-years is the
disease-type rate (RMS 1.50, progressive MS 3.70 overall [S75], stable over years) split by IgG:
2.63 times higher while IgG < LLN (5.68 vs 2.16 per 100 PY [S74]; LLN 5.65 g/L [S22]).
Non-serious infections run at 74.2 per 100 PY (all infections 76.2 minus serious 2.01 [S20]).
The IgG trajectories come from the immune model (``simulate(..., model="immune")``, output
``IgG`` in g/L) or any other source, on a time grid in days. For research and education only;
not clinical advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .._types import Float1D, Float2D, RngLike, as_generator
from ..errors import InvalidInputError
from ..units import DAYS_PER_YEAR
from .parameters import INFECTIONS, InfectionParameters

if TYPE_CHECKING:  # pandas loads when infections are drawn (the CLI's help stays light)
    import pandas as pd

DISEASES = ("RMS", "PPMS")
EVENT_COLUMNS = ("patient", "day", "serious", "igg_below_lln")
"""Columns of :func:`sample_infections`' table."""


def _grid(times: npt.ArrayLike, igg: npt.ArrayLike) -> tuple[Float1D, Float2D]:
    t = np.asarray(times, dtype=np.float64)
    g = np.asarray(igg, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InvalidInputError("times: give at least 2 finite, increasing days")
    if g.ndim != 2 or g.shape[1] != t.size:
        raise InvalidInputError(f"igg: expected shape (n_patients, {t.size}) (patients first, "
                                f"one column per time), got {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise InvalidInputError("igg: IgG must be finite and >= 0 g/L")
    return t, g


def _disease(disease: str | Sequence[str], n: int) -> npt.NDArray[np.bool_]:
    """True where the patient has progressive MS."""
    values = [disease] * n if isinstance(disease, str) else list(disease)
    if len(values) != n:
        raise InvalidInputError(f"disease: expected one value or {n}, got {len(values)}")
    bad = sorted({str(v) for v in values} - set(DISEASES))
    if bad:
        raise InvalidInputError(f"disease = {bad}; use RMS or PPMS")
    return np.array([v == "PPMS" for v in values])


def serious_rate(igg: Float2D, disease: str | Sequence[str],
                 params: InfectionParameters = INFECTIONS) -> Float2D:
    """Serious-infection rate per 100 patient-years at each (patient, time), same shape as igg."""
    g = np.asarray(igg, dtype=np.float64)
    ppms = _disease(disease, g.shape[0])
    base = np.where(ppms, params.si_rate_ppms.value, params.si_rate_rms.value)[:, None]
    return base * np.where(g < params.igg_lln.value, params.si_rr_low_igg.value, 1.0)


def sample_infections(times: npt.ArrayLike, igg: npt.ArrayLike,
                      disease: str | Sequence[str] = "RMS", rng: RngLike = None, *,
                      params: InfectionParameters = INFECTIONS) -> pd.DataFrame:
    """Serious and non-serious infections over a follow-up, one row per infection.

    Parameters
    ----------
    times : array, shape (n_times,)
        Increasing days; IgG is held constant over each interval from its left end.
    igg : array, shape (n_patients, n_times)
        Serum IgG, g/L (e.g. the immune model's ``IgG`` output).
    disease : {"RMS", "PPMS"} or sequence of them, one per patient
    rng : numpy.random.Generator, int or None
    params : InfectionParameters

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``day`` (float, within the interval of the event), ``serious``
        (bool), ``igg_below_lln`` (bool, at the event), sorted by patient and day.

    Raises
    ------
    InvalidInputError
        Bad grid, shapes, IgG values or disease.
    """
    import pandas as pd

    t, g = _grid(times, igg)
    gen = as_generator(rng)
    dt_years = np.diff(t) / DAYS_PER_YEAR
    g_left = g[:, :-1]
    si = serious_rate(g_left, disease, params) / 100.0 * dt_years
    nsi = np.broadcast_to(params.nsi_rate.value / 100.0 * dt_years, g_left.shape)
    tables = []
    for serious, mean in ((True, si), (False, nsi)):
        counts = gen.poisson(mean)
        patient, interval = np.nonzero(counts)
        reps = counts[patient, interval]
        patient, interval = np.repeat(patient, reps), np.repeat(interval, reps)
        day = t[interval] + gen.random(interval.size) * (t[interval + 1] - t[interval])
        tables.append(pd.DataFrame({
            "patient": patient, "day": day, "serious": serious,
            "igg_below_lln": g_left[patient, interval] < params.igg_lln.value}))
    events = pd.concat(tables, ignore_index=True)
    return events.sort_values(["patient", "day"], ignore_index=True)[list(EVENT_COLUMNS)]


def rates_per_100py(events: pd.DataFrame, times: npt.ArrayLike, igg: npt.ArrayLike,
                    params: InfectionParameters = INFECTIONS) -> dict[str, float]:
    """Observed rates per 100 patient-years: serious, non-serious, and serious split by IgG.

    Person-time below the LLN is counted on the same grid as the sampling.
    """
    t, g = _grid(times, igg)
    dt_years = np.diff(t) / DAYS_PER_YEAR
    low = g[:, :-1] < params.igg_lln.value
    py_low = float((low * dt_years).sum())
    py_all = float(dt_years.sum() * g.shape[0])
    serious = events["serious"].to_numpy(dtype=bool)
    below = events["igg_below_lln"].to_numpy(dtype=bool)

    def per100(count: int, py: float) -> float:
        return 100.0 * count / py if py > 0 else float("nan")

    return {
        "patient_years": py_all,
        "share_py_below_lln": py_low / py_all,
        "serious_per_100py": per100(int(serious.sum()), py_all),
        "non_serious_per_100py": per100(int((~serious).sum()), py_all),
        "serious_below_lln_per_100py": per100(int((serious & below).sum()), py_low),
        "serious_at_or_above_lln_per_100py": per100(int((serious & ~below).sum()),
                                                     py_all - py_low),
    }
