"""The JSON API under ``/api``: one endpoint per page's computation (OpenAPI at ``/docs``).

Endpoints are plain (synchronous) functions, run by the server's thread pool; the ones that
reach the compiled engine hold :data:`._compute.ENGINE_LOCK` (see :mod:`._compute`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from ..._meta import DISCLAIMER
from . import _compute as c
from . import _forecast

router = APIRouter(prefix="/api", tags=["api"])


class ExposureDownloadIn(c.ExposureIn):
    """An exposure request and what to download."""

    what: Literal["exposure", "concentration"] = Field(
        "exposure", description="exposure: the per-cycle table; concentration: ID, TIME, C.")
    format: Literal["csv", "parquet"] = "csv"


@router.get("/presets")
def presets() -> dict[str, Any]:
    """Regimen and trial presets, and the per-request caps."""
    from ...regimens import PRESETS

    return {"regimens": dict(PRESETS), "trials": list(c.TRIAL_PRESETS),
            "caps": {"patients": c.MAX_PATIENTS, "exposure_days": c.MAX_EXPOSURE_DAYS,
                     "explainer_years": c.MAX_YEARS, "replicates": c.MAX_REPLICATES,
                     "trial_bank": c.MAX_BANK, "chairs": c.MAX_CHAIRS,
                     "clinic_days": c.MAX_CLINIC_DAYS,
                     "patients_per_day": c.MAX_PATIENTS_PER_DAY},
            "disclaimer": DISCLAIMER}


@router.post("/explainer")
def explainer(body: c.ExplainerIn) -> dict[str, Any]:
    """A typical patient on 1-3 regimens: concentration, B cells, T-cell indices, IgG (daily),
    what is measured and what is modelled, the infusion day, warning signs in plain words."""
    return c.explainer(body)


@router.post("/exposure")
def exposure(body: c.ExposureIn) -> dict[str, Any]:
    """Exposure per dosing cycle (AUC, Cmax, trough: median and percentiles) and
    concentration bands for a sampled population (at most 500 patients)."""
    out, _figure = c.exposure(body)
    return out


@router.post("/exposure/download", response_class=Response,
             responses={200: {"content": {"text/csv": {},
                                          "application/vnd.apache.parquet": {}}}})
def exposure_download(body: ExposureDownloadIn) -> Response:
    """The exposure table or the concentrations as CSV or parquet."""
    inp = c.ExposureIn.model_validate(body.model_dump(exclude={"what", "format"}))
    content, media, name = c.exposure_download(inp, body.what, body.format)
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/check")
def check(body: c.CheckIn) -> dict[str, Any]:
    """The pre-dose check of one patient record: decision, cards, guidance, sources."""
    return c.check(body)


@router.post("/plan/patient")
def plan_patient(body: c.PlanIn) -> dict[str, Any]:
    """A patient's calendar by the label's rules (doses, tests, windows, switching)."""
    return c.plan(body)


@router.post("/plan/patient.ics", response_class=Response,
             responses={200: {"content": {"text/calendar": {}}}})
def plan_patient_ics(body: c.PlanIn) -> Response:
    """The calendar as an iCalendar file."""
    return Response(c.plan_ics(body), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ocrelizumab.ics"'})


@router.post("/plan/day")
def plan_day(body: c.DayIn) -> dict[str, Any]:
    """The infusion day minute by minute (rate steps, premedication, observation)."""
    return c.day(body)


@router.post("/plan/clinic")
def plan_clinic(body: c.ClinicIn) -> dict[str, Any]:
    """First-come against an optimised appointment book, both simulated (small caps)."""
    out, _figure = c.clinic(body)
    return out


@router.post("/trials")
def trials(body: c.TrialIn) -> dict[str, Any]:
    """A few replicates of a trial preset: estimates against the published ones."""
    out, _report = c.trial(body)
    return out


@router.post("/forecast")
def forecast(body: _forecast.ForecastIn) -> dict[str, Any]:
    """B-cell return and next dose for up to 10 patients from their records (NONMEM-style CSV
    or a YAML/JSON record as text): per patient issue 15's object (return_day, next_dose_day,
    label_next_dose_day, p_return_by_horizon, ... and dates) and the answer in words."""
    out, _fcs = _forecast.forecast(body)
    return out
