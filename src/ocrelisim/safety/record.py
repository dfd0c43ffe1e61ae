"""The patient record read by the pre-dose check: pydantic models, YAML/JSON loading.

Field names are those of issue 13. Required: ``check_date``, ``age``, ``weight_kg``, ``planned``.
A test result that is absent or the literal ``unknown`` is kept as "not known" (the check then
answers "cannot decide" where a rule needs it); any other unrecognised value, an impossible
value (a dose after the check date, a negative age or IgG) or an unknown unit is bad input and
raises :class:`~ocrelisim.errors.InvalidInputError` naming the field, e.g.
``previous_doses[1].date``.

Units: ``weight_kg`` is a number in kg or a string with a unit (``"70 kg"``, ``"154 lb"``);
``igg_g_per_l`` a number in g/L or a string (``"6.2 g/L"``, ``"620 mg/dL"``, ``"6.2 mg/mL"``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ..errors import InvalidInputError
from ..io import read_structured

UNKNOWN = "unknown"
"""The literal a record uses for a test that was not done or whose result is not known."""

IV_DOSES_MG = (300.0, 600.0)
"""Label IV doses: 300 mg (the two starting infusions) and 600 mg [S3][S4]."""
SC_DOSES_MG = (920.0,)
"""Label SC dose (Ocrevus Zunovo / Ocrevus 920 mg SC) [S6][S7]."""

AGE_BOUNDS = (0.0, 130.0)  # years; outside is not a human age (a plausibility bound, ours)
WEIGHT_BOUNDS_KG = (1.0, 400.0)  # kg; plausibility bound (ours)
IGG_BOUNDS_G_PER_L = (0.0, 150.0)  # g/L; above any reported serum IgG (plausibility bound, ours)

_WEIGHT_UNITS = {"kg": 1.0, "lb": 0.45359237}
_IGG_UNITS = {"g/L": 1.0, "mg/mL": 1.0, "mg/dL": 0.01, "g/dL": 10.0}
_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z/]+)\s*$")


def _date(value: object) -> object:
    """A calendar date: a ``date`` or an ISO ``YYYY-MM-DD`` string (no times, no numbers)."""
    if isinstance(value, dt.datetime):
        raise ValueError("give a date (YYYY-MM-DD) without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("give a date as YYYY-MM-DD")


def _quantity(units: dict[str, float], unit_name: str, *, optional: bool = False
              ) -> BeforeValidator:
    """A number in the field's unit, or a string '<number> <unit>' converted to it; for an
    optional test result, absent (null) or the literal ``unknown`` is kept as None."""

    def convert(value: object) -> object:
        if optional and (value is None or (isinstance(value, str)
                                           and value.strip().lower() == UNKNOWN)):
            return None
        if isinstance(value, bool):
            raise ValueError(f"give a number in {unit_name}")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            match = _QUANTITY.match(value)
            if match is None:
                raise ValueError(f"give a number in {unit_name}, or a number and a unit "
                                 f"({', '.join(units)})")
            lower = {u.lower(): f for u, f in units.items()}
            unit = match.group(2).lower()
            if unit not in lower:
                raise ValueError(f"unknown unit {match.group(2)!r}; use one of "
                                 f"{', '.join(units)}")
            number = float(match.group(1)) * lower[unit]
        else:
            raise ValueError(f"give a number in {unit_name}")
        if not math.isfinite(number):
            raise ValueError("give a finite number")
        return number

    return BeforeValidator(convert)


def _bounded(bounds: tuple[float, float], unit: str) -> Any:
    lo, hi = bounds

    def check(value: float) -> float:
        if not lo <= value <= hi:
            raise ValueError(f"{value:g} {unit} is outside [{lo:g}, {hi:g}] {unit}")
        return value

    return check


def _word(value: object) -> object:
    """Test results and codes: case and surrounding blanks do not matter."""
    return value.strip().lower() if isinstance(value, str) else value


Date = Annotated[dt.date, BeforeValidator(_date)]
TestResult = Annotated[Literal["positive", "negative", "unknown"] | None, BeforeValidator(_word)]
def _flag(value: object) -> object:
    """true / false, or the literal unknown; nothing else (no yes/no, no 0/1)."""
    value = _word(value)
    if value is None or isinstance(value, bool) or value == UNKNOWN:
        return value
    raise ValueError("give true, false or unknown")


Flag = Annotated[StrictBool | Literal["unknown"] | None, BeforeValidator(_flag)]
Route = Annotated[Literal["IV", "SC"], BeforeValidator(lambda v: v.upper()
                                                      if isinstance(v, str) else v)]
Reaction = Annotated[
    Literal["none", "mild", "moderate", "severe", "life-threatening", "unknown"] | None,
    BeforeValidator(_word)]


def _dose_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("give the dose as a number of mg")
    return value


def _check_label_dose(route: object, dose_mg: float) -> float:
    if route not in ("IV", "SC"):  # the route itself failed; its own error names it
        return dose_mg
    allowed = IV_DOSES_MG if route == "IV" else SC_DOSES_MG
    if dose_mg not in allowed:
        names = " or ".join(f"{d:g} mg" for d in allowed)
        raise ValueError(f"{dose_mg:g} mg {route} is not a label dose; {route} doses are "
                         f"{names} [S3][S4][S6]")
    return dose_mg


def _on_label(value: float, info: ValidationInfo) -> float:
    return _check_label_dose(info.data.get("route"), value)


LabelDose = Annotated[float, BeforeValidator(_dose_number), AfterValidator(_on_label)]
"""A dose in mg that is a label dose for the model's ``route`` (declared before ``dose_mg``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PlannedDose(_Strict):
    """The dose planned for ``check_date``: route, amount and, for 600 mg IV, the protocol."""

    route: Route
    dose_mg: LabelDose
    protocol: Annotated[Literal["standard", "shorter"], BeforeValidator(_word)] = "standard"

    @field_validator("protocol")
    @classmethod
    def _shorter_600_only(cls, value: str, info: ValidationInfo) -> str:
        if value == "shorter" and not (info.data.get("route") == "IV"
                                       and info.data.get("dose_mg") == 600.0):
            raise ValueError("the shorter (2 h) infusion exists only for 600 mg IV doses "
                             "[S65][S3b]; use protocol: standard")
        return value


