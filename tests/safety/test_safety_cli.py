"""``ocrelisim safety check``, end to end with CliRunner: exit codes and exact key lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from _records import MAINTENANCE, make
from typer.testing import CliRunner

from ocrelisim._meta import DISCLAIMER
from ocrelisim.interfaces.safety_cli import app
from ocrelisim.safety import rule_ids

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "safety"
ENV = {"COLUMNS": "200", "TERMINAL_WIDTH": "200", "NO_COLOR": "1"}


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.stdout, result.stderr


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name, code, decision_line, card_line", [
    ("dose", 0, "Decision: DOSE", "No rule asks to delay or stop this dose."),
    ("delay", 3, "Decision: DELAY",
     "  CRITICAL Active infection: delay the dose until the infection has resolved. "
     "(INFECTION-ACTIVE [S4][S20][W2])"),
    ("do-not-dose", 4, "Decision: DO NOT DOSE",
     "  CRITICAL Hepatitis B surface antigen (HBsAg) is positive: do not give ocrelizumab. "
     "(HBV-SURFACE-POSITIVE [S19][S20b][S6])"),
    ("cannot-decide", 5, "Decision: CANNOT DECIDE",
     "  WARNING  Hepatitis B core antibody (anti-HBc) result is unknown: it is needed to "
     "decide. (HBV-CORE-MISSING [S20b][S6])"),
])
def test_examples_exit_codes_and_key_lines(name: str, code: int, decision_line: str,
                                           card_line: str) -> None:
    exit_code, out, err = _invoke("check", str(EXAMPLES / f"{name}.yaml"))
    assert exit_code == code
    lines = _lines(out)
    assert lines[0] == "Pre-dose check, 2026-11-30, US label"
    assert lines[2] == decision_line
    assert card_line in lines
    assert lines[-1] == DISCLAIMER
    assert "not a treatment decision" in out
    assert err == ""


def test_dose_output_lines_for_a_maintenance_infusion() -> None:
    _, out, _ = _invoke("check", str(EXAMPLES / "dose.yaml"))
    lines = _lines(out)
    assert lines[1] == "Planned: 600 mg IV, standard infusion (at least 3.5 h) [S3]"
    assert ("  - Methylprednisolone 100 mg IV (or equivalent) about 30 minutes before the "
            "infusion. [S3][S5]") in lines
    assert ("  - Observe during the infusion and for at least 1 hour after it ends. "
            "[S3][S19]") in lines
    assert ("  - Earliest allowed date for this dose (5 months): 2026-11-02 [S3][S4]") in lines
    assert ("  - Patients who can become pregnant: use effective contraception during treatment "
            "and for 6 months after the last dose (US label). [S19][S69]") in lines


def test_eu_label_option() -> None:
    code, out, _ = _invoke("check", str(EXAMPLES / "dose.yaml"), "--label", "eu")
    assert code == 0
    assert "Pre-dose check, 2026-11-30, EU label" in out
    assert "for 12 months after the last dose (EU label). [S66][S68]" in out


def test_json_output() -> None:
    code, out, _ = _invoke("check", str(EXAMPLES / "delay.yaml"), "--json")
    assert code == 3
    data = json.loads(out)
    assert data["decision"] == "delay" and data["label"] == "US"
    assert data["disclaimer"] == DISCLAIMER
    assert [t["rule_id"] for t in data["trace"]] == list(rule_ids())
    fired = sorted(t["rule_id"] for t in data["trace"] if t["fired"])
    assert fired == ["INFECTION-ACTIVE", "MIN-INTERVAL"]
    assert data["interval"]["earliest_allowed"] == "2026-12-20"  # 2026-07-20 + 5 months


@pytest.mark.parametrize("changes, start", [
    ({"age": -3}, "error: patient record: age: age -3 years is negative"),
    ({"igg_g_per_l": "7 mmol/L"}, "error: patient record: igg_g_per_l: unknown unit 'mmol/L'"),
    ({"previous_doses": [{"date": "2027-01-01", "route": "IV", "dose_mg": 600}]},
     "error: patient record: previous_doses[0].date 2027-01-01 is after check_date"),
    ({"hbv": {"hbsag": "borderline"}}, "error: patient record: hbv.hbsag: Input should be"),
])
def test_bad_input_is_one_line_naming_the_field(tmp_path: Path, changes: dict[str, object],
                                                start: str) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(yaml.safe_dump(make(MAINTENANCE, **changes)), encoding="utf-8")
    code, out, err = _invoke("check", str(path))
    assert code == 2
    assert out == ""
    assert len(_lines(err)) == 1 and err.startswith(start), err
    assert "Traceback" not in err


def test_bad_label_and_missing_file_exit_2(tmp_path: Path) -> None:
    code, _, err = _invoke("check", str(EXAMPLES / "dose.yaml"), "--label", "UK")
    assert code == 2 and err.startswith("error: label = 'UK'; use one of US, EU")
    code, _, err = _invoke("check", str(tmp_path / "nobody.yaml"))
    assert code == 2 and "cannot be read" in err


@pytest.mark.parametrize("args", [["--help"], ["check", "--help"]])
def test_help_carries_the_disclaimer(args: list[str]) -> None:
    code, out, _ = _invoke(*args)
    assert code == 0
    assert DISCLAIMER in " ".join(out.replace("│", " ").split())


def test_registered_under_the_main_command() -> None:
    from ocrelisim.interfaces.cli import app as main_app

    result = CliRunner().invoke(main_app, ["safety", "check", str(EXAMPLES / "delay.yaml")],
                                env=ENV)
    assert result.exit_code == 3
    assert "Decision: DELAY" in result.stdout
    help_text = CliRunner().invoke(main_app, ["safety", "--help"], env=ENV).stdout
    assert DISCLAIMER in " ".join(help_text.replace("│", " ").split())
