"""The JSON API: numbers equal to the library's for the same inputs; bad input gets a 4xx that
names the field (never a 5xx); caps, the body-size limit and NaN are refused."""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
import pandas as pd
import pytest
from _records import MAINTENANCE, make
from fastapi.testclient import TestClient

from ocrelisim import Population, Regimen, planning, simulate
from ocrelisim._meta import DISCLAIMER
from ocrelisim.interfaces.web import _compute
from ocrelisim.reports import exposure_table
from ocrelisim.reports.exposure import cycle_intervals
from ocrelisim.safety import check
from ocrelisim.workflows import covering_doses, time_grid


def test_explainer_equals_simulate_of_the_typical_patient(client: TestClient) -> None:
    r = client.post("/api/explainer", json={"weight_kg": 82, "years": 1,
                                            "regimens": ["iv", "sc"]})
    assert r.status_code == 200
    out = r.json()
    days = 365.25
    times = np.arange(0.0, 366.0)
    for spec in ("iv", "sc"):
        want = simulate(Regimen.preset(spec, maintenance_doses=covering_doses(days)),
                        Population.typical(82.0), times, model="immune",
                        variables=list(_compute.IMMUNE_SHOWN))
        for name in ("C", "B", "IFNG_CD4", "IgG"):
            got = np.array(out["series"][spec][name], dtype=float)
            np.testing.assert_allclose(got, want[name][0], rtol=0, atol=0)  # same call
    assert out["measured"]["IFNG_CD4"].startswith("direction and time point measured")
    assert out["infusion_day"]["sc"]["visit"] == "sc"
    assert out["infusion_day"]["iv"]["infusion_minutes"] == pytest.approx(
        planning.infusion_day("maintenance").infusion_minutes)
    assert any("PML" in item["text"] for item in out["plain_language"]["items"])
    assert out["disclaimer"] == DISCLAIMER


def test_exposure_equals_the_library_table(client: TestClient) -> None:
    body = {"regimen": "sc", "n": 12, "days": 200, "disease": "RMS", "seed": 5}
    r = client.post("/api/exposure", json=body)
    assert r.status_code == 200
    out = r.json()
    regimen = Regimen.preset("sc", maintenance_doses=covering_doses(200.0))
    res = simulate(regimen, Population.sample(12, disease="RMS", seed=5),
                   time_grid(200.0, 1.0, [d.end for d in regimen]),
                   intervals=cycle_intervals([d.time for d in regimen], 200.0))
    want = exposure_table({"sc": res})
    got = pd.DataFrame(out["exposure"])
    numeric = [c for c in want.columns if pd.api.types.is_float_dtype(want[c])]
    assert numeric
    np.testing.assert_allclose(got[numeric].to_numpy(float), want[numeric].to_numpy(float),
                               rtol=1e-12)
    assert out["n"] == 12 and out["regimen"] == str(regimen)


def test_exposure_downloads_csv_and_parquet(client: TestClient) -> None:
    body = {"regimen": "iv", "n": 3, "days": 60, "seed": 1}
    csv = client.post("/api/exposure/download", json={**body, "what": "concentration"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith(f"# {DISCLAIMER}")
    import io

    frame = pd.read_csv(io.StringIO(csv.text), comment="#")
    assert set(frame["ID"]) == {1, 2, 3} and frame["TIME"].max() == 60.0
    pq = client.post("/api/exposure/download", json={**body, "format": "parquet"})
    assert pq.status_code == 200 and pq.content[:4] == b"PAR1"
    table = pd.read_parquet(io.BytesIO(pq.content))
    assert len(table) >= 1 and "AUC" in " ".join(map(str, table.columns))


def test_exposure_with_covariates_text(client: TestClient) -> None:
    r = client.post("/api/exposure", json={"regimen": "iv", "days": 30,
                                           "covariates_csv": "WT\n60\n90\n"})
    assert r.status_code == 200 and r.json()["n"] == 2


def test_check_equals_the_library(client: TestClient) -> None:
    for record, label in ((MAINTENANCE, "US"),
                          (make(MAINTENANCE, hbv={"hbsag": "positive",
                                                  "anti_hbc": "negative"}), "EU")):
        r = client.post("/api/check", json={"label": label, "record": record})
        assert r.status_code == 200
        assert r.json() == check(record, label).model_dump(mode="json")
    assert r.json()["decision"] == "do not dose"


def test_plan_patient_and_ics_equal_the_library(client: TestClient) -> None:
    body = {"start": "2025-03-03", "route": "iv", "tz": "Europe/Berlin", "doses": 2}
    r = client.post("/api/plan/patient", json=body)
    assert r.status_code == 200
    want = planning.plan_patient(dt.date(2025, 3, 3), "iv", tz="Europe/Berlin",
                                 options=planning.PlanOptions(maintenance_doses=2))
    assert [d["date"] for d in r.json()["doses"]] == [v.date.isoformat() for v in want.doses]
    assert r.json()["doses"][:3] == [
        {"date": "2025-03-03", "dose_mg": 300.0, "route": "IV", "title": want.doses[0].title},
        {"date": "2025-03-17", "dose_mg": 300.0, "route": "IV", "title": want.doses[1].title},
        {"date": "2025-09-03", "dose_mg": 600.0, "route": "IV", "title": want.doses[2].title}]
    ics = client.post("/api/plan/patient.ics", json=body)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    lib = planning.to_ics(want).decode()
    assert ics.text.count("BEGIN:VEVENT") == lib.count("BEGIN:VEVENT") == len(want.visits)
    assert "DTSTART;TZID=Europe/Berlin:20250303T080000" in ics.text


def test_plan_day_and_clinic(client: TestClient) -> None:
    r = client.post("/api/plan/day", json={"visit": "short"})
    want = planning.infusion_day("short")
    assert r.status_code == 200 and r.json()["infusion_minutes"] == want.infusion_minutes
    assert len(r.json()["steps"]) == len(want.steps)
    r = client.post("/api/plan/clinic", json={"chairs": 2, "nurses": 1, "patients_per_day": 5,
                                              "effort": 0.2})
    assert r.status_code == 200
    rows = {row["metric"]: row for row in r.json()["comparison"]}
    assert float(rows["booked per day"]["first-come"]) <= 5


def test_forecast_needs_records(client: TestClient) -> None:
    r = client.post("/api/forecast", json={})  # the forecast itself: test_web_forecast.py
    assert r.status_code == 422 and "records" in str(r.json())


def test_presets_and_openapi(client: TestClient) -> None:
    caps = client.get("/api/presets").json()["caps"]
    assert caps["patients"] == _compute.MAX_PATIENTS
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/explainer", "/api/exposure", "/api/check", "/api/plan/patient",
                 "/api/plan/day", "/api/plan/clinic", "/api/trials", "/fhir/check"):
        assert path in paths


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/exposure", {"n": 501}, "body.n"),
    ("/api/exposure", {"n": 0}, "body.n"),
    ("/api/exposure", {"days": 2000}, "body.days"),
    ("/api/exposure", {"regimen": "/etc/passwd"}, "body.regimen"),
    ("/api/exposure", {"regimen": "doses.csv"}, "body.regimen"),
    ("/api/exposure", {"disease": "XX"}, "body.disease"),
    ("/api/exposure", {"unknown": 1}, "body.unknown"),
    ("/api/explainer", {"weight_kg": 20}, "body.weight_kg"),
    ("/api/explainer", {"years": 7}, "body.years"),
    ("/api/explainer", {"regimens": ["iv", "sc", "iv-short", "iv-extended"]}, "body.regimens"),
    ("/api/trials", {"replicates": 11}, "body.replicates"),
    ("/api/trials", {"design": "nope"}, "body.design"),
    ("/api/trials", {"bank_size": 5000}, "body.bank_size"),
    ("/api/plan/patient", {"start": "2025-02-30"}, "body.start"),
    ("/api/plan/clinic", {"chairs": 50}, "body.chairs"),
    ("/api/check", {"label": "US"}, "body.record"),
])
def test_bad_input_names_the_field(client: TestClient, path: str, body: dict[str, object],
                                   field: str) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert field in r.json()["detail"]


