"""End to end in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) drives every page of a live server: fill a form, submit, see the plot and
the numbers, download the .ics; one form by keyboard only; axe-core finds no accessibility
violation. Skipped, with the reason, where the browser or its driver is not installed.

``OCRELISIM_SCREENSHOTS=1`` also writes the README's screenshots to ``docs/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrelisim import Population, Regimen, simulate
from ocrelisim.safety import check
from ocrelisim.workflows import covering_doses

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ASSETS = Path(__file__).parent / "assets"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
           "/usr/bin/chromedriver): apt-get install -y chromium chromium-driver")

webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (test extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    from ocrelisim.interfaces.web import create_app

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                        log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1600", "--lang=en-US"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(180)
    yield driver
    driver.quit()


def _wait(driver: Any, seconds: float = 60) -> Any:
    return WebDriverWait(driver, seconds)


def _drawn(driver: Any, plot_id: str) -> None:
    """Plotly drew the figure (app.js marks it) with at least one trace."""
    _wait(driver).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f'#{plot_id}[data-drawn="true"]')))
    traces, marks = driver.execute_script(
        "const div = document.getElementById(arguments[0]);"
        "return [div.data.length, div.querySelectorAll('.point path, path.js-line').length]",
        plot_id)
    assert traces >= 1 and marks >= 1  # bars or lines actually drawn


def _set(driver: Any, field_id: str, value: str) -> None:
    el = driver.find_element(By.ID, field_id)
    if el.get_attribute("type") == "date":  # locale-independent
        driver.execute_script("arguments[0].value = arguments[1]", el, value)
        return
    el.clear()
    el.send_keys(value)


def _submit(driver: Any, form_id: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()


def _shot(driver: Any, name: str, tmp: Path) -> None:
    target = SCREENSHOTS if os.environ.get("OCRELISIM_SCREENSHOTS") == "1" else tmp
    target.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(target / name))
    assert (target / name).read_bytes()[:4] == b"\x89PNG"


def _axe(driver: Any) -> list[dict[str, Any]]:
    """axe-core (packaged in tests/web/assets) on the current page: WCAG 2 A/AA violations."""
    driver.execute_script((ASSETS / "axe.min.js").read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
        ".catch(e => done([{id: 'axe-error', impact: String(e), nodes: []}]));")
    return list(result)


def test_explainer(browser: Any, server: str, tmp_path: Path) -> None:
    browser.get(f"{server}/explainer")
    _set(browser, "weight_kg", "60")
    _set(browser, "years", "1")
    _submit(browser, "explainer-form")
    for plot in ("fig-concentration", "fig-bcells", "fig-tcells", "fig-day-0"):
        _drawn(browser, plot)
    rows = browser.find_elements(By.CSS_SELECTOR, "#milestones tbody tr")
    first = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert first[:2] == ["iv", "14"]
    want = simulate(Regimen.preset("iv", maintenance_doses=covering_doses(365.25)),
                    Population.typical(60.0), np.arange(0.0, 366.0), model="immune",
                    variables=["C"]).concentration[0, 14]
    assert float(first[2]) == pytest.approx(round(want, 2), abs=0.006)
    assert "Measured vs modelled" in browser.page_source
    _shot(browser, "explainer.png", tmp_path)


def test_exposure(browser: Any, server: str, tmp_path: Path) -> None:
    browser.get(f"{server}/exposure")
    _set(browser, "n", "5")
    _set(browser, "days", "120")
    _submit(browser, "exposure-form")
    _drawn(browser, "panel-0")
    cells = browser.find_elements(By.CSS_SELECTOR, "#exposure-table tbody td")
    assert cells and any(re.search(r"\d", c.text) for c in cells)
    assert "5 patients, 120 days" in browser.find_element(By.ID, "summary").text
    # Covariates from a file on this computer: read by the browser into the form.
    covariates = tmp_path / "covariates.csv"
    covariates.write_text("WT,AGE\n55,30\n80,41\n101,52\n")
    browser.find_element(By.ID, "covariates_file").send_keys(str(covariates))
    _wait(browser).until(lambda d: "101" in d.find_element(By.ID, "covariates_csv")
                         .get_attribute("value"))
    _submit(browser, "exposure-form")
    _drawn(browser, "panel-0")
    assert "3 patients, 120 days" in browser.find_element(By.ID, "summary").text


def test_check(browser: Any, server: str, tmp_path: Path) -> None:
    browser.get(f"{server}/check")
    for field, value in (("check_date", "2026-11-30"), ("age", "41"), ("weight_kg", "72"),
                         ("igg_g_per_l", "8.4"), ("dose0_date", "2025-11-24"),
                         ("dose1_date", "2025-12-08"), ("dose2_date", "2026-06-02")):
        _set(browser, field, value)
    for field, value in (("dose0_mg", "300"), ("dose1_mg", "300"), ("dose2_mg", "600"),
                         ("hbv_hbsag", "negative"), ("hbv_anti_hbc", "positive"),
                         ("active_infection", "false"), ("pregnant", "false")):
        Select(browser.find_element(By.ID, field)).select_by_value(value)
    browser.find_element(By.ID, "symptom_fever").click()
    _submit(browser, "check-form")
    decision = _wait(browser).until(ec.presence_of_element_located((By.ID, "decision")))
    record = {"check_date": "2026-11-30", "age": 41, "weight_kg": 72, "igg_g_per_l": 8.4,
              "planned": {"route": "IV", "dose_mg": 600},
              "previous_doses": [{"date": d, "route": "IV", "dose_mg": mg} for d, mg in (
                  ("2025-11-24", 300), ("2025-12-08", 300), ("2026-06-02", 600))],
              "hbv": {"hbsag": "negative", "anti_hbc": "positive"},
              "active_infection": False, "pregnant": False, "symptoms": ["fever"]}
    want = check(record, "US")
    assert decision.text == want.decision.upper()
    shown = browser.find_element(By.ID, "result").text
    for card in want.cards:
        assert card.rule_id in shown
    browser.execute_script("document.getElementById('result').scrollIntoView()")
    _shot(browser, "check.png", tmp_path)


def test_plan_ics_day_and_clinic(browser: Any, server: str, downloads: Path) -> None:
    browser.get(f"{server}/plan")
    _drawn(browser, "fig-day")
    _set(browser, "start", "2025-03-03")
    _set(browser, "doses", "2")
    _submit(browser, "plan-form")
    visits = _wait(browser).until(ec.presence_of_element_located((By.ID, "visits")))
    assert "2025-09-03" in visits.text
    browser.find_element(By.ID, "ics-button").click()
    deadline = time.monotonic() + 30
    while not list(downloads.glob("*.ics")):
        assert time.monotonic() < deadline, "no .ics downloaded"
        time.sleep(0.2)
    ics = next(downloads.glob("*.ics")).read_text()
    assert ics.startswith("BEGIN:VCALENDAR") and "20250303" in ics
    Select(browser.find_element(By.ID, "visit")).select_by_value("sc")
    _submit(browser, "day-form")
    _drawn(browser, "fig-day")
    assert "sc visit, 920 mg" in browser.find_element(By.ID, "day-summary").text
    _set(browser, "chairs", "2")
    _set(browser, "patients_per_day", "4")
    _submit(browser, "clinic-form")
    _drawn(browser, "panel-0")
    assert "treated per day" in browser.find_element(By.ID, "clinic-table").text


def test_trials(browser: Any, server: str) -> None:
    browser.get(f"{server}/trials")
    _set(browser, "replicates", "1")
    _set(browser, "bank_size", "20")
    _submit(browser, "trials-form")
    title = _wait(browser, 120).until(ec.presence_of_element_located((By.ID, "report-title")))
    assert "OPERA I" in title.text
    _drawn(browser, "panel-0")


def test_forecast_and_home(browser: Any, server: str, tmp_path: Path) -> None:
    browser.get(f"{server}/forecast")
    browser.find_element(By.ID, "run-example").click()
    _wait(browser).until(ec.presence_of_element_located((By.ID, "answer-1")))
    assert "B cells" in browser.find_element(By.ID, "answer-0").text
    _drawn(browser, "fc-0-bcells")
    _drawn(browser, "fc-1-probability")
    assert _axe(browser) == []  # the result page too
    browser.execute_script("document.getElementById('result-0').scrollIntoView()")
    _shot(browser, "forecast.png", tmp_path)
    browser.get(f"{server}/")
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert f"{server}/check" in links and f"{server}/docs" in links


def test_docs_work_offline(browser: Any, server: str) -> None:
    browser.get(f"{server}/docs")
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    assert "/api/check" in browser.page_source


def test_keyboard_only(browser: Any, server: str) -> None:
    """The day form by keyboard: Tab to the skip link, to the visit list, choose, Enter."""
    browser.get(f"{server}/plan")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to content"
    for _ in range(80):
        if browser.switch_to.active_element.get_attribute("id") == "visit":
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    else:
        pytest.fail("Tab never reached the visit list")
    browser.switch_to.active_element.send_keys("s")  # "short" then "sc": type to choose
    browser.switch_to.active_element.send_keys(Keys.TAB)  # SC first injection
    browser.switch_to.active_element.send_keys(Keys.TAB)  # the submit button
    assert browser.switch_to.active_element.text == "Show the day"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    summary = _wait(browser).until(ec.presence_of_element_located((By.ID, "day-summary")))
    assert summary.text.startswith("short visit")


@pytest.mark.parametrize("path", ["/", "/explainer", "/exposure", "/check", "/plan",
                                  "/trials", "/forecast"])
def test_accessibility_axe(browser: Any, server: str, path: str) -> None:
    browser.get(f"{server}{path}")
    assert _axe(browser) == []


def test_accessibility_of_a_result(browser: Any, server: str) -> None:
    browser.get(f"{server}/plan")
    _set(browser, "start", dt.date(2025, 3, 3).isoformat())
    _submit(browser, "plan-form")
    _wait(browser).until(ec.presence_of_element_located((By.ID, "visits")))
    assert _axe(browser) == []
