"""Forecasting on the web (issue 15): the page's and the API's computation, its Plotly figures,
and ``POST /fhir/forecast`` (a FHIR Bundle in, a Bundle with a RiskAssessment out).

Records arrive as text (NONMEM-style CSV, or one patient's YAML/JSON record: the formats of
:mod:`ocrelisim.forecasting._records`) and are read by the same functions as the command line,
so a bad row gets the same message naming it. At most :data:`MAX_PATIENTS` patients per
request; posterior sampling (``--samples``) is left to the command line. Nothing is stored or
logged.

FHIR codes read (besides those of :mod:`._fhir`): CD19+ B cells LOINC 8116-2 (valueQuantity in
/uL, {cells}/uL, cells/uL, 10*6/L or /mm3; ``comparator "<"``: below that limit, censored);
body weight LOINC 29463-7; the ocrelizumab concentration ``urn:ocrelisim:forecast``
``ocrelizumab-concentration`` (mg/L or ug/mL; no LOINC code for it was found); doses as
MedicationAdministration of ocrelizumab (IV duration from ``effectivePeriod`` start and end
when both carry a time, else the label infusion).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ..._meta import DISCLAIMER
from ...errors import InvalidInputError
from ...units import HOURS_PER_DAY
from . import _fhir
from ._compute import _STRICT, ENGINE_LOCK, Seed, frame_records
from ._plots import COLORS, _axes, _rgba

if TYPE_CHECKING:
    from ...forecasting import Forecast, PatientRecord

MAX_PATIENTS = 10
"""Patients per request (the command line has no such limit)."""
MAX_RECORD_CHARS = 200_000
"""Characters of pasted or uploaded records."""
FORECAST_SYSTEM = "urn:ocrelisim:forecast"
"""Our code system for what has no standard code (the ocrelizumab concentration)."""
CONC_CODE = "ocrelizumab-concentration"
_CD19_UNITS = {"/ul": "cells/µL", "{cells}/ul": "cells/µL", "cells/ul": "cells/µL",
               "10*6/l": "cells/µL", "/mm3": "cells/µL", "%": "%"}
_CONC_UNITS = {"mg/l": "mg/L", "ug/ml": "mg/L", "µg/ml": "mg/L"}


class ForecastIn(BaseModel):
    """Records of up to 10 patients and the forecast's options."""

    model_config = _STRICT
    records: str = Field(..., min_length=1, max_length=MAX_RECORD_CHARS, description=(
        "NONMEM-style CSV (ID, TIME or DATE, EVID, AMT, CMT, RATE or DUR, DV, DVID, LLOQ, WT, "
        "AGE) or one patient's YAML/JSON record (id, weight_kg, age_y, doses, observations)."))
    format: Literal["auto", "csv", "yaml", "json"] = Field(
        "auto", description="auto: JSON if it starts with '{' or '[', CSV if the first line "
                            "has commas, else YAML.")
    threshold: float = Field(10.0, gt=0.0, le=1e4,
                             description="CD19+ B cells, cells/µL, that count as back.")
    check_every_days: float = Field(28.0, gt=0.0, le=365.0,
                                    description="Days between B-cell checks (guided rule).")
    horizon_days: float = Field(730.0, gt=0.0, le=3650.0,
                                description="Days after the last dose to forecast.")
    seed: Seed = 0


def parse_records(text: str, fmt: str = "auto") -> list[PatientRecord]:
    """Patient records from pasted text (CSV rows, or a YAML/JSON record or list of them)."""
    import pandas as pd
    import yaml

    from ...forecasting._records import record_from_dict, records_from_frame

    body = text.strip()
    if fmt == "auto":
        first = body.splitlines()[0] if body else ""
        fmt = "json" if body[:1] in "{[" else "csv" if "," in first and ":" not in first \
            else "yaml"
    if fmt == "csv":
        try:
            frame = pd.read_csv(io.StringIO(body), float_precision="round_trip")
        except (ValueError, pd.errors.ParserError) as exc:
            why = " ".join(str(exc).split())[:200]
            raise InvalidInputError(f"records: not readable as CSV ({why}); give a header row "
                                    f"and one row per event") from None
        return records_from_frame(frame)
    try:
        data = json.loads(body) if fmt == "json" else yaml.safe_load(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"records: not valid {fmt.upper()} "
                                f"({' '.join(str(exc).split())[:200]})") from None
    items = data if isinstance(data, list) else [data]
    records = [record_from_dict(item) for item in items]
    seen: dict[str, int] = {}
    for i, rec in enumerate(records, start=1):
        if rec.id in seen:
            raise InvalidInputError(
                f"records: record {i} has the same id {rec.id!r} as record {seen[rec.id]} "
                f"(a record without an id is '1'); give each patient its own id")
        seen[rec.id] = i
    return records