@pytest.mark.parametrize(("path", "body", "words"), [
    ("/api/check", {"record": make(MAINTENANCE, age=-3)}, "age"),
    ("/api/check", {"record": make(MAINTENANCE, previous_doses=[
        {"date": "2030-01-01", "route": "IV", "dose_mg": 600}])}, "previous_doses[0].date"),
    ("/api/exposure", {"regimen": "600 mg XV d0"}, "route"),
    ("/api/plan/patient", {"start": "2025-03-03", "tz": "Mars/Olympus"}, "Mars/Olympus"),
    ("/api/plan/clinic", {"mix": "first=2"}, "first"),
])
def test_library_errors_are_422_with_the_message(client: TestClient, path: str,
                                                 body: dict[str, object], words: str) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 422 and words in r.json()["detail"]


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused(client: TestClient, constant: bytes) -> None:
    r = client.post("/api/explainer", content=b'{"weight_kg": ' + constant + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and constant.decode().lstrip("-") in r.json()["detail"]


def test_nan_without_a_content_type_is_refused(client: TestClient) -> None:
    r = client.post("/api/explainer", content=b'{"weight_kg": NaN}')
    assert r.status_code == 422
    r = client.post("/fhir/check", content=b'{"resourceType": "Bundle", "total": NaN}',
                    headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "NaN" in r.text


def test_nan_as_text_in_a_form_is_refused(client: TestClient) -> None:
    r = client.post("/explainer", data={"weight_kg": "nan"})
    assert r.status_code == 422 and "weight_kg" in r.text


def test_invalid_json_and_oversized_bodies(client: TestClient) -> None:
    r = client.post("/api/check", content=b"{not json", headers={"content-type":
                                                                 "application/json"})
    assert r.status_code == 422
    big = b'{"label": "US", "record": {"x": "' + b"a" * 1_100_000 + b'"}}'
    r = client.post("/api/check", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks():  # no content-length: counted while streamed
        for _ in range(40):
            yield b"a" * 50_000

    r = client.post("/api/check", content=chunks(), headers={"content-type":
                                                             "application/json"})
    assert r.status_code == 413


def test_engine_calls_wait_for_the_lock(client: TestClient) -> None:
    """A simulation request blocks while another holds the engine lock, then completes."""
    done: list[int] = []

    def call() -> None:
        done.append(client.post("/api/explainer", json={"years": 0.1,
                                                        "regimens": ["iv"]}).status_code)

    with _compute.ENGINE_LOCK:
        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(1.0)
        assert done == []  # waiting for the engine
        # a request that needs no engine is not held up
        assert client.post("/api/plan/day", json={}).status_code == 200
    worker.join(timeout=120)
    assert done == [200]


def test_a_bug_is_a_500_without_a_traceback_or_data_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    from ocrelisim.interfaces.web import create_app

    app = create_app()

    @app.post("/boom")
    def boom() -> None:
        raise RuntimeError("secret patient data")

    with caplog.at_level("ERROR"), TestClient(app) as c:
        r = c.post("/boom", json={"weight_kg": 70})
    assert r.status_code == 500 and "secret" not in r.text
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text
    assert "Traceback" not in caplog.text
