"""FHIR in and out (R4B, the models of ``fhir.resources``): the pre-dose check of a Bundle.

``POST /fhir/check`` takes a Bundle with one Patient (``birthDate``), a MedicationRequest for
the planned ocrelizumab dose, MedicationAdministrations of past doses and Observations; it
maps them to :class:`ocrelisim.safety.PatientRecord`, runs :func:`ocrelisim.safety.check` and
answers with a Bundle (type ``collection``) of DetectedIssue resources: the decision first
(code ``DECISION``), then one per fired rule (code: the rule id), each citing its sources.
A bad bundle gets 422 with an OperationOutcome whose ``expression`` names the element.
``POST /fhir/forecast`` forecasts the B-cell return of a Bundle (:mod:`._forecast`).

Codes read (LOINC where one exists):

================================  ==============================================
body weight                        LOINC 29463-7 (valueQuantity kg or [lb_av])
HBsAg                              LOINC 5196-1 (positive/negative)
anti-HBc (total)                   LOINC 16933-4 (positive/negative)
IgG                                LOINC 2465-3 (valueQuantity g/L, mg/dL, mg/mL)
pregnancy status                   LOINC 82810-3 (valueBoolean, or SNOMED 77386006 pregnant /
                                   60001007 not pregnant)
CD19+ B cells                      LOINC 8116-2 (read by the forecast; the check does not
                                   read it)
active infection                   ``urn:ocrelisim:check`` ``active-infection`` (valueBoolean)
symptom                            ``urn:ocrelisim:check`` ``symptom`` (valueCodeableConcept
                                   with a code of ``ocrelisim.safety.SYMPTOM_CODES``)
================================  ==============================================

Positive/negative: ``valueCodeableConcept`` (SNOMED 10828004 positive, 260385009 negative, or
the words), ``valueString``, or ``interpretation`` POS/NEG. Routes: SNOMED 47625008
(intravenous) and 34206005 (subcutaneous), or the text IV/SC. The check date is the Bundle's
``timestamp`` date (today if absent). Nothing is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ..._meta import DISCLAIMER
from ...errors import InvalidInputError
from ._guard import field_name

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
OCRELISIM = "urn:ocrelisim:check"
"""Our code system, for what has no standard code (active infection, symptom, rule ids)."""
CODES = {"weight": "29463-7", "hbsag": "5196-1", "anti_hbc": "16933-4", "igg": "2465-3",
         "pregnancy": "82810-3", "cd19": "8116-2"}
ROUTES = {"47625008": "IV", "34206005": "SC", "iv": "IV", "sc": "SC", "intravenous": "IV",
          "subcutaneous": "SC"}
_POS = {"10828004", "pos", "positive", "reactive", "detected"}
_NEG = {"260385009", "neg", "negative", "nonreactive", "non-reactive", "not detected"}
_SEVERITY = {"critical": "high", "warning": "moderate", "info": "low"}
_DECISION_SEVERITY = {"do not dose": "high", "delay": "moderate", "cannot decide": "moderate",
                      "dose": "low"}


class BundleError(InvalidInputError):
    """A bundle that cannot be read; ``expression`` is the FHIRPath of the element."""

    def __init__(self, expression: str, message: str) -> None:
        super().__init__(f"{expression}: {message}")
        self.expression = expression
        self.message = message


def outcome(issues: list[tuple[str, str, str]], status: int) -> JSONResponse:
    """An OperationOutcome: (code, expression, diagnostics) per issue."""
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    body = OperationOutcome.model_validate({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": f"{text} ({DISCLAIMER})",
                   **({"expression": [expr]} if expr else {})}
                  for code, expr, text in issues]})
    return JSONResponse(json.loads(body.model_dump_json(exclude_none=True)),
                        status_code=status, media_type=FHIR_JSON)


def _codes(concept: Any) -> set[str]:
    """Codes and text of a CodeableConcept, lower case."""
    if concept is None:
        return set()
    out = {str(cd.code).lower() for cd in (concept.coding or []) if cd.code}
    out |= {str(cd.display).lower() for cd in (concept.coding or []) if cd.display}
    if concept.text:
        out.add(str(concept.text).lower())
    return out


def _has_code(concept: Any, system: str, code: str) -> bool:
    return any(cd.system == system and cd.code == code for cd in (concept.coding or []))


def _when(res: Any, path: str) -> dt.date | None:
    value = getattr(res, "effectiveDateTime", None)
    if value is None and getattr(res, "effectivePeriod", None) is not None:
        value = res.effectivePeriod.start
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise BundleError(f"{path}.effectiveDateTime", f"{text!r} is not a date") from None


def _result(obs: Any, path: str) -> str:
    """positive / negative / unknown of a qualitative Observation."""
    words: set[str] = set()
    if obs.valueCodeableConcept is not None:
        words |= _codes(obs.valueCodeableConcept)
    if obs.valueString is not None:
        words.add(str(obs.valueString).strip().lower())
    for interp in obs.interpretation or []:
        words |= _codes(interp)
    if words & _POS:
        return "positive"
    if words & _NEG:
        return "negative"
    if "unknown" in words or not words:
        raise BundleError(f"{path}.value[x]", "give a positive or negative result "
                          "(valueCodeableConcept SNOMED 10828004/260385009, valueString or "
                          "interpretation POS/NEG); leave the Observation out if not known")
    raise BundleError(f"{path}.value[x]", f"result {sorted(words)} is neither positive nor "
                                          f"negative")


def _quantity(obs: Any, path: str, units: dict[str, str]) -> str:
    q = obs.valueQuantity
    if q is None or q.value is None:
        raise BundleError(f"{path}.valueQuantity", "a value with a unit is required")
    unit = str(q.code or q.unit or "").strip()
    if unit not in units:
        raise BundleError(f"{path}.valueQuantity.unit",
                          f"unit {unit!r} not understood; use one of {', '.join(units)}")
    return f"{float(q.value)} {units[unit]}"


def _route(concept: Any, path: str) -> str:
    for word in _codes(concept):
        if word in ROUTES:
            return ROUTES[word]
    raise BundleError(path, "route must be intravenous (SNOMED 47625008, IV) or subcutaneous "
                            "(SNOMED 34206005, SC)")


def _dose_mg(dose: Any, path: str) -> float:
    if dose is None or dose.value is None:
        raise BundleError(path, "the dose in mg is required")
    unit = str(dose.code or dose.unit or "mg").strip().lower()
    if unit != "mg":
        raise BundleError(f"{path}.unit", f"unit {unit!r}; give the dose in mg")
    return float(dose.value)


def _is_ocrelizumab(res: Any) -> bool:
    concept = getattr(res, "medicationCodeableConcept", None)
    return any("ocrelizumab" in w or w in ("1876366", "1876368") for w in _codes(concept))


def entries(bundle: Any) -> Iterator[tuple[str, str, Any, Any]]:
    """Each entry of a Bundle as ``(path, kind, resource, entry)``: the resource's FHIRPath
    (``Bundle.entry[i].resource``, for error messages) and its type name ("" when empty)."""
    for i, entry in enumerate(bundle.entry or []):
        res = entry.resource
        yield (f"Bundle.entry[{i}].resource", type(res).__name__ if res is not None else "", res,
               entry)


def parse_bundle(raw: Any) -> tuple[dict[str, Any], str | None]:
    """The safety record of a Bundle and the Patient's reference (for the answer)."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise BundleError("Bundle", "the body must be a FHIR Bundle (resourceType Bundle)")
    bundle = Bundle.model_validate(raw)
    today = bundle.timestamp.date() if bundle.timestamp else dt.date.today()
    record: dict[str, Any] = {"check_date": today.isoformat()}
    patient_ref: str | None = None
    doses: list[dict[str, Any]] = []
    symptoms: list[str] = []
    dated: dict[str, tuple[dt.date, Any]] = {}
    for path, kind, res, entry in entries(bundle):
        if kind == "Patient":
            if patient_ref is not None:
                raise BundleError(path, "more than one Patient; send one patient per bundle")
            patient_ref = entry.fullUrl or (f"Patient/{res.id}" if res.id else None)
            if res.birthDate is None:
                raise BundleError(f"{path}.birthDate", "required (the label rules need the "
                                                       "age)")
            birth = res.birthDate if isinstance(res.birthDate, dt.date) else \
                dt.date.fromisoformat(str(res.birthDate)[:10])
            record["age"] = round((today - birth).days / 365.25, 2)
        elif kind == "MedicationRequest" and _is_ocrelizumab(res):
            record["planned"] = _planned(res, path)
        elif kind == "MedicationAdministration" and _is_ocrelizumab(res):
            if res.status in ("completed", "in-progress"):
                doses.append(_given(res, path))
        elif kind == "Observation":
            _observation(res, path, record, symptoms, dated)
    if patient_ref is None and "age" not in record:
        raise BundleError("Bundle.entry", "no Patient resource (with birthDate)")
    if "planned" not in record:
        raise BundleError("Bundle.entry", "no MedicationRequest for the planned ocrelizumab "
                                          "dose (medicationCodeableConcept: ocrelizumab)")
    if "weight_kg" not in record:
        raise BundleError("Bundle.entry", "no body-weight Observation (LOINC 29463-7)")
    record["previous_doses"] = doses
    record["symptoms"] = symptoms or ["none"]
    return record, patient_ref