def run(records: list[PatientRecord], *, threshold: float, check_every_days: float,
        horizon_days: float, seed: int) -> list[Forecast]:
    """Forecasts of the records (one solve at a time: the engine lock)."""
    from ...forecasting import forecast_many

    if not records:
        raise InvalidInputError("records: no patients; give at least one patient")
    if len(records) > MAX_PATIENTS:
        raise InvalidInputError(f"records: {len(records)} patients; at most {MAX_PATIENTS} per "
                                f"request here (the command line has no limit)")
    with ENGINE_LOCK:
        return forecast_many(records, workers=1, threshold=threshold,
                             check_every=check_every_days, horizon=horizon_days, seed=seed)


def answers(fcs: list[Forecast]) -> dict[str, Any]:
    """The API's answer: issue 15 item 6's object per patient, with the answer in words."""
    from ...reports.forecast import answer

    return {"forecasts": [{**fc.to_dict(), "answer": answer(fc)} for fc in fcs],
            "disclaimer": DISCLAIMER}


def forecast(inp: ForecastIn) -> tuple[dict[str, Any], list[Forecast]]:
    """Parse, forecast, answer."""
    fcs = run(parse_records(inp.records, inp.format), threshold=inp.threshold,
              check_every_days=inp.check_every_days, horizon_days=inp.horizon_days,
              seed=inp.seed)
    return answers(fcs), fcs


# ------------------------------------------------------------------ page content


def patient_view(fc: Forecast, k: int) -> dict[str, Any]:
    """What the page shows of one patient: the answer, tables and two Plotly figures."""
    from ...reports.forecast import answer, answer_table, observations_table

    return {"id": fc.id, "answer": answer(fc), "messages": list(fc.messages),
            "method": fc.method, "table": frame_records(answer_table(fc)),
            "observations": frame_records(observations_table(fc)),
            "figures": figures(fc, k)}


def _xs(fc: Forecast, days: Any) -> list[Any]:
    """Plot positions: ISO dates when the record has dates, else days since the first dose."""
    out: list[Any] = []
    for d in days:
        day = float(d)
        if not math.isfinite(day):
            out.append(None)
        elif fc.record.first_dose_date is None:
            out.append(day)
        else:
            moment = dt.datetime.combine(fc.record.first_dose_date, dt.time()) + \
                dt.timedelta(days=day)
            out.append(moment.isoformat(timespec="minutes"))
    return out


def _num(values: Any) -> list[float | None]:
    return [float(v) if math.isfinite(float(v)) else None for v in values]


def _band_traces(fc: Forecast, frame: Any, output: str, name: str, color: str,
                 floor: float) -> list[dict[str, Any]]:
    part = frame[frame["output"] == output].sort_values("time")
    x = _xs(fc, part["time"])

    def y(col: str) -> list[float | None]:
        return _num(part[col].clip(lower=floor))

    if name == "population":
        dash = {"color": "#555", "width": 1, "dash": "dash"}
        return [{"x": x, "y": y("q05"), "type": "scatter", "mode": "lines", "line": dash,
                 "name": "population, 90%", "legendgroup": "pop"},
                {"x": x, "y": y("q95"), "type": "scatter", "mode": "lines", "line": dash,
                 "showlegend": False, "legendgroup": "pop", "hoverinfo": "skip"},
                {"x": x, "y": y("q50"), "type": "scatter", "mode": "lines",
                 "line": {"color": "#555", "width": 1, "dash": "dot"},
                 "name": "population, median"}]
    traces: list[dict[str, Any]] = []
    for lo, hi, alpha, label in (("q05", "q95", 0.15, "90%"), ("q25", "q75", 0.3, "50%")):
        traces.append({"x": x, "y": y(lo), "type": "scatter", "mode": "lines",
                       "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"})
        traces.append({"x": x, "y": y(hi), "type": "scatter", "mode": "lines",
                       "line": {"width": 0}, "fill": "tonexty",
                       "fillcolor": _rgba(color, alpha), "name": f"{name}, {label}"})
    traces.append({"x": x, "y": y("q50"), "type": "scatter", "mode": "lines",
                   "line": {"color": color, "width": 2}, "name": f"{name}, median"})
    return traces