class PreviousDose(_Strict):
    """One ocrelizumab dose already given; ``reaction``: worst infusion/injection reaction."""

    date: Date
    route: Route
    dose_mg: LabelDose
    reaction: Reaction = None


class HBV(_Strict):
    """Hepatitis B screening: surface antigen and core antibody [S20b]."""

    hbsag: TestResult = None
    anti_hbc: TestResult = None


class Vaccination(_Strict):
    """A vaccine given on ``date``; ``live``: live or live-attenuated."""

    date: Date
    name: str = Field(min_length=1)
    live: StrictBool


class PriorTherapy(_Strict):
    """The disease-modifying therapy before ocrelizumab (absent or null if treatment-naive)."""

    name: str = Field(min_length=1)
    last_dose: Date | None = None


class PatientRecord(_Strict):
    """One patient on one day: what the pre-dose check reads (field names of issue 13)."""

    check_date: Date
    age: Annotated[float, _quantity({"y": 1.0, "years": 1.0}, "years")]
    weight_kg: Annotated[float, _quantity(_WEIGHT_UNITS, "kg")]
    planned: PlannedDose
    diagnosis: Annotated[Literal["RMS", "PPMS"] | None,
                         BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = None
    previous_doses: tuple[PreviousDose, ...] = ()
    hbv: HBV = HBV()
    active_infection: Flag = None
    igg_g_per_l: Annotated[float | None, _quantity(_IGG_UNITS, "g/L", optional=True)] = None
    pregnant: Flag = None
    vaccinations: tuple[Vaccination, ...] = ()
    symptoms: tuple[str, ...] | Literal["unknown"] = ()
    prior_therapy: PriorTherapy | None = None

    @field_validator("age")
    @classmethod
    def _age(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"age {value:g} years is negative; give the age in years (>= 0)")
        return float(_bounded(AGE_BOUNDS, "years")(value))

    @field_validator("weight_kg")
    @classmethod
    def _weight(cls, value: float) -> float:
        return float(_bounded(WEIGHT_BOUNDS_KG, "kg")(value))

    @field_validator("igg_g_per_l")
    @classmethod
    def _igg(cls, value: float | None) -> float | None:
        if value is None:
            return None
        if value < 0:
            raise ValueError(f"IgG {value:g} g/L is negative; give the measured IgG (>= 0)")
        return float(_bounded(IGG_BOUNDS_G_PER_L, "g/L")(value))

    @field_validator("symptoms", mode="before")
    @classmethod
    def _symptoms(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            return UNKNOWN if value.strip().lower() == UNKNOWN else (value,)
        if isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value):
            raise ValueError("give symptoms as a list of text (codes or free text)")
        return value

    @field_validator("hbv", mode="before")
    @classmethod
    def _hbv(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("previous_doses", "vaccinations", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return () if value is None else value


def _field_name(loc: tuple[int | str, ...]) -> str:
    """``('previous_doses', 1, 'date')`` -> ``previous_doses[1].date``."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif not part.startswith(("function-", "literal[", "lax-", "strict-", "union[",
                                  "nullable[", "tuple[", "float", "bool", "str", "date")):
            name += f".{part}" if name else part
    return name or "record"


def _error_message(exc: ValidationError) -> str:
    """One line per error: the field, what was received and what to give instead."""
    parts = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        field = _field_name(tuple(err["loc"]))
        if field in seen:  # a union reports each branch; the first message is enough
            continue
        seen.add(field)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field; check the spelling against the record fields of issue 13"
        got = err.get("input")
        received = "" if err["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{field}: {msg}{received}")
    return "patient record: " + "; ".join(parts)


def _check_dates(record: PatientRecord) -> None:
    """Nothing on the record may happen after the check date."""
    today = record.check_date
    seen: dict[dt.date, int] = {}
    for i, dose in enumerate(record.previous_doses):
        if dose.date > today:
            raise InvalidInputError(
                f"patient record: previous_doses[{i}].date {dose.date.isoformat()} is after "
                f"check_date {today.isoformat()}; a given dose cannot be in the future")
        if dose.date in seen:
            raise InvalidInputError(
                f"patient record: previous_doses[{i}].date {dose.date.isoformat()} repeats "
                f"previous_doses[{seen[dose.date]}]; give each dose once")
        seen[dose.date] = i
    for i, vac in enumerate(record.vaccinations):
        if vac.date > today:
            raise InvalidInputError(
                f"patient record: vaccinations[{i}].date {vac.date.isoformat()} is after "
                f"check_date {today.isoformat()}; list only vaccines already given")
    prior = record.prior_therapy
    if prior is not None and prior.last_dose is not None and prior.last_dose > today:
        raise InvalidInputError(
            f"patient record: prior_therapy.last_dose {prior.last_dose.isoformat()} is after "
            f"check_date {today.isoformat()}")


def parse_record(data: object) -> PatientRecord:
    """Validate a mapping (from YAML or JSON) into a :class:`PatientRecord`.

    Raises
    ------
    InvalidInputError
        Naming the field, the value received and the fix.
    """
    if isinstance(data, PatientRecord):
        _check_dates(data)
        return data
    if not isinstance(data, dict):
        raise InvalidInputError(f"patient record: expected a mapping of fields, got "
                                f"{type(data).__name__}")
    try:
        record = PatientRecord.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(_error_message(exc)) from None
    _check_dates(record)
    return record


def load_record(path: str | Path) -> PatientRecord:
    """Read a patient record from a YAML (``.yaml``/``.yml``) or JSON (``.json``) file."""
    data = read_structured(path, "patient file")
    return parse_record(data)
