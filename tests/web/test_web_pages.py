"""Every page: status, the disclaimer, labelled fields, no asset from elsewhere, and the same
numbers as the library after a form is submitted; bad fields re-render the form with a 422."""

from __future__ import annotations

import re

import pytest
from _records import MAINTENANCE
from fastapi.testclient import TestClient

from ocrelisim import planning
from ocrelisim._meta import DISCLAIMER
from ocrelisim.safety import check

PAGES = ("/", "/explainer", "/exposure", "/check", "/plan", "/trials", "/forecast")


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline_with_the_disclaimer(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert DISCLAIMER in html
    # No CDN, font or script from elsewhere: every src/href is local or an anchor.
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith(("/", "#")), url
    # Every input, select and textarea has a label.
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert set(ids) <= labelled


def test_docs_and_assets_are_served_from_the_package(client: TestClient) -> None:
    docs = client.get("/docs").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    for path in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                 "/static/plotly/plotly-basic.min.js", "/static/plotly/LICENSE.txt",
                 "/static/app.js", "/static/app.css"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../app.py").status_code == 404
    assert '"validatorUrl": null' in docs  # Swagger UI calls no validator service


def test_explainer_form_shows_plots_and_numbers(client: TestClient) -> None:
    r = client.post("/explainer", data={"weight_kg": "90", "years": "1",
                                        "regimens": ["iv", "sc"]})
    assert r.status_code == 200
    html = r.text
    for fig in ("fig-concentration", "fig-bcells", "fig-tcells", "fig-day-0", "fig-day-1"):
        assert f'id="{fig}-spec"' in html
    assert "Measured vs modelled" in html and "PML warning signs" in html
    day = planning.infusion_day("sc")
    assert re.search(rf"<td>sc</td><td>sc</td><td>{day.infusion_minutes:.0f}</td>", html)


def test_exposure_form_and_downloads(client: TestClient) -> None:
    data = {"regimen": "iv", "n": "5", "days": "100", "seed": "3"}
    r = client.post("/exposure", data=data)
    assert r.status_code == 200 and 'id="exposure-table"' in r.text and "panel-0-spec" in r.text
    csv = client.post("/exposure/download", data={**data, "format": "csv"})
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    conc = client.post("/exposure/download", data={**data, "what": "concentration",
                                                   "format": "parquet"})
    assert conc.status_code == 200 and conc.content[:4] == b"PAR1"
    bad = client.post("/exposure", data={**data, "n": "100000"})
    assert bad.status_code == 422 and "<strong class=\"field\">n</strong>" in bad.text


def _form(record: dict[str, object]) -> dict[str, str]:
    form = {"label": "US", "check_date": "2026-11-30", "age": "41", "weight_kg": "72",
            "diagnosis": "RMS", "planned_route": "IV", "planned_dose_mg": "600",
            "planned_protocol": "standard", "hbv_hbsag": "negative",
            "hbv_anti_hbc": "negative", "active_infection": "false", "igg_g_per_l": "8.4",
            "pregnant": "false", "symptom_fever": "on"}
    for i, (date, mg) in enumerate((("2025-11-24", 300), ("2025-12-08", 300),
                                    ("2026-06-02", 600))):
        form |= {f"dose{i}_date": date, f"dose{i}_route": "IV", f"dose{i}_mg": str(mg)}
    return form


def test_check_form_gives_the_library_decision(client: TestClient) -> None:
    r = client.post("/check", data=_form(MAINTENANCE))
    assert r.status_code == 200
    want = check({**MAINTENANCE, "symptoms": ["fever"]}, "US")
    assert f'id="decision">{want.decision.upper()}</p>' in r.text
    for card in want.cards:
        assert card.rule_id in r.text
    bad = client.post("/check", data={**_form(MAINTENANCE), "age": "-4"})
    assert bad.status_code == 422 and "age" in bad.text and 'role="alert"' in bad.text


def test_plan_forms_and_ics(client: TestClient) -> None:
    data = {"start": "2025-03-03", "route": "iv", "tz": "UTC", "doses": "2"}
    r = client.post("/plan", data=data)
    assert r.status_code == 200 and "2025-09-03" in r.text and 'id="visits"' in r.text
    ics = client.post("/plan/calendar.ics", data=data)
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
    assert ics.text.count("BEGIN:VEVENT") == len(planning.plan_patient(
        __import__("datetime").date(2025, 3, 3), "iv",
        options=planning.PlanOptions(maintenance_doses=2)).visits)
    day = client.post("/plan/day", data={"visit": "first"})
    assert day.status_code == 200
    assert f"infusion {planning.infusion_day('first').infusion_minutes:.0f} min" in day.text
    clinic = client.post("/plan/clinic", data={"chairs": "2", "nurses": "1",
                                               "patients_per_day": "4", "days": "1"})
    assert clinic.status_code == 200 and 'id="clinic-table"' in clinic.text
    bad = client.post("/plan", data={**data, "tz": "Nowhere/Land"})
    assert bad.status_code == 422 and "Nowhere/Land" in bad.text


def test_trials_page_and_api_equal_the_workflow(client: TestClient) -> None:
    from ocrelisim.workflows import trial

    r = client.post("/api/trials", json={"design": "opera1", "replicates": 1,
                                         "bank_size": 20, "seed": 4})
    assert r.status_code == 200
    want = trial("opera1", replicates=1, bank_size=20, seed=4, workers=1)
    summary = want.data["summary"]
    got = r.json()["summary"]
    assert len(got) == len(summary)
    assert [row["endpoint"] for row in got] == list(summary["endpoint"])
    page = client.post("/trials", data={"design": "opera1", "replicates": "1",
                                        "bank_size": "20", "seed": "4"})
    assert page.status_code == 200 and 'id="report-title"' in page.text
    bad = client.post("/trials", data={"replicates": "99"})
    assert bad.status_code == 422 and "replicates" in bad.text


def test_trials_page_offers_every_trial_preset(client: TestClient) -> None:
    from ocrelisim import trials
    from ocrelisim.interfaces.web._compute import TRIAL_PRESETS

    page = client.get("/trials").text
    for name in TRIAL_PRESETS:
        assert trials.preset(name).n > 0 and f'value="{name}"' in page


def test_forecast_page_offers_the_form(client: TestClient) -> None:
    html = client.get("/forecast").text
    assert 'id="forecast-form"' in html and 'enctype="multipart/form-data"' in html
    assert "Not built yet" not in html  # tests/web/test_web_forecast.py runs it