def _planned(res: Any, path: str) -> dict[str, Any]:
    if not res.dosageInstruction:
        raise BundleError(f"{path}.dosageInstruction", "the planned route and dose are "
                                                       "required")
    d = res.dosageInstruction[0]
    p = f"{path}.dosageInstruction[0]"
    if d.route is None:
        raise BundleError(f"{p}.route", "required (IV or SC)")
    dose = d.doseAndRate[0].doseQuantity if d.doseAndRate else None
    shorter = any("short" in (n.text or "").lower() for n in res.note or [])
    return {"route": _route(d.route, f"{p}.route"),
            "dose_mg": _dose_mg(dose, f"{p}.doseAndRate[0].doseQuantity"),
            "protocol": "shorter" if shorter else "standard"}


def _given(res: Any, path: str) -> dict[str, Any]:
    day = _when(res, path)
    if day is None:
        raise BundleError(f"{path}.effective[x]", "the date of the dose is required")
    if res.dosage is None:
        raise BundleError(f"{path}.dosage", "route and dose are required")
    if res.dosage.route is None:
        raise BundleError(f"{path}.dosage.route", "required (IV or SC)")
    return {"date": day.isoformat(), "route": _route(res.dosage.route, f"{path}.dosage.route"),
            "dose_mg": _dose_mg(res.dosage.dose, f"{path}.dosage.dose")}


