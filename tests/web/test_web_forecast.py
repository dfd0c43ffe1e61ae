"""The forecast on the web (issue 15): the page (paste, upload, the example), ``/api/forecast``
and ``/fhir/forecast`` give the library's forecast; bad input names the row or the element."""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from ocrelisim._meta import DISCLAIMER
from ocrelisim.forecasting import forecast_many
from ocrelisim.forecasting._records import read_records, record_from_dict
from ocrelisim.interfaces.web import _forecast

EXAMPLE = files("ocrelisim") / "data" / "forecast_example.csv"
BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "fhir" / "forecast.json"
FHIR = {"content-type": "application/fhir+json"}
YAML = """id: Y1
weight_kg: 70
doses:
  - {day: 0, amount_mg: 920, route: SC}
  - {day: 182, amount_mg: 920, route: SC}
observations:
  - {day: 400, cd19: "<1"}
"""


@pytest.fixture(scope="module")
def library() -> dict[str, Any]:
    """The library's forecasts of the example (the web's defaults: seed 0, one thread)."""
    fcs = forecast_many(read_records(Path(str(EXAMPLE))), workers=1, seed=0)
    return {fc.id: fc.to_dict() for fc in fcs}


def test_api_equals_the_library(client: TestClient, library: dict[str, Any]) -> None:
    r = client.post("/api/forecast", json={"records": EXAMPLE.read_text()})
    assert r.status_code == 200
    got = r.json()
    assert got["disclaimer"] == DISCLAIMER
    for item in got["forecasts"]:
        answer = item.pop("answer")
        assert item == library[item["id"]]  # the same numbers as the library, key by key
        assert answer.startswith(f"Patient {item['id']}: B cells")


def test_page_example_paste_and_upload(client: TestClient,
                                       library: dict[str, Any]) -> None:
    page = client.post("/forecast", data={"example": "1"})
    assert page.status_code == 200
    html = page.text
    assert 'id="answer-0"' in html and 'id="answer-1"' in html
    assert '<script type="application/json" id="fc-0-bcells-spec">' in html
    # The answer on the page names the library's 90% interval dates.
    import datetime as dt

    for k, pid in enumerate(("P01", "P02")):
        text = re.search(rf'id="answer-{k}"><strong>([^<]*)', html)
        assert text is not None
        for key in ("lo90_date", "hi90_date"):
            date = library[pid]["return_day"][key]
            if date is not None:
                assert dt.date.fromisoformat(date).strftime("%d %b %Y") in text.group(1)
    pasted = client.post("/forecast", data={"records": YAML, "threshold": "5"})
    assert pasted.status_code == 200 and "at or above 5 cells/µL" in pasted.text
    uploaded = client.post("/forecast", files={"file": ("p.yaml", YAML.encode())})
    assert uploaded.status_code == 200 and "Patient Y1" in uploaded.text


def test_page_and_api_name_the_bad_row(client: TestClient) -> None:
    bad = "ID,TIME,EVID,AMT,CMT,DV,DVID\n1,0,1,920,1,,\n1,30,0,,,12,3\n"
    page = client.post("/forecast", data={"records": bad})
    assert page.status_code == 422 and "row 1 (ID 1): DVID = 3" in page.text
    api = client.post("/api/forecast", json={"records": bad})
    assert api.status_code == 422 and "row 1 (ID 1)" in json.dumps(api.json())
    many = "ID,TIME,EVID,AMT,CMT\n" + "".join(f"{i},0,1,920,1\n" for i in range(11))
    r = client.post("/api/forecast", json={"records": many})
    assert r.status_code == 422 and "at most 10" in json.dumps(r.json())
    r = client.post("/api/forecast", json={"records": YAML, "horizon_days": 0})
    assert r.status_code == 422 and "horizon_days" in json.dumps(r.json())
    r = client.post("/forecast", files={"file": ("p.csv", b"\xff\xfe\x00bad")})
    assert r.status_code == 422 and "not UTF-8" in r.text
    unnamed = "\n".join(line for line in YAML.splitlines() if not line.startswith("id:"))
    two = json.dumps([yaml.safe_load(unnamed)] * 2)
    r = client.post("/api/forecast", json={"records": two})
    assert r.status_code == 422 and "record 2 has the same id '1' as record 1" in json.dumps(
        r.json())


