"""FHIR in and out: example bundles round-trip to the same decision as the library's check of
the equivalent record; bad bundles get 422 with an OperationOutcome naming the element."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from _records import MAINTENANCE, make
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from ocrelisim.safety import check

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
FHIR = {"content-type": "application/fhir+json"}


def _bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def _post(client: TestClient, bundle: dict[str, Any], path: str = "/fhir/check") -> Any:
    return client.post(path, content=json.dumps(bundle).encode(), headers=FHIR)


@pytest.mark.parametrize(("name", "record"), [
    ("check-dose.json", MAINTENANCE),
    ("check-hbsag-positive.json", make(MAINTENANCE, hbv={"hbsag": "positive",
                                                         "anti_hbc": "negative"})),
])
def test_example_bundles_round_trip(client: TestClient, name: str,
                                    record: dict[str, Any]) -> None:
    r = _post(client, _bundle(name))
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    answer = Bundle.model_validate(r.json())  # a valid R4B Bundle
    issues = [e.resource for e in answer.entry]
    assert {type(i).__name__ for i in issues} == {"DetectedIssue"}
    want = check(record, "US")
    decision = issues[0]
    assert decision.code.coding[0].code == "DECISION"
    assert decision.code.text == f"Pre-dose check: {want.decision}"
    assert [i.code.coding[0].code for i in issues[1:]] == [c.rule_id for c in want.cards]
    assert all(i.patient.reference.startswith("urn:uuid:") for i in issues)
    if want.decision == "dose":
        assert f"next dose is due {want.interval.next_due.isoformat()}" in decision.detail


def test_weight_in_pounds_and_igg_units_are_converted(client: TestClient) -> None:
    from ocrelisim.interfaces.web._fhir import parse_bundle

    bundle = _bundle("check-dose.json")
    record, patient = parse_bundle(bundle)
    assert record["weight_kg"] == "72.0 kg" and record["igg_g_per_l"] == "840.0 mg/dL"
    assert record["age"] == pytest.approx(41.58, abs=0.01)  # 1985-05-01 to 2026-11-30
    assert [d["dose_mg"] for d in record["previous_doses"]] == [300.0, 300.0, 600.0]
    assert patient == bundle["entry"][0]["fullUrl"]


def _without(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"] = [e for e in out["entry"] if e["resource"]["resourceType"] != kind]
    return out


def _edit(bundle: dict[str, Any], index: int, **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"][index]["resource"].update(fields)
    return out


BASE = json.loads((EXAMPLES / "check-dose.json").read_text())


@pytest.mark.parametrize(("bundle", "expression"), [
    (_edit(BASE, 0, birthDate="1985-13-01"), "Bundle.entry[0].resource.birthDate"),
    ({k: v for k, v in BASE.items() if k != "type"}, "Bundle.type"),
    (_without(BASE, "MedicationRequest"), "Bundle.entry"),
    (_without(BASE, "Patient"), "Bundle.entry"),
    (_edit(BASE, 5, valueQuantity={"value": 72, "unit": "stone"}),
     "Bundle.entry[5].resource.valueQuantity.unit"),
    (_edit(BASE, 6, valueCodeableConcept={"text": "maybe"}), "Bundle.entry[6].resource.value[x]"),
    (_edit(BASE, 2, dosage={"dose": {"value": 300, "unit": "mg"}}),
     "Bundle.entry[2].resource.dosage.route"),
    ({"resourceType": "Patient"}, "Bundle"),
])
def test_bad_bundles_get_an_operation_outcome(client: TestClient, bundle: dict[str, Any],
                                              expression: str) -> None:
    r = _post(client, bundle)
    assert r.status_code == 422
    outcome = OperationOutcome.model_validate(r.json())
    assert outcome.issue[0].expression == [expression]
    assert expression in (outcome.issue[0].diagnostics or "")


def test_a_record_the_check_refuses_is_422(client: TestClient) -> None:
    r = _post(client, _edit(BASE, 2, effectiveDateTime="2027-01-01"))  # dose after the check
    assert r.status_code == 422
    assert "previous_doses" in r.json()["issue"][0]["diagnostics"]


def test_fhir_nan_and_forecast(client: TestClient) -> None:
    r = client.post("/fhir/check", content=b'{"resourceType": "Bundle", "total": NaN}',
                    headers=FHIR)
    assert r.status_code == 422
    # The check's bundle also holds what a forecast reads (doses, a CD19 count): a Bundle with
    # a RiskAssessment comes back (the forecast itself: test_web_forecast.py).
    r = _post(client, BASE, "/fhir/forecast")
    assert r.status_code == 200
    assert Bundle.model_validate(r.json()).entry[0].resource.__resource_type__ == \
        "RiskAssessment"
    r = client.post("/fhir/forecast", content=b'{"resourceType": "Bundle", "total": NaN}',
                    headers=FHIR)
    assert r.status_code == 422 and "NaN" in json.dumps(r.json())