def _observation(obs: Any, path: str, record: dict[str, Any], symptoms: list[str],
                 dated: dict[str, tuple[dt.date, Any]]) -> None:
    if obs.status in ("entered-in-error", "cancelled"):
        return
    code = obs.code
    day = _when(obs, path) or dt.date.min

    def latest(key: str, value: Any) -> None:  # the most recent Observation of a kind wins
        if key not in dated or day >= dated[key][0]:
            dated[key] = (day, value)
            record.update({key: value} if not key.startswith("hbv.") else {})
            if key.startswith("hbv."):
                record.setdefault("hbv", {})[key[4:]] = value

    if _has_code(code, LOINC, CODES["weight"]):
        latest("weight_kg", _quantity(obs, path, {"kg": "kg", "[lb_av]": "lb", "lb": "lb"}))
    elif _has_code(code, LOINC, CODES["hbsag"]):
        latest("hbv.hbsag", _result(obs, path))
    elif _has_code(code, LOINC, CODES["anti_hbc"]):
        latest("hbv.anti_hbc", _result(obs, path))
    elif _has_code(code, LOINC, CODES["igg"]):
        latest("igg_g_per_l", _quantity(obs, path, {"g/L": "g/L", "mg/dL": "mg/dL",
                                                    "mg/mL": "mg/mL", "g/dL": "g/dL"}))
    elif _has_code(code, LOINC, CODES["pregnancy"]):
        latest("pregnant", _pregnant(obs, path))
    elif _has_code(code, OCRELISIM, "active-infection"):
        if obs.valueBoolean is None:
            raise BundleError(f"{path}.valueBoolean", "true or false is required")
        latest("active_infection", bool(obs.valueBoolean))
    elif _has_code(code, OCRELISIM, "symptom"):
        words = [cd.code for cd in (obs.valueCodeableConcept.coding or [])
                 if cd.code] if obs.valueCodeableConcept else []
        if not words:
            raise BundleError(f"{path}.valueCodeableConcept", "a symptom code is required")
        symptoms.extend(str(w) for w in words)


def _pregnant(obs: Any, path: str) -> bool:
    if obs.valueBoolean is not None:
        return bool(obs.valueBoolean)
    words = _codes(obs.valueCodeableConcept)
    if words & {"77386006", "pregnant"}:
        return True
    if words & {"60001007", "not pregnant"}:
        return False
    raise BundleError(f"{path}.value[x]", "valueBoolean, or SNOMED 77386006 (pregnant) / "
                                          "60001007 (not pregnant)")