def test_fhir_bundle_gives_the_library_forecast(client: TestClient) -> None:
    raw = json.loads(BUNDLE.read_text())
    r = client.post("/fhir/forecast", content=json.dumps(raw).encode(), headers=FHIR)
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    bundle = Bundle.model_validate(r.json())
    risk = r.json()["entry"][0]["resource"]
    assert bundle.entry is not None and risk["resourceType"] == "RiskAssessment"
    # The same record written by hand: the mapping reads dates, routes, the 3.5 h period,
    # the censored '<1' CD19, the concentration and the latest weight.
    mapped, ref = _forecast.record_of_bundle(raw)
    assert ref == "urn:uuid:5b1d7a3e-0000-4000-8000-000000000015"
    assert mapped["doses"][2] == {"date": "2024-08-05", "route": "IV", "amount_mg": 600.0,
                                  "duration_h": 3.5}
    assert mapped["observations"][0] == {"date": "2025-07-21", "cd19": "<1.0",
                                         "unit": "cells/µL"}
    assert mapped["weight_kg"] == 55.1 and mapped["id"] == "forecast-example"
    (want,) = forecast_many([record_from_dict(mapped)], workers=1, seed=0)
    pred, by = risk["prediction"]
    out = want.to_dict()
    # each probability belongs to its period: 0.9 to the 90% interval, P(back by the
    # horizon) to the last dose .. the end of the forecast
    assert pred["whenPeriod"] == {"start": out["return_day"]["lo90_date"],
                                  "end": out["return_day"]["hi90_date"]}
    assert pred["probabilityDecimal"] == 0.9 and "90% interval" in pred["outcome"]["text"]
    assert by["probabilityDecimal"] == pytest.approx(out["p_return_by_horizon"])
    last = max(d.time for d in want.record.regimen)
    assert by["whenPeriod"] == {
        "start": str(want.record.day_to_date(last)),
        "end": str(want.record.day_to_date(last + want.horizon_days))}
    assert f"label next dose: {out['label_next_dose_date']}" in risk["note"][0]["text"]


@pytest.mark.parametrize(("change", "expression", "words"), [
    (lambda b: b["entry"].pop(0), "Bundle.entry", "no Patient"),
    (lambda b: b["entry"][6]["resource"]["valueQuantity"].update(unit="%", code="%"),
     "Bundle", "lymphocyte"),
    (lambda b: b["entry"][6]["resource"]["valueQuantity"].update(unit="cells", code="cells"),
     "Bundle.entry[6].resource.valueQuantity.unit", "not understood"),
    (lambda b: b["entry"][6]["resource"].update(effectiveDateTime="2023-01-01"), "Bundle",
     "before the first dose"),
    (lambda b: [b["entry"].pop(i) for i in (4, 3, 2, 1)], "Bundle.entry",
     "no completed MedicationAdministration"),
    (lambda b: b["entry"][3]["resource"]["effectivePeriod"].update(end="2024-08-05T12:30:00"),
     "Bundle.entry[3].resource.effectivePeriod.end", "does not match"),  # a time needs its offset
])
def test_bad_bundles_name_the_element(client: TestClient, change: Any, expression: str,
                                      words: str) -> None:
    raw = copy.deepcopy(json.loads(BUNDLE.read_text()))
    change(raw)
    r = client.post("/fhir/forecast", content=json.dumps(raw).encode(), headers=FHIR)
    assert r.status_code == 422
    outcome = OperationOutcome.model_validate(r.json())
    issue = outcome.issue[0]
    assert issue.expression == [expression]
    assert words in (issue.diagnostics or "")


def test_fhir_periods_and_units_map_as_written() -> None:
    """A period with dates only says nothing of a duration (label infusion); with times it
    gives duration_h; CD19 in 10*6/L is cells/µL; a '>' comparator is refused."""
    raw = copy.deepcopy(json.loads(BUNDLE.read_text()))
    raw["entry"][3]["resource"]["effectivePeriod"] = {"start": "2024-08-05",
                                                      "end": "2024-08-05"}
    raw["entry"][8]["resource"]["valueQuantity"].update(unit="10*6/L", code="10*6/L")
    mapped, _ref = _forecast.record_of_bundle(raw)
    assert "duration_h" not in mapped["doses"][2]
    assert mapped["observations"][2] == {"date": "2025-10-20", "cd19": 1.4, "unit": "cells/µL"}
    assert [d.kind for d in record_from_dict(mapped).regimen] == ["label"] * 4
    raw["entry"][8]["resource"]["valueQuantity"]["comparator"] = ">"
    with pytest.raises(_forecast._fhir.BundleError, match="only '<'"):
        _forecast.record_of_bundle(raw)