def _observed_traces(fc: Forecast, dvid: int) -> list[dict[str, Any]]:
    obs = fc.record.observations
    obs = obs[obs["DVID"] == dvid]
    cens = obs["CENSORED"].to_numpy(dtype=bool)
    out = []
    if (~cens).any():
        out.append({"x": _xs(fc, obs["TIME"][~cens]), "y": _num(obs["DV"][~cens]),
                    "type": "scatter", "mode": "markers", "name": "observed",
                    "marker": {"color": "black", "size": 9}})
    if cens.any():
        out.append({"x": _xs(fc, obs["TIME"][cens]), "y": _num(obs["LLOQ"][cens]),
                    "type": "scatter", "mode": "markers",
                    "name": "below LLOQ (drawn at the LLOQ)",
                    "marker": {"color": "white", "size": 10,
                               "line": {"color": "black", "width": 2}}})
    return out


def _vline(fc: Forecast, day: float, color: str, dash: str) -> dict[str, Any]:
    x = _xs(fc, [day])[0]
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": color, "dash": dash, "width": 1.5}}


def figures(fc: Forecast, k: int) -> list[dict[str, Any]]:
    """Two Plotly specs: B cells (bands, population, observations, threshold, next-dose
    lines) and P(CD19 >= threshold by the day)."""
    from ...forecasting._types import DVID_BCELL
    from ...reports.forecast import B_FLOOR

    xlabel = "date" if fc.record.first_dose_date is not None else "days since the first dose"
    lines = [_vline(fc, fc.label_next_dose_day, "#b2182b", "dashdot")]
    if fc.next_dose_day is not None:
        lines.append(_vline(fc, fc.next_dose_day, "#1b7837", "dash"))
    note = (f"dashed green: next dose, B-cell-guided; dash-dot red: label date; dotted: "
            f"threshold {fc.threshold:g} cells/µL")
    traces = (_band_traces(fc, fc.bands, "B", "this patient", COLORS[0], B_FLOOR)
              + _band_traces(fc, fc.population_bands, "B", "population", "#555555", B_FLOOR)
              + _observed_traces(fc, DVID_BCELL))
    layout = _axes({"xlabel": xlabel, "ylabel": "CD19+ B cells, cells/µL", "yscale": "log",
                    "hlines": [{"y": fc.threshold, "label": f"threshold {fc.threshold:g}"}]},
                   f"Patient {fc.id}: CD19+ B cells")
    layout["shapes"] = layout["shapes"] + lines
    layout["xaxis"]["title"]["text"] = f"{xlabel} ({note})"
    layout["legend"] = {"orientation": "h", "y": -0.35}
    layout["height"] = 520
    span = _xs(fc, [fc.bands["time"].min(), fc.bands["time"].max()])
    p = fc.p_above.sort_values("day")
    prob = {"x": _xs(fc, p["day"]), "y": _num(p["p"]), "type": "scatter", "mode": "lines",
            "line": {"color": COLORS[0], "width": 2, "shape": "hv"},
            "name": f"P(CD19 ≥ {fc.threshold:g}) by the day"}
    p_layout = _axes({"xlabel": xlabel, "ylabel": "probability",
                      "hlines": [{"y": 0.5, "label": "0.5"}]},
                     f"Patient {fc.id}: probability that B cells are back")
    p_layout["shapes"] = p_layout["shapes"] + lines
    p_layout["yaxis"]["range"] = [0, 1]
    p_layout["xaxis"]["range"] = span  # aligned with the B-cell figure
    return [{"id": f"fc-{k}-bcells", "data": traces, "layout": layout},
            {"id": f"fc-{k}-probability", "data": [prob], "layout": p_layout}]


