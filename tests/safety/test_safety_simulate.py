"""The safety workflow and ``ocrelisim safety simulate`` (runs the immune model for IgG: small
populations, one year)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.interfaces.safety_cli import app
from ocrelisim.workflows._safety import safety

ENV = {"COLUMNS": "200", "TERMINAL_WIDTH": "200", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def iv_report():  # type: ignore[no-untyped-def]
    return safety("iv", n=400, years=1.0, seed=3)


def test_workflow_tables_follow_the_label_course(iv_report) -> None:  # type: ignore[no-untyped-def]
    per_dose = iv_report.data["infusions"]
    assert per_dose["number"].tolist() == [1, 2, 3, 4]  # days 0, 14, 168, 336 < 1 year
    assert per_dose["dose_mg"].tolist() == [300.0, 300.0, 600.0, 600.0]
    # model shares 26.6%, 12.2%, 8.6%, 7.5% (calibrated, see test_safety_reactions): 4 SE at
    # n = 400 is about 0.044 for the first infusion
    assert abs(per_dose["share_with_irr"].iloc[0] - 0.266) <= 0.045
    summary = iv_report.data["summary"].iloc[0]
    assert 0.0 <= summary["patients_with_serious_irr"] <= summary["patients_with_irr"] <= 1.0
    assert abs(summary["irr_per_100py"] - 100 * (0.266 + 0.122 + 0.086 + 0.075)) <= 12.0
    assert np.isfinite(summary["serious_infections_per_100py"])
    assert iv_report.kind == "safety" and iv_report.disclaimer == DISCLAIMER
    assert set(iv_report.figures) == {"safety"}


def test_sc_regimen_and_label_doses_only() -> None:
    report = safety("sc", n=50, years=1.0, seed=4)
    assert report.data["infusions"]["route"].tolist() == ["SC", "SC", "SC"]
    with pytest.raises(InvalidInputError, match="label doses only"):
        safety("1200 mg IV q24w x 2", n=10, years=1.0)


def test_cli_json_has_the_issue_keys() -> None:
    result = CliRunner().invoke(app, ["simulate", "--n", "40", "--years", "1", "--json"],
                                env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"infusions", "patients_with_irr", "irr_per_100py",
                         "serious_infections_per_100py", "disclaimer"}
    assert [set(row) for row in data["infusions"]] == [
        {"number", "dose_mg", "share_with_irr", "share_serious"}] * 4
    assert all(0.0 <= row["share_with_irr"] <= 1.0 for row in data["infusions"])


def test_cli_writes_html_with_the_disclaimer(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--n", "20", "--years", "1", "--out",
                                      str(tmp_path)], env=ENV)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert DISCLAIMER in html
    assert (tmp_path / "infusions.csv").exists() and (tmp_path / "safety.png").exists()
    assert result.stdout.rstrip().splitlines()[-1] == DISCLAIMER


def test_cli_bad_years_exit_2() -> None:
    result = CliRunner().invoke(app, ["simulate", "--years", "-1"], env=ENV)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --years = -1.0; give a finite number of years > 0")