def answer(result: Any, patient_ref: str | None) -> dict[str, Any]:
    """The check as a Bundle of DetectedIssue (decision first), validated by fhir.resources."""
    from fhir.resources.R4B.bundle import Bundle

    when = f"{result.check_date.isoformat()}"
    subject = {"patient": {"reference": patient_ref}} if patient_ref else {}

    def issue(code: str, display: str, severity: str, detail: str,
              sources: tuple[str, ...]) -> dict[str, Any]:
        return {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": {
            "resourceType": "DetectedIssue", "status": "final", "severity": severity,
            "code": {"coding": [{"system": OCRELISIM, "code": code, "display": display}],
                     "text": display},
            "identifiedDateTime": when, **subject,
            "detail": f"{detail} Sources: {' '.join(sources) or 'none'}. {DISCLAIMER}"}}

    nxt = (f" If given today, the next dose is due {result.interval.next_due.isoformat()} "
           f"({result.interval.next_due_text})." if result.decision == "dose" else "")
    entries = [issue("DECISION", f"Pre-dose check: {result.decision}",
                     _DECISION_SEVERITY[result.decision],
                     f"Decision under the {result.label} label: {result.decision}. Planned: "
                     f"{result.planned.text}.{nxt} {result.statement}",
                     result.planned.sources)]
    entries += [issue(card.rule_id, card.summary, _SEVERITY[card.severity], card.detail,
                      card.sources) for card in result.cards]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection",
                                    "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                                    "entry": entries})
    out: dict[str, Any] = json.loads(bundle.model_dump_json(exclude_none=True))
    return out


def _validation_issues(exc: ValidationError) -> list[tuple[str, str, str]]:
    issues = []
    for err in exc.errors(include_url=False)[:20]:
        loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and (
            p.startswith("function-") or p in ("Bundle",))))
        expr = "Bundle." + field_name(loc) if loc else "Bundle"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        issues.append(("invalid", expr, f"{expr}: {msg}"))
    return issues


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        raise BundleError("Bundle", f"the body is not JSON ({exc})") from None


def _refusal(exc: ValidationError | InvalidInputError, mapped: str) -> JSONResponse:
    """The 422 OperationOutcome of a Bundle that cannot be used: the Bundle's own validation
    issues, the element a :class:`BundleError` names, or else the message of the ``mapped``
    record's validation (it names a record field; say where that came from)."""
    if isinstance(exc, ValidationError):
        return outcome(_validation_issues(exc), 422)
    if isinstance(exc, BundleError):
        return outcome([("invalid", exc.expression, str(exc))], 422)
    return outcome([("invalid", "Bundle", f"mapped {mapped}: " + " ".join(str(exc).split()))],
                   422)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number; JSON numbers must be finite")


@router.post("/check", response_class=JSONResponse,
             responses={200: {"content": {FHIR_JSON: {}}},
                        422: {"description": "OperationOutcome naming the element"}})
async def fhir_check(request: Request, label: str = "US") -> JSONResponse:
    """The pre-dose check of a FHIR R4B Bundle; answers a Bundle of DetectedIssue."""
    from starlette.concurrency import run_in_threadpool

    from ...safety import check

    try:
        raw = await _body(request)
        record, patient = parse_bundle(raw)
        result = await run_in_threadpool(check, record, label.strip().upper())
    except (ValidationError, InvalidInputError) as exc:
        return _refusal(exc, "patient record")
    return JSONResponse(answer(result, patient), media_type=FHIR_JSON)


@router.post("/forecast", response_class=JSONResponse,
             responses={200: {"content": {FHIR_JSON: {}}},
                        422: {"description": "OperationOutcome naming the element"}})
async def fhir_forecast(request: Request,
                        threshold: float = Query(10.0, gt=0.0, le=1e4),
                        check_every_days: float = Query(28.0, gt=0.0, le=365.0),
                        horizon_days: float = Query(730.0, gt=0.0, le=3650.0)
                        ) -> JSONResponse:
    """B-cell return forecast of a FHIR R4B Bundle (Patient, MedicationAdministrations of
    ocrelizumab, CD19 Observations LOINC 8116-2, weight); answers a Bundle with a
    RiskAssessment (see :mod:`._forecast`)."""
    from starlette.concurrency import run_in_threadpool

    from ...forecasting._records import record_from_dict
    from . import _forecast

    try:
        raw = await _body(request)
        mapped, patient = _forecast.record_of_bundle(raw)
        record = record_from_dict(mapped)
        fcs = await run_in_threadpool(lambda: _forecast.run(
            [record], threshold=threshold, check_every_days=check_every_days,
            horizon_days=horizon_days, seed=0))
    except (ValidationError, InvalidInputError) as exc:
        return _refusal(exc, "forecast record")
    return JSONResponse(_forecast.risk_assessment(fcs[0], patient), media_type=FHIR_JSON)
