"""Patient records: units, unknown results, and bad input that names the field; a property
test that no generated record crashes the check (a result or InvalidInputError, nothing else)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from _records import FIRST_DOSE, MAINTENANCE, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocrelisim.errors import InvalidInputError
from ocrelisim.safety import check, load_record, parse_record

M = MAINTENANCE


def test_units_are_converted() -> None:
    record = parse_record(make(M, weight_kg="154 lb", igg_g_per_l="620 mg/dL"))
    assert abs(record.weight_kg - 154 * 0.45359237) < 1e-12
    assert abs(record.igg_g_per_l - 6.2) < 1e-12  # type: ignore[operator]
    assert parse_record(make(M, igg_g_per_l="6.2 mg/mL")).igg_g_per_l == 6.2


def test_unknown_and_absent_are_kept_apart_from_bad_values() -> None:
    record = parse_record(make(M, hbv={"hbsag": " Negative ", "anti_hbc": "UNKNOWN"},
                               igg_g_per_l="unknown", pregnant="unknown"))
    assert record.hbv.hbsag == "negative" and record.hbv.anti_hbc == "unknown"
    assert record.igg_g_per_l is None and record.pregnant == "unknown"
    assert parse_record(make(M, hbv=None, symptoms=None)).hbv.hbsag is None


@pytest.mark.parametrize("changes, field", [
    ({"age": -1}, "age"),
    ({"age": "forty"}, "age"),
    ({"weight_kg": "70 stone"}, "weight_kg"),
    ({"weight_kg": float("nan")}, "weight_kg"),
    ({"igg_g_per_l": -0.1}, "igg_g_per_l"),
    ({"igg_g_per_l": "6 mmol/L"}, "igg_g_per_l"),
    ({"hbv": {"hbsag": "weakly positive"}}, "hbv.hbsag"),
    ({"hbv": {"anti_hbc": True}}, "hbv.anti_hbc"),
    ({"hbv": {"hbsAg": "negative"}}, "hbv.hbsAg"),
    ({"planned": {"route": "IV", "dose_mg": 500}}, "planned.dose_mg"),
    ({"planned": {"route": "IM", "dose_mg": 600}}, "planned.route"),
    ({"planned": {"route": "IV", "dose_mg": 300, "protocol": "shorter"}}, "planned.protocol"),
    ({"planned": {"route": "SC", "dose_mg": "920"}}, "planned.dose_mg"),
    ({"planned": None}, "planned"),
    ({"check_date": None}, "check_date"),
    ({"check_date": "30/11/2026"}, "check_date"),
    ({"check_date": "2026-11-30T10:00:00"}, "check_date"),
    ({"active_infection": "yes"}, "active_infection"),
    ({"pregnant": 1}, "pregnant"),
    ({"diagnosis": "SPMS"}, "diagnosis"),
    ({"symptoms": [1, 2]}, "symptoms"),
    ({"previous_doses": [{"date": "2026-12-01", "route": "IV", "dose_mg": 600}]},
     "previous_doses[0].date"),
    ({"previous_doses": [{"date": "2026-06-01", "route": "IV", "dose_mg": 600},
                         {"date": "2026-06-01", "route": "IV", "dose_mg": 600}]},
     "previous_doses[1].date"),
    ({"previous_doses": [{"date": "2026-06-01", "route": "SC", "dose_mg": 600}]},
     "previous_doses[0].dose_mg"),
    ({"previous_doses": [{"date": "2026-06-01", "route": "IV", "dose_mg": 600,
                          "reaction": "bad"}]}, "previous_doses[0].reaction"),
    ({"vaccinations": [{"date": "2026-12-24", "name": "flu", "live": False}]},
     "vaccinations[0].date"),
    ({"vaccinations": [{"date": "2026-10-01", "name": "flu"}]}, "vaccinations[0].live"),
    ({"prior_therapy": {"name": "fingolimod", "last_dose": "2027-01-01"}},
     "prior_therapy.last_dose"),
    ({"hbsag": "negative"}, "hbsag"),
])
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    record = make(M, **{k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        record.pop(key)
    with pytest.raises(InvalidInputError) as info:
        check(record)
    message = str(info.value)
    assert message.startswith("patient record: ")
    assert f"{field}:" in message or f"{field} " in message, message
    assert "\n" not in message


def test_bad_label_names_the_option() -> None:
    with pytest.raises(InvalidInputError, match=r"label = 'UK'; use one of US, EU"):
        check(M, label="UK")


def test_files_yaml_json_and_errors(tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(M), encoding="utf-8")
    assert check(load_record(as_json)).decision == "dose"
    broken = tmp_path / "p.yaml"
    broken.write_text("check_date: [2026-11-30\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is not valid YAML"):
        load_record(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="expected a mapping of fields, got list"):
        load_record(listing)
    with pytest.raises(InvalidInputError, match="cannot be read"):
        load_record(tmp_path / "missing.yaml")


# ---- property: no record crashes the check ---------------------------------------------------

_junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                       st.integers(), max_size=2))
_dates = st.dates(dt.date(2020, 1, 1), dt.date(2028, 12, 31))
_date_in = st.one_of(_dates, _dates.map(dt.date.isoformat), _junk)
_test = st.one_of(st.sampled_from(["positive", "negative", "unknown", "Positive "]), _junk)
_flag = st.one_of(st.booleans(), st.just("unknown"), _junk)
_route_dose = st.sampled_from([("IV", 300), ("IV", 600), ("SC", 920), ("IV", 920), ("XX", 1)])
_dose = st.builds(lambda rd, d, x: {"route": rd[0], "dose_mg": rd[1], "date": d, "reaction": x},
                  _route_dose, _date_in,
                  st.sampled_from([None, "none", "mild", "severe", "life-threatening", "x"]))
_planned = st.builds(lambda rd, p: {"route": rd[0], "dose_mg": rd[1], "protocol": p},
                     _route_dose, st.sampled_from(["standard", "shorter", "fast"]))
_vaccine = st.fixed_dictionaries({"date": _date_in, "name": st.text(max_size=5),
                                  "live": _flag})
_symptoms = st.one_of(st.lists(st.sampled_from(["fever", "confusion", "none", "headache",
                                                "one-sided weakness"]), max_size=3),
                      st.just("unknown"), _junk)
_fields = {
    "check_date": _date_in, "age": st.one_of(st.floats(-5, 120), _junk),
    "weight_kg": st.one_of(st.floats(0, 300), st.sampled_from(["70 kg", "150 lb", "7 st"]),
                           _junk),
    "planned": st.one_of(_planned, _junk), "diagnosis": st.one_of(st.just("PPMS"), _junk),
    "previous_doses": st.one_of(st.lists(_dose, max_size=3), _junk),
    "hbv": st.one_of(st.fixed_dictionaries({}, optional={"hbsag": _test, "anti_hbc": _test}),
                     _junk),
    "active_infection": _flag, "pregnant": _flag,
    "igg_g_per_l": st.one_of(st.floats(-1, 20), st.sampled_from(["6 g/L", "600 mg/dL",
                                                                 "6 mol", "unknown"]), _junk),
    "vaccinations": st.one_of(st.lists(_vaccine, max_size=2), _junk),
    "symptoms": _symptoms,
    "prior_therapy": st.one_of(st.none(), st.fixed_dictionaries(
        {"name": st.sampled_from(["natalizumab", "", "fingolimod"])},
        optional={"last_dose": _date_in}), _junk),
}
_records = st.fixed_dictionaries({}, optional=_fields)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=_records, label=st.sampled_from(["US", "EU"]))
def test_no_record_crashes_the_check(record: dict[str, Any], label: str) -> None:
    try:
        result = check(record, label=label)
    except InvalidInputError as exc:
        assert str(exc).startswith("patient record: ")
        return
    assert result.decision in ("dose", "delay", "do not dose", "cannot decide")
    assert len(result.trace) == 27


@settings(max_examples=150, deadline=None)
@given(record=st.fixed_dictionaries({
    "check_date": _dates, "age": st.floats(18, 90), "weight_kg": st.floats(40, 150),
    "planned": _planned.filter(lambda p: p["protocol"] == "standard" and p["route"] != "XX"
                               and (p["route"], p["dose_mg"]) != ("IV", 920)),
    "hbv": st.fixed_dictionaries({}, optional={"hbsag": st.sampled_from(["negative",
                                                                         "unknown"]),
                                              "anti_hbc": st.sampled_from(["negative",
                                                                           "unknown"])}),
    "active_infection": st.sampled_from([False, "unknown"]),
}))
def test_valid_records_never_silently_dose_without_tests(record: dict[str, Any]) -> None:
    """A record without a status the rules need (pregnancy is never given here) is never
    'dose': it is 'cannot decide', and the trace names each missing test."""
    result = check(record)
    assert result.decision == "cannot decide"
    fired = {t.rule_id for t in result.trace if t.fired}
    assert "PREGNANCY-STATUS-MISSING" in fired
    hbv = record["hbv"]
    assert ("HBV-SURFACE-MISSING" in fired) == (hbv.get("hbsag", "unknown") == "unknown")
    assert ("HBV-CORE-MISSING" in fired) == (hbv.get("anti_hbc", "unknown") == "unknown")
    assert ("INFECTION-STATUS-MISSING" in fired) == (record["active_infection"] == "unknown")


def test_first_dose_record_is_valid() -> None:
    assert parse_record(FIRST_DOSE).previous_doses == ()
