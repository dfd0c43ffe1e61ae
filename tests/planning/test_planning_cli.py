"""``ocrelisim plan patient|day|clinic`` end to end with CliRunner: files, JSON fields, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from ocrelisim._meta import DISCLAIMER
from ocrelisim.interfaces.cli import app

runner = CliRunner()


def test_plan_patient_writes_ics_csv_html(tmp_path: Path) -> None:
    ics, csv, html = tmp_path / "p.ics", tmp_path / "p.csv", tmp_path / "out" / "p.html"
    res = runner.invoke(app, ["plan", "patient", "--start", "2025-03-31", "--route", "iv",
                              "--tz", "Europe/Berlin", "--ics", str(ics), "--csv", str(csv),
                              "--html", str(html)])
    assert res.exit_code == 0, res.output
    assert DISCLAIMER in " ".join(res.output.split())
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")
                 if e.get("CATEGORIES").to_ical() == b"DOSE"]
    assert summaries[:3] == ["Ocrelizumab 300 mg IV - dose 1", "Ocrelizumab 300 mg IV - dose 2",
                             "Ocrelizumab 600 mg IV - dose 3"]
    assert csv.read_text().startswith(f"# {DISCLAIMER}")
    page = html.read_text()
    assert DISCLAIMER in page and "2025-09-30" in page


def test_plan_patient_from_natalizumab_json() -> None:
    res = runner.invoke(app, ["plan", "patient", "--from", "natalizumab",
                              "--prior-last-dose", "2025-01-15", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["switch"]["start"] == "2025-02-15" and out["switch"]["gap_days"] == 31
    doses = [v for v in out["visits"] if v["kind"] == "dose"]
    assert doses[0]["date"] == "2025-02-15"


def test_plan_patient_history_flags_close_doses(tmp_path: Path) -> None:
    f = tmp_path / "h.yaml"
    f.write_text("previous_doses:\n  - {date: 2024-01-10, route: IV, dose_mg: 300}\n"
                 "  - {date: 2024-01-24, route: IV, dose_mg: 300}\n"
                 "  - {date: 2024-05-01, route: IV, dose_mg: 600}\n")
    res = runner.invoke(app, ["plan", "patient", "--start", "2024-06-01", "--history", str(f),
                              "--json"])
    assert res.exit_code == 0, res.output
    (finding,) = json.loads(res.output)["findings"]
    assert finding["rule"] == "min-interval-5-months" and finding["source"] == "[S3][S4][S87]"


@pytest.mark.parametrize(("args", "words"), [
    (["plan", "patient", "--start", "2025-02-30"], "not a calendar date"),
    (["plan", "patient", "--start", "2025-03-01", "--from", "rituximab",
      "--prior-last-dose", "2025-01-01"], "not one the plan has"),
    (["plan", "patient", "--start", "2025-03-01", "--tz", "Nowhere/City"], "IANA"),
    (["plan", "day", "--visit", "long"], "not a visit type"),
    (["plan", "clinic", "--chairs", "0", "--nurses", "1"], "at least one chair"),
    (["plan", "clinic", "--chairs", "2", "--nurses", "0"], "at least one nurse"),
    (["plan", "clinic", "--chairs", "2", "--nurses", "1", "--mix", "first=0.5"], "sum to"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], words: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert words in " ".join(res.output.split())
    assert "Traceback" not in res.output


def test_plan_day_json_fields() -> None:
    res = runner.invoke(app, ["plan", "day", "--visit", "maintenance", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"steps", "infusion_minutes", "chair_minutes", "on_site_minutes"} <= set(out)
    assert all({"name", "start_min", "end_min"} <= set(s) for s in out["steps"])
    assert out["infusion_minutes"] == 210.0 and out["on_site_minutes"] == 330.0  # [S3][S16]
    rates = [s["rate_ml_h"] for s in out["steps"] if s["kind"] == "infusion"]
    assert rates == [40.0, 80.0, 120.0, 160.0, 200.0]


def test_plan_day_with_n_prints_the_distribution() -> None:
    res = runner.invoke(app, ["plan", "day", "--visit", "sc", "--n", "5", "--json"])
    out = json.loads(res.output)
    assert out["chair_time"]["n"] == 5.0 and out["chair_time"]["median"] == 70.0
    text = runner.invoke(app, ["plan", "day", "--visit", "first"]).output
    assert "180" in text and "on site 278 min" in text  # 158.3 + 2 x 60 min


def test_plan_clinic_json_and_report(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", "clinic", "--chairs", "2", "--nurses", "1", "--days", "1",
                              "--patients-per-day", "6", "--effort", "0.1", "--json",
                              "--out", str(tmp_path / "clinic")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    methods = [row["method"] for row in out["summary"]]
    assert methods == ["first-come", "optimised"]
    first, best = out["summary"]
    assert best["treated_per_day"] >= first["treated_per_day"]
    assert next(s["scenario"] for s in out["scenarios"]) == "as given"
    assert (tmp_path / "clinic" / "chairs.png").stat().st_size > 1000
    assert DISCLAIMER in (tmp_path / "clinic" / "index.html").read_text()


@pytest.mark.parametrize("command", [["plan"], ["plan", "patient"], ["plan", "day"],
                                     ["plan", "clinic"]])
def test_every_plan_help_carries_the_disclaimer(command: list[str]) -> None:
    res = runner.invoke(app, [*command, "--help"])
    assert res.exit_code == 0
    assert DISCLAIMER in " ".join(res.output.replace("│", " ").split())