# ------------------------------------------------------------------ FHIR


def record_of_bundle(raw: Any) -> tuple[dict[str, Any], str | None]:
    """The YAML/JSON-style record of a Bundle (validated later by ``record_from_dict``) and
    the Patient's reference."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise _fhir.BundleError("Bundle", "the body must be a FHIR Bundle (resourceType "
                                          "Bundle)")
    bundle = Bundle.model_validate(raw)
    patient_ref: str | None = None
    patient_id = "1"
    birth: dt.date | None = None
    doses: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    weights: list[tuple[dt.date, float]] = []
    for path, kind, res, entry in _fhir.entries(bundle):
        if kind == "Patient":
            if patient_ref is not None:
                raise _fhir.BundleError(path, "more than one Patient; send one patient per "
                                              "bundle")
            patient_ref = entry.fullUrl or (f"Patient/{res.id}" if res.id else "Patient")
            patient_id = str(res.id or patient_ref.rsplit("/", 1)[-1])
            if res.birthDate is not None:
                birth = dt.date.fromisoformat(str(res.birthDate)[:10])
        elif kind == "MedicationAdministration" and _fhir._is_ocrelizumab(res):
            if res.status in ("completed", "in-progress"):
                doses.append(_dose(res, path))
        elif kind == "Observation" and res.status not in ("entered-in-error", "cancelled"):
            _observation(res, path, observations, weights)
    if patient_ref is None:
        raise _fhir.BundleError("Bundle.entry", "no Patient resource; the answer refers to it")
    if not doses:
        raise _fhir.BundleError("Bundle.entry", "no completed MedicationAdministration of "
                                                "ocrelizumab; the forecast needs the doses")
    record: dict[str, Any] = {"id": patient_id, "doses": doses,
                              "observations": observations}
    if weights:
        record["weight_kg"] = max(weights)[1]  # the most recent weight
    if birth is not None:
        first = min(dt.date.fromisoformat(d["date"]) for d in doses)
        record["age_y"] = round((first - birth).days / 365.25, 2)
    return record, patient_ref


def _dose(res: Any, path: str) -> dict[str, Any]:
    day = _fhir._when(res, path)
    if day is None:
        raise _fhir.BundleError(f"{path}.effective[x]", "the date of the dose is required")
    if res.dosage is None or res.dosage.route is None:
        raise _fhir.BundleError(f"{path}.dosage.route", "required (IV or SC)")
    dose = {"date": day.isoformat(),
            "route": _fhir._route(res.dosage.route, f"{path}.dosage.route"),
            "amount_mg": _fhir._dose_mg(res.dosage.dose, f"{path}.dosage.dose")}
    period = getattr(res, "effectivePeriod", None)
    if dose["route"] == "IV" and period is not None:
        start, end = _moment(period.start), _moment(period.end)
        if start is not None and end is not None:  # both carry a time of day
            hours = (end - start).total_seconds() / 3600.0
            if not 0 < hours <= HOURS_PER_DAY:
                raise _fhir.BundleError(f"{path}.effectivePeriod", f"the infusion lasts "
                                        f"{hours:g} h; give its start and end times")
            dose["duration_h"] = round(hours, 4)
    return dose


def _moment(value: Any) -> dt.datetime | None:
    """A date-time with a time of day, else None (a bare date says nothing of a duration)."""
    if isinstance(value, dt.datetime):
        return value
    text = "" if value is None or isinstance(value, dt.date) else str(value)
    if len(text) <= 10:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _observation(obs: Any, path: str, observations: list[dict[str, Any]],
                 weights: list[tuple[dt.date, float]]) -> None:
    code = obs.code
    day = _fhir._when(obs, path)
    if _fhir._has_code(code, _fhir.LOINC, _fhir.CODES["weight"]):
        q = obs.valueQuantity
        unit = str(q.code or q.unit or "").strip() if q is not None else ""
        if q is None or q.value is None or unit not in ("kg", "[lb_av]", "lb"):
            raise _fhir.BundleError(f"{path}.valueQuantity", "a body weight in kg or [lb_av]")
        kg = float(q.value) * (1.0 if unit == "kg" else 0.45359237)
        weights.append((day or dt.date.min, kg))
        return
    is_cd19 = _fhir._has_code(code, _fhir.LOINC, _fhir.CODES["cd19"])
    is_conc = _fhir._has_code(code, FORECAST_SYSTEM, CONC_CODE)
    if not (is_cd19 or is_conc):
        return
    if day is None:
        raise _fhir.BundleError(f"{path}.effective[x]", "the date of the sample is required")
    q = obs.valueQuantity
    if q is None or q.value is None:
        raise _fhir.BundleError(f"{path}.valueQuantity", "a value with a unit is required")
    unit = str(q.code or q.unit or "").strip()
    units = _CD19_UNITS if is_cd19 else _CONC_UNITS
    if unit.lower() not in units:
        raise _fhir.BundleError(f"{path}.valueQuantity.unit",
                                f"unit {unit!r} not understood; use one of "
                                f"{', '.join(sorted(units))}")
    value: Any = float(q.value)
    comparator = str(q.comparator or "")
    if comparator in ("<", "<="):
        value = f"<{value!r}"  # below the limit: censored at it
    elif comparator:
        raise _fhir.BundleError(f"{path}.valueQuantity.comparator",
                                f"{comparator!r}: only '<' (below the limit) is read")
    observations.append({"date": day.isoformat(), "cd19" if is_cd19 else "conc": value,
                         "unit": units[unit.lower()]})


def risk_assessment(fc: Forecast, patient_ref: str | None) -> dict[str, Any]:
    """The forecast as a Bundle (collection) holding one RiskAssessment, validated."""
    from fhir.resources.R4B.bundle import Bundle

    from ...reports.forecast import answer, horizon_day, last_dose_day

    out = fc.to_dict()
    rd = out["return_day"]
    back = f"CD19+ B cells back at or above {fc.threshold:g} cells/µL after the last dose"
    predictions: list[dict[str, Any]] = []
    when = {k: v for k, v in (("start", rd.get("lo90_date")), ("end", rd.get("hi90_date"))) if v}
    if when:  # the 90% interval of the return date (open-ended past the horizon)
        predictions.append({"outcome": {"text": f"{back}, within this period (90% interval of "
                                                f"the return date)"},
                            "probabilityDecimal": 0.9, "whenPeriod": when})
    by = {k: v.isoformat() for k, v in (("start", fc.record.day_to_date(last_dose_day(fc))),
                                        ("end", fc.record.day_to_date(horizon_day(fc)))) if v}
    predictions.append({"outcome": {"text": f"{back}, by the end of the forecast"},
                        "probabilityDecimal": round(float(fc.p_return_by_horizon), 6),
                        **({"whenPeriod": by} if by else {})})
    predictions[0]["rationale"] = answer(fc)
    notes = [f"B-cell-guided next dose: {out.get('next_dose_date') or 'none within the horizon'}"
             f"; label next dose: {out.get('label_next_dose_date')}.",
             f"Forecast JSON (issue 15): {json.dumps(out, separators=(',', ':'))}",
             DISCLAIMER]
    resource = {"resourceType": "RiskAssessment", "status": "final",
                "subject": {"reference": patient_ref or "Patient"},
                "occurrenceDateTime": dt.datetime.now(dt.UTC).isoformat(),
                "method": {"coding": [{"system": FORECAST_SYSTEM, "code": fc.method}],
                           "text": f"ocrelisim forecast ({fc.method}, {fc.n_obs} observations)"},
                "prediction": predictions,
                "note": [{"text": n} for n in notes]}
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "type": "collection",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource}]})
    data: dict[str, Any] = json.loads(bundle.model_dump_json(exclude_none=True))
    return data
